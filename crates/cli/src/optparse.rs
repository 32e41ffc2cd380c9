//! An option parser that behaves like Python's `optparse` as Ganeti uses it.
//!
//! Why not clap: the gnt-* tools' observable behaviour is optparse's —
//! `--help` laid out by `TitledHelpFormatter` (long options first, help
//! column at most 24, `Usage\n=====` headings), unique-prefix abbreviation
//! of long options, option processing that stops at the first positional
//! argument (`disable_interspersed_args`), option values that may start
//! with a dash, and error texts such as `-o option requires 1 argument` or
//! `option -t: invalid choice: 'frob' (choose from ...)`. Reproducing that
//! on top of clap would mean fighting it at every step, so options are
//! described by a static table ([`OptDef`]) and parsed here; the table
//! also drives the help output.

use std::collections::HashMap;

use ganeti_clifmt::kv::{self, IdentKv, KvError, KvMap, MaybeFloat};
use ganeti_clifmt::units;
use serde_json::Value as Json;

use crate::textwrap;

/// What an option does with its value (optparse's `action`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Store the converted value.
    Store,
    /// Store `true`.
    StoreTrue,
    /// Store `false`.
    StoreFalse,
    /// Store a fixed text (`store_const`).
    StoreConst(&'static str),
    /// Append the converted value to a list.
    Append,
    /// Count occurrences (`-d -d`).
    Count,
    /// `--priority low|normal|high`, stored as Ganeti's priority number.
    Priority,
}

/// The type of an option's value (optparse's `type`, plus Ganeti's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No value.
    None,
    /// Any text.
    Str,
    /// An integer.
    Int,
    /// A float.
    Float,
    /// One of [`OptDef::choices`].
    Choice,
    /// `k=v,...` ([`kv::parse_key_val`]).
    KeyVal,
    /// `ident:k=v,...` ([`kv::parse_ident_key_val`]).
    IdentKeyVal,
    /// A size ([`units::parse_unit`]), MiB.
    Unit,
    /// `yes`/`no`/`true`/`false`.
    Bool,
    /// A comma-separated list.
    List,
    /// A float or `default`.
    MaybeFloat,
    /// `min:k=v/max:k=v//...`.
    MultiList,
    /// A JSON document.
    Json,
}

/// The default of an option's destination when the option is not given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dflt {
    /// Python `None`.
    None,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A text.
    Str(&'static str),
    /// `[]`.
    EmptyList,
    /// `{}`.
    EmptyDict,
}

/// One command-line option.
#[derive(Debug)]
pub struct OptDef {
    /// Option strings in help order: long ones first, then short ones.
    pub flags: &'static [&'static str],
    /// Destination name (several options may share one).
    pub dest: &'static str,
    /// What to do.
    pub action: Action,
    /// Value type.
    pub kind: Kind,
    /// Metavariable shown in the help (default: `dest` upper-cased).
    pub metavar: Option<&'static str>,
    /// Help text (already expanded; empty for none).
    pub help: &'static str,
    /// Allowed values of a [`Kind::Choice`] / [`Action::Priority`] option.
    pub choices: &'static [&'static str],
    /// Default of the destination.
    pub default: Dflt,
}

impl OptDef {
    /// Whether the option consumes a value.
    pub fn takes_value(&self) -> bool {
        matches!(
            self.action,
            Action::Store | Action::Append | Action::Priority
        )
    }

    fn metavar_text(&self) -> String {
        self.metavar
            .map(str::to_string)
            .unwrap_or_else(|| self.dest.to_uppercase())
    }

    /// The option column of the help: `--name=META, -n META`.
    pub fn help_strings(&self) -> String {
        let meta = self.metavar_text();
        self.flags
            .iter()
            .map(|f| {
                if !self.takes_value() {
                    (*f).to_string()
                } else if f.starts_with("--") {
                    format!("{f}={meta}")
                } else {
                    format!("{f} {meta}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A parsed option value.
#[derive(Debug, Clone, PartialEq)]
pub enum OptValue {
    /// A flag or `bool` option.
    Bool(bool),
    /// An integer (also priorities and counts).
    Int(i64),
    /// A float.
    Float(f64),
    /// A text (also choices and `store_const`).
    Str(String),
    /// A size in MiB.
    Unit(u64),
    /// `k=v,...`.
    KeyVal(KvMap),
    /// `ident:k=v,...`.
    IdentKv(IdentKv),
    /// A list of texts.
    List(Vec<String>),
    /// A float or `default`.
    MaybeFloat(MaybeFloat),
    /// `min:.../max:...//...`.
    MultiList(Vec<Vec<(String, KvMap)>>),
    /// JSON.
    Json(Json),
    /// The values of an `append` option.
    Many(Vec<OptValue>),
}

/// The options of one command line.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    values: HashMap<&'static str, OptValue>,
    defaults: HashMap<&'static str, Dflt>,
}

impl Opts {
    /// An empty option set knowing the defaults of `defs`.
    pub fn new(defs: &[&'static OptDef]) -> Self {
        let mut defaults = HashMap::new();
        for d in defs {
            defaults.entry(d.dest).or_insert(d.default);
        }
        Opts {
            values: HashMap::new(),
            defaults,
        }
    }

    /// Set a value (tests, and handlers that adjust options).
    pub fn set(&mut self, dest: &'static str, v: OptValue) {
        self.values.insert(dest, v);
    }

    /// The explicitly given value, if any.
    pub fn get(&self, dest: &str) -> Option<&OptValue> {
        self.values.get(dest)
    }

    /// Whether the command has an option with this destination.
    pub fn knows(&self, dest: &str) -> bool {
        self.defaults.contains_key(dest)
    }

    /// Whether the option was given on the command line.
    pub fn given(&self, dest: &str) -> bool {
        self.values.contains_key(dest)
    }

    fn default_of(&self, dest: &str) -> Dflt {
        self.defaults.get(dest).copied().unwrap_or(Dflt::None)
    }

    /// A flag: the value given, else the default (`false` for `None`).
    pub fn flag(&self, dest: &str) -> bool {
        match self.values.get(dest) {
            Some(OptValue::Bool(b)) => *b,
            Some(OptValue::Int(i)) => *i != 0,
            Some(_) => true,
            None => matches!(self.default_of(dest), Dflt::Bool(true)),
        }
    }

    /// A tri-state boolean: `None` when neither given nor defaulted.
    pub fn maybe_bool(&self, dest: &str) -> Option<bool> {
        match self.values.get(dest) {
            Some(OptValue::Bool(b)) => Some(*b),
            Some(_) => Some(true),
            None => match self.default_of(dest) {
                Dflt::Bool(b) => Some(b),
                _ => None,
            },
        }
    }

    /// A text option (given or default).
    pub fn str(&self, dest: &str) -> Option<String> {
        match self.values.get(dest) {
            Some(OptValue::Str(s)) => Some(s.clone()),
            Some(OptValue::Int(i)) => Some(i.to_string()),
            Some(_) => None,
            None => match self.default_of(dest) {
                Dflt::Str(s) => Some(s.to_string()),
                _ => None,
            },
        }
    }

    /// An integer option (given or default).
    pub fn int(&self, dest: &str) -> Option<i64> {
        match self.values.get(dest) {
            Some(OptValue::Int(i)) => Some(*i),
            Some(OptValue::Str(s)) => s.parse().ok(),
            Some(_) => None,
            None => match self.default_of(dest) {
                Dflt::Int(i) => Some(i),
                Dflt::Str(s) => s.parse().ok(),
                _ => None,
            },
        }
    }

    /// A float option (given or default).
    pub fn float(&self, dest: &str) -> Option<f64> {
        match self.values.get(dest) {
            Some(OptValue::Float(f)) => Some(*f),
            #[allow(clippy::cast_precision_loss)]
            Some(OptValue::Int(i)) => Some(*i as f64),
            Some(_) => None,
            None => match self.default_of(dest) {
                Dflt::Float(f) => Some(f),
                #[allow(clippy::cast_precision_loss)]
                Dflt::Int(i) => Some(i as f64),
                _ => None,
            },
        }
    }

    /// A size option in MiB.
    pub fn unit(&self, dest: &str) -> Option<u64> {
        match self.values.get(dest) {
            Some(OptValue::Unit(u)) => Some(*u),
            _ => None,
        }
    }

    /// A `k=v` option; empty when not given.
    pub fn keyval(&self, dest: &str) -> KvMap {
        match self.values.get(dest) {
            Some(OptValue::KeyVal(m)) => m.clone(),
            _ => KvMap::new(),
        }
    }

    /// A `k=v` option that has no `{}` default (`None` when not given).
    pub fn maybe_keyval(&self, dest: &str) -> Option<KvMap> {
        match self.values.get(dest) {
            Some(OptValue::KeyVal(m)) => Some(m.clone()),
            _ => match self.default_of(dest) {
                Dflt::EmptyDict => Some(KvMap::new()),
                _ => None,
            },
        }
    }

    /// A single `ident:k=v` option.
    pub fn ident_kv(&self, dest: &str) -> Option<IdentKv> {
        match self.values.get(dest) {
            Some(OptValue::IdentKv(v)) => Some(v.clone()),
            _ => None,
        }
    }

    /// The values of an appended `ident:k=v` option, in order.
    pub fn ident_kv_list(&self, dest: &str) -> Vec<IdentKv> {
        match self.values.get(dest) {
            Some(OptValue::Many(vs)) => vs
                .iter()
                .filter_map(|v| match v {
                    OptValue::IdentKv(i) => Some(i.clone()),
                    _ => None,
                })
                .collect(),
            Some(OptValue::IdentKv(i)) => vec![i.clone()],
            _ => Vec::new(),
        }
    }

    /// The values of an appended text option, in order.
    pub fn str_list(&self, dest: &str) -> Vec<String> {
        match self.values.get(dest) {
            Some(OptValue::Many(vs)) => vs
                .iter()
                .filter_map(|v| match v {
                    OptValue::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            Some(OptValue::List(l)) => l.clone(),
            Some(OptValue::Str(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// A `list` option (`None` when not given).
    pub fn list(&self, dest: &str) -> Option<Vec<String>> {
        match self.values.get(dest) {
            Some(OptValue::List(l)) => Some(l.clone()),
            _ => None,
        }
    }

    /// A `maybefloat` option.
    pub fn maybe_float(&self, dest: &str) -> Option<MaybeFloat> {
        match self.values.get(dest) {
            Some(OptValue::MaybeFloat(m)) => Some(*m),
            _ => None,
        }
    }

    /// A `multilistidentkeyval` option.
    pub fn multilist(&self, dest: &str) -> Option<Vec<Vec<(String, KvMap)>>> {
        match self.values.get(dest) {
            Some(OptValue::MultiList(m)) => Some(m.clone()),
            _ => None,
        }
    }

    /// The `-d` count.
    pub fn count(&self, dest: &str) -> i64 {
        match self.values.get(dest) {
            Some(OptValue::Int(i)) => *i,
            _ => 0,
        }
    }
}

/// Why a command line was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// An optparse error: usage on stderr, `prog: error: msg`, exit 2.
    #[error("{0}")]
    Usage(String),
    /// A Ganeti `ParameterError` raised while converting a value (exit 1).
    #[error("{0}")]
    Param(#[from] KvError),
}

/// The outcome of parsing.
#[derive(Debug)]
pub enum Parsed {
    /// `--help` was given.
    Help,
    /// Options and positional arguments.
    Args(Opts, Vec<String>),
}

/// Ganeti's priority numbers (`constants.OP_PRIO_*`).
pub fn priority_value(name: &str) -> Option<i64> {
    match name {
        "low" => Some(10),
        "normal" => Some(0),
        "high" => Some(-10),
        _ => None,
    }
}

fn convert(def: &OptDef, opt: &str, value: &str) -> Result<OptValue, ParseError> {
    let bad = |what: &str| {
        ParseError::Usage(format!(
            "option {opt}: invalid {what} value: {}",
            ganeti_clifmt::pystr::str_repr(value)
        ))
    };
    Ok(match def.kind {
        Kind::None | Kind::Str => OptValue::Str(value.to_string()),
        Kind::Int => {
            match ganeti_clifmt::pystr::py_int(value).and_then(|v| i64::try_from(v).ok()) {
                Some(i) => OptValue::Int(i),
                None => return Err(bad("integer")),
            }
        }
        Kind::Float => match ganeti_clifmt::pystr::py_float(value) {
            Some(f) => OptValue::Float(f),
            None => return Err(bad("floating-point")),
        },
        Kind::Choice => {
            if def.choices.contains(&value) {
                OptValue::Str(value.to_string())
            } else {
                return Err(ParseError::Usage(format!(
                    "option {opt}: invalid choice: {} (choose from {})",
                    ganeti_clifmt::pystr::str_repr(value),
                    def.choices
                        .iter()
                        .map(|c| ganeti_clifmt::pystr::str_repr(c))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Kind::KeyVal => OptValue::KeyVal(kv::parse_key_val(opt, value)?),
        Kind::IdentKeyVal => OptValue::IdentKv(kv::parse_ident_key_val(opt, value)?),
        Kind::Unit => match units::parse_unit(value) {
            Ok(u) => OptValue::Unit(u),
            Err(e) => return Err(ParseError::Usage(format!("option {opt}: {e}"))),
        },
        Kind::Bool => OptValue::Bool(kv::parse_bool_option(value)?),
        Kind::List => OptValue::List(kv::parse_list_option(value)),
        Kind::MaybeFloat => match kv::parse_maybe_float(value) {
            Ok(m) => OptValue::MaybeFloat(m),
            Err(_) => return Err(bad("floating-point")),
        },
        Kind::MultiList => OptValue::MultiList(kv::parse_multilist_ident_key_val(opt, value)?),
        Kind::Json => match serde_json::from_str(value) {
            Ok(j) => OptValue::Json(j),
            Err(e) => {
                return Err(ParseError::Usage(format!(
                    "option {opt}: invalid JSON: {e}"
                )))
            }
        },
    })
}

fn apply(
    opts: &mut Opts,
    def: &'static OptDef,
    opt: &str,
    value: Option<&str>,
) -> Result<(), ParseError> {
    match def.action {
        Action::StoreTrue => opts.set(def.dest, OptValue::Bool(true)),
        Action::StoreFalse => opts.set(def.dest, OptValue::Bool(false)),
        Action::StoreConst(c) => opts.set(def.dest, OptValue::Str(c.to_string())),
        Action::Count => {
            let n = opts.count(def.dest);
            opts.set(def.dest, OptValue::Int(n + 1));
        }
        Action::Store => {
            let v = convert(def, opt, value.unwrap_or_default())?;
            opts.set(def.dest, v);
        }
        Action::Append => {
            let v = convert(def, opt, value.unwrap_or_default())?;
            let mut list = match opts.values.remove(def.dest) {
                Some(OptValue::Many(l)) => l,
                _ => Vec::new(),
            };
            list.push(v);
            opts.set(def.dest, OptValue::Many(list));
        }
        Action::Priority => {
            let v = value.unwrap_or_default();
            match priority_value(v) {
                Some(p) if def.choices.contains(&v) => opts.set(def.dest, OptValue::Int(p)),
                _ => {
                    return Err(ParseError::Usage(format!(
                        "option {opt}: invalid choice: {} (choose from {})",
                        ganeti_clifmt::pystr::str_repr(v),
                        def.choices
                            .iter()
                            .map(|c| ganeti_clifmt::pystr::str_repr(c))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                }
            }
        }
    }
    Ok(())
}

/// The `--help`/`-h` option optparse adds to every parser.
pub static HELP_OPT: OptDef = OptDef {
    flags: &["--help", "-h"],
    dest: "help",
    action: Action::StoreTrue,
    kind: Kind::None,
    metavar: None,
    help: "show this help message and exit",
    choices: &[],
    default: Dflt::Bool(false),
};

/// Parse `args` (everything after the subcommand) against `defs`.
///
/// Options are processed until the first positional argument or `--`;
/// everything after is positional (optparse with interspersed arguments
/// disabled, as Ganeti configures it).
pub fn parse(defs: &[&'static OptDef], args: &[String]) -> Result<Parsed, ParseError> {
    let mut opts = Opts::new(defs);
    let mut rest: Vec<String> = Vec::new();
    let mut i = 0;
    let all_defs = || defs.iter().copied().chain(std::iter::once(&HELP_OPT));
    let find_long = |name: &str| -> Result<(&'static OptDef, &'static str), ParseError> {
        let mut candidates: Vec<(&'static OptDef, &'static str)> = Vec::new();
        for d in all_defs() {
            for f in d.flags.iter().copied().filter(|f| f.starts_with("--")) {
                if f == name {
                    return Ok((d, f));
                }
                if f.starts_with(name) && !candidates.iter().any(|(_, c)| *c == f) {
                    candidates.push((d, f));
                }
            }
        }
        candidates.sort_unstable_by_key(|(_, f)| *f);
        match candidates.as_slice() {
            [] => Err(ParseError::Usage(format!("no such option: {name}"))),
            [one] => Ok(*one),
            many => Err(ParseError::Usage(format!(
                "ambiguous option: {name} ({}?)",
                many.iter().map(|(_, f)| *f).collect::<Vec<_>>().join(", ")
            ))),
        }
    };
    let find_short = |c: char| -> Option<&'static OptDef> {
        let flag = format!("-{c}");
        all_defs().find(|d| d.flags.iter().any(|f| *f == flag))
    };
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            rest.extend(args[i + 1..].iter().cloned());
            break;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            let (def, full) = find_long(&name)?;
            i += 1;
            if std::ptr::eq(def, &HELP_OPT) {
                if inline.is_some() {
                    return Err(ParseError::Usage(format!(
                        "{full} option does not take a value"
                    )));
                }
                return Ok(Parsed::Help);
            }
            if def.takes_value() {
                let value = match inline {
                    Some(v) => v,
                    None => {
                        if i < args.len() {
                            i += 1;
                            args[i - 1].clone()
                        } else {
                            return Err(ParseError::Usage(format!(
                                "{full} option requires 1 argument"
                            )));
                        }
                    }
                };
                apply(&mut opts, def, full, Some(&value))?;
            } else {
                if inline.is_some() {
                    return Err(ParseError::Usage(format!(
                        "{full} option does not take a value"
                    )));
                }
                apply(&mut opts, def, full, None)?;
            }
            continue;
        }
        if arg.starts_with('-') && arg.len() > 1 {
            let chars: Vec<char> = arg.chars().skip(1).collect();
            let mut j = 0;
            i += 1;
            while j < chars.len() {
                let c = chars[j];
                let flag = format!("-{c}");
                let def = find_short(c)
                    .ok_or_else(|| ParseError::Usage(format!("no such option: {flag}")))?;
                j += 1;
                if std::ptr::eq(def, &HELP_OPT) {
                    return Ok(Parsed::Help);
                }
                if def.takes_value() {
                    let value: String = if j < chars.len() {
                        let v = chars[j..].iter().collect();
                        j = chars.len();
                        v
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        return Err(ParseError::Usage(format!(
                            "{flag} option requires 1 argument"
                        )));
                    };
                    apply(&mut opts, def, &flag, Some(&value))?;
                } else {
                    apply(&mut opts, def, &flag, None)?;
                }
            }
            continue;
        }
        // First positional argument: everything from here on is positional.
        rest.extend(args[i..].iter().cloned());
        break;
    }
    Ok(Parsed::Args(opts, rest))
}

/// optparse's help layout for a subcommand (`TitledHelpFormatter`,
/// `short_first=0`), `width` being `$COLUMNS - 2` (78 by default).
pub fn format_help(usage: &str, description: &str, defs: &[&OptDef], width: usize) -> String {
    let mut out = String::new();
    out.push_str("Usage\n=====\n  ");
    out.push_str(usage);
    out.push_str("\n\n");
    if !description.is_empty() {
        out.push_str(&textwrap::fill(description, width.max(11)));
        out.push_str("\n\n");
    }
    out.push_str("Options\n=======\n");
    let all: Vec<&OptDef> = defs
        .iter()
        .copied()
        .chain(std::iter::once(&HELP_OPT))
        .collect();
    let strings: Vec<String> = all.iter().map(|d| d.help_strings()).collect();
    let max_len = strings.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    let help_position = (max_len + 2).min(24);
    let help_width = width.saturating_sub(help_position).max(11);
    for (d, s) in all.iter().zip(strings.iter()) {
        let opt_width = help_position - 2;
        let indent_first = if s.chars().count() > opt_width {
            out.push_str(s);
            out.push('\n');
            help_position
        } else {
            out.push_str(&format!("{s:<opt_width$}  "));
            0
        };
        if d.help.is_empty() {
            if indent_first == 0 {
                // optparse leaves the padding when there is no help text.
                out.push('\n');
            }
            continue;
        }
        let lines = textwrap::wrap(d.help, help_width);
        for (k, line) in lines.iter().enumerate() {
            let ind = if k == 0 { indent_first } else { help_position };
            out.push_str(&" ".repeat(ind));
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// optparse's short usage for errors: `Usage\n=====\n  <usage>\n`.
pub fn format_usage(usage: &str) -> String {
    format!("Usage\n=====\n  {usage}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    static FORCE: OptDef = OptDef {
        flags: &["--force", "-f"],
        dest: "force",
        action: Action::StoreTrue,
        kind: Kind::None,
        metavar: None,
        help: "Force the operation",
        choices: &[],
        default: Dflt::Bool(false),
    };
    static OUTPUT: OptDef = OptDef {
        flags: &["--output", "-o"],
        dest: "output",
        action: Action::Store,
        kind: Kind::Str,
        metavar: Some("FIELDS"),
        help: "Comma separated list of output fields",
        choices: &[],
        default: Dflt::None,
    };
    static NOHDR: OptDef = OptDef {
        flags: &["--no-headers"],
        dest: "no_headers",
        action: Action::StoreTrue,
        kind: Kind::None,
        metavar: None,
        help: "Don't display column headers",
        choices: &[],
        default: Dflt::Bool(false),
    };
    static NOSTART: OptDef = OptDef {
        flags: &["--no-start"],
        dest: "start",
        action: Action::StoreFalse,
        kind: Kind::None,
        metavar: None,
        help: "Don't start the instance after creation",
        choices: &[],
        default: Dflt::Bool(true),
    };
    static UNITS: OptDef = OptDef {
        flags: &["--units"],
        dest: "units",
        action: Action::Store,
        kind: Kind::Choice,
        metavar: None,
        help: "Specify units for output (one of h/m/g/t)",
        choices: &["h", "m", "g", "t"],
        default: Dflt::None,
    };
    static SIZE: OptDef = OptDef {
        flags: &["--os-size", "-s"],
        dest: "sd_size",
        action: Action::Store,
        kind: Kind::Unit,
        metavar: Some("<size>"),
        help: "Enforces a single-disk configuration using the given disk size, in MiB unless a suffix is used",
        choices: &[],
        default: Dflt::None,
    };
    static NET: OptDef = OptDef {
        flags: &["--net"],
        dest: "nics",
        action: Action::Append,
        kind: Kind::IdentKeyVal,
        metavar: Some("NICS"),
        help: "NIC parameters",
        choices: &[],
        default: Dflt::EmptyList,
    };
    static DEBUG: OptDef = OptDef {
        flags: &["--debug", "-d"],
        dest: "debug",
        action: Action::Count,
        kind: Kind::None,
        metavar: None,
        help: "Increase debugging level",
        choices: &[],
        default: Dflt::Int(0),
    };

    fn sv(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn parse_ok(defs: &[&'static OptDef], v: &[&str]) -> (Opts, Vec<String>) {
        match parse(defs, &sv(v)).unwrap() {
            Parsed::Args(o, a) => (o, a),
            Parsed::Help => panic!("unexpected help"),
        }
    }

    fn err(defs: &[&'static OptDef], v: &[&str]) -> String {
        match parse(defs, &sv(v)) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("expected an error for {v:?}"),
        }
    }

    #[test]
    fn flags_values_and_positionals() {
        let defs: &[&'static OptDef] = &[&FORCE, &OUTPUT, &NOHDR, &NOSTART, &DEBUG];
        let (o, a) = parse_ok(
            defs,
            &["-f", "-o", "name,os", "--no-start", "-dd", "x", "-f"],
        );
        assert!(o.flag("force"));
        assert!(!o.flag("start"));
        assert_eq!(o.str("output").as_deref(), Some("name,os"));
        assert_eq!(o.count("debug"), 2);
        // interspersed arguments are disabled: "-f" after "x" is positional
        assert_eq!(a, sv(&["x", "-f"]));
        let (o, a) = parse_ok(defs, &["--output=name", "--", "-x"]);
        assert_eq!(o.str("output").as_deref(), Some("name"));
        assert_eq!(a, sv(&["-x"]));
        // attached short value, value starting with a dash
        let (o, _) = parse_ok(defs, &["-oname"]);
        assert_eq!(o.str("output").as_deref(), Some("name"));
        let (o, _) = parse_ok(defs, &["-o", "-f"]);
        assert_eq!(o.str("output").as_deref(), Some("-f"));
        assert!(!o.flag("force"));
        // defaults
        let (o, _) = parse_ok(defs, &[]);
        assert!(o.flag("start"));
        assert!(!o.given("start"));
    }

    #[test]
    fn abbreviations_like_optparse() {
        let defs: &[&'static OptDef] = &[&NOHDR, &NOSTART, &OUTPUT];
        let (o, _) = parse_ok(defs, &["--no-h", "--out", "x"]);
        assert!(o.flag("no_headers"));
        assert_eq!(o.str("output").as_deref(), Some("x"));
        assert_eq!(
            err(defs, &["--no"]),
            "ambiguous option: --no (--no-headers, --no-start?)"
        );
        assert!(matches!(parse(defs, &sv(&["--he"])).unwrap(), Parsed::Help));
    }

    #[test]
    fn error_texts_like_optparse() {
        let defs: &[&'static OptDef] = &[&FORCE, &OUTPUT, &UNITS, &SIZE];
        assert_eq!(err(defs, &["--frobnicate"]), "no such option: --frobnicate");
        assert_eq!(err(defs, &["-Z"]), "no such option: -Z");
        assert_eq!(err(defs, &["-o"]), "-o option requires 1 argument");
        assert_eq!(
            err(defs, &["--output"]),
            "--output option requires 1 argument"
        );
        assert_eq!(
            err(defs, &["--force=1"]),
            "--force option does not take a value"
        );
        assert_eq!(
            err(defs, &["--units=x"]),
            "option --units: invalid choice: 'x' (choose from 'h', 'm', 'g', 't')"
        );
        assert_eq!(err(defs, &["-s", "12X"]), "option -s: Unknown unit: X");
        let (o, _) = parse_ok(defs, &["-s", "1G"]);
        assert_eq!(o.unit("sd_size"), Some(1024));
    }

    #[test]
    fn append_and_parameter_errors() {
        let defs: &[&'static OptDef] = &[&NET];
        let (o, _) = parse_ok(defs, &["--net", "0:mode=bridged", "--net", "1:link=br1"]);
        let l = o.ident_kv_list("nics");
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].ident, "1");
        match parse(defs, &sv(&["--net", "0:a=1,a=2"])) {
            Err(ParseError::Param(e)) => assert_eq!(
                e.cli_message(),
                "Failure: unknown/wrong parameter name 'Duplicate key 'a' in option --net'"
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn help_layout_matches_optparse() {
        static REASON: OptDef = OptDef {
            flags: &["--reason"],
            dest: "reason",
            action: Action::Store,
            kind: Kind::Str,
            metavar: Some("REASON"),
            help: "The reason for executing the command",
            choices: &[],
            default: Dflt::None,
        };
        let h = format_help(
            "gnt-cluster getmaster ",
            "Shows the cluster master",
            &[&DEBUG, &REASON],
            78,
        );
        assert_eq!(
            h,
            "Usage\n=====\n  gnt-cluster getmaster \n\nShows the cluster master\n\nOptions\n=======\n\
             --debug, -d      Increase debugging level\n\
             --reason=REASON  The reason for executing the command\n\
             --help, -h       show this help message and exit\n"
        );
        let h = format_help("x", "", &[&SIZE, &OUTPUT], 78);
        assert!(h.contains(
            "--os-size=<size>, -s <size>\n                        Enforces a single-disk configuration using the given\n                        disk size, in MiB unless a suffix is used\n"
        ));
        assert!(h.contains("--output=FIELDS, -o FIELDS\n                        Comma separated list of output fields\n"));
    }
}
