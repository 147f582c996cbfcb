//! Thin wrappers over the fd-relative syscalls the filesystem operations are
//! built from, returning `io::Result`. Nothing here resolves a path with more
//! than one component except [`openat2`], whose resolution is bounded by its
//! flags; every other call names one entry of an already opened directory and
//! never follows a symlink in that last component unless it says so.

use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{FileStat, Mode, SFlag};
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// `Errno` as `io::Error`.
pub fn err(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Whether `e` is the OS error `code`.
pub fn is(e: &io::Error, code: Errno) -> bool {
    e.raw_os_error() == Some(code as i32)
}

fn owned(fd: i32) -> OwnedFd {
    // SAFETY: `fd` was just returned by a successful open and is owned by no one else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// `openat(dir, name, flags | O_CLOEXEC, mode)`.
pub fn openat(dir: BorrowedFd<'_>, name: &OsStr, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        flags | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )
    .map_err(err)?;
    Ok(owned(fd))
}

/// `openat2(dir, path, {flags | O_CLOEXEC, resolve})`, retried on `EAGAIN`
/// (the kernel's answer to a concurrent rename during a scoped lookup).
pub fn openat2(
    dir: BorrowedFd<'_>,
    path: &OsStr,
    flags: OFlag,
    resolve: ResolveFlag,
) -> io::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(resolve);
    let mut tries = 0;
    loop {
        match nix::fcntl::openat2(dir.as_raw_fd(), path, how) {
            Ok(fd) => return Ok(owned(fd)),
            Err(Errno::EAGAIN) if tries < 64 => tries += 1,
            Err(e) => return Err(err(e)),
        }
    }
}

/// `fstat(fd)` (works on `O_PATH` descriptors).
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<FileStat> {
    nix::sys::stat::fstat(fd.as_raw_fd()).map_err(err)
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`.
pub fn lstatat(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<FileStat> {
    nix::sys::stat::fstatat(
        Some(dir.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(err)
}

/// `readlinkat(dir, name)`.
pub fn readlinkat(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OsString> {
    nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name).map_err(err)
}

/// The file type bits of a stat.
pub fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & libc::S_IFMT)
}

pub fn is_dir(st: &FileStat) -> bool {
    kind(st) == SFlag::S_IFDIR
}

/// An overlay whiteout: a character device 0/0.
pub fn is_whiteout(st: &FileStat) -> bool {
    kind(st) == SFlag::S_IFCHR && st.st_rdev == 0
}

/// Names in the directory `dir` (without `.` and `..`), sorted bytewise as
/// Go's `filepath.Walk` visits them.
pub fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<OsString>> {
    // A fresh descriptor: the directory stream must not share an offset.
    let fd = openat(
        dir,
        OsStr::new("."),
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        0,
    )?;
    let mut d = nix::dir::Dir::from(fd).map_err(err)?;
    let mut names = Vec::new();
    for e in d.iter() {
        let e = e.map_err(err)?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            names.push(OsStr::from_bytes(n).to_os_string());
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

/// `/proc/self/fd/<fd>`: names the open file itself, never a new lookup.
pub fn fd_path(fd: BorrowedFd<'_>) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Opens the file an `O_PATH` descriptor refers to for reading. Reopening
/// through `/proc/self/fd` reaches the same inode, so a file checked with
/// `fstat` cannot be swapped for a device or FIFO before it is read.
pub fn reopen_read(fd: BorrowedFd<'_>) -> io::Result<File> {
    let p = fd_path(fd);
    let raw = nix::fcntl::open(
        p.as_str(),
        OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOCTTY | OFlag::O_NONBLOCK,
        Mode::empty(),
    )
    .map_err(err)?;
    Ok(File::from(owned(raw)))
}

/// `fgetxattr` on an open (not `O_PATH`) descriptor; `None` when unset or unsupported.
pub fn fgetxattr(fd: BorrowedFd<'_>, name: &str) -> io::Result<Option<Vec<u8>>> {
    let key = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: valid fd, NUL-terminated name, buffer of `buf.len()` bytes.
        let n = unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                key.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(Some(buf));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENODATA) | Some(libc::ENOTSUP) => return Ok(None),
            Some(libc::ERANGE) if buf.len() < 1 << 16 => buf.resize(buf.len() * 4, 0),
            _ => return Err(e),
        }
    }
}

/// `fsetxattr` on an open descriptor; unsupported filesystems are tolerated.
pub fn fsetxattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    let key = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: valid fd, NUL-terminated name, buffer of `value.len()` bytes.
    let r = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            key.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::ENOTSUP) {
        return Ok(());
    }
    Err(e)
}

/// Whether the directory `fd` is an overlay opaque directory.
pub fn is_opaque(fd: BorrowedFd<'_>) -> io::Result<bool> {
    Ok(fgetxattr(fd, "trusted.overlay.opaque")?.as_deref() == Some(b"y"))
}

/// Filesystems whose content is generated by the kernel (proc, sysfs, …):
/// archives stop at their mount points, as Docker's view never has them.
pub fn is_pseudo_fs(fd: BorrowedFd<'_>) -> bool {
    let mut sfs = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: valid fd and a buffer for one statfs.
    if unsafe { libc::fstatfs(fd.as_raw_fd(), sfs.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: fstatfs succeeded and filled the struct.
    // `f_type`'s integer type differs between architectures.
    #[allow(clippy::unnecessary_cast)]
    let kind = unsafe { sfs.assume_init() }.f_type as i64;
    const PSEUDO: &[i64] = &[
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x1cd1,      // devpts
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0x1980_0202, // mqueue
        0x7363_6673, // securityfs
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x6e73_6673, // nsfs
        0xcafe_4a11, // bpf
    ];
    PSEUDO.contains(&kind)
}

/// The mount ID of the file `fd` refers to (statx `STX_MNT_ID`).
pub fn mount_id(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut stx = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: valid fd, empty NUL-terminated path with AT_EMPTY_PATH, buffer for one statx.
    let r = unsafe {
        libc::statx(
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_MNT_ID,
            stx.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statx succeeded and filled the struct.
    Ok(unsafe { stx.assume_init() }.stx_mnt_id)
}

/// `mkdirat(dir, name, mode)`.
pub fn mkdirat(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> io::Result<()> {
    nix::sys::stat::mkdirat(Some(dir.as_raw_fd()), name, Mode::from_bits_truncate(mode))
        .map_err(err)
}

/// `unlinkat(dir, name, 0 | AT_REMOVEDIR)`.
pub fn unlinkat(dir: BorrowedFd<'_>, name: &OsStr, is_dir: bool) -> io::Result<()> {
    let flag = if is_dir {
        nix::unistd::UnlinkatFlags::RemoveDir
    } else {
        nix::unistd::UnlinkatFlags::NoRemoveDir
    };
    nix::unistd::unlinkat(Some(dir.as_raw_fd()), name, flag).map_err(err)
}

/// Removes `name` in `dir` and, for a directory, everything below it,
/// without following any symlink.
pub fn remove_all_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    let st = match lstatat(dir, name) {
        Ok(s) => s,
        Err(e) if is(&e, Errno::ENOENT) => return Ok(()),
        Err(e) => return Err(e),
    };
    if !is_dir(&st) {
        return unlinkat(dir, name, false);
    }
    let sub = openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
        0,
    )?;
    for child in list_dir(sub.as_fd())? {
        remove_all_at(sub.as_fd(), &child)?;
    }
    unlinkat(dir, name, true)
}
