//! The parts of Ganeti's OS environment simpleimage reads, and the OS
//! directory (for `variants.list`): `SIMPLEIMAGE_OS_DIR`, set by the
//! wrapper scripts to their own directory, else the working directory
//! (Ganeti runs every script with the OS directory as cwd).

use crate::error::{io, Error, Result};
use std::path::PathBuf;

/// Reads a variable; empty counts as unset.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The OS directory.
pub fn os_dir() -> PathBuf {
    var("SIMPLEIMAGE_OS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The variants listed in `variants.list` (empty if there is none).
pub fn variants() -> Result<Vec<String>> {
    let path = os_dir().join("variants.list");
    match std::fs::read_to_string(&path) {
        Ok(t) => Ok(t
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io("reading", path)(e)),
    }
}

/// The variant in effect: `OS_VARIANT`, else the first listed, else
/// `default`; it must be listed (when there is a list) and usable as a
/// directory name.
pub fn variant() -> Result<String> {
    let listed = variants()?;
    let v = var("OS_VARIANT")
        .or_else(|| listed.first().cloned())
        .unwrap_or_else(|| "default".to_string());
    let name_ok = !v.starts_with('.')
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if !name_ok {
        return Err(Error::Usage(format!("invalid variant name {v:?}")));
    }
    if !listed.is_empty() && !listed.contains(&v) {
        return Err(Error::Usage(format!(
            "unknown variant {v:?} (variants.list has: {})",
            listed.join(", ")
        )));
    }
    Ok(v)
}

/// Path of disk `idx` (`DISK_<idx>_PATH`), checking `DISK_COUNT`.
pub fn disk_path(idx: usize) -> Result<PathBuf> {
    let count: usize = var("DISK_COUNT")
        .ok_or_else(|| Error::Usage("DISK_COUNT is not set".into()))?
        .parse()
        .map_err(|_| Error::Usage("DISK_COUNT is not a number".into()))?;
    if idx >= count {
        return Err(Error::Usage(format!(
            "the instance has {count} disk(s); disk {idx} is needed"
        )));
    }
    match var(&format!("DISK_{idx}_PATH")) {
        Some(p) => Ok(PathBuf::from(p)),
        None if var(&format!("DISK_{idx}_URI")).is_some() => Err(Error::Usage(format!(
            "disk {idx} is only reachable by URI (userspace access); not supported"
        ))),
        None => Err(Error::Usage(format!("DISK_{idx}_PATH is not set"))),
    }
}

/// `DISK_<idx>_SIZE` (MiB) in bytes.
pub fn disk_size(idx: usize) -> Option<u64> {
    var(&format!("DISK_{idx}_SIZE"))?
        .parse::<u64>()
        .ok()
        .map(|m| m.saturating_mul(1 << 20))
}

/// The disk an import/export script works on: `<prefix>_DEVICE`, else
/// `DISK_<<prefix>_INDEX>_PATH`, else disk 0.
pub fn transfer_disk(prefix: &str) -> Result<(usize, PathBuf)> {
    let idx: usize = match var(&format!("{prefix}_INDEX")) {
        Some(i) => i
            .parse()
            .map_err(|_| Error::Usage(format!("{prefix}_INDEX is not a number")))?,
        None => 0,
    };
    match var(&format!("{prefix}_DEVICE")).or_else(|| var(&format!("{prefix}_DISK_PATH"))) {
        Some(p) => Ok((idx, PathBuf::from(p))),
        None => Ok((idx, disk_path(idx)?)),
    }
}
