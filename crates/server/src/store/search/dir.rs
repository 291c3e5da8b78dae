//! Generations on disk: each a folder under `DATA/search/`, the current
//! one named in the file `CURRENT`.

use std::path::{Path, PathBuf};

use super::Result;

/// `DATA/search/`: generations of the index and the `CURRENT` pointer.
#[derive(Debug, Clone)]
pub struct SearchDir {
    pub root: PathBuf,
}

impl SearchDir {
    pub fn new(root: &Path) -> Self {
        SearchDir {
            root: root.to_path_buf(),
        }
    }

    /// The generation `CURRENT` names, if any.
    pub fn current(&self) -> Option<String> {
        let name = std::fs::read_to_string(self.root.join("CURRENT")).ok()?;
        let name = name.trim();
        (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
    }

    pub fn path_of(&self, generation: &str) -> PathBuf {
        self.root.join(generation)
    }

    /// A fresh, empty folder for a new generation.
    pub fn new_generation(&self) -> Result<(String, PathBuf)> {
        std::fs::create_dir_all(&self.root)?;
        let name = format!(
            "gen-{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
            std::process::id()
        );
        let path = self.root.join(&name);
        std::fs::create_dir_all(&path)?;
        Ok((name, path))
    }

    /// Makes `generation` the current one, atomically, and removes the
    /// other generations but `keep` (the one a running server may still
    /// write to; it removes that one itself when it switches).
    pub fn switch_to(&self, generation: &str, keep: Option<&str>) -> Result<()> {
        let tmp = self.root.join(format!("CURRENT.{}", std::process::id()));
        std::fs::write(&tmp, generation)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, self.root.join("CURRENT"))?;
        self.remove_except(&[Some(generation), keep]);
        Ok(())
    }

    /// Removes every generation but `generation`. A process still reading
    /// one keeps its open files (they are unlinked, not truncated).
    pub fn remove_others(&self, generation: &str) {
        self.remove_except(&[Some(generation)]);
    }

    fn remove_except(&self, keep: &[Option<&str>]) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("gen-") && !keep.contains(&Some(name.as_str())) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}
