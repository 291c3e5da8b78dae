//! The user's cache (`$XDG_CACHE_HOME/gemeinwerk`, else
//! `~/.cache/gemeinwerk`), and index files read through it.
//!
//! ```text
//! archives/{sha256}.tar.gz              content-addressed; verified on every read
//! index/{registry}/config.json          the registry's config.json
//! index/{registry}/{ns}/{name}          an index file, and beside it
//! index/{registry}/{ns}/{name}.etag     the ETag it came with
//! ```
//!
//! A vendored folder (`gemeinwerk vendor DIR`) has the same `archives/`
//! and an `index/` with one registry's files, so it is read the same way.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use registry_index::{IndexConfig, IndexLine};

use super::resolver::IndexSource;
use super::{ClientError, ClientResult};
use gemeinwerk_package::archive::sha256_hex;

/// Writes `bytes` beside `path` and renames it into place, so that a
/// reader never sees half a file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("a file has a folder");
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A folder of content-addressed archives (and index files): the user's
/// cache or a vendored folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The user's cache folder.
    pub fn user() -> ClientResult<Cache> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .ok_or(ClientError::NoHome {
                var: "XDG_CACHE_HOME",
                what: "the cache",
            })?;
        Ok(Cache::at(base.join("gemeinwerk")))
    }

    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn archive_path(&self, cksum: &str) -> PathBuf {
        self.root.join("archives").join(format!("{cksum}.tar.gz"))
    }

    /// The archive with this SHA-256, if it is here and intact. A damaged
    /// copy counts as missing; a download replaces it.
    pub fn read_archive(&self, cksum: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.archive_path(cksum)).ok()?;
        (sha256_hex(&bytes) == cksum).then_some(bytes)
    }

    pub fn store_archive(&self, cksum: &str, bytes: &[u8]) -> ClientResult<()> {
        let path = self.archive_path(cksum);
        write_atomic(&path, bytes).map_err(ClientError::write(&path))
    }

    /// Where the index files of `registry` are kept in the user's cache.
    pub fn index_dir(&self, registry: &str) -> PathBuf {
        let slug: String = registry
            .trim_end_matches('/')
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(registry)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.root.join("index").join(slug)
    }
}

/// How the index is read.
#[derive(Debug, Clone)]
pub enum IndexMode {
    /// Ask the registry, revalidating cached files with `If-None-Match`.
    Online,
    /// Only what is cached, or what a vendored folder holds (first).
    Offline { vendored: Option<PathBuf> },
}

/// Index files of one registry, through the cache.
pub struct IndexFetcher {
    registry: String,
    dir: PathBuf,
    mode: IndexMode,
    agent: ureq::Agent,
    /// Answers with a body (200) and without (304), for reports and tests.
    pub fresh: AtomicUsize,
    pub not_modified: AtomicUsize,
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .max_idle_connections_per_host(16)
        .user_agent(concat!("gemeinwerk/", env!("CARGO_PKG_VERSION")))
        .build()
}

impl IndexFetcher {
    pub fn new(cache: &Cache, registry: &str, mode: IndexMode) -> IndexFetcher {
        IndexFetcher {
            registry: registry.trim_end_matches('/').to_string(),
            dir: cache.index_dir(registry),
            mode,
            agent: agent(),
            fresh: AtomicUsize::new(0),
            not_modified: AtomicUsize::new(0),
        }
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The text of `index/{rel}`; `None` when the registry has no such file.
    pub fn file(&self, rel: &str) -> ClientResult<Option<String>> {
        let cached = self.dir.join(rel);
        let etag_path = self.dir.join(format!("{rel}.etag"));
        match &self.mode {
            IndexMode::Offline { vendored } => {
                let candidates = vendored
                    .iter()
                    .map(|v| v.join("index").join(rel))
                    .chain(std::iter::once(cached));
                for path in candidates {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        return Ok(Some(text));
                    }
                }
                Err(ClientError::IndexNotCached {
                    registry: self.registry.clone(),
                    file: rel.to_string(),
                })
            }
            IndexMode::Online => {
                let old_text = std::fs::read_to_string(&cached).ok();
                let old_etag = std::fs::read_to_string(&etag_path).ok();
                let mut req = self.agent.get(&format!("{}/index/{rel}", self.registry));
                if let (Some(_), Some(etag)) = (&old_text, &old_etag) {
                    req = req.set("If-None-Match", etag.trim());
                }
                match req.call() {
                    Ok(r) if r.status() == 304 => {
                        self.not_modified.fetch_add(1, Ordering::Relaxed);
                        Ok(old_text)
                    }
                    Ok(r) => {
                        let etag = r.header("ETag").map(str::to_string);
                        let mut text = String::new();
                        r.into_reader()
                            .read_to_string(&mut text)
                            .map_err(|e| self.bad_index(rel, e))?;
                        self.fresh.fetch_add(1, Ordering::Relaxed);
                        // The cache is an optimisation: failing to write it is no error.
                        let _ = write_atomic(&cached, text.as_bytes());
                        match etag {
                            Some(e) => {
                                let _ = write_atomic(&etag_path, e.as_bytes());
                            }
                            None => {
                                let _ = std::fs::remove_file(&etag_path);
                            }
                        }
                        Ok(Some(text))
                    }
                    Err(ureq::Error::Status(404, _)) => Ok(None),
                    Err(ureq::Error::Status(status, _)) => Err(ClientError::IndexStatus {
                        registry: self.registry.clone(),
                        file: rel.to_string(),
                        status,
                    }),
                    Err(e) => Err(ClientError::Unreachable {
                        registry: self.registry.clone(),
                        hint: " (with a filled cache, --offline works without it)",
                        source: Box::new(e),
                    }),
                }
            }
        }
    }

    fn bad_index(
        &self,
        file: &str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> ClientError {
        ClientError::BadIndex {
            registry: self.registry.clone(),
            file: file.to_string(),
            source: source.into(),
        }
    }

    /// The registry's `config.json`.
    pub fn config(&self) -> ClientResult<IndexConfig> {
        let text = self
            .file("config.json")?
            .ok_or_else(|| ClientError::NotARegistry {
                registry: self.registry.clone(),
            })?;
        serde_json::from_str(&text).map_err(|e| self.bad_index("config.json", e))
    }
}

impl IndexSource for IndexFetcher {
    fn lines(&self, full_name: &str) -> ClientResult<Option<Vec<IndexLine>>> {
        let Some(text) = self.file(full_name)? else {
            return Ok(None);
        };
        registry_index::parse_lines(&text)
            .map(Some)
            .map_err(|e| self.bad_index(full_name, e))
    }
}
