//! The git index when several nodes serve one registry (PostgreSQL and an
//! S3 bucket): one node writes it, every node serves the same files.
//!
//! The writer is the node that holds a PostgreSQL advisory lock on a
//! connection of its own; when it dies, the connection and the lock go,
//! and the next node whose git index lane looks takes over. The writer
//! commits in its local repository as a single node does, then puts the
//! new packs into the bucket (`git/index.git/objects/pack/…`) and after
//! them the small files that name them (`objects/info/packs`,
//! `info/refs`, `HEAD`), so that a reader never sees a ref to an object
//! that is not there. Every node answers `/git/index.git/…` from the
//! bucket: the same bytes, the same commit ids. A node taking over first
//! fetches the shared packs and points its refs where the shared
//! `info/refs` says, then writes on from there.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use diesel::prelude::*;

use super::error::{RegistryError, Result};
use super::Registry;
use crate::store::Backend;
use registry_index::GitIndex;

/// Where the git index's files live in the bucket.
const ROOT: &str = "git/index.git";

/// The advisory lock's key: "gw-index" in ASCII.
const LOCK_KEY: i64 = 0x6777_2d69_6e64_6578;

/// The files that name the packs and the commits: written after the packs.
const SMALL_FILES: [&str; 3] = ["objects/info/packs", "info/refs", "HEAD"];

/// This node's part in the shared index.
#[derive(Default)]
pub struct Leadership {
    /// The connection that asks for the advisory lock, and whether it holds
    /// it (this node writes). Kept while waiting, so that asking again is
    /// one query, not a new connection.
    lock: Mutex<Option<(diesel::PgConnection, bool)>>,
    /// Packs known to be in the bucket.
    uploaded: Mutex<BTreeSet<String>>,
}

impl Leadership {
    /// Whether this node writes the shared git index now.
    pub fn is_writer(&self) -> bool {
        matches!(*self.lock.lock().expect("leadership lock"), Some((_, true)))
    }
}

/// Whether nodes share the git index: PostgreSQL and a bucket.
pub fn is_shared(reg: &Registry) -> bool {
    reg.db.backend == Backend::Postgres && reg.blobs.shares_files()
}

/// Whether this node writes the shared git index now. Takes the lead when
/// no live node holds it, after bringing the local repository to the
/// shared state.
pub fn lead(reg: &Registry) -> Result<bool> {
    let mut lock = reg.shared_index.lock.lock().expect("leadership lock");
    if let Some((conn, held)) = lock.as_mut() {
        // A connection that died took the lock with it.
        if *held && diesel::sql_query("SELECT 1").execute(conn).is_ok() {
            return Ok(true);
        }
        if *held {
            tracing::warn!("lost the git index writer's connection; another node may write now");
            *lock = None;
        }
    }
    if lock.is_none() {
        let conn = diesel::PgConnection::establish(reg.db.url.connection_string())
            .map_err(|e| RegistryError::Db(crate::store::db::DbError::Connect(e.to_string())))?;
        *lock = Some((conn, false));
    }
    let (conn, held) = lock.as_mut().expect("connected above");
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let got: std::result::Result<Locked, _> =
        diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
            .bind::<diesel::sql_types::BigInt, _>(LOCK_KEY)
            .get_result(conn);
    match got {
        Ok(got) if got.locked => {}
        Ok(_) => return Ok(false),
        Err(e) => {
            *lock = None;
            return Err(e.into());
        }
    }
    // Writing starts from the shared state; if that fails, the connection
    // goes and the lock with it, for this or another node to try again.
    if let Err(e) = take_over(reg) {
        *lock = None;
        return Err(e);
    }
    *held = true;
    tracing::info!(node = %reg.node_id, "this node writes the shared git index");
    Ok(true)
}

/// Brings the local repository to the bucket's state (or, as the first
/// writer, the bucket to the local state) and writes config.json.
fn take_over(reg: &Registry) -> Result<()> {
    let fetched = fetch_into(reg, &reg.git_index_path())?;
    reg.git.reopen();
    match fetched {
        Some(uploaded) => {
            *reg.shared_index.uploaded.lock().expect("uploaded lock") = uploaded;
        }
        // The first writer: the bucket holds no index yet.
        None => reg.git.with(reg, |git| publish(reg, git))?,
    }
    // config.json names the URL clients reach the registry at; behind a
    // load balancer every node has the same `--public-url`.
    super::jobs::write_index_config(reg)?;
    Ok(())
}

/// Makes the repository at `local` what the bucket holds: its packs and
/// refs (the writer taking over, or `admin fsck` looking into a copy of
/// its own). Answers the packs, or `None` when the bucket holds no index
/// yet.
pub fn fetch_into(reg: &Registry, local: &Path) -> Result<Option<BTreeSet<String>>> {
    let Some(packs) = reg.blobs.get_file(&format!("{ROOT}/objects/info/packs"))? else {
        return Ok(None);
    };
    let packs = String::from_utf8_lossy(&packs).into_owned();
    GitIndex::open_or_init(local)?;
    std::fs::create_dir_all(local.join("objects/pack"))?;
    let mut uploaded = BTreeSet::new();
    for name in pack_names(&packs) {
        // The index file last: a pack without one is ignored as unfinished.
        for ext in ["pack", "idx"] {
            let file = format!("objects/pack/{name}.{ext}");
            if local.join(&file).exists() {
                continue;
            }
            let bytes = reg
                .blobs
                .get_file(&format!("{ROOT}/{file}"))?
                .ok_or_else(|| missing(&file))?;
            write_file(&local.join(&file), &bytes)?;
        }
        uploaded.insert(name.to_string());
    }
    let refs = reg
        .blobs
        .get_file(&format!("{ROOT}/info/refs"))?
        .ok_or_else(|| missing("info/refs"))?;
    // A fresh handle sees the packs just written.
    let git = GitIndex::open_or_init(local)?;
    for line in String::from_utf8_lossy(&refs).lines() {
        if let Some((oid, name)) = line.split_once('\t') {
            git.set_reference(name, oid)?;
        }
    }
    Ok(Some(uploaded))
}

fn missing(file: &str) -> RegistryError {
    RegistryError::Io(std::io::Error::other(format!(
        "the shared git index in the blob store lacks {file}"
    )))
}

/// The pack names (`pack-…`) an `objects/info/packs` file lists.
fn pack_names(list: &str) -> impl Iterator<Item = &str> {
    list.lines()
        .filter_map(|l| l.strip_prefix("P ")?.strip_suffix(".pack"))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("download");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Puts the local repository's new packs into the bucket, then the files
/// that name them, then removes the packs no longer listed or retired.
/// Call as the writer, after every change of the local repository.
pub fn publish(reg: &Registry, git: &GitIndex) -> Result<()> {
    let repo = git.path();
    let list = std::fs::read_to_string(repo.join("objects/info/packs")).unwrap_or_default();
    let live: BTreeSet<String> = pack_names(&list).map(str::to_string).collect();
    let mut uploaded = reg.shared_index.uploaded.lock().expect("uploaded lock");
    for name in &live {
        if uploaded.contains(name) {
            continue;
        }
        for ext in ["pack", "idx"] {
            let file = format!("objects/pack/{name}.{ext}");
            reg.blobs
                .put_file(&format!("{ROOT}/{file}"), &std::fs::read(repo.join(&file))?)?;
        }
        uploaded.insert(name.clone());
    }
    for file in SMALL_FILES {
        if let Ok(bytes) = std::fs::read(repo.join(file)) {
            reg.blobs.put_file(&format!("{ROOT}/{file}"), &bytes)?;
        }
    }
    // A pack replaced by a roll-up stays while it waits in objects/retired
    // for clients that listed it before; then it goes from the bucket too.
    let retired_dir = repo.join("objects/retired");
    let gone: Vec<String> = uploaded
        .iter()
        .filter(|name| !live.contains(*name))
        .filter(|name| !retired_dir.join(format!("{name}.pack")).exists())
        .cloned()
        .collect();
    for name in gone {
        for ext in ["pack", "idx"] {
            reg.blobs
                .delete_file(&format!("{ROOT}/objects/pack/{name}.{ext}"))?;
        }
        uploaded.remove(&name);
    }
    Ok(())
}

/// A file of the shared git index as the bucket holds it.
pub fn read(reg: &Registry, tail: &str) -> Result<Option<Vec<u8>>> {
    Ok(reg.blobs.get_file(&format!("{ROOT}/{tail}"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pack_list_names_its_packs() {
        let list = "P pack-1a.pack\nP pack-2b.pack\n\n";
        assert_eq!(pack_names(list).collect::<Vec<_>>(), ["pack-1a", "pack-2b"]);
    }
}
