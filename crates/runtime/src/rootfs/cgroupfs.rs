//! The container's `/sys/fs/cgroup` (a spec mount of type `cgroup`): cgroup2
//! on a unified host; on a v1 host a tmpfs with one cgroup mount per
//! hierarchy the host has. Mounted after the cgroup namespace was unshared,
//! so each shows the container's own cgroup as its root.

use std::fs;
use std::path::Path;

use nix::mount::{mount, MsFlags};

use crate::cgroups::{is_cgroup2, HierarchyMount};
use crate::process::failure::{Context, InitError, Stage};

const NONE: Option<&str> = None;

pub fn mount_cgroupfs(target: &Path, flags: MsFlags) -> Result<(), InitError> {
    let what = || format!("mount cgroup on {}", target.display());
    if is_cgroup2(Path::new(crate::cgroups::DEFAULT_ROOT)) {
        return mount(Some("cgroup"), target, Some("cgroup2"), flags, NONE).at(Stage::Rootfs, what);
    }
    let base = flags - MsFlags::MS_RDONLY;
    mount(Some("tmpfs"), target, Some("tmpfs"), base, Some("mode=755")).at(Stage::Rootfs, what)?;
    let hierarchies =
        HierarchyMount::from_mountinfo().at(Stage::Rootfs, || "read /proc/self/mountinfo")?;
    for h in hierarchies {
        let dir = target.join(&h.name);
        fs::create_dir_all(&dir).at(Stage::Rootfs, || format!("create {}", dir.display()))?;
        let (kind, data) = if h.v2 {
            ("cgroup2", None)
        } else {
            ("cgroup", Some(h.options.as_str()))
        };
        mount(Some("cgroup"), &dir, Some(kind), flags, data).at(Stage::Rootfs, || {
            format!("mount cgroup {} on {}", h.name, dir.display())
        })?;
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        mount(
            NONE,
            target,
            NONE,
            flags | MsFlags::MS_REMOUNT,
            Some("mode=755"),
        )
        .at(Stage::Rootfs, || {
            format!("remount {} read-only", target.display())
        })?;
    }
    Ok(())
}
