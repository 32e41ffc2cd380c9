//! Crash safety under a real `kill -9`.
//!
//! The test binary re-executes itself as a child running the ignored test
//! `crash_child`, which proposes in a loop from several concurrent writers
//! (with tiny segments and frequent snapshots, so kills also land during
//! segment rolls and snapshot writes) and prints `ACK <writer> <seq>
//! <index>` after each acknowledged proposal. The parent SIGKILLs it at a
//! random moment, reopens the store and checks that every acknowledged
//! entry is present at its index and that the state is consistent.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ganeti_store::{BoxError, StateMachine, Store, StoreOptions};
use serde::{Deserialize, Serialize};

const DIR_ENV: &str = "GANETI_STORE_CRASH_DIR";
const ITER_ENV: &str = "GANETI_STORE_CRASH_ITER";
const WRITERS: u64 = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    writer: u64,
    seq: u64,
    /// Padding so segments fill up and roll.
    pad: String,
}

/// Every applied entry, in order, plus per-writer progress.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    entries: Vec<(u64, u64, u64)>, // (index, writer, seq)
    next_seq: BTreeMap<u64, u64>,
    /// Entries whose seq was not the writer's next one: must stay 0.
    out_of_order: u64,
}

impl StateMachine for Journal {
    type Command = Entry;
    type Output = u64;
    fn apply(&mut self, index: u64, e: &Entry) -> u64 {
        let next = self.next_seq.entry(e.writer).or_insert(0);
        if e.seq != *next {
            self.out_of_order += 1;
        }
        *next = e.seq + 1;
        self.entries.push((index, e.writer, e.seq));
        index
    }
    fn snapshot(&self) -> Result<Vec<u8>, BoxError> {
        Ok(serde_json::to_vec(self)?)
    }
    fn restore(bytes: &[u8]) -> Result<Self, BoxError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

fn child_options() -> StoreOptions {
    StoreOptions {
        snapshot_every_entries: 40,
        segment_max_bytes: 8 * 1024,
        ..StoreOptions::default()
    }
}

#[test]
#[ignore = "child process of kill9_at_random_moments_loses_no_acknowledged_entry"]
fn crash_child() {
    let Ok(dir) = std::env::var(DIR_ENV) else {
        panic!("{DIR_ENV} not set: this test only runs as a child of the crash test");
    };
    let iter: u64 = std::env::var(ITER_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let store: Store<Journal> =
        Store::open_with_options(Path::new(&dir), child_options(), Journal::default)
            .expect("child open");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let store = store.clone();
            let writer = iter * 1000 + w;
            tasks.push(tokio::spawn(async move {
                // Bounded: stops by itself if nobody kills it.
                let deadline = Instant::now() + Duration::from_secs(60);
                let mut seq = 0;
                while Instant::now() < deadline {
                    let entry = Entry {
                        writer,
                        seq,
                        pad: "p".repeat(40 + (seq % 7) as usize * 20),
                    };
                    let index = store.propose(entry).await.expect("propose");
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {writer} {seq} {index}").expect("stdout");
                    out.flush().expect("flush");
                    seq += 1;
                }
            }));
        }
        // A blocking proposer too, on its own thread.
        let s = store.clone();
        let writer = iter * 1000 + WRITERS;
        let blocking = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut seq = 0;
            while Instant::now() < deadline {
                let entry = Entry {
                    writer,
                    seq,
                    pad: String::new(),
                };
                let index = s.propose_blocking(entry).expect("propose");
                let mut out = std::io::stdout().lock();
                writeln!(out, "ACK {writer} {seq} {index}").expect("stdout");
                out.flush().expect("flush");
                seq += 1;
            }
        });
        for t in tasks {
            t.await.expect("join");
        }
        blocking.join().expect("join");
    });
}

/// xorshift seeded from the clock: a different kill moment every run.
struct Rng(u64);
impl Rng {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9);
        Rng(nanos | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn run_child_and_kill(dir: &Path, iter: u64, kill_after: Duration) -> Vec<(u64, u64, u64)> {
    let exe: PathBuf = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_ENV, dir)
        .env(ITER_ENV, iter.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Some(rest) = line.strip_prefix("ACK ") else {
                continue;
            };
            let nums: Vec<u64> = rest
                .split(' ')
                .map(|n| n.parse().expect("ack number"))
                .collect();
            assert_eq!(nums.len(), 3, "bad ack line {line:?}");
            if acks.is_empty() {
                let _ = tx.send(());
            }
            acks.push((nums[0], nums[1], nums[2]));
        }
        acks
    });
    // Wait for the first acknowledgement (the child is up), then kill at a
    // random moment after it.
    rx.recv_timeout(Duration::from_secs(60))
        .expect("child acknowledged nothing within 60 s");
    std::thread::sleep(kill_after);
    child.kill().expect("SIGKILL child");
    let status = child.wait().expect("wait child");
    assert!(
        !status.success(),
        "child must have died by the signal: {status:?}"
    );
    reader.join().expect("reader")
}

#[test]
fn kill9_at_random_moments_loses_no_acknowledged_entry() {
    let tmp = common::tempdir();
    let dir = tmp.path().join("store");
    let mut rng = Rng::new();
    let mut all_acks: Vec<(u64, u64, u64)> = Vec::new();
    let mut prev_last = 0;
    for iter in 0..6 {
        let kill_after = Duration::from_millis(rng.next() % 400);
        let acks = run_child_and_kill(&dir, iter, kill_after);
        all_acks.extend_from_slice(&acks);
        let leftover_tmp = std::fs::read_dir(&dir)
            .expect("ls")
            .filter(|e| {
                e.as_ref()
                    .map(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                    .unwrap_or(false)
            })
            .count();

        let store: Store<Journal> =
            Store::open_with_options(&dir, child_options(), Journal::default)
                .unwrap_or_else(|e| panic!("iteration {iter}: reopen after kill -9 failed: {e}"));
        let last = store.last_applied();
        store.read(|j| {
            // Contiguous indexes 1..=last, applied in order, nothing lost.
            assert_eq!(j.entries.len() as u64, last, "iteration {iter}");
            for (i, (index, _, _)) in j.entries.iter().enumerate() {
                assert_eq!(*index, i as u64 + 1, "iteration {iter}");
            }
            assert_eq!(
                j.out_of_order, 0,
                "iteration {iter}: a writer's entries out of order"
            );
            // Every acknowledged entry, from this and all earlier runs, is
            // present at the index it was acknowledged with.
            for (writer, seq, index) in &all_acks {
                assert!(
                    *index <= last,
                    "iteration {iter}: ack of index {index} lost (last {last})"
                );
                let (_, w, s) = j.entries[(*index - 1) as usize];
                assert_eq!(
                    (w, s),
                    (*writer, *seq),
                    "iteration {iter}: wrong entry at {index}"
                );
            }
        });
        assert!(last >= prev_last, "iteration {iter}: state went backwards");
        assert!(
            acks.iter().all(|a| a.2 <= last),
            "iteration {iter}: acked beyond the recovered log"
        );
        eprintln!(
            "iteration {iter}: killed after {kill_after:?}, {} acks, last applied {last}, \
             {leftover_tmp} half-written snapshot(s) found, {} snapshot file(s) after reopen",
            acks.len(),
            common::files_with(&dir, "snapshot-").len()
        );
        prev_last = last;
        drop(store);
    }
    assert!(
        all_acks.len() > 100,
        "the children made too little progress to test anything: {}",
        all_acks.len()
    );
}
