//! Temporary directories inside the data root (same filesystem as their final
//! place, so results can be renamed in); removed on drop unless kept.

use crate::error::{Error, IoContext};
use std::fs;
use std::path::{Path, PathBuf};

/// A directory removed (recursively) when dropped, unless [`TempDir::keep`] was called.
pub struct TempDir {
    path: Option<PathBuf>,
}

impl TempDir {
    /// Creates `<parent>/.<prefix>-<random>`.
    pub fn new(parent: &Path, prefix: &str) -> Result<TempDir, Error> {
        let path = parent.join(format!(".{prefix}-{}", berth_util::id::random_hex(8)));
        fs::create_dir(&path).ctx(|| format!("create {}", path.display()))?;
        Ok(TempDir { path: Some(path) })
    }

    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Disarms the cleanup (after the directory was renamed away).
    pub fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

/// Removes leftovers (`.<prefix>-*`) of a crashed run from `dir`.
pub fn sweep(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') {
                let p = e.path();
                let _ = if p.is_dir() && !p.is_symlink() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
            }
        }
    }
}
