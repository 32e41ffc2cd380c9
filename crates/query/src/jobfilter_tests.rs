use ganeti_types::{Job, QueuedOpCode};
use serde_json::{json, Value};

use super::*;

fn job(id: u64, ops: &[Value]) -> Job {
    Job {
        id,
        ops: ops
            .iter()
            .map(|o| QueuedOpCode::queued(o.as_object().cloned().expect("opcode dict")))
            .collect(),
        received_timestamp: (0, 0),
        start_timestamp: None,
        end_timestamp: None,
        archived: false,
    }
}

fn delay(id: u64) -> Job {
    job(
        id,
        &[
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.5, "on_nodes": ["node1"],
                 "repeat": 0, "priority": 0, "dry_run": false,
                 "reason": [["gnt:user", "maintenance pink bunny", 1_700_000_000_000_000_000u64],
                            ["gnt:client:gnt-debug", "delay", 1_700_000_000_000_000_001u64]],
                 "osparams": {"a": {"b": "deep"}}}),
        ],
    )
}

fn pred(v: Value) -> Predicate {
    Predicate::from_json(&v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn holds(p: Value, j: &Job, watermark: u64) -> bool {
    pred(p).matches(j, watermark)
}

#[test]
fn actions_read_and_write_like_ganeti() {
    for (v, a) in [
        (json!("ACCEPT"), FilterAction::Accept),
        (json!("PAUSE"), FilterAction::Pause),
        (json!("REJECT"), FilterAction::Reject),
        (json!("CONTINUE"), FilterAction::Continue),
        (json!(["RATE_LIMIT", 3]), FilterAction::RateLimit(3)),
    ] {
        assert_eq!(FilterAction::from_json(&v), Ok(a));
        assert_eq!(a.to_json(), v);
    }
    let bad = |v: Value| FilterAction::from_json(&v).unwrap_err();
    assert_eq!(bad(json!("FOO")), "malformed FilterAction JSON: \"FOO\"");
    assert_eq!(
        bad(json!("accept")),
        "malformed FilterAction JSON: \"accept\""
    );
    assert_eq!(bad(json!(5)), "malformed FilterAction JSON: 5");
    assert_eq!(
        bad(json!(["PAUSE", 1])),
        "malformed FilterAction JSON: [\"PAUSE\",1]"
    );
    for v in [
        json!(["RATE_LIMIT", 0]),
        json!(["RATE_LIMIT", -2]),
        json!(["RATE_LIMIT", 2.0]),
        json!(["RATE_LIMIT", "2"]),
        json!(["RATE_LIMIT"]),
        json!(["RATE_LIMIT", 1, 2]),
    ] {
        assert_eq!(
            bad(v.clone()),
            "RATE_LIMIT argument must be a positive integer",
            "{v}"
        );
    }
}

#[test]
fn predicates_are_stored_in_canonical_form() {
    assert_eq!(
        pred(json!(["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]])).to_json(),
        json!(["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]])
    );
    assert_eq!(
        pred(json!([
            "jobid",
            ["&", ["!=", "id", 5], [">", "id", "watermark"]]
        ]))
        .to_json(),
        json!([
            "jobid",
            ["&", ["!", ["==", "id", 5]], [">", "id", "watermark"]]
        ])
    );
    assert_eq!(
        pred(json!([
            "reason",
            [
                "|",
                ["=~", "reason", "^x"],
                ["?", "source"],
                ["=[]", "s", 1],
                ["<=", "timestamp", 9]
            ]
        ]))
        .to_json(),
        json!([
            "reason",
            [
                "|",
                ["=~", "reason", "^x"],
                ["?", "source"],
                ["=[]", "s", 1],
                ["<=", "timestamp", 9]
            ]
        ])
    );
    assert_eq!(
        pred(json!(["jobid", null])).to_json(),
        json!(["jobid", null])
    );
    assert_eq!(pred(json!(["opcode", null])).kind(), PredicateKind::OpCode);
}

#[test]
fn bad_predicates_are_refused_with_ganeti_wording() {
    let bad = |v: Value| Predicate::from_json(&v).unwrap_err();
    assert_eq!(
        bad(json!(["foo", 1])),
        "malformed FilterPredicate: bad parameter list for 'foo' predicate: [1]"
    );
    assert_eq!(
        bad(json!(["opcode"])),
        "malformed FilterPredicate: bad parameter list for 'opcode' predicate: []"
    );
    assert_eq!(
        bad(json!(["opcode", null, 1])),
        "malformed FilterPredicate: bad parameter list for 'opcode' predicate: [null,1]"
    );
    let shape = "malformed FilterPredicate: must be a list with the first entry being a string describing the predicate type";
    assert_eq!(bad(json!(5)), shape);
    assert_eq!(bad(json!([])), shape);
    assert_eq!(bad(json!([1, 2])), shape);
    assert_eq!(
        bad(json!(["jobid", ["frob", "id", 1]])),
        "Unknown filter operand 'frob'"
    );
    assert_eq!(
        bad(json!(["jobid", ["=[", "id", 1]])),
        "Unknown filter operand '=['"
    );
    assert_eq!(
        parse_predicates(&json!("x")).unwrap_err(),
        "Unable to read list"
    );
    assert_eq!(parse_predicates(&json!([])).unwrap().len(), 0);
}

#[test]
fn reason_trails_must_be_triples() {
    assert!(parse_reason_trail(&json!([["a", "b", 1]])).is_ok());
    assert_eq!(
        parse_reason_trail(&json!([["a"]])).unwrap_err(),
        "Unable to read Triple"
    );
    assert_eq!(
        parse_reason_trail(&json!([[1, "b", 1]])).unwrap_err(),
        "Unable to read String"
    );
    assert_eq!(
        parse_reason_trail(&json!([["a", "b", "c"]])).unwrap_err(),
        "Unable to read Integer"
    );
    assert_eq!(
        parse_reason_trail(&json!({})).unwrap_err(),
        "Unable to read list"
    );
}

#[test]
fn jobid_predicates_compare_ids_and_the_watermark() {
    let j = delay(10);
    assert!(holds(json!(["jobid", [">", "id", "watermark"]]), &j, 9));
    assert!(!holds(json!(["jobid", [">", "id", "watermark"]]), &j, 10));
    assert!(holds(json!(["jobid", ["==", "id", 10]]), &j, 0));
    assert!(holds(json!(["jobid", ["!=", "id", 11]]), &j, 0));
    assert!(holds(
        json!(["jobid", ["|", ["<", "id", 5], [">=", "id", 10]]]),
        &j,
        0
    ));
    assert!(holds(json!(["jobid", null]), &j, 0));
    // only comparisons; anything else makes the predicate false, even negated
    assert!(!holds(json!(["jobid", ["=~", "id", "1"]]), &j, 0));
    assert!(!holds(json!(["jobid", ["!", ["=~", "id", "1"]]]), &j, 0));
    assert!(!holds(json!(["jobid", ["==", "name", 10]]), &j, 0));
    assert!(!holds(json!(["jobid", ["==", "id", "ten"]]), &j, 0));
    // ... unless an earlier operand already decided
    assert!(holds(
        json!(["jobid", ["|", ["==", "id", 10], ["=~", "id", "1"]]]),
        &j,
        0
    ));
    assert!(!holds(
        json!(["jobid", ["&", ["==", "id", 9], ["=~", "id", "1"]]]),
        &j,
        0
    ));
}

#[test]
fn opcode_predicates_look_into_every_opcode() {
    let j = delay(3);
    assert!(holds(
        json!(["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]]),
        &j,
        0
    ));
    assert!(!holds(
        json!(["opcode", ["=", "OP_ID", "OP_INSTANCE_CREATE"]]),
        &j,
        0
    ));
    assert!(holds(json!(["opcode", ["=~", "OP_ID", "^OP_TEST"]]), &j, 0));
    assert!(holds(
        json!(["opcode", ["=[]", "on_nodes", "node1"]]),
        &j,
        0
    ));
    assert!(holds(
        json!(["opcode", ["==", "osparams.a.b", "deep"]]),
        &j,
        0
    ));
    // a missing field, even in an undecisive position, makes it false
    assert!(!holds(
        json!([
            "opcode",
            ["|", ["=", "OP_ID", "OP_TEST_DELAY"], ["=", "nope", 1]]
        ]),
        &j,
        0
    ));
    assert!(!holds(
        json!(["opcode", ["==", "osparams.a.c", "deep"]]),
        &j,
        0
    ));
    // the common parameters are not opcode fields
    assert!(!holds(json!(["opcode", ["==", "priority", 0]]), &j, 0));
    assert!(!holds(json!(["opcode", ["?", "dry_run"]]), &j, 0));
    // JSON value order: an integer never equals a float, strings sort after numbers
    assert!(!holds(json!(["opcode", ["==", "duration", 1]]), &j, 0));
    assert!(holds(json!(["opcode", ["==", "repeat", 0]]), &j, 0));
    assert!(holds(json!(["opcode", ["<", "repeat", "x"]]), &j, 0));
    assert!(holds(json!(["opcode", [">", "OP_ID", 5]]), &j, 0));
    // type errors make it false
    assert!(!holds(json!(["opcode", ["?", "OP_ID"]]), &j, 0));
    assert!(!holds(json!(["opcode", ["=[]", "OP_ID", "x"]]), &j, 0));
    // several opcodes: any one may match
    let two = job(
        4,
        &[
            json!({"OP_ID": "OP_TEST_DELAY"}),
            json!({"OP_ID": "OP_INSTANCE_STARTUP"}),
        ],
    );
    assert!(holds(
        json!(["opcode", ["=", "OP_ID", "OP_INSTANCE_STARTUP"]]),
        &two,
        0
    ));
    assert!(holds(json!(["opcode", null]), &two, 0));
}

#[test]
fn reason_predicates_look_at_every_trail_entry() {
    let j = delay(3);
    assert!(holds(
        json!(["reason", ["==", "reason", "maintenance pink bunny"]]),
        &j,
        0
    ));
    // as in Ganeti's scheduler (despite its design document's example),
    // a regex is not a comparison, so it never matches a reason
    assert!(!holds(
        json!(["reason", ["=~", "reason", "pink bunny"]]),
        &j,
        0
    ));
    assert!(holds(
        json!(["reason", ["==", "source", "gnt:client:gnt-debug"]]),
        &j,
        0
    ));
    assert!(holds(
        json!(["reason", [">", "timestamp", 1_700_000_000_000_000_000u64]]),
        &j,
        0
    ));
    assert!(!holds(
        json!(["reason", [">", "timestamp", 1_800_000_000_000_000_000u64]]),
        &j,
        0
    ));
    assert!(!holds(
        json!(["reason", ["==", "source", "gnt:other"]]),
        &j,
        0
    ));
    // strings sort before numbers in qlang values
    assert!(holds(json!(["reason", ["<", "source", 5]]), &j, 0));
    assert!(!holds(json!(["reason", ["==", "who", "x"]]), &j, 0));
    let bare = job(5, &[json!({"OP_ID": "OP_TEST_DELAY"})]);
    assert!(!holds(json!(["reason", null]), &bare, 0));
}

fn rule(
    uuid: &str,
    priority: u64,
    watermark: u64,
    preds: Value,
    action: FilterAction,
) -> FilterRule {
    FilterRule {
        watermark,
        priority,
        predicates: parse_predicates(&preds).unwrap(),
        action,
        reason_trail: vec![],
        uuid: uuid.into(),
    }
}

#[test]
fn the_first_matching_rule_that_is_not_continue_applies() {
    let delay_only = json!([["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]]]);
    let mut rules = vec![
        rule("c", 5, 0, json!([]), FilterAction::Reject),
        rule("b", 1, 0, delay_only.clone(), FilterAction::Continue),
        rule("a", 1, 7, delay_only.clone(), FilterAction::Pause),
        rule(
            "z",
            1,
            3,
            json!([["opcode", ["=", "OP_ID", "OP_X"]]]),
            FilterAction::Accept,
        ),
    ];
    sort_rules(&mut rules);
    let order: Vec<&str> = rules.iter().map(|r| r.uuid.as_str()).collect();
    assert_eq!(order, ["b", "z", "a", "c"]);
    assert_eq!(
        applying_rule(&rules, &delay(1)).map(|r| r.uuid.as_str()),
        Some("a")
    );
    let other = job(2, &[json!({"OP_ID": "OP_INSTANCE_STARTUP"})]);
    assert_eq!(
        applying_rule(&rules, &other).map(|r| r.uuid.as_str()),
        Some("c")
    );
    assert!(applying_rule(&rules[..3], &other).is_none());
}

#[test]
fn rules_round_trip_in_ganeti_key_order() {
    let stored = json!({
        "watermark": 96, "priority": 10,
        "predicates": [["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]],
        "action": ["RATE_LIMIT", 2],
        "reason_trail": [["luxid", "", 1795447109532580000u64]],
        "uuid": "7e7cd300-abb3-42cb-8341-17160bfa1a9c"
    });
    let r = FilterRule::from_json(&stored).unwrap();
    assert_eq!(r.action, FilterAction::RateLimit(2));
    assert_eq!(
        serde_json::to_string(&r.to_json()).unwrap(),
        serde_json::to_string(&stored).unwrap()
    );
    let mut broken = stored.clone();
    broken["priority"] = json!(-1);
    assert!(FilterRule::from_json(&broken).is_err());
    broken = stored;
    broken.as_object_mut().unwrap().remove("uuid");
    assert_eq!(
        FilterRule::from_json(&broken).unwrap_err(),
        "filter rule lacks 'uuid'"
    );
}
