//! Changes of a form's or field group's body: the form's own settings, its
//! elements matched by path, conditions and groups.

use std::collections::BTreeMap;

use super::codelist::diff_codelists;
use super::field::diff_field;
use super::records::{by_id, Paired};
use super::{Area, ChangeKind, Level, Out};
use crate::form::{Body, Form};
use crate::model::{Condition, Field, Group, Item};

pub(super) fn diff_form(a: &Form, b: &Form, out: &mut Out) {
    let f = Area::Form;
    out.text(f, "form", "title", &a.title, &b.title);
    out.legal_basis(f, "form", &a.legal_basis, &b.legal_basis);
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
pub(super) fn can_be_required(f: &Field) -> bool {
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

pub(super) fn diff_body(a: &Body, b: &Body, out: &mut Out) {
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
    // Elements are matched by their path: an id is unique among its
    // siblings only.
    let la: Vec<(&String, &&Item)> = fa.iter().collect();
    let lb: Vec<(&String, &&Item)> = fb.iter().collect();
    for pair in by_id(&la, &lb, |e| e.0.as_str()) {
        match pair {
            Paired::Removed(&(path, item)) if parent_in(path, &fb) => removed_item(path, item, out),
            Paired::Kept(&(path, x), &(_, y)) => match (x, y) {
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
            Paired::Added(&(path, item)) if parent_in(path, &fa) => added_item(path, item, out),
            Paired::Removed(_) | Paired::Added(_) => {}
        }
    }
    diff_codelists(&a.codelists, &b.codelists, out);
}

fn removed_item(path: &str, item: &Item, out: &mut Out) {
    match item {
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
    }
}

fn added_item(path: &str, item: &Item, out: &mut Out) {
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

fn cond(c: &Option<Condition>) -> Option<String> {
    c.as_ref().map(Condition::canonical)
}

pub(super) fn diff_condition(
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
    out.legal_basis(g, path, &a.legal_basis, &b.legal_basis);
    out.fim(g, path, &a.fim, &b.fim);
}
