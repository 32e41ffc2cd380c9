//! OP_INSTANCE_CREATE with the `plain`, `blockdev` and `sharedfile`
//! templates, and OP_NODE_QUERY_STORAGE on them, run for real: a master
//! on a store in a temporary root and the local node.
//!
//! `plain` runs against the recorded fake LVM tools of ganeti-node
//! (`storage::lvm::fake`): this kernel has no device-mapper, so real
//! `lvcreate` cannot work here and the fake stands in for it. `blockdev`
//! uses a REAL loop device (`losetup -f --show` on a temporary file, as
//! root; skipped loudly otherwise), with the node's adoptable root set to
//! `/dev` because this machine has no `/dev/disk`.

use std::path::PathBuf;
use std::process::Command as Proc;
use std::sync::Arc;

use ganeti_node::storage::lvm::fake::{FakeLv, FakeLvm};
use ganeti_node::{LocalNode, LocalNodeOptions};
use ganeti_types::{ConfigData, GanetiError, Paths};
use serde_json::{json, Value};

use crate::cmdlib::cluster::checks::testcfg;
use crate::cmdlib::{self, OpCtx};
use crate::jobs::JobCtl;
use crate::state::{Command, MasterState};
use crate::Master;

const NODE: &str = "node1.example.com";

struct Env {
    _dir: tempfile::TempDir,
    m: Arc<Master>,
    lvm: FakeLvm,
    paths: Paths,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path().join("root"));
        let lvm = FakeLvm::install(&dir.path().join("lvm")).unwrap();
        lvm.add_vg("xenvg", "/dev/loop0", 1024).unwrap();
        lvm.add_vg("datavg", "/dev/loop1", 256).unwrap();
        let mut cfg: ConfigData = testcfg::config();
        cfg.cluster.file_storage_dir = paths.default_file_storage_dir().display().to_string();
        cfg.cluster.shared_file_storage_dir = paths
            .default_shared_file_storage_dir()
            .display()
            .to_string();
        cfg.cluster.default_iallocator = String::new();
        cfg.cluster.volume_group_name = Some("xenvg".into());
        cfg.cluster.enabled_disk_templates =
            ["plain", "blockdev", "sharedfile", "file", "diskless"]
                .map(String::from)
                .to_vec();
        crate::cmdlib::instance::tests::install_test_os(paths.root(), "noop");
        {
            let store =
                ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
            store
                .propose_blocking(Command::Init(Box::new(cfg)))
                .unwrap();
        }
        let node = LocalNode::with_options(
            paths.clone(),
            LocalNodeOptions {
                lvm_tools_dir: Some(lvm.bin_dir().to_path_buf()),
                adoptable_blockdev_root: Some("/dev".into()),
                ..Default::default()
            },
        );
        let m = Master::open(paths.clone(), Arc::new(node)).unwrap();
        Env {
            _dir: dir,
            m,
            lvm,
            paths,
        }
    }

    fn cfg(&self) -> ConfigData {
        self.m.config().unwrap()
    }

    fn run(&self, op: Value) -> Result<(Value, Vec<String>), GanetiError> {
        let id = self.m.submit_job(&[op], false)?;
        let mut job = self.m.job(id).unwrap();
        cmdlib::locks(&self.m, &job.ops[0].input)?;
        let ctl = JobCtl::default();
        let res = {
            let mut ctx = OpCtx::new(&self.m, &mut job, 0, &ctl);
            cmdlib::execute_with_hooks(&mut ctx)
        };
        let log = job.ops[0]
            .log
            .iter()
            .map(|e| e.3.as_str().unwrap_or_default().to_string())
            .collect();
        res.map(|r| (r, log))
    }

    #[track_caller]
    fn ok(&self, op: Value) -> (Value, Vec<String>) {
        match self.run(op.clone()) {
            Ok(r) => r,
            Err(e) => panic!("{op}: {e}"),
        }
    }

    /// The refusal's message, checking that the configuration and the
    /// fake LVM state did not change.
    #[track_caller]
    fn refused(&self, op: Value) -> String {
        let (before, lvs) = (self.cfg(), self.lvm.lvs());
        let e = self.run(op).unwrap_err();
        let after = self.cfg();
        assert_eq!(before.instances, after.instances, "instances changed");
        assert_eq!(before.disks, after.disks, "disks changed");
        assert_eq!(lvs, self.lvm.lvs(), "LVs changed");
        e.message().to_string()
    }

    fn disks(&self, inst: &str) -> Vec<ganeti_types::Disk> {
        let cfg = self.cfg();
        let i = cfg.instance_by_name(inst).unwrap();
        cfg.instance_disks(i).into_iter().cloned().collect()
    }
}

fn create(name: &str, template: &str, disks: Value) -> Value {
    json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": template, "disks": disks, "nics": [], "os_type": "noop",
        "pnode": NODE, "name_check": false, "ip_check": false, "start": false,
        "ignore_ipolicy": true})
}

fn remove(name: &str) -> Value {
    json!({"OP_ID": "OP_INSTANCE_REMOVE", "instance_name": name, "ignore_failures": false})
}

fn lv_name(d: &ganeti_types::Disk) -> String {
    let id = d.logical_id.as_array().unwrap();
    format!("{}/{}", id[0].as_str().unwrap(), id[1].as_str().unwrap())
}

#[test]
fn plain_create_start_remove() {
    let env = Env::new();
    let mut op = create(
        "i1",
        "plain",
        json!([{"size": 100}, {"size": "50M", "vg": "datavg"}]),
    );
    op["start"] = json!(true);
    let (_, log) = env.ok(op);
    assert!(
        log.iter().any(|l| l.contains("creating instance disks")),
        "{log:?}"
    );
    let disks = env.disks("i1");
    assert_eq!(disks[0].dev_type, "plain");
    let id0 = disks[0].logical_id.as_array().unwrap();
    assert_eq!(id0[0], json!("xenvg"));
    assert!(id0[1].as_str().unwrap().ends_with(".disk0"), "{id0:?}");
    assert!(disks[1].logical_id[1].as_str().unwrap().ends_with(".disk1"));
    assert_eq!(disks[1].logical_id[0], json!("datavg"));
    let lvs = env.lvm.lvs();
    assert_eq!(
        lvs[&lv_name(&disks[0])],
        FakeLv {
            size_mib: 100,
            active: true,
            open: false
        }
    );
    assert_eq!(
        lvs[&lv_name(&disks[1])].size_mib,
        52,
        "rounded up to extents by LVM"
    );
    assert_eq!(disks[1].size, 50);

    env.ok(json!({"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": "i1"}));
    env.ok(remove("i1"));
    assert!(env.lvm.lvs().is_empty(), "{:?}", env.lvm.lvs());
}

#[test]
fn plain_refusals_leave_nothing() {
    let env = Env::new();
    assert_eq!(
        env.refused(create("i1", "plain", json!([{"size": 1000}, {"size": 100}]))),
        "Not enough disk space on target node node1.example.com vg xenvg: required 1100 MiB, available 1024 MiB"
    );
    assert_eq!(
        env.refused(create("i1", "plain", json!([{"size": 10, "vg": "nosuchvg"}]))),
        "Can't compute free disk space on node node1.example.com for vg nosuchvg, result was 'None'"
    );
    // the second lvcreate fails: the first LV is removed again
    env.lvm
        .fail("lvcreate-after", "Failed to activate new LV.")
        .unwrap();
    let before = env.cfg();
    let e = env
        .run(create("i1", "plain", json!([{"size": 10}])))
        .unwrap_err();
    assert!(
        e.message().starts_with(
            "Can't create block device disk/0 on node node1.example.com: LV create failed"
        ),
        "{e}"
    );
    assert!(env.lvm.lvs().is_empty());
    assert_eq!(before.disks, env.cfg().disks);
    env.lvm.unfail("lvcreate-after").unwrap();
    assert!(env.cfg().instances.is_empty());
}

#[test]
fn plain_lvcreate_failure_on_a_later_disk_removes_the_earlier_ones() {
    let env = Env::new();
    env.lvm
        .fail(
            "lvcreate",
            "striped: Required device-mapper target(s) not detected in your kernel.",
        )
        .unwrap();
    let e = env
        .run(create("i1", "plain", json!([{"size": 8}])))
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Can't create block device disk/0 on node node1.example.com: LV create failed (exited with exit code 5):   striped: Required device-mapper target(s) not detected in your kernel."
    );
    env.lvm.unfail("lvcreate").unwrap();
    // disk 0 is made, disk 1 fails: disk 0 is removed again
    env.lvm
        .fail_if(
            "lvcreate",
            ".disk1",
            "Volume group \"xenvg\" has insufficient free space (0 extents): 2 required.",
        )
        .unwrap();
    let e = env
        .run(create("i1", "plain", json!([{"size": 8}, {"size": 8}])))
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Can't create block device disk/1 on node node1.example.com: LV create failed (exited with exit code 5):   Volume group \"xenvg\" has insufficient free space (0 extents): 2 required."
    );
    assert!(
        env.lvm.lvs().is_empty(),
        "disk 0 must be removed: {:?}",
        env.lvm.lvs()
    );
    assert!(env.cfg().instances.is_empty());
}

#[test]
fn plain_adoption() {
    let env = Env::new();
    let lv = |size_mib, active, open| FakeLv {
        size_mib,
        active,
        open,
    };
    env.lvm
        .add_lv("xenvg", "old-data", lv(300, false, false))
        .unwrap();
    env.lvm.add_lv("xenvg", "busy", lv(20, true, true)).unwrap();
    assert_eq!(
        env.refused(create("i1", "plain", json!([{"adopt": "nope"}]))),
        "Missing logical volume(s): xenvg/nope"
    );
    assert_eq!(
        env.refused(create(
            "i1",
            "plain",
            json!([{"adopt": "old-data", "vg": "nosuchvg"}])
        )),
        "Missing logical volume(s): nosuchvg/old-data"
    );
    assert_eq!(
        env.refused(create("i1", "plain", json!([{"adopt": "busy"}]))),
        "Online logical volumes found, cannot adopt: xenvg/busy"
    );
    assert_eq!(
        env.refused(create(
            "i1",
            "plain",
            json!([{"adopt": "old-data"}, {"adopt": "old-data"}])
        )),
        "Duplicate volume names given for adoption"
    );
    assert_eq!(
        env.refused(create(
            "i1",
            "plain",
            json!([{"adopt": "old-data"}, {"size": 4}])
        )),
        "Either all disks are adopted or none is"
    );

    let (_, log) = env.ok(create(
        "i1",
        "plain",
        json!([{"adopt": "old-data", "size": 1}]),
    ));
    assert!(
        !log.iter().any(|l| l.contains("creating instance disks")),
        "{log:?}"
    );
    let disks = env.disks("i1");
    assert_eq!(disks[0].size, 300, "the size is the LV's");
    let name = lv_name(&disks[0]);
    assert!(
        name.starts_with("xenvg/") && name.ends_with(".disk0"),
        "{name}"
    );
    let lvs = env.lvm.lvs();
    assert!(
        lvs.contains_key(&name) && !lvs.contains_key("xenvg/old-data"),
        "{lvs:?}"
    );

    // the adopted LV now belongs to i1
    let adopted = name.trim_start_matches("xenvg/").to_string();
    assert_eq!(
        env.refused(create("i2", "plain", json!([{"adopt": adopted}]))),
        format!("LV named {name} used by another instance")
    );
}

#[test]
fn blockdev_bad_input() {
    let env = Env::new();
    assert_eq!(
        env.refused(create("b1", "blockdev", json!([{"size": 10}]))),
        "Disk template blockdev requires disk adoption, but no 'adopt' parameter given"
    );
    assert_eq!(
        env.refused(create("b1", "file", json!([{"adopt": "/dev/loop0"}]))),
        "Disk adoption is not supported for the 'file' disk template"
    );
    assert_eq!(
        env.refused(create("b1", "blockdev", json!([{"adopt": "/etc/passwd"}]))),
        "Device node(s) /etc/passwd lie outside /dev/ and cannot be adopted"
    );
    assert_eq!(
        env.refused(create("b1", "blockdev", json!([{"adopt": "/dev/null"}]))),
        "Missing block device(s): /dev/null"
    );
    assert_eq!(
        env.refused(create(
            "b1",
            "blockdev",
            json!([{"adopt": "/dev/no-such-disk"}])
        )),
        "Missing block device(s): /dev/no-such-disk"
    );
    assert_eq!(
        env.refused(create(
            "b1",
            "blockdev",
            json!([{"adopt": "/dev/loop0"}, {"adopt": "/dev/disk/../loop0"}])
        )),
        "Duplicate disk names given for adoption"
    );
}

/// A loop device over a temporary file, detached on drop.
struct LoopDev {
    dev: PathBuf,
    _file: tempfile::NamedTempFile,
}

impl LoopDev {
    fn new(size_mib: u64) -> Option<Self> {
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(size_mib * 1024 * 1024).unwrap();
        let out = match Proc::new("losetup")
            .args(["-f", "--show"])
            .arg(file.path())
            .output()
        {
            Ok(o) if o.status.success() => o,
            Ok(o) => {
                eprintln!(
                    "SKIP: losetup failed (root and loop support needed): {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                return None;
            }
            Err(e) => {
                eprintln!("SKIP: cannot run losetup: {e}");
                return None;
            }
        };
        let dev = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        Some(LoopDev { dev, _file: file })
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Proc::new("losetup").arg("-d").arg(&self.dev).status();
    }
}

#[test]
fn blockdev_adoption_of_a_real_loop_device() {
    let Some(lo) = LoopDev::new(12) else { return };
    let env = Env::new();
    let dev = lo.dev.display().to_string();
    let mut op = create("b1", "blockdev", json!([{"adopt": dev}]));
    op["start"] = json!(true);
    env.ok(op);
    let disks = env.disks("b1");
    assert_eq!(disks[0].logical_id, json!(["manual", dev]));
    assert_eq!(disks[0].size, 12, "size from the device");
    assert_eq!(
        env.refused(create("b2", "blockdev", json!([{"adopt": dev}]))),
        format!("Block device {dev} is already used by instance b1")
    );
    // growing an adopted device is refused by the node
    let e = env
        .run(
            json!({"OP_ID": "OP_INSTANCE_GROW_DISK", "instance_name": "b1", "disk": 0,
            "amount": 4, "absolute": false, "wait_for_sync": false, "ignore_ipolicy": true}),
        )
        .unwrap_err();
    assert!(
        e.message()
            .contains("Grow is not supported for PersistentBlockDev storage"),
        "{e}"
    );
    env.ok(json!({"OP_ID": "OP_INSTANCE_SHUTDOWN", "instance_name": "b1"}));
    // modify cannot make a new block device out of nothing
    assert_eq!(
        env.refused(
            json!({"OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": "b1",
            "disks": [["add", -1, {"size": 4}]], "ignore_ipolicy": true})
        ),
        "Adding disks to an instance with the blockdev template is not supported"
    );
    env.ok(remove("b1"));
    // the device is left as it was
    assert!(std::fs::metadata(&lo.dev).is_ok());
    env.ok(create("b2", "blockdev", json!([{"adopt": dev}])));
}

#[test]
fn sharedfile_disks_live_in_the_shared_directory() {
    let env = Env::new();
    env.ok(create("s1", "sharedfile", json!([{"size": 4}])));
    let disks = env.disks("s1");
    let path = PathBuf::from(disks[0].logical_id[1].as_str().unwrap());
    assert!(
        path.starts_with(env.paths.default_shared_file_storage_dir().join("s1")),
        "{}",
        path.display()
    );
    assert!(path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .ends_with(".sharedfile.disk0"));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 4 * 1024 * 1024);
    env.ok(remove("s1"));
    assert!(!path.exists());
}

fn query_storage(st: &str, fields: &[&str]) -> Value {
    json!({"OP_ID": "OP_NODE_QUERY_STORAGE", "nodes": [NODE], "storage_type": st,
        "output_fields": fields})
}

#[test]
fn storage_listings() {
    let env = Env::new();
    env.ok(create("i1", "plain", json!([{"size": 100}])));
    let (rows, _) = env.ok(query_storage(
        "lvm-vg",
        &[
            "node",
            "type",
            "name",
            "size",
            "used",
            "free",
            "allocatable",
        ],
    ));
    assert_eq!(
        rows,
        json!([
            [NODE, "lvm-vg", "datavg", 256, 0, 256, true],
            [NODE, "lvm-vg", "xenvg", 1024, 100, 924, true]
        ])
    );
    let (rows, _) = env.ok(query_storage(
        "lvm-pv",
        &["name", "size", "used", "free", "allocatable"],
    ));
    assert_eq!(
        rows,
        json!([
            ["/dev/loop0", 1024, 100, 924, true],
            ["/dev/loop1", 256, 0, 256, true]
        ])
    );
    let mut op = query_storage("lvm-vg", &["free"]);
    op["name"] = json!("xenvg");
    assert_eq!(env.ok(op).0, json!([[924]]));

    env.ok(create("s1", "sharedfile", json!([{"size": 3}])));
    let (rows, _) = env.ok(query_storage(
        "sharedfile",
        &["type", "name", "used", "allocatable"],
    ));
    let shared = env
        .paths
        .default_shared_file_storage_dir()
        .display()
        .to_string();
    assert_eq!(rows, json!([["sharedfile", shared, 3, true]]));

    // a failing tool is a warning for that node, not a failure
    env.lvm
        .fail("vgs", "Volume group \"xenvg\" not found")
        .unwrap();
    let (rows, log) = env.ok(query_storage("lvm-vg", &["name"]));
    assert_eq!(rows, json!([]));
    assert!(
        log.iter().any(|l| l
            .contains("Can't get storage data from node node1.example.com: Failed to run 'vgs'")),
        "{log:?}"
    );
}

#[test]
fn disks_added_to_a_plain_instance() {
    let env = Env::new();
    env.ok(create("i1", "plain", json!([{"size": 10}])));
    // a new plain disk is an LV in the cluster's volume group, or the given one
    let (r, _) = env.ok(
        json!({"OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": "i1",
        "disks": [["add", -1, {"size": 20}], ["add", -1, {"size": 8, "vg": "datavg"}]],
        "ignore_ipolicy": true}),
    );
    assert_eq!(
        r,
        json!([
            ["disk/1", "add:size=20,mode=rw"],
            ["disk/2", "add:size=8,mode=rw"]
        ])
    );
    let disks = env.disks("i1");
    assert_eq!(disks[1].logical_id[0], json!("xenvg"));
    assert_eq!(disks[2].logical_id[0], json!("datavg"));
    assert!(disks[2].logical_id[1].as_str().unwrap().ends_with(".disk2"));
    let lvs = env.lvm.lvs();
    assert_eq!(lvs[&lv_name(&disks[1])].size_mib, 20);
    assert!(lvs.contains_key(&lv_name(&disks[2])), "{lvs:?}");
    // no file storage directory is made for LVM disks
    let file_dir = std::path::Path::new(&env.cfg().cluster.file_storage_dir).join("i1");
    assert!(!file_dir.exists(), "{}", file_dir.display());
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": "i1",
        "disks": [["remove", 1, {}]], "ignore_ipolicy": true}),
    );
    assert!(!env.lvm.lvs().contains_key(&lv_name(&disks[1])));
    env.ok(remove("i1"));
}
