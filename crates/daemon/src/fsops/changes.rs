//! What a container changed: its upper directory compared with the image's
//! layers, as `docker diff` lists it and as the OCI layer `commit` stores.
//!
//! The upper directory is walked (sorted, without following anything) and
//! each entry is looked up in the lower layers the way overlayfs merges them
//! (top first; a whiteout hides what is below, an opaque directory stops the
//! search, a non-directory hides deeper layers). A whiteout is a deletion
//! (`D`); an entry the layers have is a modification (`C`), else an
//! addition (`A`). A directory that only exists in the upper directory
//! because something below it changed is reported (`C`) only when something
//! below it is, or when its mode or owner changed.
//!
//! Docker keeps what the daemon itself puts into a container (the mount
//! points `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`, `/dev`,
//! `/proc`, `/sys`, and `/.dockerenv`) in a separate init layer that diffs
//! and commits never show; berth's runtime creates them in the upper
//! directory, so they are left out here, and `/etc` counts as part of the
//! image.

use super::sys;
use super::tarwrite::TarOut;
use nix::errno::Errno;
use nix::fcntl::{OFlag, ResolveFlag};
use nix::sys::stat::FileStat;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Docker's change kinds (the API's `Kind` numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modify = 0,
    Add = 1,
    Delete = 2,
}

impl ChangeKind {
    /// The letter `docker diff` prints.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modify => 'C',
            ChangeKind::Add => 'A',
            ChangeKind::Delete => 'D',
        }
    }
}

/// One line of `docker diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

/// Files the daemon or the runtime create in every container.
const INIT_FILES: &[&str] = &[
    "/.dockerenv",
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/etc/mtab",
];
/// Mount points whose whole subtree belongs to the runtime.
const INIT_TREES: &[&str] = &["/dev", "/proc", "/sys"];
/// Directories Docker's init layer provides when the image lacks them.
const INIT_DIRS: &[&str] = &["/etc"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum What {
    Whiteout,
    Dir { opaque: bool, meta_changed: bool },
    Other,
}

/// An entry of the upper directory.
#[derive(Debug, Clone)]
struct Item {
    comps: Vec<OsString>,
    kind: ChangeKind,
    what: What,
    st: FileStat,
}

impl Item {
    fn abs(&self) -> String {
        let mut s = String::new();
        for c in &self.comps {
            s.push('/');
            s.push_str(&c.to_string_lossy());
        }
        s
    }

    fn rel_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, c) in self.comps.iter().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            out.extend_from_slice(c.as_bytes());
        }
        out
    }
}

/// The container's changes: the upper directory against `lowers` (top first).
pub struct Changes {
    upper: OwnedFd,
    items: Vec<Item>,
}

fn open_dir(p: &Path) -> io::Result<OwnedFd> {
    Ok(std::fs::File::open(p)?.into())
}

impl Changes {
    pub fn scan(upper: &Path, lowers: &[PathBuf]) -> io::Result<Changes> {
        let ufd = open_dir(upper)?;
        let lfds = lowers
            .iter()
            .map(|l| open_dir(l))
            .collect::<io::Result<Vec<_>>>()?;
        let mut items = Vec::new();
        walk(ufd.as_fd(), &lfds, &mut Vec::new(), &mut items)?;
        Ok(Changes {
            upper: ufd,
            items: prune(items),
        })
    }

    /// `docker diff`'s lines, parents before children, names sorted.
    pub fn list(&self) -> Vec<Change> {
        self.items
            .iter()
            .map(|i| Change {
                path: i.abs(),
                kind: i.kind,
            })
            .collect()
    }

    /// Writes the changes as an OCI layer: whiteouts become `.wh.<name>`,
    /// opaque directories get a `.wh..wh..opq` entry.
    pub fn write_layer<W: Write>(&self, w: W) -> io::Result<W> {
        let mut out = TarOut::new(w);
        for item in &self.items {
            let path = item.rel_bytes();
            let Some((name, parent)) = item.comps.split_last() else {
                continue;
            };
            let mut dir_prefix = Vec::new();
            for c in parent {
                dir_prefix.extend_from_slice(c.as_bytes());
                dir_prefix.push(b'/');
            }
            match item.what {
                What::Whiteout => out.whiteout(&item.st, &dir_prefix, name)?,
                What::Dir { opaque, .. } => {
                    let pfd = self.parent_fd(parent)?;
                    if out.entry(pfd.as_fd(), name, &path)?.is_some() && opaque {
                        out.opaque(&item.st, &path)?;
                    }
                }
                What::Other => {
                    let pfd = self.parent_fd(parent)?;
                    out.entry(pfd.as_fd(), name, &path)?;
                }
            }
        }
        out.finish()
    }

    /// A directory of the upper directory, reached without following any
    /// symlink (the container may have swapped one in since the scan).
    fn parent_fd(&self, comps: &[OsString]) -> io::Result<OwnedFd> {
        let rel: PathBuf = if comps.is_empty() {
            PathBuf::from(".")
        } else {
            comps.iter().collect()
        };
        sys::openat2(
            self.upper.as_fd(),
            rel.as_os_str(),
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_XDEV,
        )
    }
}

fn skipped(abs: &str) -> bool {
    INIT_FILES.contains(&abs)
        || INIT_TREES
            .iter()
            .any(|t| abs == *t || abs.strip_prefix(t).is_some_and(|r| r.starts_with('/')))
}

fn walk(
    dir: BorrowedFd<'_>,
    lowers: &[OwnedFd],
    prefix: &mut Vec<OsString>,
    out: &mut Vec<Item>,
) -> io::Result<()> {
    for name in sys::list_dir(dir)? {
        prefix.push(name.clone());
        let abs: String = prefix
            .iter()
            .map(|c| format!("/{}", c.to_string_lossy()))
            .collect();
        let r = entry(dir, lowers, &name, &abs, prefix, out);
        prefix.pop();
        r?;
    }
    Ok(())
}

fn entry(
    dir: BorrowedFd<'_>,
    lowers: &[OwnedFd],
    name: &OsStr,
    abs: &str,
    prefix: &mut Vec<OsString>,
    out: &mut Vec<Item>,
) -> io::Result<()> {
    if skipped(abs) {
        return Ok(());
    }
    let st = match sys::lstatat(dir, name) {
        Ok(st) => st,
        Err(e) if sys::is(&e, Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    let comps = prefix.clone();
    if sys::is_whiteout(&st) {
        out.push(Item {
            comps,
            kind: ChangeKind::Delete,
            what: What::Whiteout,
            st,
        });
        return Ok(());
    }
    let is_dir = sys::is_dir(&st);
    let (lower, lower_dirs) = lookup(lowers, name, is_dir)?;
    let in_lower = lower.is_some() || INIT_DIRS.contains(&abs);
    let kind = if in_lower {
        ChangeKind::Modify
    } else {
        ChangeKind::Add
    };
    if !is_dir {
        out.push(Item {
            comps,
            kind,
            what: What::Other,
            st,
        });
        return Ok(());
    }
    let sub = match sys::openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
        0,
    ) {
        Ok(fd) => fd,
        Err(e)
            if sys::is(&e, Errno::ENOENT)
                || sys::is(&e, Errno::ENOTDIR)
                || sys::is(&e, Errno::ELOOP) =>
        {
            return Ok(())
        }
        Err(e) => return Err(e),
    };
    let opaque = sys::is_opaque(sub.as_fd())?;
    let meta_changed = match &lower {
        Some(l) if sys::is_dir(l) => {
            (l.st_mode & 0o7777, l.st_uid, l.st_gid) != (st.st_mode & 0o7777, st.st_uid, st.st_gid)
        }
        Some(_) => true,
        None => false,
    };
    out.push(Item {
        comps,
        kind,
        what: What::Dir {
            opaque,
            meta_changed,
        },
        st,
    });
    let below: &[OwnedFd] = if opaque { &[] } else { &lower_dirs };
    walk(sub.as_fd(), below, prefix, out)
}

/// `name` in the merged lower layers: the stat of the entry visible there,
/// and (when `dirs` and it is a directory) the layer directories that merge
/// into it, top first.
fn lookup(
    lowers: &[OwnedFd],
    name: &OsStr,
    dirs: bool,
) -> io::Result<(Option<FileStat>, Vec<OwnedFd>)> {
    let mut first: Option<FileStat> = None;
    let mut merged = Vec::new();
    for l in lowers {
        let st = match sys::lstatat(l.as_fd(), name) {
            Ok(st) => st,
            Err(e) if sys::is(&e, Errno::ENOENT) => continue,
            Err(e) => return Err(e),
        };
        if sys::is_whiteout(&st) {
            break;
        }
        let is_dir = sys::is_dir(&st);
        match &first {
            None => first = Some(st),
            Some(f) if !sys::is_dir(f) => break,
            Some(_) => {}
        }
        if !is_dir || !dirs {
            break;
        }
        let fd = sys::openat(
            l.as_fd(),
            name,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
            0,
        )?;
        let opaque = sys::is_opaque(fd.as_fd())?;
        merged.push(fd);
        if opaque {
            break;
        }
    }
    Ok((first, merged))
}

/// Drops directories that are in the upper directory only as parents of
/// left-out entries (see the module doc).
fn prune(items: Vec<Item>) -> Vec<Item> {
    let mut keep = vec![false; items.len()];
    let mut has_child: HashSet<Vec<OsString>> = HashSet::new();
    for (i, item) in items.iter().enumerate().rev() {
        let k = match item.what {
            What::Dir {
                opaque,
                meta_changed,
            } if item.kind == ChangeKind::Modify => {
                opaque || meta_changed || has_child.contains(&item.comps)
            }
            _ => true,
        };
        if k {
            keep[i] = true;
            if let Some((_, parent)) = item.comps.split_last() {
                has_child.insert(parent.to_vec());
            }
        }
    }
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(i, k)| k.then_some(i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn whiteout(p: &Path) {
        nix::sys::stat::mknod(
            p,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .unwrap();
    }

    fn opaque(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: valid C strings and buffer.
        let r = unsafe {
            libc::lsetxattr(
                c.as_ptr(),
                c"trusted.overlay.opaque".as_ptr(),
                b"y".as_ptr().cast(),
                1,
                0,
            )
        };
        assert_eq!(r, 0);
    }

    /// Two image layers and an upper directory as a container leaves them.
    fn fixture() -> (tempfile::TempDir, PathBuf, Vec<PathBuf>) {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        let (l1, l2, up) = (p.join("l1"), p.join("l2"), p.join("upper"));
        for d in [
            "bin",
            "etc",
            "home/user",
            "usr/bin",
            "var/www",
            "root",
            "gone",
        ] {
            fs::create_dir_all(l2.join(d)).unwrap();
        }
        fs::write(l2.join("bin/busybox"), b"bb").unwrap();
        fs::write(l2.join("bin/ls"), b"ls").unwrap();
        fs::write(l2.join("etc/passwd"), b"root").unwrap();
        fs::write(l2.join("usr/bin/env"), b"env").unwrap();
        fs::write(l2.join("gone/f"), b"f").unwrap();
        // The top layer deleted /gone: it must not count as present.
        fs::create_dir_all(&l1).unwrap();
        whiteout(&l1.join("gone"));

        for d in [
            "bin",
            "etc",
            "home",
            "usr/bin",
            "usr/sbin/new/deep",
            "var/www",
            "root",
            "tmp/d",
            "gone",
            "proc",
            "dev",
        ] {
            fs::create_dir_all(up.join(d)).unwrap();
        }
        whiteout(&up.join("bin/ls"));
        fs::write(up.join("etc/passwd"), b"root\nx").unwrap();
        fs::write(up.join("etc/hosts"), b"").unwrap();
        fs::write(up.join("etc/new"), b"n").unwrap();
        fs::write(up.join(".dockerenv"), b"").unwrap();
        fs::write(up.join("dev/console"), b"").unwrap();
        opaque(&up.join("home"));
        fs::write(up.join("home/n"), b"").unwrap();
        whiteout(&up.join("usr/bin/env"));
        fs::set_permissions(up.join("root"), fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(up.join("tmp/d/f"), b"hi").unwrap();
        symlink("/etc", up.join("lnk")).unwrap();
        (t, up, vec![l1, l2])
    }

    fn lines(c: &Changes) -> Vec<String> {
        c.list()
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.path))
            .collect()
    }

    #[test]
    fn lists_changes_like_docker_diff() {
        let (_t, up, lowers) = fixture();
        let c = Changes::scan(&up, &lowers).unwrap();
        assert_eq!(
            lines(&c),
            [
                "C /bin",
                "D /bin/ls",
                "C /etc",
                "A /etc/new",
                "C /etc/passwd",
                "A /gone",
                "C /home",
                "A /home/n",
                "A /lnk",
                "C /root",
                "A /tmp",
                "A /tmp/d",
                "A /tmp/d/f",
                "C /usr",
                "C /usr/bin",
                "D /usr/bin/env",
                "A /usr/sbin",
                "A /usr/sbin/new",
                "A /usr/sbin/new/deep",
            ]
        );
        assert_eq!(ChangeKind::Delete as i32, 2);
    }

    #[test]
    fn writes_an_oci_layer_that_unpacks_back() {
        let (t, up, lowers) = fixture();
        let c = Changes::scan(&up, &lowers).unwrap();
        let tar = c.write_layer(Vec::new()).unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "bin/",
                "bin/.wh.ls",
                "etc/",
                "etc/new",
                "etc/passwd",
                "gone/",
                "home/",
                "home/.wh..wh..opq",
                "home/n",
                "lnk",
                "root/",
                "tmp/",
                "tmp/d/",
                "tmp/d/f",
                "usr/",
                "usr/bin/",
                "usr/bin/.wh.env",
                "usr/sbin/",
                "usr/sbin/new/",
                "usr/sbin/new/deep/",
            ]
        );
        // The image store turns it back into an overlay layer.
        let back = t.path().join("back");
        fs::create_dir(&back).unwrap();
        berth_image::unpack::unpack(&tar[..], &back).unwrap();
        assert!(sys::is_whiteout(
            &nix::sys::stat::lstat(&back.join("bin/ls")).unwrap()
        ));
        assert_eq!(fs::read(back.join("tmp/d/f")).unwrap(), b"hi");
        assert_eq!(fs::read_link(back.join("lnk")).unwrap(), Path::new("/etc"));
        assert!(!back.join("etc/hosts").exists());
        assert!(!back.join(".dockerenv").exists());
    }

    #[test]
    fn an_untouched_container_has_no_changes() {
        let t = tempfile::tempdir().unwrap();
        let (l, up) = (t.path().join("l"), t.path().join("u"));
        fs::create_dir_all(l.join("bin")).unwrap();
        fs::create_dir_all(up.join("etc")).unwrap();
        fs::write(up.join("etc/resolv.conf"), b"").unwrap();
        fs::write(up.join(".dockerenv"), b"").unwrap();
        let c = Changes::scan(&up, &[l]).unwrap();
        assert!(c.list().is_empty());
        let tar = c.write_layer(Vec::new()).unwrap();
        assert_eq!(tar, vec![0u8; 1024]);
    }
}
