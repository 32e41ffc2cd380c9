//! Ganeti's query filter language ("qlang") in its JSON form.
//!
//! A filter is a nested list whose head is an operator:
//! `["|", f...]`, `["&", f...]`, `["!", f]`, `["?", field]`,
//! `["==" | "=" | "!=" | "<" | "<=" | ">" | ">=", field, value]`,
//! `["=~", field, regex]` and `["=[]", field, value]`. Values are strings or
//! integers. The semantics follow Ganeti's query daemon: a field whose
//! value is not available for an item (status other than normal) lets the
//! item pass that comparison, equality on host-name fields accepts a
//! unique short name (`inst1` matches `inst1.example.com`), and comparing
//! values of different types is an error rather than "false".
//!
//! Parsing is separate from evaluation so that malformed filters and
//! unknown fields are refused before any data is looked at.

use regex::Regex;
use serde_json::{json, Value};

use crate::error::QueryError;
use crate::value::{pp_value, Cell, RS_NORMAL};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A value on the right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FilterValue {
    Str(String),
    Num(i128),
}

impl FilterValue {
    /// Haskell's `show` of the value, used in messages.
    fn show(&self) -> String {
        match self {
            FilterValue::Str(s) => format!("QuotedString {}", Value::String(s.clone())),
            FilterValue::Num(n) => format!("NumericValue {n}"),
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    True(String),
    Cmp(Cmp, String, FilterValue),
    Regex(String, Regex),
    Contains(String, FilterValue),
}

/// How a field's value is prepared for comparisons (Ganeti's `QffMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qff {
    Normal,
    /// Equality accepts a short name matching the first name components.
    Hostname,
    /// The value is `[seconds, microseconds]`; comparisons use the seconds.
    Timestamp,
}

fn bad(message: String) -> QueryError {
    QueryError::BadFilter { message }
}

fn args_repr(args: &[Value]) -> String {
    pp_value(&Value::Array(args.to_vec()))
}

fn parse_value(v: &Value) -> Result<FilterValue, QueryError> {
    match v {
        Value::String(s) => Ok(FilterValue::Str(s.clone())),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(FilterValue::Num(i128::from(i)))
            } else if let Some(u) = n.as_u64() {
                Ok(FilterValue::Num(i128::from(u)))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() && f.fract() == 0.0 && f.abs() < 1.0e30 {
                    Ok(FilterValue::Num(f as i128))
                } else {
                    Err(bad(format!(
                        "Cannot deserialise numeric filter value, expecting integral but got a fractional value: {}",
                        rational_repr(&n.to_string())
                    )))
                }
            }
        }
        other => Err(bad(format!(
            "Cannot deserialise filter value, expecting string or integer, got {}",
            pp_value(other)
        ))),
    }
}

/// Haskell's `show` of the exact rational a decimal literal denotes
/// (`1.5` is `3 % 2`).
fn rational_repr(lit: &str) -> String {
    fn gcd(a: u128, b: u128) -> u128 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let (neg, body) = match lit.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, lit),
    };
    let (mant, exp) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (body, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int}{frac}");
    let scale = frac.len() as i32 - exp;
    let Ok(mut num) = digits.parse::<u128>() else {
        return lit.to_string();
    };
    let mut den: u128 = 1;
    if scale > 0 {
        for _ in 0..scale.min(30) {
            den *= 10;
        }
    } else {
        for _ in 0..(-scale).min(30) {
            num = num.saturating_mul(10);
        }
    }
    let g = gcd(num, den).max(1);
    format!("{}{} % {}", if neg { "-" } else { "" }, num / g, den / g)
}

fn parse_field(v: &Value, args: &[Value], what: &str) -> Result<String, QueryError> {
    v.as_str().map(str::to_string).ok_or_else(|| {
        bad(format!(
            "Cannot deserialise field, expected {what} but got {}",
            args_repr(args)
        ))
    })
}

/// Parse a JSON filter; `null` means "no filter".
pub(crate) fn parse(v: &Value) -> Result<Option<Filter>, QueryError> {
    if v.is_null() {
        return Ok(None);
    }
    parse_inner(v).map(Some)
}

fn parse_inner(v: &Value) -> Result<Filter, QueryError> {
    let (op, args) = match v.as_array().and_then(|a| a.split_first()) {
        Some((Value::String(op), args)) => (op.as_str(), args),
        _ => {
            return Err(bad(format!(
                "Cannot deserialise filter: expected array [string, args], got {}",
                pp_value(v)
            )))
        }
    };
    let pair = |args: &[Value]| -> Result<(String, FilterValue), QueryError> {
        let pair_err = || {
            bad(format!(
                "Cannot deserialise field/value pair, expected [fieldname, value] but got {}",
                args_repr(args)
            ))
        };
        match args {
            [f, val] => {
                let field = f.as_str().ok_or_else(pair_err)?.to_string();
                Ok((field, parse_value(val)?))
            }
            _ => Err(pair_err()),
        }
    };
    Ok(match op {
        "&" => Filter::And(args.iter().map(parse_inner).collect::<Result<_, _>>()?),
        "|" => Filter::Or(args.iter().map(parse_inner).collect::<Result<_, _>>()?),
        "!" => match args {
            [f] => Filter::Not(Box::new(parse_inner(f)?)),
            _ => {
                return Err(bad(format!(
                    "Cannot deserialise field, expected [filter] but got {}",
                    args_repr(args)
                )))
            }
        },
        "?" => match args {
            [f] => Filter::True(parse_field(f, args, "[fieldname]")?),
            _ => {
                return Err(bad(format!(
                    "Cannot deserialise field, expected [fieldname] but got {}",
                    args_repr(args)
                )))
            }
        },
        "==" | "=" => {
            let (f, val) = pair(args)?;
            Filter::Cmp(Cmp::Eq, f, val)
        }
        "!=" => {
            let (f, val) = pair(args)?;
            Filter::Not(Box::new(Filter::Cmp(Cmp::Eq, f, val)))
        }
        "<" | "<=" | ">" | ">=" => {
            let (f, val) = pair(args)?;
            let c = match op {
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                _ => Cmp::Ge,
            };
            Filter::Cmp(c, f, val)
        }
        "=~" => {
            let (f, val) = pair(args)?;
            let FilterValue::Str(src) = val else {
                return Err(bad(format!(
                    "Cannot deserialise regular expression, expected a string but got {}",
                    args_repr(args)
                )));
            };
            let re = Regex::new(&src).map_err(|e| bad(format!("Invalid regex pattern ({e})")))?;
            Filter::Regex(f, re)
        }
        "=[]" => {
            let (f, val) = pair(args)?;
            Filter::Contains(f, val)
        }
        other => return Err(bad(format!("Unknown filter operand '{other}'"))),
    })
}

impl FilterValue {
    /// The value as JSON (Ganeti's `showFilterValue`).
    pub fn to_json(&self) -> Value {
        match self {
            FilterValue::Str(s) => Value::String(s.clone()),
            FilterValue::Num(n) => i64::try_from(*n)
                .map(Value::from)
                .or_else(|_| u64::try_from(*n).map(Value::from))
                .unwrap_or_else(|_| Value::String(n.to_string())),
        }
    }
}

impl Filter {
    /// The filter in Ganeti's canonical JSON form (`showFilter`): `=` is
    /// written `==` and `!=` as a negated `==`, so a stored filter reads
    /// back the way Ganeti prints it.
    pub fn to_json(&self) -> Value {
        let op = |name: &str, field: &str, v: Value| json!([name, field, v]);
        match self {
            Filter::And(fs) => Value::Array(
                std::iter::once(json!("&"))
                    .chain(fs.iter().map(Filter::to_json))
                    .collect(),
            ),
            Filter::Or(fs) => Value::Array(
                std::iter::once(json!("|"))
                    .chain(fs.iter().map(Filter::to_json))
                    .collect(),
            ),
            Filter::Not(f) => json!(["!", f.to_json()]),
            Filter::True(field) => json!(["?", field]),
            Filter::Cmp(cmp, field, v) => {
                let name = match cmp {
                    Cmp::Eq => "==",
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                };
                op(name, field, v.to_json())
            }
            Filter::Regex(field, re) => op("=~", field, json!(re.as_str())),
            Filter::Contains(field, v) => op("=[]", field, v.to_json()),
        }
    }

    /// Every field the filter refers to, in order of appearance.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().for_each(|f| f.collect_fields(out)),
            Filter::Not(f) => f.collect_fields(out),
            Filter::True(name)
            | Filter::Cmp(_, name, _)
            | Filter::Regex(name, _)
            | Filter::Contains(name, _) => out.push(name),
        }
    }

    /// Refuse a filter that names fields the resource does not have.
    pub fn check_fields(&self, known: impl Fn(&str) -> bool) -> Result<(), QueryError> {
        match self.fields().into_iter().find(|f| !known(f)) {
            Some(f) => Err(QueryError::UnknownFilterField {
                field: f.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// The names asked for when the filter only selects by name
    /// (`["|", ["=", name_field, v]...]`), Ganeti's `requestedNames`.
    pub fn requested_names(&self, name_field: &str) -> Option<Vec<FilterValue>> {
        match self {
            Filter::Or(fs) => {
                let mut out = Vec::new();
                for f in fs {
                    out.extend(f.requested_names(name_field)?);
                }
                Some(out)
            }
            Filter::Cmp(Cmp::Eq, f, v) if f == name_field => Some(vec![v.clone()]),
            _ => None,
        }
    }

    /// Evaluate the filter for one item; `get` returns the cell of a field
    /// and the field's comparison mode.
    pub fn eval(&self, get: &dyn Fn(&str) -> (Cell, Qff)) -> Result<bool, QueryError> {
        match self {
            Filter::And(fs) => {
                for f in fs {
                    if !f.eval(get)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Filter::Or(fs) => {
                for f in fs {
                    if f.eval(get)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Filter::Not(f) => Ok(!f.eval(get)?),
            Filter::True(field) => with_value(get, field, |v, _| match v {
                Value::Bool(b) => Ok(*b),
                other => Err(eval_err(format!(
                    "Unexpected value '{}' in boolean context",
                    pp_value(other)
                ))),
            }),
            Filter::Cmp(cmp, field, fv) => with_value(get, field, |v, qff| {
                if *cmp == Cmp::Eq && qff == Qff::Hostname {
                    hostname_eq(fv, v)
                } else {
                    compare(*cmp, fv, v)
                }
            }),
            Filter::Regex(field, re) => with_value(get, field, |v, _| match v {
                Value::String(s) => Ok(re.is_match(s)),
                other => Err(eval_err(format!(
                    "Invalid field value used in regexp matching, expecting string but got '{}'",
                    pp_value(other)
                ))),
            }),
            Filter::Contains(field, fv) => with_value(get, field, |v, _| contains(fv, v)),
        }
    }
}

fn eval_err(message: String) -> QueryError {
    QueryError::FilterEvaluation { message }
}

/// Run a leaf test on a field's value. Items without a normal value pass.
fn with_value(
    get: &dyn Fn(&str) -> (Cell, Qff),
    field: &str,
    test: impl FnOnce(&Value, Qff) -> Result<bool, QueryError>,
) -> Result<bool, QueryError> {
    let ((status, value), qff) = get(field);
    if status != RS_NORMAL {
        return Ok(true);
    }
    match qff {
        Qff::Timestamp => match value.as_array().map(Vec::as_slice) {
            Some([secs @ Value::Number(_), Value::Number(_)]) => test(secs, qff),
            _ => Err(eval_err(
                "Internal error: Getter returned non-timestamp for QffTimestamp".into(),
            )),
        },
        Qff::Hostname | Qff::Normal => test(&value, qff),
    }
}

/// Whether `lookup` names `full` by its leading components: `inst1`
/// matches `inst1` and `inst1.example.com` but not `inst10.example.com`.
pub(crate) fn name_component_match(full: &str, lookup: &str) -> bool {
    full == lookup
        || (full.len() > lookup.len()
            && full.starts_with(lookup)
            && full.as_bytes()[lookup.len()] == b'.')
}

fn num_cmp(cmp: Cmp, actual: &serde_json::Number, want: i128) -> bool {
    let ord = if let Some(i) = actual.as_i64() {
        i128::from(i).cmp(&want)
    } else if let Some(u) = actual.as_u64() {
        i128::from(u).cmp(&want)
    } else {
        let f = actual.as_f64().unwrap_or(f64::NAN);
        match f.partial_cmp(&(want as f64)) {
            Some(o) => o,
            None => return false,
        }
    };
    apply(cmp, ord)
}

pub(crate) fn apply(cmp: Cmp, ord: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match cmp {
        Cmp::Eq => ord == Equal,
        Cmp::Lt => ord == Less,
        Cmp::Le => ord != Greater,
        Cmp::Gt => ord == Greater,
        Cmp::Ge => ord != Less,
    }
}

fn compare(cmp: Cmp, want: &FilterValue, actual: &Value) -> Result<bool, QueryError> {
    match (want, actual) {
        (FilterValue::Str(w), Value::String(a)) => Ok(apply(cmp, a.as_str().cmp(w.as_str()))),
        (FilterValue::Num(w), Value::Number(a)) => Ok(num_cmp(cmp, a, *w)),
        _ => Err(eval_err(format!(
            "Invalid types in comparison, trying to compare {} with '{}'",
            pp_value(actual),
            want.show()
        ))),
    }
}

/// Equality on a host-name field: exact or by leading name components.
fn hostname_eq(want: &FilterValue, actual: &Value) -> Result<bool, QueryError> {
    match (want, actual) {
        (FilterValue::Str(w), Value::String(a)) => Ok(name_component_match(a, w)),
        (_, Value::Number(_)) => Err(eval_err(
            "QffHostname field returned a numeric value".into(),
        )),
        _ => compare(Cmp::Eq, want, actual),
    }
}

fn contains(want: &FilterValue, actual: &Value) -> Result<bool, QueryError> {
    let conv_err = |inner: &str| {
        eval_err(format!(
            "Cannot convert value '{}', error: {inner}",
            pp_value(actual)
        ))
    };
    let list = actual
        .as_array()
        .ok_or_else(|| conv_err("Unable to read list"))?;
    match want {
        FilterValue::Str(w) => {
            let mut found = false;
            for item in list {
                let s = item
                    .as_str()
                    .ok_or_else(|| conv_err("Unable to read String"))?;
                found |= s == w;
            }
            Ok(found)
        }
        FilterValue::Num(w) => {
            let mut found = false;
            for item in list {
                let n = item
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| item.as_u64().map(i128::from))
                    .ok_or_else(|| conv_err("Unable to read Integer"))?;
                found |= n == *w;
            }
            Ok(found)
        }
    }
}
