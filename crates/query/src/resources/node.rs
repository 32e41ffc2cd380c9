//! Node fields: configuration flags, instance counts, effective node
//! parameters and the live figures (`mtotal`, `dfree`, ...) the node
//! reported. A node that is offline gives "offline" for every live field,
//! one that did not answer gives "no data".

use ganeti_types::Node;
use serde_json::{json, Value};

use super::{common, instance, lookup, str_list};
use crate::live::NodeAnswer;
use crate::params;
use crate::value::{maybe_nodata, nodata, normal, unavail, unknown, Cell, RS_OFFLINE};
use crate::QueryContext;

/// Fields that need live data.
pub(crate) const LIVE_FIELDS: &[&str] = &[
    "bootid", "cnodes", "cnos", "csockets", "ctotal", "dfree", "dtotal", "spfree", "sptotal",
    "mfree", "mnode", "mtotal",
];

/// Nodes covered by a query, in natural name order or as requested.
pub(crate) fn select<'a>(
    ctx: &QueryContext<'a>,
    wanted: &[String],
) -> Result<Vec<&'a Node>, crate::QueryError> {
    let cfg = ctx.config;
    if wanted.is_empty() {
        let mut all: Vec<&Node> = cfg.nodes.values().collect();
        crate::value::nice_sort_by_key(&mut all, |n| n.name.as_str());
        return Ok(all);
    }
    wanted
        .iter()
        .map(|w| lookup("Node", cfg.nodes.values(), |n| &n.uuid, |n| &n.name, w))
        .collect()
}

fn live(ctx: &QueryContext<'_>, node: &Node, field: &str) -> Cell {
    let l = match ctx.live.node_answer(&node.uuid, node.offline) {
        NodeAnswer::Answered(l) => l,
        NodeAnswer::Offline => return (RS_OFFLINE, Value::Null),
        NodeAnswer::Failed => return nodata(),
    };
    let v = match field {
        "bootid" => return maybe_nodata(l.bootid.clone().map(Value::from)),
        "mtotal" => l.mtotal,
        "mnode" => l.mnode,
        "mfree" => l.mfree,
        "dtotal" => l.dtotal,
        "dfree" => l.dfree,
        "ctotal" => l.ctotal,
        "cnos" => l.cnos,
        "cnodes" => l.cnodes,
        "csockets" => l.csockets,
        "sptotal" => l.sptotal,
        "spfree" => l.spfree,
        _ => return unknown(),
    };
    maybe_nodata(v.map(Value::from))
}

/// The value of one field.
pub(crate) fn get(ctx: &QueryContext<'_>, node: &Node, field: &str) -> Cell {
    let cfg = ctx.config;
    if let Some(c) = common(
        field,
        node.ctime,
        node.mtime,
        node.serial_no,
        &node.uuid,
        &node.tags,
    ) {
        return c;
    }
    if LIVE_FIELDS.contains(&field) {
        return live(ctx, node, field);
    }
    if let Some(p) = field.strip_prefix("ndp/") {
        return match params::node_ndparams(cfg, node) {
            Some(nd) => maybe_nodata(nd.get(p).cloned()),
            None => nodata(),
        };
    }
    let is_primary = |i: &ganeti_types::Instance| i.primary_node == node.uuid;
    let is_secondary = |i: &ganeti_types::Instance| {
        i.primary_node != node.uuid && cfg.instance_secondaries(i).contains(&node.uuid)
    };
    match field {
        "name" => normal(node.name.as_str()),
        "pip" => normal(node.primary_ip.as_str()),
        "sip" => normal(node.secondary_ip.as_str()),
        "drained" => normal(node.drained),
        "offline" => normal(node.offline),
        "master_candidate" => normal(node.master_candidate),
        "master_capable" => normal(node.master_capable),
        "vm_capable" => normal(node.vm_capable),
        "master" => normal(node.uuid == cfg.cluster.master_node),
        "role" => normal(node.role(node.uuid == cfg.cluster.master_node)),
        "group" => maybe_nodata(cfg.nodegroups.get(&node.group).map(|g| json!(g.name))),
        "group.uuid" => normal(node.group.as_str()),
        "ndparams" => maybe_nodata(params::node_ndparams(cfg, node).map(Value::Object)),
        "custom_ndparams" => normal(Value::Object(params::ordered(
            &node.ndparams,
            params::ND_ORDER,
        ))),
        "pinst_cnt" => normal(cfg.instances.values().filter(|i| is_primary(i)).count()),
        "sinst_cnt" => normal(cfg.instances.values().filter(|i| is_secondary(i)).count()),
        "pinst_list" => normal(str_list(&instance::names_where(cfg, is_primary))),
        "sinst_list" => normal(str_list(&instance::names_where(cfg, is_secondary))),
        "powered" => match params::node_ndparams(cfg, node) {
            None => nodata(),
            Some(nd)
                if nd
                    .get("oob_program")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty() =>
            {
                unavail()
            }
            Some(_) => normal(node.powered),
        },
        "hv_state" | "disk_state" => unavail(),
        _ => unknown(),
    }
}
