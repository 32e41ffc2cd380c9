//! `/2/jobs`, `/2/jobs/[id]` and the long poll `/2/jobs/[id]/wait`.
//!
//! Clients follow their jobs through these resources, so the shapes are
//! Ganeti 3.0.2's: ids are JSON integers, an unknown job id answers 200 with
//! every field but `id` null (what luxid returns; clients read `status:
//! null` as "no such job"), and the wait call is a GET with a JSON body that
//! blocks at most 10 s. Also here: [`poll_job`], the server-side wait for a
//! job that `/2/os` needs (Ganeti's `cli.PollJob`).

use ganeti_luxi::Method;
use serde_json::{json, Map, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handler;
use crate::handlers::common::{check_dict, luxi};
use crate::routes::{Access, HttpMethod, Route};

/// Fields of `GET /2/jobs?bulk=1` (Ganeti's `J_FIELDS_BULK`).
pub const J_FIELDS_BULK: &[&str] = &[
    "id",
    "ops",
    "status",
    "summary",
    "opstatus",
    "received_ts",
    "start_ts",
    "end_ts",
];

/// Fields of `GET /2/jobs/[id]` (Ganeti's `J_FIELDS`).
pub const J_FIELDS: &[&str] = &[
    "id",
    "ops",
    "status",
    "summary",
    "opstatus",
    "received_ts",
    "start_ts",
    "end_ts",
    "oplog",
    "opresult",
];

/// How long one wait call may block (Ganeti's `_WFJC_TIMEOUT`).
pub const WAIT_TIMEOUT_SECS: u64 = 10;

/// LUXI's answer to a wait that saw no change (Ganeti's `JOB_NOTCHANGED`).
const JOB_NOTCHANGED: &str = "nochange";

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    vec![
        Route {
            pattern: "/2/jobs",
            resource: "jobs",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(list))],
        },
        Route {
            pattern: "/2/jobs/[id]",
            resource: "jobs_id",
            methods: vec![
                (HttpMethod::Get, Access::Public, handler!(get)),
                (HttpMethod::Delete, Access::Write, handler!(cancel)),
            ],
        },
        Route {
            pattern: "/2/jobs/[id]/wait",
            resource: "jobs_id_wait",
            methods: vec![(HttpMethod::Get, Access::Write, handler!(wait))],
        },
    ]
}

/// The job id of URL item 0. The router only lets digits through; an id
/// too large for any job cannot exist, hence 404.
fn url_job_id(call: &Call) -> Result<u64, RapiError> {
    call.item(0).parse().map_err(|_| RapiError::not_found())
}

/// Zip field names with one LUXI row (`MapFields`).
fn map_fields(fields: &[&str], row: &Value) -> Map<String, Value> {
    let values = row.as_array().map(Vec::as_slice).unwrap_or(&[]);
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            (
                (*f).to_owned(),
                values.get(i).cloned().unwrap_or(Value::Null),
            )
        })
        .collect()
}

async fn query_jobs(call: &Call, ids: Value, fields: &[&str]) -> Result<Vec<Value>, RapiError> {
    let rows = luxi(call, Method::QueryJobs, json!([ids, fields])).await?;
    match rows {
        Value::Array(rows) => Ok(rows),
        other => Err(RapiError::new(
            502,
            format!("Unexpected answer to QueryJobs: {other}"),
        )),
    }
}

/// `GET /2/jobs`: `[{id, uri}]` sorted by id, or with `?bulk=1` one dict
/// of [`J_FIELDS_BULK`] per job.
async fn list(call: Call) -> Result<Value, RapiError> {
    let bulk = call.query.flag("bulk", false)?;
    if bulk {
        let mut rows: Vec<Map<String, Value>> = query_jobs(&call, Value::Null, J_FIELDS_BULK)
            .await?
            .iter()
            .filter(|r| !r.is_null())
            .map(|r| map_fields(J_FIELDS_BULK, r))
            .collect();
        rows.sort_by_key(|r| r.get("id").and_then(Value::as_u64));
        return Ok(Value::Array(rows.into_iter().map(Value::Object).collect()));
    }
    let mut ids: Vec<u64> = query_jobs(&call, Value::Null, &["id"])
        .await?
        .iter()
        .filter_map(|r| r.get(0).and_then(Value::as_u64))
        .collect();
    ids.sort_unstable();
    Ok(Value::Array(
        ids.into_iter()
            .map(|id| json!({"id": id, "uri": format!("/2/jobs/{id}")}))
            .collect(),
    ))
}

/// `GET /2/jobs/[id]`: the [`J_FIELDS`] of one job. An unknown job is not
/// a 404 in Ganeti 3.x: luxid answers a row with only the id set.
async fn get(call: Call) -> Result<Value, RapiError> {
    let id = url_job_id(&call)?;
    let rows = query_jobs(&call, json!([id]), J_FIELDS).await?;
    let row = rows.into_iter().next().unwrap_or(Value::Null);
    if row.is_null() {
        let mut unknown = map_fields(J_FIELDS, &Value::Null);
        unknown.insert("id".into(), json!(id));
        return Ok(Value::Object(unknown));
    }
    Ok(Value::Object(map_fields(J_FIELDS, &row)))
}

/// `DELETE /2/jobs/[id]`: LUXI `CancelJob`, whose `[success, message]`
/// is the answer.
async fn cancel(call: Call) -> Result<Value, RapiError> {
    let id = url_job_id(&call)?;
    luxi(&call, Method::CancelJob, json!([id])).await
}

/// The wait body, type-checked as Ganeti does.
#[derive(Debug, PartialEq)]
struct WaitRequest {
    fields: Vec<String>,
    previous_job_info: Value,
    previous_log_serial: Value,
}

fn parse_wait_body(body: Option<&Value>) -> Result<WaitRequest, RapiError> {
    // Ganeti fails with a 500 (a Python TypeError) when the body is not a
    // dict; a 400 says what is wrong.
    let empty = Value::Object(Map::new());
    let body = check_dict(body.unwrap_or(&empty), "Body contents")?;
    let fields = body
        .get("fields")
        .ok_or_else(|| RapiError::bad_request("Required parameter 'fields' is missing"))?;
    let fields = fields
        .as_array()
        .ok_or_else(|| RapiError::bad_request("The 'fields' parameter should be a list"))?;
    // Ganeti hands non-string names to luxid, which rejects the call (500).
    let fields = fields
        .iter()
        .map(|f| f.as_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| {
            RapiError::bad_request("The 'fields' parameter should be a list of strings")
        })?;
    let previous_job_info = body
        .get("previous_job_info")
        .cloned()
        .unwrap_or(Value::Null);
    if !(previous_job_info.is_null() || previous_job_info.is_array()) {
        return Err(RapiError::bad_request(
            "The 'previous_job_info' parameter should be a list",
        ));
    }
    // Python's isinstance(x, int) also accepts booleans.
    let previous_log_serial = match body.get("previous_log_serial") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Bool(b)) => json!(u8::from(*b)),
        Some(v @ Value::Number(n)) if n.is_i64() || n.is_u64() => v.clone(),
        Some(_) => {
            return Err(RapiError::bad_request(
                "The 'previous_log_serial' parameter should be a number",
            ))
        }
    };
    Ok(WaitRequest {
        fields,
        previous_job_info,
        previous_log_serial,
    })
}

/// `GET /2/jobs/[id]/wait` with body `{fields, previous_job_info,
/// previous_log_serial}`: blocks up to 10 s for the job to change, then
/// answers `{job_info, log_entries}`, or `null` when nothing changed.
async fn wait(call: Call) -> Result<Value, RapiError> {
    let id = url_job_id(&call)?;
    let req = parse_wait_body(call.body.as_ref())?;
    let result = luxi(
        &call,
        Method::WaitForJobChange,
        json!([
            id,
            req.fields,
            req.previous_job_info,
            req.previous_log_serial,
            WAIT_TIMEOUT_SECS
        ]),
    )
    .await?;
    if !ganeti_clifmt::pystr::py_truthy(&result) {
        return Err(RapiError::not_found());
    }
    if result.as_str() == Some(JOB_NOTCHANGED) {
        return Ok(Value::Null);
    }
    match result.as_array().map(Vec::as_slice) {
        Some([job_info, log_entries]) => Ok(json!({
            "job_info": job_info,
            "log_entries": log_entries,
        })),
        _ => Err(RapiError::new(
            502,
            format!("Unexpected answer to WaitForJobChange: {result}"),
        )),
    }
}

fn is_encoded_error(v: &Value) -> bool {
    matches!(v.as_array().map(Vec::as_slice),
        Some([Value::String(class), Value::Array(_)]) if class.ends_with("Error")
            || class.starts_with("Op")
            || class == "JobLost")
}

/// Wait server-side for job `id` to finish and return its per-opcode
/// results, like Ganeti's `cli.PollJob`: a canceled or failed job is a
/// 500 with the job's error. Dropping the future (the client went away)
/// stops the wait; the job itself carries on.
pub async fn poll_job(call: &Call, id: u64) -> Result<Vec<Value>, RapiError> {
    let lost = || RapiError::internal(format!("Job with id {id} lost"));
    let mut prev_info = Value::Null;
    let mut prev_serial = Value::Null;
    loop {
        let result = luxi(
            call,
            Method::WaitForJobChange,
            json!([id, ["status"], prev_info, prev_serial, WAIT_TIMEOUT_SECS]),
        )
        .await?;
        if !ganeti_clifmt::pystr::py_truthy(&result) {
            return Err(lost());
        }
        if result.as_str() == Some(JOB_NOTCHANGED) {
            continue;
        }
        let Some([info, logs]) = result.as_array().map(Vec::as_slice) else {
            return Err(RapiError::new(
                502,
                format!("Unexpected answer to WaitForJobChange: {result}"),
            ));
        };
        if let Some(max) = logs
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.get(0).and_then(Value::as_u64))
            .max()
        {
            prev_serial = json!(max);
        }
        let status = info.get(0).and_then(Value::as_str).unwrap_or("");
        if matches!(status, "success" | "error" | "canceling" | "canceled") {
            break;
        }
        prev_info = info.clone();
    }
    let rows = query_jobs(call, json!([id]), &["status", "opstatus", "opresult"]).await?;
    let row = match rows.into_iter().next() {
        Some(Value::Array(r)) if r.len() == 3 => r,
        _ => return Err(lost()),
    };
    let results = row[2].as_array().cloned().unwrap_or_default();
    match row[0].as_str() {
        Some("success") => return Ok(results),
        Some("canceling" | "canceled") => return Err(RapiError::internal("Job was canceled")),
        _ => {}
    }
    let opstatus = row[1].as_array().cloned().unwrap_or_default();
    let mut has_ok = false;
    for (idx, (status, msg)) in opstatus.iter().zip(&results).enumerate() {
        match status.as_str() {
            Some("success") => has_ok = true,
            Some("error") => {
                let text = if is_encoded_error(msg) {
                    crate::error::py_exception_str(
                        msg[1].as_array().map(Vec::as_slice).unwrap_or(&[]),
                    )
                } else if has_ok {
                    format!(
                        "partial failure (opcode {idx}): {}",
                        ganeti_clifmt::pystr::py_str(msg)
                    )
                } else {
                    ganeti_clifmt::pystr::py_str(msg)
                };
                return Err(RapiError::internal(text));
            }
            _ => {}
        }
    }
    Err(RapiError::internal(ganeti_clifmt::pystr::py_str(&row[2])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};

    fn job_row(id: u64) -> Value {
        json!([
            id,
            [],
            "success",
            ["X"],
            ["success"],
            [1, 2],
            [3, 4],
            [5, 6],
            [[]],
            [null]
        ])
    }

    #[tokio::test]
    async fn list_is_sorted_ids_with_uris() {
        let b = FakeBackend::new(|m, args| {
            assert_eq!(m, Method::QueryJobs);
            assert_eq!(args, &json!([null, ["id"]]));
            Ok(json!([[10], [2], [1]]))
        });
        let got = list(call(&b, "jobs", &[], "", None)).await.unwrap();
        assert_eq!(
            got,
            json!([
                {"id": 1, "uri": "/2/jobs/1"},
                {"id": 2, "uri": "/2/jobs/2"},
                {"id": 10, "uri": "/2/jobs/10"}
            ])
        );
    }

    #[tokio::test]
    async fn bulk_list_maps_bulk_fields() {
        let b = FakeBackend::new(|_, args| {
            assert_eq!(args[1], json!(J_FIELDS_BULK));
            Ok(json!([[3, [], "queued", [], [], null, null, null]]))
        });
        let got = list(call(&b, "jobs", &[], "bulk=1", None)).await.unwrap();
        let keys: Vec<&String> = got[0].as_object().unwrap().keys().collect();
        assert_eq!(keys, J_FIELDS_BULK);
        assert_eq!(got[0]["status"], "queued");
        let e = list(call(&b, "jobs", &[], "bulk=yes", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[tokio::test]
    async fn get_maps_job_fields() {
        let b = FakeBackend::new(|_, args| {
            assert_eq!(args, &json!([[7], J_FIELDS]));
            Ok(json!([job_row(7)]))
        });
        let got = get(call(&b, "jobs_id", &["7"], "", None)).await.unwrap();
        assert_eq!(got["id"], 7);
        assert_eq!(got["received_ts"], json!([1, 2]));
        assert_eq!(got["opresult"], json!([null]));
        assert_eq!(got.as_object().unwrap().len(), J_FIELDS.len());
    }

    #[tokio::test]
    async fn unknown_job_is_id_with_nulls() {
        let b = FakeBackend::new(|_, _| Ok(json!([null])));
        let got = get(call(&b, "jobs_id", &["999999"], "", None))
            .await
            .unwrap();
        let fixture: Value = serde_json::from_str(
            r#"{"id": 999999, "ops": null, "status": null, "summary": null, "opstatus": null, "received_ts": null, "start_ts": null, "end_ts": null, "oplog": null, "opresult": null}"#,
        )
        .unwrap();
        assert_eq!(got, fixture);
        assert_eq!(
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&fixture).unwrap()
        );
    }

    #[tokio::test]
    async fn huge_job_id_is_404() {
        let b = FakeBackend::jobs();
        let e = get(call(&b, "jobs_id", &["99999999999999999999999"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 404);
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn cancel_returns_luxi_answer() {
        let b = FakeBackend::new(|m, args| {
            assert_eq!(m, Method::CancelJob);
            assert_eq!(args, &json!([5]));
            Ok(json!([true, "Job 5 canceled"]))
        });
        let got = cancel(call(&b, "jobs_id", &["5"], "dry-run=1", Some(json!({}))))
            .await
            .unwrap();
        assert_eq!(got, json!([true, "Job 5 canceled"]));
    }

    #[tokio::test]
    async fn wait_passes_body_and_caps_timeout() {
        let b = FakeBackend::new(|m, args| {
            assert_eq!(m, Method::WaitForJobChange);
            assert_eq!(args, &json!([5, ["status"], ["running"], 3, 10]));
            Ok(json!([["success"], [[4, [1, 2], "message", "done"]]]))
        });
        let body = json!({"fields": ["status"], "previous_job_info": ["running"], "previous_log_serial": 3});
        let got = wait(call(&b, "jobs_id_wait", &["5"], "", Some(body)))
            .await
            .unwrap();
        assert_eq!(
            got,
            json!({"job_info": ["success"], "log_entries": [[4, [1, 2], "message", "done"]]})
        );
    }

    #[tokio::test]
    async fn wait_without_change_is_null() {
        let b = FakeBackend::new(|_, _| Ok(json!("nochange")));
        let body = json!({"fields": ["status"]});
        let got = wait(call(&b, "jobs_id_wait", &["5"], "", Some(body)))
            .await
            .unwrap();
        assert_eq!(got, Value::Null);
        let b = FakeBackend::new(|_, _| Ok(json!(false)));
        let body = json!({"fields": ["status"]});
        let e = wait(call(&b, "jobs_id_wait", &["5"], "", Some(body)))
            .await
            .unwrap_err();
        assert_eq!(e.code, 404);
    }

    #[tokio::test]
    async fn wait_unknown_job_is_a_master_error() {
        let b = FakeBackend::new(|_, _| Err(ganeti_types::GanetiError::noent("Job 9 not found")));
        let body = json!({"fields": ["status"]});
        let e = wait(call(&b, "jobs_id_wait", &["9"], "", Some(body)))
            .await
            .unwrap_err();
        assert_eq!(e.code, 500);
    }

    #[tokio::test]
    async fn wait_body_type_errors_are_400() {
        let cases = [
            (json!({}), "Required parameter 'fields' is missing"),
            (
                json!({"fields": "status"}),
                "The 'fields' parameter should be a list",
            ),
            (
                json!({"fields": [1]}),
                "The 'fields' parameter should be a list of strings",
            ),
            (
                json!({"fields": ["status"], "previous_job_info": "x"}),
                "The 'previous_job_info' parameter should be a list",
            ),
            (
                json!({"fields": ["status"], "previous_log_serial": "3"}),
                "The 'previous_log_serial' parameter should be a number",
            ),
            (
                json!({"fields": ["status"], "previous_log_serial": 1.5}),
                "The 'previous_log_serial' parameter should be a number",
            ),
            (
                json!(["status"]),
                "Body contents: Type is 'list', but 'dict' is expected",
            ),
        ];
        for (body, msg) in cases {
            let b = FakeBackend::jobs();
            let e = wait(call(&b, "jobs_id_wait", &["5"], "", Some(body.clone())))
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (400, msg), "{body}");
            assert!(b.calls().is_empty());
        }
        let b = FakeBackend::jobs();
        let e = wait(call(&b, "jobs_id_wait", &["5"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 400);
    }

    #[tokio::test]
    async fn poll_job_follows_log_serials_and_returns_results() {
        let waits = std::sync::atomic::AtomicUsize::new(0);
        let b = FakeBackend::new(move |m, args| match m {
            Method::WaitForJobChange => Ok(
                match waits.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                    0 => json!([
                        ["running"],
                        [[1, [0, 0], "message", "a"], [2, [0, 0], "message", "b"]]
                    ]),
                    1 => json!("nochange"),
                    _ => json!([["success"], []]),
                },
            ),
            Method::QueryJobs => {
                assert_eq!(args, &json!([[4], ["status", "opstatus", "opresult"]]));
                Ok(json!([["success", ["success"], [[["noop", ["a"]]]]]]))
            }
            _ => unreachable!(),
        });
        // After the first answer, the serial and the info seen are carried
        // over to every later wait.
        let c = call(&b, "os", &[], "", None);
        let got = poll_job(&c, 4).await.unwrap();
        assert_eq!(got, vec![json!([["noop", ["a"]]])]);
        let waits: Vec<Value> = b
            .calls()
            .into_iter()
            .filter(|(m, _)| *m == Method::WaitForJobChange)
            .map(|(_, a)| a)
            .collect();
        assert_eq!(waits.len(), 3);
        assert_eq!(waits[0][2], Value::Null);
        assert_eq!(waits[0][3], Value::Null);
        for later in &waits[1..] {
            assert_eq!(later[3], json!(2));
            assert_eq!(later[2], json!(["running"]));
            assert_eq!(later[4], json!(WAIT_TIMEOUT_SECS));
        }
    }

    #[tokio::test]
    async fn poll_job_reports_job_errors() {
        let b = FakeBackend::new(|m, _| match m {
            Method::WaitForJobChange => Ok(json!([["error"], []])),
            _ => Ok(json!([[
                "error",
                ["error"],
                [[
                    "OpPrereqError",
                    ["Instance 'x' not known", "unknown_entity"]
                ]]
            ]])),
        });
        let e = poll_job(&call(&b, "os", &[], "", None), 4)
            .await
            .unwrap_err();
        assert_eq!(e.code, 500);
        assert_eq!(e.message, "(\"Instance 'x' not known\", 'unknown_entity')");
        let b = FakeBackend::new(|m, _| match m {
            Method::WaitForJobChange => Ok(json!([["canceled"], []])),
            _ => Ok(json!([["canceled", ["canceled"], [null]]])),
        });
        let e = poll_job(&call(&b, "os", &[], "", None), 4)
            .await
            .unwrap_err();
        assert_eq!(e.message, "Job was canceled");
        let b = FakeBackend::new(|_, _| Ok(Value::Null));
        let e = poll_job(&call(&b, "os", &[], "", None), 4)
            .await
            .unwrap_err();
        assert_eq!(e.message, "Job with id 4 lost");
    }
}
