//! Docker's hijacked connections (container attach, exec start): the
//! `101 Switching Protocols` answer to `Upgrade: tcp`, the detach sequence
//! watched on a tty's input (`ctrl-p,ctrl-q` or the client's `detachKeys`;
//! typing it ends the session and leaves the process running), and the pump
//! between the client and the shim's stream.

use crate::http::{self, Resp};
use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use std::future::Future;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;

/// Docker's default detach sequence.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// Parses a detach sequence as Docker does (`ctrl-p,ctrl-q`, `a,ctrl-[`);
/// the error is Docker's message.
pub fn parse_detach_keys(spec: &str) -> Result<Vec<u8>, String> {
    let invalid = || format!("Invalid escape keys ({spec}) provided");
    let mut out = Vec::new();
    for key in spec.split(',') {
        match key.strip_prefix("ctrl-").map(str::as_bytes) {
            Some([c]) if c.is_ascii_lowercase() => out.push(c - b'a' + 1),
            Some([b'@']) => out.push(0),
            Some([b'[']) => out.push(27),
            Some([b'\\']) => out.push(28),
            Some([b']']) => out.push(29),
            Some([b'^']) => out.push(30),
            Some([b'_']) => out.push(31),
            Some(_) => return Err(invalid()),
            None if key.len() == 1 => out.push(key.as_bytes()[0]),
            None => return Err(invalid()),
        }
    }
    Ok(out)
}

/// Watches input for the detach sequence, holding back the bytes of a
/// partial match until it fails (then they go through).
#[derive(Debug, Clone)]
pub struct Escape {
    keys: Vec<u8>,
    held: usize,
}

impl Escape {
    /// `spec` empty means Docker's default; `None` when it does not parse.
    pub fn new(spec: &str) -> Option<Escape> {
        let spec = if spec.is_empty() {
            DEFAULT_DETACH_KEYS
        } else {
            spec
        };
        let keys = parse_detach_keys(spec).ok()?;
        (!keys.is_empty()).then_some(Escape { keys, held: 0 })
    }

    /// Appends to `out` what of `input` goes on; true when the sequence is
    /// complete (what follows it is dropped).
    pub fn filter(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        for &b in input {
            if b == self.keys[self.held] {
                self.held += 1;
                if self.held == self.keys.len() {
                    return true;
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.held]);
            self.held = 0;
            if b == self.keys[0] {
                self.held = 1;
                if self.keys.len() == 1 {
                    return true;
                }
            } else {
                out.push(b);
            }
        }
        false
    }
}

/// Whether the client asked to upgrade the connection (`Upgrade: tcp`).
pub fn wants_upgrade(req: &Request<Incoming>) -> bool {
    req.headers()
        .get("upgrade")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"))
}

/// The content type of a stream: raw for a tty, else Docker's frames.
pub fn content_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// `101` with `Upgrade: tcp` when asked for, else `200`; no body.
pub fn response(upgrade: bool, tty: bool) -> Resp {
    let status = if upgrade {
        StatusCode::SWITCHING_PROTOCOLS
    } else {
        StatusCode::OK
    };
    let mut resp = http::bytes(status, content_type(tty), Vec::new());
    if upgrade {
        resp.headers_mut()
            .insert("Connection", "Upgrade".parse().expect("static header"));
        resp.headers_mut()
            .insert("Upgrade", "tcp".parse().expect("static header"));
    }
    resp
}

/// Copies between the client and the shim until the shim's stream ends
/// (then `done` is awaited before the client's side is closed: the caller
/// must have recorded what the client asks next, like an exit code), or
/// the client goes away, or types the detach sequence (`escape`). The
/// client's end of input half-closes the shim stream.
pub async fn pump<C, F>(client: C, shim: UnixStream, mut escape: Option<Escape>, done: F)
where
    C: AsyncRead + AsyncWrite + Unpin,
    F: Future<Output = ()>,
{
    let (mut client_r, mut client_w) = tokio::io::split(client);
    let (mut shim_r, mut shim_w) = shim.into_split();
    let output = async {
        if tokio::io::copy(&mut shim_r, &mut client_w).await.is_ok() {
            done.await;
            let _ = client_w.shutdown().await;
        }
    };
    let input = async {
        let mut buf = vec![0u8; 16 * 1024];
        let mut out = Vec::new();
        loop {
            let n = match client_r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            out.clear();
            let detached = match &mut escape {
                Some(e) => e.filter(&buf[..n], &mut out),
                None => {
                    out.extend_from_slice(&buf[..n]);
                    false
                }
            };
            if !out.is_empty() && shim_w.write_all(&out).await.is_err() {
                break;
            }
            if detached {
                return true;
            }
        }
        let _ = shim_w.shutdown().await;
        false
    };
    tokio::pin!(output, input);
    tokio::select! {
        () = &mut output => {}
        detached = &mut input => {
            if !detached {
                output.await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_as_dockers() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(
            parse_detach_keys("a,ctrl-[,ctrl-@").unwrap(),
            vec![b'a', 27, 0]
        );
        assert_eq!(
            parse_detach_keys("ctrl-").unwrap_err(),
            "Invalid escape keys (ctrl-) provided"
        );
        assert!(parse_detach_keys("abc").is_err());
        assert!(Escape::new("bogus").is_none());
    }

    #[test]
    fn the_sequence_detaches_and_partial_matches_go_through() {
        let mut e = Escape::new("").unwrap();
        let mut out = Vec::new();
        assert!(!e.filter(b"ab\x10", &mut out));
        assert_eq!(out, b"ab");
        // A partial match split across reads, then broken: both go through.
        assert!(!e.filter(b"c", &mut out));
        assert_eq!(out, b"ab\x10c");
        out.clear();
        assert!(!e.filter(b"\x10\x10", &mut out));
        assert_eq!(out, b"\x10");
        assert!(e.filter(b"\x11rest", &mut out));
        assert_eq!(out, b"\x10");
    }

    #[tokio::test]
    async fn pump_copies_both_ways_and_waits_for_done() {
        let (client, mut peer) = tokio::io::duplex(1024);
        let (shim, mut shim_peer) = UnixStream::pair().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(pump(client, shim, None, async {
            let _ = rx.await;
        }));
        peer.write_all(b"in").await.unwrap();
        let mut got = [0u8; 2];
        shim_peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"in");
        shim_peer.write_all(b"out").await.unwrap();
        drop(shim_peer);
        let mut got = [0u8; 3];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"out");
        // Output ended, but the client's side stays open until `done`.
        let mut rest = Vec::new();
        let early = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            peer.read_to_end(&mut rest),
        )
        .await;
        assert!(early.is_err());
        tx.send(()).unwrap();
        peer.read_to_end(&mut rest).await.unwrap();
        task.await.unwrap();
    }

    #[tokio::test]
    async fn detaching_ends_the_session_and_closes_the_shim_stream() {
        let (client, mut peer) = tokio::io::duplex(1024);
        let (shim, mut shim_peer) = UnixStream::pair().unwrap();
        let task = tokio::spawn(pump(client, shim, Escape::new(""), async {}));
        peer.write_all(b"ls\x10\x11").await.unwrap();
        task.await.unwrap();
        let mut got = Vec::new();
        shim_peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"ls");
    }
}
