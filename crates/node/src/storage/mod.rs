//! Storage: one driver per disk template behind the [`Storage`] trait.
//!
//! Mirrors Ganeti's `bdev` classes reduced to what the node layer calls:
//! create, remove, grow, assemble (activate), shutdown (deactivate) and
//! find. A driver gets the whole [`DiskSpec`] and interprets the
//! template-specific `logical_id` itself. `diskless` has no driver: its
//! instances have no disks, so any block device call for it is an error.
//! Later templates (plain, blockdev, drbd, ...) are one more module and one
//! line in [`StorageDrivers::new`].

pub mod file;
pub mod policy;

use std::fmt::Debug;

use ganeti_types::DiskTemplate;

use crate::info::{BlockDevStatus, StorageInfo, StorageType, StorageUnit};
use crate::spec::{DiskPath, DiskSpec};
use crate::NodeError;

pub use file::FileStorage;
pub use policy::FileStoragePolicy;

/// The block devices of one disk template on this node.
pub trait Storage: Send + Sync + Debug {
    /// The template this driver implements.
    fn template(&self) -> DiskTemplate;

    /// Create the device at `disk.size_mib`; refuses to overwrite.
    fn create(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError>;

    /// Remove the device; a device that is already gone is not an error.
    fn remove(&self, disk: &DiskSpec) -> Result<(), NodeError>;

    /// Grow the device by `amount_mib`; with `dryrun` only check it could.
    fn grow(&self, disk: &DiskSpec, amount_mib: u64, dryrun: bool) -> Result<(), NodeError>;

    /// Make the device usable and return its path; fails if it is missing.
    fn assemble(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError>;

    /// Make the device unusable (the inverse of assemble).
    fn shutdown(&self, disk: &DiskSpec) -> Result<(), NodeError>;

    /// The device's status, `None` if it does not exist on this node.
    fn find(&self, disk: &DiskSpec) -> Result<Option<BlockDevStatus>, NodeError>;
}

/// The storage drivers of this node, looked up by template.
#[derive(Debug)]
pub struct StorageDrivers {
    drivers: Vec<Box<dyn Storage>>,
}

impl StorageDrivers {
    /// Every template this release implements.
    pub fn new(file_policy: FileStoragePolicy) -> Self {
        StorageDrivers {
            drivers: vec![Box::new(FileStorage::new(DiskTemplate::File, file_policy))],
        }
    }

    /// Use exactly these drivers (tests, embedding).
    pub fn from_list(drivers: Vec<Box<dyn Storage>>) -> Self {
        StorageDrivers { drivers }
    }

    /// The driver for a disk.
    pub fn for_disk(&self, disk: &DiskSpec) -> Result<&dyn Storage, NodeError> {
        if disk.template == DiskTemplate::Diskless {
            return Err(NodeError::Diskless {
                disk: disk.uuid.clone(),
            });
        }
        self.drivers
            .iter()
            .find(|d| d.template() == disk.template)
            .map(|d| d.as_ref())
            .ok_or(NodeError::UnsupportedTemplate {
                template: disk.template.as_str(),
            })
    }
}

/// Size and free space of a storage unit.
pub fn space_info(unit: &StorageUnit) -> Result<StorageInfo, NodeError> {
    match unit {
        StorageUnit::File { path } => file::space_info(StorageType::File, path),
        StorageUnit::SharedFile { path } => file::space_info(StorageType::SharedFile, path),
        StorageUnit::LvmVg { .. } => Err(NodeError::UnsupportedStorage {
            storage_type: unit.storage_type().as_str(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn disk(template: DiskTemplate) -> DiskSpec {
        DiskSpec {
            uuid: "d1".into(),
            name: None,
            iv_name: "disk/0".into(),
            template,
            size_mib: 1,
            logical_id: json!(null),
            mode: crate::spec::DiskMode::Rw,
            params: Default::default(),
        }
    }

    #[test]
    fn templates_dispatch_or_refuse() {
        let t = tempfile::tempdir().unwrap();
        let d = StorageDrivers::new(FileStoragePolicy::fixed(t.path(), vec![t.path().into()]));
        assert_eq!(
            d.for_disk(&disk(DiskTemplate::File)).unwrap().template(),
            DiskTemplate::File
        );
        assert_eq!(
            d.for_disk(&disk(DiskTemplate::Diskless))
                .unwrap_err()
                .to_string(),
            "Disk d1 has template 'diskless', which has no block devices"
        );
        assert_eq!(
            d.for_disk(&disk(DiskTemplate::Plain))
                .unwrap_err()
                .to_string(),
            "Disk template 'plain' is not supported by this release"
        );
    }

    #[test]
    fn lvm_space_is_not_supported_yet() {
        let e = space_info(&StorageUnit::LvmVg {
            vg: "xenvg".into(),
            exclusive_storage: false,
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Storage type 'lvm-vg' is not supported by this release"
        );
    }
}
