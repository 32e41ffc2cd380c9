//! `/2/filters` and `/2/filters/[filter_uuid]`: the job filter rules.
//!
//! Like Ganeti's `R_2_filters*`, these make direct LUXI calls
//! (`QueryFilters`, `ReplaceFilter`, `DeleteFilter`) and never submit a
//! job: a queue held up by a rule must still accept the request that lifts
//! it. The body is checked only for shape here (allowed keys, `priority`
//! an int, `predicates` and `reason` lists); the master judges the
//! content, and its refusal of arguments it cannot decode comes back as
//! Ganeti's 502 "Failed to parse request: ...".

use ganeti_luxi::Method;
use serde_json::{json, Map, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handler;
use crate::routes::{Access, HttpMethod, Route};

use super::common::{luxi, luxi_error, py_type_name, uri_list};

/// The fields of `/2/filters?bulk=1` and `/2/filters/[uuid]`, in Ganeti's
/// order.
pub const FILTER_RULE_FIELDS: &[&str] = &[
    "watermark",
    "priority",
    "predicates",
    "action",
    "reason_trail",
    "uuid",
];

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    use Access::{Public, Write};
    use HttpMethod::{Delete, Get, Post, Put};
    vec![
        Route {
            pattern: "/2/filters",
            resource: "filters",
            methods: vec![(Get, Public, handler!(list)), (Post, Write, handler!(add))],
        },
        Route {
            pattern: "/2/filters/[uuid]",
            resource: "filters_uuid",
            methods: vec![
                (Get, Public, handler!(info)),
                (Put, Write, handler!(replace)),
                (Delete, Write, handler!(delete)),
            ],
        },
    ]
}

/// Ganeti's `CheckParameter` with a type: the value, the default when the
/// key is absent, or 400 naming the parameter and both types.
fn typed_param(
    body: &Map<String, Value>,
    name: &str,
    expected: &str,
    ok: fn(&Value) -> bool,
    default: Value,
) -> Result<Value, RapiError> {
    match body.get(name) {
        None => Ok(default),
        Some(v) if ok(v) => Ok(v.clone()),
        Some(v) => Err(RapiError::bad_request(format!(
            "'{name}' parameter: Type is '{}', but '{expected}' is expected",
            py_type_name(v)
        ))),
    }
}

/// Python's `isinstance(v, int)` (which a bool passes).
fn is_py_int(v: &Value) -> bool {
    v.is_boolean() || v.as_number().is_some_and(|n| !n.is_f64())
}

/// Ganeti's `checkFilterParameters`: `(priority, predicates, action,
/// reason)` from the body.
pub fn filter_parameters(body: Option<&Value>) -> Result<[Value; 4], RapiError> {
    let Some(Value::Object(body)) = body else {
        return Err(RapiError::bad_request(
            "Invalid body contents, not a dictionary",
        ));
    };
    const ALLOWED: &[&str] = &["priority", "predicates", "action", "reason"];
    if let Some(key) = body.keys().find(|k| !ALLOWED.contains(&k.as_str())) {
        return Err(RapiError::bad_request(format!(
            "Invalid body parameters: filter rule doesn't support the parameter '{key}'"
        )));
    }
    let priority = typed_param(body, "priority", "int", is_py_int, json!(0))?;
    let predicates = typed_param(body, "predicates", "list", Value::is_array, json!([]))?;
    let action = body.get("action").cloned().unwrap_or(json!("CONTINUE"));
    let reason = typed_param(body, "reason", "list", Value::is_array, json!([]))?;
    Ok([priority, predicates, action, reason])
}

/// `GET /2/filters`: `[{uuid, uri}]`, or with `?bulk=1` every rule's
/// fields.
async fn list(call: Call) -> Result<Value, RapiError> {
    if call.query.flag("bulk", false)? {
        let rows = luxi(
            &call,
            Method::QueryFilters,
            json!([null, FILTER_RULE_FIELDS]),
        )
        .await?;
        Ok(Value::Array(
            rows.as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .map(map_fields)
                .collect(),
        ))
    } else {
        let rows = luxi(&call, Method::QueryFilters, json!([null, ["uuid"]])).await?;
        let uuids = rows
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|row| row.get(0).and_then(Value::as_str).map(str::to_owned))
            .collect();
        Ok(uri_list(uuids, "/2/filters/", "uuid"))
    }
}

/// Ganeti's `MapFields` over [`FILTER_RULE_FIELDS`].
fn map_fields(row: &Value) -> Value {
    let values = row.as_array().map(Vec::as_slice).unwrap_or(&[]);
    Value::Object(
        FILTER_RULE_FIELDS
            .iter()
            .zip(values)
            .map(|(f, v)| ((*f).to_owned(), v.clone()))
            .collect(),
    )
}

/// `POST /2/filters`: a new rule; answers its uuid.
async fn add(call: Call) -> Result<Value, RapiError> {
    let [priority, predicates, action, reason] = filter_parameters(call.body.as_ref())?;
    luxi(
        &call,
        Method::ReplaceFilter,
        json!([null, priority, predicates, action, reason]),
    )
    .await
}

/// `GET /2/filters/[uuid]`: the rule's fields; 404 when there is none.
async fn info(call: Call) -> Result<Value, RapiError> {
    let rows = call
        .backend
        .call(
            Method::QueryFilters,
            json!([[call.item(0)], FILTER_RULE_FIELDS]),
        )
        .await
        .map_err(|e| match e.error_class() {
            Some(ganeti_types::ErrorClass::NoEnt) => RapiError::not_found(),
            _ => luxi_error(&e),
        })?;
    match rows.as_array().and_then(|r| r.first()) {
        Some(row) => Ok(map_fields(row)),
        None => Err(RapiError::not_found()),
    }
}

/// `PUT /2/filters/[uuid]`: replace the rule, or create it under this uuid.
async fn replace(call: Call) -> Result<Value, RapiError> {
    let [priority, predicates, action, reason] = filter_parameters(call.body.as_ref())?;
    luxi(
        &call,
        Method::ReplaceFilter,
        json!([call.item(0), priority, predicates, action, reason]),
    )
    .await
}

/// `DELETE /2/filters/[uuid]`: answers `null`.
async fn delete(call: Call) -> Result<Value, RapiError> {
    luxi(&call, Method::DeleteFilter, json!([call.item(0)])).await
}

#[cfg(test)]
#[path = "filters_tests.rs"]
mod tests;
