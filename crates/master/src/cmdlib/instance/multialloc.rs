//! OP_INSTANCE_MULTI_ALLOC: allocate several instances in one request
//! (RAPI `/2/instances-multi-alloc`, `gnt-instance batch-create`).
//!
//! As in Ganeti, this opcode creates nothing itself: it checks the request
//! as a whole, then submits one OP_INSTANCE_CREATE job per instance and
//! answers Ganeti's `ResultWithJobs` shape, `{"jobs": [[true, id], ...],
//! "allocatable": [names], "failed": []}`; clients follow those jobs.
//!
//! Each instance is a complete OP_INSTANCE_CREATE opcode dict, `OP_ID`
//! included (Ganeti loads them with `LoadOpCode`). Ganeti validates them
//! only when the job runs; here each is validated and checked like a create
//! job of its own when the request is submitted (its OS parameters by the
//! OS too), so one bad instance refuses the whole request before anything
//! is queued. The create jobs are checked again when they are submitted.
//!
//! Secret OS parameters of the instances (`osparams_secret`) are not in
//! the stored opcode; the master holds them in memory (`jobs::secrets`)
//! and they are put back into the create opcodes only as these are
//! submitted, where they are taken out again for the create jobs.
//!
//! Without an allocator every instance must name its primary node. With one
//! (given, or the cluster default when no instance names a node) the job
//! fails the way Ganeti fails when the allocator cannot be run: instance
//! allocators are not part of this release.

use ganeti_types::{Dict, GanetiError};
use serde_json::{json, Value};

use super::{common, create};
use crate::cmdlib::cluster::checks::submit_jobs;
use crate::cmdlib::util::{bool_param, str_param};
use crate::cmdlib::OpCtx;
use crate::jobs::locks::{Level, LockReq};
use crate::jobs::secrets;
use crate::Master;

const CREATE: &str = "OP_INSTANCE_CREATE";

/// One instance of the request: as given, and validated with defaults.
struct Item {
    given: Dict,
    filled: Dict,
}

impl Item {
    fn name(&self) -> &str {
        str_param(&self.filled, "instance_name").unwrap_or_default()
    }
    fn node(&self, key: &str) -> Option<&str> {
        str_param(&self.filled, key).filter(|s| !s.is_empty())
    }
}

/// A checked request: its instances and the allocator to use, if any.
struct Request {
    items: Vec<Item>,
    allocator: Option<String>,
}

/// One instance of the request; `check` runs the create opcode's
/// submission checks on it.
fn parse_item(m: &Master, idx: usize, v: &Value, check: bool) -> Result<Item, GanetiError> {
    let given = v.as_object().cloned().ok_or_else(|| {
        GanetiError::wrong_input(format!(
            "Instance {idx} of the request is not an opcode dictionary"
        ))
    })?;
    let filled = ganeti_opschema::validate_and_fill(&given)
        .map_err(|e| GanetiError::wrong_input(e.to_string()))?;
    let op_id = str_param(&filled, "OP_ID").unwrap_or_default();
    if op_id != CREATE {
        return Err(GanetiError::wrong_input(format!(
            "Instance {idx} of the request is an {op_id} opcode, not an {CREATE}"
        )));
    }
    if check {
        create::check(m, &filled)?;
    }
    Ok(Item { given, filled })
}

/// Ganeti's `CheckArguments`, after each instance is checked on its own
/// (with `check`; without, only its opcode's shape).
fn parse(m: &Master, op: &Dict, check: bool) -> Result<Request, GanetiError> {
    let items = op
        .get("instances")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, v)| parse_item(m, i, v, check))
        .collect::<Result<Vec<_>, _>>()?;
    let mut has_nodes = Vec::new();
    for it in &items {
        if it.node("iallocator").is_some() {
            return Err(GanetiError::wrong_input(
                "iallocator are not allowed to be set on instance objects",
            ));
        }
        has_nodes.push(it.node("pnode").is_some());
        if str_param(&it.filled, "disk_template") == Some("drbd") {
            has_nodes.push(it.node("snode").is_some());
        }
    }
    let any = has_nodes.iter().any(|b| *b);
    if has_nodes.iter().all(|b| *b) != any {
        return Err(GanetiError::wrong_input(
            "There are instance objects providing pnode/snode while others do not",
        ));
    }
    let mut allocator = str_param(op, "iallocator")
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if !any && allocator.is_none() {
        let default = m.with_config(|c| c.cluster.default_iallocator.clone())?;
        if default.is_empty() {
            return Err(GanetiError::wrong_input(
                "No iallocator or nodes on the instances given and no cluster-wide default iallocator found; please specify either an iallocator or nodes on the instances or set a cluster-wide default iallocator",
            ));
        }
        allocator = Some(default);
    }
    if bool_param(op, "opportunistic_locking") && allocator.is_none() {
        return Err(GanetiError::wrong_input(
            "Opportunistic locking is only available in combination with an instance allocator",
        ));
    }
    let mut dups: Vec<&str> = items
        .iter()
        .map(Item::name)
        .filter(|n| items.iter().filter(|it| it.name() == *n).count() > 1)
        .collect();
    dups.sort_unstable();
    dups.dedup();
    if !dups.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "There are duplicate instance names: {}",
            dups.join(", ")
        )));
    }
    Ok(Request { items, allocator })
}

/// Submission-time checks.
pub fn check(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    parse(m, op, true).map(|_| ())
}

/// The named nodes, shared (Ganeti locks node and node-resource levels
/// shared); every node with an allocator.
pub fn locks(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    // the stored opcode (secrets redacted): its shape only
    let req = parse(m, op, false)?;
    let mut l = vec![LockReq::bgl_shared()];
    if req.allocator.is_some() {
        l.push(LockReq::all(Level::Node, false));
        return Ok(l);
    }
    for it in &req.items {
        for key in ["pnode", "snode"] {
            if let Some(name) = it.node(key) {
                let uuid = m.with_config(|c| c.expand_node(name).map(|n| n.uuid.clone()))??;
                let lock = LockReq::shared(Level::Node, uuid);
                if !l.contains(&lock) {
                    l.push(lock);
                }
            }
        }
    }
    Ok(l)
}

pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let mut op = ctx.op().clone();
    // in memory only; the create jobs take them out again when submitted
    secrets::restore_nested(&mut op, &ctx.take_secrets().nested);
    // each create opcode is checked as it is submitted as a job
    let req = parse(ctx.master, &op, false)?;
    if let Some(name) = &req.allocator {
        return Err(common::iallocator_unavailable(name));
    }
    let cfg = ctx.config()?;
    let mut jobs = Vec::with_capacity(req.items.len());
    for it in &req.items {
        // Ganeti's ExpandNames: the child opcode carries full names and uuids
        let mut child = it.given.clone();
        for (key, uuid_key) in [("pnode", "pnode_uuid"), ("snode", "snode_uuid")] {
            if let Some(name) = it.node(key) {
                let node = cfg.expand_node(name)?;
                child.insert(key.into(), json!(node.name));
                child.insert(uuid_key.into(), json!(node.uuid));
            }
        }
        jobs.push(vec![Value::Object(child)]);
    }
    let names: Vec<&str> = req.items.iter().map(Item::name).collect();
    let mut result = json!({"allocatable": names, "failed": []});
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        result["jobs"] = json!([]);
        return Ok(result);
    }
    let submitted = submit_jobs(ctx, jobs)?;
    result["jobs"] = submitted["jobs"].clone();
    Ok(result)
}
