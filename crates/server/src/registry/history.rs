//! The package history view: every published version a commit in the
//! package's own git repository, a fork's first version (and every version
//! that moves to a new upstream) a child of the upstream version's commit,
//! so that provenance is real ancestry that stock git can show.

use std::collections::HashMap;
use std::path::PathBuf;

use diesel::prelude::*;
use git2::Oid;

use super::error::{RegistryError, Result};
use super::{index, Registry};
use crate::store::history::{CommitMeta, PackageHistory};
use crate::store::schema::users;
use gemeinwerk_package::archive;

/// Forks of forks of … stop somewhere; deeper chains are refused as broken.
const MAX_FORK_DEPTH: usize = 32;

pub fn repo_path(reg: &Registry, namespace: &str, name: &str) -> PathBuf {
    PackageHistory::path_for(&reg.data_dir.join("git").join("packages"), namespace, name)
}

/// Each version's number and commit, in publish order.
pub type Chain = Vec<(String, Oid)>;

/// Writes every commit of the package (and of the upstream versions it
/// builds on) and points its tags and `main` at them.
///
/// A version's commit depends only on data that never changes once
/// published (its archive, publisher, time, provenance) and on the commits
/// before it, so a version whose tag already names a commit in the
/// repository is taken as it is, and a publish costs one new commit, not a
/// rewrite of every version. `fsck` recomputes every commit and
/// [`rebuild_history`] rewrites them all.
pub fn sync_history(reg: &Registry, full_name: &str) -> Result<Chain> {
    let (chain, made) = reg
        .history_locks
        .with(full_name, || sync_history_unlocked(reg, full_name))?;
    if made {
        super::history_cache::made_one(reg);
    }
    Ok(chain)
}

/// [`sync_history`] for a caller that holds the package's history lock;
/// also says whether it made the repository. The caller trims the cache
/// ([`super::history_cache::made_one`]) once it let go of the lock.
pub(super) fn sync_history_unlocked(reg: &Registry, full_name: &str) -> Result<(Chain, bool)> {
    sync(reg, full_name, true)
}

/// Rewrites every commit of the package from the database, trusting no tag.
pub fn rebuild_history(reg: &Registry, full_name: &str) -> Result<Chain> {
    let (chain, made) = reg
        .history_locks
        .with(full_name, || sync(reg, full_name, false))?;
    if made {
        super::history_cache::made_one(reg);
    }
    Ok(chain)
}

/// Writes the history; says whether the repository was made for it.
fn sync(reg: &Registry, full_name: &str, trust_tags: bool) -> Result<(Chain, bool)> {
    let (ns, name) = split(full_name)?;
    let path = repo_path(reg, ns, name);
    let new = !path.join("HEAD").exists();
    let history = PackageHistory::open_or_init(&path)?;
    let chain = history.packed(
        || {
            let mut builder = ChainBuilder::new(reg, &history);
            builder.trust_tags = trust_tags;
            builder.chain(ns, name, 0)
        },
        tips,
    )?;
    history.set_refs(&chain)?;
    super::history_cache::mark_used(&path);
    Ok((chain, new))
}

/// The chain the database implies, written into the repository's objects,
/// and the chain its tags show now, for fsck.
pub fn expected_and_actual(reg: &Registry, full_name: &str) -> Result<(Chain, Chain)> {
    let (ns, name) = split(full_name)?;
    reg.history_locks.with(full_name, || {
        let history = PackageHistory::open_or_init(&repo_path(reg, ns, name))?;
        let expected =
            history.packed(|| ChainBuilder::new(reg, &history).chain(ns, name, 0), tips)?;
        let actual = expected
            .iter()
            .filter_map(|(v, _)| history.tag(v).map(|oid| (v.clone(), oid)))
            .collect();
        Ok((expected, actual))
    })
}

/// The commits of a chain, whose objects go into the history's pack.
fn tips(chain: &Chain) -> Vec<Oid> {
    chain.iter().map(|(_, oid)| *oid).collect()
}

fn split(full_name: &str) -> Result<(&str, &str)> {
    full_name.split_once('/').ok_or_else(|| {
        RegistryError::bad_request("invalid_job", format!("bad package name {full_name:?}"))
    })
}

struct ChainBuilder<'a> {
    reg: &'a Registry,
    history: &'a PackageHistory,
    done: HashMap<String, Chain>,
    /// Take the commits that the repository's own tags name (depth 0 only:
    /// an upstream's versions are not tagged here, and may share names).
    trust_tags: bool,
}

impl<'a> ChainBuilder<'a> {
    fn new(reg: &'a Registry, history: &'a PackageHistory) -> Self {
        ChainBuilder {
            reg,
            history,
            done: HashMap::new(),
            trust_tags: false,
        }
    }

    fn chain(&mut self, ns: &str, name: &str, depth: usize) -> Result<Chain> {
        let key = format!("{ns}/{name}");
        if let Some(chain) = self.done.get(&key) {
            return Ok(chain.clone());
        }
        if depth > MAX_FORK_DEPTH {
            return Err(RegistryError::bad_request(
                "fork_chain_too_deep",
                format!("{key}: forks nest deeper than {MAX_FORK_DEPTH}"),
            ));
        }
        let (versions, publishers) = {
            let mut conn = self.reg.db.conn()?;
            let package = index::find_package(&mut conn, ns, name)?
                .ok_or_else(|| RegistryError::UnknownPackage(key.clone()))?;
            let versions = index::package_versions(&mut conn, package.id)?;
            let ids: Vec<i64> = versions.iter().filter_map(|v| v.published_by).collect();
            let publishers: HashMap<i64, String> = users::table
                .filter(users::id.eq_any(&ids))
                .select((users::id, users::login))
                .load(&mut *conn)?
                .into_iter()
                .collect();
            (versions, publishers)
        };
        let mut chain = Chain::new();
        let mut previous: Option<Oid> = None;
        let mut previous_base: Option<String> = None;
        for v in versions {
            if self.trust_tags && depth == 0 {
                if let Some(oid) = self.history.tagged_commit(&v.num) {
                    previous_base = v.forked_from.clone();
                    chain.push((v.num, oid));
                    previous = Some(oid);
                    continue;
                }
            }
            let mut parents: Vec<Oid> = previous.into_iter().collect();
            if v.forked_from.is_some() && v.forked_from != previous_base {
                let base = v.forked_from.as_deref().unwrap_or_default();
                if let Some(upstream) = self.upstream_commit(base, depth)? {
                    parents.push(upstream);
                }
            }
            previous_base = v.forked_from.clone();
            let bytes =
                self.reg
                    .blobs
                    .get(&v.cksum)?
                    .ok_or_else(|| RegistryError::MissingBlob {
                        version: format!("{key}@{}", v.num),
                        cksum: v.cksum.clone(),
                    })?;
            let (_, files) = archive::unpack(&bytes, &self.reg.config.limits)?;
            let author = v
                .published_by
                .and_then(|id| publishers.get(&id))
                .map(String::as_str)
                .unwrap_or("gemeinwerk");
            let message = format!("{key} {}\n\nsha256 {}\n", v.num, v.cksum);
            let oid = self.history.commit(
                &files,
                &parents,
                &CommitMeta {
                    author,
                    time: v.created_at,
                    message: &message,
                },
            )?;
            chain.push((v.num, oid));
            previous = Some(oid);
        }
        self.done.insert(key, chain.clone());
        Ok(chain)
    }

    /// The commit of `ns/name@version` (written into this repository).
    fn upstream_commit(&mut self, base: &str, depth: usize) -> Result<Option<Oid>> {
        let Some((package, version)) = base.split_once('@') else {
            return Ok(None);
        };
        let Some((ns, name)) = package.split_once('/') else {
            return Ok(None);
        };
        let chain = self.chain(ns, name, depth + 1)?;
        Ok(chain
            .into_iter()
            .find(|(v, _)| v == version)
            .map(|(_, oid)| oid))
    }
}
