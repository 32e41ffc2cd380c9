//! Queries: gather live data from the node layer only when the requested
//! fields or the filter need it, then let `ganeti-query` compute rows.
//! Queries never go through the job queue.

use std::collections::HashMap;

use ganeti_query::{LiveData, LiveInstance, NodeLive, QueryContext, Resource};
use ganeti_types::{ConfigData, GanetiError, Job, OsDiagnosis};
use serde_json::Value;

use crate::Master;

fn query_err(e: ganeti_query::QueryError) -> GanetiError {
    e.to_ganeti()
}

/// Collect what the node knows: running instances and node resources.
pub fn gather_live(m: &Master, cfg: &ConfigData) -> LiveData {
    let mut live = LiveData::default();
    let Some(master) = cfg.master_node() else {
        return live;
    };
    let hvs = cfg.cluster.enabled_hypervisors.clone();
    for hv in &hvs {
        if let Ok(list) = m.node.instances_info(hv) {
            for (name, rt) in list {
                if let Some(inst) = cfg.instance_by_name(&name) {
                    live.instances.insert(
                        inst.uuid.clone(),
                        LiveInstance {
                            node: String::new(),
                            running: true,
                            state: rt.state.as_str().to_string(),
                            memory: rt.memory,
                            vcpus: rt.vcpus,
                        },
                    );
                }
            }
        }
    }
    let storage: Vec<_> = default_storage_unit(cfg).into_iter().collect();
    // a storage unit that cannot be read (a missing volume group) must not
    // hide the node's memory and CPU figures
    let info = m
        .node
        .node_info(&hvs, &storage)
        .or_else(|e| match storage.is_empty() {
            true => Err(e),
            false => m.node.node_info(&hvs, &[]),
        });
    match info {
        Ok(info) => {
            let hv = info.hypervisors.first();
            let st = info.storage.first();
            live.nodes.insert(
                master.uuid.clone(),
                NodeLive {
                    bootid: Some(info.bootid.clone()),
                    mtotal: hv.map(|h| h.memory_total),
                    mnode: hv.map(|h| h.memory_dom0),
                    mfree: hv.map(|h| h.memory_free),
                    dtotal: st.map(|s| s.storage_size),
                    dfree: st.map(|s| s.storage_free),
                    ctotal: hv.map(|h| u64::from(h.cpu_total)),
                    cnos: hv.map(|h| u64::from(h.cpu_dom0)),
                    cnodes: hv.map(|h| u64::from(h.cpu_nodes)),
                    csockets: hv.map(|h| u64::from(h.cpu_sockets)),
                    sptotal: None,
                    spfree: None,
                },
            );
        }
        Err(e) => {
            live.node_errors.insert(
                master.uuid.clone(),
                ganeti_query::NodeFailure::Error(e.to_string()),
            );
        }
    }
    live
}

/// The storage unit behind a node's `dtotal`/`dfree`: the one of the first
/// enabled disk template, as in Ganeti; templates without space reporting
/// (diskless, blockdev, ext, ...) leave those fields unavailable.
fn default_storage_unit(cfg: &ConfigData) -> Option<ganeti_node::StorageUnit> {
    let cl = &cfg.cluster;
    let exclusive_storage = cfg
        .master_node()
        .map(|n| crate::cmdlib::node::filled_ndparams(cfg, n))
        .and_then(|nd| nd.get("exclusive_storage").and_then(Value::as_bool))
        .unwrap_or(false);
    match cl.enabled_disk_templates.first().map(String::as_str) {
        Some("file") => Some(ganeti_node::StorageUnit::File {
            path: cl.file_storage_dir.clone().into(),
        }),
        Some("sharedfile") => Some(ganeti_node::StorageUnit::SharedFile {
            path: cl.shared_file_storage_dir.clone().into(),
        }),
        Some("plain" | "drbd") => cl
            .volume_group_name
            .clone()
            .filter(|vg| !vg.is_empty())
            .map(|vg| ganeti_node::StorageUnit::LvmVg {
                vg,
                exclusive_storage,
            }),
        _ => None,
    }
}

/// LUXI `Query`.
pub fn query(
    m: &Master,
    what: &str,
    fields: &[String],
    filter: Option<&Value>,
) -> Result<Value, GanetiError> {
    let resource = Resource::parse(what)
        .ok_or_else(|| GanetiError::wrong_input(format!("Resource '{what}' is not known")))?;
    let cfg = m.config()?;
    let jobs: Vec<Job> = if resource == Resource::Job {
        m.store.read(|s| {
            s.jobs
                .values()
                .chain(s.archived.values())
                .cloned()
                .collect()
        })
    } else {
        Vec::new()
    };
    let mut live = if resource == Resource::Os {
        LiveData {
            os: gather_os(m, &cfg),
            ..LiveData::default()
        }
    } else if ganeti_query::needs_live_data(resource, fields, filter) {
        gather_live(m, &cfg)
    } else {
        LiveData::default()
    };
    if resource == Resource::Export {
        gather_exports(m, &cfg, &mut live);
    }
    if resource == Resource::Instance && ganeti_query::needs_console(fields) {
        gather_consoles(m, &cfg, &mut live);
    }
    let drained = m.store.read(|s| s.drained);
    let ctx = QueryContext {
        config: &cfg,
        live: &live,
        jobs: &jobs,
        drain_flag: drained,
        watcher_pause: m.store.read(|s| s.watcher_pause),
        locks: &[],
    };
    let res = ganeti_query::query(resource, &ctx, fields, filter).map_err(query_err)?;
    serde_json::to_value(res).map_err(|e| GanetiError::Generic(e.to_string()))
}

/// Ask the nodes for their exports (Ganeti's `export_list` RPC): a node
/// that cannot list them (no export directory yet, as on a fresh Ganeti
/// node) is a failed answer, shown as `?`. This release reaches only the
/// node it runs on; other online nodes count as not answering.
fn gather_exports(m: &Master, cfg: &ConfigData, live: &mut LiveData) {
    for node in cfg.nodes.values().filter(|n| !n.offline) {
        let answer = if node.uuid == cfg.cluster.master_node {
            m.node.export_list().map_err(|e| e.to_string())
        } else {
            Err("node not reachable from this master".to_string())
        };
        match answer {
            Ok(list) => {
                live.exports.insert(node.uuid.clone(), list);
            }
            Err(e) => {
                live.node_errors
                    .insert(node.uuid.clone(), ganeti_query::NodeFailure::Error(e));
            }
        }
    }
}

/// Ask the online, vm_capable nodes what their OS search path holds
/// (Ganeti's `os_diagnose` RPC), keyed by node uuid. A node that cannot
/// be asked or whose call fails is left out, so it neither validates nor
/// invalidates any OS (as in Ganeti). This release reaches only the node
/// it runs on (the master); other nodes count as not answering.
pub fn gather_os(m: &Master, cfg: &ConfigData) -> HashMap<String, Vec<OsDiagnosis>> {
    let mut out = HashMap::new();
    for node in cfg.nodes.values() {
        if node.offline || !node.vm_capable || node.uuid != cfg.cluster.master_node {
            continue;
        }
        match m.node.os_diagnose() {
            Ok(list) => {
                out.insert(node.uuid.clone(), list);
            }
            Err(e) => tracing::warn!("OS diagnose on node {}: {e}", node.name),
        }
    }
    out
}

/// Ask the hypervisor how to reach the console of every running instance
/// (only done when the `console` field is asked for, as Ganeti does).
fn gather_consoles(m: &Master, cfg: &ConfigData, live: &mut LiveData) {
    let running: Vec<String> = live
        .instances
        .iter()
        .filter(|(_, li)| li.running)
        .map(|(uuid, _)| uuid.clone())
        .collect();
    for uuid in running {
        let Some(inst) = cfg.instances.get(&uuid) else {
            continue;
        };
        let disks = cfg.instance_disks(inst);
        let host = console_host(cfg, &inst.primary_node);
        let console = ganeti_node::InstanceSpec::from_config(&cfg.cluster, inst, &disks)
            .map_err(|e| e.to_string())
            .and_then(|spec| {
                m.node
                    .instance_console(&spec, &host)
                    .map_err(|e| e.to_string())
            });
        match console.map(serde_json::to_value) {
            Ok(Ok(v)) => {
                live.consoles.insert(uuid, v);
            }
            Ok(Err(e)) => tracing::warn!("console of {}: {e}", inst.name),
            Err(e) => tracing::warn!("console of {}: {e}", inst.name),
        }
    }
}

/// The primary node of an instance as its console is reached: name and
/// the node's effective `ssh_port`.
fn console_host(cfg: &ConfigData, node_uuid: &str) -> ganeti_node::ConsoleHost {
    let node = cfg.nodes.get(node_uuid);
    let ssh_port = node
        .map(|n| crate::cmdlib::node::filled_ndparams(cfg, n))
        .and_then(|nd| nd.get("ssh_port").and_then(Value::as_u64))
        .and_then(|p| u16::try_from(p).ok());
    ganeti_node::ConsoleHost {
        node_name: node.map(|n| n.name.clone()).unwrap_or_default(),
        ssh_port,
    }
}

/// LUXI `QueryFields`.
pub fn query_fields(what: &str, names: Option<&[String]>) -> Result<Value, GanetiError> {
    let resource = Resource::parse(what)
        .ok_or_else(|| GanetiError::wrong_input(format!("Resource '{what}' is not known")))?;
    let defs = ganeti_query::fields(resource, names);
    Ok(serde_json::json!({ "fields": defs }))
}

/// Values of job fields for one job (for `QueryJobs` and `WaitForJobChange`).
pub fn job_fields(cfg: &ConfigData, job: &Job, fields: &[String]) -> Value {
    let jobs = std::slice::from_ref(job);
    let live = LiveData::default();
    let ctx = QueryContext {
        config: cfg,
        live: &live,
        jobs,
        drain_flag: false,
        watcher_pause: None,
        locks: &[],
    };
    match ganeti_query::query(Resource::Job, &ctx, fields, None) {
        Ok(res) => {
            let v = serde_json::to_value(res).unwrap_or(Value::Null);
            let row = v
                .get("data")
                .and_then(|d| d.get(0))
                .cloned()
                .unwrap_or(Value::Null);
            Value::Array(
                row.as_array()
                    .map(|cells| {
                        cells
                            .iter()
                            .map(|c| c.get(1).cloned().unwrap_or(Value::Null))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        }
        Err(_) => Value::Null,
    }
}
