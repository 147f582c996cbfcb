//! The host facts the translation depends on, read once per spec: kernel
//! version, native seccomp architecture, the capabilities this daemon can
//! grant, CPUs and memory nodes, hostname, swap accounting, the init binary
//! for `--init`, and where host devices live (for `--privileged`).

use std::fs;
use std::path::{Path, PathBuf};

use super::init;

/// What the spec needs to know about the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    /// Kernel `major.minor`.
    pub kernel: (u32, u32),
    /// libseccomp name of the native architecture (`SCMP_ARCH_X86_64`).
    pub seccomp_arch: &'static str,
    /// Go name of the native architecture (`amd64`), as Docker's profile uses.
    pub go_arch: &'static str,
    /// Capabilities this daemon may grant (bit n = capability n): its own
    /// bounding set, limited to what the kernel knows.
    pub caps_mask: u64,
    pub ncpu: usize,
    /// CPUs and memory nodes online, in cpuset list format (`0-3`).
    pub cpus_online: String,
    pub mems_online: String,
    pub hostname: String,
    /// Whether the memory cgroup accounts swap (else `--memory-swap` is ignored).
    pub swap_limit: bool,
    /// Whether `net.ipv4.ping_group_range` and
    /// `net.ipv4.ip_unprivileged_port_start` exist (Docker sets both).
    pub ping_group_range: bool,
    pub unprivileged_port_start: bool,
    /// Whether the kernel has IPv6 (Docker turns it off in containers on
    /// IPv4-only networks).
    pub ipv6: bool,
    /// A static init binary for `--init`.
    pub init_path: Option<PathBuf>,
    /// Where to find the host's device nodes for privileged containers;
    /// `None` adds none.
    pub dev_root: Option<PathBuf>,
}

impl Host {
    /// Reads the facts of this host.
    pub fn probe() -> Host {
        let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (seccomp_arch, go_arch) = native_arch();
        Host {
            kernel: read_trimmed("/proc/sys/kernel/osrelease")
                .as_deref()
                .and_then(parse_kernel)
                .unwrap_or((0, 0)),
            seccomp_arch,
            go_arch,
            caps_mask: caps_mask(
                read_trimmed("/proc/self/status").as_deref(),
                read_trimmed("/proc/sys/kernel/cap_last_cap").and_then(|s| s.parse().ok()),
            ),
            ncpu,
            cpus_online: read_trimmed("/sys/devices/system/cpu/online")
                .unwrap_or_else(|| format!("0-{}", ncpu.saturating_sub(1))),
            mems_online: read_trimmed("/sys/devices/system/node/online")
                .unwrap_or_else(|| "0".into()),
            hostname: nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_default(),
            swap_limit: swap_limit(),
            ping_group_range: Path::new("/proc/sys/net/ipv4/ping_group_range").exists(),
            unprivileged_port_start: Path::new("/proc/sys/net/ipv4/ip_unprivileged_port_start")
                .exists(),
            ipv6: Path::new("/proc/sys/net/ipv6").exists(),
            init_path: init::find(),
            dev_root: Some(PathBuf::from("/dev")),
        }
    }

    /// A fixed x86_64 host for tests: kernel 6.1, 2 CPUs, every capability.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Host {
        Host {
            kernel: (6, 1),
            seccomp_arch: "SCMP_ARCH_X86_64",
            go_arch: "amd64",
            caps_mask: (1 << 41) - 1,
            ncpu: 2,
            cpus_online: "0-1".into(),
            mems_online: "0".into(),
            hostname: "testhost".into(),
            swap_limit: true,
            ping_group_range: true,
            unprivileged_port_start: true,
            ipv6: true,
            init_path: Some(PathBuf::from("/usr/bin/docker-init")),
            dev_root: None,
        }
    }
}

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// `6.18.44-fc` → `(6, 18)`.
pub(crate) fn parse_kernel(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The bounding set from `/proc/self/status` (`CapBnd:`), limited to the
/// kernel's last capability; all known ones when neither can be read.
fn caps_mask(status: Option<&str>, last_cap: Option<u32>) -> u64 {
    let kernel = match last_cap {
        Some(last) if last < 63 => (1u64 << (last + 1)) - 1,
        _ => (1u64 << 41) - 1,
    };
    let bounding = status
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("CapBnd:")))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(u64::MAX);
    bounding & kernel
}

/// Swap accounting: `memory.memsw.*` on cgroup v1; assumed on v2.
fn swap_limit() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
        || Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
}

fn native_arch() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "x86_64" => ("SCMP_ARCH_X86_64", "amd64"),
        "x86" => ("SCMP_ARCH_X86", "386"),
        "aarch64" => ("SCMP_ARCH_AARCH64", "arm64"),
        "arm" => ("SCMP_ARCH_ARM", "arm"),
        "s390x" => ("SCMP_ARCH_S390X", "s390x"),
        "powerpc64" if cfg!(target_endian = "little") => ("SCMP_ARCH_PPC64LE", "ppc64le"),
        "powerpc64" => ("SCMP_ARCH_PPC64", "ppc64"),
        "riscv64" => ("SCMP_ARCH_RISCV64", "riscv64"),
        "loongarch64" => ("SCMP_ARCH_LOONGARCH64", "loong64"),
        "mips64" => ("SCMP_ARCH_MIPS64", "mips64"),
        other => ("", other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_release() {
        assert_eq!(parse_kernel("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(parse_kernel("5.4.0-150-generic"), Some((5, 4)));
        assert_eq!(parse_kernel("4.8"), Some((4, 8)));
        assert_eq!(parse_kernel("4.19rc1"), Some((4, 19)));
        assert_eq!(parse_kernel("abc"), None);
    }

    #[test]
    fn caps_mask_from_status() {
        let status = "Name:\tx\nCapBnd:\t000001fffeffffff\n";
        assert_eq!(caps_mask(Some(status), Some(40)), 0x1fffeffffff);
        assert_eq!(caps_mask(Some(status), Some(37)), 0x3ffeffffff);
        assert_eq!(caps_mask(None, None), (1 << 41) - 1);
    }

    #[test]
    fn probe_reads_this_host() {
        let host = Host::probe();
        assert!(host.kernel.0 >= 3, "{:?}", host.kernel);
        assert!(host.ncpu >= 1);
        assert_ne!(host.caps_mask, 0);
        assert!(!host.cpus_online.is_empty());
    }
}
