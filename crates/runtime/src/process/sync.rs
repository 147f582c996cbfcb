//! The one channel between the parent and the container init: a
//! `SOCK_SEQPACKET | SOCK_CLOEXEC` socketpair carrying typed JSON messages,
//! one per packet. The protocol has numbered sync points:
//!
//! 1. parent → init `Continue`: the init is in its cgroup.
//! 2. init → parent `Ready` (or `Failed`): the init is set up and blocks.
//! 3. parent → init `Start`: go on to `execve`.
//! 4. init → parent: end of file when `execve` closed the init's end
//!    (it is close-on-exec), or `Failed` when `execve` failed.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use serde::{Deserialize, Serialize};

use super::failure::InitError;

/// Largest message: an error with a long path still fits.
const MAX_MESSAGE: usize = 8192;

#[derive(Debug, Serialize, Deserialize)]
pub enum Message {
    Continue,
    Ready,
    Start,
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
        let bytes = serde_json::to_vec(message).map_err(SyncError::Encode)?;
        loop {
            // SAFETY: bytes is a valid buffer of bytes.len() bytes.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n >= 0 {
                return Ok(());
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(SyncError::Send(err));
            }
        }
    }

    /// The next message, or `None` at end of file (the peer closed its end).
    pub fn recv(&self) -> Result<Option<Message>, SyncError> {
        let mut buf = [0u8; MAX_MESSAGE];
        loop {
            // SAFETY: buf is a valid writable buffer of buf.len() bytes.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n > 0 {
                let len = usize::try_from(n).unwrap_or(0);
                return serde_json::from_slice(&buf[..len])
                    .map(Some)
                    .map_err(SyncError::Decode);
            }
            if n == 0 {
                return Ok(None);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => continue,
                // The peer died: for us that is the same as end of file.
                Some(libc::ECONNRESET) => return Ok(None),
                _ => return Err(SyncError::Receive(err)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::failure::Stage;

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
}
