//! Processes (`process.toml`): what happens to an application after it is
//! submitted. Roles act on states through transitions; ends carry the
//! outcome of the procedure.
//!
//! ```toml
//! [process]
//! title = "Bewohnerparkausweis: Prüfung und Ausstellung"
//!
//! [roles]
//! antragsteller = "Antragstellende Person"
//! sachbearbeitung = "Sachbearbeitung Straßenverkehrsbehörde"
//!
//! [[state]]
//! id = "eingang"
//! label = "Antrag eingegangen"
//! start = true
//! deadline = "P14D"
//!
//! [[state]]
//! id = "ausgestellt"
//! label = "Parkausweis ausgestellt"
//! end = "bewilligt"
//!
//! [[transition]]
//! id = "ausstellen"
//! from = "eingang"
//! to = "ausgestellt"
//! role = "sachbearbeitung"
//! action = "bescheiden"
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use toml::Spanned;

use super::deps::Dependencies;
use super::diagnostics::{nearest, Cause, Hint, Subject, SubjectKind};
use super::manifest::{Manifest, PackageKind};
use super::model::{check_id, read_text, Duration, Text};
use super::spanned::{self, Seen, Sink, Suggest, Table};

/// How a procedure ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    Bewilligt,
    Abgelehnt,
    Zurueckgezogen,
}

impl Outcome {
    pub const ALL: [(&'static str, Outcome); 3] = [
        ("bewilligt", Outcome::Bewilligt),
        ("abgelehnt", Outcome::Abgelehnt),
        ("zurückgezogen", Outcome::Zurueckgezogen),
    ];
    pub fn as_str(self) -> &'static str {
        Self::ALL[self as usize].0
    }
    fn parse(s: &str) -> Option<Outcome> {
        let s = s.to_lowercase().replace("ue", "ü");
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, o)| *o)
    }
}

/// The actions a transition may carry. Others are allowed with a warning.
pub const ACTIONS: [&str; 16] = [
    "einreichen",
    "pruefen",
    "nachfordern",
    "nachreichen",
    "abgleichen",
    "anhoeren",
    "weiterleiten",
    "beteiligen",
    "bescheiden",
    "bewilligen",
    "ablehnen",
    "zahlen",
    "ausstellen",
    "zustellen",
    "zurueckziehen",
    "erinnern",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub id: String,
    pub label: String,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub id: String,
    pub at: usize,
    pub label: Option<Text>,
    pub start: bool,
    pub end: Option<Outcome>,
    /// How long the procedure may stay in this state (ISO 8601).
    pub deadline: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub id: String,
    pub at: usize,
    pub label: Option<Text>,
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    pub role: Spanned<String>,
    pub action: String,
    /// Forms filled in at this step, `ns/name`; they must be dependencies.
    pub forms: Vec<Spanned<String>>,
    /// Time allowed for this step (ISO 8601), e.g. a Nachforderungsfrist.
    pub deadline: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fee {
    pub id: String,
    pub at: usize,
    pub label: Option<Text>,
    /// In cents.
    pub amount_cents: i64,
    /// The amount is per this period (ISO 8601), e.g. `P1Y`.
    pub per: Option<String>,
    pub legal_basis: Option<String>,
    /// The transition on which the fee is charged.
    pub on: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub id: String,
    pub at: usize,
    pub label: Option<Text>,
    /// The transition that produces the notice.
    pub on: Spanned<String>,
    pub legal_basis: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Process {
    pub title: Option<Text>,
    pub roles: Vec<Role>,
    pub states: Vec<State>,
    pub transitions: Vec<Transition>,
    pub fees: Vec<Fee>,
    pub notices: Vec<Notice>,
}

impl Process {
    pub fn state(&self, id: &str) -> Option<&State> {
        self.states.iter().find(|s| s.id == id)
    }
}

const FILE_KEYS: [&str; 6] = ["process", "roles", "state", "transition", "fee", "notice"];
const PROCESS_KEYS: [&str; 2] = ["title", "title-en"];
const STATE_KEYS: [&str; 6] = ["id", "label", "label-en", "start", "end", "deadline"];
const TRANSITION_KEYS: [&str; 9] = [
    "id", "label", "label-en", "from", "to", "role", "action", "forms", "deadline",
];
const FEE_KEYS: [&str; 7] = [
    "id",
    "label",
    "label-en",
    "amount",
    "per",
    "legal-basis",
    "on",
];
const NOTICE_KEYS: [&str; 5] = ["id", "label", "label-en", "on", "legal-basis"];

fn read_duration(t: &mut Table, key: &str, sink: &mut Sink) -> Option<String> {
    let s = t.string(key, sink)?;
    match Duration::parse(s.get_ref()) {
        Ok(_) => Some(s.into_inner()),
        Err(e) => {
            sink.error(
                "process.invalid_duration",
                s.span().start,
                e.english.clone(),
            )
            .set_cause(e);
            None
        }
    }
}

/// `"30.70"`, `"30,70"`, `30.7`, `30` → cents.
pub fn parse_amount(s: &str) -> Result<i64, Cause> {
    let norm = s
        .trim()
        .trim_end_matches('€')
        .trim_end_matches("EUR")
        .trim()
        .replace(',', ".");
    let (euros, cents) = match norm.split_once('.') {
        None => (norm.as_str(), "0"),
        Some((e, c)) => (e, c),
    };
    let bad = || {
        Cause::new(
            "amount-form",
            format!("\"{s}\" is not an amount in EUR like \"30.70\""),
        )
        .arg("value", s)
    };
    if euros.is_empty()
        || !euros.bytes().all(|b| b.is_ascii_digit())
        || cents.len() > 2
        || !cents.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let e: i64 = euros.parse().map_err(|_| bad())?;
    let c: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
    Ok(e * 100 + c)
}

pub fn read(sink: &mut Sink) -> Option<Process> {
    let root = match sink.parse_root() {
        Ok(r) => r,
        Err(d) => {
            sink.found.push(d);
            return None;
        }
    };
    let mut top = Table::new(&root, Subject::new(SubjectKind::File, "process.toml"))
        .expect("the root is a table");
    let mut p = Process::default();
    match top.take("process") {
        None => {
            sink.error(
                "process.missing_process_table",
                0,
                "process.toml has no [process] table",
            )
            .suggest(Hint::new(
                "start-process",
                "start with [process] and title = \"…\"",
            ));
        }
        Some(node) => {
            if let Some(mut t) =
                Table::expect(node, Subject::new(SubjectKind::Table, "process"), sink)
            {
                p.title = read_text(&mut t, "title", sink);
                if p.title.is_none() {
                    sink.error("process.missing_title", t.at, "[process] has no title");
                }
                t.finish(&PROCESS_KEYS, sink);
            }
        }
    }
    for (id, node) in top.keyed_tables_or_strings("roles", sink) {
        if check_id(id.get_ref(), id.span().start, SubjectKind::Role, sink) {
            p.roles.push(Role {
                id: id.get_ref().clone(),
                label: node,
                at: id.span().start,
            });
        }
    }
    let mut seen = Seen::new();
    for node in top.tables("state", sink) {
        if let Some(x) = read_state(node, &mut seen, sink) {
            p.states.push(x);
        }
    }
    for node in top.tables("transition", sink) {
        if let Some(x) = read_transition(node, &mut seen, sink) {
            p.transitions.push(x);
        }
    }
    for node in top.tables("fee", sink) {
        if let Some(x) = read_fee(node, &mut seen, sink) {
            p.fees.push(x);
        }
    }
    for node in top.tables("notice", sink) {
        if let Some(x) = read_notice(node, &mut seen, sink) {
            p.notices.push(x);
        }
    }
    top.finish(&FILE_KEYS, sink);
    Some(p)
}

/// Whether `id` was declared before as a `kind`; reported if so.
fn duplicate(id: &Spanned<String>, kind: SubjectKind, seen: &mut Seen, sink: &mut Sink) -> bool {
    let subject = Subject::new(kind, id.get_ref());
    if let Some(first) = seen.insert(
        format!("{}:{}", kind.keyword(), id.get_ref()),
        id.span().start,
    ) {
        let (line, _) = super::diagnostics::line_column(sink.source, first);
        sink.error(
            "process.duplicate_id",
            id.span().start,
            format!("{subject} is declared twice (first on line {line})"),
        )
        .set_subject(&subject)
        .set_arg("line", line);
        return true;
    }
    false
}

/// One `[[state]]` table.
fn read_state(node: &Spanned<spanned::Node>, seen: &mut Seen, sink: &mut Sink) -> Option<State> {
    let mut t = Table::new(node, Subject::unnamed(SubjectKind::State))?;
    let id = t.required_string("id", sink);
    if let Some(id) = &id {
        t.what = Subject::new(SubjectKind::State, id.get_ref());
    }
    let label = read_text(&mut t, "label", sink);
    if label.is_none() {
        sink.error(
            "process.missing_label",
            t.at,
            format!("{} has no label", t.what),
        )
        .set_subject(&t.what);
    }
    let start = t.bool("start", sink).is_some_and(|b| *b.get_ref());
    let end = t
        .string("end", sink)
        .and_then(|e| match Outcome::parse(e.get_ref()) {
            Some(o) => Some(o),
            None => {
                let names = ["bewilligt", "abgelehnt", "zurückgezogen"];
                let d = sink
                    .error(
                        "process.invalid_outcome",
                        e.span().start,
                        format!(
                        "\"{}\" is not an outcome; an end is bewilligt, abgelehnt or zurückgezogen",
                        e.get_ref()
                    ),
                    )
                    .set_arg("value", e.get_ref());
                if let Some(b) = nearest(&e.get_ref().to_lowercase(), &names) {
                    d.suggest(Hint::did_you_mean(b));
                }
                None
            }
        });
    let deadline = read_duration(&mut t, "deadline", sink);
    t.finish(&STATE_KEYS, sink);
    let id = id?;
    if !check_id(id.get_ref(), id.span().start, SubjectKind::State, sink)
        || duplicate(&id, SubjectKind::State, seen, sink)
    {
        return None;
    }
    if start && end.is_some() {
        sink.error(
            "process.start_is_end",
            id.span().start,
            format!("state \"{}\" is both the start and an end", id.get_ref()),
        )
        .set_arg("state", id.get_ref());
    }
    Some(State {
        id: id.into_inner(),
        at: node.span().start,
        label,
        start,
        end,
        deadline,
    })
}

/// One `[[transition]]` table.
fn read_transition(
    node: &Spanned<spanned::Node>,
    seen: &mut Seen,
    sink: &mut Sink,
) -> Option<Transition> {
    let mut t = Table::new(node, Subject::unnamed(SubjectKind::Transition))?;
    let id = t.required_string("id", sink);
    if let Some(id) = &id {
        t.what = Subject::new(SubjectKind::Transition, id.get_ref());
    }
    let label = read_text(&mut t, "label", sink);
    let from = t.required_string("from", sink);
    let to = t.required_string("to", sink);
    let role = t.required_string("role", sink);
    let action = t.required_string("action", sink);
    let forms = t.strings("forms", sink).unwrap_or_default();
    let deadline = read_duration(&mut t, "deadline", sink);
    t.finish(&TRANSITION_KEYS, sink);
    if let Some(a) = &action {
        if !ACTIONS.contains(&a.get_ref().as_str()) {
            let d = sink
                .warning(
                    "process.unknown_action",
                    a.span().start,
                    format!("action \"{}\" is not one of the known actions", a.get_ref()),
                )
                .set_arg("action", a.get_ref());
            match nearest(a.get_ref(), &ACTIONS) {
                Some(b) => d.suggest(Hint::did_you_mean(b)),
                None => d.suggest(Hint::choices("known-actions", "known actions", &ACTIONS)),
            }
        }
    }
    let (Some(id), Some(from), Some(to), Some(role), Some(action)) = (id, from, to, role, action)
    else {
        return None;
    };
    if !check_id(id.get_ref(), id.span().start, SubjectKind::Transition, sink)
        || duplicate(&id, SubjectKind::Transition, seen, sink)
    {
        return None;
    }
    Some(Transition {
        id: id.into_inner(),
        at: node.span().start,
        label,
        from,
        to,
        role,
        action: action.into_inner(),
        forms,
        deadline,
    })
}

/// One `[[fee]]` table.
fn read_fee(node: &Spanned<spanned::Node>, seen: &mut Seen, sink: &mut Sink) -> Option<Fee> {
    let mut t = Table::new(node, Subject::unnamed(SubjectKind::Fee))?;
    let id = t.required_string("id", sink);
    if let Some(id) = &id {
        t.what = Subject::new(SubjectKind::Fee, id.get_ref());
    }
    let label = read_text(&mut t, "label", sink);
    let amount = match t.take("amount") {
        None => {
            sink.error(
                "toml.missing_key",
                t.at,
                format!("{} has no \"amount\"", t.what),
            )
            .set_subject(&t.what)
            .set_arg("key", "amount");
            None
        }
        Some(n) => {
            let r = match n.get_ref() {
                spanned::Node::String(s) => parse_amount(s),
                spanned::Node::Integer(i) if *i >= 0 => Ok(i * 100),
                spanned::Node::Float(f) if *f >= 0.0 => {
                    let cents = (f * 100.0).round();
                    if ((f * 100.0) - cents).abs() > 1e-6 {
                        Err(Cause::new(
                            "amount-decimals",
                            format!("{f} has more than two decimal places"),
                        )
                        .arg("value", f))
                    } else {
                        Ok(cents as i64)
                    }
                }
                _ => Err(Cause::new(
                    "amount-type",
                    "the amount must be given in EUR, like \"30.70\"",
                )),
            };
            match r {
                Ok(c) => Some(c),
                Err(e) => {
                    sink.error("process.invalid_amount", n.span().start, e.english.clone())
                        .set_cause(e);
                    None
                }
            }
        }
    };
    let per = read_duration(&mut t, "per", sink);
    let legal_basis = t.string("legal-basis", sink).map(Spanned::into_inner);
    if legal_basis.is_none() {
        sink.warning(
            "process.fee_without_legal_basis",
            t.at,
            format!("{} names no legal basis", t.what),
        )
        .set_subject(&t.what)
        .suggest(Hint::snippet("legal-basis = \"GebOSt Anlage Nr. 265\""));
    }
    let on = t.string("on", sink);
    t.finish(&FEE_KEYS, sink);
    let (Some(id), Some(amount_cents)) = (id, amount) else {
        return None;
    };
    if !check_id(id.get_ref(), id.span().start, SubjectKind::Fee, sink)
        || duplicate(&id, SubjectKind::Fee, seen, sink)
    {
        return None;
    }
    Some(Fee {
        id: id.into_inner(),
        at: node.span().start,
        label,
        amount_cents,
        per,
        legal_basis,
        on,
    })
}

/// One `[[notice]]` table.
fn read_notice(node: &Spanned<spanned::Node>, seen: &mut Seen, sink: &mut Sink) -> Option<Notice> {
    let mut t = Table::new(node, Subject::unnamed(SubjectKind::Notice))?;
    let id = t.required_string("id", sink);
    if let Some(id) = &id {
        t.what = Subject::new(SubjectKind::Notice, id.get_ref());
    }
    let label = read_text(&mut t, "label", sink);
    if label.is_none() {
        sink.error(
            "process.missing_label",
            t.at,
            format!("{} has no label", t.what),
        )
        .set_subject(&t.what);
    }
    let on = t.required_string("on", sink);
    let legal_basis = t.string("legal-basis", sink).map(Spanned::into_inner);
    t.finish(&NOTICE_KEYS, sink);
    let (Some(id), Some(on)) = (id, on) else {
        return None;
    };
    if !check_id(id.get_ref(), id.span().start, SubjectKind::Notice, sink)
        || duplicate(&id, SubjectKind::Notice, seen, sink)
    {
        return None;
    }
    Some(Notice {
        id: id.into_inner(),
        at: node.span().start,
        label,
        on,
        legal_basis,
    })
}

fn suggest_from<'a>(word: &str, ids: impl Iterator<Item = &'a str>) -> Option<Hint> {
    let ids: Vec<&str> = ids.collect();
    nearest(word, &ids).map(Hint::did_you_mean)
}

/// References, forms used, and the graph: exactly one start, every state
/// reachable, an end reachable from every state, nothing leaves an end.
pub fn check(p: &Process, manifest: &Manifest, deps: &dyn Dependencies, sink: &mut Sink) {
    let states: BTreeMap<&str, &State> = p.states.iter().map(|s| (s.id.as_str(), s)).collect();
    let roles: BTreeSet<&str> = p.roles.iter().map(|r| r.id.as_str()).collect();
    let transitions: BTreeSet<&str> = p.transitions.iter().map(|t| t.id.as_str()).collect();
    let dep_names: BTreeSet<String> = manifest
        .dependencies
        .iter()
        .map(|d| d.full_name())
        .collect();
    if p.roles.is_empty() {
        sink.error("process.no_roles", 0, "the process declares no [roles]")
            .suggest(Hint::snippet("[roles]\nantragsteller = \"Antragstellende Person\"\nsachbearbeitung = \"Sachbearbeitung\""));
    }
    let mut used_roles = BTreeSet::new();
    let mut good_edges: Vec<(&str, &str)> = Vec::new();
    for t in &p.transitions {
        if roles.contains(t.role.get_ref().as_str()) {
            used_roles.insert(t.role.get_ref().as_str());
        }
        if check_transition(t, p, &states, &roles, &dep_names, deps, sink) {
            good_edges.push((t.from.get_ref(), t.to.get_ref()));
        }
    }
    for r in &p.roles {
        if !used_roles.contains(r.id.as_str()) {
            sink.warning(
                "process.unused_role",
                r.at,
                format!("role \"{}\" does no transition", r.id),
            )
            .set_arg("role", &r.id);
        }
    }
    for f in &p.fees {
        if let Some(on) = &f.on {
            if !transitions.contains(on.get_ref().as_str()) {
                let d = sink
                    .error(
                        "process.unknown_transition",
                        on.span().start,
                        format!(
                            "fee \"{}\" is charged on \"{}\", which is not a transition",
                            f.id,
                            on.get_ref()
                        ),
                    )
                    .set_arg("variant", "fee")
                    .set_arg("name", &f.id)
                    .set_arg("transition", on.get_ref());
                if let Some(s) = suggest_from(on.get_ref(), transitions.iter().copied()) {
                    d.suggest(s);
                }
            }
        }
    }
    for n in &p.notices {
        if !transitions.contains(n.on.get_ref().as_str()) {
            let d = sink
                .error(
                    "process.unknown_transition",
                    n.on.span().start,
                    format!(
                        "notice \"{}\" is produced on \"{}\", which is not a transition",
                        n.id,
                        n.on.get_ref()
                    ),
                )
                .set_arg("variant", "notice")
                .set_arg("name", &n.id)
                .set_arg("transition", n.on.get_ref());
            if let Some(s) = suggest_from(n.on.get_ref(), transitions.iter().copied()) {
                d.suggest(s);
            }
        }
    }
    check_graph(p, &good_edges, sink);
}

/// One transition's references: its states, its role, the forms it uses;
/// whether both its states exist (then it is an edge of the graph).
fn check_transition(
    t: &Transition,
    p: &Process,
    states: &BTreeMap<&str, &State>,
    roles: &BTreeSet<&str>,
    dep_names: &BTreeSet<String>,
    deps: &dyn Dependencies,
    sink: &mut Sink,
) -> bool {
    let mut ok = true;
    for (what, r) in [("from", &t.from), ("to", &t.to)] {
        if !states.contains_key(r.get_ref().as_str()) {
            ok = false;
            let d = sink
                .error(
                    "process.unknown_state",
                    r.span().start,
                    format!(
                        "transition \"{}\" goes {what} \"{}\", which is not a state",
                        t.id,
                        r.get_ref()
                    ),
                )
                .set_arg("transition", &t.id)
                .set_arg("direction", what)
                .set_arg("state", r.get_ref());
            if let Some(s) = suggest_from(r.get_ref(), states.keys().copied()) {
                d.suggest(s);
            }
        }
    }
    if !roles.contains(t.role.get_ref().as_str()) && !p.roles.is_empty() {
        let d = sink
            .error(
                "process.unknown_role",
                t.role.span().start,
                format!(
                    "transition \"{}\" is done by \"{}\", which is not a role",
                    t.id,
                    t.role.get_ref()
                ),
            )
            .set_arg("transition", &t.id)
            .set_arg("role", t.role.get_ref());
        match suggest_from(t.role.get_ref(), roles.iter().copied()) {
            Some(s) => d.suggest(s),
            None => d.suggest(
                Hint::new(
                    "declare-role",
                    format!("declare it under [roles]: {} = \"…\"", t.role.get_ref()),
                )
                .arg("role", t.role.get_ref()),
            ),
        }
    }
    if let Some(from) = states.get(t.from.get_ref().as_str()) {
        if let Some(outcome) = from.end {
            sink.error(
                "process.transition_from_end",
                t.from.span().start,
                format!(
                    "transition \"{}\" leaves \"{}\", which is an end ({}); nothing leaves an end",
                    t.id,
                    from.id,
                    outcome.as_str()
                ),
            )
            .set_arg("transition", &t.id)
            .set_arg("state", &from.id)
            .set_arg("outcome", outcome.as_str());
        }
    }
    for f in &t.forms {
        if !dep_names.contains(f.get_ref()) {
            sink.error(
                "process.form_not_a_dependency",
                f.span().start,
                format!(
                    "transition \"{}\" uses the form \"{}\", which is not a dependency",
                    t.id,
                    f.get_ref()
                ),
            )
            .set_arg("transition", &t.id)
            .set_arg("package", f.get_ref())
            .suggest(Hint::add_dependency(f.get_ref()));
        } else if let Some(kind) = deps.kind(f.get_ref()) {
            if kind != PackageKind::Form {
                sink.error(
                    "process.not_a_form",
                    f.span().start,
                    format!("\"{}\" is a {kind}, not a form", f.get_ref()),
                )
                .set_arg("package", f.get_ref())
                .set_arg("package_kind", kind);
            }
        }
    }
    ok
}

/// The graph: exactly one start, at least one end, every state reachable
/// from the start, an end reachable from every state.
fn check_graph(p: &Process, good_edges: &[(&str, &str)], sink: &mut Sink) {
    if p.states.is_empty() {
        sink.error("process.no_states", 0, "the process has no [[state]]");
        return;
    }
    let starts: Vec<&State> = p.states.iter().filter(|s| s.start).collect();
    match starts.len() {
        0 => {
            sink.error("process.no_start", 0, "no state is the start")
                .suggest(
                    Hint::new(
                        "mark-start",
                        format!(
                            "mark the first state with start = true (\"{}\"?)",
                            p.states[0].id
                        ),
                    )
                    .arg("state", &p.states[0].id),
                );
        }
        1 => {}
        _ => {
            for s in &starts[1..] {
                sink.error(
                    "process.multiple_starts",
                    s.at,
                    format!(
                        "state \"{}\" is a second start; \"{}\" is already one",
                        s.id, starts[0].id
                    ),
                )
                .set_arg("state", &s.id)
                .set_arg("first_state", &(starts[0].id));
            }
        }
    }
    if !p.states.iter().any(|s| s.end.is_some()) {
        sink.error("process.no_end", 0, "no state is an end")
            .suggest(Hint::new(
            "mark-ends",
            "mark the final states with end = \"bewilligt\", \"abgelehnt\" or \"zurückgezogen\"",
        ));
        return;
    }
    let mut forward: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut backward: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in good_edges {
        forward.entry(a).or_default().push(b);
        backward.entry(b).or_default().push(a);
    }
    let reach = |from: Vec<&'_ str>, edges: &BTreeMap<&str, Vec<&str>>| -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = from.iter().map(|s| s.to_string()).collect();
        let mut queue: VecDeque<String> = seen.iter().cloned().collect();
        while let Some(n) = queue.pop_front() {
            for next in edges.get(n.as_str()).into_iter().flatten() {
                if seen.insert(next.to_string()) {
                    queue.push_back(next.to_string());
                }
            }
        }
        seen
    };
    if let Some(start) = starts.first() {
        let reachable = reach(vec![start.id.as_str()], &forward);
        for s in &p.states {
            if !reachable.contains(&s.id) {
                sink.error(
                    "process.unreachable_state",
                    s.at,
                    format!(
                        "state \"{}\" cannot be reached from the start \"{}\"",
                        s.id, start.id
                    ),
                )
                .set_arg("state", &s.id)
                .set_arg("start_state", &start.id)
                .suggest(Hint::new(
                    "add-transition-into",
                    "add a transition into it, or remove it",
                ));
            }
        }
    }
    let ends: Vec<&str> = p
        .states
        .iter()
        .filter(|s| s.end.is_some())
        .map(|s| s.id.as_str())
        .collect();
    let can_end = reach(ends, &backward);
    for s in &p.states {
        if !can_end.contains(&s.id) {
            sink.error(
                "process.no_way_to_end",
                s.at,
                format!("from state \"{}\" no end can be reached: a procedure there would never finish", s.id),
            ).set_arg("state", &s.id)
            .suggest(Hint::new("add-transition-to-end", "add a transition towards an end (for example to \"abgelehnt\" or \"zurückgezogen\")"));
        }
    }
}

impl Table<'_> {
    /// `[roles]` as `id = "label"` pairs (or `[roles.id] label = "…"`).
    pub fn keyed_tables_or_strings(
        &mut self,
        key: &str,
        sink: &mut Sink,
    ) -> Vec<(Spanned<String>, String)> {
        let Some(node) = self.take(key) else {
            return Vec::new();
        };
        let spanned::Node::Table(entries) = node.get_ref() else {
            sink.error(
                "toml.wrong_type",
                node.span().start,
                format!("[{key}] must be a table of id = \"label\""),
            )
            .set_arg("variant", "labels")
            .set_arg("key", key);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            match v.get_ref() {
                spanned::Node::String(s) => out.push((k.clone(), s.clone())),
                spanned::Node::Table(_) => {
                    let mut t = Table::new(v, Subject::new(SubjectKind::Role, k.get_ref()))
                        .expect("a table");
                    let label = t.required_string("label", sink);
                    t.finish(&["label"], sink);
                    if let Some(l) = label {
                        out.push((k.clone(), l.into_inner()));
                    }
                }
                other => {
                    sink.error(
                        "toml.wrong_type",
                        v.span().start,
                        format!(
                            "role \"{}\" must be a label in quotes, not {}",
                            k.get_ref(),
                            other.type_name()
                        ),
                    )
                    .set_arg("variant", "role")
                    .set_arg("role", k.get_ref())
                    .set_arg("found", other.type_keyword());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::content::tests::{check_src, codes};
    use super::super::content::DependencyContent;
    use super::*;

    const GOOD: &str = r#"
[process]
title = "Test"

[roles]
antragsteller = "Antragsteller"
sachbearbeitung = "Sachbearbeitung"

[[state]]
id = "eingang"
label = "Eingang"
start = true
deadline = "P14D"

[[state]]
id = "pruefung"
label = "Prüfung"

[[state]]
id = "bewilligt"
label = "Bewilligt"
end = "bewilligt"

[[state]]
id = "abgelehnt"
label = "Abgelehnt"
end = "abgelehnt"

[[transition]]
id = "pruefen"
from = "eingang"
to = "pruefung"
role = "sachbearbeitung"
action = "pruefen"
forms = ["test/antrag"]

[[transition]]
id = "bewilligen"
from = "pruefung"
to = "bewilligt"
role = "sachbearbeitung"
action = "bescheiden"

[[transition]]
id = "ablehnen"
from = "pruefung"
to = "abgelehnt"
role = "sachbearbeitung"
action = "bescheiden"

[[transition]]
id = "zurueckziehen"
from = "eingang"
to = "abgelehnt"
role = "antragsteller"
action = "zurueckziehen"

[[fee]]
id = "gebuehr"
label = "Gebühr"
amount = "30,70"
per = "P1Y"
legal-basis = "GebOSt"
on = "bewilligen"

[[notice]]
id = "bescheid"
label = "Bescheid"
on = "bewilligen"
"#;

    fn run(src: &str) -> Vec<String> {
        codes(&check_src(
            "process",
            src,
            &["test/antrag"],
            &DependencyContent::default(),
        ))
    }

    #[test]
    fn good_process() {
        assert_eq!(run(GOOD), Vec::<String>::new());
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount("30,70").unwrap(), 3070);
        assert_eq!(parse_amount("30.7").unwrap(), 3070);
        assert_eq!(parse_amount("30 €").unwrap(), 3000);
        assert!(parse_amount("30,705").is_err());
        assert!(parse_amount("dreißig").is_err());
    }

    #[test]
    fn graph_rules() {
        // Two starts.
        let src = GOOD.replace("label = \"Prüfung\"", "label = \"Prüfung\"\nstart = true");
        assert_eq!(run(&src), ["process.multiple_starts"]);
        // No start.
        let src = GOOD.replace("start = true\n", "");
        assert_eq!(run(&src), ["process.no_start"]);
        // A state nobody reaches, and one that never ends.
        let src = format!("{GOOD}\n[[state]]\nid = \"archiv\"\nlabel = \"Archiv\"\n");
        assert_eq!(
            run(&src),
            ["process.unreachable_state", "process.no_way_to_end"]
        );
        // Leaving an end.
        let src = format!("{GOOD}\n[[transition]]\nid = \"wieder\"\nfrom = \"abgelehnt\"\nto = \"eingang\"\nrole = \"antragsteller\"\naction = \"einreichen\"\n");
        assert_eq!(run(&src), ["process.transition_from_end"]);
        // No end at all.
        let src = GOOD
            .replace("end = \"bewilligt\"\n", "")
            .replace("end = \"abgelehnt\"\n", "");
        assert_eq!(run(&src), ["process.no_end"]);
        let src = GOOD.replace("start = true", "start = true\nend = \"bewilligt\"");
        assert!(run(&src).contains(&"process.start_is_end".to_string()));
    }

    #[test]
    fn reference_rules() {
        let src = GOOD
            .replacen("to = \"pruefung\"", "to = \"prufung\"", 1)
            .replacen("role = \"antragsteller\"", "role = \"antragstelle\"", 1)
            .replace(
                "on = \"bewilligen\"\n\n[[notice]]",
                "on = \"bewillign\"\n\n[[notice]]",
            )
            .replace("forms = [\"test/antrag\"]", "forms = [\"test/anderer\"]");
        let d = check_src(
            "process",
            &src,
            &["test/antrag"],
            &DependencyContent::default(),
        );
        assert_eq!(
            codes(&d),
            [
                "process.unknown_state",
                "process.form_not_a_dependency",
                "process.unknown_role",
                "process.unused_role",
                "process.unknown_transition",
                // "pruefung" is no longer reached, nor the end after it.
                "process.unreachable_state",
                "process.unreachable_state",
            ]
        );
        assert_eq!(
            d[0].suggestion.as_deref(),
            Some("did you mean \"pruefung\"?")
        );
        assert_eq!(
            d[2].suggestion.as_deref(),
            Some("did you mean \"antragsteller\"?")
        );
        assert_eq!(
            d[4].suggestion.as_deref(),
            Some("did you mean \"bewilligen\"?")
        );
    }

    #[test]
    fn value_rules() {
        let src = GOOD
            .replace("deadline = \"P14D\"", "deadline = \"14 Tage\"")
            .replace("amount = \"30,70\"", "amount = \"dreißig\"")
            .replace("end = \"abgelehnt\"", "end = \"abgelent\"")
            .replace("action = \"zurueckziehen\"", "action = \"zurueckzihen\"")
            .replace("legal-basis = \"GebOSt\"\n", "")
            .replacen("id = \"pruefen\"", "id = \"bewilligen\"", 1);
        let d = check_src(
            "process",
            &src,
            &["test/antrag"],
            &DependencyContent::default(),
        );
        assert_eq!(
            codes(&d),
            [
                "process.invalid_duration",
                "process.invalid_outcome",
                "process.duplicate_id",
                "process.unknown_action",
                "process.invalid_amount",
                "process.fee_without_legal_basis",
                // The first transition is dropped as a duplicate, and only
                // one valid end is left: the graph checks see that.
                "process.unreachable_state",
                "process.no_way_to_end",
                "process.no_way_to_end",
                "process.no_way_to_end",
            ]
        );
        assert_eq!(
            d[1].suggestion.as_deref(),
            Some("did you mean \"abgelehnt\"?")
        );
        assert_eq!(
            d[3].suggestion.as_deref(),
            Some("did you mean \"zurueckziehen\"?")
        );
    }

    #[test]
    fn forms_must_be_forms_when_resolved() {
        let fg =
            "[fieldgroup]\nlabel = \"X\"\n[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n";
        let deps = DependencyContent::resolved_from([("test/antrag", "fieldgroup", fg)]);
        let d = check_src("process", GOOD, &["test/antrag"], &deps);
        assert_eq!(codes(&d), ["process.not_a_form"]);
    }
}
