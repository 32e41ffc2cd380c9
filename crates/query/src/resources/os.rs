//! OS providers (`os` resource, and `OP_OS_DIAGNOSE` on top of it): one
//! item per OS name that any node reported, combined over the nodes the
//! way Ganeti's master combines them (`OsQuery._GetQueryData`).
//!
//! Why here: the rules that make an OS "valid" for the cluster (valid on
//! every node that answered, first search directory only, variants and
//! parameters only where all nodes agree) are pure functions of the node
//! reports and the cluster's hidden/blacklist settings; keeping them in
//! the query engine lets the opcode, LUXI `Query` and RAPI share them and
//! the filter language work on OS fields.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::error::QueryError;
use crate::value::{nice_cmp, nice_sort, normal, unknown, Cell};
use crate::QueryContext;
use ganeti_types::OsDiagnosis;

/// One OS as the cluster sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OsItem {
    name: String,
    valid: bool,
    hidden: bool,
    blacklisted: bool,
    /// Naturally sorted.
    variants: Vec<String>,
    /// Naturally sorted by name.
    parameters: Vec<Vec<String>>,
    /// Sorted.
    api_versions: Vec<i64>,
    /// Node uuid -> that node's entries for the OS, search-path order.
    node_status: Value,
    os_hvp: Value,
    osparams: Value,
    trusted: bool,
}

/// The first entry's list, intersected (or started) with another node's.
fn meet<T: PartialEq + Clone>(acc: &mut Vec<T>, first: bool, other: &[T]) {
    if first {
        for v in other {
            if !acc.contains(v) {
                acc.push(v.clone());
            }
        }
    } else {
        acc.retain(|v| other.contains(v));
    }
}

fn entry_json(e: &OsDiagnosis) -> Value {
    json!([
        e.path,
        e.valid,
        e.message,
        e.variants,
        e.parameters,
        e.api_versions,
        e.trusted
    ])
}

/// Combine the reports of the answering nodes (config order) for one OS.
fn combine(ctx: &QueryContext<'_>, name: &str, per_node: &[(&str, Vec<&OsDiagnosis>)]) -> OsItem {
    let cluster = &ctx.config.cluster;
    let mut valid = true;
    let mut trusted = true;
    let mut variants: Vec<String> = Vec::new();
    let mut parameters: Vec<Vec<String>> = Vec::new();
    let mut api_versions: Vec<i64> = Vec::new();
    for (idx, (_, entries)) in per_node.iter().enumerate() {
        // only the first search directory's entry counts on each node;
        // a node without the OS, or with it broken, makes it invalid
        let Some(first) = entries.first().filter(|e| e.valid) else {
            valid = false;
            break;
        };
        meet(&mut variants, idx == 0, &first.variants);
        meet(&mut parameters, idx == 0, &first.parameters);
        meet(&mut api_versions, idx == 0, &first.api_versions);
        trusted &= first.trusted;
    }
    nice_sort(&mut variants);
    parameters.sort_by(|a, b| {
        let key = |p: &Vec<String>| p.first().cloned().unwrap_or_default();
        nice_cmp(&key(a), &key(b)).then_with(|| a.cmp(b))
    });
    api_versions.sort_unstable();
    // cluster settings exist per OS+variant only for the variants found
    let mut os_hvp = Map::new();
    let mut osparams = Map::new();
    for v in &variants {
        let full = format!("{name}+{v}");
        if let Some(h) = cluster.os_hvp.get(&full) {
            os_hvp.insert(full.clone(), h.clone());
        }
        if let Some(p) = cluster.osparams.get(&full) {
            osparams.insert(full, p.clone());
        }
    }
    let node_status: Map<String, Value> = per_node
        .iter()
        .map(|(uuid, entries)| {
            (
                (*uuid).to_string(),
                Value::Array(entries.iter().map(|e| entry_json(e)).collect()),
            )
        })
        .collect();
    OsItem {
        name: name.to_string(),
        valid,
        hidden: cluster.hidden_os.iter().any(|o| o == name),
        blacklisted: cluster.blacklisted_os.iter().any(|o| o == name),
        variants,
        parameters,
        api_versions,
        node_status: Value::Object(node_status),
        os_hvp: Value::Object(os_hvp),
        osparams: Value::Object(osparams),
        trusted,
    }
}

/// Every OS the answering nodes reported, naturally sorted by name; or,
/// when the filter names OSes, exactly those in the order given (each
/// once), failing if one is not known (Ganeti's master-side queries).
pub(crate) fn select(ctx: &QueryContext<'_>, wanted: &[String]) -> Result<Vec<OsItem>, QueryError> {
    // the nodes whose answer counts, in configuration order
    let answered: Vec<(&str, &Vec<OsDiagnosis>)> = ctx
        .config
        .nodes
        .keys()
        .filter_map(|uuid| ctx.live.os.get(uuid).map(|r| (uuid.as_str(), r)))
        .collect();
    let mut by_os: BTreeMap<&str, Vec<(&str, Vec<&OsDiagnosis>)>> = BTreeMap::new();
    for (uuid, reports) in &answered {
        for r in reports.iter() {
            let nodes = by_os.entry(r.name.as_str()).or_insert_with(|| {
                answered
                    .iter()
                    .map(|(u, _)| (*u, Vec::new()))
                    .collect::<Vec<_>>()
            });
            if let Some((_, list)) = nodes.iter_mut().find(|(u, _)| u == uuid) {
                list.push(r);
            }
        }
    }
    let mut items: Vec<OsItem> = by_os
        .iter()
        .map(|(name, per_node)| combine(ctx, name, per_node))
        .collect();
    if wanted.is_empty() {
        items.sort_by(|a, b| nice_cmp(&a.name, &b.name));
        return Ok(items);
    }
    let mut names: Vec<&String> = Vec::new();
    for w in wanted {
        if !names.contains(&w) {
            names.push(w);
        }
    }
    let mut missing: Vec<String> = names
        .iter()
        .filter(|n| !items.iter().any(|i| i.name == ***n))
        .map(|n| (*n).clone())
        .collect();
    if !missing.is_empty() {
        missing.sort();
        return Err(QueryError::ItemsRemoved { names: missing });
    }
    Ok(names
        .into_iter()
        .filter_map(|n| items.iter().find(|i| i.name == *n).cloned())
        .collect())
}

/// The value of one OS field.
pub(crate) fn get(item: &OsItem, field: &str) -> Cell {
    match field {
        "name" => normal(item.name.as_str()),
        "valid" => normal(item.valid),
        "hidden" => normal(item.hidden),
        "blacklisted" => normal(item.blacklisted),
        "trusted" => normal(item.trusted),
        "variants" => normal(json!(item.variants)),
        "parameters" => normal(json!(item.parameters)),
        "api_versions" => normal(json!(item.api_versions)),
        "node_status" => normal(item.node_status.clone()),
        "os_hvp" => normal(item.os_hvp.clone()),
        "osparams" => normal(item.osparams.clone()),
        _ => unknown(),
    }
}

#[cfg(test)]
mod tests;
