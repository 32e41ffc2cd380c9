//! Ganeti's hooks master: pre and post hook scripts around every opcode.
//!
//! Operators wire Ganeti to DNS, inventories, chat and monitoring through
//! scripts in `<sysconfdir>/ganeti/hooks/<path>-<pre|post>.d/`; those
//! scripts must run unchanged here, so the order of events, the node
//! lists and every `GANETI_*` variable follow Ganeti 3.0.2 (spec:
//! `hooks.md`; recorded from a real cluster in
//! `crates/fixtures/ganeti-3.0.2/hooks/`).
//!
//! Each [`OpImpl`](crate::cmdlib::OpImpl) names its [`HookDef`] (or
//! explicitly none, as Ganeti has none for that opcode). An opcode's
//! execution calls [`OpCtx::run_pre_hooks`] once its prerequisites are
//! checked and before it changes anything — the point where Ganeti's
//! `_ExecLU` runs them, so a dry run still runs the pre phase; the job
//! worker then runs the post phase after a successful execution
//! ([`run_post`]) and the `config-update` hook when the opcode wrote the
//! configuration ([`run_config_update`]).
//!
//! The scripts themselves run on the nodes ([`ganeti_node::NodeApi::hooks_run`]),
//! with a per-script timeout Ganeti lacks; each node's results are written
//! to the job log so `gnt-job info` and RAPI's job log show them.

pub(crate) mod defs;
pub mod env;
mod run;

use std::collections::BTreeMap;

use ganeti_types::{ConfigData, Dict, Disk, GanetiError, Instance};
use serde_json::Value;

pub use defs::def_for;
pub use ganeti_node::hooks::HookPhase;
pub(crate) use run::{run_config_update, run_post, run_post_now};

use crate::cmdlib::OpCtx;

/// Ganeti's `HTYPE`: what kind of object an opcode acts on
/// (`GANETI_OBJECT_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Cluster,
    Node,
    Instance,
    Group,
    Network,
}

impl ObjectType {
    /// The value of `GANETI_OBJECT_TYPE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Cluster => "CLUSTER",
            ObjectType::Node => "NODE",
            ObjectType::Instance => "INSTANCE",
            ObjectType::Group => "GROUP",
            ObjectType::Network => "NETWORK",
        }
    }
}

/// The opcode's own hook environment (keys without the `GANETI_` prefix)
/// and the nodes (uuids) of each phase.
pub type BuildFn = fn(&HookInput<'_>) -> Result<HookPlan, GanetiError>;

/// How one opcode takes part in hooks (Ganeti's `HPATH`, `HTYPE`,
/// `BuildHooksEnv` and `BuildHooksNodes`).
#[derive(Debug, Clone, Copy)]
pub struct HookDef {
    /// The hooks path: scripts live in `<path>-pre.d` and `<path>-post.d`.
    pub path: &'static str,
    pub object: Option<ObjectType>,
    pub build: BuildFn,
    /// Ganeti's `HooksCallBack` for the post phase: may change the
    /// opcode's result from the scripts' results (cluster verify folds
    /// hook failures into its verdict).
    pub post_callback: Option<PostCallback>,
}

/// Adjusts an opcode's result from its post hooks' results.
pub type PostCallback = fn(&mut OpCtx<'_>, &[NodeHookResults], Value) -> Value;

/// What a builder sees.
#[derive(Debug)]
pub struct HookInput<'a> {
    /// The opcode's parameters, defaults filled.
    pub op: &'a Dict,
    /// The configuration now: before the execution in the pre phase,
    /// after it in the post phase.
    pub cfg: &'a ConfigData,
    /// The configuration as the pre phase saw it (equal to `cfg` there);
    /// objects the execution removed are still found here.
    pub pre_cfg: &'a ConfigData,
    pub phase: HookPhase,
    /// An instance as the execution computed it before acting (the one a
    /// create will add, or one with a modify's new values): the
    /// environment describes it instead of the configured one.
    pub subject: Option<&'a InstanceSubject>,
}

/// An instance and its disks as an opcode computed them.
#[derive(Debug, Clone)]
pub struct InstanceSubject {
    pub inst: Instance,
    pub disks: Vec<Disk>,
    /// Further keys the execution resolved (an import's `SRC_NODE`,
    /// `SRC_PATH`, `SRC_IMAGES`).
    pub extra: BTreeMap<String, String>,
}

/// A builder's answer.
#[derive(Debug, Clone, Default)]
pub struct HookPlan {
    /// Keys without `GANETI_`; values already in Python's `str()` form.
    pub env: BTreeMap<String, String>,
    /// Node uuids of the pre phase (in any order; duplicates are run once).
    pub pre_nodes: Vec<String>,
    /// Node uuids of the post phase.
    pub post_nodes: Vec<String>,
}

/// One node's answer to a hooks run.
#[derive(Debug, Clone)]
pub struct NodeHookResults {
    /// The node's name.
    pub node: String,
    /// The node's uuid: Ganeti 3.0 names nodes by uuid in `HooksAbort`,
    /// in the post-phase warnings and in cluster verify's hook errors.
    pub node_uuid: String,
    /// The scripts' results, or why the node could not run them.
    pub outcome: Result<Vec<ganeti_node::hooks::HookScriptResult>, String>,
}

/// Per-opcode hooks state kept in the [`OpCtx`] between the phases.
#[derive(Debug, Default)]
pub struct HooksState {
    /// The pre phase ran (or was evaluated and had nothing to run).
    pub(crate) pre_done: bool,
    /// `GANETI_*` keys of the pre phase, without the common ones.
    pub(crate) pre_env: BTreeMap<String, String>,
    pub(crate) post_nodes: Vec<String>,
    pub(crate) subject: Option<InstanceSubject>,
    pub(crate) pre_cfg: Option<Box<ConfigData>>,
    /// The opcode committed a configuration change.
    pub(crate) wrote_config: std::cell::Cell<bool>,
}

impl OpCtx<'_> {
    /// Run the opcode's pre hooks (Ganeti: after `CheckPrereq`, before the
    /// dry-run check and `Exec`). A failing script aborts the opcode with
    /// `HooksAbort`. Call it exactly once, after the prerequisites are
    /// checked and before anything changes.
    pub fn run_pre_hooks(&mut self) -> Result<(), GanetiError> {
        run::run_pre(self, None)
    }

    /// [`OpCtx::run_pre_hooks`] for an opcode whose environment describes
    /// an instance it computed (create, modify).
    pub fn run_pre_hooks_for(&mut self, subject: InstanceSubject) -> Result<(), GanetiError> {
        run::run_pre(self, Some(subject))
    }
}
