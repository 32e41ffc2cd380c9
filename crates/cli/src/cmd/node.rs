//! `gnt-node`: node listing, information, flags and storage.
//!
//! Why: as Ganeti's `gnt_node.py` — `list` is a generic query with the
//! node default fields, `info` shows the flags and parameters of each
//! node, `modify` sends only the flags the user changed.

use ganeti_clifmt::nested::{format_params_dict_info, Info};
use ganeti_clifmt::pystr;
use ganeti_clifmt::table::{generate_table, TableField};
use ganeti_clifmt::units::Units;
use serde_json::{json, Value};

use super::{flat_to_dict, jbool, jmaybe_bool, jstr};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::CliError;
use crate::jobs::opcode;
use crate::options::*;
use crate::optparse::Opts;
use crate::params;
use crate::query::{self, ListRequest, TagKind};

/// Default fields of `gnt-node list`.
pub const LIST_DEF_FIELDS: &[&str] = &[
    "name",
    "dtotal",
    "dfree",
    "mtotal",
    "mnode",
    "mfree",
    "pinst_cnt",
    "sinst_cnt",
];

/// Default fields of `gnt-node list-storage`.
pub const LIST_STOR_DEF_FIELDS: &[&str] = &[
    "node",
    "type",
    "name",
    "size",
    "used",
    "free",
    "allocatable",
];

/// Default fields of `gnt-node volumes`.
pub const LIST_VOL_DEF_FIELDS: &[&str] = &["node", "phys", "vg", "name", "size", "instance"];

fn list(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let req = ListRequest::from_opts("node", opts, LIST_DEF_FIELDS, args)?;
    let overrides = vec![
        ("pinst_list", query::join_override(",")),
        ("sinst_list", query::join_override(",")),
        ("tags", query::join_override(",")),
    ];
    query::generic_list(ctx, &req, &overrides)
}

fn list_fields(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    query::generic_list_fields(ctx, "node", &args, opts)
}

/// The fields `gnt-node info` queries (after the name).
pub const INFO_FIELDS: &[&str] = &[
    "pip",
    "sip",
    "pinst_list",
    "sinst_list",
    "master_candidate",
    "drained",
    "offline",
    "master_capable",
    "vm_capable",
    "powered",
    "ndparams",
    "custom_ndparams",
];

fn sorted_names(v: &Value) -> Info {
    let mut names: Vec<String> = v
        .as_array()
        .map(|a| a.iter().map(pystr::py_str).collect())
        .unwrap_or_default();
    super::os::nice_sort(&mut names);
    Info::text_list(names)
}

/// `_FormatNodeInfo` of one row (`name` + [`INFO_FIELDS`]).
pub fn format_node_info(row: &[Value]) -> Info {
    let g = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
    let t = |i: usize| Info::text(pystr::py_str(&g(i)));
    let mut info = vec![
        ("Node name", t(0)),
        ("primary ip", t(1)),
        ("secondary ip", t(2)),
        ("master candidate", t(5)),
        ("drained", t(6)),
        ("offline", t(7)),
    ];
    if !g(10).is_null() {
        info.push(("powered", t(10)));
    }
    info.push(("master_capable", t(8)));
    info.push(("vm_capable", t(9)));
    if pystr::py_truthy(&g(9)) {
        info.push(("primary for instances", sorted_names(&g(3))));
        info.push(("secondary for instances", sorted_names(&g(4))));
    }
    info.push(("node parameters", format_params_dict_info(&g(12), &g(11))));
    Info::ordered(info)
}

fn info(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let rows = ctx.query_named("node", INFO_FIELDS, &args)?;
    ctx.print_info(&Info::List(
        rows.iter().map(|r| format_node_info(r)).collect(),
    ))?;
    Ok(0)
}

/// `OP_NODE_SET_PARAMS`, or `None` when nothing was asked.
pub fn build_modify(opts: &Opts, args: &[String]) -> Result<Option<Value>, CliError> {
    let changes = [
        opts.maybe_bool("master_candidate").is_some(),
        opts.maybe_bool("drained").is_some(),
        opts.maybe_bool("offline").is_some(),
        opts.maybe_bool("master_capable").is_some(),
        opts.maybe_bool("vm_capable").is_some(),
        opts.str("secondary_ip").is_some(),
        opts.maybe_keyval("ndparams").is_some(),
    ];
    if !changes.iter().any(|c| *c)
        && opts.ident_kv_list("hv_state").is_empty()
        && opts.ident_kv_list("disk_state").is_empty()
    {
        return Ok(None);
    }
    let ndparams = match opts.maybe_keyval("ndparams") {
        Some(m) => Value::Object(params::force(&m, params::NDS_PARAMETER_TYPES)?),
        None => Value::Null,
    };
    Ok(Some(opcode(
        "OP_NODE_SET_PARAMS",
        vec![
            ("node_name", json!(args[0])),
            ("master_candidate", jmaybe_bool(opts, "master_candidate")),
            ("offline", jmaybe_bool(opts, "offline")),
            ("drained", jmaybe_bool(opts, "drained")),
            ("master_capable", jmaybe_bool(opts, "master_capable")),
            ("vm_capable", jmaybe_bool(opts, "vm_capable")),
            ("secondary_ip", jstr(opts, "secondary_ip")),
            ("force", jbool(opts, "force")),
            ("ndparams", ndparams),
            ("auto_promote", jbool(opts, "auto_promote")),
            ("powered", jmaybe_bool(opts, "node_powered")),
            (
                "hv_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("hv_state"))),
            ),
            (
                "disk_state",
                Value::Object(flat_to_dict(&opts.ident_kv_list("disk_state"))),
            ),
        ],
    )))
}

fn modify(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let Some(op) = build_modify(opts, &args)? else {
        ctx.errln("Please give at least one of the parameters.")?;
        return Ok(1);
    };
    if opts.maybe_bool("offline") == Some(false) && !opts.flag("force") {
        let text = "You are setting this node online manually. If the configuration has changed, this can cause issues such as split brain. To safely bring a node back online, please use --readd instead. If you are confident that the configuration hasn't changed, continue?";
        if !ctx.ask_yes_no(text) {
            return Ok(1);
        }
    }
    let result = ctx.submit_or_send(op, opts)?;
    if pystr::py_truthy(&result) {
        ctx.outln(&format!("Modified node {}", args[0]))?;
        super::instance::print_changes(ctx, &result)?;
    }
    Ok(0)
}

fn remove(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    ctx.submit_opcode(
        opcode("OP_NODE_REMOVE", vec![("node_name", json!(args[0]))]),
        opts,
    )?;
    Ok(0)
}

fn units_of(opts: &Opts) -> Result<Option<Units>, CliError> {
    match opts.str("units") {
        Some(u) => Ok(Some(
            Units::from_code(&u).map_err(|e| CliError::Usage(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

/// Format `GenerateTable` rows for `fields` with the known `headers`.
fn table_lines(
    opts: &Opts,
    fields: &[String],
    headers: &[(&str, &str)],
    unit_fields: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<Vec<String>, CliError> {
    let defs: Vec<TableField> = fields
        .iter()
        .map(|f| {
            let title = headers
                .iter()
                .find(|(k, _)| *k == f.as_str())
                .map(|(_, t)| t.to_string())
                .unwrap_or_else(|| f.clone());
            if unit_fields.contains(&f.as_str()) {
                TableField::unit(title)
            } else {
                TableField::text(title)
            }
        })
        .collect();
    let rows: Vec<Option<Vec<String>>> = rows.into_iter().map(Some).collect();
    let sep = opts.str("separator");
    Ok(generate_table(
        &defs,
        !opts.flag("no_headers"),
        sep.as_deref(),
        &rows,
        units_of(opts)?,
    ))
}

fn list_storage(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let fields = query::parse_fields(opts.str("output"), LIST_STOR_DEF_FIELDS);
    let op = opcode(
        "OP_NODE_QUERY_STORAGE",
        vec![
            ("nodes", json!(args)),
            ("storage_type", jstr(opts, "user_storage_type")),
            ("output_fields", json!(fields)),
        ],
    );
    let output = ctx.submit_opcode(op, opts)?;
    let rows: Vec<Vec<String>> = output
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|row| {
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let v = row.get(i).cloned().unwrap_or(Value::Null);
                    if f == "allocatable" {
                        if pystr::py_truthy(&v) { "Y" } else { "N" }.to_string()
                    } else {
                        pystr::py_str(&v)
                    }
                })
                .collect()
        })
        .collect();
    let headers = [
        ("node", "Node"),
        ("type", "Type"),
        ("name", "Name"),
        ("size", "Size"),
        ("used", "Used"),
        ("free", "Free"),
        ("allocatable", "Allocatable"),
    ];
    for l in table_lines(opts, &fields, &headers, &["size", "used", "free"], rows)? {
        ctx.outln(&l)?;
    }
    Ok(0)
}

fn volumes(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let fields = query::parse_fields(opts.str("output"), LIST_VOL_DEF_FIELDS);
    let op = opcode(
        "OP_NODE_QUERYVOLS",
        vec![("nodes", json!(args)), ("output_fields", json!(fields))],
    );
    let output = ctx.submit_opcode(op, opts)?;
    let rows: Vec<Vec<String>> = output
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|row| {
            (0..fields.len())
                .map(|i| row.get(i).map(pystr::py_str).unwrap_or_default())
                .collect()
        })
        .collect();
    let headers = [
        ("node", "Node"),
        ("phys", "PhysDev"),
        ("vg", "VG"),
        ("name", "Name"),
        ("size", "Size"),
        ("instance", "Instance"),
    ];
    for l in table_lines(opts, &fields, &headers, &["size"], rows)? {
        ctx.outln(&l)?;
    }
    Ok(0)
}

crate::tag_commands!(TagKind::Node);

/// `gnt-node`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-node",
    commands: COMMANDS,
    aliases: &[("show", "info")],
    listing_width: 18,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "add-tags",
        usage: "<node-name> <tag>...",
        description: "Add tags to the given node",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: add_tags,
    },
    CmdDef {
        name: "info",
        usage: "[<node>...]",
        description: "Show information about the node(s)",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "list",
        usage: "[<node-name>...]",
        description: "Lists the nodes in the cluster. The available fields can be shown using the \"list-fields\" command (see the man page for details). The default field list is (in order): name, dtotal, dfree, mtotal, mnode, mfree, pinst_cnt, sinst_cnt.",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &UNITS, &OUTPUT, &VERBOSE, &FILTER],
        env_override: true,
        run: list,
    },
    CmdDef {
        name: "list-fields",
        usage: "[fields...]",
        description: "Lists all available fields for nodes",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR],
        env_override: false,
        run: list_fields,
    },
    CmdDef {
        name: "list-storage",
        usage: "[<node-name>...]",
        description: "List physical volumes on node(s). The available fields are (see the man page for details): node, type, name, size, used, free, allocatable.",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &UNITS, &OUTPUT, &STORAGE_TYPE, &PRIORITY],
        env_override: false,
        run: list_storage,
    },
    CmdDef {
        name: "list-tags",
        usage: "<node-name>",
        description: "List the tags of the given node",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: list_tags,
    },
    CmdDef {
        name: "modify",
        usage: "<node-name>",
        description: "Alters the parameters of a node",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &SUBMIT, &PRINT_JOBID, &MASTER_CANDIDATE, &DRAINED, &NODE_OFFLINE, &MASTER_CAPABLE, &VM_CAPABLE, &SECONDARY_IP, &AUTO_PROMOTE, &DRY_RUN, &PRIORITY, &NODE_PARAMETERS, &NODE_POWERED, &HYPERVISOR_STATE, &DISK_STATE],
        env_override: false,
        run: modify,
    },
    CmdDef {
        name: "remove",
        usage: "<node-name>",
        description: "Removes a node from the cluster",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &PRIORITY],
        env_override: false,
        run: remove,
    },
    CmdDef {
        name: "remove-tags",
        usage: "<node-name> <tag>...",
        description: "Remove tags from the given node",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: remove_tags,
    },
    CmdDef {
        name: "volumes",
        usage: "[<node-name>...]",
        description: "List logical volumes on node(s)",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &UNITS, &OUTPUT, &PRIORITY],
        env_override: false,
        run: volumes,
    },
];
