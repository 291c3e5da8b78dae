//! The adaptation policy of a fork (FIM Ableitungsmodifikation): a form
//! says with `ableitungsmodifikation` in `[form]` how far forks may adapt
//! it, and a fork may not ask for a lower Vertrauensniveau than its
//! upstream unless its manifest says `lowers-vertrauensniveau = true`.
//!
//! Each change of the semantic diff (upstream → fork) is an extension
//! (something added or widened), a restriction (something removed,
//! narrowed or demanded) or wording (a patch: labels, help, examples).
//! `erweitern` refuses restrictions, `einschraenken` extensions, `keine`
//! both; wording may always change.

use super::content::Content;
use super::diagnostics::{Diagnostic, Hint};
use super::diff::{self, Area, Change, ChangeKind, Level};
use super::form::Ableitung;
use super::manifest::{Manifest, MANIFEST_FILE};

/// What a change does to the form, for the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nature {
    Extends,
    Restricts,
    Wording,
}

pub fn nature(c: &Change) -> Nature {
    if c.level == Level::Patch {
        return Nature::Wording;
    }
    match (c.kind, &c.property) {
        (ChangeKind::Removed, None) => Nature::Restricts,
        (ChangeKind::Added, None) => Nature::Extends,
        _ if c.level == Level::Major => Nature::Restricts,
        _ => Nature::Extends,
    }
}

/// Checks a fork against the form it was forked from. Only forms carry a
/// policy; for other kinds only the Vertrauensniveau rule applies (it
/// cannot, as they have none), so the result is empty.
pub fn check_adaptation(
    upstream_manifest: &Manifest,
    upstream: &Content,
    fork_manifest: &Manifest,
    fork: &Content,
) -> Vec<Diagnostic> {
    let (Content::Form(up), Content::Form(own)) = (upstream, fork) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let file = fork_manifest.kind.content_file();
    let name = format!(
        "{} {}",
        upstream_manifest.full_name(),
        upstream_manifest.version
    );
    if let (Some(a), Some(b)) = (up.vertrauensniveau, own.vertrauensniveau) {
        if b < a && !fork_manifest.lowers_vertrauensniveau {
            out.push(
                Diagnostic::error(
                    "adaptation.lowers_vertrauensniveau",
                    file,
                    format!("the fork asks for Vertrauensniveau {b}, but {name} needs {a}"),
                ).arg("level", b).arg("package", &name).arg("required_level", a)
                .with_suggestion(Hint::new("allow-lower-level", format!(
                    "if that is intended, say so with lowers-vertrauensniveau = true under [package] in {MANIFEST_FILE}"
                ))),
            );
        }
    }
    let policy = up.ableitung.unwrap_or(Ableitung::Alles);
    let own_policy = own.ableitung.unwrap_or(Ableitung::Alles);
    if !allows_all_of(policy, own_policy) {
        out.push(Diagnostic::error(
            "adaptation.policy_loosened",
            file,
            format!(
                "{name} says ableitungsmodifikation = \"{}\"; the fork cannot allow more with \"{}\"",
                policy.as_str(),
                own_policy.as_str()
            ),
        ).arg("package", &name).arg("policy", policy.as_str()).arg("own_policy", own_policy.as_str()));
    }
    let d = diff::diff(upstream_manifest, upstream, fork_manifest, fork);
    for c in &d.changes {
        if c.area == Area::Manifest {
            continue;
        }
        // The Vertrauensniveau has its own rule above.
        if c.property.as_deref() == Some("vertrauensniveau")
            || c.property.as_deref() == Some("ableitungsmodifikation")
        {
            continue;
        }
        let refused = match nature(c) {
            Nature::Wording => false,
            Nature::Extends => !policy.allows_extending(),
            Nature::Restricts => !policy.allows_restricting(),
        };
        if refused {
            let what = match nature(c) {
                Nature::Extends => "extends",
                _ => "restricts",
            };
            out.push(
                Diagnostic::error(
                    "adaptation.not_allowed",
                    file,
                    format!(
                        "{name} allows forks {} (ableitungsmodifikation = \"{}\"), but this change {what} it: {c}",
                        match policy {
                            Ableitung::Alles => "any change",
                            Ableitung::Erweitern => "only to extend it",
                            Ableitung::Einschraenken => "only to restrict it",
                            Ableitung::Keine => "no change but wording",
                        },
                        policy.as_str()
                    ),
                ).arg("package", &name).arg("policy", policy.as_str()).arg("effect", what).arg("change", c)
                .with_suggestion(Hint::new("undo-or-ask", "undo the change, or ask the upstream publisher to allow it")),
            );
        }
    }
    out
}

/// Whether `outer` permits everything `inner` permits.
fn allows_all_of(outer: Ableitung, inner: Ableitung) -> bool {
    (outer.allows_extending() || !inner.allows_extending())
        && (outer.allows_restricting() || !inner.allows_restricting())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::parse_content;
    use crate::content::tests::manifest_with_deps;
    use crate::PackageKind;

    const FORM: &str = "[form]\ntitle = \"T\"\nvertrauensniveau = \"substanziell\"\naccounts = [\"BundID\", \"ELSTER\"]\nPOLICY\n[[field]]\nid = \"name\"\ntype = \"text\"\nlabel = \"Name\"\nmax-length = 50\n";

    fn run(policy: &str, fork: &str, lowers: bool) -> Vec<String> {
        let up_src = FORM.replace("POLICY", policy);
        let up = parse_content(PackageKind::Form, &up_src).unwrap();
        let own = parse_content(PackageKind::Form, &fork.replace("POLICY", policy)).unwrap();
        let m = manifest_with_deps("form", &[]);
        let mut fm = m.clone();
        fm.lowers_vertrauensniveau = lowers;
        check_adaptation(&m, &up, &fm, &own)
            .into_iter()
            .map(|d| d.code)
            .collect()
    }

    #[test]
    fn policies_refuse_what_they_do_not_allow() {
        let extended = format!("{FORM}[[field]]\nid = \"neu\"\ntype = \"text\"\nlabel = \"Neu\"\n");
        let restricted = FORM.replace("max-length = 50", "max-length = 20");
        let relabelled = FORM.replace("label = \"Name\"", "label = \"Nachname\"");
        let p = |s: &str| format!("ableitungsmodifikation = \"{s}\"");
        for (policy, ext, res) in [
            ("alles", true, true),
            ("erweitern", true, false),
            ("einschraenken", false, true),
            ("keine", false, false),
        ] {
            let ok = |v: Vec<String>| v.is_empty();
            assert_eq!(
                ok(run(&p(policy), &extended, false)),
                ext,
                "{policy} extend"
            );
            assert_eq!(
                ok(run(&p(policy), &restricted, false)),
                res,
                "{policy} restrict"
            );
            assert!(ok(run(&p(policy), &relabelled, false)), "{policy} wording");
        }
        // The FIM codes work too.
        assert_eq!(
            run("ableitungsmodifikation = 3", &extended, false),
            ["adaptation.not_allowed"]
        );
        // No policy: anything.
        assert!(run("", &restricted, false).is_empty());
    }

    #[test]
    fn a_fork_cannot_loosen_the_policy() {
        let own = FORM.replace("POLICY", "ableitungsmodifikation = \"alles\"");
        assert_eq!(
            run("ableitungsmodifikation = \"erweitern\"", &own, false),
            ["adaptation.policy_loosened"]
        );
    }

    #[test]
    fn lowering_the_vertrauensniveau_needs_the_manifest_to_say_so() {
        let lower = FORM.replace("\"substanziell\"", "\"niedrig\"");
        assert_eq!(
            run("", &lower, false),
            ["adaptation.lowers_vertrauensniveau"]
        );
        assert!(run("", &lower, true).is_empty());
        // Raising it is a restriction, refused by "erweitern".
        let higher = FORM
            .replace("\"substanziell\"", "\"hoch\"")
            .replace(", \"ELSTER\"", "");
        assert!(!run("ableitungsmodifikation = \"erweitern\"", &higher, false).is_empty());
    }
}
