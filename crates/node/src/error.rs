//! The one error type of the node layer.
//!
//! Every failure a node operation can have is a variant with the context
//! needed to act on it (instance, path, the underlying I/O error), so the
//! master can match on what happened (e.g. treat [`NodeError::AlreadyRunning`]
//! as "nothing to do", as Ganeti's backend does) instead of parsing text.
//! The `Display` text is what an operator sees, worded like Ganeti's noded
//! messages; the I/O error is part of that text (users see `to_string()`),
//! and is also kept as the `source` for programmatic inspection.

use std::io;
use std::path::{Path, PathBuf};

/// Why a path was refused for file storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRefusal {
    /// The path is relative.
    NotAbsolute,
    /// The path has a `..` component.
    ParentComponent,
    /// The path is below a system directory (`/etc`, `/bin`, ...).
    ForbiddenPrefix,
    /// The path is not below any allowed file storage directory.
    NotAllowed,
    /// The path is lexically fine but a symlink makes it resolve elsewhere.
    ResolvesOutside { resolved: PathBuf },
    /// The allowed-paths file exists but lists no usable directory.
    NoAllowedPaths { file: PathBuf },
}

impl PathRefusal {
    fn message(&self, path: &Path) -> String {
        let p = path.display();
        match self {
            PathRefusal::NotAbsolute => {
                format!("File storage path must be absolute, got '{p}'")
            }
            PathRefusal::ParentComponent => {
                format!("Path '{p}' is not acceptable for file storage: it contains '..'")
            }
            PathRefusal::ForbiddenPrefix => format!("Path '{p}' uses a forbidden prefix"),
            PathRefusal::NotAllowed => format!("Path '{p}' is not acceptable for file storage"),
            PathRefusal::ResolvesOutside { resolved } => format!(
                "Path '{p}' is not acceptable for file storage: it resolves to '{}'",
                resolved.display()
            ),
            PathRefusal::NoAllowedPaths { file } => format!(
                "No paths are valid or path file '{}' was not accessible.",
                file.display()
            ),
        }
    }
}

/// Errors of node operations.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    // ---- hypervisors -------------------------------------------------
    /// The hypervisor name is not one Ganeti knows.
    #[error("Unknown hypervisor type '{name}'")]
    UnknownHypervisor { name: String },
    /// Ganeti knows the hypervisor, this release does not implement it.
    #[error("Hypervisor '{name}' is not supported by this release")]
    UnsupportedHypervisor { name: String },
    /// Start of an instance the hypervisor already runs.
    #[error("Hypervisor error: Failed to start instance {instance}: already running")]
    AlreadyRunning { instance: String },
    /// Stop of an instance the hypervisor does not run.
    #[error("Failed to stop instance {instance}: not running")]
    NotRunning { instance: String },
    /// The hypervisor cannot change devices of a running instance.
    #[error("Hotplug is not supported for instance {instance} by the {hypervisor} hypervisor")]
    HotplugUnsupported {
        instance: String,
        hypervisor: &'static str,
    },
    /// Reboot of an instance the hypervisor does not run.
    #[error("Cannot reboot instance '{instance}' that is not running")]
    RebootNotRunning { instance: String },
    /// The node cannot give the instance its minimum memory.
    #[error(
        "Not enough memory to start instance {instance}: needed {needed} MiB, available {available} MiB"
    )]
    NotEnoughMemory {
        instance: String,
        needed: u64,
        available: u64,
    },
    /// Neither a clean shutdown nor a forced stop got rid of the instance.
    #[error("Could not shutdown instance '{instance}' even by destroy")]
    ShutdownFailed { instance: String },
    /// Reading or writing the hypervisor's runtime state failed.
    #[error("Hypervisor error: Failed to {action} instance {instance}: {}: {source}", path.display())]
    HvStateIo {
        action: &'static str,
        instance: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A runtime state file does not have the expected content.
    #[error("Hypervisor error: invalid state file {}: {reason}", path.display())]
    HvStateCorrupt { path: PathBuf, reason: String },
    /// An instance name that cannot be used as a runtime state key.
    #[error("Invalid instance name '{name}': {reason}")]
    InvalidInstanceName { name: String, reason: &'static str },
    /// A parameter the hypervisor needs is missing or malformed.
    #[error("Invalid parameter '{param}' of instance {instance}: {reason}")]
    InvalidParameter {
        instance: String,
        param: String,
        reason: String,
    },

    // ---- block devices -----------------------------------------------
    /// A disk of an instance to start does not exist on the node; `disk`
    /// is its path for file disks, its `iv_name` otherwise.
    #[error("Block device error: Block device '{disk}' of instance {instance} is not set up")]
    BlockDeviceNotSetUp { instance: String, disk: String },
    /// The disk's `logical_id` does not have the template's shape.
    #[error("Invalid logical_id {logical_id} of disk {disk}: {reason}")]
    BadLogicalId {
        disk: String,
        logical_id: String,
        reason: &'static str,
    },
    /// The disk's `dev_type` is not a disk template.
    #[error("Unknown disk type '{dev_type}' of disk {disk}")]
    UnknownDiskType { disk: String, dev_type: String },
    /// Ganeti knows the template, this release does not implement it.
    #[error("Disk template '{template}' is not supported by this release")]
    UnsupportedTemplate { template: &'static str },
    /// A block device operation on a disk of the diskless template.
    #[error("Disk {disk} has template 'diskless', which has no block devices")]
    Diskless { disk: String },
    /// Creation refused: the backing file is already there.
    #[error("Can't create block device: {}: File exists", path.display())]
    DiskExists { path: PathBuf },
    /// The backing file of a disk is missing.
    #[error("{}: No such file", path.display())]
    DiskMissing { path: PathBuf },
    /// An I/O operation on a disk's backing store failed.
    #[error("{}: can't {op}: {source}", path.display())]
    DiskIo {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A size (at creation or after growing) beyond what a file can have.
    #[error("{}: size of {size_mib} MiB is too large", path.display())]
    SizeOverflow { path: PathBuf, size_mib: u128 },

    // ---- file storage directories --------------------------------------
    /// A path outside the allowed file storage directories.
    #[error("{}", reason.message(path))]
    PathRefused { path: PathBuf, reason: PathRefusal },
    /// A file storage directory path names something that is not a directory.
    #[error("Specified storage dir '{}' is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    /// Creating or removing a file storage directory failed.
    #[error("Cannot {op} file storage directory '{}': {source}", path.display())]
    DirIo {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Renaming a file storage directory failed.
    #[error("Cannot rename '{}' to '{}': {source}", old.display(), new.display())]
    RenameIo {
        old: PathBuf,
        new: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Rename refused: both the old and the new directory exist.
    #[error("Cannot rename '{}' to '{}': both locations exist", old.display(), new.display())]
    RenameBothExist { old: PathBuf, new: PathBuf },

    // ---- node information ----------------------------------------------
    /// A host information file (`/proc/meminfo`, ...) cannot be read.
    #[error("Failed to list node info: {}: {source}", path.display())]
    HostInfoIo {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A host information file has unexpected content.
    #[error("Failed to compute node info from {}: {reason}", path.display())]
    HostInfoParse { path: PathBuf, reason: String },
    /// `statvfs` of a storage directory failed.
    #[error("Failed to retrieve file system information about path: {} - {source}", path.display())]
    StorageInfo {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A storage type this release cannot report on.
    #[error("Storage type '{storage_type}' is not supported by this release")]
    UnsupportedStorage { storage_type: &'static str },
}

impl NodeError {
    /// Shorthand for a refused file storage path.
    pub(crate) fn refused(path: &Path, reason: PathRefusal) -> Self {
        NodeError::PathRefused {
            path: path.to_path_buf(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_context() {
        let e = NodeError::AlreadyRunning {
            instance: "inst1.example.com".into(),
        };
        assert_eq!(
            e.to_string(),
            "Hypervisor error: Failed to start instance inst1.example.com: already running"
        );
        let e = NodeError::refused(Path::new("srv/x"), PathRefusal::NotAbsolute);
        assert_eq!(
            e.to_string(),
            "File storage path must be absolute, got 'srv/x'"
        );
        let e = NodeError::DiskIo {
            op: "grow",
            path: "/srv/d".into(),
            source: io::Error::from_raw_os_error(28),
        };
        let text = e.to_string();
        assert!(text.starts_with("/srv/d: can't grow: "), "{text}");
        assert!(std::error::Error::source(&e).is_some());
    }
}
