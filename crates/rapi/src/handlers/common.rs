//! What most resources share: building an opcode from a request body the
//! way Ganeti's `FillOpcode` does, the reason trail, submitting a job, LUXI
//! calls with Ganeti's error mapping, and query rows turned into dicts.

use std::time::{SystemTime, UNIX_EPOCH};

use ganeti_luxi::Method;
use ganeti_opschema::OpSchemaError;
use ganeti_types::GanetiError;
use serde_json::{json, Map, Value};

use crate::call::Call;
use crate::error::RapiError;

/// Python's `type(value).__name__` for a JSON value.
pub fn py_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Ganeti's `CheckType(value, dict, descr)`.
pub fn check_dict<'a>(v: &'a Value, descr: &str) -> Result<&'a Map<String, Value>, RapiError> {
    v.as_object().ok_or_else(|| {
        RapiError::bad_request(format!(
            "{descr}: Type is '{}', but 'dict' is expected",
            py_type_name(v)
        ))
    })
}

fn epoch_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The reason trail of a generic handler: the user's `?reason=` (if any),
/// then `gnt:library:rlib2:<resource>`.
pub fn reason_trail(call: &Call) -> Value {
    let mut trail = Vec::new();
    if let Some(text) = call.query.get("reason") {
        trail.push(json!(["gnt:user", text, epoch_nanos()]));
    }
    trail.push(json!([
        format!("gnt:library:rlib2:{}", call.resource),
        "",
        epoch_nanos()
    ]));
    Value::Array(trail)
}

/// Python's `repr` of a set of strings, as in "Can't overwrite static
/// parameters {'dry_run'}".
fn py_set_repr(names: &[String]) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|n| ganeti_clifmt::pystr::str_repr(n))
        .collect();
    format!("{{{}}}", items.join(", "))
}

/// The text of an opcode validation error after "Invalid body parameters: ":
/// an unknown parameter is a TypeError (plain message), everything else an
/// `OpPrereqError` printed as its argument tuple.
pub fn invalid_params_message(e: &OpSchemaError) -> String {
    let inner = match e {
        OpSchemaError::UnknownParam { .. } => e.to_string(),
        _ => format!(
            "({}, {})",
            ganeti_clifmt::pystr::str_repr(&e.to_string()),
            ganeti_clifmt::pystr::str_repr(e.error_class())
        ),
    };
    format!("Invalid body parameters: {inner}")
}

/// Ganeti's `FillOpcode`: check the body is a dict, apply renames, refuse
/// static parameters in the body, add the statics, validate. Returns the
/// opcode dict as the client gave it (defaults are filled by the master).
pub fn fill_opcode(
    op_id: &str,
    body: Option<&Value>,
    mut statics: Map<String, Value>,
    renames: &[(&str, &str)],
) -> Result<Map<String, Value>, RapiError> {
    let mut params = match body {
        None => Map::new(),
        Some(b) => check_dict(b, "Body contents")?.clone(),
    };
    for (old, new) in renames {
        if params.contains_key(*old) && params.contains_key(*new) {
            return Err(RapiError::bad_request(format!(
                "Parameter '{old}' was renamed to '{new}', but both are specified"
            )));
        }
        if let Some(v) = params.remove(*old) {
            params.insert((*new).to_owned(), v);
        }
    }
    let mut overwritten: Vec<String> = params
        .keys()
        .filter(|k| statics.contains_key(*k))
        .cloned()
        .collect();
    if !overwritten.is_empty() {
        overwritten.sort();
        return Err(RapiError::bad_request(format!(
            "Can't overwrite static parameters {}",
            py_set_repr(&overwritten)
        )));
    }
    params.append(&mut statics);
    params.insert("OP_ID".into(), Value::String(op_id.to_owned()));
    ganeti_opschema::validate_and_fill(&params)
        .map_err(|e| RapiError::bad_request(invalid_params_message(&e)))?;
    Ok(params)
}

/// The statics every generic handler adds: the reason trail, plus
/// `dry_run` from `?dry-run` where the resource takes it.
pub fn common_statics(call: &Call, with_dry_run: bool) -> Result<Map<String, Value>, RapiError> {
    let mut s = Map::new();
    if with_dry_run {
        s.insert("dry_run".into(), json!(call.query.flag("dry-run", false)?));
    }
    s.insert("reason".into(), reason_trail(call));
    Ok(s)
}

/// Submit one job of `ops`; the answer is the job id as a JSON integer.
pub async fn submit_job(call: &Call, ops: Vec<Value>) -> Result<Value, RapiError> {
    let id = call
        .backend
        .call(Method::SubmitJob, json!([ops]))
        .await
        .map_err(|e| submit_error(&e))?;
    Ok(match id.as_str().and_then(|s| s.parse::<u64>().ok()) {
        Some(n) => json!(n),
        None => id,
    })
}

/// Ganeti's mapping of job submission errors.
///
/// An opcode this release does not implement yet is a 500 with the
/// master's own message, not a 400: the request is valid (Ganeti would run
/// it), so "fix your request" would mislead, and 500 is what Ganeti's RAPI
/// answers for any other error the master reports. A full queue is 503; a
/// drained one is the master's generic "Queue drained", which Ganeti 3.x's
/// RAPI passes on as a 500.
pub fn submit_error(e: &GanetiError) -> RapiError {
    match e {
        GanetiError::OpPrereq(..) | GanetiError::Parameter(_) => {
            RapiError::bad_request(format!("Invalid body parameters: {}", e.message()))
        }
        _ => RapiError::from_master(e),
    }
}

/// A LUXI call. Arguments the master could not decode are a 502 (Ganeti's
/// RAPI sees a LUXI protocol error); any other error a 500 with the
/// master's message (see [`RapiError::from_master`]).
pub async fn luxi(call: &Call, method: Method, args: Value) -> Result<Value, RapiError> {
    call.backend
        .call(method, args)
        .await
        .map_err(|e| luxi_error(&e))
}

/// [`luxi`]'s mapping of master errors.
pub fn luxi_error(e: &GanetiError) -> RapiError {
    if ganeti_luxi::is_request_parse_error(e) {
        RapiError::new(502, e.message())
    } else {
        RapiError::from_master(e)
    }
}

/// Run a classic query through LUXI `Query` and return one dict per row,
/// `field -> value` (`null` where the cell has no data). `names`, when
/// given, restricts the rows to those objects; an unknown one is 404.
pub async fn query_dicts(
    call: &Call,
    resource: &str,
    fields: &[&str],
    names: Option<&[String]>,
) -> Result<Vec<Map<String, Value>>, RapiError> {
    let filter = match names {
        Some(ns) if !ns.is_empty() => {
            let mut f = vec![json!("|")];
            f.extend(ns.iter().map(|n| json!(["=", "name", n])));
            Value::Array(f)
        }
        _ => Value::Null,
    };
    let res = call
        .backend
        .call(Method::Query, json!([resource, fields, filter]))
        .await
        .map_err(|e| match e.error_class() {
            Some(ganeti_types::ErrorClass::NoEnt) => RapiError::not_found(),
            _ => RapiError::from_master(&e),
        })?;
    let rows = res
        .get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let dicts: Vec<Map<String, Value>> = rows
        .iter()
        .map(|row| {
            fields
                .iter()
                .zip(row.as_array().map(Vec::as_slice).unwrap_or(&[]))
                .map(|(f, cell)| {
                    let ok = cell.get(0).and_then(Value::as_i64) == Some(0);
                    let v = if ok {
                        cell.get(1).cloned().unwrap_or(Value::Null)
                    } else {
                        Value::Null
                    };
                    ((*f).to_owned(), v)
                })
                .collect()
        })
        .collect();
    if let Some(ns) = names {
        if dicts.len() < ns.len() {
            return Err(RapiError::not_found());
        }
    }
    Ok(dicts)
}

/// `?lock=1` asks for a locked ("sync") query, which Ganeti 3.x refuses
/// with a 500; reproduce that so clients see the same answer.
pub fn refuse_lock(call: &Call) -> Result<(), RapiError> {
    if call.query.flag("lock", false)? {
        return Err(RapiError::internal(
            "('Sync queries are not allowed', 'wrong_input')",
        ));
    }
    Ok(())
}

/// Ganeti's generic handler carries a (truthy) `depends` of the request
/// body over into whatever body the resource chose, as long as both are
/// dicts; resources that ignore the body therefore still honour `depends`.
pub fn add_request_depends(call: &Call, body: &mut Value) {
    let depends = call
        .body
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|b| b.get("depends"))
        .filter(|d| ganeti_clifmt::pystr::py_truthy(d))
        .cloned();
    if let (Some(d), Value::Object(b)) = (depends, body) {
        b.insert("depends".into(), d);
    }
}

/// A generic opcode resource whose body the resource chose itself
/// (`None`: no body; `Some({})` for resources built from the URL and query
/// only): adds the request's `depends`, the statics and renames,
/// validates, and submits a single-opcode job. Returns the job id.
pub async fn submit_opcode(
    call: &Call,
    op_id: &str,
    body: Option<Value>,
    statics: Map<String, Value>,
    renames: &[(&str, &str)],
) -> Result<Value, RapiError> {
    let body = body.map(|mut b| {
        add_request_depends(call, &mut b);
        b
    });
    let op = fill_opcode(op_id, body.as_ref(), statics, renames)?;
    submit_job(call, vec![Value::Object(op)]).await
}

/// `GET .../tags` (Ganeti's `_R_Tags`): the tags straight from LUXI
/// `QueryTags`, no job. `kind` is `cluster`, `instance`, `node`,
/// `nodegroup` or `network`; the object name is URL item 0 (none for the
/// cluster).
pub async fn tags_get(call: &Call, kind: &str) -> Result<Value, RapiError> {
    let name = if kind == "cluster" { "" } else { call.item(0) };
    luxi(call, Method::QueryTags, json!([kind, name])).await
}

/// `PUT|DELETE .../tags?tag=a&tag=b` (Ganeti's `_R_Tags`): `op_id`
/// (`OP_TAGS_SET` or `OP_TAGS_DEL`) with the tags from the query string
/// only (the body is ignored except for `depends`), plus `?dry-run` and the
/// reason trail.
pub async fn tags_change(call: &Call, kind: &str, op_id: &str) -> Result<Value, RapiError> {
    let mut statics = common_statics(call, true)?;
    statics.insert("kind".into(), json!(kind));
    // The cluster has no name: Ganeti leaves the parameter unset.
    if kind != "cluster" {
        statics.insert("name".into(), json!(call.item(0)));
    }
    statics.insert("tags".into(), json!(call.query.get_all("tag")));
    submit_opcode(call, op_id, Some(json!({})), statics, &[]).await
}

/// The `.../tags` resource of one kind of object (Ganeti's `_R_Tags`):
/// GET lists the tags (no job), PUT adds and DELETE removes the `?tag=`
/// values. `kind` is `cluster`, `instance`, `node`, `nodegroup` or
/// `network`; the object is URL item 0 (none for the cluster).
macro_rules! tags_route {
    ($pattern:literal, $resource:literal, $kind:literal) => {{
        use $crate::routes::{Access, HttpMethod};
        async fn list(
            call: $crate::call::Call,
        ) -> Result<serde_json::Value, $crate::error::RapiError> {
            $crate::handlers::common::tags_get(&call, $kind).await
        }
        async fn add(
            call: $crate::call::Call,
        ) -> Result<serde_json::Value, $crate::error::RapiError> {
            $crate::handlers::common::tags_change(&call, $kind, "OP_TAGS_SET").await
        }
        async fn remove(
            call: $crate::call::Call,
        ) -> Result<serde_json::Value, $crate::error::RapiError> {
            $crate::handlers::common::tags_change(&call, $kind, "OP_TAGS_DEL").await
        }
        $crate::routes::Route {
            pattern: $pattern,
            resource: $resource,
            methods: vec![
                (HttpMethod::Get, Access::Public, $crate::handler!(list)),
                (HttpMethod::Put, Access::Write, $crate::handler!(add)),
                (HttpMethod::Delete, Access::Write, $crate::handler!(remove)),
            ],
        }
    }};
}
pub(crate) use tags_route;

/// Ganeti's `BuildUriList`: `[{id_key: name, "uri": uri_prefix + name}]`,
/// sorted by plain string order (Python's `list.sort`, not the natural
/// sort of queries).
pub fn uri_list(mut names: Vec<String>, uri_prefix: &str, id_key: &str) -> Value {
    names.sort();
    Value::Array(
        names
            .into_iter()
            .map(|n| {
                let uri = json!(format!("{uri_prefix}{n}"));
                let mut m = Map::new();
                m.insert(id_key.to_owned(), json!(n));
                m.insert("uri".into(), uri);
                Value::Object(m)
            })
            .collect(),
    )
}

/// The `name` of every object of a query resource (`node`, `group`,
/// `network`, ...), for the non-bulk listings.
pub async fn query_names(call: &Call, resource: &str) -> Result<Vec<String>, RapiError> {
    Ok(query_dicts(call, resource, &["name"], None)
        .await?
        .into_iter()
        .filter_map(|mut d| match d.remove("name") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        })
        .collect())
}

/// A listing resource (`/2/nodes`, `/2/groups`, `/2/networks`): with
/// `?bulk=1` one dict of `fields` per object in query order, else Ganeti's
/// `BuildUriList` of the names under `uri_prefix`, keyed by `id_key`.
pub async fn list_or_bulk(
    call: &Call,
    resource: &str,
    fields: &[&str],
    uri_prefix: &str,
    id_key: &str,
) -> Result<Value, RapiError> {
    if call.query.flag("bulk", false)? {
        let rows = query_dicts(call, resource, fields, None).await?;
        Ok(Value::Array(rows.into_iter().map(Value::Object).collect()))
    } else {
        Ok(uri_list(
            query_names(call, resource).await?,
            uri_prefix,
            id_key,
        ))
    }
}

/// A single-object GET (`/2/nodes/[name]`, ...): `fields` of the object
/// named by URL item 0; `?lock=1` is refused as Ganeti 3.x does, an
/// unknown object is 404.
pub async fn query_one(
    call: &Call,
    resource: &str,
    fields: &[&str],
) -> Result<Map<String, Value>, RapiError> {
    refuse_lock(call)?;
    let names = [call.item(0).to_owned()];
    query_dicts(call, resource, fields, Some(&names))
        .await?
        .into_iter()
        .next()
        .ok_or_else(RapiError::not_found)
}

/// A fake [`crate::Backend`] for handler unit tests: records every LUXI
/// call and answers from a closure.
#[cfg(test)]
pub mod fake {
    use std::sync::Arc;

    use ganeti_luxi::Method;
    use ganeti_types::GanetiError;
    use parking_lot::Mutex;
    use serde_json::Value;

    use crate::backend::{Backend, BoxFuture};
    use crate::call::{Call, QueryArgs};

    type Answer = Box<dyn Fn(Method, &Value) -> Result<Value, GanetiError> + Send + Sync>;

    /// Records calls; answers with the closure given to [`FakeBackend::new`].
    pub struct FakeBackend {
        calls: Mutex<Vec<(Method, Value)>>,
        answer: Answer,
    }

    impl FakeBackend {
        /// A backend answering every call with `answer(method, args)`.
        pub fn new(
            answer: impl Fn(Method, &Value) -> Result<Value, GanetiError> + Send + Sync + 'static,
        ) -> Arc<Self> {
            Arc::new(FakeBackend {
                calls: Mutex::new(Vec::new()),
                answer: Box::new(answer),
            })
        }

        /// A backend that accepts every job as job 42 and answers every
        /// other call with `null`.
        pub fn jobs() -> Arc<Self> {
            Self::new(|m, _| {
                Ok(match m {
                    Method::SubmitJob => serde_json::json!(42),
                    _ => Value::Null,
                })
            })
        }

        /// Every call so far, in order.
        pub fn calls(&self) -> Vec<(Method, Value)> {
            self.calls.lock().clone()
        }

        /// The opcodes of every submitted job, in order.
        pub fn submitted(&self) -> Vec<Vec<Value>> {
            self.calls()
                .into_iter()
                .filter(|(m, _)| *m == Method::SubmitJob)
                .map(|(_, a)| a[0].as_array().cloned().unwrap_or_default())
                .collect()
        }

        /// The only opcode of the only submitted job (panics otherwise).
        pub fn only_op(&self) -> Value {
            let jobs = self.submitted();
            assert_eq!(jobs.len(), 1, "expected one job, got {jobs:?}");
            assert_eq!(jobs[0].len(), 1, "expected one opcode, got {:?}", jobs[0]);
            jobs[0][0].clone()
        }
    }

    impl std::fmt::Debug for FakeBackend {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("FakeBackend")
                .field("calls", &self.calls.lock().len())
                .finish_non_exhaustive()
        }
    }

    impl Backend for FakeBackend {
        fn call(&self, method: Method, args: Value) -> BoxFuture<'_, Result<Value, GanetiError>> {
            let answer = (self.answer)(method, &args);
            self.calls.lock().push((method, args));
            Box::pin(async move { answer })
        }
    }

    /// A call of `resource` with URL `items`, query string `query` and
    /// `body`, answered by `backend`.
    pub fn call(
        backend: &Arc<FakeBackend>,
        resource: &'static str,
        items: &[&str],
        query: &str,
        body: Option<Value>,
    ) -> Call {
        Call {
            backend: backend.clone(),
            items: items.iter().map(|s| (*s).to_owned()).collect(),
            query: QueryArgs::parse(query),
            body,
            user: Some("tester".into()),
            resource,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_opcode_follows_ganeti() {
        let body = json!({"name": "i1", "force": true});
        let mut statics = Map::new();
        statics.insert("dry_run".into(), json!(false));
        let op = fill_opcode(
            "OP_INSTANCE_SHUTDOWN",
            Some(&body),
            statics.clone(),
            &[("name", "instance_name")],
        )
        .unwrap();
        assert_eq!(op["instance_name"], "i1");
        assert_eq!(op["OP_ID"], "OP_INSTANCE_SHUTDOWN");

        let e = fill_opcode(
            "OP_INSTANCE_SHUTDOWN",
            Some(&json!({"instance_name": "i1", "dry_run": true})),
            statics.clone(),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.message, "Can't overwrite static parameters {'dry_run'}");

        let e = fill_opcode("OP_INSTANCE_SHUTDOWN", Some(&json!([1])), statics, &[]).unwrap_err();
        assert_eq!(
            e.message,
            "Body contents: Type is 'list', but 'dict' is expected"
        );
    }

    #[test]
    fn validation_messages_match_ganeti() {
        let e = fill_opcode(
            "OP_INSTANCE_CREATE",
            Some(&json!({"instance_name": "i", "mode": "create"})),
            Map::new(),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "Invalid body parameters: (\"Parameter 'OP_INSTANCE_CREATE.disks' fails validation\", 'wrong_input')"
        );
        let e = fill_opcode(
            "OP_INSTANCE_SHUTDOWN",
            Some(&json!({"instance_name": "i", "frobnicate": 1})),
            Map::new(),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid body parameters: Object OpInstanceShutdown doesn't support the parameter 'frobnicate'"
        );
    }
}
