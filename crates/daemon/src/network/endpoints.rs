//! A container's side of networking: the networks it is attached to (from
//! create and `network connect`) and, while it runs, their endpoints, its
//! published ports and its sandbox. Kept in memory by `Networks` and in
//! `containers/<id>/network.json`.
//!
//! The file is replaced by rename without fsync: what it holds about a
//! running container only matters while the kernel state it describes
//! exists (a daemon crash keeps both, a machine crash loses both); what it
//! holds about attachments is also written before the container record's
//! own durable write at create.

use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

use berth_net::{Endpoint, PortBinding};
use serde::{Deserialize, Serialize};

const FILE: &str = "network.json";

/// The networking state of one container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerNet {
    /// The container's name without `/` (for name resolution).
    pub name: String,
    /// In connection order; the first is the primary network (default
    /// route, published ports).
    pub attachments: Vec<Attachment>,
    /// Published ports with their host ports, while running.
    #[serde(default)]
    pub ports: Vec<PortBinding>,
    /// Set while running.
    #[serde(default)]
    pub sandbox_id: String,
    /// The init whose network namespace the endpoints live in; 0 when the
    /// container is not running.
    #[serde(default)]
    pub pid: i32,
}

/// The container on one network.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attachment {
    pub network_id: String,
    /// The network's name when attached (networks cannot be renamed).
    pub network: String,
    /// `--network-alias` / `--alias`.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `--ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Ipv4Addr>,
    /// `--link` on a user network: `target:alias`, names resolvable by this
    /// container only.
    #[serde(default)]
    pub links: Vec<String>,
    /// Set while running.
    #[serde(default)]
    pub endpoint_id: String,
    /// The interface, while running (none on `host` and `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
}

impl ContainerNet {
    pub fn running(&self) -> bool {
        self.pid != 0
    }

    pub fn attachment(&self, network_id: &str) -> Option<&Attachment> {
        self.attachments.iter().find(|a| a.network_id == network_id)
    }

    /// The live endpoints, in attachment order.
    pub fn endpoints(&self) -> impl Iterator<Item = (&Attachment, &Endpoint)> {
        self.attachments
            .iter()
            .filter_map(|a| a.endpoint.as_ref().map(|e| (a, e)))
    }

    /// Forgets everything that only exists while running.
    pub fn clear_runtime(&mut self) {
        self.pid = 0;
        self.sandbox_id.clear();
        self.ports.clear();
        for a in &mut self.attachments {
            a.endpoint = None;
            a.endpoint_id.clear();
        }
    }
}

/// Reads `dir/network.json`; `None` when missing or unreadable.
pub fn load(dir: &Path) -> Option<ContainerNet> {
    let bytes = std::fs::read(dir.join(FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Replaces `dir/network.json` (see the module doc about durability).
pub fn save(dir: &Path, net: &ContainerNet) -> io::Result<()> {
    let bytes = serde_json::to_vec(net).map_err(io::Error::other)?;
    let tmp = dir.join(format!(".{FILE}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_clear() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(load(tmp.path()).is_none());
        let mut n = ContainerNet {
            name: "web".into(),
            attachments: vec![Attachment {
                network_id: "n1".into(),
                network: "mynet".into(),
                aliases: vec!["w".into()],
                endpoint_id: "e1".into(),
                endpoint: Some(Endpoint {
                    ip: Ipv4Addr::new(10, 0, 0, 2),
                    prefix_len: 24,
                    gateway: Some(Ipv4Addr::new(10, 0, 0, 1)),
                    mac: "02:42:0a:00:00:02".into(),
                    host_veth: "veth1234567".into(),
                    ifname: "eth0".into(),
                }),
                ..Default::default()
            }],
            pid: 42,
            ..Default::default()
        };
        save(tmp.path(), &n).unwrap();
        assert_eq!(load(tmp.path()).unwrap(), n);
        assert_eq!(n.endpoints().count(), 1);
        assert!(n.attachment("n1").is_some() && n.attachment("n2").is_none());
        n.clear_runtime();
        assert!(!n.running());
        assert_eq!(n.endpoints().count(), 0);
        assert_eq!(n.attachments[0].aliases, ["w"]);
    }
}
