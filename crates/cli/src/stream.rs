//! Copying container output to our stdout/stderr: docker's multiplexed frames
//! (8-byte header `[stream,0,0,0,len_be32]`) for non-tty containers, raw bytes
//! for tty ones, flushing as data arrives so interactive output appears.

use std::io::{self, Read, Write};

/// Errors of copying a stream.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("Unrecognized input header: {0}")]
    BadHeader(u8),
    /// A frame on the daemon's error channel (stream 3).
    #[error("error from daemon in stream: {0}")]
    Daemon(String),
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF in frame",
                ))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Demultiplexes frames into `out` and `err` until EOF.
pub fn demux(
    r: &mut impl Read,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<(), StreamError> {
    let mut header = [0u8; 8];
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        if !read_full(r, &mut header)? {
            return Ok(());
        }
        let mut len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let kind = header[0];
        if kind > 3 {
            return Err(StreamError::BadHeader(kind));
        }
        let mut daemon_msg = Vec::new();
        while len > 0 {
            let n = len.min(buf.len());
            if !read_full(r, &mut buf[..n])? {
                return Err(StreamError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "unexpected EOF in frame",
                )));
            }
            match kind {
                0 | 1 => {
                    out.write_all(&buf[..n])?;
                    out.flush()?;
                }
                2 => {
                    err.write_all(&buf[..n])?;
                    err.flush()?;
                }
                _ => daemon_msg.extend_from_slice(&buf[..n]),
            }
            len -= n;
        }
        if kind == 3 {
            return Err(StreamError::Daemon(
                String::from_utf8_lossy(&daemon_msg).into_owned(),
            ));
        }
    }
}

/// Copies bytes as they come until EOF.
pub fn copy_raw(r: &mut impl Read, out: &mut impl Write) -> io::Result<()> {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
        out.flush()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![kind, 0, 0, 0];
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn splits_streams() {
        let mut input = frame(1, b"out\n");
        input.extend(frame(2, b"err\n"));
        input.extend(frame(1, b"more"));
        let (mut o, mut e) = (Vec::new(), Vec::new());
        demux(&mut &input[..], &mut o, &mut e).unwrap();
        assert_eq!(o, b"out\nmore");
        assert_eq!(e, b"err\n");
    }

    #[test]
    fn reports_daemon_errors_and_bad_headers() {
        let input = frame(3, b"boom");
        let (mut o, mut e) = (Vec::new(), Vec::new());
        assert!(
            matches!(demux(&mut &input[..], &mut o, &mut e), Err(StreamError::Daemon(m)) if m == "boom")
        );
        let input = frame(9, b"x");
        assert!(matches!(
            demux(&mut &input[..], &mut o, &mut e),
            Err(StreamError::BadHeader(9))
        ));
        let truncated = &frame(1, b"abc")[..9];
        assert!(demux(&mut &truncated[..], &mut o, &mut e).is_err());
    }
}
