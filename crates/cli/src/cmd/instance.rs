//! `gnt-instance`: instance creation, life cycle, modification, queries.
//!
//! Why here and shaped like this: each handler mirrors Ganeti's
//! `gnt_instance.py` — the opcode parameters it always sends, the checks
//! it does before submitting (disk/NIC specs, parameter types), the
//! multi-instance selection with its confirmation rule, and the way it
//! prints results — because those are the tool's observable contract.
//! Opcode construction is kept in `build_*` functions without I/O.

use ganeti_clifmt::kv::{IdentKv, IdentValue, KvMap, KvValue};
use ganeti_clifmt::nested::{format_params_dict_info, Entry, Info};
use ganeti_clifmt::{pystr, timefmt, units};
use ganeti_luxi::Method;
use serde_json::{json, Map, Value};

use super::{
    ident_params, jbool, jint, jmaybe_bool, jstr, kv_json, parse_index, split_node_option,
};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::{CliError, GanetiErr};
use crate::jobs::{opcode, JobExecutor};
use crate::options::*;
use crate::optparse::Opts;
use crate::params;
use crate::query::{self, ListRequest, TagKind};

/// Default fields of `gnt-instance list`.
pub const LIST_DEF_FIELDS: &[&str] = &["name", "hypervisor", "os", "pnode", "status", "oper_ram"];

// ---------------------------------------------------------------------------
// add

/// Disks from `--disk`/`-s` as Ganeti's `GenericInstanceCreate` builds them.
pub fn build_disks(opts: &Opts) -> Result<Vec<Value>, CliError> {
    build_disks_for(opts, false)
}

/// [`build_disks`] for a creation (`import` false) or an import, which
/// may leave the disks to the export and cannot adopt.
pub fn build_disks_for(opts: &Opts, import: bool) -> Result<Vec<Value>, CliError> {
    let disk_opts = opts.ident_kv_list("disks");
    let sd_size = opts.unit("sd_size");
    let template = opts.str("disk_template");
    if template.as_deref() == Some("diskless") {
        if !disk_opts.is_empty() || sd_size.is_some() {
            return Err(GanetiErr::inval("Diskless instance but disk information passed").into());
        }
        return Ok(Vec::new());
    }
    if disk_opts.is_empty() && sd_size.unwrap_or(0) == 0 && !import {
        return Err(GanetiErr::inval("No disk information specified").into());
    }
    if !disk_opts.is_empty() && sd_size.is_some() {
        return Err(GanetiErr::inval("Please use either the '--disk' or '-s' option").into());
    }
    let items: Vec<(i64, KvMap)> = if let Some(size) = sd_size {
        let mut m = KvMap::new();
        m.insert("size", KvValue::Str(size.to_string()));
        vec![(0, m)]
    } else {
        let mut items = Vec::new();
        for d in &disk_opts {
            let idx = parse_index(&d.ident)
                .map_err(|e| GanetiErr::inval(format!("Invalid disk index passed: {e}")))?;
            items.push((idx, ident_params(d, "disk", idx)?));
        }
        items
    };
    let disk_max = items.iter().map(|(i, _)| i + 1).max().unwrap_or(0).max(0);
    let mut disks: Vec<Value> = vec![json!({}); usize::try_from(disk_max).unwrap_or(0)];
    for (idx, params) in items {
        let mut d = Map::new();
        if params.contains_key("size") {
            if params.contains_key("adopt") {
                return Err(GanetiErr::inval(format!(
                    "Only one of 'size' and 'adopt' allowed (disk {idx})"
                ))
                .into());
            }
        } else if params.contains_key("adopt") {
            if params.contains_key("spindles") {
                return Err(GanetiErr::inval(
                    "spindles is not a valid option when adopting a disk",
                )
                .into());
            }
            if import {
                return Err(
                    GanetiErr::inval("Disk adoption not allowed for instance import").into(),
                );
            }
        } else {
            return Err(GanetiErr::inval(format!(
                "Missing size or adoption source for disk {idx}"
            ))
            .into());
        }
        for (k, v) in params.iter() {
            d.insert(k.to_string(), v.to_json());
        }
        if let Some(size) = params.get("size") {
            let mib = units::parse_unit(&size.py_str())
                .map_err(|e| CliError::Ganeti(GanetiErr::new("UnitParseError", e.to_string())))?;
            d.insert("size".into(), json!(mib));
        } else {
            d.insert("size".into(), json!(0));
        }
        if let Some(sp) = params.get("spindles") {
            let n = parse_index(&sp.py_str()).map_err(GanetiErr::inval)?;
            d.insert("spindles".into(), json!(n));
        }
        if let Ok(i) = usize::try_from(idx) {
            if i < disks.len() {
                disks[i] = Value::Object(d);
            }
        }
    }
    Ok(disks)
}

/// NICs from `--net`/`--no-nics` (`ParseNicOption`).
pub fn build_nics(opts: &Opts) -> Result<Vec<Value>, CliError> {
    build_nics_for(opts, false)
}

/// [`build_nics`] for a creation or an import (no NIC by default: the
/// export's NICs are used).
pub fn build_nics_for(opts: &Opts, import: bool) -> Result<Vec<Value>, CliError> {
    let nic_opts = opts.ident_kv_list("nics");
    if nic_opts.is_empty() {
        if opts.flag("no_nics") || import {
            return Ok(Vec::new());
        }
        return Ok(vec![json!({})]);
    }
    let mut items = Vec::new();
    for n in &nic_opts {
        let idx = parse_index(&n.ident)
            .map_err(|e| GanetiErr::inval(format!("Invalid NIC index passed: {e}")))?;
        items.push((idx, ident_params(n, "nic", idx)?));
    }
    let nic_max = items.iter().map(|(i, _)| i + 1).max().unwrap_or(0).max(0);
    let mut nics: Vec<Value> = vec![json!({}); usize::try_from(nic_max).unwrap_or(0)];
    for (idx, p) in items {
        let typed = params::force(&p, params::INIC_PARAMS_TYPES)?;
        if let Ok(i) = usize::try_from(idx) {
            if i < nics.len() {
                nics[i] = Value::Object(typed);
            }
        }
    }
    Ok(nics)
}

/// `-H hv:k=v`: the hypervisor and its typed parameters.
fn hypervisor_option(opts: &Opts) -> Result<(Value, Value), CliError> {
    match opts.ident_kv("hypervisor") {
        Some(IdentKv { ident, value }) => {
            let hvp = match value {
                IdentValue::Params(m) => {
                    let mut t = params::force(&m, params::HVS_PARAMETER_TYPES)?;
                    params::fix_hv_params(&mut t);
                    t
                }
                _ => Map::new(),
            };
            Ok((json!(ident), Value::Object(hvp)))
        }
        None => Ok((Value::Null, json!({}))),
    }
}

/// `gnt-instance add`: the `OP_INSTANCE_CREATE` opcode.
pub fn build_add(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    build_create(opts, args, false)
}

/// The `OP_INSTANCE_CREATE` of `add` (`import` false) or of
/// `gnt-backup import`, whose disks and NICs may come from the export;
/// the caller sets the mode-specific parameters.
pub fn build_create(opts: &Opts, args: &[String], import: bool) -> Result<Value, CliError> {
    let name = args.first().cloned().unwrap_or_default();
    let forthcoming = opts.flag("forthcoming");
    let commit = opts.flag("commit");
    if forthcoming && commit {
        return Err(GanetiErr::inval(
            "Creating an instance only forthcoming and commiting it are mutally exclusive",
        )
        .into());
    }
    let (pnode, snode) = split_node_option(opts.str("node"));
    let (hypervisor, hvparams) = hypervisor_option(opts)?;
    let nics = build_nics_for(opts, import)?;
    let disks = build_disks_for(opts, import)?;
    let tags: Vec<String> = opts
        .str("tags")
        .map(|t| t.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let beparams = params::force(&opts.keyval("beparams"), params::BES_PARAMETER_COMPAT)?;
    Ok(opcode(
        "OP_INSTANCE_CREATE",
        vec![
            ("forthcoming", json!(forthcoming)),
            ("commit", json!(commit)),
            ("instance_name", json!(name)),
            ("disks", json!(disks)),
            ("disk_template", jstr(opts, "disk_template")),
            ("group_name", jstr(opts, "nodegroup")),
            ("nics", json!(nics)),
            ("conflicts_check", jbool(opts, "conflicts_check")),
            ("pnode", json!(pnode)),
            ("snode", json!(snode)),
            ("ip_check", jbool(opts, "ip_check")),
            ("name_check", jbool(opts, "name_check")),
            ("wait_for_sync", jbool(opts, "wait_for_sync")),
            ("file_storage_dir", jstr(opts, "file_storage_dir")),
            ("file_driver", jstr(opts, "file_driver")),
            ("iallocator", jstr(opts, "iallocator")),
            ("hypervisor", hypervisor),
            ("hvparams", hvparams),
            ("beparams", Value::Object(beparams)),
            ("osparams", kv_json(&opts.keyval("osparams"))),
            (
                "osparams_private",
                kv_json(&opts.keyval("osparams_private")),
            ),
            ("osparams_secret", kv_json(&opts.keyval("osparams_secret"))),
            ("mode", json!("create")),
            (
                "opportunistic_locking",
                jbool(opts, "opportunistic_locking"),
            ),
            ("start", jbool(opts, "start")),
            ("os_type", jstr(opts, "os")),
            ("force_variant", jbool(opts, "force_variant")),
            ("compress", json!("none")),
            ("tags", json!(tags)),
            ("no_install", jbool(opts, "no_install")),
            ("identify_defaults", json!(false)),
            ("ignore_ipolicy", jbool(opts, "ignore_ipolicy")),
            (
                "instance_communication",
                json!(opts.maybe_bool("instance_communication").unwrap_or(false)),
            ),
            (
                "helper_startup_timeout",
                jint(opts, "helper_startup_timeout"),
            ),
            (
                "helper_shutdown_timeout",
                jint(opts, "helper_shutdown_timeout"),
            ),
        ],
    ))
}

fn add(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_add(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

// ---------------------------------------------------------------------------
// multi-instance operations

/// The selection modes of `--node`, `--primary`, `--all`, `--tags`, ...
pub mod modes {
    /// All instances.
    pub const CLUSTER: &str = "cluster";
    /// Instances on the named nodes (primary or secondary).
    pub const NODES_BOTH: &str = "nodes";
    /// Instances with the named nodes as primary.
    pub const NODES_PRI: &str = "nodes-pri";
    /// Instances with the named nodes as secondary.
    pub const NODES_SEC: &str = "nodes-sec";
    /// Instances on nodes with the named tags.
    pub const NODES_BOTH_BY_TAGS: &str = "nodes-by-tags";
    /// Primary instances of nodes with the named tags.
    pub const NODES_PRI_BY_TAGS: &str = "nodes-pri-by-tags";
    /// Secondary instances of nodes with the named tags.
    pub const NODES_SEC_BY_TAGS: &str = "nodes-sec-by-tags";
    /// The named instances (default).
    pub const INSTANCES: &str = "instances";
    /// Instances with the named tags.
    pub const INSTANCES_BY_TAGS: &str = "instances-by-tags";
}

fn str_items(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(pystr::py_str).collect())
        .unwrap_or_default()
}

fn has_any_tag(v: &Value, tags: &[String]) -> bool {
    str_items(v).iter().any(|t| tags.contains(t))
}

/// Ganeti's `_ExpandMultiNames`: the instance names a selection means.
pub fn expand_multi_names(
    ctx: &Ctx<'_>,
    mode: &str,
    names: &[String],
) -> Result<Vec<String>, CliError> {
    use modes::*;
    let first_names = |rows: Vec<Vec<Value>>| -> Vec<String> {
        rows.iter()
            .filter_map(|r| r.first().map(pystr::py_str))
            .collect()
    };
    match mode {
        CLUSTER => {
            if !names.is_empty() {
                return Err(GanetiErr::inval("Cluster filter mode takes no arguments").into());
            }
            Ok(first_names(
                ctx.query("instance", &["name"], None)?.values(),
            ))
        }
        NODES_BOTH | NODES_PRI | NODES_SEC | NODES_BOTH_BY_TAGS | NODES_PRI_BY_TAGS
        | NODES_SEC_BY_TAGS => {
            let by_tags = mode.ends_with("by-tags");
            let rows = if by_tags {
                if names.is_empty() {
                    return Err(GanetiErr::inval("No node tags passed").into());
                }
                ctx.query("node", &["name", "pinst_list", "sinst_list", "tags"], None)?
                    .values()
                    .into_iter()
                    .filter(|r| r.get(3).is_some_and(|t| has_any_tag(t, names)))
                    .collect()
            } else {
                if names.is_empty() {
                    return Err(GanetiErr::inval("No node names passed").into());
                }
                ctx.query_named("node", &["pinst_list", "sinst_list"], names)?
            };
            let pri: Vec<String> = rows.iter().flat_map(|r| str_items(&r[1])).collect();
            let sec: Vec<String> = rows.iter().flat_map(|r| str_items(&r[2])).collect();
            Ok(match mode {
                NODES_BOTH | NODES_BOTH_BY_TAGS => pri.into_iter().chain(sec).collect(),
                NODES_PRI | NODES_PRI_BY_TAGS => pri,
                _ => sec,
            })
        }
        INSTANCES => {
            if names.is_empty() {
                return Err(GanetiErr::inval("No instance names passed").into());
            }
            Ok(first_names(ctx.query_named("instance", &[], names)?))
        }
        INSTANCES_BY_TAGS => {
            if names.is_empty() {
                return Err(GanetiErr::inval("No instance tags passed").into());
            }
            Ok(ctx
                .query("instance", &["name", "tags"], None)?
                .values()
                .into_iter()
                .filter(|r| r.get(1).is_some_and(|t| has_any_tag(t, names)))
                .filter_map(|r| r.first().map(pystr::py_str))
                .collect())
        }
        other => Err(GanetiErr::inval(format!("Unknown mode '{other}'")).into()),
    }
}

/// Ganeti's `ConfirmOperation`.
pub fn confirm_operation(
    ctx: &mut Ctx<'_>,
    names: &[String],
    list_type: &str,
    text: &str,
    extra: &str,
) -> bool {
    let count = names.len();
    let msg =
        format!("The {text} will operate on {count} {list_type}.\n{extra}Do you want to continue?");
    let affected = format!(
        "\nAffected {list_type}:\n{}",
        names
            .iter()
            .map(|n| format!("  {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let yes = format!("Yes, execute the {text}");
    let no = format!("No, abort the {text}");
    let view = format!("View the list of affected {list_type}");
    if count > 20 {
        let choice = ctx.ask_user(&msg, &[("y", &yes), ("v", &view), ("n", &no)]);
        if choice.as_deref() == Some("v") {
            return ctx
                .ask_user(&format!("{msg}{affected}"), &[("y", &yes), ("n", &no)])
                .as_deref()
                == Some("y");
        }
        return choice.as_deref() == Some("y");
    }
    ctx.ask_user(&format!("{msg}{affected}"), &[("y", &yes), ("n", &no)])
        .as_deref()
        == Some("y")
}

/// `OP_INSTANCE_STARTUP` for one instance.
pub fn build_startup(name: &str, opts: &Opts) -> Result<Value, CliError> {
    let mut params = vec![
        ("instance_name", json!(name)),
        ("force", jbool(opts, "force")),
        ("ignore_offline_nodes", jbool(opts, "ignore_offline")),
        ("no_remember", jbool(opts, "no_remember")),
        ("startup_paused", jbool(opts, "startup_paused")),
    ];
    let hv = opts.keyval("hvparams");
    if !hv.is_empty() {
        params.push(("hvparams", kv_json(&hv)));
    }
    let be = opts.keyval("beparams");
    if !be.is_empty() {
        params.push(("beparams", kv_json(&be)));
    }
    Ok(opcode("OP_INSTANCE_STARTUP", params))
}

/// `OP_INSTANCE_SHUTDOWN` for one instance.
pub fn build_shutdown(name: &str, opts: &Opts) -> Result<Value, CliError> {
    Ok(opcode(
        "OP_INSTANCE_SHUTDOWN",
        vec![
            ("instance_name", json!(name)),
            ("force", jbool(opts, "force")),
            ("timeout", jint(opts, "timeout")),
            ("ignore_offline_nodes", jbool(opts, "ignore_offline")),
            ("no_remember", jbool(opts, "no_remember")),
        ],
    ))
}

/// `OP_INSTANCE_REBOOT` for one instance.
pub fn build_reboot(name: &str, opts: &Opts) -> Result<Value, CliError> {
    Ok(opcode(
        "OP_INSTANCE_REBOOT",
        vec![
            ("instance_name", json!(name)),
            ("reboot_type", jstr(opts, "reboot_type")),
            ("ignore_secondaries", jbool(opts, "ignore_secondaries")),
            ("shutdown_timeout", jint(opts, "shutdown_timeout")),
        ],
    ))
}

type OpBuilder = fn(&str, &Opts) -> Result<Value, CliError>;

/// Ganeti's `GenericManyOps`.
fn many_ops(
    ctx: &mut Ctx<'_>,
    opts: &Opts,
    args: Vec<String>,
    operation: &str,
    build: OpBuilder,
) -> Result<i32, CliError> {
    let mode = opts
        .str("multi_mode")
        .unwrap_or_else(|| modes::INSTANCES.to_string());
    let inames = expand_multi_names(ctx, &mode, &args)?;
    if inames.is_empty() {
        if mode == modes::CLUSTER {
            ctx.outln("Cluster is empty, no instances to shutdown")?;
            return Ok(0);
        }
        return Err(GanetiErr::inval("Selection filter does not match any instances").into());
    }
    let multi_on = mode != modes::INSTANCES || inames.len() > 1;
    if !(opts.flag("force_multi")
        || !multi_on
        || confirm_operation(ctx, &inames, "instances", operation, ""))
    {
        return Ok(1);
    }
    let mut jex = JobExecutor::new(multi_on);
    for name in &inames {
        let op = build(name, opts)?;
        jex.queue_job(ctx, opts, Some(name), vec![op]);
    }
    let results = jex.wait_or_show(ctx, !opts.flag("submit_only"))?;
    Ok(if results.iter().all(|(ok, _)| *ok) {
        0
    } else {
        1
    })
}

fn startup(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    many_ops(ctx, opts, args, "startup", build_startup)
}

fn shutdown(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    many_ops(ctx, opts, args, "shutdown", build_shutdown)
}

fn reboot(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    many_ops(ctx, opts, args, "reboot", build_reboot)
}

// ---------------------------------------------------------------------------
// reinstall, remove, rename

/// `OP_INSTANCE_REINSTALL` for one instance.
pub fn build_reinstall(name: &str, os_name: Option<&str>, opts: &Opts) -> Value {
    opcode(
        "OP_INSTANCE_REINSTALL",
        vec![
            ("instance_name", json!(name)),
            ("os_type", json!(os_name)),
            ("force_variant", jbool(opts, "force_variant")),
            ("osparams", kv_json(&opts.keyval("osparams"))),
            (
                "osparams_private",
                kv_json(&opts.keyval("osparams_private")),
            ),
            ("osparams_secret", kv_json(&opts.keyval("osparams_secret"))),
        ],
    )
}

fn reinstall(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let mode = opts
        .str("multi_mode")
        .unwrap_or_else(|| modes::INSTANCES.to_string());
    let inames = expand_multi_names(ctx, &mode, &args)?;
    if inames.is_empty() {
        return Err(GanetiErr::inval("Selection filter does not match any instances").into());
    }
    let (os_name, os_msg) = if opts.flag("select_os") {
        let op = opcode(
            "OP_OS_DIAGNOSE",
            vec![
                ("output_fields", json!(["name", "variants"])),
                ("names", json!([])),
            ],
        );
        let result = ctx.submit_opcode(op, opts)?;
        let list = result.as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            ctx.outln("Can't get the OS list")?;
            return Ok(1);
        }
        ctx.outln("Available OS templates:")?;
        let mut entries = Vec::new();
        for row in &list {
            let name = row.get(0).map(pystr::py_str).unwrap_or_default();
            let variants = row.get(1).map(str_items).unwrap_or_default();
            if variants.is_empty() {
                entries.push(name);
            } else {
                entries.extend(variants.iter().map(|v| format!("{name}+{v}")));
            }
        }
        let keys: Vec<String> = (0..entries.len()).map(|i| i.to_string()).collect();
        for (k, e) in keys.iter().zip(&entries) {
            ctx.outln(&format!("{k:>3}: {e}"))?;
        }
        let mut choices: Vec<(&str, &str)> = keys
            .iter()
            .zip(&entries)
            .map(|(k, e)| (k.as_str(), e.as_str()))
            .collect();
        choices.push(("x", "Exit gnt-instance reinstall"));
        let selected = ctx.ask_user("Enter OS template number (or x to abort):", &choices);
        let Some(idx) = selected
            .as_deref()
            .and_then(|s| keys.iter().position(|k| k == s))
        else {
            ctx.errln("User aborted reinstall, exiting")?;
            return Ok(1);
        };
        let os = entries[idx].clone();
        let msg = format!("change the OS to '{os}'");
        (Some(os), msg)
    } else {
        match opts.str("os") {
            Some(os) => {
                let msg = format!("change the OS to '{os}'");
                (Some(os), msg)
            }
            None => (None, "keep the same OS".to_string()),
        }
    };
    let multi_on = mode != modes::INSTANCES || inames.len() > 1;
    if multi_on {
        let warn = format!(
            "Note: this will remove *all* data for the below instances! It will {os_msg}.\n"
        );
        if !(opts.flag("force_multi")
            || confirm_operation(ctx, &inames, "instances", "reinstall", &warn))
        {
            return Ok(1);
        }
    } else if !(opts.flag("force") || opts.flag("force_multi")) {
        let text = format!(
            "This will reinstall the instance '{}' (and {os_msg}) which removes all data. Continue?",
            inames[0]
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    let mut jex = JobExecutor::new(multi_on);
    for name in &inames {
        let op = build_reinstall(name, os_name.as_deref(), opts);
        jex.queue_job(ctx, opts, Some(name), vec![op]);
    }
    let results = jex.wait_or_show(ctx, !opts.flag("submit_only"))?;
    Ok(if results.iter().all(|(ok, _)| *ok) {
        0
    } else {
        1
    })
}

/// `_EnsureInstancesExist`.
fn ensure_instances_exist(ctx: &Ctx<'_>, names: &[String]) -> Result<(), CliError> {
    let rows = ctx.query("instance", &["name"], None)?.values();
    for n in names {
        if query::select_named(&rows, std::slice::from_ref(n)).is_empty() {
            return Err(GanetiErr::prereq(
                format!("Instance '{n}' does not exist"),
                "unknown_entity",
            )
            .into());
        }
    }
    Ok(())
}

/// `OP_INSTANCE_REMOVE`.
pub fn build_remove(opts: &Opts, args: &[String]) -> Value {
    opcode(
        "OP_INSTANCE_REMOVE",
        vec![
            ("instance_name", json!(args.first())),
            ("ignore_failures", jbool(opts, "ignore_failures")),
            ("shutdown_timeout", jint(opts, "shutdown_timeout")),
        ],
    )
}

fn remove(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    if !opts.flag("force") {
        ensure_instances_exist(ctx, &args[..1])?;
        let text = format!(
            "This will remove the volumes of the instance {} (including mirrors), thus removing all the data of the instance. Continue?",
            args[0]
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    ctx.submit_or_send(build_remove(opts, &args), opts)?;
    Ok(0)
}

/// `OP_INSTANCE_RENAME`.
pub fn build_rename(opts: &Opts, args: &[String]) -> Value {
    opcode(
        "OP_INSTANCE_RENAME",
        vec![
            ("instance_name", json!(args.first())),
            ("new_name", json!(args.get(1))),
            ("ip_check", jbool(opts, "ip_check")),
            ("name_check", jbool(opts, "name_check")),
        ],
    )
}

fn rename(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    if !opts.flag("force") && !opts.flag("name_check") {
        let text = format!(
            "As you disabled the check of the DNS entry, please verify that '{}' is a FQDN. Continue?",
            args[1]
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    let result = ctx.submit_or_send(build_rename(opts, &args), opts)?;
    if pystr::py_truthy(&result) {
        ctx.outln(&format!(
            "Instance '{}' renamed to '{}'",
            args[0],
            pystr::py_str(&result)
        ))?;
    }
    Ok(0)
}

// ---------------------------------------------------------------------------
// disks

fn activate_disks(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode(
        "OP_INSTANCE_ACTIVATE_DISKS",
        vec![
            ("instance_name", json!(args[0])),
            ("ignore_size", jbool(opts, "ignore_size")),
            ("wait_for_sync", jbool(opts, "wait_for_sync")),
        ],
    );
    let info = ctx.submit_or_send(op, opts)?;
    for row in info.as_array().cloned().unwrap_or_default() {
        let parts: Vec<String> = str_items(&row);
        ctx.outln(&parts.join(":"))?;
    }
    Ok(0)
}

fn deactivate_disks(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = opcode(
        "OP_INSTANCE_DEACTIVATE_DISKS",
        vec![
            ("instance_name", json!(args[0])),
            ("force", jbool(opts, "force")),
        ],
    );
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `OP_INSTANCE_RECREATE_DISKS`.
pub fn build_recreate_disks(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let mut disks = Vec::new();
    for d in opts.ident_kv_list("disks") {
        let idx = parse_index(&d.ident)
            .map_err(|e| GanetiErr::inval(format!("Invalid disk index passed: {e}")))?;
        let p = ident_params(&d, "disk", idx)?;
        let mut m = p.to_json();
        if let Some(size) = p.get("size") {
            let mib = units::parse_unit(&size.py_str())
                .map_err(|e| GanetiErr::inval(format!("Invalid disk size for disk {idx}: {e}")))?;
            m.insert("size".into(), json!(mib));
        }
        if let Some(sp) = p.get("spindles") {
            let n = parse_index(&sp.py_str())
                .map_err(|e| GanetiErr::inval(format!("Invalid spindles for disk {idx}: {e}")))?;
            m.insert("spindles".into(), json!(n));
        }
        disks.push(json!([idx, m]));
    }
    let nodes: Vec<String> = if let Some(node) = opts.str("node") {
        if opts.str("iallocator").is_some() {
            return Err(GanetiErr::inval(
                "At most one of either --nodes or --iallocator can be passed",
            )
            .into());
        }
        let (p, s) = split_node_option(Some(node));
        p.into_iter().chain(s).collect()
    } else {
        Vec::new()
    };
    Ok(opcode(
        "OP_INSTANCE_RECREATE_DISKS",
        vec![
            ("instance_name", json!(args[0])),
            ("disks", json!(disks)),
            ("nodes", json!(nodes)),
            ("iallocator", jstr(opts, "iallocator")),
        ],
    ))
}

fn recreate_disks(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_recreate_disks(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `OP_INSTANCE_GROW_DISK`.
pub fn build_grow_disk(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let disk =
        parse_index(&args[1]).map_err(|e| GanetiErr::inval(format!("Invalid disk index: {e}")))?;
    let amount = units::parse_unit(&args[2])
        .map_err(|_| GanetiErr::inval(format!("Can't parse the given amount '{}'", args[2])))?;
    Ok(opcode(
        "OP_INSTANCE_GROW_DISK",
        vec![
            ("instance_name", json!(args[0])),
            ("disk", json!(disk)),
            ("amount", json!(amount)),
            ("wait_for_sync", jbool(opts, "wait_for_sync")),
            ("absolute", jbool(opts, "absolute")),
            ("ignore_ipolicy", jbool(opts, "ignore_ipolicy")),
        ],
    ))
}

fn grow_disk(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_grow_disk(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `OP_INSTANCE_REPLACE_DISKS`.
pub fn build_replace_disks(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let new_2ndary = opts.str("dst_node");
    let iallocator = opts.str("iallocator");
    let disks: Vec<i64> = match opts.str("disks") {
        None => Vec::new(),
        Some(d) => d
            .split(',')
            .map(parse_index)
            .collect::<Result<_, _>>()
            .map_err(|e| GanetiErr::inval(format!("Invalid disk index passed: {e}")))?,
    };
    let flags = [
        opts.flag("on_primary"),
        opts.flag("on_secondary"),
        opts.flag("auto"),
        new_2ndary.is_some(),
        iallocator.is_some(),
    ];
    if flags.iter().filter(|f| **f).count() != 1 {
        return Err(GanetiErr::inval(
            "One and only one of the -p, -s, -a, -n and -I options must be passed",
        )
        .into());
    }
    let mode = if opts.flag("on_primary") {
        "replace_on_primary"
    } else if opts.flag("on_secondary") {
        "replace_on_secondary"
    } else if opts.flag("auto") {
        if !disks.is_empty() {
            return Err(GanetiErr::inval("Cannot specify disks when using automatic mode").into());
        }
        "replace_auto"
    } else {
        "replace_new_secondary"
    };
    Ok(opcode(
        "OP_INSTANCE_REPLACE_DISKS",
        vec![
            ("instance_name", json!(args[0])),
            ("disks", json!(disks)),
            ("remote_node", json!(new_2ndary)),
            ("mode", json!(mode)),
            ("iallocator", json!(iallocator)),
            ("early_release", jbool(opts, "early_release")),
            ("ignore_ipolicy", jbool(opts, "ignore_ipolicy")),
        ],
    ))
}

fn replace_disks(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_replace_disks(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

// ---------------------------------------------------------------------------
// failover, migrate, move, change-group

/// `-I` and `-n` of failover/migrate: one or the other, not both.
fn allocator_or_target(opts: &Opts) -> Result<(Option<String>, Option<String>), CliError> {
    let iallocator = opts.str("iallocator");
    let target = opts.str("dst_node");
    if iallocator.is_some() && target.is_some() {
        return Err(GanetiErr::inval(
            "Specify either an iallocator (-I), or a target node (-n) but not both",
        )
        .into());
    }
    Ok((iallocator, target))
}

fn failover(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let name = &args[0];
    let (iallocator, target) = allocator_or_target(opts)?;
    if !opts.flag("force") {
        ensure_instances_exist(ctx, std::slice::from_ref(name))?;
        let text = format!(
            "Failover will happen to image {name}. This requires a shutdown of the instance. Continue?"
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    if opts.flag("ignore_consistency") {
        let text = format!(
            "To failover instance {name}, the source node must be marked offline first. Is this already the case?"
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    let op = opcode(
        "OP_INSTANCE_FAILOVER",
        vec![
            ("instance_name", json!(name)),
            ("ignore_consistency", jbool(opts, "ignore_consistency")),
            ("shutdown_timeout", jint(opts, "shutdown_timeout")),
            ("iallocator", json!(iallocator)),
            ("target_node", json!(target)),
            ("ignore_ipolicy", jbool(opts, "ignore_ipolicy")),
            ("cleanup", jbool(opts, "cleanup")),
        ],
    );
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

fn migrate(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let name = &args[0];
    let (iallocator, target) = allocator_or_target(opts)?;
    if !opts.flag("force") {
        ensure_instances_exist(ctx, std::slice::from_ref(name))?;
        let mut text = if opts.flag("cleanup") {
            format!("Instance {name} will be recovered from a failed migration. Note that the migration procedure (including cleanup)")
        } else {
            format!("Instance {name} will be migrated. Note that migration")
        };
        text.push_str(
            " might impact the instance if anything goes wrong (e.g. due to bugs in the hypervisor). Continue?",
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    let live = opts.flag("live");
    let mode = if !live {
        if opts.str("migration_mode").is_some() {
            return Err(GanetiErr::inval(
                "Only one of the --non-live and --migration-mode options can be passed",
            )
            .into());
        }
        json!("non-live")
    } else {
        jstr(opts, "migration_mode")
    };
    let op = opcode(
        "OP_INSTANCE_MIGRATE",
        vec![
            ("instance_name", json!(name)),
            ("mode", mode),
            ("cleanup", jbool(opts, "cleanup")),
            ("iallocator", json!(iallocator)),
            ("target_node", json!(target)),
            ("allow_failover", jbool(opts, "allow_failover")),
            ("allow_runtime_changes", jbool(opts, "allow_runtime_chgs")),
            ("ignore_ipolicy", jbool(opts, "ignore_ipolicy")),
            ("ignore_hvversions", jbool(opts, "ignore_hvversions")),
        ],
    );
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

fn move_(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let name = &args[0];
    if !opts.flag("force") {
        let text = format!(
            "Instance {name} will be moved. This requires a shutdown of the instance. Continue?"
        );
        if !ctx.ask_yes_no(&text) {
            return Ok(1);
        }
    }
    let op = opcode(
        "OP_INSTANCE_MOVE",
        vec![
            ("instance_name", json!(name)),
            ("target_node", jstr(opts, "node")),
            ("compress", jstr(opts, "compress")),
            ("shutdown_timeout", jint(opts, "shutdown_timeout")),
            ("ignore_consistency", jbool(opts, "ignore_consistency")),
            ("ignore_ipolicy", jbool(opts, "ignore_ipolicy")),
        ],
    );
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

fn change_group(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let name = &args[0];
    let to = opts.str_list("to");
    let op = opcode(
        "OP_INSTANCE_CHANGE_GROUP",
        vec![
            ("instance_name", json!(name)),
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
        ],
    );
    let result = ctx.submit_or_send(op, opts)?;
    let mut jex = JobExecutor::new(true);
    jex.add_result_jobs(&result);
    let results = jex.get_results(ctx)?;
    let bad = results.iter().filter(|(ok, _)| !ok).count();
    if bad == 0 {
        ctx.outln(&format!("Instance '{name}' changed group successfully."))?;
        Ok(0)
    } else {
        ctx.outln(&format!(
            "There were {bad} errors while changing group of instance '{name}'."
        ))?;
        Ok(1)
    }
}

// ---------------------------------------------------------------------------
// console

fn console(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let name = &args[0];
    let cluster_name = ctx
        .call(Method::QueryConfigValues, json!([["cluster_name"]]))?
        .get(0)
        .map(pystr::py_str)
        .unwrap_or_default();
    let rows = ctx.query_named(
        "instance",
        &["console", "oper_state"],
        std::slice::from_ref(name),
    )?;
    let Some(row) = rows.first() else {
        return Err(GanetiErr::prereq(
            format!("Instance '{name}' does not exist"),
            "unknown_entity",
        )
        .into());
    };
    let console = row.get(1).cloned().unwrap_or(Value::Null);
    let oper_state = row.get(2).is_some_and(pystr::py_truthy);
    if !pystr::py_truthy(&console) {
        if oper_state {
            return Err(GanetiErr::exec(format!(
                "Console information for instance {name} is unavailable"
            ))
            .into());
        }
        return Err(
            GanetiErr::exec(format!("Instance {name} is not running, can't get console")).into(),
        );
    }
    do_console(ctx, &console, opts.flag("show_command"), &cluster_name)
}

/// Ganeti's `_DoConsole`.
fn do_console(
    ctx: &mut Ctx<'_>,
    console: &Value,
    show_command: bool,
    cluster_name: &str,
) -> Result<i32, CliError> {
    let s = |k: &str| console.get(k).map(pystr::py_str).unwrap_or_default();
    match s("kind").as_str() {
        "msg" | "message" => ctx.outln(&s("message"))?,
        "vnc" => ctx.outln(&format!(
            "Instance {} has VNC listening on {}:{} (display {}), URL <vnc://{}:{}/>",
            s("instance"),
            s("host"),
            s("port"),
            s("display"),
            s("host"),
            s("port")
        ))?,
        "spice" => ctx.outln(&format!(
            "Instance {} has SPICE listening on {}:{}",
            s("instance"),
            s("host"),
            s("port")
        ))?,
        "ssh" => {
            let command = match console.get("command") {
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| shell_quote(&pystr::py_str(x)))
                    .collect::<Vec<_>>()
                    .join(" "),
                Some(other) => pystr::py_str(other),
                None => String::new(),
            };
            let mut argv = vec![
                "ssh".to_string(),
                "-oEscapeChar=none".into(),
                "-oHashKnownHosts=no".into(),
                format!(
                    "-oGlobalKnownHostsFile={}",
                    ctx.paths.data_dir().join("known_hosts").display()
                ),
                "-oUserKnownHostsFile=/dev/null".into(),
                format!("-oHostKeyAlias={cluster_name}"),
                "-oBatchMode=yes".into(),
                "-t".into(),
            ];
            if let Some(port) = console.get("port").filter(|p| !p.is_null()) {
                argv.push("-p".into());
                argv.push(pystr::py_str(port));
            }
            argv.push(format!("{}@{}", s("user"), s("host")));
            argv.push(command);
            let serial = match console.get("command") {
                Some(Value::Array(a)) => {
                    crate::console::serial_socket(&a.iter().map(pystr::py_str).collect::<Vec<_>>())
                }
                _ => None,
            };
            if let (false, Some(path), true) =
                (show_command, &serial, is_this_node(ctx, &s("host")))
            {
                return match crate::console::attach(path) {
                    Ok(()) => Ok(0),
                    Err(e) => Err(GanetiErr::exec(format!(
                        "Connection to console of instance {} failed: {}: {e}",
                        s("instance"),
                        path.display()
                    ))
                    .into()),
                };
            }
            if show_command {
                ctx.outln(
                    &argv
                        .iter()
                        .map(|a| shell_quote(a))
                        .collect::<Vec<_>>()
                        .join(" "),
                )?;
            } else {
                let status = std::process::Command::new(&argv[0])
                    .args(&argv[1..])
                    .status();
                if !status.map(|st| st.success()).unwrap_or(false) {
                    return Err(GanetiErr::exec(format!(
                        "Connection to console of instance {} failed, please check cluster configuration",
                        s("instance")
                    ))
                    .into());
                }
            }
        }
        other => {
            return Err(
                GanetiErr::new("GenericError", format!("Unknown console type '{other}'")).into(),
            )
        }
    }
    Ok(0)
}

/// Whether `node` is the machine this command runs on: the master node,
/// where the gnt-* commands run.
fn is_this_node(ctx: &Ctx<'_>, node: &str) -> bool {
    std::fs::read_to_string(ctx.paths.ssconf("master_node"))
        .map(|m| m.trim() == node)
        .unwrap_or(false)
}

/// `utils.ShellQuote`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%_-+=:,./".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

// ---------------------------------------------------------------------------
// info

fn format_disk_details(dev: &Value) -> Vec<Entry> {
    let dev_type = dev.get("dev_type").and_then(Value::as_str).unwrap_or("");
    let lid = dev.get("logical_id").cloned().unwrap_or(Value::Null);
    if dev_type == "drbd" {
        if let Some(d) = dev.get("drbd_info") {
            let g = |k: &str| d.get(k).map(pystr::py_str).unwrap_or_default();
            return vec![
                Entry::new(
                    "nodeA",
                    Info::text(format!(
                        "{}, minor={}",
                        g("primary_node"),
                        g("primary_minor")
                    )),
                ),
                Entry::new(
                    "nodeB",
                    Info::text(format!(
                        "{}, minor={}",
                        g("secondary_node"),
                        g("secondary_minor")
                    )),
                ),
                Entry::new("port", Info::text(g("port"))),
            ];
        }
    }
    if dev_type == "plain" {
        if let Some([vg, lv]) = lid.as_array().map(Vec::as_slice) {
            return vec![Entry::new(
                "logical_id",
                Info::text(format!("{}/{}", pystr::py_str(vg), pystr::py_str(lv))),
            )];
        }
    }
    vec![Entry::new("logical_id", Info::text(pystr::py_str(&lid)))]
}

fn dev_status(dev_type: &str, status: &Value) -> String {
    let Some(st) = status.as_array().filter(|a| !a.is_empty()) else {
        return "not active".to_string();
    };
    let get = |i: usize| st.get(i).cloned().unwrap_or(Value::Null);
    let num = |v: Value| {
        if v.is_null() {
            "N/A".to_string()
        } else {
            pystr::py_str(&v)
        }
    };
    let mut txt = format!(
        "{} ({}:{})",
        pystr::py_str(&get(0)),
        num(get(1)),
        num(get(2))
    );
    let ldisk = get(6);
    let ldisk = ldisk.as_str().unwrap_or("");
    if dev_type == "drbd" {
        let syncp = get(3);
        let sync_text = if let Some(p) = syncp.as_f64() {
            let mut t = format!("*RECOVERING* {p:5.2}%,");
            let estt = get(4);
            if pystr::py_truthy(&estt) {
                t.push_str(&format!(" ETA {}s", pystr::py_str(&estt)));
            } else {
                t.push_str(" ETA unknown");
            }
            t
        } else {
            "in sync".to_string()
        };
        let degr = if pystr::py_truthy(&get(5)) {
            "*DEGRADED*"
        } else {
            "ok"
        };
        let ltxt = match ldisk {
            "faulty" => " *MISSING DISK*",
            "unknown" => " *UNCERTAIN STATE*",
            _ => "",
        };
        txt.push_str(&format!(" {sync_text}, status {degr}{ltxt}"));
    } else if dev_type == "plain" && ldisk == "faulty" {
        txt.push_str(" *FAILED* (failed drive?)");
    }
    txt
}

fn format_block_dev(idx: usize, top: bool, dev: &Value) -> Info {
    let txt = if top {
        match dev.get("iv_name").filter(|v| !v.is_null()) {
            Some(n) => pystr::py_str(n),
            None => format!("disk {idx}"),
        }
    } else {
        format!("child {idx}")
    };
    let dev_type = dev.get("dev_type").and_then(Value::as_str).unwrap_or("");
    let size = dev.get("size").cloned().unwrap_or(Value::Null);
    let nice_size = match size.as_i64() {
        Some(s) if size.is_i64() || size.is_u64() => units::format_unit_int(s, units::Units::Human),
        _ => pystr::py_str(&size),
    };
    let mut data = vec![Entry::new(
        txt,
        Info::text(format!("{dev_type}, size {nice_size}")),
    )];
    if top {
        if let Some(sp) = dev.get("spindles").filter(|v| !v.is_null()) {
            data.push(Entry::new("spindles", Info::text(pystr::py_str(sp))));
        }
        data.push(Entry::new(
            "access mode",
            Info::text(dev.get("mode").map(pystr::py_str).unwrap_or_default()),
        ));
    }
    if dev.get("logical_id").is_some_and(|l| !l.is_null()) {
        data.extend(format_disk_details(dev));
    }
    if let Some(p) = dev.get("pstatus").filter(|p| pystr::py_truthy(p)) {
        data.push(Entry::new(
            "on primary",
            Info::text(dev_status(dev_type, p)),
        ));
    }
    if let Some(s) = dev.get("sstatus").filter(|s| pystr::py_truthy(s)) {
        data.push(Entry::new(
            "on secondary",
            Info::text(dev_status(dev_type, s)),
        ));
    }
    data.push(Entry::new(
        "name",
        Info::text(
            dev.get("name")
                .map(pystr::py_str)
                .unwrap_or_else(|| "None".into()),
        ),
    ));
    data.push(Entry::new(
        "UUID",
        Info::text(
            dev.get("uuid")
                .map(pystr::py_str)
                .unwrap_or_else(|| "None".into()),
        ),
    ));
    if let Some(children) = dev
        .get("children")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    {
        data.push(Entry::new(
            "child devices",
            Info::List(
                children
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format_block_dev(i, false, c))
                    .collect(),
            ),
        ));
    }
    Info::Ordered(data)
}

fn format_nic(idx: usize, nic: &Value) -> Info {
    let items = nic.as_array().cloned().unwrap_or_default();
    let g = |i: usize| items.get(i).cloned().unwrap_or(Value::Null);
    let network_name = match g(8) {
        Value::Object(m) => m
            .get("name")
            .map(pystr::py_str)
            .unwrap_or_else(|| "None".into()),
        _ => "None".to_string(),
    };
    Info::ordered(vec![
        (format!("nic/{idx}"), Info::text("")),
        ("MAC".into(), Info::text(pystr::py_str(&g(3)))),
        ("IP".into(), Info::text(pystr::py_str(&g(2)))),
        ("mode".into(), Info::text(pystr::py_str(&g(4)))),
        ("link".into(), Info::text(pystr::py_str(&g(5)))),
        ("vlan".into(), Info::text(pystr::py_str(&g(6)))),
        ("network".into(), Info::text(network_name)),
        ("UUID".into(), Info::text(pystr::py_str(&g(1)))),
        ("name".into(), Info::text(pystr::py_str(&g(0)))),
    ])
}

fn vnc_console_info(inst: &Value) -> Option<String> {
    let bind = inst
        .get("hv_actual")
        .and_then(|h| h.get("vnc_bind_address"))
        .map(pystr::py_str)
        .filter(|b| !b.is_empty() && b != "None")?;
    let port = inst
        .get("network_port")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let pnode = inst.get("pnode").map(pystr::py_str).unwrap_or_default();
    let display = port - 5900;
    let is_ipv4 = bind.parse::<std::net::Ipv4Addr>().is_ok();
    let s = if display > 0 && bind == "0.0.0.0" {
        format!("{pnode}:{port} (display {display})")
    } else if display > 0 && is_ipv4 {
        format!("{bind}:{port} (node {pnode}) (display {display})")
    } else {
        format!("{pnode}:{bind}")
    };
    Some(format!("vnc to {s}"))
}

/// Ganeti's `_FormatInstanceInfo` for one `OP_INSTANCE_QUERY_DATA` entry.
pub fn format_instance_info(inst: &Value) -> Info {
    let g = |k: &str| inst.get(k).cloned().unwrap_or(Value::Null);
    let s = |k: &str| pystr::py_str(&g(k));
    let mut istate = format!("configured to be {}", s("config_state"));
    if pystr::py_truthy(&g("run_state")) {
        istate.push_str(&format!(", actual state is {}", s("run_state")));
    }
    let pgroup = format!("{} (UUID {})", s("pnode_group_name"), s("pnode_group_uuid"));
    let snodes = str_items(&g("snodes"));
    let sgnames = str_items(&g("snodes_group_names"));
    let sguuids = str_items(&g("snodes_group_uuids"));
    let secs: Vec<String> = snodes
        .iter()
        .zip(sgnames.iter())
        .zip(sguuids.iter())
        .map(|((n, gn), gu)| format!("{n} (group {gn}, group UUID {gu})"))
        .collect();
    let nodes = Info::List(vec![
        Info::ordered(vec![
            ("primary", Info::text(s("pnode"))),
            ("group", Info::text(pgroup)),
        ]),
        Info::ordered(vec![("secondaries", Info::text(pystr::comma_join(&secs)))]),
    ]);
    let mut info: Vec<(String, Info)> = vec![
        ("Instance name".into(), Info::text(s("name"))),
        ("UUID".into(), Info::text(s("uuid"))),
        ("Serial number".into(), Info::text(s("serial_no"))),
        (
            "Creation time".into(),
            Info::text(timefmt::format_time_value(&g("ctime"))),
        ),
        (
            "Modification time".into(),
            Info::text(timefmt::format_time_value(&g("mtime"))),
        ),
        ("State".into(), Info::text(istate)),
        ("Nodes".into(), nodes),
        ("Operating system".into(), Info::text(s("os"))),
        (
            "Operating system parameters".into(),
            format_params_dict_info(&g("os_instance"), &g("os_actual")),
        ),
    ];
    if inst.get("network_port").is_some() {
        info.push((
            "Allocated network port".into(),
            Info::text(s("network_port")),
        ));
    }
    info.push(("Hypervisor".into(), Info::text(s("hypervisor"))));
    if let Some(c) = vnc_console_info(inst) {
        info.push(("console connection".into(), Info::text(c)));
    }
    let mut be_actual = g("be_actual");
    if let Some(m) = be_actual.as_object_mut() {
        let maxmem = m.get("maxmem").cloned().unwrap_or(Value::Null);
        m.insert("memory".into(), maxmem);
    }
    info.push((
        "Hypervisor parameters".into(),
        format_params_dict_info(&g("hv_instance"), &g("hv_actual")),
    ));
    info.push((
        "Back-end parameters".into(),
        format_params_dict_info(&g("be_instance"), &be_actual),
    ));
    info.push((
        "NICs".into(),
        Info::List(
            g("nics")
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, n)| format_nic(i, n))
                .collect(),
        ),
    ));
    info.push(("Disk template".into(), Info::text(s("disk_template"))));
    info.push((
        "Disks".into(),
        Info::List(
            g("disks")
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(|(i, d)| format_block_dev(i, true, d))
                .collect(),
        ),
    ));
    Info::ordered(info)
}

fn info(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let show_all = opts.flag("show_all");
    if args.is_empty() && !show_all {
        ctx.errln("No instance selected. Please pass in --all if you want to query all instances.\nNote that this can take a long time on a big cluster.")?;
        return Ok(1);
    }
    if !args.is_empty() && show_all {
        ctx.errln("Cannot use --all if you specify instance names.")?;
        return Ok(1);
    }
    let static_ = opts.flag("static");
    let op = opcode(
        "OP_INSTANCE_QUERY_DATA",
        vec![
            ("instances", json!(args)),
            ("static", json!(static_)),
            ("use_locking", json!(!static_)),
        ],
    );
    let result = ctx.submit_opcode(op, opts)?;
    let items: Vec<Value> = match &result {
        Value::Object(m) => m.values().cloned().collect(),
        _ => Vec::new(),
    };
    if items.is_empty() {
        ctx.outln("No instances.")?;
        return Ok(1);
    }
    ctx.print_info(&Info::List(
        items.iter().map(format_instance_info).collect(),
    ))?;
    Ok(0)
}

// ---------------------------------------------------------------------------
// list

/// The column formats `gnt-instance list` overrides.
pub fn list_overrides() -> Vec<(&'static str, ganeti_clifmt::table::ColumnFormat)> {
    [
        "tags",
        "disk.sizes",
        "nic.macs",
        "nic.ips",
        "nic.modes",
        "nic.links",
        "nic.bridges",
        "nic.networks",
        "snodes",
        "snodes.group",
        "snodes.group.uuid",
    ]
    .into_iter()
    .map(|f| (f, query::join_override(",")))
    .collect()
}

fn list(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let req = ListRequest::from_opts("instance", opts, LIST_DEF_FIELDS, args)?;
    query::generic_list(ctx, &req, &list_overrides())
}

fn list_fields(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    query::generic_list_fields(ctx, "instance", &args, opts)
}

// ---------------------------------------------------------------------------
// modify

/// Ganeti's `_ConvertNicDiskModifications`.
pub fn convert_mods(mods: &[IdentKv]) -> Result<Vec<(String, Value, KvMap)>, CliError> {
    let mut out = Vec::new();
    for m in mods {
        let mut params = match &m.value {
            IdentValue::Params(p) => p.clone(),
            _ => KvMap::new(),
        };
        let (action, ident) = match m.ident.as_str() {
            "add" | "attach" | "remove" | "detach" => (m.ident.clone(), json!(-1)),
            _ => {
                let mut action = "modify".to_string();
                let mut count = 0;
                for op in ["add", "attach", "remove", "detach", "modify"] {
                    if params.remove(op).is_some() {
                        count += 1;
                        action = op.to_string();
                    }
                }
                if count > 1 {
                    return Err(GanetiErr::inval(
                        "Cannot do more than one of the following operations at the same time: add, attach, remove, detach, modify",
                    )
                    .into());
                }
                (action, json!(m.ident))
            }
        };
        if (action == "remove" || action == "detach") && !params.is_empty() {
            return Err(GanetiErr::inval("Not accepting parameters on removal/detach").into());
        }
        out.push((action, ident, params));
    }
    Ok(out)
}

/// `_ParseDiskSizes` applied to converted disk modifications, as JSON.
fn disk_mods_json(mods: Vec<(String, Value, KvMap)>) -> Result<Vec<Value>, CliError> {
    let mut out = Vec::new();
    for (action, ident, p) in mods {
        let mut m = p.to_json();
        if let Some(sp) = p.get("spindles") {
            let n = parse_index(&sp.py_str()).map_err(GanetiErr::inval)?;
            m.insert("spindles".into(), json!(n));
        }
        if let Some(size) = p.get("size") {
            let mib = units::parse_unit(&size.py_str())
                .map_err(|e| CliError::Ganeti(GanetiErr::new("UnitParseError", e.to_string())))?;
            m.insert("size".into(), json!(mib));
        } else if action == "add" {
            return Err(GanetiErr::inval("Missing required parameter 'size'").into());
        }
        out.push(json!([action, ident, m]));
    }
    Ok(out)
}

/// The result of checking `modify`'s options: an opcode, or a message and
/// exit code the client prints itself.
#[derive(Debug)]
pub enum ModifyPlan {
    /// Submit this opcode.
    Op(Value),
    /// Print this on stderr and exit with the code.
    Refuse(String, i32),
}

/// `gnt-instance modify`: the `OP_INSTANCE_SET_PARAMS` opcode.
pub fn build_modify(opts: &Opts, args: &[String]) -> Result<ModifyPlan, CliError> {
    let nics_opt = opts.ident_kv_list("nics");
    let disks_opt = opts.ident_kv_list("disks");
    let hv = opts.keyval("hvparams");
    let be = opts.keyval("beparams");
    let anything = !nics_opt.is_empty()
        || !disks_opt.is_empty()
        || opts.str("disk_template").is_some()
        || !hv.is_empty()
        || !be.is_empty()
        || opts.str("os").is_some()
        || !opts.keyval("osparams").is_empty()
        || !opts.keyval("osparams_private").is_empty()
        || opts.flag("offline_inst")
        || opts.flag("online_inst")
        || opts.unit("runtime_mem").is_some()
        || opts.str("new_primary_node").is_some()
        || opts.maybe_bool("instance_communication").is_some();
    if !anything {
        return Ok(ModifyPlan::Refuse(
            "Please give at least one of the parameters.".into(),
            1,
        ));
    }
    let beparams = params::force_allow_default(&be, params::BES_PARAMETER_COMPAT)?;
    let mut hvparams = params::force_allow_default(&hv, params::HVS_PARAMETER_TYPES)?;
    params::fix_hv_params(&mut hvparams);
    let nics: Vec<Value> = convert_mods(&nics_opt)?
        .into_iter()
        .map(|(a, i, p)| json!([a, i, p.to_json()]))
        .collect();
    let disks = disk_mods_json(convert_mods(&disks_opt)?)?;
    let ext = opts.keyval("ext_params");
    if let Some(t) = opts.str("disk_template") {
        if !ext.is_empty() && t != "ext" {
            return Ok(ModifyPlan::Refuse(
                "Specifying ExtStorage parameters requires converting to the 'ext' disk template"
                    .into(),
                1,
            ));
        }
        if ext.is_empty() && t == "ext" {
            return Ok(ModifyPlan::Refuse(
                "Provider option is missing, use either the '--ext-params' or '-e' option".into(),
                1,
            ));
        }
    }
    let file_based = matches!(
        opts.str("disk_template").as_deref(),
        Some("file" | "sharedfile" | "gluster")
    );
    if (opts.str("file_driver").is_some() || opts.str("file_storage_dir").is_some()) && !file_based
    {
        return Ok(ModifyPlan::Refuse(
            "Specifying file-based configuration arguments requires converting to a file-based disk template".into(),
            1,
        ));
    }
    if !ext.is_empty() {
        if !ext.contains_key("provider") {
            return Err(GanetiErr::inval(
                "Missing required parameter 'provider' when converting to an ExtStorage disk template",
            )
            .into());
        }
        const IDISK_PARAMS: &[&str] = &[
            "size", "spindles", "mode", "adopt", "vg", "metavg", "provider", "access", "name",
            "type",
        ];
        for k in ext.keys() {
            if k != "provider" && IDISK_PARAMS.contains(&k) {
                return Err(GanetiErr::inval(format!(
                    "Invalid parameter '{k}' when converting to an ExtStorage template (it is not allowed modifying existing disk parameters)"
                ))
                .into());
            }
        }
    }
    let offline = if opts.flag("offline_inst") {
        json!(true)
    } else if opts.flag("online_inst") {
        json!(false)
    } else {
        Value::Null
    };
    Ok(ModifyPlan::Op(opcode(
        "OP_INSTANCE_SET_PARAMS",
        vec![
            ("instance_name", json!(args.first())),
            ("nics", json!(nics)),
            ("disks", json!(disks)),
            ("hotplug", jbool(opts, "hotplug")),
            ("hotplug_if_possible", jbool(opts, "hotplug_if_possible")),
            ("disk_template", jstr(opts, "disk_template")),
            ("ext_params", kv_json(&ext)),
            ("file_driver", jstr(opts, "file_driver")),
            ("file_storage_dir", jstr(opts, "file_storage_dir")),
            ("remote_node", jstr(opts, "node")),
            ("iallocator", jstr(opts, "iallocator")),
            ("pnode", jstr(opts, "new_primary_node")),
            ("hvparams", Value::Object(hvparams)),
            ("beparams", Value::Object(beparams)),
            (
                "runtime_mem",
                opts.unit("runtime_mem")
                    .map(Value::from)
                    .unwrap_or(Value::Null),
            ),
            ("os_name", jstr(opts, "os")),
            ("osparams", kv_json(&opts.keyval("osparams"))),
            (
                "osparams_private",
                kv_json(&opts.keyval("osparams_private")),
            ),
            ("force_variant", jbool(opts, "force_variant")),
            ("force", jbool(opts, "force")),
            ("wait_for_sync", jbool(opts, "wait_for_sync")),
            ("offline", offline),
            ("conflicts_check", jbool(opts, "conflicts_check")),
            ("ignore_ipolicy", jbool(opts, "ignore_ipolicy")),
            (
                "instance_communication",
                jmaybe_bool(opts, "instance_communication"),
            ),
        ],
    )))
}

/// Print the `(param, value)` change list of a `*_SET_PARAMS` result.
pub fn print_changes(ctx: &mut Ctx<'_>, result: &Value) -> Result<(), CliError> {
    for pair in result.as_array().cloned().unwrap_or_default() {
        if let Some([p, d]) = pair.as_array().map(Vec::as_slice) {
            ctx.outln(&format!(
                " - {:<5} -> {}",
                pystr::py_str(p),
                pystr::py_str(d)
            ))?;
        }
    }
    Ok(())
}

fn modify(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = match build_modify(opts, &args)? {
        ModifyPlan::Op(op) => op,
        ModifyPlan::Refuse(msg, rc) => {
            ctx.errln(&msg)?;
            return Ok(rc);
        }
    };
    let nics_modify = convert_mods(&opts.ident_kv_list("nics"))?
        .iter()
        .any(|(a, _, _)| a == "modify");
    if nics_modify && opts.flag("hotplug") && !opts.flag("force") {
        let text = "You are about to hot-modify a NIC. This will be done by removing the existing NIC and then adding a new one. Network connection might be lost. Continue?";
        if !ctx.ask_yes_no(text) {
            return Ok(1);
        }
    }
    let result = ctx.submit_or_send(op, opts)?;
    if pystr::py_truthy(&result) {
        ctx.outln(&format!("Modified instance {}", args[0]))?;
        print_changes(ctx, &result)?;
        ctx.outln("Please don't forget that most parameters take effect only at the next (re)start of the instance initiated by ganeti; restarting from within the instance will not be enough.")?;
        if !opts.keyval("hvparams").is_empty() {
            ctx.outln("Note that changing hypervisor parameters without performing a restart might lead to a crash while performing a live migration. This will be addressed in future Ganeti versions.")?;
        }
    }
    Ok(0)
}

// ---------------------------------------------------------------------------
// tags

crate::tag_commands!(TagKind::Instance);

// ---------------------------------------------------------------------------
// the table

/// `gnt-instance`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-instance",
    commands: COMMANDS,
    aliases: &[("start", "startup"), ("stop", "shutdown"), ("show", "info")],
    listing_width: 16,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "activate-disks",
        usage: "<instance-name>",
        description: "Activate an instance's disks",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&SUBMIT, &PRINT_JOBID, &IGNORE_SIZE, &PRIORITY, &WAIT_FOR_SYNC],
        env_override: false,
        run: activate_disks,
    },
    CmdDef {
        name: "add",
        usage: "[...] -t disk-type -n node[:secondary-node] -o os-type <instance-name>",
        description: "Creates and adds a new instance to the cluster",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&BACKEND_PARAMETERS, &DISK, &DISK_TEMPLATE, &FILESTORE_DIR, &FILE_DRIVER, &HYPERVISOR_OPT, &IALLOCATOR, &NET, &NODE_PLACEMENT, &NODE_GROUP, &NO_IP_CHECK, &NO_CONFLICTS_CHECK, &NO_NAME_CHECK, &NO_NICS, &NO_WAIT_FOR_SYNC, &OS_PARAMETERS, &OS_PARAMETERS_PRIVATE, &OS_PARAMETERS_SECRET, &OS_SIZE, &OPPORTUNISTIC_LOCKING, &SUBMIT, &PRINT_JOBID, &TAG_ADD, &DRY_RUN, &PRIORITY, &FORTHCOMING, &COMMIT, &NO_START, &OS_TYPE, &FORCE_VARIANT, &NO_INSTALL, &IGNORE_IPOLICY, &COMMUNICATION, &HELPER_STARTUP_TIMEOUT, &HELPER_SHUTDOWN_TIMEOUT],
        env_override: false,
        run: add,
    },
    CmdDef {
        name: "add-tags",
        usage: "<instance-name> <tag>...",
        description: "Add tags to the given instance",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: add_tags,
    },
    CmdDef {
        name: "batch-create",
        usage: "<instances.json>",
        description: "Create a bunch of instances based on specs in the file.",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &PRIORITY, &IALLOCATOR, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: batch::batch_create,
    },
    CmdDef {
        name: "change-group",
        usage: "[-I <iallocator>] [--to <group>] <instance-name>",
        description: "Change group of instance",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&TO, &IALLOCATOR, &EARLY_RELEASE, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: change_group,
    },
    CmdDef {
        name: "console",
        usage: "[--show-cmd] <instance-name>",
        description: "Opens a console on the specified instance",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&SHOW_CMD, &PRIORITY],
        env_override: false,
        run: console,
    },
    CmdDef {
        name: "deactivate-disks",
        usage: "[-f] <instance-name>",
        description: "Deactivate an instance's disks",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &SUBMIT, &PRINT_JOBID, &DRY_RUN, &PRIORITY],
        env_override: false,
        run: deactivate_disks,
    },
    CmdDef {
        name: "failover",
        usage: "[-f] <instance-name>",
        description: "Stops the instance, changes its primary node and (if it was originally running) starts it on the new node (the secondary for mirrored instances or any node for shared storage).",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &IGNORE_CONSISTENCY, &SUBMIT, &PRINT_JOBID, &SHUTDOWN_TIMEOUT, &DRY_RUN, &PRIORITY, &TARGET_NODE, &IALLOCATOR, &IGNORE_IPOLICY, &CLEANUP],
        env_override: false,
        run: failover,
    },
    CmdDef {
        name: "grow-disk",
        usage: "<instance-name> <disk> <size>",
        description: "Grow an instance's disk",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 1, max: Some(1) }],
        options: &[&SUBMIT, &PRINT_JOBID, &NO_WAIT_FOR_SYNC, &DRY_RUN, &PRIORITY, &ABSOLUTE, &IGNORE_IPOLICY],
        env_override: false,
        run: grow_disk,
    },
    CmdDef {
        name: "info",
        usage: "[-s] {--all | <instance-name>...}",
        description: "Show information on the specified instance(s)",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&STATIC, &SHOW_ALL, &ROMAN, &PRIORITY],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "list",
        usage: "[<instance-name>...]",
        description: "Lists the instances and their status. The available fields can be shown using the \"list-fields\" command (see the man page for details). The default field list is (in order): name, hypervisor, os, pnode, status, oper_ram.",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &UNITS, &OUTPUT, &VERBOSE, &FILTER],
        env_override: true,
        run: list,
    },
    CmdDef {
        name: "list-fields",
        usage: "[fields...]",
        description: "Lists all available fields for instances",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR],
        env_override: false,
        run: list_fields,
    },
    CmdDef {
        name: "list-tags",
        usage: "<instance-name>",
        description: "List the tags of the given instance",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: list_tags,
    },
    CmdDef {
        name: "migrate",
        usage: "[-f] <instance-name>",
        description: "Migrate instance to its secondary node (only for mirrored instances)",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &NON_LIVE, &MIGRATION_MODE, &CLEANUP, &DRY_RUN, &PRIORITY, &TARGET_NODE, &IALLOCATOR, &ALLOW_FAILOVER, &IGNORE_IPOLICY, &IGNORE_HVVERSIONS, &NO_RUNTIME_CHANGES, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: migrate,
    },
    CmdDef {
        name: "modify",
        usage: "<instance-name>",
        description: "Alters the parameters of an instance",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&BACKEND_PARAMETERS, &DISK, &FORCE, &HVOPTS, &NET, &SUBMIT, &PRINT_JOBID, &DISK_TEMPLATE, &SINGLE_NODE, &IALLOCATOR, &OS_TYPE, &FORCE_VARIANT, &OS_PARAMETERS, &OS_PARAMETERS_PRIVATE, &DRY_RUN, &PRIORITY, &NO_WAIT_FOR_SYNC, &OFFLINE_INST, &ONLINE, &IGNORE_IPOLICY, &RUNTIME_MEMORY, &NO_CONFLICTS_CHECK, &NEW_PRIMARY, &HOTPLUG, &HOTPLUG_IF_POSSIBLE, &COMMUNICATION, &EXT_PARAMS, &FILE_DRIVER, &FILESTORE_DIR],
        env_override: false,
        run: modify,
    },
    CmdDef {
        name: "move",
        usage: "[-f] <instance-name>",
        description: "Move instance to an arbitrary node (only for instances of type file and lv)",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &SUBMIT, &PRINT_JOBID, &SINGLE_NODE, &COMPRESS, &SHUTDOWN_TIMEOUT, &DRY_RUN, &PRIORITY, &IGNORE_CONSISTENCY, &IGNORE_IPOLICY],
        env_override: false,
        run: move_,
    },
    CmdDef {
        name: "reboot",
        usage: "<instance>",
        description: "Reboots an instance",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&FORCE_MULTIPLE, &TYPE, &IGNORE_SECONDARIES, &M_NODE, &PRIMARY, &SECONDARY, &M_ALL, &INSTANCE, &SUBMIT, &PRINT_JOBID, &NODE_TAGS, &PRI_NODE_TAGS, &SEC_NODE_TAGS, &M_INST_TAGS, &SHUTDOWN_TIMEOUT, &DRY_RUN, &PRIORITY],
        env_override: false,
        run: reboot,
    },
    CmdDef {
        name: "recreate-disks",
        usage: "<instance-name>",
        description: "Recreate an instance's disks",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&SUBMIT, &PRINT_JOBID, &DISK, &NODE_PLACEMENT, &DRY_RUN, &PRIORITY, &IALLOCATOR],
        env_override: false,
        run: recreate_disks,
    },
    CmdDef {
        name: "reinstall",
        usage: "[-f] <instance>",
        description: "Reinstall a stopped instance",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&FORCE, &OS_TYPE, &FORCE_VARIANT, &FORCE_MULTIPLE, &M_NODE, &PRIMARY, &SECONDARY, &M_ALL, &INSTANCE, &NODE_TAGS, &PRI_NODE_TAGS, &SEC_NODE_TAGS, &M_INST_TAGS, &SELECT_OS, &SUBMIT, &PRINT_JOBID, &DRY_RUN, &PRIORITY, &OS_PARAMETERS, &OS_PARAMETERS_PRIVATE, &OS_PARAMETERS_SECRET],
        env_override: false,
        run: reinstall,
    },
    CmdDef {
        name: "remove",
        usage: "[-f] <instance-name>",
        description: "Shuts down the instance and removes it",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &SHUTDOWN_TIMEOUT, &IGNORE_FAILURES, &SUBMIT, &PRINT_JOBID, &DRY_RUN, &PRIORITY],
        env_override: false,
        run: remove,
    },
    CmdDef {
        name: "remove-tags",
        usage: "<instance-name> <tag>...",
        description: "Remove tags from given instance",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 0, max: None }],
        options: &[&FROM, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: remove_tags,
    },
    CmdDef {
        name: "rename",
        usage: "<old-name> <new-name>",
        description: "Rename the instance",
        args: &[ArgSpec { min: 1, max: Some(1) }, ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &NO_IP_CHECK, &NO_NAME_CHECK, &SUBMIT, &PRINT_JOBID, &DRY_RUN, &PRIORITY],
        env_override: false,
        run: rename,
    },
    CmdDef {
        name: "replace-disks",
        usage: "[-s|-p|-a|-n NODE|-I NAME] <instance-name>",
        description: "Replaces disks for the instance",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&AUTO, &DISKS, &IALLOCATOR, &EARLY_RELEASE, &NEW_SECONDARY, &ON_PRIMARY, &ON_SECONDARY, &SUBMIT, &PRINT_JOBID, &DRY_RUN, &PRIORITY, &IGNORE_IPOLICY],
        env_override: false,
        run: replace_disks,
    },
    CmdDef {
        name: "shutdown",
        usage: "<instance>",
        description: "Stops an instance",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&FORCE, &M_NODE, &PRIMARY, &SECONDARY, &M_ALL, &NODE_TAGS, &PRI_NODE_TAGS, &SEC_NODE_TAGS, &M_INST_TAGS, &INSTANCE, &FORCE_MULTIPLE, &TIMEOUT, &SUBMIT, &PRINT_JOBID, &DRY_RUN, &PRIORITY, &IGNORE_OFFLINE, &NO_REMEMBER],
        env_override: false,
        run: shutdown,
    },
    CmdDef {
        name: "startup",
        usage: "<instance>",
        description: "Starts an instance",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&FORCE, &FORCE_MULTIPLE, &M_NODE, &PRIMARY, &SECONDARY, &NODE_TAGS, &PRI_NODE_TAGS, &SEC_NODE_TAGS, &M_INST_TAGS, &M_ALL, &INSTANCE, &SUBMIT, &PRINT_JOBID, &HVOPTS, &BACKEND_PARAMETERS, &DRY_RUN, &PRIORITY, &IGNORE_OFFLINE, &NO_REMEMBER, &PAUSED],
        env_override: false,
        run: startup,
    },
];

#[path = "instance_batch.rs"]
mod batch;

#[cfg(test)]
#[path = "instance_tests.rs"]
mod tests;
