//! OP_INSTANCE_QUERY_DATA: the detailed instance description behind
//! `gnt-instance info` and RAPI `/2/instances/[name]/info`.

use ganeti_types::{constants, ConfigData, Dict, Disk, GanetiError, Instance};
use serde_json::{json, Map, Value};

use super::common;
use crate::cmdlib::util::{bool_param, str_list};
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::Master;

pub fn locks(_m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    if bool_param(op, "use_locking") {
        Ok(vec![
            LockReq::bgl_shared(),
            LockReq::all(Level::Instance, false),
        ])
    } else {
        Ok(vec![])
    }
}

fn disk_json(cfg: &ConfigData, d: &Disk, static_only: bool, running: bool) -> Value {
    let path = d.file_path().map(str::to_owned);
    let pstatus = if static_only || !running {
        Value::Null
    } else {
        json!({"dev_path": path, "major": null, "minor": null, "sync_percent": null,
               "estimated_time": null, "is_degraded": false, "ldisk_status": 1})
    };
    let _ = cfg;
    json!({
        "iv_name": d.iv_name,
        "dev_type": d.dev_type,
        "logical_id": d.logical_id,
        "drbd_info": null,
        "pstatus": pstatus,
        "sstatus": null,
        "children": [],
        "mode": d.mode,
        "size": d.size,
        "spindles": d.spindles,
        "name": d.name,
        "uuid": d.uuid,
    })
}

fn instance_json(
    m: &Master,
    cfg: &ConfigData,
    inst: &Instance,
    static_only: bool,
) -> Result<Value, GanetiError> {
    let running = if static_only {
        None
    } else {
        Some(common::is_running(m, inst)?)
    };
    let pnode = cfg.nodes.get(&inst.primary_node);
    let group = pnode.and_then(|n| cfg.nodegroups.get(&n.group));
    let cl = &cfg.cluster;
    let nics: Vec<Value> = inst
        .nics
        .iter()
        .map(|n| {
            let p = ganeti_types::params::fill(&[
                &constants::nic_defaults(),
                &cl.nic_defaults(),
                &n.nicparams,
            ]);
            let net_name = n
                .network
                .as_ref()
                .and_then(|u| cfg.networks.get(u))
                .map(|x| x.name.clone());
            json!([
                n.name,
                n.uuid,
                n.ip,
                n.mac,
                p.get("mode"),
                p.get("link"),
                p.get("vlan"),
                n.network,
                net_name
            ])
        })
        .collect();
    // Like Ganeti's FillHV(skip_globals=True): cluster-wide hypervisor
    // settings (migration, xen_cmd) are not the instance's.
    let mut hv_actual = ganeti_types::params::fill(&[
        &constants::hv_defaults(&inst.hypervisor),
        &cl.hv_defaults(&inst.hypervisor),
        &inst.hvparams,
    ]);
    for global in [
        "migration_bandwidth",
        "migration_mode",
        "migration_port",
        "xen_cmd",
    ] {
        hv_actual.remove(global);
    }
    let be_actual = common::effective_be(cfg, &inst.beparams);
    let os_cluster = cl
        .osparams
        .get(&inst.os)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let os_actual = ganeti_types::params::fill(&[&os_cluster, &inst.osparams]);
    let snodes = cfg.instance_secondaries(inst);
    Ok(json!({
        "name": inst.name,
        "config_state": inst.admin_state.as_str(),
        "run_state": match running { None => Value::Null, Some(true) => json!("up"), Some(false) => json!("down") },
        "pnode": cfg.node_name(&inst.primary_node),
        "pnode_group_uuid": group.map(|g| g.uuid.clone()),
        "pnode_group_name": group.map(|g| g.name.clone()),
        "snodes": snodes.iter().map(|u| cfg.node_name(u)).collect::<Vec<_>>(),
        "snodes_group_uuids": snodes.iter().filter_map(|u| cfg.nodes.get(u).map(|n| n.group.clone())).collect::<Vec<_>>(),
        "snodes_group_names": snodes.iter().filter_map(|u| cfg.nodes.get(u).map(|n| cfg.group_name(&n.group))).collect::<Vec<_>>(),
        "os": inst.os,
        "nics": nics,
        "disk_template": inst.disk_template,
        "disks": cfg.instance_disks(inst).iter().map(|d| disk_json(cfg, d, static_only, running.unwrap_or(false))).collect::<Vec<_>>(),
        "hypervisor": inst.hypervisor,
        "network_port": inst.network_port,
        "hv_instance": inst.hvparams,
        "hv_actual": hv_actual,
        "be_instance": inst.beparams,
        "be_actual": be_actual,
        "os_instance": inst.osparams,
        "os_actual": os_actual,
        "serial_no": inst.serial_no,
        "mtime": inst.mtime,
        "ctime": inst.ctime,
        "uuid": inst.uuid,
    }))
}

pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let static_only = bool_param(&op, "static");
    let names = str_list(&op, "instances");
    let insts: Vec<Instance> = if names.is_empty() {
        cfg.instances.values().cloned().collect()
    } else {
        names
            .iter()
            .map(|n| cfg.expand_instance(n).cloned())
            .collect::<Result<_, _>>()?
    };
    let mut out = Map::new();
    for i in &insts {
        out.insert(
            i.name.clone(),
            instance_json(ctx.master, &cfg, i, static_only)?,
        );
    }
    Ok(Value::Object(out))
}
