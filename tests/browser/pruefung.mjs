// Runs the page script's reading of compiled conditions and field rules
// (crates/server/src/http/web/static/gemeinwerk.js, without a document) on the cases
// in the JSON file given as the first argument, and prints the results as
// JSON: started by the Rust test `web::page_script_and_rust_evaluator_agree`,
// which compares them with crates/package/src/eval.rs on the same inputs.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import vm from "node:vm";

const here = dirname(fileURLToPath(import.meta.url));
const script = readFileSync(join(here, "../../crates/server/src/http/web/static/gemeinwerk.js"), "utf8");
const context = vm.createContext({});
vm.runInContext(script, context);
const pruefung = context.gemeinwerkPruefung;
if (!pruefung) {
  console.error("gemeinwerk.js did not define gemeinwerkPruefung");
  process.exit(2);
}

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = input.cases.map((c) => {
  const values = {
    raw: (name) => c.values[name] || [],
    entries: (name) => (name in c.counts ? c.counts[name] : 1),
  };
  return {
    conds: c.conds.map((cond) => pruefung.evaluate(cond, values, input.today)),
    problems: c.rules.map((rule) => pruefung.checkField(rule, values, input.today)),
  };
});
process.stdout.write(JSON.stringify(out));
