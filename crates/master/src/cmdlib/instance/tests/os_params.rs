//! OS parameters checked by the OS (`parameters.list`, verify script of
//! the test OS from `install_test_os`) for instance modify, cluster
//! modify (`gnt-os modify`) and multi-allocation, and secret parameters
//! of multi-allocated instances reaching their create scripts only.

use serde_json::{json, Value};

use super::{op, script_env, Env, I1, NODE_NAME};
use ganeti_types::{AdminState, Dict, GanetiError};

fn os_dir(env: &Env, os: &str) -> std::path::PathBuf {
    env._dir.path().join("srv/ganeti/os").join(os)
}

fn jobs_count(env: &Env) -> usize {
    env.m.store.read(|s| s.jobs.len())
}

/// Every stored job, serialised.
fn stored_jobs(env: &Env) -> String {
    env.m.store.read(|s| {
        s.jobs
            .values()
            .map(|j| serde_json::to_string(j).unwrap())
            .collect::<String>()
    })
}

/// Submit `op`; it must be refused at submission (nothing queued).
#[track_caller]
fn refused_at_submit(env: &Env, op: Value) -> GanetiError {
    let before = jobs_count(env);
    let cfg = env.cfg();
    let e = env.m.submit_job(&[op], false).unwrap_err();
    assert_eq!(jobs_count(env), before, "a refused job was queued");
    assert_eq!(env.cfg().serial_no, cfg.serial_no, "the config changed");
    e
}

fn modify(extra: Value) -> Value {
    let mut o = op("OP_INSTANCE_SET_PARAMS", I1, extra);
    o["ignore_ipolicy"] = json!(true);
    o
}

fn cluster_modify(extra: Value) -> Value {
    let mut o = json!({"OP_ID": "OP_CLUSTER_SET_PARAMS"});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

fn dict(v: Value) -> Dict {
    v.as_object().cloned().unwrap()
}

// ---------------------------------------------------------------------------
// OP_INSTANCE_SET_PARAMS

#[test]
fn modify_checks_os_parameters_when_submitted() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    // refused by the verify script, which saw the value
    let e = refused_at_submit(&env, modify(json!({"osparams": {"size": "bad"}})));
    assert_eq!(e.class_name(), "OpExecError");
    assert!(
        e.message().starts_with(&format!(
            "OS Parameters validation failed on node {NODE_NAME}: OS validation script failed ("
        )),
        "{e}"
    );
    assert!(e.message().contains("size is bad"), "{e}");
    assert_eq!(
        script_env(&os_dir(&env, "noop"), "verify").unwrap()["OSP_SIZE"],
        "bad"
    );
    // not in parameters.list, public or private
    for key in ["osparams", "osparams_private"] {
        let e = refused_at_submit(&env, modify(json!({key: {"colour": "red"}})));
        assert_eq!(
            e.message(),
            format!(
                "OS Parameters validation failed on node {NODE_NAME}: The following parameters are not supported by the OS noop: colour"
            )
        );
    }
    // the same key public and private
    let e = refused_at_submit(
        &env,
        modify(json!({"osparams": {"b": "1", "a": "1"}, "osparams_private": {"a": "2", "b": "3"}})),
    );
    assert_eq!(e.message(), "OS parameters repeated multiple times: a, b");
    assert_eq!(e.class_name(), "OpPrereqError");
    assert_eq!(env.inst(I1).osparams, Dict::new());
}

#[test]
fn modify_checks_the_parameters_the_scripts_will_see() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    env.ok(cluster_modify(
        json!({"osparams": {"noop": {"c": "cluster"}}}),
    ));
    env.ok(modify(json!({"osparams": {"a": "1", "b": "2"}})));
    // the verify script gets cluster < instance < change, private included
    env.ok(modify(
        json!({"osparams": {"a": "default"}, "osparams_private": {"p": "private-value"}}),
    ));
    let seen = script_env(&os_dir(&env, "noop"), "verify").unwrap();
    assert_eq!(seen["OSP_C"], "cluster");
    assert_eq!(seen["OSP_B"], "2");
    assert_eq!(seen["OSP_P"], "private-value");
    assert!(!seen.contains_key("OSP_A"), "{seen:?}");
    let inst = env.inst(I1);
    assert_eq!(inst.osparams, dict(json!({"b": "2"})));
    assert_eq!(inst.osparams_private, dict(json!({"p": "private-value"})));
    // a stored parameter the OS no longer accepts refuses the next change
    std::fs::write(os_dir(&env, "noop").join("parameters.list"), "a\nb\nc\n").unwrap();
    let e = refused_at_submit(&env, modify(json!({"osparams": {"a": "3"}})));
    assert!(
        e.message()
            .ends_with("The following parameters are not supported by the OS noop: p"),
        "{e}"
    );
}

#[test]
fn modify_results_name_private_parameters_without_their_values() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    let r = env.ok(modify(
        json!({"osparams": {"size": "10"}, "osparams_private": {"root-pw": "hunter2"}}),
    ));
    assert_eq!(
        r.result,
        json!([
            ["os/size", "10"],
            ["os_private/root-pw", "Private(?, descr='root-pw')"]
        ])
    );
    assert!(!r.result.to_string().contains("hunter2"));
    let r = env.ok(modify(json!({"osparams_private": {"root-pw": "default"}})));
    assert_eq!(
        r.result,
        json!([["os_private/root-pw", "Private(?, descr='root-pw')"]])
    );
    assert!(env.inst(I1).osparams_private.is_empty());
    assert_eq!(env.inst(I1).osparams, dict(json!({"size": "10"})));
}

#[test]
fn modify_os_name_is_checked_unless_forced() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), true);
    env.ok(modify(json!({"osparams": {"size": "10"}})));
    // an OS the node does not have
    let e = refused_at_submit(&env, modify(json!({"os_name": "frobos"})));
    assert_eq!(e.class_name(), "OpExecError");
    assert_eq!(
        e.message(),
        format!(
            "OS Parameters validation failed on node {NODE_NAME}: Directory for OS frobos not found in search path"
        )
    );
    // the instance's parameters are checked by the new OS
    std::fs::write(os_dir(&env, "other").join("parameters.list"), "a\n").unwrap();
    let e = refused_at_submit(&env, modify(json!({"os_name": "other"})));
    assert!(
        e.message()
            .ends_with("The following parameters are not supported by the OS other: size"),
        "{e}"
    );
    // variants
    let e = refused_at_submit(&env, modify(json!({"os_name": "noop+v1"})));
    assert!(
        e.message()
            .ends_with("OS 'noop' does not support variants ('v1' passed)"),
        "{e}"
    );
    env.ok(modify(json!({"os_name": "noop+v1", "force_variant": true})));
    assert_eq!(env.inst(I1).os, "noop+v1");
    // changed while the instance is up, with no line of its own (Ganeti)
    let r = env.ok(modify(json!({"os_name": "noop"})));
    assert_eq!(r.result, json!([]));
    assert_eq!(env.inst(I1).os, "noop");
    assert_eq!(env.inst(I1).admin_state, AdminState::Up);
    // forced: recorded unchecked; parameters then checked by the current OS
    let e = refused_at_submit(
        &env,
        modify(json!({"os_name": "frobos", "force": true, "osparams": {"size": "bad"}})),
    );
    assert!(e.message().contains("size is bad"), "{e}");
    env.ok(modify(json!({"os_name": "frobos", "force": true})));
    assert_eq!(env.inst(I1).os, "frobos");
}

// ---------------------------------------------------------------------------
// OP_CLUSTER_SET_PARAMS (gnt-os modify)

#[test]
fn cluster_os_parameters_are_checked_by_the_os() {
    let env = Env::new();
    let e = refused_at_submit(
        &env,
        cluster_modify(json!({"osparams": {"noop": {"size": "bad"}}})),
    );
    assert_eq!(e.class_name(), "OpExecError");
    assert!(
        e.message().starts_with(&format!(
            "OS Parameters validation failed on node {NODE_NAME}: OS validation script failed ("
        )),
        "{e}"
    );
    let e = refused_at_submit(
        &env,
        cluster_modify(json!({"osparams_private_cluster": {"noop": {"colour": "x"}}})),
    );
    assert_eq!(
        e.message(),
        format!(
            "OS Parameters validation failed on node {NODE_NAME}: The following parameters are not supported by the OS noop: colour"
        )
    );
    // public and private together, as the scripts will get them
    let r = env.ok(cluster_modify(json!({"osparams": {"noop": {"size": "10"}},
        "osparams_private_cluster": {"noop": {"p": "cluster-private"}}})));
    assert!(r.log.is_empty(), "{:?}", r.log);
    let seen = script_env(&os_dir(&env, "noop"), "verify").unwrap();
    assert_eq!(seen["OSP_SIZE"], "10");
    assert_eq!(seen["OSP_P"], "cluster-private");
    let cl = env.cfg().cluster;
    assert_eq!(cl.osparams["noop"], json!({"size": "10"}));
    assert_eq!(
        cl.osparams_private_cluster["noop"],
        json!({"p": "cluster-private"})
    );
    // only the OSes the opcode changes are checked: a provider that now
    // refuses everything does not block changes of other OSes
    std::fs::write(os_dir(&env, "noop").join("fail-verify"), "").unwrap();
    env.ok(cluster_modify(json!({"osparams": {"other": {"a": "1"}}})));
    env.ok(cluster_modify(json!({"hidden_os": [["add", "noop"]]})));
}

#[test]
fn cluster_os_parameters_of_a_missing_os_are_kept_with_a_note() {
    let env = Env::new();
    let r = env.ok(cluster_modify(
        json!({"osparams": {"frobos": {"anything": "1"}}}),
    ));
    assert_eq!(
        r.log,
        vec![format!(
            " - INFO: OS frobos not found on node {NODE_NAME}, validation skipped"
        )]
    );
    assert_eq!(
        env.cfg().cluster.osparams["frobos"],
        json!({"anything": "1"})
    );
    // an invalid provider counts as missing, as in Ganeti
    std::fs::remove_file(os_dir(&env, "other").join("export")).unwrap();
    let r = env.ok(cluster_modify(json!({"osparams": {"other": {"x": "1"}}})));
    assert_eq!(
        r.log,
        vec![format!(
            " - INFO: OS other not found on node {NODE_NAME}, validation skipped"
        )]
    );
    // removing the last parameter of an OS checks nothing
    let r = env.ok(cluster_modify(
        json!({"osparams": {"frobos": {"anything": null}}}),
    ));
    assert!(r.log.is_empty(), "{:?}", r.log);
    assert!(env.cfg().cluster.osparams.get("frobos").is_none());
}

#[test]
fn cluster_os_parameters_are_checked_again_when_the_job_runs() {
    let env = Env::new();
    let id = env
        .m
        .submit_job(
            &[cluster_modify(
                json!({"osparams": {"noop": {"size": "10"}}}),
            )],
            false,
        )
        .unwrap();
    std::fs::write(os_dir(&env, "noop").join("fail-verify"), "").unwrap();
    let e = env.run_id(id).unwrap_err();
    assert!(e.message().contains("verify failed here"), "{e}");
    assert!(env.cfg().cluster.osparams.get("noop").is_none());
}

#[test]
fn cluster_os_parameters_and_variants() {
    let env = Env::new();
    std::fs::write(os_dir(&env, "other").join("variants.list"), "v1\nv2\n").unwrap();
    // base-level parameters apply to every variant: no variant needed
    env.ok(cluster_modify(json!({"osparams": {"other": {"a": "1"}}})));
    env.ok(cluster_modify(
        json!({"osparams": {"other+v2": {"b": "2"}}}),
    ));
    let seen = script_env(&os_dir(&env, "other"), "verify").unwrap();
    assert_eq!(seen["OS_VARIANT"], "v2");
    assert_eq!(seen["OSP_A"], "1", "the base level is under the variant's");
    assert_eq!(seen["OSP_B"], "2");
    let e = refused_at_submit(
        &env,
        cluster_modify(json!({"osparams": {"other+v9": {"b": "2"}}})),
    );
    assert!(
        e.message()
            .ends_with("OS 'other' does not support variant 'v9'"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------
// OP_INSTANCE_MULTI_ALLOC

fn create_with(name: &str, extra: Value) -> Value {
    let mut o = json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
        "pnode": NODE_NAME, "name_check": false, "ip_check": false, "start": false,
        "ignore_ipolicy": true});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

fn multi(instances: Vec<Value>) -> Value {
    json!({"OP_ID": "OP_INSTANCE_MULTI_ALLOC", "instances": instances})
}

fn child_ids(result: &Value) -> Vec<u64> {
    result["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            assert_eq!(j[0], json!(true), "{j}");
            j[1].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn multi_alloc_checks_each_instances_os_parameters_when_submitted() {
    let env = Env::new();
    let e = refused_at_submit(
        &env,
        multi(vec![
            create_with("a.example.com", json!({"osparams": {"size": "10"}})),
            create_with("b.example.com", json!({"osparams_secret": {"size": "bad"}})),
        ]),
    );
    // the secret value is masked in the script's output
    assert!(
        e.message().ends_with("output: size is <redacted>\n"),
        "{e:?}"
    );
    let e = refused_at_submit(
        &env,
        multi(vec![create_with(
            "a.example.com",
            json!({"osparams_private": {"colour": "red"}}),
        )]),
    );
    assert!(
        e.message()
            .ends_with("The following parameters are not supported by the OS noop: colour"),
        "{e}"
    );
}

#[test]
fn multi_alloc_secrets_reach_each_create_script_only() {
    let env = Env::new();
    let secret = "s3cr3t-multi";
    let r = env.ok(multi(vec![
        create_with("a.example.com", json!({"osparams_secret": {"pw": secret}})),
        create_with("b.example.com", json!({"os_type": "other"})),
    ]));
    let ids = child_ids(&r.result);
    assert_eq!(ids.len(), 2);
    // the parent handed them on: held for the first child only, stored nowhere
    assert_eq!(
        env.m.secrets.lock().keys().copied().collect::<Vec<_>>(),
        vec![(ids[0], 0)]
    );
    let stored = stored_jobs(&env);
    assert!(!stored.contains(secret), "{stored}");
    assert!(stored.contains("<redacted>"));
    for id in &ids {
        env.run_id(*id).unwrap();
    }
    let seen = script_env(&os_dir(&env, "noop"), "create").unwrap();
    assert_eq!(seen["INSTANCE_NAME"], "a.example.com");
    assert_eq!(seen["OSP_PW"], secret);
    let other = script_env(&os_dir(&env, "other"), "create").unwrap();
    assert!(!other.contains_key("OSP_PW"), "{other:?}");
    assert!(env.m.secrets.lock().is_empty());
    // nor in the instances, the jobs or the OS logs
    let cfg = serde_json::to_string(&env.cfg()).unwrap();
    assert!(!cfg.contains(secret));
    assert!(!stored_jobs(&env).contains(secret));
    for entry in std::fs::read_dir(env.m.paths.log_dir().join("os")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains(secret), "{text}");
    }
}

#[test]
fn multi_alloc_secrets_lost_by_a_restart_are_not_replaced_by_the_marker() {
    let env = Env::new();
    let id = env
        .m
        .submit_job(
            &[multi(vec![create_with(
                "a.example.com",
                json!({"osparams_secret": {"pw": "lost"}}),
            )])],
            false,
        )
        .unwrap();
    // what a master restart does to them
    env.m.secrets.lock().clear();
    let r = env.run_id(id).unwrap();
    let ids = child_ids(&r.result);
    let child = env.m.job(ids[0]).unwrap();
    let secret = child.ops[0].input.get("osparams_secret").cloned();
    assert!(
        secret.is_none() || secret == Some(Value::Null),
        "{secret:?}"
    );
    env.run_id(ids[0]).unwrap();
    let seen = script_env(&os_dir(&env, "noop"), "create").unwrap();
    assert!(!seen.contains_key("OSP_PW"), "{seen:?}");
}
