//! Instance fields.
//!
//! Most fields come from the configuration; `status`, `oper_*` and
//! `console` combine it with what the nodes reported. The status rules are
//! Ganeti's: the primary node's offline flag wins, then a node that could
//! not be asked makes the instance `ERROR_nodedown`, then the reported
//! state is compared with the administrative state.

use ganeti_types::{AdminState, ConfigData, Disk, Instance};
use serde_json::{json, Value};

use super::{common, lookup, str_list};
use crate::live::{LiveInstance, NodeAnswer};
use crate::params;
use crate::value::{
    maybe_nodata, maybe_unavail, nice_sort, nodata, normal, unavail, unknown, Cell, RS_OFFLINE,
};
use crate::QueryContext;

/// Fields that need live data.
pub(crate) const LIVE_FIELDS: &[&str] =
    &["status", "oper_state", "oper_ram", "oper_vcpus", "console"];

const ALIASES: &[(&str, &str)] = &[
    ("vcpus", "be/vcpus"),
    ("be/memory", "be/maxmem"),
    ("sda_size", "disk.size/0"),
    ("sdb_size", "disk.size/1"),
    ("ip", "nic.ip/0"),
    ("mac", "nic.mac/0"),
    ("bridge", "nic.bridge/0"),
    ("nic_mode", "nic.mode/0"),
    ("nic_link", "nic.link/0"),
    ("nic_network", "nic.network/0"),
];

/// Instances covered by a query, in natural name order or as requested.
pub(crate) fn select<'a>(
    ctx: &QueryContext<'a>,
    wanted: &[String],
) -> Result<Vec<&'a Instance>, crate::QueryError> {
    let cfg = ctx.config;
    if wanted.is_empty() {
        let mut all: Vec<&Instance> = cfg.instances.values().collect();
        crate::value::nice_sort_by_key(&mut all, |i| i.name.as_str());
        return Ok(all);
    }
    wanted
        .iter()
        .map(|w| {
            lookup(
                "Instance",
                cfg.instances.values(),
                |i| &i.uuid,
                |i| &i.name,
                w,
            )
        })
        .collect()
}

/// What the nodes said about the instance.
enum Runtime<'a> {
    /// The primary node could not be asked (offline) or did not answer.
    NodeError { offline: bool },
    /// Reported by a node; `true` when that node is the primary.
    Found(&'a LiveInstance, bool),
    /// The primary answered and does not run it.
    NotRunning,
}

fn runtime<'a>(ctx: &QueryContext<'a>, inst: &Instance) -> Runtime<'a> {
    if let Some(li) = ctx.live.instances.get(&inst.uuid) {
        let on_primary = li.node.is_empty() || li.node == inst.primary_node;
        return Runtime::Found(li, on_primary);
    }
    let offline = primary_offline(ctx.config, inst);
    match ctx.live.node_answer(&inst.primary_node, offline) {
        NodeAnswer::Answered(_) => Runtime::NotRunning,
        NodeAnswer::Offline => Runtime::NodeError { offline: true },
        NodeAnswer::Failed => Runtime::NodeError { offline: false },
    }
}

fn primary_offline(cfg: &ConfigData, inst: &Instance) -> bool {
    cfg.nodes.get(&inst.primary_node).is_some_and(|n| n.offline)
}

/// Ganeti's instance status.
pub(crate) fn status(ctx: &QueryContext<'_>, inst: &Instance) -> &'static str {
    if primary_offline(ctx.config, inst) {
        return "ERROR_nodeoffline";
    }
    let up = inst.admin_state == AdminState::Up;
    let user_shutdown = ctx.config.cluster.enabled_user_shutdown;
    match runtime(ctx, inst) {
        Runtime::NodeError { .. } => "ERROR_nodedown",
        Runtime::Found(_, false) => "ERROR_wrongnode",
        Runtime::Found(li, true) => {
            if li.running {
                if up {
                    "running"
                } else {
                    "ERROR_up"
                }
            } else if up && user_shutdown && user_down_allowed(ctx.config, inst) {
                "USER_down"
            } else if up {
                "ERROR_down"
            } else {
                "ADMIN_down"
            }
        }
        Runtime::NotRunning => match inst.admin_state {
            AdminState::Up => "ERROR_down",
            AdminState::Down if inst.admin_state_source == "user" && user_shutdown => "USER_down",
            AdminState::Down => "ADMIN_down",
            AdminState::Offline => "ADMIN_offline",
        },
    }
}

/// A shutdown from inside the guest counts as "user down" except on KVM
/// without the `user_shutdown` hypervisor parameter.
fn user_down_allowed(cfg: &ConfigData, inst: &Instance) -> bool {
    inst.hypervisor != "kvm"
        || params::instance_hvparams(cfg, inst).get("user_shutdown") == Some(&Value::Bool(true))
}

fn node_error_cell(offline: bool) -> Cell {
    if offline {
        (RS_OFFLINE, Value::Null)
    } else {
        nodata()
    }
}

/// The instance's disks in order; `None` if one is missing from the config.
fn disks<'a>(cfg: &'a ConfigData, inst: &Instance) -> Option<Vec<&'a Disk>> {
    inst.disks.iter().map(|u| cfg.disks.get(u)).collect()
}

fn disk_template_of(d: &Disk) -> &str {
    match d.dev_type.as_str() {
        "drbd8" => "drbd",
        other => other,
    }
}

fn disk_usage(d: &Disk) -> u64 {
    match disk_template_of(d) {
        "drbd" => d.size + 128,
        "diskless" | "blockdev" => 0,
        _ => d.size,
    }
}

fn split_index(field: &str, prefix: &str) -> Option<usize> {
    field.strip_prefix(prefix)?.strip_prefix('/')?.parse().ok()
}

fn network_name(cfg: &ConfigData, uuid: &str) -> Option<String> {
    cfg.networks.get(uuid).map(|n| n.name.clone())
}

/// The value of one field.
pub(crate) fn get(ctx: &QueryContext<'_>, inst: &Instance, field: &str) -> Cell {
    let field = ALIASES
        .iter()
        .find(|(a, _)| *a == field)
        .map(|(_, t)| *t)
        .unwrap_or(field);
    let cfg = ctx.config;
    if let Some(c) = common(
        field,
        inst.ctime,
        inst.mtime,
        inst.serial_no,
        &inst.uuid,
        &inst.tags,
    ) {
        return c;
    }
    if let Some(p) = field.strip_prefix("be/") {
        return match params::instance_beparams(cfg, inst) {
            Some(be) => maybe_nodata(be.get(p).cloned()),
            None => nodata(),
        };
    }
    if let Some(p) = field.strip_prefix("hv/") {
        return maybe_unavail(params::instance_hvparams(cfg, inst).get(p).cloned());
    }
    if field.starts_with("disk.") && field.contains('/') {
        return disk_indexed(cfg, inst, field);
    }
    if field.starts_with("nic.") && field.contains('/') {
        return nic_indexed(cfg, inst, field);
    }
    match field {
        "name" => normal(inst.name.as_str()),
        "os" => normal(inst.os.as_str()),
        "hypervisor" => normal(inst.hypervisor.as_str()),
        "admin_state" => normal(inst.admin_state.as_str()),
        "admin_state_source" => normal(inst.admin_state_source.as_str()),
        "admin_up" => normal(inst.admin_state == AdminState::Up),
        "disks_active" => normal(inst.disks_active),
        "forthcoming" => normal(false),
        "network_port" => maybe_unavail(inst.network_port.map(Value::from)),
        "pnode" => maybe_nodata(cfg.nodes.get(&inst.primary_node).map(|n| json!(n.name))),
        "pnode.group" | "pnode.group.uuid" => {
            let g = cfg
                .nodes
                .get(&inst.primary_node)
                .and_then(|n| cfg.nodegroups.get(&n.group));
            maybe_nodata(g.map(|g| {
                if field == "pnode.group" {
                    json!(g.name)
                } else {
                    json!(g.uuid)
                }
            }))
        }
        "snodes" | "snodes.group" | "snodes.group.uuid" => {
            if !cfg.nodes.contains_key(&inst.primary_node) || disks(cfg, inst).is_none() {
                return nodata();
            }
            let snodes: Vec<_> = cfg
                .instance_secondaries(inst)
                .into_iter()
                .filter(|u| u != &inst.primary_node)
                .filter_map(|u| cfg.nodes.get(&u))
                .collect();
            let vals: Vec<String> = match field {
                "snodes" => snodes.iter().map(|n| n.name.clone()).collect(),
                _ => snodes
                    .iter()
                    .filter_map(|n| cfg.nodegroups.get(&n.group))
                    .map(|g| {
                        if field == "snodes.group" {
                            g.name.clone()
                        } else {
                            g.uuid.clone()
                        }
                    })
                    .collect(),
            };
            normal(str_list(&vals))
        }
        "hvparams" => normal(Value::Object(params::instance_hvparams(cfg, inst))),
        "beparams" => maybe_nodata(params::instance_beparams(cfg, inst).map(Value::Object)),
        "osparams" => normal(Value::Object(params::instance_osparams(cfg, inst))),
        "custom_hvparams" => normal(Value::Object(params::sorted_deep(&inst.hvparams))),
        "custom_beparams" => normal(Value::Object(params::ordered(
            &inst.beparams,
            params::BE_ORDER,
        ))),
        "custom_osparams" => normal(Value::Object(params::sorted_deep(&inst.osparams))),
        "custom_nicparams" => normal(Value::Array(
            inst.nics
                .iter()
                .map(|n| Value::Object(params::ordered(&n.nicparams, &["mode", "link", "vlan"])))
                .collect(),
        )),
        "disk_usage" | "disk.sizes" | "disk.spindles" | "disk.names" | "disk.uuids"
        | "disk_template" => {
            let Some(ds) = disks(cfg, inst) else {
                return nodata();
            };
            match field {
                "disk_usage" => normal(ds.iter().map(|d| disk_usage(d)).sum::<u64>()),
                "disk.sizes" => normal(json!(ds.iter().map(|d| d.size).collect::<Vec<_>>())),
                "disk.spindles" => normal(json!(ds.iter().map(|d| d.spindles).collect::<Vec<_>>())),
                "disk.names" => {
                    normal(json!(ds.iter().map(|d| d.name.clone()).collect::<Vec<_>>()))
                }
                "disk.uuids" => {
                    normal(json!(ds.iter().map(|d| d.uuid.clone()).collect::<Vec<_>>()))
                }
                _ => {
                    let mut kinds: Vec<&str> = Vec::new();
                    for d in &ds {
                        let t = disk_template_of(d);
                        if !kinds.contains(&t) {
                            kinds.push(t);
                        }
                    }
                    normal(match kinds.as_slice() {
                        [] => "diskless",
                        [one] => one,
                        _ => "mixed",
                    })
                }
            }
        }
        "disk.count" => normal(inst.disks.len()),
        "nic.count" => normal(inst.nics.len()),
        "nic.macs" => normal(json!(inst
            .nics
            .iter()
            .map(|n| n.mac.clone())
            .collect::<Vec<_>>())),
        "nic.ips" => normal(json!(inst
            .nics
            .iter()
            .map(|n| n.ip.clone())
            .collect::<Vec<_>>())),
        "nic.names" => normal(json!(inst
            .nics
            .iter()
            .map(|n| n.name.clone())
            .collect::<Vec<_>>())),
        "nic.uuids" => normal(json!(inst
            .nics
            .iter()
            .map(|n| n.uuid.clone())
            .collect::<Vec<_>>())),
        "nic.networks" => normal(json!(inst
            .nics
            .iter()
            .map(|n| n.network.clone())
            .collect::<Vec<_>>())),
        "nic.networks.names" => normal(json!(inst
            .nics
            .iter()
            .map(|n| n.network.as_deref().and_then(|u| network_name(cfg, u)))
            .collect::<Vec<_>>())),
        "nic.modes" | "nic.links" | "nic.vlans" | "nic.bridges" => normal(Value::Array(
            inst.nics
                .iter()
                .map(|n| {
                    let p = params::nic_params(cfg, &n.nicparams);
                    nic_param_value(&p, field.trim_start_matches("nic.").trim_end_matches('s'))
                        .unwrap_or(Value::Null)
                })
                .collect(),
        )),
        "status" => normal(status(ctx, inst)),
        "oper_state" => match runtime(ctx, inst) {
            Runtime::NodeError { .. } => nodata(),
            Runtime::Found(..) => normal(true),
            Runtime::NotRunning => normal(false),
        },
        "oper_ram" | "oper_vcpus" => match runtime(ctx, inst) {
            Runtime::NodeError { offline } => node_error_cell(offline),
            Runtime::Found(li, _) => {
                if field == "oper_ram" {
                    normal(li.memory)
                } else {
                    normal(li.vcpus)
                }
            }
            Runtime::NotRunning => unavail(),
        },
        "console" => match runtime(ctx, inst) {
            Runtime::NodeError { offline } => node_error_cell(offline),
            _ => maybe_nodata(ctx.live.consoles.get(&inst.uuid).cloned()),
        },
        _ => unknown(),
    }
}

/// `mode`, `link`, `vlan` (only for openvswitch) or `bridge` (the link,
/// only for bridged NICs) of filled NIC parameters.
fn nic_param_value(p: &ganeti_types::Dict, what: &str) -> Option<Value> {
    let mode = p.get("mode").and_then(Value::as_str).unwrap_or("");
    match what {
        "mode" => p.get("mode").cloned(),
        "link" => p.get("link").cloned(),
        "vlan" if mode == "openvswitch" => p.get("vlan").cloned(),
        "bridge" if mode == "bridged" => p.get("link").cloned(),
        _ => None,
    }
}

fn disk_indexed(cfg: &ConfigData, inst: &Instance, field: &str) -> Cell {
    let Some(ds) = disks(cfg, inst) else {
        return nodata();
    };
    let pick = |prefix: &str| split_index(field, prefix).and_then(|i| ds.get(i).copied());
    if field.starts_with("disk.size/") {
        maybe_unavail(pick("disk.size").map(|d| json!(d.size)))
    } else if field.starts_with("disk.spindles/") {
        maybe_unavail(
            pick("disk.spindles")
                .and_then(|d| d.spindles)
                .map(Value::from),
        )
    } else if field.starts_with("disk.name/") {
        maybe_unavail(
            pick("disk.name")
                .and_then(|d| d.name.clone())
                .map(Value::from),
        )
    } else if field.starts_with("disk.uuid/") {
        maybe_unavail(pick("disk.uuid").map(|d| json!(d.uuid)))
    } else {
        unknown()
    }
}

fn nic_indexed(cfg: &ConfigData, inst: &Instance, field: &str) -> Cell {
    let Some((prefix, idx)) = field.rsplit_once('/') else {
        return unknown();
    };
    let Some(nic) = idx.parse::<usize>().ok().and_then(|i| inst.nics.get(i)) else {
        return unavail();
    };
    let v = match prefix {
        "nic.ip" => nic.ip.clone().map(Value::from),
        "nic.uuid" => Some(json!(nic.uuid)),
        "nic.mac" => Some(json!(nic.mac)),
        "nic.name" => nic.name.clone().map(Value::from),
        "nic.network" => nic.network.clone().map(Value::from),
        "nic.network.name" => nic
            .network
            .as_deref()
            .and_then(|u| network_name(cfg, u))
            .map(Value::from),
        "nic.mode" | "nic.link" | "nic.vlan" | "nic.bridge" => {
            nic_param_value(&params::nic_params(cfg, &nic.nicparams), &prefix[4..])
        }
        _ => return unknown(),
    };
    maybe_unavail(v)
}

/// Names of the instances (sorted naturally) matching a predicate.
pub(crate) fn names_where(cfg: &ConfigData, pred: impl Fn(&Instance) -> bool) -> Vec<String> {
    let mut v: Vec<String> = cfg
        .instances
        .values()
        .filter(|i| pred(i))
        .map(|i| i.name.clone())
        .collect();
    nice_sort(&mut v);
    v
}
