//! Reading a package folder from disk into the files that go into its
//! archive.

use std::path::Path;

use super::{ClientError, ClientResult};
use gemeinwerk_package::archive::{self, PackageFiles};
use gemeinwerk_package::{check_package, Diagnostic, Manifest};

/// Folders that are never part of a package: version control, build output
/// and fetched dependencies.
const SKIPPED_DIRS: [&str; 2] = ["target", "gemeinwerk_packages"];

/// Reads every regular file below `dir`, skipping hidden entries and the
/// folders above. A symbolic link is refused: the archive would not carry it.
pub fn read_folder(dir: &Path) -> ClientResult<PackageFiles> {
    if !dir
        .join(gemeinwerk_package::manifest::MANIFEST_FILE)
        .is_file()
    {
        return Err(ClientError::NotAPackage {
            dir: dir.to_path_buf(),
        });
    }
    let mut files = PackageFiles::new();
    walk(dir, "", &mut files)?;
    Ok(files)
}

fn walk(dir: &Path, prefix: &str, files: &mut PackageFiles) -> ClientResult<()> {
    let io = |e| ClientError::read(dir)(e);
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{prefix}{name}");
        let kind = entry.file_type().map_err(io)?;
        if kind.is_symlink() {
            return Err(ClientError::Symlink { path: rel });
        } else if kind.is_dir() {
            if prefix.is_empty() && SKIPPED_DIRS.contains(&name.as_str()) {
                continue;
            }
            walk(&entry.path(), &format!("{rel}/"), files)?;
        } else if kind.is_file() {
            files.insert(rel, std::fs::read(entry.path()).map_err(io)?);
        }
    }
    Ok(())
}

/// A package folder, checked and packed.
pub struct Packed {
    pub manifest: Manifest,
    pub warnings: Vec<Diagnostic>,
    pub archive: Vec<u8>,
    pub cksum: String,
}

/// Reads, checks and packs the folder; every problem is returned at once.
pub fn pack(dir: &Path) -> ClientResult<Result<Packed, Vec<Diagnostic>>> {
    let files = read_folder(dir)?;
    Ok(check_package(&files).map(|(manifest, warnings)| {
        let prefix = format!("{}-{}", manifest.name, manifest.version);
        let archive = archive::build(&prefix, &files);
        let cksum = archive::sha256_hex(&archive);
        Packed {
            manifest,
            warnings,
            archive,
            cksum,
        }
    }))
}
