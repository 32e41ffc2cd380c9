//! Why an OS directory is not a usable OS provider.
//!
//! Each reason keeps the paths and the detail it is about, and its
//! `Display` text is the message Ganeti's node daemon gives for it, word
//! for word: operators see it in `gnt-os diagnose`, in failed jobs, and
//! compare it with what Ganeti said on their old cluster.

use super::{API_VERSION_FILE, SUPPORTED_API_VERSIONS};

/// Python's `str()` of a list of ints: `[5, 10]`.
fn py_int_list(v: &[i64]) -> String {
    let items: Vec<String> = v.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

/// Python's `str()` of Ganeti's `OS_API_VERSIONS` frozenset (small ints
/// iterate in hash-table order: `frozenset({10, 20, 15})`).
fn supported_set() -> String {
    let [v10, v15, v20] = SUPPORTED_API_VERSIONS;
    format!("frozenset({{{v10}, {v20}, {v15}}})")
}

/// An OS that cannot be used, with Ganeti's message as `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOs {
    /// No search-path directory holds a directory of that name (or the
    /// name has characters an OS name may not have).
    #[error("Directory for OS {name} not found in search path")]
    NotFound { name: String },
    /// `ganeti_api_version` cannot be `stat`ed.
    #[error(
        "Required file '{}' not found under path {os_dir}: {errno}",
        API_VERSION_FILE
    )]
    ApiFileMissing { os_dir: String, errno: String },
    /// `ganeti_api_version` is a directory, a device, ...
    #[error("File '{}' in {os_dir} is not a regular file", API_VERSION_FILE)]
    ApiFileNotRegular { os_dir: String },
    /// `ganeti_api_version` exists but cannot be read.
    #[error("Error while reading the API version file at {file}: {errno}")]
    ApiFileUnreadable { file: String, errno: String },
    /// A line of `ganeti_api_version` is not an integer (`text` is the
    /// stripped line, shown as Python's `repr`).
    #[error(
        "API version(s) can't be converted to integer: invalid literal for int() with base 10: {}",
        ganeti_clifmt::pystr::str_repr(text)
    )]
    ApiVersionNotInteger { text: String },
    /// None of the declared versions is one this release implements.
    #[error(
        "API version mismatch for path '{os_dir}': found {}, want {}.",
        py_int_list(found),
        supported_set()
    )]
    ApiVersionMismatch { os_dir: String, found: Vec<i64> },
    /// A required file (or an optional one that exists but cannot be
    /// `stat`ed) is missing.
    #[error("File '{file}' under path '{os_dir}' is missing ({errno})")]
    FileMissing {
        file: String,
        os_dir: String,
        errno: String,
    },
    /// A script or list file is not a regular file.
    #[error("File '{file}' under path '{os_dir}' is not a regular file")]
    FileNotRegular { file: String, os_dir: String },
    /// A script lacks the owner-execute bit.
    #[error("File '{file}' under path '{os_dir}' is not executable")]
    NotExecutable { file: String, os_dir: String },
    /// Neither `create` nor `create_untrusted` exists.
    #[error("A create script (trusted or untrusted) under path '{os_dir}' must exist")]
    NoCreateScript { os_dir: String },
    /// `variants.list` exists but cannot be read.
    #[error("Error while reading the OS variants file at {file}: {errno}")]
    VariantsUnreadable { file: String, errno: String },
    /// `parameters.list` cannot be read.
    #[error("Error while reading the OS parameters file at {file}: {errno}")]
    ParametersUnreadable { file: String, errno: String },
}
