//! Instance networking on the node: tap devices and their connection to
//! the host network, as Ganeti's KVM support does it.
//!
//! Why this shape:
//! - the node opens the tap itself ([`open_tap`]) and hands the descriptor
//!   to QEMU, so setup errors reach the job and a dying VM takes its tap
//!   with it;
//! - the connection follows Ganeti's `kvm-ifup`/`net-common` scripts step
//!   by step (bridged, routed; Open vSwitch is refused because this kernel
//!   has none), but as typed, pure plans run with iproute2 and an explicit
//!   argv, so every step is unit-tested and every failure names the
//!   command and the kernel's message;
//! - an operator's replacement script (`kvm-ifup-custom`, or 3.0's
//!   `kvm-vif-bridge`) in the configuration directory wins over the
//!   built-in setup, with Ganeti's environment, so existing sites keep
//!   their network integration.

mod bridged;
mod cmd;
mod routed;
mod script;
mod tap;
mod tunioctl;

#[cfg(test)]
mod netns_tests;

use std::path::{Path, PathBuf};

use ganeti_types::Paths;

use crate::spec::NicSpec;
use crate::NodeError;

pub use tap::{check_ifname, open_tap, Tap, TUN_DEVICE};

/// The operator's replacement for the built-in setup (later Ganeti name).
pub const IFUP_CUSTOM: &str = "kvm-ifup-custom";
/// The same, under Ganeti 3.0's name.
pub const IFUP_CUSTOM_LEGACY: &str = "kvm-vif-bridge";
/// The operator's undo script (run by [`unconfigure_tap_with`]).
pub const IFDOWN_CUSTOM: &str = "kvm-ifdown-custom";
/// Run first for instance-communication taps (Ganeti's `kvm-ifup-os`).
pub const IFUP_OS: &str = "kvm-ifup-os";
/// Name prefix of Ganeti's instance-communication taps.
pub const COMMUNICATION_TAP_PREFIX: &str = "gnt.com";

pub use crate::spec::NetworkInfo;

/// Everything about a NIC's setup that is not in its [`NicSpec`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NicContext {
    /// The instance's name (messages, `INSTANCE`).
    pub instance: String,
    /// The NIC's position in the instance (`INTERFACE_INDEX`).
    pub index: Option<usize>,
    /// The instance's tags (`TAGS`).
    pub tags: Vec<String>,
    /// The NIC's network, if it has one (`NETWORK_*`; without it only
    /// `NETWORK_UUID` is set).
    pub network: Option<NetworkInfo>,
    /// Where operator scripts are looked up (Ganeti's `/etc/ganeti`);
    /// `None`: built-in setup only.
    pub conf_dir: Option<PathBuf>,
}

impl NicContext {
    /// A context for `instance` with the operator scripts of the standard
    /// layout (`/etc/ganeti`), as [`configure_tap`] uses.
    pub fn new(instance: &str) -> Self {
        NicContext {
            instance: instance.to_string(),
            conf_dir: Some(Paths::new("/").conf_dir()),
            ..NicContext::default()
        }
    }
}

/// Set the tap up and connect it as the NIC's mode says: `bridged` -> enslave to the bridge `nic.link`
/// (must exist; clear error otherwise; VLAN from nic.vlan if set), `routed` -> up, proxy ARP, and a route
/// for nic.ip (required) via the tap in routing table `nic.link` (or main when empty), `openvswitch` -> refused
/// clearly (no OVS in this kernel). `instance` is for messages.
///
/// An executable `/etc/ganeti/kvm-ifup-custom` (or `kvm-vif-bridge`) is
/// run instead of the built-in setup; use [`configure_tap_with`] for a
/// relocated root, the NIC index, tags and network details.
pub fn configure_tap(ifname: &str, nic: &NicSpec, instance: &str) -> Result<(), NodeError> {
    configure_tap_with(ifname, nic, &NicContext::new(instance))
}

/// Undo what configure_tap did that does not vanish with the tap itself (routes of routed NICs). Missing = fine.
pub fn unconfigure_tap(ifname: &str, nic: &NicSpec) -> Result<(), NodeError> {
    unconfigure_tap_with(ifname, nic, &NicContext::new(""))
}

/// What [`configure_tap_with`] will do for one NIC.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Setup {
    /// Run these operator scripts, in order, and nothing else.
    Scripts(Vec<PathBuf>),
    /// The built-in setup for the NIC's mode (after these scripts).
    BuiltIn(Vec<PathBuf>),
}

/// Ganeti's `kvm-ifup` decision: `kvm-ifup-os` first for communication
/// taps, then a custom script replaces everything; communication taps get
/// no built-in setup.
fn choose_setup(ifname: &str, nic: &NicSpec, conf_dir: Option<&Path>) -> Setup {
    let comm = is_communication_tap(ifname, &nic.mode);
    let exe = |name: &str| {
        conf_dir
            .map(|d| d.join(name))
            .filter(|p| cmd::is_executable(p))
    };
    let mut scripts: Vec<PathBuf> = Vec::new();
    if comm {
        scripts.extend(exe(IFUP_OS));
    }
    if let Some(custom) = exe(IFUP_CUSTOM).or_else(|| exe(IFUP_CUSTOM_LEGACY)) {
        scripts.push(custom);
        return Setup::Scripts(scripts);
    }
    if comm {
        Setup::Scripts(scripts)
    } else {
        Setup::BuiltIn(scripts)
    }
}

/// Whether `ifname` is an instance-communication tap (routed, `gnt.com*`).
pub fn is_communication_tap(ifname: &str, mode: &str) -> bool {
    mode == "routed" && ifname.starts_with(COMMUNICATION_TAP_PREFIX)
}

/// [`configure_tap`] with the full context: operator scripts from
/// `ctx.conf_dir`, and the script environment's index, tags and network.
pub fn configure_tap_with(ifname: &str, nic: &NicSpec, ctx: &NicContext) -> Result<(), NodeError> {
    check_ifname(ifname)?;
    let env = script::environment(ifname, nic, ctx);
    let scripts = match choose_setup(ifname, nic, ctx.conf_dir.as_deref()) {
        Setup::Scripts(s) => {
            for sc in &s {
                script::run(sc, ifname, &env, script::SCRIPT_TIMEOUT)?;
            }
            return Ok(());
        }
        Setup::BuiltIn(s) => s,
    };
    for sc in &scripts {
        script::run(sc, ifname, &env, script::SCRIPT_TIMEOUT)?;
    }
    let instance = ctx.instance.as_str();
    let steps = match nic.mode.as_str() {
        "bridged" => {
            let facts = bridged::gather(ifname, nic)?;
            bridged::plan(ifname, nic, instance, &facts)?
        }
        "routed" => routed::plan(ifname, nic, instance)?,
        "openvswitch" => {
            return Err(NodeError::NicModeUnsupported {
                mode: nic.mode.clone(),
                instance: instance.to_string(),
                reason: "this node's kernel has no Open vSwitch",
            })
        }
        _ => {
            return Err(NodeError::NicModeUnsupported {
                mode: nic.mode.clone(),
                instance: instance.to_string(),
                reason: "unknown NIC mode (expected bridged, routed or openvswitch)",
            })
        }
    };
    cmd::execute(ifname, &steps)
}

/// [`unconfigure_tap`] with the full context: an executable
/// `kvm-ifdown-custom` in `ctx.conf_dir` runs instead of the built-in undo
/// (best effort, as Ganeti's ifdown design says: its failure is reported).
pub fn unconfigure_tap_with(
    ifname: &str,
    nic: &NicSpec,
    ctx: &NicContext,
) -> Result<(), NodeError> {
    check_ifname(ifname)?;
    if let Some(sc) = ctx
        .conf_dir
        .as_deref()
        .map(|d| d.join(IFDOWN_CUSTOM))
        .filter(|p| cmd::is_executable(p))
    {
        let env = script::environment(ifname, nic, ctx);
        return script::run(&sc, ifname, &env, script::SCRIPT_TIMEOUT);
    }
    match nic.mode.as_str() {
        "routed" => cmd::execute(ifname, &routed::unplan(ifname, nic)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use super::*;

    fn nic(mode: &str, link: &str) -> NicSpec {
        NicSpec {
            uuid: "nic-uuid-1".into(),
            name: Some("eth-front".into()),
            mac: "aa:00:00:11:22:33".into(),
            ip: Some("192.0.2.7".into()),
            network: Some("net-uuid-9".into()),
            mode: mode.into(),
            link: link.into(),
            vlan: ".100".into(),
        }
    }

    fn write_script(dir: &Path, name: &str, body: &str, exec: bool) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        let mode = if exec { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    fn ctx(conf: &Path) -> NicContext {
        NicContext {
            instance: "inst1.example.com".into(),
            index: Some(2),
            tags: vec!["web".into(), "prod".into()],
            network: None,
            conf_dir: Some(conf.to_path_buf()),
        }
    }

    fn env_map(v: &[(String, String)]) -> std::collections::BTreeMap<&str, &str> {
        v.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn the_script_environment_is_ganetis() {
        let c = NicContext {
            conf_dir: None,
            ..ctx(Path::new("/nonexistent"))
        };
        let env = script::environment("tap4", &nic("bridged", "br0"), &c);
        let m = env_map(&env);
        assert_eq!(m["INSTANCE"], "inst1.example.com");
        assert_eq!(m["INTERFACE"], "tap4");
        assert_eq!(m["INTERFACE_INDEX"], "2");
        assert_eq!(m["INTERFACE_UUID"], "nic-uuid-1");
        assert_eq!(m["INTERFACE_NAME"], "eth-front");
        assert_eq!(m["MAC"], "aa:00:00:11:22:33");
        assert_eq!(m["MODE"], "bridged");
        assert_eq!(m["LINK"], "br0");
        assert_eq!(m["BRIDGE"], "br0");
        assert_eq!(m["IP"], "192.0.2.7");
        assert_eq!(m["VLAN"], ".100");
        assert_eq!(m["TAGS"], "web prod");
        assert_eq!(m["NETWORK_UUID"], "net-uuid-9");
        assert!(m["PATH"].ends_with(":/sbin:/usr/sbin"), "{}", m["PATH"]);
        assert!(!m.contains_key("NETWORK_NAME"));

        // routed, no IP/name/link/network/index: those variables are absent
        let mut n = nic("routed", "");
        n.ip = None;
        n.name = None;
        n.network = None;
        let c = NicContext::new("i2");
        let m2 = script::environment("tap5", &n, &c);
        let m2 = env_map(&m2);
        for k in [
            "IP",
            "INTERFACE_NAME",
            "LINK",
            "BRIDGE",
            "INTERFACE_INDEX",
            "NETWORK_UUID",
        ] {
            assert!(!m2.contains_key(k), "{k}");
        }
        assert_eq!(m2["TAGS"], "");

        // with the network's facts: Ganeti's Network.HooksDict
        let c = NicContext {
            network: Some(NetworkInfo {
                name: "front".into(),
                uuid: "net-uuid-9".into(),
                subnet: Some("192.0.2.0/24".into()),
                gateway: Some("192.0.2.1".into()),
                subnet6: None,
                gateway6: Some(String::new()),
                mac_prefix: Some("aa:bb:cc".into()),
                tags: vec!["t1".into()],
            }),
            ..NicContext::new("i3")
        };
        let e = script::environment("tap6", &nic("routed", "100"), &c);
        let m3 = env_map(&e);
        assert_eq!(m3["NETWORK_NAME"], "front");
        assert_eq!(m3["NETWORK_SUBNET"], "192.0.2.0/24");
        assert_eq!(m3["NETWORK_GATEWAY"], "192.0.2.1");
        assert_eq!(m3["NETWORK_MAC_PREFIX"], "aa:bb:cc");
        assert_eq!(m3["NETWORK_TAGS"], "t1");
        assert!(!m3.contains_key("NETWORK_SUBNET6"));
        assert!(!m3.contains_key("NETWORK_GATEWAY6"));
        assert!(!m3.contains_key("BRIDGE"));
    }

    #[test]
    fn the_custom_script_replaces_the_built_in_setup() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env.out");
        write_script(
            dir.path(),
            IFUP_CUSTOM,
            &format!("env > {}", out.display()),
            true,
        );
        // openvswitch would be refused by the built-in setup: the script ran instead
        configure_tap_with("tap4", &nic("openvswitch", "ovs0"), &ctx(dir.path())).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        for want in [
            "INTERFACE=tap4",
            "MODE=openvswitch",
            "LINK=ovs0",
            "MAC=aa:00:00:11:22:33",
            "IP=192.0.2.7",
            "INSTANCE=inst1.example.com",
            "VLAN=.100",
            "INTERFACE_INDEX=2",
            "NETWORK_UUID=net-uuid-9",
            "TAGS=web prod",
        ] {
            assert!(
                text.lines().any(|l| l == want),
                "{want} missing in:\n{text}"
            );
        }
        assert!(!text.lines().any(|l| l.starts_with("HOME=")), "{text}");
    }

    #[test]
    fn the_legacy_name_and_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = write_script(dir.path(), IFUP_CUSTOM_LEGACY, "exit 0", true);
        let n = nic("bridged", "br0");
        assert_eq!(
            choose_setup("tap0", &n, Some(dir.path())),
            Setup::Scripts(vec![legacy])
        );
        let custom = write_script(dir.path(), IFUP_CUSTOM, "exit 0", true);
        assert_eq!(
            choose_setup("tap0", &n, Some(dir.path())),
            Setup::Scripts(vec![custom.clone()])
        );
        assert_eq!(choose_setup("tap0", &n, None), Setup::BuiltIn(vec![]));
        // communication taps: kvm-ifup-os first; no built-in setup without a custom script
        let os = write_script(dir.path(), IFUP_OS, "exit 0", true);
        let r = nic("routed", "");
        assert_eq!(
            choose_setup("gnt.com.0", &r, Some(dir.path())),
            Setup::Scripts(vec![os.clone(), custom.clone()])
        );
        std::fs::remove_file(&custom).unwrap();
        std::fs::remove_file(dir.path().join(IFUP_CUSTOM_LEGACY)).unwrap();
        assert_eq!(
            choose_setup("gnt.com.0", &r, Some(dir.path())),
            Setup::Scripts(vec![os])
        );
        // kvm-ifup-os only matters for communication taps
        assert_eq!(
            choose_setup("tap0", &r, Some(dir.path())),
            Setup::BuiltIn(vec![])
        );
        assert!(!is_communication_tap("gnt.com.0", "bridged"));
    }

    #[test]
    fn a_script_that_is_not_executable_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        write_script(dir.path(), IFUP_CUSTOM, "exit 0", false);
        let e =
            configure_tap_with("tap4", &nic("openvswitch", "ovs0"), &ctx(dir.path())).unwrap_err();
        assert_eq!(
            e.to_string(),
            "NIC mode 'openvswitch' of instance inst1.example.com is not supported on this node: this node's kernel has no Open vSwitch"
        );
        let e = configure_tap_with("tap4", &nic("vde", ""), &ctx(dir.path())).unwrap_err();
        assert!(matches!(e, NodeError::NicModeUnsupported { .. }), "{e}");
        let e = configure_tap_with("bad name", &nic("routed", ""), &ctx(dir.path())).unwrap_err();
        assert!(matches!(e, NodeError::InvalidIfName { .. }), "{e}");
    }

    #[test]
    fn a_failing_script_reports_its_output() {
        let dir = tempfile::tempdir().unwrap();
        write_script(
            dir.path(),
            IFUP_CUSTOM,
            "echo \"no such bridge $LINK\" >&2; exit 3",
            true,
        );
        let e = configure_tap_with("tap4", &nic("bridged", "br7"), &ctx(dir.path())).unwrap_err();
        let t = e.to_string();
        assert!(t.starts_with("Failed to configure interface tap4: "), "{t}");
        assert!(t.contains("kvm-ifup-custom failed (exit status: 3)"), "{t}");
        assert!(
            t.ends_with("network configuration script output: no such bridge br7"),
            "{t}"
        );
    }

    #[test]
    fn a_hanging_script_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let p = write_script(dir.path(), "slow", "exec sleep 30", true);
        let started = std::time::Instant::now();
        let e = script::run(&p, "tap4", &[], Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(e.to_string().contains("was killed after 300ms"), "{e}");
    }

    #[test]
    fn the_ifdown_script_replaces_the_built_in_undo() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("down.out");
        write_script(
            dir.path(),
            IFDOWN_CUSTOM,
            &format!("echo \"$INTERFACE $MODE $IP\" > {}", out.display()),
            true,
        );
        unconfigure_tap_with("tap9", &nic("routed", "100"), &ctx(dir.path())).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "tap9 routed 192.0.2.7\n"
        );
        // bridged and openvswitch NICs leave nothing behind to undo
        let none = NicContext::default();
        unconfigure_tap_with("tap9", &nic("bridged", "br0"), &none).unwrap();
        unconfigure_tap_with("tap9", &nic("openvswitch", "ovs0"), &none).unwrap();
    }
}
