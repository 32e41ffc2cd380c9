//! Cluster opcodes.

use std::collections::BTreeMap;

use ganeti_types::GanetiError;

use super::{master, master_only, op_str};
use crate::hooks::{HookDef, HookInput, HookPlan, ObjectType};

fn target(i: &HookInput<'_>) -> BTreeMap<String, String> {
    BTreeMap::from([("OP_TARGET".to_string(), i.cfg.cluster.cluster_name.clone())])
}

fn modify(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let mut env = target(i);
    env.insert("NEW_VG_NAME".into(), op_str(i.op, "vg_name"));
    let (pre_nodes, post_nodes) = master_only(i.cfg);
    Ok(HookPlan {
        env,
        pre_nodes,
        post_nodes,
    })
}

/// Post phase only, on the master (the cluster did not exist before).
fn init(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    Ok(HookPlan {
        env: target(i),
        pre_nodes: vec![],
        post_nodes: vec![master(i.cfg)],
    })
}

/// No phase of its own: the post phase runs on the master during the
/// execution, before the cluster is gone (`hooks::run_post_now`).
fn destroy(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    Ok(HookPlan {
        env: target(i),
        pre_nodes: vec![],
        post_nodes: vec![],
    })
}

/// Post phase only, on the group's nodes; the verdict takes the scripts'
/// results in (`cluster::verify::hooks_callback`).
fn verify_group(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let group = i.pre_cfg.lookup_group(&op_str(i.op, "group_name"))?;
    let mut env = BTreeMap::new();
    env.insert("CLUSTER_TAGS".to_string(), i.cfg.cluster.tags.join(" "));
    let members: Vec<_> = i
        .cfg
        .nodes
        .values()
        .filter(|n| n.group == group.uuid)
        .collect();
    for n in &members {
        env.insert(format!("NODE_TAGS_{}", n.name), n.tags.join(" "));
    }
    Ok(HookPlan {
        env,
        pre_nodes: vec![],
        post_nodes: members.iter().map(|n| n.uuid.clone()).collect(),
    })
}

pub(crate) static CLUSTER_MODIFY: HookDef = HookDef {
    path: "cluster-modify",
    object: Some(ObjectType::Cluster),
    build: modify,
    post_callback: None,
};
pub(crate) static CLUSTER_INIT: HookDef = HookDef {
    path: "cluster-init",
    object: Some(ObjectType::Cluster),
    build: init,
    post_callback: None,
};
pub(crate) static CLUSTER_DESTROY: HookDef = HookDef {
    path: "cluster-destroy",
    object: Some(ObjectType::Cluster),
    build: destroy,
    post_callback: None,
};
pub(crate) static CLUSTER_VERIFY: HookDef = HookDef {
    path: "cluster-verify",
    object: Some(ObjectType::Cluster),
    build: verify_group,
    post_callback: Some(crate::cmdlib::cluster::verify_hooks_callback),
};
