//! Tar archives written from directory descriptors, with Docker's entry
//! format: directory names end in `/`, modes carry the file-type bits,
//! numeric owners, hard links as `Link` entries to the first name of an
//! inode, `security.capability` as a PAX `SCHILY.xattr` record, sockets
//! left out; names and link targets of any length (GNU long-name records).
//!
//! Every entry is reached from its parent's descriptor without following
//! symlinks, and regular files are read through an `O_PATH` descriptor
//! checked with `fstat` first, so a container cannot make berth read a
//! device, a FIFO or anything outside the tree it walks.

use super::sys;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{FileStat, SFlag};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use tar::{EntryType, Header};

/// An entry that exists in the archive but not on disk (Docker's init layer).
#[derive(Debug, Clone, PartialEq)]
pub enum Synthetic {
    Dir,
    File,
    Symlink(&'static str),
}

/// Directory contents to add to a walk: `(dir path in the archive) → entries`.
pub type Extras<'a> = &'a dyn Fn(&[u8]) -> Vec<(&'static str, Synthetic)>;

/// A tar stream being written.
pub struct TarOut<W: Write> {
    b: tar::Builder<W>,
    /// First archive name of each multiply-linked regular file, by (dev, inode).
    links: HashMap<(u64, u64), Vec<u8>>,
    /// Modification time of synthetic entries.
    pub synthetic_mtime: u64,
    /// Mounts (by mount ID) whose directories are written but not entered.
    pub skip_mounts: Vec<u64>,
}

fn header(st: &FileStat, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & (libc::S_IFMT | 0o7777));
    h.set_uid(st.st_uid as u64);
    h.set_gid(st.st_gid as u64);
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

/// A PAX record `"<len> <key>=<value>\n"`, `<len>` counting itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut r = format!("{len} {key}=").into_bytes();
    r.extend_from_slice(value);
    r.push(b'\n');
    r
}

impl<W: Write> TarOut<W> {
    pub fn new(w: W) -> TarOut<W> {
        TarOut {
            b: tar::Builder::new(w),
            links: HashMap::new(),
            synthetic_mtime: 0,
            skip_mounts: Vec::new(),
        }
    }

    /// Writes the end-of-archive blocks and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.b.into_inner()
    }

    /// Sets a name field, emitting a GNU long-name record first when it
    /// does not fit (names are written as they are, never rewritten).
    fn long(&mut self, kind: EntryType, value: &[u8]) -> io::Result<()> {
        let mut h = Header::new_gnu();
        h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(value.len() as u64 + 1);
        h.set_cksum();
        self.b.append(&h, value.chain(&[0u8][..]))
    }

    /// Appends `h` named `name` (and `link`) with `data`.
    fn append(
        &mut self,
        mut h: Header,
        name: &[u8],
        link: Option<&[u8]>,
        data: impl Read,
    ) -> io::Result<()> {
        if name.len() > 100 {
            self.long(EntryType::GNULongName, name)?;
        }
        let field = &mut h.as_old_mut().name;
        let n = name.len().min(100);
        field.fill(0);
        field[..n].copy_from_slice(&name[..n]);
        if let Some(link) = link {
            if link.len() > 100 {
                self.long(EntryType::GNULongLink, link)?;
            }
            let field = &mut h.as_old_mut().linkname;
            let n = link.len().min(100);
            field.fill(0);
            field[..n].copy_from_slice(&link[..n]);
        }
        h.set_cksum();
        self.b.append(&h, data)
    }

    fn pax(&mut self, name: &[u8], records: &[u8]) -> io::Result<()> {
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        h.set_mode(0o644);
        h.set_size(records.len() as u64);
        let mut pax_name = b"PaxHeaders.0/".to_vec();
        let base = name
            .rsplit(|b| *b == b'/')
            .find(|c| !c.is_empty())
            .unwrap_or(b"x");
        pax_name.extend_from_slice(&base[..base.len().min(80)]);
        self.append(h, &pax_name, None, records)
    }

    /// Appends the entry `name` of directory `dir` as `path` (directories get
    /// a trailing `/`). Returns the directory, opened, when it is one so the
    /// caller can descend; `None` for other entries and for entries that
    /// vanished meanwhile.
    pub fn entry(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        path: &[u8],
    ) -> io::Result<Option<OwnedFd>> {
        let st = match sys::lstatat(dir, name) {
            Ok(st) => st,
            Err(e) if sys::is(&e, Errno::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        match sys::kind(&st) {
            SFlag::S_IFDIR => {
                let fd = match sys::openat(
                    dir,
                    name,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
                    0,
                ) {
                    Ok(fd) => fd,
                    // Swapped for something else meanwhile: left out.
                    Err(e)
                        if sys::is(&e, Errno::ENOENT)
                            || sys::is(&e, Errno::ENOTDIR)
                            || sys::is(&e, Errno::ELOOP) =>
                    {
                        return Ok(None)
                    }
                    Err(e) => return Err(e),
                };
                self.dir_header(fd.as_fd(), path)?;
                Ok(Some(fd))
            }
            SFlag::S_IFREG => {
                let fd = match sys::openat(dir, name, OFlag::O_PATH | OFlag::O_NOFOLLOW, 0) {
                    Ok(fd) => fd,
                    Err(e) if sys::is(&e, Errno::ENOENT) => return Ok(None),
                    Err(e) => return Err(e),
                };
                self.file(fd.as_fd(), path)?;
                Ok(None)
            }
            SFlag::S_IFLNK => {
                let target = match sys::readlinkat(dir, name) {
                    Ok(t) => t,
                    Err(e) if sys::is(&e, Errno::ENOENT) || sys::is(&e, Errno::EINVAL) => {
                        return Ok(None)
                    }
                    Err(e) => return Err(e),
                };
                let h = header(&st, EntryType::Symlink);
                self.append(h, path, Some(target.as_bytes()), io::empty())?;
                Ok(None)
            }
            SFlag::S_IFCHR | SFlag::S_IFBLK | SFlag::S_IFIFO => {
                self.special(&st, path)?;
                Ok(None)
            }
            _ => Ok(None), // sockets cannot be archived
        }
    }

    /// The header of a directory (open `fd`) named `path` + `/`.
    pub fn dir_header(&mut self, fd: BorrowedFd<'_>, path: &[u8]) -> io::Result<()> {
        let st = sys::fstat(fd)?;
        let mut name = path.to_vec();
        if !name.ends_with(b"/") {
            name.push(b'/');
        }
        self.append(header(&st, EntryType::Directory), &name, None, io::empty())
    }

    /// A regular file reached through the `O_PATH` descriptor `fd`.
    fn file(&mut self, fd: BorrowedFd<'_>, path: &[u8]) -> io::Result<()> {
        let st = sys::fstat(fd)?;
        if sys::kind(&st) != SFlag::S_IFREG {
            return Ok(()); // swapped meanwhile
        }
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let h = header(&st, EntryType::Link);
                return self.append(h, path, Some(&first), io::empty());
            }
            self.links.insert(key, path.to_vec());
        }
        let f = sys::reopen_read(fd)?;
        if let Some(cap) = sys::fgetxattr(f.as_fd(), "security.capability")? {
            self.pax(path, &pax_record("SCHILY.xattr.security.capability", &cap))?;
        }
        let size = st.st_size.max(0) as u64;
        let mut h = header(&st, EntryType::Regular);
        h.set_size(size);
        // Exactly `size` bytes whatever the file does meanwhile.
        let data = f.take(size).chain(io::repeat(0)).take(size);
        self.append(h, path, None, data)
    }

    fn special(&mut self, st: &FileStat, path: &[u8]) -> io::Result<()> {
        let kind = match sys::kind(st) {
            SFlag::S_IFCHR => EntryType::Char,
            SFlag::S_IFBLK => EntryType::Block,
            _ => EntryType::Fifo,
        };
        let mut h = header(st, kind);
        if kind != EntryType::Fifo {
            h.set_device_major(libc::major(st.st_rdev))?;
            h.set_device_minor(libc::minor(st.st_rdev))?;
        }
        self.append(h, path, None, io::empty())
    }

    /// An OCI whiteout `.wh.<name>` for the overlay whiteout `st` at `path`.
    pub fn whiteout(&mut self, st: &FileStat, dir: &[u8], name: &OsStr) -> io::Result<()> {
        let mut p = dir.to_vec();
        p.extend_from_slice(b".wh.");
        p.extend_from_slice(name.as_bytes());
        let mut h = header(st, EntryType::Regular);
        h.set_mode(0o600);
        self.append(h, &p, None, io::empty())
    }

    /// The opaque marker `<dir>/.wh..wh..opq` for the directory `st`.
    pub fn opaque(&mut self, st: &FileStat, dir: &[u8]) -> io::Result<()> {
        let mut p = dir.to_vec();
        if !p.ends_with(b"/") {
            p.push(b'/');
        }
        p.extend_from_slice(b".wh..wh..opq");
        let mut h = header(st, EntryType::Regular);
        h.set_mode(st.st_mode & 0o777);
        self.append(h, &p, None, io::empty())
    }

    /// An entry that is not on disk, owned by root.
    fn synthetic(&mut self, path: &[u8], s: &Synthetic) -> io::Result<()> {
        let mut h = Header::new_gnu();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(self.synthetic_mtime);
        h.set_size(0);
        match s {
            Synthetic::Dir => {
                h.set_entry_type(EntryType::Directory);
                h.set_mode(libc::S_IFDIR | 0o755);
                let mut name = path.to_vec();
                name.push(b'/');
                self.append(h, &name, None, io::empty())
            }
            Synthetic::File => {
                h.set_entry_type(EntryType::Regular);
                h.set_mode(libc::S_IFREG | 0o755);
                self.append(h, path, None, io::empty())
            }
            Synthetic::Symlink(t) => {
                h.set_entry_type(EntryType::Symlink);
                h.set_mode(libc::S_IFLNK | 0o777);
                self.append(h, path, Some(t.as_bytes()), io::empty())
            }
        }
    }

    /// Writes everything below the open directory `dir`, names prefixed with
    /// `prefix` (which ends in `/` or is empty), in sorted order. Mount
    /// points of kernel filesystems (proc, sysfs, …) and of `skip_mounts`
    /// are written, not entered.
    pub fn tree(&mut self, dir: BorrowedFd<'_>, prefix: &[u8]) -> io::Result<()> {
        self.tree_with(dir, prefix, &|_| Vec::new())
    }

    /// [`TarOut::tree`] plus the `extras` of each directory that do not exist.
    pub fn tree_with(
        &mut self,
        dir: BorrowedFd<'_>,
        prefix: &[u8],
        extras: Extras<'_>,
    ) -> io::Result<()> {
        if sys::is_pseudo_fs(dir)
            || (!self.skip_mounts.is_empty()
                && sys::mount_id(dir).is_ok_and(|m| self.skip_mounts.contains(&m)))
        {
            return Ok(());
        }
        let mut names: Vec<(OsString, Option<Synthetic>)> =
            sys::list_dir(dir)?.into_iter().map(|n| (n, None)).collect();
        for (name, s) in extras(prefix) {
            if !names.iter().any(|(n, _)| n == name) {
                names.push((name.into(), Some(s)));
            }
        }
        names.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        for (name, synth) in names {
            let mut path = prefix.to_vec();
            path.extend_from_slice(name.as_bytes());
            match synth {
                None => {
                    if let Some(sub) = self.entry(dir, &name, &path)? {
                        path.push(b'/');
                        self.tree_with(sub.as_fd(), &path, extras)?;
                    }
                }
                Some(s) => {
                    self.synthetic(&path, &s)?;
                    if s == Synthetic::Dir {
                        path.push(b'/');
                        self.synthetic_tree(&path, extras)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn synthetic_tree(&mut self, prefix: &[u8], extras: Extras<'_>) -> io::Result<()> {
        let mut items = extras(prefix);
        items.sort_by(|a, b| a.0.cmp(b.0));
        for (name, s) in items {
            let mut path = prefix.to_vec();
            path.extend_from_slice(name.as_bytes());
            self.synthetic(&path, &s)?;
            if s == Synthetic::Dir {
                path.push(b'/');
                self.synthetic_tree(&path, extras)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn entries(tar: &[u8]) -> Vec<(String, EntryType, String, u32, Vec<u8>)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
                let link = e
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                let kind = e.header().entry_type();
                let mode = e.header().mode().unwrap();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (name, kind, link, mode, data)
            })
            .collect()
    }

    #[test]
    fn writes_docker_entries_without_following_links() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("r");
        fs::create_dir_all(root.join("d/sub")).unwrap();
        fs::write(root.join("d/f"), b"data").unwrap();
        fs::set_permissions(root.join("d/f"), fs::Permissions::from_mode(0o4711)).unwrap();
        fs::hard_link(root.join("d/f"), root.join("d/hard")).unwrap();
        symlink("/etc/shadow", root.join("d/evil")).unwrap();
        let long = "n".repeat(150);
        fs::write(root.join("d/sub").join(&long), b"x").unwrap();
        nix::unistd::mkfifo(
            &root.join("d/fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();

        let dirfd: OwnedFd = fs::File::open(&root).unwrap().into();
        let mut w = TarOut::new(Vec::new());
        let sub = w
            .entry(dirfd.as_fd(), OsStr::new("d"), b"d")
            .unwrap()
            .unwrap();
        w.tree(sub.as_fd(), b"d/").unwrap();
        let got = entries(&w.finish().unwrap());
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        let long_name = format!("d/sub/{long}");
        assert_eq!(
            names,
            [
                "d/",
                "d/evil",
                "d/f",
                "d/fifo",
                "d/hard",
                "d/sub/",
                long_name.as_str()
            ]
        );
        assert_eq!(got[0].3, 0o40755);
        assert_eq!(
            (got[1].1, got[1].2.as_str()),
            (EntryType::Symlink, "/etc/shadow")
        );
        assert!(got[1].4.is_empty());
        assert_eq!((got[2].3, got[2].4.as_slice()), (0o104711, &b"data"[..]));
        assert_eq!(got[3].1, EntryType::Fifo);
        assert_eq!((got[4].1, got[4].2.as_str()), (EntryType::Link, "d/f"));
        assert_eq!(got[6].4, b"x");
    }

    #[test]
    fn pax_records_count_their_own_length() {
        let r = pax_record("k", b"v");
        assert_eq!(r, b"6 k=v\n");
        let r = pax_record("SCHILY.xattr.security.capability", &[0u8; 62]);
        let text_len = r.len();
        assert!(r.starts_with(format!("{text_len} ").as_bytes()));
    }
}
