//! Forms (`form.toml`): what an applicant fills in.
//!
//! ```toml
//! [form]
//! title = "Antrag auf Bewohnerparkausweis"
//! vertrauensniveau = "substanziell"
//! accounts = ["BundID", "Online-Ausweis", "EU-eID"]
//!
//! [[group]]
//! id = "antragsteller"
//! label = "Antragstellende Person"
//! include = "fim/natuerliche-person"
//!
//! [[group]]
//! id = "fahrzeug"
//! label = "Fahrzeug"
//!
//! [[group.field]]
//! id = "kennzeichen"
//! type = "text"
//! label = "Amtliches Kennzeichen"
//! pattern = "[A-ZÄÖÜ]{1,3}-[A-Z]{1,2} [1-9][0-9]{0,3}[EH]?"
//! examples = ["KS-AB 123"]
//! ```
//!
//! The checks that need the whole form (conditions, code lists, includes,
//! cycles) live here too and are shared with field groups.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

pub use super::body::Body;
use super::codelist::{self, CodelistRef};
use super::deps::Dependencies;
use super::diagnostics::{nearest, Hint, Subject, SubjectKind};
use super::expr::{self, Env, Problem, Span, Ty};
use super::manifest::{Manifest, PackageKind};
use super::model::{
    finish_described, read_fim, read_items, read_legal_basis, read_text, walk, Condition,
    FieldType, FimRef, Item, LegalBasis, Text,
};
use super::spanned::{self, Sink, Suggest, Table};

/// Vertrauensniveau: the eIDAS level of assurance of the applicant's
/// identification that a form needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Vertrauensniveau {
    Niedrig,
    Substanziell,
    Hoch,
}

impl Vertrauensniveau {
    pub const ALL: [(&'static str, Vertrauensniveau); 3] = [
        ("niedrig", Vertrauensniveau::Niedrig),
        ("substanziell", Vertrauensniveau::Substanziell),
        ("hoch", Vertrauensniveau::Hoch),
    ];
    pub fn as_str(self) -> &'static str {
        Self::ALL[self as usize].0
    }
}

impl fmt::Display for Vertrauensniveau {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The user accounts (Nutzerkonten) and means of identification a form
/// accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Account {
    BundId,
    Elster,
    OnlineAusweis,
    EuEid,
    MeinUnternehmenskonto,
}

impl Account {
    pub const ALL: [(&'static str, Account); 5] = [
        ("BundID", Account::BundId),
        ("ELSTER", Account::Elster),
        ("Online-Ausweis", Account::OnlineAusweis),
        ("EU-eID", Account::EuEid),
        ("Mein Unternehmenskonto", Account::MeinUnternehmenskonto),
    ];
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
    /// The highest Vertrauensniveau the account can give.
    pub fn max_level(self) -> Vertrauensniveau {
        match self {
            Account::Elster | Account::MeinUnternehmenskonto => Vertrauensniveau::Substanziell,
            Account::BundId | Account::OnlineAusweis | Account::EuEid => Vertrauensniveau::Hoch,
        }
    }
}

/// Ableitungsmodifikation (FIM): how far a fork may adapt the form.
/// `alles` (0) anything, `erweitern` (1) only extend, `einschraenken` (2)
/// only restrict, `keine` (3) not at all; wording may always change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ableitung {
    Alles,
    Erweitern,
    Einschraenken,
    Keine,
}

impl Ableitung {
    pub const ALL: [(&'static str, Ableitung); 4] = [
        ("alles", Ableitung::Alles),
        ("erweitern", Ableitung::Erweitern),
        ("einschraenken", Ableitung::Einschraenken),
        ("keine", Ableitung::Keine),
    ];
    pub fn as_str(self) -> &'static str {
        Self::ALL[self as usize].0
    }
    pub fn allows_extending(self) -> bool {
        matches!(self, Ableitung::Alles | Ableitung::Erweitern)
    }
    pub fn allows_restricting(self) -> bool {
        matches!(self, Ableitung::Alles | Ableitung::Einschraenken)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub title: Option<Text>,
    pub vertrauensniveau: Option<Vertrauensniveau>,
    pub accounts: Vec<Account>,
    /// The norms the form rests on (FIM's `bezug` of the Stammdatenschema).
    pub legal_basis: Vec<LegalBasis>,
    pub fim: Option<FimRef>,
    /// `ableitungsmodifikation`; `None` is `alles`.
    pub ableitung: Option<Ableitung>,
    pub body: Body,
}

const FORM_FILE_KEYS: [&str; 4] = ["form", "field", "group", "codelist"];
const FORM_KEYS: [&str; 5] = [
    "title",
    "title-en",
    "vertrauensniveau",
    "accounts",
    "ableitungsmodifikation",
];

/// Reads `form.toml`; every problem found goes to the sink.
pub fn read(sink: &mut Sink) -> Option<Form> {
    let root = match sink.parse_root() {
        Ok(r) => r,
        Err(d) => {
            sink.found.push(d);
            return None;
        }
    };
    let mut top = Table::new(&root, Subject::new(SubjectKind::File, "form.toml"))
        .expect("the root is a table");
    let mut form = Form {
        title: None,
        vertrauensniveau: None,
        accounts: Vec::new(),
        legal_basis: Vec::new(),
        fim: None,
        ableitung: None,
        body: Body::default(),
    };
    match top.take("form") {
        None => {
            sink.error("form.missing_form_table", 0, "form.toml has no [form] table")
                .suggest(Hint::new("start-form", "start with [form], title = \"…\" and vertrauensniveau = \"niedrig\" | \"substanziell\" | \"hoch\""));
        }
        Some(node) => {
            if let Some(mut t) = Table::expect(node, Subject::new(SubjectKind::Table, "form"), sink)
            {
                form.title = read_text(&mut t, "title", sink);
                if form.title.is_none() {
                    sink.error("form.missing_title", t.at, "[form] has no title");
                }
                form.legal_basis = read_legal_basis(&mut t, sink);
                form.fim = read_fim(&mut t, 'S', sink);
                form.ableitung = read_ableitung(&mut t, sink);
                let level_at = t.key_at("vertrauensniveau").unwrap_or(t.at);
                match t.string("vertrauensniveau", sink) {
                    None => {
                        sink.error("form.missing_vertrauensniveau", t.at, "[form] does not say which Vertrauensniveau it needs")
                            .suggest(Hint::new("vertrauensniveau-values", "vertrauensniveau = \"niedrig\", \"substanziell\" or \"hoch\" (eIDAS level of assurance)"));
                    }
                    Some(s) => match Vertrauensniveau::ALL
                        .iter()
                        .find(|(n, _)| *n == s.get_ref().to_lowercase())
                    {
                        Some((_, v)) => form.vertrauensniveau = Some(*v),
                        None => {
                            let d = sink.error(
                                "form.invalid_vertrauensniveau",
                                s.span().start,
                                format!("Vertrauensniveau \"{}\" is not one of niedrig, substanziell, hoch", s.get_ref()),
                            ).set_arg("value", s.get_ref());
                            let names = ["niedrig", "substanziell", "hoch"];
                            let lower = s.get_ref().to_lowercase();
                            let english = match lower.as_str() {
                                "low" => Some("niedrig"),
                                "substantial" => Some("substanziell"),
                                "high" => Some("hoch"),
                                _ => None,
                            };
                            if let Some(b) = english.or_else(|| nearest(&lower, &names)) {
                                d.suggest(Hint::did_you_mean(b));
                            }
                        }
                    },
                }
                if let Some(accounts) = t.strings("accounts", sink) {
                    let names: Vec<&str> = Account::ALL.iter().map(|(n, _)| *n).collect();
                    for a in accounts {
                        let found = Account::ALL
                            .iter()
                            .find(|(n, _)| n.eq_ignore_ascii_case(a.get_ref()))
                            .map(|(_, acc)| *acc);
                        match found {
                            Some(acc) if form.accounts.contains(&acc) => {
                                sink.error(
                                    "form.duplicate_account",
                                    a.span().start,
                                    format!("account \"{}\" is listed twice", a.get_ref()),
                                )
                                .set_arg("account", a.get_ref());
                            }
                            Some(acc) => {
                                if let Some(level) = form.vertrauensniveau {
                                    if acc.max_level() < level {
                                        sink.error(
                                            "form.account_below_trust_level",
                                            a.span().start,
                                            format!(
                                                "{} reaches at most Vertrauensniveau {}, but the form needs {level}",
                                                acc.as_str(),
                                                acc.max_level()
                                            ),
                                        ).set_arg("account", acc.as_str()).set_arg("max_level", acc.max_level()).set_arg("required_level", level);
                                    }
                                }
                                form.accounts.push(acc);
                            }
                            None => {
                                let d = sink
                                    .error(
                                        "form.unknown_account",
                                        a.span().start,
                                        format!("\"{}\" is not a known account", a.get_ref()),
                                    )
                                    .set_arg("account", a.get_ref());
                                let lower: Vec<String> =
                                    names.iter().map(|n| n.to_lowercase()).collect();
                                let lower_refs: Vec<&str> =
                                    lower.iter().map(String::as_str).collect();
                                match nearest(&a.get_ref().to_lowercase(), &lower_refs) {
                                    Some(b) => {
                                        let i =
                                            lower_refs.iter().position(|x| *x == b).unwrap_or(0);
                                        d.suggest(Hint::did_you_mean(names[i]));
                                    }
                                    None => d.suggest(Hint::choices(
                                        "known-accounts",
                                        "accounts",
                                        &names,
                                    )),
                                }
                            }
                        }
                    }
                }
                if form.accounts.is_empty()
                    && form
                        .vertrauensniveau
                        .is_some_and(|v| v > Vertrauensniveau::Niedrig)
                {
                    sink.error(
                        "form.no_accounts",
                        level_at,
                        format!(
                            "the form needs Vertrauensniveau {} but accepts no account to reach it",
                            form.vertrauensniveau.map(|v| v.as_str()).unwrap_or("")
                        ),
                    )
                    .set_arg(
                        "required_level",
                        form.vertrauensniveau.map(|v| v.as_str()).unwrap_or(""),
                    )
                    .suggest(Hint::snippet(
                        "accounts = [\"BundID\", \"Online-Ausweis\", \"EU-eID\"]",
                    ));
                }
                finish_described(t, &FORM_KEYS, sink);
            }
        }
    }
    form.body = read_body(&mut top, sink);
    top.finish(&FORM_FILE_KEYS, sink);
    if form.body.items.is_empty() && !sink.has_errors() {
        sink.error("form.empty", 0, "the form has no fields")
            .suggest(Hint::new("add-fields", "add [[field]] or [[group]] tables"));
    }
    Some(form)
}

/// `ableitungsmodifikation = "erweitern"` (or the FIM code, 0 to 3).
fn read_ableitung(t: &mut Table, sink: &mut Sink) -> Option<Ableitung> {
    let node = t.take("ableitungsmodifikation")?;
    let found = match node.get_ref() {
        spanned::Node::String(s) => Ableitung::ALL.iter().find(|(n, _)| *n == s.as_str()),
        spanned::Node::Integer(i) => usize::try_from(*i).ok().and_then(|i| Ableitung::ALL.get(i)),
        _ => None,
    };
    if found.is_none() {
        sink.error(
            "form.invalid_ableitungsmodifikation",
            node.span().start,
            "ableitungsmodifikation must be \"alles\", \"erweitern\", \"einschraenken\" or \"keine\" (FIM codes 0 to 3)",
        );
    }
    found.map(|(_, a)| *a)
}

/// Reads the items and code lists of a form or field group file.
pub(crate) fn read_body(top: &mut Table, sink: &mut Sink) -> Body {
    let lists = top.keyed_tables("codelist", sink);
    let codelists = codelist::read_all(&lists, sink);
    let items = read_items(top, "", sink);
    Body { items, codelists }
}

/// What a condition can name.
#[derive(Debug, Clone)]
struct Sym<'a> {
    ty: Ty<'a>,
    /// Repeatable groups around the item, and the item itself if it is one.
    repeat: Vec<String>,
    is_repeatable_group: bool,
}

struct Symbols<'a> {
    map: HashMap<String, Sym<'a>>,
    /// Paths of groups whose included field group is not known.
    opaque: Vec<String>,
}

impl<'a> Symbols<'a> {
    fn build(body: &'a Body, deps: &'a dyn Dependencies) -> Symbols<'a> {
        let mut s = Symbols {
            map: HashMap::new(),
            opaque: Vec::new(),
        };
        s.add(&body.items, "", &[], body, deps, 0);
        s
    }

    fn add(
        &mut self,
        items: &'a [Item],
        scope: &str,
        repeat: &[String],
        owner: &'a Body,
        deps: &'a dyn Dependencies,
        depth: usize,
    ) {
        for item in items {
            let path = if scope.is_empty() {
                item.id().to_string()
            } else {
                format!("{scope}.{}", item.id())
            };
            match item {
                Item::Field(f) => {
                    let ty = field_ty(
                        f.ty,
                        f.codelist.as_ref().map(|c| c.get_ref().as_str()),
                        owner,
                        deps,
                    );
                    self.map.insert(
                        path,
                        Sym {
                            ty,
                            repeat: repeat.to_vec(),
                            is_repeatable_group: false,
                        },
                    );
                }
                Item::Group(g) => {
                    let mut inner = repeat.to_vec();
                    let repeatable = g.occurs.is_repeatable();
                    if repeatable {
                        inner.push(path.clone());
                    }
                    self.map.insert(
                        path.clone(),
                        Sym {
                            ty: Ty::Group { repeatable },
                            repeat: inner.clone(),
                            is_repeatable_group: repeatable,
                        },
                    );
                    match &g.include {
                        Some(inc) => match deps.fieldgroup(inc.get_ref()) {
                            Some(fg) if depth < 8 => {
                                self.add(&fg.items, &path, &inner, fg, deps, depth + 1)
                            }
                            _ => self.opaque.push(path),
                        },
                        None => self.add(&g.items, &path, &inner, owner, deps, depth),
                    }
                }
            }
        }
    }
}

fn field_ty<'a>(
    ty: FieldType,
    codelist: Option<&str>,
    owner: &'a Body,
    deps: &'a dyn Dependencies,
) -> Ty<'a> {
    let codes = || -> Option<&'a [String]> {
        match CodelistRef::parse(codelist?) {
            CodelistRef::Package(pkg) => Some(&deps.codelist_package(pkg)?.keys),
            CodelistRef::Own(id) => owner.codelist(id)?.known_codes(),
            CodelistRef::InDependency { package, id } => {
                deps.body(package)?.codelist(id)?.known_codes()
            }
        }
    };
    match ty {
        FieldType::Boolean => Ty::Bool,
        FieldType::Integer | FieldType::Decimal | FieldType::Money => Ty::Number,
        FieldType::Date => Ty::Date,
        FieldType::Time => Ty::Time,
        FieldType::DateTime => Ty::DateTime,
        FieldType::Select => Ty::Code(codes()),
        FieldType::MultiSelect => Ty::Codes(codes()),
        FieldType::File | FieldType::StaticText => Ty::File,
        _ => Ty::Text,
    }
}

/// The environment of one condition: its scope is the group it sits in.
struct ScopeEnv<'s, 'a> {
    syms: &'s Symbols<'a>,
    scope: &'s str,
    /// Paths named, filled while checking: for the cycle check.
    named: std::cell::RefCell<Vec<String>>,
}

impl<'a> ScopeEnv<'_, 'a> {
    fn resolve(&self, name: &str) -> Option<(String, &Sym<'a>)> {
        let mut scope = self.scope;
        loop {
            let path = if scope.is_empty() {
                name.to_string()
            } else {
                format!("{scope}.{name}")
            };
            if let Some(sym) = self.syms.map.get(&path) {
                return Some((path, sym));
            }
            if scope.is_empty() {
                return None;
            }
            scope = scope.rsplit_once('.').map(|(a, _)| a).unwrap_or("");
        }
    }

    fn in_opaque(&self, name: &str) -> bool {
        let mut scope = self.scope;
        loop {
            let path = if scope.is_empty() {
                name.to_string()
            } else {
                format!("{scope}.{name}")
            };
            if self
                .syms
                .opaque
                .iter()
                .any(|o| path.starts_with(&format!("{o}.")))
            {
                return true;
            }
            if scope.is_empty() {
                return false;
            }
            scope = scope.rsplit_once('.').map(|(a, _)| a).unwrap_or("");
        }
    }

    fn inside(&self, group: &str) -> bool {
        self.scope == group || self.scope.starts_with(&format!("{group}."))
    }
}

impl<'a> Env<'a> for ScopeEnv<'_, 'a> {
    fn lookup(&self, name: &str, span: Span, via_count: bool) -> Result<Ty<'a>, Problem> {
        let Some((path, sym)) = self.resolve(name) else {
            if self.in_opaque(name) {
                return Ok(Ty::Unknown);
            }
            let mut p = Problem::new(
                "form.unknown_field_in_condition",
                span,
                format!("unknown field \"{name}\" in condition"),
            )
            .arg("field", name);
            // Suggest among the full paths and among the ids visible here.
            // Each candidate: what to compare with, and what to propose
            // (the shortest name that reaches the field from here).
            let mut candidates: Vec<(String, String)> = Vec::new();
            for k in self.syms.map.keys() {
                let short = k.rsplit('.').next().unwrap_or(k);
                let shown = match self.resolve(short) {
                    Some((p, _)) if p == *k => short.to_string(),
                    _ => k.clone(),
                };
                candidates.push((k.clone(), shown.clone()));
                candidates.push((short.to_string(), shown));
            }
            let refs: Vec<&str> = candidates.iter().map(|(c, _)| c.as_str()).collect();
            if let Some(best) = nearest(name, &refs) {
                let shown = &candidates
                    .iter()
                    .find(|(c, _)| c == best)
                    .expect("a candidate")
                    .1;
                p.suggestion = expr::hinted(Hint::did_you_mean(shown));
            }
            return Err(p);
        };
        self.named.borrow_mut().push(path.clone());
        let outside: Vec<&String> = sym
            .repeat
            .iter()
            .filter(|r| !(via_count && sym.is_repeatable_group && **r == path))
            .filter(|r| !self.inside(r))
            .collect();
        if let Some(group) = outside.first() {
            return Err(Problem::new(
                "form.condition_on_repeated_field",
                span,
                format!(
                    "\"{name}\" lies inside the repeatable group \"{group}\", so outside it this condition cannot tell which entry is meant"
                ),
            ).arg("field", name).arg("group", group)
            .with_suggestion(Hint::new("count-repeated", format!("use count({group}) or move the condition into \"{group}\"")).arg("group", group)));
        }
        Ok(sym.ty)
    }
}

/// The checks that need the whole body: code list references, includes,
/// conditions and their cycles, unused code lists.
pub(crate) fn check_body(
    body: &Body,
    manifest: &Manifest,
    deps: &dyn Dependencies,
    sink: &mut Sink,
) {
    let dep_names: BTreeSet<String> = manifest
        .dependencies
        .iter()
        .map(|d| d.full_name())
        .collect();
    let syms = Symbols::build(body, deps);
    let refs = References {
        body,
        dep_names: &dep_names,
        deps,
    };
    let mut used_lists = BTreeSet::new();
    walk(&body.items, "", &mut |path, item| match item {
        Item::Field(f) => {
            if let Some(cl) = &f.codelist {
                refs.codelist(path, cl, &mut used_lists, sink);
            }
        }
        Item::Group(g) => {
            if let Some(inc) = &g.include {
                check_include(path, inc, &dep_names, deps, sink);
            }
        }
    });
    for cl in &body.codelists {
        if !used_lists.contains(&cl.id) {
            sink.warning(
                "codelist.unused",
                cl.at,
                format!("code list \"{}\" is declared but no field uses it", cl.id),
            )
            .set_arg("codelist", &cl.id);
        }
    }
    let edges = check_conditions(body, &syms, sink);
    check_cycles(&edges, sink);
}

/// What a field's code list reference is resolved against.
struct References<'b> {
    body: &'b Body,
    dep_names: &'b BTreeSet<String>,
    deps: &'b dyn Dependencies,
}

impl References<'_> {
    /// A code list of the body (noted in `used`), or `ns/name#id` of a
    /// dependency.
    fn codelist(
        &self,
        path: &str,
        cl: &toml::Spanned<String>,
        used: &mut BTreeSet<String>,
        sink: &mut Sink,
    ) {
        let at = cl.span().start;
        match CodelistRef::parse(cl.get_ref()) {
            CodelistRef::Package(pkg) => self.package_codelist(path, pkg, at, sink),
            CodelistRef::Own(_) => {
                if self.body.codelist(cl.get_ref()).is_some() {
                    used.insert(cl.get_ref().clone());
                    return;
                }
                let ids: Vec<&str> = self.body.codelists.iter().map(|c| c.id.as_str()).collect();
                let d = sink
                    .error(
                        "form.unknown_codelist",
                        at,
                        format!(
                            "field \"{path}\" uses code list \"{}\", which is not declared",
                            cl.get_ref()
                        ),
                    )
                    .set_arg("variant", "undeclared")
                    .set_arg("path", path)
                    .set_arg("codelist", cl.get_ref());
                match nearest(cl.get_ref(), &ids) {
                    Some(b) => d.suggest(Hint::did_you_mean(b)),
                    None => d.suggest(
                        Hint::new(
                            "declare-codelist",
                            format!(
                                "declare it with [codelist.{0}], name a code list package (\"ns/name\") or take one from a dependency: \"ns/name#{0}\"",
                                cl.get_ref()
                            ),
                        )
                        .arg("codelist", cl.get_ref()),
                    ),
                }
            }
            CodelistRef::InDependency { package, id } => {
                self.dependency_codelist(path, package, id, at, sink)
            }
        }
    }

    /// `codelist = "ns/name"`: a dependency that is a code list package.
    fn package_codelist(&self, path: &str, pkg: &str, at: usize, sink: &mut Sink) {
        if !self.is_dependency(path, pkg, at, sink) {
            return;
        }
        match self.deps.kind(pkg) {
            Some(PackageKind::Codelist) | None => {}
            Some(other) => {
                sink.error(
                    "form.unknown_codelist",
                    at,
                    format!("\"{pkg}\" is a {other}, not a code list package"),
                )
                .set_arg("variant", "not_a_codelist")
                .set_arg("package", pkg)
                .set_arg("package_kind", other);
            }
        }
    }

    /// Whether the package a field takes its code list from is a
    /// dependency; says so when it is not.
    fn is_dependency(&self, path: &str, pkg: &str, at: usize, sink: &mut Sink) -> bool {
        let is = self.dep_names.contains(pkg);
        if !is {
            sink.error(
                "form.codelist_not_a_dependency",
                at,
                format!(
                    "field \"{path}\" takes a code list from \"{pkg}\", which is not a dependency"
                ),
            )
            .set_arg("path", path)
            .set_arg("package", pkg)
            .suggest(Hint::add_dependency(pkg));
        }
        is
    }

    fn dependency_codelist(&self, path: &str, pkg: &str, id: &str, at: usize, sink: &mut Sink) {
        if !self.is_dependency(path, pkg, at, sink) {
            return;
        }
        if let Some(dep_body) = self.deps.body(pkg) {
            if dep_body.codelist(id).is_none() {
                let ids: Vec<&str> = dep_body.codelists.iter().map(|c| c.id.as_str()).collect();
                let d = sink
                    .error(
                        "form.unknown_codelist",
                        at,
                        format!("\"{pkg}\" has no code list \"{id}\""),
                    )
                    .set_arg("variant", "not_in_dependency")
                    .set_arg("package", pkg)
                    .set_arg("codelist", id);
                if let Some(b) = nearest(id, &ids) {
                    d.suggest(Hint::did_you_mean(format!("{pkg}#{b}")));
                }
            }
        } else if self.deps.kind(pkg) == Some(PackageKind::Codelist) {
            sink.error(
                "form.unknown_codelist",
                at,
                format!("\"{pkg}\" is a code list package: name it without \"#{id}\""),
            )
            .set_arg("variant", "package")
            .set_arg("package", pkg)
            .suggest(Hint::did_you_mean(pkg));
        } else if self.deps.kind(pkg).is_some() {
            sink.error(
                "form.unknown_codelist",
                at,
                format!("\"{pkg}\" is a process; it has no code lists"),
            )
            .set_arg("variant", "process")
            .set_arg("package", pkg);
        }
    }
}

/// A group's `include`: a dependency, and a field group.
fn check_include(
    path: &str,
    inc: &toml::Spanned<String>,
    dep_names: &BTreeSet<String>,
    deps: &dyn Dependencies,
    sink: &mut Sink,
) {
    let name = inc.get_ref();
    if !dep_names.contains(name) {
        let d = sink
            .error(
                "form.include_not_a_dependency",
                inc.span().start,
                format!("group \"{path}\" includes \"{name}\", which is not a dependency"),
            )
            .set_arg("path", path)
            .set_arg("package", name);
        let names: Vec<&str> = dep_names.iter().map(String::as_str).collect();
        match nearest(name, &names) {
            Some(b) => d.suggest(Hint::did_you_mean(b)),
            None => d.suggest(Hint::add_dependency(name)),
        }
        return;
    }
    match deps.kind(name) {
        Some(PackageKind::Fieldgroup) | None => {}
        Some(other) => {
            sink.error(
                "form.include_not_a_fieldgroup",
                inc.span().start,
                format!(
                    "group \"{path}\" includes \"{name}\", which is a {other}, not a field group"
                ),
            )
            .set_arg("path", path)
            .set_arg("package", name)
            .set_arg("package_kind", other);
        }
    }
}

/// Conditions: types and names. Returns which item depends on which
/// (with where the condition is written), for the cycle check.
fn check_conditions(
    body: &Body,
    syms: &Symbols,
    sink: &mut Sink,
) -> HashMap<String, Vec<(String, usize)>> {
    let mut edges: HashMap<String, Vec<(String, usize)>> = HashMap::new();
    let mut problems = Vec::new();
    let mut check_condition =
        |owner: &str, scope: &str, key: &str, c: &Condition, sink: &mut Sink| {
            let Some(e) = &c.expr else { return };
            let env = ScopeEnv {
                syms,
                scope,
                named: Default::default(),
            };
            problems.clear();
            expr::check(e, &env, &mut problems);
            for p in problems.drain(..) {
                let d = sink.error(
                    p.code,
                    c.at + p.span.start,
                    format!("{key} of \"{owner}\": {}", p.message),
                );
                d.args = p.args;
                d.set_arg("key", key).set_arg("path", owner);
                if let Some(s) = p.suggestion {
                    d.suggest(*s);
                }
            }
            let named = env.named.into_inner();
            edges
                .entry(owner.to_string())
                .or_default()
                .extend(named.into_iter().map(|n| (n, c.at)));
        };
    walk(&body.items, "", &mut |path, item| {
        let scope = path.rsplit_once('.').map(|(a, _)| a).unwrap_or("");
        match item {
            Item::Field(f) => {
                for (key, c) in [
                    ("shown-when", &f.shown_when),
                    ("required-when", &f.required_when),
                ] {
                    if let Some(c) = c {
                        check_condition(path, scope, key, c, sink);
                    }
                }
            }
            Item::Group(g) => {
                if let Some(c) = &g.shown_when {
                    check_condition(path, scope, "shown-when", c, sink);
                }
            }
        }
    });
    edges
}

/// A condition must not depend, directly or through the groups around the
/// fields it names, on the item it belongs to.
fn check_cycles(edges: &HashMap<String, Vec<(String, usize)>>, sink: &mut Sink) {
    // An item also depends on the visibility of the groups around it.
    let deps_of = |node: &str| -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = edges.get(node).cloned().unwrap_or_default();
        if let Some((parent, _)) = node.rsplit_once('.') {
            out.push((parent.to_string(), usize::MAX));
        }
        out
    };
    let mut owners: Vec<&String> = edges.keys().collect();
    owners.sort();
    let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in owners {
        // Depth-first search for a way back to `start`.
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        let mut at = None;
        while let Some((node, trail)) = stack.pop() {
            for (next, pos) in deps_of(&node) {
                if trail.len() == 1 && pos != usize::MAX {
                    at.get_or_insert(pos);
                }
                if next == *start {
                    let mut cycle = trail.clone();
                    cycle.push(next);
                    let mut key = cycle[..cycle.len() - 1].to_vec();
                    key.sort();
                    if reported.insert(key) {
                        sink.error(
                            "form.condition_cycle",
                            at.unwrap_or(0),
                            format!(
                                "the conditions depend on each other in a circle: {}",
                                cycle.join(" → ")
                            ),
                        )
                        .set_arg("cycle", cycle.join(" → "))
                        .suggest(Hint::new(
                            "no-self-condition",
                            "a field cannot be shown or required depending on itself",
                        ));
                    }
                    stack.clear();
                    break;
                }
                if seen.insert(next.clone()) {
                    let mut t = trail.clone();
                    t.push(next.clone());
                    stack.push((next, t));
                }
            }
        }
    }
}

/// Checks a form against its manifest and its resolved dependencies.
pub fn check(form: &Form, manifest: &Manifest, deps: &dyn Dependencies, sink: &mut Sink) {
    check_body(&form.body, manifest, deps, sink);
}

#[cfg(test)]
mod tests {
    use super::super::content::tests::{check_src, codes, manifest_with_deps};
    use super::super::content::DependencyContent;

    const HEAD: &str =
        "[form]\ntitle = \"Test\"\nvertrauensniveau = \"substanziell\"\naccounts = [\"BundID\"]\n";

    fn form_codes(body: &str) -> Vec<String> {
        codes(&check_src(
            "form",
            &format!("{HEAD}{body}"),
            &[],
            &DependencyContent::default(),
        ))
    }

    /// A fixed value is a value of its field's type, within its limits,
    /// on a field that takes one; written back, diffed and exported.
    #[test]
    fn fixed_values() {
        let field = |ty: &str, extra: &str, fixed: &str| {
            format!("[[field]]\nid = \"f\"\ntype = \"{ty}\"\nlabel = \"F\"\n{extra}fixed = \"{fixed}\"\n")
        };
        for (ty, extra, fixed) in [
            ("text", "", "Kassel"),
            ("text", "pattern = \"[A-Z]{2}\"\n", "KS"),
            ("integer", "", "3"),
            ("money", "", "30.70"),
            ("date", "", "2025-01-31"),
            ("boolean", "", "true"),
        ] {
            assert!(
                form_codes(&field(ty, extra, fixed)).is_empty(),
                "{ty} {fixed}"
            );
        }
        for (ty, extra, fixed) in [
            ("integer", "", "drei"),
            ("money", "", "1e3"),
            ("date", "", "31.01.2025"),
            ("boolean", "", "ja"),
            ("text", "pattern = \"[A-Z]{2}\"\n", "Kassel"),
            ("text", "max-length = 3\n", "Kassel"),
        ] {
            assert_eq!(
                form_codes(&field(ty, extra, fixed)),
                ["model.invalid_fixed"],
                "{ty} {fixed}"
            );
        }
        let file = field("file", "media-types = [\"application/pdf\"]\n", "x");
        assert_eq!(form_codes(&file), ["model.constraint_not_applicable"]);

        let src = format!("{HEAD}{}", field("text", "", "Kassel"));
        let Ok(crate::content::Content::Form(f)) =
            crate::content::parse_content(crate::PackageKind::Form, &src)
        else {
            panic!("a form")
        };
        let written = crate::write::write_form(&f);
        assert!(written.contains("fixed = \"Kassel\""), "{written}");
        let m = manifest_with_deps("form", &[]);
        let other = crate::content::parse_content(
            crate::PackageKind::Form,
            &src.replace("Kassel", "Darmstadt"),
        )
        .unwrap();
        let d = crate::diff::diff(&m, &crate::content::Content::Form(f.clone()), &m, &other);
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].level, crate::diff::Level::Major);
        let schema = crate::interop::json_schema::json_schema(
            &m,
            &crate::content::Content::Form(f),
            &DependencyContent::default(),
            "https://r.example",
        )
        .unwrap();
        assert_eq!(schema["properties"]["f"]["const"], "Kassel");
        assert_eq!(schema["properties"]["f"]["readOnly"], true);
    }

    #[test]
    fn good_form_has_no_problems() {
        let body = r#"
[codelist.zone]
label = "Zonen"
codes = [{ code = "A", label = "Zone A" }, { code = "B", label = "Zone B" }]

[[field]]
id = "halter"
type = "boolean"
label = "Sind Sie Halter?"

[[field]]
id = "zone"
type = "select"
label = "Zone"
codelist = "zone"

[[field]]
id = "nachweis"
type = "file"
label = "Nachweis"
media-types = ["application/pdf"]
max-size = "5 MB"
shown-when = "halter == false && zone in [\"A\", \"B\"]"
required-when = "!halter"
"#;
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &[],
            &DependencyContent::default(),
        );
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn form_table_rules() {
        let d = check_src(
            "form",
            "[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n",
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(codes(&d), ["form.missing_form_table"]);
        let src = "[form]\ntitle = \"T\"\nvertrauensniveau = \"substanzell\"\naccounts = [\"BundId\", \"Elstr\"]\n[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n";
        let d = check_src("form", src, &[], &DependencyContent::default());
        assert_eq!(
            codes(&d),
            ["form.invalid_vertrauensniveau", "form.unknown_account"]
        );
        assert_eq!(
            d[0].suggestion.as_deref(),
            Some("did you mean \"substanziell\"?")
        );
        assert_eq!(d[1].suggestion.as_deref(), Some("did you mean \"ELSTER\"?"));
        assert_eq!((d[0].line, d[0].column), (3, 20));
        let src = "[form]\ntitle = \"T\"\nvertrauensniveau = \"hoch\"\naccounts = [\"ELSTER\", \"BundID\", \"BundID\"]\n[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n";
        let d = check_src("form", src, &[], &DependencyContent::default());
        assert_eq!(
            codes(&d),
            ["form.account_below_trust_level", "form.duplicate_account"]
        );
        assert!(d[0]
            .message
            .contains("ELSTER reaches at most Vertrauensniveau substanziell"));
        let src = "[form]\nvertrauensniveau = \"hoch\"\n[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n";
        let d = check_src("form", src, &[], &DependencyContent::default());
        assert_eq!(codes(&d), ["form.missing_title", "form.no_accounts"]);
        let d = check_src(
            "form",
            "[form]\ntitle = \"T\"\nvertrauensniveau = \"niedrig\"\n",
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(codes(&d), ["form.empty"]);
        let d = check_src(
            "form",
            "[form]\ntitle = \"T\"\n",
            &[],
            &DependencyContent::default(),
        );
        assert!(codes(&d).contains(&"form.missing_vertrauensniveau".to_string()));
    }

    #[test]
    fn unknown_field_in_condition_suggests_the_nearest() {
        let body = r#"
[[group]]
id = "fahrzeug"
label = "Fahrzeug"

[[group.field]]
id = "kennzeichen"
type = "text"
label = "Kennzeichen"

[[group.field]]
id = "hinweis"
type = "static-text"
text = "Bitte prüfen"
shown-when = "is_set(kennzeichn)"
"#;
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(codes(&d), ["form.unknown_field_in_condition"]);
        assert_eq!(
            d[0].message,
            "shown-when of \"fahrzeug.hinweis\": unknown field \"kennzeichn\" in condition"
        );
        assert_eq!(
            d[0].suggestion.as_deref(),
            Some("did you mean \"kennzeichen\"?")
        );
        // Line 19 of the whole text, column of "kennzeichn" inside the string.
        assert_eq!((d[0].line, d[0].column), (19, 22));
    }

    #[test]
    fn condition_types_codes_and_syntax() {
        let body = r#"
[codelist.zone]
label = "Zonen"
codes = [{ code = "A", label = "A" }, { code = "B", label = "B" }]

[[field]]
id = "zone"
type = "select"
label = "Zone"
codelist = "zone"

[[field]]
id = "anzahl"
type = "integer"
label = "Anzahl"
shown-when = "zone in [\"A\", \"C\"]"

[[field]]
id = "x"
type = "text"
label = "X"
shown-when = "anzahl == \"drei\""

[[field]]
id = "y"
type = "text"
label = "Y"
shown-when = "anzahl"

[[field]]
id = "z"
type = "text"
label = "Z"
shown-when = "anzahl = 3"

[[field]]
id = "w"
type = "text"
label = "W"
shown-when = "zone && anzahl > 2"
"#;
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(
            codes(&d),
            [
                "expr.syntax",
                "expr.unknown_code",
                "expr.type_mismatch",
                "expr.not_boolean",
                "expr.type_mismatch"
            ]
        );
        assert_eq!(d[0].suggestion.as_deref(), Some("compare with \"==\""));
        assert_eq!(d[1].suggestion.as_deref(), Some("codes: A, B"));
    }

    #[test]
    fn repeated_fields_and_cycles() {
        let body = r#"
[[group]]
id = "kinder"
label = "Kinder"
occurs = "0:*"

[[group.field]]
id = "name"
type = "text"
label = "Name"

[[group.field]]
id = "schule"
type = "text"
label = "Schule"
shown-when = "is_set(name)"

[[field]]
id = "a"
type = "boolean"
label = "A"
shown-when = "b"

[[field]]
id = "b"
type = "boolean"
label = "B"
shown-when = "a && count(kinder) > 0"

[[field]]
id = "c"
type = "text"
label = "C"
shown-when = "kinder.name == \"Max\""
"#;
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(
            codes(&d),
            ["form.condition_on_repeated_field", "form.condition_cycle"]
        );
        assert!(d[1].message.contains("a → b → a"), "{}", d[1].message);
        assert_eq!(
            d[0].suggestion.as_deref(),
            Some("use count(kinder) or move the condition into \"kinder\"")
        );
    }

    #[test]
    fn group_condition_on_its_own_content_is_a_cycle() {
        let body = r#"
[[group]]
id = "g"
label = "G"
shown-when = "g.x"

[[group.field]]
id = "x"
type = "boolean"
label = "X"
"#;
        assert_eq!(form_codes(body), ["form.condition_cycle"]);
    }

    #[test]
    fn codelists_and_includes() {
        let body = r#"
[codelist.zone]
label = "Zonen"
codes = [{ code = "A", label = "A" }, { code = "A", label = "nochmal" }]

[codelist.leer]
label = "Leer"

[codelist.staat]
urn = "staat"

[[field]]
id = "zone"
type = "select"
label = "Zone"
codelist = "zonen"

[[field]]
id = "geschlecht"
type = "select"
label = "Geschlecht"
codelist = "fim/natuerliche-person#geschlecht"

[[group]]
id = "anschrift"
label = "Anschrift"
include = "fim/anschrift-inland"
"#;
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(
            codes(&d),
            [
                "codelist.duplicate_code",
                "codelist.empty",
                "codelist.invalid_urn",
                "codelist.missing_version",
                "form.unknown_codelist",
                "form.codelist_not_a_dependency",
                "form.include_not_a_dependency",
                "codelist.unused",
            ]
        );
        assert_eq!(d[4].suggestion.as_deref(), Some("did you mean \"zone\"?"));
    }

    #[test]
    fn included_fields_are_checked_when_the_dependency_is_resolved() {
        let fg = "[fieldgroup]\nlabel = \"Anschrift\"\n[codelist.land]\nlabel = \"L\"\ncodes = [{ code = \"DE\", label = \"Deutschland\" }]\n[[field]]\nid = \"plz\"\ntype = \"postal-code\"\nlabel = \"PLZ\"\n[[field]]\nid = \"land\"\ntype = \"select\"\nlabel = \"Land\"\ncodelist = \"land\"\n";
        let deps = DependencyContent::resolved_from([("fim/anschrift-inland", "fieldgroup", fg)]);
        let body = r#"
[[group]]
id = "anschrift"
label = "Anschrift"
include = "fim/anschrift-inland"

[[field]]
id = "a"
type = "text"
label = "A"
shown-when = "anschrift.plz == \"34117\" && anschrift.land == \"FR\" && anschrift.ort == \"x\""
"#;
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &["fim/anschrift-inland"],
            &deps,
        );
        assert_eq!(
            codes(&d),
            ["expr.unknown_code", "form.unknown_field_in_condition"]
        );
        // Unresolved dependency: not checked inside, no false alarms.
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &["fim/anschrift-inland"],
            &DependencyContent::default(),
        );
        assert_eq!(codes(&d), Vec::<String>::new());
        // Resolved but missing: reported.
        let d = check_src(
            "form",
            &format!("{HEAD}{body}"),
            &["fim/anschrift-inland"],
            &DependencyContent::resolved_from([]),
        );
        assert_eq!(codes(&d), ["content.unresolved_dependency"]);
        let _ = manifest_with_deps("form", &[]);
    }
}
