//! Ganeti's query filter language (`-F`, `lib/qlang.py`) and the filters
//! built from plain name arguments (`qlang.MakeFilter`).
//!
//! Why: `gnt-* list` accepts filters such as `status == "running" and not
//! admin_state` or `name =~ m/^web/i`, and arguments that merely look like
//! filters are parsed as such. The result is the JSON list structure the
//! query protocol expects (`["&", ["==", "status", "running"], ...]`).
//!
//! Ganeti parses with pyparsing; this is a hand-written recursive-descent
//! parser that follows the same grammar *and* the same search strategy
//! (ordered choice, longest match among conditions, look-ahead without
//! parse actions), so that the accepted language, its quirks and the error
//! positions agree with Ganeti 3.0.2:
//!
//! - quoted strings keep their backslashes (`"a\"b"` is `a\"b`); regular
//!   expressions between `/`, `#`, `^` or `|` lose one level of escaping
//!   (`\/` is `/`, `\t` is a tab);
//! - a word right after a regular expression is taken as its flags, so
//!   `name =~ /x/ and y` fails with "Unknown regular expression flags";
//! - `and`, `or`, `not` are keywords only between non-word characters.
//!
//! Error texts reproduce pyparsing's (`Expected end of text, found '='
//! (at char 7), (line:1, col:8)`); regular expressions are validated with
//! Rust's `regex` crate (the engine that evaluates them), so an invalid one
//! is described in that crate's words. Positions count characters.

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{json, Number, Value};
use thiserror::Error;

use crate::pystr;

/// `|`: any of the sub-filters.
pub const OP_OR: &str = "|";
/// `&`: all of the sub-filters.
pub const OP_AND: &str = "&";
/// `!`: negation.
pub const OP_NOT: &str = "!";
/// `?`: the field is true.
pub const OP_TRUE: &str = "?";
/// `==`.
pub const OP_EQUAL: &str = "==";
/// `!=`.
pub const OP_NOT_EQUAL: &str = "!=";
/// `<`.
pub const OP_LT: &str = "<";
/// `<=`.
pub const OP_LE: &str = "<=";
/// `>`.
pub const OP_GT: &str = ">";
/// `>=`.
pub const OP_GE: &str = ">=";
/// `=~`: regular expression match.
pub const OP_REGEXP: &str = "=~";
/// `=[]`: list contains.
pub const OP_CONTAINS: &str = "=[]";

/// Characters that make a single name argument a filter.
const FILTER_DETECTION_CHARS: &[char] = &[
    '!', ' ', '"', '\'', ')', '(', '\x0b', '\n', '\r', '\x0c', '/', '<', '\t', '>', '=', '\\', '~',
];
/// Characters that make a name argument a glob pattern.
const GLOB_DETECTION_CHARS: &[char] = &['*', '?'];
/// The delimiters of regular expressions.
const REGEXP_DELIMITERS: &[char] = &['/', '#', '^', '|'];
/// How deeply parentheses may nest. (pyparsing, without memoisation,
/// takes exponential time in the depth and is unusable beyond ten or so.)
const MAX_DEPTH: usize = 50;

/// A filter text that does not parse (Ganeti's `QueryFilterParseError`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Failed to parse query filter '{text}': {}", self.inner())]
pub struct FilterParseError {
    /// The filter text.
    pub text: String,
    /// pyparsing's message without position (`Expected end of text`).
    pub message: String,
    /// The character position of the error.
    pub loc: usize,
    /// An error raised by a parse action (bad regular expression): pyparsing
    /// reports those without the input line and the found text.
    pub fatal: bool,
}

impl FilterParseError {
    /// The input the position refers to ("" for fatal errors, as pyparsing).
    fn pstr(&self) -> &str {
        if self.fatal {
            ""
        } else {
            &self.text
        }
    }

    /// The line number (1-based) of the error.
    pub fn lineno(&self) -> usize {
        self.pstr()
            .chars()
            .take(self.loc)
            .filter(|c| *c == '\n')
            .count()
            + 1
    }

    /// The column (1-based) of the error.
    pub fn column(&self) -> usize {
        let chars: Vec<char> = self.pstr().chars().collect();
        let loc = self.loc;
        if loc > 0 && loc < chars.len() && chars[loc - 1] == '\n' {
            return 1;
        }
        let upto = loc.min(chars.len());
        match chars[..upto].iter().rposition(|c| *c == '\n') {
            Some(nl) => loc - nl,
            None => loc + 1,
        }
    }

    /// The input line holding the error ("" for fatal errors).
    pub fn line(&self) -> String {
        let chars: Vec<char> = self.pstr().chars().collect();
        let upto = self.loc.min(chars.len());
        let start = chars[..upto]
            .iter()
            .rposition(|c| *c == '\n')
            .map_or(0, |i| i + 1);
        let end = chars[upto..]
            .iter()
            .position(|c| *c == '\n')
            .map_or(chars.len(), |i| upto + i);
        chars[start.min(end)..end].iter().collect()
    }

    /// pyparsing's `str(exception)`:
    /// `<message>[, found <x>]  (at char N), (line:L, col:C)`.
    pub fn inner(&self) -> String {
        let chars: Vec<char> = self.pstr().chars().collect();
        let found = if chars.is_empty() {
            String::new()
        } else if self.loc >= chars.len() {
            ", found end of text".to_string()
        } else {
            let word: String = chars[self.loc..]
                .iter()
                .take(16)
                .take_while(|c| is_exception_word_char(**c))
                .collect();
            let found = if word.is_empty() {
                chars[self.loc].to_string()
            } else {
                word
            };
            format!(", found {}", pystr::str_repr(&found)).replace("\\\\", "\\")
        };
        format!(
            "{}{found}  (at char {}), (line:{}, col:{})",
            self.message,
            self.loc,
            self.lineno(),
            self.column()
        )
    }

    /// The lines Ganeti adds below the message: the input line, a `^`
    /// under the error, and [`FilterParseError::inner`].
    pub fn details(&self) -> [String; 3] {
        [
            self.line(),
            format!("{}^", " ".repeat(self.column().saturating_sub(1))),
            self.inner(),
        ]
    }

    /// What the gnt-* tools print on stderr (exit code 1).
    pub fn cli_message(&self) -> String {
        let [line, marker, inner] = self.details();
        format!("Error while parsing query filter: {self}\n{line}\n{marker}\n{inner}")
    }
}

/// The characters pyparsing shows as one "found" word.
fn is_exception_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || (('\u{c0}'..'\u{530}').contains(&c) && c.is_alphanumeric())
}

/// Errors of [`make_filter`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// The filter text does not parse.
    #[error(transparent)]
    Parse(#[from] FilterParseError),
    /// `-F` with no or several arguments.
    #[error("Exactly one argument must be given as a filter")]
    NotOneArgument,
    /// A non-numeric argument where the name field is numeric (job ids).
    #[error("Invalid job ID passed: invalid literal for int() with base 10: {}", pystr::str_repr(.text))]
    InvalidJobId {
        /// The argument.
        text: String,
    },
}

impl FilterError {
    /// What the gnt-* tools print on stderr (exit code 1).
    pub fn cli_message(&self) -> String {
        match self {
            FilterError::Parse(err) => err.cli_message(),
            other => format!(
                "Failure: prerequisites not met for this operation:\n\
                 error type: wrong_input, error details:\n{other}"
            ),
        }
    }
}

/// `qlang.MakeSimpleFilter`: `["|", ["==", field, v1], ...]`, `None` for no
/// values.
pub fn make_simple_filter<S: AsRef<str>>(namefield: &str, values: &[S]) -> Option<Value> {
    if values.is_empty() {
        return None;
    }
    let mut out = vec![json!(OP_OR)];
    out.extend(
        values
            .iter()
            .map(|v| json!([OP_EQUAL, namefield, v.as_ref()])),
    );
    Some(Value::Array(out))
}

/// `utils.DnsNameGlobPattern`: a regular expression for a DNS name glob
/// (`*` = any characters but a dot, `?` = one such character), matching
/// the name and any sub-domain-extended form (`^web[^.]*(\..*)?$`).
pub fn dns_name_glob_pattern(pattern: &str) -> String {
    let mut out = String::from("^");
    for c in pattern.chars() {
        match c {
            '*' => out.push_str("[^.]*"),
            '?' => out.push_str("[^.]"),
            c => {
                if "()[]{}?*+-|^$\\.&~# \t\n\r\x0b\x0c".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out.push_str("(\\..*)?$");
    out
}

/// Whether a name argument would be taken as a filter.
pub fn looks_like_filter(text: &str) -> bool {
    text.contains(FILTER_DETECTION_CHARS)
}

/// Whether a name argument is a glob pattern.
pub fn looks_like_glob(text: &str) -> bool {
    text.contains(GLOB_DETECTION_CHARS)
}

/// A number as Python's `int(text)` turns it into JSON (falling back to a
/// float beyond 64 bits, where Python would keep an exact integer).
fn int_value(text: &str) -> Option<Value> {
    let v = pystr::py_int(text)?;
    if let Ok(i) = i64::try_from(v) {
        return Some(Value::Number(Number::from(i)));
    }
    if let Ok(u) = u64::try_from(v) {
        return Some(Value::Number(Number::from(u)));
    }
    // Beyond 64 bits only an approximation is possible in JSON numbers.
    #[allow(clippy::cast_precision_loss)]
    let f = v as f64;
    Number::from_f64(f).map(Value::Number)
}

/// `qlang.MakeFilter`: the filter for the positional arguments of a list
/// command.
///
/// With `force_filter` (`-F`), or a single argument that contains a filter
/// character (space, quote, `=`, `<`, `!`, `/`, ...), that argument is
/// parsed as a filter. Otherwise each argument is a name (`==`) or a glob
/// (`=~`, when it holds `*` or `?`) on `namefield` (default `name`; with
/// `isnumeric` the names must be integers), all or-ed. No arguments: `None`.
pub fn make_filter<S: AsRef<str>>(
    args: &[S],
    force_filter: bool,
    namefield: Option<&str>,
    isnumeric: bool,
) -> Result<Option<Value>, FilterError> {
    let namefield = namefield.unwrap_or("name");
    if force_filter || (args.len() == 1 && looks_like_filter(args[0].as_ref())) {
        let [text] = args else {
            return Err(FilterError::NotOneArgument);
        };
        return Ok(Some(parse_filter(text.as_ref())?));
    }
    if args.is_empty() {
        return Ok(None);
    }
    let mut out = vec![json!(OP_OR)];
    for arg in args {
        let arg = arg.as_ref();
        let part = if isnumeric {
            let number = int_value(arg).ok_or_else(|| FilterError::InvalidJobId {
                text: arg.to_string(),
            })?;
            json!([OP_EQUAL, namefield, number])
        } else if looks_like_glob(arg) {
            json!([OP_REGEXP, namefield, dns_name_glob_pattern(arg)])
        } else {
            json!([OP_EQUAL, namefield, arg])
        };
        out.push(part);
    }
    Ok(Some(Value::Array(out)))
}

/// `GenericList`'s combination of the name filter with an extra filter
/// (`["&", names, extra]` when both exist).
pub fn combine_filters(namefilter: Option<Value>, qfilter: Option<Value>) -> Option<Value> {
    match (namefilter, qfilter) {
        (Some(n), Some(q)) => Some(json!([OP_AND, n, q])),
        (n, None) => n,
        (None, q) => q,
    }
}

/// Parses a filter text (`qlang.ParseFilter`).
pub fn parse_filter(text: &str) -> Result<Value, FilterParseError> {
    let parser = Parser {
        s: text.chars().collect(),
        memo: RefCell::new(HashMap::new()),
        depth: RefCell::new(0),
    };
    let fail = |message: &str, loc: usize, fatal: bool| FilterParseError {
        text: text.to_string(),
        message: message.to_string(),
        loc,
        fatal,
    };
    match parser.or_level(0, true) {
        Ok((value, end)) => {
            let end = parser.ws(end);
            if end < parser.s.len() {
                Err(fail("Expected end of text", end, false))
            } else {
                Ok(value)
            }
        }
        Err(PErr::Fail(loc)) => Err(fail("Expected Suppress:('or') term", loc, false)),
        Err(PErr::Fatal { message, loc }) => Err(fail(&message, loc, true)),
    }
}

/// A parse failure: an ordinary one (backtrack; only its position
/// matters) or a fatal one from a parse action (stops everything).
#[derive(Debug, Clone)]
enum PErr {
    Fail(usize),
    Fatal { message: String, loc: usize },
}

type PResult<T> = Result<(T, usize), PErr>;

/// Of two ordinary failures the one further into the text wins.
fn furthest(a: PErr, b: PErr) -> PErr {
    match (a, b) {
        (PErr::Fail(x), PErr::Fail(y)) => PErr::Fail(x.max(y)),
        (fatal @ PErr::Fatal { .. }, _) | (_, fatal @ PErr::Fatal { .. }) => fatal,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Level {
    Or,
    And,
    Not,
}

struct Parser {
    s: Vec<char>,
    /// Packrat cache: the grammar is pure, so results depend only on the
    /// level, the position and whether parse actions run.
    memo: RefCell<HashMap<(Level, usize, bool), PResult<Value>>>,
    depth: RefCell<usize>,
}

/// The kinds of condition, in pyparsing's order of alternatives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    Binary,
    Bool,
    In,
    NotIn,
    Regexp,
    NotRegexp,
    Glob,
    NotGlob,
}

impl Parser {
    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    /// pyparsing's default whitespace: space, newline, tab, carriage return.
    fn ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), Some(' ' | '\n' | '\t' | '\r')) {
            i += 1;
        }
        i
    }

    fn literal(&self, lit: &str, pos: usize) -> Result<usize, PErr> {
        let q = self.ws(pos);
        let mut i = q;
        for c in lit.chars() {
            if self.at(i) != Some(c) {
                return Err(PErr::Fail(q));
            }
            i += 1;
        }
        Ok(i)
    }

    fn is_ident_char(c: Option<char>) -> bool {
        c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    }

    /// pyparsing's `Keyword`: the word not glued to other word characters.
    fn keyword(&self, kw: &str, pos: usize) -> Result<usize, PErr> {
        let q = self.ws(pos);
        let end = self.literal(kw, q).map_err(|_| PErr::Fail(q))?;
        if q > 0 && Self::is_ident_char(self.at(q - 1)) {
            return Err(PErr::Fail(q - 1));
        }
        if Self::is_ident_char(self.at(end)) {
            return Err(PErr::Fail(end));
        }
        Ok(end)
    }

    fn field_name(&self, pos: usize) -> PResult<String> {
        let q = self.ws(pos);
        if !self.at(q).is_some_and(|c| c.is_ascii_alphabetic()) {
            return Err(PErr::Fail(q));
        }
        let mut i = q + 1;
        while self
            .at(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.'))
        {
            i += 1;
        }
        Ok((self.s[q..i].iter().collect(), i))
    }

    fn number(&self, pos: usize) -> PResult<Value> {
        let q = self.ws(pos);
        let mut i = q;
        if matches!(self.at(i), Some('+' | '-')) {
            i += 1;
        }
        let digits_start = i;
        while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == digits_start {
            return Err(PErr::Fail(digits_start));
        }
        let text: String = self.s[q..i].iter().collect();
        let value = int_value(&text).ok_or(PErr::Fail(q))?;
        Ok((value, i))
    }

    /// pyparsing's `quotedString` (with `removeQuotes`): the body is kept
    /// verbatim, escapes included.
    fn quoted_string(&self, pos: usize) -> PResult<Value> {
        let q = self.ws(pos);
        let mut best = PErr::Fail(q);
        for quote in ['"', '\''] {
            if self.at(q) != Some(quote) {
                continue;
            }
            let mut i = q + 1;
            loop {
                match self.at(i) {
                    Some(c) if c != quote && c != '\n' && c != '\r' && c != '\\' => i += 1,
                    Some(c) if c == quote && self.at(i + 1) == Some(quote) => i += 2,
                    Some('\\') => match self.at(i + 1) {
                        Some('x') => {
                            let mut j = i + 2;
                            while self.at(j).is_some_and(|c| c.is_ascii_hexdigit()) {
                                j += 1;
                            }
                            if j == i + 2 {
                                break;
                            }
                            i = j;
                        }
                        Some(_) => i += 2,
                        None => break,
                    },
                    _ => break,
                }
            }
            if self.at(i) == Some(quote) {
                let body: String = self.s[q + 1..i].iter().collect();
                return Ok((Value::String(body), i + 1));
            }
            best = furthest(best, PErr::Fail(i));
        }
        Err(best)
    }

    fn rval(&self, pos: usize) -> PResult<Value> {
        match self.number(pos) {
            Ok(r) => Ok(r),
            Err(e1) => self.quoted_string(pos).map_err(|e2| furthest(e1, e2)),
        }
    }

    fn binop(&self, pos: usize) -> PResult<&'static str> {
        let q = self.ws(pos);
        let two: String = self.s[q..(q + 2).min(self.s.len())].iter().collect();
        let op = match two.as_str() {
            "==" => Some(("==", OP_EQUAL)),
            "!=" => Some(("!=", OP_NOT_EQUAL)),
            "<=" => Some(("<=", OP_LE)),
            ">=" => Some((">=", OP_GE)),
            _ => None,
        };
        if let Some((text, op)) = op {
            return Ok((op, q + text.len()));
        }
        match self.at(q) {
            Some('=') => Ok((OP_EQUAL, q + 1)),
            Some('<') => Ok((OP_LT, q + 1)),
            Some('>') => Ok((OP_GT, q + 1)),
            _ => Err(PErr::Fail(q)),
        }
    }

    /// `[m]<d>regexp<d>[flags]`; returns the raw (unescaped) expression,
    /// the flags and where the group started (for fatal errors).
    fn regexp_val(&self, pos: usize) -> PResult<(String, String, usize)> {
        let start = self.ws(pos);
        let mut i = start;
        if self.at(i) == Some('m') {
            i += 1;
        }
        let t = self.ws(i);
        let Some(delim) = self.at(t).filter(|c| REGEXP_DELIMITERS.contains(c)) else {
            return Err(PErr::Fail(t));
        };
        let mut j = t + 1;
        loop {
            match self.at(j) {
                Some('\\') if self.at(j + 1).is_some_and(|c| c != '\n') => j += 2,
                Some(c) if c != delim && c != '\n' && c != '\r' && c != '\\' => j += 1,
                _ => break,
            }
        }
        if self.at(j) != Some(delim) {
            return Err(PErr::Fail(t));
        }
        let body: String = self.s[t + 1..j].iter().collect();
        let mut end = j + 1;
        let f = self.ws(end);
        let mut k = f;
        while self.at(k).is_some_and(|c| c.is_ascii_alphabetic()) {
            k += 1;
        }
        let flags: String = self.s[f..k].iter().collect();
        if k > f {
            end = k;
        }
        Ok(((unescape_regexp(&body), flags, start), end))
    }

    /// One condition alternative, without parse actions.
    fn cond_alt(&self, kind: Cond, pos: usize) -> PResult<CondValue> {
        match kind {
            Cond::Binary => {
                let (field, p) = self.field_name(pos)?;
                let (op, p) = self.binop(p)?;
                let (value, p) = self.rval(p)?;
                Ok((CondValue::Plain(json!([op, field, value])), p))
            }
            Cond::Bool => {
                let (field, p) = self.field_name(pos)?;
                Ok((CondValue::Plain(json!([OP_TRUE, field])), p))
            }
            Cond::In | Cond::NotIn => {
                let (value, p) = self.rval(pos)?;
                let p = if kind == Cond::NotIn {
                    self.literal("not", p)?
                } else {
                    p
                };
                let p = self.literal("in", p)?;
                let (field, p) = self.field_name(p)?;
                let cond = json!([OP_CONTAINS, field, value]);
                let cond = if kind == Cond::NotIn {
                    json!([OP_NOT, cond])
                } else {
                    cond
                };
                Ok((CondValue::Plain(cond), p))
            }
            Cond::Regexp | Cond::NotRegexp => {
                let (field, p) = self.field_name(pos)?;
                let op = if kind == Cond::Regexp { "=~" } else { "!~" };
                let p = self.literal(op, p)?;
                let ((regexp, flags, start), p) = self.regexp_val(p)?;
                Ok((
                    CondValue::Regexp {
                        field,
                        regexp,
                        flags,
                        start,
                        negate: kind == Cond::NotRegexp,
                    },
                    p,
                ))
            }
            Cond::Glob | Cond::NotGlob => {
                let (field, p) = self.field_name(pos)?;
                let op = if kind == Cond::Glob { "=*" } else { "!*" };
                let p = self.literal(op, p)?;
                let (value, p) = self.quoted_string(p)?;
                let pattern = dns_name_glob_pattern(value.as_str().unwrap_or_default());
                let cond = json!([OP_REGEXP, field, pattern]);
                let cond = if kind == Cond::NotGlob {
                    json!([OP_NOT, cond])
                } else {
                    cond
                };
                Ok((CondValue::Plain(cond), p))
            }
        }
    }

    /// pyparsing's `Or` of all conditions: the longest match wins (the
    /// first on ties); its parse action runs only when `act`.
    fn condition(&self, pos: usize, act: bool) -> PResult<Value> {
        let kinds = [
            Cond::Binary,
            Cond::Bool,
            Cond::In,
            Cond::NotIn,
            Cond::Regexp,
            Cond::NotRegexp,
            Cond::Glob,
            Cond::NotGlob,
        ];
        let mut best: Option<(CondValue, usize)> = None;
        let mut err = PErr::Fail(0);
        for kind in kinds {
            match self.cond_alt(kind, pos) {
                Ok((value, end)) => {
                    if best.as_ref().is_none_or(|(_, e)| end > *e) {
                        best = Some((value, end));
                    }
                }
                Err(e) => err = furthest(err, e),
            }
        }
        let Some((value, end)) = best else {
            return Err(err);
        };
        match value {
            CondValue::Plain(v) => Ok((v, end)),
            CondValue::Regexp {
                field,
                regexp,
                flags,
                start,
                negate,
            } => {
                let pattern = if act {
                    check_regexp(&regexp, &flags, start)?
                } else {
                    regexp
                };
                let cond = json!([OP_REGEXP, field, pattern]);
                let cond = if negate { json!([OP_NOT, cond]) } else { cond };
                Ok((cond, end))
            }
        }
    }

    /// A condition, or a parenthesised filter.
    fn base(&self, pos: usize, act: bool) -> PResult<Value> {
        let e1 = match self.condition(pos, act) {
            Ok(r) => return Ok(r),
            Err(fatal @ PErr::Fatal { .. }) => return Err(fatal),
            Err(e) => e,
        };
        let paren = || -> PResult<Value> {
            let p = self.literal("(", pos)?;
            {
                let mut depth = self.depth.borrow_mut();
                if *depth >= MAX_DEPTH {
                    return Err(PErr::Fatal {
                        message: "Filter is nested too deeply".to_string(),
                        loc: p,
                    });
                }
                *depth += 1;
            }
            let inner = self.or_level(p, act);
            *self.depth.borrow_mut() -= 1;
            let (value, p) = inner?;
            let p = self.literal(")", p)?;
            Ok((value, p))
        };
        paren().map_err(|e2| furthest(e1, e2))
    }

    fn level(&self, level: Level, pos: usize, act: bool) -> PResult<Value> {
        let key = (level, pos, act);
        if let Some(hit) = self.memo.borrow().get(&key) {
            return hit.clone();
        }
        let result = match level {
            Level::Or => self.binary_level(Level::And, "or", OP_OR, pos, act),
            Level::And => self.binary_level(Level::Not, "and", OP_AND, pos, act),
            Level::Not => self.not_level(pos, act),
        };
        self.memo.borrow_mut().insert(key, result.clone());
        result
    }

    fn or_level(&self, pos: usize, act: bool) -> PResult<Value> {
        self.level(Level::Or, pos, act)
    }

    /// `operand (kw operand)+` (look-ahead first, without actions), else
    /// the operand alone.
    fn binary_level(
        &self,
        operand: Level,
        kw: &str,
        op: &str,
        pos: usize,
        act: bool,
    ) -> PResult<Value> {
        let lookahead = self
            .level(operand, pos, false)
            .and_then(|(_, p)| self.keyword(kw, p))
            .and_then(|p| self.level(operand, p, false));
        let e1 = match lookahead {
            Ok(_) => {
                let grouped = self.level(operand, pos, act).and_then(|(first, mut p)| {
                    let mut items = vec![json!(op), first];
                    while let Ok(after_kw) = self.keyword(kw, p) {
                        match self.level(operand, after_kw, act) {
                            Ok((v, next)) => {
                                items.push(v);
                                p = next;
                            }
                            Err(fatal @ PErr::Fatal { .. }) => return Err(fatal),
                            Err(PErr::Fail(_)) => break,
                        }
                    }
                    if items.len() < 3 {
                        return Err(PErr::Fail(p));
                    }
                    Ok((Value::Array(items), p))
                });
                match grouped {
                    Ok(r) => return Ok(r),
                    Err(fatal @ PErr::Fatal { .. }) => return Err(fatal),
                    Err(e) => e,
                }
            }
            Err(fatal @ PErr::Fatal { .. }) => return Err(fatal),
            Err(e) => e,
        };
        self.level(operand, pos, act).map_err(|e2| furthest(e1, e2))
    }

    /// `not operand` (right-associative, binds tightest), else a base.
    fn not_level(&self, pos: usize, act: bool) -> PResult<Value> {
        let lookahead = self
            .keyword("not", pos)
            .and_then(|p| self.level(Level::Not, p, false));
        let e1 = match lookahead {
            Ok(_) => {
                let grouped = self
                    .keyword("not", pos)
                    .and_then(|p| self.level(Level::Not, p, act))
                    .map(|(v, p)| (json!([OP_NOT, v]), p));
                match grouped {
                    Ok(r) => return Ok(r),
                    Err(fatal @ PErr::Fatal { .. }) => return Err(fatal),
                    Err(e) => e,
                }
            }
            Err(fatal @ PErr::Fatal { .. }) => return Err(fatal),
            Err(e) => e,
        };
        self.base(pos, act).map_err(|e2| furthest(e1, e2))
    }
}

/// A parsed condition before its parse action.
#[derive(Debug, Clone)]
enum CondValue {
    Plain(Value),
    Regexp {
        field: String,
        regexp: String,
        flags: String,
        start: usize,
        negate: bool,
    },
}

/// pyparsing's `QuotedString(escChar="\\")` unquoting: the two-character
/// sequences `\t`, `\n`, `\f`, `\r` become those characters, then a
/// backslash before any other character (but a newline) is dropped.
fn unescape_regexp(body: &str) -> String {
    let mut text = body.to_string();
    if text.contains('\\') {
        for (lit, ch) in [("\\t", "\t"), ("\\n", "\n"), ("\\f", "\x0c"), ("\\r", "\r")] {
            text = text.replace(lit, ch);
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&next)) if next != '\n' => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// The regular expression parse action: only `s` and `i` flags, which
/// become a `(?..)` prefix (sorted, repeats kept); the result must compile.
fn check_regexp(regexp: &str, flags: &str, loc: usize) -> Result<String, PErr> {
    let mut unknown: Vec<char> = Vec::new();
    for c in flags.chars() {
        if !matches!(c, 's' | 'i') && !unknown.contains(&c) {
            unknown.push(c);
        }
    }
    if !unknown.is_empty() {
        return Err(PErr::Fatal {
            message: format!(
                "Unknown regular expression flags: '{}'",
                unknown.into_iter().collect::<String>()
            ),
            loc,
        });
    }
    let mut sorted: Vec<char> = flags.chars().collect();
    sorted.sort_unstable();
    let pattern = if sorted.is_empty() {
        regexp.to_string()
    } else {
        format!("(?{}){regexp}", sorted.into_iter().collect::<String>())
    };
    // Python accepts repeated flags (`(?ssss)`), the regex crate does not:
    // validate with each flag once, keep Ganeti's text in the filter.
    let mut unique: Vec<char> = flags.chars().collect();
    unique.sort_unstable();
    unique.dedup();
    let checked = if unique.is_empty() {
        regexp.to_string()
    } else {
        format!("(?{}){regexp}", unique.into_iter().collect::<String>())
    };
    if let Err(err) = regex::Regex::new(&checked) {
        return Err(PErr::Fatal {
            message: format!("Invalid regular expression ({})", regex_error_text(&err)),
            loc,
        });
    }
    Ok(pattern)
}

/// The one-line cause of a `regex` error (its text spans several lines).
fn regex_error_text(err: &regex::Error) -> String {
    let text = err.to_string();
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    last.trim().trim_start_matches("error: ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Value {
        match parse_filter(text) {
            Ok(v) => v,
            Err(e) => panic!("{text:?} failed: {}", e.cli_message()),
        }
    }

    fn err(text: &str) -> FilterParseError {
        match parse_filter(text) {
            Ok(v) => panic!("{text:?} parsed as {v}"),
            Err(e) => e,
        }
    }

    fn msg(text: &str) -> String {
        err(text).inner()
    }

    #[test]
    fn fixture_filters() {
        // instance_list_filter_running / _stopped / _tmpl / _regex
        assert_eq!(
            ok("status == \"running\""),
            json!(["==", "status", "running"])
        );
        assert_eq!(
            ok("disk_template == \"file\" or disk_template == \"sharedfile\""),
            json!([
                "|",
                ["==", "disk_template", "file"],
                ["==", "disk_template", "sharedfile"]
            ])
        );
        assert_eq!(
            ok("name =~ /^inst[12]/"),
            json!(["=~", "name", "^inst[12]"])
        );
    }

    #[test]
    fn fixture_bad_filter_message() {
        // instance_list_filter_bad: exact stderr
        let e = err("status ==");
        assert_eq!(
            e.cli_message(),
            "Error while parsing query filter: Failed to parse query filter 'status ==': \
             Expected end of text, found '='  (at char 7), (line:1, col:8)\n\
             status ==\n       ^\n\
             Expected end of text, found '='  (at char 7), (line:1, col:8)"
        );
        let e = FilterError::from(e);
        assert!(e
            .cli_message()
            .starts_with("Error while parsing query filter: "));
    }

    #[test]
    fn ganeti_unit_test_cases() {
        assert_eq!(ok("name==\"foobar\""), json!(["==", "name", "foobar"]));
        assert_eq!(ok("name=='foobar'"), json!(["==", "name", "foobar"]));
        assert_eq!(ok("name=\"foobar\""), json!(["==", "name", "foobar"]));
        assert_eq!(
            ok("valA==1 and valB==2 or valC==3"),
            json!([
                "|",
                ["&", ["==", "valA", 1], ["==", "valB", 2]],
                ["==", "valC", 3]
            ])
        );
        assert_eq!(
            ok("(name\n==\"foobar\") and (xyz==\"va)ue\" and k == 256 or x ==\t\"y\"\n) and mc"),
            json!([
                "&",
                ["==", "name", "foobar"],
                [
                    "|",
                    ["&", ["==", "xyz", "va)ue"], ["==", "k", 256]],
                    ["==", "x", "y"]
                ],
                ["?", "mc"]
            ])
        );
        assert_eq!(
            ok("(xyz==\"v\" or k == 256 and x == \"y\")"),
            json!([
                "|",
                ["==", "xyz", "v"],
                ["&", ["==", "k", 256], ["==", "x", "y"]]
            ])
        );
        assert_eq!(
            ok("valA==1 and valB==2 and valC==3"),
            json!(["&", ["==", "valA", 1], ["==", "valB", 2], ["==", "valC", 3]])
        );
        assert_eq!(
            ok("master or field"),
            json!(["|", ["?", "master"], ["?", "field"]])
        );
        assert_eq!(ok("mem == 128"), json!(["==", "mem", 128]));
        assert_eq!(ok("negfield != -1"), json!(["!=", "negfield", -1]));
        assert_eq!(ok("master"), json!(["?", "master"]));
        assert_eq!(ok("not master"), json!(["!", ["?", "master"]]));
        for op in ["not", "and", "or"] {
            assert_eq!(ok(&format!("{op}xyz")), json!(["?", format!("{op}xyz")]));
            assert_eq!(
                ok(&format!("not {op}xyz")),
                json!(["!", ["?", format!("{op}xyz")]])
            );
            assert_eq!(
                ok(&format!("  not \t{op}foo")),
                json!(["!", ["?", format!("{op}foo")]])
            );
            assert_eq!(
                ok(&format!("{op}name =~ m/abc/")),
                json!(["=~", format!("{op}name"), "abc"])
            );
        }
        assert_eq!(
            ok("master and not other"),
            json!(["&", ["?", "master"], ["!", ["?", "other"]]])
        );
        assert_eq!(
            ok("not (master or other == 4)"),
            json!(["!", ["|", ["?", "master"], ["==", "other", 4]]])
        );
        assert_eq!(
            ok("some==\"val\\\"ue\""),
            json!(["==", "some", "val\\\"ue"])
        );
        assert_eq!(ok("123 in ips"), json!(["=[]", "ips", 123]));
        assert_eq!(ok("99 not in ips"), json!(["!", ["=[]", "ips", 99]]));
        assert_eq!(
            ok("\"a\" in valA and \"b\" not in valB"),
            json!(["&", ["=[]", "valA", "a"], ["!", ["=[]", "valB", "b"]]])
        );
        assert_eq!(ok("name =~ m/test/"), json!(["=~", "name", "test"]));
        assert_eq!(
            ok("name =~ m/^node.*example.com$/i"),
            json!(["=~", "name", "(?i)^node.*example.com$"])
        );
        assert_eq!(
            ok("(name =~ m/^node.*example.com$/s and master) or pip =~ |^3.*|"),
            json!([
                "|",
                [
                    "&",
                    ["=~", "name", "(?s)^node.*example.com$"],
                    ["?", "master"]
                ],
                ["=~", "pip", "^3.*"]
            ])
        );
        for flags in ["si", "is", "ssss", "iiiisiii"] {
            let mut sorted: Vec<char> = flags.chars().collect();
            sorted.sort_unstable();
            let sorted: String = sorted.into_iter().collect();
            assert_eq!(
                ok(&format!("name =~ m/gi/{flags}")),
                json!(["=~", "name", format!("(?{sorted})gi")])
            );
        }
        for d in ['/', '#', '^', '|'] {
            assert_eq!(
                ok(&format!("name =~ m{d}test{d}")),
                json!(["=~", "name", "test"])
            );
            assert_eq!(
                ok(&format!("name !~ m{d}test{d}")),
                json!(["!", ["=~", "name", "test"]])
            );
            assert_eq!(
                ok(&format!("not\tname =~ m{d}test{d}")),
                json!(["!", ["=~", "name", "test"]])
            );
            assert_eq!(
                ok(&format!("notname =~ m{d}test{d}")),
                json!(["=~", "notname", "test"])
            );
        }
        assert_eq!(
            ok("name =* '*.site'"),
            json!(["=~", "name", dns_name_glob_pattern("*.site")])
        );
        assert_eq!(
            ok("field !* '*.example.*'"),
            json!(["!", ["=~", "field", dns_name_glob_pattern("*.example.*")]])
        );
        assert_eq!(ok("ctime < 1234"), json!(["<", "ctime", 1234]));
        assert_eq!(ok("ctime > 1234"), json!([">", "ctime", 1234]));
        assert_eq!(ok("mtime <= 9999"), json!(["<=", "mtime", 9999]));
        assert_eq!(ok("mtime >= 9999"), json!([">=", "mtime", 9999]));
    }

    #[test]
    fn ganeti_unit_test_errors() {
        for bad in [
            "#invalid!filter#",
            "m/x/,",
            "name=~m#a#g",
            "name=~^[^",
            "asdf =~ m|abc|I",
            "name =~ /foobarbaz#",
            "name <> value",
            "name => value",
            "name =< value",
        ] {
            let e = err(bad);
            assert_eq!(e.details().len(), 3, "{bad}");
        }
    }

    /// Messages recorded from Ganeti 3.0.2's qlang with pyparsing 3.0.9.
    #[test]
    fn error_messages_match_pyparsing() {
        let cases: &[(&str, &str)] = &[
            (
                "",
                "Expected Suppress:('or') term  (at char 0), (line:1, col:1)",
            ),
            (
                "  ",
                "Expected Suppress:('or') term, found end of text  (at char 2), (line:1, col:3)",
            ),
            (
                "==x",
                "Expected Suppress:('or') term, found '='  (at char 0), (line:1, col:1)",
            ),
            (
                "(a",
                "Expected Suppress:('or') term, found end of text  (at char 2), (line:1, col:3)",
            ),
            (
                "a and",
                "Expected end of text, found 'and'  (at char 2), (line:1, col:3)",
            ),
            (
                "a or (b",
                "Expected end of text, found 'or'  (at char 2), (line:1, col:3)",
            ),
            (
                "1",
                "Expected Suppress:('or') term, found end of text  (at char 1), (line:1, col:2)",
            ),
            (
                "\"x\"",
                "Expected Suppress:('or') term, found end of text  (at char 3), (line:1, col:4)",
            ),
            (
                "a == ",
                "Expected end of text, found '='  (at char 2), (line:1, col:3)",
            ),
            (
                "a == b",
                "Expected end of text, found '='  (at char 2), (line:1, col:3)",
            ),
            (
                "name <> value",
                "Expected end of text, found '<'  (at char 5), (line:1, col:6)",
            ),
            (
                "name => value",
                "Expected end of text, found '='  (at char 5), (line:1, col:6)",
            ),
            (
                "#invalid!filter#",
                "Expected Suppress:('or') term, found '#'  (at char 0), (line:1, col:1)",
            ),
            (
                "m/x/,",
                "Expected end of text, found ','  (at char 4), (line:1, col:5)",
            ),
            (
                "name =~ /foobarbaz#",
                "Expected end of text, found '='  (at char 5), (line:1, col:6)",
            ),
            (
                "a b",
                "Expected end of text, found 'b'  (at char 2), (line:1, col:3)",
            ),
            (
                "a and b c",
                "Expected end of text, found 'c'  (at char 8), (line:1, col:9)",
            ),
            (
                "(a))",
                "Expected end of text, found ')'  (at char 3), (line:1, col:4)",
            ),
            (
                "a ==1x",
                "Expected end of text, found 'x'  (at char 5), (line:1, col:6)",
            ),
            (
                "\"a\" in",
                "Expected Suppress:('or') term, found end of text  (at char 6), (line:1, col:7)",
            ),
            (
                "\"a\" not x",
                "Expected Suppress:('or') term, found 'x'  (at char 8), (line:1, col:9)",
            ),
            (
                "x =* y",
                "Expected end of text, found '='  (at char 2), (line:1, col:3)",
            ),
            (
                "x == - 1",
                "Expected end of text, found '='  (at char 2), (line:1, col:3)",
            ),
            (
                "x in y",
                "Expected end of text, found 'in'  (at char 2), (line:1, col:3)",
            ),
            (
                "a==1and b",
                "Expected end of text, found 'and'  (at char 4), (line:1, col:5)",
            ),
            (
                "a==1 andb",
                "Expected end of text, found 'andb'  (at char 5), (line:1, col:6)",
            ),
            (
                "name =~ /x/)",
                "Expected end of text, found ')'  (at char 11), (line:1, col:12)",
            ),
            (
                "_x == 1",
                "Expected Suppress:('or') term, found '_'  (at char 0), (line:1, col:1)",
            ),
            (
                "9a == 1",
                "Expected Suppress:('or') term, found 'a'  (at char 1), (line:1, col:2)",
            ),
            (
                "a\tb",
                "Expected end of text, found 'b'  (at char 2), (line:1, col:3)",
            ),
            (
                "a andb",
                "Expected end of text, found 'andb'  (at char 2), (line:1, col:3)",
            ),
            (
                "not (a",
                "Expected end of text, found '('  (at char 4), (line:1, col:5)",
            ),
            (
                "*.site",
                "Expected Suppress:('or') term, found '*'  (at char 0), (line:1, col:1)",
            ),
            (
                "foo+=1",
                "Expected end of text, found '+'  (at char 3), (line:1, col:4)",
            ),
            // fatal errors: no line, no "found"
            (
                "name=~m#a#g",
                "Unknown regular expression flags: 'g'  (at char 6), (line:1, col:7)",
            ),
            (
                "asdf =~ m|abc|I",
                "Unknown regular expression flags: 'I'  (at char 8), (line:1, col:9)",
            ),
            (
                "name =~ /x/ and y",
                "Unknown regular expression flags: 'and'  (at char 8), (line:1, col:9)",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(msg(text), *want, "{text:?}");
        }
        let e = err("name =~ /x/ and y");
        assert!(e.fatal);
        assert_eq!(e.line(), "");
        assert_eq!(e.details()[1], "        ^");
        assert!(e.cli_message().contains("\n\n        ^\n"));
    }

    #[test]
    fn multi_line_errors_show_the_error_line() {
        let e = err("x == \"a\nb\"");
        assert_eq!(
            e.inner(),
            "Expected end of text, found '='  (at char 2), (line:1, col:3)"
        );
        assert_eq!(e.line(), "x == \"a");
        let e = err("a and\nb c");
        assert_eq!(e.loc, 8);
        assert_eq!((e.lineno(), e.column()), (2, 3));
        assert_eq!(e.line(), "b c");
        assert_eq!(e.details()[1], "  ^");
        // an error right after a newline is in column 1 of the next line
        let e = err("a\n)");
        assert_eq!((e.loc, e.lineno(), e.column()), (2, 2, 1));
        assert_eq!(
            e.inner(),
            "Expected end of text, found ')'  (at char 2), (line:2, col:1)"
        );
    }

    #[test]
    fn invalid_regexps_are_fatal() {
        let e = err("name =~ /[/");
        assert!(e.fatal);
        assert!(
            e.message.starts_with("Invalid regular expression ("),
            "{}",
            e.message
        );
        assert_eq!(e.loc, 8);
        let e = err("name=~^[^");
        assert!(
            e.message.starts_with("Invalid regular expression ("),
            "{}",
            e.message
        );
        assert_eq!(e.loc, 6);
        // inside a look-ahead that is abandoned, no action runs: no fatal
        assert_eq!(
            msg("a and (b =~ /x/g"),
            "Expected end of text, found 'and'  (at char 2), (line:1, col:3)"
        );
    }

    #[test]
    fn quoting_quirks() {
        assert_eq!(ok("x == -1"), json!(["==", "x", -1]));
        assert_eq!(ok("x == +1"), json!(["==", "x", 1]));
        assert_eq!(ok("x == 'it''s'"), json!(["==", "x", "it''s"]));
        assert_eq!(ok("a == 1\n"), json!(["==", "a", 1]));
        assert_eq!(ok("a==\"\""), json!(["==", "a", ""]));
        assert_eq!(ok("x == \"\\x41\""), json!(["==", "x", "\\x41"]));
        assert_eq!(
            ok("x == 12345678901234567890"),
            json!(["==", "x", 12345678901234567890u64])
        );
        assert_eq!(ok("x.y/z_1 == 1"), json!(["==", "x.y/z_1", 1]));
        assert_eq!(ok("\"a\" infoo"), json!(["=[]", "foo", "a"]));
        assert_eq!(ok("1 in y"), json!(["=[]", "y", 1]));
        // an unterminated or doubled-quote string fails
        assert!(parse_filter("x == \"a\"\"").is_err());
        assert!(parse_filter("x == \"a\\x\"").is_err());
        assert!(parse_filter("x == 'abc").is_err());
    }

    #[test]
    fn regexp_quirks() {
        assert_eq!(ok("name =~ m /x/"), json!(["=~", "name", "x"]));
        assert_eq!(ok("name =~ m/x/ s"), json!(["=~", "name", "(?s)x"]));
        assert_eq!(
            ok("(name =~ /x/) and y"),
            json!(["&", ["=~", "name", "x"], ["?", "y"]])
        );
        assert_eq!(ok("name =~ /a\\/b/"), json!(["=~", "name", "a/b"]));
        assert_eq!(ok("name =~ #a\\#b#"), json!(["=~", "name", "a#b"]));
        assert_eq!(ok("name =~ /a\\tb/"), json!(["=~", "name", "a\tb"]));
        assert_eq!(ok("name =~ /a\\\\b/"), json!(["=~", "name", "a\\b"]));
        assert_eq!(ok("name =~ /a\\.b/"), json!(["=~", "name", "a.b"]));
        assert_eq!(ok("name !~ /x/i"), json!(["!", ["=~", "name", "(?i)x"]]));
        assert_eq!(
            ok("a !* '*.x' or b =* \"y?\""),
            json!([
                "|",
                ["!", ["=~", "a", "^[^.]*\\.x(\\..*)?$"]],
                ["=~", "b", "^y[^.](\\..*)?$"]
            ])
        );
        assert_eq!(unescape_regexp("a\\\\tb"), "a\tb");
        assert_eq!(unescape_regexp("a\\\nb"), "a\\\nb");
        assert_eq!(unescape_regexp("plain"), "plain");
    }

    #[test]
    fn logic_structure() {
        assert_eq!(ok("not not a"), json!(["!", ["!", ["?", "a"]]]));
        assert_eq!(
            ok("a and b or c and d"),
            json!([
                "|",
                ["&", ["?", "a"], ["?", "b"]],
                ["&", ["?", "c"], ["?", "d"]]
            ])
        );
        assert_eq!(
            ok("not a and b"),
            json!(["&", ["!", ["?", "a"]], ["?", "b"]])
        );
        assert_eq!(
            ok("a or b or c"),
            json!(["|", ["?", "a"], ["?", "b"], ["?", "c"]])
        );
        assert_eq!(
            ok("(a or b) and (c or d)"),
            json!([
                "&",
                ["|", ["?", "a"], ["?", "b"]],
                ["|", ["?", "c"], ["?", "d"]]
            ])
        );
        assert_eq!(ok("not(a)"), json!(["!", ["?", "a"]]));
        assert_eq!(ok("nota"), json!(["?", "nota"]));
        assert_eq!(ok("not"), json!(["?", "not"]));
        assert_eq!(ok("(a)and(b)"), json!(["&", ["?", "a"], ["?", "b"]]));
        assert_eq!(ok("((((a))))"), json!(["?", "a"]));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = format!("{}a{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(ok(&deep), json!(["?", "a"]));
        let too_deep = format!("{}a{}", "(".repeat(500), ")".repeat(500));
        let e = err(&too_deep);
        assert!(e.fatal);
        assert_eq!(e.message, "Filter is nested too deeply");
        // long flat chains stay fast
        let chain = vec!["a == 1"; 300].join(" and ");
        let v = ok(&chain);
        assert_eq!(v.as_array().map(Vec::len), Some(301));
    }

    #[test]
    fn make_filter_like_ganeti() {
        let none: [&str; 0] = [];
        assert_eq!(make_filter(&none, false, None, false), Ok(None));
        assert_eq!(
            make_filter(&["web1", "web2"], false, None, false),
            Ok(Some(json!([
                "|",
                ["==", "name", "web1"],
                ["==", "name", "web2"]
            ])))
        );
        assert_eq!(
            make_filter(&["mailA", "mailB"], false, Some("id"), false),
            Ok(Some(json!([
                "|",
                ["==", "id", "mailA"],
                ["==", "id", "mailB"]
            ])))
        );
        for args in [vec![], vec!["1", "2"], vec!["", "", ""]] {
            assert_eq!(
                make_filter(&args, true, None, false),
                Err(FilterError::NotOneArgument)
            );
        }
        assert!(matches!(
            make_filter(&["*.site"], true, None, false),
            Err(FilterError::Parse(_))
        ));
        assert_eq!(
            make_filter(&["web1"], true, None, false),
            Ok(Some(json!(["?", "web1"])))
        );
        assert_eq!(
            make_filter(&["foo/bar"], false, None, false),
            Ok(Some(json!(["?", "foo/bar"])))
        );
        assert_eq!(
            make_filter(&["foo=='bar'"], false, None, false),
            Ok(Some(json!(["==", "foo", "bar"])))
        );
        assert_eq!(
            make_filter(&["field=*'*.site'"], false, None, false),
            Ok(Some(json!([
                "=~",
                "field",
                dns_name_glob_pattern("*.site")
            ])))
        );
        for name in [
            "node1",
            "n-o-d-e",
            "n_o_d_e",
            "node1.example.com",
            "node1.example.com.",
        ] {
            assert_eq!(
                make_filter(&[name], false, None, false),
                Ok(Some(json!(["|", ["==", "name", name]])))
            );
        }
        for bad in ["foo==bar", "foo+=1"] {
            assert!(matches!(
                make_filter(&[bad], false, None, false),
                Err(FilterError::Parse(_))
            ));
        }
        assert_eq!(
            make_filter(&["*.site"], false, None, false),
            Ok(Some(json!(["|", ["=~", "name", "^[^.]*\\.site(\\..*)?$"]])))
        );
        assert_eq!(
            make_filter(&["web?.example"], false, None, false),
            Ok(Some(json!([
                "|",
                ["=~", "name", "^web[^.]\\.example(\\..*)?$"]
            ])))
        );
        // several arguments are never filters, even with filter characters
        assert_eq!(
            make_filter(&["x", "y z"], false, None, false),
            Ok(Some(json!([
                "|",
                ["==", "name", "x"],
                ["==", "name", "y z"]
            ])))
        );
    }

    #[test]
    fn numeric_name_fields() {
        assert_eq!(
            make_filter(&["1", "2"], false, Some("id"), true),
            Ok(Some(json!(["|", ["==", "id", 1], ["==", "id", 2]])))
        );
        let e = make_filter(&["1", "abc"], false, Some("id"), true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid job ID passed: invalid literal for int() with base 10: 'abc'"
        );
        assert_eq!(
            e.cli_message(),
            "Failure: prerequisites not met for this operation:\nerror type: wrong_input, \
             error details:\nInvalid job ID passed: invalid literal for int() with base 10: 'abc'"
        );
        assert_eq!(
            FilterError::NotOneArgument.cli_message(),
            "Failure: prerequisites not met for this operation:\nerror type: wrong_input, \
             error details:\nExactly one argument must be given as a filter"
        );
    }

    #[test]
    fn simple_filters_and_combination() {
        assert_eq!(make_simple_filter::<&str>("name", &[]), None);
        assert_eq!(
            make_simple_filter("name", &["node1.example.com"]),
            Some(json!(["|", ["==", "name", "node1.example.com"]]))
        );
        assert_eq!(
            make_simple_filter("xyz", &["a", "b", "c"]),
            Some(json!([
                "|",
                ["==", "xyz", "a"],
                ["==", "xyz", "b"],
                ["==", "xyz", "c"]
            ]))
        );
        let names = make_simple_filter("id", &["1"]);
        let status = make_simple_filter("status", &["running"]);
        assert_eq!(
            combine_filters(names.clone(), status.clone()),
            Some(json!([
                "&",
                ["|", ["==", "id", "1"]],
                ["|", ["==", "status", "running"]]
            ]))
        );
        assert_eq!(combine_filters(names.clone(), None), names);
        assert_eq!(combine_filters(None, status.clone()), status);
        assert_eq!(combine_filters(None, None), None);
    }

    #[test]
    fn glob_patterns_escape_like_python() {
        assert_eq!(dns_name_glob_pattern("*.site"), "^[^.]*\\.site(\\..*)?$");
        assert_eq!(dns_name_glob_pattern("a-b c"), "^a\\-b\\ c(\\..*)?$");
        assert_eq!(dns_name_glob_pattern(""), "^(\\..*)?$");
        assert_eq!(dns_name_glob_pattern("x_y"), "^x_y(\\..*)?$");
        assert!(looks_like_glob("a*") && looks_like_glob("a?") && !looks_like_glob("a"));
        assert!(
            looks_like_filter("a b") && looks_like_filter("x=1") && !looks_like_filter("a.b-c")
        );
    }
}
