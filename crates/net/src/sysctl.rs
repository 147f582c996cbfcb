//! Writing the few IPv4 sysctls berth needs (`ip_forward`, per-bridge
//! `route_localnet`) through `/proc/sys`, which resolves to the calling
//! thread's network namespace.

use std::io;
use std::path::PathBuf;

/// A sysctl that could not be set.
#[derive(Debug, thiserror::Error)]
#[error("set sysctl {key}: {source}")]
pub struct SysctlError {
    pub key: String,
    #[source]
    pub source: io::Error,
}

fn path(key: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(key.replace('.', "/"))
}

/// Sets `key` (dotted, e.g. `net.ipv4.ip_forward`) to `value` unless it
/// already has it. Dots inside an interface name are not supported (berth
/// bridge names have none).
pub fn set(key: &str, value: &str) -> Result<(), SysctlError> {
    let p = path(key);
    let err = |source| SysctlError {
        key: key.to_string(),
        source,
    };
    if std::fs::read_to_string(&p).map_err(err)?.trim() == value {
        return Ok(());
    }
    std::fs::write(&p, value).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            path("net.ipv4.ip_forward"),
            PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            path("net.ipv4.conf.bt1.route_localnet"),
            PathBuf::from("/proc/sys/net/ipv4/conf/bt1/route_localnet")
        );
    }

    #[test]
    fn missing_key_is_an_error() {
        let e = set("net.ipv4.no_such_key", "1").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("set sysctl net.ipv4.no_such_key: "),
            "{e}"
        );
    }
}
