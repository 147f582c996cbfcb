//! Removing a container's bundle without making the caller wait for the
//! disk: the directory is renamed to `.removing-<id>` (one rename, after
//! which no container of that ID exists on disk) and deleted in the
//! background. `run --rm` and `rm` answer after the rename; a daemon that
//! dies before the deletion ends finds the `.removing-*` directory at its
//! next start and [`sweep`]s it before anything reads the containers
//! directory.

use std::io;
use std::path::{Path, PathBuf};

const PREFIX: &str = ".removing-";

/// Whether a containers-directory entry is a bundle being removed.
pub fn is_trash(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with(PREFIX)
}

/// Renames `dir` (the bundle of container `id`) out of the way; `None`
/// when it does not exist.
pub fn retire(dir: &Path, id: &str) -> io::Result<Option<PathBuf>> {
    let Some(parent) = dir.parent() else {
        return Ok(None);
    };
    let trash = parent.join(format!("{PREFIX}{id}"));
    match std::fs::rename(dir, &trash) {
        Ok(()) => Ok(Some(trash)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes a retired bundle on a blocking thread, without waiting for it.
pub fn delete_later(trash: PathBuf) {
    tokio::task::spawn_blocking(move || {
        if let Err(e) = std::fs::remove_dir_all(&trash) {
            eprintln!("berthd: remove {}: {e}", trash.display());
        }
    });
}

/// Deletes what removals left behind in `containers_dir` (a daemon that
/// stopped before their background deletion ended).
pub fn sweep(containers_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(containers_dir) else {
        return;
    };
    for e in entries.flatten() {
        if is_trash(&e.file_name()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retire_then_sweep() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("abc");
        std::fs::create_dir_all(dir.join("upper/etc")).unwrap();
        std::fs::write(dir.join("container.json"), b"{}").unwrap();
        let keep = root.path().join("other");
        std::fs::create_dir(&keep).unwrap();
        let trash = retire(&dir, "abc").unwrap().unwrap();
        assert!(!dir.exists());
        assert!(is_trash(trash.file_name().unwrap()));
        assert!(retire(&dir, "abc").unwrap().is_none());
        sweep(root.path());
        assert!(!trash.exists());
        assert!(keep.exists());
    }

    #[tokio::test]
    async fn delete_later_deletes() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("x");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        let trash = retire(&dir, "x").unwrap().unwrap();
        delete_later(trash.clone());
        for _ in 0..200 {
            if !trash.exists() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("{} still exists", trash.display());
    }
}
