//! The writer thread (group commit) and the snapshot thread.
//!
//! Why a dedicated OS thread rather than a tokio task: fdatasync blocks for
//! hundreds of microseconds to milliseconds, and the store must also serve
//! callers outside any runtime (`propose_blocking`). Proposers serialize
//! their command themselves (in parallel), push it on a mutex-protected
//! queue and wait on a oneshot. The writer loop:
//!
//! 1. waits until the queue is non-empty and takes *everything* queued (up
//!    to a batch limit) — whatever arrived during the previous fsync;
//! 2. encodes the records into one buffer, one `write`, one `fdatasync`
//!    (plus a directory fsync when the batch opened a new segment);
//! 3. applies the commands in index order under the state's write lock,
//!    publishes `last_applied` (atomic + watch channel), answers each caller;
//! 4. checks the snapshot policy.
//!
//! Snapshots: the writer closes the current segment (so everything up to
//! the snapshot index lives in closed segments), serializes the state under
//! the read lock (consistent at that index, since only the writer mutates),
//! and hands the bytes to the snapshot thread, which writes
//! `snapshot-N.snap.tmp`, fsyncs, renames, fsyncs the directory, then removes
//! older snapshots and every segment whose first index is <= N. The writer
//! meanwhile goes on committing into a fresh segment.
//!
//! Any write or fsync error fails the store for good (after a failed fsync
//! the page cache state is unknown; retrying could report data durable that
//! is not). Reopening replays the log and cuts any torn tail.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex, RwLock};
use tokio::sync::{oneshot, watch};

use crate::error::{copy_io_error, StoreError};
use crate::format;
use crate::fsutil::{create_new_private, create_truncate_private, remove_if_exists, sync_dir};
use crate::{StateMachine, StoreMetrics, StoreOptions};

/// Where a result goes back to: an async or a blocking waiter.
pub(crate) enum Reply<T> {
    Async(oneshot::Sender<T>),
    Blocking(mpsc::SyncSender<T>),
}

impl<T> Reply<T> {
    pub(crate) fn send(self, v: T) {
        // A waiter that went away (dropped future) is not an error: the
        // command is committed all the same.
        match self {
            Reply::Async(tx) => {
                let _ = tx.send(v);
            }
            Reply::Blocking(tx) => {
                let _ = tx.send(v);
            }
        }
    }
}

pub(crate) enum Request<S: StateMachine> {
    Propose {
        cmd: S::Command,
        payload: Vec<u8>,
        reply: Reply<Result<S::Output, StoreError>>,
    },
    Snapshot {
        reply: Reply<Result<(), StoreError>>,
    },
}

impl<S: StateMachine> Request<S> {
    fn fail(self, err: impl Fn() -> StoreError) {
        match self {
            Request::Propose { reply, .. } => reply.send(Err(err())),
            Request::Snapshot { reply } => reply.send(Err(err())),
        }
    }
}

#[derive(Clone)]
pub(crate) enum CloseReason {
    Shutdown,
    Failed(String),
}

impl CloseReason {
    pub(crate) fn error(&self) -> StoreError {
        match self {
            CloseReason::Shutdown => StoreError::Closed,
            CloseReason::Failed(reason) => StoreError::Failed {
                reason: reason.clone(),
            },
        }
    }
}

pub(crate) struct Queue<S: StateMachine> {
    items: VecDeque<Request<S>>,
    closed: Option<CloseReason>,
}

#[derive(Default)]
pub(crate) struct Metrics {
    pub submitted: AtomicU64,
    pub records_written: AtomicU64,
    pub batches: AtomicU64,
    pub fsyncs: AtomicU64,
    pub dir_syncs: AtomicU64,
    pub bytes_written: AtomicU64,
    pub max_batch: AtomicU64,
    pub snapshots_written: AtomicU64,
}

impl Metrics {
    pub(crate) fn get(&self) -> StoreMetrics {
        StoreMetrics {
            submitted: self.submitted.load(Ordering::Relaxed),
            records_written: self.records_written.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
            fsyncs: self.fsyncs.load(Ordering::Relaxed),
            dir_syncs: self.dir_syncs.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            max_batch: self.max_batch.load(Ordering::Relaxed),
            snapshots_written: self.snapshots_written.load(Ordering::Relaxed),
        }
    }
}

/// State shared by the store handles and the writer thread.
pub(crate) struct Core<S: StateMachine> {
    pub dir: PathBuf,
    pub opts: StoreOptions,
    pub state: RwLock<S>,
    pub last_applied: AtomicU64,
    pub queue: Mutex<Queue<S>>,
    pub queue_cv: Condvar,
    pub metrics: Metrics,
    pub watch: watch::Sender<u64>,
}

impl<S: StateMachine> Core<S> {
    pub(crate) fn new(dir: PathBuf, opts: StoreOptions, sm: S, last_applied: u64) -> Self {
        let (watch, _) = watch::channel(last_applied);
        Core {
            dir,
            opts,
            state: RwLock::new(sm),
            last_applied: AtomicU64::new(last_applied),
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                closed: None,
            }),
            queue_cv: Condvar::new(),
            metrics: Metrics::default(),
            watch,
        }
    }

    pub(crate) fn enqueue(&self, req: Request<S>) -> Result<(), (Request<S>, StoreError)> {
        let mut q = self.queue.lock();
        if let Some(reason) = &q.closed {
            let err = reason.error();
            return Err((req, err));
        }
        q.items.push_back(req);
        self.metrics.submitted.fetch_add(1, Ordering::Relaxed);
        drop(q);
        self.queue_cv.notify_one();
        Ok(())
    }

    /// Stops accepting requests. With `Failed`, everything still queued is
    /// answered with the error; with `Shutdown` the writer drains the queue
    /// first. The first reason wins.
    pub(crate) fn close(&self, reason: CloseReason) {
        let (drained, reason): (Vec<Request<S>>, CloseReason) = {
            let mut q = self.queue.lock();
            let reason = q.closed.get_or_insert(reason).clone();
            let drained = match reason {
                CloseReason::Failed(_) => q.items.drain(..).collect(),
                CloseReason::Shutdown => Vec::new(),
            };
            (drained, reason)
        };
        self.queue_cv.notify_all();
        for r in drained {
            r.fail(|| reason.error());
        }
    }

    fn next_batch(&self) -> Option<Vec<Request<S>>> {
        let mut q = self.queue.lock();
        loop {
            if !q.items.is_empty() {
                let mut n = 0;
                let mut bytes = 0usize;
                for r in q.items.iter() {
                    if n >= self.opts.max_batch_records.max(1) {
                        break;
                    }
                    if let Request::Propose { payload, .. } = r {
                        if n > 0 && bytes + payload.len() > self.opts.max_batch_bytes {
                            break;
                        }
                        bytes += payload.len() + format::RECORD_HEADER_LEN;
                    }
                    n += 1;
                }
                return Some(q.items.drain(..n).collect());
            }
            if q.closed.is_some() {
                return None;
            }
            self.queue_cv.wait(&mut q);
        }
    }
}

struct ActiveSegment {
    path: PathBuf,
    file: File,
    len: u64,
}

struct SnapJob {
    index: u64,
    bytes: Vec<u8>,
    reply: Option<Reply<Result<(), StoreError>>>,
}

pub(crate) struct Writer<S: StateMachine> {
    core: Arc<Core<S>>,
    segment: Option<ActiveSegment>,
    next_index: u64,
    entries_since_snapshot: u64,
    log_bytes_since_snapshot: u64,
    buf: Vec<u8>,
    snap_tx: Option<mpsc::Sender<SnapJob>>,
    snap_thread: Option<JoinHandle<()>>,
    snap_in_progress: Arc<AtomicBool>,
}

impl<S: StateMachine> Drop for Writer<S> {
    /// Lets a snapshot in flight finish before the thread (and so, in the
    /// end, the directory lock) goes away, also when `apply` panicked.
    fn drop(&mut self) {
        self.snap_tx = None;
        if let Some(t) = self.snap_thread.take() {
            let _ = t.join();
        }
    }
}

/// Closes the queue when the writer thread ends, whether normally or by a
/// panic in the state machine, so no caller waits forever.
struct ExitGuard<S: StateMachine>(Arc<Core<S>>);

impl<S: StateMachine> Drop for ExitGuard<S> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!(dir = %self.0.dir.display(), "store writer thread panicked");
            self.0.close(CloseReason::Failed(
                "the writer thread panicked (state machine apply?)".into(),
            ));
        } else {
            self.0.close(CloseReason::Shutdown);
        }
    }
}

pub(crate) struct WriterInit {
    pub last_applied: u64,
    pub snapshot_index: u64,
    pub tail: Option<(u64, PathBuf, u64)>,
    pub log_bytes: u64,
}

impl<S: StateMachine> Writer<S> {
    pub(crate) fn spawn(
        core: Arc<Core<S>>,
        init: WriterInit,
    ) -> Result<JoinHandle<()>, StoreError> {
        let segment = match init.tail {
            Some((_, path, len)) => {
                let file = OpenOptions::new()
                    .append(true)
                    .open(&path)
                    .map_err(|e| StoreError::io("open log segment", &path, e))?;
                Some(ActiveSegment { path, file, len })
            }
            None => None,
        };
        let snap_in_progress = Arc::new(AtomicBool::new(false));
        let (snap_tx, snap_rx) = mpsc::channel::<SnapJob>();
        let snap_core = Arc::clone(&core);
        let snap_flag = Arc::clone(&snap_in_progress);
        let snap_thread = std::thread::Builder::new()
            .name("store-snapshot".into())
            .spawn(move || {
                for job in snap_rx {
                    let res = write_snapshot(&snap_core, job.index, &job.bytes);
                    if let Err(e) = &res {
                        tracing::warn!(index = job.index, error = %e, "snapshot failed; the log still holds everything");
                    }
                    snap_flag.store(false, Ordering::Release);
                    if let Some(reply) = job.reply {
                        reply.send(res);
                    }
                }
            })
            .map_err(|e| StoreError::io("spawn snapshot thread", &core.dir, e))?;
        let mut writer = Writer {
            core: Arc::clone(&core),
            segment,
            next_index: init.last_applied + 1,
            entries_since_snapshot: init.last_applied - init.snapshot_index,
            log_bytes_since_snapshot: init.log_bytes,
            buf: Vec::with_capacity(64 * 1024),
            snap_tx: Some(snap_tx),
            snap_thread: Some(snap_thread),
            snap_in_progress,
        };
        let dir = core.dir.clone();
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let _guard = ExitGuard(Arc::clone(&writer.core));
                writer.run();
            })
            .map_err(|e| StoreError::io("spawn writer thread", &dir, e))
    }

    fn run(&mut self) {
        while let Some(batch) = self.core.next_batch() {
            let mut proposals = Vec::with_capacity(batch.len());
            let mut snaps = Vec::new();
            for r in batch {
                match r {
                    Request::Propose {
                        cmd,
                        payload,
                        reply,
                    } => proposals.push((cmd, payload, reply)),
                    Request::Snapshot { reply } => snaps.push(reply),
                }
            }
            if !proposals.is_empty() {
                if let Err(failure) = self.commit(proposals) {
                    self.core.close(CloseReason::Failed(failure.clone()));
                    for r in snaps {
                        r.send(Err(StoreError::Failed {
                            reason: failure.clone(),
                        }));
                    }
                    continue;
                }
            }
            for reply in snaps {
                self.start_snapshot(Some(reply));
            }
            self.maybe_auto_snapshot();
        }
    }

    /// Writes, syncs and applies one batch. On an I/O error every caller of
    /// the batch gets the error and the returned string fails the store.
    #[allow(clippy::type_complexity)]
    fn commit(
        &mut self,
        proposals: Vec<(S::Command, Vec<u8>, Reply<Result<S::Output, StoreError>>)>,
    ) -> Result<(), String> {
        let batch_start = self.next_index;
        self.buf.clear();
        let mut opened_new = false;
        let roll = match &self.segment {
            None => true,
            Some(seg) => seg.len >= self.core.opts.segment_max_bytes,
        };
        if roll {
            self.segment = None;
            let path = self.core.dir.join(format::segment_name(batch_start));
            match create_new_private(&path) {
                Ok(file) => {
                    self.buf
                        .extend_from_slice(&format::segment_header(batch_start));
                    opened_new = true;
                    self.segment = Some(ActiveSegment { path, file, len: 0 });
                }
                Err(e) => return Err(self.fail_batch(proposals, e)),
            }
        }
        let mut index = batch_start;
        for (_, payload, _) in &proposals {
            format::encode_record(&mut self.buf, index, batch_start, payload);
            index += 1;
        }
        let io = match self.segment.as_mut() {
            Some(seg) => seg
                .file
                .write_all(&self.buf)
                .map_err(|e| StoreError::io("write log segment", &seg.path, e))
                .and_then(|()| {
                    seg.file
                        .sync_data()
                        .map_err(|e| StoreError::io("fdatasync log segment", &seg.path, e))
                }),
            None => Err(StoreError::Closed),
        };
        if let Err(e) = io {
            return Err(self.fail_batch(proposals, e));
        }
        self.core.metrics.fsyncs.fetch_add(1, Ordering::Relaxed);
        if opened_new {
            if let Err(e) = sync_dir(&self.core.dir) {
                return Err(self.fail_batch(proposals, e));
            }
            self.core.metrics.dir_syncs.fetch_add(1, Ordering::Relaxed);
        }
        let n = proposals.len() as u64;
        let written = self.buf.len() as u64;
        if let Some(seg) = self.segment.as_mut() {
            seg.len += written;
        }
        self.next_index = index;
        self.entries_since_snapshot += n;
        self.log_bytes_since_snapshot += written;
        let m = &self.core.metrics;
        m.records_written.fetch_add(n, Ordering::Relaxed);
        m.batches.fetch_add(1, Ordering::Relaxed);
        m.bytes_written.fetch_add(written, Ordering::Relaxed);
        m.max_batch.fetch_max(n, Ordering::Relaxed);

        // Apply in order, publish, answer.
        let last = index - 1;
        let mut outputs = Vec::with_capacity(proposals.len());
        {
            let mut sm = self.core.state.write();
            for (i, (cmd, _, reply)) in (batch_start..).zip(proposals) {
                outputs.push((sm.apply(i, &cmd), reply));
            }
            self.core.last_applied.store(last, Ordering::Release);
        }
        self.core.watch.send_replace(last);
        for (out, reply) in outputs {
            reply.send(Ok(out));
        }
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn fail_batch(
        &mut self,
        proposals: Vec<(S::Command, Vec<u8>, Reply<Result<S::Output, StoreError>>)>,
        err: StoreError,
    ) -> String {
        tracing::error!(dir = %self.core.dir.display(), error = %err, "log write failed; store is now failed");
        let reason = err.to_string();
        // Make no further use of the segment: its tail is in an unknown state.
        self.segment = None;
        for (_, _, reply) in proposals {
            let e = match &err {
                StoreError::Io { op, path, source } => StoreError::Io {
                    op,
                    path: path.clone(),
                    source: copy_io_error(source),
                },
                _ => StoreError::Failed {
                    reason: reason.clone(),
                },
            };
            reply.send(Err(e));
        }
        reason
    }

    fn maybe_auto_snapshot(&mut self) {
        let o = &self.core.opts;
        let due = (o.snapshot_every_entries > 0
            && self.entries_since_snapshot >= o.snapshot_every_entries)
            || (o.snapshot_log_bytes > 0 && self.log_bytes_since_snapshot >= o.snapshot_log_bytes);
        if due && !self.snap_in_progress.load(Ordering::Acquire) {
            self.start_snapshot(None);
        }
    }

    fn start_snapshot(&mut self, reply: Option<Reply<Result<(), StoreError>>>) {
        // Close the segment: everything <= index is now in closed segments,
        // which the snapshot thread may delete once the snapshot is durable.
        self.segment = None;
        let index = self.next_index - 1;
        let bytes = match self.core.state.read().snapshot() {
            Ok(b) => b,
            Err(source) => {
                let e = StoreError::Snapshot { source };
                tracing::warn!(index, error = %e, "snapshot skipped");
                if let Some(r) = reply {
                    r.send(Err(e));
                }
                // Do not retry on every batch; wait for the next threshold.
                self.entries_since_snapshot = 0;
                self.log_bytes_since_snapshot = 0;
                return;
            }
        };
        self.entries_since_snapshot = 0;
        self.log_bytes_since_snapshot = 0;
        self.snap_in_progress.store(true, Ordering::Release);
        let job = SnapJob {
            index,
            bytes,
            reply,
        };
        let sent = match &self.snap_tx {
            Some(tx) => tx.send(job).map_err(|e| e.0),
            None => Err(job),
        };
        if let Err(job) = sent {
            self.snap_in_progress.store(false, Ordering::Release);
            if let Some(r) = job.reply {
                r.send(Err(StoreError::Closed));
            }
        }
    }
}

/// Writes a snapshot durably, then removes what it supersedes.
fn write_snapshot<S: StateMachine>(
    core: &Core<S>,
    index: u64,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let dir = &core.dir;
    let name = format::snapshot_name(index);
    let final_path = dir.join(&name);
    let tmp_path = dir.join(format!("{name}{}", format::TEMP_SUFFIX));
    let mut f = create_truncate_private(&tmp_path)?;
    f.write_all(&format::snapshot_header(index, bytes))
        .and_then(|()| f.write_all(bytes))
        .and_then(|()| f.sync_all())
        .map_err(|e| StoreError::io("write snapshot", &tmp_path, e))?;
    drop(f);
    fs::rename(&tmp_path, &final_path)
        .map_err(|e| StoreError::io("rename snapshot into place", &final_path, e))?;
    sync_dir(dir)?;
    core.metrics
        .snapshots_written
        .fetch_add(1, Ordering::Relaxed);
    core.metrics.dir_syncs.fetch_add(1, Ordering::Relaxed);

    // The new snapshot is durable: older snapshots and covered segments go.
    let mut removed = false;
    let rd = fs::read_dir(dir).map_err(|e| StoreError::io("list store directory", dir, e))?;
    for ent in rd {
        let ent = ent.map_err(|e| StoreError::io("list store directory", dir, e))?;
        let Some(fname) = ent.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let obsolete = match (
            format::parse_snapshot_name(&fname),
            format::parse_segment_name(&fname),
        ) {
            (Some(i), _) => i < index,
            (_, Some(first)) => first <= index,
            _ => false,
        };
        if obsolete {
            remove_if_exists(&ent.path())?;
            removed = true;
        }
    }
    if removed {
        sync_dir(dir)?;
        core.metrics.dir_syncs.fetch_add(1, Ordering::Relaxed);
    }
    tracing::debug!(index, bytes = bytes.len(), "snapshot written");
    Ok(())
}
