//! berth-net: container networking for the daemon, as a synchronous library
//! (call it from `spawn_blocking`). It owns the kernel side only: Linux
//! bridges and veth pairs (by netlink, see `netlink`), IPv4 address
//! management (`ipam`, serialisable state the daemon persists), `-p` parsing
//! (`ports`) and host port reservations (`alloc`), and NAT/filtering in one
//! nftables table `ip berth` (`nft`, with a netlink fast path for published
//! ports in `nftnl`). The daemon keeps the records.
//!
//! Every function acts in the network namespace of the calling thread.
//!
//! # Use from the daemon
//!
//! - network create (and the default `bridge` at start):
//!   `NetworkRequest { .. }.plan(&subnets_of_other_networks)` →
//!   `(NetworkConfig, Ipam)`; persist both (serde) in `networks/<id>.json`;
//!   then `ensure_bridge(&cfg)`. At every daemon start call `ensure_bridge`
//!   again for every stored network (idempotent; keeps published ports).
//! - container start, after the runtime created the namespace and before
//!   `start`: `ip = ipam.allocate(container_id, fixed_ip)?` (persist),
//!   `connect(&cfg, "/proc/<pid>/ns/net", container_id, ip, "eth0")` →
//!   `Endpoint` (MAC, gateway, host veth), then
//!   `publish(container_id, ip, &bindings)` → bindings with host ports for
//!   `NetworkSettings.Ports`; persist them.
//! - container exit/stop: `unpublish(container_id, ip, &published)`,
//!   `disconnect(&endpoint.host_veth)` (a no-op when the namespace is gone),
//!   `ipam.release(ip)` (persist).
//! - daemon restart with running containers: `publish` again with the
//!   stored bindings (re-reserves the host ports; the kernel kept the DNAT).
//! - network rm: `remove_network(&cfg)`.
//!
//! `-p` values: `parse_publish`; API `PortBindings`: `PortBinding::from_api`.

pub mod alloc;
pub mod endpoint;
pub mod ipam;
pub mod ipnet;
pub mod netlink;
pub mod netns;
pub mod network;
pub mod nft;
mod nftnl;
pub mod ports;
pub mod publish;
pub mod sysctl;

pub use endpoint::{connect, disconnect, mac_for_ip, Endpoint};
pub use ipam::{pick_subnet, Ipam, IpamError};
pub use ipnet::Ipv4Net;
pub use network::{ensure_bridge, remove_network, NetworkConfig, NetworkRequest, DEFAULT_BRIDGE};
pub use ports::{parse_publish, PortBinding, PortSpecError, Proto};
pub use publish::{publish, unpublish};

/// Any failure of this crate.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error(transparent)]
    Netlink(#[from] netlink::NetlinkError),
    #[error(transparent)]
    Netns(#[from] netns::NetnsError),
    #[error(transparent)]
    Nft(#[from] nft::NftError),
    #[error(transparent)]
    Sysctl(#[from] sysctl::SysctlError),
    #[error(transparent)]
    Ipam(#[from] IpamError),
    #[error(transparent)]
    PortSpec(#[from] PortSpecError),
    #[error(transparent)]
    Port(#[from] alloc::AllocError),
    #[error("{0}")]
    Config(String),
}

/// Removes everything berth-net created in the calling thread's namespace:
/// the bridges listed in the nftables table, then the table itself. For
/// tests and `berthd --cleanup`; host port reservations of this process are
/// not touched.
pub fn cleanup_all() -> Result<(), NetError> {
    let bridges = nft::listed_bridges()?;
    if !bridges.is_empty() {
        let mut nl = netlink::Socket::open()?;
        for b in bridges
            .iter()
            .filter(|b| network::validate_ifname(b).is_ok())
        {
            nl.delete_link(b)?;
        }
    }
    nft::delete_table()?;
    Ok(())
}
