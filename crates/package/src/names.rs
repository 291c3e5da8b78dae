//! Names and identifiers: the rules for namespace and package names, FIM
//! ids and versions, and the token prefix. One place, so that the manifest,
//! the importer, the registry and the client cannot disagree.

/// Every API token starts with this, so that a token pasted into a log or a
/// repository is recognisable (and secret scanners can find it).
pub const TOKEN_PREFIX: &str = "gw_";

use crate::diagnostics::Cause;

/// Checks a namespace or package name: lowercase a–z, 0–9 and `-`, 1 to 64
/// characters, not starting with `-`.
pub fn check_slug(s: &str) -> Result<(), Cause> {
    if s.is_empty() || s.len() > 64 {
        return Err(Cause::new(
            "slug-length",
            format!("\"{s}\" must be 1 to 64 characters long"),
        )
        .arg("value", s)
        .arg("part", "none"));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(Cause::new(
            "slug-character",
            format!("\"{s}\" contains {c:?}; only lowercase a–z, 0–9 and \"-\" are allowed"),
        )
        .arg("value", s)
        .arg("part", "none")
        .arg("character", format!("{c:?}")));
    }
    if s.starts_with('-') {
        return Err(
            Cause::new("slug-dash", format!("\"{s}\" must not start with \"-\""))
                .arg("value", s)
                .arg("part", "none"),
        );
    }
    Ok(())
}

/// Splits `namespace/name` and checks both parts.
pub fn split_full_name(s: &str) -> Result<(String, String), Cause> {
    let Some((ns, name)) = s.split_once('/') else {
        return Err(Cause::new(
            "full-name-form",
            format!("\"{s}\" must be written as namespace/name, for example \"kassel/bewohnerparkausweis\""),
        )
        .arg("value", s));
    };
    // The problem of a part, as "namespace \"…\" must …".
    let part = |part: &str, mut e: Cause| {
        e.english = format!("{part} {}", e.english);
        e.arg("part", part)
    };
    check_slug(ns).map_err(|e| part("namespace", e))?;
    check_slug(name).map_err(|e| part("name", e))?;
    Ok((ns.to_string(), name.to_string()))
}

/// The shape of a FIM id: a letter (F field, G group, S schema, D document
/// profile) and 8 digits (XDatenfelder 1 and 2, `S00000036`) or 11 digits
/// (XDatenfelder 3, `G60000000088`).
pub fn is_fim_id(s: &str) -> bool {
    (s.len() == 9 || s.len() == 12)
        && s.starts_with(['F', 'G', 'S', 'D'])
        && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// A FIM version: numbers separated by dots (`1.2`, `1.2.0`).
pub fn is_fim_version(v: &str) -> bool {
    !v.is_empty()
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(check_slug("bewohner-parkausweis2").is_ok());
        assert!(check_slug("").is_err());
        assert!(check_slug("-x").is_err());
        assert!(check_slug("straße").is_err());
        assert!(check_slug(&"a".repeat(65)).is_err());
    }

    #[test]
    fn full_names_and_fim_ids() {
        assert_eq!(
            split_full_name("kassel/parken").unwrap(),
            ("kassel".to_string(), "parken".to_string())
        );
        assert!(split_full_name("kassel").is_err());
        assert!(split_full_name("Kassel/parken").is_err());
        assert!(is_fim_id("S00000036") && is_fim_id("G60000000088"));
        assert!(!is_fim_id("X00000036") && !is_fim_id("S0000003"));
        assert!(is_fim_version("1.2.0") && !is_fim_version("1..2"));
    }
}
