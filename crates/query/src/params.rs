//! Effective ("filled") parameter dictionaries and their key order.
//!
//! The query daemon serializes fixed-shape parameter sets (backend,
//! node, instance policy) in the declaration order of its records, and
//! open-ended ones (hypervisor, OS, disk parameters) sorted by key. We
//! reproduce both orders so that the JSON clients see is byte-for-byte
//! what Ganeti sends; the layering itself uses `ganeti_types::params::fill`.

use ganeti_types::params::{fill, upgrade_beparams};
use ganeti_types::{ConfigData, Dict, Instance, Node, NodeGroup};
use serde_json::Value;

/// Backend parameters in record order.
pub(crate) const BE_ORDER: &[&str] = &[
    "minmem",
    "maxmem",
    "vcpus",
    "auto_balance",
    "always_failover",
    "spindle_use",
];

/// Node parameters in record order.
pub(crate) const ND_ORDER: &[&str] = &[
    "oob_program",
    "spindle_count",
    "exclusive_storage",
    "ovs",
    "ovs_name",
    "ovs_link",
    "ssh_port",
    "cpu_speed",
];

const IPOLICY_ORDER: &[&str] = &[
    "minmax",
    "std",
    "spindle-ratio",
    "vcpu-ratio",
    "disk-templates",
];
const ISPEC_ORDER: &[&str] = &[
    "memory-size",
    "disk-size",
    "disk-count",
    "cpu-count",
    "nic-count",
    "spindle-use",
];

/// Hypervisor parameters that are cluster-global and never shown per instance.
const HV_GLOBALS: &[&str] = &[
    "migration_bandwidth",
    "migration_mode",
    "migration_port",
    "xen_cmd",
];

/// Known keys first in `order`, then any others sorted.
pub(crate) fn ordered(d: &Dict, order: &[&str]) -> Dict {
    let mut out = Dict::new();
    for k in order {
        if let Some(v) = d.get(*k) {
            out.insert((*k).to_string(), v.clone());
        }
    }
    let mut rest: Vec<(&String, &Value)> = d
        .iter()
        .filter(|(k, _)| !order.contains(&k.as_str()))
        .collect();
    rest.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v) in rest {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// Keys sorted at every level of nested objects.
pub(crate) fn sorted_deep(d: &Dict) -> Dict {
    let mut keys: Vec<&String> = d.keys().collect();
    keys.sort();
    let mut out = Dict::new();
    for k in keys {
        let v = match &d[k] {
            Value::Object(o) => Value::Object(sorted_deep(o)),
            other => other.clone(),
        };
        out.insert(k.clone(), v);
    }
    out
}

fn sub(d: &Dict, key: &str) -> Dict {
    d.get(key)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// Instance policy in record order (specs ordered too).
pub(crate) fn ordered_ipolicy(d: &Dict) -> Dict {
    let mut out = ordered(d, IPOLICY_ORDER);
    if let Some(Value::Object(std)) = out.get("std") {
        let std = ordered(std, ISPEC_ORDER);
        out.insert("std".into(), Value::Object(std));
    }
    if let Some(Value::Array(mm)) = out.get("minmax") {
        let mm: Vec<Value> = mm
            .iter()
            .map(|item| match item {
                Value::Object(o) => {
                    let mut o2 = ordered(o, &["min", "max"]);
                    for k in ["min", "max"] {
                        if let Some(Value::Object(spec)) = o2.get(k) {
                            let spec = ordered(spec, ISPEC_ORDER);
                            o2.insert(k.into(), Value::Object(spec));
                        }
                    }
                    Value::Object(o2)
                }
                other => other.clone(),
            })
            .collect();
        out.insert("minmax".into(), Value::Array(mm));
    }
    out
}

/// A group's effective instance policy: the group's values over the
/// cluster's; `std` is merged key by key, the rest replaced.
pub(crate) fn group_ipolicy(cfg: &ConfigData, g: &NodeGroup) -> Dict {
    let mut out = cfg.cluster.ipolicy.clone();
    for (k, v) in &g.ipolicy {
        if k == "std" {
            let merged = fill(&[
                &sub(&out, "std"),
                &v.as_object().cloned().unwrap_or_default(),
            ]);
            out.insert(k.clone(), Value::Object(merged));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    ordered_ipolicy(&out)
}

/// A group's effective disk parameters (per template, group over cluster).
pub(crate) fn group_diskparams(cfg: &ConfigData, g: &NodeGroup) -> Dict {
    sorted_deep(&fill(&[&cfg.cluster.diskparams, &g.diskparams]))
}

/// A group's effective node parameters.
pub(crate) fn group_ndparams(cfg: &ConfigData, g: &NodeGroup) -> Dict {
    ordered(&fill(&[&cfg.cluster.ndparams, &g.ndparams]), ND_ORDER)
}

/// A node's effective node parameters; `None` when its group is unknown.
pub(crate) fn node_ndparams(cfg: &ConfigData, n: &Node) -> Option<Dict> {
    let g = cfg.nodegroups.get(&n.group)?;
    Some(ordered(
        &fill(&[&cfg.cluster.ndparams, &g.ndparams, &n.ndparams]),
        ND_ORDER,
    ))
}

/// An instance's effective backend parameters; `None` when the cluster
/// has no default profile.
pub(crate) fn instance_beparams(cfg: &ConfigData, inst: &Instance) -> Option<Dict> {
    let defaults = cfg.cluster.beparams.get("default")?.as_object()?;
    let mut own = inst.beparams.clone();
    upgrade_beparams(&mut own);
    Some(ordered(&fill(&[defaults, &own]), BE_ORDER))
}

/// An instance's effective hypervisor parameters: cluster defaults, then
/// the OS overrides for that hypervisor, then the instance's own, without
/// the cluster-global keys.
pub(crate) fn instance_hvparams(cfg: &ConfigData, inst: &Instance) -> Dict {
    let hv = &inst.hypervisor;
    let cluster = cfg.cluster.hv_defaults(hv);
    let os = cfg
        .cluster
        .os_hvp
        .get(&inst.os)
        .and_then(Value::as_object)
        .map(|m| sub(m, hv))
        .unwrap_or_default();
    let mut out = fill(&[&cluster, &os, &inst.hvparams]);
    for g in HV_GLOBALS {
        out.remove(*g);
    }
    sorted_deep(&out)
}

/// An instance's effective OS parameters (cluster per-OS over nothing,
/// instance over that); the OS is looked up without its variant.
pub(crate) fn instance_osparams(cfg: &ConfigData, inst: &Instance) -> Dict {
    let base = inst.os.split('+').next().unwrap_or("");
    let cluster = sub(&cfg.cluster.osparams, base);
    sorted_deep(&fill(&[&cluster, &inst.osparams]))
}

/// A NIC's effective parameters (cluster default profile, then the NIC's).
pub(crate) fn nic_params(cfg: &ConfigData, nicparams: &Dict) -> Dict {
    fill(&[&cfg.cluster.nic_defaults(), nicparams])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_order_then_sorted_rest() {
        let d = json!({"vcpus": 1, "zeta": 1, "maxmem": 2, "alpha": 3});
        let o = ordered(d.as_object().unwrap(), BE_ORDER);
        assert_eq!(
            o.keys().collect::<Vec<_>>(),
            vec!["maxmem", "vcpus", "alpha", "zeta"]
        );
    }

    #[test]
    fn ipolicy_order_matches_reference() {
        let ip = ganeti_types::constants::ipolicy_defaults();
        let o = ordered_ipolicy(&ip);
        let text = serde_json::to_string(&o).unwrap();
        assert!(text.starts_with(r#"{"minmax":[{"min":{"memory-size":128,"disk-size":1024,"disk-count":1,"cpu-count":1,"nic-count":1,"spindle-use":1},"max":{"memory-size":32768"#), "{text}");
        assert_eq!(
            o.keys().collect::<Vec<_>>(),
            vec![
                "minmax",
                "std",
                "spindle-ratio",
                "vcpu-ratio",
                "disk-templates"
            ]
        );
    }
}
