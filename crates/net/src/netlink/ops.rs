//! The rtnetlink operations berth uses: bridges, veth pairs (the peer created
//! directly inside the container's namespace), link up/delete/lookup,
//! hairpin on a bridge port, IPv4 addresses and the default route.

use std::net::Ipv4Addr;
use std::os::fd::RawFd;

use super::msg::{attrs, consts::*, ifinfo_index, Msg};
use super::{NetlinkError, Socket};

/// A veth pair: `host` end enslaved to the bridge with index `master`,
/// `peer` end created in the namespace `peer_netns` as `peer_name`.
pub struct VethSpec<'a> {
    pub host: &'a str,
    pub master: i32,
    pub peer_name: &'a str,
    pub peer_mac: [u8; 6],
    pub peer_netns: RawFd,
}

fn tolerate(r: Result<(), NetlinkError>, errno: i32) -> Result<bool, NetlinkError> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.errno() == Some(errno) => Ok(false),
        Err(e) => Err(e),
    }
}

impl Socket {
    /// The index of link `name`, `None` when there is none.
    pub fn link_index(&mut self, name: &str) -> Result<Option<i32>, NetlinkError> {
        let r = self.get(&format!("look up link {name}"), |seq| {
            Msg::new(RTM_GETLINK, 0, seq)
                .ifinfo(0, 0, 0, 0)
                .attr_str(IFLA_IFNAME, name)
        });
        match r {
            Ok(payload) => ifinfo_index(&payload)
                .map(Some)
                .ok_or_else(|| NetlinkError::Protocol {
                    op: format!("look up link {name}"),
                }),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Names of the links enslaved to the link with index `master` (the
    /// ports of a bridge).
    pub fn links_of_master(&mut self, master: i32) -> Result<Vec<String>, NetlinkError> {
        let all = self.dump("list links", |seq| {
            Msg::new(RTM_GETLINK, 0, seq)
                .ifinfo(0, 0, 0, 0)
                .attr_u32(IFLA_MASTER, master as u32)
        })?;
        Ok(all
            .iter()
            .filter_map(|p| {
                let a: Vec<(u16, &[u8])> = attrs(p.get(16..)?).collect();
                let m = a.iter().find(|(k, _)| *k == IFLA_MASTER)?.1;
                let is_port =
                    m.len() == 4 && i32::from_ne_bytes([m[0], m[1], m[2], m[3]]) == master;
                let name = a.iter().find(|(k, _)| *k == IFLA_IFNAME)?.1;
                let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
                is_port.then(|| String::from_utf8_lossy(&name[..end]).into_owned())
            })
            .collect())
    }

    /// Creates bridge `name`; `false` if a link of that name exists already.
    pub fn create_bridge(&mut self, name: &str) -> Result<bool, NetlinkError> {
        let r = self.ack(&format!("create bridge {name}"), |seq| {
            Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq)
                .ifinfo(0, 0, 0, 0)
                .attr_str(IFLA_IFNAME, name)
                .begin(IFLA_LINKINFO)
                .attr_str(IFLA_INFO_KIND, "bridge")
                .end()
        });
        tolerate(r, libc::EEXIST)
    }

    /// Sets link `name` up.
    pub fn set_up(&mut self, name: &str) -> Result<(), NetlinkError> {
        self.ack(&format!("set link {name} up"), |seq| {
            Msg::new(RTM_NEWLINK, 0, seq)
                .ifinfo(0, 0, IFF_UP, IFF_UP)
                .attr_str(IFLA_IFNAME, name)
        })
    }

    /// Deletes link `name` (a veth takes its peer with it); `false` when
    /// there was no such link.
    pub fn delete_link(&mut self, name: &str) -> Result<bool, NetlinkError> {
        let r = self.ack(&format!("delete link {name}"), |seq| {
            Msg::new(RTM_DELLINK, 0, seq)
                .ifinfo(0, 0, 0, 0)
                .attr_str(IFLA_IFNAME, name)
        });
        tolerate(r, libc::ENODEV)
    }

    /// Creates a veth pair: the host end up and attached to its bridge, the
    /// peer (still down) with its final name and MAC in the target namespace.
    pub fn create_veth(&mut self, v: &VethSpec<'_>) -> Result<(), NetlinkError> {
        self.ack(&format!("create veth {}", v.host), |seq| {
            Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq)
                .ifinfo(0, 0, IFF_UP, IFF_UP)
                .attr_str(IFLA_IFNAME, v.host)
                .attr_u32(IFLA_MASTER, v.master as u32)
                .begin(IFLA_LINKINFO)
                .attr_str(IFLA_INFO_KIND, "veth")
                .begin(IFLA_INFO_DATA)
                .begin(VETH_INFO_PEER)
                // not up yet: opening a veth before its pair is linked fails (ENOTCONN)
                .ifinfo(0, 0, 0, 0)
                .attr_str(IFLA_IFNAME, v.peer_name)
                .attr(IFLA_ADDRESS, &v.peer_mac)
                .attr_u32(IFLA_NET_NS_FD, v.peer_netns as u32)
                .end()
                .end()
                .end()
        })
    }

    /// Turns hairpin mode on for bridge port `index`, so that a container
    /// can reach itself through a published port.
    pub fn set_hairpin(&mut self, index: i32) -> Result<(), NetlinkError> {
        self.ack("set hairpin mode", |seq| {
            Msg::new(RTM_SETLINK, 0, seq)
                .ifinfo(libc::AF_BRIDGE as u8, index, 0, 0)
                .begin(IFLA_PROTINFO | NLA_F_NESTED)
                .attr(IFLA_BRPORT_MODE, &[1])
                .end()
        })
    }

    /// Adds `ip/prefix_len` to link `index` (no error if present).
    pub fn add_address(
        &mut self,
        index: i32,
        ip: Ipv4Addr,
        prefix_len: u8,
    ) -> Result<(), NetlinkError> {
        let broadcast = if prefix_len < 31 {
            Ipv4Addr::from(u32::from(ip) | (u32::MAX >> prefix_len))
        } else {
            ip
        };
        let r = self.ack(&format!("add address {ip}/{prefix_len}"), |seq| {
            Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, seq)
                .ifaddr(prefix_len, index as u32)
                .attr(IFA_LOCAL, &ip.octets())
                .attr(IFA_ADDRESS, &ip.octets())
                .attr(IFA_BROADCAST, &broadcast.octets())
        });
        tolerate(r, libc::EEXIST).map(|_| ())
    }

    /// Adds the default route via `gateway` on link `oif` (no error if
    /// present).
    pub fn add_default_route(&mut self, gateway: Ipv4Addr, oif: i32) -> Result<(), NetlinkError> {
        let r = self.ack(&format!("add default route via {gateway}"), |seq| {
            Msg::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, seq)
                .rtmsg(0)
                .attr(RTA_GATEWAY, &gateway.octets())
                .attr_u32(RTA_OIF, oif as u32)
        });
        tolerate(r, libc::EEXIST).map(|_| ())
    }
}
