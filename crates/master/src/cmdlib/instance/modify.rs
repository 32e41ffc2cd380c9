//! OP_INSTANCE_SET_PARAMS.

use std::collections::BTreeMap;

use ganeti_node::DiskSpec;
use ganeti_node::{HotplugAction, InstanceSpec, NicSpec};
use ganeti_types::hvparams;
use ganeti_types::params::{self, force_dict_types, update_params, upgrade_beparams};
use ganeti_types::{now_f64, AdminState, Cluster, Dict, Disk, GanetiError, Instance};
use serde_json::{json, Value};

use super::common::{self, build_nic, disk_size, lookup_instance};
use crate::cmdlib::ipolicy::{group_ipolicy, spec_violations, ISpec};
use crate::cmdlib::util::{bool_param, dict_param, opt_bool, str_param};
use crate::cmdlib::OpCtx;
use crate::state::ConfigOp;
use crate::Master;

#[path = "modify_os.rs"]
mod os;

/// A NIC or disk modification: `[action, index-or-name, params]`.
struct Mod {
    action: String,
    target: Value,
    params: Dict,
}

fn parse_mods(op: &Dict, key: &str) -> Result<Vec<Mod>, GanetiError> {
    let mut out = Vec::new();
    for m in op
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let a = m.as_array().cloned().unwrap_or_default();
        let (action, target, params) = match a.len() {
            3 => (
                a[0].as_str().unwrap_or("").to_string(),
                a[1].clone(),
                a[2].clone(),
            ),
            2 => match &a[0] {
                Value::String(s) => (s.clone(), json!(-1), a[1].clone()),
                Value::Number(n) => ("modify".to_string(), Value::Number(n.clone()), a[1].clone()),
                _ => {
                    return Err(GanetiError::wrong_input(format!(
                        "Invalid {key} modification"
                    )))
                }
            },
            _ => {
                return Err(GanetiError::wrong_input(format!(
                    "Invalid {key} modification"
                )))
            }
        };
        if !["add", "remove", "modify"].contains(&action.as_str()) {
            return Err(GanetiError::wrong_input(format!(
                "{key} action '{action}' is not supported by this release"
            )));
        }
        out.push(Mod {
            action,
            target,
            params: params.as_object().cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

fn resolve_index(
    target: &Value,
    len: usize,
    names: &[Option<String>],
    what: &str,
) -> Result<usize, GanetiError> {
    match target {
        Value::Number(n) => {
            let i = n.as_i64().unwrap_or(-1);
            let idx = if i < 0 { len as i64 + i } else { i };
            if idx < 0 || idx as usize >= len {
                return Err(GanetiError::wrong_input(format!(
                    "Invalid {what} index {i}"
                )));
            }
            Ok(idx as usize)
        }
        Value::String(s) => {
            if let Ok(i) = s.parse::<i64>() {
                return resolve_index(&json!(i), len, names, what);
            }
            names
                .iter()
                .position(|n| n.as_deref() == Some(s.as_str()))
                .ok_or_else(|| {
                    GanetiError::wrong_input(format!("{what} with name '{s}' not found"))
                })
        }
        _ => Err(GanetiError::wrong_input(format!(
            "Invalid {what} identifier"
        ))),
    }
}

/// The instance's own hvparams after `upd`, refused unless the filled
/// result passes the hypervisor's syntax check (Ganeti's
/// `_ProcessHVParams`: GetUpdatedParams, SimpleFillHV, CheckParameterSyntax).
/// `upd` is the opcode's dict as given: "default" or null resets a key,
/// and only then are values coerced (so an empty `root_path` stays "none").
fn new_hvparams(cluster: &Cluster, inst: &Instance, upd: &Dict) -> Result<Dict, GanetiError> {
    let own = force_dict_types(
        &update_params(&inst.hvparams, upd),
        params::hv_types(&inst.hypervisor),
        true,
    )?;
    let filled = hvparams::fill(cluster, &inst.hypervisor, Some(&inst.os), &own);
    hvparams::check_syntax(&inst.hypervisor, &filled)?;
    Ok(own)
}

pub fn check(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    let mut be = force_dict_types(&dict_param(op, "beparams"), params::BE_TYPES, true)?;
    upgrade_beparams(&mut be);
    let found = m.with_config(|c| {
        c.expand_instance(str_param(op, "instance_name").unwrap_or_default())
            .map(|i| (i.clone(), c.cluster.clone()))
    })?;
    if let Ok((inst, cluster)) = &found {
        let upd = force_dict_types(
            &dict_param(op, "hvparams"),
            params::hv_types(&inst.hypervisor),
            true,
        )
        .map_err(|e| match e {
            GanetiError::Parameter(m) if m.starts_with("Unknown parameter") => hvparams::hv_error(
                m.replacen("Unknown parameter", "Parameter", 1) + " is not supported",
            ),
            other => other,
        })?;
        if !upd.is_empty() {
            hvparams::check_not_global(&upd, "instance", "cluster")?;
            new_hvparams(cluster, inst, &dict_param(op, "hvparams"))?;
        }
    }
    parse_mods(op, "nics")?;
    parse_mods(op, "disks")?;
    let has_change = ["beparams", "hvparams", "osparams", "osparams_private"]
        .iter()
        .any(|k| !dict_param(op, k).is_empty())
        || !parse_mods(op, "nics")?.is_empty()
        || !parse_mods(op, "disks")?.is_empty()
        || str_param(op, "os_name").is_some()
        || opt_bool(op, "offline").is_some()
        || op.get("runtime_mem").map(|v| !v.is_null()).unwrap_or(false)
        || str_param(op, "disk_template").is_some();
    if !has_change {
        return Err(GanetiError::wrong_input("No changes submitted"));
    }
    if let Some(t) = str_param(op, "disk_template") {
        return Err(GanetiError::wrong_input(format!(
            "Conversion to disk template '{t}' is not supported by this release"
        )));
    }
    // the OS checks run the OS's verify script: last, once the rest passed
    if let Ok((inst, _)) = &found {
        os::check(m, op, inst)?;
    }
    Ok(())
}

pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let mut inst = lookup_instance(&cfg, &op)?;
    let mut result: Vec<Value> = Vec::new();
    let mut ops: Vec<ConfigOp> = Vec::new();

    // beparams
    let mut be_upd = force_dict_types(&dict_param(&op, "beparams"), params::BE_TYPES, true)?;
    let had_memory = be_upd.contains_key("memory");
    upgrade_beparams(&mut be_upd);
    if !be_upd.is_empty() {
        inst.beparams = update_params(&inst.beparams, &be_upd);
        let mut keys: Vec<&String> = be_upd.keys().collect();
        keys.sort();
        if had_memory {
            let v = be_upd.get("maxmem").cloned().unwrap_or(Value::Null);
            result.push(json!(["be/memory", v]));
        }
        for k in keys {
            if had_memory && (k == "maxmem" || k == "minmem") {
                continue;
            }
            result.push(json!([format!("be/{k}"), be_upd[k]]));
        }
    }
    let hv_upd = force_dict_types(
        &dict_param(&op, "hvparams"),
        params::hv_types(&inst.hypervisor),
        true,
    )?;
    if !hv_upd.is_empty() {
        inst.hvparams = new_hvparams(&cfg.cluster, &inst, &dict_param(&op, "hvparams"))?;
        for (k, v) in &hv_upd {
            result.push(json!([format!("hv/{k}"), v]));
        }
    }
    // checked against the OS when the job was submitted
    os::apply(&mut inst, &op, &mut result)?;
    if let Some(off) = opt_bool(&op, "offline") {
        if off {
            if inst.admin_state == AdminState::Up {
                return Err(GanetiError::wrong_state(format!(
                    "Instance '{}' is marked to be up, cannot mark it offline",
                    inst.name
                )));
            }
            inst.admin_state = AdminState::Offline;
            result.push(json!(["admin_state", "offline"]));
        } else if inst.admin_state == AdminState::Offline {
            inst.admin_state = AdminState::Down;
            result.push(json!(["admin_state", "down"]));
        }
    }

    // NICs
    // asked of the node once: hotplug and the disk changes both depend on it
    let running = common::is_running(ctx.master, &inst)?;
    let hotplug = check_hotplug(ctx, &inst, running, &op)?;
    let group = cfg
        .nodes
        .get(&inst.primary_node)
        .and_then(|n| cfg.nodegroups.get(&n.group))
        .cloned()
        .ok_or_else(|| GanetiError::Config("primary node's group missing".into()))?;
    let mut pools = BTreeMap::new();
    let mut released = Vec::new();
    let mut hotplugs: Vec<NicHotplug> = Vec::new();
    for m in parse_mods(&op, "nics")? {
        let names: Vec<Option<String>> = inst.nics.iter().map(|n| n.name.clone()).collect();
        match m.action.as_str() {
            "add" => {
                let idx = add_index(&m.target, inst.nics.len())?;
                let macs: Vec<String> = inst.nics.iter().map(|n| n.mac.clone()).collect();
                let nic = build_nic(&cfg, &group, &m.params, &macs, &mut pools)?;
                let filled = NicSpec::from_nic(&cfg.cluster, &nic);
                result.push(json!([
                    format!("nic.{idx}"),
                    format!(
                        "add:mac={},ip={},mode={},link={},network={}",
                        nic.mac,
                        nic.ip.as_deref().unwrap_or("None"),
                        filled.mode,
                        filled.link,
                        common::opt_text(m.params.get("network")).unwrap_or_else(|| "None".into())
                    )
                ]));
                inst.nics.insert(idx, nic);
                if hotplug {
                    hotplugs.push(NicHotplug::new(
                        &cfg,
                        &inst,
                        &mut result,
                        format!("nic.{idx}"),
                        vec![HotplugAction::NicAdd { index: idx }],
                    )?);
                }
            }
            "remove" => {
                let idx = resolve_index(&m.target, inst.nics.len(), &names, "NIC")?;
                let nic = inst.nics.remove(idx);
                result.push(json!([format!("NIC/{idx}"), "remove"]));
                if hotplug {
                    let gone = NicSpec::from_nic(&cfg.cluster, &nic);
                    hotplugs.push(NicHotplug::new(
                        &cfg,
                        &inst,
                        &mut result,
                        format!("NIC/{idx}"),
                        vec![HotplugAction::NicRemove { nic: gone }],
                    )?);
                }
                released.push(nic);
            }
            _ => {
                let idx = resolve_index(&m.target, inst.nics.len(), &names, "NIC")?;
                let old = NicSpec::from_nic(&cfg.cluster, &inst.nics[idx]);
                let nic = &mut inst.nics[idx];
                for (k, v) in &m.params {
                    let mut shown = v.clone();
                    match k.as_str() {
                        "mac" => {
                            let mac = v.as_str().unwrap_or("").to_ascii_lowercase();
                            if mac == "auto" || mac == "generate" {
                                let prefix = nic
                                    .network
                                    .as_ref()
                                    .and_then(|n| cfg.networks.get(n))
                                    .and_then(|n| n.mac_prefix.clone())
                                    .unwrap_or_else(|| cfg.cluster.mac_prefix.clone());
                                nic.mac = common::generate_mac(&cfg, &prefix, &[])?;
                                shown = json!(nic.mac);
                            } else if mac != nic.mac {
                                if !common::valid_mac(&mac) {
                                    return Err(GanetiError::wrong_input(format!(
                                        "Invalid MAC address specified: {mac}"
                                    )));
                                }
                                if cfg.macs_in_use().any(|x| x == mac) {
                                    return Err(GanetiError::prereq(
                                        format!("MAC address {mac} already in use in cluster"),
                                        ganeti_types::ErrorClass::NotUnique,
                                    ));
                                }
                                nic.mac = mac;
                            }
                        }
                        "ip" => nic.ip = common::opt_text(Some(v)),
                        "name" => nic.name = common::opt_text(Some(v)),
                        "mode" | "link" | "vlan" => {
                            let upd = force_dict_types(
                                &[(k.clone(), v.clone())].into_iter().collect(),
                                params::NIC_TYPES,
                                true,
                            )?;
                            nic.nicparams = update_params(&nic.nicparams, &upd);
                        }
                        other => {
                            return Err(GanetiError::wrong_input(format!(
                                "Changing NIC parameter '{other}' is not supported"
                            )))
                        }
                    }
                    result.push(json!([format!("nic.{k}/{idx}"), shown]));
                }
                if hotplug {
                    // Ganeti hot-modifies a NIC by unplugging and plugging it.
                    hotplugs.push(NicHotplug::new(
                        &cfg,
                        &inst,
                        &mut result,
                        format!("nic/{idx}"),
                        vec![
                            HotplugAction::NicRemove { nic: old },
                            HotplugAction::NicAdd { index: idx },
                        ],
                    )?);
                }
            }
        }
    }
    if inst.nics.len() > MAX_NICS {
        return Err(GanetiError::prereq(
            format!("Instance has too many network interfaces ({MAX_NICS}), cannot add more"),
            ganeti_types::ErrorClass::WrongState,
        ));
    }
    for (uuid, pool) in pools {
        if let Some(n) = cfg.networks.get(&uuid) {
            let mut n = n.clone();
            pool.store(&mut n);
            n.serial_no += 1;
            n.mtime = now_f64();
            ops.push(ConfigOp::PutNetwork(Box::new(n)));
        }
    }
    ops.extend(
        common::release_nic_ips(&cfg, &released)?
            .into_iter()
            .map(|n| ConfigOp::PutNetwork(Box::new(n))),
    );

    // Disks
    let mut new_disks: Vec<Disk> = Vec::new();
    let mut removed_disks: Vec<Disk> = Vec::new();
    let mut disk_list: Vec<Disk> = cfg.instance_disks(&inst).into_iter().cloned().collect();
    for m in parse_mods(&op, "disks")? {
        let names: Vec<Option<String>> = disk_list.iter().map(|d| d.name.clone()).collect();
        match m.action.as_str() {
            "add" => {
                if inst.disk_template == "diskless" {
                    return Err(GanetiError::wrong_input(
                        "Can't add a disk to an instance with the diskless template",
                    ));
                }
                if running && !hotplug {
                    return Err(GanetiError::wrong_state(format!(
                        "Instance '{}' is running; adding disks needs it stopped or --hotplug",
                        inst.name
                    )));
                }
                let idx = disk_list.len();
                let size = disk_size(&m.params, idx)?;
                let logical_id = new_disk_logical_id(&cfg, &inst, &m.params, idx)?;
                let now = now_f64();
                let d = Disk {
                    uuid: ganeti_types::new_uuid(),
                    name: m
                        .params
                        .get("name")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    dev_type: inst.disk_template.clone(),
                    logical_id,
                    children: vec![],
                    nodes: vec![inst.primary_node.clone()],
                    iv_name: format!("disk/{idx}"),
                    size,
                    mode: m
                        .params
                        .get("mode")
                        .and_then(Value::as_str)
                        .unwrap_or("rw")
                        .to_string(),
                    params: Dict::new(),
                    spindles: None,
                    serial_no: 1,
                    ctime: now,
                    mtime: now,
                };
                result.push(json!([
                    format!("disk/{idx}"),
                    format!("add:size={},mode={}", d.size, d.mode)
                ]));
                disk_list.push(d.clone());
                new_disks.push(d);
            }
            "remove" => {
                if running && !hotplug {
                    return Err(GanetiError::wrong_state(format!(
                        "Instance '{}' is running; removing disks needs it stopped or --hotplug",
                        inst.name
                    )));
                }
                let idx = resolve_index(&m.target, disk_list.len(), &names, "disk")?;
                let d = disk_list.remove(idx);
                result.push(json!([format!("disk/{idx}"), "remove"]));
                removed_disks.push(d);
            }
            _ => {
                let idx = resolve_index(&m.target, disk_list.len(), &names, "disk")?;
                let d = &mut disk_list[idx];
                for (k, v) in &m.params {
                    match k.as_str() {
                        "mode" => {
                            let mode = v.as_str().unwrap_or("");
                            if mode != "rw" && mode != "ro" {
                                return Err(GanetiError::wrong_input(format!(
                                    "Invalid disk access mode '{mode}'"
                                )));
                            }
                            d.mode = mode.into();
                        }
                        "name" => d.name = common::opt_text(Some(v)),
                        other => {
                            return Err(GanetiError::wrong_input(format!(
                                "Disk modification doesn't support '{other}'"
                            )))
                        }
                    }
                    result.push(json!([format!("disk.{k}/{idx}"), v]));
                }
            }
        }
    }
    for (i, d) in disk_list.iter_mut().enumerate() {
        d.iv_name = format!("disk/{i}");
    }
    inst.disks = disk_list.iter().map(|d| d.uuid.clone()).collect();

    // Instance policy: like Ganeti, the whole resulting instance is checked
    // (every disk, NIC count, vcpus, spindles), with its maximum and its
    // minimum memory, unless the policy is explicitly ignored.
    if !bool_param(&op, "ignore_ipolicy") {
        let be = common::effective_be(&cfg, &inst.beparams);
        let pol = group_ipolicy(&cfg, &group.uuid);
        let num = |k: &str| be.get(k).and_then(Value::as_i64);
        let base = ISpec {
            cpus: num("vcpus"),
            spindle_use: num("spindle_use"),
            nic_count: Some(inst.nics.len() as i64),
            disk_sizes: disk_list
                .iter()
                .enumerate()
                .map(|(i, d)| (i, i64::try_from(d.size).unwrap_or(i64::MAX)))
                .collect(),
            disk_count: Some(disk_list.len() as i64),
            template: Some(inst.disk_template.clone()),
            ..ISpec::default()
        };
        let mut violations: Vec<String> = Vec::new();
        for mem in [num("maxmem"), num("minmem")] {
            for v in spec_violations(
                &pol,
                &ISpec {
                    mem,
                    ..base.clone()
                },
            ) {
                if !violations.contains(&v) {
                    violations.push(v);
                }
            }
        }
        if !violations.is_empty() {
            let group_repr = serde_json::to_value(&group)
                .map(|g| ganeti_clifmt::pystr::py_repr(&g))
                .unwrap_or_default();
            return Err(GanetiError::wrong_input(format!(
                "Instance allocation to group {group_repr} ({}) violates policy: {}",
                group.name,
                violations.join(", ")
            )));
        }
    }
    // the hooks see the new memory, vcpus and NICs (Ganeti's be_new, _new_nics)
    ctx.run_pre_hooks_for(crate::hooks::InstanceSubject {
        inst: inst.clone(),
        disks: Vec::new(),
        extra: Default::default(),
    })?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    // side effects: create new disk files, then commit, then remove old ones
    let mut created = Vec::new();
    for d in &new_disks {
        let spec = DiskSpec::from_disk(d).map_err(|e| GanetiError::OpExec(e.to_string()))?;
        let res = match inst.disk_template.as_str() {
            "file" | "sharedfile" => {
                let dir = common::instance_file_dir(&cfg, &inst.name, &inst.disk_template);
                ctx.node().file_storage_dir_create(&dir)
            }
            _ => Ok(()),
        }
        .and_then(|_| ctx.node().blockdev_create(&spec));
        if let Err(e) = res {
            for c in &created {
                let _ = ctx.node().blockdev_remove(c);
            }
            return Err(GanetiError::OpExec(format!(
                "Failed to create disk {}: {e}",
                d.iv_name
            )));
        }
        created.push(spec);
    }
    // new disks enter at serial 1; existing ones are written only if changed
    for d in &disk_list {
        match cfg.disks.get(&d.uuid) {
            None => ops.push(ConfigOp::PutDisk(Box::new(d.clone()))),
            Some(old) if old.mode != d.mode || old.name != d.name || old.iv_name != d.iv_name => {
                let mut nd = d.clone();
                nd.serial_no = old.serial_no + 1;
                nd.mtime = now_f64();
                ops.push(ConfigOp::PutDisk(Box::new(nd)));
            }
            Some(_) => {}
        }
    }
    for d in &removed_disks {
        ops.push(ConfigOp::DelDisk(d.uuid.clone()));
    }
    inst.serial_no += 1;
    inst.mtime = now_f64();
    ops.push(ConfigOp::PutInstance(Box::new(inst.clone())));
    if let Err(e) = ctx.commit(ops) {
        for c in &created {
            let _ = ctx.node().blockdev_remove(c);
        }
        return Err(e);
    }
    if hotplug {
        hotplug_disks(ctx, &inst, &new_disks, &removed_disks, &mut result);
    }
    for d in &removed_disks {
        if let Ok(spec) = DiskSpec::from_disk(d) {
            if let Err(e) = ctx.node().blockdev_remove(&spec) {
                ctx.log_warning(format!("Could not remove disk {}: {e}", d.iv_name));
            }
        }
    }
    // NIC hotplug, after the commit: a failure only warns (Ganeti's way)
    run_nic_hotplugs(ctx, hotplugs, &mut result);
    Ok(Value::Array(result))
}

/// The `logical_id` of a disk added to an existing instance, as create
/// builds it for the template (Ganeti's `GenerateDiskTemplate` for one
/// disk). Templates whose disks must be adopted cannot grow new ones here.
fn new_disk_logical_id(
    cfg: &ganeti_types::ConfigData,
    inst: &Instance,
    params: &Dict,
    idx: usize,
) -> Result<Value, GanetiError> {
    let template = inst.disk_template.as_str();
    match template {
        "file" | "sharedfile" => {
            let dir = common::instance_file_dir(cfg, &inst.name, template);
            // keep the driver the instance's other disks use
            let driver = cfg
                .instance_disks(inst)
                .first()
                .and_then(|d| d.logical_id.get(0))
                .and_then(Value::as_str)
                .unwrap_or("loop")
                .to_string();
            let file = dir.join(format!("{}.{template}.disk{idx}", ganeti_types::new_uuid()));
            Ok(json!([driver, file.display().to_string()]))
        }
        "plain" => {
            let vg = params
                .get("vg")
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .or_else(|| {
                    cfg.cluster
                        .volume_group_name
                        .clone()
                        .filter(|v| !v.is_empty())
                })
                .ok_or_else(|| {
                    GanetiError::wrong_input(format!(
                        "No volume group given for disk {idx} and the cluster has none set"
                    ))
                })?;
            Ok(json!([
                vg,
                format!("{}.disk{idx}", ganeti_types::new_uuid())
            ]))
        }
        other => Err(GanetiError::wrong_input(format!(
            "Adding disks to an instance with the {other} template is not supported"
        ))),
    }
}

/// Attach the new disks to, and detach the removed ones from, the running
/// instance (after the commit, before removed disks are deleted). As for
/// NICs, a failure is a warning: the change takes effect at the next
/// restart.
fn hotplug_disks(
    ctx: &mut OpCtx<'_>,
    inst: &Instance,
    added: &[Disk],
    removed: &[Disk],
    result: &mut Vec<Value>,
) {
    let spec = match ctx.config().and_then(|cfg| {
        let now = cfg
            .instances
            .get(&inst.uuid)
            .cloned()
            .unwrap_or_else(|| inst.clone());
        common::spec(&cfg, &now)
    }) {
        Ok(s) => s,
        Err(e) => {
            ctx.log_warning(format!("Could not hotplug disks: {e}"));
            return;
        }
    };
    let mut todo: Vec<(String, HotplugAction)> = Vec::new();
    for d in removed {
        if let Ok(disk) = DiskSpec::from_disk(d) {
            todo.push((d.iv_name.clone(), HotplugAction::DiskRemove { disk }));
        }
    }
    for d in added {
        if let Some(index) = spec.disks.iter().position(|s| s.uuid == d.uuid) {
            todo.push((format!("disk/{index}"), HotplugAction::DiskAdd { index }));
        }
    }
    for (label, action) in todo {
        ctx.log_info("Trying to hotplug device...");
        let msg = match ctx.node().instance_hotplug(&spec, &action) {
            Ok(()) => {
                ctx.log_info("Hotplug done.");
                "hotplug:done"
            }
            Err(e) => {
                ctx.log_warning(format!("Could not hotplug device: {e}"));
                ctx.log_info("Continuing execution..");
                "hotplug:failed"
            }
        };
        result.push(json!([label, msg]));
    }
}

// ---- NIC hotplug ------------------------------------------------------------

/// Hypervisors that can change a running instance's devices (in Ganeti
/// only KVM implements `HotplugSupported`; the others refuse).
const HOTPLUG_HYPERVISORS: &[&str] = &["kvm"];

/// Ganeti's limit on the NICs of an instance (`constants.MAX_NICS`).
const MAX_NICS: usize = 8;

/// Ganeti's `_CheckHotplug`: whether this modification is hotplugged.
/// With `hotplug` an instance that cannot be is refused; with
/// `hotplug_if_possible` the change falls back to the next restart.
fn check_hotplug(
    ctx: &mut OpCtx<'_>,
    inst: &ganeti_types::Instance,
    running: bool,
    op: &Dict,
) -> Result<bool, GanetiError> {
    let required = bool_param(op, "hotplug");
    if !required && !bool_param(op, "hotplug_if_possible") {
        return Ok(false);
    }
    let why_not = if !HOTPLUG_HYPERVISORS.contains(&inst.hypervisor.as_str()) {
        Some("Hotplug is not supported by this hypervisor")
    } else if !running {
        Some("Instance is probably down")
    } else {
        None
    };
    let Some(why_not) = why_not else {
        return Ok(true);
    };
    let msg = format!("Hotplug is not supported: {why_not}");
    if required {
        return Err(GanetiError::prereq(
            format!("Hotplug is not possible: {msg}"),
            ganeti_types::ErrorClass::WrongState,
        ));
    }
    ctx.log_warning(msg);
    ctx.log_info("Modification will take place without hotplugging.");
    Ok(false)
}

/// Where an added NIC goes (Ganeti's `GetIndexFromIdentifier`): `-1`
/// appends, `0..=len` inserts there.
fn add_index(target: &Value, len: usize) -> Result<usize, GanetiError> {
    let i = match target {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse::<i64>().ok(),
        _ => None,
    }
    .ok_or_else(|| GanetiError::wrong_input("Only positive integer or -1 is accepted"))?;
    if i == -1 {
        return Ok(len);
    }
    if i < 0 {
        return Err(GanetiError::wrong_input(
            "Not accepting negative indices other than -1",
        ));
    }
    let idx = usize::try_from(i).unwrap_or(usize::MAX);
    if idx > len {
        return Err(GanetiError::wrong_input(format!(
            "Got NIC index {idx}, but there are only {len}"
        )));
    }
    Ok(idx)
}

/// A NIC change to apply to the running instance once the new
/// configuration is committed; `pos` is its line in the result.
struct NicHotplug {
    pos: usize,
    label: String,
    spec: InstanceSpec,
    actions: Vec<HotplugAction>,
}

impl NicHotplug {
    /// Record the change against the instance as it is at this point of
    /// the modification list, and reserve its result line.
    fn new(
        cfg: &ganeti_types::ConfigData,
        inst: &ganeti_types::Instance,
        result: &mut Vec<Value>,
        label: String,
        actions: Vec<HotplugAction>,
    ) -> Result<Self, GanetiError> {
        let spec = common::spec(cfg, inst)?;
        result.push(Value::Null);
        Ok(NicHotplug {
            pos: result.len() - 1,
            label,
            spec,
            actions,
        })
    }
}

/// Ganeti's `_HotplugDevice` for each recorded change, in order: the
/// result line says `hotplug:done` or `hotplug:failed`; a failure is a
/// warning, the modification itself stands (it takes effect at the next
/// restart).
fn run_nic_hotplugs(ctx: &mut OpCtx<'_>, hotplugs: Vec<NicHotplug>, result: &mut [Value]) {
    for h in hotplugs {
        ctx.log_info("Trying to hotplug device...");
        let outcome = h
            .actions
            .iter()
            .try_for_each(|a| ctx.node().instance_hotplug(&h.spec, a));
        let msg = match outcome {
            Ok(()) => {
                ctx.log_info("Hotplug done.");
                "hotplug:done"
            }
            Err(e) => {
                ctx.log_warning(format!("Could not hotplug device: {e}"));
                ctx.log_info("Continuing execution..");
                "hotplug:failed"
            }
        };
        if let Some(slot) = result.get_mut(h.pos) {
            *slot = json!([h.label, msg]);
        }
    }
}
