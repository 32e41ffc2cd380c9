//! Customisation hooks: after the image is written, the executables in
//! `<config dir>/<variant>/hooks.d` run in the manner of `run-parts`
//! (names matching `^[a-zA-Z0-9_-]+$`, executable regular files, in
//! lexical byte order, stopping at the first failure), with the full OS
//! environment plus `TARGET_DISK_DEVICE`, a block device for the first
//! disk. A file-based disk gets a loop device for the duration of the
//! hooks (`losetup -f --show`), removed afterwards also on failure.

use crate::error::{io, Error, Result};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The hooks that would run, in order.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("reading hooks dir", dir)(e)),
    };
    let mut names = Vec::new();
    for e in rd {
        let e = e.map_err(io("reading hooks dir", dir))?;
        let name = e.file_name();
        let Some(n) = name.to_str() else { continue };
        let valid = !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            continue;
        }
        // Follow symlinks, as run-parts does.
        let Ok(meta) = std::fs::metadata(e.path()) else {
            continue;
        };
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            names.push(n.to_string());
        }
    }
    names.sort();
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// A loop device attached for the hooks; detached on drop.
#[derive(Debug)]
struct LoopDevice(PathBuf);

impl LoopDevice {
    fn attach(file: &Path) -> Result<Self> {
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(file)
            .output()
            .map_err(|e| Error::Command(format!("running losetup: {e}")))?;
        if !out.status.success() {
            return Err(Error::Command(format!(
                "losetup -f --show {} failed: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let dev = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if dev.is_empty() {
            return Err(Error::Command("losetup printed no device".into()));
        }
        Ok(Self(PathBuf::from(dev)))
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let ok = Command::new("losetup")
            .arg("-d")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "simpleimage: warning: could not detach {}",
                self.0.display()
            );
        }
    }
}

/// Runs the hooks of `dir` for `disk`; no hooks means no loop device.
pub fn run(dir: &Path, disk: &Path) -> Result<()> {
    let hooks = list(dir)?;
    if hooks.is_empty() {
        return Ok(());
    }
    let meta = std::fs::metadata(disk).map_err(io("inspecting", disk))?;
    let _loop_dev;
    let device = if meta.file_type().is_block_device() {
        disk.to_path_buf()
    } else {
        let l = LoopDevice::attach(disk)?;
        let d = l.0.clone();
        _loop_dev = l;
        d
    };
    for hook in hooks {
        eprintln!("simpleimage: running hook {}", hook.display());
        let status = Command::new(&hook)
            .env("TARGET_DISK_DEVICE", &device)
            .stdin(Stdio::null())
            .status()
            .map_err(|e| Error::Command(format!("running hook {}: {e}", hook.display())))?;
        if !status.success() {
            return Err(Error::Command(format!(
                "hook {} failed ({status})",
                hook.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_parts_selection() {
        let d = tempfile::tempdir().unwrap();
        for (n, mode) in [
            ("20-b", 0o755),
            ("10_a", 0o755),
            ("30.sh", 0o755),
            ("40-noexec", 0o644),
            ("Z", 0o700),
        ] {
            let p = d.path().join(n);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::fs::create_dir(d.path().join("dir")).unwrap();
        let names: Vec<_> = list(d.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["10_a", "20-b", "Z"]);
        assert!(list(&d.path().join("missing")).unwrap().is_empty());
    }
}
