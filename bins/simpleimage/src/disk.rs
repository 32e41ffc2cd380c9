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
//!
//! A local raw image is read extent by extent (`SEEK_DATA`/`SEEK_HOLE`):
//! its holes are never read, they only extend the zero run, as
//! `qemu-img convert` skips them.
//!
//! Reading (and decompressing) the image and writing the disk overlap: a
//! reader thread fills buffers that the writer consumes, as `xzcat | dd`
//! overlaps them in two processes. Buffers are always filled completely
//! except the last, so zero detection stays aligned to image offsets.

use crate::error::{io, Error, Result};
use crate::source::{Chunk, ImageSource, SparseFile, Stream};
use rustix::fs::{fallocate, FallocateFlags};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{FileExt, FileTypeExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Granularity of zero detection.
pub const BLOCK: usize = 4096;
/// Size of each buffer passed from the reader to the writer.
pub const CHUNK: usize = 1 << 20;
/// Buffers in flight between reader and writer.
const BUFFERS: usize = 4;

/// Size in bytes of a regular file or a block device.
pub fn device_size(file: &mut File, path: &Path) -> Result<u64> {
    let meta = file.metadata().map_err(io("inspecting", path))?;
    if meta.file_type().is_block_device() {
        let end = file
            .seek(std::io::SeekFrom::End(0))
            .map_err(io("seeking", path))?;
        file.seek(std::io::SeekFrom::Start(0))
            .map_err(io("seeking", path))?;
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

    /// Copies `reader` to the disk; see [`DiskWriter::copy`].
    pub fn copy_from(&mut self, reader: &mut (dyn Read + Send), image: &str) -> Result<u64> {
        self.copy(&mut Stream(reader), image)
    }

    /// Copies a local raw image file, reading only its data extents.
    pub fn copy_file(&mut self, file: &File, image: &str) -> Result<u64> {
        let mut source = SparseFile::new(file).map_err(|source| Error::Image {
            image: image.to_string(),
            source,
        })?;
        self.copy(&mut source, image)
    }

    /// Copies `source` to the disk, reading it in a second thread while
    /// writing; read errors are reported as image errors naming `image`.
    /// Returns the number of image bytes so far.
    pub fn copy(&mut self, source: &mut dyn ImageSource, image: &str) -> Result<u64> {
        let (full_tx, full_rx) = mpsc::sync_channel::<std::io::Result<Piece>>(BUFFERS);
        let (empty_tx, empty_rx) = mpsc::channel::<Box<[u8]>>();
        for _ in 0..BUFFERS {
            let _ = empty_tx.send(vec![0u8; CHUNK].into_boxed_slice());
        }
        std::thread::scope(|scope| {
            scope.spawn(move || {
                // Ends when the image ends, on a read error, or when the
                // writer has stopped (its channels are closed).
                let mut spare: Option<Box<[u8]>> = None;
                loop {
                    let mut buf = match spare.take().map_or_else(|| empty_rx.recv(), Ok) {
                        Ok(b) => b,
                        Err(_) => return,
                    };
                    let piece = match source.next_chunk(&mut buf) {
                        Ok(Chunk::End) => return,
                        Ok(Chunk::Zeros(len)) => {
                            spare = Some(buf);
                            Piece::Zeros(len)
                        }
                        Ok(Chunk::Data(n)) => Piece::Data(buf, n),
                        Err(e) => {
                            let _ = full_tx.send(Err(e));
                            return;
                        }
                    };
                    if full_tx.send(Ok(piece)).is_err() {
                        return;
                    }
                }
            });
            let outcome = (|| {
                for msg in &full_rx {
                    let piece = msg.map_err(|source| Error::Image {
                        image: image.to_string(),
                        source,
                    })?;
                    let len = match &piece {
                        Piece::Data(_, n) => *n as u64,
                        Piece::Zeros(len) => *len,
                    };
                    let end = self.pos + len;
                    if end > self.capacity {
                        return Err(Error::TooLarge {
                            image: end,
                            disk: self.capacity,
                        });
                    }
                    match piece {
                        Piece::Zeros(len) => self.skip_zeros(len),
                        Piece::Data(buf, n) => {
                            self.write_buffer(&buf[..n])?;
                            // The reader may be gone after the last buffer.
                            let _ = empty_tx.send(buf);
                        }
                    }
                }
                Ok(self.pos)
            })();
            // Stop the reader (if still running) before joining it.
            drop(full_rx);
            drop(empty_tx);
            outcome
        })
    }

    /// Adds `len` zero bytes of image (the caller checked the capacity).
    fn skip_zeros(&mut self, len: u64) {
        self.zero_run = match self.zero_run {
            Some((zs, zl)) => Some((zs, zl + len)),
            None => Some((self.pos, len)),
        };
        self.pos += len;
    }

    /// Writes what is pending, grows a short file to the image size, syncs;
    /// returns the image size.
    pub fn finish(mut self) -> Result<u64> {
        self.materialise_zero_run()?;
        if !self.is_block && self.pos > self.initial_len {
            self.file
                .set_len(self.pos)
                .map_err(io("growing", &self.path))?;
        }
        self.file.sync_data().map_err(io("syncing", &self.path))?;
        Ok(self.pos)
    }

    /// Writes one buffer of image bytes at the current position: data
    /// blocks are written, zero blocks extend the pending zero run.
    fn write_buffer(&mut self, buf: &[u8]) -> Result<()> {
        let base = self.pos;
        let mut data_start: Option<usize> = None;
        for (i, block) in buf.chunks(BLOCK).enumerate() {
            let off = i * BLOCK;
            if is_zero(block) {
                if let Some(s) = data_start.take() {
                    write_at(&self.file, &self.path, &buf[s..off], base + s as u64)?;
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
            write_at(&self.file, &self.path, &buf[s..], base + s as u64)?;
        }
        self.pos = base + buf.len() as u64;
        Ok(())
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
            write_at(&self.file, &self.path, &zeros[..n], off)?;
            off += n as u64;
        }
        Ok(())
    }
}

/// What the reader thread hands the writer.
enum Piece {
    /// A buffer and how much of it is image data.
    Data(Box<[u8]>, usize),
    /// Zeros that were not read.
    Zeros(u64),
}

fn write_at(file: &File, path: &Path, data: &[u8], off: u64) -> Result<()> {
    file.write_all_at(data, off).map_err(io("writing", path))
}

/// True if every byte of `block` is zero. Data blocks almost always show a
/// non-zero byte in their first 64, so those are tried first; the rest is
/// folded word-wise in 256-byte strides (vectorised), stopping at the
/// first stride with data.
fn is_zero(block: &[u8]) -> bool {
    fn fold(bytes: &[u8]) -> u64 {
        let mut words = bytes.chunks_exact(8);
        let acc = words.by_ref().fold(0u64, |acc, w| {
            acc | u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]])
        });
        words
            .remainder()
            .iter()
            .fold(acc, |acc, b| acc | u64::from(*b))
    }
    let head = block.len().min(64);
    fold(&block[..head]) == 0 && block[head..].chunks(256).all(|s| fold(s) == 0)
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
        for at in [0, 63, 64, 100, 319, 320, 4095] {
            let mut b = [0u8; 4096];
            b[at] = 1;
            assert!(!is_zero(&b), "data at {at}");
        }
        let mut short = [0u8; 13];
        short[12] = 1;
        assert!(!is_zero(&short));
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
        w.copy_from(&mut &img[..], "img").unwrap();
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
        w.copy_from(&mut &img[..], "img").unwrap();
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
            w.copy_from(&mut &vec![0u8; (32 << 20) + 1][..], "img"),
            Err(Error::TooLarge { .. })
        ));
    }

    /// A reader handing out at most `step` bytes per read, failing once
    /// `fail_at` bytes have been read.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
        fail_at: Option<usize>,
        done: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.fail_at.is_some_and(|f| self.done >= f) {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = buf.len().min(self.step).min(self.data.len() - self.done);
            buf[..n].copy_from_slice(&self.data[self.done..self.done + n]);
            self.done += n;
            Ok(n)
        }
    }

    #[test]
    fn short_reads_keep_zero_detection_aligned() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("disk");
        File::create(&p).unwrap().set_len(16 << 20).unwrap();
        // data, 8 MiB of zeros, data: odd-sized reads straddle every block
        let mut img = vec![0u8; 10 << 20];
        img[..(1 << 20)].fill(0x5A);
        img[(9 << 20) + 17] = 3;
        let mut r = Trickle {
            data: &img,
            step: 1000,
            fail_at: None,
            done: 0,
        };
        let mut w = DiskWriter::open(&p, None).unwrap();
        assert_eq!(w.copy_from(&mut r, "img").unwrap(), 10 << 20);
        w.finish().unwrap();
        let back = std::fs::read(&p).unwrap();
        assert_eq!(&back[..10 << 20], &img[..]);
        let allocated = std::fs::metadata(&p).unwrap().blocks() * 512;
        assert!(allocated < 3 << 20, "zeros were written: {allocated} bytes");
    }

    #[test]
    fn a_failing_reader_is_an_image_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("disk");
        File::create(&p).unwrap().set_len(16 << 20).unwrap();
        let img = vec![1u8; 10 << 20];
        let mut r = Trickle {
            data: &img,
            step: 1 << 16,
            fail_at: Some(3 << 20),
            done: 0,
        };
        let mut w = DiskWriter::open(&p, None).unwrap();
        match w.copy_from(&mut r, "img.xz") {
            Err(Error::Image { image, source }) => {
                assert_eq!(image, "img.xz");
                assert_eq!(source.to_string(), "connection reset");
            }
            other => panic!("expected an image error, got {other:?}"),
        }
    }

    #[test]
    fn a_sparse_image_file_is_copied_by_extents() {
        let d = tempfile::tempdir().unwrap();
        // image: hole, data, hole, zeros written as data, data at the end
        let img_path = d.path().join("img");
        let img = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&img_path)
            .unwrap();
        img.set_len(40 << 20).unwrap();
        img.write_all_at(&vec![0x11u8; 1 << 20], 4 << 20).unwrap();
        img.write_all_at(&vec![0u8; 2 << 20], 20 << 20).unwrap();
        img.write_all_at(b"tail", (40 << 20) - 4).unwrap();
        let mut expected = vec![0u8; 40 << 20];
        expected[4 << 20..5 << 20].fill(0x11);
        expected[(40 << 20) - 4..].copy_from_slice(b"tail");
        // the disk has old contents everywhere: holes must read back as zeros
        let p = d.path().join("disk");
        std::fs::write(&p, vec![0xAAu8; 48 << 20]).unwrap();
        let mut w = DiskWriter::open(&p, None).unwrap();
        assert_eq!(w.copy_file(&img, "img").unwrap(), 40 << 20);
        w.finish().unwrap();
        let back = std::fs::read(&p).unwrap();
        assert!(back[..40 << 20] == expected[..], "image bytes differ");
        assert!(
            back[40 << 20..].iter().all(|b| *b == 0xAA),
            "past the image"
        );
        let allocated = std::fs::metadata(&p).unwrap().blocks() * 512;
        assert!(
            allocated < 11 << 20,
            "holes were written: {allocated} bytes"
        );

        // a sparse image larger than the disk is refused, even in a hole
        let small = d.path().join("small");
        File::create(&small).unwrap().set_len(8 << 20).unwrap();
        let mut w = DiskWriter::open(&small, None).unwrap();
        assert!(matches!(
            w.copy_file(&img, "img"),
            Err(Error::TooLarge { .. })
        ));
    }
}
