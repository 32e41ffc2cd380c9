//! Message shapes and method names.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// End-of-message marker.
pub const EOM: u8 = 0x03;

/// LUXI methods we serve, with Ganeti's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    SubmitJob,
    SubmitJobToDrainedQueue,
    SubmitManyJobs,
    WaitForJobChange,
    CancelJob,
    ChangeJobPriority,
    ArchiveJob,
    AutoArchiveJobs,
    QueryJobs,
    Query,
    QueryFields,
    QueryClusterInfo,
    QueryConfigValues,
    QueryTags,
    SetDrainFlag,
    SetWatcherPause,
}

/// A request: `{"method": ..., "args": [...], "version": N}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub method: Method,
    pub args: Value,
    #[serde(default)]
    pub version: Option<u64>,
}

/// A response: `{"success": bool, "result": ..., "version": N}`. On failure
/// `result` is an encoded Ganeti error (`[class, [args]]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub success: bool,
    pub result: Value,
    #[serde(default)]
    pub version: Option<u64>,
}

impl Response {
    /// A successful response.
    pub fn ok(result: Value) -> Self {
        Response {
            success: true,
            result,
            version: Some(ganeti_types::PROTOCOL_VERSION),
        }
    }
    /// A failed response carrying an encoded error.
    pub fn err(e: &ganeti_types::GanetiError) -> Self {
        Response {
            success: false,
            result: e.encode(),
            version: Some(ganeti_types::PROTOCOL_VERSION),
        }
    }
}
