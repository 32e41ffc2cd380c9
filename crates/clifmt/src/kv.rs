//! Ganeti's `key=value` option syntaxes (`-B`, `-H`, `-N`, `-D`, `-O`,
//! `--disk`, `--net`, `--ipolicy-bounds-specs`, list and yes/no options)
//! and the type enforcement (`utils.ForceDictType`) applied to them.
//!
//! Why: these mini-languages are part of Ganeti's user interface. Their
//! quirks are kept on purpose because scripts depend on them: `\,` escapes a
//! comma, an element without `=` is `True`, `no_x` is `False`, `-x` means
//! "reset to default" (Python `None`), an empty element is the key `""`.
//! Parsing keeps the order the user typed (an ordered list of pairs) so that
//! messages and generated opcodes list parameters in the same order Ganeti
//! does. Errors carry the texts Ganeti prints; the CLI adds the prefix
//! (`Failure: unknown/wrong parameter name '...'` for [`KvError`],
//! `Parameter Error: ` for [`TypeEnforcementError`]).

use serde_json::{Map, Number, Value};
use thiserror::Error;

use crate::{pystr, units};

/// Prefix that turns a bare key into `False` (`no_auto_balance`).
pub const NO_PREFIX: &str = "no_";
/// Prefix that turns a bare key into "reset to default" (`-memory`).
pub const UN_PREFIX: &str = "-";
/// The value Ganeti accepts in place of a parameter to mean "the default".
pub const VALUE_DEFAULT: &str = "default";

/// One parsed value of a `key=value` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvValue {
    /// `key=text`.
    Str(String),
    /// `key` (true) or `no_key` (false).
    Bool(bool),
    /// `-key`: reset to the default (Python `None`).
    Reset,
}

impl KvValue {
    /// The JSON value Ganeti would send (`None` becomes `null`).
    pub fn to_json(&self) -> Value {
        match self {
            KvValue::Str(s) => Value::String(s.clone()),
            KvValue::Bool(b) => Value::Bool(*b),
            KvValue::Reset => Value::Null,
        }
    }

    /// `str(value)` in Python: the text, `True`/`False` or `None`.
    pub fn py_str(&self) -> String {
        match self {
            KvValue::Str(s) => s.clone(),
            KvValue::Bool(true) => "True".to_string(),
            KvValue::Bool(false) => "False".to_string(),
            KvValue::Reset => "None".to_string(),
        }
    }
}

/// An ordered `key -> value` map as typed on the command line (keys unique).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvMap {
    entries: Vec<(String, KvValue)>,
}

impl KvMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&KvValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &KvValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys in the order given.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Sets `key`, replacing an earlier value in place.
    pub fn insert(&mut self, key: impl Into<String>, value: KvValue) {
        let key = key.into();
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<KvValue> {
        let idx = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(idx).1)
    }

    /// The map as a JSON object (order kept).
    pub fn to_json(&self) -> Map<String, Value> {
        self.entries
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect()
    }
}

impl IntoIterator for KvMap {
    type Item = (String, KvValue);
    type IntoIter = std::vec::IntoIter<(String, KvValue)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// A `key=value` list that Ganeti refuses (its `ParameterError`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KvError {
    /// The same key twice in one option value.
    #[error("Duplicate key '{key}' in option {opt}")]
    DuplicateKey {
        /// The key.
        key: String,
        /// The option as typed (`-B`, `--backend-parameters`).
        opt: String,
    },
    /// An element without `=` where prefixes are not allowed.
    #[error("Missing value for key '{key}' in option {opt}")]
    MissingValue {
        /// The element.
        key: String,
        /// The option as typed.
        opt: String,
    },
    /// `no_x:...` or `-x:...`: removal of a group with options.
    #[error("Cannot pass options when removing parameter groups: {value}")]
    OptionsOnRemoval {
        /// The whole option value.
        value: String,
    },
    /// An empty `/`-separated section of a multi-list option.
    #[error("Empty section in option '{opt}'")]
    EmptySection {
        /// The option as typed.
        opt: String,
    },
    /// The same ident twice in one `/`-separated section list.
    #[error("Duplicated parameter '{ident}' in parsing {opt}: {elem}")]
    DuplicateIdent {
        /// The ident.
        ident: String,
        /// The option as typed.
        opt: String,
        /// The section that repeated it.
        elem: String,
    },
    /// A yes/no option with another value (the text is lower-cased).
    #[error("Invalid boolean value '{value}'")]
    InvalidBoolean {
        /// The value, lower-cased as Ganeti prints it.
        value: String,
    },
}

impl KvError {
    /// The whole line Ganeti's CLI prints on stderr (exit code 1).
    pub fn cli_message(&self) -> String {
        format!("Failure: unknown/wrong parameter name '{self}'")
    }
}

/// Splits on `sep` unless escaped with a backslash, then removes one level
/// of backslash escaping (`\,` is a comma, `\\` a backslash); Ganeti's
/// `utils.UnescapeAndSplit`.
pub fn unescape_and_split(text: &str, sep: char) -> Vec<String> {
    let mut pending: std::collections::VecDeque<String> =
        text.split(sep).map(str::to_string).collect();
    let mut joined = Vec::new();
    while let Some(first) = pending.pop_front() {
        let trailing = first.len() - first.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            if let Some(next) = pending.pop_front() {
                pending.push_front(format!("{first}{sep}{next}"));
                continue;
            }
        }
        joined.push(first);
    }
    joined.into_iter().map(|s| unescape(&s)).collect()
}

/// Replaces backslash + any character but a newline by that character.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some(&next) if next != '\n' => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The inverse of [`unescape_and_split`] (`utils.EscapeAndJoin`).
pub fn escape_and_join<I, S>(items: I, sep: char) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let parts: Vec<String> = items
        .into_iter()
        .map(|item| {
            let mut out = String::new();
            for c in item.as_ref().chars() {
                if c == '\\' || c == sep {
                    out.push('\\');
                }
                out.push(c);
            }
            out
        })
        .collect();
    parts.join(&sep.to_string())
}

/// Parses `k=v,k2=v2,...` (`_SplitKeyVal`). With `parse_prefixes`, an
/// element without `=` is `True`, `no_key` is `False` and `-key` is
/// [`KvValue::Reset`]; without, it is an error. An empty input is an empty
/// map; an empty element is the key `""` (set to `True`).
pub fn split_key_val(opt: &str, data: &str, parse_prefixes: bool) -> Result<KvMap, KvError> {
    let mut map = KvMap::new();
    if data.is_empty() {
        return Ok(map);
    }
    for elem in unescape_and_split(data, ',') {
        let (key, value) = if let Some((k, v)) = elem.split_once('=') {
            (k.to_string(), KvValue::Str(v.to_string()))
        } else if parse_prefixes {
            if let Some(rest) = elem.strip_prefix(NO_PREFIX) {
                (rest.to_string(), KvValue::Bool(false))
            } else if let Some(rest) = elem.strip_prefix(UN_PREFIX) {
                (rest.to_string(), KvValue::Reset)
            } else {
                (elem.clone(), KvValue::Bool(true))
            }
        } else {
            return Err(KvError::MissingValue {
                key: elem,
                opt: opt.to_string(),
            });
        };
        if map.contains_key(&key) {
            return Err(KvError::DuplicateKey {
                key,
                opt: opt.to_string(),
            });
        }
        map.entries.push((key, value));
    }
    Ok(map)
}

/// The `type="keyval"` options (`-B`, `-H` of `modify`, `-N`, `-O`, ...).
pub fn parse_key_val(opt: &str, value: &str) -> Result<KvMap, KvError> {
    split_key_val(opt, value, true)
}

/// What an `ident:k=v,...` option says about its ident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentValue {
    /// `ident` or `ident:k=v,...`: parameters for the ident (maybe none).
    Params(KvMap),
    /// `no_ident`: Python `False` (remove / disable the group).
    Removed,
    /// `-ident`: Python `None` (reset the group to its defaults).
    Reset,
}

impl IdentValue {
    /// The JSON value Ganeti would use (`{...}`, `false` or `null`).
    pub fn to_json(&self) -> Value {
        match self {
            IdentValue::Params(map) => Value::Object(map.to_json()),
            IdentValue::Removed => Value::Bool(false),
            IdentValue::Reset => Value::Null,
        }
    }
}

/// A parsed `ident:k=v,...` option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentKv {
    /// The part before the first `:` (prefix removed for removals).
    pub ident: String,
    /// Its parameters or its removal.
    pub value: IdentValue,
}

/// Parses `ident:k=v,...` (`_SplitIdentKeyVal`).
///
/// With `parse_prefixes`, `no_ident` is [`IdentValue::Removed`] and `-ident`
/// is [`IdentValue::Reset`] (unless a digit follows the `-`, so `-1:...` is
/// the ident `-1`); both refuse options after a `:`.
pub fn split_ident_key_val(
    opt: &str,
    value: &str,
    parse_prefixes: bool,
) -> Result<IdentKv, KvError> {
    let (ident, rest) = value.split_once(':').unwrap_or((value, ""));
    let removal = |ident: &str, what: IdentValue| {
        if rest.is_empty() {
            Ok(IdentKv {
                ident: ident.to_string(),
                value: what,
            })
        } else {
            Err(KvError::OptionsOnRemoval {
                value: value.to_string(),
            })
        }
    };
    if parse_prefixes {
        if let Some(name) = ident.strip_prefix(NO_PREFIX) {
            return removal(name, IdentValue::Removed);
        }
        if let Some(name) = ident.strip_prefix(UN_PREFIX) {
            if !name.starts_with(|c: char| c.is_ascii_digit()) {
                return removal(name, IdentValue::Reset);
            }
        }
    }
    Ok(IdentKv {
        ident: ident.to_string(),
        value: IdentValue::Params(split_key_val(opt, rest, parse_prefixes)?),
    })
}

/// The `type="identkeyval"` options (`--disk`, `--net`, `-D`, `-H hv:...`).
pub fn parse_ident_key_val(opt: &str, value: &str) -> Result<IdentKv, KvError> {
    split_ident_key_val(opt, value, true)
}

/// One `/`-separated section list: `ident:k=v,.../ident:k=v`.
fn split_list_key_val(opt: &str, value: &str) -> Result<Vec<(String, KvMap)>, KvError> {
    let mut out: Vec<(String, KvMap)> = Vec::new();
    for elem in value.split('/') {
        if elem.is_empty() {
            return Err(KvError::EmptySection {
                opt: opt.to_string(),
            });
        }
        let parsed = split_ident_key_val(opt, elem, false)?;
        let IdentValue::Params(map) = parsed.value else {
            // Without prefix parsing every ident carries parameters.
            continue;
        };
        if out.iter().any(|(ident, _)| *ident == parsed.ident) {
            return Err(KvError::DuplicateIdent {
                ident: parsed.ident,
                opt: opt.to_string(),
                elem: elem.to_string(),
            });
        }
        out.push((parsed.ident, map));
    }
    Ok(out)
}

/// The `type="multilistidentkeyval"` option (`--ipolicy-bounds-specs`):
/// `min:k=v,.../max:k=v,...//min:...`; one list of `(ident, params)` per
/// `//`-separated group. No prefixes: every element needs a `=`.
pub fn parse_multilist_ident_key_val(
    opt: &str,
    value: &str,
) -> Result<Vec<Vec<(String, KvMap)>>, KvError> {
    value
        .split("//")
        .map(|line| split_list_key_val(opt, line))
        .collect()
}

/// The `type="bool"` options (`yes`/`no`, `true`/`false`, any case).
pub fn parse_bool_option(value: &str) -> Result<bool, KvError> {
    let lower = value.to_lowercase();
    match lower.as_str() {
        "false" | "no" => Ok(false),
        "true" | "yes" => Ok(true),
        _ => Err(KvError::InvalidBoolean { value: lower }),
    }
}

/// The `type="list"` options: comma-separated with `\,` escapes; empty
/// input is an empty list.
pub fn parse_list_option(value: &str) -> Vec<String> {
    if value.is_empty() {
        Vec::new()
    } else {
        unescape_and_split(value, ',')
    }
}

/// A `type="maybefloat"` option value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaybeFloat {
    /// `default` (any case).
    Default,
    /// A number.
    Value(f64),
}

/// The `type="maybefloat"` options (`--ipolicy-vcpu-ratio`); the error is
/// Python's `ValueError` text.
pub fn parse_maybe_float(value: &str) -> Result<MaybeFloat, String> {
    let lower = value.to_lowercase();
    if lower == VALUE_DEFAULT {
        return Ok(MaybeFloat::Default);
    }
    pystr::py_float(&lower)
        .map(MaybeFloat::Value)
        .ok_or_else(|| pystr::float_error_message(&lower))
}

/// The value types `utils.ForceDictType` enforces (`constants.VTYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VType {
    /// `string`: text (`False` becomes `""`).
    String,
    /// `maybe-string`: text or `None`.
    MaybeString,
    /// `bool`: `true`/`false` text or any value by its truth.
    Bool,
    /// `size`: a size in Ganeti's unit syntax, becomes MiB.
    Size,
    /// `int`.
    Int,
    /// `float`.
    Float,
}

impl VType {
    /// The type for a `constants.VTYPE_*` name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "string" => VType::String,
            "maybe-string" => VType::MaybeString,
            "bool" => VType::Bool,
            "size" => VType::Size,
            "int" => VType::Int,
            "float" => VType::Float,
            _ => return None,
        })
    }
}

/// A parameter dict that fails type enforcement; the CLI prints
/// `Parameter Error: <message>` and exits 1.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct TypeEnforcementError {
    /// Ganeti's text, e.g. `'memory' (value abc) is not a valid size.
    /// error: Invalid format`.
    pub message: String,
}

impl TypeEnforcementError {
    fn new(message: String) -> Self {
        Self { message }
    }

    /// The whole line Ganeti's CLI prints on stderr.
    pub fn cli_message(&self) -> String {
        format!("Parameter Error: {}", self.message)
    }
}

/// Converts parsed parameters to typed JSON as `utils.ForceDictType` does.
///
/// `key_type` gives the type of each known key (unknown keys are refused);
/// values equal to one of `allowed_values` (e.g. [`VALUE_DEFAULT`]) are
/// passed through as text. `None` ([`KvValue::Reset`]) is only a valid
/// `maybe-string`, or `False` for a `bool`.
pub fn force_dict_type(
    params: &KvMap,
    key_type: impl Fn(&str) -> Option<VType>,
    allowed_values: &[&str],
) -> Result<Map<String, Value>, TypeEnforcementError> {
    let mut out = Map::new();
    for (key, value) in params.iter() {
        let Some(vtype) = key_type(key) else {
            return Err(TypeEnforcementError::new(format!(
                "Unknown parameter '{key}'"
            )));
        };
        if let KvValue::Str(s) = value {
            if allowed_values.contains(&s.as_str()) {
                out.insert(key.to_string(), Value::String(s.clone()));
                continue;
            }
        }
        let shown = value.py_str();
        let typed = match vtype {
            VType::String | VType::MaybeString => match value {
                KvValue::Reset if vtype == VType::MaybeString => Value::Null,
                KvValue::Str(s) => Value::String(s.clone()),
                KvValue::Bool(false) => Value::String(String::new()),
                _ => {
                    return Err(TypeEnforcementError::new(format!(
                        "'{key}' (value {shown}) is not a valid string"
                    )))
                }
            },
            VType::Bool => match value {
                KvValue::Str(s) if !s.is_empty() => match s.to_lowercase().as_str() {
                    "false" => Value::Bool(false),
                    "true" => Value::Bool(true),
                    _ => {
                        return Err(TypeEnforcementError::new(format!(
                            "'{key}' (value {shown}) is not a valid boolean"
                        )))
                    }
                },
                KvValue::Str(_) | KvValue::Reset => Value::Bool(false),
                KvValue::Bool(b) => Value::Bool(*b),
            },
            VType::Size => match units::parse_unit(&shown) {
                Ok(mib) => Value::Number(Number::from(mib)),
                Err(err) => {
                    return Err(TypeEnforcementError::new(format!(
                        "'{key}' (value {shown}) is not a valid size. error: {err}"
                    )))
                }
            },
            VType::Int => {
                let parsed = match value {
                    KvValue::Str(s) => pystr::py_int(s).and_then(|v| i64::try_from(v).ok()),
                    KvValue::Bool(b) => Some(i64::from(*b)),
                    KvValue::Reset => None,
                };
                match parsed {
                    Some(v) => Value::Number(Number::from(v)),
                    None => {
                        return Err(TypeEnforcementError::new(format!(
                            "'{key}' (value {shown}) is not a valid integer"
                        )))
                    }
                }
            }
            VType::Float => {
                let parsed = match value {
                    KvValue::Str(s) => pystr::py_float(s),
                    KvValue::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                    KvValue::Reset => None,
                };
                match parsed.and_then(Number::from_f64) {
                    Some(n) => Value::Number(n),
                    None => {
                        return Err(TypeEnforcementError::new(format!(
                            "'{key}' (value {shown}) is not a valid float"
                        )))
                    }
                }
            }
        };
        out.insert(key.to_string(), typed);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: &str) -> KvValue {
        KvValue::Str(v.to_string())
    }

    fn pairs(map: &KvMap) -> Vec<(String, KvValue)> {
        map.iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn unescape_and_split_follows_ganeti() {
        assert_eq!(unescape_and_split("a,b,c", ','), ["a", "b", "c"]);
        assert_eq!(unescape_and_split("a\\,b,c", ','), ["a,b", "c"]);
        // double backslash: a backslash, and the comma separates
        assert_eq!(unescape_and_split("a\\\\,b", ','), ["a\\", "b"]);
        // three backslashes: a backslash and an escaped comma
        assert_eq!(unescape_and_split("a\\\\\\,b", ','), ["a\\,b"]);
        assert_eq!(unescape_and_split("a\\,b\\,c,d", ','), ["a,b,c", "d"]);
        // a trailing lone backslash stays
        assert_eq!(unescape_and_split("a\\", ','), ["a\\"]);
        assert_eq!(unescape_and_split("x\\y", ','), ["xy"]);
        assert_eq!(unescape_and_split("", ','), [""]);
        assert_eq!(unescape_and_split("a,,b,", ','), ["a", "", "b", ""]);
        assert_eq!(unescape_and_split("a/b\\/c", '/'), ["a", "b/c"]);
        assert_eq!(unescape_and_split("a\\\nb", ','), ["a\\\nb"]);
    }

    #[test]
    fn escape_and_join_round_trips() {
        let items = ["a,b", "c\\", "d", ""];
        let joined = escape_and_join(items, ',');
        assert_eq!(joined, "a\\,b,c\\\\,d,");
        assert_eq!(unescape_and_split(&joined, ','), items);
    }

    #[test]
    fn key_val_basic_forms() {
        let m = parse_key_val("-B", "memory=256,vcpus=2").unwrap();
        assert_eq!(
            pairs(&m),
            [("memory".into(), s("256")), ("vcpus".into(), s("2"))]
        );
        let m = parse_key_val("-B", "auto_balance,no_always_failover,-memory").unwrap();
        assert_eq!(
            pairs(&m),
            [
                ("auto_balance".into(), KvValue::Bool(true)),
                ("always_failover".into(), KvValue::Bool(false)),
                ("memory".into(), KvValue::Reset),
            ]
        );
        // only the first '=' splits; values may hold '=' and escaped commas
        let m = parse_key_val("-H", "kernel_args=ro console=ttyS0\\,115200,x=a=b").unwrap();
        assert_eq!(m.get("kernel_args"), Some(&s("ro console=ttyS0,115200")));
        assert_eq!(m.get("x"), Some(&s("a=b")));
        // `=` wins over prefixes
        let m = parse_key_val("-B", "no_x=1,-y=2").unwrap();
        assert_eq!(m.get("no_x"), Some(&s("1")));
        assert_eq!(m.get("-y"), Some(&s("2")));
        assert!(parse_key_val("-B", "").unwrap().is_empty());
        // empty elements are the key "" (Ganeti quirk)
        let m = parse_key_val("-B", "a=1,").unwrap();
        assert_eq!(m.get(""), Some(&KvValue::Bool(true)));
        let m = parse_key_val("-B", "a=").unwrap();
        assert_eq!(m.get("a"), Some(&s("")));
        assert_eq!(
            serde_json::Value::Object(parse_key_val("-B", "a=1,b,no_c,-d").unwrap().to_json()),
            json!({"a": "1", "b": true, "c": false, "d": null})
        );
    }

    #[test]
    fn key_val_errors() {
        let err = parse_key_val("-B", "memory=1,memory=2").unwrap_err();
        assert_eq!(err.to_string(), "Duplicate key 'memory' in option -B");
        assert_eq!(
            err.cli_message(),
            "Failure: unknown/wrong parameter name 'Duplicate key 'memory' in option -B'"
        );
        // `no_x` and `x` clash after the prefix is removed
        let err = parse_key_val("--backend-parameters", "x,no_x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Duplicate key 'x' in option --backend-parameters"
        );
        let err = split_key_val("--ipolicy-bounds-specs", "a=1,b", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Missing value for key 'b' in option --ipolicy-bounds-specs"
        );
    }

    #[test]
    fn ident_key_val_forms() {
        let d = parse_ident_key_val("--disk", "0:size=128M").unwrap();
        assert_eq!(d.ident, "0");
        let IdentValue::Params(ref p) = d.value else {
            panic!("expected params: {d:?}")
        };
        assert_eq!(pairs(p), [("size".into(), s("128M"))]);
        assert_eq!(d.value.to_json(), json!({"size": "128M"}));

        let h = parse_ident_key_val("-H", "kvm:kernel_path=/x,acpi").unwrap();
        assert_eq!(h.ident, "kvm");
        assert_eq!(
            h.value.to_json(),
            json!({"kernel_path": "/x", "acpi": true})
        );

        let h = parse_ident_key_val("-H", "fake").unwrap();
        assert_eq!(
            h,
            IdentKv {
                ident: "fake".into(),
                value: IdentValue::Params(KvMap::new())
            }
        );
        let h = parse_ident_key_val("-H", "fake:").unwrap();
        assert_eq!(h.value, IdentValue::Params(KvMap::new()));

        let r = parse_ident_key_val("-H", "no_kvm").unwrap();
        assert_eq!((r.ident.as_str(), &r.value), ("kvm", &IdentValue::Removed));
        assert_eq!(r.value.to_json(), json!(false));
        let r = parse_ident_key_val("-H", "-kvm").unwrap();
        assert_eq!((r.ident.as_str(), &r.value), ("kvm", &IdentValue::Reset));
        assert_eq!(r.value.to_json(), json!(null));
        let r = parse_ident_key_val("--net", "-").unwrap();
        assert_eq!((r.ident.as_str(), &r.value), ("", &IdentValue::Reset));
        // a digit after '-' is an ident (e.g. a negative index), not a reset
        let r = parse_ident_key_val("--net", "-1:mode=routed").unwrap();
        assert_eq!(r.ident, "-1");
        assert_eq!(r.value.to_json(), json!({"mode": "routed"}));
        // ':' in values is kept (only the first ':' separates the ident)
        let r = parse_ident_key_val("--net", "0:mac=aa:00:00:11:22:33").unwrap();
        assert_eq!(r.value.to_json(), json!({"mac": "aa:00:00:11:22:33"}));
        // modify-style idents
        let r = parse_ident_key_val("--disk", "add:size=1G,mode=rw").unwrap();
        assert_eq!(r.ident, "add");
        let r = parse_ident_key_val("--disk", "0:remove").unwrap();
        assert_eq!(r.value.to_json(), json!({"remove": true}));
    }

    #[test]
    fn ident_key_val_errors() {
        let err = parse_ident_key_val("-H", "no_kvm:acpi=1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Cannot pass options when removing parameter groups: no_kvm:acpi=1"
        );
        let err = parse_ident_key_val("-H", "-kvm:acpi=1").unwrap_err();
        assert!(matches!(err, KvError::OptionsOnRemoval { .. }));
        let err = parse_ident_key_val("--disk", "0:size=1G,size=2G").unwrap_err();
        assert_eq!(err.to_string(), "Duplicate key 'size' in option --disk");
        // without prefix parsing `no_x` is an ordinary ident
        let r = split_ident_key_val("-x", "no_x:a=1", false).unwrap();
        assert_eq!(r.ident, "no_x");
    }

    #[test]
    fn multilist_bounds_specs() {
        let v = parse_multilist_ident_key_val(
            "--ipolicy-bounds-specs",
            "min:memory-size=128,cpu-count=1/max:memory-size=1G//min:disk-size=1/max:disk-size=2",
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0][0].0, "min");
        assert_eq!(v[0][0].1.get("memory-size"), Some(&s("128")));
        assert_eq!(v[0][1].0, "max");
        assert_eq!(v[0][1].1.get("memory-size"), Some(&s("1G")));
        assert_eq!(v[1][1].1.get("disk-size"), Some(&s("2")));

        let err = parse_multilist_ident_key_val("--ipolicy-bounds-specs", "min:a=1/").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Empty section in option '--ipolicy-bounds-specs'"
        );
        let err =
            parse_multilist_ident_key_val("--ipolicy-bounds-specs", "min:a=1/min:a=2").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Duplicated parameter 'min' in parsing --ipolicy-bounds-specs: min:a=2"
        );
        let err = parse_multilist_ident_key_val("--ipolicy-bounds-specs", "min:a").unwrap_err();
        assert!(matches!(err, KvError::MissingValue { .. }));
        assert!(parse_multilist_ident_key_val("--ipolicy-bounds-specs", "a//").is_err());
    }

    #[test]
    fn bool_list_and_maybefloat_options() {
        assert_eq!(parse_bool_option("yes"), Ok(true));
        assert_eq!(parse_bool_option("TRUE"), Ok(true));
        assert_eq!(parse_bool_option("No"), Ok(false));
        assert_eq!(parse_bool_option("false"), Ok(false));
        assert_eq!(
            parse_bool_option("Maybe").unwrap_err().to_string(),
            "Invalid boolean value 'maybe'"
        );
        assert_eq!(
            parse_bool_option("").unwrap_err().to_string(),
            "Invalid boolean value ''"
        );
        assert!(parse_list_option("").is_empty());
        assert_eq!(parse_list_option("a,b\\,c"), ["a", "b,c"]);
        assert_eq!(parse_maybe_float("Default"), Ok(MaybeFloat::Default));
        assert_eq!(parse_maybe_float("4"), Ok(MaybeFloat::Value(4.0)));
        assert_eq!(
            parse_maybe_float("X"),
            Err("could not convert string to float: 'x'".to_string())
        );
    }

    fn be_types(key: &str) -> Option<VType> {
        match key {
            "memory" | "maxmem" | "minmem" => Some(VType::Size),
            "vcpus" | "spindle_use" => Some(VType::Int),
            "auto_balance" | "always_failover" => Some(VType::Bool),
            "kernel_path" => Some(VType::String),
            "vnc_bind" => Some(VType::MaybeString),
            "ratio" => Some(VType::Float),
            _ => None,
        }
    }

    #[test]
    fn force_dict_type_converts() {
        let m = parse_key_val(
            "-B",
            "memory=1G,vcpus= 2 ,auto_balance=False,always_failover,kernel_path=/x,ratio=1.5",
        )
        .unwrap();
        let typed = force_dict_type(&m, be_types, &[]).unwrap();
        assert_eq!(
            Value::Object(typed),
            json!({"memory": 1024, "vcpus": 2, "auto_balance": false,
                   "always_failover": true, "kernel_path": "/x", "ratio": 1.5})
        );
        // `no_kernel_path_x` is the unknown key `kernel_path_x`
        let m = parse_key_val("-B", "kernel_path=,no_kernel_path_x").unwrap();
        assert_eq!(
            force_dict_type(&m, be_types, &[]).unwrap_err().message,
            "Unknown parameter 'kernel_path_x'"
        );
        let m = parse_key_val("-B", "no_kernel_path,-vnc_bind,auto_balance=,no_vcpus").unwrap();
        let typed = force_dict_type(&m, be_types, &[]).unwrap();
        assert_eq!(
            Value::Object(typed),
            json!({"kernel_path": "", "vnc_bind": null, "auto_balance": false, "vcpus": 0})
        );
        let m = parse_key_val("-B", "memory=default,vcpus=default").unwrap();
        let typed = force_dict_type(&m, be_types, &[VALUE_DEFAULT]).unwrap();
        assert_eq!(
            Value::Object(typed),
            json!({"memory": "default", "vcpus": "default"})
        );
    }

    #[test]
    fn force_dict_type_errors_match_fixtures() {
        // err_beparam_bad_value
        let m = parse_key_val("-B", "memory=abc").unwrap();
        let err = force_dict_type(&m, be_types, &[]).unwrap_err();
        assert_eq!(
            err.cli_message(),
            "Parameter Error: 'memory' (value abc) is not a valid size. error: Invalid format"
        );
        // err_beparam_no_value: `-B memory` is memory=True
        let m = parse_key_val("-B", "memory").unwrap();
        let err = force_dict_type(&m, be_types, &[]).unwrap_err();
        assert_eq!(
            err.cli_message(),
            "Parameter Error: 'memory' (value True) is not a valid size. error: Invalid format"
        );
        // err_beparam_unknown_key
        let m = parse_key_val("-B", "frob=1").unwrap();
        let err = force_dict_type(&m, be_types, &[]).unwrap_err();
        assert_eq!(
            err.cli_message(),
            "Parameter Error: Unknown parameter 'frob'"
        );

        let cases = [
            (
                "-memory",
                "'memory' (value None) is not a valid size. error: Invalid format",
            ),
            (
                "memory=12X",
                "'memory' (value 12X) is not a valid size. error: Unknown unit: X",
            ),
            ("vcpus=two", "'vcpus' (value two) is not a valid integer"),
            ("vcpus=1.5", "'vcpus' (value 1.5) is not a valid integer"),
            ("-vcpus", "'vcpus' (value None) is not a valid integer"),
            (
                "auto_balance=maybe",
                "'auto_balance' (value maybe) is not a valid boolean",
            ),
            (
                "kernel_path",
                "'kernel_path' (value True) is not a valid string",
            ),
            (
                "-kernel_path",
                "'kernel_path' (value None) is not a valid string",
            ),
            ("ratio=x", "'ratio' (value x) is not a valid float"),
            ("-ratio", "'ratio' (value None) is not a valid float"),
        ];
        for (input, want) in cases {
            let m = parse_key_val("-B", input).unwrap();
            let err = force_dict_type(&m, be_types, &[]).unwrap_err();
            assert_eq!(err.to_string(), want, "{input}");
        }
    }

    #[test]
    fn kvmap_editing() {
        let mut m = KvMap::new();
        m.insert("a", s("1"));
        m.insert("b", KvValue::Reset);
        m.insert("a", s("2"));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(m.get("a"), Some(&s("2")));
        assert_eq!(m.remove("a"), Some(s("2")));
        assert_eq!(m.remove("a"), None);
        assert_eq!(m.len(), 1);
        assert_eq!(VType::from_name("maybe-string"), Some(VType::MaybeString));
        assert_eq!(VType::from_name("list"), None);
    }
}
