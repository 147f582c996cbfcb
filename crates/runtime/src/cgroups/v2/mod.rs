//! cgroup v2: one directory under the unified root; the controllers berth
//! uses are enabled in every ancestor's `cgroup.subtree_control`. Device
//! rules would need an eBPF program and are not applied.

mod cpu;
mod cpuset;
mod freezer;
mod memory;
mod pids;

use std::path::{Path, PathBuf};

use super::{create_dir, keyed_value, read, remove_dir, write, CgroupError, CgroupManager, Freeze};
use crate::spec::Resources;

/// Controllers enabled for the container when the root offers them.
const WANTED: [&str; 4] = ["cpu", "cpuset", "memory", "pids"];

#[derive(Debug)]
pub struct V2Manager {
    root: PathBuf,
    rel: PathBuf,
}

impl V2Manager {
    pub fn new(root: &Path, rel: &Path) -> V2Manager {
        V2Manager {
            root: root.to_path_buf(),
            rel: rel.to_path_buf(),
        }
    }

    fn dir(&self) -> PathBuf {
        self.root.join(&self.rel)
    }

    /// `+cpu +memory …` for the wanted controllers the root has.
    fn enable_line(&self) -> String {
        let available = read(&self.root.join("cgroup.controllers")).unwrap_or_default();
        let have: Vec<&str> = available.split_whitespace().collect();
        WANTED
            .iter()
            .filter(|c| have.contains(c))
            .map(|c| format!("+{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl CgroupManager for V2Manager {
    fn create(&self) -> Result<(), CgroupError> {
        let enable = self.enable_line();
        let mut dir = self.root.clone();
        for part in self.rel.components() {
            if !enable.is_empty() {
                write(&dir.join("cgroup.subtree_control"), &enable)?;
            }
            dir.push(part);
            create_dir(&dir)?;
        }
        Ok(())
    }

    fn apply(&self, r: &Resources) -> Result<(), CgroupError> {
        let dir = self.dir();
        if let Some(m) = &r.memory {
            memory::apply(&dir, m)?;
        }
        if let Some(c) = &r.cpu {
            cpu::apply(&dir, c)?;
            cpuset::apply(&dir, c)?;
        }
        if let Some(p) = &r.pids {
            pids::apply(&dir, p)?;
        }
        Ok(())
    }

    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        write(&self.dir().join("cgroup.procs"), &pid.to_string())
    }

    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        let text = read(&self.dir().join("memory.events"))?;
        Ok(keyed_value(&text, "oom_kill").unwrap_or(0))
    }

    fn remove(&self) -> Result<(), CgroupError> {
        remove_dir(&self.dir())
    }

    fn dirs(&self) -> Vec<PathBuf> {
        vec![self.dir()]
    }

    fn set_freeze(&self, want: Freeze) -> Result<(), CgroupError> {
        freezer::set(&self.dir(), want)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Cpu, Memory, Pids};
    use std::fs;

    #[test]
    fn writes_unified_files_in_temp_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::write(
            root.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .unwrap();
        let m = V2Manager::new(root, Path::new("berth/c2"));
        m.create().unwrap();
        let get = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(get("cgroup.subtree_control"), "+cpu +cpuset +memory +pids");
        assert_eq!(
            get("berth/cgroup.subtree_control"),
            "+cpu +cpuset +memory +pids"
        );
        let r = Resources {
            memory: Some(Memory {
                limit: Some(100 << 20),
                swap: Some(300 << 20),
                reservation: Some(50 << 20),
            }),
            cpu: Some(Cpu {
                shares: Some(1024),
                quota: Some(150000),
                period: None,
                cpus: "0-1".into(),
                mems: "0".into(),
            }),
            pids: Some(Pids { limit: 100 }),
            devices: vec![],
        };
        m.apply(&r).unwrap();
        assert_eq!(get("berth/c2/memory.max"), "104857600");
        assert_eq!(get("berth/c2/memory.swap.max"), "209715200");
        assert_eq!(get("berth/c2/memory.low"), "52428800");
        assert_eq!(get("berth/c2/cpu.weight"), "39");
        assert_eq!(get("berth/c2/cpu.max"), "150000 100000");
        assert_eq!(get("berth/c2/cpuset.cpus"), "0-1");
        assert_eq!(get("berth/c2/pids.max"), "100");
        m.add_task(42).unwrap();
        assert_eq!(get("berth/c2/cgroup.procs"), "42");
        fs::write(
            root.join("berth/c2/memory.events"),
            "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
        )
        .unwrap();
        assert_eq!(m.oom_kill_count().unwrap(), 1);
    }

    #[test]
    fn unlimited_values() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let m = V2Manager::new(root, Path::new("c"));
        m.create().unwrap();
        assert!(!root.join("cgroup.subtree_control").exists());
        let r = Resources {
            memory: Some(Memory {
                limit: Some(-1),
                swap: Some(-1),
                reservation: None,
            }),
            cpu: Some(Cpu {
                quota: Some(-1),
                period: Some(50000),
                ..Cpu::default()
            }),
            pids: Some(Pids { limit: -1 }),
            devices: vec![],
        };
        m.apply(&r).unwrap();
        let get = |p: &str| fs::read_to_string(root.join(p)).unwrap();
        assert_eq!(get("c/memory.max"), "max");
        assert_eq!(get("c/memory.swap.max"), "max");
        assert_eq!(get("c/cpu.max"), "max 50000");
        assert_eq!(get("c/pids.max"), "max");
    }
}
