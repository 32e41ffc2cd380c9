//! Hypervisor parameters: per hypervisor, the defaults, the value types and
//! Ganeti's `CheckParameterSyntax`.
//!
//! Why here, in the I/O-free vocabulary crate: the master refuses bad
//! hvparams when a job is submitted (so nothing runs on a bad dict), and the
//! node parses the very same dict into typed values when it starts an
//! instance. Both must agree on every rule, so the rules exist once and both
//! sides call them. Checks that need the world (does the kernel file exist on
//! this node?) are not here; they belong to the node.
//!
//! The functions take FILLED dicts (cluster < os < instance, see [`fill`]),
//! because Ganeti checks combinations (`boot_order=cdrom` needs an ISO
//! path, a kernel needs a root partition, ...) that only a full dict shows.

mod base;
pub mod cpumask;
pub mod kvm;

use serde_json::Value;

use crate::errors::GanetiError;
use crate::params::VType;
use crate::{Cluster, Dict};

pub use base::{
    hv_error, is_interface_name, is_ipv4, is_ipv6, is_norm_abs_path, is_url, normpath, py_value,
    MIGRATION_MODES,
};

/// Hypervisor parameters that only the cluster may set (Ganeti's
/// `HVC_GLOBALS`); instances inherit them.
pub const GLOBALS: &[&str] = &[
    "migration_bandwidth",
    "migration_mode",
    "migration_port",
    "xen_cmd",
];

/// The fake hypervisor's table: only the migration mode.
const FAKE_TABLE: &[base::ParamSpec] = &[base::spec(
    "migration_mode",
    VType::Str,
    true,
    base::Check::MigrationMode,
    base::Def::S("live"),
)];

/// The fake hypervisor's parameter types.
pub const FAKE_TYPES: &[(&str, VType)] = &[("migration_mode", VType::Str)];

/// Ganeti's built-in defaults for one hypervisor (`HVC_DEFAULTS`); empty
/// for hypervisors this release does not know the parameters of.
pub fn defaults(hv: &str) -> Dict {
    match hv {
        "fake" => base::table_defaults(FAKE_TABLE),
        "kvm" => kvm::defaults(),
        _ => Dict::new(),
    }
}

/// The value type of every parameter of one hypervisor.
pub fn types(hv: &str) -> &'static [(&'static str, VType)] {
    match hv {
        "fake" => FAKE_TYPES,
        "kvm" => kvm::TYPES,
        _ => &[],
    }
}

/// Type-coerce and syntax-check a FILLED hvparams dict; returns the
/// coerced dict. For kvm this is exactly what [`kvm::KvmParams::from_dict`]
/// accepts. Hypervisors whose rules this release does not know pass
/// unchecked (they cannot be enabled anyway).
pub fn checked(hv: &str, filled: &Dict) -> Result<Dict, GanetiError> {
    match hv {
        "fake" => {
            let d = base::coerce_all(FAKE_TABLE, filled)?;
            base::check_table(FAKE_TABLE, &d)?;
            Ok(d)
        }
        "kvm" => {
            let d = kvm::checked(filled)?;
            kvm::typed(&d)?;
            Ok(d)
        }
        _ => Ok(filled.clone()),
    }
}

/// Ganeti's `CheckParameterSyntax` for a FILLED hvparams dict of `hv`:
/// unknown, missing, required-but-empty and malformed parameters and the
/// hypervisor's cross-parameter rules, with Ganeti's messages
/// (`HypervisorError`).
pub fn check_syntax(hv: &str, params: &Dict) -> Result<(), GanetiError> {
    checked(hv, params).map(|_| ())
}

/// Ganeti's `Cluster.SimpleFillHV`: built-in defaults < cluster < os
/// (`os_hvp`, by the OS's full name) < the given (instance) parameters.
/// The built-in layer makes configurations written before a hypervisor's
/// defaults were known still fill completely.
pub fn fill(cluster: &Cluster, hv: &str, os: Option<&str>, own: &Dict) -> Dict {
    let mut out = defaults(hv);
    let mut layer = |d: &Dict| {
        for (k, v) in d {
            out.insert(k.clone(), v.clone());
        }
    };
    layer(&cluster.hv_defaults(hv));
    if let Some(os) = os {
        if let Some(p) = cluster
            .os_hvp
            .get(os)
            .and_then(|per_hv| per_hv.get(hv))
            .and_then(Value::as_object)
        {
            layer(p);
        }
    }
    layer(own);
    out
}

/// Whether instances of `hv` get a cluster-unique TCP port
/// (`network_port`) at creation (Ganeti's `HTS_REQ_PORT`).
pub fn requires_port(hv: &str) -> bool {
    crate::constants::HTS_REQ_PORT.contains(&hv)
}

/// Ganeti's `CheckParamsNotGlobal` for hypervisor parameters: global ones
/// may not be set at `bad_level` (e.g. "instance").
pub fn check_not_global(
    params: &Dict,
    bad_level: &str,
    good_level: &str,
) -> Result<(), GanetiError> {
    let used: Vec<&str> = GLOBALS
        .iter()
        .copied()
        .filter(|g| params.contains_key(*g))
        .collect();
    if used.is_empty() {
        return Ok(());
    }
    Err(GanetiError::wrong_input(format!(
        "The following hypervisor parameters are global and cannot be customized at \
         {bad_level} level, please modify them at {good_level} level: {}",
        used.join(", ")
    )))
}

#[cfg(test)]
mod tests;
