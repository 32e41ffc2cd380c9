//! Small helpers for reading opcode parameters and building config deltas.

use ganeti_types::{Dict, GanetiError};
use serde_json::Value;

/// A string parameter (absent or null → None).
pub fn str_param<'a>(op: &'a Dict, name: &str) -> Option<&'a str> {
    op.get(name).and_then(Value::as_str)
}

/// A required string parameter (opschema guarantees presence; this guards anyway).
pub fn req_str<'a>(op: &'a Dict, name: &str) -> Result<&'a str, GanetiError> {
    str_param(op, name)
        .ok_or_else(|| GanetiError::wrong_input(format!("Parameter '{name}' is required")))
}

/// A boolean parameter (absent → false).
pub fn bool_param(op: &Dict, name: &str) -> bool {
    op.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// An optional boolean parameter.
pub fn opt_bool(op: &Dict, name: &str) -> Option<bool> {
    op.get(name).and_then(Value::as_bool)
}

/// An unsigned integer parameter.
pub fn u64_param(op: &Dict, name: &str) -> Option<u64> {
    op.get(name).and_then(Value::as_u64)
}

/// A dict parameter (absent/null → empty).
pub fn dict_param(op: &Dict, name: &str) -> Dict {
    op.get(name)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// A list-of-strings parameter.
pub fn str_list(op: &Dict, name: &str) -> Vec<String> {
    op.get(name)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Ganeti's hostname rule for object names: letters, digits, `-`, `.`,
/// `_`, not empty, at most 255 characters.
pub fn check_name(kind: &str, name: &str) -> Result<(), GanetiError> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '+'))
        && !name.starts_with('-')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(GanetiError::wrong_input(format!(
            "Invalid {kind} name '{name}'"
        )))
    }
}
