//! One instance: `GET|DELETE /2/instances/[name]`, its `info` job, its
//! `console` and its `tags`.

use serde_json::{json, Map, Value};

use super::collection::{add_memory_alias, I_FIELDS};
use crate::call::Call;
use crate::error::RapiError;
use crate::handlers::common::{common_statics, query_dicts, query_one, submit_opcode};

fn instance_name(call: &Call) -> Value {
    json!(call.item(0))
}

/// `GET /2/instances/[name]`: the [`I_FIELDS`] of one instance (404 if it
/// does not exist), with the legacy `beparams.memory`.
pub async fn get(call: Call) -> Result<Value, RapiError> {
    let mut row = query_one(&call, "instance", I_FIELDS).await?;
    add_memory_alias(&mut row);
    Ok(Value::Object(row))
}

/// `DELETE /2/instances/[name][?dry-run=1]`: `OP_INSTANCE_REMOVE`, never
/// ignoring failures.
pub async fn remove(call: Call) -> Result<Value, RapiError> {
    let mut statics = Map::new();
    statics.insert("instance_name".into(), instance_name(&call));
    statics.insert("ignore_failures".into(), json!(false));
    statics.extend(common_statics(&call, true)?);
    submit_opcode(&call, "OP_INSTANCE_REMOVE", call.body.clone(), statics, &[]).await
}

/// `GET /2/instances/[name]/info[?static=1]`: a GET that submits an
/// `OP_INSTANCE_QUERY_DATA` job and answers its id.
pub async fn info(call: Call) -> Result<Value, RapiError> {
    let mut statics = Map::new();
    statics.insert("instances".into(), json!([call.item(0)]));
    statics.insert("static".into(), json!(call.query.flag("static", false)?));
    statics.extend(common_statics(&call, false)?);
    submit_opcode(
        &call,
        "OP_INSTANCE_QUERY_DATA",
        Some(json!({})),
        statics,
        &[],
    )
    .await
}

/// `GET /2/instances/[name]/console`: how to reach the console of a
/// running instance (`instance`, `kind`, and `message`, `host`, `port`,
/// `user`, `command` or `display` by kind). A stopped instance has none:
/// 503, as in Ganeti. An unknown instance is 404 (Ganeti lets the query
/// error through as a 500).
pub async fn console(call: Call) -> Result<Value, RapiError> {
    let names = [call.item(0).to_owned()];
    let rows = query_dicts(&call, "instance", &["console", "oper_state"], Some(&names)).await?;
    let row = rows.into_iter().next().ok_or_else(RapiError::not_found)?;
    let running = row
        .get("oper_state")
        .is_some_and(ganeti_clifmt::pystr::py_truthy);
    match row.get("console") {
        Some(console @ Value::Object(_)) if running => Ok(console.clone()),
        _ => Err(RapiError::new(503, "Instance console unavailable")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};
    use ganeti_luxi::Method;
    use ganeti_types::GanetiError;

    /// A backend knowing one instance, `inst1`, running or not.
    fn one_instance(running: bool) -> std::sync::Arc<FakeBackend> {
        FakeBackend::new(move |m, args| {
            if m == Method::SubmitJob {
                return Ok(json!(11));
            }
            assert_eq!(m, Method::Query);
            let wanted = args[2].to_string();
            if !wanted.contains("\"inst1\"") {
                return Ok(json!({"fields": [], "data": []}));
            }
            let row: Vec<Value> = args[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| match f.as_str().unwrap() {
                    "name" => json!([0, "inst1"]),
                    "oper_state" => json!([0, running]),
                    "console" if running => {
                        json!([0, {"instance": "inst1", "kind": "msg", "message": "no console"}])
                    }
                    "console" => json!([2, null]),
                    "beparams" => json!([0, {"maxmem": 256}]),
                    _ => json!([0, null]),
                })
                .collect();
            Ok(json!({"fields": [], "data": [row]}))
        })
    }

    #[tokio::test]
    async fn get_one_instance() {
        let b = one_instance(true);
        let got = get(call(&b, "instances_name", &["inst1"], "", None))
            .await
            .unwrap();
        assert_eq!(got["name"], "inst1");
        assert_eq!(got["beparams"], json!({"maxmem": 256, "memory": 256}));
        assert_eq!(got.as_object().unwrap().len(), I_FIELDS.len());
        let (_, args) = &b.calls()[0];
        assert_eq!(args[1], json!(I_FIELDS));
    }

    #[tokio::test]
    async fn unknown_instance_is_404() {
        let b = one_instance(true);
        let e = get(call(&b, "instances_name", &["nosuch"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e, RapiError::not_found());
        let b = FakeBackend::new(|_, _| Err(GanetiError::noent("Instance 'nosuch' not known")));
        let e = get(call(&b, "instances_name", &["nosuch"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 404);
        let e = console(call(&b, "instances_name_console", &["nosuch"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 404);
    }

    #[tokio::test]
    async fn get_with_lock_is_refused() {
        let b = one_instance(true);
        let e = get(call(&b, "instances_name", &["inst1"], "lock=1", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (500, "('Sync queries are not allowed', 'wrong_input')")
        );
        let e = get(call(&b, "instances_name", &["inst1"], "lock=yes", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[tokio::test]
    async fn console_of_running_and_stopped() {
        let b = one_instance(true);
        let got = console(call(&b, "instances_name_console", &["inst1"], "", None))
            .await
            .unwrap();
        assert_eq!(
            got,
            json!({"instance": "inst1", "kind": "msg", "message": "no console"})
        );
        let (_, args) = &b.calls()[0];
        assert_eq!(args[1], json!(["console", "oper_state"]));
        let b = one_instance(false);
        let e = console(call(&b, "instances_name_console", &["inst1"], "", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (503, "Instance console unavailable")
        );
    }

    #[tokio::test]
    async fn remove_submits_with_statics() {
        let b = FakeBackend::jobs();
        remove(call(
            &b,
            "instances_name",
            &["inst1"],
            "dry-run=1",
            Some(json!({"shutdown_timeout": 30})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_INSTANCE_REMOVE");
        assert_eq!(op["instance_name"], "inst1");
        assert_eq!(op["ignore_failures"], false);
        assert_eq!(op["dry_run"], true);
        assert_eq!(op["shutdown_timeout"], 30);
        assert_eq!(op["reason"][0][0], "gnt:library:rlib2:instances_name");
        let b = FakeBackend::jobs();
        let e = remove(call(
            &b,
            "instances_name",
            &["inst1"],
            "",
            Some(json!({"ignore_failures": true})),
        ))
        .await
        .unwrap_err();
        assert_eq!(
            e.message,
            "Can't overwrite static parameters {'ignore_failures'}"
        );
    }

    #[tokio::test]
    async fn info_is_a_get_that_submits() {
        let b = FakeBackend::jobs();
        let got = info(call(
            &b,
            "instances_name_info",
            &["inst2"],
            "static=1",
            Some(json!({"ignored": 1})),
        ))
        .await
        .unwrap();
        assert_eq!(got, json!(42));
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_INSTANCE_QUERY_DATA");
        assert_eq!(op["instances"], json!(["inst2"]));
        assert_eq!(op["static"], true);
        assert!(op.get("dry_run").is_none());
        assert_eq!(op["reason"][0][0], "gnt:library:rlib2:instances_name_info");
        let e = info(call(
            &b,
            "instances_name_info",
            &["inst2"],
            "static=x",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Invalid value for the 'static' parameter");
    }
}
