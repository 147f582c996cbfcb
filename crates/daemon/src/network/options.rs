//! The daemon's network flags (`--bip`, `--fixed-cidr`,
//! `--default-address-pool`) and the choice of a subnet for a network that
//! asks for none: from the configured pools when there are any, else from
//! Docker's defaults (berth-net), skipping other networks and host routes.

use std::net::Ipv4Addr;

use berth_net::ipam::{host_routes, HostRoute};
use berth_net::Ipv4Net;

/// A flag value that cannot be used, or no subnet left.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    #[error("invalid CIDR address: {0}")]
    Cidr(String),
    #[error("invalid bip {0}: not a host address of its subnet")]
    Bip(String),
    #[error("invalid address pool {0}: {1}")]
    Pool(String, &'static str),
    #[error("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network")]
    NoPool,
    #[error("read host routes: {0}")]
    Routes(String),
}

/// `berthd` network flags, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkOptions {
    /// `--bip 10.20.0.1/16`: the default bridge's gateway and subnet.
    pub bip: Option<(Ipv4Addr, Ipv4Net)>,
    /// `--fixed-cidr`: where the default bridge hands out addresses.
    pub fixed_cidr: Option<Ipv4Net>,
    /// `--default-address-pool base=10.10.0.0/16,size=24` (repeatable).
    pub pools: Vec<(Ipv4Net, u8)>,
}

impl NetworkOptions {
    /// Parses the flag values; the messages are Docker's.
    pub fn parse(
        bip: Option<&str>,
        fixed_cidr: Option<&str>,
        pools: &[String],
    ) -> Result<Self, OptionsError> {
        let bip = bip
            .map(|b| {
                let (ip, _) = b.split_once('/').ok_or_else(|| bad_cidr(b))?;
                let ip: Ipv4Addr = ip.parse().map_err(|_| bad_cidr(b))?;
                let net: Ipv4Net = b.parse().map_err(|_| bad_cidr(b))?;
                if !net.is_host(ip) {
                    return Err(OptionsError::Bip(b.to_string()));
                }
                Ok((ip, net))
            })
            .transpose()?;
        let fixed_cidr = fixed_cidr
            .map(|c| c.parse::<Ipv4Net>().map_err(|_| bad_cidr(c)))
            .transpose()?;
        let pools = pools
            .iter()
            .map(|p| parse_pool(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(NetworkOptions {
            bip,
            fixed_cidr,
            pools,
        })
    }

    /// A free subnet for a new network, or `None` to let berth-net pick
    /// from Docker's default pools. `own_bridge`'s routes are not in the way.
    pub fn pick(
        &self,
        in_use: &[Ipv4Net],
        own_bridge: Option<&str>,
    ) -> Result<Option<Ipv4Net>, OptionsError> {
        if self.pools.is_empty() {
            return Ok(None);
        }
        let routes = host_routes().map_err(|e| OptionsError::Routes(e.to_string()))?;
        pick_from(&self.pools, in_use, &routes, own_bridge)
            .map(Some)
            .ok_or(OptionsError::NoPool)
    }
}

fn bad_cidr(s: &str) -> OptionsError {
    OptionsError::Cidr(s.to_string())
}

/// `base=10.10.0.0/16,size=24`.
fn parse_pool(s: &str) -> Result<(Ipv4Net, u8), OptionsError> {
    let bad = |why| OptionsError::Pool(s.to_string(), why);
    let (mut base, mut size) = (None, None);
    for part in s.split(',') {
        match part.split_once('=') {
            Some(("base", v)) => base = Some(v.parse::<Ipv4Net>().map_err(|_| bad_cidr(v))?),
            Some(("size", v)) => size = Some(v.parse::<u8>().map_err(|_| bad("bad size"))?),
            _ => return Err(bad("unknown field")),
        }
    }
    match (base, size) {
        (Some(b), Some(n)) if n >= b.prefix_len() && n <= 30 => Ok((b, n)),
        (Some(_), Some(_)) => Err(bad("size must lie between the base's prefix and 30")),
        _ => Err(bad("needs base and size")),
    }
}

/// The first subnet of `pools` that overlaps neither `in_use` nor a host
/// route (other than `own_bridge`'s).
pub fn pick_from(
    pools: &[(Ipv4Net, u8)],
    in_use: &[Ipv4Net],
    routes: &[HostRoute],
    own_bridge: Option<&str>,
) -> Option<Ipv4Net> {
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
    pools
        .iter()
        .flat_map(|(base, size)| (0..).map_while(move |i| base.subnet(*size, i)))
        .find(|cand| !taken.iter().any(|t| t.overlaps(cand)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn parses_flags() {
        let o = NetworkOptions::parse(
            Some("10.20.0.1/16"),
            Some("10.20.1.0/24"),
            &["base=10.30.0.0/16,size=24".into()],
        )
        .unwrap();
        assert_eq!(
            o.bip,
            Some((Ipv4Addr::new(10, 20, 0, 1), n("10.20.0.0/16")))
        );
        assert_eq!(o.fixed_cidr, Some(n("10.20.1.0/24")));
        assert_eq!(o.pools, vec![(n("10.30.0.0/16"), 24)]);
        assert!(NetworkOptions::parse(Some("10.20.0.0/16"), None, &[]).is_err());
        assert!(NetworkOptions::parse(Some("x"), None, &[]).is_err());
        assert!(NetworkOptions::parse(None, None, &["base=10.0.0.0/16".into()]).is_err());
        assert!(NetworkOptions::parse(None, None, &["base=10.0.0.0/16,size=8".into()]).is_err());
        assert_eq!(
            NetworkOptions::parse(None, None, &[]).unwrap(),
            Default::default()
        );
    }

    #[test]
    fn picks_around_used_subnets_and_routes() {
        let pools = [(n("10.30.0.0/16"), 24)];
        let routes = vec![HostRoute {
            iface: "eth0".into(),
            dst: n("10.30.0.0/24"),
        }];
        assert_eq!(
            pick_from(&pools, &[n("10.30.1.0/24")], &routes, None),
            Some(n("10.30.2.0/24"))
        );
        assert_eq!(
            pick_from(&pools, &[], &routes, Some("eth0")),
            Some(n("10.30.0.0/24"))
        );
        assert_eq!(pick_from(&pools, &[n("10.30.0.0/16")], &[], None), None);
    }
}
