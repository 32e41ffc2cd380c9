//! Job fields, computed from the jobs the master holds.
//!
//! As in Ganeti, a job id asked for by name that does not exist still
//! yields a row: its `id` and "unavailable" for everything else. Archived
//! jobs are listed only when the query asks for the `archived` field or
//! names them.

use ganeti_types::{Job, QueuedOpCode, Timestamp};
use serde_json::{json, Value};

use crate::error::QueryError;
use crate::filter::FilterValue;
use crate::value::{normal, unavail, unknown, Cell};
use crate::QueryContext;

/// One row of a job query.
#[derive(Debug, Clone, Copy)]
pub(crate) enum JobItem<'a> {
    Known(&'a Job),
    Missing(u64),
}

impl JobItem<'_> {
    fn id(&self) -> u64 {
        match self {
            JobItem::Known(j) => j.id,
            JobItem::Missing(id) => *id,
        }
    }
}

fn parse_id(v: &FilterValue) -> Result<u64, QueryError> {
    match v {
        FilterValue::Str(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| QueryError::BadJobId { value: s.clone() }),
        FilterValue::Num(n) => u64::try_from(*n).map_err(|_| QueryError::BadJobId {
            value: n.to_string(),
        }),
    }
}

/// Jobs covered by a query: the named ids in the order given, or every
/// job by id (archived ones only when `archived` is among the fields).
pub(crate) fn select<'a>(
    ctx: &QueryContext<'a>,
    wanted: &[FilterValue],
    fields: &[String],
) -> Result<Vec<JobItem<'a>>, QueryError> {
    if wanted.is_empty() {
        let want_archived = fields.iter().any(|f| f == "archived");
        let mut all: Vec<&Job> = ctx
            .jobs
            .iter()
            .filter(|j| want_archived || !j.archived)
            .collect();
        all.sort_by_key(|j| j.id);
        return Ok(all.into_iter().map(JobItem::Known).collect());
    }
    let mut ids: Vec<u64> = Vec::new();
    for v in wanted {
        let id = parse_id(v)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids
        .into_iter()
        .map(|id| match ctx.jobs.iter().find(|j| j.id == id) {
            Some(j) => JobItem::Known(j),
            None => JobItem::Missing(id),
        })
        .collect())
}

fn ts(t: &Option<Timestamp>) -> Value {
    match t {
        Some((s, us)) => json!([s, us]),
        None => Value::Null,
    }
}

fn per_op(job: &Job, f: impl Fn(&QueuedOpCode) -> Value) -> Cell {
    normal(Value::Array(job.ops.iter().map(f).collect()))
}

/// The value of one field.
pub(crate) fn get(_ctx: &QueryContext<'_>, item: &JobItem<'_>, field: &str) -> Cell {
    if field == "id" {
        return normal(item.id());
    }
    let JobItem::Known(job) = item else {
        return if crate::spec::table(crate::Resource::Job).contains(field) {
            unavail()
        } else {
            unknown()
        };
    };
    match field {
        "status" => normal(job.status().as_str()),
        "priority" => normal(job.priority()),
        "archived" => normal(job.archived),
        "ops" => per_op(job, |o| Value::Object(o.input.clone())),
        "opresult" => per_op(job, |o| o.result.clone()),
        "opstatus" => per_op(job, |o| json!(o.status.as_str())),
        "oplog" => per_op(job, |o| serde_json::to_value(&o.log).unwrap_or(Value::Null)),
        "opstart" => per_op(job, |o| ts(&o.start_timestamp)),
        "opexec" => per_op(job, |o| ts(&o.exec_timestamp)),
        "opend" => per_op(job, |o| ts(&o.end_timestamp)),
        "oppriority" => per_op(job, |o| json!(o.priority)),
        "summary" => per_op(job, |o| json!(ganeti_opschema::summary(&o.input))),
        "received_ts" => normal(ts(&Some(job.received_timestamp))),
        "start_ts" | "end_ts" => {
            let t = if field == "start_ts" {
                &job.start_timestamp
            } else {
                &job.end_timestamp
            };
            match t {
                Some(_) => normal(ts(t)),
                None => unavail(),
            }
        }
        _ => unknown(),
    }
}
