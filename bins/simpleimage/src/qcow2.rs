//! qcow2 images go through `qemu-img`, which needs a seekable file: the
//! image is a local file (or a completed download) and the disk is written
//! in place (`convert -n -O raw`), so no temporary raw copy is made.
//! Images with a backing file or an external data file are refused: such
//! an image from the network could name any file of this node and copy it
//! into the guest's disk.
//!
//! Why the header is read here rather than asked of `qemu-img info`: the
//! three facts needed (virtual size, backing file, external data file)
//! are fixed fields of the qcow2 header, and a second QEMU process per
//! image costs more than the conversion of a small sparse image.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::Command;

/// What the qcow2 header tells about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Guest-visible size in bytes.
    pub virtual_size: u64,
}

const MAGIC: &[u8; 4] = b"QFI\xfb";
/// Header length of version 2; version 3 adds the feature fields.
const HEADER_V2: usize = 72;
const HEADER_V3: usize = 104;
/// `incompatible_features` bit: the guest data lives in an external file.
const INCOMPAT_DATA_FILE: u64 = 1 << 2;

fn be_u32(h: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]])
}

fn be_u64(h: &[u8], at: usize) -> u64 {
    (u64::from(be_u32(h, at)) << 32) | u64::from(be_u32(h, at + 4))
}

/// Inspects a qcow2 file's header.
pub fn info(image: &Path) -> Result<Info> {
    let bad = |what: &str| Error::Usage(format!("qcow2 image {}: {what}", image.display()));
    let mut header = Vec::with_capacity(HEADER_V3);
    File::open(image)
        .and_then(|f| f.take(HEADER_V3 as u64).read_to_end(&mut header))
        .map_err(|e| Error::Image {
            image: image.display().to_string(),
            source: e,
        })?;
    if header.len() < HEADER_V2 || &header[..4] != MAGIC {
        return Err(bad("not a qcow2 file (no qcow2 header)"));
    }
    let version = be_u32(&header, 4);
    let needed = match version {
        2 => HEADER_V2,
        3 => HEADER_V3,
        v => return Err(bad(&format!("unsupported qcow2 version {v}"))),
    };
    if header.len() < needed {
        return Err(bad("truncated qcow2 header"));
    }
    if be_u64(&header, 8) != 0 {
        return Err(Error::Usage(format!(
            "qcow2 image {} has a backing file; refusing it",
            image.display()
        )));
    }
    if version == 3 && be_u64(&header, 72) & INCOMPAT_DATA_FILE != 0 {
        return Err(Error::Usage(format!(
            "qcow2 image {} has an external data file; refusing it",
            image.display()
        )));
    }
    Ok(Info {
        virtual_size: be_u64(&header, 24),
    })
}

/// Converts `image` onto `disk` (which is at least `info.virtual_size`).
/// `-t writeback` makes qemu-img flush the disk at the end (its default
/// for convert, "unsafe", never does), as the other image types are
/// synced before success is reported.
pub fn convert(image: &Path, disk: &Path) -> Result<()> {
    let out = Command::new("qemu-img")
        .args([
            "convert",
            "-q",
            "-n",
            "-t",
            "writeback",
            "-f",
            "qcow2",
            "-O",
            "raw",
        ])
        .arg(image)
        .arg(disk)
        .output()
        .map_err(|e| Error::Command(format!("running qemu-img convert: {e}")))?;
    if !out.status.success() {
        return Err(Error::Command(format!(
            "qemu-img convert {} failed: {}",
            image.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}
