//! `linux.sysctl`: Docker's defaults for a private network namespace
//! (unprivileged ping and low ports, no IPv6: berth networks are
//! IPv4-only), `kernel.domainname` from
//! `Config.Domainname`, then `HostConfig.Sysctls`; each checked to belong to
//! a namespace the container owns, as runc checks before starting.

use std::collections::BTreeMap;

use super::host::Host;
use super::namespaces::{Ns, Plan};
use super::SpecError;
use crate::model::{Config, HostConfig};

/// sysctls of the IPC namespace besides `fs.mqueue.*`.
const IPC_SYSCTLS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

pub(crate) fn build(
    config: &Config,
    hc: &HostConfig,
    ns: &Plan,
    host: &Host,
) -> Result<BTreeMap<String, String>, SpecError> {
    let mut sysctl = BTreeMap::new();
    if ns.net_private() {
        if host.ping_group_range {
            sysctl.insert(
                "net.ipv4.ping_group_range".to_string(),
                "0 2147483647".to_string(),
            );
        }
        if host.unprivileged_port_start {
            sysctl.insert(
                "net.ipv4.ip_unprivileged_port_start".to_string(),
                "0".to_string(),
            );
        }
        if host.ipv6 {
            // Interfaces created later (the veth of each network) inherit
            // `default`.
            for key in ["all", "default"] {
                sysctl.insert(format!("net.ipv6.conf.{key}.disable_ipv6"), "1".to_string());
            }
        }
    }
    if !config.domainname.is_empty() && ns.uts_private() {
        sysctl.insert("kernel.domainname".to_string(), config.domainname.clone());
    }
    sysctl.extend(hc.sysctls.clone().unwrap_or_default());
    for key in sysctl.keys() {
        check(key, ns)?;
    }
    Ok(sysctl)
}

/// Whether the container may set `key`: it must be namespaced, in a
/// namespace of its own.
fn check(key: &str, ns: &Plan) -> Result<(), SpecError> {
    let fail = |why: &str| Err(SpecError(format!("sysctl {key:?} {why}")));
    if IPC_SYSCTLS.contains(&key) || key.starts_with("fs.mqueue.") {
        return match ns.ipc {
            Ns::Private => Ok(()),
            Ns::Host => fail("is not allowed in the hosts ipc namespace"),
        };
    }
    if key.starts_with("net.") {
        return match ns.net {
            Ns::Private => Ok(()),
            Ns::Host => fail("not allowed in host network namespace"),
        };
    }
    match (key, ns.uts) {
        ("kernel.domainname", Ns::Private) => Ok(()),
        ("kernel.hostname", Ns::Private) => {
            fail("is not allowed as it conflicts with the OCI \"hostname\" field")
        }
        _ => fail("is not in a separate kernel namespace"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(hc: HostConfig, domainname: &str) -> Result<BTreeMap<String, String>, SpecError> {
        let config = Config {
            domainname: domainname.into(),
            ..Config::default()
        };
        build(&config, &hc, &Plan::new(&hc).unwrap(), &Host::for_tests())
    }

    fn sysctls(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn defaults_in_private_network() {
        let got = run(HostConfig::default(), "").unwrap();
        assert_eq!(got["net.ipv4.ping_group_range"], "0 2147483647");
        assert_eq!(got["net.ipv4.ip_unprivileged_port_start"], "0");
        let host_net = HostConfig {
            network_mode: "host".into(),
            ..HostConfig::default()
        };
        assert!(run(host_net, "").unwrap().is_empty());
    }

    #[test]
    fn user_values_win_and_domainname() {
        let hc = HostConfig {
            sysctls: sysctls(&[
                ("net.ipv4.ip_unprivileged_port_start", "1024"),
                ("kernel.shmmax", "1"),
            ]),
            ..HostConfig::default()
        };
        let got = run(hc, "example.com").unwrap();
        assert_eq!(got["net.ipv4.ip_unprivileged_port_start"], "1024");
        assert_eq!(got["kernel.shmmax"], "1");
        assert_eq!(got["kernel.domainname"], "example.com");
    }

    /// Messages as runc gives them when Docker starts such a container.
    #[test]
    fn not_namespaced_or_host_namespace() {
        let e = |hc: HostConfig| run(hc, "").unwrap_err().0;
        let hc = |pairs: &[(&str, &str)], net: &str, ipc: &str| HostConfig {
            sysctls: sysctls(pairs),
            network_mode: net.into(),
            ipc_mode: ipc.into(),
            ..HostConfig::default()
        };
        assert_eq!(
            e(hc(&[("vm.swappiness", "1")], "", "")),
            r#"sysctl "vm.swappiness" is not in a separate kernel namespace"#
        );
        assert_eq!(
            e(hc(&[("net.ipv4.ip_forward", "1")], "host", "")),
            r#"sysctl "net.ipv4.ip_forward" not allowed in host network namespace"#
        );
        assert_eq!(
            e(hc(&[("fs.mqueue.msg_max", "1")], "", "host")),
            r#"sysctl "fs.mqueue.msg_max" is not allowed in the hosts ipc namespace"#
        );
        assert_eq!(
            e(hc(&[("kernel.hostname", "x")], "", "")),
            r#"sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field"#
        );
    }
}
