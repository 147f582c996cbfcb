//! `docker commit` and `docker diff` on the daemon side: the container's
//! changes ([`Changes`]) as `diff` lines, or written as a layer and handed
//! to the image store with the container's config; the `commit` event.

use super::changes::{Change, Changes};
use super::view::Layout;
use super::{blocking, FsError};
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::store::Entry;
use serde_json::Value;
use std::io::{Seek, Write};
use std::sync::Arc;

/// `POST /commit`'s parameters.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    /// `repo[:tag]` for the new image.
    pub reference: Option<String>,
    pub comment: String,
    pub author: String,
    /// Dockerfile instructions (`--change`).
    pub changes: Vec<String>,
    /// Pause the container while its changes are read.
    pub pause: bool,
    /// A config sent in the request body: its fields replace the container's.
    pub config: Option<Value>,
}

impl Daemon {
    /// `GET /containers/{id}/changes`.
    pub async fn container_changes(&self, key: &str) -> Result<Vec<Change>> {
        let entry = self.containers.get(key)?;
        let bundle = self.config.container_dir(&entry.id);
        blocking(move || {
            let layout =
                Layout::of_bundle(&bundle).map_err(|e| FsError::io("read rootfs.json", e))?;
            let c = Changes::scan(&layout.upper, &layout.lowers)
                .map_err(|e| FsError::io("read the container's changes", e))?;
            Ok(c.list())
        })
        .await
    }

    /// `POST /commit?container=`: returns the new image's ID. With `pause`,
    /// a running container is frozen while its changes are read (`pause`,
    /// `commit`, `unpause` events, as Docker).
    pub async fn commit(self: &Arc<Self>, key: &str, opts: CommitOptions) -> Result<String> {
        let entry = self.containers.get(key)?;
        let pause = opts.pause && {
            let rec = entry.lock();
            rec.state.running && !rec.state.paused
        };
        if pause {
            self.pause(&entry.id).await.map_err(|e| {
                Error::new(
                    e.kind,
                    format!("Error pausing container {key}: {}", e.message),
                )
            })?;
        }
        let made = self.commit_changes(&entry, &opts).await;
        // Events name the reference in its familiar form (`repo:tag`).
        let reference = opts
            .reference
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| match berth_image::Reference::parse(r) {
                Ok(p) => p.with_default_tag().familiar(),
                Err(_) => r.to_string(),
            });
        if let Ok(id) = &made {
            let attrs = [
                ("comment", opts.comment.clone()),
                ("imageID", id.clone()),
                ("imageRef", reference.clone().unwrap_or_default()),
            ];
            self.emit_container(&entry.lock(), "commit", &attrs);
        }
        if pause {
            let _ = self.unpause(&entry.id).await;
        }
        let id = made?;
        if let Some(r) = &reference {
            self.emit_image("tag", r);
        }
        Ok(id)
    }

    /// Writes the container's changes as a layer and records the image.
    async fn commit_changes(&self, entry: &Entry, opts: &CommitOptions) -> Result<String> {
        let (record, bundle) = {
            let rec = entry.lock();
            (rec.clone(), self.config.container_dir(&rec.id))
        };
        let mut config =
            serde_json::to_value(&record.config).map_err(|e| Error::internal(e.to_string()))?;
        if let (Some(Value::Object(over)), Value::Object(base)) = (&opts.config, &mut config) {
            for (k, v) in over {
                base.insert(k.clone(), v.clone());
            }
        }
        let images = self.images.clone();
        let tmp = self.config.data_root.join("tmp");
        let o = opts.clone();
        blocking(move || {
            let layout =
                Layout::of_bundle(&bundle).map_err(|e| FsError::io("read rootfs.json", e))?;
            let changes = Changes::scan(&layout.upper, &layout.lowers)
                .map_err(|e| FsError::io("read the container's changes", e))?;
            // Written whole first: a layer that failed halfway never reaches the store.
            std::fs::create_dir_all(&tmp)?;
            let mut f = tempfile_in(&tmp)?;
            changes
                .write_layer(&mut f)
                .and_then(|w| w.flush())
                .map_err(|e| FsError::io("write the container's changes", e))?;
            f.rewind()?;
            let req = berth_image::CommitRequest {
                parent: &record.image,
                container_id: &record.id,
                container_config: &config,
                changes: &o.changes,
                author: &o.author,
                comment: &o.comment,
                reference: o.reference.as_deref(),
            };
            Ok(images.commit(&req, f)?)
        })
        .await
    }
}

/// An unnamed temporary file in `dir` (gone when closed, even after a crash).
fn tempfile_in(dir: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .mode(0o600)
        .open(dir)
}
