//! Brings up `lo` in a new network namespace (`ioctl SIOCSIFFLAGS IFF_UP`).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::process::failure::{Context, InitError, Stage};

/// `struct ifreq` with the flags member of its union.
#[repr(C)]
struct IfreqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

fn last_errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

pub fn loopback_up() -> Result<(), InitError> {
    // SAFETY: plain socket call.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(last_errno()).at(Stage::Network, || "socket");
    }
    // SAFETY: raw is a new fd that we own.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut req = IfreqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: 0,
        _pad: [0; 22],
    };
    req.name[..2].copy_from_slice(b"lo");
    // SAFETY: req is a valid ifreq-sized buffer for both ioctls.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(last_errno()).at(Stage::Network, || "get flags of lo");
    }
    req.flags |= libc::IFF_UP as libc::c_short;
    // SAFETY: as above.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(last_errno()).at(Stage::Network, || "bring up lo");
    }
    Ok(())
}
