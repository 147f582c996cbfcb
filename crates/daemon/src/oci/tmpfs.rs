//! `--tmpfs` mounts (`HostConfig.Tmpfs`: path → `size=…,mode=…`): Docker's
//! defaults `noexec,nosuid,nodev,rprivate` merged with the given options,
//! the last of conflicting flags (`exec` vs `noexec`) or data keys winning.

use berth_runtime::spec::Mount;

use super::paths::clean;
use super::SpecError;

/// The tmpfs data options Docker accepts besides mount flags.
const DATA_KEYS: &[&str] = &[
    "size",
    "mode",
    "uid",
    "gid",
    "nr_inodes",
    "nr_blocks",
    "mpol",
];

/// Propagation flags: only one of them survives.
const PROPAGATION: &[&str] = &[
    "private",
    "rprivate",
    "shared",
    "rshared",
    "slave",
    "rslave",
    "unbindable",
    "runbindable",
];

/// Mount flags, as (set, clear) pairs that collide with each other.
const FLAGS: &[(&str, &str)] = &[
    ("ro", "rw"),
    ("nosuid", "suid"),
    ("nodev", "dev"),
    ("noexec", "exec"),
    ("sync", "async"),
    ("dirsync", ""),
    ("remount", ""),
    ("mand", "nomand"),
    ("noatime", "atime"),
    ("nodiratime", "diratime"),
    ("bind", ""),
    ("rbind", ""),
    ("relatime", "norelatime"),
    ("strictatime", "nostrictatime"),
];

/// The spec mount of one `--tmpfs` entry.
pub(crate) fn mount(destination: &str, data: &str) -> Result<Mount, SpecError> {
    let destination = destination_path(destination)?;
    let mut options: Vec<&str> = vec!["noexec", "nosuid", "nodev", "rprivate"];
    if !data.is_empty() {
        options.extend(data.split(','));
    }
    Ok(Mount {
        destination,
        kind: "tmpfs".to_string(),
        source: "tmpfs".to_string(),
        options: merge(&options)?,
    })
}

/// A tmpfs destination: absolute and not `/`, cleaned.
fn destination_path(dest: &str) -> Result<String, SpecError> {
    if !dest.starts_with('/') {
        return Err(SpecError(format!(
            "invalid mount path: '{dest}' mount path must be absolute"
        )));
    }
    let cleaned = clean(dest);
    if cleaned == "/" {
        return Err(SpecError::new(
            "invalid specification: destination can't be '/'",
        ));
    }
    Ok(cleaned)
}

/// What an option collides with: its flag pair, `propagation`, or its data key.
fn collision_key(option: &str) -> Result<String, SpecError> {
    if PROPAGATION.contains(&option) {
        return Ok("propagation".to_string());
    }
    if let Some((set, _)) = FLAGS
        .iter()
        .find(|(set, clear)| option == *set || (!clear.is_empty() && option == *clear))
    {
        return Ok(format!("flag:{set}"));
    }
    match option.split_once('=') {
        Some((key, _)) if DATA_KEYS.contains(&key) => Ok(format!("data:{key}")),
        _ => {
            let parts: Vec<String> = option.splitn(2, '=').map(|p| format!("{p:?}")).collect();
            Err(SpecError(format!(
                "invalid tmpfs option [{}]",
                parts.join(" ")
            )))
        }
    }
}

/// Keeps the last of each colliding group, in the order they appear.
fn merge(options: &[&str]) -> Result<Vec<String>, SpecError> {
    let mut seen = std::collections::HashSet::new();
    let mut kept = Vec::new();
    for option in options.iter().rev().filter(|o| **o != "defaults") {
        if seen.insert(collision_key(option)?) {
            kept.push(option.to_string());
        }
    }
    kept.reverse();
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(data: &str) -> Vec<String> {
        mount("/run", data).unwrap().options
    }

    #[test]
    fn defaults() {
        let m = mount("/run/", "").unwrap();
        assert_eq!(m.destination, "/run");
        assert_eq!((m.kind.as_str(), m.source.as_str()), ("tmpfs", "tmpfs"));
        assert_eq!(m.options, ["noexec", "nosuid", "nodev", "rprivate"]);
    }

    /// As Docker 20.10 writes `--tmpfs /run:size=1m,exec`.
    #[test]
    fn later_options_win() {
        assert_eq!(
            opts("size=1m,exec"),
            ["nosuid", "nodev", "rprivate", "size=1m", "exec"]
        );
        assert_eq!(
            opts("size=1m,mode=1777,size=2m,ro,shared"),
            [
                "noexec",
                "nosuid",
                "nodev",
                "mode=1777",
                "size=2m",
                "ro",
                "shared"
            ]
        );
        assert_eq!(
            opts("defaults,uid=1000"),
            ["noexec", "nosuid", "nodev", "rprivate", "uid=1000"]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            mount("/x", "foo").unwrap_err().0,
            r#"invalid tmpfs option ["foo"]"#
        );
        assert_eq!(
            mount("/x", "foo=1").unwrap_err().0,
            r#"invalid tmpfs option ["foo" "1"]"#
        );
        assert_eq!(
            mount("rel", "").unwrap_err().0,
            "invalid mount path: 'rel' mount path must be absolute"
        );
        assert_eq!(
            mount("/", "").unwrap_err().0,
            "invalid specification: destination can't be '/'"
        );
    }
}
