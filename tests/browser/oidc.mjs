// Sign-in with an OpenID Connect provider, the whole redirect flow in
// headless Chromium: the registry's sign-in page, the provider's login
// form (tests/oidc-provider), the way back, the account page; then a
// replayed callback and the sign-out. Started by the Rust test
// `identity::sign_in_with_a_real_provider_in_headless_chromium`:
//   GW_BASE_URL, GW_CHROMIUM, GW_LOGIN (the provider's account);
//   GW_EXPECT_REFUSAL: the sign-in must end on a German error page
//   containing this text instead.
import { chromium } from "playwright-core";

const base = process.env.GW_BASE_URL;
const login = process.env.GW_LOGIN;
const refusal = process.env.GW_EXPECT_REFUSAL;
if (!base || !login) {
  console.error("GW_BASE_URL and GW_LOGIN must be set");
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
const context = await browser.newContext({ locale: "de-DE" });
const page = await context.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push("script error: " + e.message));
let callback = null;
const visited = [];
page.on("request", (r) => {
  if (r.isNavigationRequest()) visited.push(r.method() + " " + r.url());
  if (r.url().includes("/anmelden/oidc/test/zurueck")) callback = r.url();
});

try {
  await page.goto(base + "/anmelden");
  const button = page.locator("a", { hasText: "Anmelden mit Test-Anmeldedienst" });
  check((await button.count()) === 1, "the sign-in page offers the provider");
  await Promise.all([page.waitForURL(/\/interaction\//), button.click()]);
  check(true, "the registry sends the browser to the provider");
  const authorize = new URL(page.url());
  check(authorize.origin !== new URL(base).origin || authorize.pathname.startsWith("/interaction/"), "the provider's login form is shown");

  await page.fill("#login", login);
  await page.fill("#password", "egal");
  await page.click("button[type=submit]");

  if (refusal) {
    await page.waitForURL(/\/anmelden\/oidc\/test\/zurueck/);
    const text = await page.locator("main").innerText();
    check(text.includes(refusal), "the sign-in is refused: " + text.replace(/\s+/g, " ").slice(0, 200));
    check((await page.locator("html[lang=de]").count()) === 1, "the refusal is a German page");
    const cookies = await context.cookies(base);
    check(!cookies.some((c) => c.name === "gw_sitzung"), "no session cookie");
  } else {
    await page.waitForURL(/\/konto$/, { timeout: 15000 });
    const header = await page.locator("nav.konto").innerText();
    check(header.includes("Angemeldet als"), "signed in: " + header.replace(/\s+/g, " "));
    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === "gw_sitzung");
    check(session && session.httpOnly && session.sameSite === "Strict", "the session cookie is HttpOnly and SameSite=Strict");
    check(!cookies.some((c) => c.name === "gw_oidc"), "the sign-in's own cookie is gone");
    check(callback && /[?&]code=/.test(callback) && /[?&]state=/.test(callback), "the provider came back with code and state");

    // The same callback again (a replayed code): refused, German.
    const replay = await context.newPage();
    const answer = await replay.goto(callback);
    check(answer.status() === 401, "a replayed callback answers 401, not " + answer.status());
    const text = await replay.locator("main").innerText();
    check(text.includes("schon abgeschlossen"), "and says why: " + text.replace(/\s+/g, " ").slice(0, 160));
    await replay.close();

    // Sign-out ends the session on the server.
    await Promise.all([page.waitForURL(base + "/"), page.click("nav.konto form[action='/abmelden'] button")]);
    check((await page.locator("nav.konto a", { hasText: "Anmelden" }).count()) === 1, "signed out");
  }
} catch (e) {
  failed++;
  console.log("FAIL " + e.message);
  console.log("navigations:\n  " + visited.join("\n  "));
}
check(problems.length === 0, "no script errors: " + problems.join("; "));
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
