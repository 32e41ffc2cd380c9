//! Hooks around instance opcodes, run for real: recording shell scripts in
//! the temp root's hooks directories, the local node running them.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Env, NODE_NAME};
use crate::cmdlib::cluster::checks::testcfg;

/// Install `body` as executable `name` in `<hooks>/<dir>/`.
fn install(env: &Env, dir: &str, name: &str, body: &str) -> PathBuf {
    let d = env.m.paths.hooks_dir().join(dir);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// A recorder in `<hpath>-pre.d` and `-post.d` that appends each run's
/// environment, sorted, to `<out>/<hpath>-<phase>.env` (one run per
/// file: a second run makes the test fail when it reads it).
pub(super) fn record(env: &Env, hpath: &str) -> PathBuf {
    let out = env.m.paths.root().join("hook-records");
    std::fs::create_dir_all(&out).unwrap();
    for phase in ["pre", "post"] {
        let file = out.join(format!("{hpath}-{phase}.env"));
        install(
            env,
            &format!("{hpath}-{phase}.d"),
            "50record",
            &format!(
                "#!/bin/sh\n[ -e {f} ] && exit 9\nenv | sort > {f}\n",
                f = file.display()
            ),
        );
    }
    out
}

pub(super) fn read_env(out: &Path, hpath: &str, phase: &str) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(out.join(format!("{hpath}-{phase}.env"))).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[track_caller]
fn val<'a>(env: &'a BTreeMap<String, String>, key: &str) -> &'a str {
    env.get(key)
        .unwrap_or_else(|| panic!("{key} missing from {env:#?}"))
}

fn create_op(name: &str, start: bool) -> serde_json::Value {
    json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": "file", "disks": [{"size": 8, "name": "root"}],
        "nics": [{"name": "eth0"}], "os_type": "noop", "pnode": NODE_NAME,
        "name_check": false, "ip_check": false, "start": start, "ignore_ipolicy": true,
        "tags": ["web", "prod"], "beparams": {"maxmem": 256}})
}

#[test]
fn a_failing_pre_hook_vetoes_the_creation_and_nothing_is_created() {
    let env = Env::new();
    let out = record(&env, "instance-add");
    install(
        &env,
        "instance-add-pre.d",
        "10veto",
        "#!/bin/sh\necho vetoed by dns\necho on stderr >&2\nexit 1\n",
    );
    let e = env.run(create_op("vm1", false)).unwrap_err();
    assert_eq!(e.class_name(), "HooksAbort");
    let msg = e.message();
    assert!(msg.contains("instance-add-pre.d/10veto"), "{msg}");
    // as in Ganeti 3.0: the output on one line, the node by its uuid
    assert!(msg.contains("vetoed by dns\\non stderr"), "{msg}");
    assert!(msg.contains(testcfg::NODE), "{msg}");
    // the encoded error carries Ganeti's (node, script, output) triples
    assert_eq!(
        e.encode(),
        json!([
            "HooksAbort",
            [[[
                testcfg::NODE,
                "instance-add-pre.d/10veto",
                "vetoed by dns\\non stderr"
            ]]]
        ])
    );
    assert!(env.cfg().instances.is_empty());
    assert!(env.cfg().disks.is_empty());
    let dir = env.m.paths.default_file_storage_dir().join("vm1");
    assert!(!dir.exists(), "{} was created", dir.display());
    // the recorder before it ran (all scripts run), no post phase
    assert!(read_env(&out, "instance-add", "pre").is_some());
    assert!(read_env(&out, "instance-add", "post").is_none());
}

#[test]
fn create_environment_describes_the_request() {
    let env = Env::new();
    let out = record(&env, "instance-add");
    let ran = env.ok(create_op("vm1", false));
    let pre = read_env(&out, "instance-add", "pre").unwrap();
    let post = read_env(&out, "instance-add", "post").unwrap();
    assert_eq!(val(&pre, "PATH"), "/sbin:/bin:/usr/sbin:/usr/bin");
    assert_eq!(val(&pre, "GANETI_HOOKS_VERSION"), "2");
    assert_eq!(val(&pre, "GANETI_HOOKS_PHASE"), "pre");
    assert_eq!(val(&post, "GANETI_HOOKS_PHASE"), "post");
    assert_eq!(val(&pre, "GANETI_HOOKS_PATH"), "instance-add");
    assert_eq!(val(&pre, "GANETI_OP_CODE"), "OP_INSTANCE_CREATE");
    assert_eq!(val(&pre, "GANETI_OBJECT_TYPE"), "INSTANCE");
    assert_eq!(val(&pre, "GANETI_MASTER"), NODE_NAME);
    assert_eq!(val(&pre, "GANETI_ADD_MODE"), "create");
    assert_eq!(val(&pre, "GANETI_INSTANCE_NAME"), "vm1");
    assert_eq!(val(&pre, "GANETI_INSTANCE_STATUS"), "False");
    assert_eq!(val(&pre, "GANETI_INSTANCE_PRIMARY"), NODE_NAME);
    assert_eq!(val(&pre, "GANETI_INSTANCE_SECONDARIES"), "");
    assert_eq!(val(&pre, "GANETI_INSTANCE_MAXMEM"), "256");
    assert_eq!(val(&pre, "GANETI_INSTANCE_BE_maxmem"), "256");
    assert_eq!(val(&pre, "GANETI_INSTANCE_TAGS"), "web prod");
    assert_eq!(val(&pre, "GANETI_INSTANCE_DISK_COUNT"), "1");
    assert_eq!(val(&pre, "GANETI_INSTANCE_DISK0_NAME"), "root");
    assert_eq!(val(&pre, "GANETI_INSTANCE_DISK0_UUID"), "");
    assert_eq!(val(&pre, "GANETI_INSTANCE_DISK0_SIZE"), "8");
    assert_eq!(val(&pre, "GANETI_INSTANCE_DISK0_MODE"), "rw");
    assert!(!pre.contains_key("GANETI_INSTANCE_DISK0_DEV_TYPE"));
    assert_eq!(val(&pre, "GANETI_INSTANCE_NIC_COUNT"), "1");
    assert_eq!(val(&pre, "GANETI_INSTANCE_NIC0_NAME"), "eth0");
    let mac = val(&pre, "GANETI_INSTANCE_NIC0_MAC");
    assert_eq!(mac, env.inst("vm1").nics[0].mac, "the MAC the instance got");
    // only PATH and GANETI_* (and the PWD sh sets itself): nothing
    // inherited from the daemon
    assert!(
        pre.keys()
            .all(|k| k == "PATH" || k == "PWD" || k.starts_with("GANETI_")),
        "{pre:#?}"
    );
    // post: the pre values plus GANETI_POST_* twins
    for (k, v) in pre.iter().filter(|(k, _)| k.starts_with("GANETI_INSTANCE")) {
        assert_eq!(post.get(k), Some(v), "{k}");
        let twin = k.replacen("GANETI_", "GANETI_POST_", 1);
        assert!(post.contains_key(&twin), "{twin} missing");
    }
    assert!(!post.contains_key("GANETI_POST_HOOKS_PATH"));
    // the job log shows the runs
    assert!(
        ran.log.iter().any(|l| l
            .starts_with("Hook instance-add-pre.d/50record on node1.example.com: succeeded in ")),
        "{:?}",
        ran.log
    );
}

#[test]
fn start_and_stop_show_the_admin_state_before_and_after() {
    let env = Env::new();
    env.create("vm1", json!([{"size": 8}]), false);
    let out = record(&env, "instance-start");
    env.ok(json!({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "vm1"}));
    let post = read_env(&out, "instance-start", "post").unwrap();
    assert_eq!(val(&post, "GANETI_INSTANCE_STATUS"), "down");
    assert_eq!(val(&post, "GANETI_POST_INSTANCE_STATUS"), "up");
    assert_eq!(val(&post, "GANETI_FORCE"), "False");
    assert_eq!(val(&post, "GANETI_INSTANCE_DISK0_DEV_TYPE"), "file");
    assert_eq!(val(&post, "GANETI_INSTANCE_DISK0_DRIVER"), "loop");
    assert!(
        val(&post, "GANETI_INSTANCE_DISK0_ID").ends_with("/vm1/")
            || val(&post, "GANETI_INSTANCE_DISK0_ID").contains("/vm1/")
    );
    let out = record(&env, "instance-stop");
    env.ok(json!({"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": "vm1", "timeout": 7}));
    let post = read_env(&out, "instance-stop", "post").unwrap();
    assert_eq!(val(&post, "GANETI_TIMEOUT"), "7");
    assert_eq!(val(&post, "GANETI_POST_INSTANCE_STATUS"), "down");
    assert_eq!(val(&post, "GANETI_INSTANCE_STATUS"), "up");
}

#[test]
fn dry_run_runs_the_pre_phase_only() {
    let env = Env::new();
    let out = record(&env, "instance-add");
    let mut op = create_op("vm1", false);
    op["dry_run"] = json!(true);
    env.ok(op);
    assert!(read_env(&out, "instance-add", "pre").is_some());
    assert!(read_env(&out, "instance-add", "post").is_none());
    assert!(env.cfg().instances.is_empty());
}

#[test]
fn a_failing_post_hook_is_a_warning_and_changes_nothing() {
    let env = Env::new();
    env.create("vm1", json!([{"size": 8}]), false);
    install(
        &env,
        "instance-start-post.d",
        "10bad",
        "#!/bin/sh\necho inventory down\necho more >&2\nexit 3\n",
    );
    install(
        &env,
        "instance-start-post.d",
        "20quiet",
        "#!/bin/sh\nexit 1\n",
    );
    let ran = env.ok(json!({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "vm1"}));
    let node = testcfg::NODE;
    let expected = [
        "Hook instance-start-post.d/10bad on node1.example.com: FAILED in ".to_string(),
        format!(" - WARNING: On {node} script instance-start-post.d/10bad failed, output: inventory down\\nmore"),
        format!(" - WARNING: On {node} script instance-start-post.d/20quiet failed, output: (no output)"),
    ];
    for e in &expected {
        assert!(
            ran.log.iter().any(|l| l.starts_with(e.as_str())),
            "{e} not in {:?}",
            ran.log
        );
    }
    assert_eq!(env.inst("vm1").admin_state, ganeti_types::AdminState::Up);
}

#[test]
fn rename_remove_modify_and_grow_environments() {
    let env = Env::new();
    env.create("vm1", json!([{"size": 8}]), false);
    let out = record(&env, "instance-rename");
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_RENAME", "instance_name": "vm1", "new_name": "vm2",
        "name_check": false, "ip_check": false}),
    );
    let post = read_env(&out, "instance-rename", "post").unwrap();
    assert_eq!(val(&post, "GANETI_INSTANCE_NEW_NAME"), "vm2");
    assert_eq!(val(&post, "GANETI_POST_INSTANCE_NEW_NAME"), "vm2");
    assert_eq!(val(&post, "GANETI_INSTANCE_NAME"), "vm1");

    let out = record(&env, "instance-modify");
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": "vm2",
        "beparams": {"maxmem": 512, "minmem": 512}, "ignore_ipolicy": true}),
    );
    let pre = read_env(&out, "instance-modify", "pre").unwrap();
    let post = read_env(&out, "instance-modify", "post").unwrap();
    assert_eq!(val(&pre, "GANETI_INSTANCE_MAXMEM"), "512");
    assert_ne!(
        val(&pre, "GANETI_INSTANCE_BE_maxmem"),
        "512",
        "pre shows the configured beparams"
    );
    assert_eq!(val(&post, "GANETI_POST_INSTANCE_BE_maxmem"), "512");

    let out = record(&env, "disk-grow");
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_GROW_DISK", "instance_name": "vm2", "disk": 0,
        "amount": 4, "wait_for_sync": false, "ignore_ipolicy": true}),
    );
    let post = read_env(&out, "disk-grow", "post").unwrap();
    assert_eq!(val(&post, "GANETI_DISK"), "0");
    assert_eq!(val(&post, "GANETI_AMOUNT"), "4");
    assert_eq!(val(&post, "GANETI_ABSOLUTE"), "False");
    assert_eq!(val(&post, "GANETI_INSTANCE_DISK0_SIZE"), "8");
    assert_eq!(val(&post, "GANETI_POST_INSTANCE_DISK0_SIZE"), "12");

    let out = record(&env, "instance-remove");
    env.ok(json!({"OP_ID": "OP_INSTANCE_REMOVE", "instance_name": "vm2"}));
    let post = read_env(&out, "instance-remove", "post").unwrap();
    assert_eq!(val(&post, "GANETI_POST_INSTANCE_NAME"), "vm2");
    assert_eq!(val(&post, "GANETI_SHUTDOWN_TIMEOUT"), "120");
}

#[test]
fn config_update_hook_follows_config_writes() {
    let env = Env::new();
    let out = env.m.paths.root().join("cu.log");
    install(
        &env,
        "config-update-post.d",
        "10log",
        &format!(
            "#!/bin/sh\necho \"$GANETI_HOOKS_PATH $GANETI_HOOKS_PHASE $GANETI_OP_CODE ${{GANETI_INSTANCE_NAME:-none}} ${{GANETI_POST_INSTANCE_NAME:-nopost}}\" >> {}\n",
            out.display()
        ),
    );
    env.create("vm1", json!([{"size": 8}]), false);
    // a query writes nothing
    env.ok(json!({"OP_ID": "OP_TAGS_GET", "kind": "cluster"}));
    // tags have no hooks of their own but write the config
    env.ok(json!({"OP_ID": "OP_TAGS_SET", "kind": "instance", "name": "vm1", "tags": ["a"]}));
    let log = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        log,
        "config-update post OP_INSTANCE_CREATE vm1 nopost\nconfig-update post OP_TAGS_SET none nopost\n"
    );
}
