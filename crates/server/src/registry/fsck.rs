//! `admin fsck`: compares every derived view with the source of truth (the
//! database and the blob store) and, on request, rewrites what differs.

use std::collections::BTreeSet;

use diesel::prelude::*;
use registry_index::{package_path, serialize_lines};

use super::error::Result;
use super::{index, Registry};
use crate::store::schema::{namespaces, packages, versions};
use gemeinwerk_package::archive::sha256_hex;

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
    let unanalysed = super::db_health::never_analysed(&mut conn)?;
    report.warnings = unanalysed.iter().map(|t| t.warning()).collect();
    if repair && !unanalysed.is_empty() {
        super::db_health::analyse(&mut conn, &unanalysed)?;
        for t in &unanalysed {
            report
                .warnings
                .push(format!("database: analysed table {}", t.table));
        }
    }
    let all = index::all_packages(&mut conn)?;
    report.packages = all.len();

    // Every archive the database names must be in the blob store, intact.
    let archives: Vec<(String, String, String, String, String, String)> = versions::table
        .inner_join(packages::table.inner_join(namespaces::table))
        .select((
            namespaces::slug,
            packages::name,
            versions::num,
            versions::cksum,
            packages::kind,
            versions::manifest,
        ))
        .load(&mut *conn)?;
    // A package has one kind; a version whose manifest says another (a
    // race before kinds were decided inside the publish transaction) makes
    // the index describe an archive wrongly. Only a person can decide which
    // is right, so this is reported, not repaired.
    for (ns, name, num, _, kind, manifest) in &archives {
        let version_kind = toml::from_str::<toml::Table>(manifest)
            .ok()
            .and_then(|v| v.get("package")?.get("kind")?.as_str().map(str::to_string));
        if version_kind.as_deref() != Some(kind.as_str()) {
            report.problems.push(format!(
                "database: {ns}/{name} is a {kind} package, but the manifest of {num} says {}",
                version_kind.as_deref().unwrap_or("nothing readable")
            ));
        }
    }
    let named: BTreeSet<&str> = archives.iter().map(|a| a.3.as_str()).collect();
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

    // Jobs that were given up on leave their view behind.
    for job in super::jobs::parked(&mut conn)? {
        report.problems.push(format!(
            "job queue: {} {} is parked after {} attempts: {}",
            job.kind,
            job.payload,
            job.attempts,
            job.last_error.as_deref().unwrap_or("no error recorded")
        ));
    }
    if repair {
        report.repaired += super::jobs::requeue_parked(&mut conn)?;
    }
    for (ns, name, num, cksum, _, _) in &archives {
        report.blobs += 1;
        match reg.blobs.get(cksum)? {
            None => report.problems.push(format!(
                "blob store: the archive of {ns}/{name}@{num} ({cksum}) is missing"
            )),
            Some(bytes) if sha256_hex(&bytes) != *cksum => report.problems.push(format!(
                "blob store: the archive of {ns}/{name}@{num} does not match its checksum"
            )),
            Some(_) => {}
        }
    }

    // The git index must hold exactly the files the database implies.
    let mut expected = Vec::new();
    for (ns, name) in &all {
        let lines = index::index_lines(&mut conn, ns, name)?.unwrap_or_default();
        let content = (!lines.is_empty()).then(|| serialize_lines(&lines));
        expected.push((package_path(ns, name), content));
    }
    // A repair commit's time is the newest change in the database.
    let newest: Option<chrono::NaiveDateTime> = packages::table
        .select(diesel::dsl::max(packages::updated_at))
        .first(&mut *conn)?;
    drop(conn);

    // Every package's history must tag exactly the commits the database
    // implies; they are deterministic, so a rebuild gives the same ids.
    let published = expected
        .iter()
        .filter(|(_, content)| content.is_some())
        .map(|(path, _)| path.clone());
    let published: BTreeSet<String> = published.collect();
    for (ns, name) in &all {
        // A registered fork without versions has no history yet.
        if !published.contains(&package_path(ns, name)) {
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

    reg.git.with(reg, |git| {
        let present: BTreeSet<String> = git.list_files()?.into_iter().collect();
        // config.json names the URL the server is reached at; the server
        // writes it at start, and only the server knows that URL.
        let mut known: BTreeSet<String> = expected.iter().map(|(p, _)| p.clone()).collect();
        known.insert("config.json".to_string());
        let mut fixes = Vec::new();
        for (path, content) in &expected {
            let actual = git.read_file(path)?;
            if actual.as_deref() != content.as_ref().map(|c| c.as_bytes()) {
                report
                    .problems
                    .push(format!("git index: {path} differs from the database"));
                fixes.push((path.clone(), content.clone()));
            }
        }
        for stray in present.difference(&known) {
            report.problems.push(format!(
                "git index: {stray} is not a package in the database"
            ));
            fixes.push((stray.clone(), None));
        }
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
    })?;
    Ok(report)
}
