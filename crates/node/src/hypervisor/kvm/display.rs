//! Where VNC and SPICE listen: `vnc_bind_address` and `spice_bind` may name
//! an interface instead of an address (Ganeti resolves it on the node at
//! start, since interface addresses differ between nodes). The resolution
//! takes the address lookup as a function, so its rules are unit-tested
//! without touching the host's interfaces.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use serde::Deserialize;

use super::cmdline::VncBind;

/// Resolve `vnc_bind_address`: an IP address, a directory for a unix
/// socket, or an interface (its first IPv4 address).
pub(crate) fn resolve_vnc(
    bind: &str,
    lookup: impl Fn(&str) -> Result<Vec<IpAddr>, String>,
) -> Result<VncBind, String> {
    if let Ok(ip) = bind.parse::<IpAddr>() {
        return Ok(VncBind::Ip(ip));
    }
    if bind.starts_with('/') {
        return Ok(VncBind::SocketDir(PathBuf::from(bind)));
    }
    lookup(bind)?
        .into_iter()
        .find(IpAddr::is_ipv4)
        .map(VncBind::Ip)
        .ok_or_else(|| format!("Could not determine IPv4 address of interface {bind}"))
}

/// Resolve `spice_bind`: an IP address, or an interface's first address
/// of `ip_version` (4 or 6; 0 = IPv4 if it has one, else IPv6).
pub(crate) fn resolve_spice(
    bind: &str,
    ip_version: u32,
    lookup: impl Fn(&str) -> Result<Vec<IpAddr>, String>,
) -> Result<IpAddr, String> {
    if let Ok(ip) = bind.parse::<IpAddr>() {
        return Ok(ip);
    }
    let addrs = lookup(bind)?;
    let first = |v4: bool| addrs.iter().copied().find(|a| a.is_ipv4() == v4);
    match ip_version {
        4 | 6 => first(ip_version == 4)
            .ok_or_else(|| format!("SPICE: Unable to get an IPv{ip_version} address for {bind}")),
        _ => first(true)
            .or_else(|| first(false))
            .ok_or_else(|| format!("SPICE: Unable to get an IP address for {bind}")),
    }
}

#[derive(Deserialize)]
struct IpLink {
    #[serde(default)]
    addr_info: Vec<IpAddrInfo>,
}

#[derive(Deserialize)]
struct IpAddrInfo {
    local: Option<String>,
}

/// The addresses of a host interface, from `ip -j addr show dev NAME`.
pub(crate) fn interface_addresses(ifname: &str) -> Result<Vec<IpAddr>, String> {
    let out = Command::new("ip")
        .args(["-j", "addr", "show", "dev", ifname])
        .output()
        .map_err(|e| format!("cannot run 'ip addr show dev {ifname}': {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cannot get the addresses of interface {ifname}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    parse_ip_json(&out.stdout).map_err(|e| format!("cannot read the addresses of {ifname}: {e}"))
}

fn parse_ip_json(json: &[u8]) -> Result<Vec<IpAddr>, serde_json::Error> {
    let links: Vec<IpLink> = serde_json::from_slice(json)?;
    Ok(links
        .into_iter()
        .flat_map(|l| l.addr_info)
        .filter_map(|a| a.local?.parse().ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Result<Vec<IpAddr>, String> {
        match name {
            "eth0" => Ok(vec![
                "fe80::1".parse().unwrap(),
                "192.0.2.7".parse().unwrap(),
            ]),
            "v6only" => Ok(vec!["2001:db8::5".parse().unwrap()]),
            "down" => Ok(vec![]),
            other => Err(format!("no interface {other}")),
        }
    }

    #[test]
    fn vnc_binds() {
        assert_eq!(
            resolve_vnc("0.0.0.0", lookup),
            Ok(VncBind::Ip("0.0.0.0".parse().unwrap()))
        );
        assert_eq!(
            resolve_vnc("eth0", lookup),
            Ok(VncBind::Ip("192.0.2.7".parse().unwrap()))
        );
        assert_eq!(
            resolve_vnc("/var/run/vnc", lookup),
            Ok(VncBind::SocketDir("/var/run/vnc".into()))
        );
        assert_eq!(
            resolve_vnc("v6only", lookup).unwrap_err(),
            "Could not determine IPv4 address of interface v6only"
        );
        assert!(resolve_vnc("nope", lookup).is_err());
    }

    #[test]
    fn spice_binds() {
        assert_eq!(
            resolve_spice("eth0", 0, lookup),
            Ok("192.0.2.7".parse().unwrap())
        );
        assert_eq!(
            resolve_spice("eth0", 6, lookup),
            Ok("fe80::1".parse().unwrap())
        );
        assert_eq!(
            resolve_spice("v6only", 0, lookup),
            Ok("2001:db8::5".parse().unwrap())
        );
        assert_eq!(
            resolve_spice("v6only", 4, lookup).unwrap_err(),
            "SPICE: Unable to get an IPv4 address for v6only"
        );
        assert_eq!(
            resolve_spice("down", 0, lookup).unwrap_err(),
            "SPICE: Unable to get an IP address for down"
        );
    }

    #[test]
    fn ip_json_is_parsed() {
        let json = br#"[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8},{"family":"inet6","local":"::1"}]}]"#;
        assert_eq!(
            parse_ip_json(json).unwrap(),
            vec![
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse::<IpAddr>().unwrap()
            ]
        );
        assert!(parse_ip_json(b"nonsense").is_err());
        // the real host: lo always has 127.0.0.1
        if let Ok(addrs) = interface_addresses("lo") {
            assert!(addrs.contains(&"127.0.0.1".parse().unwrap()), "{addrs:?}");
        }
    }
}
