//! Ganeti 3.0.2's opcode parameter schema, driven by the dumped spec table.
//!
//! Why this crate exists: every opcode that enters the system (RAPI body, LUXI job, CLI)
//! must be accepted or rejected exactly as Ganeti's `BaseOpCode.Validate` would — same
//! parameter names, types, defaults and required set, unknown parameters refused — and
//! the job list needs Ganeti's opcode summaries. Rather than hand-writing 75 opcode
//! structs, the schema is read from `spec/opcodes.tsv` (dumped from Ganeti 3.0.2) once,
//! and a small type-language checker ([`TypeExpr`]) does the validation.
//!
//! Error texts follow Ganeti: a bad or missing value is
//! `Parameter 'OP_TEST_DELAY.duration' fails validation` (an `OpPrereqError` with
//! `wrong_input`), an unknown key is Python's constructor error
//! `Object OpTestDelay doesn't support the parameter 'foo'`.

mod netaddr;
mod spec;
mod summary;
mod typeexpr;

use std::sync::LazyLock;

use serde_json::{Map, Value};

pub use spec::{OpDef, ParamDef};
pub use summary::{show_double, summary, summary_field};
pub use typeexpr::{Literal, TypeExpr, TypeParseError};

static SCHEMA: LazyLock<spec::Schema> = LazyLock::new(|| match spec::load(spec::OPCODES_TSV) {
    Ok(s) => s,
    // The table is compiled in and every row is parsed by the unit tests, so this can
    // only fire on a build whose spec file was edited without running them.
    Err(e) => panic!("embedded opcodes.tsv is invalid: {e}"),
});

/// The serialized-dict key naming the opcode.
pub const OP_ID_KEY: &str = "OP_ID";

/// Why an opcode dict was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpSchemaError {
    /// The dict has no `OP_ID` key.
    #[error("Invalid data to LoadOpcode, missing OP_ID")]
    MissingOpId,
    /// `OP_ID` names no Ganeti 3.0.2 opcode (or is not a string; then `op_id` holds its JSON).
    #[error("Invalid data to LoadOpCode: OP_ID {op_id} unsupported")]
    UnknownOpcode {
        /// The offending identifier.
        op_id: String,
    },
    /// A key that is not a parameter of this opcode.
    #[error("Object {} doesn't support the parameter '{param}'", class_name(op_id))]
    UnknownParam {
        /// The opcode.
        op_id: String,
        /// The unknown key.
        param: String,
    },
    /// A required parameter is absent.
    #[error("Parameter '{op_id}.{param}' fails validation")]
    MissingParam {
        /// The opcode.
        op_id: String,
        /// The missing parameter.
        param: String,
    },
    /// A parameter value does not match its type.
    #[error("Parameter '{op_id}.{param}' fails validation")]
    InvalidParam {
        /// The opcode.
        op_id: String,
        /// The parameter.
        param: String,
        /// The expected type in the spec's notation (not part of Ganeti's message).
        expected: String,
    },
}

impl OpSchemaError {
    /// Ganeti's error code (`errcode`) for this error.
    pub fn error_class(&self) -> &'static str {
        "wrong_input"
    }

    /// The opcode concerned, when known.
    pub fn op_id(&self) -> Option<&str> {
        match self {
            OpSchemaError::MissingOpId => None,
            OpSchemaError::UnknownOpcode { op_id }
            | OpSchemaError::UnknownParam { op_id, .. }
            | OpSchemaError::MissingParam { op_id, .. }
            | OpSchemaError::InvalidParam { op_id, .. } => Some(op_id),
        }
    }

    /// The parameter concerned, when there is one.
    pub fn param(&self) -> Option<&str> {
        match self {
            OpSchemaError::MissingOpId | OpSchemaError::UnknownOpcode { .. } => None,
            OpSchemaError::UnknownParam { param, .. }
            | OpSchemaError::MissingParam { param, .. }
            | OpSchemaError::InvalidParam { param, .. } => Some(param),
        }
    }
}

/// Python class name of an opcode: `OP_TEST_DELAY` -> `OpTestDelay`.
pub fn class_name(op_id: &str) -> String {
    let mut out = String::with_capacity(op_id.len());
    for part in op_id.split('_').filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars.flat_map(char::to_lowercase));
        }
    }
    out
}

/// All Ganeti 3.0.2 opcode identifiers, sorted.
pub fn opcode_ids() -> impl Iterator<Item = &'static str> {
    SCHEMA.ops.keys().map(String::as_str)
}

/// The definition of a Ganeti 3.0.2 opcode.
pub fn opdef(op_id: &str) -> Option<&'static OpDef> {
    SCHEMA.ops.get(op_id)
}

/// Opcodes that only exist from Ganeti 3.1 on (e.g. `OP_NETWORK_RENAME`); informational,
/// [`validate_and_fill`] rejects them.
pub fn later_opdef(op_id: &str) -> Option<&'static OpDef> {
    SCHEMA.later_ops.get(op_id)
}

/// The parameters every opcode accepts (`dry_run`, `debug_level`, `priority`, `depends`,
/// `comment`, `reason`), excluding the `OP_ID` key itself.
pub fn common_params() -> impl Iterator<Item = &'static ParamDef> {
    SCHEMA.common.iter().filter(|p| p.name != OP_ID_KEY)
}

/// Looks up a parameter of `op_id`, including the common ones.
pub fn param_def(op_id: &str, name: &str) -> Option<&'static ParamDef> {
    let def = opdef(op_id)?;
    def.param(name)
        .or_else(|| common_params().find(|p| p.name == name))
}

/// Whether `result` matches the declared result type of `op_id` (`None`: unknown opcode).
pub fn result_matches(op_id: &str, result: &Value) -> Option<bool> {
    opdef(op_id).map(|d| d.result.matches(result))
}

/// Common parameters Ganeti stores as `null` when unset (every other unset
/// optional parameter is left out of the stored opcode).
const NULL_SERIALISED: &[&str] = &["depends", "comment"];

/// Validate a serialized opcode dict `{"OP_ID": ..., params...}` like Ganeti does:
/// unknown `OP_ID`, unknown params, missing required params and type errors are errors;
/// absent optional params are filled with their defaults, and integers given for float
/// parameters become floats. Parameters are checked in Ganeti's order (opcode-specific ones
/// first, so the first failure reported is Ganeti's), and the result is laid out like the
/// Haskell job queue stores opcodes: the common parameters, `OP_ID`, then the opcode's own.
pub fn validate_and_fill(op: &Map<String, Value>) -> Result<Map<String, Value>, OpSchemaError> {
    let op_id = match op.get(OP_ID_KEY) {
        None => return Err(OpSchemaError::MissingOpId),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(OpSchemaError::UnknownOpcode {
                op_id: other.to_string(),
            })
        }
    };
    let def = opdef(op_id).ok_or_else(|| OpSchemaError::UnknownOpcode {
        op_id: op_id.to_owned(),
    })?;
    if let Some(unknown) = op
        .keys()
        .find(|k| k.as_str() != OP_ID_KEY && param_def(op_id, k).is_none())
    {
        return Err(OpSchemaError::UnknownParam {
            op_id: op_id.to_owned(),
            param: unknown.clone(),
        });
    }
    let mut checked = Vec::with_capacity(def.params.len() + SCHEMA.common.len());
    for p in def.params.iter().chain(common_params()) {
        let value = match (op.get(&p.name), &p.default) {
            (Some(v), _) => v,
            (None, Some(d)) => d,
            (None, None) => {
                return Err(OpSchemaError::MissingParam {
                    op_id: op_id.to_owned(),
                    param: p.name.clone(),
                })
            }
        };
        let stored =
            p.ty.coerce(value)
                .ok_or_else(|| OpSchemaError::InvalidParam {
                    op_id: op_id.to_owned(),
                    param: p.name.clone(),
                    expected: p.type_text.clone(),
                })?;
        if stored.is_null()
            && !op.contains_key(&p.name)
            && !NULL_SERIALISED.contains(&p.name.as_str())
        {
            // Ganeti's job queue leaves an unset optional parameter out of
            // the stored opcode; only these few are written as `null`.
            continue;
        }
        checked.push((p.name.clone(), stored));
    }
    // Checked in Python's order (own, common); stored in Haskell's (common, OP_ID, own).
    let own = checked
        .iter()
        .filter(|(name, _)| def.params.iter().any(|p| &p.name == name))
        .count();
    let mut out = Map::new();
    out.extend(checked.drain(own..));
    out.insert(OP_ID_KEY.to_owned(), Value::String(op_id.to_owned()));
    out.extend(checked);
    Ok(out)
}

#[cfg(test)]
mod tests;
