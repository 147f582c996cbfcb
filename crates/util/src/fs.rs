//! Crash-safe writes: a reader sees the old content or the new, never a torn file;
//! [`write_atomic`] is also durable when it returns, the lighter variants say what
//! they give up.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Writes `data` to `path` through a temporary file in the same directory,
/// fsyncs it, renames it over `path` and fsyncs the directory.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    write_via_temp(path, data, Durability::FileAndDir)
}

/// Temporary file and rename, no fsync: readers, and a crash of any process,
/// see the old content or the new, never a torn file; a power loss may leave
/// the old content, no file or an empty one. Only for files whose loss is
/// handled (rebuilt, or read as absent).
pub fn write_atomic_unsynced(path: &Path, data: &[u8]) -> io::Result<()> {
    write_via_temp(path, data, Durability::None)
}

/// Writes several files of one directory as one durable step: each through
/// a temporary file, as [`write_atomic`], but their data is written out
/// together (`sync_file_range`, so the first fsync's journal commit carries
/// all of them and the later fsyncs find little left to do), then they are
/// renamed in order and the directory is fsynced once. Each file on its own
/// is replaced atomically; on an error no temporary file is left, and the
/// files renamed before it keep their new content.
pub fn write_atomic_all(dir: &Path, files: &[(&str, &[u8])]) -> io::Result<()> {
    let mut temps: Vec<(std::path::PathBuf, File)> = Vec::with_capacity(files.len());
    let result = (|| {
        for (name, data) in files {
            let tmp = dir.join(format!(
                ".{name}.tmp-{}-{}",
                std::process::id(),
                crate::id::random_hex(4)
            ));
            let mut f = File::create(&tmp)?;
            temps.push((tmp, f.try_clone()?));
            f.write_all(data)?;
            // Start the write-out now; failure only loses the batching.
            // SAFETY: a valid descriptor; offsets 0, 0 mean the whole file.
            unsafe { libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE) };
        }
        for (_, f) in &temps {
            f.sync_all()?;
        }
        for ((tmp, _), (name, _)) in temps.iter().zip(files) {
            fs::rename(tmp, dir.join(name))?;
        }
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        for (tmp, _) in &temps {
            let _ = fs::remove_file(tmp);
        }
    }
    result
}

/// What a write waits for before it returns.
#[derive(Clone, Copy, PartialEq)]
enum Durability {
    FileAndDir,
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
    fn writes_a_batch_and_cleans_up_after_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic_all(dir.path(), &[("a.json", b"1"), ("b.json", b"2")]).unwrap();
        write_atomic_all(dir.path(), &[("a.json", b"3")]).unwrap();
        assert_eq!(fs::read(dir.path().join("a.json")).unwrap(), b"3");
        assert_eq!(fs::read(dir.path().join("b.json")).unwrap(), b"2");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
        // The second rename fails (a directory is in the way): the first
        // file is replaced, no temporary file stays.
        fs::create_dir(dir.path().join("c.json")).unwrap();
        fs::write(dir.path().join("c.json/x"), b"").unwrap();
        let err = write_atomic_all(dir.path(), &[("a.json", b"4"), ("c.json", b"5")]);
        assert!(err.is_err());
        assert_eq!(fs::read(dir.path().join("a.json")).unwrap(), b"4");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn lighter_variants_replace_content_too() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic_unsynced(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let missing = dir.path().join("no/such/dir/file");
        assert!(write_atomic_unsynced(&missing, b"x").is_err());
    }
}
