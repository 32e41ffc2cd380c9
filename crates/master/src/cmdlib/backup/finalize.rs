//! The `config.ini` of an export, as Ganeti's `FinalizeExport` writes it.
//!
//! Why the master builds the text: in Ganeti the node writes it from the
//! instance object the master sends, with the parameters the RPC layer
//! filled in (`_InstDict`: hypervisor parameters cluster < OS < instance,
//! backend parameters filled, public OS parameters filled, NIC parameters
//! over the cluster's defaults). Only the master knows those layers, so it
//! renders the file and the node just stores it next to the dumps. The
//! import side (`instance/import.rs`) reads exactly these keys back.

use ganeti_clifmt::pystr::py_str;
use ganeti_types::{hvparams, ConfigData, Dict, Instance};
use serde_json::Value;

use super::ini::Ini;
use crate::cmdlib::instance::common::effective_be;
use crate::cmdlib::instance::osrun::fill_os_params;

/// Ganeti's `EXPORT_VERSION`.
pub const EXPORT_VERSION: u32 = 0;
/// Sections of the file (Ganeti's `INISECT_*`).
pub const SEC_EXPORT: &str = "export";
pub const SEC_INSTANCE: &str = "instance";
pub const SEC_HYPERVISOR: &str = "hypervisor";
pub const SEC_BACKEND: &str = "backend";
pub const SEC_OS: &str = "os";
pub const SEC_OS_PRIVATE: &str = "os_private";
/// NIC parameters written per NIC (Ganeti's `NICS_PARAMETER_TYPES`, in
/// its key order).
pub const NIC_PARAMS: &[&str] = &["link", "mode", "vlan"];

/// One disk as it was dumped: the dump file's name (the transferred
/// disk's UUID, as Ganeti names it) and what the import needs to recreate
/// the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpedDisk {
    pub dump: String,
    pub iv_name: String,
    pub size: u64,
    pub name: Option<String>,
    /// The transferred device's type (`plain` for a snapshot).
    pub dev_type: String,
}

/// Python's `"%s" % value` for an optional text.
fn opt(v: Option<&str>) -> String {
    v.unwrap_or("None").to_string()
}

/// Ganeti's `GetDiskTemplate` over the transferred disks.
fn summary_template(disks: &[DumpedDisk]) -> String {
    let mut types: Vec<&str> = disks.iter().map(|d| d.dev_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    match types.as_slice() {
        [] => "diskless".into(),
        [one] => (*one).to_string(),
        _ => "mixed".into(),
    }
}

fn set_dict(ini: &mut Ini, section: &str, d: &Dict, skip: &[&str]) {
    ini.add_section(section);
    for (k, v) in d {
        if !skip.contains(&k.as_str()) {
            ini.set(section, k, py_str(v));
        }
    }
}

/// The text of `config.ini` for `inst` with these dumped disks, written
/// at `timestamp` (seconds).
pub fn config_ini(
    cfg: &ConfigData,
    inst: &Instance,
    disks: &[DumpedDisk],
    timestamp: i64,
) -> String {
    let cl = &cfg.cluster;
    let be = effective_be(cfg, &inst.beparams);
    let be_int = |k: &str| {
        be.get(k)
            .and_then(Value::as_i64)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "0".into())
    };
    let mut ini = Ini::new();
    ini.set(SEC_EXPORT, "version", EXPORT_VERSION.to_string());
    ini.set(SEC_EXPORT, "timestamp", timestamp.to_string());
    ini.set(SEC_EXPORT, "source", inst.primary_node.as_str());
    ini.set(SEC_EXPORT, "os", inst.os.as_str());
    ini.set(SEC_EXPORT, "compression", "none");

    let s = SEC_INSTANCE;
    ini.set(s, "name", inst.name.as_str());
    ini.set(s, "maxmem", be_int("maxmem"));
    ini.set(s, "minmem", be_int("minmem"));
    // "memory" is deprecated; Ganeti keeps it for older importers
    ini.set(s, "memory", be_int("maxmem"));
    ini.set(s, "vcpus", be_int("vcpus"));
    ini.set(s, "disk_template", summary_template(disks));
    ini.set(s, "hypervisor", inst.hypervisor.as_str());
    ini.set(s, "tags", inst.tags.join(" "));
    let nic_defaults = cl.nic_defaults();
    for (i, nic) in inst.nics.iter().enumerate() {
        ini.set(s, &format!("nic{i}_mac"), nic.mac.as_str());
        ini.set(s, &format!("nic{i}_ip"), opt(nic.ip.as_deref()));
        ini.set(s, &format!("nic{i}_network"), opt(nic.network.as_deref()));
        ini.set(s, &format!("nic{i}_name"), opt(nic.name.as_deref()));
        let filled = ganeti_types::params::fill(&[&nic_defaults, &nic.nicparams]);
        for p in NIC_PARAMS {
            let v = filled.get(*p).map(py_str).unwrap_or_else(|| "None".into());
            ini.set(s, &format!("nic{i}_{p}"), v);
        }
    }
    ini.set(s, "nic_count", inst.nics.len().to_string());
    for (i, d) in disks.iter().enumerate() {
        ini.set(s, &format!("disk{i}_ivname"), d.iv_name.as_str());
        ini.set(s, &format!("disk{i}_dump"), d.dump.as_str());
        ini.set(s, &format!("disk{i}_size"), d.size.to_string());
        ini.set(s, &format!("disk{i}_name"), opt(d.name.as_deref()));
    }
    ini.set(s, "disk_count", disks.len().to_string());

    let hv = hvparams::fill(cl, &inst.hypervisor, Some(&inst.os), &inst.hvparams);
    set_dict(&mut ini, SEC_HYPERVISOR, &hv, hvparams::GLOBALS);
    set_dict(&mut ini, SEC_BACKEND, &be, &[]);
    let os = fill_os_params(
        &cl.osparams,
        &Dict::new(),
        &inst.os,
        &inst.osparams,
        &Dict::new(),
    );
    set_dict(&mut ini, SEC_OS, &os, &[]);
    set_dict(&mut ini, SEC_OS_PRIVATE, &inst.osparams_private, &[]);
    ini.dumps()
}
