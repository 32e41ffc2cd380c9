//! The small resources: job filter rules (from the configuration), locks
//! (from the lock manager's snapshot) and exports (from the nodes' export
//! lists). OS rows have their own module ([`super::os`]); ExtStorage
//! rows are not produced by this release.

use ganeti_types::Node;
use serde_json::{json, Value};

use crate::error::QueryError;
use crate::live::{LockInfo, NodeAnswer};
use crate::value::{maybe_nodata, nice_sort_by_key, nodata, normal, unknown, Cell, RS_OFFLINE};
use crate::QueryContext;

/// A filter rule: its uuid and stored object.
pub(crate) type FilterItem<'a> = (&'a str, &'a Value);

/// Filter rules, by uuid in natural order. (They have no name field, so
/// a filter cannot name them; selecting by uuid is ordinary filtering.)
pub(crate) fn select_filters<'a>(ctx: &QueryContext<'a>) -> Vec<FilterItem<'a>> {
    let mut v: Vec<FilterItem<'a>> = ctx
        .config
        .filters
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    nice_sort_by_key(&mut v, |(k, _)| k);
    v
}

/// The value of one filter-rule field.
pub(crate) fn get_filter(item: &FilterItem<'_>, field: &str) -> Cell {
    let (uuid, rule) = item;
    match field {
        "uuid" => normal(rule.get("uuid").cloned().unwrap_or_else(|| json!(uuid))),
        "watermark" | "priority" | "predicates" | "action" | "reason_trail" => {
            maybe_nodata(rule.get(field).cloned())
        }
        _ => unknown(),
    }
}

/// Locks, by name in natural order.
pub(crate) fn select_locks<'a>(ctx: &QueryContext<'a>) -> Vec<&'a LockInfo> {
    let mut v: Vec<&LockInfo> = ctx.locks.iter().collect();
    nice_sort_by_key(&mut v, |l| l.name.as_str());
    v
}

fn mode(exclusive: bool) -> &'static str {
    if exclusive {
        "exclusive"
    } else {
        "shared"
    }
}

/// The value of one lock field.
pub(crate) fn get_lock(lock: &LockInfo, field: &str) -> Cell {
    match field {
        "name" => normal(lock.name.as_str()),
        "mode" => normal(if lock.owners.is_empty() {
            Value::Null
        } else {
            json!(mode(lock.owners.iter().any(|(_, x)| *x)))
        }),
        "owner" => normal(json!(lock
            .owners
            .iter()
            .map(|(o, _)| o)
            .collect::<Vec<_>>())),
        "pending" => normal(Value::Array(
            lock.pending
                .iter()
                .map(|(o, x)| json!([mode(*x), [o]]))
                .collect(),
        )),
        _ => unknown(),
    }
}

/// One export row: the node and the export name (or why there is none).
pub(crate) type ExportItem<'a> = (&'a Node, Cell);

/// Export rows: for each node (natural order or as named), one row per
/// export it reported, or one row carrying the node's failure.
pub(crate) fn select_exports<'a>(
    ctx: &QueryContext<'a>,
    wanted: &[String],
) -> Result<Vec<ExportItem<'a>>, QueryError> {
    let nodes = super::node::select(ctx, wanted)?;
    let mut out = Vec::new();
    for n in nodes {
        if n.offline {
            out.push((n, (RS_OFFLINE, Value::Null)));
            continue;
        }
        match ctx.live.exports.get(&n.uuid) {
            Some(list) => out.extend(list.iter().map(|e| (n, normal(e.as_str())))),
            None => match ctx.live.node_answer(&n.uuid, n.offline) {
                NodeAnswer::Offline => out.push((n, (RS_OFFLINE, Value::Null))),
                NodeAnswer::Answered(_) => {}
                NodeAnswer::Failed => out.push((n, nodata())),
            },
        }
    }
    Ok(out)
}

/// The value of one export field.
pub(crate) fn get_export(item: &ExportItem<'_>, field: &str) -> Cell {
    match field {
        "node" => normal(item.0.name.as_str()),
        "export" => item.1.clone(),
        _ => unknown(),
    }
}
