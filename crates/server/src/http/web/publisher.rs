//! Who publishes: a namespace's display name and, from its Amtlicher
//! Regionalschlüssel, the Land it lies in — shown wherever a package
//! appears, so that three packages with the same title can be told apart.

use std::collections::HashMap;

use crate::registry::{accounts, index, Registry, RegistryError};
use crate::store::models::Version;

#[derive(Debug, Clone, Default)]
pub struct Publisher {
    /// "Stadt Kassel"; the slug when the namespace has no display name.
    pub name: String,
    /// "Hessen", from the first two digits of the ARS; empty if unknown.
    pub place: String,
}

impl Publisher {
    /// "Stadt Kassel (Hessen)".
    pub fn label(&self) -> String {
        if self.place.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.place)
        }
    }
}

/// The Land of an Amtlicher Regionalschlüssel: its first two digits.
pub fn land(ars: &str) -> Option<&'static str> {
    Some(match ars.get(..2)? {
        "01" => "Schleswig-Holstein",
        "02" => "Hamburg",
        "03" => "Niedersachsen",
        "04" => "Bremen",
        "05" => "Nordrhein-Westfalen",
        "06" => "Hessen",
        "07" => "Rheinland-Pfalz",
        "08" => "Baden-Württemberg",
        "09" => "Bayern",
        "10" => "Saarland",
        "11" => "Berlin",
        "12" => "Brandenburg",
        "13" => "Mecklenburg-Vorpommern",
        "14" => "Sachsen",
        "15" => "Sachsen-Anhalt",
        "16" => "Thüringen",
        _ => return None,
    })
}

/// The publishers of these namespaces, by slug; an unknown slug gets
/// itself as its name.
pub fn lookup(
    reg: &Registry,
    slugs: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, Publisher>, RegistryError> {
    let mut slugs: Vec<String> = slugs.into_iter().collect();
    slugs.sort_unstable();
    slugs.dedup();
    let mut conn = reg.db.conn()?;
    let rows = accounts::namespaces_by_slug(&mut conn, &slugs)?;
    let mut out: HashMap<String, Publisher> = slugs
        .into_iter()
        .map(|s| {
            (
                s.clone(),
                Publisher {
                    name: s,
                    place: String::new(),
                },
            )
        })
        .collect();
    for ns in rows {
        let place = ns
            .ars
            .as_deref()
            .and_then(land)
            .unwrap_or_default()
            .to_string();
        let name = if ns.display_name.trim().is_empty() {
            ns.slug.clone()
        } else {
            ns.display_name
        };
        out.insert(ns.slug.clone(), Publisher { name, place });
    }
    Ok(out)
}

/// The newest version that is not yanked, else the newest: what a card
/// and a banner point to.
pub fn newest_usable(versions: &[Version]) -> Option<&Version> {
    let newest = |yanked_too: bool| {
        versions
            .iter()
            .filter(|v| yanked_too || v.yanked_at.is_none())
            .filter_map(|v| semver::Version::parse(&v.num).ok().map(|s| (s, v)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, v)| v)
    };
    newest(false).or_else(|| newest(true))
}

/// The newest usable version of each package (`ns/name`).
pub fn newest_versions(
    reg: &Registry,
    names: &[String],
) -> Result<HashMap<String, String>, RegistryError> {
    let mut conn = reg.db.conn()?;
    let mut out = HashMap::new();
    for full in names {
        let Some((ns, name)) = full.split_once('/') else {
            continue;
        };
        if let Some(p) = index::find_package(&mut conn, ns, name)? {
            let versions = index::package_versions(&mut conn, p.id)?;
            if let Some(v) = newest_usable(&versions) {
                out.insert(full.clone(), v.num.clone());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_land_comes_from_the_ars() {
        assert_eq!(super::land("066110000000"), Some("Hessen"));
        assert_eq!(super::land("064110000000"), Some("Hessen"));
        assert_eq!(super::land("99"), None);
        assert_eq!(super::land(""), None);
    }
}
