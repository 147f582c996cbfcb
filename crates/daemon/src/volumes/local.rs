//! The `local` driver's options (`type`, `device`, `o`): their validation at
//! create, and the host mount of such a volume on its `_data` directory
//! while containers use it (`type=tmpfs`, `type=none,o=bind,device=/path`,
//! or any filesystem the kernel mounts from a device and data string).
//!
//! The `o` string is split into mount flags and filesystem data by a small
//! table of its own: the runtime's parser is private to the runtime and
//! works on a spec's option list, not on Docker's `o=` string.

use std::collections::BTreeMap;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};

/// Options the local driver accepts.
const VALID: &[&str] = &["type", "device", "o", "size"];

/// An option that needs another one (Docker's `mandatoryOpts`).
const REQUIRES: &[(&str, &str)] = &[("device", "type"), ("type", "device"), ("o", "device")];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LocalError {
    #[error("invalid option: {0:?}")]
    InvalidOption(String),
    #[error("missing required option: {0:?}")]
    MissingOption(&'static str),
    #[error("quota size requested but no quota support")]
    NoQuota,
    #[error("failed to mount local volume: mount {device}:{target}, flags: {flags:#x}: {reason}")]
    Mount {
        device: String,
        target: String,
        flags: u64,
        reason: String,
    },
    #[error("failed to unmount local volume {target}: {reason}")]
    Unmount { target: String, reason: String },
}

/// Checks the options of a volume being created.
pub fn validate(opts: &BTreeMap<String, String>) -> Result<(), LocalError> {
    if let Some(bad) = opts.keys().find(|k| !VALID.contains(&k.as_str())) {
        return Err(LocalError::InvalidOption(bad.clone()));
    }
    for (have, need) in REQUIRES {
        if opts.contains_key(*have) && !opts.contains_key(*need) {
            return Err(LocalError::MissingOption(need));
        }
    }
    if opts.contains_key("size") {
        return Err(LocalError::NoQuota);
    }
    Ok(())
}

/// What must be mounted on a volume's `_data` before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMount {
    pub fs_type: String,
    pub device: String,
    pub options: String,
}

impl LocalMount {
    /// The mount of a volume with these options, if it has one.
    pub fn of(opts: &BTreeMap<String, String>) -> Option<LocalMount> {
        let device = opts.get("device")?;
        Some(LocalMount {
            fs_type: opts.get("type").cloned().unwrap_or_default(),
            device: device.clone(),
            options: opts.get("o").cloned().unwrap_or_default(),
        })
    }

    /// A tmpfs volume's content dies with its mount: nothing to copy into it.
    pub fn is_tmpfs(&self) -> bool {
        self.fs_type == "tmpfs"
    }

    /// Mounts the volume on `target`.
    pub fn mount(&self, target: &Path) -> Result<(), LocalError> {
        let (flags, propagation, data) = split_options(&self.options);
        let fail = |flags: MsFlags, e: nix::Error| LocalError::Mount {
            device: self.device.clone(),
            target: target.display().to_string(),
            flags: flags.bits(),
            reason: describe(e),
        };
        let fs_type = (!self.fs_type.is_empty()).then_some(self.fs_type.as_str());
        let data = (!data.is_empty()).then_some(data.as_str());
        let first = if flags.contains(MsFlags::MS_BIND) {
            flags & (MsFlags::MS_BIND | MsFlags::MS_REC)
        } else {
            flags
        };
        mount(Some(self.device.as_str()), target, fs_type, first, data)
            .map_err(|e| fail(first, e))?;
        let rest = flags - (MsFlags::MS_BIND | MsFlags::MS_REC);
        if flags.contains(MsFlags::MS_BIND) && !rest.is_empty() {
            let again = rest | MsFlags::MS_BIND | MsFlags::MS_REMOUNT;
            if let Err(e) = mount(None::<&str>, target, None::<&str>, again, None::<&str>) {
                let _ = umount2(target, MntFlags::MNT_DETACH);
                return Err(fail(again, e));
            }
        }
        if !propagation.is_empty() {
            if let Err(e) = mount(
                None::<&str>,
                target,
                None::<&str>,
                propagation,
                None::<&str>,
            ) {
                let _ = umount2(target, MntFlags::MNT_DETACH);
                return Err(fail(propagation, e));
            }
        }
        Ok(())
    }
}

/// Detaches every mount stacked on `target`.
pub fn unmount_all(target: &Path) -> Result<(), LocalError> {
    for _ in 0..16 {
        if !is_mounted(target) {
            return Ok(());
        }
        umount2(target, MntFlags::MNT_DETACH).map_err(|e| LocalError::Unmount {
            target: target.display().to_string(),
            reason: describe(e),
        })?;
    }
    Err(LocalError::Unmount {
        target: target.display().to_string(),
        reason: "still mounted".into(),
    })
}

/// Whether something is mounted on `target` in the daemon's namespace.
pub fn is_mounted(target: &Path) -> bool {
    let want = target.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .any(|p| unescape(p) == want)
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') << 6 | (d[1] - b'0') << 3 | (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Go's lowercase errno text ("no such file or directory").
fn describe(e: nix::Error) -> String {
    let d = e.desc();
    let mut c = d.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => d.to_string(),
    }
}

/// Splits `o=` into mount flags, a propagation and the filesystem's data,
/// with the runtime's decoder of mount options.
fn split_options(o: &str) -> (MsFlags, MsFlags, String) {
    let list: Vec<String> = o
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let m = berth_runtime::parse_mount_options(&list);
    (m.flags, m.propagation, m.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Messages as Docker 20.10's local driver answers `volume create -o …`.
    #[test]
    fn validation() {
        assert!(validate(&opts(&[])).is_ok());
        assert!(validate(&opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m")
        ]))
        .is_ok());
        let err = |p: &[(&str, &str)]| validate(&opts(p)).unwrap_err().to_string();
        assert_eq!(err(&[("bad", "1")]), "invalid option: \"bad\"");
        assert_eq!(
            err(&[("type", "none"), ("o", "bind")]),
            "missing required option: \"device\""
        );
        assert_eq!(
            err(&[("device", "/tmp")]),
            "missing required option: \"type\""
        );
        assert_eq!(
            err(&[("o", "size=1m")]),
            "missing required option: \"device\""
        );
        assert_eq!(
            err(&[("size", "1g")]),
            "quota size requested but no quota support"
        );
    }

    #[test]
    fn options_split_into_flags_and_data() {
        let (f, p, d) = split_options("size=1m,ro,nosuid,rshared,uid=5");
        assert_eq!(f, MsFlags::MS_RDONLY | MsFlags::MS_NOSUID);
        assert_eq!(p, MsFlags::MS_SHARED | MsFlags::MS_REC);
        assert_eq!(d, "size=1m,uid=5");
        let (f, _, d) = split_options("bind,ro,rw");
        assert_eq!(f, MsFlags::MS_BIND);
        assert_eq!(d, "");
        assert!(LocalMount::of(&opts(&[("o", "x")])).is_none());
        let m = LocalMount::of(&opts(&[("type", "tmpfs"), ("device", "tmpfs")])).unwrap();
        assert!(m.is_tmpfs());
    }

    #[test]
    fn mountinfo_paths_unescape() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/a\\134b\\"), "/a\\b\\");
        assert!(is_mounted(Path::new("/proc")));
        assert!(!is_mounted(Path::new("/proc/self/nope")));
    }

    /// Needs root: a tmpfs and a read-only bind mounted and detached again.
    #[test]
    fn mounts_and_unmounts() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("_data");
        std::fs::create_dir(&target).unwrap();
        let tmpfs = LocalMount::of(&opts(&[
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "size=1m"),
        ]))
        .unwrap();
        tmpfs.mount(&target).unwrap();
        let mounted = is_mounted(&target);
        unmount_all(&target).unwrap();
        assert!(mounted);
        assert!(!is_mounted(&target));

        let src = dir.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("f"), "x").unwrap();
        let bind = LocalMount::of(&opts(&[
            ("type", "none"),
            ("device", src.to_str().unwrap()),
            ("o", "bind,ro"),
        ]))
        .unwrap();
        bind.mount(&target).unwrap();
        let seen = std::fs::read_to_string(target.join("f"));
        let write = std::fs::write(target.join("g"), "y");
        unmount_all(&target).unwrap();
        assert_eq!(seen.unwrap(), "x");
        assert!(write.is_err(), "read-only bind was writable");

        let missing = LocalMount::of(&opts(&[
            ("type", "none"),
            ("device", "/nonexistent-berth"),
            ("o", "bind"),
        ]))
        .unwrap();
        let e = missing.mount(&target).unwrap_err().to_string();
        assert!(
            e.starts_with("failed to mount local volume: mount /nonexistent-berth:"),
            "{e}"
        );
        assert!(
            e.ends_with(", flags: 0x1000: no such file or directory"),
            "{e}"
        );
    }
}
