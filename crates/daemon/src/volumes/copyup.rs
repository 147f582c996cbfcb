//! Copy-up: an empty volume is filled with what the image holds at the
//! volume's path in the container, keeping owners, modes, times, extended
//! attributes, symlinks, hard links and device nodes (Docker's
//! `copyExistingContents`).
//!
//! The work runs on a thread of its own that first moves into a private
//! mount namespace: there the image's layers are stacked read-only with
//! overlayfs (and a volume with mount options is mounted), so nothing is
//! ever mounted in the daemon's namespace, and the mounts die with the
//! thread even if the copy fails halfway.

use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::stat::{mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;

use super::local::{LocalError, LocalMount};

/// One copy-up.
#[derive(Debug, Clone)]
pub struct Job {
    /// The image's layer directories, top first.
    pub layers: Vec<PathBuf>,
    /// The volume's path in the container.
    pub destination: String,
    /// The volume's `_data`.
    pub volume: PathBuf,
    /// Mounted on `volume` for the copy when the volume has mount options.
    pub mount: Option<LocalMount>,
    /// An empty directory to stack the layers on (the caller removes it).
    pub scratch: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("cannot mount volume over existing file, file exists {0}")]
    NotDirectory(String),
    #[error("copy image content of {path} into volume: {source}")]
    Io { path: String, source: io::Error },
    #[error("copy image content into volume: {what}: {source}")]
    Setup { what: String, source: nix::Error },
    #[error(transparent)]
    Mount(#[from] LocalError),
    #[error("copy image content into volume: {0}")]
    Spawn(io::Error),
    #[error("copy image content into volume: worker thread panicked")]
    Panicked,
}

/// Copies the image's content into the volume if the volume is empty and
/// the image has a directory there; `Ok(true)` when something was copied.
pub fn run(job: Job) -> Result<bool, CopyError> {
    std::thread::Builder::new()
        .name("berth-copyup".into())
        .spawn(move || in_private_namespace(&job))
        .map_err(CopyError::Spawn)?
        .join()
        .map_err(|_| CopyError::Panicked)?
}

/// Detaches the listed mounts of this thread's namespace when dropped.
struct Mounted(Vec<PathBuf>);

impl Drop for Mounted {
    fn drop(&mut self) {
        for p in self.0.iter().rev() {
            let _ = umount2(p, MntFlags::MNT_DETACH);
        }
    }
}

fn in_private_namespace(job: &Job) -> Result<bool, CopyError> {
    let setup = |what: &str| {
        let what = what.to_string();
        move |source| CopyError::Setup { what, source }
    };
    if job.layers.is_empty() {
        return Ok(false);
    }
    unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_FS).map_err(setup("unshare"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(setup("make / rslave"))?;
    let mut mounted = Mounted(Vec::new());
    let root = if let [only] = job.layers.as_slice() {
        only.clone()
    } else {
        let lower: Vec<String> = job.layers.iter().map(|p| p.display().to_string()).collect();
        mount(
            Some("overlay"),
            &job.scratch,
            Some("overlay"),
            MsFlags::MS_RDONLY,
            Some(format!("lowerdir={}", lower.join(":")).as_str()),
        )
        .map_err(setup("mount image layers"))?;
        mounted.0.push(job.scratch.clone());
        job.scratch.clone()
    };
    let io_err = |p: &Path| {
        let path = p.display().to_string();
        move |source| CopyError::Io { path, source }
    };
    let source = resolve_in(&root, &job.destination).map_err(io_err(&root))?;
    let meta = match std::fs::metadata(&source) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_err(&source)(e)),
    };
    if !meta.is_dir() {
        return Err(CopyError::NotDirectory(job.destination.clone()));
    }
    if let Some(m) = &job.mount {
        if m.is_tmpfs() {
            return Ok(false);
        }
        m.mount(&job.volume)?;
        mounted.0.push(job.volume.clone());
    }
    let empty = std::fs::read_dir(&job.volume)
        .map_err(io_err(&job.volume))?
        .next()
        .is_none();
    if !empty {
        return Ok(false);
    }
    let mut copier = Copier::default();
    copier.tree(&source, &job.volume).map_err(io_err(&source))?;
    // The volume's root takes the owner and mode of the image's directory.
    std::os::unix::fs::lchown(&job.volume, Some(meta.uid()), Some(meta.gid()))
        .and_then(|()| {
            std::fs::set_permissions(
                &job.volume,
                std::fs::Permissions::from_mode(meta.mode() & 0o7777),
            )
        })
        .map_err(io_err(&job.volume))?;
    drop(mounted);
    Ok(true)
}

/// Resolves `path` inside `root` as the container would: symlinks are
/// followed, absolute ones from `root`, and `..` never leaves `root`.
pub fn resolve_in(root: &Path, path: &str) -> io::Result<PathBuf> {
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, Path::new(path));
    let mut resolved: Vec<OsString> = Vec::new();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                if hops > 255 {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = std::fs::read_link(&candidate)?;
                if target.is_absolute() {
                    resolved.clear();
                }
                push_components(&mut pending, &target);
            }
            _ => resolved.push(part),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(&resolved);
    Ok(out)
}

/// Pushes the components of `p` so that the first one is popped first.
fn push_components(stack: &mut Vec<OsString>, p: &Path) {
    let parts: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    stack.extend(parts.into_iter().rev());
}

/// Copies trees, remembering inodes with several links to link them again.
#[derive(Default)]
struct Copier {
    links: HashMap<(u64, u64), PathBuf>,
}

impl Copier {
    /// Copies the content of directory `src` into the existing directory `dst`.
    fn tree(&mut self, src: &Path, dst: &Path) -> io::Result<()> {
        for entry in std::fs::read_dir(src)? {
            let entry = entry?;
            let from = entry.path();
            let to = dst.join(entry.file_name());
            let meta = std::fs::symlink_metadata(&from)?;
            self.entry(&from, &to, &meta)?;
        }
        Ok(())
    }

    fn entry(&mut self, from: &Path, to: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
        let ft = meta.file_type();
        if !ft.is_dir() && meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.links.get(&key) {
                return std::fs::hard_link(first, to);
            }
            self.links.insert(key, to.to_path_buf());
        }
        if ft.is_dir() {
            std::fs::create_dir(to)?;
            self.tree(from, to)?;
        } else if ft.is_file() {
            std::fs::copy(from, to)?;
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(from)?, to)?;
        } else if ft.is_char_device() || ft.is_block_device() || ft.is_fifo() {
            let kind = if ft.is_char_device() {
                SFlag::S_IFCHR
            } else if ft.is_block_device() {
                SFlag::S_IFBLK
            } else {
                SFlag::S_IFIFO
            };
            let perm = Mode::from_bits_truncate(meta.mode() & 0o7777);
            mknod(to, kind, perm, meta.rdev()).map_err(io::Error::from)?;
        } else {
            // Sockets belong to the process that made them.
            return Ok(());
        }
        set_metadata(from, to, meta)
    }
}

/// Owner, mode (after the owner: chown clears set-id bits), extended
/// attributes and times.
fn set_metadata(from: &Path, to: &Path, meta: &std::fs::Metadata) -> io::Result<()> {
    let symlink = meta.file_type().is_symlink();
    std::os::unix::fs::lchown(to, Some(meta.uid()), Some(meta.gid()))?;
    if !symlink {
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    }
    copy_xattrs(from, to);
    let atime = TimeSpec::new(meta.atime(), meta.atime_nsec());
    let mtime = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
    utimensat(None, to, &atime, &mtime, UtimensatFlags::NoFollowSymlink).map_err(io::Error::from)
}

/// Copies extended attributes, best effort (the target filesystem may not
/// take them all); overlayfs' own are skipped.
fn copy_xattrs(from: &Path, to: &Path) {
    let (Ok(src), Ok(dst)) = (
        CString::new(from.as_os_str().as_bytes()),
        CString::new(to.as_os_str().as_bytes()),
    ) else {
        return;
    };
    // SAFETY: a null buffer of size 0 asks for the needed size.
    let size = unsafe { libc::llistxattr(src.as_ptr(), std::ptr::null_mut(), 0) };
    if size <= 0 {
        return;
    }
    let mut names = vec![0u8; size as usize];
    // SAFETY: `names` is writable for its whole length.
    let size = unsafe { libc::llistxattr(src.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if size <= 0 {
        return;
    }
    names.truncate(size as usize);
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        if name.starts_with(b"trusted.overlay.") {
            continue;
        }
        let Ok(cname) = CString::new(name) else {
            continue;
        };
        // SAFETY: size query with a null buffer.
        let len = unsafe { libc::lgetxattr(src.as_ptr(), cname.as_ptr(), std::ptr::null_mut(), 0) };
        if len < 0 {
            continue;
        }
        let mut value = vec![0u8; len as usize];
        // SAFETY: `value` is writable for its whole length.
        let len = unsafe {
            libc::lgetxattr(
                src.as_ptr(),
                cname.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        if len < 0 {
            continue;
        }
        // SAFETY: `value` holds `len` initialised bytes.
        unsafe {
            libc::lsetxattr(
                dst.as_ptr(),
                cname.as_ptr(),
                value.as_ptr().cast(),
                len as usize,
                0,
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn resolves_symlinks_inside_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("real/data")).unwrap();
        symlink("/real", root.join("abs")).unwrap();
        symlink("real/data", root.join("rel")).unwrap();
        symlink("../../../../..", root.join("real/up")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        assert_eq!(
            resolve_in(root, "/abs/data").unwrap(),
            root.join("real/data")
        );
        assert_eq!(resolve_in(root, "/rel/").unwrap(), root.join("real/data"));
        assert_eq!(resolve_in(root, "/real/up/etc").unwrap(), root.join("etc"));
        assert_eq!(resolve_in(root, "/../x/./y").unwrap(), root.join("x/y"));
        assert_eq!(
            resolve_in(root, "/loop").unwrap_err().raw_os_error(),
            Some(libc::ELOOP)
        );
    }

    fn job(dir: &Path, layers: Vec<PathBuf>, destination: &str) -> Job {
        let volume = dir.join("vol");
        let scratch = dir.join("scratch");
        std::fs::create_dir_all(&volume).unwrap();
        std::fs::create_dir_all(&scratch).unwrap();
        Job {
            layers,
            destination: destination.into(),
            volume,
            mount: None,
            scratch,
        }
    }

    /// Needs root: two layers stacked, with a whiteout and an opaque-free
    /// merge, a hard link, a symlink, an owner and a setgid directory.
    #[test]
    fn copies_merged_layers_with_metadata() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let (top, bottom) = (dir.path().join("top"), dir.path().join("bottom"));
        std::fs::create_dir_all(bottom.join("data/sub")).unwrap();
        std::fs::write(bottom.join("data/gone"), "x").unwrap();
        std::fs::write(bottom.join("data/sub/f"), "bottom").unwrap();
        std::fs::create_dir_all(top.join("data")).unwrap();
        std::fs::write(top.join("data/a"), "top").unwrap();
        std::fs::hard_link(top.join("data/a"), top.join("data/b")).unwrap();
        symlink("a", top.join("data/link")).unwrap();
        mknod(&top.join("data/gone"), SFlag::S_IFCHR, Mode::empty(), 0).unwrap();
        std::os::unix::fs::lchown(top.join("data/a"), Some(33), Some(44)).unwrap();
        std::fs::set_permissions(top.join("data"), PermissionsExt::from_mode(0o2750)).unwrap();
        std::os::unix::fs::lchown(top.join("data"), Some(33), Some(33)).unwrap();

        let j = job(dir.path(), vec![top.clone(), bottom.clone()], "/data");
        let volume = j.volume.clone();
        assert!(run(j.clone()).unwrap());
        assert_eq!(std::fs::read_to_string(volume.join("a")).unwrap(), "top");
        assert_eq!(
            std::fs::read_to_string(volume.join("sub/f")).unwrap(),
            "bottom"
        );
        assert!(!volume.join("gone").exists(), "whiteout was copied");
        let a = std::fs::metadata(volume.join("a")).unwrap();
        let b = std::fs::metadata(volume.join("b")).unwrap();
        assert_eq!((a.uid(), a.gid()), (33, 44));
        assert_eq!(a.ino(), b.ino(), "hard link not kept");
        assert_eq!(
            std::fs::read_link(volume.join("link")).unwrap(),
            Path::new("a")
        );
        let root = std::fs::metadata(&volume).unwrap();
        assert_eq!(root.mode() & 0o7777, 0o2750);
        assert_eq!(root.uid(), 33);
        assert!(!crate::volumes::local::is_mounted(&j.scratch));

        // Not empty any more: nothing is copied again.
        std::fs::remove_file(volume.join("a")).unwrap();
        assert!(!run(j).unwrap());
        assert!(!volume.join("a").exists());
    }

    #[test]
    fn missing_path_and_files() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let layer = dir.path().join("layer");
        std::fs::create_dir_all(layer.join("etc")).unwrap();
        std::fs::write(layer.join("etc/passwd"), "root").unwrap();
        let j = job(dir.path(), vec![layer.clone()], "/nope");
        assert!(!run(j).unwrap());
        let j = job(dir.path(), vec![layer], "/etc/passwd");
        assert_eq!(
            run(j).unwrap_err().to_string(),
            "cannot mount volume over existing file, file exists /etc/passwd"
        );
    }
}
