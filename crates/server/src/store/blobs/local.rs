//! The blob store's default backend: a local folder,
//! `<root>/<first two hex digits>/<sha256>`, written through `<root>/tmp`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{BlobBackend, BlobResult};

#[derive(Clone, Debug)]
pub struct LocalFolder {
    root: PathBuf,
}

impl LocalFolder {
    pub fn open(root: &Path) -> std::io::Result<Self> {
        fs::create_dir_all(root.join("tmp"))?;
        Ok(LocalFolder {
            root: root.to_path_buf(),
        })
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }
}

impl BlobBackend for LocalFolder {
    /// A second put of the same bytes is a no-op. The file is written
    /// beside its place, synced and renamed, so a reader never sees half an
    /// archive.
    fn put(&self, sha256: &str, bytes: &[u8]) -> BlobResult<()> {
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

    fn read(&self, sha256: &str) -> BlobResult<Option<Vec<u8>>> {
        match fs::read(self.path_of(sha256)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn delete(&self, sha256: &str) -> BlobResult<()> {
        match fs::remove_file(self.path_of(sha256)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn age(&self, sha256: &str) -> BlobResult<Option<Duration>> {
        match fs::metadata(self.path_of(sha256)) {
            Ok(m) => Ok(Some(m.modified()?.elapsed().unwrap_or_default())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn list(&self) -> BlobResult<Vec<String>> {
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

#[cfg(test)]
mod tests {
    use super::super::{BlobError, BlobState, BlobStore};
    use gemeinwerk_package::archive::sha256_hex;

    #[test]
    fn stores_reads_lists_and_deletes_by_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let bytes = b"an archive".to_vec();
        let cksum = sha256_hex(&bytes);
        store.put(&cksum, &bytes).unwrap();
        store.put(&cksum, &bytes).unwrap();
        assert!(
            dir.path().join(&cksum[..2]).join(&cksum).is_file(),
            "the layout is unchanged"
        );
        assert_eq!(store.get(&cksum).unwrap(), Some(bytes));
        assert_eq!(store.list().unwrap(), vec![cksum.clone()]);
        assert!(store.age(&cksum).unwrap().is_some());
        store.delete(&cksum).unwrap();
        store.delete(&cksum).unwrap();
        assert_eq!(store.get(&cksum).unwrap(), None);
        assert_eq!(store.check(&cksum).unwrap(), BlobState::Missing);
        assert_eq!(store.get("../../etc/passwd").unwrap(), None);
    }

    #[test]
    fn a_damaged_archive_is_an_error_not_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let cksum = sha256_hex(b"the real archive");
        store.put(&cksum, b"something else").unwrap();
        match store.get(&cksum) {
            Err(BlobError::Corrupt { cksum: c, actual }) => {
                assert_eq!(c, cksum);
                assert_eq!(actual, sha256_hex(b"something else"));
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert_eq!(store.check(&cksum).unwrap(), BlobState::Corrupt);
    }
}
