//! The live preview of a form (or field group) as a real HTML form.
//!
//! The form's items are flattened into a list of nodes (group start, field,
//! group end) that a template renders without recursion. Conditions
//! (`shown-when`) are resolved to concrete input names and kept as a small
//! JSON tree: the server evaluates it for the first render (so the page is
//! right without JavaScript, and a submit of the preview re-evaluates it),
//! and `gemeinwerk.js` evaluates the very same tree as the user types.

use std::collections::HashMap;

use serde_json::{json, Value};

use gemeinwerk_package::codelist::Codelist;
use gemeinwerk_package::content::DependencyContent;
use gemeinwerk_package::expr::{Expr, Literal};
use gemeinwerk_package::form::Body;
use gemeinwerk_package::model::{Bound, Condition, Field, FieldType, Group, Item};

/// The values a user entered, by input name (several for multi-selects),
/// and how many entries each repeatable group has.
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub values: HashMap<String, Vec<String>>,
    pub counts: HashMap<String, u32>,
}

/// Prefix of the hidden inputs that carry a repeatable group's entry count.
pub const COUNT_PREFIX: &str = "_anzahl.";
/// Name of the button that adds an entry to a repeatable group.
pub const ADD_BUTTON: &str = "_mehr";

impl Input {
    /// Reads a query string (`a=1&b=2`), as the preview form sends it.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Input {
        let mut input = Input::default();
        let mut add = Vec::new();
        for (k, v) in pairs {
            if let Some(group) = k.strip_prefix(COUNT_PREFIX) {
                if let Ok(n) = v.parse::<u32>() {
                    input.counts.insert(group.to_string(), n.min(MAX_ENTRIES));
                }
            } else if k == ADD_BUTTON {
                add.push(v);
            } else {
                input.values.entry(k).or_default().push(v);
            }
        }
        for group in add {
            let n = input.counts.entry(group).or_insert(1);
            *n = (*n + 1).min(MAX_ENTRIES);
        }
        input
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// A preview shows at most this many entries of a repeatable group.
const MAX_ENTRIES: u32 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    GroupStart,
    GroupEnd,
    Field,
    AddEntry,
}

#[derive(Debug, Clone)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One node of the flattened form. Fields that do not apply to a kind
/// stay empty.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    /// The element id: `f-` and the input name with dots as dashes.
    pub dom_id: String,
    pub name: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    pub hidden: bool,
    /// The resolved condition as JSON, for the script; empty if none.
    pub show_when: String,
    /// input, textarea, checkbox, select, checkboxes, file, static.
    pub control: &'static str,
    pub input_type: &'static str,
    /// Further attributes (pattern, min, max, step, inputmode, accept…).
    pub attrs: Vec<(&'static str, String)>,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    /// A plain-language note on the expected format.
    pub hint: String,
    /// For a repeatable group: the entry count, carried in a hidden input.
    pub count: u32,
}

impl Node {
    fn new(kind: NodeKind, name: &str) -> Node {
        Node {
            kind,
            dom_id: dom_id(name),
            name: name.to_string(),
            label: String::new(),
            help: String::new(),
            required: false,
            hidden: false,
            show_when: String::new(),
            control: "",
            input_type: "",
            attrs: Vec::new(),
            value: String::new(),
            checked: false,
            options: Vec::new(),
            hint: String::new(),
            count: 0,
        }
    }

    pub fn is_group_start(&self) -> bool {
        self.kind == NodeKind::GroupStart
    }
    pub fn is_group_end(&self) -> bool {
        self.kind == NodeKind::GroupEnd
    }
    pub fn is_field(&self) -> bool {
        self.kind == NodeKind::Field
    }
    pub fn is_add_entry(&self) -> bool {
        self.kind == NodeKind::AddEntry
    }
    /// The ids of the help and hint texts, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.help.is_empty() {
            ids.push(format!("{}-hilfe", self.dom_id));
        }
        if !self.hint.is_empty() {
            ids.push(format!("{}-hinweis", self.dom_id));
        }
        ids.join(" ")
    }

    pub fn count_name(&self) -> String {
        format!("{COUNT_PREFIX}{}", self.name)
    }
}

pub fn dom_id(name: &str) -> String {
    format!("f-{}", name.replace('.', "-"))
}

/// What a condition's name stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Bool,
    Number,
    Text,
    Multi,
    /// A group with its number of entries.
    Group(u32),
}

#[derive(Debug, Default)]
pub struct Preview {
    pub nodes: Vec<Node>,
    /// Fields whose condition is not met now (hidden).
    pub hidden_count: usize,
    pub has_conditions: bool,
}

struct Builder<'a> {
    deps: &'a DependencyContent,
    input: &'a Input,
    nodes: Vec<Node>,
    slots: HashMap<String, Slot>,
    /// Node index, condition, the scopes to resolve names in (innermost
    /// first).
    pending: Vec<(usize, &'a Condition, Vec<String>)>,
}

/// Builds the preview of a form or field group body.
pub fn build(body: &Body, deps: &DependencyContent, input: &Input) -> Preview {
    let mut b = Builder {
        deps,
        input,
        nodes: Vec::new(),
        slots: HashMap::new(),
        pending: Vec::new(),
    };
    b.items(&body.items, body, &[String::new()], "", 0);
    let today = chrono::Local::now().date_naive().to_string();
    let has_conditions = !b.pending.is_empty();
    let pending = std::mem::take(&mut b.pending);
    for (index, cond, scopes) in pending {
        let Some(expr) = &cond.expr else { continue };
        let resolved = b.resolve(expr, &scopes);
        let shown = truthy(&eval(&resolved, &|name| b.value_of(name), &today));
        let node = &mut b.nodes[index];
        node.show_when = resolved.to_string();
        node.hidden = !shown;
    }
    let hidden_count = b
        .nodes
        .iter()
        .filter(|n| n.hidden && n.kind != NodeKind::GroupEnd)
        .count();
    Preview {
        nodes: b.nodes,
        hidden_count,
        has_conditions,
    }
}

fn text_of(t: &Option<gemeinwerk_package::model::Text>) -> String {
    t.as_ref().map(|t| t.de.clone()).unwrap_or_default()
}

impl<'a> Builder<'a> {
    fn items(
        &mut self,
        items: &'a [Item],
        body: &'a Body,
        scopes: &[String],
        prefix: &str,
        depth: usize,
    ) {
        // A field group including itself through a cycle is refused on
        // publish; the depth bound keeps a broken archive from looping.
        if depth > 16 {
            return;
        }
        for item in items {
            match item {
                Item::Field(f) => self.field(f, body, scopes, prefix),
                Item::Group(g) => self.group(g, body, scopes, prefix, depth),
            }
        }
    }

    fn group(
        &mut self,
        g: &'a Group,
        body: &'a Body,
        scopes: &[String],
        prefix: &str,
        depth: usize,
    ) {
        let path = format!("{prefix}{}", g.id);
        let (items, inner_body) = match &g.include {
            Some(name) => match self.deps.body(name.get_ref()) {
                Some(b) => (&b.items[..], b),
                None => (&g.items[..], body),
            },
            None => (&g.items[..], body),
        };
        let mut start = Node::new(NodeKind::GroupStart, &path);
        start.label = text_of(&g.label);
        if start.label.is_empty() {
            start.label = g.id.clone();
        }
        start.help = text_of(&g.help);
        if let Some(include) = &g.include {
            if self.deps.body(include.get_ref()).is_none() {
                start.hint = format!(
                    "Die Felder kommen aus dem Paket {}, das nicht geladen werden konnte.",
                    include.get_ref()
                );
            }
        }
        if let Some(c) = &g.shown_when {
            self.pending.push((self.nodes.len(), c, scopes.to_vec()));
        }
        if g.occurs.is_repeatable() {
            let wanted = self
                .input
                .counts
                .get(&path)
                .copied()
                .unwrap_or(g.occurs.min.max(1));
            let max = g.occurs.max.unwrap_or(MAX_ENTRIES).min(MAX_ENTRIES);
            let count = wanted.clamp(g.occurs.min.max(1).min(max), max);
            start.count = count;
            start.hint = match g.occurs.max {
                Some(m) => format!("{} bis {m} Einträge", g.occurs.min),
                None => format!("mindestens {} Einträge", g.occurs.min),
            };
            let label = start.label.clone();
            self.slots.insert(path.clone(), Slot::Group(count));
            self.nodes.push(start);
            for i in 0..count {
                let entry_path = format!("{path}.{i}");
                let mut entry = Node::new(NodeKind::GroupStart, &entry_path);
                entry.label = format!("{label}, Eintrag {}", i + 1);
                self.nodes.push(entry);
                let mut inner = vec![format!("{entry_path}.")];
                inner.extend_from_slice(scopes);
                self.items(
                    items,
                    inner_body,
                    &inner,
                    &format!("{entry_path}."),
                    depth + 1,
                );
                self.nodes.push(Node::new(NodeKind::GroupEnd, &entry_path));
            }
            if count < max {
                let mut add = Node::new(NodeKind::AddEntry, &path);
                add.label = format!("Weiteren Eintrag hinzufügen: {label}");
                self.nodes.push(add);
            }
            self.nodes.push(Node::new(NodeKind::GroupEnd, &path));
        } else {
            self.slots.insert(path.clone(), Slot::Group(1));
            self.nodes.push(start);
            let mut inner = vec![format!("{path}.")];
            inner.extend_from_slice(scopes);
            self.items(items, inner_body, &inner, &format!("{path}."), depth + 1);
            self.nodes.push(Node::new(NodeKind::GroupEnd, &path));
        }
    }

    fn field(&mut self, f: &'a Field, body: &'a Body, scopes: &[String], prefix: &str) {
        let name = format!("{prefix}{}", f.id);
        let mut n = Node::new(NodeKind::Field, &name);
        n.label = text_of(&f.label);
        if n.label.is_empty() {
            n.label = f.id.clone();
        }
        n.help = text_of(&f.help);
        n.required = f.required;
        let value = self.input.first(&name).unwrap_or_default().to_string();
        let c = &f.constraints;
        let slot = match f.ty {
            FieldType::Boolean => Slot::Bool,
            FieldType::MultiSelect => Slot::Multi,
            t if t.is_numeric() => Slot::Number,
            _ => Slot::Text,
        };
        let (control, input_type) = match f.ty {
            FieldType::Text => ("input", "text"),
            FieldType::MultilineText => ("textarea", ""),
            FieldType::Integer | FieldType::Decimal | FieldType::Money => ("input", "number"),
            FieldType::Date => ("input", "date"),
            FieldType::Time => ("input", "time"),
            FieldType::DateTime => ("input", "datetime-local"),
            FieldType::Boolean => ("checkbox", "checkbox"),
            FieldType::Email => ("input", "email"),
            FieldType::Phone => ("input", "tel"),
            FieldType::Iban | FieldType::PostalCode => ("input", "text"),
            FieldType::Select => ("select", ""),
            FieldType::MultiSelect => ("checkboxes", ""),
            FieldType::File => ("file", "file"),
            FieldType::StaticText => ("static", ""),
        };
        n.control = control;
        n.input_type = input_type;
        match f.ty {
            FieldType::StaticText => {
                n.label = text_of(&f.text);
                n.required = false;
            }
            FieldType::Integer => n.attrs.push(("step", "1".into())),
            FieldType::Decimal => n.attrs.push(("step", "any".into())),
            FieldType::Money => {
                n.attrs.push(("step", "0.01".into()));
                n.hint = "Betrag in Euro, zum Beispiel 30,70".into();
            }
            FieldType::PostalCode => {
                n.attrs.push(("inputmode", "numeric".into()));
                n.attrs.push(("pattern", "[0-9]{5}".into()));
                n.attrs.push(("autocomplete", "postal-code".into()));
                n.hint = "Fünf Ziffern".into();
            }
            FieldType::Iban => {
                n.attrs.push(("autocomplete", "off".into()));
                n.hint = "IBAN, zum Beispiel DE02 1203 0000 0000 2020 51".into();
            }
            FieldType::Email => n.attrs.push(("autocomplete", "email".into())),
            FieldType::Phone => n.attrs.push(("autocomplete", "tel".into())),
            FieldType::File => {
                if !c.media_types.is_empty() {
                    n.attrs.push(("accept", c.media_types.join(",")));
                }
                let mut hint = Vec::new();
                if !c.media_types.is_empty() {
                    hint.push(format!("Erlaubt: {}", c.media_types.join(", ")));
                }
                if let Some(size) = c.max_size {
                    hint.push(format!("höchstens {}", human_size(size)));
                }
                n.hint = hint.join("; ");
            }
            FieldType::Boolean => n.checked = !value.is_empty(),
            _ => {}
        }
        if let Some(p) = &c.pattern {
            if f.ty.is_textual() {
                n.attrs.push(("pattern", p.clone()));
            }
        }
        if let Some(m) = c.min_length {
            n.attrs.push(("minlength", m.to_string()));
        }
        if let Some(m) = c.max_length {
            n.attrs.push(("maxlength", m.to_string()));
        }
        for (attr, bound) in [("min", &c.min), ("max", &c.max)] {
            match bound {
                Some(Bound::Number(x)) => n.attrs.push((attr, x.to_string())),
                Some(Bound::Date(d)) | Some(Bound::Time(d)) => n.attrs.push((attr, d.clone())),
                _ => {}
            }
        }
        if n.hint.is_empty() && !f.examples.is_empty() {
            n.hint = format!("Zum Beispiel: {}", f.examples.join(", "));
        }
        if matches!(f.ty, FieldType::Select | FieldType::MultiSelect) {
            let chosen = self.input.values.get(&name);
            let is_chosen = |code: &str| chosen.is_some_and(|v| v.iter().any(|x| x == code));
            match self.codelist(f, body) {
                Some(list) if !list.inline().is_empty() => {
                    n.options = list
                        .inline()
                        .iter()
                        .map(|code| Opt {
                            value: code.code.clone(),
                            label: code.label.clone(),
                            selected: is_chosen(&code.code),
                        })
                        .collect();
                }
                Some(list) => {
                    // An XRepository list: its codes are not in the package.
                    n.control = "input";
                    n.input_type = "text";
                    n.hint = match &list.source {
                        gemeinwerk_package::codelist::CodelistSource::XRepository {
                            urn,
                            version,
                        } => {
                            format!("Code aus der XRepository-Codeliste {urn} (Version {version})")
                        }
                        _ => String::new(),
                    };
                }
                None => {
                    n.control = "input";
                    n.input_type = "text";
                }
            }
        }
        n.value = value;
        if f.ty.is_input() {
            self.slots.insert(name.clone(), slot);
        }
        if let Some(cond) = &f.shown_when {
            self.pending.push((self.nodes.len(), cond, scopes.to_vec()));
        }
        self.nodes.push(n);
    }

    fn codelist(&self, f: &Field, body: &'a Body) -> Option<&'a Codelist> {
        let id = f.codelist.as_ref()?.get_ref();
        match id.split_once('#') {
            Some((package, list)) => self.deps.body(package)?.codelist(list),
            None => body.codelist(id),
        }
    }

    /// The input name a condition's path stands for: looked up from the
    /// condition's own group outwards.
    fn lookup(&self, path: &str, scopes: &[String]) -> Option<(String, Slot)> {
        scopes.iter().find_map(|scope| {
            let name = format!("{scope}{path}");
            self.slots.get(&name).map(|s| (name, *s))
        })
    }

    fn resolve(&self, e: &Expr, scopes: &[String]) -> Value {
        match e {
            Expr::Lit(l, _) => json!({ "lit": literal(l) }),
            Expr::Path(p, _) => match self.lookup(p, scopes) {
                Some((name, Slot::Group(_))) => json!({ "group": name }),
                Some((name, slot)) => json!({ "field": name, "t": slot_name(slot) }),
                None => json!({ "lit": Value::Null }),
            },
            Expr::Not(inner, _) => json!({ "not": self.resolve(inner, scopes) }),
            Expr::And(a, b) => {
                json!({ "and": [self.resolve(a, scopes), self.resolve(b, scopes)] })
            }
            Expr::Or(a, b) => json!({ "or": [self.resolve(a, scopes), self.resolve(b, scopes)] }),
            Expr::Cmp(op, a, b, _) => json!({
                "cmp": op.as_str(),
                "a": self.resolve(a, scopes),
                "b": self.resolve(b, scopes),
            }),
            Expr::In {
                value,
                list,
                negated,
                ..
            } => json!({
                "in": self.resolve(value, scopes),
                "list": list.iter().map(|(l, _)| literal(l)).collect::<Vec<_>>(),
                "neg": negated,
            }),
            Expr::Call(func, args, _) => json!({
                "call": func.name(),
                "args": args.iter().map(|a| self.resolve(a, scopes)).collect::<Vec<_>>(),
            }),
        }
    }

    /// The current value of an input, as the script reads it from the page.
    fn value_of(&self, name: &str) -> Value {
        let Some(slot) = self.slots.get(name) else {
            return Value::Null;
        };
        match slot {
            Slot::Group(n) => json!(n),
            Slot::Bool => json!(self.input.first(name).is_some()),
            Slot::Multi => json!(self.input.values.get(name).cloned().unwrap_or_default()),
            Slot::Number => self
                .input
                .first(name)
                .and_then(|s| s.replace(',', ".").parse::<f64>().ok())
                .map(|x| json!(x))
                .unwrap_or(Value::Null),
            Slot::Text => self
                .input
                .first(name)
                .map(|s| json!(s))
                .unwrap_or(Value::Null),
        }
    }
}

fn slot_name(slot: Slot) -> &'static str {
    match slot {
        Slot::Bool => "bool",
        Slot::Number => "num",
        Slot::Text => "text",
        Slot::Multi => "multi",
        Slot::Group(_) => "group",
    }
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Bool(b) => json!(b),
        Literal::Number(n) => json!(n),
        Literal::Text(s) => json!(s),
    }
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1_000_000 && bytes % 1_000_000 == 0 {
        format!("{} MB", bytes / 1_000_000)
    } else if bytes >= 1000 && bytes % 1000 == 0 {
        format!("{} kB", bytes / 1000)
    } else {
        format!("{bytes} Bytes")
    }
}

pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Null => false,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

fn is_set(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Number(n) => n.as_f64().is_some(),
        Value::Object(_) => true,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Number(x), Value::String(s)) | (Value::String(s), Value::Number(x)) => {
            s.parse::<f64>().ok() == x.as_f64()
        }
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whole years from an ISO date to `today` (also ISO).
fn years_since(date: &str, today: &str) -> Option<i64> {
    let d = chrono::NaiveDate::parse_from_str(date.get(..10)?, "%Y-%m-%d").ok()?;
    let t = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d").ok()?;
    use chrono::Datelike;
    let mut years = i64::from(t.year() - d.year());
    if (t.month(), t.day()) < (d.month(), d.day()) {
        years -= 1;
    }
    Some(years)
}

/// Evaluates a resolved condition. `gemeinwerk.js` has the same rules.
pub fn eval(e: &Value, value_of: &dyn Fn(&str) -> Value, today: &str) -> Value {
    let sub = |x: &Value| eval(x, value_of, today);
    if let Some(l) = e.get("lit") {
        return l.clone();
    }
    if let Some(name) = e.get("field").and_then(Value::as_str) {
        return value_of(name);
    }
    if let Some(name) = e.get("group").and_then(Value::as_str) {
        return value_of(name);
    }
    if let Some(x) = e.get("not") {
        return json!(!truthy(&sub(x)));
    }
    if let Some([a, b]) = e.get("and").and_then(Value::as_array).map(Vec::as_slice) {
        return json!(truthy(&sub(a)) && truthy(&sub(b)));
    }
    if let Some([a, b]) = e.get("or").and_then(Value::as_array).map(Vec::as_slice) {
        return json!(truthy(&sub(a)) || truthy(&sub(b)));
    }
    if let Some(op) = e.get("cmp").and_then(Value::as_str) {
        let a = sub(&e["a"]);
        let b = sub(&e["b"]);
        use std::cmp::Ordering::*;
        let r = match op {
            "==" => equal(&a, &b),
            "!=" => !equal(&a, &b),
            "<" => order(&a, &b) == Some(Less),
            "<=" => matches!(order(&a, &b), Some(Less | Equal)),
            ">" => order(&a, &b) == Some(Greater),
            ">=" => matches!(order(&a, &b), Some(Greater | Equal)),
            _ => false,
        };
        return json!(r);
    }
    if let Some(x) = e.get("in") {
        let v = sub(x);
        let list = e["list"].as_array().cloned().unwrap_or_default();
        let found = match &v {
            Value::Array(chosen) => chosen.iter().any(|c| list.iter().any(|l| equal(c, l))),
            Value::Null => false,
            v => list.iter().any(|l| equal(v, l)),
        };
        let negated = e["neg"].as_bool().unwrap_or(false);
        return json!(found != negated);
    }
    if let Some(func) = e.get("call").and_then(Value::as_str) {
        let args: Vec<Value> = e["args"]
            .as_array()
            .map(|a| a.iter().map(sub).collect())
            .unwrap_or_default();
        let first = args.first().cloned().unwrap_or(Value::Null);
        return match func {
            "is_set" => json!(is_set(&first)),
            "count" => match first {
                Value::Array(a) => json!(a.len()),
                Value::Number(n) => Value::Number(n),
                Value::Null => json!(0),
                _ => json!(1),
            },
            "years_since" => first
                .as_str()
                .and_then(|d| years_since(d, today))
                .map(|y| json!(y))
                .unwrap_or(Value::Null),
            "today" => json!(today),
            _ => Value::Null,
        };
    }
    Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;
    use gemeinwerk_package::content::{parse_content, Content};
    use gemeinwerk_package::manifest::PackageKind;

    fn form(src: &str) -> Body {
        match parse_content(PackageKind::Form, src).unwrap() {
            Content::Form(f) => f.body,
            _ => unreachable!(),
        }
    }

    const SRC: &str = r#"
[form]
title = "T"
vertrauensniveau = "niedrig"
accounts = ["BundID"]

[codelist.art]
codes = [{ code = "a", label = "Art A" }, { code = "b", label = "Art B" }]

[[field]]
id = "halter"
type = "boolean"
label = "Halter"

[[field]]
id = "grund"
type = "text"
label = "Grund"
shown-when = "!halter"

[[field]]
id = "art"
type = "select"
label = "Art"
codelist = "art"

[[group]]
id = "kinder"
label = "Kinder"
occurs = "0:3"

[[group.field]]
id = "name"
type = "text"
label = "Name"

[[group.field]]
id = "alter"
type = "integer"
label = "Alter"
shown-when = "art == 'b'"
"#;

    fn node<'a>(p: &'a Preview, name: &str) -> &'a Node {
        p.nodes
            .iter()
            .find(|n| n.name == name && n.kind == NodeKind::Field)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    #[test]
    fn conditions_are_evaluated_for_the_first_render() {
        let body = form(SRC);
        let p = build(&body, &DependencyContent::unresolved(), &Input::default());
        assert!(!node(&p, "grund").hidden, "halter unset: grund is shown");
        assert!(
            node(&p, "kinder.0.alter").hidden,
            "art unset: alter is hidden"
        );
        assert!(p.has_conditions);
        assert_eq!(node(&p, "art").options.len(), 2);

        let input = Input::from_pairs(vec![
            ("halter".into(), "ja".into()),
            ("art".into(), "b".into()),
            (ADD_BUTTON.into(), "kinder".into()),
        ]);
        let p = build(&body, &DependencyContent::unresolved(), &input);
        assert!(node(&p, "grund").hidden);
        assert!(!node(&p, "kinder.1.alter").hidden, "outer names resolve");
        assert!(node(&p, "art").options[1].selected);
        assert!(node(&p, "grund").show_when.contains("\"field\":\"halter\""));
    }

    #[test]
    fn every_field_type_becomes_a_real_control() {
        let mut src = String::from(
            "[form]\ntitle = \"T\"\nvertrauensniveau = \"niedrig\"\naccounts = [\"BundID\"]\n\n\
             [codelist.l]\ncodes = [{ code = \"a\", label = \"A\" }]\n",
        );
        for (name, _) in FieldType::ALL {
            let id = name.replace('-', "_");
            let extra = match name {
                "select" | "multi-select" => "codelist = \"l\"\n",
                "static-text" => "text = \"Hinweis\"\n",
                _ => "",
            };
            let label = if name == "static-text" {
                String::new()
            } else {
                format!("label = \"{name}\"\n")
            };
            src.push_str(&format!(
                "\n[[field]]\nid = \"f_{id}\"\ntype = \"{name}\"\n{label}{extra}"
            ));
        }
        let p = build(
            &form(&src),
            &DependencyContent::unresolved(),
            &Input::default(),
        );
        let control = |name: &str| {
            let n = node(&p, &format!("f_{}", name.replace('-', "_")));
            (n.control, n.input_type)
        };
        assert_eq!(control("text"), ("input", "text"));
        assert_eq!(control("multiline-text"), ("textarea", ""));
        assert_eq!(control("integer"), ("input", "number"));
        assert_eq!(control("decimal"), ("input", "number"));
        assert_eq!(control("money"), ("input", "number"));
        assert_eq!(control("date"), ("input", "date"));
        assert_eq!(control("time"), ("input", "time"));
        assert_eq!(control("date-time"), ("input", "datetime-local"));
        assert_eq!(control("boolean"), ("checkbox", "checkbox"));
        assert_eq!(control("email"), ("input", "email"));
        assert_eq!(control("phone"), ("input", "tel"));
        assert_eq!(control("iban"), ("input", "text"));
        assert_eq!(control("postal-code"), ("input", "text"));
        assert_eq!(control("select"), ("select", ""));
        assert_eq!(control("multi-select"), ("checkboxes", ""));
        assert_eq!(control("file"), ("file", "file"));
        assert_eq!(control("static-text"), ("static", ""));
        assert_eq!(node(&p, "f_static_text").label, "Hinweis");
        assert_eq!(node(&p, "f_multi_select").options.len(), 1);
        assert!(node(&p, "f_postal_code")
            .attrs
            .contains(&("pattern", "[0-9]{5}".to_string())));
    }

    #[test]
    fn functions_follow_the_condition_language() {
        let v = |_: &str| Value::Null;
        let e = json!({"call": "years_since", "args": [{"lit": "2000-06-15"}]});
        assert_eq!(eval(&e, &v, "2026-06-14"), json!(25));
        assert_eq!(eval(&e, &v, "2026-06-15"), json!(26));
        let e = json!({"in": {"lit": "b"}, "list": ["a", "b"], "neg": false});
        assert_eq!(eval(&e, &v, "2026-01-01"), json!(true));
        let e = json!({"cmp": "<", "a": {"lit": null}, "b": {"lit": 3}});
        assert_eq!(eval(&e, &v, "2026-01-01"), json!(false));
    }
}
