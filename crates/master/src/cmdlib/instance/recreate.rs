//! OP_INSTANCE_RECREATE_DISKS: create again the disks of an instance whose
//! storage was lost, optionally with a new size, mode or spindle count.
//!
//! As in Ganeti (and its man page), only missing disks are recreated: a
//! disk that still exists is never overwritten, since its data may be all
//! that is left, and the operation is refused instead. Unlike Ganeti, which
//! records the new parameters before it creates anything and creates disk
//! by disk, everything is checked first (indices, parameters, node, that
//! none of the chosen disks exists), then the disks are created, and only
//! then is the configuration changed; a failure on the way removes what
//! this operation created. A refused or failed recreate therefore leaves
//! the instance exactly as it was.
//!
//! Nodes: the node layer of this release reaches the local node only, so
//! `nodes` may name the instance's current node(s) and nothing else; an
//! allocator is refused as everywhere in this release. New file disks are
//! sparse and read as zeros, so the cluster's `prealloc_wipe_disks` has
//! nothing to add for them.

use std::collections::BTreeMap;

use ganeti_node::DiskSpec;
use ganeti_types::params::{force_dict_types, VType};
use ganeti_types::{now_f64, ConfigData, Dict, Disk, GanetiError, Instance};
use serde_json::Value;

use super::common::{self, lookup_instance};
use crate::cmdlib::util::{str_list, str_param};
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

/// Ganeti's `IDISK_PARAMS_TYPES`.
const IDISK_TYPES: &[(&str, VType)] = &[
    ("size", VType::Size),
    ("spindles", VType::Int),
    ("mode", VType::Str),
    ("adopt", VType::Str),
    ("vg", VType::Str),
    ("metavg", VType::Str),
    ("provider", VType::Str),
    ("access", VType::Str),
    ("name", VType::MaybeStr),
    ("type", VType::Str),
];

/// The disk parameters a recreate may change.
const MODIFIABLE: &[&str] = &["size", "mode", "spindles"];

/// The requested disks: `(index, changes)`, checked and typed. A plain list
/// of indices is Ganeti's older form; it is sorted and deduplicated.
fn requested_disks(op: &Dict) -> Result<Vec<(usize, Dict)>, GanetiError> {
    let list = op
        .get("disks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let bad = || GanetiError::wrong_input("Invalid disk specification for recreate-disks");
    let index = |v: &Value| {
        v.as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or_else(bad)
    };
    if list.first().is_some_and(Value::is_u64) {
        let mut idx = list.iter().map(index).collect::<Result<Vec<_>, _>>()?;
        idx.sort_unstable();
        idx.dedup();
        return Ok(idx.into_iter().map(|i| (i, Dict::new())).collect());
    }
    let mut out: Vec<(usize, Dict)> = Vec::new();
    for item in &list {
        let (i, params) = match item.as_array().map(Vec::as_slice) {
            Some([i, Value::Object(p)]) => (index(i)?, p.clone()),
            _ => return Err(bad()),
        };
        out.push((i, params));
    }
    let mut dups: Vec<usize> = out
        .iter()
        .map(|(i, _)| *i)
        .filter(|i| out.iter().filter(|(j, _)| j == i).count() > 1)
        .collect();
    dups.sort_unstable();
    dups.dedup();
    if !dups.is_empty() {
        let dups: Vec<String> = dups.iter().map(usize::to_string).collect();
        return Err(GanetiError::wrong_input(format!(
            "Some disks have been specified more than once: {}",
            dups.join(", ")
        )));
    }
    for (i, params) in &mut out {
        *params = force_dict_types(params, IDISK_TYPES, false)?;
        let mut unsupported: Vec<&str> = params
            .keys()
            .map(String::as_str)
            .filter(|k| !MODIFIABLE.contains(k))
            .collect();
        unsupported.sort_unstable();
        if !unsupported.is_empty() {
            return Err(GanetiError::wrong_input(format!(
                "Parameters for disk {i} try to change unmodifyable parameter(s): {}",
                unsupported.join(", ")
            )));
        }
        if let Some(mode) = params.get("mode").and_then(Value::as_str) {
            if mode != "rw" && mode != "ro" {
                return Err(GanetiError::wrong_input(format!(
                    "Invalid disk access mode '{mode}'"
                )));
            }
        }
    }
    Ok(out)
}

/// The allocator the opcode asks for (`.` = the cluster default).
fn requested_allocator(m: &Master, op: &Dict) -> Result<Option<String>, GanetiError> {
    let Some(ia) = str_param(op, "iallocator").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if ia != "." {
        return Ok(Some(ia.to_string()));
    }
    let default = m.with_config(|c| c.cluster.default_iallocator.clone())?;
    if default.is_empty() {
        return Err(GanetiError::wrong_input(
            "No iallocator or node given and no cluster-wide default iallocator found; please specify either an iallocator or a node, or set a cluster-wide default iallocator",
        ));
    }
    Ok(Some(default))
}

/// Submission-time checks (Ganeti's `CheckArguments`).
pub fn check(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    requested_disks(op)?;
    if !str_list(op, "nodes").is_empty()
        && str_param(op, "iallocator").is_some_and(|s| !s.is_empty())
    {
        return Err(GanetiError::wrong_input(
            "Do not specify both, iallocator and node",
        ));
    }
    requested_allocator(m, op)?;
    Ok(())
}

/// The instance's lock and those of its node and of any node named.
pub fn locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let mut l = common::instance_and_node_locks(m, op)?;
    for name in str_list(op, "nodes") {
        let uuid = m.with_config(|c| c.expand_node(&name).map(|n| n.uuid.clone()))??;
        let req = LockReq::exclusive(Level::Node, uuid);
        if !l.contains(&req) {
            l.push(req);
        }
    }
    Ok(l)
}

/// The nodes of an instance, primary first.
fn instance_nodes(cfg: &ConfigData, inst: &Instance) -> Vec<String> {
    let mut nodes = vec![inst.primary_node.clone()];
    nodes.extend(cfg.instance_secondaries(inst));
    nodes
}

fn exclusive_storage(cfg: &ConfigData, node_uuid: &str) -> bool {
    cfg.nodes
        .get(node_uuid)
        .map(|n| crate::cmdlib::node::filled_ndparams(cfg, n))
        .and_then(|p| p.get("exclusive_storage").and_then(Value::as_bool))
        .unwrap_or(false)
}

/// The disks to create, with their changes applied, after every check.
fn plan(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst: &Instance,
    op: &Dict,
) -> Result<Vec<Disk>, GanetiError> {
    let allocator = requested_allocator(ctx.master, op)?;
    let new_nodes = str_list(op, "nodes")
        .iter()
        .map(|n| cfg.expand_node(n).map(|n| n.uuid.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let current = instance_nodes(cfg, inst);
    if !new_nodes.is_empty() && new_nodes.len() != current.len() {
        return Err(GanetiError::wrong_input(format!(
            "Instance {} currently has {} nodes, but {} replacement nodes were specified",
            inst.name,
            current.len(),
            new_nodes.len()
        )));
    }
    let primary = new_nodes.first().unwrap_or(&inst.primary_node);
    if allocator.is_none() {
        common::check_node_online(cfg, primary, None)?;
    }
    if inst.disks.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "Instance '{}' has no disks",
            inst.name
        )));
    }
    let moving = allocator.is_some() || !new_nodes.is_empty();
    let old_primary_offline = cfg.nodes.get(&inst.primary_node).is_some_and(|n| n.offline);
    if !(moving && old_primary_offline) {
        common::check_instance_state(
            ctx,
            cfg,
            inst,
            common::INSTANCE_NOT_RUNNING,
            "cannot recreate disks",
        )?;
    }
    let disks: Vec<Disk> = cfg.instance_disks(inst).into_iter().cloned().collect();
    let requested = requested_disks(op)?;
    let selected: BTreeMap<usize, Dict> = if requested.is_empty() {
        (0..disks.len()).map(|i| (i, Dict::new())).collect()
    } else {
        requested.into_iter().collect()
    };
    if let Some(max) = selected.keys().max().filter(|&&m| m >= disks.len()) {
        return Err(GanetiError::wrong_input(format!(
            "Invalid disk index '{max}'"
        )));
    }
    if moving && selected.len() != disks.len() {
        return Err(GanetiError::wrong_input(
            "Can't recreate disks partially and change the nodes at the same time",
        ));
    }
    if let Some(name) = allocator {
        return Err(common::iallocator_unavailable(&name));
    }
    if !new_nodes.is_empty() && new_nodes != current {
        return Err(GanetiError::wrong_input(format!(
            "Recreating the disks of instance {} on other nodes is not supported by this release",
            inst.name
        )));
    }
    let es = current.iter().any(|n| exclusive_storage(cfg, n));
    let mut out = Vec::new();
    for (idx, changes) in selected {
        if !es && changes.get("spindles").is_some_and(|v| !v.is_null()) {
            return Err(GanetiError::wrong_input(
                "Spindles in instance disks cannot be specified when exclusive storage is not active",
            ));
        }
        let mut d = disks[idx].clone();
        if let Some(size) = changes.get("size").and_then(Value::as_u64) {
            d.size = size;
        }
        if let Some(mode) = changes.get("mode").and_then(Value::as_str) {
            d.mode = mode.to_string();
        }
        if let Some(sp) = changes.get("spindles").and_then(Value::as_u64) {
            d.spindles = u32::try_from(sp).ok();
        }
        d.serial_no += 1;
        d.mtime = now_f64();
        out.push(d);
    }
    Ok(out)
}

fn spec(d: &Disk) -> Result<DiskSpec, GanetiError> {
    DiskSpec::from_disk(d).map_err(|e| GanetiError::OpExec(e.to_string()))
}

pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    let disks = plan(ctx, &cfg, &inst, &op)?;
    let node = cfg.node_name(&inst.primary_node);
    let specs = disks.iter().map(spec).collect::<Result<Vec<_>, _>>()?;
    let create_err = |d: &DiskSpec, e: &dyn std::fmt::Display| {
        GanetiError::OpExec(format!(
            "Can't create block device {} on node {node} for instance {}: {e}",
            d.iv_name, inst.name
        ))
    };
    // Ganeti finds an existing disk only when it creates it, after the
    // pre hooks (and not at all in a dry run)
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    for s in &specs {
        let found = ctx.node().blockdev_find(s).map_err(|e| create_err(s, &e))?;
        if let Some(st) = found {
            return Err(create_err(
                s,
                &format!(
                    "{}: the disk exists; only missing disks are recreated",
                    st.dev_path.display()
                ),
            ));
        }
    }
    let file_dir = disks
        .first()
        .and_then(Disk::file_path)
        .and_then(|p| std::path::Path::new(p).parent())
        .map(std::path::Path::to_path_buf);
    if let Some(dir) = &file_dir {
        ctx.node().file_storage_dir_create(dir).map_err(|e| {
            GanetiError::OpExec(format!(
                "Failed to create directory '{}' on node {node}: {e}",
                dir.display()
            ))
        })?;
    }
    let mut created: Vec<&DiskSpec> = Vec::new();
    let undo = |ctx: &OpCtx<'_>, created: &[&DiskSpec]| {
        for s in created.iter().rev() {
            let _ = ctx.node().blockdev_remove(s);
        }
        if let Some(dir) = &file_dir {
            // removes the directory only if this left it empty
            let _ = ctx.node().file_storage_dir_remove(dir);
        }
    };
    for s in &specs {
        if let Err(e) = ctx.node().blockdev_create(s) {
            undo(ctx, &created);
            return Err(create_err(s, &e));
        }
        created.push(s);
    }
    let ops = disks
        .into_iter()
        .map(|d| ConfigOp::PutDisk(Box::new(d)))
        .collect();
    if let Err(e) = ctx.commit(ops) {
        undo(ctx, &created);
        return Err(e);
    }
    Ok(Value::Null)
}
