//! Host port reservations. Like Docker's port allocator plus its userland
//! proxy's listening socket, berth keeps one bound socket per published host
//! port: other berth containers get "port is already allocated", host
//! programs get `EADDRINUSE`, and a port that something else holds already
//! is refused with Docker's "address already in use" text. Reservations live
//! in this process (the daemon) and are keyed by network namespace, so a
//! restarted daemon re-reserves by publishing again.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::sync::{Mutex, MutexGuard};

use crate::ports::{PortBinding, Proto};

/// A host port that cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum AllocError {
    #[error("Bind for {ip}:{port} failed: port is already allocated")]
    Allocated { ip: Ipv4Addr, port: u16 },
    #[error(
        "Error starting userland proxy: listen {proto}4 {ip}:{port}: bind: address already in use"
    )]
    InUse {
        proto: Proto,
        ip: Ipv4Addr,
        port: u16,
    },
    #[error("no free host port in {0}-{1}")]
    Exhausted(u16, u16),
    #[error("reserve host port {port}: {source}")]
    Io {
        port: u16,
        #[source]
        source: io::Error,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Key {
    netns: u64,
    ip: Ipv4Addr,
    proto: Proto,
    port: u16,
}

struct Held {
    owner: String,
    /// `None` for protocols the kernel cannot open here (SCTP without its
    /// module): those are only reserved against other berth containers.
    _sock: Option<OwnedFd>,
}

#[derive(Default)]
struct Registry {
    held: HashMap<Key, Held>,
    /// Where the next search for a dynamic port starts (round robin, as in
    /// Docker).
    cursor: u16,
}

static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);

fn registry() -> MutexGuard<'static, Option<Registry>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// The inode of the calling thread's network namespace.
fn current_netns() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| m.ino())
        .unwrap_or(0)
}

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`).
fn ephemeral_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse::<u16>().ok());
            Some((it.next()??, it.next()??))
        })
        .filter(|(a, b)| a <= b && *a > 0)
        .unwrap_or((32768, 60999))
}

/// Reserves a concrete host port for every binding on behalf of `owner`
/// and returns the bindings with their ports filled in. All or nothing:
/// on error the reservations made by this call are dropped again.
pub fn reserve(owner: &str, bindings: &[PortBinding]) -> Result<Vec<PortBinding>, AllocError> {
    let netns = current_netns();
    let mut guard = registry();
    let reg = guard.get_or_insert_with(Registry::default);
    let mut made: Vec<Key> = Vec::new();
    let mut out = Vec::with_capacity(bindings.len());
    for b in bindings {
        match reserve_one(reg, netns, owner, b) {
            Ok((key, new)) => {
                if new {
                    made.push(key);
                }
                out.push(PortBinding {
                    host_port: key.port,
                    host_port_end: key.port,
                    ..b.clone()
                });
            }
            Err(e) => {
                for k in made {
                    reg.held.remove(&k);
                }
                return Err(e);
            }
        }
    }
    Ok(out)
}

/// The key reserved for `b` and whether it is new (not held by `owner`
/// before).
fn reserve_one(
    reg: &mut Registry,
    netns: u64,
    owner: &str,
    b: &PortBinding,
) -> Result<(Key, bool), AllocError> {
    let ip = b.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let key = |port| Key {
        netns,
        ip,
        proto: b.proto,
        port,
    };
    if b.host_port != 0 && b.host_port == b.host_port_end {
        let k = key(b.host_port);
        if reg.held.get(&k).is_some_and(|h| h.owner == owner) {
            return Ok((k, false));
        }
        if let Some(c) = conflict(reg, &k, owner) {
            return Err(AllocError::Allocated {
                ip: c,
                port: k.port,
            });
        }
        let sock = bind_test(&k)?;
        reg.held.insert(
            k,
            Held {
                owner: owner.to_string(),
                _sock: sock,
            },
        );
        return Ok((k, true));
    }
    let dynamic = b.host_port == 0;
    let (lo, hi) = if dynamic {
        ephemeral_range()
    } else {
        (b.host_port, b.host_port_end)
    };
    let span = u32::from(hi - lo) + 1;
    let start = if dynamic && (lo..=hi).contains(&reg.cursor) {
        reg.cursor
    } else {
        lo
    };
    for i in 0..span {
        let port = (u32::from(lo) + (u32::from(start - lo) + i) % span) as u16;
        let k = key(port);
        if conflict(reg, &k, owner).is_some() || reg.held.contains_key(&k) {
            continue;
        }
        match bind_test(&k) {
            Ok(sock) => {
                reg.held.insert(
                    k,
                    Held {
                        owner: owner.to_string(),
                        _sock: sock,
                    },
                );
                if dynamic {
                    reg.cursor = if port == hi { lo } else { port + 1 };
                }
                return Ok((k, true));
            }
            Err(AllocError::InUse { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(AllocError::Exhausted(lo, hi))
}

/// Another owner's reservation that clashes with `k` (same namespace,
/// protocol and port; same address, or either one is the wildcard); its
/// address for the error text.
fn conflict(reg: &Registry, k: &Key, owner: &str) -> Option<Ipv4Addr> {
    reg.held.iter().find_map(|(o, h)| {
        let clash = o.netns == k.netns
            && o.proto == k.proto
            && o.port == k.port
            && (o.ip == k.ip || o.ip.is_unspecified() || k.ip.is_unspecified())
            && h.owner != owner;
        clash.then_some(k.ip)
    })
}

/// Binds a socket to the host address and port and keeps it.
fn bind_test(k: &Key) -> Result<Option<OwnedFd>, AllocError> {
    let (ty, proto) = match k.proto {
        Proto::Tcp => (libc::SOCK_STREAM, 0),
        Proto::Udp => (libc::SOCK_DGRAM, 0),
        Proto::Sctp => (libc::SOCK_STREAM, libc::IPPROTO_SCTP),
    };
    let io_err = |source| AllocError::Io {
        port: k.port,
        source,
    };
    // SAFETY: plain socket(2) call; the result is checked.
    let raw = unsafe { libc::socket(libc::AF_INET, ty | libc::SOCK_CLOEXEC, proto) };
    if raw < 0 {
        let e = io::Error::last_os_error();
        return match (k.proto, e.raw_os_error()) {
            (Proto::Sctp, Some(libc::EPROTONOSUPPORT | libc::ESOCKTNOSUPPORT)) => Ok(None),
            _ => Err(io_err(e)),
        };
    }
    // SAFETY: raw is a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let addr = sockaddr(SocketAddrV4::new(k.ip, k.port));
    // SAFETY: addr is a valid sockaddr_in of the length passed.
    let r = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::EADDRINUSE) => AllocError::InUse {
                proto: k.proto,
                ip: k.ip,
                port: k.port,
            },
            _ => io_err(e),
        });
    }
    Ok(Some(sock))
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.ip().octets()),
        },
        sin_zero: [0; 8],
    }
}

/// Drops every reservation of `owner` in the calling thread's namespace.
pub fn release(owner: &str) {
    let netns = current_netns();
    if let Some(reg) = registry().as_mut() {
        reg.held
            .retain(|k, h| !(k.netns == netns && h.owner == owner));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::parse_publish;

    fn spec(s: &str) -> Vec<PortBinding> {
        parse_publish(s).unwrap()
    }

    // These tests bind loopback ports of the test process's namespace;
    // each uses its own ports and owners so they can run in parallel.

    #[test]
    fn fixed_port_conflicts_and_idempotence() {
        let a = reserve("alloc-a", &spec("127.0.0.1:39071:80")).unwrap();
        assert_eq!(a[0].host_port, 39071);
        // same owner again: fine
        reserve("alloc-a", &spec("127.0.0.1:39071:80")).unwrap();
        let e = reserve("alloc-b", &spec("39071:80")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Bind for 0.0.0.0:39071 failed: port is already allocated"
        );
        let e = reserve("alloc-b", &spec("127.0.0.1:39071:80")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Bind for 127.0.0.1:39071 failed: port is already allocated"
        );
        // another protocol is independent
        reserve("alloc-b", &spec("127.0.0.1:39071:80/udp")).unwrap();
        release("alloc-a");
        reserve("alloc-c", &spec("127.0.0.1:39071:80")).unwrap();
        release("alloc-b");
        release("alloc-c");
    }

    #[test]
    fn port_held_by_a_program() {
        let l = std::net::TcpListener::bind("127.0.0.1:39081").unwrap();
        let e = reserve("alloc-d", &spec("127.0.0.1:39081:80")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Error starting userland proxy: listen tcp4 127.0.0.1:39081: bind: address already in use"
        );
        // a range skips the busy port
        let r = reserve("alloc-d", &spec("127.0.0.1:39081-39083:80")).unwrap();
        assert_eq!(r[0].host_port, 39082);
        assert_eq!(r[0].host_port_end, 39082);
        drop(l);
        // the held socket keeps programs out
        assert!(std::net::TcpListener::bind("127.0.0.1:39082").is_err());
        release("alloc-d");
        assert!(std::net::TcpListener::bind("127.0.0.1:39082").is_ok());
    }

    #[test]
    fn all_or_nothing_and_dynamic() {
        let _l = std::net::TcpListener::bind("127.0.0.1:39092").unwrap();
        assert!(reserve("alloc-e", &spec("127.0.0.1:39091-39092:80-81")).is_err());
        // 39091 was released again
        reserve("alloc-f", &spec("127.0.0.1:39091:80")).unwrap();
        let d = reserve("alloc-f", &spec("127.0.0.1::80")).unwrap();
        let (lo, hi) = ephemeral_range();
        assert!((lo..=hi).contains(&d[0].host_port), "{d:?}");
        release("alloc-f");
    }
}
