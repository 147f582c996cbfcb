//! What every container process does on its way to `execve`, the init and
//! exec'd processes alike: default signal dispositions, stdio (pipes, or a
//! terminal that becomes the controlling one), and once inside the
//! container the last steps: OOM score, rlimits, umask, user, working
//! directory, `HOME`, no_new_privs, seccomp and capabilities, with the
//! executable resolved before `execve` so that 126/127 are reported first.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::sys::stat::{umask, Mode};

use super::failure::{Context, Errno, InitError, Stage};
use super::lookup::{exec_failed, find_executable, path_of};
use crate::caps::{self, CapSets};
use crate::container::Stdio;
use crate::rlimit;
use crate::seccomp_bpf::BpfProgram;
use crate::spec::Process;
use crate::user::{self, ExecUser};

/// Everything `execve` needs, prepared before reporting ready.
pub struct ReadyToExec {
    path: CString,
    display_path: PathBuf,
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
    /// Loaded right before execve (no_new_privileges set).
    seccomp: Option<BpfProgram>,
}

impl ReadyToExec {
    /// Loads the late seccomp filter and execs; returns only on failure.
    pub fn exec(self) -> InitError {
        if let Some(filter) = &self.seccomp {
            if let Err(e) = filter.load() {
                return InitError::new(Stage::Seccomp, "load seccomp filter", e.errno());
            }
        }
        // SAFETY: path, argv and envp are NUL-terminated C strings, and the
        // pointer arrays are NULL-terminated and point into _argv/_envp.
        unsafe {
            libc::execve(
                self.path.as_ptr(),
                self.argv_ptrs.as_ptr(),
                self.envp_ptrs.as_ptr(),
            )
        };
        let errno = std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        exec_failed(&self.display_path, errno)
    }
}

fn c_string(stage: Stage, s: &[u8]) -> Result<CString, InitError> {
    CString::new(s).map_err(|_| InitError::plain(stage, "string contains a NUL byte"))
}

/// The last steps inside the container, in the order that keeps the
/// privileges each one needs: `process` is what runs, `wanted_user` the
/// `user[:group]` to resolve against the container's passwd and group files,
/// `filter` the seccomp filter, compiled by the parent before the clone.
pub fn prepare_with(
    process: &Process,
    wanted_user: &str,
    mut filter: Option<BpfProgram>,
) -> Result<ReadyToExec, InitError> {
    if let Some(adj) = process.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .at(Stage::Rlimits, || "write oom_score_adj")?;
    }
    rlimit::apply(&process.rlimits)?;
    umask(Mode::from_bits_truncate(
        process.user.umask.unwrap_or(0o022),
    ));
    let user = resolve_user(wanted_user, &process.user.additional_gids)?;
    enter_cwd(&process.cwd)?;
    let mut env = process.env.clone();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    if process.no_new_privileges {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(std::io::Error::last_os_error())
                .at(Stage::Capabilities, || "set no_new_privs");
        }
    }
    berth_util::trace::mark("init.seccomp-load");
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
    // now, while we still have it (the setup calls left must be allowed).
    if !process.no_new_privileges {
        if let Some(f) = filter.take() {
            f.load().at(Stage::Seccomp, || "load seccomp filter")?;
        }
    }
    berth_util::trace::mark("init.seccomp-loaded");
    switch_user(process, &user)?;
    let arg0 = process
        .args
        .first()
        .ok_or_else(|| InitError::exec("exec: no command specified", 127))?;
    let found = find_executable(arg0, path_of(&env))?;
    let argv = process
        .args
        .iter()
        .map(|a| c_string(Stage::Exec, a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = env
        .iter()
        .map(|e| c_string(Stage::Exec, e.as_bytes()))
        .collect::<Result<Vec<_>, _>>()?;
    let null_terminated = |v: &[CString]| {
        v.iter()
            .map(|c| c.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect::<Vec<_>>()
    };
    let ready = ReadyToExec {
        path: c_string(Stage::Exec, found.as_os_str().as_bytes())?,
        display_path: found,
        argv_ptrs: null_terminated(&argv),
        envp_ptrs: null_terminated(&envp),
        _argv: argv,
        _envp: envp,
        seccomp: filter,
    };
    // Every fd but stdio closes at execve (the sync socket already does).
    // SAFETY: marks fds close-on-exec; closes nothing now.
    if unsafe { libc::close_range(3, libc::c_uint::MAX, libc::CLOSE_RANGE_CLOEXEC as i32) } < 0 {
        return Err(std::io::Error::last_os_error()).at(Stage::Stdio, || "close_range");
    }
    Ok(ready)
}

/// Joins the cgroups the parent chose (writes `0` to each v1 `tasks`
/// file): the first step of an init or an exec'd process, before anything
/// it does is charged elsewhere.
pub fn join_cgroups(files: &[PathBuf]) -> Result<(), InitError> {
    crate::cgroups::join::join_self(files).map_err(|(file, e)| {
        InitError::new(
            Stage::Cgroup,
            format!("join cgroup {}", file.display()),
            e.errno(),
        )
    })
}

/// Default dispositions and an empty mask: the caller may ignore SIGPIPE
/// (Rust programs do) or block signals, and ignored or blocked signals
/// would survive `execve` into the container.
pub fn reset_signals() -> Result<(), InitError> {
    /// The kernel's `struct sigaction` (x86-64 layout). Every field but the
    /// handler is zero and SIG_DFL is 0, so on arches without `sa_restorer`
    /// the same bytes mean the same thing.
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: u64,
        restorer: usize,
        mask: u64,
    }
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // glibc refuses to touch its internal signals (32, 33), so the raw call.
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: a valid sigaction of the kernel's layout, no old action;
        // the default disposition involves no handler code.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigaction,
                sig,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                8usize,
            )
        };
    }
    nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    )
    .at(Stage::Stdio, || "clear signal mask")
}

/// What [`setup_stdio`] left to do about a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminal {
    /// Pipes: nothing.
    None,
    /// The caller's pty slave is stdio already; bind it at `/dev/console`.
    Host,
    /// Stdio is `/dev/null` for now: open the pty in the container's devpts
    /// (see `super::console`) once it is mounted.
    InContainer,
}

/// New session; stdio onto 0, 1, 2.
pub fn setup_stdio(stdio: Stdio) -> Result<Terminal, InitError> {
    nix::unistd::setsid().at(Stage::Stdio, || "setsid")?;
    match stdio {
        Stdio::Pipes {
            stdin,
            stdout,
            stderr,
        } => {
            let stdin = match stdin {
                Some(fd) => fd,
                None => dev_null(false)?,
            };
            install_stdio([stdin, stdout, stderr])?;
            Ok(Terminal::None)
        }
        Stdio::Terminal { slave } => {
            take_terminal(slave)?;
            Ok(Terminal::Host)
        }
        Stdio::Console => {
            // Whatever the caller has on 0, 1, 2 (a readiness pipe) must
            // not stay open in the container until the console exists.
            install_stdio([dev_null(false)?, dev_null(true)?, dev_null(true)?])?;
            Ok(Terminal::InContainer)
        }
    }
}

fn dev_null(write: bool) -> Result<OwnedFd, InitError> {
    Ok(std::fs::OpenOptions::new()
        .read(!write)
        .write(write)
        .open("/dev/null")
        .at(Stage::Stdio, || "open /dev/null")?
        .into())
}

/// Makes `slave` the controlling terminal (the caller leads a new
/// session) and stdio 0, 1, 2.
pub fn take_terminal(slave: OwnedFd) -> Result<(), InitError> {
    // SAFETY: ioctl on an fd we own; argument 0 = do not steal.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(std::io::Error::last_os_error())
            .at(Stage::Stdio, || "set controlling terminal");
    }
    let b = slave.try_clone().at(Stage::Stdio, || "dup terminal")?;
    let c = slave.try_clone().at(Stage::Stdio, || "dup terminal")?;
    install_stdio([slave, b, c])
}

/// Puts the three descriptors on 0, 1, 2 (not close-on-exec).
fn install_stdio(fds: [OwnedFd; 3]) -> Result<(), InitError> {
    // Move everything above 2 first, so no target clobbers a source.
    let mut high = Vec::with_capacity(3);
    for fd in &fds {
        // SAFETY: duplicating an fd we own.
        let h = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
        if h < 0 {
            return Err(std::io::Error::last_os_error()).at(Stage::Stdio, || "dup stdio");
        }
        // SAFETY: h is a new fd that we own.
        high.push(unsafe { OwnedFd::from_raw_fd(h) });
    }
    drop(fds);
    for (target, fd) in high.iter().enumerate() {
        let target = target as i32;
        // SAFETY: dup2 onto 0..2; the new fd is not close-on-exec.
        if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
            return Err(std::io::Error::last_os_error()).at(Stage::Stdio, || "dup2 stdio");
        }
    }
    Ok(())
}

fn resolve_user(wanted: &str, additional_gids: &[u32]) -> Result<ExecUser, InitError> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    user::resolve(wanted, additional_gids, &passwd, &group)
        .map_err(|e| InitError::plain(Stage::User, e.to_string()))
}

fn enter_cwd(cwd: &str) -> Result<(), InitError> {
    let cwd = if cwd.is_empty() { "/" } else { cwd };
    nix::unistd::chdir(cwd).at(Stage::Cwd, || {
        format!("chdir to cwd ({cwd:?}) set in config.json failed")
    })
}

/// Bounding set, then uid/gid/groups with caps kept, then the final sets.
fn switch_user(process: &Process, user: &ExecUser) -> Result<(), InitError> {
    let last = caps::last_cap();
    let sets = process
        .capabilities
        .as_ref()
        .map(|c| CapSets::from_spec(c, last));
    if let Some(s) = &sets {
        caps::drop_bounding(s.bounding, last).at(Stage::Capabilities, || "drop bounding set")?;
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } < 0 {
            return Err(std::io::Error::last_os_error()).at(Stage::Capabilities, || "set keepcaps");
        }
    }
    set_ids(user)?;
    if let Some(s) = &sets {
        caps::apply(s).at(Stage::Capabilities, || "set capabilities")?;
    }
    Ok(())
}

/// setgroups, setresgid, setresuid as raw syscalls: glibc's wrappers
/// broadcast to every thread glibc knows of, and in a process cloned from
/// a multi-threaded one those threads do not exist (it would wait forever).
fn set_ids(user: &ExecUser) -> Result<(), InitError> {
    let check = |rc: libc::c_long, what: &dyn Fn() -> String| {
        if rc < 0 {
            Err(std::io::Error::last_os_error()).at(Stage::User, what)
        } else {
            Ok(())
        }
    };
    // SAFETY: the groups slice is valid for its length.
    let rc = unsafe { libc::syscall(libc::SYS_setgroups, user.groups.len(), user.groups.as_ptr()) };
    check(rc, &|| "setgroups".to_string())?;
    let (uid, gid) = (user.uid, user.gid);
    // SAFETY: integer arguments only.
    let rc = unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) };
    check(rc, &|| format!("setgid {gid}"))?;
    // SAFETY: integer arguments only.
    let rc = unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) };
    check(rc, &|| format!("setuid {uid}"))
}
