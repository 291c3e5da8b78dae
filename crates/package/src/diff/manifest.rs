//! Changes of the manifest: name, license, wording, provenance, dependencies.

use std::collections::BTreeMap;

use super::records::{by_id, Paired};
use super::{Area, ChangeKind, Level, Out};
use crate::manifest::Manifest;

pub(super) fn diff_manifest(a: &Manifest, b: &Manifest, out: &mut Out) {
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
    diff_dependencies(a, b, out);
}

/// Dependencies matched by full name; a changed requirement is minor, as
/// what uses the dependency is listed on its own.
fn diff_dependencies(a: &Manifest, b: &Manifest, out: &mut Out) {
    let m = Area::Manifest;
    let reqs = |x: &Manifest| -> Vec<(String, String)> {
        let by_name: BTreeMap<String, String> = x
            .dependencies
            .iter()
            .map(|d| (d.full_name(), d.req.to_string()))
            .collect();
        by_name.into_iter().collect()
    };
    let (da, db) = (reqs(a), reqs(b));
    for pair in by_id(&da, &db, |d| d.0.as_str()) {
        match pair {
            Paired::Removed((name, _)) => out.removed(
                m,
                &format!("dependency {name}"),
                Level::Minor,
                "no longer used; what used it is listed on its own",
            ),
            Paired::Kept((name, req), (_, r)) if r != req => out.push(
                m,
                &format!("dependency {name}"),
                ChangeKind::Changed,
                Some("version"),
                Some(req.clone()),
                Some(r.clone()),
                Level::Minor,
                "included content may change with the dependency",
            ),
            Paired::Kept(..) => {}
            Paired::Added((name, _)) => out.added(
                m,
                &format!("dependency {name}"),
                Level::Minor,
                "a new dependency; what uses it is listed on its own",
            ),
        }
    }
}
