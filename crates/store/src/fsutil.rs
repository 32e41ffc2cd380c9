//! Small file-system helpers: private permissions, directory fsync, and the
//! exclusive directory lock.
//!
//! The lock is `flock(LOCK_EX | LOCK_NB)` on `<dir>/LOCK`, held for the life
//! of the store. `flock` locks belong to the open file description, so they
//! also exclude a second `Store` inside the same process, and the kernel
//! drops them when the holder dies (even by SIGKILL), so a crash never leaves
//! a stale lock behind. The holder writes its pid into the file purely for
//! the error message of the loser.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::StoreError;
use crate::format::LOCK_FILE;

/// Mode of every file the store creates.
pub(crate) const FILE_MODE: u32 = 0o600;
/// Mode of the store directory.
pub(crate) const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and parents) with mode 0700 if missing; tightens an
/// existing directory that is group- or world-accessible.
pub(crate) fn ensure_private_dir(dir: &Path) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| StoreError::io("create store directory", dir, e))?;
    let meta = fs::metadata(dir).map_err(|e| StoreError::io("stat store directory", dir, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{mode:o}"),
            "store directory is accessible to others; setting mode 0700"
        );
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))
            .map_err(|e| StoreError::io("chmod store directory", dir, e))?;
    }
    Ok(())
}

/// fsync of a directory, making creations, renames and removals in it
/// durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("fsync directory", dir, e))
}

/// Creates a new file with mode 0600, failing if it exists.
pub(crate) fn create_new_private(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| StoreError::io("create file", path, e))
}

/// Creates or truncates a file with mode 0600.
pub(crate) fn create_truncate_private(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(|e| StoreError::io("create file", path, e))
}

/// Removes a file; a file that is already gone is fine.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io("remove file", path, e)),
    }
}

/// How long a lock still held in our own name may take to go away.
const FORK_WINDOW_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The held exclusive lock on a store directory. Dropping it releases the
/// lock (closing the descriptor).
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
    #[allow(dead_code)]
    path: PathBuf,
}

impl DirLock {
    /// Take the directory's lock. A lock that names this very process was
    /// released by a store we dropped; it can only still be held through a
    /// copy of our descriptor in a child between its fork and exec (flock
    /// belongs to the open file, which a fork shares), so that is waited
    /// out briefly instead of reported as another store's.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, StoreError> {
        let deadline = std::time::Instant::now() + FORK_WINDOW_WAIT;
        loop {
            match Self::try_acquire(dir) {
                Err(StoreError::Locked { pid: Some(pid), .. })
                    if pid == std::process::id() && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    fn try_acquire(dir: &Path) -> Result<DirLock, StoreError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(|e| StoreError::io("open lock file", &path, e))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                let mut text = String::new();
                // Best effort: the pid is only for the message.
                let pid = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse::<u32>().ok());
                return Err(StoreError::Locked {
                    dir: dir.to_path_buf(),
                    pid,
                });
            }
            Err(e) => {
                return Err(StoreError::io("flock lock file", &path, e.into()));
            }
        }
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .map_err(|e| StoreError::io("write lock file", &path, e))?;
        Ok(DirLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_with_pid_and_release_allows_relock() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let first = DirLock::acquire(tmp.path()).expect("first lock");
        match DirLock::acquire(tmp.path()) {
            Err(StoreError::Locked { dir, pid }) => {
                assert_eq!(dir, tmp.path());
                assert_eq!(pid, Some(std::process::id()));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(first);
        DirLock::acquire(tmp.path()).expect("relock after release");
    }

    #[test]
    fn a_lock_in_our_own_name_that_goes_away_is_waited_for() {
        // stands in for a forked child's copy of a dropped store's lock
        let tmp = tempfile::tempdir().expect("tempdir");
        let stale = DirLock::acquire(tmp.path()).expect("first lock");
        let release = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            drop(stale);
        });
        DirLock::acquire(tmp.path()).expect("lock once the copy is gone");
        release.join().unwrap();
    }

    #[test]
    fn private_dir_is_created_and_tightened() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let d = tmp.path().join("a/b");
        ensure_private_dir(&d).expect("create");
        let mode = fs::metadata(&d).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).expect("chmod");
        ensure_private_dir(&d).expect("tighten");
        let mode = fs::metadata(&d).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn new_files_are_private_and_create_new_refuses_existing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = tmp.path().join("f");
        create_new_private(&p).expect("create");
        let mode = fs::metadata(&p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(matches!(create_new_private(&p), Err(StoreError::Io { .. })));
        remove_if_exists(&p).expect("remove");
        remove_if_exists(&p).expect("remove twice is fine");
    }
}
