//! Disk images for guests that run from the disk an OS provider wrote.
//!
//! A test guest normally lives in its initramfs; an OS provider test must
//! instead show that the guest's root is the image the provider put on the
//! instance's first disk. build-guest.sh leaves `rootfs.img`, an ext4 image
//! of the same userland, and its initramfs switches to the disk given by
//! `gnt.root=`. Every test stamps its own copy with a fresh id
//! (`/etc/gnt/disk-id`, written with `debugfs -w`: no root, loop device or
//! mount needed) that the guest prints in its ready line, so a guest that
//! came up from anything else (an old disk, the initramfs) cannot pass.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::KvmEnv;

/// Where the first disk of a paravirtual (virtio) instance appears.
pub const DISK_ROOT_DEV: &str = "/dev/vda";

impl KvmEnv {
    /// The guest's disk root image (`rootfs.img`), or why there is none.
    pub fn rootfs(&self) -> Result<PathBuf, String> {
        let p = self.guest_dir.join("rootfs.img");
        if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "{} is missing: the guest was built before it had a disk root \
                 (run tests/guest/build-guest.sh again)",
                p.display()
            ))
        }
    }
}

/// Kernel arguments of a guest named `name` that runs from its first disk.
pub fn disk_root_args(name: &str) -> String {
    format!("quiet gnt.name={name} gnt.root={DISK_ROOT_DEV}")
}

/// An id no other test run uses: `tag`, this process, the time and a
/// counter.
pub fn unique_id(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{tag}-{}-{nanos:x}-{n}", std::process::id())
}

/// A tool from PATH or the sbin directories (e2fsprogs lives there and a
/// test's PATH may lack them).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn run(tool: &str, args: &[&OsStr]) -> Result<String, String> {
    let exe = find_tool(tool).ok_or_else(|| format!("{tool} not found"))?;
    let out = Command::new(&exe)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{tool} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Copy the ext4 image `src` to `dst` and write `id` as the copy's
/// `/etc/gnt/disk-id`, replacing any there. `id` must be one word of
/// `[A-Za-z0-9._-]` (the guest prints the first word). Checked by reading
/// the file back: debugfs exits 0 even when a request fails.
pub fn stamp_disk_id(src: &Path, dst: &Path, id: &str) -> Result<(), String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if id.is_empty() || !id.chars().all(valid) {
        return Err(format!("invalid disk id {id:?}: want [A-Za-z0-9._-]+"));
    }
    std::fs::copy(src, dst)
        .map_err(|e| format!("copy {} to {}: {e}", src.display(), dst.display()))?;
    let id_file = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    std::fs::write(id_file.path(), format!("{id}\n")).map_err(|e| e.to_string())?;
    let write = format!("write {} /etc/gnt/disk-id", id_file.path().display());
    // remove first: debugfs will not overwrite (its error is ignored when
    // there is nothing to remove)
    for req in ["rm /etc/gnt/disk-id", write.as_str()] {
        run(
            "debugfs",
            &[
                OsStr::new("-w"),
                OsStr::new("-R"),
                OsStr::new(req),
                dst.as_os_str(),
            ],
        )?;
    }
    let back = run(
        "debugfs",
        &[
            OsStr::new("-R"),
            OsStr::new("cat /etc/gnt/disk-id"),
            dst.as_os_str(),
        ],
    )?;
    if back.trim() != id {
        return Err(format!(
            "{}: /etc/gnt/disk-id reads {:?} after writing {id:?} (not an ext4 image \
             made by build-guest.sh?)",
            dst.display(),
            back.trim()
        ));
    }
    Ok(())
}

/// `xz -T0` of `src` into `dst` (what an operator does to publish an
/// image; simpleimage's `raw+xz`).
pub fn xz_compress(src: &Path, dst: &Path) -> Result<(), String> {
    let exe = find_tool("xz").ok_or("xz not found (apt-get install xz-utils)")?;
    let out = std::fs::File::create(dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    let status = Command::new(&exe)
        .args(["-T0", "-c", "--"])
        .arg(src)
        .stdin(Stdio::null())
        .stdout(out)
        .status()
        .map_err(|e| format!("{}: {e}", exe.display()))?;
    if !status.success() {
        let _ = std::fs::remove_file(dst);
        return Err(format!("xz -T0 {} failed: {status}", src.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small ext4 image with an /etc/gnt directory, like rootfs.img, or
    /// None (and a loud skip) without mke2fs/debugfs.
    fn ext4_image(dir: &Path) -> Option<PathBuf> {
        if find_tool("mke2fs").is_none() || find_tool("debugfs").is_none() {
            super::super::skip("mke2fs/debugfs missing (apt-get install e2fsprogs)");
            return None;
        }
        let tree = dir.join("tree");
        std::fs::create_dir_all(tree.join("etc/gnt")).unwrap();
        let img = dir.join("src.img");
        run(
            "mke2fs",
            &[
                OsStr::new("-q"),
                OsStr::new("-F"),
                OsStr::new("-t"),
                OsStr::new("ext4"),
                OsStr::new("-d"),
                tree.as_os_str(),
                img.as_os_str(),
                OsStr::new("4M"),
            ],
        )
        .unwrap();
        Some(img)
    }

    #[test]
    fn stamping_writes_and_replaces_the_id_in_a_copy() {
        let dir = tempfile::tempdir().unwrap();
        let Some(src) = ext4_image(dir.path()) else {
            return;
        };
        let before = std::fs::read(&src).unwrap();
        let dst = dir.path().join("a.img");
        stamp_disk_id(&src, &dst, "first-1").unwrap();
        // stamping again replaces the id
        stamp_disk_id(&dst.clone(), &dir.path().join("b.img"), "second.2").unwrap();
        let read = |p: &Path| {
            run(
                "debugfs",
                &[
                    OsStr::new("-R"),
                    OsStr::new("cat /etc/gnt/disk-id"),
                    p.as_os_str(),
                ],
            )
            .unwrap()
        };
        assert_eq!(read(&dst), "first-1\n");
        assert_eq!(read(&dir.path().join("b.img")), "second.2\n");
        assert_eq!(std::fs::read(&src).unwrap(), before, "source untouched");
    }

    #[test]
    fn bad_ids_and_bad_images_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.img");
        std::fs::write(&junk, vec![0u8; 65536]).unwrap();
        let dst = dir.path().join("x.img");
        for id in ["", "two words", "a/b", "nl\n", "ü"] {
            let e = stamp_disk_id(&junk, &dst, id).unwrap_err();
            assert!(e.contains("invalid disk id"), "{id:?}: {e}");
        }
        let e = stamp_disk_id(&dir.path().join("absent"), &dst, "x").unwrap_err();
        assert!(e.contains("copy"), "{e}");
        if find_tool("debugfs").is_none() {
            super::super::skip("debugfs missing (apt-get install e2fsprogs)");
            return;
        }
        // not a filesystem: debugfs fails, or the read-back does
        assert!(stamp_disk_id(&junk, &dst, "x").is_err());
    }

    #[test]
    fn xz_round_trips_and_reports_failure() {
        if find_tool("xz").is_none() {
            super::super::skip("xz missing (apt-get install xz-utils)");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("raw");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &data).unwrap();
        let xz = dir.path().join("raw.xz");
        xz_compress(&src, &xz).unwrap();
        let back = Command::new(find_tool("xz").unwrap())
            .args(["-dc", "--"])
            .arg(&xz)
            .output()
            .unwrap();
        assert!(back.status.success());
        assert_eq!(back.stdout, data);
        let bad = dir.path().join("bad.xz");
        let e = xz_compress(&dir.path().join("absent"), &bad).unwrap_err();
        assert!(e.contains("failed"), "{e}");
        assert!(!bad.exists(), "a failed compression leaves no file");
    }

    #[test]
    fn disk_root_args_and_unique_ids() {
        assert_eq!(disk_root_args("g1"), "quiet gnt.name=g1 gnt.root=/dev/vda");
        let (a, b) = (unique_id("t"), unique_id("t"));
        assert_ne!(a, b);
        assert!(a.starts_with("t-"));
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
    }
}
