//! Running an instance's OS scripts from the opcodes that need them:
//! create (install), reinstall and rename.
//!
//! Why one place: all three send the node the same description of the OS
//! ([`OsRunSpec`]: full name, effective parameters, instance facts) and
//! report failures with Ganeti's wording, so the layering of OS
//! parameters (cluster for the OS < cluster for OS+variant < instance;
//! private ones likewise, Ganeti's `SimpleFillOS`) is written once.
//! The same layering is what the OS checks before such parameters are
//! accepted (Ganeti's `CheckOSParams`, [`check_os_params`]): by instance
//! create, reinstall and modify, cluster modify and multi-allocation, all
//! when the job is submitted, so a refused value queues nothing.

use ganeti_node::{NetworkInfo, NodeError, OsInstanceInfo, OsRunSpec};
use ganeti_types::params::fill;
use ganeti_types::{ConfigData, Dict, GanetiError, Instance};
use serde_json::Value;

use super::common;
use crate::cmdlib::OpCtx;

/// The cluster-level parameters of `os` in `all` (one of the cluster's
/// per-OS dicts): those of the base name, then those of `os` itself when
/// it names a variant.
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

/// Ganeti's `SimpleFillOS` with private parameters: `own` and `private`
/// layered over the cluster-level dicts `public` and `private_cluster`
/// (`Cluster::osparams`, `Cluster::osparams_private_cluster`, or their new
/// values while a cluster modification is checked), unmasked.
pub fn fill_os_params(
    public: &Dict,
    private_cluster: &Dict,
    os: &str,
    own: &Dict,
    private: &Dict,
) -> Dict {
    let mut layers = cluster_os_params(public, os);
    layers.extend(cluster_os_params(private_cluster, os));
    layers.push(own.clone());
    layers.push(private.clone());
    let refs: Vec<&Dict> = layers.iter().collect();
    fill(&refs)
}

/// Ganeti's `SimpleFillOS` for an instance: public and private
/// parameters, cluster < instance, unmasked.
pub fn effective_os_params(cfg: &ConfigData, inst: &Instance) -> Dict {
    let cl = &cfg.cluster;
    fill_os_params(
        &cl.osparams,
        &cl.osparams_private_cluster,
        &inst.os,
        &inst.osparams,
        &inst.osparams_private,
    )
}

/// What [`check_os_params`] validates: an OS and the parameters its
/// scripts would get.
#[derive(Clone, Copy)]
pub struct OsParamsCheck<'a> {
    /// The full OS name (`os` or `os+variant`).
    pub os: &'a str,
    /// Public and private parameters, filled ([`fill_os_params`]).
    pub params: &'a Dict,
    /// Secret parameters (create and reinstall only); masked in errors.
    pub secret: &'a Dict,
    /// Accept a variant the OS does not declare (or a missing one).
    pub force_variant: bool,
    /// Ganeti's `required`: an OS that a node lacks (or finds invalid) is
    /// an error; otherwise that node's validation is skipped.
    pub required: bool,
}

/// Ganeti's `CheckOSParams`: on each vm-capable node of `nodes`, the OS
/// must accept the parameters (`parameters.list`, then its verify script
/// with `parameters`), the variant must fit unless forced. Returns the
/// names of the nodes that were skipped because the OS is missing there
/// (only when not `required`), for the caller's "validation skipped"
/// note. Errors read "OS Parameters validation failed on node N: ...",
/// an OpExecError as in Ganeti (its RPC result's `Raise`).
pub fn check_os_params(
    m: &crate::Master,
    nodes: &[String],
    check: OsParamsCheck<'_>,
) -> Result<Vec<String>, GanetiError> {
    if check.os.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = m.with_config(|cfg| {
        let mut names: Vec<String> = Vec::new();
        for uuid in nodes {
            let Some(node) = cfg.nodes.get(uuid) else {
                continue;
            };
            if node.vm_capable && !names.contains(&node.name) {
                names.push(node.name.clone());
            }
        }
        names
    })?;
    let mut skipped = Vec::new();
    // The node layer answers for the node this master runs on, which is
    // every node of today's clusters.
    for name in names {
        let res = m.node.os_validate(
            check.os,
            check.params,
            check.secret,
            &["parameters".to_string()],
            check.force_variant,
        );
        match res {
            Ok(()) => {}
            Err(NodeError::OsInvalid(_)) if !check.required => skipped.push(name),
            Err(e) => {
                return Err(GanetiError::OpExec(format!(
                    "OS Parameters validation failed on node {name}: {e}"
                )))
            }
        }
    }
    Ok(skipped)
}

/// Ganeti's `LogInfo` for a node skipped by [`check_os_params`].
pub fn skipped_note(os: &str, node: &str) -> String {
    format!("OS {os} not found on node {node}, validation skipped")
}

/// [`check_os_params`] for an instance creation or reinstall, run when
/// the job is submitted: on the instance's `nodes` the OS must exist and
/// accept the parameters as the create script will see them (cluster <
/// own < private < secret). The secrets are still in the opcode here;
/// they are taken out only when the job is stored.
pub fn validate_at_submit(
    m: &crate::Master,
    nodes: &[String],
    os_name: &str,
    own: &Dict,
    private: &Dict,
    secret: &Dict,
    force_variant: bool,
) -> Result<(), GanetiError> {
    let params = m.with_config(|cfg| {
        let cl = &cfg.cluster;
        fill_os_params(
            &cl.osparams,
            &cl.osparams_private_cluster,
            os_name,
            own,
            private,
        )
    })?;
    check_os_params(
        m,
        nodes,
        OsParamsCheck {
            os: os_name,
            params: &params,
            secret,
            force_variant,
            required: true,
        },
    )
    .map(|_| ())
}

/// The nodes of `inst`: primary first, then the secondaries.
pub fn instance_nodes(cfg: &ConfigData, inst: &Instance) -> Vec<String> {
    let mut nodes = vec![inst.primary_node.clone()];
    for n in cfg.instance_secondaries(inst) {
        if !nodes.contains(&n) {
            nodes.push(n);
        }
    }
    nodes
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
