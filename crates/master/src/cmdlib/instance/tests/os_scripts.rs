//! The OS scripts the instance opcodes run (test OS from
//! `install_test_os`): create on OP_INSTANCE_CREATE, what a failing create
//! leaves, reinstall on failure, rename.

use serde_json::json;

use super::{op, script_env, Env, I1, NODE_NAME};
use ganeti_types::AdminState;

fn os_dir(env: &Env, os: &str) -> std::path::PathBuf {
    env._dir.path().join("srv/ganeti/os").join(os)
}

#[test]
fn create_runs_the_create_script_with_the_instance_env() {
    let env = Env::new();
    let r = env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": I1, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}, {"size": 8, "mode": "ro"}],
        "nics": [], "os_type": "noop", "osparams": {"size": "10"},
        "pnode": NODE_NAME, "name_check": false, "ip_check": false, "start": false,
        "ignore_ipolicy": true, "debug_level": 1}),
    );
    assert!(
        r.log
            .iter()
            .any(|l| l == "* running the instance OS create scripts..."),
        "{:?}",
        r.log
    );
    let seen = script_env(&os_dir(&env, "noop"), "create").unwrap();
    let inst = env.inst(I1);
    let paths = env.disk_paths(I1);
    assert_eq!(seen["INSTANCE_NAME"], I1);
    assert_eq!(seen["INSTANCE_UUID"], inst.uuid);
    assert_eq!(seen["INSTANCE_PRIMARY_NODE"], inst.primary_node);
    assert_eq!(seen["OS_API_VERSION"], "20");
    assert_eq!(seen["DEBUG_LEVEL"], "1");
    assert_eq!(seen["OSP_SIZE"], "10");
    assert_eq!(seen["DISK_COUNT"], "2");
    assert_eq!(seen["DISK_0_PATH"], paths[0].display().to_string());
    assert_eq!(seen["DISK_1_ACCESS"], "ro");
    assert_eq!(seen["DISK_0_BACKEND_TYPE"], "file:loop");
    assert_eq!(seen["NIC_COUNT"], "0");
    assert!(!seen.contains_key("INSTANCE_REINSTALL"));
    // a log file per run below <log dir>/os
    let logs: Vec<String> = std::fs::read_dir(env.m.paths.log_dir().join("os"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        logs.iter()
            .any(|l| l.starts_with(&format!("add-noop-{I1}-"))),
        "{logs:?}"
    );
}

#[test]
fn no_install_and_diskless_skip_the_script() {
    let env = Env::new();
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": I1, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
        "no_install": true, "pnode": NODE_NAME, "name_check": false, "ip_check": false,
        "start": false, "ignore_ipolicy": true}),
    );
    assert!(script_env(&os_dir(&env, "noop"), "create").is_none());
    env.create("inst2.example.com", json!([]), false);
    assert!(script_env(&os_dir(&env, "noop"), "create").is_none());
}

#[test]
fn failing_create_keeps_the_instance_down_as_ganeti_does() {
    let env = Env::new();
    std::fs::write(os_dir(&env, "noop").join("fail-create"), "").unwrap();
    let e = env
        .run(
            json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": I1, "mode": "create",
            "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
            "pnode": NODE_NAME, "name_check": false, "ip_check": false, "start": true,
            "ignore_ipolicy": true}),
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!(
            "Could not add os for instance {I1} on node {NODE_NAME}: OS create script failed (exited with exit code 7), last lines in the log file:\ncreate failed here"
        )),
        "{msg}"
    );
    // Ganeti leaves the instance and its disks, not started
    let inst = env.inst(I1);
    assert_eq!(inst.admin_state, AdminState::Down);
    assert!(env.disk_paths(I1)[0].exists());
}

#[test]
fn failing_reinstall_keeps_the_old_os() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    std::fs::write(os_dir(&env, "other").join("fail-create"), "").unwrap();
    let e = env
        .run(op("OP_INSTANCE_REINSTALL", I1, json!({"os_type": "other"})))
        .unwrap_err();
    assert!(
        e.to_string().contains(&format!(
            "Could not install OS for instance '{I1}' on node '{NODE_NAME}': OS create script failed (exited with exit code 7)"
        )),
        "{e}"
    );
    let inst = env.inst(I1);
    assert_eq!(inst.os, "noop");
    assert!(!inst.disks_active);
}

#[test]
fn rename_runs_the_rename_script_and_only_warns_on_failure() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    let new = "inst9.example.com";
    env.ok(op(
        "OP_INSTANCE_RENAME",
        I1,
        json!({"new_name": new, "name_check": false, "ip_check": false}),
    ));
    let seen = script_env(&os_dir(&env, "noop"), "rename").unwrap();
    assert_eq!(seen["INSTANCE_NAME"], new);
    assert_eq!(seen["OLD_INSTANCE_NAME"], I1);
    assert_eq!(
        seen["DISK_0_PATH"],
        env.disk_paths(new)[0].display().to_string()
    );
    assert!(!env.inst(new).disks_active);
    // a failing rename script: renamed anyway, with Ganeti's warning
    std::fs::write(os_dir(&env, "noop").join("fail-rename"), "").unwrap();
    let r = env.ok(op(
        "OP_INSTANCE_RENAME",
        new,
        json!({"new_name": I1, "name_check": false, "ip_check": false}),
    ));
    assert_eq!(env.inst(I1).name, I1);
    assert!(
        r.log.iter().any(|l| l.starts_with(&format!(
            " - WARNING: Could not run OS rename script for instance {I1} on node {NODE_NAME} (but the instance has been renamed in Ganeti): OS rename script failed (exited with exit code 7)"
        ))),
        "{:?}",
        r.log
    );
}

#[test]
fn secret_os_parameters_reach_the_script_but_not_the_job_or_the_log() {
    let env = Env::new();
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": I1, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
        "osparams_secret": {"size": "s3cr3t-value"},
        "pnode": NODE_NAME, "name_check": false, "ip_check": false, "start": false,
        "ignore_ipolicy": true}),
    );
    let seen = script_env(&os_dir(&env, "noop"), "create").unwrap();
    assert_eq!(seen["OSP_SIZE"], "s3cr3t-value");
    // the stored job has it redacted, and the master no longer holds it
    let stored = env.m.store.read(|s| {
        s.jobs
            .values()
            .map(|j| serde_json::to_string(j).unwrap())
            .collect::<String>()
    });
    assert!(!stored.contains("s3cr3t-value"), "{stored}");
    assert!(stored.contains("<redacted>"));
    assert!(env.m.secrets.lock().is_empty());
    // the run's log file does not have it either
    for entry in std::fs::read_dir(env.m.paths.log_dir().join("os")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("s3cr3t-value"), "{text}");
    }
}

#[test]
fn os_parameters_are_checked_when_the_job_is_submitted() {
    let env = Env::new();
    let create = |params: serde_json::Value| {
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": I1, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
        "osparams": params, "pnode": NODE_NAME, "name_check": false, "ip_check": false,
        "start": false, "ignore_ipolicy": true})
    };
    let jobs_before = env.m.store.read(|s| s.jobs.len());
    // not in parameters.list
    let e = env
        .m
        .submit_job(&[create(json!({"colour": "red"}))], false)
        .unwrap_err();
    assert!(
        e.message()
            .starts_with("OS Parameters validation failed on node "),
        "{e}"
    );
    assert!(e.message().contains("colour"), "{e}");
    // refused by the OS's verify script, which ran with the parameters
    let e = env
        .m
        .submit_job(&[create(json!({"size": "bad"}))], false)
        .unwrap_err();
    assert!(e.message().contains("size is bad"), "{e}");
    let seen = script_env(&os_dir(&env, "noop"), "verify").unwrap();
    assert_eq!(seen["OSP_SIZE"], "bad");
    // nothing was queued, no instance made
    assert_eq!(env.m.store.read(|s| s.jobs.len()), jobs_before);
    assert!(env.cfg().instance_by_name(I1).is_none());
    // good ones pass
    env.ok(create(json!({"size": "10"})));
}

#[test]
fn reinstall_parameters_are_checked_when_the_job_is_submitted() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    let e = env
        .m
        .submit_job(
            &[
                json!({"OP_ID": "OP_INSTANCE_REINSTALL", "instance_name": I1,
                "osparams": {"colour": "red"}}),
            ],
            false,
        )
        .unwrap_err();
    assert!(
        e.message()
            .contains("The following parameters are not supported by the OS noop: colour"),
        "{e}"
    );
}

#[test]
fn an_already_redacted_secret_is_not_passed_on() {
    let env = Env::new();
    let op = |secret: &str| {
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": I1, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
        "osparams_secret": {"pw": secret}, "pnode": NODE_NAME, "name_check": false,
        "ip_check": false, "start": false, "ignore_ipolicy": true})
    };
    // a job made from another job's stored opcode carries the marker only
    let id = env.m.submit_job(&[op("<redacted>")], false).unwrap();
    assert!(!env.m.secrets.lock().contains_key(&(id, 0)));
    let id = env.m.submit_job(&[op("real")], false).unwrap();
    assert_eq!(
        env.m.secrets.lock()[&(id, 0)].own.get("pw"),
        Some(&json!("real"))
    );
}
