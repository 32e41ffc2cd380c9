//! OP_TEST_DELAY: sleeps, optionally on nodes and holding their locks.
//! Used to test the job queue (cancel, waiting, priorities) and to measure
//! the per-job overhead of the queue itself.

use std::time::{Duration, Instant};

use ganeti_types::{Dict, GanetiError};
use serde_json::Value;

use super::util::{bool_param, str_list};
use super::{OpCtx, OpImpl};
use crate::jobs::locks::{Level, LockReq};
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[OpImpl {
    op_id: "OP_TEST_DELAY",
    locks,
    check,
    exec,
    hooks: None,
}];

fn duration(op: &Dict) -> f64 {
    op.get("duration").and_then(Value::as_f64).unwrap_or(0.0)
}

/// Ganeti checks the duration inside the job (the job fails with
/// "Duration must be greater than zero"), so nothing is refused at submit.
fn check(_m: &Master, _op: &Dict) -> Result<(), GanetiError> {
    Ok(())
}

fn locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    if bool_param(op, "no_locks") {
        return Ok(vec![]);
    }
    let mut reqs = vec![LockReq::bgl_shared()];
    for n in str_list(op, "on_nodes") {
        let uuid = m.with_config(|c| c.expand_node(&n).map(|x| x.uuid.clone()))??;
        reqs.push(LockReq::exclusive(Level::Node, uuid));
    }
    Ok(reqs)
}

fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let d = duration(&op);
    if d <= 0.0 {
        return Err(GanetiError::wrong_input(
            "Duration must be greater than zero",
        ));
    }
    let cfg = ctx.config()?;
    for n in str_list(&op, "on_nodes") {
        cfg.expand_node(&n)?;
    }
    let repeat = op.get("repeat").and_then(Value::as_u64).unwrap_or(0);
    let interruptible = bool_param(&op, "interruptible");
    let rounds = repeat.max(1);
    for i in 0..rounds {
        if repeat > 0 {
            ctx.log_info(format!("Test delay iteration {i}/{}", repeat - 1));
        }
        sleep_checked(ctx, d, interruptible)?;
    }
    Ok(Value::Null)
}

fn sleep_checked(ctx: &OpCtx<'_>, secs: f64, interruptible: bool) -> Result<(), GanetiError> {
    let end = Instant::now() + Duration::from_secs_f64(secs);
    loop {
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        if interruptible && ctx.cancel_requested() {
            return Err(GanetiError::Canceled("Job canceled by request".into()));
        }
        std::thread::sleep((end - now).min(Duration::from_millis(100)));
    }
}
