//! Instance opcodes (and the export, whose object is an instance).
//!
//! The environment describes the instance as the opcode sees it: in the
//! pre phase as configured; in the post phase as configured afterwards
//! (Ganeti re-reads the instance after marking it up or down), except
//! where Ganeti keeps the object it started with (rename: the post phase
//! still names the old name) or the instance is gone (remove). Disks are
//! always read from the configuration of the phase, as Ganeti does.

use std::collections::BTreeMap;

use ganeti_types::{ConfigData, Disk, GanetiError, Instance};
use serde_json::Value;

use super::{master, op_str};
use crate::cmdlib::instance::common::lookup_instance;
use crate::hooks::env::{instance_env, py, py_bool, HookDisk};
use crate::hooks::{HookDef, HookInput, HookPhase, HookPlan, ObjectType};

/// Which instance object the post phase describes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PostObject {
    /// As configured after the execution (falls back to the pre-phase
    /// object when the instance is gone).
    Current,
    /// The object of the pre phase.
    Pre,
}

/// The instance, the configuration to read its disks from, and its disks.
fn subject_instance<'a>(
    i: &'a HookInput<'a>,
    post_object: PostObject,
) -> Result<(Instance, Vec<Disk>), GanetiError> {
    let pre = lookup_instance(i.pre_cfg, i.op)?;
    let inst = match (i.phase, post_object) {
        (HookPhase::Post, PostObject::Current) => i
            .cfg
            .instances
            .get(&pre.uuid)
            .cloned()
            .unwrap_or(pre.clone()),
        _ => pre.clone(),
    };
    let disks = disks_of(i.cfg, &inst).unwrap_or_else(|| {
        i.pre_cfg
            .instance_disks(&pre)
            .into_iter()
            .cloned()
            .collect()
    });
    Ok((inst, disks))
}

/// The instance's disks in `cfg`, `None` if any of them is gone there.
fn disks_of(cfg: &ConfigData, inst: &Instance) -> Option<Vec<Disk>> {
    inst.disks
        .iter()
        .map(|u| cfg.disks.get(u).cloned())
        .collect()
}

/// Master, primary and secondaries (Ganeti's `GetInstanceNodes`).
fn instance_nodes(cfg: &ConfigData, inst: &Instance, disks: &[Disk]) -> Vec<String> {
    let mut nodes = vec![master(cfg), inst.primary_node.clone()];
    for d in disks {
        for n in d.secondary_nodes() {
            if !nodes.contains(n) {
                nodes.push(n.clone());
            }
        }
    }
    nodes
}

fn env_of(cfg: &ConfigData, inst: &Instance, disks: &[Disk]) -> BTreeMap<String, String> {
    let hook_disks: Vec<HookDisk<'_>> = disks.iter().map(HookDisk::Configured).collect();
    instance_env(cfg, inst, &hook_disks, None)
}

/// The common case: the instance environment plus `extra` opcode keys,
/// on the master and the instance's nodes in both phases.
fn standard(
    i: &HookInput<'_>,
    post_object: PostObject,
    extra: &[(&str, String)],
) -> Result<HookPlan, GanetiError> {
    let (inst, disks) = subject_instance(i, post_object)?;
    let mut env = env_of(i.cfg, &inst, &disks);
    for (k, v) in extra {
        env.insert(k.to_string(), v.clone());
    }
    let nodes = instance_nodes(i.pre_cfg, &inst, &disks);
    Ok(HookPlan {
        env,
        pre_nodes: nodes.clone(),
        post_nodes: nodes,
    })
}

fn start(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    standard(i, PostObject::Current, &[("FORCE", op_str(i.op, "force"))])
}

fn stop(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    standard(
        i,
        PostObject::Current,
        &[("TIMEOUT", op_str(i.op, "timeout"))],
    )
}

fn reboot(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    standard(
        i,
        PostObject::Current,
        &[
            ("IGNORE_SECONDARIES", op_str(i.op, "ignore_secondaries")),
            ("REBOOT_TYPE", op_str(i.op, "reboot_type")),
            ("SHUTDOWN_TIMEOUT", op_str(i.op, "shutdown_timeout")),
        ],
    )
}

fn rename(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    standard(
        i,
        PostObject::Pre,
        &[("INSTANCE_NEW_NAME", op_str(i.op, "new_name"))],
    )
}

fn reinstall(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    standard(i, PostObject::Current, &[])
}

fn recreate_disks(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    standard(i, PostObject::Current, &[])
}

fn grow_disk(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    standard(
        i,
        PostObject::Current,
        &[
            ("DISK", op_str(i.op, "disk")),
            ("AMOUNT", op_str(i.op, "amount")),
            ("ABSOLUTE", op_str(i.op, "absolute")),
        ],
    )
}

/// Pre phase on the master only; post on the instance's nodes and the
/// master, describing the instance that was removed.
fn remove(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let mut plan = standard(
        i,
        PostObject::Current,
        &[("SHUTDOWN_TIMEOUT", op_str(i.op, "shutdown_timeout"))],
    )?;
    let m = master(i.pre_cfg);
    plan.post_nodes.retain(|n| *n != m);
    plan.post_nodes.push(m.clone());
    plan.pre_nodes = vec![m];
    Ok(plan)
}

/// Master, primary and (for a local export) the target node.
fn export(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let mode = i.op.get("mode").and_then(Value::as_str).unwrap_or("local");
    let mut plan = standard(
        i,
        PostObject::Current,
        &[
            ("EXPORT_MODE", mode.to_string()),
            ("EXPORT_NODE", op_str(i.op, "target_node")),
            ("EXPORT_DO_SHUTDOWN", op_str(i.op, "shutdown")),
            ("SHUTDOWN_TIMEOUT", op_str(i.op, "shutdown_timeout")),
            (
                "REMOVE_INSTANCE",
                py_bool(crate::cmdlib::util::bool_param(i.op, "remove_instance")),
            ),
        ],
    )?;
    let inst = lookup_instance(i.pre_cfg, i.op)?;
    let mut nodes = vec![master(i.pre_cfg), inst.primary_node.clone()];
    if mode == "local" {
        if let Some(t) = i.op.get("target_node").and_then(Value::as_str) {
            if let Ok(n) = i.pre_cfg.expand_node(t) {
                nodes.push(n.uuid.clone());
            }
        }
    }
    plan.pre_nodes = nodes.clone();
    plan.post_nodes = nodes;
    Ok(plan)
}

/// The instance a creation computed (passed by the execution), with its
/// disks as requested: no uuids or device facts yet, the `start` flag as
/// status.
fn create(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let Some(s) = i.subject else {
        return Err(GanetiError::OpExec(
            "instance creation hooks need the planned instance".into(),
        ));
    };
    let requested: Vec<HookDisk<'_>> = s
        .disks
        .iter()
        .map(|d| HookDisk::Requested {
            name: d.name.as_deref(),
            size: d.size,
            mode: &d.mode,
        })
        .collect();
    let start = crate::cmdlib::util::bool_param(i.op, "start");
    let mut env = instance_env(i.cfg, &s.inst, &requested, Some(py_bool(start)));
    // the requested disks carry no node facts; the secondaries come from
    // the plan
    let mut secondaries: Vec<String> = Vec::new();
    for d in &s.disks {
        for n in d.secondary_nodes() {
            let name = i.cfg.node_name(n);
            if !secondaries.contains(&name) {
                secondaries.push(name);
            }
        }
    }
    env.insert("INSTANCE_SECONDARIES".into(), secondaries.join(" "));
    env.insert("ADD_MODE".into(), op_str(i.op, "mode"));
    // an import's source, as the execution resolved it
    env.extend(s.extra.clone());
    let mut nodes = vec![master(i.cfg), s.inst.primary_node.clone()];
    for d in &s.disks {
        for n in d.secondary_nodes() {
            if !nodes.contains(n) {
                nodes.push(n.clone());
            }
        }
    }
    Ok(HookPlan {
        env,
        pre_nodes: nodes.clone(),
        post_nodes: nodes,
    })
}

/// The instance with the new memory, vcpus and NICs the modification
/// computed (Ganeti overrides just those); backend and hypervisor
/// parameters as configured in the phase.
fn modify(i: &HookInput<'_>) -> Result<HookPlan, GanetiError> {
    let (inst, disks) = subject_instance(i, PostObject::Current)?;
    let mut shown = inst.clone();
    let mut env = env_of(i.cfg, &inst, &disks);
    if let Some(s) = i.subject {
        shown.nics = s.inst.nics.clone();
        let new_env = env_of(i.cfg, &shown, &disks);
        env.retain(|k, _| !k.starts_with("INSTANCE_NIC"));
        let new_be = crate::cmdlib::instance::common::effective_be(i.cfg, &s.inst.beparams);
        for (key, be) in [
            ("INSTANCE_MINMEM", "minmem"),
            ("INSTANCE_MAXMEM", "maxmem"),
            ("INSTANCE_MEMORY", "maxmem"),
            ("INSTANCE_VCPUS", "vcpus"),
        ] {
            env.insert(key.into(), py(new_be.get(be).unwrap_or(&Value::Null)));
        }
        env.extend(
            new_env
                .into_iter()
                .filter(|(k, _)| k.starts_with("INSTANCE_NIC")),
        );
    }
    if let Some(t) = i.op.get("disk_template").and_then(Value::as_str) {
        env.insert("NEW_DISK_TEMPLATE".into(), t.to_string());
    }
    if let Some(m) =
        i.op.get("runtime_mem")
            .filter(|v| !v.is_null() && v.as_u64() != Some(0))
    {
        env.insert("RUNTIME_MEMORY".into(), py(m));
    }
    let nodes = instance_nodes(i.pre_cfg, &inst, &disks);
    Ok(HookPlan {
        env,
        pre_nodes: nodes.clone(),
        post_nodes: nodes,
    })
}

macro_rules! instance_def {
    ($name:ident, $path:literal, $build:ident) => {
        pub(crate) static $name: HookDef = HookDef {
            path: $path,
            object: Some(ObjectType::Instance),
            build: $build,
            post_callback: None,
        };
    };
}

instance_def!(INSTANCE_ADD, "instance-add", create);
instance_def!(INSTANCE_REMOVE, "instance-remove", remove);
instance_def!(INSTANCE_START, "instance-start", start);
instance_def!(INSTANCE_STOP, "instance-stop", stop);
instance_def!(INSTANCE_REBOOT, "instance-reboot", reboot);
instance_def!(INSTANCE_RENAME, "instance-rename", rename);
instance_def!(INSTANCE_MODIFY, "instance-modify", modify);
instance_def!(INSTANCE_GROW_DISK, "disk-grow", grow_disk);
instance_def!(INSTANCE_REINSTALL, "instance-reinstall", reinstall);
instance_def!(
    INSTANCE_RECREATE_DISKS,
    "instance-recreate-disks",
    recreate_disks
);
instance_def!(INSTANCE_EXPORT, "instance-export", export);
