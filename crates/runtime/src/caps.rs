//! Capabilities: names to numbers, dropping the bounding set, and setting
//! the effective/permitted/inheritable sets (`capset`) and the ambient set.

use crate::spec::Capabilities;

/// Capability names in number order (`CAP_CHOWN` = 0, …).
const NAMES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const PR_CAP_AMBIENT: libc::c_int = 47;
const PR_CAP_AMBIENT_RAISE: libc::c_ulong = 2;
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong = 4;

/// Every capability name this build knows, in number order.
pub fn names() -> &'static [&'static str] {
    NAMES
}

/// The number of a capability name; `None` for names this build does not know.
pub fn number(name: &str) -> Option<u32> {
    NAMES
        .iter()
        .position(|n| *n == name)
        .and_then(|p| u32::try_from(p).ok())
}

/// The five sets as bit masks; unknown names and capabilities above
/// `last_cap` are left out (runc only warns about them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CapSets {
    pub bounding: u64,
    pub effective: u64,
    pub permitted: u64,
    pub inheritable: u64,
    pub ambient: u64,
}

fn mask(names: &[String], last_cap: u32) -> u64 {
    names
        .iter()
        .filter_map(|n| number(n))
        .filter(|c| *c <= last_cap)
        .fold(0, |m, c| m | (1u64 << c))
}

impl CapSets {
    pub fn from_spec(c: &Capabilities, last_cap: u32) -> CapSets {
        CapSets {
            bounding: mask(&c.bounding, last_cap),
            effective: mask(&c.effective, last_cap),
            permitted: mask(&c.permitted, last_cap),
            inheritable: mask(&c.inheritable, last_cap),
            ambient: mask(&c.ambient, last_cap),
        }
    }
}

/// The highest capability the kernel knows.
pub fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn prctl(option: libc::c_int, arg2: libc::c_ulong, arg3: libc::c_ulong) -> std::io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(option, arg2, arg3, 0, 0) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Drops every capability not in `bounding` from the bounding set (needs
/// CAP_SETPCAP in the effective set).
pub fn drop_bounding(bounding: u64, last_cap: u32) -> std::io::Result<()> {
    for cap in 0..=last_cap.min(63) {
        if bounding & (1u64 << cap) == 0 {
            prctl(libc::PR_CAPBSET_DROP, libc::c_ulong::from(cap), 0)?;
        }
    }
    Ok(())
}

/// Sets effective, permitted and inheritable (capset), then the ambient set.
pub fn apply(sets: &CapSets) -> std::io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let split = |m: u64| [(m & 0xffff_ffff) as u32, (m >> 32) as u32];
    let (e, p, i) = (
        split(sets.effective),
        split(sets.permitted),
        split(sets.inheritable),
    );
    let header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [0, 1].map(|k| Data {
        effective: e[k],
        permitted: p[k],
        inheritable: i[k],
    });
    // SAFETY: header and two data structs as capset(2) v3 expects.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0)?;
    for cap in 0..64u32 {
        if sets.ambient & (1u64 << cap) != 0 {
            prctl(
                PR_CAP_AMBIENT,
                PR_CAP_AMBIENT_RAISE,
                libc::c_ulong::from(cap),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_kernel_numbers() {
        assert_eq!(number("CAP_CHOWN"), Some(0));
        assert_eq!(number("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(number("CAP_CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(number("CAP_NOPE"), None);
    }

    #[test]
    fn sets_skip_unknown_and_too_new() {
        let c = Capabilities {
            bounding: vec!["CAP_KILL".into(), "CAP_BPF".into(), "CAP_NOPE".into()],
            ambient: vec!["CAP_KILL".into()],
            ..Capabilities::default()
        };
        let s = CapSets::from_spec(&c, 38);
        assert_eq!(s.bounding, 1 << 5);
        assert_eq!(s.ambient, 1 << 5);
        assert_eq!(s.effective, 0);
    }
}
