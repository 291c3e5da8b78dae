//! The commands of a consuming project: `add`, `lock`, `fetch`, `vendor`.
//! Each converts its arguments and calls `client::{project, lockfile,
//! fetch}`.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use clap::Args;
use serde_json::json;

use anyhow::Context as _;

use super::{output, refused, RegistryArgs};
use crate::cli::i18n;
use crate::tr;
use gemeinwerk_client::advisories;
use gemeinwerk_client::cache::{write_atomic, Cache, IndexFetcher, IndexMode};
use gemeinwerk_client::fetch::{self, FetchOptions, Progress, ProgressWords};
use gemeinwerk_client::lockfile::{self, Lockfile};
use gemeinwerk_client::project::{self, Project, DEFAULT_DEST, LOCK_FILE};
use gemeinwerk_client::resolver::IndexSource;
use gemeinwerk_package::manifest::MANIFEST_FILE;

#[derive(Args)]
pub struct ProjectDir {
    /// The project folder, with gemeinwerk.toml (and gemeinwerk.lock).
    #[arg(long, default_value = ".")]
    project: PathBuf,
}

#[derive(Args)]
pub struct AddArgs {
    /// NS/NAME or NS/NAME@REQ (default requirement: ^ the newest non-yanked version)
    spec: String,
    #[command(flatten)]
    dir: ProjectDir,
    #[command(flatten)]
    reg: RegistryArgs,
}

#[derive(Args)]
pub struct LockArgs {
    /// Resolve afresh to the newest versions, ignoring the versions the
    /// lockfile has (yanked ones are then dropped).
    #[arg(long)]
    update: bool,
    /// Resolve from the cached (or vendored) index only.
    #[arg(long)]
    offline: bool,
    /// A folder written by `gemeinwerk vendor`, read before the cache.
    #[arg(long, env = "GEMEINWERK_VENDORED")]
    vendored: Option<PathBuf>,
    /// Fail (exit 1) when an advisory affects a locked version (for CI).
    #[arg(long)]
    deny_advisories: bool,
    #[command(flatten)]
    dir: ProjectDir,
    #[command(flatten)]
    reg: RegistryArgs,
}

#[derive(Args)]
pub struct FetchArgs {
    /// Fail unless gemeinwerk.lock exists and matches gemeinwerk.toml
    /// (for CI); without it a missing or outdated lock is made anew.
    #[arg(long)]
    locked: bool,
    /// Use only the cache and the vendored folder; no network.
    #[arg(long)]
    offline: bool,
    /// Where the packages are unpacked, as DEST/NS/NAME/
    /// (default: gemeinwerk_packages/ in the project folder).
    #[arg(long)]
    dest: Option<PathBuf>,
    /// A folder written by `gemeinwerk vendor`, read before the cache.
    #[arg(long, env = "GEMEINWERK_VENDORED")]
    vendored: Option<PathBuf>,
    /// Parallel downloads.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Fail (exit 1) when an advisory affects a locked version (for CI).
    #[arg(long)]
    deny_advisories: bool,
    #[command(flatten)]
    dir: ProjectDir,
    #[command(flatten)]
    reg: RegistryArgs,
}

#[derive(Args)]
pub struct VendorArgs {
    /// The folder to write archives/ and index/ into.
    out: PathBuf,
    /// Use only the cache; no network.
    #[arg(long)]
    offline: bool,
    #[command(flatten)]
    dir: ProjectDir,
    #[command(flatten)]
    reg: RegistryArgs,
}

/// The lockfile of a project: `None` when there is none; a broken one is
/// an error that names the line.
fn read_lock(project: &Project) -> anyhow::Result<Option<Lockfile>> {
    Ok(lockfile::read_lockfile(&project.lock_path())?)
}

fn write_lock(project: &Project, lock: &Lockfile) -> anyhow::Result<()> {
    let path = project.lock_path();
    write_atomic(&path, lock.to_toml().as_bytes())
        .with_context(|| tr!("cannot-write", path = path.display().to_string()))
}

fn index_mode(offline: bool, vendored: &Option<PathBuf>) -> IndexMode {
    if offline {
        IndexMode::Offline {
            vendored: vendored.clone(),
        }
    } else {
        IndexMode::Online
    }
}

/// A lock that fits the manifest: the existing one, or one made anew
/// (keeping the existing versions where they still fit) and written.
fn current_lock(
    project: &Project,
    fetcher: &IndexFetcher,
    update: bool,
) -> anyhow::Result<(Lockfile, Option<Lockfile>)> {
    let previous = read_lock(project)?;
    let lock = lockfile::make_lock(
        &project.dependencies,
        if update { None } else { previous.as_ref() },
        fetcher,
    )?;
    if previous.as_ref() != Some(&lock) {
        write_lock(project, &lock)?;
    }
    Ok((lock, previous))
}

/// The lock `fetch --locked` and `vendor` insist on.
fn required_lock(project: &Project) -> anyhow::Result<Lockfile> {
    let lock = read_lock(project)?.ok_or_else(|| {
        anyhow::anyhow!(tr!(
            "lock-missing",
            dir = project.dir.display().to_string(),
            lock = LOCK_FILE
        ))
    })?;
    if let Some(why) = lock.mismatch(&project.dependencies) {
        return Err(refused(tr!(
            "lock-mismatch",
            lock = LOCK_FILE,
            manifest = MANIFEST_FILE,
            why = why
        )));
    }
    Ok(lock)
}

pub fn add(args: AddArgs) -> anyhow::Result<()> {
    let (ns, name, req) = project::parse_add_spec(&args.spec)?;
    let full = format!("{ns}/{name}");
    let path = args.dir.project.join(MANIFEST_FILE);
    let source = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(e).with_context(|| tr!("cannot-read", path = path.display().to_string()))
        }
    };
    // The manifest must be sound before it is edited.
    if !source.is_empty() {
        project::read_project(&args.dir.project)?;
    }
    let cache = Cache::user()?;
    let fetcher = IndexFetcher::new(&cache, &args.reg.registry, IndexMode::Online);
    let lines = fetcher.lines(&full)?.ok_or_else(|| {
        refused(tr!(
            "add-unknown",
            package = full.as_str(),
            registry = args.reg.registry.as_str()
        ))
    })?;
    let usable = lines
        .iter()
        .filter(|l| !l.yanked)
        .filter_map(|l| semver::Version::parse(&l.vers).ok());
    let req = match req {
        Some(req) => {
            if !usable.clone().any(|v| req.matches(&v)) {
                return Err(refused(tr!(
                    "add-no-match",
                    package = full.as_str(),
                    req = req.to_string()
                )));
            }
            req.to_string()
        }
        None => {
            let newest = usable
                .max()
                .ok_or_else(|| refused(tr!("add-all-yanked", package = full.as_str())))?;
            format!("^{newest}")
        }
    };
    let text = project::with_dependency(&source, &full, &req).map_err(|e| {
        refused(tr!(
            "add-cannot-edit",
            path = path.display().to_string(),
            error = e.to_string()
        ))
    })?;
    // What we write must read back as a project.
    project::parse_project(&text).map_err(|found| {
        refused(tr!(
            "add-would-break",
            path = path.display().to_string(),
            problem = found.first().map(ToString::to_string).unwrap_or_default()
        ))
    })?;
    std::fs::create_dir_all(&args.dir.project).with_context(|| {
        tr!(
            "cannot-create",
            path = args.dir.project.display().to_string()
        )
    })?;
    write_atomic(&path, text.as_bytes())
        .with_context(|| tr!("cannot-write", path = path.display().to_string()))?;
    output(
        &args.reg,
        &json!({ "name": full, "req": req, "manifest": path }),
        || {
            eprintln!(
                "{}",
                tr!(
                    "added",
                    package = full.as_str(),
                    req = req.as_str(),
                    path = path.display().to_string()
                )
            )
        },
    );
    Ok(())
}

/// The downloads' progress in the user's language.
fn words() -> ProgressWords {
    ProgressWords {
        heading: || tr!("fetch-heading"),
        downloaded: |label, bytes| tr!("fetch-downloaded", label = label, size = i18n::size(bytes)),
    }
}

fn lock_json(lock: &Lockfile) -> serde_json::Value {
    json!(lock
        .packages
        .iter()
        .map(|p| json!({ "name": p.name, "version": p.version, "cksum": p.cksum, "registry": p.registry }))
        .collect::<Vec<_>>())
}

pub fn lock(args: LockArgs) -> anyhow::Result<()> {
    let project = project::read_project(&args.dir.project)?;
    let cache = Cache::user()?;
    let fetcher = IndexFetcher::new(
        &cache,
        &args.reg.registry,
        index_mode(args.offline, &args.vendored),
    );
    let (lock, previous) = current_lock(&project, &fetcher, args.update)?;
    let fresh = fetcher.fresh.load(Ordering::Relaxed);
    let not_modified = fetcher.not_modified.load(Ordering::Relaxed);
    let affected = advisories_of(&lock, args.offline, args.deny_advisories)?;
    output(
        &args.reg,
        &json!({
            "packages": lock_json(&lock),
            "index": { "fresh": fresh, "not_modified": not_modified },
            "advisories": affected,
        }),
        || {
            warn_advisories(&affected);
            for p in &lock.packages {
                let before = previous
                    .as_ref()
                    .and_then(|l| l.package(&p.name))
                    .map(|old| old.version.as_str());
                match before {
                    Some(v) if v == p.version => {}
                    Some(v) => eprintln!(
                        "  {}",
                        tr!(
                            "lock-updated",
                            name = p.name.as_str(),
                            from = v,
                            to = p.version.as_str()
                        )
                    ),
                    None => eprintln!(
                        "  {}",
                        tr!(
                            "lock-locked",
                            name = p.name.as_str(),
                            version = p.version.as_str()
                        )
                    ),
                }
            }
            eprintln!(
                "{}",
                tr!(
                    "lock-summary",
                    count = lock.packages.len(),
                    path = project.lock_path().display().to_string(),
                    fetched = fresh,
                    unchanged = not_modified,
                )
            );
        },
    );
    deny_advisories(args.deny_advisories, &affected)
}

/// The advisories that affect the lock's pins; none offline (there is
/// nobody to ask). A registry that does not answer does not stop a fetch
/// from the cache: the check is skipped with a warning, unless the
/// pipeline asked to deny advisories, which needs the answer.
fn advisories_of(
    lock: &Lockfile,
    offline: bool,
    deny: bool,
) -> anyhow::Result<Vec<advisories::Affected>> {
    if offline {
        return Ok(Vec::new());
    }
    match advisories::affecting(lock) {
        Ok(found) => Ok(found),
        Err(e) if !deny => {
            eprintln!(
                "{}",
                tr!("advisories-unchecked", error = super::client_error(&e))
            );
            Ok(Vec::new())
        }
        Err(e) => Err(e.into()),
    }
}

fn warn_advisories(affected: &[advisories::Affected]) {
    for a in affected {
        eprintln!(
            "{}",
            tr!(
                "advisory-warning",
                package = a.name.as_str(),
                version = a.version.as_str(),
                kind = a.advisory.kind.as_str(),
                severity = a.advisory.severity.as_str(),
                text = a.advisory.text.as_str(),
                fixed = a.advisory.fixed.as_deref().unwrap_or("-")
            )
        );
    }
}

fn deny_advisories(deny: bool, affected: &[advisories::Affected]) -> anyhow::Result<()> {
    if deny && !affected.is_empty() {
        return Err(refused(tr!("advisories-denied", count = affected.len())));
    }
    Ok(())
}

pub fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let project = project::read_project(&args.dir.project)?;
    let cache = Cache::user()?;
    let lock = if args.locked {
        required_lock(&project)?
    } else {
        let fetcher = IndexFetcher::new(
            &cache,
            &args.reg.registry,
            index_mode(args.offline, &args.vendored),
        );
        match read_lock(&project)? {
            Some(l) if l.mismatch(&project.dependencies).is_none() => l,
            _ => current_lock(&project, &fetcher, false)?.0,
        }
    };
    let dest = args
        .dest
        .clone()
        .unwrap_or_else(|| project.dir.join(DEFAULT_DEST));
    let opts = FetchOptions {
        offline: args.offline,
        vendored: args.vendored.clone(),
        jobs: args.jobs,
        progress: Progress::detect(args.reg.json),
        words: words(),
    };
    let report = fetch::fetch(&lock, &cache, &dest, &opts)?;
    let affected = advisories_of(&lock, args.offline, args.deny_advisories)?;
    output(
        &args.reg,
        &json!({ "dest": dest, "report": report, "packages": lock_json(&lock), "advisories": affected }),
        || {
            warn_advisories(&affected);
            eprintln!(
                "{}",
                tr!(
                    "fetch-summary",
                    count = report.packages,
                    dest = dest.display().to_string(),
                    downloaded = report.downloaded,
                    size = i18n::size(report.bytes_downloaded),
                    cached = report.from_cache,
                )
            )
        },
    );
    deny_advisories(args.deny_advisories, &affected)
}

pub fn vendor(args: VendorArgs) -> anyhow::Result<()> {
    let project = project::read_project(&args.dir.project)?;
    let lock = required_lock(&project)?;
    let cache = Cache::user()?;
    let opts = FetchOptions {
        offline: args.offline,
        progress: Progress::detect(args.reg.json),
        words: words(),
        ..FetchOptions::default()
    };
    let report = fetch::vendor(&lock, &cache, &args.out, &opts)?;
    let out: &Path = &args.out;
    output(&args.reg, &json!({ "dir": out, "report": report }), || {
        eprintln!(
            "{}",
            tr!(
                "vendored",
                count = report.packages,
                dir = out.display().to_string()
            )
        )
    });
    Ok(())
}
