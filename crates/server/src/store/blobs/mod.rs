//! The blob store: package archives, content-addressed by SHA-256. Written
//! before the database commit, so that a crash leaves at most an orphan
//! blob, never a version without its archive.
//!
//! Two backends behind [`BlobBackend`]: a local folder (the default) and an
//! S3-compatible bucket (for several nodes sharing one store). Both lay the
//! blobs out the same way, `<first two hex digits>/<sha256>`, and
//! [`BlobStore`] adds what is the same for both: names are checked, and
//! every read is verified against the name, so a damaged archive is an
//! error and never served.

mod local;
mod s3;

use std::fmt::Debug;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gemeinwerk_package::archive::sha256_hex;

pub use local::LocalFolder;
pub use s3::{S3Bucket, S3Config};

/// What can go wrong in the blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes stored under a checksum hash to something else.
    #[error("the stored archive {cksum} does not match its checksum (its bytes hash to {actual}); it is not served; run `gemeinwerk admin fsck`")]
    Corrupt { cksum: String, actual: String },
    /// The object store did not answer, or refused a request it should take.
    #[error("the blob store {store} failed: {detail}")]
    Unavailable { store: String, detail: String },
    /// A setting is wrong or missing; found at start, before anything is
    /// written. The message names the setting.
    #[error("{0}")]
    Config(String),
    /// The store did not answer at start (down, or a wrong address: the
    /// message names the setting); waiting may help.
    #[error("{0}")]
    Unreachable(String),
}

pub type BlobResult<T> = Result<T, BlobError>;

/// One place blobs live. Implementations store and return bytes as they
/// are; names are checked and content verified by [`BlobStore`].
pub trait BlobBackend: Send + Sync + Debug {
    /// Stores `bytes` under `sha256`; storing the same bytes again is
    /// harmless. A reader never sees half an archive.
    fn put(&self, sha256: &str, bytes: &[u8]) -> BlobResult<()>;
    fn read(&self, sha256: &str) -> BlobResult<Option<Vec<u8>>>;
    /// Removing a blob that is not there is no error.
    fn delete(&self, sha256: &str) -> BlobResult<()>;
    /// How long ago the blob was written, if it is there.
    fn age(&self, sha256: &str) -> BlobResult<Option<Duration>>;
    /// Every stored blob's name, sorted.
    fn list(&self) -> BlobResult<Vec<String>>;

    /// Whether the backend also keeps files that every node shares (the
    /// git index's files when several nodes serve one registry).
    fn shares_files(&self) -> bool {
        false
    }

    /// Stores a shared file under `key` (a relative path such as
    /// `git/index.git/info/refs`), replacing what was there.
    fn put_file(&self, key: &str, _bytes: &[u8]) -> BlobResult<()> {
        Err(BlobError::Config(format!(
            "this blob store keeps no shared files ({key})"
        )))
    }

    fn get_file(&self, key: &str) -> BlobResult<Option<Vec<u8>>> {
        Err(BlobError::Config(format!(
            "this blob store keeps no shared files ({key})"
        )))
    }

    /// Removing a file that is not there is no error.
    fn delete_file(&self, key: &str) -> BlobResult<()> {
        Err(BlobError::Config(format!(
            "this blob store keeps no shared files ({key})"
        )))
    }
}

/// The folder of shared files in a bucket: beside the archives' shards.
pub const SHARED_FILES: &str = "git";

/// Where the blobs go, as the operator configured it.
#[derive(Debug, Clone, Default)]
pub enum BlobConfig {
    /// `<data dir>/blobs`.
    #[default]
    Folder,
    S3(S3Config),
}

/// What fsck finds for one archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobState {
    Intact,
    Missing,
    Corrupt,
}

#[derive(Clone, Debug)]
pub struct BlobStore {
    backend: Arc<dyn BlobBackend>,
    /// Archives read so far: evidence, independent of timing, of how much
    /// a publish or a view job unpacks (tests and benchmarks read it).
    reads: Arc<AtomicU64>,
    /// Requests the backend failed (unreachable, refused, disk errors):
    /// `/metrics` shows them.
    errors: Arc<AtomicU64>,
}

impl BlobStore {
    /// The local folder backend at `root`.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        Ok(Self::with_backend(Arc::new(LocalFolder::open(root)?)))
    }

    /// The configured backend. For S3 this reaches the bucket once, so that
    /// a wrong endpoint, bucket or key stops the start with a message that
    /// names the setting, before anything is written.
    pub fn open_config(config: &BlobConfig, data_dir: &Path) -> BlobResult<Self> {
        Ok(match config {
            BlobConfig::Folder => Self::open(&data_dir.join("blobs"))?,
            BlobConfig::S3(s3) => Self::with_backend(Arc::new(S3Bucket::open(s3)?)),
        })
    }

    pub fn with_backend(backend: Arc<dyn BlobBackend>) -> Self {
        BlobStore {
            backend,
            reads: Arc::default(),
            errors: Arc::default(),
        }
    }

    pub fn put(&self, sha256: &str, bytes: &[u8]) -> BlobResult<()> {
        if !is_sha256(sha256) {
            return Err(
                std::io::Error::other(format!("not a SHA-256 blob name: {sha256:?}")).into(),
            );
        }
        self.counted(self.backend.put(sha256, bytes))
    }

    /// The archive stored under `sha256`, verified: bytes that hash to
    /// anything else are [`BlobError::Corrupt`].
    pub fn get(&self, sha256: &str) -> BlobResult<Option<Vec<u8>>> {
        if !is_sha256(sha256) {
            return Ok(None);
        }
        self.reads.fetch_add(1, Ordering::Relaxed);
        let Some(bytes) = self.counted(self.backend.read(sha256))? else {
            return Ok(None);
        };
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(sha256) {
            tracing::error!(
                cksum = sha256,
                actual,
                "a stored archive does not match its checksum"
            );
            return Err(BlobError::Corrupt {
                cksum: sha256.to_string(),
                actual,
            });
        }
        Ok(Some(bytes))
    }

    /// How many blobs [`get`](Self::get) was asked for through this store
    /// and its clones.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// For fsck: whether the archive is there and intact.
    pub fn check(&self, sha256: &str) -> BlobResult<BlobState> {
        match self.get(sha256) {
            Ok(Some(_)) => Ok(BlobState::Intact),
            Ok(None) => Ok(BlobState::Missing),
            Err(BlobError::Corrupt { .. }) => Ok(BlobState::Corrupt),
            Err(e) => Err(e),
        }
    }

    pub fn delete(&self, sha256: &str) -> BlobResult<()> {
        if !is_sha256(sha256) {
            return Ok(());
        }
        self.counted(self.backend.delete(sha256))
    }

    pub fn age(&self, sha256: &str) -> BlobResult<Option<Duration>> {
        self.counted(self.backend.age(sha256))
    }

    /// Every stored blob's name, for fsck and tests.
    pub fn list(&self) -> BlobResult<Vec<String>> {
        self.counted(self.backend.list())
    }

    /// Whether the store answers now: one cheap request (the age of a blob
    /// no one stores), for `/healthz`.
    pub fn probe(&self) -> BlobResult<()> {
        self.age(&"0".repeat(64)).map(drop)
    }

    pub fn shares_files(&self) -> bool {
        self.backend.shares_files()
    }

    pub fn put_file(&self, key: &str, bytes: &[u8]) -> BlobResult<()> {
        self.counted(self.backend.put_file(key, bytes))
    }

    pub fn get_file(&self, key: &str) -> BlobResult<Option<Vec<u8>>> {
        self.counted(self.backend.get_file(key))
    }

    pub fn delete_file(&self, key: &str) -> BlobResult<()> {
        self.counted(self.backend.delete_file(key))
    }

    /// Failed requests so far, through this store and its clones.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn counted<T>(&self, result: BlobResult<T>) -> BlobResult<T> {
        if matches!(
            result,
            Err(BlobError::Unavailable { .. } | BlobError::Io(_))
        ) {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        result
    }
}

fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}
