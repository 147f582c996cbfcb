//! Crash-safe writes: a reader sees the old content or the new, never a torn file;
//! [`write_atomic`] is also durable when it returns, the lighter variants say what
//! they give up.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Writes `data` to `path` through a temporary file in the same directory,
/// fsyncs it, renames it over `path` and fsyncs the directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    write_via_temp(path, data, Durability::FileAndDir)
}

/// [`write_atomic`] without the directory fsync: the content is on disk
/// before the rename, and the rename becomes durable with the caller's
/// next fsync of the same directory (a later [`write_atomic`] there). For
/// files written just before the record that makes them count (a bundle's
/// `config.json` before its `container.json`): one directory fsync covers
/// every rename before it.
pub fn write_atomic_before_dir_sync(path: &Path, data: &[u8]) -> io::Result<()> {
    write_via_temp(path, data, Durability::File)
}

/// Temporary file and rename, no fsync: readers, and a crash of any process,
/// see the old content or the new, never a torn file; a power loss may leave
/// the old content, no file or an empty one. Only for files whose loss is
/// handled (rebuilt, or read as absent).
pub fn write_atomic_unsynced(path: &Path, data: &[u8]) -> io::Result<()> {
    write_via_temp(path, data, Durability::None)
}

/// What a write waits for before it returns.
#[derive(Clone, Copy, PartialEq)]
enum Durability {
    FileAndDir,
    File,
    None,
}

fn write_via_temp(path: &Path, data: &[u8], durability: Durability) -> io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        crate::id::random_hex(4)
    ));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(data)?;
        if durability != Durability::None {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)?;
        if durability == Durability::FileAndDir {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rec.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn lighter_variants_replace_content_too() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        write_atomic_before_dir_sync(&p, b"one").unwrap();
        write_atomic_unsynced(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/dir/file");
        assert!(write_atomic_unsynced(&missing, b"x").is_err());
    }
}
