//! Time stamps as the gnt-* tools print them.
//!
//! Why: Ganeti prints times in three shapes, all in local time: `%F %T`
//! (`2026-11-23 15:17:14`, `utils.FormatTime`) for creation/modification
//! times and timestamp fields, the same with `.%06d` microseconds for job
//! timestamps (`cli.FormatTimestamp` of a `[sec, usec]` pair), and C's
//! `ctime()` (`Mon Nov 23 15:17:14 2026`, day padded with a space) in front
//! of job log lines. The functions here take the UTC offset explicitly
//! (`*_at` variants) so they are testable; the plain variants use the local
//! offset and fall back to UTC when the system cannot tell it (the `time`
//! crate refuses to read it in multi-threaded programs on some systems).
//! Seconds are floored like Python's `time.localtime(float)`.

use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The local UTC offset, or UTC when it cannot be determined.
pub fn local_offset() -> UtcOffset {
    UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC)
}

/// The date and time of `secs` (floored) at `offset`; `None` when out of
/// the representable range.
fn datetime(secs: f64, offset: UtcOffset) -> Option<OffsetDateTime> {
    let floored = secs.floor();
    if !floored.is_finite() || floored.abs() > 1e15 {
        return None;
    }
    // Checked above: integral and far inside i64.
    #[allow(clippy::cast_possible_truncation)]
    let whole = floored as i64;
    OffsetDateTime::from_unix_timestamp(whole)
        .ok()
        .map(|dt| dt.to_offset(offset))
}

fn ymd_hms(dt: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// `utils.FormatTime(secs)` at `offset`: `YYYY-MM-DD HH:MM:SS`, `N/A` when
/// there is no time (or it is out of range).
pub fn format_time_at(secs: Option<f64>, offset: UtcOffset) -> String {
    secs.and_then(|s| datetime(s, offset))
        .map_or_else(|| "N/A".to_string(), ymd_hms)
}

/// `utils.FormatTime(secs)` in local time.
pub fn format_time(secs: Option<f64>) -> String {
    format_time_at(secs, local_offset())
}

/// `utils.FormatTime` of a JSON value: numbers (and booleans, which Python
/// counts as numbers) are times, anything else is `N/A`.
pub fn format_time_value(value: &Value) -> String {
    let secs = match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    format_time(secs)
}

/// `utils.FormatTime(sec, usecs=usec)` at `offset`:
/// `YYYY-MM-DD HH:MM:SS.uuuuuu`.
pub fn format_timestamp_parts_at(sec: i64, usec: i64, offset: UtcOffset) -> String {
    // Whole seconds are exact in f64 for any date that can be formatted.
    #[allow(clippy::cast_precision_loss)]
    let secs = sec as f64;
    match datetime(secs, offset) {
        Some(dt) => format!("{}.{usec:06}", ymd_hms(dt)),
        None => "N/A".to_string(),
    }
}

/// `cli.FormatTimestamp(ts)` at `offset`: a `[sec, usec]` pair as
/// `YYYY-MM-DD HH:MM:SS.uuuuuu`; `?` for anything that is not a pair.
pub fn format_timestamp_at(ts: &Value, offset: UtcOffset) -> String {
    match ts.as_array().map(Vec::as_slice) {
        Some([sec, usec]) => match (sec.as_i64(), usec.as_i64()) {
            (Some(sec), Some(usec)) => format_timestamp_parts_at(sec, usec, offset),
            // Python formats float parts too; for our callers they are ints.
            _ => match (sec.as_f64(), usec.as_f64()) {
                (Some(s), Some(u)) => match datetime(s, offset) {
                    Some(dt) => format!("{}.{:06}", ymd_hms(dt), u.trunc()),
                    None => "N/A".to_string(),
                },
                _ => "N/A".to_string(),
            },
        },
        _ => "?".to_string(),
    }
}

/// `cli.FormatTimestamp(ts)` in local time.
pub fn format_timestamp(ts: &Value) -> String {
    format_timestamp_at(ts, local_offset())
}

/// C's `ctime()` at `offset` without the newline:
/// `Mon Nov 23 15:17:14 2026` (the day of month padded with a space).
pub fn ctime_at(secs: f64, offset: UtcOffset) -> Option<String> {
    let dt = datetime(secs, offset)?;
    let weekday = WEEKDAYS[usize::from(dt.weekday().number_days_from_monday())];
    let month = MONTHS[usize::from(u8::from(dt.month()) - 1)];
    Some(format!(
        "{weekday} {month} {:>2} {:02}:{:02}:{:02} {}",
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.year()
    ))
}

/// C's `ctime()` in local time.
pub fn ctime(secs: f64) -> Option<String> {
    ctime_at(secs, local_offset())
}

/// `utils.MergeTime`: a `[sec, usec]` pair as fractional seconds.
pub fn merge_time(sec: i64, usec: i64) -> f64 {
    // Job timestamps are far below 2^53 seconds.
    #[allow(clippy::cast_precision_loss)]
    let merged = sec as f64 + usec as f64 / 1_000_000.0;
    merged
}

/// One job log line as the job pollers print it:
/// `Mon Nov 23 15:17:14 2026 <message>` (`message` already formatted, see
/// [`crate::pystr::format_log_message`]).
pub fn job_log_line_at(sec: i64, usec: i64, message: &str, offset: UtcOffset) -> String {
    let stamp = ctime_at(merge_time(sec, usec), offset).unwrap_or_else(|| "?".to_string());
    format!("{stamp} {message}")
}

/// [`job_log_line_at`] in local time.
pub fn job_log_line(sec: i64, usec: i64, message: &str) -> String {
    job_log_line_at(sec, usec, message, local_offset())
}

/// The seconds from one `[sec, usec]` pair to another (`gnt-job info`'s
/// `_CalcDelta`), printed by the caller as `%.6f`.
pub fn calc_delta(from: (i64, i64), to: (i64, i64)) -> f64 {
    // Differences of job timestamps are small.
    #[allow(clippy::cast_precision_loss)]
    let delta = (to.0 - from.0) as f64 + (to.1 - from.1) as f64 / 1_000_000.0;
    delta
}

/// `utils.FormatSeconds`: `2d 9h 19m 49s`, leading zero parts left out
/// (`0s`, `1m 0s`); the seconds are rounded first (ties to even).
pub fn format_seconds(secs: f64) -> String {
    let rounded = secs.round_ties_even();
    let mut parts = Vec::new();
    let mut rest = rounded;
    if rest > 0.0 {
        for (unit, one) in [("d", 86_400.0), ("h", 3600.0), ("m", 60.0)] {
            let complete = (rest / one).floor();
            rest -= complete * one;
            if complete != 0.0 || !parts.is_empty() {
                parts.push(format!("{complete:.0}{unit}"));
            }
        }
    }
    parts.push(format!("{rest:.0}s"));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const UTC: UtcOffset = UtcOffset::UTC;

    #[test]
    fn format_time_like_fixtures() {
        // cluster_info: "Creation time: 2026-11-23 15:16:00"
        assert_eq!(
            format_time_at(Some(1_795_446_960.0), UTC),
            "2026-11-23 15:16:00"
        );
        assert_eq!(
            format_time_at(Some(1_795_446_960.999), UTC),
            "2026-11-23 15:16:00"
        );
        assert_eq!(format_time_at(None, UTC), "N/A");
        assert_eq!(format_time_at(Some(f64::NAN), UTC), "N/A");
        assert_eq!(format_time_at(Some(1e300), UTC), "N/A");
        assert_eq!(format_time_at(Some(-0.5), UTC), "1969-12-31 23:59:59");
        let plus2 = UtcOffset::from_hms(2, 0, 0).unwrap();
        assert_eq!(format_time_at(Some(0.0), plus2), "1970-01-01 02:00:00");
        assert_eq!(format_time_value(&json!("x")), "N/A");
        assert_eq!(format_time_value(&json!(null)), "N/A");
    }

    #[test]
    fn format_timestamp_like_job_info() {
        // job_info_success: "Received:         2026-11-23 15:18:14.204976"
        assert_eq!(
            format_timestamp_at(&json!([1_795_447_094, 204_976]), UTC),
            "2026-11-23 15:18:14.204976"
        );
        assert_eq!(
            format_timestamp_at(&json!([1_795_447_094, 5]), UTC),
            "2026-11-23 15:18:14.000005"
        );
        assert_eq!(format_timestamp_at(&json!(null), UTC), "?");
        assert_eq!(format_timestamp_at(&json!([1, 2, 3]), UTC), "?");
        assert_eq!(format_timestamp_at(&json!(5), UTC), "?");
        assert_eq!(format_timestamp_at(&json!(["a", "b"]), UTC), "N/A");
    }

    #[test]
    fn ctime_like_job_log_lines() {
        // instance_add_file: "Mon Nov 23 15:17:14 2026 * disk 0, size 128M"
        assert_eq!(
            ctime_at(1_795_447_034.5, UTC).as_deref(),
            Some("Mon Nov 23 15:17:14 2026")
        );
        // single-digit days are padded with a space
        assert_eq!(
            ctime_at(0.0, UTC).as_deref(),
            Some("Thu Jan  1 00:00:00 1970")
        );
        assert_eq!(ctime_at(f64::INFINITY, UTC), None);
        assert_eq!(
            job_log_line_at(1_795_447_034, 999_999, "* disk 0, size 128M", UTC),
            "Mon Nov 23 15:17:14 2026 * disk 0, size 128M"
        );
    }

    #[test]
    fn deltas_and_seconds() {
        // job_info_success: start 15:18:14.382137 after received .204976
        let d = calc_delta((1_795_447_094, 204_976), (1_795_447_094, 382_137));
        assert_eq!(format!("{d:.6}"), "0.177161");
        let d = calc_delta((10, 900_000), (12, 100_000));
        assert_eq!(format!("{d:.6}"), "1.200000");
        assert_eq!(merge_time(1, 500_000), 1.5);
        assert_eq!(format_seconds(0.0), "0s");
        assert_eq!(format_seconds(59.4), "59s");
        assert_eq!(format_seconds(60.0), "1m 0s");
        assert_eq!(format_seconds(3601.0), "1h 0m 1s");
        assert_eq!(
            format_seconds(2.0 * 86_400.0 + 9.0 * 3600.0 + 19.0 * 60.0 + 49.0),
            "2d 9h 19m 49s"
        );
        assert_eq!(format_seconds(-5.0), "-5s");
        assert_eq!(format_seconds(0.5), "0s");
        assert_eq!(format_seconds(1.5), "2s");
    }

    #[test]
    fn local_offset_is_usable() {
        // Either the real offset or UTC; formatting must work with it.
        let s = format_time(Some(0.0));
        assert_eq!(s.len(), "1970-01-01 00:00:00".len());
        assert!(ctime(0.0).is_some());
        assert_eq!(
            format_timestamp(&json!([0, 1])).len(),
            "1970-01-01 00:00:00.000001".len()
        );
        assert!(job_log_line(0, 0, "x").ends_with(" x"));
    }
}
