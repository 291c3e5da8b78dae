//! The git index: the index files in a bare git repository, one commit per
//! change, written without a work tree and served over git's dumb HTTP
//! protocol (which is why `info/refs` is kept up to date here).

use std::fs;
use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{FileMode, Oid, Repository, Signature};

const BRANCH: &str = "refs/heads/main";

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
pub struct GitIndex {
    repo: Repository,
    path: PathBuf,
}

impl GitIndex {
    /// Opens the repository at `path`, creating a bare one if it is missing.
    pub fn open_or_init(path: &Path) -> Result<Self, GitIndexError> {
        let git = |source| GitIndexError::Git {
            path: path.to_path_buf(),
            source,
        };
        let repo = match Repository::open_bare(path) {
            Ok(repo) => repo,
            Err(_) => {
                let repo = Repository::init_bare(path).map_err(git)?;
                repo.set_head(BRANCH).map_err(git)?;
                repo
            }
        };
        let index = GitIndex {
            repo,
            path: path.to_path_buf(),
        };
        index.update_server_info()?;
        Ok(index)
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
        let Some(tree) = self.head_tree()? else {
            return Ok(None);
        };
        let entry = match tree.get_path(Path::new(file)) {
            Ok(entry) => entry,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(self.git_err(e)),
        };
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| self.git_err(e))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// All file paths at the tip of the branch, sorted.
    pub fn list_files(&self) -> Result<Vec<String>, GitIndexError> {
        let mut files = Vec::new();
        if let Some(tree) = self.head_tree()? {
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

    fn head_tree(&self) -> Result<Option<git2::Tree<'_>>, GitIndexError> {
        match self.repo.find_reference(BRANCH) {
            Ok(r) => {
                let commit = r.peel_to_commit().map_err(|e| self.git_err(e))?;
                Ok(Some(commit.tree().map_err(|e| self.git_err(e))?))
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.git_err(e)),
        }
    }

    /// Writes (`Some`) or deletes (`None`) files in one commit. Returns the
    /// new commit id, or `None` when the tree did not change, so that
    /// replaying a job does not add empty commits.
    pub fn commit_files(
        &self,
        changes: &[(String, Option<String>)],
        message: &str,
    ) -> Result<Option<Oid>, GitIndexError> {
        let e = |source| self.git_err(source);
        let parent = match self.repo.find_reference(BRANCH) {
            Ok(r) => Some(r.peel_to_commit().map_err(e)?),
            Err(err) if err.code() == git2::ErrorCode::NotFound => None,
            Err(err) => return Err(e(err)),
        };
        let base_tree = match &parent {
            Some(c) => c.tree().map_err(e)?,
            None => {
                let empty = self.repo.treebuilder(None).map_err(e)?.write().map_err(e)?;
                self.repo.find_tree(empty).map_err(e)?
            }
        };
        let mut update = TreeUpdateBuilder::new();
        for (file, content) in changes {
            match content {
                Some(text) => {
                    let blob = self.repo.blob(text.as_bytes()).map_err(e)?;
                    update.upsert(file.as_str(), blob, FileMode::Blob);
                }
                None => {
                    update.remove(file.as_str());
                }
            }
        }
        let tree_id = update.create_updated(&self.repo, &base_tree).map_err(e)?;
        if parent.is_some() && tree_id == base_tree.id() {
            return Ok(None);
        }
        let tree = self.repo.find_tree(tree_id).map_err(e)?;
        let sig = Signature::now("gemeinwerk", "registry@gemeinwerk.invalid").map_err(e)?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let oid = self
            .repo
            .commit(Some(BRANCH), &sig, &sig, message, &tree, &parents)
            .map_err(e)?;
        self.update_server_info()?;
        Ok(Some(oid))
    }

    fn update_server_info(&self) -> Result<(), GitIndexError> {
        update_server_info(&self.repo).map_err(|source| GitIndexError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

/// What `git update-server-info` does, for git's dumb HTTP protocol: every
/// ref in `info/refs` and the (empty) list of packs in `objects/info/packs`.
/// Objects stay loose, which is what a dumb client fetches one by one.
pub fn update_server_info(repo: &Repository) -> std::io::Result<()> {
    let mut refs = Vec::new();
    if let Ok(iter) = repo.references() {
        for r in iter.flatten() {
            if let (Some(name), Some(oid)) = (r.name(), r.target()) {
                refs.push(format!("{oid}\t{name}\n"));
            }
        }
    }
    refs.sort_by(|a, b| a.split('\t').nth(1).cmp(&b.split('\t').nth(1)));
    let dir = repo.path();
    fs::create_dir_all(dir.join("info"))?;
    write_atomic(&dir.join("info/refs"), refs.concat().as_bytes())?;
    fs::create_dir_all(dir.join("objects/info"))?;
    write_atomic(&dir.join("objects/info/packs"), b"")
}

fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, content)?;
    fs::rename(tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_on_change_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("gw-git-index-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let index = GitIndex::open_or_init(&dir).unwrap();
        let first = index
            .commit_files(&[("kassel/a".into(), Some("x\n".into()))], "publish")
            .unwrap();
        assert!(first.is_some());
        let again = index
            .commit_files(&[("kassel/a".into(), Some("x\n".into()))], "replay")
            .unwrap();
        assert!(again.is_none(), "an unchanged tree adds no commit");
        assert_eq!(index.read_file("kassel/a").unwrap().unwrap(), b"x\n");
        assert_eq!(index.list_files().unwrap(), vec!["kassel/a".to_string()]);
        let refs = fs::read_to_string(dir.join("info/refs")).unwrap();
        assert!(refs.starts_with(&first.unwrap().to_string()));
        fs::remove_dir_all(&dir).unwrap();
    }
}
