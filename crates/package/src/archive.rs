//! Package archives: deterministic `.tar.gz` files, and the checks an
//! uploaded archive must pass before anything of it is trusted.
//!
//! Every entry lives below one prefix `{name}-{version}/`. Entries are sorted,
//! times, owners and modes are fixed and the gzip header carries no name or
//! time, so the same files always give the same bytes and the same SHA-256.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

mod tar_read;

use tar_read::{single_gzip_member, GunzipError};

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
    #[error("{bytes} byte(s) follow the gzip stream (a second gzip member or trailing data); an archive is exactly one gzip member")]
    TrailingData { bytes: u64 },
    #[error("non-zero data at byte {offset} of the tar stream, after its end-of-archive blocks")]
    DataAfterEnd { offset: u64 },
    #[error("the archive is not plain ustar: {0}")]
    UnsupportedFormat(String),
    #[error("entry \"{path}\" is a {kind}; such records can change the path or size of the next entry and are not allowed (file names at most 100 bytes, paths at most 255)")]
    ExtendedHeader { path: String, kind: &'static str },
    #[error("entry \"{path}\" has a path that is not UTF-8")]
    NonUtf8Path { path: String },
    #[error("entry \"{path}\" has mode {mode:o}; files must not be executable or set-id")]
    UnsupportedMode { path: String, mode: u64 },
    #[error("entry \"{0}\" is inside a \".git\" folder, which packages may not contain")]
    ReservedPath(String),
    #[error("\"{0}\" is both a file and a folder")]
    PathConflict(String),
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
            Self::TrailingData { .. } => "archive_trailing_data",
            Self::DataAfterEnd { .. } => "archive_data_after_end",
            Self::UnsupportedFormat(_) => "archive_unsupported_format",
            Self::ExtendedHeader { .. } => "archive_extended_header",
            Self::NonUtf8Path { .. } => "archive_non_utf8_path",
            Self::UnsupportedMode { .. } => "archive_unsupported_mode",
            Self::ReservedPath(_) => "archive_reserved_path",
            Self::PathConflict(_) => "archive_path_conflict",
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

/// Unpacks an uploaded archive into memory, refusing anything unsafe or
/// anything another reader could see differently (see `tar_read`).
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
    // The tar headers, padding and end blocks count too, so allow a little
    // more than the file content limit before calling it a bomb.
    let budget = limits.max_unpacked_bytes + (limits.max_entries as u64 + 22) * 1024;
    let tar = single_gzip_member(bytes, budget).map_err(|e| match e {
        GunzipError::Corrupt(why) => ArchiveError::Corrupt(why),
        GunzipError::TooLarge => ArchiveError::UnpackedTooLarge {
            max: limits.max_unpacked_bytes,
        },
        GunzipError::TrailingData(n) => ArchiveError::TrailingData { bytes: n as u64 },
    })?;
    let entries = tar_read::entries(&tar, limits.max_entries)?;
    drop(tar);

    let mut prefix: Option<String> = None;
    let mut files = PackageFiles::new();
    let mut folders = BTreeSet::new();
    // Case-folded paths: on the file systems of many users `Form.toml` and
    // `form.toml` are one file, so the second would silently win.
    let mut seen_folded = BTreeSet::new();
    let mut unpacked: u64 = 0;
    for entry in entries {
        let raw_path = entry.path;
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
        if !seen_folded.insert(path.to_lowercase()) {
            // The same folder listed twice is harmless; anything else twice
            // means one reader keeps the first and another the second.
            if !(entry.is_dir && (rest.is_empty() || folders.contains(&rest))) {
                return Err(ArchiveError::DuplicatePath(raw_path));
            }
        }
        if entry.is_dir {
            if !rest.is_empty() {
                folders.insert(rest);
            }
            continue;
        }
        if rest.is_empty() {
            return Err(ArchiveError::OutsidePrefix {
                path: raw_path,
                prefix: top,
            });
        }
        unpacked += entry.content.len() as u64;
        if unpacked > limits.max_unpacked_bytes {
            return Err(ArchiveError::UnpackedTooLarge {
                max: limits.max_unpacked_bytes,
            });
        }
        files.insert(rest, entry.content);
    }
    let prefix = prefix.ok_or(ArchiveError::Empty)?;
    // A path that is a file and also a folder of another entry cannot be
    // unpacked; readers would differ in which one wins.
    for path in files.keys().chain(folders.iter()) {
        let mut parent = path.as_str();
        while let Some((up, _)) = parent.rsplit_once('/') {
            if files.contains_key(up) {
                return Err(ArchiveError::PathConflict(format!("{prefix}/{up}")));
            }
            parent = up;
        }
    }
    if !files.contains_key(super::manifest::MANIFEST_FILE) {
        return Err(ArchiveError::MissingManifest);
    }
    Ok((prefix, files))
}

fn check_path(raw: &str) -> Result<String, ArchiveError> {
    let unsafe_path = |why| ArchiveError::UnsafePath {
        path: raw.to_string(),
        why,
    };
    if raw.starts_with('/') || raw.starts_with('\\') || raw.get(1..2) == Some(":") {
        return Err(unsafe_path("it is absolute"));
    }
    if raw.contains('\\') {
        return Err(unsafe_path("it contains a backslash"));
    }
    if raw.chars().any(char::is_control) {
        return Err(unsafe_path("it contains a control character"));
    }
    let parts: Vec<&str> = raw.split('/').collect();
    if parts.contains(&"..") {
        return Err(unsafe_path("it contains \"..\""));
    }
    // Our packer writes neither, and readers normalise `a//b` or `./a`
    // differently.
    if parts.iter().any(|p| p.is_empty() || *p == ".") {
        return Err(unsafe_path("it has an empty or \".\" component"));
    }
    // A `.git` folder inside a package would be a repository (with hooks)
    // in every checkout that unpacks it, and the package history (git)
    // cannot hold it.
    if parts.iter().any(|p| is_git_name(p)) {
        return Err(ArchiveError::ReservedPath(raw.to_string()));
    }
    Ok(parts.join("/"))
}

/// `.git` as git itself protects it (core.protectNTFS, on by default in
/// libgit2): in any case, with trailing dots or spaces, or as the NTFS
/// short name `git~1`.
fn is_git_name(component: &str) -> bool {
    let trimmed = component.trim_end_matches(['.', ' ']);
    trimmed.eq_ignore_ascii_case(".git") || component.eq_ignore_ascii_case("git~1")
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
