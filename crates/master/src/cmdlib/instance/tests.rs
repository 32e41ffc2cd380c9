//! Instance opcodes run for real: a master on a store in a temporary root,
//! the local node with the fake hypervisor and real file disks. Jobs are
//! submitted through the normal path (schema, submission checks) and run
//! in the test thread the way a worker runs them (locks, then execution),
//! so every refusal is checked together with "nothing changed".

use std::path::PathBuf;
use std::sync::Arc;

use ganeti_node::LocalNode;
use ganeti_types::{ConfigData, GanetiError, Instance, OpStatus, Paths};
use serde_json::{json, Value};

use crate::cmdlib::cluster::checks::testcfg;
use crate::cmdlib::{self, OpCtx};
use crate::jobs::JobCtl;
use crate::state::{Command, MasterState};
use crate::Master;

const NODE_NAME: &str = "node1.example.com";

/// gnt-backup: export, import, remove, and the export's config.ini.
mod backup;
/// Pre, post and config-update hooks around instance opcodes.
mod hooks;
/// NIC changes and hotplug of OP_INSTANCE_SET_PARAMS.
mod kvm_hvparams;
mod modify_nics;
/// OS parameters checked by the OS: modify, cluster modify, multi-alloc.
mod os_params;
/// OS create/reinstall/rename scripts run by the opcodes.
mod os_scripts;

/// A valid API 20 OS provider `name` in the temp root's `srv/ganeti/os`:
/// every script dumps its environment to `<script>.env` in the OS
/// directory (its cwd) and fails (exit 7, after a line of output) when a
/// file `fail-<script>` exists there. Parameters: `size`, `root-pw`;
/// verify refuses `size=bad`.
pub(crate) fn install_test_os(root: &std::path::Path, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = root.join("srv/ganeti/os").join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("ganeti_api_version"), "20\n").unwrap();
    std::fs::write(
        d.join("parameters.list"),
        "size the size\nroot-pw a password\na one\nb two\nc three\np a private one\npw a secret one\n",
    )
    .unwrap();
    for script in ["create", "export", "import", "rename", "verify"] {
        let body = format!(
            "#!/bin/sh\nenv | sort > {script}.env\n[ -e fail-{script} ] && {{ echo \"{script} failed here\"; exit 7; }}\n[ \"$OSP_SIZE\" = bad ] && {{ echo \"size is bad\"; exit 1; }}\nexit 0\n"
        );
        let p = d.join(script);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    d
}

/// The environment a test OS script saw (see [`install_test_os`]).
pub(crate) fn script_env(
    os_dir: &std::path::Path,
    script: &str,
) -> Option<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(os_dir.join(format!("{script}.env"))).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

struct Env {
    /// Keeps the temporary root alive as long as the master.
    _dir: tempfile::TempDir,
    m: Arc<Master>,
}

/// What a job gave: its result and its log messages.
#[derive(Debug)]
struct Ran {
    result: Value,
    log: Vec<String>,
}

impl Env {
    fn new() -> Self {
        Self::with(|_| {})
    }

    fn with(edit: impl FnOnce(&mut ConfigData)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        let mut cfg = testcfg::config();
        cfg.cluster.file_storage_dir = paths.default_file_storage_dir().display().to_string();
        cfg.cluster.default_iallocator = String::new();
        edit(&mut cfg);
        for os in ["noop", "other"] {
            install_test_os(dir.path(), os);
        }
        {
            let store =
                ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
            store
                .propose_blocking(Command::Init(Box::new(cfg)))
                .unwrap();
        }
        let m = Master::open(paths, Arc::new(LocalNode::new(Paths::new(dir.path())))).unwrap();
        Env { _dir: dir, m }
    }

    fn cfg(&self) -> ConfigData {
        self.m.config().unwrap()
    }

    fn inst(&self, name: &str) -> Instance {
        self.cfg().instance_by_name(name).cloned().unwrap()
    }

    /// Submit a one-opcode job, run it, and give its result (or the
    /// refusal at submission, lock computation or execution).
    fn run(&self, op: Value) -> Result<Ran, GanetiError> {
        let id = self.m.submit_job(&[op], false)?;
        self.run_id(id)
    }

    fn run_id(&self, id: u64) -> Result<Ran, GanetiError> {
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
        res.map(|result| Ran { result, log })
    }

    fn ok(&self, op: Value) -> Ran {
        match self.run(op.clone()) {
            Ok(r) => r,
            Err(e) => panic!("{op}: {e}"),
        }
    }

    /// The error message and class of a refused opcode, checking that the
    /// configuration did not change.
    #[track_caller]
    fn refused(&self, op: Value) -> (String, &'static str) {
        let before = self.cfg();
        let e = self.run(op).unwrap_err();
        let after = self.cfg();
        assert_eq!(
            before.instances, after.instances,
            "a refused opcode changed instances"
        );
        assert_eq!(before.disks, after.disks, "a refused opcode changed disks");
        (e.message().to_string(), e.class_name())
    }

    fn create(&self, name: &str, disks: Value, start: bool) {
        let template = if disks.as_array().is_some_and(Vec::is_empty) {
            "diskless"
        } else {
            "file"
        };
        self.ok(
            json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
            "disk_template": template, "disks": disks, "nics": [], "os_type": "noop",
            "pnode": NODE_NAME, "name_check": false, "ip_check": false, "start": start,
            "ignore_ipolicy": true}),
        );
    }

    fn disk_paths(&self, name: &str) -> Vec<PathBuf> {
        let cfg = self.cfg();
        let inst = cfg.instance_by_name(name).unwrap();
        cfg.instance_disks(inst)
            .iter()
            .map(|d| PathBuf::from(d.file_path().unwrap()))
            .collect()
    }
}

fn op(id: &str, name: &str, extra: Value) -> Value {
    let mut o = json!({"OP_ID": id, "instance_name": name});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

const I1: &str = "inst1.example.com";

// ---------------------------------------------------------------------------
// activate / deactivate

#[test]
fn activate_returns_device_paths_and_marks_disks_active() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}, {"size": 8}]), false);
    let paths = env.disk_paths(I1);
    let r = env.ok(op(
        "OP_INSTANCE_ACTIVATE_DISKS",
        "inst1",
        json!({"wait_for_sync": true, "ignore_size": true}),
    ));
    assert_eq!(
        r.result,
        json!([
            [NODE_NAME, "disk/0", paths[0]],
            [NODE_NAME, "disk/1", paths[1]]
        ])
    );
    assert_eq!(
        r.log,
        [
            format!(" - INFO: Waiting for instance {I1} to sync disks"),
            format!(" - INFO: Instance {I1}'s disks are in sync"),
        ]
    );
    assert!(ganeti_opschema::result_matches("OP_INSTANCE_ACTIVATE_DISKS", &r.result).unwrap());
    let inst = env.inst(I1);
    assert!(inst.disks_active);
    // activating again changes nothing in the config
    env.ok(op("OP_INSTANCE_ACTIVATE_DISKS", I1, json!({})));
    assert_eq!(env.inst(I1).serial_no, inst.serial_no);

    env.ok(op("OP_INSTANCE_DEACTIVATE_DISKS", I1, json!({})));
    assert!(!env.inst(I1).disks_active);
    // deactivation leaves the files alone
    assert!(paths.iter().all(|p| p.is_file()));
}

#[test]
fn activate_with_a_missing_file_fails_and_leaves_disks_inactive() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}, {"size": 4}]), false);
    let paths = env.disk_paths(I1);
    std::fs::remove_file(&paths[1]).unwrap();
    let e = env
        .run(op("OP_INSTANCE_ACTIVATE_DISKS", I1, json!({})))
        .unwrap_err();
    assert_eq!(e.message(), "Cannot activate block devices");
    assert_eq!(e.class_name(), "OpExecError");
    assert!(!env.inst(I1).disks_active);
    let job = env.m.job(env.m.store.read(|s| s.next_job_id) - 1).unwrap();
    let log: Vec<String> = job.ops[0].log.iter().map(|e| e.3.to_string()).collect();
    assert!(
        log.iter().any(|l| l.contains(&format!(
            "Could not prepare block device disk/1 on node {NODE_NAME} (is_primary=True, pass=2)"
        ))),
        "{log:?}"
    );
}

#[test]
fn activate_of_a_diskless_instance_has_nothing_to_report() {
    let env = Env::new();
    env.create(I1, json!([]), false);
    let r = env.ok(op(
        "OP_INSTANCE_ACTIVATE_DISKS",
        I1,
        json!({"wait_for_sync": true}),
    ));
    assert_eq!(r.result, json!([]));
    assert!(r.log.is_empty(), "{:?}", r.log);
}

#[test]
fn unknown_instances_are_refused() {
    let env = Env::new();
    for id in [
        "OP_INSTANCE_ACTIVATE_DISKS",
        "OP_INSTANCE_DEACTIVATE_DISKS",
        "OP_INSTANCE_RECREATE_DISKS",
        "OP_INSTANCE_REINSTALL",
    ] {
        assert_eq!(
            env.refused(op(id, "nosuch", json!({}))),
            ("Instance 'nosuch' not known".to_string(), "OpPrereqError"),
            "{id}"
        );
    }
}

#[test]
fn deactivate_refuses_an_instance_that_is_up_or_running_unless_forced() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), true);
    env.ok(op("OP_INSTANCE_ACTIVATE_DISKS", I1, json!({})));
    let e = env
        .run(op("OP_INSTANCE_DEACTIVATE_DISKS", I1, json!({})))
        .unwrap_err();
    assert_eq!(
        e.message(),
        format!("Instance '{I1}' is marked to be up, cannot shutdown disks")
    );
    assert_eq!(e.error_class(), Some(ganeti_types::ErrorClass::WrongState));
    assert!(env.inst(I1).disks_active);
    // administratively down but still running (stopped with --no-remember
    // reversed: started without remembering)
    env.ok(op("OP_INSTANCE_SHUTDOWN", I1, json!({})));
    env.ok(op("OP_INSTANCE_STARTUP", I1, json!({"no_remember": true})));
    let e = env
        .run(op("OP_INSTANCE_DEACTIVATE_DISKS", I1, json!({})))
        .unwrap_err();
    assert_eq!(
        e.message(),
        format!("Instance {I1} is running, cannot shutdown disks")
    );
    // a dry run checks, and changes nothing
    env.refused(op(
        "OP_INSTANCE_DEACTIVATE_DISKS",
        I1,
        json!({"dry_run": true}),
    ));
    let r = env.ok(op(
        "OP_INSTANCE_DEACTIVATE_DISKS",
        I1,
        json!({"force": true, "dry_run": true}),
    ));
    assert_eq!(r.result, Value::Null);
    assert!(env.inst(I1).disks_active);
    env.ok(op(
        "OP_INSTANCE_DEACTIVATE_DISKS",
        I1,
        json!({"force": true}),
    ));
    assert!(!env.inst(I1).disks_active);
}

// ---------------------------------------------------------------------------
// reinstall

#[test]
fn reinstall_records_the_os_and_merges_parameters() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    env.ok(op(
        "OP_INSTANCE_REINSTALL",
        I1,
        json!({"osparams": {"a": "1", "b": "2"}, "osparams_private": {"p": "s"}}),
    ));
    let r = env.ok(op(
        "OP_INSTANCE_REINSTALL",
        "inst1",
        json!({"os_type": "other", "osparams": {"b": "default", "c": "3"},
               "osparams_secret": {"pw": "hunter2"}}),
    ));
    assert_eq!(r.result, Value::Null);
    assert_eq!(
        r.log,
        [
            "Changing OS scripts to 'other'...",
            " - INFO: Running instance OS create scripts..."
        ]
    );
    // the new OS's create script ran, as a reinstall, with the new
    // parameters (public and private) on the instance's disk
    let seen = script_env(&env._dir.path().join("srv/ganeti/os/other"), "create").unwrap();
    assert_eq!(seen["INSTANCE_REINSTALL"], "1");
    assert_eq!(seen["OS_NAME"], "other");
    assert_eq!(seen["OSP_A"], "1");
    assert_eq!(seen["OSP_C"], "3");
    assert_eq!(seen["OSP_P"], "s");
    assert!(!seen.contains_key("OSP_B"));
    assert_eq!(
        seen["DISK_0_PATH"],
        env.disk_paths(I1)[0].display().to_string()
    );
    let inst = env.inst(I1);
    assert_eq!(inst.os, "other");
    assert_eq!(json!(inst.osparams), json!({"a": "1", "c": "3"}));
    assert_eq!(json!(inst.osparams_private), json!({"p": "s"}));
    assert!(!inst.disks_active);
    // the secret is neither stored in the config nor in the job
    let stored = serde_json::to_string(&env.cfg()).unwrap();
    assert!(!stored.contains("hunter2"));
    let job = env.m.job(env.m.store.read(|s| s.next_job_id) - 1).unwrap();
    assert!(!serde_json::to_string(&job).unwrap().contains("hunter2"));
}

#[test]
fn reinstall_refusals_change_nothing() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), true);
    env.create("diskless.example.com", json!([]), false);
    let (msg, class) = env.refused(op("OP_INSTANCE_REINSTALL", I1, json!({})));
    assert_eq!(
        (msg.as_str(), class),
        (
            "Instance 'inst1.example.com' is marked to be up, cannot reinstall",
            "OpPrereqError"
        )
    );
    env.ok(op("OP_INSTANCE_SHUTDOWN", I1, json!({})));
    let (msg, _) = env.refused(op(
        "OP_INSTANCE_REINSTALL",
        I1,
        json!({"os_type": "nosuch"}),
    ));
    assert!(
        msg.ends_with("Directory for OS nosuch not found in search path"),
        "{msg}"
    );
    let (msg, _) = env.refused(op("OP_INSTANCE_REINSTALL", "diskless", json!({})));
    assert_eq!(msg, "Instance 'diskless.example.com' has no disks");
    let (msg, _) = env.refused(op(
        "OP_INSTANCE_REINSTALL",
        I1,
        json!({"osparams": {"os-image": "relative/path.img"}}),
    ));
    assert_eq!(msg, "OS image must be an absolute path or a URL");
    // a dry run checks and changes nothing
    let r = env.ok(op(
        "OP_INSTANCE_REINSTALL",
        I1,
        json!({"os_type": "other", "dry_run": true}),
    ));
    assert_eq!(r.result, Value::Null);
    assert_eq!(env.inst(I1).os, "noop");
    // disks gone: Ganeti's "Disk consistency error", the OS is not changed
    for p in env.disk_paths(I1) {
        std::fs::remove_file(p).unwrap();
    }
    let (msg, class) = env.refused(op("OP_INSTANCE_REINSTALL", I1, json!({"os_type": "other"})));
    assert_eq!(
        (msg.as_str(), class),
        ("Disk consistency error", "OpExecError")
    );
    assert!(!env.inst(I1).disks_active);
}

// ---------------------------------------------------------------------------
// recreate-disks

#[test]
fn recreate_makes_missing_disks_again_with_changed_parameters() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}, {"size": 4}]), false);
    let paths = env.disk_paths(I1);
    for p in &paths {
        std::fs::remove_file(p).unwrap();
    }
    env.ok(op(
        "OP_INSTANCE_RECREATE_DISKS",
        I1,
        json!({"disks": [[1, {"size": "16M", "mode": "ro"}]]}),
    ));
    assert!(!paths[0].exists(), "disk 0 was not asked for");
    assert_eq!(std::fs::metadata(&paths[1]).unwrap().len(), 16 << 20);
    let cfg = env.cfg();
    let disks = cfg.instance_disks(cfg.instance_by_name(I1).unwrap());
    assert_eq!(
        (disks[0].size, disks[1].size, disks[1].mode.as_str()),
        (4, 16, "ro")
    );
    // all disks (the empty list): disk 1 exists now, so this is refused
    let (msg, class) = env.refused(op("OP_INSTANCE_RECREATE_DISKS", I1, json!({})));
    assert_eq!(class, "OpExecError");
    assert!(
        msg.starts_with(&format!(
            "Can't create block device disk/1 on node {NODE_NAME} for instance {I1}: "
        )) && msg.contains("only missing disks are recreated"),
        "{msg}"
    );
    assert!(!paths[0].exists(), "a refused recreate created disk 0");
    // the old index-list form, and the current node named explicitly
    env.ok(op(
        "OP_INSTANCE_RECREATE_DISKS",
        I1,
        json!({"disks": [0, 0]}),
    ));
    assert_eq!(std::fs::metadata(&paths[0]).unwrap().len(), 4 << 20);
    std::fs::remove_file(&paths[0]).unwrap();
    std::fs::remove_file(&paths[1]).unwrap();
    env.ok(op(
        "OP_INSTANCE_RECREATE_DISKS",
        I1,
        json!({"nodes": ["node1"]}),
    ));
    assert!(paths.iter().all(|p| p.is_file()));
}

#[test]
fn recreate_failing_half_way_removes_what_it_created() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}, {"size": 4}]), false);
    let paths = env.disk_paths(I1);
    for p in &paths {
        std::fs::remove_file(p).unwrap();
    }
    // something that is not a disk file blocks the creation of disk 1
    std::fs::create_dir(&paths[1]).unwrap();
    let (msg, class) = env.refused(op(
        "OP_INSTANCE_RECREATE_DISKS",
        I1,
        json!({"disks": [[0, {"size": 8}], [1, {}]]}),
    ));
    assert_eq!(class, "OpExecError");
    assert!(msg.starts_with("Can't create block device disk/1"), "{msg}");
    assert!(!paths[0].exists(), "disk 0 was left behind");
}

#[test]
fn recreate_refuses_bad_requests() {
    let env = Env::with(|cfg| {
        // a second node, to name a node the instance is not on
        let mut n2 = cfg.nodes[testcfg::NODE].clone();
        n2.uuid = "node2-uuid".into();
        n2.name = "node2.example.com".into();
        cfg.nodes.insert(n2.uuid.clone(), n2);
    });
    env.create(I1, json!([{"size": 4}]), true);
    env.create("diskless.example.com", json!([]), false);
    let rec = |extra: Value| op("OP_INSTANCE_RECREATE_DISKS", I1, extra);
    let msg = |extra: Value| env.refused(rec(extra)).0;
    assert_eq!(
        msg(json!({})),
        format!("Instance '{I1}' is marked to be up, cannot recreate disks")
    );
    env.ok(op("OP_INSTANCE_SHUTDOWN", I1, json!({})));
    std::fs::remove_file(&env.disk_paths(I1)[0]).unwrap();
    assert_eq!(msg(json!({"disks": [3]})), "Invalid disk index '3'");
    assert_eq!(
        msg(json!({"disks": [[0, {}], [0, {"size": 8}]]})),
        "Some disks have been specified more than once: 0"
    );
    assert_eq!(
        msg(json!({"disks": [[0, {"vg": "xenvg", "name": "x"}]]})),
        "Parameters for disk 0 try to change unmodifyable parameter(s): name, vg"
    );
    assert_eq!(
        msg(json!({"disks": [[0, {"mode": "rx"}]]})),
        "Invalid disk access mode 'rx'"
    );
    assert_eq!(
        msg(json!({"disks": [[0, {"spindles": 2}]]})),
        "Spindles in instance disks cannot be specified when exclusive storage is not active"
    );
    assert_eq!(
        msg(json!({"disks": [[0, {"size": "lots"}]]})),
        "'size' (value lots) is not a valid size. error: Invalid format"
    );
    assert_eq!(
        msg(json!({"nodes": ["node1", "node2"]})),
        format!("Instance {I1} currently has 1 nodes, but 2 replacement nodes were specified")
    );
    assert_eq!(
        msg(json!({"nodes": ["node2"]})),
        format!(
            "Recreating the disks of instance {I1} on other nodes is not supported by this release"
        )
    );
    assert_eq!(msg(json!({"nodes": ["node9"]})), "Node 'node9' not known");
    assert_eq!(
        msg(json!({"nodes": ["node1"], "iallocator": "hail"})),
        "Do not specify both, iallocator and node"
    );
    assert_eq!(
        msg(json!({"iallocator": "hail"})),
        "Failure while running the iallocator script: iallocator module 'hail' not found in the search path"
    );
    assert!(msg(json!({"iallocator": "."})).starts_with("No iallocator or node given"));
    assert_eq!(
        env.refused(op("OP_INSTANCE_RECREATE_DISKS", "diskless", json!({})))
            .0,
        "Instance 'diskless.example.com' has no disks"
    );
    // the schema refuses ill-typed lists at submission
    assert!(msg(json!({"disks": [[0]]})).contains("fails validation"));
    // nothing of the above recreated the missing disk
    assert!(!env.disk_paths(I1)[0].exists());
}

// ---------------------------------------------------------------------------
// multi-alloc

fn create_op(name: &str, pnode: Option<&str>) -> Value {
    let mut o = json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "noop",
        "name_check": false, "ip_check": false, "start": false, "ignore_ipolicy": true});
    if let Some(n) = pnode {
        o["pnode"] = json!(n);
    }
    o
}

fn multi(instances: Vec<Value>, extra: Value) -> Value {
    let mut o = json!({"OP_ID": "OP_INSTANCE_MULTI_ALLOC", "instances": instances});
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

#[test]
fn multi_alloc_submits_one_create_job_per_instance() {
    let env = Env::new();
    let r = env.ok(multi(
        vec![
            create_op("a.example.com", Some("node1")),
            create_op("b.example.com", Some(NODE_NAME)),
        ],
        json!({"priority": -10, "debug_level": 2, "reason": [["test:parent", "", 1]]}),
    ));
    let jobs = r.result["jobs"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        r.result["allocatable"],
        json!(["a.example.com", "b.example.com"])
    );
    assert_eq!(r.result["failed"], json!([]));
    assert!(ganeti_opschema::result_matches("OP_INSTANCE_MULTI_ALLOC", &r.result).unwrap());
    for j in &jobs {
        assert_eq!(j[0], json!(true));
        let id = j[1].as_u64().unwrap();
        let job = env.m.job(id).unwrap();
        assert_eq!(job.status(), OpStatus::Queued);
        let child = &job.ops[0].input;
        assert_eq!(child["OP_ID"], json!("OP_INSTANCE_CREATE"));
        assert_eq!(child["pnode"], json!(NODE_NAME), "short names are expanded");
        assert_eq!(child["pnode_uuid"], json!(testcfg::NODE));
        assert_eq!(child["priority"], json!(-10), "the priority is inherited");
        assert_eq!(
            child["debug_level"],
            json!(2),
            "the debug level is inherited"
        );
        assert_eq!(
            child["comment"],
            json!("Submitted by OP_INSTANCE_MULTI_ALLOC")
        );
        assert_eq!(child["reason"][0][0], json!("test:parent"));
        env.run_id(id).unwrap();
    }
    assert!(env.cfg().instance_by_name("a.example.com").is_some());
    assert!(env.cfg().instance_by_name("b.example.com").is_some());

    // a dry run submits nothing
    let next = env.m.store.read(|s| s.next_job_id);
    let r = env.ok(multi(
        vec![create_op("c.example.com", Some("node1"))],
        json!({"dry_run": true}),
    ));
    assert_eq!(
        r.result,
        json!({"jobs": [], "allocatable": ["c.example.com"], "failed": []})
    );
    assert_eq!(env.m.store.read(|s| s.next_job_id), next + 1);
}

#[test]
fn multi_alloc_refusals() {
    let env = Env::new();
    let msg = |instances: Vec<Value>, extra: Value| {
        let next = env.m.store.read(|s| s.next_job_id);
        let e = env.run(multi(instances, extra)).unwrap_err();
        // the refused request itself may have been queued; no child was
        assert!(env.m.store.read(|s| s.next_job_id) <= next + 1);
        e.message().to_string()
    };
    assert_eq!(
        msg(vec![create_op("a.example.com", None)], json!({})),
        "No iallocator or nodes on the instances given and no cluster-wide default iallocator found; please specify either an iallocator or nodes on the instances or set a cluster-wide default iallocator"
    );
    assert_eq!(
        msg(
            vec![
                create_op("a.example.com", Some("node1")),
                create_op("b.example.com", None)
            ],
            json!({})
        ),
        "There are instance objects providing pnode/snode while others do not"
    );
    assert_eq!(
        msg(vec![], json!({})),
        "There are instance objects providing pnode/snode while others do not"
    );
    assert_eq!(
        msg(
            vec![
                create_op("a.example.com", Some("node1")),
                create_op("a.example.com", Some("node1"))
            ],
            json!({})
        ),
        "There are duplicate instance names: a.example.com"
    );
    let mut with_ia = create_op("a.example.com", None);
    with_ia["iallocator"] = json!("hail");
    assert_eq!(
        msg(vec![with_ia], json!({})),
        "iallocator are not allowed to be set on instance objects"
    );
    assert_eq!(
        msg(
            vec![create_op("a.example.com", Some("node1"))],
            json!({"opportunistic_locking": true})
        ),
        "Opportunistic locking is only available in combination with an instance allocator"
    );
    assert_eq!(
        msg(
            vec![create_op("a.example.com", None)],
            json!({"iallocator": "hail"})
        ),
        "Failure while running the iallocator script: iallocator module 'hail' not found in the search path"
    );
    let mut no_id = create_op("a.example.com", Some("node1"));
    no_id.as_object_mut().unwrap().remove("OP_ID");
    assert_eq!(
        msg(vec![no_id], json!({})),
        "Invalid data to LoadOpcode, missing OP_ID"
    );
    let mut wrong = create_op("a.example.com", Some("node1"));
    wrong["disks"] = json!("big");
    assert_eq!(
        msg(vec![wrong], json!({})),
        "Parameter 'OP_INSTANCE_CREATE.disks' fails validation"
    );
    assert_eq!(
        msg(
            vec![json!({"OP_ID": "OP_INSTANCE_REMOVE", "instance_name": "x"})],
            json!({})
        ),
        "Instance 0 of the request is an OP_INSTANCE_REMOVE opcode, not an OP_INSTANCE_CREATE"
    );
    assert_eq!(
        msg(vec![create_op("a.example.com", Some("node9"))], json!({})),
        "Node 'node9' not known"
    );
    assert!(env.cfg().instances.is_empty());
}

#[test]
fn multi_alloc_uses_the_cluster_default_allocator_when_no_node_is_named() {
    let env = Env::with(|cfg| cfg.cluster.default_iallocator = "hail".into());
    let e = env
        .run(multi(vec![create_op("a.example.com", None)], json!({})))
        .unwrap_err();
    assert_eq!(e.class_name(), "OpExecError");
    assert!(e.message().contains("iallocator module 'hail'"), "{e}");
}
