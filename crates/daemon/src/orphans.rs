//! What a shim leaves behind when it dies without reporting the exit (killed
//! with SIGKILL, say): the container's processes, now orphans, and its
//! cgroups. Both are found through the container's own cgroup, so nothing
//! outside the container is ever signalled.

use berth_runtime::cgroups::{self, CgroupManager, Freeze};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// Kills every process left in container `id`'s cgroup and removes the cgroup.
/// Blocking; best effort (a cgroup that will not empty is left and logged).
pub(crate) fn reap(id: &str) {
    let Ok(cg) = cgroups::detect(&crate::update::cgroup_path(id)) else {
        return;
    };
    let dirs = cg.dirs();
    if !dirs.iter().any(|d| d.exists()) {
        return;
    }
    // SIGKILL does not take effect on frozen tasks.
    let _ = cg.set_freeze(Freeze::Thawed);
    for _ in 0..100 {
        let pids = members(&dirs);
        if pids.is_empty() {
            break;
        }
        for pid in pids {
            // SAFETY: a plain signal to a process of this container's cgroup.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Err(e) = cg.remove() {
        eprintln!("berthd: cannot remove the cgroup of container {id}: {e}");
    }
}

/// The PIDs listed in `cgroup.procs` of any of the directories.
fn members(dirs: &[PathBuf]) -> BTreeSet<i32> {
    dirs.iter()
        .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
        .flat_map(|s| {
            s.lines()
                .filter_map(|l| l.trim().parse::<i32>().ok())
                .collect::<Vec<_>>()
        })
        .filter(|p| *p > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_read_from_every_hierarchy_once() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        std::fs::write(a.join("cgroup.procs"), "12\n34\n").unwrap();
        std::fs::write(b.join("cgroup.procs"), "34\n0\n").unwrap();
        let got: Vec<i32> = members(&[a, b, t.path().join("missing")])
            .into_iter()
            .collect();
        assert_eq!(got, [12, 34]);
    }
}
