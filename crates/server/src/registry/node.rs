//! Who this serving process is among the nodes that share a database: the
//! name its job claims carry, and the locks that keep a data dir, and an
//! SQLite database, to one serving process.
//!
//! The name is kept in the data dir, so that a node restarted after a crash
//! is the same node: it takes its own unfinished claims back at once
//! instead of waiting for their leases to run out. The data dir lock makes
//! that safe: no other live process can hold the same name.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::store::{Backend, DbUrl};

/// Why a node cannot start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(
        "another `gemeinwerk serve` uses the data dir {0}; every node needs its own (--data-dir)"
    )]
    DataDirInUse(PathBuf),
    #[error("another `gemeinwerk serve` uses the SQLite database {0}; SQLite serves one node only, several nodes share a PostgreSQL database (--database-url postgres://…)")]
    SqliteInUse(PathBuf),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the node id in {path} is unreadable: {detail}")]
    BadId { path: PathBuf, detail: String },
}

/// A serving node: its id and the locks it holds while it lives.
#[derive(Debug)]
pub struct Node {
    pub id: String,
    _locks: Vec<File>,
}

impl Node {
    /// Locks the data dir (and an SQLite database) for this process and
    /// reads or makes the node's id. Fails at once, naming the setting,
    /// when another process serves the same data dir or SQLite file.
    pub fn start(data_dir: &Path, db: &DbUrl) -> Result<Node, NodeError> {
        let mut locks = vec![lock(&data_dir.join("serve.lock"), || {
            NodeError::DataDirInUse(data_dir.to_path_buf())
        })?];
        if db.backend == Backend::Sqlite {
            let file = PathBuf::from(db.sqlite_path());
            let mut name = file.file_name().unwrap_or_default().to_os_string();
            name.push(".serve.lock");
            locks.push(lock(&file.with_file_name(name), || {
                NodeError::SqliteInUse(file.clone())
            })?);
        }
        Ok(Node {
            id: node_id(&data_dir.join("node-id"))?,
            _locks: locks,
        })
    }
}

/// Takes an exclusive lock on `path` for as long as the returned file is
/// open; the kernel lets go when the process dies, however it dies.
fn lock(path: &Path, in_use: impl FnOnce() -> NodeError) -> Result<File, NodeError> {
    let failed = |source| NodeError::Lock {
        path: path.to_path_buf(),
        source,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(in_use()),
        Err(TryLockError::Error(e)) => Err(failed(e)),
    }
}

/// The id stored at `path`, made on first start: random, so that two data
/// dirs copied from one image still get different ids only if the file is
/// not copied along (docs/operations.md says to start a new node from an
/// empty data dir).
fn node_id(path: &Path) -> Result<String, NodeError> {
    let bad = |detail: String| NodeError::BadId {
        path: path.to_path_buf(),
        detail,
    };
    match File::open(path) {
        Ok(mut f) => {
            let mut id = String::new();
            f.read_to_string(&mut id).map_err(|e| bad(e.to_string()))?;
            let id = id.trim().to_string();
            let valid = (8..=64).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !valid {
                return Err(bad(format!(
                    "{id:?} is not 8 to 64 letters, digits or '-'; remove the file to get a new id"
                )));
            }
            Ok(id)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let host = hostname();
            let id = format!("{host}-{}", &super::secrets::random_hex()[..12]);
            let tmp = path.with_extension("tmp");
            let mut f = File::create(&tmp).map_err(|e| bad(e.to_string()))?;
            writeln!(f, "{id}").map_err(|e| bad(e.to_string()))?;
            f.sync_all().map_err(|e| bad(e.to_string()))?;
            std::fs::rename(&tmp, path).map_err(|e| bad(e.to_string()))?;
            Ok(id)
        }
        Err(e) => Err(bad(e.to_string())),
    }
}

/// The host's name as far as it fits a node id (letters, digits, '-'), for
/// operators reading claims; "node" when there is none.
fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    if name.trim_matches('-').is_empty() {
        "node".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_node_on_one_data_dir_or_sqlite_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = DbUrl::sqlite_file(&dir.path().join("gemeinwerk.db"));
        let first = Node::start(dir.path(), &db).unwrap();
        let again = Node::start(dir.path(), &db).unwrap_err();
        assert!(matches!(again, NodeError::DataDirInUse(_)), "{again}");

        // Another data dir, the same SQLite file.
        let other = tempfile::tempdir().unwrap();
        let shared = Node::start(other.path(), &db).unwrap_err();
        assert!(matches!(shared, NodeError::SqliteInUse(_)), "{shared}");
        assert!(shared.to_string().contains("PostgreSQL"), "{shared}");

        // Gone with the first node; the id stays with the data dir.
        let id = first.id.clone();
        drop(first);
        // Another test of this process may be starting a program just now:
        // until it has exec'd, its copy of the lock file's descriptor holds
        // the lock (every descriptor is closed on exec, not on fork).
        let again = (0..100)
            .find_map(|_| match Node::start(dir.path(), &db) {
                Err(NodeError::DataDirInUse(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    None
                }
                other => Some(other),
            })
            .expect("the lock is let go")
            .unwrap();
        assert_eq!(again.id, id);
        drop(again);
        assert_ne!(
            Node::start(
                other.path(),
                &DbUrl::sqlite_file(&other.path().join("x.db"))
            )
            .unwrap()
            .id,
            id
        );
    }

    #[test]
    fn a_damaged_id_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("node-id"), "no good\n").unwrap();
        let db = DbUrl::sqlite_file(&dir.path().join("gemeinwerk.db"));
        let e = Node::start(dir.path(), &db).unwrap_err();
        assert!(e.to_string().contains("node-id"), "{e}");
    }
}
