//! Search: what is indexed per package, how the index follows the database,
//! and the checked parameters of a search.
//!
//! # Interface (stable; the web UI and the API build on it)
//! - [`SearchParams::parse`] checks a request's raw parameters
//!   ([`RawSearchParams`], as they come from a query string or the CLI) and
//!   refuses bad ones with a `bad_request` error naming the parameter.
//! - [`Registry::search`]`(&SearchParams) -> Result<SearchResults>`: total,
//!   [`Facets`] with counts, and a page of [`Hit`]s (namespace, name,
//!   version, kind, title, description, themenfeld, vertrauensniveau,
//!   downloads, forks, deprecated, updated_at, score, and `snippet`: HTML,
//!   escaped, matches in `<mark>`).
//! - [`Registry::suggest`]`(q, limit) -> Result<Vec<Suggestion>>`: typeahead.
//!
//! # What is indexed
//! Per package its newest non-yanked version (a package whose versions
//! are all yanked is not found): namespace and name, title, description,
//! keywords, Themenfeld, LeiKa key and FIM ids (exact), the labels of all
//! fields, groups, states, transitions, fees and notices, the README, the
//! publisher's display name and Regionalschlüssel; downloads, forks,
//! deprecation and the last update for ranking and filters.
//!
//! # Freshness and durability
//! The index follows the audit log, which every change to a package writes
//! in the same transaction as the change: that is the change feed. The
//! server's follower thread applies new entries (woken by
//! [`Registry::package_changed`], else every half second), commits, and
//! stores the id of the last applied entry in the commit's payload, so a
//! restart resumes there. A missing, damaged or outdated index is rebuilt
//! from the database at start-up; `gemeinwerk admin reindex` rebuilds on
//! demand into a new generation that a running server switches to.
//! Downloads change without an audit entry; every [`ADOPTION_REFRESH`]
//! (or as configured) the follower reads the packages whose counts moved
//! since its last pass (`packages.downloads_changed_at`, indexed) and
//! re-indexes those whose count differs from the index's. The count
//! indexed and ranked by is that of the last 90 days.
//!
//! Every query of a step is bounded by what it returns: new entries are
//! read from the cursor on, and late commits (on PostgreSQL a transaction
//! can commit after one with a higher id) are found by looking up the ids
//! that were missing when the follower read past them, by primary key,
//! for [`LATE_COMMIT_WINDOW`]; never by scanning the log.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde::Deserialize;

use super::audit::AuditAction;
use super::error::{RegistryError, Result};
use super::jobs::Wakeup;
use super::{index, Registry};
use crate::store::blobs::BlobError;
use crate::store::models::{Namespace, Package, Version};
use crate::store::schema::{audit_log, namespaces, packages};
pub use crate::store::search::{
    FacetCount, Facets, Hit, SearchParams, SearchResults, Sort, Suggestion,
};
use crate::store::search::{PackageDoc, SearchDir, SearchIndex, SearchWriter, VERTRAUENSNIVEAUS};
use crate::store::DbConn;
use gemeinwerk_package::manifest::{PackageKind, MANIFEST_FILE, THEMENFELDER};
use gemeinwerk_package::model::{walk, Item};
use gemeinwerk_package::names::check_slug;
use gemeinwerk_package::{archive, content::Content};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_PER_PAGE: usize = 100;
/// How deep pages go: `page * per_page` at most this.
pub const MAX_RESULT_WINDOW: usize = 10_000;
pub const MAX_SUGGESTIONS: usize = 20;
/// How often the follower compares download counts with the index, unless
/// the operator says otherwise (`serve --search-refresh-secs`).
pub const ADOPTION_REFRESH: Duration = Duration::from_secs(30);
/// How long an id the follower read past without finding it is looked up
/// again: on PostgreSQL a transaction can commit after one with a higher
/// id (and a rolled-back one leaves its id unused for good).
const LATE_COMMIT_WINDOW: Duration = Duration::from_secs(10);
/// Change-feed entries read per step.
const FEED_BATCH: i64 = 1000;
/// Most missing ids watched at once; a larger jump of ids (a bulk of
/// rolled-back transactions) keeps its newest ones.
const MAX_GAPS: i64 = 1000;

/// The parameters as a client sends them, all optional text.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSearchParams {
    pub q: Option<String>,
    pub kind: Option<String>,
    pub themenfeld: Option<String>,
    pub namespace: Option<String>,
    pub vertrauensniveau: Option<String>,
    pub deprecated: Option<String>,
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

/// The typeahead's parameters as a client sends them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuggestParams {
    pub q: Option<String>,
    pub limit: Option<String>,
}

impl RawSuggestParams {
    /// The query and the number of suggestions, checked.
    pub fn parse(&self) -> Result<(String, usize)> {
        let limit = number("limit", self.limit.as_deref(), 8, MAX_SUGGESTIONS)?;
        let q = self.q.clone().unwrap_or_default();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(bad(format!(
                "q has {} characters; at most {MAX_QUERY_CHARS} are allowed",
                q.chars().count()
            )));
        }
        Ok((q, limit))
    }
}

fn bad(detail: String) -> RegistryError {
    RegistryError::bad_request("bad_search", detail)
}

fn one_of(what: &str, value: Option<&str>, allowed: &[&str]) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(bad(format!(
            "{what} \"{v}\" is not known; use one of: {}",
            allowed.join(", ")
        ))),
    }
}

fn number(what: &str, value: Option<&str>, default: usize, max: usize) -> Result<usize> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    match v.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(bad(format!(
            "{what} \"{v}\" must be a whole number from 1 to {max}"
        ))),
    }
}

impl SearchParams {
    /// Checks what a client sent; every refusal names the parameter.
    pub fn parse(raw: &RawSearchParams) -> Result<SearchParams> {
        let q = raw.q.clone().unwrap_or_default();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(bad(format!(
                "q has {} characters; at most {MAX_QUERY_CHARS} are allowed",
                q.chars().count()
            )));
        }
        let kinds: Vec<&str> = PackageKind::ALL.iter().map(|k| k.as_str()).collect();
        let themenfelder: Vec<&str> = THEMENFELDER.iter().map(|(s, _)| *s).collect();
        let sorts: Vec<&str> = Sort::ALL.iter().map(|(s, _)| *s).collect();
        let namespace = match raw.namespace.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(ns) => {
                check_slug(ns).map_err(|e| bad(format!("namespace {e}")))?;
                Some(ns.to_string())
            }
        };
        let include_deprecated = match raw.deprecated.as_deref().map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(v) => return Err(bad(format!("deprecated \"{v}\" must be true or false"))),
        };
        let sort = one_of("sort", raw.sort.as_deref(), &sorts)?
            .and_then(|s| Sort::parse(&s))
            .unwrap_or_default();
        let per_page = number("per_page", raw.per_page.as_deref(), 20, MAX_PER_PAGE)?;
        let page = number("page", raw.page.as_deref(), 1, MAX_RESULT_WINDOW)?;
        if page * per_page > MAX_RESULT_WINDOW {
            return Err(bad(format!(
                "page {page} with per_page {per_page} goes past the first {MAX_RESULT_WINDOW} results; narrow the search instead"
            )));
        }
        Ok(SearchParams {
            q: q.trim().to_string(),
            kind: one_of("kind", raw.kind.as_deref(), &kinds)?,
            themenfeld: one_of("themenfeld", raw.themenfeld.as_deref(), &themenfelder)?,
            namespace,
            vertrauensniveau: one_of(
                "vertrauensniveau",
                raw.vertrauensniveau.as_deref(),
                &VERTRAUENSNIVEAUS,
            )?,
            include_deprecated,
            sort,
            page,
            per_page,
        })
    }
}

/// The search index of this process: the generation in use and the signal
/// that wakes the follower.
pub struct SearchService {
    dir: SearchDir,
    current: RwLock<Option<(String, Arc<SearchIndex>)>>,
    pub wakeup: Wakeup,
    adoption_refresh: RwLock<Duration>,
}

impl SearchService {
    pub fn new(data_dir: &std::path::Path) -> Self {
        SearchService {
            dir: SearchDir::new(&data_dir.join("search")),
            current: RwLock::new(None),
            wakeup: Wakeup::default(),
            adoption_refresh: RwLock::new(ADOPTION_REFRESH),
        }
    }

    /// How often download counts are brought into the index.
    pub fn set_adoption_refresh(&self, every: Duration) {
        *self.adoption_refresh.write().expect("search lock") = every;
    }

    /// The index in use; opened read-only (no lock) on first use.
    fn index(&self) -> Result<Arc<SearchIndex>> {
        if let Some((_, index)) = &*self.current.read().expect("search lock") {
            return Ok(index.clone());
        }
        let generation = self.dir.current().ok_or(RegistryError::SearchUnavailable)?;
        let index = Arc::new(
            SearchIndex::open(&self.dir.path_of(&generation))
                .map_err(|_| RegistryError::SearchUnavailable)?,
        );
        let mut current = self.current.write().expect("search lock");
        // The follower may have put its index in place while this one was
        // opened: keep the follower's. Its reader is the one reloaded after
        // every commit; this one would answer from the moment it was opened
        // for ever, while /healthz (reading the commit on disk) said
        // search was current. Seen after restarts under load.
        if let Some((_, in_use)) = &*current {
            return Ok(in_use.clone());
        }
        *current = Some((generation, index.clone()));
        Ok(index)
    }

    /// The id of the last change-feed entry the index in use has applied
    /// (its last commit), for the lag in `/healthz` and `/metrics`.
    pub fn applied_cursor(&self) -> Option<i64> {
        self.index().ok()?.visible_cursor()
    }

    fn set_current(&self, generation: String, index: Arc<SearchIndex>) {
        *self.current.write().expect("search lock") = Some((generation, index));
    }
}

impl Registry {
    pub fn search(&self, params: &SearchParams) -> Result<SearchResults> {
        Ok(self.search.index()?.search(params)?)
    }

    /// At most `limit` (capped at [`MAX_SUGGESTIONS`]) typeahead entries.
    pub fn suggest(&self, q: &str, limit: usize) -> Result<Vec<Suggestion>> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(bad(format!(
                "q has {} characters; at most {MAX_QUERY_CHARS} are allowed",
                q.chars().count()
            )));
        }
        Ok(self
            .search
            .index()?
            .suggest(q, limit.clamp(1, MAX_SUGGESTIONS))?)
    }
}

/// Packages whose downloads changed at or after `since`, with their recent
/// downloads: in pages in the index's order. A range on a column without
/// statistics is estimated at a third of the table, and for that many rows
/// PostgreSQL reads the whole table instead of the index; for a page of a
/// thousand in index order it takes the index.
fn changed_downloads(conn: &mut DbConn, since: chrono::NaiveDateTime) -> Result<Vec<(i64, i64)>> {
    const PAGE: i64 = 1000;
    let mut out = Vec::new();
    // Where the last page ended; ids are positive.
    let mut after = (since, 0i64);
    loop {
        let (t, id) = after;
        let query = packages::table
            .filter(packages::downloads_changed_at.ge(t))
            .filter(packages::downloads_changed_at.gt(t).or(packages::id.gt(id)))
            .order((packages::downloads_changed_at, packages::id))
            .limit(PAGE)
            .select((
                packages::id,
                packages::recent_downloads,
                packages::downloads_changed_at,
            ));
        let page: Vec<(i64, i64, Option<chrono::NaiveDateTime>)> = query.load(conn)?;
        let full = page.len() as i64 == PAGE;
        let next = match page.last() {
            Some((id, _, Some(t))) if full => Some((*t, *id)),
            _ => None,
        };
        out.extend(page.into_iter().map(|(id, d, _)| (id, d)));
        match next {
            Some(n) => after = n,
            None => return Ok(out),
        }
    }
}

// ---- what is indexed --------------------------------------------------------

fn text_de(t: &Option<gemeinwerk_package::model::Text>, out: &mut Vec<String>) {
    if let Some(t) = t {
        out.push(t.de.clone());
    }
}

/// Labels and FIM ids of a package's content.
fn labels_and_fim(content: &Content, labels: &mut Vec<String>, keys: &mut Vec<String>) {
    let body_items = |items: &[Item], labels: &mut Vec<String>, keys: &mut Vec<String>| {
        walk(items, "", &mut |_, item| match item {
            Item::Field(f) => {
                text_de(&f.label, labels);
                if let Some(fim) = &f.fim {
                    keys.push(fim.id.clone());
                }
            }
            Item::Group(g) => {
                text_de(&g.label, labels);
                if let Some(fim) = &g.fim {
                    keys.push(fim.id.clone());
                }
            }
        });
    };
    match content {
        Content::Form(f) => {
            text_de(&f.title, labels);
            if let Some(fim) = &f.fim {
                keys.push(fim.id.clone());
            }
            body_items(&f.body.items, labels, keys);
            labels.extend(f.body.codelists.iter().filter_map(|c| c.label.clone()));
        }
        Content::Fieldgroup(g) => {
            text_de(&g.label, labels);
            if let Some(fim) = &g.fim {
                keys.push(fim.id.clone());
            }
            body_items(&g.body.items, labels, keys);
            labels.extend(g.body.codelists.iter().filter_map(|c| c.label.clone()));
        }
        // The labels of the codes are what people look for ("Bayern"), but
        // those of a list of 20,000 codes would drown every other package.
        Content::Codelist(l) => {
            labels.push(l.label.clone());
            if l.codes.len() <= 1_000 {
                labels.extend(l.codes.iter().filter_map(|c| c.label.clone()));
            }
            if let Some(uri) = &l.canonical_uri {
                keys.push(uri.clone());
            }
        }
        Content::Process(p) => {
            text_de(&p.title, labels);
            labels.extend(p.roles.iter().map(|r| r.label.clone()));
            for s in &p.states {
                text_de(&s.label, labels);
            }
            for t in &p.transitions {
                text_de(&t.label, labels);
            }
            for f in &p.fees {
                text_de(&f.label, labels);
            }
            for n in &p.notices {
                text_de(&n.label, labels);
            }
        }
    }
}

fn newest_visible(versions: &[Version]) -> Option<&Version> {
    versions
        .iter()
        .filter(|v| v.yanked_at.is_none())
        .filter_map(|v| semver::Version::parse(&v.num).ok().map(|s| (s, v)))
        .max_by(|a, b| a.0.cmp_precedence(&b.0))
        .map(|(_, v)| v)
}

/// What the index should hold for a package, from the database and the
/// archive of its newest non-yanked version; `None` when nothing.
pub fn package_doc(
    reg: &Registry,
    conn: &mut DbConn,
    package_id: i64,
) -> Result<Option<PackageDoc>> {
    Ok(package_docs(reg, conn, &[package_id])?.pop().flatten())
}

/// [`package_doc`] for many packages, in the order given: the database is
/// read one package after another on `conn`, the archives are fetched and
/// read by several threads at once: an archive read is a request to the
/// object store that mostly waits, and a node catching up (a new node, a
/// rebuild) reads one per package.
pub fn package_docs(
    reg: &Registry,
    conn: &mut DbConn,
    package_ids: &[i64],
) -> Result<Vec<Option<PackageDoc>>> {
    let mut docs: Vec<Option<(PackageDoc, String)>> = package_ids
        .iter()
        .map(|id| doc_from_database(conn, *id))
        .collect::<Result<_>>()?;
    let per_thread = docs.len().div_ceil(ARCHIVE_READERS).max(1);
    std::thread::scope(|scope| {
        let readers: Vec<_> = docs
            .chunks_mut(per_thread)
            .map(|chunk| {
                scope.spawn(move || -> Result<()> {
                    for (doc, cksum) in chunk.iter_mut().flatten() {
                        add_archive_content(reg, doc, cksum)?;
                    }
                    Ok(())
                })
            })
            .collect();
        readers
            .into_iter()
            .try_for_each(|r| r.join().expect("an archive reader panicked"))
    })?;
    Ok(docs.into_iter().map(|d| d.map(|(doc, _)| doc)).collect())
}

/// Archives read at once by [`package_docs`].
const ARCHIVE_READERS: usize = 8;

/// The database's part of a package's document, and the checksum of the
/// archive that has the rest.
fn doc_from_database(conn: &mut DbConn, package_id: i64) -> Result<Option<(PackageDoc, String)>> {
    let row: Option<(Package, Namespace)> = packages::table
        .inner_join(namespaces::table)
        .filter(packages::id.eq(package_id))
        .select((Package::as_select(), Namespace::as_select()))
        .first(conn)
        .optional()?;
    let Some((package, ns)) = row else {
        return Ok(None);
    };
    let versions = index::package_versions(conn, package.id)?;
    let Some(version) = newest_visible(&versions) else {
        return Ok(None);
    };
    let full_name = format!("{}/{}", ns.slug, package.name);
    let forks: i64 = packages::table
        .filter(packages::upstream.eq(&full_name))
        .count()
        .get_result(conn)?;
    let mut doc = PackageDoc {
        id: package.id as u64,
        namespace: ns.slug.clone(),
        name: package.name.clone(),
        version: version.num.clone(),
        kind: package.kind.clone(),
        title: package.title.clone(),
        description: package.description.clone(),
        publisher: format!("{} {}", ns.display_name, ns.ars.clone().unwrap_or_default()),
        downloads: package.recent_downloads.max(0) as u64,
        forks: forks.max(0) as u64,
        deprecated: package.deprecated.is_some(),
        updated_at: package.updated_at,
        ..Default::default()
    };
    if let Ok((manifest, _)) = gemeinwerk_package::manifest::parse_manifest(&version.manifest) {
        doc.title = manifest.title.clone().or(doc.title);
        doc.description = manifest.description.clone();
        doc.keywords = manifest.keywords.clone();
        doc.themenfeld = manifest.themenfeld.clone();
        doc.keys.extend(manifest.leika.clone());
        // FIM provenance: the schema or group the package was made from.
        doc.keys.extend(manifest.fim.as_ref().map(|f| f.id.clone()));
    }
    Ok(Some((doc, version.cksum.clone())))
}

/// The archive has the content: labels, FIM ids, trust level, README.
/// One that cannot be read leaves the package findable by its manifest.
fn add_archive_content(reg: &Registry, doc: &mut PackageDoc, cksum: &str) -> Result<()> {
    let files = match reg.blobs.get(cksum) {
        Ok(Some(bytes)) => archive::unpack(&bytes, &reg.config.limits)
            .ok()
            .map(|(_, f)| f),
        Ok(None) | Err(BlobError::Corrupt { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(files) = files {
        if let Ok((manifest, content)) = gemeinwerk_package::content::read_content(&files) {
            labels_and_fim(&content, &mut doc.labels, &mut doc.keys);
            if let Content::Form(f) = &content {
                doc.vertrauensniveau = f.vertrauensniveau.map(|v| v.as_str().to_string());
            }
            let readme = manifest.readme.as_deref().unwrap_or("README.md");
            if let Some(text) = files.get(readme).filter(|_| readme != MANIFEST_FILE) {
                doc.readme = String::from_utf8_lossy(text).into_owned();
            }
        }
    }
    Ok(())
}

fn package_id(conn: &mut DbConn, full_name: &str) -> Result<Option<i64>> {
    let Some((ns, name)) = full_name.split_once('/') else {
        return Ok(None);
    };
    Ok(index::find_package(conn, ns, name)?.map(|p| p.id))
}

/// Re-indexes packages (or removes them) from the database.
fn apply(
    reg: &Registry,
    conn: &mut DbConn,
    w: &mut SearchWriter,
    package_ids: &[i64],
) -> Result<()> {
    for (id, doc) in package_ids
        .iter()
        .zip(package_docs(reg, conn, package_ids)?)
    {
        match doc {
            Some(doc) => w.upsert(&doc)?,
            None => w.delete(*id as u64),
        }
    }
    Ok(())
}

/// The packages an audit entry touches: its target, and for a fork or a
/// publish the upstream too (its fork count moves).
fn touched(conn: &mut DbConn, action: &str, target: &str, details: &str) -> Result<Vec<i64>> {
    let action = match action.parse::<AuditAction>() {
        Ok(action) => action,
        // Written by a newer release or by hand: no package document of
        // this build depends on an action it does not know.
        Err(unknown) => {
            tracing::debug!(%unknown, audit.target = %target, "audit entry skipped by the search follower");
            return Ok(Vec::new());
        }
    };
    if !action.targets_package() {
        return Ok(Vec::new());
    }
    let name = target.split('@').next().unwrap_or(target);
    let mut ids = Vec::new();
    ids.extend(package_id(conn, name)?);
    let upstream = serde_json::from_str::<serde_json::Value>(details)
        .ok()
        .and_then(|d| d["upstream"].as_str().map(str::to_string));
    let upstream = match upstream {
        Some(u) => Some(u),
        None if action == AuditAction::Publish => packages::table
            .filter(packages::id.eq_any(&ids))
            .select(packages::forked_from)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten(),
        None => None,
    };
    if let Some(up) = upstream {
        ids.extend(package_id(conn, up.split('@').next().unwrap_or(&up))?);
    }
    Ok(ids)
}

fn max_audit_id(conn: &mut DbConn) -> Result<i64> {
    Ok(audit_log::table
        .select(diesel::dsl::max(audit_log::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

#[derive(Debug, Default)]
pub struct RebuildReport {
    pub generation: String,
    pub packages: usize,
}

/// Builds a new generation from the database and makes it current. A
/// running server switches to it within a second.
pub fn rebuild(reg: &Registry) -> Result<RebuildReport> {
    let (generation, path) = reg.search.dir.new_generation()?;
    let index = SearchIndex::create(&path)?;
    let mut writer = index.writer()?;
    let mut conn = reg.db.conn()?;
    // Read the feed's position first: what changes while we index is
    // applied again by the follower, never lost.
    let cursor = max_audit_id(&mut conn)?;
    let ids: Vec<i64> = packages::table
        .select(packages::id)
        .order(packages::id)
        .load(&mut *conn)?;
    let mut count = 0;
    for chunk in ids.chunks(FEED_BATCH as usize) {
        for doc in package_docs(reg, &mut conn, chunk)?.into_iter().flatten() {
            writer.upsert(&doc)?;
            count += 1;
        }
    }
    writer.commit(cursor)?;
    writer.merge_all()?;
    writer.finish()?;
    let previous = reg.search.dir.current();
    reg.search.dir.switch_to(&generation, previous.as_deref())?;
    tracing::info!(search.generation = %generation, packages = count, "search index rebuilt");
    Ok(RebuildReport {
        generation,
        packages: count,
    })
}

/// An audit entry as the follower reads it: id, action, target, details.
type Entry = (i64, String, String, String);
const ENTRY_COLUMNS: (
    audit_log::id,
    audit_log::action,
    audit_log::target,
    audit_log::details,
) = (
    audit_log::id,
    audit_log::action,
    audit_log::target,
    audit_log::details,
);

/// The follower: applies the change feed to the index of this server.
/// The server runs it in its own thread ([`spawn_follower`]); tests step
/// it by hand to look at the queries of one step.
pub struct Follower {
    reg: Arc<Registry>,
    generation: String,
    index: Arc<SearchIndex>,
    writer: SearchWriter,
    cursor: i64,
    /// Ids below the cursor that were missing when the follower read past
    /// them, and since when: looked up again in the late-commit window.
    gaps: BTreeMap<i64, Instant>,
    /// Whether the first step (after start or a switch) is still to come:
    /// it reads again the entries just below the cursor that may have
    /// committed while no follower was watching.
    first_step: bool,
    last_adoption: Instant,
    /// Where the next download refresh starts reading; `None`: every
    /// package (once after start).
    downloads_since: Option<chrono::NaiveDateTime>,
}

impl Follower {
    /// Opens the current generation, rebuilding it when it is missing,
    /// damaged or of another schema version.
    pub fn start(reg: Arc<Registry>) -> Result<Follower> {
        let dir = &reg.search.dir;
        let opened = dir
            .current()
            .map(|g| (g.clone(), SearchIndex::open(&dir.path_of(&g))));
        let (generation, index) = match opened {
            Some((g, Ok(index))) => (g, index),
            Some((g, Err(e))) => {
                tracing::warn!(search.generation = %g, error = %e, "search index unusable; rebuilding it from the database");
                let report = rebuild(&reg)?;
                let index = SearchIndex::open(&dir.path_of(&report.generation))?;
                (report.generation, index)
            }
            None => {
                tracing::info!("no search index yet; building it from the database");
                let report = rebuild(&reg)?;
                let index = SearchIndex::open(&dir.path_of(&report.generation))?;
                (report.generation, index)
            }
        };
        dir.remove_others(&generation);
        Self::with(reg, generation, Arc::new(index))
    }

    fn with(reg: Arc<Registry>, generation: String, index: Arc<SearchIndex>) -> Result<Follower> {
        let writer = index.writer()?;
        let cursor = index.payload()?.map_or(0, |p| p.cursor);
        reg.search.set_current(generation.clone(), index.clone());
        Ok(Follower {
            reg,
            generation,
            index,
            writer,
            cursor,
            gaps: BTreeMap::new(),
            first_step: true,
            last_adoption: Instant::now(),
            downloads_since: None,
        })
    }

    /// Applies what is new in the feed; returns whether more is waiting
    /// (a full batch was read), so that a follower far behind catches up
    /// without pausing.
    pub fn step(&mut self) -> Result<bool> {
        let reg = self.reg.clone();
        let mut conn = reg.db.conn()?;
        let new: Vec<Entry> = audit_log::table
            .filter(audit_log::id.gt(self.cursor))
            .order(audit_log::id)
            .limit(FEED_BATCH)
            .select(ENTRY_COLUMNS)
            .load(&mut *conn)?;
        let more = new.len() as i64 == FEED_BATCH;
        let mut late = if self.first_step {
            self.first_step = false;
            self.recent_below_cursor(&mut conn)?
        } else {
            self.late_commits(&mut conn)?
        };
        let mut expected = self.cursor + 1;
        for (id, ..) in &new {
            self.watch_gap(expected, *id);
            expected = id + 1;
        }
        late.extend(new);
        let mut ids = HashSet::new();
        let mut cursor = self.cursor;
        for (id, action, target, details) in &late {
            ids.extend(touched(&mut conn, action, target, details)?);
            cursor = cursor.max(*id);
        }
        let every = *reg.search.adoption_refresh.read().expect("search lock");
        if self.last_adoption.elapsed() >= every {
            ids.extend(self.adoption_changes(&mut conn)?);
            self.last_adoption = Instant::now();
        }
        self.gaps.retain(|_, at| at.elapsed() < LATE_COMMIT_WINDOW);
        if ids.is_empty() && cursor == self.cursor {
            return Ok(more);
        }
        let ids: Vec<i64> = ids.into_iter().collect();
        apply(&reg, &mut conn, &mut self.writer, &ids)?;
        self.writer.commit(cursor)?;
        self.index.reload()?;
        self.cursor = cursor;
        Ok(more)
    }

    /// Gives the index's writer lock back.
    pub fn finish(self) -> Result<()> {
        Ok(self.writer.finish()?)
    }

    /// Notes the ids from `from` up to (not including) `to` as missing.
    fn watch_gap(&mut self, from: i64, to: i64) {
        let at = Instant::now();
        for id in from.max(to - MAX_GAPS)..to {
            self.gaps.insert(id, at);
        }
        while self.gaps.len() as i64 > MAX_GAPS {
            self.gaps.pop_first();
        }
    }

    /// The entries whose ids were missing when read past and have
    /// committed since: primary-key lookups, as many as are watched.
    fn late_commits(&mut self, conn: &mut DbConn) -> Result<Vec<Entry>> {
        if self.gaps.is_empty() {
            return Ok(Vec::new());
        }
        let watched: Vec<i64> = self.gaps.keys().copied().collect();
        let found: Vec<Entry> = audit_log::table
            .filter(audit_log::id.eq_any(&watched))
            .order(audit_log::id)
            .select(ENTRY_COLUMNS)
            .load(conn)?;
        for (id, ..) in &found {
            self.gaps.remove(id);
        }
        Ok(found)
    }

    /// After a start: the recent entries among the last [`FEED_BATCH`]
    /// ids below the cursor (one of them may have committed after the
    /// previous process read past it), and the ids missing there.
    fn recent_below_cursor(&mut self, conn: &mut DbConn) -> Result<Vec<Entry>> {
        let window_start = crate::store::db::now()
            - chrono::Duration::from_std(LATE_COMMIT_WINDOW).expect("small");
        let rows: Vec<(Entry, chrono::NaiveDateTime)> = audit_log::table
            .filter(audit_log::id.gt(self.cursor - FEED_BATCH))
            .filter(audit_log::id.le(self.cursor))
            .order(audit_log::id)
            .select((ENTRY_COLUMNS, audit_log::created_at))
            .load(conn)?;
        let mut expected = (self.cursor - FEED_BATCH + 1).max(1);
        let mut recent = Vec::new();
        for (entry, created_at) in rows {
            self.watch_gap(expected, entry.0);
            expected = entry.0 + 1;
            if created_at >= window_start {
                recent.push(entry);
            }
        }
        self.watch_gap(expected, self.cursor + 1);
        Ok(recent)
    }

    /// Packages whose download count moved since the last pass and differs
    /// from the index's; the first pass after start reads every package.
    fn adoption_changes(&mut self, conn: &mut DbConn) -> Result<Vec<i64>> {
        // Reads overlap by the late-commit window: a flush stamps its rows
        // before it commits.
        let next_since = crate::store::db::now()
            - chrono::Duration::from_std(LATE_COMMIT_WINDOW).expect("small");
        let rows: Vec<(i64, i64)> = match self.downloads_since {
            Some(since) => changed_downloads(conn, since)?,
            None => packages::table
                .select((packages::id, packages::recent_downloads))
                .load(conn)?,
        };
        self.downloads_since = Some(next_since);
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let indexed: HashMap<u64, u64> = self.index.downloads()?;
        Ok(rows
            .into_iter()
            .filter(|(id, d)| indexed.get(&(*id as u64)).is_some_and(|n| *n != *d as u64))
            .map(|(id, _)| id)
            .collect())
    }

    /// Switches to a generation that `admin reindex` made current.
    fn follow_switch(self) -> Follower {
        let dir = self.reg.search.dir.clone();
        let Some(g) = dir.current().filter(|g| *g != self.generation) else {
            return self;
        };
        let index = match SearchIndex::open(&dir.path_of(&g)) {
            Ok(index) => Arc::new(index),
            Err(e) => {
                tracing::error!(search.generation = %g, error = %e, "cannot open the rebuilt search index; staying on the old one");
                return self;
            }
        };
        let reg = self.reg.clone();
        let (old_generation, old_index) = (self.generation.clone(), self.index.clone());
        // Our writer's lock goes before the new one is taken.
        let _ = self.writer.finish();
        match Self::with(reg.clone(), g.clone(), index) {
            Ok(follower) => {
                dir.remove_others(&g);
                tracing::info!(search.generation = %g, "switched to the rebuilt search index");
                follower
            }
            Err(e) => {
                tracing::error!(search.generation = %g, error = %e, "cannot write to the rebuilt search index; staying on the old one");
                Self::with(reg, old_generation, old_index)
                    .expect("reopening the index we just left")
            }
        }
    }
}

/// Starts the follower thread; it stops when `stop` is set.
pub fn spawn_follower(reg: Arc<Registry>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let stopping = stop.clone();
    let stop = stopping.clone();
    super::supervisor::spawn("gemeinwerk-search", stopping, move || {
        let mut follower = loop {
            match Follower::start(reg.clone()) {
                Ok(f) => break f,
                Err(e) => {
                    tracing::error!(error = %e, "search index cannot be opened or rebuilt; retrying");
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    reg.search.wakeup.wait(Duration::from_secs(5));
                }
            }
        };
        loop {
            match follower.step() {
                Ok(true) if !stop.load(Ordering::SeqCst) => continue,
                Ok(true) => {}
                Ok(false) => {}
                Err(e) => tracing::error!(error = %e, "search index follower"),
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let every = *reg.search.adoption_refresh.read().expect("search lock");
            reg.search
                .wakeup
                .wait(Duration::from_millis(500).min(every));
            follower = follower.follow_switch();
        }
        let _ = follower.writer.finish();
    })
}
