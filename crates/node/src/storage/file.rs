//! The `file` disk template: each disk is a sparse file.
//!
//! As in Ganeti, an instance's disks live in `<file storage dir>/<instance
//! name>/`, one file per disk named `<unique id>.file.disk<N>` (the master
//! picks the unique id and puts the full path in the disk's `logical_id`;
//! [`disk_path`] builds it). Files are created with `O_EXCL` and their
//! length set without writing data (sparse, like Ganeti's `truncate`), grown
//! the same way and never shrunk. Activation has nothing to do for a file,
//! so assemble only checks that it is there. Every path is checked against
//! the node's [`FileStoragePolicy`] before it is touched.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use ganeti_types::DiskTemplate;
use serde_json::{json, Value};

use crate::fsutil;
use crate::info::{BlockDevStatus, StorageInfo, StorageType};
use crate::spec::{DiskPath, DiskSpec};
use crate::storage::{FileStoragePolicy, Storage};
use crate::NodeError;

const MIB: u64 = 1024 * 1024;
/// Mode of created directories (Ganeti's 0750).
const DIR_MODE: u32 = 0o750;
/// Mode of created disk files: disk contents are not for other users.
const FILE_MODE: u32 = 0o640;

/// The directory holding an instance's file disks.
pub fn instance_dir(file_storage_dir: &Path, instance_name: &str) -> PathBuf {
    file_storage_dir.join(instance_name)
}

/// The file name of disk `index`: `<unique_id>.file.disk<index>`.
pub fn disk_file_name(unique_id: &str, index: usize) -> String {
    format!("{unique_id}.file.disk{index}")
}

/// The full path of disk `index` of an instance.
pub fn disk_path(
    file_storage_dir: &Path,
    instance_name: &str,
    unique_id: &str,
    index: usize,
) -> PathBuf {
    instance_dir(file_storage_dir, instance_name).join(disk_file_name(unique_id, index))
}

/// The `logical_id` of a file disk with the default (`loop`) driver.
pub fn logical_id(path: &Path) -> Value {
    json!(["loop", path.to_string_lossy()])
}

/// File-backed disks (`file` now, `sharedfile` later: same operations).
#[derive(Debug)]
pub struct FileStorage {
    template: DiskTemplate,
    policy: FileStoragePolicy,
}

impl FileStorage {
    /// A driver for `template` accepting paths allowed by `policy`.
    pub fn new(template: DiskTemplate, policy: FileStoragePolicy) -> Self {
        FileStorage { template, policy }
    }

    fn checked_path<'a>(&self, disk: &'a DiskSpec) -> Result<&'a Path, NodeError> {
        let path = disk.file_path()?;
        self.policy.check(path, false)?;
        Ok(path)
    }

    /// `bytes` as a file length (`off_t` is signed).
    fn file_len(path: &Path, bytes: u128) -> Result<u64, NodeError> {
        u64::try_from(bytes)
            .ok()
            .filter(|b| i64::try_from(*b).is_ok())
            .ok_or_else(|| NodeError::SizeOverflow {
                path: path.to_path_buf(),
                size_mib: bytes.div_ceil(u128::from(MIB)),
            })
    }
}

fn disk_io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> NodeError + 'a {
    move |source| NodeError::DiskIo {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Metadata of a regular file, `None` if there is none at `path`.
fn regular_file(path: &Path) -> Result<Option<fs::Metadata>, NodeError> {
    match fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Some(m)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(disk_io("stat", path)(e)),
    }
}

impl Storage for FileStorage {
    fn template(&self) -> DiskTemplate {
        self.template
    }

    fn create(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        let path = self.checked_path(disk)?;
        let len = Self::file_len(path, u128::from(disk.size_mib) * u128::from(MIB))?;
        if let Some(dir) = path.parent() {
            fsutil::make_dirs(dir, DIR_MODE).map_err(disk_io("create", dir))?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => NodeError::DiskExists {
                    path: path.to_path_buf(),
                },
                _ => disk_io("create", path)(e),
            })?;
        if let Err(e) = file.set_len(len) {
            // do not leave a file of the wrong size behind
            let _ = fs::remove_file(path);
            return Err(disk_io("create", path)(e));
        }
        tracing::info!(path = %path.display(), size_mib = disk.size_mib, "created file disk");
        Ok(DiskPath {
            dev_path: path.to_path_buf(),
        })
    }

    fn remove(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        let path = self.checked_path(disk)?;
        match fs::remove_file(path) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "removed file disk");
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(path = %path.display(), "file disk to remove does not exist");
                Ok(())
            }
            Err(e) => Err(disk_io("remove", path)(e)),
        }
    }

    fn grow(&self, disk: &DiskSpec, amount_mib: u64, dryrun: bool) -> Result<(), NodeError> {
        let path = self.checked_path(disk)?;
        let meta = regular_file(path)?.ok_or_else(|| NodeError::DiskMissing {
            path: path.to_path_buf(),
        })?;
        let new_len = Self::file_len(
            path,
            u128::from(meta.len()) + u128::from(amount_mib) * u128::from(MIB),
        )?;
        if dryrun {
            return Ok(());
        }
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(disk_io("grow", path))?;
        file.set_len(new_len).map_err(disk_io("grow", path))?;
        tracing::info!(path = %path.display(), amount_mib, "grew file disk");
        Ok(())
    }

    fn assemble(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        let path = self.checked_path(disk)?;
        match regular_file(path)? {
            Some(_) => Ok(DiskPath {
                dev_path: path.to_path_buf(),
            }),
            None => Err(NodeError::DiskMissing {
                path: path.to_path_buf(),
            }),
        }
    }

    fn shutdown(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        // files are not deactivated; still refuse paths we would not manage
        self.checked_path(disk).map(|_| ())
    }

    fn find(&self, disk: &DiskSpec) -> Result<Option<BlockDevStatus>, NodeError> {
        let path = self.checked_path(disk)?;
        Ok(regular_file(path)?.map(|m| BlockDevStatus {
            dev_path: path.to_path_buf(),
            major: None,
            minor: None,
            size_mib: m.len() / MIB,
            sync_percent: None,
            is_degraded: false,
        }))
    }
}

/// Size and free space of the file system holding `path`, MiB (free as
/// available to unprivileged users, as Ganeti reports it).
pub fn space_info(storage_type: StorageType, path: &Path) -> Result<StorageInfo, NodeError> {
    let st = rustix::fs::statvfs(path).map_err(|e| NodeError::StorageInfo {
        path: path.to_path_buf(),
        source: io::Error::from(e),
    })?;
    Ok(StorageInfo {
        storage_type,
        name: path.to_string_lossy().into_owned(),
        storage_size: st.f_frsize.saturating_mul(st.f_blocks) / MIB,
        storage_free: st.f_frsize.saturating_mul(st.f_bavail) / MIB,
    })
}

/// Create a file storage directory (mode 0750); an existing directory is fine.
pub fn create_dir(policy: &FileStoragePolicy, dir: &Path) -> Result<(), NodeError> {
    policy.check(dir, true)?;
    if dir.exists() {
        if !dir.is_dir() {
            return Err(NodeError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        return Ok(());
    }
    fsutil::make_dirs(dir, DIR_MODE).map_err(|source| NodeError::DirIo {
        op: "create",
        path: dir.to_path_buf(),
        source,
    })
}

/// Remove a file storage directory if it is empty; a missing one is fine.
pub fn remove_dir(policy: &FileStoragePolicy, dir: &Path) -> Result<(), NodeError> {
    policy.check(dir, true)?;
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(NodeError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    fs::remove_dir(dir).map_err(|source| NodeError::DirIo {
        op: "remove",
        path: dir.to_path_buf(),
        source,
    })
}

/// Rename a file storage directory. Done already (only `new` exists) is
/// fine; both existing is an error.
pub fn rename_dir(policy: &FileStoragePolicy, old: &Path, new: &Path) -> Result<(), NodeError> {
    policy.check(old, true)?;
    policy.check(new, true)?;
    if new.exists() {
        if old.exists() {
            return Err(NodeError::RenameBothExist {
                old: old.to_path_buf(),
                new: new.to_path_buf(),
            });
        }
        return Ok(());
    }
    if !old.is_dir() {
        return Err(NodeError::NotADirectory {
            path: old.to_path_buf(),
        });
    }
    fs::rename(old, new).map_err(|source| NodeError::RenameIo {
        old: old.to_path_buf(),
        new: new.to_path_buf(),
        source,
    })
}
