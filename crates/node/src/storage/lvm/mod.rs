//! The `plain` disk template: each disk is an LVM logical volume.
//!
//! Behaviour follows Ganeti's `LogicalVolume`: the `logical_id` is
//! `[vg, lv]` (the master names LVs `<unique id>.disk<N>`) and the device
//! is `/dev/<vg>/<lv>`. Creation checks the PVs of the group for space and
//! asks `lvcreate` for as many stripes as the disk parameters want (fewer
//! if there are fewer PVs, retrying with fewer if the space is badly
//! spread); growing rounds up to whole stripes and tries the allocation
//! policies `contiguous`, `cling`, `normal` in turn; assembling always runs
//! `lvchange -ay` (a VG may come up inactive after a boot); shutting down
//! deliberately leaves the LV active, as Ganeti does; removing a missing
//! LV is not an error. Adoption of an existing LV is a rename
//! ([`LvmStorage::rename`]).
//!
//! We are stricter than Ganeti in two places: a failed `lvcreate` that
//! left an LV behind (LVM removes it itself in most but not all failure
//! paths) is removed again, so a failed creation leaves nothing; and names
//! starting with `-` are refused (they would be read as options by the
//! tools).
//!
//! Everything goes through the tools in [`tools`]; [`report`] reads their
//! output.

pub mod report;
pub mod tools;

#[cfg(any(test, feature = "test-support"))]
pub mod fake;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ganeti_types::DiskTemplate;
use serde_json::Value;

use crate::info::{BlockDevStatus, LvInfo, StorageEntry, StorageInfo, StorageType};
use crate::spec::{DiskPath, DiskSpec};
use crate::storage::Storage;
use crate::NodeError;

pub use report::{LvRecord, PvInfo, VgInfo};
pub use tools::LvmTools;

/// Names LVM reserves.
const INVALID_NAMES: &[&str] = &[".", "..", "snapshot", "pvmove"];
/// Substrings LVM reserves for its internal volumes.
const INVALID_SUBSTRINGS: &[&str] = &["_mlog", "_mimage"];
/// Ganeti's `PART_MARGIN` and `PART_RESERVED` (exclusive storage).
const PART_MARGIN: f64 = 0.01;
const PART_RESERVED: f64 = 0.02;

/// Check a VG or LV name the way Ganeti does (the characters of lvm(8),
/// reserved names and substrings), and refuse what would look like an
/// option to the tools.
pub fn validate_name(name: &str) -> Result<(), NodeError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+_.-".contains(c));
    if name.is_empty()
        || !ok_chars
        || name.starts_with('-')
        || INVALID_NAMES.contains(&name)
        || INVALID_SUBSTRINGS.iter().any(|s| name.contains(s))
    {
        return Err(NodeError::InvalidLvmName {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// The `(vg, lv)` of a `[vg, lv]` logical id, both names checked.
pub fn parse_logical_id(disk_uuid: &str, id: &Value) -> Result<(String, String), NodeError> {
    let bad = |reason| NodeError::BadLogicalId {
        disk: disk_uuid.to_string(),
        logical_id: id.to_string(),
        reason,
    };
    let arr = id.as_array().ok_or_else(|| bad("expected [vg, lv]"))?;
    let [vg, lv] = arr.as_slice() else {
        return Err(bad("expected [vg, lv]"));
    };
    let vg = vg
        .as_str()
        .ok_or_else(|| bad("the volume group is not a string"))?;
    let lv = lv
        .as_str()
        .ok_or_else(|| bad("the volume name is not a string"))?;
    validate_name(vg)?;
    validate_name(lv)?;
    Ok((vg.to_string(), lv.to_string()))
}

/// The device node of an LV.
pub fn dev_path(vg: &str, lv: &str) -> PathBuf {
    PathBuf::from("/dev").join(vg).join(lv)
}

/// LVM-backed disks.
#[derive(Debug, Clone)]
pub struct LvmStorage {
    tools: LvmTools,
}

impl LvmStorage {
    /// A driver using these tools.
    pub fn new(tools: LvmTools) -> Self {
        LvmStorage { tools }
    }

    /// The tools in use.
    pub fn tools(&self) -> &LvmTools {
        &self.tools
    }

    fn lv(&self, vg: &str, lv: &str) -> Result<Option<LvRecord>, NodeError> {
        Ok(report::lvs(&self.tools)?.remove(&(vg.to_string(), lv.to_string())))
    }

    /// Best-effort removal after a failed creation; says what it did.
    fn remove_leftover(&self, vg: &str, lv: &str) {
        match self.lv(vg, lv) {
            Ok(Some(_)) => {
                let target = format!("{vg}/{lv}");
                match self.tools.run("lvremove", &["-f", &target]) {
                    Ok(o) if o.success() => {
                        tracing::warn!(vg, lv, "removed the LV a failed lvcreate left behind")
                    }
                    Ok(o) => {
                        tracing::error!(vg, lv, output = %o.output(), "cannot remove the LV a failed lvcreate left behind")
                    }
                    Err(e) => {
                        tracing::error!(vg, lv, error = %e, "cannot remove the LV a failed lvcreate left behind")
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(vg, lv, error = %e, "cannot check for an LV left by a failed lvcreate")
            }
        }
    }

    /// Rename the disk's LV to the LV of `new_logical_id` (same VG).
    /// Done already (only the new name exists) is fine.
    pub fn rename(&self, disk: &DiskSpec, new_logical_id: &Value) -> Result<(), NodeError> {
        let (vg, old) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
        let (new_vg, new) = parse_logical_id(&disk.uuid, new_logical_id)?;
        if new_vg != vg {
            return Err(NodeError::LvRenameAcrossVgs {
                from: vg,
                to: new_vg,
            });
        }
        if old == new {
            return Ok(());
        }
        let all = report::lvs(&self.tools)?;
        let has = |n: &str| all.contains_key(&(vg.clone(), n.to_string()));
        if !has(&old) && has(&new) {
            return Ok(());
        }
        let o = self.tools.run("lvrename", &[&vg, &old, &new])?;
        if !o.success() {
            return Err(NodeError::LvRename { output: o.output() });
        }
        tracing::info!(vg, old, new, "renamed logical volume");
        Ok(())
    }
}

/// The wanted number of stripes from the disk parameters (default 1).
fn wanted_stripes(disk: &DiskSpec) -> u64 {
    match disk.params.get("stripes") {
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n >= 1).unwrap_or(1),
        Some(Value::String(s)) => s.trim().parse().ok().filter(|n| *n >= 1).unwrap_or(1),
        _ => 1,
    }
}

impl Storage for LvmStorage {
    fn template(&self) -> DiskTemplate {
        DiskTemplate::Plain
    }

    fn create(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        let (vg, lv) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
        let dev = dev_path(&vg, &lv);
        if self.lv(&vg, &lv)?.is_some() {
            return Err(NodeError::DiskExists { path: dev });
        }
        let mut pvs: Vec<PvInfo> = report::pvs(&self.tools)?
            .into_iter()
            .filter(|p| p.allocatable() && p.vg_name == vg)
            .collect();
        if pvs.is_empty() {
            return Err(NodeError::NoPvInfo { vg });
        }
        pvs.sort_by_key(|p| std::cmp::Reverse(p.free_mib));
        if pvs.iter().any(|p| p.name.contains(':')) {
            return Err(NodeError::PvNameColon);
        }
        let free: u64 = pvs.iter().map(|p| p.free_mib).sum();
        if free < disk.size_mib {
            return Err(NodeError::NotEnoughVgSpace {
                vg,
                required: disk.size_mib,
                available: free,
            });
        }
        let wanted = wanted_stripes(disk);
        let stripes = wanted.min(pvs.len() as u64);
        if stripes < wanted {
            tracing::warn!(
                vg,
                wanted,
                available = pvs.len(),
                "Could not use the wanted number of stripes, as only fewer PVs are available"
            );
        }
        let size = format!("-L{}m", disk.size_mib);
        let name = format!("-n{lv}");
        let mut last = None;
        for s in (1..=stripes).rev() {
            let stripes_arg = format!("-i{s}");
            let mut args = vec![
                "-Wn",
                size.as_str(),
                name.as_str(),
                stripes_arg.as_str(),
                vg.as_str(),
            ];
            args.extend(pvs.iter().map(|p| p.name.as_str()));
            let o = self.tools.run("lvcreate", &args)?;
            if o.success() {
                tracing::info!(
                    vg,
                    lv,
                    size_mib = disk.size_mib,
                    stripes = s,
                    "created logical volume"
                );
                return Ok(DiskPath { dev_path: dev });
            }
            last = Some(o);
        }
        self.remove_leftover(&vg, &lv);
        let (reason, output) = last
            .map(|o| (o.fail_reason(), o.output()))
            .unwrap_or_default();
        Err(NodeError::LvCreate { reason, output })
    }

    fn remove(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        let (vg, lv) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
        if self.lv(&vg, &lv)?.is_none() {
            tracing::warn!(vg, lv, "logical volume to remove does not exist");
            return Ok(());
        }
        let o = self.tools.run("lvremove", &["-f", &format!("{vg}/{lv}")])?;
        if !o.success() {
            return Err(NodeError::LvRemove {
                reason: o.fail_reason(),
                output: o.output(),
            });
        }
        tracing::info!(vg, lv, "removed logical volume");
        Ok(())
    }

    fn grow(&self, disk: &DiskSpec, amount_mib: u64, dryrun: bool) -> Result<(), NodeError> {
        let (vg, lv) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
        let dev = dev_path(&vg, &lv);
        let rec = self
            .lv(&vg, &lv)?
            .ok_or_else(|| NodeError::LvMissing { path: dev.clone() })?;
        if amount_mib == 0 {
            return Ok(());
        }
        let full_stripe = rec.extent_kib.max(1).saturating_mul(rec.stripes.max(1));
        let amount_kib = amount_mib
            .checked_mul(1024)
            .and_then(|a| a.checked_next_multiple_of(full_stripe))
            .ok_or_else(|| NodeError::SizeOverflow {
                path: dev.clone(),
                size_mib: u128::from(amount_mib),
            })?;
        let amount = format!("+{amount_kib}k");
        let dev_s = dev.to_string_lossy().into_owned();
        let mut last = None;
        for policy in ["contiguous", "cling", "normal"] {
            let mut args = vec!["-L", amount.as_str()];
            if dryrun {
                args.push("--test");
            }
            args.extend(["--alloc", policy, dev_s.as_str()]);
            let o = self.tools.run("lvextend", &args)?;
            if o.success() {
                if !dryrun {
                    tracing::info!(vg, lv, amount_kib, policy, "grew logical volume");
                }
                return Ok(());
            }
            last = Some(o);
        }
        Err(NodeError::LvGrow {
            path: dev,
            output: last.map(|o| o.output()).unwrap_or_default(),
        })
    }

    fn assemble(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        let (vg, lv) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
        let dev = dev_path(&vg, &lv);
        let o = self
            .tools
            .run("lvchange", &["-ay", &dev.to_string_lossy()])?;
        if !o.success() {
            return Err(NodeError::LvActivate {
                path: dev,
                output: o.output(),
            });
        }
        Ok(DiskPath { dev_path: dev })
    }

    fn shutdown(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        // Ganeti leaves LVs active; still refuse ids we would not manage.
        parse_logical_id(&disk.uuid, &disk.logical_id).map(|_| ())
    }

    fn find(&self, disk: &DiskSpec) -> Result<Option<BlockDevStatus>, NodeError> {
        let (vg, lv) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
        Ok(self.lv(&vg, &lv)?.map(|r| BlockDevStatus {
            dev_path: dev_path(&vg, &lv),
            major: r.major,
            minor: r.minor,
            size_mib: r.size_kib / 1024,
            sync_percent: None,
            is_degraded: r.is_virtual(),
        }))
    }

    fn rename(&self, disk: &DiskSpec, new_logical_id: &Value) -> Result<(), NodeError> {
        LvmStorage::rename(self, disk, new_logical_id)
    }
}

/// Size and free space of a volume group (Ganeti's `_GetVgInfo`); with
/// exclusive storage, free space counts only whole empty PVs.
pub fn vg_space_info(
    tools: &LvmTools,
    vg: &str,
    exclusive_storage: bool,
) -> Result<StorageInfo, NodeError> {
    validate_name(vg)?;
    let info = report::vgs(tools)?
        .into_iter()
        .find(|v| v.name == vg && !v.attr.starts_with('r'))
        .ok_or_else(|| NodeError::VgNotFound { vg: vg.to_string() })?;
    let free = if exclusive_storage {
        let (std_size, empty, _) = pv_spindles(tools, vg)?;
        (std_size * empty as f64).min(info.free_mib as f64) as u64
    } else {
        info.free_mib
    };
    Ok(StorageInfo {
        storage_type: StorageType::LvmVg,
        name: vg.to_string(),
        storage_size: info.size_mib,
        storage_free: free,
    })
}

/// `(standard PV size MiB, empty PVs, all PVs)` of a VG's allocatable PVs
/// (Ganeti's `_GetRawFreePvInfo`).
fn pv_spindles(tools: &LvmTools, vg: &str) -> Result<(f64, u64, u64), NodeError> {
    let pvs: Vec<PvInfo> = report::pvs(tools)?
        .into_iter()
        .filter(|p| p.allocatable() && p.vg_name == vg)
        .collect();
    let Some(smallest) = pvs.iter().map(|p| p.size_mib).min() else {
        return Ok((0.0, 0, 0));
    };
    let std_size = (smallest as f64 / (1.0 + PART_MARGIN + PART_RESERVED)).floor();
    let empty = pvs.iter().filter(|p| p.size_mib <= p.free_mib + 1).count() as u64;
    Ok((std_size, empty, pvs.len() as u64))
}

/// Spindles of a VG (Ganeti's lvm-pv space): free and total PVs with
/// exclusive storage, zero without.
pub fn pv_space_info(
    tools: &LvmTools,
    vg: &str,
    exclusive_storage: bool,
) -> Result<StorageInfo, NodeError> {
    validate_name(vg)?;
    let (free, total) = if exclusive_storage {
        let (_, empty, all) = pv_spindles(tools, vg)?;
        (empty, all)
    } else {
        (0, 0)
    };
    Ok(StorageInfo {
        storage_type: StorageType::LvmPv,
        name: vg.to_string(),
        storage_size: total,
        storage_free: free,
    })
}

/// Logical volumes of the given groups (all if empty), by `vg/lv`,
/// virtual ones left out (Ganeti's `GetVolumeList`).
pub fn lv_list(tools: &LvmTools, vgs: &[String]) -> Result<BTreeMap<String, LvInfo>, NodeError> {
    for vg in vgs {
        validate_name(vg)?;
    }
    let names: Vec<&str> = vgs.iter().map(String::as_str).collect();
    let rows = report::report(
        tools,
        "lvs",
        "m",
        &["vg_name", "lv_name", "lv_size", "lv_attr"],
        &names,
    )?;
    let mut out = BTreeMap::new();
    for f in rows {
        let attr = f[3].as_bytes();
        if attr.len() < 6 {
            tracing::error!(line = %f.join(report::SEP), "Invalid line returned from lvs output");
            continue;
        }
        if attr[0] == b'v' {
            continue;
        }
        let Ok(size) = f[2].trim().parse::<f64>() else {
            tracing::error!(line = %f.join(report::SEP), "Invalid line returned from lvs output");
            continue;
        };
        out.insert(
            format!("{}/{}", f[0], f[1]),
            LvInfo {
                size_mib: size.max(0.0) as u64,
                inactive: attr[4] == b'-',
                online: attr[5] == b'o',
            },
        );
    }
    Ok(out)
}

/// Run a listing report the way Ganeti's storage container does: lines
/// that do not have the asked fields are skipped with a warning.
fn listing(
    tools: &LvmTools,
    tool: &str,
    fields: &[&str],
    name: Option<&str>,
) -> Result<Vec<Vec<String>>, NodeError> {
    let mut args = vec![
        "--noheadings",
        "--units=m",
        "--nosuffix",
        "--separator",
        report::SEP,
        "--options",
    ];
    let joined = fields.join(",");
    args.push(&joined);
    if let Some(n) = name {
        args.push(n);
    }
    let o = tools.run(tool, &args)?;
    if !o.success() {
        return Err(NodeError::StorageList {
            tool: tool.to_string(),
            output: o.output(),
        });
    }
    Ok(o.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let f: Vec<String> = l.trim().split(report::SEP).map(str::to_owned).collect();
            if f.len() == fields.len() {
                Some(f)
            } else {
                tracing::warn!(line = l, "Invalid line returned from lvm command");
                None
            }
        })
        .collect())
}

/// Ganeti's `_ParseSize`: a decimal size rounded to an integer.
fn parse_size(v: &str) -> Option<u64> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .map(|f| f.round() as u64)
}

/// Volume groups for the storage listing (Ganeti's `LvmVgStorage`):
/// used is size minus free, always allocatable.
pub fn list_vgs(tools: &LvmTools, name: Option<&str>) -> Result<Vec<StorageEntry>, NodeError> {
    if let Some(n) = name {
        validate_name(n)?;
    }
    Ok(
        listing(tools, "vgs", &["vg_name", "vg_size", "vg_free"], name)?
            .into_iter()
            .map(|f| {
                let size = parse_size(&f[1]);
                let free = parse_size(&f[2]);
                StorageEntry {
                    name: f[0].clone(),
                    size,
                    used: size.zip(free).map(|(s, f)| s.saturating_sub(f)),
                    free,
                    allocatable: true,
                }
            })
            .collect(),
    )
}

/// Physical volumes for the storage listing (Ganeti's `LvmPvStorage`).
pub fn list_pvs(tools: &LvmTools, name: Option<&str>) -> Result<Vec<StorageEntry>, NodeError> {
    if let Some(n) = name {
        if !n.starts_with('/') || n.contains("..") {
            return Err(NodeError::InvalidLvmName {
                name: n.to_string(),
            });
        }
    }
    Ok(listing(
        tools,
        "pvs",
        &["pv_name", "pv_size", "pv_used", "pv_free", "pv_attr"],
        name,
    )?
    .into_iter()
    .map(|f| StorageEntry {
        name: f[0].clone(),
        size: parse_size(&f[1]),
        used: parse_size(&f[2]),
        free: parse_size(&f[3]),
        allocatable: f[4].starts_with('a'),
    })
    .collect())
}

#[cfg(test)]
mod tests;
