//! Byte layouts of log segments and snapshot files, and their parsers.
//!
//! Kept apart from all I/O so the parsers can be tested byte by byte. All
//! integers are little-endian.
//!
//! Segment file `log-<first_index:020>.seg`:
//! ```text
//! header  : magic "GNTLOG01" (8) | first_index u64 (8)
//! record* : len u32 | crc u32 | index u64 | batch_start u64 | payload[len]
//! ```
//! `crc` is CRC-32 (IEEE, `crc32fast`) over `len | index | batch_start |
//! payload`, so a damaged length is caught as well as a damaged payload.
//! `batch_start` is the index of the first record of the write batch the
//! record was written in. Batches are written strictly one after another,
//! each followed by one fdatasync before the next is written, so a valid
//! record whose `batch_start` is greater than index `k` proves that the batch
//! holding `k` had been synced. Recovery uses this to tell a torn tail (the
//! last, maybe-unsynced batch; cut away) from corruption of synced data (a
//! hard error).
//!
//! Snapshot file `snapshot-<index:020>.snap`:
//! ```text
//! magic "GNTSNAP1" (8) | index u64 | len u64 | crc u32 (over index|len|payload) | payload[len]
//! ```
//! The payload is whatever `StateMachine::snapshot` returned.

/// Magic at the start of every log segment (also the format version).
pub(crate) const SEGMENT_MAGIC: [u8; 8] = *b"GNTLOG01";
/// Bytes before the first record of a segment.
pub(crate) const SEGMENT_HEADER_LEN: usize = 16;
/// Bytes before the payload of a record.
pub(crate) const RECORD_HEADER_LEN: usize = 24;
/// Largest payload a record may have (a format limit, independent of the
/// configurable write limit).
pub(crate) const MAX_RECORD_BYTES: u32 = 256 << 20;
/// Magic at the start of every snapshot file (also the format version).
pub(crate) const SNAPSHOT_MAGIC: [u8; 8] = *b"GNTSNAP1";
/// Bytes before the payload of a snapshot.
pub(crate) const SNAPSHOT_HEADER_LEN: usize = 28;

const SEGMENT_PREFIX: &str = "log-";
const SEGMENT_SUFFIX: &str = ".seg";
const SNAPSHOT_PREFIX: &str = "snapshot-";
const SNAPSHOT_SUFFIX: &str = ".snap";
/// Suffix of files being written; any such file found at open is debris of
/// a crash and removed.
pub(crate) const TEMP_SUFFIX: &str = ".tmp";
/// Name of the lock file.
pub(crate) const LOCK_FILE: &str = "LOCK";

pub(crate) fn segment_name(first_index: u64) -> String {
    format!("{SEGMENT_PREFIX}{first_index:020}{SEGMENT_SUFFIX}")
}

pub(crate) fn snapshot_name(index: u64) -> String {
    format!("{SNAPSHOT_PREFIX}{index:020}{SNAPSHOT_SUFFIX}")
}

fn parse_numbered(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// First index of a segment from its file name, `None` if not a segment.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    parse_numbered(name, SEGMENT_PREFIX, SEGMENT_SUFFIX)
}

/// Index of a snapshot from its file name, `None` if not a snapshot.
pub(crate) fn parse_snapshot_name(name: &str) -> Option<u64> {
    parse_numbered(name, SNAPSHOT_PREFIX, SNAPSHOT_SUFFIX)
}

pub(crate) fn segment_header(first_index: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut h = [0u8; SEGMENT_HEADER_LEN];
    h[..8].copy_from_slice(&SEGMENT_MAGIC);
    h[8..].copy_from_slice(&first_index.to_le_bytes());
    h
}

/// Checks a segment header against the index in the file name.
pub(crate) fn check_segment_header(bytes: &[u8], first_index: u64) -> Result<(), String> {
    if bytes.len() < SEGMENT_HEADER_LEN {
        return Err(format!(
            "segment header truncated: {} of {SEGMENT_HEADER_LEN} bytes",
            bytes.len()
        ));
    }
    if bytes[..8] != SEGMENT_MAGIC {
        return Err(format!(
            "bad segment magic {:02x?} (expected {:?})",
            &bytes[..8],
            std::str::from_utf8(&SEGMENT_MAGIC).unwrap_or("?")
        ));
    }
    let stored = read_u64(bytes, 8);
    if stored != first_index {
        return Err(format!(
            "segment header says first index {stored}, file name says {first_index}"
        ));
    }
    Ok(())
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn record_crc(len: u32, index: u64, batch_start: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&index.to_le_bytes());
    h.update(&batch_start.to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// Appends one encoded record to `buf`. The caller guarantees
/// `payload.len() <= MAX_RECORD_BYTES`.
pub(crate) fn encode_record(buf: &mut Vec<u8>, index: u64, batch_start: u64, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = record_crc(len, index, batch_start, payload);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&crc.to_le_bytes());
    buf.extend_from_slice(&index.to_le_bytes());
    buf.extend_from_slice(&batch_start.to_le_bytes());
    buf.extend_from_slice(payload);
}

/// One valid record parsed out of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    pub index: u64,
    pub batch_start: u64,
    pub payload: &'a [u8],
    /// Header plus payload length.
    pub encoded_len: usize,
}

/// Parses the record starting at `off`. `Err` describes why the bytes there
/// are not a whole, intact record (short, oversized or CRC mismatch).
pub(crate) fn parse_record(bytes: &[u8], off: usize) -> Result<Record<'_>, String> {
    let rest = bytes.len().saturating_sub(off);
    if rest < RECORD_HEADER_LEN {
        return Err(format!(
            "short record header: {rest} of {RECORD_HEADER_LEN} bytes"
        ));
    }
    let len = read_u32(bytes, off);
    let crc = read_u32(bytes, off + 4);
    let index = read_u64(bytes, off + 8);
    let batch_start = read_u64(bytes, off + 16);
    if len > MAX_RECORD_BYTES {
        return Err(format!(
            "record length {len} exceeds the format limit {MAX_RECORD_BYTES}"
        ));
    }
    let len_usize = len as usize;
    if rest - RECORD_HEADER_LEN < len_usize {
        return Err(format!(
            "short record: header announces {len} payload bytes, {} present",
            rest - RECORD_HEADER_LEN
        ));
    }
    let payload_start = off + RECORD_HEADER_LEN;
    let payload = &bytes[payload_start..payload_start + len_usize];
    let computed = record_crc(len, index, batch_start, payload);
    if computed != crc {
        return Err(format!(
            "CRC mismatch (stored {crc:08x}, computed {computed:08x})"
        ));
    }
    Ok(Record {
        index,
        batch_start,
        payload,
        encoded_len: RECORD_HEADER_LEN + len_usize,
    })
}

/// Looks, after a damaged record at `from` that should have had index `k`,
/// for any intact record that belongs to a *later* batch (`batch_start > k`).
/// Finding one proves the damaged record had been fsynced, so the damage is
/// corruption, not a torn write. Returns the offset of that record.
///
/// The scan tries every byte offset but rejects almost all of them on the
/// cheap index checks before computing a CRC.
pub(crate) fn find_later_batch(bytes: &[u8], from: usize, k: u64) -> Option<usize> {
    let max_plausible = k.saturating_add((bytes.len() / RECORD_HEADER_LEN) as u64 + 1);
    let mut off = from + 1;
    while off + RECORD_HEADER_LEN <= bytes.len() {
        let index = read_u64(bytes, off + 8);
        let batch_start = read_u64(bytes, off + 16);
        if batch_start > k
            && index >= batch_start
            && index <= max_plausible
            && parse_record(bytes, off).is_ok()
        {
            return Some(off);
        }
        off += 1;
    }
    None
}

pub(crate) fn snapshot_header(index: u64, payload: &[u8]) -> [u8; SNAPSHOT_HEADER_LEN] {
    let len = payload.len() as u64;
    let mut h = crc32fast::Hasher::new();
    h.update(&index.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(payload);
    let crc = h.finalize();
    let mut out = [0u8; SNAPSHOT_HEADER_LEN];
    out[..8].copy_from_slice(&SNAPSHOT_MAGIC);
    out[8..16].copy_from_slice(&index.to_le_bytes());
    out[16..24].copy_from_slice(&len.to_le_bytes());
    out[24..28].copy_from_slice(&crc.to_le_bytes());
    out
}

/// Validates a whole snapshot file and returns its payload.
pub(crate) fn decode_snapshot(bytes: &[u8], expected_index: u64) -> Result<&[u8], String> {
    if bytes.len() < SNAPSHOT_HEADER_LEN {
        return Err(format!(
            "file is {} bytes, shorter than the {SNAPSHOT_HEADER_LEN}-byte header",
            bytes.len()
        ));
    }
    if bytes[..8] != SNAPSHOT_MAGIC {
        return Err(format!("bad snapshot magic {:02x?}", &bytes[..8]));
    }
    let index = read_u64(bytes, 8);
    let len = read_u64(bytes, 16);
    let crc = read_u32(bytes, 24);
    if index != expected_index {
        return Err(format!(
            "header says index {index}, file name says {expected_index}"
        ));
    }
    let body = &bytes[SNAPSHOT_HEADER_LEN..];
    if body.len() as u64 != len {
        return Err(format!(
            "header announces {len} payload bytes, file has {}",
            body.len()
        ));
    }
    let mut h = crc32fast::Hasher::new();
    h.update(&index.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(body);
    let computed = h.finalize();
    if computed != crc {
        return Err(format!(
            "CRC mismatch (stored {crc:08x}, computed {computed:08x})"
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_strangers() {
        assert_eq!(segment_name(7), "log-00000000000000000007.seg");
        assert_eq!(parse_segment_name(&segment_name(7)), Some(7));
        assert_eq!(parse_segment_name(&segment_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(parse_snapshot_name(&snapshot_name(99)), Some(99));
        for bad in [
            "log-.seg",
            "log-12a.seg",
            "log-+12.seg",
            "log-12.seg.tmp",
            "snapshot-1.seg",
            "LOCK",
            "log-99999999999999999999999.seg",
        ] {
            assert_eq!(parse_segment_name(bad), None, "{bad}");
            assert_eq!(parse_snapshot_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn segment_header_checks() {
        let h = segment_header(5);
        assert!(check_segment_header(&h, 5).is_ok());
        assert!(check_segment_header(&h, 6)
            .unwrap_err()
            .contains("first index 5"));
        assert!(check_segment_header(&h[..10], 5)
            .unwrap_err()
            .contains("truncated"));
        let mut bad = h;
        bad[0] = b'X';
        assert!(check_segment_header(&bad, 5).unwrap_err().contains("magic"));
    }

    fn two_records() -> Vec<u8> {
        let mut buf = Vec::new();
        encode_record(&mut buf, 1, 1, b"{\"a\":1}");
        encode_record(&mut buf, 2, 2, b"hello");
        buf
    }

    #[test]
    fn record_round_trip() {
        let buf = two_records();
        let r1 = parse_record(&buf, 0).expect("first");
        assert_eq!(
            (r1.index, r1.batch_start, r1.payload),
            (1, 1, &b"{\"a\":1}"[..])
        );
        let r2 = parse_record(&buf, r1.encoded_len).expect("second");
        assert_eq!((r2.index, r2.payload), (2, &b"hello"[..]));
        assert_eq!(r1.encoded_len + r2.encoded_len, buf.len());
    }

    #[test]
    fn every_truncation_and_every_bit_flip_is_detected() {
        let buf = two_records();
        let first_len = parse_record(&buf, 0).expect("ok").encoded_len;
        let second = &buf[first_len..];
        for cut in 0..second.len() {
            assert!(parse_record(&second[..cut], 0).is_err(), "cut at {cut}");
        }
        for byte in 0..second.len() {
            for bit in 0..8 {
                let mut b = second.to_vec();
                b[byte] ^= 1 << bit;
                assert!(parse_record(&b, 0).is_err(), "flip {byte}.{bit}");
            }
        }
    }

    #[test]
    fn oversized_length_is_rejected_without_reading() {
        let mut buf = two_records();
        buf[..4].copy_from_slice(&(MAX_RECORD_BYTES + 1).to_le_bytes());
        assert!(parse_record(&buf, 0).unwrap_err().contains("format limit"));
    }

    #[test]
    fn later_batch_is_found_only_when_present() {
        // batch A = {1,2,3} (start 1), batch B = {4} (start 4)
        let mut buf = Vec::new();
        encode_record(&mut buf, 1, 1, b"one");
        let r2_off = buf.len();
        encode_record(&mut buf, 2, 1, b"two");
        encode_record(&mut buf, 3, 1, b"three");
        let b_off = buf.len();
        encode_record(&mut buf, 4, 4, b"four");
        // Record 2 damaged: record 3 is the same batch, record 4 a later one.
        assert_eq!(find_later_batch(&buf, r2_off, 2), Some(b_off));
        // Without batch B there is no proof of a sync.
        assert_eq!(find_later_batch(&buf[..b_off], r2_off, 2), None);
        // Zero-filled tail: nothing.
        let zeros = vec![0u8; 4096];
        assert_eq!(find_later_batch(&zeros, 0, 9), None);
    }

    #[test]
    fn snapshot_round_trip_and_damage() {
        let payload = b"{\"state\":true}".to_vec();
        let mut file = snapshot_header(12, &payload).to_vec();
        file.extend_from_slice(&payload);
        assert_eq!(decode_snapshot(&file, 12).expect("valid"), &payload[..]);
        assert!(decode_snapshot(&file, 13).unwrap_err().contains("index 12"));
        assert!(decode_snapshot(&file[..file.len() - 1], 12)
            .unwrap_err()
            .contains("payload bytes"));
        assert!(decode_snapshot(&file[..5], 12)
            .unwrap_err()
            .contains("shorter"));
        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        assert!(decode_snapshot(&flipped, 12).unwrap_err().contains("CRC"));
        let mut magic = file;
        magic[3] = 0;
        assert!(decode_snapshot(&magic, 12).unwrap_err().contains("magic"));
    }
}
