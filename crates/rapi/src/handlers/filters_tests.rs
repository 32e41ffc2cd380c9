//! The filter resources against a fake backend: the LUXI calls they make,
//! the answers' shapes, and Ganeti's status codes and messages for bad
//! bodies, unknown rules and arguments the master refuses.

use ganeti_luxi::{request_parse_error, Method};
use ganeti_types::GanetiError;
use serde_json::{json, Value};

use super::*;
use crate::handlers::common::fake::{call, FakeBackend};
use crate::routes::Table;

const U1: &str = "7e7cd300-abb3-42cb-8341-17160bfa1a9c";
const U2: &str = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9";

fn row(uuid: &str) -> Value {
    json!([
        96,
        10,
        [["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]],
        "REJECT",
        [["luxid", "", 1795447109532580000u64]],
        uuid
    ])
}

/// A backend with rules `U2` and `U1` (in that order).
fn backend() -> std::sync::Arc<FakeBackend> {
    FakeBackend::new(|m, args| match m {
        Method::QueryFilters => {
            let all = [U2, U1];
            let wanted: Vec<&str> = match &args[0] {
                Value::Array(u) => u.iter().filter_map(Value::as_str).collect(),
                _ => all.to_vec(),
            };
            let uuid_only = args[1] == json!(["uuid"]);
            Ok(Value::Array(
                all.iter()
                    .filter(|u| wanted.contains(u))
                    .map(|u| if uuid_only { json!([u]) } else { row(u) })
                    .collect(),
            ))
        }
        Method::ReplaceFilter => Ok(match &args[0] {
            Value::String(u) => json!(u),
            _ => json!(U1),
        }),
        Method::DeleteFilter => Ok(Value::Null),
        other => panic!("unexpected call {other:?}"),
    })
}

#[tokio::test]
async fn listing_and_bulk() {
    let b = backend();
    let got = list(call(&b, "filters", &[], "", None)).await.unwrap();
    assert_eq!(
        got,
        json!([
            {"uuid": U2, "uri": format!("/2/filters/{U2}")},
            {"uuid": U1, "uri": format!("/2/filters/{U1}")}
        ])
    );
    assert_eq!(
        b.calls(),
        vec![(Method::QueryFilters, json!([null, ["uuid"]]))]
    );

    let b = backend();
    let got = list(call(&b, "filters", &[], "bulk=1", None))
        .await
        .unwrap();
    let first = got[0].as_object().unwrap();
    let keys: Vec<&String> = first.keys().collect();
    assert_eq!(keys, FILTER_RULE_FIELDS);
    assert_eq!(first["uuid"], json!(U2));
    assert_eq!(first["watermark"], json!(96));
    assert_eq!(got.as_array().unwrap().len(), 2);

    let e = list(call(&b, "filters", &[], "bulk=yes", None))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (400, "Invalid value for the 'bulk' parameter")
    );
}

#[tokio::test]
async fn one_rule_or_404() {
    let b = backend();
    let got = info(call(&b, "filters_uuid", &[U1], "", None))
        .await
        .unwrap();
    assert_eq!(got["uuid"], json!(U1));
    assert_eq!(got["action"], json!("REJECT"));
    assert_eq!(
        b.calls()[0],
        (Method::QueryFilters, json!([[U1], FILTER_RULE_FIELDS]))
    );
    let e = info(call(&b, "filters_uuid", &["no-such-rule"], "", None))
        .await
        .unwrap_err();
    assert_eq!((e.code, e.message.as_str()), (404, "Not Found"));
    let noent = FakeBackend::new(|_, _| Err(GanetiError::noent("Filter uuid x not found")));
    let e = info(call(&noent, "filters_uuid", &["x"], "", None))
        .await
        .unwrap_err();
    assert_eq!(e.code, 404);
}

#[tokio::test]
async fn post_and_put_pass_the_rule_on() {
    let b = backend();
    let got = add(call(&b, "filters", &[], "", Some(json!({}))))
        .await
        .unwrap();
    assert_eq!(got, json!(U1));
    let body = json!({"priority": 10, "predicates": [["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]]],
                      "action": ["RATE_LIMIT", 2], "reason": [["me", "why", 1]]});
    add(call(&b, "filters", &[], "", Some(body))).await.unwrap();
    let got = replace(call(
        &b,
        "filters_uuid",
        &[U2],
        "",
        Some(json!({"action": "PAUSE"})),
    ))
    .await
    .unwrap();
    assert_eq!(got, json!(U2));
    let replaced: Vec<Value> = b
        .calls()
        .into_iter()
        .filter(|(m, _)| *m == Method::ReplaceFilter)
        .map(|(_, a)| a)
        .collect();
    assert_eq!(
        replaced,
        vec![
            json!([null, 0, [], "CONTINUE", []]),
            json!([
                null,
                10,
                [["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]]],
                ["RATE_LIMIT", 2],
                [["me", "why", 1]]
            ]),
            json!([U2, 0, [], "PAUSE", []]),
        ]
    );
    let got = delete(call(&b, "filters_uuid", &[U2], "", None))
        .await
        .unwrap();
    assert_eq!(got, Value::Null);
    assert_eq!(
        b.calls().last().unwrap(),
        &(Method::DeleteFilter, json!([U2]))
    );
}

#[tokio::test]
async fn bad_bodies_are_400_and_reach_nobody() {
    let cases: Vec<(Option<Value>, &str)> = vec![
        (None, "Invalid body contents, not a dictionary"),
        (Some(json!([1])), "Invalid body contents, not a dictionary"),
        (
            Some(json!({"uuid": U1})),
            "Invalid body parameters: filter rule doesn't support the parameter 'uuid'",
        ),
        (
            Some(json!({"priority": 1, "frob": 1, "uuid": 2})),
            "Invalid body parameters: filter rule doesn't support the parameter 'frob'",
        ),
        (
            Some(json!({"priority": "5"})),
            "'priority' parameter: Type is 'str', but 'int' is expected",
        ),
        (
            Some(json!({"priority": 1.5})),
            "'priority' parameter: Type is 'float', but 'int' is expected",
        ),
        (
            Some(json!({"priority": null})),
            "'priority' parameter: Type is 'NoneType', but 'int' is expected",
        ),
        (
            Some(json!({"predicates": "x"})),
            "'predicates' parameter: Type is 'str', but 'list' is expected",
        ),
        (
            Some(json!({"reason": {}})),
            "'reason' parameter: Type is 'dict', but 'list' is expected",
        ),
    ];
    for (body, want) in cases {
        let b = backend();
        let e = add(call(&b, "filters", &[], "", body.clone()))
            .await
            .unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (400, want), "{body:?}");
        let e = replace(call(&b, "filters_uuid", &[U1], "", body.clone()))
            .await
            .unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (400, want), "{body:?}");
        assert!(b.calls().is_empty(), "{body:?}");
    }
}

#[tokio::test]
async fn master_refusals_keep_ganetis_status_codes() {
    let b = FakeBackend::new(|m, _| {
        match m {
        Method::ReplaceFilter => Err(request_parse_error(
            "Cannot convert value '[null, 0, [], \"FOO\", []]', error: malformed FilterAction JSON: \"FOO\"",
        )),
        Method::DeleteFilter => Err(GanetiError::Generic(format!(
            "Filter rule with UUID {U1} does not exist"
        ))),
        other => panic!("unexpected call {other:?}"),
    }
    });
    let e = add(call(&b, "filters", &[], "", Some(json!({"action": "FOO"}))))
        .await
        .unwrap_err();
    assert_eq!(e.code, 502);
    assert_eq!(
        e.message,
        "Failed to parse request: Cannot convert value '[null, 0, [], \"FOO\", []]', error: malformed FilterAction JSON: \"FOO\""
    );
    let e = delete(call(&b, "filters_uuid", &[U1], "", None))
        .await
        .unwrap_err();
    assert_eq!(e.code, 500);
    assert_eq!(
        e.message,
        format!("Filter rule with UUID {U1} does not exist")
    );
}

#[test]
fn filter_uuids_are_url_items() {
    let t = Table::from_routes(routes());
    let m = t.lookup(&format!("/2/filters/{U1}")).unwrap();
    assert_eq!(m.items, vec![U1]);
    assert!(t.lookup(&format!("/2/filters/{U1}/x")).is_none());
}
