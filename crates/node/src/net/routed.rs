//! Routed NICs: the host routes the NIC's IP address to the tap.
//!
//! As in Ganeti's `net-common` (`setup_route`): the tap is brought up, and
//! a host route for the instance's IP is put in the routing table named by
//! the NIC's `link` (with a rule sending traffic *from* the tap to that
//! table), or in the main table when `link` is empty; proxy ARP / NDP and
//! forwarding are switched on for the tap. The route vanishes with the tap,
//! the rule does not, hence [`unplan`].

use std::path::PathBuf;

use super::cmd::{argv, Step};
use crate::spec::NicSpec;
use crate::NodeError;

fn ip_of<'a>(ifname: &str, nic: &'a NicSpec, instance: &str) -> Result<&'a str, NodeError> {
    nic.ip
        .as_deref()
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .ok_or_else(|| NodeError::RoutedWithoutIp {
            instance: instance.to_string(),
            ifname: ifname.to_string(),
        })
}

/// The `/proc/sys/net` settings Ganeti switches on for a routed tap.
fn sysctls(ifname: &str) -> [Step; 2] {
    [
        Step::EnableSysctls {
            dir: PathBuf::from(format!("/proc/sys/net/ipv4/conf/{ifname}")),
            keys: vec!["proxy_arp".into(), "forwarding".into()],
        },
        Step::EnableSysctls {
            dir: PathBuf::from(format!("/proc/sys/net/ipv6/conf/{ifname}")),
            keys: vec!["proxy_ndp".into(), "forwarding".into()],
        },
    ]
}

/// The steps that route the NIC's IP to tap `ifname`.
pub(super) fn plan(ifname: &str, nic: &NicSpec, instance: &str) -> Result<Vec<Step>, NodeError> {
    let ip = ip_of(ifname, nic, instance)?;
    let table = nic.link.trim();
    let mut steps = vec![Step::Run(argv(&["ip", "link", "set", "dev", ifname, "up"]))];
    if table.is_empty() {
        steps.push(Step::Run(argv(&[
            "ip", "route", "replace", ip, "proto", "static", "dev", ifname,
        ])));
    } else {
        steps.push(Step::RepeatUntilFails(argv(&[
            "ip", "rule", "del", "dev", ifname,
        ])));
        steps.push(Step::Run(argv(&[
            "ip", "rule", "add", "dev", ifname, "table", table,
        ])));
        steps.push(Step::Run(argv(&[
            "ip", "route", "replace", ip, "table", table, "proto", "static", "dev", ifname,
        ])));
    }
    steps.extend(sysctls(ifname));
    Ok(steps)
}

/// The steps that undo [`plan`] where closing the tap does not: the rule
/// (and the route, should the tap still exist). What is already gone is
/// fine; a NIC without IP has nothing to undo.
pub(super) fn unplan(ifname: &str, nic: &NicSpec) -> Vec<Step> {
    let Some(ip) = nic.ip.as_deref().map(str::trim).filter(|i| !i.is_empty()) else {
        return Vec::new();
    };
    let table = nic.link.trim();
    if table.is_empty() {
        return vec![Step::RunMissingOk(argv(&[
            "ip", "route", "del", ip, "dev", ifname,
        ]))];
    }
    vec![
        Step::RunMissingOk(argv(&[
            "ip", "route", "del", ip, "table", table, "dev", ifname,
        ])),
        Step::RepeatUntilFails(argv(&["ip", "rule", "del", "dev", ifname, "table", table])),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::cmd::show;
    use super::*;

    fn nic(ip: Option<&str>, link: &str) -> NicSpec {
        NicSpec {
            uuid: "u".into(),
            name: None,
            mac: "aa:00:00:11:22:33".into(),
            ip: ip.map(str::to_owned),
            network: None,
            mode: "routed".into(),
            link: link.into(),
            vlan: String::new(),
        }
    }

    fn commands(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .filter_map(|s| match s {
                Step::Run(a) => Some(show(a)),
                Step::RepeatUntilFails(a) => Some(format!("repeat {}", show(a))),
                Step::RunMissingOk(a) => Some(format!("missing-ok {}", show(a))),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn main_table_route() {
        let s = plan("tap1", &nic(Some("192.0.2.10"), ""), "i1").unwrap();
        assert_eq!(
            commands(&s),
            vec![
                "ip link set dev tap1 up",
                "ip route replace 192.0.2.10 proto static dev tap1",
            ]
        );
        assert!(s.contains(&Step::EnableSysctls {
            dir: "/proc/sys/net/ipv4/conf/tap1".into(),
            keys: vec!["proxy_arp".into(), "forwarding".into()],
        }));
        assert!(s.contains(&Step::EnableSysctls {
            dir: "/proc/sys/net/ipv6/conf/tap1".into(),
            keys: vec!["proxy_ndp".into(), "forwarding".into()],
        }));
    }

    #[test]
    fn link_names_the_routing_table() {
        let s = plan("tap1", &nic(Some("2001:db8::5"), "100"), "i1").unwrap();
        assert_eq!(
            commands(&s),
            vec![
                "ip link set dev tap1 up",
                "repeat ip rule del dev tap1",
                "ip rule add dev tap1 table 100",
                "ip route replace 2001:db8::5 table 100 proto static dev tap1",
            ]
        );
        assert_eq!(
            commands(&unplan("tap1", &nic(Some("2001:db8::5"), "100"))),
            vec![
                "missing-ok ip route del 2001:db8::5 table 100 dev tap1",
                "repeat ip rule del dev tap1 table 100",
            ]
        );
        assert_eq!(
            commands(&unplan("tap1", &nic(Some("192.0.2.1"), ""))),
            vec!["missing-ok ip route del 192.0.2.1 dev tap1"]
        );
        assert!(unplan("tap1", &nic(None, "100")).is_empty());
    }

    #[test]
    fn an_ip_is_required() {
        for ip in [None, Some(""), Some("  ")] {
            let e = plan("tap1", &nic(ip, ""), "inst1.example.com").unwrap_err();
            assert_eq!(
                e.to_string(),
                "Routed NIC tap1 of instance inst1.example.com has no IP address specified"
            );
        }
    }
}
