//! The job model: a job is a list of opcodes, each with status, result and
//! log, persisted before it is acknowledged.
//!
//! Statuses, timestamps (`[seconds, microseconds]`) and log entries
//! (`[serial, timestamp, type, message]`) have Ganeti's shapes because
//! `gnt-job`, RAPI clients and dashboards read them directly.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Dict;

/// `[seconds, microseconds]`, as Ganeti stores job timestamps.
pub type Timestamp = (i64, i64);

/// The current time as a job timestamp.
pub fn now_ts() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, i64::from(d.subsec_micros()))
}

/// Status of one opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpStatus {
    Queued,
    Waiting,
    Canceling,
    Running,
    Canceled,
    Success,
    Error,
}

impl OpStatus {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::Queued => "queued",
            OpStatus::Waiting => "waiting",
            OpStatus::Canceling => "canceling",
            OpStatus::Running => "running",
            OpStatus::Canceled => "canceled",
            OpStatus::Success => "success",
            OpStatus::Error => "error",
        }
    }
    /// Whether the opcode is finished.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OpStatus::Canceled | OpStatus::Success | OpStatus::Error
        )
    }
}

/// Status of a job; the same values as opcodes.
pub type JobStatus = OpStatus;

/// One job log entry: `[serial, timestamp, type, message]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry(pub u64, pub Timestamp, pub String, pub Value);

/// One opcode inside a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedOpCode {
    /// The serialized opcode (with `OP_ID`), defaults filled in.
    pub input: Dict,
    pub status: OpStatus,
    #[serde(default)]
    pub result: Value,
    #[serde(default)]
    pub log: Vec<LogEntry>,
    pub priority: i64,
    #[serde(default)]
    pub start_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub exec_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub end_timestamp: Option<Timestamp>,
}

impl QueuedOpCode {
    /// A newly submitted opcode: queued, nothing run, at the priority its
    /// input asks for (0, Ganeti's normal priority, when it names none).
    pub fn queued(input: Dict) -> Self {
        let priority = input.get("priority").and_then(Value::as_i64).unwrap_or(0);
        QueuedOpCode {
            input,
            status: OpStatus::Queued,
            result: Value::Null,
            log: vec![],
            priority,
            start_timestamp: None,
            exec_timestamp: None,
            end_timestamp: None,
        }
    }

    /// The opcode id.
    pub fn op_id(&self) -> &str {
        self.input
            .get("OP_ID")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// A job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub ops: Vec<QueuedOpCode>,
    pub received_timestamp: Timestamp,
    #[serde(default)]
    pub start_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub end_timestamp: Option<Timestamp>,
    #[serde(default)]
    pub archived: bool,
}

impl Job {
    /// Ganeti's `_QueuedJob.CalcStatus`: the first error, cancel or
    /// canceling opcode decides; otherwise the last waiting/running one;
    /// success only when every opcode succeeded.
    pub fn status(&self) -> JobStatus {
        let mut status = OpStatus::Queued;
        let mut all_success = true;
        for op in &self.ops {
            match op.status {
                OpStatus::Success => {}
                OpStatus::Error | OpStatus::Canceling | OpStatus::Canceled => return op.status,
                OpStatus::Queued => all_success = false,
                OpStatus::Waiting | OpStatus::Running => {
                    all_success = false;
                    status = op.status;
                }
            }
        }
        if all_success {
            OpStatus::Success
        } else {
            status
        }
    }

    /// The job priority: the best (lowest) priority of its unfinished
    /// opcodes, or the default (0) once all are finished, as Ganeti.
    pub fn priority(&self) -> i64 {
        self.ops
            .iter()
            .filter(|o| !o.status.is_final())
            .map(|o| o.priority)
            .min()
            .unwrap_or(0)
    }

    /// The highest log serial of the job (0 when none).
    pub fn last_log_serial(&self) -> u64 {
        self.ops
            .iter()
            .flat_map(|o| o.log.iter().map(|l| l.0))
            .max()
            .unwrap_or(0)
    }

    /// Whether every opcode is finished.
    pub fn is_finalized(&self) -> bool {
        self.ops.iter().all(|o| o.status.is_final())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(status: OpStatus) -> QueuedOpCode {
        QueuedOpCode {
            status,
            ..QueuedOpCode::queued(Dict::new())
        }
    }

    fn job(st: &[OpStatus]) -> Job {
        Job {
            id: 1,
            ops: st.iter().map(|s| op(*s)).collect(),
            received_timestamp: (0, 0),
            start_timestamp: None,
            end_timestamp: None,
            archived: false,
        }
    }

    #[test]
    fn calc_status_like_ganeti() {
        use OpStatus::*;
        assert_eq!(job(&[Queued, Queued]).status(), Queued);
        assert_eq!(job(&[Success, Queued]).status(), Queued);
        assert_eq!(job(&[Success, Running]).status(), Running);
        assert_eq!(job(&[Waiting]).status(), Waiting);
        assert_eq!(job(&[Success, Success]).status(), Success);
        assert_eq!(job(&[Success, Error, Error]).status(), Error);
        assert_eq!(job(&[Canceled, Canceled]).status(), Canceled);
        assert_eq!(job(&[Canceling]).status(), Canceling);
        assert_eq!(job(&[Running, Error]).status(), Error);
        assert_eq!(job(&[Success, Waiting, Queued]).status(), Waiting);
    }

    #[test]
    fn priority_of_unfinished_opcodes_or_default() {
        let mut j = job(&[OpStatus::Success, OpStatus::Queued, OpStatus::Queued]);
        j.ops[0].priority = -10;
        j.ops[1].priority = 10;
        j.ops[2].priority = 0;
        assert_eq!(j.priority(), 0);
        for op in j.ops.iter_mut() {
            op.status = OpStatus::Success;
        }
        assert_eq!(j.priority(), 0);
    }

    #[test]
    fn log_entry_wire_shape() {
        let l = LogEntry(3, (10, 20), "message".into(), Value::String("hi".into()));
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"[3,[10,20],"message","hi"]"#
        );
    }
}
