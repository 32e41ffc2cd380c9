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
    /// `[uuids or null, fields]`: job filter rules as field-value lists.
    QueryFilters,
    /// `[uuid or null, priority, predicates, action, reason]`: add or
    /// replace a job filter rule; answers its uuid.
    ReplaceFilter,
    /// `[uuid]`: remove a job filter rule; answers `null`.
    DeleteFilter,
}

/// How Ganeti's master answers a request whose arguments it cannot decode:
/// a failure whose result is this text plus the reason, not an encoded
/// error. Clients treat it as a protocol error (RAPI: 502 Bad Gateway).
pub const REQUEST_PARSE_ERROR_PREFIX: &str = "Failed to parse request: ";

/// The error for a request whose arguments cannot be decoded; `detail`
/// follows Ganeti's wording (`Cannot convert value '...', error: ...`).
pub fn request_parse_error(detail: impl std::fmt::Display) -> ganeti_types::GanetiError {
    ganeti_types::GanetiError::Generic(format!("{REQUEST_PARSE_ERROR_PREFIX}{detail}"))
}

/// Whether `e` is a [`request_parse_error`].
pub fn is_request_parse_error(e: &ganeti_types::GanetiError) -> bool {
    matches!(e, ganeti_types::GanetiError::Generic(m) if m.starts_with(REQUEST_PARSE_ERROR_PREFIX))
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
    /// A failed response carrying an encoded error; a
    /// [`request_parse_error`] is sent as plain text, as Ganeti sends it.
    pub fn err(e: &ganeti_types::GanetiError) -> Self {
        let result = if is_request_parse_error(e) {
            Value::String(e.message().to_string())
        } else {
            e.encode()
        };
        Response {
            success: false,
            result,
            version: Some(ganeti_types::PROTOCOL_VERSION),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ganeti_types::GanetiError;

    #[test]
    fn parse_errors_travel_as_plain_text() {
        let e = request_parse_error("Cannot convert value '[1]', error: boom");
        assert!(is_request_parse_error(&e));
        let r = Response::err(&e);
        assert!(!r.success);
        assert_eq!(
            r.result,
            Value::String(
                "Failed to parse request: Cannot convert value '[1]', error: boom".into()
            )
        );
        let other = GanetiError::Generic("Filter rule with UUID x does not exist".into());
        assert!(!is_request_parse_error(&other));
        assert_eq!(Response::err(&other).result, other.encode());
    }

    #[test]
    fn filter_methods_have_ganetis_names() {
        for (m, name) in [
            (Method::QueryFilters, "QueryFilters"),
            (Method::ReplaceFilter, "ReplaceFilter"),
            (Method::DeleteFilter, "DeleteFilter"),
        ] {
            assert_eq!(serde_json::to_value(m).unwrap(), Value::String(name.into()));
        }
    }
}
