//! One module per gnt-* tool: its command table and handlers.
//!
//! Each handler is split into a pure part that turns options and
//! arguments into an opcode (tested without a master) and the part that
//! submits it and prints the result, as Ganeti's `gnt_*.py` modules do.

pub mod backup;
pub mod cluster;
pub mod debug;
pub mod filter;
pub mod group;
pub mod instance;
pub mod job;
pub mod network;
pub mod node;
pub mod os;

use ganeti_clifmt::kv::{IdentKv, IdentValue, KvMap, KvValue};
use serde_json::{Map, Value};

use crate::errors::{CliError, GanetiErr};
use crate::optparse::Opts;
use crate::params::{self, Table};

/// The text of an I/O error as Python's `strerror` gives it (no
/// "(os error N)" suffix), for messages that quote Python's `IOError`.
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

/// `SplitNodeOption`: `pnode[:snode]`.
pub fn split_node_option(value: Option<String>) -> (Option<String>, Option<String>) {
    match value {
        Some(v) => match v.split_once(':') {
            Some((p, s)) => (Some(p.to_string()), Some(s.to_string())),
            None => (Some(v), None),
        },
        None => (None, None),
    }
}

/// A `k=v` option as a JSON object, untyped.
pub fn kv_json(m: &KvMap) -> Value {
    Value::Object(m.to_json())
}

/// Appended `ident:k=v` options as `{ident: {k: v}}` (Python's
/// `dict(opts.hvparams)`), each typed with `table` when given.
pub fn ident_dict(list: &[IdentKv], table: Option<Table>) -> Result<Map<String, Value>, CliError> {
    let mut out = Map::new();
    for item in list {
        let v = match &item.value {
            IdentValue::Params(m) => match table {
                Some(t) => Value::Object(params::force(m, t)?),
                None => kv_json(m),
            },
            IdentValue::Removed => Value::Bool(false),
            IdentValue::Reset => Value::Null,
        };
        out.insert(item.ident.clone(), v);
    }
    Ok(out)
}

/// Python's `int(text)` for an index given on the command line.
pub fn parse_index(text: &str) -> Result<i64, String> {
    ganeti_clifmt::pystr::py_int(text)
        .and_then(|v| i64::try_from(v).ok())
        .ok_or_else(|| {
            format!(
                "invalid literal for int() with base 10: {}",
                ganeti_clifmt::pystr::str_repr(text)
            )
        })
}

/// The parameters of an `ident:k=v` value, or an error naming `what`.
pub fn ident_params(item: &IdentKv, what: &str, idx: i64) -> Result<KvMap, CliError> {
    match &item.value {
        IdentValue::Params(m) => Ok(m.clone()),
        IdentValue::Removed => Err(GanetiErr::inval(format!(
            "Invalid {what}/{idx} value: expected dict, got False"
        ))
        .into()),
        IdentValue::Reset => Err(GanetiErr::inval(format!(
            "Invalid {what}/{idx} value: expected dict, got None"
        ))
        .into()),
    }
}

/// A flag as JSON.
pub fn jbool(opts: &Opts, dest: &str) -> Value {
    Value::Bool(opts.flag(dest))
}

/// A text option as JSON (`null` when unset).
pub fn jstr(opts: &Opts, dest: &str) -> Value {
    opts.str(dest).map(Value::String).unwrap_or(Value::Null)
}

/// An integer option as JSON (`null` when unset).
pub fn jint(opts: &Opts, dest: &str) -> Value {
    opts.int(dest).map(Value::from).unwrap_or(Value::Null)
}

/// A tri-state boolean option as JSON (`null` when unset).
pub fn jmaybe_bool(opts: &Opts, dest: &str) -> Value {
    opts.maybe_bool(dest)
        .map(Value::Bool)
        .unwrap_or(Value::Null)
}

/// A `k=v` value as the text Python would print (`str(value)`).
pub fn kv_text(v: &KvValue) -> String {
    v.py_str()
}

/// Ganeti's `utils.FlatToDict` for `--disk-state`/`--hypervisor-state`
/// style options: `{ident: {k: v}}`.
pub fn flat_to_dict(list: &[IdentKv]) -> Map<String, Value> {
    let mut out = Map::new();
    for item in list {
        let v = match &item.value {
            IdentValue::Params(m) => kv_json(m),
            IdentValue::Removed => Value::Bool(false),
            IdentValue::Reset => Value::Null,
        };
        out.insert(item.ident.clone(), v);
    }
    out
}

#[cfg(test)]
pub mod testutil {
    //! Helpers for the command tests.

    use std::ffi::OsString;

    use serde_json::Value;

    use crate::commands::{all_options, GroupDef};
    use crate::context::testing::FakeEnv;
    use crate::optparse::{parse, Opts, Parsed};

    /// Parse `args` for `group`'s command `cmd`.
    pub fn parse_cmd(group: &GroupDef, cmd: &str, args: &[&str]) -> (Opts, Vec<String>) {
        let def = group.find(cmd).expect("command exists");
        let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&all_options(def), &argv).expect("parses") {
            Parsed::Args(o, a) => (o, a),
            Parsed::Help => panic!("help"),
        }
    }

    /// Run a whole command line against `env`: (rc, stdout, stderr).
    pub fn run_cmd(env: &FakeEnv, argv: &[&str]) -> (i32, String, String) {
        let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let rc = crate::run_with_env(argv, env, &mut out, &mut err);
        (
            rc,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    /// The opcodes submitted through `SubmitJob`/`SubmitManyJobs`, with the
    /// reason trail removed.
    pub fn submitted_ops(env: &FakeEnv) -> Vec<Value> {
        let mut out = Vec::new();
        for (m, args) in env.log.borrow().iter() {
            let jobs: Vec<Value> = match m {
                ganeti_luxi::Method::SubmitJob | ganeti_luxi::Method::SubmitJobToDrainedQueue => {
                    vec![args[0].clone()]
                }
                ganeti_luxi::Method::SubmitManyJobs => {
                    args[0].as_array().cloned().unwrap_or_default()
                }
                _ => continue,
            };
            for job in jobs {
                for op in job.as_array().cloned().unwrap_or_default() {
                    let mut op = op;
                    if let Some(m) = op.as_object_mut() {
                        m.remove("reason");
                    }
                    out.push(op);
                }
            }
        }
        out
    }

    /// A recording of Ganeti 3.0.2's tools, or `None` when Ganeti has
    /// no such recording.
    pub use ganeti_fixtures::cli as fixture;
}

#[cfg(test)]
pub(crate) mod fakemaster {
    //! A scripted master for whole-command tests: jobs succeed or fail as
    //! planned, other calls are answered by a closure.

    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    use ganeti_luxi::{LuxiError, Method};
    use serde_json::{json, Value};

    use crate::context::testing::FakeEnv;

    /// What one submitted job does.
    #[derive(Debug, Clone)]
    pub struct JobPlan {
        /// Log entries reported while it runs.
        pub logs: Vec<Value>,
        /// The final job status.
        pub status: &'static str,
        /// Per-opcode statuses.
        pub opstatus: Vec<&'static str>,
        /// Per-opcode results.
        pub opresult: Vec<Value>,
    }

    impl JobPlan {
        /// A job whose only opcode returns `result`.
        pub fn ok(result: Value) -> Self {
            JobPlan {
                logs: Vec::new(),
                status: "success",
                opstatus: vec!["success"],
                opresult: vec![result],
            }
        }

        /// A job whose only opcode fails with the encoded error `err`.
        pub fn err(err: Value) -> Self {
            JobPlan {
                logs: Vec::new(),
                status: "error",
                opstatus: vec!["error"],
                opresult: vec![err],
            }
        }

        /// Add message log entries (at 2026-11-23 15:17:14 UTC).
        pub fn with_logs(mut self, msgs: &[&str]) -> Self {
            for (i, m) in msgs.iter().enumerate() {
                self.logs
                    .push(json!([i + 1, [1_795_447_034, 0], "message", m]));
            }
            self
        }
    }

    type Extra = Box<dyn FnMut(Method, &Value) -> Option<Result<Value, LuxiError>>>;

    /// A fake master running `plans` for the submitted jobs (in order,
    /// ids from `first_id`), answering everything else with `extra`.
    pub fn master(
        first_id: u64,
        plans: Vec<JobPlan>,
        extra: impl FnMut(Method, &Value) -> Option<Result<Value, LuxiError>> + 'static,
    ) -> FakeEnv {
        let plans = Rc::new(RefCell::new(plans.into_iter()));
        let jobs: Rc<RefCell<HashMap<u64, (JobPlan, bool)>>> =
            Rc::new(RefCell::new(HashMap::new()));
        let next = Rc::new(RefCell::new(first_id));
        let mut extra: Extra = Box::new(extra);
        FakeEnv::new(move |m, args| {
            // Jobs the master spawned (ids the client learns from a result)
            // take the next plan when first asked about.
            let adopt = |id: u64| {
                if id >= *next.borrow() && !jobs.borrow().contains_key(&id) {
                    if let Some(plan) = plans.borrow_mut().next() {
                        jobs.borrow_mut().insert(id, (plan, false));
                    }
                }
            };
            let submit = |_ops: &Value| -> u64 {
                let id = *next.borrow();
                *next.borrow_mut() += 1;
                let plan = plans
                    .borrow_mut()
                    .next()
                    .unwrap_or_else(|| JobPlan::ok(Value::Null));
                jobs.borrow_mut().insert(id, (plan, false));
                id
            };
            match m {
                Method::SubmitJob | Method::SubmitJobToDrainedQueue => Ok(json!(submit(&args[0]))),
                Method::SubmitManyJobs => {
                    let list = args[0].as_array().cloned().unwrap_or_default();
                    Ok(Value::Array(
                        list.iter().map(|j| json!([true, submit(j)])).collect(),
                    ))
                }
                Method::WaitForJobChange => {
                    let id = args[0].as_u64().unwrap_or(0);
                    adopt(id);
                    let mut jobs = jobs.borrow_mut();
                    let Some((plan, seen)) = jobs.get_mut(&id) else {
                        return Ok(Value::Null);
                    };
                    let logs = if *seen { vec![] } else { plan.logs.clone() };
                    *seen = true;
                    Ok(json!([[plan.status], logs]))
                }
                Method::QueryJobs => {
                    let ids = args[0].as_array().cloned().unwrap_or_default();
                    for i in &ids {
                        adopt(i.as_u64().unwrap_or(0));
                    }
                    let fields = args[1].as_array().cloned().unwrap_or_default();
                    let jobs = jobs.borrow();
                    Ok(Value::Array(
                        ids.iter()
                            .map(|i| match jobs.get(&i.as_u64().unwrap_or(0)) {
                                Some((p, _)) => Value::Array(
                                    fields
                                        .iter()
                                        .map(|f| match f.as_str() {
                                            Some("status") => json!(p.status),
                                            Some("opstatus") => json!(p.opstatus),
                                            Some("opresult") => json!(p.opresult),
                                            _ => Value::Null,
                                        })
                                        .collect(),
                                ),
                                None => Value::Null,
                            })
                            .collect(),
                    ))
                }
                other => match extra(other, args) {
                    Some(r) => r,
                    None => Err(LuxiError::Protocol(format!(
                        "unexpected call {other:?} {args}"
                    ))),
                },
            }
        })
    }

    /// A `Query` answer: `fields` as `(name, title, kind)`, rows of values
    /// (all with status 0).
    pub fn query_answer(fields: &[(&str, &str, &str)], rows: &[Vec<Value>]) -> Value {
        json!({
            "fields": fields.iter().map(|(n, t, k)| json!({"name": n, "title": t, "kind": k, "doc": ""})).collect::<Vec<_>>(),
            "data": rows.iter().map(|r| r.iter().map(|v| json!([0, v])).collect::<Vec<_>>()).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tools_tests;
