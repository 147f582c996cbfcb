//! The daemon object: configuration, the image store, the container index,
//! and the rebuild of that index from disk at start.

use crate::config::DaemonConfig;
use crate::error::{Error, Result};
use crate::model::Container;
use crate::store::{Entry, Store};
use std::path::Path;
use std::sync::Arc;

pub struct Daemon {
    pub config: DaemonConfig,
    pub images: Arc<berth_image::Store>,
    pub containers: Store,
    pub events: crate::events::Events,
    /// Exec instances (`crate::exec`).
    pub execs: crate::exec::Execs,
    /// Unique per data root, for `info`.
    pub engine_id: String,
    /// Back-offs and pending restarts of restart policies.
    pub(crate) restarts: crate::restart::Restarts,
    /// Volumes of the `local` driver.
    pub volumes: crate::volumes::Volumes,
    /// Networks and the containers' networking state.
    pub networks: crate::network::Networks,
}

impl Daemon {
    /// Opens (or initialises) the data root and rebuilds state from disk.
    /// Containers whose shim is alive are supervised again; those whose shim
    /// died while the daemon was down are recorded as exited.
    pub async fn open(config: DaemonConfig) -> Result<Arc<Daemon>> {
        std::fs::create_dir_all(config.containers_dir())?;
        crate::trash::sweep(&config.containers_dir());
        std::fs::create_dir_all(&config.exec_root)?;
        let images = Arc::new(berth_image::Store::open(&config.data_root)?);
        let engine_id = engine_id(&config.data_root)?;
        let volumes = crate::volumes::Volumes::open(&config.data_root)?;
        let networks =
            crate::network::Networks::open(&config.data_root, &engine_id, config.network.clone())?;
        let daemon = Arc::new(Daemon {
            config,
            images,
            containers: Store::default(),
            events: Default::default(),
            execs: Default::default(),
            engine_id,
            restarts: Default::default(),
            volumes,
            networks,
        });
        daemon.restore().await?;
        daemon.network_restore();
        daemon.restore_volume_mounts();
        Ok(daemon)
    }

    async fn restore(self: &Arc<Self>) -> Result<()> {
        for dirent in std::fs::read_dir(self.config.containers_dir())? {
            let dir = dirent?.path();
            let Ok(bytes) = std::fs::read(dir.join("container.json")) else {
                // A create that died before its record was written.
                let _ = std::fs::remove_dir_all(&dir);
                continue;
            };
            let record: Container = match serde_json::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("berthd: skipping unreadable record {}: {e}", dir.display());
                    continue;
                }
            };
            let name = record.name.trim_start_matches('/').to_string();
            // A restart pending when berthd stopped has no shim to follow.
            let running = record.state.running && !record.state.restarting;
            let entry = Entry::new(record);
            self.containers.insert(entry.clone(), &name)?;
            if running {
                self.clone().supervise(entry);
            }
        }
        self.restart_on_daemon_start();
        Ok(())
    }

    /// Publishes a container event with Docker's attributes plus `extra`.
    pub fn emit_container(&self, rec: &Container, action: &str, extra: &[(&str, String)]) {
        let mut attrs = crate::events::container_attributes(
            &rec.name,
            &rec.config.image,
            rec.config.labels.as_ref(),
        );
        for (k, v) in extra {
            attrs.insert(k.to_string(), v.clone());
        }
        self.events.emit("container", action, &rec.id, attrs);
    }

    /// Publishes an image event (`name` is the reference or ID acted on).
    pub fn emit_image(&self, action: &str, name: &str) {
        let mut attrs = std::collections::BTreeMap::new();
        attrs.insert("name".to_string(), name.to_string());
        self.events.emit("image", action, name, attrs);
    }

    /// Writes a container's record atomically.
    pub fn persist(&self, record: &Container) -> Result<()> {
        let bytes = serde_json::to_vec(record).map_err(|e| Error::internal(e.to_string()))?;
        berth_util::fs::write_atomic(
            &self.config.container_dir(&record.id).join("container.json"),
            &bytes,
        )?;
        Ok(())
    }
}

fn engine_id(root: &Path) -> Result<String> {
    let p = root.join("engine-id");
    if let Ok(s) = std::fs::read_to_string(&p) {
        return Ok(s.trim().to_string());
    }
    let id = berth_util::id::random_hex(16);
    berth_util::fs::write_atomic(&p, id.as_bytes())?;
    Ok(id)
}
