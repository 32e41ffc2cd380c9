//! OP_INSTANCE_ACTIVATE_DISKS and OP_INSTANCE_DEACTIVATE_DISKS, and the
//! assemble/shutdown steps other instance opcodes (reinstall) share.
//!
//! Activation asks the node to assemble every disk of the instance and
//! answers Ganeti's `(node, iv_name, device path)` triples, which is what
//! `gnt-instance activate-disks` prints and what operators use to reach an
//! instance's disks from the node. The instance's `disks_active` flag
//! records the outcome, because cluster verify and verify-disks judge
//! missing or faulty disks by it.
//!
//! Ganeti assembles in two passes (all nodes, then the primary again) so
//! that mirrored disks connect before one side becomes primary. This
//! release has single-node templates only (file), so there is one pass on
//! the primary; its warnings use the wording of Ganeti's primary pass.
//! `ignore_size` is accepted: file disks are never resized by activation,
//! so it changes nothing for them.
//!
//! A failed activation leaves nothing behind: disks this call assembled are
//! shut down again unless they were active before, and the flag keeps its
//! old value.

use ganeti_node::DiskSpec;
use ganeti_types::{ConfigData, Disk, GanetiError, Instance};
use serde_json::{json, Value};

use super::common::{self, lookup_instance};
use crate::cmdlib::util::bool_param;
use crate::cmdlib::OpCtx;

/// What assembling an instance's disks gave.
#[derive(Debug, Default)]
pub struct Assembled {
    /// Every disk assembled.
    pub ok: bool,
    /// Ganeti's `(node name, iv_name, device path)` per disk, in order; the
    /// path is `None` for a disk that could not be assembled.
    pub device_info: Vec<(String, String, Option<String>)>,
    /// The disks this call assembled (to undo on failure).
    pub assembled: Vec<DiskSpec>,
}

fn disk_spec(d: &Disk) -> Result<DiskSpec, GanetiError> {
    DiskSpec::from_disk(d).map_err(|e| GanetiError::OpExec(e.to_string()))
}

/// Assemble every disk of an instance on its primary node (Ganeti's
/// `AssembleInstanceDisks` without the config marking, which callers do
/// once they know the outcome). Failures are warnings; `ok` says whether
/// there were any.
pub fn assemble_instance_disks(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst: &Instance,
) -> Result<Assembled, GanetiError> {
    let node = cfg.node_name(&inst.primary_node);
    let mut out = Assembled {
        ok: true,
        ..Assembled::default()
    };
    for d in cfg.instance_disks(inst) {
        let spec = disk_spec(d)?;
        let path = match ctx.node().blockdev_assemble(&spec) {
            Ok(p) => {
                out.assembled.push(spec);
                Some(p.dev_path.display().to_string())
            }
            Err(e) => {
                ctx.log_warning(format!(
                    "Could not prepare block device {} on node {node} (is_primary=True, pass=2): {e}",
                    d.iv_name
                ));
                out.ok = false;
                None
            }
        };
        out.device_info
            .push((node.clone(), d.iv_name.clone(), path));
    }
    Ok(out)
}

/// Shut down the given disks, warning about failures; true if all went well.
fn shutdown_disks(ctx: &mut OpCtx<'_>, node: &str, disks: &[DiskSpec]) -> bool {
    let mut all_ok = true;
    for spec in disks {
        if let Err(e) = ctx.node().blockdev_shutdown(spec) {
            ctx.log_warning(format!(
                "Could not shutdown block device {} on node {node}: {e}",
                spec.iv_name
            ));
            all_ok = false;
        }
    }
    all_ok
}

/// Shut down every disk of an instance (Ganeti's `ShutdownInstanceDisks`,
/// without the config marking); true if all went well.
pub fn shutdown_instance_disks(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst: &Instance,
) -> Result<bool, GanetiError> {
    let specs = cfg
        .instance_disks(inst)
        .into_iter()
        .map(disk_spec)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(shutdown_disks(
        ctx,
        &cfg.node_name(&inst.primary_node),
        &specs,
    ))
}

/// Ganeti's `StartInstanceDisks`: assemble all disks or, on any failure,
/// shut them down again and fail with "Disk consistency error".
pub fn start_instance_disks(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst: &Instance,
) -> Result<(), GanetiError> {
    let res = assemble_instance_disks(ctx, cfg, inst)?;
    if !res.ok {
        shutdown_instance_disks(ctx, cfg, inst)?;
        return Err(GanetiError::OpExec("Disk consistency error".into()));
    }
    Ok(())
}

fn device_info_json(info: &[(String, String, Option<String>)]) -> Value {
    Value::Array(
        info.iter()
            .map(|(node, iv, path)| json!([node, iv, path]))
            .collect(),
    )
}

/// OP_INSTANCE_ACTIVATE_DISKS.
pub fn activate(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    common::check_node_online(&cfg, &inst.primary_node, None)?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    let res = assemble_instance_disks(ctx, &cfg, &inst)?;
    let node = cfg.node_name(&inst.primary_node);
    let undo = |ctx: &mut OpCtx<'_>, res: &Assembled| {
        if !inst.disks_active {
            shutdown_disks(ctx, &node, &res.assembled);
        }
    };
    if !res.ok {
        undo(ctx, &res);
        return Err(GanetiError::OpExec("Cannot activate block devices".into()));
    }
    if let Err(e) = common::set_disks_active(ctx, &inst.uuid, true) {
        undo(ctx, &res);
        return Err(e);
    }
    if bool_param(&op, "wait_for_sync") && !inst.disks.is_empty() {
        // file disks are not mirrored: nothing to wait for
        ctx.log_info(format!("Waiting for instance {} to sync disks", inst.name));
        ctx.log_info(format!("Instance {}'s disks are in sync", inst.name));
    }
    Ok(device_info_json(&res.device_info))
}

/// OP_INSTANCE_DEACTIVATE_DISKS: refused on an instance that is up or
/// running unless `force` is set (then the disks go away under it, as in
/// Ganeti).
pub fn deactivate(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    if !bool_param(&op, "force") {
        common::check_instance_state(
            ctx,
            &cfg,
            &inst,
            common::INSTANCE_DOWN,
            "cannot shutdown disks",
        )?;
    }
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    common::set_disks_active(ctx, &inst.uuid, false)?;
    // failures are reported as warnings, the opcode still succeeds (Ganeti)
    shutdown_instance_disks(ctx, &cfg, &inst)?;
    Ok(Value::Null)
}
