//! Phase timestamps for finding where the milliseconds of a container's
//! life go, off by default. With `BERTH_TRACE=<file>` in the environment of
//! `berthd` (the shims and their container inits inherit it, containers do
//! not: their environment is the spec's) or of `berth`, each [`mark`]
//! appends one line `<CLOCK_MONOTONIC ns> <program>[<pid>] <label>` to that
//! file with a single `O_APPEND` write, so lines of all processes interleave
//! whole and sort by time. When the variable is unset a mark costs one
//! initialised-once check.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::OnceLock;

/// The trace file, or `None` when tracing is off (decided once per process).
static SINK: OnceLock<Option<File>> = OnceLock::new();

fn sink() -> Option<&'static File> {
    SINK.get_or_init(|| {
        let path = std::env::var_os("BERTH_TRACE").filter(|p| !p.is_empty())?;
        OpenOptions::new().append(true).create(true).open(path).ok()
    })
    .as_ref()
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
    sink().is_some()
}

/// Records that this process reached `label` now (no-op when tracing is off).
pub fn mark(label: &str) {
    let Some(mut f) = sink() else {
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
    let _ = f.write_all(line.as_bytes());
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
}
