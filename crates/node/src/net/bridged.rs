//! Bridged NICs: the tap joins the Linux bridge named by the NIC's `link`.
//!
//! The steps are those of Ganeti's `net-common` (`setup_bridge` and, with a
//! `vlan`, `setup_bridge_vlan_aware`): give the tap a MAC starting with
//! `fe` so the bridge never takes the tap's address as its own, bring it up,
//! copy the bridge's MTU, enslave it; with VLANs, add them to the tap (the
//! first one untagged unless the spec starts with `:`) and to the bridge's
//! uplinks. Unlike the shell script, everything that can be checked is
//! checked before the first change, so a refused NIC leaves the tap as it
//! was.

use super::cmd::{argv, link_facts, ports_of, LinkFacts, Step};
use crate::spec::NicSpec;
use crate::NodeError;

/// Where Ganeti looks for classic (802.1Q interface) VLAN users.
const PROC_VLAN_CONFIG: &str = "/proc/net/vlan/config";

/// One VLAN of a NIC: its id and whether it is the untagged (PVID) one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Vlan {
    pub vid: u16,
    pub untagged: bool,
}

/// Parse Ganeti's NIC `vlan` syntax: `N` or `.N` (access port, untagged),
/// `.N:M:...` (hybrid: N untagged, the others tagged), `:N:M...` (trunk,
/// all tagged). Empty = no VLANs.
pub(super) fn parse_vlan(vlan: &str, instance: &str) -> Result<Vec<Vlan>, NodeError> {
    let bad = |reason| NodeError::BadVlan {
        vlan: vlan.to_string(),
        instance: instance.to_string(),
        reason,
    };
    let v = vlan.trim();
    if v.is_empty() {
        return Ok(Vec::new());
    }
    let (first_untagged, body) = match v.strip_prefix(':') {
        Some(rest) => (false, rest),
        None => (true, v.strip_prefix('.').unwrap_or(v)),
    };
    let mut out = Vec::new();
    for (i, part) in body.split(':').enumerate() {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "expected N, .N, .N:M:... or :N:M:... with numeric VLAN ids",
            ));
        }
        let vid: u16 = part
            .parse()
            .ok()
            .filter(|n| (1..=4094).contains(n))
            .ok_or_else(|| bad("VLAN ids are 1 to 4094"))?;
        out.push(Vlan {
            vid,
            untagged: i == 0 && first_untagged,
        });
    }
    Ok(out)
}

/// A classic VLAN interface (from `/proc/net/vlan/config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct VlanUser {
    pub vid: u16,
    /// The device the VLAN interface sits on.
    pub lower: String,
    /// Whether `lower` is a veth (Ganeti allows those: stacked bridges).
    pub lower_is_veth: bool,
}

/// Parse `/proc/net/vlan/config` (`name | vid | lower` after two header
/// lines) into `(vid, lower device)` pairs.
pub(super) fn parse_proc_vlan(text: &str) -> Vec<(u16, String)> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            match cols.as_slice() {
                [_, vid, lower, ..] => Some((vid.parse().ok()?, lower.to_string())),
                _ => None,
            }
        })
        .collect()
}

/// What the plan needs to know about the node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct BridgeFacts {
    /// The bridge (`None`: no such interface).
    pub bridge: Option<LinkFacts>,
    /// The tap's current MAC.
    pub tap_mac: Option<String>,
    /// Ports of the bridge that are not taps (only looked up with VLANs).
    pub uplinks: Vec<String>,
    /// Classic VLAN interfaces (only looked up with VLANs).
    pub vlan_users: Vec<VlanUser>,
}

/// Look up what [`plan`] needs.
pub(super) fn gather(ifname: &str, nic: &NicSpec) -> Result<BridgeFacts, NodeError> {
    let mut f = BridgeFacts::default();
    if nic.link.is_empty() {
        return Ok(f);
    }
    f.bridge = link_facts(ifname, &nic.link)?;
    if f.bridge.as_ref().and_then(|b| b.kind.as_deref()) != Some("bridge") {
        return Ok(f);
    }
    f.tap_mac = link_facts(ifname, ifname)?.and_then(|l| l.address);
    if !nic.vlan.trim().is_empty() {
        f.uplinks = ports_of(ifname, &nic.link)?
            .into_iter()
            .filter(|p| !p.starts_with("tap") && p != ifname)
            .collect();
        let text = std::fs::read_to_string(PROC_VLAN_CONFIG).unwrap_or_default();
        for (vid, lower) in parse_proc_vlan(&text) {
            let kind = link_facts(ifname, &lower)?.and_then(|l| l.kind);
            f.vlan_users.push(VlanUser {
                vid,
                lower,
                lower_is_veth: kind.as_deref() == Some("veth"),
            });
        }
    }
    Ok(f)
}

/// `fe` followed by the rest of the tap's MAC (Ganeti's `fix_mac`).
pub(super) fn fixed_mac(mac: &str) -> Option<String> {
    let rest = mac.get(2..)?;
    if mac.len() != 17 || !rest.starts_with(':') {
        return None;
    }
    Some(format!("fe{rest}"))
}

/// The steps that connect tap `ifname` to the bridge of `nic`.
pub(super) fn plan(
    ifname: &str,
    nic: &NicSpec,
    instance: &str,
    facts: &BridgeFacts,
) -> Result<Vec<Step>, NodeError> {
    let bridge = nic.link.as_str();
    let missing = || NodeError::BridgeMissing {
        bridge: bridge.to_string(),
        instance: instance.to_string(),
        ifname: ifname.to_string(),
    };
    if bridge.is_empty() {
        return Err(missing());
    }
    let br = facts.bridge.as_ref().ok_or_else(missing)?;
    if br.kind.as_deref() != Some("bridge") {
        return Err(NodeError::NotABridge {
            link: bridge.to_string(),
            instance: instance.to_string(),
            ifname: ifname.to_string(),
        });
    }
    let vlans = parse_vlan(&nic.vlan, instance)?;
    if !vlans.is_empty() && !br.vlan_filtering {
        return Err(NodeError::VlanFilteringDisabled {
            instance: instance.to_string(),
            ifname: ifname.to_string(),
            bridge: bridge.to_string(),
        });
    }
    for v in &vlans {
        if let Some(u) = facts
            .vlan_users
            .iter()
            .find(|u| u.vid == v.vid && !u.lower_is_veth)
        {
            return Err(NodeError::VlanInUse {
                vid: v.vid,
                instance: instance.to_string(),
                device: u.lower.clone(),
            });
        }
    }

    let mut steps = Vec::new();
    if let Some(mac) = facts.tap_mac.as_deref().and_then(fixed_mac) {
        steps.push(Step::TryRun(argv(&[
            "ip", "link", "set", "dev", ifname, "address", &mac,
        ])));
    }
    steps.push(Step::Run(argv(&["ip", "link", "set", "dev", ifname, "up"])));
    if let Some(mtu) = br.mtu {
        steps.push(Step::Run(argv(&[
            "ip",
            "link",
            "set",
            "dev",
            ifname,
            "mtu",
            &mtu.to_string(),
        ])));
    }
    steps.push(Step::Run(argv(&[
        "ip", "link", "set", "dev", ifname, "master", bridge,
    ])));
    for v in &vlans {
        let vid = v.vid.to_string();
        let mut a = argv(&["bridge", "vlan", "add", "dev", ifname, "vid", &vid]);
        if v.untagged {
            a.extend(argv(&["pvid", "untagged"]));
        }
        a.push("master".into());
        steps.push(Step::Run(a));
        for up in &facts.uplinks {
            tracing::info!(
                "configuring VLAN {vid} on interface {up} (reason: instance {instance})"
            );
            steps.push(Step::Run(argv(&[
                "bridge", "vlan", "add", "dev", up, "vid", &vid, "master",
            ])));
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::super::cmd::show;
    use super::*;

    fn nic(link: &str, vlan: &str) -> NicSpec {
        NicSpec {
            uuid: "nic-uuid".into(),
            name: None,
            mac: "aa:00:00:11:22:33".into(),
            ip: None,
            network: None,
            mode: "bridged".into(),
            link: link.into(),
            vlan: vlan.into(),
        }
    }

    fn bridge(mtu: u32, vlan_filtering: bool) -> Option<LinkFacts> {
        Some(LinkFacts {
            kind: Some("bridge".into()),
            mtu: Some(mtu),
            address: Some("02:00:00:00:00:01".into()),
            vlan_filtering,
        })
    }

    fn lines(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Run(a) => show(a),
                Step::TryRun(a) => format!("try {}", show(a)),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn vlan_syntax_is_ganetis() {
        let v = |s| parse_vlan(s, "i1").unwrap();
        assert_eq!(v(""), vec![]);
        assert_eq!(
            v("100"),
            vec![Vlan {
                vid: 100,
                untagged: true
            }]
        );
        assert_eq!(
            v(".100"),
            vec![Vlan {
                vid: 100,
                untagged: true
            }]
        );
        assert_eq!(
            v(".100:200:300"),
            vec![
                Vlan {
                    vid: 100,
                    untagged: true
                },
                Vlan {
                    vid: 200,
                    untagged: false
                },
                Vlan {
                    vid: 300,
                    untagged: false
                }
            ]
        );
        assert_eq!(
            v(":200:300"),
            vec![
                Vlan {
                    vid: 200,
                    untagged: false
                },
                Vlan {
                    vid: 300,
                    untagged: false
                }
            ]
        );
        for bad in [
            "x", ".", ":", "1:", ".1::2", "0", "4095", "99999", "-1", ".a", "1 2",
        ] {
            let e = parse_vlan(bad, "i1").unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("Invalid VLAN '{bad}' of instance i1")),
                "{e}"
            );
        }
    }

    #[test]
    fn proc_vlan_config_is_parsed() {
        let t = "VLAN Dev name\t | VLAN ID\nName-Type: VLAN_NAME_TYPE_RAW_PLUS_VID_NO_PAD\neth0.100       | 100  | eth0\nveth1.7        | 7  | veth1\n";
        assert_eq!(
            parse_proc_vlan(t),
            vec![(100, "eth0".to_string()), (7, "veth1".to_string())]
        );
        assert_eq!(parse_proc_vlan(""), vec![]);
    }

    #[test]
    fn the_mac_is_fixed_as_ganeti_does() {
        assert_eq!(
            fixed_mac("02:11:22:33:44:55").as_deref(),
            Some("fe:11:22:33:44:55")
        );
        assert_eq!(fixed_mac("x"), None);
        assert_eq!(fixed_mac("0211:22:33:44:55:6"), None);
    }

    #[test]
    fn plain_bridging() {
        let f = BridgeFacts {
            bridge: bridge(1400, false),
            tap_mac: Some("9a:bc:de:f0:12:34".into()),
            ..BridgeFacts::default()
        };
        let s = plan("tap3", &nic("br0", ""), "i1", &f).unwrap();
        assert_eq!(
            lines(&s),
            vec![
                "try ip link set dev tap3 address fe:bc:de:f0:12:34",
                "ip link set dev tap3 up",
                "ip link set dev tap3 mtu 1400",
                "ip link set dev tap3 master br0",
            ]
        );
    }

    #[test]
    fn vlans_go_to_the_tap_and_the_uplinks() {
        let f = BridgeFacts {
            bridge: bridge(1500, true),
            tap_mac: None,
            uplinks: vec!["eth0".into()],
            vlan_users: vec![VlanUser {
                vid: 200,
                lower: "veth9".into(),
                lower_is_veth: true,
            }],
        };
        let s = plan("tap3", &nic("br0", ".100:200"), "i1", &f).unwrap();
        assert_eq!(
            lines(&s),
            vec![
                "ip link set dev tap3 up",
                "ip link set dev tap3 mtu 1500",
                "ip link set dev tap3 master br0",
                "bridge vlan add dev tap3 vid 100 pvid untagged master",
                "bridge vlan add dev eth0 vid 100 master",
                "bridge vlan add dev tap3 vid 200 master",
                "bridge vlan add dev eth0 vid 200 master",
            ]
        );
    }

    #[test]
    fn refusals_name_the_bridge_and_the_instance() {
        let none = BridgeFacts::default();
        let e = plan("tap3", &nic("br9", ""), "inst1.example.com", &none).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Bridge 'br9' of instance inst1.example.com does not exist on this node (interface tap3 not connected)"
        );
        let e = plan("tap3", &nic("", ""), "i1", &none).unwrap_err();
        assert!(matches!(e, NodeError::BridgeMissing { .. }), "{e}");
        let eth = BridgeFacts {
            bridge: Some(LinkFacts {
                kind: None,
                mtu: Some(1500),
                ..LinkFacts::default()
            }),
            ..BridgeFacts::default()
        };
        let e = plan("tap3", &nic("eth0", ""), "i1", &eth).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Link 'eth0' of instance i1 is not a bridge (interface tap3 not connected)"
        );
        let nofilter = BridgeFacts {
            bridge: bridge(1500, false),
            ..BridgeFacts::default()
        };
        let e = plan("tap3", &nic("br0", "100"), "i1", &nofilter).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Instance i1 NIC tap3 configured for VLAN support, but bridge br0 has VLAN filtering disabled"
        );
        let used = BridgeFacts {
            bridge: bridge(1500, true),
            vlan_users: vec![VlanUser {
                vid: 100,
                lower: "eth1".into(),
                lower_is_veth: false,
            }],
            ..BridgeFacts::default()
        };
        let e = plan("tap3", &nic("br0", "100"), "i1", &used).unwrap_err();
        assert_eq!(
            e.to_string(),
            "VLAN 100 of instance i1 is in use by lower interface eth1"
        );
        let e = plan("tap3", &nic("br0", "abc"), "i1", &used).unwrap_err();
        assert!(matches!(e, NodeError::BadVlan { .. }));
    }
}
