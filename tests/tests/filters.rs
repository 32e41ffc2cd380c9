//! Job filter rules on a real cluster, driven through `gnt-filter`: a
//! REJECT rule for `OP_TEST_DELAY` cancels `gnt-debug delay` until the
//! rule is deleted, a PAUSE rule holds a submitted job until it goes, and
//! bad rules are refused with Ganeti's messages and leave nothing behind.

use ganeti_e2e::{job_id, Cluster};

const DELAY_PREDICATE: &str = r#"--predicates=[["opcode", ["=", "OP_ID", "OP_TEST_DELAY"]]]"#;

fn highest_job_id(c: &Cluster) -> u64 {
    c.gnt(&["gnt-job", "list", "--no-headers", "-o", "id"])
        .ok()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_reject_rule_cancels_delays_until_it_is_deleted() {
    let c = Cluster::init();
    let watermark = highest_job_id(&c);
    let r = c.gnt(&[
        "gnt-filter",
        "add",
        "--priority=10",
        DELAY_PREDICATE,
        "--action=REJECT",
    ]);
    let uuid = r.ok().trim().to_string();
    assert_eq!(uuid.len(), 36, "{uuid}");

    let info = c.gnt(&["gnt-filter", "info", &uuid]);
    let lines: Vec<&str> = info.ok().lines().collect();
    assert_eq!(lines[0], format!("UUID: {uuid}"));
    assert_eq!(lines[1], format!("  Watermark: {watermark}"));
    assert_eq!(lines[2], "  Priority: 10");
    assert_eq!(
        lines[3],
        "  Predicates: [['opcode', ['==', 'OP_ID', 'OP_TEST_DELAY']]]"
    );
    assert_eq!(lines[4], "  Action: REJECT");
    assert!(
        lines[5].starts_with("  Reason trail: [['luxid', '', "),
        "{}",
        lines[5]
    );
    let list = c.gnt(&["gnt-filter", "list", "--no-headers", "-o", "uuid,action"]);
    assert_eq!(list.ok(), format!("{uuid} REJECT\n"));

    // as Ganeti prints it (fixture filter_rejected_job)
    let d = c.gnt(&["gnt-debug", "delay", "0.001"]);
    assert_eq!(
        (d.rc, d.stdout.as_str(), d.stderr.as_str()),
        (1, "", "Unhandled Ganeti error: Job was canceled\n")
    );
    let id = highest_job_id(&c).to_string();
    assert_eq!(c.wait_job(&id), "canceled");

    let r = c.gnt(&["gnt-filter", "delete", &uuid]);
    assert_eq!(r.ok(), "");
    c.gnt(&["gnt-debug", "delay", "0.001"]).ok();
    let list = c.gnt(&["gnt-filter", "list"]);
    assert_eq!(
        list.ok(),
        "UUID Watermark Priority Predicates Action ReasonTrail\n"
    );
}

#[test]
fn a_pause_rule_holds_a_job_until_it_is_deleted() {
    let c = Cluster::init();
    let uuid = c
        .gnt(&["gnt-filter", "add", DELAY_PREDICATE, "--action=PAUSE"])
        .ok()
        .trim()
        .to_string();
    let id = job_id(&c.gnt(&["gnt-debug", "delay", "--submit", "0.001"]));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let st = c.gnt(&["gnt-job", "list", "--no-headers", "-o", "status", &id]);
    assert_eq!(st.ok().trim(), "queued");
    // replacing the rule with a harmless one releases the job as well
    let same = c
        .gnt(&["gnt-filter", "replace", "--action=CONTINUE", &uuid])
        .ok()
        .trim()
        .to_string();
    assert_eq!(same, uuid);
    assert_eq!(c.wait_job(&id), "success");
    c.gnt(&["gnt-filter", "delete", &uuid]).ok();
}

#[test]
fn bad_rules_are_refused_with_ganetis_messages() {
    let c = Cluster::init();
    let protocol =
        "Unhandled protocol error while talking to the master daemon:\nFailed to parse request: ";
    for (opt, detail) in [
        (
            "--action=FOO",
            "Cannot convert value '[null, 0, [], \"FOO\", []]', error: malformed FilterAction JSON: \"FOO\"",
        ),
        (
            "--priority=-1",
            "Cannot convert value '[null, -1, [], \"CONTINUE\", []]', error: Invalid value for non-negative type '-1'",
        ),
        (
            r#"--predicates=[["foo",1]]"#,
            "Cannot convert value '[null, 0, [[\"foo\", 1]], \"CONTINUE\", []]', error: malformed FilterPredicate: bad parameter list for 'foo' predicate: [1]",
        ),
        (
            "--action=RATE_LIMIT 0",
            "Cannot convert value '[null, 0, [], [\"RATE_LIMIT\", 0], []]', error: RATE_LIMIT argument must be a positive integer",
        ),
    ] {
        let r = c.gnt(&["gnt-filter", "add", opt]);
        assert_eq!(
            (r.rc, r.stdout.as_str(), r.stderr.as_str()),
            (1, "", format!("{protocol}{detail}\n").as_str()),
            "{opt}"
        );
    }
    let gone = "7e7cd300-abb3-42cb-8341-17160bfa1a9c";
    let r = c.gnt(&["gnt-filter", "delete", gone]);
    assert_eq!(
        (r.rc, r.stderr.as_str()),
        (
            1,
            format!("Unhandled Ganeti error: Filter rule with UUID {gone} does not exist\n")
                .as_str()
        )
    );
    let r = c.gnt(&["gnt-filter", "replace", "notauuid"]);
    assert_eq!(
        (r.rc, r.stderr.as_str()),
        (1, "Unhandled Ganeti error: Unable to parse UUID\n")
    );
    let list = c.gnt(&["gnt-filter", "list", "--no-headers"]);
    assert_eq!(list.ok(), "");
    // field descriptions as Ganeti's (fixture filter_list_fields)
    let fields = c.gnt(&["gnt-filter", "list-fields"]);
    assert!(
        fields
            .ok()
            .contains("watermark    Custom Watermark   Highest job ID used at the time when the filter was added"),
        "{}",
        fields.stdout
    );
}

/// One RAPI request with curl: (status, body).
fn rapi(c: &Cluster, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
    let url = format!("https://127.0.0.1:{}{path}", c.rapi_port);
    let mut cmd = std::process::Command::new("curl");
    cmd.args([
        "-sk",
        "-u",
        "admin:adminpw",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "-d", b]);
    }
    let out = cmd.arg(&url).output().expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').expect("status line");
    let value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}"));
    (code.trim().parse().expect("status"), value)
}

#[test]
fn the_rapi_resources_serve_the_same_rules() {
    use serde_json::json;
    let c = Cluster::init();
    c.write_rapi_users("admin {cleartext}adminpw write\n");
    c.wait_rapi();
    let (code, uuid) = rapi(
        &c,
        "POST",
        "/2/filters",
        Some(
            r#"{"priority": 5, "predicates": [["jobid", ["<", "id", 0]]], "action": "PAUSE", "reason": [["gnt:client", "", 1]]}"#,
        ),
    );
    assert_eq!(code, 200, "{uuid}");
    let uuid = uuid.as_str().expect("uuid string").to_string();
    // the CLI sees what RAPI added
    let list = c.gnt(&[
        "gnt-filter",
        "list",
        "--no-headers",
        "-o",
        "uuid,priority,action",
    ]);
    assert_eq!(list.ok(), format!("{uuid} 5 PAUSE\n"));

    let (code, all) = rapi(&c, "GET", "/2/filters", None);
    assert_eq!(
        (code, all),
        (
            200,
            json!([{"uuid": uuid, "uri": format!("/2/filters/{uuid}")}])
        )
    );
    let (code, one) = rapi(&c, "GET", &format!("/2/filters/{uuid}"), None);
    assert_eq!(code, 200);
    let keys: Vec<&String> = one.as_object().expect("dict").keys().collect();
    assert_eq!(
        keys,
        [
            "watermark",
            "priority",
            "predicates",
            "action",
            "reason_trail",
            "uuid"
        ]
    );
    assert_eq!(one["predicates"], json!([["jobid", ["<", "id", 0]]]));
    assert_eq!(one["reason_trail"][0], json!(["gnt:client", "", 1]));
    assert_eq!(one["reason_trail"][1][0], json!("luxid"));
    let (code, bulk) = rapi(&c, "GET", "/2/filters?bulk=1", None);
    assert_eq!((code, bulk), (200, json!([one])));

    // bad input: 400 from RAPI itself, 502 from the master's decoding
    let (code, e) = rapi(&c, "POST", "/2/filters", Some(r#"{"uuid": "x"}"#));
    assert_eq!(code, 400, "{e}");
    let (code, e) = rapi(
        &c,
        "PUT",
        &format!("/2/filters/{uuid}"),
        Some(r#"{"action": "FOO"}"#),
    );
    assert_eq!(code, 502, "{e}");
    assert_eq!(
        e["message"],
        json!("Failed to parse request: Cannot convert value &#x27;[&quot;{uuid}&quot;, 0, [], &quot;FOO&quot;, []]&#x27;, error: malformed FilterAction JSON: &quot;FOO&quot;".replace("{uuid}", &uuid))
    );
    let (code, e) = rapi(&c, "PUT", "/2/filters/notauuid", Some("{}"));
    assert_eq!(
        (code, e["message"].clone()),
        (500, json!("Unable to parse UUID"))
    );

    // PUT replaces, DELETE removes, then it is gone
    let (code, same) = rapi(
        &c,
        "PUT",
        &format!("/2/filters/{uuid}"),
        Some(r#"{"action": "ACCEPT"}"#),
    );
    assert_eq!((code, same), (200, json!(uuid)));
    let (_, one) = rapi(&c, "GET", &format!("/2/filters/{uuid}"), None);
    assert_eq!(one["action"], json!("ACCEPT"));
    let (code, gone) = rapi(&c, "DELETE", &format!("/2/filters/{uuid}"), None);
    assert_eq!((code, gone), (200, serde_json::Value::Null));
    let (code, _) = rapi(&c, "GET", &format!("/2/filters/{uuid}"), None);
    assert_eq!(code, 404);
    let (code, e) = rapi(&c, "DELETE", &format!("/2/filters/{uuid}"), None);
    assert_eq!(code, 500, "{e}");
    assert_eq!(rapi(&c, "GET", "/2/filters", None), (200, json!([])));
}
