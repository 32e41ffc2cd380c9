//! Opcode logic ("logical units"), one module per opcode family.
//!
//! Each opcode is described by an [`OpImpl`]: the locks it needs (computed
//! from the opcode and the current config), the checks that can run when
//! the job is submitted (so bad input is refused before it is queued), and
//! the execution. Execution re-checks prerequisites under the locks, then
//! acts through the node layer and commits config deltas.

mod backup;
pub(crate) mod cluster;
mod destroy;
mod group;
pub(crate) mod instance;
pub(crate) mod ipolicy;
mod network;
pub(crate) mod node;
mod os;
mod tags;
mod test_delay;
pub(crate) mod util;

pub use cluster::cluster_info;

use ganeti_types::{ConfigData, Dict, GanetiError, Job, LogEntry};
use serde_json::Value;

use crate::jobs::locks::LockReq;
use crate::jobs::JobCtl;
use crate::state::ConfigOp;
use crate::Master;

/// Locks an opcode needs.
pub type LockFn = fn(&Master, &Dict) -> Result<Vec<LockReq>, GanetiError>;
/// Checks that run at submission.
pub type CheckFn = fn(&Master, &Dict) -> Result<(), GanetiError>;
/// Execution.
pub type ExecFn = fn(&mut OpCtx<'_>) -> Result<Value, GanetiError>;

/// How one opcode is implemented.
#[derive(Debug, Clone, Copy)]
pub struct OpImpl {
    pub op_id: &'static str,
    pub locks: LockFn,
    pub check: CheckFn,
    pub exec: ExecFn,
    /// Its hooks (Ganeti's `HPATH`/`HTYPE`/env/nodes), `None` where
    /// Ganeti runs none. Every opcode states this explicitly: an opcode
    /// with hooks calls [`OpCtx::run_pre_hooks`] before it acts.
    pub hooks: Option<&'static crate::hooks::HookDef>,
}

fn registry() -> impl Iterator<Item = &'static OpImpl> {
    test_delay::OPS
        .iter()
        .chain(instance::OPS)
        .chain(backup::OPS)
        .chain(cluster::OPS)
        .chain(destroy::OPS)
        .chain(group::OPS)
        .chain(network::OPS)
        .chain(node::OPS)
        .chain(os::OPS)
        .chain(tags::OPS)
}

/// The implementation of an opcode, if this release has one.
pub fn lookup(op_id: &str) -> Option<&'static OpImpl> {
    registry().find(|o| o.op_id == op_id)
}

/// Every opcode this release implements.
pub fn supported_opcodes() -> Vec<&'static str> {
    registry().map(|o| o.op_id).collect()
}

fn op_id(op: &Dict) -> &str {
    op.get("OP_ID").and_then(Value::as_str).unwrap_or("")
}

/// Submission-time checks: the opcode is implemented and its static checks pass.
pub fn check_at_submit(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    let id = op_id(op);
    let imp = lookup(id).ok_or_else(|| {
        GanetiError::Unsupported(format!(
            "Opcode {id} is not supported by this release of ganeti-rs"
        ))
    })?;
    (imp.check)(m, op)
}

/// The locks an opcode needs.
pub fn locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let id = op_id(op);
    let imp = lookup(id)
        .ok_or_else(|| GanetiError::Unsupported(format!("Opcode {id} is not supported")))?;
    (imp.locks)(m, op)
}

/// Execute the current opcode of a context.
pub fn execute(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let id = op_id(ctx.op()).to_string();
    let imp = lookup(&id)
        .ok_or_else(|| GanetiError::Unsupported(format!("Opcode {id} is not supported")))?;
    (imp.exec)(ctx)
}

/// Execute the current opcode the way Ganeti's `_ExecLU` does around its
/// logic: the opcode runs its own pre hooks once its prerequisites hold
/// (see [`OpCtx::run_pre_hooks`]); post hooks follow a success, and the
/// `config-update` hook any opcode that wrote the configuration, whether
/// it then succeeded or not.
pub fn execute_with_hooks(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let result = execute(ctx).map(|v| crate::hooks::run_post(ctx, v));
    crate::hooks::run_config_update(ctx);
    result
}

/// What to tell the user about an opcode that a daemon crash interrupted;
/// cleans up what can be cleaned (e.g. disks of an instance that never
/// reached the config) and reports it.
pub fn recover_interrupted(m: &Master, op: &Dict) -> String {
    match op_id(op) {
        "OP_INSTANCE_CREATE" => instance::recover_interrupted_create(m, op),
        _ => String::new(),
    }
}

/// What an executing opcode sees: its parameters, the config, the node,
/// and a feedback channel into the job log.
#[derive(Debug)]
pub struct OpCtx<'a> {
    pub master: &'a Master,
    job: &'a mut Job,
    idx: usize,
    ctl: &'a JobCtl,
    pub(crate) hooks: crate::hooks::HooksState,
}

impl<'a> OpCtx<'a> {
    pub(crate) fn new(master: &'a Master, job: &'a mut Job, idx: usize, ctl: &'a JobCtl) -> Self {
        OpCtx {
            master,
            job,
            idx,
            ctl,
            hooks: crate::hooks::HooksState::default(),
        }
    }

    /// The opcode's parameters (validated, defaults filled).
    pub fn op(&self) -> &Dict {
        &self.job.ops[self.idx].input
    }

    /// The opcode's secret OS parameters, handed over once: the stored
    /// opcode only has them redacted (see `Master::secrets`).
    pub fn take_secret_osparams(&self) -> Dict {
        self.take_secrets().own
    }

    /// All secrets the opcode carries (its own and those of nested
    /// opcodes), handed over once.
    pub(crate) fn take_secrets(&self) -> crate::jobs::OpSecrets {
        self.master
            .secrets
            .lock()
            .remove(&(self.job.id, self.idx))
            .unwrap_or_default()
    }

    /// The job id.
    pub fn job_id(&self) -> u64 {
        self.job.id
    }

    /// Whether this is a dry run (prerequisites only).
    pub fn dry_run(&self) -> bool {
        self.op()
            .get("dry_run")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Whether cancellation was requested (long operations may stop early).
    pub fn cancel_requested(&self) -> bool {
        self.ctl.cancel.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A copy of the current configuration.
    pub fn config(&self) -> Result<ConfigData, GanetiError> {
        self.master.config()
    }

    /// Commit config deltas durably.
    pub fn commit(&self, ops: Vec<ConfigOp>) -> Result<(), GanetiError> {
        self.hooks.wrote_config.set(true);
        self.master.commit(ops)
    }

    /// The node layer.
    pub fn node(&self) -> &dyn ganeti_node::NodeApi {
        self.master.node.as_ref()
    }

    /// Append a message to the job log (durable, visible to watchers).
    pub fn log(&mut self, msg: impl Into<String>) {
        self.log_all(std::iter::once(msg.into()));
    }

    /// Append several messages to the job log with one durable write.
    pub fn log_all(&mut self, msgs: impl IntoIterator<Item = String>) {
        let mut added = false;
        for msg in msgs {
            let serial = self.job.last_log_serial() + 1;
            let entry = LogEntry(
                serial,
                ganeti_types::job::now_ts(),
                "message".into(),
                Value::String(msg),
            );
            self.job.ops[self.idx].log.push(entry);
            added = true;
        }
        if !added {
            return;
        }
        if let Err(e) = crate::jobs::persist_job(self.master, self.job) {
            tracing::warn!("job {}: cannot persist log entry: {e}", self.job.id);
        }
    }

    /// Ganeti's `LogInfo`: ` - INFO: msg`.
    pub fn log_info(&mut self, msg: impl AsRef<str>) {
        self.log(format!(" - INFO: {}", msg.as_ref()));
    }

    /// Ganeti's `LogWarning`: ` - WARNING: msg`.
    pub fn log_warning(&mut self, msg: impl AsRef<str>) {
        self.log(format!(" - WARNING: {}", msg.as_ref()));
    }

    /// Ganeti's `LogStep`-like feedback: `* msg`.
    pub fn log_step(&mut self, msg: impl AsRef<str>) {
        self.log(format!("* {}", msg.as_ref()));
    }
}
