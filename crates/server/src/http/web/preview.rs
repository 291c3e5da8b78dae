//! The live preview of a form (or field group) as a real HTML form.
//!
//! The form's items are flattened into a list of nodes (group start, field,
//! group end) that a template renders without recursion. Conditions
//! (`shown-when`, `required-when`) and each field's rules are compiled by
//! the package crate's one evaluator (`gemeinwerk_package::eval`) with every
//! name resolved to a concrete input name. The server evaluates them for
//! the first render and for a submitted preview ("Angaben prüfen" without
//! JavaScript); the page receives the same compiled trees as JSON
//! (`data-show-when`, `data-regel`), which `gemeinwerk.js` only reads.

use std::collections::HashMap;

use gemeinwerk_package::codelist::{Codelist, CodelistRef};
use gemeinwerk_package::content::DependencyContent;
use gemeinwerk_package::eval::{self, Cond, FieldRule, Kind, Slot, Val, Values};
use gemeinwerk_package::form::Body;
use gemeinwerk_package::model::{
    is_web_address, Bound, Condition, Field, FieldType, Group, Item, LegalBasis,
};

/// The values a user entered, by input name (several for multi-selects),
/// and how many entries each repeatable group has.
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub values: HashMap<String, Vec<String>>,
    pub counts: HashMap<String, u32>,
    /// "Angaben prüfen" was pressed: check every shown field.
    pub check: bool,
}

/// Prefix of the hidden inputs that carry a repeatable group's entry count.
pub const COUNT_PREFIX: &str = "_anzahl.";
/// Name of the button that adds an entry to a repeatable group.
pub const ADD_BUTTON: &str = "_mehr";
/// Name of the button that checks the entered values.
pub const CHECK_BUTTON: &str = "_pruefen";

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
            } else if k == CHECK_BUTTON {
                input.check = true;
            } else {
                input.values.entry(k).or_default().push(v);
            }
        }
        for group in add {
            let n = input.counts.entry(group).or_insert(0);
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

/// Lists longer than this are a type-ahead instead of a select.
const TYPE_AHEAD_FROM: usize = 30;

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
    /// The compiled condition as JSON, for the script; empty if none.
    pub show_when: String,
    /// input, textarea, checkbox, select, typeahead (a long code list),
    /// checkboxes, file, static.
    pub control: &'static str,
    pub input_type: &'static str,
    /// Further attributes (pattern, min, max, step, inputmode, accept…).
    pub attrs: Vec<(&'static str, String)>,
    pub value: String,
    pub checked: bool,
    pub options: Vec<Opt>,
    /// A plain-language note on the expected format.
    pub hint: String,
    /// The norms the field or group rests on.
    pub legal: Vec<Legal>,
    /// For a repeatable group: the entry count, carried in a hidden input.
    pub count: u32,
    pub repeatable: bool,
    /// The compiled rules of the field as JSON, for the script.
    pub rule: String,
    /// The message of a failed check, shown next to the field.
    pub error: String,
    /// The first field with an error gets the focus.
    pub autofocus: bool,
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
            legal: Vec::new(),
            count: 0,
            repeatable: false,
            rule: String::new(),
            error: String::new(),
            autofocus: false,
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
    /// The ids of the error, help and hint texts, for `aria-describedby`.
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.error.is_empty() {
            ids.push(format!("{}-fehler", self.dom_id));
        }
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

    /// The id a link to the field's control points at.
    pub fn control_id(&self) -> String {
        if self.control == "checkboxes" {
            format!("{}-1", self.dom_id)
        } else {
            self.dom_id.clone()
        }
    }
}

/// A legal basis as the page shows it: the norm, linked when the package
/// gives a web address for it.
#[derive(Debug, Clone)]
pub struct Legal {
    pub text: String,
    /// An `http(s)` address, or empty.
    pub href: String,
}

pub fn legal(list: &[LegalBasis]) -> Vec<Legal> {
    list.iter()
        .map(|b| Legal {
            text: b.text.clone(),
            // Validation allows only web addresses; checked again, since a
            // link on the page must never be a script.
            href: b
                .link
                .clone()
                .filter(|l| is_web_address(l))
                .unwrap_or_default(),
        })
        .collect()
}

pub fn dom_id(name: &str) -> String {
    format!("f-{}", name.replace('.', "-"))
}

/// A failed check, for the summary above the form.
#[derive(Debug, Clone)]
pub struct ErrorLink {
    pub target: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Preview {
    pub nodes: Vec<Node>,
    /// Fields whose condition is not met now (hidden).
    pub hidden_count: usize,
    pub has_conditions: bool,
    /// "Angaben prüfen" was pressed (without the script).
    pub checked: bool,
    pub errors: Vec<ErrorLink>,
    /// The rules of every input, in form order: what the server checks.
    pub rules: Vec<FieldRule>,
    /// The norms the form (or field group) rests on.
    pub legal: Vec<Legal>,
}

/// A condition waiting until every name of the form is known.
struct Pending<'a> {
    cond: &'a Condition,
    /// The scopes to resolve names in, innermost first.
    scopes: Vec<String>,
}

struct Builder<'a> {
    deps: &'a DependencyContent,
    input: &'a Input,
    today: String,
    nodes: Vec<Node>,
    slots: HashMap<String, Slot>,
    counts: HashMap<String, u32>,
    pending: Vec<Pending<'a>>,
    /// The pending `shown-when` of each enclosing group, outermost first.
    group_conditions: Vec<usize>,
    /// Node index of a field, its rule, the pending conditions that show
    /// it, and its pending `required-when`.
    rules: Vec<(usize, FieldRule, Vec<usize>, Option<usize>)>,
    /// Node index and pending condition of every `shown-when`.
    shown: Vec<(usize, usize)>,
}

/// The entered values as the evaluator reads them.
struct Entered<'a> {
    input: &'a Input,
    counts: &'a HashMap<String, u32>,
}

impl Values for Entered<'_> {
    fn raw(&self, name: &str) -> &[String] {
        self.input
            .values
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
    fn entries(&self, group: &str) -> u32 {
        self.counts.get(group).copied().unwrap_or(1)
    }
}

/// Builds the preview of a form or field group body.
pub fn build(body: &Body, deps: &DependencyContent, input: &Input) -> Preview {
    let today = chrono::Local::now().date_naive().to_string();
    build_on(body, deps, input, &today)
}

/// [`build`] on a given day (ISO date).
pub fn build_on(body: &Body, deps: &DependencyContent, input: &Input, today: &str) -> Preview {
    let mut b = Builder {
        deps,
        input,
        today: today.to_string(),
        nodes: Vec::new(),
        slots: HashMap::new(),
        counts: HashMap::new(),
        pending: Vec::new(),
        group_conditions: Vec::new(),
        rules: Vec::new(),
        shown: Vec::new(),
    };
    b.items(&body.items, body, &[String::new()], "", 0);
    let has_conditions = !b.pending.is_empty();
    let compiled: Vec<Option<Cond>> = b
        .pending
        .iter()
        .map(|p| p.cond.expr.as_ref().map(|e| b.compile(e, &p.scopes)))
        .collect();
    let values = Entered {
        input,
        counts: &b.counts,
    };
    for (index, pending) in &b.shown {
        if let Some(c) = &compiled[*pending] {
            let node = &mut b.nodes[*index];
            node.show_when = serde_json::to_string(c).unwrap_or_default();
            node.hidden = !eval::truthy(&eval::eval(c, &values, today));
        }
    }
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (index, mut rule, shown_by, required_by) in std::mem::take(&mut b.rules) {
        rule.shown_when = shown_by
            .iter()
            .filter_map(|i| compiled[*i].clone())
            .collect();
        rule.required_when = required_by.and_then(|i| compiled[i].clone());
        let node = &mut b.nodes[index];
        node.rule = serde_json::to_string(&rule).unwrap_or_default();
        if input.check {
            if let Some(problem) = eval::check_field(&rule, &values, today) {
                node.error = rule.messages.get(&problem).cloned().unwrap_or_default();
                node.autofocus = errors.is_empty();
                errors.push(ErrorLink {
                    target: node.control_id(),
                    message: node.error.clone(),
                });
            }
        }
        rules.push(rule);
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
        checked: input.check,
        errors,
        rules,
        legal: Vec::new(),
    }
}

fn text_of(t: &Option<gemeinwerk_package::model::Text>) -> String {
    t.as_ref().map(|t| t.de.clone()).unwrap_or_default()
}

fn kind_of(ty: FieldType) -> Option<Kind> {
    Some(match ty {
        FieldType::Text | FieldType::MultilineText => Kind::Text,
        FieldType::Integer => Kind::Integer,
        FieldType::Decimal | FieldType::Money => Kind::Number,
        FieldType::Date => Kind::Date,
        FieldType::Time => Kind::Time,
        FieldType::DateTime => Kind::DateTime,
        FieldType::Boolean => Kind::Bool,
        FieldType::Email => Kind::Email,
        FieldType::Phone => Kind::Phone,
        FieldType::Iban => Kind::Iban,
        FieldType::PostalCode => Kind::Postal,
        FieldType::Select => Kind::Choice,
        FieldType::MultiSelect => Kind::Multi,
        FieldType::File => Kind::File,
        FieldType::StaticText => return None,
    })
}

/// How the evaluator holds a field's value.
fn slot_of(ty: FieldType) -> Slot {
    match ty {
        FieldType::Boolean => Slot::Bool,
        FieldType::MultiSelect => Slot::Multi,
        t if t.is_numeric() => Slot::Number,
        _ => Slot::Text,
    }
}

/// The HTML control of a field type and its `type` attribute.
fn control_of(ty: FieldType) -> (&'static str, &'static str) {
    match ty {
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
    }
}

/// What each type adds: steps, input modes, autocomplete, accepted files,
/// and a hint on the format.
fn type_attrs(n: &mut Node, f: &Field, value: &str) {
    let c = &f.constraints;
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

    fn wait(&mut self, cond: &'a Condition, scopes: &[String]) -> usize {
        self.pending.push(Pending {
            cond,
            scopes: scopes.to_vec(),
        });
        self.pending.len() - 1
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
        start.legal = legal(&g.legal_basis);
        if let Some(include) = &g.include {
            if self.deps.body(include.get_ref()).is_none() {
                start.hint = format!(
                    "Die Felder kommen aus dem Paket {}, das nicht geladen werden konnte.",
                    include.get_ref()
                );
            }
        }
        let own_condition = g.shown_when.as_ref().map(|c| {
            let i = self.wait(c, scopes);
            self.shown.push((self.nodes.len(), i));
            i
        });
        if let Some(i) = own_condition {
            self.group_conditions.push(i);
        }
        if g.occurs.is_repeatable() {
            let max = g.occurs.max.unwrap_or(MAX_ENTRIES).min(MAX_ENTRIES);
            // An optional group starts without an entry: an empty first
            // entry would look as if its fields had to be filled in.
            let wanted = self
                .input
                .counts
                .get(&path)
                .copied()
                .unwrap_or(g.occurs.min);
            let count = wanted.clamp(g.occurs.min.min(max), max);
            start.count = count;
            start.repeatable = true;
            start.hint = match (g.occurs.min, g.occurs.max) {
                (0, Some(m)) => format!("freiwillig, bis zu {m} Einträge"),
                (0, None) => "freiwillig, beliebig viele Einträge".to_string(),
                (1, None) => "mindestens 1 Eintrag".to_string(),
                (min, Some(m)) => format!("{min} bis {m} Einträge"),
                (min, None) => format!("mindestens {min} Einträge"),
            };
            let label = start.label.clone();
            self.slots.insert(path.clone(), Slot::Group);
            self.counts.insert(path.clone(), count);
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
                add.label = if count == 0 {
                    format!("Eintrag hinzufügen: {label}")
                } else {
                    format!("Weiteren Eintrag hinzufügen: {label}")
                };
                self.nodes.push(add);
            }
            self.nodes.push(Node::new(NodeKind::GroupEnd, &path));
        } else if g.occurs.min == 0 {
            // An optional group ("0:1"): absent until the user adds it, so
            // its required fields are required only once it is there.
            let count = self.input.counts.get(&path).copied().unwrap_or(0).min(1);
            start.count = count;
            start.repeatable = true;
            start.hint = "freiwillig".to_string();
            let label = start.label.clone();
            self.slots.insert(path.clone(), Slot::Group);
            self.counts.insert(path.clone(), count);
            self.nodes.push(start);
            if count == 1 {
                let mut inner = vec![format!("{path}.")];
                inner.extend_from_slice(scopes);
                self.items(items, inner_body, &inner, &format!("{path}."), depth + 1);
            } else {
                let mut add = Node::new(NodeKind::AddEntry, &path);
                add.label = format!("Angaben hinzufügen: {label}");
                self.nodes.push(add);
            }
            self.nodes.push(Node::new(NodeKind::GroupEnd, &path));
        } else {
            self.slots.insert(path.clone(), Slot::Group);
            self.counts.insert(path.clone(), 1);
            self.nodes.push(start);
            let mut inner = vec![format!("{path}.")];
            inner.extend_from_slice(scopes);
            self.items(items, inner_body, &inner, &format!("{path}."), depth + 1);
            self.nodes.push(Node::new(NodeKind::GroupEnd, &path));
        }
        if own_condition.is_some() {
            self.group_conditions.pop();
        }
    }

    fn bound(&self, b: &Option<Bound>) -> Option<Val> {
        match b.as_ref()? {
            Bound::Number(x) => Some(Val::Number(*x)),
            Bound::Date(d) | Bound::Time(d) => Some(Val::Text(d.clone())),
            Bound::Today { offset, .. } => eval::shift_date(&self.today, offset).map(Val::Text),
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
        n.legal = legal(&f.legal_basis);
        n.required = f.required;
        let value = self.input.first(&name).unwrap_or_default().to_string();
        (n.control, n.input_type) = control_of(f.ty);
        type_attrs(&mut n, f, &value);
        let (min, max) = self.constraint_attrs(&mut n, f);
        if n.hint.is_empty() && !f.examples.is_empty() {
            n.hint = format!("Zum Beispiel: {}", f.examples.join(", "));
        }
        let codes = if matches!(f.ty, FieldType::Select | FieldType::MultiSelect) {
            self.options(&mut n, f, body, &name)
        } else {
            None
        };
        n.value = value;
        if let Some(v) = &f.fixed {
            // Filled in and not to be changed: shown, read-only, and sent.
            n.control = "input";
            n.input_type = "text";
            n.options.clear();
            n.value = v.clone();
            n.attrs.push(("readonly", "readonly".into()));
            n.hint = "Dieser Wert ist vorgegeben.".into();
        }
        if f.ty.is_input() {
            self.slots.insert(name.clone(), slot_of(f.ty));
        }
        let own = f.shown_when.as_ref().map(|cond| {
            let i = self.wait(cond, scopes);
            self.shown.push((self.nodes.len(), i));
            i
        });
        if let Some(kind) = kind_of(f.ty) {
            let c = &f.constraints;
            let mut rule = FieldRule::new(&name, kind);
            rule.required = f.required;
            rule.min_length = c.min_length;
            rule.max_length = c.max_length;
            if f.ty.is_textual() {
                rule.pattern = c.pattern.clone();
                rule.pattern_js = c.pattern.as_deref().and_then(eval::pattern_for_browser);
            }
            if f.ty.is_numeric() || f.ty.is_temporal() {
                rule.min = min;
                rule.max = max;
            }
            rule.codes = codes;
            let rule = rule.finish(&n.label);
            let mut shown_by = self.group_conditions.clone();
            shown_by.extend(own);
            let required_by = f.required_when.as_ref().map(|c| self.wait(c, scopes));
            self.rules
                .push((self.nodes.len(), rule, shown_by, required_by));
        }
        self.nodes.push(n);
    }

    /// The browser's own checks from the constraints: pattern, lengths,
    /// bounds (`today` resolved). Returns the bounds for the field's rule.
    fn constraint_attrs(&self, n: &mut Node, f: &Field) -> (Option<Val>, Option<Val>) {
        let c = &f.constraints;
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
        let (min, max) = (self.bound(&c.min), self.bound(&c.max));
        for (attr, bound) in [("min", &min), ("max", &max)] {
            match bound {
                Some(Val::Number(x)) => n.attrs.push((attr, x.to_string())),
                Some(Val::Text(d)) => n.attrs.push((attr, d.clone())),
                _ => {}
            }
        }
        (min, max)
    }

    /// The choices of a select from its code list; a list whose codes are
    /// not in the package (XRepository) or not found becomes a text input.
    /// Returns the codes for the field's rule.
    fn options(&self, n: &mut Node, f: &Field, body: &'a Body, name: &str) -> Option<Vec<String>> {
        let chosen = self.input.values.get(name);
        let is_chosen = |code: &str| chosen.is_some_and(|v| v.iter().any(|x| x == code));
        let named = f.codelist.as_ref().map(|c| CodelistRef::parse(c.get_ref()));
        if let Some(CodelistRef::Package(id)) = named {
            let Some(list) = self.deps.codelist_package(id) else {
                n.control = "input";
                n.input_type = "text";
                n.hint = format!("Code aus der Codeliste {id}");
                return None;
            };
            n.options = list
                .codes
                .iter()
                .map(|c| Opt {
                    value: c.code.clone(),
                    label: c.label.clone().unwrap_or_else(|| c.code.clone()),
                    selected: is_chosen(&c.code),
                })
                .collect();
            // Nobody scrolls through 200 Staatsangehörigkeiten: a long
            // list is a text input that suggests codes and labels as one
            // types.
            if n.control == "select" && n.options.len() > TYPE_AHEAD_FROM {
                n.control = "typeahead";
                n.input_type = "text";
            }
            return Some(list.keys.clone());
        }
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
                Some(n.options.iter().map(|o| o.value.clone()).collect())
            }
            Some(list) => {
                n.control = "input";
                n.input_type = "text";
                n.hint = match &list.source {
                    gemeinwerk_package::codelist::CodelistSource::XRepository { urn, version } => {
                        format!("Code aus der XRepository-Codeliste {urn} (Version {version})")
                    }
                    _ => String::new(),
                };
                None
            }
            None => {
                n.control = "input";
                n.input_type = "text";
                None
            }
        }
    }

    fn codelist(&self, f: &Field, body: &'a Body) -> Option<&'a Codelist> {
        match CodelistRef::parse(f.codelist.as_ref()?.get_ref()) {
            CodelistRef::InDependency { package, id } => self.deps.body(package)?.codelist(id),
            CodelistRef::Own(id) => body.codelist(id),
            CodelistRef::Package(_) => None,
        }
    }

    /// Compiles a condition with each name looked up from the condition's
    /// own group outwards.
    fn compile(&self, e: &gemeinwerk_package::expr::Expr, scopes: &[String]) -> Cond {
        eval::compile(e, &|path| {
            scopes.iter().find_map(|scope| {
                let name = format!("{scope}{path}");
                self.slots.get(&name).map(|s| (name, *s))
            })
        })
    }
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1_000_000 && bytes.is_multiple_of(1_000_000) {
        format!("{} MB", bytes / 1_000_000)
    } else if bytes >= 1000 && bytes.is_multiple_of(1000) {
        format!("{} kB", bytes / 1000)
    } else {
        format!("{bytes} Bytes")
    }
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

    /// A fixed value is shown, read-only, whatever was typed.
    #[test]
    fn a_fixed_value_is_read_only() {
        let body = form("[form]\ntitle = \"T\"\nvertrauensniveau = \"niedrig\"\n\n[[field]]\nid = \"behoerde\"\ntype = \"text\"\nlabel = \"Behörde\"\nfixed = \"Stadt Kassel\"\n");
        let typed = Input::from_pairs(vec![("behoerde".into(), "Darmstadt".into())]);
        let p = build(&body, &DependencyContent::unresolved(), &typed);
        let n = node(&p, "behoerde");
        assert_eq!((n.control, n.value.as_str()), ("input", "Stadt Kassel"));
        assert!(n.attrs.contains(&("readonly", "readonly".to_string())));
    }

    #[test]
    fn conditions_are_evaluated_for_the_first_render() {
        let body = form(SRC);
        let one = Input::from_pairs(vec![(ADD_BUTTON.into(), "kinder".into())]);
        let p = build(&body, &DependencyContent::unresolved(), &one);
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
            (ADD_BUTTON.into(), "kinder".into()),
        ]);
        let p = build(&body, &DependencyContent::unresolved(), &input);
        assert!(node(&p, "grund").hidden);
        assert!(!node(&p, "kinder.1.alter").hidden, "outer names resolve");
        assert!(node(&p, "art").options[1].selected);
        assert!(node(&p, "grund").show_when.contains("\"name\":\"halter\""));
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
    fn an_optional_repeatable_group_starts_without_an_entry() {
        let p = build(
            &form(SRC),
            &DependencyContent::unresolved(),
            &Input::default(),
        );
        assert!(!p.nodes.iter().any(|n| n.name.starts_with("kinder.0")));
        let add = p.nodes.iter().find(|n| n.is_add_entry()).unwrap();
        assert_eq!(add.label, "Eintrag hinzufügen: Kinder");
    }

    #[test]
    fn a_check_marks_the_first_error_and_skips_hidden_fields() {
        let src = format!(
            "{SRC}\n[[field]]\nid = \"kz\"\ntype = \"text\"\nlabel = \"Kennzeichen\"\nrequired = true\npattern = \"[A-Z]{{1,3}}-[A-Z]{{1,2}} [0-9]{{1,4}}\"\n\n[[field]]\nid = \"pflichtgrund\"\ntype = \"text\"\nlabel = \"Pflichtgrund\"\nshown-when = \"!halter\"\nrequired = true\n"
        );
        let body = form(&src);
        let input = Input::from_pairs(vec![
            ("kz".into(), "KS AB 1".into()),
            ("halter".into(), "ja".into()),
            (CHECK_BUTTON.into(), "ja".into()),
        ]);
        let p = build(&body, &DependencyContent::unresolved(), &input);
        assert!(p.checked);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert_eq!(
            node(&p, "kz").error,
            "„Kennzeichen“ hat nicht die erwartete Form."
        );
        assert!(node(&p, "kz").autofocus);
        assert!(
            node(&p, "pflichtgrund").error.is_empty(),
            "hidden: not checked"
        );
        let input = Input::from_pairs(vec![(CHECK_BUTTON.into(), "ja".into())]);
        let p = build(&body, &DependencyContent::unresolved(), &input);
        assert_eq!(p.errors[0].message, "Bitte füllen Sie „Kennzeichen“ aus.");
        assert_eq!(p.errors[1].message, "Bitte füllen Sie „Pflichtgrund“ aus.");
    }
}
