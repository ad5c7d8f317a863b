//! The client's address behind proxies: the TCP peer, unless it is a proxy
//! the operator trusts (`--trusted-proxies`), in which case the right-most
//! address of `Forwarded` (or `X-Forwarded-For`) that is not a trusted
//! proxy. The left-most one is whatever the client wrote, which anyone can
//! forge; the right-most untrusted one was written by the first trusted
//! proxy, which saw the TCP peer itself.

use http::HeaderMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A network of trusted proxies: an address with a prefix length
/// (`10.0.0.0/8`, `::1/128`), or one address (`127.0.0.1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedNet {
    addr: IpAddr,
    prefix: u8,
}

/// A [`TrustedNet`] that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address or a network (such as 10.0.0.0/8 or ::1)")]
pub struct BadNet(String);

impl FromStr for TrustedNet {
    type Err = BadNet;

    fn from_str(text: &str) -> Result<Self, BadNet> {
        let bad = || BadNet(text.to_owned());
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let most = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(prefix) => prefix.parse::<u8>().map_err(|_| bad())?,
            None => most,
        };
        if prefix > most {
            return Err(bad());
        }
        Ok(TrustedNet { addr, prefix })
    }
}

impl fmt::Display for TrustedNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl TrustedNet {
    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts
    /// as its IPv4 one).
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let keep = |bits: u32, prefix: u8| -> u128 {
            if prefix == 0 {
                0
            } else {
                (u128::MAX >> (128 - bits)) << (bits - u32::from(prefix))
            }
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = keep(32, self.prefix);
                (u128::from(u32::from(net)) & mask) == (u128::from(u32::from(ip)) & mask)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = keep(128, self.prefix);
                (u128::from(net) & mask) == (u128::from(ip) & mask)
            }
            _ => false,
        }
    }
}

/// One hop of a forwarding header as an address (`for=` values lose their
/// quotes, brackets and port; `unknown` and obfuscated names are `None`).
fn hop(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Some(rest) = text.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    // `192.0.2.1:4711`: an IPv4 address with a port.
    let (ip, _port) = text.rsplit_once(':')?;
    ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

/// The hops of `Forwarded` (its `for=` parameters) if the request has one,
/// else of `X-Forwarded-For`, in order (every header line, comma lists);
/// `None` for a hop that is not an address.
fn hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| hop(value))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(hop)
        .collect()
}

/// The client's address, given the TCP `peer`, the request's `headers`
/// and the proxies to trust: see the module's documentation. A hop that is
/// not an address stops the walk: the address trusted so far is kept.
#[must_use]
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in hops(headers).into_iter().rev() {
        let Some(ip) = hop else {
            return client;
        };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<TrustedNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        map
    }

    #[test]
    fn networks_parse_and_match() {
        let net: TrustedNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains(ip("10.200.1.2")) && !net.contains(ip("11.0.0.1")));
        assert!("::1".parse::<TrustedNet>().unwrap().contains(ip("::1")));
        assert!(net.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(
            "0.0.0.0/0"
                .parse::<TrustedNet>()
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", ""] {
            assert!(bad.parse::<TrustedNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_forged_left_most_address_is_ignored() {
        let trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
        // The client forged 1.1.1.1; nginx appended its real peer 203.0.113.9.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // Two proxies: the inner one (10.0.0.5) is trusted too.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, 203.0.113.9, 10.0.0.5")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // Several header lines count as one list.
        let h = headers(&[
            ("x-forwarded-for", "1.1.1.1"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(
            client_ip(ip("198.51.100.7"), &h, &nets(&["127.0.0.1"])),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &[]),
            ip("127.0.0.1"),
            "nothing trusted"
        );
    }

    #[test]
    fn forwarded_wins_and_its_forms_parse() {
        let trusted = nets(&["127.0.0.1"]);
        let h = headers(&[
            (
                "forwarded",
                r#"for=1.1.1.1, for="[2001:db8::17]:4711";proto=https"#,
            ),
            ("x-forwarded-for", "9.9.9.9"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("2001:db8::17"));
        let h = headers(&[("forwarded", "for=192.0.2.60:8080;by=10.0.0.1")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("192.0.2.60"));
        // An obfuscated hop stops the walk at the last trusted address.
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.1"));
    }
}
