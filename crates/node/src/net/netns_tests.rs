//! Real taps, bridges and routes, inside a network namespace made for the
//! test (never the host's network).
//!
//! A test process cannot simply move itself into a namespace (the
//! namespace is per thread, and `/sys/class/net` shows the namespace that
//! mounted it), so each outer test creates `gnt-test-<pid>-<tag>`, runs
//! its inner test in a fresh copy of this test binary under
//! `ip netns exec` (which also gives the child a matching `/sys`), and
//! deletes the namespace in a drop guard, also when the test fails. The
//! inner tests are `#[ignore]`d and do nothing unless started that way.
//! Everything skips loudly without root, `/dev/net/tun` or `ip`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use super::cmd::find_tool;
use super::*;

/// Set (to the namespace name) in the environment of the inner tests.
const INNER_ENV: &str = "GANETI_NET_TEST_NETNS";

fn skip_reason() -> Option<String> {
    if !Path::new(TUN_DEVICE).exists() {
        return Some(format!("{TUN_DEVICE} is missing"));
    }
    match std::fs::metadata("/proc/self") {
        Ok(m) if m.uid() == 0 => {}
        _ => return Some("not running as root".into()),
    }
    if !find_tool("ip").is_absolute() {
        return Some("the ip command (iproute2) is missing".into());
    }
    None
}

/// A network namespace of ours, deleted on drop.
struct NetNs {
    name: String,
}

impl NetNs {
    fn create(tag: &str) -> NetNs {
        let name = format!("gnt-test-{}-{tag}", std::process::id());
        let st = Command::new(find_tool("ip"))
            .args(["netns", "add", &name])
            .status()
            .expect("run ip netns add");
        assert!(st.success(), "ip netns add {name}: {st}");
        NetNs { name }
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new(find_tool("ip"))
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Run the inner test `inner` (its name below this module) in a new namespace.
fn run_inside(tag: &str, inner: &str) {
    if let Some(why) = skip_reason() {
        eprintln!("SKIP: real-interface test {inner} (netns {tag}): {why}");
        return;
    }
    let ns = NetNs::create(tag);
    let exe = std::env::current_exe().expect("current test binary");
    let full = format!("net::netns_tests::{inner}");
    let out = Command::new(find_tool("ip"))
        .args(["netns", "exec", &ns.name])
        .arg(exe)
        .args([
            full.as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER_ENV, &ns.name)
        .output()
        .expect("run the inner test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "inner test {full} in netns {} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        ns.name,
        out.status
    );
}

/// Whether this is an inner test started by [`run_inside`]; also makes
/// sure the process really is in that namespace before anything changes.
fn inside() -> bool {
    let Ok(ns) = std::env::var(INNER_ENV) else {
        eprintln!("SKIP: runs only inside the network namespace of its outer test");
        return false;
    };
    let id = sh(&["ip", "netns", "identify"]);
    assert_eq!(id.trim(), ns, "not inside the test namespace");
    true
}

/// Run a command that must succeed; its stdout.
fn sh(argv: &[&str]) -> String {
    let out = Command::new(find_tool(argv[0]))
        .args(&argv[1..])
        .output()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    assert!(
        out.status.success(),
        "{argv:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn link_exists(name: &str) -> bool {
    Command::new(find_tool("ip"))
        .args(["link", "show", "dev", name])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn nic(mode: &str, link: &str, ip: Option<&str>, vlan: &str) -> NicSpec {
    NicSpec {
        uuid: "nic-uuid".into(),
        name: None,
        mac: "aa:00:00:11:22:33".into(),
        ip: ip.map(str::to_owned),
        network: None,
        mode: mode.into(),
        link: link.into(),
        vlan: vlan.into(),
    }
}

/// No operator scripts: the built-in setup only.
fn ctx() -> NicContext {
    NicContext {
        instance: "inst1.example.com".into(),
        ..NicContext::default()
    }
}

fn read_trim(p: &str) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{p}: {e}"))
        .trim()
        .to_string()
}

// ---------------------------------------------------------------------------
// outer tests

#[test]
fn real_bridged_tap() {
    run_inside("bridged", "inner_bridged_tap");
}

#[test]
fn real_refusals() {
    run_inside("refusals", "inner_refusals");
}

#[test]
fn real_routed_tap() {
    run_inside("routed", "inner_routed_tap");
}

// ---------------------------------------------------------------------------
// inner tests

#[test]
#[ignore = "runs inside a network namespace made by real_bridged_tap"]
fn inner_bridged_tap() {
    if !inside() {
        return;
    }
    sh(&["ip", "link", "add", "br0", "type", "bridge"]);
    sh(&["ip", "link", "set", "br0", "mtu", "1400"]);
    sh(&["ip", "link", "set", "br0", "up"]);

    let tap = open_tap(None, true).unwrap();
    assert!(tap.ifname.starts_with("tap"), "{}", tap.ifname);
    let flags = read_trim(&format!("/sys/class/net/{}/tun_flags", tap.ifname));
    assert_eq!(flags, "0x5002", "IFF_TAP|IFF_NO_PI|IFF_VNET_HDR");

    configure_tap_with(&tap.ifname, &nic("bridged", "br0", None, ""), &ctx()).unwrap();
    let line = sh(&["ip", "-o", "link", "show", "dev", &tap.ifname]);
    assert!(line.contains("master br0"), "{line}");
    assert!(line.contains("mtu 1400"), "{line}");
    assert!(line.contains(",UP") || line.contains("<UP"), "{line}");
    assert!(line.contains("link/ether fe:"), "{line}");
    // configuring again is harmless
    configure_tap_with(&tap.ifname, &nic("bridged", "br0", None, ""), &ctx()).unwrap();
    unconfigure_tap_with(&tap.ifname, &nic("bridged", "br0", None, ""), &ctx()).unwrap();

    // the tap disappears with its descriptor
    let name = tap.ifname.clone();
    drop(tap);
    assert!(!link_exists(&name), "{name} still exists after close");

    // a chosen name, without the virtio-net header
    let t2 = open_tap(Some("gnttest0"), false).unwrap();
    assert_eq!(t2.ifname, "gnttest0");
    assert_eq!(read_trim("/sys/class/net/gnttest0/tun_flags"), "0x1002");
    let e = open_tap(Some("gnttest0"), false).unwrap_err();
    assert!(matches!(e, NodeError::TapCreate { .. }), "{e}");
    assert!(
        e.to_string()
            .starts_with("Cannot create tap device 'gnttest0': "),
        "{e}"
    );
    // the public entry point works the same (no /etc/ganeti scripts here)
    if !Path::new("/etc/ganeti").join(IFUP_CUSTOM).exists()
        && !Path::new("/etc/ganeti").join(IFUP_CUSTOM_LEGACY).exists()
    {
        configure_tap("gnttest0", &nic("bridged", "br0", None, ""), "inst1").unwrap();
        let line = sh(&["ip", "-o", "link", "show", "dev", "gnttest0"]);
        assert!(line.contains("master br0"), "{line}");
    }
    drop(t2);
    assert!(!link_exists("gnttest0"));
}

#[test]
#[ignore = "runs inside a network namespace made by real_refusals"]
fn inner_refusals() {
    if !inside() {
        return;
    }
    sh(&["ip", "link", "add", "br0", "type", "bridge"]);
    sh(&[
        "ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1",
    ]);
    let tap = open_tap(None, true).unwrap();
    let t = tap.ifname.as_str();

    let e = configure_tap_with(t, &nic("bridged", "nobr0", None, ""), &ctx()).unwrap_err();
    assert!(matches!(e, NodeError::BridgeMissing { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("'nobr0'") && msg.contains("inst1.example.com"),
        "{msg}"
    );

    let e = configure_tap_with(t, &nic("bridged", "v0", None, ""), &ctx()).unwrap_err();
    assert!(matches!(e, NodeError::NotABridge { .. }), "{e}");

    // this kernel's bridges have no VLAN filtering switched on
    let e = configure_tap_with(t, &nic("bridged", "br0", None, ".100"), &ctx()).unwrap_err();
    assert!(matches!(e, NodeError::VlanFilteringDisabled { .. }), "{e}");

    let e = configure_tap_with(t, &nic("openvswitch", "ovs0", None, ""), &ctx()).unwrap_err();
    assert!(matches!(e, NodeError::NicModeUnsupported { .. }), "{e}");

    // nothing was changed by the refusals
    let line = sh(&["ip", "-o", "link", "show", "dev", t]);
    assert!(!line.contains("master"), "{line}");
    assert!(!line.contains(",UP") && !line.contains("<UP"), "{line}");

    // a failing command names itself and carries the kernel's message
    let e = configure_tap_with(
        "nosuchtap0",
        &nic("routed", "", Some("192.0.2.9"), ""),
        &ctx(),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, NodeError::NetCommand { .. }), "{e}");
    assert!(msg.contains("'ip link set dev nosuchtap0 up'"), "{msg}");
    assert!(msg.contains("Cannot find device \"nosuchtap0\""), "{msg}");

    let e = configure_tap_with(
        t,
        &nic("routed", "no-such-table", Some("192.0.2.9"), ""),
        &ctx(),
    )
    .unwrap_err();
    assert!(matches!(e, NodeError::NetCommand { .. }), "{e}");
    assert!(e.to_string().contains("no-such-table"), "{e}");

    let e = configure_tap_with(t, &nic("routed", "", None, ""), &ctx()).unwrap_err();
    assert!(matches!(e, NodeError::RoutedWithoutIp { .. }), "{e}");
}

#[test]
#[ignore = "runs inside a network namespace made by real_routed_tap"]
fn inner_routed_tap() {
    if !inside() {
        return;
    }
    // main table
    let tap = open_tap(None, true).unwrap();
    let t = tap.ifname.clone();
    let n = nic("routed", "", Some("192.0.2.10"), "");
    configure_tap_with(&t, &n, &ctx()).unwrap();
    let r = sh(&["ip", "route", "show", "192.0.2.10"]);
    assert!(
        r.contains(&format!("dev {t}")) && r.contains("proto static"),
        "{r}"
    );
    assert_eq!(
        read_trim(&format!("/proc/sys/net/ipv4/conf/{t}/proxy_arp")),
        "1"
    );
    assert_eq!(
        read_trim(&format!("/proc/sys/net/ipv4/conf/{t}/forwarding")),
        "1"
    );
    let ipv6 = Path::new(&format!("/proc/sys/net/ipv6/conf/{t}")).is_dir();
    if ipv6 {
        assert_eq!(
            read_trim(&format!("/proc/sys/net/ipv6/conf/{t}/proxy_ndp")),
            "1"
        );
    }

    // a routing table named by the link, with the rule for traffic from the tap
    let tap2 = open_tap(None, true).unwrap();
    let t2 = tap2.ifname.clone();
    let n2 = nic("routed", "100", Some("192.0.2.11"), "");
    configure_tap_with(&t2, &n2, &ctx()).unwrap();
    configure_tap_with(&t2, &n2, &ctx()).unwrap(); // again: still one rule
    let r = sh(&["ip", "route", "show", "table", "100"]);
    assert!(
        r.contains(&format!("192.0.2.11 dev {t2} proto static")),
        "{r}"
    );
    let rules = sh(&["ip", "rule", "show"]);
    let want = format!("iif {t2} lookup 100");
    assert_eq!(rules.matches(&want).count(), 1, "{rules}");
    unconfigure_tap_with(&t2, &n2, &ctx()).unwrap();
    assert!(!sh(&["ip", "route", "show", "table", "100"]).contains("192.0.2.11"));
    assert!(!sh(&["ip", "rule", "show"]).contains(&want));
    unconfigure_tap_with(&t2, &n2, &ctx()).unwrap(); // missing = fine

    // IPv6 routes work the same way
    if ipv6 {
        let n6 = nic("routed", "", Some("2001:db8::10"), "");
        configure_tap_with(&t2, &n6, &ctx()).unwrap();
        let r = sh(&["ip", "-6", "route", "show", "2001:db8::10"]);
        assert!(r.contains(&format!("dev {t2}")), "{r}");
    }

    // closing the tap takes its routes; the rule is left for unconfigure
    configure_tap_with(&t2, &n2, &ctx()).unwrap();
    drop(tap2);
    drop(tap);
    assert!(!link_exists(&t) && !link_exists(&t2));
    assert!(!sh(&["ip", "route", "show"]).contains("192.0.2.10"));
    // (the kernel shows such a rule as "iif tapN [detached] lookup 100")
    let rule_of_t2 = format!("iif {t2} ");
    assert!(sh(&["ip", "rule", "show"]).contains(&rule_of_t2));
    unconfigure_tap(&t2, &n2).unwrap();
    unconfigure_tap(&t, &n).unwrap();
    let rules = sh(&["ip", "rule", "show"]);
    assert!(!rules.contains(&rule_of_t2), "{rules}");
}
