//! `/2/query/[resource]` and `/2/query/[resource]/fields`: the query
//! language over RAPI, answered by LUXI `Query` / `QueryFields`.
//!
//! In Ganeti these calls go straight to luxid, whose argument parser
//! rejects some requests before any query runs; RAPI reports those as a
//! protocol error (502 "Failed to parse request: ..."), and luxid refuses
//! the `os` and `cluster` resources it parses but does not serve (500).
//! Our master is more lenient (it serves every resource the CLI needs), so
//! this module applies luxid's argument rules itself: a client sees
//! Ganeti's status codes and messages for the same bad requests.

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
    check_resource(resource, &args, "QueryFields")?;
    check_field_names(&fields, &args, true)?;
    luxi(&call, ganeti_luxi::Method::QueryFields, args).await
}

async fn run_query(call: &Call, fields: Value, qfilter: Value) -> Result<Value, RapiError> {
    let resource = call.item(0);
    let args = json!([resource, fields, qfilter]);
    check_resource(resource, &args, "Query")?;
    check_field_names(&fields, &args, false)?;
    if !qfilter.is_null() && !qfilter.is_array() {
        return Err(parse_error(
            &args,
            &format!(
                "Cannot deserialise filter: expected array [string, args], got {}",
                haskell_json(&qfilter)
            ),
        ));
    }
    luxi(call, ganeti_luxi::Method::Query, args).await
}

/// Whether luxid 3.0.2 serves queries on `resource`: `Ok` if it does, its
/// 500 for the resources it knows but refuses, its 502 for names it cannot
/// parse at all.
fn check_resource(resource: &str, args: &Value, call_name: &str) -> Result<(), RapiError> {
    let refused = match resource {
        "group" | "export" | "instance" | "job" | "lock" | "network" | "node" | "filter" => {
            return Ok(())
        }
        "os" => "QROs",
        "cluster" => "QRCluster",
        other => {
            return Err(parse_error(
                args,
                &format!("Can't parse value '{other}' as neitherQueryTypeLuxi nor QueryTypeOp"),
            ))
        }
    };
    Err(RapiError::internal(format!(
        "{call_name} 'ItemTypeOpCode {refused}' not supported"
    )))
}

/// luxid's type check of the field list: a list of strings (`null` is
/// allowed only for `QueryFields`, meaning "all fields").
fn check_field_names(fields: &Value, args: &Value, null_ok: bool) -> Result<(), RapiError> {
    match fields {
        Value::Null if null_ok => Ok(()),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(()),
        Value::Array(_) => Err(parse_error(args, "Unable to read String")),
        _ => Err(parse_error(args, "Unable to read list")),
    }
}

/// luxid's answer to arguments it cannot decode, as RAPI reports it.
fn parse_error(args: &Value, why: &str) -> RapiError {
    RapiError::new(
        502,
        format!(
            "Failed to parse request: Cannot convert value '{}', error: {why}",
            haskell_json(args)
        ),
    )
}

/// A JSON value as luxid prints it in error messages (Haskell's
/// `Text.JSON.Pretty` on one line: `", "` between items, `": "` after
/// keys, whole numbers without a fraction).
fn haskell_json(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(haskell_json)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", haskell_string(k), haskell_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::String(s) => haskell_string(s),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                format!("{}", f as i64)
            }
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// A string as `Text.JSON.Pretty` quotes it: `\\` and `"` escaped, control
/// characters and everything from U+007F on as `\uXXXX`.
fn haskell_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() || u32::from(c) >= 0x7f => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
            (None, 400, "Body contents: Type is 'NoneType', but 'dict' is expected"),
            (Some(json!([])), 400, "Body contents: Type is 'list', but 'dict' is expected"),
            (Some(json!({})), 400, "Missing 'fields' query argument"),
            (
                Some(json!({"fields": "name"})),
                502,
                "Failed to parse request: Cannot convert value '[\"node\", \"name\", null]', error: Unable to read list",
            ),
            (
                Some(json!({"fields": null})),
                502,
                "Failed to parse request: Cannot convert value '[\"node\", null, null]', error: Unable to read list",
            ),
            (
                Some(json!({"fields": [1]})),
                502,
                "Failed to parse request: Cannot convert value '[\"node\", [1], null]', error: Unable to read String",
            ),
            (
                Some(json!({"fields": ["name"], "qfilter": "bad"})),
                502,
                "Failed to parse request: Cannot convert value '[\"node\", [\"name\"], \"bad\"]', error: Cannot deserialise filter: expected array [string, args], got \"bad\"",
            ),
        ];
        for (body, code, msg) in cases {
            let e = query_put(call(&b, "query", &["node"], "", body.clone()))
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (code, msg), "{body:?}");
        }
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn resources_luxid_does_not_serve() {
        let b = echo();
        let e = query_get(call(&b, "query", &["foo"], "fields=name", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 502);
        assert_eq!(
            e.message,
            "Failed to parse request: Cannot convert value '[\"foo\", [\"name\"], null]', error: Can't parse value 'foo' as neitherQueryTypeLuxi nor QueryTypeOp"
        );
        let e = query_get(call(&b, "query", &["os"], "fields=name", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (500, "Query 'ItemTypeOpCode QROs' not supported")
        );
        let e = fields_get(call(&b, "query_fields", &["cluster"], "fields=name", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (500, "QueryFields 'ItemTypeOpCode QRCluster' not supported")
        );
        let e = fields_get(call(&b, "query_fields", &["extstorage"], "", None))
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Failed to parse request: Cannot convert value '[\"extstorage\", null]', error: Can't parse value 'extstorage' as neitherQueryTypeLuxi nor QueryTypeOp"
        );
        assert!(b.calls().is_empty());
        for r in [
            "group", "export", "instance", "job", "lock", "network", "node", "filter",
        ] {
            query_get(call(&b, "query", &[r], "fields=name", None))
                .await
                .unwrap();
        }
        assert_eq!(b.calls().len(), 8);
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

    #[test]
    fn luxid_json_rendering() {
        assert_eq!(
            haskell_json(&json!(["a\"\\", {"k": [1, 2.0, 2.5, true, null]}, "é\u{1}"])),
            r#"["a\"\\", {"k": [1, 2, 2.5, true, null]}, "\u00e9\u0001"]"#
        );
    }
}
