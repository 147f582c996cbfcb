//! The one channel between the parent and the container init: a
//! `SOCK_SEQPACKET | SOCK_CLOEXEC` socketpair carrying typed JSON messages,
//! one per packet. The protocol has numbered sync points:
//!
//! 1. parent → init `Continue`: the init is in its cgroup.
//! 2. init → parent `Ready` (or `Failed`): the init is set up and blocks.
//! 3. parent → init `Start`: go on to `execve`.
//! 4. init → parent: end of file when `execve` closed the init's end
//!    (it is close-on-exec), or `Failed` when `execve` failed.
//!
//! With a terminal, the init sends `Console` before `Ready`, carrying the
//! master of the pty it opened in the container's devpts (`SCM_RIGHTS`).
//! An exec'd process (see `crate::exec`) uses points 1 and 4 only, with
//! its `Console` in between.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use serde::{Deserialize, Serialize};

use super::failure::InitError;

/// Largest message: an error with a long path still fits.
const MAX_MESSAGE: usize = 8192;

#[derive(Debug, Serialize, Deserialize)]
pub enum Message {
    Continue,
    Ready,
    Start,
    /// The pty master rides along with this message.
    Console,
    Failed(InitError),
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("create socketpair: {0}")]
    Socketpair(#[source] io::Error),
    #[error("send: {0}")]
    Send(#[source] io::Error),
    #[error("receive: {0}")]
    Receive(#[source] io::Error),
    #[error("encode message: {0}")]
    Encode(#[source] serde_json::Error),
    #[error("decode message: {0}")]
    Decode(#[source] serde_json::Error),
}

/// One end of the socketpair.
#[derive(Debug)]
pub struct Channel {
    fd: OwnedFd,
}

impl AsRawFd for Channel {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

impl Channel {
    /// Returns (parent end, init end); both close on exec.
    pub fn pair() -> Result<(Channel, Channel), SyncError> {
        let mut fds = [0; 2];
        // SAFETY: fds is a valid array of two ints for the kernel to fill.
        let rc = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        if rc < 0 {
            return Err(SyncError::Socketpair(io::Error::last_os_error()));
        }
        // SAFETY: socketpair succeeded, so both fds are open and ours alone.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok((Channel { fd: a }, Channel { fd: b }))
    }

    pub fn send(&self, message: &Message) -> Result<(), SyncError> {
        self.send_with(message, &[])
    }

    /// Sends `message` with `fd` attached (`SCM_RIGHTS`).
    pub fn send_fd(&self, message: &Message, fd: BorrowedFd<'_>) -> Result<(), SyncError> {
        self.send_with(message, &[fd.as_raw_fd()])
    }

    fn send_with(&self, message: &Message, fds: &[RawFd]) -> Result<(), SyncError> {
        let bytes = serde_json::to_vec(message).map_err(SyncError::Encode)?;
        let iov = [IoSlice::new(&bytes)];
        let rights = [ControlMessage::ScmRights(fds)];
        let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &rights };
        loop {
            match sendmsg::<()>(
                self.fd.as_raw_fd(),
                &iov,
                cmsgs,
                MsgFlags::MSG_NOSIGNAL,
                None,
            ) {
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(SyncError::Send(e.into())),
            }
        }
    }

    /// The next message, or `None` at end of file (the peer closed its end).
    /// A descriptor sent along is closed.
    pub fn recv(&self) -> Result<Option<Message>, SyncError> {
        Ok(self.recv_fd()?.map(|(m, _)| m))
    }

    /// The next message and the descriptor sent along with it, if any;
    /// `None` at end of file.
    pub fn recv_fd(&self) -> Result<Option<(Message, Option<OwnedFd>)>, SyncError> {
        let mut buf = [0u8; MAX_MESSAGE];
        loop {
            let mut space = nix::cmsg_space!([RawFd; 1]);
            let mut iov = [IoSliceMut::new(&mut buf)];
            let received = recvmsg::<()>(
                self.fd.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            );
            let (len, fd) = match received {
                Ok(msg) => {
                    let mut fd = None;
                    for c in msg.cmsgs().map_err(|e| SyncError::Receive(e.into()))? {
                        if let ControlMessageOwned::ScmRights(fds) = c {
                            for raw in fds {
                                // SAFETY: the kernel installed this descriptor
                                // for us; nobody else owns it.
                                let owned = unsafe { OwnedFd::from_raw_fd(raw) };
                                fd.get_or_insert(owned);
                            }
                        }
                    }
                    (msg.bytes, fd)
                }
                Err(nix::errno::Errno::EINTR) => continue,
                // The peer died: for us that is the same as end of file.
                Err(nix::errno::Errno::ECONNRESET) => return Ok(None),
                Err(e) => return Err(SyncError::Receive(e.into())),
            };
            if len == 0 {
                return Ok(None);
            }
            return serde_json::from_slice(&buf[..len])
                .map(|m| Some((m, fd)))
                .map_err(SyncError::Decode);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::failure::Stage;
    use std::os::fd::AsFd;

    #[test]
    fn messages_cross_and_eof_is_none() {
        let (a, b) = Channel::pair().unwrap();
        a.send(&Message::Continue).unwrap();
        assert!(matches!(b.recv().unwrap(), Some(Message::Continue)));
        b.send(&Message::Failed(InitError::plain(Stage::Rootfs, "boom")))
            .unwrap();
        match a.recv().unwrap() {
            Some(Message::Failed(e)) => assert_eq!(e.message, "boom"),
            other => panic!("unexpected {other:?}"),
        }
        drop(b);
        assert!(a.recv().unwrap().is_none());
    }

    #[test]
    fn a_descriptor_crosses_with_its_message() {
        let (a, b) = Channel::pair().unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        a.send_fd(&Message::Console, w.as_fd()).unwrap();
        drop(w);
        let (m, fd) = b.recv_fd().unwrap().unwrap();
        assert!(matches!(m, Message::Console));
        let fd = fd.expect("a descriptor");
        nix::unistd::write(&fd, b"x").unwrap();
        let mut got = [0u8; 1];
        assert_eq!(nix::unistd::read(r.as_raw_fd(), &mut got).unwrap(), 1);
        // A plain message carries none.
        a.send(&Message::Ready).unwrap();
        assert!(b.recv_fd().unwrap().unwrap().1.is_none());
    }
}
