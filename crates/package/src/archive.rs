//! Package archives: deterministic `.tar.gz` files, and the checks an
//! uploaded archive must pass before anything of it is trusted.
//!
//! Every entry lives below one prefix `{name}-{version}/`. Entries are sorted,
//! times, owners and modes are fixed and the gzip header carries no name or
//! time, so the same files always give the same bytes and the same SHA-256.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

/// The files of a package: path below the prefix → content.
pub type PackageFiles = BTreeMap<String, Vec<u8>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Size of the compressed upload.
    pub max_upload_bytes: u64,
    /// Sum of the unpacked file sizes (what stops a gzip bomb).
    pub max_unpacked_bytes: u64,
    pub max_entries: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_upload_bytes: 10 * 1024 * 1024,
            max_unpacked_bytes: 50 * 1024 * 1024,
            max_entries: 1000,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ArchiveError {
    #[error("the upload has {size} bytes; at most {max} are allowed")]
    TooLarge { size: u64, max: u64 },
    #[error("the upload is not a gzip file")]
    NotGzip,
    #[error("the archive is broken or truncated: {0}")]
    Corrupt(String),
    #[error("the archive unpacks to more than {max} bytes")]
    UnpackedTooLarge { max: u64 },
    #[error("the archive has more than {max} entries")]
    TooManyEntries { max: usize },
    #[error("entry \"{path}\" is a {kind}; only regular files and folders are allowed")]
    UnsupportedEntry { path: String, kind: String },
    #[error("entry \"{path}\" has an unsafe path: {why}")]
    UnsafePath { path: String, why: &'static str },
    #[error("entry \"{0}\" appears twice")]
    DuplicatePath(String),
    #[error("entry \"{path}\" is outside the package folder \"{prefix}/\"")]
    OutsidePrefix { path: String, prefix: String },
    #[error("the archive has no gemeinwerk.toml in its package folder")]
    MissingManifest,
    #[error("the archive is empty")]
    Empty,
}

impl ArchiveError {
    /// A stable machine code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "upload_too_large",
            Self::NotGzip => "archive_not_gzip",
            Self::Corrupt(_) => "archive_corrupt",
            Self::UnpackedTooLarge { .. } => "archive_unpacked_too_large",
            Self::TooManyEntries { .. } => "archive_too_many_entries",
            Self::UnsupportedEntry { .. } => "archive_unsupported_entry",
            Self::UnsafePath { .. } => "archive_unsafe_path",
            Self::DuplicatePath(_) => "archive_duplicate_path",
            Self::OutsidePrefix { .. } => "archive_outside_prefix",
            Self::MissingManifest => "archive_missing_manifest",
            Self::Empty => "archive_empty",
        }
    }
}

/// The lowercase hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Builds the deterministic archive of `files` below `prefix/`.
pub fn build(prefix: &str, files: &PackageFiles) -> Vec<u8> {
    let gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    for (path, content) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{prefix}/{path}"), content.as_slice())
            .expect("writing to memory cannot fail");
    }
    let gz = tar.into_inner().expect("writing to memory cannot fail");
    gz.finish().expect("writing to memory cannot fail")
}

/// Reads at most `limit` bytes, then fails, so that a small upload cannot
/// expand into gigabytes in memory.
struct LimitedReader<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other("unpacked size limit reached"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Unpacks an uploaded archive into memory, refusing anything unsafe.
/// Returns the common prefix (the top folder) and the files below it.
pub fn unpack(
    bytes: &[u8],
    limits: &ArchiveLimits,
) -> Result<(String, PackageFiles), ArchiveError> {
    if bytes.len() as u64 > limits.max_upload_bytes {
        return Err(ArchiveError::TooLarge {
            size: bytes.len() as u64,
            max: limits.max_upload_bytes,
        });
    }
    if bytes.len() < 2 || bytes[0..2] != [0x1f, 0x8b] {
        return Err(ArchiveError::NotGzip);
    }
    // The tar headers and padding count too, so allow a little more than the
    // file content limit before calling it a bomb.
    let budget = limits.max_unpacked_bytes + (limits.max_entries as u64 + 2) * 1024;
    let reader = LimitedReader {
        inner: GzDecoder::new(bytes),
        left: budget,
    };
    let mut archive = tar::Archive::new(reader);
    let bomb_or_corrupt = |e: std::io::Error| {
        if e.to_string().contains("unpacked size limit reached") {
            ArchiveError::UnpackedTooLarge {
                max: limits.max_unpacked_bytes,
            }
        } else {
            ArchiveError::Corrupt(e.to_string())
        }
    };
    let mut prefix: Option<String> = None;
    let mut files = PackageFiles::new();
    let mut unpacked: u64 = 0;
    let mut count = 0usize;
    for entry in archive.entries().map_err(bomb_or_corrupt)? {
        let mut entry = entry.map_err(bomb_or_corrupt)?;
        count += 1;
        if count > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                max: limits.max_entries,
            });
        }
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        let path = check_path(&raw_path)?;
        let (top, rest) = match path.split_once('/') {
            Some((top, rest)) => (top.to_string(), rest.to_string()),
            None => (path.clone(), String::new()),
        };
        match &prefix {
            None => prefix = Some(top.clone()),
            Some(p) if *p != top => {
                return Err(ArchiveError::OutsidePrefix {
                    path: raw_path,
                    prefix: p.clone(),
                })
            }
            Some(_) => {}
        }
        match kind {
            tar::EntryType::Directory => continue,
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            other => {
                return Err(ArchiveError::UnsupportedEntry {
                    path: raw_path,
                    kind: entry_kind_name(other).to_string(),
                })
            }
        }
        if rest.is_empty() {
            return Err(ArchiveError::OutsidePrefix {
                path: raw_path,
                prefix: top,
            });
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
        unpacked += size;
        if unpacked > limits.max_unpacked_bytes {
            return Err(ArchiveError::UnpackedTooLarge {
                max: limits.max_unpacked_bytes,
            });
        }
        let mut content = Vec::with_capacity(size as usize);
        entry.read_to_end(&mut content).map_err(bomb_or_corrupt)?;
        if files.insert(rest, content).is_some() {
            return Err(ArchiveError::DuplicatePath(raw_path));
        }
    }
    // Read the gzip trailer too: a truncated stream must not pass because the
    // tar end marker happened to arrive first.
    let mut inner = archive.into_inner();
    std::io::copy(&mut inner, &mut std::io::sink()).map_err(bomb_or_corrupt)?;
    let prefix = prefix.ok_or(ArchiveError::Empty)?;
    if !files.contains_key(super::manifest::MANIFEST_FILE) {
        return Err(ArchiveError::MissingManifest);
    }
    Ok((prefix, files))
}

fn entry_kind_name(kind: tar::EntryType) -> &'static str {
    match kind {
        tar::EntryType::Symlink => "symbolic link",
        tar::EntryType::Link => "hard link",
        tar::EntryType::Char => "character device",
        tar::EntryType::Block => "block device",
        tar::EntryType::Fifo => "named pipe",
        _ => "special entry",
    }
}

fn check_path(raw: &str) -> Result<String, ArchiveError> {
    let unsafe_path = |why| ArchiveError::UnsafePath {
        path: raw.to_string(),
        why,
    };
    if raw.starts_with('/') || raw.starts_with('\\') || raw.get(1..2) == Some(":") {
        return Err(unsafe_path("it is absolute"));
    }
    if raw.contains('\\') || raw.contains('\0') {
        return Err(unsafe_path("it contains a backslash or NUL"));
    }
    let parts: Vec<&str> = raw
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(unsafe_path("it contains \"..\""));
    }
    if parts.is_empty() {
        return Err(unsafe_path("it is empty"));
    }
    Ok(parts.join("/"))
}

/// Writes raw bytes as a gzip stream; used by tests to craft hostile uploads.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::fast());
    gz.write_all(bytes).expect("memory");
    gz.finish().expect("memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> PackageFiles {
        let mut f = PackageFiles::new();
        f.insert("gemeinwerk.toml".into(), b"[package]\n".to_vec());
        f.insert("form.toml".into(), b"# form\n".to_vec());
        f
    }

    #[test]
    fn build_is_deterministic_and_round_trips() {
        let a = build("x-1.0.0", &files());
        let b = build("x-1.0.0", &files());
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
        let (prefix, back) = unpack(&a, &ArchiveLimits::default()).unwrap();
        assert_eq!(prefix, "x-1.0.0");
        assert_eq!(back, files());
    }

    /// A raw tar with one entry of the given type and path (bypassing the
    /// `tar` crate's own path checks, as an attacker would).
    fn raw_tar(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            let name = &mut h.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_size(data.len() as u64);
            h.set_entry_type(*kind);
            h.set_mode(0o644);
            h.set_cksum();
            out.extend_from_slice(h.as_bytes());
            out.extend_from_slice(data);
            out.resize(out.len().div_ceil(512) * 512, 0);
        }
        out.extend_from_slice(&[0u8; 1024]);
        gzip(&out)
    }

    fn refused(bytes: &[u8]) -> &'static str {
        unpack(bytes, &ArchiveLimits::default()).unwrap_err().code()
    }

    #[test]
    fn refuses_hostile_archives() {
        use tar::EntryType::*;
        let m: &[u8] = b"[package]\n";
        assert_eq!(
            refused(&raw_tar(&[("/etc/passwd", Regular, m)])),
            "archive_unsafe_path"
        );
        assert_eq!(
            refused(&raw_tar(&[("p/../../x", Regular, m)])),
            "archive_unsafe_path"
        );
        assert_eq!(
            refused(&raw_tar(&[("p/link", Symlink, b"")])),
            "archive_unsupported_entry"
        );
        assert_eq!(
            refused(&raw_tar(&[("p/hard", Link, b"")])),
            "archive_unsupported_entry"
        );
        assert_eq!(
            refused(&raw_tar(&[("p/dev", Char, b"")])),
            "archive_unsupported_entry"
        );
        assert_eq!(
            refused(&raw_tar(&[
                ("p/gemeinwerk.toml", Regular, m),
                ("p/gemeinwerk.toml", Regular, m)
            ])),
            "archive_duplicate_path"
        );
        assert_eq!(
            refused(&raw_tar(&[
                ("p/gemeinwerk.toml", Regular, m),
                ("q/x", Regular, m)
            ])),
            "archive_outside_prefix"
        );
        assert_eq!(
            refused(&raw_tar(&[("p/form.toml", Regular, m)])),
            "archive_missing_manifest"
        );
        assert_eq!(refused(b"PK\x03\x04 a zip file"), "archive_not_gzip");
        let good = build("p", &files());
        assert_eq!(refused(&good[..good.len() - 12]), "archive_corrupt");
    }

    #[test]
    fn refuses_a_gzip_bomb_and_too_many_entries() {
        let zeros = vec![0u8; 60 * 1024 * 1024];
        let mut f = files();
        f.insert("big.bin".into(), zeros);
        let bomb = build("p", &f);
        assert!(
            bomb.len() < 1024 * 1024,
            "compresses to {} bytes",
            bomb.len()
        );
        assert_eq!(refused(&bomb), "archive_unpacked_too_large");

        let mut f = files();
        for i in 0..1001 {
            f.insert(format!("f{i}.toml"), Vec::new());
        }
        assert_eq!(refused(&build("p", &f)), "archive_too_many_entries");
        let limits = ArchiveLimits {
            max_upload_bytes: 10,
            ..Default::default()
        };
        assert_eq!(
            unpack(&build("p", &files()), &limits).unwrap_err().code(),
            "upload_too_large"
        );
    }
}
