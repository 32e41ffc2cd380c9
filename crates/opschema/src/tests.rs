//! Crate-level tests: the whole embedded spec, validation behaviour against Ganeti's
//! recorded answers, and job summaries against `gnt-job list` output.

use serde_json::{json, Map, Value};

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not an object: {other}"),
    }
}

fn ok(v: Value) -> Map<String, Value> {
    match validate_and_fill(&obj(v.clone())) {
        Ok(m) => m,
        Err(e) => panic!("{v} rejected: {e}"),
    }
}

fn err(v: Value) -> OpSchemaError {
    match validate_and_fill(&obj(v.clone())) {
        Ok(m) => panic!("{v} accepted as {m:?}"),
        Err(e) => e,
    }
}

fn data_rows() -> impl Iterator<Item = Vec<&'static str>> {
    spec::OPCODES_TSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').collect())
}

#[test]
fn every_row_parses() {
    let mut n = 0;
    for cols in data_rows() {
        assert_eq!(cols.len(), 6, "{cols:?}");
        if let Err(e) = TypeExpr::parse(cols[2]) {
            panic!("{}.{}: {e}", cols[0], cols[1]);
        }
        n += 1;
    }
    assert_eq!(n, 541);
    if let Err(e) = spec::load(spec::OPCODES_TSV) {
        panic!("{e}");
    }
}

#[test]
fn every_type_displays_and_reparses() {
    let all = opcode_ids()
        .filter_map(opdef)
        .flat_map(|d| d.params.iter().map(|p| &p.ty).chain([&d.result]))
        .chain(common_params().map(|p| &p.ty));
    for ty in all {
        let shown = ty.to_string();
        assert_eq!(TypeExpr::parse(&shown).as_ref(), Ok(ty), "{shown}");
    }
}

#[test]
fn overrides_match_the_spec_and_leave_no_opaque_params() {
    for (op, param, from, to) in spec::OVERRIDES {
        assert!(
            data_rows().any(|c| c[0] == *op && c[1] == *param && c[2] == *from),
            "override for {op}.{param} no longer matches the spec"
        );
        assert!(TypeExpr::parse(to).is_ok(), "{to}");
    }
    for id in opcode_ids() {
        let Some(d) = opdef(id) else { continue };
        for p in &d.params {
            assert!(!p.type_text.contains("fn"), "{id}.{} still opaque", p.name);
        }
    }
    let hidden = param_def("OP_CLUSTER_SET_PARAMS", "hidden_os").map(|p| &p.ty);
    let Some(hidden) = hidden else {
        panic!("hidden_os missing")
    };
    assert!(hidden.matches(&json!([["add", "debian"], ["remove", "lenny"]])));
    assert!(!hidden.matches(&json!([["add"]])));
    assert!(!hidden.matches(&json!([["frob", "debian"]])));
}

#[test]
fn schema_shape() {
    assert_eq!(opcode_ids().count(), 75);
    assert!(opdef("OP_NETWORK_RENAME").is_none(), "3.1 only");
    assert!(later_opdef("OP_NETWORK_RENAME").is_some());
    let names: Vec<&str> = common_params().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "dry_run",
            "debug_level",
            "priority",
            "depends",
            "comment",
            "reason"
        ]
    );
    let Some(vd) = opdef("OP_CLUSTER_VERIFY_DISKS") else {
        panic!()
    };
    assert!(vd.param("is_strict").is_none());
    assert_eq!(vd.later_params.len(), 1);
    let Some(delay) = opdef("OP_TEST_DELAY") else {
        panic!()
    };
    let Some(duration) = delay.param("duration") else {
        panic!()
    };
    assert!(duration.required);
    assert_eq!(duration.ty, TypeExpr::Float);
    assert_eq!(delay.result, TypeExpr::Null);
    assert!(param_def("OP_TEST_DELAY", "priority").is_some());
    assert!(param_def("OP_TEST_DELAY", "OP_ID").is_none());
    assert!(param_def("OP_NOPE", "priority").is_none());
}

#[test]
fn every_default_satisfies_its_type() {
    for id in opcode_ids() {
        let Some(d) = opdef(id) else { continue };
        for p in d.params.iter().chain(common_params()) {
            if let Some(def) = &p.default {
                assert!(p.ty.coerce(def).is_some(), "{id}.{} default {def}", p.name);
            }
        }
    }
}

#[test]
fn defaults_are_filled() {
    let out = ok(json!({"OP_ID": "OP_TEST_DELAY", "duration": 2.5}));
    assert_eq!(out["duration"], json!(2.5));
    assert_eq!(out["on_master"], json!(true));
    assert_eq!(out["on_nodes"], json!([]));
    // Unset optional parameters are left out, as Ganeti's job queue stores them.
    assert!(!out.contains_key("on_node_uuids"));
    assert_eq!(out["repeat"], json!(0));
    assert_eq!(out["no_locks"], json!(true));
    assert_eq!(out["priority"], json!(0));
    assert_eq!(out["reason"], json!([]));
    assert!(!out.contains_key("dry_run"));
    assert_eq!(out["debug_level"], json!(0));
    assert_eq!(out["depends"], json!(null));
    let keys: Vec<&str> = out.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "debug_level",
            "priority",
            "depends",
            "comment",
            "reason",
            "OP_ID",
            "duration",
            "on_master",
            "on_nodes",
            "repeat",
            "interruptible",
            "no_locks"
        ]
    );
    // given values win over defaults, explicit null stays null where allowed
    let out = ok(json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "repeat": 3, "reason": null}));
    assert_eq!(out["repeat"], json!(3));
    assert_eq!(out["reason"], json!(null));
    // filling is idempotent
    assert_eq!(validate_and_fill(&out), Ok(out.clone()));
}

#[test]
fn int_for_float_becomes_float() {
    let out = ok(json!({"OP_ID": "OP_TEST_DELAY", "duration": 8}));
    assert_eq!(out["duration"], json!(8.0));
    assert!(out["duration"].is_f64());
    let out = ok(json!({"OP_ID": "OP_OOB_COMMAND", "command": "power-on", "power_delay": 3}));
    assert_eq!(out["power_delay"], json!(3.0));
}

#[test]
fn required_missing() {
    let e = err(json!({"OP_ID": "OP_TEST_DELAY"}));
    assert_eq!(
        e,
        OpSchemaError::MissingParam {
            op_id: "OP_TEST_DELAY".into(),
            param: "duration".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "Parameter 'OP_TEST_DELAY.duration' fails validation"
    );
    assert_eq!(e.error_class(), "wrong_input");
    assert_eq!(e.op_id(), Some("OP_TEST_DELAY"));
    assert_eq!(e.param(), Some("duration"));
}

#[test]
fn explicit_null_for_required_fails() {
    let e = err(json!({"OP_ID": "OP_GROUP_ADD", "group_name": null}));
    assert_eq!(
        e.to_string(),
        "Parameter 'OP_GROUP_ADD.group_name' fails validation"
    );
    assert!(matches!(e, OpSchemaError::InvalidParam { .. }));
}

#[test]
fn unknown_param_opcode_and_op_id() {
    let e = err(json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "foo": 1}));
    assert_eq!(
        e.to_string(),
        "Object OpTestDelay doesn't support the parameter 'foo'"
    );
    assert_eq!(e.error_class(), "wrong_input");
    assert_eq!(e.param(), Some("foo"));

    let e = err(json!({"OP_ID": "OP_FROBNICATE"}));
    assert_eq!(
        e.to_string(),
        "Invalid data to LoadOpCode: OP_ID OP_FROBNICATE unsupported"
    );
    assert_eq!(e.param(), None);
    let e = err(json!({"OP_ID": 5}));
    assert!(matches!(e, OpSchemaError::UnknownOpcode { ref op_id } if op_id == "5"));
    let e = err(json!({"duration": 1.0}));
    assert_eq!(e, OpSchemaError::MissingOpId);
    assert_eq!(e.op_id(), None);

    // 3.1-only opcode and parameter are not 3.0.2's
    let e = err(json!({"OP_ID": "OP_NETWORK_RENAME", "network_name": "a", "new_name": "b"}));
    assert!(matches!(e, OpSchemaError::UnknownOpcode { .. }));
    let e = err(json!({"OP_ID": "OP_CLUSTER_VERIFY_DISKS", "is_strict": true}));
    assert!(matches!(e, OpSchemaError::UnknownParam { .. }));
    assert!(ok(json!({"OP_ID": "OP_CLUSTER_VERIFY_DISKS"}))
        .get("is_strict")
        .is_none());
}

#[test]
fn test_delay_type_errors() {
    let e = err(json!({"OP_ID": "OP_TEST_DELAY", "duration": "abc"}));
    assert_eq!(
        e.to_string(),
        "Parameter 'OP_TEST_DELAY.duration' fails validation"
    );
    assert!(matches!(e, OpSchemaError::InvalidParam { ref expected, .. } if expected == "float"));
    for bad in [json!(null), json!(true), json!([1.0]), json!("1.0")] {
        err(json!({"OP_ID": "OP_TEST_DELAY", "duration": bad}));
    }
    let e = err(json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "repeat": -1}));
    assert_eq!(e.param(), Some("repeat"));
    let e = err(json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "on_nodes": [""]}));
    assert_eq!(e.param(), Some("on_nodes"));
}

#[test]
fn priority() {
    for good in [-10, 0, 10] {
        ok(json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "priority": good}));
    }
    for bad in [json!(5), json!(-20), json!(20), json!("0"), json!(null)] {
        let e = err(json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "priority": bad}));
        assert_eq!(
            e.to_string(),
            "Parameter 'OP_TEST_DELAY.priority' fails validation"
        );
    }
}

#[test]
fn depends() {
    let base = |deps: Value| json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "depends": deps});
    for good in [
        json!(null),
        json!([]),
        json!([[1, ["success"]]]),
        json!([[1, ["success", "error", "canceled"]], [-1, []]]),
        json!([["17", ["error"]]]),
    ] {
        ok(base(good));
    }
    for bad in [
        json!([[1, ["bogus"]]]),
        json!([[1]]),
        json!([[1, ["success"], 2]]),
        json!([["x", ["success"]]]),
        json!([[1.5, ["success"]]]),
        json!([[1, "success"]]),
        json!([{"1": ["success"]}]),
        json!(1),
    ] {
        let e = err(base(bad.clone()));
        assert_eq!(e.param(), Some("depends"), "{bad}");
    }
}

#[test]
fn other_common_params() {
    let base = |k: &str, v: Value| {
        let mut m = obj(json!({"OP_ID": "OP_CLUSTER_VERIFY_DISKS"}));
        m.insert(k.to_owned(), v);
        validate_and_fill(&m)
    };
    assert!(base("dry_run", json!(true)).is_ok());
    assert!(base("dry_run", json!(1)).is_err());
    assert!(base("debug_level", json!(2)).is_ok());
    assert!(base("debug_level", json!(-1)).is_err());
    assert!(base("comment", json!("why")).is_ok());
    assert!(base("comment", json!(3)).is_err());
    assert!(base("reason", json!([["gnt:client", "x", 1]])).is_ok());
    assert!(base("reason", json!({"a": 1})).is_err());
}

fn realistic_create() -> Value {
    json!({
        "OP_ID": "OP_INSTANCE_CREATE",
        "instance_name": "inst1.example.com",
        "mode": "create",
        "disk_template": "drbd",
        "disks": [{"size": 1024, "mode": "rw"}, {"size": "2G", "vg": "xenvg"}],
        "nics": [{"mac": "auto", "ip": null, "link": "br0"}, {}],
        "os_type": "debootstrap+default",
        "pnode": "node1.example.com",
        "snode": "node2.example.com",
        "beparams": {"maxmem": 512, "minmem": 256, "vcpus": 2},
        "hvparams": {"kernel_path": "/boot/vmlinuz"},
        "hypervisor": "kvm",
        "osparams_private": {"root_password": "x"},
        "tags": ["web", "prod"],
        "wait_for_sync": false,
        "start": true,
        "name_check": false,
        "ip_check": false,
        "helper_startup_timeout": 300,
        "dry_run": false,
        "priority": -10,
        "reason": [["gnt:client:gnt-instance", "add", 1795447035457695232u64]]
    })
}

#[test]
fn instance_create_realistic() {
    let out = ok(realistic_create());
    assert_eq!(out["instance_name"], json!("inst1.example.com"));
    assert_eq!(out["compress"], json!("none"));
    assert_eq!(out["source_shutdown_timeout"], json!(120));
    assert_eq!(out["forthcoming"], json!(false));
    assert!(!out.contains_key("file_driver"));

    let bad = |k: &str, v: Value| {
        let mut m = obj(realistic_create());
        m.insert(k.to_owned(), v);
        match validate_and_fill(&m) {
            Ok(_) => panic!("{k} accepted"),
            Err(e) => assert_eq!(e.param(), Some(k)),
        }
    };
    bad("disk_template", json!("lvm"));
    bad("mode", json!("clone"));
    bad("nics", json!([{"speed": "1G"}]));
    bad("nics", json!([{"ip": 5}]));
    bad("disks", json!([{"size": true}]));
    bad("disks", json!([{"size": ""}]));
    bad("disks", json!({"size": 1}));
    bad("hypervisor", json!("vmware"));
    bad("tags", json!(["ok", ""]));
    bad("beparams", json!([]));
    bad("osparams_private", json!([]));
    bad("helper_startup_timeout", json!(1.5));
    bad("source_shutdown_timeout", json!(-1));
}

#[test]
fn network_addresses_are_checked() {
    let base = json!({"OP_ID": "OP_NETWORK_ADD", "network_name": "net1", "network": "10.0.0.0/24"});
    ok(base.clone());
    let with = |k: &str, v: Value| {
        let mut m = obj(base.clone());
        m.insert(k.to_owned(), v);
        validate_and_fill(&m)
    };
    assert!(with("network", json!("10.0.0.1/24")).is_err());
    assert!(with("network", json!("banana")).is_err());
    assert!(with("gateway", json!("10.0.0.1")).is_ok());
    assert!(with("gateway", json!("10.0.0.300")).is_err());
    assert!(with("network6", json!("2001:db8::/64")).is_ok());
    assert!(with("network6", json!("10.0.0.0/24")).is_err());
    assert!(with("gateway6", json!("2001:db8::1")).is_ok());
    assert!(with("add_reserved_ips", json!(["10.0.0.5"])).is_ok());
    assert!(with("add_reserved_ips", json!(["10.0.0.5/32"])).is_err());
}

#[test]
fn disk_modifications_and_indices() {
    let base = |disks: Value| {
        validate_and_fill(&obj(json!({
            "OP_ID": "OP_INSTANCE_SET_PARAMS", "instance_name": "i1", "disks": disks
        })))
    };
    assert!(base(json!([["add", -1, {"size": 1024}]])).is_ok());
    assert!(base(json!([["modify", "disk0", {"mode": "ro"}]])).is_ok());
    assert!(
        base(json!([[0, {"mode": "ro"}]])).is_ok(),
        "deprecated 2-item form"
    );
    assert!(base(json!([["swap", 0, {}]])).is_err());
    assert!(base(json!([["add", 0]])).is_err());
    let grow = |disk: Value| {
        validate_and_fill(&obj(json!({
            "OP_ID": "OP_INSTANCE_GROW_DISK", "instance_name": "i1", "disk": disk, "amount": 1024
        })))
    };
    assert!(grow(json!(15)).is_ok());
    assert!(grow(json!(16)).is_err());
    assert!(grow(json!(-1)).is_err());
}

#[test]
fn storage_type_is_checked() {
    let m = |st: Value| {
        validate_and_fill(&obj(json!({
            "OP_ID": "OP_REPAIR_NODE_STORAGE", "node_name": "n1", "storage_type": st, "name": "xenvg"
        })))
    };
    assert!(m(json!("lvm-vg")).is_ok());
    assert!(m(json!("floppy")).is_err());
    assert!(m(json!(null)).is_err());
}

#[test]
fn class_names() {
    assert_eq!(class_name("OP_TEST_DELAY"), "OpTestDelay");
    assert_eq!(class_name("OP_INSTANCE_CREATE"), "OpInstanceCreate");
    assert_eq!(class_name("OP_OOB_COMMAND"), "OpOobCommand");
    assert_eq!(
        class_name("OP_CLUSTER_ACTIVATE_MASTER_IP"),
        "OpClusterActivateMasterIp"
    );
}

/// RAPI answers recorded from Ganeti 3.0.2 (fixtures err_*.json); RAPI renames `name` to
/// `instance_name` and strips `__version__` before validating.
#[test]
fn matches_recorded_rapi_errors() {
    let e = err(json!({"OP_ID": "OP_INSTANCE_CREATE", "mode": "create",
                       "instance_name": "inst3.example.com"}));
    assert_eq!(
        e.to_string(),
        "Parameter 'OP_INSTANCE_CREATE.disks' fails validation"
    );
    let e = err(json!({"OP_ID": "OP_INSTANCE_CREATE", "mode": "create",
        "instance_name": "inst3.example.com", "os_type": "noop", "disk_template": "diskless",
        "disks": [], "nics": [{}], "ip_check": "maybe"}));
    assert_eq!(
        e.to_string(),
        "Parameter 'OP_INSTANCE_CREATE.ip_check' fails validation"
    );
    let e = err(json!({"OP_ID": "OP_INSTANCE_CREATE", "mode": "create",
        "instance_name": "inst3.example.com", "os_type": "noop", "disk_template": "diskless",
        "disks": [], "nics": [{}], "ip_check": false, "frobnicate": 1}));
    assert_eq!(
        e.to_string(),
        "Object OpInstanceCreate doesn't support the parameter 'frobnicate'"
    );
}

/// Opcodes, summaries and results of jobs recorded on a Ganeti 3.0.2 cluster
/// (testdata/ref_jobs.json, extracted from the RAPI fixtures' `*.job.json`).
#[test]
fn recorded_jobs_validate_and_summarise() {
    let jobs: Vec<Value> = match serde_json::from_str(include_str!("../testdata/ref_jobs.json")) {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    };
    assert!(jobs.len() >= 20);
    for job in &jobs {
        let fixture = &job["fixture"];
        let op = obj(job["op"].clone());
        let filled = match validate_and_fill(&op) {
            Ok(m) => m,
            Err(e) => panic!("{fixture}: {e}"),
        };
        for (k, v) in &op {
            assert_eq!(&filled[k], v, "{fixture}: {k} changed");
        }
        assert_eq!(json!(summary(&op)), job["summary"], "{fixture}");
        let op_id = op["OP_ID"].as_str().unwrap_or_default();
        if job["opstatus"] == "success" {
            assert_eq!(
                result_matches(op_id, &job["opresult"]),
                Some(true),
                "{fixture}"
            );
        }
    }
}

#[test]
fn result_types() {
    assert_eq!(result_matches("OP_TEST_DELAY", &json!(null)), Some(true));
    assert_eq!(result_matches("OP_TEST_DELAY", &json!(1)), Some(false));
    assert_eq!(result_matches("OP_NOPE", &json!(null)), None);
    let jobs = json!({"jobs": [[true, 12], [false, "no nodes"]]});
    assert_eq!(result_matches("OP_GROUP_EVACUATE", &jobs), Some(true));
    assert_eq!(
        result_matches("OP_GROUP_EVACUATE", &json!({"jobs": [], "x": 1})),
        Some(false)
    );
    assert_eq!(
        result_matches(
            "OP_OOB_COMMAND",
            &json!([[[0, "node1"], [0, {"power": true}]]])
        ),
        Some(true)
    );
    assert_eq!(
        result_matches("OP_OOB_COMMAND", &json!([[[7, "x"]]])),
        Some(false)
    );
}

/// Every summary in fixtures/cli/job_list.out, rebuilt from an opcode of that kind.
#[test]
fn job_list_summaries() {
    let cases = [
        (
            json!({"OP_ID": "OP_CLUSTER_POST_INIT"}),
            "CLUSTER_POST_INIT",
        ),
        (
            json!({"OP_ID": "OP_CLUSTER_ACTIVATE_MASTER_IP"}),
            "CLUSTER_ACTIVATE_MASTER_IP",
        ),
        (json!({"OP_ID": "OP_CLUSTER_VERIFY"}), "CLUSTER_VERIFY"),
        (
            json!({"OP_ID": "OP_CLUSTER_VERIFY_CONFIG"}),
            "CLUSTER_VERIFY_CONFIG",
        ),
        (
            json!({"OP_ID": "OP_CLUSTER_VERIFY_GROUP",
                   "group_name": "61440173-98b1-49ff-9e52-f4e04ae37243"}),
            "CLUSTER_VERIFY_GROUP(61440173-98b1-49ff-9e52-f4e04ae37243)",
        ),
        (
            json!({"OP_ID": "OP_CLUSTER_VERIFY_DISKS"}),
            "CLUSTER_VERIFY_DISKS",
        ),
        (
            json!({"OP_ID": "OP_TAGS_SET", "kind": "cluster", "tags": ["a"]}),
            "TAGS_SET",
        ),
        (
            json!({"OP_ID": "OP_TAGS_SEARCH", "pattern": "tag"}),
            "TAGS_SEARCH(tag)",
        ),
        (
            json!({"OP_ID": "OP_TAGS_DEL", "kind": "cluster", "tags": ["a"]}),
            "TAGS_DEL",
        ),
        (
            json!({"OP_ID": "OP_NODE_QUERY_STORAGE", "nodes": ["n1"], "storage_type": "lvm-vg",
                   "output_fields": ["name"]}),
            "NODE_QUERY_STORAGE",
        ),
        (
            json!({"OP_ID": "OP_GROUP_ADD", "group_name": "grp2"}),
            "GROUP_ADD(grp2)",
        ),
        (
            json!({"OP_ID": "OP_GROUP_RENAME", "group_name": "grp2", "new_name": "grp3"}),
            "GROUP_RENAME",
        ),
        (
            json!({"OP_ID": "OP_GROUP_REMOVE", "group_name": "grp3"}),
            "GROUP_REMOVE(grp3)",
        ),
        (
            json!({"OP_ID": "OP_OS_DIAGNOSE", "output_fields": ["name"], "names": []}),
            "OS_DIAGNOSE",
        ),
        (
            json!({"OP_ID": "OP_EXT_STORAGE_DIAGNOSE", "output_fields": ["name"], "names": []}),
            "EXT_STORAGE_DIAGNOSE",
        ),
        (realistic_create(), "INSTANCE_CREATE(inst1.example.com)"),
        (
            json!({"OP_ID": "OP_INSTANCE_QUERY_DATA"}),
            "INSTANCE_QUERY_DATA",
        ),
        (
            json!({"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "inst2.example.com"}),
            "INSTANCE_STARTUP(inst2.example.com)",
        ),
        (
            json!({"OP_ID": "OP_INSTANCE_RENAME", "instance_name": "a", "new_name": "b"}),
            "INSTANCE_RENAME",
        ),
        (
            json!({"OP_ID": "OP_INSTANCE_GROW_DISK", "instance_name": "inst2.example.com",
                   "disk": 0, "amount": 128}),
            "INSTANCE_GROW_DISK(inst2.example.com)",
        ),
        (
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 0.0}),
            "TEST_DELAY(0.0)",
        ),
        (
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 0.001}),
            "TEST_DELAY(1.0e-3)",
        ),
        (
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 8}),
            "TEST_DELAY(8.0)",
        ),
        (
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 8.0}),
            "TEST_DELAY(8.0)",
        ),
    ];
    let job_list = include_str!("../testdata/job_list.out");
    for (op, want) in cases {
        assert_eq!(summary(&obj(op.clone())), want, "{op}");
        assert!(
            job_list.lines().any(|l| l.ends_with(&format!(" {want}"))),
            "{want} is not in job_list.out"
        );
    }
}

#[test]
fn summary_special_cases() {
    assert_eq!(summary(&Map::new()), "INVALID_OP");
    assert_eq!(summary(&obj(json!({"OP_ID": 3}))), "INVALID_OP");
    assert_eq!(summary(&obj(json!({"OP_ID": "OP_FROB", "x": 1}))), "FROB");
    // an opcode the job queue cannot parse shows no field
    assert_eq!(
        summary(&obj(json!({"OP_ID": "OP_TEST_DELAY", "duration": "abc"}))),
        "TEST_DELAY"
    );
    assert_eq!(
        summary(&obj(
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 1.0, "priority": 5})
        )),
        "TEST_DELAY"
    );
    assert_eq!(
        summary(&obj(
            json!({"OP_ID": "OP_TAGS_GET", "kind": "instance", "name": "i1"})
        )),
        "TAGS_GET(TagKindInstance)"
    );
    assert_eq!(
        summary(&obj(
            json!({"OP_ID": "OP_TEST_ALLOCATOR", "direction": "in",
                             "mode": "allocate", "name": "x"})
        )),
        "TEST_ALLOCATOR(None)"
    );
    assert_eq!(
        summary(&obj(
            json!({"OP_ID": "OP_QUERY", "what": "node", "fields": ["name"]})
        )),
        "QUERY(node)"
    );
}

#[test]
fn summary_table_agrees_with_spec() {
    for id in opcode_ids() {
        let Some(d) = opdef(id) else { continue };
        let hs = summary_field(id);
        if id == "OP_TAGS_GET" {
            assert_eq!((hs, d.dsc_field.as_deref()), (Some("kind"), Some("name")));
        } else {
            assert_eq!(hs, d.dsc_field.as_deref(), "{id}");
        }
        if let Some(f) = hs {
            assert!(param_def(id, f).is_some(), "{id}.{f}");
        }
    }
    assert_eq!(summary_field("OP_NOPE"), None);
}
