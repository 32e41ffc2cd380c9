//! The real-VM tier: instances of the kvm hypervisor are real QEMU guests
//! (tests/guest/build-guest.sh), driven only through gnt-* and RAPI, and
//! checked from inside the guest over its serial console: it boots, shuts
//! down cleanly through ACPI, reboots, sees a disk grow at once, reaches
//! another guest over a bridge, survives a daemon restart, and a QEMU
//! killed behind Ganeti's back is reported and can be started again.
//!
//! Every test skips loudly (`SKIP (kvm tier): ...`) where QEMU, the guest
//! or root is missing; `scripts/test.sh` provides them. Guests run under
//! TCG (~3-5 s to boot); each test boots at most a few.

use std::time::{Duration, Instant};

use ganeti_e2e::kvm::{
    alive, guest_args, pid_file, serial_socket, skip, vm_pid, GuestReady, NetNs, Serial,
};
use ganeti_e2e::{kvm_env_or_skip, Cluster, Run};
use serde_json::json;

/// Boot to the ready line, generous for two guests booting on 2 cores.
const BOOT: Duration = Duration::from_secs(90);
/// One command in the guest.
const CMD: Duration = Duration::from_secs(20);
/// A clean ACPI shutdown takes ~2-3 s; Ganeti's timeout is 120 s.
const CLEAN_SHUTDOWN: Duration = Duration::from_secs(30);

const ADMIN: (&str, &str) = ("admin", "adminpw");

fn users(c: &Cluster) {
    c.write_rapi_users("admin adminpw write\n");
    c.wait_rapi();
}

/// `name oper_state status` of an instance, whitespace-normalised.
fn state(c: &Cluster, name: &str) -> String {
    c.instance_fields(name, "name,oper_state,status")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Add a diskless, NIC-less guest named `short` inside and wait until it
/// is up; its console and ready line.
#[track_caller]
fn boot_diskless(c: &Cluster, name: &str, short: &str) -> (Serial, GuestReady) {
    c.add_vm(
        name,
        &guest_args(short, None),
        &["-t", "diskless", "--no-nics"],
    )
    .ok();
    let mut s = c.serial(name);
    let ready = s.wait_ready(BOOT).unwrap();
    (s, ready)
}

#[track_caller]
fn refused(r: &Run) -> String {
    assert_ne!(r.rc, 0, "expected a refusal: {r:?}");
    format!("{}{}", r.stdout, r.stderr)
}

/// Remove an instance and check its QEMU is gone.
fn remove(c: &Cluster, name: &str) {
    let pid = vm_pid(c.root(), name);
    c.gnt(&["gnt-instance", "remove", "-f", name]).ok();
    if let Some(pid) = pid {
        let start = Instant::now();
        while alive(pid) && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!alive(pid), "QEMU {pid} of {name} survived its removal");
    }
}

#[test]
fn boot_console_and_clean_shutdown() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    let name = "vm1.example.com";
    let add = c.add_vm(
        name,
        &guest_args("vm1", None),
        &["-t", "diskless", "--no-nics"],
    );
    add.ok();
    let mut s = c.serial(name);
    let ready = s
        .wait_ready(BOOT)
        .unwrap_or_else(|e| panic!("{e}\n{}", c.daemon_log_tail(20)));
    assert_eq!(ready.name, "vm1");
    assert_eq!(state(&c, name), format!("{name} Y running"));
    assert_eq!(c.instance_fields(name, "hypervisor"), "kvm");
    let pid = vm_pid(c.root(), name).expect("a live QEMU in the kvm pid file");
    // the guest answers; it runs with the memory Ganeti gave it
    let mem = s.check("grep MemTotal /proc/meminfo", CMD);
    let kb: u64 = mem
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("MemTotal? {mem}"));
    assert!(
        (90_000..=131_072).contains(&kb),
        "guest memory {kb} kB for 128M"
    );

    // the console command, as Ganeti prints it
    let sock = serial_socket(c.root(), name);
    let show = c.gnt(&["gnt-instance", "console", "--show-cmd", name]);
    assert!(
        show.ok().contains("socat")
            && show
                .stdout
                .contains(&format!("UNIX-CONNECT:{}", sock.display())),
        "{}",
        show.stdout
    );
    // ... and through RAPI: an ssh console
    users(&c);
    let r = c.rapi(
        Some(ADMIN),
        "GET",
        &format!("/2/instances/{name}/console"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["kind"], "ssh", "{}", r.raw);
    assert_eq!(r.body["instance"], name, "{}", r.raw);
    assert!(r.raw.contains(&sock.display().to_string()), "{}", r.raw);

    // the interactive console reaches the guest (one client at a time)
    drop(s);
    let con = c.gnt_input(
        &["gnt-instance", "console", name],
        b"echo CONSOLE-$((40 + 2))\n",
        Duration::from_secs(3),
    );
    assert!(con.stdout.contains("CONSOLE-42"), "console output: {con:?}");
    let mut s = c.serial(name);
    s.check("true", CMD);

    // a clean shutdown: ACPI power button, the guest powers off, fast
    let t = Instant::now();
    c.gnt(&["gnt-instance", "shutdown", name]).ok();
    let took = t.elapsed();
    s.wait_line("GUEST-SHUTDOWN", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("not a clean shutdown: {e}"));
    assert!(
        took < CLEAN_SHUTDOWN,
        "shutdown took {took:?}: the guest was forced off?"
    );
    assert!(!alive(pid), "QEMU {pid} still runs after shutdown");
    assert_eq!(state(&c, name), format!("{name} N ADMIN_down"));

    // and up again
    c.gnt(&["gnt-instance", "startup", name]).ok();
    let again = s.wait_reboot(&ready.boot, BOOT).unwrap();
    assert_eq!(again.name, "vm1");
    assert_eq!(state(&c, name), format!("{name} Y running"));
    remove(&c, name);
}

#[test]
fn soft_and_hard_reboot() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    let name = "vm2.example.com";
    let (mut s, first) = boot_diskless(&c, name, "vm2");

    c.gnt(&["gnt-instance", "reboot", "--type=soft", name]).ok();
    let soft = s
        .wait_reboot(&first.boot, BOOT)
        .unwrap_or_else(|e| panic!("soft reboot: {e}"));
    assert_eq!(state(&c, name), format!("{name} Y running"));
    s.check("true", CMD);

    c.gnt(&["gnt-instance", "reboot", "--type=hard", name]).ok();
    let hard = s
        .wait_reboot(&soft.boot, BOOT)
        .unwrap_or_else(|e| panic!("hard reboot: {e}"));
    assert_ne!(hard.boot, first.boot);
    assert_eq!(state(&c, name), format!("{name} Y running"));
    s.check("true", CMD);
    remove(&c, name);
}

#[test]
fn rapi_create_boots_a_file_instance() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    users(&c);
    let node = c.gnt(&["gnt-cluster", "getmaster"]).ok().trim().to_string();
    let name = "vm3.example.com";
    let body = json!({
        "__version__": 1,
        "mode": "create",
        "name": name,
        "disk_template": "file",
        "disks": [{"size": 64}],
        "nics": [],
        "os": "noop",
        "pnode": node,
        "name_check": false,
        "ip_check": false,
        "ignore_ipolicy": true,
        "hypervisor": "kvm",
        "hvparams": {"kernel_args": guest_args("vm3", None)},
    });
    let r = c.rapi(Some(ADMIN), "POST", "/2/instances", Some(&body));
    assert_eq!(r.status, 200, "{}", r.raw);
    let job = r.raw.trim().trim_matches('"').to_string();
    // connect while the job starts the VM, so the boot is not missed
    let sock = serial_socket(c.root(), name);
    let mut s = ganeti_e2e::kvm::Serial::connect(&sock, Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}\n{}", c.daemon_log_tail(20)));
    let (status, j) = c.rapi_wait_job(Some(ADMIN), &job, Duration::from_secs(120));
    assert_eq!(status, "success", "{j}");
    let ready = s.wait_ready(BOOT).unwrap();
    assert_eq!(ready.name, "vm3");
    // the 64 MiB file disk is the guest's vda
    assert_eq!(s.check("cat /sys/block/vda/size", CMD).trim(), "131072");
    let r = c.rapi(Some(ADMIN), "GET", &format!("/2/instances/{name}"), None);
    assert_eq!(r.body["oper_state"], true, "{}", r.raw);
    assert_eq!(r.body["status"], "running", "{}", r.raw);

    // RAPI shutdown is as clean as the CLI's
    let r = c.rapi(
        Some(ADMIN),
        "PUT",
        &format!("/2/instances/{name}/shutdown"),
        Some(&json!({})),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    let job = r.raw.trim().trim_matches('"').to_string();
    let (status, j) = c.rapi_wait_job(Some(ADMIN), &job, Duration::from_secs(120));
    assert_eq!(status, "success", "{j}");
    s.wait_line("GUEST-SHUTDOWN", Duration::from_secs(5))
        .unwrap();
    remove(&c, name);
}

#[test]
fn grow_disk_while_running_is_seen_at_once() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    let name = "vm4.example.com";
    c.add_vm(
        name,
        &guest_args("vm4", None),
        &["-t", "file", "--disk", "0:size=64M", "--no-nics"],
    )
    .ok();
    let mut s = c.serial(name);
    s.wait_ready(BOOT).unwrap();
    assert_eq!(s.check("cat /sys/block/vda/size", CMD).trim(), "131072");

    c.gnt(&[
        "gnt-instance",
        "grow-disk",
        "--ignore-ipolicy",
        name,
        "0",
        "32M",
    ])
    .ok();
    // the guest learns of it through virtio's config change, within moments
    let start = Instant::now();
    let mut size = String::new();
    while start.elapsed() < Duration::from_secs(3) {
        size = s.check("cat /sys/block/vda/size", CMD).trim().to_string();
        if size == "196608" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(size, "196608", "the guest still sees the old size");
    assert_eq!(c.instance_fields(name, "disk.sizes"), "96");
    // the guest can read the new end of the disk
    s.check("dd if=/dev/vda of=/dev/null bs=1M skip=95 count=1", CMD);

    // a disk hot-added and hot-removed through modify
    c.gnt(&[
        "gnt-instance",
        "modify",
        "--hotplug",
        "--ignore-ipolicy",
        "--disk",
        "add:size=16M",
        name,
    ])
    .ok();
    let start = Instant::now();
    let mut vdb = s.run("cat /sys/block/vdb/size", CMD).unwrap();
    while vdb.output.trim() != "32768" && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(300));
        vdb = s.run("cat /sys/block/vdb/size", CMD).unwrap();
    }
    assert_eq!(
        vdb.output.trim(),
        "32768",
        "no hot-added vdb: {}",
        s.tail(20)
    );
    assert_eq!(c.instance_fields(name, "disk.count").trim(), "2");
    c.gnt(&[
        "gnt-instance",
        "modify",
        "--hotplug",
        "--ignore-ipolicy",
        "--disk",
        "1:remove",
        name,
    ])
    .ok();
    let start = Instant::now();
    while s.run("test -e /sys/block/vdb", CMD).unwrap().rc == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the unplugged disk is still in the guest"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(c.instance_fields(name, "disk.count").trim(), "1");
    remove(&c, name);
}

#[test]
fn two_guests_on_a_bridge_reach_each_other() {
    let env = kvm_env_or_skip!();
    let ns = match NetNs::create("10.0.0.254/24") {
        Ok(ns) => ns,
        Err(e) => {
            skip(&format!(
                "cannot make a network namespace with a bridge: {e}"
            ));
            return;
        }
    };
    let c = env.cluster_in(&ns);
    let net = format!("0:link={}", ns.bridge);
    let (a, b) = ("neta.example.com", "netb.example.com");
    c.add_vm(
        a,
        &guest_args("neta", Some("10.0.0.1/24")),
        &["-t", "diskless", "--net", &net],
    )
    .ok();
    let mut sa = c.serial(a);
    c.add_vm(
        b,
        &guest_args("netb", Some("10.0.0.2/24")),
        &["-t", "diskless", "--net", &net],
    )
    .ok();
    let mut sb = c.serial(b);
    assert_eq!(sa.wait_ready(BOOT).unwrap().ip, "10.0.0.1/24");
    assert_eq!(sb.wait_ready(BOOT).unwrap().ip, "10.0.0.2/24");

    // both taps hang on the bridge
    let (ok, ports) = ns.exec(&["ip", "-o", "link", "show", "master", &ns.bridge]);
    assert!(ok && ports.lines().count() == 2, "bridge ports: {ports}");

    let ab = sa
        .run("ping -c 3 -W 3 10.0.0.2", Duration::from_secs(30))
        .unwrap();
    assert_eq!(ab.rc, 0, "neta cannot reach netb: {}", ab.output);
    let ba = sb
        .run("ping -c 3 -W 3 10.0.0.1", Duration::from_secs(30))
        .unwrap();
    assert_eq!(ba.rc, 0, "netb cannot reach neta: {}", ba.output);
    // and the namespace reaches them over the bridge
    let from_host = sa
        .run("ping -c 2 -W 3 10.0.0.254", Duration::from_secs(30))
        .unwrap();
    assert_eq!(
        from_host.rc, 0,
        "neta cannot reach the bridge: {}",
        from_host.output
    );

    // a NIC plugged into the running guest, then unplugged again
    let hot = format!("add:link={}", ns.bridge);
    c.gnt(&["gnt-instance", "modify", "--hotplug", "--net", &hot, a])
        .ok();
    // the guest's kernel registers the new eth1 within moments
    let mac = c.instance_fields(a, "nic.mac/1");
    let start = Instant::now();
    let mut eth1 = sa.run("cat /sys/class/net/eth1/address", CMD).unwrap();
    while eth1.output.trim() != mac.trim() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(300));
        eth1 = sa.run("cat /sys/class/net/eth1/address", CMD).unwrap();
    }
    assert_eq!(
        eth1.output.trim(),
        mac.trim(),
        "the hot-added NIC is not in the guest; console:\n{}",
        sa.tail(30)
    );
    let (_, ports) = ns.exec(&["ip", "-o", "link", "show", "master", &ns.bridge]);
    assert_eq!(ports.lines().count(), 3, "bridge ports: {ports}");
    c.gnt(&[
        "gnt-instance",
        "modify",
        "--hotplug",
        "--net",
        "1:remove",
        a,
    ])
    .ok();
    let start = Instant::now();
    while sa.run("test -e /sys/class/net/eth1", CMD).unwrap().rc == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the unplugged NIC is still in the guest"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let (_, ports) = ns.exec(&["ip", "-o", "link", "show", "master", &ns.bridge]);
    assert_eq!(ports.lines().count(), 2, "bridge ports: {ports}");
    assert_eq!(c.instance_fields(a, "nic.count").trim(), "1");

    remove(&c, a);
    remove(&c, b);
    let (_, ports) = ns.exec(&["ip", "-o", "link", "show", "master", &ns.bridge]);
    assert_eq!(ports.trim(), "", "taps left on the bridge");
    drop(c);
    drop(ns);
}

#[test]
fn daemon_restart_readopts_a_running_vm() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    let name = "vm6.example.com";
    let (mut s, ready) = boot_diskless(&c, name, "vm6");
    let pid = vm_pid(c.root(), name).expect("QEMU pid");

    c.kill9();
    assert!(alive(pid), "the VM died with the daemon");
    s.check("true", CMD);
    c.start_daemon();
    assert_eq!(state(&c, name), format!("{name} Y running"));
    assert_eq!(vm_pid(c.root(), name), Some(pid), "a new QEMU was started");
    let r = s.run("cat /proc/sys/kernel/random/boot_id", CMD).unwrap();
    assert_eq!(r.output.trim(), ready.boot, "the guest rebooted");

    // the re-adopted VM is fully controllable: a clean shutdown works
    let t = Instant::now();
    c.gnt(&["gnt-instance", "shutdown", name]).ok();
    assert!(
        t.elapsed() < CLEAN_SHUTDOWN,
        "shutdown took {:?}",
        t.elapsed()
    );
    s.wait_line("GUEST-SHUTDOWN", Duration::from_secs(5))
        .unwrap();
    assert!(!alive(pid));
    assert_eq!(state(&c, name), format!("{name} N ADMIN_down"));
    remove(&c, name);
}

#[test]
fn qemu_killed_behind_our_back_is_error_down_then_starts() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    let name = "vm7.example.com";
    let (mut s, ready) = boot_diskless(&c, name, "vm7");
    let pid = vm_pid(c.root(), name)
        .unwrap_or_else(|| panic!("no live QEMU in {}", pid_file(c.root(), name).display()));
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    c.wait_status(name, "ERROR_down", Duration::from_secs(30));
    assert_eq!(state(&c, name), format!("{name} N ERROR_down"));

    c.gnt(&["gnt-instance", "start", name]).ok();
    let again = s
        .wait_reboot(&ready.boot, BOOT)
        .unwrap_or_else(|e| panic!("after start: {e}"));
    assert_eq!(again.name, "vm7");
    assert_eq!(state(&c, name), format!("{name} Y running"));
    assert_ne!(vm_pid(c.root(), name), Some(pid));
    remove(&c, name);
}

#[test]
fn bad_hvparams_are_refused_at_submit() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    users(&c);
    let name = "bad.example.com";
    for (key, value) in [
        ("kvm_flag", "bogus"),
        ("serial_speed", "x"),
        ("boot_order", "floppyy"),
    ] {
        let hv = format!("{key}={value}");
        let r = c.add_instance(
            name,
            &[
                "-t",
                "diskless",
                "--no-nics",
                "--ignore-ipolicy",
                "-H",
                &format!("kvm:{hv}"),
            ],
        );
        let msg = refused(&r);
        assert!(
            msg.contains(key) && msg.contains(value),
            "-H {hv}: the error should name the parameter and value: {msg}"
        );
        assert_eq!(
            c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"])
                .ok(),
            "",
            "-H {hv} left an instance"
        );
        assert!(!pid_file(c.root(), name).exists(), "-H {hv} started a VM");

        // the same through RAPI: refused (at once or as a failed job)
        let body = json!({
            "__version__": 1, "mode": "create", "name": name,
            "disk_template": "diskless", "disks": [], "nics": [], "os": "noop",
            "name_check": false, "ip_check": false, "ignore_ipolicy": true,
            "hvparams": {key: value},
        });
        let r = c.rapi(Some(ADMIN), "POST", "/2/instances", Some(&body));
        if r.status == 200 {
            let job = r.raw.trim().trim_matches('"').to_string();
            let (status, j) = c.rapi_wait_job(Some(ADMIN), &job, Duration::from_secs(60));
            assert_eq!(status, "error", "RAPI create with {hv}: {j}");
            assert!(j.to_string().contains(key), "{j}");
        } else {
            // refused at submit: like any master error, RAPI's 500 (Ganeti's
            // mapping) or a 4xx, with the reason
            assert!((400..=500).contains(&r.status), "{} {}", r.status, r.raw);
            assert!(r.raw.contains(key), "{}", r.raw);
        }
        assert_eq!(
            c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"])
                .ok(),
            "",
            "RAPI create with {hv} left an instance"
        );
    }

    // modify of an existing instance: refused, parameters unchanged
    c.add_vm(
        name,
        "quiet",
        &["-t", "diskless", "--no-nics", "--no-start"],
    )
    .ok();
    let r = c.gnt(&["gnt-instance", "modify", "-H", "boot_order=floppyy", name]);
    let msg = refused(&r);
    assert!(msg.contains("boot_order"), "{msg}");
    assert_eq!(c.instance_fields(name, "hv/boot_order"), "disk");
    c.gnt(&["gnt-instance", "remove", "-f", name]).ok();

    // and a cluster cannot be made with them
    let e = Cluster::empty();
    let r = e.gnt(&[
        "gnt-cluster",
        "init",
        "--master-ip",
        "127.0.0.1",
        "--enabled-hypervisors=kvm",
        "-H",
        "kvm:kvm_flag=bogus",
        "c.example.com",
    ]);
    let msg = refused(&r);
    assert!(msg.contains("kvm_flag"), "{msg}");
    assert!(!e.root().join("var/lib/ganeti/config.data").exists());
}

#[test]
fn dropping_a_cluster_kills_its_vms() {
    let env = kvm_env_or_skip!();
    let c = env.cluster();
    let name = "leak.example.com";
    c.add_vm(
        name,
        &guest_args("leak", None),
        &["-t", "diskless", "--no-nics"],
    )
    .ok();
    let pid = vm_pid(c.root(), name).expect("QEMU pid");
    assert!(alive(pid));
    // a test that fails here leaves its VM behind; the harness must not
    drop(c);
    assert!(!alive(pid), "QEMU {pid} outlived its cluster");
}
