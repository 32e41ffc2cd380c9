//! What a node reports about the OS providers in its search path. Shared
//! by the node, which produces it, and the query engine, which combines
//! the reports of all nodes into `os` query rows.

use serde::{Deserialize, Serialize};

/// One entry of a node's OS search path as the node judged it (one element
/// of Ganeti's `os_diagnose` RPC answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsDiagnosis {
    /// The entry's name (the OS name if it is one).
    pub name: String,
    /// `<search dir>/<name>`.
    pub path: String,
    pub valid: bool,
    /// Why the OS is invalid; empty when valid.
    pub message: String,
    /// Empty when invalid.
    pub variants: Vec<String>,
    /// `[name, description]` pairs as `parameters.list` declares them;
    /// empty when invalid.
    pub parameters: Vec<Vec<String>>,
    /// Empty when invalid.
    pub api_versions: Vec<i64>,
    /// `false` only for a valid OS with a `create_untrusted` script (it
    /// installs only inside a helper VM).
    pub trusted: bool,
}
