//! `gnt-job`: listing, inspecting, following and cancelling jobs.
//!
//! Why: job ids are how every `--submit` user gets back to a result, so
//! `list`, `info`, `watch` and `cancel` print exactly what Ganeti's
//! `gnt_job.py` prints (statuses, the `info` tree with aligned
//! timestamps, `Job N not found in queue` on stdout with exit 1, ...).

use ganeti_clifmt::nested::{Entry, Info};
use ganeti_clifmt::table::{Cell, ColumnFormat};
use ganeti_clifmt::{pystr, qfilter, timefmt};
use ganeti_luxi::Method;
use serde_json::{json, Value};

use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::{format_error, CliError, GanetiErr};
use crate::jobs::Reporter;
use crate::options::*;
use crate::optparse::Opts;
use crate::query::{self, ListRequest};

/// Default fields of `gnt-job list`.
pub const LIST_DEF_FIELDS: &[&str] = &["id", "status", "summary"];

/// Exit code when the user declines (`constants.EXIT_CONFIRMATION`).
pub const EXIT_CONFIRMATION: i32 = 13;

const USER_JOB_STATUS: &[&str] = &[
    "queued",
    "waiting",
    "canceling",
    "running",
    "canceled",
    "success",
    "error",
];

/// The column formats `gnt-job list` overrides.
pub fn list_overrides() -> Vec<(&'static str, ColumnFormat)> {
    let ts_list = || {
        ColumnFormat::new(false, |v: &Value| {
            let items: Vec<Value> = v
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|t| Value::String(timefmt::format_timestamp(t)))
                .collect();
            Cell::with_width(pystr::py_repr(&Value::Array(items.clone())), items.len())
        })
    };
    vec![
        (
            "status",
            ColumnFormat::new(false, |v: &Value| Cell::new(pystr::py_str(v))),
        ),
        ("summary", query::join_override(",")),
        ("opstart", ts_list()),
        ("opexec", ts_list()),
        ("opend", ts_list()),
    ]
}

/// `_ParseJobIds`.
pub fn parse_job_ids(args: &[String]) -> Result<Vec<i64>, CliError> {
    args.iter()
        .map(|a| {
            super::parse_index(a)
                .map_err(|e| GanetiErr::inval(format!("Invalid job ID passed: {e}")).into())
        })
        .collect()
}

fn status_filter_values(opts: &Opts) -> Option<Vec<String>> {
    opts.str("status_filter")
        .map(|s| s.split(',').map(str::to_string).collect())
}

fn list(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let mut req = ListRequest::from_opts("job", opts, LIST_DEF_FIELDS, args)?;
    req.units = None;
    if opts.flag("archived") && !req.fields.iter().any(|f| f == "archived") {
        req.fields.push("archived".into());
    }
    req.namefield = Some("id");
    req.isnumeric = true;
    req.qfilter =
        status_filter_values(opts).and_then(|s| qfilter::make_simple_filter("status", &s));
    query::generic_list(ctx, &req, &list_overrides())
}

fn list_fields(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    query::generic_list_fields(ctx, "job", &args, opts)
}

fn archive(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let mut rc = 0;
    for (id, raw) in parse_job_ids(&args)?.into_iter().zip(args.iter()) {
        let r = ctx.call(Method::ArchiveJob, json!([id]))?;
        if !pystr::py_truthy(&r) {
            ctx.errln(&format!("Failed to archive job with ID '{raw}'"))?;
            rc = 1;
        }
    }
    Ok(rc)
}

/// Ganeti's `ParseTimespec` (seconds; suffixes s, m, h, d, w).
pub fn parse_timespec(value: &str) -> Result<i64, CliError> {
    if value.is_empty() {
        return Err(GanetiErr::inval("Empty time specification passed").into());
    }
    let mult = match value.chars().last() {
        Some('s') => Some(1),
        Some('m') => Some(60),
        Some('h') => Some(3600),
        Some('d') => Some(86400),
        Some('w') => Some(604_800),
        _ => None,
    };
    let invalid = |v: &str| -> CliError {
        GanetiErr::inval(format!("Invalid time specification '{v}'")).into()
    };
    match mult {
        None => super::parse_index(value).map_err(|_| invalid(value)),
        Some(m) => {
            let num = &value[..value.len() - 1];
            if num.is_empty() {
                return Err(
                    GanetiErr::inval("Invalid time specification (only suffix passed)").into(),
                );
            }
            super::parse_index(num)
                .map(|n| n * m)
                .map_err(|_| invalid(num))
        }
    }
}

fn autoarchive(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let age = if args[0] == "all" {
        -1
    } else {
        parse_timespec(&args[0])?
    };
    let r = ctx.call(Method::AutoArchiveJobs, json!([age, 29]))?;
    let (archived, left) = match r.as_array().map(Vec::as_slice) {
        Some([a, l]) => (pystr::py_str(a), pystr::py_str(l)),
        _ => (pystr::py_str(&r), "?".into()),
    };
    ctx.outln(&format!("Archived {archived} jobs, {left} unchecked left"))?;
    Ok(0)
}

/// What `_MultiJobAction` does per job.
#[derive(Debug, Clone, Copy)]
enum JobAction {
    Cancel { kill: bool },
    ChangePriority(i64),
}

fn multi_job_action(
    ctx: &mut Ctx<'_>,
    opts: &Opts,
    args: Vec<String>,
    question: &str,
    action: JobAction,
) -> Result<i32, CliError> {
    let status_filter = status_filter_values(opts);
    if args.is_empty() == status_filter.is_none() {
        return Err(GanetiErr::inval(
            "Either a status filter or job ID(s) must be specified and never both",
        )
        .into());
    }
    let jobs: Vec<i64> = if let Some(statuses) = status_filter {
        let resp = ctx.query(
            "job",
            &["id", "status", "summary"],
            qfilter::make_simple_filter("status", &statuses),
        )?;
        let ids: Vec<i64> = resp
            .values()
            .iter()
            .filter_map(|r| r.first().and_then(Value::as_i64))
            .collect();
        if ids.is_empty() {
            return Err(GanetiErr::prereq(
                "No jobs with the requested status have been found",
                "wrong_state",
            )
            .into());
        }
        if !opts.flag("force") {
            let req = ListRequest {
                header: true,
                ..Default::default()
            };
            let (_, lines) = query::format_response(&resp, &req, &list_overrides());
            for l in lines {
                ctx.outln(&l)?;
            }
            if !ctx.ask_yes_no(question) {
                return Ok(EXIT_CONFIRMATION);
            }
        }
        ids
    } else {
        parse_job_ids(&args)?
    };
    let mut rc = 0;
    for id in jobs {
        let r = match action {
            JobAction::Cancel { kill } => {
                let a = if kill { json!([id, true]) } else { json!([id]) };
                ctx.call(Method::CancelJob, a)?
            }
            JobAction::ChangePriority(p) => ctx.call(Method::ChangeJobPriority, json!([id, p]))?,
        };
        let (ok, msg) = match r.as_array().map(Vec::as_slice) {
            Some([ok, msg]) => (pystr::py_truthy(ok), pystr::py_str(msg)),
            _ => (false, pystr::py_str(&r)),
        };
        if !ok {
            rc = 1;
        }
        ctx.outln(&msg)?;
    }
    Ok(rc)
}

fn cancel(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let kill = opts.flag("kill");
    if kill && !opts.flag("yes_do_it") {
        return Err(
            GanetiErr::inval("The --kill option must be confirmed with --yes-do-it").into(),
        );
    }
    let name = if kill { "KILL" } else { "Cancel" };
    multi_job_action(
        ctx,
        opts,
        args,
        &format!("{name} job(s) listed above?"),
        JobAction::Cancel { kill },
    )
}

fn change_priority(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let Some(p) = opts.get("priority").and_then(|_| opts.int("priority")) else {
        ctx.errln("--priority option must be given.")?;
        return Ok(1);
    };
    multi_job_action(
        ctx,
        opts,
        args,
        "Change priority of job(s) listed above?",
        JobAction::ChangePriority(p),
    )
}

fn ts_pair(v: &Value) -> Option<(i64, i64)> {
    match v.as_array().map(Vec::as_slice) {
        Some([s, u]) => Some((s.as_i64()?, u.as_i64()?)),
        _ => None,
    }
}

fn job_timestamp(name: &str, ts: &Value, prior: Option<&Value>) -> Entry {
    let text = if ts.is_null() {
        "unknown (None)".to_string()
    } else {
        let mut t = timefmt::format_timestamp(ts);
        if let (Some(p), Some(cur)) = (prior.and_then(ts_pair), ts_pair(ts)) {
            t.push_str(&format!(" (delta {:.6}s)", timefmt::calc_delta(p, cur)));
        }
        t
    };
    Entry::aligned(name, Info::text(text), "job_timestamp")
}

fn opcode_timestamp(name: &str, ts: &Value) -> Entry {
    let text = if ts.is_array() {
        timefmt::format_timestamp(ts)
    } else {
        "N/A".to_string()
    };
    Entry::aligned(name, Info::text(text), "opcode_timestamp")
}

/// The `gnt-job info` tree of one job row (fields as `info` queries them).
pub fn format_job_info(row: &[(ganeti_clifmt::table::ResultStatus, Value)]) -> Info {
    let g = |i: usize| row.get(i).map(|(_, v)| v.clone()).unwrap_or(Value::Null);
    let job_id = pystr::py_str(&g(0));
    if row
        .get(1)
        .is_none_or(|(st, _)| *st != ganeti_clifmt::table::ResultStatus::Normal)
    {
        return Info::text(format!("Job ID {job_id} not found"));
    }
    let status = pystr::py_str(&g(1));
    let (recv, start, end) = (g(9), g(10), g(11));
    let mut info = vec![
        Entry::new("Job ID", Info::text(job_id)),
        Entry::new("Status", Info::text(status)),
        job_timestamp("Received", &recv, None),
        job_timestamp("Processing start", &start, Some(&recv)),
        job_timestamp("Processing end", &end, Some(&start)),
    ];
    let total = match (ts_pair(&recv), ts_pair(&end)) {
        (Some(r), Some(e)) => format!("{:.6} seconds", timefmt::calc_delta(r, e)),
        _ => "N/A".to_string(),
    };
    info.push(Entry::new("Total processing time", Info::text(total)));
    let list = |i: usize| g(i).as_array().cloned().unwrap_or_default();
    let (ops, res, sts, logs, s_ts, x_ts, e_ts) = (
        list(2),
        list(3),
        list(4),
        list(5),
        list(6),
        list(7),
        list(8),
    );
    let mut opcodes = Vec::new();
    for i in 0..ops.len().min(res.len()).min(sts.len()).min(logs.len()) {
        let op = &ops[i];
        let nul = Value::Null;
        let mut oi = vec![
            Entry::new(
                "Opcode",
                Info::text(op.get("OP_ID").map(pystr::py_str).unwrap_or_default()),
            ),
            Entry::new("Status", Info::text(pystr::py_str(&sts[i]))),
            opcode_timestamp("Processing start", s_ts.get(i).unwrap_or(&nul)),
            opcode_timestamp("Execution start", x_ts.get(i).unwrap_or(&nul)),
            opcode_timestamp("Processing end", e_ts.get(i).unwrap_or(&nul)),
            Entry::new("Input fields", Info::from_json(op)),
            Entry::new("Result", Info::from_json(&res[i])),
        ];
        let mut exec_log = Vec::new();
        for entry in logs[i].as_array().cloned().unwrap_or_default() {
            if let Some([serial, ts, ltype, msg]) = entry.as_array().map(Vec::as_slice) {
                let lt = pystr::py_str(ltype);
                exec_log.push(Info::ordered(vec![
                    ("Time", Info::text(timefmt::format_timestamp(ts))),
                    (
                        "Content",
                        Info::Inline(vec![
                            pystr::py_str(serial),
                            lt.clone(),
                            pystr::format_log_message(&lt, msg),
                        ]),
                    ),
                ]));
            }
        }
        oi.push(Entry::new("Execution log", Info::List(exec_log)));
        opcodes.push(Info::Ordered(oi));
    }
    info.push(Entry::new("Opcodes", Info::List(opcodes)));
    Info::Ordered(info)
}

/// The fields `gnt-job info` queries.
pub const INFO_FIELDS: &[&str] = &[
    "id",
    "status",
    "ops",
    "opresult",
    "opstatus",
    "oplog",
    "opstart",
    "opexec",
    "opend",
    "received_ts",
    "start_ts",
    "end_ts",
];

fn info(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let ids = parse_job_ids(&args)?;
    let filter =
        qfilter::make_simple_filter("id", &ids.iter().map(|i| i.to_string()).collect::<Vec<_>>())
            .map(|f| numeric_filter(&f));
    let resp = ctx.query("job", INFO_FIELDS, filter)?;
    let items: Vec<Info> = resp.data.iter().map(|r| format_job_info(r)).collect();
    ctx.print_info(&Info::List(items))?;
    Ok(0)
}

/// Turn the string values of a simple filter into numbers (job ids).
fn numeric_filter(f: &Value) -> Value {
    match f {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::Array(a) if a.len() == 3 => {
                        let v = a[2]
                            .as_str()
                            .and_then(|s| s.parse::<i64>().ok())
                            .map(Value::from)
                            .unwrap_or_else(|| a[2].clone());
                        json!([a[0], a[1], v])
                    }
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn one_job_id(arg: &str) -> Result<u64, CliError> {
    arg.trim()
        .parse::<u64>()
        .map_err(|_| GanetiErr::inval(format!("Invalid job ID passed: '{arg}'")).into())
}

fn watch(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let msg = format!("Output from job {} follows", args[0]);
    ctx.outln(&msg)?;
    ctx.outln(&"-".repeat(msg.len()))?;
    let id = one_job_id(&args[0])?;
    match ctx.poll_job(id, &mut Reporter::Stdio) {
        Ok(_) => Ok(0),
        Err(e @ (CliError::Ganeti(_) | CliError::Luxi(_))) => {
            let (rc, text) = format_error(&e);
            ctx.errln(&format!("Job {} failed: {text}", args[0]))?;
            Ok(rc)
        }
        Err(e) => Err(e),
    }
}

fn wait(ctx: &mut Ctx<'_>, _opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let id = one_job_id(&args[0])?;
    match ctx.poll_job(id, &mut Reporter::Quiet) {
        Ok(_) => Ok(0),
        Err(e @ (CliError::Ganeti(_) | CliError::Luxi(_))) => {
            let (rc, text) = format_error(&e);
            ctx.errln(&format!("Job {} failed: {text}", args[0]))?;
            Ok(rc)
        }
        Err(e) => Err(e),
    }
}

/// Whether `s` is a job status Ganeti knows.
pub fn is_job_status(s: &str) -> bool {
    USER_JOB_STATUS.contains(&s)
}

/// `gnt-job`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-job",
    commands: COMMANDS,
    aliases: &[("show", "info")],
    listing_width: 15,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "archive",
        usage: "<job-id> [<job-id>...]",
        description: "Archive specified jobs",
        args: &[ArgSpec { min: 1, max: None }],
        options: &[],
        env_override: false,
        run: archive,
    },
    CmdDef {
        name: "autoarchive",
        usage: "<age>",
        description: "Auto archive jobs older than the given age",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: autoarchive,
    },
    CmdDef {
        name: "cancel",
        usage: "{[--force] [--kill --yes-do-it] {--pending | --queued | --waiting} | <job-id> [<job-id>...]}",
        description: "Cancel jobs",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&FORCE, &KILL, &PENDING, &QUEUED, &WAITING, &YES_DO_IT_KILL],
        env_override: false,
        run: cancel,
    },
    CmdDef {
        name: "change-priority",
        usage: "--priority <priority> {[--force] {--pending | --queued | --waiting} | <job-id> [<job-id>...]}",
        description: "Change the priority of jobs",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&PRIORITY, &FORCE, &PENDING, &QUEUED, &WAITING],
        env_override: false,
        run: change_priority,
    },
    CmdDef {
        name: "info",
        usage: "<job-id> [<job-id>...]",
        description: "Show detailed information about the specified jobs",
        args: &[ArgSpec { min: 1, max: None }],
        options: &[],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "list",
        usage: "[<job-id>...]",
        description: "Lists the jobs and their status. The available fields can be shown using the \"list-fields\" command (see the man page for details). The default field list is (in order): id, status, summary.",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR, &OUTPUT, &VERBOSE, &FILTER, &PENDING, &RUNNING, &ERROR, &FINISHED, &ARCHIVED],
        env_override: false,
        run: list,
    },
    CmdDef {
        name: "list-fields",
        usage: "[<fields>...]",
        description: "Lists all available fields for jobs",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&NO_HEADERS, &SEPARATOR],
        env_override: false,
        run: list_fields,
    },
    CmdDef {
        name: "wait",
        usage: "<job-id>",
        description: "Wait for a job to finish",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: wait,
    },
    CmdDef {
        name: "watch",
        usage: "<job-id>",
        description: "Follows a job and prints its output as it arrives",
        args: &[ArgSpec { min: 1, max: Some(1) }],
        options: &[],
        env_override: false,
        run: watch,
    },
];
