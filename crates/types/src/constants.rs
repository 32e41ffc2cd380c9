//! Ganeti 3.0.2's built-in defaults, as `gnt-cluster info` shows them on a
//! fresh cluster. Kept in one place so `init` and "default (x)" displays agree.

use serde_json::{json, Value};

use crate::Dict;

/// Hypervisors this release can run.
pub const SUPPORTED_HYPERVISORS: &[&str] = &["fake", "kvm"];
/// Hypervisors whose instances get a cluster-unique TCP port
/// (`network_port`, Ganeti's `HTS_REQ_PORT`): kvm uses it for VNC/SPICE.
pub const HTS_REQ_PORT: &[&str] = &["kvm", "xen-hvm"];
/// First port of the cluster's port range (Ganeti's `FIRST_DRBD_PORT`);
/// a new cluster's `highest_used_port` is one below it.
pub const FIRST_DRBD_PORT: u32 = 11000;
/// Last port the cluster hands out (Ganeti's `LAST_DRBD_PORT`).
pub const LAST_DRBD_PORT: u32 = 14999;
/// Every hypervisor name Ganeti knows (others are refused with a clear message).
pub const KNOWN_HYPERVISORS: &[&str] = &["chroot", "fake", "kvm", "lxc", "xen-hvm", "xen-pvm"];
/// Disk templates this release can run.
pub const SUPPORTED_DISK_TEMPLATES: &[&str] =
    &["blockdev", "diskless", "file", "plain", "sharedfile"];
/// Default MAC prefix.
pub const DEFAULT_MAC_PREFIX: &str = "aa:00:00";
/// Default candidate pool size.
pub const DEFAULT_CANDIDATE_POOL_SIZE: u32 = 10;
/// Default instance shutdown timeout (seconds).
pub const DEFAULT_SHUTDOWN_TIMEOUT: u64 = 120;
/// Ganeti's default volume group.
pub const DEFAULT_VG: &str = "xenvg";
/// Name of the default node group.
pub const DEFAULT_GROUP: &str = "default";
/// Default compression tools.
pub const DEFAULT_COMPRESSION_TOOLS: &[&str] = &["gzip", "gzip-fast", "gzip-slow"];

fn obj(v: Value) -> Dict {
    match v {
        Value::Object(m) => m,
        _ => Dict::new(),
    }
}

/// Backend parameter defaults (`beparams["default"]`).
pub fn be_defaults() -> Dict {
    obj(json!({
        "always_failover": false,
        "auto_balance": true,
        "maxmem": 128,
        "minmem": 128,
        "spindle_use": 1,
        "vcpus": 1
    }))
}

/// Hypervisor parameter defaults per hypervisor (kept with the other
/// per-hypervisor rules in [`crate::hvparams`]).
pub fn hv_defaults(hv: &str) -> Dict {
    crate::hvparams::defaults(hv)
}

/// NIC parameter defaults (`nicparams["default"]`); `link` is set at init.
pub fn nic_defaults() -> Dict {
    obj(json!({"link": "", "mode": "bridged", "vlan": ""}))
}

/// Node parameter defaults.
pub fn nd_defaults() -> Dict {
    obj(json!({
        "cpu_speed": 1,
        "exclusive_storage": false,
        "oob_program": "",
        "ovs": false,
        "ovs_link": "",
        "ovs_name": "switch1",
        "spindle_count": 1,
        "ssh_port": 22
    }))
}

/// Disk parameter defaults per template.
pub fn disk_defaults() -> Dict {
    obj(json!({
        "blockdev": {},
        "diskless": {},
        "drbd": {
            "c-delay-target": 1, "c-fill-target": 0, "c-max-rate": 61440,
            "c-min-rate": 4096, "c-plan-ahead": 20, "data-stripes": 1,
            "disk-barriers": "n", "disk-custom": "", "dynamic-resync": false,
            "meta-barriers": false, "meta-stripes": 1, "metavg": DEFAULT_VG,
            "net-custom": "", "protocol": "C", "resync-rate": 61440
        },
        "ext": {"access": "kernelspace"},
        "file": {},
        "gluster": {"access": "kernelspace", "host": "127.0.0.1", "port": 24007, "volume": "gv0"},
        "plain": {"stripes": 1},
        "rbd": {"access": "kernelspace", "pool": "rbd"},
        "sharedfile": {}
    }))
}

/// Instance policy defaults (before restriction to enabled templates).
pub fn ipolicy_defaults() -> Dict {
    obj(json!({
        "minmax": [{
            "min": {"cpu-count": 1, "disk-count": 1, "disk-size": 1024,
                     "memory-size": 128, "nic-count": 1, "spindle-use": 1},
            "max": {"cpu-count": 8, "disk-count": 16, "disk-size": 1048576,
                     "memory-size": 32768, "nic-count": 8, "spindle-use": 12}
        }],
        "std": {"cpu-count": 1, "disk-count": 1, "disk-size": 1024,
                "memory-size": 128, "nic-count": 1, "spindle-use": 1},
        "disk-templates": ["blockdev", "diskless", "drbd", "ext", "file",
                           "gluster", "plain", "rbd", "sharedfile"],
        "spindle-ratio": 32.0,
        "vcpu-ratio": 4.0
    }))
}

/// Data collector defaults.
pub fn data_collector_defaults() -> Dict {
    let mut m = Dict::new();
    for c in [
        "cpu-avg-load",
        "diskstats",
        "drbd",
        "inst-status-xen",
        "lv",
        "xen-cpu-avg-load",
    ] {
        m.insert(c.into(), json!({"active": true, "interval": 5000000}));
    }
    m
}
