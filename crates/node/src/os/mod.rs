//! OS providers on this node: finding them in the OS search path and
//! deciding, as Ganeti does, whether each one is usable.
//!
//! Why this module exists apart from the script runner: the master lists
//! OSes (`gnt-os list`, `/2/os`, `OP_OS_DIAGNOSE`) from what every node
//! reports here, including the providers that are broken and why, and
//! installing or renaming an instance starts from the same
//! [`OsDefinition`]. One loader keeps "listed as valid" and "usable by a
//! job" the same thing.
//!
//! The rules are Ganeti 3.0.2's (`backend.DiagnoseOS`, `_TryOSFromDisk`,
//! `_OSOndiskAPIVersion`; see `os-interface.md`): every visible entry of
//! every search-path directory is reported, so an OS shadowed by one of
//! the same name in an earlier directory shows up too; invalid entries
//! carry Ganeti's message and no variants, parameters or versions.

pub mod env;
mod invalid;
mod ondisk;
mod pytext;
pub mod run;
#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod tests;
pub mod transfer;
#[cfg(test)]
mod transfer_tests;

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use ganeti_types::OsDiagnosis;

pub use crate::spec::NetworkInfo;
pub use env::{OsInstanceInfo, OsRunSpec};
pub use invalid::InvalidOs;
pub use run::OsRunner;
pub use transfer::Compression;

/// The OS API versions this release implements (Ganeti's `OS_API_VERSIONS`).
pub const SUPPORTED_API_VERSIONS: [i64; 3] = [10, 15, 20];
/// The file declaring the API versions an OS supports.
pub const API_VERSION_FILE: &str = "ganeti_api_version";
/// The file listing an OS's variants (read from API 15 on).
pub const VARIANTS_FILE: &str = "variants.list";
/// The file listing an OS's parameters (required from API 20 on).
pub const PARAMETERS_FILE: &str = "parameters.list";

/// A valid OS provider as found on disk (Ganeti's `objects.OS`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsDefinition {
    /// The OS name (the directory name, without variant).
    pub name: String,
    /// The OS directory.
    pub path: PathBuf,
    /// Every version `ganeti_api_version` declares, in file order.
    pub api_versions: Vec<i64>,
    pub create_script: Option<PathBuf>,
    /// Present for untrusted OSes (installed inside a helper VM).
    pub create_untrusted_script: Option<PathBuf>,
    pub export_script: PathBuf,
    pub import_script: PathBuf,
    pub rename_script: PathBuf,
    /// Present (and required) when the highest declared version is >= 20.
    pub verify_script: Option<PathBuf>,
    /// `variants.list` without blank lines and comments, in file order.
    pub variants: Vec<String>,
    /// `parameters.list`, each line split at its first whitespace run:
    /// normally `[name, description]`, `[name]` for a bare name, `[]` for
    /// a blank line (kept as Ganeti keeps them).
    pub parameters: Vec<Vec<String>>,
}

impl OsDefinition {
    /// The API version scripts are run with: the highest declared version
    /// this release implements.
    pub fn api_version(&self) -> i64 {
        self.api_versions
            .iter()
            .copied()
            .filter(|v| SUPPORTED_API_VERSIONS.contains(v))
            .max()
            .unwrap_or(0)
    }

    /// Whether the OS can be installed on the node itself (it has no
    /// `create_untrusted` script).
    pub fn trusted(&self) -> bool {
        self.create_untrusted_script.is_none()
    }
}

/// The report of one search-path entry, from the outcome of loading it.
fn diagnosis_of(name: &str, path: &Path, loaded: Result<OsDefinition, InvalidOs>) -> OsDiagnosis {
    let path = path.display().to_string();
    match loaded {
        Ok(os) => OsDiagnosis {
            name: name.to_string(),
            path,
            valid: true,
            message: String::new(),
            trusted: os.trusted(),
            variants: os.variants,
            parameters: os.parameters,
            api_versions: os.api_versions,
        },
        Err(e) => OsDiagnosis {
            name: name.to_string(),
            path,
            valid: false,
            message: e.to_string(),
            variants: Vec::new(),
            parameters: Vec::new(),
            api_versions: Vec::new(),
            trusted: true,
        },
    }
}

/// The OS `name` (without variant) from the first search-path directory
/// that has a directory of that name, fully checked.
pub fn find_os(name: &str, search_path: &[PathBuf]) -> Result<OsDefinition, InvalidOs> {
    ondisk::load(name, search_path)
}

/// Like [`find_os`] for a full OS name as instances store it
/// (`name+variant`; the variant is not checked here).
pub fn os_from_disk(full_name: &str, search_path: &[PathBuf]) -> Result<OsDefinition, InvalidOs> {
    let base = full_name.split('+').next().unwrap_or(full_name);
    find_os(base, search_path)
}

/// Whether `dir` is a mount point (Python's `os.path.ismount`).
fn is_mount_point(dir: &Path) -> bool {
    match (fs::symlink_metadata(dir), fs::metadata(dir.join(".."))) {
        (Ok(d), Ok(parent)) => d.dev() != parent.dev() || d.ino() == parent.ino(),
        _ => false,
    }
}

/// Ganeti's `utils.ListVisibleFiles`: names not starting with a dot, and
/// not the `lost+found` directory of a mount point; sorted here so the
/// report does not depend on directory order.
fn visible_entries(dir: &Path) -> io::Result<Vec<String>> {
    let mount = is_mount_point(dir);
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || (mount && name == "lost+found" && entry.path().is_dir()) {
            continue;
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Ganeti's `DiagnoseOS`: every visible entry of every existing directory
/// of `search_path`, in search-path order, each checked as an OS of that
/// directory. A directory that cannot be listed ends the scan (as in
/// Ganeti), with what was found so far.
pub fn diagnose(search_path: &[PathBuf]) -> Vec<OsDiagnosis> {
    let mut out = Vec::new();
    for dir in search_path {
        if !dir.is_dir() {
            continue;
        }
        let names = match visible_entries(dir) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!("Can't list the OS directory {}: {e}", dir.display());
                break;
            }
        };
        let base = std::slice::from_ref(dir);
        for name in names {
            let loaded = ondisk::load(&name, base);
            out.push(diagnosis_of(&name, &dir.join(&name), loaded));
        }
    }
    out
}
