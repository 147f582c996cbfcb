//! A small `NETLINK_ROUTE` client: one socket in the calling thread's network
//! namespace, requests answered by an ack or an errno (with the kernel's
//! extended-ack text). Hand-written rather than `rtnetlink`: berth needs
//! half a dozen synchronous requests, and this keeps the dependency tree and
//! the per-container cost (no `ip` forks, no async runtime) small.

pub mod msg;
mod ops;

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub use ops::VethSpec;

use msg::{parse_replies, Msg, Reply};

/// A failed netlink request.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("netlink socket: {0}")]
    Socket(#[source] io::Error),
    #[error("{op}: {}{}", errno_text(*.errno), .msg.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel {
        op: String,
        errno: i32,
        msg: Option<String>,
    },
    #[error("{op}: unexpected answer from the kernel")]
    Protocol { op: String },
}

impl NetlinkError {
    /// The errno the kernel answered with, if the request reached it.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

fn errno_text(errno: i32) -> &'static str {
    nix::errno::Errno::from_raw(errno).desc()
}

const SOL_NETLINK: libc::c_int = 270;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

/// A `NETLINK_ROUTE` socket bound to the network namespace of the thread
/// that opened it (it stays there even if that thread changes namespace or
/// ends).
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

impl Socket {
    pub fn open() -> Result<Self, NetlinkError> {
        // SAFETY: plain socket(2) call; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(NetlinkError::Socket(io::Error::last_os_error()));
        }
        // SAFETY: raw is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        for opt in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let one: libc::c_int = 1;
            // SAFETY: valid fd, pointer to a c_int of the given size. Failure
            // only loses the extended error text, so it is ignored.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    SOL_NETLINK,
                    opt,
                    (&one as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                );
            }
        }
        Ok(Socket { fd, seq: 0 })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    /// Sends a request built by `build(seq)` with `NLM_F_ACK` and waits for
    /// the kernel's ack.
    pub fn ack(&mut self, op: &str, build: impl FnOnce(u32) -> Msg) -> Result<(), NetlinkError> {
        let seq = self.next_seq();
        self.send(&build(seq).finish())?;
        self.wait(seq, op, |r| match r {
            Reply::Ack => Some(Ok(())),
            _ => None,
        })
    }

    /// Sends a request built by `build(seq)` (without `NLM_F_ACK`) and
    /// returns the payload of the first data message of the answer.
    pub fn get(
        &mut self,
        op: &str,
        build: impl FnOnce(u32) -> Msg,
    ) -> Result<Vec<u8>, NetlinkError> {
        let seq = self.next_seq();
        self.send(&build(seq).finish())?;
        self.wait(seq, op, |r| match r {
            Reply::Data { payload, .. } => Some(Ok(payload.to_vec())),
            _ => None,
        })
    }

    fn send(&self, buf: &[u8]) -> Result<(), NetlinkError> {
        // SAFETY: zeroed sockaddr_nl with the family set addresses the kernel.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: buf and addr are valid for the lengths passed.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                buf.as_ptr().cast(),
                buf.len(),
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if n < 0 {
            return Err(NetlinkError::Socket(io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Reads answers until one for `seq` decides: `pick` returns `Some` for
    /// the reply it wants; errors end the wait with `NetlinkError::Kernel`.
    fn wait<T>(
        &self,
        seq: u32,
        op: &str,
        mut pick: impl FnMut(Reply<'_>) -> Option<Result<T, NetlinkError>>,
    ) -> Result<T, NetlinkError> {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: buf is valid for writes of its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(NetlinkError::Socket(e));
            }
            for (s, reply) in parse_replies(&buf[..n as usize]) {
                if s != seq {
                    continue;
                }
                if let Reply::Error { errno, msg } = reply {
                    return Err(NetlinkError::Kernel {
                        op: op.to_string(),
                        errno,
                        msg,
                    });
                }
                let done = matches!(reply, Reply::Done);
                if let Some(r) = pick(reply) {
                    return r;
                }
                if done {
                    return Err(NetlinkError::Protocol { op: op.to_string() });
                }
            }
        }
    }
}
