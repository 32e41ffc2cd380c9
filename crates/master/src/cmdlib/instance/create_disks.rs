//! The disks of OP_INSTANCE_CREATE: checking the opcode's disk list,
//! building the configuration disks per template, adoption, and creating
//! (or adopting) them on the node with undo.
//!
//! Templates and their `logical_id` (as Ganeti's `GenerateDiskTemplate`):
//! `file`/`sharedfile` `[driver, <dir>/<instance>/<id>.<template>.diskN]`,
//! `plain` `[vg, <id>.diskN]` (vg from the disk or the cluster), `blockdev`
//! `["manual", <device>]`. Adoption (Ganeti's `DTS_MAY_ADOPT`: `plain`,
//! `blockdev`; `blockdev` must adopt) takes existing storage: the size
//! comes from the node, never from the opcode, and nothing is created;
//! adopted LVs are renamed to the generated name (and back if the creation
//! fails), adopted devices are used as they are. A device or LV already
//! used by another instance is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use ganeti_node::{BlockDevProbeState, DiskSpec, NodeError, StorageUnit};
use ganeti_types::{now_f64, ConfigData, Dict, Disk, DiskTemplate, ErrorClass, GanetiError, Node};
use serde_json::{json, Value};

use super::common::{self, disk_size};
use crate::cmdlib::util::str_param;
use crate::cmdlib::OpCtx;

/// Templates whose disks may be adopted (Ganeti's `DTS_MAY_ADOPT`).
const MAY_ADOPT: &[&str] = &["plain", "blockdev"];
/// Templates whose disks must be adopted (Ganeti's `DTS_MUST_ADOPT`).
const MUST_ADOPT: &[&str] = &["blockdev"];

fn disk_dicts(op: &Dict) -> Vec<Dict> {
    op.get("disks")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .map(|d| d.as_object().cloned().unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

fn adopt_of(d: &Dict) -> Option<&str> {
    d.get("adopt").and_then(Value::as_str)
}

/// The size of disk `i`: required unless it is adopted (then the node's
/// size replaces it; a given one must still be valid).
pub(super) fn check_size(d: &Dict, i: usize) -> Result<(), GanetiError> {
    if d.contains_key("adopt") && !d.contains_key("size") {
        return Ok(());
    }
    disk_size(d, i).map(|_| ())
}

/// Submission-time adoption checks (Ganeti's `_CheckDiskArguments`).
pub(super) fn check_adoption(op: &Dict, template: &str) -> Result<(), GanetiError> {
    let disks = disk_dicts(op);
    let adopted = disks.iter().filter(|d| d.contains_key("adopt")).count();
    if adopted > 0 && adopted < disks.len() {
        return Err(GanetiError::wrong_input(
            "Either all disks are adopted or none is",
        ));
    }
    if adopted > 0 {
        if !MAY_ADOPT.contains(&template) {
            return Err(GanetiError::wrong_input(format!(
                "Disk adoption is not supported for the '{template}' disk template"
            )));
        }
        if str_param(op, "iallocator").is_some_and(|s| !s.is_empty()) {
            return Err(GanetiError::wrong_input(
                "Disk adoption not allowed with an iallocator script",
            ));
        }
        for (i, d) in disks.iter().enumerate() {
            if adopt_of(d).is_none_or(str::is_empty) {
                return Err(GanetiError::wrong_input(format!(
                    "Invalid disk adoption value for disk {i}"
                )));
            }
        }
    } else if MUST_ADOPT.contains(&template) && !disks.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "Disk template {template} requires disk adoption, but no 'adopt' parameter given"
        )));
    }
    Ok(())
}

/// The planned disks of a new instance.
pub(super) struct DiskPlan {
    pub disks: Vec<Disk>,
    /// For adopted LVs, the `logical_id` each disk has before the rename
    /// to its generated name (same order as `disks`); empty otherwise.
    pub adopt_from: Vec<Value>,
    /// Whether the disks are adopted (nothing to create).
    pub adopted: bool,
}

/// The instance (by name) owning a configured disk matching `pred`.
fn owner(cfg: &ConfigData, pred: impl Fn(&Disk) -> bool) -> Option<String> {
    cfg.instances.values().find_map(|inst| {
        cfg.instance_disks(inst)
            .into_iter()
            .any(&pred)
            .then(|| inst.name.clone())
    })
}

fn lv_key(id: &Value) -> Option<String> {
    match id.as_array().map(Vec::as_slice) {
        Some([Value::String(vg), Value::String(lv)]) => Some(format!("{vg}/{lv}")),
        _ => None,
    }
}

/// Ganeti's `os.path.abspath` on an adoption path (relative paths are
/// left for the node to refuse).
fn normalize_dev(p: &str) -> String {
    ganeti_node::storage::blockdev::normalize(std::path::Path::new(p))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| p.to_string())
}

/// Plan the disks (Ganeti's `ComputeDisks`, the adoption prerequisites
/// and `GenerateDiskTemplate`), asking the node where it must.
pub(super) fn plan(
    ctx: &OpCtx<'_>,
    cfg: &ConfigData,
    op: &Dict,
    template: &str,
    inst_name: &str,
    pnode: &Node,
) -> Result<DiskPlan, GanetiError> {
    let dicts = disk_dicts(op);
    let adopted = dicts.iter().any(|d| d.contains_key("adopt"));
    let kind = DiskTemplate::parse(template);
    let default_vg = cfg
        .cluster
        .volume_group_name
        .clone()
        .filter(|v| !v.is_empty());
    let mut sizes = Vec::with_capacity(dicts.len());
    let mut vgs = Vec::with_capacity(dicts.len());
    for (i, d) in dicts.iter().enumerate() {
        sizes.push(match (adopted, d.contains_key("size")) {
            (true, false) => 0,
            _ => disk_size(d, i)?,
        });
        let vg = d
            .get("vg")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .or_else(|| default_vg.clone());
        if kind == Some(DiskTemplate::Plain) && vg.is_none() {
            return Err(GanetiError::wrong_input(format!(
                "No volume group given for disk {i} and the cluster has none set"
            )));
        }
        vgs.push(vg.unwrap_or_default());
    }

    let mut adopt_from = Vec::new();
    let mut adopt_paths = Vec::new();
    match kind {
        Some(DiskTemplate::Plain) if adopted => {
            let keys: Vec<String> = dicts
                .iter()
                .zip(&vgs)
                .map(|(d, vg)| format!("{vg}/{}", adopt_of(d).unwrap_or_default()))
                .collect();
            if keys.iter().collect::<BTreeSet<_>>().len() != keys.len() {
                return Err(GanetiError::wrong_input(
                    "Duplicate volume names given for adoption",
                ));
            }
            for k in &keys {
                let used = owner(cfg, |d| {
                    d.dev_type == "plain" && lv_key(&d.logical_id).as_deref() == Some(k)
                });
                if used.is_some() {
                    return Err(GanetiError::prereq(
                        format!("LV named {k} used by another instance"),
                        ErrorClass::NotUnique,
                    ));
                }
            }
            let lvs = ctx.node().lv_list(&[]).map_err(|e| {
                GanetiError::prereq(
                    format!("Cannot get LV information from node {}: {e}", pnode.name),
                    ErrorClass::Environ,
                )
            })?;
            let missing: Vec<&str> = keys
                .iter()
                .filter(|k| !lvs.contains_key(*k))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(GanetiError::wrong_input(format!(
                    "Missing logical volume(s): {}",
                    missing.join(", ")
                )));
            }
            let online: Vec<&str> = keys
                .iter()
                .filter(|k| lvs[*k].online)
                .map(String::as_str)
                .collect();
            if !online.is_empty() {
                return Err(GanetiError::wrong_state(format!(
                    "Online logical volumes found, cannot adopt: {}",
                    online.join(", ")
                )));
            }
            for (i, k) in keys.iter().enumerate() {
                sizes[i] = lvs[k].size_mib;
                let (vg, lv) = k.split_once('/').unwrap_or_default();
                adopt_from.push(json!([vg, lv]));
            }
        }
        Some(DiskTemplate::Blockdev) => {
            adopt_paths = dicts
                .iter()
                .map(|d| normalize_dev(adopt_of(d).unwrap_or_default()))
                .collect();
            sizes = adopt_blockdevs(ctx, cfg, pnode, &adopt_paths)?;
        }
        _ => {}
    }

    if kind == Some(DiskTemplate::Plain) && !adopted {
        check_vg_space(ctx, pnode, &vgs, &sizes)?;
    }

    let now = now_f64();
    let dir = common::instance_file_dir(cfg, inst_name, template);
    let mut disks = Vec::with_capacity(dicts.len());
    for (i, d) in dicts.iter().enumerate() {
        let logical_id = match kind {
            Some(DiskTemplate::File) | Some(DiskTemplate::Sharedfile) => {
                let driver = str_param(op, "file_driver").unwrap_or("loop");
                let file = dir.join(format!("{}.{template}.disk{i}", ganeti_types::new_uuid()));
                json!([driver, file.display().to_string()])
            }
            Some(DiskTemplate::Plain) => {
                json!([vgs[i], format!("{}.disk{i}", ganeti_types::new_uuid())])
            }
            Some(DiskTemplate::Blockdev) => json!(["manual", adopt_paths[i]]),
            _ => Value::Null,
        };
        disks.push(Disk {
            uuid: ganeti_types::new_uuid(),
            name: d
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("none")),
            dev_type: template.to_string(),
            logical_id,
            children: vec![],
            nodes: vec![pnode.uuid.clone()],
            iv_name: format!("disk/{i}"),
            size: sizes[i],
            mode: d
                .get("mode")
                .and_then(Value::as_str)
                .unwrap_or("rw")
                .to_string(),
            params: Dict::new(),
            spindles: d.get("spindles").and_then(Value::as_u64).map(|x| x as u32),
            serial_no: 1,
            ctime: now,
            mtime: now,
        });
    }
    Ok(DiskPlan {
        disks,
        adopt_from,
        adopted,
    })
}

/// Adoption checks of block devices; their sizes from the node.
fn adopt_blockdevs(
    ctx: &OpCtx<'_>,
    cfg: &ConfigData,
    pnode: &Node,
    paths: &[String],
) -> Result<Vec<u64>, GanetiError> {
    if paths.iter().collect::<BTreeSet<_>>().len() != paths.len() {
        return Err(GanetiError::wrong_input(
            "Duplicate disk names given for adoption",
        ));
    }
    // devices of other instances on this node, to refuse sharing them
    let mut existing: Vec<(String, String)> = Vec::new();
    for inst in cfg.instances.values() {
        if inst.primary_node != pnode.uuid {
            continue;
        }
        for d in cfg.instance_disks(inst) {
            if d.dev_type != "blockdev" {
                continue;
            }
            if let Some(p) = d.logical_id.get(1).and_then(Value::as_str) {
                existing.push((normalize_dev(p), inst.name.clone()));
            }
        }
    }
    for p in paths {
        if let Some((_, owner)) = existing.iter().find(|(e, _)| e == p) {
            return Err(GanetiError::prereq(
                format!("Block device {p} is already used by instance {owner}"),
                ErrorClass::NotUnique,
            ));
        }
    }
    let mut ask: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    ask.extend(existing.iter().map(|(p, _)| PathBuf::from(p)));
    let probed = ctx.node().blockdev_probe(&ask).map_err(|e| {
        GanetiError::prereq(
            format!(
                "Cannot get block device information from node {}: {e}",
                pnode.name
            ),
            ErrorClass::Environ,
        )
    })?;
    if probed.len() != ask.len() {
        return Err(GanetiError::prereq(
            format!(
                "Cannot get block device information from node {}: wrong number of answers",
                pnode.name
            ),
            ErrorClass::Environ,
        ));
    }
    let (wanted, others) = probed.split_at(paths.len());
    let mut outside: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (p, got) in paths.iter().zip(wanted) {
        if let BlockDevProbeState::OutsideRoot { root } = &got.state {
            let mut root = root.display().to_string();
            if !root.ends_with('/') {
                root.push('/');
            }
            outside.entry(root).or_default().push(p.clone());
        }
    }
    if let Some((root, bad)) = outside.into_iter().next() {
        return Err(GanetiError::wrong_input(format!(
            "Device node(s) {} lie outside {root} and cannot be adopted",
            bad.join(", ")
        )));
    }
    let missing: Vec<&str> = paths
        .iter()
        .zip(wanted)
        .filter(|(_, g)| g.state == BlockDevProbeState::Missing)
        .map(|(p, _)| p.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "Missing block device(s): {}",
            missing.join(", ")
        )));
    }
    // the same device under another name (two links to one disk)
    let numbers = |s: &BlockDevProbeState| match s {
        BlockDevProbeState::Device { major, minor, .. } => Some((*major, *minor)),
        _ => None,
    };
    let mut seen = BTreeMap::new();
    for (p, got) in paths.iter().zip(wanted) {
        if let Some(n) = numbers(&got.state) {
            if let Some(first) = seen.insert(n, p) {
                return Err(GanetiError::wrong_input(format!(
                    "Duplicate disk names given for adoption: {first} and {p} are the same device"
                )));
            }
            if let Some(((_, owner), _)) = existing
                .iter()
                .zip(others)
                .find(|(_, o)| numbers(&o.state) == Some(n))
            {
                return Err(GanetiError::prereq(
                    format!("Block device {p} is already used by instance {owner}"),
                    ErrorClass::NotUnique,
                ));
            }
        }
    }
    Ok(wanted
        .iter()
        .map(|g| match g.state {
            BlockDevProbeState::Device { size_mib, .. } => size_mib,
            _ => 0,
        })
        .collect())
}

/// Free space in each volume group (Ganeti's `CheckNodesFreeDiskPerVG`).
fn check_vg_space(
    ctx: &OpCtx<'_>,
    pnode: &Node,
    vgs: &[String],
    sizes: &[u64],
) -> Result<(), GanetiError> {
    let mut req: BTreeMap<&str, u64> = BTreeMap::new();
    for (vg, size) in vgs.iter().zip(sizes) {
        *req.entry(vg.as_str()).or_default() += size;
    }
    for (vg, requested) in req {
        let unit = StorageUnit::LvmVg {
            vg: vg.to_string(),
            exclusive_storage: false,
        };
        let free = match ctx.node().node_info(&[], std::slice::from_ref(&unit)) {
            Ok(info) => info.storage.first().map(|s| s.storage_free),
            Err(NodeError::VgNotFound { .. }) => None,
            Err(e) => {
                return Err(GanetiError::prereq(
                    format!(
                        "Cannot get current information from node {}: {e}",
                        pnode.name
                    ),
                    ErrorClass::Environ,
                ))
            }
        };
        let Some(free) = free else {
            return Err(GanetiError::prereq(
                format!(
                    "Can't compute free disk space on node {} for vg {vg}, result was 'None'",
                    pnode.name
                ),
                ErrorClass::Environ,
            ));
        };
        if requested > free {
            return Err(GanetiError::prereq(
                format!(
                    "Not enough disk space on target node {} vg {vg}: required {requested} MiB, available {free} MiB",
                    pnode.name
                ),
                ErrorClass::NoRes,
            ));
        }
    }
    Ok(())
}

/// What was done on the node, to undo it if the creation fails later.
#[derive(Default)]
pub(super) struct Created {
    /// Disks created by us (removed on undo).
    made: Vec<DiskSpec>,
    /// Adopted LVs renamed: the disk under its new id, and the old id.
    renamed: Vec<(DiskSpec, Value)>,
    /// The instance's file storage directory, if we created it.
    dir: Option<PathBuf>,
}

impl Created {
    /// Undo everything, best effort: remove what we made, give adopted
    /// LVs their names back; adopted devices are left as they are.
    pub fn undo(self, ctx: &OpCtx<'_>) {
        for d in &self.made {
            if let Err(e) = ctx.node().blockdev_remove(d) {
                tracing::warn!(disk = %d.iv_name, error = %e, "cannot remove a disk of a failed creation");
            }
        }
        for (d, old) in &self.renamed {
            if let Err(e) = ctx.node().blockdev_rename(d, old) {
                tracing::warn!(disk = %d.iv_name, error = %e, "cannot give an adopted LV its name back");
            }
        }
        if let Some(dir) = &self.dir {
            let _ = ctx.node().file_storage_dir_remove(dir);
        }
    }
}

/// Create (or adopt) the planned disks on the node; on failure undo what
/// was done and say which disk failed.
pub(super) fn create(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    inst_name: &str,
    template: &str,
    plan: &DiskPlan,
    node_name: &str,
) -> Result<Created, GanetiError> {
    let mut done = Created::default();
    if !plan.adopted {
        ctx.log_step("creating instance disks...");
    }
    if plan.disks.is_empty() {
        return Ok(done);
    }
    let spec = |d: &Disk| DiskSpec::from_disk(d).map_err(|e| GanetiError::OpExec(e.to_string()));
    if !plan.adopt_from.is_empty() {
        for (d, old) in plan.disks.iter().zip(&plan.adopt_from) {
            let new = spec(d)?;
            let mut before = new.clone();
            before.logical_id = old.clone();
            if let Err(e) = ctx.node().blockdev_rename(&before, &d.logical_id) {
                done.undo(ctx);
                return Err(GanetiError::OpExec(format!(
                    "Failed to rename adoped LVs: {e}"
                )));
            }
            done.renamed.push((new, old.clone()));
        }
        return Ok(done);
    }
    if matches!(template, "file" | "sharedfile") {
        let dir = common::instance_file_dir(cfg, inst_name, template);
        ctx.node()
            .file_storage_dir_create(&dir)
            .map_err(|e| GanetiError::OpExec(format!("Can't create instance disks: {e}")))?;
        done.dir = Some(dir);
    }
    for d in &plan.disks {
        let s = spec(d)?;
        if let Err(e) = ctx.node().blockdev_create(&s) {
            done.undo(ctx);
            return Err(GanetiError::OpExec(format!(
                "Can't create block device {} on node {node_name}: {e}",
                d.iv_name
            )));
        }
        // adopted devices are never removed on undo
        if !plan.adopted {
            done.made.push(s);
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn adoption_arguments() {
        let msg = |v: Value, t: &str| {
            check_adoption(&op(v), t)
                .err()
                .map(|e| e.message().to_string())
        };
        assert_eq!(
            msg(json!({"disks": [{"adopt": "a"}, {"size": 1}]}), "plain").as_deref(),
            Some("Either all disks are adopted or none is")
        );
        assert_eq!(
            msg(json!({"disks": [{"adopt": "a"}]}), "file").as_deref(),
            Some("Disk adoption is not supported for the 'file' disk template")
        );
        assert_eq!(
            msg(json!({"disks": [{"size": 1}]}), "blockdev").as_deref(),
            Some("Disk template blockdev requires disk adoption, but no 'adopt' parameter given")
        );
        assert_eq!(
            msg(
                json!({"disks": [{"adopt": "a"}], "iallocator": "hail"}),
                "plain"
            )
            .as_deref(),
            Some("Disk adoption not allowed with an iallocator script")
        );
        assert_eq!(
            msg(json!({"disks": [{"adopt": ""}]}), "plain").as_deref(),
            Some("Invalid disk adoption value for disk 0")
        );
        assert_eq!(msg(json!({"disks": [{"adopt": "a"}]}), "plain"), None);
        assert_eq!(msg(json!({"disks": [{"size": 1}]}), "plain"), None);
        check_size(&op(json!({"adopt": "x"})), 0).unwrap();
        assert!(check_size(&op(json!({"adopt": "x", "size": "junk"})), 0).is_err());
        assert!(check_size(&op(json!({})), 0).is_err());
    }

    #[test]
    fn helpers() {
        assert_eq!(lv_key(&json!(["xenvg", "a"])).as_deref(), Some("xenvg/a"));
        assert_eq!(lv_key(&json!(["loop", 1])), None);
        assert_eq!(normalize_dev("/dev/disk/../loop3"), "/dev/loop3");
        assert_eq!(normalize_dev("loop3"), "loop3");
    }
}
