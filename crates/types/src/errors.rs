//! Ganeti's error classes, kept as data so they cross process boundaries
//! (job results, LUXI, RAPI) exactly as Ganeti encodes them:
//! `["OpPrereqError", ["message", "wrong_state"]]`.
//!
//! Clients decide their exit codes and message prefixes from the class and
//! the error code, so both are part of the wire contract, not decoration.

use serde_json::{json, Value};

/// The `errcode` that accompanies an `OpPrereqError` (Ganeti's `ECODE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    ResolverError,
    NoRes,
    TempNoRes,
    WrongInput,
    WrongState,
    NoEnt,
    Exists,
    NotUnique,
    Fault,
    Environ,
}

impl ErrorClass {
    /// The string Ganeti puts on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::ResolverError => "resolver_error",
            ErrorClass::NoRes => "insufficient_resources",
            ErrorClass::TempNoRes => "temp_insufficient_resources",
            ErrorClass::WrongInput => "wrong_input",
            ErrorClass::WrongState => "wrong_state",
            ErrorClass::NoEnt => "unknown_entity",
            ErrorClass::Exists => "already_exists",
            ErrorClass::NotUnique => "resource_not_unique",
            ErrorClass::Fault => "internal_error",
            ErrorClass::Environ => "environment_error",
        }
    }

    /// Parse the wire string back.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "resolver_error" => ErrorClass::ResolverError,
            "insufficient_resources" => ErrorClass::NoRes,
            "temp_insufficient_resources" => ErrorClass::TempNoRes,
            "wrong_input" => ErrorClass::WrongInput,
            "wrong_state" => ErrorClass::WrongState,
            "unknown_entity" => ErrorClass::NoEnt,
            "already_exists" => ErrorClass::Exists,
            "resource_not_unique" => ErrorClass::NotUnique,
            "internal_error" => ErrorClass::Fault,
            "environment_error" => ErrorClass::Environ,
            _ => return None,
        })
    }
}

/// An error as Ganeti reports it to clients. The variant names follow
/// Ganeti's exception classes because clients dispatch on them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GanetiError {
    /// A prerequisite of the operation is not met; nothing was changed.
    #[error("{0}")]
    OpPrereq(String, ErrorClass),
    /// The operation failed while executing.
    #[error("{0}")]
    OpExec(String),
    /// A parameter failed validation before the job was accepted.
    #[error("{0}")]
    Parameter(String),
    /// A tag is not acceptable.
    #[error("{0}")]
    Tag(String),
    /// A configuration inconsistency (a bug or concurrent edit).
    #[error("{0}")]
    Config(String),
    /// A generic error from the Ganeti core.
    #[error("{0}")]
    Generic(String),
    /// A hypervisor refused its parameters or an operation (Ganeti's
    /// `HypervisorError`, a `GenericError` subclass: clients print it as
    /// "Unhandled Ganeti error").
    #[error("{0}")]
    Hypervisor(String),
    /// The job was canceled while it waited.
    #[error("{0}")]
    Canceled(String),
    /// The operation was interrupted by a daemon restart.
    #[error("{0}")]
    Retry(String),
    /// The opcode is well-formed but this release does not implement it.
    #[error("{0}")]
    Unsupported(String),
    /// The job queue holds too many jobs to take more (Ganeti's
    /// `JobQueueFull`); finished jobs must be archived first.
    #[error("{0}")]
    JobQueueFull(String),
    /// A pre hook script failed on a node (Ganeti's `HooksAbort`): the
    /// operation did not start. The message names every failure; the list
    /// holds `(node, script, output)` as Ganeti's payload does.
    #[error("{0}")]
    HooksAbort(String, Vec<(String, String, String)>),
    /// The hooks could not be run at all (Ganeti's `HooksFailure`).
    #[error("{0}")]
    HooksFailure(String),
}

impl GanetiError {
    /// Shorthand for an `OpPrereqError`.
    pub fn prereq(msg: impl Into<String>, class: ErrorClass) -> Self {
        GanetiError::OpPrereq(msg.into(), class)
    }
    /// Shorthand for `OpPrereqError(..., wrong_input)`.
    pub fn wrong_input(msg: impl Into<String>) -> Self {
        GanetiError::OpPrereq(msg.into(), ErrorClass::WrongInput)
    }
    /// Shorthand for `OpPrereqError(..., unknown_entity)`.
    pub fn noent(msg: impl Into<String>) -> Self {
        GanetiError::OpPrereq(msg.into(), ErrorClass::NoEnt)
    }
    /// Shorthand for `OpPrereqError(..., wrong_state)`.
    pub fn wrong_state(msg: impl Into<String>) -> Self {
        GanetiError::OpPrereq(msg.into(), ErrorClass::WrongState)
    }
    /// Shorthand for `OpPrereqError(..., already_exists)`.
    pub fn exists(msg: impl Into<String>) -> Self {
        GanetiError::OpPrereq(msg.into(), ErrorClass::Exists)
    }
    /// A `HooksAbort` for these `(node, script, output)` failures, with a
    /// message that names each of them.
    pub fn hooks_abort(failures: Vec<(String, String, String)>) -> Self {
        let mut msg = String::from("Hook scripts failed:");
        for (node, script, output) in &failures {
            if output.is_empty() {
                msg.push_str(&format!("\n  node: {node}, script: {script} (no output)"));
            } else {
                msg.push_str(&format!(
                    "\n  node: {node}, script: {script}, output: {output}"
                ));
            }
        }
        GanetiError::HooksAbort(msg, failures)
    }
    /// Shorthand for an `OpExecError`.
    pub fn exec(msg: impl Into<String>) -> Self {
        GanetiError::OpExec(msg.into())
    }

    /// Ganeti's exception class name.
    pub fn class_name(&self) -> &'static str {
        match self {
            GanetiError::OpPrereq(..) => "OpPrereqError",
            GanetiError::OpExec(_) => "OpExecError",
            GanetiError::Parameter(_) => "ParameterError",
            GanetiError::Tag(_) => "TagError",
            GanetiError::Config(_) => "ConfigurationError",
            GanetiError::Generic(_) => "GenericError",
            GanetiError::Hypervisor(_) => "HypervisorError",
            GanetiError::Canceled(_) => "JobCanceled",
            GanetiError::Retry(_) => "OpRetryError",
            GanetiError::Unsupported(_) => "OpCodeUnknown",
            GanetiError::JobQueueFull(_) => "JobQueueFull",
            GanetiError::HooksAbort(..) => "HooksAbort",
            GanetiError::HooksFailure(_) => "HooksFailure",
        }
    }

    /// The error code, for classes that carry one.
    pub fn error_class(&self) -> Option<ErrorClass> {
        match self {
            GanetiError::OpPrereq(_, c) => Some(*c),
            _ => None,
        }
    }

    /// Ganeti's `errors.EncodeException`: `[class, args]`.
    pub fn encode(&self) -> Value {
        match self {
            GanetiError::OpPrereq(m, c) => json!([self.class_name(), [m, c.as_str()]]),
            GanetiError::OpExec(m)
            | GanetiError::Parameter(m)
            | GanetiError::Tag(m)
            | GanetiError::Config(m)
            | GanetiError::Generic(m)
            | GanetiError::Hypervisor(m)
            | GanetiError::Canceled(m)
            | GanetiError::Retry(m)
            | GanetiError::Unsupported(m)
            | GanetiError::JobQueueFull(m)
            | GanetiError::HooksFailure(m) => json!([self.class_name(), [m]]),
            GanetiError::HooksAbort(_, failures) => {
                let items: Vec<Value> = failures.iter().map(|(n, s, o)| json!([n, s, o])).collect();
                json!([self.class_name(), [items]])
            }
        }
    }

    /// Inverse of [`GanetiError::encode`]; `None` if the value is not an encoded error.
    pub fn decode(v: &Value) -> Option<Self> {
        let arr = v.as_array()?;
        if arr.len() != 2 {
            return None;
        }
        let class = arr[0].as_str()?;
        let args = arr[1].as_array()?;
        let msg = args
            .first()
            .map(|m| {
                m.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| m.to_string())
            })
            .unwrap_or_default();
        Some(match class {
            "OpPrereqError" => {
                let code = args
                    .get(1)
                    .and_then(Value::as_str)
                    .and_then(ErrorClass::parse)
                    .unwrap_or(ErrorClass::WrongInput);
                GanetiError::OpPrereq(msg, code)
            }
            "OpExecError" => GanetiError::OpExec(msg),
            "ParameterError" => GanetiError::Parameter(msg),
            "TagError" => GanetiError::Tag(msg),
            "ConfigurationError" => GanetiError::Config(msg),
            "HypervisorError" => GanetiError::Hypervisor(msg),
            "JobCanceled" => GanetiError::Canceled(msg),
            "OpRetryError" => GanetiError::Retry(msg),
            "OpCodeUnknown" => GanetiError::Unsupported(msg),
            "JobQueueFull" => GanetiError::JobQueueFull(msg),
            "HooksFailure" => GanetiError::HooksFailure(msg),
            "HooksAbort" => {
                let failures: Vec<(String, String, String)> = args
                    .first()
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| {
                                let t = i.as_array()?;
                                let s = |k: usize| {
                                    t.get(k).and_then(Value::as_str).unwrap_or("").to_string()
                                };
                                Some((s(0), s(1), s(2)))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                GanetiError::hooks_abort(failures)
            }
            _ => GanetiError::Generic(msg),
        })
    }

    /// The message without class decoration.
    pub fn message(&self) -> &str {
        match self {
            GanetiError::OpPrereq(m, _)
            | GanetiError::OpExec(m)
            | GanetiError::Parameter(m)
            | GanetiError::Tag(m)
            | GanetiError::Config(m)
            | GanetiError::Generic(m)
            | GanetiError::Hypervisor(m)
            | GanetiError::Canceled(m)
            | GanetiError::Retry(m)
            | GanetiError::Unsupported(m)
            | GanetiError::JobQueueFull(m)
            | GanetiError::HooksAbort(m, _)
            | GanetiError::HooksFailure(m) => m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let e = GanetiError::wrong_state("Instance 'x' is marked to be up, cannot rename");
        let v = e.encode();
        assert_eq!(
            v,
            json!([
                "OpPrereqError",
                [
                    "Instance 'x' is marked to be up, cannot rename",
                    "wrong_state"
                ]
            ])
        );
        assert_eq!(GanetiError::decode(&v), Some(e));
        let x = GanetiError::exec("boom");
        assert_eq!(GanetiError::decode(&x.encode()), Some(x));
        let full = GanetiError::JobQueueFull("Job queue is full".into());
        assert_eq!(full.encode()[0], "JobQueueFull");
        assert_eq!(GanetiError::decode(&full.encode()), Some(full));
        let hv = GanetiError::Hypervisor("Parameter 'x' is not supported".into());
        assert_eq!(hv.encode()[0], "HypervisorError");
        assert_eq!(GanetiError::decode(&hv.encode()), Some(hv));
        assert_eq!(GanetiError::decode(&json!("nope")), None);
    }

    #[test]
    fn every_class_round_trips() {
        for c in [
            ErrorClass::ResolverError,
            ErrorClass::NoRes,
            ErrorClass::TempNoRes,
            ErrorClass::WrongInput,
            ErrorClass::WrongState,
            ErrorClass::NoEnt,
            ErrorClass::Exists,
            ErrorClass::NotUnique,
            ErrorClass::Fault,
            ErrorClass::Environ,
        ] {
            assert_eq!(ErrorClass::parse(c.as_str()), Some(c));
        }
        assert_eq!(ErrorClass::parse("bogus"), None);
    }
}
