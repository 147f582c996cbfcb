//! Extraction of a tar into a directory of a container (`PUT
//! /containers/{id}/archive`), with Docker's rules: entries land below the
//! destination (a `..` that climbs above it, a hard link or a relative
//! symlink pointing above it is refused), missing parents are created,
//! existing entries are replaced (a directory merged), optionally never a
//! directory by a non-directory or the reverse; owners, modes, times and
//! `security.capability` / `user.*` xattrs are kept.
//!
//! Every parent is resolved inside the container's root ([`Root`]); files
//! are created with `O_EXCL|O_NOFOLLOW` and their metadata is set through a
//! descriptor of the very inode created, so symlinks the container plants or
//! swaps in cannot redirect a write outside its root.

use super::root::Root;
use super::sys;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{Mode, SFlag};
use nix::sys::time::TimeSpec;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use tar::EntryType;

/// How to extract.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// Owner of every entry instead of the archive's.
    pub chown: Option<(u32, u32)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The archive itself is malformed.
    #[error("{}", super::go_text(.0))]
    Tar(io::Error),
    /// An entry would land outside the destination.
    #[error("{0}")]
    Breakout(String),
    /// A directory/non-directory replacement refused by the options.
    #[error("{0}")]
    Overwrite(String),
    #[error("{context}: {}", super::go_text(.source))]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_err<'a>(path: &'a Path, what: &str) -> impl FnOnce(io::Error) -> ExtractError + 'a {
    let what = what.to_string();
    move |source| ExtractError::Io {
        context: format!("{what} {}", path.display()),
        source,
    }
}

/// Cleans an archive path relative to the destination; `None` when it climbs above it.
fn clean(raw: &[u8]) -> Option<Vec<OsString>> {
    let mut out: Vec<OsString> = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            c => out.push(OsStr::from_bytes(c).to_os_string()),
        }
    }
    Some(out)
}

/// Extracts `r` below the container directory `dest` (a resolved path).
pub fn extract(root: &Root, dest: &Path, r: impl Read, opts: Options) -> Result<(), ExtractError> {
    let mut archive = tar::Archive::new(r);
    let mut dirs: Vec<(PathBuf, u64)> = Vec::new();
    for entry in archive.entries().map_err(ExtractError::Tar)? {
        let mut entry = entry.map_err(ExtractError::Tar)?;
        if let Some(d) = one(root, dest, &mut entry, opts)? {
            dirs.push(d);
        }
    }
    // Directory times last, deepest first: creating children changes them.
    for (path, mtime) in dirs.iter().rev() {
        let fd = root
            .open_path(path, OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW)
            .map_err(io_err(path, "open"))?;
        set_times(fd.as_fd(), *mtime).map_err(io_err(path, "set times of"))?;
    }
    Ok(())
}

/// Extracts one entry; returns a directory whose time must be set at the end.
fn one<R: Read>(
    root: &Root,
    dest: &Path,
    e: &mut tar::Entry<'_, R>,
    opts: Options,
) -> Result<Option<(PathBuf, u64)>, ExtractError> {
    let h = e.header().clone();
    let kind = h.entry_type();
    if matches!(
        kind,
        EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink
    ) {
        return Ok(None);
    }
    let raw = e.path_bytes().into_owned();
    let shown = String::from_utf8_lossy(&raw).into_owned();
    let comps = clean(&raw).ok_or_else(|| {
        ExtractError::Breakout(format!(
            "{shown:?} is outside of {:?}",
            dest.display().to_string()
        ))
    })?;
    let Some((name, parent)) = comps.split_last() else {
        return Ok(None); // the destination itself
    };
    let path = dest.join(comps.iter().collect::<PathBuf>());
    let parent_refs: Vec<&OsStr> = parent.iter().map(OsString::as_os_str).collect();
    let pfd = root
        .ensure_dir(dest, &parent_refs)
        .map_err(io_err(&path, "create parent of"))?;
    let pfd = pfd.as_fd();
    let is_dir = kind == EntryType::Directory;
    match sys::lstatat(pfd, name) {
        Ok(st) => {
            let exists_dir = sys::is_dir(&st);
            if opts.no_overwrite_dir_non_dir && exists_dir && !is_dir {
                return Err(ExtractError::Overwrite(format!(
                    "cannot overwrite directory {:?} with non-directory {:?}",
                    path.display().to_string(),
                    dest.display().to_string()
                )));
            }
            if opts.no_overwrite_dir_non_dir && !exists_dir && is_dir {
                return Err(ExtractError::Overwrite(format!(
                    "cannot overwrite non-directory {:?} with directory {:?}",
                    path.display().to_string(),
                    dest.display().to_string()
                )));
            }
            if !(exists_dir && is_dir) {
                sys::remove_all_at(pfd, name).map_err(io_err(&path, "remove"))?;
            }
        }
        Err(err) if sys::is(&err, Errno::ENOENT) => {}
        Err(err) => return Err(io_err(&path, "lstat")(err)),
    }

    let mode = h.mode().map_err(ExtractError::Tar)? & 0o7777;
    let mtime = h.mtime().map_err(ExtractError::Tar)?;
    let (uid, gid) = match opts.chown {
        Some(ids) => ids,
        None => (
            h.uid().map_err(ExtractError::Tar)? as u32,
            h.gid().map_err(ExtractError::Tar)? as u32,
        ),
    };
    let xattrs = xattrs_of(e)?;
    match kind {
        EntryType::Directory => {
            match sys::mkdirat(pfd, name, 0o700) {
                Ok(()) => {}
                Err(err) if sys::is(&err, Errno::EEXIST) => {}
                Err(err) => return Err(io_err(&path, "mkdir")(err)),
            }
            set_meta(pfd, name, SFlag::S_IFDIR, uid, gid, mode, None, &xattrs)
                .map_err(io_err(&path, "set metadata of"))?;
            return Ok(Some((path, mtime)));
        }
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            let fd = sys::openat(
                pfd,
                name,
                OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW,
                0o600,
            )
            .map_err(io_err(&path, "create"))?;
            let mut f = std::fs::File::from(fd);
            io::copy(e, &mut f).map_err(ExtractError::Tar)?;
            drop(f);
            set_meta(
                pfd,
                name,
                SFlag::S_IFREG,
                uid,
                gid,
                mode,
                Some(mtime),
                &xattrs,
            )
            .map_err(io_err(&path, "set metadata of"))?;
        }
        EntryType::Symlink => {
            let target = e
                .link_name_bytes()
                .map(|l| l.into_owned())
                .unwrap_or_default();
            if !target.starts_with(b"/") {
                let mut joined: Vec<u8> = Vec::new();
                for c in parent {
                    joined.extend_from_slice(c.as_bytes());
                    joined.push(b'/');
                }
                joined.extend_from_slice(&target);
                if clean(&joined).is_none() {
                    return Err(ExtractError::Breakout(format!(
                        "invalid symlink {:?} -> {:?}",
                        path.display().to_string(),
                        String::from_utf8_lossy(&target)
                    )));
                }
            }
            nix::unistd::symlinkat(
                OsStr::from_bytes(&target),
                Some(pfd.as_raw_fd()),
                name.as_os_str(),
            )
            .map_err(sys::err)
            .map_err(io_err(&path, "symlink"))?;
            fchownat_nofollow(pfd, name, uid, gid).map_err(io_err(&path, "chown"))?;
            let t = TimeSpec::new(mtime as i64, 0);
            nix::sys::stat::utimensat(
                Some(pfd.as_raw_fd()),
                name.as_os_str(),
                &t,
                &t,
                nix::sys::stat::UtimensatFlags::NoFollowSymlink,
            )
            .map_err(sys::err)
            .map_err(io_err(&path, "set times of"))?;
        }
        EntryType::Link => {
            let target = e
                .link_name_bytes()
                .map(|l| l.into_owned())
                .unwrap_or_default();
            let tcomps = clean(&target).filter(|c| !c.is_empty()).ok_or_else(|| {
                ExtractError::Breakout(format!(
                    "invalid hardlink {:?} -> {:?}",
                    path.display().to_string(),
                    String::from_utf8_lossy(&target)
                ))
            })?;
            let (tname, tparent) = tcomps.split_last().unwrap_or((name, &[]));
            let tdir = dest.join(tparent.iter().collect::<PathBuf>());
            let tfd = root
                .open_path(&tdir, OFlag::O_PATH | OFlag::O_DIRECTORY)
                .map_err(io_err(&tdir, "open"))?;
            nix::unistd::linkat(
                Some(tfd.as_raw_fd()),
                tname.as_os_str(),
                Some(pfd.as_raw_fd()),
                name.as_os_str(),
                AtFlags::empty(),
            )
            .map_err(sys::err)
            .map_err(io_err(&path, "link"))?;
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let (sflag, dev) = match kind {
                EntryType::Fifo => (SFlag::S_IFIFO, 0),
                k => {
                    let major = h.device_major().ok().flatten().unwrap_or(0);
                    let minor = h.device_minor().ok().flatten().unwrap_or(0);
                    let s = if k == EntryType::Char {
                        SFlag::S_IFCHR
                    } else {
                        SFlag::S_IFBLK
                    };
                    (s, nix::sys::stat::makedev(major as u64, minor as u64))
                }
            };
            nix::sys::stat::mknodat(
                Some(pfd.as_raw_fd()),
                name.as_os_str(),
                sflag,
                Mode::from_bits_truncate(0o600),
                dev,
            )
            .map_err(sys::err)
            .map_err(io_err(&path, "mknod"))?;
            set_meta(pfd, name, sflag, uid, gid, mode, Some(mtime), &xattrs)
                .map_err(io_err(&path, "set metadata of"))?;
        }
        _ => {} // unknown types are skipped, as Docker does
    }
    Ok(None)
}

/// The xattrs of an entry that berth applies: file capabilities and `user.*`.
fn xattrs_of<R: Read>(e: &mut tar::Entry<'_, R>) -> Result<Vec<(String, Vec<u8>)>, ExtractError> {
    let mut out = Vec::new();
    if let Some(exts) = e.pax_extensions().map_err(ExtractError::Tar)? {
        for ext in exts {
            let ext = ext.map_err(ExtractError::Tar)?;
            if let Ok(key) = ext.key() {
                if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                    if name == "security.capability" || name.starts_with("user.") {
                        out.push((name.to_string(), ext.value_bytes().to_vec()));
                    }
                }
            }
        }
    }
    Ok(out)
}

fn fchownat_nofollow(dir: BorrowedFd<'_>, name: &OsStr, uid: u32, gid: u32) -> io::Result<()> {
    nix::unistd::fchownat(
        Some(dir.as_raw_fd()),
        name,
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(sys::err)
}

/// Owner, mode, xattrs and (when given) times of `name` in `dir`, set
/// through a descriptor of that inode after checking it is still of the
/// kind just created.
#[allow(clippy::too_many_arguments)]
fn set_meta(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    kind: SFlag,
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: Option<u64>,
    xattrs: &[(String, Vec<u8>)],
) -> io::Result<()> {
    let fd: OwnedFd = sys::openat(dir, name, OFlag::O_PATH | OFlag::O_NOFOLLOW, 0)?;
    if sys::kind(&sys::fstat(fd.as_fd())?) != kind {
        return Err(io::Error::other("replaced while being extracted"));
    }
    let p = sys::fd_path(fd.as_fd());
    // Owner first: chown clears the set-id bits.
    nix::unistd::chown(
        p.as_str(),
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .map_err(sys::err)?;
    nix::sys::stat::fchmodat(
        None,
        p.as_str(),
        Mode::from_bits_truncate(mode),
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .map_err(sys::err)?;
    if !xattrs.is_empty() {
        let f = nix::fcntl::open(
            p.as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
            Mode::empty(),
        );
        if let Ok(raw) = f {
            // SAFETY: fresh descriptor owned here.
            let f: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(raw) };
            for (k, v) in xattrs {
                sys::fsetxattr(f.as_fd(), k, v)?;
            }
        }
    }
    if let Some(m) = mtime {
        set_times(fd.as_fd(), m)?;
    }
    Ok(())
}

/// atime = mtime = `mtime` on the inode `fd` refers to.
fn set_times(fd: BorrowedFd<'_>, mtime: u64) -> io::Result<()> {
    let t = TimeSpec::new(mtime as i64, 0);
    nix::sys::stat::utimensat(
        None,
        sys::fd_path(fd).as_str(),
        &t,
        &t,
        nix::sys::stat::UtimensatFlags::FollowSymlink,
    )
    .map_err(sys::err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsops::root::tests::hostile;
    use std::fs;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    /// A tar whose names and link targets are written raw.
    struct Raw(tar::Builder<Vec<u8>>);

    impl Raw {
        fn new() -> Raw {
            Raw(tar::Builder::new(Vec::new()))
        }

        fn add(
            &mut self,
            kind: EntryType,
            name: &str,
            link: &str,
            data: &[u8],
            f: impl FnOnce(&mut tar::Header),
        ) -> &mut Self {
            let mut h = tar::Header::new_gnu();
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            h.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_entry_type(kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_600_000_000);
            f(&mut h);
            h.set_cksum();
            self.0.append(&h, data).unwrap();
            self
        }

        fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
            self.add(EntryType::Regular, name, "", data, |_| {})
        }

        fn finish(&mut self) -> Vec<u8> {
            std::mem::replace(&mut self.0, tar::Builder::new(Vec::new()))
                .into_inner()
                .unwrap()
        }
    }

    fn untouched(outside: &Path) {
        assert_eq!(fs::read(outside.join("victim")).unwrap(), b"host secret");
        assert_eq!(fs::read_dir(outside).unwrap().count(), 1);
    }

    #[test]
    fn extracts_with_metadata_and_replacement_rules() {
        let (_t, dir, outside) = hostile();
        let root = Root::open(&dir).unwrap();
        let tar = Raw::new()
            .add(EntryType::Directory, "d/", "", b"", |h| {
                h.set_mode(0o750);
                h.set_uid(1234);
                h.set_gid(5678);
            })
            .add(EntryType::Regular, "d/suid", "", b"bin", |h| {
                h.set_mode(0o4711)
            })
            .add(EntryType::Link, "d/hard", "d/suid", b"", |_| {})
            .add(EntryType::Symlink, "d/abs", "/etc/passwd", b"", |_| {})
            .add(EntryType::Fifo, "d/fifo", "", b"", |_| {})
            .file("deep/er/f", b"auto parents")
            .finish();
        extract(&root, Path::new("/etc"), &tar[..], Options::default()).unwrap();
        let d = fs::metadata(dir.join("etc/d")).unwrap();
        assert_eq!(
            (d.mode() & 0o7777, d.uid(), d.gid(), d.mtime()),
            (0o750, 1234, 5678, 1_600_000_000)
        );
        let f = fs::metadata(dir.join("etc/d/suid")).unwrap();
        assert_eq!((f.mode() & 0o7777, f.nlink()), (0o4711, 2));
        assert_eq!(
            fs::read_link(dir.join("etc/d/abs")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert!(fs::symlink_metadata(dir.join("etc/d/fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert_eq!(
            fs::read(dir.join("etc/deep/er/f")).unwrap(),
            b"auto parents"
        );

        // Replacement: a file over a file, refused dir/non-dir swaps.
        let tar = Raw::new().file("passwd", b"new").finish();
        extract(&root, Path::new("/etc"), &tar[..], Options::default()).unwrap();
        assert_eq!(fs::read(dir.join("etc/passwd")).unwrap(), b"new");
        let no = Options {
            no_overwrite_dir_non_dir: true,
            chown: None,
        };
        let e = extract(
            &root,
            Path::new("/etc"),
            &Raw::new().file("d", b"x").finish()[..],
            no,
        )
        .unwrap_err();
        assert!(e.to_string().contains("cannot overwrite directory"), "{e}");
        let e = extract(
            &root,
            Path::new("/etc"),
            &Raw::new()
                .add(EntryType::Directory, "passwd/", "", b"", |_| {})
                .finish()[..],
            no,
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("cannot overwrite non-directory"),
            "{e}"
        );
        // Without the option a file replaces a directory.
        extract(
            &root,
            Path::new("/etc"),
            &Raw::new().file("deep", b"flat").finish()[..],
            Options::default(),
        )
        .unwrap();
        assert_eq!(fs::read(dir.join("etc/deep")).unwrap(), b"flat");
        // chown override.
        let ids = Options {
            no_overwrite_dir_non_dir: false,
            chown: Some((7, 8)),
        };
        extract(
            &root,
            Path::new("/"),
            &Raw::new().file("owned", b"o").finish()[..],
            ids,
        )
        .unwrap();
        let m = fs::metadata(dir.join("owned")).unwrap();
        assert_eq!((m.uid(), m.gid()), (7, 8));
        untouched(&outside);
    }

    #[test]
    fn hostile_symlinks_and_archives_stay_inside() {
        let (_t, dir, outside) = hostile();
        let root = Root::open(&dir).unwrap();
        // Through symlinks planted in the container: absolute, `..` chains, relative.
        for dest in ["/abs", "/up", "/rel", "/up/up/up"] {
            let tar = Raw::new()
                .file("victim", b"pwned")
                .file("new", b"x")
                .finish();
            let _ = extract(&root, Path::new(dest), &tar[..], Options::default());
        }
        for parent in ["abs", "up", "rel", "etclink/../abs", "up/tmp"] {
            let name = format!("{parent}/victim");
            let tar = Raw::new().file(&name, b"pwned").finish();
            let _ = extract(&root, Path::new("/"), &tar[..], Options::default());
        }
        untouched(&outside);
        // Archives climbing out of the destination are refused.
        let e = extract(
            &root,
            Path::new("/etc"),
            &Raw::new().file("../../x", b"x").finish()[..],
            Options::default(),
        )
        .unwrap_err();
        assert!(matches!(e, ExtractError::Breakout(_)), "{e}");
        let e = extract(
            &root,
            Path::new("/etc"),
            &Raw::new()
                .add(EntryType::Link, "h", "../../../outside/victim", b"", |_| {})
                .finish()[..],
            Options::default(),
        )
        .unwrap_err();
        assert!(matches!(e, ExtractError::Breakout(_)), "{e}");
        let e = extract(
            &root,
            Path::new("/etc"),
            &Raw::new()
                .add(EntryType::Symlink, "s", "../../..", b"", |_| {})
                .finish()[..],
            Options::default(),
        )
        .unwrap_err();
        assert!(matches!(e, ExtractError::Breakout(_)), "{e}");
        // A file written over a symlink replaces the link, never its target.
        let tar = Raw::new().file("abs", b"replaced").finish();
        extract(&root, Path::new("/"), &tar[..], Options::default()).unwrap();
        assert_eq!(fs::read(dir.join("abs")).unwrap(), b"replaced");
        untouched(&outside);
        // A hard link through a symlink to the host resolves inside the root (and fails).
        let tar = Raw::new()
            .add(EntryType::Link, "h", "up/../outside/victim", b"", |_| {})
            .finish();
        assert!(extract(&root, Path::new("/"), &tar[..], Options::default()).is_err());
        assert_eq!(fs::metadata(outside.join("victim")).unwrap().nlink(), 1);
        untouched(&outside);
    }

    #[test]
    fn devices_are_created_for_root() {
        let (_t, dir, _outside) = hostile();
        let root = Root::open(&dir).unwrap();
        let tar = Raw::new()
            .add(EntryType::Char, "null", "", b"", |h| {
                h.set_device_major(1).unwrap();
                h.set_device_minor(3).unwrap();
            })
            .finish();
        extract(&root, Path::new("/"), &tar[..], Options::default()).unwrap();
        let m = fs::symlink_metadata(dir.join("null")).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(m.rdev(), nix::sys::stat::makedev(1, 3));
    }
}
