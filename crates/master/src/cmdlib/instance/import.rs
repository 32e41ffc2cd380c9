//! OP_INSTANCE_CREATE in mode `import`: an instance from an export.
//!
//! Why a separate step before the normal creation: Ganeti's
//! `LUInstanceCreate` reads the export's `config.ini` under the locks and
//! fills every parameter the opcode leaves open from it (OS, disks, NICs,
//! tags, hypervisor, hypervisor/backend/OS parameters), then creates the
//! instance exactly as in mode `create`. Only the OS step differs: each
//! disk's dump goes through the OS import script instead of the create
//! script, and the rename script runs afterwards (the instance may have a
//! new name). So [`prepare`] turns an import opcode into a filled create
//! opcode plus the list of dumps, and `create.rs` does the rest.

use std::path::{Path, PathBuf};

use ganeti_types::{ConfigData, Dict, ErrorClass, GanetiError, Instance};
use serde_json::{json, Value};

use super::common;
use crate::cmdlib::backup::finalize::{
    EXPORT_VERSION, NIC_PARAMS, SEC_BACKEND, SEC_EXPORT, SEC_HYPERVISOR, SEC_INSTANCE, SEC_OS,
    SEC_OS_PRIVATE,
};
use crate::cmdlib::backup::ini::Ini;
use crate::cmdlib::util::{bool_param, str_param};
use crate::cmdlib::OpCtx;
use crate::Master;

/// Ganeti's `MAX_DISKS` and `MAX_NICS`.
const MAX_DISKS: usize = 16;
const MAX_NICS: usize = 8;

/// What the import needs after the instance is created.
#[derive(Debug, Clone)]
pub struct ImportSource {
    /// Source node name.
    pub node_name: String,
    /// Per disk of the new instance: its dump in the export, if any.
    pub images: Vec<Option<PathBuf>>,
    /// The instance's name in the export (for the rename script).
    pub old_name: String,
}

/// Submission checks of an import (those of `create` that do not need the
/// export run once it has been read).
pub fn check_at_submit(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    crate::cmdlib::util::check_name(
        "instance",
        str_param(op, "instance_name").unwrap_or_default(),
    )?;
    if bool_param(op, "ip_check") && !bool_param(op, "name_check") {
        return Err(GanetiError::wrong_input(
            "Cannot do IP address check without a name check",
        ));
    }
    let adopting = op
        .get("disks")
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|d| d.get("adopt").is_some()));
    if adopting {
        return Err(GanetiError::wrong_input(
            "Disk adoption not allowed for instance import",
        ));
    }
    if str_param(op, "src_node").is_none() && str_param(op, "src_path").is_some_and(is_abs) {
        return Err(GanetiError::wrong_input(
            "Importing an instance from a path requires a source node option",
        ));
    }
    if bool_param(op, "forthcoming") {
        return Err(GanetiError::wrong_input(
            "forthcoming instances can only be created, not imported",
        ));
    }
    if str_param(op, "disk_template").is_none() {
        return Err(GanetiError::wrong_input("Missing disk template"));
    }
    Ok(())
}

fn is_abs(p: &str) -> bool {
    Path::new(p).is_absolute()
}

/// Ganeti's `_ReadExportInfo`: find the export (on the given node, or by
/// its name on any node) and read its `config.ini`.
fn read_export_info(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    op: &mut Dict,
) -> Result<(Ini, String, PathBuf), GanetiError> {
    let name = str_param(op, "instance_name")
        .unwrap_or_default()
        .to_string();
    let src_path = str_param(op, "src_path").unwrap_or(&name).to_string();
    let export_dir = ctx.node().export_dir();
    let (node_uuid, path) = match str_param(op, "src_node_uuid")
        .filter(|u| cfg.nodes.contains_key(*u))
        .map(str::to_owned)
        .or_else(|| str_param(op, "src_node").map(str::to_owned))
    {
        Some(n) => {
            let node = cfg.expand_node(&n)?;
            let path = if is_abs(&src_path) {
                PathBuf::from(&src_path)
            } else {
                export_dir.join(&src_path)
            };
            (node.uuid.clone(), path)
        }
        None => {
            let mut found = None;
            for (uuid, _) in crate::cmdlib::backup::reachable_nodes(cfg) {
                if let Ok(list) = ctx.node().export_list() {
                    if list.contains(&src_path) {
                        found = Some(uuid);
                        break;
                    }
                }
            }
            let uuid = found.ok_or_else(|| {
                GanetiError::wrong_input(format!("No export found for relative path {src_path}"))
            })?;
            (uuid, export_dir.join(&src_path))
        }
    };
    common::check_node_online(cfg, &node_uuid, None)?;
    let node_name = cfg.node_name(&node_uuid);
    op.insert("src_node".into(), json!(node_name));
    op.insert("src_node_uuid".into(), json!(node_uuid));
    op.insert("src_path".into(), json!(path.display().to_string()));
    let text = ctx.node().export_info(&path).map_err(|e| {
        GanetiError::OpExec(format!(
            "No export or invalid export found in dir {}: {e}",
            path.display()
        ))
    })?;
    let ini = Ini::parse(&text).map_err(|e| {
        GanetiError::OpExec(format!(
            "No export or invalid export found in dir {}: {e}",
            path.display()
        ))
    })?;
    if !ini.has_section(SEC_EXPORT) || !ini.has_section(SEC_INSTANCE) {
        return Err(GanetiError::OpExec("Corrupted export config".into()));
    }
    let version = ini.get(SEC_EXPORT, "version").unwrap_or_default();
    if version.trim().parse::<u32>().ok() != Some(EXPORT_VERSION) {
        return Err(GanetiError::prereq(
            format!("Wrong export version {version} (wanted {EXPORT_VERSION})"),
            ErrorClass::Environ,
        ));
    }
    Ok((ini, node_name, path))
}

/// Python's `"%s" % None` read back: "None" (any case) or empty is unset.
fn unset(v: &str) -> bool {
    v.is_empty() || v.eq_ignore_ascii_case("none")
}

fn dict_mut<'a>(op: &'a mut Dict, key: &str) -> &'a mut Dict {
    let slot = op.entry(key.to_string()).or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

fn empty_list(op: &Dict, key: &str) -> bool {
    op.get(key)
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
}

/// Ganeti's `_ReadExportParams`: the export's values for everything the
/// opcode leaves open; the OS always comes from the export.
pub(super) fn read_export_params(ini: &Ini, op: &mut Dict) -> Result<(), GanetiError> {
    let os = ini.get(SEC_EXPORT, "os").unwrap_or_default().to_string();
    if os.is_empty() {
        op.insert("os_type".into(), Value::Null);
        op.insert("no_install".into(), json!(true));
    } else {
        op.insert("os_type".into(), json!(os));
    }
    let s = SEC_INSTANCE;
    if empty_list(op, "disks") {
        let mut disks = Vec::new();
        for i in 0..MAX_DISKS {
            let Some(size) = ini.get(s, &format!("disk{i}_size")) else {
                continue;
            };
            let size: u64 = size.trim().parse().map_err(|_| {
                GanetiError::wrong_input(format!("Invalid disk size '{size}' in the export"))
            })?;
            let mut d = json!({ "size": size });
            if let Some(n) = ini.get(s, &format!("disk{i}_name")).filter(|n| !unset(n)) {
                d["name"] = json!(n);
            }
            disks.push(d);
        }
        if disks.is_empty() && str_param(op, "disk_template") != Some("diskless") {
            return Err(GanetiError::wrong_input(
                "No disk info specified and the export is missing the disk information",
            ));
        }
        op.insert("disks".into(), json!(disks));
    }
    if empty_list(op, "nics") {
        let mut nics = Vec::new();
        for i in 0..MAX_NICS {
            if !ini.has_option(s, &format!("nic{i}_mac")) {
                break;
            }
            let mut n = Dict::new();
            for k in ["ip", "mac", "name"] {
                if let Some(v) = ini.get(s, &format!("nic{i}_{k}")) {
                    n.insert(k.into(), json!(v));
                }
            }
            // a NIC in a network inherits mode and link from the group's
            // connection; otherwise its own come along
            match ini.get(s, &format!("nic{i}_network")).filter(|v| !unset(v)) {
                Some(net) => {
                    n.insert("network".into(), json!(net));
                }
                None => {
                    for p in NIC_PARAMS {
                        if let Some(v) = ini.get(s, &format!("nic{i}_{p}")).filter(|v| !unset(v)) {
                            n.insert((*p).into(), json!(v));
                        }
                    }
                }
            }
            nics.push(Value::Object(n));
        }
        op.insert("nics".into(), json!(nics));
    }
    if empty_list(op, "tags") {
        if let Some(tags) = ini.get(s, "tags") {
            let tags: Vec<&str> = tags.split_whitespace().collect();
            op.insert("tags".into(), json!(tags));
        }
    }
    if str_param(op, "hypervisor").is_none() {
        if let Some(hv) = ini.get(s, "hypervisor") {
            op.insert("hypervisor".into(), json!(hv));
        }
    }
    let fill_section = |op: &mut Dict, key: &str, section: &str| {
        let d = dict_mut(op, key);
        for (k, v) in ini.items(section) {
            if !d.contains_key(k) {
                d.insert(k.clone(), json!(v));
            }
        }
    };
    fill_section(op, "hvparams", SEC_HYPERVISOR);
    if ini.has_section(SEC_BACKEND) {
        fill_section(op, "beparams", SEC_BACKEND);
        let be = dict_mut(op, "beparams");
        if let Some(mem) = be.remove("memory") {
            for k in ["maxmem", "minmem"] {
                be.entry(k.to_string()).or_insert_with(|| mem.clone());
            }
        }
    } else {
        let be = dict_mut(op, "beparams");
        for k in ["maxmem", "minmem", "vcpus"] {
            if let Some(v) = ini.get(s, k) {
                be.entry(k.to_string()).or_insert_with(|| json!(v));
            }
        }
    }
    fill_section(op, "osparams", SEC_OS);
    fill_section(op, "osparams_private", SEC_OS_PRIVATE);
    Ok(())
}

/// Ganeti's `_RevertToDefaults` (`--identify-defaults`): parameters equal
/// to the cluster's defaults are not kept as the instance's own.
fn revert_to_defaults(cfg: &ConfigData, op: &mut Dict) {
    let cl = &cfg.cluster;
    let hv = str_param(op, "hypervisor")
        .map(str::to_owned)
        .unwrap_or_else(|| cl.default_hypervisor.clone());
    let os = str_param(op, "os_type").map(str::to_owned);
    let hv_defs = ganeti_types::hvparams::fill(cl, &hv, os.as_deref(), &Dict::new());
    let be_defs = common::effective_be(cfg, &Dict::new());
    let os_defs = super::osrun::fill_os_params(
        &cl.osparams,
        &Dict::new(),
        os.as_deref().unwrap_or_default(),
        &Dict::new(),
        &Dict::new(),
    );
    let same = |defs: &Dict, k: &str, v: &Value| {
        defs.get(k)
            .is_some_and(|d| d == v || v.as_str() == Some(ganeti_clifmt::pystr::py_str(d).as_str()))
    };
    for (key, defs) in [
        ("hvparams", &hv_defs),
        ("beparams", &be_defs),
        ("osparams", &os_defs),
    ] {
        let d = dict_mut(op, key);
        d.retain(|k, v| !same(defs, k, v));
    }
    let nic_defs = cl.nic_defaults();
    if let Some(nics) = op.get_mut("nics").and_then(Value::as_array_mut) {
        for n in nics.iter_mut().filter_map(Value::as_object_mut) {
            n.retain(|k, v| !(NIC_PARAMS.contains(&k.as_str()) && same(&nic_defs, k, v)));
        }
    }
}

/// Read the export and fill the opcode from it (under the locks, as
/// Ganeti's `CheckPrereq` does). Returns where the dumps are.
pub fn prepare(ctx: &mut OpCtx<'_>, op: &mut Dict) -> Result<ImportSource, GanetiError> {
    let cfg = ctx.config()?;
    let (ini, node_name, path) = read_export_info(ctx, &cfg, op)?;
    read_export_params(&ini, op)?;
    // the OS was good when the instance was installed; importing it back
    // is the only chance, so the variant is not checked (as in Ganeti)
    op.insert("force_variant".into(), json!(true));
    if op.get("no_install").and_then(Value::as_bool) == Some(true)
        && !ini.get(SEC_EXPORT, "os").unwrap_or_default().is_empty()
    {
        ctx.log_info("No-installation mode has no effect during import");
    }
    if crate::cmdlib::util::dict_param(op, "osparams")
        .get("os-image")
        .is_some_and(|v| !v.is_null())
    {
        ctx.log_info("OS image has no effect during import");
    }
    if bool_param(op, "identify_defaults") {
        revert_to_defaults(&cfg, op);
    }
    let old_name = ini
        .get(SEC_INSTANCE, "name")
        .unwrap_or_default()
        .to_string();
    let disk_count = op
        .get("disks")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let images = (0..disk_count)
        .map(|i| {
            ini.get(SEC_INSTANCE, &format!("disk{i}_dump"))
                .map(|d| path.join(d))
        })
        .collect();
    // the same instance back: its NICs keep their MACs
    if str_param(op, "instance_name") == Some(old_name.as_str()) {
        if let Some(nics) = op.get_mut("nics").and_then(Value::as_array_mut) {
            for (i, n) in nics.iter_mut().enumerate() {
                let auto = n
                    .get("mac")
                    .and_then(Value::as_str)
                    .is_none_or(|m| m.eq_ignore_ascii_case("auto"));
                if let (true, Some(mac)) = (auto, ini.get(SEC_INSTANCE, &format!("nic{i}_mac"))) {
                    n["mac"] = json!(mac);
                }
            }
        }
    }
    Ok(ImportSource {
        node_name,
        images,
        old_name,
    })
}

/// The OS step of an import: each dump through the OS import script onto
/// its disk (disks created on the primary node), then the rename script.
/// Failed disks are a warning, as in Ganeti.
/// Compression of a local transfer (see `run_os_import`).
pub(crate) const TRANSFER_COMPRESSION: &str = "none";

pub fn run_os_import(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst: &Instance,
    src: &ImportSource,
    secret: Dict,
) -> Result<(), GanetiError> {
    if inst.disks.is_empty() {
        return Ok(());
    }
    let op = ctx.op().clone();
    // Ganeti's `compress` only compresses the stream between the node
    // holding the dump and the new primary; dumps are stored raw. Source
    // and destination are this node, so the data goes uncompressed.
    let compress = TRANSFER_COMPRESSION.to_string();
    let debug = super::osrun::debug_level(&op);
    let dst = cfg.node_name(&inst.primary_node);
    let spec = common::spec(cfg, inst)?;
    let run = super::osrun::run_spec(cfg, inst, secret);
    ctx.log_step("running the instance OS import scripts...");
    let mut all_ok = true;
    for (idx, image) in src.images.iter().enumerate() {
        let Some(image) = image else { continue };
        ctx.log(format!(
            "Exporting disk/{idx} from {} to {dst}",
            src.node_name
        ));
        match ctx
            .node()
            .os_import_disk(&spec, &run, idx, image, &compress, debug)
        {
            Ok(()) => {
                ctx.log(format!("disk/{idx} finished sending data"));
                ctx.log(format!("disk/{idx} finished receiving data"));
            }
            Err(e) => {
                ctx.log(format!("disk/{idx} failed to receive data: {e}"));
                all_ok = false;
            }
        }
    }
    if !all_ok {
        ctx.log_warning(format!(
            "Some disks for instance {} on node {dst} were not imported successfully",
            inst.name
        ));
    }
    if !inst.os.is_empty() {
        ctx.log(format!("Running rename script for {}", inst.name));
        if let Err(e) = ctx.node().os_rename(&spec, &src.old_name, &run, debug) {
            ctx.log_warning(format!(
                "Failed to run rename script for {} on node {dst}: {e}",
                inst.name
            ));
        }
    }
    Ok(())
}
