//! What the import refuses before it maps anything, each with its line
//! and column, so that nothing is written from a document the standard
//! does not allow: an element that occurs once given twice (a second
//! `praezisierung` whose value would silently lose), an unknown element
//! inside `identifikation`, a field, group or schema without its id,
//! one id and version defined twice differently, and a Freigabestatus that
//! is no code of its list.

use super::*;

/// Children that occur at most once in the elements of [`CHECKED`].
const ONCE: [&str; 31] = [
    "identifikation",
    "id",
    "version",
    "name",
    "bezeichnungEingabe",
    "bezeichnungAusgabe",
    "beschreibung",
    "definition",
    "hilfetextEingabe",
    "hilfetextAusgabe",
    "schemaelementart",
    "feldart",
    "datentyp",
    "praezisierung",
    "inhalt",
    "codelisteReferenz",
    "genericodeIdentification",
    "canonicalIdentification",
    "canonicalVersionUri",
    "status",
    "freigabestatus",
    "gueltigAb",
    "gueltigBis",
    "versionshinweis",
    "fachlicherErsteller",
    "anzahl",
    "enthaelt",
    "script",
    "freitextRegel",
    "ableitungsmodifikationenStruktur",
    "ableitungsmodifikationenRepraesentation",
];

/// The elements whose children are held to [`ONCE`].
const CHECKED: [&str; 9] = [
    "stammdatenschema",
    "schema",
    "datenfeldgruppe",
    "datenfeld",
    "regel",
    "identifikation",
    "struktur",
    "codelisteReferenz",
    "genericodeIdentification",
];

/// The elements that must carry an id. (Rules are read by their text; one
/// without an id is still read.)
const IDENTIFIED: [&str; 4] = ["stammdatenschema", "schema", "datenfeldgruppe", "datenfeld"];

/// The codes of XDatenfelder 3.0.0's Freigabestatus (1 in Planung … 8
/// vorgesehen zum Löschen).
const FREIGABESTATUS: std::ops::RangeInclusive<u32> = 1..=8;

fn refused(e: &Element, problem: String) -> ImportError {
    ImportError::Refused {
        line: e.line,
        column: e.column,
        problem,
    }
}

/// Checks the payload `top` and everything in it.
pub(super) fn check(std: Standard, top: &Element) -> Result<(), ImportError> {
    let mut defined: HashMap<(String, String), (usize, String)> = HashMap::new();
    walk(std, top, &mut defined)
}

fn walk(
    std: Standard,
    e: &Element,
    defined: &mut HashMap<(String, String), (usize, String)>,
) -> Result<(), ImportError> {
    if CHECKED.contains(&e.name.as_str()) {
        let mut seen: Vec<&str> = Vec::new();
        for c in &e.children {
            if ONCE.contains(&c.name.as_str()) {
                if seen.contains(&c.name.as_str()) {
                    return Err(refused(
                        c,
                        format!(
                            "<{}> appears a second time in <{}> (line {}); it may occur once",
                            c.name, e.name, e.line
                        ),
                    ));
                }
                seen.push(&c.name);
            }
        }
    }
    if e.name == "identifikation" && std != Standard::V1 {
        if let Some(c) = e
            .children
            .iter()
            .find(|c| !matches!(c.name.as_str(), "id" | "version"))
        {
            return Err(refused(
                c,
                format!(
                    "<{}> is not part of <identifikation>, which holds <id> and <version>",
                    c.name
                ),
            ));
        }
    }
    if IDENTIFIED.contains(&e.name.as_str()) {
        let holder = match std {
            Standard::V1 => Some(e),
            _ => e.child("identifikation"),
        };
        let id = holder.and_then(|h| h.text_of("id"));
        let Some(id) = id else {
            return Err(refused(e, format!("<{}> has no id", e.name)));
        };
        let version = holder
            .and_then(|h| h.text_of("version"))
            .unwrap_or("")
            .to_string();
        let what = signature(e);
        match defined.get(&(id.to_string(), version.clone())) {
            Some((line, first)) if *first != what => {
                return Err(refused(
                    e,
                    format!(
                        "{id}{} is defined a second time, differently (first on line {line})",
                        if version.is_empty() {
                            String::new()
                        } else {
                            format!(" version {version}")
                        }
                    ),
                ));
            }
            Some(_) => {}
            None => {
                defined.insert((id.to_string(), version), (e.line, what));
            }
        }
    }
    if e.name == "freigabestatus" {
        let code = e.text_of("code").or_else(|| e.trimmed());
        let known = code
            .and_then(|c| c.parse::<u32>().ok())
            .is_some_and(|n| FREIGABESTATUS.contains(&n));
        if !known {
            return Err(refused(
                e,
                format!(
                    "the Freigabestatus \"{}\" is no code of its list (1 to 8)",
                    code.unwrap_or("")
                ),
            ));
        }
    }
    for c in &e.children {
        walk(std, c, defined)?;
    }
    Ok(())
}

/// What makes two definitions of one id the same: the kind of element, its
/// name, and for fields the feldart and datentyp.
fn signature(e: &Element) -> String {
    let code = |n: &str| {
        e.child(n)
            .and_then(|c| c.text_of("code").or_else(|| c.trimmed()))
            .unwrap_or("")
            .to_string()
    };
    format!(
        "{}|{}|{}|{}",
        e.name,
        e.text_of("name").unwrap_or(""),
        code("feldart"),
        code("datentyp")
    )
}
