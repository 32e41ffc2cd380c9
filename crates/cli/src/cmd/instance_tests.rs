//! Tests of `gnt-instance`: argv → opcode, whole commands against a
//! scripted master, and output compared with the reference fixtures.

use ganeti_luxi::{LuxiError, Method};
use serde_json::{json, Value};

use super::*;
use crate::cmd::fakemaster::{master, query_answer, JobPlan};
use crate::cmd::testutil::{fixture, parse_cmd, run_cmd, submitted_ops};
use crate::fixture_tests::case;

fn argv(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Replace the `ctime` prefix of job log lines by `<TS>`.
fn strip_ctime(text: &str) -> String {
    text.lines()
        .map(|l| {
            let b = l.as_bytes();
            if l.len() >= 25 && b[3] == b' ' && b[7] == b' ' && b[10] == b' ' && b[13] == b':' {
                format!("<TS>{}", &l[24..])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn add_file_instance_opcode() {
    let (o, a) = parse_cmd(
        &GROUP,
        "add",
        &[
            "-t",
            "file",
            "--disk",
            "0:size=128M",
            "-o",
            "noop",
            "-n",
            "node1.example.com",
            "--ignore-ipolicy",
            "--no-start",
            "inst2.example.com",
        ],
    );
    assert_eq!(
        build_add(&o, &a).unwrap(),
        json!({
            "OP_ID": "OP_INSTANCE_CREATE",
            "forthcoming": false, "commit": false,
            "instance_name": "inst2.example.com",
            "disks": [{"size": 128}],
            "disk_template": "file",
            "nics": [{}],
            "conflicts_check": true,
            "pnode": "node1.example.com",
            "ip_check": true, "name_check": true, "wait_for_sync": true,
            "hvparams": {}, "beparams": {},
            "osparams": {}, "osparams_private": {}, "osparams_secret": {},
            "mode": "create", "opportunistic_locking": false, "start": false,
            "os_type": "noop", "force_variant": false, "compress": "none",
            "tags": [], "no_install": false, "identify_defaults": false,
            "ignore_ipolicy": true, "instance_communication": false
        })
    );
}

#[test]
fn add_options_shape_the_opcode() {
    let (o, a) = parse_cmd(
        &GROUP,
        "add",
        &[
            "-t",
            "sharedfile",
            "-s",
            "256M",
            "-B",
            "memory=256,vcpus=2",
            "-H",
            "fake:migration_mode=live",
            "--net",
            "0:mode=bridged,link=br0",
            "--net",
            "2:ip=pool,network=net1",
            "-n",
            "node1:node2",
            "--tags",
            "a,b",
            "-O",
            "x=1",
            "--no-name-check",
            "inst3",
        ],
    );
    let op = build_add(&o, &a).unwrap();
    assert_eq!(op["disks"], json!([{"size": 256}]));
    assert_eq!(op["beparams"], json!({"memory": 256, "vcpus": 2}));
    assert_eq!(op["hypervisor"], json!("fake"));
    assert_eq!(op["hvparams"], json!({"migration_mode": "live"}));
    assert_eq!(
        op["nics"],
        json!([{"mode": "bridged", "link": "br0"}, {}, {"ip": "pool", "network": "net1"}])
    );
    assert_eq!(op["pnode"], json!("node1"));
    assert_eq!(op["snode"], json!("node2"));
    assert_eq!(op["tags"], json!(["a", "b"]));
    assert_eq!(op["osparams"], json!({"x": "1"}));
    assert_eq!(op["name_check"], json!(false));
    assert!(op.get("os_type").is_none());
    let (o, a) = parse_cmd(
        &GROUP,
        "add",
        &["-t", "diskless", "--no-nics", "-o", "noop", "x"],
    );
    let op = build_add(&o, &a).unwrap();
    assert_eq!(op["disks"], json!([]));
    assert_eq!(op["nics"], json!([]));
}

#[test]
fn add_refuses_bad_disk_specs() {
    let msg = |args: &[&str]| {
        let (o, a) = parse_cmd(&GROUP, "add", args);
        crate::errors::format_error(&build_add(&o, &a).unwrap_err()).1
    };
    assert_eq!(
        msg(&["-t", "file", "--disk", "0:size=1G", "-s", "1G", "x"]),
        "Failure: prerequisites not met for this operation:\nerror type: wrong_input, error details:\nPlease use either the '--disk' or '-s' option"
    );
    assert!(msg(&["-t", "file", "--disk", "x:size=1G", "i"])
        .contains("Invalid disk index passed: invalid literal for int() with base 10: 'x'"));
    assert!(msg(&["-t", "file", "--disk", "0:mode=rw", "i"])
        .contains("Missing size or adoption source for disk 0"));
    assert!(msg(&["-t", "file", "--disk", "0:size=1G,adopt=lv", "i"])
        .contains("Only one of 'size' and 'adopt' allowed (disk 0)"));
    // `no_size` is size=False, which Ganeti's ParseUnit refuses
    assert_eq!(
        msg(&["-t", "file", "--disk", "0:no_size", "i"]),
        "Unhandled Ganeti error: Invalid format"
    );
    assert!(
        msg(&["--forthcoming", "--commit", "-t", "diskless", "i"]).contains("mutally exclusive")
    );
    assert_eq!(
        msg(&["-t", "diskless", "-H", "fake:frob=1", "i"]),
        "Parameter Error: Unknown parameter 'frob'"
    );
    assert_eq!(
        msg(&["-t", "diskless", "--net", "0:frob=1", "i"]),
        "Parameter Error: Unknown parameter 'frob'"
    );
}

#[test]
fn add_prints_the_job_log() {
    let Some((args, out, err, rc)) = case("instance_add_file") else {
        return;
    };
    let logs: Vec<String> = out.lines().map(|l| l[25..].to_string()).collect();
    let logs: Vec<&str> = logs.iter().map(String::as_str).collect();
    let env = master(
        28,
        vec![JobPlan::ok(json!(["node1.example.com"])).with_logs(&logs)],
        |_, _| None,
    );
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (our_rc, our_out, our_err) = run_cmd(&env, &a);
    assert_eq!((our_rc, our_err.as_str()), (rc, err.as_str()));
    assert_eq!(strip_ctime(&our_out), strip_ctime(&out));
    let ops = submitted_ops(&env);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["OP_ID"], json!("OP_INSTANCE_CREATE"));
    assert_eq!(ops[0]["debug_level"], json!(0));
    assert_eq!(ops[0]["dry_run"], json!(false));
    // the reason trail names the tool and the subcommand
    let submit = env.calls(Method::SubmitJob);
    let reason = &submit[0][0][0]["reason"];
    assert_eq!(reason[0][0], json!("gnt:client:gnt-instance"));
    assert_eq!(reason[0][1], json!("add"));
}

#[test]
fn submit_prints_the_job_id_on_stderr() {
    let Some((args, out, err, rc)) = case("instance_add_sharedfile_submit") else {
        return;
    };
    let env = master(29, vec![], |_, _| None);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    // only submitted, never polled
    assert!(env.calls(Method::WaitForJobChange).is_empty());
    let ops = submitted_ops(&env);
    assert_eq!(ops[0]["beparams"], json!({"memory": 256, "vcpus": 2}));
    assert_eq!(ops[0]["disks"], json!([{"size": 256}]));
}

#[test]
fn job_errors_print_like_ganeti() {
    let cases: &[(&str, Value)] = &[
        ("err_add_no_os", json!(["OpPrereqError", ["No guest OS or OS image specified", "wrong_input"]])),
        ("err_bad_os", json!(["OpExecError", ["OS Parameters validation failed on node node1.example.com: Directory for OS frobos not found in search path"]])),
        ("err_add_bad_template", json!(["OpPrereqError", ["Disk template 'plain' is not enabled in cluster. Enabled disk templates are: file,sharedfile,diskless"]])),
        ("err_duplicate_instance", json!(["OpPrereqError", ["Instance 'inst1.example.com' is already in the cluster", "already_exists"]])),
        ("err_hvparam_unsupported", json!(["HypervisorError", ["Parameter 'kernel_path' is not supported"]])),
        ("err_grow_disk_shrink", json!(["OpPrereqError", ["Requested size (64M) is smaller than current disk size (512M)", "wrong_state"]])),
        ("err_rename_running", json!(["OpPrereqError", ["Instance 'inst1.example.com' is marked to be up, cannot rename", "wrong_state"]])),
        ("err_unknown_instance_remove", json!(["OpPrereqError", ["Instance 'inst99.example.com' not known", "unknown_entity"]])),
        ("err_unknown_instance_info", json!(["OpPrereqError", ["Instance 'inst99.example.com' not known", "unknown_entity"]])),
        ("err_bad_tag", json!(["TagError", ["Tag contains invalid characters"]])),
        ("err_unknown_tag_remove", json!(["OpPrereqError", ["Tag(s) 'nosuchtag' not found", "unknown_entity"]])),
    ];
    for (name, err) in cases {
        let Some((args, out, expected_err, rc)) = case(name) else {
            return;
        };
        let env = master(70, vec![JobPlan::err(err.clone())], |_, _| None);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(run_cmd(&env, &a), (rc, out, expected_err), "{name}");
    }
}

#[test]
fn master_errors_and_protocol_errors() {
    let Some((args, out, err, rc)) = case("err_unknown_instance_list") else {
        return;
    };
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| {
            Err(LuxiError::Ganeti(ganeti_types::GanetiError::noent(
                "Instance name inst99.example.com not found",
            )))
        })
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    let Some((args, out, err, rc)) = case("err_bad_hypervisor") else {
        return;
    };
    let env = crate::context::testing::FakeEnv::new(|m, _| {
        assert_eq!(m, Method::SubmitJob);
        Err(LuxiError::Protocol("Failed to parse request: SubmitJob: Can't parse value for 'hypervisor': Invalid string value for type Hypervisor: \"frob\"".into()))
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
}

fn instance_rows() -> Value {
    // name, hypervisor, os, pnode, status, oper_ram (status 3 = unavailable)
    let row = |n: &str, st: &str, ram: Option<i64>| {
        json!([
            [0, n],
            [0, "fake"],
            [0, "noop"],
            [0, "node1.example.com"],
            [0, st],
            match ram {
                Some(r) => json!([0, r]),
                None => json!([3, null]),
            }
        ])
    };
    json!({
        "fields": [
            {"name": "name", "title": "Instance", "kind": "text", "doc": ""},
            {"name": "hypervisor", "title": "Hypervisor", "kind": "text", "doc": ""},
            {"name": "os", "title": "OS", "kind": "text", "doc": ""},
            {"name": "pnode", "title": "Primary_node", "kind": "text", "doc": ""},
            {"name": "status", "title": "Status", "kind": "text", "doc": ""},
            {"name": "oper_ram", "title": "Memory", "kind": "unit", "doc": ""}
        ],
        "data": [
            row("inst1.example.com", "running", Some(128)),
            row("inst2.example.com", "ADMIN_down", None),
            row("inst3.example.com", "running", Some(256)),
            row("noresolve-inst", "ADMIN_down", None)
        ]
    })
}

#[test]
fn list_output_matches_reference() {
    for name in [
        "instance_list",
        "instance_list_noheaders",
        "instance_list_sep",
        "instance_list_noheaders_sep",
    ] {
        let Some((args, out, err, rc)) = case(name) else {
            return;
        };
        let env = master(1, vec![], |m, a| {
            assert_eq!(
                a[1],
                json!(["name", "hypervisor", "os", "pnode", "status", "oper_ram"])
            );
            (m == Method::Query).then(|| Ok(instance_rows()))
        });
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(run_cmd(&env, &a), (rc, out, err), "{name}");
    }
}

#[test]
fn list_filters_and_fields() {
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(instance_rows()))
    });
    run_cmd(
        &env,
        &[
            "gnt-instance",
            "list",
            "-o",
            "+disk_template",
            "inst1",
            "web*",
        ],
    );
    let q = env.calls(Method::Query);
    assert_eq!(q[0][0], json!("instance"));
    assert_eq!(
        q[0][1],
        json!([
            "name",
            "hypervisor",
            "os",
            "pnode",
            "status",
            "oper_ram",
            "disk_template"
        ])
    );
    assert_eq!(
        q[0][2],
        json!([
            "|",
            ["==", "name", "inst1"],
            ["=~", "name", "^web[^.]*(\\..*)?$"]
        ])
    );
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(instance_rows()))
    });
    run_cmd(
        &env,
        &["gnt-instance", "list", "-F", "status == \"running\""],
    );
    assert_eq!(
        env.calls(Method::Query)[0][2],
        json!(["==", "status", "running"])
    );
    // GNT_INSTANCE_LIST injects default options
    let mut env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(instance_rows()))
    });
    env.vars
        .push(("GNT_INSTANCE_LIST".into(), "-o name --no-headers".into()));
    let (rc, out, _) = run_cmd(&env, &["gnt-instance", "list"]);
    assert_eq!(rc, 0);
    assert_eq!(env.calls(Method::Query)[0][1], json!(["name"]));
    assert!(!out.starts_with("Instance"));
}

#[test]
fn list_with_many_field_kinds() {
    let Some((args, out, err, rc)) = case("instance_list_o") else {
        return;
    };
    let fields = [
        ("name", "Instance", "text"),
        ("status", "Status", "text"),
        ("admin_state", "InstanceState", "text"),
        ("oper_state", "Running", "bool"),
        ("disk_template", "Disk_template", "text"),
        ("be/memory", "ConfigMaxMem", "unit"),
        ("be/vcpus", "ConfigVCPUs", "number"),
        ("disk.sizes", "Disk_sizes", "other"),
        ("disk.count", "Disks", "number"),
        ("nic.count", "NICs", "number"),
        ("nic.modes", "NIC_modes", "other"),
        ("nic.links", "NIC_links", "other"),
        ("pnode", "Primary_node", "text"),
        ("snodes", "Secondary_Nodes", "other"),
        ("os", "OS", "text"),
        ("hypervisor", "Hypervisor", "text"),
        ("tags", "Tags", "other"),
    ];
    let row = |n: &str, st: &str, up: bool, t: &str, mem: i64, cpu: i64, sizes: Value| {
        vec![
            json!(n),
            json!(st),
            json!(if up { "up" } else { "down" }),
            json!(up),
            json!(t),
            json!(mem),
            json!(cpu),
            sizes.clone(),
            json!(sizes.as_array().map_or(0, Vec::len)),
            json!(1),
            json!(["bridged"]),
            json!(["gntbr0"]),
            json!("node1.example.com"),
            json!([]),
            json!("noop"),
            json!("fake"),
            json!([]),
        ]
    };
    let answer = query_answer(
        &fields,
        &[
            row(
                "inst1.example.com",
                "running",
                true,
                "diskless",
                128,
                1,
                json!([]),
            ),
            row(
                "inst2.example.com",
                "ADMIN_down",
                false,
                "file",
                128,
                1,
                json!([128]),
            ),
            row(
                "inst3.example.com",
                "running",
                true,
                "sharedfile",
                256,
                2,
                json!([256]),
            ),
            row(
                "noresolve-inst",
                "ADMIN_down",
                false,
                "diskless",
                128,
                1,
                json!([]),
            ),
        ],
    );
    let env = master(1, vec![], move |m, _| {
        (m == Method::Query).then(|| Ok(answer.clone()))
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
}

#[test]
fn unknown_field_exits_14() {
    let Some((args, out, err, rc)) = case("err_unknown_field") else {
        return;
    };
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| {
            Ok(json!({
                "fields": [{"name": "name", "title": "Instance", "kind": "text", "doc": ""},
                           {"name": "frobfield", "title": "frobfield", "kind": "unknown", "doc": ""}],
                "data": [[[0, "inst1.example.com"], [1, null]], [[0, "inst2.example.com"], [1, null]]]
            }))
        })
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
}

fn names_answer() -> Value {
    query_answer(
        &[("name", "Instance", "text")],
        &[
            vec![json!("inst1.example.com")],
            vec![json!("inst2.example.com")],
            vec![json!("inst3.example.com")],
            vec![json!("noresolve-inst")],
        ],
    )
}

#[test]
fn multi_instance_operations() {
    let Some((args, out, err, rc)) = case("instance_startup_multiple") else {
        return;
    };
    let env = master(59, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    assert_eq!(
        submitted_ops(&env),
        vec![
            json!({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "inst3.example.com", "force": false,
                   "ignore_offline_nodes": false, "no_remember": false, "startup_paused": false,
                   "debug_level": 0, "dry_run": false}),
            json!({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "noresolve-inst", "force": false,
                   "ignore_offline_nodes": false, "no_remember": false, "startup_paused": false,
                   "debug_level": 0, "dry_run": false}),
        ]
    );
    // several instances without --force-multiple and without a terminal: nothing
    let Some((args, out, err, rc)) = case("err_shutdown_multiple_no_tty") else {
        return;
    };
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    assert!(submitted_ops(&env).is_empty());
    // the same with a "y" on the terminal goes ahead
    let env = master(61, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    env.answers.borrow_mut().push_back(Some("y".into()));
    let (rc, out, _) = run_cmd(&env, &a);
    assert_eq!(rc, 0);
    assert!(out.starts_with("Submitted jobs 61, 62\n"), "{out}");
    // one instance, short name expanded
    let Some((args, out, err, rc)) = case("instance_reboot") else {
        return;
    };
    let env = master(39, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    assert_eq!(submitted_ops(&env)[0]["reboot_type"], json!("hard"));
    assert_eq!(submitted_ops(&env)[0]["shutdown_timeout"], json!(120));
    // unknown instance
    let Some((args, out, err, rc)) = case("err_unknown_instance_startup") else {
        return;
    };
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    let Some((args, out, err, rc)) = case("err_missing_argument_startup") else {
        return;
    };
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
}

#[test]
fn shutdown_and_startup_options() {
    let (o, _) = parse_cmd(&GROUP, "shutdown", &["--timeout=0", "--no-remember", "x"]);
    assert_eq!(
        build_shutdown("x", &o).unwrap(),
        json!({"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": "x", "force": false, "timeout": 0,
               "ignore_offline_nodes": false, "no_remember": true})
    );
    let (o, _) = parse_cmd(
        &GROUP,
        "startup",
        &["-H", "acpi=false", "-B", "maxmem=256", "x"],
    );
    let op = build_startup("x", &o).unwrap();
    assert_eq!(op["hvparams"], json!({"acpi": "false"}));
    assert_eq!(op["beparams"], json!({"maxmem": "256"}));
    let (o, _) = parse_cmd(&GROUP, "reboot", &["--type=soft", "x"]);
    assert_eq!(build_reboot("x", &o).unwrap()["reboot_type"], json!("soft"));
    let (o, _) = parse_cmd(&GROUP, "reboot", &["--all"]);
    assert_eq!(o.str("multi_mode").as_deref(), Some(modes::CLUSTER));
}

#[test]
fn remove_without_force_and_terminal_does_nothing() {
    let Some((args, out, err, rc)) = case("err_remove_no_force_no_tty") else {
        return;
    };
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    assert!(submitted_ops(&env).is_empty());
    let Some((args, out, err, rc)) = case("instance_remove_submit") else {
        return;
    };
    let env = master(64, vec![], |_, _| None);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_INSTANCE_REMOVE", "instance_name": "inst3.example.com",
               "ignore_failures": false, "shutdown_timeout": 120, "debug_level": 0, "dry_run": false})
    );
}

#[test]
fn rename_modify_and_disks() {
    for (name, result) in [
        ("instance_rename", json!("renamed1.example.com")),
        ("instance_modify_multi", json!([["be/memory", "512"], ["be/vcpus", 2]])),
        ("instance_modify_default", json!([["be/memory", "default"]])),
        ("instance_activate_disks", json!([["node1.example.com", "disk/0", "/srv/ganeti/file-storage/inst2.example.com/f3a4c88d-eb25-4d76-8f6e-26977bb40b57.file.disk0"]])),
        ("instance_deactivate_disks", Value::Null),
        ("instance_add_tags", Value::Null),
    ] {
        let Some((args, out, err, rc)) = case(name) else {
            return;
        };
        let env = master(40, vec![JobPlan::ok(result)], |_, _| None);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(run_cmd(&env, &a), (rc, out, err), "{name}");
    }
    let (o, a) = parse_cmd(
        &GROUP,
        "modify",
        &["--ignore-ipolicy", "-B", "memory=512,vcpus=2", "x"],
    );
    let ModifyPlan::Op(op) = build_modify(&o, &a).unwrap() else {
        panic!()
    };
    assert_eq!(op["beparams"], json!({"memory": 512, "vcpus": 2}));
    assert_eq!(op["ignore_ipolicy"], json!(true));
    assert_eq!(op["nics"], json!([]));
    assert!(op.get("offline").is_none());
    let (o, a) = parse_cmd(
        &GROUP,
        "modify",
        &[
            "--net",
            "add:mode=bridged",
            "--net",
            "0:link=br1",
            "--disk",
            "add:size=1G",
            "--disk",
            "1:remove",
            "--offline",
            "x",
        ],
    );
    let ModifyPlan::Op(op) = build_modify(&o, &a).unwrap() else {
        panic!()
    };
    assert_eq!(
        op["nics"],
        json!([["add", -1, {"mode": "bridged"}], ["modify", "0", {"link": "br1"}]])
    );
    assert_eq!(
        op["disks"],
        json!([["add", -1, {"size": 1024}], ["remove", "1", {}]])
    );
    assert_eq!(op["offline"], json!(true));
    let (o, a) = parse_cmd(&GROUP, "modify", &["--disk", "add:mode=rw", "x"]);
    assert!(build_modify(&o, &a).is_err());
    let (o, a) = parse_cmd(&GROUP, "modify", &["--disk", "0:add,remove", "x"]);
    assert!(build_modify(&o, &a).is_err());
    let (o, a) = parse_cmd(
        &GROUP,
        "modify",
        &["-t", "plain", "--file-driver", "loop", "x"],
    );
    assert!(matches!(
        build_modify(&o, &a).unwrap(),
        ModifyPlan::Refuse(_, 1)
    ));
    let (o, a) = parse_cmd(&GROUP, "grow-disk", &["--absolute", "x", "0", "1G"]);
    assert_eq!(
        build_grow_disk(&o, &a).unwrap(),
        json!({"OP_ID": "OP_INSTANCE_GROW_DISK", "instance_name": "x", "disk": 0, "amount": 1024,
               "wait_for_sync": true, "absolute": true, "ignore_ipolicy": false})
    );
    let (o, a) = parse_cmd(&GROUP, "grow-disk", &["x", "one", "1G"]);
    assert!(build_grow_disk(&o, &a).is_err());
    let (o, a) = parse_cmd(&GROUP, "replace-disks", &["-p", "--disks", "0,1", "x"]);
    assert_eq!(
        build_replace_disks(&o, &a).unwrap()["mode"],
        json!("replace_on_primary")
    );
    let (o, a) = parse_cmd(&GROUP, "replace-disks", &["-p", "-s", "x"]);
    assert!(build_replace_disks(&o, &a).is_err());
}

#[test]
fn reinstall_and_grow_print_logs() {
    let Some((args, out, err, rc)) = case("instance_reinstall") else {
        return;
    };
    let env = master(
        58,
        vec![
            JobPlan::ok(Value::Null).with_logs(&[" - INFO: Running instance OS create scripts..."])
        ],
        |m, _| (m == Method::Query).then(|| Ok(names_answer())),
    );
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (our_rc, our_out, our_err) = run_cmd(&env, &a);
    assert_eq!((our_rc, our_err.as_str()), (rc, err.as_str()));
    assert_eq!(strip_ctime(&our_out), strip_ctime(&out));
}

fn inst2_data() -> Value {
    let path = "/srv/ganeti/file-storage/inst2.example.com/f3a4c88d-eb25-4d76-8f6e-26977bb40b57.file.disk0";
    json!({
        "inst2.example.com": {
            "name": "inst2.example.com", "uuid": "2cb31f01-1be4-43e8-b0ce-62046058d4be",
            "serial_no": 2, "ctime": 1_795_447_034.5, "mtime": 1_795_447_034.6,
            "config_state": "down", "run_state": "down",
            "pnode": "node1.example.com", "pnode_group_name": "default",
            "pnode_group_uuid": "61440173-98b1-49ff-9e52-f4e04ae37243",
            "snodes": [], "snodes_group_names": [], "snodes_group_uuids": [],
            "os": "noop", "os_instance": {}, "os_actual": {},
            "network_port": null, "hypervisor": "fake", "hv_instance": {}, "hv_actual": {},
            "be_instance": {},
            "be_actual": {"always_failover": false, "auto_balance": true, "maxmem": 128,
                          "minmem": 128, "spindle_use": 1, "vcpus": 1},
            "nics": [[null, "ffc0d4a1-555b-4efd-ac6f-70a2cb9de7a8", null, "aa:00:00:17:98:77",
                      "bridged", "gntbr0", "", null, null]],
            "disk_template": "file",
            "disks": [{"iv_name": "disk/0", "size": 128, "dev_type": "file", "spindles": null,
                       "mode": "rw", "logical_id": ["loop", path],
                       "pstatus": [path, null, null, null, null, false, "ok"],
                       "sstatus": null, "name": null,
                       "uuid": "3b447959-11a1-41c7-98ee-d49b70ce4c54", "children": []}]
        }
    })
}

#[test]
fn info_matches_reference() {
    let Some(expected) = fixture("instance_info_file.out") else {
        return;
    };
    let env = master(31, vec![JobPlan::ok(inst2_data())], |_, _| None);
    let (rc, out, err) = run_cmd(&env, &["gnt-instance", "info", "inst2.example.com"]);
    assert_eq!((rc, err.as_str()), (0, ""));
    let ts = ganeti_clifmt::timefmt::format_time(Some(1_795_447_034.5));
    let expected = expected
        .replace(
            "Creation time: 2026-11-23 15:17:14",
            &format!("Creation time: {ts}"),
        )
        .replace(
            "Modification time: 2026-11-23 15:17:14",
            &format!("Modification time: {ts}"),
        );
    assert_eq!(out, expected);
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_INSTANCE_QUERY_DATA", "instances": ["inst2.example.com"],
               "static": false, "use_locking": true, "debug_level": 0})
    );
    // --static asks for the configuration only
    let env = master(31, vec![JobPlan::ok(json!({}))], |_, _| None);
    let (rc, out, _) = run_cmd(&env, &["gnt-instance", "info", "-s", "--all"]);
    assert_eq!((rc, out.as_str()), (1, "No instances.\n"));
    assert_eq!(submitted_ops(&env)[0]["use_locking"], json!(false));
    let env = master(31, vec![], |_, _| None);
    let (rc, _, err) = run_cmd(&env, &["gnt-instance", "info", "--all", "x"]);
    assert_eq!(
        (rc, err.as_str()),
        (1, "Cannot use --all if you specify instance names.\n")
    );
}

#[test]
fn console_of_fake_instances() {
    let Some((args, out, err, rc)) = case("instance_console_show_cmd") else {
        return;
    };
    let env = master(1, vec![], |m, _| match m {
        Method::QueryConfigValues => Some(Ok(json!(["cluster.example.com"]))),
        Method::Query => Some(Ok(query_answer(
            &[
                ("name", "Instance", "text"),
                ("console", "Console", "other"),
                ("oper_state", "Running", "bool"),
            ],
            &[vec![
                json!("inst1.example.com"),
                json!({"instance": "inst1.example.com", "kind": "msg", "message": "Console not available for fake hypervisor"}),
                json!(true),
            ]],
        ))),
        _ => None,
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    assert_eq!(shell_quote("a b"), "'a b'");
    assert_eq!(shell_quote("x-1.y"), "x-1.y");
}

#[test]
fn alias_and_argv0() {
    let env = master(36, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    let (rc, out, _) = run_cmd(&env, &["/usr/sbin/gnt-instance", "start", "inst2"]);
    assert_eq!(
        (rc, out.as_str()),
        (0, "Waiting for job 36 for inst2.example.com ...\n")
    );
    // `gnt instance ...` is the same tool
    let env = master(37, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(names_answer()))
    });
    let (rc, out, _) = run_cmd(&env, &["gnt", "instance", "stop", "inst2.example.com"]);
    assert_eq!(
        (rc, out.as_str()),
        (0, "Waiting for job 37 for inst2.example.com ...\n")
    );
    let submit = env.calls(Method::SubmitManyJobs);
    assert_eq!(submit[0][0][0][0]["reason"][0][1], json!("stop"));
    let _ = argv(&[]);
}

#[test]
fn disk_commands_build_ganeti_opcodes() {
    let (o, a) = parse_cmd(
        &GROUP,
        "recreate-disks",
        &[
            "--disk",
            "0:size=1G,mode=ro",
            "--disk",
            "2:spindles=2",
            "-n",
            "node1",
            "x",
        ],
    );
    assert_eq!(
        build_recreate_disks(&o, &a).unwrap(),
        json!({"OP_ID": "OP_INSTANCE_RECREATE_DISKS", "instance_name": "x",
               "disks": [[0, {"size": 1024, "mode": "ro"}], [2, {"spindles": 2}]],
               "nodes": ["node1"]})
    );
    let (o, a) = parse_cmd(
        &GROUP,
        "recreate-disks",
        &["-n", "node1", "-I", "hail", "x"],
    );
    assert_eq!(
        build_recreate_disks(&o, &a).unwrap_err().to_string(),
        "('At most one of either --nodes or --iallocator can be passed', 'wrong_input')"
    );
    let (o, a) = parse_cmd(&GROUP, "recreate-disks", &["--disk", "0:size=big", "x"]);
    let e = build_recreate_disks(&o, &a).unwrap_err().to_string();
    assert!(e.starts_with("('Invalid disk size for disk 0: "), "{e}");

    // activate-disks prints Python's None for a device without a path;
    // deactivate-disks -f asks for force
    let env = master(
        40,
        vec![
            JobPlan::ok(json!([["node1.example.com", "disk/0", null]])),
            JobPlan::ok(Value::Null),
        ],
        |_, _| None,
    );
    let (rc, out, _) = run_cmd(&env, &["gnt-instance", "activate-disks", "x"]);
    assert_eq!((rc, out.as_str()), (0, "node1.example.com:disk/0:None\n"));
    let (rc, _, _) = run_cmd(&env, &["gnt-instance", "deactivate-disks", "-f", "x"]);
    assert_eq!(rc, 0);
    let ops = submitted_ops(&env);
    assert_eq!(
        (
            &ops[0]["OP_ID"],
            &ops[0]["ignore_size"],
            &ops[0]["wait_for_sync"]
        ),
        (
            &json!("OP_INSTANCE_ACTIVATE_DISKS"),
            &json!(false),
            &json!(false)
        )
    );
    assert_eq!(
        (&ops[1]["OP_ID"], &ops[1]["force"]),
        (&json!("OP_INSTANCE_DEACTIVATE_DISKS"), &json!(true))
    );

    // reinstall: OS and parameters as given
    let (o, _) = parse_cmd(
        &GROUP,
        "reinstall",
        &[
            "-f",
            "-o",
            "other",
            "-O",
            "a=1",
            "--os-parameters-secret",
            "pw=x",
            "x",
        ],
    );
    let op = build_reinstall("x", o.str("os").as_deref(), &o);
    assert_eq!(
        (&op["os_type"], &op["osparams"], &op["osparams_secret"]),
        (&json!("other"), &json!({"a": "1"}), &json!({"pw": "x"}))
    );
}

#[test]
fn modify_hotplug_flags() {
    let (o, a) = parse_cmd(&GROUP, "modify", &["--hotplug", "--net", "add", "x"]);
    let ModifyPlan::Op(op) = build_modify(&o, &a).unwrap() else {
        panic!()
    };
    assert_eq!(
        (&op["hotplug"], &op["hotplug_if_possible"]),
        (&json!(true), &json!(false))
    );
    let (o, a) = parse_cmd(
        &GROUP,
        "modify",
        &["--hotplug-if-possible", "--net", "0:remove", "x"],
    );
    let ModifyPlan::Op(op) = build_modify(&o, &a).unwrap() else {
        panic!()
    };
    assert_eq!(
        (&op["hotplug"], &op["hotplug_if_possible"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(op["nics"], json!([["remove", "0", {}]]));
    let (o, a) = parse_cmd(&GROUP, "modify", &["--net", "add", "x"]);
    let ModifyPlan::Op(op) = build_modify(&o, &a).unwrap() else {
        panic!()
    };
    assert_eq!(
        (&op["hotplug"], &op["hotplug_if_possible"]),
        (&json!(false), &json!(false))
    );

    // a hot-modified NIC is unplugged and plugged again: Ganeti asks first
    let hot_modify = [
        "gnt-instance",
        "modify",
        "--hotplug",
        "--net",
        "0:link=br1",
        "x",
    ];
    let env = master(
        7,
        vec![JobPlan::ok(json!([
            ["nic.link/0", "br1"],
            ["nic/0", "hotplug:done"]
        ]))],
        |_, _| None,
    );
    let (rc, _, _) = run_cmd(&env, &hot_modify);
    assert_eq!(rc, 1);
    assert!(submitted_ops(&env).is_empty());
    let env = master(
        7,
        vec![JobPlan::ok(json!([
            ["nic.link/0", "br1"],
            ["nic/0", "hotplug:done"]
        ]))],
        |_, _| None,
    );
    env.answers.borrow_mut().push_back(Some("y".into()));
    let (rc, out, _) = run_cmd(&env, &hot_modify);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains(" - nic/0 -> hotplug:done\n"), "{out}");
    assert_eq!(submitted_ops(&env)[0]["hotplug"], json!(true));
    // --force skips the question; adding needs none
    for argv in [
        &[
            "gnt-instance",
            "modify",
            "--hotplug",
            "-f",
            "--net",
            "0:link=br1",
            "x",
        ][..],
        &["gnt-instance", "modify", "--hotplug", "--net", "add", "x"][..],
    ] {
        let env = master(
            7,
            vec![JobPlan::ok(json!([["nic.1", "hotplug:done"]]))],
            |_, _| None,
        );
        assert_eq!(run_cmd(&env, argv).0, 0, "{argv:?}");
        assert_eq!(submitted_ops(&env).len(), 1, "{argv:?}");
    }
}
