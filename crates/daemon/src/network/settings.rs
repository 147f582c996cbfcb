//! A container's networking in the Engine API's shapes: inspect's
//! `NetworkSettings` (with the legacy top-level fields of the default
//! bridge) and, in the container list, `Ports`, `NetworkSettings.Networks`
//! and the link names (`/web/db`) of `Names`.

use serde_json::{json, Map, Value};

use super::create::default_state;
use super::endpoints::{Attachment, ContainerNet};
use super::record::BRIDGE;
use super::{links, ports, State};
use crate::daemon::Daemon;
use crate::model::Container;

fn null_if_empty(v: &[String]) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        json!(v)
    }
}

/// One entry of `NetworkSettings.Networks` (Docker's EndpointSettings).
fn endpoint_json(st: &State, id: &str, cn: &ContainerNet, a: &Attachment) -> Value {
    let ep = a.endpoint.as_ref();
    let user = st.by_id(&a.network_id).is_some_and(|n| n.rec.is_user());
    let dns_names = if user && cn.running() {
        let mut names = vec![cn.name.clone()];
        names.extend(a.aliases.iter().cloned());
        names.push(id.get(..12).unwrap_or(id).to_string());
        json!(names)
    } else {
        Value::Null
    };
    json!({
        "IPAMConfig": a.ipv4.map(|ip| json!({"IPv4Address": ip.to_string()})),
        "Links": null_if_empty(&a.links),
        "Aliases": null_if_empty(&a.aliases),
        "MacAddress": ep.map(|e| e.mac.clone()).unwrap_or_default(),
        "DriverOpts": null,
        "GwPriority": 0,
        "NetworkID": a.network_id,
        "EndpointID": a.endpoint_id,
        "Gateway": ep.and_then(|e| e.gateway).map(|g| g.to_string()).unwrap_or_default(),
        "IPAddress": ep.map(|e| e.ip.to_string()).unwrap_or_default(),
        "IPPrefixLen": ep.map(|e| e.prefix_len).unwrap_or(0),
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": dns_names,
    })
}

/// `Networks` keyed by network name.
fn networks_json(st: &State, id: &str, cn: &ContainerNet) -> Value {
    let mut m = Map::new();
    for a in &cn.attachments {
        let name = st
            .by_id(&a.network_id)
            .map(|n| n.rec.name.clone())
            .unwrap_or_else(|| a.network.clone());
        m.insert(name, endpoint_json(st, id, cn, a));
    }
    Value::Object(m)
}

impl Daemon {
    /// The container's state, or what it would be from `NetworkMode` alone.
    fn net_of(&self, st: &State, c: &Container) -> ContainerNet {
        st.containers
            .get(&c.id)
            .cloned()
            .unwrap_or_else(|| default_state(st, &c.name, &c.host_config))
    }

    /// inspect's `NetworkSettings`.
    pub(crate) fn network_settings(&self, c: &Container) -> Value {
        let st = self.networks.shared.read();
        let cn = self.net_of(&st, c);
        let running = cn.running() && c.state.running;
        let bridge = cn
            .attachments
            .iter()
            .find(|a| a.network == BRIDGE)
            .and_then(|a| a.endpoint.as_ref().map(|e| (a, e)));
        let published = if running && cn.endpoints().next().is_some() {
            ports::settings_json(&ports::exposed(&c.config, &c.host_config), &cn.ports)
        } else {
            json!({})
        };
        json!({
            "Bridge": "",
            "SandboxID": if running { cn.sandbox_id.clone() } else { String::new() },
            "SandboxKey": if running { format!("/proc/{}/ns/net", cn.pid) } else { String::new() },
            "Ports": published,
            "HairpinMode": false,
            "LinkLocalIPv6Address": "",
            "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": null,
            "SecondaryIPv6Addresses": null,
            "EndpointID": bridge.map(|(a, _)| a.endpoint_id.clone()).unwrap_or_default(),
            "Gateway": bridge.and_then(|(_, e)| e.gateway).map(|g| g.to_string()).unwrap_or_default(),
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "IPAddress": bridge.map(|(_, e)| e.ip.to_string()).unwrap_or_default(),
            "IPPrefixLen": bridge.map(|(_, e)| e.prefix_len).unwrap_or(0),
            "IPv6Gateway": "",
            "MacAddress": bridge.map(|(_, e)| e.mac.clone()).unwrap_or_default(),
            "Networks": networks_json(&st, &c.id, &cn),
        })
    }

    /// Fills the networking fields of a container-list entry: `Ports`,
    /// `NetworkSettings.Networks`, and the link names in `Names` (`all` is
    /// every container, for the links to `c`).
    pub(crate) fn network_summary(&self, v: &mut Value, c: &Container, all: &[Container]) {
        let st = self.networks.shared.read();
        let cn = self.net_of(&st, c);
        if cn.running() && c.state.running && cn.endpoints().next().is_some() {
            v["Ports"] = ports::summary_json(&ports::exposed(&c.config, &c.host_config), &cn.ports);
        }
        v["NetworkSettings"] = json!({"Networks": networks_json(&st, &c.id, &cn)});
        let extra = links::names_of(
            c.name.trim_start_matches('/'),
            all.iter().map(|o| (o.name.as_str(), &o.host_config)),
        );
        if !extra.is_empty() {
            if let Some(names) = v["Names"].as_array_mut() {
                names.extend(extra.into_iter().map(Value::from));
            }
        }
    }

    /// `ps --filter publish=` / `expose=`: whether a public (published) or
    /// private (exposed) port of the running container is among the
    /// values (`80`, `80/udp`, `8000-8080/tcp`). True without such filters.
    pub(crate) fn ports_filter_match(
        &self,
        c: &Container,
        publish: &[String],
        expose: &[String],
    ) -> bool {
        if publish.is_empty() && expose.is_empty() {
            return true;
        }
        let summary = {
            let st = self.networks.shared.read();
            let cn = self.net_of(&st, c);
            if !(cn.running() && c.state.running && cn.endpoints().next().is_some()) {
                return false;
            }
            ports::summary_json(&ports::exposed(&c.config, &c.host_config), &cn.ports)
        };
        let wanted = |values: &[String], port: u64, proto: &str| {
            values.iter().any(|v| port_spec_matches(v, port, proto))
        };
        summary.as_array().into_iter().flatten().any(|p| {
            let proto = p["Type"].as_str().unwrap_or("tcp");
            let public = p["PublicPort"].as_u64().unwrap_or(0);
            let private = p["PrivatePort"].as_u64().unwrap_or(0);
            (public != 0 && wanted(publish, public, proto)) || wanted(expose, private, proto)
        })
    }

    /// Whether container `c` is attached to network `key` (name, ID or ID
    /// prefix), for `ps --filter network=`.
    pub(crate) fn container_on_network(&self, c: &Container, key: &str) -> bool {
        let st = self.networks.shared.read();
        let cn = self.net_of(&st, c);
        cn.attachments.iter().any(|a| {
            a.network == key
                || a.network_id.starts_with(key)
                || st.by_id(&a.network_id).is_some_and(|n| n.rec.name == key)
        })
    }
}

/// `80`, `80/udp` or `8000-8080/tcp` against a port and protocol.
fn port_spec_matches(spec: &str, port: u64, proto: &str) -> bool {
    let (range, want_proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let (lo, hi) = range.split_once('-').unwrap_or((range, range));
    match (lo.parse::<u64>(), hi.parse::<u64>()) {
        (Ok(lo), Ok(hi)) => (lo..=hi).contains(&port) && want_proto.eq_ignore_ascii_case(proto),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        assert!(port_spec_matches("80", 80, "tcp"));
        assert!(!port_spec_matches("80", 80, "udp"));
        assert!(port_spec_matches("53/udp", 53, "udp"));
        assert!(port_spec_matches("8000-8080/tcp", 8080, "tcp"));
        assert!(!port_spec_matches("8000-8080", 8081, "tcp"));
        assert!(!port_spec_matches("x", 1, "tcp"));
    }
}
