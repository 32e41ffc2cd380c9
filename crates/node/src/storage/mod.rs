//! Storage: one driver per disk template behind the [`Storage`] trait.
//!
//! Mirrors Ganeti's `bdev` classes reduced to what the node layer calls:
//! create, remove, grow, assemble (activate), shutdown (deactivate), find
//! and rename. A driver gets the whole [`DiskSpec`] and interprets the
//! template-specific `logical_id` itself. `diskless` has no driver: its
//! instances have no disks, so any block device call for it is an error.
//! Templates: `file` and `sharedfile` ([`mod@file`]: the same driver, the
//! master picks the directory), `plain` ([`lvm`], through the LVM tools),
//! `blockdev` ([`blockdev`], adopted devices). Space reports and storage
//! listings for the master are here too ([`StorageDrivers::space_info`],
//! [`listing`]).

pub mod blockdev;
pub mod file;
pub mod listing;
pub mod lvm;
pub mod policy;
pub mod snapshot;

use std::fmt::Debug;

use ganeti_types::DiskTemplate;
use serde_json::Value;

use crate::info::{
    BlockDevStatus, StorageEntry, StorageInfo, StorageListRequest, StorageType, StorageUnit,
};
use crate::spec::{DiskPath, DiskSpec};
use crate::NodeError;

pub use blockdev::BlockDevStorage;
pub use file::FileStorage;
pub use lvm::{LvmStorage, LvmTools};
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

    /// Rename the device to `new_logical_id` (adoption of LVs); templates
    /// that cannot refuse.
    fn rename(&self, disk: &DiskSpec, new_logical_id: &Value) -> Result<(), NodeError> {
        let _ = (disk, new_logical_id);
        Err(NodeError::RenameUnsupported {
            template: self.template().as_str(),
        })
    }
}

/// The storage drivers of this node, looked up by template, and the
/// configuration the space reports and listings need.
#[derive(Debug)]
pub struct StorageDrivers {
    drivers: Vec<Box<dyn Storage>>,
    file_policy: FileStoragePolicy,
    lvm: LvmTools,
}

impl StorageDrivers {
    /// Every template this release implements.
    pub fn new(file_policy: FileStoragePolicy, lvm: LvmTools) -> Self {
        StorageDrivers {
            drivers: vec![
                Box::new(FileStorage::new(DiskTemplate::File, file_policy.clone())),
                Box::new(FileStorage::new(
                    DiskTemplate::Sharedfile,
                    file_policy.clone(),
                )),
                Box::new(LvmStorage::new(lvm.clone())),
                Box::new(BlockDevStorage::new()),
            ],
            file_policy,
            lvm,
        }
    }

    /// Use exactly these drivers (tests, embedding).
    pub fn from_list(
        drivers: Vec<Box<dyn Storage>>,
        file_policy: FileStoragePolicy,
        lvm: LvmTools,
    ) -> Self {
        StorageDrivers {
            drivers,
            file_policy,
            lvm,
        }
    }

    /// The LVM tools in use.
    pub fn lvm(&self) -> &LvmTools {
        &self.lvm
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

    /// Size and free space of a storage unit.
    pub fn space_info(&self, unit: &StorageUnit) -> Result<StorageInfo, NodeError> {
        match unit {
            StorageUnit::File { path } => file::space_info(StorageType::File, path),
            StorageUnit::SharedFile { path } => file::space_info(StorageType::SharedFile, path),
            StorageUnit::LvmVg {
                vg,
                exclusive_storage,
            } => lvm::vg_space_info(&self.lvm, vg, *exclusive_storage),
            StorageUnit::LvmPv {
                vg,
                exclusive_storage,
            } => lvm::pv_space_info(&self.lvm, vg, *exclusive_storage),
        }
    }

    /// A storage listing (see [`listing`]).
    pub fn list(&self, req: &StorageListRequest) -> Result<Vec<StorageEntry>, NodeError> {
        listing::list(req, &self.file_policy, &self.lvm)
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

    fn drivers(t: &tempfile::TempDir) -> StorageDrivers {
        StorageDrivers::new(
            FileStoragePolicy::fixed(t.path(), vec![t.path().into()]),
            LvmTools::in_dir(t.path().join("no-lvm-here")),
        )
    }

    #[test]
    fn templates_dispatch_or_refuse() {
        let t = tempfile::tempdir().unwrap();
        let d = drivers(&t);
        for tpl in [
            DiskTemplate::File,
            DiskTemplate::Sharedfile,
            DiskTemplate::Plain,
            DiskTemplate::Blockdev,
        ] {
            assert_eq!(d.for_disk(&disk(tpl)).unwrap().template(), tpl);
        }
        assert_eq!(
            d.for_disk(&disk(DiskTemplate::Diskless))
                .unwrap_err()
                .to_string(),
            "Disk d1 has template 'diskless', which has no block devices"
        );
        assert_eq!(
            d.for_disk(&disk(DiskTemplate::Drbd))
                .unwrap_err()
                .to_string(),
            "Disk template 'drbd' is not supported by this release"
        );
        let e = d
            .for_disk(&disk(DiskTemplate::File))
            .unwrap()
            .rename(&disk(DiskTemplate::File), &json!(null))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Rename is not supported for disk template 'file'"
        );
    }

    #[test]
    fn lvm_space_needs_the_tools() {
        let t = tempfile::tempdir().unwrap();
        let e = drivers(&t)
            .space_info(&StorageUnit::LvmVg {
                vg: "xenvg".into(),
                exclusive_storage: false,
            })
            .unwrap_err();
        assert!(matches!(e, NodeError::LvmToolSpawn { .. }), "{e}");
        let e = drivers(&t)
            .space_info(&StorageUnit::LvmVg {
                vg: "-bad".into(),
                exclusive_storage: false,
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "Invalid LVM name '-bad'");
    }
}
