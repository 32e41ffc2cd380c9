//! `gnt-filter` against a scripted master: what it sends, what it prints
//! (compared with Ganeti 3.0.2's recorded output), and how refusals look.

use ganeti_luxi::{LuxiError, Method};
use ganeti_types::GanetiError;
use serde_json::{json, Value};

use super::*;
use crate::cmd::fakemaster::query_answer;
use crate::cmd::testutil::{fixture, run_cmd};
use crate::context::testing::FakeEnv;

const UUID: &str = "7e7cd300-abb3-42cb-8341-17160bfa1a9c";

/// The rule the reference fixtures show.
fn reference_row() -> Vec<Value> {
    vec![
        json!(UUID),
        json!(96),
        json!(10),
        json!([["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]]),
        json!("REJECT"),
        json!([["luxid", "", 1_795_447_109_532_580_000u64]]),
    ]
}

fn field_defs(names: &[Value]) -> Vec<(&'static str, &'static str, &'static str)> {
    names
        .iter()
        .map(|n| match n.as_str().unwrap_or("") {
            "uuid" => ("uuid", "UUID", "other"),
            "watermark" => ("watermark", "Watermark", "other"),
            "priority" => ("priority", "Priority", "other"),
            "predicates" => ("predicates", "Predicates", "other"),
            "action" => ("action", "Action", "other"),
            "reason_trail" => ("reason_trail", "ReasonTrail", "other"),
            _ => ("x", "x", "unknown"),
        })
        .collect()
}

/// A master holding `rows` (full rows in `LIST_DEF_FIELDS` order).
fn master(rows: Vec<Vec<Value>>) -> FakeEnv {
    FakeEnv::new(move |m, args| match m {
        Method::Query => {
            let fields = args[1].as_array().cloned().unwrap_or_default();
            let pick: Vec<Vec<Value>> = rows
                .iter()
                .map(|r| {
                    fields
                        .iter()
                        .map(|f| {
                            let i = LIST_DEF_FIELDS
                                .iter()
                                .position(|d| Some(*d) == f.as_str())
                                .unwrap_or(0);
                            r[i].clone()
                        })
                        .collect()
                })
                .collect();
            Ok(query_answer(&field_defs(&fields), &pick))
        }
        Method::QueryFilters => Ok(Value::Array(rows.iter().map(|r| json!(r)).collect())),
        Method::ReplaceFilter => Ok(json!(args[0].as_str().unwrap_or(UUID))),
        Method::DeleteFilter => Ok(Value::Null),
        other => panic!("unexpected call {other:?}"),
    })
}

fn compare_with_fixture(case: &str, argv: &[&str], env: &FakeEnv) {
    let (rc, out, err) = run_cmd(env, argv);
    assert_eq!((rc, err.as_str()), (0, ""), "{case}");
    if let Some(expected) = fixture(&format!("{case}.out")) {
        assert_eq!(out, expected, "{case}");
    }
}

#[test]
fn actions_from_the_command_line() {
    assert_eq!(parse_action("REJECT"), json!("REJECT"));
    assert_eq!(parse_action("RATE_LIMIT 5"), json!(["RATE_LIMIT", 5]));
    assert_eq!(parse_action("RATE_LIMIT\t 12x"), json!(["RATE_LIMIT", 12]));
    // no whitespace, no digits: passed on as text for the master to refuse
    assert_eq!(parse_action("RATE_LIMIT5"), json!("RATE_LIMIT5"));
    assert_eq!(parse_action("RATE_LIMIT x"), json!("RATE_LIMIT x"));
    assert_eq!(parse_action("reject"), json!("reject"));
}

#[test]
fn add_sends_the_rule_and_prints_its_uuid() {
    let env = master(vec![]);
    let (rc, out, err) = run_cmd(
        &env,
        &[
            "gnt-filter",
            "add",
            "--priority=10",
            "--predicates=[[\"opcode\", [\"=\", \"OP_ID\", \"OP_TEST_DELAY\"]]]",
            "--action=REJECT",
        ],
    );
    assert_eq!(
        (rc, out.as_str(), err.as_str()),
        (0, "7e7cd300-abb3-42cb-8341-17160bfa1a9c\n", "")
    );
    assert_eq!(
        env.calls(Method::ReplaceFilter),
        vec![json!([
            null,
            10,
            [["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]]],
            "REJECT",
            []
        ])]
    );
    // defaults, a rate limit and a reason
    let env = master(vec![]);
    let (rc, _, _) = run_cmd(
        &env,
        &[
            "gnt-filter",
            "add",
            "--action",
            "RATE_LIMIT 2",
            "--reason",
            "why",
        ],
    );
    assert_eq!(rc, 0);
    assert_eq!(
        env.calls(Method::ReplaceFilter),
        vec![json!([
            null,
            0,
            [],
            ["RATE_LIMIT", 2],
            [["gnt:user", "why", 1_795_447_035_457_695_232u64]]
        ])]
    );
    let env = master(vec![]);
    run_cmd(&env, &["gnt-filter", "add"]);
    assert_eq!(
        env.calls(Method::ReplaceFilter),
        vec![json!([null, 0, [], "CONTINUE", []])]
    );
}

#[test]
fn replace_and_delete_name_the_rule() {
    let env = master(vec![]);
    let other = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9";
    let (rc, out, _) = run_cmd(&env, &["gnt-filter", "replace", "--action=PAUSE", other]);
    assert_eq!((rc, out.as_str()), (0, format!("{other}\n").as_str()));
    assert_eq!(
        env.calls(Method::ReplaceFilter),
        vec![json!([other, 0, [], "PAUSE", []])]
    );
    let (rc, out, err) = run_cmd(&env, &["gnt-filter", "delete", other]);
    assert_eq!((rc, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(env.calls(Method::DeleteFilter), vec![json!([other])]);
}

#[test]
fn argument_and_option_errors() {
    let env = master(vec![]);
    let (rc, _, err) = run_cmd(&env, &["gnt-filter", "add", UUID]);
    assert_eq!(
        (rc, err.as_str()),
        (1, "Error: Command add expects no arguments\n")
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-filter", "delete"]);
    assert_eq!(
        (rc, err.as_str()),
        (1, "Error: Command delete expects 1 argument(s)\n")
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-filter", "add", "--priority=high"]);
    assert_eq!(rc, 2);
    assert!(
        err.ends_with("gnt-filter: error: option --priority: invalid integer value: 'high'\n"),
        "{err}"
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-filter", "add", "--predicates=notjson"]);
    assert_eq!(rc, 2);
    assert!(err.contains("option --predicates: invalid JSON"), "{err}");
    assert!(env.calls(Method::ReplaceFilter).is_empty());
}

#[test]
fn master_refusals_are_printed_as_ganeti_prints_them() {
    let env = FakeEnv::new(|m, _| {
        match m {
        Method::ReplaceFilter => Err(LuxiError::Protocol(
            "Failed to parse request: Cannot convert value '[null, 0, [], \"FOO\", []]', error: malformed FilterAction JSON: \"FOO\"".into(),
        )),
        Method::DeleteFilter => Err(LuxiError::Ganeti(GanetiError::Generic(format!(
            "Filter rule with UUID {UUID} does not exist"
        )))),
        other => panic!("unexpected call {other:?}"),
    }
    });
    let (rc, out, err) = run_cmd(&env, &["gnt-filter", "add", "--action=FOO"]);
    assert_eq!((rc, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "Unhandled protocol error while talking to the master daemon:\nFailed to parse request: Cannot convert value '[null, 0, [], \"FOO\", []]', error: malformed FilterAction JSON: \"FOO\"\n"
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-filter", "delete", UUID]);
    assert_eq!(rc, 1);
    assert_eq!(
        err,
        format!("Unhandled Ganeti error: Filter rule with UUID {UUID} does not exist\n")
    );
}

#[test]
fn info_prints_like_ganeti() {
    let env = master(vec![reference_row()]);
    compare_with_fixture("filter_info", &["gnt-filter", "info", UUID], &env);
    assert_eq!(
        env.calls(Method::QueryFilters),
        vec![json!([[UUID], LIST_DEF_FIELDS])]
    );
    let env = master(vec![reference_row()]);
    compare_with_fixture("filter_info_all", &["gnt-filter", "info"], &env);
    assert_eq!(
        env.calls(Method::QueryFilters),
        vec![json!([[], LIST_DEF_FIELDS])]
    );
    let mut row = reference_row();
    row[4] = json!(["RATE_LIMIT", 2]);
    assert_eq!(format_info(&row)[4], "  Action: ['RATE_LIMIT', 2]");
}

#[test]
fn list_prints_like_ganeti() {
    let env = master(vec![reference_row()]);
    compare_with_fixture("filter_list", &["gnt-filter", "list"], &env);
    let env = master(vec![]);
    compare_with_fixture("filter_list_empty", &["gnt-filter", "list"], &env);
    let env = master(vec![reference_row()]);
    compare_with_fixture(
        "filter_list_o",
        &[
            "gnt-filter",
            "list",
            "-o",
            "uuid,priority,action,predicates,watermark,reason_trail",
        ],
        &env,
    );
    // names select by uuid
    let env = master(vec![reference_row()]);
    run_cmd(&env, &["gnt-filter", "list", "--no-headers", UUID]);
    let q = env.calls(Method::Query);
    assert_eq!(q[0][0], json!("filter"));
    assert_eq!(q[0][2], json!(["|", ["==", "uuid", UUID]]));
}

#[test]
fn list_fields_prints_like_ganeti() {
    let defs = json!({"fields": [
        {"name": "action", "title": "Action", "kind": "other", "doc": "Filter action"},
        {"name": "predicates", "title": "Predicates", "kind": "other", "doc": "List of filter predicates"},
        {"name": "priority", "title": "Priority", "kind": "other", "doc": "Filter priority"},
        {"name": "reason_trail", "title": "ReasonTrail", "kind": "other", "doc": "Reason why this filter was added"},
        {"name": "uuid", "title": "UUID", "kind": "other", "doc": "Filter ID"},
        {"name": "watermark", "title": "Watermark", "kind": "other", "doc": "Highest job ID used at the time when the filter was added"}
    ]});
    let env = FakeEnv::new(move |m, args| {
        assert_eq!(m, Method::QueryFields);
        assert_eq!(args, &json!(["filter", null]));
        Ok(defs.clone())
    });
    compare_with_fixture("filter_list_fields", &["gnt-filter", "list-fields"], &env);
}
