//! The pieces of hook environments that many opcodes share: the instance
//! environment (Ganeti's `BuildInstanceHookEnv`), a network's keys
//! (`Network.HooksDict`) and Python's `str()` of values.
//!
//! Scripts compare these strings (`True`, `None`, `128`), so every value
//! goes through Python's `str()` as Ganeti's hooks master does.

use std::collections::BTreeMap;

use ganeti_types::{AdminState, ConfigData, Disk, Instance, Network, Nic};
use serde_json::Value;

use crate::cmdlib::instance::common::effective_be;

/// Python's `str()` of a JSON value.
pub fn py(v: &Value) -> String {
    ganeti_clifmt::pystr::py_str(v)
}

/// Python's `str()` of a boolean.
pub fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.into()
}

/// Ganeti's admin state words.
pub fn admin_state_str(st: AdminState) -> &'static str {
    match st {
        AdminState::Up => "up",
        AdminState::Down => "down",
        AdminState::Offline => "offline",
    }
}

/// Keys of a network (`Network.HooksDict`), each under `prefix`: name,
/// uuid and tags always, the addresses only when set.
pub fn network_keys(net: &Network, prefix: &str, env: &mut BTreeMap<String, String>) {
    env.insert(format!("{prefix}NETWORK_NAME"), net.name.clone());
    env.insert(format!("{prefix}NETWORK_UUID"), net.uuid.clone());
    env.insert(format!("{prefix}NETWORK_TAGS"), net.tags.join(" "));
    let optional = [
        ("NETWORK_SUBNET", Some(net.network.as_str())),
        ("NETWORK_GATEWAY", net.gateway.as_deref()),
        ("NETWORK_SUBNET6", net.network6.as_deref()),
        ("NETWORK_GATEWAY6", net.gateway6.as_deref()),
        ("NETWORK_MAC_PREFIX", net.mac_prefix.as_deref()),
    ];
    for (key, value) in optional {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            env.insert(format!("{prefix}{key}"), v.to_string());
        }
    }
}

/// A disk as the environment shows it: a configured one, or one an
/// instance creation describes (no uuid, no device facts yet).
#[derive(Debug, Clone, Copy)]
pub enum HookDisk<'a> {
    Configured(&'a Disk),
    Requested {
        name: Option<&'a str>,
        size: u64,
        mode: &'a str,
    },
}

/// Ganeti's `BuildInstanceHookEnvByObject` for `inst` with `disks`;
/// `status` overrides `INSTANCE_STATUS` (a creation shows its `start`
/// flag there).
pub fn instance_env(
    cfg: &ConfigData,
    inst: &Instance,
    disks: &[HookDisk<'_>],
    status: Option<String>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let bep = effective_be(cfg, &inst.beparams);
    let hvp = ganeti_types::hvparams::fill(
        &cfg.cluster,
        &inst.hypervisor,
        Some(&inst.os),
        &inst.hvparams,
    );
    let secondaries: Vec<String> = {
        let mut s: Vec<String> = Vec::new();
        for d in disks {
            if let HookDisk::Configured(d) = d {
                for n in d.secondary_nodes() {
                    let name = cfg.node_name(n);
                    if !s.contains(&name) {
                        s.push(name);
                    }
                }
            }
        }
        s
    };
    let put = |env: &mut BTreeMap<String, String>, k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    put(&mut env, "OP_TARGET", inst.name.clone());
    put(&mut env, "INSTANCE_NAME", inst.name.clone());
    put(
        &mut env,
        "INSTANCE_PRIMARY",
        cfg.node_name(&inst.primary_node),
    );
    put(&mut env, "INSTANCE_SECONDARIES", secondaries.join(" "));
    put(&mut env, "INSTANCE_OS_TYPE", inst.os.clone());
    put(
        &mut env,
        "INSTANCE_STATUS",
        status.unwrap_or_else(|| admin_state_str(inst.admin_state).into()),
    );
    let be = |k: &str| py(bep.get(k).unwrap_or(&Value::Null));
    put(&mut env, "INSTANCE_MINMEM", be("minmem"));
    put(&mut env, "INSTANCE_MAXMEM", be("maxmem"));
    put(&mut env, "INSTANCE_MEMORY", be("maxmem"));
    put(&mut env, "INSTANCE_VCPUS", be("vcpus"));
    put(
        &mut env,
        "INSTANCE_DISK_TEMPLATE",
        inst.disk_template.clone(),
    );
    put(&mut env, "INSTANCE_HYPERVISOR", inst.hypervisor.clone());
    for (idx, nic) in inst.nics.iter().enumerate() {
        nic_keys(cfg, idx, nic, &mut env);
    }
    put(&mut env, "INSTANCE_NIC_COUNT", inst.nics.len().to_string());
    for (idx, d) in disks.iter().enumerate() {
        disk_keys(idx, d, &mut env);
    }
    put(&mut env, "INSTANCE_DISK_COUNT", disks.len().to_string());
    put(&mut env, "INSTANCE_TAGS", inst.tags.join(" "));
    for (k, v) in &bep {
        env.insert(format!("INSTANCE_BE_{k}"), py(v));
    }
    for (k, v) in &hvp {
        env.insert(format!("INSTANCE_HV_{k}"), py(v));
    }
    env
}

/// The environment of a configured instance with its configured disks.
pub fn configured_instance_env(cfg: &ConfigData, inst: &Instance) -> BTreeMap<String, String> {
    let disks = cfg.instance_disks(inst);
    let hook_disks: Vec<HookDisk<'_>> = disks.iter().map(|d| HookDisk::Configured(d)).collect();
    instance_env(cfg, inst, &hook_disks, None)
}

fn nic_keys(cfg: &ConfigData, idx: usize, nic: &Nic, env: &mut BTreeMap<String, String>) {
    let params = ganeti_types::params::fill(&[&cfg.cluster.nic_defaults(), &nic.nicparams]);
    let p = |k: &str| params.get(k).map(py).unwrap_or_default();
    let (mode, link) = (p("mode"), p("link"));
    let pre = format!("INSTANCE_NIC{idx}_");
    if let Some(name) = nic.name.as_deref().filter(|n| !n.is_empty()) {
        env.insert(format!("{pre}NAME"), name.to_string());
    }
    env.insert(format!("{pre}UUID"), nic.uuid.clone());
    env.insert(format!("{pre}IP"), nic.ip.clone().unwrap_or_default());
    env.insert(format!("{pre}MAC"), nic.mac.clone());
    env.insert(format!("{pre}MODE"), mode.clone());
    env.insert(format!("{pre}LINK"), link.clone());
    env.insert(format!("{pre}VLAN"), p("vlan"));
    if let Some(net_uuid) = nic.network.as_deref().filter(|n| !n.is_empty()) {
        match cfg.networks.get(net_uuid) {
            Some(net) => network_keys(net, &pre, env),
            None => {
                env.insert(format!("{pre}NETWORK_NAME"), net_uuid.to_string());
            }
        }
    }
    if mode == "bridged" || mode == "openvswitch" {
        env.insert(format!("{pre}BRIDGE"), link);
    }
}

fn disk_keys(idx: usize, disk: &HookDisk<'_>, env: &mut BTreeMap<String, String>) {
    let pre = format!("INSTANCE_DISK{idx}_");
    let (uuid, name, size, mode) = match disk {
        HookDisk::Configured(d) => {
            logical_id_keys(&pre, d, env);
            (
                d.uuid.clone(),
                d.name.as_deref(),
                d.size.to_string(),
                d.mode.clone(),
            )
        }
        HookDisk::Requested { name, size, mode } => {
            (String::new(), *name, size.to_string(), mode.to_string())
        }
    };
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        env.insert(format!("{pre}NAME"), n.to_string());
    }
    env.insert(format!("{pre}UUID"), uuid);
    env.insert(format!("{pre}SIZE"), size);
    env.insert(format!("{pre}MODE"), mode);
}

/// Ganeti's `BuildDiskLogicalIDEnv`: where the disk lives, per type.
fn logical_id_keys(pre: &str, d: &Disk, env: &mut BTreeMap<String, String>) {
    let lid: Vec<String> = d
        .logical_id
        .as_array()
        .map(|a| a.iter().map(py).collect())
        .unwrap_or_default();
    let at = |i: usize| lid.get(i).cloned().unwrap_or_default();
    let pairs: Vec<(&str, String)> = match d.dev_type.as_str() {
        "plain" => vec![("VG", at(0)), ("ID", at(1))],
        "file" | "sharedfile" | "blockdev" | "rbd" | "gluster" => {
            vec![("DRIVER", at(0)), ("ID", at(1))]
        }
        "ext" => vec![("PROVIDER", at(0)), ("ID", at(1))],
        "drbd" => {
            let child = |c: usize, i: usize| {
                d.children
                    .get(c)
                    .and_then(|ch| ch.logical_id.as_array())
                    .and_then(|a| a.get(i))
                    .map(py)
                    .unwrap_or_default()
            };
            vec![
                ("PNODE", at(0)),
                ("SNODE", at(1)),
                ("PORT", at(2)),
                ("PMINOR", at(3)),
                ("SMINOR", at(4)),
                ("DATA_VG", child(0, 0)),
                ("DATA_ID", child(0, 1)),
                ("META_VG", child(1, 0)),
                ("META_ID", child(1, 1)),
            ]
        }
        _ => vec![],
    };
    for (k, v) in pairs {
        env.insert(format!("{pre}{k}"), v);
    }
    env.insert(format!("{pre}DEV_TYPE"), d.dev_type.clone());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdlib::cluster::checks::testcfg;
    use serde_json::json;

    fn disk(v: serde_json::Value) -> Disk {
        let mut base = json!({"uuid": "d-1", "dev_type": "plain", "logical_id": ["xenvg", "lv1"],
            "nodes": [testcfg::NODE], "iv_name": "disk/0", "size": 1024, "mode": "rw",
            "serial_no": 1, "ctime": 0.0, "mtime": 0.0});
        for (k, x) in v.as_object().unwrap() {
            base[k] = x.clone();
        }
        serde_json::from_value(base).unwrap()
    }

    fn keys(d: &Disk) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        disk_keys(0, &HookDisk::Configured(d), &mut env);
        env
    }

    #[test]
    fn disk_keys_per_type() {
        let plain = keys(&disk(json!({"name": "root"})));
        assert_eq!(plain["INSTANCE_DISK0_VG"], "xenvg");
        assert_eq!(plain["INSTANCE_DISK0_ID"], "lv1");
        assert_eq!(plain["INSTANCE_DISK0_NAME"], "root");
        assert_eq!(plain["INSTANCE_DISK0_DEV_TYPE"], "plain");
        assert_eq!(plain["INSTANCE_DISK0_SIZE"], "1024");

        let child = |lv: &str| {
            json!({"uuid": lv, "dev_type": "plain", "logical_id": ["vg", lv],
            "nodes": [], "iv_name": "", "size": 1, "mode": "rw", "serial_no": 1, "ctime": 0.0, "mtime": 0.0})
        };
        let drbd = keys(&disk(json!({"dev_type": "drbd",
            "logical_id": ["n-a", "n-b", 11000, 0, 1, "secret"],
            "children": [child("data"), child("meta")]})));
        assert_eq!(drbd["INSTANCE_DISK0_PNODE"], "n-a");
        assert_eq!(drbd["INSTANCE_DISK0_SNODE"], "n-b");
        assert_eq!(drbd["INSTANCE_DISK0_PORT"], "11000");
        assert_eq!(drbd["INSTANCE_DISK0_SMINOR"], "1");
        assert_eq!(drbd["INSTANCE_DISK0_DATA_ID"], "data");
        assert_eq!(drbd["INSTANCE_DISK0_META_VG"], "vg");
        assert!(
            !drbd.values().any(|v| v == "secret"),
            "the DRBD shared secret never reaches a hook"
        );
        assert!(!drbd.contains_key("INSTANCE_DISK0_NAME"));

        let ext = keys(&disk(
            json!({"dev_type": "ext", "logical_id": ["prov", "vol"]}),
        ));
        assert_eq!(ext["INSTANCE_DISK0_PROVIDER"], "prov");
        let file = keys(&disk(
            json!({"dev_type": "file", "logical_id": ["loop", "/x/d0"]}),
        ));
        assert_eq!(file["INSTANCE_DISK0_DRIVER"], "loop");
        assert_eq!(file["INSTANCE_DISK0_ID"], "/x/d0");
    }

    #[test]
    fn network_keys_only_when_set() {
        let net: Network = serde_json::from_value(json!({"uuid": "n1", "name": "net",
            "network": "10.0.0.0/24", "gateway": null, "network6": "", "gateway6": null,
            "mac_prefix": "aa:bb:cc", "reservations": "", "ext_reservations": "",
            "tags": ["a", "b"], "serial_no": 1, "ctime": 0.0, "mtime": 0.0}))
        .unwrap();
        let mut env = BTreeMap::new();
        network_keys(&net, "INSTANCE_NIC0_", &mut env);
        assert_eq!(
            env.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "INSTANCE_NIC0_NETWORK_MAC_PREFIX",
                "INSTANCE_NIC0_NETWORK_NAME",
                "INSTANCE_NIC0_NETWORK_SUBNET",
                "INSTANCE_NIC0_NETWORK_TAGS",
                "INSTANCE_NIC0_NETWORK_UUID",
            ]
        );
        assert_eq!(env["INSTANCE_NIC0_NETWORK_TAGS"], "a b");
    }

    #[test]
    fn python_str_of_values() {
        assert_eq!(py(&json!(true)), "True");
        assert_eq!(py(&json!(null)), "None");
        assert_eq!(py(&json!(128)), "128");
        assert_eq!(py(&json!(0.5)), "0.5");
        assert_eq!(py(&json!("x")), "x");
        assert_eq!(py(&json!(["a", 1])), "['a', 1]");
    }
}
