//! cgroup v1: the container's cgroup is created in every hierarchy the host
//! mounts (controllers, named ones like `systemd`, and the empty unified
//! one of a hybrid host); each controller's file writes live in its own
//! module.

mod cpu;
pub(crate) mod cpuset;
mod devices;
mod freezer;
mod memory;
pub(crate) mod pids;

use std::path::{Path, PathBuf};

use super::{create_dir, keyed_value, read, remove_dir, write, CgroupError, CgroupManager};
use super::{Freeze, HierarchyMount};
use crate::spec::Resources;

#[derive(Debug)]
pub struct V1Manager {
    hierarchies: Vec<HierarchyMount>,
    rel: PathBuf,
}

impl V1Manager {
    pub fn new(hierarchies: Vec<HierarchyMount>, rel: &Path) -> V1Manager {
        V1Manager {
            hierarchies,
            rel: rel.to_path_buf(),
        }
    }

    /// The container's directory in the hierarchy that has `controller`.
    fn dir_of(&self, controller: &str) -> Option<PathBuf> {
        self.hierarchies
            .iter()
            .find(|h| h.controllers.iter().any(|c| c == controller))
            .map(|h| h.mount_point.join(&self.rel))
    }
}

impl CgroupManager for V1Manager {
    fn create(&self) -> Result<(), CgroupError> {
        for h in &self.hierarchies {
            if h.controllers.iter().any(|c| c == "cpuset") {
                cpuset::create_with_inherited(&h.mount_point, &self.rel)?;
            } else {
                create_dir(&h.mount_point.join(&self.rel))?;
            }
        }
        Ok(())
    }

    fn apply(&self, r: &Resources) -> Result<(), CgroupError> {
        if let (Some(m), Some(dir)) = (&r.memory, self.dir_of("memory")) {
            memory::apply(&dir, m)?;
        }
        if let (Some(c), Some(dir)) = (&r.cpu, self.dir_of("cpu")) {
            cpu::apply(&dir, c)?;
        }
        if let (Some(c), Some(dir)) = (&r.cpu, self.dir_of("cpuset")) {
            cpuset::apply(&dir, c)?;
        }
        if let (Some(p), Some(dir)) = (&r.pids, self.dir_of("pids")) {
            pids::apply(&dir, p)?;
        }
        if let Some(dir) = self.dir_of("devices") {
            devices::apply(&dir, &r.devices)?;
        }
        Ok(())
    }

    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        for dir in self.dirs() {
            write(&dir.join("cgroup.procs"), &pid.to_string())?;
        }
        Ok(())
    }

    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let Some(dir) = self.dir_of("memory") else {
            return Ok(0);
        };
        Ok(keyed_value(&read(&dir.join("memory.oom_control"))?, "oom_kill").unwrap_or(0))
    }

    fn remove(&self) -> Result<(), CgroupError> {
        let mut first_err = None;
        for dir in self.dirs() {
            if let Err(e) = remove_dir(&dir) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn dirs(&self) -> Vec<PathBuf> {
        self.hierarchies
            .iter()
            .map(|h| h.mount_point.join(&self.rel))
            .collect()
    }

    fn set_freeze(&self, want: Freeze) -> Result<(), CgroupError> {
        let dir = self
            .dir_of("freezer")
            .ok_or(CgroupError::NoController("freezer"))?;
        freezer::set(&dir, want)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Cpu, DeviceRule, Memory, Pids};
    use std::fs;

    fn hierarchy(root: &Path, name: &str) -> HierarchyMount {
        let mount_point = root.join(name);
        fs::create_dir_all(&mount_point).unwrap();
        HierarchyMount {
            name: name.into(),
            mount_point,
            options: name.into(),
            controllers: vec![name.into()],
            v2: false,
        }
    }

    #[test]
    fn writes_controller_files_in_temp_tree() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let hs = ["memory", "cpu", "cpuset", "pids", "devices"]
            .iter()
            .map(|n| hierarchy(root, n))
            .collect();
        fs::write(root.join("cpuset/cpuset.cpus"), "0-3\n").unwrap();
        fs::write(root.join("cpuset/cpuset.mems"), "0\n").unwrap();
        let m = V1Manager::new(hs, Path::new("berth/c1"));
        m.create().unwrap();
        // The intermediate cpuset dir inherited the root's cpus and mems.
        assert_eq!(
            fs::read_to_string(root.join("cpuset/berth/cpuset.cpus")).unwrap(),
            "0-3"
        );
        let r = Resources {
            memory: Some(Memory {
                limit: Some(64 << 20),
                swap: Some(128 << 20),
                reservation: None,
            }),
            cpu: Some(Cpu {
                shares: Some(512),
                quota: Some(50000),
                period: Some(100000),
                cpus: "1".into(),
                mems: String::new(),
            }),
            pids: Some(Pids { limit: 0 }),
            devices: vec![DeviceRule {
                allow: false,
                kind: None,
                major: None,
                minor: None,
                access: Some("rwm".into()),
            }],
        };
        m.apply(&r).unwrap();
        let get = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(get("memory/berth/c1/memory.limit_in_bytes"), "67108864");
        // No memsw file in the tree: swap accounting is off, nothing written.
        assert!(!root
            .join("memory/berth/c1/memory.memsw.limit_in_bytes")
            .exists());
        assert_eq!(get("cpu/berth/c1/cpu.shares"), "512");
        assert_eq!(get("cpu/berth/c1/cpu.cfs_quota_us"), "50000");
        assert_eq!(get("cpuset/berth/c1/cpuset.cpus"), "1");
        assert_eq!(get("cpuset/berth/c1/cpuset.mems"), "0");
        assert_eq!(get("pids/berth/c1/pids.max"), "max");
        assert_eq!(get("devices/berth/c1/devices.deny"), "a *:* rwm");
        fs::write(
            root.join("memory/berth/c1/memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .unwrap();
        assert_eq!(m.oom_kill_count().unwrap(), 2);
    }
}
