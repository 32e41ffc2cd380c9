//! `/2/query/[resource]` and `/2/query/[resource]/fields`: the query
//! language over RAPI, answered by LUXI `Query` / `QueryFields`.
//!
//! The request goes to the master as it is: the master decodes the
//! arguments as luxid does, so a bad field list or filter comes back as
//! its protocol-level "Failed to parse request" (502 here) and the `os` and
//! `cluster` resources as its refusal (500).

use serde_json::{json, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handler;
use crate::routes::{Access, HttpMethod, Route};

use super::common::{check_dict, luxi};

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    use HttpMethod::{Get, Put};
    vec![
        Route {
            pattern: "/2/query/[resource]",
            resource: "query",
            // Query results may hold sensitive data: never anonymous.
            methods: vec![
                (Get, Access::Read, handler!(query_get)),
                (Put, Access::Read, handler!(query_put)),
            ],
        },
        Route {
            pattern: "/2/query/[resource]/fields",
            resource: "query_fields",
            methods: vec![(Get, Access::Public, handler!(fields_get))],
        },
    ]
}

/// Ganeti's `_SplitQueryFields`: split on `,`, strip each name.
fn split_fields(text: &str) -> Vec<String> {
    text.split(',').map(|f| f.trim().to_owned()).collect()
}

/// The required `?fields=` argument.
fn fields_from_query(call: &Call) -> Result<Value, RapiError> {
    Ok(json!(split_fields(call.query.required("fields")?)))
}

async fn query_get(call: Call) -> Result<Value, RapiError> {
    let fields = fields_from_query(&call)?;
    run_query(&call, fields, Value::Null).await
}

/// The body's `fields` win over `?fields=` (even a `null` one: it is passed
/// on as given); `qfilter` falls back to the pre-2.7 name `filter`.
async fn query_put(call: Call) -> Result<Value, RapiError> {
    let body = call.body.clone().unwrap_or(Value::Null);
    let body = check_dict(&body, "Body contents")?;
    let fields = match body.get("fields") {
        Some(f) => f.clone(),
        None => fields_from_query(&call)?,
    };
    let qfilter = match body.get("qfilter") {
        Some(f) if !f.is_null() => f.clone(),
        _ => body.get("filter").cloned().unwrap_or(Value::Null),
    };
    run_query(&call, fields, qfilter).await
}

async fn fields_get(call: Call) -> Result<Value, RapiError> {
    let resource = call.item(0);
    let fields = call
        .query
        .get("fields")
        .map(|f| json!(split_fields(f)))
        .unwrap_or(Value::Null);
    let args = json!([resource, fields]);
    luxi(&call, ganeti_luxi::Method::QueryFields, args).await
}

async fn run_query(call: &Call, fields: Value, qfilter: Value) -> Result<Value, RapiError> {
    let resource = call.item(0);
    let args = json!([resource, fields, qfilter]);
    luxi(call, ganeti_luxi::Method::Query, args).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ganeti_luxi::Method;
    use serde_json::json;

    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};

    /// Echoes the LUXI arguments back as the result.
    fn echo() -> Arc<FakeBackend> {
        FakeBackend::new(|m, args| Ok(json!({"method": format!("{m:?}"), "args": args})))
    }

    #[tokio::test]
    async fn get_splits_and_strips_fields() {
        let b = echo();
        let got = query_get(call(
            &b,
            "query",
            &["node"],
            "fields=name,+mtotal+,role",
            None,
        ))
        .await
        .unwrap();
        assert_eq!(got["method"], "Query");
        assert_eq!(
            got["args"],
            json!(["node", ["name", "mtotal", "role"], null])
        );
    }

    #[tokio::test]
    async fn get_requires_fields() {
        let b = echo();
        for q in ["", "fields="] {
            let e = query_get(call(&b, "query", &["node"], q, None))
                .await
                .unwrap_err();
            assert_eq!(
                (e.code, e.message.as_str()),
                (400, "Missing 'fields' query argument")
            );
        }
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn put_takes_fields_and_filter_from_the_body() {
        let b = echo();
        // fixtures/2_query_instance_put.req.json
        let body = json!({"fields": ["name", "status", "disk.sizes"],
                          "qfilter": ["=", "disk_template", "file"]});
        let got = query_put(call(&b, "query", &["instance"], "fields=os", Some(body)))
            .await
            .unwrap();
        assert_eq!(
            got["args"],
            json!([
                "instance",
                ["name", "status", "disk.sizes"],
                ["=", "disk_template", "file"]
            ])
        );
        // legacy `filter` when `qfilter` is missing or null; query fields as fallback
        let body = json!({"qfilter": null, "filter": ["=", "name", "x"]});
        let got = query_put(call(&b, "query", &["node"], "fields=name,role", Some(body)))
            .await
            .unwrap();
        assert_eq!(
            got["args"],
            json!(["node", ["name", "role"], ["=", "name", "x"]])
        );
        // unknown body keys are ignored, as in Ganeti
        let got = query_put(call(
            &b,
            "query",
            &["node"],
            "",
            Some(json!({"fields": ["name"], "x": 1})),
        ))
        .await
        .unwrap();
        assert_eq!(got["args"], json!(["node", ["name"], null]));
    }

    #[tokio::test]
    async fn put_errors() {
        let b = echo();
        let cases = [
            (
                None,
                "Body contents: Type is 'NoneType', but 'dict' is expected",
            ),
            (
                Some(json!([])),
                "Body contents: Type is 'list', but 'dict' is expected",
            ),
            (Some(json!({})), "Missing 'fields' query argument"),
        ];
        for (body, msg) in cases {
            let e = query_put(call(&b, "query", &["node"], "", body.clone()))
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (400, msg), "{body:?}");
        }
        assert!(b.calls().is_empty());
    }

    /// Field lists, filters and resources go to the master as given; its
    /// decoding failures are 502 and its refusals 500, with its message.
    #[tokio::test]
    async fn master_decodes_the_arguments() {
        let b = echo();
        let got = query_put(call(
            &b,
            "query",
            &["os"],
            "",
            Some(json!({"fields": "name", "qfilter": "bad"})),
        ))
        .await
        .unwrap();
        assert_eq!(got["args"], json!(["os", "name", "bad"]));

        let detail =
            "Cannot convert value '[\"node\", \"name\", null]', error: Unable to read list";
        let b = FakeBackend::new(move |_, _| Err(ganeti_luxi::request_parse_error(detail)));
        let e = query_put(call(
            &b,
            "query",
            &["node"],
            "",
            Some(json!({"fields": "name"})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 502);
        assert_eq!(e.message, format!("Failed to parse request: {detail}"));

        let b = FakeBackend::new(|_, _| {
            Err(ganeti_types::GanetiError::Generic(
                "QueryFields 'ItemTypeOpCode QRCluster' not supported".into(),
            ))
        });
        let e = fields_get(call(&b, "query_fields", &["cluster"], "fields=name", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (500, "QueryFields 'ItemTypeOpCode QRCluster' not supported")
        );
    }

    #[tokio::test]
    async fn fields_with_and_without_names() {
        let b = echo();
        let got = fields_get(call(&b, "query_fields", &["node"], "", None))
            .await
            .unwrap();
        assert_eq!(got["method"], "QueryFields");
        assert_eq!(got["args"], json!(["node", null]));
        let got = fields_get(call(
            &b,
            "query_fields",
            &["job"],
            "fields=id,+status",
            None,
        ))
        .await
        .unwrap();
        assert_eq!(got["args"], json!(["job", ["id", "status"]]));
    }

    #[tokio::test]
    async fn master_answer_is_returned_unchanged() {
        let answer = json!({"fields": [{"name": "name", "title": "Node", "kind": "text",
                                        "doc": "Node name"}],
                            "data": [[[0, "node1.example.com"]]]});
        let a2 = answer.clone();
        let b = FakeBackend::new(move |m, _| {
            assert_eq!(m, Method::Query);
            Ok(a2.clone())
        });
        let got = query_get(call(&b, "query", &["node"], "fields=name", None))
            .await
            .unwrap();
        assert_eq!(got, answer);
        let b = FakeBackend::new(|_, _| {
            Err(ganeti_types::GanetiError::wrong_input(
                "Can't find field named 'nosuch'",
            ))
        });
        let e = query_put(call(
            &b,
            "query",
            &["node"],
            "",
            Some(json!({"fields": ["name"], "qfilter": ["=", "nosuch", 1]})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 500);
    }
}
