//! Tests of `gnt-node`, `gnt-group`, `gnt-network`, `gnt-job`, `gnt-os` and
//! `gnt-debug` against canned master answers and the reference fixtures.

use ganeti_luxi::Method;
use serde_json::{json, Value};

use crate::cmd::fakemaster::{master, query_answer, JobPlan};
use crate::cmd::testutil::{parse_cmd, run_cmd, submitted_ops};
use crate::context::testing::FakeEnv;
use crate::fixture_tests::case;

/// Replace every `YYYY-MM-DD HH:MM:SS` by `<T>` (local-time rendering of
/// the test machine need not be the reference's UTC).
fn mask_times(s: &str) -> String {
    let b: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let pats = ["dddd-dd-dd dd:dd:dd", "aaa aaa Dd dd:dd:dd dddd"];
    while i < b.len() {
        let found = pats.iter().find(|pat| {
            i + pat.len() <= b.len()
                && pat.chars().enumerate().all(|(k, p)| match p {
                    'd' => b[i + k].is_ascii_digit(),
                    'D' => b[i + k].is_ascii_digit() || b[i + k] == ' ',
                    'a' => b[i + k].is_ascii_alphabetic(),
                    c => b[i + k] == c,
                })
        });
        if let Some(pat) = found {
            out.push_str("<T>");
            i += pat.len();
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// Run a recorded case against `env` and compare everything.
fn check(env: &FakeEnv, name: &str) {
    let Some((args, out, err, rc)) = case(name) else {
        return;
    };
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (our_rc, our_out, our_err) = run_cmd(env, &a);
    assert_eq!(
        (our_rc, mask_times(&our_out), our_err),
        (rc, mask_times(&out), err),
        "{name}"
    );
}

/// A master answering `Query` with `answer` for resource `what`.
fn query_master(what: &'static str, answer: Value) -> FakeEnv {
    master(1, vec![], move |m, a| {
        (m == Method::Query).then(|| {
            assert_eq!(a[0], json!(what));
            Ok(answer.clone())
        })
    })
}

// ---------------------------------------------------------------------------
// gnt-node

fn node_answer() -> Value {
    query_answer(
        &[
            ("name", "Node", "text"),
            ("dtotal", "DTotal", "unit"),
            ("dfree", "DFree", "unit"),
            ("mtotal", "MTotal", "unit"),
            ("mnode", "MNode", "unit"),
            ("mfree", "MFree", "unit"),
            ("pinst_cnt", "Pinst", "number"),
            ("sinst_cnt", "Sinst", "number"),
        ],
        &[vec![
            json!("node1.example.com"),
            json!(258_019),
            json!(81009),
            json!(24105),
            json!(255),
            json!(23569),
            json!(0),
            json!(0),
        ]],
    )
}

#[test]
fn node_list_matches_reference() {
    for name in [
        "node_list",
        "node_list_name",
        "node_list_sep",
        "node_list_noheaders_sep",
        "node_list_units_g",
        "node_list_units_h",
        "node_list_units_t",
    ] {
        check(&query_master("node", node_answer()), name);
    }
}

#[test]
fn node_info_matches_reference() {
    let nd = ganeti_types::constants::nd_defaults();
    let answer = query_answer(
        &[("name", "Node", "text")],
        &[vec![
            json!("node1.example.com"),
            json!("198.51.100.10"),
            json!("198.51.100.10"),
            json!([]),
            json!([]),
            json!(true),
            json!(false),
            json!(false),
            json!(true),
            json!(true),
            Value::Null,
            json!(nd),
            json!({}),
        ]],
    );
    check(&query_master("node", answer.clone()), "node_info");
    check(&query_master("node", answer.clone()), "node_info_name");
    check(&query_master("node", answer), "err_unknown_node_info");
}

#[test]
fn node_storage_and_modify() {
    let env = master(
        13,
        vec![JobPlan::ok(json!([[
            "node1.example.com",
            "file",
            "/srv/ganeti/file-storage",
            258_019,
            0,
            81009,
            true
        ]]))],
        |_, _| None,
    );
    check(&env, "node_list_storage");
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_NODE_QUERY_STORAGE", "nodes": [],
               "output_fields": ["node", "type", "name", "size", "used", "free", "allocatable"],
               "debug_level": 0})
    );
    let g = &crate::cmd::node::GROUP;
    let (o, a) = parse_cmd(
        g,
        "modify",
        &[
            "--drained",
            "yes",
            "--node-parameters",
            "ssh_port=2222",
            "n1",
        ],
    );
    assert_eq!(
        crate::cmd::node::build_modify(&o, &a).unwrap().unwrap(),
        json!({"OP_ID": "OP_NODE_SET_PARAMS", "node_name": "n1", "drained": true, "force": false,
               "ndparams": {"ssh_port": 2222}, "auto_promote": false, "hv_state": {}, "disk_state": {}})
    );
    let (o, a) = parse_cmd(g, "modify", &["n1"]);
    assert!(crate::cmd::node::build_modify(&o, &a).unwrap().is_none());
    // bringing a node online needs a confirmation
    let env = master(
        1,
        vec![JobPlan::ok(json!([["offline", "False"]]))],
        |_, _| None,
    );
    assert_eq!(
        run_cmd(&env, &["gnt-node", "modify", "-O", "no", "n1"]).0,
        1
    );
    assert!(submitted_ops(&env).is_empty());
    let (rc, out, _) = run_cmd(&env, &["gnt-node", "modify", "-f", "-O", "no", "n1"]);
    assert_eq!(
        (rc, out.as_str()),
        (0, "Modified node n1\n - offline -> False\n")
    );
}

// ---------------------------------------------------------------------------
// gnt-group

fn group_list_answer(with_grp2: bool) -> Value {
    let nd = json!({"oob_program": "", "spindle_count": 1, "exclusive_storage": false, "ovs": false,
                    "ovs_name": "switch1", "ovs_link": "", "ssh_port": 22, "cpu_speed": 1});
    let mut rows = vec![vec![
        json!("default"),
        json!(1),
        json!(0),
        json!("preferred"),
        nd.clone(),
    ]];
    if with_grp2 {
        rows.push(vec![
            json!("grp2"),
            json!(0),
            json!(0),
            json!("last_resort"),
            nd,
        ]);
    }
    query_answer(
        &[
            ("name", "Group", "text"),
            ("node_cnt", "Nodes", "number"),
            ("pinst_cnt", "Instances", "number"),
            ("alloc_policy", "AllocPolicy", "text"),
            ("ndparams", "NDParams", "other"),
        ],
        &rows,
    )
}

#[test]
fn group_list_matches_reference() {
    check(
        &query_master("group", group_list_answer(false)),
        "group_list",
    );
    check(
        &query_master("group", group_list_answer(true)),
        "group_list_two",
    );
    let answer = json!({
        "fields": [{"name": "name", "title": "Group", "kind": "text", "doc": ""},
                   {"name": "networks", "title": "networks", "kind": "unknown", "doc": ""}],
        "data": [[[0, "default"], [1, null]]]
    });
    check(&query_master("group", answer), "group_list_after_connect");
}

fn group_info_row() -> Vec<Value> {
    let nd = ganeti_types::constants::nd_defaults();
    let dp = ganeti_types::constants::disk_defaults();
    let ispec = |c: i64, dc: i64, ds: i64, m: i64, n: i64, s: i64| json!({"cpu-count": c, "disk-count": dc, "disk-size": ds, "memory-size": m, "nic-count": n, "spindle-use": s});
    let ipol = json!({
        "minmax": [{"min": ispec(1, 1, 1024, 128, 1, 1), "max": ispec(8, 16, 1_048_576, 32768, 8, 12)}],
        "disk-templates": ["sharedfile", "file", "diskless"],
        "spindle-ratio": 32.0, "vcpu-ratio": 4.0
    });
    vec![
        json!("default"),
        json!(nd),
        json!({}),
        json!(dp),
        json!({}),
        ipol,
        json!({}),
    ]
}

#[test]
fn group_info_matches_reference() {
    let answer = query_answer(&[("name", "Group", "text")], &[group_info_row()]);
    check(&query_master("group", answer.clone()), "group_info_default");
    check(&query_master("group", answer), "err_unknown_group_info");
}

#[test]
fn group_commands() {
    let env = master(14, vec![], |_, _| None);
    check(&env, "group_add");
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_GROUP_ADD", "group_name": "grp2", "alloc_policy": "last_resort",
               "diskparams": {}, "ipolicy": {}, "hv_state": {}, "disk_state": {},
               "debug_level": 0, "dry_run": false})
    );
    let env = master(15, vec![], |_, _| None);
    check(&env, "group_rename");
    assert_eq!(submitted_ops(&env)[0]["new_name"], json!("grp3"));
    let env = master(
        18,
        vec![JobPlan::err(json!(["OpPrereqError", ["Group 'default' not empty, has the following nodes: 9ccd3700-90e2-438d-a116-962b6c671464", "wrong_state"]]))],
        |_, _| None,
    );
    check(&env, "err_group_remove_nonempty");
    let g = &crate::cmd::group::GROUP;
    let (o, a) = parse_cmd(
        g,
        "modify",
        &[
            "--ipolicy-vcpu-ratio",
            "default",
            "--alloc-policy",
            "preferred",
            "grp",
        ],
    );
    assert_eq!(
        crate::cmd::group::build_modify(&o, &a).unwrap().unwrap(),
        json!({"OP_ID": "OP_GROUP_SET_PARAMS", "group_name": "grp", "alloc_policy": "preferred",
               "hv_state": {}, "disk_state": {}, "diskparams": {}, "ipolicy": {"vcpu-ratio": "default"}})
    );
    let (o, a) = parse_cmd(g, "modify", &["grp"]);
    assert!(crate::cmd::group::build_modify(&o, &a).unwrap().is_none());
    let env = master(1, vec![], |_, _| None);
    let (rc, out, _) = run_cmd(
        &env,
        &["gnt-group", "assign-nodes", "--force", "grp", "n1", "n2"],
    );
    assert_eq!((rc, out.as_str()), (0, ""));
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_GROUP_ASSIGN_NODES", "group_name": "grp", "nodes": ["n1", "n2"],
               "force": true, "debug_level": 0, "dry_run": false})
    );
    let row = group_info_row();
    let answer = query_answer(
        &[("name", "Group", "text")],
        &[vec![row[0].clone(), row[5].clone()]],
    );
    let env = query_master("group", answer);
    let (rc, out, _) = run_cmd(
        &env,
        &["gnt-group", "show-ispecs-cmd", "--include-defaults"],
    );
    assert_eq!(rc, 0);
    assert_eq!(out, "gnt-group add --ipolicy-bounds-specs min:cpu-count=1,disk-count=1,disk-size=1024,memory-size=128,nic-count=1,spindle-use=1/max:cpu-count=8,disk-count=16,disk-size=1048576,memory-size=32768,nic-count=8,spindle-use=12 default\n");
}

// ---------------------------------------------------------------------------
// gnt-network

fn network_list_answer(connected: bool) -> Value {
    let groups = if connected {
        json!([["default", "bridged", "gntbr0", ""]])
    } else {
        json!([])
    };
    json!({
        "fields": [
            {"name": "name", "title": "Network", "kind": "text", "doc": ""},
            {"name": "network", "title": "Subnet", "kind": "text", "doc": ""},
            {"name": "gateway", "title": "Gateway", "kind": "other", "doc": ""},
            {"name": "mac_prefix", "title": "MacPrefix", "kind": "other", "doc": ""},
            {"name": "group_list", "title": "GroupList", "kind": "other", "doc": ""},
            {"name": "tags", "title": "Tags", "kind": "other", "doc": ""}
        ],
        "data": [
            [[0, "net1"], [0, "10.1.0.0/24"], [0, "10.1.0.1"], [0, "aa:00:00"], [0, groups], [0, []]],
            [[0, "net2"], [0, "10.2.0.0/28"], [3, null], [3, null], [0, []], [0, ["ntag"]]]
        ]
    })
}

#[test]
fn network_list_matches_reference() {
    check(
        &query_master("network", network_list_answer(false)),
        "network_list",
    );
    check(
        &query_master("network", network_list_answer(true)),
        "network_list_connected",
    );
    let empty = json!({"fields": network_list_answer(false)["fields"], "data": []});
    check(&query_master("network", empty), "network_list_empty");
}

fn net1_row(connected: bool) -> Vec<Value> {
    let map = format!("XX...X{}X", ".".repeat(249));
    vec![
        json!("net1"),
        json!("10.1.0.0/24"),
        json!("10.1.0.1"),
        Value::Null,
        Value::Null,
        json!("aa:00:00"),
        json!(252),
        json!(4),
        json!(map),
        if connected {
            json!([["default", "bridged", "gntbr0", ""]])
        } else {
            json!([])
        },
        json!([]),
        json!("10.1.0.0, 10.1.0.1, 10.1.0.5, 10.1.0.255"),
        json!(1),
        json!("79b3c1d8-f1f5-4ae6-bc10-8c7d702bcfd2"),
    ]
}

fn net2_row() -> Vec<Value> {
    vec![
        json!("net2"),
        json!("10.2.0.0/28"),
        Value::Null,
        json!("2001:db8::/64"),
        json!("2001:db8::1"),
        Value::Null,
        json!(14),
        json!(2),
        json!("X..............X"),
        json!([]),
        json!([]),
        json!("10.2.0.0, 10.2.0.15"),
        json!(1),
        json!("c4d8c1d7-002d-4c60-8da6-e8940da4121d"),
    ]
}

#[test]
fn network_info_matches_reference() {
    let answer = query_answer(
        &[("name", "Network", "text")],
        &[net1_row(false), net2_row()],
    );
    check(&query_master("network", answer.clone()), "network_info");
    check(&query_master("network", answer.clone()), "network_info_all");
    check(&query_master("network", answer), "err_network_unknown");
    let answer = query_answer(&[("name", "Network", "text")], &[net1_row(true)]);
    check(&query_master("network", answer), "network_info_connected");
    // instances using the network list their addresses in it
    let mut row = net1_row(false);
    row[10] = json!(["inst1"]);
    let lines = crate::cmd::network::format_network_info(
        &row,
        &[(
            "inst1".into(),
            json!(["10.1.0.7", "192.0.2.1"]),
            json!(["79b3c1d8-f1f5-4ae6-bc10-8c7d702bcfd2", "x"]),
        )],
    );
    assert_eq!(
        lines[lines.len() - 2..],
        [
            "  used by 1 instances:".to_string(),
            "    inst1: 0:10.1.0.7".to_string()
        ]
    );
}

#[test]
fn network_commands() {
    let env = master(90, vec![], |_, _| None);
    check(&env, "network_add");
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_NETWORK_ADD", "network_name": "net1", "gateway": "10.1.0.1",
               "network": "10.1.0.0/24", "mac_prefix": "aa:00:00", "add_reserved_ips": ["10.1.0.5"],
               "conflicts_check": true, "tags": [], "debug_level": 0, "dry_run": false})
    );
    let env = master(91, vec![], |_, _| None);
    check(&env, "network_add_v6");
    assert_eq!(submitted_ops(&env)[0]["tags"], json!(["ntag"]));
    let env = master(92, vec![], |_, _| None);
    check(&env, "network_connect");
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_NETWORK_CONNECT", "group_name": "default", "network_name": "net1",
               "network_mode": "bridged", "network_link": "gntbr0", "network_vlan": "",
               "conflicts_check": true, "debug_level": 0})
    );
    let env = master(
        93,
        vec![JobPlan::ok(Value::Null)
            .with_logs(&[" - WARNING: Network 'net1' is already mapped to group 'default'"])],
        |_, _| None,
    );
    check(&env, "err_network_connect_again");
    // without groups: every group (by uuid)
    let env = master(94, vec![], |m, _| {
        (m == Method::Query).then(|| {
            Ok(query_answer(
                &[("uuid", "UUID", "text")],
                &[vec![json!("g-1")], vec![json!("g-2")]],
            ))
        })
    });
    run_cmd(&env, &["gnt-network", "disconnect", "net1"]);
    let ops = submitted_ops(&env);
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1]["group_name"], json!("g-2"));
    let env = master(1, vec![], |_, _| None);
    let (rc, _, err) = run_cmd(&env, &["gnt-network", "add", "net3"]);
    assert_eq!(rc, 1);
    assert!(
        err.ends_with("The --network option must be given\n"),
        "{err}"
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-network", "modify", "net3"]);
    assert_eq!(
        (rc, err.as_str()),
        (1, "Please give at least one of the parameters.\n")
    );
}

// ---------------------------------------------------------------------------
// gnt-job

fn job_list_answer() -> Value {
    query_answer(
        &[
            ("id", "ID", "number"),
            ("status", "Status", "text"),
            ("summary", "Summary", "other"),
        ],
        &[
            vec![json!(1), json!("success"), json!(["CLUSTER_POST_INIT"])],
            vec![
                json!(2),
                json!("error"),
                json!(["CLUSTER_ACTIVATE_MASTER_IP"]),
            ],
        ],
    )
}

#[test]
fn job_list_matches_reference() {
    check(&query_master("job", job_list_answer()), "job_list_ids");
    let env = query_master("job", job_list_answer());
    run_cmd(&env, &["gnt-job", "list", "1", "2"]);
    assert_eq!(
        env.calls(Method::Query)[0],
        json!([
            "job",
            ["id", "status", "summary"],
            ["|", ["==", "id", 1], ["==", "id", 2]]
        ])
    );
    let env = query_master("job", job_list_answer());
    run_cmd(&env, &["gnt-job", "list", "--running"]);
    assert_eq!(
        env.calls(Method::Query)[0][2],
        json!(["|", ["==", "status", "running"]])
    );
    let env = query_master("job", job_list_answer());
    run_cmd(&env, &["gnt-job", "list", "--archived", "--pending"]);
    let q = &env.calls(Method::Query)[0];
    assert_eq!(q[1], json!(["id", "status", "summary", "archived"]));
    assert_eq!(
        q[2],
        json!([
            "|",
            ["==", "status", "queued"],
            ["==", "status", "waiting"],
            ["==", "status", "canceling"]
        ])
    );
    let env = query_master("job", job_list_answer());
    let (rc, _, err) = run_cmd(&env, &["gnt-job", "list", "x"]);
    assert_eq!(rc, 1);
    assert!(err.contains("Invalid job ID passed"), "{err}");
}

fn job1_row() -> Vec<Value> {
    vec![
        json!(1),
        json!("success"),
        json!([{"OP_ID": "OP_CLUSTER_POST_INIT", "comment": null, "debug_level": 0, "depends": null,
                "priority": 0,
                "reason": [["gnt:client:gnt-cluster", "init", 1_795_446_963_742_586_880_u64],
                           ["gnt:opcode:cluster_post_init", "job=1;index=0", 1_795_446_963_743_722_000_u64]]}]),
        json!([true]),
        json!(["success"]),
        json!([[]]),
        json!([[1_795_446_963, 883_129]]),
        json!([[1_795_446_963, 886_475]]),
        json!([[1_795_446_963, 922_185]]),
        json!([1_795_446_963, 743_722]),
        json!([1_795_446_963, 883_129]),
        json!([1_795_446_963, 922_194]),
    ]
}

#[test]
fn job_info_matches_reference() {
    let answer = query_answer(&[("id", "ID", "number")], &[job1_row()]);
    check(&query_master("job", answer), "job_info_1");
    // an unknown job: the row comes back with abnormal statuses
    let answer = json!({
        "fields": [{"name": "id", "title": "ID", "kind": "number", "doc": ""}],
        "data": [[[0, 99999], [2, null], [2, null], [2, null], [2, null], [2, null], [2, null],
                  [2, null], [2, null], [2, null], [2, null], [2, null]]]
    });
    check(&query_master("job", answer), "err_job_info_unknown");
    // a waiting job has no end yet
    let mut row = job1_row();
    row[1] = json!("waiting");
    row[11] = Value::Null;
    let info = crate::cmd::job::format_job_info(
        &row.into_iter()
            .map(|v| (ganeti_clifmt::table::ResultStatus::Normal, v))
            .collect::<Vec<_>>(),
    );
    let text = ganeti_clifmt::nested::render_generic_info(&info);
    assert!(
        text.contains("Processing end:   unknown (None)\nTotal processing time: N/A\n"),
        "{text}"
    );
}

#[test]
fn job_cancel_watch_archive() {
    let env = master(1, vec![], |m, a| {
        (m == Method::CancelJob).then(|| {
            Ok(match a[0].as_u64() {
                Some(89) => json!([true, "Job successfully cancelled"]),
                Some(88) => json!([
                    false,
                    "Job no longer waiting, can't cancel (informed it anyway)"
                ]),
                _ => json!([false, "Job 1 not found in queue"]),
            })
        })
    });
    check(&env, "job_cancel_waiting");
    check(&env, "job_cancel_running");
    check(&env, "err_job_cancel_finished");
    let (rc, _, err) = run_cmd(&env, &["gnt-job", "cancel"]);
    assert_eq!(rc, 1);
    assert!(err.ends_with("Either a status filter or job ID(s) must be specified and never both\n"));
    // with a status filter: the table, then the question (no terminal: 13)
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(job_list_answer()))
    });
    let (rc, out, _) = run_cmd(&env, &["gnt-job", "cancel", "--pending"]);
    assert_eq!(rc, 13);
    assert!(
        out.starts_with("ID Status  Summary\n 1 success CLUSTER_POST_INIT\n"),
        "{out}"
    );
    assert!(env.calls(Method::CancelJob).is_empty());
    // watch of a finished job: the header only
    let env = master(87, vec![JobPlan::ok(Value::Null)], |_, _| None);
    run_cmd(&env, &["gnt-debug", "delay", "--submit", "1"]);
    check(&env, "job_watch_finished");
    // watch of a failed job reports the failure
    let env = master(
        52,
        vec![JobPlan::err(json!(["OpExecError", ["boom"]]))],
        |_, _| None,
    );
    run_cmd(&env, &["gnt-debug", "delay", "--submit", "1"]);
    let (rc, out, err) = run_cmd(&env, &["gnt-job", "watch", "52"]);
    assert_eq!(rc, 1);
    assert_eq!(
        out,
        "Output from job 52 follows\n--------------------------\n"
    );
    assert_eq!(
        err,
        "Job 52 failed: Failure: command execution error:\nboom\n"
    );
    // an unknown job is a lost job
    let env = crate::context::testing::FakeEnv::new(|_, _| {
        Err(ganeti_luxi::LuxiError::Ganeti(
            ganeti_types::GanetiError::noent("Job 999 not found"),
        ))
    });
    let (rc, _, err) = run_cmd(&env, &["gnt-job", "watch", "999"]);
    assert_eq!(
        (rc, err.as_str()),
        (
            1,
            "Job 999 failed: Error checking job status: Job with id 999 lost\n"
        )
    );
    let env = master(1, vec![], |m, _| {
        (m == Method::ArchiveJob).then(|| Ok(json!(false)))
    });
    let (rc, _, err) = run_cmd(&env, &["gnt-job", "archive", "5"]);
    assert_eq!(
        (rc, err.as_str()),
        (1, "Failed to archive job with ID '5'\n")
    );
    let env = master(1, vec![], |m, _| {
        (m == Method::AutoArchiveJobs).then(|| Ok(json!([3, 0])))
    });
    assert_eq!(
        run_cmd(&env, &["gnt-job", "autoarchive", "1d"]).1,
        "Archived 3 jobs, 0 unchecked left\n"
    );
    assert_eq!(env.calls(Method::AutoArchiveJobs)[0][0], json!(86400));
    assert_eq!(crate::cmd::job::parse_timespec("2w").unwrap(), 1_209_600);
    assert!(crate::cmd::job::parse_timespec("h").is_err());
    assert!(crate::cmd::job::parse_timespec("x1").is_err());
}

#[test]
fn job_list_fields_matches_reference() {
    let Some((_, out, _, _)) = case("job_list_fields") else {
        return;
    };
    // rebuild the master's field descriptions from the reference table
    let kinds = [
        ("Boolean", "bool"),
        ("Custom", "other"),
        ("Number", "number"),
        ("Text", "text"),
        ("Timestamp", "timestamp"),
    ];
    let mut fields = Vec::new();
    for line in out.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let kind = kinds
            .iter()
            .find(|(t, _)| *t == cols[1])
            .map(|(_, k)| *k)
            .unwrap_or("other");
        let doc = cols[3..].join(" ");
        fields.push(json!({"name": cols[0], "title": cols[2], "kind": kind, "doc": doc}));
    }
    let env = master(1, vec![], move |m, _| {
        (m == Method::QueryFields).then(|| Ok(json!({"fields": fields})))
    });
    check(&env, "job_list_fields");
}

// ---------------------------------------------------------------------------
// gnt-os, gnt-debug

fn os_diagnose_result(fields: &[&str]) -> Value {
    let row: Vec<Value> = fields
        .iter()
        .map(|f| match *f {
            "name" => json!("noop"),
            "valid" | "trusted" => json!(true),
            "variants" | "parameters" => json!([]),
            "api_versions" => json!([10, 5]),
            "blacklisted" | "hidden" => json!(false),
            "os_hvp" | "osparams" => json!({}),
            "node_status" => json!({"9ccd3700-90e2-438d-a116-962b6c671464":
                [["/usr/share/ganeti/os/noop", true, "", [], [], [5, 10], true]]}),
            _ => Value::Null,
        })
        .collect();
    json!([row])
}

#[test]
fn os_commands_match_reference() {
    for (name, fields) in [
        ("os_list", &["name", "variants"][..]),
        ("os_list_noheaders", &["name", "variants"][..]),
        (
            "os_info",
            &[
                "name",
                "valid",
                "variants",
                "parameters",
                "api_versions",
                "blacklisted",
                "hidden",
                "os_hvp",
                "osparams",
                "trusted",
            ][..],
        ),
        (
            "os_info_noop",
            &[
                "name",
                "valid",
                "variants",
                "parameters",
                "api_versions",
                "blacklisted",
                "hidden",
                "os_hvp",
                "osparams",
                "trusted",
            ][..],
        ),
        (
            "err_unknown_os_info",
            &[
                "name",
                "valid",
                "variants",
                "parameters",
                "api_versions",
                "blacklisted",
                "hidden",
                "os_hvp",
                "osparams",
                "trusted",
            ][..],
        ),
        (
            "os_diagnose",
            &[
                "name",
                "valid",
                "variants",
                "node_status",
                "hidden",
                "blacklisted",
            ][..],
        ),
    ] {
        let env = master(19, vec![JobPlan::ok(os_diagnose_result(fields))], |_, _| {
            None
        });
        check(&env, name);
        assert_eq!(
            submitted_ops(&env)[0]["output_fields"],
            json!(fields),
            "{name}"
        );
    }
    // an empty answer (this release's master) lists nothing
    let env = master(19, vec![JobPlan::ok(json!([]))], |_, _| None);
    assert_eq!(
        run_cmd(&env, &["gnt-os", "list"]),
        (0, "Name\n".to_string(), String::new())
    );
}

#[test]
fn debug_delay_matches_reference() {
    let env = master(86, vec![], |_, _| None);
    check(&env, "debug_delay");
    let env = master(87, vec![], |_, _| None);
    check(&env, "debug_delay_submit");
    let env = master(88, vec![], |_, _| None);
    check(&env, "debug_delay_long_submit");
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_TEST_DELAY", "duration": 8.0, "on_master": true,
               "on_nodes": ["node1.example.com"], "repeat": 0, "interruptible": false,
               "no_locks": false, "debug_level": 0, "dry_run": false})
    );
    let env = master(
        85,
        vec![JobPlan::err(json!([
            "OpPrereqError",
            ["Duration must be greater than zero"]
        ]))],
        |_, _| None,
    );
    check(&env, "err_debug_delay_zero");
    // --print-jobid prints the id first
    let env = master(7, vec![], |_, _| None);
    let (rc, out, _) = run_cmd(&env, &["gnt-debug", "delay", "--print-jobid", "1"]);
    assert_eq!((rc, out.as_str()), (0, "7\n"));
    // a queued job is announced once on stderr while waiting
    let env = crate::context::testing::FakeEnv::new({
        let mut calls = 0;
        move |m, _| match m {
            Method::SubmitJob => Ok(json!(5)),
            Method::WaitForJobChange => {
                calls += 1;
                Ok(match calls {
                    1 => json!([["queued"], []]),
                    2 | 3 => json!("nochange"),
                    _ => json!([["success"], []]),
                })
            }
            Method::QueryJobs => Ok(json!([["success", ["success"], [null]]])),
            _ => Err(ganeti_luxi::LuxiError::Protocol("unexpected".into())),
        }
    });
    let (rc, _, err) = run_cmd(&env, &["gnt-debug", "delay", "1"]);
    assert_eq!((rc, err.as_str()), (0, "Job 5 is waiting in queue\n"));
}

/// The opcode each remaining command line submits (reason trail removed),
/// when the master accepts it with a `null` result.
#[test]
fn opcodes_of_simple_commands() {
    let cases: Vec<(Vec<&str>, Value)> = vec![
        (
            vec![
                "gnt-instance",
                "failover",
                "-f",
                "--shutdown-timeout",
                "30",
                "-n",
                "node2",
                "i1",
            ],
            json!({"OP_ID": "OP_INSTANCE_FAILOVER", "instance_name": "i1", "ignore_consistency": false,
                   "shutdown_timeout": 30, "target_node": "node2", "ignore_ipolicy": false,
                   "cleanup": false, "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-instance", "migrate", "-f", "--non-live", "i1"],
            json!({"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "i1", "mode": "non-live",
                   "cleanup": false, "allow_failover": false, "allow_runtime_changes": true,
                   "ignore_ipolicy": false, "ignore_hvversions": false, "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-instance", "move", "-f", "-n", "node2", "i1"],
            json!({"OP_ID": "OP_INSTANCE_MOVE", "instance_name": "i1", "target_node": "node2",
                   "compress": "none", "shutdown_timeout": 120, "ignore_consistency": false,
                   "ignore_ipolicy": false, "debug_level": 0, "dry_run": false}),
        ),
        (
            vec![
                "gnt-instance",
                "recreate-disks",
                "--disk",
                "0:size=2G",
                "-n",
                "node1",
                "i1",
            ],
            json!({"OP_ID": "OP_INSTANCE_RECREATE_DISKS", "instance_name": "i1",
                   "disks": [[0, {"size": 2048}]], "nodes": ["node1"], "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-instance", "deactivate-disks", "-f", "i1"],
            json!({"OP_ID": "OP_INSTANCE_DEACTIVATE_DISKS", "instance_name": "i1", "force": true,
                   "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-instance", "remove-tags", "i1", "t1"],
            json!({"OP_ID": "OP_TAGS_DEL", "kind": "instance", "name": "i1", "tags": ["t1"], "debug_level": 0}),
        ),
        (
            vec!["gnt-cluster", "rename", "-f", "new.example.com"],
            json!({"OP_ID": "OP_CLUSTER_RENAME", "name": "new.example.com", "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-cluster", "redist-conf"],
            json!({"OP_ID": "OP_CLUSTER_REDIST_CONF", "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-cluster", "repair-disk-sizes", "i1"],
            json!({"OP_ID": "OP_CLUSTER_REPAIR_DISK_SIZES", "instances": ["i1"], "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-cluster", "deactivate-master-ip", "--yes"],
            json!({"OP_ID": "OP_CLUSTER_DEACTIVATE_MASTER_IP", "debug_level": 0}),
        ),
        (
            vec!["gnt-node", "remove", "node2"],
            json!({"OP_ID": "OP_NODE_REMOVE", "node_name": "node2", "debug_level": 0, "dry_run": false}),
        ),
        (
            vec!["gnt-node", "add-tags", "node1", "x"],
            json!({"OP_ID": "OP_TAGS_SET", "kind": "node", "name": "node1", "tags": ["x"], "debug_level": 0}),
        ),
        (
            vec!["gnt-group", "add-tags", "g", "x"],
            json!({"OP_ID": "OP_TAGS_SET", "kind": "nodegroup", "name": "g", "tags": ["x"], "debug_level": 0}),
        ),
        (
            vec!["gnt-network", "remove", "--dry-run", "net1"],
            json!({"OP_ID": "OP_NETWORK_REMOVE", "network_name": "net1", "force": false,
                   "debug_level": 0, "dry_run": true}),
        ),
        (
            vec![
                "gnt-network",
                "modify",
                "--gateway",
                "10.0.0.1",
                "--remove-reserved-ips",
                "",
                "net1",
            ],
            json!({"OP_ID": "OP_NETWORK_SET_PARAMS", "network_name": "net1", "gateway": "10.0.0.1",
                   "remove_reserved_ips": [], "debug_level": 0, "dry_run": false}),
        ),
        (
            vec![
                "gnt-os",
                "modify",
                "-H",
                "fake:migration_mode=live",
                "--blacklisted",
                "no",
                "noop",
            ],
            json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "os_hvp": {"noop": {"fake": {"migration_mode": "live"}}},
                   "blacklisted_os": [["remove", "noop"]], "debug_level": 0, "dry_run": false}),
        ),
    ];
    for (argv, expected) in cases {
        let env = master(1, vec![], |m, _| {
            (m == Method::QueryConfigValues).then(|| Ok(json!(["cluster.example.com"])))
        });
        let (rc, _, err) = run_cmd(&env, &argv);
        assert_eq!((rc, err.as_str()), (0, ""), "{argv:?}");
        assert_eq!(submitted_ops(&env), vec![expected], "{argv:?}");
    }
    // the priority and reason options reach the opcode
    let env = master(1, vec![], |_, _| None);
    run_cmd(
        &env,
        &[
            "gnt-debug",
            "delay",
            "--priority",
            "low",
            "--reason",
            "test",
            "-d",
            "-d",
            "1",
        ],
    );
    let submit = env.calls(Method::SubmitJob);
    let op = &submit[0][0][0];
    assert_eq!(op["priority"], json!(10));
    assert_eq!(op["debug_level"], json!(2));
    assert_eq!(
        op["reason"][0],
        json!(["gnt:user", "test", 1_795_447_035_457_695_232_u64])
    );
    assert_eq!(op["reason"][1][0], json!("gnt:client:gnt-debug"));
    // change-groups spawned jobs are followed
    let env = master(
        40,
        vec![
            JobPlan::ok(json!({"jobs": [[true, 41]]})),
            JobPlan::ok(Value::Null),
        ],
        |_, _| None,
    );
    let (rc, out, _) = run_cmd(&env, &["gnt-instance", "change-group", "--to", "g2", "i1"]);
    assert_eq!(rc, 0);
    assert_eq!(
        out,
        "Submitted jobs 41\nWaiting for job 41 ...\nInstance 'i1' changed group successfully.\n"
    );
    assert_eq!(submitted_ops(&env)[0]["target_groups"], json!(["g2"]));
}

#[test]
fn broken_pipe_is_quiet() {
    struct Closed;
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let env = query_master("job", job_list_answer());
    let mut err = Vec::new();
    let rc = crate::run_with_env(
        vec!["gnt-job".into(), "list".into()],
        &env,
        &mut Closed,
        &mut err,
    );
    assert_eq!((rc, err.as_slice()), (1, &b""[..]));
}

#[test]
fn masking_helper() {
    assert_eq!(mask_times("a 2026-11-23 15:16:03.74 b"), "a <T>.74 b");
    assert_eq!(mask_times("2026-11-23"), "2026-11-23");
    assert_eq!(mask_times("Mon Nov  3 15:17:14 2026 x"), "<T> x");
}
