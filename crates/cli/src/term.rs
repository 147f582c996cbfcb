//! The local terminal: whether a stream is a tty, its size, and raw mode
//! for `-t` sessions (restored when the guard drops).

use nix::sys::termios::{self, SetArg, Termios};
use std::os::fd::{AsFd, BorrowedFd};

/// Whether `fd` is a terminal.
pub fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor number.
    unsafe { libc::isatty(fd) == 1 }
}

/// `(rows, cols)` of the terminal on `fd`.
pub fn size(fd: i32) -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we pass.
    let r = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
    if r == 0 && ws.ws_row > 0 {
        Some((ws.ws_row, ws.ws_col))
    } else {
        None
    }
}

/// Restores the saved terminal mode on drop.
pub struct RawGuard {
    fd: i32,
    saved: Termios,
}

/// Puts the terminal on `fd` into raw mode.
pub fn make_raw(fd: i32) -> Option<RawGuard> {
    // SAFETY: the descriptor stays open for the life of the process.
    let bfd = unsafe { BorrowedFd::borrow_raw(fd) };
    let saved = termios::tcgetattr(bfd).ok()?;
    let mut raw = saved.clone();
    termios::cfmakeraw(&mut raw);
    termios::tcsetattr(bfd.as_fd(), SetArg::TCSANOW, &raw).ok()?;
    Some(RawGuard { fd, saved })
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        // SAFETY: see make_raw.
        let bfd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let _ = termios::tcsetattr(bfd, SetArg::TCSANOW, &self.saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_are_not_terminals() {
        let (r, w) = nix::unistd::pipe().unwrap();
        use std::os::fd::AsRawFd;
        assert!(!is_tty(r.as_raw_fd()));
        assert!(size(w.as_raw_fd()).is_none());
        assert!(make_raw(r.as_raw_fd()).is_none());
    }
}
