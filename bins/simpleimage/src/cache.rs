//! The download cache (`IMAGE_STORAGE`). An entry is the downloaded file
//! exactly as served, named after the SHA-256 of its URL. Entries appear
//! atomically: the download goes to a `.partial-*` name in the same
//! directory and is fsynced and renamed only after the whole image has
//! been decoded and written to the disk. So an interrupted, truncated or
//! corrupt download is never a cache hit. Entries older than
//! `DOWNLOAD_CACHE_MAX_DAYS` are removed when looked up.

use crate::error::{io, Result};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const DAY: u64 = 86_400;

/// The cache directory and its entry lifetime.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    max_age: Duration,
}

impl Cache {
    /// A cache in `dir` whose entries live `days` days; `None` if `days` is 0.
    pub fn new(dir: &Path, days: u64) -> Option<Self> {
        (days > 0).then(|| Self {
            dir: dir.to_path_buf(),
            max_age: Duration::from_secs(days.saturating_mul(DAY)),
        })
    }

    /// The entry path for `url`.
    pub fn entry(&self, url: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.image",
            hex::encode(Sha256::digest(url.as_bytes()))
        ))
    }

    /// A fresh entry for `url`, removing an expired one.
    pub fn lookup(&self, url: &str) -> Option<PathBuf> {
        let path = self.entry(url);
        let meta = std::fs::metadata(&path).ok()?;
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        if meta.is_file() && age <= self.max_age {
            return Some(path);
        }
        let _ = std::fs::remove_file(&path);
        None
    }

    /// Starts a new entry for `url`: a temporary file in the cache dir.
    pub fn begin(&self, url: &str) -> Result<Pending> {
        std::fs::create_dir_all(&self.dir).map_err(io("creating cache dir", &self.dir))?;
        self.remove_stale_partials();
        let final_path = self.entry(url);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp = self.dir.join(format!(
            ".partial-{}-{}-{nanos}",
            final_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io("creating", &tmp))?;
        Ok(Pending {
            file,
            tmp,
            final_path,
            dir: self.dir.clone(),
            done: false,
        })
    }

    /// Partial files of downloads killed more than a day ago.
    fn remove_stale_partials(&self) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in rd.flatten() {
            let old = e
                .metadata()
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|a| a > Duration::from_secs(DAY));
            if old && e.file_name().to_string_lossy().starts_with(".partial-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A download in progress; dropped without [`Pending::commit`] it is removed.
#[derive(Debug)]
pub struct Pending {
    file: File,
    tmp: PathBuf,
    final_path: PathBuf,
    dir: PathBuf,
    done: bool,
}

impl Pending {
    /// The temporary file's path (qcow2 is converted from it).
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Appends downloaded bytes.
    pub fn append(&mut self, data: &[u8]) -> Result<()> {
        self.file.write_all(data).map_err(io("writing", &self.tmp))
    }

    /// Syncs the file and renames it into place (then syncs the directory).
    pub fn commit(mut self) -> Result<PathBuf> {
        self.file.sync_all().map_err(io("syncing", &self.tmp))?;
        std::fs::rename(&self.tmp, &self.final_path).map_err(io("renaming", &self.tmp))?;
        self.done = true;
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(self.final_path.clone())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A reader that copies everything it reads into a [`Pending`] entry and
/// counts the bytes.
#[derive(Debug)]
pub struct Tee<'a, R> {
    /// The source.
    pub inner: R,
    /// The cache entry receiving a copy.
    pub pending: &'a mut Pending,
    /// Bytes read so far.
    pub count: u64,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending
            .file
            .write_all(&buf[..n])
            .map_err(|e| std::io::Error::new(e.kind(), format!("writing cache file: {e}")))?;
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_entries_and_expiry() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::new(d.path(), 1).unwrap();
        assert!(Cache::new(d.path(), 0).is_none());
        assert!(c.lookup("http://h/x").is_none());
        {
            let mut p = c.begin("http://h/x").unwrap();
            p.append(b"abc").unwrap();
            assert!(c.lookup("http://h/x").is_none(), "partial is no hit");
        }
        assert_eq!(
            std::fs::read_dir(d.path()).unwrap().count(),
            0,
            "dropped partial removed"
        );
        let mut p = c.begin("http://h/x").unwrap();
        p.append(b"abc").unwrap();
        let e = p.commit().unwrap();
        assert_eq!(c.lookup("http://h/x"), Some(e.clone()));
        let f = File::options().write(true).open(&e).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(2 * DAY))
            .unwrap();
        assert!(c.lookup("http://h/x").is_none());
        assert!(!e.exists(), "expired entry removed");
    }
}
