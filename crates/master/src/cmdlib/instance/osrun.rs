//! Running an instance's OS scripts from the opcodes that need them:
//! create (install), reinstall and rename.
//!
//! Why one place: all three send the node the same description of the OS
//! ([`OsRunSpec`]: full name, effective parameters, instance facts) and
//! report failures with Ganeti's wording, so the layering of OS
//! parameters (cluster for the OS < cluster for OS+variant < instance;
//! private ones likewise, Ganeti's `SimpleFillOS`) is written once.

use ganeti_node::{NetworkInfo, OsInstanceInfo, OsRunSpec};
use ganeti_types::params::fill;
use ganeti_types::{ConfigData, Dict, GanetiError, Instance};
use serde_json::Value;

use super::common;
use crate::cmdlib::OpCtx;

/// The cluster-level parameters of `os` (base name, then with variant).
fn cluster_os_params(all: &Dict, os: &str) -> Vec<Dict> {
    let base = os.split('+').next().unwrap_or(os);
    let get = |k: &str| {
        all.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    if base == os {
        vec![get(base)]
    } else {
        vec![get(base), get(os)]
    }
}

/// Ganeti's `SimpleFillOS` for an instance: public and private
/// parameters, cluster < instance, unmasked.
pub fn effective_os_params(cfg: &ConfigData, inst: &Instance) -> Dict {
    let cl = &cfg.cluster;
    let mut layers = cluster_os_params(&cl.osparams, &inst.os);
    layers.extend(cluster_os_params(&cl.osparams_private_cluster, &inst.os));
    layers.push(inst.osparams.clone());
    layers.push(inst.osparams_private.clone());
    let refs: Vec<&Dict> = layers.iter().collect();
    fill(&refs)
}

/// Ganeti's `CheckOSParams`, run when the job is submitted: the OS must
/// exist, every parameter must be in its `parameters.list` and its verify
/// script must accept them (cluster < own < private < secret, as the create
/// script will see them). The secrets are still in the opcode here; they
/// are redacted only when the job is stored.
pub fn validate_at_submit(
    m: &crate::Master,
    os_name: &str,
    own: &Dict,
    private: &Dict,
    secret: &Dict,
    force_variant: bool,
) -> Result<(), GanetiError> {
    let (node, params) = m.with_config(|cfg| {
        let cl = &cfg.cluster;
        let mut layers = cluster_os_params(&cl.osparams, os_name);
        layers.extend(cluster_os_params(&cl.osparams_private_cluster, os_name));
        layers.push(own.clone());
        layers.push(private.clone());
        let refs: Vec<&Dict> = layers.iter().collect();
        let node = cfg
            .master_node()
            .map(|n| n.name.clone())
            .unwrap_or_default();
        (node, fill(&refs))
    })?;
    m.node
        .os_validate(
            os_name,
            &params,
            secret,
            &["parameters".to_string()],
            force_variant,
        )
        .map_err(|e| {
            GanetiError::OpExec(format!(
                "OS Parameters validation failed on node {node}: {e}"
            ))
        })
}

/// What the node needs to run `inst`'s OS scripts.
pub fn run_spec(cfg: &ConfigData, inst: &Instance, secret: Dict) -> OsRunSpec {
    let nic_networks = inst
        .nics
        .iter()
        .map(|n| {
            n.network
                .as_ref()
                .and_then(|u| cfg.networks.get(u))
                .map(|net| NetworkInfo {
                    name: net.name.clone(),
                    uuid: net.uuid.clone(),
                    tags: net.tags.clone(),
                    subnet: Some(net.network.clone()).filter(|s| !s.is_empty()),
                    gateway: net.gateway.clone(),
                    subnet6: net.network6.clone(),
                    gateway6: net.gateway6.clone(),
                    mac_prefix: net.mac_prefix.clone(),
                })
        })
        .collect();
    OsRunSpec {
        name: inst.os.clone(),
        params: effective_os_params(cfg, inst),
        secret_params: secret,
        instance: OsInstanceInfo {
            ctime: Some(inst.ctime),
            mtime: Some(inst.mtime),
            primary_node: inst.primary_node.clone(),
            secondary_nodes: cfg
                .instance_disks(inst)
                .iter()
                .flat_map(|d| d.nodes.iter().skip(1).cloned())
                .collect(),
            nic_networks,
        },
    }
}

/// The opcode's `debug_level`.
pub fn debug_level(op: &Dict) -> u32 {
    op.get("debug_level")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0)
}

/// Run the create script of `inst` (disks assembled on its primary node);
/// Ganeti's feedback and error wording.
pub fn install(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst: &Instance,
    reinstall: bool,
    secret: Dict,
) -> Result<(), GanetiError> {
    let spec = common::spec(cfg, inst)?;
    let run = run_spec(cfg, inst, secret);
    let debug = debug_level(ctx.op());
    ctx.log_step("running the instance OS create scripts...");
    ctx.node()
        .os_create(&spec, &run, reinstall, debug)
        .map_err(|e| {
            GanetiError::OpExec(format!(
                "Could not add os for instance {} on node {}: {e}",
                inst.name,
                cfg.node_name(&inst.primary_node)
            ))
        })
}

/// Run the rename script of the renamed `inst` (disks assembled); a
/// failure is a warning, as in Ganeti (the rename already happened).
pub fn rename(ctx: &mut OpCtx<'_>, cfg: &ConfigData, inst: &Instance, old_name: &str) {
    let result = common::spec(cfg, inst).and_then(|spec| {
        let run = run_spec(cfg, inst, Dict::new());
        ctx.node()
            .os_rename(&spec, old_name, &run, debug_level(ctx.op()))
            .map_err(|e| GanetiError::OpExec(e.to_string()))
    });
    if let Err(e) = result {
        let msg = match e {
            GanetiError::OpExec(m) => m,
            other => other.to_string(),
        };
        ctx.log_warning(format!(
            "Could not run OS rename script for instance {} on node {} (but the instance has been renamed in Ganeti): {msg}",
            inst.name,
            cfg.node_name(&inst.primary_node)
        ));
    }
}
