//! The vocabulary every other crate speaks: Ganeti's configuration objects
//! (cluster, nodes, groups, instances, disks, NICs, networks), the job model,
//! Ganeti's error classes and the file-system layout.
//!
//! Nothing in here performs I/O, so the master, the node daemon, the CLI and
//! (later) the Raft state machine can all share these types without pulling
//! in a runtime. Objects serialize to the same JSON keys as Ganeti's
//! `config.data`, so the exported configuration stays readable by operators'
//! existing tooling.

pub mod config;
pub mod constants;
pub mod errors;
pub mod hvparams;
pub mod job;
pub mod objects;
pub mod os;
pub mod params;
pub mod paths;

pub use config::ConfigData;
pub use errors::{ErrorClass, GanetiError};
pub use job::{Job, JobStatus, LogEntry, OpStatus, QueuedOpCode, Timestamp};
pub use objects::*;
pub use os::OsDiagnosis;
pub use paths::Paths;

/// A JSON object, as Ganeti's parameter dictionaries are.
pub type Dict = serde_json::Map<String, serde_json::Value>;

/// The Ganeti release we behave like; reported by `gnt-cluster version` and `/version`.
pub const GANETI_VERSION: &str = "3.0.2";
/// Configuration format version as Ganeti encodes it (major*1000000 + minor*10000 + revision).
pub const CONFIG_VERSION: u64 = 3_000_000;
/// Protocol version of LUXI and node RPC.
pub const PROTOCOL_VERSION: u64 = 3_000_000;
/// The remote API version reported by `/version`.
pub const RAPI_VERSION: u64 = 2;
/// Our own version, shown beside Ganeti's.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Current wall-clock time as Ganeti stores `ctime`/`mtime` (float seconds).
pub fn now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A fresh random UUID in Ganeti's textual form.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
