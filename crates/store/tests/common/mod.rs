//! Test fixtures: a small key/value state machine with a serial number, in
//! the spirit of the config document (writes checked against a serial).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ganeti_store::{BoxError, StateMachine, Store, StoreOptions};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum Cmd {
    Put {
        key: String,
        value: u64,
    },
    /// Put only if the serial is still `serial`.
    PutIfSerial {
        key: String,
        value: u64,
        serial: u64,
    },
    Blob {
        data: String,
    },
    /// Makes `apply` panic (tests the writer's death path).
    Panic,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Kv {
    pub map: BTreeMap<String, u64>,
    pub serial: u64,
    /// Index of the last applied command, as passed to `apply`.
    pub last_index: u64,
    /// Number of times `apply` saw an index that was not last_index + 1.
    pub index_gaps: u64,
    pub blobs: u64,
}

impl StateMachine for Kv {
    type Command = Cmd;
    type Output = Result<u64, String>;

    fn apply(&mut self, index: u64, cmd: &Cmd) -> Self::Output {
        if index != self.last_index + 1 {
            self.index_gaps += 1;
        }
        self.last_index = index;
        match cmd {
            Cmd::Put { key, value } => {
                self.map.insert(key.clone(), *value);
                self.serial += 1;
                Ok(self.serial)
            }
            Cmd::PutIfSerial { key, value, serial } => {
                if *serial != self.serial {
                    return Err(format!("serial mismatch: {} != {}", serial, self.serial));
                }
                self.map.insert(key.clone(), *value);
                self.serial += 1;
                Ok(self.serial)
            }
            Cmd::Blob { .. } => {
                self.blobs += 1;
                Ok(self.serial)
            }
            Cmd::Panic => panic!("test asked apply to panic"),
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, BoxError> {
        Ok(serde_json::to_vec(self)?)
    }

    fn restore(bytes: &[u8]) -> Result<Self, BoxError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

pub fn put(key: &str, value: u64) -> Cmd {
    Cmd::Put {
        key: key.to_string(),
        value,
    }
}

/// A temp dir on the target's file system (a real disk, so fsync costs
/// what it costs).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("store-test-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("create tempdir")
}

pub fn open(dir: &Path) -> Store<Kv> {
    Store::open(dir, Kv::default).expect("open store")
}

pub fn open_opts(dir: &Path, opts: StoreOptions) -> Store<Kv> {
    Store::open_with_options(dir, opts, Kv::default).expect("open store")
}

pub fn files_with(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    v.sort();
    v
}

/// Offsets of the records in a segment file (walking the length fields),
/// plus the file length.
pub fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    let mut offs = Vec::new();
    let mut off = 16;
    while off + 24 <= bytes.len() {
        offs.push(off);
        let len = u32::from_le_bytes(bytes[off..off + 4].try_into().expect("4 bytes")) as usize;
        off += 24 + len;
    }
    offs
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        if e.file_name() == "LOCK" {
            continue;
        }
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
}
