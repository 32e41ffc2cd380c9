//! Small file-system helpers shared by the hypervisors and storage drivers.
//!
//! Runtime state must never be seen half-written (a daemon killed mid-write
//! would otherwise "forget" a running instance or read garbage), so state
//! files are written to a temporary name, synced and then hard-linked into
//! place. Linking gives "create only if absent" atomically, which is exactly
//! the check-and-set a start needs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn tmp_path(target: &Path) -> PathBuf {
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.tmp.{}.{n}", std::process::id()))
}

fn write_tmp(target: &Path, content: &[u8], mode: u32) -> io::Result<PathBuf> {
    let tmp = tmp_path(target);
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()
    })();
    match res {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

/// Atomically create `target` with `content`; fails with
/// `ErrorKind::AlreadyExists` (and changes nothing) if it exists.
pub(crate) fn create_atomic(target: &Path, content: &[u8], mode: u32) -> io::Result<()> {
    let tmp = write_tmp(target, content, mode)?;
    let linked = fs::hard_link(&tmp, target);
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_parent(target)
}

/// `mkdir -p` with a mode for the directories it creates.
pub(crate) fn make_dirs(dir: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().recursive(true).mode(mode).create(dir)
}

/// Whether a directory entry name is one of our temporary files.
pub(crate) fn is_tmp_name(name: &str) -> bool {
    name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_atomic_refuses_existing_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("inst1");
        create_atomic(&p, b"a", 0o640).unwrap();
        let e = create_atomic(&p, b"b", 0o640).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"a");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("inst1")]);
    }

    #[test]
    fn create_atomic_in_missing_dir_fails() {
        let dir = tempfile::tempdir().unwrap();
        let e = create_atomic(&dir.path().join("no/such"), b"a", 0o640).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
