//! Network fields: the address pool's counts and map (computed with
//! `ganeti_types::AddressPool`), connected groups and instances.

use ganeti_types::{AddressPool, Network};
use serde_json::{json, Value};

use super::{common, lookup, str_list};
use crate::value::{maybe_unavail, nodata, normal, unknown, Cell};
use crate::QueryContext;

/// Networks covered by a query, in natural name order or as requested.
pub(crate) fn select<'a>(
    ctx: &QueryContext<'a>,
    wanted: &[String],
) -> Result<Vec<&'a Network>, crate::QueryError> {
    let cfg = ctx.config;
    if wanted.is_empty() {
        let mut all: Vec<&Network> = cfg.networks.values().collect();
        crate::value::nice_sort_by_key(&mut all, |n| n.name.as_str());
        return Ok(all);
    }
    wanted
        .iter()
        .map(|w| {
            lookup(
                "Network",
                cfg.networks.values(),
                |n| &n.uuid,
                |n| &n.name,
                w,
            )
        })
        .collect()
}

/// `(group name, mode, link, vlan)` for every group the network is
/// connected to; absent NIC parameters show as `-`.
fn group_connections(ctx: &QueryContext<'_>, net: &Network) -> Vec<Value> {
    ctx.config
        .nodegroups
        .values()
        .filter_map(|g| {
            let p = g.networks.get(&net.uuid)?;
            let get = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
            Some(json!([g.name, get("mode"), get("link"), get("vlan")]))
        })
        .collect()
}

fn instances(ctx: &QueryContext<'_>, net: &Network) -> Vec<String> {
    ctx.config
        .instances
        .values()
        .filter(|i| {
            i.nics
                .iter()
                .any(|n| n.network.as_deref() == Some(net.uuid.as_str()))
        })
        .map(|i| i.name.clone())
        .collect()
}

/// The value of one field.
pub(crate) fn get(ctx: &QueryContext<'_>, net: &Network, field: &str) -> Cell {
    if let Some(c) = common(
        field,
        net.ctime,
        net.mtime,
        net.serial_no,
        &net.uuid,
        &net.tags,
    ) {
        return c;
    }
    let pool = || AddressPool::from_network(net).ok();
    match field {
        "name" => normal(net.name.as_str()),
        "network" => normal(net.network.as_str()),
        "gateway" => maybe_unavail(net.gateway.clone().map(Value::from)),
        "network6" => maybe_unavail(net.network6.clone().map(Value::from)),
        "gateway6" => maybe_unavail(net.gateway6.clone().map(Value::from)),
        "mac_prefix" => maybe_unavail(net.mac_prefix.clone().map(Value::from)),
        "free_count" | "reserved_count" | "map" | "external_reservations" => match pool() {
            None => nodata(),
            Some(p) => match field {
                "free_count" => normal(p.free_count()),
                "reserved_count" => normal(p.reserved_count()),
                "map" => normal(p.map_string()),
                _ => normal(p.external_list().join(", ")),
            },
        },
        "group_list" => normal(Value::Array(group_connections(ctx, net))),
        "group_cnt" => normal(group_connections(ctx, net).len()),
        "inst_list" => normal(str_list(&instances(ctx, net))),
        "inst_cnt" => normal(instances(ctx, net).len()),
        _ => unknown(),
    }
}
