//! The few DNS messages the embedded resolver reads and writes (RFC 1035):
//! one-question queries in, and answers with A records, empty answers,
//! NXDOMAIN or SERVFAIL out. Everything else is forwarded untouched, so
//! nothing here needs compression or other record types.

use std::net::Ipv4Addr;

pub const TYPE_A: u16 = 1;
pub const CLASS_IN: u16 = 1;
const HEADER: usize = 12;
/// The largest answer sent over UDP without EDNS.
pub const UDP_LIMIT: usize = 512;

/// A message that is not a query the resolver can answer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DnsError {
    #[error("dns message too short")]
    Short,
    #[error("dns message is not a standard query")]
    NotQuery,
    #[error("dns query must have exactly one question")]
    Questions,
    #[error("bad name in dns question")]
    BadName,
}

/// One parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub id: u16,
    /// The query's flags word (opcode and RD are echoed in answers).
    flags: u16,
    /// Lower-case, without the final dot (`web.mynet`).
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// The question section as received (echoed in answers).
    question: Vec<u8>,
}

/// Response codes used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rcode {
    NoError = 0,
    ServFail = 2,
    NxDomain = 3,
}

fn u16_at(buf: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*buf.get(at)?, *buf.get(at + 1)?]))
}

/// Parses a query with exactly one question. Names must be plain labels
/// (clients do not compress questions).
pub fn parse_query(buf: &[u8]) -> Result<Query, DnsError> {
    if buf.len() < HEADER {
        return Err(DnsError::Short);
    }
    let id = u16_at(buf, 0).ok_or(DnsError::Short)?;
    let flags = u16_at(buf, 2).ok_or(DnsError::Short)?;
    // QR must be 0 (query), opcode 0 (standard query).
    if flags & 0x8000 != 0 || (flags >> 11) & 0xf != 0 {
        return Err(DnsError::NotQuery);
    }
    if u16_at(buf, 4) != Some(1) {
        return Err(DnsError::Questions);
    }
    let mut at = HEADER;
    let mut labels: Vec<String> = Vec::new();
    loop {
        let len = *buf.get(at).ok_or(DnsError::Short)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return Err(DnsError::BadName);
        }
        let label = buf.get(at..at + len).ok_or(DnsError::Short)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += len;
        if at - HEADER > 255 {
            return Err(DnsError::BadName);
        }
    }
    let qtype = u16_at(buf, at).ok_or(DnsError::Short)?;
    let qclass = u16_at(buf, at + 2).ok_or(DnsError::Short)?;
    let end = at + 4;
    Ok(Query {
        id,
        flags,
        name: labels.join("."),
        qtype,
        qclass,
        question: buf[HEADER..end].to_vec(),
    })
}

impl Query {
    fn header(&self, rcode: Rcode, answers: u16) -> Vec<u8> {
        // QR, opcode and RD from the query, AA and RA set.
        let flags = 0x8000 | (self.flags & 0x7900) | 0x0400 | 0x0080 | rcode as u16;
        let mut out = Vec::with_capacity(HEADER + self.question.len() + 16 * answers as usize);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&flags.to_be_bytes());
        for count in [1, answers, 0, 0] {
            out.extend_from_slice(&count.to_be_bytes());
        }
        out.extend_from_slice(&self.question);
        out
    }

    /// An answer without records.
    pub fn reply(&self, rcode: Rcode) -> Vec<u8> {
        self.header(rcode, 0)
    }

    /// An answer with one A record per address, as many as fit in `limit`
    /// bytes (the TC bit is not set: a shorter list is still a good answer).
    pub fn answer_a(&self, ips: &[Ipv4Addr], ttl: u32, limit: usize) -> Vec<u8> {
        const RECORD: usize = 16;
        let room = limit.saturating_sub(HEADER + self.question.len()) / RECORD;
        let ips = &ips[..ips.len().min(room).min(u16::MAX as usize)];
        let mut out = self.header(Rcode::NoError, ips.len() as u16);
        for ip in ips {
            // Name: a pointer to the question's name at offset 12.
            out.extend_from_slice(&[0xc0, 0x0c]);
            out.extend_from_slice(&TYPE_A.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&ttl.to_be_bytes());
            out.extend_from_slice(&4u16.to_be_bytes());
            out.extend_from_slice(&ip.octets());
        }
        out
    }
}

/// The SERVFAIL answer for a message that could not be parsed but has an
/// ID, or `None` when even that is missing.
pub fn servfail_for(buf: &[u8]) -> Option<Vec<u8>> {
    let id = u16_at(buf, 0)?;
    let mut out = Vec::with_capacity(HEADER);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(0x8080u16 | Rcode::ServFail as u16).to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    Some(out)
}

#[cfg(test)]
pub(crate) fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_query() {
        let q = parse_query(&build_query(0x1234, "Web.MyNet.", TYPE_A)).unwrap();
        assert_eq!(q.id, 0x1234);
        assert_eq!(q.name, "web.mynet");
        assert_eq!((q.qtype, q.qclass), (TYPE_A, CLASS_IN));
    }

    #[test]
    fn rejects_bad_messages() {
        assert_eq!(parse_query(&[0; 5]), Err(DnsError::Short));
        let mut resp = build_query(1, "a", TYPE_A);
        resp[2] |= 0x80;
        assert_eq!(parse_query(&resp), Err(DnsError::NotQuery));
        let mut two = build_query(1, "a", TYPE_A);
        two[5] = 2;
        assert_eq!(parse_query(&two), Err(DnsError::Questions));
        let mut cut = build_query(1, "abc", TYPE_A);
        cut.truncate(15);
        assert_eq!(parse_query(&cut), Err(DnsError::Short));
        let mut long = build_query(1, "a", TYPE_A);
        long[12] = 64;
        assert_eq!(parse_query(&long), Err(DnsError::BadName));
    }

    #[test]
    fn encodes_answers() {
        let raw = build_query(7, "web", TYPE_A);
        let q = parse_query(&raw).unwrap();
        let a = q.answer_a(&[Ipv4Addr::new(10, 0, 0, 2)], 600, UDP_LIMIT);
        assert_eq!(&a[0..2], &[0, 7]);
        assert_eq!(u16::from_be_bytes([a[2], a[3]]), 0x8580); // QR AA RD RA
        assert_eq!(&a[4..12], &[0, 1, 0, 1, 0, 0, 0, 0]);
        assert_eq!(&a[12..raw.len()], &raw[12..]);
        let rr = &a[raw.len()..];
        assert_eq!(rr, &[0xc0, 12, 0, 1, 0, 1, 0, 0, 2, 88, 0, 4, 10, 0, 0, 2]);
        let nx = q.reply(Rcode::NxDomain);
        assert_eq!(nx[3] & 0xf, 3);
        assert_eq!(&nx[6..8], &[0, 0]);
        assert_eq!(servfail_for(&[0, 9]).unwrap()[3] & 0xf, 2);
        assert!(servfail_for(&[0]).is_none());
    }

    #[test]
    fn answers_fit_the_limit() {
        let q = parse_query(&build_query(1, "web", TYPE_A)).unwrap();
        let ips: Vec<Ipv4Addr> = (0..100).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
        let a = q.answer_a(&ips, 600, UDP_LIMIT);
        assert!(a.len() <= UDP_LIMIT);
        assert_eq!(
            u16::from_be_bytes([a[6], a[7]]) as usize,
            (a.len() - 21) / 16
        );
    }
}
