//! One control-socket connection and its output queue.
//!
//! Sockets are non-blocking. Output is written at once when the socket takes
//! it; what it does not take waits in a small per-client queue, and a client
//! whose queue overflows (slow) or whose socket fails (gone) is marked dead
//! and dropped by the loop. The container is never held up by a client.

use crate::request::Attach;
use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

/// Output a client may leave unread in the shim before it is dropped
/// (on top of the kernel's socket buffer, see [`Client::enlarge_send_buffer`]).
pub const MAX_QUEUE: usize = 256 * 1024;

/// Kernel send buffer asked for attach connections: kernel memory, used only
/// while a client lags, so it costs nothing per idle container.
const SEND_BUFFER: libc::c_int = 1024 * 1024;

/// Queue capacity kept after the queue drains; more is given back.
const KEEP_CAPACITY: usize = 4 * 1024;

/// What a connection is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Reading the request line (bytes so far).
    Request(Vec<u8>),
    /// A `wait` request waiting for the init to exit.
    Waiter,
    /// An attach stream.
    Attached(Attach),
    /// The stdio stream of an exec'd process.
    ExecAttached(ExecLink),
    /// An `exec-wait` request waiting for that process to end.
    ExecWaiter(String),
    /// Answered: closed once the answer is written.
    Closing,
}

/// Which exec'd process a stream belongs to, and its streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecLink {
    pub id: String,
    pub attach: Attach,
}

pub struct Client {
    sock: UnixStream,
    pub phase: Phase,
    /// Whether bytes from the client are still read (it has not half-closed).
    pub reading: bool,
    /// Set when the client must be dropped.
    pub dead: bool,
    queue: Vec<u8>,
    sent: usize,
}

impl Client {
    pub fn new(sock: UnixStream) -> io::Result<Client> {
        sock.set_nonblocking(true)?;
        Ok(Client {
            sock,
            phase: Phase::Request(Vec::new()),
            reading: true,
            dead: false,
            queue: Vec::new(),
            sent: 0,
        })
    }

    pub fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// Lets the kernel hold more unread output for this client (best effort:
    /// `SO_SNDBUFFORCE` needs CAP_NET_ADMIN, `SO_SNDBUF` is capped by sysctl).
    pub fn enlarge_send_buffer(&self) {
        let size = SEND_BUFFER;
        for opt in [libc::SO_SNDBUFFORCE, libc::SO_SNDBUF] {
            // SAFETY: the option value is a c_int that outlives the call.
            let r = unsafe {
                libc::setsockopt(
                    self.fd(),
                    libc::SOL_SOCKET,
                    opt,
                    (&size as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if r == 0 {
                return;
            }
        }
    }

    /// Whether output is waiting for the socket to become writable.
    pub fn has_queued(&self) -> bool {
        self.sent < self.queue.len()
    }

    /// Whether the connection has nothing left to do.
    pub fn finished(&self) -> bool {
        self.dead || (self.phase == Phase::Closing && !self.has_queued())
    }

    /// Reads what the client sent; `Ok(0)` is its end of input.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.read(buf)
    }

    /// Sends an answer line and closes the connection after it.
    pub fn answer(&mut self, line: &str) {
        self.send(line.as_bytes(), b"\n");
        self.phase = Phase::Closing;
    }

    /// Sends `head` then `body`, queueing what the socket does not take now.
    pub fn send(&mut self, head: &[u8], body: &[u8]) {
        if self.dead {
            return;
        }
        let mut written = 0;
        if !self.has_queued() {
            let slices = [IoSlice::new(head), IoSlice::new(body)];
            match (&self.sock).write_vectored(&slices) {
                Ok(n) => written = n,
                Err(e) if is_retry(&e) => {}
                Err(_) => {
                    self.dead = true;
                    return;
                }
            }
        }
        let total = head.len() + body.len();
        if written == total {
            return;
        }
        if self.queue.len() - self.sent + total - written > MAX_QUEUE {
            self.dead = true;
            return;
        }
        for part in [head, body] {
            let skip = written.min(part.len());
            written -= skip;
            self.queue.extend_from_slice(&part[skip..]);
        }
    }

    /// Writes queued output (the socket became writable).
    pub fn flush(&mut self) {
        while self.has_queued() {
            match (&self.sock).write(&self.queue[self.sent..]) {
                Ok(0) => {
                    self.dead = true;
                    return;
                }
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_retry(&e) => return,
                Err(_) => {
                    self.dead = true;
                    return;
                }
            }
        }
        self.queue.clear();
        self.sent = 0;
        if self.queue.capacity() > KEEP_CAPACITY {
            self.queue = Vec::new();
        }
    }
}

/// Whether a failed socket call should simply be tried again later.
fn is_retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Client, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        (Client::new(a).unwrap(), b)
    }

    #[test]
    fn sends_parts_in_order_and_answers_close() {
        let (mut c, mut peer) = pair();
        c.send(b"[hdr]", b"payload");
        c.answer("ok");
        assert!(c.finished());
        drop(c);
        let mut got = String::new();
        peer.read_to_string(&mut got).unwrap();
        assert_eq!(got, "[hdr]payloadok\n");
    }

    #[test]
    fn queues_when_the_peer_is_slow_and_drops_it_on_overflow() {
        let (mut c, mut peer) = pair();
        let chunk = vec![7u8; 32 * 1024];
        let mut sent = 0;
        while !c.has_queued() {
            c.send(&[], &chunk);
            sent += chunk.len();
        }
        assert!(!c.dead);
        // Reading some lets the queue drain on flush.
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0;
        while c.has_queued() {
            got += peer.read(&mut buf).unwrap();
            c.flush();
        }
        assert!(!c.dead);
        // Keep sending without reading: the client is dropped, never blocks.
        for _ in 0..10_000 {
            c.send(&[], &chunk);
            if c.dead {
                break;
            }
        }
        assert!(c.dead);
        assert!(got <= sent);
    }

    #[test]
    fn a_gone_peer_marks_the_client_dead() {
        let (mut c, peer) = pair();
        drop(peer);
        c.send(b"x", &[]);
        assert!(c.dead && c.finished());
    }
}
