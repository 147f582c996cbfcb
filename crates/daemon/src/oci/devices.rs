//! Device nodes created in the container's `/dev` and the device cgroup
//! rules: Docker's (and runc's) defaults, or every host device and an
//! allow-all rule when privileged.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use berth_runtime::spec::{Device, DeviceRule};

use super::SpecError;

/// The nodes every container gets: (path, major, minor).
const DEFAULT_NODES: &[(&str, i64, i64)] = &[
    ("/dev/null", 1, 3),
    ("/dev/zero", 1, 5),
    ("/dev/full", 1, 7),
    ("/dev/random", 1, 8),
    ("/dev/urandom", 1, 9),
    ("/dev/tty", 5, 0),
];

/// Allowed after "deny all": (type, major, minor, access); `None` is `*`.
const DEFAULT_ALLOW: &[(&str, Option<i64>, Option<i64>, &str)] = &[
    ("c", None, None, "m"),
    ("b", None, None, "m"),
    ("c", Some(1), Some(3), "rwm"),
    ("c", Some(1), Some(5), "rwm"),
    ("c", Some(1), Some(7), "rwm"),
    ("c", Some(5), Some(0), "rwm"),
    ("c", Some(5), Some(1), "rwm"),
    ("c", Some(1), Some(8), "rwm"),
    ("c", Some(1), Some(9), "rwm"),
    ("c", Some(136), None, "rwm"),
    ("c", Some(5), Some(2), "rwm"),
    ("c", Some(10), Some(200), "rwm"),
];

/// Directories and files of the host's `/dev` never copied into a
/// privileged container (they are mounted or created separately).
const SKIP_DIRS: &[&str] = &["pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"];
const SKIP_FILES: &[&str] = &["console"];

/// The device nodes and cgroup rules of a container; `dev_root` is where the
/// host's devices are found for a privileged one (`None`: add none).
pub(crate) fn for_container(
    privileged: bool,
    dev_root: &Option<std::path::PathBuf>,
) -> Result<(Vec<Device>, Vec<DeviceRule>), SpecError> {
    let mut devices: Vec<Device> = DEFAULT_NODES
        .iter()
        .map(|(path, major, minor)| Device {
            path: path.to_string(),
            kind: "c".to_string(),
            major: *major,
            minor: *minor,
            file_mode: Some(0o666),
            uid: Some(0),
            gid: Some(0),
        })
        .collect();
    if !privileged {
        let deny_all = DeviceRule {
            allow: false,
            kind: None,
            major: None,
            minor: None,
            access: Some("rwm".to_string()),
        };
        let allowed = DEFAULT_ALLOW
            .iter()
            .map(|(kind, major, minor, access)| DeviceRule {
                allow: true,
                kind: Some(kind.to_string()),
                major: *major,
                minor: *minor,
                access: Some(access.to_string()),
            });
        return Ok((devices, std::iter::once(deny_all).chain(allowed).collect()));
    }
    if let Some(root) = dev_root {
        let mut host = Vec::new();
        scan(root, "/dev", &mut host).map_err(|e| {
            SpecError(format!(
                "error gathering host devices in {}: {e}",
                root.display()
            ))
        })?;
        host.retain(|h| !devices.iter().any(|d| d.path == h.path));
        devices.extend(host);
    }
    let allow_all = DeviceRule {
        allow: true,
        kind: None,
        major: None,
        minor: None,
        access: Some("rwm".to_string()),
    };
    Ok((devices, vec![allow_all]))
}

/// Collects the character and block devices under `dir` (seen in the
/// container as `prefix`), not following symlinks; unreadable
/// subdirectories are skipped.
fn scan(dir: &Path, prefix: &str, out: &mut Vec<Device>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Ok(meta) = entry.metadata() else { continue };
        let path = format!("{prefix}/{name}");
        let ft = meta.file_type();
        if ft.is_dir() {
            if !SKIP_DIRS.contains(&name) {
                let _ = scan(&entry.path(), &path, out);
            }
            continue;
        }
        let kind = if ft.is_char_device() {
            "c"
        } else if ft.is_block_device() {
            "b"
        } else {
            continue;
        };
        if SKIP_FILES.contains(&name) {
            continue;
        }
        let rdev = meta.rdev();
        out.push(Device {
            path,
            kind: kind.to_string(),
            major: i64::from(libc::major(rdev)),
            minor: i64::from(libc::minor(rdev)),
            file_mode: Some(meta.mode() & 0o777),
            uid: Some(meta.uid()),
            gid: Some(meta.gid()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn defaults() {
        let (devices, rules) = for_container(false, &None).unwrap();
        let paths: Vec<&str> = devices.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/dev/null",
                "/dev/zero",
                "/dev/full",
                "/dev/random",
                "/dev/urandom",
                "/dev/tty"
            ]
        );
        assert!(devices
            .iter()
            .all(|d| d.file_mode == Some(0o666) && d.uid == Some(0) && d.kind == "c"));
        assert!(
            !rules[0].allow && rules[0].kind.is_none() && rules[0].access.as_deref() == Some("rwm")
        );
        assert_eq!(rules.len(), 13);
        let pts = rules.iter().find(|r| r.major == Some(136)).unwrap();
        assert!(pts.allow && pts.minor.is_none());
        assert!(rules
            .iter()
            .any(|r| r.major == Some(10) && r.minor == Some(200)));
    }

    #[test]
    fn privileged_allows_all_and_copies_host_devices() {
        let (_, rules) = for_container(true, &None).unwrap();
        assert_eq!(rules.len(), 1);
        assert!(rules[0].allow && rules[0].kind.is_none() && rules[0].major.is_none());

        // /dev/null exists everywhere; the scan finds it and no duplicate is added.
        let (devices, _) = for_container(true, &Some(PathBuf::from("/dev"))).unwrap();
        assert_eq!(devices.iter().filter(|d| d.path == "/dev/null").count(), 1);
        assert!(!devices
            .iter()
            .any(|d| d.path.starts_with("/dev/pts/") || d.path == "/dev/console"));
        assert!(for_container(true, &Some(PathBuf::from("/nonexistent/berth"))).is_err());
    }

    #[test]
    fn scan_reads_device_numbers() {
        let mut out = Vec::new();
        scan(Path::new("/dev"), "/dev", &mut out).unwrap();
        let zero = out.iter().find(|d| d.path == "/dev/zero").unwrap();
        assert_eq!((zero.kind.as_str(), zero.major, zero.minor), ("c", 1, 5));
    }
}
