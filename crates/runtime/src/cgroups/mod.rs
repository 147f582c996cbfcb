//! cgroups behind one small trait, with a v1 (one hierarchy per controller)
//! and a v2 (unified) implementation. The cgroup root is injectable so the
//! writers can be tested against plain files in a temp dir.

pub mod freezer;
pub mod join;
pub mod mountinfo;
pub mod stats;
pub mod v1;
pub mod v2;

use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::spec::Resources;
pub use freezer::Freeze;
pub use mountinfo::HierarchyMount;

/// Where the host mounts its cgroups.
pub const DEFAULT_ROOT: &str = "/sys/fs/cgroup";

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid cgroup path {0:?}")]
    InvalidPath(String),
    #[error("read mount table: {0}")]
    MountTable(#[source] io::Error),
    #[error("create {path}: {source}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("write {value:?} to {path}: {source}")]
    Write {
        path: PathBuf,
        value: String,
        #[source]
        source: io::Error,
    },
    #[error("read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("remove {path}: {source}")]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("invalid memory limits: swap {swap} is below limit {limit}")]
    SwapBelowLimit { swap: i64, limit: i64 },
    #[error("no {0} cgroup controller is mounted")]
    NoController(&'static str),
    #[error("freeze {path}: the kernel still reports {state:?}")]
    NotFrozen { path: PathBuf, state: String },
}

/// What the runtime needs from a cgroup implementation.
pub trait CgroupManager {
    /// Creates the cgroup (and its parents) in every hierarchy.
    fn create(&self) -> Result<(), CgroupError>;
    /// Writes the resource limits.
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError>;
    /// Moves a process into the cgroup.
    fn add_task(&self, pid: i32) -> Result<(), CgroupError>;
    /// How many processes the kernel OOM-killed in this cgroup.
    fn oom_kill_count(&self) -> Result<u64, CgroupError>;
    /// Removes the cgroup's own directories (not the shared parents).
    fn remove(&self) -> Result<(), CgroupError>;
    /// The cgroup's directories, one per hierarchy.
    fn dirs(&self) -> Vec<PathBuf>;
    /// Freezes or thaws every process of the cgroup; returns once the
    /// kernel reports the state reached.
    fn set_freeze(&self, want: Freeze) -> Result<(), CgroupError>;
}

/// The implementation detected on this host.
#[derive(Debug)]
pub enum AnyManager {
    V1(v1::V1Manager),
    V2(v2::V2Manager),
}

impl AnyManager {
    fn inner(&self) -> &dyn CgroupManager {
        match self {
            AnyManager::V1(m) => m,
            AnyManager::V2(m) => m,
        }
    }
}

impl CgroupManager for AnyManager {
    fn create(&self) -> Result<(), CgroupError> {
        self.inner().create()
    }
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError> {
        self.inner().apply(resources)
    }
    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        self.inner().add_task(pid)
    }
    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        self.inner().oom_kill_count()
    }
    fn remove(&self) -> Result<(), CgroupError> {
        self.inner().remove()
    }
    fn dirs(&self) -> Vec<PathBuf> {
        self.inner().dirs()
    }
    fn set_freeze(&self, want: Freeze) -> Result<(), CgroupError> {
        self.inner().set_freeze(want)
    }
}

/// Whether `path` is a cgroup2 mount.
pub fn is_cgroup2(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false)
}

/// Checks a spec cgroup path (`berth/<id>`, leading `/` allowed) and makes
/// it relative.
pub fn relative_path(path: &str) -> Result<PathBuf, CgroupError> {
    let p = Path::new(path.trim_start_matches('/'));
    let ok =
        p.components().count() > 0 && p.components().all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        return Err(CgroupError::InvalidPath(path.to_string()));
    }
    Ok(p.to_path_buf())
}

/// The manager for `path` on this host: v2 when the root is cgroup2, else
/// v1 over every cgroup hierarchy mounted under the root.
pub fn detect(path: &str) -> Result<AnyManager, CgroupError> {
    let rel = relative_path(path)?;
    let root = Path::new(DEFAULT_ROOT);
    if is_cgroup2(root) {
        return Ok(AnyManager::V2(v2::V2Manager::new(root, &rel)));
    }
    let hierarchies = HierarchyMount::from_mountinfo().map_err(CgroupError::MountTable)?;
    Ok(AnyManager::V1(v1::V1Manager::new(hierarchies, &rel)))
}

pub(crate) fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    std::fs::write(path, value).map_err(|source| CgroupError::Write {
        path: path.to_path_buf(),
        value: value.to_string(),
        source,
    })
}

pub(crate) fn read(path: &Path) -> Result<String, CgroupError> {
    std::fs::read_to_string(path).map_err(|source| CgroupError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// `key N` from a flat keyed file (`memory.events`, `memory.oom_control`).
pub(crate) fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

pub(crate) fn create_dir(path: &Path) -> Result<(), CgroupError> {
    std::fs::create_dir_all(path).map_err(|source| CgroupError::Create {
        path: path.to_path_buf(),
        source,
    })
}

/// rmdir, retried briefly while the kernel still counts exiting tasks.
pub(crate) fn remove_dir(path: &Path) -> Result<(), CgroupError> {
    let mut tries = 0;
    loop {
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(source) => {
                return Err(CgroupError::Remove {
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path("/berth/x").unwrap(), PathBuf::from("berth/x"));
        assert_eq!(relative_path("berth/x").unwrap(), PathBuf::from("berth/x"));
        assert!(relative_path("../x").is_err());
        assert!(relative_path("").is_err());
        assert!(relative_path("/").is_err());
    }

    #[test]
    fn keyed_values() {
        let t = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(keyed_value(t, "oom_kill"), Some(3));
        assert_eq!(keyed_value(t, "oom"), None);
    }
}
