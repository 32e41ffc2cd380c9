//! RAPI errors and Ganeti's error body `{"code", "message", "explain"}`.
//!
//! Clients parse this body (the stock client turns it into
//! `GanetiApiError("<code> <message>: <explain>")`), so the message is
//! HTML-escaped and the explanation is Python's standard text, as Ganeti's
//! HTTP library produces them.

use ganeti_types::GanetiError;
use serde_json::{json, Value};

/// An HTTP error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {message}")]
pub struct RapiError {
    /// HTTP status code.
    pub code: u16,
    /// Unescaped message (escaped when the body is built).
    pub message: String,
}

impl RapiError {
    /// An error with an explicit message.
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        RapiError {
            code,
            message: message.into(),
        }
    }

    /// An error whose message is the standard reason phrase ("Not Found").
    pub fn plain(code: u16) -> Self {
        RapiError::new(code, reason_phrase(code))
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        RapiError::new(400, message)
    }

    /// 404 "Not Found".
    pub fn not_found() -> Self {
        RapiError::plain(404)
    }

    /// 500 with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        RapiError::new(500, message)
    }

    /// 501 for a method the resource does not implement.
    pub fn unsupported_method(method: &str, path: &str) -> Self {
        RapiError::new(
            501,
            format!("Method {method} is unsupported for path {path}"),
        )
    }

    /// The JSON body Ganeti sends with this error.
    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "message": html_escape(&self.message),
            "explain": explain(self.code),
        })
    }

    /// Map an error from the master the way Ganeti's RAPI does: a missing
    /// object is 404 for single-object reads (callers decide), a full
    /// queue is 503, anything else 500 with the error's text as Python
    /// prints the exception: a prerequisite error carries `(message, code)`
    /// and prints as that tuple.
    pub fn from_master(e: &GanetiError) -> Self {
        match e {
            GanetiError::JobQueueFull(_) => {
                RapiError::new(503, "Job queue is full, needs archiving")
            }
            _ => RapiError::internal(python_exception_text(e)),
        }
    }
}

/// `str()` of the Python exception Ganeti would raise for `e`.
pub fn python_exception_text(e: &GanetiError) -> String {
    let encoded = e.encode();
    py_exception_str(encoded[1].as_array().map(Vec::as_slice).unwrap_or(&[]))
}

/// Python's `str()` of an exception with these arguments: nothing, the
/// single argument, or the tuple of them.
pub fn py_exception_str(args: &[Value]) -> String {
    match args {
        [] => String::new(),
        [one] => ganeti_clifmt::pystr::py_str(one),
        many => format!(
            "({})",
            many.iter()
                .map(ganeti_clifmt::pystr::py_repr)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// HTML-escape like Python's `html.escape(s, quote=True)`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The standard reason phrase of a status code.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

/// Python's `BaseHTTPRequestHandler.responses[code][1]`.
pub fn explain(code: u16) -> &'static str {
    match code {
        400 => "Bad request syntax or unsupported method",
        401 => "No permission -- see authorization schemes",
        403 => "Request forbidden -- authorization will not help",
        404 => "Nothing matches the given URI",
        413 => "Entity is too large",
        415 => "Entity body in unsupported format",
        500 => "Server got itself in trouble",
        501 => "Server does not support this operation",
        502 => "Invalid responses from another server/proxy",
        503 => "The server cannot process the request due to a high load",
        504 => "The gateway server did not receive a timely response",
        505 => "Cannot fulfill request",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_escapes_like_python() {
        let e = RapiError::bad_request("Object OpX doesn't support the parameter 'a<b>&\"'");
        assert_eq!(
            e.body().to_string(),
            r#"{"code":400,"message":"Object OpX doesn&#x27;t support the parameter &#x27;a&lt;b&gt;&amp;&quot;&#x27;","explain":"Bad request syntax or unsupported method"}"#
        );
    }

    #[test]
    fn master_errors_print_like_python_exceptions() {
        let e = RapiError::from_master(&GanetiError::prereq(
            "Node name nosuch not found",
            ganeti_types::ErrorClass::NoEnt,
        ));
        assert_eq!(
            (e.code, e.message.as_str()),
            (500, "('Node name nosuch not found', 'unknown_entity')")
        );
        let e = RapiError::from_master(&GanetiError::OpExec("disk failed".into()));
        assert_eq!(e.message, "disk failed");
    }

    #[test]
    fn plain_uses_reason_phrase() {
        assert_eq!(RapiError::not_found().message, "Not Found");
        assert_eq!(RapiError::plain(415).message, "Unsupported Media Type");
    }
}
