//! `Ipv4Net`: an IPv4 prefix (`172.17.0.0/16`) with the arithmetic IPAM and the
//! rule generator need. Written by hand: the whole type is a few dozen lines.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 network: address with the host bits cleared, and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Net {
    addr: Ipv4Addr,
    prefix: u8,
}

/// Why a CIDR string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid CIDR address: {0}")]
pub struct ParseNetError(pub String);

impl Ipv4Net {
    /// The network containing `addr` with `prefix` bits (host bits are cleared).
    /// `None` when `prefix > 32`.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Option<Self> {
        (prefix <= 32).then(|| Ipv4Net {
            addr: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        })
    }

    /// The network address (host bits zero).
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// The netmask as an integer (`/16` → `0xffff0000`).
    pub fn mask(&self) -> u32 {
        mask(self.prefix)
    }

    /// The last address of the network (the broadcast address for /0…/30).
    pub fn last(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) | !self.mask())
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask() == u32::from(self.addr)
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn contains_net(&self, other: &Ipv4Net) -> bool {
        other.prefix >= self.prefix && self.contains(other.addr)
    }

    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        self.contains(other.addr) || other.contains(self.addr)
    }

    /// The first usable host address (`.1` of a /24); the network address
    /// itself for /31 and /32.
    pub fn first_host(&self) -> Ipv4Addr {
        if self.prefix >= 31 {
            self.addr
        } else {
            Ipv4Addr::from(u32::from(self.addr) + 1)
        }
    }

    /// Whether `ip` is a usable host address of this network (inside it, and
    /// neither the network nor the broadcast address for prefixes up to /30).
    pub fn is_host(&self, ip: Ipv4Addr) -> bool {
        self.contains(ip) && (self.prefix >= 31 || (ip != self.addr && ip != self.last()))
    }

    /// The `index`-th subnet of length `prefix` inside `self`, if it exists.
    pub fn subnet(&self, prefix: u8, index: u32) -> Option<Ipv4Net> {
        if prefix < self.prefix || prefix > 32 {
            return None;
        }
        let count = 1u64 << (prefix - self.prefix);
        if u64::from(index) >= count {
            return None;
        }
        let step = if prefix == 0 {
            0
        } else {
            1u32 << (32 - prefix)
        };
        Ipv4Net::new(Ipv4Addr::from(u32::from(self.addr) + index * step), prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Ipv4Net {
    type Err = ParseNetError;

    /// `a.b.c.d/n`; like Go's `net.ParseCIDR` the host bits may be set and are
    /// cleared.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseNetError(s.to_string());
        let (a, p) = s.split_once('/').ok_or_else(bad)?;
        let addr: Ipv4Addr = a.parse().map_err(|_| bad())?;
        if p.is_empty() || p.len() > 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        Ipv4Net::new(addr, prefix).ok_or_else(bad)
    }
}

impl Serialize for Ipv4Net {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Net {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_display() {
        assert_eq!(net("172.17.0.0/16").to_string(), "172.17.0.0/16");
        assert_eq!(net("172.17.3.4/16").to_string(), "172.17.0.0/16");
        assert_eq!(net("0.0.0.0/0").to_string(), "0.0.0.0/0");
        for bad in [
            "172.17.0.0",
            "172.17.0.0/33",
            "x/8",
            "1.2.3.4/",
            "1.2.3.4/+1",
        ] {
            assert!(bad.parse::<Ipv4Net>().is_err(), "{bad}");
        }
    }

    #[test]
    fn arithmetic() {
        let n = net("10.1.0.0/16");
        assert!(n.contains("10.1.255.255".parse().unwrap()));
        assert!(!n.contains("10.2.0.0".parse().unwrap()));
        assert_eq!(n.last(), Ipv4Addr::new(10, 1, 255, 255));
        assert_eq!(n.first_host(), Ipv4Addr::new(10, 1, 0, 1));
        assert!(!n.is_host(Ipv4Addr::new(10, 1, 0, 0)));
        assert!(!n.is_host(Ipv4Addr::new(10, 1, 255, 255)));
        assert!(n.overlaps(&net("10.0.0.0/8")));
        assert!(net("10.0.0.0/8").contains_net(&n));
        assert!(!n.contains_net(&net("10.0.0.0/8")));
        assert!(!n.overlaps(&net("10.2.0.0/16")));
        let pool = net("192.168.0.0/16");
        assert_eq!(pool.subnet(20, 1), Some(net("192.168.16.0/20")));
        assert_eq!(pool.subnet(20, 16), None);
        assert_eq!(net("0.0.0.0/0").mask(), 0);
    }

    #[test]
    fn serde_as_string() {
        let n = net("172.18.0.0/16");
        let j = serde_json::to_string(&n).unwrap();
        assert_eq!(j, "\"172.18.0.0/16\"");
        assert_eq!(serde_json::from_str::<Ipv4Net>(&j).unwrap(), n);
        assert!(serde_json::from_str::<Ipv4Net>("\"nope\"").is_err());
    }
}
