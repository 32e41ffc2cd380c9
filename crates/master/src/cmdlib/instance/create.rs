//! OP_INSTANCE_CREATE (modes `create` and `import`; the import's own
//! steps are in `import.rs`).
//!
//! Order of effects, chosen so that a crash at any point leaves something
//! a restart can report or undo: disks are created first (under the
//! instance's own file-storage directory, which recovery may remove if the
//! instance never reached the config), then the instance and its disks are
//! committed in one config transaction, then it is started. The disk
//! side (templates, adoption, undo) is in `create_disks.rs`.

use std::collections::BTreeMap;

use ganeti_types::hvparams;
use ganeti_types::params::{self, force_dict_types, upgrade_beparams};
use ganeti_types::{
    constants, now_f64, AdminState, ConfigData, Dict, ErrorClass, GanetiError, Instance,
};
use serde_json::{json, Value};

use super::common::{self, build_nic, fmt_mib};
use crate::cmdlib::ipolicy::{group_ipolicy, spec_violations, ISpec};
use crate::cmdlib::util::{bool_param, check_name, str_param};
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

#[path = "create_disks.rs"]
mod create_disks;
#[cfg(test)]
#[path = "create_storage_tests.rs"]
mod storage_tests;

/// The target node's uuid: given, or the only vm-capable node.
fn pick_node(cfg: &ConfigData, op: &Dict) -> Result<String, GanetiError> {
    if let Some(u) = str_param(op, "pnode_uuid") {
        if cfg.nodes.contains_key(u) {
            return Ok(u.to_string());
        }
    }
    if let Some(n) = str_param(op, "pnode") {
        return Ok(cfg.expand_node(n)?.uuid.clone());
    }
    let capable: Vec<&ganeti_types::Node> = cfg
        .nodes
        .values()
        .filter(|n| n.vm_capable && !n.offline && !n.drained)
        .collect();
    match capable.as_slice() {
        [only] => Ok(only.uuid.clone()),
        _ => Err(GanetiError::wrong_input(
            "No primary node given and no instance allocator available; pass a node with -n",
        )),
    }
}

/// The nodes the OS is checked on at submission: the primary node (the
/// master node while it cannot be chosen; that is reported when the job
/// runs) and the secondary, if any, as in Ganeti.
fn os_check_nodes(cfg: &ConfigData, op: &Dict) -> Vec<String> {
    let mut nodes = vec![pick_node(cfg, op).unwrap_or_else(|_| cfg.cluster.master_node.clone())];
    let snode = str_param(op, "snode_uuid")
        .filter(|u| cfg.nodes.contains_key(*u))
        .map(str::to_owned)
        .or_else(|| {
            str_param(op, "snode")
                .and_then(|n| cfg.expand_node(n).ok())
                .map(|n| n.uuid.clone())
        });
    nodes.extend(snode);
    nodes
}

pub fn locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let name = str_param(op, "instance_name")
        .unwrap_or_default()
        .to_string();
    let node = m.with_config(|c| pick_node(c, op))??;
    let mut locks = vec![
        LockReq::bgl_shared(),
        LockReq::exclusive(Level::Instance, name),
        LockReq::exclusive(Level::Node, node.clone()),
    ];
    // an import reads the export on its source node
    if str_param(op, "mode") == Some("import") {
        if let Some(src) = str_param(op, "src_node") {
            let src = m.with_config(|c| c.expand_node(src).map(|n| n.uuid.clone()))??;
            if src != node {
                locks.push(LockReq::shared(Level::Node, src));
            }
        }
        // without a source node the export is found by name on the node
        // the master reaches, the target node of today's clusters
    }
    Ok(locks)
}

/// Static checks, at submission.
pub fn check(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    match str_param(op, "mode").unwrap_or("create") {
        "create" => check_filled(m, op),
        // most checks need the export's values: they run with the job
        "import" => super::import::check_at_submit(m, op),
        mode => Err(GanetiError::wrong_input(format!(
            "Instance creation mode '{mode}' is not supported by this release"
        ))),
    }
}

/// The checks of a complete creation opcode (mode `create`, or `import`
/// once filled from the export).
fn check_filled(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    let name = str_param(op, "instance_name").unwrap_or_default();
    check_name("instance", name)?;
    if bool_param(op, "ip_check") && !bool_param(op, "name_check") {
        return Err(GanetiError::wrong_input(
            "Cannot do IP address check without a name check",
        ));
    }
    if str_param(op, "os_type").is_none()
        && op.get("no_install").and_then(Value::as_bool) != Some(true)
    {
        return Err(GanetiError::wrong_input(
            "No guest OS or OS image specified",
        ));
    }
    if let Some(os) = str_param(op, "os_type") {
        let nodes = m.with_config(|c| os_check_nodes(c, op))?;
        super::osrun::validate_at_submit(
            m,
            &nodes,
            os,
            &crate::cmdlib::util::dict_param(op, "osparams"),
            &crate::cmdlib::util::dict_param(op, "osparams_private"),
            &crate::cmdlib::util::dict_param(op, "osparams_secret"),
            bool_param(op, "force_variant"),
        )?;
    }
    let template = str_param(op, "disk_template")
        .ok_or_else(|| GanetiError::wrong_input("Missing disk template"))?;
    let disks = op
        .get("disks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if template == "diskless" && !disks.is_empty() {
        return Err(GanetiError::wrong_input(
            "Diskless instance but disk information passed",
        ));
    }
    if template != "diskless" && disks.is_empty() {
        return Err(GanetiError::wrong_input("No disk information specified"));
    }
    for (i, d) in disks.iter().enumerate() {
        let d = d.as_object().cloned().unwrap_or_default();
        for k in d.keys() {
            if ![
                "size", "mode", "name", "spindles", "vg", "metavg", "adopt", "provider",
            ]
            .contains(&k.as_str())
            {
                return Err(GanetiError::wrong_input(format!(
                    "Unknown disk parameter '{k}' for disk {i}"
                )));
            }
        }
        create_disks::check_size(&d, i)?;
        if let Some(mode) = d.get("mode").and_then(Value::as_str) {
            if mode != "rw" && mode != "ro" {
                return Err(GanetiError::wrong_input(format!(
                    "Invalid disk access mode '{mode}'"
                )));
            }
        }
    }
    create_disks::check_adoption(op, template)?;
    let mut be = force_dict_types(
        &crate::cmdlib::util::dict_param(op, "beparams"),
        params::BE_TYPES,
        false,
    )?;
    upgrade_beparams(&mut be);
    let hvp = crate::cmdlib::util::dict_param(op, "hvparams");
    let (hv, enabled, filled) = m.with_config(|c| {
        let hv = str_param(op, "hypervisor")
            .map(str::to_owned)
            .unwrap_or_else(|| c.cluster.default_hypervisor.clone());
        let filled = hvparams::fill(&c.cluster, &hv, str_param(op, "os_type"), &hvp);
        let enabled = c.cluster.hypervisor_enabled(&hv);
        (hv, enabled, filled)
    })?;
    for k in hvp.keys() {
        if !params::hv_types(&hv).iter().any(|(n, _)| n == k) {
            return Err(hvparams::hv_error(format!(
                "Parameter '{k}' is not supported"
            )));
        }
    }
    force_dict_types(&hvp, params::hv_types(&hv), false)?;
    // Ganeti's CheckParameterSyntax of the filled dict; a disabled
    // hypervisor is reported as such when the job runs.
    if enabled {
        hvparams::check_syntax(&hv, &filled)?;
    }
    hvparams::check_not_global(&hvp, "instance", "cluster")?;
    Ok(())
}

struct Plan {
    inst: Instance,
    disks: create_disks::DiskPlan,
    networks: Vec<ganeti_types::Network>,
}

fn plan(ctx: &OpCtx<'_>, cfg: &ConfigData, op: &Dict) -> Result<Plan, GanetiError> {
    let mut name = str_param(op, "instance_name")
        .unwrap_or_default()
        .to_string();
    if bool_param(op, "name_check") {
        let (resolved, ip) = common::resolve_name(&name)?;
        name = resolved;
        if bool_param(op, "ip_check") && common::ip_in_use(ip) {
            return Err(GanetiError::prereq(
                format!("IP {ip} of instance {name} already in use"),
                ErrorClass::NotUnique,
            ));
        }
    }
    if cfg.instance_by_name(&name).is_some() {
        return Err(GanetiError::exists(format!(
            "Instance '{name}' is already in the cluster"
        )));
    }
    let cl = &cfg.cluster;
    let hv = str_param(op, "hypervisor")
        .map(str::to_owned)
        .unwrap_or_else(|| cl.default_hypervisor.clone());
    if !cl.hypervisor_enabled(&hv) {
        return Err(GanetiError::wrong_input(format!(
            "Selected hypervisor ({hv}) not enabled in the cluster ({})",
            cl.enabled_hypervisors.join(",")
        )));
    }
    let template = str_param(op, "disk_template")
        .unwrap_or("diskless")
        .to_string();
    if !cl.disk_template_enabled(&template) {
        return Err(GanetiError::wrong_input(format!(
            "Disk template '{template}' is not enabled in cluster. Enabled disk templates are: {}",
            cl.enabled_disk_templates.join(",")
        )));
    }
    if !constants::SUPPORTED_DISK_TEMPLATES.contains(&template.as_str()) {
        return Err(GanetiError::wrong_input(format!(
            "Disk template '{template}' is not supported by this release"
        )));
    }
    let pnode_uuid = pick_node(cfg, op)?;
    let pnode = cfg
        .nodes
        .get(&pnode_uuid)
        .cloned()
        .ok_or_else(|| GanetiError::noent("Node not known"))?;
    if pnode.offline {
        return Err(GanetiError::wrong_state(format!(
            "Cannot use offline primary node '{}'",
            pnode.name
        )));
    }
    if pnode.drained {
        return Err(GanetiError::wrong_state(format!(
            "Cannot use drained primary node '{}'",
            pnode.name
        )));
    }
    if !pnode.vm_capable {
        return Err(GanetiError::wrong_state(format!(
            "Cannot use non-vm_capable primary node '{}'",
            pnode.name
        )));
    }
    if let Some(os) = str_param(op, "os_type") {
        common::check_os_exists(ctx.master, os)?;
    }
    let group = cfg
        .nodegroups
        .get(&pnode.group)
        .cloned()
        .ok_or_else(|| GanetiError::Config("node group missing".into()))?;

    let mut be = force_dict_types(
        &crate::cmdlib::util::dict_param(op, "beparams"),
        params::BE_TYPES,
        false,
    )?;
    upgrade_beparams(&mut be);
    let hvparams = force_dict_types(
        &crate::cmdlib::util::dict_param(op, "hvparams"),
        params::hv_types(&hv),
        false,
    )?;
    ganeti_types::hvparams::check_syntax(
        &hv,
        &ganeti_types::hvparams::fill(cl, &hv, str_param(op, "os_type"), &hvparams),
    )?;
    let filled_be = common::effective_be(cfg, &be);

    // NICs
    let mut pools = BTreeMap::new();
    let mut nics = Vec::new();
    let mut macs: Vec<String> = Vec::new();
    for n in op
        .get("nics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let d = n.as_object().cloned().unwrap_or_default();
        let nic = build_nic(cfg, &group, &d, &macs, &mut pools)?;
        macs.push(nic.mac.clone());
        nics.push(nic);
    }
    let mut networks = Vec::new();
    for (uuid, pool) in pools {
        if let Some(n) = cfg.networks.get(&uuid) {
            let mut n = n.clone();
            pool.store(&mut n);
            n.serial_no += 1;
            n.mtime = now_f64();
            networks.push(n);
        }
    }

    // Disks
    let now = now_f64();
    let inst_uuid = ganeti_types::new_uuid();
    let disk_plan = create_disks::plan(ctx, cfg, op, &template, &name, &pnode)?;
    let disks = &disk_plan.disks;

    // Instance policy
    if !bool_param(op, "ignore_ipolicy") {
        let pol = group_ipolicy(cfg, &group.uuid);
        let spec = ISpec {
            mem: filled_be.get("maxmem").and_then(Value::as_i64),
            cpus: filled_be.get("vcpus").and_then(Value::as_i64),
            disk_sizes: disks
                .iter()
                .enumerate()
                .map(|(i, d)| (i, d.size as i64))
                .collect(),
            disk_count: Some(disks.len() as i64),
            nic_count: Some(nics.len() as i64),
            spindle_use: filled_be.get("spindle_use").and_then(Value::as_i64),
            template: Some(template.clone()),
        };
        let v = spec_violations(&pol, &spec);
        if !v.is_empty() {
            return Err(GanetiError::wrong_input(format!(
                "Instance allocation to group {} ({}) violates policy: {}",
                group.uuid,
                group.name,
                v.join(", ")
            )));
        }
    }

    let start = bool_param(op, "start");
    let tags = crate::cmdlib::util::str_list(op, "tags");
    let inst = Instance {
        uuid: inst_uuid,
        name,
        primary_node: pnode_uuid,
        os: str_param(op, "os_type").unwrap_or_default().to_string(),
        hypervisor: hv,
        hvparams,
        beparams: be,
        osparams: crate::cmdlib::util::dict_param(op, "osparams"),
        osparams_private: Dict::new(),
        admin_state: if start {
            AdminState::Up
        } else {
            AdminState::Down
        },
        admin_state_source: "admin".into(),
        nics,
        disks: disks.iter().map(|d| d.uuid.clone()).collect(),
        disk_template: template,
        disks_active: false,
        network_port: None,
        tags,
        serial_no: 1,
        ctime: now,
        mtime: now,
    };
    Ok(Plan {
        inst,
        disks: disk_plan,
        networks,
    })
}

pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let mut op = ctx.op().clone();
    let import = if str_param(&op, "mode") == Some("import") {
        let src = super::import::prepare(ctx, &mut op)?;
        check_filled(ctx.master, &op)?;
        Some(src)
    } else {
        None
    };
    let cfg = ctx.config()?;
    let Plan {
        mut inst,
        disks: disk_plan,
        networks,
    } = plan(ctx, &cfg, &op)?;
    let disks = &disk_plan.disks;
    let mut extra = std::collections::BTreeMap::new();
    if let Some(src) = &import {
        // Ganeti's SRC_NODE, SRC_PATH and SRC_IMAGES (a Python list, False
        // for a disk without a dump)
        extra.insert("SRC_NODE".to_string(), src.node_name.clone());
        extra.insert(
            "SRC_PATH".to_string(),
            str_param(&op, "src_path").unwrap_or_default().to_string(),
        );
        let images: Vec<Value> = src
            .images
            .iter()
            .map(|i| match i {
                Some(p) => Value::String(p.display().to_string()),
                None => Value::Bool(false),
            })
            .collect();
        extra.insert(
            "SRC_IMAGES".to_string(),
            ganeti_clifmt::pystr::py_repr(&Value::Array(images)),
        );
    }
    ctx.run_pre_hooks_for(crate::hooks::InstanceSubject {
        inst: inst.clone(),
        disks: disks.clone(),
        extra,
    })?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        // Ganeti 3.0.2 answers a dry run with the chosen nodes' UUIDs.
        let mut nodes = vec![inst.primary_node.clone()];
        for d in disks {
            for n in d.nodes.iter().skip(1) {
                if !nodes.contains(n) {
                    nodes.push(n.clone());
                }
            }
        }
        return Ok(serde_json::json!(nodes));
    }
    let node_name = cfg.node_name(&inst.primary_node);
    for d in disks {
        if inst.disk_template != "diskless" {
            let idx = d.iv_name.trim_start_matches("disk/");
            ctx.log_step(format!("disk {idx}, size {}", fmt_mib(d.size)));
        }
    }
    let created = create_disks::create(
        ctx,
        &cfg,
        &inst.name,
        &inst.disk_template,
        &disk_plan,
        &node_name,
    )?;
    ctx.log(format!("adding instance {} to cluster config", inst.name));
    ctx.log("adding disks to cluster config");
    let mut ops: Vec<ConfigOp> = disks
        .iter()
        .cloned()
        .map(|d| ConfigOp::PutDisk(Box::new(d)))
        .collect();
    ops.extend(
        networks
            .into_iter()
            .map(|n| ConfigOp::PutNetwork(Box::new(n))),
    );
    // the instance itself, with its network port if its hypervisor needs one
    if let Err(e) = super::netport::commit_new_instance(ctx, ops, &mut inst) {
        created.undo(ctx);
        return Err(e);
    }
    if !disks.is_empty() {
        ctx.log_info(format!("Waiting for instance {} to sync disks", inst.name));
        ctx.log_info(format!("Instance {}'s disks are in sync", inst.name));
    }
    if let Some(src) = &import {
        let cfg = ctx.config()?;
        let secret = ctx.take_secret_osparams();
        super::import::run_os_import(ctx, &cfg, &inst, src, secret)?;
    } else if needs_os_install(&op, &inst, disk_plan.adopted) {
        let cfg = ctx.config()?;
        let secret = ctx.take_secret_osparams();
        if let Err(e) = super::osrun::install(ctx, &cfg, &inst, false, secret) {
            // as in Ganeti, the instance and its disks stay (not started)
            mark_down(ctx, &inst)?;
            return Err(e);
        }
    }
    if inst.admin_state == AdminState::Up {
        ctx.log_step("starting instance...");
        let cfg = ctx.config()?;
        let spec = common::spec(&cfg, &inst)?;
        if let Err(e) = ctx.node().instance_start(&spec, false) {
            // keep the instance, but as administratively down, and say so
            mark_down(ctx, &inst)?;
            inst.admin_state = AdminState::Down;
            return Err(GanetiError::OpExec(format!(
                "Could not start instance: {e}"
            )));
        }
    }
    Ok(json!([node_name]))
}

/// Ganeti's `RunOsScripts` condition (mode create): the instance has
/// disks that were not adopted, no `os-image` parameter, an OS, and the
/// opcode does not say `no_install`.
fn needs_os_install(op: &Dict, inst: &Instance, adopting: bool) -> bool {
    let image = crate::cmdlib::util::dict_param(op, "osparams")
        .get("os-image")
        .is_some_and(|v| !v.is_null());
    !inst.disks.is_empty()
        && !adopting
        && !image
        && !inst.os.is_empty()
        && op.get("no_install").and_then(Value::as_bool) != Some(true)
}

/// Store the just-created instance as administratively down.
fn mark_down(ctx: &mut OpCtx<'_>, inst: &Instance) -> Result<(), GanetiError> {
    let cfg = ctx.config()?;
    let mut down = cfg
        .instances
        .get(&inst.uuid)
        .cloned()
        .unwrap_or(inst.clone());
    if down.admin_state == AdminState::Down {
        return Ok(());
    }
    down.admin_state = AdminState::Down;
    down.serial_no += 1;
    down.mtime = now_f64();
    ctx.commit(vec![ConfigOp::PutInstance(Box::new(down))])
}

/// After a crash during create: if the instance never reached the config,
/// remove its file-storage directory (it belongs to this instance alone).
pub fn recover_interrupted_create(m: &Master, op: &Dict) -> String {
    let name = str_param(op, "instance_name")
        .unwrap_or_default()
        .to_string();
    let Ok(cfg) = m.config() else {
        return String::new();
    };
    if let Some(inst) = cfg.instance_by_name(&name) {
        return format!(
            "; instance {} was added to the configuration (admin state {}), check it with gnt-instance info",
            inst.name,
            inst.admin_state.as_str()
        );
    }
    let mut removed = Vec::new();
    for template in ["file", "sharedfile"] {
        let dir = common::instance_file_dir(&cfg, &name, template);
        if dir.is_dir() && !name.is_empty() {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => removed.push(dir.display().to_string()),
                Err(e) => removed.push(format!("{} (could not remove: {e})", dir.display())),
            }
        }
    }
    if removed.is_empty() {
        format!("; instance {name} was not added to the configuration")
    } else {
        format!(
            "; instance {name} was not added to the configuration; removed its partially created disks in {}",
            removed.join(", ")
        )
    }
}
