//! The job queue seen from the CLI: submit, watch, list, cancel a waiting
//! job, dependencies, drain.

use ganeti_e2e::{job_id, Cluster};

#[test]
fn cancel_a_waiting_job_and_watch() {
    let c = Cluster::init();
    let node = c.gnt(&["gnt-cluster", "getmaster"]).ok().trim().to_string();
    let j1 = job_id(&c.gnt(&["gnt-debug", "delay", "--submit", "-n", &node, "3"]));
    let j2 = job_id(&c.gnt(&["gnt-debug", "delay", "--submit", "-n", &node, "3"]));
    // the second one waits for the node lock
    let start = std::time::Instant::now();
    loop {
        let st = c
            .gnt(&["gnt-job", "list", "--no-headers", "-o", "id,status"])
            .ok()
            .to_string();
        if st.contains(&format!("{j2} waiting")) {
            break;
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "job {j2} never waited: {st}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let r = c.gnt(&["gnt-job", "cancel", &j2]);
    assert_eq!(r.ok(), "Job successfully cancelled\n");
    assert_eq!(c.wait_job(&j2), "canceled");
    // cancelling the running one is refused
    let r = c.gnt(&["gnt-job", "cancel", &j1]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stdout.contains("Job no longer waiting, can't cancel"),
        "{r:?}"
    );
    c.gnt(&["gnt-job", "watch", &j1]).ok();
    assert_eq!(c.wait_job(&j1), "success");
    let info = c.gnt(&["gnt-job", "info", &j2]);
    assert!(info.ok().contains("Status: canceled"), "{}", info.stdout);
}

#[test]
fn summaries_and_failed_delay() {
    let c = Cluster::init();
    c.gnt(&["gnt-debug", "delay", "0.001"]).ok();
    let r = c.gnt(&["gnt-debug", "delay", "0"]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stderr.contains("Duration must be greater than zero"),
        "{}",
        r.stderr
    );
    let l = c.gnt(&["gnt-job", "list"]);
    let rows: Vec<Vec<&str>> = l
        .ok()
        .lines()
        .map(|r| r.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], vec!["ID", "Status", "Summary"]);
    assert!(
        rows.contains(&vec!["2", "success", "TEST_DELAY(1.0e-3)"]),
        "{}",
        l.stdout
    );
    assert!(
        rows.contains(&vec!["3", "error", "TEST_DELAY(0.0)"]),
        "{}",
        l.stdout
    );
}

#[test]
fn drained_queue_refuses_jobs() {
    let c = Cluster::init();
    c.gnt(&["gnt-cluster", "queue", "drain"]).ok();
    let r = c.gnt(&["gnt-debug", "delay", "0.01"]);
    assert_eq!(r.rc, 1, "{r:?}");
    // What Ganeti 3.x prints: its master answers a generic "Queue drained".
    assert!(
        r.stderr.contains("Unhandled Ganeti error: Queue drained"),
        "{}",
        r.stderr
    );
    c.gnt(&["gnt-cluster", "queue", "undrain"]).ok();
    c.gnt(&["gnt-debug", "delay", "0.01"]).ok();
}
