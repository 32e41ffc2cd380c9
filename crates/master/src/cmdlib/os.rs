//! `OP_OS_DIAGNOSE`: the OS providers of the cluster, as `gnt-os
//! list/info/diagnose` and RAPI `/2/os` show them.
//!
//! Why it is a thin opcode: the nodes judge each OS directory
//! (`ganeti_node::os`) and the query engine combines their reports
//! (`ganeti_query`, resource `os`; LUXI `Query` refuses it, as luxid does). What
//! is particular to the opcode is Ganeti's legacy listing rule: unless the
//! caller asks for the `hidden`, `blacklisted` or `valid` field, OSes that
//! are hidden, blacklisted or invalid are left out. Like Ganeti, it takes
//! no locks.

use ganeti_query::{LiveData, QueryContext, Resource};
use ganeti_types::{Dict, GanetiError};
use serde_json::{json, Value};

use super::util::str_list;
use super::{OpCtx, OpImpl};
use crate::jobs::locks::LockReq;
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[OpImpl {
    op_id: "OP_OS_DIAGNOSE",
    locks: no_locks,
    check: check_none,
    exec: exec_diagnose,
    hooks: None,
}];

fn no_locks(_m: &Master, _op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![])
}

/// Unknown fields are refused when the job runs, as in Ganeti.
fn check_none(_m: &Master, _op: &Dict) -> Result<(), GanetiError> {
    Ok(())
}

/// Ganeti's `LUOsDiagnose._BuildFilter`: the names (if any) and the
/// legacy status filter for each status field not asked for.
fn legacy_filter(fields: &[String], names: &[String]) -> Option<Value> {
    let asked = |f: &str| fields.iter().any(|x| x == f);
    let name_filter = (!names.is_empty()).then(|| {
        let mut f = vec![json!("|")];
        f.extend(names.iter().map(|n| json!(["=", "name", n])));
        Value::Array(f)
    });
    let mut status: Vec<Value> = ["hidden", "blacklisted"]
        .into_iter()
        .filter(|f| !asked(f))
        .map(|f| json!(["!", ["?", f]]))
        .collect();
    if !asked("valid") {
        status.push(json!(["?", "valid"]));
    }
    let status_filter = (!status.is_empty()).then(|| {
        status.insert(0, json!("&"));
        Value::Array(status)
    });
    match (name_filter, status_filter) {
        (Some(n), Some(s)) => Some(json!(["&", n, s])),
        (n, s) => n.or(s),
    }
}

fn exec_diagnose(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let fields = str_list(&op, "output_fields");
    let names = str_list(&op, "names");
    let cfg = ctx.config()?;
    let live = LiveData {
        os: crate::querying::gather_os(ctx.master, &cfg),
        ..LiveData::default()
    };
    let filter = legacy_filter(&fields, &names);
    let qctx = QueryContext::new(&cfg, &live);
    let res = ganeti_query::query(Resource::Os, &qctx, &fields, filter.as_ref())?;
    Ok(json!(res.to_compat()?))
}

#[cfg(test)]
mod tests;
