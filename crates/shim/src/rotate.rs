//! Size-based rotation of the json-file log (`--log-opt max-size` and
//! `max-file`, validated and parsed by the daemon, which passes them as
//! bundle annotations), in dockerd's scheme: before a line is written, a
//! log that has reached `max-size` bytes moves to `<log>.1`, older files
//! move up one (`.1` → `.2` …) and the one that would become
//! `.<max-file>` is removed; with `max-file` 1 the log is truncated in place.

use std::io;
use std::path::{Path, PathBuf};

/// Annotation: size in bytes at which the log rotates (absent = never).
pub const ANNOTATION_MAX_SIZE: &str = "berth.log-max-size";
/// Annotation: how many files (the live one included) rotation keeps.
pub const ANNOTATION_MAX_FILE: &str = "berth.log-max-file";

/// When and how far the log rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Size that triggers a rotation; 0 = never rotate.
    pub max_size: u64,
    /// Files kept, the live one included (at least 1).
    pub max_files: u32,
}

impl Default for Rotation {
    fn default() -> Rotation {
        Rotation {
            max_size: 0,
            max_files: 1,
        }
    }
}

impl Rotation {
    /// Reads the annotations; missing or unparsable values mean "no limit"
    /// (the daemon has validated them already).
    pub fn from_annotations<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Rotation {
        let max_size = get(ANNOTATION_MAX_SIZE)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let max_files = get(ANNOTATION_MAX_FILE)
            .and_then(|v| v.parse().ok())
            .unwrap_or(1)
            .max(1);
        Rotation {
            max_size,
            max_files,
        }
    }

    /// True when a log of `size` bytes must rotate before the next line.
    pub fn due(&self, size: u64) -> bool {
        self.max_size > 0 && size >= self.max_size
    }
}

/// The `n`-th rotated file of the log at `path`: `<path>.<n>`.
pub fn rotated_name(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// Shifts the rotated files up by one, dropping the oldest kept one, and
/// renames the live log to `<path>.1`. Does nothing when `max_files` ≤ 1.
pub fn shift(path: &Path, max_files: u32) -> io::Result<()> {
    if max_files < 2 {
        return Ok(());
    }
    ignore_missing(std::fs::remove_file(rotated_name(path, max_files - 1)))?;
    for n in (2..max_files).rev() {
        ignore_missing(std::fs::rename(
            rotated_name(path, n - 1),
            rotated_name(path, n),
        ))?;
    }
    ignore_missing(std::fs::rename(path, rotated_name(path, 1)))
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn names_rotated_files_with_a_numeric_suffix() {
        let p = Path::new("/b/abc-json.log");
        assert_eq!(rotated_name(p, 1), Path::new("/b/abc-json.log.1"));
        assert_eq!(rotated_name(p, 12), Path::new("/b/abc-json.log.12"));
    }

    #[test]
    fn reads_annotations() {
        let a: HashMap<&str, &str> = [(ANNOTATION_MAX_SIZE, "10000"), (ANNOTATION_MAX_FILE, "3")]
            .into_iter()
            .collect();
        let r = Rotation::from_annotations(|k| a.get(k).copied());
        assert_eq!(
            r,
            Rotation {
                max_size: 10000,
                max_files: 3
            }
        );
        assert!(!r.due(9999));
        assert!(r.due(10000));
        let none = Rotation::from_annotations(|_| None);
        assert_eq!(none, Rotation::default());
        assert!(!none.due(u64::MAX));
        let zero = Rotation::from_annotations(|k| (k == ANNOTATION_MAX_FILE).then_some("0"));
        assert_eq!(zero.max_files, 1);
    }

    #[test]
    fn shifts_files_like_dockerd() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("c-json.log");
        let read = |n: u32| std::fs::read_to_string(rotated_name(&log, n)).ok();
        for round in ["a", "b", "c", "d"] {
            std::fs::write(&log, round).unwrap();
            shift(&log, 3).unwrap();
            assert!(!log.exists());
        }
        assert_eq!(read(1).as_deref(), Some("d"));
        assert_eq!(read(2).as_deref(), Some("c"));
        assert_eq!(read(3), None, "max-file 3 keeps the live log, .1 and .2");
        // max-file 1: nothing moves (the writer truncates in place).
        std::fs::write(&log, "x").unwrap();
        shift(&log, 1).unwrap();
        assert!(log.exists());
    }
}
