//! OP_BACKUP_REMOVE: delete the exports of an instance from the nodes.
//!
//! As in Ganeti's `LUBackupRemove`, the name is expanded against the
//! configuration when the instance still exists; otherwise it is taken as
//! given, so the export of a removed instance is found by its full name
//! (and a short name that finds nothing earns Ganeti's hint). Finding no
//! export is not an error, and a node that cannot list its exports is a
//! warning.

use ganeti_types::{Dict, GanetiError};
use serde_json::Value;

use crate::cmdlib::util::str_param;
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::Master;

/// Every node (the export may be on any of them); not the instance.
pub fn locks(_m: &Master, _op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![LockReq::bgl_shared(), LockReq::all(Level::Node, true)])
}

/// The node uuids the node layer answers for: this release reaches only
/// the node it runs on, the master.
pub(crate) fn reachable_nodes(cfg: &ganeti_types::ConfigData) -> Vec<(String, String)> {
    cfg.nodes
        .values()
        .filter(|n| n.uuid == cfg.cluster.master_node && !n.offline)
        .map(|n| (n.uuid.clone(), n.name.clone()))
        .collect()
}

pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let given = str_param(&op, "instance_name")
        .unwrap_or_default()
        .to_string();
    let (name, fqdn_warn) = match cfg.expand_instance(&given) {
        Ok(inst) => (inst.name.clone(), false),
        Err(_) => (given, true),
    };
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    let mut found = false;
    for (_, node_name) in reachable_nodes(&cfg) {
        let list = match ctx.node().export_list() {
            Ok(l) => l,
            Err(e) => {
                ctx.log_warning(format!(
                    "Failed to query node {node_name} (continuing): {e}"
                ));
                continue;
            }
        };
        if list.contains(&name) {
            found = true;
            if let Err(e) = ctx.node().export_remove(&name) {
                tracing::error!(
                    "Could not remove export for instance {name} on node {node_name}: {e}"
                );
            }
        }
    }
    if fqdn_warn && !found {
        ctx.log(
            "Export not found. If trying to remove an export belonging to a deleted instance please use its Fully Qualified Domain Name.",
        );
    }
    Ok(Value::Null)
}
