//! Tests of the `blockdev` driver. The device tests use a REAL loop
//! device (`losetup -f --show` on a temporary file) and skip loudly when
//! that is not possible (not root, no loop support); the device is
//! detached by a guard even if a test fails.

use std::process::Command;

use ganeti_types::Paths;

use super::*;
use crate::spec::DiskMode;
use crate::{LocalNode, LocalNodeOptions, NodeApi};

/// A loop device over a temporary file, detached on drop.
struct LoopDev {
    dev: PathBuf,
    _file: tempfile::NamedTempFile,
}

impl LoopDev {
    fn new(size_mib: u64) -> Option<Self> {
        if !rustix::process::geteuid().is_root() {
            eprintln!("SKIP: loop device tests need root");
            return None;
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(size_mib * MIB).unwrap();
        let out = match Command::new("losetup")
            .args(["-f", "--show"])
            .arg(file.path())
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                eprintln!("SKIP: cannot run losetup: {e}");
                return None;
            }
        };
        if !out.status.success() {
            eprintln!(
                "SKIP: losetup failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            return None;
        }
        let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Some(LoopDev { dev, _file: file })
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Command::new("losetup").arg("-d").arg(&self.dev).status();
    }
}

fn disk(logical_id: Value) -> DiskSpec {
    DiskSpec {
        uuid: "d-blk".into(),
        name: None,
        iv_name: "disk/0".into(),
        template: DiskTemplate::Blockdev,
        size_mib: 0,
        logical_id,
        mode: DiskMode::Rw,
        params: Default::default(),
    }
}

#[test]
fn loop_device_lifecycle() {
    let Some(lo) = LoopDev::new(10) else { return };
    let s = BlockDevStorage::new();
    let d = disk(logical_id(&lo.dev));
    assert_eq!(s.create(&d).unwrap().dev_path, lo.dev);
    assert_eq!(s.assemble(&d).unwrap().dev_path, lo.dev);
    let st = s.find(&d).unwrap().unwrap();
    assert_eq!(st.dev_path, lo.dev);
    assert_eq!(st.major, Some(7), "loop devices have major 7");
    let n: u32 = lo
        .dev
        .to_string_lossy()
        .trim_start_matches("/dev/loop")
        .parse()
        .unwrap();
    assert_eq!(st.minor, Some(n));
    assert_eq!(st.size_mib, 10);
    assert!(!st.is_degraded);

    let e = s.grow(&d, 1, true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Grow is not supported for PersistentBlockDev storage"
    );
    s.shutdown(&d).unwrap();
    // removal leaves the device alone
    s.remove(&d).unwrap();
    assert_eq!(s.find(&d).unwrap().unwrap().size_mib, 10);
    let e = s.rename(&d, &logical_id(&lo.dev)).unwrap_err();
    assert!(matches!(e, NodeError::RenameUnsupported { .. }), "{e}");
}

#[test]
fn probe_applies_the_adoptable_root() {
    let Some(lo) = LoopDev::new(6) else { return };
    let sys = Path::new("/sys");
    let via_dotdot = PathBuf::from("/dev/disk/..").join(lo.dev.file_name().unwrap());
    let got = probe(
        Path::new("/dev"),
        sys,
        &[
            lo.dev.clone(),
            via_dotdot,
            PathBuf::from("/dev/null"),
            PathBuf::from("/dev/no-such-device"),
            PathBuf::from("loop0"),
            PathBuf::from("/etc/passwd"),
        ],
    );
    assert_eq!(got[0].path, lo.dev);
    assert!(
        matches!(
            got[0].state,
            BlockDevProbeState::Device {
                size_mib: 6,
                major: 7,
                ..
            }
        ),
        "{got:?}"
    );
    assert_eq!(got[1].path, lo.dev, "normalized like os.path.abspath");
    assert_eq!(
        got[2].state,
        BlockDevProbeState::Missing,
        "not a block device"
    );
    assert_eq!(got[3].state, BlockDevProbeState::Missing);
    for g in &got[4..] {
        assert_eq!(
            g.state,
            BlockDevProbeState::OutsideRoot {
                root: PathBuf::from("/dev")
            }
        );
    }
    // Ganeti's default root: only /dev/disk/... may be adopted
    let got = probe(
        Path::new(DEFAULT_ADOPTABLE_ROOT),
        sys,
        std::slice::from_ref(&lo.dev),
    );
    assert_eq!(
        got[0].state,
        BlockDevProbeState::OutsideRoot {
            root: PathBuf::from("/dev/disk")
        }
    );

    // through the node, with the root from its options
    let t = tempfile::tempdir().unwrap();
    let node = LocalNode::with_options(
        Paths::new(t.path()),
        LocalNodeOptions {
            adoptable_blockdev_root: Some("/dev".into()),
            ..Default::default()
        },
    );
    let got = node.blockdev_probe(std::slice::from_ref(&lo.dev)).unwrap();
    assert!(matches!(got[0].state, BlockDevProbeState::Device { .. }));
    let d = disk(logical_id(&lo.dev));
    node.blockdev_create(&d).unwrap();
    assert_eq!(node.blockdev_find(&d).unwrap().unwrap().size_mib, 6);
    node.blockdev_remove(&d).unwrap();
    let default_node = LocalNode::new(Paths::new(t.path()));
    let got = default_node
        .blockdev_probe(std::slice::from_ref(&lo.dev))
        .unwrap();
    assert!(matches!(
        got[0].state,
        BlockDevProbeState::OutsideRoot { .. }
    ));
}

#[test]
fn bad_ids_and_non_devices() {
    let s = BlockDevStorage::new();
    for id in [
        json!(["loop", "/dev/loop0"]),
        json!(["manual"]),
        json!(["manual", "dev/loop0"]),
        json!(["manual", "/dev/../etc/passwd"]),
        json!(null),
    ] {
        let e = s.create(&disk(id.clone())).unwrap_err();
        assert!(matches!(e, NodeError::BadLogicalId { .. }), "{id}: {e}");
    }
    let e = s
        .create(&disk(json!(["manual", "/etc/passwd"])))
        .unwrap_err();
    assert_eq!(e.to_string(), "Full path '/etc/passwd' lies outside /dev");
    // a symlink outside /dev leading outside is refused too
    let t = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink("/etc/passwd", t.path().join("l")).unwrap();
    let e = s
        .create(&disk(logical_id(&t.path().join("l"))))
        .unwrap_err();
    assert!(matches!(e, NodeError::BlockDevOutsideDev { .. }), "{e}");

    let null = disk(json!(["manual", "/dev/null"]));
    let e = s.create(&null).unwrap_err();
    assert_eq!(e.to_string(), "/dev/null is not a block device");
    assert!(s.find(&null).unwrap().is_none());
    let gone = disk(json!(["manual", "/dev/no-such-device"]));
    let e = s.assemble(&gone).unwrap_err();
    assert_eq!(e.to_string(), "Can't find device /dev/no-such-device");
    assert!(s.find(&gone).unwrap().is_none());
    s.remove(&gone).unwrap();
}

#[test]
fn sizes_come_from_sysfs_sectors() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("dev/block/7:3");
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("size"), "20480\n").unwrap();
    assert_eq!(device_size_mib(t.path(), 7, 3).unwrap(), 10);
    fs::write(d.join("size"), "junk\n").unwrap();
    assert!(matches!(
        device_size_mib(t.path(), 7, 3),
        Err(NodeError::BlockDevSize { .. })
    ));
    assert!(device_size_mib(t.path(), 7, 4).is_err());
}

#[test]
fn normalize_is_abspath() {
    assert_eq!(
        normalize(Path::new("/dev/disk/../loop1")),
        Some(PathBuf::from("/dev/loop1"))
    );
    assert_eq!(
        normalize(Path::new("/dev//disk/./by-id/x/")),
        Some(PathBuf::from("/dev/disk/by-id/x"))
    );
    assert_eq!(normalize(Path::new("/../..")), Some(PathBuf::from("/")));
    assert_eq!(normalize(Path::new("loop0")), None);
}
