//! Real guests on the disk templates this machine can run for real:
//! `sharedfile` (a raw file in the shared file storage directory) and
//! `blockdev` (an adopted block device: a loop device here, reached through
//! a `/dev/disk/...` link as Ganeti requires for adoption). What the guest
//! writes must land on the device, and removing a blockdev instance must
//! leave the adopted device and its data alone.
//!
//! Skips loudly, like the rest of the kvm tier, without QEMU, the guest or
//! root (needed for loop devices too).

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ganeti_e2e::kvm::{guest_args, skip};
use ganeti_e2e::{kvm_env_or_skip, Cluster};

const BOOT: Duration = Duration::from_secs(90);
const CMD: Duration = Duration::from_secs(20);

/// A loop device over a sparse file, with a `/dev/disk/by-id` link to it;
/// both detached/removed on drop.
struct LoopDisk {
    dev: PathBuf,
    link: PathBuf,
    made_dirs: Vec<PathBuf>,
    _backing: tempfile::NamedTempFile,
}

impl LoopDisk {
    fn new(size_mib: u64) -> Result<Self, String> {
        let backing = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
        backing
            .as_file()
            .set_len(size_mib << 20)
            .map_err(|e| e.to_string())?;
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(backing.path())
            .output()
            .map_err(|e| format!("losetup: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "losetup failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let by_id = Path::new("/dev/disk/by-id");
        let mut made_dirs = Vec::new();
        for d in [Path::new("/dev/disk"), by_id] {
            if !d.exists() {
                fs::create_dir(d).map_err(|e| format!("{}: {e}", d.display()))?;
                made_dirs.push(d.to_path_buf());
            }
        }
        let link = by_id.join(format!("ganeti-e2e-{}-{}", std::process::id(), size_mib));
        let disk = LoopDisk {
            dev,
            link,
            made_dirs,
            _backing: backing,
        };
        std::os::unix::fs::symlink(&disk.dev, &disk.link).map_err(|e| e.to_string())?;
        Ok(disk)
    }

    fn read_start(&self, n: usize) -> Vec<u8> {
        let mut data = fs::read(&self.dev).unwrap_or_default();
        data.truncate(n);
        data
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.link);
        for d in self.made_dirs.iter().rev() {
            let _ = fs::remove_dir(d);
        }
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}

fn cluster(env: &ganeti_e2e::kvm::KvmEnv) -> Cluster {
    let c = Cluster::empty();
    let mut opts = env.init_options("br0");
    for o in opts.iter_mut() {
        if o.starts_with("--enabled-disk-templates=") {
            *o = "--enabled-disk-templates=sharedfile,blockdev,file,diskless".into();
        }
    }
    c.init_with(&opts.iter().map(String::as_str).collect::<Vec<_>>());
    c
}

#[test]
fn guests_on_sharedfile_and_adopted_blockdev() {
    let env = kvm_env_or_skip!();
    let disk = match LoopDisk::new(48) {
        Ok(d) => d,
        Err(e) => {
            skip(&format!("no loop device for the blockdev template: {e}"));
            return;
        }
    };
    let c = cluster(&env);

    // sharedfile: the disk file lives in the shared file storage directory
    let sf = "sf1.example.com";
    c.add_vm(
        sf,
        &guest_args("sf1", None),
        &["-t", "sharedfile", "--disk", "0:size=64M", "--no-nics"],
    )
    .ok();
    let mut s = c.serial(sf);
    s.wait_ready(BOOT).unwrap();
    assert_eq!(s.check("cat /sys/block/vda/size", CMD).trim(), "131072");
    let shared = c.root().join("srv/ganeti/shared-file-storage").join(sf);
    let files: Vec<_> = fs::read_dir(&shared)
        .unwrap_or_else(|e| panic!("{}: {e}", shared.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        files.len() == 1 && files[0].ends_with(".sharedfile.disk0"),
        "{files:?}"
    );
    let storage = c
        .gnt(&[
            "gnt-node",
            "list-storage",
            "--no-headers",
            "-t",
            "sharedfile",
            "-o",
            "type,name",
        ])
        .ok()
        .to_string();
    assert!(storage.contains("sharedfile"), "{storage}");
    c.gnt(&["gnt-instance", "remove", "-f", sf]).ok();
    assert!(!shared.exists(), "the instance's directory stays behind");

    // blockdev: adopt the loop device through its /dev/disk link
    let bd = "bd1.example.com";
    let adopt = format!("0:adopt={}", disk.link.display());
    c.add_vm(
        bd,
        &guest_args("bd1", None),
        &["-t", "blockdev", "--disk", &adopt, "--no-nics"],
    )
    .ok();
    assert_eq!(c.instance_fields(bd, "disk.size/0").trim(), "48M");
    let mut s = c.serial(bd);
    s.wait_ready(BOOT).unwrap();
    assert_eq!(s.check("cat /sys/block/vda/size", CMD).trim(), "98304");
    s.check(
        "printf adopted-disk-works | dd of=/dev/vda conv=fsync 2>/dev/null",
        CMD,
    );
    // an adopted device cannot grow
    let r = c.gnt(&["gnt-instance", "grow-disk", bd, "0", "16M"]);
    assert_ne!(r.rc, 0, "{r:?}");
    c.gnt(&["gnt-instance", "shutdown", bd]).ok();
    assert_eq!(disk.read_start(18), b"adopted-disk-works");
    // removing the instance leaves the device and its data alone
    c.gnt(&["gnt-instance", "remove", "-f", bd]).ok();
    let meta = fs::metadata(&disk.dev).unwrap();
    assert!(meta.file_type().is_block_device());
    assert_eq!(disk.read_start(18), b"adopted-disk-works");

    // adopting something that is not a block device is refused, nothing left
    let r = c.gnt(&[
        "gnt-instance",
        "add",
        "-t",
        "blockdev",
        "-o",
        "noop",
        "--no-name-check",
        "--no-ip-check",
        "--no-nics",
        "--disk",
        "0:adopt=/dev/disk/no-such-device",
        "bd2.example.com",
    ]);
    assert_ne!(r.rc, 0, "{r:?}");
    let list = c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"]);
    assert_eq!(list.ok().trim(), "");
}
