//! Tokio framing for the daemon side.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

use crate::protocol::{Request, Response, EOM};

/// Largest request we accept (a job with many opcodes stays far below).
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Errors reading a request.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("message too large")]
    TooLarge,
    #[error("Failed to parse request: {0}")]
    Parse(String),
}

/// A server-side connection.
#[derive(Debug)]
pub struct Conn {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    buf: Vec<u8>,
}

impl Conn {
    /// Wrap an accepted stream.
    pub fn new(stream: UnixStream) -> Self {
        let (r, w) = stream.into_split();
        Conn {
            reader: BufReader::new(r),
            writer: w,
            buf: Vec::new(),
        }
    }

    /// Read the next request; `Ok(None)` on a clean close.
    pub async fn read(&mut self) -> Result<Option<Result<Request, String>>, FrameError> {
        self.buf.clear();
        let n = self.reader.read_until(EOM, &mut self.buf).await?;
        if n == 0 {
            return Ok(None);
        }
        if self.buf.len() > MAX_MESSAGE {
            return Err(FrameError::TooLarge);
        }
        if self.buf.last() != Some(&EOM) {
            return Ok(None);
        }
        self.buf.pop();
        Ok(Some(serde_json::from_slice::<Request>(&self.buf).map_err(
            |e| {
                let raw: Value = serde_json::from_slice(&self.buf).unwrap_or(Value::Null);
                let method = raw.get("method").cloned().unwrap_or(Value::Null);
                format!("Failed to parse request {method}: {e}")
            },
        )))
    }

    /// Write a response.
    pub async fn write(&mut self, resp: &Response) -> Result<(), FrameError> {
        let mut out = serde_json::to_vec(resp).map_err(|e| FrameError::Parse(e.to_string()))?;
        out.push(EOM);
        self.writer.write_all(&out).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, Method};
    use serde_json::json;

    #[tokio::test]
    async fn round_trip_over_a_real_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let mut c = Conn::new(s);
            while let Some(req) = c.read().await.unwrap() {
                let req = req.unwrap();
                let resp = match req.method {
                    Method::QueryClusterInfo => Response::ok(json!({"name": "c"})),
                    _ => Response::err(&ganeti_types::GanetiError::noent("Instance 'x' not known")),
                };
                c.write(&resp).await.unwrap();
            }
        });
        let p2 = path.clone();
        tokio::task::spawn_blocking(move || {
            let mut cl = Client::connect(&p2, std::time::Duration::from_secs(5)).unwrap();
            assert_eq!(
                cl.call(Method::QueryClusterInfo, json!([])).unwrap(),
                json!({"name": "c"})
            );
            match cl.call(Method::Query, json!([])) {
                Err(crate::LuxiError::Ganeti(e)) => {
                    assert_eq!(e.message(), "Instance 'x' not known")
                }
                other => panic!("unexpected {other:?}"),
            }
        })
        .await
        .unwrap();
        server.await.unwrap();
    }

    #[test]
    fn connect_to_missing_socket_is_no_master() {
        let dir = tempfile::tempdir().unwrap();
        let e = Client::connect(&dir.path().join("nope"), std::time::Duration::from_secs(1))
            .unwrap_err();
        assert!(matches!(e, crate::LuxiError::NoMaster { .. }));
    }
}
