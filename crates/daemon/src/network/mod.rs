//! Docker networking on top of `berth-net`: network records (`bridge`,
//! `host`, `none` and user networks), each container's attachments and,
//! while it runs, its endpoints, published ports and embedded DNS server.
//!
//! - `record`: stored networks; `options`: the daemon's network flags.
//! - `endpoints`: a container's networking state (`network.json`).
//! - `create`: what `POST /containers/create` asks for, checked.
//! - `start`: the container lifecycle hooks (before spawn, after the shim's
//!   ready line, at exit, at remove) and re-publishing after a restart.
//! - `files`, `links`, `ports`: /etc/hosts and resolv.conf, `--link`, port
//!   bindings; `settings`: `NetworkSettings` of inspect and ps.
//! - `ops`: network create/inspect/list/remove/prune/connect/disconnect.
//! - `dns`, `resolver`: the embedded DNS server at 127.0.0.11.
//!
//! Kernel work runs in `spawn_blocking` (berth-net acts in the calling
//! thread's namespace, the daemon's). Address allocations live in memory
//! and are rebuilt from the running containers when the daemon starts.

mod create;
mod dns;
mod endpoints;
mod files;
mod links;
mod mode;
mod ops;
mod options;
mod ports;
mod record;
mod resolver;
mod settings;
mod start;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use berth_net::{Ipam, Ipv4Net, NetworkConfig, NetworkRequest};

use crate::error::{Error, Result};
pub use create::NetworkingConfig;
use endpoints::ContainerNet;
pub use mode::embedded_dns;
pub use options::{NetworkOptions, OptionsError};
use record::{NetworkRecord, RecordDir, BRIDGE, HOST, NONE};

pub use ops::{ConnectRequest, CreateRequest};
pub(crate) use start::{start_error, start_error_text};

/// The embedded DNS server's address in every container on a user network.
pub const EMBEDDED_DNS: &str = "127.0.0.11";

/// The daemon's networks and the networking state of its containers.
pub struct Networks {
    pub(crate) shared: Arc<Shared>,
    records: RecordDir,
    containers_dir: PathBuf,
    opts: NetworkOptions,
    kernel: tokio::sync::Mutex<Kernel>,
    /// Serialises attach, detach and restore per container.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Embedded DNS servers of running containers.
    resolvers: Mutex<HashMap<String, resolver::Handle>>,
    /// Held shared while ports are withdrawn in the background; publishing
    /// takes it exclusively (for a moment) so it never races a withdrawal.
    ports_gate: Arc<tokio::sync::RwLock<()>>,
}

/// What still has to be done in the kernel.
#[derive(Default)]
struct Kernel {
    /// This daemon's claim on the network namespace (see `claim_namespace`).
    claim: Option<std::os::unix::net::UnixListener>,
    /// Every stored bridge network has been ensured since the daemon started.
    ensured: bool,
    /// Default-bridge configurations replaced by new flags.
    stale: Vec<NetworkConfig>,
}

/// The state the embedded DNS servers read too.
#[derive(Default)]
pub(crate) struct Shared {
    state: RwLock<State>,
}

impl Shared {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
pub(crate) struct State {
    nets: Vec<Net>,
    containers: HashMap<String, ContainerNet>,
}

/// A network and, for bridge networks, its address pool.
#[derive(Debug)]
pub(crate) struct Net {
    rec: NetworkRecord,
    ipam: Option<Ipam>,
}

impl Net {
    fn new(rec: NetworkRecord) -> Net {
        let ipam = rec
            .bridge
            .as_ref()
            .and_then(|c| Ipam::new(c.subnet, Some(c.gateway), c.ip_range).ok());
        Net { rec, ipam }
    }
}

/// Docker's text for an unknown network.
pub(crate) fn not_found(key: &str) -> Error {
    Error::not_found(format!("network {key} not found"))
}

impl State {
    /// By full ID, then exact name, then unique ID prefix (Docker's order).
    fn find_index(&self, key: &str) -> Result<usize> {
        if key.is_empty() {
            return Err(not_found(key));
        }
        if let Some(i) = self.nets.iter().position(|n| n.rec.id == key) {
            return Ok(i);
        }
        if let Some(i) = self.nets.iter().position(|n| n.rec.name == key) {
            return Ok(i);
        }
        let mut found = self
            .nets
            .iter()
            .enumerate()
            .filter(|(_, n)| n.rec.id.starts_with(key));
        match (found.next(), found.next()) {
            (Some((i, _)), None) => Ok(i),
            (Some(_), Some(_)) => Err(Error::invalid(format!(
                "network {key} is ambiguous ({} matches found based on ID prefix)",
                self.nets
                    .iter()
                    .filter(|n| n.rec.id.starts_with(key))
                    .count()
            ))),
            _ => Err(not_found(key)),
        }
    }

    fn find(&self, key: &str) -> Result<&Net> {
        self.find_index(key).map(|i| &self.nets[i])
    }

    fn by_id(&self, id: &str) -> Option<&Net> {
        self.nets.iter().find(|n| n.rec.id == id)
    }

    fn by_id_mut(&mut self, id: &str) -> Option<&mut Net> {
        self.nets.iter_mut().find(|n| n.rec.id == id)
    }

    fn by_name(&self, name: &str) -> Option<&Net> {
        self.nets.iter().find(|n| n.rec.name == name)
    }

    /// Subnets of the bridge networks other than `except`.
    fn subnets_except(&self, except: &str) -> Vec<Ipv4Net> {
        self.nets
            .iter()
            .filter(|n| n.rec.id != except)
            .filter_map(|n| n.rec.bridge.as_ref().map(|b| b.subnet))
            .collect()
    }

    /// IDs of the running containers with an endpoint on network `id`.
    fn endpoints_on(&self, id: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .containers
            .iter()
            .filter(|(_, c)| c.running() && c.attachment(id).is_some())
            .map(|(cid, _)| cid.clone())
            .collect();
        v.sort();
        v
    }
}

impl Networks {
    /// Loads the network records (creating `bridge`, `host` and `none` the
    /// first time) and the containers' networking state. No kernel work:
    /// that happens when a container first needs it (`ensure_kernel`).
    /// `seed` (the engine ID) makes the IDs of the predefined networks.
    pub fn open(data_root: &Path, seed: &str, opts: NetworkOptions) -> Result<Networks> {
        let records = RecordDir::open(data_root)?;
        let mut recs = records.load_all()?;
        for (name, driver) in [(HOST, "host"), (NONE, "null")] {
            if !recs.iter().any(|r| r.name == name) {
                let r = NetworkRecord::predefined(seed, name, driver);
                records.save(&r)?;
                recs.push(r);
            }
        }
        let mut stale = Vec::new();
        let planned = plan_default_bridge(&opts, seed, &mut recs, &mut stale)?;
        if let Some(r) = planned {
            records.save(&r)?;
        }
        recs.sort_by(|a, b| a.created.cmp(&b.created).then(a.name.cmp(&b.name)));
        let containers_dir = data_root.join("containers");
        let mut state = State {
            nets: recs.into_iter().map(Net::new).collect(),
            containers: HashMap::new(),
        };
        if let Ok(rd) = std::fs::read_dir(&containers_dir) {
            for dirent in rd.flatten() {
                let Some(cn) = endpoints::load(&dirent.path()) else {
                    continue;
                };
                let id = dirent.file_name().to_string_lossy().into_owned();
                if cn.running() {
                    reserve_addresses(&mut state, &id, &cn);
                }
                state.containers.insert(id, cn);
            }
        }
        Ok(Networks {
            shared: Arc::new(Shared {
                state: RwLock::new(state),
            }),
            records,
            containers_dir,
            opts,
            kernel: tokio::sync::Mutex::new(Kernel {
                claim: None,
                ensured: false,
                stale,
            }),
            locks: Mutex::default(),
            resolvers: Mutex::default(),
            ports_gate: Arc::default(),
        })
    }

    fn container_dir(&self, id: &str) -> PathBuf {
        self.containers_dir.join(id)
    }

    /// Writes a container's state to its bundle (a missing bundle, as
    /// during remove, is not an error).
    fn save_container(&self, id: &str, cn: &ContainerNet) {
        let dir = self.container_dir(id);
        if dir.is_dir() {
            if let Err(e) = endpoints::save(&dir, cn) {
                eprintln!("berthd: save network state of {id}: {e}");
            }
        }
    }

    /// A snapshot of a container's networking state.
    fn container(&self, id: &str) -> Option<ContainerNet> {
        self.shared.read().containers.get(id).cloned()
    }

    /// The per-container lock of attach, detach and restore.
    fn lock_for(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks_map().entry(id.to_string()).or_default().clone()
    }

    fn locks_map(&self) -> MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
        self.locks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn resolvers_map(&self) -> MutexGuard<'_, HashMap<String, resolver::Handle>> {
        self.resolvers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates (or completes) the bridges of every stored network, once per
    /// daemon run; a failure is retried by the next caller.
    async fn ensure_kernel(&self) -> Result<()> {
        let mut k = self.kernel.lock().await;
        if k.ensured {
            return Ok(());
        }
        if k.claim.is_none() {
            k.claim = Some(claim_namespace()?);
        }
        let stale = std::mem::take(&mut k.stale);
        let configs: Vec<NetworkConfig> = self
            .shared
            .read()
            .nets
            .iter()
            .filter_map(|n| n.rec.bridge.clone())
            .collect();
        let done = tokio::task::spawn_blocking(move || {
            for s in &stale {
                if let Err(e) = berth_net::remove_network(s) {
                    eprintln!("berthd: remove old bridge {}: {e}", s.bridge);
                }
            }
            for c in &configs {
                berth_net::ensure_bridge(c).map_err(|e| {
                    format!("set up bridge {} of network {}: {e}", c.bridge, c.name)
                })?;
            }
            Ok::<(), String>(())
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
        done.map_err(Error::internal)?;
        k.ensured = true;
        Ok(())
    }
}

/// The abstract socket that marks the network namespace as managed by a
/// berthd (abstract UNIX names are per network namespace, and the kernel
/// frees them when the daemon dies). Two daemons sharing `berth0` and the
/// `ip berth` table would hand out the same addresses.
const CLAIM: &[u8] = b"berth-net";

fn claim_namespace() -> Result<std::os::unix::net::UnixListener> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(CLAIM)?;
    std::os::unix::net::UnixListener::bind_addr(&addr).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            Error::conflict(
                "another berthd manages networking in this network namespace: run this daemon in a network namespace of its own, or use --network none or host",
            )
        } else {
            Error::internal(format!("claim the network namespace: {e}"))
        }
    })
}

/// Allocates, in the rebuilt pools, the addresses a running container held.
fn reserve_addresses(state: &mut State, id: &str, cn: &ContainerNet) {
    for (a, ep) in cn.endpoints() {
        if let Some(ipam) = state.by_id_mut(&a.network_id).and_then(|n| n.ipam.as_mut()) {
            if let Err(e) = ipam.allocate(id, Some(ep.ip)) {
                eprintln!("berthd: address {} of {id}: {e}", ep.ip);
            }
        }
    }
}

/// Makes sure `recs` has the default `bridge` network, planned from the
/// flags; returns the record when it is new or changed (to be saved). A
/// configuration that new flags replace is pushed on `stale`.
fn plan_default_bridge(
    opts: &NetworkOptions,
    seed: &str,
    recs: &mut Vec<NetworkRecord>,
    stale: &mut Vec<NetworkConfig>,
) -> Result<Option<NetworkRecord>> {
    let others: Vec<Ipv4Net> = recs
        .iter()
        .filter(|r| r.name != BRIDGE)
        .filter_map(|r| r.bridge.as_ref().map(|b| b.subnet))
        .collect();
    let pos = recs.iter().position(|r| r.name == BRIDGE);
    let existing = pos.and_then(|i| recs[i].bridge.clone());
    let wanted = flags_config(opts);
    let keep = match (&existing, wanted) {
        (Some(cfg), Some((gw, subnet, range))) => {
            cfg.gateway == gw && cfg.subnet == subnet && cfg.ip_range == range
        }
        (Some(cfg), None) => opts.fixed_cidr.is_none_or(|r| cfg.ip_range == Some(r)),
        (None, _) => false,
    };
    if keep {
        return Ok(None);
    }
    let mut rec = match pos {
        Some(i) => recs.remove(i),
        None => NetworkRecord::predefined(seed, BRIDGE, "bridge"),
    };
    let mut req = NetworkRequest::default_bridge(&rec.id);
    match wanted {
        Some((gw, subnet, range)) => {
            req.subnet = Some(subnet);
            req.gateway = Some(gw);
            req.ip_range = range;
        }
        None => {
            let picked = opts
                .pick(&others, Some(berth_net::DEFAULT_BRIDGE))
                .map_err(|e| Error::internal(e.to_string()))?;
            if let Some(s) = picked {
                req.subnet = Some(s);
            }
            if let Some(range) = opts.fixed_cidr {
                let (cfg, _) = req
                    .plan(&others)
                    .map_err(|e| Error::internal(e.to_string()))?;
                req.subnet = Some(if cfg.subnet.contains_net(&range) {
                    cfg.subnet
                } else {
                    range
                });
                req.ip_range = Some(range);
            }
        }
    }
    let (cfg, _) = req
        .plan(&others)
        .map_err(|e| Error::internal(format!("plan the default bridge: {e}")))?;
    if let Some(old) = existing {
        if old.bridge == cfg.bridge {
            stale.push(old);
        }
    }
    rec.options = default_bridge_options(&cfg.bridge);
    rec.bridge = Some(cfg);
    recs.push(rec.clone());
    Ok(Some(rec))
}

/// `--bip` and `--fixed-cidr` as (gateway, subnet, range), when `--bip`
/// is given.
fn flags_config(opts: &NetworkOptions) -> Option<(std::net::Ipv4Addr, Ipv4Net, Option<Ipv4Net>)> {
    opts.bip.map(|(gw, net)| (gw, net, opts.fixed_cidr))
}

/// The options Docker reports for its default bridge.
fn default_bridge_options(bridge: &str) -> std::collections::BTreeMap<String, String> {
    [
        ("com.docker.network.bridge.default_bridge", "true"),
        ("com.docker.network.bridge.enable_icc", "true"),
        ("com.docker.network.bridge.enable_ip_masquerade", "true"),
        ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
        ("com.docker.network.bridge.name", bridge),
        ("com.docker.network.driver.mtu", "1500"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_creates_the_predefined_networks_once() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = NetworkOptions::parse(Some("10.123.0.1/24"), None, &[]).unwrap();
        let n = Networks::open(tmp.path(), "engine", opts.clone()).unwrap();
        let names: Vec<String> = {
            let st = n.shared.read();
            st.nets.iter().map(|n| n.rec.name.clone()).collect()
        };
        assert_eq!(names.len(), 3);
        for want in ["bridge", "host", "none"] {
            assert!(names.iter().any(|n| n == want), "{names:?}");
        }
        let bridge_id = n.shared.read().by_name("bridge").unwrap().rec.id.clone();
        let cfg = n
            .shared
            .read()
            .by_name("bridge")
            .unwrap()
            .rec
            .bridge
            .clone()
            .unwrap();
        assert_eq!(cfg.subnet.to_string(), "10.123.0.0/24");
        assert_eq!(cfg.bridge, "berth0");
        drop(n);
        let again = Networks::open(tmp.path(), "engine", opts).unwrap();
        assert_eq!(again.shared.read().nets.len(), 3);
        assert_eq!(
            again.shared.read().by_name("bridge").unwrap().rec.id,
            bridge_id
        );
        assert!(again.kernel.try_lock().unwrap().stale.is_empty());
        // New flags replace the stored configuration (same ID).
        let other = NetworkOptions::parse(Some("10.124.0.1/24"), None, &[]).unwrap();
        let changed = Networks::open(tmp.path(), "engine", other).unwrap();
        let st = changed.shared.read();
        let b = st.by_name("bridge").unwrap();
        assert_eq!(b.rec.id, bridge_id);
        assert_eq!(
            b.rec.bridge.as_ref().unwrap().subnet.to_string(),
            "10.124.0.0/24"
        );
        assert_eq!(changed.kernel.try_lock().unwrap().stale.len(), 1);
    }

    #[test]
    fn finds_by_id_name_and_prefix() {
        let mut st = State::default();
        for (id, name) in [("abc123", "one"), ("abd456", "two"), ("one", "three")] {
            let mut r = NetworkRecord::new(name, "bridge");
            r.id = id.into();
            st.nets.push(Net::new(r));
        }
        assert_eq!(st.find("abc123").unwrap().rec.name, "one");
        assert_eq!(st.find("one").unwrap().rec.name, "three");
        assert_eq!(st.find("two").unwrap().rec.id, "abd456");
        assert_eq!(st.find("abd").unwrap().rec.name, "two");
        assert_eq!(
            st.find("ab").unwrap_err().kind,
            crate::Kind::InvalidArgument
        );
        assert_eq!(st.find("zz").unwrap_err().message, "network zz not found");
        assert_eq!(st.find("").unwrap_err().message, "network  not found");
    }
}
