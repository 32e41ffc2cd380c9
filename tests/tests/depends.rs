//! Job dependencies and priorities through LUXI's SubmitManyJobs, with
//! relative job ids, as RAPI and Ganeti's tools use them.

use std::time::Duration;

use ganeti_e2e::Cluster;
use ganeti_luxi::{Client, Method};
use serde_json::json;

#[test]
fn dependent_jobs_run_in_order_and_failed_dependencies_fail() {
    let c = Cluster::init();
    let sock = c.root().join("var/run/ganeti/socket/ganeti-master");
    let mut l = Client::connect(&sock, Duration::from_secs(30)).unwrap();
    let delay = |d: f64| json!({"OP_ID": "OP_TEST_DELAY", "duration": d});
    let res = l
        .call(
            Method::SubmitManyJobs,
            json!([[
                [delay(0.5)],
                [{"OP_ID": "OP_TEST_DELAY", "duration": 0.01, "depends": [[-1, ["success"]]]}],
                [{"OP_ID": "OP_TEST_DELAY", "duration": 0.0}],
                [{"OP_ID": "OP_TEST_DELAY", "duration": 0.01, "depends": [[-1, ["success"]]]}],
                [{"OP_ID": "OP_TEST_DELAY", "duration": 0.01, "depends": [[-2, ["error"]]]}]
            ]]),
        )
        .unwrap();
    let ids: Vec<String> = res
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r[0], json!(true), "{r}");
            r[1].to_string()
        })
        .collect();
    assert_eq!(c.wait_job(&ids[1]), "success");
    assert_eq!(c.wait_job(&ids[2]), "error");
    assert_eq!(
        c.wait_job(&ids[3]),
        "error",
        "dependency on a failed job must fail"
    );
    assert_eq!(
        c.wait_job(&ids[4]),
        "success",
        "dependency allowing error must run"
    );
    // job 1 started only after job 0 ended
    let t = l
        .call(
            Method::QueryJobs,
            json!([
                [
                    ids[0].parse::<u64>().unwrap(),
                    ids[1].parse::<u64>().unwrap()
                ],
                ["end_ts", "start_ts"]
            ]),
        )
        .unwrap();
    let end0 = &t[0][0];
    let start1 = &t[1][1];
    let as_us = |v: &serde_json::Value| v[0].as_i64().unwrap() * 1_000_000 + v[1].as_i64().unwrap();
    assert!(
        as_us(start1) >= as_us(end0),
        "dependent job started before its dependency ended: {t}"
    );

    // unknown opcode parameters are refused at submission, nothing queued
    let before = l.call(Method::QueryJobs, json!([null, ["id"]])).unwrap();
    let err = l
        .call(
            Method::SubmitJob,
            json!([[{"OP_ID": "OP_TEST_DELAY", "duration": 1, "frob": 1}]]),
        )
        .unwrap_err();
    assert!(err.to_string().contains("frob"), "{err}");
    let after = l.call(Method::QueryJobs, json!([null, ["id"]])).unwrap();
    assert_eq!(before, after);
}
