//! Writing an image stream onto a disk (regular file or block device)
//! sparsely and never past its end.
//!
//! Zero blocks are not written. A zero run that lies beyond the file's
//! original end is simply skipped (the file is grown with `set_len` at the
//! end, never shrunk). A zero run inside existing data must still read
//! back as zeros (a reinstall, an LVM volume with old contents), so it is
//! deallocated instead of written: a hole punched in a file, a
//! zero-range on a block device (both one `fallocate` per run, whatever
//! its length); if that is not supported, zeros are written.

use crate::error::{io, Error, Result};
use rustix::fs::{fallocate, FallocateFlags};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::{Path, PathBuf};

/// Granularity of zero detection.
pub const BLOCK: usize = 4096;
/// Size of the staging buffer (and of reads from the image).
pub const CHUNK: usize = 1 << 20;

/// Size in bytes of a regular file or a block device.
pub fn device_size(file: &mut File, path: &Path) -> Result<u64> {
    let meta = file.metadata().map_err(io("inspecting", path))?;
    if meta.file_type().is_block_device() {
        let end = file.seek(SeekFrom::End(0)).map_err(io("seeking", path))?;
        file.seek(SeekFrom::Start(0)).map_err(io("seeking", path))?;
        Ok(end)
    } else {
        Ok(meta.len())
    }
}

/// A sparse, bounded writer onto a disk.
#[derive(Debug)]
pub struct DiskWriter {
    file: File,
    path: PathBuf,
    is_block: bool,
    /// Length of the regular file when opened (0 for block devices).
    initial_len: u64,
    capacity: u64,
    /// Bytes of the image consumed so far (= next offset).
    pos: u64,
    /// Pending zero run (start, len), not materialised yet.
    zero_run: Option<(u64, u64)>,
    staging: Vec<u8>,
}

impl DiskWriter {
    /// Opens `path` for writing; `min_capacity` (e.g. `DISK_0_SIZE`) is the
    /// capacity of a regular file that is shorter than the disk it stands for.
    pub fn open(path: &Path, min_capacity: Option<u64>) -> Result<Self> {
        let mut file = OpenOptions::new()
            .write(true)
            .read(true)
            .open(path)
            .map_err(io("opening disk", path))?;
        let meta = file.metadata().map_err(io("inspecting", path))?;
        let is_block = meta.file_type().is_block_device();
        if !is_block && !meta.file_type().is_file() {
            return Err(Error::Usage(format!(
                "disk {} is neither a regular file nor a block device",
                path.display()
            )));
        }
        let size = device_size(&mut file, path)?;
        let capacity = if is_block {
            size
        } else {
            size.max(min_capacity.unwrap_or(0))
        };
        if capacity == 0 {
            return Err(Error::Usage(format!(
                "disk {} has size 0 (and DISK_0_SIZE is not set)",
                path.display()
            )));
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
            is_block,
            initial_len: if is_block { 0 } else { size },
            capacity,
            pos: 0,
            zero_run: None,
            staging: Vec::with_capacity(CHUNK),
        })
    }

    /// Refuses up front an image whose size is known to exceed the disk.
    pub fn check_fits(&self, image_size: u64) -> Result<()> {
        if image_size > self.capacity {
            return Err(Error::TooLarge {
                image: image_size,
                disk: self.capacity,
            });
        }
        Ok(())
    }

    /// Copies `reader` to the disk; read errors are reported as image errors
    /// naming `image`.
    pub fn copy_from(&mut self, reader: &mut dyn Read, image: &str) -> Result<u64> {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Image {
                        image: image.to_string(),
                        source,
                    })
                }
            };
            self.write(&buf[..n])?;
        }
        Ok(self.pos + self.staging.len() as u64)
    }

    /// Adds image bytes.
    pub fn write(&mut self, mut data: &[u8]) -> Result<()> {
        let end = self.pos + self.staging.len() as u64 + data.len() as u64;
        if end > self.capacity {
            return Err(Error::TooLarge {
                image: end,
                disk: self.capacity,
            });
        }
        while !data.is_empty() {
            let take = (CHUNK - self.staging.len()).min(data.len());
            self.staging.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.staging.len() == CHUNK {
                self.flush_staging()?;
            }
        }
        Ok(())
    }

    /// Writes what is pending, grows a short file to the image size, syncs;
    /// returns the image size.
    pub fn finish(mut self) -> Result<u64> {
        self.flush_staging()?;
        self.materialise_zero_run()?;
        if !self.is_block && self.pos > self.initial_len {
            self.file
                .set_len(self.pos)
                .map_err(io("growing", &self.path))?;
        }
        self.file.sync_all().map_err(io("syncing", &self.path))?;
        Ok(self.pos)
    }

    fn flush_staging(&mut self) -> Result<()> {
        let staging = std::mem::take(&mut self.staging);
        let base = self.pos;
        let mut data_start: Option<usize> = None;
        for (i, block) in staging.chunks(BLOCK).enumerate() {
            let off = i * BLOCK;
            if is_zero(block) {
                if let Some(s) = data_start.take() {
                    self.write_at(&staging[s..off], base + s as u64)?;
                }
                let len = block.len() as u64;
                self.zero_run = match self.zero_run {
                    Some((zs, zl)) => Some((zs, zl + len)),
                    None => Some((base + off as u64, len)),
                };
            } else if data_start.is_none() {
                self.materialise_zero_run()?;
                data_start = Some(off);
            }
        }
        if let Some(s) = data_start {
            self.write_at(&staging[s..], base + s as u64)?;
        }
        self.pos = base + staging.len() as u64;
        self.staging = staging;
        self.staging.clear();
        Ok(())
    }

    fn write_at(&self, data: &[u8], off: u64) -> Result<()> {
        self.file
            .write_all_at(data, off)
            .map_err(io("writing", &self.path))
    }

    fn materialise_zero_run(&mut self) -> Result<()> {
        let Some((start, len)) = self.zero_run.take() else {
            return Ok(());
        };
        // Beyond the original end of a file nothing needs doing.
        let end = if self.is_block {
            start + len
        } else {
            (start + len).min(self.initial_len)
        };
        if end <= start {
            return Ok(());
        }
        let flags = if self.is_block {
            FallocateFlags::ZERO_RANGE | FallocateFlags::KEEP_SIZE
        } else {
            FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE
        };
        if fallocate(&self.file, flags, start, end - start).is_ok() {
            return Ok(());
        }
        let zeros = vec![0u8; CHUNK];
        let mut off = start;
        while off < end {
            let n = ((end - off) as usize).min(CHUNK);
            self.write_at(&zeros[..n], off)?;
            off += n as u64;
        }
        Ok(())
    }
}

/// True if every byte of `block` is zero (word-wise, so it vectorises).
fn is_zero(block: &[u8]) -> bool {
    let mut words = block.chunks_exact(8);
    let acc = words.by_ref().fold(0u64, |acc, w| {
        acc | u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
    });
    acc == 0 && words.remainder().iter().all(|b| *b == 0)
}

/// Copies a whole disk to `out` (for export).
pub fn copy_disk_to(path: &Path, out: &mut dyn Write) -> Result<u64> {
    let mut f = File::open(path).map_err(io("opening disk", path))?;
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io("reading", path)(e)),
        };
        out.write_all(&buf[..n]).map_err(io("writing", "stdout"))?;
        total += n as u64;
    }
    out.flush().map_err(io("writing", "stdout"))?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn zero_detection() {
        assert!(is_zero(&[0u8; 4096]));
        assert!(is_zero(&[0u8; 13]));
        let mut b = [0u8; 4096];
        b[4095] = 1;
        assert!(!is_zero(&b));
    }

    #[test]
    fn sparse_overwrite_and_bounds() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("disk");
        // Old contents everywhere: the zeros of the image must replace them.
        std::fs::write(&p, vec![0xAAu8; 8 << 20]).unwrap();
        let mut w = DiskWriter::open(&p, None).unwrap();
        let mut img = vec![0u8; 3 << 20];
        img[5000] = 7;
        img[(3 << 20) - 1] = 9;
        w.write(&img).unwrap();
        assert_eq!(w.finish().unwrap(), 3 << 20);
        let back = std::fs::read(&p).unwrap();
        assert_eq!(back.len(), 8 << 20, "never shrinks the file");
        assert_eq!(&back[..3 << 20], &img[..]);
        assert!(back[3 << 20..].iter().all(|b| *b == 0xAA));

        // Growing a short file up to min_capacity, holes stay holes.
        let q = d.path().join("small");
        File::create(&q).unwrap();
        let mut w = DiskWriter::open(&q, Some(64 << 20)).unwrap();
        let mut img = vec![0u8; 32 << 20];
        img[0] = 1;
        w.write(&img).unwrap();
        w.finish().unwrap();
        let m = std::fs::metadata(&q).unwrap();
        assert_eq!(m.len(), 32 << 20);
        assert!(m.blocks() * 512 < 1 << 20, "blocks {}", m.blocks());

        let mut w = DiskWriter::open(&q, None).unwrap();
        assert!(matches!(
            w.check_fits(33 << 20),
            Err(Error::TooLarge { .. })
        ));
        assert!(matches!(
            w.write(&vec![0u8; (32 << 20) + 1]),
            Err(Error::TooLarge { .. })
        ));
    }
}
