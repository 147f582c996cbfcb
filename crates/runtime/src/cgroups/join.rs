//! How a new container init gets into its cgroup without the parent's
//! write of its pid to `cgroup.procs`. That write takes the kernel's global
//! `cgroup_threadgroup_rwsem` for writing, and the first writer after a
//! quiet spell waits out an RCU grace period (~10 ms per container here).
//!
//! Instead:
//! - a cgroup2 directory (the whole tree on a unified host, the empty
//!   `unified` one on a hybrid host) is entered at birth: `clone3` with
//!   `CLONE_INTO_CGROUP` and the directory's descriptor (crun does this);
//! - each cgroup v1 hierarchy is entered by the init itself, before anything
//!   else it does: it writes `0` (itself) to the hierarchy's `tasks` file.
//!   Moving one's own, single thread needs no threadgroup lock (the kernel
//!   skips it for a pid of 0 on a thread-level file), and a single-threaded
//!   process is wholly moved by moving its thread.
//!
//! Either way the init is in every cgroup of the container before it
//! unshares its cgroup namespace, mounts anything, or runs the container's
//! program, as when the parent moved it.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::{is_cgroup2, CgroupError};

/// Where the init enters its cgroups.
#[derive(Debug, Default)]
pub struct JoinPlan {
    /// A cgroup2 directory for `CLONE_INTO_CGROUP`.
    pub clone_into: Option<(PathBuf, OwnedFd)>,
    /// Files the init writes `0` to, in order (v1 `tasks` files; plus the
    /// cgroup2 `cgroup.procs` when `clone_into` could not be used).
    pub self_join: Vec<PathBuf>,
}

impl JoinPlan {
    /// The plan for a cgroup with these directories (one per hierarchy).
    pub fn for_dirs(dirs: &[PathBuf]) -> Result<JoinPlan, CgroupError> {
        let mut plan = JoinPlan::default();
        for dir in dirs {
            if is_cgroup2(dir) && plan.clone_into.is_none() {
                let fd = open_dir(dir).map_err(|source| CgroupError::Read {
                    path: dir.clone(),
                    source,
                })?;
                plan.clone_into = Some((dir.clone(), fd));
            } else if is_cgroup2(dir) {
                plan.self_join.push(dir.join("cgroup.procs"));
            } else {
                plan.self_join.push(dir.join("tasks"));
            }
        }
        Ok(plan)
    }

    /// Gives up `CLONE_INTO_CGROUP` (a `clone3` that refused it): the init
    /// then enters that cgroup2 directory itself, through `cgroup.procs`.
    pub fn without_clone_into(&mut self) {
        if let Some((dir, _)) = self.clone_into.take() {
            self.self_join.push(dir.join("cgroup.procs"));
        }
    }
}

fn open_dir(dir: &Path) -> io::Result<OwnedFd> {
    Ok(File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(dir)?
        .into())
}

/// In the init: moves the calling (single-threaded) process into each
/// file's cgroup. Returns the file that failed with its error.
pub fn join_self(files: &[PathBuf]) -> Result<(), (PathBuf, io::Error)> {
    for f in files {
        std::fs::write(f, b"0").map_err(|e| (f.clone(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_directories_are_v1_tasks_files() {
        let d = tempfile::tempdir().unwrap();
        let dirs = vec![d.path().join("cpu/x"), d.path().join("memory/x")];
        let plan = JoinPlan::for_dirs(&dirs).unwrap();
        assert!(plan.clone_into.is_none());
        assert_eq!(
            plan.self_join,
            vec![
                d.path().join("cpu/x/tasks"),
                d.path().join("memory/x/tasks")
            ]
        );
    }

    #[test]
    fn giving_up_clone_into_joins_through_cgroup_procs() {
        let d = tempfile::tempdir().unwrap();
        let mut plan = JoinPlan {
            clone_into: Some((d.path().to_path_buf(), open_dir(d.path()).unwrap())),
            self_join: vec![PathBuf::from("/a/tasks")],
        };
        plan.without_clone_into();
        assert!(plan.clone_into.is_none());
        assert_eq!(
            plan.self_join,
            vec![PathBuf::from("/a/tasks"), d.path().join("cgroup.procs")]
        );
    }

    #[test]
    fn joining_writes_zero_and_names_the_failing_file() {
        let d = tempfile::tempdir().unwrap();
        let ok = d.path().join("tasks");
        join_self(std::slice::from_ref(&ok)).unwrap();
        assert_eq!(std::fs::read(&ok).unwrap(), b"0");
        let bad = d.path().join("missing/tasks");
        let (file, _) = join_self(&[ok, bad.clone()]).unwrap_err();
        assert_eq!(file, bad);
    }
}
