//! The `/networks` operations: create, list (with filters), inspect,
//! remove, prune, and connecting and disconnecting containers, with
//! Docker's JSON shapes, messages and events.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use berth_net::{Ipv4Net, NetworkRequest};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::create::{attachment, EndpointConfig};
use super::endpoints::ContainerNet;
use super::mode::NetMode;
use super::record::NetworkRecord;
use super::{not_found, Net, State};
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::filters::{label_matches, Filters};
use berth_util::time::{now_nanos, parse_rfc3339, parse_timestamp};

/// Docker's option naming the bridge device.
const BRIDGE_NAME_OPTION: &str = "com.docker.network.bridge.name";
const LIST_FILTERS: &[&str] = &["driver", "id", "label", "name", "scope", "type", "dangling"];
const PRUNE_FILTERS: &[&str] = &["until", "label", "label!"];

/// The body of `POST /networks/create`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateRequest {
    pub name: String,
    pub driver: String,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: Option<bool>,
    #[serde(rename = "IPAM")]
    pub ipam: Option<IpamRequest>,
    pub options: Option<BTreeMap<String, String>>,
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamRequest {
    pub driver: String,
    pub config: Option<Vec<IpamPool>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamPool {
    pub subnet: Option<String>,
    #[serde(rename = "IPRange")]
    pub ip_range: Option<String>,
    pub gateway: Option<String>,
}

/// The body of `POST /networks/{id}/connect`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConnectRequest {
    pub container: String,
    pub endpoint_config: Option<EndpointConfig>,
}

fn plugin_not_found(name: &str) -> Error {
    Error::not_found(format!("plugin \"{name}\" not found"))
}

/// The single IPv4 pool of a create request: (subnet, gateway, range).
type Pool = (Option<Ipv4Net>, Option<Ipv4Addr>, Option<Ipv4Net>);

fn parse_pool(ipam: Option<&IpamRequest>) -> Result<Pool> {
    let Some(ipam) = ipam else {
        return Ok((None, None, None));
    };
    if !matches!(ipam.driver.as_str(), "" | "default") {
        return Err(plugin_not_found(&ipam.driver));
    }
    let pools = ipam.config.as_deref().unwrap_or(&[]);
    let cidr = |s: &str| {
        s.parse::<Ipv4Net>()
            .map_err(|_| Error::invalid(format!("invalid CIDR address: {s}")))
    };
    match pools {
        [] => Ok((None, None, None)),
        [p] => {
            let subnet = p
                .subnet
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(cidr)
                .transpose()?;
            let range = p
                .ip_range
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(cidr)
                .transpose()?;
            let gateway = p
                .gateway
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(|g| {
                    g.parse::<Ipv4Addr>()
                        .map_err(|_| Error::invalid(format!("invalid gateway address: {g}")))
                })
                .transpose()?;
            if subnet.is_none() && (range.is_some() || gateway.is_some()) {
                return Err(Error::invalid(
                    "every ip-range or gateway must have a corresponding subnet",
                ));
            }
            Ok((subnet, gateway, range))
        }
        _ => Err(Error::invalid("berth supports one IPv4 subnet per network")),
    }
}

/// Docker's network object (inspect and list).
fn network_json(st: &State, n: &Net, with_containers: bool) -> Value {
    let rec = &n.rec;
    let config: Vec<Value> = rec
        .bridge
        .iter()
        .map(|b| {
            let mut c = json!({"Subnet": b.subnet.to_string(), "Gateway": b.gateway.to_string()});
            if let Some(r) = b.ip_range {
                c["IPRange"] = json!(r.to_string());
            }
            c
        })
        .collect();
    let mut containers = Map::new();
    if with_containers {
        let mut ids: Vec<(&String, &ContainerNet)> =
            st.containers.iter().filter(|(_, c)| c.running()).collect();
        ids.sort_by(|a, b| a.0.cmp(b.0));
        for (id, cn) in ids {
            let Some(a) = cn.attachment(&rec.id) else {
                continue;
            };
            let ep = a.endpoint.as_ref();
            containers.insert(
                id.clone(),
                json!({
                    "Name": cn.name,
                    "EndpointID": a.endpoint_id,
                    "MacAddress": ep.map(|e| e.mac.clone()).unwrap_or_default(),
                    "IPv4Address": ep.map(|e| format!("{}/{}", e.ip, e.prefix_len)).unwrap_or_default(),
                    "IPv6Address": "",
                }),
            );
        }
    }
    json!({
        "Name": rec.name,
        "Id": rec.id,
        "Created": rec.created,
        "Scope": "local",
        "Driver": rec.driver,
        "EnableIPv4": true,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": {}, "Config": config},
        "Internal": rec.internal(),
        "Attachable": rec.attachable,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": rec.options,
        "Labels": rec.labels,
    })
}

impl Daemon {
    /// `POST /networks/create`: returns the new network's ID.
    pub async fn create_network(&self, req: CreateRequest) -> Result<String> {
        let name = req.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid("network name must not be empty"));
        }
        match req.driver.as_str() {
            "" | "bridge" => {}
            d @ ("host" | "null") => {
                return Err(Error::conflict(format!(
                    "only one instance of \"{d}\" network is allowed"
                )))
            }
            d => return Err(plugin_not_found(d)),
        }
        if req.enable_ipv6 == Some(true) {
            return Err(Error::invalid("berth does not support IPv6 networks"));
        }
        if req.ingress {
            return Err(Error::invalid("ingress networks need swarm mode"));
        }
        let (subnet, gateway, ip_range) = parse_pool(req.ipam.as_ref())?;
        // Claims the namespace and sets up the other bridges first.
        self.networks.ensure_kernel().await?;
        let options = req.options.clone().unwrap_or_default();
        let id = berth_util::id::new_id();
        let cfg = {
            let mut st = self.networks.shared.write();
            if st.by_name(&name).is_some() {
                return Err(Error::conflict(format!(
                    "network with name {name} already exists"
                )));
            }
            let bridge = options.get(BRIDGE_NAME_OPTION).cloned();
            if let Some(b) = &bridge {
                if st
                    .nets
                    .iter()
                    .any(|n| n.rec.bridge.as_ref().is_some_and(|c| &c.bridge == b))
                {
                    return Err(Error::conflict(format!(
                        "bridge name {b} is already used by another network"
                    )));
                }
            }
            let in_use = st.subnets_except("");
            let user_subnet = subnet.is_some();
            let subnet = match subnet {
                Some(s) => Some(s),
                None => self
                    .networks
                    .opts
                    .pick(&in_use, None)
                    .map_err(|e| Error::invalid(e.to_string()))?,
            };
            let (cfg, _) = NetworkRequest {
                name: name.clone(),
                id: id.clone(),
                bridge,
                subnet,
                gateway,
                ip_range,
                internal: req.internal,
            }
            .plan(&in_use)
            .map_err(|e| Error::invalid(e.to_string()))?;
            let rec = NetworkRecord {
                labels: req.labels.clone().unwrap_or_default(),
                options,
                attachable: req.attachable,
                user_subnet,
                bridge: Some(cfg.clone()),
                ..NetworkRecord::with_id(id.clone(), &name, "bridge")
            };
            st.nets.push(Net::new(rec));
            cfg
        };
        let forget = |e: Error| {
            self.networks.shared.write().nets.retain(|n| n.rec.id != id);
            e
        };
        let c = cfg.clone();
        tokio::task::spawn_blocking(move || berth_net::ensure_bridge(&c))
            .await
            .map_err(|e| forget(Error::internal(e.to_string())))?
            .map_err(|e| {
                forget(Error::internal(format!(
                    "create bridge {}: {e}",
                    cfg.bridge
                )))
            })?;
        let rec = self
            .networks
            .shared
            .read()
            .by_id(&id)
            .map(|n| n.rec.clone())
            .ok_or_else(|| not_found(&id))?;
        if let Err(e) = self.networks.records.save(&rec) {
            let _ = tokio::task::spawn_blocking(move || berth_net::remove_network(&cfg)).await;
            return Err(forget(e.into()));
        }
        self.emit_network(&id, "create", None);
        Ok(id)
    }

    /// `GET /networks/{id}`.
    pub fn inspect_network(&self, key: &str) -> Result<Value> {
        let st = self.networks.shared.read();
        let n = st.find(key)?;
        Ok(network_json(&st, n, true))
    }

    /// `GET /networks`, sorted by name.
    pub fn list_networks(&self, filters: &str) -> Result<Vec<Value>> {
        let f = Filters::parse(filters, LIST_FILTERS)?;
        for t in f.get("type") {
            if t != "custom" && t != "builtin" {
                return Err(Error::invalid(format!("invalid filter: 'type'='{t}'")));
            }
        }
        let dangling = match f.get("dangling") {
            [] => None,
            [v] if v == "true" || v == "1" => Some(true),
            [v] if v == "false" || v == "0" => Some(false),
            [v, ..] => return Err(Error::invalid(format!("invalid filter 'dangling={v}'"))),
        };
        let st = self.networks.shared.read();
        let mut out: Vec<(&str, Value)> = Vec::new();
        for n in &st.nets {
            let r = &n.rec;
            let used = !st.endpoints_on(&r.id).is_empty();
            let keep = f.any("driver", |v| v == r.driver)
                && f.any("id", |v| r.id.starts_with(v))
                && f.any("name", |v| r.name.contains(v))
                && f.any("scope", |v| v == "local")
                && f.any("type", |v| (v == "custom") == r.is_user())
                && f.get("label")
                    .iter()
                    .all(|l| label_matches(Some(&r.labels), l))
                && dangling.is_none_or(|d| d == (r.is_user() && !used));
            if keep {
                out.push((&r.name, network_json(&st, n, false)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(b.0));
        Ok(out.into_iter().map(|(_, v)| v).collect())
    }

    /// `DELETE /networks/{id}`.
    pub async fn remove_network(&self, key: &str) -> Result<()> {
        let (rec, cfg) = {
            let st = self.networks.shared.read();
            let n = st.find(key)?;
            if n.rec.is_predefined() {
                return Err(Error::conflict(format!(
                    "{} is a pre-defined network and cannot be removed",
                    n.rec.name
                )));
            }
            if !st.endpoints_on(&n.rec.id).is_empty() {
                return Err(Error::conflict(format!(
                    "error while removing network: network {} id {} has active endpoints",
                    n.rec.name, n.rec.id
                )));
            }
            (n.rec.clone(), n.rec.bridge.clone())
        };
        if let Some(cfg) = cfg {
            tokio::task::spawn_blocking(move || berth_net::remove_network(&cfg))
                .await
                .map_err(|e| Error::internal(e.to_string()))?
                .map_err(|e| Error::internal(format!("remove bridge: {e}")))?;
        }
        self.networks.records.delete(&rec.id)?;
        self.emit_network(&rec.id, "destroy", None);
        self.networks
            .shared
            .write()
            .nets
            .retain(|n| n.rec.id != rec.id);
        Ok(())
    }

    /// `POST /networks/prune`: removes user networks without running
    /// containers; returns their names.
    pub async fn prune_networks(&self, filters: &str) -> Result<Vec<String>> {
        let f = Filters::parse(filters, PRUNE_FILTERS)?;
        let until = match f.get("until") {
            [] => None,
            [one] => Some(parse_timestamp(one, now_nanos()).ok_or_else(|| {
                Error::invalid(format!(
                    "failed to parse value as time or duration: \"{one}\""
                ))
            })?),
            _ => return Err(Error::invalid("more than one until filter specified")),
        };
        let candidates: Vec<(String, String)> = {
            let st = self.networks.shared.read();
            st.nets
                .iter()
                .filter(|n| n.rec.is_user() && st.endpoints_on(&n.rec.id).is_empty())
                .filter(|n| {
                    let labels = Some(&n.rec.labels);
                    let created = parse_rfc3339(&n.rec.created).unwrap_or(0);
                    until.is_none_or(|u| created <= u)
                        && f.get("label").iter().all(|l| label_matches(labels, l))
                        && (!f.has("label!")
                            || !f.get("label!").iter().all(|l| label_matches(labels, l)))
                })
                .map(|n| (n.rec.id.clone(), n.rec.name.clone()))
                .collect()
        };
        let mut removed = Vec::new();
        for (id, name) in candidates {
            match self.remove_network(&id).await {
                Ok(()) => removed.push(name),
                Err(e) => eprintln!("berthd: prune network {name}: {e}"),
            }
        }
        Ok(removed)
    }

    /// `POST /networks/{id}/connect`.
    pub async fn connect_network(self: &Arc<Self>, key: &str, req: ConnectRequest) -> Result<()> {
        let entry = self.containers.get(&req.container)?;
        let _op = entry.op.lock().await;
        let rec = entry.lock().clone();
        let id = rec.id.clone();
        match NetMode::of(&rec.host_config.network_mode) {
            NetMode::Host | NetMode::Container(_) => {
                return Err(Error::invalid(
                    "container sharing network namespace with another container or host cannot be connected to any other network",
                ))
            }
            NetMode::None => {
                return Err(Error::invalid(
                    "container cannot be connected to multiple networks with one of the networks in private (none) mode",
                ))
            }
            _ => {}
        }
        let lock = self.networks.lock_for(&id);
        let _guard = lock.lock().await;
        let (att, bridge_cfg) = {
            let mut st = self.networks.shared.write();
            let n = st.find(key)?;
            if matches!(n.rec.driver.as_str(), "host" | "null") {
                return Err(Error::invalid(
                    "container cannot be disconnected from host network or connected to host network",
                ));
            }
            let att = attachment(n, &req.endpoint_config.clone().unwrap_or_default())?;
            let cfg = n.rec.bridge.clone();
            let fresh = super::create::default_state(&st, &rec.name, &rec.host_config);
            let cn = st.containers.entry(id.clone()).or_insert(fresh);
            if cn.attachment(&att.network_id).is_some() {
                return Err(Error::conflict(format!(
                    "endpoint with name {} already exists in network {}",
                    rec.name.trim_start_matches('/'),
                    att.network
                )));
            }
            (att, cfg)
        };
        let running =
            rec.state.running && self.networks.container(&id).is_some_and(|c| c.running());
        let mut att = att;
        if running {
            let cfg = bridge_cfg.ok_or_else(|| not_found(key))?;
            self.networks.ensure_kernel().await?;
            let (pid, ifindex) = {
                let st = self.networks.shared.read();
                let cn = st
                    .containers
                    .get(&id)
                    .ok_or_else(|| Error::no_such_container(&id))?;
                (cn.pid, cn.endpoints().count())
            };
            let ip = {
                let mut st = self.networks.shared.write();
                let ipam = st
                    .by_id_mut(&att.network_id)
                    .and_then(|n| n.ipam.as_mut())
                    .ok_or_else(|| not_found(key))?;
                ipam.allocate(&id, att.ipv4)
                    .map_err(|e| Error::invalid(e.to_string()))?
            };
            let (cid, ifname) = (id.clone(), format!("eth{ifindex}"));
            let netns = format!("/proc/{pid}/ns/net");
            let c = cfg.clone();
            let made = tokio::task::spawn_blocking(move || {
                berth_net::connect(&c, std::path::Path::new(&netns), &cid, ip, &ifname)
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
            match made {
                Ok(ep) => {
                    att.endpoint = Some(ep);
                    att.endpoint_id = berth_util::id::random_hex(32);
                }
                Err(e) => {
                    if let Some(ipam) = self
                        .networks
                        .shared
                        .write()
                        .by_id_mut(&att.network_id)
                        .and_then(|n| n.ipam.as_mut())
                    {
                        ipam.release(ip);
                    }
                    return Err(Error::internal(format!(
                        "failed to create endpoint {} on network {}: {e}",
                        rec.name.trim_start_matches('/'),
                        cfg.name
                    )));
                }
            }
        }
        let net_id = att.network_id.clone();
        let cn = {
            let mut st = self.networks.shared.write();
            let Some(cn) = st.containers.get_mut(&id) else {
                return Err(Error::no_such_container(&id));
            };
            cn.attachments.push(att);
            cn.clone()
        };
        self.networks.save_container(&id, &cn);
        if running {
            self.refresh_files(&rec, &cn);
            self.start_resolver(&id, &cn, &rec).await;
            self.emit_network(&net_id, "connect", Some(&id));
        }
        Ok(())
    }

    /// `POST /networks/{id}/disconnect`.
    pub async fn disconnect_network(&self, key: &str, container: &str, _force: bool) -> Result<()> {
        let entry = self.containers.get(container)?;
        let _op = entry.op.lock().await;
        let rec = entry.lock().clone();
        let id = rec.id.clone();
        let lock = self.networks.lock_for(&id);
        let _guard = lock.lock().await;
        let (net_id, removed, was_primary, ports, cn) = {
            let mut st = self.networks.shared.write();
            let n = st.find(key)?;
            let (net_id, net_name) = (n.rec.id.clone(), n.rec.name.clone());
            let fresh = super::create::default_state(&st, &rec.name, &rec.host_config);
            let cn = st.containers.entry(id.clone()).or_insert(fresh);
            let Some(pos) = cn.attachments.iter().position(|a| a.network_id == net_id) else {
                return Err(Error::invalid(format!(
                    "container {id} is not connected to network {net_name}"
                )));
            };
            let was_primary = cn
                .endpoints()
                .next()
                .is_some_and(|(a, _)| a.network_id == net_id);
            let removed = cn.attachments.remove(pos);
            let ports = if was_primary {
                std::mem::take(&mut cn.ports)
            } else {
                Vec::new()
            };
            (net_id, removed, was_primary, ports, cn.clone())
        };
        if let Some(ep) = removed.endpoint.clone() {
            let cid = id.clone();
            let undone = tokio::task::spawn_blocking(move || {
                if was_primary {
                    berth_net::unpublish(&cid, ep.ip, &ports)?;
                }
                berth_net::disconnect(&ep.host_veth)
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
            if let Err(e) = undone {
                eprintln!("berthd: disconnect {id}: {e}");
            }
            if let Some(ipam) = self
                .networks
                .shared
                .write()
                .by_id_mut(&net_id)
                .and_then(|n| n.ipam.as_mut())
            {
                ipam.release(ep.ip);
            }
        }
        self.networks.save_container(&id, &cn);
        if cn.running() {
            self.refresh_files(&rec, &cn);
            let still_user = {
                let st = self.networks.shared.read();
                cn.endpoints()
                    .any(|(a, _)| st.by_id(&a.network_id).is_some_and(|n| n.rec.is_user()))
            };
            if !still_user {
                self.networks.resolvers_map().remove(&id);
            }
            self.emit_network(&net_id, "disconnect", Some(&id));
        }
        Ok(())
    }
}
