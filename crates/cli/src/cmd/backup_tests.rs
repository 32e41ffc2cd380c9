//! `gnt-backup` against a scripted master: the opcodes it sends, the list
//! as Ganeti 3.0.2 prints it, and its refusals.

use ganeti_luxi::Method;
use serde_json::{json, Value};

use super::*;
use crate::cmd::fakemaster::{master, query_answer, JobPlan};
use crate::cmd::testutil::{fixture, parse_cmd, run_cmd, submitted_ops};

fn export_rows(rows: &[(&str, Value)]) -> Value {
    let mut ans = query_answer(
        &[("node", "Node", "text"), ("export", "Export", "text")],
        &[],
    );
    ans["data"] = Value::Array(
        rows.iter()
            .map(|(n, e)| match e {
                Value::Null => json!([[0, n], [2, null]]),
                e => json!([[0, n], [0, e]]),
            })
            .collect(),
    );
    ans
}

#[test]
fn list_matches_the_recording() {
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| Ok(export_rows(&[("node1.example.com", Value::Null)])))
    });
    let (rc, out, err) = run_cmd(&env, &["gnt-backup", "list"]);
    let expected = fixture("backup_list.out").expect("recording");
    assert_eq!((rc, out.as_str(), err.as_str()), (0, expected.as_str(), ""));
    assert_eq!(
        env.calls(Method::Query)[0],
        json!(["export", ["node", "export"], null])
    );
}

#[test]
fn list_filters_by_node_and_lists_exports() {
    let env = master(1, vec![], |m, _| {
        (m == Method::Query).then(|| {
            Ok(export_rows(&[
                ("node1.example.com", json!("a.example.com")),
                ("node1.example.com", json!("b.example.com")),
            ]))
        })
    });
    let (rc, out, _) = run_cmd(
        &env,
        &["gnt-backup", "list", "-n", "node1", "--node", "node2"],
    );
    assert_eq!(rc, 0);
    assert_eq!(
        out,
        "Node              Export\nnode1.example.com a.example.com\nnode1.example.com b.example.com\n"
    );
    assert_eq!(
        env.calls(Method::Query)[0][2],
        json!(["|", ["==", "node", "node1"], ["==", "node", "node2"]])
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-backup", "list", "extra"]);
    assert_eq!(rc, 1);
    assert!(err.contains("expects no arguments"), "{err}");
}

#[test]
fn export_opcode_and_its_refusals() {
    let (o, a) = parse_cmd(
        &GROUP,
        "export",
        &[
            "-n",
            "node1",
            "--noshutdown",
            "--transport-compression",
            "gzip",
            "inst1",
        ],
    );
    assert_eq!(
        build_export(&o, &a).unwrap(),
        json!({"OP_ID": "OP_BACKUP_EXPORT", "instance_name": "inst1", "target_node": "node1",
               "compress": "gzip", "shutdown": false, "shutdown_timeout": 120,
               "remove_instance": false, "ignore_remove_failures": false,
               "zero_free_space": false, "long_sleep": false})
    );
    let (o, a) = parse_cmd(
        &GROUP,
        "export",
        &[
            "-n",
            "n",
            "--remove-instance",
            "--long-sleep",
            "--zeroing-timeout-per-mib",
            "0.5",
            "i",
        ],
    );
    let op = build_export(&o, &a).unwrap();
    assert_eq!(op["remove_instance"], true);
    assert_eq!(op["long_sleep"], true);
    assert_eq!(op["zeroing_timeout_per_mib"], 0.5);
    // no target node: refused before anything is sent
    let env = master(1, vec![], |_, _| None);
    let (rc, _, err) = run_cmd(&env, &["gnt-backup", "export", "inst1"]);
    assert_eq!(rc, 1);
    assert!(err.contains("Target node must be specified"), "{err}");
    assert!(submitted_ops(&env).is_empty());
}

#[test]
fn export_runs_the_job_and_prints_nothing_of_its_result() {
    let env = master(7, vec![JobPlan::ok(json!([true, [true]]))], |_, _| None);
    let (rc, out, _) = run_cmd(&env, &["gnt-backup", "export", "-n", "node1", "inst1"]);
    assert_eq!((rc, out.as_str()), (0, ""));
    assert_eq!(submitted_ops(&env)[0]["OP_ID"], "OP_BACKUP_EXPORT");
}

#[test]
fn import_is_a_create_in_import_mode() {
    let (o, a) = parse_cmd(
        &GROUP,
        "import",
        &[
            "-t",
            "file",
            "-n",
            "node1",
            "--src-node",
            "node1",
            "--src-dir",
            "/x/inst",
            "--no-name-check",
            "--no-ip-check",
            "inst2",
        ],
    );
    let op = build_import(&o, &a).unwrap();
    assert_eq!(op["OP_ID"], "OP_INSTANCE_CREATE");
    assert_eq!(op["mode"], "import");
    assert_eq!(op["disks"], json!([]));
    assert_eq!(op["nics"], json!([]));
    assert_eq!(op["start"], false);
    assert_eq!(op["os_type"], Value::Null);
    assert_eq!(op["no_install"], Value::Null);
    assert_eq!(op["src_node"], "node1");
    assert_eq!(op["src_path"], "/x/inst");
    assert_eq!(op["compress"], "none");
    assert_eq!(op["identify_defaults"], false);
    assert_eq!(op["pnode"], "node1");
    let (o, a) = parse_cmd(
        &GROUP,
        "import",
        &[
            "-t",
            "file",
            "-s",
            "1G",
            "--net",
            "0:mac=auto",
            "--identify-defaults",
            "--compress",
            "gzip",
            "i",
        ],
    );
    let op = build_import(&o, &a).unwrap();
    assert_eq!(op["disks"], json!([{"size": 1024}]));
    assert_eq!(op["nics"], json!([{"mac": "auto"}]));
    assert_eq!(op["identify_defaults"], true);
    assert_eq!(op["compress"], "gzip");
    let (o, a) = parse_cmd(
        &GROUP,
        "import",
        &["-t", "plain", "--disk", "0:adopt=lv", "i"],
    );
    let e = build_import(&o, &a).unwrap_err();
    assert!(
        e.to_string()
            .contains("Disk adoption not allowed for instance import"),
        "{e}"
    );
    let (o, a) = parse_cmd(&GROUP, "import", &["-t", "diskless", "-s", "1G", "i"]);
    assert!(build_import(&o, &a).is_err());
}

#[test]
fn remove_sends_the_name() {
    let env = master(3, vec![JobPlan::ok(Value::Null)], |_, _| None);
    let (rc, _, _) = run_cmd(&env, &["gnt-backup", "remove", "inst1.example.com"]);
    assert_eq!(rc, 0);
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_BACKUP_REMOVE", "instance_name": "inst1.example.com", "debug_level": 0,
               "dry_run": false})
    );
    let (rc, _, _) = run_cmd(&env, &["gnt-backup", "remove"]);
    assert_eq!(rc, 1);
}
