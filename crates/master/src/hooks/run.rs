//! Running a phase: the complete environment, the node list, the calls
//! and what the results mean (abort, warning, job log).

use std::collections::BTreeMap;

use ganeti_node::hooks::HookStatus;
use ganeti_types::{ConfigData, GanetiError};
use serde_json::Value;

use super::{HookDef, HookInput, HookPhase, HookPlan, InstanceSubject, NodeHookResults};
use crate::cmdlib::OpCtx;
use crate::Master;

/// The `config-update` hook's path (`config-update-post.d`).
const CONFIG_UPDATE_PATH: &str = "config-update";

/// `PATH` of every hook script.
const HOOKS_PATH_VAR: &str = "/sbin:/bin:/usr/sbin:/usr/bin";

/// Output of one script quoted in the job log, at most (the node keeps
/// more; the job log is for reading).
const LOG_OUTPUT_LIMIT: usize = 4096;

fn op_id(ctx: &OpCtx<'_>) -> String {
    ctx.op()
        .get("OP_ID")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn build(
    ctx: &OpCtx<'_>,
    def: &HookDef,
    cfg: &ConfigData,
    pre_cfg: &ConfigData,
    phase: HookPhase,
    subject: Option<&InstanceSubject>,
) -> Result<HookPlan, GanetiError> {
    let input = HookInput {
        op: ctx.op(),
        cfg,
        pre_cfg,
        phase,
        subject,
    };
    let plan = (def.build)(&input)?;
    for key in plan.env.keys() {
        // Ganeti asserts this: an opcode's keys never shadow the common ones
        debug_assert!(
            !matches!(
                key.as_str(),
                "HOOKS_VERSION"
                    | "HOOKS_PHASE"
                    | "HOOKS_PATH"
                    | "OP_CODE"
                    | "DATA_DIR"
                    | "OBJECT_TYPE"
                    | "CLUSTER"
                    | "MASTER"
            ) && !key.starts_with("POST_"),
            "hook env key {key} collides with a common one"
        );
    }
    Ok(plan)
}

fn prefixed(env: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    env.iter()
        .map(|(k, v)| (format!("{prefix}{k}"), v.clone()))
        .collect()
}

/// The variables every run has (Ganeti's `_RunWrapper`), joined with the
/// phase's own.
fn full_env(
    m: &Master,
    cfg: &ConfigData,
    opcode: &str,
    hpath: &str,
    phase: HookPhase,
    object: Option<super::ObjectType>,
    own: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = own.clone();
    env.insert("PATH".into(), HOOKS_PATH_VAR.into());
    env.insert("GANETI_HOOKS_VERSION".into(), "2".into());
    env.insert("GANETI_OP_CODE".into(), opcode.into());
    env.insert(
        "GANETI_DATA_DIR".into(),
        m.paths.data_dir().display().to_string(),
    );
    env.insert("GANETI_HOOKS_PHASE".into(), phase.as_str().into());
    env.insert("GANETI_HOOKS_PATH".into(), hpath.into());
    if let Some(o) = object {
        env.insert("GANETI_OBJECT_TYPE".into(), o.as_str().into());
    }
    env.insert("GANETI_CLUSTER".into(), cfg.cluster.cluster_name.clone());
    env.insert(
        "GANETI_MASTER".into(),
        cfg.node_name(&cfg.cluster.master_node),
    );
    env
}

/// Run `hpath`'s `phase` scripts on `nodes` (uuids, each once, in order;
/// offline nodes skipped) and write each node's results to the job log.
fn run_on_nodes(
    ctx: &mut OpCtx<'_>,
    cfg: &ConfigData,
    nodes: &[String],
    hpath: &str,
    phase: HookPhase,
    env: &BTreeMap<String, String>,
) -> Vec<NodeHookResults> {
    let mut seen: Vec<&String> = Vec::new();
    let mut out = Vec::new();
    for uuid in nodes {
        if seen.contains(&uuid) {
            continue;
        }
        seen.push(uuid);
        let Some(node) = cfg.nodes.get(uuid) else {
            continue;
        };
        if node.offline {
            continue;
        }
        let outcome = match node_client(ctx.master, cfg, uuid) {
            Some(client) => client
                .hooks_run(hpath, phase, env)
                .map_err(|e| e.to_string()),
            None => Err("no node RPC link to this node in this release".to_string()),
        };
        let res = NodeHookResults {
            node: node.name.clone(),
            node_uuid: uuid.clone(),
            outcome,
        };
        log_results(ctx, hpath, phase, &res);
        out.push(res);
    }
    out
}

/// The node layer that reaches `uuid`. Today the master drives only its
/// own node; the node RPC of a multi-node cluster plugs in here.
fn node_client<'m>(
    m: &'m Master,
    cfg: &ConfigData,
    uuid: &str,
) -> Option<&'m dyn ganeti_node::NodeApi> {
    (uuid == cfg.cluster.master_node).then(|| m.node.as_ref())
}

fn clip(s: &str) -> String {
    if s.len() <= LOG_OUTPUT_LIMIT {
        return s.to_string();
    }
    let mut end = LOG_OUTPUT_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} [... {} more bytes]", &s[..end], s.len() - end)
}

fn status_word(s: HookStatus) -> &'static str {
    match s {
        HookStatus::Success => "succeeded",
        HookStatus::Fail => "FAILED",
        HookStatus::Skip => "skipped",
    }
}

/// One job-log entry per script of a node and phase that ran any
/// (skipped entries are listed only alongside scripts that ran, so empty
/// hook directories stay silent). Entries are single lines: clients print
/// a message's newlines escaped, as the scripts' output already is.
fn log_results(ctx: &mut OpCtx<'_>, hpath: &str, phase: HookPhase, res: &NodeHookResults) {
    match &res.outcome {
        Err(e) => ctx.log_warning(format!(
            "Communication failure to node {} while running hooks {hpath}-{}: {e}",
            res.node,
            phase.as_str()
        )),
        Ok(scripts) => {
            if scripts.iter().all(|s| s.status == HookStatus::Skip) {
                return;
            }
            let lines = scripts.iter().map(|s| {
                let mut msg = format!(
                    "Hook {} on {}: {}",
                    s.script,
                    res.node,
                    status_word(s.status)
                );
                if s.status != HookStatus::Skip {
                    msg.push_str(&format!(" in {} ms", s.duration_ms));
                }
                if !s.output.is_empty() {
                    msg.push_str(&format!(", output: {}", clip(&s.output)));
                }
                msg
            });
            // one durable write for the node's whole phase
            ctx.log_all(lines.collect::<Vec<_>>());
        }
    }
}

fn failures(results: &[NodeHookResults]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for r in results {
        if let Ok(scripts) = &r.outcome {
            for s in scripts.iter().filter(|s| s.status == HookStatus::Fail) {
                out.push((r.node_uuid.clone(), s.script.clone(), s.output.clone()));
            }
        }
    }
    out
}

/// Ganeti's warning for each failed post-phase script.
fn warn_failures(ctx: &mut OpCtx<'_>, results: &[NodeHookResults]) {
    for (node, script, output) in failures(results) {
        let output = if output.is_empty() {
            "(no output)".to_string()
        } else {
            clip(&output)
        };
        ctx.log_warning(format!(
            "On {node} script {script} failed, output: {output}"
        ));
    }
}

/// The post phase's complete environment: the opcode's keys recomputed
/// as `GANETI_POST_*`, the pre phase's `GANETI_*`, the common ones. A
/// failure to compute it is a warning (the operation is done).
fn post_env(
    ctx: &mut OpCtx<'_>,
    def: &HookDef,
    opcode: &str,
    cfg: &ConfigData,
    pre_cfg: &ConfigData,
    subject: Option<&InstanceSubject>,
) -> Option<BTreeMap<String, String>> {
    match build(ctx, def, cfg, pre_cfg, HookPhase::Post, subject) {
        Ok(p) => {
            let mut own = prefixed(&p.env, "GANETI_POST_");
            own.extend(ctx.hooks.pre_env.clone());
            Some(full_env(
                ctx.master,
                cfg,
                opcode,
                def.path,
                HookPhase::Post,
                def.object,
                &own,
            ))
        }
        Err(e) => {
            ctx.log_warning(format!("Cannot compute the post hooks' environment: {e}"));
            None
        }
    }
}

/// The pre phase (see [`OpCtx::run_pre_hooks`]).
pub(super) fn run_pre(
    ctx: &mut OpCtx<'_>,
    subject: Option<InstanceSubject>,
) -> Result<(), GanetiError> {
    if ctx.hooks.pre_done {
        // an opcode may reach the point twice (a retried plan); once is enough
        return Ok(());
    }
    ctx.hooks.pre_done = true;
    let opcode = op_id(ctx);
    let Some(def) = super::def_for(&opcode) else {
        return Ok(());
    };
    let cfg = ctx.config()?;
    let plan = build(ctx, def, &cfg, &cfg, HookPhase::Pre, subject.as_ref())?;
    let pre_env = prefixed(&plan.env, "GANETI_");
    ctx.hooks.pre_env = pre_env.clone();
    ctx.hooks.post_nodes = plan.post_nodes.clone();
    ctx.hooks.subject = subject;
    ctx.hooks.pre_cfg = Some(Box::new(cfg.clone()));
    if plan.pre_nodes.is_empty() {
        return Ok(());
    }
    let env = full_env(
        ctx.master,
        &cfg,
        &opcode,
        def.path,
        HookPhase::Pre,
        def.object,
        &pre_env,
    );
    let results = run_on_nodes(ctx, &cfg, &plan.pre_nodes, def.path, HookPhase::Pre, &env);
    // no node could run them at all: Ganeti's "Communication Failure"
    // (one unreachable node among others is only a warning, as there)
    if !results.is_empty() && results.iter().all(|r| r.outcome.is_err()) {
        return Err(GanetiError::HooksFailure("Communication Failure".into()));
    }
    let failed = failures(&results);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(GanetiError::hooks_abort(failed))
    }
}

/// The post phase, after a successful execution: the opcode's environment
/// recomputed as `GANETI_POST_*` next to the pre phase's `GANETI_*`.
/// Failures are warnings in the job log; the result is the opcode's,
/// unless the opcode's callback folds the hooks into it.
pub(crate) fn run_post(ctx: &mut OpCtx<'_>, result: Value) -> Value {
    let opcode = op_id(ctx);
    let Some(def) = super::def_for(&opcode) else {
        return result;
    };
    if !ctx.hooks.pre_done {
        // every opcode with hooks calls run_pre_hooks before acting; one
        // that did not is a bug, caught by the debug builds of the tests
        debug_assert!(false, "{opcode} executed without running its pre hooks");
        tracing::error!("{opcode} executed without running its pre hooks; post hooks skipped");
        return result;
    }
    if ctx.dry_run() {
        return result;
    }
    let post_nodes = ctx.hooks.post_nodes.clone();
    if post_nodes.is_empty() {
        return result;
    }
    let cfg = match ctx.config() {
        Ok(c) => c,
        Err(e) => {
            ctx.log_warning(format!("Cannot run the post hooks: {e}"));
            return result;
        }
    };
    let pre_cfg = ctx
        .hooks
        .pre_cfg
        .take()
        .map(|b| *b)
        .unwrap_or_else(|| cfg.clone());
    let subject = ctx.hooks.subject.take();
    let env = post_env(ctx, def, &opcode, &cfg, &pre_cfg, subject.as_ref());
    ctx.hooks.pre_cfg = Some(Box::new(pre_cfg));
    ctx.hooks.subject = subject;
    let Some(env) = env else {
        return result;
    };
    let results = run_on_nodes(ctx, &cfg, &post_nodes, def.path, HookPhase::Post, &env);
    if results.iter().all(|r| r.outcome.is_err()) && !results.is_empty() {
        ctx.log_warning("Communication Failure");
    }
    warn_failures(ctx, &results);
    match def.post_callback {
        Some(cb) => cb(ctx, &results, result),
        None => result,
    }
}

/// Ganeti's `RunConfigUpdate`: after an opcode that wrote the
/// configuration (even one that then failed), `config-update-post.d` on
/// the master with the opcode's pre-phase environment. Results are only
/// logged. Ganeti 3.0.2 documents this for every change but counts only
/// the writes of its local config writer, so it misses most (create,
/// start, modify, tags; see the recording's README); this runs after every
/// opcode that committed a change, as documented.
pub(crate) fn run_config_update(ctx: &mut OpCtx<'_>) {
    if !ctx.hooks.wrote_config.get() {
        return;
    }
    let opcode = op_id(ctx);
    let def = super::def_for(&opcode);
    let Ok(cfg) = ctx.config() else {
        return;
    };
    let env = full_env(
        ctx.master,
        &cfg,
        &opcode,
        CONFIG_UPDATE_PATH,
        HookPhase::Post,
        def.and_then(|d| d.object),
        &ctx.hooks.pre_env.clone(),
    );
    let master = vec![cfg.cluster.master_node.clone()];
    run_on_nodes(
        ctx,
        &cfg,
        &master,
        CONFIG_UPDATE_PATH,
        HookPhase::Post,
        &env,
    );
}

/// Run a post phase on one node during an execution (Ganeti does this
/// for cluster destroy and node removal, whose node is gone afterwards).
/// Failures are warnings.
pub(crate) fn run_post_now(ctx: &mut OpCtx<'_>, node_uuid: &str) {
    let opcode = op_id(ctx);
    let Some(def) = super::def_for(&opcode) else {
        return;
    };
    let Ok(cfg) = ctx.config() else {
        return;
    };
    let Some(env) = post_env(ctx, def, &opcode, &cfg, &cfg, None) else {
        return;
    };
    let results = run_on_nodes(
        ctx,
        &cfg,
        &[node_uuid.to_string()],
        def.path,
        HookPhase::Post,
        &env,
    );
    warn_failures(ctx, &results);
}
