//! The semver check on publish: the version bump must be at least as large
//! as the largest change in the semantic diff.
//!
//! From 1.0.0 on: major changes need a new MAJOR, minor changes a new MINOR,
//! patches a new PATCH. Below 1.0.0 everything moves one place to the right,
//! as in Cargo: `0.x.y` → a breaking change bumps `x`, a compatible
//! addition bumps `y`; in `0.0.z` every bump counts as breaking.

use semver::Version;

use super::diagnostics::{Diagnostic, Hint};
use super::diff::{Change, Diff, Level};
use super::manifest::MANIFEST_FILE;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SemverError {
    #[error("version {new} is not greater than the published version {old}")]
    NotGreater { old: Version, new: Version },
    #[error("version {new} is a {given} bump over {old}, but the changes need a {needed} bump: at least {minimum}")]
    Insufficient {
        old: Version,
        new: Version,
        given: Level,
        needed: Level,
        minimum: Version,
        /// The changes that need more than the given bump.
        changes: Vec<Change>,
    },
}

impl SemverError {
    /// Stable code for the API and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            SemverError::NotGreater { .. } => "semver.not_greater",
            SemverError::Insufficient { .. } => "semver.insufficient_bump",
        }
    }

    /// As a diagnostic of the manifest, with every change that needs more
    /// than the given bump.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut message = self.to_string();
        let mut d = Diagnostic::error(self.code(), MANIFEST_FILE, String::new());
        match self {
            SemverError::NotGreater { old, new } => {
                d = d
                    .arg("old", old)
                    .arg("new", new)
                    .with_suggestion(Hint::snippet(format!(
                        "version = \"{}\"",
                        minimum_version(old, Level::Patch)
                    )));
            }
            SemverError::Insufficient {
                old,
                new,
                given,
                needed,
                minimum,
                changes,
            } => {
                let mut listed = String::new();
                for c in changes {
                    listed.push_str("\n  ");
                    listed.push_str(&c.to_string());
                }
                message.push_str(&listed);
                d = d
                    .arg("old", old)
                    .arg("new", new)
                    .arg("given", given)
                    .arg("needed", needed)
                    .arg("minimum", minimum)
                    .arg("changes", listed)
                    // The same changes as records, for a client that says
                    // them in its own language.
                    .arg(
                        "change_list",
                        serde_json::to_string(changes).expect("changes serialise"),
                    )
                    .with_suggestion(Hint::snippet(format!("version = \"{minimum}\"")));
            }
        }
        d.message = message;
        d
    }
}

/// The bump that going from `old` to `new` grants.
pub fn granted(old: &Version, new: &Version) -> Level {
    let (a, b) = (
        (old.major, old.minor, old.patch),
        (new.major, new.minor, new.patch),
    );
    if old.major == 0 {
        if old.minor == 0 {
            // 0.0.z: every release may break.
            return if b > a { Level::Major } else { Level::Patch };
        }
        if b.0 > a.0 || b.1 > a.1 {
            Level::Major
        } else if b.2 > a.2 {
            Level::Minor
        } else {
            Level::Patch
        }
    } else if b.0 > a.0 {
        Level::Major
    } else if b.1 > a.1 {
        Level::Minor
    } else {
        Level::Patch
    }
}

/// The smallest version after `old` that grants `level`.
pub fn minimum_version(old: &Version, level: Level) -> Version {
    let (ma, mi, pa) = (old.major, old.minor, old.patch);
    let (ma, mi, pa) = match (ma, mi, level) {
        (0, 0, _) => (0, 0, pa + 1),
        (0, _, Level::Major) => (0, mi + 1, 0),
        (0, _, _) => (0, mi, pa + 1),
        (_, _, Level::Major) => (ma + 1, 0, 0),
        (_, _, Level::Minor) => (ma, mi + 1, 0),
        (_, _, Level::Patch) => (ma, mi, pa + 1),
    };
    // A pre-release of the same numbers is smaller than the release.
    if old.pre.is_empty() || (ma, mi, pa) != (old.major, old.minor, old.patch) {
        Version::new(ma, mi, pa)
    } else {
        Version::new(old.major, old.minor, old.patch)
    }
}

/// Checks the bump from the newest published version `old` to `new`
/// against the diff between them. Returns the level the changes need.
#[allow(clippy::result_large_err)] // returned once per publish
pub fn check(old: &Version, new: &Version, diff: &Diff) -> Result<Option<Level>, SemverError> {
    if new <= old {
        return Err(SemverError::NotGreater {
            old: old.clone(),
            new: new.clone(),
        });
    }
    let needed = diff.level();
    let given = granted(old, new);
    match needed {
        Some(needed) if needed > given => Err(SemverError::Insufficient {
            old: old.clone(),
            new: new.clone(),
            given,
            needed,
            minimum: minimum_version(old, needed),
            changes: diff
                .changes
                .iter()
                .filter(|c| c.level > given)
                .cloned()
                .collect(),
        }),
        _ => Ok(needed),
    }
}

#[cfg(test)]
mod tests {
    use super::super::diff::{Area, ChangeKind};
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn diff_of(level: Level) -> Diff {
        Diff {
            changes: vec![Change {
                area: Area::Field,
                path: "fahrzeug.kennzeichen".into(),
                kind: ChangeKind::Removed,
                property: None,
                old: None,
                new: None,
                level,
                reason: "test".into(),
            }],
        }
    }

    #[test]
    fn granted_levels() {
        assert_eq!(granted(&v("1.2.3"), &v("2.0.0")), Level::Major);
        assert_eq!(granted(&v("1.2.3"), &v("1.3.0")), Level::Minor);
        assert_eq!(granted(&v("1.2.3"), &v("1.2.4")), Level::Patch);
        assert_eq!(granted(&v("0.2.3"), &v("0.3.0")), Level::Major);
        assert_eq!(granted(&v("0.2.3"), &v("0.2.4")), Level::Minor);
        assert_eq!(granted(&v("0.0.3"), &v("0.0.4")), Level::Major);
    }

    #[test]
    fn refuses_an_insufficient_bump_and_names_the_changes() {
        let err = check(&v("1.0.0"), &v("1.1.0"), &diff_of(Level::Major)).unwrap_err();
        let SemverError::Insufficient {
            minimum, changes, ..
        } = &err
        else {
            panic!()
        };
        assert_eq!(minimum, &v("2.0.0"));
        assert_eq!(changes.len(), 1);
        let d = err.to_diagnostic();
        assert_eq!(d.code, "semver.insufficient_bump");
        assert!(
            d.message.contains("needs a major bump") || d.message.contains("need a major bump"),
            "{}",
            d.message
        );
        assert!(
            d.message.contains("field fahrzeug.kennzeichen: removed"),
            "{}",
            d.message
        );
        assert_eq!(d.suggestion.as_deref(), Some("version = \"2.0.0\""));

        assert!(check(&v("1.0.0"), &v("1.0.1"), &diff_of(Level::Minor)).is_err());
        assert_eq!(
            check(&v("1.0.0"), &v("1.1.0"), &diff_of(Level::Minor)),
            Ok(Some(Level::Minor))
        );
        assert_eq!(check(&v("1.0.0"), &v("1.0.1"), &Diff::default()), Ok(None));
    }

    #[test]
    fn below_one_breaking_changes_bump_the_minor() {
        assert_eq!(
            check(&v("0.3.1"), &v("0.4.0"), &diff_of(Level::Major)),
            Ok(Some(Level::Major))
        );
        let err = check(&v("0.3.1"), &v("0.3.2"), &diff_of(Level::Major)).unwrap_err();
        assert!(
            matches!(err, SemverError::Insufficient { ref minimum, .. } if *minimum == v("0.4.0"))
        );
        assert_eq!(
            check(&v("0.3.1"), &v("0.3.2"), &diff_of(Level::Minor)),
            Ok(Some(Level::Minor))
        );
        assert_eq!(
            check(&v("0.0.1"), &v("0.0.2"), &diff_of(Level::Major)),
            Ok(Some(Level::Major))
        );
    }

    #[test]
    fn must_be_greater() {
        let err = check(&v("1.2.0"), &v("1.2.0"), &Diff::default()).unwrap_err();
        assert_eq!(err.code(), "semver.not_greater");
        assert_eq!(
            err.to_diagnostic().suggestion.as_deref(),
            Some("version = \"1.2.1\"")
        );
        assert!(check(&v("1.2.0"), &v("1.1.9"), &Diff::default()).is_err());
        assert_eq!(minimum_version(&v("2.0.0-rc.1"), Level::Major), v("3.0.0"));
        assert_eq!(minimum_version(&v("2.0.0-rc.1"), Level::Patch), v("2.0.1"));
    }
}
