//! The container's `/dev`: device nodes (the spec's plus runc's defaults),
//! the standard symlinks, `/dev/ptmx` into the devpts instance and
//! `/dev/console` bound to the terminal (a host pty before `pivot_root`, or
//! one of the container's devpts after it).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use super::path::secure_join;
use crate::process::failure::{Context, InitError, Stage};
use crate::spec::Device;

const NONE: Option<&str> = None;

/// Devices every container gets, as runc adds them: (path, major, minor).
const DEFAULT_DEVICES: &[(&str, i64, i64)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

const SYMLINKS: &[(&str, &str)] = &[
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
    ("/proc/kcore", "/dev/core"),
];

fn default_devices(spec: &[Device]) -> impl Iterator<Item = Device> + '_ {
    DEFAULT_DEVICES
        .iter()
        .filter(|(p, _, _)| !spec.iter().any(|d| d.path == *p))
        .map(|(p, major, minor)| Device {
            path: (*p).to_string(),
            kind: "c".into(),
            major: *major,
            minor: *minor,
            file_mode: Some(0o666),
            uid: Some(0),
            gid: Some(0),
        })
}

fn create_device(rootfs: &Path, d: &Device) -> Result<(), InitError> {
    let target =
        secure_join(rootfs, &d.path).at(Stage::Devices, || format!("resolve {}", d.path))?;
    if fs::symlink_metadata(&target).is_ok() {
        return Ok(());
    }
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent).at(Stage::Devices, || format!("create {}", parent.display()))?;
    }
    let kind = match d.kind.as_str() {
        "c" | "u" => SFlag::S_IFCHR,
        "b" => SFlag::S_IFBLK,
        "p" => SFlag::S_IFIFO,
        other => {
            return Err(InitError::plain(
                Stage::Devices,
                format!("device {}: unknown type {other:?}", d.path),
            ))
        }
    };
    let perm = Mode::from_bits_truncate(d.file_mode.unwrap_or(0o666) & 0o7777);
    let dev = makedev(
        u64::try_from(d.major).unwrap_or(0),
        u64::try_from(d.minor).unwrap_or(0),
    );
    let what = || format!("mknod {}", d.path);
    match mknod(&target, kind, perm, dev) {
        Ok(()) => {}
        // Without CAP_MKNOD: bind the host's node instead.
        Err(nix::errno::Errno::EPERM) => {
            fs::File::create(&target).at(Stage::Devices, what)?;
            mount(Some(d.path.as_str()), &target, NONE, MsFlags::MS_BIND, NONE)
                .at(Stage::Devices, what)?;
            return Ok(());
        }
        Err(e) => return Err(e).at(Stage::Devices, what),
    }
    nix::unistd::chown(
        &target,
        Some(d.uid.unwrap_or(0).into()),
        Some(d.gid.unwrap_or(0).into()),
    )
    .at(Stage::Devices, || format!("chown {}", d.path))
}

/// Fills the rootfs's `/dev` (before `pivot_root`). The process umask must be 0.
pub fn populate(rootfs: &Path, devices: &[Device], console: bool) -> Result<(), InitError> {
    for d in devices.iter().cloned().chain(default_devices(devices)) {
        create_device(rootfs, &d)?;
    }
    let dev = secure_join(rootfs, "/dev").at(Stage::Devices, || "resolve /dev")?;
    for (from, to) in SYMLINKS {
        let link = dev.join(to.trim_start_matches("/dev/"));
        if fs::symlink_metadata(&link).is_err() {
            symlink(from, &link).at(Stage::Devices, || format!("symlink {to}"))?;
        }
    }
    let ptmx = dev.join("ptmx");
    if dev.join("pts/ptmx").exists() {
        let _ = fs::remove_file(&ptmx);
        symlink("pts/ptmx", &ptmx).at(Stage::Devices, || "symlink /dev/ptmx")?;
    }
    if console {
        // Stdin is the terminal's slave by now. Its fd belongs to the
        // parent's mount namespace, which bind mounts refuse: go through
        // its path, which names our copy of the host's devpts mount.
        let slave =
            fs::read_link("/proc/self/fd/0").at(Stage::Devices, || "find the terminal's path")?;
        bind_console(&dev, &slave)?;
    }
    Ok(())
}

/// Binds the terminal at `slave` on `console` in the directory `dev`
/// (the file is created when missing).
pub fn bind_console(dev: &Path, slave: &Path) -> Result<(), InitError> {
    let target = dev.join("console");
    if fs::symlink_metadata(&target).is_err() {
        fs::File::create(&target).at(Stage::Devices, || "create /dev/console")?;
    }
    mount(Some(slave), &target, NONE, MsFlags::MS_BIND, NONE).at(Stage::Devices, || {
        format!("bind terminal {} on /dev/console", slave.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_devices_override_defaults() {
        let spec = vec![Device {
            path: "/dev/null".into(),
            kind: "c".into(),
            major: 1,
            minor: 3,
            file_mode: Some(0o600),
            uid: None,
            gid: None,
        }];
        let defaults: Vec<_> = default_devices(&spec).map(|d| d.path).collect();
        assert!(!defaults.contains(&"/dev/null".to_string()));
        assert!(defaults.contains(&"/dev/tty".to_string()));
        assert_eq!(defaults.len(), DEFAULT_DEVICES.len() - 1);
    }
}
