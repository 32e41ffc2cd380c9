//! Errors of the QMP client, split by what the caller can do about them:
//! QEMU refused a command ([`QmpError::Command`]), QEMU went away
//! ([`QmpError::Closed`]), the peer did not speak QMP
//! ([`QmpError::Protocol`]), or it was too slow ([`QmpError::Timeout`]).

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum QmpError {
    /// An I/O error other than a timeout or the peer closing the stream.
    #[error("QMP I/O error while {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    /// The peer closed the connection (end of stream, broken pipe or reset):
    /// QEMU exited or closed the monitor.
    #[error("QMP connection closed by QEMU")]
    Closed,
    /// The peer sent something that is not QMP (bad JSON, a message of an
    /// unknown shape, a reply nobody asked for), or the connection is no
    /// longer usable after such an error.
    #[error("QMP protocol error: {reason}")]
    Protocol { reason: String },
    /// QEMU answered the command with `{"error": {"class", "desc"}}`.
    #[error("QMP command failed: {class}: {desc}")]
    Command { class: String, desc: String },
    /// Nothing (or not the awaited thing) arrived in time.
    #[error("QMP timeout waiting for {what}")]
    Timeout { what: String },
    /// Connecting to the monitor socket failed.
    #[error("cannot connect to QMP socket {}: {source}", path.display())]
    Connect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl QmpError {
    pub(crate) fn protocol(reason: impl Into<String>) -> Self {
        QmpError::Protocol {
            reason: reason.into(),
        }
    }

    /// Map an I/O error of the stream to the error kind a caller acts on.
    pub(crate) fn from_io(source: io::Error, context: &str) -> Self {
        match source.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => QmpError::Timeout {
                what: context.to_string(),
            },
            io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof => QmpError::Closed,
            _ => QmpError::Io {
                context: context.to_string(),
                source,
            },
        }
    }

    /// The QMP error class (`GenericError`, `DeviceNotFound`, ...) when
    /// QEMU refused the command.
    pub fn class(&self) -> Option<&str> {
        match self {
            QmpError::Command { class, .. } => Some(class),
            _ => None,
        }
    }

    /// True when QEMU is gone (the connection was closed).
    pub fn is_closed(&self) -> bool {
        matches!(self, QmpError::Closed)
    }
}
