//! `admin fsck`: compares every derived view with the source of truth (the
//! database and the blob store) and, on request, rewrites what differs.

use std::collections::BTreeSet;

use diesel::prelude::*;
use registry_index::{package_path, serialize_lines};

use super::error::Result;
use super::{index, Registry};
use crate::store::blobs::BlobState;
use crate::store::schema::{namespaces, packages, versions};
use crate::store::DbConn;

#[derive(Debug, Default)]
pub struct FsckReport {
    pub packages: usize,
    pub blobs: usize,
    pub problems: Vec<String>,
    pub repaired: usize,
    /// Blobs no version names: what a crash or a lost race between the
    /// blob write and the commit leaves. Harmless, so not a problem.
    pub orphans: Vec<String>,
    pub orphans_removed: usize,
    /// What is not wrong with the data but with how it is served (tables
    /// without statistics): said, and fixed on `--repair`, never a failure.
    pub warnings: Vec<String>,
}

/// An orphan younger than this may belong to a publish still in flight
/// (the blob is written before the commit), so repair leaves it.
const ORPHAN_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

pub fn check(reg: &Registry, repair: bool) -> Result<FsckReport> {
    let mut report = FsckReport::default();
    let mut conn = reg.db.conn()?;
    check_statistics(&mut conn, repair, &mut report)?;
    let all = index::all_packages(&mut conn)?;
    report.packages = all.len();

    let archives = archives(&mut conn)?;
    check_kinds(&archives, &mut report);
    check_orphans(reg, &archives, repair, &mut report)?;
    check_jobs(&mut conn, repair, &mut report)?;
    check_blobs(reg, &archives, &mut report)?;

    let expected = expected_index(&mut conn, &all)?;
    // A repair commit's time is the newest change in the database.
    let newest: Option<chrono::NaiveDateTime> = packages::table
        .select(diesel::dsl::max(packages::updated_at))
        .first(&mut *conn)?;
    drop(conn);

    check_histories(reg, &all, &expected, repair, &mut report)?;
    check_git_index(reg, &expected, newest, repair, &mut report)?;
    Ok(report)
}

/// Tables without statistics: a warning, analysed on repair.
fn check_statistics(conn: &mut DbConn, repair: bool, report: &mut FsckReport) -> Result<()> {
    let unanalysed = super::db_health::never_analysed(conn)?;
    report.warnings = unanalysed.iter().map(|t| t.warning()).collect();
    if repair && !unanalysed.is_empty() {
        super::db_health::analyse(conn, &unanalysed)?;
        for t in &unanalysed {
            report
                .warnings
                .push(format!("database: analysed table {}", t.table));
        }
    }
    Ok(())
}

/// Every published version: namespace, name, version, checksum, the
/// package's kind and the version's manifest.
struct Archive {
    namespace: String,
    name: String,
    num: String,
    cksum: String,
    kind: String,
    manifest: String,
}

fn archives(conn: &mut DbConn) -> Result<Vec<Archive>> {
    let rows: Vec<(String, String, String, String, String, String)> = versions::table
        .inner_join(packages::table.inner_join(namespaces::table))
        .select((
            namespaces::slug,
            packages::name,
            versions::num,
            versions::cksum,
            packages::kind,
            versions::manifest,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(namespace, name, num, cksum, kind, manifest)| Archive {
            namespace,
            name,
            num,
            cksum,
            kind,
            manifest,
        })
        .collect())
}

/// A package has one kind; a version whose manifest says another (a race
/// before kinds were decided inside the publish transaction) makes the
/// index describe an archive wrongly. Only a person can decide which is
/// right, so this is reported, not repaired.
fn check_kinds(archives: &[Archive], report: &mut FsckReport) {
    for a in archives {
        let version_kind = toml::from_str::<toml::Table>(&a.manifest)
            .ok()
            .and_then(|v| v.get("package")?.get("kind")?.as_str().map(str::to_string));
        if version_kind.as_deref() != Some(a.kind.as_str()) {
            report.problems.push(format!(
                "database: {}/{} is a {} package, but the manifest of {} says {}",
                a.namespace,
                a.name,
                a.kind,
                a.num,
                version_kind.as_deref().unwrap_or("nothing readable")
            ));
        }
    }
}

/// Blobs no version names; removed on repair once past the grace time.
fn check_orphans(
    reg: &Registry,
    archives: &[Archive],
    repair: bool,
    report: &mut FsckReport,
) -> Result<()> {
    let named: BTreeSet<&str> = archives.iter().map(|a| a.cksum.as_str()).collect();
    for blob in reg.blobs.list()? {
        if named.contains(blob.as_str()) {
            continue;
        }
        if repair && reg.blobs.age(&blob)?.is_some_and(|age| age > ORPHAN_GRACE) {
            reg.blobs.delete(&blob)?;
            report.orphans_removed += 1;
        }
        report.orphans.push(blob);
    }
    Ok(())
}

/// Jobs that were given up on leave their view behind; requeued on repair.
fn check_jobs(conn: &mut DbConn, repair: bool, report: &mut FsckReport) -> Result<()> {
    for job in super::jobs::parked(conn)? {
        report.problems.push(format!(
            "job queue: {} {} is parked after {} attempts: {}",
            job.kind,
            job.payload,
            job.attempts,
            job.last_error.as_deref().unwrap_or("no error recorded")
        ));
    }
    if repair {
        report.repaired += super::jobs::requeue_parked(conn)?;
    }
    Ok(())
}

/// Every archive the database names must be in the blob store, intact.
fn check_blobs(reg: &Registry, archives: &[Archive], report: &mut FsckReport) -> Result<()> {
    for a in archives {
        let (ns, name, num, cksum) = (&a.namespace, &a.name, &a.num, &a.cksum);
        report.blobs += 1;
        match reg.blobs.check(cksum)? {
            BlobState::Missing => report.problems.push(format!(
                "blob store: the archive of {ns}/{name}@{num} ({cksum}) is missing"
            )),
            BlobState::Corrupt => report.problems.push(format!(
                "blob store: the archive of {ns}/{name}@{num} does not match its checksum"
            )),
            BlobState::Intact => {}
        }
    }
    Ok(())
}

/// The git index's files as the database implies them: each package's
/// path and content (`None`: no published version, so no file).
fn expected_index(
    conn: &mut DbConn,
    all: &[(String, String)],
) -> Result<Vec<(String, Option<String>)>> {
    let mut expected = Vec::new();
    for (ns, name) in all {
        let lines = index::index_lines(conn, ns, name)?.unwrap_or_default();
        let content = (!lines.is_empty()).then(|| serialize_lines(&lines));
        expected.push((package_path(ns, name), content));
    }
    Ok(expected)
}

/// Every package history this node holds must tag exactly the commits the
/// database implies; they are deterministic, so a rebuild gives the same
/// ids.
fn check_histories(
    reg: &Registry,
    all: &[(String, String)],
    expected: &[(String, Option<String>)],
    repair: bool,
    report: &mut FsckReport,
) -> Result<()> {
    let published: BTreeSet<&str> = expected
        .iter()
        .filter(|(_, content)| content.is_some())
        .map(|(path, _)| path.as_str())
        .collect();
    for (ns, name) in all {
        // A registered fork without versions has no history yet.
        if !published.contains(package_path(ns, name).as_str()) {
            continue;
        }
        // Histories are a cache (`history_cache`): one this node does not
        // hold is made when a client asks for it.
        if !super::history::repo_path(reg, ns, name)
            .join("HEAD")
            .exists()
        {
            continue;
        }
        let full_name = format!("{ns}/{name}");
        let (expected_chain, actual_chain) =
            match super::history::expected_and_actual(reg, &full_name) {
                Ok(pair) => pair,
                Err(e) => {
                    report.problems.push(format!(
                        "package history: {full_name} cannot be rebuilt: {e}"
                    ));
                    continue;
                }
            };
        if expected_chain != actual_chain {
            report.problems.push(format!(
                "package history: {full_name} differs from the database"
            ));
            if repair {
                super::history::rebuild_history(reg, &full_name)?;
                report.repaired += 1;
            }
        }
    }
    Ok(())
}

/// The git index must hold exactly the files the database implies.
fn check_git_index(
    reg: &Registry,
    expected: &[(String, Option<String>)],
    newest: Option<chrono::NaiveDateTime>,
    repair: bool,
    report: &mut FsckReport,
) -> Result<()> {
    // Several nodes: the git index is the one in the bucket, written by one
    // node. Look at a copy of it of fsck's own (never at a node's working
    // repository), and leave the repairs to its writer.
    if super::shared_index::is_shared(reg) {
        let copy = reg.data_dir.join("git").join("fsck-index.git");
        if super::shared_index::fetch_into(reg, &copy)?.is_none() {
            return Ok(());
        }
        let git = registry_index::GitIndex::open_or_init(&copy)?;
        let fixes = index_differences(&git, expected, report)?;
        if repair && !fixes.is_empty() {
            let mut conn = reg.db.conn()?;
            for (path, _) in &fixes {
                super::jobs::enqueue(&mut conn, super::jobs::Job::SyncIndex, path)?;
            }
            report.repaired += fixes.len();
        }
        return Ok(());
    }
    reg.git.with(reg, |git| {
        let fixes = index_differences(git, expected, report)?;
        if repair && !fixes.is_empty() {
            git.commit_files(
                &fixes,
                &registry_index::CommitInfo {
                    time: newest.map_or(0, |t| t.and_utc().timestamp()),
                    message: "Repair the index from the database (admin fsck)".into(),
                },
            )?;
            report.repaired += fixes.len();
        }
        Ok(())
    })
}

/// What the git index holds that the database does not imply, reported,
/// and the files that would put it right.
fn index_differences(
    git: &registry_index::GitIndex,
    expected: &[(String, Option<String>)],
    report: &mut FsckReport,
) -> Result<Vec<(String, Option<String>)>> {
    let present: BTreeSet<String> = git.list_files()?.into_iter().collect();
    // config.json names the URL the server is reached at; the server
    // writes it at start, and only the server knows that URL.
    let mut known: BTreeSet<String> = expected.iter().map(|(p, _)| p.clone()).collect();
    known.insert("config.json".to_string());
    let mut fixes = Vec::new();
    // One pass through one handle: at a million packages a handle per
    // file would make fsck reopen the index a million times.
    let files = expected
        .iter()
        .map(|(path, content)| (path.as_str(), content));
    git.visit_files(files, |path, content, actual| {
        if actual != content.as_ref().map(|c| c.as_bytes()) {
            report
                .problems
                .push(format!("git index: {path} differs from the database"));
            fixes.push((path.to_string(), content.clone()));
        }
    })?;
    for stray in present.difference(&known) {
        report.problems.push(format!(
            "git index: {stray} is not a package in the database"
        ));
        fixes.push((stray.clone(), None));
    }
    Ok(fixes)
}
