//! `gemeinwerk upstream status|diff|merge|resolve`: following the package a
//! fork was made from.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use anyhow::Context as _;

use super::{output, refused, RegistryArgs};
use crate::tr;
use gemeinwerk_client::http::RegistryClient;
use gemeinwerk_client::{credentials, folder, resolve};
use gemeinwerk_package::content::read_content;
use gemeinwerk_package::diff::{diff, Diff};
use gemeinwerk_package::manifest::{fork_manifest, parse_manifest, ForkedFrom, MANIFEST_FILE};
use gemeinwerk_package::merge::{self, MergeInfo, Side};
use gemeinwerk_package::{check_package, PackageFiles};
use registry_index::IndexLine;

#[derive(Subcommand)]
pub enum UpstreamCommand {
    /// Newer upstream versions and what changed in them.
    Status {
        /// The fork's folder (default: the current one).
        dir: Option<PathBuf>,
    },
    /// The changes from the version the fork builds on to a newer one.
    Diff {
        /// The fork's folder (default: the current one).
        dir: Option<PathBuf>,
        /// The upstream version to compare with (default: the newest).
        #[arg(long)]
        to: Option<String>,
    },
    /// Merge upstream changes into the fork's folder, property by property.
    Merge {
        /// The fork's folder (default: the current one).
        dir: Option<PathBuf>,
        /// The upstream version to merge (default: the newest).
        #[arg(long)]
        to: Option<String>,
    },
    /// Settle one conflict of a merge with the fork's or the upstream's value.
    Resolve {
        /// The conflict's path, as `upstream merge` printed it.
        path: String,
        /// Keep the fork's value.
        #[arg(long, conflicts_with = "theirs", required_unless_present = "theirs")]
        ours: bool,
        /// Take the upstream's value.
        #[arg(long)]
        theirs: bool,
        /// The fork's folder (default: the current one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// The fork's folder: its files, and the upstream version it builds on.
struct Fork {
    dir: PathBuf,
    files: PackageFiles,
    from: ForkedFrom,
}

fn open_fork(dir: Option<PathBuf>) -> anyhow::Result<Fork> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let files = folder::read_folder(&dir)?;
    let text = std::str::from_utf8(&files[MANIFEST_FILE])
        .map_err(|_| refused(tr!("manifest-not-utf8", file = MANIFEST_FILE)))?;
    let manifest = match parse_manifest(text) {
        Ok((m, _)) => m,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            return Err(refused(tr!("manifest-problems")));
        }
    };
    let from = manifest.forked_from.ok_or_else(|| {
        anyhow::anyhow!(tr!(
            "not-a-fork",
            dir = dir.display().to_string(),
            file = MANIFEST_FILE
        ))
    })?;
    Ok(Fork { dir, files, from })
}

/// The upstream's non-yanked releases newer than the fork's base, oldest first.
fn newer_versions(lines: &[IndexLine], base: &semver::Version) -> Vec<IndexLine> {
    let mut newer: Vec<(semver::Version, IndexLine)> = lines
        .iter()
        .filter(|l| !l.yanked)
        .filter_map(|l| semver::Version::parse(&l.vers).ok().map(|v| (v, l.clone())))
        .filter(|(v, _)| v.pre.is_empty() && v > base)
        .collect();
    newer.sort_by(|a, b| a.0.cmp(&b.0));
    newer.into_iter().map(|(_, l)| l).collect()
}

/// The index line of the target version: `--to`, or the newest release.
fn target_line(lines: &[IndexLine], fork: &Fork, to: Option<&str>) -> anyhow::Result<IndexLine> {
    let upstream = format!("{}/{}", fork.from.namespace, fork.from.name);
    match to {
        Some(v) => lines.iter().find(|l| l.vers == v).cloned().ok_or_else(|| {
            refused(tr!(
                "no-such-version",
                package = upstream.as_str(),
                version = v
            ))
        }),
        None => newer_versions(lines, &fork.from.version)
            .pop()
            .ok_or_else(|| {
                refused(tr!(
                    "no-newer-release",
                    upstream = upstream.as_str(),
                    version = fork.from.version.to_string()
                ))
            }),
    }
}

fn semantic_diff(base: &PackageFiles, target: &PackageFiles) -> anyhow::Result<Diff> {
    let unreadable = |_| refused(tr!("upstream-unreadable"));
    let (old_m, old) = read_content(base).map_err(unreadable)?;
    let (new_m, new) = read_content(target).map_err(unreadable)?;
    Ok(diff(&old_m, &old, &new_m, &new))
}

fn client(reg: &RegistryArgs) -> RegistryClient {
    RegistryClient::new(&reg.registry, credentials::token_for(&reg.registry))
}

pub fn exec(reg: &RegistryArgs, command: UpstreamCommand) -> anyhow::Result<()> {
    match command {
        UpstreamCommand::Status { dir } => status(reg, dir),
        UpstreamCommand::Diff { dir, to } => upstream_diff(reg, dir, to),
        UpstreamCommand::Merge { dir, to } => upstream_merge(reg, dir, to),
        UpstreamCommand::Resolve {
            path, ours, dir, ..
        } => upstream_resolve(
            reg,
            dir,
            &path,
            if ours { Side::Ours } else { Side::Theirs },
        ),
    }
}

fn status(reg: &RegistryArgs, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let fork = open_fork(dir)?;
    let c = client(reg);
    let (ns, name) = (&fork.from.namespace, &fork.from.name);
    let lines = resolve::index_lines(&c, ns, name)?;
    let newer = newer_versions(&lines, &fork.from.version);
    let mut entries = Vec::new();
    let mut lines = Vec::new();
    if !newer.is_empty() {
        let base = resolve::fetch_version(&c, ns, name, &fork.from.version.to_string())?;
        for line in &newer {
            let d = semantic_diff(&base, &resolve::download_verified(&c, line)?)?;
            entries
                .push(json!({ "version": line.vers, "level": d.level(), "summary": d.summary() }));
            let level = d.level().map(|l| format!(" ({l})")).unwrap_or_default();
            lines.push(format!(
                "  {}  {}{level}",
                line.vers,
                super::commands::diff_counts(&d)
            ));
        }
    }
    let upstream = format!("{ns}/{name}");
    let base = fork.from.version.to_string();
    let advisories = gemeinwerk_client::advisories::for_version(&c, &upstream, &base)?;
    output(
        reg,
        &json!({ "upstream": upstream, "base": base, "newer": entries, "advisories": advisories }),
        || {
            println!(
                "{}",
                tr!(
                    "upstream-builds-on",
                    upstream = format!("{upstream}@{}", fork.from.version)
                )
            );
            for a in &advisories {
                println!(
                    "  {}",
                    tr!(
                        "upstream-advisory",
                        kind = a.kind.as_str(),
                        severity = a.severity.as_str(),
                        text = a.text.as_str(),
                        fixed = a.fixed.as_deref().unwrap_or("-")
                    )
                );
            }
            if lines.is_empty() {
                println!("{}", tr!("upstream-up-to-date"));
            }
            for line in &lines {
                println!("{line}");
            }
        },
    );
    Ok(())
}

fn upstream_diff(
    reg: &RegistryArgs,
    dir: Option<PathBuf>,
    to: Option<String>,
) -> anyhow::Result<()> {
    let fork = open_fork(dir)?;
    let c = client(reg);
    let (ns, name) = (&fork.from.namespace, &fork.from.name);
    let lines = resolve::index_lines(&c, ns, name)?;
    let target = target_line(&lines, &fork, to.as_deref())?;
    let base = resolve::fetch_version(&c, ns, name, &fork.from.version.to_string())?;
    let d = semantic_diff(&base, &resolve::download_verified(&c, &target)?)?;
    super::commands::print_diff(
        reg,
        &d,
        &format!("{ns}/{name} {} → {}", fork.from.version, target.vers),
    );
    Ok(())
}

/// Replaces the folder's files with `files`: writes every file and removes
/// the ones that are gone.
fn write_folder(dir: &Path, before: &PackageFiles, files: &PackageFiles) -> anyhow::Result<()> {
    for path in before.keys().filter(|p| !files.contains_key(*p)) {
        let gone = dir.join(path);
        std::fs::remove_file(&gone)
            .with_context(|| tr!("cannot-remove", path = gone.display().to_string()))?;
    }
    for (path, content) in files {
        let dest = dir.join(path);
        let parent = dest.parent().expect("a file has a parent");
        std::fs::create_dir_all(parent)
            .with_context(|| tr!("cannot-create", path = parent.display().to_string()))?;
        std::fs::write(&dest, content)
            .with_context(|| tr!("cannot-write", path = dest.display().to_string()))?;
    }
    Ok(())
}

fn upstream_merge(
    reg: &RegistryArgs,
    dir: Option<PathBuf>,
    to: Option<String>,
) -> anyhow::Result<()> {
    let fork = open_fork(dir)?;
    if fork.files.contains_key(merge::MERGE_FILE) {
        return Err(refused(tr!("merge-in-progress", file = merge::MERGE_FILE)));
    }
    let c = client(reg);
    let (ns, name) = (&fork.from.namespace, &fork.from.name);
    let upstream = format!("{ns}/{name}");
    let lines = resolve::index_lines(&c, ns, name)?;
    let target = target_line(&lines, &fork, to.as_deref())?;
    let base = resolve::fetch_version(&c, ns, name, &fork.from.version.to_string())?;
    let theirs = resolve::download_verified(&c, &target)?;

    let mut result = merge::merge(&base, &fork.files, &theirs)
        .map_err(|e| refused(format!("{e} [{}]", e.code())))?;
    // The merged package now builds on the version it merged.
    let manifest_text = String::from_utf8_lossy(&result.files[MANIFEST_FILE]).into_owned();
    let own_name = toml::from_str::<toml::Table>(&manifest_text)
        .ok()
        .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_string))
        .ok_or_else(|| refused(tr!("merge-no-name")))?;
    let from = ForkedFrom {
        namespace: ns.clone(),
        name: name.clone(),
        version: semver::Version::parse(&target.vers)
            .with_context(|| tr!("merge-bad-version", version = target.vers.as_str()))?,
        cksum: Some(target.cksum.clone()),
    };
    let rewritten = fork_manifest(&manifest_text, &own_name, &from).map_err(refused)?;
    result
        .files
        .insert(MANIFEST_FILE.to_string(), rewritten.into_bytes());
    let info = MergeInfo {
        upstream: upstream.clone(),
        base: fork.from.version.to_string(),
        theirs: target.vers.clone(),
    };
    let working = result.working_files(&info);
    write_folder(&fork.dir, &fork.files, &working)?;

    let problems = if result.is_clean() {
        check_package(&working).err().unwrap_or_default()
    } else {
        Vec::new()
    };
    output(
        reg,
        &json!({ "upstream": upstream, "base": info.base, "merged": info.theirs, "taken": result.taken, "conflicts": result.conflicts, "problems": problems }),
        || {
            for t in &result.taken {
                println!("{}", tr!("merge-taken", change = t.to_string()));
            }
            for conflict in &result.conflicts {
                println!("{}", tr!("merge-conflict", conflict = conflict.to_string()));
            }
            for p in &problems {
                eprintln!("{p}");
            }
        },
    );
    if !result.is_clean() {
        return Err(refused(tr!(
            "merge-conflicts-left",
            count = result.conflicts.len(),
            file = merge::MERGE_FILE
        )));
    }
    if !problems.is_empty() {
        let errors = problems.iter().filter(|p| p.is_error()).count();
        return Err(refused(tr!(
            "merge-problems",
            label = format!("{upstream}@{}", info.theirs),
            problems = tr!(
                "problems-found",
                errors = errors,
                warnings = problems.len() - errors
            )
        )));
    }
    eprintln!(
        "{}",
        tr!(
            "merged",
            upstream = upstream.as_str(),
            from = info.base.as_str(),
            to = info.theirs.as_str()
        )
    );
    Ok(())
}

fn upstream_resolve(
    reg: &RegistryArgs,
    dir: Option<PathBuf>,
    path: &str,
    side: Side,
) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(|| PathBuf::from("."));
    let files = folder::read_folder(&dir)?;
    let resolved = merge::resolve_files(&files, path, side)
        .map_err(|e| refused(format!("{e} [{}]", e.code())))?;
    write_folder(&dir, &files, &resolved)?;
    let open = merge::read_merge_file(&resolved)
        .ok()
        .flatten()
        .map(|(_, c)| c.len())
        .unwrap_or(0);
    output(reg, &json!({ "resolved": path, "open": open }), || {
        if open == 0 {
            eprintln!("{}", tr!("resolved-done", path = path));
        } else {
            eprintln!("{}", tr!("resolved-open", path = path, count = open));
        }
    });
    Ok(())
}
