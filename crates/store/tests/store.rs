//! End-to-end tests of the store on real files.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::*;
use ganeti_store::{BoxError, StateMachine, Store, StoreError, StoreOptions};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn propose_read_reopen_round_trip() {
    let tmp = tempdir();
    let dir = tmp.path().join("store");
    let store = open(&dir);
    assert_eq!(store.last_applied(), 0);
    let rt = rt();
    rt.block_on(async {
        assert_eq!(store.propose(put("a", 1)).await.expect("propose"), Ok(1));
        assert_eq!(store.propose(put("b", 2)).await.expect("propose"), Ok(2));
        // A refused command is an Ok(Err(..)) from the store: logged, applied, refused.
        let refused = store
            .propose(Cmd::PutIfSerial {
                key: "c".into(),
                value: 3,
                serial: 0,
            })
            .await
            .expect("propose");
        assert_eq!(refused, Err("serial mismatch: 0 != 2".into()));
        let ok = store
            .propose(Cmd::PutIfSerial {
                key: "c".into(),
                value: 3,
                serial: 2,
            })
            .await
            .expect("propose");
        assert_eq!(ok, Ok(3));
    });
    assert_eq!(store.last_applied(), 4);
    let before = store.read(|s| s.clone());
    assert_eq!(before.map.len(), 3);
    assert_eq!(store.read_at(|s, i| (s.last_index, i)), (4, 4));
    drop(store);

    let store = open(&dir);
    assert_eq!(store.last_applied(), 4);
    assert_eq!(store.read(|s| s.clone()), before);
    assert_eq!(store.propose_blocking(put("d", 4)).expect("propose"), Ok(4));
    assert_eq!(store.last_applied(), 5);
    drop(store);
    let store = open(&dir);
    assert_eq!(
        store.read(|s| (s.serial, s.last_index, s.index_gaps)),
        (4, 5, 0)
    );
}

#[test]
fn new_store_uses_init_and_files_are_private() {
    let tmp = tempdir();
    let dir = tmp.path().join("private");
    let store = Store::open(&dir, || Kv {
        serial: 100,
        ..Kv::default()
    })
    .expect("open");
    assert_eq!(store.read(|s| s.serial), 100);
    store
        .propose_blocking(put("x", 1))
        .expect("propose")
        .expect("applied");
    store.snapshot_now().expect("snapshot");
    store
        .propose_blocking(put("y", 1))
        .expect("propose")
        .expect("applied");
    let mode = |p: &std::path::Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let entries: Vec<_> = fs::read_dir(&dir)
        .expect("ls")
        .map(|e| e.expect("e").path())
        .collect();
    assert!(entries.len() >= 3, "{entries:?}");
    for p in entries {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(store);
    // init is not used when there is state on disk.
    let store = Store::open(&dir, || -> Kv { panic!("init must not be called") }).expect("open");
    assert_eq!(store.read(|s| s.serial), 102);
}

#[test]
fn snapshot_then_more_entries_then_reopen() {
    let tmp = tempdir();
    let dir = tmp.path();
    let store = open(dir);
    for i in 0..20 {
        store
            .propose_blocking(put(&format!("k{i}"), i))
            .expect("propose")
            .expect("applied");
    }
    store.snapshot_now().expect("snapshot");
    assert_eq!(store.metrics().snapshots_written, 1);
    let snaps = files_with(dir, "snapshot-");
    assert_eq!(snaps.len(), 1);
    assert!(snaps[0].ends_with("snapshot-00000000000000000020.snap"));
    // The segments holding 1..=20 are gone.
    assert!(
        files_with(dir, "log-").is_empty(),
        "{:?}",
        files_with(dir, "log-")
    );
    for i in 20..30 {
        store
            .propose_blocking(put(&format!("k{i}"), i))
            .expect("propose")
            .expect("applied");
    }
    let segs = files_with(dir, "log-");
    assert_eq!(segs.len(), 1);
    assert!(segs[0].ends_with("log-00000000000000000021.seg"));
    // A second snapshot replaces the first.
    store.snapshot_now().expect("snapshot");
    store
        .propose_blocking(put("last", 1))
        .expect("propose")
        .expect("applied");
    let want = store.read(|s| s.clone());
    drop(store);
    let snaps = files_with(dir, "snapshot-");
    assert_eq!(snaps.len(), 1);
    assert!(snaps[0].ends_with("snapshot-00000000000000000030.snap"));

    let store = open(dir);
    assert_eq!(store.last_applied(), 31);
    assert_eq!(store.read(|s| s.clone()), want);
    assert_eq!(want.index_gaps, 0);
    assert_eq!(want.map.len(), 31);
}

#[test]
fn snapshot_now_twice_without_new_entries() {
    let tmp = tempdir();
    let store = open(tmp.path());
    store.snapshot_now().expect("empty snapshot");
    store
        .propose_blocking(put("a", 1))
        .expect("propose")
        .expect("applied");
    store.snapshot_now().expect("snapshot");
    store.snapshot_now().expect("same index again");
    drop(store);
    let store = open(tmp.path());
    assert_eq!(store.last_applied(), 1);
    assert_eq!(store.read(|s| s.map.get("a").copied()), Some(1));
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn automatic_snapshot_by_entry_count() {
    let tmp = tempdir();
    let dir = tmp.path();
    let opts = StoreOptions {
        snapshot_every_entries: 50,
        ..StoreOptions::default()
    };
    let store = open_opts(dir, opts.clone());
    // One command per batch, and each snapshot waited for, so the snapshot
    // points are exact. (A snapshot that falls due while the previous one
    // is still being written is taken after the next batch instead.)
    for round in 1..=3u64 {
        for i in 0..50 {
            store
                .propose_blocking(put(&format!("k{round}-{i}"), i))
                .expect("propose")
                .expect("applied");
        }
        wait_until("snapshot", || store.metrics().snapshots_written >= round);
        let want = dir.join(format!("snapshot-{:020}.snap", round * 50));
        wait_until("old files removed", || {
            files_with(dir, "snapshot-") == vec![want.clone()] && files_with(dir, "log-").is_empty()
        });
    }
    for i in 0..25 {
        store
            .propose_blocking(put(&format!("tail{i}"), i))
            .expect("propose")
            .expect("applied");
    }
    assert_eq!(store.metrics().snapshots_written, 3);
    assert_eq!(
        files_with(dir, "log-"),
        vec![dir.join("log-00000000000000000151.seg")]
    );
    let want = store.read(|s| s.clone());
    drop(store);
    let store = open_opts(dir, opts);
    assert_eq!(store.last_applied(), 175);
    assert_eq!(store.read(|s| s.clone()), want);
    assert_eq!(want.index_gaps, 0);
}

#[test]
fn automatic_snapshot_by_log_bytes_and_segment_rolling() {
    let tmp = tempdir();
    let dir = tmp.path();
    let opts = StoreOptions {
        snapshot_every_entries: 0,
        snapshot_log_bytes: 20_000,
        segment_max_bytes: 2_000,
        ..StoreOptions::default()
    };
    let store = open_opts(dir, opts.clone());
    let blob = "x".repeat(500);
    for _ in 0..30 {
        store
            .propose_blocking(Cmd::Blob { data: blob.clone() })
            .expect("propose")
            .expect("applied");
    }
    // ~530 bytes per record: a segment holds 4, a snapshot every ~38 records.
    assert!(store.metrics().snapshots_written == 0);
    assert!(
        files_with(dir, "log-").len() >= 7,
        "{:?}",
        files_with(dir, "log-")
    );
    for _ in 0..20 {
        store
            .propose_blocking(Cmd::Blob { data: blob.clone() })
            .expect("propose")
            .expect("applied");
    }
    wait_until("size-triggered snapshot", || {
        store.metrics().snapshots_written >= 1
    });
    drop(store);
    let store = open_opts(dir, opts);
    assert_eq!(store.last_applied(), 50);
    assert_eq!(store.read(|s| (s.blobs, s.index_gaps)), (50, 0));
}

/// Writes five entries, one batch each, and returns (segment path, bytes,
/// record offsets).
fn five_entry_log(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>, Vec<usize>) {
    let store = open(dir);
    for i in 1..=5 {
        store
            .propose_blocking(put(&format!("k{i}"), i))
            .expect("propose")
            .expect("applied");
    }
    drop(store);
    let segs = files_with(dir, "log-");
    assert_eq!(segs.len(), 1);
    let bytes = fs::read(&segs[0]).expect("read");
    let offs = record_offsets(&bytes);
    assert_eq!(offs.len(), 5);
    (segs[0].clone(), bytes, offs)
}

#[test]
fn torn_tail_at_every_byte_offset_is_truncated() {
    init_tracing();
    let tmp = tempdir();
    let base = tmp.path().join("base");
    let (seg, bytes, offs) = five_entry_log(&base);
    let seg_name = seg.file_name().expect("name").to_owned();
    let last = offs[4];
    for cut in last..bytes.len() {
        let d = tmp.path().join(format!("cut{cut}"));
        copy_dir(&base, &d);
        let f = fs::OpenOptions::new()
            .write(true)
            .open(d.join(&seg_name))
            .expect("open seg");
        f.set_len(cut as u64).expect("truncate");
        drop(f);
        let store = open(&d);
        assert_eq!(store.last_applied(), 4, "cut at {cut}");
        assert_eq!(store.read(|s| s.map.len()), 4);
        assert_eq!(
            fs::metadata(d.join(&seg_name)).expect("stat").len(),
            last as u64,
            "torn bytes removed (cut at {cut})"
        );
        // The log continues cleanly after the cut.
        assert_eq!(
            store.propose_blocking(put("again", 9)).expect("propose"),
            Ok(5)
        );
        drop(store);
        let store = open(&d);
        assert_eq!(store.last_applied(), 5);
        assert_eq!(
            store.read(|s| (s.map.get("again").copied(), s.index_gaps)),
            (Some(9), 0)
        );
        drop(store);
        fs::remove_dir_all(&d).expect("cleanup");
    }
}

#[test]
fn flipped_byte_in_a_middle_record_is_a_hard_error() {
    let tmp = tempdir();
    let base = tmp.path().join("base");
    let (seg, bytes, offs) = five_entry_log(&base);
    let seg_name = seg.file_name().expect("name").to_owned();
    // Every byte of record 2 (header and payload): length, crc, index,
    // batch start, payload.
    for pos in offs[1]..offs[2] {
        let d = tmp.path().join(format!("flip{pos}"));
        copy_dir(&base, &d);
        let mut b = bytes.clone();
        b[pos] ^= 0x01;
        fs::write(d.join(&seg_name), &b).expect("write");
        match Store::open(&d, Kv::default) {
            Err(StoreError::CorruptLog {
                file,
                offset,
                reason,
            }) => {
                assert_eq!(file, d.join(&seg_name), "flip at {pos}");
                assert_eq!(offset, offs[1] as u64, "flip at {pos}: {reason}");
                let msg = StoreError::CorruptLog {
                    file: file.clone(),
                    offset,
                    reason: reason.clone(),
                }
                .to_string();
                assert!(msg.contains("log-00000000000000000001.seg"), "{msg}");
                assert!(msg.contains(&format!("offset {}", offs[1])), "{msg}");
            }
            other => panic!("flip at {pos}: expected CorruptLog, got {other:?}"),
        }
        // Nothing was "repaired": the file is untouched.
        assert_eq!(fs::read(d.join(&seg_name)).expect("read"), b);
        fs::remove_dir_all(&d).expect("cleanup");
    }
}

#[test]
fn corruption_in_a_closed_segment_is_a_hard_error() {
    let tmp = tempdir();
    let dir = tmp.path();
    let opts = StoreOptions {
        segment_max_bytes: 100,
        ..StoreOptions::default()
    };
    let store = open_opts(dir, opts.clone());
    for i in 0..6 {
        store
            .propose_blocking(put(&format!("k{i}"), i))
            .expect("propose")
            .expect("applied");
    }
    drop(store);
    let segs = files_with(dir, "log-");
    assert!(segs.len() >= 3, "{segs:?}");
    // Truncating a closed segment is not a torn tail.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(&segs[0])
        .expect("open");
    let len = f.metadata().expect("stat").len();
    f.set_len(len - 3).expect("truncate");
    drop(f);
    match Store::open_with_options(dir, opts, Kv::default) {
        Err(StoreError::CorruptLog { file, reason, .. }) => {
            assert_eq!(file, segs[0]);
            assert!(reason.contains("closed segment"), "{reason}");
        }
        other => panic!("expected CorruptLog, got {other:?}"),
    }
}

#[test]
fn missing_segment_is_a_hard_error() {
    let tmp = tempdir();
    let dir = tmp.path();
    let opts = StoreOptions {
        segment_max_bytes: 100,
        ..StoreOptions::default()
    };
    let store = open_opts(dir, opts.clone());
    for i in 0..6 {
        store
            .propose_blocking(put(&format!("k{i}"), i))
            .expect("propose")
            .expect("applied");
    }
    drop(store);
    let segs = files_with(dir, "log-");
    assert!(segs.len() >= 3, "{segs:?}");
    fs::remove_file(&segs[1]).expect("rm");
    let err = Store::open_with_options(dir, opts.clone(), Kv::default).expect_err("gap");
    assert!(
        matches!(&err, StoreError::CorruptLog { file, .. } if *file == segs[2]),
        "{err}"
    );
    assert!(err.to_string().contains("previous segment ends"), "{err}");
    // Losing the first segment (no snapshot) is a gap too.
    fs::remove_file(&segs[0]).expect("rm");
    let err = Store::open_with_options(dir, opts, Kv::default).expect_err("gap");
    assert!(err.to_string().contains("are missing"), "{err}");
}

#[test]
fn damaged_snapshot_is_a_hard_error() {
    let tmp = tempdir();
    let dir = tmp.path();
    let store = open(dir);
    store
        .propose_blocking(put("a", 1))
        .expect("propose")
        .expect("applied");
    store.snapshot_now().expect("snapshot");
    drop(store);
    let snap = files_with(dir, "snapshot-").pop().expect("snapshot file");
    let mut b = fs::read(&snap).expect("read");
    let last = b.len() - 2;
    b[last] ^= 0xff;
    fs::write(&snap, &b).expect("write");
    match Store::open(dir, Kv::default) {
        Err(StoreError::CorruptSnapshot { file, reason }) => {
            assert_eq!(file, snap);
            assert!(reason.contains("CRC"), "{reason}");
        }
        other => panic!("expected CorruptSnapshot, got {other:?}"),
    }
}

/// A state machine whose restore always fails.
struct Unrestorable;
impl StateMachine for Unrestorable {
    type Command = Cmd;
    type Output = ();
    fn apply(&mut self, _: u64, _: &Cmd) {}
    fn snapshot(&self) -> Result<Vec<u8>, BoxError> {
        Ok(b"not json".to_vec())
    }
    fn restore(_: &[u8]) -> Result<Self, BoxError> {
        Err("refusing".into())
    }
}

#[test]
fn restore_failure_names_the_snapshot() {
    let tmp = tempdir();
    let store = Store::open(tmp.path(), || Unrestorable).expect("open");
    store.snapshot_now().expect("snapshot");
    drop(store);
    match Store::open(tmp.path(), || Unrestorable) {
        Err(StoreError::Restore { file, source }) => {
            assert!(file.ends_with("snapshot-00000000000000000000.snap"));
            assert_eq!(source.to_string(), "refusing");
        }
        other => panic!("expected Restore error, got {other:?}"),
    }
}

/// A state machine with a different command type, to provoke decode errors.
#[derive(Default)]
struct Counter(u64);
impl StateMachine for Counter {
    type Command = u64;
    type Output = u64;
    fn apply(&mut self, _: u64, cmd: &u64) -> u64 {
        self.0 += cmd;
        self.0
    }
    fn snapshot(&self) -> Result<Vec<u8>, BoxError> {
        Ok(self.0.to_le_bytes().to_vec())
    }
    fn restore(b: &[u8]) -> Result<Self, BoxError> {
        Ok(Counter(u64::from_le_bytes(b.try_into()?)))
    }
}

#[test]
fn undecodable_command_names_index_and_file() {
    let tmp = tempdir();
    let store = open(tmp.path());
    store
        .propose_blocking(put("a", 1))
        .expect("propose")
        .expect("applied");
    drop(store);
    match Store::open(tmp.path(), Counter::default) {
        Err(StoreError::Decode {
            file,
            offset,
            index,
            ..
        }) => {
            assert!(file.ends_with("log-00000000000000000001.seg"));
            assert_eq!((offset, index), (16, 1));
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[test]
fn leftover_temp_file_is_removed() {
    let tmp = tempdir();
    let store = open(tmp.path());
    store
        .propose_blocking(put("a", 1))
        .expect("propose")
        .expect("applied");
    drop(store);
    let junk = tmp.path().join("snapshot-00000000000000000001.snap.tmp");
    fs::write(&junk, b"half a snapshot").expect("write");
    let store = open(tmp.path());
    assert!(!junk.exists());
    assert_eq!(store.last_applied(), 1);
}

#[test]
fn second_open_of_the_same_dir_is_locked() {
    let tmp = tempdir();
    let store = open(tmp.path());
    match Store::open(tmp.path(), Kv::default) {
        Err(StoreError::Locked { dir, pid }) => {
            assert_eq!(dir, tmp.path());
            assert_eq!(pid, Some(std::process::id()));
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    // A clone shares the lock; only dropping the last one releases it.
    let clone = store.clone();
    drop(store);
    assert!(matches!(
        Store::open(tmp.path(), Kv::default),
        Err(StoreError::Locked { .. })
    ));
    drop(clone);
    open(tmp.path());
}

#[test]
fn group_commit_shares_fsyncs_between_200_async_proposers() {
    let tmp = tempdir();
    let store = open(tmp.path());
    let rt = rt();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.propose(put(&format!("k{i}"), i)).await
            }));
        }
        for t in tasks {
            assert!(t.await.expect("join").expect("propose").is_ok());
        }
    });
    let m = store.metrics();
    assert_eq!(m.records_written, 200);
    assert_eq!(store.last_applied(), 200);
    assert!(m.fsyncs < 200, "no batching at all: {m:?}");
    assert_eq!(m.fsyncs, m.batches);
    assert!(m.max_batch > 1, "{m:?}");
    assert_eq!(store.read(|s| (s.map.len(), s.index_gaps)), (200, 0));
}

#[test]
fn group_commit_batches_everything_queued_during_a_commit() {
    // Deterministic: hold the read lock so the writer stalls after its first
    // sync; all other 199 proposals queue up meanwhile and must go out in
    // (nearly) one batch.
    let tmp = tempdir();
    let store = open(tmp.path());
    let start = Arc::new(Barrier::new(201));
    let mut threads = Vec::new();
    store.read(|_| {
        for i in 0..200u64 {
            let s = store.clone();
            let b = Arc::clone(&start);
            threads.push(std::thread::spawn(move || {
                b.wait();
                s.propose_blocking(put(&format!("k{i}"), i))
            }));
        }
        start.wait();
        wait_until("200 submissions", || store.metrics().submitted == 200);
    });
    for t in threads {
        assert!(t.join().expect("join").expect("propose").is_ok());
    }
    let m = store.metrics();
    assert_eq!(m.records_written, 200);
    // The writer may take part of the queue before it stalls on the lock;
    // whatever queued behind it goes out in one more commit.
    assert!(m.fsyncs <= 3, "expected 2-3 group commits, got {m:?}");
    assert!(m.max_batch >= 67, "{m:?}");
}

#[test]
fn subscribe_sees_applied_index() {
    let tmp = tempdir();
    let store = open(tmp.path());
    let rt = rt();
    rt.block_on(async {
        let mut rx = store.subscribe();
        assert_eq!(*rx.borrow_and_update(), 0);
        let s = store.clone();
        let waiter = tokio::spawn(async move {
            let mut rx = s.subscribe();
            let v = *rx.wait_for(|i| *i >= 3).await.expect("watch");
            v
        });
        for i in 0..3 {
            store
                .propose(put("k", i))
                .await
                .expect("propose")
                .expect("ok");
        }
        let seen = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("waiter finished")
            .expect("join");
        assert_eq!(seen, 3);
        rx.changed().await.expect("changed");
        assert_eq!(*rx.borrow(), 3);
    });
}

#[test]
fn oversized_command_is_refused_before_logging() {
    let tmp = tempdir();
    let opts = StoreOptions {
        max_record_bytes: 1000,
        ..StoreOptions::default()
    };
    let store = open_opts(tmp.path(), opts);
    let err = store
        .propose_blocking(Cmd::Blob {
            data: "y".repeat(2000),
        })
        .expect_err("too large");
    assert!(
        matches!(err, StoreError::RecordTooLarge { limit: 1000, size } if size > 2000),
        "{err}"
    );
    assert_eq!(store.last_applied(), 0);
    assert_eq!(store.metrics().submitted, 0);
    store
        .propose_blocking(put("fine", 1))
        .expect("small one goes through")
        .expect("applied");
}

#[test]
fn panicking_apply_fails_the_store_instead_of_hanging() {
    let tmp = tempdir();
    let store = open(tmp.path());
    store
        .propose_blocking(put("a", 1))
        .expect("propose")
        .expect("applied");
    let err = store.propose_blocking(Cmd::Panic).expect_err("writer died");
    assert!(matches!(err, StoreError::Closed), "{err}");
    let err = store
        .propose_blocking(put("b", 2))
        .expect_err("failed store");
    assert!(matches!(err, StoreError::Failed { .. }), "{err}");
    assert!(err.to_string().contains("panicked"), "{err}");
    let err = store.snapshot_now().expect_err("failed store");
    assert!(matches!(err, StoreError::Failed { .. }), "{err}");
    // The state from before is still readable.
    assert_eq!(store.read(|s| s.map.get("a").copied()), Some(1));
}
