//! The export directory of a node (`/srv/ganeti/export`): finalising,
//! listing, reading and removing instance exports.
//!
//! Why its own module: an export is a directory `<instance>` holding the
//! disk dumps (written by [`crate::os::transfer`]) and `config.ini`
//! (written by the master, which knows the configuration). The rules are
//! Ganeti 3.0.2's `backend.FinalizeExport`, `ListExports`, `ExportInfo`
//! and `RemoveExport`: the dumps go to `<instance>.new`, which replaces
//! `<instance>` only once `config.ini` is in it, so a half-written export
//! never carries the final name. Names arriving from the master or an
//! operator are single directory names, never paths, so nothing outside
//! the export directory can be replaced or removed.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use ganeti_types::Paths;

use crate::NodeError;

/// The export directory below a node root (Ganeti's `EXPORT_DIR`).
pub const EXPORT_DIR: &str = "srv/ganeti/export";
/// The file describing an export (Ganeti's `EXPORT_CONF_FILE`).
pub const EXPORT_CONF_FILE: &str = "config.ini";
/// The suffix of the directory an export is written to first.
pub const STAGING_SUFFIX: &str = ".new";

/// The export directory of the node with layout `paths`.
pub fn export_dir(paths: &Paths) -> PathBuf {
    paths.root().join(EXPORT_DIR)
}

/// Check that `name` is one plain directory name.
pub fn check_name(name: &str) -> Result<(), NodeError> {
    let bad = |reason| {
        Err(NodeError::InvalidExportName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        bad("empty")
    } else if name == "." || name == ".." {
        bad("not a directory name")
    } else if name.contains('/') {
        bad("contains '/'")
    } else if name.contains('\0') {
        bad("contains a NUL byte")
    } else {
        Ok(())
    }
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> NodeError {
    let path = path.to_path_buf();
    move |source| NodeError::ExportIo { op, path, source }
}

/// Write `text` to `path` (0600) through a temporary file and a rename,
/// so a reader sees the old or the new file, never a part.
fn write_atomic(path: &Path, text: &str) -> Result<(), NodeError> {
    let tmp = path.with_extension("ini.tmp");
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err("write", &tmp))?;
    f.write_all(text.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(io_err("write", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("rename", &tmp))
}

/// Ganeti's `FinalizeExport`: write `config_ini` as `config.ini` (0600,
/// as Ganeti's daemons write with umask 077) into `staging`, which must
/// be `<export dir>/<instance>.new` (created if missing: a diskless
/// instance has no dumps), then put it in place of
/// `<export dir>/<instance>`; an older export of that name is removed.
pub fn finalize(
    dir: &Path,
    instance: &str,
    staging: &Path,
    config_ini: &str,
) -> Result<(), NodeError> {
    check_name(instance)?;
    let expected = dir.join(format!("{instance}{STAGING_SUFFIX}"));
    if staging != expected {
        return Err(NodeError::NotInExportDir {
            path: staging.to_path_buf(),
            export_dir: dir.to_path_buf(),
        });
    }
    // an instance without disks has no dumps, so nothing made the
    // staging directory yet
    if fs::symlink_metadata(staging).is_err() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(staging)
            .map_err(io_err("create", staging))?;
    }
    let meta = fs::symlink_metadata(staging).map_err(io_err("open", staging))?;
    if !meta.is_dir() {
        return Err(NodeError::ExportIo {
            op: "open",
            path: staging.to_path_buf(),
            source: io::Error::from(io::ErrorKind::NotADirectory),
        });
    }
    write_atomic(&staging.join(EXPORT_CONF_FILE), config_ini)?;
    let target = dir.join(instance);
    replace_dir(staging, &target)?;
    tracing::info!(instance, export = %target.display(), "finalized export");
    Ok(())
}

/// Put `from` in place of `to`: swapped atomically when `to` exists (the
/// old export then sits at `from` and is removed), else renamed.
fn replace_dir(from: &Path, to: &Path) -> Result<(), NodeError> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    if fs::symlink_metadata(to).is_ok() {
        match renameat_with(CWD, from, CWD, to, RenameFlags::EXCHANGE) {
            Ok(()) => {
                return remove_tree(from).map_err(io_err("remove the old export", from));
            }
            Err(e) => {
                // a file system without RENAME_EXCHANGE: Ganeti's order
                tracing::debug!(error = %e, "atomic exchange unavailable, removing first");
                remove_tree(to).map_err(io_err("remove the old export", to))?;
            }
        }
    }
    fs::rename(from, to).map_err(io_err("rename", from))
}

/// Remove a directory tree, or a file/symlink standing where one was.
fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// Ganeti's `ListExports`: every visible entry of the export directory,
/// sorted (staging `*.new` directories of running or failed exports
/// included, as Ganeti lists them, so an operator can remove leftovers).
pub fn list(dir: &Path) -> Result<Vec<String>, NodeError> {
    if !dir.is_dir() {
        return Err(NodeError::NoExportDir);
    }
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
        let entry = entry.map_err(io_err("list", dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// The section names of an INI text.
fn sections(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|l| {
        let l = l.trim();
        l.strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .map(str::trim)
    })
}

/// Ganeti's `ExportInfo`: the `config.ini` of the export at `path`,
/// which must have the `[export]` and `[instance]` sections (a missing
/// file is reported as Ganeti does, as lacking them).
pub fn info(path: &Path) -> Result<String, NodeError> {
    let file = path.join(EXPORT_CONF_FILE);
    let text = match fs::read(&file) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            return Err(NodeError::ExportInfoIncomplete { path: file })
        }
        Err(e) => return Err(io_err("read", &file)(e)),
    };
    let found: Vec<&str> = sections(&text).collect();
    if !found.contains(&"export") || !found.contains(&"instance") {
        return Err(NodeError::ExportInfoIncomplete { path: file });
    }
    Ok(text)
}

/// Ganeti's `RemoveExport`: remove `<export dir>/<name>` (an error if it
/// is missing).
pub fn remove(dir: &Path, name: &str) -> Result<(), NodeError> {
    check_name(name)?;
    let target = dir.join(name);
    match fs::symlink_metadata(&target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(NodeError::ExportMissing { path: target })
        }
        Err(e) => return Err(io_err("remove", &target)(e)),
        Ok(_) => {}
    }
    remove_tree(&target).map_err(io_err("remove", &target))?;
    tracing::info!(export = %target.display(), "removed export");
    Ok(())
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
