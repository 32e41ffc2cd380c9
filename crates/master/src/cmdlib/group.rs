//! Node group opcodes: add, remove, rename, modify, assign nodes, and the
//! per-group disk verification that `gnt-cluster verify-disks` fans out to.
//!
//! Each opcode is a pure planner over the configuration (see
//! [`super::cluster::checks`]); the lock functions name the groups and
//! nodes the change touches. A group name that is being created or taken
//! by a rename is also locked (as `name:<group>` at the node group level),
//! so two jobs cannot both claim the same new name: the store checks
//! serials, not name uniqueness.

use std::path::Path;

use ganeti_types::{new_uuid, now_f64, ConfigData, Dict, GanetiError, NodeGroup};
use serde_json::{json, Value};

use super::cluster::checks::{
    check_diskparams, check_ipolicy_syntax, check_ipolicy_vs_templates, check_ndparams,
    coerce_group_ipolicy, comma_join, fill_ipolicy, group_instance_names, group_instances,
    group_ipolicy, instance_nodes, is_int_mirrored, merge_disk_state, merge_hv_state,
    new_ipolicy_violations, nice_sorted, opt_dict, run_planned, touch, update_ipolicy,
    updated_params, Outcome,
};
use super::util::{bool_param, req_str, str_list, str_param};
use super::{OpCtx, OpImpl};
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[
    OpImpl {
        op_id: "OP_GROUP_ADD",
        locks: locks_add,
        check: check_add,
        exec: exec_add,
        hooks: Some(&crate::hooks::defs::GROUP_ADD),
    },
    OpImpl {
        op_id: "OP_GROUP_REMOVE",
        locks: locks_one_group,
        check: check_none,
        exec: exec_remove,
        hooks: Some(&crate::hooks::defs::GROUP_REMOVE),
    },
    OpImpl {
        op_id: "OP_GROUP_RENAME",
        locks: locks_rename,
        check: check_none,
        exec: exec_rename,
        hooks: Some(&crate::hooks::defs::GROUP_RENAME),
    },
    OpImpl {
        op_id: "OP_GROUP_SET_PARAMS",
        locks: locks_one_group,
        check: check_set_params,
        exec: exec_set_params,
        hooks: Some(&crate::hooks::defs::GROUP_MODIFY),
    },
    OpImpl {
        op_id: "OP_GROUP_ASSIGN_NODES",
        locks: locks_assign,
        check: check_none,
        exec: exec_assign,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_GROUP_VERIFY_DISKS",
        locks: locks_verify_disks,
        check: check_none,
        exec: exec_verify_disks,
        hooks: None,
    },
];

/// The lock that reserves a group name while a job claims it.
pub(crate) fn name_lock(name: &str) -> LockReq {
    LockReq::exclusive(Level::NodeGroup, format!("name:{name}"))
}

fn check_none(_m: &Master, _op: &Dict) -> Result<(), GanetiError> {
    Ok(())
}

fn group_uuid(m: &Master, name: &str) -> Result<String, GanetiError> {
    m.with_config(|c| c.lookup_group(name).map(|g| g.uuid.clone()))?
}

fn locks_one_group(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let uuid = group_uuid(m, req_str(op, "group_name")?)?;
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::NodeGroup, uuid),
    ])
}

/// Shared static checks of group parameters (types, option names).
fn check_group_params(op: &Dict) -> Result<(), GanetiError> {
    if let Some(nd) = opt_dict(op, "ndparams") {
        check_ndparams(&nd)?;
    }
    if let Some(dp) = opt_dict(op, "diskparams") {
        check_diskparams(&dp)?;
    }
    if let Some(hv) = opt_dict(op, "hv_state") {
        merge_hv_state(&hv, &Dict::new())?;
    }
    if let Some(ds) = opt_dict(op, "disk_state") {
        merge_disk_state(&ds, &Dict::new())?;
    }
    Ok(())
}

// --- OP_GROUP_ADD ---------------------------------------------------------------

fn check_add(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    req_str(op, "group_name")?;
    check_group_params(op)?;
    if let Some(ip) = opt_dict(op, "ipolicy") {
        coerce_group_ipolicy(&ip)?;
    }
    Ok(())
}

fn locks_add(_m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![
        LockReq::bgl_shared(),
        name_lock(req_str(op, "group_name")?),
    ])
}

/// Plan creating a group (Ganeti's `LUGroupAdd`); `uuid` is the new group's.
fn plan_add(cfg: &ConfigData, op: &Dict, uuid: &str) -> Result<Outcome, GanetiError> {
    let name = req_str(op, "group_name")?;
    if let Ok(existing) = cfg.lookup_group(name) {
        return Err(GanetiError::exists(format!(
            "Desired group name '{name}' already exists as a node group (UUID: {})",
            existing.uuid
        )));
    }
    let ndparams = match opt_dict(op, "ndparams") {
        Some(nd) => check_ndparams(&nd)?,
        None => Dict::new(),
    };
    let hv_state = match opt_dict(op, "hv_state") {
        Some(hv) if !hv.is_empty() => merge_hv_state(&hv, &Dict::new())?,
        _ => Dict::new(),
    };
    let disk_state = match opt_dict(op, "disk_state") {
        Some(ds) if !ds.is_empty() => merge_disk_state(&ds, &Dict::new())?,
        _ => Dict::new(),
    };
    let diskparams = match opt_dict(op, "diskparams") {
        Some(dp) => check_diskparams(&dp)?,
        None => Dict::new(),
    };
    let ipolicy = match opt_dict(op, "ipolicy") {
        Some(ip) if !ip.is_empty() => {
            let ip = coerce_group_ipolicy(&ip)?;
            let full = fill_ipolicy(&cfg.cluster.ipolicy, &ip);
            check_ipolicy_syntax(&full, false)
                .map_err(|e| GanetiError::wrong_input(format!("Invalid instance policy: {e}")))?;
            check_ipolicy_vs_templates(&full, &cfg.cluster.enabled_disk_templates)?;
            ip
        }
        _ => Dict::new(),
    };
    let now = now_f64();
    let group = NodeGroup {
        uuid: uuid.to_string(),
        name: name.to_string(),
        alloc_policy: str_param(op, "alloc_policy")
            .unwrap_or("preferred")
            .to_string(),
        ndparams,
        diskparams,
        ipolicy,
        networks: Dict::new(),
        hv_state_static: hv_state,
        disk_state_static: disk_state,
        tags: vec![],
        serial_no: 1,
        ctime: now,
        mtime: now,
    };
    let mut out = Outcome::default();
    out.ops.push(ConfigOp::PutGroup(Box::new(group)));
    // Connect the new group to the instance communication network, if any.
    let comm = &cfg.cluster.instance_communication_network;
    if !comm.is_empty() && cfg.lookup_network(comm).is_ok() {
        out.jobs.push(vec![connect_comm_network_op(uuid, comm)]);
    }
    Ok(out)
}

/// Ganeti's `ConnectInstanceCommunicationNetworkOp`.
pub(crate) fn connect_comm_network_op(group: &str, network: &str) -> Value {
    json!({
        "OP_ID": "OP_NETWORK_CONNECT",
        "group_name": group,
        "network_name": network,
        "network_mode": "routed",
        "network_link": "communication_rt",
        "network_vlan": "",
        "conflicts_check": true,
    })
}

fn exec_add(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let uuid = new_uuid();
    run_planned(ctx, |cfg| plan_add(cfg, &op, &uuid))
}

// --- OP_GROUP_REMOVE --------------------------------------------------------------

fn plan_remove(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    let name = req_str(op, "group_name")?;
    let g = cfg.lookup_group(name)?;
    let members: Vec<String> = cfg
        .nodes
        .values()
        .filter(|n| n.group == g.uuid)
        .map(|n| n.uuid.clone())
        .collect();
    if !members.is_empty() {
        return Err(GanetiError::wrong_state(format!(
            "Group '{name}' not empty, has the following nodes: {}",
            comma_join(nice_sorted(members))
        )));
    }
    if cfg.nodegroups.len() == 1 {
        return Err(GanetiError::wrong_state(format!(
            "Group '{name}' is the only group, cannot be removed"
        )));
    }
    let mut out = Outcome::default();
    out.ops.push(ConfigOp::DelGroup(g.uuid.clone()));
    Ok(out)
}

fn exec_remove(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_remove(cfg, &op))
}

// --- OP_GROUP_RENAME --------------------------------------------------------------

fn locks_rename(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let mut reqs = locks_one_group(m, op)?;
    reqs.push(name_lock(req_str(op, "new_name")?));
    Ok(reqs)
}

fn plan_rename(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    let g = cfg.lookup_group(req_str(op, "group_name")?)?;
    let new_name = req_str(op, "new_name")?;
    if let Ok(other) = cfg.lookup_group(new_name) {
        return Err(GanetiError::exists(format!(
            "Desired new name '{new_name}' clashes with existing node group (UUID: {})",
            other.uuid
        )));
    }
    let mut g = g.clone();
    g.name = new_name.to_string();
    touch!(g);
    let mut out = Outcome::with_result(json!(new_name));
    out.ops.push(ConfigOp::PutGroup(Box::new(g)));
    Ok(out)
}

fn exec_rename(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_rename(cfg, &op))
}

// --- OP_GROUP_SET_PARAMS ----------------------------------------------------------

const SET_PARAMS_KEYS: &[&str] = &[
    "ndparams",
    "diskparams",
    "alloc_policy",
    "hv_state",
    "disk_state",
    "ipolicy",
];

fn check_set_params(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    if SET_PARAMS_KEYS
        .iter()
        .all(|k| op.get(*k).map(Value::is_null).unwrap_or(true))
    {
        return Err(GanetiError::wrong_input(
            "Please pass at least one modification",
        ));
    }
    check_group_params(op)
}

/// Python's `str()` of a parameter dict, as the result of a group modify shows it.
fn dict_repr(d: &Dict) -> String {
    super::cluster::checks::py_str(&Value::Object(d.clone()))
}

fn plan_set_params(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    if SET_PARAMS_KEYS
        .iter()
        .all(|k| op.get(*k).map(Value::is_null).unwrap_or(true))
    {
        return Err(GanetiError::wrong_input(
            "Please pass at least one modification",
        ));
    }
    let mut g = cfg.lookup_group(req_str(op, "group_name")?)?.clone();
    let mut out = Outcome::default();
    let mut result = Vec::new();
    if let Some(nd) = opt_dict(op, "ndparams").filter(|d| !d.is_empty()) {
        let new = check_ndparams(&updated_params(&g.ndparams, &nd, false))?;
        g.ndparams = new;
        result.push(json!(["ndparams", dict_repr(&g.ndparams)]));
    }
    if let Some(dp) = opt_dict(op, "diskparams").filter(|d| !d.is_empty()) {
        let mut new = g.diskparams.clone();
        for (templ, upd) in &dp {
            let old = g
                .diskparams
                .get(templ)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let upd = upd.as_object().cloned().unwrap_or_default();
            new.insert(
                templ.clone(),
                Value::Object(updated_params(&old, &upd, false)),
            );
        }
        let new = check_diskparams(&new)?;
        g.diskparams = new;
        result.push(json!(["diskparams", dict_repr(&g.diskparams)]));
    }
    if let Some(ap) = str_param(op, "alloc_policy") {
        g.alloc_policy = ap.to_string();
    }
    if let Some(hv) = opt_dict(op, "hv_state").filter(|d| !d.is_empty()) {
        g.hv_state_static = merge_hv_state(&hv, &g.hv_state_static)?;
    }
    if let Some(ds) = opt_dict(op, "disk_state").filter(|d| !d.is_empty()) {
        g.disk_state_static = merge_disk_state(&ds, &g.disk_state_static)?;
    }
    if let Some(ip) = opt_dict(op, "ipolicy").filter(|d| !d.is_empty()) {
        let new = update_ipolicy(&g.ipolicy, &ip, true)?;
        let full = fill_ipolicy(&cfg.cluster.ipolicy, &new);
        check_ipolicy_vs_templates(&full, &cfg.cluster.enabled_disk_templates)?;
        let old_full = group_ipolicy(cfg, &g.uuid);
        let violations =
            new_ipolicy_violations(cfg, &old_full, &full, &group_instances(cfg, &g.uuid));
        if !violations.is_empty() {
            out.warn(format!(
                "After the ipolicy change the following instances violate them: {}",
                comma_join(nice_sorted(violations))
            ));
        }
        g.ipolicy = new;
    }
    touch!(g);
    out.ops.push(ConfigOp::PutGroup(Box::new(g)));
    out.result = Value::Array(result);
    Ok(out)
}

fn exec_set_params(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_set_params(cfg, &op))
}

// --- OP_GROUP_ASSIGN_NODES --------------------------------------------------------

/// Node uuids named by the opcode (`node_uuids` wins when given).
fn wanted_nodes(cfg: &ConfigData, op: &Dict) -> Result<Vec<String>, GanetiError> {
    let mut out = Vec::new();
    for n in str_list(op, "nodes") {
        let uuid = cfg.expand_node(&n)?.uuid.clone();
        if !out.contains(&uuid) {
            out.push(uuid);
        }
    }
    Ok(out)
}

fn locks_assign(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    m.with_config(|cfg| -> Result<Vec<LockReq>, GanetiError> {
        let target = cfg.lookup_group(req_str(op, "group_name")?)?.uuid.clone();
        let nodes = wanted_nodes(cfg, op)?;
        let mut groups = vec![target];
        for n in &nodes {
            if let Some(node) = cfg.nodes.get(n) {
                if !groups.contains(&node.group) {
                    groups.push(node.group.clone());
                }
            }
        }
        let mut reqs = vec![LockReq::bgl_shared()];
        reqs.extend(
            groups
                .into_iter()
                .map(|g| LockReq::exclusive(Level::NodeGroup, g)),
        );
        reqs.extend(
            nodes
                .into_iter()
                .map(|n| LockReq::exclusive(Level::Node, n)),
        );
        Ok(reqs)
    })?
}

/// Plan moving nodes into a group (Ganeti's `LUGroupAssignNodes`);
/// `locked_groups` are the groups the job holds (None: do not verify).
fn plan_assign(
    cfg: &ConfigData,
    op: &Dict,
    locked_groups: Option<&[String]>,
) -> Result<Outcome, GanetiError> {
    let target = cfg.lookup_group(req_str(op, "group_name")?)?.clone();
    let nodes = wanted_nodes(cfg, op)?;
    if let Some(locked) = locked_groups {
        let mut expected: Vec<String> = vec![target.uuid.clone()];
        for n in &nodes {
            if let Some(node) = cfg.nodes.get(n) {
                if !expected.contains(&node.group) {
                    expected.push(node.group.clone());
                }
            }
        }
        if expected.iter().any(|g| !locked.contains(g)) {
            return Err(GanetiError::exec(format!(
                "Nodes changed groups since locks were acquired, current groups are '{}', used to be '{}'",
                comma_join(&expected),
                comma_join(locked)
            )));
        }
    }
    // Split mirrored instances (primary and secondary in different groups).
    let mut new_splits = Vec::new();
    let mut previous_splits = Vec::new();
    for inst in cfg.instances.values() {
        if !is_int_mirrored(cfg, inst) {
            continue;
        }
        let inodes = instance_nodes(cfg, inst);
        let group_of = |n: &String| {
            cfg.nodes
                .get(n)
                .map(|x| x.group.clone())
                .unwrap_or_default()
        };
        let mut before: Vec<String> = inodes.iter().map(group_of).collect();
        before.sort();
        before.dedup();
        let mut after: Vec<String> = inodes
            .iter()
            .map(|n| {
                if nodes.contains(n) {
                    target.uuid.clone()
                } else {
                    group_of(n)
                }
            })
            .collect();
        after.sort();
        after.dedup();
        if after.len() > 1 {
            if before.len() > 1 {
                previous_splits.push(inst.name.clone());
            } else {
                new_splits.push(inst.name.clone());
            }
        }
    }
    let mut out = Outcome::default();
    if !new_splits.is_empty() {
        let names = comma_join(nice_sorted(new_splits));
        if !bool_param(op, "force") {
            return Err(GanetiError::exec(format!(
                "The following instances get split by this change and --force was not given: {names}"
            )));
        }
        out.warn(format!(
            "This operation will split the following instances: {names}"
        ));
        if !previous_splits.is_empty() {
            out.warn(format!(
                "In addition, these already-split instances continue to be split across groups: {}",
                comma_join(nice_sorted(previous_splits))
            ));
        }
    }
    let mut touched_groups: Vec<String> = Vec::new();
    for n in &nodes {
        let Some(node) = cfg.nodes.get(n) else {
            continue;
        };
        if node.group == target.uuid {
            continue;
        }
        if !touched_groups.contains(&node.group) {
            touched_groups.push(node.group.clone());
        }
        let mut node = node.clone();
        node.group = target.uuid.clone();
        touch!(node);
        out.ops.push(ConfigOp::PutNode(Box::new(node)));
    }
    if !out.ops.is_empty() {
        touched_groups.push(target.uuid.clone());
        for g in touched_groups {
            if let Some(group) = cfg.nodegroups.get(&g) {
                let mut group = group.clone();
                touch!(group);
                out.ops.push(ConfigOp::PutGroup(Box::new(group)));
            }
        }
    }
    Ok(out)
}

fn exec_assign(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let locked: Vec<String> = locks_assign(ctx.master, &op)?
        .into_iter()
        .filter(|r| r.level == Level::NodeGroup)
        .filter_map(|r| r.name)
        .collect();
    // The locks were computed before they were taken; compare with what the
    // worker actually holds for this job.
    let held: Vec<String> = ctx
        .master
        .locks
        .snapshot()
        .into_iter()
        .filter(|(level, _, _, job)| *level == Level::NodeGroup && *job == ctx.job_id())
        .filter_map(|(_, name, _, _)| name)
        .collect();
    let locked = if held.is_empty() { locked } else { held };
    run_planned(ctx, |cfg| plan_assign(cfg, &op, Some(&locked)))?;
    Ok(Value::Null)
}

// --- OP_GROUP_VERIFY_DISKS --------------------------------------------------------

fn locks_verify_disks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    m.with_config(|cfg| -> Result<Vec<LockReq>, GanetiError> {
        let g = cfg.lookup_group(req_str(op, "group_name")?)?;
        let mut reqs = vec![
            LockReq::bgl_shared(),
            LockReq::shared(Level::NodeGroup, g.uuid.clone()),
        ];
        for n in super::cluster::checks::group_members(cfg, &g.uuid) {
            reqs.push(LockReq::shared(Level::Node, n));
        }
        for i in group_instance_names(cfg, &g.uuid) {
            reqs.push(LockReq::shared(Level::Instance, i));
        }
        Ok(reqs)
    })?
}

/// Ganeti's `LUGroupVerifyDisks` result for the templates of this release:
/// `(node errors, instances needing activate-disks, missing volumes)`.
/// File disks of instances with active disks whose backing file is gone
/// are reported as missing (`{instance: [[node uuid, path], ...]}`).
pub(crate) fn verify_group_disks(
    cfg: &ConfigData,
    group_uuid: &str,
    exists: &dyn Fn(&Path) -> bool,
) -> Value {
    let mut missing = Dict::new();
    for inst in group_instances(cfg, group_uuid) {
        if !inst.disks_active {
            continue;
        }
        for d in cfg.instance_disks(inst) {
            if d.dev_type != "file" && d.dev_type != "sharedfile" {
                continue;
            }
            let Some(path) = d.file_path() else { continue };
            if !exists(Path::new(path)) {
                let node = d.primary_node().unwrap_or(&inst.primary_node).to_string();
                let entry = missing
                    .entry(inst.name.clone())
                    .or_insert_with(|| json!([]));
                if let Some(a) = entry.as_array_mut() {
                    a.push(json!([node, path]));
                }
            }
        }
    }
    json!([{}, [], missing])
}

fn exec_verify_disks(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let g = cfg.lookup_group(req_str(&op, "group_name")?)?;
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    Ok(verify_group_disks(&cfg, &g.uuid, &|p| p.exists()))
}

#[cfg(test)]
mod tests {
    use super::super::cluster::checks::testcfg;
    use super::*;
    use ganeti_types::ErrorClass;

    fn op(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    fn apply(cfg: &mut ConfigData, out: &Outcome) {
        testcfg::apply(cfg, &out.ops);
    }

    const G2: &str = "44444444-4444-4444-4444-444444444444";

    #[test]
    fn add_rename_remove_group() {
        let mut cfg = testcfg::config();
        let out = plan_add(
            &cfg,
            &op(json!({"group_name": "grp2", "alloc_policy": "last_resort"})),
            G2,
        )
        .unwrap();
        assert!(out.jobs.is_empty());
        apply(&mut cfg, &out);
        let g = &cfg.nodegroups[G2];
        assert_eq!(
            (g.name.as_str(), g.alloc_policy.as_str(), g.serial_no),
            ("grp2", "last_resort", 1)
        );

        let e = plan_add(&cfg, &op(json!({"group_name": "grp2"})), "x").unwrap_err();
        assert_eq!(
            e.message(),
            format!("Desired group name 'grp2' already exists as a node group (UUID: {G2})")
        );
        assert_eq!(e.error_class(), Some(ErrorClass::Exists));

        let e = plan_rename(
            &cfg,
            &op(json!({"group_name": "grp2", "new_name": "default"})),
        )
        .unwrap_err();
        assert_eq!(e.error_class(), Some(ErrorClass::Exists));
        let out =
            plan_rename(&cfg, &op(json!({"group_name": "grp2", "new_name": "grp3"}))).unwrap();
        assert_eq!(out.result, json!("grp3"));
        apply(&mut cfg, &out);
        assert_eq!(cfg.nodegroups[G2].name, "grp3");
        assert_eq!(cfg.nodegroups[G2].serial_no, 2);

        let e = plan_remove(&cfg, &op(json!({"group_name": "default"}))).unwrap_err();
        assert_eq!(
            e.message(),
            format!(
                "Group 'default' not empty, has the following nodes: {}",
                testcfg::NODE
            )
        );
        assert_eq!(e.error_class(), Some(ErrorClass::WrongState));
        let out = plan_remove(&cfg, &op(json!({"group_name": "grp3"}))).unwrap();
        apply(&mut cfg, &out);
        assert!(!cfg.nodegroups.contains_key(G2));
        let e = plan_remove(&cfg, &op(json!({"group_name": "nogroup"}))).unwrap_err();
        assert_eq!(e.message(), "Node group 'nogroup' not found");
    }

    #[test]
    fn last_group_cannot_be_removed() {
        let mut cfg = testcfg::config();
        cfg.nodes.clear();
        let e = plan_remove(&cfg, &op(json!({"group_name": "default"}))).unwrap_err();
        assert_eq!(
            e.message(),
            "Group 'default' is the only group, cannot be removed"
        );
    }

    #[test]
    fn add_validates_parameters() {
        let cfg = testcfg::config();
        let e = plan_add(
            &cfg,
            &op(json!({"group_name": "g", "ndparams": {"frob": 1}})),
            G2,
        )
        .unwrap_err();
        assert_eq!(e.message(), "Unknown parameter 'frob'");
        let e = plan_add(
            &cfg,
            &op(json!({"group_name": "g", "ipolicy": {"disk-templates": ["plain"]}})),
            G2,
        )
        .unwrap_err();
        assert!(
            e.message().contains("not enabled on the cluster: plain"),
            "{e}"
        );
        let e = plan_add(
            &cfg,
            &op(json!({"group_name": "g", "ipolicy": {"frob": 1}})),
            G2,
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid instance policy: Invalid keys in ipolicy: frob"
        );
        let out = plan_add(
            &cfg,
            &op(json!({"group_name": "g", "ndparams": {"spindle_count": "2"}, "diskparams": {"drbd": {"resync-rate": 10}},
                        "ipolicy": {"vcpu-ratio": 2}})),
            G2,
        )
        .unwrap();
        let ConfigOp::PutGroup(g) = &out.ops[0] else {
            panic!()
        };
        assert_eq!(g.ndparams["spindle_count"], json!(2));
        assert_eq!(g.ipolicy["vcpu-ratio"], json!(2.0));
    }

    #[test]
    fn add_connects_instance_communication_network() {
        let mut cfg = testcfg::config();
        cfg.cluster.instance_communication_network = "comm".into();
        let out = plan_add(&cfg, &op(json!({"group_name": "g"})), G2).unwrap();
        assert!(
            out.jobs.is_empty(),
            "network does not exist: nothing to connect"
        );
        let net: ganeti_types::Network = serde_json::from_value(json!({
            "uuid": "n1", "name": "comm", "network": "169.254.0.0/16",
            "reservations": "", "ext_reservations": "", "serial_no": 1, "ctime": 0.0, "mtime": 0.0
        }))
        .unwrap();
        cfg.networks.insert("n1".into(), net);
        let out = plan_add(&cfg, &op(json!({"group_name": "g"})), G2).unwrap();
        assert_eq!(out.jobs, vec![vec![connect_comm_network_op(G2, "comm")]]);
    }

    #[test]
    fn set_params() {
        let mut cfg = testcfg::config();
        let e = plan_set_params(&cfg, &op(json!({"group_name": "default"}))).unwrap_err();
        assert_eq!(e.message(), "Please pass at least one modification");
        let out = plan_set_params(
            &cfg,
            &op(json!({"group_name": "default", "alloc_policy": "unallocable", "ndparams": {"ssh_port": 2222},
                        "ipolicy": {"vcpu-ratio": 8}})),
        )
        .unwrap();
        assert_eq!(out.result, json!([["ndparams", "{'ssh_port': 2222}"]]));
        apply(&mut cfg, &out);
        let g = &cfg.nodegroups[testcfg::GROUP];
        assert_eq!(g.alloc_policy, "unallocable");
        assert_eq!(g.ipolicy["vcpu-ratio"], json!(8.0));
        // reset to default
        let out = plan_set_params(
            &cfg,
            &op(json!({"group_name": "default", "ndparams": {"ssh_port": "default"}})),
        )
        .unwrap();
        apply(&mut cfg, &out);
        assert!(cfg.nodegroups[testcfg::GROUP].ndparams.is_empty());
        let e = plan_set_params(
            &cfg,
            &op(json!({"group_name": "default", "ipolicy": {"std": {"cpu-count": 1}}})),
        )
        .unwrap_err();
        assert_eq!(e.message(), "std cannot appear in group instance specs");
    }

    #[test]
    fn set_params_warns_about_policy_violations() {
        let mut cfg = testcfg::config();
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, true);
        let out = plan_set_params(
            &cfg,
            &op(json!({"group_name": "default", "ipolicy": {"disk-templates": ["diskless"]}})),
        )
        .unwrap();
        assert_eq!(
            out.pre,
            vec![super::super::cluster::checks::Fb::Warning(
                "After the ipolicy change the following instances violate them: inst1.example.com"
                    .into()
            )]
        );
    }

    #[test]
    fn assign_single_node_to_new_group() {
        let mut cfg = testcfg::config();
        let out = plan_add(&cfg, &op(json!({"group_name": "grp2"})), G2).unwrap();
        apply(&mut cfg, &out);
        let out = plan_assign(
            &cfg,
            &op(json!({"group_name": "grp2", "nodes": ["node1.example.com"]})),
            Some(&[G2.to_string(), testcfg::GROUP.to_string()]),
        )
        .unwrap();
        apply(&mut cfg, &out);
        assert_eq!(cfg.nodes[testcfg::NODE].group, G2);
        assert_eq!(cfg.nodes[testcfg::NODE].serial_no, 2);
        assert_eq!(cfg.nodegroups[testcfg::GROUP].serial_no, 2);
        // now the old group is empty and can go
        assert!(plan_remove(&cfg, &op(json!({"group_name": "default"}))).is_ok());
        // assigning again is a no-op
        let out = plan_assign(
            &cfg,
            &op(json!({"group_name": "grp2", "nodes": ["node1"]})),
            None,
        )
        .unwrap();
        assert!(out.ops.is_empty());
        // stale locks are detected
        let e = plan_assign(
            &cfg,
            &op(json!({"group_name": "default", "nodes": ["node1"]})),
            Some(&[testcfg::GROUP.to_string()]),
        )
        .unwrap_err();
        assert!(
            e.message()
                .starts_with("Nodes changed groups since locks were acquired"),
            "{e}"
        );
        let e = plan_assign(
            &cfg,
            &op(json!({"group_name": "grp2", "nodes": ["node9"]})),
            None,
        )
        .unwrap_err();
        assert_eq!(e.message(), "Node 'node9' not known");
    }

    #[test]
    fn verify_disks_reports_missing_files() {
        let mut cfg = testcfg::config();
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, true);
        let r = verify_group_disks(&cfg, testcfg::GROUP, &|_| false);
        assert_eq!(r, json!([{}, [], {}]), "inactive disks are not checked");
        cfg.instances
            .values_mut()
            .for_each(|i| i.disks_active = true);
        let r = verify_group_disks(&cfg, testcfg::GROUP, &|_| false);
        assert_eq!(
            r,
            json!([{}, [], {"inst1.example.com": [[testcfg::NODE, "/nonexistent/inst1.example.com/disk0"]]}])
        );
        assert_eq!(
            verify_group_disks(&cfg, testcfg::GROUP, &|_| true),
            json!([{}, [], {}])
        );
    }
}
