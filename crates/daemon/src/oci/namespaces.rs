//! Which namespaces the container gets, from `NetworkMode`, `PidMode`,
//! `IpcMode`, `UTSMode` and `CgroupnsMode`, and the hostname that follows.

use berth_runtime::spec::Namespace;

use super::host::Host;
use super::SpecError;
use crate::model::{Config, HostConfig};

/// Whether a namespace is the container's own or the host's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    Private,
    Host,
}

/// The namespace modes of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub net: Ns,
    pub pid: Ns,
    pub ipc: Ns,
    /// `IpcMode: none`: own IPC namespace without `/dev/shm`.
    pub ipc_none: bool,
    pub uts: Ns,
    pub cgroup: Ns,
}

const CONTAINER_MODES: &str = "container: namespace modes are not supported yet";

/// `host`, a not yet supported `container:<id>`, or anything else (private).
fn mode(value: &str) -> Result<Ns, SpecError> {
    if value.starts_with("container:") {
        return Err(SpecError::new(CONTAINER_MODES));
    }
    Ok(if value == "host" {
        Ns::Host
    } else {
        Ns::Private
    })
}

impl Plan {
    pub(crate) fn new(hc: &HostConfig) -> Result<Plan, SpecError> {
        let ipc = match hc.ipc_mode.as_str() {
            "" | "private" | "shareable" | "none" => Ns::Private,
            "host" => Ns::Host,
            m if m.starts_with("container:") => return Err(SpecError::new(CONTAINER_MODES)),
            m => return Err(SpecError(format!("Invalid IPC mode: {m}"))),
        };
        let cgroup = match hc.extra.get("CgroupnsMode").and_then(|v| v.as_str()) {
            None | Some("") | Some("private") => Ns::Private,
            Some("host") => Ns::Host,
            Some(m) => return Err(SpecError(format!("invalid cgroup namespace mode: {m}"))),
        };
        // `container:<id>` networking joins the other container's namespace;
        // the daemon fills in its path at start.
        let net = if hc.network_mode.starts_with("container:") {
            Ns::Private
        } else {
            mode(&hc.network_mode)?
        };
        Ok(Plan {
            net,
            pid: mode(&hc.pid_mode)?,
            ipc,
            ipc_none: hc.ipc_mode == "none",
            uts: mode(&hc.uts_mode)?,
            cgroup,
        })
    }

    pub(crate) fn pid_private(&self) -> bool {
        self.pid == Ns::Private
    }

    pub(crate) fn uts_private(&self) -> bool {
        self.uts == Ns::Private
    }

    pub(crate) fn net_private(&self) -> bool {
        self.net == Ns::Private
    }

    /// The spec's namespaces: a new one for each private mode.
    pub(crate) fn namespaces(&self) -> Vec<Namespace> {
        [
            ("pid", self.pid),
            ("ipc", self.ipc),
            ("uts", self.uts),
            ("mount", Ns::Private),
            ("cgroup", self.cgroup),
            ("network", self.net),
        ]
        .into_iter()
        .filter(|(_, ns)| *ns == Ns::Private)
        .map(|(kind, _)| Namespace {
            kind: kind.to_string(),
            path: None,
        })
        .collect()
    }

    /// The container's hostname: `Config.Hostname`, else the host's with the
    /// host's network or UTS namespace, else the first 12 characters of the id.
    pub(crate) fn hostname(&self, config: &Config, id: &str, host: &Host) -> String {
        if !config.hostname.is_empty() {
            config.hostname.clone()
        } else if self.net == Ns::Host || self.uts == Ns::Host {
            host.hostname.clone()
        } else {
            id.get(..12).unwrap_or(id).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(net: &str, pid: &str, ipc: &str, uts: &str) -> HostConfig {
        HostConfig {
            network_mode: net.into(),
            pid_mode: pid.into(),
            ipc_mode: ipc.into(),
            uts_mode: uts.into(),
            ..HostConfig::default()
        }
    }

    fn kinds(plan: &Plan) -> Vec<String> {
        plan.namespaces().into_iter().map(|n| n.kind).collect()
    }

    #[test]
    fn all_private_by_default() {
        for net in ["", "default", "bridge", "none", "mynet"] {
            let plan = Plan::new(&hc(net, "", "", "")).unwrap();
            assert_eq!(
                kinds(&plan),
                ["pid", "ipc", "uts", "mount", "cgroup", "network"],
                "{net}"
            );
        }
    }

    #[test]
    fn host_modes_drop_namespaces() {
        let plan = Plan::new(&hc("host", "host", "host", "host")).unwrap();
        assert_eq!(kinds(&plan), ["mount", "cgroup"]);
        let mut h = hc("", "", "", "");
        h.extra.insert("CgroupnsMode".into(), "host".into());
        assert_eq!(
            kinds(&Plan::new(&h).unwrap()),
            ["pid", "ipc", "uts", "mount", "network"]
        );
    }

    #[test]
    fn container_modes_and_bad_ipc_are_errors() {
        assert!(Plan::new(&hc("container:abc", "", "", ""))
            .unwrap()
            .net_private());
        for h in [
            hc("", "container:abc", "", ""),
            hc("", "", "container:abc", ""),
            hc("", "", "", "container:abc"),
        ] {
            assert_eq!(Plan::new(&h).unwrap_err().0, CONTAINER_MODES);
        }
        assert_eq!(
            Plan::new(&hc("", "", "weird", "")).unwrap_err().0,
            "Invalid IPC mode: weird"
        );
        let plan = Plan::new(&hc("", "", "none", "")).unwrap();
        assert!(plan.ipc_none && plan.ipc == Ns::Private);
    }

    #[test]
    fn hostname_rules() {
        let host = Host::for_tests();
        let id = "0123456789abcdef0123";
        let named = Config {
            hostname: "web".into(),
            ..Config::default()
        };
        let plain = Config::default();
        let private = Plan::new(&hc("", "", "", "")).unwrap();
        let hostnet = Plan::new(&hc("host", "", "", "")).unwrap();
        assert_eq!(private.hostname(&named, id, &host), "web");
        assert_eq!(private.hostname(&plain, id, &host), "0123456789ab");
        assert_eq!(hostnet.hostname(&plain, id, &host), host.hostname);
        assert_eq!(hostnet.hostname(&named, id, &host), "web");
        assert_eq!(private.hostname(&plain, "short", &host), "short");
    }
}
