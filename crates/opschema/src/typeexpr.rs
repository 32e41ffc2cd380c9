//! The little type language of the spec's `type` column, as an AST plus a checker.
//!
//! Why an AST instead of matching strings at check time: every opcode is validated on
//! every submission, so the text is parsed once (at schema load) and checking is a plain
//! tree walk. The parser is deliberately strict — an unknown word, a missing parenthesis
//! or an unparenthesised mix of `and`/`or` is an error — so that a spec row we do not
//! understand fails the "every row parses" test instead of silently accepting anything.
//!
//! The checker reproduces the semantics of Ganeti's `ht` module on JSON values (what a
//! Python opcode holds after JSON decoding), including its quirks: `int` excludes
//! booleans, `float` is strict (the int-to-float retry happens one level up, see
//! [`TypeExpr::coerce`]), `one-of` compares with Python equality (`0 == 0.0 == false`),
//! `Item N is` only checks the items that exist, `set of` iterates whatever Python's
//! `set()` would iterate, and `tuple of` requires the exact length.

use std::fmt;

use serde_json::Value;

use crate::netaddr;

/// A literal member of a `one-of{...}` set.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A string member, e.g. `drbd`.
    Str(String),
    /// An integer member, e.g. `-10` in the priority set.
    Int(i64),
}

/// Parsed form of one `type` cell.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `any`: everything passes.
    Any,
    /// `fn` / `type`: a Ganeti check without a description (dumped as its Python kind).
    /// Accepts everything; the spec loader replaces the known `fn` cells with real types.
    Opaque(String),
    /// `null`
    Null,
    /// `bool`
    Bool,
    /// `str`
    Str,
    /// `nonempty-str`
    NonEmptyStr,
    /// `int` (never a boolean)
    Int,
    /// `int>=0`
    NonNegInt,
    /// `int>0`
    PosInt,
    /// `float` (strict: a JSON number written with a fraction or exponent)
    Float,
    /// `JobId`: a non-negative int or a string of decimal digits.
    JobId,
    /// `RelativeJobId`: a negative int.
    RelativeJobId,
    /// `List`: any JSON array.
    List,
    /// `Tuple`: any JSON array (a Python tuple is serialised as a list).
    Tuple,
    /// `one-of{a|b|c}`
    OneOf(Vec<Literal>),
    /// `list of X`
    ListOf(Box<TypeExpr>),
    /// `set of X` (a JSON list; duplicates allowed)
    SetOf(Box<TypeExpr>),
    /// `dict of K to V` (keys are checked as strings)
    DictOf(Box<TypeExpr>, Box<TypeExpr>),
    /// `tuple of (A, B, ...)`: a list of exactly that length.
    TupleOf(Vec<TypeExpr>),
    /// `Length N`
    Length(usize),
    /// `<N`
    LessThan(i64),
    /// `Item 0 is (A), item 1 is (B)`: checks as many items as the value has.
    Items(Vec<TypeExpr>),
    /// `IPv4 address`
    Ipv4Address,
    /// `IPv4 network`
    Ipv4Network,
    /// `IPv6 address`
    Ipv6Address,
    /// `IPv6 network`
    Ipv6Network,
    /// `private X`: X, wrapped by Ganeti so that it is masked in output.
    Private(Box<TypeExpr>),
    /// `Dictionary containing none but the required key(s) "k" (value X), ...`
    StrictDict(Vec<(String, TypeExpr)>),
    /// `A or B or ...`
    Or(Vec<TypeExpr>),
    /// `A and B and ...`
    And(Vec<TypeExpr>),
}

/// Why a `type` cell could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse type {text:?} at token {position}: {message}")]
pub struct TypeParseError {
    /// The full text that was being parsed.
    pub text: String,
    /// Index of the offending token.
    pub position: usize,
    /// What was wrong.
    pub message: String,
}

impl TypeExpr {
    /// Parses one `type` cell of opcodes.tsv.
    pub fn parse(text: &str) -> Result<TypeExpr, TypeParseError> {
        let toks = tokenize(text).map_err(|message| TypeParseError {
            text: text.to_owned(),
            position: 0,
            message,
        })?;
        let mut p = Parser { text, toks, pos: 0 };
        let expr = p.expr()?;
        if p.pos != p.toks.len() {
            return Err(p.err("trailing input"));
        }
        Ok(expr)
    }

    /// Ganeti's type test, applied to a JSON value (strict: no int-to-float coercion).
    pub fn matches(&self, v: &Value) -> bool {
        match self {
            TypeExpr::Any | TypeExpr::Opaque(_) => true,
            TypeExpr::Null => v.is_null(),
            TypeExpr::Bool => v.is_boolean(),
            TypeExpr::Str => v.is_string(),
            TypeExpr::NonEmptyStr => v.as_str().is_some_and(|s| !s.is_empty()),
            TypeExpr::Int => as_int(v).is_some(),
            TypeExpr::NonNegInt => as_int(v).is_some_and(|i| i >= 0),
            TypeExpr::PosInt => as_int(v).is_some_and(|i| i > 0),
            TypeExpr::Float => v.as_number().is_some_and(serde_json::Number::is_f64),
            TypeExpr::JobId => {
                as_int(v).is_some_and(|i| i >= 0) || v.as_str().is_some_and(is_job_id_string)
            }
            TypeExpr::RelativeJobId => as_int(v).is_some_and(|i| i < 0),
            TypeExpr::List | TypeExpr::Tuple => v.is_array(),
            TypeExpr::OneOf(lits) => lits.iter().any(|l| py_eq(l, v)),
            TypeExpr::ListOf(t) => v.as_array().is_some_and(|a| a.iter().all(|x| t.matches(x))),
            TypeExpr::SetOf(t) => match v {
                // set() of a list fails (TypeError) on unhashable members.
                Value::Array(a) => a
                    .iter()
                    .all(|x| !matches!(x, Value::Array(_) | Value::Object(_)) && t.matches(x)),
                Value::String(s) => s.chars().all(|c| t.matches(&Value::String(c.to_string()))),
                Value::Object(m) => m.keys().all(|k| t.matches(&Value::String(k.clone()))),
                _ => false,
            },
            TypeExpr::DictOf(k, val) => v.as_object().is_some_and(|m| {
                m.iter()
                    .all(|(key, x)| k.matches(&Value::String(key.clone())) && val.matches(x))
            }),
            TypeExpr::TupleOf(ts) => v.as_array().is_some_and(|a| {
                a.len() == ts.len() && ts.iter().zip(a).all(|(t, x)| t.matches(x))
            }),
            TypeExpr::Length(n) => py_len(v) == Some(*n),
            TypeExpr::LessThan(n) => py_number(v).is_some_and(|x| x < *n as f64),
            TypeExpr::Items(ts) => match py_iter(v) {
                Some(items) => ts.iter().zip(items.iter()).all(|(t, x)| t.matches(x)),
                None => false,
            },
            TypeExpr::Ipv4Address => v.as_str().is_some_and(netaddr::is_ipv4_address),
            TypeExpr::Ipv4Network => v.as_str().is_some_and(netaddr::is_ipv4_network),
            TypeExpr::Ipv6Address => v.as_str().is_some_and(netaddr::is_ipv6_address),
            TypeExpr::Ipv6Network => v.as_str().is_some_and(netaddr::is_ipv6_network),
            TypeExpr::Private(t) => t.matches(v),
            TypeExpr::StrictDict(fields) => v.as_object().is_some_and(|m| {
                fields.iter().all(|(k, _)| m.contains_key(k))
                    && m.iter().all(|(k, x)| {
                        fields
                            .iter()
                            .find(|(name, _)| name == k)
                            .is_some_and(|(_, t)| t.matches(x))
                    })
            }),
            TypeExpr::Or(ts) => ts.iter().any(|t| t.matches(v)),
            TypeExpr::And(ts) => ts.iter().all(|t| t.matches(v)),
        }
    }

    /// Ganeti's per-parameter validation step: the value as it will be stored, or `None`
    /// when it fails. Like `BaseOpCode.Validate`, an integer that fails the test is retried
    /// as a float, so `{"duration": 8}` for a `float` parameter is accepted as `8.0`.
    pub fn coerce(&self, v: &Value) -> Option<Value> {
        if self.matches(v) {
            return Some(v.clone());
        }
        let i = as_int(v)?;
        let f = Value::from(i as f64);
        self.matches(&f).then_some(f)
    }

    fn is_atom(&self) -> bool {
        !matches!(
            self,
            TypeExpr::ListOf(_)
                | TypeExpr::SetOf(_)
                | TypeExpr::DictOf(_, _)
                | TypeExpr::TupleOf(_)
                | TypeExpr::Length(_)
                | TypeExpr::LessThan(_)
                | TypeExpr::Items(_)
                | TypeExpr::Ipv4Address
                | TypeExpr::Ipv4Network
                | TypeExpr::Ipv6Address
                | TypeExpr::Ipv6Network
                | TypeExpr::Private(_)
                | TypeExpr::StrictDict(_)
                | TypeExpr::Or(_)
                | TypeExpr::And(_)
        )
    }
}

/// A JSON integer as Python sees it (booleans are not ints here, matching `ht.TInt`).
fn as_int(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        Some(i128::from(i))
    } else {
        n.as_u64().map(i128::from)
    }
}

/// A numeric view for Python comparisons, where `True`/`False` compare as 1/0.
fn py_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// Python `lit == v` for the members of a `one-of` set.
fn py_eq(lit: &Literal, v: &Value) -> bool {
    match lit {
        Literal::Str(s) => v.as_str() == Some(s.as_str()),
        Literal::Int(i) => match (as_int(v), py_number(v)) {
            (Some(j), _) => j == i128::from(*i),
            (None, Some(x)) => x == *i as f64,
            (None, None) => false,
        },
    }
}

/// Python `len(v)`; `None` where Python raises.
fn py_len(v: &Value) -> Option<usize> {
    match v {
        Value::Array(a) => Some(a.len()),
        Value::Object(m) => Some(m.len()),
        Value::String(s) => Some(s.chars().count()),
        _ => None,
    }
}

/// What Python's `zip(items, v)` would iterate over; `None` where Python raises.
fn py_iter(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::Object(m) => Some(m.keys().cloned().map(Value::String).collect()),
        Value::String(s) => Some(s.chars().map(|c| Value::String(c.to_string())).collect()),
        _ => None,
    }
}

/// `^\d+$` as Python's `re.match` applies it: `$` also matches before a final newline.
/// (Only ASCII digits are accepted; Python would also take other Unicode digits.)
fn is_job_id_string(s: &str) -> bool {
    let s = s.strip_suffix('\n').unwrap_or(s);
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------- tokenizer / parser

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Pipe,
    Comma,
    Quoted(String),
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '{' | '}' | '|' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '{' => Tok::LBrace,
                    '}' => Tok::RBrace,
                    '|' => Tok::Pipe,
                    _ => Tok::Comma,
                });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(ch) => s.push(ch),
                        None => return Err("unterminated quoted string".into()),
                    }
                }
                out.push(Tok::Quoted(s));
            }
            _ => {
                let mut s = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || "(){}|,\"".contains(ch) {
                        break;
                    }
                    s.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> TypeParseError {
        TypeParseError {
            text: self.text.to_owned(),
            position: self.pos,
            message: message.into(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_at(&self, offset: usize) -> Option<&Tok> {
        self.toks.get(self.pos + offset)
    }

    fn next(&mut self) -> Result<Tok, TypeParseError> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or_else(|| self.err("unexpected end of input"))?;
        self.pos += 1;
        Ok(t)
    }

    fn expect(&mut self, want: &Tok) -> Result<(), TypeParseError> {
        let got = self.next()?;
        if &got == want {
            Ok(())
        } else {
            self.pos -= 1;
            Err(self.err(format!("expected {want:?}, found {got:?}")))
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), TypeParseError> {
        self.expect(&Tok::Word(word.to_owned()))
    }

    fn word(&mut self) -> Result<String, TypeParseError> {
        match self.next()? {
            Tok::Word(w) => Ok(w),
            other => {
                self.pos -= 1;
                Err(self.err(format!("expected a word, found {other:?}")))
            }
        }
    }

    fn number<T: std::str::FromStr>(&mut self) -> Result<T, TypeParseError> {
        let w = self.word()?;
        w.parse().map_err(|_| {
            self.pos -= 1;
            self.err(format!("expected a number, found {w:?}"))
        })
    }

    /// `operand (("and" | "or") operand)*`, one operator per level.
    fn expr(&mut self) -> Result<TypeExpr, TypeParseError> {
        let first = self.operand()?;
        let mut op: Option<String> = None;
        let mut items = vec![first];
        while let Some(Tok::Word(w)) = self.peek() {
            if w != "and" && w != "or" {
                break;
            }
            let w = w.clone();
            if op.as_ref().is_some_and(|o| *o != w) {
                return Err(self.err("mixed `and`/`or` without parentheses"));
            }
            op = Some(w);
            self.pos += 1;
            items.push(self.operand()?);
        }
        Ok(match op.as_deref() {
            None => items.remove(0),
            Some("and") => TypeExpr::And(items),
            Some(_) => TypeExpr::Or(items),
        })
    }

    fn operand(&mut self) -> Result<TypeExpr, TypeParseError> {
        let start = self.pos;
        let tok = self.next()?;
        let word = match tok {
            Tok::LParen => {
                let e = self.expr()?;
                self.expect(&Tok::RParen)?;
                return Ok(e);
            }
            Tok::Word(w) => w,
            other => {
                self.pos = start;
                return Err(self.err(format!("unexpected {other:?}")));
            }
        };
        Ok(match word.as_str() {
            "any" => TypeExpr::Any,
            "fn" | "type" => TypeExpr::Opaque(word),
            "null" => TypeExpr::Null,
            "bool" => TypeExpr::Bool,
            "str" => TypeExpr::Str,
            "nonempty-str" => TypeExpr::NonEmptyStr,
            "int" => TypeExpr::Int,
            "int>=0" => TypeExpr::NonNegInt,
            "int>0" => TypeExpr::PosInt,
            "float" => TypeExpr::Float,
            "JobId" => TypeExpr::JobId,
            "RelativeJobId" => TypeExpr::RelativeJobId,
            "List" => TypeExpr::List,
            "Tuple" => TypeExpr::Tuple,
            "one-of" => self.one_of()?,
            "list" => {
                self.expect_word("of")?;
                TypeExpr::ListOf(Box::new(self.operand()?))
            }
            "set" => {
                self.expect_word("of")?;
                TypeExpr::SetOf(Box::new(self.operand()?))
            }
            "dict" => {
                self.expect_word("of")?;
                let k = self.operand()?;
                self.expect_word("to")?;
                let v = self.operand()?;
                TypeExpr::DictOf(Box::new(k), Box::new(v))
            }
            "tuple" => {
                self.expect_word("of")?;
                self.expect(&Tok::LParen)?;
                let mut elems = vec![self.expr()?];
                while self.peek() == Some(&Tok::Comma) {
                    self.pos += 1;
                    elems.push(self.expr()?);
                }
                self.expect(&Tok::RParen)?;
                TypeExpr::TupleOf(elems)
            }
            "Length" => TypeExpr::Length(self.number()?),
            "Item" => self.items()?,
            "IPv4" | "IPv6" => {
                let kind = self.word()?;
                match (word.as_str(), kind.as_str()) {
                    ("IPv4", "address") => TypeExpr::Ipv4Address,
                    ("IPv4", "network") => TypeExpr::Ipv4Network,
                    ("IPv6", "address") => TypeExpr::Ipv6Address,
                    ("IPv6", "network") => TypeExpr::Ipv6Network,
                    _ => {
                        self.pos -= 1;
                        return Err(self.err(format!("unknown address kind {kind:?}")));
                    }
                }
            }
            "private" => TypeExpr::Private(Box::new(self.operand()?)),
            "Dictionary" => self.strict_dict()?,
            w if w.starts_with('<') => match w[1..].parse() {
                Ok(n) => TypeExpr::LessThan(n),
                Err(_) => {
                    self.pos = start;
                    return Err(self.err(format!("bad bound {w:?}")));
                }
            },
            _ => {
                self.pos = start;
                return Err(self.err(format!("unknown type word {word:?}")));
            }
        })
    }

    fn one_of(&mut self) -> Result<TypeExpr, TypeParseError> {
        self.expect(&Tok::LBrace)?;
        let mut lits = Vec::new();
        loop {
            let w = self.word()?;
            lits.push(match w.parse::<i64>() {
                Ok(i) => Literal::Int(i),
                Err(_) => Literal::Str(w),
            });
            match self.next()? {
                Tok::Pipe => {}
                Tok::RBrace => break,
                other => {
                    self.pos -= 1;
                    return Err(self.err(format!("expected | or }}, found {other:?}")));
                }
            }
        }
        Ok(TypeExpr::OneOf(lits))
    }

    /// After `Item`: `0 is X, item 1 is Y, ...` (indices must count up from 0).
    fn items(&mut self) -> Result<TypeExpr, TypeParseError> {
        let mut checks = Vec::new();
        loop {
            let idx: usize = self.number()?;
            if idx != checks.len() {
                self.pos -= 1;
                return Err(self.err(format!("item index {idx} out of order")));
            }
            self.expect_word("is")?;
            checks.push(self.operand()?);
            let more = self.peek() == Some(&Tok::Comma)
                && self.peek_at(1) == Some(&Tok::Word("item".to_owned()));
            if !more {
                break;
            }
            self.pos += 2;
        }
        Ok(TypeExpr::Items(checks))
    }

    /// After `Dictionary`: `containing none but the required key(s) "k" (value X), ...`.
    fn strict_dict(&mut self) -> Result<TypeExpr, TypeParseError> {
        for w in ["containing", "none", "but", "the", "required"] {
            self.expect_word(w)?;
        }
        let kw = self.word()?;
        if kw != "key" && kw != "keys" {
            self.pos -= 1;
            return Err(self.err(format!("expected key(s), found {kw:?}")));
        }
        let mut fields = Vec::new();
        loop {
            let name = match self.next()? {
                Tok::Quoted(s) => s,
                other => {
                    self.pos -= 1;
                    return Err(self.err(format!("expected a quoted key, found {other:?}")));
                }
            };
            self.expect(&Tok::LParen)?;
            self.expect_word("value")?;
            let t = self.expr()?;
            self.expect(&Tok::RParen)?;
            fields.push((name, t));
            let more =
                self.peek() == Some(&Tok::Comma) && matches!(self.peek_at(1), Some(Tok::Quoted(_)));
            if !more {
                break;
            }
            self.pos += 1;
        }
        if (kw == "key") != (fields.len() == 1) {
            return Err(self.err("`key`/`keys` does not match the number of keys"));
        }
        Ok(TypeExpr::StrictDict(fields))
    }
}

// ---------------------------------------------------------------- display

struct Operand<'a>(&'a TypeExpr);

impl fmt::Display for Operand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_atom() {
            write!(f, "{}", self.0)
        } else {
            write!(f, "({})", self.0)
        }
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => f.write_str(s),
            Literal::Int(i) => write!(f, "{i}"),
        }
    }
}

/// Renders in the spec's notation, parenthesising every compound operand; the output
/// parses back to the same tree.
impl fmt::Display for TypeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, ts: &[TypeExpr], sep: &str| -> fmt::Result {
            for (i, t) in ts.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{}", Operand(t))?;
            }
            Ok(())
        };
        match self {
            TypeExpr::Any => f.write_str("any"),
            TypeExpr::Opaque(w) => f.write_str(w),
            TypeExpr::Null => f.write_str("null"),
            TypeExpr::Bool => f.write_str("bool"),
            TypeExpr::Str => f.write_str("str"),
            TypeExpr::NonEmptyStr => f.write_str("nonempty-str"),
            TypeExpr::Int => f.write_str("int"),
            TypeExpr::NonNegInt => f.write_str("int>=0"),
            TypeExpr::PosInt => f.write_str("int>0"),
            TypeExpr::Float => f.write_str("float"),
            TypeExpr::JobId => f.write_str("JobId"),
            TypeExpr::RelativeJobId => f.write_str("RelativeJobId"),
            TypeExpr::List => f.write_str("List"),
            TypeExpr::Tuple => f.write_str("Tuple"),
            TypeExpr::OneOf(lits) => {
                f.write_str("one-of{")?;
                for (i, l) in lits.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    write!(f, "{l}")?;
                }
                f.write_str("}")
            }
            TypeExpr::ListOf(t) => write!(f, "list of {}", Operand(t)),
            TypeExpr::SetOf(t) => write!(f, "set of {}", Operand(t)),
            TypeExpr::DictOf(k, v) => write!(f, "dict of {} to {}", Operand(k), Operand(v)),
            TypeExpr::TupleOf(ts) => {
                f.write_str("tuple of (")?;
                join(f, ts, ", ")?;
                f.write_str(")")
            }
            TypeExpr::Length(n) => write!(f, "Length {n}"),
            TypeExpr::LessThan(n) => write!(f, "<{n}"),
            TypeExpr::Items(ts) => {
                for (i, t) in ts.iter().enumerate() {
                    let word = if i == 0 { "Item" } else { ", item" };
                    write!(f, "{word} {i} is {}", Operand(t))?;
                }
                Ok(())
            }
            TypeExpr::Ipv4Address => f.write_str("IPv4 address"),
            TypeExpr::Ipv4Network => f.write_str("IPv4 network"),
            TypeExpr::Ipv6Address => f.write_str("IPv6 address"),
            TypeExpr::Ipv6Network => f.write_str("IPv6 network"),
            TypeExpr::Private(t) => write!(f, "private {}", Operand(t)),
            TypeExpr::StrictDict(fields) => {
                let kw = if fields.len() == 1 { "key" } else { "keys" };
                write!(f, "Dictionary containing none but the required {kw} ")?;
                for (i, (k, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "\"{k}\" (value {t})")?;
                }
                Ok(())
            }
            TypeExpr::Or(ts) => join(f, ts, " or "),
            TypeExpr::And(ts) => join(f, ts, " and "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> TypeExpr {
        match TypeExpr::parse(s) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn parses_simple_words() {
        assert_eq!(t("bool"), TypeExpr::Bool);
        assert_eq!(t("int>=0"), TypeExpr::NonNegInt);
        assert_eq!(
            t("null or nonempty-str"),
            TypeExpr::Or(vec![TypeExpr::Null, TypeExpr::NonEmptyStr])
        );
        assert_eq!(
            t("one-of{-10|0|10}"),
            TypeExpr::OneOf(vec![Literal::Int(-10), Literal::Int(0), Literal::Int(10)])
        );
        assert_eq!(
            t("int>=0 and (<16)"),
            TypeExpr::And(vec![TypeExpr::NonNegInt, TypeExpr::LessThan(16)])
        );
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "integer",
            "list of",
            "list str",
            "(bool",
            "bool)",
            "one-of{a|b",
            "one-of{}",
            "null or bool and int",
            "dict of str str",
            "tuple of (int, )",
            "Item 1 is (bool)",
            "IPv4 thing",
            "Dictionary containing none but the required keys \"a\" (value bool)",
            "Dictionary containing none but the required key \"a\" (value bool), \"b\" (value int)",
            "Dictionary containing none but the required key a (value bool)",
            "<x",
            "\"unterminated",
        ] {
            assert!(TypeExpr::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "null or (list of (((list of any) or Tuple) and (Length 2) and (Item 0 is (JobId or RelativeJobId), item 1 is (list of (one-of{canceled|error|success})))))",
            "tuple of (dict of str to str, list of str, dict of str to (list of (list of str)))",
            "Dictionary containing none but the required keys \"jobs\" (value list of ((Length 2) and (Item 0 is (bool), item 1 is (str or JobId)))), \"allocatable\" (value list of nonempty-str)",
            "null or (dict of any to (private any))",
            "str and (IPv4 network)",
        ] {
            let a = t(s);
            let b = t(&a.to_string());
            assert_eq!(a, b, "{s}");
        }
    }

    #[test]
    fn scalars() {
        assert!(t("bool").matches(&json!(true)));
        assert!(!t("bool").matches(&json!(1)));
        assert!(t("int").matches(&json!(-3)));
        assert!(!t("int").matches(&json!(true)), "bools are not ints");
        assert!(!t("int").matches(&json!(3.0)));
        assert!(!t("int").matches(&json!("3")));
        assert!(t("int>=0").matches(&json!(0)));
        assert!(!t("int>=0").matches(&json!(-1)));
        assert!(t("int>0").matches(&json!(1)));
        assert!(!t("int>0").matches(&json!(0)));
        assert!(t("float").matches(&json!(1.5)));
        assert!(
            !t("float").matches(&json!(1)),
            "strict; coerce() does the retry"
        );
        assert!(!t("float").matches(&json!("1.5")));
        assert!(t("str").matches(&json!("")));
        assert!(!t("str").matches(&json!(null)));
        assert!(!t("nonempty-str").matches(&json!("")));
        assert!(t("nonempty-str").matches(&json!("x")));
        assert!(t("null").matches(&json!(null)));
        assert!(!t("null").matches(&json!(false)));
        assert!(t("any").matches(&json!({"a": [1]})));
    }

    #[test]
    fn coerce_int_to_float() {
        assert_eq!(t("float").coerce(&json!(8)), Some(json!(8.0)));
        assert_eq!(t("null or float").coerce(&json!(2)), Some(json!(2.0)));
        assert_eq!(t("float").coerce(&json!(true)), None);
        assert_eq!(t("float").coerce(&json!("8")), None);
        assert_eq!(t("int").coerce(&json!(8)), Some(json!(8)));
    }

    #[test]
    fn one_of_uses_python_equality() {
        let prio = t("one-of{-10|0|10}");
        assert!(prio.matches(&json!(-10)));
        assert!(prio.matches(&json!(0.0)));
        assert!(prio.matches(&json!(false)), "False == 0 in Python");
        assert!(!prio.matches(&json!(5)));
        assert!(!prio.matches(&json!("0")));
        let mode = t("one-of{local|remote}");
        assert!(mode.matches(&json!("local")));
        assert!(!mode.matches(&json!("Local")));
        assert!(!mode.matches(&json!(["local"])));
    }

    #[test]
    fn containers() {
        let l = t("list of nonempty-str");
        assert!(l.matches(&json!([])));
        assert!(l.matches(&json!(["a", "b"])));
        assert!(!l.matches(&json!(["a", ""])));
        assert!(!l.matches(&json!("a")));
        assert!(!l.matches(&json!({"a": 1})));

        let s = t("set of (one-of{nplusone_mem})");
        assert!(s.matches(&json!(["nplusone_mem", "nplusone_mem"])));
        assert!(!s.matches(&json!(["other"])));
        assert!(!s.matches(&json!(5)));
        assert!(s.matches(&json!("")), "set('') is empty, as in Python");

        let d = t("dict of (one-of{bridge|ip|link|mac|mode|name|network|vlan}) to (null or str)");
        assert!(d.matches(&json!({"ip": null, "mac": "auto"})));
        assert!(!d.matches(&json!({"speed": "1"})));
        assert!(!d.matches(&json!({"ip": 1})));
        assert!(!d.matches(&json!([["ip", "x"]])));

        let tu = t("tuple of (nonempty-str, int>=0, nonempty-str, int>=0)");
        assert!(tu.matches(&json!(["a", 1, "b", 2])));
        assert!(!tu.matches(&json!(["a", 1, "b"])));
        assert!(!tu.matches(&json!(["a", 1, "b", 2, 3])));
        assert!(!tu.matches(&json!(["a", -1, "b", 2])));

        assert!(t("List").matches(&json!([])));
        assert!(!t("List").matches(&json!({})));
        assert!(t("Tuple").matches(&json!([1, 2])));
    }

    #[test]
    fn length_items_and_bounds() {
        assert!(t("Length 2").matches(&json!([1, 2])));
        assert!(t("Length 2").matches(&json!("ab")));
        assert!(!t("Length 2").matches(&json!([1])));
        assert!(!t("Length 2").matches(&json!(12)));
        let items = t("Item 0 is (bool), item 1 is (str or JobId)");
        assert!(items.matches(&json!([true, "x"])));
        assert!(
            items.matches(&json!([true])),
            "zip stops at the shorter side"
        );
        assert!(!items.matches(&json!(["x", true])));
        assert!(!items.matches(&json!(7)));
        let disk = t("int>=0 and (<16)");
        assert!(disk.matches(&json!(15)));
        assert!(!disk.matches(&json!(16)));
        assert!(!t("<16").matches(&json!("3")));
    }

    #[test]
    fn job_ids() {
        let j = t("JobId");
        assert!(j.matches(&json!(0)));
        assert!(j.matches(&json!("123")));
        assert!(
            j.matches(&json!("123\n")),
            "Python's $ matches before a final newline"
        );
        assert!(!j.matches(&json!("12a")));
        assert!(!j.matches(&json!("")));
        assert!(!j.matches(&json!(-1)));
        assert!(!j.matches(&json!(1.0)));
        let r = t("RelativeJobId");
        assert!(r.matches(&json!(-1)));
        assert!(!r.matches(&json!(0)));
        assert!(!r.matches(&json!("-1")));
    }

    #[test]
    fn addresses() {
        let a4 = t("str and (IPv4 address)");
        assert!(a4.matches(&json!("192.0.2.1")));
        assert!(!a4.matches(&json!("192.0.2.256")));
        assert!(!a4.matches(&json!("192.0.2")));
        assert!(!a4.matches(&json!(3232235521u32)));
        let n4 = t("str and (IPv4 network)");
        assert!(n4.matches(&json!("192.0.2.0/24")));
        assert!(n4.matches(&json!("192.0.2.7")));
        assert!(n4.matches(&json!("192.0.2.0/255.255.255.0")));
        assert!(!n4.matches(&json!("192.0.2.1/24")), "host bits set");
        assert!(!n4.matches(&json!("192.0.2.0/33")));
        let a6 = t("str and (IPv6 address)");
        assert!(a6.matches(&json!("2001:db8::1")));
        assert!(!a6.matches(&json!("2001:db8::g")));
        assert!(!a6.matches(&json!("192.0.2.1")));
        let n6 = t("str and (IPv6 network)");
        assert!(n6.matches(&json!("2001:db8::/64")));
        assert!(!n6.matches(&json!("2001:db8::1/64")));
        assert!(!n6.matches(&json!("2001:db8::/129")));
    }

    #[test]
    fn strict_dict() {
        let d = t("Dictionary containing none but the required keys \"jobs\" (value list of ((Length 2) and (Item 0 is (bool), item 1 is (str or JobId)))), \"failed\" (value list of nonempty-str)");
        assert!(d.matches(&json!({"jobs": [[true, 12]], "failed": []})));
        assert!(d.matches(&json!({"jobs": [[false, "error text"]], "failed": ["x"]})));
        assert!(!d.matches(&json!({"jobs": []})), "missing key");
        assert!(
            !d.matches(&json!({"jobs": [], "failed": [], "extra": 1})),
            "extra key"
        );
        assert!(!d.matches(&json!({"jobs": [[true]], "failed": []})));
        assert!(!d.matches(&json!([])));
    }

    #[test]
    fn private_checks_inner_type() {
        let p = t("null or (dict of any to (private any))");
        assert!(p.matches(&json!({"a": "b"})));
        assert!(p.matches(&json!(null)));
        assert!(!p.matches(&json!(["a"])));
        let ps = t("private nonempty-str");
        assert!(!ps.matches(&json!("")));
    }
}
