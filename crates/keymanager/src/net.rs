//! Who a client of the licensing server is, for every per-client limit: the peer address, or
//! behind a trusted reverse proxy the address it names; and the bucket that address counts in.

use std::net::{IpAddr, Ipv6Addr};

/// The address as the limits count it: an IPv4-mapped IPv6 address (a dual-stack listener's
/// view of an IPv4 peer) is that IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The bucket a client's requests count in: its IPv4 address, or its IPv6 /64 (one household
/// or server gets a whole /64, so a per-address limit would give it endless quota).
pub fn bucket(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Whether `ip` is one of the trusted proxies (both read canonically).
fn is_trusted(ip: IpAddr, trusted: &[IpAddr]) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|t| canonical(*t) == ip)
}

/// The client's address: the peer's, or, from a trusted proxy, the right-most entry of all the
/// `X-Forwarded-For` lines together that is not itself a trusted proxy (the end the proxies
/// appended; everything left of it is the client's to forge). A garbled entry stops the walk
/// at the nearest trusted hop.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let mut nearest = peer;
    for line in forwarded_for.rev() {
        for hop in line.rsplit(',') {
            let hop = hop.trim();
            if hop.is_empty() {
                continue;
            }
            match hop.parse::<IpAddr>() {
                Ok(ip) if is_trusted(ip, trusted) => nearest = canonical(ip),
                Ok(ip) => return canonical(ip),
                Err(_) => return nearest,
            }
        }
    }
    nearest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxy = ip("127.0.0.1");
        let t = [proxy];
        let cases: &[(&str, &[&str], &[IpAddr], &str)] = &[
            // Anyone else's header is ignored: spoofing it buys no fresh quota.
            ("203.0.113.9", &["198.51.100.1"], &t, "203.0.113.9"),
            ("127.0.0.1", &["198.51.100.1"], &t, "198.51.100.1"),
            // The client's own (forged) entries stand left of the real one the proxy appended.
            ("127.0.0.1", &["1.2.3.4, 198.51.100.1"], &t, "198.51.100.1"),
            // A forged first header line: the proxy's own line comes last and wins.
            ("127.0.0.1", &["6.6.6.6", "198.51.100.1"], &t, "198.51.100.1"),
            ("127.0.0.1", &["6.6.6.6, 7.7.7.7", "198.51.100.1, 127.0.0.1"], &t, "198.51.100.1"),
            ("127.0.0.1", &["garbage"], &t, "127.0.0.1"),
            ("127.0.0.1", &[], &t, "127.0.0.1"),
            ("127.0.0.1", &["198.51.100.1"], &[], "127.0.0.1"),
            // A dual-stack listener sees the proxy as ::ffff:127.0.0.1: still trusted.
            ("::ffff:127.0.0.1", &["198.51.100.1"], &t, "198.51.100.1"),
            ("127.0.0.1", &["::ffff:198.51.100.7"], &t, "198.51.100.7"),
            ("::ffff:203.0.113.9", &[], &t, "203.0.113.9"),
        ];
        for (peer, lines, trusted, want) in cases {
            let got = client_address(ip(peer), lines.iter().copied(), trusted);
            assert_eq!(got, ip(want), "peer {peer}, X-Forwarded-For {lines:?}");
        }
    }

    #[test]
    fn ipv6_clients_share_a_bucket_per_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(bucket(ip("2001:db8:1:2:aaaa::1")), bucket(ip("2001:db8:1:2:ffff:1:2:3")));
        assert_ne!(bucket(ip("2001:db8:1:2::1")), bucket(ip("2001:db8:1:3::1")));
        assert_eq!(bucket(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(bucket(ip("192.0.2.1")), ip("192.0.2.1"));
        assert_ne!(bucket(ip("192.0.2.1")), bucket(ip("192.0.2.2")));
    }
}
