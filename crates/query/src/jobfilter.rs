//! Job filter rules (Ganeti's "ad-hoc job filtering", `design-optables`):
//! their wire form, their validation, and whether a rule matches a job.
//!
//! Why here: a rule's predicates are expressions in Ganeti's query
//! language, so parsing them, writing them back in Ganeti's canonical form
//! (`=` becomes `==`, `!=` a negated `==`) and evaluating them belongs
//! next to the qlang parser. What the scheduler *does* with a matching
//! rule (run, hold, cancel, rate-limit) is the master's business.
//!
//! Evaluation follows Ganeti's job scheduler, which differs from query
//! filtering:
//! - `jobid` predicates know one field, `id`; the value `"watermark"`
//!   stands for the rule's watermark. Only comparisons are allowed;
//!   anything else (a regex, `?`, an unknown field) makes the predicate
//!   false.
//! - `reason` predicates compare the `source`, `reason` and `timestamp` of
//!   any reason-trail entry of any opcode of the job, with the same
//!   comparison-only rule.
//! - `opcode` predicates look fields up in each opcode (dotted paths reach
//!   into nested dicts) and compare JSON values by Haskell's ordering of
//!   JSON values (null < bool < number < string < list < dict; an integer
//!   never equals a float). A field the opcode lacks makes the predicate
//!   false for that opcode.

use std::cmp::Ordering;

use ganeti_types::Job;
use regex::Regex;
use serde_json::{json, Map, Value};

use crate::filter::{self, Cmp, Filter, FilterValue};

/// What a rule does to the jobs it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAction {
    /// Run the job; no later rule is looked at.
    Accept,
    /// Keep the job queued.
    Pause,
    /// Cancel the job.
    Reject,
    /// Look at the next rule (a disabled rule, kept as documentation).
    Continue,
    /// Hold the job while this many jobs the rule applies to are running.
    RateLimit(u64),
}

impl FilterAction {
    /// Read an action: `"ACCEPT"`, `"PAUSE"`, `"REJECT"`, `"CONTINUE"`
    /// (case-sensitive) or `["RATE_LIMIT", n]` with a positive integer `n`.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        match v {
            Value::String(s) => match s.as_str() {
                "ACCEPT" => return Ok(FilterAction::Accept),
                "PAUSE" => return Ok(FilterAction::Pause),
                "REJECT" => return Ok(FilterAction::Reject),
                "CONTINUE" => return Ok(FilterAction::Continue),
                _ => {}
            },
            Value::Array(items) if items.first().and_then(Value::as_str) == Some("RATE_LIMIT") => {
                return match &items[1..] {
                    [Value::Number(n)] if !n.is_f64() => match n.as_u64() {
                        Some(n) if n > 0 => Ok(FilterAction::RateLimit(n)),
                        _ => Err(RATE_LIMIT_ERROR.into()),
                    },
                    _ => Err(RATE_LIMIT_ERROR.into()),
                };
            }
            _ => {}
        }
        Err(format!("malformed FilterAction JSON: {v}"))
    }

    /// The wire form.
    pub fn to_json(self) -> Value {
        match self {
            FilterAction::Accept => json!("ACCEPT"),
            FilterAction::Pause => json!("PAUSE"),
            FilterAction::Reject => json!("REJECT"),
            FilterAction::Continue => json!("CONTINUE"),
            FilterAction::RateLimit(n) => json!(["RATE_LIMIT", n]),
        }
    }
}

const RATE_LIMIT_ERROR: &str = "RATE_LIMIT argument must be a positive integer";

/// What a predicate looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PredicateKind {
    /// The job id.
    JobId,
    /// The fields of the job's opcodes.
    OpCode,
    /// The reason trails of the job's opcodes.
    Reason,
}

impl PredicateKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PredicateKind::JobId => "jobid",
            PredicateKind::OpCode => "opcode",
            PredicateKind::Reason => "reason",
        }
    }
}

/// One predicate: a kind and a qlang expression (`None` is Ganeti's empty
/// filter, written `null`, which is always true).
#[derive(Debug, Clone)]
pub struct Predicate {
    kind: PredicateKind,
    expr: Option<Filter>,
}

impl Predicate {
    /// Read `[kind, expression]`; messages as Ganeti's.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let Some((Value::String(name), params)) = v.as_array().and_then(|a| a.split_first()) else {
            return Err("malformed FilterPredicate: must be a list with the first entry being a string describing the predicate type".into());
        };
        let kind = match name.as_str() {
            "jobid" => Some(PredicateKind::JobId),
            "opcode" => Some(PredicateKind::OpCode),
            "reason" => Some(PredicateKind::Reason),
            _ => None,
        };
        match (kind, params) {
            (Some(kind), [expr]) => {
                let expr = filter::parse(expr).map_err(|e| e.to_string())?;
                Ok(Predicate { kind, expr })
            }
            _ => Err(format!(
                "malformed FilterPredicate: bad parameter list for '{name}' predicate: {}",
                Value::Array(params.to_vec())
            )),
        }
    }

    /// The kind.
    pub fn kind(&self) -> PredicateKind {
        self.kind
    }

    /// Canonical wire form (`["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]`).
    pub fn to_json(&self) -> Value {
        json!([
            self.kind.as_str(),
            self.expr
                .as_ref()
                .map(Filter::to_json)
                .unwrap_or(Value::Null)
        ])
    }

    /// Whether the predicate holds for `job`, given the rule's watermark.
    pub fn matches(&self, job: &Job, watermark: u64) -> bool {
        let Some(expr) = &self.expr else {
            // the empty filter is true for every item there is
            return match self.kind {
                PredicateKind::JobId => true,
                PredicateKind::OpCode => !job.ops.is_empty(),
                PredicateKind::Reason => job_reasons(job).next().is_some(),
            };
        };
        match self.kind {
            PredicateKind::JobId => comparisons_only(expr, &|cmp, field, val| match (field, val) {
                ("id", FilterValue::Num(n)) => Some(filter::apply(cmp, i128::from(job.id).cmp(n))),
                ("id", FilterValue::Str(s)) if s == "watermark" => {
                    Some(filter::apply(cmp, job.id.cmp(&watermark)))
                }
                _ => None,
            }),
            PredicateKind::Reason => job_reasons(job).any(|(source, reason, ts)| {
                comparisons_only(expr, &|cmp, field, val| {
                    let actual = match field {
                        "source" => FilterValue::Str(source.to_string()),
                        "reason" => FilterValue::Str(reason.to_string()),
                        "timestamp" => FilterValue::Num(ts),
                        _ => return None,
                    };
                    Some(filter::apply(cmp, filter_value_cmp(&actual, val)))
                })
            }),
            PredicateKind::OpCode => job.ops.iter().any(|op| {
                let opcode = opcode_json(&op.input);
                eval_on_json(expr, &opcode)
            }),
        }
    }
}

/// Read a list of predicates.
pub fn parse_predicates(v: &Value) -> Result<Vec<Predicate>, String> {
    v.as_array()
        .ok_or_else(|| "Unable to read list".to_string())?
        .iter()
        .map(Predicate::from_json)
        .collect()
}

/// Read a reason trail: a list of `[source, reason, timestamp]` triples.
pub fn parse_reason_trail(v: &Value) -> Result<Vec<Value>, String> {
    let items = v.as_array().ok_or("Unable to read list")?;
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([source, reason, ts]) => {
                if !source.is_string() || !reason.is_string() {
                    return Err("Unable to read String".to_string());
                }
                if !ts.is_number() {
                    return Err("Unable to read Integer".to_string());
                }
                Ok(item.clone())
            }
            _ => Err("Unable to read Triple".to_string()),
        })
        .collect()
}

/// A filter rule as stored in the configuration's `filters`.
#[derive(Debug, Clone)]
pub struct FilterRule {
    /// Highest job id when the rule was set.
    pub watermark: u64,
    /// Lower runs first.
    pub priority: u64,
    /// All must hold for the rule to match.
    pub predicates: Vec<Predicate>,
    /// What happens to matching jobs.
    pub action: FilterAction,
    /// Why the rule was set.
    pub reason_trail: Vec<Value>,
    /// The rule's id.
    pub uuid: String,
}

impl FilterRule {
    /// Read a stored rule.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let obj = v.as_object().ok_or("a filter rule must be a dict")?;
        let field = |name: &str| {
            obj.get(name)
                .ok_or_else(|| format!("filter rule lacks '{name}'"))
        };
        let number = |name: &str| {
            field(name)?
                .as_u64()
                .ok_or_else(|| format!("filter rule '{name}' is not a non-negative integer"))
        };
        Ok(FilterRule {
            watermark: number("watermark")?,
            priority: number("priority")?,
            predicates: parse_predicates(field("predicates")?)?,
            action: FilterAction::from_json(field("action")?)?,
            reason_trail: parse_reason_trail(field("reason_trail")?)?,
            uuid: field("uuid")?
                .as_str()
                .ok_or("filter rule 'uuid' is not a string")?
                .to_string(),
        })
    }

    /// The stored form, keys in Ganeti's order.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("watermark".into(), json!(self.watermark));
        m.insert("priority".into(), json!(self.priority));
        m.insert(
            "predicates".into(),
            Value::Array(self.predicates.iter().map(Predicate::to_json).collect()),
        );
        m.insert("action".into(), self.action.to_json());
        m.insert(
            "reason_trail".into(),
            Value::Array(self.reason_trail.clone()),
        );
        m.insert("uuid".into(), json!(self.uuid));
        Value::Object(m)
    }

    /// Whether every predicate holds for `job`.
    pub fn matches(&self, job: &Job) -> bool {
        self.predicates
            .iter()
            .all(|p| p.matches(job, self.watermark))
    }

    /// The order in which rules are processed: priority, then watermark,
    /// then uuid.
    pub fn order(&self, other: &FilterRule) -> Ordering {
        (self.priority, self.watermark, &self.uuid).cmp(&(
            other.priority,
            other.watermark,
            &other.uuid,
        ))
    }
}

/// Sort rules into processing order.
pub fn sort_rules(rules: &mut [FilterRule]) {
    rules.sort_by(FilterRule::order);
}

/// The rule that *applies* to `job`: the first (in processing order) whose
/// predicates all match and whose action is not `CONTINUE`. `rules` must
/// be sorted ([`sort_rules`]).
pub fn applying_rule<'a>(rules: &'a [FilterRule], job: &Job) -> Option<&'a FilterRule> {
    rules
        .iter()
        .filter(|r| r.action != FilterAction::Continue)
        .find(|r| r.matches(job))
}

/// Parameters every opcode has; they are not fields of the opcode itself
/// and opcode predicates cannot see them (as in Ganeti).
const COMMON_PARAMS: &[&str] = &[
    "dry_run",
    "debug_level",
    "priority",
    "depends",
    "comment",
    "reason",
];

fn opcode_json(input: &Map<String, Value>) -> Value {
    Value::Object(
        input
            .iter()
            .filter(|(k, _)| !COMMON_PARAMS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// Every reason-trail entry of every opcode, as (source, reason, timestamp).
fn job_reasons(job: &Job) -> impl Iterator<Item = (&str, &str, i128)> {
    job.ops
        .iter()
        .filter_map(|op| op.input.get("reason").and_then(Value::as_array))
        .flatten()
        .filter_map(|entry| match entry.as_array().map(Vec::as_slice) {
            Some([Value::String(s), Value::String(r), Value::Number(t)]) => {
                let ts = t
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| t.as_u64().map(i128::from))
                    .or_else(|| t.as_f64().map(|f| f.round_ties_even() as i128))?;
                Some((s.as_str(), r.as_str(), ts))
            }
            _ => None,
        })
}

/// Haskell's derived order of qlang values: strings before numbers.
fn filter_value_cmp(a: &FilterValue, b: &FilterValue) -> Ordering {
    match (a, b) {
        (FilterValue::Str(x), FilterValue::Str(y)) => x.cmp(y),
        (FilterValue::Num(x), FilterValue::Num(y)) => x.cmp(y),
        (FilterValue::Str(_), FilterValue::Num(_)) => Ordering::Less,
        (FilterValue::Num(_), FilterValue::Str(_)) => Ordering::Greater,
    }
}

/// One leaf of a filter, as the generic evaluator hands it out.
enum Leaf<'a> {
    Truth(&'a str),
    Cmp(Cmp, &'a str, &'a FilterValue),
    Regex(&'a str, &'a Regex),
    Contains(&'a str, &'a FilterValue),
}

/// Evaluate with short-circuiting `&`/`|`; a leaf failing (`Err`) fails
/// the whole expression, unless an earlier operand already decided it.
fn eval<E>(f: &Filter, leaf: &dyn Fn(Leaf<'_>) -> Result<bool, E>) -> Result<bool, E> {
    match f {
        Filter::And(fs) => {
            for f in fs {
                if !eval(f, leaf)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Filter::Or(fs) => {
            for f in fs {
                if eval(f, leaf)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Filter::Not(f) => Ok(!eval(f, leaf)?),
        Filter::True(field) => leaf(Leaf::Truth(field)),
        Filter::Cmp(c, field, v) => leaf(Leaf::Cmp(*c, field, v)),
        Filter::Regex(field, re) => leaf(Leaf::Regex(field, re)),
        Filter::Contains(field, v) => leaf(Leaf::Contains(field, v)),
    }
}

/// `jobid` and `reason` predicates: only comparisons; any other leaf, or a
/// comparison the callback cannot make (`None`), makes the predicate false.
fn comparisons_only(f: &Filter, cmp: &dyn Fn(Cmp, &str, &FilterValue) -> Option<bool>) -> bool {
    eval(f, &|leaf| match leaf {
        Leaf::Cmp(c, field, v) => cmp(c, field, v).ok_or(()),
        _ => Err(()),
    })
    .unwrap_or(false)
}

/// `a.b.c` into nested dicts.
fn dotted<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(v, |cur, key| cur.as_object()?.get(key))
}

/// `opcode` predicates: every field must exist in the opcode; values are
/// compared as JSON values; type errors make the predicate false.
fn eval_on_json(f: &Filter, opcode: &Value) -> bool {
    if f.fields().iter().any(|name| dotted(opcode, name).is_none()) {
        return false;
    }
    let get = |name: &str| dotted(opcode, name).ok_or(());
    eval(f, &|leaf| match leaf {
        Leaf::Cmp(c, field, want) => Ok(filter::apply(c, json_cmp(get(field)?, &want.to_json()))),
        Leaf::Truth(field) => get(field)?.as_bool().ok_or(()),
        Leaf::Regex(field, re) => Ok(re.is_match(get(field)?.as_str().ok_or(())?)),
        Leaf::Contains(field, want) => {
            let list = get(field)?.as_array().ok_or(())?;
            match want {
                FilterValue::Str(w) => {
                    let strs: Option<Vec<&str>> = list.iter().map(Value::as_str).collect();
                    Ok(strs.ok_or(())?.contains(&w.as_str()))
                }
                FilterValue::Num(w) => {
                    let nums: Option<Vec<i128>> = list.iter().map(json_integer).collect();
                    Ok(nums.ok_or(())?.contains(w))
                }
            }
        }
    })
    .unwrap_or(false)
}

/// A JSON number read as Haskell's `Integer` (fractions rounded).
fn json_integer(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
        .or_else(|| n.as_f64().map(|f| f.round_ties_even() as i128))
}

fn json_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// Haskell's derived `Ord` of `JSValue`: by constructor first; numbers
/// by their "is a float" flag, then value; lists and dicts (as key/value
/// lists in order) lexicographically.
fn json_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            x.is_f64()
                .cmp(&y.is_f64())
                .then_with(|| match (json_integer(a), json_integer(b)) {
                    (Some(i), Some(j)) if !x.is_f64() => i.cmp(&j),
                    _ => x
                        .as_f64()
                        .partial_cmp(&y.as_f64())
                        .unwrap_or(Ordering::Equal),
                })
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = json_cmp(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((kp, vp), (kq, vq)) in x.iter().zip(y) {
                let o = kp.cmp(kq).then_with(|| json_cmp(vp, vq));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => json_rank(a).cmp(&json_rank(b)),
    }
}

#[cfg(test)]
#[path = "jobfilter_tests.rs"]
mod tests;
