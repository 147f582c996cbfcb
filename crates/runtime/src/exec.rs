//! `docker exec`: another process in a running container. The caller (the
//! container's shim, which holds the [`Running`] init) clones a child while
//! it has the container's PID namespace as the one for children, so the
//! child is born in it. The start-up fast path of `run` applies: the
//! container's seccomp program is compiled (or read from the bundle's
//! `berth.seccomp-cache`) here before the clone, so the child only loads
//! it; and the child enters the container's cgroups without the parent's
//! `cgroup.procs` write (born in the cgroup2 directory with
//! `CLONE_INTO_CGROUP`, writing `0` to the v1 `tasks` files itself; see
//! `cgroups::join`, with the same fallback when `clone3` refuses the
//! flag). The child then joins the init's other namespaces (ipc, uts, net,
//! cgroup, mount last: joining it makes the container's root its root),
//! opens its terminal in the container's devpts when it has one, then
//! takes the same last steps as the init (rlimits, user, working
//! directory, no_new_privs, the container's seccomp filter, capabilities)
//! and execs. "Not found" (127) and "cannot run" (126) come back as
//! [`CreateError::Exec`] with runc's wording, like for the init.
//!
//! Sync points (see `process::sync`): child → parent `Console` with the pty
//! master (terminal only); end of file at `execve`, or `Failed`.

use std::cell::Cell;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sched::{setns, CloneFlags};
use serde::{Deserialize, Serialize};

use crate::cgroups::join::JoinPlan;
use crate::cgroups::CgroupManager;
use crate::container::{pidfd_send_signal, read_json, reap, Bundle, PidNamespaceGuard, Running};
use crate::error::{errno_text, CreateError};
use crate::process::clone::{clone_init, clone_init_into, Child};
use crate::process::console;
use crate::process::failure::{Context, InitError, Stage};
use crate::process::launch::{self, Terminal};
use crate::process::sync::{Channel, Message};
use crate::seccomp_bpf::BpfProgram;
use crate::seccomp_cache;
use crate::spec::{Namespace, Process};
use crate::user;
use crate::Stdio;

/// What to run, as the daemon writes it to `<bundle>/exec-<id>.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecConfig {
    /// The OCI process: args, env, cwd, terminal, capabilities, rlimits,
    /// no_new_privileges, umask and additional gids.
    pub process: Process,
    /// `user[:group]` to resolve against the container's passwd and group
    /// files; empty: the numeric ids of `process.user`.
    #[serde(default)]
    pub user: String,
    /// The terminal's initial size, `[rows, cols]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_size: Option<[u16; 2]>,
}

impl ExecConfig {
    pub fn load(path: &Path) -> Result<ExecConfig, CreateError> {
        read_json(path)
    }

    fn wanted_user(&self) -> String {
        if self.user.is_empty() {
            user::spec_user_string(self.process.user.uid, self.process.user.gid)
        } else {
            self.user.clone()
        }
    }
}

/// A started exec'd process, as its parent holds it.
#[derive(Debug)]
pub struct ExecProcess {
    pid: i32,
    pidfd: OwnedFd,
    console: Option<OwnedFd>,
    exit_code: Cell<Option<i32>>,
}

impl ExecProcess {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Readable (poll) once the process has exited.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// The master of the terminal the process opened in the container's
    /// devpts (with [`Stdio::Console`]; `None` after the first call).
    pub fn take_console(&mut self) -> Option<OwnedFd> {
        self.console.take()
    }

    pub fn kill(&self, signal: i32) -> io::Result<()> {
        pidfd_send_signal(self.pidfd.as_fd(), signal)
    }

    /// Reaps the process (once; later calls return the same code): its
    /// exit status, or 128 + the signal that killed it.
    pub fn wait(&self) -> io::Result<i32> {
        if let Some(code) = self.exit_code.get() {
            return Ok(code);
        }
        let code = reap(self.pid)?;
        self.exit_code.set(Some(code));
        Ok(code)
    }
}

/// The `/proc/<pid>/ns` name of a spec namespace type the exec'd process
/// joins, with its flag; `None` for the PID namespace (joined by the
/// clone) and for types that are not joined.
fn ns_entry(kind: &str) -> Option<(&'static str, CloneFlags)> {
    Some(match kind {
        "ipc" => ("ipc", CloneFlags::CLONE_NEWIPC),
        "uts" => ("uts", CloneFlags::CLONE_NEWUTS),
        "network" => ("net", CloneFlags::CLONE_NEWNET),
        "cgroup" => ("cgroup", CloneFlags::CLONE_NEWCGROUP),
        "mount" => ("mnt", CloneFlags::CLONE_NEWNS),
        _ => return None,
    })
}

/// The init's namespaces of every type the container has, opened now (the
/// child could not reach the host's `/proc` once in the container's mount
/// namespace), mount last.
fn open_namespaces(init_pid: i32, spec: &[Namespace]) -> Result<Vec<JoinNs>, CreateError> {
    let mut out = Vec::new();
    for ns in spec {
        let Some((name, flag)) = ns_entry(&ns.kind) else {
            continue;
        };
        let path = PathBuf::from(format!("/proc/{init_pid}/ns/{name}"));
        let file = File::open(&path).map_err(|e| CreateError::OpenNamespace {
            path,
            reason: errno_text(e.raw_os_error().unwrap_or(libc::EIO)),
        })?;
        out.push(JoinNs { file, flag, name });
    }
    out.sort_by_key(|n| n.flag == CloneFlags::CLONE_NEWNS);
    Ok(out)
}

/// A namespace of the init, open, to join.
struct JoinNs {
    file: File,
    flag: CloneFlags,
    name: &'static str,
}

/// Starts `config` in the container whose init is `running` (`bundle` is
/// the container's: its namespaces and seccomp filter apply). Returns once
/// the process has called `execve`. The caller must be single-threaded.
pub fn exec(
    running: &Running,
    bundle: &Bundle,
    config: &ExecConfig,
    stdio: Stdio,
) -> Result<ExecProcess, CreateError> {
    let init_pid = running.pid();
    let spec = &bundle.spec;
    // Compiled (or read from the cache) here: the child only loads it.
    let seccomp = seccomp_cache::program_for(spec)?;
    let mut join = JoinPlan::for_dirs(&running.cgroup().dirs())?;
    let namespaces = open_namespaces(init_pid, &spec.linux.namespaces)?;
    let join_pid = spec.linux.namespaces.iter().any(|n| n.kind == "pid");
    let (parent, child) = Channel::pair()?;
    let cloned = {
        let _guard = if join_pid {
            Some(PidNamespaceGuard::enter(Path::new(&format!(
                "/proc/{init_pid}/ns/pid"
            )))?)
        } else {
            None
        };
        let parent_fd = parent.as_raw_fd();
        let (chan, namespaces, seccomp) = (&child, &namespaces, seccomp.as_ref());
        // The stdio stays here until a clone succeeded (a clone3 that
        // refused CLONE_INTO_CGROUP is retried); the child takes its copy.
        let mut stdio = Some(stdio);
        let mut clone = |into: Option<BorrowedFd<'_>>, cgroup_files: &[PathBuf]| {
            let stdio = &mut stdio;
            let body = move || {
                // SAFETY: in the child this fd is a copy of the parent's
                // end, which must not stay open here (EOF must reach the
                // child when the parent goes away).
                unsafe { libc::close(parent_fd) };
                let Some(stdio) = stdio.take() else {
                    return 1;
                };
                run_child(ChildArgs {
                    chan,
                    cgroup_files,
                    namespaces,
                    seccomp,
                    config,
                    stdio,
                })
            };
            match into {
                Some(_) => clone_init_into(0, into, body),
                None => clone_init(0, body),
            }
        };
        // Born in the cgroup2 directory when there is one; if clone3 will
        // not, the child enters it itself.
        let into = join.clone_into.as_ref().map(|(_, fd)| fd.as_fd());
        match clone(into, &join.self_join) {
            Err(_) if into.is_some() => {
                join.without_clone_into();
                clone(None, &join.self_join)
            }
            r => r,
        }
    };
    drop(child);
    drop(namespaces);
    let Child { pid, pidfd } = cloned.map_err(CreateError::CloneExec)?;
    let started = (|| {
        let mut console = None;
        loop {
            match parent.recv_fd()? {
                Some((Message::Console, Some(fd))) if console.is_none() => console = Some(fd),
                Some((Message::Failed(e), _)) => return Err(CreateError::from(e)),
                Some(_) => return Err(CreateError::Protocol("exec")),
                None => return Ok(console),
            }
        }
    })();
    match started {
        Ok(console) => Ok(ExecProcess {
            pid,
            pidfd,
            console,
            exit_code: Cell::new(None),
        }),
        Err(e) => {
            let _ = pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            let code = reap(pid).unwrap_or(-1);
            Err(match e {
                CreateError::Sync(_) => CreateError::ExecExited { exit_code: code },
                e => e,
            })
        }
    }
}

/// What the child works with, all prepared by the parent.
struct ChildArgs<'a> {
    chan: &'a Channel,
    /// Files to write `0` to, entering the container's cgroups.
    cgroup_files: &'a [PathBuf],
    namespaces: &'a [JoinNs],
    /// The container's compiled seccomp program.
    seccomp: Option<&'a BpfProgram>,
    config: &'a ExecConfig,
    stdio: Stdio,
}

/// The child: returns only with an exit status after a failure.
fn run_child(args: ChildArgs<'_>) -> i32 {
    let chan = args.chan;
    let err = match prepare_child(args) {
        Ok(ready) => ready.exec(),
        Err(e) => e,
    };
    let code = err.exit_code.unwrap_or(1);
    let _ = chan.send(&Message::Failed(err));
    code
}

fn prepare_child(args: ChildArgs<'_>) -> Result<launch::ReadyToExec, InitError> {
    // First, before anything it does is charged elsewhere.
    launch::join_cgroups(args.cgroup_files)?;
    launch::reset_signals()?;
    let terminal = launch::setup_stdio(args.stdio)?;
    for ns in args.namespaces {
        setns(&ns.file, ns.flag).at(Stage::Namespaces, || {
            format!("join the container's {} namespace", ns.name)
        })?;
    }
    let config = args.config;
    if terminal == Terminal::InContainer {
        let size = config.console_size.map(|[rows, cols]| (rows, cols));
        console::hand_over(console::open(size)?, args.chan)?;
    }
    launch::prepare_with(
        &config.process,
        &config.wanted_user(),
        args.seccomp.cloned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_joined_mount_last_and_pid_by_the_clone() {
        let kinds = ["mount", "pid", "network", "ipc", "uts", "cgroup", "user"];
        let got: Vec<_> = kinds.iter().filter_map(|k| ns_entry(k)).collect();
        assert_eq!(got.len(), 5);
        assert!(ns_entry("pid").is_none() && ns_entry("user").is_none());
        let pid = std::process::id() as i32;
        let spec: Vec<Namespace> = ["mount", "ipc", "uts"]
            .iter()
            .map(|k| Namespace {
                kind: k.to_string(),
                path: None,
            })
            .collect();
        let opened = open_namespaces(pid, &spec).unwrap();
        let flags: Vec<_> = opened.iter().map(|n| n.flag).collect();
        assert_eq!(
            flags,
            [
                CloneFlags::CLONE_NEWIPC,
                CloneFlags::CLONE_NEWUTS,
                CloneFlags::CLONE_NEWNS
            ]
        );
    }

    #[test]
    fn config_user_falls_back_to_numeric_ids() {
        let mut c = ExecConfig::default();
        c.process.user.uid = 7;
        assert_eq!(c.wanted_user(), "7");
        c.user = "nobody".into();
        assert_eq!(c.wanted_user(), "nobody");
        let json = serde_json::to_string(&ExecConfig {
            console_size: Some([24, 80]),
            ..ExecConfig::default()
        })
        .unwrap();
        assert!(json.contains("\"consoleSize\":[24,80]"), "{json}");
    }
}
