//! Job summaries (`gnt-job list`'s "Summary" column), e.g. `INSTANCE_CREATE(inst1)`.
//!
//! In Ganeti 3.0 the job queue and its query fields live in the Haskell daemon, so the
//! summary is `Ganeti.OpCodes.opSummary`, not Python's `OpCode.Summary`. The two agree on
//! which field is shown except for `OP_TAGS_GET` (Haskell shows the tag kind through its
//! derived `Show`, e.g. `TagKindInstance`; Python would show the name), and Haskell prints
//! the `OP_TEST_DELAY` duration with `show :: Double` (`8.0`, `1.0e-3`). An opcode that the
//! Haskell side cannot parse is summarised by its bare name (`INVALID_OP` without an
//! `OP_ID`); we use our schema validation as that parse.

use serde_json::{Map, Value};

/// How the summary value is rendered from the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Render {
    /// The string as is.
    Str,
    /// A string, or `None` when null (`OP_TEST_ALLOCATOR.iallocator`).
    StrOrNone,
    /// `show` of a Haskell `Double`.
    Double,
    /// `show` of the Haskell `TagKind` constructor.
    TagKind,
}

/// `Ganeti.OpCodes.opSummaryVal` of Ganeti 3.0.2 (plus OP_NETWORK_RENAME from 3.1).
const SUMMARY_FIELDS: &[(&str, &str, Render)] = &[
    ("OP_CLUSTER_VERIFY_GROUP", "group_name", Render::Str),
    ("OP_GROUP_VERIFY_DISKS", "group_name", Render::Str),
    ("OP_CLUSTER_RENAME", "name", Render::Str),
    ("OP_QUERY", "what", Render::Str),
    ("OP_QUERY_FIELDS", "what", Render::Str),
    ("OP_NODE_REMOVE", "node_name", Render::Str),
    ("OP_NODE_ADD", "node_name", Render::Str),
    ("OP_NODE_MODIFY_STORAGE", "node_name", Render::Str),
    ("OP_REPAIR_NODE_STORAGE", "node_name", Render::Str),
    ("OP_NODE_SET_PARAMS", "node_name", Render::Str),
    ("OP_NODE_POWERCYCLE", "node_name", Render::Str),
    ("OP_NODE_MIGRATE", "node_name", Render::Str),
    ("OP_NODE_EVACUATE", "node_name", Render::Str),
    ("OP_INSTANCE_CREATE", "instance_name", Render::Str),
    ("OP_INSTANCE_REINSTALL", "instance_name", Render::Str),
    ("OP_INSTANCE_REMOVE", "instance_name", Render::Str),
    ("OP_INSTANCE_STARTUP", "instance_name", Render::Str),
    ("OP_INSTANCE_SHUTDOWN", "instance_name", Render::Str),
    ("OP_INSTANCE_REBOOT", "instance_name", Render::Str),
    ("OP_INSTANCE_REPLACE_DISKS", "instance_name", Render::Str),
    ("OP_INSTANCE_FAILOVER", "instance_name", Render::Str),
    ("OP_INSTANCE_MIGRATE", "instance_name", Render::Str),
    ("OP_INSTANCE_MOVE", "instance_name", Render::Str),
    ("OP_INSTANCE_CONSOLE", "instance_name", Render::Str),
    ("OP_INSTANCE_ACTIVATE_DISKS", "instance_name", Render::Str),
    ("OP_INSTANCE_DEACTIVATE_DISKS", "instance_name", Render::Str),
    ("OP_INSTANCE_RECREATE_DISKS", "instance_name", Render::Str),
    ("OP_INSTANCE_SET_PARAMS", "instance_name", Render::Str),
    ("OP_INSTANCE_GROW_DISK", "instance_name", Render::Str),
    ("OP_INSTANCE_CHANGE_GROUP", "instance_name", Render::Str),
    ("OP_GROUP_ADD", "group_name", Render::Str),
    ("OP_GROUP_ASSIGN_NODES", "group_name", Render::Str),
    ("OP_GROUP_SET_PARAMS", "group_name", Render::Str),
    ("OP_GROUP_REMOVE", "group_name", Render::Str),
    ("OP_GROUP_EVACUATE", "group_name", Render::Str),
    ("OP_BACKUP_PREPARE", "instance_name", Render::Str),
    ("OP_BACKUP_EXPORT", "instance_name", Render::Str),
    ("OP_BACKUP_REMOVE", "instance_name", Render::Str),
    ("OP_TAGS_GET", "kind", Render::TagKind),
    ("OP_TAGS_SEARCH", "pattern", Render::Str),
    ("OP_TEST_DELAY", "duration", Render::Double),
    ("OP_TEST_ALLOCATOR", "iallocator", Render::StrOrNone),
    ("OP_NETWORK_ADD", "network_name", Render::Str),
    ("OP_NETWORK_REMOVE", "network_name", Render::Str),
    ("OP_NETWORK_SET_PARAMS", "network_name", Render::Str),
    ("OP_NETWORK_CONNECT", "network_name", Render::Str),
    ("OP_NETWORK_DISCONNECT", "network_name", Render::Str),
    ("OP_NETWORK_RENAME", "network_name", Render::Str),
];

fn entry(op_id: &str) -> Option<&'static (&'static str, &'static str, Render)> {
    SUMMARY_FIELDS.iter().find(|(o, _, _)| *o == op_id)
}

/// The parameter whose value Ganeti's job summary shows in parentheses for `op_id`.
pub fn summary_field(op_id: &str) -> Option<&'static str> {
    entry(op_id).map(|(_, f, _)| *f)
}

/// The job-list summary of a serialized opcode, e.g. `TEST_DELAY(8.0)`.
pub fn summary(op: &Map<String, Value>) -> String {
    let Some(Value::String(op_id)) = op.get("OP_ID") else {
        return "INVALID_OP".to_owned();
    };
    let name: String = op_id.chars().skip(3).collect();
    let Ok(valid) = crate::validate_and_fill(op) else {
        return name;
    };
    let Some((_, field, render)) = entry(op_id) else {
        return name;
    };
    let value = valid.get(*field).unwrap_or(&Value::Null);
    let shown = match (render, value) {
        (Render::Str | Render::StrOrNone, Value::String(s)) => s.clone(),
        (Render::StrOrNone, Value::Null) => "None".to_owned(),
        (Render::Double, Value::Number(n)) => match n.as_f64() {
            Some(f) => show_double(f),
            None => return name,
        },
        (Render::TagKind, Value::String(k)) => match tag_kind_constructor(k) {
            Some(c) => c.to_owned(),
            None => return name,
        },
        _ => return name,
    };
    format!("{name}({shown})")
}

/// Haskell's derived `Show` for `Ganeti.Types.TagKind`.
fn tag_kind_constructor(raw: &str) -> Option<&'static str> {
    Some(match raw {
        "instance" => "TagKindInstance",
        "node" => "TagKindNode",
        "nodegroup" => "TagKindGroup",
        "cluster" => "TagKindCluster",
        "network" => "TagKindNetwork",
        _ => return None,
    })
}

/// `show :: Double -> String` as GHC prints it: shortest round-trip digits, positional
/// notation for 0.1 <= |x| < 10^7 (always with a fractional part), otherwise
/// `d.ddde<exp>`.
pub fn show_double(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x.is_sign_negative() {
        return format!("-{}", show_double(-x));
    }
    if x == 0.0 {
        return "0.0".to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "d.ddde<exp>" or "de<exp>".
    let sci = format!("{x:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return sci;
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // GHC's floatToDigits exponent: x = 0.d1d2... * 10^e
    let e = exp + 1;
    if !(0..=7).contains(&e) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() { "0" } else { rest };
        return format!("{first}.{rest}e{}", e - 1);
    }
    if e == 0 {
        return format!("0.{digits}");
    }
    let e = e as usize;
    if digits.len() <= e {
        format!("{digits}{}.0", "0".repeat(e - digits.len()))
    } else {
        let (int, frac) = digits.split_at(e);
        format!("{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haskell_double_show() {
        for (x, s) in [
            (8.0, "8.0"),
            (0.001, "1.0e-3"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (0.05, "5.0e-2"),
            (0.125, "0.125"),
            (1.5, "1.5"),
            (10.0, "10.0"),
            (1234567.5, "1234567.5"),
            (9999999.0, "9999999.0"),
            (1.0e7, "1.0e7"),
            (12345678.9, "1.23456789e7"),
            (-2.5, "-2.5"),
            (1.0e-10, "1.0e-10"),
            (0.000123, "1.23e-4"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(show_double(x), s, "{x}");
        }
    }

    #[test]
    fn tag_kinds() {
        assert_eq!(tag_kind_constructor("nodegroup"), Some("TagKindGroup"));
        assert_eq!(tag_kind_constructor("bogus"), None);
    }
}
