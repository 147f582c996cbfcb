//! v1 freezer controller: `freezer.state` takes `FROZEN` or `THAWED` and
//! reads `FREEZING` while the kernel is still stopping tasks.

use std::path::Path;

use crate::cgroups::freezer::{read_state, set_and_wait, Freeze, Seen, TIMEOUT};
use crate::cgroups::CgroupError;

const STATE: &str = "freezer.state";

/// Retry the write this often while `FREEZING` (tasks forked meanwhile can
/// keep a v1 cgroup from ever getting frozen).
const REWRITE_EVERY: u32 = 50;

fn word(f: Freeze) -> &'static str {
    match f {
        Freeze::Frozen => "FROZEN",
        Freeze::Thawed => "THAWED",
    }
}

pub fn set(dir: &Path, want: Freeze) -> Result<(), CgroupError> {
    let file = dir.join(STATE);
    let (undo, every) = match want {
        Freeze::Frozen => (Some(word(Freeze::Thawed)), REWRITE_EVERY),
        Freeze::Thawed => (None, 0),
    };
    set_and_wait(&file, word(want), undo, every, TIMEOUT, || {
        let state = read_state(&file)?;
        Ok(if state == word(want) {
            Seen::Done
        } else {
            Seen::Pending(state)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn writes_and_confirms_the_state_file() {
        let d = tempfile::tempdir().unwrap();
        set(d.path(), Freeze::Frozen).unwrap();
        assert_eq!(fs::read_to_string(d.path().join(STATE)).unwrap(), "FROZEN");
        set(d.path(), Freeze::Thawed).unwrap();
        assert_eq!(fs::read_to_string(d.path().join(STATE)).unwrap(), "THAWED");
    }
}

/// Against the kernel: a real process in a real v1 freezer cgroup.
#[cfg(test)]
mod kernel_tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;
    use std::process::{Child, Command};

    /// Kills the child, thaws and removes the cgroup, even when the test fails.
    struct Guard {
        dir: PathBuf,
        child: Child,
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = fs::write(self.dir.join(STATE), "THAWED");
            let _ = self.child.kill();
            let _ = self.child.wait();
            let _ = crate::cgroups::remove_dir(&self.dir);
        }
    }

    /// The scheduler state letter of a process (`S`, `R`, `D`…).
    fn proc_state(pid: u32) -> String {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after = stat.rsplit_once(") ").unwrap().1;
        after.split_whitespace().next().unwrap().to_string()
    }

    #[test]
    fn freezes_and_thaws_a_process() {
        let root = Path::new("/sys/fs/cgroup/freezer");
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 || !root.is_dir() {
            eprintln!("skipped: needs root and a v1 freezer hierarchy");
            return;
        }
        let dir = root.join(format!("berth-test-freeze-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let child = Command::new("sleep").arg("100").spawn().unwrap();
        let g = Guard { dir, child };
        fs::write(g.dir.join("cgroup.procs"), g.child.id().to_string()).unwrap();
        set(&g.dir, Freeze::Frozen).unwrap();
        assert_eq!(read_state(&g.dir.join(STATE)).unwrap(), "FROZEN");
        // Frozen tasks sleep uninterruptibly.
        assert_eq!(proc_state(g.child.id()), "D");
        set(&g.dir, Freeze::Thawed).unwrap();
        assert_eq!(read_state(&g.dir.join(STATE)).unwrap(), "THAWED");
        assert_ne!(proc_state(g.child.id()), "D");
    }
}
