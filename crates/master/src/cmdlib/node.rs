//! Node opcodes: modify a node's flags and parameters, and list the space
//! of its storage units.
//!
//! `OP_NODE_SET_PARAMS` follows Ganeti's role model: a node is exactly one
//! of master candidate, drained, offline or regular; the master's role only
//! changes through a master failover; demoting the last candidates needs
//! `auto_promote`. The planner is pure (see [`super::cluster::checks`]).
//! `OP_NODE_QUERY_STORAGE` asks the node layer for its storage listing
//! (Ganeti's `storage_list`: the file storage directory with the files in
//! it summed up as "used", or LVM volume groups / physical volumes) and
//! adds the fields only the master knows (`node`, `type`), rows sorted by
//! name as Ganeti sorts them.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use ganeti_node::{StorageEntry, StorageField, StorageListRequest, StorageType};
use ganeti_types::params::fill;
use ganeti_types::{constants, ConfigData, Dict, ErrorClass, GanetiError, Node};
use serde_json::{json, Value};

use super::cluster::checks::{
    check_ndparams, comma_join, master_candidate_stats, merge_disk_state, merge_hv_state, opt_dict,
    run_planned, touch, updated_params, Outcome, NDC_GLOBALS,
};
use super::util::{bool_param, opt_bool, req_str, str_list, str_param};
use super::{OpCtx, OpImpl};
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[
    OpImpl {
        op_id: "OP_NODE_SET_PARAMS",
        locks: locks_set_params,
        check: check_set_params,
        exec: exec_set_params,
        hooks: Some(&crate::hooks::defs::NODE_MODIFY),
    },
    OpImpl {
        op_id: "OP_NODE_QUERY_STORAGE",
        locks: locks_query_storage,
        check: check_query_storage,
        exec: exec_query_storage,
        hooks: None,
    },
];

// --- OP_NODE_SET_PARAMS -----------------------------------------------------------

/// The modifications that count as "something to do" (Ganeti's `all_mods`).
const MOD_KEYS: &[&str] = &[
    "offline",
    "master_candidate",
    "drained",
    "master_capable",
    "vm_capable",
    "secondary_ip",
    "ndparams",
    "hv_state",
    "disk_state",
];

fn given(op: &Dict, k: &str) -> bool {
    op.get(k).map(|v| !v.is_null()).unwrap_or(false)
}

fn might_demote(op: &Dict) -> bool {
    opt_bool(op, "master_candidate") == Some(false)
        || opt_bool(op, "offline") == Some(true)
        || opt_bool(op, "drained") == Some(true)
        || opt_bool(op, "master_capable") == Some(false)
}

fn check_set_params_static(op: &Dict) -> Result<(), GanetiError> {
    if !MOD_KEYS.iter().any(|k| given(op, k)) {
        return Err(GanetiError::wrong_input(
            "Please pass at least one modification",
        ));
    }
    let trues = MOD_KEYS
        .iter()
        .filter(|k| op.get(**k) == Some(&Value::Bool(true)))
        .count();
    if trues > 1 {
        return Err(GanetiError::wrong_input(
            "Can't set the node into more than one state at the same time",
        ));
    }
    if let Some(ip) = str_param(op, "secondary_ip") {
        if ip.parse::<Ipv4Addr>().is_err() {
            return Err(GanetiError::wrong_input(format!(
                "Secondary IP ({ip}) needs to be a valid IPv4 address"
            )));
        }
    }
    if let Some(nd) = opt_dict(op, "ndparams") {
        check_ndparams(&updated_params(&Dict::new(), &nd, false))?;
    }
    if let Some(hv) = opt_dict(op, "hv_state") {
        merge_hv_state(&hv, &Dict::new())?;
    }
    if let Some(ds) = opt_dict(op, "disk_state") {
        merge_disk_state(&ds, &Dict::new())?;
    }
    Ok(())
}

fn check_set_params(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    check_set_params_static(op)
}

fn target_node<'a>(cfg: &'a ConfigData, op: &Dict) -> Result<&'a Node, GanetiError> {
    if let Some(u) = str_param(op, "node_uuid") {
        if let Some(n) = cfg.nodes.get(u) {
            return Ok(n);
        }
    }
    cfg.expand_node(req_str(op, "node_name")?)
}

fn locks_set_params(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let uuid = m.with_config(|c| target_node(c, op).map(|n| n.uuid.clone()))??;
    let lock_all = bool_param(op, "auto_promote") && might_demote(op);
    let node_lock = if lock_all {
        LockReq::all(Level::Node, true)
    } else {
        LockReq::exclusive(Level::Node, uuid)
    };
    Ok(vec![LockReq::bgl_shared(), node_lock])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Candidate,
    Drained,
    Offline,
    Regular,
}

impl Role {
    fn of(n: &Node) -> Role {
        if n.master_candidate {
            Role::Candidate
        } else if n.drained {
            Role::Drained
        } else if n.offline {
            Role::Offline
        } else {
            Role::Regular
        }
    }
    /// `(master_candidate, drained, offline)`.
    fn flags(self) -> [bool; 3] {
        match self {
            Role::Candidate => [true, false, false],
            Role::Drained => [false, true, false],
            Role::Offline => [false, false, true],
            Role::Regular => [false, false, false],
        }
    }
}

const FLAG_NAMES: [&str; 3] = ["master_candidate", "drained", "offline"];

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// The effective node parameters of a node (cluster < group < node).
pub(crate) fn filled_ndparams(cfg: &ConfigData, n: &Node) -> Dict {
    let group = cfg
        .nodegroups
        .get(&n.group)
        .map(|g| g.ndparams.clone())
        .unwrap_or_default();
    fill(&[
        &constants::nd_defaults(),
        &cfg.cluster.ndparams,
        &group,
        &n.ndparams,
    ])
}

/// Plan a node modification (Ganeti's `LUNodeSetParams`).
fn plan_set_params(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    check_set_params_static(op)?;
    let node = target_node(cfg, op)?;
    let is_master = node.uuid == cfg.cluster.master_node;
    let lock_all = bool_param(op, "auto_promote") && might_demote(op);
    let mut out = Outcome::default();

    // [master_candidate, drained, offline] as requested
    let mut req: [Option<bool>; 3] = [
        opt_bool(op, "master_candidate"),
        opt_bool(op, "drained"),
        opt_bool(op, "offline"),
    ];
    let master_capable = opt_bool(op, "master_capable");
    let vm_capable = opt_bool(op, "vm_capable");
    let powered = opt_bool(op, "powered");

    if req.iter().any(Option::is_some) && is_master {
        return Err(GanetiError::wrong_input(
            "The master role can be changed only via master-failover",
        ));
    }
    if req[0] == Some(true) && !node.master_capable {
        return Err(GanetiError::wrong_state(format!(
            "Node {} is not master capable, cannot make it a master candidate",
            node.name
        )));
    }
    if vm_capable == Some(false) {
        let hosts = cfg.instances.values().any(|i| {
            i.primary_node == node.uuid || cfg.instance_secondaries(i).contains(&node.uuid)
        });
        if hosts {
            return Err(GanetiError::wrong_state(format!(
                "Node {} hosts instances, cannot unset the vm_capable flag",
                node.name
            )));
        }
    }
    if node.master_candidate && might_demote(op) && !lock_all {
        let (mc_remaining, mc_should, _) = master_candidate_stats(cfg, &[node.uuid.as_str()]);
        if mc_remaining < mc_should {
            return Err(GanetiError::wrong_state(
                "Not enough master candidates, please pass auto promote option to allow promotion \
                 (--auto-promote or RAPI auto_promote=True)",
            ));
        }
    }
    let old_flags = [node.master_candidate, node.drained, node.offline];
    if old_flags.iter().filter(|f| **f).count() > 1 {
        return Err(GanetiError::Config(format!(
            "Node {} state is invalid: master_candidate={}, drain={}, offline={}",
            node.name,
            py_bool(node.master_candidate),
            py_bool(node.drained),
            py_bool(node.offline)
        )));
    }
    let old_role = Role::of(node);

    for (i, name) in FLAG_NAMES.iter().enumerate() {
        if req[i] == Some(false) && !old_flags[i] {
            out.info(format!(
                "Ignoring request to unset flag {name}, already unset"
            ));
            req[i] = None;
        }
    }

    let oob = filled_ndparams(cfg, node)
        .get("oob_program")
        .and_then(Value::as_str)
        .map(|s| !s.is_empty())
        .unwrap_or(false);
    if oob {
        if req[2] == Some(false) && !(node.powered || powered == Some(true)) {
            return Err(GanetiError::wrong_state(format!(
                "Node {} needs to be turned on before its offline status can be reset",
                node.name
            )));
        }
    } else if powered.is_some() {
        return Err(GanetiError::wrong_state(format!(
            "Unable to change powered state for node {} as it does not support out-of-band handling",
            node.name
        )));
    }

    if req[1] == Some(false)
        || req[2] == Some(false)
        || (master_capable == Some(true) && !node.master_capable)
    {
        let (mc_now, mc_should, _) = master_candidate_stats(cfg, &[]);
        let mc_should = (mc_should + 1).min(cfg.cluster.candidate_pool_size as usize);
        if mc_now < mc_should {
            req[0] = Some(true);
            out.info("Auto-promoting node to master candidate");
        }
    }
    if master_capable == Some(false) && node.master_candidate {
        if is_master {
            return Err(GanetiError::wrong_state(
                "Master must remain master capable",
            ));
        }
        out.info("Demoting from master candidate");
        req[0] = Some(false);
    }

    let new_role = if req[0] == Some(true) {
        Role::Candidate
    } else if req[1] == Some(true) {
        Role::Drained
    } else if req[2] == Some(true) {
        Role::Offline
    } else if req.contains(&Some(false)) {
        Role::Regular
    } else {
        old_role
    };
    if old_role == Role::Offline && new_role != old_role {
        out.warn(
            "Transitioning node from offline to online state without using re-add. Please make \
             sure the node is healthy!",
        );
    }

    let secondary_ip = str_param(op, "secondary_ip");
    if let Some(sip) = secondary_ip {
        let master = cfg.master_node().ok_or_else(|| {
            GanetiError::Config("The master node is not in the configuration".into())
        })?;
        let single_homed = master.secondary_ip == master.primary_ip;
        let force_ok = bool_param(op, "force") && node.uuid == master.uuid;
        if single_homed && sip != node.primary_ip {
            if force_ok {
                out.warn(
                    "Transitioning from single-homed to multi-homed cluster; all nodes will \
                     require a secondary IP address",
                );
            } else {
                return Err(GanetiError::wrong_input(
                    "Changing the secondary ip on a single-homed cluster requires the --force \
                     option to be passed, and the target node to be the master",
                ));
            }
        } else if !single_homed && sip == node.primary_ip {
            if force_ok {
                out.warn(
                    "Transitioning from multi-homed to single-homed cluster; secondary IP \
                     addresses will have to be removed",
                );
            } else {
                return Err(GanetiError::wrong_input(
                    "Cannot set the secondary IP to be the same as the primary IP on a \
                     multi-homed cluster, unless the --force option is passed, and the target \
                     node is the master",
                ));
            }
        }
    }

    let mut new = node.clone();
    if let Some(nd) = opt_dict(op, "ndparams").filter(|d| !d.is_empty()) {
        let merged = check_ndparams(&updated_params(&node.ndparams, &nd, false))?;
        let mut globals: Vec<&str> = NDC_GLOBALS
            .iter()
            .copied()
            .filter(|g| nd.contains_key(*g))
            .collect();
        globals.sort_unstable();
        if !globals.is_empty() {
            return Err(GanetiError::wrong_input(format!(
                "The following node parameters are global and cannot be customized at node \
                 level, please modify them at cluster or group level: {}",
                comma_join(globals)
            )));
        }
        new.ndparams = merged;
    }
    if let Some(hv) = opt_dict(op, "hv_state").filter(|d| !d.is_empty()) {
        new.hv_state_static = merge_hv_state(&hv, &node.hv_state_static)?;
    }
    if let Some(ds) = opt_dict(op, "disk_state").filter(|d| !d.is_empty()) {
        new.disk_state_static = merge_disk_state(&ds, &node.disk_state_static)?;
    }

    // Execution.
    let mut result = Vec::new();
    if let Some(p) = powered {
        new.powered = p;
    }
    if let Some(v) = master_capable {
        new.master_capable = v;
        result.push(json!(["master_capable", py_bool(v)]));
    }
    if let Some(v) = vm_capable {
        new.vm_capable = v;
        result.push(json!(["vm_capable", py_bool(v)]));
    }
    if let Some(sip) = secondary_ip {
        new.secondary_ip = sip.to_string();
        result.push(json!(["secondary_ip", sip]));
    }
    let mut cluster_change = None;
    if new_role != old_role {
        let new_flags = new_role.flags();
        for i in 0..3 {
            if old_flags[i] != new_flags[i] {
                result.push(json!([FLAG_NAMES[i], py_bool(new_flags[i])]));
            }
        }
        new.master_candidate = new_flags[0];
        new.drained = new_flags[1];
        new.offline = new_flags[2];
        if old_role == Role::Candidate && cfg.cluster.candidate_certs.contains_key(&node.uuid) {
            let mut c = cfg.cluster.clone();
            c.candidate_certs.remove(&node.uuid);
            touch!(c);
            cluster_change = Some(c);
        }
    }
    touch!(new);
    let node_uuid = new.uuid.clone();
    let mut after = cfg.clone();
    after.nodes.insert(node_uuid.clone(), new.clone());
    out.ops.push(ConfigOp::PutNode(Box::new(new)));
    if new_role != old_role && lock_all {
        adjust_candidate_pool(&after, &node_uuid, &mut out);
    }
    if let Some(c) = cluster_change {
        out.ops.push(ConfigOp::PutCluster(Box::new(c)));
    }
    out.result = Value::Array(result);
    Ok(out)
}

/// Ganeti's `AdjustCandidatePool`: promote nodes until the pool is full
/// again (the modified node excepted).
fn adjust_candidate_pool(cfg: &ConfigData, except: &str, out: &mut Outcome) {
    let (mut now, wanted, _) = master_candidate_stats(cfg, &[except]);
    let mut promoted = Vec::new();
    let mut nodes: Vec<&Node> = cfg.nodes.values().collect();
    nodes.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
    for n in nodes {
        if now >= wanted {
            break;
        }
        if n.uuid == except || n.master_candidate || n.offline || n.drained || !n.master_capable {
            continue;
        }
        let mut p = n.clone();
        p.master_candidate = true;
        touch!(p);
        promoted.push(p.name.clone());
        out.ops.push(ConfigOp::PutNode(Box::new(p)));
        now += 1;
    }
    if !promoted.is_empty() {
        out.exec_info(format!(
            "Promoted nodes to master candidate role: {}",
            comma_join(promoted)
        ));
    }
    if now > wanted {
        out.exec_info(format!(
            "Note: more nodes are candidates ({now}) than desired ({wanted})"
        ));
    }
}

fn exec_set_params(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_set_params(cfg, &op))
}

// --- OP_NODE_QUERY_STORAGE --------------------------------------------------------

/// Storage fields Ganeti knows.
const VALID_STORAGE_FIELDS: &[&str] = &[
    "allocatable",
    "free",
    "name",
    "node",
    "size",
    "type",
    "used",
];
/// Storage types Ganeti knows.
const STORAGE_TYPES: &[&str] = &[
    "blockdev",
    "diskless",
    "ext",
    "file",
    "gluster",
    "lvm-pv",
    "lvm-vg",
    "rbd",
    "sharedfile",
];
/// Storage types that can be listed (Ganeti's `STS_REPORT_NODE_STORAGE`).
const REPORTABLE: &[&str] = &["file", "gluster", "lvm-pv", "lvm-vg", "sharedfile"];

/// The storage type of a disk template.
fn template_storage_type(t: &str) -> &str {
    match t {
        "plain" | "drbd" => "lvm-vg",
        other => other,
    }
}

/// Disk templates using a storage type.
fn storage_type_templates(st: &str) -> &'static [&'static str] {
    match st {
        "lvm-vg" | "lvm-pv" => &["drbd", "plain"],
        "file" => &["file"],
        "sharedfile" => &["sharedfile"],
        "gluster" => &["gluster"],
        "diskless" => &["diskless"],
        "blockdev" => &["blockdev"],
        "ext" => &["ext"],
        "rbd" => &["rbd"],
        _ => &[],
    }
}

fn check_query_storage(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    let bad: Vec<String> = str_list(op, "output_fields")
        .into_iter()
        .filter(|f| !VALID_STORAGE_FIELDS.contains(&f.as_str()))
        .collect();
    if !bad.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "Unknown output fields selected: {}",
            bad.join(",")
        )));
    }
    if let Some(st) = str_param(op, "storage_type") {
        if !STORAGE_TYPES.contains(&st) {
            return Err(GanetiError::wrong_input(format!(
                "Unknown storage type '{st}'"
            )));
        }
    }
    Ok(())
}

fn wanted_nodes(cfg: &ConfigData, op: &Dict) -> Result<Vec<String>, GanetiError> {
    let names = str_list(op, "nodes");
    if names.is_empty() {
        return Ok(cfg.nodes.keys().cloned().collect());
    }
    let mut out = Vec::new();
    for n in names {
        let u = cfg.expand_node(&n)?.uuid.clone();
        if !out.contains(&u) {
            out.push(u);
        }
    }
    Ok(out)
}

fn locks_query_storage(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let mut reqs = vec![LockReq::bgl_shared()];
    if str_list(op, "nodes").is_empty() {
        reqs.push(LockReq::all(Level::Node, false));
    } else {
        let nodes = m.with_config(|c| wanted_nodes(c, op))??;
        reqs.extend(nodes.into_iter().map(|n| LockReq::shared(Level::Node, n)));
    }
    Ok(reqs)
}

/// The storage type to list: the opcode's (which must be enabled) or the
/// one of the first enabled disk template.
fn storage_type(cfg: &ConfigData, op: &Dict) -> Result<String, GanetiError> {
    let enabled = &cfg.cluster.enabled_disk_templates;
    if let Some(st) = str_param(op, "storage_type") {
        if !STORAGE_TYPES.contains(&st) {
            return Err(GanetiError::wrong_input(format!(
                "Unknown storage type '{st}'"
            )));
        }
        if !storage_type_templates(st)
            .iter()
            .any(|t| enabled.iter().any(|e| e == t))
        {
            return Err(GanetiError::prereq(
                format!(
                    "No disk template of storage type '{st}' is enabled in this cluster. Enabled \
                     disk templates are: {}",
                    enabled.join(",")
                ),
                ErrorClass::WrongInput,
            ));
        }
        return Ok(st.to_string());
    }
    let first = enabled
        .first()
        .ok_or_else(|| GanetiError::Config("No disk templates are enabled".into()))?;
    let st = template_storage_type(first);
    if !REPORTABLE.contains(&st) {
        return Err(GanetiError::wrong_input(format!(
            "Storage reporting for storage type '{st}' is not supported. Please use the \
             --storage-type option to specify one of the supported storage types ({}) or set the \
             default disk template to one that supports storage reporting.",
            comma_join(REPORTABLE)
        )));
    }
    Ok(st.to_string())
}

/// The fields to ask the node for: the output fields without the ones
/// only the master knows, and always the name (rows are sorted by it).
fn node_fields(output_fields: &[String]) -> Vec<StorageField> {
    let mut out = vec![StorageField::Name];
    for f in output_fields.iter().filter_map(|f| StorageField::parse(f)) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// One row of the storage listing for the given output fields.
fn storage_row(fields: &[String], node: &str, st: &str, e: &StorageEntry) -> Vec<Value> {
    fields
        .iter()
        .map(|f| match f.as_str() {
            "node" => json!(node),
            "type" => json!(st),
            "name" => json!(e.name),
            "size" => json!(e.size),
            "used" => json!(e.used),
            "free" => json!(e.free),
            "allocatable" => json!(e.allocatable),
            _ => Value::Null,
        })
        .collect()
}

fn exec_query_storage(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    check_query_storage(ctx.master, &op)?;
    let cfg = ctx.config()?;
    let st = storage_type(&cfg, &op)?;
    let mut nodes = wanted_nodes(&cfg, &op)?;
    ganeti_query::nice_sort(&mut nodes);
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    let fields = str_list(&op, "output_fields");
    let dir = match st.as_str() {
        "file" => Some(PathBuf::from(&cfg.cluster.file_storage_dir)),
        "sharedfile" => Some(PathBuf::from(&cfg.cluster.shared_file_storage_dir)),
        _ => None,
    };
    let req = StorageType::parse(&st).map(|storage_type| StorageListRequest {
        storage_type,
        dir,
        name: str_param(&op, "name").map(str::to_owned),
        fields: node_fields(&fields),
    });
    let mut names: Vec<(String, String)> = nodes
        .iter()
        .filter_map(|u| cfg.nodes.get(u))
        .filter(|n| !n.offline)
        .map(|n| (n.uuid.clone(), n.name.clone()))
        .collect();
    names.sort_by(|a, b| ganeti_query::nice_cmp(&a.1, &b.1));
    let mut rows = Vec::new();
    for (uuid, name) in names {
        if uuid != cfg.cluster.master_node {
            ctx.log_warning(format!(
                "Can't get storage data from node {name}: only the master node is reachable in this release"
            ));
            continue;
        }
        let Some(req) = &req else {
            ctx.log_warning(format!(
                "Can't get storage data from node {name}: storage type '{st}' cannot be listed by this release"
            ));
            continue;
        };
        let mut entries = match ctx.node().storage_list(req) {
            Ok(e) => e,
            Err(e) => {
                ctx.log_warning(format!("Can't get storage data from node {name}: {e}"));
                continue;
            }
        };
        // one row per name (Ganeti keys the node's rows by name), sorted
        entries.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
        entries.dedup_by(|a, b| a.name == b.name);
        rows.extend(
            entries
                .iter()
                .map(|e| Value::Array(storage_row(&fields, &name, &st, e))),
        );
    }
    Ok(Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::super::cluster::checks::{testcfg, Fb};
    use super::*;

    fn op(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    /// A second, non-master node in the default group.
    fn with_node2(cfg: &mut ConfigData, candidate: bool) -> String {
        let mut n = cfg.nodes[testcfg::NODE].clone();
        n.uuid = "node-2".into();
        n.name = "node2.example.com".into();
        n.primary_ip = "198.51.100.11".into();
        n.secondary_ip = "198.51.100.11".into();
        n.master_candidate = candidate;
        cfg.nodes.insert(n.uuid.clone(), n);
        "node-2".into()
    }

    fn node_after(out: &Outcome, uuid: &str) -> Node {
        out.ops
            .iter()
            .find_map(|o| match o {
                ConfigOp::PutNode(n) if n.uuid == uuid => Some((**n).clone()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn master_flags_refused() {
        let cfg = testcfg::config();
        for flag in ["offline", "drained"] {
            let e = plan_set_params(
                &cfg,
                &op(json!({"node_name": "node1.example.com", flag: true})),
            )
            .unwrap_err();
            assert_eq!(
                e.message(),
                "The master role can be changed only via master-failover"
            );
            assert_eq!(e.error_class(), Some(ErrorClass::WrongInput));
        }
        let e = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node1", "master_candidate": false})),
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "The master role can be changed only via master-failover"
        );
        let e = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node1", "master_capable": false})),
        )
        .unwrap_err();
        assert_eq!(e.message(), "Master must remain master capable");
    }

    #[test]
    fn static_checks() {
        let e = check_set_params_static(&op(json!({"node_name": "node1", "powered": true})))
            .unwrap_err();
        assert_eq!(e.message(), "Please pass at least one modification");
        let e = check_set_params_static(&op(
            json!({"node_name": "n", "offline": true, "drained": true}),
        ))
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Can't set the node into more than one state at the same time"
        );
        let e = check_set_params_static(&op(json!({"node_name": "n", "secondary_ip": "x"})))
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Secondary IP (x) needs to be a valid IPv4 address"
        );
        let e = check_set_params_static(&op(json!({"node_name": "n", "ndparams": {"frob": 1}})))
            .unwrap_err();
        assert_eq!(e.message(), "Unknown parameter 'frob'");
    }

    #[test]
    fn master_ndparams_and_vm_capable() {
        let mut cfg = testcfg::config();
        let out = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node1", "ndparams": {"ssh_port": "2222"}})),
        )
        .unwrap();
        let n = node_after(&out, testcfg::NODE);
        assert_eq!(n.ndparams["ssh_port"], json!(2222));
        assert_eq!(n.serial_no, 2);
        let e = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node1", "ndparams": {"exclusive_storage": true}})),
        )
        .unwrap_err();
        assert!(
            e.message()
                .starts_with("The following node parameters are global"),
            "{e}"
        );
        let out = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node1", "vm_capable": false})),
        )
        .unwrap();
        assert_eq!(out.result, json!([["vm_capable", "False"]]));
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, false);
        let e = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node1", "vm_capable": false})),
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Node node1.example.com hosts instances, cannot unset the vm_capable flag"
        );
        let e = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node1", "vm_capable": true, "powered": true})),
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Unable to change powered state for node node1.example.com as it does not support out-of-band handling"
        );
    }

    #[test]
    fn other_node_roles() {
        let mut cfg = testcfg::config();
        cfg.cluster.candidate_pool_size = 1;
        let n2 = with_node2(&mut cfg, false);
        // drain a regular node
        let out =
            plan_set_params(&cfg, &op(json!({"node_name": "node2", "drained": true}))).unwrap();
        assert_eq!(out.result, json!([["drained", "True"]]));
        let n = node_after(&out, &n2);
        assert!(n.drained && !n.master_candidate && !n.offline);
        cfg.nodes.insert(n2.clone(), n);
        // offline it (from drained): drained goes away
        let out =
            plan_set_params(&cfg, &op(json!({"node_name": "node2", "offline": true}))).unwrap();
        assert_eq!(
            out.result,
            json!([["drained", "False"], ["offline", "True"]])
        );
        cfg.nodes.insert(n2.clone(), node_after(&out, &n2));
        // un-offline: a warning, and unsetting drained is ignored
        let out = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node2", "offline": false, "drained": false})),
        )
        .unwrap();
        assert!(out.pre.contains(&Fb::Info(
            "Ignoring request to unset flag drained, already unset".into()
        )));
        assert!(out.pre.iter().any(
            |f| matches!(f, Fb::Warning(m) if m.starts_with("Transitioning node from offline"))
        ));
        assert_eq!(out.result, json!([["offline", "False"]]));
    }

    #[test]
    fn demoting_candidates_needs_auto_promote() {
        let mut cfg = testcfg::config();
        cfg.cluster.candidate_pool_size = 3;
        let n2 = with_node2(&mut cfg, true);
        let mut n3 = cfg.nodes[&n2].clone();
        n3.uuid = "node-3".into();
        n3.name = "node3.example.com".into();
        n3.master_candidate = false;
        cfg.nodes.insert(n3.uuid.clone(), n3);
        let e = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node2", "master_candidate": false})),
        )
        .unwrap_err();
        assert!(
            e.message().starts_with("Not enough master candidates"),
            "{e}"
        );
        let out = plan_set_params(
            &cfg,
            &op(json!({"node_name": "node2", "master_candidate": false, "auto_promote": true})),
        )
        .unwrap();
        assert!(node_after(&out, "node-3").master_candidate);
        assert!(!node_after(&out, &n2).master_candidate);
        assert!(out.post.contains(&Fb::Info(
            "Promoted nodes to master candidate role: node3.example.com".into()
        )));
    }

    #[test]
    fn storage_types_and_fields() {
        let cfg = testcfg::config();
        assert_eq!(storage_type(&cfg, &Dict::new()).unwrap(), "file");
        let e = storage_type(&cfg, &op(json!({"storage_type": "lvm-vg"}))).unwrap_err();
        assert_eq!(
            e.message(),
            "No disk template of storage type 'lvm-vg' is enabled in this cluster. Enabled disk templates are: file,diskless"
        );
        let mut c2 = cfg.clone();
        c2.cluster.enabled_disk_templates = vec!["diskless".into()];
        let e = storage_type(&c2, &Dict::new()).unwrap_err();
        assert!(
            e.message()
                .starts_with("Storage reporting for storage type 'diskless' is not supported."),
            "{e}"
        );
        let entry = StorageEntry {
            name: "/srv".into(),
            size: Some(10),
            used: Some(1),
            free: Some(5),
            allocatable: true,
        };
        let row = storage_row(
            &[
                "node".into(),
                "type".into(),
                "name".into(),
                "size".into(),
                "used".into(),
                "free".into(),
                "allocatable".into(),
            ],
            "node1",
            "file",
            &entry,
        );
        assert_eq!(
            row,
            vec![
                json!("node1"),
                json!("file"),
                json!("/srv"),
                json!(10),
                json!(1),
                json!(5),
                json!(true)
            ]
        );
        assert_eq!(
            node_fields(&["node".into(), "free".into(), "type".into(), "free".into()]),
            vec![StorageField::Name, StorageField::Free]
        );
    }
}
