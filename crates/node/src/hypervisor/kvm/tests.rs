//! Unit tests of the kvm hypervisor that need no QEMU: exact command
//! lines, refused parameters, the runtime file, consoles, and the
//! lifecycle rules around processes that are not (or no longer) QEMU.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use ganeti_types::hvparams::kvm::{self as kvmparams, KvmParams};
use ganeti_types::{Dict, DiskTemplate, Paths};
use serde_json::{json, Value};

use super::cmdline::{self, CmdlineInput, LaunchDisk, LaunchNic, VncBind};
use super::files::{self, KvmDirs};
use super::runtime::{KvmRuntime, RuntimeDisk, RuntimeNic, RUNTIME_VERSION};
use super::*;
use crate::info::{ConsoleHost, ConsoleInfo};
use crate::spec::{DiskMode, DiskSpec, NicSpec};

const UUID: &str = "6f1c7a2e-1b7c-4a51-9a43-0c6a3e1d2b7f";
const DISK_UUID: &str = "932df160-7a22-4067-a566-7e0ca8386133";
const NIC_UUID: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

pub(super) fn hvparams(overrides: Value) -> Dict {
    let mut d = kvmparams::defaults();
    for (k, v) in overrides.as_object().expect("an object") {
        d.insert(k.clone(), v.clone());
    }
    d
}

pub(super) fn spec(name: &str, hv: Dict) -> InstanceSpec {
    InstanceSpec {
        name: name.into(),
        uuid: UUID.into(),
        os: "noop".into(),
        hypervisor: "kvm".into(),
        hvparams: hv,
        beparams: Default::default(),
        maxmem_mib: 128,
        minmem_mib: 128,
        vcpus: 1,
        disks: vec![],
        nics: vec![],
        network_port: None,
    }
}

fn nic_spec() -> NicSpec {
    NicSpec {
        uuid: NIC_UUID.into(),
        name: None,
        mac: "aa:00:00:12:34:56".into(),
        ip: None,
        network: None,
        mode: "bridged".into(),
        link: "br0".into(),
        vlan: String::new(),
    }
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

struct Fixture {
    dirs: KvmDirs,
    inst: InstanceSpec,
    params: KvmParams,
    disks: Vec<LaunchDisk>,
    nics: Vec<LaunchNic>,
    vnc: Option<VncBind>,
    spice: Option<std::net::IpAddr>,
    vhost: bool,
}

impl Fixture {
    fn new(overrides: Value) -> Self {
        let hv = hvparams(overrides);
        Fixture {
            dirs: KvmDirs::new(&Paths::new("/r")),
            params: KvmParams::from_dict(&hv).unwrap(),
            inst: spec("inst1", hv),
            disks: vec![],
            nics: vec![],
            vnc: None,
            spice: None,
            vhost: false,
        }
    }

    fn with_disk(mut self, mode: DiskMode) -> Self {
        self.disks.push(LaunchDisk {
            id: cmdline::device_id("disk", DISK_UUID).unwrap(),
            path: "/srv/ganeti/file-storage/inst1/disk0".into(),
            mode,
            shared: false,
        });
        self
    }

    fn with_nic(mut self) -> Self {
        self.nics.push(LaunchNic {
            id: cmdline::device_id("nic", NIC_UUID).unwrap(),
            mac: "aa:00:00:12:34:56".into(),
            fd: 5,
        });
        self
    }

    fn build(&self) -> Result<Vec<String>, String> {
        let files = self.dirs.instance(&self.inst.name);
        let (cert, ca) = self.dirs.spice_certs();
        cmdline::build(&CmdlineInput {
            inst: &self.inst,
            params: &self.params,
            files: &files,
            spice_certs: (cert, ca),
            disks: &self.disks,
            nics: &self.nics,
            vnc: self.vnc.as_ref(),
            spice_addr: self.spice,
            vhost_net_available: self.vhost,
        })
    }
}

const CTRL: &str = "/r/var/run/ganeti/kvm-hypervisor/ctrl";
const PID: &str = "/r/var/run/ganeti/kvm-hypervisor/pid/inst1";
const LOG: &str = "/r/var/log/ganeti/kvm/inst1.log";

fn head() -> Vec<String> {
    s(&[
        "-name",
        "inst1",
        "-m",
        "128",
        "-smp",
        "1",
        "-pidfile",
        PID,
        "-nodefaults",
        "-daemonize",
        "-D",
        LOG,
        "-S",
        "-uuid",
        UUID,
    ])
}

fn sockets(serial: bool) -> Vec<String> {
    let mut v = vec![
        "-qmp".to_string(),
        format!("unix:{CTRL}/inst1.qmp,server=on,wait=off"),
        "-qmp".to_string(),
        format!("unix:{CTRL}/inst1.kvmd,server=on,wait=off"),
        "-monitor".to_string(),
        format!("unix:{CTRL}/inst1.monitor,server=on,wait=off"),
        "-serial".to_string(),
    ];
    v.push(if serial {
        format!("unix:{CTRL}/inst1.serial,server=on,wait=off")
    } else {
        "none".to_string()
    });
    v
}

#[test]
fn argv_direct_kernel_tcg_with_disk_and_nic() {
    let f = Fixture::new(json!({
        "kvm_path": "/usr/bin/qemu-system-x86_64",
        "kernel_path": "/boot/vmlinuz",
        "initrd_path": "/boot/initrd.img",
        "root_path": "/dev/vda1",
        "kernel_args": "ro quiet",
        "kvm_flag": "disabled",
    }))
    .with_disk(DiskMode::Rw)
    .with_nic();
    let mut want = s(&["/usr/bin/qemu-system-x86_64"]);
    want.extend(head());
    want.extend(s(&[
        "-accel",
        "tcg,tb-size=64",
        "-device",
        "virtio-balloon",
        "-kernel",
        "/boot/vmlinuz",
        "-initrd",
        "/boot/initrd.img",
        "-append",
        "root=/dev/vda1 ro quiet console=ttyS0,38400",
    ]));
    want.extend(sockets(true));
    want.extend(s(&[
        "-display", "none",
        "-drive", "file=/srv/ganeti/file-storage/inst1/disk0,format=raw,if=none,id=disk-932df160-7a22-4067,aio=threads",
        "-device", "virtio-blk-pci,drive=disk-932df160-7a22-4067,id=disk-932df160-7a22-4067",
        "-netdev", "tap,id=nic-0a1b2c3d-4e5f-4a6b,fd=5",
        "-device", "virtio-net-pci,netdev=nic-0a1b2c3d-4e5f-4a6b,mac=aa:00:00:12:34:56,id=nic-0a1b2c3d-4e5f-4a6b",
    ]));
    assert_eq!(f.build().unwrap(), want);
}

#[test]
fn argv_disk_boot_with_vnc_and_many_options() {
    let mut f = Fixture::new(json!({
        "kernel_path": "",
        "boot_order": "disk",
        "serial_console": false,
        "vnc_bind_address": "0.0.0.0",
        "vnc_password_file": "/etc/ganeti/vnc-pw",
        "acpi": false,
        "machine_version": "pc-i440fx-9.2",
        "cpu_type": "qemu64",
        "cpu_cores": 2,
        "cpu_threads": 1,
        "reboot_behavior": "exit",
        "user_shutdown": true,
        "use_localtime": true,
        "mem_path": "/hugepages",
        "disk_cache": "writeback",
        "nic_type": "e1000",
        "keymap": "de",
        "soundhw": "ac97",
        "kvm_flag": "enabled",
        "kvm_extra": "-device 'virtio-rng-pci,id=rng0'  -boot menu=on",
    }))
    .with_disk(DiskMode::Ro)
    .with_nic();
    f.inst.vcpus = 2;
    f.inst.network_port = Some(5901);
    f.vnc = Some(VncBind::Ip("0.0.0.0".parse().unwrap()));
    let mut want = s(&["/usr/bin/kvm"]);
    let mut h = head();
    h[5] = "2,cores=2,threads=1".into();
    want.extend(h);
    want.extend(s(&[
        "-machine",
        "pc-i440fx-9.2,acpi=off",
        "-accel",
        "kvm",
        "-cpu",
        "qemu64",
        "-no-reboot",
        "-no-shutdown",
        "-rtc",
        "base=localtime",
        "-mem-path",
        "/hugepages",
        "-mem-prealloc",
        "-device",
        "virtio-balloon",
        "-boot",
        "c",
    ]));
    want.extend(sockets(false));
    want.extend(s(&[
        "-vnc", ":1,password=on",
        "-k", "de",
        "-vga", "std",
        "-usb", "-device", "usb-tablet",
        "-audio", "driver=none,model=ac97",
        "-drive", "file=/srv/ganeti/file-storage/inst1/disk0,format=raw,if=none,id=disk-932df160-7a22-4067,aio=threads,cache=writeback,readonly=on",
        "-device", "virtio-blk-pci,drive=disk-932df160-7a22-4067,id=disk-932df160-7a22-4067",
        "-netdev", "tap,id=nic-0a1b2c3d-4e5f-4a6b,fd=5",
        "-device", "e1000,netdev=nic-0a1b2c3d-4e5f-4a6b,mac=aa:00:00:12:34:56,id=nic-0a1b2c3d-4e5f-4a6b",
        "-device", "virtio-rng-pci,id=rng0", "-boot", "menu=on",
    ]));
    assert_eq!(f.build().unwrap(), want);
}

#[test]
fn argv_spice_scsi_cdrom_and_vnc_variants() {
    let mut f = Fixture::new(json!({
        "kernel_path": "",
        "boot_order": "cdrom",
        "cdrom_image_path": "/iso/install,1.iso",
        "serial_console": false,
        "spice_bind": "192.0.2.10",
        "spice_use_vdagent": false,
        "spice_playback_compression": false,
        "disk_type": "scsi",
        "disk_aio": "native",
        "disk_cache": "none",
        "use_guest_agent": true,
    }))
    .with_disk(DiskMode::Rw);
    f.inst.network_port = Some(11000);
    f.spice = Some("192.0.2.10".parse().unwrap());
    let argv = f.build().unwrap();
    let joined = argv.join(" ");
    for part in [
        "-boot d -drive file=/iso/install,,1.iso,media=cdrom,format=raw,if=ide",
        "-spice addr=192.0.2.10,port=11000,disable-ticketing=on,playback-compression=off,agent-mouse=off",
        "-vga qxl",
        "-chardev socket,path=/r/var/run/ganeti/kvm-hypervisor/ctrl/inst1.qga,server=on,wait=off,id=qga0",
        "-device lsi,id=scsi -drive file=/srv/ganeti/file-storage/inst1/disk0,format=raw,if=none,id=disk-932df160-7a22-4067,aio=native,cache=none",
        "-device scsi-hd,drive=disk-932df160-7a22-4067,id=disk-932df160-7a22-4067,bus=scsi.0",
    ] {
        assert!(joined.contains(part), "{part}\nnot in\n{joined}");
    }
    assert!(!joined.contains("-display none"), "{joined}");

    // VNC on an IPv6 address with TLS, on a socket directory, and on a
    // port that is no VNC display
    let mut f = Fixture::new(json!({
        "vnc_bind_address": "::1", "vnc_tls": true, "vnc_x509_path": "/etc/x509",
        "vnc_x509_verify": true, "usb_mouse": "mouse", "vga": "cirrus",
    }));
    f.inst.network_port = Some(5907);
    f.vnc = Some(VncBind::Ip("::1".parse().unwrap()));
    let joined = f.build().unwrap().join(" ");
    assert!(joined.contains(
        "-object tls-creds-x509,id=vnctls0,endpoint=server,dir=/etc/x509,verify-peer=yes -vnc [::1]:7,tls-creds=vnctls0"
    ), "{joined}");
    assert!(
        joined.contains("-vga cirrus -usb -device usb-mouse"),
        "{joined}"
    );
    f.vnc = Some(VncBind::SocketDir("/run/vnc".into()));
    assert!(f
        .build()
        .unwrap()
        .join(" ")
        .contains("-vnc unix:/run/vnc/inst1.vnc"));
    f.vnc = Some(VncBind::Ip("192.0.2.1".parse().unwrap()));
    f.inst.network_port = Some(5900);
    assert!(f.build().unwrap().join(" ").contains("-vnc none"));
}

#[test]
fn bad_values_are_refused() {
    // the hvparams check itself
    for bad in [
        json!({"nic_type": "virtio"}),
        json!({"disk_cache": "sometimes"}),
        json!({"kvm_path": "relative/kvm"}),
        json!({"cpu_mask": "3-1"}),
        json!({"disk_aio": "native", "disk_cache": "writeback"}),
    ] {
        let e = parse_params("inst1", &hvparams(bad.clone())).unwrap_err();
        assert!(matches!(e, NodeError::KvmParams { .. }), "{bad}: {e}");
        assert!(
            e.to_string()
                .contains("invalid kvm parameters of instance inst1"),
            "{e}"
        );
    }
    // what only the node refuses
    let cases: Vec<(Value, &str)> = vec![
        (json!({"vhost_net": true}), "/dev/vhost-net does not exist"),
        (json!({"virtio_net_queues": 4}), "multi-queue taps"),
        (
            json!({"kvm_extra": "-device 'unterminated"}),
            "cannot split kvm_extra",
        ),
        (
            json!({"security_model": "pool"}),
            "security_model 'pool' is not supported",
        ),
        (
            json!({"cpu_mask": "0:1"}),
            "Number of vCPUs [1] does not match the CPU mask [0:1]",
        ),
        (
            json!({"spice_bind": "192.0.2.1"}),
            "SPICE needs a network port",
        ),
        (
            json!({"vnc_bind_address": "eth0"}),
            "VNC bind address was not resolved",
        ),
    ];
    for (bad, want) in cases {
        let mut f = Fixture::new(bad.clone()).with_nic();
        f.spice = Some("192.0.2.1".parse().unwrap());
        let e = f.build().unwrap_err();
        assert!(e.contains(want), "{bad}: {e}");
    }
    // with /dev/vhost-net, vhost is asked for
    let mut f = Fixture::new(json!({"vhost_net": true})).with_nic();
    f.vhost = true;
    assert!(f
        .build()
        .unwrap()
        .contains(&"tap,id=nic-0a1b2c3d-4e5f-4a6b,fd=5,vhost=on".to_string()));
    // without NICs, vhost and queues do not matter
    assert!(Fixture::new(json!({"vhost_net": true})).build().is_ok());
}

#[test]
fn device_ids_follow_ganeti() {
    assert_eq!(
        cmdline::device_id("disk", DISK_UUID).unwrap(),
        "disk-932df160-7a22-4067"
    );
    assert_eq!(cmdline::device_id("nic", "d1").unwrap(), "nic-d1");
    for bad in ["", "-a-b", "a b-c-d", "x/y"] {
        assert!(cmdline::device_id("disk", bad).is_err(), "{bad}");
    }
    assert_eq!(
        cmdline::nic_model(kvmparams::NicType::Paravirtual),
        "virtio-net-pci"
    );
    assert_eq!(cmdline::nic_model(kvmparams::NicType::Ne2kIsa), "ne2k_isa");
    assert!(cmdline::is_shared_template(DiskTemplate::Sharedfile));
    assert!(!cmdline::is_shared_template(DiskTemplate::File));
}

#[test]
fn instance_names_are_checked() {
    let dirs = KvmDirs::new(&Paths::new("/r"));
    files::check_name(&dirs, "inst1.example.com").unwrap();
    for bad in ["", "a/b", ".x", "a,b", "a b", &"x".repeat(80)] {
        let e = files::check_name(&dirs, bad).unwrap_err();
        assert!(
            matches!(e, NodeError::InvalidInstanceName { .. }),
            "{bad}: {e}"
        );
    }
    let f = dirs.instance("inst1");
    assert_eq!(f.pid, Path::new(PID));
    assert_eq!(
        f.runtime,
        Path::new("/r/var/run/ganeti/kvm-hypervisor/conf/inst1.runtime")
    );
    assert_eq!(
        f.nic_file(0),
        Path::new("/r/var/run/ganeti/kvm-hypervisor/nic/inst1/0")
    );
    // a relative root becomes absolute (QEMU daemonizes into /)
    let rel = KvmDirs::new(&Paths::new("rel"));
    assert!(rel.root().is_absolute());
}

fn runtime_sample() -> KvmRuntime {
    KvmRuntime {
        version: RUNTIME_VERSION,
        instance: "inst1".into(),
        uuid: UUID.into(),
        pid: 1234,
        started_at: 1_700_000_000.5,
        argv: s(&["/usr/bin/kvm", "-name", "inst1"]),
        hvparams: hvparams(json!({})),
        maxmem_mib: 128,
        vcpus: 1,
        disks: vec![RuntimeDisk {
            uuid: DISK_UUID.into(),
            id: "disk-932df160-7a22-4067".into(),
            dev_path: "/srv/d0".into(),
            mode: DiskMode::Rw,
        }],
        nics: vec![RuntimeNic {
            nic: nic_spec(),
            id: "nic-0a1b2c3d-4e5f-4a6b".into(),
            tap: "tap3".into(),
        }],
    }
}

#[test]
fn runtime_file_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("inst1.runtime");
    assert_eq!(KvmRuntime::read("inst1", &p).unwrap(), None);
    let rt = runtime_sample();
    rt.write(&p).unwrap();
    assert_eq!(KvmRuntime::read("inst1", &p).unwrap(), Some(rt.clone()));
    // replaced atomically, no temp file left
    let mut rt2 = rt.clone();
    rt2.nics.clear();
    rt2.write(&p).unwrap();
    assert_eq!(KvmRuntime::read("inst1", &p).unwrap(), Some(rt2));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    // corrupt and future files are reported with their path
    fs::write(&p, "{not json").unwrap();
    let e = KvmRuntime::read("inst1", &p).unwrap_err();
    assert!(
        matches!(e, NodeError::HvStateCorrupt { .. }) && e.to_string().contains("inst1.runtime"),
        "{e}"
    );
    let mut v = serde_json::to_value(&rt).unwrap();
    v["version"] = json!(99);
    fs::write(&p, v.to_string()).unwrap();
    let e = KvmRuntime::read("inst1", &p).unwrap_err();
    assert!(
        e.to_string().contains("unknown runtime file version 99"),
        "{e}"
    );
}

#[test]
fn console_kinds() {
    let host = ConsoleHost {
        node_name: "node1.example.com".into(),
        ssh_port: Some(2222),
    };
    let hv = KvmHypervisor::new(&Paths::new("/r"), HostProbe::system());
    let mut inst = spec("inst1", hvparams(json!({})));
    assert_eq!(
        hv.console(&inst, &host),
        ConsoleInfo::Ssh {
            instance: "inst1".into(),
            host: "node1.example.com".into(),
            port: Some(2222),
            user: "root".into(),
            command: s(&[
                "socat",
                "STDIO,raw,echo=0,escape=0x1d",
                &format!("UNIX-CONNECT:{CTRL}/inst1.serial"),
            ]),
        }
    );
    inst.hvparams = hvparams(json!({"serial_console": false, "vnc_bind_address": "0.0.0.0"}));
    inst.network_port = Some(5903);
    assert_eq!(
        hv.console(&inst, &host),
        ConsoleInfo::Vnc {
            instance: "inst1".into(),
            host: "0.0.0.0".into(),
            port: 5903,
            display: 3
        }
    );
    inst.network_port = Some(5900);
    assert!(matches!(
        hv.console(&inst, &host),
        ConsoleInfo::Message { .. }
    ));
    inst.hvparams = hvparams(json!({"serial_console": false, "spice_bind": "192.0.2.4"}));
    inst.network_port = Some(11001);
    assert_eq!(
        hv.console(&inst, &host),
        ConsoleInfo::Spice {
            instance: "inst1".into(),
            host: "192.0.2.4".into(),
            port: 11001
        }
    );
    inst.hvparams = hvparams(json!({"serial_console": false}));
    assert_eq!(
        hv.console(&inst, &host),
        ConsoleInfo::Message {
            instance: "inst1".into(),
            message: "No serial shell for instance inst1".into()
        }
    );
    inst.hvparams = hvparams(json!({"nic_type": "bogus"}));
    match hv.console(&inst, &host) {
        ConsoleInfo::Message { message, .. } => {
            assert!(message.starts_with("Invalid kvm parameters"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

/// A process that looks like our QEMU of `name` to `/proc` (its command
/// line has `-name` and `-pidfile`), without being one.
struct FakeQemu(Child);

impl FakeQemu {
    fn spawn(name: &str, pidfile: &Path) -> Self {
        use std::os::unix::process::CommandExt;
        let child = Command::new("/bin/sh")
            .args([
                "-c",
                "sleep 30; true",
                "sh",
                "-name",
                name,
                "-m",
                "256",
                "-smp",
                "2",
            ])
            .arg("-pidfile")
            .arg(pidfile)
            .process_group(0)
            .spawn()
            .unwrap();
        // between fork and exec /proc shows the parent's command line:
        // wait for the exec, as a real QEMU has exec'd when it writes its pid
        let cmdline = format!("/proc/{}/cmdline", child.id());
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !fs::read(&cmdline).is_ok_and(|c| c.windows(8).any(|w| w == b"-pidfile")) {
            assert!(
                std::time::Instant::now() < deadline,
                "the stand-in never exec'd"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        fs::create_dir_all(pidfile.parent().unwrap()).unwrap();
        fs::write(pidfile, format!("{}\n", child.id())).unwrap();
        FakeQemu(child)
    }
}

impl Drop for FakeQemu {
    fn drop(&mut self) {
        // the shell and its sleep
        if let Some(pgid) = rustix::process::Pid::from_raw(self.0.id() as i32) {
            let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn tmp_hv() -> (tempfile::TempDir, KvmHypervisor) {
    let dir = tempfile::tempdir().unwrap();
    let hv = KvmHypervisor::new(&Paths::new(dir.path()), HostProbe::system());
    (dir, hv)
}

#[test]
fn nothing_running_without_qemu() {
    let (_dir, hv) = tmp_hv();
    let inst = spec("inst1", hvparams(json!({})));
    assert_eq!(hv.name(), "kvm");
    assert_eq!(hv.instance_info("inst1").unwrap(), None);
    assert!(hv.all_instances_info().unwrap().is_empty());
    assert!(matches!(
        hv.stop(&inst, false, Duration::ZERO).unwrap_err(),
        NodeError::NotRunning { .. }
    ));
    assert!(matches!(
        hv.stop(&inst, true, Duration::ZERO).unwrap_err(),
        NodeError::NotRunning { .. }
    ));
    assert!(matches!(
        hv.reboot(&inst).unwrap_err(),
        NodeError::RebootNotRunning { .. }
    ));
    let e = hv
        .hotplug(&inst, &[], &HotplugAction::DiskResized { index: 0 })
        .unwrap_err();
    assert!(matches!(e, NodeError::NotRunning { .. }), "{e}");
    hv.cleanup("inst1").unwrap();
    assert!(matches!(
        hv.instance_info("../x").unwrap_err(),
        NodeError::InvalidInstanceName { .. }
    ));
    let free = hv.node_info().unwrap();
    assert_eq!(free.hypervisor, "kvm");
}

#[test]
fn liveness_is_the_process_not_the_files() {
    let (_dir, hv) = tmp_hv();
    let f = hv.dirs.instance("inst1");
    // a pid file naming a process that is not our QEMU (pid reuse)
    fs::create_dir_all(f.pid.parent().unwrap()).unwrap();
    fs::write(&f.pid, format!("{}\n", std::process::id())).unwrap();
    assert_eq!(hv.instance_info("inst1").unwrap(), None);

    // a live "QEMU" of inst1: reported from its command line (QMP is
    // not there), cleanup refused, then destroyed by a forced stop
    let fake = FakeQemu::spawn("inst1", &f.pid);
    let info = hv.instance_info("inst1").unwrap().expect("running");
    assert_eq!((info.memory, info.vcpus), (256, 2));
    assert_eq!(info.state, HvInstanceState::Running);
    assert_eq!(hv.all_instances_info().unwrap().len(), 1);
    let e = hv.cleanup("inst1").unwrap_err();
    assert!(matches!(e, NodeError::KvmStillRunning { .. }), "{e}");
    // a clean stop needs QMP
    let inst = spec("inst1", hvparams(json!({})));
    let e = hv.stop(&inst, false, Duration::ZERO).unwrap_err();
    assert!(matches!(e, NodeError::KvmMonitor { .. }), "{e}");
    hv.stop(&inst, true, Duration::ZERO).unwrap();
    assert_eq!(hv.instance_info("inst1").unwrap(), None);
    drop(fake);

    // leftovers of the dead VM are removed by cleanup
    hv.dirs.ensure().unwrap();
    let rt = runtime_sample();
    rt.write(&f.runtime).unwrap();
    super::write_nic_files(&f, &rt).unwrap();
    fs::write(&f.qmp, "").unwrap();
    assert!(f.nic_file(0).exists());
    hv.cleanup("inst1").unwrap();
    for p in [&f.pid, &f.runtime, &f.qmp, &f.nic_dir] {
        assert!(!p.exists(), "{}", p.display());
    }
}

#[test]
fn failed_starts_leave_nothing_behind() {
    let (dir, hv) = tmp_hv();
    let f = hv.dirs.instance("inst1");
    let inst = spec("inst1", hvparams(json!({"kvm_path": "/nonexistent/kvm"})));
    let e = hv.start(&inst, &[], false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Hypervisor error: Failed to start instance inst1: The KVM binary ('/nonexistent/kvm') does not exist"
    );
    // a "QEMU" that fails with a message
    let fake_qemu = dir.path().join("fake-qemu");
    fs::write(
        &fake_qemu,
        "#!/bin/sh\necho 'qemu-system-x86_64: -drive x: no such file' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&fake_qemu, fs::Permissions::from_mode(0o755)).unwrap();
    let inst = spec(
        "inst1",
        hvparams(json!({"kvm_path": fake_qemu.to_str().unwrap(), "kernel_path": ""})),
    );
    let e = hv.start(&inst, &[], false).unwrap_err();
    assert!(matches!(e, NodeError::KvmStart { .. }), "{e}");
    assert!(
        e.to_string()
            .ends_with("qemu-system-x86_64: -drive x: no such file"),
        "{e}"
    );
    for p in [&f.pid, &f.runtime, &f.qmp, &f.nic_dir] {
        assert!(!p.exists(), "{}", p.display());
    }
    // the log keeps QEMU's message for the operator
    assert!(fs::read_to_string(&f.log).unwrap().contains("no such file"));
    // bad hvparams and names are refused before anything happens
    let inst = spec("inst1", hvparams(json!({"disk_type": "floppy"})));
    assert!(matches!(
        hv.start(&inst, &[], false).unwrap_err(),
        NodeError::KvmParams { .. }
    ));
    let inst = spec("a,b", hvparams(json!({})));
    assert!(matches!(
        hv.start(&inst, &[], false).unwrap_err(),
        NodeError::InvalidInstanceName { .. }
    ));
    // a disk uuid QEMU cannot use as an id
    let mut inst = spec(
        "inst1",
        hvparams(json!({"kvm_path": fake_qemu.to_str().unwrap(), "kernel_path": ""})),
    );
    inst.disks.push(DiskSpec {
        uuid: "bad uuid-x-y".into(),
        name: None,
        iv_name: "disk/0".into(),
        template: DiskTemplate::File,
        size_mib: 1,
        logical_id: json!(["loop", "/x"]),
        mode: DiskMode::Rw,
        params: Default::default(),
    });
    let attached = [AttachedDisk {
        uuid: "bad uuid-x-y".into(),
        dev_path: PathBuf::from("/x"),
        mode: DiskMode::Rw,
    }];
    let e = hv.start(&inst, &attached, false).unwrap_err();
    assert!(
        e.to_string().contains("cannot derive a QEMU device id"),
        "{e}"
    );
}
