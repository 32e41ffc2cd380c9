//! The job queue: submission, cancel, archive, change notification, and
//! the scheduler that runs jobs on worker threads.
//!
//! A job is durable (in the store) before its id is returned. Every status
//! change that matters after a crash (running, finished) is durable before
//! the next step, so a restart can tell what happened: a job found
//! `running` or `waiting` was interrupted and is finalised as an error
//! saying so; `queued` jobs simply run.

mod filtering;
pub mod locks;
mod scheduler;
pub(crate) mod secrets;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ganeti_types::job::now_ts;
use ganeti_types::{GanetiError, Job, OpStatus, QueuedOpCode};
use serde_json::{json, Value};

use crate::state::{Applied, Command};
use crate::Master;
pub(crate) use secrets::OpSecrets;

pub use scheduler::run_scheduler;

/// Control block of a job that a worker is handling.
#[derive(Debug, Default)]
pub struct JobCtl {
    pub(crate) cancel: AtomicBool,
    /// Set once the job's current opcode started executing.
    pub(crate) running: AtomicBool,
}

/// Largest number of unarchived jobs we accept (Ganeti's queue size limit).
pub const MAX_QUEUE_SIZE: usize = 10_000;

fn ganeti_store_err(e: ganeti_store::StoreError) -> GanetiError {
    GanetiError::OpExec(format!("Cannot write to the job queue: {e}"))
}

impl Master {
    /// Validate opcodes and build the queued job (id assigned on apply).
    /// Also returns each opcode's secret OS parameters, which the stored
    /// job only has redacted.
    fn build_job(&self, ops: &[Value]) -> Result<(Job, Vec<OpSecrets>), GanetiError> {
        if ops.is_empty() {
            return Err(GanetiError::wrong_input("Job has no opcodes"));
        }
        let mut queued = Vec::with_capacity(ops.len());
        let mut held = Vec::with_capacity(ops.len());
        for op in ops {
            let map = op
                .as_object()
                .ok_or_else(|| GanetiError::wrong_input("Opcode must be a dictionary"))?;
            let mut filled = ganeti_opschema::validate_and_fill(map).map_err(|e| {
                GanetiError::OpPrereq(e.to_string(), ganeti_types::ErrorClass::WrongInput)
            })?;
            // a value that is already redacted (a job made by another job
            // from its stored opcode) is no secret to check or pass on
            secrets::drop_markers(&mut filled);
            crate::cmdlib::check_at_submit(self, &filled)?;
            held.push(OpSecrets::of(&filled));
            let filled = secrets::redact(filled);
            queued.push(QueuedOpCode::queued(filled));
        }
        Ok((
            Job {
                id: 0,
                ops: queued,
                received_timestamp: now_ts(),
                start_timestamp: None,
                end_timestamp: None,
                archived: false,
            },
            held,
        ))
    }

    /// Submit one job; returns its id once it is durable.
    pub fn submit_job(&self, ops: &[Value], even_if_drained: bool) -> Result<u64, GanetiError> {
        let ids = self.submit_many(&[ops.to_vec()], even_if_drained)?;
        match ids.into_iter().next() {
            Some(Ok(id)) => Ok(id),
            Some(Err(e)) => Err(e),
            None => Err(GanetiError::Generic("no job submitted".into())),
        }
    }

    /// Submit several jobs at once (one durable write). Negative job ids in
    /// `depends` refer to earlier jobs of the same batch (-1 = previous).
    pub fn submit_many(
        &self,
        jobs: &[Vec<Value>],
        even_if_drained: bool,
    ) -> Result<Vec<Result<u64, GanetiError>>, GanetiError> {
        let (drained, queue_len, next_id) = self
            .store
            .read(|s| (s.drained, s.jobs.len(), s.next_job_id.max(1)));
        if drained && !even_if_drained {
            // Ganeti 3.x's master answers exactly this.
            return Err(GanetiError::Generic("Queue drained".into()));
        }
        if queue_len + jobs.len() > MAX_QUEUE_SIZE {
            return Err(GanetiError::JobQueueFull(format!(
                "Job queue is full ({queue_len} jobs); archive finished jobs first"
            )));
        }
        let mut results: Vec<Result<u64, GanetiError>> = Vec::with_capacity(jobs.len());
        let mut good: Vec<Job> = Vec::new();
        let mut good_secrets: Vec<Vec<OpSecrets>> = Vec::new();
        // Ids are assigned sequentially on apply; predict them to resolve
        // relative dependencies. The store applies our batch atomically.
        let mut predicted = next_id;
        let mut batch_ids: Vec<Option<u64>> = Vec::new();
        for ops in jobs {
            match self.build_job(ops) {
                Ok((mut job, secrets)) => {
                    let resolved = resolve_relative_deps(&mut job, &batch_ids);
                    match resolved {
                        Ok(()) => {
                            batch_ids.push(Some(predicted));
                            results.push(Ok(predicted));
                            predicted += 1;
                            good.push(job);
                            good_secrets.push(secrets);
                        }
                        Err(e) => {
                            batch_ids.push(None);
                            results.push(Err(e));
                        }
                    }
                }
                Err(e) => {
                    batch_ids.push(None);
                    results.push(Err(e));
                }
            }
        }
        if good.is_empty() {
            return Ok(results);
        }
        match self.store.propose_blocking(Command::SubmitJobs(good)) {
            Ok(Applied::JobIds(ids)) => {
                // the predicted ids must be the assigned ones (single writer)
                let mut it = ids.into_iter();
                for id in results.iter_mut().flatten() {
                    if let Some(real) = it.next() {
                        *id = real;
                    }
                }
                let mut held = self.secrets.lock();
                for (id, secrets) in results.iter().flatten().zip(good_secrets) {
                    for (idx, secret) in secrets.into_iter().enumerate() {
                        if !secret.is_empty() {
                            held.insert((*id, idx), secret);
                        }
                    }
                }
            }
            Ok(other) => {
                return Err(GanetiError::JobQueueFull(format!(
                    "job submission refused: {other:?}"
                )))
            }
            Err(e) => return Err(ganeti_store_err(e)),
        }
        self.wake_scheduler.notify_one();
        Ok(results)
    }

    /// A job by id (live queue first, then the archive).
    pub fn job(&self, id: u64) -> Option<Job> {
        self.store
            .read(|s| s.jobs.get(&id).or_else(|| s.archived.get(&id)).cloned())
    }

    /// Cancel a job: `(success, message)` as Ganeti's `CancelJob`.
    pub fn cancel_job(&self, id: u64) -> Result<(bool, String), GanetiError> {
        let active = self.active.lock();
        if let Some(ctl) = active.get(&id) {
            if ctl.running.load(Ordering::SeqCst) {
                ctl.cancel.store(true, Ordering::SeqCst);
                return Ok((
                    false,
                    "Job no longer waiting, can't cancel (informed it anyway)".into(),
                ));
            }
            ctl.cancel.store(true, Ordering::SeqCst);
            drop(active);
            self.locks.poke();
            return Ok((true, "Job successfully cancelled".into()));
        }
        let Some(mut job) = self.store.read(|s| s.jobs.get(&id).cloned()) else {
            return Ok((false, format!("Job {id} not found in queue")));
        };
        match job.status() {
            OpStatus::Queued | OpStatus::Waiting => {
                finalize_remaining(
                    &mut job,
                    0,
                    OpStatus::Canceled,
                    &GanetiError::Canceled("Job canceled by request".into()),
                );
                self.store
                    .propose_blocking(Command::PutJob(Box::new(job)))
                    .map_err(ganeti_store_err)?;
                // it never runs: its secrets go now
                self.secrets.lock().retain(|(job, _), _| *job != id);
                Ok((true, "Job successfully cancelled".into()))
            }
            OpStatus::Canceling => Ok((true, "Job successfully cancelled".into())),
            OpStatus::Running => Ok((
                false,
                "Job no longer waiting, can't cancel (informed it anyway)".into(),
            )),
            _ => Ok((false, format!("Job {id} finished, can't cancel"))),
        }
    }

    /// Archive a finished job.
    pub fn archive_job(&self, id: u64) -> Result<bool, GanetiError> {
        let finished = self.store.read(|s| s.jobs.get(&id).map(Job::is_finalized));
        match finished {
            Some(true) => {
                self.store
                    .propose_blocking(Command::ArchiveJobs(vec![id]))
                    .map_err(ganeti_store_err)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Archive finished jobs older than `age` seconds (negative age: all).
    pub fn auto_archive(&self, age: i64) -> Result<(usize, usize), GanetiError> {
        let now = now_ts().0;
        let (ids, remaining) = self.store.read(|s| {
            let ids: Vec<u64> = s
                .jobs
                .values()
                .filter(|j| j.is_finalized())
                .filter(|j| {
                    let end = j.end_timestamp.unwrap_or(j.received_timestamp).0;
                    age < 0 || now - end >= age
                })
                .map(|j| j.id)
                .collect();
            let remaining = s.jobs.len() - ids.len();
            (ids, remaining)
        });
        let n = ids.len();
        if n > 0 {
            self.store
                .propose_blocking(Command::ArchiveJobs(ids))
                .map_err(ganeti_store_err)?;
        }
        Ok((n, remaining))
    }

    /// Set the queue drain flag (also mirrored to Ganeti's `queue/drain` file).
    pub fn set_drain(&self, drained: bool) -> Result<(), GanetiError> {
        self.store
            .propose_blocking(Command::SetDrain(drained))
            .map_err(ganeti_store_err)?;
        crate::export::write_drain_file(&self.paths, drained);
        Ok(())
    }

    /// Ganeti's `WaitForJobChange`: returns `None` on timeout, or the
    /// requested job fields and the log entries newer than `prev_serial`.
    pub async fn wait_for_job_change(
        &self,
        id: u64,
        fields: &[String],
        prev_info: &Value,
        prev_serial: u64,
        timeout: Duration,
    ) -> Result<Option<(Value, Vec<Value>)>, GanetiError> {
        let mut rx = self.store.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let Some(job) = self.job(id) else {
                return Err(GanetiError::noent(format!("Job {id} not found")));
            };
            let info = self.with_config(|cfg| crate::querying::job_fields(cfg, &job, fields))?;
            let logs: Vec<Value> = job
                .ops
                .iter()
                .flat_map(|o| o.log.iter())
                .filter(|l| l.0 > prev_serial)
                .map(|l| json!([l.0, [l.1 .0, l.1 .1], l.2, l.3]))
                .collect();
            if &info != prev_info || !logs.is_empty() || job.is_finalized() {
                return Ok(Some((info, logs)));
            }
            tokio::select! {
                r = rx.changed() => { if r.is_err() { return Ok(None); } }
                _ = tokio::time::sleep_until(deadline) => { return Ok(None); }
            }
        }
    }

    /// Finalise jobs a previous daemon left running or waiting: they were
    /// interrupted, and saying so is the only honest state. Returns their ids.
    pub fn recover_interrupted_jobs(&self) -> Result<Vec<u64>, GanetiError> {
        let interrupted: Vec<Job> = self.store.read(|s| {
            s.jobs
                .values()
                .filter(|j| {
                    j.ops.iter().any(|o| {
                        matches!(
                            o.status,
                            OpStatus::Running | OpStatus::Waiting | OpStatus::Canceling
                        )
                    })
                })
                .cloned()
                .collect()
        });
        let mut ids = Vec::new();
        for mut job in interrupted {
            let now = now_ts();
            for op in job.ops.iter_mut() {
                match op.status {
                    OpStatus::Running => {
                        let note = crate::cmdlib::recover_interrupted(self, &op.input);
                        let msg = format!(
                            "The master daemon stopped while {} was running; the opcode was interrupted and its effects may be incomplete{}",
                            op.op_id(),
                            note
                        );
                        op.status = OpStatus::Error;
                        op.result = GanetiError::OpExec(msg).encode();
                        op.end_timestamp = Some(now);
                    }
                    OpStatus::Waiting | OpStatus::Canceling => {
                        op.status = OpStatus::Error;
                        op.result = GanetiError::OpExec(format!(
                            "The master daemon stopped while {} was waiting for locks; it did not run",
                            op.op_id()
                        ))
                        .encode();
                        op.end_timestamp = Some(now);
                    }
                    OpStatus::Queued => {
                        op.status = OpStatus::Error;
                        op.result = GanetiError::OpExec(
                            "Not run: an earlier opcode of the job was interrupted by a master daemon restart".into(),
                        )
                        .encode();
                        op.end_timestamp = Some(now);
                    }
                    _ => {}
                }
            }
            job.end_timestamp = Some(now);
            ids.push(job.id);
            self.store
                .propose_blocking(Command::PutJob(Box::new(job)))
                .map_err(ganeti_store_err)?;
        }
        Ok(ids)
    }
}

/// Replace negative (relative) job ids in `depends` by absolute ones.
fn resolve_relative_deps(job: &mut Job, batch: &[Option<u64>]) -> Result<(), GanetiError> {
    for op in job.ops.iter_mut() {
        let Some(deps) = op.input.get_mut("depends").and_then(Value::as_array_mut) else {
            continue;
        };
        for dep in deps.iter_mut() {
            let Some(pair) = dep.as_array_mut() else {
                continue;
            };
            let Some(first) = pair.first_mut() else {
                continue;
            };
            let id = match first {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse::<i64>().ok(),
                _ => None,
            };
            let Some(id) = id else {
                return Err(GanetiError::wrong_input("Invalid job id in dependency"));
            };
            if id < 0 {
                let idx = batch.len() as i64 + id;
                let target = usize::try_from(idx)
                    .ok()
                    .and_then(|i| batch.get(i).copied().flatten())
                    .ok_or_else(|| {
                        GanetiError::wrong_input(format!("Invalid relative job ID {id}"))
                    })?;
                *first = json!(target);
            } else {
                *first = json!(id);
            }
        }
    }
    Ok(())
}

/// Give every unfinished opcode from `from` on a final status and result,
/// and end the job.
pub(crate) fn finalize_remaining(job: &mut Job, from: usize, status: OpStatus, err: &GanetiError) {
    let now = now_ts();
    for op in job.ops.iter_mut().skip(from) {
        if !op.status.is_final() {
            op.status = status;
            op.result = err.encode();
            op.end_timestamp = Some(now);
        }
    }
    job.end_timestamp = Some(now);
}

/// Persist a job record (used by the opcode context for log entries).
pub(crate) fn persist_job(m: &Master, job: &Job) -> Result<(), GanetiError> {
    worker::persist(m, job)
}

#[cfg(test)]
mod filtering_tests;
#[cfg(test)]
mod recovery_tests;
