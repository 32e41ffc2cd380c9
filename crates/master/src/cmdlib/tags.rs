//! Tag opcodes: get, set, delete and search the tags of the cluster, nodes,
//! instances, node groups and networks.
//!
//! Tags live in each object as a set (kept sorted here so that exported
//! configs and listings are stable). Validity is checked at submission
//! (Ganeti's `TaggableObject.ValidateTag`, a `TagError`), the object is
//! looked up while computing the locks (so an unknown object fails the job
//! with Ganeti's "not known" error) and the change is computed by a pure
//! planner, re-planned if another job changed the same object meanwhile.

use ganeti_types::{ConfigData, Dict, GanetiError};
use regex::Regex;
use serde_json::{json, Value};

use super::cluster::checks::{run_planned, touch, Outcome};
use super::util::{req_str, str_list, str_param};
use super::{OpCtx, OpImpl};
use crate::jobs::locks::{Level, LockReq};
use crate::state::ConfigOp;
use crate::Master;

pub(super) const OPS: &[OpImpl] = &[
    OpImpl {
        op_id: "OP_TAGS_GET",
        locks: locks_get,
        check: check_get,
        exec: exec_get,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_TAGS_SET",
        locks: locks_modify,
        check: check_modify,
        exec: exec_set,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_TAGS_DEL",
        locks: locks_modify,
        check: check_modify,
        exec: exec_del,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_TAGS_SEARCH",
        locks: locks_search,
        check: check_search,
        exec: exec_search,
        hooks: None,
    },
];

/// Longest tag Ganeti accepts.
pub(crate) const MAX_TAG_LEN: usize = 128;
/// Most tags one object may carry.
pub(crate) const MAX_TAGS_PER_OBJ: usize = 4096;

/// Ganeti's `TaggableObject.ValidateTag` (errors are `TagError`s).
pub(crate) fn validate_tag(tag: &str) -> Result<(), GanetiError> {
    if tag.chars().count() > MAX_TAG_LEN {
        return Err(GanetiError::Tag(format!(
            "Tag too long (>{MAX_TAG_LEN} characters)"
        )));
    }
    if tag.is_empty() {
        return Err(GanetiError::Tag("Tags cannot be empty".into()));
    }
    let ok = tag.chars().all(|c| {
        c.is_alphanumeric() || c == '_' || matches!(c, '.' | '+' | '*' | '/' | ':' | '@' | '-')
    });
    if !ok {
        return Err(GanetiError::Tag("Tag contains invalid characters".into()));
    }
    Ok(())
}

/// The tags of an opcode, each validated; a non-string is Ganeti's
/// "Invalid tag type (not a string)".
fn op_tags(op: &Dict) -> Result<Vec<String>, GanetiError> {
    let list = op
        .get("tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::with_capacity(list.len());
    for t in list {
        let Some(s) = t.as_str() else {
            return Err(GanetiError::Tag("Invalid tag type (not a string)".into()));
        };
        validate_tag(s)?;
        out.push(s.to_string());
    }
    Ok(out)
}

/// The object a tag opcode is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Cluster,
    /// uuid
    Node(String),
    /// uuid
    Instance(String),
    /// uuid
    Group(String),
    /// uuid
    Network(String),
}

fn resolve(cfg: &ConfigData, op: &Dict) -> Result<Target, GanetiError> {
    let kind = req_str(op, "kind")?;
    let name = str_param(op, "name").unwrap_or("");
    Ok(match kind {
        "cluster" => Target::Cluster,
        "node" => Target::Node(cfg.expand_node(name)?.uuid.clone()),
        "instance" => Target::Instance(cfg.expand_instance(name)?.uuid.clone()),
        "nodegroup" => Target::Group(cfg.lookup_group(name)?.uuid.clone()),
        "network" => Target::Network(cfg.lookup_network(name)?.uuid.clone()),
        other => {
            return Err(GanetiError::wrong_input(format!(
                "Wrong tag type requested ({other})"
            )))
        }
    })
}

fn target_lock(cfg: &ConfigData, t: &Target, exclusive: bool) -> Option<LockReq> {
    let mk = |level, name: String| {
        if exclusive {
            LockReq::exclusive(level, name)
        } else {
            LockReq::shared(level, name)
        }
    };
    match t {
        Target::Cluster => None,
        Target::Node(u) => Some(mk(Level::Node, u.clone())),
        Target::Instance(u) => cfg
            .instances
            .get(u)
            .map(|i| mk(Level::Instance, i.name.clone())),
        Target::Group(u) => Some(mk(Level::NodeGroup, u.clone())),
        Target::Network(u) => Some(mk(Level::Network, u.clone())),
    }
}

fn current_tags<'a>(cfg: &'a ConfigData, t: &Target) -> Result<&'a Vec<String>, GanetiError> {
    let gone = || GanetiError::exec("The tagged object disappeared from the configuration");
    Ok(match t {
        Target::Cluster => &cfg.cluster.tags,
        Target::Node(u) => &cfg.nodes.get(u).ok_or_else(gone)?.tags,
        Target::Instance(u) => &cfg.instances.get(u).ok_or_else(gone)?.tags,
        Target::Group(u) => &cfg.nodegroups.get(u).ok_or_else(gone)?.tags,
        Target::Network(u) => &cfg.networks.get(u).ok_or_else(gone)?.tags,
    })
}

/// The delta writing a new tag list back into the object.
fn put_tags(cfg: &ConfigData, t: &Target, tags: Vec<String>) -> Result<ConfigOp, GanetiError> {
    let gone = || GanetiError::exec("The tagged object disappeared from the configuration");
    Ok(match t {
        Target::Cluster => {
            let mut c = cfg.cluster.clone();
            c.tags = tags;
            touch!(c);
            ConfigOp::PutCluster(Box::new(c))
        }
        Target::Node(u) => {
            let mut n = cfg.nodes.get(u).ok_or_else(gone)?.clone();
            n.tags = tags;
            touch!(n);
            ConfigOp::PutNode(Box::new(n))
        }
        Target::Instance(u) => {
            let mut i = cfg.instances.get(u).ok_or_else(gone)?.clone();
            i.tags = tags;
            touch!(i);
            ConfigOp::PutInstance(Box::new(i))
        }
        Target::Group(u) => {
            let mut g = cfg.nodegroups.get(u).ok_or_else(gone)?.clone();
            g.tags = tags;
            touch!(g);
            ConfigOp::PutGroup(Box::new(g))
        }
        Target::Network(u) => {
            let mut n = cfg.networks.get(u).ok_or_else(gone)?.clone();
            n.tags = tags;
            touch!(n);
            ConfigOp::PutNetwork(Box::new(n))
        }
    })
}

// --- OP_TAGS_GET -------------------------------------------------------------

fn check_get(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    req_str(op, "kind").map(|_| ())
}

fn locks_get(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let mut reqs = vec![LockReq::bgl_shared()];
    let use_locking = op
        .get("use_locking")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    m.with_config(|cfg| -> Result<(), GanetiError> {
        let t = resolve(cfg, op)?;
        if use_locking {
            reqs.extend(target_lock(cfg, &t, false));
        }
        Ok(())
    })??;
    Ok(reqs)
}

fn exec_get(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let t = resolve(&cfg, &op)?;
    Ok(json!(current_tags(&cfg, &t)?))
}

// --- OP_TAGS_SET / OP_TAGS_DEL ---------------------------------------------------

fn check_modify(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    req_str(op, "kind")?;
    op_tags(op).map(|_| ())
}

fn locks_modify(m: &Master, op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    let mut reqs = vec![LockReq::bgl_shared()];
    m.with_config(|cfg| -> Result<(), GanetiError> {
        let t = resolve(cfg, op)?;
        reqs.extend(target_lock(cfg, &t, true));
        Ok(())
    })??;
    Ok(reqs)
}

/// Plan adding tags (Ganeti's `LUTagsSet`).
fn plan_set(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    let t = resolve(cfg, op)?;
    let new = op_tags(op)?;
    let mut tags = current_tags(cfg, &t)?.clone();
    for tag in new {
        if tags.contains(&tag) {
            continue;
        }
        if tags.len() >= MAX_TAGS_PER_OBJ {
            return Err(GanetiError::exec("Error while setting tag: Too many tags"));
        }
        tags.push(tag);
    }
    tags.sort();
    let mut out = Outcome::default();
    out.ops.push(put_tags(cfg, &t, tags)?);
    Ok(out)
}

/// Plan removing tags (Ganeti's `LUTagsDel`).
fn plan_del(cfg: &ConfigData, op: &Dict) -> Result<Outcome, GanetiError> {
    let t = resolve(cfg, op)?;
    let del = op_tags(op)?;
    let cur = current_tags(cfg, &t)?;
    let mut missing: Vec<&String> = del.iter().filter(|d| !cur.contains(d)).collect();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|m| format!("'{m}'")).collect();
        return Err(GanetiError::noent(format!(
            "Tag(s) {} not found",
            names.join(", ")
        )));
    }
    let tags: Vec<String> = cur.iter().filter(|c| !del.contains(c)).cloned().collect();
    let mut out = Outcome::default();
    out.ops.push(put_tags(cfg, &t, tags)?);
    Ok(out)
}

fn exec_set(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_set(cfg, &op))
}

fn exec_del(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    run_planned(ctx, |cfg| plan_del(cfg, &op))
}

// --- OP_TAGS_SEARCH --------------------------------------------------------------

fn compile(op: &Dict) -> Result<Regex, GanetiError> {
    let pattern = req_str(op, "pattern")?;
    Regex::new(pattern)
        .map_err(|e| GanetiError::wrong_input(format!("Invalid search pattern '{pattern}': {e}")))
}

fn check_search(_m: &Master, op: &Dict) -> Result<(), GanetiError> {
    compile(op).map(|_| ())
}

fn locks_search(_m: &Master, _op: &Dict) -> Result<Vec<LockReq>, GanetiError> {
    Ok(vec![LockReq::bgl_shared()])
}

/// Every `[path, tag]` whose tag matches, in Ganeti's order: the cluster,
/// then instances, nodes, node groups and networks (paths `/cluster`,
/// `/instances/NAME`, `/nodes/NAME`, `/nodegroup/NAME`, `/network/NAME`).
fn search(cfg: &ConfigData, re: &Regex) -> Vec<Value> {
    let mut targets: Vec<(String, &Vec<String>)> = vec![("/cluster".into(), &cfg.cluster.tags)];
    let mut insts: Vec<_> = cfg
        .instances
        .values()
        .map(|i| (i.name.as_str(), &i.tags))
        .collect();
    insts.sort_by(|a, b| ganeti_query::nice_cmp(a.0, b.0));
    targets.extend(
        insts
            .into_iter()
            .map(|(n, t)| (format!("/instances/{n}"), t)),
    );
    let mut nodes: Vec<_> = cfg
        .nodes
        .values()
        .map(|i| (i.name.as_str(), &i.tags))
        .collect();
    nodes.sort_by(|a, b| ganeti_query::nice_cmp(a.0, b.0));
    targets.extend(nodes.into_iter().map(|(n, t)| (format!("/nodes/{n}"), t)));
    let mut groups: Vec<_> = cfg
        .nodegroups
        .values()
        .map(|i| (i.name.as_str(), &i.tags))
        .collect();
    groups.sort_by(|a, b| ganeti_query::nice_cmp(a.0, b.0));
    targets.extend(
        groups
            .into_iter()
            .map(|(n, t)| (format!("/nodegroup/{n}"), t)),
    );
    let mut nets: Vec<_> = cfg
        .networks
        .values()
        .map(|i| (i.name.as_str(), &i.tags))
        .collect();
    nets.sort_by(|a, b| ganeti_query::nice_cmp(a.0, b.0));
    targets.extend(nets.into_iter().map(|(n, t)| (format!("/network/{n}"), t)));

    let mut out = Vec::new();
    for (path, tags) in targets {
        let mut sorted: Vec<&String> = tags.iter().collect();
        sorted.sort();
        for tag in sorted {
            if re.is_match(tag) {
                out.push(json!([path, tag]));
            }
        }
    }
    out
}

fn exec_search(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let re = compile(ctx.op())?;
    let cfg = ctx.config()?;
    Ok(Value::Array(search(&cfg, &re)))
}

/// Tags given to a new object (network add): validated, de-duplicated, sorted.
pub(crate) fn new_object_tags(op: &Dict) -> Result<Vec<String>, GanetiError> {
    let mut tags = Vec::new();
    for t in str_list(op, "tags") {
        validate_tag(&t)?;
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > MAX_TAGS_PER_OBJ {
        return Err(GanetiError::exec("Error while setting tag: Too many tags"));
    }
    tags.sort();
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::super::cluster::checks::testcfg;
    use super::*;
    use ganeti_types::ErrorClass;

    fn op(v: Value) -> Dict {
        v.as_object().cloned().unwrap()
    }

    fn apply(cfg: &mut ConfigData, out: &Outcome) {
        testcfg::apply(cfg, &out.ops);
    }

    #[test]
    fn tag_validation_matches_ganeti() {
        assert!(validate_tag("itag:with:colons").is_ok());
        assert!(validate_tag("a.b+c*d/e@f-g_h").is_ok());
        assert!(validate_tag("ünïcode").is_ok());
        let e = validate_tag("bad tag").unwrap_err();
        assert_eq!(e.class_name(), "TagError");
        assert_eq!(e.message(), "Tag contains invalid characters");
        assert_eq!(
            validate_tag("").unwrap_err().message(),
            "Tags cannot be empty"
        );
        assert_eq!(
            validate_tag(&"x".repeat(129)).unwrap_err().message(),
            "Tag too long (>128 characters)"
        );
        assert!(validate_tag(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn set_get_delete_cluster_tags() {
        let mut cfg = testcfg::config();
        let out = plan_set(
            &cfg,
            &op(json!({"kind": "cluster", "tags": ["ctag2", "ctag1", "ctag1"]})),
        )
        .unwrap();
        apply(&mut cfg, &out);
        assert_eq!(cfg.cluster.tags, vec!["ctag1", "ctag2"]);
        assert_eq!(cfg.cluster.serial_no, 2);
        let out = plan_del(&cfg, &op(json!({"kind": "cluster", "tags": ["ctag2"]}))).unwrap();
        apply(&mut cfg, &out);
        assert_eq!(cfg.cluster.tags, vec!["ctag1"]);
        let e = plan_del(
            &cfg,
            &op(json!({"kind": "cluster", "tags": ["nosuchtag", "ctag1", "a"]})),
        )
        .unwrap_err();
        assert_eq!(e.message(), "Tag(s) 'a', 'nosuchtag' not found");
        assert_eq!(e.error_class(), Some(ErrorClass::NoEnt));
    }

    #[test]
    fn instance_and_node_tags_and_unknown_objects() {
        let mut cfg = testcfg::config();
        testcfg::add_instance(&mut cfg, "inst1.example.com", None, None, false);
        let out = plan_set(
            &cfg,
            &op(json!({"kind": "instance", "name": "inst1", "tags": ["itag1"]})),
        )
        .unwrap();
        apply(&mut cfg, &out);
        assert_eq!(
            cfg.instance_by_name("inst1.example.com").unwrap().tags,
            vec!["itag1"]
        );
        let out = plan_set(
            &cfg,
            &op(json!({"kind": "node", "name": "node1.example.com", "tags": ["n"]})),
        )
        .unwrap();
        apply(&mut cfg, &out);
        let out = plan_set(
            &cfg,
            &op(json!({"kind": "nodegroup", "name": "default", "tags": ["g"]})),
        )
        .unwrap();
        apply(&mut cfg, &out);
        let e = plan_set(
            &cfg,
            &op(json!({"kind": "instance", "name": "inst99", "tags": ["x"]})),
        )
        .unwrap_err();
        assert_eq!(e.message(), "Instance 'inst99' not known");
        let e = plan_set(
            &cfg,
            &op(json!({"kind": "network", "name": "nonet", "tags": ["x"]})),
        )
        .unwrap_err();
        assert_eq!(e.error_class(), Some(ErrorClass::NoEnt));
        let e = plan_set(
            &cfg,
            &op(json!({"kind": "instance", "name": "inst1", "tags": ["bad tag"]})),
        )
        .unwrap_err();
        assert_eq!(e.class_name(), "TagError");

        let re = Regex::new("tag|^n$|^g$").unwrap();
        assert_eq!(
            search(&cfg, &re),
            vec![
                json!(["/instances/inst1.example.com", "itag1"]),
                json!(["/nodes/node1.example.com", "n"]),
                json!(["/nodegroup/default", "g"]),
            ]
        );
    }

    #[test]
    fn too_many_tags_is_an_exec_error() {
        let mut cfg = testcfg::config();
        cfg.cluster.tags = (0..MAX_TAGS_PER_OBJ).map(|i| format!("t{i}")).collect();
        let e = plan_set(&cfg, &op(json!({"kind": "cluster", "tags": ["one-more"]}))).unwrap_err();
        assert_eq!(e.class_name(), "OpExecError");
        assert_eq!(e.message(), "Error while setting tag: Too many tags");
        // re-adding an existing tag is fine
        assert!(plan_set(&cfg, &op(json!({"kind": "cluster", "tags": ["t1"]}))).is_ok());
    }

    #[test]
    fn bad_search_pattern() {
        let e = compile(&op(json!({"pattern": "("}))).unwrap_err();
        assert!(
            e.message().starts_with("Invalid search pattern '(':"),
            "{e}"
        );
    }
}
