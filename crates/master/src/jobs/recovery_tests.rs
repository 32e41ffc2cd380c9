//! Recovery after a daemon crash: jobs found running or waiting are
//! finalised with a message saying why, and an instance creation that
//! never reached the config has its half-created disks removed and reported.

use std::sync::Arc;

use ganeti_node::LocalNode;
use ganeti_types::{Job, OpStatus, Paths, QueuedOpCode};
use serde_json::{json, Value};

use crate::cmdlib::cluster::checks::testcfg;
use crate::state::{Command, MasterState};
use crate::Master;

fn queued(op: Value, status: OpStatus) -> QueuedOpCode {
    QueuedOpCode {
        status,
        ..QueuedOpCode::queued(op.as_object().cloned().unwrap_or_default())
    }
}

#[test]
fn interrupted_jobs_are_finalised_and_half_created_disks_removed() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::new(dir.path());
    let storage = paths.default_file_storage_dir();
    let mut cfg = testcfg::config();
    cfg.cluster.file_storage_dir = storage.display().to_string();
    let create = json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "half.example.com",
                        "mode": "create", "disk_template": "file", "disks": [{"size": 8}], "nics": []});
    let delay = json!({"OP_ID": "OP_TEST_DELAY", "duration": 5.0});
    {
        let store = ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
        store
            .propose_blocking(Command::Init(Box::new(cfg)))
            .unwrap();
        let job = |ops: Vec<QueuedOpCode>| Job {
            id: 0,
            ops,
            received_timestamp: (1, 0),
            start_timestamp: None,
            end_timestamp: None,
            archived: false,
        };
        store
            .propose_blocking(Command::SubmitJobs(vec![
                job(vec![queued(create, OpStatus::Running)]),
                job(vec![queued(delay.clone(), OpStatus::Waiting)]),
                job(vec![queued(delay, OpStatus::Queued)]),
            ]))
            .unwrap();
    }
    // what the crashed daemon had created on disk
    let inst_dir = storage.join("half.example.com");
    std::fs::create_dir_all(&inst_dir).unwrap();
    std::fs::write(inst_dir.join("x.file.disk0"), b"").unwrap();

    let m = Master::open(paths, Arc::new(LocalNode::new(Paths::new(dir.path())))).unwrap();
    let ids = m.recover_interrupted_jobs().unwrap();
    assert_eq!(ids, vec![1, 2]);
    let j1 = m.job(1).unwrap();
    assert_eq!(j1.status(), OpStatus::Error);
    let msg = j1.ops[0].result.to_string();
    assert!(
        msg.contains("interrupted") && msg.contains("removed its partially created disks"),
        "{msg}"
    );
    assert!(!inst_dir.exists(), "half-created disks were left behind");
    let j2 = m.job(2).unwrap();
    assert_eq!(j2.status(), OpStatus::Error);
    assert!(j2.ops[0].result.to_string().contains("did not run"));
    // the queued job is untouched and will run
    assert_eq!(m.job(3).unwrap().status(), OpStatus::Queued);
    assert!(m.job(1).unwrap().end_timestamp.is_some());
}
