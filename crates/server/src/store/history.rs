//! Package histories: one bare git repository per package, one commit per
//! published version whose tree is the package's files, tagged `vX.Y.Z`.
//! Commits are made from what the database says (files, publisher, time),
//! so a rebuild writes the same commit ids. Objects are written into packs
//! (one per sync, small ones rolled up), as for the git index, so that a
//! dumb-protocol clone fetches a few files rather than one per object.

use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, Signature, Time};

use gemeinwerk_package::PackageFiles;

pub struct PackageHistory {
    repo: Repository,
}

/// Who and when, as recorded in the database.
pub struct CommitMeta<'a> {
    pub author: &'a str,
    pub time: chrono::NaiveDateTime,
    pub message: &'a str,
}

impl PackageHistory {
    pub fn path_for(root: &Path, namespace: &str, name: &str) -> PathBuf {
        root.join(namespace).join(format!("{name}.git"))
    }

    /// The repository at `path` as it is, for reading: no locks cleared, no
    /// objects packed, nothing made (`None` when there is none).
    pub fn open_existing(path: &Path) -> Option<Self> {
        Repository::open_bare(path)
            .ok()
            .map(|repo| PackageHistory { repo })
    }

    pub fn open_or_init(path: &Path) -> Result<Self, git2::Error> {
        registry_index::clear_stale_locks(path).map_err(|e| {
            git2::Error::from_str(&format!(
                "removing stale lock files in {}: {e}",
                path.display()
            ))
        })?;
        let repo = match Repository::open_bare(path) {
            Ok(repo) => repo,
            Err(_) => registry_index::init_bare(path)?,
        };
        // Histories written before they were packed hold loose objects.
        registry_index::pack::pack_loose(&repo)?;
        Ok(PackageHistory { repo })
    }

    /// Runs `f` with every object it writes through this handle kept in
    /// memory, then writes what the commits `tips` gives for its value
    /// reach, and no tag or branch does yet, as one pack. At most once per
    /// handle.
    pub fn packed<T, E: From<git2::Error>>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        tips: impl FnOnce(&T) -> Vec<Oid>,
    ) -> Result<T, E> {
        Ok(registry_index::pack::write_packed(&self.repo, || {
            let value = f()?;
            let new = registry_index::pack::NewObjects::ReachableFrom(tips(&value));
            Ok::<_, E>((value, new))
        })?
        .0)
    }

    /// Writes the commit of one version (objects only; no ref moves).
    pub fn commit(
        &self,
        files: &PackageFiles,
        parents: &[Oid],
        meta: &CommitMeta,
    ) -> Result<Oid, git2::Error> {
        let empty = self.repo.treebuilder(None)?.write()?;
        let empty = self.repo.find_tree(empty)?;
        let mut update = TreeUpdateBuilder::new();
        for (path, content) in files {
            let blob = self.repo.blob(content)?;
            update.upsert(path.as_str(), blob, FileMode::Blob);
        }
        let tree = self
            .repo
            .find_tree(update.create_updated(&self.repo, &empty)?)?;
        let time = Time::new(meta.time.and_utc().timestamp(), 0);
        let author = Signature::new(
            meta.author,
            &format!("{}@users.gemeinwerk.invalid", meta.author),
            &time,
        )?;
        let committer = Signature::new("gemeinwerk", "registry@gemeinwerk.invalid", &time)?;
        let parents: Vec<git2::Commit> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p))
            .collect::<Result<_, _>>()?;
        let parent_refs: Vec<&git2::Commit> = parents.iter().collect();
        self.repo
            .commit(None, &author, &committer, meta.message, &tree, &parent_refs)
    }

    /// Points `refs/tags/vX.Y.Z` at each commit and `refs/heads/main` at the
    /// last, dropping refs that are not in the list, then refreshes the
    /// files the dumb HTTP protocol reads.
    pub fn set_refs(&self, tags: &[(String, Oid)]) -> Result<(), git2::Error> {
        let wanted: std::collections::BTreeSet<String> = tags
            .iter()
            .map(|(v, _)| format!("refs/tags/v{v}"))
            .collect();
        let stale: Vec<String> = self
            .repo
            .references_glob("refs/tags/*")?
            .flatten()
            .filter_map(|r| r.name().map(str::to_string))
            .filter(|n| !wanted.contains(n))
            .collect();
        for name in stale {
            self.repo.find_reference(&name)?.delete()?;
        }
        // A publish moves one tag and `main`; the refs that already point
        // where they should are left alone, so that appending the 100th
        // version writes two refs, not a hundred.
        let point = |name: &str, oid: Oid| -> Result<(), git2::Error> {
            if self.repo.refname_to_id(name).ok() != Some(oid) {
                self.repo.reference(name, oid, true, "gemeinwerk")?;
            }
            Ok(())
        };
        for (version, oid) in tags {
            point(&format!("refs/tags/v{version}"), *oid)?;
        }
        if let Some((_, last)) = tags.last() {
            point("refs/heads/main", *last)?;
        }
        registry_index::pack::roll_up(&self.repo)?;
        let io = |e: std::io::Error| git2::Error::from_str(&e.to_string());
        registry_index::pack::remove_retired(&self.repo).map_err(io)?;
        registry_index::update_server_info(&self.repo).map_err(io)
    }

    /// The versions tagged here, from the tag names (`refs/tags/vX.Y.Z`).
    pub fn tagged_versions(&self) -> Result<Vec<String>, git2::Error> {
        Ok(self
            .repo
            .references_glob("refs/tags/v*")?
            .flatten()
            .filter_map(|r| r.name()?.strip_prefix("refs/tags/v").map(str::to_string))
            .collect())
    }

    /// The commit `main` points at.
    pub fn main(&self) -> Option<Oid> {
        self.repo.refname_to_id("refs/heads/main").ok()
    }

    /// The commit a tag points at, if there is one.
    pub fn tag(&self, version: &str) -> Option<Oid> {
        self.repo
            .refname_to_id(&format!("refs/tags/v{version}"))
            .ok()
    }

    /// The commit a tag points at, if the tag and the commit exist.
    pub fn tagged_commit(&self, version: &str) -> Option<Oid> {
        let oid = self.tag(version)?;
        self.repo.find_commit(oid).ok().map(|c| c.id())
    }
}
