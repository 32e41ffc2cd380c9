//! Remove, start, stop, reboot and rename.

use ganeti_node::{DiskSpec, RebootType};
use ganeti_types::{now_f64, AdminState, Dict, GanetiError, Instance};
use serde_json::{json, Value};

use super::common::{self, lookup_instance};
use crate::cmdlib::util::{bool_param, check_name, str_param, u64_param};
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

fn bump(inst: &mut Instance) {
    inst.serial_no += 1;
    inst.mtime = now_f64();
}

fn set_admin_state(ctx: &OpCtx<'_>, inst: &Instance, st: AdminState) -> Result<(), GanetiError> {
    let cfg = ctx.config()?;
    let mut cur = cfg
        .instances
        .get(&inst.uuid)
        .cloned()
        .ok_or_else(|| GanetiError::noent(format!("Instance '{}' not known", inst.name)))?;
    if cur.admin_state == st {
        return Ok(());
    }
    cur.admin_state = st;
    cur.admin_state_source = "admin".into();
    bump(&mut cur);
    ctx.commit(vec![ConfigOp::PutInstance(Box::new(cur))])
}

fn exec_err(what: &str, e: impl std::fmt::Display) -> GanetiError {
    GanetiError::OpExec(format!("{what}: {e}"))
}

pub fn remove(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    let ignore = bool_param(&op, "ignore_failures");
    let timeout = u64_param(&op, "shutdown_timeout").unwrap_or(120);
    let node_name = cfg.node_name(&inst.primary_node);
    if common::is_running(ctx.master, &inst)? {
        let spec = common::spec(&cfg, &inst)?;
        if let Err(e) = ctx.node().instance_shutdown(&spec, timeout) {
            if ignore {
                ctx.log_warning(format!("Warning: can't shutdown instance: {e}"));
            } else {
                return Err(exec_err(
                    &format!(
                        "Could not shutdown instance {} on node {node_name}",
                        inst.name
                    ),
                    e,
                ));
            }
        }
    }
    remove_instance(ctx, &cfg, &inst, ignore)?;
    Ok(Value::Null)
}

/// Ganeti's `RemoveInstance`: remove the disks of a stopped instance (and
/// its file-storage directory), then the instance, its disks, NIC
/// addresses and network port from the configuration. With `ignore`,
/// disk failures are warnings.
pub(crate) fn remove_instance(
    ctx: &mut OpCtx<'_>,
    cfg: &ganeti_types::ConfigData,
    inst: &Instance,
    ignore: bool,
) -> Result<(), GanetiError> {
    let disks: Vec<_> = cfg.instance_disks(inst).into_iter().cloned().collect();
    let mut failed = Vec::new();
    for d in &disks {
        let spec = DiskSpec::from_disk(d).map_err(|e| GanetiError::OpExec(e.to_string()))?;
        if let Err(e) = ctx.node().blockdev_remove(&spec) {
            failed.push(format!("{}: {e}", d.iv_name));
        }
    }
    // only the file-based templates have a per-instance directory
    if !disks.is_empty() && matches!(inst.disk_template.as_str(), "file" | "sharedfile") {
        let dir = common::instance_file_dir(cfg, &inst.name, &inst.disk_template);
        if let Err(e) = ctx.node().file_storage_dir_remove(&dir) {
            failed.push(format!("{}: {e}", dir.display()));
        }
    }
    if !failed.is_empty() {
        if ignore {
            ctx.log_warning(format!("Could not remove disks: {}", failed.join("; ")));
        } else {
            return Err(GanetiError::OpExec(format!(
                "Can't remove instance's disks: {}",
                failed.join("; ")
            )));
        }
    }
    ctx.log_info(format!(
        "Removing instance {} out of cluster config",
        inst.name
    ));
    let mut ops: Vec<ConfigOp> = common::release_nic_ips(cfg, &inst.nics)?
        .into_iter()
        .map(|n| ConfigOp::PutNetwork(Box::new(n)))
        .collect();
    ops.extend(inst.disks.iter().map(|d| ConfigOp::DelDisk(d.clone())));
    ops.push(ConfigOp::DelInstance(inst.uuid.clone()));
    // its network port, if any, goes back to the cluster's pool
    super::netport::commit_removal(ctx, ops, inst)
}

pub fn check_startup(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    let be = crate::cmdlib::util::dict_param(op, "beparams");
    ganeti_types::params::force_dict_types(&be, ganeti_types::params::BE_TYPES, false)?;
    let hv_over = crate::cmdlib::util::dict_param(op, "hvparams");
    if !hv_over.is_empty() {
        let cfg = m.config()?;
        if let Ok(inst) = lookup_instance(&cfg, op) {
            startup_hvparams(&cfg, &inst, &hv_over)?;
        }
    }
    Ok(())
}

/// The instance's hvparams for one start with the opcode's temporary
/// overrides, typed; the filled result must pass the hypervisor's syntax
/// check (Ganeti's LUInstanceStartup.CheckPrereq).
fn startup_hvparams(
    cfg: &ganeti_types::ConfigData,
    inst: &Instance,
    over: &Dict,
) -> Result<Dict, GanetiError> {
    let types = ganeti_types::params::hv_types(&inst.hypervisor);
    for k in over.keys() {
        if !types.iter().any(|(n, _)| n == k) {
            return Err(ganeti_types::hvparams::hv_error(format!(
                "Parameter '{k}' is not supported"
            )));
        }
    }
    let over = ganeti_types::params::force_dict_types(over, types, false)?;
    let own = ganeti_types::params::fill(&[&inst.hvparams, &over]);
    let filled = ganeti_types::hvparams::fill(&cfg.cluster, &inst.hypervisor, Some(&inst.os), &own);
    ganeti_types::hvparams::check_syntax(&inst.hypervisor, &filled)?;
    Ok(own)
}

pub fn startup(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let mut inst = lookup_instance(&cfg, &op)?;
    if inst.admin_state == AdminState::Offline {
        return Err(GanetiError::wrong_state(format!(
            "Instance '{}' is marked offline, cannot start it",
            inst.name
        )));
    }
    let node = cfg.nodes.get(&inst.primary_node).cloned();
    if let Some(n) = &node {
        if n.offline && !bool_param(&op, "ignore_offline_nodes") {
            return Err(GanetiError::wrong_state(format!(
                "Cannot start instance: node {} is offline",
                n.name
            )));
        }
    }
    // temporary parameter overrides apply to this start only
    let be_over = ganeti_types::params::force_dict_types(
        &crate::cmdlib::util::dict_param(&op, "beparams"),
        ganeti_types::params::BE_TYPES,
        false,
    )?;
    let hv_own = startup_hvparams(
        &cfg,
        &inst,
        &crate::cmdlib::util::dict_param(&op, "hvparams"),
    )?;
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    let running = common::is_running(ctx.master, &inst)?;
    if !bool_param(&op, "no_remember") {
        set_admin_state(ctx, &inst, AdminState::Up)?;
    }
    if running {
        return Ok(Value::Null);
    }
    for (k, v) in be_over {
        inst.beparams.insert(k, v);
    }
    inst.hvparams = hv_own;
    let spec = common::spec(&cfg, &inst)?;
    ctx.node()
        .instance_start(&spec, bool_param(&op, "startup_paused"))
        .map_err(|e| exec_err("Could not start instance", e))?;
    Ok(Value::Null)
}

pub fn shutdown(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    if !bool_param(&op, "no_remember") {
        set_admin_state(ctx, &inst, AdminState::Down)?;
    }
    if !common::is_running(ctx.master, &inst)? {
        return Ok(Value::Null);
    }
    let timeout = u64_param(&op, "timeout").unwrap_or(120);
    let spec = common::spec(&cfg, &inst)?;
    ctx.node()
        .instance_shutdown(&spec, timeout)
        .map_err(|e| exec_err("Could not shutdown instance", e))?;
    Ok(Value::Null)
}

pub fn reboot(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    if inst.admin_state == AdminState::Offline {
        return Err(GanetiError::wrong_state(format!(
            "Instance '{}' is marked offline, cannot reboot it",
            inst.name
        )));
    }
    let rtype = str_param(&op, "reboot_type")
        .and_then(RebootType::parse)
        .ok_or_else(|| GanetiError::wrong_input("Invalid reboot type"))?;
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    let timeout = u64_param(&op, "shutdown_timeout").unwrap_or(120);
    let running = common::is_running(ctx.master, &inst)?;
    let spec = common::spec(&cfg, &inst)?;
    if running && rtype != RebootType::Full {
        ctx.node()
            .instance_reboot(&spec, rtype, timeout)
            .map_err(|e| exec_err("Could not reboot instance", e))?;
    } else {
        if running {
            ctx.node()
                .instance_shutdown(&spec, timeout)
                .map_err(|e| exec_err("Could not shutdown instance for full reboot", e))?;
        }
        ctx.node()
            .instance_start(&spec, false)
            .map_err(|e| exec_err("Could not start instance for full reboot", e))?;
    }
    set_admin_state(ctx, &inst, AdminState::Up)?;
    Ok(Value::Null)
}

pub fn rename_locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let mut l = common::instance_and_node_locks(m, op)?;
    if let Some(new) = str_param(op, "new_name") {
        l.push(LockReq::exclusive(Level::Instance, new));
    }
    Ok(l)
}

pub fn check_rename(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    check_name("instance", str_param(op, "new_name").unwrap_or_default())?;
    if bool_param(op, "ip_check") && !bool_param(op, "name_check") {
        return Err(GanetiError::wrong_input(
            "IP address check requires a name check",
        ));
    }
    Ok(())
}

pub fn rename(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    let mut new_name = str_param(&op, "new_name").unwrap_or_default().to_string();
    if inst.admin_state == AdminState::Up {
        return Err(GanetiError::wrong_state(format!(
            "Instance '{}' is marked to be up, cannot rename",
            inst.name
        )));
    }
    if common::is_running(ctx.master, &inst)? {
        return Err(GanetiError::wrong_state(format!(
            "Instance '{}' is running, cannot rename",
            inst.name
        )));
    }
    if bool_param(&op, "name_check") {
        let (resolved, ip) = common::resolve_name(&new_name)?;
        new_name = resolved;
        if bool_param(&op, "ip_check") && common::ip_in_use(ip) {
            return Err(GanetiError::prereq(
                format!("IP {ip} of instance {new_name} already in use"),
                ganeti_types::ErrorClass::NotUnique,
            ));
        }
    }
    if new_name != inst.name && cfg.instance_by_name(&new_name).is_some() {
        return Err(GanetiError::exists(format!(
            "Instance '{new_name}' is already in the cluster"
        )));
    }
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    let mut ops = Vec::new();
    let file_based = matches!(inst.disk_template.as_str(), "file" | "sharedfile");
    let (old_dir, new_dir) = (
        common::instance_file_dir(&cfg, &inst.name, &inst.disk_template),
        common::instance_file_dir(&cfg, &new_name, &inst.disk_template),
    );
    if file_based && !inst.disks.is_empty() {
        ctx.node()
            .file_storage_dir_rename(&old_dir, &new_dir)
            .map_err(|e| exec_err("Could not rename the instance's file storage directory", e))?;
        for d in cfg.instance_disks(&inst) {
            let mut d = d.clone();
            if let Some(path) = d.file_path() {
                let p = std::path::Path::new(path);
                if let Some(fname) = p.file_name() {
                    let driver = d.logical_id.get(0).cloned().unwrap_or(json!("loop"));
                    d.logical_id = json!([driver, new_dir.join(fname).display().to_string()]);
                }
            }
            d.serial_no += 1;
            d.mtime = now_f64();
            ops.push(ConfigOp::PutDisk(Box::new(d)));
        }
    }
    let mut renamed = inst.clone();
    renamed.name = new_name.clone();
    bump(&mut renamed);
    ops.push(ConfigOp::PutInstance(Box::new(renamed)));
    if let Err(e) = ctx.commit(ops) {
        if file_based && !inst.disks.is_empty() {
            let _ = ctx.node().file_storage_dir_rename(&new_dir, &old_dir);
        }
        return Err(e);
    }
    // Ganeti's LUInstanceRename: the OS rename script runs with the
    // disks assembled; its failure is only a warning.
    if !inst.os.is_empty() && !inst.disks.is_empty() {
        let cfg = ctx.config()?;
        if let Some(renamed) = cfg.instance_by_name(&new_name).cloned() {
            super::disks::start_instance_disks(ctx, &cfg, &renamed)?;
            super::osrun::rename(ctx, &cfg, &renamed, &inst.name);
            super::disks::shutdown_instance_disks(ctx, &cfg, &renamed)?;
        }
    }
    Ok(json!(new_name))
}
