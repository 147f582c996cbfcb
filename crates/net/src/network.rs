//! Networks: `NetworkConfig` (what the daemon records) and the kernel side
//! of a network: its bridge with the gateway address, the sysctls, and its
//! elements in berth's nftables table. Creating is idempotent (a restarted
//! daemon calls it again); removing tolerates what is already gone.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::ipam::{host_routes, pick_subnet, Ipam, IpamError};
use crate::ipnet::Ipv4Net;
use crate::netlink::Socket;
use crate::{nft, sysctl, NetError};

/// Default bridge device of the default network (`bridge`).
pub const DEFAULT_BRIDGE: &str = "berth0";

/// One bridge network as the daemon records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkConfig {
    pub name: String,
    pub id: String,
    /// Linux bridge device name (≤ 15 characters).
    pub bridge: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<Ipv4Net>,
    /// `--internal`: no traffic in or out of the bridge except to the host.
    #[serde(default)]
    pub internal: bool,
}

impl NetworkConfig {
    /// The bridge name Docker would give a user network: `br-` and the
    /// first 12 characters of its ID.
    pub fn bridge_name_for(id: &str) -> String {
        format!("br-{}", id.chars().take(12).collect::<String>())
    }

    /// Checks what the kernel and the nft scripts rely on.
    pub fn validate(&self) -> Result<(), NetError> {
        validate_ifname(&self.bridge)?;
        if !self.subnet.is_host(self.gateway) {
            return Err(NetError::Config(format!(
                "gateway {} is not a host address of subnet {}",
                self.gateway, self.subnet
            )));
        }
        Ok(())
    }
}

/// What `docker network create` (or the daemon's default `bridge`) asks for.
#[derive(Clone, Debug, Default)]
pub struct NetworkRequest {
    pub name: String,
    pub id: String,
    /// Bridge device; `br-<id12>` when `None` (Docker's
    /// `com.docker.network.bridge.name` option).
    pub bridge: Option<String>,
    pub subnet: Option<Ipv4Net>,
    pub gateway: Option<Ipv4Addr>,
    pub ip_range: Option<Ipv4Net>,
    pub internal: bool,
}

impl NetworkRequest {
    /// The default network: `bridge` on `berth0`.
    pub fn default_bridge(id: &str) -> Self {
        NetworkRequest {
            name: "bridge".into(),
            id: id.into(),
            bridge: Some(DEFAULT_BRIDGE.into()),
            ..Default::default()
        }
    }

    /// Decides the network's addresses: the given subnet (which must not
    /// overlap `in_use`, the subnets of the other networks) or the first free
    /// one of Docker's default pools that no host route covers. Pure except
    /// for reading the calling namespace's routes when no subnet is given.
    pub fn plan(&self, in_use: &[Ipv4Net]) -> Result<(NetworkConfig, Ipam), NetError> {
        let bridge = self
            .bridge
            .clone()
            .unwrap_or_else(|| NetworkConfig::bridge_name_for(&self.id));
        validate_ifname(&bridge)?;
        let subnet = match self.subnet {
            Some(s) => {
                if in_use.iter().any(|u| u.overlaps(&s)) {
                    return Err(IpamError::Overlaps(s).into());
                }
                s
            }
            None if self.ip_range.is_some() || self.gateway.is_some() => {
                return Err(NetError::Config(
                    "ip-range and gateway need a subnet".to_string(),
                ))
            }
            None => pick_subnet(in_use, &host_routes()?, Some(&bridge))?,
        };
        let ipam = Ipam::new(subnet, self.gateway, self.ip_range)?;
        let cfg = NetworkConfig {
            name: self.name.clone(),
            id: self.id.clone(),
            bridge,
            subnet,
            gateway: ipam.gateway,
            ip_range: self.ip_range,
            internal: self.internal,
        };
        Ok((cfg, ipam))
    }
}

/// Interface names: 1–15 bytes of `[A-Za-z0-9_-]` (no dots: sysctl paths
/// use them as separators; no quotes: nft scripts embed them).
pub fn validate_ifname(name: &str) -> Result<(), NetError> {
    let ok = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(NetError::Config(format!("invalid interface name {name:?}")))
    }
}

/// Creates (or completes) the network's bridge: device, gateway address,
/// up; IP forwarding and `route_localnet` on the bridge; the nftables
/// skeleton and the network's elements (one `nft` run).
pub fn ensure_bridge(cfg: &NetworkConfig) -> Result<(), NetError> {
    cfg.validate()?;
    let mut nl = Socket::open()?;
    nl.create_bridge(&cfg.bridge)?;
    let index = nl
        .link_index(&cfg.bridge)?
        .ok_or_else(|| NetError::Config(format!("bridge {} vanished", cfg.bridge)))?;
    nl.add_address(index, cfg.gateway, cfg.subnet.prefix_len())?;
    nl.set_up(&cfg.bridge)?;
    sysctl::set("net.ipv4.ip_forward", "1")?;
    sysctl::set(&format!("net.ipv4.conf.{}.route_localnet", cfg.bridge), "1")?;
    let mut script = nft::skeleton();
    script.push_str(&nft::network_add(&cfg.bridge, cfg.subnet, cfg.internal));
    nft::run(&script)?;
    Ok(())
}

/// Removes the network's nftables elements and its bridge. Containers
/// should be disconnected first; veths still attached to the bridge are
/// deleted with it (which cuts those containers off).
pub fn remove_network(cfg: &NetworkConfig) -> Result<(), NetError> {
    validate_ifname(&cfg.bridge)?;
    match nft::run(&nft::network_remove(&cfg.bridge, cfg.subnet)) {
        Err(e) if e.is_not_found() => {}
        r => r?,
    }
    delete_bridge(&mut Socket::open()?, &cfg.bridge)
}

/// Deletes bridge `name` and the links attached to it, if it exists.
pub(crate) fn delete_bridge(nl: &mut Socket, name: &str) -> Result<(), NetError> {
    let Some(index) = nl.link_index(name)? else {
        return Ok(());
    };
    for port in nl.links_of_master(index)? {
        nl.delete_link(&port)?;
    }
    nl.delete_link(name)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(bridge: &str) -> NetworkConfig {
        NetworkConfig {
            name: "n".into(),
            id: "abc".into(),
            bridge: bridge.into(),
            subnet: "10.213.0.0/24".parse().unwrap(),
            gateway: Ipv4Addr::new(10, 213, 0, 1),
            ip_range: None,
            internal: false,
        }
    }

    #[test]
    fn names() {
        assert!(cfg("berth0").validate().is_ok());
        for bad in ["", "a.b", "x\"y", "0123456789abcdef"] {
            assert!(cfg(bad).validate().is_err(), "{bad}");
        }
        let mut c = cfg("bt0");
        c.gateway = Ipv4Addr::new(10, 214, 0, 1);
        assert!(c.validate().is_err());
        assert_eq!(
            NetworkConfig::bridge_name_for("0123456789abcdef0123"),
            "br-0123456789ab"
        );
    }

    #[test]
    fn plan_given_subnet() {
        let req = NetworkRequest {
            name: "n".into(),
            id: "0123456789abcdef".into(),
            subnet: Some("10.213.7.0/24".parse().unwrap()),
            ip_range: Some("10.213.7.128/25".parse().unwrap()),
            ..Default::default()
        };
        let (cfg, mut ipam) = req.plan(&[]).unwrap();
        assert_eq!(cfg.bridge, "br-0123456789ab");
        assert_eq!(cfg.gateway, Ipv4Addr::new(10, 213, 7, 1));
        assert_eq!(
            ipam.allocate("c", None).unwrap(),
            Ipv4Addr::new(10, 213, 7, 128)
        );
        let e = req.plan(&["10.213.0.0/16".parse().unwrap()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Pool overlaps with other one on this address space"
        );
        let bad = NetworkRequest {
            subnet: None,
            ..req
        };
        assert!(bad.plan(&[]).is_err());
    }

    #[test]
    fn plan_default_bridge_avoids_routes() {
        let (cfg, _) = NetworkRequest::default_bridge("x").plan(&[]).unwrap();
        assert_eq!(cfg.bridge, "berth0");
        assert_eq!(cfg.name, "bridge");
        let routes = crate::ipam::host_routes().unwrap();
        assert!(
            !routes
                .iter()
                .any(|r| r.iface != "berth0" && r.dst.overlaps(&cfg.subnet)),
            "{} overlaps a route in {routes:?}",
            cfg.subnet
        );
    }

    #[test]
    fn serde_shape() {
        let j = serde_json::to_string(&cfg("bt0")).unwrap();
        assert_eq!(
            j,
            r#"{"Name":"n","Id":"abc","Bridge":"bt0","Subnet":"10.213.0.0/24","Gateway":"10.213.0.1","Internal":false}"#
        );
        assert_eq!(
            serde_json::from_str::<NetworkConfig>(&j).unwrap(),
            cfg("bt0")
        );
    }
}
