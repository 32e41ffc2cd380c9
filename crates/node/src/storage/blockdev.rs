//! The `blockdev` template: disks are existing block devices, adopted.
//!
//! Ganeti's `PersistentBlockDevice`: the operator hands over a device node
//! (a disk, a partition, a multipath device) and Ganeti only ever uses it.
//! The `logical_id` is `["manual", "/dev/..."]`. Creating is adoption: it
//! only checks that the device is there and is a block device; removing
//! leaves the device and its data alone (it was not ours to begin with);
//! growing is refused; the size is the device's own, read from sysfs
//! (`/sys/dev/block/<major>:<minor>/size`, 512-byte sectors), so no ioctl
//! is needed.
//!
//! Two roots matter, as in Ganeti. Any device the node acts on must
//! resolve (symlinks followed) to a node below `/dev/`. New adoptions are
//! further restricted to paths below the *adoptable root*, Ganeti's
//! `/dev/disk/` (the persistent udev names: a `/dev/sdb` may be another
//! disk after a reboot, `/dev/disk/by-id/...` may not); [`probe`] applies
//! it. The root is configurable because machines without udev (like the
//! one these tests run on) have no `/dev/disk` at all.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use ganeti_types::DiskTemplate;
use serde_json::{json, Value};

use crate::info::{BlockDevProbe, BlockDevProbeState, BlockDevStatus};
use crate::spec::{DiskPath, DiskSpec};
use crate::storage::Storage;
use crate::NodeError;

/// Ganeti's `ADOPTABLE_BLOCKDEV_ROOT`.
pub const DEFAULT_ADOPTABLE_ROOT: &str = "/dev/disk";
/// Ganeti's `BLOCKDEV_DRIVER_MANUAL`, the only driver of the template.
pub const DRIVER_MANUAL: &str = "manual";

const MIB: u64 = 1024 * 1024;

/// The `logical_id` of an adopted device.
pub fn logical_id(path: &Path) -> Value {
    json!([DRIVER_MANUAL, path.to_string_lossy()])
}

/// Ganeti's `os.path.abspath` for absolute paths: `.` and repeated
/// slashes dropped, `..` taken lexically. `None` for a relative path.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() {
        return None;
    }
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

/// A path resolves below `/dev/`.
fn resolves_below_dev(path: &Path) -> Result<(), NodeError> {
    let real = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if real.starts_with("/dev") && real != Path::new("/dev") {
        Ok(())
    } else {
        Err(NodeError::BlockDevOutsideDev { resolved: real })
    }
}

/// Device numbers of the block device at `path` (symlinks followed);
/// `None` if nothing is there.
fn block_device(path: &Path) -> Result<Option<(u32, u32)>, NodeError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(NodeError::BlockDevStat {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    if !meta.file_type().is_block_device() {
        return Err(NodeError::NotABlockDevice {
            path: path.to_path_buf(),
        });
    }
    let rdev = meta.rdev();
    Ok(Some((rustix::fs::major(rdev), rustix::fs::minor(rdev))))
}

/// Size of a block device in MiB (rounded down), from sysfs.
pub fn device_size_mib(sysfs: &Path, major: u32, minor: u32) -> Result<u64, NodeError> {
    let file = sysfs.join(format!("dev/block/{major}:{minor}/size"));
    let text = fs::read_to_string(&file).map_err(|source| NodeError::BlockDevSize {
        path: file.clone(),
        source,
    })?;
    let sectors: u64 = text.trim().parse().map_err(|_| NodeError::BlockDevSize {
        path: file.clone(),
        source: io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not a number: {text:?}"),
        ),
    })?;
    Ok(sectors.saturating_mul(512) / MIB)
}

/// Adopted block devices.
#[derive(Debug, Clone)]
pub struct BlockDevStorage {
    sysfs: PathBuf,
}

impl Default for BlockDevStorage {
    fn default() -> Self {
        BlockDevStorage {
            sysfs: PathBuf::from("/sys"),
        }
    }
}

impl BlockDevStorage {
    /// The driver reading sizes from the real `/sys`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The device path of a disk: `["manual", "/dev/..."]`, resolving
    /// below `/dev/`.
    fn device_path(disk: &DiskSpec) -> Result<PathBuf, NodeError> {
        let bad = |reason| NodeError::BadLogicalId {
            disk: disk.uuid.clone(),
            logical_id: disk.logical_id.to_string(),
            reason,
        };
        let arr = disk
            .logical_id
            .as_array()
            .ok_or_else(|| bad("expected [driver, path]"))?;
        let [driver, path] = arr.as_slice() else {
            return Err(bad("expected [driver, path]"));
        };
        if driver.as_str() != Some(DRIVER_MANUAL) {
            return Err(bad("unknown block device driver (expected manual)"));
        }
        let path = path
            .as_str()
            .ok_or_else(|| bad("the path is not a string"))?;
        let path = Path::new(path);
        if !path.is_absolute() || path.components().any(|c| c == Component::ParentDir) {
            return Err(bad("the path must be absolute, without '..'"));
        }
        resolves_below_dev(path)?;
        Ok(path.to_path_buf())
    }

    /// The device numbers; a missing device is an error.
    fn existing(path: &Path) -> Result<(u32, u32), NodeError> {
        block_device(path)?.ok_or_else(|| NodeError::BlockDevNotFound {
            path: path.to_path_buf(),
        })
    }
}

impl Storage for BlockDevStorage {
    fn template(&self) -> DiskTemplate {
        DiskTemplate::Blockdev
    }

    fn create(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        let path = Self::device_path(disk)?;
        Self::existing(&path)?;
        tracing::info!(path = %path.display(), "adopted block device");
        Ok(DiskPath { dev_path: path })
    }

    fn remove(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        // never destroy what was adopted
        let path = Self::device_path(disk)?;
        tracing::info!(path = %path.display(), "released adopted block device (left as is)");
        Ok(())
    }

    fn grow(&self, disk: &DiskSpec, _amount_mib: u64, _dryrun: bool) -> Result<(), NodeError> {
        Self::device_path(disk)?;
        Err(NodeError::BlockDevGrowUnsupported)
    }

    fn assemble(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        let path = Self::device_path(disk)?;
        Self::existing(&path)?;
        Ok(DiskPath { dev_path: path })
    }

    fn shutdown(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        Self::device_path(disk).map(|_| ())
    }

    fn find(&self, disk: &DiskSpec) -> Result<Option<BlockDevStatus>, NodeError> {
        let path = Self::device_path(disk)?;
        let (major, minor) = match block_device(&path) {
            Ok(Some(n)) => n,
            Ok(None) | Err(NodeError::NotABlockDevice { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(BlockDevStatus {
            dev_path: path,
            major: Some(major),
            minor: Some(minor),
            size_mib: device_size_mib(&self.sysfs, major, minor)?,
            sync_percent: None,
            is_degraded: false,
        }))
    }
}

/// What the node knows of devices an instance wants to adopt (Ganeti's
/// root check plus `GetBlockDevSizes`), in request order.
pub fn probe(root: &Path, sysfs: &Path, devices: &[PathBuf]) -> Vec<BlockDevProbe> {
    devices
        .iter()
        .map(|d| {
            let outside = |root: &Path| BlockDevProbeState::OutsideRoot {
                root: root.to_path_buf(),
            };
            let Some(path) = normalize(d) else {
                return BlockDevProbe {
                    path: d.clone(),
                    state: outside(root),
                };
            };
            let state = if !path.starts_with(root) || path == root {
                outside(root)
            } else if resolves_below_dev(&path).is_err() {
                outside(Path::new("/dev"))
            } else {
                match block_device(&path) {
                    Ok(Some((major, minor))) => match device_size_mib(sysfs, major, minor) {
                        Ok(size_mib) => BlockDevProbeState::Device {
                            size_mib,
                            major,
                            minor,
                        },
                        Err(e) => {
                            tracing::warn!(path = %path.display(), error = %e, "Cannot get size for block device");
                            BlockDevProbeState::Missing
                        }
                    },
                    Ok(None) | Err(_) => BlockDevProbeState::Missing,
                }
            };
            BlockDevProbe { path, state }
        })
        .collect()
}

#[cfg(test)]
mod tests;
