//! Blocking LUXI client used by the gnt-* tools.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ganeti_types::GanetiError;
use serde_json::Value;

use crate::protocol::{Method, Request, Response, EOM};

/// Failures talking to the master.
#[derive(Debug, thiserror::Error)]
pub enum LuxiError {
    /// The socket is missing or refused: the master is not running here.
    #[error("Cannot communicate with the master daemon.\nIs the master daemon running on this node? ({path}: {source})")]
    NoMaster {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// I/O failed or timed out mid-conversation.
    #[error("Timeout while talking to the master daemon. Jobs might have been submitted and will continue to run even if the call timed out. Useful commands in this situation are \"gnt-job list\", \"gnt-job cancel\" and \"gnt-job watch\". Error:\n{0}")]
    Io(#[source] std::io::Error),
    /// The reply was not a valid LUXI message.
    #[error("Unhandled protocol error while talking to the master daemon:\n{0}")]
    Protocol(String),
    /// The master answered with a Ganeti error.
    #[error("{0}")]
    Ganeti(GanetiError),
}

/// One connection to the master.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    /// Connect to the master socket.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Self, LuxiError> {
        let stream = UnixStream::connect(path).map_err(|source| LuxiError::NoMaster {
            path: path.to_path_buf(),
            source,
        })?;
        stream
            .set_read_timeout(Some(timeout))
            .map_err(LuxiError::Io)?;
        stream
            .set_write_timeout(Some(timeout))
            .map_err(LuxiError::Io)?;
        let writer = stream.try_clone().map_err(LuxiError::Io)?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Change the read timeout (long waits use a longer one).
    pub fn set_timeout(&self, timeout: Duration) -> Result<(), LuxiError> {
        self.writer
            .set_read_timeout(Some(timeout))
            .map_err(LuxiError::Io)
    }

    /// Send one request and wait for its response.
    pub fn call(&mut self, method: Method, args: Value) -> Result<Value, LuxiError> {
        let req = Request {
            method,
            args,
            version: Some(ganeti_types::PROTOCOL_VERSION),
        };
        let mut buf = serde_json::to_vec(&req).map_err(|e| LuxiError::Protocol(e.to_string()))?;
        buf.push(EOM);
        self.writer.write_all(&buf).map_err(LuxiError::Io)?;
        let mut reply = Vec::new();
        let n = self
            .reader
            .read_until(EOM, &mut reply)
            .map_err(LuxiError::Io)?;
        if n == 0 || reply.last() != Some(&EOM) {
            return Err(LuxiError::Protocol(
                "connection closed by the master daemon".into(),
            ));
        }
        reply.pop();
        let resp: Response =
            serde_json::from_slice(&reply).map_err(|e| LuxiError::Protocol(e.to_string()))?;
        if resp.success {
            Ok(resp.result)
        } else if let Value::String(text) = resp.result {
            // not an encoded error: the master could not decode the request
            Err(LuxiError::Protocol(text))
        } else {
            Err(LuxiError::Ganeti(
                GanetiError::decode(&resp.result)
                    .unwrap_or_else(|| GanetiError::Generic(resp.result.to_string())),
            ))
        }
    }
}
