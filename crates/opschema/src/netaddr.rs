//! Address syntax checks behind the `IPv4 address` / `IPv6 network` type words.
//!
//! Ganeti delegates these to Python's `ipaddress` module (strict mode: a network must not
//! have host bits set). We reproduce that acceptance set with `std::net` parsers plus the
//! prefix rules of `ipaddress`, rather than pulling in a dependency: a prefix is a decimal
//! length, and for IPv4 also a dotted netmask or hostmask; IPv6 addresses may carry a
//! `%scope` suffix (Python >= 3.9).

use std::net::{Ipv4Addr, Ipv6Addr};

/// `ipaddress.IPv4Address(s)` succeeds.
pub(crate) fn is_ipv4_address(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

/// `ipaddress.IPv6Address(s)` succeeds.
pub(crate) fn is_ipv6_address(s: &str) -> bool {
    parse_ipv6(s).is_some()
}

fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    let addr = match s.split_once('%') {
        Some((addr, scope)) if !scope.is_empty() && !scope.contains('%') => addr,
        Some(_) => return None,
        None => s,
    };
    addr.parse().ok()
}

/// A decimal prefix length as `ipaddress` accepts it (ASCII digits only, within range).
fn prefix_len(s: &str, max: u32) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&p| p <= max)
}

/// `ipaddress.IPv4Network(s)` (strict) succeeds.
pub(crate) fn is_ipv4_network(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(addr) = addr.parse::<Ipv4Addr>() else {
        return false;
    };
    let plen = match prefix {
        None => 32,
        Some(p) => match prefix_len(p, 32).or_else(|| mask_prefix(p)) {
            Some(n) => n,
            None => return false,
        },
    };
    let bits = u32::from(addr);
    let host_mask = u32::MAX.checked_shr(plen).unwrap_or(0);
    bits & host_mask == 0
}

/// Prefix length of a dotted netmask (`255.255.255.0`) or hostmask (`0.0.0.255`).
fn mask_prefix(s: &str) -> Option<u32> {
    let m = u32::from(s.parse::<Ipv4Addr>().ok()?);
    let ones = m.leading_ones();
    if m.checked_shl(ones).unwrap_or(0) == 0 {
        return Some(ones);
    }
    let inv = !m;
    let ones = inv.leading_ones();
    (inv.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

/// `ipaddress.IPv6Network(s)` (strict) succeeds.
pub(crate) fn is_ipv6_network(s: &str) -> bool {
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Some(addr) = parse_ipv6(addr) else {
        return false;
    };
    let plen = match prefix {
        None => 128,
        Some(p) => match prefix_len(p, 128) {
            Some(n) => n,
            None => return false,
        },
    };
    let bits = u128::from(addr);
    let host_mask = u128::MAX.checked_shr(plen).unwrap_or(0);
    bits & host_mask == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4() {
        assert!(is_ipv4_address("10.0.0.1"));
        assert!(is_ipv4_address("0.0.0.0"));
        assert!(!is_ipv4_address("010.0.0.1"), "leading zeros are rejected");
        assert!(!is_ipv4_address("10.0.0.1 "));
        assert!(!is_ipv4_address("10.0.0.1/32"));
        assert!(!is_ipv4_address(""));
    }

    #[test]
    fn ipv4_networks() {
        assert!(is_ipv4_network("10.0.0.0/8"));
        assert!(is_ipv4_network("0.0.0.0/0"));
        assert!(is_ipv4_network("10.1.2.3/32"));
        assert!(is_ipv4_network("10.0.0.0/0.255.255.255"), "hostmask form");
        assert!(!is_ipv4_network("10.0.0.0/255.0.255.0"));
        assert!(!is_ipv4_network("10.0.0.1/8"));
        assert!(!is_ipv4_network("10.0.0.0/"));
        assert!(!is_ipv4_network("10.0.0.0/-8"));
        assert!(!is_ipv4_network("10.0.0.0/8/8"));
    }

    #[test]
    fn ipv6() {
        assert!(is_ipv6_address("::1"));
        assert!(is_ipv6_address("fe80::1%eth0"));
        assert!(is_ipv6_address("::ffff:192.0.2.1"));
        assert!(!is_ipv6_address("fe80::1%"));
        assert!(!is_ipv6_address("1:2:3:4:5:6:7:8:9"));
        assert!(is_ipv6_network("2001:db8::/32"));
        assert!(is_ipv6_network("::/0"));
        assert!(is_ipv6_network("::1"));
        assert!(!is_ipv6_network("2001:db8::1/32"));
        assert!(!is_ipv6_network("2001:db8::/ffff::"));
    }
}
