//! Node group fields: members, primary instances of the members, and the
//! effective policy and parameters (group values over cluster defaults).

use ganeti_types::NodeGroup;
use serde_json::Value;

use super::{common, instance, lookup, str_list};
use crate::params;
use crate::value::{maybe_nodata, normal, unknown, Cell};
use crate::QueryContext;

/// Groups covered by a query, in natural name order or as requested.
pub(crate) fn select<'a>(
    ctx: &QueryContext<'a>,
    wanted: &[String],
) -> Result<Vec<&'a NodeGroup>, crate::QueryError> {
    let cfg = ctx.config;
    if wanted.is_empty() {
        let mut all: Vec<&NodeGroup> = cfg.nodegroups.values().collect();
        crate::value::nice_sort_by_key(&mut all, |g| g.name.as_str());
        return Ok(all);
    }
    wanted
        .iter()
        .map(|w| {
            lookup(
                "NodeGroup",
                cfg.nodegroups.values(),
                |g| &g.uuid,
                |g| &g.name,
                w,
            )
        })
        .collect()
}

/// The value of one field.
pub(crate) fn get(ctx: &QueryContext<'_>, g: &NodeGroup, field: &str) -> Cell {
    let cfg = ctx.config;
    if let Some(c) = common(field, g.ctime, g.mtime, g.serial_no, &g.uuid, &g.tags) {
        return c;
    }
    if let Some(p) = field.strip_prefix("ndp/") {
        return maybe_nodata(params::group_ndparams(cfg, g).get(p).cloned());
    }
    let members: Vec<&ganeti_types::Node> =
        cfg.nodes.values().filter(|n| n.group == g.uuid).collect();
    let in_group = |i: &ganeti_types::Instance| members.iter().any(|n| n.uuid == i.primary_node);
    match field {
        "name" => normal(g.name.as_str()),
        "alloc_policy" => normal(g.alloc_policy.as_str()),
        "custom_diskparams" => normal(Value::Object(params::sorted_deep(&g.diskparams))),
        "custom_ipolicy" => normal(Value::Object(params::ordered_ipolicy(&g.ipolicy))),
        "custom_ndparams" => normal(Value::Object(params::ordered(
            &g.ndparams,
            params::ND_ORDER,
        ))),
        "diskparams" => normal(Value::Object(params::group_diskparams(cfg, g))),
        "ipolicy" => normal(Value::Object(params::group_ipolicy(cfg, g))),
        "ndparams" => normal(Value::Object(params::group_ndparams(cfg, g))),
        "node_cnt" => normal(members.len()),
        "node_list" => normal(str_list(
            &members.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        )),
        "pinst_cnt" => normal(cfg.instances.values().filter(|i| in_group(i)).count()),
        "pinst_list" => normal(str_list(&instance::names_where(cfg, in_group))),
        _ => unknown(),
    }
}
