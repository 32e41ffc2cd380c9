//! Result cells and the value renderings the query daemon uses.
//!
//! Ganeti's query daemon is written in Haskell, and a few of its outputs
//! carry that language's formatting: doubles inside messages are shown as
//! `1.0e-3` (`ganeti_opschema::show_double`), JSON values inside error
//! messages are pretty-printed as `["a", "b"]`,
//! and numbers that are whole are sent as integers (`"ctime": 0`). These
//! renderings are kept here, in one place, so that every resource and the
//! filter engine agree on them.

use serde_json::{Number, Value};

/// Status of a result cell: normal value.
pub const RS_NORMAL: u8 = 0;
/// Status of a result cell: the field is unknown.
pub const RS_UNKNOWN: u8 = 1;
/// Status of a result cell: no data (e.g. the node did not answer).
pub const RS_NODATA: u8 = 2;
/// Status of a result cell: the value is not available for this item.
pub const RS_UNAVAIL: u8 = 3;
/// Status of a result cell: the resource (node) is offline.
pub const RS_OFFLINE: u8 = 4;

/// One result cell: `[status, value]` on the wire.
pub type Cell = (u8, Value);

pub(crate) fn normal(v: impl Into<Value>) -> Cell {
    (RS_NORMAL, v.into())
}
pub(crate) fn nodata() -> Cell {
    (RS_NODATA, Value::Null)
}
pub(crate) fn unavail() -> Cell {
    (RS_UNAVAIL, Value::Null)
}
pub(crate) fn unknown() -> Cell {
    (RS_UNKNOWN, Value::Null)
}
/// A normal value when present, "unavailable" otherwise.
pub(crate) fn maybe_unavail(v: Option<Value>) -> Cell {
    v.map(normal).unwrap_or_else(unavail)
}
/// A normal value when present, "no data" otherwise.
pub(crate) fn maybe_nodata(v: Option<Value>) -> Cell {
    v.map(normal).unwrap_or_else(nodata)
}

/// Replace whole floating-point numbers by integers, recursively, as the
/// query daemon's JSON encoder does (`1.0` is sent as `1`).
pub(crate) fn normalize_numbers(v: &mut Value) {
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15) {
                *n = Number::from(f as i64);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(normalize_numbers),
        Value::Object(o) => o.values_mut().for_each(normalize_numbers),
        _ => {}
    }
}

/// A number as Haskell's JSON library shows it inside messages.
fn pp_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
        Some(f) => ganeti_opschema::show_double(f),
        None => n.to_string(),
    }
}

/// Pretty-print a JSON value the way the query daemon embeds values in
/// error messages (Haskell's `Text.JSON.Pretty` on one line): `["a", "b"]`,
/// `{"k": 1}`.
pub fn pp_value(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => pp_number(n),
        Value::String(s) => pp_string(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(pp_value).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{}: {}", pp_string(k), pp_value(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// A string as `Text.JSON.Pretty` quotes it: `\\` and `"` escaped, control
/// characters and everything from U+007F on as `\u` and the code point.
fn pp_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            // the code point in (at least four) hex digits, no surrogates
            c if c.is_control() || u32::from(c) >= 0x7f => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One piece of a natural-sort key: a run of digits or a run of others.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyPart {
    /// Digits without leading zeros (compared by length, then text).
    Num(String),
    Text(String),
}

impl Ord for KeyPart {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        match (self, other) {
            (KeyPart::Num(a), KeyPart::Num(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (KeyPart::Num(_), KeyPart::Text(_)) => Ordering::Less,
            (KeyPart::Text(_), KeyPart::Num(_)) => Ordering::Greater,
            (KeyPart::Text(a), KeyPart::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for KeyPart {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn nice_key(s: &str) -> Vec<KeyPart> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest
            .find(|ch: char| ch.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (run, tail) = rest.split_at(end);
        out.push(if digit {
            let t = run.trim_start_matches('0');
            KeyPart::Num(t.to_string())
        } else {
            KeyPart::Text(run.to_string())
        });
        rest = tail;
    }
    out
}

/// Compare two names as Ganeti's `niceSort` does (`inst2 < inst10`).
pub fn nice_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    nice_key(a).cmp(&nice_key(b))
}

/// Sort items by a name, naturally and stably (Ganeti's `niceSortKey`).
pub fn nice_sort_by_key<T>(items: &mut [T], key: impl Fn(&T) -> &str) {
    items.sort_by(|a, b| nice_cmp(key(a), key(b)));
}

/// Sort strings naturally (Ganeti's `niceSort`).
pub fn nice_sort(items: &mut [String]) {
    items.sort_by(|a, b| nice_cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_values() {
        assert_eq!(pp_value(&json!(["name"])), r#"["name"]"#);
        assert_eq!(
            pp_value(&json!(["a", 1, null, true])),
            r#"["a", 1, null, true]"#
        );
        assert_eq!(pp_value(&json!({"k": [1.5]})), r#"{"k": [1.5]}"#);
        assert_eq!(pp_value(&json!([0.001, 2.0])), "[1.0e-3, 2]");
        assert_eq!(pp_value(&json!("q\"x")), r#""q\"x""#);
        assert_eq!(
            pp_value(&json!(["a\"\\", {"k": [1, 2.0, 2.5, true, null]}, "é\u{1}\u{1f600}"])),
            r#"["a\"\\", {"k": [1, 2, 2.5, true, null]}, "\u00e9\u0001\u1f600"]"#
        );
    }

    #[test]
    fn whole_floats_become_integers() {
        let mut v = json!({"a": 1.0, "b": [0.0, 2.5, 3], "c": "1.0"});
        normalize_numbers(&mut v);
        assert_eq!(v.to_string(), r#"{"a":1,"b":[0,2.5,3],"c":"1.0"}"#);
    }

    #[test]
    fn natural_sort() {
        let mut v: Vec<String> = [
            "inst10", "inst2", "inst1", "a", "inst02x", "b1", "1a", "inst",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        nice_sort(&mut v);
        assert_eq!(
            v,
            vec!["1a", "a", "b1", "inst", "inst1", "inst2", "inst02x", "inst10"]
        );
        assert_eq!(nice_cmp("node9", "node10"), std::cmp::Ordering::Less);
        assert_eq!(
            nice_cmp("inst2.example.com", "inst10.example.com"),
            std::cmp::Ordering::Less
        );
        assert_eq!(
            nice_cmp("x99999999999999999999999", "x100000000000000000000000"),
            std::cmp::Ordering::Less
        );
    }
}
