//! The container's `<id>-json.log`: cuts each output stream into lines as
//! dockerd's log copier does and appends them, one json-file line each.
//!
//! A line ends at `\n` (which stays part of the logged text). Bytes without a
//! newline wait for the rest of their line; once [`MAX_LINE`] of them have
//! accumulated, or the stream ends, they are logged as a partial line (no
//! trailing newline), which is what dockerd does with its 16 KiB buffer.

use crate::frame::Stream;
use crate::jsonlog;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Longest run of bytes logged as one line (dockerd's copier buffer size).
pub const MAX_LINE: usize = 16 * 1024;

/// Encoded output above this capacity is released after each write, so a
/// burst of long lines does not pin memory for the container's lifetime.
const KEEP_CAPACITY: usize = 4 * 1024;

/// Appends json-file lines to a log file.
pub struct LogFile {
    file: File,
    /// Per stream, the start of a line whose newline has not arrived yet.
    pending: [Vec<u8>; 2],
    /// Encoded lines not yet written.
    out: Vec<u8>,
}

impl LogFile {
    /// Opens (creating, mode 0640) `path` for appending.
    pub fn open(path: &Path) -> io::Result<LogFile> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o640)
            .open(path)?;
        Ok(LogFile {
            file,
            pending: [Vec::new(), Vec::new()],
            out: Vec::new(),
        })
    }

    /// Logs `data`, a chunk of `stream`'s output read at `time`.
    pub fn write(&mut self, stream: Stream, data: &[u8], time: &str) -> io::Result<()> {
        split_lines(&mut self.pending[stream.index()], data, |line| {
            jsonlog::push_line(&mut self.out, line, stream, time)
        });
        self.flush_out()
    }

    /// Logs what is left of `stream`'s last line (the stream ended).
    pub fn finish(&mut self, stream: Stream, time: &str) -> io::Result<()> {
        let pending = &mut self.pending[stream.index()];
        if !pending.is_empty() {
            jsonlog::push_line(&mut self.out, pending, stream, time);
            *pending = Vec::new();
        }
        self.flush_out()
    }

    fn flush_out(&mut self) -> io::Result<()> {
        let result = if self.out.is_empty() {
            Ok(())
        } else {
            self.file.write_all(&self.out)
        };
        self.out.clear();
        if self.out.capacity() > KEEP_CAPACITY {
            self.out = Vec::new();
        }
        result
    }
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
        let mut log = LogFile::open(&path).unwrap();
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
}
