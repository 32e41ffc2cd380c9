//! Crash-safe, never-exposed file writes for keys and secrets.
//!
//! Why a module of its own: every secret Ganeti keeps is a small file that
//! daemons re-read at start, so a torn or half-written file is as bad as a
//! lost one, and a file that is world-readable for even a moment may have
//! been read. The recipe here is the classic one:
//!
//! 1. create a temporary file *in the target's directory* (so the final
//!    rename cannot cross file systems) with `O_CREAT|O_EXCL` and the final
//!    mode given to `open(2)` itself: the kernel applies the umask, which can
//!    only remove bits, so the file is never more open than asked, from its
//!    first instant; an `fchmod` afterwards makes the mode exact;
//! 2. write, `fsync` the file;
//! 3. `rename(2)` over the target (atomic: readers see the old or the new
//!    file, never a mix);
//! 4. `fsync` the directory so the rename itself survives a crash.
//!
//! On any failure the temporary file is removed and the target is untouched.
//! Backups (Ganeti keeps `NAME.backup-TIMESTAMP.RANDOM` copies of every
//! secret it replaces) are made the same careful way.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::distributions::Alphanumeric;
use rand::Rng;
use time::macros::format_description;
use time::OffsetDateTime;

use crate::CryptoError;

/// Mode of every file this crate writes: read/write for the owner only.
pub const SECRET_FILE_MODE: u32 = 0o600;

/// How many random names to try before giving up on a temporary file.
const UNIQUE_NAME_ATTEMPTS: usize = 32;

/// Atomically replaces (or creates) `path` with `contents`, mode `0600`.
///
/// See the module documentation for the guarantees. The parent directory
/// must exist; it is not created.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> Result<(), CryptoError> {
    write_file_atomic(path, contents, SECRET_FILE_MODE)
}

/// Atomically replaces (or creates) `path` with `contents` and exactly
/// `mode` (permission bits only, e.g. `0o644`).
///
/// Reusable for any small file that must never be seen half-written.
pub fn write_file_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), CryptoError> {
    let mode = mode & 0o7777;
    let (dir, name) = split_path(path)?;
    let mut prefix = OsString::from(".");
    prefix.push(&name);
    prefix.push(".tmp-");
    let (tmp_path, file) =
        create_unique(&dir, &prefix, mode, "create a temporary file in directory")?;

    let result = fill_and_sync(file, &tmp_path, contents, mode).and_then(|()| {
        fs::rename(&tmp_path, path).map_err(|e| CryptoError::io("replace", path, e))
    });
    if let Err(err) = result {
        // Best effort: the temporary file is ours and useless now.
        let _ = fs::remove_file(&tmp_path);
        return Err(err);
    }
    sync_dir(&dir)
}

/// Copies the current content of `path` to a new file
/// `NAME.backup-YYYY-MM-DD_HH_MM_SS.RANDOM` beside it (mode `0600`) and
/// returns the backup's path; `Ok(None)` if `path` does not exist.
///
/// The timestamp is UTC (Ganeti uses local time; reading the local offset
/// is not reliable in a multi-threaded process).
pub fn create_backup(path: &Path) -> Result<Option<PathBuf>, CryptoError> {
    let data = match fs::read(path) {
        Ok(data) => data,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CryptoError::io("read (for a backup)", path, e)),
    };
    let (dir, name) = split_path(path)?;
    let stamp = OffsetDateTime::now_utc()
        .format(format_description!(
            "[year]-[month]-[day]_[hour]_[minute]_[second]"
        ))
        .map_err(|e| CryptoError::Generate {
            what: "a backup file name",
            reason: e.to_string(),
        })?;
    let mut prefix = name;
    prefix.push(format!(".backup-{stamp}."));
    let (backup_path, file) = create_unique(
        &dir,
        &prefix,
        SECRET_FILE_MODE,
        "create a backup file in directory",
    )?;
    if let Err(err) = fill_and_sync(file, &backup_path, &data, SECRET_FILE_MODE) {
        let _ = fs::remove_file(&backup_path);
        return Err(err);
    }
    sync_dir(&dir)?;
    Ok(Some(backup_path))
}

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, CryptoError> {
    fs::read(path).map_err(|e| CryptoError::io("read", path, e))
}

/// Whether something exists at `path` (a dangling symlink counts: Ganeti's
/// `os.path.exists` would say no, but replacing a dangling link is what a
/// renewal should do anyway, and both lead to "generate").
pub(crate) fn exists(path: &Path) -> Result<bool, CryptoError> {
    match fs::metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(CryptoError::io("inspect", path, e)),
    }
}

/// Splits `path` into (directory, final name); a bare name lives in `.`.
fn split_path(path: &Path) -> Result<(PathBuf, OsString), CryptoError> {
    let name = path
        .file_name()
        .ok_or_else(|| CryptoError::InvalidPath {
            path: path.to_path_buf(),
        })?
        .to_os_string();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// Creates a new file `dir/prefix + RANDOM` with `O_EXCL` and `mode`.
fn create_unique(
    dir: &Path,
    prefix: &OsString,
    mode: u32,
    what: &'static str,
) -> Result<(PathBuf, File), CryptoError> {
    let mut last_err = None;
    for _ in 0..UNIQUE_NAME_ATTEMPTS {
        let suffix: String = rand::thread_rng()
            .sample_iter(&Alphanumeric)
            .take(8)
            .map(char::from)
            .collect();
        let mut name = prefix.clone();
        name.push(suffix);
        let candidate = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&candidate)
        {
            Ok(file) => return Ok((candidate, file)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(CryptoError::io(what, dir, e)),
        }
    }
    Err(CryptoError::io(
        "find an unused temporary file name in directory",
        dir,
        last_err.unwrap_or_else(|| ErrorKind::AlreadyExists.into()),
    ))
}

/// Sets the exact mode, writes everything and flushes it to disk.
fn fill_and_sync(
    mut file: File,
    path: &Path,
    contents: &[u8],
    mode: u32,
) -> Result<(), CryptoError> {
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(|e| CryptoError::io("set the permissions of", path, e))?;
    file.write_all(contents)
        .map_err(|e| CryptoError::io("write", path, e))?;
    file.sync_all()
        .map_err(|e| CryptoError::io("flush to disk", path, e))
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), CryptoError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| CryptoError::io("flush to disk directory", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").mode() & 0o7777
    }

    #[test]
    fn writes_new_file_with_exact_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("secret");
        write_secret_file(&p, b"abc\n").expect("write");
        assert_eq!(fs::read(&p).expect("read"), b"abc\n");
        assert_eq!(mode_of(&p), 0o600);
        // No temporary files left behind.
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("secret")]);
    }

    #[test]
    fn replaces_world_readable_file_and_tightens_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("secret");
        fs::write(&p, b"old").expect("write");
        fs::set_permissions(&p, Permissions::from_mode(0o644)).expect("chmod");
        write_secret_file(&p, b"new").expect("write");
        assert_eq!(fs::read(&p).expect("read"), b"new");
        assert_eq!(mode_of(&p), 0o600);
    }

    #[test]
    fn explicit_mode_is_exact() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("public");
        write_file_atomic(&p, b"x", 0o644).expect("write");
        assert_eq!(mode_of(&p), 0o644);
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("nope").join("secret");
        let err = write_secret_file(&p, b"x").expect_err("must fail");
        let msg = err.to_string();
        assert!(
            msg.contains("create a temporary file in directory"),
            "{msg}"
        );
        assert!(msg.contains("nope"), "{msg}");
    }

    #[test]
    fn target_that_is_a_directory_fails_and_leaves_no_temp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub");
        fs::create_dir(&p).expect("mkdir");
        fs::write(p.join("keep"), b"k").expect("write");
        let err = write_secret_file(&p, b"x").expect_err("must fail");
        assert!(err.to_string().contains("cannot replace"), "{err}");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("sub")]);
    }

    #[test]
    fn path_without_file_name_is_refused() {
        let err = write_secret_file(Path::new("/"), b"x").expect_err("must fail");
        assert!(matches!(err, CryptoError::InvalidPath { .. }), "{err:?}");
    }

    #[test]
    fn backup_copies_content_with_owner_only_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("hmac.key");
        assert_eq!(create_backup(&p).expect("no file"), None);
        fs::write(&p, b"old secret\n").expect("write");
        fs::set_permissions(&p, Permissions::from_mode(0o644)).expect("chmod");
        let b = create_backup(&p).expect("backup").expect("some path");
        let name = b.file_name().expect("name").to_string_lossy().into_owned();
        assert!(name.starts_with("hmac.key.backup-"), "{name}");
        assert_eq!(fs::read(&b).expect("read"), b"old secret\n");
        assert_eq!(mode_of(&b), 0o600);
        let b2 = create_backup(&p).expect("backup").expect("some path");
        assert_ne!(b, b2, "two backups must not collide");
    }
}
