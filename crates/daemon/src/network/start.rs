//! The container lifecycle hooks of networking:
//!
//! - `network_prestart` (before the shim is spawned): `container:` modes
//!   get the other container's namespace path, hostname and files in
//!   config.json; links put their variables in the process environment.
//! - `network_attach` (after the shim's ready line, before `start`):
//!   addresses, veth pairs, published ports, /etc/hosts and resolv.conf,
//!   the embedded DNS server; `network connect` events.
//! - `network_detach` (exit, failed start): the reverse.
//! - `network_removed` (remove) and `network_restore` (daemon start:
//!   re-reserve published ports and restart DNS servers of containers that
//!   kept running).

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use berth_net::{Endpoint, NetworkConfig, PortBinding};
use berth_runtime::spec::{Namespace, Spec};

use super::create::default_state;
use super::endpoints::ContainerNet;
use super::files::{write_in_place, Files};
use super::links::{self, Link};
use super::mode::NetMode;
use super::ports::{self, Port};
use super::record::BRIDGE;
use super::resolver;
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::model::Container;
use crate::store::Entry;
use berth_util::trace::mark as trace;

/// Marks errors of network setup, which Docker reports verbatim (not as
/// runtime errors).
const START_MARK: &str = "\u{0}network:";
/// Annotation listing the environment variables `network_prestart` added.
const ENV_ANNOTATION: &str = "berth.network-env";

/// Marks `e` as a network setup error of a start.
pub(crate) fn start_error(e: Error) -> Error {
    Error::new(e.kind, format!("{START_MARK}{}", e.message))
}

/// The verbatim text of a network setup error, if `e` is one.
pub(crate) fn start_error_text(e: &Error) -> Option<String> {
    e.message.strip_prefix(START_MARK).map(str::to_string)
}

/// What a link resolves to at start.
struct Linked {
    link: Link,
    name: String,
    id: String,
    ip: Ipv4Addr,
    ports: Vec<Port>,
    env: Vec<String>,
}

impl Linked {
    fn target(&self) -> links::Target<'_> {
        links::Target {
            name: &self.name,
            id: &self.id,
            ip: self.ip,
            ports: &self.ports,
            env: &self.env,
        }
    }
}

/// What is left to undo in the kernel after a container's run.
struct Cleanup {
    id: String,
    /// (network ID, endpoint), primary first.
    endpoints: Vec<(String, Endpoint)>,
    ports: Vec<PortBinding>,
}

impl Cleanup {
    /// Withdraws the published ports (DNAT elements and host port
    /// reservations); failures are logged.
    async fn unpublish(&self) {
        let Some(ip) = self.endpoints.first().map(|(_, e)| e.ip) else {
            return;
        };
        if self.ports.is_empty() {
            return;
        }
        let (id, ports) = (self.id.clone(), self.ports.clone());
        let done = tokio::task::spawn_blocking(move || berth_net::unpublish(&id, ip, &ports)).await;
        if let Ok(Err(e)) = done {
            eprintln!("berthd: unpublish ports of {}: {e}", self.id);
        }
    }
}

/// An endpoint to create: network, address, interface name.
struct Planned {
    index: usize,
    cfg: NetworkConfig,
    ip: Ipv4Addr,
    ifname: String,
}

fn read_spec(dir: &Path) -> Result<Spec> {
    let bytes = std::fs::read(dir.join("config.json"))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::internal(format!("read config.json: {e}")))
}

/// Replaces config.json (rewritten at every start that needs it, so no
/// fsync).
fn write_spec(dir: &Path, spec: &Spec) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(spec).map_err(|e| Error::internal(e.to_string()))?;
    let tmp = dir.join(".config.json.net");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join("config.json"))?;
    Ok(())
}

/// Sets `key=value` in an environment list.
fn set_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
        Some(e) => *e = entry,
        None => env.push(entry),
    }
}

impl Daemon {
    /// Resolves the default-bridge links of `rec` (the targets must run).
    fn resolve_links(&self, rec: &Container) -> Result<Vec<Linked>> {
        let mut out = Vec::new();
        for link in links::of(&rec.host_config) {
            let me = rec.name.trim_start_matches('/');
            let not_running = || {
                Error::invalid(format!(
                    "Cannot link to a non running container: /{} AS /{me}/{}",
                    link.target, link.alias
                ))
            };
            let entry = self
                .containers
                .get(&link.target)
                .map_err(|_| not_running())?;
            let target = entry.lock().clone();
            if !target.state.running {
                return Err(not_running());
            }
            let ip = {
                let st = self.networks.shared.read();
                st.containers.get(&target.id).and_then(|cn| {
                    cn.endpoints()
                        .find(|(a, _)| a.network == BRIDGE)
                        .map(|(_, e)| e.ip)
                })
            };
            let ip = ip.ok_or_else(|| {
                Error::invalid(format!(
                    "Cannot link to {}, as it does not belong to the default network",
                    target.name
                ))
            })?;
            out.push(Linked {
                ports: ports::exposed(&target.config, &target.host_config),
                env: target.config.env.clone().unwrap_or_default(),
                name: target.name.clone(),
                id: target.id.clone(),
                ip,
                link,
            });
        }
        Ok(out)
    }

    /// Before the shim is spawned: `container:` modes and link variables
    /// in config.json. A no-op for everything else.
    pub(crate) async fn network_prestart(&self, entry: &Arc<Entry>) -> Result<()> {
        let rec = entry.lock().clone();
        let mode = NetMode::of(&rec.host_config.network_mode);
        let has_links = mode == NetMode::Bridge && !links::raw(&rec.host_config).is_empty();
        if !matches!(mode, NetMode::Container(_)) && !has_links {
            return Ok(());
        }
        let dir = self.config.container_dir(&rec.id);
        let mut spec = read_spec(&dir)?;
        let previous = spec.annotations.remove(ENV_ANNOTATION).unwrap_or_default();
        let previous: Vec<&str> = previous.split(',').filter(|k| !k.is_empty()).collect();
        spec.process
            .env
            .retain(|e| !previous.contains(&e.split('=').next().unwrap_or("")));
        let mut added: Vec<String> = Vec::new();
        if let NetMode::Container(other) = mode {
            let target = self.containers.get(other)?.lock().clone();
            if !target.state.running || target.state.pid == 0 {
                return Err(Error::conflict(format!(
                    "cannot join network of a non running container: {}",
                    target.id
                )));
            }
            let path = format!("/proc/{}/ns/net", target.state.pid);
            match spec
                .linux
                .namespaces
                .iter_mut()
                .find(|n| n.kind == "network")
            {
                Some(ns) => ns.path = Some(path),
                None => spec.linux.namespaces.push(Namespace {
                    kind: "network".into(),
                    path: Some(path),
                }),
            }
            let hostname = target.config.hostname.clone();
            if !spec.hostname.is_empty() && !hostname.is_empty() {
                spec.hostname = hostname.clone();
                set_env(&mut spec.process.env, "HOSTNAME", &hostname);
            }
            let theirs = self.config.container_dir(&target.id);
            for f in ["hostname", "hosts", "resolv.conf"] {
                if let Ok(content) = std::fs::read_to_string(theirs.join(f)) {
                    write_in_place(&dir.join(f), &content)?;
                }
            }
        }
        if has_links {
            let linked = self.resolve_links(&rec)?;
            for l in &linked {
                for var in links::env(&l.link, &rec.name, &l.target()) {
                    let (k, v) = var.split_once('=').unwrap_or((&var, ""));
                    set_env(&mut spec.process.env, k, v);
                    added.push(k.to_string());
                }
            }
        }
        if !added.is_empty() {
            spec.annotations
                .insert(ENV_ANNOTATION.into(), added.join(","));
        }
        write_spec(&dir, &spec)
    }

    /// After the shim's ready line: the container joins its networks. On
    /// error nothing of it is left (the caller discards the container).
    pub(crate) async fn network_attach(
        self: &Arc<Self>,
        entry: &Arc<Entry>,
        pid: i32,
    ) -> Result<()> {
        trace("net.attach");
        let rec = entry.lock().clone();
        let id = rec.id.clone();
        let nets = &self.networks;
        let lock = nets.lock_for(&id);
        let _guard = lock.lock().await;
        if nets.container(&id).is_some_and(|c| c.running()) {
            // A previous run whose exit has not been handled yet.
            self.teardown(&id, None).await;
        }
        let mut cn = {
            let mut st = nets.shared.write();
            let fresh = default_state(&st, &rec.name, &rec.host_config);
            let mut cn = st.containers.entry(id.clone()).or_insert(fresh).clone();
            // Networks named at create that did not exist then.
            for a in cn
                .attachments
                .iter_mut()
                .filter(|a| a.network_id.is_empty())
            {
                if let Ok(n) = st.find(&a.network) {
                    a.network_id = n.rec.id.clone();
                    a.network = n.rec.name.clone();
                }
            }
            cn
        };
        cn.clear_runtime();
        cn.name = rec.name.trim_start_matches('/').to_string();
        cn.pid = pid;
        cn.sandbox_id = berth_util::id::random_hex(32);
        let mode = NetMode::of(&rec.host_config.network_mode);
        let planned = self.allocate(&id, &mut cn).await?;
        trace("net.allocated");
        let netns = format!("/proc/{pid}/ns/net");
        let created = if planned.is_empty() {
            Ok((Vec::new(), Vec::new()))
        } else {
            let requested = if planned[0].index == 0 {
                ports::requested(&rec.config, &rec.host_config)
                    .map_err(|e| Error::invalid(e.to_string()))?
            } else {
                Vec::new()
            };
            if !requested.is_empty() {
                // Ports being withdrawn in the background are free first.
                drop(nets.ports_gate.write().await);
            }
            let cfgs: Vec<(NetworkConfig, Ipv4Addr, String)> = planned
                .iter()
                .map(|p| (p.cfg.clone(), p.ip, p.ifname.clone()))
                .collect();
            let (cid, name) = (id.clone(), cn.name.clone());
            let endpoint_id = {
                let first = &mut cn.attachments[planned[0].index];
                first.endpoint_id = berth_util::id::random_hex(32);
                first.endpoint_id.clone()
            };
            tokio::task::spawn_blocking(move || {
                create_endpoints(&cid, &name, &endpoint_id, &netns, &cfgs, &requested)
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?
        };
        trace("net.endpoints");
        let (endpoints, published) = match created {
            Ok(v) => v,
            Err(e) => {
                self.release(&id, planned.iter().map(|p| (p.cfg.id.as_str(), p.ip)));
                return Err(e);
            }
        };
        for (p, ep) in planned.iter().zip(endpoints) {
            let a = &mut cn.attachments[p.index];
            if a.endpoint_id.is_empty() {
                a.endpoint_id = berth_util::id::random_hex(32);
            }
            a.endpoint = Some(ep);
        }
        for a in cn
            .attachments
            .iter_mut()
            .filter(|a| a.endpoint_id.is_empty())
        {
            a.endpoint_id = berth_util::id::random_hex(32);
        }
        cn.ports = published;
        let written = self.write_files(&rec, &cn, mode);
        nets.shared
            .write()
            .containers
            .insert(id.clone(), cn.clone());
        nets.save_container(&id, &cn);
        if let Err(e) = written {
            self.teardown(&id, None).await;
            return Err(e);
        }
        trace("net.files");
        self.start_resolver(&id, &cn, &rec).await;
        for a in &cn.attachments {
            self.emit_network(&a.network_id, "connect", Some(&id));
        }
        trace("net.attached");
        Ok(())
    }

    /// Allocates addresses for the bridge networks of `cn`; on error none
    /// stay allocated.
    async fn allocate(&self, id: &str, cn: &mut ContainerNet) -> Result<Vec<Planned>> {
        let bridged = {
            let st = self.networks.shared.read();
            cn.attachments
                .iter()
                .map(|a| {
                    st.by_id(&a.network_id)
                        .map(|n| n.rec.bridge.is_some())
                        .ok_or_else(|| super::not_found(&a.network))
                })
                .collect::<Result<Vec<bool>>>()?
        };
        if !bridged.contains(&true) {
            return Ok(Vec::new());
        }
        self.networks.ensure_kernel().await?;
        let mut st = self.networks.shared.write();
        let mut out: Vec<Planned> = Vec::new();
        let mut failure = None;
        for (index, a) in cn.attachments.iter().enumerate() {
            if !bridged[index] {
                continue;
            }
            let Some(net) = st.by_id_mut(&a.network_id) else {
                failure = Some(super::not_found(&a.network));
                break;
            };
            let (Some(cfg), Some(ipam)) = (net.rec.bridge.clone(), net.ipam.as_mut()) else {
                continue;
            };
            match ipam.allocate(id, a.ipv4) {
                Ok(ip) => out.push(Planned {
                    index,
                    ifname: format!("eth{}", out.len()),
                    cfg,
                    ip,
                }),
                Err(e) => {
                    failure = Some(Error::invalid(e.to_string()));
                    break;
                }
            }
        }
        if let Some(e) = failure {
            for p in &out {
                if let Some(ipam) = st.by_id_mut(&p.cfg.id).and_then(|n| n.ipam.as_mut()) {
                    ipam.release(p.ip);
                }
            }
            return Err(e);
        }
        Ok(out)
    }

    /// Gives back addresses `id` holds.
    fn release<'a>(&self, id: &str, ips: impl Iterator<Item = (&'a str, Ipv4Addr)>) {
        let mut st = self.networks.shared.write();
        for (net, ip) in ips {
            if let Some(ipam) = st.by_id_mut(net).and_then(|n| n.ipam.as_mut()) {
                if ipam.owner(ip) == Some(id) {
                    ipam.release(ip);
                }
            }
        }
    }

    /// Rewrites the files of a running container after connect or
    /// disconnect; failures are logged.
    pub(super) fn refresh_files(&self, rec: &Container, cn: &ContainerNet) {
        let mode = NetMode::of(&rec.host_config.network_mode);
        if let Err(e) = self.write_files(rec, cn, mode) {
            eprintln!("berthd: update /etc/hosts of {}: {e}", rec.id);
        }
    }

    /// /etc/hosts and resolv.conf for the container's current networks.
    fn write_files(&self, rec: &Container, cn: &ContainerNet, mode: NetMode) -> Result<()> {
        if matches!(mode, NetMode::Host | NetMode::Container(_)) {
            return Ok(());
        }
        let link_lines = if mode == NetMode::Bridge && !links::raw(&rec.host_config).is_empty() {
            self.resolve_links(rec)?
                .iter()
                .map(|l| links::hosts_line(&l.link, &l.target()))
                .collect()
        } else {
            Vec::new()
        };
        let st = self.networks.shared.read();
        let embedded = cn
            .endpoints()
            .any(|(a, _)| st.by_id(&a.network_id).is_some_and(|n| n.rec.is_user()));
        drop(st);
        Files {
            config: &rec.config,
            host: &rec.host_config,
            links: link_lines,
            ips: cn.endpoints().map(|(_, e)| e.ip.to_string()).collect(),
            embedded_dns: embedded,
        }
        .write(&self.config.container_dir(&rec.id))?;
        Ok(())
    }

    /// Starts the embedded DNS server when the container is on a user
    /// network and has none yet. Failures are logged: the container runs
    /// without name resolution rather than not at all.
    pub(super) async fn start_resolver(&self, id: &str, cn: &ContainerNet, rec: &Container) {
        let wanted = {
            let st = self.networks.shared.read();
            cn.endpoints()
                .any(|(a, _)| st.by_id(&a.network_id).is_some_and(|n| n.rec.is_user()))
        };
        if !wanted || !cn.running() || self.networks.resolvers_map().contains_key(id) {
            return;
        }
        let path = format!("/proc/{}/ns/net", cn.pid);
        let opened = tokio::task::spawn_blocking(move || resolver::listen(Path::new(&path))).await;
        let sockets = match opened {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return eprintln!("berthd: DNS server of {id}: {e}"),
            Err(e) => return eprintln!("berthd: DNS server of {id}: {e}"),
        };
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let upstream =
            resolver::upstream(rec.host_config.dns.as_deref().unwrap_or(&[]), &host_resolv);
        match resolver::serve(
            sockets,
            self.networks.shared.clone(),
            id.to_string(),
            upstream,
        ) {
            Ok(h) => {
                self.networks.resolvers_map().insert(id.to_string(), h);
            }
            Err(e) => eprintln!("berthd: DNS server of {id}: {e}"),
        }
    }

    /// Undoes `network_attach` once the run of init `pid` ended (`None`:
    /// whatever runs). Later runs are left alone. The state changes at
    /// once; the kernel work (withdrawing published ports, deleting the
    /// veth pairs: both wait for RCU grace periods) and giving back the
    /// addresses happen in the background, so an exit or `--rm` does not
    /// wait for them. The next start of the container waits (its lock), and
    /// so does any publish while ports are being withdrawn (`ports_gate`),
    /// so a port is free for the next container as soon as this returns.
    pub(crate) async fn network_detach(self: &Arc<Self>, id: &str, pid: Option<i32>) {
        let guard = self.networks.lock_for(id).lock_owned().await;
        let Some(cleanup) = self.begin_teardown(id, pid) else {
            return;
        };
        let gate = if cleanup.ports.is_empty() {
            None
        } else {
            Some(self.networks.ports_gate.clone().read_owned().await)
        };
        let daemon = self.clone();
        tokio::spawn(async move {
            cleanup.unpublish().await;
            drop(gate);
            daemon.finish_teardown(cleanup).await;
            drop(guard);
        });
    }

    /// `network_detach` without the lock, waiting for the kernel work.
    async fn teardown(&self, id: &str, pid: Option<i32>) {
        if let Some(c) = self.begin_teardown(id, pid) {
            c.unpublish().await;
            self.finish_teardown(c).await;
        }
    }

    /// Forgets the runtime state of the run of `pid` and returns what is
    /// left to undo in the kernel.
    fn begin_teardown(&self, id: &str, pid: Option<i32>) -> Option<Cleanup> {
        trace("net.detach");
        let old = {
            let mut st = self.networks.shared.write();
            let cn = st.containers.get_mut(id)?;
            if !cn.running() || pid.is_some_and(|p| p != cn.pid) {
                return None;
            }
            let old = cn.clone();
            cn.clear_runtime();
            old
        };
        self.networks.resolvers_map().remove(id);
        for a in &old.attachments {
            self.emit_network(&a.network_id, "disconnect", Some(id));
        }
        Some(Cleanup {
            id: id.to_string(),
            endpoints: old
                .endpoints()
                .map(|(a, e)| (a.network_id.clone(), e.clone()))
                .collect(),
            ports: old.ports,
        })
    }

    /// Deletes the veth pairs, frees the addresses, and only then records
    /// the container as detached (a daemon that dies before leaves the
    /// record saying "running", and the exit handling of the next daemon
    /// does the cleanup again).
    async fn finish_teardown(&self, c: Cleanup) {
        let endpoints: Vec<Endpoint> = c.endpoints.iter().map(|(_, e)| e.clone()).collect();
        let undone = tokio::task::spawn_blocking(move || remove_endpoints(&endpoints)).await;
        if let Ok(Err(e)) = undone {
            eprintln!("berthd: network cleanup of {}: {e}", c.id);
        }
        self.release(&c.id, c.endpoints.iter().map(|(n, e)| (n.as_str(), e.ip)));
        if let Some(cn) = self.networks.container(&c.id).filter(|cn| !cn.running()) {
            self.networks.save_container(&c.id, &cn);
        }
        trace("net.detached");
    }

    /// The container is gone: forget its networking state.
    pub(crate) fn network_removed(&self, id: &str) {
        self.networks.resolvers_map().remove(id);
        // A cleanup still running frees the addresses once the veth pairs
        // are gone (their MACs derive from the addresses).
        let busy = self
            .networks
            .locks_map()
            .remove(id)
            .is_some_and(|l| l.try_lock().is_err());
        let mut st = self.networks.shared.write();
        st.containers.remove(id);
        if !busy {
            for n in &mut st.nets {
                if let Some(ipam) = n.ipam.as_mut() {
                    ipam.release_owner(id);
                }
            }
        }
    }

    /// After the daemon started: containers that kept running get their
    /// host ports reserved again and their DNS servers back. Those that
    /// died meanwhile are cleaned up by their exit handling; those recorded
    /// as exited whose cleanup the previous daemon did not finish, here.
    pub(crate) fn network_restore(self: &Arc<Self>) {
        let running: Vec<(String, ContainerNet)> = self
            .networks
            .shared
            .read()
            .containers
            .iter()
            .filter(|(_, c)| c.running())
            .map(|(id, c)| (id.clone(), c.clone()))
            .collect();
        if running.is_empty() {
            return;
        }
        let daemon = self.clone();
        tokio::spawn(async move {
            if let Err(e) = daemon.networks.ensure_kernel().await {
                eprintln!("berthd: restore networking: {e}");
            }
            for (id, cn) in running {
                let Ok(entry) = daemon.containers.get(&id) else {
                    continue;
                };
                let rec = entry.lock().clone();
                let lock = daemon.networks.lock_for(&id);
                let _guard = lock.lock().await;
                if !rec.state.running {
                    // It exited while the previous daemon was cleaning up.
                    daemon.teardown(&id, Some(cn.pid)).await;
                    continue;
                }
                if rec.state.pid != cn.pid {
                    continue;
                }
                if daemon
                    .networks
                    .container(&id)
                    .is_none_or(|c| c.pid != cn.pid)
                {
                    continue;
                }
                if let Some(ip) = cn.endpoints().next().map(|(_, e)| e.ip) {
                    let (cid, ports) = (id.clone(), cn.ports.clone());
                    let r =
                        tokio::task::spawn_blocking(move || berth_net::publish(&cid, ip, &ports))
                            .await;
                    if let Ok(Err(e)) = r {
                        eprintln!("berthd: re-publish ports of {id}: {e}");
                    }
                }
                daemon.start_resolver(&id, &cn, &rec).await;
            }
        });
    }

    /// A network event (`connect`/`disconnect` name a container).
    pub(crate) fn emit_network(&self, network_id: &str, action: &str, container: Option<&str>) {
        let (name, driver) = {
            let st = self.networks.shared.read();
            match st.by_id(network_id) {
                Some(n) => (n.rec.name.clone(), n.rec.driver.clone()),
                None => return,
            }
        };
        let mut attrs = std::collections::BTreeMap::new();
        if let Some(c) = container {
            attrs.insert("container".to_string(), c.to_string());
        }
        attrs.insert("name".to_string(), name);
        attrs.insert("type".to_string(), driver);
        self.events.emit("network", action, network_id, attrs);
    }
}

/// Creates the veth pairs and publishes the ports (on the first endpoint).
/// Blocking; on error nothing is left. Errors carry Docker's wording.
fn create_endpoints(
    id: &str,
    name: &str,
    endpoint_id: &str,
    netns: &str,
    cfgs: &[(NetworkConfig, Ipv4Addr, String)],
    requested: &[PortBinding],
) -> Result<(Vec<Endpoint>, Vec<PortBinding>)> {
    let mut made: Vec<Endpoint> = Vec::new();
    let undo = |made: &[Endpoint]| {
        for e in made {
            let _ = berth_net::disconnect(&e.host_veth);
        }
    };
    for (cfg, ip, ifname) in cfgs {
        match berth_net::connect(cfg, Path::new(netns), id, *ip, ifname) {
            Ok(ep) => made.push(ep),
            Err(e) => {
                undo(&made);
                return Err(Error::internal(format!(
                    "failed to create endpoint {name} on network {}: {e}",
                    cfg.name
                )));
            }
        }
    }
    let published = match made.first() {
        Some(ep) if !requested.is_empty() => match berth_net::publish(id, ep.ip, requested) {
            Ok(p) => p,
            Err(e) => {
                undo(&made);
                return Err(Error::internal(format!(
                    "driver failed programming external connectivity on endpoint {name} ({endpoint_id}): {e}"
                )));
            }
        },
        _ => Vec::new(),
    };
    Ok((made, published))
}

/// Removes the veth pairs. Blocking.
fn remove_endpoints(endpoints: &[Endpoint]) -> std::result::Result<(), berth_net::NetError> {
    let mut first_err = None;
    for e in endpoints {
        if let Err(err) = berth_net::disconnect(&e.host_veth) {
            first_err.get_or_insert(err);
        }
    }
    first_err.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_are_marked_and_unmarked() {
        let e = start_error(Error::invalid("Address already in use"));
        assert_eq!(
            start_error_text(&e).as_deref(),
            Some("Address already in use")
        );
        assert_eq!(start_error_text(&Error::invalid("x")), None);
    }

    #[test]
    fn env_is_set_once() {
        let mut env = vec!["A=1".to_string(), "HOSTNAME=x".to_string()];
        set_env(&mut env, "HOSTNAME", "y");
        set_env(&mut env, "B", "2");
        assert_eq!(env, ["A=1", "HOSTNAME=y", "B=2"]);
    }
}
