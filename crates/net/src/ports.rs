//! Port bindings: the `PortBinding` type, Docker's `-p` syntax
//! (`C`, `H:C`, `IP:H:C`, `IP::C`, `/udp`, ranges) and the Engine API shape
//! (`"80/tcp"` + `HostIp` + `HostPort`), with docker/cli's error texts.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

/// A `-p` value or API binding that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PortSpecError {
    #[error("invalid containerPort: {0}")]
    ContainerPort(String),
    #[error("invalid hostPort: {0}")]
    HostPort(String),
    #[error("invalid proto: {0}")]
    Proto(String),
    #[error("invalid ranges specified for container and host Ports: {0} and {1}")]
    Ranges(String, String),
    #[error("invalid IP address: {0}")]
    Ip(String),
    #[error("no port specified: {0}<empty>")]
    NoPort(String),
    #[error("IPv6 host address {0} is not supported")]
    Ipv6(String),
}

/// Transport protocol of a published port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    pub fn as_str(&self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }

    fn parse(s: &str) -> Result<Self, PortSpecError> {
        match s.to_ascii_lowercase().as_str() {
            "" | "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "sctp" => Ok(Proto::Sctp),
            _ => Err(PortSpecError::Proto(s.to_ascii_lowercase())),
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One container port published on the host.
///
/// Before `publish` the host port may be open: `host_port == 0` means any
/// free port of the kernel's ephemeral range, `host_port < host_port_end`
/// means the first free port of that range. The bindings `publish` returns
/// always have `host_port == host_port_end != 0`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PortBinding {
    pub proto: Proto,
    pub container_port: u16,
    /// `None`: every IPv4 address of the host (`0.0.0.0`).
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub host_port_end: u16,
}

impl PortBinding {
    /// The API key of the container side: `"80/tcp"`.
    pub fn port_key(&self) -> String {
        format!("{}/{}", self.container_port, self.proto)
    }

    /// `HostIp` as Docker reports it in `NetworkSettings.Ports`.
    pub fn host_ip_string(&self) -> String {
        self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string()
    }

    /// `HostPort` as in the API: `""` for any port, `"8080"`, `"8000-8010"`.
    pub fn host_port_string(&self) -> String {
        match (self.host_port, self.host_port_end) {
            (0, _) => String::new(),
            (a, b) if a == b => a.to_string(),
            (a, b) => format!("{a}-{b}"),
        }
    }

    /// One binding from the Engine API's `HostConfig.PortBindings`:
    /// key `"80/tcp"`, `HostIp` (`""`, `"0.0.0.0"` or an IPv4 address) and
    /// `HostPort` (`""`, `"0"`, `"8080"` or `"8000-8010"`).
    pub fn from_api(key: &str, host_ip: &str, host_port: &str) -> Result<Self, PortSpecError> {
        let (port, proto) = key.split_once('/').unwrap_or((key, ""));
        let proto = Proto::parse(proto)?;
        let container_port =
            parse_port(port).ok_or_else(|| PortSpecError::ContainerPort(port.into()))?;
        let (host_port, host_port_end) = if host_port.is_empty() {
            (0, 0)
        } else {
            parse_range(host_port).ok_or_else(|| PortSpecError::HostPort(host_port.into()))?
        };
        Ok(PortBinding {
            proto,
            container_port,
            host_ip: parse_host_ip(host_ip)?,
            host_port,
            host_port_end: if host_port == 0 { 0 } else { host_port_end },
        })
    }
}

impl fmt::Display for PortBinding {
    /// `0.0.0.0:8080->80/tcp`, the `docker ps` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}->{}/{}",
            self.host_ip_string(),
            self.host_port_string(),
            self.container_port,
            self.proto
        )
    }
}

fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `"80"` → (80, 80); `"80-90"` → (80, 90).
fn parse_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        None => parse_port(s).map(|p| (p, p)),
        Some((a, b)) => {
            let (a, b) = (parse_port(a)?, parse_port(b)?);
            (a <= b).then_some((a, b))
        }
    }
}

fn parse_host_ip(s: &str) -> Result<Option<Ipv4Addr>, PortSpecError> {
    let bare = s
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(s);
    if bare.is_empty() {
        return Ok(None);
    }
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_unspecified() => Ok(None),
        Ok(IpAddr::V4(ip)) => Ok(Some(ip)),
        Ok(IpAddr::V6(_)) => Err(PortSpecError::Ipv6(bare.into())),
        Err(_) => Err(PortSpecError::Ip(bare.into())),
    }
}

/// Parses one `-p`/`--publish` value into bindings, one per container port.
pub fn parse_publish(spec: &str) -> Result<Vec<PortBinding>, PortSpecError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let n = parts.len();
    let (ip, host, container) = match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let (container, proto) = match container.split_once('/') {
        Some((c, rest)) => (c, rest.split('/').next().unwrap_or("")),
        None => (container, ""),
    };
    let host_ip = parse_host_ip(&ip)?;
    if container.is_empty() {
        return Err(PortSpecError::NoPort(spec.into()));
    }
    let (c0, c1) =
        parse_range(container).ok_or_else(|| PortSpecError::ContainerPort(container.into()))?;
    let (h0, h1) = if host.is_empty() {
        (0, 0)
    } else {
        parse_range(host).ok_or_else(|| PortSpecError::HostPort(host.into()))?
    };
    let proto = Proto::parse(proto)?;
    let host_range = !host.is_empty() && h1 - h0 != c1 - c0;
    if host_range && c0 != c1 {
        return Err(PortSpecError::Ranges(container.into(), host.into()));
    }
    Ok((c0..=c1)
        .enumerate()
        .map(|(i, cport)| {
            let (hp, he) = match (h0, host_range) {
                (0, _) => (0, 0),
                (_, true) => (h0, h1),
                (_, false) => (h0 + i as u16, h0 + i as u16),
            };
            PortBinding {
                proto,
                container_port: cport,
                host_ip,
                host_port: hp,
                host_port_end: he,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> PortBinding {
        let v = parse_publish(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}");
        v.into_iter().next().unwrap()
    }

    fn b(proto: Proto, c: u16, ip: Option<[u8; 4]>, h: u16, he: u16) -> PortBinding {
        PortBinding {
            proto,
            container_port: c,
            host_ip: ip.map(Ipv4Addr::from),
            host_port: h,
            host_port_end: he,
        }
    }

    #[test]
    fn every_docker_form() {
        use Proto::*;
        assert_eq!(one("80"), b(Tcp, 80, None, 0, 0));
        assert_eq!(one("8080:80"), b(Tcp, 80, None, 8080, 8080));
        assert_eq!(
            one("127.0.0.1:8080:80"),
            b(Tcp, 80, Some([127, 0, 0, 1]), 8080, 8080)
        );
        assert_eq!(one("127.0.0.1::80"), b(Tcp, 80, Some([127, 0, 0, 1]), 0, 0));
        assert_eq!(one("0.0.0.0:8080:80"), b(Tcp, 80, None, 8080, 8080));
        assert_eq!(one("[0.0.0.0]:8080:80"), b(Tcp, 80, None, 8080, 8080));
        assert_eq!(one("53/udp"), b(Udp, 53, None, 0, 0));
        assert_eq!(one("5353:53/UDP"), b(Udp, 53, None, 5353, 5353));
        assert_eq!(one("9/sctp"), b(Sctp, 9, None, 0, 0));
        assert_eq!(one(":80"), b(Tcp, 80, None, 0, 0));
        assert_eq!(one("::80"), b(Tcp, 80, None, 0, 0));
        assert_eq!(one("0:80"), b(Tcp, 80, None, 0, 0));
        assert_eq!(one("80/tcp/x"), b(Tcp, 80, None, 0, 0));
        assert_eq!(one("8000-8010:80"), b(Tcp, 80, None, 8000, 8010));
        assert_eq!(
            parse_publish("8000-8001:80-81/udp").unwrap(),
            vec![b(Udp, 80, None, 8000, 8000), b(Udp, 81, None, 8001, 8001)]
        );
        assert_eq!(
            parse_publish("80-81").unwrap(),
            vec![b(Tcp, 80, None, 0, 0), b(Tcp, 81, None, 0, 0)]
        );
    }

    #[test]
    fn docker_errors() {
        let err = |s: &str| parse_publish(s).unwrap_err().to_string();
        assert_eq!(err("foo"), "invalid containerPort: foo");
        assert_eq!(err("70000:80"), "invalid hostPort: 70000");
        assert_eq!(err("1.2.3.4:80"), "invalid hostPort: 1.2.3.4");
        assert_eq!(err("80/xyz"), "invalid proto: xyz");
        assert_eq!(
            err("1-3:4-5"),
            "invalid ranges specified for container and host Ports: 4-5 and 1-3"
        );
        assert_eq!(err("80:"), "no port specified: 80:<empty>");
        assert_eq!(err("1:2:3:80"), "invalid IP address: 1:2");
        assert_eq!(err("90-80"), "invalid containerPort: 90-80");
        assert_eq!(
            err("[::1]:8080:80"),
            "IPv6 host address ::1 is not supported"
        );
    }

    #[test]
    fn api_shape() {
        let p = PortBinding::from_api("80/tcp", "", "8080").unwrap();
        assert_eq!(p, b(Proto::Tcp, 80, None, 8080, 8080));
        assert_eq!(p.port_key(), "80/tcp");
        assert_eq!(p.host_ip_string(), "0.0.0.0");
        assert_eq!(p.host_port_string(), "8080");
        assert_eq!(p.to_string(), "0.0.0.0:8080->80/tcp");
        let r = PortBinding::from_api("53/udp", "127.0.0.1", "5000-5010").unwrap();
        assert_eq!(r, b(Proto::Udp, 53, Some([127, 0, 0, 1]), 5000, 5010));
        assert_eq!(r.host_port_string(), "5000-5010");
        let any = PortBinding::from_api("80", "0.0.0.0", "").unwrap();
        assert_eq!(any, b(Proto::Tcp, 80, None, 0, 0));
        assert_eq!(
            PortBinding::from_api("80/tcp", "", "0")
                .unwrap()
                .host_port_end,
            0
        );
        assert!(PortBinding::from_api("x/tcp", "", "").is_err());
        assert!(PortBinding::from_api("80/tcp", "nope", "").is_err());
    }

    #[test]
    fn serde_shape() {
        let p = one("127.0.0.1:8080:80");
        let j = serde_json::to_string(&p).unwrap();
        assert_eq!(
            j,
            r#"{"Proto":"tcp","ContainerPort":80,"HostIp":"127.0.0.1","HostPort":8080,"HostPortEnd":8080}"#
        );
        assert_eq!(serde_json::from_str::<PortBinding>(&j).unwrap(), p);
    }
}
