//! Atom feeds (RFC 4287) for those who follow others' packages without
//! polling by hand: a package's releases, a namespace's releases, a
//! Themenfeld's new packages, and the upstream releases a fork has not
//! taken yet. Each release entry says in German what changed against the
//! version before it (the semantic diff), so that a reader sees whether a
//! fee or a field changed before opening anything.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::error::{RegistryError, Result};
use super::{content, index, Registry};
use crate::store::models::{Package, Version};
use crate::store::schema::{namespaces, packages, versions};
use crate::store::search::{SearchParams, Sort};
use gemeinwerk_package::diff::{self, german};
use gemeinwerk_package::manifest::THEMENFELDER;

/// Entries per feed: the newest.
pub const MOST_ENTRIES: usize = 30;
/// Changes named in an entry's summary; more are counted.
const CHANGES_NAMED: usize = 8;

/// A feed, ready to be written as Atom.
#[derive(Debug, Clone)]
pub struct Feed {
    /// A permanent id (a tag URI).
    pub id: String,
    pub title: String,
    /// The web page the feed belongs to (`rel="alternate"`), a path.
    pub page: String,
    /// The feed's own path (`rel="self"`).
    pub path: String,
    pub updated: NaiveDateTime,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub title: String,
    pub page: String,
    pub updated: NaiveDateTime,
    /// Plain German text.
    pub summary: String,
}

/// `tag:` URIs (RFC 4151) keep entry ids stable however the registry's
/// address changes; the authority is the host of its public URL.
fn tag(reg: &Registry, what: &str) -> String {
    let host = url::Url::parse(&reg.config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "gemeinwerk".into());
    format!("tag:{host},2026:{what}")
}

fn feed(
    reg: &Registry,
    id: &str,
    title: String,
    page: String,
    path: String,
    entries: Vec<Entry>,
    since: NaiveDateTime,
) -> Feed {
    let updated = entries.iter().map(|e| e.updated).max().unwrap_or(since);
    Feed {
        id: tag(reg, id),
        title,
        page,
        path,
        updated,
        entries,
    }
}

fn package_of(reg: &Registry, ns: &str, name: &str) -> Result<Package> {
    let mut conn = reg.db.conn()?;
    index::find_package(&mut conn, ns, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(format!("{ns}/{name}")))
}

/// What changed from `before` to `version`, in German, on a few lines.
fn summary(reg: &Registry, full_name: &str, before: Option<&Version>, version: &Version) -> String {
    let mut out = String::new();
    if version.yanked_at.is_some() {
        out.push_str("Zurückgezogen");
        if let Some(reason) = &version.yank_reason {
            out.push_str(": ");
            out.push_str(reason);
        }
        out.push_str(". ");
    }
    let Some(before) = before else {
        out.push_str("Erste Version.");
        return out;
    };
    let loaded = |v: &Version| {
        content::load_version(reg, full_name, v)
            .ok()
            .and_then(|r| r.ok())
    };
    let (Some((old_m, old)), Some((new_m, new))) = (loaded(before), loaded(version)) else {
        out.push_str(&format!("Gegenüber {}: Inhalt nicht lesbar.", before.num));
        return out;
    };
    let d = diff::diff(&old_m, &old, &new_m, &new);
    let Some(level) = d.level() else {
        out.push_str(&format!(
            "Gegenüber {}: keine inhaltlichen Änderungen.",
            before.num
        ));
        return out;
    };
    out.push_str(&format!(
        "Gegenüber {} ({}, {} Änderung{}): ",
        before.num,
        german::level(level),
        d.changes.len(),
        if d.changes.len() == 1 { "" } else { "en" }
    ));
    let named: Vec<String> = d
        .changes
        .iter()
        .take(CHANGES_NAMED)
        .map(|c| {
            format!(
                "{} {}: {}",
                german::area(c.area),
                german::path(c),
                german::what(c)
            )
        })
        .collect();
    out.push_str(&named.join("; "));
    if d.changes.len() > CHANGES_NAMED {
        out.push_str(&format!(
            "; und {} weitere",
            d.changes.len() - CHANGES_NAMED
        ));
    }
    out.push('.');
    out
}

fn release(reg: &Registry, full_name: &str, before: Option<&Version>, version: &Version) -> Entry {
    Entry {
        id: tag(reg, &format!("{full_name}@{}", version.num)),
        title: format!(
            "{full_name} {}{}",
            version.num,
            if version.yanked_at.is_some() {
                " (zurückgezogen)"
            } else {
                ""
            }
        ),
        page: format!("/pakete/{full_name}?version={}", version.num),
        updated: version
            .yanked_at
            .unwrap_or(version.created_at)
            .max(version.created_at),
        summary: summary(reg, full_name, before, version),
    }
}

/// A package's advisories as entries.
fn advisory_entries(reg: &Registry, ns: &str, name: &str) -> Result<Vec<Entry>> {
    Ok(super::advisories::of_package(reg, ns, name)?
        .into_iter()
        .map(|a| Entry {
            id: tag(reg, &format!("hinweis:{}:{}", a.package, a.id)),
            title: format!(
                "Hinweis ({}, {}): {} {}",
                a.kind_de(),
                a.severity,
                a.package,
                a.affected
            ),
            page: format!("/pakete/{}", a.package),
            updated: a.created_at,
            summary: match &a.fixed {
                Some(f) => format!("{} Behoben in {f}.", a.text),
                None => a.text.clone(),
            },
        })
        .collect())
}

/// What `version` changed against the version published before it, in
/// German: the summary webhooks and mails carry, as the feeds do.
pub fn release_summary(reg: &Registry, ns: &str, name: &str, version: &str) -> Result<String> {
    let package = package_of(reg, ns, name)?;
    let versions = index::package_versions(&mut *reg.db.conn()?, package.id)?;
    Ok(match versions.iter().position(|v| v.num == version) {
        Some(i) => summary(
            reg,
            &format!("{ns}/{name}"),
            i.checked_sub(1).map(|p| &versions[p]),
            &versions[i],
        ),
        None => String::new(),
    })
}

/// Newest first, at most [`MOST_ENTRIES`].
fn newest(mut entries: Vec<Entry>) -> Vec<Entry> {
    entries.sort_by_key(|e| std::cmp::Reverse(e.updated));
    entries.truncate(MOST_ENTRIES);
    entries
}

/// The newest releases and advisories of a package.
pub fn package_releases(reg: &Registry, ns: &str, name: &str) -> Result<Feed> {
    let package = package_of(reg, ns, name)?;
    let versions = index::package_versions(&mut *reg.db.conn()?, package.id)?;
    let full_name = format!("{ns}/{name}");
    let mut entries: Vec<Entry> = versions
        .iter()
        .enumerate()
        .rev()
        .take(MOST_ENTRIES)
        .map(|(i, v)| release(reg, &full_name, i.checked_sub(1).map(|p| &versions[p]), v))
        .collect();
    entries.extend(advisory_entries(reg, ns, name)?);
    let entries = newest(entries);
    Ok(feed(
        reg,
        &format!("paket:{full_name}"),
        format!("{full_name}: neue Versionen"),
        format!("/pakete/{full_name}"),
        format!("/feeds/pakete/{full_name}"),
        entries,
        package.created_at,
    ))
}

/// The newest releases of every package of a namespace.
pub fn namespace_releases(reg: &Registry, ns: &str) -> Result<Feed> {
    let mut conn = reg.db.conn()?;
    let namespace = super::auth::find_namespace(&mut conn, ns)?;
    let newest: Vec<(Version, String)> = versions::table
        .inner_join(packages::table)
        .filter(packages::namespace_id.eq(namespace.id))
        .order(versions::id.desc())
        .limit(MOST_ENTRIES as i64)
        .select((Version::as_select(), packages::name))
        .load(&mut conn)?;
    let mut entries = Vec::with_capacity(newest.len());
    for (version, name) in &newest {
        let before: Option<Version> = versions::table
            .filter(versions::package_id.eq(version.package_id))
            .filter(versions::id.lt(version.id))
            .order(versions::id.desc())
            .select(Version::as_select())
            .first(&mut conn)
            .optional()?;
        entries.push(release(
            reg,
            &format!("{ns}/{name}"),
            before.as_ref(),
            version,
        ));
    }
    Ok(feed(
        reg,
        &format!("namensraum:{ns}"),
        format!("{}: neue Versionen", namespace.display_name),
        format!("/namensraeume/{ns}"),
        format!("/feeds/namensraeume/{ns}"),
        entries,
        namespace.created_at,
    ))
}

/// The packages of a Themenfeld, newest first: the most recently updated
/// ones from the search index, ordered by when they first appeared.
pub fn themenfeld_packages(reg: &Registry, themenfeld: &str) -> Result<Feed> {
    let (slug, label) = THEMENFELDER
        .iter()
        .find(|(s, _)| *s == themenfeld)
        .ok_or_else(|| {
            RegistryError::bad_request(
                "unknown_themenfeld",
                format!("there is no Themenfeld \"{}\"", themenfeld.escape_default()),
            )
        })?;
    let hits = reg.search(&SearchParams {
        themenfeld: Some(slug.to_string()),
        sort: Sort::Updated,
        per_page: MOST_ENTRIES * 3,
        ..SearchParams::default()
    })?;
    let mut conn = reg.db.conn()?;
    let mut entries = Vec::new();
    for hit in hits.hits {
        let first: Option<(Version, NaiveDateTime)> = versions::table
            .inner_join(packages::table.inner_join(namespaces::table))
            .filter(namespaces::slug.eq(&hit.namespace))
            .filter(packages::name.eq(&hit.name))
            .order(versions::id)
            .select((Version::as_select(), packages::created_at))
            .first(&mut conn)
            .optional()?;
        let Some((first, created)) = first else {
            continue;
        };
        let full_name = hit.full_name();
        entries.push(Entry {
            id: tag(reg, &format!("neu:{full_name}")),
            title: match &hit.title {
                Some(t) => format!("{t} ({full_name})"),
                None => full_name.clone(),
            },
            page: format!("/pakete/{full_name}"),
            updated: created,
            summary: format!(
                "Neu in {label}, erste Version {}: {}",
                first.num, hit.description
            ),
        });
    }
    let entries = newest(entries);
    Ok(feed(
        reg,
        &format!("themenfeld:{slug}"),
        format!("Neue Pakete im Themenfeld {label}"),
        format!("/suche?themenfeld={slug}"),
        format!("/feeds/themenfelder/{slug}"),
        entries,
        chrono::DateTime::UNIX_EPOCH.naive_utc(),
    ))
}

/// A fork's upstream releases newer than what the fork is based on, each
/// with what changed: what its maintainers may want to merge.
pub fn upstream_changes(reg: &Registry, ns: &str, name: &str) -> Result<Feed> {
    let package = package_of(reg, ns, name)?;
    let full_name = format!("{ns}/{name}");
    let upstream = package.forked_from.clone().ok_or_else(|| {
        RegistryError::bad_request(
            "not_a_fork",
            format!("{full_name} is no fork; it has no upstream"),
        )
    })?;
    // `ns/name@version` of the upstream the fork is based on.
    let (up_name, base) = upstream.split_once('@').unwrap_or((&upstream, ""));
    let (up_ns, up_pkg) = up_name.split_once('/').unwrap_or(("", up_name));
    let up = package_of(reg, up_ns, up_pkg)?;
    let versions = index::package_versions(&mut *reg.db.conn()?, up.id)?;
    let base_at = versions.iter().position(|v| v.num == base);
    let mut entries: Vec<Entry> = versions
        .iter()
        .enumerate()
        .filter(|(i, _)| base_at.is_none_or(|b| *i > b))
        .rev()
        .take(MOST_ENTRIES)
        .map(|(i, v)| {
            let mut e = release(reg, up_name, i.checked_sub(1).map(|p| &versions[p]), v);
            e.id = tag(reg, &format!("upstream:{full_name}:{up_name}@{}", v.num));
            e.title = format!("Upstream {}", e.title);
            e
        })
        .collect();
    entries.extend(advisory_entries(reg, up_ns, up_pkg)?);
    let entries = newest(entries);
    Ok(feed(
        reg,
        &format!("upstream:{full_name}"),
        format!("{full_name}: Änderungen im Upstream {up_name}"),
        format!("/pakete/{full_name}"),
        format!("/feeds/pakete/{full_name}/upstream"),
        entries,
        package.created_at,
    ))
}
