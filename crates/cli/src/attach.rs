//! An attached session on a hijacked connection, as docker's
//! `hijackedIOStreamer` runs it: container output to our stdout/stderr
//! (demultiplexed unless tty), our stdin to the container on a thread with
//! half-close at EOF, the local terminal in raw mode for `-it`, and the
//! detach sequence (default ctrl-p,ctrl-q) recognised on input.

use crate::http::Hijacked;
use crate::stream::{self, StreamError};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Which streams are attached.
#[derive(Debug, Clone)]
pub struct Streams {
    pub tty: bool,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub detach_keys: Vec<u8>,
}

/// How a session ended.
#[derive(Debug, PartialEq)]
pub enum End {
    /// The container closed its output.
    Eof,
    /// The user typed the detach sequence.
    Detached,
}

/// Errors of a session.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("{0}")]
    Stream(#[from] StreamError),
    #[error("Invalid detach keys ({0}) provided")]
    DetachKeys(String),
}

/// Parses docker's `--detach-keys` (`ctrl-p,ctrl-q`, `a,ctrl-[`).
pub fn parse_detach_keys(spec: &str) -> Result<Vec<u8>, AttachError> {
    let spec = if spec.is_empty() {
        "ctrl-p,ctrl-q"
    } else {
        spec
    };
    let mut out = Vec::new();
    for k in spec.split(',') {
        if let Some(c) = k.strip_prefix("ctrl-") {
            let b = match c.as_bytes() {
                [b] if b.is_ascii_lowercase() => b - b'a' + 1,
                [b'@'] => 0,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => return Err(AttachError::DetachKeys(spec.to_string())),
            };
            out.push(b);
        } else if k.len() == 1 {
            out.push(k.as_bytes()[0]);
        } else {
            return Err(AttachError::DetachKeys(spec.to_string()));
        }
    }
    Ok(out)
}

/// Copies stdin to the container until EOF (then half-closes) or until the
/// detach sequence is typed (then closes the connection).
fn pump_stdin(
    mut writer: crate::http::conn::Stream,
    keys: Vec<u8>,
    tty: bool,
    detached: Arc<AtomicBool>,
) {
    let mut stdin = io::stdin().lock();
    let mut buf = [0u8; 4096];
    let mut held: Vec<u8> = Vec::new();
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut outgoing = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if tty && !keys.is_empty() {
                if b == keys[held.len()] {
                    held.push(b);
                    if held.len() == keys.len() {
                        detached.store(true, Ordering::SeqCst);
                        let _ = writer.write_all(&outgoing);
                        let _ = writer.shutdown_all();
                        return;
                    }
                    continue;
                }
                outgoing.append(&mut held);
            }
            outgoing.push(b);
        }
        if writer.write_all(&outgoing).is_err() {
            return;
        }
    }
    let _ = writer.write_all(&held);
    let _ = writer.shutdown_write();
}

/// Runs the session until the container's output ends or the user detaches.
pub fn run(h: Hijacked, s: &Streams) -> Result<End, AttachError> {
    let Hijacked { mut reader, writer } = h;
    let detached = Arc::new(AtomicBool::new(false));
    let _raw = if s.stdin && s.tty && crate::term::is_tty(0) {
        crate::term::make_raw(0)
    } else {
        None
    };
    if s.stdin {
        let keys = s.detach_keys.clone();
        let tty = s.tty;
        let d = detached.clone();
        std::thread::spawn(move || pump_stdin(writer, keys, tty, d));
    } else {
        drop(writer);
    }
    let mut sink = io::sink();
    let mut stdout = io::stdout().lock();
    let result = if s.tty {
        let out: &mut dyn Write = if s.stdout { &mut stdout } else { &mut sink };
        stream::copy_raw(&mut reader, &mut DynWrite(out)).map_err(StreamError::from)
    } else {
        let mut stderr = io::stderr().lock();
        let mut sink2 = io::sink();
        let out: &mut dyn Write = if s.stdout { &mut stdout } else { &mut sink };
        let err: &mut dyn Write = if s.stderr { &mut stderr } else { &mut sink2 };
        stream::demux(&mut reader, &mut DynWrite(out), &mut DynWrite(err))
    };
    if detached.load(Ordering::SeqCst) {
        return Ok(End::Detached);
    }
    result?;
    Ok(End::Eof)
}

/// Adapter so `&mut dyn Write` can be passed where `impl Write` is wanted.
struct DynWrite<'a>(&'a mut dyn Write);

impl Write for DynWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys() {
        assert_eq!(parse_detach_keys("").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert!(parse_detach_keys("ctrl-").is_err());
        assert!(parse_detach_keys("abc").is_err());
    }
}
