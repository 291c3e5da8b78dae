//! The blob store: package archives, content-addressed by SHA-256, in a
//! local folder. Written before the database commit, so that a crash leaves
//! at most an orphan blob, never a version without its archive.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct BlobStore {
    root: PathBuf,
    /// Archives read so far: evidence, independent of timing, of how much
    /// a publish or a view job unpacks (tests and benchmarks read it).
    reads: Arc<AtomicU64>,
}

impl BlobStore {
    pub fn open(root: &Path) -> std::io::Result<Self> {
        fs::create_dir_all(root.join("tmp"))?;
        Ok(BlobStore {
            root: root.to_path_buf(),
            reads: Arc::default(),
        })
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Stores `bytes` under their SHA-256; a second put of the same bytes is
    /// a no-op. The file is written beside its place, synced and renamed, so
    /// a reader never sees half an archive.
    pub fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let dest = self.path_of(sha256);
        if dest.exists() {
            return Ok(());
        }
        fs::create_dir_all(dest.parent().expect("blob path has a parent"))?;
        let mut tmp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&dest).map_err(|e| e.error)?;
        Ok(())
    }

    pub fn get(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        match fs::read(self.path_of(sha256)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// How many blobs [`get`](Self::get) was asked for through this store
    /// and its clones.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Removes a blob; removing one that is not there is no error.
    pub fn delete(&self, sha256: &str) -> std::io::Result<()> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(());
        }
        match fs::remove_file(self.path_of(sha256)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// How long ago the blob was written, if it is there.
    pub fn age(&self, sha256: &str) -> std::io::Result<Option<std::time::Duration>> {
        match fs::metadata(self.path_of(sha256)) {
            Ok(m) => Ok(Some(m.modified()?.elapsed().unwrap_or_default())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every stored blob's name, for fsck and tests.
    pub fn list(&self) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        for dir in fs::read_dir(&self.root)? {
            let dir = dir?;
            if dir.file_name() == "tmp" || !dir.file_type()?.is_dir() {
                continue;
            }
            for file in fs::read_dir(dir.path())? {
                names.push(file?.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }
}
