//! Filter rules through the master: stored in the configuration through
//! the store (and still there after a reopen), exported to `config.data`,
//! served by LUXI, and bad input refused with nothing stored.

use std::sync::Arc;

use ganeti_luxi::{is_request_parse_error, Method, Request};
use ganeti_node::LocalNode;
use ganeti_types::{GanetiError, Paths};
use serde_json::{json, Value};

use super::*;
use crate::cmdlib::cluster::checks::testcfg;
use crate::state::MasterState;

pub(crate) fn open_master(dir: &std::path::Path) -> Arc<Master> {
    let paths = Paths::new(dir);
    let node = Arc::new(LocalNode::new(paths.clone()));
    Master::open(paths, node).unwrap()
}

pub(crate) fn new_master() -> (tempfile::TempDir, Arc<Master>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path());
    {
        let store = ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
        store
            .propose_blocking(Command::Init(Box::new(testcfg::config())))
            .unwrap();
    }
    let m = open_master(dir.path());
    (dir, m)
}

fn request(args: Value) -> FilterRequest {
    FilterRequest::from_luxi_args(&args).unwrap()
}

fn rows(m: &Master) -> Vec<Value> {
    let fields: Vec<String> = [
        "uuid",
        "watermark",
        "priority",
        "predicates",
        "action",
        "reason_trail",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    match m.query_filters(&[], &fields).unwrap() {
        Value::Array(r) => r,
        other => panic!("{other}"),
    }
}

fn empty_job() -> ganeti_types::Job {
    ganeti_types::Job {
        id: 0,
        ops: vec![],
        received_timestamp: (1, 0),
        start_timestamp: None,
        end_timestamp: None,
        archived: false,
    }
}

fn serial(m: &Master) -> u64 {
    m.with_config(|c| c.serial_no).unwrap()
}

#[test]
fn rules_are_stored_canonically_and_survive_a_reopen() {
    let (dir, m) = new_master();
    // three jobs were submitted before: the watermark is 3
    m.store
        .propose_blocking(Command::SubmitJobs(vec![empty_job(); 3]))
        .unwrap();
    let before = serial(&m);
    let uuid = m
        .replace_filter(request(json!([
            null,
            10,
            [["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]]],
            "REJECT",
            [["gnt:user", "maintenance", 5]]
        ])))
        .unwrap();
    assert!(is_uuid(&uuid), "{uuid}");
    assert_eq!(serial(&m), before + 1);
    let r = rows(&m);
    assert_eq!(r.len(), 1);
    let row = r[0].as_array().unwrap();
    assert_eq!(row[0], json!(uuid));
    assert_eq!(row[1], json!(3));
    assert_eq!(row[2], json!(10));
    assert_eq!(
        row[3],
        json!([["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]])
    );
    assert_eq!(row[4], json!("REJECT"));
    let trail = row[5].as_array().unwrap();
    assert_eq!(trail[0], json!(["gnt:user", "maintenance", 5]));
    assert_eq!(trail[1][0], json!("luxid"));
    assert_eq!(trail[1][1], json!(""));
    assert!(trail[1][2].as_u64().unwrap() > 1_600_000_000_000_000_000);

    // config.data carries the rule, keys in Ganeti's order
    let data = std::fs::read_to_string(m.paths.config_data()).unwrap();
    let cfg: Value = serde_json::from_str(&data).unwrap();
    let keys: Vec<&String> = cfg["filters"][&uuid].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "watermark",
            "priority",
            "predicates",
            "action",
            "reason_trail",
            "uuid"
        ]
    );

    // replacing under a given uuid keeps one rule and renews the watermark
    let fixed = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9";
    m.replace_filter(request(json!([fixed, 0, [], ["RATE_LIMIT", 2], []])))
        .unwrap();
    m.store
        .propose_blocking(Command::SubmitJobs(vec![empty_job()]))
        .unwrap();
    m.replace_filter(request(json!([fixed, 1, [], "PAUSE", []])))
        .unwrap();
    let r = rows(&m);
    assert_eq!(r.len(), 2);
    let replaced = r.iter().find(|row| row[0] == json!(fixed)).unwrap();
    assert_eq!(replaced[1], json!(4));
    assert_eq!(replaced[4], json!("PAUSE"));
    let rules = m.filter_rules();
    assert_eq!(rules[0].uuid, fixed, "priority 1 runs before priority 10");

    drop(m);
    let m = open_master(dir.path());
    let again = rows(&m);
    assert_eq!(again, r);
    m.delete_filter(fixed).unwrap();
    drop(m);
    let m = open_master(dir.path());
    assert_eq!(rows(&m).len(), 1);
    assert_eq!(rows(&m)[0][0], json!(uuid));
}

#[test]
fn bad_requests_store_nothing() {
    let (_dir, m) = new_master();
    let before = serial(&m);
    let e = m
        .replace_filter(request(json!(["not-a-uuid", 0, [], "ACCEPT", []])))
        .unwrap_err();
    assert_eq!(e, GanetiError::Generic("Unable to parse UUID".into()));
    // upper-case hex is not a Ganeti uuid either
    assert!(!is_uuid("0A1B2C3D-4E5F-4071-8293-A4B5C6D7E8F9"));
    let e = m
        .delete_filter("0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9")
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Filter rule with UUID 0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9 does not exist"
    );
    assert_eq!(serial(&m), before);
    assert!(rows(&m).is_empty());
}

#[test]
fn undecodable_arguments_have_ganetis_wording() {
    let err = |args: Value| {
        let e = FilterRequest::from_luxi_args(&args).unwrap_err();
        assert!(is_request_parse_error(&e), "{e:?}");
        e.message().to_string()
    };
    assert_eq!(
        err(json!([null, 0, [], "FOO", []])),
        "Failed to parse request: Cannot convert value '[null, 0, [], \"FOO\", []]', error: malformed FilterAction JSON: \"FOO\""
    );
    assert_eq!(
        err(json!([null, -1, [], "CONTINUE", []])),
        "Failed to parse request: Cannot convert value '[null, -1, [], \"CONTINUE\", []]', error: Invalid value for non-negative type '-1'"
    );
    assert_eq!(
        err(json!([null, 0, [["foo", 1]], "CONTINUE", []])),
        "Failed to parse request: Cannot convert value '[null, 0, [[\"foo\", 1]], \"CONTINUE\", []]', error: malformed FilterPredicate: bad parameter list for 'foo' predicate: [1]"
    );
    assert!(err(json!([
        null,
        0,
        [["jobid", ["frob", "id", 1]]],
        "CONTINUE",
        []
    ]))
    .ends_with("error: Unknown filter operand 'frob'"));
    assert!(err(json!([null, 0, [], ["RATE_LIMIT", 0], []]))
        .ends_with("error: RATE_LIMIT argument must be a positive integer"));
    assert!(
        err(json!([null, 0, [], "CONTINUE", [["a"]]])).ends_with("error: Unable to read Triple")
    );
    assert!(err(json!([null, "0", [], "CONTINUE", []])).ends_with("error: Unable to read Int"));
    assert!(err(json!([5, 0, [], "CONTINUE", []])).ends_with("error: Unable to read String"));
    assert!(err(json!([null, 0, [], "CONTINUE"])).ends_with("error: Unable to read Tuple5"));
    // the first bad argument is reported
    assert!(err(json!([null, -1, [5], "FOO", []])).ends_with("non-negative type '-1'"));
}

fn call(m: &Arc<Master>, method: Method, args: Value) -> Result<Value, GanetiError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(crate::luxi::dispatch(
        m,
        Request {
            method,
            args,
            version: None,
        },
    ))
}

#[test]
fn luxi_round_trip() {
    let (_dir, m) = new_master();
    let uuid = call(
        &m,
        Method::ReplaceFilter,
        json!([null, 0, [["jobid", [">", "id", "watermark"]]], "PAUSE", []]),
    )
    .unwrap();
    let uuid = uuid.as_str().unwrap().to_string();
    let got = call(
        &m,
        Method::QueryFilters,
        json!([[uuid], ["uuid", "action", "predicates"]]),
    )
    .unwrap();
    assert_eq!(
        got,
        json!([[uuid, "PAUSE", [["jobid", [">", "id", "watermark"]]]]])
    );
    // null uuids: all; unknown uuids are left out; unknown fields refused
    assert_eq!(
        call(&m, Method::QueryFilters, json!([null, ["priority"]])).unwrap(),
        json!([[0]])
    );
    assert_eq!(
        call(
            &m,
            Method::QueryFilters,
            json!([["0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9"], ["uuid"]])
        )
        .unwrap(),
        json!([])
    );
    let e = call(&m, Method::QueryFilters, json!([null, ["frob"]])).unwrap_err();
    assert_eq!(e.message(), "Unknown output fields selected: frob");
    // the generic query sees the same rule
    let q = call(
        &m,
        Method::Query,
        json!(["filter", ["uuid", "watermark"], null]),
    )
    .unwrap();
    assert_eq!(q["data"], json!([[[0, uuid], [0, 0]]]));
    // bad input is a protocol-level refusal and stores nothing
    let e = call(&m, Method::ReplaceFilter, json!([null, 0, [], "FOO", []])).unwrap_err();
    assert!(is_request_parse_error(&e));
    assert_eq!(m.filter_rules().len(), 1);
    assert_eq!(
        call(&m, Method::DeleteFilter, json!([uuid])).unwrap(),
        Value::Null
    );
    let e = call(&m, Method::DeleteFilter, json!([uuid])).unwrap_err();
    assert!(e.message().ends_with("does not exist"), "{e}");
    let e = call(&m, Method::DeleteFilter, json!([1])).unwrap_err();
    assert!(is_request_parse_error(&e));
    assert!(m.filter_rules().is_empty());
}

#[test]
fn unreadable_stored_rules_are_skipped() {
    let (_dir, m) = new_master();
    let mut cfg = m.config().unwrap();
    cfg.filters.insert("bad".into(), json!({"uuid": "bad"}));
    // install a hand-edited configuration the way a restore would
    let dir2 = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir2.path());
    {
        let store = ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
        store
            .propose_blocking(Command::Init(Box::new(cfg)))
            .unwrap();
    }
    let m2 = open_master(dir2.path());
    assert!(m2.filter_rules().is_empty());
    m2.replace_filter(request(json!([null, 0, [], "ACCEPT", []])))
        .unwrap();
    assert_eq!(m2.filter_rules().len(), 1);
}
