//! OP_BACKUP_PREPARE and OP_BACKUP_EXPORT (mode `local`).
//!
//! The export follows Ganeti 3.0.2's `LUBackupExport`: shut the instance
//! down unless told not to, activate its disks if they are not, snapshot
//! them when the instance should keep running (only LVM-backed templates
//! can), run the OS export script of each disk into the export's staging
//! directory on the target node (`<export dir>/<instance>.new/<disk uuid>`),
//! write `config.ini` there and move it into place, start the instance
//! again if it was up, and optionally remove it. The result is Ganeti's
//! `(finalized, [disk exported, ...])`.
//!
//! One difference in order: Ganeti finds out that the disks cannot be
//! snapshotted only after it shut the instance down, and then fails with
//! the instance left stopped. Whether a template can be snapshotted is
//! known from the configuration, so this check runs first and the same
//! refusal leaves the instance running.

use std::path::{Path, PathBuf};

use ganeti_node::{DiskSpec, InstanceSpec};
use ganeti_types::{AdminState, ConfigData, Dict, GanetiError, Instance};
use serde_json::{json, Value};

use super::finalize::{config_ini, DumpedDisk};
use crate::cmdlib::instance::common::{self, check_node_online, lookup_instance};
use crate::cmdlib::instance::{disks, lifecycle, osrun};
use crate::cmdlib::util::{bool_param, str_param, u64_param};
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::Master;

/// Templates whose disks can be snapshotted (Ganeti's
/// `DTS_SNAPSHOT_CAPABLE`).
const SNAPSHOT_CAPABLE: &[&str] = &["plain", "drbd", "ext"];

/// The instance exclusively, every node (Ganeti locks them all: the old
/// export of the instance may be on any of them).
pub fn locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let name = str_param(op, "instance_name").unwrap_or_default();
    let iname = m.with_config(|c| c.expand_instance(name).map(|i| i.name.clone()))??;
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::Instance, iname),
        LockReq::all(Level::Node, true),
    ])
}

/// The instance only (prepare).
pub fn prepare_locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let name = str_param(op, "instance_name").unwrap_or_default();
    let iname = m.with_config(|c| c.expand_instance(name).map(|i| i.name.clone()))??;
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::Instance, iname),
    ])
}

fn remote_unsupported() -> GanetiError {
    GanetiError::wrong_input("Remote (inter-cluster) exports are not supported by this release")
}

/// OP_BACKUP_PREPARE: nothing to prepare for a local export (Ganeti
/// answers `None`); remote exports need X509 certificates this release
/// does not create.
pub fn prepare(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    check_node_online(&cfg, &inst.primary_node, None)?;
    if str_param(&op, "mode") == Some("remote") {
        return Err(remote_unsupported());
    }
    Ok(Value::Null)
}

/// Ganeti's `CheckArguments`, at submission.
pub fn check(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    if str_param(op, "mode") == Some("remote") {
        if op.get("x509_key_name").is_none_or(Value::is_null) {
            return Err(GanetiError::wrong_input(
                "Missing X509 key name for encryption",
            ));
        }
        if op.get("destination_x509_ca").is_none_or(Value::is_null) {
            return Err(GanetiError::wrong_input("Missing destination X509 CA"));
        }
        return Err(remote_unsupported());
    }
    let zero = bool_param(op, "zero_free_space");
    if zero && str_param(op, "compress").unwrap_or_default().is_empty() {
        return Err(GanetiError::wrong_input(
            "Zeroing free space does not make sense unless compression is used",
        ));
    }
    if zero && !bool_param(op, "shutdown") {
        return Err(GanetiError::wrong_input(
            "Unless the instance is shut down, zeroing cannot be used.",
        ));
    }
    if !op.get("target_node").is_some_and(Value::is_string) {
        return Err(GanetiError::wrong_input(
            "Local export needs a destination node name",
        ));
    }
    Ok(())
}

/// Ganeti's `CheckCompressionTool`.
fn check_compression_tool(cfg: &ConfigData, tool: &str) -> Result<(), GanetiError> {
    let allowed = &cfg.cluster.compression_tools;
    if tool != "none" && !allowed.iter().any(|t| t == tool) {
        return Err(GanetiError::wrong_input(format!(
            "Compression tool not allowed, tools allowed are [{}]",
            allowed.join(", ")
        )));
    }
    Ok(())
}

/// The zeroing prerequisites (Ganeti's `CheckPrereq`); zeroing itself
/// (booting a helper image) is not part of this release.
fn check_zeroing(cfg: &ConfigData, inst: &Instance, op: &Dict) -> Result<(), GanetiError> {
    if !bool_param(op, "zero_free_space") {
        let given = |k: &str| op.get(k).is_some_and(|v| !v.is_null());
        if given("zeroing_timeout_fixed") || given("zeroing_timeout_per_mib") {
            return Err(GanetiError::wrong_input(
                "Zeroing timeout options can only be used only with the --zero-free-space option",
            ));
        }
        return Ok(());
    }
    let hv = ganeti_types::hvparams::fill(
        &cfg.cluster,
        &inst.hypervisor,
        Some(&inst.os),
        &inst.hvparams,
    );
    if inst.hypervisor == "kvm" && hv.get("user_shutdown").and_then(Value::as_bool) != Some(true) {
        return Err(GanetiError::wrong_input(
            "Instance shutdown detection must be enabled for zeroing to work",
        ));
    }
    if hv
        .get("boot_order")
        .and_then(Value::as_str)
        .is_some_and(|b| b != "disk")
    {
        return Err(GanetiError::wrong_input(
            "Booting from disk must be set for zeroing to work",
        ));
    }
    if cfg.cluster.zeroing_image.is_empty() {
        return Err(GanetiError::wrong_input(
            "A zeroing image must be set for zeroing to work",
        ));
    }
    Err(GanetiError::wrong_input(
        "Zeroing the free space of disks is not supported by this release",
    ))
}

/// What the checks under the locks found.
struct Target {
    inst: Instance,
    dst_name: String,
}

fn check_prereq(cfg: &ConfigData, op: &Dict) -> Result<Target, GanetiError> {
    let inst = lookup_instance(cfg, op)?;
    let target = str_param(op, "target_node_uuid")
        .filter(|u| cfg.nodes.contains_key(*u))
        .or_else(|| str_param(op, "target_node"))
        .unwrap_or_default();
    let dst = cfg.expand_node(target)?.clone();
    check_node_online(cfg, &inst.primary_node, None)?;
    let shutdown = bool_param(op, "shutdown");
    if bool_param(op, "remove_instance") && inst.admin_state == AdminState::Up && !shutdown {
        return Err(GanetiError::wrong_state(
            "Can not remove instance without shutting it down before",
        ));
    }
    check_node_online(cfg, &dst.uuid, None)?;
    if dst.drained {
        return Err(GanetiError::wrong_state(format!(
            "Can't use drained node {}",
            dst.name
        )));
    }
    check_zeroing(cfg, &inst, op)?;
    check_compression_tool(cfg, str_param(op, "compress").unwrap_or("none"))?;
    Ok(Target {
        inst,
        dst_name: dst.name,
    })
}

fn exec_err(what: String, e: impl std::fmt::Display) -> GanetiError {
    GanetiError::OpExec(format!("{what}: {e}"))
}

/// The disk spec of an LVM snapshot at `path` (`/dev/<vg>/<lv>`), standing
/// in for `orig` during the transfer.
fn snapshot_spec(orig: &DiskSpec, path: &Path) -> DiskSpec {
    let lv = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let vg = path
        .parent()
        .and_then(Path::file_name)
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    DiskSpec {
        uuid: ganeti_types::new_uuid(),
        template: ganeti_types::DiskTemplate::Plain,
        logical_id: json!([vg, lv]),
        ..orig.clone()
    }
}

/// The snapshots of an export, removed on drop of the run (Ganeti's
/// `ExportInstanceHelper.Cleanup`).
#[derive(Default)]
struct Snapshots {
    /// Per disk: the original spec, the snapshot's spec and path.
    taken: Vec<(DiskSpec, DiskSpec, PathBuf)>,
}

impl Snapshots {
    fn cleanup(&mut self, ctx: &mut OpCtx<'_>, node: &str) {
        for (idx, (orig, _, path)) in std::mem::take(&mut self.taken).into_iter().enumerate() {
            ctx.log(format!("Removing snapshot of disk/{idx} on node {node}"));
            if let Err(e) = ctx.node().blockdev_snapshot_remove(&orig, &path) {
                ctx.log_warning(format!(
                    "Could not remove snapshot for disk/{idx} from node {node}: {e}"
                ));
            }
        }
    }
}

/// Ganeti's `CreateSnapshots`: all or nothing.
fn create_snapshots(
    ctx: &mut OpCtx<'_>,
    spec: &InstanceSpec,
    node: &str,
) -> Result<Snapshots, GanetiError> {
    let mut snaps = Snapshots::default();
    for (idx, d) in spec.disks.iter().enumerate() {
        ctx.log(format!("Creating a snapshot of disk/{idx} on node {node}"));
        let lv = d
            .logical_id
            .get(1)
            .and_then(Value::as_str)
            .unwrap_or(&d.uuid)
            .to_string();
        let snap: Result<PathBuf, _> = ctx.node().blockdev_snapshot(d, &format!("{lv}.snap"));
        match snap {
            Ok(path) => snaps.taken.push((d.clone(), snapshot_spec(d, &path), path)),
            Err(e) => {
                ctx.log_warning(format!("Could not snapshot disk/{idx} on node {node}: {e}"));
                snaps.cleanup(ctx, node);
                return Err(GanetiError::OpExec(
                    "Not all disks could be snapshotted, and you requested a live export; aborting"
                        .into(),
                ));
            }
        }
    }
    Ok(snaps)
}

/// Ganeti's `LocalExport`: each disk through the OS export script into
/// the staging directory, then `config.ini` (only if every disk made it).
fn local_export(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    t: &Target,
    spec: &InstanceSpec,
    snapshots: bool,
) -> (bool, Vec<bool>) {
    let inst = &t.inst;
    let op = ctx.op().clone();
    // `compress` (checked at submit) compresses only the stream between
    // the source node and the export's node, which are this node: the
    // dump is stored raw, as Ganeti stores it (config.ini says
    // compression = none).
    let compress = crate::cmdlib::instance::import::TRANSFER_COMPRESSION.to_string();
    let debug = osrun::debug_level(&op);
    let src_name = cfg.node_name(&inst.primary_node);
    let staging = ctx.node().export_dir().join(format!("{}.new", inst.name));
    let run = osrun::run_spec(cfg, inst, Dict::new());
    let mut results = Vec::new();
    let mut dumped = Vec::new();
    for (idx, d) in spec.disks.iter().enumerate() {
        let label = if snapshots {
            format!("snapshot/{idx}")
        } else {
            format!("disk/{idx}")
        };
        ctx.log(format!(
            "Exporting {label} from {src_name} to {}",
            t.dst_name
        ));
        let dest = staging.join(&d.uuid);
        match ctx
            .node()
            .os_export_disk(spec, &run, idx, &dest, &compress, debug)
        {
            Ok(_) => {
                ctx.log(format!("{label} finished sending data"));
                ctx.log(format!("{label} finished receiving data"));
                results.push(true);
            }
            Err(e) => {
                ctx.log(format!("{label} failed to send data: {e}"));
                results.push(false);
            }
        }
        let dev_type = if snapshots {
            "plain".to_string()
        } else {
            d.template.as_str().to_string()
        };
        dumped.push(DumpedDisk {
            dump: d.uuid.clone(),
            iv_name: d.iv_name.clone(),
            size: d.size_mib,
            name: d.name.clone(),
            dev_type,
        });
    }
    if !results.iter().all(|r| *r) {
        ctx.log_warning(format!(
            "Some disk exports have failed; there may be leftover data for instance {} on node {}",
            inst.name, t.dst_name
        ));
        return (false, results);
    }
    ctx.log(format!("Finalizing export on {}", t.dst_name));
    let now = ganeti_types::now_f64() as i64;
    let text = config_ini(cfg, inst, &dumped, now);
    let fin = match ctx.node().export_finalize(&inst.name, &staging, &text) {
        Ok(()) => true,
        Err(e) => {
            ctx.log_warning(format!(
                "Could not finalize export for instance {} on node {}: {e}",
                inst.name, t.dst_name
            ));
            false
        }
    };
    (fin, results)
}

/// Ganeti's `StartInstance` of the export: on failure the disks are shut
/// down and the export fails.
fn start_again(ctx: &mut OpCtx<'_>, cfg: &ConfigData, inst: &Instance) -> Result<(), GanetiError> {
    ctx.log(format!("Starting instance {}", inst.name));
    let spec = common::spec(cfg, inst)?;
    if let Err(e) = ctx.node().instance_start(&spec, false) {
        ctx.log(format!("Failed to start instance: {e}"));
        let _ = disks::shutdown_instance_disks(ctx, cfg, inst);
        return Err(GanetiError::OpExec(format!(
            "Could not start instance: {e}"
        )));
    }
    Ok(())
}

/// OP_BACKUP_EXPORT.
pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let t = check_prereq(&cfg, &op)?;
    let inst = t.inst.clone();
    let shutdown = bool_param(&op, "shutdown");
    let remove = bool_param(&op, "remove_instance");
    let up = inst.admin_state == AdminState::Up;
    // Ganeti's TrySnapshot / DoReboot
    let try_snapshot = !remove && up;
    let do_reboot = shutdown && up && !remove;
    let snapshot_capable = cfg
        .instance_disks(&inst)
        .iter()
        .all(|d| SNAPSHOT_CAPABLE.contains(&d.dev_type.as_str()));
    if try_snapshot && !snapshot_capable {
        if !shutdown {
            return Err(GanetiError::OpExec(
                "Not all disks could be snapshotted, and you requested a live export; aborting"
                    .into(),
            ));
        }
        if !bool_param(&op, "long_sleep") {
            return Err(GanetiError::OpExec(
                "Not all disks could be snapshotted, and you did not allow the instance to remain offline for a longer time through the --long-sleep option; aborting"
                    .into(),
            ));
        }
    }
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    let src_name = cfg.node_name(&inst.primary_node);
    if shutdown {
        ctx.log(format!("Shutting down instance {}", inst.name));
        if common::is_running(ctx.master, &inst)? {
            let spec = common::spec(&cfg, &inst)?;
            let timeout = u64_param(&op, "shutdown_timeout").unwrap_or(120);
            ctx.node().instance_shutdown(&spec, timeout).map_err(|e| {
                exec_err(
                    format!(
                        "Could not shutdown instance {} on node {src_name}",
                        inst.name
                    ),
                    e,
                )
            })?;
        }
    }
    let activate = !inst.disks_active;
    if activate {
        ctx.log(format!("Activating disks for {}", inst.name));
        disks::start_instance_disks(ctx, &cfg, &inst)?;
    }
    let outcome = export_disks(ctx, &cfg, &t, try_snapshot && snapshot_capable, do_reboot);
    let running_after = outcome.as_ref().is_ok_and(|o| o.restarted);
    if activate && !running_after {
        ctx.log(format!("Deactivating disks for {}", inst.name));
        disks::shutdown_instance_disks(ctx, &cfg, &inst)?;
    }
    let Outcome { fin, results, .. } = outcome?;
    if !(fin && results.iter().all(|r| *r)) {
        let mut failures = Vec::new();
        if !fin {
            failures.push("export finalization".to_string());
        }
        let bad: Vec<String> = results
            .iter()
            .enumerate()
            .filter(|(_, ok)| !**ok)
            .map(|(i, _)| i.to_string())
            .collect();
        if !bad.is_empty() {
            failures.push(format!("disk export: disk(s) {}", bad.join(", ")));
        }
        return Err(GanetiError::OpExec(format!(
            "Export failed, errors in {}",
            failures.join(", ")
        )));
    }
    if remove {
        ctx.log(format!("Removing instance {}", inst.name));
        let cfg = ctx.config()?;
        let cur = lookup_instance(&cfg, &op)?;
        lifecycle::remove_instance(ctx, &cfg, &cur, bool_param(&op, "ignore_remove_failures"))?;
    }
    Ok(json!([fin, results]))
}

struct Outcome {
    fin: bool,
    results: Vec<bool>,
    restarted: bool,
}

/// Snapshots (when wanted), the transfer and the restart, with the
/// snapshots removed whatever happens.
fn export_disks(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    t: &Target,
    snapshot: bool,
    do_reboot: bool,
) -> Result<Outcome, GanetiError> {
    let inst = &t.inst;
    let node = cfg.node_name(&inst.primary_node);
    let spec = common::spec(cfg, inst)?;
    let mut snaps = if snapshot && !spec.disks.is_empty() {
        create_snapshots(ctx, &spec, &node)?
    } else {
        Snapshots::default()
    };
    let use_snaps = !snaps.taken.is_empty();
    let mut restarted = false;
    let result = (|| {
        if do_reboot && snapshot {
            start_again(ctx, cfg, inst)?;
            restarted = true;
        }
        let mut export_spec = spec.clone();
        if use_snaps {
            export_spec.disks = snaps.taken.iter().map(|(_, s, _)| s.clone()).collect();
        }
        let (fin, results) = local_export(ctx, cfg, t, &export_spec, use_snaps);
        if do_reboot && !snapshot {
            start_again(ctx, cfg, inst)?;
            restarted = true;
        }
        Ok::<_, GanetiError>((fin, results))
    })();
    snaps.cleanup(ctx, &node);
    let (fin, results) = result?;
    Ok(Outcome {
        fin,
        results,
        restarted,
    })
}
