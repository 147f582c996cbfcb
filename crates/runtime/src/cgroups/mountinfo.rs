//! The host's cgroup hierarchies, read from `/proc/self/mountinfo`.

use std::io;
use std::path::{Path, PathBuf};

/// One cgroup (v1) or cgroup2 mount under the cgroup root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HierarchyMount {
    /// Directory name under the root: `memory`, `cpu,cpuacct`, `systemd`, `unified`.
    pub name: String,
    pub mount_point: PathBuf,
    /// Superblock options without `rw`/`ro`: `memory`, `name=systemd`.
    pub options: String,
    /// v1 controllers this hierarchy has (empty for named ones and cgroup2).
    pub controllers: Vec<String>,
    pub v2: bool,
}

const CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let digits = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        if let (b'\\', Some(d)) = (b[i], digits) {
            out.push(
                d.iter()
                    .fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')),
            );
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl HierarchyMount {
    /// Cgroup mounts directly under `root` in a mountinfo text.
    pub fn parse(mountinfo: &str, root: &Path) -> Vec<HierarchyMount> {
        let mut out = Vec::new();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let Some(mount_point) = left.split(' ').nth(4).map(unescape) else {
                continue;
            };
            let mut r = right.split(' ');
            let (Some(fstype), Some(_source), Some(superopts)) = (r.next(), r.next(), r.next())
            else {
                continue;
            };
            let v2 = match fstype {
                "cgroup" => false,
                "cgroup2" => true,
                _ => continue,
            };
            let mount_point = PathBuf::from(mount_point);
            if mount_point.parent() != Some(root) {
                continue;
            }
            let opts: Vec<&str> = superopts
                .split(',')
                .filter(|o| *o != "rw" && *o != "ro")
                .collect();
            let controllers = if v2 {
                Vec::new()
            } else {
                opts.iter()
                    .filter(|o| CONTROLLERS.contains(o))
                    .map(|o| o.to_string())
                    .collect()
            };
            let name = mount_point
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if out
                .iter()
                .any(|h: &HierarchyMount| h.mount_point == mount_point)
            {
                continue;
            }
            out.push(HierarchyMount {
                name,
                mount_point,
                options: opts.join(","),
                controllers,
                v2,
            });
        }
        out
    }

    /// The hierarchies under `/sys/fs/cgroup` of the calling process.
    pub fn from_mountinfo() -> io::Result<Vec<HierarchyMount>> {
        let text = std::fs::read_to_string("/proc/self/mountinfo")?;
        Ok(Self::parse(&text, Path::new(super::DEFAULT_ROOT)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
30 27 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
33 30 0:29 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
34 30 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
35 27 0:31 / /mnt/other\\040dir rw - cgroup cgroup rw,pids
";

    #[test]
    fn parses_hybrid_layout() {
        let h = HierarchyMount::parse(HYBRID, Path::new("/sys/fs/cgroup"));
        let names: Vec<_> = h.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["cpu", "memory", "systemd", "unified"]);
        assert_eq!(h[1].controllers, ["memory"]);
        assert_eq!(h[2].options, "xattr,name=systemd");
        assert!(h[2].controllers.is_empty());
        assert!(h[3].v2);
    }

    #[test]
    fn unescapes_mount_points() {
        assert_eq!(unescape("/mnt/other\\040dir"), "/mnt/other dir");
        assert_eq!(unescape("/plain"), "/plain");
    }
}
