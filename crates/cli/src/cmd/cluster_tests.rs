//! Tests of `gnt-cluster`.

use ganeti_luxi::Method;
use serde_json::{json, Value};

use super::*;
use crate::cmd::fakemaster::{master, JobPlan};
use crate::cmd::testutil::{fixture, parse_cmd, run_cmd, submitted_ops};
use crate::fixture_tests::case;

fn cluster_info() -> Value {
    let ispec = |c: i64, dc: i64, ds: i64, m: i64, n: i64, s: i64| json!({"cpu-count": c, "disk-count": dc, "disk-size": ds, "memory-size": m, "nic-count": n, "spindle-use": s});
    let dc = json!({"active": true, "interval": 5_000_000});
    json!({
        "name": "cluster.example.com",
        "uuid": "8b1a6fda-7586-4084-a145-8d7846fbc004",
        "ctime": 1_795_446_960.25, "mtime": 1_795_446_962.5,
        "master": "node1.example.com",
        "architecture": ["64bits", "x86_64"],
        "tags": [],
        "default_hypervisor": "fake",
        "enabled_hypervisors": ["fake"],
        "hvparams": {"fake": {"migration_mode": "live"}, "kvm": {"acpi": true}},
        "os_hvp": {}, "osparams": {}, "hidden_os": [], "blacklisted_os": [],
        "candidate_pool_size": 10, "max_running_jobs": 20, "max_tracked_jobs": 25,
        "mac_prefix": "aa:00:00", "master_netdev": "gntbr0", "master_netmask": 24,
        "use_external_mip_script": false, "volume_group_name": null, "reserved_lvs": [],
        "drbd_usermode_helper": null,
        "file_storage_dir": "/srv/ganeti/file-storage",
        "shared_file_storage_dir": "/srv/ganeti/shared-file-storage",
        "gluster_storage_dir": "/var/run/ganeti/gluster",
        "maintain_node_health": false, "uid_pool": [], "default_iallocator": "hail",
        "default_iallocator_params": {}, "primary_ip_version": 4, "prealloc_wipe_disks": false,
        "enabled_disk_templates": ["file", "sharedfile", "diskless"],
        "install_image": "", "instance_communication_network": "", "zeroing_image": "",
        "compression_tools": ["gzip", "gzip-fast", "gzip-slow"],
        "enabled_user_shutdown": false, "modify_ssh_setup": false,
        "ssh_key_type": "rsa", "ssh_key_bits": 2048,
        "ndparams": ganeti_types::constants::nd_defaults(),
        "beparams": {"default": ganeti_types::constants::be_defaults()},
        "nicparams": {"default": {"link": "gntbr0", "mode": "bridged", "vlan": ""}},
        "diskparams": ganeti_types::constants::disk_defaults(),
        "ipolicy": {
            "minmax": [{"min": ispec(1, 1, 1024, 128, 1, 1), "max": ispec(8, 16, 1_048_576, 32768, 8, 12)}],
            "std": ispec(1, 1, 1024, 128, 1, 1),
            "disk-templates": ["sharedfile", "file", "diskless"],
            "spindle-ratio": 32.0, "vcpu-ratio": 4.0
        },
        "enabled_data_collectors": {"cpu-avg-load": true, "diskstats": true, "drbd": true,
                                    "inst-status-xen": true, "lv": true, "xen-cpu-avg-load": true},
        "data_collector_interval": {"cpu-avg-load": 5_000_000, "diskstats": 5_000_000, "drbd": 5_000_000,
                                    "inst-status-xen": 5_000_000, "lv": 5_000_000, "xen-cpu-avg-load": 5_000_000},
        "software_version": "3.0.2", "protocol_version": 3_000_000, "config_version": 3_000_000,
        "os_api_version": 20, "export_version": 0, "vcs_version": "(ganeti) version 3.0.2-3",
        "_unused": dc
    })
}

fn info_master() -> crate::context::testing::FakeEnv {
    master(1, vec![], |m, _| {
        (m == Method::QueryClusterInfo).then(|| Ok(cluster_info()))
    })
}

#[test]
fn info_matches_reference() {
    let Some(expected) = fixture("cluster_info_roman.out") else {
        return;
    };
    let env = info_master();
    let (rc, out, err) = run_cmd(&env, &["gnt-cluster", "info", "--roman"]);
    assert_eq!((rc, err.as_str()), (0, ""));
    let ct = ganeti_clifmt::timefmt::format_time(Some(1_795_446_960.25));
    let mt = ganeti_clifmt::timefmt::format_time(Some(1_795_446_962.5));
    let expected = expected
        .replace(
            "Creation time: 2026-11-23 15:16:00",
            &format!("Creation time: {ct}"),
        )
        .replace(
            "Modification time: 2026-11-23 15:16:02",
            &format!("Modification time: {mt}"),
        );
    assert_eq!(out, expected);
}

#[test]
fn version_and_show_ispecs_cmd() {
    for name in ["cluster_version", "cluster_show_ispecs_cmd"] {
        let Some((args, out, err, rc)) = case(name) else {
            return;
        };
        let env = info_master();
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(run_cmd(&env, &a), (rc, out, err), "{name}");
    }
    let env = info_master();
    assert_eq!(run_cmd(&env, &["gnt-cluster", "master-ping"]).0, 0);
    let mut env = info_master();
    env.no_master = true;
    assert_eq!(
        run_cmd(&env, &["gnt-cluster", "master-ping"]),
        (1, String::new(), String::new())
    );
}

#[test]
fn master_down_message() {
    let mut env = info_master();
    env.no_master = true;
    let (rc, out, err) = run_cmd(&env, &["gnt-cluster", "version"]);
    assert_eq!((rc, out.as_str()), (1, ""));
    assert_eq!(
        err,
        "Cannot communicate with the master daemon.\nIs the process running and listening for connections?\n"
    );
}

#[test]
fn getmaster_reads_ssconf() {
    let dir = tempfile::tempdir().unwrap();
    let paths = ganeti_types::Paths::new(dir.path());
    std::fs::create_dir_all(paths.data_dir()).unwrap();
    std::fs::write(paths.ssconf("master_node"), "node1.example.com\n").unwrap();
    let mut env = info_master();
    env.no_master = true;
    let root = dir.path().to_string_lossy().into_owned();
    let (rc, out, err) = run_cmd(&env, &["gnt-cluster", "getmaster", "--root", &root]);
    assert_eq!(
        (rc, out.as_str(), err.as_str()),
        (0, "node1.example.com\n", "")
    );
    // the root can come from the environment too
    env.vars.push(("GANETI_ROOT".into(), root.clone()));
    assert_eq!(
        run_cmd(&env, &["gnt-cluster", "getmaster"]).1,
        "node1.example.com\n"
    );
    // no cluster there
    let empty = tempfile::tempdir().unwrap();
    let r = empty.path().to_string_lossy().into_owned();
    let (rc, _, err) = run_cmd(&env, &["gnt-cluster", "getmaster", "--root", &r]);
    assert_eq!(rc, 2);
    assert!(
        err.starts_with("Corrupt configuration file: Can't read ssconf file "),
        "{err}"
    );
    assert!(err.ends_with("\nAborting.\n"), "{err}");
}

#[test]
fn queue_and_tags() {
    let Some((args, out, err, rc)) = case("cluster_queue_info") else {
        return;
    };
    let env = master(1, vec![], |m, a| {
        (m == Method::QueryConfigValues).then(|| {
            assert_eq!(a, &json!([["drain_flag"]]));
            Ok(json!([false]))
        })
    });
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    let env = master(1, vec![], |m, _| {
        (m == Method::SetDrainFlag).then(|| Ok(json!(true)))
    });
    assert_eq!(run_cmd(&env, &["gnt-cluster", "queue", "drain"]).0, 0);
    assert_eq!(env.calls(Method::SetDrainFlag), vec![json!([true])]);
    let (rc, _, err) = run_cmd(&env, &["gnt-cluster", "queue", "frob"]);
    assert_eq!(rc, 1);
    assert!(err.ends_with("Command 'frob' is not valid.\n"));
    for name in ["cluster_list_tags", "cluster_list_tags_empty"] {
        let Some((args, out, err, rc)) = case(name) else {
            return;
        };
        let tags: Vec<String> = out.lines().rev().map(str::to_string).collect();
        let env = master(1, vec![], move |m, a| {
            (m == Method::QueryTags).then(|| {
                assert_eq!(a, &json!(["cluster", ""]));
                Ok(json!(tags))
            })
        });
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(run_cmd(&env, &a), (rc, out, err), "{name}");
    }
    let env = master(10, vec![], |_, _| None);
    run_cmd(&env, &["gnt-cluster", "add-tags", "ctag1", "ctag2"]);
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_TAGS_SET", "kind": "cluster", "name": "", "tags": ["ctag1", "ctag2"], "debug_level": 0})
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-cluster", "remove-tags"]);
    assert_eq!(rc, 1);
    assert!(err.ends_with("No tags to be removed\n"), "{err}");
    let Some((args, out, err, rc)) = case("cluster_search_tags_inst") else {
        return;
    };
    let env = master(
        65,
        vec![JobPlan::ok(json!([
            ["/instances/inst1.example.com", "itag:with:colons"],
            ["/instances/inst1.example.com", "itag1"]
        ]))],
        |_, _| None,
    );
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
}

#[test]
fn verify_follows_the_spawned_jobs() {
    let Some((args, out, err, rc)) = case("cluster_verify") else {
        return;
    };
    // job 3: OP_CLUSTER_VERIFY, spawning 4 and 5
    let mut lines = out.lines();
    let _ = lines.next();
    let mut job4 = Vec::new();
    let mut job5 = Vec::new();
    let mut cur = &mut job4;
    for l in lines {
        if l.starts_with("Waiting for job 5") {
            cur = &mut job5;
        } else if !l.starts_with("Waiting") {
            cur.push(l[25..].to_string());
        }
    }
    let j4: Vec<&str> = job4.iter().map(String::as_str).collect();
    let j5: Vec<&str> = job5.iter().map(String::as_str).collect();
    let env = master(
        3,
        vec![
            JobPlan::ok(json!({"jobs": [[true, 4], [true, 5]]})),
            JobPlan::ok(json!(true)).with_logs(&j4),
            JobPlan::ok(json!(false)).with_logs(&j5),
        ],
        |_, _| None,
    );
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (our_rc, our_out, our_err) = run_cmd(&env, &a);
    assert_eq!((our_rc, our_err.as_str()), (rc, err.as_str()));
    let strip = |t: &str| -> String {
        t.lines()
            .map(|l| {
                if l.starts_with("Mon ") {
                    l[24..].to_string()
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&our_out), strip(&out));
    assert_eq!(
        submitted_ops(&env)[0],
        json!({"OP_ID": "OP_CLUSTER_VERIFY", "verbose": false, "error_codes": false,
               "debug_simulate_errors": false, "skip_checks": [], "ignore_errors": [],
               "verify_clutter": false, "debug_level": 0, "dry_run": false})
    );
}

#[test]
fn verify_disks_with_nothing_to_do() {
    let Some((args, out, err, rc)) = case("cluster_verify_disks") else {
        return;
    };
    let env = master(9, vec![JobPlan::ok(json!({"jobs": []}))], |_, _| None);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
}

#[test]
fn init_option_processing() {
    let (o, a) = parse_cmd(
        &GROUP,
        "init",
        &[
            "--no-etc-hosts",
            "--no-ssh-init",
            "--master-netdev=gntbr0",
            "--master-netmask=24",
            "--enabled-hypervisors=fake",
            "--enabled-disk-templates=file,sharedfile,diskless",
            "--master-ip",
            "192.0.2.1",
            "-B",
            "memory=256",
            "-N",
            "link=br0",
            "--ipolicy-vcpu-ratio",
            "2",
            "cluster.example.com",
        ],
    );
    let InitPlan::Init(i) = build_init(&o, &a).unwrap() else {
        panic!("not accepted")
    };
    assert_eq!(i.cluster.cluster_name, "cluster.example.com");
    assert_eq!(i.cluster.master_ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(i.cluster.master_netdev.as_deref(), Some("gntbr0"));
    assert_eq!(i.cluster.master_netmask, Some(24));
    assert!(!i.cluster.modify_etc_hosts && !i.cluster.modify_ssh_setup);
    assert_eq!(i.cluster.enabled_hypervisors, vec!["fake"]);
    assert_eq!(
        i.cluster.enabled_disk_templates,
        vec!["file", "sharedfile", "diskless"]
    );
    assert_eq!(
        Value::Object(i.cluster.beparams.clone()),
        json!({"memory": 256})
    );
    assert_eq!(
        Value::Object(i.cluster.nicparams.clone()),
        json!({"link": "br0"})
    );
    assert_eq!(
        Value::Object(i.cluster.ipolicy.clone()),
        json!({"vcpu-ratio": 2.0})
    );
    assert_eq!(i.cluster.vg_name, None);
    assert_eq!(i.cluster.drbd_helper, None);
    assert_eq!((i.ssh_key_type.as_str(), i.ssh_key_bits), ("rsa", 2048));
    assert_eq!(i.primary_ip_version, 4);
    // LVM templates get the default VG, DRBD the default helper
    let (o, a) = parse_cmd(
        &GROUP,
        "init",
        &["--enabled-disk-templates=drbd,plain", "c"],
    );
    let InitPlan::Init(i) = build_init(&o, &a).unwrap() else {
        panic!()
    };
    assert_eq!(i.cluster.vg_name.as_deref(), Some("xenvg"));
    assert_eq!(i.cluster.drbd_helper.as_deref(), Some("/bin/true"));
    // refusals
    let refuse =
        |args: &[&str]| match build_init(&parse_cmd(&GROUP, "init", args).0, &["c".to_string()]) {
            Ok(InitPlan::Refuse(m)) => m,
            other => panic!("{other:?}"),
        };
    assert_eq!(
        refuse(&["--enabled-disk-templates=plain", "--vg-name="]),
        "LVM disk templates are enabled, but vg name not set."
    );
    assert_eq!(refuse(&["-D", "frob:x=1"]), "Disk templates unknown: frob");
    assert!(refuse(&["--master-netmask", "x"]).starts_with("Invalid master netmask value"));
    assert!(refuse(&["--primary-ip-version", "5"]).starts_with("Invalid primary ip version value"));
    let (o, a) = parse_cmd(
        &GROUP,
        "init",
        &["--ssh-key-type", "dsa", "--ssh-key-bits", "2048", "c"],
    );
    assert!(build_init(&o, &a).is_err());
    let (o, a) = parse_cmd(
        &GROUP,
        "init",
        &["--vg-name", "vg", "--enabled-disk-templates", "file", "c"],
    );
    assert!(matches!(build_init(&o, &a).unwrap(), InitPlan::Note(..)));
}

#[test]
fn init_on_an_existing_cluster_fails_like_ganeti() {
    let Some((args, out, err, rc)) = case("err_cluster_init_exists") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let paths = ganeti_types::Paths::new(dir.path());
    std::fs::create_dir_all(paths.data_dir()).unwrap();
    std::fs::write(paths.config_data(), "{}").unwrap();
    let env = master(1, vec![], |_, _| None);
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = dir.path().to_string_lossy().into_owned();
    let last = a.pop().unwrap_or_default();
    a.extend(["--root", &root, last]);
    assert_eq!(run_cmd(&env, &a), (rc, out, err));
    // nothing was removed
    assert!(paths.config_data().exists());
}

#[test]
fn destroy_needs_confirmation() {
    let env = master(1, vec![], |_, _| None);
    let (rc, out, err) = run_cmd(&env, &["gnt-cluster", "destroy"]);
    assert_eq!(rc, 1);
    assert_eq!(out, "");
    assert_eq!(err, "Destroying a cluster is irreversible. If you really want destroy this cluster, supply the --yes-do-it option.\n");
    // the master refusing stops before anything local happens
    let env = master(
        1,
        vec![JobPlan::err(json!([
            "OpPrereqError",
            [
                "There are still 1 instance(s) in this cluster.",
                "wrong_state"
            ]
        ]))],
        |_, _| None,
    );
    let (rc, _, err) = run_cmd(
        &env,
        &[
            "gnt-cluster",
            "destroy",
            "--yes-do-it",
            "--root",
            "/nonexistent",
        ],
    );
    assert_eq!(rc, 1);
    assert!(
        err.ends_with("There are still 1 instance(s) in this cluster.\n"),
        "{err}"
    );
}

#[test]
fn modify_opcode() {
    let (o, _) = parse_cmd(
        &GROUP,
        "modify",
        &["-B", "memory=512", "-H", "fake:migration_mode=live", "--candidate-pool-size", "3",
          "--enabled-disk-templates", "file,diskless", "--ipolicy-bounds-specs",
          "min:cpu-count=1,disk-count=1,disk-size=128,memory-size=64,nic-count=1,spindle-use=1/max:cpu-count=2,disk-count=2,disk-size=2048,memory-size=1024,nic-count=2,spindle-use=2",
          "--reserved-lvs", "", "--uid-pool", "1000-1010,2000"],
    );
    let ModifyPlan::Op(op, notes) = build_modify(&o).unwrap() else {
        panic!()
    };
    assert!(notes.is_empty());
    assert_eq!(op["beparams"], json!({"memory": 512}));
    assert_eq!(op["hvparams"], json!({"fake": {"migration_mode": "live"}}));
    assert_eq!(op["candidate_pool_size"], json!(3));
    assert_eq!(op["enabled_disk_templates"], json!(["file", "diskless"]));
    assert_eq!(
        op["ipolicy"]["minmax"][0]["max"]["memory-size"],
        json!(1024)
    );
    assert_eq!(op["reserved_lvs"], json!([]));
    assert_eq!(op["uid_pool"], json!([[1000, 1010], [2000, 2000]]));
    assert!(op.get("mac_prefix").is_none());
    assert_eq!(op["force"], json!(false));
    let (o, _) = parse_cmd(&GROUP, "modify", &[]);
    assert!(matches!(build_modify(&o).unwrap(), ModifyPlan::Refuse(_)));
    let (o, _) = parse_cmd(&GROUP, "modify", &["--master-netmask", "x"]);
    assert!(matches!(build_modify(&o).unwrap(), ModifyPlan::Refuse(_)));
    let (o, _) = parse_cmd(&GROUP, "modify", &["-B", "frob=1"]);
    assert!(build_modify(&o).is_err());
}

#[test]
fn renew_crypto_checks() {
    let (o, _) = parse_cmd(
        &GROUP,
        "renew-crypto",
        &["--new-rapi-certificate", "--rapi-certificate", "/x"],
    );
    assert!(
        matches!(build_renew(&o), RenewPlan::Refuse(m) if m.starts_with("Only one of the --new-rapi-certificate"))
    );
    let (o, _) = parse_cmd(&GROUP, "renew-crypto", &["--spice-certificate", "/x"]);
    assert!(
        matches!(build_renew(&o), RenewPlan::Refuse(m) if m.starts_with("Both --spice-certificate"))
    );
    let (o, _) = parse_cmd(
        &GROUP,
        "renew-crypto",
        &["--rapi-certificate", "/nonexistent/x.pem"],
    );
    assert!(
        matches!(build_renew(&o), RenewPlan::Refuse(m) if m.starts_with("Unable to load X509 certificate from /nonexistent/x.pem"))
    );
    let (o, _) = parse_cmd(
        &GROUP,
        "renew-crypto",
        &["--new-cluster-certificate", "--new-confd-hmac-key", "-f"],
    );
    let RenewPlan::Renew(r) = build_renew(&o) else {
        panic!()
    };
    assert!(r.new_cluster_cert && r.new_confd_hmac_key && !r.new_rapi_cert);
    // without -f and a terminal nothing happens
    let env = master(1, vec![], |_, _| None);
    let (rc, out, _) = run_cmd(
        &env,
        &["gnt-cluster", "renew-crypto", "--new-cluster-domain-secret"],
    );
    assert_eq!(rc, 1);
    assert!(out.starts_with("Updating certificates now."));
    assert!(env.log.borrow().is_empty());
    assert_eq!(determine_key_bits("ecdsa", None).unwrap(), 384);
    assert!(determine_key_bits("rsa", Some(512)).is_err());
}

#[test]
fn watcher_commands() {
    let env = master(1, vec![], |m, _| match m {
        Method::SetWatcherPause => Some(Ok(Value::Null)),
        Method::QueryConfigValues => Some(Ok(json!([null]))),
        _ => None,
    });
    assert_eq!(
        run_cmd(&env, &["gnt-cluster", "watcher", "continue"]),
        (
            0,
            "The watcher is no longer paused.\n".to_string(),
            String::new()
        )
    );
    assert_eq!(
        run_cmd(&env, &["gnt-cluster", "watcher", "info"]).1,
        "The watcher is not paused.\n"
    );
    let (rc, _, err) = run_cmd(&env, &["gnt-cluster", "watcher", "pause"]);
    assert_eq!(rc, 1);
    assert!(err.ends_with("Missing pause duration\n"));
    run_cmd(&env, &["gnt-cluster", "watcher", "pause", "1h"]);
    let calls = env.calls(Method::SetWatcherPause);
    assert_eq!(calls.last().unwrap()[0], json!(1_795_447_035.0 + 3600.0));
}
