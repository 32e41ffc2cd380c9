//! Following a Ganeti job to its end.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::ModuleError;
use crate::rapi::Rapi;

/// The job id of a RAPI answer: an integer (Ganeti 3.0) or a numeric
/// string (older RAPIs).
pub fn job_id(v: &Value) -> Result<u64, ModuleError> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ModuleError::Protocol(format!("expected a job id, got {v}")))
}

/// Ganeti's error of a failed job, from its opcode results:
/// `[class, [message, ...]]` gives "message" (with the class when it says
/// more than an ordinary failure).
pub fn job_error(job: &Value) -> String {
    let results = job.get("opresult").and_then(Value::as_array);
    let statuses = job.get("opstatus").and_then(Value::as_array);
    if let (Some(results), Some(statuses)) = (results, statuses) {
        for (r, s) in results.iter().zip(statuses) {
            if s.as_str() != Some("error") {
                continue;
            }
            if let Some([class, args]) = r.as_array().map(Vec::as_slice) {
                let class = class.as_str().unwrap_or("Error");
                let msg = match args.as_array().and_then(|a| a.first()) {
                    Some(Value::String(m)) => m.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                return match class {
                    "OpExecError" | "OpPrereqError" => msg,
                    _ => format!("{class}: {msg}"),
                };
            }
            return r.to_string();
        }
    }
    match job.get("status").and_then(Value::as_str) {
        Some("canceled") => "the job was canceled".into(),
        _ => "the job failed without an error message".into(),
    }
}

/// Wait until job `id` ends or `timeout` passes; the job's final data.
pub fn wait(rapi: &Rapi, id: u64, timeout: Duration) -> Result<Value, ModuleError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        let job = rapi.request("GET", &format!("/2/jobs/{id}"), None)?;
        match job.get("status").and_then(Value::as_str) {
            Some("success") => return Ok(job),
            Some("error") | Some("canceled") => {
                return Err(ModuleError::JobFailed {
                    job_id: id,
                    message: job_error(&job),
                })
            }
            _ => {}
        }
        if start.elapsed() >= timeout {
            return Err(ModuleError::JobTimeout {
                job_id: id,
                timeout: timeout.as_secs(),
            });
        }
        let left = timeout.saturating_sub(start.elapsed());
        std::thread::sleep(pause.min(left).max(Duration::from_millis(10)));
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_errors() {
        assert_eq!(job_id(&json!(17)).unwrap(), 17);
        assert_eq!(job_id(&json!("18")).unwrap(), 18);
        assert!(job_id(&json!({"x": 1})).is_err());
        let job = json!({"status": "error", "opstatus": ["success", "error"],
            "opresult": [null, ["OpPrereqError", ["Instance 'x' is marked to be up", "wrong_state"]]]});
        assert_eq!(job_error(&job), "Instance 'x' is marked to be up");
        let job = json!({"status": "error", "opstatus": ["error"],
            "opresult": [["HooksAbort", [[["n", "instance-add-pre.d/10", "no"]]]]]});
        assert_eq!(
            job_error(&job),
            r#"HooksAbort: [["n","instance-add-pre.d/10","no"]]"#
        );
        assert_eq!(
            job_error(&json!({"status": "canceled"})),
            "the job was canceled"
        );
    }
}
