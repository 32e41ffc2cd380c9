//! Command names, argument encoding (hyphenated names, omitted options,
//! flattened extras) and reply decoding.

use serde_json::{json, Value};

use super::*;
use crate::Command;

fn args<C: Command>(cmd: &C) -> Value {
    serde_json::to_value(cmd).unwrap()
}

fn reply<C: Command>(v: Value) -> C::Reply {
    serde_json::from_value(v).unwrap()
}

#[test]
fn names() {
    assert_eq!(QueryStatus::NAME, "query-status");
    assert_eq!(SystemPowerdown::NAME, "system_powerdown");
    assert_eq!(BlockResize::NAME, "block_resize");
    assert_eq!(NetdevAdd::NAME, "netdev_add");
    assert_eq!(DeviceDel::NAME, "device_del");
    assert_eq!(BlockdevDel::NAME, "blockdev-del");
    assert_eq!(HumanMonitorCommand::NAME, "human-monitor-command");
    assert_eq!(MigrateSetParameters::NAME, "migrate-set-parameters");
    assert_eq!(QueryCpusFast::NAME, "query-cpus-fast");
    assert_eq!(QueryMemorySizeSummary::NAME, "query-memory-size-summary");
}

#[test]
fn unit_commands_have_no_arguments() {
    assert_eq!(args(&QueryStatus), Value::Null);
    assert_eq!(args(&Quit), Value::Null);
}

#[test]
fn run_states_decode_including_unknown() {
    for (text, state) in [
        ("running", RunState::Running),
        ("paused", RunState::Paused),
        ("shutdown", RunState::Shutdown),
        ("internal-error", RunState::InternalError),
        ("io-error", RunState::IoError),
        ("postmigrate", RunState::Postmigrate),
        ("prelaunch", RunState::Prelaunch),
        ("finish-migrate", RunState::FinishMigrate),
        ("inmigrate", RunState::Inmigrate),
        ("suspended", RunState::Suspended),
        ("watchdog", RunState::Watchdog),
        ("guest-panicked", RunState::GuestPanicked),
        ("save-vm", RunState::SaveVm),
        ("restore-vm", RunState::RestoreVm),
        ("debug", RunState::Debug),
        ("colo", RunState::Colo),
        ("some-future-state", RunState::Unknown),
    ] {
        let st = reply::<QueryStatus>(json!({"status": text, "running": false}));
        assert_eq!(st.status, state, "{text}");
        if state != RunState::Unknown {
            assert_eq!(state.to_string(), text);
        }
    }
    // Missing fields are an error, not a default.
    assert!(serde_json::from_value::<StatusInfo>(json!({"status": "running"})).is_err());
}

#[test]
fn block_resize_uses_hyphens_and_omits_the_other_selector() {
    assert_eq!(
        args(&BlockResize::by_node("disk0", 10)),
        json!({"node-name": "disk0", "size": 10})
    );
    assert_eq!(
        args(&BlockResize::by_device("drive-0", 10)),
        json!({"device": "drive-0", "size": 10})
    );
    assert_eq!(
        args(&BlockdevDel {
            node_name: "d".into()
        }),
        json!({"node-name": "d"})
    );
}

#[test]
fn netdev_and_device_flatten_extras() {
    let nd = NetdevAdd {
        vhost: Some(false),
        vnet_hdr: Some(true),
        ..NetdevAdd::tap_fd("hotnic-1", "fd-nic1")
    }
    .arg("queues", 1);
    assert_eq!(
        args(&nd),
        json!({"id": "hotnic-1", "type": "tap", "fd": "fd-nic1", "vhost": false, "vnet_hdr": true, "queues": 1})
    );
    let dev = DeviceAdd {
        bus: Some("pci.0".into()),
        addr: Some("0x5".into()),
        ..DeviceAdd::new("virtio-net-pci", "nic-1")
    }
    .arg("netdev", "hotnic-1")
    .arg("mac", "aa:00:00:11:22:33");
    assert_eq!(
        args(&dev),
        json!({"driver": "virtio-net-pci", "id": "nic-1", "bus": "pci.0", "addr": "0x5",
               "netdev": "hotnic-1", "mac": "aa:00:00:11:22:33"})
    );
    assert_eq!(
        args(&DeviceAdd::new("virtio-blk-pci", "d1")),
        json!({"driver": "virtio-blk-pci", "id": "d1"})
    );
}

#[test]
fn passthrough_commands() {
    let opts =
        json!({"driver": "raw", "node-name": "d0", "file": {"driver": "file", "filename": "/x"}});
    assert_eq!(args(&BlockdevAdd(opts.clone())), opts);
    let p = json!({"max-bandwidth": 1024, "downtime-limit": 300});
    assert_eq!(args(&MigrateSetParameters(p.clone())), p);
    let mut m = Migrate::new("tcp:127.0.0.1:4444");
    m.extra.insert("detach".into(), json!(true));
    assert_eq!(
        args(&m),
        json!({"uri": "tcp:127.0.0.1:4444", "detach": true})
    );
    assert_eq!(
        args(&MigrateSetCapabilities {
            capabilities: vec![MigrationCapabilityStatus {
                capability: "xbzrle".into(),
                state: true
            }]
        }),
        json!({"capabilities": [{"capability": "xbzrle", "state": true}]})
    );
    assert_eq!(
        args(&HumanMonitorCommand {
            command_line: "info block".into(),
            cpu_index: None
        }),
        json!({"command-line": "info block"})
    );
}

#[test]
fn replies_decode() {
    let v = reply::<QueryVersion>(
        json!({"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Debian"}),
    );
    assert_eq!(
        v.qemu,
        VersionTriple {
            major: 10,
            minor: 0,
            micro: 2
        }
    );
    let cpus = reply::<QueryCpusFast>(json!([
        {"thread-id": 4242, "props": {"core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 0},
         "qom-path": "/machine/unattached/device[0]", "cpu-index": 0, "target": "x86_64"}
    ]));
    assert_eq!(cpus[0].thread_id, 4242);
    assert_eq!(cpus[0].qom_path, "/machine/unattached/device[0]");
    let mem = reply::<QueryMemorySizeSummary>(json!({"base-memory": 67108864}));
    assert_eq!(mem.base_memory, 64 << 20);
    assert_eq!(mem.plugged_memory, None);
    let mem =
        reply::<QueryMemorySizeSummary>(json!({"base-memory": 67108864, "plugged-memory": 1024}));
    assert_eq!(mem.plugged_memory, Some(1024));
    assert_eq!(reply::<QueryName>(json!({})).name, None);
    assert_eq!(
        reply::<QueryName>(json!({"name": "vm1"})).name.as_deref(),
        Some("vm1")
    );
}
