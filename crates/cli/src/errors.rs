//! The errors of the gnt-* tools and how they are shown.
//!
//! Why: Ganeti's `cli.FormatError` decides, per error class, the text on
//! stderr and the exit code (`Failure: prerequisites not met for this
//! operation:` + `error type: ...`, `Parameter Error: ...`, `Unhandled
//! Ganeti error: ...`, `JobID: N` for `--submit`, ...). Errors coming back
//! from the master keep their class name and raw arguments here (rather
//! than a lossy enum) so that, e.g., an `OpPrereqError` without an error
//! code prints without the `error type:` line exactly as Ganeti does.

use ganeti_clifmt::kv::{KvError, TypeEnforcementError};
use ganeti_clifmt::pystr;
use ganeti_luxi::LuxiError;
use serde_json::Value;

use crate::optparse::ParseError;

/// An error raised by Ganeti (by the master, a job, or the client code
/// emulating Ganeti's checks): its exception class and arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct GanetiErr {
    /// Ganeti's exception class name (`OpPrereqError`, `OpExecError`, ...).
    pub class: String,
    /// The exception arguments.
    pub args: Vec<Value>,
}

impl GanetiErr {
    /// An error of `class` with one message.
    pub fn new(class: &str, msg: impl Into<String>) -> Self {
        GanetiErr {
            class: class.to_string(),
            args: vec![Value::String(msg.into())],
        }
    }

    /// `OpPrereqError(msg, code)`.
    pub fn prereq(msg: impl Into<String>, code: &str) -> Self {
        GanetiErr {
            class: "OpPrereqError".into(),
            args: vec![Value::String(msg.into()), Value::String(code.into())],
        }
    }

    /// `OpPrereqError(msg, "wrong_input")`, Ganeti's `ECODE_INVAL`.
    pub fn inval(msg: impl Into<String>) -> Self {
        Self::prereq(msg, "wrong_input")
    }

    /// `OpExecError(msg)`.
    pub fn exec(msg: impl Into<String>) -> Self {
        Self::new("OpExecError", msg)
    }

    /// Decode an encoded error (`[class, [args...]]`), as found in job
    /// results; `None` when `v` is not one.
    pub fn decode(v: &Value) -> Option<Self> {
        let arr = v.as_array()?;
        if arr.len() != 2 {
            return None;
        }
        let class = arr[0].as_str()?;
        if !is_error_class(class) {
            return None;
        }
        let args = match &arr[1] {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        Some(GanetiErr {
            class: class.to_string(),
            args,
        })
    }

    /// Python's `str(exception)`.
    pub fn message(&self) -> String {
        match self.args.as_slice() {
            [] => String::new(),
            [one] => pystr::py_str(one),
            many => {
                let items: Vec<String> = many.iter().map(pystr::py_repr).collect();
                format!("({})", items.join(", "))
            }
        }
    }

    fn first_arg(&self) -> String {
        self.args.first().map(pystr::py_str).unwrap_or_default()
    }
}

/// Whether `name` looks like one of Ganeti's exception classes (the names
/// `errors.MaybeRaise` would turn back into an exception).
fn is_error_class(name: &str) -> bool {
    name.ends_with("Error")
        || matches!(
            name,
            "JobCanceled"
                | "JobLost"
                | "HooksAbort"
                | "HooksFailure"
                | "JobQueueFull"
                | "OpCodeUnknown"
                | "JobSubmittedException"
                | "QuitGanetiException"
        )
}

impl From<&ganeti_types::GanetiError> for GanetiErr {
    fn from(e: &ganeti_types::GanetiError) -> Self {
        GanetiErr::decode(&e.encode())
            .unwrap_or_else(|| GanetiErr::new("GenericError", e.message()))
    }
}

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// optparse refused the command line (usage on stderr, exit 2).
    #[error("{0}")]
    Usage(String),
    /// A Ganeti error.
    #[error("{}", .0.message())]
    Ganeti(GanetiErr),
    /// Talking to the master failed.
    #[error("{0}")]
    Luxi(LuxiError),
    /// A `k=v` option was malformed (Ganeti's `ParameterError`).
    #[error("{0}")]
    Param(KvError),
    /// Parameters failed type enforcement (`TypeEnforcementError`).
    #[error("{0}")]
    Type(TypeEnforcementError),
    /// `--submit`: not an error, the job id to report.
    #[error("JobID: {0}")]
    Submitted(u64),
    /// A message Ganeti's client prints itself on stderr, with an exit code.
    #[error("{0}")]
    Message(String, i32),
    /// Writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<GanetiErr> for CliError {
    fn from(e: GanetiErr) -> Self {
        CliError::Ganeti(e)
    }
}

impl From<LuxiError> for CliError {
    fn from(e: LuxiError) -> Self {
        match e {
            LuxiError::Ganeti(g) => CliError::Ganeti(GanetiErr::from(&g)),
            other => CliError::Luxi(other),
        }
    }
}

impl From<KvError> for CliError {
    fn from(e: KvError) -> Self {
        CliError::Param(e)
    }
}

impl From<TypeEnforcementError> for CliError {
    fn from(e: TypeEnforcementError) -> Self {
        CliError::Type(e)
    }
}

impl From<ParseError> for CliError {
    fn from(e: ParseError) -> Self {
        match e {
            ParseError::Usage(m) => CliError::Usage(m),
            ParseError::Param(k) => CliError::Param(k),
        }
    }
}

/// Ganeti's `cli.FormatError` for an error from the Ganeti core.
pub fn format_ganeti_error(e: &GanetiErr) -> (i32, String) {
    let msg = e.message();
    let text = match e.class.as_str() {
        "ConfigurationError" => {
            return (2, format!("Corrupt configuration file: {msg}\nAborting."));
        }
        "HooksAbort" => {
            let mut s = String::from("Failure: hooks execution failed:\n");
            if let Some(Value::Array(items)) = e.args.first() {
                for item in items {
                    if let Some([node, script, out]) = item.as_array().map(Vec::as_slice) {
                        let (node, script, out) =
                            (pystr::py_str(node), pystr::py_str(script), pystr::py_str(out));
                        if out.is_empty() {
                            s.push_str(&format!("  node: {node}, script: {script} (no output)\n"));
                        } else {
                            s.push_str(&format!("  node: {node}, script: {script}, output: {out}\n"));
                        }
                    }
                }
            }
            s
        }
        "HooksFailure" => format!("Failure: hooks general failure: {msg}"),
        "ResolverError" => format!("Failure: can't resolve hostname '{}'", e.first_arg()),
        "OpPrereqError" => {
            if e.args.len() == 2 {
                format!(
                    "Failure: prerequisites not met for this operation:\nerror type: {}, error details:\n{}",
                    pystr::py_str(&e.args[1]),
                    pystr::py_str(&e.args[0])
                )
            } else {
                format!("Failure: prerequisites not met for this operation:\n{msg}")
            }
        }
        "OpExecError" => format!("Failure: command execution error:\n{msg}"),
        "TagError" => format!("Failure: invalid tag(s) given:\n{msg}"),
        "JobQueueDrainError" => {
            "Failure: the job queue is marked for drain and doesn't accept new requests".into()
        }
        "JobQueueFull" => "Failure: the job queue is full and doesn't accept new job submissions until old jobs are archived".into(),
        "TypeEnforcementError" => format!("Parameter Error: {msg}"),
        "ParameterError" => format!("Failure: unknown/wrong parameter name '{msg}'"),
        "JobLost" => format!("Error checking job status: {msg}"),
        "QueryFilterParseError" => {
            let mut s = format!("Error while parsing query filter: {}", e.first_arg());
            for extra in e.args.iter().skip(1) {
                s.push('\n');
                s.push_str(&pystr::py_str(extra));
            }
            s
        }
        _ => format!("Unhandled Ganeti error: {msg}"),
    };
    (1, text.trim_end_matches('\n').to_string())
}

/// Ganeti's `cli.FormatError` for any error of a command: the exit code
/// and the text for stderr (without a final newline).
pub fn format_error(e: &CliError) -> (i32, String) {
    match e {
        CliError::Usage(m) => (2, m.clone()),
        CliError::Ganeti(g) => format_ganeti_error(g),
        CliError::Luxi(l) => (1, format_luxi_error(l)),
        CliError::Param(k) => (1, k.cli_message()),
        CliError::Type(t) => (1, t.cli_message()),
        CliError::Submitted(id) => (0, format!("JobID: {id}")),
        CliError::Message(m, rc) => (*rc, m.clone()),
        CliError::Io(err) => (1, format!("Unhandled exception: {err}")),
    }
}

/// The texts Ganeti prints for failures to talk to the master.
pub fn format_luxi_error(e: &LuxiError) -> String {
    match e {
        LuxiError::NoMaster { .. } => "Cannot communicate with the master daemon.\nIs the process running and listening for connections?".into(),
        LuxiError::Io(err) => format!(
            "Timeout while talking to the master daemon. Jobs might have been submitted and will continue to run even if the call timed out. Useful commands in this situation are \"gnt-job list\", \"gnt-job cancel\" and \"gnt-job watch\". Error:\n{err}"
        ),
        LuxiError::Protocol(m) => {
            format!("Unhandled protocol error while talking to the master daemon:\n{m}")
        }
        LuxiError::Ganeti(g) => format_ganeti_error(&GanetiErr::from(g)).1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prereq_with_and_without_code() {
        let e = GanetiErr::decode(&json!([
            "OpPrereqError",
            ["Node 'x' not known", "unknown_entity"]
        ]))
        .unwrap();
        assert_eq!(
            format_ganeti_error(&e),
            (
                1,
                "Failure: prerequisites not met for this operation:\nerror type: unknown_entity, error details:\nNode 'x' not known".to_string()
            )
        );
        let e = GanetiErr::decode(&json!([
            "OpPrereqError",
            ["Duration must be greater than zero"]
        ]))
        .unwrap();
        assert_eq!(
            format_ganeti_error(&e).1,
            "Failure: prerequisites not met for this operation:\nDuration must be greater than zero"
        );
    }

    #[test]
    fn other_classes() {
        let e = GanetiErr::exec("OS Parameters validation failed");
        assert_eq!(
            format_ganeti_error(&e).1,
            "Failure: command execution error:\nOS Parameters validation failed"
        );
        let e = GanetiErr::new(
            "HypervisorError",
            "Parameter 'kernel_path' is not supported",
        );
        assert_eq!(
            format_ganeti_error(&e).1,
            "Unhandled Ganeti error: Parameter 'kernel_path' is not supported"
        );
        let e = GanetiErr::new("TagError", "Tag contains invalid characters");
        assert_eq!(
            format_ganeti_error(&e).1,
            "Failure: invalid tag(s) given:\nTag contains invalid characters"
        );
        let e = GanetiErr::new("ConfigurationError", "bad");
        assert_eq!(format_ganeti_error(&e).0, 2);
        assert_eq!(
            format_error(&CliError::Submitted(29)),
            (0, "JobID: 29".into())
        );
        // not an encoded error
        assert!(GanetiErr::decode(&json!(["node1", ["x"]])).is_none());
        assert!(GanetiErr::decode(&json!("x")).is_none());
        // several args print as a tuple
        let e = GanetiErr {
            class: "OpExecError".into(),
            args: vec![json!("a"), json!(1)],
        };
        assert_eq!(e.message(), "('a', 1)");
    }

    #[test]
    fn luxi_errors() {
        let e = LuxiError::Protocol("Failed to parse request".into());
        assert_eq!(
            format_luxi_error(&e),
            "Unhandled protocol error while talking to the master daemon:\nFailed to parse request"
        );
        let g = ganeti_types::GanetiError::wrong_state("Cluster is already initialised");
        let c: CliError = LuxiError::Ganeti(g).into();
        assert_eq!(
            format_error(&c).1,
            "Failure: prerequisites not met for this operation:\nerror type: wrong_state, error details:\nCluster is already initialised"
        );
    }
}
