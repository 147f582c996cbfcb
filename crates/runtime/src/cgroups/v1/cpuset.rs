//! v1 cpuset controller. A new cpuset directory starts with empty `cpus`
//! and `mems`, and no task may join it then: each level created copies its
//! parent's values first.

use std::path::Path;

use crate::cgroups::{create_dir, read, write, CgroupError};
use crate::spec::Cpu;

const FILES: [&str; 2] = ["cpuset.cpus", "cpuset.mems"];

/// Creates `mount/rel` level by level, filling empty cpus/mems from the parent.
pub fn create_with_inherited(mount: &Path, rel: &Path) -> Result<(), CgroupError> {
    let mut dir = mount.to_path_buf();
    for part in rel.components() {
        let parent = dir.clone();
        dir.push(part);
        create_dir(&dir)?;
        for file in FILES {
            let own = read(&dir.join(file)).unwrap_or_default();
            if own.trim().is_empty() {
                let inherited = read(&parent.join(file))?;
                write(&dir.join(file), inherited.trim())?;
            }
        }
    }
    Ok(())
}

pub fn apply(dir: &Path, c: &Cpu) -> Result<(), CgroupError> {
    if !c.cpus.is_empty() {
        write(&dir.join("cpuset.cpus"), &c.cpus)?;
    }
    if !c.mems.is_empty() {
        write(&dir.join("cpuset.mems"), &c.mems)?;
    }
    Ok(())
}
