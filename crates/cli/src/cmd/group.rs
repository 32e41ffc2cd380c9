//! `gnt-group`: node groups.
//!
//! Why: groups carry their own node/disk parameters and instance policy;
//! these commands build the same opcodes and print the same `info`/
//! `show-ispecs-cmd` output as Ganeti's `gnt_group.py`.

use ganeti_clifmt::nested::{format_params_dict_info, Info};
use ganeti_clifmt::pystr;
use ganeti_clifmt::table::{Cell, ColumnFormat};
use serde_json::{json, Map, Value};

use super::{flat_to_dict, ident_dict, jbool, jstr};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::CliError;
use crate::info::format_policy_info;
use crate::ipolicy::{create_ipolicy, PolicyMode};
use crate::jobs::{opcode, JobExecutor};
use crate::options::*;
use crate::optparse::Opts;
use crate::params;
use crate::query::{self, ListRequest, TagKind};

/// Default fields of `gnt-group list`.
pub const LIST_DEF_FIELDS: &[&str] = &["name", "node_cnt", "pinst_cnt", "alloc_policy", "ndparams"];

fn ndparams_json(opts: &Opts) -> Result<Value, CliError> {
    Ok(match opts.maybe_keyval("ndparams") {
        Some(m) => Value::Object(params::force(&m, params::NDS_PARAMETER_TYPES)?),
        None => Value::Null,
    })
}

/// `OP_GROUP_ADD`.
pub fn build_add(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let ipolicy = create_ipolicy(
        opts,
        PolicyMode {
            group: true,
            ..Default::default()
        },
    )?;
    Ok(opcode(
        "OP_GROUP_ADD",
        vec![
            ("group_name", json!(args[0])),
            ("ndparams", ndparams_json(opts)?),
            ("alloc_policy", jstr(opts, "alloc_policy")),
            (
                "diskparams",
                Value::Object(ident_dict(
                    &opts.ident_kv_list("diskparams"),
                    Some(params::DISK_DT_TYPES),
                )?),
            ),
            ("ipolicy", Value::Object(ipolicy)),
            (
                "hv_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("hv_state"))),
            ),
            (
                "disk_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("disk_state"))),
            ),
        ],
    ))
}

/// Wait for the jobs an opcode result lists (`base.GetResult`).
pub fn get_result(ctx: &mut Ctx<'_>, result: &Value) -> Result<i32, CliError> {
    let is_job_list = result
        .as_object()
        .is_some_and(|m| m.len() == 1 && m.get("jobs").is_some_and(Value::is_array));
    if !is_job_list {
        return Ok(0);
    }
    let mut jex = JobExecutor::new(true);
    jex.add_result_jobs(result);
    let bad: Vec<Value> = jex
        .get_results(ctx)?
        .into_iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, r)| r)
        .collect();
    if bad.is_empty() {
        return Ok(0);
    }
    for j in &bad {
        ctx.outln(&format!("Job failed, result is '{}'.", pystr::py_str(j)))?;
    }
    ctx.outln(&format!(
        "{} job(s) failed.",
        pystr::py_repr(&Value::Array(bad))
    ))?;
    Ok(1)
}

fn add(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_add(opts, &args)?;
    let r = ctx.submit_or_send(op, opts)?;
    get_result(ctx, &r)
}

fn assign_nodes(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode(
        "OP_GROUP_ASSIGN_NODES",
        vec![
            ("group_name", json!(args[0])),
            ("nodes", json!(args[1..])),
            ("force", jbool(opts, "force")),
        ],
    );
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `_FmtDict`.
fn fmt_dict(v: &Value) -> Cell {
    match v.as_object() {
        Some(m) if !m.is_empty() => Cell::new(
            m.iter()
                .map(|(k, v)| format!("{k}={}", pystr::py_str(v)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => Cell::new("(empty)"),
    }
}

fn list(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let mut req = ListRequest::from_opts("group", opts, LIST_DEF_FIELDS, args)?;
    req.units = None;
    let overrides = vec![
        ("node_list", query::join_override(",")),
        ("pinst_list", query::join_override(",")),
        ("ndparams", ColumnFormat::new(false, fmt_dict)),
    ];
    query::generic_list(ctx, &req, &overrides)
}

fn list_fields(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    query::generic_list_fields(ctx, "group", &args, opts)
}

/// `OP_GROUP_SET_PARAMS`, or `None` when nothing was asked.
pub fn build_modify(opts: &Opts, args: &[String]) -> Result<Option<Value>, CliError> {
    let any = opts.maybe_keyval("ndparams").is_some()
        || opts.str("alloc_policy").is_some()
        || !opts.ident_kv_list("diskparams").is_empty()
        || !opts.ident_kv_list("hv_state").is_empty()
        || !opts.ident_kv_list("disk_state").is_empty()
        || opts.multilist("ipolicy_bounds_specs").is_some()
        || opts.maybe_float("ipolicy_vcpu_ratio").is_some()
        || opts.maybe_float("ipolicy_spindle_ratio").is_some()
        || opts.list("ipolicy_disk_templates").is_some();
    if !any {
        return Ok(None);
    }
    let ipolicy = create_ipolicy(
        opts,
        PolicyMode {
            group: true,
            allow_default: true,
            fill_all: false,
        },
    )?;
    Ok(Some(opcode(
        "OP_GROUP_SET_PARAMS",
        vec![
            ("group_name", json!(args[0])),
            ("ndparams", ndparams_json(opts)?),
            ("alloc_policy", jstr(opts, "alloc_policy")),
            (
                "hv_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("hv_state"))),
            ),
            (
                "disk_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("disk_state"))),
            ),
            (
                "diskparams",
                Value::Object(ident_dict(
                    &opts.ident_kv_list("diskparams"),
                    Some(params::DISK_DT_TYPES),
                )?),
            ),
            ("ipolicy", Value::Object(ipolicy)),
        ],
    )))
}

fn modify(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let Some(op) = build_modify(opts, &args)? else {
        ctx.errln("Please give at least one of the parameters.")?;
        return Ok(1);
    };
    let result = ctx.submit_or_send(op, opts)?;
    if pystr::py_truthy(&result) {
        ctx.outln(&format!("Modified node group {}", args[0]))?;
        super::instance::print_changes(ctx, &result)?;
    }
    Ok(0)
}

fn remove(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    ctx.submit_or_send(
        opcode("OP_GROUP_REMOVE", vec![("group_name", json!(args[0]))]),
        opts,
    )?;
    Ok(0)
}

fn rename(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode(
        "OP_GROUP_RENAME",
        vec![("group_name", json!(args[0])), ("new_name", json!(args[1]))],
    );
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

fn evacuate(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let to = opts.str_list("to");
    let op = opcode(
        "OP_GROUP_EVACUATE",
        vec![
            ("group_name", json!(args[0])),
            ("iallocator", jstr(opts, "iallocator")),
            (
                "target_groups",
                if to.is_empty() {
                    Value::Null
                } else {
                    json!(to)
                },
            ),
            ("early_release", jbool(opts, "early_release")),
            ("sequential", jbool(opts, "sequential")),
            ("force_failover", jbool(opts, "force_failover")),
        ],
    );
    let result = ctx.submit_or_send(op, opts)?;
    let mut jex = JobExecutor::new(true);
    jex.add_result_jobs(&result);
    let bad = jex.get_results(ctx)?.iter().filter(|(ok, _)| !ok).count();
    if bad == 0 {
        ctx.outln("All instances evacuated successfully.")?;
        Ok(0)
    } else {
        ctx.outln(&format!("There were {bad} errors during the evacuation."))?;
        Ok(1)
    }
}

/// The fields `gnt-group info` queries (after the name).
pub const INFO_FIELDS: &[&str] = &[
    "ndparams",
    "custom_ndparams",
    "diskparams",
    "custom_diskparams",
    "ipolicy",
    "custom_ipolicy",
];

/// `_FormatGroupInfo` of one row (`name` + [`INFO_FIELDS`]).
pub fn format_group_info(row: &[Value]) -> Info {
    let g = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
    Info::ordered(vec![
        ("Node group", Info::text(pystr::py_str(&g(0)))),
        ("Node parameters", format_params_dict_info(&g(2), &g(1))),
        ("Disk parameters", format_params_dict_info(&g(4), &g(3))),
        ("Instance policy", format_policy_info(&g(6), &g(5), false)),
    ])
}

fn info(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let rows = ctx.query_named("group", INFO_FIELDS, &args)?;
    ctx.print_info(&Info::List(
        rows.iter().map(|r| format_group_info(r)).collect(),
    ))?;
    Ok(0)
}

fn spec_params(specs: &Map<String, Value>) -> String {
    let mut items: Vec<(&String, &Value)> = specs.iter().collect();
    items.sort_by(|a, b| a.0.cmp(b.0));
    items
        .iter()
        .map(|(k, v)| format!("{k}={}", pystr::py_str(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// Ganeti's `PrintIPolicyCommand`.
pub fn ipolicy_command(ipolicy: &Value, isgroup: bool) -> String {
    let mut buf = String::new();
    if !isgroup {
        if let Some(std) = ipolicy
            .get("std")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
        {
            buf.push_str(" --ipolicy-std-specs ");
            buf.push_str(&spec_params(std));
        }
    }
    let mut first = true;
    for mm in ipolicy
        .get("minmax")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let min = mm
            .get("min")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty());
        let max = mm
            .get("max")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty());
        if let (Some(min), Some(max)) = (min, max) {
            if first {
                buf.push_str(" --ipolicy-bounds-specs ");
                first = false;
            } else {
                buf.push_str("//");
            }
            buf.push_str("min:");
            buf.push_str(&spec_params(min));
            buf.push_str("/max:");
            buf.push_str(&spec_params(max));
        }
    }
    buf
}

fn show_ispecs_cmd(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let field = if opts.flag("include_defaults") {
        "ipolicy"
    } else {
        "custom_ipolicy"
    };
    for row in ctx.query_named("group", &[field], &args)? {
        let name = row.first().map(pystr::py_str).unwrap_or_default();
        let ipol = row.get(1).cloned().unwrap_or(Value::Null);
        ctx.outln(&format!(
            "gnt-group add{} {name}",
            ipolicy_command(&ipol, true)
        ))?;
    }
    Ok(0)
}

crate::tag_commands!(TagKind::NodeGroup);

/// `gnt-group`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-group",
    commands: COMMANDS,
    aliases: &[],
    listing_width: 15,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "add",
        usage: "<group-name>",
        description: "Add a new node group to the cluster",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &ALLOC_POLICY, &NODE_PARAMETERS, &DISK_PARAMETERS, &HYPERVISOR_STATE, &DISK_STATE, &PRIORITY, &SUBMIT, &PRINT_JOBID, &IPOLICY_BOUNDS_SPECS, &IPOLICY_DISK_TEMPLATES, &IPOLICY_VCPU_RATIO, &IPOLICY_SPINDLE_RATIO],
        env_override: false,
        run: add,
    },
    CmdDef {
        name: "add-tags",
        usage: "<group> <tag>...",
        description: "Add tags to the given group",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: add_tags,
    },
    CmdDef {
        name: "assign-nodes",
        usage: "<group-name> <node-name>...",
        description: "Assign nodes to a group",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&DRY_RUN, &FORCE, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: assign_nodes,
    },
    CmdDef {
        name: "evacuate",
        usage: "[-I <iallocator>] [--to <group>] <source-group>",
        description: "Evacuate all instances within a group",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&TO, &IALLOCATOR, &EARLY_RELEASE, &SEQUENTIAL, &FORCE_FAILOVER, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: evacuate,
    },
    CmdDef {
        name: "info",
        usage: "[<group>...]",
        description: "Show group information",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "list",
        usage: "[<group-name>...]",
        description: "Lists the node groups in the cluster. The available fields can be shown using the \"list-fields\" command (see the man page for details). The default list is (in order): name, node_cnt, pinst_cnt, alloc_policy, ndparams.",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &OUTPUT, &VERBOSE, &FILTER],
        env_override: true,
        run: list,
    },
    CmdDef {
        name: "list-fields",
        usage: "[fields...]",
        description: "Lists all available fields for node groups",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR],
        env_override: false,
        run: list_fields,
    },
    CmdDef {
        name: "list-tags",
        usage: "<group>",
        description: "List the tags of the given group",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: list_tags,
    },
    CmdDef {
        name: "modify",
        usage: "<group>",
        description: "Alters the parameters of a node group",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &SUBMIT, &PRINT_JOBID, &ALLOC_POLICY, &NODE_PARAMETERS, &HYPERVISOR_STATE, &DISK_STATE, &DISK_PARAMETERS, &PRIORITY, &IPOLICY_BOUNDS_SPECS, &IPOLICY_DISK_TEMPLATES, &IPOLICY_VCPU_RATIO, &IPOLICY_SPINDLE_RATIO],
        env_override: false,
        run: modify,
    },
    CmdDef {
        name: "remove",
        usage: "[--dry-run] <group>",
        description: "Remove an (empty) node group from the cluster",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: remove,
    },
    CmdDef {
        name: "remove-tags",
        usage: "<group> <tag>...",
        description: "Remove tags from the given group",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: remove_tags,
    },
    CmdDef {
        name: "rename",
        usage: "[--dry-run] <old-name> <new-name>",
        description: "Rename a node group",
        args: &[ArgSpec { min: 2, max: Some(2) }],
        options: &[&DRY_RUN, &SUBMIT, &PRINT_JOBID, &PRIORITY],
        env_override: false,
        run: rename,
    },
    CmdDef {
        name: "show-ispecs-cmd",
        usage: "[--include-defaults] [<group>...]",
        description: "Show the command line to re-create a group",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&INCLUDE_DEFAULTS],
        env_override: false,
        run: show_ispecs_cmd,
    },
];
