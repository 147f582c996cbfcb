//! Paths inside the container: lexical cleaning, and the `/proc` and `/sys`
//! paths Docker masks or makes read-only (`HostConfig.MaskedPaths` and
//! `ReadonlyPaths` when the client set them, Docker's defaults otherwise).

use serde_json::Value;

use super::SpecError;
use crate::model::HostConfig;

/// Docker's default masked paths (`oci/defaults.go`).
pub(crate) const DEFAULT_MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's default read-only paths.
pub(crate) const DEFAULT_READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Docker's default `/dev/shm` size (64 MiB).
pub(crate) const DEFAULT_SHM_SIZE: i64 = 64 * 1024 * 1024;

/// Lexically cleans a path like Go's `filepath.Clean`: no `.`, no `..` that
/// can be resolved, no repeated or trailing slash.
pub(crate) fn clean(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Masked and read-only paths of the spec: none when privileged, the
/// client's lists when present in `HostConfig` (`systempaths=unconfined`
/// sends empty ones), Docker's defaults otherwise.
pub(crate) fn masked_and_readonly(
    hc: &HostConfig,
) -> Result<(Vec<String>, Vec<String>), SpecError> {
    if hc.privileged {
        return Ok((Vec::new(), Vec::new()));
    }
    Ok((
        list_or_default(hc, "MaskedPaths", DEFAULT_MASKED_PATHS)?,
        list_or_default(hc, "ReadonlyPaths", DEFAULT_READONLY_PATHS)?,
    ))
}

fn list_or_default(
    hc: &HostConfig,
    field: &str,
    default: &[&str],
) -> Result<Vec<String>, SpecError> {
    match hc.extra.get(field) {
        None | Some(Value::Null) => Ok(default.iter().map(|s| s.to_string()).collect()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| SpecError(format!("invalid {field}: {e}"))),
    }
}

/// What Docker's daemon fills into a new container's `HostConfig` at create
/// so that inspect shows it: `ShmSize` 64 MiB when unset, `MemorySwap` twice
/// `Memory` when only `Memory` is set, and the default `MaskedPaths` and
/// `ReadonlyPaths` of unprivileged containers when the client sent none.
pub fn apply_create_defaults(hc: &mut HostConfig) {
    if hc.shm_size == 0 {
        hc.shm_size = DEFAULT_SHM_SIZE;
    }
    if hc.memory > 0 && hc.memory_swap == 0 {
        hc.memory_swap = hc.memory.saturating_mul(2);
    }
    if hc.privileged {
        return;
    }
    for (field, default) in [
        ("MaskedPaths", DEFAULT_MASKED_PATHS),
        ("ReadonlyPaths", DEFAULT_READONLY_PATHS),
    ] {
        if matches!(hc.extra.get(field), None | Some(Value::Null)) {
            let list = default
                .iter()
                .map(|s| Value::String(s.to_string()))
                .collect();
            hc.extra.insert(field.to_string(), Value::Array(list));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        for (input, want) in [
            ("/", "/"),
            ("/a/../b/", "/b"),
            ("//a//b/./c/", "/a/b/c"),
            ("/..", "/"),
            ("/a/b/../../..", "/"),
            ("a/../..", ".."),
            ("", "."),
            ("./x", "x"),
        ] {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    #[test]
    fn defaults_unless_privileged_or_given() {
        let mut hc = HostConfig::default();
        let (masked, ro) = masked_and_readonly(&hc).unwrap();
        assert_eq!(masked.len(), DEFAULT_MASKED_PATHS.len());
        assert!(masked.contains(&"/proc/kcore".to_string()));
        assert_eq!(ro, DEFAULT_READONLY_PATHS);

        hc.extra.insert("MaskedPaths".into(), serde_json::json!([]));
        hc.extra
            .insert("ReadonlyPaths".into(), serde_json::json!(["/proc/x"]));
        let (masked, ro) = masked_and_readonly(&hc).unwrap();
        assert!(masked.is_empty());
        assert_eq!(ro, vec!["/proc/x".to_string()]);

        hc.extra.insert("MaskedPaths".into(), serde_json::json!(7));
        assert!(masked_and_readonly(&hc).is_err());

        hc.privileged = true;
        assert_eq!(masked_and_readonly(&hc).unwrap(), (vec![], vec![]));
    }

    #[test]
    fn create_defaults() {
        let mut hc = HostConfig {
            memory: 10_000_000,
            ..HostConfig::default()
        };
        apply_create_defaults(&mut hc);
        assert_eq!(hc.shm_size, 67_108_864);
        assert_eq!(hc.memory_swap, 20_000_000);
        assert_eq!(hc.extra["ReadonlyPaths"].as_array().unwrap().len(), 5);

        let mut hc = HostConfig {
            memory: 10_000_000,
            memory_swap: -1,
            privileged: true,
            ..HostConfig::default()
        };
        apply_create_defaults(&mut hc);
        assert_eq!(hc.memory_swap, -1);
        assert!(!hc.extra.contains_key("MaskedPaths"));
    }
}
