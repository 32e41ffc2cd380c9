//! Snapshots of disks for a live export (Ganeti's `blockdev_snapshot`).
//!
//! Why this exists and what differs from Ganeti: an export of a running
//! instance reads a point-in-time copy of each disk instead of the disk
//! itself. Ganeti 3.0.2 snapshots only `plain` (and the LV below `drbd`)
//! and `ext` disks (`DTS_SNAPSHOT_CAPABLE`); `plain` is done the same way
//! here (`lvcreate -s` with the full disk size, an older snapshot of the
//! same name removed first). Ganeti refuses `file`/`sharedfile`; ganeti-rs
//! instead makes a sparse copy next to the disk file, because file disks
//! are the common case on a single node. That copy is taken while the
//! guest may write, so it is only as consistent as the guest's own
//! crash-safety (like a disk after power loss, minus writes that raced
//! the copy); callers that need more shut the instance down first, as
//! Ganeti does for templates without snapshots. Other templates are
//! refused with Ganeti's message.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ganeti_types::DiskTemplate;

use super::lvm::{dev_path, parse_logical_id, report, validate_name, LvmTools};
use crate::spec::DiskSpec;
use crate::NodeError;

/// Copy unit of the sparse copy; all-zero chunks become holes.
const CHUNK: usize = 1 << 20;

/// Create a snapshot of `disk` named `snap_name` (see the module docs);
/// `dev_path` is where the disk is on this node. Returns its path.
pub fn create(
    disk: &DiskSpec,
    dev: &Path,
    snap_name: &str,
    lvm: &LvmTools,
) -> Result<PathBuf, NodeError> {
    match disk.template {
        DiskTemplate::File | DiskTemplate::Sharedfile => {
            let snap = file_snapshot_path(disk, dev, snap_name)?;
            sparse_copy(dev, &snap)?;
            tracing::info!(disk = %disk.uuid, snapshot = %snap.display(), "created file snapshot");
            Ok(snap)
        }
        DiskTemplate::Plain => lvm_snapshot(disk, snap_name, lvm),
        t => Err(unsupported(disk, t)),
    }
}

/// Remove a snapshot made by [`create`]; `snapshot` must be one of this
/// disk's (next to its file, or an LV of its volume group).
pub fn remove(disk: &DiskSpec, snapshot: &Path, lvm: &LvmTools) -> Result<(), NodeError> {
    let name = snapshot
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match disk.template {
        DiskTemplate::File | DiskTemplate::Sharedfile => {
            let expected = file_snapshot_path(disk, disk.file_path()?, &name)?;
            if expected != snapshot {
                return Err(invalid(disk, snapshot, "not next to the disk file"));
            }
            match fs::symlink_metadata(snapshot) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(disk_io("stat", snapshot, e)),
                Ok(m) if !m.is_file() => Err(invalid(disk, snapshot, "not a regular file")),
                Ok(_) => {
                    fs::remove_file(snapshot).map_err(|e| disk_io("remove", snapshot, e))?;
                    tracing::info!(disk = %disk.uuid, snapshot = %snapshot.display(), "removed file snapshot");
                    Ok(())
                }
            }
        }
        DiskTemplate::Plain => {
            let (vg, lv) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
            validate_name(&name)?;
            if dev_path(&vg, &name) != snapshot || name == lv {
                return Err(invalid(disk, snapshot, "not a snapshot LV of the disk"));
            }
            let o = lvm.run("lvremove", &["-f", &format!("{vg}/{name}")])?;
            if !o.success() {
                return Err(NodeError::LvRemove {
                    reason: o.fail_reason(),
                    output: o.output(),
                });
            }
            Ok(())
        }
        t => Err(unsupported(disk, t)),
    }
}

/// Refuse templates without snapshots, before looking for the disk.
pub fn check_supported(disk: &DiskSpec) -> Result<(), NodeError> {
    match disk.template {
        DiskTemplate::File | DiskTemplate::Sharedfile | DiskTemplate::Plain => Ok(()),
        t => Err(unsupported(disk, t)),
    }
}

fn unsupported(disk: &DiskSpec, t: DiskTemplate) -> NodeError {
    // a DRBD logical id ends with the shared secret: name the disk instead
    let logical_id = if t == DiskTemplate::Drbd {
        disk.iv_name.clone()
    } else {
        disk.logical_id.to_string()
    };
    NodeError::SnapshotUnsupported {
        logical_id,
        template: t.as_str(),
    }
}

fn invalid(disk: &DiskSpec, snap: &Path, reason: &'static str) -> NodeError {
    NodeError::InvalidSnapshot {
        disk: disk.uuid.clone(),
        name: snap.display().to_string(),
        reason,
    }
}

fn disk_io(op: &'static str, path: &Path, source: io::Error) -> NodeError {
    NodeError::DiskIo {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// The snapshot file of a file disk at `dev`: in the disk's directory,
/// named by the last component of `snap_name` (callers may pass the
/// disk's path plus a suffix, as Ganeti's `<lv>.snap` naming gives).
fn file_snapshot_path(disk: &DiskSpec, dev: &Path, snap_name: &str) -> Result<PathBuf, NodeError> {
    let base = Path::new(snap_name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let snap_given = Path::new(snap_name);
    if base.is_empty() || base == "." || base == ".." || snap_name.ends_with('/') {
        return Err(invalid(disk, snap_given, "not a file name"));
    }
    let dir = dev
        .parent()
        .ok_or_else(|| invalid(disk, snap_given, "the disk has no directory"))?;
    if snap_given.is_absolute() && snap_given.parent() != Some(dir) {
        return Err(invalid(disk, snap_given, "not next to the disk file"));
    }
    let snap = dir.join(&base);
    if snap == dev {
        return Err(invalid(disk, snap_given, "the disk file itself"));
    }
    Ok(snap)
}

/// Copy `src` to `dst` (0600), leaving holes where `src` reads as zeros;
/// an older `dst` file is replaced, a partial copy removed on failure.
fn sparse_copy(src: &Path, dst: &Path) -> Result<(), NodeError> {
    let mut input = File::open(src).map_err(|e| disk_io("open", src, e))?;
    let meta = input.metadata().map_err(|e| disk_io("stat", src, e))?;
    if !meta.is_file() && !meta.file_type().is_block_device() {
        return Err(disk_io(
            "snapshot",
            src,
            io::Error::other("not a regular file"),
        ));
    }
    match fs::symlink_metadata(dst) {
        Ok(m) if m.is_file() => fs::remove_file(dst).map_err(|e| disk_io("remove", dst, e))?,
        Ok(_) => {
            return Err(disk_io(
                "snapshot to",
                dst,
                io::Error::from(io::ErrorKind::AlreadyExists),
            ))
        }
        Err(_) => {}
    }
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dst)
        .map_err(|e| disk_io("create", dst, e))?;
    let copied = copy_sparse(&mut input, &mut out).map_err(|e| disk_io("copy to", dst, e));
    if copied.is_err() {
        drop(out);
        let _ = fs::remove_file(dst);
    }
    copied
}

fn copy_sparse(input: &mut File, out: &mut File) -> io::Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let mut len: u64 = 0;
    loop {
        let mut filled = 0;
        while filled < CHUNK {
            match input.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled == 0 {
            break;
        }
        let chunk = &buf[..filled];
        if chunk.iter().all(|b| *b == 0) {
            out.seek(SeekFrom::Current(filled as i64))?;
        } else {
            out.write_all(chunk)?;
        }
        len += filled as u64;
        if filled < CHUNK {
            break;
        }
    }
    out.set_len(len)?;
    out.sync_all()
}

/// Ganeti's `LogicalVolume.Snapshot`: remove an older snapshot of that
/// name, check the free space, `lvcreate -L<size>m -s -n<name> <dev>`.
fn lvm_snapshot(disk: &DiskSpec, snap_name: &str, lvm: &LvmTools) -> Result<PathBuf, NodeError> {
    let (vg, lv) = parse_logical_id(&disk.uuid, &disk.logical_id)?;
    validate_name(snap_name)?;
    if snap_name == lv {
        return Err(invalid(disk, Path::new(snap_name), "the disk's own LV"));
    }
    let all = report::lvs(lvm)?;
    if all.contains_key(&(vg.clone(), snap_name.to_string())) {
        let o = lvm.run("lvremove", &["-f", &format!("{vg}/{snap_name}")])?;
        if !o.success() {
            tracing::warn!(vg, snap_name, output = %o.output(), "cannot remove an older snapshot");
        }
    }
    let free = report::vgs(lvm)?
        .into_iter()
        .find(|v| v.name == vg)
        .map(|v| v.free_mib)
        .ok_or_else(|| NodeError::VgNotFound { vg: vg.clone() })?;
    if free < disk.size_mib {
        return Err(NodeError::NotEnoughVgSpace {
            vg,
            required: disk.size_mib,
            available: free,
        });
    }
    let origin = dev_path(&vg, &lv);
    let o = lvm.run(
        "lvcreate",
        &[
            &format!("-L{}m", disk.size_mib),
            "-s",
            &format!("-n{snap_name}"),
            &origin.to_string_lossy(),
        ],
    )?;
    if !o.success() {
        return Err(NodeError::LvCreate {
            reason: o.fail_reason(),
            output: o.output(),
        });
    }
    tracing::info!(vg, lv, snap_name, "created LVM snapshot");
    Ok(dev_path(&vg, snap_name))
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
