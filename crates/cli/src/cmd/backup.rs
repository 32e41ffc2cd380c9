//! `gnt-backup`: instance exports — export, import, list, remove.
//!
//! Why shaped like this: Ganeti's `gnt_backup.py` is thin — `list` is the
//! generic query list of the `export` resource filtered by node, `export`
//! and `remove` submit one opcode and print nothing of its result, and
//! `import` is `gnt-instance add`'s opcode in mode `import` (the source,
//! identify-defaults and compression options instead of the OS and start
//! options, the disks and NICs left to the export). The opcodes are built
//! in `build_*` functions without I/O.

use ganeti_clifmt::qfilter;
use serde_json::{json, Value};

use super::instance::build_create;
use super::{jbool, jint, jstr};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::{CliError, GanetiErr};
use crate::jobs::opcode;
use crate::options::*;
use crate::optparse::Opts;
use crate::query::{self, ListRequest};

/// Default fields of `gnt-backup list`.
pub const LIST_DEF_FIELDS: &[&str] = &["node", "export"];

fn list(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let mut req = ListRequest::from_opts("export", opts, LIST_DEF_FIELDS, Vec::new())?;
    req.qfilter = qfilter::make_simple_filter("node", &opts.str_list("nodes"));
    query::generic_list(ctx, &req, &[])
}

fn list_fields(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    query::generic_list_fields(ctx, "export", &args, opts)
}

/// `gnt-backup export`: the `OP_BACKUP_EXPORT` opcode.
pub fn build_export(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let node = opts
        .str("node")
        .ok_or_else(|| GanetiErr::inval("Target node must be specified"))?;
    let per_mib = opts
        .float("zeroing_timeout_per_mib")
        .map_or(Value::Null, |f| json!(f));
    Ok(opcode(
        "OP_BACKUP_EXPORT",
        vec![
            (
                "instance_name",
                json!(args.first().cloned().unwrap_or_default()),
            ),
            ("target_node", json!(node)),
            ("compress", jstr(opts, "transport_compression")),
            ("shutdown", jbool(opts, "shutdown")),
            ("shutdown_timeout", jint(opts, "shutdown_timeout")),
            ("remove_instance", jbool(opts, "remove_instance")),
            (
                "ignore_remove_failures",
                jbool(opts, "ignore_remove_failures"),
            ),
            ("zero_free_space", jbool(opts, "zero_free_space")),
            ("zeroing_timeout_fixed", jint(opts, "zeroing_timeout_fixed")),
            ("zeroing_timeout_per_mib", per_mib),
            ("long_sleep", jbool(opts, "long_sleep")),
        ],
    ))
}

fn export(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_export(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `gnt-backup import`: `OP_INSTANCE_CREATE` in mode `import` (Ganeti's
/// `GenericInstanceCreate`): never started, no OS given (it is the
/// export's), disks and NICs only when given.
pub fn build_import(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let mut op = build_create(opts, args, true)?;
    if let Some(m) = op.as_object_mut() {
        for (k, v) in [
            ("mode", json!("import")),
            ("start", json!(false)),
            ("os_type", Value::Null),
            ("force_variant", json!(false)),
            ("src_node", jstr(opts, "src_node")),
            ("src_path", jstr(opts, "src_dir")),
            ("no_install", Value::Null),
            ("identify_defaults", jbool(opts, "identify_defaults")),
            ("compress", jstr(opts, "compress")),
            ("instance_communication", json!(false)),
        ] {
            m.insert(k.to_string(), v);
        }
    }
    Ok(op)
}

fn import(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_import(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `gnt-backup remove`: the `OP_BACKUP_REMOVE` opcode.
pub fn build_remove(args: &[String]) -> Value {
    opcode(
        "OP_BACKUP_REMOVE",
        vec![(
            "instance_name",
            json!(args.first().cloned().unwrap_or_default()),
        )],
    )
}

fn remove(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    ctx.submit_or_send(build_remove(&args), opts)?;
    Ok(0)
}

/// The `gnt-backup` tool.
#[rustfmt::skip]
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-backup",
    commands: &[
    CmdDef {
        name: "export",
        usage: "-n <node-name> [opts...] <instance-name>",
        description: "Exports an instance to an image",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FORCE, &SINGLE_NODE, &TRANSPORT_COMPRESSION, &NOSHUTDOWN, &SHUTDOWN_TIMEOUT, &REMOVE_INSTANCE, &IGNORE_REMOVE_FAILURES, &DRY_RUN, &PRIORITY, &ZERO_FREE_SPACE, &ZEROING_TIMEOUT_FIXED, &ZEROING_TIMEOUT_PER_MIB, &LONG_SLEEP, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: export,
    },
    CmdDef {
        name: "import",
        usage: "[...] -t disk-type -n node[:secondary-node] <instance-name>",
        description: "Imports an instance from an exported image",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&BACKEND_PARAMETERS, &DISK, &DISK_TEMPLATE, &FILESTORE_DIR, &FILE_DRIVER, &HYPERVISOR_OPT, &IALLOCATOR, &NET, &NODE_PLACEMENT, &NODE_GROUP, &NO_IP_CHECK, &NO_CONFLICTS_CHECK, &NO_NAME_CHECK, &NO_NICS, &NO_WAIT_FOR_SYNC, &OS_PARAMETERS, &OS_PARAMETERS_PRIVATE, &OS_PARAMETERS_SECRET, &OS_SIZE, &OPPORTUNISTIC_LOCKING, &SUBMIT, &PRINT_JOBID, &TAG_ADD, &DRY_RUN, &PRIORITY, &IDENTIFY_DEFAULTS, &SRC_DIR, &SRC_NODE, &COMPRESS, &IGNORE_IPOLICY, &HELPER_STARTUP_TIMEOUT, &HELPER_SHUTDOWN_TIMEOUT],
        env_override: false,
        run: import,
    },
    CmdDef {
        name: "list",
        usage: "",
        description: "Lists instance exports available in the ganeti cluster",
        args: &[],
        options: &[&NODE_LIST, &NO_HEADERS, &SEPARATOR, &UNITS, &OUTPUT, &VERBOSE],
        env_override: false,
        run: list,
    },
    CmdDef {
        name: "list-fields",
        usage: "[fields...]",
        description: "Lists all available fields for exports",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR],
        env_override: false,
        run: list_fields,
    },
    CmdDef {
        name: "remove",
        usage: "<instance-name>",
        description: "Remove exports of named instance from the filesystem.",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&DRY_RUN, &PRIORITY, &SUBMIT, &PRINT_JOBID],
        env_override: false,
        run: remove,
    },
    ],
    aliases: &[],
    listing_width: 11,
};

#[cfg(test)]
#[path = "backup_tests.rs"]
mod tests;
