//! The container's capability set: Docker's default set adjusted by
//! `CapAdd`/`CapDrop` (names with or without `CAP_`, any case, or `ALL`),
//! or every capability this daemon holds when privileged.

use super::host::Host;
use super::SpecError;
use crate::model::HostConfig;

/// Every capability, indexed by number (the runtime's table).
fn all() -> &'static [&'static str] {
    berth_runtime::caps::names()
}

/// Docker's default capabilities, in Docker's order.
pub(crate) const DEFAULT: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

const WILDCARD: &str = "ALL";

/// The capabilities of the container (bounding = effective = permitted).
pub(crate) fn container_caps(hc: &HostConfig, host: &Host) -> Result<Vec<String>, SpecError> {
    let held = |c: &str| {
        all()
            .iter()
            .position(|a| *a == c)
            .is_some_and(|n| host.caps_mask & (1 << n) != 0)
    };
    let available = || {
        all()
            .iter()
            .copied()
            .filter(|c| held(c))
            .map(str::to_string)
    };
    if hc.privileged {
        return Ok(available().collect());
    }
    let add = normalize(hc.cap_add.as_deref().unwrap_or(&[]), "CapAdd")?;
    let drop = normalize(hc.cap_drop.as_deref().unwrap_or(&[]), "CapDrop")?;
    let has = |list: &[String], c: &str| list.iter().any(|x| x == c);
    let mut caps: Vec<String> = if has(&add, WILDCARD) {
        available().filter(|c| !has(&drop, c)).collect()
    } else if has(&drop, WILDCARD) {
        add
    } else {
        DEFAULT
            .iter()
            .copied()
            .filter(|c| held(c) && !has(&drop, c))
            .map(str::to_string)
            .chain(add)
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    caps.retain(|c| seen.insert(c.clone()));
    Ok(caps)
}

/// Upper-cases, adds the `CAP_` prefix and checks each name.
fn normalize(names: &[String], field: &str) -> Result<Vec<String>, SpecError> {
    names
        .iter()
        .map(|n| {
            let upper = n.to_ascii_uppercase();
            if upper == WILDCARD {
                return Ok(upper);
            }
            let full = if upper.starts_with("CAP_") {
                upper
            } else {
                format!("CAP_{upper}")
            };
            if all().contains(&full.as_str()) {
                Ok(full)
            } else {
                Err(SpecError(format!(
                    "invalid {field}: unknown capability: {full:?}"
                )))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(add: &[&str], drop: &[&str], privileged: bool) -> Result<Vec<String>, SpecError> {
        let hc = HostConfig {
            cap_add: Some(add.iter().map(|s| s.to_string()).collect()),
            cap_drop: Some(drop.iter().map(|s| s.to_string()).collect()),
            privileged,
            ..HostConfig::default()
        };
        container_caps(&hc, &Host::for_tests())
    }

    #[test]
    fn default_set() {
        assert_eq!(caps(&[], &[], false).unwrap(), DEFAULT);
        assert_eq!(all().len(), 41);
    }

    #[test]
    fn add_and_drop_any_spelling() {
        let got = caps(
            &["sys_admin", "CAP_net_admin", "chown"],
            &["cap_chown", "KILL"],
            false,
        )
        .unwrap();
        assert!(!got.contains(&"CAP_KILL".to_string()));
        assert!(got.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(got.contains(&"CAP_NET_ADMIN".to_string()));
        // Dropped from the defaults, then added back, once.
        assert_eq!(got.iter().filter(|c| *c == "CAP_CHOWN").count(), 1);
        assert_eq!(got.len(), DEFAULT.len() - 2 + 3);
    }

    #[test]
    fn all_wildcards() {
        let got = caps(&["all"], &["chown"], false).unwrap();
        assert_eq!(got.len(), 40);
        assert!(!got.contains(&"CAP_CHOWN".to_string()));
        assert_eq!(
            caps(&["NET_ADMIN"], &["ALL"], false).unwrap(),
            ["CAP_NET_ADMIN"]
        );
        assert!(caps(&[], &["ALL"], false).unwrap().is_empty());
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(
            caps(&["foo"], &[], false).unwrap_err().0,
            r#"invalid CapAdd: unknown capability: "CAP_FOO""#
        );
        assert_eq!(
            caps(&[], &["cap_foo"], false).unwrap_err().0,
            r#"invalid CapDrop: unknown capability: "CAP_FOO""#
        );
    }

    #[test]
    fn privileged_gets_what_the_daemon_holds() {
        assert_eq!(caps(&[], &["ALL"], true).unwrap().len(), 41);
        let mut host = Host::for_tests();
        host.caps_mask = 0x1fffeffffff; // no CAP_SYS_RESOURCE (24)
        let hc = HostConfig {
            privileged: true,
            ..HostConfig::default()
        };
        let got = container_caps(&hc, &host).unwrap();
        assert_eq!(got.len(), 40);
        assert!(!got.contains(&"CAP_SYS_RESOURCE".to_string()));
    }
}
