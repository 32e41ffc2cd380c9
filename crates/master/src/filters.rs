//! Job filter rules ("ad-hoc job filtering"): reading, replacing and
//! deleting them, and decoding the LUXI calls that do so.
//!
//! Why they live in the configuration: Ganeti keeps filter rules in
//! `config.data` (`filters`, by uuid), so they are replicated and exported
//! with it and queried like any other object (`Query("filter", ...)`).
//! Changes go through the store as their own commands
//! ([`crate::state::Command::ReplaceFilter`]) because, unlike opcodes, they
//! never go through the job queue: a queue blocked by a rule must still
//! accept the change that lifts the rule. The watermark is set when the
//! command is applied, so it is exactly the highest job id at that moment.
//! What the rules do to jobs is in `jobs::filtering`.

use ganeti_luxi::request_parse_error;
use ganeti_query::jobfilter::{self, FilterAction, FilterRule, Predicate};
use ganeti_query::{pp_value, LiveData, QueryContext, Resource};
use ganeti_types::{new_uuid, GanetiError};
use serde_json::{json, Value};

use crate::state::{Applied, Command, FilterRuleChange};
use crate::Master;

/// A validated `ReplaceFilter` request.
#[derive(Debug, Clone)]
pub struct FilterRequest {
    /// The rule to replace (or create under this uuid); `None`: a new rule.
    pub uuid: Option<String>,
    /// Lower runs first.
    pub priority: u64,
    /// All must match.
    pub predicates: Vec<Predicate>,
    /// What happens to the jobs the rule applies to.
    pub action: FilterAction,
    /// The caller's reason trail.
    pub reason: Vec<Value>,
}

/// Ganeti's wording for arguments that cannot be decoded.
fn cannot_convert(args: &Value, why: impl std::fmt::Display) -> GanetiError {
    request_parse_error(format!(
        "Cannot convert value '{}', error: {why}",
        pp_value(args)
    ))
}

/// Haskell's `Int` from JSON: any number, fractions rounded half to even.
fn json_int(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.is_finite() && f.abs() < 9.0e18)
            .map(|f| f.round_ties_even() as i64)
    })
}

impl FilterRequest {
    /// Decode `[uuid or null, priority, predicates, action, reason]`,
    /// checking each argument in order as Ganeti does.
    pub fn from_luxi_args(args: &Value) -> Result<Self, GanetiError> {
        let err = |why: &str| cannot_convert(args, why);
        let Some([uuid, priority, predicates, action, reason]) = args.as_array().map(Vec::as_slice)
        else {
            return Err(err("Unable to read Tuple5"));
        };
        let uuid = match uuid {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => return Err(err("Unable to read String")),
        };
        let priority = json_int(priority).ok_or_else(|| err("Unable to read Int"))?;
        let priority = u64::try_from(priority)
            .map_err(|_| err(&format!("Invalid value for non-negative type '{priority}'")))?;
        let predicates = jobfilter::parse_predicates(predicates).map_err(|e| err(&e))?;
        let action = FilterAction::from_json(action).map_err(|e| err(&e))?;
        let reason = jobfilter::parse_reason_trail(reason).map_err(|e| err(&e))?;
        Ok(FilterRequest {
            uuid,
            priority,
            predicates,
            action,
            reason,
        })
    }
}

/// Ganeti's `isUUID`: lower-case hex digits in groups of 8-4-4-4-12.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn store_error(e: ganeti_store::StoreError) -> GanetiError {
    GanetiError::OpExec(format!("Cannot write the configuration: {e}"))
}

impl Master {
    /// Add or replace a filter rule; returns its uuid. The scheduler is
    /// woken so that the rule takes effect at once.
    pub fn replace_filter(&self, req: FilterRequest) -> Result<String, GanetiError> {
        let uuid = match req.uuid {
            None => new_uuid(),
            Some(u) if is_uuid(&u) => u,
            Some(_) => return Err(GanetiError::Generic("Unable to parse UUID".into())),
        };
        let mut reason_trail = req.reason;
        reason_trail.push(json!(["luxid", "", now_ns()]));
        let change = FilterRuleChange {
            uuid: uuid.clone(),
            priority: req.priority,
            predicates: Value::Array(req.predicates.iter().map(Predicate::to_json).collect()),
            action: req.action.to_json(),
            reason_trail: Value::Array(reason_trail),
        };
        self.apply_filter_command(Command::ReplaceFilter(Box::new(change)))?;
        Ok(uuid)
    }

    /// Remove a filter rule.
    pub fn delete_filter(&self, uuid: &str) -> Result<(), GanetiError> {
        self.apply_filter_command(Command::DeleteFilter(uuid.to_string()))
    }

    fn apply_filter_command(&self, cmd: Command) -> Result<(), GanetiError> {
        match self.store.propose_blocking(cmd).map_err(store_error)? {
            Applied::Ok => {}
            Applied::Refused(m) => return Err(GanetiError::Generic(m)),
            other => {
                return Err(GanetiError::Generic(format!(
                    "unexpected store answer {other:?}"
                )))
            }
        }
        self.export_now();
        self.wake_scheduler.notify_one();
        Ok(())
    }

    /// The rules in processing order. A stored rule that cannot be read
    /// (a hand-edited configuration) is skipped with a warning rather than
    /// stopping the queue.
    pub fn filter_rules(&self) -> Vec<FilterRule> {
        let mut rules: Vec<FilterRule> = self
            .with_config(|c| {
                c.filters
                    .iter()
                    .filter_map(|(uuid, v)| match FilterRule::from_json(v) {
                        Ok(r) => Some(r),
                        Err(e) => {
                            tracing::warn!("ignoring unreadable job filter rule {uuid}: {e}");
                            None
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        jobfilter::sort_rules(&mut rules);
        rules
    }

    /// LUXI `QueryFilters`: field values of the rules named in `uuids`
    /// (all when empty), in natural uuid order; unknown uuids are skipped.
    pub fn query_filters(&self, uuids: &[String], fields: &[String]) -> Result<Value, GanetiError> {
        let filter = (!uuids.is_empty()).then(|| {
            let mut f = vec![json!("|")];
            f.extend(uuids.iter().map(|u| json!(["=", "uuid", u])));
            Value::Array(f)
        });
        let rows = self.with_config(|cfg| {
            let live = LiveData::default();
            let ctx = QueryContext::new(cfg, &live);
            ganeti_query::query(Resource::Filter, &ctx, fields, filter.as_ref())
                .and_then(|r| r.to_compat())
        })?;
        let rows = rows.map_err(|e| e.to_ganeti())?;
        Ok(Value::Array(rows.into_iter().map(Value::Array).collect()))
    }
}

/// LUXI `QueryFilters` arguments: `[uuids or null, fields]`.
pub fn decode_query_args(args: &Value) -> Result<(Vec<String>, Vec<String>), GanetiError> {
    let err = |why: &str| cannot_convert(args, why);
    let Some([uuids, fields]) = args.as_array().map(Vec::as_slice) else {
        return Err(err("Unable to read Pair"));
    };
    let strings = |v: &Value| -> Result<Vec<String>, GanetiError> {
        v.as_array()
            .ok_or_else(|| err("Unable to read list"))?
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| err("Unable to read String"))
            })
            .collect()
    };
    let uuids = if uuids.is_null() {
        Vec::new()
    } else {
        strings(uuids)?
    };
    Ok((uuids, strings(fields)?))
}

/// LUXI `DeleteFilter` arguments: `[uuid]`.
pub fn decode_delete_args(args: &Value) -> Result<String, GanetiError> {
    match args.as_array().map(Vec::as_slice) {
        Some([Value::String(uuid)]) => Ok(uuid.clone()),
        _ => Err(cannot_convert(args, "Unable to read [String]")),
    }
}

#[cfg(test)]
#[path = "filters_tests.rs"]
pub(crate) mod tests;
