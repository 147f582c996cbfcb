//! The container lifecycle for the shim: load a bundle, `create` (cgroup,
//! clone, init set up and blocked before `execve`), `start`, then signal,
//! wait, OOM check and cgroup cleanup on the running init.

use std::cell::Cell;
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::cgroups::join::JoinPlan;
use crate::cgroups::{self, AnyManager, CgroupManager};
use crate::error::CreateError;
use crate::process::clone::{clone_init_into, Child};
use crate::process::init::{self, InitArgs};
use crate::process::plan::{self, Plan};
use crate::process::sync::{Channel, Message};
use crate::seccomp_bpf::BpfProgram;
use crate::seccomp_cache;
use crate::spec::{self, Spec};
use berth_util::trace::mark as trace;

/// A bundle directory: `config.json` plus `rootfs.json`, the mounts that
/// make the root filesystem at `spec.root.path` (empty when `root.path`
/// already is the rootfs).
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub spec: Spec,
    pub rootfs_mounts: Vec<spec::Mount>,
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CreateError> {
    let bytes = fs::read(path).map_err(|source| CreateError::ReadBundle {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| CreateError::ParseBundle {
        path: path.to_path_buf(),
        source,
    })
}

impl Bundle {
    /// Reads `dir/config.json` and `dir/rootfs.json` (a missing
    /// `rootfs.json` means no rootfs mounts).
    pub fn load(dir: &Path) -> Result<Bundle, CreateError> {
        let spec = read_json(&dir.join("config.json"))?;
        let rootfs_json = dir.join("rootfs.json");
        let rootfs_mounts = if rootfs_json.exists() {
            read_json(&rootfs_json)?
        } else {
            Vec::new()
        };
        Ok(Bundle {
            dir: dir.to_path_buf(),
            spec,
            rootfs_mounts,
        })
    }

    /// `root.path`, relative to the bundle directory when not absolute.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join(&self.spec.root.path)
    }
}

/// The container side of stdio. `None` stdin is `/dev/null`.
#[derive(Debug)]
pub enum Stdio {
    Pipes {
        stdin: Option<OwnedFd>,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    /// A pty the caller opened (on the host's devpts).
    Terminal { slave: OwnedFd },
    /// A pty that the process opens in the container's own devpts, as
    /// Docker's do (`tty` prints `/dev/pts/0`); the caller gets the master
    /// from [`Created::take_console`] or [`crate::exec::ExecProcess`].
    Console,
}

/// The container's init as its parent holds it.
#[derive(Debug)]
struct Init {
    pid: i32,
    pidfd: OwnedFd,
    cgroup: AnyManager,
}

pub(crate) fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: pidfd is a valid pidfd; no siginfo, no flags.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reaps `pid`; Docker's exit code: the status, or 128 + signal.
pub(crate) fn reap(pid: i32) -> io::Result<i32> {
    let mut status = 0;
    loop {
        // SAFETY: waiting for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    if libc::WIFSIGNALED(status) {
        Ok(128 + libc::WTERMSIG(status))
    } else {
        Ok(libc::WEXITSTATUS(status))
    }
}

impl Init {
    /// Kills, reaps and removes the cgroup; for failures and `abort`.
    fn destroy(self) -> Option<i32> {
        let _ = pidfd_send_signal(self.pidfd.as_fd(), libc::SIGKILL);
        let code = reap(self.pid).ok();
        let _ = self.cgroup.remove();
        code
    }
}

/// Joins a PID namespace for the duration of the clone (only children
/// enter it), then returns to our own.
pub(crate) struct PidNamespaceGuard {
    own: OwnedFd,
}

impl PidNamespaceGuard {
    pub(crate) fn enter(path: &Path) -> Result<PidNamespaceGuard, CreateError> {
        let err = |source| CreateError::JoinPidNamespace {
            path: path.to_path_buf(),
            source,
        };
        let own: OwnedFd = fs::File::open("/proc/self/ns/pid_for_children")
            .map_err(err)?
            .into();
        let target = fs::File::open(path).map_err(err)?;
        nix::sched::setns(target, nix::sched::CloneFlags::CLONE_NEWPID)
            .map_err(|e| err(e.into()))?;
        Ok(PidNamespaceGuard { own })
    }
}

impl Drop for PidNamespaceGuard {
    fn drop(&mut self) {
        let _ = nix::sched::setns(&self.own, nix::sched::CloneFlags::CLONE_NEWPID);
    }
}

/// Creates the container: its cgroup first, then the init, which sets
/// everything up, resolves the executable and blocks until [`Created::start`].
/// The caller must be single-threaded.
pub fn create(bundle: &Bundle, id: &str, stdio: Stdio) -> Result<Created, CreateError> {
    trace("runtime.create");
    let plan = plan::plan(&bundle.spec.linux.namespaces)?;
    // Compiled (or read from the cache) here, not in the init: the init
    // only loads it (crun's "work kept out of the child").
    let seccomp = seccomp_cache::program_for(&bundle.spec)?;
    trace("runtime.seccomp-ready");
    let cgroup_path = match bundle.spec.linux.cgroups_path.as_str() {
        "" => format!("berth/{id}"),
        p => p.to_string(),
    };
    let cgroup = cgroups::detect(&cgroup_path)?;
    cgroup.create()?;
    trace("runtime.cgroup-created");
    let setup = bundle
        .spec
        .linux
        .resources
        .as_ref()
        .map_or(Ok(()), |r| cgroup.apply(r));
    if let Err(e) = setup {
        let _ = cgroup.remove();
        return Err(e.into());
    }
    trace("runtime.cgroup-applied");
    let join = match JoinPlan::for_dirs(&cgroup.dirs()) {
        Ok(j) => j,
        Err(e) => {
            let _ = cgroup.remove();
            return Err(e.into());
        }
    };
    spawn(bundle, &plan, seccomp.as_ref(), join, stdio, cgroup)
}

fn spawn(
    bundle: &Bundle,
    plan: &Plan,
    seccomp: Option<&BpfProgram>,
    mut join: JoinPlan,
    stdio: Stdio,
    cgroup: AnyManager,
) -> Result<Created, CreateError> {
    let (parent, child) = match Channel::pair() {
        Ok(p) => p,
        Err(e) => {
            let _ = cgroup.remove();
            return Err(e.into());
        }
    };
    let rootfs = bundle.rootfs();
    let cloned = {
        let guard = match &plan.join_pid {
            Some(path) => match PidNamespaceGuard::enter(path) {
                Ok(g) => Some(g),
                Err(e) => {
                    let _ = cgroup.remove();
                    return Err(e);
                }
            },
            None => None,
        };
        let parent_fd = parent.as_raw_fd();
        let (chan, rootfs) = (&child, &rootfs);
        // Born in the cgroup2 directory when there is one; if clone3 will
        // not, the init enters it itself (see cgroups::join).
        let into = join.clone_into.as_ref().map(|(_, fd)| fd.as_fd());
        // The container's stdio stays here until a clone succeeded (a clone3
        // that refused CLONE_INTO_CGROUP is retried); the init takes its copy.
        let mut stdio = Some(stdio);
        let mut clone = |into: Option<BorrowedFd<'_>>, cgroup_files: &[PathBuf]| {
            let stdio = &mut stdio;
            clone_init_into(plan.clone_flags, into, move || {
                // SAFETY: in the init this fd is a copy of the parent's end,
                // which must not stay open here (EOF must reach the init when
                // the parent goes away).
                unsafe { libc::close(parent_fd) };
                let Some(stdio) = stdio.take() else {
                    return 1;
                };
                init::run(InitArgs {
                    bundle,
                    rootfs,
                    plan,
                    cgroup_files,
                    seccomp,
                    stdio,
                    chan,
                })
            })
        };
        let first = clone(into, &join.self_join);
        let r = match first {
            Err(_) if into.is_some() => {
                join.without_clone_into();
                clone(None, &join.self_join)
            }
            r => r,
        };
        // The parent's copies of the container's stdio go now.
        drop(stdio);
        drop(guard);
        drop(child);
        r
    };
    let Child { pid, pidfd } = match cloned {
        Ok(c) => c,
        Err(e) => {
            let _ = cgroup.remove();
            return Err(CreateError::Clone(e));
        }
    };
    trace("runtime.cloned");
    let init = Init { pid, pidfd, cgroup };
    match wait_for_ready(&parent) {
        Ok(console) => Ok(Created {
            init: Some(init),
            chan: parent,
            console,
        }),
        Err(e) => {
            let code = init.destroy();
            Err(match e {
                CreateError::InitExited { .. } => CreateError::InitExited {
                    exit_code: code.unwrap_or(-1),
                },
                e => e,
            })
        }
    }
}

/// Sync points 1 and 2, parent side; the console's master when the init
/// opened one.
fn wait_for_ready(chan: &Channel) -> Result<Option<OwnedFd>, CreateError> {
    // Sync 1: go on; the init enters its cgroups itself first (cgroups::join).
    chan.send(&Message::Continue)?;
    // Sync 2: ready, or the reason why not; the console comes first.
    let mut console = None;
    loop {
        match chan.recv_fd()? {
            Some((Message::Console, Some(fd))) if console.is_none() => console = Some(fd),
            Some((Message::Ready, _)) => {
                trace("runtime.ready");
                return Ok(console);
            }
            Some((Message::Failed(e), _)) => return Err(e.into()),
            Some(_) => return Err(CreateError::Protocol("ready")),
            None => return Err(CreateError::InitExited { exit_code: -1 }),
        }
    }
}

/// A created container: its init waits just before `execve`. Dropping it
/// without `start` kills the init and removes the cgroup.
#[derive(Debug)]
pub struct Created {
    init: Option<Init>,
    chan: Channel,
    /// The master of the pty the init opened ([`Stdio::Console`]).
    console: Option<OwnedFd>,
}

impl Created {
    pub fn pid(&self) -> i32 {
        self.init.as_ref().map_or(-1, |i| i.pid)
    }

    /// The master of the terminal the init opened in the container's
    /// devpts (with [`Stdio::Console`]; `None` after the first call).
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    /// Lets the init `execve`; returns once it did, or with the reason it
    /// could not.
    pub fn start(mut self) -> Result<Running, CreateError> {
        let Some(init) = self.init.take() else {
            return Err(CreateError::Protocol("start"));
        };
        let outcome = (|| {
            // Sync 3: go.
            self.chan.send(&Message::Start)?;
            // Sync 4: end of file once execve closed the init's end.
            let r = self.chan.recv()?;
            trace("runtime.started");
            match r {
                None => Ok(()),
                Some(Message::Failed(e)) => Err(e.into()),
                Some(_) => Err(CreateError::Protocol("start")),
            }
        })();
        match outcome {
            Ok(()) => Ok(Running {
                init,
                exit_code: Cell::new(None),
            }),
            Err(e) => {
                init.destroy();
                Err(e)
            }
        }
    }

    /// Kills the init, reaps it and removes its cgroup.
    pub fn abort(mut self) {
        if let Some(init) = self.init.take() {
            init.destroy();
        }
    }
}

impl Drop for Created {
    fn drop(&mut self) {
        if let Some(init) = self.init.take() {
            init.destroy();
        }
    }
}

/// A started container.
#[derive(Debug)]
pub struct Running {
    init: Init,
    exit_code: Cell<Option<i32>>,
}

impl Running {
    pub fn pid(&self) -> i32 {
        self.init.pid
    }

    /// Readable (poll) once the init has exited.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.init.pidfd.as_fd()
    }

    pub fn kill(&self, signal: i32) -> io::Result<()> {
        pidfd_send_signal(self.init.pidfd.as_fd(), signal)
    }

    /// Reaps the init (once; later calls return the same code): its exit
    /// status, or 128 + the signal that killed it.
    pub fn wait(&self) -> io::Result<i32> {
        if let Some(code) = self.exit_code.get() {
            return Ok(code);
        }
        let code = reap(self.init.pid)?;
        self.exit_code.set(Some(code));
        Ok(code)
    }

    /// Whether the kernel OOM-killed a process of the container.
    pub fn oom_killed(&self) -> bool {
        self.init.cgroup.oom_kill_count().is_ok_and(|n| n > 0)
    }

    /// Removes the container's cgroups (call after `wait`).
    pub fn cleanup(&self) -> io::Result<()> {
        self.init.cgroup.remove().map_err(io::Error::other)
    }

    /// The container's cgroup directories.
    pub fn cgroup_dirs(&self) -> Vec<PathBuf> {
        self.init.cgroup.dirs()
    }

    /// The cgroup that exec'd processes join.
    pub(crate) fn cgroup(&self) -> &AnyManager {
        &self.init.cgroup
    }
}
