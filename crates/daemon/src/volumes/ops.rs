//! The daemon's volume operations: the `/volumes` API (create, list with
//! filters, inspect, remove, prune), volume events, and the hooks the
//! container lifecycle calls: resolve and fill mounts at create, mount at
//! start, unmount at exit, remove anonymous volumes with the container.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};

use super::copyup;
use super::mountpoint::MountPoint;
use super::resolve::{resolve, Env};
use super::store::{CreateRequest, Volume};
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::filters::{label_matches, Filters};
use crate::model::{Config, Container, HostConfig};
use crate::store::Entry;

const LIST_FILTERS: &[&str] = &["dangling", "name", "driver", "label"];
const PRUNE_FILTERS: &[&str] = &["label", "label!", "all"];

/// A boolean filter value as Docker accepts it.
fn filter_bool(key: &str, v: &str) -> Result<bool> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Error::invalid(format!("invalid filter '{key}={v}'"))),
    }
}

impl Daemon {
    fn volume_json(&self, v: &Volume) -> Value {
        v.to_json(&self.volumes.data_path(&v.name))
    }

    fn emit_volume(&self, action: &str, name: &str, extra: &[(&str, String)]) {
        let mut attrs: BTreeMap<String, String> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        attrs.insert("driver".into(), "local".into());
        self.events.emit("volume", action, name, attrs);
    }

    /// IDs of the containers whose records use volume `name`.
    pub fn volume_users(&self, name: &str) -> Vec<String> {
        let mut users: Vec<String> = self
            .containers
            .all()
            .iter()
            .filter(|e| {
                e.lock()
                    .mount_points
                    .iter()
                    .any(|m| m.is_volume() && m.name == name)
            })
            .map(|e| e.id.clone())
            .collect();
        users.sort();
        users
    }

    /// `POST /volumes/create`.
    pub fn create_volume(&self, req: &CreateRequest) -> Result<Value> {
        let (v, created) = self.volumes.create(req, None)?;
        if created {
            self.emit_volume("create", &v.name, &[]);
        }
        Ok(self.volume_json(&v))
    }

    /// `GET /volumes/{name}`.
    pub fn inspect_volume(&self, name: &str) -> Result<Value> {
        Ok(self.volume_json(&self.volumes.get(name, None)?))
    }

    /// `GET /volumes`.
    pub fn list_volumes(&self, filters: &str) -> Result<Value> {
        let f = Filters::parse(filters, LIST_FILTERS)?;
        let dangling = f
            .get("dangling")
            .iter()
            .map(|v| filter_bool("dangling", v))
            .collect::<Result<Vec<bool>>>()?;
        let list: Vec<Value> = self
            .volumes
            .list()
            .iter()
            .filter(|v| {
                f.any("name", |n| v.name.contains(n))
                    && f.any("driver", |d| v.driver == d)
                    && f.get("label")
                        .iter()
                        .all(|l| label_matches(Some(&v.labels), l))
                    && (dangling.is_empty() || {
                        let unused = self.volume_users(&v.name).is_empty();
                        dangling.contains(&unused)
                    })
            })
            .map(|v| self.volume_json(v))
            .collect();
        Ok(json!({"Volumes": list, "Warnings": null}))
    }

    /// `DELETE /volumes/{name}`: refused while a container uses the volume;
    /// `force` only makes a missing volume no error.
    pub fn remove_volume(&self, name: &str, force: bool) -> Result<()> {
        if let Some(v) = self.volumes.remove(name, force, |n| self.volume_users(n))? {
            self.emit_volume("destroy", &v.name, &[]);
        }
        Ok(())
    }

    /// `POST /volumes/prune`: unused anonymous volumes, or every unused
    /// volume with `all=true` (the default of clients older than API 1.42).
    pub fn prune_volumes(&self, filters: &str, all_by_default: bool) -> Result<Value> {
        let f = Filters::parse(filters, PRUNE_FILTERS)?;
        let mut all = all_by_default;
        for v in f.get("all") {
            all = filter_bool("all", v)?;
        }
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        for v in self.volumes.list() {
            let chosen = (all || v.is_anonymous())
                && f.get("label")
                    .iter()
                    .all(|l| label_matches(Some(&v.labels), l))
                && !f
                    .get("label!")
                    .iter()
                    .any(|l| label_matches(Some(&v.labels), l));
            if !chosen {
                continue;
            }
            let size = dir_size(&self.volumes.data_path(&v.name));
            if let Ok(Some(_)) = self.volumes.remove(&v.name, true, |n| self.volume_users(n)) {
                self.emit_volume("destroy", &v.name, &[]);
                reclaimed += size;
                deleted.push(v.name.clone());
            }
        }
        let deleted = if deleted.is_empty() {
            Value::Null
        } else {
            json!(deleted)
        };
        Ok(json!({"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}))
    }

    /// Create hook: resolves the container's mounts (creating volumes) and
    /// fills new volumes from the image. Until [`MountPlan::commit`], the
    /// volumes are held for the container and dropping the plan undoes what
    /// it created.
    pub(crate) async fn resolve_mounts(
        self: &Arc<Self>,
        id: &str,
        config: &Config,
        host: &HostConfig,
        layers: &[PathBuf],
    ) -> Result<MountPlan> {
        let mut env = DaemonEnv {
            daemon: self,
            container: id,
            held: Vec::new(),
            created: Vec::new(),
        };
        let resolved = resolve(&mut env, config, host);
        let mut plan = MountPlan {
            daemon: self.clone(),
            container: id.to_string(),
            points: Vec::new(),
            held: env.held,
            created: env.created,
            committed: false,
        };
        let resolved = resolved?;
        plan.points = resolved.points;
        // Docker creates missing host paths of `-v` binds as directories.
        for dir in &resolved.create_dirs {
            if !std::path::Path::new(dir).exists() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let jobs: Vec<copyup::Job> = resolved
            .copy_up
            .iter()
            .filter_map(|dest| plan.points.iter().find(|p| &p.destination == dest))
            .map(|p| copyup::Job {
                layers: layers.to_vec(),
                destination: p.destination.clone(),
                volume: PathBuf::from(&p.source),
                mount: self
                    .volumes
                    .get(&p.name, None)
                    .ok()
                    .and_then(|v| v.local_mount()),
                scratch: self
                    .volumes
                    .root()
                    .join(format!(".copyup-{}", berth_util::id::random_hex(8))),
            })
            .collect();
        if !jobs.is_empty() {
            tokio::task::spawn_blocking(move || {
                for job in jobs {
                    std::fs::create_dir(&job.scratch)?;
                    let scratch = job.scratch.clone();
                    let copied = copyup::run(job);
                    let _ = std::fs::remove_dir(&scratch);
                    copied.map_err(|e| Error::internal(e.to_string()))?;
                }
                Ok::<(), Error>(())
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        }
        Ok(plan)
    }

    /// Start hook: mounts the container's volumes that have mount options
    /// and emits `mount` for each volume.
    pub(crate) fn mount_volumes(&self, entry: &Entry) -> Result<()> {
        let points: Vec<MountPoint> = entry.lock().mount_points.clone();
        let volumes: Vec<&MountPoint> = points.iter().filter(|p| p.is_volume()).collect();
        for (i, p) in volumes.iter().enumerate() {
            if let Err(e) = self.volumes.acquire_mount(&p.name, &entry.id) {
                for done in &volumes[..i] {
                    self.volumes.release_mount(&done.name, &entry.id);
                }
                return Err(e.into());
            }
        }
        for p in volumes {
            self.emit_volume(
                "mount",
                &p.name,
                &[
                    ("container", entry.id.clone()),
                    ("destination", p.destination.clone()),
                    ("propagation", p.propagation.clone()),
                    ("read/write", p.rw.to_string()),
                ],
            );
        }
        Ok(())
    }

    /// Exit hook: gives up the container's volume mounts; emits `unmount`.
    pub(crate) fn unmount_volumes(&self, entry: &Entry) {
        let points: Vec<MountPoint> = entry.lock().mount_points.clone();
        for p in points.iter().filter(|p| p.is_volume()) {
            if self.volumes.release_mount(&p.name, &entry.id) {
                self.emit_volume("unmount", &p.name, &[("container", entry.id.clone())]);
            }
        }
    }

    /// Remove hook (`rm -v`, `--rm`): the container's anonymous volumes go
    /// too, unless another container still uses them.
    pub(crate) fn remove_anonymous_volumes(&self, rec: &Container) {
        for p in rec
            .mount_points
            .iter()
            .filter(|p| p.is_volume() && p.anonymous)
        {
            if let Ok(Some(_)) = self.volumes.remove(&p.name, true, |n| self.volume_users(n)) {
                self.emit_volume("destroy", &p.name, &[]);
            }
        }
    }

    /// At daemon start: running containers still hold their volumes' mounts.
    pub(crate) fn restore_volume_mounts(&self) {
        let running: Vec<(String, Vec<String>)> = self
            .containers
            .all()
            .iter()
            .filter_map(|e| {
                let rec = e.lock();
                rec.state.running.then(|| {
                    let names = rec
                        .mount_points
                        .iter()
                        .filter(|p| p.is_volume())
                        .map(|p| p.name.clone())
                        .collect();
                    (rec.id.clone(), names)
                })
            })
            .collect();
        self.volumes.restore_mounts(&running);
    }
}

/// Resolution's view of the daemon for one container create.
struct DaemonEnv<'a> {
    daemon: &'a Daemon,
    container: &'a str,
    held: Vec<String>,
    /// Volumes this create made, to undo if it fails.
    created: Vec<String>,
}

impl Env for DaemonEnv<'_> {
    fn container_mounts(&mut self, key: &str) -> Result<Vec<MountPoint>> {
        Ok(self.daemon.containers.get(key)?.lock().mount_points.clone())
    }

    fn volume(&mut self, req: &CreateRequest) -> Result<(String, String)> {
        let (v, created) = self.daemon.volumes.create(req, Some(self.container))?;
        self.held.push(v.name.clone());
        if created {
            self.created.push(v.name.clone());
            self.daemon.emit_volume("create", &v.name, &[]);
        }
        let path = self.daemon.volumes.data_path(&v.name);
        Ok((v.name, path.display().to_string()))
    }

    fn existing_volume(&mut self, name: &str) -> Result<String> {
        self.daemon.volumes.get(name, Some(self.container))?;
        self.held.push(name.to_string());
        Ok(self.daemon.volumes.data_path(name).display().to_string())
    }
}

/// A container's resolved mounts while its create is in progress.
pub struct MountPlan {
    daemon: Arc<Daemon>,
    container: String,
    points: Vec<MountPoint>,
    held: Vec<String>,
    created: Vec<String>,
    committed: bool,
}

impl MountPlan {
    pub fn points(&self) -> &[MountPoint] {
        &self.points
    }

    /// The container's record (now in the index) holds the volumes.
    pub fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for MountPlan {
    fn drop(&mut self) {
        for name in &self.held {
            self.daemon.volumes.release(name, &self.container);
        }
        if self.committed {
            return;
        }
        for name in &self.created {
            let removed = self
                .daemon
                .volumes
                .remove(name, true, |n| self.daemon.volume_users(n));
            if let Ok(Some(_)) = removed {
                self.daemon.emit_volume("destroy", name, &[]);
            }
        }
    }
}

/// Bytes in the files under `dir`, each inode counted once.
fn dir_size(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}
