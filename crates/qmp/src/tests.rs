//! Client tests against a scripted in-memory duplex stream: canned input
//! chunks (an empty chunk means "would block", i.e. a timeout), captured
//! output.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::commands::*;
use crate::{Qmp, QmpError, MAX_QUEUED_EVENTS};

const GREETING: &str = r#"{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Debian 1:10.0.2"}, "capabilities": ["oob"]}}"#;
const CAPS_OK: &str = r#"{"return": {}, "id": 1}"#;

#[derive(Debug, Default)]
struct Script {
    input: VecDeque<Vec<u8>>,
    written: Vec<u8>,
    /// What a read returns once the input is used up.
    block_at_end: bool,
    /// Fail writes with this error kind.
    write_error: Option<io::ErrorKind>,
}

impl Script {
    fn new(chunks: &[&str]) -> Self {
        Script {
            input: chunks.iter().map(|c| c.as_bytes().to_vec()).collect(),
            ..Script::default()
        }
    }

    fn session(more: &[&str]) -> Self {
        let mut chunks = vec![GREETING, CAPS_OK];
        chunks.extend_from_slice(more);
        Script::new(&chunks)
    }

    /// The commands written so far, parsed.
    fn sent(&self) -> Vec<Value> {
        serde_json::Deserializer::from_slice(&self.written)
            .into_iter::<Value>()
            .map(|v| v.unwrap())
            .collect()
    }
}

impl Read for Script {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let Some(mut chunk) = self.input.pop_front() else {
            return if self.block_at_end {
                Err(io::ErrorKind::WouldBlock.into())
            } else {
                Ok(0)
            };
        };
        if chunk.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = chunk.len().min(out.len());
        out[..n].copy_from_slice(&chunk[..n]);
        if n < chunk.len() {
            self.input.push_front(chunk.split_off(n));
        }
        Ok(n)
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(kind) = self.write_error {
            return Err(kind.into());
        }
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn connect(more: &[&str]) -> Qmp<Script> {
    Qmp::handshake(Script::session(more)).expect("handshake")
}

#[test]
fn handshake_sends_capabilities_and_keeps_greeting() {
    let qmp = connect(&[]);
    assert_eq!(qmp.greeting()["version"]["qemu"]["major"], 10);
    assert_eq!(
        qmp.get_ref().sent(),
        vec![json!({"execute": "qmp_capabilities", "id": 1})]
    );
}

#[test]
fn handshake_failures() {
    // Not a greeting.
    let err = Qmp::handshake(Script::new(&[CAPS_OK])).unwrap_err();
    assert!(matches!(err, QmpError::Protocol { .. }), "{err}");
    // QEMU refuses capabilities.
    let err = Qmp::handshake(Script::new(&[
        GREETING,
        r#"{"error": {"class": "CommandNotFound", "desc": "nope"}, "id": 1}"#,
    ]))
    .unwrap_err();
    assert_eq!(err.class(), Some("CommandNotFound"));
    // QEMU goes away before or after the greeting.
    assert!(Qmp::handshake(Script::new(&[])).unwrap_err().is_closed());
    assert!(Qmp::handshake(Script::new(&[GREETING]))
        .unwrap_err()
        .is_closed());
    // Garbage instead of a greeting.
    let err = Qmp::handshake(Script::new(&["(qemu) "])).unwrap_err();
    assert!(matches!(err, QmpError::Protocol { .. }), "{err}");
}

#[test]
fn whole_session_in_one_chunk_without_newlines() {
    let all = format!(
        "{GREETING}{CAPS_OK}{}",
        r#"{"return": {"status": "running", "running": true}, "id": 2}"#
    );
    let mut qmp = Qmp::handshake(Script::new(&[&all])).unwrap();
    let st = qmp.execute(&QueryStatus).unwrap();
    assert_eq!(st.status, RunState::Running);
}

#[test]
fn typed_reply_and_request_shape() {
    let mut qmp = connect(&[
        r#"{"return": {"status": "prelaunch", "singlestep": false, "running": false}, "id": 2}"#,
        r#"{"return": {}, "id": 3}"#,
        r#"{"return": [{"device": "", "qdev": "/machine/peripheral/vd0/virtio-backend", "locked": false, "removable": false, "type": "unknown",
            "inserted": {"node-name": "d0", "file": "/tmp/x.raw", "ro": false, "drv": "raw", "image": {"virtual-size": 1048576, "filename": "/tmp/x.raw", "format": "raw"}}},
            {"device": "ide1-cd0", "locked": false, "removable": true, "type": "unknown"}], "id": 4}"#,
    ]);
    let st = qmp.execute(&QueryStatus).unwrap();
    assert_eq!(
        st,
        StatusInfo {
            status: RunState::Prelaunch,
            running: false
        }
    );
    qmp.execute(&BlockResize::by_node("d0", 2 << 20)).unwrap();
    let blocks = qmp.execute(&QueryBlock).unwrap();
    assert_eq!(blocks.len(), 2);
    let ins = blocks[0].inserted.as_ref().unwrap();
    assert_eq!(ins.node_name.as_deref(), Some("d0"));
    assert_eq!(ins.image.virtual_size, 1 << 20);
    assert!(blocks[1].inserted.is_none() && blocks[1].removable);
    let sent = qmp.get_ref().sent();
    assert_eq!(sent[1], json!({"execute": "query-status", "id": 2}));
    assert_eq!(
        sent[2],
        json!({"execute": "block_resize", "arguments": {"node-name": "d0", "size": 2097152}, "id": 3})
    );
}

#[test]
fn error_reply_is_a_command_error_and_connection_stays_usable() {
    let mut qmp = connect(&[
        r#"{"error": {"class": "DeviceNotActive", "desc": "No balloon device has been activated"}, "id": 2}"#,
        r#"{"return": {"actual": 134217728}, "id": 3}"#,
    ]);
    match qmp.execute(&QueryBalloon).unwrap_err() {
        QmpError::Command { class, desc } => {
            assert_eq!(class, "DeviceNotActive");
            assert!(desc.contains("balloon"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(qmp.execute(&QueryBalloon).unwrap().actual, 128 << 20);
}

#[test]
fn malformed_error_and_mismatched_reply_types_are_protocol_errors() {
    let mut qmp = connect(&[
        r#"{"error": "boom", "id": 2}"#,
        r#"{"return": {"nonsense": 1}, "id": 3}"#,
        r#"{"return": 5, "id": 4}"#,
    ]);
    let e = qmp.execute(&Stop).unwrap_err();
    assert!(matches!(e, QmpError::Protocol { .. }), "{e}");
    let e = qmp.execute(&QueryStatus).unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot decode the reply to query-status"),
        "{e}"
    );
    // `()` accepts only `{}` (or null), not an arbitrary value.
    let e = qmp.execute(&Cont).unwrap_err();
    assert!(matches!(e, QmpError::Protocol { .. }), "{e}");
}

#[test]
fn events_between_replies_are_queued() {
    let mut qmp = connect(&[
        r#"{"timestamp": {"seconds": 1700000000, "microseconds": 5}, "event": "POWERDOWN"}"#,
        r#"{"timestamp": {"seconds": 1700000001, "microseconds": 6}, "event": "RESUME"}"#,
        r#"{"return": {}, "id": 2}"#,
        r#"{"timestamp": {"seconds": 1700000002, "microseconds": 7}, "event": "SHUTDOWN", "data": {"guest": true, "reason": "guest-shutdown"}}"#,
        r#"{"event": "STOP"}"#,
        r#"{"return": {}, "id": 3}"#,
    ]);
    qmp.execute(&SystemPowerdown).unwrap();
    let events = qmp.take_events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event, "POWERDOWN");
    assert_eq!(events[0].timestamp, Some((1_700_000_000, 5)));
    assert_eq!(events[0].data, Value::Null);
    assert!(qmp.take_events().is_empty());
    qmp.execute(&Stop).unwrap();
    // A queued event satisfies wait_event at once; the others stay queued.
    let ev = qmp.wait_event("STOP", Duration::ZERO).unwrap();
    assert_eq!(ev.timestamp, None);
    let ev = qmp.wait_event("SHUTDOWN", Duration::ZERO).unwrap();
    assert_eq!(ev.data["reason"], "guest-shutdown");
    assert!(qmp.take_events().is_empty());
}

#[test]
fn wait_event_reads_and_queues_others() {
    let mut qmp = connect(&[
        r#"{"event": "RESET", "data": {"guest": false}}"#,
        r#"{"event": "SHUTDOWN", "data": {"guest": true}}"#,
        r#"{"event": "STOP"}"#,
    ]);
    let ev = qmp.wait_event("SHUTDOWN", Duration::from_secs(5)).unwrap();
    assert_eq!(ev.data["guest"], true);
    let queued: Vec<_> = qmp.take_events().into_iter().map(|e| e.event).collect();
    assert_eq!(queued, ["RESET"]);
    // STOP is still unread; then the stream ends.
    qmp.wait_event("STOP", Duration::from_secs(5)).unwrap();
    assert!(qmp
        .wait_event("NEVER", Duration::from_secs(5))
        .unwrap_err()
        .is_closed());
}

#[test]
fn wait_event_times_out() {
    let mut script = Script::session(&[r#"{"event": "RESUME"}"#]);
    script.block_at_end = true;
    let mut qmp = Qmp::handshake(script).unwrap();
    let start = Instant::now();
    let err = qmp
        .wait_event("SHUTDOWN", Duration::from_millis(60))
        .unwrap_err();
    assert!(matches!(err, QmpError::Timeout { ref what } if what.contains("SHUTDOWN")));
    assert!(start.elapsed() >= Duration::from_millis(60));
    assert!(start.elapsed() < Duration::from_secs(5));
    // The other event was kept; the connection is still usable.
    assert_eq!(qmp.take_events()[0].event, "RESUME");
}

#[test]
fn eof_mid_reply_is_closed_and_stays_closed() {
    let mut qmp = connect(&[r#"{"return": {"status": "runn"#]);
    assert!(qmp.execute(&QueryStatus).unwrap_err().is_closed());
    assert!(qmp.execute(&QueryStatus).unwrap_err().is_closed());
    assert!(qmp.hmp("info status").unwrap_err().is_closed());
    assert!(qmp
        .wait_event("SHUTDOWN", Duration::from_secs(1))
        .unwrap_err()
        .is_closed());
}

#[test]
fn broken_pipe_on_write_is_closed() {
    let qmp = connect(&[]);
    let mut stream_err = qmp.into_inner();
    stream_err.write_error = Some(io::ErrorKind::BrokenPipe);
    let mut qmp = Qmp::with_stream(stream_err);
    assert!(qmp.execute(&Quit).unwrap_err().is_closed());
    assert!(qmp.execute(&Quit).unwrap_err().is_closed());
}

#[test]
fn garbage_is_protocol_error_and_poisons() {
    let mut qmp = connect(&["{\"return\": {}, \"id\": 2}\nthis is not json\n"]);
    qmp.execute(&Cont).unwrap();
    let e = qmp.execute(&Cont).unwrap_err();
    assert!(matches!(e, QmpError::Protocol { .. }), "{e}");
    let e = qmp.execute(&Cont).unwrap_err();
    assert!(e.to_string().contains("unusable"), "{e}");

    let mut qmp = connect(&[r#"{"return": {}, "id": 2, "#, r#"oops}"#]);
    let e = qmp.execute(&Cont).unwrap_err();
    assert!(e.to_string().contains("invalid JSON"), "{e}");

    let mut qmp = connect(&[r#"{"hello": "world"}"#]);
    let e = qmp.execute(&Cont).unwrap_err();
    assert!(e.to_string().contains("unknown shape"), "{e}");
}

#[test]
fn reply_ids_are_matched() {
    // The reply to id 2 comes late (after its wait timed out): the reply
    // to id 3 must not be confused with it.
    let mut qmp = connect(&[
        "",
        r#"{"return": {"status": "paused", "running": false}, "id": 2}"#,
        r#"{"return": {"status": "running", "running": true}, "id": 3}"#,
        r#"{"return": {}, "id": 99}"#,
    ]);
    let e = qmp.execute(&QueryStatus).unwrap_err();
    assert!(matches!(e, QmpError::Timeout { ref what } if what.contains("query-status")));
    assert_eq!(qmp.execute(&QueryStatus).unwrap().status, RunState::Running);
    // A reply to a command never sent.
    let e = qmp.execute(&Cont).unwrap_err();
    assert!(e.to_string().contains("id 99"), "{e}");
}

#[test]
fn error_without_id_answers_the_pending_command() {
    let mut qmp = connect(&[
        r#"{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword"}}"#,
        r#"{"return": {}}"#,
    ]);
    assert_eq!(
        qmp.execute(&Cont).unwrap_err().class(),
        Some("GenericError")
    );
    let e = qmp.execute(&Cont).unwrap_err();
    assert!(e.to_string().contains("without id"), "{e}");
}

#[test]
fn stale_reply_while_waiting_for_event_is_skipped() {
    let mut qmp = connect(&["", r#"{"return": {}, "id": 2}"#, r#"{"event": "SHUTDOWN"}"#]);
    assert!(matches!(qmp.execute(&Stop), Err(QmpError::Timeout { .. })));
    qmp.wait_event("SHUTDOWN", Duration::from_secs(1)).unwrap();
}

#[test]
fn hmp_uses_human_monitor_command() {
    let mut qmp = connect(&[r#"{"return": "VM status: paused (prelaunch)\r\n", "id": 2}"#]);
    assert_eq!(
        qmp.hmp("info status").unwrap(),
        "VM status: paused (prelaunch)\n"
    );
    assert_eq!(
        qmp.get_ref().sent()[1],
        json!({"execute": "human-monitor-command", "arguments": {"command-line": "info status"}, "id": 2})
    );
}

#[test]
fn execute_raw_passes_arguments_and_rejects_non_objects() {
    let mut qmp = connect(&[r#"{"return": {"name": "vm1"}, "id": 2}"#]);
    let v = qmp
        .execute_raw("query-name", Some(json!({"x-test": 1})))
        .unwrap();
    assert_eq!(v["name"], "vm1");
    assert_eq!(qmp.get_ref().sent()[1]["arguments"], json!({"x-test": 1}));
    let e = qmp.execute_raw("stop", Some(json!([1]))).unwrap_err();
    assert!(matches!(e, QmpError::Protocol { .. }));
}

#[test]
fn event_queue_is_bounded() {
    let many: Vec<String> = (0..MAX_QUEUED_EVENTS + 10)
        .map(|i| format!(r#"{{"event": "E{i}"}}"#))
        .collect();
    let mut chunks: Vec<&str> = many.iter().map(String::as_str).collect();
    chunks.push(r#"{"return": {}, "id": 2}"#);
    let mut qmp = connect(&chunks);
    qmp.execute(&Cont).unwrap();
    let events = qmp.take_events();
    assert_eq!(events.len(), MAX_QUEUED_EVENTS);
    assert_eq!(events[0].event, "E10");
}
