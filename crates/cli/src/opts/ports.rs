//! `-p/--publish` and `--expose` parsing as docker's nat package does it:
//! `[ip:][hostPort:]containerPort[/proto]` with ranges, bracketed IPv6, and
//! the long `target=80,published=8080,protocol=udp` form.

use serde_json::{json, Map, Value};

/// Exposed ports and bindings in API shape.
#[derive(Debug, Default)]
pub struct Ports {
    /// `{"80/tcp": {}}` keys in insertion order.
    pub exposed: Vec<String>,
    /// `("80/tcp", HostIp, HostPort)`.
    pub bindings: Vec<(String, String, String)>,
}

impl Ports {
    fn expose(&mut self, key: &str) {
        if !self.exposed.iter().any(|k| k == key) {
            self.exposed.push(key.to_string());
        }
    }

    /// `ExposedPorts` JSON.
    pub fn exposed_json(&self) -> Value {
        let m: Map<String, Value> = self
            .exposed
            .iter()
            .map(|k| (k.clone(), json!({})))
            .collect();
        Value::Object(m)
    }

    /// `PortBindings` JSON.
    pub fn bindings_json(&self) -> Value {
        let mut m = Map::new();
        for (k, ip, port) in &self.bindings {
            let entry = m.entry(k.clone()).or_insert_with(|| json!([]));
            if let Some(a) = entry.as_array_mut() {
                a.push(json!({"HostIp": ip, "HostPort": port}));
            }
        }
        Value::Object(m)
    }
}

/// Splits `proto` off `80/udp` (default tcp).
pub fn split_proto(s: &str) -> (String, String) {
    match s.split_once('/') {
        Some((p, "")) => (p.to_string(), "tcp".into()),
        Some((p, proto)) => (p.to_string(), proto.to_lowercase()),
        None => (s.to_string(), "tcp".into()),
    }
}

/// Parses `80` or `8000-8010`.
pub fn port_range(s: &str) -> Result<(u32, u32), String> {
    let parse = |p: &str| -> Result<u32, String> {
        match p.parse::<u32>() {
            Ok(n) if n <= 65535 => Ok(n),
            _ => Err(format!("invalid port: {p:?}")),
        }
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if b < a {
                return Err(format!("invalid range specified for port: {s}"));
            }
            Ok((a, b))
        }
        None => {
            let p = parse(s)?;
            Ok((p, p))
        }
    }
}

fn split_parts(raw: &str) -> (String, String, String) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1].to_string();
    match n {
        1 => (String::new(), String::new(), container),
        2 => (String::new(), parts[0].to_string(), container),
        3 => (parts[0].to_string(), parts[1].to_string(), container),
        _ => (
            parts[..n - 2].join(":"),
            parts[n - 2].to_string(),
            container,
        ),
    }
}

/// Converts the long syntax into the short one.
fn to_standard(spec: &str) -> Result<String, String> {
    if !spec.contains('=') {
        return Ok(spec.to_string());
    }
    let (mut target, mut published, mut proto, mut ip) = (
        String::new(),
        String::new(),
        "tcp".to_string(),
        String::new(),
    );
    for part in spec.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("invalid field {part}"))?;
        match k.to_lowercase().as_str() {
            "target" => target = v.to_string(),
            "published" => published = v.to_string(),
            "protocol" => proto = v.to_string(),
            "mode" => {
                if v != "ingress" && v != "host" {
                    return Err(format!(
                        "invalid publish mode value ({v}); must be either 'ingress' or 'host'"
                    ));
                }
            }
            "host_ip" | "host-ip" => ip = v.to_string(),
            _ => return Err(format!("invalid field key {k}")),
        }
    }
    if target.is_empty() {
        return Err("missing mandatory field \"target\"".into());
    }
    let ip = if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip
    };
    Ok(match (ip.is_empty(), published.is_empty()) {
        (true, true) => format!("{target}/{proto}"),
        (true, false) => format!("{published}:{target}/{proto}"),
        (false, _) => format!("{ip}:{published}:{target}/{proto}"),
    })
}

/// Adds one `-p` value.
pub fn publish(ports: &mut Ports, raw: &str) -> Result<(), String> {
    let raw = to_standard(raw)?;
    let (mut ip, host, container) = split_parts(&raw);
    let (container, proto) = split_proto(&container);
    if ip.starts_with('[') && ip.ends_with(']') {
        ip = ip[1..ip.len() - 1].to_string();
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        port_range(&container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (hstart, hend) = if host.is_empty() {
        (0, 0)
    } else {
        port_range(&host).map_err(|_| format!("invalid hostPort: {host}"))?
    };
    if !host.is_empty() && (end - start) != (hend - hstart) && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host}"
        ));
    }
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    for i in 0..=(end - start) {
        let key = format!("{}/{proto}", start + i);
        let mut hp = if host.is_empty() {
            String::new()
        } else {
            (hstart + i).to_string()
        };
        if start == end && hstart != hend {
            hp = format!("{hp}-{hend}");
        }
        ports.expose(&key);
        ports.bindings.push((key, ip.clone(), hp));
    }
    Ok(())
}

/// Adds one `--expose` value.
pub fn expose(ports: &mut Ports, e: &str) -> Result<(), String> {
    if e.contains(':') {
        return Err(format!("invalid port format for --expose: {e}"));
    }
    let (port, proto) = split_proto(e);
    let (start, end) = port_range(&port)
        .map_err(|err| format!("invalid range format for --expose: {e}, error: {err}"))?;
    for p in start..=end {
        ports.expose(&format!("{p}/{proto}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_forms() {
        let mut p = Ports::default();
        publish(&mut p, "8080:80").unwrap();
        publish(&mut p, "127.0.0.1:9000:9000/udp").unwrap();
        publish(&mut p, "[::1]::53").unwrap();
        publish(&mut p, "7000-7001:7000-7001").unwrap();
        publish(&mut p, "target=443,published=8443").unwrap();
        assert_eq!(
            p.exposed,
            vec!["80/tcp", "9000/udp", "53/tcp", "7000/tcp", "7001/tcp", "443/tcp"]
        );
        assert_eq!(
            p.bindings_json(),
            json!({
                "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                "9000/udp": [{"HostIp": "127.0.0.1", "HostPort": "9000"}],
                "53/tcp": [{"HostIp": "::1", "HostPort": ""}],
                "7000/tcp": [{"HostIp": "", "HostPort": "7000"}],
                "7001/tcp": [{"HostIp": "", "HostPort": "7001"}],
                "443/tcp": [{"HostIp": "", "HostPort": "8443"}]
            })
        );
        assert!(publish(&mut p, "x:80").is_err());
        assert!(publish(&mut p, "1-3:5-6").is_err());
    }

    #[test]
    fn expose_ranges() {
        let mut p = Ports::default();
        expose(&mut p, "5000-5001/udp").unwrap();
        assert_eq!(p.exposed, vec!["5000/udp", "5001/udp"]);
        assert!(expose(&mut p, "1:2").is_err());
    }
}
