//! Filter rules in the scheduler: REJECT cancels matching queued jobs
//! (also those queued before the rule), PAUSE holds a job until the rule
//! goes, RATE_LIMIT bounds the running jobs it applies to, ACCEPT shields
//! jobs from later rules, and changing the rules wakes the scheduler.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ganeti_types::OpStatus;
use serde_json::{json, Value};

use super::scheduler::schedule_once;
use crate::filters::tests::new_master;
use crate::filters::FilterRequest;
use crate::Master;

fn delay(secs: f64) -> Vec<Value> {
    vec![json!({"OP_ID": "OP_TEST_DELAY", "duration": secs})]
}

fn add_rule(m: &Master, priority: u64, predicates: Value, action: Value) -> String {
    m.replace_filter(
        FilterRequest::from_luxi_args(&json!([null, priority, predicates, action, []])).unwrap(),
    )
    .unwrap()
}

fn delay_rule() -> Value {
    json!([["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]])
}

fn schedule(m: &Arc<Master>) {
    tokio::task::block_in_place(|| schedule_once(m));
}

fn status(m: &Master, id: u64) -> OpStatus {
    m.job(id).unwrap().status()
}

async fn wait_final(m: &Arc<Master>, id: u64) -> OpStatus {
    let start = Instant::now();
    loop {
        schedule(m);
        let st = status(m, id);
        if st.is_final() {
            return st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "job {id} stuck in {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_cancels_matching_jobs_even_already_queued_ones() {
    let (_dir, m) = new_master();
    // queued before the rule exists (the scheduler has not run yet)
    let early = m.submit_job(&delay(0.01), false).unwrap();
    add_rule(&m, 0, delay_rule(), json!("REJECT"));
    let late = m.submit_job(&delay(0.01), false).unwrap();
    let other = m
        .submit_job(&[json!({"OP_ID": "OP_TAGS_GET", "kind": "cluster"})], false)
        .unwrap();
    schedule(&m);
    for id in [early, late] {
        let job = m.job(id).unwrap();
        assert_eq!(job.status(), OpStatus::Canceled, "job {id}");
        assert_eq!(job.ops[0].result, Value::Null, "Ganeti leaves no result");
        assert!(job.end_timestamp.is_some());
    }
    assert_eq!(wait_final(&m, other).await, OpStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_holds_a_job_until_the_rule_is_deleted() {
    let (_dir, m) = new_master();
    let rule = add_rule(&m, 0, delay_rule(), json!("PAUSE"));
    let id = m.submit_job(&delay(0.01), false).unwrap();
    for _ in 0..5 {
        schedule(&m);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status(&m, id), OpStatus::Queued);
    assert_eq!(m.running_jobs(), 0);
    m.delete_filter(&rule).unwrap();
    assert_eq!(wait_final(&m, id).await, OpStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_bounds_the_running_jobs_it_applies_to() {
    let (_dir, m) = new_master();
    add_rule(&m, 0, delay_rule(), json!(["RATE_LIMIT", 1]));
    let first = m.submit_job(&delay(0.5), false).unwrap();
    let second = m.submit_job(&delay(0.01), false).unwrap();
    let tags = m
        .submit_job(&[json!({"OP_ID": "OP_TAGS_GET", "kind": "cluster"})], false)
        .unwrap();
    schedule(&m);
    // one delay runs, the other waits; jobs the rule does not apply to run
    assert!(m.active.lock().contains_key(&first));
    assert!(!m.active.lock().contains_key(&second));
    assert_eq!(status(&m, second), OpStatus::Queued);
    assert_eq!(wait_final(&m, tags).await, OpStatus::Success);
    assert_eq!(status(&m, second), OpStatus::Queued, "still limited");
    assert_eq!(wait_final(&m, first).await, OpStatus::Success);
    assert_eq!(wait_final(&m, second).await, OpStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_shields_jobs_from_later_rules_and_continue_does_nothing() {
    let (_dir, m) = new_master();
    add_rule(&m, 0, json!([]), json!("CONTINUE"));
    add_rule(
        &m,
        1,
        json!([["opcode", ["==", "OP_ID", "OP_TAGS_GET"]]]),
        json!("ACCEPT"),
    );
    add_rule(&m, 2, json!([]), json!("REJECT"));
    let tags = m
        .submit_job(&[json!({"OP_ID": "OP_TAGS_GET", "kind": "cluster"})], false)
        .unwrap();
    let delayed = m.submit_job(&delay(0.01), false).unwrap();
    schedule(&m);
    assert_eq!(status(&m, delayed), OpStatus::Canceled);
    assert_eq!(wait_final(&m, tags).await, OpStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobid_rules_use_the_watermark() {
    let (_dir, m) = new_master();
    let before = m.submit_job(&delay(0.01), false).unwrap();
    // "soft drain": hold every job submitted after the rule
    add_rule(
        &m,
        0,
        json!([["jobid", [">", "id", "watermark"]]]),
        json!("PAUSE"),
    );
    let after = m.submit_job(&delay(0.01), false).unwrap();
    assert_eq!(wait_final(&m, before).await, OpStatus::Success);
    schedule(&m);
    assert_eq!(status(&m, after), OpStatus::Queued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_rules_wakes_the_scheduler() {
    let (_dir, m) = new_master();
    // consume any wake-up left by earlier calls
    let _ = tokio::time::timeout(Duration::from_millis(10), m.wake_scheduler.notified()).await;
    let rule = add_rule(&m, 0, delay_rule(), json!("PAUSE"));
    tokio::time::timeout(Duration::from_millis(100), m.wake_scheduler.notified())
        .await
        .expect("adding a rule wakes the scheduler");
    m.delete_filter(&rule).unwrap();
    tokio::time::timeout(Duration::from_millis(100), m.wake_scheduler.notified())
        .await
        .expect("deleting a rule wakes the scheduler");
}
