//! Tests of the `plain` driver against the recorded fake LVM tools.
//!
//! This kernel has no device-mapper, so `lvcreate` cannot work here (it
//! fails with "striped: Required device-mapper target(s) not detected in
//! your kernel"); the fake in [`super::fake`] stands in for the tools,
//! printing what the real ones printed for a loop-device VG.

use std::path::Path;

use ganeti_types::{DiskTemplate, Paths};
use serde_json::json;

use super::fake::{FakeLv, FakeLvm};
use super::*;
use crate::info::{StorageField, StorageListRequest, StorageUnit};
use crate::spec::DiskMode;
use crate::{LocalNode, LocalNodeOptions, NodeApi};

struct Env {
    _dir: tempfile::TempDir,
    fake: FakeLvm,
    lvm: LvmStorage,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeLvm::install(dir.path()).unwrap();
    fake.add_vg("xenvg", "/dev/loop0", 1024).unwrap();
    let lvm = LvmStorage::new(fake.tools());
    Env {
        _dir: dir,
        fake,
        lvm,
    }
}

fn disk(vg: &str, lv: &str, size_mib: u64) -> DiskSpec {
    DiskSpec {
        uuid: format!("uuid-{lv}"),
        name: None,
        iv_name: "disk/0".into(),
        template: DiskTemplate::Plain,
        size_mib,
        logical_id: json!([vg, lv]),
        mode: DiskMode::Rw,
        params: Default::default(),
    }
}

fn lv(size_mib: u64, active: bool, open: bool) -> FakeLv {
    FakeLv {
        size_mib,
        active,
        open,
    }
}

#[test]
fn fake_prints_what_real_lvm_printed() {
    // Recorded on this machine: a 64 MiB loop device as PV, VG "capvg"
    // (60 MiB usable), one 8 MiB LV.
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeLvm::install(dir.path()).unwrap();
    fake.add_vg("capvg", "/dev/loop0", 60).unwrap();
    let t = fake.tools();
    let run = |tool: &str, args: &[&str]| t.run(tool, args).unwrap().stdout;
    let vgs_args = [
        "--noheadings",
        "--nosuffix",
        "--units=m",
        "--unbuffered",
        "--separator=|",
        "-ovg_name,vg_free,vg_attr,vg_size",
        "capvg",
    ];
    assert_eq!(run("vgs", &vgs_args), "  capvg|60.00|wz--n-|60.00\n");
    assert_eq!(
        run(
            "pvs",
            &[
                "--noheadings",
                "--units=m",
                "--nosuffix",
                "--separator",
                "|",
                "--options",
                "pv_name,pv_size,pv_used,pv_free,pv_attr",
                "/dev/loop0"
            ]
        ),
        "  /dev/loop0|60.00|0|60.00|a--\n"
    );
    let o = t
        .run(
            "lvcreate",
            &["-Wn", "-L8m", "-ntest", "-i1", "capvg", "/dev/loop0"],
        )
        .unwrap();
    assert!(o.success());
    assert_eq!(o.stdout, "  Logical volume \"test\" created.\n");
    assert_eq!(run("vgs", &vgs_args), "  capvg|52.00|wz--n-|60.00\n");
    assert_eq!(
        run(
            "pvs",
            &[
                "--noheadings",
                "--units=m",
                "--nosuffix",
                "--separator",
                "|",
                "--options",
                "pv_name,pv_size,pv_used,pv_free,pv_attr",
                "/dev/loop0"
            ]
        ),
        "  /dev/loop0|60.00|8.00|52.00|a--\n"
    );
    // real: "  capvg|test|-wi-XX----|-1|-1|4096.00|1|/dev/loop0(0)|8192.00"
    // (XX: state unknown without device-mapper); the fake's LV is active
    assert_eq!(
        run(
            "lvs",
            &["--noheadings", "--separator=|", "--units=k", "--nosuffix",
              "-ovg_name,lv_name,lv_attr,lv_kernel_major,lv_kernel_minor,vg_extent_size,stripes,devices,lv_size",
              "capvg"]
        ),
        "  capvg|test|-wi-a-----|253|0|4096.00|1|/dev/loop0(0)|8192.00\n"
    );
    let o = t
        .run(
            "lvextend",
            &[
                "-L",
                "+4096k",
                "--test",
                "--alloc",
                "contiguous",
                "/dev/capvg/test",
            ],
        )
        .unwrap();
    assert_eq!(
        o.stdout,
        "  Size of logical volume capvg/test changed from 8.00 MiB (2 extents) to 12.00 MiB (3 extents).\n  Logical volume capvg/test successfully resized.\n"
    );
    let o = t
        .run(
            "lvextend",
            &["-L", "+400000k", "--alloc", "contiguous", "/dev/capvg/test"],
        )
        .unwrap();
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(
        o.stderr,
        "  Insufficient free space: 98 extents needed, but only 13 available\n"
    );
    let o = t.run("lvrename", &["capvg", "test", "test2"]).unwrap();
    assert_eq!(
        o.stdout,
        "  Renamed \"test\" to \"test2\" in volume group \"capvg\"\n"
    );
    let o = t.run("lvremove", &["-f", "capvg/test"]).unwrap();
    assert_eq!(o.stderr, "  Failed to find logical volume \"capvg/test\"\n");
    let o = t.run("vgs", &["--noheadings", "nosuchvg"]).unwrap();
    assert_eq!(
        o.stderr,
        "  Volume group \"nosuchvg\" not found\n  Cannot process volume group nosuchvg\n"
    );
    assert_eq!(o.status.code(), Some(5));
}

#[test]
fn create_find_and_refuse_existing() {
    let e = env();
    let d = disk("xenvg", "u1.disk0", 100);
    let p = e.lvm.create(&d).unwrap();
    assert_eq!(p.dev_path, Path::new("/dev/xenvg/u1.disk0"));
    assert!(e
        .fake
        .log()
        .contains(&"lvcreate -Wn -L100m -nu1.disk0 -i1 xenvg /dev/loop0".to_string()));
    // rounded up to whole 4 MiB extents by LVM
    assert_eq!(e.fake.lvs()["xenvg/u1.disk0"], lv(100, true, false));
    let st = e.lvm.find(&d).unwrap().unwrap();
    assert_eq!(st.dev_path, Path::new("/dev/xenvg/u1.disk0"));
    assert_eq!((st.major, st.minor, st.size_mib), (Some(253), Some(0), 100));
    assert!(!st.is_degraded && st.sync_percent.is_none());

    let e2 = e.lvm.create(&d).unwrap_err();
    assert!(matches!(e2, NodeError::DiskExists { .. }), "{e2}");
    assert_eq!(
        e2.to_string(),
        "Can't create block device: /dev/xenvg/u1.disk0: File exists"
    );
    assert!(e.lvm.find(&disk("xenvg", "nope", 1)).unwrap().is_none());

    // stripes are bounded by the PVs there are (one here)
    let mut striped = disk("xenvg", "u1.disk1", 8);
    striped.params.insert("stripes".into(), json!(3));
    e.lvm.create(&striped).unwrap();
    assert!(e
        .fake
        .log()
        .iter()
        .any(|l| l.starts_with("lvcreate -Wn -L8m -nu1.disk1 -i1 ")));
}

#[test]
fn create_refuses_without_space_or_volume_group() {
    let e = env();
    let err = e.lvm.create(&disk("xenvg", "big", 2048)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Not enough free space: required 2048, available 1024"
    );
    let err = e.lvm.create(&disk("nosuchvg", "x", 1)).unwrap_err();
    assert_eq!(err.to_string(), "Can't compute PV info for vg nosuchvg");
    // a PV that may not be allocated from does not count
    e.fake.set_attrs("xenvg", "wz--n-", "---").unwrap();
    let err = e.lvm.create(&disk("xenvg", "x", 1)).unwrap_err();
    assert!(matches!(err, NodeError::NoPvInfo { .. }), "{err}");
    assert!(e.fake.lvs().is_empty());
    assert!(!e.fake.log().iter().any(|l| l.starts_with("lvcreate")));
}

#[test]
fn failing_lvcreate_leaves_nothing() {
    let e = env();
    e.fake
        .fail(
            "lvcreate",
            "striped: Required device-mapper target(s) not detected in your kernel.",
        )
        .unwrap();
    let err = e.lvm.create(&disk("xenvg", "a", 8)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LV create failed (exited with exit code 5):   striped: Required device-mapper target(s) not detected in your kernel."
    );
    assert!(e.fake.lvs().is_empty());
    e.fake.unfail("lvcreate").unwrap();

    // a failure after the LV was made: we remove what it left
    e.fake
        .fail("lvcreate-after", "Failed to activate new LV.")
        .unwrap();
    let err = e.lvm.create(&disk("xenvg", "b", 8)).unwrap_err();
    assert!(matches!(err, NodeError::LvCreate { .. }), "{err}");
    assert!(
        err.to_string().contains("Failed to activate new LV."),
        "{err}"
    );
    assert!(e.fake.lvs().is_empty(), "{:?}", e.fake.lvs());
    assert!(e.fake.log().contains(&"lvremove -f xenvg/b".to_string()));
}

#[test]
fn grow_rounds_to_extents_tries_policies_and_honours_dryrun() {
    let e = env();
    let d = disk("xenvg", "g", 8);
    e.lvm.create(&d).unwrap();
    e.fake.clear_log().unwrap();
    e.lvm.grow(&d, 10, true).unwrap();
    assert_eq!(e.fake.lvs()["xenvg/g"].size_mib, 8, "dry run must not grow");
    // 10 MiB is rounded up to whole 4 MiB extents (Ganeti rounds in KiB)
    assert_eq!(
        e.fake.log().last().map(String::as_str),
        Some("lvextend -L +12288k --test --alloc contiguous /dev/xenvg/g")
    );
    e.lvm.grow(&d, 10, false).unwrap();
    assert_eq!(e.fake.lvs()["xenvg/g"].size_mib, 20);
    e.lvm.grow(&d, 0, false).unwrap();
    assert_eq!(e.fake.lvs()["xenvg/g"].size_mib, 20);

    // contiguous space is not there: the next policy is tried
    e.fake
        .fail(
            "lvextend-contiguous",
            "Insufficient suitable contiguous allocatable extents",
        )
        .unwrap();
    e.fake.clear_log().unwrap();
    e.lvm.grow(&d, 4, false).unwrap();
    assert_eq!(e.fake.lvs()["xenvg/g"].size_mib, 24);
    let log = e.fake.log();
    let extends: Vec<&String> = log.iter().filter(|l| l.starts_with("lvextend")).collect();
    assert_eq!(extends.len(), 2, "{log:?}");
    assert!(extends[1].ends_with("--alloc cling /dev/xenvg/g"));

    let err = e.lvm.grow(&d, 4096, false).unwrap_err();
    assert!(matches!(err, NodeError::LvGrow { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Can't grow LV /dev/xenvg/g:   Insufficient free space:"),
        "{err}"
    );
    assert_eq!(e.fake.lvs()["xenvg/g"].size_mib, 24);
    let err = e
        .lvm
        .grow(&disk("xenvg", "missing", 1), 4, false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Can't attach to LV /dev/xenvg/missing: it does not exist"
    );
}

#[test]
fn remove_assemble_shutdown() {
    let e = env();
    e.fake
        .add_lv("xenvg", "cold", lv(16, false, false))
        .unwrap();
    let d = disk("xenvg", "cold", 16);
    let st = e.lvm.find(&d).unwrap().unwrap();
    assert_eq!(
        (st.major, st.minor),
        (None, None),
        "inactive LV has no numbers"
    );
    assert_eq!(
        e.lvm.assemble(&d).unwrap().dev_path,
        Path::new("/dev/xenvg/cold")
    );
    assert!(e.fake.lvs()["xenvg/cold"].active);
    assert!(e
        .fake
        .log()
        .contains(&"lvchange -ay /dev/xenvg/cold".to_string()));
    // shutdown leaves the LV active and runs nothing (as Ganeti)
    e.fake.clear_log().unwrap();
    e.lvm.shutdown(&d).unwrap();
    assert!(e.fake.lvs()["xenvg/cold"].active);
    assert!(e.fake.log().is_empty());

    let err = e.lvm.assemble(&disk("xenvg", "gone", 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Can't activate lv /dev/xenvg/gone:   Failed to find logical volume \"xenvg/gone\""
    );

    e.fake.add_lv("xenvg", "busy", lv(4, true, true)).unwrap();
    let err = e.lvm.remove(&disk("xenvg", "busy", 4)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Can't lvremove: exited with exit code 5 - "),
        "{err}"
    );
    assert!(e.fake.lvs().contains_key("xenvg/busy"));

    e.lvm.remove(&d).unwrap();
    assert!(!e.fake.lvs().contains_key("xenvg/cold"));
    e.lvm.remove(&d).unwrap(); // already gone: fine
    assert!(e.lvm.find(&d).unwrap().is_none());
}

#[test]
fn rename_for_adoption() {
    let e = env();
    e.fake
        .add_lv("xenvg", "existing", lv(32, false, false))
        .unwrap();
    let d = disk("xenvg", "existing", 32);
    e.lvm.rename(&d, &json!(["xenvg", "u9.disk0"])).unwrap();
    assert!(e.fake.lvs().contains_key("xenvg/u9.disk0"));
    assert!(!e.fake.lvs().contains_key("xenvg/existing"));
    // done already: fine
    e.lvm.rename(&d, &json!(["xenvg", "u9.disk0"])).unwrap();
    let err = e.lvm.rename(&d, &json!(["othervg", "x"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Can't move a logical volume across volume groups (from xenvg to othervg)"
    );
    e.fake.add_lv("xenvg", "a", lv(4, false, false)).unwrap();
    e.fake.add_lv("xenvg", "b", lv(4, false, false)).unwrap();
    let err = e
        .lvm
        .rename(&disk("xenvg", "a", 4), &json!(["xenvg", "b"]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to rename the logical volume:   Logical Volume \"b\" already exists in volume group \"xenvg\""
    );
}

#[test]
fn bad_names_and_ids_are_refused_before_any_tool_runs() {
    let e = env();
    for id in [
        json!(["xenvg", "../etc"]),
        json!(["xenvg", "a/b"]),
        json!(["-xenvg", "a"]),
        json!(["xenvg", "--force"]),
        json!(["xenvg", "snapshot"]),
        json!(["xenvg", "x_mlog"]),
        json!(["xenvg", ""]),
    ] {
        let mut d = disk("xenvg", "x", 1);
        d.logical_id = id.clone();
        let err = e.lvm.create(&d).unwrap_err();
        assert!(
            matches!(err, NodeError::InvalidLvmName { .. }),
            "{id}: {err}"
        );
    }
    for id in [
        json!(null),
        json!(["xenvg"]),
        json!([1, "a"]),
        json!("xenvg/a"),
    ] {
        let mut d = disk("xenvg", "x", 1);
        d.logical_id = id.clone();
        let err = e.lvm.remove(&d).unwrap_err();
        assert!(matches!(err, NodeError::BadLogicalId { .. }), "{id}: {err}");
    }
    assert!(e.fake.log().is_empty(), "{:?}", e.fake.log());
}

#[test]
fn space_listing_and_lv_list() {
    let e = env();
    let t = e.fake.tools();
    e.fake.add_vg("datavg", "/dev/loop1", 200).unwrap();
    e.fake.add_lv("xenvg", "a", lv(100, true, true)).unwrap();
    e.fake.add_lv("xenvg", "b", lv(24, false, false)).unwrap();
    e.fake.add_lv("datavg", "c", lv(8, true, false)).unwrap();

    let s = vg_space_info(&t, "xenvg", false).unwrap();
    assert_eq!(
        (
            s.storage_type,
            s.name.as_str(),
            s.storage_size,
            s.storage_free
        ),
        (StorageType::LvmVg, "xenvg", 1024, 900)
    );
    // exclusive storage: only whole empty PVs count (none here)
    assert_eq!(vg_space_info(&t, "xenvg", true).unwrap().storage_free, 0);
    assert_eq!(pv_space_info(&t, "xenvg", false).unwrap().storage_size, 0);
    let sp = pv_space_info(&t, "xenvg", true).unwrap();
    assert_eq!((sp.storage_free, sp.storage_size), (0, 1));
    let err = vg_space_info(&t, "nosuchvg", false).unwrap_err();
    assert_eq!(err.to_string(), "Volume group \"nosuchvg\" not found");
    e.fake.set_attrs("datavg", "r-z--n-", "a--").unwrap();
    assert!(matches!(
        vg_space_info(&t, "datavg", false),
        Err(NodeError::VgNotFound { .. })
    ));

    let vgs = list_vgs(&t, None).unwrap();
    assert_eq!(vgs.len(), 2);
    let x = vgs.iter().find(|r| r.name == "xenvg").unwrap();
    assert_eq!(
        (x.size, x.used, x.free, x.allocatable),
        (Some(1024), Some(124), Some(900), true)
    );
    assert_eq!(list_vgs(&t, Some("datavg")).unwrap().len(), 1);
    let err = list_vgs(&t, Some("nosuchvg")).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "Failed to run 'vgs', command output:   Volume group \"nosuchvg\" not found"
        ),
        "{err}"
    );
    let pvs = list_pvs(&t, Some("/dev/loop1")).unwrap();
    assert_eq!(pvs.len(), 1);
    assert_eq!(
        (
            pvs[0].name.as_str(),
            pvs[0].size,
            pvs[0].used,
            pvs[0].free,
            pvs[0].allocatable
        ),
        ("/dev/loop1", Some(200), Some(8), Some(192), true)
    );
    assert!(list_pvs(&t, Some("loop1")).is_err());

    let lvs = lv_list(&t, &[]).unwrap();
    assert_eq!(lvs.len(), 3);
    assert_eq!(
        lvs["xenvg/a"],
        LvInfo {
            size_mib: 100,
            inactive: false,
            online: true
        }
    );
    assert_eq!(
        lvs["xenvg/b"],
        LvInfo {
            size_mib: 24,
            inactive: true,
            online: false
        }
    );
    let only = lv_list(&t, &["datavg".to_string()]).unwrap();
    assert_eq!(only.keys().collect::<Vec<_>>(), vec!["datavg/c"]);
    assert!(lv_list(&t, &["nosuchvg".to_string()]).is_err());
}

#[test]
fn local_node_plain_disks_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeLvm::install(&dir.path().join("lvm")).unwrap();
    fake.add_vg("xenvg", "/dev/loop0", 512).unwrap();
    let node = LocalNode::with_options(
        Paths::new(dir.path().join("root")),
        LocalNodeOptions {
            lvm_tools_dir: Some(fake.bin_dir().to_path_buf()),
            ..Default::default()
        },
    );
    let d = disk("xenvg", "i1.disk0", 64);
    node.blockdev_create(&d).unwrap();
    node.blockdev_grow(&d, 64, false).unwrap();
    assert_eq!(node.blockdev_find(&d).unwrap().unwrap().size_mib, 128);
    node.blockdev_assemble(&d).unwrap();

    let info = node
        .node_info(
            &[],
            &[
                StorageUnit::LvmVg {
                    vg: "xenvg".into(),
                    exclusive_storage: false,
                },
                StorageUnit::LvmPv {
                    vg: "xenvg".into(),
                    exclusive_storage: false,
                },
            ],
        )
        .unwrap();
    assert_eq!(
        (info.storage[0].storage_size, info.storage[0].storage_free),
        (512, 384)
    );
    assert_eq!(info.storage[1].storage_type, StorageType::LvmPv);

    let rows = node
        .storage_list(&StorageListRequest {
            storage_type: StorageType::LvmVg,
            dir: None,
            name: None,
            fields: vec![StorageField::Name, StorageField::Free],
        })
        .unwrap();
    assert_eq!(rows[0].name, "xenvg");
    assert_eq!(rows[0].free, Some(384));
    assert_eq!(node.lv_list(&[]).unwrap()["xenvg/i1.disk0"].size_mib, 128);

    node.blockdev_rename(&d, &json!(["xenvg", "renamed"]))
        .unwrap();
    assert!(fake.lvs().contains_key("xenvg/renamed"));
    let renamed = disk("xenvg", "renamed", 128);
    node.blockdev_remove(&renamed).unwrap();
    assert!(fake.lvs().is_empty());
}
