//! Hooks of the cluster, group, network and node opcodes: which phases
//! run, with which `GANETI_*` keys, and cluster verify's folding of its
//! post hooks into the verdict.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{json, Value};

use super::{env, run, Env};
use crate::cmdlib::cluster::checks::testcfg;

type Run = (String, String, BTreeMap<String, String>);

/// A recorder in both phases of each `hpath` appending `=== path phase`
/// and the sorted environment of every run to one log. It reads the
/// environment the script was given from /proc: a shell drops variables
/// whose names it cannot use (`GANETI_NODE_TAGS_<node name>` has dots).
fn record(e: &Env, hpaths: &[&str]) -> std::path::PathBuf {
    let log = e.m.paths.root().join("hooks.log");
    for hpath in hpaths {
        for phase in ["pre", "post"] {
            install(
                e,
                &format!("{hpath}-{phase}.d"),
                "50rec",
                &format!(
                    "#!/bin/sh\n{{ echo \"=== $GANETI_HOOKS_PATH $GANETI_HOOKS_PHASE\"; tr '\\0' '\\n' < /proc/$$/environ | sort; }} >> {}\n",
                    log.display()
                ),
            );
        }
    }
    log
}

fn install(e: &Env, dir: &str, name: &str, body: &str) {
    let d = e.m.paths.hooks_dir().join(dir);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn runs(log: &Path) -> Vec<Run> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out: Vec<Run> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("=== ") {
            let (p, ph) = h.split_once(' ').unwrap();
            out.push((p.into(), ph.into(), BTreeMap::new()));
        } else if let (Some(last), Some((k, v))) = (out.last_mut(), line.split_once('=')) {
            last.2.insert(k.into(), v.into());
        }
    }
    std::fs::remove_file(log).ok();
    out
}

/// The opcode's own keys: `GANETI_*` minus the common ones.
fn own(env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    const COMMON: &[&str] = &[
        "GANETI_HOOKS_VERSION",
        "GANETI_HOOKS_PHASE",
        "GANETI_HOOKS_PATH",
        "GANETI_OP_CODE",
        "GANETI_DATA_DIR",
        "GANETI_OBJECT_TYPE",
        "GANETI_CLUSTER",
        "GANETI_MASTER",
    ];
    env.iter()
        .filter(|(k, _)| k.starts_with("GANETI_") && !COMMON.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn kv(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[track_caller]
fn ok(e: &Env, op: Value) -> Vec<String> {
    let (r, log) = run(&e.m, op.clone());
    r.unwrap_or_else(|err| panic!("{op}: {err}"));
    log
}

#[test]
fn group_opcodes() {
    let e = env();
    let log = record(
        &e,
        &["group-add", "group-rename", "group-modify", "group-remove"],
    );
    ok(&e, json!({"OP_ID": "OP_GROUP_ADD", "group_name": "g2"}));
    ok(
        &e,
        json!({"OP_ID": "OP_GROUP_RENAME", "group_name": "g2", "new_name": "g3"}),
    );
    ok(
        &e,
        json!({"OP_ID": "OP_GROUP_SET_PARAMS", "group_name": "g3", "alloc_policy": "last_resort"}),
    );
    ok(&e, json!({"OP_ID": "OP_GROUP_REMOVE", "group_name": "g3"}));
    let r = runs(&log);
    let seen: Vec<(&str, &str)> = r
        .iter()
        .map(|(p, ph, _)| (p.as_str(), ph.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("group-add", "pre"),
            ("group-add", "post"),
            ("group-rename", "pre"),
            ("group-rename", "post"),
            ("group-modify", "pre"),
            ("group-modify", "post"),
            ("group-remove", "pre"),
            ("group-remove", "post"),
        ]
    );
    assert_eq!(r[0].2["GANETI_OBJECT_TYPE"], "GROUP");
    assert_eq!(r[0].2["GANETI_OP_CODE"], "OP_GROUP_ADD");
    assert_eq!(own(&r[0].2), kv(&[("GANETI_GROUP_NAME", "g2")]));
    assert_eq!(
        own(&r[1].2),
        kv(&[
            ("GANETI_GROUP_NAME", "g2"),
            ("GANETI_POST_GROUP_NAME", "g2")
        ])
    );
    assert_eq!(
        own(&r[2].2),
        kv(&[("GANETI_OLD_NAME", "g2"), ("GANETI_NEW_NAME", "g3")])
    );
    assert_eq!(
        own(&r[4].2),
        kv(&[
            ("GANETI_GROUP_NAME", "g3"),
            ("GANETI_NEW_ALLOC_POLICY", "last_resort")
        ])
    );
}

#[test]
fn network_opcodes() {
    let e = env();
    let log = record(
        &e,
        &[
            "network-add",
            "network-modify",
            "network-connect",
            "network-disconnect",
            "network-remove",
        ],
    );
    ok(
        &e,
        json!({"OP_ID": "OP_NETWORK_ADD", "network_name": "net1", "network": "10.9.0.0/24",
            "gateway": "10.9.0.1", "mac_prefix": "aa:bb:cc", "tags": ["t1", "t2"]}),
    );
    ok(
        &e,
        json!({"OP_ID": "OP_NETWORK_SET_PARAMS", "network_name": "net1", "gateway": "10.9.0.254"}),
    );
    ok(
        &e,
        json!({"OP_ID": "OP_NETWORK_CONNECT", "network_name": "net1", "group_name": "default",
            "network_mode": "bridged", "network_link": "br9", "network_vlan": ""}),
    );
    ok(
        &e,
        json!({"OP_ID": "OP_NETWORK_DISCONNECT", "network_name": "net1", "group_name": "default"}),
    );
    ok(
        &e,
        json!({"OP_ID": "OP_NETWORK_REMOVE", "network_name": "net1"}),
    );
    let r = runs(&log);
    assert_eq!(r.len(), 10, "{r:#?}");
    assert_eq!(r[0].2["GANETI_OBJECT_TYPE"], "NETWORK");
    // only the values that are set
    assert_eq!(
        own(&r[0].2),
        kv(&[
            ("GANETI_NETWORK_NAME", "net1"),
            ("GANETI_NETWORK_SUBNET", "10.9.0.0/24"),
            ("GANETI_NETWORK_GATEWAY", "10.9.0.1"),
            ("GANETI_NETWORK_MAC_PREFIX", "aa:bb:cc"),
            ("GANETI_NETWORK_TAGS", "t1 t2"),
        ])
    );
    // modify: the resulting values, before and after
    assert_eq!(r[2].2["GANETI_NETWORK_GATEWAY"], "10.9.0.254");
    assert_eq!(r[3].2["GANETI_POST_NETWORK_GATEWAY"], "10.9.0.254");
    assert_eq!(
        own(&r[4].2),
        kv(&[
            ("GANETI_GROUP_NAME", "default"),
            ("GANETI_GROUP_NETWORK_MODE", "bridged"),
            ("GANETI_GROUP_NETWORK_LINK", "br9"),
            ("GANETI_GROUP_NETWORK_VLAN", ""),
        ])
    );
    // disconnect names the connection it removes
    assert_eq!(r[6].2["GANETI_GROUP_NETWORK_LINK"], "br9");
    assert_eq!(r[7].2["GANETI_POST_GROUP_NETWORK_LINK"], "br9");
    assert_eq!(own(&r[8].2), kv(&[("GANETI_NETWORK_NAME", "net1")]));
}

#[test]
fn cluster_and_node_modify() {
    let e = env();
    let log = record(&e, &["cluster-modify", "node-modify"]);
    ok(
        &e,
        json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "beparams": {"vcpus": 2}}),
    );
    ok(
        &e,
        json!({"OP_ID": "OP_NODE_SET_PARAMS", "node_name": "node1.example.com", "master_capable": true}),
    );
    let r = runs(&log);
    assert_eq!(r.len(), 4, "{r:#?}");
    assert_eq!(r[0].2["GANETI_OBJECT_TYPE"], "CLUSTER");
    assert_eq!(
        own(&r[0].2),
        kv(&[
            ("GANETI_OP_TARGET", "cluster.example.com"),
            ("GANETI_NEW_VG_NAME", "None")
        ])
    );
    assert_eq!(r[2].2["GANETI_OBJECT_TYPE"], "NODE");
    assert_eq!(
        own(&r[2].2),
        kv(&[
            ("GANETI_OP_TARGET", "node1.example.com"),
            ("GANETI_MASTER_CANDIDATE", "None"),
            ("GANETI_OFFLINE", "None"),
            ("GANETI_DRAINED", "None"),
            ("GANETI_MASTER_CAPABLE", "True"),
            ("GANETI_VM_CAPABLE", "None"),
        ])
    );
}

#[test]
fn a_failing_pre_hook_stops_a_cluster_change() {
    let e = env();
    install(
        &e,
        "group-add-pre.d",
        "10no",
        "#!/bin/sh\necho 'not today'\nexit 1\n",
    );
    let (r, _) = run(&e.m, json!({"OP_ID": "OP_GROUP_ADD", "group_name": "g2"}));
    let err = r.unwrap_err();
    assert_eq!(err.class_name(), "HooksAbort");
    assert!(
        err.message()
            .contains("group-add-pre.d/10no, output: not today"),
        "{err}"
    );
    assert!(e.m.config().unwrap().lookup_group("g2").is_err());
}

#[test]
fn cluster_verify_folds_its_post_hooks_into_the_verdict() {
    let e = env();
    // a healthy cluster verifies true: crypto as init and renew-crypto leave it
    let cfg = e.m.config().unwrap();
    ganeti_crypto::generate_cluster_crypto(
        &ganeti_crypto::CryptoPaths::in_dir(&e.m.paths.data_dir()),
        &cfg.nodes[testcfg::NODE].name,
        &ganeti_crypto::RenewSpec::for_init(),
    )
    .unwrap();
    ok(
        &e,
        json!({"OP_ID": "OP_CLUSTER_RENEW_CRYPTO", "node_certificates": true}),
    );
    let log = record(&e, &["cluster-verify"]);
    let op = json!({"OP_ID": "OP_CLUSTER_VERIFY_GROUP", "group_name": testcfg::GROUP});
    let (r, out) = run(&e.m, op.clone());
    assert_eq!(r.unwrap(), json!(true), "{out:#?}");
    let seen = runs(&log);
    assert_eq!(seen.len(), 1, "post only: {seen:#?}");
    assert_eq!(seen[0].1, "post");
    assert_eq!(seen[0].2["GANETI_POST_CLUSTER_TAGS"], "");
    assert!(seen[0]
        .2
        .contains_key("GANETI_POST_NODE_TAGS_node1.example.com"));

    install(
        &e,
        "cluster-verify-post.d",
        "60check",
        "#!/bin/sh\necho 'disk almost full'\necho 'second line'\nexit 1\n",
    );
    let (r, log) = run(&e.m, op);
    assert_eq!(r.unwrap(), json!(false));
    let at = log
        .iter()
        .position(|l| {
            *l == format!(
                "  - ERROR: node {}: Script cluster-verify-post.d/60check failed, output:",
                testcfg::NODE
            )
        })
        .unwrap_or_else(|| panic!("{log:#?}"));
    assert_eq!(log[at + 1], "      disk almost full\\nsecond line");
}
