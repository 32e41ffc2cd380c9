//! Submitting opcodes as jobs and following them to their result.
//!
//! Why: this is the part of Ganeti's `cli.py` every mutating command goes
//! through (`SubmitOpCode`, `SubmitOrSend`, `PollJob`, `JobExecutor`), and
//! its behaviour is visible: the generic opcode fields it sets
//! (`debug_level`, `dry_run`, `priority`, the `reason` trail), the job log
//! lines on stdout with a `ctime` timestamp, `JobID: N` on stderr for
//! `--submit`, `Waiting for job N for NAME ...` for multi-instance
//! operations, and how a failed job turns back into the error it raised.

use ganeti_clifmt::{pystr, timefmt};
use ganeti_luxi::Method;
use serde_json::{json, Map, Value};

use crate::context::Ctx;
use crate::errors::{format_ganeti_error, CliError, GanetiErr};
use crate::optparse::Opts;

/// Seconds one `WaitForJobChange` call may block in the master.
pub const WFJC_TIMEOUT: u64 = 10;

/// Final job statuses.
const FINAL: &[&str] = &["success", "error", "canceling", "canceled"];

/// Build an opcode: `OP_ID` plus the given parameters, skipping `null`s
/// (a parameter the user did not set is not sent).
pub fn opcode(op_id: &str, params: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    m.insert("OP_ID".into(), Value::String(op_id.into()));
    for (k, v) in params {
        if !v.is_null() {
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

/// Ganeti's `SetGenericOpcodeOpts`: `debug_level`, `dry_run` (when the
/// command has the option), `priority` (when given) and the reason trail
/// (`[["gnt:user", reason, ns]?, ["gnt:client:<binary>", <command>, ns]]`).
pub fn set_generic_opts(op: &mut Value, opts: &Opts, binary: &str, command: &str, now_ns: u64) {
    let Some(m) = op.as_object_mut() else {
        return;
    };
    m.insert("debug_level".into(), json!(opts.count("debug")));
    if opts.knows("dry_run") {
        m.insert("dry_run".into(), json!(opts.flag("dry_run")));
    }
    if let Some(p) = opts.get("priority").and_then(|_| opts.int("priority")) {
        m.insert("priority".into(), json!(p));
    }
    let mut trail = Vec::new();
    if let Some(r) = opts.str("reason") {
        trail.push(json!(["gnt:user", r, now_ns]));
    }
    trail.push(json!([format!("gnt:client:{binary}"), command, now_ns]));
    m.insert("reason".into(), Value::Array(trail));
}

impl Ctx<'_> {
    /// Apply the generic options to `op` for this invocation.
    pub fn prepare(&self, op: &mut Value, opts: &Opts) {
        set_generic_opts(op, opts, &self.binary, &self.command, self.env.now_ns());
    }

    /// `SendJob`: submit one job, return its id.
    pub fn send_job(&self, ops: Vec<Value>) -> Result<u64, CliError> {
        let r = self.call(Method::SubmitJob, json!([ops]))?;
        job_id_of(&r)
    }

    /// `SubmitOpCode`: submit `op` as a job, print its log, return the
    /// opcode's result (or the error it raised).
    pub fn submit_opcode(&mut self, mut op: Value, opts: &Opts) -> Result<Value, CliError> {
        self.prepare(&mut op, opts);
        let id = self.send_job(vec![op])?;
        if opts.flag("print_jobid") {
            self.outln(&id.to_string())?;
        }
        let res = self.poll_job(id, &mut Reporter::Stdio)?;
        Ok(res.into_iter().next().unwrap_or(Value::Null))
    }

    /// `SubmitOrSend`: with `--submit`, only submit (and report `JobID: N`
    /// through [`CliError::Submitted`]); otherwise [`Ctx::submit_opcode`].
    pub fn submit_or_send(&mut self, mut op: Value, opts: &Opts) -> Result<Value, CliError> {
        if opts.flag("submit_only") {
            self.prepare(&mut op, opts);
            let id = self.send_job(vec![op])?;
            if opts.flag("print_jobid") {
                self.outln(&id.to_string())?;
            }
            return Err(CliError::Submitted(id));
        }
        self.submit_opcode(op, opts)
    }

    /// `PollJob`: follow a job until it finishes, reporting its log, and
    /// return the list of opcode results or raise the job's error.
    pub fn poll_job(&mut self, id: u64, reporter: &mut Reporter) -> Result<Vec<Value>, CliError> {
        let mut prev_info = Value::Null;
        let mut prev_serial: u64 = 0;
        let mut status: Option<String> = None;
        let mut notified_queued = false;
        let mut notified_waiting = false;
        loop {
            let r = match self.call(
                Method::WaitForJobChange,
                json!([id, ["status"], prev_info, prev_serial, WFJC_TIMEOUT]),
            ) {
                Ok(r) => r,
                // The master does not know the job (any more): Ganeti's
                // client calls that a lost job.
                Err(CliError::Ganeti(e))
                    if e.class == "OpPrereqError"
                        && e.args.get(1).and_then(Value::as_str) == Some("unknown_entity") =>
                {
                    return Err(job_lost(id));
                }
                Err(e) => return Err(e),
            };
            if r.is_null() || r == Value::Bool(false) {
                return Err(job_lost(id));
            }
            if r.as_str() == Some("nochange") {
                match status.as_deref() {
                    Some("queued") if !notified_queued => {
                        self.errln(&format!("Job {id} is waiting in queue"))?;
                        notified_queued = true;
                    }
                    Some("waiting") if !notified_waiting => {
                        self.errln(&format!(
                            "Job {id} is trying to acquire all necessary locks"
                        ))?;
                        notified_waiting = true;
                    }
                    _ => {}
                }
                continue;
            }
            let (info, logs) = match r.as_array().map(Vec::as_slice) {
                Some([info, logs]) => (info.clone(), logs.clone()),
                _ => {
                    return Err(CliError::Luxi(ganeti_luxi::LuxiError::Protocol(format!(
                        "Invalid WaitForJobChange result: {r}"
                    ))))
                }
            };
            status = info
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(entries) = logs.as_array() {
                for entry in entries {
                    if let Some(serial) = self.report_log(entry, reporter)? {
                        prev_serial = prev_serial.max(serial);
                    }
                }
            }
            if status.as_deref().is_some_and(|s| FINAL.contains(&s)) {
                break;
            }
            prev_info = info;
        }
        let jobs = self.call(
            Method::QueryJobs,
            json!([[id], ["status", "opstatus", "opresult"]]),
        )?;
        let row = jobs
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| job_lost(id))?;
        let status = row.first().and_then(Value::as_str).unwrap_or("");
        let opstatus = row
            .get(1)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let opresult = row.get(2).cloned().unwrap_or(Value::Null);
        let results = opresult.as_array().cloned().unwrap_or_default();
        if status == "success" {
            return Ok(results);
        }
        if status == "canceling" || status == "canceled" {
            return Err(GanetiErr::new("JobCanceled", "Job was canceled").into());
        }
        let mut has_ok = false;
        for (idx, (st, msg)) in opstatus.iter().zip(results.iter()).enumerate() {
            match st.as_str() {
                Some("success") => has_ok = true,
                Some("error") => {
                    if let Some(e) = GanetiErr::decode(msg) {
                        return Err(e.into());
                    }
                    if has_ok {
                        return Err(GanetiErr::exec(format!(
                            "partial failure (opcode {idx}): {}",
                            pystr::py_str(msg)
                        ))
                        .into());
                    }
                    return Err(GanetiErr::exec(pystr::py_str(msg)).into());
                }
                _ => {}
            }
        }
        Err(GanetiErr::exec(pystr::py_str(&opresult)).into())
    }

    /// Report one log entry `[serial, [sec, usec], type, message]`; returns
    /// its serial.
    fn report_log(
        &mut self,
        entry: &Value,
        reporter: &mut Reporter,
    ) -> Result<Option<u64>, CliError> {
        let Some([serial, ts, ltype, msg]) = entry.as_array().map(Vec::as_slice) else {
            return Ok(None);
        };
        let (sec, usec) = match ts.as_array().map(Vec::as_slice) {
            Some([s, u]) => (s.as_i64().unwrap_or(0), u.as_i64().unwrap_or(0)),
            _ => (0, 0),
        };
        let ltype = ltype.as_str().unwrap_or("message");
        match reporter {
            Reporter::Stdio => {
                let text = pystr::format_log_message(ltype, msg);
                self.outln(&timefmt::job_log_line(sec, usec, &text))?;
            }
            Reporter::Quiet => {}
            Reporter::Collect(v) => v.push(entry.clone()),
        }
        Ok(serial.as_u64())
    }
}

/// Where job log entries go.
#[derive(Debug)]
pub enum Reporter {
    /// Print them on stdout with a timestamp (`StdioJobPollReportCb`).
    Stdio,
    /// Drop them (`gnt-job wait`).
    Quiet,
    /// Keep them (tests, callers with their own feedback).
    Collect(Vec<Value>),
}

fn job_lost(id: u64) -> CliError {
    GanetiErr::new("JobLost", format!("Job with id {id} lost")).into()
}

/// A job id from a `SubmitJob` result (a number, or a numeric string).
pub fn job_id_of(v: &Value) -> Result<u64, CliError> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| {
            CliError::Luxi(ganeti_luxi::LuxiError::Protocol(format!(
                "Invalid job id: {v}"
            )))
        })
}

/// One job of a [`JobExecutor`]: `(index, submitted, id or error, name)`.
#[derive(Debug, Clone)]
struct ExecJob {
    idx: usize,
    ok: bool,
    data: Value,
    name: Option<String>,
}

/// Ganeti's `JobExecutor`: submit several jobs, then wait for each.
#[derive(Debug, Default)]
pub struct JobExecutor {
    queue: Vec<(usize, Option<String>, Vec<Value>)>,
    jobs: Vec<ExecJob>,
    counter: usize,
    /// Print `Submitted jobs ...` and `Waiting for job ...`.
    pub verbose: bool,
}

/// The outcome of one job: success and its result (or error text).
pub type JobOutcome = (bool, Value);

impl JobExecutor {
    /// An executor; `verbose` as Ganeti's (true by default there).
    pub fn new(verbose: bool) -> Self {
        JobExecutor {
            verbose,
            ..Default::default()
        }
    }

    /// Queue a job (the generic options are applied now).
    pub fn queue_job(&mut self, ctx: &Ctx<'_>, opts: &Opts, name: Option<&str>, ops: Vec<Value>) {
        let ops = ops
            .into_iter()
            .map(|mut op| {
                ctx.prepare(&mut op, opts);
                op
            })
            .collect();
        self.queue
            .push((self.counter, name.map(str::to_string), ops));
        self.counter += 1;
    }

    /// Track a job submitted elsewhere (e.g. jobs an opcode spawned).
    pub fn add_job_id(&mut self, name: Option<&str>, ok: bool, data: Value) {
        self.jobs.push(ExecJob {
            idx: self.counter,
            ok,
            data,
            name: name.map(str::to_string),
        });
        self.counter += 1;
    }

    /// Track the `[[ok, id], ...]` list of an opcode result `{"jobs": ...}`.
    pub fn add_result_jobs(&mut self, result: &Value) {
        if let Some(list) = result.get("jobs").and_then(Value::as_array) {
            for item in list {
                if let Some([ok, id]) = item.as_array().map(Vec::as_slice) {
                    self.add_job_id(None, ok.as_bool().unwrap_or(false), id.clone());
                }
            }
        }
    }

    /// Submit everything queued with one `SubmitManyJobs`.
    pub fn submit_pending(&mut self, ctx: &Ctx<'_>) -> Result<(), CliError> {
        if self.queue.is_empty() {
            return Ok(());
        }
        let jobs: Vec<Value> = self.queue.iter().map(|(_, _, ops)| json!(ops)).collect();
        let r = ctx.call(Method::SubmitManyJobs, json!([jobs]))?;
        let results = r.as_array().cloned().unwrap_or_default();
        for ((idx, name, _), res) in self.queue.drain(..).zip(results) {
            let (ok, data) = match res.as_array().map(Vec::as_slice) {
                Some([ok, data]) => (ok.as_bool().unwrap_or(false), data.clone()),
                _ => (false, res.clone()),
            };
            self.jobs.push(ExecJob {
                idx,
                ok,
                data,
                name,
            });
        }
        Ok(())
    }

    /// `GetResults`: wait for every job; results in submission order.
    pub fn get_results(&mut self, ctx: &mut Ctx<'_>) -> Result<Vec<JobOutcome>, CliError> {
        if self.jobs.is_empty() {
            self.submit_pending(ctx)?;
        }
        let mut results: Vec<(usize, bool, Value)> = Vec::new();
        if self.verbose {
            let ok: Vec<String> = self
                .jobs
                .iter()
                .filter(|j| j.ok)
                .map(|j| pystr::py_str(&j.data))
                .collect();
            if !ok.is_empty() {
                ctx.outln(&format!("Submitted jobs {}", ok.join(", ")))?;
            }
        }
        let (good, failed): (Vec<ExecJob>, Vec<ExecJob>) = std::mem::take(&mut self.jobs)
            .into_iter()
            .partition(|j| j.ok);
        for j in failed {
            ctx.errln(&format!(
                "Failed to submit job{}: {}",
                if_name(&j.name, " for "),
                pystr::py_str(&j.data)
            ))?;
            results.push((j.idx, false, j.data));
        }
        let mut pending = good;
        while !pending.is_empty() {
            let j = choose_job(ctx, &mut pending)?;
            let id = job_id_of(&j.data)?;
            ctx.outln(&format!(
                "Waiting for job {id}{} ...",
                if_name(&j.name, " for ")
            ))?;
            match ctx.poll_job(id, &mut Reporter::Stdio) {
                Ok(r) => results.push((j.idx, true, Value::Array(r))),
                Err(CliError::Ganeti(e)) if e.class == "JobLost" => {
                    let (_, text) = format_ganeti_error(&e);
                    ctx.errln(&format!(
                        "Job {id}{} has been archived, cannot check its result",
                        if_name(&j.name, " for ")
                    ))?;
                    results.push((j.idx, false, Value::String(text)));
                }
                Err(e @ (CliError::Ganeti(_) | CliError::Luxi(_))) => {
                    let (_, text) = crate::errors::format_error(&e);
                    ctx.errln(&format!(
                        "Job {id}{} has failed: {text}",
                        if_name(&j.name, " for ")
                    ))?;
                    results.push((j.idx, false, Value::String(text)));
                }
                Err(e) => return Err(e),
            }
        }
        results.sort_by_key(|(i, _, _)| *i);
        Ok(results.into_iter().map(|(_, ok, v)| (ok, v)).collect())
    }

    /// `WaitOrShow`: wait for the results, or (with `--submit`) only print
    /// `ID: NAME` per job.
    pub fn wait_or_show(
        &mut self,
        ctx: &mut Ctx<'_>,
        wait: bool,
    ) -> Result<Vec<JobOutcome>, CliError> {
        if wait {
            return self.get_results(ctx);
        }
        if self.jobs.is_empty() {
            self.submit_pending(ctx)?;
        }
        let mut out = Vec::new();
        for j in &self.jobs {
            let name = j.name.clone().unwrap_or_else(|| "None".into());
            if j.ok {
                ctx.outln(&format!("{}: {name}", pystr::py_str(&j.data)))?;
            } else {
                ctx.errln(&format!("Failure for {name}: {}", pystr::py_str(&j.data)))?;
            }
            out.push((j.ok, j.data.clone()));
        }
        Ok(out)
    }
}

fn if_name(name: &Option<String>, prefix: &str) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("{prefix}{n}"),
        _ => String::new(),
    }
}

/// `_ChooseJob`: prefer a job that is not queued/waiting.
fn choose_job(ctx: &Ctx<'_>, pending: &mut Vec<ExecJob>) -> Result<ExecJob, CliError> {
    let ids: Vec<Value> = pending.iter().take(25).map(|j| j.data.clone()).collect();
    let r = ctx.call(Method::QueryJobs, json!([ids, ["status"]]))?;
    let statuses = r.as_array().cloned().unwrap_or_default();
    for (k, st) in statuses.iter().enumerate() {
        let s = st
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str);
        if matches!(s, Some("queued" | "waiting" | "canceling")) {
            continue;
        }
        if k < pending.len() {
            return Ok(pending.remove(k));
        }
    }
    Ok(pending.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optparse::{parse, Parsed};

    #[test]
    fn generic_options_and_reason_trail() {
        let defs: Vec<&'static crate::optparse::OptDef> = vec![
            &crate::options::DRY_RUN,
            &crate::options::PRIORITY,
            &crate::options::DEBUG,
            &crate::options::REASON,
        ];
        let args: Vec<String> = ["--dry-run", "--priority", "high", "-d", "--reason", "why"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let Parsed::Args(opts, _) = parse(&defs, &args).unwrap() else {
            panic!()
        };
        let mut op = opcode(
            "OP_TEST_DELAY",
            vec![("duration", json!(1.0)), ("x", Value::Null)],
        );
        set_generic_opts(&mut op, &opts, "gnt-debug", "delay", 7);
        assert_eq!(
            op,
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "debug_level": 1, "dry_run": true,
                   "priority": -10,
                   "reason": [["gnt:user", "why", 7], ["gnt:client:gnt-debug", "delay", 7]]})
        );
        // without the options: no priority, dry_run false only when known
        let Parsed::Args(opts, _) = parse(&defs[2..], &[]).unwrap() else {
            panic!()
        };
        let mut op = opcode("OP_X", vec![]);
        set_generic_opts(&mut op, &opts, "gnt-x", "y", 1);
        assert_eq!(
            op,
            json!({"OP_ID": "OP_X", "debug_level": 0, "reason": [["gnt:client:gnt-x", "y", 1]]})
        );
    }

    #[test]
    fn job_ids() {
        assert_eq!(job_id_of(&json!(5)).unwrap(), 5);
        assert_eq!(job_id_of(&json!("6")).unwrap(), 6);
        assert!(job_id_of(&json!("x")).is_err());
    }
}
