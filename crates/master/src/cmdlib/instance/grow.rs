//! OP_INSTANCE_GROW_DISK: grow one disk of an instance.
//!
//! Unlike Ganeti, which leaves it to a hook, a running instance is told
//! the new size at once (QMP `block_resize` for kvm), so the guest sees it
//! without a reboot. The disk has already grown and the config says so
//! when that happens: a hypervisor that cannot do it only costs a warning.

use ganeti_node::{DiskSpec, HotplugAction, NodeError};
use ganeti_types::{now_f64, Disk, GanetiError, Instance};
use serde_json::Value;

use super::common::{self, fmt_mib, lookup_instance};
use crate::cmdlib::ipolicy::{group_ipolicy, spec_violations, ISpec};
use crate::cmdlib::util::{bool_param, u64_param};
use crate::cmdlib::OpCtx;
use crate::state::ConfigOp;

pub fn grow_disk(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    let disks: Vec<Disk> = cfg.instance_disks(&inst).into_iter().cloned().collect();
    let idx = u64_param(&op, "disk").unwrap_or(0) as usize;
    let Some(disk) = disks.get(idx).cloned() else {
        return Err(GanetiError::wrong_input(format!(
            "Invalid disk index: {idx} (instace has disks 0 to {}",
            disks.len().saturating_sub(1)
        )));
    };
    let amount = u64_param(&op, "amount").unwrap_or(0);
    let absolute = bool_param(&op, "absolute");
    let (delta, target) = if absolute {
        if amount < disk.size {
            return Err(GanetiError::wrong_input(format!(
                "Requested size ({}) is smaller than current disk size ({})",
                fmt_mib(amount),
                fmt_mib(disk.size)
            )));
        }
        (amount - disk.size, amount)
    } else {
        (amount, disk.size + amount)
    };
    let pol = cfg
        .nodes
        .get(&inst.primary_node)
        .map(|n| group_ipolicy(&cfg, &n.group))
        .unwrap_or_default();
    let viol = spec_violations(
        &pol,
        &ISpec {
            disk_sizes: vec![(idx, target as i64)],
            ..ISpec::default()
        },
    );
    if !viol.is_empty() {
        let msg = format!("Growing disk {idx} violates policy: {}", viol.join(", "));
        if bool_param(&op, "ignore_ipolicy") {
            ctx.log_warning(&msg);
        } else {
            return Err(GanetiError::wrong_input(msg));
        }
    }
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    ctx.log(format!(
        "Growing disk {idx} of instance '{}' by {} to {}",
        inst.name,
        fmt_mib(delta),
        fmt_mib(target)
    ));
    let spec = DiskSpec::from_disk(&disk).map_err(|e| GanetiError::OpExec(e.to_string()))?;
    ctx.node().blockdev_grow(&spec, delta, false).map_err(|e| {
        GanetiError::OpExec(format!(
            "Grow request failed to node {}: {e}",
            cfg.node_name(&inst.primary_node)
        ))
    })?;
    let mut nd = disk.clone();
    nd.size = target;
    nd.serial_no += 1;
    nd.mtime = now_f64();
    ctx.commit(vec![ConfigOp::PutDisk(Box::new(nd))])?;
    tell_running_guest(ctx, &inst, idx);
    if bool_param(&op, "wait_for_sync") {
        ctx.log_info(format!("Waiting for instance {} to sync disks", inst.name));
        ctx.log_info(format!("Instance {}'s disks are in sync", inst.name));
    }
    Ok(Value::Null)
}

/// Tell the hypervisor of a running instance that disk `idx` grew.
fn tell_running_guest(ctx: &mut OpCtx<'_>, inst: &Instance, idx: usize) {
    if !common::is_running(ctx.master, inst).unwrap_or(false) {
        return;
    }
    let spec = match ctx.config().and_then(|cfg| {
        let fresh = cfg
            .instances
            .get(&inst.uuid)
            .cloned()
            .unwrap_or_else(|| inst.clone());
        common::spec(&cfg, &fresh)
    }) {
        Ok(s) => s,
        Err(e) => {
            ctx.log_warning(format!(
                "Could not tell the instance about the new size: {e}"
            ));
            return;
        }
    };
    match ctx
        .node()
        .instance_hotplug(&spec, &HotplugAction::DiskResized { index: idx })
    {
        Ok(()) => ctx.log_info(format!(
            "The running instance was told the new size of disk {idx}"
        )),
        Err(NodeError::HotplugUnsupported { .. }) => {}
        Err(e) => ctx.log_warning(format!(
            "The instance does not see the new size of disk {idx} until it is restarted: {e}"
        )),
    }
}
