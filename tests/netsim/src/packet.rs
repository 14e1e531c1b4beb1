//! The few IPv4 header fields the router needs (RFC 791 §3.1).

use std::net::Ipv4Addr;

/// IP protocol number of UDP (IANA "Assigned Internet Protocol Numbers").
pub(crate) const PROTO_UDP: u8 = 17;

/// Source, destination and protocol of one IPv4 packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
}

impl Meta {
    /// The flow whose order the router keeps (unless reordering is asked): packets of one
    /// protocol from one address to another.
    pub(crate) fn flow(&self) -> (Ipv4Addr, Ipv4Addr, u8) {
        (self.src, self.dst, self.proto)
    }
}

/// Reads the header of an IPv4 packet; `None` for anything else (IPv6, truncated, bad header
/// length).
pub(crate) fn parse(packet: &[u8]) -> Option<Meta> {
    let first = *packet.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < 20 || packet.len() < header_len {
        return None;
    }
    let addr =
        |at: usize| Ipv4Addr::new(packet[at], packet[at + 1], packet[at + 2], packet[at + 3]);
    Some(Meta {
        src: addr(12),
        dst: addr(16),
        proto: packet[9],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(src: [u8; 4], dst: [u8; 4], proto: u8) -> Vec<u8> {
        let mut p = vec![0u8; 28];
        p[0] = 0x45;
        p[9] = proto;
        p[12..16].copy_from_slice(&src);
        p[16..20].copy_from_slice(&dst);
        p
    }

    #[test]
    fn parses_ipv4_and_rejects_the_rest() {
        let p = header([10, 77, 0, 1], [10, 77, 0, 2], PROTO_UDP);
        let meta = parse(&p).expect("IPv4");
        assert_eq!(meta.src, Ipv4Addr::new(10, 77, 0, 1));
        assert_eq!(meta.dst, Ipv4Addr::new(10, 77, 0, 2));
        assert_eq!(meta.proto, PROTO_UDP);
        assert_eq!(parse(&p[..19]), None, "truncated");
        let mut v6 = p.clone();
        v6[0] = 0x60;
        assert_eq!(parse(&v6), None, "IPv6");
        let mut short_ihl = p.clone();
        short_ihl[0] = 0x44;
        assert_eq!(parse(&short_ihl), None, "header length below 20 bytes");
        assert_eq!(parse(&[]), None);
    }
}
