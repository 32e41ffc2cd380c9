//! OP_INSTANCE_SET_PARAMS on NICs: add, remove, modify, MAC uniqueness and
//! Ganeti 3.0's `hotplug` / `hotplug_if_possible`.
//!
//! The fake hypervisor cannot hotplug (as in Ganeti), which covers the
//! refusal and the fallback. For the hotplug path itself the node is
//! wrapped: instances of hypervisor `kvm` run on the fake hypervisor, and
//! `instance_hotplug` is recorded (and can be made to fail) instead of
//! reaching QEMU.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ganeti_node::{
    BlockDevProbe, BlockDevStatus, ConsoleHost, ConsoleInfo, DiskPath, DiskSpec, HotplugAction,
    InstanceRuntime, InstanceSpec, LocalNode, LvInfo, NodeApi, NodeError, NodeInfo, OsDiagnosis,
    RebootType, StorageEntry, StorageListRequest, StorageUnit,
};
use ganeti_types::{ConfigData, ErrorClass, Paths};
use serde_json::{json, Value};

use super::{op, Env, NODE_NAME};
use crate::cmdlib::cluster::checks::testcfg;
use crate::state::{Command, MasterState};
use crate::Master;

const SET: &str = "OP_INSTANCE_SET_PARAMS";

// ---------------------------------------------------------------------------
// a node whose "kvm" instances run on the fake hypervisor

#[derive(Debug, Default)]
struct Recorder {
    calls: Mutex<Vec<(InstanceSpec, HotplugAction)>>,
    fail: AtomicBool,
}

#[derive(Debug)]
struct KvmOnFake {
    inner: LocalNode,
    rec: Arc<Recorder>,
}

fn hv(name: &str) -> &str {
    if name == "kvm" {
        "fake"
    } else {
        name
    }
}

fn on_fake(spec: &InstanceSpec) -> InstanceSpec {
    let mut s = spec.clone();
    s.hypervisor = hv(&s.hypervisor).to_string();
    s
}

impl NodeApi for KvmOnFake {
    fn node_info(&self, hvs: &[String], st: &[StorageUnit]) -> Result<NodeInfo, NodeError> {
        let hvs: Vec<String> = hvs.iter().map(|h| hv(h).to_string()).collect();
        self.inner.node_info(&hvs, st)
    }
    fn instances_info(&self, h: &str) -> Result<BTreeMap<String, InstanceRuntime>, NodeError> {
        self.inner.instances_info(hv(h))
    }
    fn instance_info(&self, n: &str, h: &str) -> Result<Option<InstanceRuntime>, NodeError> {
        self.inner.instance_info(n, hv(h))
    }
    fn instance_start(&self, i: &InstanceSpec, paused: bool) -> Result<(), NodeError> {
        self.inner.instance_start(&on_fake(i), paused)
    }
    fn instance_shutdown(&self, i: &InstanceSpec, t: u64) -> Result<(), NodeError> {
        self.inner.instance_shutdown(&on_fake(i), t)
    }
    fn instance_reboot(&self, i: &InstanceSpec, r: RebootType, t: u64) -> Result<(), NodeError> {
        self.inner.instance_reboot(&on_fake(i), r, t)
    }
    fn instance_console(
        &self,
        i: &InstanceSpec,
        h: &ConsoleHost,
    ) -> Result<ConsoleInfo, NodeError> {
        self.inner.instance_console(&on_fake(i), h)
    }
    fn instance_hotplug(&self, i: &InstanceSpec, a: &HotplugAction) -> Result<(), NodeError> {
        if self
            .inner
            .instance_info(&i.name, hv(&i.hypervisor))?
            .is_none()
        {
            return Err(NodeError::NotRunning {
                instance: i.name.clone(),
            });
        }
        if self.rec.fail.load(Ordering::SeqCst) {
            return Err(NodeError::InvalidParameter {
                instance: i.name.clone(),
                param: "nic".into(),
                reason: "QMP said no".into(),
            });
        }
        self.rec.calls.lock().unwrap().push((i.clone(), a.clone()));
        Ok(())
    }
    fn blockdev_create(&self, d: &DiskSpec) -> Result<DiskPath, NodeError> {
        self.inner.blockdev_create(d)
    }
    fn blockdev_remove(&self, d: &DiskSpec) -> Result<(), NodeError> {
        self.inner.blockdev_remove(d)
    }
    fn blockdev_grow(&self, d: &DiskSpec, mib: u64, dry: bool) -> Result<(), NodeError> {
        self.inner.blockdev_grow(d, mib, dry)
    }
    fn blockdev_assemble(&self, d: &DiskSpec) -> Result<DiskPath, NodeError> {
        self.inner.blockdev_assemble(d)
    }
    fn blockdev_shutdown(&self, d: &DiskSpec) -> Result<(), NodeError> {
        self.inner.blockdev_shutdown(d)
    }
    fn blockdev_find(&self, d: &DiskSpec) -> Result<Option<BlockDevStatus>, NodeError> {
        self.inner.blockdev_find(d)
    }
    fn file_storage_dir_create(&self, dir: &Path) -> Result<(), NodeError> {
        self.inner.file_storage_dir_create(dir)
    }
    fn file_storage_dir_remove(&self, dir: &Path) -> Result<(), NodeError> {
        self.inner.file_storage_dir_remove(dir)
    }
    fn file_storage_dir_rename(&self, old: &Path, new: &Path) -> Result<(), NodeError> {
        self.inner.file_storage_dir_rename(old, new)
    }
    fn os_diagnose(&self) -> Result<Vec<OsDiagnosis>, NodeError> {
        self.inner.os_diagnose()
    }
    fn storage_list(&self, req: &StorageListRequest) -> Result<Vec<StorageEntry>, NodeError> {
        self.inner.storage_list(req)
    }
    fn lv_list(&self, vgs: &[String]) -> Result<BTreeMap<String, LvInfo>, NodeError> {
        self.inner.lv_list(vgs)
    }
    fn blockdev_rename(&self, d: &DiskSpec, id: &Value) -> Result<(), NodeError> {
        self.inner.blockdev_rename(d, id)
    }
    fn blockdev_probe(&self, devs: &[PathBuf]) -> Result<Vec<BlockDevProbe>, NodeError> {
        self.inner.blockdev_probe(devs)
    }
    fn os_create(
        &self,
        i: &InstanceSpec,
        os: &ganeti_node::OsRunSpec,
        reinstall: bool,
        debug: u32,
    ) -> Result<(), NodeError> {
        self.inner.os_create(&on_fake(i), os, reinstall, debug)
    }
    fn os_rename(
        &self,
        i: &InstanceSpec,
        old: &str,
        os: &ganeti_node::OsRunSpec,
        debug: u32,
    ) -> Result<(), NodeError> {
        self.inner.os_rename(&on_fake(i), old, os, debug)
    }
    fn os_validate(
        &self,
        os: &str,
        params: &ganeti_types::Dict,
        secret: &ganeti_types::Dict,
        checks: &[String],
        force_variant: bool,
    ) -> Result<(), NodeError> {
        self.inner
            .os_validate(os, params, secret, checks, force_variant)
    }
    fn os_export_disk(
        &self,
        i: &InstanceSpec,
        os: &ganeti_node::OsRunSpec,
        idx: usize,
        dest: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<u64, NodeError> {
        self.inner
            .os_export_disk(&on_fake(i), os, idx, dest, compress, debug)
    }
    fn os_import_disk(
        &self,
        i: &InstanceSpec,
        os: &ganeti_node::OsRunSpec,
        idx: usize,
        src: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<(), NodeError> {
        self.inner
            .os_import_disk(&on_fake(i), os, idx, src, compress, debug)
    }
    fn export_dir(&self) -> PathBuf {
        self.inner.export_dir()
    }
    fn export_finalize(&self, name: &str, staging: &Path, ini: &str) -> Result<(), NodeError> {
        self.inner.export_finalize(name, staging, ini)
    }
    fn export_list(&self) -> Result<Vec<String>, NodeError> {
        self.inner.export_list()
    }
    fn export_info(&self, path: &Path) -> Result<String, NodeError> {
        self.inner.export_info(path)
    }
    fn export_remove(&self, name: &str) -> Result<(), NodeError> {
        self.inner.export_remove(name)
    }
    fn blockdev_snapshot(&self, d: &DiskSpec, snap: &str) -> Result<PathBuf, NodeError> {
        self.inner.blockdev_snapshot(d, snap)
    }
    fn blockdev_snapshot_remove(&self, d: &DiskSpec, snap: &Path) -> Result<(), NodeError> {
        self.inner.blockdev_snapshot_remove(d, snap)
    }
    fn hooks_run(
        &self,
        hpath: &str,
        phase: ganeti_node::hooks::HookPhase,
        env: &std::collections::BTreeMap<String, String>,
    ) -> Result<Vec<ganeti_node::hooks::HookScriptResult>, NodeError> {
        self.inner.hooks_run(hpath, phase, env)
    }
}

/// A master whose node runs `kvm` instances on the fake hypervisor.
fn kvm_env() -> (Env, Arc<Recorder>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path());
    let mut cfg: ConfigData = testcfg::config();
    cfg.cluster.file_storage_dir = paths.default_file_storage_dir().display().to_string();
    cfg.cluster.default_iallocator = String::new();
    cfg.cluster.enabled_hypervisors.push("kvm".into());
    crate::cmdlib::instance::tests::install_test_os(dir.path(), "noop");
    {
        let store = ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
        store
            .propose_blocking(Command::Init(Box::new(cfg)))
            .unwrap();
    }
    let rec = Arc::new(Recorder::default());
    let node = KvmOnFake {
        inner: LocalNode::new(Paths::new(dir.path())),
        rec: rec.clone(),
    };
    let m = Master::open(paths, Arc::new(node)).unwrap();
    (Env { _dir: dir, m }, rec)
}

/// A diskless instance with `nics`, on hypervisor `hv`, started or not.
fn create(env: &Env, name: &str, hv: &str, nics: Value, start: bool) {
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": "diskless", "disks": [], "nics": nics, "os_type": "noop",
        "hypervisor": hv, "pnode": NODE_NAME, "name_check": false, "ip_check": false,
        "start": start, "ignore_ipolicy": true}),
    );
}

const I1: &str = "inst1.example.com";
const I2: &str = "inst2.example.com";

fn nics(env: &Env, name: &str) -> Vec<ganeti_types::Nic> {
    env.inst(name).nics
}

/// The message and class of a refused opcode; nothing may have changed.
#[track_caller]
fn refused(env: &Env, o: Value) -> (String, Option<ErrorClass>) {
    let before = env.cfg();
    let e = env.run(o).unwrap_err();
    let after = env.cfg();
    assert_eq!(
        before.instances, after.instances,
        "a refused opcode changed instances"
    );
    assert_eq!(
        before.networks, after.networks,
        "a refused opcode changed networks"
    );
    (e.message().to_string(), e.error_class())
}

fn hotplug_lines(log: &[String]) -> Vec<&String> {
    log.iter()
        .filter(|l| l.to_lowercase().contains("hotplug"))
        .collect()
}

// ---------------------------------------------------------------------------
// without hotplug

#[test]
fn nics_are_added_and_removed_on_a_stopped_instance() {
    let env = Env::new();
    create(&env, I1, "fake", json!([]), false);
    let r = env.ok(op(SET, I1, json!({"nics": [["add", -1, {}]]})));
    let n = nics(&env, I1);
    assert_eq!(n.len(), 1);
    assert!(n[0].mac.starts_with("aa:00:00:"), "{}", n[0].mac);
    assert_eq!(
        r.result,
        json!([[
            "nic.0",
            format!(
                "add:mac={},ip=None,mode=bridged,link=br0,network=None",
                n[0].mac
            )
        ]])
    );
    assert!(hotplug_lines(&r.log).is_empty(), "{:?}", r.log);

    // explicit values, legacy two-element form, filled mode/link in the line
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", {"mac": "AA:00:00:12:34:56", "ip": "192.0.2.5",
                                  "mode": "routed", "link": "100"}]]}),
    ));
    assert_eq!(
        r.result,
        json!([[
            "nic.1",
            "add:mac=aa:00:00:12:34:56,ip=192.0.2.5,mode=routed,link=100,network=None"
        ]])
    );
    // insert at the front
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", 0, {"mac": "aa:00:00:00:00:01"}]]}),
    ));
    assert_eq!(r.result[0][0], "nic.0");
    let macs: Vec<String> = nics(&env, I1).into_iter().map(|n| n.mac).collect();
    assert_eq!(macs[0], "aa:00:00:00:00:01");
    assert_eq!(macs[2], "aa:00:00:12:34:56");

    let r = env.ok(op(SET, I1, json!({"nics": [["remove", 0, {}]]})));
    assert_eq!(r.result, json!([["NIC/0", "remove"]]));
    let n = nics(&env, I1);
    assert_eq!(n.len(), 2);
    assert_eq!(n[1].mac, "aa:00:00:12:34:56");
    let r = env.ok(op(SET, I1, json!({"nics": [["remove", -1, {}]]})));
    assert_eq!(r.result, json!([["NIC/1", "remove"]]));
    assert_eq!(nics(&env, I1).len(), 1);
}

#[test]
fn bad_nic_changes_are_refused() {
    let env = Env::new();
    create(&env, I1, "fake", json!([{}]), false);
    for (nics, want) in [
        (
            json!([["add", 5, {}]]),
            "Got NIC index 5, but there are only 1",
        ),
        (
            json!([["add", -2, {}]]),
            "Not accepting negative indices other than -1",
        ),
        (
            json!([["add", "eth9", {}]]),
            "Only positive integer or -1 is accepted",
        ),
        (json!([["remove", 3, {}]]), "Invalid NIC index 3"),
        (
            json!([["add", -1, {"mac": "zz:00"}]]),
            "Invalid MAC address specified: zz:00",
        ),
        (
            json!([["add", -1, {"mode": "vde"}]]),
            "Invalid NIC mode 'vde'",
        ),
    ] {
        let (msg, class) = refused(&env, op(SET, I1, json!({ "nics": nics })));
        assert_eq!(msg, want, "{nics}");
        assert_eq!(class, Some(ErrorClass::WrongInput), "{nics}");
    }
    // Ganeti's limit of 8 NICs
    let eight: Vec<Value> = (0..7).map(|_| json!(["add", -1, {}])).collect();
    env.ok(op(SET, I1, json!({ "nics": eight })));
    let (msg, class) = refused(&env, op(SET, I1, json!({"nics": [["add", -1, {}]]})));
    assert_eq!(
        msg,
        "Instance has too many network interfaces (8), cannot add more"
    );
    assert_eq!(class, Some(ErrorClass::WrongState));
}

#[test]
fn macs_are_unique_in_the_cluster() {
    let env = Env::new();
    create(
        &env,
        I1,
        "fake",
        json!([{"mac": "aa:00:00:aa:bb:cc"}]),
        false,
    );
    create(&env, I2, "fake", json!([]), false);
    for mac in ["aa:00:00:aa:bb:cc", "AA:00:00:AA:BB:CC"] {
        let (msg, class) = refused(
            &env,
            op(SET, I2, json!({"nics": [["add", -1, {"mac": mac}]]})),
        );
        assert_eq!(
            msg,
            "MAC address aa:00:00:aa:bb:cc already in use in cluster"
        );
        assert_eq!(class, Some(ErrorClass::NotUnique));
    }
    // two generated MACs in one job differ and carry the cluster prefix
    env.ok(op(
        SET,
        I2,
        json!({"nics": [["add", -1, {}], ["add", -1, {"mac": "generate"}]]}),
    ));
    let n = nics(&env, I2);
    assert_ne!(n[0].mac, n[1].mac);
    assert!(n.iter().all(|x| x.mac.starts_with("aa:00:00:")));
    // modify: another instance's MAC is refused, the own one is fine,
    // "generate" makes a new one
    let (msg, _) = refused(
        &env,
        op(
            SET,
            I2,
            json!({"nics": [["modify", 0, {"mac": "aa:00:00:aa:bb:cc"}]]}),
        ),
    );
    assert_eq!(
        msg,
        "MAC address aa:00:00:aa:bb:cc already in use in cluster"
    );
    let own = n[0].mac.clone();
    env.ok(op(SET, I2, json!({"nics": [["modify", 0, {"mac": own}]]})));
    let r = env.ok(op(
        SET,
        I2,
        json!({"nics": [["modify", 0, {"mac": "generate"}]]}),
    ));
    let new = nics(&env, I2)[0].mac.clone();
    assert_ne!(new, own);
    assert_eq!(r.result, json!([["nic.mac/0", new]]));
}

#[test]
fn a_running_instance_without_hotplug_changes_at_the_next_restart() {
    let env = Env::new();
    create(&env, I1, "fake", json!([{}]), true);
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", -1, {}], ["remove", 0, {}]]}),
    ));
    assert_eq!(r.result.as_array().unwrap().len(), 2);
    assert!(hotplug_lines(&r.log).is_empty(), "{:?}", r.log);
    assert_eq!(nics(&env, I1).len(), 1);
}

// ---------------------------------------------------------------------------
// hotplug with a hypervisor that cannot

#[test]
fn hotplug_is_refused_by_the_fake_hypervisor() {
    let env = Env::new();
    create(&env, I1, "fake", json!([{}]), true);
    for nics in [
        json!([["add", -1, {}]]),
        json!([["remove", 0, {}]]),
        json!([]),
    ] {
        let mut o = op(SET, I1, json!({ "nics": nics, "hotplug": true }));
        if nics.as_array().unwrap().is_empty() {
            // Ganeti checks hotplug before anything else, whatever changes
            o["beparams"] = json!({"vcpus": 2});
        }
        let (msg, class) = refused(&env, o);
        assert_eq!(
            msg,
            "Hotplug is not possible: Hotplug is not supported: Hotplug is not supported by this hypervisor"
        );
        assert_eq!(class, Some(ErrorClass::WrongState));
    }
}

#[test]
fn hotplug_if_possible_falls_back_to_the_next_restart() {
    let env = Env::new();
    create(&env, I1, "fake", json!([]), true);
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", -1, {}]], "hotplug_if_possible": true}),
    ));
    assert_eq!(r.result.as_array().unwrap().len(), 1, "{}", r.result);
    assert_eq!(
        r.log,
        vec![
            " - WARNING: Hotplug is not supported: Hotplug is not supported by this hypervisor",
            " - INFO: Modification will take place without hotplugging.",
        ]
    );
    assert_eq!(nics(&env, I1).len(), 1);
}

// ---------------------------------------------------------------------------
// hotplug with a hypervisor that can

#[test]
fn nics_are_hotplugged_into_a_running_kvm_instance() {
    let (env, rec) = kvm_env();
    create(&env, I1, "kvm", json!([{}]), true);

    // add
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", -1, {"link": "br1"}]], "hotplug": true}),
    ));
    let n = nics(&env, I1);
    assert_eq!(
        r.result,
        json!([
            [
                "nic.1",
                format!(
                    "add:mac={},ip=None,mode=bridged,link=br1,network=None",
                    n[1].mac
                )
            ],
            ["nic.1", "hotplug:done"]
        ])
    );
    assert_eq!(
        r.log,
        vec![
            " - INFO: Trying to hotplug device...",
            " - INFO: Hotplug done."
        ]
    );
    {
        let calls = rec.calls.lock().unwrap();
        assert_eq!(calls.len(), 1);
        let (spec, action) = &calls[0];
        assert_eq!(action, &HotplugAction::NicAdd { index: 1 });
        assert_eq!(spec.hypervisor, "kvm");
        assert_eq!(spec.nics.len(), 2);
        assert_eq!(spec.nics[1].mac, n[1].mac);
        assert_eq!(spec.nics[1].link, "br1");
    }

    // modify: unplug the old NIC, plug the new one
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["modify", 1, {"link": "br2"}]], "hotplug": true}),
    ));
    assert_eq!(
        r.result,
        json!([["nic.link/1", "br2"], ["nic/1", "hotplug:done"]])
    );
    {
        let calls = rec.calls.lock().unwrap();
        assert_eq!(calls.len(), 3);
        match &calls[1].1 {
            HotplugAction::NicRemove { nic } => {
                assert_eq!(nic.link, "br1");
                assert_eq!(nic.uuid, n[1].uuid);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(calls[2].1, HotplugAction::NicAdd { index: 1 });
        assert_eq!(calls[2].0.nics[1].link, "br2");
    }

    // remove
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["remove", 0, {}]], "hotplug": true}),
    ));
    assert_eq!(
        r.result,
        json!([["NIC/0", "remove"], ["NIC/0", "hotplug:done"]])
    );
    {
        let calls = rec.calls.lock().unwrap();
        let (spec, action) = &calls[3];
        assert_eq!(
            action,
            &HotplugAction::NicRemove {
                nic: ganeti_node::NicSpec::from_nic(&env.cfg().cluster, &n[0])
            }
        );
        assert_eq!(spec.nics.len(), 1);
        assert_eq!(spec.nics[0].uuid, n[1].uuid);
    }
    assert_eq!(nics(&env, I1).len(), 1);

    // hotplug_if_possible hotplugs when it is possible
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", -1, {}]], "hotplug_if_possible": true}),
    ));
    assert_eq!(r.result[1], json!(["nic.1", "hotplug:done"]));
    assert_eq!(rec.calls.lock().unwrap().len(), 5);
}

#[test]
fn a_failed_hotplug_warns_and_keeps_the_change() {
    let (env, rec) = kvm_env();
    create(&env, I1, "kvm", json!([]), true);
    rec.fail.store(true, Ordering::SeqCst);
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", -1, {}]], "hotplug": true}),
    ));
    assert_eq!(r.result[1], json!(["nic.0", "hotplug:failed"]));
    assert_eq!(
        r.log,
        vec![
            " - INFO: Trying to hotplug device...",
            " - WARNING: Could not hotplug device: Invalid parameter 'nic' of instance inst1.example.com: QMP said no",
            " - INFO: Continuing execution..",
        ]
    );
    assert_eq!(nics(&env, I1).len(), 1);
}

#[test]
fn hotplug_needs_a_running_kvm_instance() {
    let (env, rec) = kvm_env();
    create(&env, I1, "kvm", json!([{}, {}]), false);
    let (msg, class) = refused(
        &env,
        op(SET, I1, json!({"nics": [["add", -1, {}]], "hotplug": true})),
    );
    assert_eq!(
        msg,
        "Hotplug is not possible: Hotplug is not supported: Instance is probably down"
    );
    assert_eq!(class, Some(ErrorClass::WrongState));
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["remove", 0, {}]], "hotplug_if_possible": true}),
    ));
    assert_eq!(r.result, json!([["NIC/0", "remove"]]));
    assert_eq!(
        r.log[0],
        " - WARNING: Hotplug is not supported: Instance is probably down"
    );
    assert!(rec.calls.lock().unwrap().is_empty());
}

#[test]
fn dry_run_hotplugs_nothing() {
    let (env, rec) = kvm_env();
    create(&env, I1, "kvm", json!([]), true);
    let r = env.ok(op(
        SET,
        I1,
        json!({"nics": [["add", -1, {}]], "hotplug": true, "dry_run": true}),
    ));
    assert_eq!(r.result, Value::Null);
    assert!(rec.calls.lock().unwrap().is_empty());
    assert!(nics(&env, I1).is_empty());
}

// ---------------------------------------------------------------------------
// disks of a running instance

/// A file-template instance with one 4 MiB disk, on hypervisor `hv`.
fn create_with_disk(env: &Env, name: &str, hv: &str, start: bool) {
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
        "hypervisor": hv, "pnode": NODE_NAME, "name_check": false, "ip_check": false,
        "start": start, "ignore_ipolicy": true}),
    );
}

#[test]
fn disks_are_hotplugged_into_a_running_kvm_instance() {
    let (env, rec) = kvm_env();
    create_with_disk(&env, I1, "kvm", true);

    // without hotplug a running instance keeps its disks as they are
    let (msg, class) = refused(
        &env,
        op(SET, I1, json!({"disks": [["add", -1, {"size": 2}]]})),
    );
    assert!(
        msg.contains("adding disks needs it stopped or --hotplug"),
        "{msg}"
    );
    assert_eq!(class, Some(ErrorClass::WrongState));

    // add: created, committed, then attached as disk 1
    let r = env.ok(op(
        SET,
        I1,
        json!({"disks": [["add", -1, {"size": 2}]], "hotplug": true, "ignore_ipolicy": true}),
    ));
    assert_eq!(
        r.result,
        json!([["disk/1", "add:size=2,mode=rw"], ["disk/1", "hotplug:done"]])
    );
    let disks = env
        .cfg()
        .instance_disks(&env.inst(I1))
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(disks.len(), 2);
    let new_file = disks[1].logical_id[1].as_str().unwrap().to_string();
    assert!(new_file.ends_with(".file.disk1"), "{new_file}");
    assert!(
        Path::new(&new_file).is_file(),
        "the new disk was not created"
    );
    {
        let calls = rec.calls.lock().unwrap();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].1, HotplugAction::DiskAdd { index: 1 });
        assert_eq!(calls[0].0.disks[1].uuid, disks[1].uuid);
    }

    // remove: detached from the guest first, then deleted
    let r = env.ok(op(
        SET,
        I1,
        json!({"disks": [["remove", 1, {}]], "hotplug": true, "ignore_ipolicy": true}),
    ));
    assert_eq!(
        r.result,
        json!([["disk/1", "remove"], ["disk/1", "hotplug:done"]])
    );
    {
        let calls = rec.calls.lock().unwrap();
        match &calls[1].1 {
            HotplugAction::DiskRemove { disk } => assert_eq!(disk.uuid, disks[1].uuid),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        !Path::new(&new_file).exists(),
        "the removed disk is still there"
    );
    assert_eq!(env.inst(I1).disks.len(), 1);
}

#[test]
fn disk_changes_of_a_running_fake_instance_wait_for_a_restart() {
    let (env, rec) = kvm_env();
    create_with_disk(&env, I1, "fake", true);
    let (msg, _) = refused(&env, op(SET, I1, json!({"disks": [["remove", 0, {}]]})));
    assert!(
        msg.contains("removing disks needs it stopped or --hotplug"),
        "{msg}"
    );
    // fake cannot hotplug: refused with Ganeti's words, nothing changed
    let (msg, class) = refused(
        &env,
        op(
            SET,
            I1,
            json!({"disks": [["add", -1, {"size": 2}]], "hotplug": true}),
        ),
    );
    assert!(msg.starts_with("Hotplug is not possible"), "{msg}");
    assert_eq!(class, Some(ErrorClass::WrongState));
    assert!(rec.calls.lock().unwrap().is_empty());
}
