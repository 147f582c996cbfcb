//! The archive API behind `docker cp`: `HEAD` (stat of a path),
//! `GET` (a tar of it) and `PUT` (a tar extracted into a directory) on
//! `/containers/{id}/archive`, with Docker's path rules, errors and events
//! (`archive-path`, `extract-to-dir`).
//!
//! A running container is worked on through its own view of its files; a
//! stopped one through its rootfs mounted privately ([`super::view`]). A
//! write to a stopped container holds the container's operation lock, so
//! it cannot start (and mount the same upper directory) meanwhile.

use super::extract::{self, ExtractError};
use super::root::{CPath, Node, Root};
use super::tarwrite::TarOut;
use super::view::{binds_of_bundle, Access, Layout, View};
use super::{blocking, sys, FsError};
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use crate::store::Entry;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, SFlag};
use serde_json::json;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;

/// Docker's `ContainerPathStat`.
#[derive(Debug, Clone, PartialEq)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode` bits.
    pub mode: u32,
    /// RFC 3339 with nanoseconds.
    pub mtime: String,
    pub link_target: String,
}

impl PathStat {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "size": self.size,
            "mode": self.mode,
            "mtime": self.mtime,
            "linkTarget": self.link_target,
        })
    }
}

const GO_DIR: u32 = 1 << 31;

/// A Unix `st_mode` as Go's `os.FileMode`.
pub fn go_mode(st_mode: u32) -> u32 {
    let mut m = st_mode & 0o777;
    m |= match SFlag::from_bits_truncate(st_mode & libc::S_IFMT) {
        SFlag::S_IFDIR => GO_DIR,
        SFlag::S_IFLNK => 1 << 27,
        SFlag::S_IFBLK => 1 << 26,
        SFlag::S_IFCHR => (1 << 26) | (1 << 21),
        SFlag::S_IFIFO => 1 << 25,
        SFlag::S_IFSOCK => 1 << 24,
        _ => 0,
    };
    if st_mode & libc::S_ISUID != 0 {
        m |= 1 << 23;
    }
    if st_mode & libc::S_ISGID != 0 {
        m |= 1 << 22;
    }
    if st_mode & libc::S_ISVTX != 0 {
        m |= 1 << 20;
    }
    m
}

fn mtime_of(st: &FileStat) -> String {
    berth_util::time::format_rfc3339(st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128)
}

/// A path ready to be archived: its stat, and the job that writes the tar.
pub struct ArchiveJob {
    view: View,
    node: Node,
    name: Vec<u8>,
}

impl ArchiveJob {
    /// Writes the tar (blocking). Entries are named from the requested
    /// path's last component (`/` for the root, `.` for `dir/.`).
    pub fn write_to<W: Write>(self, w: W) -> io::Result<()> {
        let mut out = TarOut::new(w);
        out.skip_mounts = self.view.skip_mounts.clone();
        match &self.node {
            Node::Dir(fd) => {
                let dir = sys::openat(
                    fd.as_fd(),
                    std::ffi::OsStr::new("."),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY,
                    0,
                )?;
                let prefix = dir_prefix(&self.name);
                out.dir_header(dir.as_fd(), &prefix)?;
                out.tree(dir.as_fd(), &prefix)?;
            }
            Node::Entry { parent, name } => {
                if let Some(dir) = out.entry(parent.as_fd(), name, &self.name)? {
                    out.tree(dir.as_fd(), &dir_prefix(&self.name))?;
                }
            }
        }
        out.finish()?.flush()
    }
}

/// `name/` (just `/` for the root).
fn dir_prefix(name: &[u8]) -> Vec<u8> {
    let mut p = name.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p
}

/// How `PUT` extracts.
#[derive(Debug, Clone, Copy, Default)]
pub struct PutOptions {
    pub no_overwrite_dir_non_dir: bool,
    pub copy_uid_gid: bool,
}

fn empty_path() -> Error {
    Error::invalid("bad parameter: pathcannot be empty")
}

/// A lookup error as the API words it.
fn lookup_error(e: io::Error, path: &str, container: &str) -> Error {
    if sys::is(&e, Errno::ENOENT) {
        return FsError::NotFound {
            path: path.to_string(),
            container: container.to_string(),
        }
        .into();
    }
    FsError::io(format!("lstat {path}"), e).into()
}

impl Daemon {
    /// The view of `entry` for `access`.
    fn open_view(&self, entry: &Entry, access: Access) -> Result<View> {
        let (running, pid) = {
            let r = entry.lock();
            (r.state.running, r.state.pid)
        };
        if running && pid > 0 {
            return View::running(pid)
                .map_err(|e| FsError::io("open the container's root", e).into());
        }
        let bundle = self.config.container_dir(&entry.id);
        let layout = Layout::of_bundle(&bundle).map_err(|e| FsError::io("read rootfs.json", e))?;
        let binds = binds_of_bundle(&bundle).map_err(|e| FsError::io("read config.json", e))?;
        View::private(&layout, access, &binds)
            .map_err(|e| FsError::io("mount the container's filesystem", e).into())
    }

    /// Stat of the node `path` designates in `view`.
    fn stat_node(view: &View, node: &Node, path: &CPath, raw: &str, key: &str) -> Result<PathStat> {
        let st = node.stat().map_err(|e| lookup_error(e, raw, key))?;
        let mut link_target = String::new();
        if sys::kind(&st) == SFlag::S_IFLNK {
            link_target = view
                .root
                .logical(&path.abs())
                .map_err(|e| lookup_error(e, raw, key))?
                .display()
                .to_string();
        }
        Ok(PathStat {
            name: path.base_name().to_string_lossy().into_owned(),
            size: st.st_size,
            mode: go_mode(st.st_mode),
            mtime: mtime_of(&st),
            link_target,
        })
    }

    /// `HEAD /containers/{id}/archive?path=`.
    pub async fn stat_path(self: &Arc<Self>, key: &str, path: &str) -> Result<PathStat> {
        if path.is_empty() {
            return Err(empty_path());
        }
        let entry = self.containers.get(key)?;
        let d = self.clone();
        let (key, raw) = (key.to_string(), path.to_string());
        blocking(move || {
            let view = d.open_view(&entry, Access::Read)?;
            let cpath = CPath::parse(&raw);
            let node = view
                .root
                .lookup(&cpath)
                .map_err(|e| lookup_error(e, &raw, &key))?;
            Daemon::stat_node(&view, &node, &cpath, &raw, &key)
        })
        .await
    }

    /// `GET /containers/{id}/archive?path=`: the stat (for the header) and
    /// the job that writes the tar. Emits `archive-path`.
    pub async fn archive_path(
        self: &Arc<Self>,
        key: &str,
        path: &str,
    ) -> Result<(PathStat, ArchiveJob)> {
        if path.is_empty() {
            return Err(empty_path());
        }
        let entry = self.containers.get(key)?;
        let d = self.clone();
        let (key, raw) = (key.to_string(), path.to_string());
        let e2 = entry.clone();
        let r = blocking(move || {
            let view = d.open_view(&e2, Access::Read)?;
            let cpath = CPath::parse(&raw);
            let node = view
                .root
                .lookup(&cpath)
                .map_err(|e| lookup_error(e, &raw, &key))?;
            let stat = Daemon::stat_node(&view, &node, &cpath, &raw, &key)?;
            let name = cpath.base_name().as_bytes().to_vec();
            Ok((stat, ArchiveJob { view, node, name }))
        })
        .await?;
        self.emit_container(&entry.lock(), "archive-path", &[]);
        Ok(r)
    }

    /// `PUT /containers/{id}/archive?path=`: extracts the tar `r` into the
    /// directory `path`. Emits `extract-to-dir`.
    pub async fn extract_to_dir(
        self: &Arc<Self>,
        key: &str,
        path: &str,
        opts: PutOptions,
        r: impl Read + Send + 'static,
    ) -> Result<()> {
        if path.is_empty() {
            return Err(empty_path());
        }
        let entry = self.containers.get(key)?;
        // A stopped container must stay stopped while its upper directory
        // is mounted here.
        let _op = if entry.lock().state.running {
            None
        } else {
            Some(entry.op.lock().await)
        };
        let d = self.clone();
        let (k, raw) = (key.to_string(), path.to_string());
        let e2 = entry.clone();
        blocking(move || d.extract_blocking(&e2, &k, &raw, opts, r)).await?;
        self.emit_container(&entry.lock(), "extract-to-dir", &[]);
        Ok(())
    }

    fn extract_blocking(
        &self,
        entry: &Entry,
        key: &str,
        raw: &str,
        opts: PutOptions,
        r: impl Read,
    ) -> Result<()> {
        let view = self.open_view(entry, Access::Write)?;
        let root = &view.root;
        let cpath = CPath::parse(raw);
        // The destination's last component is followed: a symlink to a
        // directory is a fine place to extract to.
        let resolved = root
            .logical(&cpath.abs())
            .map_err(|e| lookup_error(e, raw, key))?;
        let dest = root
            .open_path(&resolved, OFlag::O_PATH)
            .map_err(|e| lookup_error(e, raw, key))?;
        let st = sys::fstat(dest.as_fd()).map_err(|e| lookup_error(e, raw, key))?;
        if !sys::is_dir(&st) {
            return Err(FsError::Invalid("extraction point is not a directory".into()).into());
        }
        let (readonly_rootfs, user) = {
            let rec = entry.lock();
            (rec.host_config.readonly_rootfs, rec.config.user.clone())
        };
        if readonly_rootfs && on_root_mount(root, &dest)? {
            return Err(FsError::Invalid("container rootfs is marked read-only".into()).into());
        }
        let chown = if opts.copy_uid_gid && !user.is_empty() {
            Some(container_user(root, &user)?)
        } else {
            None
        };
        let o = extract::Options {
            no_overwrite_dir_non_dir: opts.no_overwrite_dir_non_dir,
            chown,
        };
        extract::extract(root, &resolved, r, o).map_err(|e| match e {
            ExtractError::Io { source, .. } if sys::is(&source, Errno::EROFS) => Error::from(
                FsError::Invalid("mounted volume is marked read-only".into()),
            ),
            ExtractError::Io { .. } => Error::internal(e.to_string()),
            _ => Error::invalid(e.to_string()),
        })
    }
}

/// Whether `fd` is on the same mount as the root (not in a volume).
fn on_root_mount(root: &Root, fd: &std::os::fd::OwnedFd) -> Result<bool> {
    let a = sys::mount_id(root.as_fd()).map_err(|e| FsError::io("statx", e))?;
    let b = sys::mount_id(fd.as_fd()).map_err(|e| FsError::io("statx", e))?;
    Ok(a == b)
}

/// uid and gid of the container's `Config.User`, from its own passwd and group files.
fn container_user(root: &Root, user: &str) -> Result<(u32, u32)> {
    let read = |p: &str| -> String {
        root.open_path(std::path::Path::new(p), OFlag::O_RDONLY | OFlag::O_NOFOLLOW)
            .ok()
            .filter(|fd| sys::fstat(fd.as_fd()).is_ok_and(|st| sys::kind(&st) == SFlag::S_IFREG))
            .and_then(|fd| {
                let mut s = String::new();
                std::fs::File::from(fd)
                    .take(1 << 20)
                    .read_to_string(&mut s)
                    .ok()
                    .map(|_| s)
            })
            .unwrap_or_default()
    };
    let u = berth_runtime::user::resolve(user, &[], &read("/etc/passwd"), &read("/etc/group"))
        .map_err(|e| Error::invalid(e.to_string()))?;
    Ok((u.uid, u.gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_go_file_modes() {
        assert_eq!(go_mode(libc::S_IFDIR | 0o755), 2_147_484_141);
        assert_eq!(go_mode(libc::S_IFREG | 0o4711), 8_389_065);
        assert_eq!(go_mode(libc::S_IFLNK | 0o777), 134_218_239);
        assert_eq!(go_mode(libc::S_IFREG | 0o644), 0o644);
        let s = PathStat {
            name: "noa".into(),
            size: 4096,
            mode: go_mode(libc::S_IFDIR | 0o755),
            mtime: "2026-11-23T17:05:09Z".into(),
            link_target: String::new(),
        };
        assert!(s.mode & GO_DIR != 0);
        assert_eq!(
            s.to_json().to_string(),
            r#"{"name":"noa","size":4096,"mode":2147484141,"mtime":"2026-11-23T17:05:09Z","linkTarget":""}"#
        );
    }
}
