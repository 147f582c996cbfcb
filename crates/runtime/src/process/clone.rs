//! `clone3` with `CLONE_PIDFD`, falling back to `clone`: a fork that can
//! create namespaces and hands back a pidfd. The child runs a closure on a
//! copy of the caller's memory and never returns into the caller's code.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

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

/// `CLONE_INTO_CGROUP` of `linux/sched.h` (clone3 only).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Clones the calling process with the namespace `flags`. In the child,
/// `child` runs and its result becomes the exit status; in the parent the
/// closure is dropped unused. The caller must be single-threaded.
pub fn clone_init<F: FnOnce() -> i32>(flags: u64, child: F) -> io::Result<Child> {
    clone_init_into(flags, None, child)
}

/// [`clone_init`], with the child born in the cgroup2 directory `cgroup`
/// (`CLONE_INTO_CGROUP`) when given. That needs `clone3`: without it (or
/// when the kernel refuses the flag) the error is returned and nothing was
/// cloned, so the caller can clone without it and move the child itself.
pub fn clone_init_into<F: FnOnce() -> i32>(
    flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
    child: F,
) -> io::Result<Child> {
    let mut pidfd: libc::c_int = -1;
    let flags = flags | libc::CLONE_PIDFD as u64;
    let mut args = CloneArgs {
        flags,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        exit_signal: libc::SIGCHLD as u64,
        ..CloneArgs::default()
    };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: args is a valid clone_args; without a stack the child runs on
    // a copy of our stack, like fork. The caller is single-threaded.
    let mut ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if ret < 0
        && cgroup.is_none()
        && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS)
    {
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
    use std::os::fd::AsFd;

    #[test]
    fn child_is_born_in_the_given_cgroup2_directory() {
        // The unified hierarchy of this host, when it has one.
        let root = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
            .into_iter()
            .map(std::path::Path::new)
            .find(|p| crate::cgroups::is_cgroup2(p));
        let Some(root) = root else {
            eprintln!("skip: no cgroup2 hierarchy");
            return;
        };
        let dir = root.join(format!("berth-clone-test-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let fd: OwnedFd = std::fs::File::open(&dir).unwrap().into();
        let want = format!("0::/{}\n", dir.strip_prefix(root).unwrap().display());
        let want = want.as_bytes();
        // The child only makes raw calls (no allocation: the test harness
        // is multi-threaded) and exits 0 when /proc/self/cgroup has `want`.
        let child = clone_init_into(0, Some(fd.as_fd()), || {
            let mut buf = [0u8; 4096];
            // SAFETY: a NUL-terminated path; reading into our stack buffer.
            let n = unsafe {
                let f = libc::open(c"/proc/self/cgroup".as_ptr(), libc::O_RDONLY);
                libc::read(f, buf.as_mut_ptr().cast(), buf.len())
            };
            let text = &buf[..n.max(0) as usize];
            i32::from(!text.windows(want.len()).any(|w| w == want))
        });
        let status = child.map(|c| {
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(c.pid, &mut status, 0) };
            status
        });
        let _ = std::fs::remove_dir(&dir);
        let status = status.unwrap();
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    }

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
