//! Opcodes of the cluster family: modify (`OP_CLUSTER_SET_PARAMS`),
//! verification (in [`verify`]), post-init, config redistribution, crypto
//! renewal, and the cluster info dict that LUXI's
//! `QueryClusterInfo` and RAPI's `/2/info` return.
//!
//! Cluster-wide changes run under the exclusive Big Ganeti Lock; their
//! checks are split into the static part (run at submission, so a bad
//! parameter never reaches the queue) and the part that needs the current
//! configuration, done by a pure planner like every opcode of the
//! cluster/group/network/node/tag families ([`checks`]).

pub(crate) mod checks;
#[cfg(test)]
mod e2e;
mod hvp;
mod osparams;
mod verify;

pub(crate) use verify::hooks_callback as verify_hooks_callback;

use ganeti_types::params::{fill, force_dict_types, upgrade_beparams, BE_TYPES, NIC_TYPES};
use ganeti_types::{
    constants, Cluster, ConfigData, Dict, GanetiError, CONFIG_VERSION, GANETI_VERSION,
    PROTOCOL_VERSION,
};
use serde_json::{json, Value};

use self::checks::{
    check_diskparams, check_hvparams, check_hypervisor_supported, check_ipolicy_vs_templates,
    check_ndparams, check_nic_syntax, comma_join, fill_disk_state, fill_hv_state, group_ipolicy,
    instance_ipolicy_violations, merge_disk_state, merge_hv_state, nice_sorted,
    normalize_mac_prefix, opt_dict, opt_list, py_str, run_planned, touch, update_ipolicy, Outcome,
};
use super::util::{bool_param, opt_bool, str_param, u64_param};
use super::{OpCtx, OpImpl};
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[
    OpImpl {
        op_id: "OP_CLUSTER_SET_PARAMS",
        locks: locks_bgl_exclusive,
        check: check_set_params,
        exec: exec_set_params,
        hooks: Some(&crate::hooks::defs::CLUSTER_MODIFY),
    },
    OpImpl {
        op_id: "OP_CLUSTER_VERIFY",
        locks: locks_bgl_shared,
        check: check_none,
        exec: verify::exec_verify,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_CLUSTER_VERIFY_CONFIG",
        locks: verify::locks_verify_config,
        check: check_none,
        exec: verify::exec_verify_config,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_CLUSTER_VERIFY_GROUP",
        locks: verify::locks_verify_group,
        check: check_none,
        exec: verify::exec_verify_group,
        hooks: Some(&crate::hooks::defs::CLUSTER_VERIFY),
    },
    OpImpl {
        op_id: "OP_CLUSTER_VERIFY_DISKS",
        locks: verify::locks_verify_disks,
        check: check_none,
        exec: verify::exec_verify_disks,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_CLUSTER_POST_INIT",
        locks: locks_bgl_shared,
        check: check_none,
        exec: exec_post_init,
        hooks: Some(&crate::hooks::defs::CLUSTER_INIT),
    },
    OpImpl {
        op_id: "OP_CLUSTER_REDIST_CONF",
        locks: locks_redist,
        check: check_none,
        exec: exec_redist_conf,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_CLUSTER_RENEW_CRYPTO",
        locks: locks_bgl_exclusive,
        check: check_none,
        exec: exec_renew_crypto,
        hooks: None,
    },
];

fn check_none(_m: &Master, _op: &Dict) -> Result<(), GanetiError> {
    Ok(())
}

fn locks_bgl_shared(_m: &Master, _op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![LockReq::bgl_shared()])
}

fn locks_bgl_exclusive(_m: &Master, _op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![LockReq::bgl_exclusive()])
}

fn locks_redist(_m: &Master, _op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![
        LockReq::bgl_shared(),
        LockReq::all(Level::Node, false),
    ])
}

// --- cluster info (LUXI QueryClusterInfo, RAPI /2/info) ---------------------------

/// The dict Ganeti's `QueryClusterInfo` returns, keys in its order.
pub fn cluster_info(m: &Master) -> Result<Value, GanetiError> {
    m.with_config(cluster_info_of)
}

/// [`cluster_info`] of a given configuration.
pub(crate) fn cluster_info_of(cfg: &ConfigData) -> Value {
    let c = &cfg.cluster;
    // Every hypervisor's parameters with the built-in defaults filled in.
    let mut hvparams = Dict::new();
    for (hv, params) in &c.hvparams {
        let own = params.as_object().cloned().unwrap_or_default();
        hvparams.insert(
            hv.clone(),
            Value::Object(fill(&[&constants::hv_defaults(hv), &own])),
        );
    }
    for hv in &c.enabled_hypervisors {
        if !hvparams.contains_key(hv) {
            hvparams.insert(hv.clone(), Value::Object(constants::hv_defaults(hv)));
        }
    }
    // OS hypervisor parameters, only for enabled hypervisors.
    let mut os_hvp = Dict::new();
    for (os, per_hv) in &c.os_hvp {
        let mut kept = Dict::new();
        if let Some(m) = per_hv.as_object() {
            for (hv, p) in m {
                if c.hypervisor_enabled(hv) {
                    kept.insert(hv.clone(), p.clone());
                }
            }
        }
        os_hvp.insert(os.clone(), Value::Object(kept));
    }
    let mut enabled_dc = Dict::new();
    let mut dc_interval = Dict::new();
    for (name, v) in &c.data_collectors {
        enabled_dc.insert(
            name.clone(),
            v.get("active").cloned().unwrap_or(json!(true)),
        );
        dc_interval.insert(
            name.clone(),
            v.get("interval").cloned().unwrap_or(json!(5_000_000)),
        );
    }
    let ip_version = if c.primary_ip_family == 10 || c.primary_ip_family == 6 {
        6
    } else {
        4
    };
    let master = cfg.node_name(&c.master_node);
    let bits = format!("{}bits", usize::BITS);
    let fields: Vec<(&str, Value)> = vec![
        ("software_version", json!(GANETI_VERSION)),
        ("protocol_version", json!(PROTOCOL_VERSION)),
        ("config_version", json!(CONFIG_VERSION)),
        ("os_api_version", json!(ganeti_query::OS_API_VERSION)),
        ("export_version", json!(ganeti_query::EXPORT_VERSION)),
        ("vcs_version", json!(ganeti_query::vcs_version())),
        ("architecture", json!([bits, std::env::consts::ARCH])),
        ("name", json!(c.cluster_name)),
        ("master", json!(master)),
        ("default_hypervisor", json!(c.default_hypervisor)),
        ("enabled_hypervisors", json!(c.enabled_hypervisors)),
        ("hvparams", json!(hvparams)),
        ("os_hvp", json!(os_hvp)),
        ("beparams", json!(c.beparams)),
        ("osparams", json!(c.osparams)),
        ("ipolicy", json!(c.ipolicy)),
        ("nicparams", json!(c.nicparams)),
        ("ndparams", json!(c.ndparams)),
        ("diskparams", json!(c.diskparams)),
        ("candidate_pool_size", json!(c.candidate_pool_size)),
        ("max_running_jobs", json!(c.max_running_jobs)),
        ("max_tracked_jobs", json!(c.max_tracked_jobs)),
        ("mac_prefix", json!(c.mac_prefix)),
        ("master_netdev", json!(c.master_netdev)),
        ("master_netmask", json!(c.master_netmask)),
        ("use_external_mip_script", json!(c.use_external_mip_script)),
        ("volume_group_name", json!(c.volume_group_name)),
        ("drbd_usermode_helper", json!(c.drbd_usermode_helper)),
        ("file_storage_dir", json!(c.file_storage_dir)),
        ("shared_file_storage_dir", json!(c.shared_file_storage_dir)),
        ("gluster_storage_dir", json!(c.gluster_storage_dir)),
        ("maintain_node_health", json!(c.maintain_node_health)),
        ("ctime", json!(c.ctime)),
        ("mtime", json!(c.mtime)),
        ("uuid", json!(c.uuid)),
        ("tags", json!(c.tags)),
        ("uid_pool", json!(c.uid_pool)),
        ("default_iallocator", json!(c.default_iallocator)),
        (
            "default_iallocator_params",
            json!(c.default_iallocator_params),
        ),
        ("reserved_lvs", json!(c.reserved_lvs)),
        ("primary_ip_version", json!(ip_version)),
        ("prealloc_wipe_disks", json!(c.prealloc_wipe_disks)),
        ("hidden_os", json!(c.hidden_os)),
        ("blacklisted_os", json!(c.blacklisted_os)),
        ("enabled_disk_templates", json!(c.enabled_disk_templates)),
        ("install_image", json!(c.install_image)),
        (
            "instance_communication_network",
            json!(c.instance_communication_network),
        ),
        ("zeroing_image", json!(c.zeroing_image)),
        ("compression_tools", json!(c.compression_tools)),
        ("enabled_user_shutdown", json!(c.enabled_user_shutdown)),
        ("enabled_data_collectors", json!(enabled_dc)),
        ("data_collector_interval", json!(dc_interval)),
        ("modify_ssh_setup", json!(c.modify_ssh_setup)),
        ("ssh_key_type", json!(c.ssh_key_type)),
        ("ssh_key_bits", json!(c.ssh_key_bits)),
        ("vg_name", json!(c.volume_group_name)),
        ("drbd_helper", json!(c.drbd_usermode_helper)),
    ];
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

// --- OP_CLUSTER_SET_PARAMS ----------------------------------------------------------

/// Lowest and highest user id of the uid pool.
const UIDPOOL_UID_MIN: i64 = 0;
const UIDPOOL_UID_MAX: i64 = (1 << 32) - 1;
/// Disk templates backed by LVM.
const LVM_TEMPLATES: &[&str] = &["drbd", "plain"];
/// Default allocator names accepted without a script on disk (built in).
const BUILTIN_IALLOCATORS: &[&str] = &["hail"];

/// `[lo, hi]` ranges of a uid pool parameter.
fn uid_ranges(op: &Dict, key: &str) -> Result<Option<Vec<(i64, i64)>>, GanetiError> {
    let Some(list) = opt_list(op, key) else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(list.len());
    for r in list {
        let pair = r.as_array().filter(|a| a.len() == 2);
        let (Some(lo), Some(hi)) = (
            pair.and_then(|a| a[0].as_i64()),
            pair.and_then(|a| a[1].as_i64()),
        ) else {
            return Err(GanetiError::wrong_input(format!(
                "Invalid user-id range {}",
                py_str(r)
            )));
        };
        out.push((lo, hi));
    }
    Ok(Some(out))
}

/// Ganeti's `uidpool.CheckUidPool`.
fn check_uid_pool(pool: &[(i64, i64)]) -> Result<(), GanetiError> {
    for &(lo, hi) in pool {
        if lo > hi {
            return Err(GanetiError::wrong_input(format!(
                "Lower user-id range boundary value ({lo}) is larger than higher boundary value ({hi})"
            )));
        }
        if lo < UIDPOOL_UID_MIN {
            return Err(GanetiError::wrong_input(format!(
                "Lower user-id range boundary value ({lo}) is smaller than UIDPOOL_UID_MIN ({UIDPOOL_UID_MIN})."
            )));
        }
        if hi > UIDPOOL_UID_MAX {
            return Err(GanetiError::wrong_input(format!(
                "Higher user-id boundary value ({hi}) is larger than UIDPOOL_UID_MAX ({UIDPOOL_UID_MAX})."
            )));
        }
    }
    Ok(())
}

/// Ganeti's `CheckImageValidity`: an absolute path or a URL.
fn check_image(image: &str, msg: &str) -> Result<(), GanetiError> {
    let is_url = ["http://", "https://", "ftp://", "ftps://"]
        .iter()
        .any(|p| image.starts_with(p));
    if is_url || image.starts_with('/') {
        Ok(())
    } else {
        Err(GanetiError::wrong_input(msg))
    }
}

/// Ganeti's `CheckCompressionTools`.
fn check_compression_tools(tools: &[String]) -> Result<(), GanetiError> {
    let illegal: Vec<&str> = tools
        .iter()
        .filter(|t| {
            t.is_empty()
                || !t
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(String::as_str)
        .collect();
    if !illegal.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "The tools '{}' contain illegal characters: only alphanumeric values, dashes, and \
             underscores are allowed",
            illegal.join(", ")
        )));
    }
    if !tools.iter().any(|t| t == "gzip") {
        return Err(GanetiError::wrong_input(
            "For compatibility reasons, the gzip utility must be present among the compression tools",
        ));
    }
    if tools.iter().any(|t| t == "none") {
        return Err(GanetiError::wrong_input(
            "none is a reserved value used for no compression, and cannot be used as the name of a tool",
        ));
    }
    Ok(())
}

/// `[action, os]` edits of the hidden / blacklisted OS lists.
fn os_list_mods(op: &Dict, key: &str) -> Result<Vec<(String, String)>, GanetiError> {
    let mut out = Vec::new();
    for m in opt_list(op, key).cloned().unwrap_or_default() {
        let pair = m.as_array().filter(|a| a.len() == 2);
        let (Some(action), Some(os)) = (
            pair.and_then(|a| a[0].as_str()),
            pair.and_then(|a| a[1].as_str()),
        ) else {
            return Err(GanetiError::wrong_input(format!(
                "Invalid OS list modification {}",
                py_str(&m)
            )));
        };
        if action != "add" && action != "remove" {
            return Err(GanetiError::wrong_input(format!(
                "Invalid modification '{action}'"
            )));
        }
        out.push((action.to_string(), os.to_string()));
    }
    Ok(out)
}

fn str_vec(op: &Dict, key: &str) -> Option<Vec<String>> {
    opt_list(op, key).map(|a| a.iter().map(py_str).collect())
}

/// The checks that need no configuration (run at submission and again
/// when the job runs).
fn check_set_params_static(op: &Dict) -> Result<(), GanetiError> {
    for key in ["uid_pool", "add_uids", "remove_uids"] {
        if let Some(r) = uid_ranges(op, key)? {
            check_uid_pool(&r)?;
        }
    }
    if let Some(mp) = str_param(op, "mac_prefix") {
        normalize_mac_prefix(mp)?;
    }
    if let Some(dp) = opt_dict(op, "diskparams") {
        check_diskparams(&dp)?;
    }
    if let Some(img) = str_param(op, "install_image") {
        check_image(img, "Install image must be an absolute path or a URL")?;
    }
    if let Some(img) = str_param(op, "zeroing_image") {
        check_image(img, "Zeroing image must be an absolute path or a URL")?;
    }
    if let Some(hvs) = str_vec(op, "enabled_hypervisors") {
        if hvs.is_empty() {
            return Err(GanetiError::wrong_input(
                "The list of enabled hypervisors cannot be empty",
            ));
        }
        for hv in &hvs {
            if !constants::KNOWN_HYPERVISORS.contains(&hv.as_str()) {
                return Err(GanetiError::wrong_input(format!(
                    "Unknown hypervisor type '{hv}'"
                )));
            }
        }
    }
    if let Some(dts) = str_vec(op, "enabled_disk_templates") {
        if dts.is_empty() {
            return Err(GanetiError::wrong_input(
                "The list of enabled disk templates cannot be empty",
            ));
        }
        for dt in &dts {
            if ganeti_types::DiskTemplate::parse(dt).is_none() {
                return Err(GanetiError::wrong_input(format!(
                    "'{dt}' is not a valid disk template. Valid disk templates are: {}",
                    ganeti_types::DiskTemplate::ALL
                        .map(|t| t.as_str())
                        .join(",")
                )));
            }
        }
    }
    if let Some(hvp) = opt_dict(op, "hvparams") {
        for (hv, p) in &hvp {
            check_hvparams(hv, &p.as_object().cloned().unwrap_or_default())?;
        }
    }
    if let Some(osh) = opt_dict(op, "os_hvp") {
        for per_hv in osh.values() {
            for (hv, p) in per_hv.as_object().cloned().unwrap_or_default() {
                if !p.is_null() {
                    check_hvparams(&hv, &p.as_object().cloned().unwrap_or_default())?;
                }
            }
        }
    }
    if let Some(be) = opt_dict(op, "beparams") {
        force_dict_types(&be, BE_TYPES, false)?;
    }
    if let Some(nd) = opt_dict(op, "ndparams") {
        check_ndparams(&nd)?;
    }
    if let Some(nic) = opt_dict(op, "nicparams") {
        force_dict_types(&nic, NIC_TYPES, false)?;
    }
    if let Some(tools) = str_vec(op, "compression_tools") {
        check_compression_tools(&tools)?;
    }
    os_list_mods(op, "hidden_os")?;
    os_list_mods(op, "blacklisted_os")?;
    if let Some(hv) = opt_dict(op, "hv_state") {
        merge_hv_state(&hv, &Dict::new())?;
    }
    if let Some(ds) = opt_dict(op, "disk_state") {
        merge_disk_state(&ds, &Dict::new())?;
    }
    Ok(())
}

/// Hypervisors and disk templates this release cannot run may stay
/// enabled (a configuration taken over from Ganeti), but not be newly
/// enabled.
fn check_newly_enabled_supported(old: &Cluster, op: &Dict) -> Result<(), GanetiError> {
    for hv in str_vec(op, "enabled_hypervisors").unwrap_or_default() {
        if !old.hypervisor_enabled(&hv) {
            check_hypervisor_supported(&hv)?;
        }
    }
    for dt in str_vec(op, "enabled_disk_templates").unwrap_or_default() {
        if !old.disk_template_enabled(&dt)
            && !constants::SUPPORTED_DISK_TEMPLATES.contains(&dt.as_str())
        {
            return Err(GanetiError::wrong_input(format!(
                "Disk template '{dt}' is not supported by this release of ganeti-rs (supported: {})",
                comma_join(constants::SUPPORTED_DISK_TEMPLATES)
            )));
        }
    }
    Ok(())
}

fn check_set_params(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    check_set_params_static(op)?;
    m.with_config(|c| -> Result<(), GanetiError> {
        check_newly_enabled_supported(&c.cluster, op)?;
        hvp::plan_hvparams(&c.cluster, op)?;
        if let Some(nm) = u64_param(op, "master_netmask") {
            check_netmask(c.cluster.primary_ip_family, nm)?;
        }
        Ok(())
    })??;
    // runs OS verify scripts: last, once the rest passed
    osparams::check(m, op).map(|_| ())
}

/// Ganeti's `_ValidateNetmask`.
fn check_netmask(family: u32, netmask: u64) -> Result<(), GanetiError> {
    let len = if family == 10 || family == 6 { 128 } else { 32 };
    if netmask > 0 && netmask <= len {
        Ok(())
    } else {
        Err(GanetiError::wrong_input(format!(
            "CIDR netmask ({netmask}) not valid"
        )))
    }
}

/// Where the allocator scripts are searched (below the root).
fn iallocator_exists(paths: &ganeti_types::Paths, name: &str) -> bool {
    if BUILTIN_IALLOCATORS.contains(&name) {
        return true;
    }
    if name.contains('/') {
        return std::path::Path::new(name).is_file();
    }
    [
        "usr/local/lib/ganeti/iallocators",
        "usr/lib/ganeti/iallocators",
    ]
    .iter()
    .any(|d| paths.root().join(d).join(name).is_file())
}

/// Ganeti's `CheckFileBasedStoragePathVsEnabledDiskTemplates`.
fn check_storage_dir(
    out: &mut Outcome,
    dir: &str,
    enabled: &[String],
    template: &str,
) -> Result<(), GanetiError> {
    let on = enabled.iter().any(|t| t == template);
    if dir.is_empty() {
        if on {
            return Err(GanetiError::wrong_input(format!(
                "Unsetting the '{template}' storage directory while having '{template}' storage enabled is not permitted."
            )));
        }
    } else if !on {
        out.warn(format!(
            "Specified a {template} storage directory, although {template} storage is not enabled."
        ));
    }
    Ok(())
}

/// Plan a cluster modification (Ganeti's `LUClusterSetParams`).
/// `iallocator_ok` tells whether a default allocator name can be found.
fn plan_set_params(
    cfg: &ConfigData,
    op: &Dict,
    iallocator_ok: &dyn Fn(&str) -> bool,
) -> Result<Outcome, GanetiError> {
    check_set_params_static(op)?;
    check_newly_enabled_supported(&cfg.cluster, op)?;
    if let Some(nm) = u64_param(op, "master_netmask") {
        check_netmask(cfg.cluster.primary_ip_family, nm)?;
    }
    let old = &cfg.cluster;
    let mut c: Cluster = old.clone();
    let mut out = Outcome::default();

    // Disk templates.
    let op_templates = str_vec(op, "enabled_disk_templates");
    let enabled: Vec<String> = op_templates
        .clone()
        .unwrap_or_else(|| old.enabled_disk_templates.clone());
    let newly_enabled: Vec<String> = enabled
        .iter()
        .filter(|t| !old.enabled_disk_templates.contains(t))
        .cloned()
        .collect();
    let disabled: Vec<String> = old
        .enabled_disk_templates
        .iter()
        .filter(|t| !enabled.contains(t))
        .cloned()
        .collect();
    for dt in &disabled {
        let mut users = Vec::new();
        for d in cfg.disks.values().filter(|d| &d.dev_type == dt) {
            let owner = cfg.instances.values().find(|i| i.disks.contains(&d.uuid));
            let desc = match owner {
                Some(i) => format!("on {}", i.name),
                None => "detached".to_string(),
            };
            users.push(format!(
                "{} ({}, uuid {}) ({desc})",
                d.iv_name, d.dev_type, d.uuid
            ));
        }
        if !users.is_empty() {
            return Err(GanetiError::wrong_state(format!(
                "Cannot disable disk template '{dt}', because there is at least one disk using it:\n * {}",
                users.join("\n * ")
            )));
        }
    }
    if disabled.iter().any(|t| t == "diskless") {
        if let Some(i) = cfg.instances.values().find(|i| i.disks.is_empty()) {
            return Err(GanetiError::wrong_state(format!(
                "Cannot disable disk template 'diskless', because there is at least one instance using it:\n * {}",
                i.name
            )));
        }
    }

    // Volume group.
    let lvm_enabled = enabled.iter().any(|t| LVM_TEMPLATES.contains(&t.as_str()));
    let lvm_gets_enabled = newly_enabled
        .iter()
        .any(|t| LVM_TEMPLATES.contains(&t.as_str()));
    let vg_name = str_param(op, "vg_name");
    if vg_name == Some("") && lvm_enabled {
        return Err(GanetiError::wrong_input(
            "Cannot unset volume group if lvm-based disk templates are or get enabled.",
        ));
    }
    if vg_name.is_none() && old.volume_group_name.is_none() && lvm_enabled {
        return Err(GanetiError::wrong_input(
            "Please specify a volume group when enabling lvm-based disk-templates.",
        ));
    }
    if vg_name == Some("") && cfg.disks.values().any(|d| d.dev_type == "plain") {
        return Err(GanetiError::wrong_input(
            "Cannot disable lvm storage while lvm-based instances exist",
        ));
    }
    let _ = lvm_gets_enabled;

    // File storage directories.
    if let Some(d) = str_param(op, "file_storage_dir") {
        check_storage_dir(&mut out, d, &enabled, "file")?;
    }
    if let Some(d) = str_param(op, "shared_file_storage_dir") {
        check_storage_dir(&mut out, d, &enabled, "sharedfile")?;
    }
    if let Some(d) = str_param(op, "gluster_storage_dir") {
        check_storage_dir(&mut out, d, &enabled, "gluster")?;
    }

    // DRBD helper.
    let drbd_enabled = enabled.iter().any(|t| t == "drbd");
    let drbd_helper = str_param(op, "drbd_helper");
    if drbd_helper == Some("") {
        if drbd_enabled {
            return Err(GanetiError::wrong_state(
                "Cannot disable drbd helper while DRBD is enabled.",
            ));
        }
        if cfg.disks.values().any(|d| d.dev_type == "drbd") {
            return Err(GanetiError::wrong_input(
                "Cannot disable drbd helper while drbd-based instances exist",
            ));
        }
    } else if drbd_helper.is_none()
        && newly_enabled.iter().any(|t| t == "drbd")
        && old.drbd_usermode_helper.is_none()
    {
        return Err(GanetiError::wrong_state(
            "Cannot enable DRBD without a DRBD usermode helper set.",
        ));
    }
    if opt_dict(op, "diskparams")
        .map(|d| d.contains_key("drbd"))
        .unwrap_or(false)
    {
        out.warn("Changing DRBD parameters only affects devices created in the future, not existing ones");
        out.warn(
            "You need to shutdown and start (not reboot!) existing instances to adopt the changes",
        );
        out.warn(
            "Alternatively you can swap the secondary node by running `gnt-instance replace-disks \
             --new-secondary $instance`",
        );
    }

    // Backend, node, hypervisor-state and disk-state parameters.
    let new_beparams = match opt_dict(op, "beparams").filter(|d| !d.is_empty()) {
        Some(mut be) => {
            upgrade_beparams(&mut be);
            let be = force_dict_types(&be, BE_TYPES, false)?;
            Some(fill(&[&old.be_defaults(), &be]))
        }
        None => None,
    };
    let new_ndparams = match opt_dict(op, "ndparams").filter(|d| !d.is_empty()) {
        Some(nd) => Some(fill(&[&old.ndparams, &check_ndparams(&nd)?])),
        None => None,
    };
    let new_hv_state = match opt_dict(op, "hv_state").filter(|d| !d.is_empty()) {
        Some(hv) => {
            let merged = merge_hv_state(&hv, &old.hv_state_static)?;
            let mut filled = Dict::new();
            for (k, v) in merged {
                filled.insert(
                    k,
                    Value::Object(fill_hv_state(&v.as_object().cloned().unwrap_or_default())),
                );
            }
            Some(filled)
        }
        None => None,
    };
    let new_disk_state = match opt_dict(op, "disk_state").filter(|d| !d.is_empty()) {
        Some(ds) => {
            let merged = merge_disk_state(&ds, &old.disk_state_static)?;
            let mut filled = Dict::new();
            for (st, per_name) in merged {
                let mut inner = Dict::new();
                for (name, v) in per_name.as_object().cloned().unwrap_or_default() {
                    inner.insert(
                        name,
                        Value::Object(fill_disk_state(&v.as_object().cloned().unwrap_or_default())),
                    );
                }
                filled.insert(st, Value::Object(inner));
            }
            Some(filled)
        }
        None => None,
    };

    // Instance policy.
    let new_ipolicy = match opt_dict(op, "ipolicy").filter(|d| !d.is_empty()) {
        Some(ip) => {
            let new = update_ipolicy(&old.ipolicy, &ip, false)?;
            check_ipolicy_vs_templates(&new, &enabled)?;
            let mut violations = Vec::new();
            for g in cfg.nodegroups.values() {
                let old_full = group_ipolicy(cfg, &g.uuid);
                let new_full = checks::fill_ipolicy(&new, &g.ipolicy);
                for inst in checks::group_instances(cfg, &g.uuid) {
                    if !instance_ipolicy_violations(cfg, &new_full, inst).is_empty()
                        && instance_ipolicy_violations(cfg, &old_full, inst).is_empty()
                        && !violations.contains(&inst.name)
                    {
                        violations.push(inst.name.clone());
                    }
                }
            }
            if !violations.is_empty() {
                out.warn(format!(
                    "After the ipolicy change the following instances violate them: {}",
                    comma_join(nice_sorted(violations))
                ));
            }
            Some(new)
        }
        None => {
            check_ipolicy_vs_templates(&old.ipolicy, &enabled)?;
            None
        }
    };

    // NIC parameters, checked against every instance NIC.
    let new_nicparams = match opt_dict(op, "nicparams").filter(|d| !d.is_empty()) {
        Some(nic) => {
            let nic = force_dict_types(&nic, NIC_TYPES, false)?;
            let new = fill(&[&old.nic_defaults(), &nic]);
            check_nic_syntax(&new).map_err(GanetiError::Config)?;
            let mut errors = Vec::new();
            let mut insts: Vec<_> = cfg.instances.values().collect();
            insts.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
            for inst in insts {
                for (idx, n) in inst.nics.iter().enumerate() {
                    let filled = fill(&[&new, &n.nicparams]);
                    if let Err(e) = check_nic_syntax(&filled) {
                        errors.push(format!("Instance {}, nic/{idx}: {e}", inst.name));
                    }
                    if filled.get("mode").and_then(Value::as_str) == Some("routed")
                        && n.ip.is_none()
                    {
                        errors.push(format!(
                            "Instance {}, nic/{idx}: routed NIC with no ip address",
                            inst.name
                        ));
                    }
                }
            }
            if !errors.is_empty() {
                return Err(GanetiError::wrong_input(format!(
                    "Cannot apply the change, errors:\n{}",
                    errors.join("\n")
                )));
            }
            Some(new)
        }
        None => None,
    };

    // Hypervisor parameters, the hypervisor list and OS hypervisor parameters.
    let op_hvparams = opt_dict(op, "hvparams");
    let op_enabled_hvs = str_vec(op, "enabled_hypervisors");
    let hvp::HvPlan {
        new_hvp,
        new_os_hvp,
    } = hvp::plan_hvparams(old, op)?;

    // Disk template parameters.
    let new_diskparams = match opt_dict(op, "diskparams").filter(|d| !d.is_empty()) {
        Some(dp) => {
            let dp = check_diskparams(&dp)?;
            let mut new = old.diskparams.clone();
            for (templ, upd) in dp {
                let mut cur = new
                    .get(&templ)
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (k, v) in upd.as_object().cloned().unwrap_or_default() {
                    cur.insert(k, v);
                }
                new.insert(templ, Value::Object(cur));
            }
            Some(new)
        }
        None => None,
    };

    // OS parameters (null removes a parameter; an OS without any is dropped).
    let new_osp = osparams::new_os_params(&old.osparams, opt_dict(op, "osparams"));
    let new_osp_private = osparams::new_os_params(
        &old.osparams_private_cluster,
        opt_dict(op, "osparams_private_cluster"),
    );

    if let Some(ia) = str_param(op, "default_iallocator").filter(|s| !s.is_empty()) {
        if !iallocator_ok(ia) {
            return Err(GanetiError::wrong_input(format!(
                "Invalid default iallocator script '{ia}' specified"
            )));
        }
    }
    if let Some(name) = str_param(op, "instance_communication_network").filter(|s| !s.is_empty()) {
        if let Ok(net) = cfg.lookup_network(name) {
            let mut warn = |what: &str, val: Option<&str>, default: Option<&str>| {
                if val != default {
                    out.warn(format!(
                        "Supplied instance communication network '{}' {what} '{}', this might pose a \
                         security risk (default is '{}').",
                        net.name,
                        val.unwrap_or("None"),
                        default.unwrap_or("None")
                    ));
                }
            };
            warn("has an IPv4 gateway", net.gateway.as_deref(), None);
            warn(
                "has a non-standard IPv4 network address",
                Some(&net.network),
                Some("169.254.0.0/16"),
            );
            warn("has an IPv6 gateway", net.gateway6.as_deref(), None);
            warn(
                "has a non-standard IPv6 network address",
                net.network6.as_deref(),
                Some("fe80::/64"),
            );
            warn(
                "has a non-standard MAC prefix",
                net.mac_prefix.as_deref(),
                Some("52:54:00"),
            );
        }
    }
    let data_collectors = |key: &str| -> Result<Option<Dict>, GanetiError> {
        let Some(d) = opt_dict(op, key) else {
            return Ok(None);
        };
        for name in d.keys() {
            if !old.data_collectors.contains_key(name) {
                return Err(GanetiError::wrong_input(format!(
                    "Unknown data collector '{name}'"
                )));
            }
        }
        Ok(Some(d))
    };
    let dc_enabled = data_collectors("enabled_data_collectors")?;
    let dc_interval = data_collectors("data_collector_interval")?;

    // ---- Execution ------------------------------------------------------------
    if let Some(t) = op_templates {
        c.enabled_disk_templates = t;
    }
    if let Some(vg) = vg_name {
        let new = if vg.is_empty() {
            None
        } else {
            Some(vg.to_string())
        };
        if new != c.volume_group_name {
            c.volume_group_name = new;
        } else {
            out.exec_msg("Cluster LVM configuration already in desired state, not changing");
        }
    }
    if let Some(d) = str_param(op, "file_storage_dir") {
        if c.file_storage_dir == d {
            out.exec_msg(format!(
                "Global file storage dir already set to value '{d}'"
            ));
        } else {
            c.file_storage_dir = d.to_string();
        }
    }
    if let Some(d) = str_param(op, "shared_file_storage_dir") {
        if c.shared_file_storage_dir == d {
            out.exec_msg(format!(
                "Global shared file storage dir already set to value '{d}'"
            ));
        } else {
            c.shared_file_storage_dir = d.to_string();
        }
    }
    if let Some(d) = str_param(op, "gluster_storage_dir") {
        if c.gluster_storage_dir == d {
            out.exec_msg(format!(
                "Global gluster storage dir already set to value '{d}'"
            ));
        } else {
            c.gluster_storage_dir = d.to_string();
        }
    }
    if let Some(h) = drbd_helper {
        if !c.enabled_disk_templates.iter().any(|t| t == "drbd") {
            out.exec_msg("Note that you specified a drbd user helper, but did not enable the drbd disk template.");
        }
        let new = if h.is_empty() {
            None
        } else {
            Some(h.to_string())
        };
        if new != c.drbd_usermode_helper {
            c.drbd_usermode_helper = new;
        } else {
            out.exec_msg("Cluster DRBD helper already in desired state, not changing");
        }
    }
    if let Some(d) = dc_enabled {
        for (name, v) in d {
            if let Some(Value::Object(e)) = c.data_collectors.get_mut(&name) {
                e.insert("active".into(), Value::Bool(v.as_bool().unwrap_or(false)));
            }
        }
    }
    if let Some(d) = dc_interval {
        for (name, v) in d {
            if let Some(Value::Object(e)) = c.data_collectors.get_mut(&name) {
                e.insert("interval".into(), json!(v.as_i64().unwrap_or(0)));
            }
        }
    }
    if op_hvparams.as_ref().map(|h| !h.is_empty()).unwrap_or(false) || op_enabled_hvs.is_some() {
        c.hvparams = new_hvp;
    }
    if let Some(v) = new_os_hvp {
        c.os_hvp = v;
    }
    if let Some(hvs) = op_enabled_hvs {
        c.default_hypervisor = hvs.first().cloned().unwrap_or_default();
        c.enabled_hypervisors = hvs;
    }
    if let Some(be) = new_beparams {
        c.beparams.insert("default".into(), Value::Object(be));
    }
    if let Some(nic) = new_nicparams {
        c.nicparams.insert("default".into(), Value::Object(nic));
    }
    if let Some(ip) = new_ipolicy {
        c.ipolicy = ip;
    }
    if let Some(v) = new_osp.filter(|_| {
        opt_dict(op, "osparams")
            .map(|d| !d.is_empty())
            .unwrap_or(false)
    }) {
        c.osparams = v;
    }
    if let Some(v) = new_osp_private.filter(|_| {
        opt_dict(op, "osparams_private_cluster")
            .map(|d| !d.is_empty())
            .unwrap_or(false)
    }) {
        c.osparams_private_cluster = v;
    }
    if let Some(nd) = new_ndparams {
        c.ndparams = nd;
    }
    if let Some(dp) = new_diskparams {
        c.diskparams = dp;
    }
    if let Some(hv) = new_hv_state {
        c.hv_state_static = hv;
    }
    if let Some(ds) = new_disk_state {
        c.disk_state_static = ds;
    }
    let as_u32 = |key: &str| u64_param(op, key).and_then(|v| u32::try_from(v).ok());
    if let Some(v) = as_u32("candidate_pool_size") {
        c.candidate_pool_size = v;
    }
    if let Some(v) = as_u32("max_running_jobs") {
        c.max_running_jobs = v;
    }
    if let Some(v) = as_u32("max_tracked_jobs") {
        c.max_tracked_jobs = v;
    }
    if let Some(v) = opt_bool(op, "maintain_node_health") {
        c.maintain_node_health = v;
    }
    if let Some(v) = opt_bool(op, "modify_etc_hosts") {
        c.modify_etc_hosts = v;
    }
    if let Some(v) = opt_bool(op, "prealloc_wipe_disks") {
        c.prealloc_wipe_disks = v;
    }
    let to_u32_pairs = |v: Vec<(i64, i64)>| -> Vec<(u32, u32)> {
        v.into_iter()
            .filter_map(|(a, b)| Some((u32::try_from(a).ok()?, u32::try_from(b).ok()?)))
            .collect()
    };
    if let Some(add) = uid_ranges(op, "add_uids")? {
        for r in to_u32_pairs(add) {
            if !c.uid_pool.contains(&r) {
                c.uid_pool.push(r);
            }
        }
        c.uid_pool.sort_unstable();
    }
    if let Some(rem) = uid_ranges(op, "remove_uids")? {
        for r in to_u32_pairs(rem) {
            let Some(pos) = c.uid_pool.iter().position(|x| *x == r) else {
                return Err(GanetiError::wrong_input(format!(
                    "User-id range to be removed is not found in the current user-id pool: ({}, {})",
                    r.0, r.1
                )));
            };
            c.uid_pool.remove(pos);
        }
    }
    if let Some(pool) = uid_ranges(op, "uid_pool")? {
        c.uid_pool = to_u32_pairs(pool);
    }
    if let Some(ia) = str_param(op, "default_iallocator") {
        c.default_iallocator = ia.to_string();
    }
    if let Some(p) = opt_dict(op, "default_iallocator_params") {
        c.default_iallocator_params = p;
    }
    if let Some(lvs) = str_vec(op, "reserved_lvs") {
        c.reserved_lvs = lvs;
    }
    if let Some(v) = opt_bool(op, "use_external_mip_script") {
        c.use_external_mip_script = v;
    }
    if let Some(v) = opt_bool(op, "enabled_user_shutdown") {
        c.enabled_user_shutdown = v;
    }
    for (key, desc) in [("hidden_os", "hidden"), ("blacklisted_os", "blacklisted")] {
        let mods = os_list_mods(op, key)?;
        let list = if key == "hidden_os" {
            &mut c.hidden_os
        } else {
            &mut c.blacklisted_os
        };
        for (action, os) in mods {
            if action == "add" {
                if list.contains(&os) {
                    out.exec_msg(format!("OS {os} already in {desc} OS list, ignoring"));
                } else {
                    list.push(os);
                }
            } else if let Some(pos) = list.iter().position(|x| *x == os) {
                list.remove(pos);
            } else {
                out.exec_msg(format!("OS {os} not found in {desc} OS list, ignoring"));
            }
        }
    }
    if let Some(mp) = str_param(op, "mac_prefix") {
        c.mac_prefix = normalize_mac_prefix(mp)?;
    }
    if let Some(nd) = str_param(op, "master_netdev").filter(|s| !s.is_empty()) {
        out.exec_msg(format!(
            "Changing master_netdev from {} to {nd}",
            c.master_netdev
        ));
        c.master_netdev = nd.to_string();
    }
    if let Some(nm) = u64_param(op, "master_netmask").filter(|v| *v > 0) {
        out.exec_msg(format!("Changing master IP netmask to {nm}"));
        c.master_netmask = u32::try_from(nm).unwrap_or(c.master_netmask);
    }
    if let Some(img) = str_param(op, "install_image").filter(|s| !s.is_empty()) {
        c.install_image = img.to_string();
    }
    if let Some(img) = str_param(op, "zeroing_image") {
        c.zeroing_image = img.to_string();
    }
    if let Some(tools) = str_vec(op, "compression_tools") {
        c.compression_tools = tools;
    }
    if let Some(name) = str_param(op, "instance_communication_network") {
        if name == old.instance_communication_network {
            out.exec_msg(format!(
                "Instance communication network already is '{name}', nothing to do."
            ));
        } else {
            let prev = &old.instance_communication_network;
            if !prev.is_empty() && cfg.lookup_network(prev).is_ok() {
                out.exec_msg(format!(
                    "Previous instance communication network '{prev}' should be removed manually."
                ));
            }
            if name.is_empty() {
                out.exec_msg("Disabling instance communication network, only new instances will be affected.");
            } else {
                out.exec_msg(format!(
                    "Changing instance communication network to '{name}', only new instances will be affected."
                ));
            }
            c.instance_communication_network = name.to_string();
            if !name.is_empty() {
                let existing = cfg.lookup_network(name).ok();
                let mut ops = Vec::new();
                if existing.is_none() {
                    ops.push(super::network::add_comm_network_op(name));
                }
                let mut groups: Vec<_> = cfg.nodegroups.values().collect();
                groups.sort_by(|a, b| ganeti_query::nice_cmp(&a.name, &b.name));
                for g in groups {
                    let connected = existing
                        .map(|n| g.networks.contains_key(&n.uuid))
                        .unwrap_or(false);
                    if !connected {
                        ops.push(super::group::connect_comm_network_op(&g.uuid, name));
                    }
                }
                if !ops.is_empty() {
                    out.jobs.push(ops);
                }
            }
        }
    }
    let _ = bool_param(op, "force");
    if c != *old {
        touch!(c);
        out.ops.push(ConfigOp::PutCluster(Box::new(c)));
    }
    Ok(out)
}

fn exec_set_params(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    // checked at submission too; again here, under the BGL, against the
    // configuration the change applies to
    for note in osparams::check(ctx.master, &op)? {
        ctx.log_info(note);
    }
    let paths = ctx.master.paths.clone();
    run_planned(ctx, |cfg| {
        plan_set_params(cfg, &op, &|name| iallocator_exists(&paths, name))
    })
}

// --- OP_CLUSTER_POST_INIT / OP_CLUSTER_REDIST_CONF -------------------------------

fn exec_post_init(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let cfg = ctx.config()?;
    if let Some(master) = cfg.master_node() {
        let group = cfg
            .nodegroups
            .get(&master.group)
            .map(|g| g.ndparams.clone())
            .unwrap_or_default();
        let nd = fill(&[
            &constants::nd_defaults(),
            &cfg.cluster.ndparams,
            &group,
            &master.ndparams,
        ]);
        let ovs = nd.get("ovs").and_then(Value::as_bool).unwrap_or(false);
        let link = nd.get("ovs_link").and_then(Value::as_str).unwrap_or("");
        if ovs && link.is_empty() {
            ctx.log_info(
                "No physical interface for OpenvSwitch was given. OpenvSwitch will not have an \
                 outside connection. This might not be what you want.",
            );
        }
    }
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    Ok(Value::Bool(true))
}

/// Rewrites the cluster object (Ganeti bumps its serial, which makes every
/// node re-read the configuration); on one node there is nothing to copy.
fn exec_redist_conf(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    run_planned(ctx, |cfg| {
        let mut c = cfg.cluster.clone();
        touch!(c);
        let mut out = Outcome::default();
        out.ops.push(ConfigOp::PutCluster(Box::new(c)));
        Ok(out)
    })
}

// --- OP_CLUSTER_RENEW_CRYPTO --------------------------------------------------------

fn exec_renew_crypto(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    if let Some(t) = str_param(&op, "ssh_key_type") {
        if !["dsa", "ecdsa", "rsa"].contains(&t) {
            return Err(GanetiError::wrong_input(format!(
                "Invalid SSH key type '{t}'"
            )));
        }
    }
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    if bool_param(&op, "node_certificates") {
        ctx.log("Renewing Node SSL certificates");
        let master = cfg
            .master_node()
            .ok_or_else(|| {
                GanetiError::Config("The master node is not in the configuration".into())
            })?
            .clone();
        let paths = &ctx.master.paths;
        ganeti_crypto::generate_client_cert(
            &paths.client_pem(),
            &paths.server_pem(),
            &master.name,
            ganeti_crypto::KeyAlgorithm::default(),
            true,
        )
        .map_err(|e| GanetiError::exec(format!("Could not renew the node certificate: {e}")))?;
        let digest = ganeti_crypto::cert_info(&paths.client_pem())
            .map_err(|e| {
                GanetiError::exec(format!("Could not read the new node certificate: {e}"))
            })?
            .sha1_digest;
        let mut skipped = Vec::new();
        let mut unreachable = Vec::new();
        for n in cfg.nodes.values() {
            if n.uuid == master.uuid {
                continue;
            }
            if n.offline {
                skipped.push(n.name.clone());
            } else if n.master_candidate {
                unreachable.push(n.uuid.clone());
            }
        }
        if !unreachable.is_empty() {
            let mut msg = String::from(
                "Some nodes' SSL client certificates could not be fetched. Please make sure those \
                 nodes are reachable and rerun the operation. The affected nodes and their errors are:\n",
            );
            for u in &unreachable {
                msg.push_str(&format!(
                    "Node {u}: only the master node is reachable in this release\n"
                ));
            }
            ctx.log(msg);
        }
        let master_uuid = master.uuid.clone();
        run_planned(ctx, |cfg| {
            let mut c = cfg.cluster.clone();
            let mut certs = Dict::new();
            certs.insert(master_uuid.clone(), json!(digest));
            c.candidate_certs = certs;
            touch!(c);
            let mut out = Outcome::default();
            out.ops.push(ConfigOp::PutCluster(Box::new(c)));
            Ok(out)
        })?;
    }
    if bool_param(&op, "renew_ssh_keys") {
        if cfg.cluster.modify_ssh_setup {
            return Err(GanetiError::exec(
                "Renewing the SSH keys is not supported by this release of ganeti-rs",
            ));
        }
        ctx.log("Cannot renew SSH keys if the cluster is configured to not modify the SSH setup.");
    }
    Ok(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::checks::{testcfg, Fb};
    use super::*;
    use ganeti_types::ErrorClass;

    fn op(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    fn plan(cfg: &ConfigData, v: Value) -> Result<Outcome, GanetiError> {
        plan_set_params(cfg, &op(v), &|n| n == "hail")
    }

    fn new_cluster(out: &Outcome) -> Cluster {
        out.ops
            .iter()
            .find_map(|o| match o {
                ConfigOp::PutCluster(c) => Some((**c).clone()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn info_has_the_rapi_keys_in_order() {
        let cfg = testcfg::config();
        let v = cluster_info_of(&cfg);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        // the key order of Ganeti's /2/info body (fixtures/2_info.json)
        let want = [
            "software_version",
            "protocol_version",
            "config_version",
            "os_api_version",
            "export_version",
            "vcs_version",
            "architecture",
            "name",
            "master",
            "default_hypervisor",
            "enabled_hypervisors",
            "hvparams",
            "os_hvp",
            "beparams",
            "osparams",
            "ipolicy",
            "nicparams",
            "ndparams",
            "diskparams",
            "candidate_pool_size",
            "max_running_jobs",
            "max_tracked_jobs",
            "mac_prefix",
            "master_netdev",
            "master_netmask",
            "use_external_mip_script",
            "volume_group_name",
            "drbd_usermode_helper",
            "file_storage_dir",
            "shared_file_storage_dir",
            "gluster_storage_dir",
            "maintain_node_health",
            "ctime",
            "mtime",
            "uuid",
            "tags",
            "uid_pool",
            "default_iallocator",
            "default_iallocator_params",
            "reserved_lvs",
            "primary_ip_version",
            "prealloc_wipe_disks",
            "hidden_os",
            "blacklisted_os",
            "enabled_disk_templates",
            "install_image",
            "instance_communication_network",
            "zeroing_image",
            "compression_tools",
            "enabled_user_shutdown",
            "enabled_data_collectors",
            "data_collector_interval",
            "modify_ssh_setup",
            "ssh_key_type",
            "ssh_key_bits",
            "vg_name",
            "drbd_helper",
        ];
        assert_eq!(keys, want);
        assert_eq!(v["master"], json!("node1.example.com"));
        assert_eq!(v["hvparams"], json!({"fake": {"migration_mode": "live"}}));
        assert_eq!(v["enabled_data_collectors"]["lv"], json!(true));
        assert_eq!(v["data_collector_interval"]["lv"], json!(5_000_000));
        assert_eq!(v["primary_ip_version"], json!(4));
        assert_eq!(v["software_version"], json!("3.0.2"));
    }

    #[test]
    fn simple_settings() {
        let cfg = testcfg::config();
        let out = plan(
            &cfg,
            json!({"candidate_pool_size": 3, "max_running_jobs": 5, "mac_prefix": "AB:CD:EF",
                   "hidden_os": [["add", "debian"], ["remove", "frob"]], "maintain_node_health": true,
                   "add_uids": [[1000, 2000]], "default_iallocator": "hail", "master_netmask": 16}),
        )
        .unwrap();
        let c = new_cluster(&out);
        assert_eq!(c.candidate_pool_size, 3);
        assert_eq!(c.max_running_jobs, 5);
        assert_eq!(c.mac_prefix, "ab:cd:ef");
        assert_eq!(c.hidden_os, vec!["debian"]);
        assert!(c.maintain_node_health);
        assert_eq!(c.uid_pool, vec![(1000, 2000)]);
        assert_eq!(c.master_netmask, 16);
        assert_eq!(c.serial_no, cfg.cluster.serial_no + 1);
        assert!(out.post.contains(&Fb::Msg(
            "OS frob not found in hidden OS list, ignoring".into()
        )));
        assert!(out
            .post
            .contains(&Fb::Msg("Changing master IP netmask to 16".into())));
        // nothing changes: no delta
        let out = plan(
            &cfg,
            json!({"file_storage_dir": "/srv/ganeti/file-storage"}),
        )
        .unwrap();
        assert!(out.ops.is_empty());
        assert_eq!(
            out.post,
            vec![Fb::Msg(
                "Global file storage dir already set to value '/srv/ganeti/file-storage'".into()
            )]
        );
    }

    #[test]
    fn kvm_hypervisor_parameters() {
        let cfg = testcfg::config();
        // enabling kvm fills Ganeti's defaults
        let c = new_cluster(&plan(&cfg, json!({"enabled_hypervisors": ["fake", "kvm"]})).unwrap());
        assert_eq!(c.enabled_hypervisors, vec!["fake", "kvm"]);
        assert_eq!(c.hv_defaults("kvm"), constants::hv_defaults("kvm"));
        // -H kvm:... is checked filled; values are coerced
        let c = new_cluster(
            &plan(
                &cfg,
                json!({"enabled_hypervisors": ["kvm"],
                       "hvparams": {"kvm": {"boot_order": "cdrom",
                                            "cdrom_image_path": "/srv/iso/d.iso",
                                            "serial_speed": "115200"}}}),
            )
            .unwrap(),
        );
        assert_eq!(c.hv_defaults("kvm")["boot_order"], json!("cdrom"));
        assert_eq!(c.hv_defaults("kvm")["serial_speed"], json!(115200));
        let msg = |v: Value| plan(&cfg, v).unwrap_err();
        let e = msg(json!({"hvparams": {"kvm": {"boot_order": "cdrom"}}}));
        assert_eq!(e.message(), "Cannot boot from cdrom without an ISO path");
        assert_eq!(e.class_name(), "HypervisorError");
        assert_eq!(
            msg(json!({"hvparams": {"kvm": {"kernel_path": "boot/vmlinuz"}}})).message(),
            "Parameter 'kernel_path' fails syntax check: must be an absolute normalized path (current value: 'boot/vmlinuz')"
        );
        assert_eq!(
            msg(json!({"hvparams": {"kvm": {"frob": 1}}})).message(),
            "Parameter 'frob' is not supported"
        );
        // os_hvp is checked on top of the new cluster values
        assert_eq!(
            msg(json!({"os_hvp": {"debian": {"kvm": {"security_model": "user"}}}})).message(),
            "A security domain (user to run kvm as) must be specified"
        );
        let c = new_cluster(
            &plan(
                &cfg,
                json!({"hvparams": {"kvm": {"cdrom_image_path": "/x.iso"}},
                       "os_hvp": {"debian": {"kvm": {"boot_order": "cdrom"}}}}),
            )
            .unwrap(),
        );
        assert_eq!(c.os_hvp["debian"]["kvm"]["boot_order"], json!("cdrom"));
        assert_eq!(
            msg(json!({"os_hvp": {"debian": {"kvm": {"boot_order": "cdrom"}}}})).message(),
            "Cannot boot from cdrom without an ISO path"
        );
    }

    #[test]
    fn refusals() {
        let cfg = testcfg::config();
        let msg = |v: Value| plan(&cfg, v).unwrap_err().message().to_string();
        assert_eq!(
            msg(json!({"mac_prefix": "aa:00"})),
            "Invalid MAC address prefix 'aa:00'"
        );
        assert_eq!(
            msg(json!({"master_netmask": 33})),
            "CIDR netmask (33) not valid"
        );
        assert!(msg(json!({"enabled_hypervisors": ["xen-pvm"]}))
            .starts_with("Hypervisor 'xen-pvm' is not supported"));
        assert!(msg(json!({"enabled_disk_templates": ["drbd"]}))
            .starts_with("Disk template 'drbd' is not supported"));
        assert_eq!(
            msg(json!({"enabled_disk_templates": ["plain", "blockdev", "sharedfile"]})),
            "Please specify a volume group when enabling lvm-based disk-templates."
        );
        if let Err(e) = plan(
            &cfg,
            json!({"enabled_disk_templates": ["plain", "blockdev", "sharedfile", "file", "diskless"], "vg_name": "xenvg"}),
        ) {
            panic!("{e}");
        }
        assert_eq!(
            msg(json!({"default_iallocator": "frob"})),
            "Invalid default iallocator script 'frob' specified"
        );
        assert_eq!(
            msg(json!({"uid_pool": [[5, 1]]})),
            "Lower user-id range boundary value (5) is larger than higher boundary value (1)"
        );
        assert_eq!(
            msg(json!({"add_uids": [[-1, 1]]})),
            "Lower user-id range boundary value (-1) is smaller than UIDPOOL_UID_MIN (0)."
        );
        assert_eq!(msg(json!({"add_uids": [[1, 4294967296i64]]})), "Higher user-id boundary value (4294967296) is larger than UIDPOOL_UID_MAX (4294967295).");
        assert_eq!(
            msg(json!({"remove_uids": [[1, 2]]})),
            "User-id range to be removed is not found in the current user-id pool: (1, 2)"
        );
        assert_eq!(
            msg(json!({"install_image": "relative"})),
            "Install image must be an absolute path or a URL"
        );
        assert_eq!(
            msg(json!({"compression_tools": ["lzop"]})),
            "For compatibility reasons, the gzip utility must be present among the compression tools"
        );
        assert_eq!(
            msg(json!({"beparams": {"memory": "abc"}})),
            "'memory' (value abc) is not a valid size. error: Invalid format"
        );
        assert_eq!(
            msg(json!({"nicparams": {"mode": "frob"}})),
            "Invalid NIC mode 'frob'"
        );
        assert_eq!(msg(json!({"hvparams": {"fake": {"migration_mode": "x"}}})),
            "Parameter 'migration_mode' fails syntax check: invalid migration mode (current value: 'x')");
        assert_eq!(
            msg(json!({"file_storage_dir": ""})),
            "Unsetting the 'file' storage directory while having 'file' storage enabled is not permitted."
        );
        assert_eq!(
            msg(json!({"enabled_data_collectors": {"frob": true}})),
            "Unknown data collector 'frob'"
        );
    }

    #[test]
    fn disabling_templates_in_use_is_refused() {
        let mut cfg = testcfg::config();
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, true);
        let e = plan(&cfg, json!({"enabled_disk_templates": ["diskless"]})).unwrap_err();
        assert!(e.message().starts_with("Cannot disable disk template 'file', because there is at least one disk using it:\n * disk/0"), "{e}");
        assert_eq!(e.error_class(), Some(ErrorClass::WrongState));
        let mut cfg = testcfg::config();
        testcfg::add_instance(&mut cfg, "inst2.example.com", None, None, false);
        let e = plan(&cfg, json!({"enabled_disk_templates": ["file"]})).unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot disable disk template 'diskless', because there is at least one instance using it:\n * inst2.example.com"
        );
        // the ipolicy still allows diskless
        let cfg = testcfg::config();
        let e = plan(&cfg, json!({"enabled_disk_templates": ["file"]})).unwrap_err();
        assert_eq!(
            e.message(),
            "The following disk templates are allowed by the ipolicy, but not enabled on the cluster: diskless"
        );
        let out = plan(
            &cfg,
            json!({"enabled_disk_templates": ["file"], "ipolicy": {"disk-templates": ["file"]}}),
        )
        .unwrap();
        assert_eq!(new_cluster(&out).enabled_disk_templates, vec!["file"]);
    }

    #[test]
    fn parameter_dicts() {
        let cfg = testcfg::config();
        let out = plan(
            &cfg,
            json!({"beparams": {"memory": "512M"}, "ndparams": {"ssh_port": "2222"},
                   "nicparams": {"link": "br1"}, "hvparams": {"fake": {"migration_mode": "non-live"}},
                   "diskparams": {"plain": {"stripes": 2}},
                   "ipolicy": {"vcpu-ratio": 2, "std": {"memory-size": 256}},
                   "os_hvp": {"debian": {"fake": {"migration_mode": "live"}}},
                   "osparams": {"debian": {"dhcp": "yes"}}}),
        )
        .unwrap();
        let c = new_cluster(&out);
        assert_eq!(c.beparams["default"]["maxmem"], json!(512));
        assert_eq!(c.beparams["default"]["minmem"], json!(512));
        assert_eq!(c.beparams["default"]["vcpus"], json!(1));
        assert_eq!(c.ndparams["ssh_port"], json!(2222));
        assert_eq!(
            c.nicparams["default"],
            json!({"mode": "bridged", "link": "br1", "vlan": ""})
        );
        assert_eq!(c.hvparams["fake"], json!({"migration_mode": "non-live"}));
        assert_eq!(c.diskparams["plain"]["stripes"], json!(2));
        assert_eq!(c.ipolicy["vcpu-ratio"], json!(2.0));
        assert_eq!(c.ipolicy["std"]["memory-size"], json!(256));
        assert_eq!(c.os_hvp["debian"]["fake"]["migration_mode"], json!("live"));
        assert_eq!(c.osparams["debian"]["dhcp"], json!("yes"));
        // the std spec must stay inside min/max
        let e = plan(&cfg, json!({"ipolicy": {"std": {"memory-size": 999999}}})).unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid instance policy: Invalid std specifications"
        );
        // routed NICs need an IP
        let mut cfg2 = testcfg::config();
        testcfg::add_instance(&mut cfg2, "inst1.example.com", None, None, false);
        let e = plan(&cfg2, json!({"nicparams": {"mode": "routed"}})).unwrap_err();
        assert_eq!(
            e.message(),
            "Cannot apply the change, errors:\nInstance inst1.example.com, nic/0: routed NIC with no ip address"
        );
    }

    #[test]
    fn instance_communication_network_jobs() {
        let cfg = testcfg::config();
        let out = plan(&cfg, json!({"instance_communication_network": "comm"})).unwrap();
        assert_eq!(new_cluster(&out).instance_communication_network, "comm");
        assert_eq!(out.jobs.len(), 1);
        assert_eq!(out.jobs[0][0]["OP_ID"], json!("OP_NETWORK_ADD"));
        assert_eq!(out.jobs[0][1]["OP_ID"], json!("OP_NETWORK_CONNECT"));
        assert_eq!(out.jobs[0][1]["group_name"], json!(testcfg::GROUP));
        for job in &out.jobs {
            for o in job {
                ganeti_opschema::validate_and_fill(o.as_object().unwrap()).unwrap();
            }
        }
    }

    #[test]
    fn child_opcodes_are_valid() {
        for o in [
            super::super::group::connect_comm_network_op("g", "n"),
            super::super::network::add_comm_network_op("n"),
        ] {
            ganeti_opschema::validate_and_fill(o.as_object().unwrap()).unwrap();
        }
    }
}
