//! Splitting the byte stream from QEMU into JSON objects.
//!
//! QEMU ends each message with a newline, but nothing in the protocol
//! promises it, so we parse a stream of JSON values instead of lines. Bytes
//! are buffered here (not in a `BufReader`) so that a read that times out
//! mid-message loses nothing: the next call continues where it stopped.
//! Every QMP message is an object, so anything else at top level is
//! reported as garbage at once instead of waiting for more input.

use std::io::{self, Read};

use serde_json::{Map, Value};

use crate::QmpError;

/// Largest single message we accept; more means the peer is not QEMU.
const MAX_MESSAGE: usize = 64 << 20;
const CHUNK: usize = 16 << 10;

#[derive(Debug, Default)]
pub(crate) struct Framer {
    buf: Vec<u8>,
    /// Whether `buf` may hold a complete object (a `}` arrived since the
    /// last failed parse); avoids re-parsing a long partial message for
    /// every chunk.
    maybe_complete: bool,
}

impl Framer {
    /// Read the next JSON object. `context` names what we are waiting for,
    /// for timeout and I/O errors.
    pub(crate) fn next_message<R: Read>(
        &mut self,
        reader: &mut R,
        context: &str,
    ) -> Result<Map<String, Value>, QmpError> {
        let mut chunk = [0u8; CHUNK];
        loop {
            if self.maybe_complete {
                if let Some(msg) = self.try_parse()? {
                    return Ok(msg);
                }
                self.maybe_complete = false;
            }
            let n = match reader.read(&mut chunk) {
                Ok(0) => return Err(QmpError::Closed),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(QmpError::from_io(e, context)),
            };
            let new = &chunk[..n];
            self.buf.extend_from_slice(new);
            if self.buf.len() > MAX_MESSAGE {
                return Err(QmpError::protocol(format!(
                    "message larger than {MAX_MESSAGE} bytes"
                )));
            }
            if new.contains(&b'}') {
                self.maybe_complete = true;
            } else if !self.starts_like_object()? {
                // Garbage is reported even if it has no closing brace.
                self.maybe_complete = true;
            }
        }
    }

    /// Check the first non-blank byte; `Ok(true)` if there is none yet or
    /// it opens an object.
    fn starts_like_object(&self) -> Result<bool, QmpError> {
        match self.buf.iter().find(|b| !b.is_ascii_whitespace()) {
            None | Some(b'{') => Ok(true),
            Some(_) => Err(QmpError::protocol(format!(
                "expected a JSON object, got {:?}",
                preview(&self.buf)
            ))),
        }
    }

    /// Parse one object off the front of the buffer, or `None` if the
    /// buffer holds only part of one.
    fn try_parse(&mut self) -> Result<Option<Map<String, Value>>, QmpError> {
        self.starts_like_object()?;
        let mut values = serde_json::Deserializer::from_slice(&self.buf).into_iter::<Value>();
        let parsed = values.next();
        let used = values.byte_offset();
        match parsed {
            None => {
                // Only whitespace so far.
                self.buf.clear();
                Ok(None)
            }
            Some(Ok(Value::Object(map))) => {
                self.buf.drain(..used);
                Ok(Some(map))
            }
            Some(Ok(other)) => Err(QmpError::protocol(format!(
                "expected a JSON object, got {other}"
            ))),
            Some(Err(e)) if e.is_eof() => Ok(None),
            Some(Err(e)) => Err(QmpError::protocol(format!(
                "invalid JSON from QEMU ({e}) near {:?}",
                preview(&self.buf)
            ))),
        }
    }
}

/// The start of the buffer, for error messages (QMP carries no secrets we
/// put there, but keep messages short).
fn preview(buf: &[u8]) -> String {
    let text = String::from_utf8_lossy(&buf[..buf.len().min(80)]);
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its input a few bytes per read, to split messages.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    fn all(input: &str, step: usize) -> Vec<Result<Map<String, Value>, String>> {
        let mut r = Trickle(input.as_bytes().to_vec(), step);
        let mut f = Framer::default();
        let mut out = Vec::new();
        loop {
            match f.next_message(&mut r, "test") {
                Ok(m) => out.push(Ok(m)),
                Err(QmpError::Closed) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn objects_without_newlines_and_split_reads() {
        let input = r#"{"a": 1}{"b": "x}y"}  {"c": {"d": [1, 2]}}"#;
        for step in [1, 2, 3, 7, 100] {
            let got = all(input, step);
            assert_eq!(got.len(), 3, "step {step}: {got:?}");
            assert_eq!(got[1].as_ref().unwrap()["b"], "x}y");
            assert_eq!(got[2].as_ref().unwrap()["c"]["d"][1], 2);
        }
    }

    #[test]
    fn garbage_is_a_protocol_error_even_without_braces() {
        let got = all("hello world", 4);
        assert_eq!(got.len(), 1);
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .contains("expected a JSON object"));
        let got = all(r#"[1, 2]"#, 100);
        assert!(got[0]
            .as_ref()
            .unwrap_err()
            .contains("expected a JSON object"));
        let got = all(r#"{"a": nope}"#, 100);
        assert!(got[0].as_ref().unwrap_err().contains("invalid JSON"));
    }

    #[test]
    fn partial_message_then_eof_is_closed() {
        let mut r = Trickle(br#"{"return": {"#.to_vec(), 3);
        let mut f = Framer::default();
        assert!(matches!(
            f.next_message(&mut r, "test"),
            Err(QmpError::Closed)
        ));
    }

    #[test]
    fn timeout_keeps_partial_input() {
        struct Stutter(Vec<Vec<u8>>);
        impl Read for Stutter {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                let part = self.0.remove(0);
                if part.is_empty() {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                out[..part.len()].copy_from_slice(&part);
                Ok(part.len())
            }
        }
        let mut r = Stutter(vec![b"{\"x\":".to_vec(), vec![], b" 5}".to_vec()]);
        let mut f = Framer::default();
        assert!(matches!(
            f.next_message(&mut r, "x"),
            Err(QmpError::Timeout { .. })
        ));
        assert_eq!(f.next_message(&mut r, "x").unwrap()["x"], 5);
    }
}
