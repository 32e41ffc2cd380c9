//! `gnt-network`: IP networks and their connection to node groups.
//!
//! Why: mirrors Ganeti's `gnt_network.py` — `connect`/`disconnect` submit
//! one job per group (all groups when none is named), `info` prints the
//! usage map and reservations exactly as Ganeti lays them out.

use ganeti_clifmt::pystr;
use ganeti_clifmt::table::{Cell, ColumnFormat};
use serde_json::{json, Value};

use super::{jbool, jstr};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::{CliError, GanetiErr};
use crate::jobs::opcode;
use crate::options::*;
use crate::optparse::Opts;
use crate::query::{self, ListRequest, TagKind};

/// Default fields of `gnt-network list`.
pub const LIST_DEF_FIELDS: &[&str] = &[
    "name",
    "network",
    "gateway",
    "mac_prefix",
    "group_list",
    "tags",
];

/// Ganeti's default bridge (`constants.DEFAULT_BRIDGE`).
pub const DEFAULT_BRIDGE: &str = "xen-br0";

/// `_HandleReservedIPs`.
fn reserved_ips(v: Option<String>) -> Value {
    match v {
        None => Value::Null,
        Some(s) if s.is_empty() => json!([]),
        Some(s) => json!(ganeti_clifmt::kv::unescape_and_split(&s, ',')),
    }
}

/// `OP_NETWORK_ADD`.
pub fn build_add(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let Some(network) = opts.str("network") else {
        return Err(GanetiErr::inval("The --network option must be given").into());
    };
    let tags: Vec<String> = opts
        .str("tags")
        .map(|t| t.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    Ok(opcode(
        "OP_NETWORK_ADD",
        vec![
            ("network_name", json!(args[0])),
            ("gateway", jstr(opts, "gateway")),
            ("network", json!(network)),
            ("gateway6", jstr(opts, "gateway6")),
            ("network6", jstr(opts, "network6")),
            ("mac_prefix", jstr(opts, "mac_prefix")),
            (
                "add_reserved_ips",
                reserved_ips(opts.str("add_reserved_ips")),
            ),
            ("conflicts_check", jbool(opts, "conflicts_check")),
            ("tags", json!(tags)),
        ],
    ))
}

fn add(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_add(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `_GetDefaultGroups`: the named groups, or the UUIDs of all groups.
fn default_groups(ctx: &Ctx<'_>, groups: &[String]) -> Result<Vec<String>, CliError> {
    if !groups.is_empty() {
        return Ok(groups.to_vec());
    }
    Ok(ctx
        .query("group", &["uuid"], None)?
        .values()
        .iter()
        .filter_map(|r| r.first().map(pystr::py_str))
        .collect())
}

/// The `OP_NETWORK_CONNECT` for one group.
pub fn build_connect(opts: &Opts, network: &str, group: &str) -> Value {
    let nic = opts.keyval("nicparams").to_json();
    let get = |k: &str, d: &str| {
        nic.get(k)
            .cloned()
            .unwrap_or_else(|| Value::String(d.to_string()))
    };
    opcode(
        "OP_NETWORK_CONNECT",
        vec![
            ("group_name", json!(group)),
            ("network_name", json!(network)),
            ("network_mode", get("mode", "bridged")),
            ("network_link", get("link", DEFAULT_BRIDGE)),
            ("network_vlan", get("vlan", "")),
            ("conflicts_check", jbool(opts, "conflicts_check")),
        ],
    )
}

fn connect(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let network = args[0].clone();
    for group in default_groups(ctx, &args[1..])? {
        ctx.submit_opcode(build_connect(opts, &network, &group), opts)?;
    }
    Ok(0)
}

fn disconnect(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let network = args[0].clone();
    for group in default_groups(ctx, &args[1..])? {
        let op = opcode(
            "OP_NETWORK_DISCONNECT",
            vec![
                ("group_name", json!(group)),
                ("network_name", json!(network)),
            ],
        );
        ctx.submit_opcode(op, opts)?;
    }
    Ok(0)
}

fn group_list_cell(v: &Value) -> Cell {
    let parts: Vec<String> = v
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|g| {
            let items: Vec<String> = g
                .as_array()
                .map(|a| a.iter().map(pystr::py_str).collect())
                .unwrap_or_default();
            let at = |i: usize| items.get(i).cloned().unwrap_or_default();
            format!("{} ({}, {}, {})", at(0), at(1), at(2), at(3))
        })
        .collect();
    Cell::new(parts.join(", "))
}

fn list(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let mut req = ListRequest::from_opts("network", opts, LIST_DEF_FIELDS, args)?;
    req.units = None;
    let overrides = vec![
        ("group_list", ColumnFormat::new(false, group_list_cell)),
        ("inst_list", query::join_override(",")),
        ("tags", query::join_override(",")),
    ];
    query::generic_list(ctx, &req, &overrides)
}

fn list_fields(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    query::generic_list_fields(ctx, "network", &args, opts)
}

/// The fields `gnt-network info` queries (after the name).
pub const INFO_FIELDS: &[&str] = &[
    "network",
    "gateway",
    "network6",
    "gateway6",
    "mac_prefix",
    "free_count",
    "reserved_count",
    "map",
    "group_list",
    "inst_list",
    "external_reservations",
    "serial_no",
    "uuid",
];

/// The `gnt-network info` lines of one network (row: name + [`INFO_FIELDS`]),
/// given the `(nic.ips, nic.networks)` of each instance using it.
pub fn format_network_info(row: &[Value], inst_nics: &[(String, Value, Value)]) -> Vec<String> {
    let g = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
    let s = |i: usize| pystr::py_str(&g(i));
    let free = g(6).as_i64().unwrap_or(0);
    let reserved = g(7).as_i64().unwrap_or(0);
    let size = free + reserved;
    let mut out = vec![
        format!("Network name: {}", s(0)),
        format!("UUID: {}", s(13)),
        format!("Serial number: {}", s(12)),
        format!("  Subnet: {}", s(1)),
        format!("  Gateway: {}", s(2)),
        format!("  IPv6 Subnet: {}", s(3)),
        format!("  IPv6 Gateway: {}", s(4)),
        format!("  Mac Prefix: {}", s(5)),
        format!("  Size: {size}"),
    ];
    #[allow(clippy::cast_precision_loss)]
    let pct = if size > 0 {
        100.0 * free as f64 / size as f64
    } else {
        0.0
    };
    out.push(format!("  Free: {free} ({pct:.2}%)"));
    out.push("  Usage map:".into());
    let map: Vec<char> = s(8).chars().collect();
    let mut idx = 0;
    while idx < map.len() {
        let line: String = map[idx..(idx + 64).min(map.len())].iter().collect();
        out.push(format!("     {:>4} {:<64} {}", idx, line, idx + 63));
        idx += 64;
    }
    out.push("         (X) used    (.) free".into());
    let ext = g(11);
    if pystr::py_truthy(&ext) {
        out.push("  externally reserved IPs:".into());
        for l in crate::textwrap::wrap(&pystr::py_str(&ext), 64) {
            out.push(format!("    {l}"));
        }
    }
    let groups = g(9).as_array().cloned().unwrap_or_default();
    if groups.is_empty() {
        out.push("  not connected to any node group".into());
    } else {
        out.push("  connected to node groups:".into());
        for grp in groups {
            let items: Vec<String> = grp
                .as_array()
                .map(|a| a.iter().map(pystr::py_str).collect())
                .unwrap_or_default();
            let at = |i: usize| items.get(i).cloned().unwrap_or_default();
            out.push(format!(
                "    {} (mode:{} link:{} vlan:{})",
                at(0),
                at(1),
                at(2),
                at(3)
            ));
        }
    }
    let instances = g(10).as_array().cloned().unwrap_or_default();
    if instances.is_empty() {
        out.push("  not used by any instances".into());
    } else {
        out.push(format!("  used by {} instances:", instances.len()));
        let uuid = s(13);
        for name in instances.iter().map(pystr::py_str) {
            let (ips, nets) = inst_nics
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, i, n)| (i.clone(), n.clone()))
                .unwrap_or((Value::Null, Value::Null));
            let ips = ips.as_array().cloned().unwrap_or_default();
            let nets = nets.as_array().cloned().unwrap_or_default();
            let parts: Vec<String> = ips
                .iter()
                .zip(nets.iter())
                .enumerate()
                .filter(|(_, (_, n))| pystr::py_str(n) == uuid)
                .map(|(i, (ip, _))| format!("{i}:{}", pystr::py_str(ip)))
                .collect();
            out.push(format!("    {name}: {}", parts.join(", ")));
        }
    }
    out
}

fn info(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let rows = ctx.query_named("network", INFO_FIELDS, &args)?;
    for row in rows {
        let instances: Vec<String> = row
            .get(10)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(pystr::py_str).collect())
            .unwrap_or_default();
        let mut nics = Vec::new();
        if !instances.is_empty() {
            for r in ctx.query_named("instance", &["nic.ips", "nic.networks"], &instances)? {
                let name = r.first().map(pystr::py_str).unwrap_or_default();
                nics.push((
                    name,
                    r.get(1).cloned().unwrap_or(Value::Null),
                    r.get(2).cloned().unwrap_or(Value::Null),
                ));
            }
        }
        for l in format_network_info(&row, &nics) {
            ctx.outln(&l)?;
        }
    }
    Ok(0)
}

/// `OP_NETWORK_SET_PARAMS`, or `None` when nothing was asked.
pub fn build_modify(opts: &Opts, args: &[String]) -> Option<Value> {
    let changes = vec![
        ("gateway", jstr(opts, "gateway")),
        (
            "add_reserved_ips",
            reserved_ips(opts.str("add_reserved_ips")),
        ),
        (
            "remove_reserved_ips",
            reserved_ips(opts.str("remove_reserved_ips")),
        ),
        ("mac_prefix", jstr(opts, "mac_prefix")),
        ("gateway6", jstr(opts, "gateway6")),
        ("network6", jstr(opts, "network6")),
    ];
    if changes.iter().all(|(_, v)| v.is_null()) {
        return None;
    }
    let mut params = vec![("network_name", json!(args[0]))];
    params.extend(changes);
    Some(opcode("OP_NETWORK_SET_PARAMS", params))
}

fn modify(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let Some(op) = build_modify(opts, &args) else {
        ctx.errln("Please give at least one of the parameters.")?;
        return Ok(1);
    };
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

fn remove(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode(
        "OP_NETWORK_REMOVE",
        vec![
            ("network_name", json!(args[0])),
            ("force", jbool(opts, "force")),
        ],
    );
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

crate::tag_commands!(TagKind::Network);

/// `gnt-network`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-network",
    commands: COMMANDS,
    aliases: &[],
    listing_width: 11,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "add",
        usage: "<network-name>",
        description: "Add a new IP network to the cluster",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &NETWORK, &GATEWAY, &ADD_RESERVED_IPS, &MAC_PREFIX, &NETWORK6, &GATEWAY6, &NO_CONFLICTS_CHECK, &TAG_ADD, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: add,
    },
    CmdDef {
        name: "add-tags",
        usage: "<network> <tag>...",
        description: "Add tags to the given network",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: add_tags,
    },
    CmdDef {
        name: "connect",
        usage: "<network> [<group>...]",
        description: "Map a given network to the specified node group with given mode and link (netparams)",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&NO_CONFLICTS_CHECK, &PRIORITY, &NIC_PARAMETERS],
        env_override: false,
        run: connect,
    },
    CmdDef {
        name: "disconnect",
        usage: "<network> [<group>...]",
        description: "Unmap a given network from a specified node group",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&PRIORITY],
        env_override: false,
        run: disconnect,
    },
    CmdDef {
        name: "info",
        usage: "[<network>...]",
        description: "Show information about the network(s)",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "list",
        usage: "[<network-name>...]",
        description: "Lists the IP networks in the cluster. The available fields can be shown using the \"list-fields\" command (see the man page for details). The default list is (in order): name, network, gateway, mac_prefix, group_list, tags.",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &OUTPUT, &VERBOSE],
        env_override: false,
        run: list,
    },
    CmdDef {
        name: "list-fields",
        usage: "[<fields>...]",
        description: "Lists all available fields for networks",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR],
        env_override: false,
        run: list_fields,
    },
    CmdDef {
        name: "list-tags",
        usage: "<network>",
        description: "List the tags of the given network",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: list_tags,
    },
    CmdDef {
        name: "modify",
        usage: "<network>",
        description: "Alters the parameters of a network",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &SUBMIT, &PRINT_JOBID, &ADD_RESERVED_IPS, &REMOVE_RESERVED_IPS, &GATEWAY, &MAC_PREFIX, &NETWORK6, &GATEWAY6, &PRIORITY],
        env_override: false,
        run: modify,
    },
    CmdDef {
        name: "remove",
        usage: "[--dry-run] <network>",
        description: "Remove an (empty) network from the cluster",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &DRY_RUN, &SUBMIT, &PRINT_JOBID, &PRIORITY],
        env_override: false,
        run: remove,
    },
    CmdDef {
        name: "remove-tags",
        usage: "<network> <tag>...",
        description: "Remove tags from given network",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: remove_tags,
    },
];
