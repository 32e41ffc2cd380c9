//! `POST /2/instances/[name]/reinstall`: one job of shutdown, reinstall
//! and (unless told not to) startup.
//!
//! Two request forms exist and Ganeti keeps them apart: the current body
//! `{os, start, osparams}` (feature `instance-reinstall-reqv1`) and the
//! legacy query string `?os=X&nostartup=1`. A request using both is
//! refused, even when the query argument is only `reason`, because the
//! stock client falls back to the query form when it thinks the server is
//! old. This resource builds no reason trail and has no dry-run.

use ganeti_clifmt::pystr;
use serde_json::{json, Map, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handlers::common::{invalid_params_message, py_type_name, submit_job};

/// The request, whichever form it came in.
#[derive(Debug, Clone, PartialEq)]
struct ReinstallRequest {
    os: Value,
    start: bool,
    osparams: Value,
}

fn parse_request(call: &Call) -> Result<ReinstallRequest, RapiError> {
    let body_given = call.body.as_ref().is_some_and(pystr::py_truthy);
    let data = if body_given {
        if !call.query.is_empty() {
            return Err(RapiError::bad_request(
                "Can't combine query and body parameters",
            ));
        }
        call.body.clone().unwrap_or(Value::Null)
    } else if !call.query.is_empty() {
        json!({
            "os": call.query.get("os"),
            "start": !call.query.flag("nostartup", false)?,
        })
    } else {
        json!({})
    };
    let Value::Object(data) = data else {
        return Err(RapiError::bad_request(
            "Invalid body contents, not a dictionary",
        ));
    };
    let start = match data.get("start") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(RapiError::bad_request(format!(
                "'start' parameter: Type is '{}', but 'bool' is expected",
                py_type_name(other)
            )))
        }
    };
    Ok(ReinstallRequest {
        os: data.get("os").cloned().unwrap_or(Value::Null),
        start,
        osparams: data.get("osparams").cloned().unwrap_or(Value::Null),
    })
}

/// The job's opcodes, each checked before anything is submitted (Ganeti
/// leaves that to the master daemon, which answers a type error with a
/// 500; a 400 names the bad parameter).
fn build_ops(name: &str, req: &ReinstallRequest) -> Result<Vec<Value>, RapiError> {
    let mut ops = vec![
        json!({"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": name}),
        json!({"OP_ID": "OP_INSTANCE_REINSTALL", "instance_name": name,
               "os_type": req.os, "osparams": req.osparams}),
    ];
    if req.start {
        ops.push(json!({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": name, "force": false}));
    }
    for op in &ops {
        let map: &Map<String, Value> = op.as_object().expect("built as an object");
        ganeti_opschema::validate_and_fill(map)
            .map_err(|e| RapiError::bad_request(invalid_params_message(&e)))?;
    }
    Ok(ops)
}

/// `POST /2/instances/[name]/reinstall`.
pub async fn reinstall(call: Call) -> Result<Value, RapiError> {
    let req = parse_request(&call)?;
    let ops = build_ops(call.item(0), &req)?;
    submit_job(&call, ops).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};

    async fn submitted(query: &str, body: Option<Value>) -> Vec<Value> {
        let b = FakeBackend::jobs();
        let got = reinstall(call(&b, "instances_name_reinstall", &["i1"], query, body))
            .await
            .unwrap();
        assert_eq!(got, json!(42));
        let jobs = b.submitted();
        assert_eq!(jobs.len(), 1);
        jobs[0].clone()
    }

    async fn refused(query: &str, body: Option<Value>) -> RapiError {
        let b = FakeBackend::jobs();
        let e = reinstall(call(&b, "instances_name_reinstall", &["i1"], query, body))
            .await
            .unwrap_err();
        assert!(b.calls().is_empty());
        e
    }

    #[tokio::test]
    async fn body_form_builds_one_job() {
        let ops = submitted(
            "",
            Some(json!({"os": "debootstrap+default", "osparams": {"dhcp": "yes"}})),
        )
        .await;
        assert_eq!(
            ops,
            vec![
                json!({"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": "i1"}),
                json!({"OP_ID": "OP_INSTANCE_REINSTALL", "instance_name": "i1",
                       "os_type": "debootstrap+default", "osparams": {"dhcp": "yes"}}),
                json!({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "i1", "force": false}),
            ]
        );
        assert!(ops.iter().all(|op| op.get("reason").is_none()));
        let ops = submitted("", Some(json!({"start": false}))).await;
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[1]["os_type"], Value::Null);
    }

    #[tokio::test]
    async fn legacy_query_form() {
        let ops = submitted("os=noop&nostartup=1", None).await;
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[1]["os_type"], "noop");
        let ops = submitted("os=noop", Some(json!({}))).await;
        assert_eq!(ops.len(), 3);
        let ops = submitted("", None).await;
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[1]["os_type"], Value::Null);
    }

    #[tokio::test]
    async fn bad_requests() {
        let e = refused("reason=x", Some(json!({"start": true}))).await;
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "Can't combine query and body parameters")
        );
        let e = refused("", Some(json!({"start": 1}))).await;
        assert_eq!(
            e.message,
            "'start' parameter: Type is 'int', but 'bool' is expected"
        );
        let e = refused("", Some(json!(["os"]))).await;
        assert_eq!(e.message, "Invalid body contents, not a dictionary");
        let e = refused("nostartup=yes", None).await;
        assert_eq!(e.message, "Invalid value for the 'nostartup' parameter");
        let e = refused("", Some(json!({"os": 5}))).await;
        assert_eq!(e.code, 400);
        assert!(e.message.starts_with("Invalid body parameters: "));
        let e = refused("", Some(json!({"osparams": "x"}))).await;
        assert_eq!(e.code, 400);
    }
}
