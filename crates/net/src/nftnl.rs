//! The fast path of `publish`/`unpublish`: DNAT elements go into (and out
//! of) map `ports` of berth's table with one nf_tables netlink batch
//! (`NFT_MSG_NEWSETELEM`/`DELSETELEM`) instead of a `nft` fork, which costs
//! milliseconds per container. Only these elements are encoded by hand;
//! everything else stays in `nft` scripts (`nft.rs`), which are also the
//! fallback when this path fails.

use std::net::Ipv4Addr;

use crate::netlink::msg::{consts::NLA_F_NESTED, consts::NLM_F_CREATE, Msg};
use crate::netlink::{NetlinkError, Socket};
use crate::nft::{owner_comment, TABLE};
use crate::ports::{PortBinding, Proto};

const NETLINK_NETFILTER: libc::c_int = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;
const NFPROTO_IPV4: u8 = 2;

const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_SET_ELEM_USERDATA: u16 = 6;
const NFTA_SET_ELEM_KEY_END: u16 = 10;
const NFTA_DATA_VALUE: u16 = 1;
/// `NFTNL_UDATA_SET_ELEM_COMMENT`: how nft stores an element's comment.
const UDATA_COMMENT: u8 = 0;

fn proto_number(p: Proto) -> u8 {
    match p {
        Proto::Tcp => 6,
        Proto::Udp => 17,
        Proto::Sctp => 132,
    }
}

/// Key of `ipv4_addr . inet_proto . inet_service`: each field in network
/// order, padded to 4 bytes (nf_tables registers).
fn key(ip: Ipv4Addr, proto: Proto, port: u16) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&ip.octets());
    k[4] = proto_number(proto);
    k[8..10].copy_from_slice(&port.to_be_bytes());
    k
}

/// Data of `ipv4_addr . inet_service`.
fn data(ip: Ipv4Addr, port: u16) -> [u8; 8] {
    let mut d = [0u8; 8];
    d[..4].copy_from_slice(&ip.octets());
    d[4..6].copy_from_slice(&port.to_be_bytes());
    d
}

fn comment(owner: &str) -> Vec<u8> {
    let text = owner_comment(owner);
    let mut u = vec![UDATA_COMMENT, (text.len() + 1) as u8];
    u.extend_from_slice(text.as_bytes());
    u.push(0);
    u
}

/// Elements per message: keeps each nested element list well below the
/// 64 KiB an attribute length can express.
const CHUNK: usize = 400;

/// Set element messages for `bindings`, `CHUNK` elements each.
fn setelems(kind: u16, value: Option<(&str, Ipv4Addr)>, bindings: &[PortBinding]) -> Vec<Msg> {
    bindings
        .chunks(CHUNK)
        .map(|c| setelem(kind, value, c))
        .collect()
}

/// Runs one batch: begin marker, `msgs`, end marker. Very large batches
/// exceed the socket buffer (`EMSGSIZE`); callers fall back to `nft`.
fn run_batch(op: &str, msgs: Vec<Msg>) -> Result<(), NetlinkError> {
    let mut all = Vec::with_capacity(msgs.len() + 2);
    all.push(batch_marker(NFNL_MSG_BATCH_BEGIN));
    all.extend(msgs);
    all.push(batch_marker(NFNL_MSG_BATCH_END));
    Socket::open_protocol(NETLINK_NETFILTER)?.batch(op, all)
}

/// A set element message; `value` (owner and container address) adds the
/// data and comment, without it only the keys are sent (for deletion).
fn setelem(kind: u16, value: Option<(&str, Ipv4Addr)>, bindings: &[PortBinding]) -> Msg {
    let flags = if kind == NFT_MSG_NEWSETELEM {
        NLM_F_CREATE
    } else {
        0
    };
    let mut m = Msg::new((NFNL_SUBSYS_NFTABLES << 8) | kind, flags, 0)
        .nfgen(NFPROTO_IPV4, 0)
        .attr_str(NFTA_SET_ELEM_LIST_TABLE, TABLE)
        .attr_str(NFTA_SET_ELEM_LIST_SET, "ports")
        .begin(NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED);
    for b in bindings.iter().filter(|b| b.host_port != 0) {
        let (lo, hi) = match b.host_ip {
            None => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST),
            Some(a) => (a, a),
        };
        m = m
            .begin(NFTA_LIST_ELEM | NLA_F_NESTED)
            .begin(NFTA_SET_ELEM_KEY | NLA_F_NESTED)
            .attr(NFTA_DATA_VALUE, &key(lo, b.proto, b.host_port))
            .end()
            .begin(NFTA_SET_ELEM_KEY_END | NLA_F_NESTED)
            .attr(NFTA_DATA_VALUE, &key(hi, b.proto, b.host_port))
            .end();
        if let Some((owner, ip)) = value {
            m = m
                .begin(NFTA_SET_ELEM_DATA | NLA_F_NESTED)
                .attr(NFTA_DATA_VALUE, &data(ip, b.container_port))
                .end()
                .attr(NFTA_SET_ELEM_USERDATA, &comment(owner));
        }
        m = m.end();
    }
    m.end()
}

fn batch_marker(kind: u16) -> Msg {
    Msg::new(kind, 0, 0).nfgen(libc::AF_UNSPEC as u8, NFNL_SUBSYS_NFTABLES)
}

/// Adds the DNAT elements of a container in one atomic batch. Adding an
/// identical element again is not an error; a key mapped to something else
/// is (`EEXIST`).
pub fn add_ports(owner: &str, ip: Ipv4Addr, bindings: &[PortBinding]) -> Result<(), NetlinkError> {
    let msgs = setelems(NFT_MSG_NEWSETELEM, Some((owner, ip)), bindings);
    run_batch("add published ports", msgs)
}

/// Removes the DNAT elements of a container, whether or not they exist:
/// the batch adds them (a no-op when present) and deletes them. Fails with
/// `EEXIST` when a key now maps to another container (nothing changes then).
pub fn remove_ports(
    owner: &str,
    ip: Ipv4Addr,
    bindings: &[PortBinding],
) -> Result<(), NetlinkError> {
    let mut msgs = setelems(NFT_MSG_NEWSETELEM, Some((owner, ip)), bindings);
    msgs.extend(setelems(NFT_MSG_DELSETELEM, None, bindings));
    run_batch("remove published ports", msgs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::msg::attrs;
    use crate::ports::parse_publish;

    #[test]
    fn element_encoding() {
        assert_eq!(
            key(Ipv4Addr::new(127, 0, 0, 1), Proto::Udp, 5353),
            [127, 0, 0, 1, 17, 0, 0, 0, 0x14, 0xe9, 0, 0]
        );
        assert_eq!(
            data(Ipv4Addr::new(10, 0, 0, 2), 80),
            [10, 0, 0, 2, 0, 80, 0, 0]
        );
        assert_eq!(
            comment("abcdef0123456789"),
            b"\x00\x0dabcdef012345\x00".to_vec()
        );
    }

    #[test]
    fn message_layout() {
        let b = parse_publish("8080:80").unwrap();
        let m = setelem(
            NFT_MSG_NEWSETELEM,
            Some(("c1", Ipv4Addr::new(10, 0, 0, 2))),
            &b,
        )
        .finish();
        assert_eq!(u16::from_ne_bytes([m[4], m[5]]), (10 << 8) | 12);
        assert_eq!(&m[16..20], &[NFPROTO_IPV4, 0, 0, 0]);
        let top: Vec<_> = attrs(&m[20..]).collect();
        assert_eq!(top[0], (NFTA_SET_ELEM_LIST_TABLE, &b"berth\0"[..]));
        assert_eq!(top[1], (NFTA_SET_ELEM_LIST_SET, &b"ports\0"[..]));
        let (k, elems) = top[2];
        assert_eq!(k, NFTA_SET_ELEM_LIST_ELEMENTS);
        let (_, elem) = attrs(elems).next().unwrap();
        let fields: Vec<_> = attrs(elem).collect();
        let kinds: Vec<u16> = fields.iter().map(|f| f.0).collect();
        assert_eq!(
            kinds,
            [
                NFTA_SET_ELEM_KEY,
                NFTA_SET_ELEM_KEY_END,
                NFTA_SET_ELEM_DATA,
                NFTA_SET_ELEM_USERDATA
            ]
        );
        let end = attrs(fields[1].1).next().unwrap().1;
        assert_eq!(&end[..4], &[255, 255, 255, 255]);
        let marker = batch_marker(NFNL_MSG_BATCH_BEGIN).finish();
        assert_eq!(&marker[16..20], &[0, 0, 0, 10]);
    }
}

#[cfg(test)]
mod kernel_tests {
    use super::*;
    use crate::nft;
    use crate::ports::parse_publish;

    /// Runs `f` on a thread in a fresh, private network namespace (gone
    /// when the thread ends).
    fn in_private_netns<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("SKIP: needs root");
            return None;
        }
        std::thread::scope(|s| {
            s.spawn(|| {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
                f()
            })
            .join()
            .map_err(std::panic::resume_unwind)
            .ok()
        })
    }

    #[test]
    fn fast_path_matches_nft_text() {
        in_private_netns(|| {
            nft::run(&nft::skeleton()).unwrap();
            let mut b = parse_publish("8080:80").unwrap();
            b.extend(parse_publish("127.0.0.1:5353:53/udp").unwrap());
            let ip = Ipv4Addr::new(10, 1, 2, 3);
            let t = std::time::Instant::now();
            add_ports("0123456789abcdef", ip, &b).unwrap();
            eprintln!("netlink add: {:?}", t.elapsed());
            add_ports("0123456789abcdef", ip, &b).unwrap();
            let table = nft::list_table().unwrap();
            assert!(
                table.contains("0.0.0.0/0 . tcp . 8080 comment \"0123456789ab\" : 10.1.2.3 . 80"),
                "{table}"
            );
            assert!(
                table.contains("127.0.0.1 . udp . 5353 comment \"0123456789ab\" : 10.1.2.3 . 53"),
                "{table}"
            );
            // another container on the same key
            let e = add_ports("other", Ipv4Addr::new(10, 1, 2, 4), &b[..1]).unwrap_err();
            assert_eq!(e.errno(), Some(libc::EEXIST), "{e}");
            let t = std::time::Instant::now();
            remove_ports("0123456789abcdef", ip, &b).unwrap();
            eprintln!("netlink remove: {:?}", t.elapsed());
            remove_ports("0123456789abcdef", ip, &b).unwrap();
            assert!(!nft::list_table().unwrap().contains("8080"));
            // a key of another container is left alone, and said so
            add_ports("other", Ipv4Addr::new(10, 1, 2, 4), &b[..1]).unwrap();
            let e = remove_ports("0123456789abcdef", ip, &b).unwrap_err();
            assert_eq!(e.errno(), Some(libc::EEXIST), "{e}");
            assert!(nft::list_table().unwrap().contains("comment \"other\""));
            // a large range spans several messages of one batch
            let many = parse_publish("20000-21999:20000-21999/udp").unwrap();
            add_ports("big", ip, &many).unwrap();
            let listed = nft::list_table().unwrap();
            assert_eq!(listed.matches("comment \"big\"").count(), 2000);
            remove_ports("big", ip, &many).unwrap();
            assert!(!nft::list_table().unwrap().contains("big"));
        })
        .unwrap_or(());
    }
}
