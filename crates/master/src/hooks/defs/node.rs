//! Node opcodes.

use ganeti_types::GanetiError;

use super::{master, op_str};
use crate::hooks::{HookDef, HookInput, HookPlan, ObjectType};

/// The requested values (`None` for what the opcode leaves alone), on
/// the master and the node.
fn modify(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let node = i.pre_cfg.expand_node(&op_str(i.op, "node_name"))?;
    let mut env = std::collections::BTreeMap::new();
    env.insert("OP_TARGET".to_string(), op_str(i.op, "node_name"));
    for (key, param) in [
        ("MASTER_CANDIDATE", "master_candidate"),
        ("OFFLINE", "offline"),
        ("DRAINED", "drained"),
        ("MASTER_CAPABLE", "master_capable"),
        ("VM_CAPABLE", "vm_capable"),
    ] {
        env.insert(key.to_string(), op_str(i.op, param));
    }
    let nodes = vec![master(i.pre_cfg), node.uuid.clone()];
    Ok(HookPlan {
        env,
        pre_nodes: nodes.clone(),
        post_nodes: nodes,
    })
}

pub(crate) static NODE_MODIFY: HookDef = HookDef {
    path: "node-modify",
    object: Some(ObjectType::Node),
    build: modify,
    post_callback: None,
};
