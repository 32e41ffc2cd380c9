//! Snapshots through the node API: a sparse copy for file disks, an LVM
//! snapshot (against the fake tools; the real ones cannot work on this
//! kernel) for plain, Ganeti's refusal for the rest.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ganeti_types::{DiskTemplate, Paths};
use serde_json::json;

use crate::spec::{DiskMode, DiskSpec};
use crate::storage::file;
use crate::storage::lvm::fake::{FakeLv, FakeLvm};
use crate::{LocalNode, LocalNodeOptions, NodeApi, NodeError};

fn disk(template: DiskTemplate, logical_id: serde_json::Value, size_mib: u64) -> DiskSpec {
    DiskSpec {
        uuid: "disk-uuid".into(),
        name: None,
        iv_name: "disk/0".into(),
        template,
        size_mib,
        logical_id,
        mode: DiskMode::Rw,
        params: Default::default(),
    }
}

struct Fx {
    _dir: tempfile::TempDir,
    node: LocalNode,
    fake: FakeLvm,
    storage: PathBuf,
}

fn fx() -> Fx {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeLvm::install(dir.path()).unwrap();
    fake.add_vg("xenvg", "/dev/loop0", 1024).unwrap();
    let paths = Paths::new(dir.path().join("root"));
    let storage = paths.default_file_storage_dir();
    let node = LocalNode::with_options(
        paths,
        LocalNodeOptions {
            lvm_tools_dir: Some(fake.bin_dir().to_path_buf()),
            ..Default::default()
        },
    );
    Fx {
        _dir: dir,
        node,
        fake,
        storage,
    }
}

impl Fx {
    /// A 16 MiB file disk with data at the start and the end only.
    fn file_disk(&self) -> (DiskSpec, PathBuf) {
        let path = file::disk_path(&self.storage, "inst1", "uid0", 0);
        let d = disk(DiskTemplate::File, file::logical_id(&path), 16);
        self.node.blockdev_create(&d).unwrap();
        let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all(b"boot sector").unwrap();
        f.seek(SeekFrom::Start(16 * 1024 * 1024 - 4)).unwrap();
        f.write_all(b"tail").unwrap();
        (d, path)
    }
}

#[test]
fn file_snapshot_is_a_sparse_copy() {
    let f = fx();
    let (d, path) = f.file_disk();
    // the master names it "<logical id path>.snap" (Ganeti's "<lv>.snap")
    let name = format!("{}.snap", path.display());
    let snap = f.node.blockdev_snapshot(&d, &name).unwrap();
    assert_eq!(snap, PathBuf::from(&name));
    assert_eq!(fs::read(&snap).unwrap(), fs::read(&path).unwrap());
    let meta = fs::metadata(&snap).unwrap();
    assert_eq!(meta.len(), 16 * 1024 * 1024);
    assert!(
        meta.blocks() * 512 < 4 * 1024 * 1024,
        "not sparse: {} blocks",
        meta.blocks()
    );
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    // a bare name goes next to the disk too; an old snapshot is replaced
    let again = f.node.blockdev_snapshot(&d, "disk0.snap").unwrap();
    assert_eq!(again.parent(), path.parent());

    // the disk keeps changing, the snapshot does not
    fs::write(&path, b"changed").unwrap();
    assert_eq!(&fs::read(&snap).unwrap()[..11], b"boot sector");

    f.node.blockdev_snapshot_remove(&d, &snap).unwrap();
    assert!(!snap.exists());
    // already gone is fine
    f.node.blockdev_snapshot_remove(&d, &snap).unwrap();
    assert!(path.exists());
}

#[test]
fn file_snapshot_refuses_bad_names() {
    let f = fx();
    let (d, path) = f.file_disk();
    let dir = path.parent().unwrap();
    for bad in [
        String::new(),
        "..".into(),
        ".".into(),
        "snaps/".into(),
        path.display().to_string(),
        "/tmp/elsewhere.snap".into(),
        format!("{}/../x.snap", dir.display()),
    ] {
        let e = f.node.blockdev_snapshot(&d, &bad).unwrap_err();
        assert!(
            matches!(e, NodeError::InvalidSnapshot { .. }),
            "{bad:?}: {e}"
        );
    }
    // removal only of this disk's snapshots, never the disk itself
    for bad in [
        path.clone(),
        PathBuf::from("/tmp/x.snap"),
        dir.join("sub/x"),
    ] {
        let e = f.node.blockdev_snapshot_remove(&d, &bad).unwrap_err();
        assert!(matches!(e, NodeError::InvalidSnapshot { .. }), "{e}");
    }
    assert!(path.exists());
    // a missing disk
    let gone = disk(DiskTemplate::File, file::logical_id(&dir.join("nope")), 1);
    let e = f.node.blockdev_snapshot(&gone, "nope.snap").unwrap_err();
    assert_eq!(e.to_string(), "Cannot find block device disk/0");
}

#[test]
fn plain_snapshot_uses_lvcreate_s() {
    let f = fx();
    f.fake
        .add_lv(
            "xenvg",
            "d1",
            FakeLv {
                size_mib: 256,
                active: true,
                open: true,
            },
        )
        .unwrap();
    let d = disk(DiskTemplate::Plain, json!(["xenvg", "d1"]), 256);
    f.fake.clear_log().unwrap();
    let snap = f.node.blockdev_snapshot(&d, "d1.snap").unwrap();
    assert_eq!(snap, Path::new("/dev/xenvg/d1.snap"));
    let log = f.fake.log().join("\n");
    assert!(
        log.contains("lvcreate -L256m -s -nd1.snap /dev/xenvg/d1"),
        "{log}"
    );
    assert!(
        f.fake.lvs().contains_key("xenvg/d1.snap"),
        "{:?}",
        f.fake.lvs()
    );
    // again: the older snapshot is removed first
    f.node.blockdev_snapshot(&d, "d1.snap").unwrap();
    f.node.blockdev_snapshot_remove(&d, &snap).unwrap();
    assert!(!f.fake.lvs().contains_key("xenvg/d1.snap"));
    // not a snapshot of this disk
    for bad in ["/dev/xenvg/d1", "/dev/othervg/d1.snap", "/tmp/d1.snap"] {
        let e = f
            .node
            .blockdev_snapshot_remove(&d, Path::new(bad))
            .unwrap_err();
        assert!(matches!(e, NodeError::InvalidSnapshot { .. }), "{bad}: {e}");
    }
    // too big for the VG
    let big = disk(DiskTemplate::Plain, json!(["xenvg", "d1"]), 4096);
    let e = f.node.blockdev_snapshot(&big, "d1.snap").unwrap_err();
    assert!(matches!(e, NodeError::NotEnoughVgSpace { .. }), "{e}");
    // bad snapshot names
    for bad in ["", "-x", "a/b", "d1"] {
        assert!(f.node.blockdev_snapshot(&d, bad).is_err(), "{bad}");
    }
}

#[test]
fn other_templates_are_refused_as_ganeti_does() {
    let f = fx();
    for (t, id) in [
        (DiskTemplate::Blockdev, json!(["manual", "/dev/sdb"])),
        (DiskTemplate::Drbd, json!(["a", "b", 11000, 0, 0, "secret"])),
        (DiskTemplate::Rbd, json!(["rbd", "vol"])),
        (DiskTemplate::Diskless, json!(null)),
    ] {
        let d = disk(t, id.clone(), 1);
        let e = f.node.blockdev_snapshot(&d, "x.snap").unwrap_err();
        let shown = if t == DiskTemplate::Drbd {
            "disk/0".to_string()
        } else {
            id.to_string()
        };
        assert_eq!(
            e.to_string(),
            format!(
                "Cannot snapshot block device '{shown}' of type '{}'",
                t.as_str()
            )
        );
        assert!(!e.to_string().contains("secret"));
        assert!(f
            .node
            .blockdev_snapshot_remove(&d, Path::new("/x.snap"))
            .is_err());
    }
}
