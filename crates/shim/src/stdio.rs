//! A container process's stdio as the shim holds it (the init's and every
//! exec'd one's): three pipes (stdin only when the process keeps stdin
//! open) or one pty whose master stays here. The pty is opened by the
//! process itself in the container's devpts (`Stdio::Console`); its master
//! comes back from the runtime and becomes the shim's ends here.
//!
//! The process's ends are handed to `berth_runtime`; the shim's ends are
//! non-blocking and close-on-exec.

use berth_runtime::Stdio;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use std::os::fd::{AsRawFd, OwnedFd};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StdioError {
    #[error("create pipe: {0}")]
    Pipe(nix::Error),
    #[error("the runtime returned no terminal")]
    NoConsole,
    #[error("set non-blocking: {0}")]
    NonBlocking(nix::Error),
    #[error("duplicate pty master: {0}")]
    Dup(std::io::Error),
    #[error("resize tty: {0}")]
    Resize(nix::Error),
}

/// The shim's ends of the container's stdio.
pub struct ShimIo {
    /// Where attach input goes: the stdin pipe's write end, or a duplicate of
    /// the pty master; `None` when the container has no stdin.
    pub stdin: Option<OwnedFd>,
    /// Output per stream (stdout, stderr); with a tty only stdout (the master).
    pub outputs: [Option<OwnedFd>; 2],
    /// Whether the container has a tty (raw output, no stderr, resizable).
    pub tty: bool,
}

/// Creates the stdio pair: what the runtime gives the process, and what
/// the shim keeps; `None` for a terminal, whose master the runtime returns
/// (see [`from_console`]).
pub fn create(terminal: bool, open_stdin: bool) -> Result<(Stdio, Option<ShimIo>), StdioError> {
    if terminal {
        return Ok((Stdio::Console, None));
    }
    let stdin = if open_stdin {
        let (r, w) = pipe()?;
        set_nonblocking(&w)?;
        Some((r, w))
    } else {
        None
    };
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    set_nonblocking(&out_r)?;
    set_nonblocking(&err_r)?;
    let (container_in, shim_in) = match stdin {
        Some((r, w)) => (Some(r), Some(w)),
        None => (None, None),
    };
    Ok((
        Stdio::Pipes {
            stdin: container_in,
            stdout: out_w,
            stderr: err_w,
        },
        Some(ShimIo {
            stdin: shim_in,
            outputs: [Some(out_r), Some(err_r)],
            tty: false,
        }),
    ))
}

/// The shim's ends of a terminal whose master the runtime returned (`None`
/// when it returned none).
pub fn from_console(master: Option<OwnedFd>) -> Result<ShimIo, StdioError> {
    let master = master.ok_or(StdioError::NoConsole)?;
    set_nonblocking(&master)?;
    let input = master.try_clone().map_err(StdioError::Dup)?;
    Ok(ShimIo {
        stdin: Some(input),
        outputs: [Some(master), None],
        tty: true,
    })
}

/// Sets the window size of the pty whose master is `master`.
pub fn resize(master: &OwnedFd, rows: u16, cols: u16) -> Result<(), StdioError> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer, which is valid.
    let r = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
    if r < 0 {
        return Err(StdioError::Resize(nix::Error::last()));
    }
    Ok(())
}

fn pipe() -> Result<(OwnedFd, OwnedFd), StdioError> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(StdioError::Pipe)
}

fn set_nonblocking(fd: &OwnedFd) -> Result<(), StdioError> {
    let flags = fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL).map_err(StdioError::NonBlocking)?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFL(flags)).map_err(StdioError::NonBlocking)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn pipes_connect_container_and_shim_ends() {
        let (stdio, io) = create(false, true).unwrap();
        let io = io.unwrap();
        let Stdio::Pipes {
            stdin: Some(cin),
            stdout,
            stderr: _,
        } = stdio
        else {
            panic!("expected pipes with stdin");
        };
        assert!(!io.tty);
        std::fs::File::from(io.stdin.unwrap())
            .write_all(b"in")
            .unwrap();
        let mut got = [0u8; 2];
        std::fs::File::from(cin).read_exact(&mut got).unwrap();
        assert_eq!(&got, b"in");
        let mut writer = std::fs::File::from(stdout);
        writer.write_all(b"o").unwrap();
        let mut out = std::fs::File::from(io.outputs[0].as_ref().unwrap().try_clone().unwrap());
        let mut b = [0u8; 1];
        assert_eq!(out.read(&mut b).unwrap(), 1);
        // Non-blocking: nothing more to read is EAGAIN, not a hang.
        assert_eq!(
            out.read(&mut b).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        drop(writer);
        assert_eq!(out.read(&mut b).unwrap(), 0);
    }

    #[test]
    fn without_open_stdin_there_is_no_stdin_pipe() {
        let (stdio, io) = create(false, false).unwrap();
        assert!(matches!(stdio, Stdio::Pipes { stdin: None, .. }));
        assert!(io.unwrap().stdin.is_none());
    }

    #[test]
    fn a_terminal_comes_from_the_runtime_and_resizes() {
        let (stdio, io) = create(true, false).unwrap();
        assert!(matches!(stdio, Stdio::Console) && io.is_none());
        assert!(matches!(from_console(None), Err(StdioError::NoConsole)));
        let pty = nix::pty::openpty(None, None).unwrap();
        let io = from_console(Some(pty.master)).unwrap();
        let slave = pty.slave;
        assert!(io.tty && io.outputs[1].is_none() && io.stdin.is_some());
        resize(io.outputs[0].as_ref().unwrap(), 24, 80).unwrap();
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one winsize into `ws`.
        assert_eq!(
            unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) },
            0
        );
        assert_eq!((ws.ws_row, ws.ws_col), (24, 80));
    }
}
