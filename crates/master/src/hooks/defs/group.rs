//! Node group opcodes.

use ganeti_types::GanetiError;

use super::{master, master_only, op_str};
use crate::hooks::{HookDef, HookInput, HookPlan, ObjectType};

fn plan(env: &[(&str, String)], nodes: (Vec<String>, Vec<String>)) -> HookPlan {
    HookPlan {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        pre_nodes: nodes.0,
        post_nodes: nodes.1,
    }
}

fn add(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    Ok(plan(
        &[("GROUP_NAME", op_str(i.op, "group_name"))],
        master_only(i.cfg),
    ))
}

fn modify(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    Ok(plan(
        &[
            ("GROUP_NAME", op_str(i.op, "group_name")),
            ("NEW_ALLOC_POLICY", op_str(i.op, "alloc_policy")),
        ],
        master_only(i.cfg),
    ))
}

fn remove(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    Ok(plan(
        &[("GROUP_NAME", op_str(i.op, "group_name"))],
        master_only(i.cfg),
    ))
}

/// The master and the group's members (by the group as it was).
fn rename(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let group = i.pre_cfg.lookup_group(&op_str(i.op, "group_name"))?;
    let mn = master(i.pre_cfg);
    let mut nodes = vec![mn.clone()];
    nodes.extend(
        i.pre_cfg
            .nodes
            .values()
            .filter(|n| n.group == group.uuid && n.uuid != mn)
            .map(|n| n.uuid.clone()),
    );
    Ok(plan(
        &[
            ("OLD_NAME", op_str(i.op, "group_name")),
            ("NEW_NAME", op_str(i.op, "new_name")),
        ],
        (nodes.clone(), nodes),
    ))
}

pub(crate) static GROUP_ADD: HookDef = HookDef {
    path: "group-add",
    object: Some(ObjectType::Group),
    build: add,
    post_callback: None,
};
pub(crate) static GROUP_MODIFY: HookDef = HookDef {
    path: "group-modify",
    object: Some(ObjectType::Group),
    build: modify,
    post_callback: None,
};
pub(crate) static GROUP_REMOVE: HookDef = HookDef {
    path: "group-remove",
    object: Some(ObjectType::Group),
    build: remove,
    post_callback: None,
};
pub(crate) static GROUP_RENAME: HookDef = HookDef {
    path: "group-rename",
    object: Some(ObjectType::Group),
    build: rename,
    post_callback: None,
};
