//! Where image bytes come from, for the disk writer's reader thread: a
//! byte stream (a decoder, a download, stdin), or a local raw file read
//! extent by extent.
//!
//! Why extents: a raw image is often a sparse file. `SEEK_DATA` /
//! `SEEK_HOLE` tell its holes, which are then never read, only reported
//! as zeros, as `qemu-img convert` skips them. Where the file system
//! cannot tell, the whole file is read as data.

use rustix::fs::{seek, SeekFrom};
use rustix::io::Errno;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

/// One step of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// This many bytes were put in the buffer: all of it unless the
    /// stream or a data extent ends, so blocks stay aligned to the image.
    Data(usize),
    /// This many zero bytes follow (nothing was put in the buffer).
    Zeros(u64),
    /// The image has ended.
    End,
}

/// A source of image bytes, read in the disk writer's reader thread.
pub trait ImageSource: Send {
    /// The next chunk of the image, read into `buf` if it is data.
    fn next_chunk(&mut self, buf: &mut [u8]) -> io::Result<Chunk>;
}

/// A byte stream: everything is data.
pub struct Stream<'a>(pub &'a mut (dyn Read + Send));

impl ImageSource for Stream<'_> {
    fn next_chunk(&mut self, buf: &mut [u8]) -> io::Result<Chunk> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.0.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(if filled == 0 {
            Chunk::End
        } else {
            Chunk::Data(filled)
        })
    }
}

/// A local file read by extents with `pread` (no shared file offset).
pub struct SparseFile<'a> {
    file: &'a File,
    len: u64,
    /// Next image offset to yield.
    off: u64,
    /// End of the data extent `off` lies in (`off` itself when the next
    /// extent has to be looked up).
    data_end: u64,
}

impl<'a> SparseFile<'a> {
    /// The file as an image of its current length.
    pub fn new(file: &'a File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            len,
            off: 0,
            data_end: 0,
        })
    }

    /// Looks up the extent at `off`: returns the zeros before the next
    /// data (0 if `off` is in data) and sets `data_end`.
    fn next_extent(&mut self) -> u64 {
        let data = match seek(self.file, SeekFrom::Data(self.off)) {
            Ok(d) => d.min(self.len),
            // only a hole from `off` to the end
            Err(Errno::NXIO) => self.len,
            // extents unknown here: the rest is data
            Err(_) => {
                self.data_end = self.len;
                return 0;
            }
        };
        self.data_end = if data < self.len {
            seek(self.file, SeekFrom::Hole(data)).map_or(self.len, |h| h.clamp(data + 1, self.len))
        } else {
            self.len
        };
        data - self.off
    }
}

impl ImageSource for SparseFile<'_> {
    fn next_chunk(&mut self, buf: &mut [u8]) -> io::Result<Chunk> {
        if self.off >= self.len {
            return Ok(Chunk::End);
        }
        if self.off >= self.data_end {
            let zeros = self.next_extent();
            if zeros > 0 {
                self.off += zeros;
                return Ok(Chunk::Zeros(zeros));
            }
        }
        let want = buf.len().min((self.data_end - self.off) as usize);
        let mut filled = 0;
        while filled < want {
            match self
                .file
                .read_at(&mut buf[filled..want], self.off + filled as u64)
            {
                Ok(0) => {
                    return Err(io::Error::other(
                        "the image file shrank while it was being read",
                    ))
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.off += filled as u64;
        Ok(Chunk::Data(filled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    fn chunks(src: &mut dyn ImageSource) -> Vec<Chunk> {
        let mut buf = vec![0u8; 1 << 20];
        let mut out = Vec::new();
        loop {
            let c = src.next_chunk(&mut buf).unwrap();
            out.push(c);
            if c == Chunk::End {
                return out;
            }
        }
    }

    #[test]
    fn a_sparse_file_yields_its_extents() {
        let d = tempfile::tempdir().unwrap();
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(d.path().join("img"))
            .unwrap();
        f.set_len(8 << 20).unwrap();
        f.write_all_at(&[1u8; 4096], 2 << 20).unwrap();
        f.write_all_at(&[2u8; 4096], (8 << 20) - 4096).unwrap();
        assert_eq!(
            chunks(&mut SparseFile::new(&f).unwrap()),
            [
                Chunk::Zeros(2 << 20),
                Chunk::Data(4096),
                Chunk::Zeros((6 << 20) - 8192),
                Chunk::Data(4096),
                Chunk::End
            ]
        );
        // a file that is one hole
        let h = File::create(d.path().join("hole")).unwrap();
        h.set_len(3 << 20).unwrap();
        let h = File::open(d.path().join("hole")).unwrap();
        assert_eq!(
            chunks(&mut SparseFile::new(&h).unwrap()),
            [Chunk::Zeros(3 << 20), Chunk::End]
        );
    }

    #[test]
    fn a_stream_fills_whole_buffers() {
        let data = vec![7u8; (1 << 20) + 10];
        // a reader that hands out 1000 bytes at a time
        let mut r = io::Read::chain(&data[..1000], &data[1000..]);
        assert_eq!(
            chunks(&mut Stream(&mut r)),
            [Chunk::Data(1 << 20), Chunk::Data(10), Chunk::End]
        );
    }
}
