//! The container init, between `clone` and `execve`: its cgroups, stdio, namespaces,
//! rootfs and `pivot_root`, the terminal (opened in the container's devpts
//! and bound at `/dev/console`), hostname, loopback, sysctls, protected
//! paths; then the steps every container process shares (`super::launch`):
//! rlimits, user, working directory, capabilities, seccomp, with the
//! executable resolved before reporting ready.

use std::path::{Path, PathBuf};

use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::stat::{umask, Mode};

use super::console;
use super::failure::{Context, InitError, Stage};
use super::launch::{self, ReadyToExec, Terminal};
use super::plan::Plan;
use super::sync::{Channel, Message};
use crate::container::{Bundle, Stdio};
use crate::net;
use crate::rootfs::{self, protect};
use crate::seccomp_bpf::BpfProgram;
use crate::spec::{Spec, ANNOTATION_USER};
use crate::user;
use berth_util::trace::mark as trace;

/// What the init gets from its parent (borrowed from the parent's memory,
/// which the init has a copy of).
pub struct InitArgs<'a> {
    pub bundle: &'a Bundle,
    pub rootfs: &'a Path,
    pub plan: &'a Plan,
    /// Files to write `0` to, entering the container's cgroups (see
    /// `cgroups::join`); first of all.
    pub cgroup_files: &'a [PathBuf],
    /// The compiled seccomp filter, loaded last.
    pub seccomp: Option<&'a BpfProgram>,
    pub stdio: Stdio,
    pub chan: &'a Channel,
}

/// Runs the init; returns only with an exit status after a failure.
pub fn run(args: InitArgs<'_>) -> i32 {
    let chan = args.chan;
    // Sync 1: wait for the parent's go.
    match chan.recv() {
        Ok(Some(Message::Continue)) => {}
        _ => return 1,
    }
    trace("init.continue");
    let ready = match prepare(args) {
        Ok(r) => r,
        Err(e) => {
            let _ = chan.send(&Message::Failed(e));
            return 1;
        }
    };
    trace("init.ready");
    // Sync 2: ready; sync 3: wait for start.
    if chan.send(&Message::Ready).is_err() {
        return 1;
    }
    match chan.recv() {
        Ok(Some(Message::Start)) => {}
        _ => return 1,
    }
    trace("init.exec");
    let err = ready.exec();
    let code = err.exit_code.unwrap_or(1);
    // Sync 4 (failure): execve did not happen.
    let _ = chan.send(&Message::Failed(err));
    code
}

fn prepare(args: InitArgs<'_>) -> Result<ReadyToExec, InitError> {
    let spec: &Spec = &args.bundle.spec;
    let plan = args.plan;
    launch::join_cgroups(args.cgroup_files)?;
    trace("init.in-cgroup");
    launch::reset_signals()?;
    let terminal = launch::setup_stdio(args.stdio)?;
    join_namespaces(plan)?;
    trace("init.namespaces");
    umask(Mode::empty());
    rootfs::prepare(
        args.rootfs,
        spec,
        &args.bundle.rootfs_mounts,
        terminal == Terminal::Host,
    )?;
    trace("init.pivoted");
    if terminal == Terminal::InContainer {
        let console = console::open(None)?;
        rootfs::dev::bind_console(Path::new("/dev"), &console.path)?;
        console::hand_over(console, args.chan)?;
    }
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
    trace("init.paths");
    launch::prepare_with(&spec.process, &wanted_user(spec), args.seccomp.cloned())
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

/// The `user[:group]` the init runs as: the annotation when the daemon
/// left a name to resolve, else the spec's numeric ids.
fn wanted_user(spec: &Spec) -> String {
    match spec.annotations.get(ANNOTATION_USER) {
        Some(s) => s.clone(),
        None => user::spec_user_string(spec.process.user.uid, spec.process.user.gid),
    }
}

/// Creates the working directory when missing, as root.
fn create_cwd(cwd: &str) -> Result<(), InitError> {
    if cwd.is_empty() || std::fs::metadata(cwd).is_ok() {
        return Ok(());
    }
    std::fs::create_dir_all(cwd).at(Stage::Cwd, || format!("create cwd {cwd}"))
}
