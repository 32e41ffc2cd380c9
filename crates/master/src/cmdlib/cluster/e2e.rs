//! End-to-end tests of the cluster/group/network/node/tag opcodes against
//! a real [`Master`] (store in a temporary directory, local node layer):
//! submission checks, locks, execution, the job log and the committed
//! configuration.

use std::sync::Arc;

use ganeti_node::LocalNode;
use ganeti_types::{Dict, GanetiError, Job, OpStatus, Paths, QueuedOpCode};
use serde_json::{json, Value};

use super::checks::testcfg;
use crate::cmdlib::{check_at_submit, execute_with_hooks, locks, OpCtx};
use crate::jobs::JobCtl;
use crate::state::{Command, MasterState};
use crate::Master;

struct Env {
    _dir: tempfile::TempDir,
    m: Arc<Master>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path());
    let storage = paths.default_file_storage_dir();
    std::fs::create_dir_all(&storage).unwrap();
    let mut cfg = testcfg::config();
    cfg.cluster.file_storage_dir = storage.display().to_string();
    {
        let store = ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
        store
            .propose_blocking(Command::Init(Box::new(cfg)))
            .unwrap();
    }
    let node = Arc::new(LocalNode::new(paths.clone()));
    let m = Master::open(paths, node).unwrap();
    Env { _dir: dir, m }
}

/// Validate, check and execute one opcode; returns the result and the log lines.
fn run(m: &Master, op: Value) -> (Result<Value, GanetiError>, Vec<String>) {
    let filled = ganeti_opschema::validate_and_fill(op.as_object().unwrap()).unwrap();
    if let Err(e) = check_at_submit(m, &filled) {
        return (Err(e), vec![]);
    }
    if let Err(e) = locks(m, &filled) {
        return (Err(e), vec![]);
    }
    let mut job = Job {
        id: 999_999,
        ops: vec![QueuedOpCode {
            status: OpStatus::Running,
            ..QueuedOpCode::queued(filled)
        }],
        received_timestamp: ganeti_types::job::now_ts(),
        start_timestamp: None,
        end_timestamp: None,
        archived: false,
    };
    let ctl = JobCtl::default();
    let res = {
        let mut ctx = OpCtx::new(m, &mut job, 0, &ctl);
        execute_with_hooks(&mut ctx)
    };
    let log = job.ops[0]
        .log
        .iter()
        .map(|e| e.3.as_str().unwrap_or_default().to_string())
        .collect();
    (res, log)
}

fn obj(v: Value) -> Dict {
    v.as_object().cloned().unwrap()
}

#[test]
fn tags_round_trip_through_the_master() {
    let e = env();
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_TAGS_SET", "kind": "cluster", "tags": ["ctag1", "ctag2"]}),
    );
    assert_eq!(r.unwrap(), Value::Null);
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_TAGS_DEL", "kind": "cluster", "tags": ["ctag2"]}),
    );
    r.unwrap();
    let (r, _) = run(&e.m, json!({"OP_ID": "OP_TAGS_GET", "kind": "cluster"}));
    assert_eq!(r.unwrap(), json!(["ctag1"]));
    let (r, _) = run(&e.m, json!({"OP_ID": "OP_TAGS_SEARCH", "pattern": "tag"}));
    assert_eq!(r.unwrap(), json!([["/cluster", "ctag1"]]));
    // refused at submission
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_TAGS_SET", "kind": "cluster", "tags": ["bad tag"]}),
    );
    assert_eq!(
        r.unwrap_err(),
        GanetiError::Tag("Tag contains invalid characters".into())
    );
    // unknown object: the lock computation fails the job
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_TAGS_SET", "kind": "instance", "name": "inst9", "tags": ["x"]}),
    );
    assert_eq!(r.unwrap_err().message(), "Instance 'inst9' not known");
    // dry run changes nothing
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_TAGS_SET", "kind": "cluster", "tags": ["dry"], "dry_run": true}),
    );
    assert_eq!(r.unwrap(), Value::Null);
    assert_eq!(e.m.config().unwrap().cluster.tags, vec!["ctag1"]);
}

#[test]
fn group_and_network_lifecycle() {
    let e = env();
    run(
        &e.m,
        json!({"OP_ID": "OP_GROUP_ADD", "group_name": "grp2", "alloc_policy": "last_resort"}),
    )
    .0
    .unwrap();
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_GROUP_RENAME", "group_name": "grp2", "new_name": "grp3"}),
    );
    assert_eq!(r.unwrap(), json!("grp3"));
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_GROUP_REMOVE", "group_name": "default"}),
    );
    assert_eq!(
        r.unwrap_err().error_class(),
        Some(ganeti_types::ErrorClass::WrongState)
    );
    // the single node moves to grp3, then default can go
    run(&e.m, json!({"OP_ID": "OP_GROUP_ASSIGN_NODES", "group_name": "grp3", "nodes": ["node1.example.com"]}))
        .0
        .unwrap();
    run(
        &e.m,
        json!({"OP_ID": "OP_GROUP_REMOVE", "group_name": "default"}),
    )
    .0
    .unwrap();
    let cfg = e.m.config().unwrap();
    assert_eq!(cfg.nodegroups.len(), 1);
    assert_eq!(cfg.nodegroups[&cfg.nodes[testcfg::NODE].group].name, "grp3");

    run(
        &e.m,
        json!({"OP_ID": "OP_NETWORK_ADD", "network_name": "net1", "network": "10.1.0.0/24",
               "gateway": "10.1.0.1", "add_reserved_ips": ["10.1.0.5"], "mac_prefix": "aa:00:00"}),
    )
    .0
    .unwrap();
    let connect = json!({"OP_ID": "OP_NETWORK_CONNECT", "network_name": "net1", "group_name": "grp3",
                         "network_mode": "bridged", "network_link": "gntbr0"});
    run(&e.m, connect.clone()).0.unwrap();
    let (r, log) = run(&e.m, connect);
    r.unwrap();
    assert_eq!(
        log,
        vec![" - WARNING: Network 'net1' is already mapped to group 'grp3'"]
    );
    let (r, log) = run(
        &e.m,
        json!({"OP_ID": "OP_NETWORK_REMOVE", "network_name": "net1"}),
    );
    assert_eq!(r.unwrap_err().message(), "Network still connected");
    assert_eq!(
        log,
        vec![" - WARNING: Network 'net1' is connected to the following node groups: grp3"]
    );
    run(
        &e.m,
        json!({"OP_ID": "OP_NETWORK_DISCONNECT", "network_name": "net1", "group_name": "grp3"}),
    )
    .0
    .unwrap();
    run(
        &e.m,
        json!({"OP_ID": "OP_NETWORK_REMOVE", "network_name": "net1"}),
    )
    .0
    .unwrap();
    assert!(e.m.config().unwrap().networks.is_empty());
}

#[test]
fn cluster_modify_node_modify_and_info() {
    let e = env();
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "candidate_pool_size": 5, "beparams": {"memory": 256}}),
    );
    assert_eq!(r.unwrap(), Value::Null);
    let cfg = e.m.config().unwrap();
    assert_eq!(cfg.cluster.candidate_pool_size, 5);
    assert_eq!(cfg.cluster.beparams["default"]["maxmem"], json!(256));
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "enabled_hypervisors": ["xen-pvm"]}),
    );
    assert!(r
        .unwrap_err()
        .message()
        .starts_with("Hypervisor 'xen-pvm' is not supported"));

    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_NODE_SET_PARAMS", "node_name": "node1", "offline": true}),
    );
    assert_eq!(
        r.unwrap_err().message(),
        "The master role can be changed only via master-failover"
    );
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_NODE_SET_PARAMS", "node_name": "node1", "ndparams": {"ssh_port": 2222}}),
    );
    assert_eq!(r.unwrap(), json!([]));

    let info = super::cluster_info(&e.m).unwrap();
    assert_eq!(info["candidate_pool_size"], json!(5));
    assert_eq!(info["name"], json!("cluster.example.com"));

    let (r, _) = run(&e.m, json!({"OP_ID": "OP_CLUSTER_POST_INIT"}));
    assert_eq!(r.unwrap(), json!(true));
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_OS_DIAGNOSE", "output_fields": ["name", "valid"]}),
    );
    assert_eq!(r.unwrap(), json!([]));
    let serial = e.m.config().unwrap().cluster.serial_no;
    run(&e.m, json!({"OP_ID": "OP_CLUSTER_REDIST_CONF"}))
        .0
        .unwrap();
    assert_eq!(e.m.config().unwrap().cluster.serial_no, serial + 1);
}

#[test]
fn storage_listing_of_the_file_storage_dir() {
    let e = env();
    let dir = e.m.config().unwrap().cluster.file_storage_dir;
    std::fs::write(
        std::path::Path::new(&dir).join("x"),
        vec![0u8; 3 * 1024 * 1024],
    )
    .unwrap();
    let (r, log) = run(
        &e.m,
        json!({"OP_ID": "OP_NODE_QUERY_STORAGE", "storage_type": "file",
               "output_fields": ["node", "type", "name", "size", "used", "free", "allocatable"]}),
    );
    let rows = r.unwrap();
    assert!(log.is_empty(), "{log:?}");
    let row = &rows[0];
    assert_eq!(row[0], json!("node1.example.com"));
    assert_eq!(row[1], json!("file"));
    assert_eq!(row[2], json!(dir));
    assert_eq!(row[4], json!(3));
    assert!(row[3].as_u64().unwrap() >= row[5].as_u64().unwrap());
    assert_eq!(row[6], json!(true));
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_NODE_QUERY_STORAGE", "output_fields": ["frob"]}),
    );
    assert_eq!(
        r.unwrap_err().message(),
        "Unknown output fields selected: frob"
    );
}

#[test]
fn verify_config_and_group_on_a_fresh_master() {
    let e = env();
    let paths = e.m.paths.clone();
    let cfg = e.m.config().unwrap();
    let master = &cfg.nodes[testcfg::NODE];
    ganeti_crypto::generate_cluster_crypto(
        &ganeti_crypto::CryptoPaths::in_dir(&paths.data_dir()),
        &master.name,
        &ganeti_crypto::RenewSpec::for_init(),
    )
    .unwrap();
    // no candidate certificate map yet: renew-crypto fills it
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_CLUSTER_RENEW_CRYPTO", "node_certificates": true}),
    );
    r.unwrap();
    assert_eq!(e.m.config().unwrap().cluster.candidate_certs.len(), 1);

    let (r, log) = run(&e.m, json!({"OP_ID": "OP_CLUSTER_VERIFY_CONFIG"}));
    assert_eq!(r.unwrap(), json!(true), "{log:?}");
    assert_eq!(
        log,
        vec![
            "* Verifying cluster config",
            "* Verifying cluster certificate files",
            "* Verifying hypervisor parameters",
            "* Verifying all nodes belong to an existing group",
        ]
    );
    let (r, log) = run(
        &e.m,
        json!({"OP_ID": "OP_CLUSTER_VERIFY_GROUP", "group_name": testcfg::GROUP}),
    );
    assert_eq!(r.unwrap(), json!(true), "{log:?}");
    assert_eq!(
        log.first().map(String::as_str),
        Some("* Verifying group 'default'")
    );

    // a world-readable secret is an error
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(paths.hmac_key(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let (r, log) = run(
        &e.m,
        json!({"OP_ID": "OP_CLUSTER_VERIFY_CONFIG", "error_codes": true}),
    );
    assert_eq!(r.unwrap(), json!(false));
    assert!(
        log.iter()
            .any(|l| l.starts_with("  - ERROR:ECLUSTERCERT:cluster:None:")),
        "{log:?}"
    );
}

#[test]
fn submission_refuses_bad_parameters() {
    let e = env();
    for (op, msg) in [
        (
            json!({"OP_ID": "OP_GROUP_SET_PARAMS", "group_name": "default"}),
            "Please pass at least one modification",
        ),
        (
            json!({"OP_ID": "OP_NETWORK_ADD", "network_name": "n", "network": "10.0.0.0/24", "mac_prefix": "zz"}),
            "Invalid MAC address prefix 'zz'",
        ),
        (
            json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "ndparams": {"frob": 1}}),
            "Unknown parameter 'frob'",
        ),
        (
            json!({"OP_ID": "OP_NODE_SET_PARAMS", "node_name": "node1"}),
            "Please pass at least one modification",
        ),
        // kvm parameters: the filled dict passes Ganeti's syntax check
        (
            json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "hvparams": {"kvm": {"boot_order": "cdrom"}}}),
            "Cannot boot from cdrom without an ISO path",
        ),
        (
            json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "enabled_hypervisors": ["kvm"],
                   "hvparams": {"kvm": {"virtio_net_queues": 9}}}),
            "Parameter 'virtio_net_queues' fails syntax check: invalid number of queues (current value: '9')",
        ),
        (
            json!({"OP_ID": "OP_CLUSTER_SET_PARAMS",
                   "os_hvp": {"debian": {"kvm": {"disk_aio": "native"}}}}),
            "When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.",
        ),
    ] {
        let filled = ganeti_opschema::validate_and_fill(&obj(op)).unwrap();
        assert_eq!(check_at_submit(&e.m, &filled).unwrap_err().message(), msg);
    }
}

#[test]
fn verify_submits_config_and_group_jobs() {
    let e = env();
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_CLUSTER_VERIFY", "error_codes": true}),
    );
    let r = r.unwrap();
    let jobs = r["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{r}");
    assert_eq!(jobs[0][0], json!(true));
    let (a, b) = (jobs[0][1].as_u64().unwrap(), jobs[1][1].as_u64().unwrap());
    let cfg_job = e.m.job(a).unwrap();
    assert_eq!(
        cfg_job.ops[0].input["OP_ID"],
        json!("OP_CLUSTER_VERIFY_CONFIG")
    );
    assert_eq!(cfg_job.ops[0].input["error_codes"], json!(true));
    let grp_job = e.m.job(b).unwrap();
    assert_eq!(
        grp_job.ops[0].input["OP_ID"],
        json!("OP_CLUSTER_VERIFY_GROUP")
    );
    assert_eq!(grp_job.ops[0].input["depends"], json!([[a, []]]));

    // verify-disks: no instances, no jobs
    let (r, _) = run(&e.m, json!({"OP_ID": "OP_CLUSTER_VERIFY_DISKS"}));
    assert_eq!(r.unwrap(), json!({"jobs": []}));
    let (r, _) = run(
        &e.m,
        json!({"OP_ID": "OP_GROUP_VERIFY_DISKS", "group_name": "default"}),
    );
    assert_eq!(r.unwrap(), json!([{}, [], {}]));
}

#[test]
fn a_concurrent_change_is_replanned() {
    use super::checks::{run_planned, Outcome};
    use crate::state::ConfigOp;
    let e = env();
    let mut job = Job {
        id: 1,
        ops: vec![QueuedOpCode {
            status: OpStatus::Running,
            ..QueuedOpCode::queued(obj(
                json!({"OP_ID": "OP_TAGS_SET", "kind": "cluster", "tags": ["t"]}),
            ))
        }],
        received_timestamp: ganeti_types::job::now_ts(),
        start_timestamp: None,
        end_timestamp: None,
        archived: false,
    };
    let ctl = JobCtl::default();
    let calls = std::cell::Cell::new(0);
    let m = e.m.clone();
    let mut ctx = OpCtx::new(&e.m, &mut job, 0, &ctl);
    let res = run_planned(&mut ctx, |cfg| {
        calls.set(calls.get() + 1);
        if calls.get() == 1 {
            // another job changes the cluster after we read it
            let mut c = cfg.cluster.clone();
            c.tags.push("other".into());
            c.serial_no += 1;
            m.commit(vec![ConfigOp::PutCluster(Box::new(c))]).unwrap();
        }
        let mut c = cfg.cluster.clone();
        c.max_running_jobs = 7;
        c.serial_no += 1;
        let mut out = Outcome::with_result(json!("done"));
        out.ops.push(ConfigOp::PutCluster(Box::new(c)));
        Ok(out)
    });
    assert_eq!(res.unwrap(), json!("done"));
    assert_eq!(calls.get(), 2);
    let cfg = e.m.config().unwrap();
    assert_eq!(cfg.cluster.max_running_jobs, 7);
    assert_eq!(
        cfg.cluster.tags,
        vec!["other"],
        "the concurrent change survives"
    );
}

/// Hooks of these opcodes.
mod hooks;
