//! OP_CLUSTER_DESTROY: the master-side check before the client removes the
//! cluster's files. Refuses while instances or other nodes remain, like
//! Ganeti; returns the master node's uuid for the final clean-up.

use ganeti_types::{Dict, GanetiError};
use serde_json::{json, Value};

use super::{OpCtx, OpImpl};
use crate::jobs::locks::LockReq;
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[OpImpl {
    op_id: "OP_CLUSTER_DESTROY",
    locks: |_m: &Master, _op: &Dict| Ok(vec![LockReq::bgl_exclusive()]),
    check: |_m: &Master, _op: &Dict| Ok(()),
    exec,
    hooks: Some(&crate::hooks::defs::CLUSTER_DESTROY),
}];

fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let cfg = ctx.config()?;
    let others = cfg.nodes.len().saturating_sub(1);
    if others > 0 {
        return Err(GanetiError::wrong_state(format!(
            "There are still {others} node(s) in this cluster."
        )));
    }
    let n = cfg.instances.len();
    if n > 0 {
        return Err(GanetiError::wrong_state(format!(
            "There are still {n} instance(s) in this cluster."
        )));
    }
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }
    // Ganeti runs the post hooks now, while the master still exists
    crate::hooks::run_post_now(ctx, &cfg.cluster.master_node);
    Ok(json!(cfg.cluster.master_node))
}
