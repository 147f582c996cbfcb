//! The container's `<id>-json.log`: cuts each output stream into lines as
//! dockerd's log copier does and appends them, one json-file line each.
//!
//! A line ends at `\n` (which stays part of the logged text). Bytes without a
//! newline wait for the rest of their line; once [`MAX_LINE`] of them have
//! accumulated, or the stream ends, they are logged as a partial line (no
//! trailing newline), which is what dockerd does with its 16 KiB buffer.
//! The file rotates by size (see [`crate::rotate`]).

use crate::frame::Stream;
use crate::jsonlog;
use crate::rotate::{self, Rotation};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Longest run of bytes logged as one line (dockerd's copier buffer size).
pub const MAX_LINE: usize = 16 * 1024;

/// Encoded output above this capacity is released after each write, so a
/// burst of long lines does not pin memory for the container's lifetime.
const KEEP_CAPACITY: usize = 4 * 1024;

/// Appends json-file lines to a log file, rotating it by size.
pub struct LogFile {
    /// Per stream, the start of a line whose newline has not arrived yet.
    pending: [Vec<u8>; 2],
    sink: Sink,
}

/// The open log and the encoded lines on their way to it.
struct Sink {
    file: File,
    path: PathBuf,
    /// Bytes in the live file.
    size: u64,
    rotation: Rotation,
    /// Encoded lines not yet written.
    out: Vec<u8>,
    /// First failure since the last flush (a rotation in mid-chunk).
    error: Option<io::Error>,
}

impl LogFile {
    /// Opens (creating, mode 0640) `path` for appending; it rotates by `rotation`.
    pub fn open(path: &Path, rotation: Rotation) -> io::Result<LogFile> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(LogFile {
            pending: [Vec::new(), Vec::new()],
            sink: Sink {
                file,
                path: path.to_path_buf(),
                size,
                rotation,
                out: Vec::new(),
                error: None,
            },
        })
    }

    /// Logs `data`, a chunk of `stream`'s output read at `time`.
    pub fn write(&mut self, stream: Stream, data: &[u8], time: &str) -> io::Result<()> {
        let sink = &mut self.sink;
        split_lines(&mut self.pending[stream.index()], data, |line| {
            sink.push(line, stream, time)
        });
        self.sink.flush()
    }

    /// Logs what is left of `stream`'s last line (the stream ended).
    pub fn finish(&mut self, stream: Stream, time: &str) -> io::Result<()> {
        let pending = &mut self.pending[stream.index()];
        if !pending.is_empty() {
            self.sink.push(pending, stream, time);
            *pending = Vec::new();
        }
        self.sink.flush()
    }
}

impl Sink {
    /// Encodes one line, rotating first when the log has reached its limit.
    fn push(&mut self, line: &[u8], stream: Stream, time: &str) {
        if self.rotation.due(self.size + self.out.len() as u64) {
            if let Err(e) = self.rotate() {
                self.error.get_or_insert(e);
            }
        }
        jsonlog::push_line(&mut self.out, line, stream, time);
    }

    /// Writes what is encoded and reports the first failure since the last flush.
    fn flush(&mut self) -> io::Result<()> {
        let result = self.write_out();
        if self.out.capacity() > KEEP_CAPACITY {
            self.out = Vec::new();
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => result,
        }
    }

    fn write_out(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let result = self.file.write_all(&self.out);
        if result.is_ok() {
            self.size += self.out.len() as u64;
        }
        self.out.clear();
        result
    }

    /// Moves the full log aside (or empties it with `max-file` 1) and
    /// continues in a new one.
    fn rotate(&mut self) -> io::Result<()> {
        self.write_out()?;
        if self.rotation.max_files < 2 {
            self.file.set_len(0)?;
        } else {
            rotate::shift(&self.path, self.rotation.max_files)?;
            self.file = open_append(&self.path)?;
        }
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
}

/// Feeds `data` into the line state `pending` and calls `emit` for every
/// line (or [`MAX_LINE`]-long partial line) that is complete.
fn split_lines(pending: &mut Vec<u8>, mut data: &[u8], mut emit: impl FnMut(&[u8])) {
    while !data.is_empty() {
        let room = MAX_LINE - pending.len();
        let window = &data[..data.len().min(room)];
        let take = match window.iter().position(|&b| b == b'\n') {
            Some(pos) => pos + 1,
            None if window.len() == room => room,
            None => {
                pending.extend_from_slice(window);
                return;
            }
        };
        if pending.is_empty() {
            emit(&data[..take]);
        } else {
            pending.extend_from_slice(&data[..take]);
            emit(pending);
            // Drop the allocation: long-lived idle containers keep nothing.
            *pending = Vec::new();
        }
        data = &data[take..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
        let mut pending = Vec::new();
        let mut lines = Vec::new();
        for c in chunks {
            split_lines(&mut pending, c, |l| lines.push(l.to_vec()));
        }
        (lines, pending)
    }

    #[test]
    fn splits_at_newlines_and_keeps_them() {
        let (lines, rest) = split(&[b"a\nbb\n\nc"]);
        assert_eq!(
            lines,
            vec![b"a\n".to_vec(), b"bb\n".to_vec(), b"\n".to_vec()]
        );
        assert_eq!(rest, b"c");
    }

    #[test]
    fn joins_a_line_spread_over_chunks() {
        let (lines, rest) = split(&[b"he", b"ll", b"o\nw"]);
        assert_eq!(lines, vec![b"hello\n".to_vec()]);
        assert_eq!(rest, b"w");
    }

    #[test]
    fn cuts_long_lines_at_16k() {
        let long = vec![b'x'; MAX_LINE * 2 + 10];
        let (lines, rest) = split(&[&long[..100], &long[100..], b"\n"]);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].len(), MAX_LINE);
        assert_eq!(lines[1].len(), MAX_LINE);
        assert_eq!(lines[2], b"xxxxxxxxxx\n");
        assert!(rest.is_empty());
        // A line of exactly MAX_LINE bytes including its newline stays whole.
        let mut exact = vec![b'y'; MAX_LINE - 1];
        exact.push(b'\n');
        let (lines, _) = split(&[&exact]);
        assert_eq!(lines, vec![exact]);
    }

    #[test]
    fn writes_lines_and_flushes_the_partial_rest_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut log = LogFile::open(&path, Rotation::default()).unwrap();
        let t = "2026-11-23T16:26:19.5Z";
        log.write(Stream::Stdout, b"out\npart", t).unwrap();
        log.write(Stream::Stderr, b"err\n", t).unwrap();
        log.finish(Stream::Stdout, t).unwrap();
        log.finish(Stream::Stderr, t).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"log":"out\n","stream":"stdout","time":"2026-11-23T16:26:19.5Z"}"#,
                "\n",
                r#"{"log":"err\n","stream":"stderr","time":"2026-11-23T16:26:19.5Z"}"#,
                "\n",
                r#"{"log":"part","stream":"stdout","time":"2026-11-23T16:26:19.5Z"}"#,
                "\n"
            )
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o007, 0, "the log is not world-readable");
    }

    #[test]
    fn rotates_before_the_line_that_follows_a_full_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let rotation = Rotation {
            max_size: 200,
            max_files: 3,
        };
        let mut log = LogFile::open(&path, rotation).unwrap();
        let t = "2026-11-23T16:26:19.5Z";
        let mut chunk = Vec::new();
        for i in 0..40 {
            chunk.extend_from_slice(format!("line {i:02}\n").as_bytes());
        }
        log.write(Stream::Stdout, &chunk, t).unwrap();
        let line_len = 70; // {"log":"line 00\n","stream":"stdout","time":"…"}\n
        let live = std::fs::read_to_string(&path).unwrap();
        let one = std::fs::read_to_string(rotate::rotated_name(&path, 1)).unwrap();
        let two = std::fs::read_to_string(rotate::rotated_name(&path, 2)).unwrap();
        assert!(!rotate::rotated_name(&path, 3).exists());
        for full in [&one, &two] {
            assert!(
                full.len() >= 200 && full.len() < 200 + line_len,
                "{}",
                full.len()
            );
        }
        assert!(live.ends_with(
            "\"line 39\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-23T16:26:19.5Z\"}\n"
        ));
        let kept = [two, one, live].concat();
        let first = kept.find("line ").unwrap();
        let numbers: Vec<u32> = kept[first..]
            .split("line ")
            .filter_map(|s| s.get(..2)?.parse().ok())
            .collect();
        let expect: Vec<u32> = (numbers[0]..40).collect();
        assert_eq!(numbers, expect, "the kept lines are the newest, in order");
    }

    #[test]
    fn max_file_one_truncates_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        std::fs::write(&path, vec![b'x'; 300]).unwrap();
        let rotation = Rotation {
            max_size: 100,
            max_files: 1,
        };
        let mut log = LogFile::open(&path, rotation).unwrap();
        log.write(Stream::Stdout, b"new\n", "t").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"log\":\"new\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n"
        );
        assert!(!rotate::rotated_name(&path, 1).exists());
    }
}
