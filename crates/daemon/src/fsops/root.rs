//! A container's root directory held as a file descriptor, and every lookup
//! of a container path inside it.
//!
//! The container owns the files under its root and may plant any symlink
//! there (`/x -> /etc`, `a -> ../../..`) or swap a directory for a symlink
//! while berth works (CVE-2018-15664). So no path is ever handed to the
//! kernel from the host's `/`: lookups go through `openat2` with
//! `RESOLVE_IN_ROOT` (symlinks and `..` are resolved as if the root were
//! `/`; magic links refused), and what is then done to the last component
//! uses the parent's descriptor with `O_NOFOLLOW`-style calls. Whatever
//! the container swaps meanwhile, the worst case is an error or an object
//! that is still inside the root.

use super::sys;
use nix::errno::Errno;
use nix::fcntl::{OFlag, ResolveFlag};
use nix::sys::stat::FileStat;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// More symlinks than this while resolving one path is a loop (Linux's limit).
const MAX_LINKS: u32 = 40;

/// A container path as the archive API reads it: absolute, cleaned
/// lexically, with a trailing `/` or `/.` remembered (they ask for the last
/// component to be followed, and `/.` for a directory's contents).
#[derive(Debug, Clone, PartialEq)]
pub struct CPath {
    comps: Vec<OsString>,
    /// The request ended in `/` or `/.`.
    pub trailing: bool,
    /// The request ended in `/.`.
    pub dot: bool,
}

impl CPath {
    pub fn parse(raw: &str) -> CPath {
        let mut comps: Vec<OsString> = Vec::new();
        for c in raw.split('/') {
            match c {
                "" | "." => {}
                ".." => {
                    comps.pop();
                }
                c => comps.push(c.into()),
            }
        }
        let dot = raw == "." || raw.ends_with("/.");
        CPath {
            comps,
            trailing: dot || raw.ends_with('/'),
            dot,
        }
    }

    /// The absolute cleaned path (without the trailing marker).
    pub fn abs(&self) -> PathBuf {
        let mut p = PathBuf::from("/");
        p.extend(&self.comps);
        p
    }

    pub fn is_root(&self) -> bool {
        self.comps.is_empty()
    }

    /// Docker's name for what the path designates: `/` for the root, `.`
    /// for `dir/.`, else the last component.
    pub fn base_name(&self) -> OsString {
        if self.dot {
            ".".into()
        } else {
            self.comps.last().cloned().unwrap_or_else(|| "/".into())
        }
    }
}

/// What a path designates: a directory reached by following the whole path
/// (trailing `/`, `/.`, or the root), or an entry of a resolved parent.
pub enum Node {
    Dir(OwnedFd),
    Entry { parent: OwnedFd, name: OsString },
}

impl Node {
    /// `lstat` of the node (the symlink itself for an entry).
    pub fn stat(&self) -> io::Result<FileStat> {
        match self {
            Node::Dir(fd) => sys::fstat(fd.as_fd()),
            Node::Entry { parent, name } => sys::lstatat(parent.as_fd(), name),
        }
    }
}

/// A container's root directory.
pub struct Root {
    fd: OwnedFd,
}

const IN_ROOT: ResolveFlag = ResolveFlag::RESOLVE_IN_ROOT.union(ResolveFlag::RESOLVE_NO_MAGICLINKS);

impl Root {
    /// Opens the directory `path` (following it: `/proc/<pid>/root` is a
    /// magic link to the container's root) as the root.
    pub fn open(path: &Path) -> io::Result<Root> {
        let fd = nix::fcntl::open(
            path,
            OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(sys::err)?;
        // SAFETY: fresh descriptor owned by no one else.
        Ok(Root::from_fd(unsafe {
            std::os::fd::FromRawFd::from_raw_fd(fd)
        }))
    }

    pub fn from_fd(fd: OwnedFd) -> Root {
        Root { fd }
    }

    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens the container path `path` with `flags`, resolved inside the root.
    pub fn open_path(&self, path: &Path, flags: OFlag) -> io::Result<OwnedFd> {
        let rel = path.strip_prefix("/").unwrap_or(path);
        let rel = if rel.as_os_str().is_empty() {
            OsStr::new(".")
        } else {
            rel.as_os_str()
        };
        sys::openat2(self.as_fd(), rel, flags, IN_ROOT)
    }

    /// Docker's `ResolvePath`: the parent is resolved (symlinks followed
    /// inside the root), the last component is not, unless the path ends in
    /// `/` or `/.` or is the root.
    pub fn lookup(&self, p: &CPath) -> io::Result<Node> {
        if p.trailing || p.is_root() {
            let fd = self.open_path(&p.abs(), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
            return Ok(Node::Dir(fd));
        }
        let abs = p.abs();
        let parent = abs.parent().unwrap_or(Path::new("/"));
        let name = p.base_name();
        let parent = self.open_path(parent, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
        Ok(Node::Entry { parent, name })
    }

    /// The container path `path` designates once every symlink in it is
    /// followed inside the root, as an absolute path (Docker's
    /// `FollowSymlinkInScope`). Components that do not exist are kept as
    /// they are.
    pub fn logical(&self, path: &Path) -> io::Result<PathBuf> {
        let mut queue: VecDeque<OsString> = comps_of(path.as_os_str()).collect();
        let mut names: Vec<OsString> = Vec::new();
        let mut dirs: Vec<OwnedFd> = vec![self.open_path(Path::new("/"), OFlag::O_PATH)?];
        let mut links = 0;
        while let Some(c) = queue.pop_front() {
            if c == ".." {
                if names.pop().is_some() {
                    dirs.pop();
                }
                continue;
            }
            let Some(cur) = dirs.last() else {
                break;
            };
            let st = match sys::lstatat(cur.as_fd(), &c) {
                Ok(st) => st,
                Err(e) if sys::is(&e, Errno::ENOENT) || sys::is(&e, Errno::ENOTDIR) => {
                    names.push(c);
                    names.extend(queue.drain(..).filter(|c| c != ".."));
                    break;
                }
                Err(e) => return Err(e),
            };
            if sys::kind(&st) == nix::sys::stat::SFlag::S_IFLNK {
                links += 1;
                if links > MAX_LINKS {
                    return Err(sys::err(Errno::ELOOP));
                }
                let target = sys::readlinkat(cur.as_fd(), &c)?;
                if target.as_bytes().starts_with(b"/") {
                    names.clear();
                    dirs.truncate(1);
                }
                for t in comps_of(&target).collect::<Vec<_>>().into_iter().rev() {
                    queue.push_front(t);
                }
                continue;
            }
            if sys::is_dir(&st) {
                let fd = sys::openat(
                    cur.as_fd(),
                    &c,
                    OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
                    0,
                )?;
                dirs.push(fd);
                names.push(c);
            } else {
                names.push(c);
                names.extend(queue.drain(..).filter(|c| c != ".."));
                break;
            }
        }
        let mut out = PathBuf::from("/");
        out.extend(names);
        Ok(out)
    }

    /// `mkdir -p` of `comps` below the container directory `base`: every
    /// step is resolved inside the root; returns the last directory.
    pub fn ensure_dir(&self, base: &Path, comps: &[&OsStr]) -> io::Result<OwnedFd> {
        let flags = OFlag::O_PATH | OFlag::O_DIRECTORY;
        let mut path = base.to_path_buf();
        let mut fd = self.open_path(&path, flags)?;
        for c in comps {
            path.push(c);
            fd = match self.open_path(&path, flags) {
                Ok(f) => f,
                Err(e) if sys::is(&e, Errno::ENOENT) => {
                    match sys::mkdirat(fd.as_fd(), c, 0o755) {
                        Ok(()) => {}
                        Err(e) if sys::is(&e, Errno::EEXIST) => {}
                        Err(e) => return Err(e),
                    }
                    self.open_path(&path, flags)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(fd)
    }
}

/// The components of a path (`.` dropped, `..` kept for the resolver).
fn comps_of(p: &OsStr) -> impl Iterator<Item = OsString> + '_ {
    p.as_bytes()
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsStr::from_bytes(c).to_os_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    /// `(tempdir, root dir, outside dir with a victim file)`; the root holds
    /// hostile symlinks pointing at the outside through every route.
    pub(crate) fn hostile() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let outside = t.path().join("outside");
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("victim"), b"host secret").unwrap();
        fs::write(root.join("etc/passwd"), b"root:x:0:0").unwrap();
        symlink(&outside, root.join("abs")).unwrap();
        symlink("../../../../../..", root.join("up")).unwrap();
        symlink(
            format!("../../{}", outside.file_name().unwrap().to_str().unwrap()),
            root.join("rel"),
        )
        .unwrap();
        symlink("/etc", root.join("etclink")).unwrap();
        symlink("passwd", root.join("etc/plink")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        (t, root, outside)
    }

    #[test]
    fn parses_paths_like_docker() {
        let p = CPath::parse("/etc/../etc/passwd");
        assert_eq!((p.abs(), p.trailing), (PathBuf::from("/etc/passwd"), false));
        assert_eq!(p.base_name(), "passwd");
        let p = CPath::parse("noa/");
        assert_eq!(
            (p.abs(), p.trailing, p.dot),
            (PathBuf::from("/noa"), true, false)
        );
        let p = CPath::parse("/noa/.");
        assert_eq!((p.base_name(), p.trailing, p.dot), (".".into(), true, true));
        let p = CPath::parse("/");
        assert!(p.is_root());
        assert_eq!(p.base_name(), "/");
        assert_eq!(CPath::parse("/../../x").abs(), PathBuf::from("/x"));
    }

    #[test]
    fn lookups_never_leave_the_root() {
        let (_t, root_dir, outside) = hostile();
        let root = Root::open(&root_dir).unwrap();
        let read = |p: &str| -> io::Result<Vec<u8>> {
            let fd = root.open_path(Path::new(p), OFlag::O_RDONLY)?;
            fs::read(sys::fd_path(fd.as_fd()))
        };
        // Absolute and relative escapes resolve inside the root (and miss).
        assert!(read("/abs/victim").is_err());
        assert!(read("/up/outside/victim").is_err());
        assert!(read("/rel/victim").is_err());
        assert!(read("/../../outside/victim").is_err());
        assert_eq!(read("/up/etc/passwd").unwrap(), b"root:x:0:0");
        assert_eq!(read("/etclink/passwd").unwrap(), b"root:x:0:0");
        assert!(read("/loop").is_err());
        // The last component is not followed unless asked.
        match root.lookup(&CPath::parse("/abs")).unwrap() {
            Node::Entry { name, .. } => assert_eq!(name, "abs"),
            Node::Dir(_) => panic!("followed"),
        }
        assert!(root.lookup(&CPath::parse("/abs/")).is_err());
        assert!(root.lookup(&CPath::parse("/etclink/")).is_ok());
        // Symlinks resolve to container paths.
        assert_eq!(
            root.logical(Path::new("/etc/plink")).unwrap(),
            PathBuf::from("/etc/passwd")
        );
        assert_eq!(
            root.logical(Path::new("/up/etclink/x/y")).unwrap(),
            PathBuf::from("/etc/x/y")
        );
        assert_eq!(root.logical(Path::new("/abs")).unwrap(), outside.clone());
        assert!(root.logical(Path::new("/loop")).is_err());
        // mkdir -p through hostile links creates inside the root only.
        root.ensure_dir(Path::new("/up"), &[OsStr::new("made"), OsStr::new("deep")])
            .unwrap();
        assert!(root_dir.join("made/deep").is_dir());
        assert!(root
            .ensure_dir(Path::new("/"), &[OsStr::new("abs"), OsStr::new("x")])
            .is_err());
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
    }
}
