use serde_json::{json, Value};

use super::kvm::{
    BootOrder, DiskAio, DiskCache, DiskType, KvmFlag, KvmParams, NicType, RebootBehavior,
};
use super::*;
use crate::{constants, params, ErrorClass};

const INFO: &str = include_str!("../../../fixtures/ganeti-3.0.2/rapi/2_info.json");

fn d(v: Value) -> Dict {
    v.as_object().cloned().unwrap()
}

/// kvm defaults with some keys replaced.
fn kvm_with(over: Value) -> Dict {
    let mut p = constants::hv_defaults("kvm");
    for (k, v) in d(over) {
        p.insert(k, v);
    }
    p
}

fn kvm_err(over: Value) -> String {
    let e = check_syntax("kvm", &kvm_with(over)).unwrap_err();
    e.message().to_string()
}

fn kvm_ok(over: Value) {
    if let Err(e) = check_syntax("kvm", &kvm_with(over.clone())) {
        panic!("{over} refused: {e}");
    }
}

#[test]
fn kvm_defaults_equal_ganeti_3_0_2() {
    let info: Value = serde_json::from_str(INFO).unwrap();
    let recorded = info["hvparams"]["kvm"].as_object().unwrap();
    assert_eq!(&constants::hv_defaults("kvm"), recorded);
    assert_eq!(
        constants::hv_defaults("fake"),
        d(info["hvparams"]["fake"].clone())
    );
}

#[test]
fn kvm_types_cover_every_default_with_its_json_type() {
    let types = params::hv_types("kvm");
    let defaults = constants::hv_defaults("kvm");
    assert_eq!(types.len(), defaults.len());
    for (k, v) in &defaults {
        let (_, t) = types.iter().find(|(n, _)| n == k).unwrap();
        let ok = match t {
            params::VType::Bool => v.is_boolean(),
            params::VType::Int => v.is_i64(),
            params::VType::Str | params::VType::MaybeStr => v.is_string(),
            _ => false,
        };
        assert!(ok, "{k}: {t:?} vs {v}");
    }
    assert_eq!(
        types.iter().find(|(n, _)| *n == "root_path").unwrap().1,
        params::VType::MaybeStr
    );
    assert_eq!(
        types
            .iter()
            .find(|(n, _)| *n == "spice_playback_compression")
            .unwrap()
            .1,
        params::VType::Bool
    );
}

#[test]
fn defaults_pass_and_errors_are_hypervisor_errors() {
    check_syntax("kvm", &constants::hv_defaults("kvm")).unwrap();
    check_syntax("fake", &constants::hv_defaults("fake")).unwrap();
    let e = check_syntax("kvm", &kvm_with(json!({"boot_order": "frob"}))).unwrap_err();
    assert_eq!(e.class_name(), "HypervisorError");
    // hypervisors whose rules are unknown pass unchecked
    check_syntax("xen-pvm", &d(json!({"anything": 1}))).unwrap();
}

#[test]
fn unknown_missing_and_required() {
    assert_eq!(
        kvm_err(json!({"frob": 1})),
        "Parameter 'frob' is not supported"
    );
    let mut p = constants::hv_defaults("kvm");
    p.remove("acpi");
    assert_eq!(
        check_syntax("kvm", &p).unwrap_err().message(),
        "Parameter 'acpi' is missing"
    );
    assert_eq!(
        kvm_err(json!({"kvm_path": ""})),
        "Parameter 'kvm_path' is required but is currently not defined"
    );
    assert_eq!(
        kvm_err(json!({"nic_type": ""})),
        "Parameter 'nic_type' is required but is currently not defined"
    );
    // fake: its only parameter, and nothing else
    assert_eq!(
        check_syntax("fake", &d(json!({"migration_mode": "x"})))
            .unwrap_err()
            .message(),
        "Parameter 'migration_mode' fails syntax check: invalid migration mode (current value: 'x')"
    );
    assert_eq!(
        check_syntax(
            "fake",
            &d(json!({"migration_mode": "live", "kernel_path": "/x"}))
        )
        .unwrap_err()
        .message(),
        "Parameter 'kernel_path' is not supported"
    );
}

#[test]
fn types_are_enforced() {
    assert_eq!(
        kvm_err(json!({"serial_speed": "fast"})),
        "'serial_speed' (value fast) is not a valid integer"
    );
    assert_eq!(
        kvm_err(json!({"acpi": "maybe"})),
        "'acpi' (value maybe) is not a valid boolean"
    );
    // strings as the CLI sends them are coerced
    let c = checked(
        "kvm",
        &kvm_with(
            json!({"serial_speed": "115200", "acpi": "false", "root_path": "", "kernel_path": ""}),
        ),
    )
    .unwrap();
    assert_eq!(c["serial_speed"], json!(115200));
    assert_eq!(c["acpi"], json!(false));
    assert_eq!(c["root_path"], Value::Null);
}

#[test]
fn paths() {
    kvm_ok(json!({"kernel_path": "", "initrd_path": "/boot/initrd.img"}));
    kvm_ok(json!({"mem_path": "/hugepages", "vnc_x509_path": "/etc/x509"}));
    assert_eq!(
        kvm_err(json!({"kernel_path": "vmlinuz"})),
        "Parameter 'kernel_path' fails syntax check: must be an absolute normalized path (current value: 'vmlinuz')"
    );
    assert_eq!(
        kvm_err(json!({"initrd_path": "/boot/../initrd"})),
        "Parameter 'initrd_path' fails syntax check: must be an absolute normalized path (current value: '/boot/../initrd')"
    );
    assert!(kvm_err(json!({"kvm_path": "/usr/bin/"})).starts_with("Parameter 'kvm_path' fails"));
    assert!(
        kvm_err(json!({"vnc_password_file": "pw"})).starts_with("Parameter 'vnc_password_file'")
    );
    assert!(kvm_err(json!({"mem_path": "hp/"})).starts_with("Parameter 'mem_path'"));
    assert!(kvm_err(json!({"floppy_image_path": "a"})).starts_with("Parameter 'floppy_image_path'"));
    kvm_ok(json!({"cdrom_image_path": "http://mirror/x.iso"}));
    kvm_ok(json!({"cdrom2_image_path": "/srv/iso/x.iso"}));
    assert_eq!(
        kvm_err(json!({"cdrom_image_path": "x.iso"})),
        "Parameter 'cdrom_image_path' fails syntax check: must be an absolute normalized path or a URL (current value: 'x.iso')"
    );
}

#[test]
fn enumerations() {
    for (k, good, bad, list) in [
        (
            "boot_order",
            "network",
            "usb",
            "cdrom, disk, floppy, network",
        ),
        (
            "disk_type",
            "ide",
            "virtio",
            "ide, mtd, paravirtual, pflash, scsi, scsi-block, scsi-cd, scsi-generic, scsi-hd, sd",
        ),
        (
            "nic_type",
            "e1000",
            "virtio",
            "e1000, i82551, i82557b, i82559er, ne2k_isa, ne2k_pci, paravirtual, pcnet, rtl8139",
        ),
        (
            "disk_cache",
            "writeback",
            "unsafe",
            "default, none, writeback, writethrough",
        ),
        ("disk_aio", "threads", "io_uring", "native, threads"),
        ("reboot_behavior", "exit", "halt", "reboot, exit"),
        ("security_model", "pool", "selinux", "none, pool, user"),
        ("kvm_flag", "disabled", "off", "disabled, enabled"),
        (
            "scsi_controller_type",
            "megasas",
            "ahci",
            "lsi, megasas, virtio-scsi-pci",
        ),
        ("disk_discard", "unmap", "trim", "default, ignore, unmap"),
        ("usb_mouse", "tablet", "trackball", "mouse, tablet"),
        (
            "cdrom_disk_type",
            "ide",
            "sata",
            "ide, mtd, paravirtual, pflash, scsi, scsi-block, scsi-cd, scsi-generic, scsi-hd, sd",
        ),
    ] {
        kvm_ok(json!({ k: good }));
        assert_eq!(
            kvm_err(json!({ k: bad })),
            format!("Parameter '{k}' fails syntax check: The value must be one of: {list} (current value: '{bad}')")
        );
    }
    // optional enumerations may be empty
    kvm_ok(json!({"kvm_flag": "", "usb_mouse": "", "disk_aio": "", "cdrom_disk_type": ""}));
}

#[test]
fn numbers() {
    kvm_ok(json!({"migration_port": 1, "migration_bandwidth": 0, "migration_downtime": 0}));
    assert_eq!(
        kvm_err(json!({"migration_port": 65535})),
        "Parameter 'migration_port' fails syntax check: invalid port number (current value: '65535')"
    );
    assert!(kvm_err(json!({"migration_port": 0})).contains("invalid port number"));
    assert_eq!(
        kvm_err(json!({"migration_bandwidth": -1})),
        "Parameter 'migration_bandwidth' fails syntax check: cannot be negative (current value: '-1')"
    );
    assert!(kvm_err(json!({"migration_downtime": -5})).contains("cannot be negative"));
    for k in ["cpu_cores", "cpu_threads", "cpu_sockets"] {
        kvm_ok(json!({ k: 4 }));
        assert!(kvm_err(json!({ k: -1 })).starts_with(&format!("Parameter '{k}' fails")));
    }
    kvm_ok(json!({"virtio_net_queues": 8}));
    assert_eq!(
        kvm_err(json!({"virtio_net_queues": 9})),
        "Parameter 'virtio_net_queues' fails syntax check: invalid number of queues (current value: '9')"
    );
    assert!(kvm_err(json!({"virtio_net_queues": 0})).contains("invalid number of queues"));
    kvm_ok(json!({"kvm_pci_reservations": 32}));
    assert!(kvm_err(json!({"kvm_pci_reservations": 33}))
        .contains("The number of PCI slots managed by QEMU (max: 32)"));
    kvm_ok(json!({"spice_bind": "127.0.0.1", "spice_ip_version": 4}));
    assert!(
        kvm_err(json!({"spice_ip_version": 5})).contains("The SPICE IP version should be 4 or 6")
    );
}

#[test]
fn serial_console_speed() {
    kvm_ok(json!({"serial_speed": 115200}));
    kvm_ok(json!({"serial_console": false, "serial_speed": 1}));
    assert_eq!(
        kvm_err(json!({"serial_speed": 1000})),
        "Invalid serial console speed, must be one of: 75, 110, 300, 600, 1200, 1800, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200, 230400, 345600, 460800"
    );
    assert!(kvm_err(json!({"serial_speed": 0})).starts_with("Invalid serial console speed"));
}

#[test]
fn cpu_masks() {
    for good in ["all", "0", "0-2,4", "1:2:3-4", "0-1:all", "3,1"] {
        kvm_ok(json!({ "cpu_mask": good }));
    }
    kvm_ok(json!({"cpu_mask": ""}));
    for bad in ["none", "2-1", "1-2-3", "a:b", "0,,1"] {
        assert_eq!(
            kvm_err(json!({ "cpu_mask": bad })),
            format!("Parameter 'cpu_mask' fails syntax check: Multiple CPU mask definition is not well-formed (current value: '{bad}')")
        );
    }
}

#[test]
fn boot_rules() {
    assert_eq!(
        kvm_err(json!({"boot_order": "cdrom"})),
        "Cannot boot from cdrom without an ISO path"
    );
    kvm_ok(json!({"boot_order": "cdrom", "cdrom_image_path": "/srv/x.iso"}));
    assert_eq!(
        kvm_err(json!({"root_path": ""})),
        "Need a root partition for the instance, if a kernel is defined"
    );
    kvm_ok(json!({"root_path": "", "kernel_path": ""}));
}

#[test]
fn security_rules() {
    assert_eq!(
        kvm_err(json!({"security_model": "user"})),
        "A security domain (user to run kvm as) must be specified"
    );
    kvm_ok(json!({"security_model": "user", "security_domain": "kvmuser"}));
    assert_eq!(
        kvm_err(json!({"security_model": "pool", "security_domain": "x"})),
        "Cannot have a security domain when the security model is 'none' or 'pool'"
    );
    assert!(kvm_err(json!({"security_domain": "x"})).starts_with("Cannot have a security domain"));
}

#[test]
fn vnc_rules() {
    for good in ["0.0.0.0", "::1", "eth0", "/var/run/vnc.sock"] {
        kvm_ok(json!({ "vnc_bind_address": good }));
    }
    for bad in [
        "not an address",
        "a/b",
        "relative/../x",
        "x".repeat(20).as_str(),
    ] {
        assert_eq!(
            kvm_err(json!({ "vnc_bind_address": bad })),
            "VNC: The vnc_bind_address parameter must be either a valid IP address, an interface name, or an absolute path",
            "{bad}"
        );
    }
    assert_eq!(
        kvm_err(json!({"vnc_x509_verify": true})),
        "vnc_x509_path must be defined, if vnc_x509_verify is"
    );
    kvm_ok(json!({"vnc_x509_verify": true, "vnc_x509_path": "/etc/x509", "vnc_tls": true}));
}

#[test]
fn spice_rules() {
    for p in [
        json!({"spice_ip_version": 4}),
        json!({"spice_password_file": "/etc/pw"}),
        json!({"spice_image_compression": "glz"}),
        json!({"spice_jpeg_wan_compression": "auto"}),
        json!({"spice_zlib_glz_wan_compression": "never"}),
        json!({"spice_streaming_video": "off"}),
        json!({"spice_use_tls": true}),
    ] {
        let k = p.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(
            kvm_err(p.clone()),
            format!("SPICE: {k} requires spice_bind to be set")
        );
        let mut with_bind = p.clone();
        with_bind["spice_bind"] = json!("127.0.0.1");
        kvm_ok(with_bind);
    }
    assert_eq!(
        kvm_err(json!({"spice_bind": "127.0.0.1", "spice_ip_version": 6})),
        "SPICE: Got an IPv4 address (127.0.0.1), but the specified IP version is 6"
    );
    assert_eq!(
        kvm_err(json!({"spice_bind": "::1", "spice_ip_version": 4})),
        "SPICE: Got an IPv6 address (::1), but the specified IP version is 4"
    );
    kvm_ok(json!({"spice_bind": "eth0", "spice_ip_version": 6}));
    assert_eq!(
        kvm_err(json!({"spice_bind": "a b"})),
        "SPICE: The spice_bind parameter must be either a valid IP address or interface name"
    );
    assert_eq!(
        kvm_err(json!({"spice_bind": "0.0.0.0", "vnc_bind_address": "0.0.0.0"})),
        "Both SPICE and VNC are configured, but only one of them can be used at a given time"
    );
}

#[test]
fn disk_cache_rules() {
    assert_eq!(
        kvm_err(json!({"disk_aio": "native"})),
        "When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'."
    );
    kvm_ok(json!({"disk_aio": "native", "disk_cache": "none"}));
}

#[test]
fn typed_defaults() {
    let p = KvmParams::from_dict(&constants::hv_defaults("kvm")).unwrap();
    assert_eq!(p, KvmParams::default());
    assert_eq!(p.kvm_path, "/usr/bin/kvm");
    assert_eq!(p.kernel_path, "/boot/vmlinuz-3-kvmU");
    assert_eq!(p.root_path, "/dev/vda1");
    assert_eq!(p.kernel_args, "ro");
    assert_eq!(p.boot_order, BootOrder::Disk);
    assert!(p.serial_console && p.acpi && p.vnet_hdr && !p.vhost_net);
    assert_eq!(p.serial_speed, 38400);
    assert_eq!(p.cpu_mask, "all");
    assert_eq!(p.cpu_pinning(), vec![cpumask::CpuPin::All]);
    assert_eq!((p.cpu_cores, p.cpu_threads, p.cpu_sockets), (0, 0, 0));
    assert_eq!(p.disk_type, DiskType::Paravirtual);
    assert_eq!(p.nic_type, NicType::Paravirtual);
    assert_eq!(p.disk_cache, DiskCache::Default);
    assert_eq!(p.disk_aio, DiskAio::Threads);
    assert_eq!(p.reboot_behavior, RebootBehavior::Reboot);
    assert_eq!(p.kvm_flag, KvmFlag::Default);
    assert_eq!(KvmFlag::Default.as_str(), "");
    assert_eq!(p.migration_bandwidth, 32);
    assert_eq!(p.migration_downtime, 30);
    assert_eq!(p.migration_port, 8102);
    assert_eq!(p.virtio_net_queues, 1);
    assert_eq!(p.kvm_pci_reservations, 12);
}

#[test]
fn typed_round_trip() {
    let defaults = constants::hv_defaults("kvm");
    assert_eq!(KvmParams::default().to_dict(), defaults);
    let custom = kvm_with(json!({
        "kernel_path": "/tmp/kvm-lab/guest/vmlinuz",
        "initrd_path": "/tmp/kvm-lab/guest/initramfs",
        "root_path": "/dev/vda",
        "kernel_args": "console=ttyS0 glab.name=x",
        "boot_order": "network",
        "serial_speed": 115200,
        "vnc_bind_address": "127.0.0.1",
        "cpu_mask": "0:1",
        "cpu_cores": 2, "cpu_threads": 1, "cpu_sockets": 1,
        "disk_type": "ide", "nic_type": "e1000",
        "disk_cache": "none", "disk_aio": "native",
        "reboot_behavior": "exit", "kvm_flag": "disabled",
        "use_localtime": true, "user_shutdown": true, "vhost_net": true,
        "vnet_hdr": false, "virtio_net_queues": 4,
        "kvm_extra": "-accel tcg", "keymap": "de", "vga": "std",
        "usb_mouse": "tablet", "soundhw": "hda",
        "machine_version": "pc-i440fx-10.0", "cpu_type": "qemu64",
        "migration_port": 9000
    }));
    let p = KvmParams::from_dict(&custom).unwrap();
    assert_eq!(p.to_dict(), custom);
    assert_eq!(KvmParams::from_dict(&p.to_dict()).unwrap(), p);
    assert_eq!(p.kvm_flag, KvmFlag::Disabled);
    assert_eq!(p.kvm_flag.as_str(), "disabled");
    assert_eq!(p.nic_type, NicType::E1000);
    assert_eq!(p.disk_aio, DiskAio::Native);
    assert_eq!(
        p.cpu_pinning(),
        vec![
            cpumask::CpuPin::Cpus(vec![0]),
            cpumask::CpuPin::Cpus(vec![1])
        ]
    );
    // strings from the command line parse too
    let q = KvmParams::from_dict(&kvm_with(json!({"serial_speed": "9600", "acpi": "no"}))).unwrap();
    assert_eq!(q.serial_speed, 9600);
    assert!(!q.acpi);
    // an empty root path means "no root= argument"
    let r = KvmParams::from_dict(&kvm_with(json!({"root_path": "", "kernel_path": ""}))).unwrap();
    assert_eq!(r.root_path, "");
}

#[test]
fn typed_refusals() {
    // the same check as at submit
    assert_eq!(
        KvmParams::from_dict(&kvm_with(json!({"boot_order": "cdrom"})))
            .unwrap_err()
            .message(),
        "Cannot boot from cdrom without an ISO path"
    );
    // accepted by Ganeti, not runnable by this release: refused at submit too
    for t in ["scsi-hd", "scsi-cd", "scsi-block", "scsi-generic"] {
        let e = check_syntax("kvm", &kvm_with(json!({ "disk_type": t }))).unwrap_err();
        assert_eq!(
            e.message(),
            format!("Parameter 'disk_type': value '{t}' is not supported by this release of ganeti-rs (supported: ide, mtd, paravirtual, pflash, scsi, sd)")
        );
    }
    // unchecked numbers must still fit
    let e = KvmParams::from_dict(&kvm_with(
        json!({"serial_console": false, "serial_speed": -1}),
    ))
    .unwrap_err();
    assert_eq!(
        e.message(),
        "Parameter 'serial_speed' is out of range (current value: '-1')"
    );
}

#[test]
fn fill_layers_cluster_os_instance() {
    let mut cl: crate::Cluster = serde_json::from_value(json!({
        "uuid": "u", "cluster_name": "c", "master_node": "n", "master_ip": "1.2.3.4",
        "mac_prefix": "aa:00:00", "default_hypervisor": "kvm",
        "enabled_hypervisors": ["kvm"], "enabled_disk_templates": ["file"],
        "hvparams": {"kvm": {"kernel_args": "quiet"}},
        "os_hvp": {"debian+x": {"kvm": {"kernel_args": "os", "acpi": false}}},
        "beparams": {}, "nicparams": {}, "ndparams": {}, "diskparams": {}, "ipolicy": {},
        "candidate_pool_size": 10, "serial_no": 1, "ctime": 0.0, "mtime": 0.0
    }))
    .unwrap();
    let own = d(json!({"acpi": true, "serial_speed": 9600}));
    let f = fill(&cl, "kvm", Some("debian+x"), &own);
    assert_eq!(f.len(), constants::hv_defaults("kvm").len());
    assert_eq!(f["kernel_args"], json!("os"));
    assert_eq!(f["acpi"], json!(true));
    assert_eq!(f["serial_speed"], json!(9600));
    assert_eq!(f["kvm_path"], json!("/usr/bin/kvm"));
    let g = fill(&cl, "kvm", Some("debian"), &Dict::new());
    assert_eq!(g["kernel_args"], json!("quiet"));
    cl.hvparams = Dict::new();
    assert_eq!(
        fill(&cl, "kvm", None, &Dict::new()),
        constants::hv_defaults("kvm")
    );
}

#[test]
fn globals_stay_at_cluster_level() {
    check_not_global(&d(json!({"acpi": false})), "instance", "cluster").unwrap();
    let e = check_not_global(
        &d(json!({"migration_port": 1, "acpi": false, "migration_mode": "live"})),
        "instance",
        "cluster",
    )
    .unwrap_err();
    assert_eq!(e.error_class(), Some(ErrorClass::WrongInput));
    assert_eq!(
        e.message(),
        "The following hypervisor parameters are global and cannot be customized at instance level, please modify them at cluster level: migration_mode, migration_port"
    );
}
