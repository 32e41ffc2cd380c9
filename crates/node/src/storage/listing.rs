//! Storage listings: what `gnt-node list-storage` shows (Ganeti's
//! `storage_list` RPC and its `container` classes).
//!
//! File types list one directory (the cluster's, or the one asked for by
//! name) with the file system's size and free space and the sum of the
//! files below it as "used"; LVM types list volume groups or physical
//! volumes from `vgs`/`pvs`. Only the fields asked for are computed, since
//! summing a directory can take long. A directory asked for by name must
//! be one file storage may use (the node's [`FileStoragePolicy`]), so the
//! listing cannot be used to probe the rest of the file system.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::info::{StorageEntry, StorageField, StorageListRequest, StorageType};
use crate::storage::file;
use crate::storage::lvm::{self, LvmTools};
use crate::storage::FileStoragePolicy;
use crate::NodeError;

const MIB: u64 = 1024 * 1024;

/// Total size of the files below `dir`, MiB rounded up (Ganeti's
/// `CalculateDirectorySize`); symlinks are not followed.
pub fn directory_size_mib(dir: &Path) -> io::Result<u64> {
    let mut total: u64 = 0;
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let meta = fs::symlink_metadata(entry.path())?;
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total = total.saturating_add(meta.len());
            }
        }
    }
    Ok(total.div_ceil(MIB))
}

/// One directory as a listing entry.
fn list_dir(
    storage_type: StorageType,
    path: &Path,
    fields: &[StorageField],
) -> Result<StorageEntry, NodeError> {
    let wants = |f| fields.contains(&f);
    let used = if wants(StorageField::Used) {
        Some(
            directory_size_mib(path).map_err(|source| NodeError::DirSize {
                path: path.to_path_buf(),
                source,
            })?,
        )
    } else {
        None
    };
    let (size, free) = if wants(StorageField::Size) || wants(StorageField::Free) {
        let info = file::space_info(storage_type, path)?;
        (Some(info.storage_size), Some(info.storage_free))
    } else {
        (None, None)
    };
    Ok(StorageEntry {
        name: path.to_string_lossy().into_owned(),
        size,
        used,
        free,
        allocatable: true,
    })
}

/// Answer a listing request.
pub fn list(
    req: &StorageListRequest,
    policy: &FileStoragePolicy,
    lvm: &LvmTools,
) -> Result<Vec<StorageEntry>, NodeError> {
    match req.storage_type {
        StorageType::File | StorageType::SharedFile => {
            let path = match (&req.name, &req.dir) {
                (Some(n), dir) => {
                    let p = PathBuf::from(n);
                    if dir.as_deref() != Some(p.as_path()) {
                        policy.check(&p, true)?;
                    }
                    p
                }
                (None, Some(d)) => d.clone(),
                (None, None) => {
                    return Err(NodeError::StorageListNoDir {
                        storage_type: req.storage_type.as_str(),
                    })
                }
            };
            Ok(vec![list_dir(req.storage_type, &path, &req.fields)?])
        }
        StorageType::LvmVg => lvm::list_vgs(lvm, req.name.as_deref()),
        StorageType::LvmPv => lvm::list_pvs(lvm, req.name.as_deref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_size_rounds_up() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(directory_size_mib(dir.path()).unwrap(), 0);
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/a"), vec![0u8; 10]).unwrap();
        fs::write(dir.path().join("b"), vec![0u8; 1024 * 1024]).unwrap();
        assert_eq!(directory_size_mib(dir.path()).unwrap(), 2);
        assert!(directory_size_mib(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn file_listing_computes_only_what_is_asked() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path().join("files");
        fs::create_dir_all(base.join("i1")).unwrap();
        fs::write(base.join("i1/d0"), vec![0u8; 3 * 1024 * 1024]).unwrap();
        let policy = FileStoragePolicy::fixed(t.path(), vec![base.clone()]);
        let lvm = LvmTools::in_dir(t.path().join("no-tools"));
        let mut req = StorageListRequest {
            storage_type: StorageType::File,
            dir: Some(base.clone()),
            name: None,
            fields: vec![StorageField::Name, StorageField::Used],
        };
        let rows = list(&req, &policy, &lvm).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, base.to_string_lossy());
        assert_eq!(
            (rows[0].used, rows[0].size, rows[0].free),
            (Some(3), None, None)
        );
        assert!(rows[0].allocatable);

        req.fields = vec![StorageField::Size, StorageField::Free];
        req.name = Some(base.join("i1").to_string_lossy().into_owned());
        let r = &list(&req, &policy, &lvm).unwrap()[0];
        assert!(
            r.size.unwrap() >= r.free.unwrap() && r.used.is_none(),
            "{r:?}"
        );

        // a name outside the allowed directories is refused
        req.name = Some(t.path().to_string_lossy().into_owned());
        let e = list(&req, &policy, &lvm).unwrap_err();
        assert!(matches!(e, NodeError::PathRefused { .. }), "{e}");
        req.name = None;
        req.dir = None;
        let e = list(&req, &policy, &lvm).unwrap_err();
        assert_eq!(
            e.to_string(),
            "No directory given to list for storage type 'file'"
        );
        req.dir = Some(base.join("missing"));
        req.fields = vec![StorageField::Used];
        assert!(matches!(
            list(&req, &policy, &lvm).unwrap_err(),
            NodeError::DirSize { .. }
        ));
    }
}
