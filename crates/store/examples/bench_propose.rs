//! Durable proposals per second with 1 and 64 concurrent proposers.
//!
//! Run: `cargo run --release -p ganeti-store --example bench_propose [DIR] [SECONDS]`
//! DIR must be on a real disk (not tmpfs) for the numbers to mean anything;
//! by default a temp dir is made under the system temp directory. Each
//! command is a ~250-byte JSON job update, the kind of entry the job queue
//! writes most.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ganeti_store::{BoxError, StateMachine, Store, StoreOptions};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct JobUpdate {
    job_id: u64,
    status: String,
    op_index: u32,
    log_line: String,
    timestamp: (u64, u64),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Jobs {
    status: std::collections::HashMap<u64, String>,
    log_lines: u64,
}

impl StateMachine for Jobs {
    type Command = JobUpdate;
    type Output = u64;
    fn apply(&mut self, index: u64, cmd: &JobUpdate) -> u64 {
        self.status.insert(cmd.job_id % 10_000, cmd.status.clone());
        self.log_lines += 1;
        index
    }
    fn snapshot(&self) -> Result<Vec<u8>, BoxError> {
        Ok(serde_json::to_vec(self)?)
    }
    fn restore(bytes: &[u8]) -> Result<Self, BoxError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

fn cmd(job_id: u64) -> JobUpdate {
    JobUpdate {
        job_id,
        status: "running".into(),
        op_index: 0,
        log_line: "Waiting for instance inst1.example.com to sync disks; disk/0 sync 42.5% done, estimated time remaining 19 sec".into(),
        timestamp: (1_700_000_000 + job_id, 123_456),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn run(store: &Store<Jobs>, proposers: usize, secs: f64) {
    let before = store.metrics();
    let lat = Arc::new(Mutex::new(Vec::<Duration>::new()));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for p in 0..proposers {
        let store = store.clone();
        let lat = Arc::clone(&lat);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut n = p as u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                store.propose(cmd(n)).await.expect("propose");
                mine.push(t.elapsed());
                n += proposers as u64;
            }
            lat.lock().extend(mine);
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    let elapsed = start.elapsed();
    let after = store.metrics();
    let mut l = lat.lock().clone();
    l.sort();
    let n = l.len();
    let fsyncs = after.fsyncs - before.fsyncs;
    println!(
        "{proposers:>3} proposers: {n:>7} proposals in {:.2}s = {:>8.0}/s  p50 {:>7.3} ms  p99 {:>7.3} ms  fsyncs {fsyncs} (avg batch {:.1}, max {})  snapshots {}",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64(),
        percentile(&l, 0.50).as_secs_f64() * 1e3,
        percentile(&l, 0.99).as_secs_f64() * 1e3,
        n as f64 / fsyncs.max(1) as f64,
        after.max_batch,
        after.snapshots_written - before.snapshots_written,
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let keep;
    let dir: PathBuf = match args.next() {
        Some(d) => {
            keep = None;
            PathBuf::from(d)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("bench-propose-")
                .tempdir()
                .expect("tempdir");
            let p = t.path().join("store");
            keep = Some(t);
            p
        }
    };
    let secs: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    println!("store dir: {} ({} s per run)", dir.display(), secs);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store: Store<Jobs> =
        Store::open_with_options(&dir, StoreOptions::default(), Jobs::default).expect("open");
    rt.block_on(async {
        run(&store, 1, secs).await;
        run(&store, 64, secs).await;
    });
    let m = store.metrics();
    println!("totals: {m:?}");
    drop(store);
    let t = Instant::now();
    let store: Store<Jobs> = Store::open(&dir, Jobs::default).expect("reopen");
    println!(
        "reopen of a store with {} entries (newest snapshot + log replay): {:.1} ms",
        store.last_applied(),
        t.elapsed().as_secs_f64() * 1e3
    );
    drop(keep);
}
