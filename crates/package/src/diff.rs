//! The semantic diff of two versions of a package: changes at the level of
//! manifest keys, fields, groups, code lists, conditions, states,
//! transitions, roles, fees and notices, each classified major, minor or
//! patch with the reason. The rules are in docs/package-format.md.
//!
//! The contract a form's version stands for is the data it collects: a
//! portal that renders it, a client that submits it, a Fachverfahren that
//! receives it. A change that can make an old submission invalid or an old
//! receiver miss data is major; one that only adds what nobody must use is
//! minor; wording is a patch.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::codelist::{Codelist, CodelistSource};
use super::content::Content;
use super::form::{Body, Form};
use super::manifest::Manifest;
use super::model::{Bound, Condition, Field, FimRef, Group, Item, Text};
use super::process::Process;

/// How large a change is, in semver terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Patch,
    Minor,
    Major,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Patch => "patch",
            Level::Minor => "minor",
            Level::Major => "major",
        })
    }
}

/// What a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Manifest,
    Form,
    Field,
    Group,
    Codelist,
    Condition,
    Role,
    State,
    Transition,
    Fee,
    Notice,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        f.write_str(s.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One change. `path` names the element (`fahrzeug.kennzeichen`, a state
/// id, a manifest key); `property` the changed property, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub area: Area,
    pub path: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    pub level: Level,
    pub reason: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<5} {} {}", self.level, self.area, self.path)?;
        if let Some(p) = &self.property {
            write!(f, " {p}")?;
        }
        match (self.kind, &self.old, &self.new) {
            (ChangeKind::Added, _, _) if self.property.is_none() => write!(f, ": added")?,
            (ChangeKind::Removed, _, _) if self.property.is_none() => write!(f, ": removed")?,
            (_, Some(o), Some(n)) => write!(f, ": {o:?} → {n:?}")?,
            (_, None, Some(n)) => write!(f, ": added {n:?}")?,
            (_, Some(o), None) => write!(f, ": removed {o:?}")?,
            _ => write!(f, ": changed")?,
        }
        write!(f, " ({})", self.reason)
    }
}

/// All changes between two versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub changes: Vec<Change>,
}

impl Diff {
    /// The largest change, `None` when nothing changed.
    pub fn level(&self) -> Option<Level> {
        self.changes.iter().map(|c| c.level).max()
    }

    pub fn count(&self, level: Level) -> usize {
        self.changes.iter().filter(|c| c.level == level).count()
    }

    /// One line: "2 major, 1 minor, 3 patch".
    pub fn summary(&self) -> String {
        if self.changes.is_empty() {
            return "no changes".into();
        }
        [Level::Major, Level::Minor, Level::Patch]
            .iter()
            .map(|l| (self.count(*l), l))
            .filter(|(n, _)| *n > 0)
            .map(|(n, l)| format!("{n} {l}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

struct Out {
    changes: Vec<Change>,
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        area: Area,
        path: &str,
        kind: ChangeKind,
        property: Option<&str>,
        old: Option<String>,
        new: Option<String>,
        level: Level,
        reason: impl Into<String>,
    ) {
        self.changes.push(Change {
            area,
            path: path.to_string(),
            kind,
            property: property.map(str::to_string),
            old,
            new,
            level,
            reason: reason.into(),
        });
    }
    fn added(&mut self, area: Area, path: &str, level: Level, reason: impl Into<String>) {
        self.push(
            area,
            path,
            ChangeKind::Added,
            None,
            None,
            None,
            level,
            reason,
        );
    }
    fn removed(&mut self, area: Area, path: &str, level: Level, reason: impl Into<String>) {
        self.push(
            area,
            path,
            ChangeKind::Removed,
            None,
            None,
            None,
            level,
            reason,
        );
    }
    /// A property that changed, if it did.
    #[allow(clippy::too_many_arguments)]
    fn prop<T: PartialEq>(
        &mut self,
        area: Area,
        path: &str,
        property: &str,
        old: &T,
        new: &T,
        show: impl Fn(&T) -> Option<String>,
        level: Level,
        reason: &str,
    ) {
        if old != new {
            self.push(
                area,
                path,
                ChangeKind::Changed,
                Some(property),
                show(old),
                show(new),
                level,
                reason,
            );
        }
    }
    /// Label, help and other wording: a patch.
    fn text(
        &mut self,
        area: Area,
        path: &str,
        property: &str,
        old: &Option<Text>,
        new: &Option<Text>,
    ) {
        let de = |t: &Option<Text>| t.as_ref().map(|t| t.de.clone());
        let en = |t: &Option<Text>| t.as_ref().and_then(|t| t.en.clone());
        self.prop(
            area,
            path,
            property,
            &de(old),
            &de(new),
            |v| v.clone(),
            Level::Patch,
            "wording only",
        );
        self.prop(
            area,
            path,
            &format!("{property}-en"),
            &en(old),
            &en(new),
            |v| v.clone(),
            Level::Patch,
            "wording only",
        );
    }
    fn fim(&mut self, area: Area, path: &str, old: &Option<FimRef>, new: &Option<FimRef>) {
        let id = |f: &Option<FimRef>| f.as_ref().map(|f| f.id.clone());
        let ver = |f: &Option<FimRef>| f.as_ref().and_then(|f| f.version.clone());
        match (id(old), id(new)) {
            (Some(a), Some(b)) if a != b => self.push(
                area,
                path,
                ChangeKind::Changed,
                Some("fim-id"),
                Some(a),
                Some(b),
                Level::Major,
                "it now stands for a different FIM element, so receivers map it differently",
            ),
            (a, b) if a != b => self.push(
                area,
                path,
                ChangeKind::Changed,
                Some("fim-id"),
                a,
                b,
                Level::Minor,
                "FIM reference added or removed",
            ),
            _ => self.prop(
                area,
                path,
                "fim-version",
                &ver(old),
                &ver(new),
                |v| v.clone(),
                Level::Minor,
                "follows a newer FIM version",
            ),
        }
    }
}

/// Diffs two versions of a package.
pub fn diff(
    old_manifest: &Manifest,
    old: &Content,
    new_manifest: &Manifest,
    new: &Content,
) -> Diff {
    let mut out = Out {
        changes: Vec::new(),
    };
    diff_manifest(old_manifest, new_manifest, &mut out);
    match (old, new) {
        (Content::Form(a), Content::Form(b)) => diff_form(a, b, &mut out),
        (Content::Fieldgroup(a), Content::Fieldgroup(b)) => {
            out.text(Area::Form, "fieldgroup", "label", &a.label, &b.label);
            out.text(Area::Form, "fieldgroup", "help", &a.help, &b.help);
            out.fim(Area::Form, "fieldgroup", &a.fim, &b.fim);
            diff_body(&a.body, &b.body, &mut out);
        }
        (Content::Process(a), Content::Process(b)) => diff_process(a, b, &mut out),
        (a, b) => out.push(
            Area::Manifest,
            "kind",
            ChangeKind::Changed,
            Some("kind"),
            Some(a.kind().to_string()),
            Some(b.kind().to_string()),
            Level::Major,
            "the package is now of another kind",
        ),
    }
    Diff {
        changes: out.changes,
    }
}

fn diff_manifest(a: &Manifest, b: &Manifest, out: &mut Out) {
    let m = Area::Manifest;
    let s = |v: &Option<String>| v.clone();
    out.prop(
        m,
        "name",
        "name",
        &a.full_name(),
        &b.full_name(),
        |v| Some(v.clone()),
        Level::Major,
        "it is another package",
    );
    out.prop(
        m,
        "license",
        "license",
        &a.license,
        &b.license,
        |v| Some(v.clone()),
        Level::Major,
        "users must agree to new terms",
    );
    out.prop(
        m,
        "title",
        "title",
        &a.title,
        &b.title,
        s,
        Level::Patch,
        "wording only",
    );
    out.prop(
        m,
        "description",
        "description",
        &a.description,
        &b.description,
        |v| Some(v.clone()),
        Level::Patch,
        "wording only",
    );
    out.prop(
        m,
        "keywords",
        "keywords",
        &a.keywords,
        &b.keywords,
        |v| Some(v.join(", ")),
        Level::Patch,
        "only changes how it is found",
    );
    out.prop(
        m,
        "themenfeld",
        "themenfeld",
        &a.themenfeld,
        &b.themenfeld,
        s,
        Level::Patch,
        "only changes how it is found",
    );
    out.prop(
        m,
        "leika",
        "leika",
        &a.leika,
        &b.leika,
        s,
        Level::Minor,
        "the service is filed under another Leistungsschlüssel",
    );
    out.prop(
        m,
        "readme",
        "readme",
        &a.readme,
        &b.readme,
        s,
        Level::Patch,
        "documentation only",
    );
    out.prop(
        m,
        "forked-from",
        "forked-from",
        &a.forked_from.as_ref().map(|f| f.to_string()),
        &b.forked_from.as_ref().map(|f| f.to_string()),
        s,
        Level::Patch,
        "provenance only; the content changes are listed on their own",
    );
    let da: BTreeMap<String, String> = a
        .dependencies
        .iter()
        .map(|d| (d.full_name(), d.req.to_string()))
        .collect();
    let db: BTreeMap<String, String> = b
        .dependencies
        .iter()
        .map(|d| (d.full_name(), d.req.to_string()))
        .collect();
    for (name, req) in &da {
        match db.get(name) {
            None => out.removed(
                m,
                &format!("dependency {name}"),
                Level::Minor,
                "no longer used; what used it is listed on its own",
            ),
            Some(r) if r != req => out.push(
                m,
                &format!("dependency {name}"),
                ChangeKind::Changed,
                Some("version"),
                Some(req.clone()),
                Some(r.clone()),
                Level::Minor,
                "included content may change with the dependency",
            ),
            _ => {}
        }
    }
    for name in db.keys().filter(|n| !da.contains_key(*n)) {
        out.added(
            m,
            &format!("dependency {name}"),
            Level::Minor,
            "a new dependency; what uses it is listed on its own",
        );
    }
}

fn diff_form(a: &Form, b: &Form, out: &mut Out) {
    let f = Area::Form;
    out.text(f, "form", "title", &a.title, &b.title);
    out.fim(f, "form", &a.fim, &b.fim);
    match (a.vertrauensniveau, b.vertrauensniveau) {
        (Some(x), Some(y)) if y > x => out.push(
            f,
            "form",
            ChangeKind::Changed,
            Some("vertrauensniveau"),
            Some(x.to_string()),
            Some(y.to_string()),
            Level::Major,
            "applicants identified at the old level can no longer apply",
        ),
        (x, y) if x != y => out.push(
            f,
            "form",
            ChangeKind::Changed,
            Some("vertrauensniveau"),
            x.map(|v| v.to_string()),
            y.map(|v| v.to_string()),
            Level::Minor,
            "the form asks for less assurance",
        ),
        _ => {}
    }
    for acc in a.accounts.iter().filter(|x| !b.accounts.contains(x)) {
        out.push(
            f,
            "form",
            ChangeKind::Removed,
            Some("accounts"),
            Some(acc.as_str().into()),
            None,
            Level::Major,
            "applicants with this account can no longer apply",
        );
    }
    for acc in b.accounts.iter().filter(|x| !a.accounts.contains(x)) {
        out.push(
            f,
            "form",
            ChangeKind::Added,
            Some("accounts"),
            None,
            Some(acc.as_str().into()),
            Level::Minor,
            "more applicants can apply",
        );
    }
    diff_body(&a.body, &b.body, out);
}

fn flatten<'a>(items: &'a [Item], scope: &str, out: &mut BTreeMap<String, &'a Item>) {
    for item in items {
        let path = if scope.is_empty() {
            item.id().to_string()
        } else {
            format!("{scope}.{}", item.id())
        };
        if let Item::Group(g) = item {
            flatten(&g.items, &path, out);
        }
        out.insert(path, item);
    }
}

/// Whether a field must be filled in, at least sometimes.
fn can_be_required(f: &Field) -> bool {
    f.required || f.required_when.is_some()
}

fn group_demands(g: &Group) -> bool {
    g.occurs.min > 0
        && (g.include.is_some()
            || g.items.iter().any(|i| match i {
                Item::Field(f) => can_be_required(f),
                Item::Group(g) => group_demands(g),
            }))
}

fn diff_body(a: &Body, b: &Body, out: &mut Out) {
    let mut fa = BTreeMap::new();
    let mut fb = BTreeMap::new();
    flatten(&a.items, "", &mut fa);
    flatten(&b.items, "", &mut fb);
    // An element inside a group that is itself added or removed is covered
    // by that group's change.
    let parent_in = |path: &str, other: &BTreeMap<String, &Item>| -> bool {
        match path.rsplit_once('.') {
            Some((parent, _)) => other.contains_key(parent),
            None => true,
        }
    };
    for (path, item) in &fa {
        match fb.get(path) {
            None if parent_in(path, &fb) => match item {
                Item::Field(f) if f.ty.is_input() => out.removed(
                    Area::Field,
                    path,
                    Level::Major,
                    "submissions and receivers lose this value",
                ),
                Item::Field(_) => out.removed(Area::Field, path, Level::Patch, "static text only"),
                Item::Group(_) => out.removed(
                    Area::Group,
                    path,
                    Level::Major,
                    "submissions and receivers lose these values",
                ),
            },
            None => {}
            Some(other) => match (item, other) {
                (Item::Field(x), Item::Field(y)) => diff_field(path, x, y, out),
                (Item::Group(x), Item::Group(y)) => diff_group(path, x, y, out),
                _ => out.push(
                    Area::Field,
                    path,
                    ChangeKind::Changed,
                    Some("kind"),
                    None,
                    None,
                    Level::Major,
                    "a field became a group or a group a field",
                ),
            },
        }
    }
    for (path, item) in &fb {
        if fa.contains_key(path) || !parent_in(path, &fa) {
            continue;
        }
        match item {
            Item::Field(f) if can_be_required(f) => out.added(
                Area::Field,
                path,
                Level::Major,
                "a new field that must be filled in: old submissions lack it",
            ),
            Item::Field(_) => out.added(Area::Field, path, Level::Minor, "a new optional field"),
            Item::Group(g) if group_demands(g) => out.added(
                Area::Group,
                path,
                Level::Major,
                "a new group with values that must be filled in",
            ),
            Item::Group(_) => out.added(Area::Group, path, Level::Minor, "a new optional group"),
        }
    }
    diff_codelists(&a.codelists, &b.codelists, out);
}

fn cond(c: &Option<Condition>) -> Option<String> {
    c.as_ref().map(Condition::canonical)
}

fn diff_condition(
    area: Area,
    path: &str,
    key: &str,
    a: &Option<Condition>,
    b: &Option<Condition>,
    demanding: bool,
    out: &mut Out,
) {
    let (x, y) = (cond(a), cond(b));
    if x == y {
        return;
    }
    let (kind, level, reason) = match (&x, &y, key) {
        (None, Some(_), "required-when") => (
            ChangeKind::Added,
            Level::Major,
            "the field is now required in some cases",
        ),
        (Some(_), None, "required-when") => (
            ChangeKind::Removed,
            Level::Minor,
            "the field is no longer required in those cases",
        ),
        (Some(_), Some(_), "required-when") => (
            ChangeKind::Changed,
            Level::Major,
            "the field may now be required where it was not",
        ),
        (None, Some(_), _) => (ChangeKind::Added, Level::Minor, "shown in fewer cases"),
        (Some(_), _, _) if demanding => (
            if y.is_none() {
                ChangeKind::Removed
            } else {
                ChangeKind::Changed
            },
            Level::Major,
            "a required value may now be asked for where it was not",
        ),
        _ => (
            if y.is_none() {
                ChangeKind::Removed
            } else {
                ChangeKind::Changed
            },
            Level::Minor,
            "shown in other cases; nothing more is required",
        ),
    };
    out.push(area, path, kind, Some(key), x, y, level, reason);
    let _ = Area::Condition;
}

fn bound_level(
    old: &Option<Bound>,
    new: &Option<Bound>,
    is_min: bool,
) -> Option<(Level, &'static str)> {
    match (old, new) {
        (a, b) if a == b => None,
        (None, Some(_)) => Some((
            Level::Major,
            "a new limit may refuse values that were accepted",
        )),
        (Some(_), None) => Some((Level::Minor, "the limit is gone; more values are accepted")),
        (Some(a), Some(b)) => match b.partial_cmp(a) {
            Some(o) if (o == std::cmp::Ordering::Less) == is_min => Some((
                Level::Minor,
                "the limit is wider; every old value is still accepted",
            )),
            Some(_) => Some((
                Level::Major,
                "the limit is narrower; values that were accepted are refused",
            )),
            None => Some((
                Level::Major,
                "the limit changed in a way that cannot be compared",
            )),
        },
        _ => None,
    }
}

fn diff_field(path: &str, a: &Field, b: &Field, out: &mut Out) {
    let fa = Area::Field;
    if a.ty != b.ty {
        let (level, reason) = if a.ty.widens_to(b.ty) {
            (Level::Minor, "the new type accepts every old value")
        } else {
            (
                Level::Major,
                "values of the old type may not fit the new one",
            )
        };
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("type"),
            Some(a.ty.as_str().into()),
            Some(b.ty.as_str().into()),
            level,
            reason,
        );
    }
    match (a.required, b.required) {
        (false, true) => out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("required"),
            Some("false".into()),
            Some("true".into()),
            Level::Major,
            "an optional field became required: old submissions may lack it",
        ),
        (true, false) => out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("required"),
            Some("true".into()),
            Some("false".into()),
            Level::Minor,
            "a required field became optional",
        ),
        _ => {}
    }
    diff_condition(
        Area::Condition,
        path,
        "shown-when",
        &a.shown_when,
        &b.shown_when,
        can_be_required(b),
        out,
    );
    diff_condition(
        Area::Condition,
        path,
        "required-when",
        &a.required_when,
        &b.required_when,
        true,
        out,
    );
    out.text(fa, path, "label", &a.label, &b.label);
    out.text(fa, path, "help", &a.help, &b.help);
    out.text(fa, path, "text", &a.text, &b.text);
    let (ca, cb) = (&a.constraints, &b.constraints);
    let num = |v: &Option<u64>| v.map(|n| n.to_string());
    let len = |old: &Option<u64>, new: &Option<u64>, is_min: bool| {
        bound_level(
            &old.map(|n| Bound::Number(n as f64)),
            &new.map(|n| Bound::Number(n as f64)),
            is_min,
        )
    };
    if let Some((level, reason)) = len(&ca.min_length, &cb.min_length, true) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("min-length"),
            num(&ca.min_length),
            num(&cb.min_length),
            level,
            reason,
        );
    }
    if let Some((level, reason)) = len(&ca.max_length, &cb.max_length, false) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("max-length"),
            num(&ca.max_length),
            num(&cb.max_length),
            level,
            reason,
        );
    }
    let show = |b: &Option<Bound>| b.as_ref().map(|b| b.to_string());
    if let Some((level, reason)) = bound_level(&ca.min, &cb.min, true) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("min"),
            show(&ca.min),
            show(&cb.min),
            level,
            reason,
        );
    }
    if let Some((level, reason)) = bound_level(&ca.max, &cb.max, false) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("max"),
            show(&ca.max),
            show(&cb.max),
            level,
            reason,
        );
    }
    if ca.pattern != cb.pattern {
        let (level, reason) = pattern_level(&ca.pattern, &cb.pattern, &a.examples);
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("pattern"),
            ca.pattern.clone(),
            cb.pattern.clone(),
            level,
            reason,
        );
    }
    for m in ca
        .media_types
        .iter()
        .filter(|m| !cb.media_types.contains(m))
    {
        out.push(
            fa,
            path,
            ChangeKind::Removed,
            Some("media-types"),
            Some(m.clone()),
            None,
            Level::Major,
            "files of this type are refused now",
        );
    }
    for m in cb
        .media_types
        .iter()
        .filter(|m| !ca.media_types.contains(m))
    {
        out.push(
            fa,
            path,
            ChangeKind::Added,
            Some("media-types"),
            None,
            Some(m.clone()),
            Level::Minor,
            "more kinds of files are accepted",
        );
    }
    if ca.max_size != cb.max_size {
        let smaller = match (ca.max_size, cb.max_size) {
            (Some(x), Some(y)) => y < x,
            (None, Some(_)) => true,
            _ => false,
        };
        let (level, reason) = if smaller {
            (Level::Major, "files that were accepted are too large now")
        } else {
            (Level::Minor, "larger files are accepted")
        };
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("max-size"),
            num(&ca.max_size),
            num(&cb.max_size),
            level,
            reason,
        );
    }
    let cl = |f: &Field| f.codelist.as_ref().map(|c| c.get_ref().clone());
    out.prop(
        fa,
        path,
        "codelist",
        &cl(a),
        &cl(b),
        |v| v.clone(),
        Level::Major,
        "the values to choose from come from another list",
    );
    out.prop(
        fa,
        path,
        "examples",
        &a.examples,
        &b.examples,
        |v| Some(v.join(", ")),
        Level::Patch,
        "documentation only",
    );
    out.fim(fa, path, &a.fim, &b.fim);
}

/// A changed pattern is minor when every example of the old version still
/// matches the new pattern, major otherwise (or without examples: the
/// check cannot show that old values are still accepted).
fn pattern_level(
    old: &Option<String>,
    new: &Option<String>,
    old_examples: &[String],
) -> (Level, &'static str) {
    match (old, new) {
        (_, None) => (
            Level::Minor,
            "the pattern is gone; more values are accepted",
        ),
        (None, Some(_)) => (
            Level::Major,
            "a new pattern may refuse values that were accepted",
        ),
        (Some(_), Some(p)) => {
            if old_examples.is_empty() {
                return (Level::Major, "the pattern changed and the field has no examples to show that old values still match; add examples = [...] to the field");
            }
            match regex::Regex::new(&format!("^(?:{p})$")) {
                Ok(re) if old_examples.iter().all(|e| re.is_match(e)) => (
                    Level::Minor,
                    "the pattern changed; every example of the old version still matches",
                ),
                Ok(_) => (
                    Level::Major,
                    "an example of the old version no longer matches the pattern",
                ),
                Err(_) => (Level::Major, "the new pattern does not compile"),
            }
        }
    }
}

fn diff_group(path: &str, a: &Group, b: &Group, out: &mut Out) {
    let g = Area::Group;
    if a.occurs != b.occurs {
        let tighter = b.occurs.min > a.occurs.min
            || match (a.occurs.max, b.occurs.max) {
                (None, Some(_)) => true,
                (Some(x), Some(y)) => y < x,
                _ => false,
            };
        let (level, reason) = if tighter {
            (
                Level::Major,
                "fewer or more entries are demanded than before",
            )
        } else {
            (Level::Minor, "the group allows more than before")
        };
        out.push(
            g,
            path,
            ChangeKind::Changed,
            Some("occurs"),
            Some(a.occurs.to_string()),
            Some(b.occurs.to_string()),
            level,
            reason,
        );
    }
    let inc = |x: &Group| x.include.as_ref().map(|s| s.get_ref().clone());
    out.prop(
        g,
        path,
        "include",
        &inc(a),
        &inc(b),
        |v| v.clone(),
        Level::Major,
        "the group takes its fields from another field group",
    );
    diff_condition(
        Area::Condition,
        path,
        "shown-when",
        &a.shown_when,
        &b.shown_when,
        group_demands(b),
        out,
    );
    out.text(g, path, "label", &a.label, &b.label);
    out.text(g, path, "help", &a.help, &b.help);
    out.fim(g, path, &a.fim, &b.fim);
}

fn diff_codelists(a: &[Codelist], b: &[Codelist], out: &mut Out) {
    let c = Area::Codelist;
    for x in a {
        let Some(y) = b.iter().find(|y| y.id == x.id) else {
            out.removed(
                c,
                &x.id,
                Level::Major,
                "fields that used it lose their values",
            );
            continue;
        };
        out.prop(
            c,
            &x.id,
            "label",
            &x.label,
            &y.label,
            |v| v.clone(),
            Level::Patch,
            "wording only",
        );
        match (&x.source, &y.source) {
            (CodelistSource::Inline(ca), CodelistSource::Inline(cb)) => {
                for code in ca {
                    match cb.iter().find(|k| k.code == code.code) {
                        None => out.push(
                            c,
                            &x.id,
                            ChangeKind::Removed,
                            Some("code"),
                            Some(code.code.clone()),
                            None,
                            Level::Major,
                            "submissions with this value are invalid now",
                        ),
                        Some(k) => {
                            let p = format!("{}#{}", x.id, code.code);
                            out.prop(
                                c,
                                &p,
                                "label",
                                &code.label,
                                &k.label,
                                |v| Some(v.clone()),
                                Level::Patch,
                                "wording only",
                            );
                            out.prop(
                                c,
                                &p,
                                "label-en",
                                &code.label_en,
                                &k.label_en,
                                |v| v.clone(),
                                Level::Patch,
                                "wording only",
                            );
                        }
                    }
                }
                for code in cb.iter().filter(|k| !ca.iter().any(|o| o.code == k.code)) {
                    out.push(
                        c,
                        &x.id,
                        ChangeKind::Added,
                        Some("code"),
                        None,
                        Some(code.code.clone()),
                        Level::Minor,
                        "a new value to choose",
                    );
                }
            }
            (
                CodelistSource::XRepository {
                    urn: ua,
                    version: va,
                },
                CodelistSource::XRepository {
                    urn: ub,
                    version: vb,
                },
            ) => {
                out.prop(
                    c,
                    &x.id,
                    "urn",
                    ua,
                    ub,
                    |v| Some(v.clone()),
                    Level::Major,
                    "another code list",
                );
                out.prop(
                    c,
                    &x.id,
                    "version",
                    va,
                    vb,
                    |v| Some(v.clone()),
                    Level::Minor,
                    "a newer version of the same code list",
                );
            }
            _ => out.push(
                c,
                &x.id,
                ChangeKind::Changed,
                Some("source"),
                None,
                None,
                Level::Major,
                "switched between inline codes and an XRepository list",
            ),
        }
    }
    for y in b.iter().filter(|y| !a.iter().any(|x| x.id == y.id)) {
        out.added(c, &y.id, Level::Minor, "a new code list");
    }
}

fn diff_process(a: &Process, b: &Process, out: &mut Out) {
    out.text(Area::Form, "process", "title", &a.title, &b.title);
    for r in &a.roles {
        match b.roles.iter().find(|x| x.id == r.id) {
            None => out.removed(
                Area::Role,
                &r.id,
                Level::Major,
                "whoever acted in this role has no place any more",
            ),
            Some(x) => out.prop(
                Area::Role,
                &r.id,
                "label",
                &r.label,
                &x.label,
                |v| Some(v.clone()),
                Level::Patch,
                "wording only",
            ),
        }
    }
    for r in b
        .roles
        .iter()
        .filter(|r| !a.roles.iter().any(|x| x.id == r.id))
    {
        out.added(Area::Role, &r.id, Level::Minor, "a new role");
    }
    let s = Area::State;
    for st in &a.states {
        let Some(x) = b.states.iter().find(|x| x.id == st.id) else {
            out.removed(
                s,
                &st.id,
                Level::Major,
                "procedures in this state have nowhere to be",
            );
            continue;
        };
        out.prop(
            s,
            &st.id,
            "start",
            &st.start,
            &x.start,
            |v| Some(v.to_string()),
            Level::Major,
            "procedures start elsewhere",
        );
        out.prop(
            s,
            &st.id,
            "end",
            &st.end,
            &x.end,
            |v| v.map(|o| o.as_str().to_string()),
            Level::Major,
            "the outcome of the procedure changes",
        );
        out.prop(
            s,
            &st.id,
            "deadline",
            &st.deadline,
            &x.deadline,
            |v| v.clone(),
            Level::Minor,
            "another deadline",
        );
        out.text(s, &st.id, "label", &st.label, &x.label);
    }
    for st in b
        .states
        .iter()
        .filter(|x| !a.states.iter().any(|o| o.id == x.id))
    {
        out.added(s, &st.id, Level::Minor, "a new state");
    }
    let t = Area::Transition;
    for tr in &a.transitions {
        let Some(x) = b.transitions.iter().find(|x| x.id == tr.id) else {
            out.removed(
                t,
                &tr.id,
                Level::Major,
                "a step that could be taken is gone",
            );
            continue;
        };
        let g = |s: &toml::Spanned<String>| s.get_ref().clone();
        out.prop(
            t,
            &tr.id,
            "from",
            &g(&tr.from),
            &g(&x.from),
            |v| Some(v.clone()),
            Level::Major,
            "the step starts from another state",
        );
        out.prop(
            t,
            &tr.id,
            "to",
            &g(&tr.to),
            &g(&x.to),
            |v| Some(v.clone()),
            Level::Major,
            "the step leads to another state",
        );
        out.prop(
            t,
            &tr.id,
            "role",
            &g(&tr.role),
            &g(&x.role),
            |v| Some(v.clone()),
            Level::Major,
            "another role takes the step",
        );
        out.prop(
            t,
            &tr.id,
            "action",
            &tr.action,
            &x.action,
            |v| Some(v.clone()),
            Level::Minor,
            "the step is described as another action",
        );
        out.prop(
            t,
            &tr.id,
            "deadline",
            &tr.deadline,
            &x.deadline,
            |v| v.clone(),
            Level::Minor,
            "another deadline",
        );
        out.text(t, &tr.id, "label", &tr.label, &x.label);
        let fa: Vec<String> = tr.forms.iter().map(g).collect();
        let fb: Vec<String> = x.forms.iter().map(g).collect();
        for f in fa.iter().filter(|f| !fb.contains(f)) {
            out.push(
                t,
                &tr.id,
                ChangeKind::Removed,
                Some("forms"),
                Some(f.clone()),
                None,
                Level::Major,
                "a form is no longer used at this step",
            );
        }
        for f in fb.iter().filter(|f| !fa.contains(f)) {
            out.push(
                t,
                &tr.id,
                ChangeKind::Added,
                Some("forms"),
                None,
                Some(f.clone()),
                Level::Minor,
                "a form is used at this step",
            );
        }
    }
    for tr in b
        .transitions
        .iter()
        .filter(|x| !a.transitions.iter().any(|o| o.id == x.id))
    {
        out.added(t, &tr.id, Level::Minor, "a new step");
    }
    let f = Area::Fee;
    for fee in &a.fees {
        let Some(x) = b.fees.iter().find(|x| x.id == fee.id) else {
            out.removed(f, &fee.id, Level::Minor, "a fee is no longer charged");
            continue;
        };
        let eur = |c: &i64| Some(format!("{},{:02} €", c / 100, c % 100));
        out.prop(
            f,
            &fee.id,
            "amount",
            &fee.amount_cents,
            &x.amount_cents,
            eur,
            Level::Minor,
            "another amount is charged",
        );
        out.prop(
            f,
            &fee.id,
            "per",
            &fee.per,
            &x.per,
            |v| v.clone(),
            Level::Minor,
            "charged for another period",
        );
        out.prop(
            f,
            &fee.id,
            "legal-basis",
            &fee.legal_basis,
            &x.legal_basis,
            |v| v.clone(),
            Level::Patch,
            "citation only",
        );
        let on = |v: &Option<toml::Spanned<String>>| v.as_ref().map(|s| s.get_ref().clone());
        out.prop(
            f,
            &fee.id,
            "on",
            &on(&fee.on),
            &on(&x.on),
            |v| v.clone(),
            Level::Minor,
            "charged at another step",
        );
        out.text(f, &fee.id, "label", &fee.label, &x.label);
    }
    for fee in b
        .fees
        .iter()
        .filter(|x| !a.fees.iter().any(|o| o.id == x.id))
    {
        out.added(f, &fee.id, Level::Minor, "a new fee");
    }
    let n = Area::Notice;
    for no in &a.notices {
        let Some(x) = b.notices.iter().find(|x| x.id == no.id) else {
            out.removed(
                n,
                &no.id,
                Level::Major,
                "a notice that was produced is gone",
            );
            continue;
        };
        out.prop(
            n,
            &no.id,
            "on",
            no.on.get_ref(),
            x.on.get_ref(),
            |v| Some(v.clone()),
            Level::Minor,
            "produced at another step",
        );
        out.prop(
            n,
            &no.id,
            "legal-basis",
            &no.legal_basis,
            &x.legal_basis,
            |v| v.clone(),
            Level::Patch,
            "citation only",
        );
        out.text(n, &no.id, "label", &no.label, &x.label);
    }
    for no in b
        .notices
        .iter()
        .filter(|x| !a.notices.iter().any(|o| o.id == x.id))
    {
        out.added(n, &no.id, Level::Minor, "a new notice");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::parse_content;
    use crate::content::tests::manifest_with_deps;
    use crate::manifest::PackageKind;

    const HEAD: &str = "[form]\ntitle = \"T\"\nvertrauensniveau = \"substanziell\"\naccounts = [\"BundID\", \"ELSTER\"]\n[codelist.zone]\nlabel = \"Z\"\ncodes = [{ code = \"A\", label = \"A\" }, { code = \"B\", label = \"B\" }]\n";
    const FIELDS: &str = "[[field]]\nid = \"zone\"\ntype = \"select\"\nlabel = \"Zone\"\ncodelist = \"zone\"\n[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nmax-length = 50\npattern = \"[A-Z].*\"\n";

    fn form_diff(old: &str, new: &str) -> Vec<(String, Option<String>, Level)> {
        let m = manifest_with_deps("form", &[]);
        let a = parse_content(PackageKind::Form, old).unwrap();
        let b = parse_content(PackageKind::Form, new).unwrap();
        diff(&m, &a, &m, &b)
            .changes
            .into_iter()
            .map(|c| (c.path, c.property, c.level))
            .collect()
    }

    fn one(old: &str, new: &str) -> Level {
        let d = form_diff(old, new);
        assert_eq!(d.len(), 1, "{d:?}");
        d[0].2
    }

    #[test]
    fn field_changes() {
        let base = format!("{HEAD}{FIELDS}");
        assert!(form_diff(&base, &base).is_empty());
        // Removing a field is major; adding an optional one minor, a required one major.
        assert_eq!(one(&base, &base.replace("[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nmax-length = 50\npattern = \"[A-Z].*\"\n", "")), Level::Major);
        let extra = "[[field]]\nid = \"neu\"\ntype = \"text\"\nlabel = \"Neu\"\n";
        assert_eq!(one(&base, &format!("{base}{extra}")), Level::Minor);
        assert_eq!(
            one(&base, &format!("{base}{extra}required = true\n")),
            Level::Major
        );
        // Optional → required major, back minor.
        let req = base.replace("label = \"Name\"\n", "label = \"Name\"\nrequired = true\n");
        assert_eq!(one(&base, &req), Level::Major);
        assert_eq!(one(&req, &base), Level::Minor);
        // A new label is a patch.
        assert_eq!(
            one(
                &base,
                &base.replace("label = \"Name\"", "label = \"Nachname\"")
            ),
            Level::Patch
        );
        // Lengths: narrower major, wider minor.
        assert_eq!(
            one(&base, &base.replace("max-length = 50", "max-length = 40")),
            Level::Major
        );
        assert_eq!(
            one(&base, &base.replace("max-length = 50", "max-length = 60")),
            Level::Minor
        );
        // A changed pattern without examples cannot be shown to be compatible.
        assert_eq!(
            one(&base, &base.replace("[A-Z].*", "[A-Z][a-z]*")),
            Level::Major
        );
        // Type: widening minor, otherwise major.
        assert_eq!(
            one(
                &base,
                &base.replace("type = \"text\"", "type = \"multiline-text\"")
            ),
            Level::Minor
        );
        let zone_multi = base.replace("type = \"select\"", "type = \"multi-select\"");
        assert_eq!(one(&base, &zone_multi), Level::Minor);
        assert_eq!(one(&zone_multi, &base), Level::Major);
    }

    #[test]
    fn condition_and_codelist_changes() {
        let base = format!("{HEAD}{FIELDS}");
        let shown = base.replace(
            "max-length = 50",
            "max-length = 50\nshown-when = \"zone == 'A'\"",
        );
        assert_eq!(one(&base, &shown), Level::Minor);
        // Only spacing differs: no change.
        let spaced = base.replace(
            "max-length = 50",
            "max-length = 50\nshown-when = \"(zone=='A')\"",
        );
        assert!(form_diff(&shown, &spaced).is_empty());
        let req_when = base.replace(
            "max-length = 50",
            "max-length = 50\nrequired-when = \"zone == 'A'\"",
        );
        assert_eq!(one(&base, &req_when), Level::Major);
        assert_eq!(one(&req_when, &base), Level::Minor);
        // Codes: removed major, added minor, relabelled patch.
        let fewer = base.replace(", { code = \"B\", label = \"B\" }", "");
        assert_eq!(one(&base, &fewer), Level::Major);
        assert_eq!(one(&fewer, &base), Level::Minor);
        assert_eq!(
            one(
                &base,
                &base.replace("label = \"B\" }", "label = \"Zone B\" }")
            ),
            Level::Patch
        );
    }

    #[test]
    fn form_level_and_group_changes() {
        let base = format!("{HEAD}{FIELDS}");
        assert_eq!(
            one(&base, &base.replace("\"substanziell\"", "\"niedrig\"")),
            Level::Minor
        );
        let d = form_diff(&base, &base.replace(", \"ELSTER\"", ""));
        assert_eq!(d, [("form".into(), Some("accounts".into()), Level::Major)]);
        let g = "[[group]]\nid = \"kinder\"\nlabel = \"Kinder\"\noccurs = \"0:5\"\n[[group.field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nrequired = true\n";
        let with_group = format!("{base}{g}");
        // The group is one change, not one per field; optional group → minor.
        assert_eq!(
            form_diff(&base, &with_group),
            [("kinder".into(), None, Level::Minor)]
        );
        assert_eq!(
            one(&with_group, &with_group.replace("0:5", "1:5")),
            Level::Major
        );
        assert_eq!(
            one(&with_group, &with_group.replace("0:5", "0:*")),
            Level::Minor
        );
        assert_eq!(
            one(&with_group, &with_group.replace("0:5", "0:3")),
            Level::Major
        );
    }

    #[test]
    fn process_changes() {
        let p = "[process]\ntitle = \"P\"\n[roles]\nsb = \"SB\"\n[[state]]\nid = \"a\"\nlabel = \"A\"\nstart = true\n[[state]]\nid = \"b\"\nlabel = \"B\"\nend = \"bewilligt\"\n[[transition]]\nid = \"t\"\nfrom = \"a\"\nto = \"b\"\nrole = \"sb\"\naction = \"bescheiden\"\n[[fee]]\nid = \"g\"\nlabel = \"G\"\namount = \"30.70\"\nlegal-basis = \"X\"\non = \"t\"\n";
        let m = manifest_with_deps("process", &[]);
        let run = |new: &str| -> Vec<(String, Option<String>, Level)> {
            let a = parse_content(PackageKind::Process, p).unwrap();
            let b = parse_content(PackageKind::Process, new).unwrap();
            diff(&m, &a, &m, &b)
                .changes
                .into_iter()
                .map(|c| (c.path, c.property, c.level))
                .collect()
        };
        assert!(run(p).is_empty());
        assert_eq!(
            run(&p.replace("end = \"bewilligt\"", "end = \"abgelehnt\"")),
            [("b".into(), Some("end".into()), Level::Major)]
        );
        assert_eq!(
            run(&p.replace("\"30.70\"", "\"32.00\"")),
            [("g".into(), Some("amount".into()), Level::Minor)]
        );
        assert_eq!(
            run(&p.replace("label = \"B\"", "label = \"Bewilligt\"")),
            [("b".into(), Some("label".into()), Level::Patch)]
        );
        let more = format!("{p}[[state]]\nid = \"c\"\nlabel = \"C\"\nend = \"abgelehnt\"\n[[transition]]\nid = \"u\"\nfrom = \"a\"\nto = \"c\"\nrole = \"sb\"\naction = \"ablehnen\"\n");
        assert_eq!(
            run(&more).iter().map(|c| c.2).collect::<Vec<_>>(),
            [Level::Minor, Level::Minor]
        );
        let back = {
            let a = parse_content(PackageKind::Process, &more).unwrap();
            let b = parse_content(PackageKind::Process, p).unwrap();
            diff(&m, &a, &m, &b).level()
        };
        assert_eq!(back, Some(Level::Major));
    }
}
