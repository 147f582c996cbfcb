//! Changing a container in place: `pause`/`unpause` (the cgroup freezer),
//! `rename`, and `update` (resources and restart policy, applied live to the
//! cgroup of a running container and kept in the record and the bundle's
//! `config.json` for the next start), with Docker's rules and messages.

use crate::daemon::Daemon;
use crate::error::{Error, Kind, Result};
use crate::model::{HostConfig, RestartPolicy, State};
use crate::store::Entry;
use crate::{names, oci, restart};
use berth_runtime::cgroups::{self, CgroupManager, Freeze};
use berth_runtime::spec::{Pids, Resources};
use serde::Deserialize;
use serde_json::Value;

/// The container's cgroup, relative to the cgroup root(s), as its spec names it.
pub(crate) fn cgroup_path(id: &str) -> String {
    format!("berth/{id}")
}

/// The body of `POST /containers/{id}/update`: Docker's `UpdateConfig`
/// (the resources berth applies, and the restart policy). A zero or empty
/// value leaves the setting as it is.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateConfig {
    pub cpu_shares: i64,
    pub memory: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpuset_cpus: String,
    pub cpuset_mems: String,
    pub memory_reservation: i64,
    pub memory_swap: i64,
    pub nano_cpus: i64,
    pub pids_limit: Option<i64>,
    pub restart_policy: RestartPolicy,
}

impl UpdateConfig {
    /// Parses a request body; `null` fields count as unset, as in Go.
    pub fn from_json(v: &Value) -> Result<UpdateConfig> {
        let mut v = v.clone();
        if let Value::Object(m) = &mut v {
            m.retain(|_, x| !x.is_null());
        }
        serde_json::from_value(v).map_err(|e| Error::invalid(format!("invalid update config: {e}")))
    }

    /// The request alone as a host config, for Docker's checks of the
    /// values themselves (a swap limit without a memory limit is allowed
    /// here: the memory limit may already be set).
    fn as_host_config(&self) -> HostConfig {
        HostConfig {
            cpu_shares: self.cpu_shares,
            memory: self.memory,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            memory_reservation: self.memory_reservation,
            memory_swap: if self.memory != 0 {
                self.memory_swap
            } else {
                0
            },
            nano_cpus: self.nano_cpus,
            ..HostConfig::default()
        }
    }
}

/// Docker's `UpdateContainer`: merges the request into the host config, or
/// says why the two conflict.
pub fn merge(hc: &mut HostConfig, u: &UpdateConfig) -> std::result::Result<(), String> {
    let conflicts = [
        (
            u.nano_cpus > 0 && hc.cpu_period > 0,
            "Nano CPUs cannot be updated as CPU Period has already been set",
        ),
        (
            u.nano_cpus > 0 && hc.cpu_quota > 0,
            "Nano CPUs cannot be updated as CPU Quota has already been set",
        ),
        (
            u.cpu_period > 0 && hc.nano_cpus > 0,
            "CPU Period cannot be updated as NanoCPUs has already been set",
        ),
        (
            u.cpu_quota > 0 && hc.nano_cpus > 0,
            "CPU Quota cannot be updated as NanoCPUs has already been set",
        ),
    ];
    if let Some((_, why)) = conflicts.iter().find(|(hit, _)| *hit) {
        return Err(format!("Conflicting options: {why}"));
    }
    let set = |dst: &mut i64, v: i64| {
        if v != 0 {
            *dst = v;
        }
    };
    set(&mut hc.cpu_shares, u.cpu_shares);
    set(&mut hc.nano_cpus, u.nano_cpus);
    set(&mut hc.cpu_period, u.cpu_period);
    set(&mut hc.cpu_quota, u.cpu_quota);
    if !u.cpuset_cpus.is_empty() {
        hc.cpuset_cpus = u.cpuset_cpus.clone();
    }
    if !u.cpuset_mems.is_empty() {
        hc.cpuset_mems = u.cpuset_mems.clone();
    }
    if u.memory != 0 {
        if u.memory > hc.memory_swap && u.memory_swap == 0 {
            return Err("Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time".into());
        }
        hc.memory = u.memory;
    }
    set(&mut hc.memory_swap, u.memory_swap);
    set(&mut hc.memory_reservation, u.memory_reservation);
    if let Some(p) = u.pids_limit {
        hc.pids_limit = Some(p);
    }
    if !u.restart_policy.name.is_empty() {
        if hc.auto_remove && restart::Policy::of(&u.restart_policy) != restart::Policy::No {
            return Err(
                "Restart policy cannot be updated because AutoRemove is enabled for the container"
                    .into(),
            );
        }
        hc.restart_policy = u.restart_policy.clone();
    }
    Ok(())
}

/// The cgroup limits of a merged host config; a `PidsLimit` in the request
/// of zero or less lifts the limit (runc needs -1 for that).
fn resources_of(hc: &HostConfig, u: &UpdateConfig) -> Result<Resources> {
    let mut r =
        oci::build_resources(hc, &oci::Host::probe()).map_err(|e| Error::invalid(e.to_string()))?;
    if let Some(p) = u.pids_limit {
        r.pids = Some(Pids {
            limit: if p > 0 { p } else { -1 },
        });
    }
    Ok(r)
}

fn to_json(x: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_value(x).map_err(|e| Error::internal(e.to_string()))
}

/// `linux.resources` of a spec (`config.json` as JSON) with the new
/// memory, cpu and pids settings; device rules and everything else stay.
fn with_resources(mut spec: Value, r: &Resources) -> Result<Value> {
    let linux = spec
        .get_mut("linux")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| Error::internal("config.json has no linux section"))?;
    let res = linux
        .entry("resources")
        .or_insert_with(|| Value::Object(Default::default()));
    let Value::Object(res) = res else {
        return Err(Error::internal("config.json has bad linux.resources"));
    };
    for (key, value) in [
        ("memory", to_json(&r.memory)?),
        ("cpu", to_json(&r.cpu)?),
        ("pids", to_json(&r.pids)?),
    ] {
        if value.is_null() {
            res.remove(key);
        } else {
            res.insert(key.to_string(), value);
        }
    }
    Ok(spec)
}

/// `start` of a paused container is refused (it runs, but frozen).
pub fn refuse_paused_start(s: &State) -> Result<()> {
    if s.paused {
        return Err(Error::conflict(
            "cannot start a paused container, try unpause instead",
        ));
    }
    Ok(())
}

/// Why `rm` without force refuses a container in state `s`.
pub fn remove_refusal(s: &State) -> String {
    if s.paused {
        "container is paused and must be unpaused first".into()
    } else if s.restarting {
        "container is restarting: stop the container before removing or force remove".into()
    } else {
        "container is running: stop the container before removing or force remove".into()
    }
}

impl Daemon {
    /// Freezes or thaws a container's cgroup (blocking work, off the runtime).
    async fn set_frozen(&self, id: &str, want: Freeze) -> Result<()> {
        let path = cgroup_path(id);
        tokio::task::spawn_blocking(move || cgroups::detect(&path)?.set_freeze(want))
            .await
            .map_err(|e| Error::internal(e.to_string()))?
            .map_err(|e| Error::internal(e.to_string()))
    }

    /// `POST /containers/{id}/pause`.
    pub async fn pause(&self, key: &str) -> Result<()> {
        let entry = self.containers.get(key)?;
        let _op = entry.op.lock().await;
        {
            let rec = entry.lock();
            let id = &entry.id;
            if !rec.state.running {
                return Err(Error::conflict(format!("container {id} is not running")));
            }
            if rec.state.paused {
                return Err(Error::conflict(format!("container {id} is already paused")));
            }
            if rec.state.restarting {
                return Err(Error::conflict(format!(
                    "Container {id} is restarting, wait until the container is running"
                )));
            }
        }
        self.set_frozen(&entry.id, Freeze::Frozen)
            .await
            .map_err(|e| Error::internal(format!("cannot pause container {}: {e}", entry.id)))?;
        let mut rec = entry.lock();
        rec.state.paused = true;
        rec.state.status = "paused".into();
        self.persist(&rec)?;
        self.emit_container(&rec, "pause", &[]);
        Ok(())
    }

    /// `POST /containers/{id}/unpause`.
    pub async fn unpause(&self, key: &str) -> Result<()> {
        let entry = self.containers.get(key)?;
        let _op = entry.op.lock().await;
        if !entry.lock().state.paused {
            return Err(Error::conflict(format!(
                "Container {} is not paused",
                entry.id
            )));
        }
        self.set_frozen(&entry.id, Freeze::Thawed)
            .await
            .map_err(|e| Error::internal(format!("Cannot unpause container {}: {e}", entry.id)))?;
        self.mark_unpaused(&entry);
        Ok(())
    }

    fn mark_unpaused(&self, entry: &Entry) {
        let mut rec = entry.lock();
        if !rec.state.paused {
            return;
        }
        rec.state.paused = false;
        if rec.state.running {
            rec.state.status = "running".into();
        }
        let _ = self.persist(&rec);
        self.emit_container(&rec, "unpause", &[]);
    }

    /// Thaws a paused container after a signal that ends it (a frozen
    /// process only acts on it once it runs again). Errors are ignored: the
    /// cgroup is gone when the process already died.
    pub(crate) async fn thaw_if_paused(&self, entry: &Entry) {
        if !entry.lock().state.paused {
            return;
        }
        let _ = self.set_frozen(&entry.id, Freeze::Thawed).await;
        self.mark_unpaused(entry);
    }

    /// `POST /containers/{id}/rename?name=`.
    pub async fn rename(&self, key: &str, new_name: &str) -> Result<()> {
        let (key, new_name) = (key.trim(), new_name.trim());
        if key.trim_start_matches('/').is_empty() || new_name.trim_start_matches('/').is_empty() {
            return Err(Error::invalid("Neither old nor new names may be empty"));
        }
        let entry = self.containers.get(key)?;
        let wanted = format!("/{}", new_name.strip_prefix('/').unwrap_or(new_name));
        let mut rec = entry.lock();
        if rec.name == wanted {
            return Err(Error::invalid(
                "Renaming a container with the same name as its current name",
            ));
        }
        let allocating = |e: Error| {
            Error::new(
                e.kind,
                format!("Error when allocating new name: {}", e.message),
            )
        };
        let name = names::validate(&wanted)
            .map_err(|m| allocating(Error::invalid(m)))?
            .to_string();
        self.containers
            .rename(&entry.id, &name)
            .map_err(allocating)?;
        let old = std::mem::replace(&mut rec.name, wanted);
        if let Err(e) = self.persist(&rec) {
            let _ = self
                .containers
                .rename(&entry.id, old.trim_start_matches('/'));
            rec.name = old;
            return Err(e);
        }
        self.emit_container(&rec, "rename", &[("oldName", old)]);
        Ok(())
    }

    /// `POST /containers/{id}/update`: Docker's checks, the merge, the live
    /// cgroup update of a running (or paused) container, then the record
    /// and `config.json`. Returns the warnings.
    pub async fn update(&self, key: &str, u: &UpdateConfig) -> Result<Vec<String>> {
        oci::build_resources(&u.as_host_config(), &oci::Host::probe())
            .map_err(|e| Error::invalid(e.to_string()))?;
        restart::validate_policy(&u.restart_policy)?;
        let entry = self.containers.get(key)?;
        let _op = entry.op.lock().await;
        let id = entry.id.clone();
        let cannot = |kind: Kind, why: &str| {
            Error::new(kind, format!("Cannot update container {id}: {why}"))
        };
        let (merged, live) = {
            let rec = entry.lock();
            let mut hc = rec.host_config.clone();
            merge(&mut hc, u).map_err(|why| cannot(Kind::Conflict, &why))?;
            (hc, rec.state.running && !rec.state.restarting)
        };
        let resources = resources_of(&merged, u)?;
        if live {
            let path = cgroup_path(&id);
            let r = resources.clone();
            tokio::task::spawn_blocking(move || cgroups::detect(&path)?.apply(&r))
                .await
                .map_err(|e| Error::internal(e.to_string()))?
                .map_err(|e| cannot(Kind::Internal, &e.to_string()))?;
        }
        let spec_path = self.config.container_dir(&id).join("config.json");
        let spec: Value = serde_json::from_slice(&std::fs::read(&spec_path)?)
            .map_err(|e| Error::internal(format!("read {}: {e}", spec_path.display())))?;
        let spec = with_resources(spec, &resources)?;
        let bytes = serde_json::to_vec_pretty(&spec).map_err(|e| Error::internal(e.to_string()))?;
        berth_util::fs::write_atomic(&spec_path, &bytes)?;
        let mut rec = entry.lock();
        rec.host_config = merged;
        self.persist(&rec)?;
        self.emit_container(&rec, "update", &[]);
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_like_docker() {
        let mut hc = HostConfig {
            memory: 100 << 20,
            memory_swap: 200 << 20,
            ..HostConfig::default()
        };
        let u = UpdateConfig {
            memory: 150 << 20,
            cpu_shares: 512,
            pids_limit: Some(50),
            restart_policy: RestartPolicy {
                name: "on-failure".into(),
                maximum_retry_count: 3,
            },
            ..UpdateConfig::default()
        };
        merge(&mut hc, &u).unwrap();
        assert_eq!(hc.memory, 150 << 20);
        assert_eq!(hc.memory_swap, 200 << 20);
        assert_eq!(hc.cpu_shares, 512);
        assert_eq!(hc.pids_limit, Some(50));
        assert_eq!(hc.restart_policy.maximum_retry_count, 3);

        // Above the swap limit without a new one: refused as Docker does.
        let mut hc = HostConfig::default();
        let e = merge(
            &mut hc,
            &UpdateConfig {
                memory: 100 << 20,
                ..UpdateConfig::default()
            },
        )
        .unwrap_err();
        assert!(e.starts_with("Memory limit should be smaller"), "{e}");

        let mut hc = HostConfig {
            nano_cpus: 500_000_000,
            ..HostConfig::default()
        };
        let e = merge(
            &mut hc,
            &UpdateConfig {
                cpu_quota: 50_000,
                ..UpdateConfig::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e,
            "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set"
        );

        let mut hc = HostConfig {
            auto_remove: true,
            ..HostConfig::default()
        };
        let always = UpdateConfig {
            restart_policy: RestartPolicy {
                name: "always".into(),
                maximum_retry_count: 0,
            },
            ..UpdateConfig::default()
        };
        assert!(merge(&mut hc, &always).is_err());
    }

    #[test]
    fn parses_docker_update_bodies() {
        let u = UpdateConfig::from_json(&json!({
            "CpuShares": 512, "Memory": 314572800, "NanoCpus": 500000000,
            "CpusetCpus": "0", "PidsLimit": null, "BlkioWeightDevice": null,
            "RestartPolicy": {"Name": "always", "MaximumRetryCount": 0}
        }))
        .unwrap();
        assert_eq!(u.memory, 314572800);
        assert_eq!(u.pids_limit, None);
        assert_eq!(u.restart_policy.name, "always");
        assert!(UpdateConfig::from_json(&json!({"Memory": "x"})).is_err());
    }

    #[test]
    fn rewrites_only_the_resources_of_the_spec() {
        let spec = json!({
            "ociVersion": "1.0.2",
            "linux": {"resources": {"memory": {"limit": 1}, "devices": [{"allow": false}]}, "cgroupsPath": "berth/x"}
        });
        let r = Resources {
            pids: Some(Pids { limit: 20 }),
            ..Resources::default()
        };
        let out = with_resources(spec, &r).unwrap();
        assert_eq!(
            out["linux"],
            json!({"resources": {"devices": [{"allow": false}], "pids": {"limit": 20}}, "cgroupsPath": "berth/x"})
        );
    }

    #[test]
    fn removal_refusals() {
        let mut s = State {
            running: true,
            ..State::default()
        };
        assert!(remove_refusal(&s).starts_with("container is running"));
        s.paused = true;
        assert_eq!(
            remove_refusal(&s),
            "container is paused and must be unpaused first"
        );
    }
}
