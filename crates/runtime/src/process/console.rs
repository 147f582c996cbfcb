//! The terminal of a container process, opened where runc opens it: from
//! the container's own `/dev/ptmx` once its devpts instance is mounted, so
//! that the process sees `/dev/pts/N` as Docker's do. The master is sent to
//! the parent over the sync socket; the slave becomes the controlling
//! terminal and stdio (see `super::launch::take_terminal`).

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

use super::failure::{Context, InitError, Stage};
use super::launch;
use super::sync::{Channel, Message};

/// A pty pair of the container's devpts.
pub struct Console {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    /// The slave's path inside the container (`/dev/pts/0`).
    pub path: PathBuf,
}

fn ioctl_int(fd: &OwnedFd, request: libc::Ioctl, arg: libc::c_int) -> std::io::Result<i32> {
    // SAFETY: an ioctl whose argument is an int (by value).
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), request, arg) };
    if r < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(r)
}

/// Opens a pty from `/dev/ptmx` of the current mount namespace, with the
/// window size `(rows, cols)` when one is given.
pub fn open(size: Option<(u16, u16)>) -> Result<Console, InitError> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    let master: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags_noctty()
        .open("/dev/ptmx")
        .at(Stage::Stdio, || "open /dev/ptmx")?
        .into();
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads one int from the pointer, which is valid.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(std::io::Error::last_os_error()).at(Stage::Stdio, || "unlock pty");
    }
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes one unsigned int into `number`.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) } < 0 {
        return Err(std::io::Error::last_os_error()).at(Stage::Stdio, || "get pty number");
    }
    let path = PathBuf::from(format!("/dev/pts/{number}"));
    // The peer of this very master, without a path lookup; by path on
    // kernels before 4.13.
    let slave = match ioctl_int(&master, libc::TIOCGPTPEER, flags) {
        // SAFETY: TIOCGPTPEER returned a new descriptor that we own.
        Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd) },
        Err(_) => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags_noctty()
            .open(&path)
            .at(Stage::Stdio, || format!("open {}", path.display()))?
            .into(),
    };
    if let Some((rows, cols)) = size {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize from the pointer, which is valid.
        if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) } < 0 {
            return Err(std::io::Error::last_os_error()).at(Stage::Stdio, || "set window size");
        }
    }
    Ok(Console {
        master,
        slave,
        path,
    })
}

/// `O_NOCTTY` for `OpenOptions` (close-on-exec is already std's default).
trait NoCtty {
    fn custom_flags_noctty(&mut self) -> &mut Self;
}

impl NoCtty for std::fs::OpenOptions {
    fn custom_flags_noctty(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::custom_flags(self, libc::O_NOCTTY)
    }
}

/// Sends the master to the parent and makes the slave this process's
/// controlling terminal and stdio.
pub fn hand_over(console: Console, chan: &Channel) -> Result<(), InitError> {
    chan.send_fd(&Message::Console, console.master.as_fd())
        .map_err(|e| InitError::plain(Stage::Stdio, format!("send console: {e}")))?;
    drop(console.master);
    launch::take_terminal(console.slave)
}
