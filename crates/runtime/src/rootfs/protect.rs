//! After `pivot_root`: read-only paths (bound on themselves, remounted
//! read-only), masked paths (`/dev/null` over files, an empty read-only
//! tmpfs over directories) and the read-only root.

use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use nix::sys::statvfs::{statvfs, FsFlags};

use crate::process::failure::{Context, InitError, Stage};

const NONE: Option<&str> = None;

/// The per-mount flags of the mount holding `path`, so a remount keeps them.
fn current_flags(path: &Path) -> MsFlags {
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut out = MsFlags::empty();
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if f.contains(fs) {
            out |= ms;
        }
    }
    out
}

/// Remounts the mount at `path` read-only, keeping its other flags.
pub fn remount_readonly(path: &Path) -> Result<(), InitError> {
    let flags = current_flags(path) | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    mount(NONE, path, NONE, flags, NONE).at(Stage::Paths, || {
        format!("remount {} read-only", path.display())
    })
}

pub fn readonly_path(p: &str) -> Result<(), InitError> {
    let path = Path::new(p);
    match mount(
        Some(path),
        path,
        NONE,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        NONE,
    ) {
        Ok(()) => remount_readonly(path),
        Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e).at(Stage::Paths, || format!("bind {p} read-only")),
    }
}

pub fn masked_path(p: &str) -> Result<(), InitError> {
    let path = Path::new(p);
    let is_dir = match std::fs::metadata(path) {
        Ok(m) => m.is_dir(),
        Err(_) => return Ok(()),
    };
    let r = if is_dir {
        mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, NONE)
    } else {
        mount(Some("/dev/null"), path, NONE, MsFlags::MS_BIND, NONE)
    };
    match r {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(e).at(Stage::Paths, || format!("mask {p}")),
    }
}
