//! Real NICs on a real guest, inside a network namespace made for the
//! test (never the host's network): a bridge with an address, a guest
//! whose tap is plugged into it at start, then a NIC hot-added and
//! hot-removed.
//!
//! Taps are created in the namespace of the thread that opens them, and
//! QEMU must run there too, so the outer test runs the inner one in a
//! fresh copy of this test binary under `ip netns exec`, and deletes the
//! namespace in a drop guard. The inner test is `#[ignore]`d and does
//! nothing unless started that way. The guest (tests/guest/build-guest.sh)
//! proves its side of the network through its serial command loop.
//! Skips loudly without root, `/dev/net/tun`, `ip`, busybox, QEMU or the
//! test guest.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use super::qemu_tests::{test_guest, Lab, Serial, BOOT_TIMEOUT, CMD_TIMEOUT};
use super::runtime::KvmRuntime;
use super::*;
use crate::spec::NicSpec;

/// Set in the environment of the inner test.
const INNER_ENV: &str = "GANETI_KVM_TEST_NETNS";

fn skip_reason() -> Option<String> {
    match fs::metadata("/proc/self") {
        Ok(m) if m.uid() == 0 => {}
        _ => return Some("not running as root".into()),
    }
    for tool in ["/dev/net/tun", "/usr/sbin/ip", "/usr/bin/busybox"] {
        if !Path::new(tool).exists() {
            return Some(format!("{tool} is missing"));
        }
    }
    None
}

struct NetNs(String);

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("/usr/sbin/ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

#[test]
fn qemu_nics_in_a_netns() {
    if test_guest().is_none() {
        return;
    }
    if let Some(why) = skip_reason() {
        eprintln!("SKIP: real-QEMU NIC test: {why}");
        return;
    }
    let ns = NetNs(format!("gnt-kvmt-{}", std::process::id()));
    let st = Command::new("/usr/sbin/ip")
        .args(["netns", "add", &ns.0])
        .status()
        .unwrap();
    assert!(st.success(), "ip netns add {}: {st}", ns.0);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("/usr/sbin/ip")
        .args(["netns", "exec", &ns.0])
        .arg(exe)
        .args([
            "hypervisor::kvm::netns_tests::inner_qemu_nics",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INNER_ENV, &ns.0)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "inner test failed:\n{text}");
    assert!(text.contains("1 passed"), "inner test did not run:\n{text}");
}

fn sh(args: &[&str]) {
    let st = Command::new(args[0]).args(&args[1..]).status().unwrap();
    assert!(st.success(), "{args:?}: {st}");
}

fn nic(uuid: &str, mac: &str) -> NicSpec {
    NicSpec {
        uuid: uuid.into(),
        name: None,
        mac: mac.into(),
        ip: None,
        network: None,
        mode: "bridged".into(),
        link: "br0".into(),
        vlan: String::new(),
    }
}

fn master_of(tap: &str) -> Option<String> {
    fs::read_link(format!("/sys/class/net/{tap}/master"))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
}

#[test]
#[ignore = "runs inside a network namespace, started by qemu_nics_in_a_netns"]
fn inner_qemu_nics() {
    if std::env::var(INNER_ENV).is_err() {
        return;
    }
    let guest = test_guest().expect("checked by the outer test");
    sh(&["/usr/sbin/ip", "link", "set", "lo", "up"]);
    sh(&["/usr/sbin/ip", "link", "add", "br0", "type", "bridge"]);
    sh(&["/usr/sbin/ip", "link", "set", "br0", "up"]);
    sh(&[
        "/usr/sbin/ip",
        "addr",
        "add",
        "10.99.0.254/24",
        "dev",
        "br0",
    ]);

    let lab = Lab::new(guest);
    let name = "gln";
    let (dspec, disk) = lab.data_disk(name, "d1d1d1d1-1111-4222-8333-444455556666", 16);
    let mut inst = lab.instance(
        name,
        json!({"kernel_args": "quiet gnt.name=gln gnt.ip=10.99.0.1/24"}),
    );
    inst.disks = vec![dspec];
    inst.nics = vec![nic(
        "a1a1a1a1-1111-4222-8333-444455556666",
        "aa:00:00:00:00:01",
    )];
    lab.hv.start(&inst, &[disk], false).unwrap();
    let f = lab.hv.dirs.instance(name);
    let mut serial = Serial::connect(&f.serial);
    let ready = serial.ready(name, BOOT_TIMEOUT).unwrap();
    assert_eq!(ready.ip, "10.99.0.1/24");
    // the guest reaches the bridge through its tap, and the bridge the guest
    let (rc, out) = serial.run("ping -c1 -W2 10.99.0.254", CMD_TIMEOUT).unwrap();
    assert_eq!(rc, 0, "the guest cannot ping the bridge:\n{out}");
    sh(&[
        "/usr/bin/busybox",
        "ping",
        "-c",
        "2",
        "-W",
        "2",
        "10.99.0.1",
    ]);

    let rt = KvmRuntime::read(name, &f.runtime).unwrap().unwrap();
    let tap0 = rt.nics[0].tap.clone();
    assert_eq!(rt.nics[0].id, "nic-a1a1a1a1-1111-4222");
    assert_eq!(master_of(&tap0).as_deref(), Some("br0"));
    assert_eq!(fs::read_to_string(f.nic_file(0)).unwrap(), tap0);

    // hot-add a second NIC: a new tap on the bridge, QEMU got its fd
    let second = nic("b2b2b2b2-1111-4222-8333-444455556666", "aa:00:00:00:00:02");
    inst.nics.push(second.clone());
    lab.hv
        .hotplug(&inst, &[], &HotplugAction::NicAdd { index: 1 })
        .unwrap();
    let rt = KvmRuntime::read(name, &f.runtime).unwrap().unwrap();
    assert_eq!(rt.nics.len(), 2);
    let tap1 = rt.nics[1].tap.clone();
    assert_eq!(master_of(&tap1).as_deref(), Some("br0"));
    let e = lab
        .hv
        .hotplug(&inst, &[], &HotplugAction::NicAdd { index: 1 })
        .unwrap_err();
    assert!(e.to_string().contains("already plugged in"), "{e}");
    // the guest found the new NIC, with its MAC
    let mac = serial
        .run_until_ok("cat /sys/class/net/eth1/address", Duration::from_secs(20))
        .unwrap();
    assert!(mac.contains("aa:00:00:00:00:02"), "eth1's address: {mac}");

    // hot-remove it: once QEMU lets go of the fd, the tap disappears
    inst.nics.pop();
    lab.hv
        .hotplug(&inst, &[], &HotplugAction::NicRemove { nic: second })
        .unwrap();
    assert!(process::wait_until(Duration::from_secs(5), || !Path::new(
        &format!("/sys/class/net/{tap1}")
    )
    .exists()));
    assert_eq!(
        KvmRuntime::read(name, &f.runtime)
            .unwrap()
            .unwrap()
            .nics
            .len(),
        1
    );
    assert!(!f.nic_file(1).exists());
    // the guest let go of it; its first NIC still works
    serial
        .run_until_ok("! test -e /sys/class/net/eth1", Duration::from_secs(20))
        .unwrap();
    let (rc, out) = serial.run("ping -c1 -W2 10.99.0.254", CMD_TIMEOUT).unwrap();
    assert_eq!(rc, 0, "the guest lost its first NIC:\n{out}");

    // a destroyed VM takes its taps with it
    lab.hv.stop(&inst, true, Duration::ZERO).unwrap();
    assert!(process::wait_until(Duration::from_secs(5), || !Path::new(
        &format!("/sys/class/net/{tap0}")
    )
    .exists()));
    lab.hv.cleanup(name).unwrap();
    eprintln!("inner NIC test done");
}
