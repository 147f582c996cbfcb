//! `clone3` with `CLONE_PIDFD`, falling back to `clone`: a fork that can
//! create namespaces and hands back a pidfd. The child runs a closure on a
//! copy of the caller's memory and never returns into the caller's code.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// `struct clone_args` of `linux/sched.h` (version 2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// The cloned process, seen from the parent.
#[derive(Debug)]
pub struct Child {
    pub pid: i32,
    pub pidfd: OwnedFd,
}

/// Clones the calling process with the namespace `flags`. In the child,
/// `child` runs and its result becomes the exit status; in the parent the
/// closure is dropped unused. The caller must be single-threaded.
pub fn clone_init<F: FnOnce() -> i32>(flags: u64, child: F) -> io::Result<Child> {
    let mut pidfd: libc::c_int = -1;
    let flags = flags | libc::CLONE_PIDFD as u64;
    let mut args = CloneArgs {
        flags,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    // SAFETY: args is a valid clone_args; without a stack the child runs on
    // a copy of our stack, like fork. The caller is single-threaded.
    let mut ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
        // SAFETY: clone(flags, stack=NULL, parent_tid=&pidfd, child_tid=NULL,
        // tls=0) is fork-like; CLONE_PIDFD stores the pidfd in parent_tid.
        ret = unsafe {
            libc::syscall(
                libc::SYS_clone,
                flags | libc::SIGCHLD as u64,
                0usize,
                &mut pidfd as *mut libc::c_int,
                0usize,
                0usize,
            )
        };
    }
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    if ret == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(1);
        // SAFETY: we are the child; _exit skips the parent's atexit handlers
        // and stdio buffers, which belong to the parent.
        unsafe { libc::_exit(code) }
    }
    let pid = i32::try_from(ret).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: CLONE_PIDFD gave us a new pidfd that nobody else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    Ok(Child { pid, pidfd })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_exit_status_reaches_parent() {
        let child = clone_init(0, || 7).unwrap();
        let mut status = 0;
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(child.pid, &mut status, 0) };
        assert_eq!(r, child.pid);
        assert!(libc::WIFEXITED(status));
        assert_eq!(libc::WEXITSTATUS(status), 7);
    }
}
