//! The environment an OS script sees, variable by variable.
//!
//! Why a module of its own: OS providers are written against exactly the
//! variables Ganeti 3.0.2 passes (`backend.OSCoreEnv` and
//! `OSEnvironment`, see `os-interface.md` §3), and scripts run with a
//! *replaced* environment, so anything missing or extra here is visible to
//! every provider. The builders are pure (maps in, map out) so each rule is
//! testable without running anything.
//!
//! Values follow Python's `str()` of what Ganeti holds: integers as
//! decimals, booleans `True`/`False`, floats in shortest round-trip form
//! with a `.0` for whole numbers.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::spec::NetworkInfo;
use ganeti_clifmt::pystr::py_str;
use ganeti_types::{Dict, DiskTemplate};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::OsDefinition;
use crate::spec::InstanceSpec;

/// `PATH` of every script (Ganeti's `HOOKS_PATH`).
pub const SCRIPT_PATH: &str = "/sbin:/bin:/usr/sbin:/usr/bin";

/// The environment of one script run, sorted by name.
pub type ScriptEnv = BTreeMap<String, String>;

/// What the master says about the OS to run for an instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsRunSpec {
    /// Full OS name as the instance stores it (`name` or `name+variant`).
    pub name: String,
    /// Effective public and private OS parameters (cluster < OS <
    /// instance), unmasked.
    #[serde(default)]
    pub params: Dict,
    /// One-shot secret parameters (create/reinstall only). Exported to the
    /// script, never written to a log or an error.
    #[serde(default)]
    pub secret_params: Dict,
    /// Instance facts the node cannot know from [`InstanceSpec`].
    #[serde(default)]
    pub instance: OsInstanceInfo,
}

/// Instance facts for `INSTANCE_*` and `NIC_<n>_NETWORK_*`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsInstanceInfo {
    #[serde(default)]
    pub ctime: Option<f64>,
    #[serde(default)]
    pub mtime: Option<f64>,
    /// Primary node UUID.
    #[serde(default)]
    pub primary_node: String,
    /// Secondary node UUIDs.
    #[serde(default)]
    pub secondary_nodes: Vec<String>,
    /// The network of each NIC (by NIC index), when it is in one.
    #[serde(default)]
    pub nic_networks: Vec<Option<NetworkInfo>>,
}

/// Python's `str(float)` for ordinary magnitudes.
pub fn float_str(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// `OSP_<NAME>` of a parameter name.
pub fn osp_var(name: &str) -> String {
    format!("OSP_{}", name.to_uppercase().replace('-', "_"))
}

/// The variant scripts see: the one in `full_name`, else the OS's first;
/// empty below API 15 or for an OS without variants.
fn variant_of(os: &OsDefinition, full_name: &str) -> String {
    if os.api_version() < 15 || os.variants.is_empty() {
        return String::new();
    }
    match full_name.split_once('+') {
        Some((_, v)) if !v.is_empty() => v.to_string(),
        _ => os.variants[0].clone(),
    }
}

/// Ganeti's `OSCoreEnv`: the variables of every script, `verify`
/// included. `params` are applied in order (later ones win).
pub fn core_env(os: &OsDefinition, full_name: &str, params: &[&Dict], debug: u32) -> ScriptEnv {
    let mut env = ScriptEnv::new();
    env.insert("OS_API_VERSION".into(), os.api_version().to_string());
    env.insert("OS_NAME".into(), os.name.clone());
    env.insert("DEBUG_LEVEL".into(), debug.to_string());
    env.insert("OS_VARIANT".into(), variant_of(os, full_name));
    for dict in params {
        for (k, v) in dict.iter() {
            env.insert(osp_var(k), py_str(v));
        }
    }
    env.insert("PATH".into(), SCRIPT_PATH.into());
    env
}

/// `DISK_<n>_BACKEND_TYPE`, `None` for templates Ganeti gives none.
fn backend_type(template: DiskTemplate, logical_id: &Value) -> Option<String> {
    match template {
        DiskTemplate::Plain
        | DiskTemplate::Drbd
        | DiskTemplate::Blockdev
        | DiskTemplate::Rbd
        | DiskTemplate::Ext => Some("block".into()),
        DiskTemplate::File | DiskTemplate::Sharedfile | DiskTemplate::Gluster => {
            let driver = logical_id.get(0).and_then(Value::as_str).unwrap_or("loop");
            Some(format!("file:{driver}"))
        }
        DiskTemplate::Diskless => None,
    }
}

/// Ganeti's `OSEnvironment`: core variables plus the instance, its disks
/// (at `disk_paths`, in instance order), NICs and parameters.
/// `with_secrets` adds the one-shot secret parameters (create/reinstall).
pub fn instance_env(
    os: &OsDefinition,
    inst: &InstanceSpec,
    run: &OsRunSpec,
    disk_paths: &[PathBuf],
    debug: u32,
    with_secrets: bool,
) -> ScriptEnv {
    let mut params: Vec<&Dict> = vec![&run.params];
    if with_secrets {
        params.push(&run.secret_params);
    }
    let mut env = core_env(os, &run.name, &params, debug);
    let mut put = |k: String, v: String| {
        env.insert(k, v);
    };
    let meta = &run.instance;
    put("INSTANCE_NAME".into(), inst.name.clone());
    put("INSTANCE_OS".into(), run.name.clone());
    put("INSTANCE_UUID".into(), inst.uuid.clone());
    let time = |t: Option<f64>| t.map_or_else(|| "None".to_string(), float_str);
    put("INSTANCE_CTIME".into(), time(meta.ctime));
    put("INSTANCE_MTIME".into(), time(meta.mtime));
    put("INSTANCE_PRIMARY_NODE".into(), meta.primary_node.clone());
    put(
        "INSTANCE_SECONDARY_NODES".into(),
        meta.secondary_nodes.join(" "),
    );
    put("HYPERVISOR".into(), inst.hypervisor.clone());
    put("DISK_COUNT".into(), inst.disks.len().to_string());
    put("NIC_COUNT".into(), inst.nics.len().to_string());

    let frontend = |key: &str| inst.hvparams.get(key).map(py_str);
    for (idx, disk) in inst.disks.iter().enumerate() {
        let p = |s: &str| format!("DISK_{idx}_{s}");
        if let Some(path) = disk_paths.get(idx) {
            put(p("PATH"), path.display().to_string());
        }
        put(p("ACCESS"), disk.mode.as_str().into());
        put(p("UUID"), disk.uuid.clone());
        put(p("SIZE"), disk.size_mib.to_string());
        if let Some(name) = disk.name.as_deref().filter(|n| !n.is_empty()) {
            put(p("NAME"), name.into());
        }
        if let Some(t) = frontend("disk_type") {
            put(p("FRONTEND_TYPE"), t);
        }
        if let Some(t) = backend_type(disk.template, &disk.logical_id) {
            put(p("BACKEND_TYPE"), t);
        }
    }
    for (idx, nic) in inst.nics.iter().enumerate() {
        let p = |s: &str| format!("NIC_{idx}_{s}");
        put(p("MAC"), nic.mac.clone());
        put(p("UUID"), nic.uuid.clone());
        if let Some(name) = nic.name.as_deref().filter(|n| !n.is_empty()) {
            put(p("NAME"), name.into());
        }
        if let Some(ip) = nic.ip.as_deref().filter(|n| !n.is_empty()) {
            put(p("IP"), ip.into());
        }
        put(p("MODE"), nic.mode.clone());
        if nic.mode == "bridged" {
            put(p("BRIDGE"), nic.link.clone());
        }
        if !nic.link.is_empty() {
            put(p("LINK"), nic.link.clone());
        }
        if let Some(Some(net)) = meta.nic_networks.get(idx) {
            for (k, v) in net.env_vars() {
                put(p(k), v);
            }
        }
        if let Some(t) = frontend("nic_type") {
            put(p("FRONTEND_TYPE"), t);
        }
    }
    for (kind, source) in [("BE", &inst.beparams), ("HV", &inst.hvparams)] {
        for (k, v) in source.iter() {
            put(format!("INSTANCE_{kind}_{k}"), py_str(v));
        }
    }
    env
}

/// The values that must never appear in a log or an error: the secret
/// parameters that are non-empty strings (after `str()`).
pub fn secret_values(run: &OsRunSpec) -> Vec<String> {
    let mut v: Vec<String> = run
        .secret_params
        .values()
        .map(py_str)
        .filter(|s| !s.is_empty())
        .collect();
    // longest first, so a secret containing another is masked whole
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v
}
