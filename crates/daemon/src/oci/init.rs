//! `--init`: finding a static init binary on the host (`docker-init`,
//! `tini-static`, or a `tini` that happens to be static) to bind-mount at
//! `/sbin/docker-init` in front of the container's command.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::model::HostConfig;

/// Where the init binary appears inside the container, as in Docker.
pub(crate) const IN_CONTAINER_PATH: &str = "/sbin/docker-init";

/// Names tried, in order, in `$PATH` and the usual directories.
const NAMES: &[&str] = &["docker-init", "tini-static", "tini"];
const DIRS: &[&str] = &["/usr/local/bin", "/usr/bin", "/bin", "/usr/libexec/docker"];

/// Whether the container asked for an init (`HostConfig.Init`).
pub(crate) fn wanted(hc: &HostConfig) -> bool {
    hc.init == Some(true)
}

/// The first static init binary on this host, symlinks resolved.
pub(crate) fn find() -> Option<PathBuf> {
    let path_var = std::env::var("PATH").unwrap_or_default();
    let dirs: Vec<&str> = path_var
        .split(':')
        .filter(|d| d.starts_with('/'))
        .chain(DIRS.iter().copied())
        .collect();
    NAMES
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| Path::new(dir).join(name)))
        .filter_map(|p| p.canonicalize().ok())
        .find(|p| is_static_elf(p))
}

/// An ELF executable without a program interpreter (`PT_INTERP`), i.e. one
/// that runs in a container without the host's libc.
pub(crate) fn is_static_elf(path: &Path) -> bool {
    File::open(path)
        .ok()
        .and_then(|f| static_elf(&f))
        .unwrap_or(false)
}

fn static_elf(f: &File) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    let mut ident = [0u8; 64];
    f.read_exact_at(&mut ident, 0).ok()?;
    if ident[..4] != *b"\x7fELF" {
        return Some(false);
    }
    let little = match ident[5] {
        1 => true,
        2 => false,
        _ => return Some(false),
    };
    let u16_at = |o: usize| {
        let b = [ident[o], ident[o + 1]];
        if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    let uint = |b: &[u8]| {
        b.iter().enumerate().fold(0u64, |acc, (i, byte)| {
            let shift = if little { 8 * i } else { 8 * (b.len() - 1 - i) };
            acc | (u64::from(*byte) << shift)
        })
    };
    let (phoff, phentsize, phnum) = match ident[4] {
        1 => (uint(&ident[0x1c..0x20]), u16_at(0x2a), u16_at(0x2c)),
        2 => (uint(&ident[0x20..0x28]), u16_at(0x36), u16_at(0x38)),
        _ => return Some(false),
    };
    let table_len = usize::from(phentsize) * usize::from(phnum);
    if phentsize < 4 || table_len > 1 << 20 {
        return Some(false);
    }
    let mut table = vec![0u8; table_len];
    f.read_exact_at(&mut table, phoff).ok()?;
    let has_interp = table
        .chunks_exact(usize::from(phentsize))
        .any(|ph| uint(&ph[..4]) == u64::from(PT_INTERP));
    Some(!has_interp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_explicit_true_wants_init() {
        let mut hc = HostConfig::default();
        assert!(!wanted(&hc));
        hc.init = Some(false);
        assert!(!wanted(&hc));
        hc.init = Some(true);
        assert!(wanted(&hc));
    }

    #[test]
    fn elf_detection() {
        // The test binary itself is dynamically linked.
        let me = std::env::current_exe().unwrap();
        assert!(!is_static_elf(&me));
        assert!(!is_static_elf(Path::new("/etc/hostname")));
        assert!(!is_static_elf(Path::new("/nonexistent/berth")));
        // When the host has tini-static, it is recognised as static.
        let tini = Path::new("/usr/bin/tini-static");
        if tini.exists() {
            assert!(is_static_elf(tini));
            assert!(find().is_some());
        }
    }
}
