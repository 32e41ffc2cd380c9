//! The QMP conversation: greeting and capabilities negotiation, commands
//! with replies matched by `id`, and the queue of events that arrive in
//! between.
//!
//! A connection that saw a protocol error or a half-written command is
//! marked unusable (the byte stream is no longer in step with QEMU); one
//! whose peer closed reports [`QmpError::Closed`] from then on. A command
//! whose reply timed out does not poison the connection: its late reply is
//! recognised by its smaller `id` and skipped.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::commands::HumanMonitorCommand;
use crate::framing::Framer;
use crate::{Event, QmpError};

/// A typed QMP command: its arguments are the serialized struct (a unit
/// struct or an empty object sends no `arguments`), its reply the `return`
/// value. A reply type of `()` accepts QEMU's `{}`.
pub trait Command: Serialize {
    /// The QMP command name, e.g. `query-status`.
    const NAME: &'static str;
    /// What the `return` value deserializes into.
    type Reply: DeserializeOwned;
}

/// At most this many unclaimed events are kept; older ones are dropped so a
/// long-lived connection nobody drains cannot grow without bound.
pub const MAX_QUEUED_EVENTS: usize = 4096;

/// How long to pause before retrying when a stream without a timeout
/// setter reports "no data yet" while waiting for an event.
const POLL_PAUSE: Duration = Duration::from_millis(10);

/// Sets the read timeout of the underlying stream (unix sockets only).
pub(crate) type ReadTimeoutFn<S> = fn(&S, Option<Duration>) -> io::Result<()>;

#[derive(Debug, Clone, PartialEq)]
enum Health {
    Usable,
    Closed,
    Broken(String),
}

/// A QMP connection over any byte stream.
pub struct Qmp<S> {
    pub(crate) stream: S,
    framer: Framer,
    next_id: u64,
    events: VecDeque<Event>,
    greeting: Value,
    health: Health,
    pub(crate) read_timeout_fn: Option<ReadTimeoutFn<S>>,
    pub(crate) io_timeout: Option<Duration>,
}

impl<S> fmt::Debug for Qmp<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Qmp")
            .field("next_id", &self.next_id)
            .field("queued_events", &self.events.len())
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

/// One message from QEMU, by kind.
enum Incoming {
    Greeting,
    Event(Event),
    Reply {
        id: Option<Value>,
        result: Result<Value, QmpError>,
    },
}

/// QEMU's `{"class", "desc"}` error object.
#[derive(Deserialize)]
struct ErrorBody {
    class: String,
    desc: String,
}

impl<S: Read + Write> Qmp<S> {
    /// Read the greeting, send `qmp_capabilities`, check its reply.
    pub fn handshake(stream: S) -> Result<Self, QmpError> {
        Self::with_stream(stream).negotiate()
    }

    pub(crate) fn with_stream(stream: S) -> Self {
        Qmp {
            stream,
            framer: Framer::default(),
            next_id: 1,
            events: VecDeque::new(),
            greeting: Value::Null,
            health: Health::Usable,
            read_timeout_fn: None,
            io_timeout: None,
        }
    }

    pub(crate) fn negotiate(mut self) -> Result<Self, QmpError> {
        let msg = self.read_message("the QMP greeting")?;
        match msg.get("QMP") {
            Some(greeting @ Value::Object(_)) => self.greeting = greeting.clone(),
            _ => {
                let reason = format!("expected the QMP greeting, got {}", Value::Object(msg));
                self.health = Health::Broken(reason.clone());
                return Err(QmpError::protocol(reason));
            }
        }
        self.execute_raw("qmp_capabilities", None)?;
        Ok(self)
    }

    /// The `QMP` object of QEMU's greeting (`version`, `capabilities`).
    pub fn greeting(&self) -> &Value {
        &self.greeting
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Give back the underlying stream (queued events are dropped).
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// Send a typed command and wait for its reply (matched by `id`);
    /// events arriving before the reply are queued.
    pub fn execute<C: Command>(&mut self, cmd: &C) -> Result<C::Reply, QmpError> {
        let args = serde_json::to_value(cmd).map_err(|e| {
            QmpError::protocol(format!("cannot encode arguments of {}: {e}", C::NAME))
        })?;
        let args = match args {
            Value::Null => None,
            Value::Object(map) if map.is_empty() => None,
            obj @ Value::Object(_) => Some(obj),
            other => {
                return Err(QmpError::protocol(format!(
                    "arguments of {} must be an object, not {other}",
                    C::NAME
                )))
            }
        };
        let ret = self.execute_raw(C::NAME, args)?;
        decode_reply::<C::Reply>(C::NAME, ret)
    }

    /// Untyped form: name + optional arguments object; returns the
    /// `return` value.
    pub fn execute_raw(&mut self, name: &str, args: Option<Value>) -> Result<Value, QmpError> {
        self.check_usable()?;
        let (id, bytes) = self.encode(name, args)?;
        self.write_all(&bytes)?;
        self.wait_reply(name, id)
    }

    /// Run a human monitor (HMP) command through `human-monitor-command`
    /// and return its text output, with QEMU's `\r\n` turned into `\n`.
    pub fn hmp(&mut self, command_line: &str) -> Result<String, QmpError> {
        let out = self.execute(&HumanMonitorCommand {
            command_line: command_line.to_string(),
            cpu_index: None,
        })?;
        Ok(out.replace("\r\n", "\n"))
    }

    /// Drain the events queued so far, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    /// Wait until an event named `name` arrives (queued ones count, the
    /// oldest first), up to `timeout`. Other events stay queued.
    pub fn wait_event(&mut self, name: &str, timeout: Duration) -> Result<Event, QmpError> {
        if let Some(pos) = self.events.iter().position(|e| e.event == name) {
            if let Some(event) = self.events.remove(pos) {
                return Ok(event);
            }
        }
        self.check_usable()?;
        let what = format!("event {name}");
        let deadline = Instant::now() + timeout;
        let result = self.wait_event_until(name, &what, deadline);
        if let Some(set) = self.read_timeout_fn {
            if let Err(e) = set(&self.stream, self.io_timeout) {
                // Keep the first error; a restore failure alone is fatal
                // for later reads, so report it.
                if result.is_ok() {
                    return Err(QmpError::from_io(e, "restoring the read timeout"));
                }
            }
        }
        result
    }

    fn wait_event_until(
        &mut self,
        name: &str,
        what: &str,
        deadline: Instant,
    ) -> Result<Event, QmpError> {
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(QmpError::Timeout {
                    what: what.to_string(),
                });
            }
            let remaining = deadline - now;
            if let Some(set) = self.read_timeout_fn {
                let slice = remaining.max(Duration::from_millis(1));
                set(&self.stream, Some(slice))
                    .map_err(|e| QmpError::from_io(e, "setting the read timeout"))?;
            }
            let msg = match self.read_message(what) {
                Ok(msg) => msg,
                Err(QmpError::Timeout { .. }) => {
                    if self.read_timeout_fn.is_none() {
                        std::thread::sleep(remaining.min(POLL_PAUSE));
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            match self.classify(msg)? {
                Incoming::Event(event) if event.event == name => return Ok(event),
                Incoming::Event(event) => self.queue_event(event),
                Incoming::Reply { id, .. } if self.is_stale(id.as_ref()) => {}
                Incoming::Reply { id, .. } => {
                    return Err(unexpected(format!(
                        "reply with id {id:?} while no command was pending"
                    )))
                }
                Incoming::Greeting => return Err(unexpected("a second greeting".into())),
            }
        }
    }

    pub(crate) fn check_usable(&self) -> Result<(), QmpError> {
        match &self.health {
            Health::Usable => Ok(()),
            Health::Closed => Err(QmpError::Closed),
            Health::Broken(reason) => Err(QmpError::protocol(format!(
                "connection unusable after an earlier error: {reason}"
            ))),
        }
    }

    /// Allocate an id and serialize `{"execute", "arguments", "id"}`.
    pub(crate) fn encode(
        &mut self,
        name: &str,
        args: Option<Value>,
    ) -> Result<(u64, Vec<u8>), QmpError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = Map::new();
        msg.insert("execute".into(), json!(name));
        match args {
            None => {}
            Some(obj @ Value::Object(_)) => {
                msg.insert("arguments".into(), obj);
            }
            Some(other) => {
                return Err(QmpError::protocol(format!(
                    "arguments of {name} must be an object, not {other}"
                )))
            }
        }
        msg.insert("id".into(), json!(id));
        let mut bytes = serde_json::to_vec(&Value::Object(msg))
            .map_err(|e| QmpError::protocol(format!("cannot encode {name}: {e}")))?;
        bytes.push(b'\n');
        Ok((id, bytes))
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), QmpError> {
        let res = self
            .stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush());
        res.map_err(|e| self.write_failed(QmpError::from_io(e, "sending a command")))
    }

    /// Record a failed (possibly partial) write: the stream is out of step.
    pub(crate) fn write_failed(&mut self, err: QmpError) -> QmpError {
        self.health = match &err {
            QmpError::Closed => Health::Closed,
            other => Health::Broken(format!("a command was only partly sent ({other})")),
        };
        err
    }

    /// Wait for the reply carrying `id`, queueing events on the way.
    pub(crate) fn wait_reply(&mut self, name: &str, id: u64) -> Result<Value, QmpError> {
        let what = format!("the reply to {name}");
        loop {
            let msg = self.read_message(&what)?;
            match self.classify(msg)? {
                Incoming::Event(event) => self.queue_event(event),
                Incoming::Reply {
                    id: Some(got),
                    result,
                } => {
                    if got.as_u64() == Some(id) {
                        return result;
                    }
                    if !self.is_stale(Some(&got)) {
                        return Err(unexpected(format!(
                            "reply with id {got} while waiting for id {id} ({name})"
                        )));
                    }
                }
                // QEMU answers input it cannot parse as a command with an
                // error that has no id; it concerns what we just sent.
                Incoming::Reply { id: None, result } => {
                    return match result {
                        Err(e) => Err(e),
                        Ok(v) => Err(unexpected(format!(
                            "reply without id while waiting for {name}: {v}"
                        ))),
                    }
                }
                Incoming::Greeting => return Err(unexpected("a second greeting".into())),
            }
        }
    }

    /// A reply to a command we gave up waiting for.
    fn is_stale(&self, id: Option<&Value>) -> bool {
        matches!(id.and_then(Value::as_u64), Some(n) if n < self.next_id)
    }

    fn read_message(&mut self, what: &str) -> Result<Map<String, Value>, QmpError> {
        match self.framer.next_message(&mut self.stream, what) {
            Ok(msg) => Ok(msg),
            Err(e) => {
                match &e {
                    QmpError::Closed => self.health = Health::Closed,
                    QmpError::Protocol { reason } => self.health = Health::Broken(reason.clone()),
                    _ => {}
                }
                Err(e)
            }
        }
    }

    fn classify(&mut self, mut msg: Map<String, Value>) -> Result<Incoming, QmpError> {
        if msg.contains_key("event") {
            return Ok(Incoming::Event(Event::from_message(msg)?));
        }
        let id = msg.remove("id");
        if let Some(ret) = msg.remove("return") {
            return Ok(Incoming::Reply {
                id,
                result: Ok(ret),
            });
        }
        if let Some(err) = msg.remove("error") {
            let result = match ErrorBody::deserialize(&err) {
                Ok(body) => Err(QmpError::Command {
                    class: body.class,
                    desc: body.desc,
                }),
                Err(e) => Err(QmpError::protocol(format!(
                    "malformed error reply {err}: {e}"
                ))),
            };
            return Ok(Incoming::Reply { id, result });
        }
        if msg.contains_key("QMP") {
            return Ok(Incoming::Greeting);
        }
        Err(QmpError::protocol(format!(
            "message of unknown shape: {}",
            Value::Object(msg)
        )))
    }

    fn queue_event(&mut self, event: Event) {
        if self.events.len() >= MAX_QUEUED_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}

fn unexpected(reason: String) -> QmpError {
    QmpError::protocol(format!("unexpected message from QEMU: {reason}"))
}

/// Deserialize a `return` value; `{}` also stands for "nothing" (unit).
fn decode_reply<T: DeserializeOwned>(name: &str, ret: Value) -> Result<T, QmpError> {
    match T::deserialize(&ret) {
        Ok(v) => Ok(v),
        Err(first) => {
            if ret.as_object().is_some_and(Map::is_empty) {
                if let Ok(v) = T::deserialize(Value::Null) {
                    return Ok(v);
                }
            }
            Err(QmpError::protocol(format!(
                "cannot decode the reply to {name} ({first}): {ret}"
            )))
        }
    }
}
