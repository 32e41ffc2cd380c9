//! qcow2 images go through `qemu-img`, which needs a seekable file: the
//! image is a local file (or a completed download) and the disk is written
//! in place (`convert -n -O raw`), so no temporary raw copy is made.
//! Images with a backing file or an external data file are refused: such
//! an image from the network could name any file of this node and copy it
//! into the guest's disk.

use crate::error::{Error, Result};
use std::path::Path;
use std::process::Command;

/// What `qemu-img info` tells about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Guest-visible size in bytes.
    pub virtual_size: u64,
}

/// Inspects a qcow2 file.
pub fn info(image: &Path) -> Result<Info> {
    let out = Command::new("qemu-img")
        .args(["info", "--output=json", "-f", "qcow2"])
        .arg(image)
        .output()
        .map_err(|e| Error::Command(format!("running qemu-img info: {e}")))?;
    if !out.status.success() {
        return Err(Error::Command(format!(
            "qemu-img info {} failed: {}",
            image.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::Command(format!("qemu-img info output: {e}")))?;
    if v.get("backing-filename").is_some() || v.get("full-backing-filename").is_some() {
        return Err(Error::Usage(format!(
            "qcow2 image {} has a backing file; refusing it",
            image.display()
        )));
    }
    if v.pointer("/format-specific/data/data-file").is_some() {
        return Err(Error::Usage(format!(
            "qcow2 image {} has an external data file; refusing it",
            image.display()
        )));
    }
    let virtual_size = v
        .get("virtual-size")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| Error::Command("qemu-img info: no virtual-size".into()))?;
    Ok(Info { virtual_size })
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
