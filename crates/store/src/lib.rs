//! `ganeti-store`: the durable single-node store in which the master keeps
//! all of its state (cluster config and job queue).
//!
//! # Why this shape
//!
//! Every change is a *command* applied to a deterministic [`StateMachine`];
//! the command is made durable in an append-only log before it is applied.
//! That is exactly the contract of a Raft state machine, so the store can
//! later sit under openraft (see `shared/notes/consensus.md`): the log
//! becomes Raft's log, `apply` stays as it is. The store itself knows
//! nothing about Ganeti objects.
//!
//! Durability is bought with `fdatasync`, which costs ~0.1 ms on this VM
//! and 1–15 ms on real disks, so one fsync per command would cap the master
//! at a few hundred changes per second. Instead a dedicated writer thread
//! does **group commit**: everything proposed while the previous fsync was
//! running is written with one `write` and synced with one `fdatasync`
//! (see the `writer` module). `propose` returns only after the
//! command is durable *and* applied, so a caller that reads afterwards sees
//! its own write.
//!
//! # On-disk layout (one directory, mode 0700; files 0600)
//!
//! ```text
//! LOCK                            flock(LOCK_EX) held while open; holder's pid
//! snapshot-<index:020>.snap       newest durable snapshot (older ones removed)
//! log-<first_index:020>.seg       log segments, append-only
//! *.tmp                           snapshot being written; removed at open
//! ```
//!
//! Segment: 16-byte header (`GNTLOG01`, first index) then records
//! `len u32 | crc32 u32 | index u64 | batch_start u64 | payload`, all
//! little-endian, CRC over everything but itself. The payload is the
//! command as JSON (`serde_json`): debuggable with `strings`, and encoding a
//! few-hundred-byte command costs microseconds against a ~100 µs fsync (the
//! benchmark in `examples/bench_propose.rs` measures the whole path).
//! `batch_start` lets recovery tell a torn, never-acknowledged last batch
//! (cut away, with a warning) from damage to synced data (hard error naming
//! file and offset); see the `recovery` module.
//!
//! Snapshot: `GNTSNAP1 | index u64 | len u64 | crc32 u32 | payload`, the
//! payload being whatever [`StateMachine::snapshot`] returns. It is written
//! to a temp file, fsynced, renamed, and the directory fsynced; only then
//! are older snapshots and the segments it covers removed. The file name and
//! the checksummed header are the whole manifest: there is no second file
//! that could disagree with it. Snapshots are taken by the writer thread
//! (state serialized under the read lock) and written by a separate
//! snapshot thread while commits continue into a fresh segment.

mod error;
mod format;
mod fsutil;
mod recovery;
mod writer;

use std::fmt;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{oneshot, watch};

pub use error::{BoxError, StoreError};

use writer::{CloseReason, Core, Reply, Request, Writer, WriterInit};

/// A deterministic state machine whose commands the store logs and applies.
pub trait StateMachine: Send + Sync + 'static {
    /// A change. Serialized as JSON into the log.
    type Command: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// What `apply` returns to the proposer.
    type Output: Send + 'static;

    /// Applies the command at log index `index`. Must be deterministic: it
    /// runs again on replay after a restart. A refused command (e.g. serial
    /// mismatch) is reported inside `Output`; it is still in the log and
    /// must be refused the same way on replay.
    fn apply(&mut self, index: u64, cmd: &Self::Command) -> Self::Output;

    /// The whole state, serialized.
    fn snapshot(&self) -> Result<Vec<u8>, BoxError>;

    /// Rebuilds the state from [`StateMachine::snapshot`]'s bytes.
    fn restore(bytes: &[u8]) -> Result<Self, BoxError>
    where
        Self: Sized;
}

/// Tunables. `Default` gives production values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Take a snapshot after this many log entries since the last one
    /// (0 = never by count).
    pub snapshot_every_entries: u64,
    /// Take a snapshot when the log since the last snapshot exceeds this
    /// many bytes (0 = never by size).
    pub snapshot_log_bytes: u64,
    /// Start a new segment once the current one reaches this size.
    pub segment_max_bytes: u64,
    /// At most this many commands per group commit.
    pub max_batch_records: usize,
    /// At most about this many payload bytes per group commit (a single
    /// larger command still goes through alone).
    pub max_batch_bytes: usize,
    /// Largest encoded command accepted by `propose` (capped at 256 MiB).
    pub max_record_bytes: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            snapshot_every_entries: 10_000,
            snapshot_log_bytes: 64 << 20,
            segment_max_bytes: 16 << 20,
            max_batch_records: 4096,
            max_batch_bytes: 8 << 20,
            max_record_bytes: 64 << 20,
        }
    }
}

/// Counters since open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreMetrics {
    /// Commands accepted into the queue.
    pub submitted: u64,
    /// Log records written and synced.
    pub records_written: u64,
    /// Group commits (write + fdatasync rounds).
    pub batches: u64,
    /// `fdatasync` calls on log segments.
    pub fsyncs: u64,
    /// Directory fsyncs (new segments, snapshot renames, removals).
    pub dir_syncs: u64,
    /// Bytes appended to the log (headers included).
    pub bytes_written: u64,
    /// Largest group commit seen.
    pub max_batch: u64,
    /// Snapshots made durable.
    pub snapshots_written: u64,
}

/// Owns the writer thread and the directory lock; dropped with the last
/// [`Store`] clone.
struct Handle<S: StateMachine> {
    core: Arc<Core<S>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    _lock: fsutil::DirLock,
}

impl<S: StateMachine> Drop for Handle<S> {
    fn drop(&mut self) {
        // Queued commands are still committed; then the writer (and the
        // snapshot thread) end, and only then is the lock released.
        self.core.close(CloseReason::Shutdown);
        if let Some(t) = self.writer.lock().take() {
            let _ = t.join();
        }
    }
}

/// A durable store of one state machine. Cheap to clone; the directory is
/// closed (and its lock released) when the last clone is dropped, after
/// every command already proposed has been committed.
pub struct Store<S: StateMachine> {
    handle: Arc<Handle<S>>,
}

impl<S: StateMachine> Clone for Store<S> {
    fn clone(&self) -> Self {
        Store {
            handle: Arc::clone(&self.handle),
        }
    }
}

impl<S: StateMachine> fmt::Debug for Store<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.handle.core.dir)
            .field("last_applied", &self.last_applied())
            .finish_non_exhaustive()
    }
}

impl<S: StateMachine> Store<S> {
    /// Opens (or creates) the store in `dir` with default options.
    ///
    /// Loads the newest snapshot and replays the log after it. A torn tail
    /// record (short write, CRC mismatch in the last, possibly unsynced
    /// batch) is truncated away with a `tracing::warn!`. Damage anywhere
    /// else, or an unreadable snapshot, is a [`StoreError`] naming the file
    /// (and offset). With neither snapshot nor log, `init()` is the initial
    /// state. Fails with [`StoreError::Locked`] if another store has the
    /// directory open.
    pub fn open(dir: &Path, init: impl FnOnce() -> S) -> Result<Self, StoreError> {
        Self::open_with_options(dir, StoreOptions::default(), init)
    }

    /// [`Store::open`] with explicit options.
    pub fn open_with_options(
        dir: &Path,
        mut opts: StoreOptions,
        init: impl FnOnce() -> S,
    ) -> Result<Self, StoreError> {
        opts.max_record_bytes = opts.max_record_bytes.min(format::MAX_RECORD_BYTES);
        fsutil::ensure_private_dir(dir)?;
        let lock = fsutil::DirLock::acquire(dir)?;
        let rec = recovery::recover(dir, init)?;
        tracing::debug!(
            dir = %dir.display(),
            snapshot = rec.snapshot_index,
            last_applied = rec.last_applied,
            "store opened"
        );
        let core = Arc::new(Core::new(dir.to_path_buf(), opts, rec.sm, rec.last_applied));
        let writer = Writer::spawn(
            Arc::clone(&core),
            WriterInit {
                last_applied: rec.last_applied,
                snapshot_index: rec.snapshot_index,
                tail: rec.tail,
                log_bytes: rec.log_bytes,
            },
        )?;
        Ok(Store {
            handle: Arc::new(Handle {
                core,
                writer: Mutex::new(Some(writer)),
                _lock: lock,
            }),
        })
    }

    fn core(&self) -> &Core<S> {
        &self.handle.core
    }

    fn make_request(
        &self,
        cmd: S::Command,
        reply: Reply<Result<S::Output, StoreError>>,
    ) -> Result<Request<S>, StoreError> {
        let payload = serde_json::to_vec(&cmd).map_err(StoreError::Encode)?;
        let limit = self.core().opts.max_record_bytes;
        if payload.len() > limit as usize {
            return Err(StoreError::RecordTooLarge {
                size: payload.len(),
                limit,
            });
        }
        Ok(Request::Propose {
            cmd,
            payload,
            reply,
        })
    }

    /// Logs `cmd`, waits until it is durable (fdatasync) and applied, and
    /// returns what `apply` returned. Concurrent proposals share fsyncs.
    ///
    /// Dropping the future after it started does not withdraw the command.
    /// An [`StoreError::Io`] means the outcome is unknown (the command may be
    /// durable); the store then refuses further commands until reopened.
    pub async fn propose(&self, cmd: S::Command) -> Result<S::Output, StoreError> {
        let (tx, rx) = oneshot::channel();
        let req = self.make_request(cmd, Reply::Async(tx))?;
        self.core().enqueue(req).map_err(|(_, e)| e)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Blocking [`Store::propose`], for threads outside an async runtime
    /// (inside one, use `spawn_blocking` or the async variant).
    pub fn propose_blocking(&self, cmd: S::Command) -> Result<S::Output, StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let req = self.make_request(cmd, Reply::Blocking(tx))?;
        self.core().enqueue(req).map_err(|(_, e)| e)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on the current state under a read lock. Keep `f` short: it
    /// holds up the application of committed commands.
    pub fn read<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        let guard = self.core().state.read();
        f(&guard)
    }

    /// Like [`Store::read`], also passing the index of the last applied
    /// command, consistent with the state seen.
    pub fn read_at<R>(&self, f: impl FnOnce(&S, u64) -> R) -> R {
        let guard = self.core().state.read();
        let idx = self.core().last_applied.load(Ordering::Acquire);
        f(&guard, idx)
    }

    /// Index of the last applied (and durable) command; 0 for a new store.
    pub fn last_applied(&self) -> u64 {
        self.core().last_applied.load(Ordering::Acquire)
    }

    /// A receiver of the last applied index, updated after every group
    /// commit (before the proposers are answered). For long-poll waits.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.core().watch.subscribe()
    }

    /// Writes a snapshot of the current state now (temp file, fsync,
    /// rename, directory fsync) and removes the log segments it covers.
    /// Blocks until done; ordered after every command proposed before it.
    pub fn snapshot_now(&self) -> Result<(), StoreError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.core()
            .enqueue(Request::Snapshot {
                reply: Reply::Blocking(tx),
            })
            .map_err(|(_, e)| e)?;
        rx.recv().map_err(|_| StoreError::Closed)?
    }

    /// Counters since open.
    pub fn metrics(&self) -> StoreMetrics {
        self.core().metrics.get()
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.core().dir
    }

    /// The options in force.
    pub fn options(&self) -> &StoreOptions {
        &self.core().opts
    }
}
