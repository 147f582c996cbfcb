//! Safe extraction of one layer tar into an (empty) directory.
//!
//! Layers come from untrusted archives, so nothing in a tar may touch anything
//! outside the target directory:
//! - paths are cleaned lexically; a `..` that would climb above the root is an
//!   error (`invalid layer: path escapes the layer root: …`); a leading `/` is
//!   read as relative to the root, as Docker does;
//! - every parent component is checked with `lstat` before use: an existing
//!   symlink as a parent is an error, so extraction never follows a symlink
//!   (absolute or relative) that the tar itself created; files are created
//!   with `O_CREAT|O_EXCL|O_NOFOLLOW` after removing whatever was there;
//! - symlinks are stored as they are (absolute targets are legitimate in images)
//!   and never followed here;
//! - hard links must name an existing non-directory inside the layer;
//! - char and block device nodes are refused, except char 0/0 (an overlay
//!   whiteout); FIFOs are created;
//! - OCI whiteouts become overlay ones: `.wh.name` → char device 0/0 `name`,
//!   `.wh..wh..opq` → xattr `trusted.overlay.opaque=y` on the directory.
//!
//! Numeric ownership, modes, mtimes and `SCHILY.xattr.*` PAX records are kept.
//! The caller extracts into a temporary directory and removes it on error.

use crate::error::{Error, IoContext};
use nix::sys::stat::{self, Mode, SFlag};
use nix::sys::time::TimeSpec;
use std::collections::HashSet;
use std::ffi::{CString, OsStr};
use std::fs::{self, File, FileTimes, OpenOptions, Permissions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};
use tar::EntryType;

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// Extracts the tar stream `r` into `root`, which must exist.
pub fn unpack<R: Read>(r: R, root: &Path) -> Result<(), Error> {
    let mut u = Unpacker {
        root,
        dirs_ok: HashSet::new(),
        dir_times: Vec::new(),
    };
    let mut archive = tar::Archive::new(r);
    let entries = archive.entries().map_err(bad_tar)?;
    for entry in entries {
        let mut entry = entry.map_err(bad_tar)?;
        u.entry(&mut entry)?;
    }
    for (path, mtime) in u.dir_times.iter().rev() {
        set_times(path, *mtime)?;
    }
    Ok(())
}

fn bad_tar(e: io::Error) -> Error {
    Error::invalid(format!("invalid layer: {e}"))
}

fn invalid(path: &Path, what: &str) -> Error {
    Error::invalid(format!("invalid layer: {}: {what}", path.display()))
}

/// Cleans a tar path lexically; `None` when it climbs above the root.
pub(crate) fn clean(raw: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out: Vec<&[u8]> = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            c => out.push(c),
        }
    }
    Some(out)
}

fn join(comps: &[&[u8]]) -> PathBuf {
    comps.iter().map(|c| OsStr::from_bytes(c)).collect()
}

struct Unpacker<'a> {
    root: &'a Path,
    /// Relative directories known to be real directories (not symlinks).
    dirs_ok: HashSet<PathBuf>,
    /// Directory mtimes, applied after all children exist.
    dir_times: Vec<(PathBuf, u64)>,
}

impl Unpacker<'_> {
    fn entry<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<(), Error> {
        let kind = e.header().entry_type();
        if matches!(
            kind,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            return Ok(());
        }
        let raw = e.path_bytes().into_owned();
        let shown = PathBuf::from(OsStr::from_bytes(&raw));
        let comps = clean(&raw).ok_or_else(|| invalid(&shown, "path escapes the layer root"))?;
        let Some((name, parent)) = comps.split_last() else {
            return Ok(()); // the root itself: keep ours
        };
        let parent_rel = join(parent);
        self.ensure_parent(&parent_rel, &shown)?;
        let dir = self.root.join(&parent_rel);

        if *name == OPAQUE {
            return set_xattr(&dir, "trusted.overlay.opaque", b"y");
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.starts_with(WHITEOUT_PREFIX) || hidden.is_empty() {
                return Ok(()); // other AUFS metadata (.wh..wh.plnk …)
            }
            let path = dir.join(OsStr::from_bytes(hidden));
            self.clear(&path, false)?;
            return self.make_whiteout(&path, e.header());
        }

        let path = dir.join(OsStr::from_bytes(name));
        let h = e.header().clone();
        let mode = h.mode().map_err(bad_tar)? & 0o7777;
        let mtime = h.mtime().map_err(bad_tar)?;
        let (uid, gid) = (h.uid().map_err(bad_tar)?, h.gid().map_err(bad_tar)?);
        let xattrs = xattrs_of(e)?;
        match kind {
            EntryType::Directory => {
                self.clear(&path, true)?;
                match fs::create_dir(&path) {
                    Ok(()) => {}
                    Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(err) => return Err(io_err(&path, "create directory", err)),
                }
                self.dirs_ok
                    .insert(parent_rel.join(OsStr::from_bytes(name)));
                lchown(&path, uid, gid)?;
                fs::set_permissions(&path, Permissions::from_mode(mode))
                    .ctx(|| format!("chmod {}", path.display()))?;
                apply_xattrs(&path, &xattrs)?;
                self.dir_times.push((path, mtime));
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.clear(&path, false)?;
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                    .open(&path)
                    .ctx(|| format!("create {}", path.display()))?;
                io::copy(e, &mut f).map_err(bad_tar)?;
                fchown(&f, &path, uid, gid)?;
                f.set_permissions(Permissions::from_mode(mode))
                    .ctx(|| format!("chmod {}", path.display()))?;
                apply_xattrs(&path, &xattrs)?;
                let t = UNIX_EPOCH + Duration::from_secs(mtime);
                f.set_times(FileTimes::new().set_accessed(t).set_modified(t))
                    .ctx(|| format!("set times of {}", path.display()))?;
            }
            EntryType::Symlink => {
                let target = e
                    .link_name_bytes()
                    .ok_or_else(|| invalid(&shown, "symlink without target"))?
                    .into_owned();
                self.clear(&path, false)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path)
                    .ctx(|| format!("symlink {}", path.display()))?;
                lchown(&path, uid, gid)?;
                apply_xattrs(&path, &xattrs)?;
                set_times(&path, mtime)?;
            }
            EntryType::Link => {
                let target = e
                    .link_name_bytes()
                    .ok_or_else(|| invalid(&shown, "hard link without target"))?
                    .into_owned();
                let tcomps = clean(&target)
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| invalid(&shown, "hard link target escapes the layer root"))?;
                let (_, tparent) = tcomps.split_last().unwrap_or((&&b""[..], &[]));
                self.check_parent(&join(tparent), &shown)?;
                let src = self.root.join(join(&tcomps));
                if src == path {
                    return Ok(());
                }
                match fs::symlink_metadata(&src) {
                    Ok(m) if m.is_dir() => return Err(invalid(&shown, "hard link to a directory")),
                    Ok(_) => {}
                    Err(_) => {
                        return Err(invalid(
                            &shown,
                            "hard link target does not exist in the layer",
                        ))
                    }
                }
                self.clear(&path, false)?;
                fs::hard_link(&src, &path).ctx(|| format!("link {}", path.display()))?;
            }
            EntryType::Char | EntryType::Block => {
                let major = h.device_major().ok().flatten().unwrap_or(u32::MAX);
                let minor = h.device_minor().ok().flatten().unwrap_or(u32::MAX);
                if kind != EntryType::Char || major != 0 || minor != 0 {
                    return Err(invalid(
                        &shown,
                        "device nodes are not allowed in image layers",
                    ));
                }
                self.clear(&path, false)?;
                self.make_whiteout(&path, &h)?;
            }
            EntryType::Fifo => {
                self.clear(&path, false)?;
                stat::mknod(&path, SFlag::S_IFIFO, Mode::from_bits_truncate(0o600), 0)
                    .map_err(|err| io_err(&path, "mkfifo", err.into()))?;
                lchown(&path, uid, gid)?;
                fs::set_permissions(&path, Permissions::from_mode(mode))
                    .ctx(|| format!("chmod {}", path.display()))?;
                apply_xattrs(&path, &xattrs)?;
                set_times(&path, mtime)?;
            }
            _ => {} // unknown types are skipped, as Docker does
        }
        Ok(())
    }

    /// Makes sure every component of `rel` is a real directory, creating missing ones.
    fn ensure_parent(&mut self, rel: &Path, shown: &Path) -> Result<(), Error> {
        self.walk_parent(rel, shown, true)
    }

    /// Like `ensure_parent` but creates nothing.
    fn check_parent(&mut self, rel: &Path, shown: &Path) -> Result<(), Error> {
        self.walk_parent(rel, shown, false)
    }

    fn walk_parent(&mut self, rel: &Path, shown: &Path, create: bool) -> Result<(), Error> {
        let mut prefix = PathBuf::new();
        for c in rel.components() {
            prefix.push(c);
            if self.dirs_ok.contains(&prefix) {
                continue;
            }
            let abs = self.root.join(&prefix);
            match fs::symlink_metadata(&abs) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(invalid(
                        shown,
                        &format!("parent {} is a symbolic link", prefix.display()),
                    ))
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(invalid(
                        shown,
                        &format!("parent {} is not a directory", prefix.display()),
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                    fs::create_dir(&abs).ctx(|| format!("create directory {}", abs.display()))?;
                    fs::set_permissions(&abs, Permissions::from_mode(0o755))
                        .ctx(|| format!("chmod {}", abs.display()))?;
                }
                Err(_) => {
                    return Err(invalid(
                        shown,
                        &format!("parent {} does not exist", prefix.display()),
                    ))
                }
            }
            self.dirs_ok.insert(prefix.clone());
        }
        Ok(())
    }

    /// Removes what is at `path` unless it is a directory and `keep_dir`.
    fn clear(&mut self, path: &Path, keep_dir: bool) -> Result<(), Error> {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                if !keep_dir {
                    // remove_dir_all does not follow symlinks inside the tree.
                    fs::remove_dir_all(path).ctx(|| format!("remove {}", path.display()))?;
                    self.dirs_ok.clear();
                }
            }
            Ok(_) => fs::remove_file(path).ctx(|| format!("remove {}", path.display()))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(path, "lstat", e)),
        }
        Ok(())
    }

    fn make_whiteout(&self, path: &Path, h: &tar::Header) -> Result<(), Error> {
        stat::mknod(path, SFlag::S_IFCHR, Mode::empty(), stat::makedev(0, 0))
            .map_err(|e| io_err(path, "create whiteout", e.into()))?;
        let uid = h.uid().map_err(bad_tar)?;
        let gid = h.gid().map_err(bad_tar)?;
        lchown(path, uid, gid)
    }
}

fn io_err(path: &Path, what: &str, source: io::Error) -> Error {
    Error::Io {
        context: format!("{what} {}", path.display()),
        source,
    }
}

fn xattrs_of<R: Read>(e: &mut tar::Entry<'_, R>) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    if let Some(exts) = e.pax_extensions().map_err(bad_tar)? {
        for ext in exts {
            let ext = ext.map_err(bad_tar)?;
            if let Ok(key) = ext.key() {
                if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                    out.push((name.to_string(), ext.value_bytes().to_vec()));
                }
            }
        }
    }
    Ok(out)
}

fn apply_xattrs(path: &Path, xattrs: &[(String, Vec<u8>)]) -> Result<(), Error> {
    for (k, v) in xattrs {
        set_xattr(path, k, v)?;
    }
    Ok(())
}

fn cpath(path: &Path) -> Result<CString, Error> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("invalid layer: {}: NUL in path", path.display())))
}

/// `lsetxattr`; filesystems without xattr support are tolerated as Docker does.
fn set_xattr(path: &Path, key: &str, value: &[u8]) -> Result<(), Error> {
    let p = cpath(path)?;
    let k = CString::new(key)
        .map_err(|_| Error::invalid(format!("invalid layer: bad xattr name {key:?}")))?;
    // SAFETY: valid NUL-terminated strings and a buffer of `value.len()` bytes.
    let r = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            k.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r != 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::ENOTSUP) {
            return Err(io_err(path, &format!("set xattr {key} on"), err));
        }
    }
    Ok(())
}

fn chown_result(path: &Path, r: io::Result<()>) -> Result<(), Error> {
    match r {
        Ok(()) => Ok(()),
        // Unprivileged (tests, rootless): keep our own ownership.
        Err(e) if e.raw_os_error() == Some(libc::EPERM) && !nix::unistd::geteuid().is_root() => {
            Ok(())
        }
        Err(e) => Err(io_err(path, "chown", e)),
    }
}

fn lchown(path: &Path, uid: u64, gid: u64) -> Result<(), Error> {
    let r = std::os::unix::fs::lchown(path, Some(uid as u32), Some(gid as u32));
    chown_result(path, r)
}

fn fchown(f: &File, path: &Path, uid: u64, gid: u64) -> Result<(), Error> {
    let r = std::os::unix::fs::fchown(f, Some(uid as u32), Some(gid as u32));
    chown_result(path, r)
}

fn set_times(path: &Path, mtime: u64) -> Result<(), Error> {
    let t = TimeSpec::new(mtime as i64, 0);
    stat::utimensat(None, path, &t, &t, stat::UtimensatFlags::NoFollowSymlink)
        .map_err(|e| io_err(path, "set times of", e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};

    /// Builds a tar whose names are written raw (no sanitising by the builder).
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
            h.set_uid(0);
            h.set_gid(0);
            h.set_entry_type(kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(1_600_000_000);
            f(&mut h);
            h.set_cksum();
            self.0.append(&h, data).unwrap();
            self
        }

        fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
            self.add(EntryType::Regular, name, "", data, |_| {})
        }

        fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
            self.add(EntryType::Symlink, name, target, b"", |_| {})
        }

        fn finish(&mut self) -> Vec<u8> {
            std::mem::replace(&mut self.0, tar::Builder::new(Vec::new()))
                .into_inner()
                .unwrap()
        }
    }

    /// `(tempdir, layer root, outside dir with a victim file)`.
    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("layer");
        let outside = t.path().join("outside");
        fs::create_dir(&root).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("victim"), b"safe").unwrap();
        (t, root, outside)
    }

    fn assert_outside_untouched(t: &Path, outside: &Path) {
        assert_eq!(fs::read(outside.join("victim")).unwrap(), b"safe");
        let names: Vec<_> = fs::read_dir(outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let top: Vec<_> = fs::read_dir(t)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(top.len(), 2, "{top:?}");
    }

    fn refused(tar: Vec<u8>, want: &str) {
        let (t, root, outside) = setup();
        let e = unpack(&tar[..], &root).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{e}");
        assert!(e.to_string().contains(want), "{e}");
        assert_outside_untouched(t.path(), &outside);
    }

    #[test]
    fn refuses_dotdot_escapes() {
        refused(
            Raw::new().file("../outside/evil", b"x").finish(),
            "path escapes the layer root",
        );
        refused(
            Raw::new().file("a/../../outside/evil", b"x").finish(),
            "path escapes",
        );
        refused(
            Raw::new().file("/../outside/victim", b"x").finish(),
            "path escapes",
        );
    }

    #[test]
    fn never_writes_through_symlinks() {
        let (_t, _root, outside) = setup();
        let abs = outside.display().to_string();
        refused(
            Raw::new()
                .symlink("link", &abs)
                .file("link/evil", b"x")
                .finish(),
            "is a symbolic link",
        );
        refused(
            Raw::new()
                .symlink("link", "../outside")
                .file("link/evil", b"x")
                .finish(),
            "is a symbolic link",
        );
        refused(
            Raw::new()
                .symlink("link", "../outside")
                .add(EntryType::Directory, "link/sub/", "", b"", |_| {})
                .finish(),
            "is a symbolic link",
        );
        // A file over an absolute symlink replaces the link, never its target.
        let (t, root, outside) = setup();
        let victim = outside.join("victim").display().to_string();
        unpack(
            &Raw::new().symlink("f", &victim).file("f", b"new").finish()[..],
            &root,
        )
        .unwrap();
        assert_eq!(fs::read(root.join("f")).unwrap(), b"new");
        assert_outside_untouched(t.path(), &outside);
        // Absolute symlinks are kept as they are.
        let (_t, root, _) = setup();
        unpack(
            &Raw::new().symlink("sh", "/bin/busybox").finish()[..],
            &root,
        )
        .unwrap();
        assert_eq!(
            fs::read_link(root.join("sh")).unwrap(),
            Path::new("/bin/busybox")
        );
    }

    #[test]
    fn refuses_devices_and_escaping_hardlinks() {
        let dev = |h: &mut tar::Header| {
            h.set_device_major(1).unwrap();
            h.set_device_minor(3).unwrap();
        };
        refused(
            Raw::new()
                .add(EntryType::Char, "null", "", b"", dev)
                .finish(),
            "device nodes are not allowed",
        );
        refused(
            Raw::new()
                .add(EntryType::Block, "sda", "", b"", |_| {})
                .finish(),
            "device nodes are not allowed",
        );
        refused(
            Raw::new()
                .add(EntryType::Link, "h", "../outside/victim", b"", |_| {})
                .finish(),
            "escapes",
        );
        refused(
            Raw::new()
                .symlink("l", "../outside")
                .add(EntryType::Link, "h", "l/victim", b"", |_| {})
                .finish(),
            "is a symbolic link",
        );
        refused(
            Raw::new()
                .add(EntryType::Link, "h", "missing", b"", |_| {})
                .finish(),
            "does not exist",
        );
    }

    #[test]
    fn keeps_metadata_and_converts_whiteouts() {
        let (_t, root, _) = setup();
        let tar = Raw::new()
            .add(EntryType::Directory, "d/", "", b"", |h| h.set_mode(0o750))
            .add(EntryType::Regular, "d/suid", "", b"bin", |h| {
                h.set_mode(0o4755);
                h.set_uid(1234);
                h.set_gid(4321);
            })
            .add(EntryType::Link, "d/hard", "d/suid", b"", |_| {})
            .add(EntryType::Fifo, "fifo", "", b"", |_| {})
            .file(".wh.gone", b"")
            .file("d/.wh..wh..opq", b"")
            .file("/abs/inside", b"ok")
            .finish();
        unpack(&tar[..], &root).unwrap();
        let m = fs::metadata(root.join("d/suid")).unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid(), m.mtime()),
            (0o4755, 1234, 4321, 1_600_000_000)
        );
        assert_eq!(m.nlink(), 2);
        let d = fs::metadata(root.join("d")).unwrap();
        assert_eq!((d.mode() & 0o7777, d.mtime()), (0o750, 1_600_000_000));
        assert!(fs::symlink_metadata(root.join("fifo"))
            .unwrap()
            .file_type()
            .is_fifo());
        let w = fs::symlink_metadata(root.join("gone")).unwrap();
        assert!(w.file_type().is_char_device());
        assert_eq!(w.rdev(), 0);
        assert!(!root.join(".wh.gone").exists());
        assert!(!root.join("d/.wh..wh..opq").exists());
        assert_eq!(fs::read(root.join("abs/inside")).unwrap(), b"ok");
        let mut buf = [0u8; 4];
        let p = CString::new(root.join("d").as_os_str().as_bytes()).unwrap();
        // SAFETY: valid C strings and buffer.
        let n = unsafe {
            libc::lgetxattr(
                p.as_ptr(),
                c"trusted.overlay.opaque".as_ptr(),
                buf.as_mut_ptr().cast(),
                4,
            )
        };
        if n >= 0 {
            assert_eq!(&buf[..n as usize], b"y");
        } else {
            assert_eq!(
                io::Error::last_os_error().raw_os_error(),
                Some(libc::ENOTSUP)
            );
        }
    }
}
