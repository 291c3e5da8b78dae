//! Package histories as a cache: a node keeps the repositories of the
//! packages it served or wrote lately, not one per package for ever.
//!
//! A history is deterministic (every commit is made from what the database
//! says), so any node can make any package's history when a git client asks
//! for it, and every node makes the same commit ids. So the history job is
//! only a warm-up on the node that claims it, of a history the node has or
//! has room for ([`worth_warming`]); a node serving a history
//! first brings it up to date from the database ([`serve_current`]), and the
//! repositories not used for a while are removed when there are more than
//! the node keeps ([`evict`]). At a million packages a node holds the
//! histories in use, not a million repositories.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::error::Result;
use super::{history, index, Registry};
use crate::store::history::PackageHistory;

/// Repositories a node keeps unless the operator says otherwise (`serve
/// --history-cache-repos`). A history is tens to hundreds of kilobytes.
pub const KEEP_REPOS: usize = 10_000;

/// A repository used this recently is never removed: a client that read
/// its `info/refs` may still be fetching the packs it listed.
pub const IN_USE_GRACE: Duration = Duration::from_secs(120);

/// The file whose time says when the repository was last used.
const USED_MARK: &str = "gemeinwerk-used";

/// One lock per package history (striped), so that the history job and a
/// git client's request never write one repository at the same time.
pub struct HistoryLocks {
    stripes: Vec<Mutex<()>>,
    /// Repositories made since the last eviction pass (a pass walks them
    /// all, so it runs once per many new ones).
    made: AtomicUsize,
    /// Repositories on disk: counted once, then kept as they are made and
    /// removed (an eviction pass counts them again).
    cached: Mutex<Option<usize>>,
}

impl HistoryLocks {
    pub fn new() -> Self {
        HistoryLocks {
            stripes: (0..64).map(|_| Mutex::new(())).collect(),
            made: AtomicUsize::new(0),
            cached: Mutex::new(None),
        }
    }

    fn stripe(&self, full_name: &str) -> &Mutex<()> {
        let stripe = full_name
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
            % self.stripes.len();
        &self.stripes[stripe]
    }

    /// Runs `f` holding the lock of `full_name`'s history.
    pub fn with<T>(&self, full_name: &str, f: impl FnOnce() -> T) -> T {
        let _guard = self
            .stripe(full_name)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f()
    }

    /// Runs `f` holding the lock of `full_name`'s history if nobody holds
    /// it (`None` otherwise). For the eviction, which runs while its caller
    /// holds one history's lock: waiting for another stripe there deadlocks
    /// when that stripe is the caller's own (the locks are not reentrant)
    /// or when two writers evict each other's repositories.
    pub fn try_with<T>(&self, full_name: &str, f: impl FnOnce() -> T) -> Option<T> {
        let _guard = match self.stripe(full_name).try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(f())
    }
}

impl Default for HistoryLocks {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether the history job should write `ns/name`'s history on this node:
/// yes for one the node has (the next client finds it current), and for a
/// new one while the cache has room. Otherwise the job has nothing to do:
/// a client asking for the history gets it made then ([`serve_current`]),
/// and a bulk load of new packages neither waits for 50,000 repositories
/// to be written nor pushes the histories in use out of the cache.
pub fn worth_warming(reg: &Registry, full_name: &str) -> Result<bool> {
    let Some((ns, name)) = full_name.split_once('/') else {
        return Ok(true); // the job reports the bad name
    };
    if history::repo_path(reg, ns, name).join("HEAD").exists() {
        return Ok(true);
    }
    Ok(cached_count(reg)? < reg.history_cache_repos)
}

fn cached_count(reg: &Registry) -> Result<usize> {
    let mut cached = reg.history_locks.cached.lock().expect("cache count lock");
    if cached.is_none() {
        *cached = Some(cached_repos(&packages_root(reg))?.len());
    }
    Ok(cached.unwrap_or_default())
}

fn packages_root(reg: &Registry) -> PathBuf {
    reg.data_dir.join("git").join("packages")
}

/// Makes `ns/name`'s history current for a git client and marks it used.
/// `false` when the package has no published version (no history to
/// serve). Cheap when it is current: one query and a few ref reads.
pub fn serve_current(reg: &Registry, ns: &str, name: &str) -> Result<bool> {
    let versions = {
        let mut conn = reg.db.conn()?;
        let Some(package) = index::find_package(&mut conn, ns, name)? else {
            return Ok(false);
        };
        index::package_versions(&mut conn, package.id)?
    };
    if versions.is_empty() {
        return Ok(false);
    }
    let full_name = format!("{ns}/{name}");
    let path = history::repo_path(reg, ns, name);
    let wanted: Vec<String> = versions.into_iter().map(|v| v.num).collect();
    let made = reg.history_locks.with(&full_name, || -> Result<bool> {
        let made = match is_current(&path, &wanted) {
            true => false,
            false => history::sync_history_unlocked(reg, &full_name)?.1,
        };
        mark_used(&path);
        Ok(made)
    })?;
    // Outside the lock: the eviction takes other histories' locks.
    if made {
        made_one(reg);
    }
    Ok(true)
}

/// Whether the repository at `path` tags exactly `wanted` and `main` is
/// the last of them.
fn is_current(path: &Path, wanted: &[String]) -> bool {
    // Asked on every clone and fetch: only reads, no maintenance.
    let Some(history) = PackageHistory::open_existing(path) else {
        return false;
    };
    let Ok(mut tagged) = history.tagged_versions() else {
        return false;
    };
    tagged.sort();
    let mut wanted_sorted = wanted.to_vec();
    wanted_sorted.sort();
    tagged == wanted_sorted
        && wanted
            .last()
            .is_some_and(|last| history.main().is_some() && history.main() == history.tag(last))
}

/// Records that the repository was used now.
pub fn mark_used(path: &Path) {
    let mark = path.join(USED_MARK);
    let touched = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&mark)
        .and_then(|f| f.set_modified(SystemTime::now()));
    if let Err(e) = touched {
        tracing::warn!(path = %mark.display(), error = %e, "cannot mark a package history as used");
    }
}

/// Called when a repository was made: every so often (a tenth of what the
/// node keeps), removes the least recently used ones beyond the limit.
pub fn made_one(reg: &Registry) {
    let keep = reg.history_cache_repos;
    if let Some(n) = reg
        .history_locks
        .cached
        .lock()
        .expect("cache count lock")
        .as_mut()
    {
        *n += 1;
    }
    let made = reg.history_locks.made.fetch_add(1, Ordering::SeqCst) + 1;
    if made < (keep / 10).max(1) {
        return;
    }
    reg.history_locks.made.store(0, Ordering::SeqCst);
    match evict(reg, keep, reg.history_cache_grace) {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            removed = n,
            keep,
            "package histories removed from the cache"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot trim the package history cache"),
    }
}

/// Removes the least recently used repositories until at most `keep` are
/// left, sparing those used within `grace`. Returns how many went.
pub fn evict(reg: &Registry, keep: usize, grace: Duration) -> Result<usize> {
    let mut repos = cached_repos(&packages_root(reg))?;
    let count = |n| *reg.history_locks.cached.lock().expect("cache count lock") = Some(n);
    count(repos.len());
    if repos.len() <= keep {
        return Ok(0);
    }
    let listed = repos.len();
    repos.sort_by_key(|(used, _)| *used);
    let now = SystemTime::now();
    let excess = repos.len() - keep;
    let mut removed = 0;
    for (used, path) in repos.into_iter().take(excess) {
        if now.duration_since(used).unwrap_or_default() < grace {
            break;
        }
        let full_name = full_name_of(&path);
        // A repository whose lock is taken is in use: it stays.
        reg.history_locks.try_with(&full_name, || {
            // Under the lock: a request that made it current since the
            // listing has marked it used; keep it then.
            if last_used(&path).is_some_and(|t| t > used) {
                return;
            }
            match std::fs::remove_dir_all(&path) {
                Ok(()) => removed += 1,
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove a cached package history"),
            }
        });
    }
    count(listed - removed);
    Ok(removed)
}

/// `ns/name` of a repository at `…/packages/ns/name.git`.
fn full_name_of(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".git"))
        .unwrap_or_default();
    let ns = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    format!("{ns}/{name}")
}

fn last_used(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path.join(USED_MARK))
        .or_else(|_| std::fs::metadata(path))
        .and_then(|m| m.modified())
        .ok()
}

/// Every cached repository with the time it was last used.
fn cached_repos(root: &Path) -> Result<Vec<(SystemTime, PathBuf)>> {
    let mut repos = Vec::new();
    let namespaces = match std::fs::read_dir(root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(repos),
        Err(e) => return Err(e.into()),
    };
    for ns in namespaces.flatten() {
        let Ok(entries) = std::fs::read_dir(ns.path()) else {
            continue;
        };
        for repo in entries.flatten() {
            let path = repo.path();
            if path.extension().is_some_and(|e| e == "git") {
                let used = last_used(&path).unwrap_or(SystemTime::UNIX_EPOCH);
                repos.push((used, path));
            }
        }
    }
    Ok(repos)
}
