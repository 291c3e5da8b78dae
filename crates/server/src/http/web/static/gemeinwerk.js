// gemeinwerk web UI: progressive enhancement only. Every page works
// without this script; it adds live conditions to the form preview and
// search suggestions to the search boxes.
"use strict";

(function () {
  // ---- the form preview: conditions and checks -----------------------
  // The server compiled every condition and every field's rules with the
  // registry's one evaluator (src/package/eval.rs) and put the trees into
  // the page (data-show-when, data-regel). This part only reads those
  // trees, by the rules written down in eval.rs; a test runs it and the
  // Rust evaluator on the same generated inputs and requires equal results.
  const pruefung = (function () {
    const isBlank = (s) => /^[ \t\n\r]*$/.test(s);
    const parseNumber = (s) => (/^-?[0-9]+([.,][0-9]+)?$/.test(s) ? Number(s.replace(",", ".")) : null);
    const digits = (s, len) => s.length === len && /^[0-9]+$/.test(s);

    function isDate(s) {
      const p = s.split("-");
      if (p.length !== 3 || !digits(p[0], 4) || !digits(p[1], 2) || !digits(p[2], 2)) return false;
      const y = Number(p[0]), m = Number(p[1]), d = Number(p[2]);
      const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
      const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
      return days !== undefined && d >= 1 && d <= days;
    }
    function isTime(s) {
      const p = s.split(":");
      if (p.length < 2 || p.length > 3) return false;
      const ok = (x, max) => digits(x, 2) && Number(x) <= max;
      return ok(p[0], 23) && ok(p[1], 59) && (p.length === 2 || ok(p[2], 59));
    }
    function read(slot, raws) {
      const filled = raws.filter((s) => !isBlank(s));
      const first = filled.length ? filled[0] : null;
      switch (slot) {
        case "bool": return first !== null;
        case "multi": return filled;
        case "number": return first === null ? null : parseNumber(first);
        case "text": return first;
        default: return null;
      }
    }
    function truthy(v) {
      if (v === null) return false;
      if (typeof v === "boolean") return v;
      if (typeof v === "number") return v !== 0;
      return v.length > 0;
    }
    function isSet(v) {
      if (v === null) return false;
      if (typeof v === "boolean") return v;
      if (typeof v === "number") return true;
      return v.length > 0;
    }
    function equal(a, b) {
      if (typeof a === "number" && typeof b === "string") return parseNumber(b) === a;
      if (typeof a === "string" && typeof b === "number") return parseNumber(a) === b;
      if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i]);
      }
      return a === b;
    }
    // Texts by Unicode code points, as Rust compares `chars()`.
    function compareText(a, b) {
      const x = Array.from(a), y = Array.from(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = x[i].codePointAt(0), d = y[i].codePointAt(0);
        if (c !== d) return c < d ? -1 : 1;
      }
      return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
    }
    function order(a, b) {
      if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
      if (typeof a === "string" && typeof b === "string") return compareText(a, b);
      return null;
    }
    function yearsSince(date, today) {
      const d = date.slice(0, 10), t = today.slice(0, 10);
      if (!isDate(d) || !isDate(t)) return null;
      let years = Number(t.slice(0, 4)) - Number(d.slice(0, 4));
      const tm = Number(t.slice(5, 7)), td = Number(t.slice(8, 10));
      const dm = Number(d.slice(5, 7)), dd = Number(d.slice(8, 10));
      if (tm < dm || (tm === dm && td < dd)) years -= 1;
      return years;
    }
    function evaluate(c, values, today) {
      const sub = (x) => evaluate(x, values, today);
      switch (c.k) {
        case "lit": return c.v;
        case "input": return c.slot === "group" ? values.entries(c.name) : read(c.slot, values.raw(c.name));
        case "not": return !truthy(sub(c.e));
        case "and": return truthy(sub(c.a)) && truthy(sub(c.b));
        case "or": return truthy(sub(c.a)) || truthy(sub(c.b));
        case "cmp": {
          const a = sub(c.a), b = sub(c.b), o = order(a, b);
          switch (c.op) {
            case "==": return equal(a, b);
            case "!=": return !equal(a, b);
            case "<": return o === -1;
            case "<=": return o === -1 || o === 0;
            case ">": return o === 1;
            case ">=": return o === 1 || o === 0;
          }
          return false;
        }
        case "in": {
          const v = sub(c.e);
          let found;
          if (Array.isArray(v)) found = v.some((x) => c.list.some((l) => equal(x, l)));
          else if (v === null) found = false;
          else found = c.list.some((l) => equal(v, l));
          return found !== c.neg;
        }
        case "call": {
          const first = c.args.length ? sub(c.args[0]) : null;
          switch (c.f) {
            case "is_set": return isSet(first);
            case "count":
              if (Array.isArray(first)) return first.length;
              if (typeof first === "number") return first;
              return first === null ? 0 : 1;
            case "years_since": return typeof first === "string" ? yearsSince(first, today) : null;
            case "today": return today;
          }
        }
      }
      return null;
    }
    function isEmail(s) {
      const at = s.indexOf("@");
      if (at < 0) return false;
      const local = s.slice(0, at), domain = s.slice(at + 1);
      const plain = (p) => p.length > 0 && !/[@ \t\n\r]/.test(p);
      const dot = domain.indexOf(".");
      return plain(local) && plain(domain) && dot > 0 && dot < domain.length - 1 && !domain.endsWith(".");
    }
    const isPhone = (s) => (s.match(/[0-9]/g) || []).length >= 3 && /^[0-9 +()\/-]*$/.test(s);
    function isIban(s) {
      const b = s.replace(/ /g, "");
      if (b.length < 15 || b.length > 34 || !/^[A-Z]{2}[0-9]{2}[A-Z0-9]*$/.test(b)) return false;
      let rest = 0;
      for (const ch of b.slice(4) + b.slice(0, 4)) {
        const v = /[0-9]/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55;
        rest = v >= 10 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97;
      }
      return rest === 1;
    }
    function isDateTime(s) {
      const t = s.indexOf("T");
      return t >= 0 && isDate(s.slice(0, t)) && isTime(s.slice(t + 1));
    }
    const formatProblem = {
      number: "number", integer: "number", date: "date", time: "time", datetime: "date_time",
      email: "email", phone: "phone", iban: "iban", postal: "postal",
    };
    // The problem of one input, or null: check_field in eval.rs.
    function checkField(rule, values, today) {
      if (!(rule.shown_when || []).every((c) => truthy(evaluate(c, values, today)))) return null;
      const filled = values.raw(rule.name).filter((s) => !isBlank(s));
      if (filled.length === 0) {
        const required = Boolean(rule.required) || (rule.required_when ? truthy(evaluate(rule.required_when, values, today)) : false);
        return required ? "required" : null;
      }
      const value = filled[0];
      const formatOk = {
        number: () => parseNumber(value) !== null,
        integer: () => parseNumber(value) !== null,
        date: () => isDate(value),
        time: () => isTime(value),
        datetime: () => isDateTime(value),
        email: () => isEmail(value),
        phone: () => isPhone(value),
        iban: () => isIban(value),
        postal: () => /^[0-9]{5}$/.test(value),
      }[rule.kind];
      if (formatOk && !formatOk()) return formatProblem[rule.kind];
      if (rule.codes && filled.some((v) => !rule.codes.includes(v))) return "code";
      const len = Array.from(value).length;
      if (rule.min_length != null && len < rule.min_length) return "too_short";
      if (rule.max_length != null && len > rule.max_length) return "too_long";
      if (rule.pattern_js) {
        let re = null;
        try {
          re = new RegExp("^(?:" + rule.pattern_js + ")$", "u");
        } catch (err) {
          re = null;
        }
        if (re && !re.test(value)) return "pattern";
      }
      let v = null;
      if (rule.kind === "number" || rule.kind === "integer") v = parseNumber(value);
      else if (rule.kind === "date" || rule.kind === "time" || rule.kind === "datetime") v = value;
      if (v !== null) {
        if (typeof v === "number" && rule.kind === "integer" && !Number.isInteger(v)) return "integer";
        if (rule.min != null && order(v, rule.min) === -1) return "too_small";
        if (rule.max != null && order(v, rule.max) === 1) return "too_large";
      }
      return null;
    }
    return { evaluate, truthy, checkField };
  })();
  globalThis.gemeinwerkPruefung = pruefung;
  if (typeof document === "undefined") return;

  function today() {
    const d = new Date();
    const p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  }

  // What the form would send, as the server reads it.
  function formValues(form) {
    return {
      raw(name) {
        return Array.from(form.elements)
          .filter((e) => e.name === name && !((e.type === "checkbox" || e.type === "radio") && !e.checked))
          .map((e) => e.value);
      },
      entries(name) {
        const count = Array.from(form.elements).find((e) => e.type === "hidden" && e.name === "_anzahl." + name);
        return count ? Number(count.value) : 1;
      },
    };
  }

  function refresh(form) {
    const now = today();
    const values = formValues(form);
    form.querySelectorAll("[data-show-when]").forEach((el) => {
      let shown = true;
      try {
        shown = pruefung.truthy(pruefung.evaluate(JSON.parse(el.getAttribute("data-show-when")), values, now));
      } catch (err) {
        shown = true;
      }
      el.hidden = !shown;
    });
  }

  function showError(field, control, message) {
    const id = field.id.replace(/-feld$/, "") + "-fehler";
    let p = document.getElementById(id);
    const described = (control.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== id);
    if (message) {
      if (!p) {
        p = document.createElement("p");
        p.id = id;
        p.className = "feldfehler";
        const label = field.querySelector("label, legend");
        if (label && label.parentNode === field) label.after(p);
        else field.prepend(p);
      }
      p.textContent = message;
      control.setAttribute("aria-invalid", "true");
      described.unshift(id);
    } else {
      if (p) p.remove();
      control.removeAttribute("aria-invalid");
    }
    if (described.length) control.setAttribute("aria-describedby", described.join(" "));
    else control.removeAttribute("aria-describedby");
  }

  function check(form) {
    refresh(form);
    const now = today();
    const values = formValues(form);
    const errors = [];
    form.querySelectorAll("[data-regel]").forEach((field) => {
      const control = field.querySelector("input, select, textarea");
      if (!control) return;
      let message = "";
      try {
        const rule = JSON.parse(field.getAttribute("data-regel"));
        const problem = pruefung.checkField(rule, values, now);
        if (problem) message = rule.messages[problem] || "";
      } catch (err) {
        message = "";
      }
      showError(field, control, message);
      if (message) errors.push([control, message]);
    });
    let summary = document.getElementById("vorschau-fehler");
    if (summary) summary.remove();
    if (errors.length === 0) return true;
    summary = document.createElement("div");
    summary.id = "vorschau-fehler";
    summary.className = "fehlerliste";
    const heading = document.createElement("h3");
    heading.textContent = errors.length === 1 ? "Bitte prüfen Sie 1 Angabe" : "Bitte prüfen Sie " + errors.length + " Angaben";
    const list = document.createElement("ul");
    errors.forEach(([control, message]) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = "#" + control.id;
      a.textContent = message;
      li.append(a);
      list.append(li);
    });
    summary.append(heading, list);
    form.prepend(summary);
    errors[0][0].focus();
    return false;
  }

  document.querySelectorAll("form[data-live]").forEach((form) => {
    form.addEventListener("input", () => refresh(form));
    form.addEventListener("change", () => refresh(form));
    form.addEventListener("submit", (ev) => {
      if (ev.submitter && ev.submitter.name === "_pruefen" && !check(form)) ev.preventDefault();
    });
    refresh(form);
  });

  // ---- copy buttons ---------------------------------------------------
  // The commands on the package page are plain text that can be selected;
  // with the Clipboard API the buttons next to them copy at a click.
  if (navigator.clipboard && window.isSecureContext) {
    document.querySelectorAll("button[data-kopieren]").forEach((button) => {
      const id = button.getAttribute("data-kopieren");
      const source = document.getElementById(id);
      const status = document.getElementById(id + "-status");
      if (!source) return;
      button.parentElement.hidden = false;
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(source.textContent.trim());
          if (status) status.textContent = "Kopiert.";
        } catch (err) {
          if (status) status.textContent = "Kopieren nicht möglich; bitte markieren Sie den Befehl.";
        }
      });
    });
  }

  // ---- search suggestions ---------------------------------------------
  // Fills the <datalist> of a search box from the suggest endpoint; the
  // browser shows it accessibly as the box's list of suggestions. Each
  // suggestion is a package: choosing one opens its page (a search is
  // what the typed words are for).
  document.querySelectorAll("input[data-vorschlaege]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("data-vorschlaege"));
    if (!list) return;
    let timer = null;
    let last = "";
    const suggested = new Set();
    const open = () => {
      const name = input.value.trim();
      if (!suggested.has(name)) return false;
      window.location.assign("/pakete/" + name.split("/").map(encodeURIComponent).join("/"));
      return true;
    };
    if (input.form) {
      input.form.addEventListener("submit", (ev) => {
        if (open()) ev.preventDefault();
      });
    }
    input.addEventListener("input", (ev) => {
      // Picking an entry of the list replaces the text in one step.
      if ((ev.inputType === "insertReplacementText" || ev.inputType === undefined) && open()) return;
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const q = input.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        try {
          const r = await fetch("/api/v1/search/suggest?limit=8&q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } });
          if (!r.ok) return;
          const body = await r.json();
          const items = Array.isArray(body) ? body : body.suggestions || [];
          suggested.clear();
          list.replaceChildren(
            ...items.slice(0, 8).map((s) => {
              const o = document.createElement("option");
              o.value = typeof s === "string" ? s : s.name || s.text || "";
              if (typeof s === "object" && s.title) o.label = s.title;
              if (/^[a-z0-9-]+\/[a-z0-9-]+$/.test(o.value)) suggested.add(o.value);
              return o;
            })
          );
        } catch (err) {
          // Suggestions are a convenience; the search works without them.
        }
      }, 150);
    });
  });
})();
