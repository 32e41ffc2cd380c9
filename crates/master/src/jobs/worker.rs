//! Runs one job's opcodes in order on a blocking worker thread: locks,
//! execution, durable status transitions.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use ganeti_types::job::now_ts;
use ganeti_types::{GanetiError, Job, OpStatus};
use serde_json::{json, Value};

use super::{finalize_remaining, JobCtl};
use crate::cmdlib::{self, OpCtx};
use crate::state::Command;
use crate::Master;

/// Entry point of a worker thread.
pub(crate) fn run(m: Arc<Master>, id: u64, ctl: Arc<JobCtl>) {
    let result = run_job(&m, id, &ctl);
    // whatever the outcome, the job's secrets are not kept past it
    m.secrets.lock().retain(|(job, _), _| *job != id);
    if let Err(e) = result {
        tracing::error!("job {id}: {e}");
    }
    m.active.lock().remove(&id);
    m.wake_scheduler.notify_one();
}

pub(crate) fn persist(m: &Master, job: &Job) -> Result<(), GanetiError> {
    m.store
        .propose_blocking(Command::PutJob(Box::new(job.clone())))
        .map(|_| ())
        .map_err(|e| GanetiError::OpExec(format!("cannot persist job {}: {e}", job.id)))
}

fn reason_entry(op_id: &str, job: u64, idx: usize) -> Value {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let short = op_id
        .strip_prefix("OP_")
        .unwrap_or(op_id)
        .to_ascii_lowercase();
    json!([
        format!("gnt:opcode:{short}"),
        format!("job={job};index={idx}"),
        ns
    ])
}

fn run_job(m: &Master, id: u64, ctl: &JobCtl) -> Result<(), GanetiError> {
    let Some(mut job) = m.job(id) else {
        return Ok(());
    };
    if job.is_finalized() {
        return Ok(());
    }
    if job.start_timestamp.is_none() {
        job.start_timestamp = Some(now_ts());
    }
    let nops = job.ops.len();
    for idx in 0..nops {
        if job.ops[idx].status.is_final() {
            continue;
        }
        if ctl.cancel.load(Ordering::SeqCst) {
            finalize_remaining(
                &mut job,
                idx,
                OpStatus::Canceled,
                &GanetiError::Canceled("Job canceled by request".into()),
            );
            return persist(m, &job);
        }
        {
            let op = &mut job.ops[idx];
            if op.start_timestamp.is_none() {
                op.start_timestamp = Some(now_ts());
            }
            let reason = reason_entry(op.op_id(), id, idx);
            if let Some(Value::Array(trail)) = op.input.get_mut("reason") {
                trail.push(reason);
            } else {
                op.input.insert("reason".into(), json!([reason]));
            }
        }
        let reqs = match cmdlib::locks(m, &job.ops[idx].input) {
            Ok(r) => r,
            Err(e) => {
                finalize_remaining(&mut job, idx, OpStatus::Error, &e);
                return persist(m, &job);
            }
        };
        let guard = if m.locks.try_acquire(id, &reqs) {
            m.locks.guard(id)
        } else {
            job.ops[idx].status = OpStatus::Waiting;
            persist(m, &job)?;
            match m
                .locks
                .acquire(id, &reqs, &|| ctl.cancel.load(Ordering::SeqCst))
            {
                Ok(g) => g,
                Err(_) => {
                    finalize_remaining(
                        &mut job,
                        idx,
                        OpStatus::Canceled,
                        &GanetiError::Canceled("Job canceled by request".into()),
                    );
                    return persist(m, &job);
                }
            }
        };
        ctl.running.store(true, Ordering::SeqCst);
        job.ops[idx].status = OpStatus::Running;
        job.ops[idx].exec_timestamp = Some(now_ts());
        persist(m, &job)?;
        let result = {
            let mut ctx = OpCtx::new(m, &mut job, idx, ctl);
            cmdlib::execute_with_hooks(&mut ctx)
        };
        match result {
            Ok(v) => {
                let op = &mut job.ops[idx];
                op.status = OpStatus::Success;
                op.result = v;
                op.end_timestamp = Some(now_ts());
                if idx + 1 == nops {
                    job.end_timestamp = op.end_timestamp;
                }
                persist(m, &job)?;
            }
            Err(e) => {
                job.ops[idx].status = OpStatus::Error;
                job.ops[idx].result = e.encode();
                job.ops[idx].end_timestamp = Some(now_ts());
                finalize_remaining(
                    &mut job,
                    idx + 1,
                    OpStatus::Error,
                    &GanetiError::OpExec("Not run: an earlier opcode of the job failed".into()),
                );
                persist(m, &job)?;
                drop(guard);
                return Ok(());
            }
        }
        ctl.running.store(false, Ordering::SeqCst);
        drop(guard);
    }
    Ok(())
}
