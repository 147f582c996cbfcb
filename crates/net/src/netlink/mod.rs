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
        Self::open_protocol(libc::NETLINK_ROUTE)
    }

    /// A socket of another netlink family (`NETLINK_NETFILTER`).
    pub fn open_protocol(protocol: libc::c_int) -> Result<Self, NetlinkError> {
        // SAFETY: plain socket(2) call; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                protocol,
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
        // The kernel answers at once; never wait forever on a lost answer.
        let timeout = libc::timeval {
            tv_sec: 10,
            tv_usec: 0,
        };
        // SAFETY: valid fd, pointer to a timeval of the given size.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
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
        self.send(&build(seq).with_flags(msg::consts::NLM_F_ACK).finish())?;
        self.wait(seq..=seq, op, |r| match r {
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
        self.wait(seq..=seq, op, |r| match r {
            Reply::Data { payload, .. } => Some(Ok(payload.to_vec())),
            _ => None,
        })
    }

    /// Sends a dump request built by `build(seq)` and returns the payloads
    /// of every data message until `NLMSG_DONE`.
    pub fn dump(
        &mut self,
        op: &str,
        build: impl FnOnce(u32) -> Msg,
    ) -> Result<Vec<Vec<u8>>, NetlinkError> {
        let seq = self.next_seq();
        self.send(&build(seq).with_flags(msg::consts::NLM_F_DUMP).finish())?;
        let mut all = Vec::new();
        self.wait(seq..=seq, op, |r| match r {
            Reply::Data { payload, .. } => {
                all.push(payload.to_vec());
                None
            }
            Reply::Done => Some(Ok(())),
            _ => None,
        })?;
        Ok(all)
    }

    /// Raises the send buffer for a large batch (`SO_SNDBUFFORCE`, allowed
    /// to root; the datagram must fit in one buffer). Failure shows as
    /// `EMSGSIZE` on send.
    fn grow_send_buffer(&self, bytes: usize) {
        let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        // SAFETY: valid fd, pointer to a c_int of the given size.
        unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUFFORCE,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
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
    /// Sends `msgs` as one datagram (a netfilter batch), acknowledged as a
    /// whole through the last message, which gets `NLM_F_ACK`; an error for
    /// any message of the batch is returned.
    /// The messages' own sequence numbers are replaced.
    pub fn batch(&mut self, op: &str, msgs: Vec<Msg>) -> Result<(), NetlinkError> {
        let first = self.seq.wrapping_add(1);
        let count = msgs.len();
        let mut buf = Vec::new();
        for (i, m) in msgs.into_iter().enumerate() {
            let m = m.with_seq(self.next_seq());
            let m = if i + 1 == count {
                m.with_flags(msg::consts::NLM_F_ACK)
            } else {
                m
            };
            buf.extend_from_slice(&m.finish());
        }
        if buf.len() > 64 * 1024 {
            self.grow_send_buffer(buf.len() * 2);
        }
        self.send(&buf)?;
        let last = self.seq;
        self.wait(first..=last, op, |r| match r {
            Reply::Ack => Some(Ok(())),
            _ => None,
        })
    }

    fn wait<T>(
        &self,
        seqs: std::ops::RangeInclusive<u32>,
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
                if !seqs.contains(&s) {
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
