// Browser tests of the gemeinwerk web UI in headless Chromium
// (playwright-core driving Debian's /usr/bin/chromium) with axe-core.
// Started by the Rust test `web::browser_scenarios_and_accessibility_in_headless_chromium`
// against a real server with demo data:
//   GW_BASE_URL, GW_TOKEN (kassel's demo token), GW_CHROMIUM, GW_SCREENSHOTS.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const base = process.env.GW_BASE_URL;
const token = process.env.GW_TOKEN;
const shots = process.env.GW_SCREENSHOTS;
if (!base || !token || !shots) {
  console.error("GW_BASE_URL, GW_TOKEN and GW_SCREENSHOTS must be set");
  process.exit(2);
}

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
    console.log("ok   " + what);
  } else {
    failed++;
    console.log("FAIL " + what);
  }
}

const browser = await chromium.launch({
  executablePath: process.env.GW_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});

// Scenarios run with the page's CSP enforced; anything the CSP blocks or
// any script error is a failure.
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "de-DE" });
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
const page = await context.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push("script error: " + e.message));
page.on("console", (m) => {
  if (m.type() === "error" && !/404|Not Found/.test(m.text())) problems.push("console: " + m.text());
});
page.on("dialog", async (d) => {
  problems.push("a dialog opened: " + d.message());
  await d.dismiss();
});

try {
  // 1. Search → package → preview.
  await page.goto(base + "/");
  await page.keyboard.press("Tab");
  const firstFocus = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
  check(firstFocus === "Zum Inhalt springen", "the first Tab stop is the skip link");
  await page.fill("#start-suche", "parkaus");
  await page.waitForFunction(() => document.querySelectorAll("#start-vorschlaege option").length > 0, null, { timeout: 5000 }).catch(() => {});
  const suggestions = await page.$$eval("#start-vorschlaege option", (os) => os.map((o) => o.value));
  check(suggestions.includes("kassel/bewohnerparkausweis"), "the typeahead suggests the Bewohnerparkausweis: " + suggestions.join(", "));
  // A suggestion is a package: taking one opens the package, not a search.
  await page.fill("#start-suche", "kassel/bewohnerparkausweis");
  await Promise.all([page.waitForURL(/\/pakete\/kassel\/bewohnerparkausweis$/), page.press("#start-suche", "Enter")]);
  check(true, "a chosen suggestion opens the package page");
  await page.goto(base + "/");
  await page.fill("#start-suche", "Bewohnerparkausweis");
  await Promise.all([page.waitForURL(/\/suche\?/), page.press("#start-suche", "Enter")]);
  const hit = page.locator("ul.treffer a", { hasText: "Antrag auf Bewohnerparkausweis" }).first();
  check((await hit.count()) === 1, "the search finds the Bewohnerparkausweis");
  await Promise.all([page.waitForURL(/\/pakete\/kassel\/bewohnerparkausweis$/), hit.click()]);
  check(await page.locator("#vorschau form.vorschau").isVisible(), "the package page shows the preview form");
  check(await page.locator("#f-antragsteller-familienname").isVisible(), "fields of the included field group are there");

  // 2. Fill the preview: a condition hides and reveals fields live.
  const reason = page.locator("#f-fahrzeug-nutzungsgrund-feld");
  check(await reason.isVisible(), "not the holder: the reason field is shown");
  await page.check("#f-fahrzeug-halter");
  check(await reason.isHidden(), "the holder: the reason field disappears at once");
  await page.uncheck("#f-fahrzeug-halter");
  check(await reason.isVisible(), "unchecked again: the condition reveals the reason field");
  await page.selectOption("#f-fahrzeug-nutzungsgrund", "leasing");

  // 2b. "Angaben prüfen": the page script reads the compiled rules; a wrong
  // Kennzeichen and empty required fields get German messages next to the
  // field, and the focus moves to the first error. Nothing is sent.
  await page.fill("#f-fahrzeug-kennzeichen", "KS AB 1");
  const before = page.url();
  await page.click("text=Angaben prüfen");
  await page.waitForSelector("#vorschau-fehler", { timeout: 5000 }).catch(() => {});
  check(page.url() === before, "with errors the form is not sent");
  const kzError = await page.locator("#f-fahrzeug-kennzeichen-fehler").textContent().catch(() => "");
  check(kzError === "„Amtliches Kennzeichen“ hat nicht die erwartete Form.", "the Kennzeichen pattern is checked: " + kzError);
  const firstLink = await page.locator("#vorschau-fehler a").first().getAttribute("href").catch(() => "");
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check(firstLink === "#" + focused, `the focus is on the first error (${focused}, ${firstLink})`);
  check((await page.locator("#f-fahrzeug-kennzeichen").getAttribute("aria-invalid")) === "true", "the field is marked invalid");
  check(
    (await page.locator("#f-fahrzeug-kennzeichen").getAttribute("aria-describedby") || "").includes("f-fahrzeug-kennzeichen-fehler"),
    "the message is tied to the field"
  );
  await page.screenshot({ path: join(shots, "vorschau-fehler.png"), fullPage: true });
  await page.fill("#f-fahrzeug-kennzeichen", "KS-AB 123");
  await page.click("text=Angaben prüfen");
  check((await page.locator("#f-fahrzeug-kennzeichen-fehler").count()) === 0, "a corrected value loses its message");

  // Without the script the same check happens on the server.
  await page.goto(base + "/pakete/kassel/bewohnerparkausweis/vorschau?fahrzeug.kennzeichen=KS-AB+123&_pruefen=ja");
  check((await page.inputValue("#f-fahrzeug-kennzeichen")) === "KS-AB 123", "the server-side check keeps the values");
  const serverFirst = await page.locator("#vorschau-fehler a").first().getAttribute("href");
  const serverFocus = await page.evaluate(() => document.activeElement && document.activeElement.id);
  check(serverFirst === "#" + serverFocus, `the server's page focuses the first error too (${serverFocus})`);
  // The check button sends the form without a fragment: a fragment would
  // keep the browser from honouring autofocus.
  check(
    (await page.locator("button[name=_pruefen]").getAttribute("formaction")) === "/pakete/kassel/bewohnerparkausweis/vorschau",
    "the check button's address has no fragment"
  );
  await page.screenshot({ path: join(shots, "vorschau.png"), fullPage: true });

  // The install commands: a copy button where the Clipboard API exists.
  await page.goto(base + "/pakete/kassel/bewohnerparkausweis");
  const copy = page.locator("button[data-kopieren=befehl-add]");
  check(await copy.isVisible(), "the copy button shows with the script");
  await copy.click();
  await page.waitForFunction(() => document.getElementById("befehl-add-status").textContent !== "", null, { timeout: 3000 }).catch(() => {});
  const copied = await page.evaluate(() => navigator.clipboard.readText().catch(() => ""));
  check(copied.startsWith("gemeinwerk add kassel/bewohnerparkausweis@"), "the command was copied: " + copied);

  // Injected script in README, label and description never runs.
  await page.goto(base + "/pakete/kassel/boese");
  check((await page.evaluate(() => window.__pwned)) === undefined, "no injected script ran on the package page");
  check((await page.locator("text=Name <script>").count()) >= 1, "the injected label shows as text");
  await page.goto(base + "/suche?q=boese");
  check((await page.evaluate(() => window.__pwned)) === undefined, "no injected script ran on the search page");

  // 3. Sign in with a token and yank a version.
  await page.goto(base + "/anmelden");
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(/\/konto$/), page.click("form.anmeldung button")]);
  check((await page.locator("text=Angemeldet als").count()) === 1, "signed in");
  check(!(await page.content()).includes(token), "the account page does not show the token");
  await page.screenshot({ path: join(shots, "konto.png"), fullPage: true });
  await page.goto(base + "/pakete/kassel/bewohnerparkausweis");
  const row = page.locator("tr", { has: page.locator("th a", { hasText: /^1\.0\.0$/ }) });
  await row.locator("input[name=text]").fill("Falsche Gebühr");
  await Promise.all([page.waitForURL(/\/pakete\/kassel\/bewohnerparkausweis/), row.locator("button", { hasText: "zurückziehen" }).click()]);
  const rowAfter = page.locator("tr", { has: page.locator("th a", { hasText: /^1\.0\.0$/ }) });
  check((await rowAfter.textContent()).includes("zurückgezogen: Falsche Gebühr"), "version 1.0.0 shows as yanked");
  check(!(await page.content()).includes(token), "the package page does not show the token");
} catch (e) {
  check(false, "scenario: " + e.message);
}
check(problems.length === 0, "no script errors, CSP violations or dialogs" + (problems.length ? ": " + problems.join("; ") : ""));

// A webhook, so that the Benachrichtigungen pages have a row and a log to
// show (a public address; it wants advisories only, and none is made here,
// so nothing is sent).
const hook = await fetch(base + "/api/v1/namespaces/kassel/subscriptions", {
  method: "POST",
  headers: { Authorization: "Bearer " + token, "Content-Type": "application/json" },
  body: JSON.stringify({ url: "https://93.184.215.14/hooks/gemeinwerk-portal-der-stadt-kassel", scope: "namespace", target: "kassel", events: ["advisory"] }),
});
check(hook.status === 201, `a webhook is made for the pages (${hook.status})`);
const hookId = hook.status === 201 ? (await hook.json()).subscription.id : 0;

// 4. The phone: every page type at 320, 390 and 1280 px must fit its
// width (no horizontal scrolling of the page; wide tables and the diagram
// scroll in their own boxes).
const widthPages = [
  ["start", "/"],
  ["suche", "/suche?q=parken"],
  ["paket-formular", "/pakete/kassel/bewohnerparkausweis"],
  ["paket-feldgruppe", "/pakete/fim/anschrift-inland"],
  ["paket-prozess", "/pakete/kassel/bewohnerparken-verfahren"],
  ["paket-alt", "/pakete/kassel/bewohnerparkausweis?version=1.0.0"],
  ["vorschau", "/pakete/kassel/bewohnerparkausweis/vorschau?fahrzeug.kennzeichen=KS+AB+1&_pruefen=ja"],
  ["vergleich", "/vergleich?von=kassel/bewohnerparkausweis@1.0.0&zu=kassel/bewohnerparkausweis@1.1.0"],
  ["namensraum", "/namensraeume/kassel"],
  ["anmelden", "/anmelden"],
  ["fehler-404", "/pakete/kassel/gibtesnicht"],
  ["konto", "/konto"],
  ["benachrichtigungen", "/namensraeume/kassel/benachrichtigungen"],
  ["zustellungen", `/namensraeume/kassel/benachrichtigungen/${hookId}`],
];
const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "de-DE" });
const phonePage = await phone.newPage();
await phonePage.goto(base + "/anmelden");
await phonePage.fill("#token", token);
await Promise.all([phonePage.waitForURL(/\/konto$/), phonePage.click("form.anmeldung button")]);
for (const width of [320, 390, 1280]) {
  await phonePage.setViewportSize({ width, height: width === 1280 ? 900 : 800 });
  for (const [name, path] of widthPages) {
    try {
      await phonePage.goto(base + path);
      const m = await phonePage.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        view: window.innerWidth,
        wide: Array.from(document.querySelectorAll("body *"))
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest(".tabelle, .diagramm, pre"))
          .slice(0, 3)
          .map((e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className : "")),
      }));
      if (name === "paket-formular") {
        // The install commands wrap, but never inside a word or name:
        // every piece between spaces and <wbr> stays on one line.
        const broken = await phonePage.evaluate(() => {
          const out = [];
          for (const code of document.querySelectorAll(".befehle code")) {
            const texts = [];
            const walk = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
            while (walk.nextNode()) texts.push(walk.currentNode);
            for (const node of texts) {
              let at = 0;
              for (const word of node.textContent.split(" ")) {
                if (word.length > 0) {
                  const range = document.createRange();
                  range.setStart(node, at);
                  range.setEnd(node, at + word.length);
                  const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
                  if (tops.size > 1) out.push(word);
                }
                at += word.length + 1;
              }
            }
          }
          return out;
        });
        check(broken.length === 0, `at ${width} px no install command breaks inside a name${broken.length ? ": " + broken.join(", ") : ""}`);
      }
      check(m.scroll <= m.view, `${name} at ${width} px fits (${m.scroll} <= ${m.view})${m.wide.length ? ": " + m.wide.join(", ") : ""}`);
      if (width !== 1280) await phonePage.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
    } catch (e) {
      check(false, `${name} at ${width} px: ${e.message}`);
    }
  }
}
// The diagram keeps a readable size on the phone (it scrolls, it does not
// shrink), and on the desktop no table of the process page runs into the
// side column.
await phonePage.setViewportSize({ width: 390, height: 800 });
await phonePage.goto(base + "/pakete/kassel/bewohnerparken-verfahren");
const diagram = await phonePage.evaluate(() => {
  const svg = document.querySelector("svg.prozess");
  return { shown: svg.getBoundingClientRect().width, natural: svg.width.baseVal.value };
});
check(diagram.shown >= diagram.natural - 1, `the diagram is not shrunk on the phone (${diagram.shown} of ${diagram.natural} px)`);
await phonePage.setViewportSize({ width: 1280, height: 900 });
await phonePage.goto(base + "/pakete/kassel/bewohnerparken-verfahren");
const overlap = await phonePage.evaluate(() => {
  const side = document.querySelector(".seitenspalte").getBoundingClientRect();
  // What is visible: a table in a scroll box is clipped by its box.
  const boxes = Array.from(document.querySelectorAll("main .tabelle, main .diagramm, main table"))
    .filter((t) => t.tagName !== "TABLE" || !t.closest(".tabelle"));
  return {
    hits: boxes.map((t) => t.getBoundingClientRect()).filter((b) => b.right > side.left && b.top < side.bottom && b.bottom > side.top).length,
    scrolling: Array.from(document.querySelectorAll(".tabelle")).filter((t) => t.scrollWidth > t.clientWidth).map((t) => t.getAttribute("aria-label")),
  };
});
check(overlap.hits === 0, `no table of the process page runs into the side column (${overlap.hits})`);
check(overlap.scrolling.length === 0, `on the desktop the process tables fit without scrolling (${overlap.scrolling.join(", ")})`);
await phone.close();

// 5. axe-core on every page type, signed in where the page needs it. The
// axe script is injected past the CSP in its own context.
const axeContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
const axePage = await axeContext.newPage();
async function signIn(p) {
  await p.goto(base + "/anmelden");
  await p.fill("#token", token);
  await Promise.all([p.waitForURL(/\/konto$/), p.click("form.anmeldung button")]);
}
const pageTypes = [
  ["anmelden", "/anmelden", false],
  ["start", "/", false],
  ["suche", "/suche?q=parken", false],
  ["paket-formular", "/pakete/kassel/bewohnerparkausweis", false],
  ["paket-prozess", "/pakete/kassel/bewohnerparken-verfahren", false],
  ["vergleich", "/vergleich?von=kassel/bewohnerparkausweis@1.0.0&zu=kassel/bewohnerparkausweis@1.1.0", false],
  ["namensraum", "/namensraeume/kassel", false],
  ["fehler-404", "/pakete/kassel/gibtesnicht", false],
  ["vorschau", "/pakete/kassel/bewohnerparkausweis/vorschau?fahrzeug.halter=ja", false],
  ["konto", "/konto", true],
  ["paket-verwalten", "/pakete/kassel/bewohnerparkausweis", true],
  ["namensraum-verwalten", "/namensraeume/kassel", true],
  ["benachrichtigungen", "/namensraeume/kassel/benachrichtigungen", true],
  ["zustellungen", `/namensraeume/kassel/benachrichtigungen/${hookId}`, true],
];
let signedIn = false;
for (const [name, path, needsSignIn] of pageTypes) {
  try {
    if (needsSignIn && !signedIn) {
      await signIn(axePage);
      signedIn = true;
    }
    await axePage.goto(base + path);
    if (!["vorschau", "konto"].includes(name) || needsSignIn) {
      await axePage.screenshot({ path: join(shots, name + ".png"), fullPage: true });
    }
    await axePage.addScriptTag({ content: axeSource });
    const result = await axePage.evaluate(async () =>
      await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
    );
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const v of result.violations) {
      console.log(`     axe ${name}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.slice(0, 2).map((n) => n.target.join(" ")).join(", ")}`);
    }
    check(bad.length === 0, `axe: ${name} (${path}) has no serious or critical violations`);
  } catch (e) {
    check(false, `axe: ${name}: ${e.message}`);
  }
}

// The same rules on the phone.
await axePage.setViewportSize({ width: 390, height: 844 });
for (const [name, path] of pageTypes) {
  try {
    await axePage.goto(base + path);
    await axePage.addScriptTag({ content: axeSource });
    const result = await axePage.evaluate(async () =>
      await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
    );
    const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    for (const v of bad) console.log(`     axe ${name} (390 px): ${v.impact} ${v.id}: ${v.help}`);
    check(bad.length === 0, `axe: ${name} at 390 px has no serious or critical violations`);
  } catch (e) {
    check(false, `axe: ${name} at 390 px: ${e.message}`);
  }
}

await browser.close();
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
