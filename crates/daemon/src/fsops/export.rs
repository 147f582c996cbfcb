//! `docker export`: the container's flattened filesystem as one tar.
//!
//! The rootfs is its layers merged by overlayfs, mounted read-only in a
//! private mount namespace (the upper directory as the top lower layer), so
//! the container's own mounts (`/proc`, `/sys`, `/dev`, volumes, the etc
//! files) are not in it, as with Docker. Docker's init layer is part of
//! what Docker exports: `/.dockerenv`, empty `/etc/hosts`, `/etc/hostname`,
//! `/etc/resolv.conf`, `/etc/mtab -> /proc/mounts`, `/dev/console`,
//! `/dev/pts`, `/dev/shm`, `/proc` and `/sys` appear when the image lacks
//! them. Names are relative (`bin/`, `bin/sh`), in sorted order.

use super::tarwrite::{Synthetic, TarOut};
use super::view::{Access, Layout, View};
use super::{blocking, sys, FsError};
use crate::daemon::Daemon;
use crate::error::Result;
use nix::fcntl::OFlag;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::Arc;

/// Docker's init layer, by directory.
fn init_layer(dir: &[u8]) -> Vec<(&'static str, Synthetic)> {
    match dir {
        b"" => vec![
            (".dockerenv", Synthetic::File),
            ("dev", Synthetic::Dir),
            ("etc", Synthetic::Dir),
            ("proc", Synthetic::Dir),
            ("sys", Synthetic::Dir),
        ],
        b"dev/" => vec![
            ("console", Synthetic::File),
            ("pts", Synthetic::Dir),
            ("shm", Synthetic::Dir),
        ],
        b"etc/" => vec![
            ("hostname", Synthetic::File),
            ("hosts", Synthetic::File),
            ("mtab", Synthetic::Symlink("/proc/mounts")),
            ("resolv.conf", Synthetic::File),
        ],
        _ => Vec::new(),
    }
}

/// A container's filesystem ready to be written.
pub struct ExportJob {
    view: View,
    created: u64,
}

impl ExportJob {
    /// Writes the tar (blocking).
    pub fn write_to<W: Write>(self, w: W) -> io::Result<()> {
        let mut out = TarOut::new(w);
        out.synthetic_mtime = self.created;
        let root = sys::openat(
            self.view.root.as_fd(),
            std::ffi::OsStr::new("."),
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
            0,
        )?;
        out.tree_with(root.as_fd(), b"", &init_layer)?;
        out.finish()?.flush()
    }
}

impl Daemon {
    /// `GET /containers/{id}/export`: mounts the rootfs and returns the job
    /// writing it. Emits `export`.
    pub async fn export(self: &Arc<Self>, key: &str) -> Result<ExportJob> {
        let entry = self.containers.get(key)?;
        let bundle = self.config.container_dir(&entry.id);
        let created = berth_util::time::parse_rfc3339(&entry.lock().created)
            .map(|n| n.div_euclid(1_000_000_000).max(0) as u64)
            .unwrap_or(0);
        let job = blocking(move || {
            let layout =
                Layout::of_bundle(&bundle).map_err(|e| FsError::io("read rootfs.json", e))?;
            let view = View::private(&layout, Access::Read, &[])
                .map_err(|e| FsError::io("mount the container's filesystem", e))?;
            Ok(ExportJob { view, created })
        })
        .await?;
        self.emit_container(&entry.lock(), "export", &[]);
        Ok(job)
    }
}
