//! The one reading of an uploaded archive that the server's checks, the
//! blob store and every client share.
//!
//! Archive formats have corners where two readers see different files in
//! the same bytes: a second gzip member that `gzip -d` and `tar -xz` unpack
//! but a single-member decoder never sees, bytes after the end-of-archive
//! blocks, PAX and GNU records that rename or resize the next entry, a
//! `prefix` field one reader joins and another ignores. This reader accepts
//! only the plain ustar subset our own packer writes, so that the files it
//! returns are exactly what GNU tar, Python's `tarfile` and any other
//! reader unpack, and refuses every corner with a stable error.

use std::io::Read;

use super::ArchiveError;

const BLOCK: usize = 512;

/// One entry of the archive as this reader sees it.
pub(crate) struct RawEntry {
    /// The full path, UTF-8, without a trailing slash for folders.
    pub path: String,
    pub is_dir: bool,
    pub content: Vec<u8>,
}

/// Decompresses exactly one gzip member and requires the input to end with
/// it: a second member or any trailing byte is refused, because `tar -xz`
/// and `gzip -d` would unpack what this reader never checked.
pub(crate) fn single_gzip_member(bytes: &[u8], budget: u64) -> Result<Vec<u8>, GunzipError> {
    // `bufread::GzDecoder` consumes from the slice exactly the bytes of the
    // first member (header, deflate stream, trailer), so what remains in
    // the slice afterwards is what follows the member.
    let mut rest: &[u8] = bytes;
    let mut decoder = flate2::bufread::GzDecoder::new(&mut rest);
    let mut out = Vec::new();
    let mut limited = (&mut decoder).take(budget + 1);
    limited
        .read_to_end(&mut out)
        .map_err(|e| GunzipError::Corrupt(e.to_string()))?;
    if out.len() as u64 > budget {
        return Err(GunzipError::TooLarge);
    }
    drop(decoder);
    if !rest.is_empty() {
        return Err(GunzipError::TrailingData(rest.len()));
    }
    Ok(out)
}

pub(crate) enum GunzipError {
    Corrupt(String),
    TooLarge,
    TrailingData(usize),
}

/// Reads every entry through the end-of-archive blocks; everything after
/// them must be zero padding.
pub(crate) fn entries(tar: &[u8], max_entries: usize) -> Result<Vec<RawEntry>, ArchiveError> {
    let mut entries = Vec::new();
    let mut at = 0usize;
    loop {
        let Some(header) = tar.get(at..at + BLOCK) else {
            return Err(ArchiveError::Corrupt(
                "the tar stream ends without its end-of-archive blocks".into(),
            ));
        };
        if header.iter().all(|&b| b == 0) {
            // The end: two zero blocks, then only zero padding (GNU tar
            // pads to a 10 KiB record). Python stops at the first zero
            // block, GNU tar at the second; with nothing but zeros after
            // either, both see the same archive.
            let after = &tar[at + BLOCK..];
            if after.len() < BLOCK {
                return Err(ArchiveError::Corrupt(
                    "the tar stream has only one of its two end-of-archive blocks".into(),
                ));
            }
            if let Some(pos) = after.iter().position(|&b| b != 0) {
                return Err(ArchiveError::DataAfterEnd {
                    offset: (at + BLOCK + pos) as u64,
                });
            }
            return Ok(entries);
        }
        if entries.len() >= max_entries {
            return Err(ArchiveError::TooManyEntries { max: max_entries });
        }
        let entry = header_entry(header, at)?;
        at += BLOCK;
        let size = entry.size as usize;
        let padded = size.div_ceil(BLOCK) * BLOCK;
        let Some(data) = tar.get(at..at + size) else {
            return Err(ArchiveError::Corrupt(format!(
                "entry \"{}\" is cut short",
                entry.path
            )));
        };
        if tar.len() < at + padded {
            return Err(ArchiveError::Corrupt(format!(
                "entry \"{}\" is cut short",
                entry.path
            )));
        }
        entries.push(RawEntry {
            path: entry.path,
            is_dir: entry.is_dir,
            content: data.to_vec(),
        });
        at += padded;
    }
}

struct Header {
    path: String,
    is_dir: bool,
    size: u64,
}

fn header_entry(h: &[u8], offset: usize) -> Result<Header, ArchiveError> {
    let corrupt =
        |what: &str| ArchiveError::Corrupt(format!("tar header at byte {offset}: {what}"));
    let recorded = parse_octal(&h[148..156]).ok_or_else(|| corrupt("unreadable checksum"))?;
    let computed: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                b as u64
            }
        })
        .sum();
    if recorded != computed {
        return Err(corrupt("wrong header checksum"));
    }
    let posix = &h[257..265] == b"ustar\x0000";
    let gnu = &h[257..265] == b"ustar  \x00";
    if !posix && !gnu {
        return Err(ArchiveError::UnsupportedFormat(
            "an entry is not in ustar format".into(),
        ));
    }
    let mut raw_path = field(&h[0..100]).to_vec();
    // Only POSIX ustar has a prefix field; GNU tar uses those bytes for
    // times, and every reader agrees on that.
    if posix {
        let prefix = field(&h[345..500]);
        if !prefix.is_empty() {
            let mut joined = prefix.to_vec();
            joined.push(b'/');
            joined.extend_from_slice(&raw_path);
            raw_path = joined;
        }
    } else if h[345..500].iter().any(|&b| b != 0) {
        return Err(ArchiveError::UnsupportedFormat(
            "a GNU tar header carries extra data".into(),
        ));
    }
    let path = String::from_utf8(raw_path).map_err(|e| ArchiveError::NonUtf8Path {
        path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })?;
    let typeflag = h[156];
    let kind = match typeflag {
        b'0' | 0 => EntryKind::File,
        b'5' => EntryKind::Dir,
        b'x' | b'g' => {
            return Err(ArchiveError::ExtendedHeader {
                path,
                kind: "PAX extended header",
            })
        }
        b'L' | b'K' => {
            return Err(ArchiveError::ExtendedHeader {
                path,
                kind: "GNU long-name record",
            })
        }
        other => {
            return Err(ArchiveError::UnsupportedEntry {
                path,
                kind: entry_kind_name(other).to_string(),
            })
        }
    };
    // A size in GNU base-256 or with junk after the digits reads
    // differently in different tools; only plain octal is accepted.
    let size = parse_octal(&h[124..136]).ok_or_else(|| {
        ArchiveError::UnsupportedFormat(format!("entry \"{path}\" has an unreadable size"))
    })?;
    // An empty mode field (some writers leave it NUL) reads as 0 in every
    // tool; only the size must be written out.
    let mode_field = &h[100..108];
    let mode = if mode_field.iter().all(|&b| b == 0 || b == b' ') {
        Some(0)
    } else {
        parse_octal(mode_field)
    };
    let mode = mode.ok_or_else(|| {
        ArchiveError::UnsupportedFormat(format!("entry \"{path}\" has an unreadable mode"))
    })?;
    if !field(&h[157..257]).is_empty() {
        return Err(ArchiveError::UnsupportedEntry {
            path,
            kind: "entry with a link target".into(),
        });
    }
    match kind {
        EntryKind::Dir => {
            // Python skips no data after a folder header, GNU tar does: a
            // folder with a size would make them disagree on what follows.
            if size != 0 {
                return Err(ArchiveError::UnsupportedFormat(format!(
                    "folder \"{path}\" claims a size"
                )));
            }
            if mode & 0o7000 != 0 {
                return Err(ArchiveError::UnsupportedMode { path, mode });
            }
            let path = path.strip_suffix('/').unwrap_or(&path).to_string();
            Ok(Header {
                path,
                is_dir: true,
                size,
            })
        }
        EntryKind::File => {
            // An old-style file whose name ends in "/" is a folder to some
            // readers and a file to others.
            if path.ends_with('/') {
                return Err(ArchiveError::UnsafePath {
                    path,
                    why: "a file name ends with \"/\"",
                });
            }
            // Packages hold data, never programs: no executable or set-id
            // bits that an unpacking `tar` would restore.
            if mode & 0o7111 != 0 {
                return Err(ArchiveError::UnsupportedMode { path, mode });
            }
            Ok(Header {
                path,
                is_dir: false,
                size,
            })
        }
    }
}

enum EntryKind {
    File,
    Dir,
}

/// The bytes of a NUL-terminated header field.
fn field(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    &bytes[..end]
}

/// Plain octal: optional leading spaces, digits, then only NULs or spaces.
fn parse_octal(bytes: &[u8]) -> Option<u64> {
    let start = bytes.iter().position(|&b| b != b' ')?;
    let bytes = &bytes[start..];
    let digits = bytes
        .iter()
        .position(|&b| !(b'0'..=b'7').contains(&b))
        .unwrap_or(bytes.len());
    if digits == 0 || digits > 11 {
        return None;
    }
    if !bytes[digits..].iter().all(|&b| b == 0 || b == b' ') {
        return None;
    }
    let text = std::str::from_utf8(&bytes[..digits]).ok()?;
    u64::from_str_radix(text, 8).ok()
}

fn entry_kind_name(typeflag: u8) -> &'static str {
    match typeflag {
        b'1' => "hard link",
        b'2' => "symbolic link",
        b'3' => "character device",
        b'4' => "block device",
        b'6' => "named pipe",
        b'7' => "contiguous file",
        _ => "special entry",
    }
}
