//! The embedded DNS server of containers on user-defined networks, at
//! 127.0.0.11:53 (UDP and TCP) inside the container's network namespace.
//!
//! The sockets are opened in the container's namespace by a short-lived
//! thread (`berth_net::netns::run_in`) and then served from the daemon's
//! tokio runtime: a socket stays in the namespace it was created in. Names
//! of containers (name, aliases, short ID, also as `name.network`) on the
//! networks the asking container shares with them are answered from the
//! daemon's state; other names are forwarded, from the daemon's own
//! namespace, to the container's `--dns` servers or the host's resolvers.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::AbortHandle;

use super::dns::{self, Rcode, CLASS_IN, TYPE_A, UDP_LIMIT};
use super::{Shared, State};

/// The address the container's resolv.conf names.
pub const ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
/// Time to live of answers about containers (Docker's).
const TTL: u32 = 600;
const FORWARD_TIMEOUT: Duration = Duration::from_secs(2);
const TCP_IDLE: Duration = Duration::from_secs(10);

/// The running server of one container; dropping it stops the server and
/// closes its sockets.
pub struct Handle {
    tasks: Vec<AbortHandle>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What to do with a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Local(Vec<Ipv4Addr>),
    Forward,
    NxDomain,
}

/// The sockets of a server, opened in the container's namespace.
pub struct Sockets {
    udp: UdpSocket,
    tcp: TcpListener,
}

/// Opens 127.0.0.11:53 (UDP and TCP) in the network namespace at `netns`.
/// Blocking.
pub fn listen(netns: &Path) -> io::Result<Sockets> {
    let ns = berth_net::netns::open(netns).map_err(io::Error::other)?;
    let addr = SocketAddrV4::new(ADDRESS, 53);
    let opened = berth_net::netns::run_in(&ns, || {
        let udp = UdpSocket::bind(addr)?;
        let tcp = TcpListener::bind(addr)?;
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        Ok::<_, io::Error>(Sockets { udp, tcp })
    });
    opened.map_err(io::Error::other)?
}

/// Serves `sockets` for container `id` until the handle is dropped. Must
/// run inside the tokio runtime.
pub fn serve(
    sockets: Sockets,
    shared: Arc<Shared>,
    id: String,
    upstream: Vec<SocketAddr>,
) -> io::Result<Handle> {
    let udp = Arc::new(tokio::net::UdpSocket::from_std(sockets.udp)?);
    let tcp = tokio::net::TcpListener::from_std(sockets.tcp)?;
    let ctx = Arc::new(Ctx {
        shared,
        id,
        upstream,
    });
    let udp_task = {
        let ctx = ctx.clone();
        tokio::spawn(async move { serve_udp(udp, ctx).await })
    };
    let tcp_task = tokio::spawn(async move { serve_tcp(tcp, ctx).await });
    Ok(Handle {
        tasks: vec![udp_task.abort_handle(), tcp_task.abort_handle()],
    })
}

struct Ctx {
    shared: Arc<Shared>,
    id: String,
    upstream: Vec<SocketAddr>,
}

impl Ctx {
    /// The answer to one message, or `None` to stay silent.
    async fn respond(&self, msg: &[u8], limit: usize) -> Option<Vec<u8>> {
        let q = match dns::parse_query(msg) {
            Ok(q) => q,
            Err(_) => return dns::servfail_for(msg),
        };
        let answer = if q.qclass == CLASS_IN {
            lookup(&self.shared.read(), &self.id, &q.name)
        } else {
            Answer::Forward
        };
        match answer {
            Answer::Local(ips) if q.qtype == TYPE_A => Some(q.answer_a(&ips, TTL, limit)),
            // Known name, no records of that type (AAAA…).
            Answer::Local(_) => Some(q.reply(Rcode::NoError)),
            Answer::NxDomain => Some(q.reply(Rcode::NxDomain)),
            Answer::Forward if self.upstream.is_empty() => Some(q.reply(Rcode::NxDomain)),
            Answer::Forward => Some(
                forward(msg, q.id, &self.upstream)
                    .await
                    .unwrap_or_else(|| q.reply(Rcode::ServFail)),
            ),
        }
    }
}

async fn serve_udp(sock: Arc<tokio::net::UdpSocket>, ctx: Arc<Ctx>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            continue;
        };
        let msg = buf[..n].to_vec();
        let (sock, ctx) = (sock.clone(), ctx.clone());
        tokio::spawn(async move {
            if let Some(resp) = ctx.respond(&msg, UDP_LIMIT).await {
                let _ = sock.send_to(&resp, peer).await;
            }
        });
    }
}

async fn serve_tcp(listener: tokio::net::TcpListener, ctx: Arc<Ctx>) {
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                let mut len = [0u8; 2];
                let read = tokio::time::timeout(TCP_IDLE, conn.read_exact(&mut len)).await;
                if !matches!(read, Ok(Ok(_))) {
                    return;
                }
                let mut msg = vec![0u8; u16::from_be_bytes(len) as usize];
                if conn.read_exact(&mut msg).await.is_err() {
                    return;
                }
                let Some(resp) = ctx.respond(&msg, u16::MAX as usize).await else {
                    return;
                };
                let mut out = (resp.len() as u16).to_be_bytes().to_vec();
                out.extend_from_slice(&resp);
                if conn.write_all(&out).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Sends the query to each upstream server in turn until one answers with
/// the same ID.
async fn forward(msg: &[u8], id: u16, upstream: &[SocketAddr]) -> Option<Vec<u8>> {
    for server in upstream {
        let bind: SocketAddr = if server.is_ipv4() {
            "0.0.0.0:0".parse().ok()?
        } else {
            "[::]:0".parse().ok()?
        };
        let Ok(sock) = tokio::net::UdpSocket::bind(bind).await else {
            continue;
        };
        if sock.send_to(msg, server).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 4096];
        let got = tokio::time::timeout(FORWARD_TIMEOUT, async {
            loop {
                let (n, from) = sock.recv_from(&mut buf).await?;
                if from == *server && n >= 2 && buf[..2] == id.to_be_bytes() {
                    return Ok::<usize, io::Error>(n);
                }
            }
        })
        .await;
        if let Ok(Ok(n)) = got {
            return Some(buf[..n].to_vec());
        }
    }
    None
}

/// The upstream servers: `dns` (the container's `--dns`) if any, else the
/// nameservers of the host's resolv.conf; the embedded address itself is
/// skipped (the daemon may run in a container).
pub fn upstream(dns: &[String], host_resolv: &str) -> Vec<SocketAddr> {
    let from_host: Vec<String>;
    let list: &[String] = if dns.is_empty() {
        from_host = host_resolv
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some("nameserver"))
                    .then(|| w.next().map(str::to_string))
                    .flatten()
            })
            .collect();
        &from_host
    } else {
        dns
    };
    list.iter()
        .filter_map(|s| s.parse::<std::net::IpAddr>().ok())
        .filter(|ip| *ip != std::net::IpAddr::V4(ADDRESS))
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

/// Resolves `name` for container `id`: the containers on the user networks
/// it is attached to, by name, alias or short ID (`name` or
/// `name.<network>`), and its links there.
pub fn lookup(st: &State, id: &str, name: &str) -> Answer {
    let Some(me) = st.containers.get(id) else {
        return Answer::NxDomain;
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let mut ips = Vec::new();
    let mut external = false;
    for (a, _) in me.endpoints() {
        let Some(net) = st.by_id(&a.network_id) else {
            continue;
        };
        if !net.rec.is_user() {
            external = true;
            continue;
        }
        external |= !net.rec.internal();
        let suffix = format!(".{}", net.rec.name.to_ascii_lowercase());
        let wanted = name.strip_suffix(&suffix).unwrap_or(&name);
        let target = a
            .links
            .iter()
            .filter_map(|l| l.split_once(':'))
            .find(|(_, alias)| alias.eq_ignore_ascii_case(wanted))
            .map(|(t, _)| t.to_ascii_lowercase());
        for (cid, c) in &st.containers {
            let Some(ep) = c
                .attachment(&a.network_id)
                .and_then(|ca| ca.endpoint.as_ref().map(|e| (ca, e)))
            else {
                continue;
            };
            let (ca, ep) = ep;
            let cname = c.name.to_ascii_lowercase();
            let hit = cname == wanted
                || target.as_deref() == Some(cname.as_str())
                || cid.get(..12) == Some(wanted)
                || ca.aliases.iter().any(|al| al.eq_ignore_ascii_case(wanted));
            if hit && !ips.contains(&ep.ip) {
                ips.push(ep.ip);
            }
        }
    }
    if !ips.is_empty() {
        Answer::Local(ips)
    } else if external {
        Answer::Forward
    } else {
        Answer::NxDomain
    }
}

#[cfg(test)]
mod tests {
    use super::super::endpoints::{Attachment, ContainerNet};
    use super::super::record::NetworkRecord;
    use super::super::Net;
    use super::*;
    use berth_net::Endpoint;

    fn attached(net: &str, ip: [u8; 4], aliases: &[&str], links: &[&str]) -> Attachment {
        Attachment {
            network_id: format!("{net}-id"),
            network: net.into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            links: links.iter().map(|s| s.to_string()).collect(),
            endpoint: Some(Endpoint {
                ip: Ipv4Addr::from(ip),
                prefix_len: 24,
                gateway: None,
                mac: String::new(),
                host_veth: String::new(),
                ifname: "eth0".into(),
            }),
            ..Default::default()
        }
    }

    fn state() -> State {
        let mut st = State::default();
        for (name, internal) in [("front", false), ("back", true), ("bridge", false)] {
            let mut r = NetworkRecord::new(name, "bridge");
            r.id = format!("{name}-id");
            r.bridge = Some(berth_net::NetworkConfig {
                name: name.into(),
                id: r.id.clone(),
                bridge: "b".into(),
                subnet: "10.0.0.0/8".parse().unwrap(),
                gateway: "10.0.0.1".parse().unwrap(),
                ip_range: None,
                internal,
            });
            st.nets.push(Net::new(r));
        }
        let c = |name: &str, atts: Vec<Attachment>| ContainerNet {
            name: name.into(),
            attachments: atts,
            pid: 1,
            ..Default::default()
        };
        st.containers.insert(
            "aaaaaaaaaaaa0000".into(),
            c(
                "web",
                vec![attached("front", [10, 1, 0, 2], &["www"], &["db:database"])],
            ),
        );
        st.containers.insert(
            "bbbbbbbbbbbb0000".into(),
            c(
                "db",
                vec![
                    attached("front", [10, 1, 0, 3], &[], &[]),
                    attached("back", [10, 2, 0, 3], &[], &[]),
                ],
            ),
        );
        st.containers.insert(
            "cccccccccccc0000".into(),
            c(
                "worker",
                vec![attached("back", [10, 2, 0, 4], &["www"], &[])],
            ),
        );
        st.containers.insert(
            "dddddddddddd0000".into(),
            c("old", vec![attached("bridge", [10, 3, 0, 4], &[], &[])]),
        );
        st
    }

    #[test]
    fn resolves_names_aliases_ids_and_links() {
        let st = state();
        let local = |id: &str, n: &str| match lookup(&st, id, n) {
            Answer::Local(v) => v.iter().map(|ip| ip.to_string()).collect::<Vec<_>>(),
            other => panic!("{n}: {other:?}"),
        };
        assert_eq!(local("aaaaaaaaaaaa0000", "db"), ["10.1.0.3"]);
        assert_eq!(local("aaaaaaaaaaaa0000", "DB."), ["10.1.0.3"]);
        assert_eq!(local("aaaaaaaaaaaa0000", "db.front"), ["10.1.0.3"]);
        assert_eq!(local("aaaaaaaaaaaa0000", "bbbbbbbbbbbb"), ["10.1.0.3"]);
        assert_eq!(local("aaaaaaaaaaaa0000", "database"), ["10.1.0.3"]);
        assert_eq!(local("aaaaaaaaaaaa0000", "www"), ["10.1.0.2"]);
        assert_eq!(local("aaaaaaaaaaaa0000", "web"), ["10.1.0.2"]);
        // Only the networks the asker is on; links are the asker's own.
        assert_eq!(lookup(&st, "aaaaaaaaaaaa0000", "worker"), Answer::Forward);
        assert_eq!(local("cccccccccccc0000", "www"), ["10.2.0.4"]);
        assert_eq!(local("cccccccccccc0000", "db"), ["10.2.0.3"]);
        // Internal networks do not forward; the default bridge has no names.
        assert_eq!(
            lookup(&st, "cccccccccccc0000", "database"),
            Answer::NxDomain
        );
        assert_eq!(
            lookup(&st, "cccccccccccc0000", "example.com"),
            Answer::NxDomain
        );
        assert_eq!(lookup(&st, "dddddddddddd0000", "web"), Answer::Forward);
        assert_eq!(lookup(&st, "nobody", "web"), Answer::NxDomain);
    }

    #[test]
    fn upstream_servers() {
        let host = "nameserver 10.255.255.53\nnameserver 127.0.0.11\nsearch x\nnameserver nope\n";
        assert_eq!(
            upstream(&[], host),
            vec!["10.255.255.53:53".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            upstream(&["9.9.9.9".into()], host),
            vec!["9.9.9.9:53".parse::<SocketAddr>().unwrap()]
        );
    }

    #[tokio::test]
    async fn answers_over_udp_and_tcp() {
        // Serve on loopback of this namespace at a free port instead of
        // 127.0.0.11:53 (which needs a private namespace).
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        udp.set_nonblocking(true).unwrap();
        tcp.set_nonblocking(true).unwrap();
        let (uaddr, taddr) = (udp.local_addr().unwrap(), tcp.local_addr().unwrap());
        let shared = Arc::new(Shared::default());
        *shared.write() = state();
        let handle = serve(
            Sockets { udp, tcp },
            shared,
            "aaaaaaaaaaaa0000".into(),
            vec![],
        )
        .unwrap();

        let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client
            .send_to(&dns::build_query(9, "db", TYPE_A), uaddr)
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(Duration::from_secs(5), client.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[n - 4..n], &[10, 1, 0, 3]);
        client
            .send_to(&dns::build_query(10, "nothing.example", TYPE_A), uaddr)
            .await
            .unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!((n, buf[3] & 0xf), (n, Rcode::NxDomain as u8));

        let mut conn = tokio::net::TcpStream::connect(taddr).await.unwrap();
        let q = dns::build_query(11, "www", TYPE_A);
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        conn.write_all(&framed).await.unwrap();
        let mut len = [0u8; 2];
        conn.read_exact(&mut len).await.unwrap();
        let mut resp = vec![0u8; u16::from_be_bytes(len) as usize];
        conn.read_exact(&mut resp).await.unwrap();
        assert_eq!(&resp[resp.len() - 4..], &[10, 1, 0, 2]);
        drop(handle);
    }
}
