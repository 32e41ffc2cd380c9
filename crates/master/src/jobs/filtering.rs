//! What job filter rules do to queued jobs, as Ganeti's scheduler does it.
//!
//! For every queued job the *applying* rule is the first, in processing
//! order, whose predicates all match and whose action is not CONTINUE
//! (`ganeti_query::jobfilter::applying_rule`). Then:
//! - no rule, ACCEPT: the job may start;
//! - PAUSE: it stays queued;
//! - REJECT: it is canceled (whether it was queued before or after the
//!   rule was added);
//! - RATE_LIMIT n: it starts only while fewer than n running jobs have
//!   this rule applying; jobs running when the rule was added count but
//!   are not touched.
//!
//! Rules apply only to jobs that have not started: a running job is never
//! stopped by a rule.

use std::collections::HashMap;

use ganeti_query::jobfilter::{applying_rule, FilterAction, FilterRule};
use ganeti_types::job::now_ts;
use ganeti_types::{Job, OpStatus};

use crate::state::Command;
use crate::Master;

/// The rules of one scheduling pass and the rate-limit slots in use.
#[derive(Debug, Default)]
pub(super) struct Gate {
    rules: Vec<FilterRule>,
    /// Running jobs per RATE_LIMIT rule (by uuid).
    running: HashMap<String, u64>,
}

impl Gate {
    /// The gate for `rules` (sorted) with `running` jobs taking their slots.
    pub(super) fn new<'a>(rules: Vec<FilterRule>, running: impl Iterator<Item = &'a Job>) -> Self {
        let mut gate = Gate {
            rules,
            running: HashMap::new(),
        };
        if gate.rules.is_empty() {
            return gate;
        }
        for job in running {
            gate.started(job);
        }
        gate
    }

    /// The uuid of the REJECT rule applying to `job`, if any.
    pub(super) fn rejecting_rule(&self, job: &Job) -> Option<&str> {
        applying_rule(&self.rules, job)
            .filter(|r| r.action == FilterAction::Reject)
            .map(|r| r.uuid.as_str())
    }

    /// Whether `job` may start now (without taking a slot).
    pub(super) fn may_start(&self, job: &Job) -> bool {
        match applying_rule(&self.rules, job) {
            None => true,
            Some(rule) => match rule.action {
                FilterAction::Accept | FilterAction::Continue => true,
                FilterAction::Pause | FilterAction::Reject => false,
                FilterAction::RateLimit(n) => {
                    self.running.get(&rule.uuid).copied().unwrap_or(0) < n
                }
            },
        }
    }

    /// Record that `job` started (it takes a slot of its RATE_LIMIT rule).
    pub(super) fn started(&mut self, job: &Job) {
        if let Some(rule) = applying_rule(&self.rules, job) {
            if let FilterAction::RateLimit(_) = rule.action {
                *self.running.entry(rule.uuid.clone()).or_insert(0) += 1;
            }
        }
    }
}

/// Cancel a queued job a REJECT rule applies to: every unfinished opcode
/// becomes `canceled` (its result left empty, as Ganeti leaves it).
pub(super) fn cancel_rejected(m: &Master, mut job: Job, rule: &str) {
    tracing::info!(
        "cancelling job {} because it was REJECTed by filter rule {rule}",
        job.id
    );
    let now = now_ts();
    for op in job.ops.iter_mut().filter(|o| !o.status.is_final()) {
        op.status = OpStatus::Canceled;
        op.end_timestamp = Some(now);
    }
    job.end_timestamp = Some(now);
    if let Err(e) = m.store.propose_blocking(Command::PutJob(Box::new(job))) {
        tracing::error!("cannot persist job state: {e}");
    }
}
