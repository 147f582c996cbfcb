//! Phase timestamps for finding where the milliseconds of a container's
//! life go, off by default. With `BERTH_TRACE=<file>` in the environment of
//! `berthd` (the shims and their container inits inherit it, containers do
//! not: their environment is the spec's) or of `berth`, each [`mark`]
//! appends one line `<CLOCK_MONOTONIC ns> <program>[<pid>] <label>` to that
//! file with a single `O_APPEND` write, so lines of all processes interleave
//! whole and sort by time. When the variable is unset a mark costs one
//! initialised-once check.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::sync::{Mutex, OnceLock};

/// The trace file's path, or `None` when tracing is off (decided once).
static PATH: OnceLock<Option<OsString>> = OnceLock::new();

/// The open trace file with its device and inode. Checked before each
/// write: the shim closes every inherited descriptor when it detaches, so
/// the number may since name another file (a container's pipe); then the
/// file is opened again. A container init that has pivoted away from the
/// file keeps the descriptor it inherited.
static FILE: Mutex<Option<(File, u64, u64)>> = Mutex::new(None);

fn path() -> Option<&'static OsString> {
    PATH.get_or_init(|| std::env::var_os("BERTH_TRACE").filter(|p| !p.is_empty()))
        .as_ref()
}

fn write_line(path: &OsString, line: &[u8]) {
    let mut slot = FILE.lock().unwrap_or_else(|e| e.into_inner());
    let same = slot.as_ref().is_some_and(|(f, dev, ino)| {
        f.metadata()
            .is_ok_and(|m| m.dev() == *dev && m.ino() == *ino)
    });
    if !same {
        if let Some((f, _, _)) = slot.take() {
            // The number is someone else's now: forget it without closing.
            std::mem::forget(f);
        }
        let Ok(f) = OpenOptions::new().append(true).create(true).open(path) else {
            return;
        };
        let Ok(m) = f.metadata() else {
            return;
        };
        *slot = Some((f, m.dev(), m.ino()));
    }
    if let Some((f, _, _)) = slot.as_mut() {
        let _ = f.write_all(line);
    }
}

/// Nanoseconds of `CLOCK_MONOTONIC` (comparable across processes).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// Whether tracing is on in this process.
pub fn enabled() -> bool {
    path().is_some()
}

/// Records that this process reached `label` now (no-op when tracing is off).
pub fn mark(label: &str) {
    let Some(path) = path() else {
        return;
    };
    let program = std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let line = format!(
        "{} {program}[{}] {label}\n",
        monotonic_ns(),
        std::process::id()
    );
    write_line(path, line.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_clock_advances() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(a > 0 && b >= a);
    }

    #[test]
    fn reopens_when_the_descriptor_was_reused() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = OsString::from(dir.path().join("t.log"));
        let other = dir.path().join("other");
        write_line(&path, b"one\n");
        // Put another file on the trace file's descriptor number, as a
        // detaching shim (close_range, then new descriptors) may.
        let fd = FILE.lock().unwrap().as_ref().unwrap().0.as_raw_fd();
        let o = File::create(&other).unwrap();
        // SAFETY: replaces our own descriptor; the test owns both.
        assert!(unsafe { libc::dup2(o.as_raw_fd(), fd) } >= 0);
        write_line(&path, b"two\n");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("t.log")).unwrap(),
            "one\ntwo\n"
        );
        assert_eq!(std::fs::read_to_string(&other).unwrap(), "");
    }
}
