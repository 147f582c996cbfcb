//! The container's root filesystem, built inside the init's own mount
//! namespace so that nothing leaks to the host: propagation of `/` cut,
//! rootfs mounts (the overlay), the spec's mounts, `/dev`, then
//! `pivot_root`. After the pivot: read-only and masked paths.

mod cgroupfs;
pub(crate) mod dev;
pub(crate) mod options;
pub(crate) mod path;
pub(crate) mod protect;

use std::fs;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::process::failure::{Context, InitError, Stage};
use crate::spec::{Mount, Spec};
use berth_util::trace::mark as trace;
use options::MountOptions;
use path::secure_join;

const NONE: Option<&str> = None;

/// Everything before and including `pivot_root`. `rootfs` is the absolute
/// root path; `console` says whether stdin is a terminal to bind at
/// `/dev/console`.
pub fn prepare(
    rootfs: &Path,
    spec: &Spec,
    rootfs_mounts: &[Mount],
    console: bool,
) -> Result<(), InitError> {
    // The host's `/` may be shared or private: as a slave nothing we mount
    // goes back to the host, and pivot_root accepts it.
    mount(NONE, "/", NONE, MsFlags::MS_SLAVE | MsFlags::MS_REC, NONE)
        .at(Stage::Rootfs, || "make / rslave")?;
    mount_root(rootfs, rootfs_mounts)?;
    trace("init.rootfs-mounted");
    for m in &spec.mounts {
        let target = secure_join(rootfs, &m.destination)
            .at(Stage::Rootfs, || format!("resolve {}", m.destination))?;
        mount_entry(m, &target)?;
    }
    trace("init.spec-mounts");
    dev::populate(rootfs, &spec.linux.devices, console)?;
    trace("init.dev");
    pivot_root(rootfs)
}

/// Makes `rootfs` a mount point: the rootfs mounts (an overlay) on it, or a
/// recursive bind of itself when there are none.
fn mount_root(rootfs: &Path, rootfs_mounts: &[Mount]) -> Result<(), InitError> {
    if rootfs_mounts.is_empty() {
        return mount(
            Some(rootfs),
            rootfs,
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            NONE,
        )
        .at(Stage::Rootfs, || {
            format!("bind rootfs {}", rootfs.display())
        });
    }
    for m in rootfs_mounts {
        let target = match m.destination.as_str() {
            "" | "/" => rootfs.to_path_buf(),
            dest => secure_join(rootfs, dest).at(Stage::Rootfs, || format!("resolve {dest}"))?,
        };
        mount_entry(m, &target)?;
    }
    Ok(())
}

/// Creates the mount target like runc: a file when a bind mount's source
/// is not a directory, else a directory.
fn create_target(m: &Mount, opts: &MountOptions, target: &Path) -> Result<(), InitError> {
    if fs::symlink_metadata(target).is_ok() {
        return Ok(());
    }
    let file = opts.is_bind()
        && fs::metadata(&m.source)
            .map(|s| !s.is_dir())
            .unwrap_or(false);
    let ctx = || format!("create mount target {}", target.display());
    if file {
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).at(Stage::Rootfs, ctx)?;
        }
        fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o755)
            .open(target)
            .map(drop)
            .at(Stage::Rootfs, ctx)
    } else {
        fs::create_dir_all(target).at(Stage::Rootfs, ctx)
    }
}

/// Mounts one spec mount at `target` (already resolved inside the rootfs).
pub(crate) fn mount_entry(m: &Mount, target: &Path) -> Result<(), InitError> {
    let opts = options::parse(&m.options);
    create_target(m, &opts, target)?;
    let what = || format!("mount {} on {}", m.source, target.display());
    if m.kind == "cgroup" {
        return cgroupfs::mount_cgroupfs(target, opts.flags);
    }
    if opts.is_bind() {
        mount(
            Some(m.source.as_str()),
            target,
            NONE,
            opts.flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
            NONE,
        )
        .at(Stage::Rootfs, what)?;
        if !opts.remount_flags().is_empty() {
            mount(
                NONE,
                target,
                NONE,
                (opts.flags - MsFlags::MS_REC) | MsFlags::MS_REMOUNT,
                NONE,
            )
            .at(Stage::Rootfs, || format!("remount {}", target.display()))?;
        }
    } else {
        let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
        let kind = (!m.kind.is_empty()).then_some(m.kind.as_str());
        mount(Some(m.source.as_str()), target, kind, opts.flags, data).at(Stage::Rootfs, what)?;
    }
    if !opts.propagation.is_empty() {
        mount(NONE, target, NONE, opts.propagation, NONE).at(Stage::Rootfs, || {
            format!("set propagation of {}", target.display())
        })?;
    }
    Ok(())
}

/// `pivot_root(".", ".")`, then the old root (stacked on `/`) is detached.
fn pivot_root(rootfs: &Path) -> Result<(), InitError> {
    nix::unistd::chdir(rootfs).at(Stage::PivotRoot, || format!("chdir {}", rootfs.display()))?;
    nix::unistd::pivot_root(".", ".").at(Stage::PivotRoot, || "pivot_root")?;
    // Keep the unmount of the old root from propagating anywhere.
    mount(NONE, ".", NONE, MsFlags::MS_SLAVE | MsFlags::MS_REC, NONE)
        .at(Stage::PivotRoot, || "make old root rslave")?;
    umount2(".", MntFlags::MNT_DETACH).at(Stage::PivotRoot, || "detach old root")?;
    nix::unistd::chdir("/").at(Stage::PivotRoot, || "chdir /")
}
