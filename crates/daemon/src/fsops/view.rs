//! The root a container's files are reached through.
//!
//! A running container is seen through `/proc/<pid>/root`: its own mount
//! namespace, volumes and bind mounts included, and writes land where the
//! container would make them.
//!
//! A stopped container's rootfs is not mounted anywhere. A helper thread
//! unshares its mount namespace (made private first, so nothing propagates
//! back), mounts the overlay there (`nodev,nosuid`; read-only with the upper
//! directory as the top lower layer for reads, or with upper and work for
//! writes), binds the bundle's bind mounts on top (resolved inside the
//! rootfs), hands the root descriptor back and waits. Dropping the [`View`]
//! ends the thread and with it the namespace and its mounts: the host never
//! sees any of them.

use super::root::Root;
use super::sys;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::mount::{mount, MsFlags};
use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

const NONE: Option<&str> = None;

/// Whether the view will be written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// A container's overlay layers, from its bundle.
#[derive(Debug, Clone)]
pub struct Layout {
    pub upper: PathBuf,
    pub work: PathBuf,
    /// Top layer first.
    pub lowers: Vec<PathBuf>,
    /// `<bundle>/rootfs`: where the overlay is mounted inside the private namespace.
    pub mountpoint: PathBuf,
}

impl Layout {
    /// Reads `rootfs.json` of the bundle for its lower layers.
    pub fn of_bundle(bundle: &Path) -> io::Result<Layout> {
        let raw = std::fs::read(bundle.join("rootfs.json"))?;
        let mounts: Vec<berth_runtime::spec::Mount> =
            serde_json::from_slice(&raw).map_err(io::Error::other)?;
        let lowers = mounts
            .iter()
            .flat_map(|m| &m.options)
            .find_map(|o| o.strip_prefix("lowerdir="))
            .map(|l| l.split(':').map(PathBuf::from).collect())
            .unwrap_or_default();
        Ok(Layout {
            upper: bundle.join("upper"),
            work: bundle.join("work"),
            lowers,
            mountpoint: bundle.join("rootfs"),
        })
    }
}

/// One bind mount of the container (volumes, `-v`, the etc files).
#[derive(Debug, Clone, PartialEq)]
pub struct Bind {
    pub source: PathBuf,
    pub destination: String,
    pub readonly: bool,
    pub recursive: bool,
}

/// The bind mounts of the bundle's `config.json`, in mount order.
pub fn binds_of_bundle(bundle: &Path) -> io::Result<Vec<Bind>> {
    let raw = std::fs::read(bundle.join("config.json"))?;
    let spec: berth_runtime::spec::Spec = serde_json::from_slice(&raw).map_err(io::Error::other)?;
    Ok(spec
        .mounts
        .iter()
        .filter(|m| m.kind == "bind" || m.options.iter().any(|o| o == "bind" || o == "rbind"))
        .map(|m| Bind {
            source: PathBuf::from(&m.source),
            destination: m.destination.clone(),
            readonly: m.options.iter().any(|o| o == "ro"),
            recursive: m.options.iter().any(|o| o == "rbind"),
        })
        .collect())
}

/// The helper thread that holds a private mount namespace.
struct NsThread {
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for NsThread {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A container root and what keeps it reachable.
pub struct View {
    pub root: Root,
    /// Mounts archives do not enter: the running container's `/dev`, which
    /// Docker's view of a container does not have either.
    pub skip_mounts: Vec<u64>,
    // Dropped after `root`.
    _ns: Option<NsThread>,
}

impl View {
    /// The running container whose init is `pid`.
    pub fn running(pid: i32) -> io::Result<View> {
        let root = Root::open(Path::new(&format!("/proc/{pid}/root")))?;
        let mut skip_mounts = Vec::new();
        if let Ok(dev) = root.open_path(Path::new("/dev"), OFlag::O_PATH | OFlag::O_DIRECTORY) {
            let (r, d) = (sys::mount_id(root.as_fd()), sys::mount_id(dev.as_fd()));
            if let (Ok(r), Ok(d)) = (r, d) {
                if r != d {
                    skip_mounts.push(d);
                }
            }
        }
        Ok(View {
            root,
            skip_mounts,
            _ns: None,
        })
    }

    /// The stopped container's rootfs (and `binds`) in a private namespace.
    pub fn private(layout: &Layout, access: Access, binds: &[Bind]) -> io::Result<View> {
        let (tx, rx) = mpsc::channel::<io::Result<OwnedFd>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let layout = layout.clone();
        let binds = binds.to_vec();
        let handle = std::thread::Builder::new()
            .name("berth-fsview".into())
            .spawn(move || {
                // This thread's namespace must never serve anything else:
                // it ends with the thread.
                let r = setup(&layout, access, &binds);
                let ok = r.is_ok();
                let _ = tx.send(r);
                if ok {
                    let _ = stop_rx.recv();
                }
            })?;
        let ns = NsThread {
            stop: Some(stop_tx),
            handle: Some(handle),
        };
        let fd = rx
            .recv()
            .map_err(|_| io::Error::other("mount helper thread died"))??;
        Ok(View {
            root: Root::from_fd(fd),
            skip_mounts: Vec::new(),
            _ns: Some(ns),
        })
    }
}

/// Runs in the helper thread: new namespace, overlay, binds; the root fd.
fn setup(layout: &Layout, access: Access, binds: &[Bind]) -> io::Result<OwnedFd> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(sys::err)?;
    mount(NONE, "/", NONE, MsFlags::MS_REC | MsFlags::MS_PRIVATE, NONE).map_err(sys::err)?;
    let mp = &layout.mountpoint;
    let join = |ps: &[&Path]| -> String {
        ps.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    };
    let lowers: Vec<&Path> = layout.lowers.iter().map(PathBuf::as_path).collect();
    let base = MsFlags::MS_NODEV | MsFlags::MS_NOSUID;
    match access {
        Access::Write => {
            let data = format!(
                "lowerdir={},upperdir={},workdir={}",
                join(&lowers),
                layout.upper.display(),
                layout.work.display()
            );
            mount(
                Some("overlay"),
                mp,
                Some("overlay"),
                base,
                Some(data.as_str()),
            )
            .map_err(sys::err)?;
        }
        Access::Read if lowers.is_empty() => {
            mount(Some(&layout.upper), mp, NONE, MsFlags::MS_BIND, NONE).map_err(sys::err)?;
            let flags = base | MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
            mount(NONE, mp, NONE, flags, NONE).map_err(sys::err)?;
        }
        Access::Read => {
            let mut all = vec![layout.upper.as_path()];
            all.extend(lowers);
            let data = format!("lowerdir={}", join(&all));
            let flags = base | MsFlags::MS_RDONLY;
            mount(
                Some("overlay"),
                mp,
                Some("overlay"),
                flags,
                Some(data.as_str()),
            )
            .map_err(sys::err)?;
        }
    }
    let root = Root::open(mp)?;
    for b in binds {
        bind_into(&root, b, access)?;
    }
    sys::openat(
        root.as_fd(),
        OsStr::new("."),
        OFlag::O_PATH | OFlag::O_DIRECTORY,
        0,
    )
}

/// Mounts `b` at its destination inside `root` (created for writes, as the
/// runtime would; skipped for reads when missing or when its source is gone).
fn bind_into(root: &Root, b: &Bind, access: Access) -> io::Result<()> {
    let source_meta = match std::fs::metadata(&b.source) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let dest = Path::new(&b.destination);
    let target = match root.open_path(dest, OFlag::O_PATH) {
        Ok(fd) => fd,
        Err(e) if sys::is(&e, Errno::ENOENT) && access == Access::Write => {
            create_target(root, dest, source_meta.is_dir())?;
            root.open_path(dest, OFlag::O_PATH)?
        }
        Err(e) if sys::is(&e, Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut flags = MsFlags::MS_BIND;
    if b.recursive {
        flags |= MsFlags::MS_REC;
    }
    mount(
        Some(&b.source),
        sys::fd_path(target.as_fd()).as_str(),
        NONE,
        flags,
        NONE,
    )
    .map_err(sys::err)?;
    if b.readonly {
        let top = root.open_path(dest, OFlag::O_PATH)?;
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        mount(NONE, sys::fd_path(top.as_fd()).as_str(), NONE, flags, NONE).map_err(sys::err)?;
    }
    Ok(())
}

/// Creates a missing mount point: a directory, or an empty file for a file bind.
fn create_target(root: &Root, dest: &Path, dir: bool) -> io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("/"));
    let Some(name) = dest.file_name() else {
        return Ok(());
    };
    let comps: Vec<&OsStr> = parent
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let pfd = root.ensure_dir(Path::new("/"), &comps)?;
    let r = if dir {
        sys::mkdirat(pfd.as_fd(), name, 0o755)
    } else {
        sys::openat(
            pfd.as_fd(),
            name,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW,
            0o755,
        )
        .map(drop)
    };
    match r {
        Err(e) if !sys::is(&e, Errno::EEXIST) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn mounts_mentioning(s: &str) -> usize {
        fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| l.contains(s))
            .count()
    }

    #[test]
    fn private_views_merge_layers_and_never_touch_the_host() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        for d in ["upper", "work", "rootfs", "l1/etc", "l2/etc", "vol"] {
            fs::create_dir_all(p.join(d)).unwrap();
        }
        fs::write(p.join("l2/etc/base"), b"base").unwrap();
        fs::write(p.join("l1/etc/top"), b"top").unwrap();
        fs::write(p.join("upper/new"), b"new").unwrap();
        fs::write(p.join("vol/v"), b"volume").unwrap();
        let layout = Layout {
            upper: p.join("upper"),
            work: p.join("work"),
            lowers: vec![p.join("l1"), p.join("l2")],
            mountpoint: p.join("rootfs"),
        };
        let binds = vec![Bind {
            source: p.join("vol"),
            destination: "/data".into(),
            readonly: true,
            recursive: false,
        }];
        let needle = p.display().to_string();
        let before = mounts_mentioning(&needle);
        {
            let v = View::private(&layout, Access::Read, &binds).unwrap();
            let read = |path: &str| {
                let fd = v.root.open_path(Path::new(path), OFlag::O_RDONLY).unwrap();
                fs::read(sys::fd_path(fd.as_fd())).unwrap()
            };
            assert_eq!(read("/etc/base"), b"base");
            assert_eq!(read("/etc/top"), b"top");
            assert_eq!(read("/new"), b"new");
            // Read views skip binds whose mount point does not exist.
            assert!(v
                .root
                .open_path(Path::new("/data/v"), OFlag::O_RDONLY)
                .is_err());
            assert_eq!(mounts_mentioning(&needle), before);
        }
        {
            let v = View::private(&layout, Access::Write, &binds).unwrap();
            let fd = v
                .root
                .open_path(Path::new("/data/v"), OFlag::O_RDONLY)
                .unwrap();
            assert_eq!(fs::read(sys::fd_path(fd.as_fd())).unwrap(), b"volume");
            // The volume is read-only; the rootfs is not.
            let data = v.root.open_path(Path::new("/data"), OFlag::O_PATH).unwrap();
            assert!(sys::mkdirat(data.as_fd(), OsStr::new("x"), 0o755).is_err());
            let etc = v.root.open_path(Path::new("/etc"), OFlag::O_PATH).unwrap();
            sys::mkdirat(etc.as_fd(), OsStr::new("made"), 0o755).unwrap();
            assert_eq!(mounts_mentioning(&needle), before);
        }
        // The write went to the upper directory, the mount point stayed empty.
        assert!(p.join("upper/etc/made").is_dir());
        assert!(p.join("upper/data").is_dir());
        assert_eq!(fs::read_dir(p.join("rootfs")).unwrap().count(), 0);
        assert_eq!(mounts_mentioning(&needle), before);
    }
}
