//! kill -9 of the daemon in the middle of jobs, then a restart: the config
//! loads, every acknowledged job is still there, the interrupted job ends
//! in a definite state saying why, queued jobs run, nothing half-created
//! stays unreported.

use std::time::Duration;

use ganeti_e2e::{job_id, Cluster};

#[test]
fn sigkill_during_jobs_then_restart() {
    let c = Cluster::init();
    c.add_instance("keep1", &["-t", "diskless", "--ignore-ipolicy"])
        .ok();
    let node = c.gnt(&["gnt-cluster", "getmaster"]).ok().trim().to_string();
    // one long job holding the node lock, then queued ones behind it
    let running = job_id(&c.gnt(&["gnt-debug", "delay", "--submit", "-n", &node, "30"]));
    let mut queued = Vec::new();
    for _ in 0..5 {
        queued.push(job_id(&c.gnt(&["gnt-debug", "delay", "--submit", "0.01"])));
    }
    let waiting = job_id(&c.gnt(&["gnt-debug", "delay", "--submit", "-n", &node, "0.01"]));
    std::thread::sleep(Duration::from_millis(500));
    c.kill9();
    c.start_daemon();

    // config intact
    let l = c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name,status"]);
    assert_eq!(l.ok().trim(), "keep1 running");
    // every acknowledged job exists and reaches a final state
    assert_eq!(c.wait_job(&running), "error");
    let info = c.gnt(&["gnt-job", "info", &running]);
    assert!(info.ok().contains("interrupted"), "{}", info.stdout);
    for q in &queued {
        assert_eq!(c.wait_job(q), "success", "queued job {q}");
    }
    // it was waiting for the node lock when the daemon died: it never ran
    assert_eq!(c.wait_job(&waiting), "error");
    let info = c.gnt(&["gnt-job", "info", &waiting]);
    assert!(
        info.ok().contains("waiting for locks; it did not run"),
        "{}",
        info.stdout
    );
}

#[test]
fn repeated_kills_never_lose_acknowledged_jobs() {
    let c = Cluster::init();
    let mut acked = Vec::new();
    for round in 0..4 {
        for _ in 0..10 {
            acked.push(job_id(&c.gnt(&["gnt-debug", "delay", "--submit", "0.05"])));
        }
        std::thread::sleep(Duration::from_millis(40 * round));
        c.kill9();
        c.start_daemon();
    }
    // each job either ran or says that a restart interrupted it
    for id in &acked {
        if c.wait_job(id) != "success" {
            let info = c.gnt(&["gnt-job", "info", id]);
            assert!(
                info.ok().contains("master daemon stopped")
                    && info.stdout.contains("Status: error"),
                "job {id} failed for another reason: {}",
                info.stdout
            );
        }
    }
    let listed = c.gnt(&["gnt-job", "list", "--no-headers", "-o", "id"]);
    for id in &acked {
        assert!(
            listed.stdout.split_whitespace().any(|x| x == id),
            "job {id} lost"
        );
    }
}

#[test]
fn garbage_store_is_a_clear_error_not_a_silent_reset() {
    let c = Cluster::init();
    c.add_instance("x1", &["-t", "diskless", "--ignore-ipolicy", "--no-start"])
        .ok();
    c.kill9();
    let store = c.root().join("var/lib/ganeti/store");
    let mut garbled = 0;
    for e in std::fs::read_dir(&store).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("snapshot") || name.ends_with(".seg") || name.starts_with("log") {
            let len = std::fs::metadata(&p).unwrap().len();
            if len > 64 {
                let mut data = std::fs::read(&p).unwrap();
                for b in data.iter_mut().skip(20).take(40) {
                    *b = b'#';
                }
                std::fs::write(&p, data).unwrap();
                garbled += 1;
            }
        }
    }
    assert!(garbled > 0, "nothing to garble in {}", store.display());
    let out = std::process::Command::new(ganeti_e2e::bin_dir().join("ganetid"))
        .arg("--root")
        .arg(c.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("store") || err.contains("corrupt") || err.contains("snapshot"),
        "{err}"
    );
}

#[test]
fn hand_edited_config_data_is_refused_and_left_alone() {
    let c = Cluster::init();
    c.kill9();
    let cfg = c.root().join("var/lib/ganeti/config.data");
    std::fs::write(&cfg, "{ this is not json").unwrap();
    let out = std::process::Command::new(ganeti_e2e::bin_dir().join("ganetid"))
        .arg("--root")
        .arg(c.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("edited by hand") && err.contains("config.data"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        "{ this is not json",
        "the edited file was overwritten"
    );
    // moving it away lets the daemon start from the intact store
    std::fs::rename(&cfg, c.root().join("config.data.broken")).unwrap();
    c.start_daemon();
    assert!(cfg.exists(), "config.data was not rewritten");
}
