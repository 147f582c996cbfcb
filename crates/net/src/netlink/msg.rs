//! Encoding of rtnetlink requests (`nlmsghdr` + family header + `rtattr`s,
//! nested attributes) and decoding of the kernel's answers (ack/error with
//! the extended-ack message, `ifinfomsg`), byte by byte in native order.

/// Netlink message types and flags used here (from `linux/netlink.h`,
/// `linux/rtnetlink.h`).
pub mod consts {
    pub const NLMSG_ERROR: u16 = 2;
    pub const NLMSG_DONE: u16 = 3;
    pub const NLM_F_REQUEST: u16 = 0x1;
    pub const NLM_F_ACK: u16 = 0x4;
    pub const NLM_F_DUMP: u16 = 0x300;
    pub const NLM_F_EXCL: u16 = 0x200;
    pub const NLM_F_CREATE: u16 = 0x400;
    /// In an error message: the original request payload was left out.
    pub const NLM_F_CAPPED: u16 = 0x100;
    /// In an error message: extended-ack attributes follow.
    pub const NLM_F_ACK_TLVS: u16 = 0x200;
    pub const NLMSGERR_ATTR_MSG: u16 = 1;
    pub const NLA_F_NESTED: u16 = 1 << 15;

    pub const RTM_NEWLINK: u16 = 16;
    pub const RTM_DELLINK: u16 = 17;
    pub const RTM_GETLINK: u16 = 18;
    pub const RTM_SETLINK: u16 = 19;
    pub const RTM_NEWADDR: u16 = 20;
    pub const RTM_NEWROUTE: u16 = 24;

    pub const IFLA_ADDRESS: u16 = 1;
    pub const IFLA_IFNAME: u16 = 3;
    pub const IFLA_MASTER: u16 = 10;
    pub const IFLA_PROTINFO: u16 = 12;
    pub const IFLA_LINKINFO: u16 = 18;
    pub const IFLA_NET_NS_FD: u16 = 28;
    pub const IFLA_INFO_KIND: u16 = 1;
    pub const IFLA_INFO_DATA: u16 = 2;
    pub const VETH_INFO_PEER: u16 = 1;
    pub const IFLA_BRPORT_MODE: u16 = 4;

    pub const IFA_ADDRESS: u16 = 1;
    pub const IFA_LOCAL: u16 = 2;
    pub const IFA_BROADCAST: u16 = 4;

    pub const RTA_OIF: u16 = 4;
    pub const RTA_GATEWAY: u16 = 5;
    pub const RT_TABLE_MAIN: u8 = 254;
    pub const RTPROT_BOOT: u8 = 3;
    pub const RT_SCOPE_UNIVERSE: u8 = 0;
    pub const RTN_UNICAST: u8 = 1;

    pub const IFF_UP: u32 = 1;
}

use consts::*;

const NLMSG_HDRLEN: usize = 16;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One request under construction. Family headers and attributes are
/// appended in order; `finish` fills in the length and returns the bytes.
pub struct Msg {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl Msg {
    pub fn new(kind: u16, flags: u16, seq: u32) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, set by finish
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
        Msg {
            buf,
            nests: Vec::new(),
        }
    }

    /// Replaces the sequence number.
    pub fn with_seq(mut self, seq: u32) -> Self {
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self
    }

    /// Adds header flags (e.g. `NLM_F_ACK`).
    pub fn with_flags(mut self, flags: u16) -> Self {
        let old = u16::from_ne_bytes([self.buf[6], self.buf[7]]);
        self.buf[6..8].copy_from_slice(&(old | flags).to_ne_bytes());
        self
    }

    /// Appends `struct ifinfomsg`.
    pub fn ifinfo(mut self, family: u8, index: i32, flags: u32, change: u32) -> Self {
        self.buf.extend_from_slice(&[family, 0]);
        self.buf.extend_from_slice(&0u16.to_ne_bytes()); // device type
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&change.to_ne_bytes());
        self
    }

    /// Appends `struct nfgenmsg` (netfilter): family, version 0, resource id
    /// (big-endian).
    pub fn nfgen(mut self, family: u8, res_id: u16) -> Self {
        self.buf.extend_from_slice(&[family, 0]);
        self.buf.extend_from_slice(&res_id.to_be_bytes());
        self
    }

    /// Appends `struct ifaddrmsg` (AF_INET).
    pub fn ifaddr(mut self, prefix_len: u8, index: u32) -> Self {
        self.buf
            .extend_from_slice(&[libc::AF_INET as u8, prefix_len, 0, RT_SCOPE_UNIVERSE]);
        self.buf.extend_from_slice(&index.to_ne_bytes());
        self
    }

    /// Appends `struct rtmsg` for an IPv4 unicast route of the main table.
    pub fn rtmsg(mut self, dst_len: u8) -> Self {
        self.buf.extend_from_slice(&[
            libc::AF_INET as u8,
            dst_len,
            0,
            0,
            RT_TABLE_MAIN,
            RTPROT_BOOT,
            RT_SCOPE_UNIVERSE,
            RTN_UNICAST,
        ]);
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self
    }

    pub fn attr(mut self, kind: u16, data: &[u8]) -> Self {
        self.push_attr(kind, data);
        self
    }

    pub fn attr_u32(self, kind: u16, v: u32) -> Self {
        self.attr(kind, &v.to_ne_bytes())
    }

    /// A NUL-terminated string attribute.
    pub fn attr_str(self, kind: u16, s: &str) -> Self {
        let mut data = Vec::with_capacity(s.len() + 1);
        data.extend_from_slice(s.as_bytes());
        data.push(0);
        self.attr(kind, &data)
    }

    /// Opens a nested attribute; close it with `end`.
    pub fn begin(mut self, kind: u16) -> Self {
        self.nests.push(self.buf.len());
        self.push_attr(kind, &[]);
        self
    }

    pub fn end(mut self) -> Self {
        if let Some(start) = self.nests.pop() {
            let len = (self.buf.len() - start) as u16;
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    fn push_attr(&mut self, kind: u16, data: &[u8]) {
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align4(self.buf.len()), 0);
    }

    pub fn finish(mut self) -> Vec<u8> {
        while !self.nests.is_empty() {
            self = self.end();
        }
        let len = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// One message of an answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `NLMSG_ERROR` with errno 0.
    Ack,
    /// `NLMSG_ERROR` with a positive errno and the extended-ack text if any.
    Error { errno: i32, msg: Option<String> },
    /// `NLMSG_DONE`.
    Done,
    /// Any other message: its type and payload (after `nlmsghdr`).
    Data { kind: u16, payload: &'a [u8] },
}

/// Splits a datagram into (sequence number, reply) pairs. Truncated
/// messages end the iteration.
pub fn parse_replies(buf: &[u8]) -> Vec<(u32, Reply<'_>)> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= NLMSG_HDRLEN {
        let len = u32_at(rest, 0) as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            break;
        }
        let kind = u16_at(rest, 4);
        let flags = u16_at(rest, 6);
        let seq = u32_at(rest, 8);
        let payload = &rest[NLMSG_HDRLEN..len];
        let reply = match kind {
            NLMSG_ERROR => parse_error(flags, payload),
            NLMSG_DONE => Reply::Done,
            _ => Reply::Data { kind, payload },
        };
        out.push((seq, reply));
        rest = &rest[align4(len).min(rest.len())..];
    }
    out
}

fn parse_error(flags: u16, payload: &[u8]) -> Reply<'static> {
    if payload.len() < 4 {
        return Reply::Error {
            errno: libc::EPROTO,
            msg: None,
        };
    }
    let errno = -(u32_at(payload, 0) as i32);
    if errno == 0 {
        return Reply::Ack;
    }
    let mut msg = None;
    if flags & NLM_F_ACK_TLVS != 0 && payload.len() >= 4 + NLMSG_HDRLEN {
        // The original request follows the errno: the header only when
        // capped, the whole message otherwise.
        let orig = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            align4(u32_at(payload, 4) as usize)
        };
        if let Some(tlvs) = payload.get(4 + orig..) {
            msg = attrs(tlvs)
                .find(|(k, _)| *k == NLMSGERR_ATTR_MSG)
                .map(|(_, v)| cstr(v));
        }
    }
    Reply::Error { errno, msg }
}

/// Iterates over the attributes in `buf` as (type without flags, payload).
pub fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = u16_at(rest, 0) as usize;
        if len < 4 || len > rest.len() {
            return None;
        }
        let kind = u16_at(rest, 2) & !NLA_F_NESTED;
        let data = &rest[4..len];
        rest = &rest[align4(len).min(rest.len())..];
        Some((kind, data))
    })
}

/// The interface index of an `RTM_NEWLINK` payload (`ifinfomsg.ifi_index`).
pub fn ifinfo_index(payload: &[u8]) -> Option<i32> {
    (payload.len() >= 16).then(|| u32_at(payload, 4) as i32)
}

fn cstr(v: &[u8]) -> String {
    let end = v.iter().position(|b| *b == 0).unwrap_or(v.len());
    String::from_utf8_lossy(&v[..end]).into_owned()
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_string_attr() {
        let m = Msg::new(RTM_GETLINK, 0, 7)
            .ifinfo(0, 0, 0, 0)
            .attr_str(IFLA_IFNAME, "eth0")
            .finish();
        // 16 header + 16 ifinfomsg + 4 attr header + "eth0\0" padded to 8
        assert_eq!(m.len(), 16 + 16 + 12);
        assert_eq!(u32_at(&m, 0) as usize, m.len());
        assert_eq!(u16_at(&m, 4), RTM_GETLINK);
        assert_eq!(u16_at(&m, 6), NLM_F_REQUEST);
        assert_eq!(u32_at(&m, 8), 7);
        assert_eq!(u16_at(&m, 32), 9); // attr length without padding
        assert_eq!(u16_at(&m, 34), IFLA_IFNAME);
        assert_eq!(&m[36..41], b"eth0\0");
        assert_eq!(&m[41..44], &[0, 0, 0]);
        let acked = Msg::new(RTM_GETLINK, NLM_F_CREATE, 7)
            .with_flags(NLM_F_ACK)
            .finish();
        assert_eq!(u16_at(&acked, 6), NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK);
    }

    #[test]
    fn nested_lengths() {
        let m = Msg::new(RTM_NEWLINK, NLM_F_CREATE, 1)
            .ifinfo(0, 0, 0, 0)
            .begin(IFLA_LINKINFO)
            .attr_str(IFLA_INFO_KIND, "veth")
            .begin(IFLA_INFO_DATA)
            .begin(VETH_INFO_PEER)
            .ifinfo(0, 0, IFF_UP, IFF_UP)
            .attr_u32(IFLA_NET_NS_FD, 5)
            .finish();
        let body = &m[32..];
        let (kind, linkinfo) = attrs(body).next().unwrap();
        assert_eq!(kind, IFLA_LINKINFO);
        assert_eq!(linkinfo.len(), body.len() - 4);
        let inner: Vec<_> = attrs(linkinfo).collect();
        assert_eq!(inner[0], (IFLA_INFO_KIND, &b"veth\0"[..]));
        let (_, peer) = attrs(inner[1].1).next().unwrap();
        assert_eq!(peer.len(), 16 + 8);
        assert_eq!(u32_at(peer, 8), IFF_UP);
        let (k, fd) = attrs(&peer[16..]).next().unwrap();
        assert_eq!((k, u32_at(fd, 0)), (IFLA_NET_NS_FD, 5));
    }

    fn error_msg(errno: i32, flags: u16, tail: &[u8]) -> Vec<u8> {
        let orig = Msg::new(RTM_NEWLINK, 0, 3).finish();
        let mut payload = (-errno).to_ne_bytes().to_vec();
        payload.extend_from_slice(&orig);
        payload.extend_from_slice(tail);
        let mut m = Vec::new();
        m.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&3u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&payload);
        m
    }

    #[test]
    fn ack_and_errors() {
        let ack = error_msg(0, 0, &[]);
        assert_eq!(parse_replies(&ack), vec![(3, Reply::Ack)]);
        let plain = error_msg(libc::EEXIST, 0, &[]);
        assert_eq!(
            parse_replies(&plain),
            vec![(
                3,
                Reply::Error {
                    errno: libc::EEXIST,
                    msg: None
                }
            )]
        );
        let tlv = Msg::new(0, 0, 0)
            .attr_str(NLMSGERR_ATTR_MSG, "bad thing")
            .finish();
        let ext = error_msg(libc::EINVAL, NLM_F_ACK_TLVS, &tlv[16..]);
        assert_eq!(
            parse_replies(&ext),
            vec![(
                3,
                Reply::Error {
                    errno: libc::EINVAL,
                    msg: Some("bad thing".into())
                }
            )]
        );
    }

    #[test]
    fn truncated_input_is_ignored() {
        let ack = error_msg(0, 0, &[]);
        assert!(parse_replies(&ack[..10]).is_empty());
        assert!(parse_replies(&ack[..ack.len() - 1]).is_empty());
    }
}
