//! Endpoints: a container's interface on a network. `connect` creates a
//! veth pair whose host end joins the bridge and whose peer is created
//! directly inside the container's namespace under its final name (`eth0`)
//! with a Docker-style MAC; then, from a socket opened in that namespace,
//! the address and the default route are added.

use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::netlink::{NetlinkError, Socket, VethSpec};
use crate::network::{validate_ifname, NetworkConfig};
use crate::{netns, NetError};

/// A container's interface on one network, as `connect` made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
    /// `None` on internal networks (no default route).
    pub gateway: Option<Ipv4Addr>,
    /// `02:42:ac:11:00:02`
    pub mac: String,
    /// Host end of the veth pair (`veth` + 7 hex digits).
    pub host_veth: String,
    /// Name inside the container (`eth0`).
    pub ifname: String,
}

/// Docker's MAC for an IPv4 address: `02:42` followed by the address bytes.
pub fn mac_for_ip(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

pub fn mac_string(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The host-side veth name of `container_id` on `network_id`: stable, so a
/// restarted daemon can find it without records (FNV-1a, 28 bits).
pub fn host_veth_name(container_id: &str, network_id: &str) -> String {
    let mut h: u32 = 0x811c9dc5;
    for b in container_id.bytes().chain([b'/']).chain(network_id.bytes()) {
        h = (h ^ u32::from(b)).wrapping_mul(0x01000193);
    }
    format!("veth{:07x}", h & 0x0fff_ffff)
}

/// Connects the container whose network namespace is `netns` (e.g.
/// `/proc/<pid>/ns/net`) to the network with address `ip` (allocated by the
/// caller's `Ipam`) as interface `ifname`. On error nothing is left behind.
pub fn connect(
    cfg: &NetworkConfig,
    netns: &Path,
    container_id: &str,
    ip: Ipv4Addr,
    ifname: &str,
) -> Result<Endpoint, NetError> {
    validate_ifname(ifname)?;
    if !cfg.subnet.is_host(ip) || ip == cfg.gateway {
        return Err(NetError::Config(format!(
            "{ip} is not a free host address of {}",
            cfg.subnet
        )));
    }
    let ns = netns::open(netns)?;
    let host_veth = host_veth_name(container_id, &cfg.id);
    let mac = mac_for_ip(ip);
    let mut nl = Socket::open()?;
    let master = nl
        .link_index(&cfg.bridge)?
        .ok_or_else(|| NetError::Config(format!("bridge {} does not exist", cfg.bridge)))?;
    nl.create_veth(&VethSpec {
        host: &host_veth,
        master,
        peer_name: ifname,
        peer_mac: mac,
        peer_netns: ns.as_raw_fd(),
    })?;
    let gateway = (!cfg.internal).then_some(cfg.gateway);
    let prefix = cfg.subnet.prefix_len();
    let configured = hairpin(&mut nl, &host_veth)
        .and_then(|()| netns::run_in(&ns, || configure_inside(ifname, ip, prefix, gateway))?);
    if let Err(e) = configured {
        let _ = nl.delete_link(&host_veth);
        return Err(e);
    }
    Ok(Endpoint {
        ip,
        prefix_len: prefix,
        gateway,
        mac: mac_string(mac),
        host_veth,
        ifname: ifname.to_string(),
    })
}

fn hairpin(nl: &mut Socket, host_veth: &str) -> Result<(), NetError> {
    let index = nl
        .link_index(host_veth)?
        .ok_or_else(|| NetError::Config(format!("veth {host_veth} vanished")))?;
    Ok(nl.set_hairpin(index)?)
}

/// Inside the container's namespace: `ifname` up, its address and the
/// default route.
fn configure_inside(
    ifname: &str,
    ip: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
) -> Result<(), NetError> {
    let mut nl = Socket::open()?;
    let index = nl
        .link_index(ifname)?
        .ok_or_else(|| NetlinkError::Protocol {
            op: format!("find {ifname} in the container"),
        })?;
    nl.set_up(ifname)?;
    nl.add_address(index, ip, prefix)?;
    if let Some(gw) = gateway {
        nl.add_default_route(gw, index)?;
    }
    Ok(())
}

/// Removes an endpoint's veth pair (a no-op when the container's namespace,
/// and with it the pair, is already gone).
pub fn disconnect(host_veth: &str) -> Result<(), NetError> {
    validate_ifname(host_veth)?;
    Socket::open()?.delete_link(host_veth)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_mac() {
        let mac = mac_for_ip(Ipv4Addr::new(172, 17, 0, 2));
        assert_eq!(mac_string(mac), "02:42:ac:11:00:02");
    }

    #[test]
    fn veth_names_are_stable_and_short() {
        let a = host_veth_name("c1", "n1");
        assert_eq!(a, host_veth_name("c1", "n1"));
        assert_ne!(a, host_veth_name("c1", "n2"));
        assert_ne!(a, host_veth_name("c2", "n1"));
        assert_eq!(a.len(), 11);
        assert!(a.starts_with("veth"));
        assert!(validate_ifname(&a).is_ok());
    }
}
