//! The container init, between `clone` and `execve`: stdio, namespaces,
//! rootfs and `pivot_root`, hostname, loopback, sysctls, protected paths,
//! rlimits, user, working directory, capabilities, seccomp; the executable
//! is resolved before reporting ready, and seccomp is loaded as late as the
//! privileges allow.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use libseccomp::ScmpFilterContext;
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::stat::{umask, Mode};

use super::failure::{Context, InitError, Stage};
use super::lookup::{exec_failed, find_executable, path_of};
use super::plan::Plan;
use super::sync::{Channel, Message};
use crate::caps::{self, CapSets};
use crate::container::{Bundle, Stdio};
use crate::rootfs::{self, protect};
use crate::spec::{Spec, ANNOTATION_USER};
use crate::user::{self, ExecUser};
use crate::{net, rlimit, seccomp};

/// What the init gets from its parent (borrowed from the parent's memory,
/// which the init has a copy of).
pub struct InitArgs<'a> {
    pub bundle: &'a Bundle,
    pub rootfs: &'a Path,
    pub plan: &'a Plan,
    pub stdio: Stdio,
    pub chan: &'a Channel,
}

/// Runs the init; returns only with an exit status after a failure.
pub fn run(args: InitArgs<'_>) -> i32 {
    let chan = args.chan;
    // Sync 1: wait until the parent put us in the cgroup.
    match chan.recv() {
        Ok(Some(Message::Continue)) => {}
        _ => return 1,
    }
    let ready = match prepare(args) {
        Ok(r) => r,
        Err(e) => {
            let _ = chan.send(&Message::Failed(e));
            return 1;
        }
    };
    // Sync 2: ready; sync 3: wait for start.
    if chan.send(&Message::Ready).is_err() {
        return 1;
    }
    match chan.recv() {
        Ok(Some(Message::Start)) => {}
        _ => return 1,
    }
    let err = ready.exec();
    let code = err.exit_code.unwrap_or(1);
    // Sync 4 (failure): execve did not happen.
    let _ = chan.send(&Message::Failed(err));
    code
}

/// Everything `execve` needs, prepared before reporting ready.
struct ReadyToExec {
    path: CString,
    display_path: PathBuf,
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
    /// Loaded right before execve (no_new_privileges set).
    seccomp: Option<ScmpFilterContext>,
}

impl ReadyToExec {
    /// Loads the late seccomp filter and execs; returns only on failure.
    fn exec(self) -> InitError {
        if let Some(filter) = &self.seccomp {
            if let Err(e) = filter.load() {
                return InitError::plain(Stage::Seccomp, format!("load seccomp filter: {e}"));
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

fn prepare(args: InitArgs<'_>) -> Result<ReadyToExec, InitError> {
    let spec: &Spec = &args.bundle.spec;
    let plan = args.plan;
    reset_signals()?;
    let console = setup_stdio(args.stdio)?;
    join_namespaces(plan)?;
    umask(Mode::empty());
    rootfs::prepare(args.rootfs, spec, &args.bundle.rootfs_mounts, console)?;
    if plan.new_uts && !spec.hostname.is_empty() {
        nix::unistd::sethostname(&spec.hostname)
            .at(Stage::Hostname, || format!("sethostname {}", spec.hostname))?;
    }
    if plan.new_net {
        net::loopback_up()?;
    }
    for (key, value) in &spec.linux.sysctl {
        write_sysctl(key, value)?;
    }
    for p in &spec.linux.readonly_paths {
        protect::readonly_path(p)?;
    }
    for p in &spec.linux.masked_paths {
        protect::masked_path(p)?;
    }
    // Docker creates a missing working directory in the container's layer,
    // so even a read-only root gets it.
    create_cwd(&spec.process.cwd)?;
    if spec.root.readonly {
        protect::remount_readonly(Path::new("/"))?;
    }
    if let Some(adj) = spec.process.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .at(Stage::Rlimits, || "write oom_score_adj")?;
    }
    rlimit::apply(&spec.process.rlimits)?;
    umask(Mode::from_bits_truncate(
        spec.process.user.umask.unwrap_or(0o022),
    ));
    let user = resolve_user(spec)?;
    enter_cwd(&spec.process.cwd)?;
    let mut env = spec.process.env.clone();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    if spec.process.no_new_privileges {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(std::io::Error::last_os_error())
                .at(Stage::Capabilities, || "set no_new_privs");
        }
    }
    let mut filter = match &spec.linux.seccomp {
        Some(profile) => Some(
            seccomp::build(profile)
                .map_err(|e| InitError::plain(Stage::Seccomp, format!("seccomp: {e}")))?,
        ),
        None => None,
    };
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
    // now, while we still have it (the setup calls left must be allowed).
    if !spec.process.no_new_privileges {
        if let Some(f) = filter.take() {
            f.load().map_err(|e| {
                InitError::plain(Stage::Seccomp, format!("load seccomp filter: {e}"))
            })?;
        }
    }
    switch_user(spec, &user)?;
    let arg0 = spec
        .process
        .args
        .first()
        .ok_or_else(|| InitError::exec("exec: no command specified", 127))?;
    let found = find_executable(arg0, path_of(&env))?;
    let argv = spec
        .process
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

/// Default dispositions and an empty mask: the caller may ignore SIGPIPE
/// (Rust programs do) or block signals, and ignored or blocked signals
/// would survive `execve` into the container.
fn reset_signals() -> Result<(), InitError> {
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

/// New session; stdio onto 0, 1, 2. Returns whether there is a terminal.
fn setup_stdio(stdio: Stdio) -> Result<bool, InitError> {
    nix::unistd::setsid().at(Stage::Stdio, || "setsid")?;
    let (fds, console) = match stdio {
        Stdio::Pipes {
            stdin,
            stdout,
            stderr,
        } => {
            let stdin = match stdin {
                Some(fd) => fd,
                None => std::fs::OpenOptions::new()
                    .read(true)
                    .open("/dev/null")
                    .at(Stage::Stdio, || "open /dev/null")?
                    .into(),
            };
            ([stdin, stdout, stderr], false)
        }
        Stdio::Terminal { slave } => {
            // SAFETY: ioctl on an fd we own; argument 0 = do not steal.
            if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
                return Err(std::io::Error::last_os_error())
                    .at(Stage::Stdio, || "set controlling terminal");
            }
            let b = slave.try_clone().at(Stage::Stdio, || "dup terminal")?;
            let c = slave.try_clone().at(Stage::Stdio, || "dup terminal")?;
            ([slave, b, c], true)
        }
    };
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
    Ok(console)
}

fn join_namespaces(plan: &Plan) -> Result<(), InitError> {
    for (flag, path) in &plan.join {
        let what = || format!("join namespace {}", path.display());
        let f = std::fs::File::open(path).at(Stage::Namespaces, what)?;
        setns(f, CloneFlags::from_bits_truncate(*flag)).at(Stage::Namespaces, what)?;
    }
    if plan.unshare_cgroup {
        unshare(CloneFlags::CLONE_NEWCGROUP)
            .at(Stage::Namespaces, || "unshare cgroup namespace")?;
    }
    Ok(())
}

fn write_sysctl(key: &str, value: &str) -> Result<(), InitError> {
    if key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..") {
        return Err(InitError::plain(
            Stage::Sysctl,
            format!("invalid sysctl {key:?}"),
        ));
    }
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    std::fs::write(&path, value).at(Stage::Sysctl, || format!("write sysctl {key}"))
}

fn resolve_user(spec: &Spec) -> Result<ExecUser, InitError> {
    let u = &spec.process.user;
    let wanted = match spec.annotations.get(ANNOTATION_USER) {
        Some(s) => s.clone(),
        None => user::spec_user_string(u.uid, u.gid),
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    user::resolve(&wanted, &u.additional_gids, &passwd, &group)
        .map_err(|e| InitError::plain(Stage::User, e.to_string()))
}

/// Creates the working directory when missing, as root.
fn create_cwd(cwd: &str) -> Result<(), InitError> {
    if cwd.is_empty() || std::fs::metadata(cwd).is_ok() {
        return Ok(());
    }
    std::fs::create_dir_all(cwd).at(Stage::Cwd, || format!("create cwd {cwd}"))
}

fn enter_cwd(cwd: &str) -> Result<(), InitError> {
    let cwd = if cwd.is_empty() { "/" } else { cwd };
    nix::unistd::chdir(cwd).at(Stage::Cwd, || {
        format!("chdir to cwd ({cwd:?}) set in config.json failed")
    })
}

/// Bounding set, then uid/gid/groups with caps kept, then the final sets.
fn switch_user(spec: &Spec, user: &ExecUser) -> Result<(), InitError> {
    let last = caps::last_cap();
    let sets = spec
        .process
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
