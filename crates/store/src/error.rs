//! Errors of the store.
//!
//! Every variant that concerns a file names the file (and, for the log, the
//! byte offset) so that an operator who sees the message knows exactly what
//! to look at. Errors returned by the state machine's `apply` are *not* store
//! errors: they travel inside `StateMachine::Output`.

use std::io;
use std::path::PathBuf;

/// Boxed error type used by [`crate::StateMachine::snapshot`] and
/// [`crate::StateMachine::restore`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why the store refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (or another `Store` in this process) holds the
    /// directory's lock file.
    #[error("store directory {} is locked by another store{}", dir.display(), match pid { Some(p) => format!(" (pid {p})"), None => String::new() })]
    Locked {
        /// The store directory.
        dir: PathBuf,
        /// The pid recorded in the lock file by the holder, if readable.
        pid: Option<u32>,
    },

    /// An operating-system I/O error. When returned by `propose`, the
    /// outcome of that command is unknown (it may or may not be durable) and
    /// the store is failed (see [`StoreError::Failed`]).
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (e.g. "fdatasync log segment").
        op: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A log record that is not a torn tail is damaged: a CRC mismatch or a
    /// short record followed by later, already-synced data, a wrong index or
    /// a gap between segments. Never silently repaired.
    #[error("corrupt log {} at offset {offset}: {reason}", file.display())]
    CorruptLog {
        /// The segment file.
        file: PathBuf,
        /// Byte offset of the damaged record (or header) in that file.
        offset: u64,
        /// What is wrong.
        reason: String,
    },

    /// The newest snapshot file cannot be read or fails its checksum.
    #[error("corrupt snapshot {}: {reason}", file.display())]
    CorruptSnapshot {
        /// The snapshot file.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// The state machine could not rebuild itself from a valid snapshot.
    #[error("state machine cannot restore snapshot {}: {source}", file.display())]
    Restore {
        /// The snapshot file.
        file: PathBuf,
        /// The state machine's error.
        #[source]
        source: BoxError,
    },

    /// The state machine could not serialize its state.
    #[error("state machine cannot produce a snapshot: {source}")]
    Snapshot {
        /// The state machine's error.
        #[source]
        source: BoxError,
    },

    /// A command could not be serialized for the log.
    #[error("cannot encode command: {0}")]
    Encode(#[source] serde_json::Error),

    /// A CRC-valid log record does not deserialize into a command (format
    /// change without upgrade, or a bug).
    #[error("cannot decode command at index {index} in {} at offset {offset}: {source}", file.display())]
    Decode {
        /// The segment file.
        file: PathBuf,
        /// Offset of the record.
        offset: u64,
        /// Log index of the record.
        index: u64,
        /// The deserialization error.
        #[source]
        source: serde_json::Error,
    },

    /// An encoded command is larger than the configured limit.
    #[error("command of {size} bytes exceeds the record limit of {limit} bytes")]
    RecordTooLarge {
        /// Encoded size.
        size: usize,
        /// The limit in force.
        limit: u32,
    },

    /// The store stopped accepting commands after an earlier write or fsync
    /// error, or because its writer thread died. Reopen it to recover (the
    /// log is replayed and any torn tail is cut away).
    #[error("store has failed and must be reopened: {reason}")]
    Failed {
        /// The first error that failed the store.
        reason: String,
    },

    /// The store is shutting down.
    #[error("store is closed")]
    Closed,
}

impl StoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// A copy of an `io::Error` (which is not `Clone`) for handing one failure to
/// several waiting callers.
pub(crate) fn copy_io_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_message_names_dir_and_pid() {
        let e = StoreError::Locked {
            dir: PathBuf::from("/x/y"),
            pid: Some(42),
        };
        assert_eq!(
            e.to_string(),
            "store directory /x/y is locked by another store (pid 42)"
        );
        let e = StoreError::Locked {
            dir: PathBuf::from("/x/y"),
            pid: None,
        };
        assert_eq!(
            e.to_string(),
            "store directory /x/y is locked by another store"
        );
    }

    #[test]
    fn corrupt_log_message_names_file_and_offset() {
        let e = StoreError::CorruptLog {
            file: PathBuf::from("/s/log-1.seg"),
            offset: 1234,
            reason: "CRC mismatch".into(),
        };
        assert_eq!(
            e.to_string(),
            "corrupt log /s/log-1.seg at offset 1234: CRC mismatch"
        );
    }

    #[test]
    fn copied_io_error_keeps_errno_and_kind() {
        let e = io::Error::from_raw_os_error(libc_enospc());
        let c = copy_io_error(&e);
        assert_eq!(c.raw_os_error(), e.raw_os_error());
        let e = io::Error::new(io::ErrorKind::InvalidData, "boom");
        let c = copy_io_error(&e);
        assert_eq!(c.kind(), io::ErrorKind::InvalidData);
        assert!(c.to_string().contains("boom"));
    }

    fn libc_enospc() -> i32 {
        28
    }
}
