//! Opening a store directory: newest snapshot, then replay of the log.
//!
//! The rules, and why:
//! - Files ending in `.tmp` are debris of an interrupted snapshot write and
//!   are removed (a snapshot only counts once renamed to its final name).
//! - The newest `snapshot-*.snap` is loaded; if it is damaged that is a hard
//!   error. Older snapshots are never needed (a new snapshot is made durable
//!   before anything it covers is removed), so they are removed.
//! - Segments wholly covered by the snapshot (a later segment starts at or
//!   before `snapshot + 1`) are removed unread: a crash may have happened
//!   between writing the snapshot and removing them.
//! - Every remaining record is checked: CRC, contiguous indexes, segment
//!   continuity, and the log must reach back to `snapshot + 1`.
//! - A damaged record in the *last* segment is a torn tail, cut away with a
//!   warning, unless an intact record of a later write batch follows it
//!   (see [`crate::format::find_later_batch`]): then the damaged record had
//!   been synced and this is corruption, a hard error naming file and
//!   offset. Damage in any other segment is always a hard error, because a
//!   segment is only closed after its last batch was synced.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::StoreError;
use crate::format::{self, SEGMENT_HEADER_LEN};
use crate::fsutil::{remove_if_exists, sync_dir};
use crate::StateMachine;

/// The result of opening a directory.
pub(crate) struct Recovered<S> {
    pub sm: S,
    pub last_applied: u64,
    pub snapshot_index: u64,
    /// The last segment, if the writer should keep appending to it (its last
    /// record is `last_applied`): (first index, path, valid length).
    pub tail: Option<(u64, PathBuf, u64)>,
    /// Bytes of log after the snapshot (for the snapshot-size policy).
    pub log_bytes: u64,
}

struct Listing {
    snapshots: Vec<(u64, PathBuf)>,
    segments: Vec<(u64, PathBuf)>,
    temps: Vec<PathBuf>,
}

fn list(dir: &Path) -> Result<Listing, StoreError> {
    let mut l = Listing {
        snapshots: Vec::new(),
        segments: Vec::new(),
        temps: Vec::new(),
    };
    let rd = fs::read_dir(dir).map_err(|e| StoreError::io("list store directory", dir, e))?;
    for ent in rd {
        let ent = ent.map_err(|e| StoreError::io("list store directory", dir, e))?;
        let name = ent.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = ent.path();
        if let Some(i) = format::parse_segment_name(name) {
            l.segments.push((i, path));
        } else if let Some(i) = format::parse_snapshot_name(name) {
            l.snapshots.push((i, path));
        } else if name.ends_with(format::TEMP_SUFFIX) {
            l.temps.push(path);
        }
    }
    l.segments.sort();
    l.snapshots.sort();
    Ok(l)
}

fn read_file(path: &Path, what: &'static str) -> Result<Vec<u8>, StoreError> {
    fs::read(path).map_err(|e| StoreError::io(what, path, e))
}

pub(crate) fn recover<S: StateMachine>(
    dir: &Path,
    init: impl FnOnce() -> S,
) -> Result<Recovered<S>, StoreError> {
    let listing = list(dir)?;
    let mut dir_changed = false;
    for t in &listing.temps {
        tracing::warn!(file = %t.display(), "removing leftover temporary file");
        remove_if_exists(t)?;
        dir_changed = true;
    }

    // 1. Snapshot.
    let (mut sm, snap_index) = match listing.snapshots.last() {
        Some((idx, path)) => {
            let bytes = read_file(path, "read snapshot")?;
            let payload = format::decode_snapshot(&bytes, *idx).map_err(|reason| {
                StoreError::CorruptSnapshot {
                    file: path.clone(),
                    reason,
                }
            })?;
            let sm = S::restore(payload).map_err(|source| StoreError::Restore {
                file: path.clone(),
                source,
            })?;
            (sm, *idx)
        }
        None => (init(), 0),
    };
    if listing.snapshots.len() > 1 {
        for (_, p) in &listing.snapshots[..listing.snapshots.len() - 1] {
            remove_if_exists(p)?;
        }
        dir_changed = true;
    }

    // 2. Drop segments wholly covered by the snapshot.
    let segs = &listing.segments;
    let keep_from = segs
        .iter()
        .rposition(|(first, _)| *first <= snap_index.saturating_add(1))
        .unwrap_or(0);
    for (_, p) in &segs[..keep_from] {
        remove_if_exists(p)?;
        dir_changed = true;
    }
    let segs = &segs[keep_from..];
    if let Some((first, path)) = segs.first() {
        if *first > snap_index + 1 {
            return Err(StoreError::CorruptLog {
                file: path.clone(),
                offset: 0,
                reason: format!(
                    "log starts at index {first} but the snapshot covers only up to {snap_index}: \
                     entries {}..{} are missing",
                    snap_index + 1,
                    first - 1
                ),
            });
        }
    }

    // 3. Replay.
    let mut last_applied = snap_index;
    let mut log_bytes = 0u64;
    let mut tail = None;
    let mut expected_global: Option<u64> = None;
    for (i, (first, path)) in segs.iter().enumerate() {
        let is_last = i + 1 == segs.len();
        if let Some(exp) = expected_global {
            if *first != exp {
                return Err(StoreError::CorruptLog {
                    file: path.clone(),
                    offset: 0,
                    reason: format!(
                        "segment starts at index {first} but the previous segment ends at {}",
                        exp - 1
                    ),
                });
            }
        }
        let bytes = read_file(path, "read log segment")?;
        let mut expected = *first;
        let mut torn_at: Option<(usize, String)> = None;
        let mut off = SEGMENT_HEADER_LEN;
        if let Err(reason) = format::check_segment_header(&bytes, *first) {
            torn_at = Some((0, reason));
        } else {
            while off < bytes.len() {
                let rec = match format::parse_record(&bytes, off) {
                    Ok(r) => r,
                    Err(reason) => {
                        torn_at = Some((off, reason));
                        break;
                    }
                };
                if rec.index != expected {
                    return Err(StoreError::CorruptLog {
                        file: path.clone(),
                        offset: off as u64,
                        reason: format!(
                            "intact record has index {}, expected {expected}",
                            rec.index
                        ),
                    });
                }
                if rec.batch_start > rec.index {
                    return Err(StoreError::CorruptLog {
                        file: path.clone(),
                        offset: off as u64,
                        reason: format!(
                            "record {} claims a batch starting after it ({})",
                            rec.index, rec.batch_start
                        ),
                    });
                }
                if rec.index > last_applied {
                    let cmd: S::Command =
                        serde_json::from_slice(rec.payload).map_err(|source| {
                            StoreError::Decode {
                                file: path.clone(),
                                offset: off as u64,
                                index: rec.index,
                                source,
                            }
                        })?;
                    // Output of replayed commands is discarded: the callers
                    // were answered (or not) by the previous process.
                    let _ = sm.apply(rec.index, &cmd);
                    last_applied = rec.index;
                    log_bytes += rec.encoded_len as u64;
                }
                expected += 1;
                off += rec.encoded_len;
            }
        }

        if let Some((bad_off, reason)) = torn_at {
            if !is_last {
                return Err(StoreError::CorruptLog {
                    file: path.clone(),
                    offset: bad_off as u64,
                    reason: format!("{reason} (in a closed segment)"),
                });
            }
            if let Some(later) = format::find_later_batch(&bytes, bad_off, expected) {
                return Err(StoreError::CorruptLog {
                    file: path.clone(),
                    offset: bad_off as u64,
                    reason: format!(
                        "{reason}; an intact record of a later, already synced batch follows at \
                         offset {later}, so this is corruption, not a torn write"
                    ),
                });
            }
            let dropped = bytes.len() - bad_off;
            if bad_off == 0 {
                tracing::warn!(
                    file = %path.display(),
                    bytes = dropped,
                    %reason,
                    "removing log segment with a torn header (crash while it was created)"
                );
                remove_if_exists(path)?;
                dir_changed = true;
                expected_global = Some(expected);
                continue;
            }
            tracing::warn!(
                file = %path.display(),
                offset = bad_off,
                index = expected,
                bytes = dropped,
                %reason,
                "truncating torn log tail (unacknowledged write interrupted by a crash)"
            );
            let f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| StoreError::io("open log segment for truncation", path, e))?;
            f.set_len(bad_off as u64)
                .and_then(|()| f.sync_all())
                .map_err(|e| StoreError::io("truncate torn log tail", path, e))?;
            off = bad_off;
        }
        expected_global = Some(expected);
        if is_last && expected == last_applied + 1 {
            tail = Some((*first, path.clone(), off as u64));
        }
    }

    if dir_changed {
        sync_dir(dir)?;
    }
    Ok(Recovered {
        sm,
        last_applied,
        snapshot_index: snap_index,
        tail,
        log_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{encode_record, segment_header, segment_name};
    use crate::BoxError;

    /// Records the commands (numbers) applied, in order.
    #[derive(Debug, Default)]
    struct Seq(Vec<(u64, u64)>);

    impl StateMachine for Seq {
        type Command = u64;
        type Output = ();
        fn apply(&mut self, index: u64, cmd: &u64) {
            self.0.push((index, *cmd));
        }
        fn snapshot(&self) -> Result<Vec<u8>, BoxError> {
            Ok(serde_json::to_vec(&self.0)?)
        }
        fn restore(bytes: &[u8]) -> Result<Self, BoxError> {
            Ok(Seq(serde_json::from_slice(bytes)?))
        }
    }

    /// Builds a segment from batches of command values; returns bytes and
    /// the offset of every record.
    fn segment(first: u64, batches: &[&[u64]]) -> (Vec<u8>, Vec<usize>) {
        let mut buf = segment_header(first).to_vec();
        let mut offs = Vec::new();
        let mut index = first;
        for batch in batches {
            let start = index;
            for v in *batch {
                offs.push(buf.len());
                let payload = serde_json::to_vec(v).expect("json");
                encode_record(&mut buf, index, start, &payload);
                index += 1;
            }
        }
        (buf, offs)
    }

    fn write_seg(dir: &Path, first: u64, bytes: &[u8]) -> PathBuf {
        let p = dir.join(segment_name(first));
        fs::write(&p, bytes).expect("write segment");
        p
    }

    #[test]
    fn empty_dir_uses_init() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let r = recover(tmp.path(), || Seq(vec![(0, 42)])).expect("recover");
        assert_eq!(r.sm.0, vec![(0, 42)]);
        assert_eq!((r.last_applied, r.snapshot_index, r.log_bytes), (0, 0, 0));
        assert!(r.tail.is_none());
    }

    #[test]
    fn hole_inside_the_last_unsynced_batch_is_a_torn_tail() {
        // Batches {1}, {2}, {3,4,5}: record 4 damaged (e.g. a block of the
        // final write never reached the disk), record 5 intact. Nothing after
        // it proves the last batch was synced, so it is cut at record 4.
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut bytes, offs) = segment(1, &[&[10], &[20], &[30, 40, 50]]);
        for b in &mut bytes[offs[3]..offs[4]] {
            *b = 0;
        }
        let p = write_seg(tmp.path(), 1, &bytes);
        let r = recover(tmp.path(), Seq::default).expect("recover");
        assert_eq!(r.sm.0, vec![(1, 10), (2, 20), (3, 30)]);
        assert_eq!(r.last_applied, 3);
        assert_eq!(fs::metadata(&p).expect("stat").len(), offs[3] as u64);
        assert_eq!(r.tail, Some((1, p, offs[3] as u64)));
    }

    #[test]
    fn damage_followed_by_a_later_batch_is_corruption() {
        // Batches {1,2,3}, {4}: damage in record 2 with a later batch after
        // it means record 2 had been synced.
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut bytes, offs) = segment(1, &[&[10, 20, 30], &[40]]);
        bytes[offs[2] - 1] ^= 0x10; // last payload byte of record 2
        let p = write_seg(tmp.path(), 1, &bytes);
        match recover(tmp.path(), Seq::default) {
            Err(StoreError::CorruptLog {
                file,
                offset,
                reason,
            }) => {
                assert_eq!(file, p);
                assert_eq!(offset, offs[1] as u64);
                assert!(reason.contains("later, already synced batch"), "{reason}");
                assert!(reason.contains(&format!("offset {}", offs[3])), "{reason}");
            }
            other => panic!("expected CorruptLog, got {:?}", other.map(|r| r.sm)),
        }
        // Untouched.
        assert_eq!(fs::read(&p).expect("read"), bytes);
    }

    #[test]
    fn zero_filled_tail_is_torn() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (mut bytes, _) = segment(1, &[&[10], &[20]]);
        let good = bytes.len();
        bytes.extend_from_slice(&[0u8; 4096]);
        let p = write_seg(tmp.path(), 1, &bytes);
        let r = recover(tmp.path(), Seq::default).expect("recover");
        assert_eq!(r.last_applied, 2);
        assert_eq!(fs::metadata(&p).expect("stat").len(), good as u64);
    }

    #[test]
    fn torn_segment_header_of_the_last_segment_is_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (a, _) = segment(1, &[&[10], &[20]]);
        write_seg(tmp.path(), 1, &a);
        let p = write_seg(tmp.path(), 3, &segment_header(3)[..7]);
        let r = recover(tmp.path(), Seq::default).expect("recover");
        assert_eq!(r.last_applied, 2);
        assert!(!p.exists());
        assert!(r.tail.is_none(), "the writer must start a fresh segment");
    }

    #[test]
    fn wrong_index_in_an_intact_record_is_corruption() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut bytes = segment_header(1).to_vec();
        encode_record(&mut bytes, 1, 1, b"10");
        let off = bytes.len();
        encode_record(&mut bytes, 3, 3, b"30");
        write_seg(tmp.path(), 1, &bytes);
        match recover(tmp.path(), Seq::default) {
            Err(StoreError::CorruptLog { offset, reason, .. }) => {
                assert_eq!(offset, off as u64);
                assert!(reason.contains("index 3, expected 2"), "{reason}");
            }
            other => panic!("expected CorruptLog, got {:?}", other.map(|r| r.sm)),
        }
    }

    #[test]
    fn header_index_mismatch_in_a_closed_segment_is_corruption() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (a, _) = segment(1, &[&[10]]);
        write_seg(tmp.path(), 1, &a);
        let (mut b, _) = segment(2, &[&[20]]);
        b[8] = 9; // header now claims first index 9
        write_seg(tmp.path(), 2, &b);
        let (c, _) = segment(3, &[&[30]]);
        write_seg(tmp.path(), 3, &c);
        let err = recover(tmp.path(), Seq::default).err().expect("error");
        assert!(
            err.to_string()
                .contains("log-00000000000000000002.seg at offset 0"),
            "{err}"
        );
    }

    #[test]
    fn snapshot_skips_covered_entries_and_removes_covered_segments() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (a, _) = segment(1, &[&[10], &[20]]);
        let pa = write_seg(tmp.path(), 1, &a);
        let (b, _) = segment(3, &[&[30], &[40], &[50]]);
        write_seg(tmp.path(), 3, &b);
        // Snapshot at 4 (crash happened before the covered segments went).
        let payload =
            serde_json::to_vec(&vec![(1u64, 10u64), (2, 20), (3, 30), (4, 40)]).expect("json");
        let mut snap = crate::format::snapshot_header(4, &payload).to_vec();
        snap.extend_from_slice(&payload);
        fs::write(tmp.path().join(crate::format::snapshot_name(4)), &snap).expect("write");
        // An older snapshot, superseded.
        let old = tmp.path().join(crate::format::snapshot_name(1));
        fs::write(&old, b"garbage that is never read").expect("write");
        let r = recover(tmp.path(), Seq::default).expect("recover");
        assert_eq!(r.snapshot_index, 4);
        assert_eq!(r.last_applied, 5);
        assert_eq!(r.sm.0.last(), Some(&(5, 50)));
        assert_eq!(r.sm.0.len(), 5);
        assert!(!pa.exists(), "covered segment removed");
        assert!(!old.exists(), "older snapshot removed");
    }

    #[test]
    fn log_ending_before_the_snapshot_gets_a_fresh_tail() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (a, _) = segment(1, &[&[10], &[20]]);
        write_seg(tmp.path(), 1, &a);
        let payload = serde_json::to_vec(&vec![(1u64, 10u64), (2, 20), (3, 30)]).expect("json");
        let mut snap = crate::format::snapshot_header(3, &payload).to_vec();
        snap.extend_from_slice(&payload);
        fs::write(tmp.path().join(crate::format::snapshot_name(3)), &snap).expect("write");
        let r = recover(tmp.path(), Seq::default).expect("recover");
        assert_eq!(r.last_applied, 3);
        assert!(r.tail.is_none());
    }
}
