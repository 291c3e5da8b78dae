//! The git index: the index files in a bare git repository, one commit per
//! batch of changes, written without a work tree, stored in packs and
//! served over git's dumb HTTP protocol (which is why `info/refs` and
//! `objects/info/packs` are kept up to date here; see [`crate::pack`]).
//!
//! Every commit is made from what the caller says (time and message come
//! from the database), never from the clock, so the same state and parent
//! give the same commit id. The history is squashed into one snapshot
//! commit now and then ([`GitIndex::squash`]); the history before it goes
//! to an archive repository under a dated branch.

use std::fs;
use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, Signature, Time};

use crate::pack::{self, NewObjects};

const BRANCH: &str = "refs/heads/main";

/// Time and message of a commit, both taken from the database.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    /// Seconds since the Unix epoch (UTC). A commit is never older than
    /// its parent: an earlier time is raised to the parent's.
    pub time: i64,
    pub message: String,
}

/// What a squash did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squashed {
    /// The new root commit of `main`.
    pub snapshot: Oid,
    /// The branch in the archive repository that keeps the old history.
    pub archived_as: String,
    /// The old tip of `main`, now the tip of `archived_as`.
    pub previous: Oid,
}

#[derive(Debug, thiserror::Error)]
pub enum GitIndexError {
    #[error("git index at {path}: {source}")]
    Git {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("git index at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A bare repository holding the index files. Not safe for concurrent
/// writers: the caller makes sure only one job writes at a time.
///
/// Every operation opens its own handle and drops it when done. libgit2
/// keeps a pack's mapped windows for as long as any handle holds the pack
/// open, and a roll-up or consolidation reads every pack: a handle kept
/// for the server's lifetime kept the whole index mapped (about 200 MB at
/// a million packages). Bounding libgit2's mapped memory instead made its
/// pack indexer fail now and then (docs/performance.md, session 20).
pub struct GitIndex {
    path: PathBuf,
    /// Commits on `main` since its root (the last snapshot), counted once.
    since_snapshot: std::cell::Cell<Option<u64>>,
}

impl GitIndex {
    /// Opens the repository at `path`, creating a bare one if it is missing.
    pub fn open_or_init(path: &Path) -> Result<Self, GitIndexError> {
        let git = |source| GitIndexError::Git {
            path: path.to_path_buf(),
            source,
        };
        clear_stale_locks(path).map_err(|source| GitIndexError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let repo = match Repository::open_bare(path) {
            Ok(repo) => repo,
            Err(_) => init_bare(path).map_err(git)?,
        };
        let index = GitIndex {
            path: path.to_path_buf(),
            since_snapshot: std::cell::Cell::new(None),
        };
        // Repositories written before the index was packed hold loose objects.
        pack::pack_loose(&repo).map_err(|e| index.git_err(e))?;
        index.update_server_info(&repo)?;
        Ok(index)
    }

    /// A handle for one operation (see the type's comment).
    fn repo(&self) -> Result<Repository, GitIndexError> {
        Repository::open_bare(&self.path).map_err(|e| self.git_err(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn git_err(&self, source: git2::Error) -> GitIndexError {
        GitIndexError::Git {
            path: self.path.clone(),
            source,
        }
    }

    /// The content of a file at the tip of the branch, if it exists.
    pub fn read_file(&self, file: &str) -> Result<Option<Vec<u8>>, GitIndexError> {
        let mut content = None;
        self.visit_files([(file, ())], |_, (), found| {
            content = found.map(<[u8]>::to_vec)
        })?;
        Ok(content)
    }

    /// Calls `f` with each file of `files` (a path and what the caller
    /// keeps with it) and its content at the tip of the branch (`None`
    /// where it does not exist), all read through one handle: a check of
    /// every file of a large index must not open the repository once per
    /// file.
    pub fn visit_files<'f, T>(
        &self,
        files: impl IntoIterator<Item = (&'f str, T)>,
        mut f: impl FnMut(&'f str, T, Option<&[u8]>),
    ) -> Result<(), GitIndexError> {
        let repo = self.repo()?;
        let tree = self.head_tree(&repo)?;
        for (file, with) in files {
            let entry = match tree.as_ref().map(|t| t.get_path(Path::new(file))) {
                None => None,
                Some(Ok(entry)) => Some(entry),
                Some(Err(e)) if e.code() == git2::ErrorCode::NotFound => None,
                Some(Err(e)) => return Err(self.git_err(e)),
            };
            match entry {
                Some(entry) => {
                    let blob = repo.find_blob(entry.id()).map_err(|e| self.git_err(e))?;
                    f(file, with, Some(blob.content()));
                }
                None => f(file, with, None),
            }
        }
        Ok(())
    }

    /// All file paths at the tip of the branch, sorted.
    pub fn list_files(&self) -> Result<Vec<String>, GitIndexError> {
        let repo = self.repo()?;
        let mut files = Vec::new();
        if let Some(tree) = self.head_tree(&repo)? {
            tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                if entry.kind() == Some(git2::ObjectType::Blob) {
                    files.push(format!("{dir}{}", entry.name().unwrap_or_default()));
                }
                git2::TreeWalkResult::Ok
            })
            .map_err(|e| self.git_err(e))?;
        }
        files.sort();
        Ok(files)
    }

    fn head_tree<'r>(&self, repo: &'r Repository) -> Result<Option<git2::Tree<'r>>, GitIndexError> {
        match repo.find_reference(BRANCH) {
            Ok(r) => {
                let commit = r.peel_to_commit().map_err(|e| self.git_err(e))?;
                Ok(Some(commit.tree().map_err(|e| self.git_err(e))?))
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.git_err(e)),
        }
    }

    /// The tip of `main`, if there is one.
    pub fn head(&self) -> Result<Option<Oid>, GitIndexError> {
        self.head_in(&self.repo()?)
    }

    /// The tip of `main` through an operation's handle.
    fn head_in(&self, repo: &Repository) -> Result<Option<Oid>, GitIndexError> {
        match repo.refname_to_id(BRANCH) {
            Ok(oid) => Ok(Some(oid)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.git_err(e)),
        }
    }

    /// Writes (`Some`) or deletes (`None`) files in one commit. Returns the
    /// new commit id, or `None` when the tree did not change, so that
    /// replaying a job does not add empty commits. The objects go into one
    /// new pack; small packs are then rolled up.
    pub fn commit_files(
        &self,
        changes: &[(String, Option<String>)],
        info: &CommitInfo,
    ) -> Result<Option<Oid>, GitIndexError> {
        let e = |source| self.git_err(source);
        // The in-memory object store of the pack writer attaches to this
        // operation's handle and goes with it.
        let repo = self.repo()?;
        let parent = match repo.find_reference(BRANCH) {
            Ok(r) => Some(r.peel_to_commit().map_err(e)?),
            Err(err) if err.code() == git2::ErrorCode::NotFound => None,
            Err(err) => return Err(e(err)),
        };
        let (commit, _) = pack::write_packed(
            &repo,
            || -> Result<(Option<Oid>, NewObjects), git2::Error> {
                let base_tree = match &parent {
                    Some(c) => c.tree()?,
                    None => {
                        let empty = repo.treebuilder(None)?.write()?;
                        repo.find_tree(empty)?
                    }
                };
                let mut update = TreeUpdateBuilder::new();
                // The new objects: each file's blob, then the trees above
                // each changed file and the commit (below).
                let mut new = Vec::new();
                for (file, content) in changes {
                    match content {
                        Some(text) => {
                            let blob = repo.blob(text.as_bytes())?;
                            update.upsert(file.as_str(), blob, FileMode::Blob);
                            new.push(blob);
                        }
                        None => {
                            update.remove(file.as_str());
                        }
                    }
                }
                let tree_id = update.create_updated(&repo, &base_tree)?;
                if parent.is_some() && tree_id == base_tree.id() {
                    return Ok((None, NewObjects::Exactly(Vec::new())));
                }
                let tree = repo.find_tree(tree_id)?;
                new.push(tree_id);
                new.extend(changed_folders(
                    &tree,
                    changes.iter().map(|(f, _)| f.as_str()),
                ));
                let parent_time = parent.as_ref().map_or(0, |p| p.time().seconds());
                let sig = signature(info.time.max(parent_time))?;
                let parents: Vec<&git2::Commit> = parent.iter().collect();
                // No ref moves here: the commit is on disk only once the pack is.
                let commit = repo.commit(None, &sig, &sig, &info.message, &tree, &parents)?;
                new.push(commit);
                Ok((Some(commit), NewObjects::Exactly(new)))
            },
        )
        .map_err(e)?;
        let Some(oid) = commit else {
            return Ok(None);
        };
        repo.reference(BRANCH, oid, true, "commit").map_err(e)?;
        if let Some(n) = self.since_snapshot.get() {
            self.since_snapshot.set(Some(n + 1));
        }
        // Clients find the commit once its pack is listed.
        self.update_server_info(&repo)?;
        Ok(Some(oid))
    }

    /// Rolls up small packs and drops retired ones past their grace. Call
    /// after commits; it is separate so that the caller can see its cost.
    pub fn maintain(&self) -> Result<(), GitIndexError> {
        let repo = self.repo()?;
        let rolled = pack::roll_up(&repo).map_err(|e| self.git_err(e))?;
        let consolidated = match self.head_in(&repo)? {
            Some(head) if pack::outgrown(&repo).map_err(|e| self.io_err(e))? => {
                Some(pack::consolidate(&repo, head).map_err(|e| self.git_err(e))?)
            }
            _ => None,
        };
        let removed = pack::remove_retired(&repo).map_err(|e| self.io_err(e))?;
        if rolled.is_some() || consolidated.is_some() || removed > 0 {
            self.update_server_info(&repo)?;
        }
        Ok(())
    }

    /// Points the reference `name` at `oid`, whose objects must be in the
    /// repository: for a node that takes over writing an index that
    /// several nodes share, after it fetched the shared packs.
    pub fn set_reference(&self, name: &str, oid: &str) -> Result<(), GitIndexError> {
        let oid = Oid::from_str(oid).map_err(|e| self.git_err(e))?;
        let repo = self.repo()?;
        repo.reference(name, oid, true, "gemeinwerk: shared state")
            .map_err(|e| self.git_err(e))?;
        self.since_snapshot.set(None);
        self.update_server_info(&repo)
    }

    /// Commits on `main` since the last snapshot (its root commit).
    pub fn commits_since_snapshot(&self) -> Result<u64, GitIndexError> {
        if let Some(n) = self.since_snapshot.get() {
            return Ok(n);
        }
        let repo = self.repo()?;
        let Some(head) = self.head_in(&repo)? else {
            return Ok(0);
        };
        let mut walk = repo.revwalk().map_err(|e| self.git_err(e))?;
        walk.push(head).map_err(|e| self.git_err(e))?;
        walk.simplify_first_parent().map_err(|e| self.git_err(e))?;
        let n = (walk.count() as u64).saturating_sub(1);
        self.since_snapshot.set(Some(n));
        Ok(n)
    }

    /// Replaces the history of `main` by one snapshot commit with the same
    /// tree, and keeps the old history in the repository at `archive`
    /// under the branch `snapshot-{date}` (the old tip's commit time, UTC).
    /// The snapshot commit has the old tip's time and a fixed message, so
    /// its id depends only on the index's content and that time.
    ///
    /// Objects end up in two new packs: the whole tree (the base of every
    /// clone) and the snapshot commit alone, so that a clone that was up to
    /// date fetches only that one small commit. Returns `None` when `main`
    /// is already a single snapshot commit or does not exist.
    pub fn squash(&self, archive: &Path) -> Result<Option<Squashed>, GitIndexError> {
        let e = |source| self.git_err(source);
        let repo = self.repo()?;
        let Some(head_id) = self.head_in(&repo)? else {
            return Ok(None);
        };
        let head = repo.find_commit(head_id).map_err(e)?;
        if head.parent_count() == 0 {
            return Ok(None);
        }
        let time = head.time().seconds();
        let tree = head.tree().map_err(e)?;

        // 1. The tree as a pack of its own: the new clone base.
        let mut builder = repo.packbuilder().map_err(e)?;
        builder.insert_tree(tree.id()).map_err(e)?;
        let tree_pack = pack::write_builder(&repo, &mut builder).map_err(e)?;
        // 2. The snapshot commit in a pack alone, from a handle of its own:
        // the pack writer's in-memory store goes with it.
        let commit_repo = self.repo()?;
        let (snapshot, commit_pack) = pack::write_packed(&commit_repo, || {
            let sig = signature(time)?;
            let tree = commit_repo.find_tree(tree.id())?;
            let commit = commit_repo.commit(
                None,
                &sig,
                &sig,
                "Snapshot of the index\n\nThe history before this commit is in the archive repository\n(index-archive.git), on the branch named after this commit's date.\n",
                &tree,
                &[],
            )?;
            // Its tree is in the pack written just before.
            Ok::<_, git2::Error>((commit, NewObjects::Exactly(vec![commit])))
        })
        .map_err(e)?;
        let mut base = vec![tree_pack.clone()];
        base.extend(commit_pack);

        // 3. The old history into the archive, before it leaves this one.
        let old: Vec<String> = pack::live_packs(&repo)
            .map_err(|e| self.io_err(e))?
            .into_iter()
            .map(|p| p.name)
            .filter(|n| !base.contains(n))
            .collect();
        let archived_as =
            archive_history(&repo, archive, &old, head_id, time).map_err(|source| {
                GitIndexError::Git {
                    path: archive.to_path_buf(),
                    source,
                }
            })?;

        // 4. Switch: the new base, `main` at the snapshot, the old packs retired.
        pack::set_base_packs(&repo, &base).map_err(|e| self.io_err(e))?;
        repo.reference(BRANCH, snapshot, true, "squash")
            .map_err(e)?;
        pack::retire(&repo, &old, pack::RETIRE_GRACE).map_err(|e| self.io_err(e))?;
        self.since_snapshot.set(Some(0));
        self.update_server_info(&repo)?;
        Ok(Some(Squashed {
            snapshot,
            archived_as,
            previous: head_id,
        }))
    }

    fn io_err(&self, source: std::io::Error) -> GitIndexError {
        GitIndexError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn update_server_info(&self, repo: &Repository) -> Result<(), GitIndexError> {
        update_server_info(repo).map_err(|e| self.io_err(e))
    }
}

/// The ids of the folders in `tree` that hold one of `files` (the trees a
/// change of those files rewrote), without the root.
fn changed_folders<'a>(tree: &git2::Tree<'_>, files: impl Iterator<Item = &'a str>) -> Vec<Oid> {
    let mut folders = std::collections::BTreeSet::new();
    for file in files {
        let mut at = 0;
        while let Some(slash) = file[at..].find('/') {
            folders.insert(&file[..at + slash]);
            at += slash + 1;
        }
    }
    folders
        .into_iter()
        // A folder a removal emptied is gone.
        .filter_map(|folder| tree.get_path(Path::new(folder)).ok())
        .filter(|entry| entry.kind() == Some(git2::ObjectType::Tree))
        .map(|entry| entry.id())
        .collect()
}

/// When this process first opened a repository. A lock file older than
/// that was left by another process: one that died while writing (git
/// removes its locks only on a clean exit).
pub fn process_started() -> std::time::SystemTime {
    static STARTED: std::sync::OnceLock<std::time::SystemTime> = std::sync::OnceLock::new();
    *STARTED.get_or_init(std::time::SystemTime::now)
}

/// Removes the `*.lock` files that a process killed while writing left in
/// the repository at `path` (its top folder, `refs/` and `objects/info/`),
/// those last changed before [`process_started`]. git refuses every write
/// that needs such a lock, so one hard kill during `git init` or a ref
/// update would otherwise stop the repository for good. Within a process
/// the callers serialise writes to one repository, so a lock of this
/// process is never stale. Returns the files removed.
pub fn clear_stale_locks(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let started = process_started();
    let mut removed = Vec::new();
    let mut folders = vec![path.to_path_buf(), path.join("objects/info")];
    let mut walk = vec![path.join("refs")];
    while let Some(dir) = walk.pop() {
        match fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry?;
                    if entry.file_type().is_ok_and(|t| t.is_dir()) {
                        walk.push(entry.path());
                    }
                }
                folders.push(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    for dir in folders {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            if !entry.file_name().to_string_lossy().ends_with(".lock") {
                continue;
            }
            // A live writer (another process reading this repository while
            // the server writes it) renames its lock into place between
            // our listing and our look: gone is not an error.
            let modified = match entry.metadata().and_then(|m| m.modified()) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if modified < started {
                match fs::remove_file(entry.path()) {
                    Ok(()) => removed.push(entry.path()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(removed)
}

/// A new bare repository with `HEAD` at `main` and nothing else: no
/// sample hooks or other template files (a registry has a repository per
/// package; git's templates would be a dozen files in each).
pub fn init_bare(path: &Path) -> Result<Repository, git2::Error> {
    Repository::init_opts(
        path,
        git2::RepositoryInitOptions::new()
            .bare(true)
            .external_template(false)
            .initial_head("main"),
    )
}

fn signature(time: i64) -> Result<Signature<'static>, git2::Error> {
    Signature::new(
        "gemeinwerk",
        "registry@gemeinwerk.invalid",
        &Time::new(time, 0),
    )
}

/// Links the packs holding the old history into the archive repository
/// and points a dated branch at the old tip. Returns the branch name.
fn archive_history(
    repo: &Repository,
    archive: &Path,
    packs: &[String],
    tip: Oid,
    time: i64,
) -> Result<String, git2::Error> {
    let io = |e: std::io::Error| git2::Error::from_str(&format!("archive: {e}"));
    let archive_repo = match Repository::open_bare(archive) {
        Ok(r) => r,
        Err(_) => init_bare(archive)?,
    };
    let from = repo.path().join("objects/pack");
    let to = archive_repo.path().join("objects/pack");
    fs::create_dir_all(&to).map_err(io)?;
    for name in packs {
        for ext in ["idx", "pack"] {
            let file = format!("{name}.{ext}");
            if to.join(&file).exists() {
                continue;
            }
            // Same file system (both under the data dir): a link, no copy.
            if fs::hard_link(from.join(&file), to.join(&file)).is_err() {
                fs::copy(from.join(&file), to.join(&file)).map_err(io)?;
            }
        }
    }
    archive_repo.odb()?.refresh()?;
    let date = chrono_like_date(time);
    let mut name = format!("refs/heads/snapshot-{date}");
    let mut n = 2;
    while archive_repo
        .refname_to_id(&name)
        .is_ok_and(|existing| existing != tip)
    {
        name = format!("refs/heads/snapshot-{date}-{n}");
        n += 1;
    }
    archive_repo.reference(&name, tip, true, "archive")?;
    // `HEAD` of the archive names the newest snapshot branch.
    archive_repo.set_head(&name)?;
    update_server_info(&archive_repo).map_err(io)?;
    Ok(name.trim_start_matches("refs/heads/").to_string())
}

/// `YYYY-MM-DD-HHMMSS` (UTC) of a Unix time, without a date crate.
fn chrono_like_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// What `git update-server-info` does, for git's dumb HTTP protocol.
pub fn update_server_info(repo: &Repository) -> std::io::Result<()> {
    pack::update_server_info(repo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_left_by_a_dead_process_are_removed_and_live_ones_kept() {
        let path = tempdir("stale-locks");
        init_bare(&path).unwrap();
        std::fs::create_dir_all(path.join("refs/tags")).unwrap();
        let touch = |file: &str, at: std::time::SystemTime| {
            let f = std::fs::File::create(path.join(file)).unwrap();
            f.set_modified(at).unwrap();
        };
        let long_ago = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let later = process_started() + std::time::Duration::from_secs(3600);
        touch("config.lock", long_ago);
        touch("refs/tags/v1.0.0.lock", long_ago);
        touch("HEAD.lock", later);
        let mut removed = clear_stale_locks(&path).unwrap();
        removed.sort();
        assert_eq!(
            removed,
            vec![path.join("config.lock"), path.join("refs/tags/v1.0.0.lock")]
        );
        assert!(path.join("HEAD.lock").exists());
        // A kill during `init` leaves a folder with only a config lock.
        std::fs::remove_dir_all(&path).unwrap();
        std::fs::create_dir_all(&path).unwrap();
        touch("config.lock", long_ago);
        assert!(
            init_bare(&path).is_err(),
            "git refuses while the lock is there"
        );
        GitIndex::open_or_init(&path).unwrap();
        assert!(!path.join("config.lock").exists());
        let _ = fs::remove_dir_all(&path);
    }

    fn info(time: i64, message: &str) -> CommitInfo {
        CommitInfo {
            time,
            message: message.into(),
        }
    }

    fn loose_objects(dir: &Path) -> usize {
        fs::read_dir(dir.join("objects"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().len() == 2)
            .count()
    }

    #[test]
    fn commits_only_on_change_and_reads_back() {
        let tmp = tempdir("commits");
        let index = GitIndex::open_or_init(&tmp).unwrap();
        let first = index
            .commit_files(
                &[("kassel/a".into(), Some("x\n".into()))],
                &info(100, "publish"),
            )
            .unwrap();
        assert!(first.is_some());
        let again = index
            .commit_files(
                &[("kassel/a".into(), Some("x\n".into()))],
                &info(200, "replay"),
            )
            .unwrap();
        assert!(again.is_none(), "an unchanged tree adds no commit");
        assert_eq!(index.read_file("kassel/a").unwrap().unwrap(), b"x\n");
        assert_eq!(index.list_files().unwrap(), vec!["kassel/a".to_string()]);
        let refs = fs::read_to_string(tmp.join("info/refs")).unwrap();
        assert!(refs.starts_with(&first.unwrap().to_string()));
        assert_eq!(loose_objects(&tmp), 0, "objects go into packs");
        let packs = fs::read_to_string(tmp.join("objects/info/packs")).unwrap();
        assert!(
            packs.starts_with("P pack-") && packs.ends_with(".pack\n\n"),
            "{packs}"
        );
        fs::remove_dir_all(&tmp).unwrap();
    }

    /// A commit's pack holds what the commit changed: the file's blob, the
    /// trees above it and the commit, however large the index is (libgit2's
    /// own dump of the in-memory objects packed the whole tree each time).
    #[test]
    fn a_commit_packs_what_it_changed_not_the_whole_index() {
        let tmp = tempdir("thin");
        let index = GitIndex::open_or_init(&tmp).unwrap();
        let files: Vec<(String, Option<String>)> = (0..2000)
            .map(|i| {
                (
                    format!("ns{}/p{i}", i % 20),
                    Some(format!("{{\"n\":{i}}}\n")),
                )
            })
            .collect();
        index.commit_files(&files, &info(1, "seed")).unwrap();
        let before: std::collections::BTreeSet<String> = pack::live_packs(&index.repo().unwrap())
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        index
            .commit_files(
                &[
                    ("ns3/p3".into(), Some("{\"n\":\"neu\"}\n".into())),
                    ("ns4/p4".into(), None),
                    ("neu/tief/p".into(), Some("{}\n".into())),
                ],
                &info(2, "one change"),
            )
            .unwrap();
        let new: Vec<pack::PackFile> = pack::live_packs(&index.repo().unwrap())
            .unwrap()
            .into_iter()
            .filter(|p| !before.contains(&p.name))
            .collect();
        assert_eq!(new.len(), 1, "{new:?}");
        let objects = pack::pack_objects(&index.repo().unwrap(), &new[0].name).unwrap();
        // 2 blobs; trees: root, ns3, ns4, neu, neu/tief; the commit.
        assert_eq!(objects.len(), 8, "{objects:?}");
        assert_eq!(
            index.read_file("ns3/p3").unwrap().unwrap(),
            b"{\"n\":\"neu\"}\n"
        );
        assert_eq!(index.read_file("ns4/p4").unwrap(), None);
        assert_eq!(index.read_file("neu/tief/p").unwrap().unwrap(), b"{}\n");
        assert_eq!(index.list_files().unwrap().len(), 2000);
        // Everything the head reaches is on disk: a fresh handle reads it.
        let fresh = Repository::open_bare(&tmp).unwrap();
        let head = fresh.refname_to_id(BRANCH).unwrap();
        let mut walk = fresh.revwalk().unwrap();
        walk.push(head).unwrap();
        let mut builder = fresh.packbuilder().unwrap();
        builder.insert_walk(&mut walk).unwrap();
        // At least 2,000 blobs; the root, 20 namespaces, neu and neu/tief;
        // 2 commits; packing them reads every one of them.
        assert!(builder.object_count() >= 2000 + 23 + 2);
        let mut buf = git2::Buf::new();
        builder.write_buf(&mut buf).unwrap();
        fs::remove_dir_all(&tmp).unwrap();
    }

    /// Large packs outside the base that outweigh it are written into one
    /// new base (the history unchanged), so that a dumb clone finds nearly
    /// everything in the first pack it downloads.
    #[test]
    fn packs_that_outgrow_the_base_become_one_base() {
        let tmp = tempdir("consolidate");
        let index = GitIndex::open_or_init(&tmp).unwrap();
        // Three batches whose packs are past the roll-up size: content
        // that does not compress (a counter hashed into every line).
        let mut heads = Vec::new();
        for batch in 0..3u64 {
            let files: Vec<(String, Option<String>)> = (0..2500u64)
                .map(|i| {
                    let n = batch * 2500 + i;
                    let noise: String = (0..16)
                        .map(|k| {
                            format!("{:016x}", (n * 16 + k).wrapping_mul(0x9e37_79b9_7f4a_7c15))
                        })
                        .collect();
                    (
                        format!("ns{}/p{n}", n % 30),
                        Some(format!("{{\"n\":\"{noise}\"}}\n")),
                    )
                })
                .collect();
            heads.push(
                index
                    .commit_files(&files, &info(batch as i64, "batch"))
                    .unwrap()
                    .unwrap(),
            );
        }
        let large = |index: &GitIndex| {
            pack::live_packs(&index.repo().unwrap())
                .unwrap()
                .iter()
                .filter(|p| p.size >= pack::ROLL_UP_MAX_BYTES)
                .count()
        };
        assert_eq!(large(&index), 3);
        assert!(pack::outgrown(&index.repo().unwrap()).unwrap());
        index.maintain().unwrap();
        let live = pack::live_packs(&index.repo().unwrap()).unwrap();
        let base = pack::base_packs(&index.repo().unwrap()).unwrap();
        assert_eq!(live.len(), 1, "{live:?}");
        assert!(base.contains(&live[0].name));
        assert!(!pack::outgrown(&index.repo().unwrap()).unwrap());
        // Same history, every file readable, and dumb clients see one pack.
        assert_eq!(index.head().unwrap(), heads.last().copied());
        assert_eq!(index.list_files().unwrap().len(), 7500);
        let listed = fs::read_to_string(tmp.join("objects/info/packs")).unwrap();
        assert_eq!(listed.matches("P pack-").count(), 1, "{listed}");
        let fresh = Repository::open_bare(&tmp).unwrap();
        let mut walk = fresh.revwalk().unwrap();
        walk.push(heads[2]).unwrap();
        let commits: Vec<Oid> = walk.map(Result::unwrap).collect();
        assert!(
            heads.iter().all(|h| commits.contains(h)),
            "the history is kept"
        );
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn same_content_and_times_give_the_same_commit_ids() {
        let (a, b) = (tempdir("det-a"), tempdir("det-b"));
        let mut heads = Vec::new();
        for dir in [&a, &b] {
            let index = GitIndex::open_or_init(dir).unwrap();
            index
                .commit_files(
                    &[("kassel/a".into(), Some("1\n".into()))],
                    &info(1000, "Update kassel/a"),
                )
                .unwrap();
            index
                .commit_files(
                    &[("kassel/b".into(), Some("2\n".into()))],
                    &info(900, "Update kassel/b"),
                )
                .unwrap();
            let head = index.head().unwrap().unwrap();
            let repo = index.repo().unwrap();
            let commit = repo.find_commit(head).unwrap();
            assert_eq!(commit.time().seconds(), 1000, "never older than the parent");
            heads.push(head);
        }
        assert_eq!(heads[0], heads[1]);
        for dir in [a, b] {
            fs::remove_dir_all(dir).unwrap();
        }
    }

    /// Between operations the process maps nothing of the index: a handle
    /// kept open would keep every pack it read mapped (the whole index
    /// after a consolidation), which is node memory that grows with the
    /// registry.
    #[cfg(target_os = "linux")]
    #[test]
    fn nothing_of_the_index_stays_mapped_between_operations() {
        let tmp = tempdir("unmapped");
        let index = GitIndex::open_or_init(&tmp).unwrap();
        for batch in 0..12i64 {
            let files: Vec<(String, Option<String>)> = (0..200)
                .map(|i| {
                    (
                        format!("ns{}/p{batch}-{i}", i % 7),
                        Some(format!("{{\"n\":{i}}}\n")),
                    )
                })
                .collect();
            index.commit_files(&files, &info(batch, "batch")).unwrap();
            index.maintain().unwrap();
        }
        assert_eq!(index.list_files().unwrap().len(), 2400);
        assert!(index.read_file("ns3/p5-3").unwrap().is_some());
        index.commits_since_snapshot().unwrap();
        let maps = fs::read_to_string("/proc/self/maps").unwrap();
        let ours: Vec<&str> = maps
            .lines()
            .filter(|l| l.contains(tmp.to_str().unwrap()))
            .collect();
        assert!(ours.is_empty(), "still mapped: {ours:#?}");
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn small_packs_roll_up_geometrically() {
        let tmp = tempdir("rollup");
        let index = GitIndex::open_or_init(&tmp).unwrap();
        for i in 0..64 {
            index
                .commit_files(
                    &[(format!("ns/p{i}"), Some(format!("{{\"n\":{i}}}\n")))],
                    &info(i, "Update"),
                )
                .unwrap();
            index.maintain().unwrap();
        }
        let packs = pack::live_packs(&index.repo().unwrap()).unwrap();
        assert!(packs.len() <= 8, "64 commits in {} packs", packs.len());
        assert_eq!(index.list_files().unwrap().len(), 64);
        fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn squash_keeps_the_tree_and_archives_the_history() {
        let (tmp, archive, other) = (
            tempdir("squash"),
            tempdir("squash-archive"),
            tempdir("squash-other"),
        );
        let index = GitIndex::open_or_init(&tmp).unwrap();
        for i in 0..3 {
            index
                .commit_files(
                    &[(format!("ns/p{i}"), Some("x\n".into()))],
                    &info(1_764_500_000 + i, "Update"),
                )
                .unwrap();
        }
        let before = index
            .repo()
            .unwrap()
            .find_commit(index.head().unwrap().unwrap())
            .unwrap()
            .tree_id();
        assert_eq!(index.commits_since_snapshot().unwrap(), 2);
        let squashed = index.squash(&archive).unwrap().unwrap();
        assert_eq!(squashed.archived_as, "snapshot-2025-11-30-105322");
        let repo = index.repo().unwrap();
        let head = repo.find_commit(squashed.snapshot).unwrap();
        assert_eq!(head.parent_count(), 0);
        assert_eq!(head.tree_id(), before);
        assert_eq!(index.commits_since_snapshot().unwrap(), 0);
        assert!(
            index.squash(&archive).unwrap().is_none(),
            "a snapshot is not squashed again"
        );
        let archived = Repository::open_bare(&archive).unwrap();
        let tip = archived
            .refname_to_id("refs/heads/snapshot-2025-11-30-105322")
            .unwrap();
        assert_eq!(tip, squashed.previous);
        let mut walk = archived.revwalk().unwrap();
        walk.push(tip).unwrap();
        assert_eq!(walk.count(), 3, "the whole old history is in the archive");
        let packs = fs::read_to_string(tmp.join("objects/info/packs")).unwrap();
        assert_eq!(
            packs.lines().filter(|l| l.starts_with("P ")).count(),
            2,
            "{packs}"
        );

        // Another repository with the same content and time squashes to the same id.
        let again = GitIndex::open_or_init(&other).unwrap();
        again
            .commit_files(
                &[
                    ("ns/p0".into(), Some("x\n".into())),
                    ("ns/p1".into(), Some("x\n".into())),
                ],
                &info(1, "Update"),
            )
            .unwrap();
        again
            .commit_files(
                &[("ns/p2".into(), Some("x\n".into()))],
                &info(1_764_500_002, "other"),
            )
            .unwrap();
        let other_archive = tempdir("squash-other-archive");
        assert_eq!(
            again.squash(&other_archive).unwrap().unwrap().snapshot,
            squashed.snapshot
        );
        for dir in [tmp, archive, other, other_archive] {
            fs::remove_dir_all(dir).unwrap();
        }
    }

    #[test]
    fn dates_of_unix_times() {
        assert_eq!(chrono_like_date(0), "1970-01-01-000000");
        assert_eq!(chrono_like_date(951_782_400), "2000-02-29-000000");
        assert_eq!(chrono_like_date(1_764_500_000), "2025-11-30-105320");
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gw-git-index-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }
}
