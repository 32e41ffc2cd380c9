//! Asynchronous QMP events, e.g.
//! `{"event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"},
//!   "timestamp": {"seconds": 1700000000, "microseconds": 12345}}`.

use serde_json::{Map, Value};

use crate::QmpError;

/// One event emitted by QEMU.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The event name, e.g. `SHUTDOWN`, `POWERDOWN`, `BLOCK_JOB_READY`.
    pub event: String,
    /// The event's `data` object (`Value::Null` when QEMU sent none).
    pub data: Value,
    /// `(seconds, microseconds)` since the epoch, as QEMU stamped it.
    pub timestamp: Option<(i64, i64)>,
}

impl Event {
    pub(crate) fn from_message(mut msg: Map<String, Value>) -> Result<Self, QmpError> {
        let event = match msg.remove("event") {
            Some(Value::String(name)) => name,
            other => {
                return Err(QmpError::protocol(format!(
                    "event name is not a string: {other:?}"
                )))
            }
        };
        let data = msg.remove("data").unwrap_or(Value::Null);
        let timestamp = msg.get("timestamp").and_then(|ts| {
            let secs = ts.get("seconds")?.as_i64()?;
            let usecs = ts.get("microseconds")?.as_i64()?;
            Some((secs, usecs))
        });
        Ok(Event {
            event,
            data,
            timestamp,
        })
    }
}
