//! Parameter dictionaries: their value types, validation and layering.
//!
//! Ganeti layers parameters: cluster defaults < group < instance (and os
//! overrides for hvparams). An instance stores only what the operator set;
//! the effective value is computed when needed. Every key is checked against
//! a type table so unknown or malformed parameters are refused when a job is
//! submitted, with Ganeti's wording.

use serde_json::{Number, Value};

use crate::errors::GanetiError;
use crate::Dict;

/// The value type of a parameter (Ganeti's `VTYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VType {
    Str,
    MaybeStr,
    Bool,
    Size,
    Int,
    Float,
}

/// Backend parameter types; `memory` is the legacy alias of maxmem+minmem.
pub const BE_TYPES: &[(&str, VType)] = &[
    ("always_failover", VType::Bool),
    ("auto_balance", VType::Bool),
    ("maxmem", VType::Size),
    ("memory", VType::Size),
    ("minmem", VType::Size),
    ("spindle_use", VType::Int),
    ("vcpus", VType::Int),
];

/// NIC parameter types.
pub const NIC_TYPES: &[(&str, VType)] = &[
    ("mode", VType::Str),
    ("link", VType::Str),
    ("vlan", VType::Str),
];

/// Node parameter types.
pub const ND_TYPES: &[(&str, VType)] = &[
    ("cpu_speed", VType::Float),
    ("exclusive_storage", VType::Bool),
    ("oob_program", VType::Str),
    ("ovs", VType::Bool),
    ("ovs_link", VType::Str),
    ("ovs_name", VType::Str),
    ("spindle_count", VType::Int),
    ("ssh_port", VType::Int),
];

/// Hypervisor parameter types for a hypervisor (the tables live with the
/// other per-hypervisor rules in [`crate::hvparams`]).
pub fn hv_types(hv: &str) -> &'static [(&'static str, VType)] {
    crate::hvparams::types(hv)
}

/// Parse a size as Ganeti's `ParseUnit` does: plain numbers are MiB,
/// suffixes m/g/t (case-insensitive, optional "b"/"ib"); fractions round up.
pub fn parse_unit(input: &str) -> Result<u64, String> {
    let s = input.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| "Invalid format".to_string())?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "m" | "mb" | "mib" => 1.0,
        "g" | "gb" | "gib" => 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0,
        other => return Err(format!("Unknown unit: {other}")),
    };
    let v = (value * mult).ceil();
    if !v.is_finite() || v < 0.0 {
        return Err("Invalid format".to_string());
    }
    Ok(v as u64)
}

/// Coerce one value to its type (Ganeti's `ForceDictType` for one key).
pub fn coerce(key: &str, v: &Value, t: VType) -> Result<Value, GanetiError> {
    let bad = |what: &str, extra: &str| {
        GanetiError::Parameter(format!(
            "'{key}' (value {}) is not a valid {what}{extra}",
            crate::hvparams::py_value(v)
        ))
    };
    Ok(match t {
        VType::Str => match v {
            Value::String(_) => v.clone(),
            Value::Null => Value::String(String::new()),
            Value::Number(n) => Value::String(n.to_string()),
            _ => return Err(bad("string", "")),
        },
        VType::MaybeStr => match v {
            Value::String(s) if s.is_empty() => Value::Null,
            Value::String(_) | Value::Null => v.clone(),
            _ => return Err(bad("string", "")),
        },
        VType::Bool => match v {
            Value::Bool(_) => v.clone(),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" | "on" => Value::Bool(true),
                "false" | "no" | "0" | "off" | "" => Value::Bool(false),
                _ => return Err(bad("boolean", "")),
            },
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Value::Bool(n.as_i64() == Some(1))
            }
            _ => return Err(bad("boolean", "")),
        },
        VType::Size => match v {
            Value::Number(n) if n.as_u64().is_some() => v.clone(),
            Value::String(s) => match parse_unit(s) {
                Ok(x) => Value::Number(x.into()),
                Err(e) => return Err(bad("size", &format!(". error: {e}"))),
            },
            _ => return Err(bad("size", ". error: Invalid format")),
        },
        VType::Int => match v {
            Value::Number(n) if n.as_i64().is_some() => v.clone(),
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(x) => Value::Number(x.into()),
                Err(_) => return Err(bad("integer", "")),
            },
            _ => return Err(bad("integer", "")),
        },
        VType::Float => match v {
            Value::Number(_) => v.clone(),
            Value::String(s) => match s.trim().parse::<f64>().ok().and_then(Number::from_f64) {
                Some(x) => Value::Number(x),
                None => return Err(bad("float", "")),
            },
            _ => return Err(bad("float", "")),
        },
    })
}

/// Check and coerce a whole dict against a type table. Unknown keys are
/// refused; `null` values (a "reset to default" request) are kept when
/// `allow_reset` is set.
pub fn force_dict_types(
    d: &Dict,
    types: &[(&str, VType)],
    allow_reset: bool,
) -> Result<Dict, GanetiError> {
    let mut out = Dict::new();
    for (k, v) in d {
        let t = types
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, t)| *t)
            .ok_or_else(|| GanetiError::Parameter(format!("Unknown parameter '{k}'")))?;
        if v.is_null() && allow_reset {
            out.insert(k.clone(), Value::Null);
            continue;
        }
        out.insert(k.clone(), coerce(k, v, t)?);
    }
    Ok(out)
}

/// Replace the legacy `memory` backend parameter by `maxmem` and `minmem`.
pub fn upgrade_beparams(d: &mut Dict) {
    if let Some(m) = d.remove("memory") {
        d.insert("maxmem".into(), m.clone());
        d.insert("minmem".into(), m);
    }
}

/// Apply an update to stored parameters: `null` removes the key (back to
/// the default), other values replace it (Ganeti's `GetUpdatedParams`).
pub fn update_params(old: &Dict, update: &Dict) -> Dict {
    let mut out = old.clone();
    for (k, v) in update {
        if v.is_null() || v.as_str() == Some("default") {
            out.remove(k);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Layer parameter dicts: later ones override earlier ones.
pub fn fill(layers: &[&Dict]) -> Dict {
    let mut out = Dict::new();
    for l in layers {
        for (k, v) in l.iter() {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn units() {
        assert_eq!(parse_unit("128"), Ok(128));
        assert_eq!(parse_unit("128M"), Ok(128));
        assert_eq!(parse_unit("1G"), Ok(1024));
        assert_eq!(parse_unit("1.5g"), Ok(1536));
        assert_eq!(parse_unit("1t"), Ok(1048576));
        assert_eq!(parse_unit("abc"), Err("Invalid format".into()));
        assert_eq!(parse_unit("12X"), Err("Unknown unit: x".into()));
    }

    #[test]
    fn force_types_coerces_and_refuses() {
        let out =
            force_dict_types(&d(json!({"memory": "256M", "vcpus": "2"})), BE_TYPES, false).unwrap();
        assert_eq!(out, d(json!({"memory": 256, "vcpus": 2})));
        let e = force_dict_types(&d(json!({"frob": 1})), BE_TYPES, false).unwrap_err();
        assert_eq!(e.message(), "Unknown parameter 'frob'");
        let e = force_dict_types(&d(json!({"memory": "abc"})), BE_TYPES, false).unwrap_err();
        assert_eq!(
            e.message(),
            "'memory' (value abc) is not a valid size. error: Invalid format"
        );
        let e = force_dict_types(&d(json!({"memory": true})), BE_TYPES, false).unwrap_err();
        assert_eq!(
            e.message(),
            "'memory' (value True) is not a valid size. error: Invalid format"
        );
    }

    #[test]
    fn update_and_fill() {
        let old = d(json!({"a": 1, "b": 2}));
        let new = update_params(&old, &d(json!({"a": null, "c": 3})));
        assert_eq!(new, d(json!({"b": 2, "c": 3})));
        let defaults = d(json!({"b": 0, "x": 9}));
        assert_eq!(fill(&[&defaults, &new]), d(json!({"b": 2, "x": 9, "c": 3})));
        let mut be = d(json!({"memory": 512}));
        upgrade_beparams(&mut be);
        assert_eq!(be, d(json!({"maxmem": 512, "minmem": 512})));
    }
}
