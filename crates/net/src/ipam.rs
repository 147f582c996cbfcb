//! IP address management for one network (`Ipam`: subnet, gateway, optional
//! `--ip-range`, who holds which address) and the choice of a subnet for a new
//! network from Docker's default pools, skipping subnets the host already
//! routes (`/proc/thread-self/net/route`) or other networks use.

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::ipnet::Ipv4Net;

/// Why an address or a subnet could not be handed out.
#[derive(Debug, thiserror::Error)]
pub enum IpamError {
    #[error("no configured subnet or ip-range contain the IP address {0}")]
    OutOfRange(Ipv4Addr),
    #[error("Address already in use")]
    InUse(Ipv4Addr),
    #[error("no available IPv4 addresses on this network's address pools: {0}")]
    Exhausted(Ipv4Net),
    #[error("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")]
    NoPool,
    #[error("Pool overlaps with other one on this address space")]
    Overlaps(Ipv4Net),
    #[error("invalid pool request: {0}")]
    InvalidConfig(String),
    #[error("read host routes: {0}")]
    Routes(#[source] io::Error),
}

/// The addresses of one network. Serialisable: the daemon stores it with the
/// network record and loads it back at start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    /// `--ip-range`: dynamic allocation draws from here only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<Ipv4Net>,
    /// Allocated address → owner (a container ID).
    #[serde(default)]
    allocated: BTreeMap<Ipv4Addr, String>,
}

impl Ipam {
    /// A pool for `subnet`; the gateway defaults to the first host address,
    /// like Docker. `ip_range` must lie inside `subnet`.
    pub fn new(
        subnet: Ipv4Net,
        gateway: Option<Ipv4Addr>,
        ip_range: Option<Ipv4Net>,
    ) -> Result<Self, IpamError> {
        if subnet.prefix_len() > 30 {
            return Err(IpamError::InvalidConfig(format!(
                "subnet {subnet} is too small"
            )));
        }
        let gateway = gateway.unwrap_or_else(|| subnet.first_host());
        if !subnet.is_host(gateway) {
            return Err(IpamError::InvalidConfig(format!(
                "gateway {gateway} is not a host address of subnet {subnet}"
            )));
        }
        if let Some(r) = ip_range {
            if !subnet.contains_net(&r) {
                return Err(IpamError::InvalidConfig(format!(
                    "ip-range {r} is not inside subnet {subnet}"
                )));
            }
        }
        Ok(Ipam {
            subnet,
            gateway,
            ip_range,
            allocated: BTreeMap::new(),
        })
    }

    /// Hands an address to `owner`: `fixed` (`--ip`) when given, otherwise
    /// the lowest free host address of the range (or the subnet). Asking
    /// again for an address the same owner already holds succeeds.
    pub fn allocate(
        &mut self,
        owner: &str,
        fixed: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr, IpamError> {
        let ip = match fixed {
            Some(ip) => {
                if !self.subnet.is_host(ip) {
                    return Err(IpamError::OutOfRange(ip));
                }
                match self.allocated.get(&ip) {
                    Some(o) if o == owner => return Ok(ip),
                    Some(_) => return Err(IpamError::InUse(ip)),
                    None if ip == self.gateway => return Err(IpamError::InUse(ip)),
                    None => ip,
                }
            }
            None => self.first_free()?,
        };
        self.allocated.insert(ip, owner.to_string());
        Ok(ip)
    }

    fn first_free(&self) -> Result<Ipv4Addr, IpamError> {
        let pool = self.ip_range.unwrap_or(self.subnet);
        let (start, end) = (u32::from(pool.addr()), u32::from(pool.last()));
        (start..=end)
            .map(Ipv4Addr::from)
            .find(|ip| {
                self.subnet.is_host(*ip) && *ip != self.gateway && !self.allocated.contains_key(ip)
            })
            .ok_or(IpamError::Exhausted(pool))
    }

    /// Frees `ip`; freeing an address nobody holds is not an error.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.allocated.remove(&ip);
    }

    /// Frees every address `owner` holds.
    pub fn release_owner(&mut self, owner: &str) {
        self.allocated.retain(|_, o| o != owner);
    }

    /// The owner of `ip`, if allocated.
    pub fn owner(&self, ip: Ipv4Addr) -> Option<&str> {
        self.allocated.get(&ip).map(String::as_str)
    }

    /// Allocated addresses and their owners, in address order.
    pub fn allocations(&self) -> impl Iterator<Item = (Ipv4Addr, &str)> {
        self.allocated.iter().map(|(ip, o)| (*ip, o.as_str()))
    }
}

/// Docker's default local address pools, in the order Docker tries them:
/// (base, size of each subnet carved from it).
pub fn default_pools() -> Vec<(Ipv4Net, u8)> {
    let p = |a, b, len, size| (net(Ipv4Addr::new(a, b, 0, 0), len), size);
    vec![
        p(172, 17, 16, 16),
        p(172, 18, 16, 16),
        p(172, 19, 16, 16),
        p(172, 20, 14, 16),
        p(172, 24, 14, 16),
        p(172, 28, 14, 16),
        p(192, 168, 16, 20),
    ]
}

fn net(addr: Ipv4Addr, prefix: u8) -> Ipv4Net {
    // The callers pass constant prefixes ≤ 32.
    Ipv4Net::new(addr, prefix).unwrap_or_else(|| unreachable!("prefix {prefix} > 32"))
}

/// A route of the host's main table: the interface and destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRoute {
    pub iface: String,
    pub dst: Ipv4Net,
}

/// The IPv4 routes of the calling thread's network namespace, without the
/// default route.
pub fn host_routes() -> Result<Vec<HostRoute>, IpamError> {
    let text = std::fs::read_to_string("/proc/thread-self/net/route").map_err(IpamError::Routes)?;
    Ok(parse_proc_route(&text))
}

/// Parses `/proc/net/route` (little-endian hex addresses and masks).
pub fn parse_proc_route(text: &str) -> Vec<HostRoute> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let iface = f.first()?;
            let dst = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            // The kernel prints the network-order words as native integers.
            let prefix = mask.count_ones() as u8;
            let dst = Ipv4Net::new(Ipv4Addr::from(dst.to_ne_bytes()), prefix)?;
            (prefix > 0).then(|| HostRoute {
                iface: iface.to_string(),
                dst,
            })
        })
        .collect()
}

/// The first subnet of Docker's default pools that overlaps neither a subnet
/// in `in_use` (other networks) nor a host route. Routes through
/// `own_bridge` are ignored: they belong to the network being (re)created.
pub fn pick_subnet(
    in_use: &[Ipv4Net],
    routes: &[HostRoute],
    own_bridge: Option<&str>,
) -> Result<Ipv4Net, IpamError> {
    let taken: Vec<Ipv4Net> = in_use
        .iter()
        .copied()
        .chain(
            routes
                .iter()
                .filter(|r| Some(r.iface.as_str()) != own_bridge)
                .map(|r| r.dst),
        )
        .collect();
    default_pools()
        .into_iter()
        .flat_map(|(base, size)| (0..).map_while(move |i| base.subnet(size, i)))
        .find(|cand| !taken.iter().any(|t| t.overlaps(cand)))
        .ok_or(IpamError::NoPool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn sequential_allocation_skips_gateway_and_reuses_freed() {
        let mut p = Ipam::new(n("172.17.0.0/16"), None, None).unwrap();
        assert_eq!(p.gateway, ip("172.17.0.1"));
        assert_eq!(p.allocate("a", None).unwrap(), ip("172.17.0.2"));
        assert_eq!(p.allocate("b", None).unwrap(), ip("172.17.0.3"));
        p.release(ip("172.17.0.2"));
        assert_eq!(p.allocate("c", None).unwrap(), ip("172.17.0.2"));
        p.release_owner("b");
        assert_eq!(p.owner(ip("172.17.0.3")), None);
        assert_eq!(p.owner(ip("172.17.0.2")), Some("c"));
    }

    #[test]
    fn fixed_ip_and_range() {
        let mut p = Ipam::new(
            n("10.5.0.0/24"),
            Some(ip("10.5.0.254")),
            Some(n("10.5.0.128/25")),
        )
        .unwrap();
        assert_eq!(p.allocate("a", None).unwrap(), ip("10.5.0.128"));
        assert_eq!(
            p.allocate("b", Some(ip("10.5.0.9"))).unwrap(),
            ip("10.5.0.9")
        );
        assert_eq!(
            p.allocate("b", Some(ip("10.5.0.9"))).unwrap(),
            ip("10.5.0.9")
        );
        assert!(matches!(
            p.allocate("c", Some(ip("10.5.0.9"))),
            Err(IpamError::InUse(_))
        ));
        assert!(matches!(
            p.allocate("c", Some(ip("10.5.0.254"))),
            Err(IpamError::InUse(_))
        ));
        assert!(matches!(
            p.allocate("c", Some(ip("10.5.1.9"))),
            Err(IpamError::OutOfRange(_))
        ));
        assert!(matches!(
            p.allocate("c", Some(ip("10.5.0.255"))),
            Err(IpamError::OutOfRange(_))
        ));
        assert_eq!(
            p.allocate("c", Some(ip("10.6.0.1")))
                .unwrap_err()
                .to_string(),
            "no configured subnet or ip-range contain the IP address 10.6.0.1"
        );
    }

    #[test]
    fn exhaustion() {
        let mut p = Ipam::new(n("10.5.0.0/30"), None, None).unwrap();
        assert_eq!(p.allocate("a", None).unwrap(), ip("10.5.0.2"));
        assert!(matches!(
            p.allocate("b", None),
            Err(IpamError::Exhausted(_))
        ));
    }

    #[test]
    fn invalid_configs() {
        assert!(Ipam::new(n("10.5.0.0/24"), Some(ip("10.6.0.1")), None).is_err());
        assert!(Ipam::new(n("10.5.0.0/24"), None, Some(n("10.0.0.0/8"))).is_err());
        assert!(Ipam::new(n("10.5.0.0/31"), None, None).is_err());
    }

    #[test]
    fn serde_roundtrip() {
        let mut p = Ipam::new(n("10.5.0.0/24"), None, Some(n("10.5.0.0/25"))).unwrap();
        p.allocate("abc", None).unwrap();
        let j = serde_json::to_string(&p).unwrap();
        assert!(j.contains("\"Subnet\":\"10.5.0.0/24\""), "{j}");
        assert!(j.contains("\"10.5.0.2\":\"abc\""), "{j}");
        assert_eq!(serde_json::from_str::<Ipam>(&j).unwrap(), p);
    }

    const ROUTES: &str =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";

    #[test]
    fn proc_route_parsing() {
        let r = parse_proc_route(ROUTES);
        assert_eq!(
            r,
            vec![
                HostRoute {
                    iface: "docker0".into(),
                    dst: n("172.17.0.0/16")
                },
                HostRoute {
                    iface: "eth0".into(),
                    dst: n("192.0.2.0/24")
                },
            ]
        );
    }

    #[test]
    fn pick_skips_docker0_and_used() {
        let routes = parse_proc_route(ROUTES);
        assert_eq!(pick_subnet(&[], &[], None).unwrap(), n("172.17.0.0/16"));
        assert_eq!(pick_subnet(&[], &routes, None).unwrap(), n("172.18.0.0/16"));
        assert_eq!(
            pick_subnet(&[n("172.18.0.0/16")], &routes, None).unwrap(),
            n("172.19.0.0/16")
        );
        assert_eq!(
            pick_subnet(&[], &routes, Some("docker0")).unwrap(),
            n("172.17.0.0/16")
        );
        let all172 = [n("172.16.0.0/12")];
        assert_eq!(
            pick_subnet(&all172, &routes, None).unwrap(),
            n("192.168.0.0/20")
        );
        assert_eq!(
            pick_subnet(&[n("172.16.0.0/12"), n("192.168.0.0/20")], &[], None).unwrap(),
            n("192.168.16.0/20")
        );
        assert!(matches!(
            pick_subnet(&[n("172.16.0.0/12"), n("192.168.0.0/16")], &[], None),
            Err(IpamError::NoPool)
        ));
    }

    #[test]
    fn default_pool_count() {
        let count: usize = default_pools()
            .into_iter()
            .map(|(b, s)| (0..).map_while(|i| b.subnet(s, i)).count())
            .sum();
        assert_eq!(count, 3 + 4 * 3 + 16);
    }
}
