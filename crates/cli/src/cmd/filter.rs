//! `gnt-filter`: the job filter rules (add, replace, delete, list, info).
//!
//! Why: mirrors Ganeti's `gnt_filter.py`. Filter rules are not opcodes:
//! they are changed by direct LUXI calls (`ReplaceFilter`,
//! `DeleteFilter`) so that a queue held up by a rule can always be
//! released. The client only passes the options on; the master validates
//! them and its refusals are printed as Ganeti prints them.

use ganeti_clifmt::pystr;
use ganeti_luxi::Method;
use serde_json::{json, Value};

use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::CliError;
use crate::options::*;
use crate::optparse::{Action, Dflt, Kind, OptDef, OptValue, Opts};
use crate::query::{self, ListRequest};

/// Default fields of `gnt-filter list` (and what `info` shows).
pub const LIST_DEF_FIELDS: &[&str] = &[
    "uuid",
    "watermark",
    "priority",
    "predicates",
    "action",
    "reason_trail",
];

/// `--priority` of a filter rule (not the job priority option).
pub static FILTER_PRIORITY: OptDef = OptDef {
    flags: &["--priority"],
    dest: "priority",
    action: Action::Store,
    kind: Kind::Int,
    metavar: None,
    help: "Priority for filter processing",
    choices: &[],
    default: Dflt::Int(0),
};

/// `--predicates`: a JSON list.
pub static FILTER_PREDICATES: OptDef = OptDef {
    flags: &["--predicates"],
    dest: "predicates",
    action: Action::Store,
    kind: Kind::Json,
    metavar: None,
    help: "List of predicates in the Ganeti query language, given as a JSON list.",
    choices: &[],
    default: Dflt::EmptyList,
};

/// `--action`: a name, or `RATE_LIMIT n`.
pub static FILTER_ACTION: OptDef = OptDef {
    flags: &["--action"],
    dest: "action",
    action: Action::Store,
    kind: Kind::Str,
    metavar: None,
    help: "The effect of the filter. Can be one of 'ACCEPT', 'PAUSE', 'REJECT', 'CONTINUE' and '[RATE_LIMIT, n]', where n is a positive integer.",
    choices: &[],
    default: Dflt::Str("CONTINUE"),
};

/// Ganeti's `check_filteraction`: text starting with `RATE_LIMIT`,
/// whitespace and digits becomes `["RATE_LIMIT", n]`; any other text is
/// passed on as it is (the master judges it).
pub fn parse_action(text: &str) -> Value {
    let rate = text.strip_prefix("RATE_LIMIT").and_then(|rest| {
        let digits = rest.trim_start();
        if digits.len() == rest.len() {
            return None;
        }
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        digits[..end].parse::<u64>().ok()
    });
    match rate {
        Some(n) => json!(["RATE_LIMIT", n]),
        None => json!(text),
    }
}

/// The arguments of `ReplaceFilter` for `add` (`uuid` = `None`) and
/// `replace`.
pub fn replace_args(ctx: &Ctx<'_>, opts: &Opts, uuid: Option<&str>) -> Value {
    let reason = match opts.str("reason") {
        Some(r) => json!([["gnt:user", r, ctx.env.now_ns()]]),
        None => json!([]),
    };
    let predicates = match opts.get("predicates") {
        Some(OptValue::Json(v)) => v.clone(),
        _ => json!([]),
    };
    json!([
        uuid,
        opts.int("priority").unwrap_or(0),
        predicates,
        parse_action(&opts.str("action").unwrap_or_else(|| "CONTINUE".into())),
        reason
    ])
}

fn replace_and_print(ctx: &mut Ctx<'_>, opts: &Opts, uuid: Option<&str>) -> Result<i32, CliError> {
    let args = replace_args(ctx, opts, uuid);
    let result = ctx.call(Method::ReplaceFilter, args)?;
    ctx.outln(&pystr::py_str(&result))?;
    Ok(0)
}

fn add(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    replace_and_print(ctx, opts, None)
}

fn replace(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    replace_and_print(ctx, opts, Some(&args[0]))
}

fn delete(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    ctx.call(Method::DeleteFilter, json!([args[0]]))?;
    Ok(0)
}

/// The `info` text of one rule (values printed as Python's `str`).
pub fn format_info(row: &[Value]) -> Vec<String> {
    let get = |i: usize| row.get(i).map(pystr::py_str).unwrap_or_default();
    vec![
        format!("UUID: {}", get(0)),
        format!("  Watermark: {}", get(1)),
        format!("  Priority: {}", get(2)),
        format!("  Predicates: {}", get(3)),
        format!("  Action: {}", get(4)),
        format!("  Reason trail: {}", get(5)),
    ]
}

fn info(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let rows = ctx.call(Method::QueryFilters, json!([args, LIST_DEF_FIELDS]))?;
    for row in rows.as_array().cloned().unwrap_or_default() {
        for line in format_info(row.as_array().map(Vec::as_slice).unwrap_or(&[])) {
            ctx.outln(&line)?;
        }
    }
    Ok(0)
}

fn list(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let mut req = ListRequest::from_opts("filter", opts, LIST_DEF_FIELDS, args)?;
    req.namefield = Some("uuid");
    query::generic_list(ctx, &req, &[])
}

fn list_fields(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    query::generic_list_fields(ctx, "filter", &args, opts)
}

/// `gnt-filter`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-filter",
    commands: COMMANDS,
    aliases: &[],
    listing_width: 11,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "add",
        usage: "",
        description: "Adds a new filter rule",
        args: &[],
        options: &[&FILTER_PRIORITY, &FILTER_PREDICATES, &FILTER_ACTION],
        env_override: false,
        run: add,
    },
    CmdDef {
        name: "delete",
        usage: "<filter-uuid>",
        description: "Removes a filter",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: delete,
    },
    CmdDef {
        name: "info",
        usage: "[<filter-uuid>...]",
        description: "Shows information about the filter(s)",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "list",
        usage: "[<filter-uuid>...]",
        description: "Lists the job filter rules. The available fields can be shown using the \"list-fields\" command (see the man page for details). The default list is (in order): uuid, watermark, priority, predicates, action, reason_trail.",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &OUTPUT, &VERBOSE],
        env_override: false,
        run: list,
    },
    CmdDef {
        name: "list-fields",
        usage: "[<fields>...]",
        description: "Lists all available fields for filters",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR],
        env_override: false,
        run: list_fields,
    },
    CmdDef {
        name: "replace",
        usage: "<filter-uuid>",
        description: "Replaces a filter",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[&FILTER_PRIORITY, &FILTER_PREDICATES, &FILTER_ACTION],
        env_override: false,
        run: replace,
    },
];

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
