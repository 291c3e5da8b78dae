// gemeinwerk web UI: progressive enhancement only. Every page works
// without this script; it adds live conditions to the form preview and
// search suggestions to the search boxes.
"use strict";

(function () {
  // ---- live conditions in the form preview ---------------------------
  // The server resolved each `shown-when` to a JSON tree over input names
  // (data-show-when) and evaluated it for the first render; this is the
  // same evaluation as in src/server/web/preview.rs, run on every change.

  function today() {
    const d = new Date();
    const p = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  }

  function truthy(v) {
    if (v === null || v === undefined) return false;
    if (typeof v === "boolean") return v;
    if (typeof v === "number") return v !== 0;
    if (typeof v === "string") return v.length > 0;
    if (Array.isArray(v)) return v.length > 0;
    return true;
  }

  function isSet(v) {
    if (v === null || v === undefined) return false;
    if (typeof v === "boolean") return v;
    if (typeof v === "string" || Array.isArray(v)) return v.length > 0;
    return true;
  }

  function equal(a, b) {
    if (typeof a === "number" && typeof b === "string") return Number(b) === a;
    if (typeof a === "string" && typeof b === "number") return Number(a) === b;
    return a === b;
  }

  function order(a, b) {
    if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
    if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
    return null;
  }

  function yearsSince(date, now) {
    if (typeof date !== "string" || date.length < 10) return null;
    const [y, m, d] = date.slice(0, 10).split("-").map(Number);
    const [ty, tm, td] = now.split("-").map(Number);
    if (!y || !m || !d) return null;
    let years = ty - y;
    if (tm < m || (tm === m && td < d)) years -= 1;
    return years;
  }

  function valueOf(form, name, type) {
    if (type === "group") {
      const count = form.querySelector('input[type="hidden"][name="_anzahl.' + CSS.escape(name) + '"]');
      return count ? Number(count.value) : 1;
    }
    const inputs = Array.from(form.elements).filter((e) => e.name === name);
    if (inputs.length === 0) return null;
    if (type === "bool") return inputs.some((e) => e.checked);
    if (type === "multi") return inputs.filter((e) => e.checked).map((e) => e.value);
    const raw = inputs[0].value;
    if (raw === "") return null;
    if (type === "num") {
      const n = Number(raw.replace(",", "."));
      return Number.isNaN(n) ? null : n;
    }
    return raw;
  }

  function evaluate(e, form, now) {
    const sub = (x) => evaluate(x, form, now);
    if ("lit" in e) return e.lit;
    if ("field" in e) return valueOf(form, e.field, e.t);
    if ("group" in e) return valueOf(form, e.group, "group");
    if ("not" in e) return !truthy(sub(e.not));
    if ("and" in e) return truthy(sub(e.and[0])) && truthy(sub(e.and[1]));
    if ("or" in e) return truthy(sub(e.or[0])) || truthy(sub(e.or[1]));
    if ("cmp" in e) {
      const a = sub(e.a), b = sub(e.b), o = order(a, b);
      switch (e.cmp) {
        case "==": return equal(a, b);
        case "!=": return !equal(a, b);
        case "<": return o === -1;
        case "<=": return o === -1 || o === 0;
        case ">": return o === 1;
        case ">=": return o === 1 || o === 0;
        default: return false;
      }
    }
    if ("in" in e) {
      const v = sub(e.in);
      let found;
      if (Array.isArray(v)) found = v.some((c) => e.list.some((l) => equal(c, l)));
      else if (v === null) found = false;
      else found = e.list.some((l) => equal(v, l));
      return found !== Boolean(e.neg);
    }
    if ("call" in e) {
      const args = (e.args || []).map(sub);
      const first = args.length ? args[0] : null;
      switch (e.call) {
        case "is_set": return isSet(first);
        case "count":
          if (Array.isArray(first)) return first.length;
          if (typeof first === "number") return first;
          return first === null ? 0 : 1;
        case "years_since": return yearsSince(first, now);
        case "today": return now;
        default: return null;
      }
    }
    return null;
  }

  function refresh(form) {
    const now = today();
    form.querySelectorAll("[data-show-when]").forEach((el) => {
      let shown = true;
      try {
        shown = truthy(evaluate(JSON.parse(el.getAttribute("data-show-when")), form, now));
      } catch (err) {
        shown = true;
      }
      el.hidden = !shown;
    });
  }

  document.querySelectorAll("form[data-live]").forEach((form) => {
    form.addEventListener("input", () => refresh(form));
    form.addEventListener("change", () => refresh(form));
    refresh(form);
  });

  // ---- search suggestions ---------------------------------------------
  // Fills the <datalist> of a search box from the suggest endpoint; the
  // browser shows it accessibly as the box's list of suggestions.
  document.querySelectorAll("input[data-vorschlaege]").forEach((input) => {
    const list = document.getElementById(input.getAttribute("data-vorschlaege"));
    if (!list) return;
    let timer = null;
    let last = "";
    input.addEventListener("input", () => {
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
          list.replaceChildren(
            ...items.slice(0, 8).map((s) => {
              const o = document.createElement("option");
              o.value = typeof s === "string" ? s : s.name || s.text || "";
              if (typeof s === "object" && s.title) o.label = s.title;
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
