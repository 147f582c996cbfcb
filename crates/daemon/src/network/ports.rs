//! A container's ports: the bindings it asks for (`HostConfig.PortBindings`,
//! and with `PublishAllPorts` a free host port for every exposed port), its
//! exposed ports, and their API shapes: `NetworkSettings.Ports` of inspect
//! and the `Ports` array of the container list.

use berth_net::{PortBinding, PortSpecError, Proto};
use serde_json::{json, Map, Value};

use crate::model::{Config, HostConfig};

/// A container port: number and protocol.
pub type Port = (u16, Proto);

fn parse_key(key: &str) -> Result<Port, PortSpecError> {
    let b = PortBinding::from_api(key, "", "")?;
    Ok((b.container_port, b.proto))
}

/// The exposed ports (`Config.ExposedPorts` and the keys of
/// `PortBindings`), sorted by number, tcp first.
pub fn exposed(config: &Config, host: &HostConfig) -> Vec<Port> {
    let keys = config
        .exposed_ports
        .iter()
        .flat_map(|m| m.keys())
        .chain(host.port_bindings.iter().flat_map(|m| m.keys()));
    let mut v: Vec<Port> = keys.filter_map(|k| parse_key(k).ok()).collect();
    v.sort();
    v.dedup();
    v
}

/// The bindings to publish at start. IPv6 wildcard addresses (`::`) are
/// skipped: berth publishes on IPv4 only.
pub fn requested(config: &Config, host: &HostConfig) -> Result<Vec<PortBinding>, PortSpecError> {
    let mut out = Vec::new();
    for (key, list) in host.port_bindings.iter().flatten() {
        let entries: Vec<&Value> = list
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        if entries.is_empty() {
            // `"80/tcp": null` or `[]`: the key must still be valid.
            parse_key(key)?;
            continue;
        }
        for e in entries {
            let ip = e["HostIp"].as_str().unwrap_or("");
            if matches!(ip, "::" | "[::]") {
                continue;
            }
            out.push(PortBinding::from_api(
                key,
                ip,
                e["HostPort"].as_str().unwrap_or(""),
            )?);
        }
    }
    if host.publish_all_ports {
        for (port, proto) in exposed(config, host) {
            if !out
                .iter()
                .any(|b| b.container_port == port && b.proto == proto)
            {
                out.push(PortBinding {
                    proto,
                    container_port: port,
                    host_ip: None,
                    host_port: 0,
                    host_port_end: 0,
                });
            }
        }
    }
    Ok(out)
}

fn key(port: &Port) -> String {
    format!("{}/{}", port.0, port.1)
}

/// `NetworkSettings.Ports`: every exposed port, with its host bindings or
/// `null`; keys in Go's (string) order.
pub fn settings_json(exposed: &[Port], published: &[PortBinding]) -> Value {
    let mut keys: Vec<String> = exposed
        .iter()
        .map(key)
        .chain(published.iter().map(PortBinding::port_key))
        .collect();
    keys.sort();
    keys.dedup();
    let mut m = Map::new();
    for k in keys {
        let frontends: Vec<Value> = published
            .iter()
            .filter(|b| b.port_key() == k)
            .map(|b| json!({"HostIp": b.host_ip_string(), "HostPort": b.host_port_string()}))
            .collect();
        let v = if frontends.is_empty() {
            Value::Null
        } else {
            Value::Array(frontends)
        };
        m.insert(k, v);
    }
    Value::Object(m)
}

/// The container list's `Ports`: published bindings, then exposed ports
/// without one.
pub fn summary_json(exposed: &[Port], published: &[PortBinding]) -> Value {
    let mut out: Vec<Value> = published
        .iter()
        .map(|b| {
            json!({
                "IP": b.host_ip_string(),
                "PrivatePort": b.container_port,
                "PublicPort": b.host_port,
                "Type": b.proto.as_str(),
            })
        })
        .collect();
    for (port, proto) in exposed {
        if !published
            .iter()
            .any(|b| b.container_port == *port && b.proto == *proto)
        {
            out.push(json!({"PrivatePort": port, "Type": proto.as_str()}));
        }
    }
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(exposed: &[&str]) -> Config {
        Config {
            exposed_ports: Some(exposed.iter().map(|k| (k.to_string(), json!({}))).collect()),
            ..Default::default()
        }
    }

    fn host(bindings: Value, all: bool) -> HostConfig {
        HostConfig {
            port_bindings: serde_json::from_value(bindings).unwrap(),
            publish_all_ports: all,
            ..Default::default()
        }
    }

    #[test]
    fn requested_bindings() {
        let h = host(
            json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}], "53/udp": null}),
            true,
        );
        let c = cfg(&["80/tcp", "443/tcp", "53/udp"]);
        let r = requested(&c, &h).unwrap();
        assert_eq!(r.len(), 3, "{r:?}");
        assert_eq!(r[0].to_string(), "0.0.0.0:8080->80/tcp");
        assert!(r
            .iter()
            .any(|b| b.container_port == 443 && b.host_port == 0));
        assert!(r
            .iter()
            .any(|b| b.container_port == 53 && b.proto == Proto::Udp));
        assert_eq!(
            exposed(&c, &h),
            [(53, Proto::Udp), (80, Proto::Tcp), (443, Proto::Tcp)]
        );
        let bad = host(json!({"x/tcp": null}), false);
        assert!(requested(&c, &bad).is_err());
        let v6 = host(
            json!({"80/tcp": [{"HostIp": "::1", "HostPort": "1"}]}),
            false,
        );
        assert_eq!(
            requested(&c, &v6).unwrap_err().to_string(),
            "IPv6 host address ::1 is not supported"
        );
    }

    #[test]
    fn api_shapes() {
        let mut b = PortBinding::from_api("80/tcp", "", "8080").unwrap();
        b.host_port_end = 8080;
        let exposed = [(80, Proto::Tcp), (9000, Proto::Tcp), (53, Proto::Udp)];
        assert_eq!(
            serde_json::to_string(&settings_json(&exposed, std::slice::from_ref(&b))).unwrap(),
            r#"{"53/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}],"9000/tcp":null}"#
        );
        assert_eq!(
            summary_json(&exposed, &[b]),
            json!([
                {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
                {"PrivatePort": 9000, "Type": "tcp"},
                {"PrivatePort": 53, "Type": "udp"},
            ])
        );
    }
}
