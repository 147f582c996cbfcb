//! The local half of `cp`: a local file or directory packed as a tar under a
//! chosen top-level name (sorted, symlinks kept as links, hard links as
//! `Link` entries, owners kept), and a tar from the daemon extracted below a
//! local directory with docker's client rules: top-level names renamed as
//! the copy requires, parents created, a directory never replaced by a
//! non-directory or the reverse, modes and times kept, owners not (the
//! files belong to whoever runs `cp`).
//!
//! The archive comes from a container, so nothing it names may land outside
//! the destination: `..` that climbs out, absolute names and parents that
//! are symlinks are refused, and hard links must point inside.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use tar::{EntryType, Header, HeaderMode};

/// A rename of the top-level name of entries: `(old, new)`.
pub type Rebase = (String, String);

/// Writes `src` (not followed if a symlink) as `top`, and what is below it.
pub fn pack(src: &Path, top: &str, w: impl Write) -> io::Result<()> {
    let mut b = tar::Builder::new(w);
    b.follow_symlinks(false);
    b.mode(HeaderMode::Complete);
    let mut links = HashMap::new();
    add(&mut b, src, top.trim_end_matches('/'), &mut links)?;
    b.into_inner()?.flush()
}

fn add<W: Write>(
    b: &mut tar::Builder<W>,
    path: &Path,
    name: &str,
    links: &mut HashMap<(u64, u64), String>,
) -> io::Result<()> {
    let m = fs::symlink_metadata(path)?;
    let ft = m.file_type();
    let mut h = Header::new_gnu();
    h.set_metadata_in_mode(&m, HeaderMode::Complete);
    if ft.is_dir() {
        let dir_name = if name.is_empty() || name == "." {
            "./".to_string()
        } else {
            format!("{name}/")
        };
        b.append_data(&mut h, &dir_name, io::empty())?;
        let mut children: Vec<_> = fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        children.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for c in children {
            let child = format!("{}{}", dir_name, c.to_string_lossy());
            add(b, &path.join(&c), &child, links)?;
        }
        return Ok(());
    }
    if ft.is_file() && m.nlink() > 1 {
        let key = (m.dev(), m.ino());
        if let Some(first) = links.get(&key) {
            h.set_entry_type(EntryType::Link);
            h.set_size(0);
            return b.append_link(&mut h, name, first);
        }
        links.insert(key, name.to_string());
    }
    if ft.is_file() || ft.is_symlink() {
        return b.append_path_with_name(path, name);
    }
    if ft.is_fifo() || ft.is_char_device() || ft.is_block_device() {
        let kind = if ft.is_fifo() {
            EntryType::Fifo
        } else if ft.is_char_device() {
            EntryType::Char
        } else {
            EntryType::Block
        };
        h.set_entry_type(kind);
        h.set_size(0);
        if kind != EntryType::Fifo {
            let rdev = m.rdev();
            h.set_device_major(libc::major(rdev))?;
            h.set_device_minor(libc::minor(rdev))?;
        }
        return b.append_data(&mut h, name, io::empty());
    }
    Ok(()) // sockets cannot be archived
}

/// Applies the rename rules to an entry name.
fn rebase(name: &[u8], rules: &[Rebase]) -> Vec<u8> {
    let mut out = name.to_vec();
    for (old, new) in rules {
        let old = old.as_bytes();
        let rest = if old == b"/" {
            out.strip_prefix(b"/").map(|r| {
                let mut v = b"/".to_vec();
                v.extend_from_slice(r);
                v
            })
        } else if out == old {
            Some(Vec::new())
        } else if out.starts_with(old) && out.get(old.len()) == Some(&b'/') {
            Some(out[old.len()..].to_vec())
        } else {
            None
        };
        if let Some(rest) = rest {
            let mut v = new.as_bytes().to_vec();
            v.extend_from_slice(&rest);
            out = v;
        }
    }
    out
}

/// Lexically cleaned components below the destination; `None` when a name
/// climbs above it.
fn components(name: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out: Vec<&[u8]> = Vec::new();
    for c in name.split(|b| *b == b'/') {
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

fn join(dir: &Path, comps: &[&[u8]]) -> PathBuf {
    let mut p = dir.to_path_buf();
    for c in comps {
        p.push(std::ffi::OsStr::from_bytes(c));
    }
    p
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Creates the parents of an entry below `dst`, refusing symlinks on the way.
fn parents(dst: &Path, comps: &[&[u8]]) -> io::Result<()> {
    let mut p = dst.to_path_buf();
    for c in comps {
        p.push(std::ffi::OsStr::from_bytes(c));
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(invalid(format!(
                    "refusing to extract through the symbolic link {}",
                    p.display()
                )))
            }
            Ok(_) => {
                return Err(invalid(format!("{}: not a directory", p.display())));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&p)?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Counts bytes read through it.
struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// Extracts the tar `r` below the existing directory `dst`, renaming
/// top-level names by `rules`; returns how many bytes the archive had.
pub fn untar(r: impl Read, dst: &Path, rules: &[Rebase]) -> io::Result<u64> {
    let mut counting = Counting { inner: r, n: 0 };
    let mut dirs: Vec<(PathBuf, u64)> = Vec::new();
    {
        let mut a = tar::Archive::new(&mut counting);
        for e in a.entries()? {
            let mut e = e?;
            if let Some(d) = one(&mut e, dst, rules)? {
                dirs.push(d);
            }
        }
    }
    // Directory times last, deepest first.
    for (p, mtime) in dirs.iter().rev() {
        let t = nix::sys::time::TimeSpec::new(*mtime as i64, 0);
        let _ = nix::sys::stat::utimensat(
            None,
            p,
            &t,
            &t,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        );
    }
    // The end-of-archive blocks are part of what was copied.
    io::copy(&mut counting, &mut io::sink())?;
    Ok(counting.n)
}

fn one<R: Read>(
    e: &mut tar::Entry<'_, R>,
    dst: &Path,
    rules: &[Rebase],
) -> io::Result<Option<(PathBuf, u64)>> {
    let kind = e.header().entry_type();
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
    let name = rebase(&raw, rules);
    let shown = String::from_utf8_lossy(&raw).into_owned();
    let comps = components(&name).ok_or_else(|| {
        invalid(format!(
            "invalid path in archive: {shown:?} is outside of the destination"
        ))
    })?;
    let Some((_, parent)) = comps.split_last() else {
        return Ok(None); // the destination itself
    };
    parents(dst, parent)?;
    let target = join(dst, &comps);
    let is_dir = kind == EntryType::Directory;
    if let Ok(m) = fs::symlink_metadata(&target) {
        if m.is_dir() && !is_dir {
            return Err(invalid(format!(
                "cannot overwrite directory {:?} with non-directory {:?}",
                target.display().to_string(),
                dst.display().to_string()
            )));
        }
        if !m.is_dir() && is_dir {
            return Err(invalid(format!(
                "cannot overwrite non-directory {:?} with directory {:?}",
                target.display().to_string(),
                dst.display().to_string()
            )));
        }
        if !m.is_dir() {
            fs::remove_file(&target)?;
        }
    }
    match kind {
        EntryType::Link => {
            let link = e
                .link_name_bytes()
                .map(|l| l.into_owned())
                .unwrap_or_default();
            let link = rebase(&link, rules);
            let lcomps = components(&link)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| invalid(format!("invalid hard link {shown:?} in archive")))?;
            let src = join(dst, &lcomps);
            if let Some((_, lparent)) = lcomps.split_last() {
                // The link's source must be reached without symlinks too.
                let mut p = dst.to_path_buf();
                for c in lparent {
                    p.push(std::ffi::OsStr::from_bytes(c));
                    if fs::symlink_metadata(&p)?.file_type().is_symlink() {
                        return Err(invalid(format!("invalid hard link {shown:?} in archive")));
                    }
                }
            }
            fs::hard_link(&src, &target)?;
        }
        EntryType::Char | EntryType::Block => {
            let h = e.header();
            let major = h.device_major().ok().flatten().unwrap_or(0);
            let minor = h.device_minor().ok().flatten().unwrap_or(0);
            let sflag = if kind == EntryType::Char {
                nix::sys::stat::SFlag::S_IFCHR
            } else {
                nix::sys::stat::SFlag::S_IFBLK
            };
            let mode = nix::sys::stat::Mode::from_bits_truncate(h.mode()? & 0o7777);
            nix::sys::stat::mknod(
                &target,
                sflag,
                mode,
                nix::sys::stat::makedev(major as u64, minor as u64),
            )
            .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
        }
        _ => {
            e.set_preserve_permissions(true);
            e.set_preserve_mtime(true);
            e.set_unpack_xattrs(false);
            e.unpack(&target)?;
        }
    }
    Ok(is_dir.then(|| (target, e.header().mtime().unwrap_or(0))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn rebases_top_level_names_only() {
        let r = vec![("noa".to_string(), "out".to_string())];
        assert_eq!(rebase(b"noa/", &r), b"out/");
        assert_eq!(rebase(b"noa/f", &r), b"out/f");
        assert_eq!(rebase(b"noa", &r), b"out");
        assert_eq!(rebase(b"noah/f", &r), b"noah/f");
        let dot = vec![(".".to_string(), "out".to_string())];
        assert_eq!(rebase(b"./f", &dot), b"out/f");
        let root = vec![("/".to_string(), "out".to_string())];
        assert_eq!(rebase(b"/bin/", &root), b"out/bin/");
        let two = vec![
            ("etc".to_string(), "elink".to_string()),
            ("elink".to_string(), "copy".to_string()),
        ];
        assert_eq!(rebase(b"etc/passwd", &two), b"copy/passwd");
    }

    #[test]
    fn packs_and_unpacks_with_modes_links_and_rebase() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("f"), b"data").unwrap();
        fs::set_permissions(src.join("f"), fs::Permissions::from_mode(0o4711)).unwrap();
        fs::hard_link(src.join("f"), src.join("hard")).unwrap();
        symlink("/etc/passwd", src.join("sub/abs")).unwrap();
        fs::set_permissions(src.join("sub"), fs::Permissions::from_mode(0o750)).unwrap();
        let mut tar = Vec::new();
        pack(&src, "src", &mut tar).unwrap();

        let dst = t.path().join("dst");
        fs::create_dir(&dst).unwrap();
        let n = untar(&tar[..], &dst, &[("src".into(), "copy".into())]).unwrap();
        assert_eq!(n, tar.len() as u64);
        let f = fs::metadata(dst.join("copy/f")).unwrap();
        assert_eq!((f.mode() & 0o7777, f.nlink()), (0o4711, 2));
        assert_eq!(fs::read(dst.join("copy/hard")).unwrap(), b"data");
        assert_eq!(
            fs::read_link(dst.join("copy/sub/abs")).unwrap(),
            Path::new("/etc/passwd")
        );
        assert_eq!(
            fs::metadata(dst.join("copy/sub")).unwrap().mode() & 0o777,
            0o750
        );

        // Again over the copy: files replaced, directories merged; a
        // directory never replaced by a file.
        untar(&tar[..], &dst, &[("src".into(), "copy".into())]).unwrap();
        let mut one_file = Vec::new();
        pack(&src.join("f"), "sub", &mut one_file).unwrap();
        let e = untar(&one_file[..], &dst.join("copy"), &[]).unwrap_err();
        assert!(e.to_string().contains("cannot overwrite directory"), "{e}");
    }

    #[test]
    fn hostile_archives_stay_inside() {
        let t = tempfile::tempdir().unwrap();
        let dst = t.path().join("dst");
        let outside = t.path().join("outside");
        fs::create_dir_all(&dst).unwrap();
        fs::create_dir_all(&outside).unwrap();
        symlink(&outside, dst.join("link")).unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut raw = |name: &str, kind: EntryType, link: &str| {
            let mut h = Header::new_gnu();
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            h.as_gnu_mut().unwrap().linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_entry_type(kind);
            h.set_mode(0o644);
            h.set_size(1);
            h.set_cksum();
            b.append(&h, &b"x"[..]).unwrap();
        };
        raw("link/evil", EntryType::Regular, "");
        let tar = b.into_inner().unwrap();
        assert!(untar(&tar[..], &dst, &[]).is_err());
        let mut b = tar::Builder::new(Vec::new());
        let mut h = Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../escape");
        h.set_entry_type(EntryType::Regular);
        h.set_size(0);
        h.set_cksum();
        b.append(&h, io::empty()).unwrap();
        assert!(untar(&b.into_inner().unwrap()[..], &dst, &[]).is_err());
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert!(!t.path().join("escape").exists());
    }
}
