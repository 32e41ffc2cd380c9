//! Cluster fields: one row describing the cluster and the software.

use ganeti_types::{CONFIG_VERSION, GANETI_VERSION, PROTOCOL_VERSION};
use serde_json::{json, Value};

use super::str_list;
use crate::value::{maybe_unavail, normal, unknown, Cell};
use crate::QueryContext;

/// Highest OS API version supported.
pub const OS_API_VERSION: u64 = 20;
/// Import/export format version.
pub const EXPORT_VERSION: u64 = 0;

/// The "VCS version" string: which source the running software was built from.
pub fn vcs_version() -> String {
    format!(
        "(ganeti-rs) version {} (Ganeti {GANETI_VERSION})",
        ganeti_types::SOFTWARE_VERSION
    )
}

/// `[architecture, machine]` of this host, as Python's `platform` reports it.
fn architecture() -> Value {
    let bits = format!("{}bit", usize::BITS);
    json!([bits, std::env::consts::ARCH])
}

/// The value of one field.
pub(crate) fn get(ctx: &QueryContext<'_>, field: &str) -> Cell {
    let c = &ctx.config.cluster;
    match field {
        "cluster_name" | "name" => normal(c.cluster_name.as_str()),
        "master_node" => normal(ctx.config.node_name(&c.master_node)),
        "architecture" => normal(architecture()),
        "drain_flag" => normal(ctx.drain_flag),
        "watcher_pause" => maybe_unavail(ctx.watcher_pause.map(|t| json!(t))),
        "tags" => normal(str_list(&c.tags)),
        "ctime" => normal(json!(c.ctime)),
        "mtime" => normal(json!(c.mtime)),
        "volume_group_name" => normal(json!(c.volume_group_name)),
        "software_version" => normal(GANETI_VERSION),
        "protocol_version" => normal(PROTOCOL_VERSION),
        "config_version" => normal(CONFIG_VERSION),
        "os_api_version" => normal(OS_API_VERSION),
        "export_version" => normal(EXPORT_VERSION),
        "vcs_version" => normal(vcs_version()),
        _ => unknown(),
    }
}
