//! Every opcode's [`HookDef`]: its hooks path, object type, environment
//! and nodes, one file per opcode family (Ganeti's `HPATH`, `HTYPE`,
//! `BuildHooksEnv`, `BuildHooksNodes`; table in spec `hooks.md` §4).
//!
//! An opcode without hooks in Ganeti has none here either; the
//! [`OpImpl`](crate::cmdlib::OpImpl) of every opcode says which.

mod cluster;
mod group;
mod instance;
mod network;
mod node;

pub(crate) use cluster::{CLUSTER_DESTROY, CLUSTER_INIT, CLUSTER_MODIFY, CLUSTER_VERIFY};
pub(crate) use group::{GROUP_ADD, GROUP_MODIFY, GROUP_REMOVE, GROUP_RENAME};
pub(crate) use instance::{
    INSTANCE_ADD, INSTANCE_EXPORT, INSTANCE_GROW_DISK, INSTANCE_MODIFY, INSTANCE_REBOOT,
    INSTANCE_RECREATE_DISKS, INSTANCE_REINSTALL, INSTANCE_REMOVE, INSTANCE_RENAME, INSTANCE_START,
    INSTANCE_STOP,
};
pub(crate) use network::{
    NETWORK_ADD, NETWORK_CONNECT, NETWORK_DISCONNECT, NETWORK_MODIFY, NETWORK_REMOVE,
};
pub(crate) use node::NODE_MODIFY;

use ganeti_types::{ConfigData, Dict};
use serde_json::Value;

use super::HookDef;

/// The hooks of an opcode, `None` when it has none.
pub fn def_for(op_id: &str) -> Option<&'static HookDef> {
    crate::cmdlib::lookup(op_id).and_then(|imp| imp.hooks)
}

/// The master node's uuid.
fn master(cfg: &ConfigData) -> String {
    cfg.cluster.master_node.clone()
}

/// `[master]` for both phases.
fn master_only(cfg: &ConfigData) -> (Vec<String>, Vec<String>) {
    (vec![master(cfg)], vec![master(cfg)])
}

/// A text parameter in Python's `str()` (`None` when absent).
fn op_str(op: &Dict, key: &str) -> String {
    super::env::py(op.get(key).unwrap_or(&Value::Null))
}
