//! Picks runnable jobs (queued, dependencies met, allowed by the job
//! filter rules) by priority and starts workers, never more than the
//! cluster's `max_running_jobs`. Jobs a REJECT rule applies to are
//! canceled first (see `filtering`).

use std::sync::Arc;
use std::time::Duration;

use ganeti_types::job::now_ts;
use ganeti_types::{GanetiError, Job, OpStatus};
use serde_json::Value;

use super::filtering::{self, Gate};
use super::{worker, JobCtl};
use crate::state::Command;
use crate::Master;

/// The scheduler loop; runs for the daemon's lifetime.
pub async fn run_scheduler(master: Arc<Master>) {
    loop {
        // the store's blocking proposals must not run on an async worker
        tokio::task::block_in_place(|| schedule_once(&master));
        tokio::select! {
            _ = master.wake_scheduler.notified() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

enum DepState {
    Ready,
    Wait,
    Failed(String),
}

fn dependency_state(job: &Job, lookup: &dyn Fn(u64) -> Option<OpStatus>) -> DepState {
    for op in job.ops.iter().filter(|o| !o.status.is_final()) {
        let Some(deps) = op.input.get("depends").and_then(Value::as_array) else {
            continue;
        };
        for dep in deps {
            let Some(pair) = dep.as_array() else { continue };
            let Some(dep_id) = pair.first().and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            }) else {
                continue;
            };
            let allowed: Vec<&str> = pair
                .get(1)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match lookup(dep_id) {
                None => {
                    return DepState::Failed(format!("Dependency job {dep_id} not found"));
                }
                Some(st) if !st.is_final() => return DepState::Wait,
                Some(st) => {
                    if !allowed.is_empty() && !allowed.contains(&st.as_str()) {
                        return DepState::Failed(format!(
                            "Dependency job {dep_id} finished with status '{}', not one of '{}'",
                            st.as_str(),
                            allowed.join(", ")
                        ));
                    }
                }
            }
        }
    }
    DepState::Ready
}

pub(super) fn schedule_once(m: &Arc<Master>) {
    let max_running = m
        .with_config(|c| c.cluster.max_running_jobs as usize)
        .unwrap_or(20)
        .max(1);
    // (priority, id, job) of jobs that are not finished and not in a worker
    let mut candidates: Vec<Job> = m.store.read(|s| {
        s.jobs
            .values()
            .filter(|j| {
                let st = j.status();
                st == OpStatus::Queued || st == OpStatus::Waiting
            })
            .cloned()
            .collect()
    });
    candidates.sort_by_key(|j| (j.priority(), j.id));
    let mut active = m.active.lock();
    let rules = m.filter_rules();
    let mut gate = if rules.is_empty() {
        Gate::default()
    } else {
        let running: Vec<Job> = m.store.read(|s| {
            active
                .keys()
                .filter_map(|id| s.jobs.get(id).cloned())
                .collect()
        });
        Gate::new(rules, running.iter())
    };
    candidates.retain(|job| {
        if active.contains_key(&job.id) {
            return true;
        }
        match gate.rejecting_rule(job) {
            Some(rule) => {
                filtering::cancel_rejected(m, job.clone(), rule);
                false
            }
            None => true,
        }
    });
    for job in candidates {
        if active.len() >= max_running {
            break;
        }
        if active.contains_key(&job.id) {
            continue;
        }
        let lookup = |id: u64| {
            m.store.read(|s| {
                s.jobs
                    .get(&id)
                    .or_else(|| s.archived.get(&id))
                    .map(Job::status)
            })
        };
        let deps = dependency_state(&job, &lookup);
        if let DepState::Wait = deps {
            mark_waiting(m, job);
            continue;
        }
        // a paused or rate-limited job stays queued, whatever its dependencies
        if !gate.may_start(&job) {
            continue;
        }
        if let DepState::Failed(msg) = deps {
            fail_job(m, job, &msg);
            continue;
        }
        gate.started(&job);
        let ctl = Arc::new(JobCtl::default());
        active.insert(job.id, ctl.clone());
        let m2 = m.clone();
        let id = job.id;
        tokio::task::spawn_blocking(move || worker::run(m2, id, ctl));
    }
}

fn mark_waiting(m: &Master, mut job: Job) {
    let Some(op) = job.ops.iter_mut().find(|o| !o.status.is_final()) else {
        return;
    };
    if op.status == OpStatus::Waiting {
        return;
    }
    op.status = OpStatus::Waiting;
    op.start_timestamp = Some(now_ts());
    if let Err(e) = m.store.propose_blocking(Command::PutJob(Box::new(job))) {
        tracing::error!("cannot persist job state: {e}");
    }
}

fn fail_job(m: &Master, mut job: Job, msg: &str) {
    super::finalize_remaining(
        &mut job,
        0,
        OpStatus::Error,
        &GanetiError::OpExec(msg.to_string()),
    );
    if let Err(e) = m.store.propose_blocking(Command::PutJob(Box::new(job))) {
        tracing::error!("cannot persist job state: {e}");
    }
}
