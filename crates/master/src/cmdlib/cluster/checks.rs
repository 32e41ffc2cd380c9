//! Checks and plumbing shared by the cluster, group, network, node and tag
//! opcodes (the part of Ganeti's `cmdlib/common.py` they need).
//!
//! Design: every opcode here is split into a *pure planner* — a function of
//! the configuration and the opcode that either refuses (with Ganeti's
//! error class and wording) or returns an [`Outcome`]: the config deltas,
//! the feedback lines for the job log and the result — and one generic
//! runner, [`run_planned`], that logs, honours dry-run and commits. The
//! planners can therefore be unit-tested on a hand-made [`ConfigData`]
//! without a running master, and a commit refused because another job
//! changed the same object meanwhile is simply re-planned against the new
//! configuration (the store's serial check makes that race visible).

use ganeti_types::params::{coerce, force_dict_types, VType};
use ganeti_types::{constants, ConfigData, Dict, ErrorClass, GanetiError, Instance};
use serde_json::{json, Map, Value};

use crate::cmdlib::OpCtx;
use crate::state::ConfigOp;

/// Bump an object's serial and modification time before it is written back.
macro_rules! touch {
    ($o:expr) => {{
        $o.serial_no += 1;
        $o.mtime = ganeti_types::now_f64();
    }};
}
pub(crate) use touch;

/// One line for the job log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Fb {
    /// Ganeti's `LogInfo` (` - INFO: ...`).
    Info(String),
    /// Ganeti's `LogWarning` (` - WARNING: ...`).
    Warning(String),
    /// Ganeti's `feedback_fn` (the text as is).
    Msg(String),
}

/// What executing an opcode amounts to, computed from one configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    /// Config deltas, committed atomically.
    pub ops: Vec<ConfigOp>,
    /// Feedback of the prerequisite checks (also shown in a dry run).
    pub pre: Vec<Fb>,
    /// Feedback of the execution (not shown in a dry run).
    pub post: Vec<Fb>,
    /// The opcode result (replaced by the `{"jobs": ...}` answer when
    /// [`Outcome::jobs`] is not empty).
    pub result: Value,
    /// Follow-up jobs to submit after the commit (Ganeti's `ResultWithJobs`),
    /// each a list of opcode dicts.
    pub jobs: Vec<Vec<Value>>,
    /// A refusal that comes after some feedback (Ganeti logs a warning,
    /// then raises): the feedback in [`Outcome::pre`] is shown first.
    pub fail: Option<GanetiError>,
}

impl Outcome {
    /// An outcome with just a result.
    pub fn with_result(result: Value) -> Self {
        Outcome {
            result,
            ..Outcome::default()
        }
    }
    pub fn info(&mut self, m: impl Into<String>) {
        self.pre.push(Fb::Info(m.into()));
    }
    pub fn warn(&mut self, m: impl Into<String>) {
        self.pre.push(Fb::Warning(m.into()));
    }
    pub fn exec_info(&mut self, m: impl Into<String>) {
        self.post.push(Fb::Info(m.into()));
    }
    pub fn exec_msg(&mut self, m: impl Into<String>) {
        self.post.push(Fb::Msg(m.into()));
    }
    pub fn exec_warn(&mut self, m: impl Into<String>) {
        self.post.push(Fb::Warning(m.into()));
    }
}

fn emit(ctx: &mut OpCtx<'_>, fb: Vec<Fb>) {
    for f in fb {
        match f {
            Fb::Info(m) => ctx.log_info(m),
            Fb::Warning(m) => ctx.log_warning(m),
            Fb::Msg(m) => ctx.log(m),
        }
    }
}

fn is_concurrent_change(e: &GanetiError) -> bool {
    matches!(e, GanetiError::Config(m) if m.starts_with("Configuration changed concurrently"))
}

/// How often a plan is recomputed after a concurrent change of the config.
const COMMIT_ATTEMPTS: usize = 5;

/// Plan against the current config, log the feedback, stop there on a dry
/// run, otherwise commit (re-planning on a concurrent change) and submit
/// follow-up jobs.
pub(crate) fn run_planned(
    ctx: &mut OpCtx<'_>,
    plan: impl Fn(&ConfigData) -> Result<Outcome, GanetiError>,
) -> Result<Value, GanetiError> {
    let cfg = ctx.config()?;
    let mut out = plan(&cfg)?;
    emit(ctx, std::mem::take(&mut out.pre));
    if let Some(e) = out.fail.take() {
        return Err(e);
    }
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        return Ok(Value::Null);
    }
    let mut attempt = 1;
    loop {
        if out.ops.is_empty() {
            break;
        }
        match ctx.commit(out.ops.clone()) {
            Ok(()) => break,
            Err(e) if is_concurrent_change(&e) && attempt < COMMIT_ATTEMPTS => {
                attempt += 1;
                let cfg = ctx.config()?;
                // Feedback was already given for the first plan.
                out = plan(&cfg)?;
                if let Some(e) = out.fail.take() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    emit(ctx, std::mem::take(&mut out.post));
    if out.jobs.is_empty() {
        return Ok(out.result);
    }
    submit_jobs(ctx, out.jobs)
}

/// Submit follow-up jobs and answer as Ganeti's `ResultWithJobs` does:
/// `{"jobs": [[true, id] | [false, error], ...]}`. Child opcodes inherit
/// the parent's priority (unless they set one), debug level and reason
/// trail (after their own), and say who submitted them in `comment`
/// (Ganeti's `_SetBaseOpParams`).
pub(crate) fn submit_jobs(ctx: &OpCtx<'_>, jobs: Vec<Vec<Value>>) -> Result<Value, GanetiError> {
    let parent = ctx.op();
    let priority = parent.get("priority").cloned();
    let debug_level = parent.get("debug_level").cloned();
    let parent_reason = parent
        .get("reason")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let comment = format!(
        "Submitted by {}",
        parent
            .get("OP_ID")
            .and_then(Value::as_str)
            .unwrap_or_default()
    );
    let jobs: Vec<Vec<Value>> = jobs
        .into_iter()
        .map(|ops| {
            ops.into_iter()
                .map(|mut op| {
                    if let Some(o) = op.as_object_mut() {
                        if let Some(p) = &priority {
                            o.entry("priority").or_insert_with(|| p.clone());
                        }
                        if let Some(d) = &debug_level {
                            o.insert("debug_level".into(), d.clone());
                        }
                        if o.get("comment").is_none_or(is_falsy) {
                            o.insert("comment".into(), json!(comment));
                        }
                        let mut reason = o
                            .get("reason")
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default();
                        reason.extend(parent_reason.iter().cloned());
                        o.insert("reason".into(), Value::Array(reason));
                    }
                    op
                })
                .collect()
        })
        .collect();
    let results = ctx.master.submit_many(&jobs, false)?;
    let list: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(id) => json!([true, id]),
            Err(e) => json!([false, e.message()]),
        })
        .collect();
    Ok(json!({ "jobs": list }))
}

// ---------------------------------------------------------------------------
// Small formatting helpers (Python's str() of values, CommaJoin, NiceSort).

/// Python's `str()`/`repr()` of values and `CommaJoin`, as Ganeti's
/// messages show them (shared with the command-line tools).
pub(crate) use ganeti_clifmt::pystr::{comma_join, py_str};

/// Ganeti's `utils.NiceSort` of owned strings.
pub(crate) fn nice_sorted(mut v: Vec<String>) -> Vec<String> {
    ganeti_query::nice_sort(&mut v);
    v
}

/// Python truthiness of a JSON value.
pub(crate) fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// An optional dict parameter: `None` when absent or null (Ganeti's
/// "not given"), the dict otherwise.
pub(crate) fn opt_dict(op: &Dict, name: &str) -> Option<Dict> {
    op.get(name).and_then(Value::as_object).cloned()
}

/// An optional list parameter (`None` when absent or null).
pub(crate) fn opt_list<'a>(op: &'a Dict, name: &str) -> Option<&'a Vec<Value>> {
    op.get(name).and_then(Value::as_array)
}

/// A JSON object from a `json!` literal (empty if it is not an object).
pub(crate) fn obj(v: Value) -> Dict {
    match v {
        Value::Object(m) => m,
        _ => Dict::new(),
    }
}

/// Whether a name looks like a UUID (Ganeti's `utils.UUID_RE`).
pub(crate) fn is_uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, l)| p.len() == l && p.chars().all(|c| c.is_ascii_hexdigit()))
}

// ---------------------------------------------------------------------------
// Configuration relations.

/// Every node of an instance: primary first, then secondaries.
pub(crate) fn instance_nodes(cfg: &ConfigData, inst: &Instance) -> Vec<String> {
    let mut out = vec![inst.primary_node.clone()];
    for s in cfg.instance_secondaries(inst) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Instances with at least one node in a group (Ganeti's `GetNodeGroupInstances`).
pub(crate) fn group_instances<'a>(cfg: &'a ConfigData, group_uuid: &str) -> Vec<&'a Instance> {
    cfg.instances
        .values()
        .filter(|i| {
            instance_nodes(cfg, i).iter().any(|n| {
                cfg.nodes
                    .get(n)
                    .map(|x| x.group == group_uuid)
                    .unwrap_or(false)
            })
        })
        .collect()
}

/// Names of the instances with a node in a group.
pub(crate) fn group_instance_names(cfg: &ConfigData, group_uuid: &str) -> Vec<String> {
    group_instances(cfg, group_uuid)
        .iter()
        .map(|i| i.name.clone())
        .collect()
}

/// Node uuids that are members of a group.
pub(crate) fn group_members(cfg: &ConfigData, group_uuid: &str) -> Vec<String> {
    cfg.nodes
        .values()
        .filter(|n| n.group == group_uuid)
        .map(|n| n.uuid.clone())
        .collect()
}

/// Whether any disk of the instance uses an internally mirrored template (DRBD).
pub(crate) fn is_int_mirrored(cfg: &ConfigData, inst: &Instance) -> bool {
    cfg.instance_disks(inst)
        .iter()
        .any(|d| d.dev_type == "drbd")
}

/// Master candidate statistics (Ganeti's `GetMasterCandidateStats`):
/// `(candidates now, candidates wanted, possible candidates)`.
pub(crate) fn master_candidate_stats(
    cfg: &ConfigData,
    exceptions: &[&str],
) -> (usize, usize, usize) {
    let mut now = 0;
    let mut possible = 0;
    for n in cfg.nodes.values() {
        if exceptions.contains(&n.uuid.as_str()) || n.offline || n.drained || !n.master_capable {
            continue;
        }
        possible += 1;
        if n.master_candidate {
            now += 1;
        }
    }
    let wanted = possible.min(cfg.cluster.candidate_pool_size as usize);
    (now, wanted, possible)
}

// ---------------------------------------------------------------------------
// Parameter validation shared by cluster, group and node modifications.

/// Disk template parameter types (Ganeti's `DISK_DT_TYPES`).
pub(crate) const DISK_DT_TYPES: &[(&str, VType)] = &[
    ("resync-rate", VType::Int),
    ("data-stripes", VType::Int),
    ("meta-stripes", VType::Int),
    ("disk-barriers", VType::Str),
    ("meta-barriers", VType::Bool),
    ("metavg", VType::Str),
    ("disk-custom", VType::Str),
    ("net-custom", VType::Str),
    ("protocol", VType::Str),
    ("dynamic-resync", VType::Bool),
    ("c-plan-ahead", VType::Int),
    ("c-fill-target", VType::Int),
    ("c-delay-target", VType::Int),
    ("c-max-rate", VType::Int),
    ("c-min-rate", VType::Int),
    ("stripes", VType::Int),
    ("access", VType::Str),
    ("pool", VType::Str),
    ("host", VType::Str),
    ("volume", VType::Str),
    ("port", VType::Int),
];

/// Hypervisor state parameter types and defaults.
const HVST_TYPES: &[(&str, VType)] = &[
    ("mem_total", VType::Int),
    ("mem_node", VType::Int),
    ("mem_hv", VType::Int),
    ("cpu_total", VType::Int),
    ("cpu_node", VType::Int),
];
/// Disk state parameter types.
const DSS_TYPES: &[(&str, VType)] = &[
    ("disk_total", VType::Int),
    ("disk_reserved", VType::Int),
    ("disk_overhead", VType::Int),
];

/// Instance spec parameters (all integers).
pub(crate) const ISPECS_PARAMETERS: &[&str] = &[
    "cpu-count",
    "disk-count",
    "disk-size",
    "memory-size",
    "nic-count",
    "spindle-use",
];
const ISPECS_TYPES: &[(&str, VType)] = &[
    ("cpu-count", VType::Int),
    ("disk-count", VType::Int),
    ("disk-size", VType::Int),
    ("memory-size", VType::Int),
    ("nic-count", VType::Int),
    ("spindle-use", VType::Int),
];
/// The float-valued instance policy parameters.
const IPOLICY_PARAMETERS: &[&str] = &["spindle-ratio", "vcpu-ratio"];
/// Every key an instance policy may have.
const IPOLICY_ALL_KEYS: &[&str] = &[
    "disk-templates",
    "minmax",
    "spindle-ratio",
    "std",
    "vcpu-ratio",
];

/// Valid disk access modes.
const DISK_ACCESS_MODES: &[&str] = &["kernelspace", "userspace"];

/// Ganeti's `ForceDictType` against the node parameter table.
pub(crate) fn check_ndparams(d: &Dict) -> Result<Dict, GanetiError> {
    force_dict_types(d, ganeti_types::params::ND_TYPES, false)
}

/// Ganeti's node parameters that only exist cluster-wide or per group.
pub(crate) const NDC_GLOBALS: &[&str] = &["exclusive_storage"];

/// Check disk parameters given in an opcode (Ganeti: `ForceDictType` per
/// template, `VerifyDictOptions` against the defaults, access mode
/// validity); returns them with values coerced.
pub fn check_diskparams(dp: &Dict) -> Result<Dict, GanetiError> {
    let mut out = Dict::new();
    for (templ, params) in dp {
        let Some(p) = params.as_object() else {
            return Err(GanetiError::Parameter(format!(
                "Expected dictionary, got '{}'",
                py_str(params)
            )));
        };
        out.insert(
            templ.clone(),
            Value::Object(force_dict_types(p, DISK_DT_TYPES, false)?),
        );
    }
    let defaults = constants::disk_defaults();
    let mut invalid = Vec::new();
    for (templ, params) in &out {
        match defaults.get(templ).and_then(Value::as_object) {
            None => invalid.push(templ.clone()),
            Some(def) => {
                if let Some(p) = params.as_object() {
                    for k in p.keys() {
                        if !def.contains_key(k) {
                            invalid.push(format!("{templ}/{k}"));
                        }
                    }
                }
            }
        }
    }
    if !invalid.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "While verify diskparams options: Provided option keys not supported: {}",
            comma_join(&invalid)
        )));
    }
    check_disk_access_modes(&out)?;
    Ok(out)
}

/// Ganeti's `CheckDiskAccessModeValidity`.
pub(crate) fn check_disk_access_modes(dp: &Dict) -> Result<(), GanetiError> {
    for (templ, params) in dp {
        let access = params
            .get("access")
            .map(py_str)
            .unwrap_or_else(|| "kernelspace".to_string());
        if !DISK_ACCESS_MODES.contains(&access.as_str()) {
            return Err(GanetiError::wrong_input(format!(
                "While verify diskparams options: Invalid value of '{templ}:access': '{access}' \
                 (expected one of {})",
                comma_join(DISK_ACCESS_MODES)
            )));
        }
    }
    Ok(())
}

/// Ganeti's `GetUpdatedParams` with the "default" marker (and optionally
/// `null`) meaning "remove".
pub(crate) fn updated_params(old: &Dict, update: &Dict, use_none: bool) -> Dict {
    let mut out = old.clone();
    for (k, v) in update {
        if v.as_str() == Some("default") || (use_none && v.is_null()) {
            out.remove(k);
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

fn update_and_verify_subdict(
    base: &Dict,
    updates: &Dict,
    types: &[(&str, VType)],
) -> Result<Dict, GanetiError> {
    let mut ret = base.clone();
    for (key, value) in updates {
        let old = base
            .get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let upd = value.as_object().cloned().unwrap_or_default();
        let new = updated_params(&old, &upd, false);
        ret.insert(
            key.clone(),
            Value::Object(force_dict_types(&new, types, false)?),
        );
    }
    Ok(ret)
}

/// Ganeti's `MergeAndVerifyHvState`.
pub(crate) fn merge_hv_state(op: &Dict, obj: &Dict) -> Result<Dict, GanetiError> {
    let mut invalid: Vec<&str> = op
        .keys()
        .map(String::as_str)
        .filter(|k| !constants::KNOWN_HYPERVISORS.contains(k))
        .collect();
    invalid.sort_unstable();
    if !invalid.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "Invalid hypervisor(s) in hypervisor state: {}",
            comma_join(invalid)
        )));
    }
    update_and_verify_subdict(obj, op, HVST_TYPES)
}

/// Ganeti's `MergeAndVerifyDiskState` (only `plain` carries disk state).
pub(crate) fn merge_disk_state(op: &Dict, obj: &Dict) -> Result<Dict, GanetiError> {
    let mut invalid: Vec<&str> = op
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "plain")
        .collect();
    invalid.sort_unstable();
    if !invalid.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "Invalid storage type(s) in disk state: {}",
            comma_join(invalid)
        )));
    }
    let mut out = Dict::new();
    for (st, per_name) in op {
        let base = obj
            .get(st)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let upd = per_name.as_object().cloned().unwrap_or_default();
        out.insert(
            st.clone(),
            Value::Object(update_and_verify_subdict(&base, &upd, DSS_TYPES)?),
        );
    }
    Ok(out)
}

/// Fill one hypervisor state entry with Ganeti's defaults.
pub(crate) fn fill_hv_state(values: &Dict) -> Dict {
    let mut out =
        obj(json!({"cpu_node": 1, "cpu_total": 1, "mem_hv": 0, "mem_node": 0, "mem_total": 0}));
    for (k, v) in values {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// Fill one disk state entry with Ganeti's defaults.
pub(crate) fn fill_disk_state(values: &Dict) -> Dict {
    let mut out = obj(json!({"disk_overhead": 0, "disk_reserved": 0, "disk_total": 0}));
    for (k, v) in values {
        out.insert(k.clone(), v.clone());
    }
    out
}

/// The error Ganeti raises for an unsupported or unknown hypervisor.
pub(crate) fn check_hypervisor_supported(hv: &str) -> Result<(), GanetiError> {
    if !constants::KNOWN_HYPERVISORS.contains(&hv) {
        return Err(GanetiError::wrong_input(format!(
            "Unknown hypervisor type '{hv}'"
        )));
    }
    if !constants::SUPPORTED_HYPERVISORS.contains(&hv) {
        return Err(GanetiError::wrong_input(format!(
            "Hypervisor '{hv}' is not supported by this release of ganeti-rs (supported: {})",
            comma_join(constants::SUPPORTED_HYPERVISORS)
        )));
    }
    Ok(())
}

/// Check (part of) one hypervisor's parameters: the hypervisor is
/// supported, every key is one of its parameters, every value has its
/// type (Ganeti's `ForceDictType`); the coerced dict. The hypervisor's
/// syntax rules need the whole, filled dict: `hvparams::check_syntax`.
pub(crate) fn check_hvparams(hv: &str, params: &Dict) -> Result<Dict, GanetiError> {
    check_hypervisor_supported(hv)?;
    let types = ganeti_types::params::hv_types(hv);
    let mut out = Dict::new();
    for (k, v) in params {
        let Some((_, t)) = types.iter().find(|(n, _)| n == k) else {
            return Err(ganeti_types::hvparams::hv_error(format!(
                "Parameter '{k}' is not supported"
            )));
        };
        out.insert(k.clone(), coerce(k, v, *t)?);
    }
    Ok(out)
}

/// Ganeti's `NormalizeAndValidateThreeOctetMacPrefix`.
pub fn normalize_mac_prefix(mac: &str) -> Result<String, GanetiError> {
    let parts: Vec<&str> = mac.split(':').collect();
    let ok = parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(mac.to_ascii_lowercase())
    } else {
        Err(GanetiError::wrong_input(format!(
            "Invalid MAC address prefix '{mac}'"
        )))
    }
}

/// Ganeti's `objects.NIC.CheckParameterSyntax` (a `ConfigurationError`).
pub(crate) fn check_nic_syntax(p: &Dict) -> Result<(), String> {
    let mode = p.get("mode").map(py_str).unwrap_or_default();
    if !["bridged", "routed", "openvswitch", "auto"].contains(&mode.as_str()) {
        return Err(format!("Invalid NIC mode '{mode}'"));
    }
    let link = p.get("link").map(py_str).unwrap_or_default();
    if mode == "bridged" && (link.is_empty() || link == "None") {
        return Err("Missing bridged NIC link".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Instance policies.

fn cfg_err(msg: String) -> GanetiError {
    GanetiError::wrong_input(format!("Invalid instance policy: {msg}"))
}

fn spec_int(spec: &Value, key: &str) -> Option<i64> {
    spec.get(key)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// Ganeti's `InstancePolicy.CheckParameterSyntax`: structure of minmax
/// (min ≤ max for every parameter), std within one of the ranges (when
/// `check_std`), disk templates known, ratios numeric, no unknown keys.
/// The error text is the `ConfigurationError` message.
pub fn check_ipolicy_syntax(ip: &Dict, check_std: bool) -> Result<(), String> {
    if let Some(minmax) = ip.get("minmax") {
        if check_std && !ip.contains_key("std") {
            return Err("Missing key in ipolicy: std".into());
        }
        let std = ip.get("std").cloned().unwrap_or(Value::Object(Dict::new()));
        if check_std {
            check_incomplete_spec(&std, "std")?;
        }
        let list = minmax.as_array().cloned().unwrap_or_default();
        if list.is_empty() {
            return Err("Empty minmax specifications".into());
        }
        let mut std_is_good = false;
        for mm in &list {
            let Some(mmo) = mm.as_object() else {
                return Err("Missing instance specification: max, min".into());
            };
            let mut missing: Vec<&str> = ["max", "min"]
                .into_iter()
                .filter(|k| !mmo.contains_key(*k))
                .collect();
            missing.sort_unstable();
            if !missing.is_empty() {
                return Err(format!(
                    "Missing instance specification: {}",
                    comma_join(missing)
                ));
            }
            let mut extra: Vec<&String> =
                mmo.keys().filter(|k| *k != "min" && *k != "max").collect();
            if let Some(k) = extra.pop() {
                return Err(format!("Invalid instance specification key: {k}"));
            }
            for (key, spec) in mmo {
                check_incomplete_spec(spec, key)?;
            }
            let mut spec_std_ok = true;
            for p in ISPECS_PARAMETERS {
                let (Some(min_v), Some(max_v)) =
                    (spec_int(&mmo["min"], p), spec_int(&mmo["max"], p))
                else {
                    return Err(format!("Invalid specification of min/max values for {p}"));
                };
                if min_v > max_v {
                    return Err(format!(
                        "Invalid specification of min/max values for {p}: {min_v}/{max_v}"
                    ));
                }
                if check_std {
                    let std_v = spec_int(&std, p).unwrap_or(min_v);
                    spec_std_ok = spec_std_ok && std_v >= min_v && std_v <= max_v;
                }
            }
            std_is_good = std_is_good || spec_std_ok;
        }
        if !std_is_good {
            return Err("Invalid std specifications".into());
        }
    }
    if let Some(dts) = ip.get("disk-templates") {
        let list: Vec<String> = dts
            .as_array()
            .map(|a| a.iter().map(py_str).collect())
            .unwrap_or_default();
        if list.is_empty() {
            return Err("Instance policy must contain at least one disk template".into());
        }
        let mut wrong: Vec<String> = list
            .into_iter()
            .filter(|t| ganeti_types::DiskTemplate::parse(t).is_none())
            .collect();
        wrong.sort();
        wrong.dedup();
        if !wrong.is_empty() {
            return Err(format!("Invalid disk template(s) {}", comma_join(&wrong)));
        }
    }
    for key in IPOLICY_PARAMETERS {
        if let Some(v) = ip.get(*key) {
            if py_float(v).is_none() {
                return Err(format!(
                    "Invalid value for key '{key}': '{}', error: {}",
                    py_str(v),
                    float_error(v)
                ));
            }
        }
    }
    let mut wrong: Vec<&String> = ip
        .keys()
        .filter(|k| !IPOLICY_ALL_KEYS.contains(&k.as_str()))
        .collect();
    wrong.sort();
    if !wrong.is_empty() {
        return Err(format!("Invalid keys in ipolicy: {}", comma_join(wrong)));
    }
    Ok(())
}

fn check_incomplete_spec(spec: &Value, keyname: &str) -> Result<(), String> {
    let o = spec.as_object();
    let mut missing: Vec<&str> = ISPECS_PARAMETERS
        .iter()
        .copied()
        .filter(|p| !o.map(|o| o.contains_key(*p)).unwrap_or(false))
        .collect();
    missing.sort_unstable();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Missing instance specs parameters for {keyname}: {}",
            comma_join(missing)
        ))
    }
}

/// Python's `float()` of a JSON value.
fn py_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

fn float_error(v: &Value) -> String {
    match v {
        Value::String(s) => format!("could not convert string to float: '{s}'"),
        other => format!(
            "float() argument must be a string or a number, not '{}'",
            match other {
                Value::Null => "NoneType",
                Value::Array(_) => "list",
                Value::Object(_) => "dict",
                _ => "object",
            }
        ),
    }
}

fn force_spec(spec: &Value) -> Result<Value, GanetiError> {
    let o = spec.as_object().cloned().unwrap_or_default();
    Ok(Value::Object(force_dict_types(&o, ISPECS_TYPES, false)?))
}

/// Ganeti's `GetUpdatedIPolicy`: merge an ipolicy change into the old
/// policy. For groups, empty/"default" values remove the key; on the
/// cluster they are refused. The result is checked for validity.
pub(crate) fn update_ipolicy(
    old: &Dict,
    new: &Dict,
    group_policy: bool,
) -> Result<Dict, GanetiError> {
    let mut ip = old.clone();
    for (key, value) in new {
        if !IPOLICY_ALL_KEYS.contains(&key.as_str()) {
            return Err(GanetiError::wrong_input(format!(
                "Invalid key in new ipolicy: {key}"
            )));
        }
        let is_default = value.as_str() == Some("default")
            || value
                .as_array()
                .map(|a| a.len() == 1 && a[0].as_str() == Some("default"))
                .unwrap_or(false);
        if is_falsy(value) || is_default {
            if group_policy {
                ip.remove(key);
            } else {
                return Err(GanetiError::wrong_input(format!(
                    "Can't unset ipolicy attribute '{key}' on the cluster'"
                )));
            }
            continue;
        }
        if IPOLICY_PARAMETERS.contains(&key.as_str()) {
            let f = py_float(value)
                .and_then(serde_json::Number::from_f64)
                .ok_or_else(|| {
                    GanetiError::wrong_input(format!(
                        "Invalid value for attribute '{key}': '{}', error: {}",
                        py_str(value),
                        float_error(value)
                    ))
                })?;
            ip.insert(key.clone(), Value::Number(f));
        } else if key == "minmax" {
            let list = value.as_array().cloned().unwrap_or_default();
            let mut out = Vec::with_capacity(list.len());
            for mm in list {
                let mut mo = Map::new();
                for (k, spec) in mm.as_object().cloned().unwrap_or_default() {
                    mo.insert(k, force_spec(&spec)?);
                }
                out.push(Value::Object(mo));
            }
            ip.insert(key.clone(), Value::Array(out));
        } else if key == "std" {
            if group_policy {
                return Err(GanetiError::wrong_input(
                    "std cannot appear in group instance specs",
                ));
            }
            let old_std = old
                .get("std")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let upd = value.as_object().cloned().unwrap_or_default();
            let mut merged = old_std;
            for (k, v) in upd {
                merged.insert(k, v);
            }
            ip.insert(
                key.clone(),
                Value::Object(force_dict_types(&merged, ISPECS_TYPES, false)?),
            );
        } else {
            let list = match value {
                Value::Array(a) => a.clone(),
                Value::String(s) => s.chars().map(|c| Value::String(c.to_string())).collect(),
                other => vec![other.clone()],
            };
            ip.insert(key.clone(), Value::Array(list));
        }
    }
    check_ipolicy_syntax(&ip, !group_policy).map_err(cfg_err)?;
    Ok(ip)
}

/// Ganeti's `CheckIpolicyVsDiskTemplates`.
pub(crate) fn check_ipolicy_vs_templates(ip: &Dict, enabled: &[String]) -> Result<(), GanetiError> {
    let allowed: Vec<String> = ip
        .get("disk-templates")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(py_str).collect())
        .unwrap_or_default();
    let mut not_enabled: Vec<String> = allowed
        .into_iter()
        .filter(|t| !enabled.contains(t))
        .collect();
    not_enabled.sort();
    not_enabled.dedup();
    if not_enabled.is_empty() {
        Ok(())
    } else {
        Err(GanetiError::prereq(
            format!(
                "The following disk templates are allowed by the ipolicy, but not enabled on the \
                 cluster: {}",
                comma_join(&not_enabled)
            ),
            ErrorClass::WrongInput,
        ))
    }
}

/// Coerce the spec values of a group ipolicy given at creation (Ganeti
/// stores it as given; we at least make the numbers numbers).
pub(crate) fn coerce_group_ipolicy(ip: &Dict) -> Result<Dict, GanetiError> {
    let mut out = ip.clone();
    if let Some(Value::Array(list)) = ip.get("minmax") {
        let mut new = Vec::new();
        for mm in list {
            let mut mo = Map::new();
            for (k, spec) in mm.as_object().cloned().unwrap_or_default() {
                mo.insert(k, force_spec(&spec)?);
            }
            new.push(Value::Object(mo));
        }
        out.insert("minmax".into(), Value::Array(new));
    }
    if let Some(std) = ip.get("std") {
        out.insert("std".into(), force_spec(std)?);
    }
    for key in IPOLICY_PARAMETERS {
        if let Some(v) = ip.get(*key) {
            if let Some(f) = py_float(v).and_then(serde_json::Number::from_f64) {
                out.insert((*key).to_string(), Value::Number(f));
            }
        }
    }
    Ok(out)
}

pub(crate) use crate::cmdlib::ipolicy::{
    fill_ipolicy, group_ipolicy, instance_ipolicy_violations, new_ipolicy_violations,
};

#[cfg(test)]
pub(crate) mod testcfg {
    //! A small hand-made configuration for planner tests: one cluster,
    //! node `node1.example.com` (master) in group `default`.

    use ganeti_types::{constants, ConfigData};
    use serde_json::json;

    pub const NODE: &str = "11111111-1111-1111-1111-111111111111";
    pub const GROUP: &str = "22222222-2222-2222-2222-222222222222";

    /// Apply planned changes as the state machine would (serials aside).
    pub fn apply(cfg: &mut ConfigData, ops: &[crate::state::ConfigOp]) {
        for op in ops {
            op.apply_to(cfg);
        }
    }

    pub fn config() -> ConfigData {
        let mut ipolicy = constants::ipolicy_defaults();
        ipolicy.insert("disk-templates".into(), json!(["diskless", "file"]));
        let v = json!({
            "version": 3000000,
            "cluster": {
                "uuid": "33333333-3333-3333-3333-333333333333",
                "cluster_name": "cluster.example.com",
                "master_node": NODE,
                "master_ip": "198.51.100.1",
                "master_netdev": "br0",
                "master_netmask": 24,
                "mac_prefix": "aa:00:00",
                "default_hypervisor": "fake",
                "enabled_hypervisors": ["fake"],
                "enabled_disk_templates": ["file", "diskless"],
                "file_storage_dir": "/srv/ganeti/file-storage",
                "shared_file_storage_dir": "/srv/ganeti/shared-file-storage",
                "gluster_storage_dir": "/var/run/ganeti/gluster",
                "hvparams": {"fake": {"migration_mode": "live"}},
                "beparams": {"default": constants::be_defaults()},
                "nicparams": {"default": {"mode": "bridged", "link": "br0", "vlan": ""}},
                "ndparams": constants::nd_defaults(),
                "diskparams": constants::disk_defaults(),
                "ipolicy": ipolicy,
                "candidate_pool_size": 10,
                "default_iallocator": "hail",
                "compression_tools": ["gzip", "gzip-fast", "gzip-slow"],
                "data_collectors": constants::data_collector_defaults(),
                "serial_no": 1, "ctime": 1.0, "mtime": 1.0
            },
            "nodes": {
                NODE: {
                    "uuid": NODE, "name": "node1.example.com",
                    "primary_ip": "198.51.100.10", "secondary_ip": "198.51.100.10",
                    "group": GROUP, "master_candidate": true, "offline": false,
                    "drained": false, "master_capable": true, "vm_capable": true,
                    "serial_no": 1, "ctime": 1.0, "mtime": 1.0
                }
            },
            "nodegroups": {
                GROUP: {
                    "uuid": GROUP, "name": "default", "alloc_policy": "preferred",
                    "serial_no": 1, "ctime": 1.0, "mtime": 1.0
                }
            },
            "serial_no": 1, "ctime": 1.0, "mtime": 1.0
        });
        match serde_json::from_value(v) {
            Ok(c) => c,
            Err(e) => panic!("test config does not parse: {e}"),
        }
    }

    /// Add an instance with one NIC (and optionally one file disk).
    pub fn add_instance(
        cfg: &mut ConfigData,
        name: &str,
        nic_net: Option<&str>,
        ip: Option<&str>,
        disk: bool,
    ) {
        let uuid = format!("inst-{name}");
        let mut disks = vec![];
        if disk {
            let du = format!("disk-{name}");
            let d = json!({
                "uuid": du, "dev_type": "file",
                "logical_id": ["loop", format!("/nonexistent/{name}/disk0")],
                "nodes": [NODE], "iv_name": "disk/0", "size": 1024, "mode": "rw",
                "serial_no": 1, "ctime": 1.0, "mtime": 1.0
            });
            cfg.disks
                .insert(du.clone(), serde_json::from_value(d).unwrap());
            disks.push(du);
        }
        let i = json!({
            "uuid": uuid, "name": name, "primary_node": NODE, "os": "noop",
            "hypervisor": "fake", "admin_state": "down",
            "nics": [{"uuid": format!("nic-{name}"), "mac": format!("aa:00:00:00:00:{:02x}", cfg.instances.len()),
                      "ip": ip, "network": nic_net, "nicparams": {}}],
            "disks": disks, "disk_template": if disk { "file" } else { "diskless" },
            "serial_no": 1, "ctime": 1.0, "mtime": 1.0
        });
        cfg.instances
            .insert(uuid, serde_json::from_value(i).unwrap());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(v: Value) -> Dict {
        obj(v)
    }

    #[test]
    fn mac_prefix_normalized_and_refused() {
        assert_eq!(normalize_mac_prefix("AA:0b:cc").unwrap(), "aa:0b:cc");
        for bad in ["aa:00", "aa:00:00:00", "zz:00:00", "aaa:0:00", ""] {
            let e = normalize_mac_prefix(bad).unwrap_err();
            assert_eq!(e.message(), format!("Invalid MAC address prefix '{bad}'"));
            assert_eq!(e.error_class(), Some(ErrorClass::WrongInput));
        }
    }

    #[test]
    fn ipolicy_update_checks_ranges_and_std() {
        let cluster = constants::ipolicy_defaults();
        // a valid change of the max memory
        let new = update_ipolicy(
            &cluster,
            &d(
                json!({"minmax": [{"min": cluster["minmax"][0]["min"], "max": {
                "cpu-count": 8, "disk-count": 16, "disk-size": "2048", "memory-size": 4096,
                "nic-count": 8, "spindle-use": 12}}]}),
            ),
            false,
        )
        .unwrap();
        assert_eq!(new["minmax"][0]["max"]["disk-size"], json!(2048));
        // min > max
        let e = update_ipolicy(
            &cluster,
            &d(json!({"minmax": [{"min": cluster["minmax"][0]["max"], "max": cluster["minmax"][0]["min"]}]})),
            false,
        )
        .unwrap_err();
        assert!(e.message().starts_with("Invalid instance policy: Invalid specification of min/max values for cpu-count: 8/1"), "{e}");
        // std outside the range
        let e = update_ipolicy(&cluster, &d(json!({"std": {"memory-size": 65536}})), false)
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid instance policy: Invalid std specifications"
        );
        // unknown key, cluster unset, bad ratio
        assert_eq!(
            update_ipolicy(&cluster, &d(json!({"frob": 1})), false)
                .unwrap_err()
                .message(),
            "Invalid key in new ipolicy: frob"
        );
        assert_eq!(
            update_ipolicy(&cluster, &d(json!({"vcpu-ratio": "default"})), false)
                .unwrap_err()
                .message(),
            "Can't unset ipolicy attribute 'vcpu-ratio' on the cluster'"
        );
        assert_eq!(
            update_ipolicy(&cluster, &d(json!({"vcpu-ratio": "abc"})), false).unwrap_err().message(),
            "Invalid value for attribute 'vcpu-ratio': 'abc', error: could not convert string to float: 'abc'"
        );
        let ok = update_ipolicy(&cluster, &d(json!({"vcpu-ratio": "2.5"})), false).unwrap();
        assert_eq!(ok["vcpu-ratio"], json!(2.5));
        // groups may unset, but not set std
        let g = update_ipolicy(
            &d(json!({"vcpu-ratio": 2.0})),
            &d(json!({"vcpu-ratio": "default"})),
            true,
        )
        .unwrap();
        assert!(g.is_empty());
        assert_eq!(
            update_ipolicy(&Dict::new(), &d(json!({"std": {"cpu-count": 1}})), true)
                .unwrap_err()
                .message(),
            "std cannot appear in group instance specs"
        );
        // disk templates: unknown ones are refused
        let e = update_ipolicy(
            &cluster,
            &d(json!({"disk-templates": ["file", "frob"]})),
            false,
        )
        .unwrap_err();
        assert_eq!(
            e.message(),
            "Invalid instance policy: Invalid disk template(s) frob"
        );
    }

    #[test]
    fn ipolicy_incomplete_spec_refused() {
        let mut ip = constants::ipolicy_defaults();
        ip.insert(
            "minmax".into(),
            json!([{"min": {"cpu-count": 1}, "max": ip["minmax"][0]["max"]}]),
        );
        let e = check_ipolicy_syntax(&ip, true).unwrap_err();
        assert_eq!(
            e,
            "Missing instance specs parameters for min: disk-count, disk-size, memory-size, nic-count, spindle-use"
        );
        assert_eq!(
            check_ipolicy_syntax(&constants::ipolicy_defaults(), true),
            Ok(())
        );
    }

    #[test]
    fn fill_ipolicy_merges_std_only() {
        let cl = constants::ipolicy_defaults();
        let g = d(json!({"vcpu-ratio": 2.0, "std": {"cpu-count": 2}}));
        let f = fill_ipolicy(&cl, &g);
        assert_eq!(f["vcpu-ratio"], json!(2.0));
        assert_eq!(f["std"]["cpu-count"], json!(2));
        assert_eq!(f["std"]["memory-size"], json!(128));
        assert_eq!(f["minmax"], cl["minmax"]);
    }

    #[test]
    fn ipolicy_vs_templates() {
        let ip = d(json!({"disk-templates": ["file", "plain"]}));
        let e = check_ipolicy_vs_templates(&ip, &["file".to_string()]).unwrap_err();
        assert_eq!(
            e.message(),
            "The following disk templates are allowed by the ipolicy, but not enabled on the cluster: plain"
        );
        assert!(check_ipolicy_vs_templates(&ip, &["plain".into(), "file".into()]).is_ok());
    }

    #[test]
    fn diskparams_checked() {
        let ok = check_diskparams(&d(json!({"drbd": {"resync-rate": "100"}}))).unwrap();
        assert_eq!(ok["drbd"]["resync-rate"], json!(100));
        let e = check_diskparams(&d(json!({"drbd": {"frob": 1}}))).unwrap_err();
        assert_eq!(e.message(), "Unknown parameter 'frob'");
        let e = check_diskparams(&d(json!({"file": {"stripes": 2}}))).unwrap_err();
        assert_eq!(
            e.message(),
            "While verify diskparams options: Provided option keys not supported: file/stripes"
        );
        let e = check_diskparams(&d(json!({"rbd": {"access": "nfs"}}))).unwrap_err();
        assert_eq!(
            e.message(),
            "While verify diskparams options: Invalid value of 'rbd:access': 'nfs' (expected one of kernelspace, userspace)"
        );
    }

    #[test]
    fn hv_and_disk_state() {
        let hv = merge_hv_state(&d(json!({"fake": {"mem_total": "1024"}})), &Dict::new()).unwrap();
        assert_eq!(hv["fake"]["mem_total"], json!(1024));
        assert_eq!(
            merge_hv_state(&d(json!({"frob": {}})), &Dict::new())
                .unwrap_err()
                .message(),
            "Invalid hypervisor(s) in hypervisor state: frob"
        );
        assert_eq!(
            merge_hv_state(&d(json!({"fake": {"x": 1}})), &Dict::new())
                .unwrap_err()
                .message(),
            "Unknown parameter 'x'"
        );
        let ds = merge_disk_state(
            &d(json!({"plain": {"xenvg": {"disk_total": 10}}})),
            &Dict::new(),
        )
        .unwrap();
        assert_eq!(ds["plain"]["xenvg"]["disk_total"], json!(10));
        assert_eq!(
            merge_disk_state(&d(json!({"file": {}})), &Dict::new())
                .unwrap_err()
                .message(),
            "Invalid storage type(s) in disk state: file"
        );
    }

    #[test]
    fn hvparams_of_fake_and_kvm() {
        assert!(check_hvparams("fake", &d(json!({"migration_mode": "non-live"}))).is_ok());
        let e = check_hvparams("fake", &d(json!({"kernel_path": "/x"}))).unwrap_err();
        assert_eq!(e.message(), "Parameter 'kernel_path' is not supported");
        assert_eq!(e.class_name(), "HypervisorError");
        // kvm: partial dicts are type-checked and coerced here; the syntax
        // rules apply to the filled dict (hvparams::check_syntax)
        let kvm = check_hvparams("kvm", &d(json!({"serial_speed": "9600", "acpi": "no"}))).unwrap();
        assert_eq!(kvm, d(json!({"serial_speed": 9600, "acpi": false})));
        let e = check_hvparams("kvm", &d(json!({"serial_speed": "fast"}))).unwrap_err();
        assert_eq!(
            e.message(),
            "'serial_speed' (value fast) is not a valid integer"
        );
        let e = check_hvparams("xen-pvm", &Dict::new()).unwrap_err();
        assert!(
            e.message()
                .starts_with("Hypervisor 'xen-pvm' is not supported"),
            "{e}"
        );
        assert_eq!(
            check_hvparams("frob", &Dict::new()).unwrap_err().message(),
            "Unknown hypervisor type 'frob'"
        );
    }

    #[test]
    fn helpers() {
        assert!(is_uuid_like("22222222-2222-2222-2222-22222222abcd"));
        assert!(!is_uuid_like("default"));
        assert_eq!(py_str(&json!([1, "a"])), "[1, 'a']");
        assert_eq!(
            nice_sorted(vec!["n10".into(), "n2".into()]),
            vec!["n2", "n10"]
        );
        assert!(is_falsy(&json!([])) && is_falsy(&json!(0)) && !is_falsy(&json!("x")));
        assert_eq!(
            check_nic_syntax(&d(json!({"mode": "bridged", "link": ""}))),
            Err("Missing bridged NIC link".into())
        );
        assert_eq!(
            check_nic_syntax(&d(json!({"mode": "frob", "link": "x"}))),
            Err("Invalid NIC mode 'frob'".into())
        );
        let cfg = testcfg::config();
        assert_eq!(master_candidate_stats(&cfg, &[]), (1, 1, 1));
        assert_eq!(master_candidate_stats(&cfg, &[testcfg::NODE]), (0, 0, 0));
    }
}
