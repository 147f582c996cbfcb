//! What a create request asks of networking (`HostConfig.NetworkMode`,
//! `NetworkingConfig`, links, ports), checked with Docker's messages and
//! turned into the container's attachments. Links on the default bridge
//! are stored in Docker's form (`/target:/parent/alias`).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Deserialize;
use serde_json::Value;

use super::endpoints::{Attachment, ContainerNet};
use super::mode::NetMode;
use super::{links, ports, Net, State};
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::model::{Config, HostConfig};

/// `NetworkingConfig` of `POST /containers/create`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkingConfig {
    #[serde(default)]
    pub endpoints_config: Option<BTreeMap<String, Option<EndpointConfig>>>,
}

/// One entry of `EndpointsConfig` (also the body of `network connect`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfig {
    #[serde(rename = "IPAMConfig", default)]
    pub ipam_config: Option<IpamConfig>,
    #[serde(default)]
    pub aliases: Option<Vec<String>>,
    #[serde(default)]
    pub links: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IpamConfig {
    #[serde(rename = "IPv4Address", default)]
    pub ipv4_address: Option<String>,
}

impl NetworkingConfig {
    /// Parses the request's `NetworkingConfig` (absent or `null` is empty).
    pub fn from_value(v: Option<Value>) -> Result<Self> {
        match v {
            None | Some(Value::Null) => Ok(Self::default()),
            Some(v) => serde_json::from_value(v)
                .map_err(|e| Error::invalid(format!("invalid NetworkingConfig: {e}"))),
        }
    }

    fn endpoints(&self) -> impl Iterator<Item = (&String, EndpointConfig)> {
        self.endpoints_config
            .iter()
            .flatten()
            .map(|(k, v)| (k, v.clone().unwrap_or_default()))
    }
}

fn conflict(what: &str) -> Error {
    Error::invalid(format!("conflicting options: {what}"))
}

/// Docker's checks of options that make no sense with
/// `--network container:…` or `host`.
fn check_mode(mode: NetMode, config: &Config, host: &HostConfig) -> Result<()> {
    let has_links = !links::raw(host).is_empty();
    match mode {
        NetMode::Container(_) => {
            if !config.hostname.is_empty() {
                return Err(conflict("hostname and the network mode"));
            }
            if host.port_bindings.as_ref().is_some_and(|p| !p.is_empty()) || host.publish_all_ports
            {
                return Err(conflict(
                    "port publishing and the container type network mode",
                ));
            }
            if host.dns.as_ref().is_some_and(|d| !d.is_empty())
                || host.dns_search.as_ref().is_some_and(|d| !d.is_empty())
                || host.dns_options.as_ref().is_some_and(|d| !d.is_empty())
            {
                return Err(conflict("dns and the network mode"));
            }
            if host.extra_hosts.as_ref().is_some_and(|h| !h.is_empty()) {
                return Err(conflict("custom host-to-IP mapping and the network mode"));
            }
            if config.extra.get("MacAddress").and_then(Value::as_str).is_some_and(|m| !m.is_empty()) {
                return Err(conflict("mac-address and the network mode"));
            }
            if has_links {
                return Err(conflict(
                    "container type network can't be used with links. This would result in undefined behavior",
                ));
            }
        }
        NetMode::Host if has_links => {
            return Err(conflict(
                "host type networking can't be used with links. This would result in undefined behavior",
            ))
        }
        _ => {}
    }
    Ok(())
}

/// An attachment to `net` with the options of `ep`, checked as Docker does.
pub(super) fn attachment(net: &Net, ep: &EndpointConfig) -> Result<Attachment> {
    let rec = &net.rec;
    let ipv4 = ep
        .ipam_config
        .as_ref()
        .and_then(|c| c.ipv4_address.as_deref())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Ipv4Addr>()
                .map_err(|_| Error::invalid(format!("invalid IPv4 address: {s}")))
        })
        .transpose()?;
    let aliases = ep.aliases.clone().unwrap_or_default();
    if !rec.is_user() {
        if ipv4.is_some() {
            return Err(Error::invalid(
                "user specified IP address is supported on user defined networks only",
            ));
        }
        if !aliases.is_empty() {
            return Err(Error::invalid(
                "network-scoped alias is supported only for containers in user defined networks",
            ));
        }
    }
    if let Some(ip) = ipv4 {
        if !rec.user_subnet {
            return Err(Error::invalid(
                "user specified IP address is supported only when connecting to networks with user configured subnets",
            ));
        }
        if !rec.bridge.as_ref().is_some_and(|b| b.subnet.is_host(ip)) {
            return Err(Error::invalid(format!(
                "Invalid address {ip}: It does not belong to any of this network's subnets"
            )));
        }
    }
    let mut uniq: Vec<String> = Vec::new();
    for a in aliases {
        if !uniq.contains(&a) {
            uniq.push(a);
        }
    }
    let mut link_values = Vec::new();
    for l in ep.links.iter().flatten() {
        let l = links::parse(l).map_err(|e| Error::invalid(e.to_string()))?;
        link_values.push(format!("{}:{}", l.target, l.alias));
    }
    Ok(Attachment {
        network_id: rec.id.clone(),
        network: rec.name.clone(),
        aliases: uniq,
        ipv4,
        links: link_values,
        ..Default::default()
    })
}

/// `EndpointsConfig` keys name networks; the docker CLI says `default`
/// for the default bridge.
fn network_key(key: &str) -> &str {
    if key == "default" {
        super::record::BRIDGE
    } else {
        key
    }
}

/// An attachment to a network that does not exist (yet): Docker accepts
/// it at create and fails the start with "network … not found".
fn missing(key: &str, ep: &EndpointConfig) -> Attachment {
    Attachment {
        network: key.to_string(),
        aliases: ep.aliases.clone().unwrap_or_default(),
        ..Default::default()
    }
}

/// The networks a container joins, primary first.
fn plan_attachments(
    st: &State,
    mode: NetMode,
    networking: &NetworkingConfig,
) -> Result<Vec<Attachment>> {
    let Some(primary_key) = mode.network() else {
        if networking.endpoints().next().is_some() {
            return Err(conflict(
                "container sharing network namespace with another container or host cannot be connected to any other network",
            ));
        }
        return Ok(Vec::new());
    };
    let primary = st.find(primary_key).ok();
    let mut eps: Vec<(&String, EndpointConfig)> = networking.endpoints().collect();
    let own = eps
        .iter()
        .position(|(k, _)| {
            let k = network_key(k);
            k == primary_key || primary.is_some_and(|p| k == p.rec.name || k == p.rec.id)
        })
        .map(|i| eps.remove(i).1)
        .unwrap_or_default();
    let mut out = vec![match primary {
        Some(p) => attachment(p, &own)?,
        None => missing(primary_key, &own),
    }];
    let shared_ns = primary.is_some_and(|p| matches!(p.rec.driver.as_str(), "host" | "null"));
    for (key, ep) in eps {
        let key = network_key(key);
        let Ok(net) = st.find(key) else {
            out.push(missing(key, &ep));
            continue;
        };
        if shared_ns || matches!(net.rec.driver.as_str(), "host" | "null") {
            return Err(conflict(
                "cannot attach both user-defined and non-user-defined network-modes",
            ));
        }
        if out.iter().any(|a| a.network_id == net.rec.id) {
            continue;
        }
        out.push(attachment(net, &ep)?);
    }
    Ok(out)
}

/// The attachments of a container that has no stored state (created before
/// networking existed, or state lost): its `NetworkMode` alone.
pub(super) fn default_state(st: &State, name: &str, host: &HostConfig) -> ContainerNet {
    let attachments = plan_attachments(st, NetMode::of(&host.network_mode), &Default::default())
        .unwrap_or_default();
    ContainerNet {
        name: name.trim_start_matches('/').to_string(),
        attachments,
        ..Default::default()
    }
}

impl Daemon {
    /// Checks the networking part of a create request and returns the
    /// container's networking state (registered with
    /// `network_created` once the container exists). Links of the default
    /// bridge are rewritten in `host` to Docker's stored form.
    pub(crate) fn network_plan(
        &self,
        name: &str,
        config: &Config,
        host: &mut HostConfig,
        networking: &NetworkingConfig,
    ) -> Result<ContainerNet> {
        let mode = NetMode::of(&host.network_mode);
        check_mode(mode, config, host)?;
        if let NetMode::Container(other) = mode {
            self.containers.get(other)?;
        }
        ports::requested(config, host).map_err(|e| Error::invalid(e.to_string()))?;
        let st = self.networks.shared.read();
        let mut attachments = plan_attachments(&st, mode, networking)?;
        let mut stored_links = Vec::new();
        for raw in links::raw(host) {
            let l = links::parse(&raw).map_err(|e| Error::invalid(e.to_string()))?;
            let target = self
                .containers
                .get(&l.target)
                .map_err(|_| Error::invalid(format!("could not get container for {}", l.target)))?;
            let target_name = target.lock().name.trim_start_matches('/').to_string();
            let l = links::Link {
                target: target_name,
                alias: l.alias,
            };
            match attachments.first_mut() {
                Some(a) if st.by_id(&a.network_id).is_some_and(|n| n.rec.is_user()) => {
                    let v = format!("{}:{}", l.target, l.alias);
                    if !a.links.contains(&v) {
                        a.links.push(v);
                    }
                }
                _ => stored_links.push(l.stored(name)),
            }
        }
        if !stored_links.is_empty() {
            host.extra.insert("Links".into(), Value::from(stored_links));
        }
        Ok(ContainerNet {
            name: name.trim_start_matches('/').to_string(),
            attachments,
            ..Default::default()
        })
    }

    /// Registers the networking state of a container just created.
    pub(crate) fn network_created(&self, id: &str, cn: ContainerNet) {
        self.networks.save_container(id, &cn);
        self.networks
            .shared
            .write()
            .containers
            .insert(id.to_string(), cn);
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::NetworkRecord;
    use super::*;
    use berth_net::NetworkConfig;
    use serde_json::json;

    fn state() -> State {
        let mut st = State::default();
        for (name, driver) in [("bridge", "bridge"), ("host", "host"), ("none", "null")] {
            let mut r = NetworkRecord::new(name, driver);
            r.id = format!("{name}-id");
            st.nets.push(Net::new(r));
        }
        for (name, user_subnet) in [("mynet", true), ("auto", false)] {
            let mut r = NetworkRecord::new(name, "bridge");
            r.id = format!("{name}-id");
            r.user_subnet = user_subnet;
            r.bridge = Some(NetworkConfig {
                name: name.into(),
                id: r.id.clone(),
                bridge: "br-x".into(),
                subnet: "10.7.0.0/24".parse().unwrap(),
                gateway: "10.7.0.1".parse().unwrap(),
                ip_range: None,
                internal: false,
            });
            st.nets.push(Net::new(r));
        }
        st
    }

    fn nc(v: Value) -> NetworkingConfig {
        NetworkingConfig::from_value(Some(v)).unwrap()
    }

    #[test]
    fn attachments_from_mode_and_endpoints() {
        let st = state();
        let a = plan_attachments(&st, NetMode::of("default"), &nc(json!({}))).unwrap();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].network, "bridge");
        let a = plan_attachments(
            &st,
            NetMode::of("mynet"),
            &nc(json!({"EndpointsConfig": {
                "mynet": {"Aliases": ["web", "web"], "IPAMConfig": {"IPv4Address": "10.7.0.9"}},
                "auto": null
            }})),
        )
        .unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].aliases, ["web"]);
        assert_eq!(a[0].ipv4, Some(Ipv4Addr::new(10, 7, 0, 9)));
        assert_eq!(a[1].network, "auto");
        assert!(
            plan_attachments(&st, NetMode::of("container:x"), &nc(json!({})))
                .unwrap()
                .is_empty()
        );
        let lazy = plan_attachments(&st, NetMode::of("nonet"), &nc(json!({}))).unwrap();
        assert_eq!(
            (lazy[0].network.as_str(), lazy[0].network_id.as_str()),
            ("nonet", "")
        );
        let keyed = plan_attachments(
            &st,
            NetMode::of("default"),
            &nc(json!({"EndpointsConfig": {"default": {"Aliases": ["a"]}}})),
        );
        assert!(keyed.is_err());
    }

    #[test]
    fn docker_errors() {
        let st = state();
        let err = |mode: &str, v: Value| {
            plan_attachments(&st, NetMode::of(mode), &nc(v))
                .unwrap_err()
                .message
        };
        assert_eq!(
            err(
                "bridge",
                json!({"EndpointsConfig": {"bridge": {"IPAMConfig": {"IPv4Address": "172.17.0.9"}}}})
            ),
            "user specified IP address is supported on user defined networks only"
        );
        assert_eq!(
            err(
                "bridge",
                json!({"EndpointsConfig": {"bridge": {"Aliases": ["a"]}}})
            ),
            "network-scoped alias is supported only for containers in user defined networks"
        );
        assert_eq!(
            err("auto", json!({"EndpointsConfig": {"auto": {"IPAMConfig": {"IPv4Address": "10.7.0.9"}}}})),
            "user specified IP address is supported only when connecting to networks with user configured subnets"
        );
        assert_eq!(
            err(
                "mynet",
                json!({"EndpointsConfig": {"mynet": {"IPAMConfig": {"IPv4Address": "10.8.0.9"}}}})
            ),
            "Invalid address 10.8.0.9: It does not belong to any of this network's subnets"
        );
        assert!(err("host", json!({"EndpointsConfig": {"mynet": {}}}))
            .starts_with("conflicting options"));
        let c = Config {
            hostname: "h".into(),
            ..Default::default()
        };
        assert_eq!(
            check_mode(NetMode::of("container:x"), &c, &HostConfig::default())
                .unwrap_err()
                .message,
            "conflicting options: hostname and the network mode"
        );
        let mut h = HostConfig {
            publish_all_ports: true,
            ..Default::default()
        };
        assert!(check_mode(NetMode::of("container:x"), &Config::default(), &h).is_err());
        h.publish_all_ports = false;
        h.extra.insert("Links".into(), json!(["a:b"]));
        assert!(check_mode(NetMode::of("host"), &Config::default(), &h).is_err());
        assert!(check_mode(NetMode::of("bridge"), &Config::default(), &h).is_ok());
    }
}
