//! Turning the process the daemon spawned into a daemon-independent shim:
//! fork (the spawned parent exits at once), new session, `/` as working
//! directory, stdin and stderr on `/dev/null`, and the readiness pipe (the
//! original stdout) for the one `ok <pid>` / `error <msg>` line.
//!
//! Also the shim's signal dispositions: SIGTERM, SIGINT, SIGHUP and SIGPIPE
//! get an empty handler rather than `SIG_IGN`, because ignored dispositions
//! survive `execve` and the container's init is forked from the shim.

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::{fork, setsid, ForkResult};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DetachError {
    #[error("fork: {0}")]
    Fork(nix::Error),
    #[error("setsid: {0}")]
    Setsid(nix::Error),
    #[error("open /dev/null: {0}")]
    DevNull(std::io::Error),
    #[error("redirect stdio: {0}")]
    Redirect(nix::Error),
    #[error("install signal handler: {0}")]
    Signal(nix::Error),
}

/// The readiness pipe, still on stdout: the daemon reads one line from it.
///
/// It stays on fd 1 until the line is written (then `/dev/null` replaces
/// it), so that the container's init, a clone of the shim until its
/// `execve`, drops its copy when it sets up its own stdio: the daemon sees
/// end of file right after the line.
pub struct Ready {
    null: File,
}

impl Ready {
    /// Reports the container's pid and closes the pipe.
    pub fn ok(self, pid: i32) {
        self.line(&format!("ok {pid}\n"));
    }

    /// Reports why the container could not be created and closes the pipe.
    pub fn error(self, msg: &str) {
        // A newline in the message would end the line early.
        let msg = msg.replace('\n', " ");
        self.line(&format!("error {msg}\n"));
    }

    fn line(self, line: &str) {
        let mut out = std::io::stdout().lock();
        // Nobody to tell if the daemon is gone: the shim goes on regardless.
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
        let _ = nix::unistd::dup2(self.null.as_raw_fd(), 1);
    }
}

/// Where the process goes on after [`detach`].
pub enum Detached {
    /// The process the daemon spawned: exit 0 now.
    Parent,
    /// The shim proper, with the readiness pipe.
    Shim(Ready),
}

/// Forks the shim away from the daemon. In the child: new session, cwd `/`,
/// umask 022, stdin and stderr on `/dev/null`, stdout kept as [`Ready`].
pub fn detach() -> Result<Detached, DetachError> {
    close_inherited_fds();
    // SAFETY: the shim is single-threaded here, so the child may run any code.
    match unsafe { fork() }.map_err(DetachError::Fork)? {
        ForkResult::Parent { .. } => return Ok(Detached::Parent),
        ForkResult::Child => {}
    }
    setsid().map_err(DetachError::Setsid)?;
    // `/` always exists; failing to chdir only keeps a directory busy.
    let _ = std::env::set_current_dir("/");
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    let null = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(DetachError::DevNull)?;
    for fd in [0, 2] {
        nix::unistd::dup2(null.as_raw_fd(), fd).map_err(DetachError::Redirect)?;
    }
    Ok(Detached::Shim(Ready { null }))
}

/// Closes every descriptor above stderr that the spawner let through.
fn close_inherited_fds() {
    // SAFETY: close_range only closes descriptors; none above 2 is in use yet.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
}

extern "C" fn ignore(_: libc::c_int) {}

/// Makes the shim deaf to SIGTERM, SIGINT and SIGHUP (the daemon stops
/// containers through `kill` requests) and to SIGPIPE (a gone client shows up
/// as EPIPE instead). The handlers reset to default in the container's `execve`.
pub fn install_signal_handlers() -> Result<(), DetachError> {
    let action = SigAction::new(
        SigHandler::Handler(ignore),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGPIPE,
    ] {
        // SAFETY: the handler does nothing, so it is async-signal-safe.
        unsafe { sigaction(sig, &action) }.map_err(DetachError::Signal)?;
    }
    Ok(())
}
