//! Packfiles for repositories served over git's dumb HTTP protocol.
//!
//! A dumb client fetches a loose object with one request each, but a pack
//! with two (its `.idx`, then the `.pack`), and a pack it already holds not
//! at all. So every write goes straight into a new pack (objects are built
//! in memory, never loose), and small packs are rolled up into larger ones
//! so that their sizes stay geometric (each at least twice the next
//! smaller one): a clone downloads a few packs, a fetch of recent changes
//! the few small ones that hold them.
//!
//! Packs that are replaced are *retired*: they leave `objects/info/packs`
//! and `objects/pack/` at once (no new client starts on them) but stay in
//! `objects/retired/` for a grace ([`ROLL_UP_GRACE`], [`RETIRE_GRACE`]),
//! so that a clone that read the old list can finish.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use git2::{Buf, Oid, Repository};

/// How long a pack replaced by a squash stays on disk after it left the
/// pack list, so that clones that read the old list can finish.
pub const RETIRE_GRACE: Duration = Duration::from_secs(600);
/// The same for small packs that were rolled up: they are small, so a
/// client that listed them fetches them within moments, and they are
/// many, so keeping them long would cost disk under a steady load.
pub const ROLL_UP_GRACE: Duration = Duration::from_secs(60);

/// Packs at least this large are not rolled up any more. A dumb client
/// downloads a rolled-up pack whole even if it holds most of its objects
/// already, so this bounds what a fetch downloads beyond what is new; and
/// merging large packs would recompute deltas over many objects and hold
/// the writer (and with it the index's lag) for seconds. Their number
/// stays bounded because a squash replaces them all.
pub const ROLL_UP_MAX_BYTES: u64 = 256 << 10;

/// Packs listed here (one name per line) form the snapshot base and are
/// never rolled up with the small packs; a squash replaces them.
const BASE_FILE: &str = "objects/info/gemeinwerk-base";
/// Retired packs: `{unix seconds to delete at} {pack name}` per line.
const RETIRED_FILE: &str = "objects/info/gemeinwerk-retired";

/// What a write through [`write_packed`] made, to go into its pack.
#[derive(Debug, Clone)]
pub enum NewObjects {
    /// Exactly these objects, each on its own (no tree is followed): the
    /// caller knows what it wrote.
    Exactly(Vec<Oid>),
    /// Every object these commits reach that no ref reaches yet.
    ReachableFrom(Vec<Oid>),
}

/// Writes objects into one new pack instead of loose files. While `f`
/// runs, every object written through `repo` is kept in memory; when it
/// returns, the objects it names as new are written as a single pack with
/// deltas. Call it at most once per `Repository` handle (the in-memory
/// store stays attached to the handle). Refs must be moved only after this
/// returns, so that no ref ever names an object that is not on disk.
/// Returns `f`'s value and the new pack's name (`None` if there was
/// nothing new).
///
/// libgit2 can dump the in-memory store itself, but its dump adds each
/// commit with its whole tree: every commit of a large index would carry
/// the whole index again (seen: a pack of the full tree per publish, which
/// made the git index lag grow with the registry and a fetch download
/// megabytes for a few changes).
pub fn write_packed<T, E>(
    repo: &Repository,
    f: impl FnOnce() -> Result<(T, NewObjects), E>,
) -> Result<(T, Option<String>), E>
where
    E: From<git2::Error>,
{
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    let (value, new) = f()?;
    let mut builder = repo.packbuilder()?;
    match new {
        NewObjects::Exactly(ids) => {
            for id in ids {
                builder.insert_object(id, None)?;
            }
        }
        NewObjects::ReachableFrom(commits) if !commits.is_empty() => {
            let mut walk = repo.revwalk()?;
            for commit in commits {
                walk.push(commit)?;
            }
            // Whatever a ref reaches is on disk already.
            walk.hide_glob("refs/*")?;
            builder.insert_walk(&mut walk)?;
        }
        NewObjects::ReachableFrom(_) => {}
    }
    if builder.object_count() == 0 {
        mempack.reset()?;
        return Ok((value, None));
    }
    let name = write_builder(repo, &mut builder)?;
    mempack.reset()?;
    Ok((value, Some(name)))
}

/// Packs the loose objects reachable from any ref (a repository written
/// before objects went into packs) and deletes the loose files.
pub fn pack_loose(repo: &Repository) -> Result<bool, git2::Error> {
    let objects = repo.path().join("objects");
    let loose_dirs: Vec<PathBuf> = match fs::read_dir(&objects) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            })
            .collect(),
        Err(_) => return Ok(false),
    };
    if loose_dirs.is_empty() {
        return Ok(false);
    }
    let mut walk = repo.revwalk()?;
    walk.push_glob("*")?;
    let mut builder = repo.packbuilder()?;
    builder.insert_walk(&mut walk)?;
    if builder.object_count() > 0 {
        write_builder(repo, &mut builder)?;
    }
    for dir in loose_dirs {
        fs::remove_dir_all(&dir)
            .map_err(|e| git2::Error::from_str(&format!("removing {}: {e}", dir.display())))?;
    }
    repo.odb()?.refresh()?;
    Ok(true)
}

/// The name git gives a pack: `pack-{checksum}` (the trailer's SHA-1).
fn pack_name_from_trailer(pack: &[u8]) -> String {
    let trailer = &pack[pack.len() - 20..];
    let hex: String = trailer.iter().map(|b| format!("{b:02x}")).collect();
    format!("pack-{hex}")
}

/// A pack on disk.
#[derive(Debug, Clone)]
pub struct PackFile {
    /// `pack-{hex}`, without extension.
    pub name: String,
    /// Size of the `.pack` file in bytes.
    pub size: u64,
}

fn pack_dir(repo: &Repository) -> PathBuf {
    repo.path().join("objects/pack")
}

/// The live packs (not retired), base packs first, then the others from
/// the oldest to the newest; that is the order of `objects/info/packs`.
pub fn live_packs(repo: &Repository) -> std::io::Result<Vec<PackFile>> {
    let retired: BTreeSet<String> = read_retired(repo)?.into_iter().map(|(_, n)| n).collect();
    let base = base_packs(repo)?;
    let mut packs: Vec<(bool, SystemTime, PackFile)> = Vec::new();
    let dir = pack_dir(repo);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let file = entry.file_name().to_string_lossy().to_string();
        let Some(name) = file.strip_suffix(".pack") else {
            continue;
        };
        // A pack without its index is being written (or was left by a crash).
        if retired.contains(name) || !dir.join(format!("{name}.idx")).exists() {
            continue;
        }
        // Retired by a roll-up since the listing: not live any more.
        let meta = match entry.metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
        packs.push((
            !base.contains(name),
            mtime,
            PackFile {
                name: name.to_string(),
                size: meta.len(),
            },
        ));
    }
    packs.sort_by(|a, b| (a.0, a.1, &a.2.name).cmp(&(b.0, b.1, &b.2.name)));
    Ok(packs.into_iter().map(|(_, _, p)| p).collect())
}

pub fn base_packs(repo: &Repository) -> std::io::Result<BTreeSet<String>> {
    match fs::read_to_string(repo.path().join(BASE_FILE)) {
        Ok(text) => Ok(text.lines().map(str::to_string).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(e) => Err(e),
    }
}

pub(crate) fn set_base_packs(repo: &Repository, names: &[String]) -> std::io::Result<()> {
    let mut text = names.join("\n");
    text.push('\n');
    write_atomic(&repo.path().join(BASE_FILE), text.as_bytes())
}

fn read_retired(repo: &Repository) -> std::io::Result<Vec<(u64, String)>> {
    let text = match fs::read_to_string(repo.path().join(RETIRED_FILE)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(t, n)| Some((t.parse().ok()?, n.to_string())))
        .collect())
}

/// Takes packs out of the pack list; their files go after `grace`.
///
/// Their files move to `objects/retired/` at once: libgit2 (and git) read
/// every pack in `objects/pack/`, and a repository under steady load would
/// otherwise carry hundreds of replaced packs through every lookup. The
/// HTTP side serves `objects/pack/{name}` from there during the grace.
pub(crate) fn retire(repo: &Repository, names: &[String], grace: Duration) -> std::io::Result<()> {
    let at = unix_now() + grace.as_secs();
    let mut retired = read_retired(repo)?;
    retired.extend(names.iter().map(|n| (at, n.clone())));
    write_retired(repo, &retired)?;
    let (from, to) = (pack_dir(repo), retired_dir(repo));
    fs::create_dir_all(&to)?;
    for name in names {
        for ext in ["pack", "idx", "rev"] {
            let file = format!("{name}.{ext}");
            match fs::rename(from.join(&file), to.join(&file)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Where retired packs wait for their grace to end.
pub fn retired_dir(repo: &Repository) -> PathBuf {
    repo.path().join("objects/retired")
}

fn write_retired(repo: &Repository, retired: &[(u64, String)]) -> std::io::Result<()> {
    let text: String = retired.iter().map(|(t, n)| format!("{t} {n}\n")).collect();
    write_atomic(&repo.path().join(RETIRED_FILE), text.as_bytes())
}

/// Deletes the files of retired packs whose grace has passed.
pub fn remove_retired(repo: &Repository) -> std::io::Result<usize> {
    let now = unix_now();
    let (old, keep): (Vec<_>, Vec<_>) = read_retired(repo)?
        .into_iter()
        .partition(|(at, _)| *at <= now);
    if old.is_empty() {
        return Ok(0);
    }
    let dir = retired_dir(repo);
    for (_, name) in &old {
        for ext in ["pack", "idx", "rev"] {
            match fs::remove_file(dir.join(format!("{name}.{ext}"))) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    write_retired(repo, &keep)?;
    Ok(old.len())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The object ids in a pack, read from its version 2 `.idx` file.
pub fn pack_objects(repo: &Repository, name: &str) -> std::io::Result<Vec<Oid>> {
    let idx = fs::read(pack_dir(repo).join(format!("{name}.idx")))?;
    let bad = || std::io::Error::other(format!("{name}.idx is not a version 2 pack index"));
    if idx.len() < 8 + 256 * 4 || idx[..4] != [0xff, b't', b'O', b'c'] || idx[4..8] != [0, 0, 0, 2]
    {
        return Err(bad());
    }
    let count_at = 8 + 255 * 4;
    let count =
        u32::from_be_bytes(idx[count_at..count_at + 4].try_into().expect("4 bytes")) as usize;
    let start = 8 + 256 * 4;
    let ids = idx.get(start..start + count * 20).ok_or_else(bad)?;
    ids.chunks(20)
        .map(|raw| Oid::from_bytes(raw).map_err(|_| bad()))
        .collect()
}

/// Which of the non-base packs (oldest first) to roll into one: the
/// smallest ones, until every remaining pack is at least twice the size of
/// all smaller ones together. Returns how many of the smallest to merge
/// (0 or at least 2).
fn geometric_split(mut sizes: Vec<u64>) -> usize {
    sizes.sort_unstable();
    let mut merge = 0;
    let mut total: u64 = 0;
    for (i, size) in sizes.iter().enumerate() {
        if i > 0 && *size < total.saturating_mul(2) {
            merge = i + 1;
        }
        total += size;
    }
    if merge < 2 {
        0
    } else {
        merge
    }
}

/// Rolls the small packs into one where their sizes are not geometric.
/// Returns the name of the new pack, if one was written.
pub fn roll_up(repo: &Repository) -> Result<Option<String>, git2::Error> {
    let io = |e: std::io::Error| git2::Error::from_str(&e.to_string());
    let base = base_packs(repo).map_err(io)?;
    let mut small: Vec<PackFile> = live_packs(repo)
        .map_err(io)?
        .into_iter()
        .filter(|p| !base.contains(&p.name) && p.size < ROLL_UP_MAX_BYTES)
        .collect();
    let merge = geometric_split(small.iter().map(|p| p.size).collect());
    if merge == 0 {
        return Ok(None);
    }
    small.sort_by_key(|p| p.size);
    let chosen: Vec<String> = small[..merge].iter().map(|p| p.name.clone()).collect();
    let name = merge_packs(repo, &chosen)?;
    retire(repo, &chosen, ROLL_UP_GRACE).map_err(io)?;
    Ok(Some(name))
}

/// Whether the packs outside the base have outgrown it: at least two large
/// ones (past [`ROLL_UP_MAX_BYTES`], which roll-ups no longer touch) that
/// together hold more than the base.
///
/// A dumb client walks the objects one by one and asks for each object it
/// does not have yet as a loose file (a 404) until it happens upon the pack
/// that holds it. With the head's tree spread over several large packs a
/// clone asked tens of thousands of times (at 100,000 packages, after the
/// initial build wrote five batch commits: 567 s); with one pack holding
/// nearly everything it downloads that pack early and has the rest.
pub fn outgrown(repo: &Repository) -> std::io::Result<bool> {
    let base = base_packs(repo)?;
    let (mut base_bytes, mut large_bytes, mut large) = (0u64, 0u64, 0usize);
    for pack in live_packs(repo)? {
        if base.contains(&pack.name) {
            base_bytes += pack.size;
        } else if pack.size >= ROLL_UP_MAX_BYTES {
            large += 1;
            large_bytes += pack.size;
        }
    }
    Ok(large >= 2 && large_bytes > base_bytes)
}

/// Writes every object `head` reaches into one pack that becomes the base,
/// and retires every other pack: the history stays as it is. A client that
/// is behind fetches the new base, as after a squash, so this is rare by
/// design ([`outgrown`] doubles the base each time). Returns the pack.
pub fn consolidate(repo: &Repository, head: Oid) -> Result<String, git2::Error> {
    let io = |e: std::io::Error| git2::Error::from_str(&e.to_string());
    let old: Vec<String> = live_packs(repo)
        .map_err(io)?
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    let mut builder = repo.packbuilder()?;
    builder.insert_walk(&mut walk)?;
    let name = write_builder(repo, &mut builder)?;
    set_base_packs(repo, std::slice::from_ref(&name)).map_err(io)?;
    let old: Vec<String> = old.into_iter().filter(|n| *n != name).collect();
    retire(repo, &old, RETIRE_GRACE).map_err(io)?;
    Ok(name)
}

/// Writes one pack holding every object of `names` (with fresh deltas
/// between them) and returns its name; the old packs stay until retired.
pub fn merge_packs(repo: &Repository, names: &[String]) -> Result<String, git2::Error> {
    let io = |e: std::io::Error| git2::Error::from_str(&e.to_string());
    let mut seen = BTreeSet::new();
    for name in names {
        seen.extend(pack_objects(repo, name).map_err(io)?);
    }
    // The path of each tree and file: libgit2 looks for deltas between
    // objects with the same path (the versions of one namespace's tree, of
    // one package's file); without it, it compares unrelated objects of
    // similar size and finds almost none.
    let odb = repo.odb()?;
    let mut paths: std::collections::HashMap<Oid, String> = Default::default();
    for oid in &seen {
        if odb.read_header(*oid)?.1 == git2::ObjectType::Commit {
            let tree = repo.find_commit(*oid)?.tree_id();
            name_tree(repo, &seen, tree, "", &mut paths)?;
        }
    }
    let mut builder = repo.packbuilder()?;
    for oid in &seen {
        builder.insert_object(*oid, paths.get(oid).map(String::as_str))?;
    }
    write_builder(repo, &mut builder)
}

/// Records the path of `tree` and of everything below it that is in `set`.
fn name_tree(
    repo: &Repository,
    set: &BTreeSet<Oid>,
    tree: Oid,
    path: &str,
    paths: &mut std::collections::HashMap<Oid, String>,
) -> Result<(), git2::Error> {
    if !set.contains(&tree) || paths.contains_key(&tree) {
        return Ok(());
    }
    paths.insert(tree, path.to_string());
    for entry in repo.find_tree(tree)?.iter() {
        if !set.contains(&entry.id()) {
            continue;
        }
        let name = String::from_utf8_lossy(entry.name_bytes());
        let child = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}/{name}")
        };
        match entry.kind() {
            Some(git2::ObjectType::Tree) => name_tree(repo, set, entry.id(), &child, paths)?,
            _ => {
                paths.entry(entry.id()).or_insert(child);
            }
        }
    }
    Ok(())
}

/// Writes a pack builder's objects as a new pack; returns its name.
pub(crate) fn write_builder(
    repo: &Repository,
    builder: &mut git2::PackBuilder<'_>,
) -> Result<String, git2::Error> {
    let mut buf = Buf::new();
    builder.write_buf(&mut buf)?;
    let odb = repo.odb()?;
    let mut writer = odb.packwriter()?;
    writer
        .write_all(&buf)
        .map_err(|e| git2::Error::from_str(&format!("writing a pack: {e}")))?;
    writer.commit()?;
    odb.refresh()?;
    Ok(pack_name_from_trailer(&buf))
}

/// What `git update-server-info` does, for git's dumb HTTP protocol: every
/// ref in `info/refs` and the live packs in `objects/info/packs`.
pub fn update_server_info(repo: &Repository) -> std::io::Result<()> {
    let mut refs = Vec::new();
    if let Ok(iter) = repo.references() {
        for r in iter.flatten() {
            if let (Some(name), Some(oid)) = (r.name(), r.target()) {
                refs.push((name.to_string(), oid));
            }
        }
    }
    refs.sort();
    let refs: String = refs
        .into_iter()
        .map(|(name, oid)| format!("{oid}\t{name}\n"))
        .collect();
    let dir = repo.path();
    fs::create_dir_all(dir.join("info"))?;
    write_atomic(&dir.join("info/refs"), refs.as_bytes())?;
    fs::create_dir_all(dir.join("objects/info"))?;
    let mut packs: String = live_packs(repo)?
        .into_iter()
        .map(|p| format!("P {}.pack\n", p.name))
        .collect();
    packs.push('\n');
    write_atomic(&dir.join("objects/info/packs"), packs.as_bytes())
}

/// Writes `content` beside `path` and renames it into place. The temporary
/// name is this writer's own (process and a counter): two processes
/// refreshing one repository's files at once (the server, and `admin fsck`
/// or a test opening it) must not take each other's temporary file away.
pub(crate) fn write_atomic(path: &Path, content: &[u8]) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}-{n}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, content)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_racing_on_one_file_never_lose_their_temporary() {
        // The server and a reader opening the repository both refresh
        // info/refs; with one shared temporary name, one rename failed.
        let dir = std::env::temp_dir().join(format!("gw-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("refs");
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..200 {
                        write_atomic(path, &[t; 64]).unwrap();
                    }
                });
            }
        });
        let content = fs::read(&path).unwrap();
        assert_eq!(content.len(), 64);
        assert!(content.iter().all(|b| *b == content[0]), "a torn write");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "temporaries left behind"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn geometric_split_merges_only_what_breaks_the_progression() {
        assert_eq!(geometric_split(vec![]), 0);
        assert_eq!(geometric_split(vec![100]), 0);
        assert_eq!(geometric_split(vec![1, 4, 16]), 0, "already geometric");
        assert_eq!(geometric_split(vec![1, 1]), 2);
        assert_eq!(geometric_split(vec![1, 1, 1, 100]), 3);
        assert_eq!(
            geometric_split(vec![1, 1, 3, 100]),
            3,
            "1+1=2 is not >= 2*2"
        );
        assert_eq!(
            geometric_split(vec![10, 12, 30, 100]),
            4,
            "10+12+30 = 52 > 100/2"
        );
    }
}
