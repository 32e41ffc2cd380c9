//! gnt-backup for real: exports written by the node layer's OS export
//! script into the temp root's export directory, listed, removed, and
//! imported back through the import script; the refusals of each opcode;
//! and the `config.ini` text both sides agree on.

use serde_json::{json, Value};

use super::{op, Env, I1, NODE_NAME};
use crate::cmdlib::backup::finalize::{config_ini, DumpedDisk};
use crate::cmdlib::backup::ini::Ini;
use crate::cmdlib::instance::import::read_export_params;

/// An OS whose export script writes the disk to stdout and whose import
/// script writes stdin onto the disk (what real OS providers do).
fn install_dump_os(env: &Env) {
    use std::os::unix::fs::PermissionsExt;
    let d = env.m.paths.os_search_path()[0].join("dump");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("ganeti_api_version"), "20\n").unwrap();
    std::fs::write(d.join("parameters.list"), "").unwrap();
    for (script, body) in [
        ("create", "exit 0"),
        ("export", "cat \"$EXPORT_DEVICE\""),
        ("import", "cat > \"$IMPORT_DEVICE\""),
        ("rename", "env | sort > rename.env"),
        ("verify", "exit 0"),
    ] {
        let p = d.join(script);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn create_dump(env: &Env, name: &str, start: bool) {
    env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": name, "mode": "create",
        "disk_template": "file", "disks": [{"size": 1}], "nics": [{}], "os_type": "dump",
        "pnode": NODE_NAME, "name_check": false, "ip_check": false, "start": start,
        "ignore_ipolicy": true, "tags": ["t1", "t2"], "beparams": {"maxmem": 256, "minmem": 128}}),
    );
}

fn export_op(name: &str, extra: Value) -> Value {
    op(
        "OP_BACKUP_EXPORT",
        name,
        json!({"target_node": NODE_NAME})
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .chain(extra.as_object().cloned().unwrap_or_default())
            .collect::<serde_json::Map<_, _>>()
            .into(),
    )
}

fn export_list(env: &Env) -> Value {
    let r =
        crate::querying::query(&env.m, "export", &["node".into(), "export".into()], None).unwrap();
    r["data"].clone()
}

#[test]
fn export_list_import_remove_round_trip() {
    let env = Env::new();
    install_dump_os(&env);
    create_dump(&env, I1, false);
    let disk = env.disk_paths(I1)[0].clone();
    let data: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::write(&disk, &data).unwrap();

    let r = env.ok(export_op(I1, json!({})));
    assert_eq!(r.result, json!([true, [true]]));
    assert!(
        r.log
            .iter()
            .any(|l| l == &format!("Exporting disk/0 from {NODE_NAME} to {NODE_NAME}")),
        "{:?}",
        r.log
    );
    assert!(r
        .log
        .iter()
        .any(|l| l == &format!("Finalizing export on {NODE_NAME}")));
    let dir = env.m.node.export_dir().join(I1);
    let ini = Ini::parse(&std::fs::read_to_string(dir.join("config.ini")).unwrap()).unwrap();
    let inst = env.inst(I1);
    assert_eq!(ini.get("export", "os"), Some("dump"));
    assert_eq!(
        ini.get("export", "source"),
        Some(inst.primary_node.as_str())
    );
    assert_eq!(ini.get("instance", "disk_count"), Some("1"));
    assert_eq!(
        ini.get("instance", "disk0_dump"),
        Some(inst.disks[0].as_str())
    );
    assert_eq!(ini.get("instance", "maxmem"), Some("256"));
    assert_eq!(ini.get("instance", "tags"), Some("t1 t2"));
    assert_eq!(std::fs::read(dir.join(&inst.disks[0])).unwrap(), data);
    assert_eq!(export_list(&env), json!([[[0, NODE_NAME], [0, I1]]]));
    // the instance is still there, stopped as it was
    assert!(!env.inst(I1).disks_active);

    // remove the instance, import it under a new name
    env.ok(op("OP_INSTANCE_REMOVE", I1, json!({})));
    let r = env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "inst2", "mode": "import",
        "disk_template": "file", "disks": [], "nics": [], "pnode": NODE_NAME,
        "src_node": NODE_NAME, "src_path": dir.display().to_string(),
        "name_check": false, "ip_check": false, "start": false, "ignore_ipolicy": true}),
    );
    assert_eq!(r.result, json!([NODE_NAME]));
    assert!(
        r.log
            .iter()
            .any(|l| l == "* running the instance OS import scripts..."),
        "{:?}",
        r.log
    );
    let new = env.inst("inst2");
    assert_eq!(new.os, "dump");
    assert_eq!(new.tags, vec!["t1", "t2"]);
    assert_eq!(new.nics.len(), 1);
    assert_eq!(new.beparams.get("maxmem"), Some(&json!(256)));
    let copied = std::fs::read(&env.disk_paths("inst2")[0]).unwrap();
    assert_eq!(&copied[..data.len()], &data[..]);
    // the rename script ran with the old name
    let os_dir = env.m.paths.os_search_path()[0].join("dump");
    let renv = super::script_env(&os_dir, "rename").unwrap();
    assert_eq!(renv.get("OLD_INSTANCE_NAME").map(String::as_str), Some(I1));

    // remove the export by the gone instance's full name
    env.ok(op("OP_BACKUP_REMOVE", I1, json!({})));
    assert_eq!(export_list(&env), json!([]));
    // a short name that matches nothing: Ganeti's hint
    let r = env.ok(op("OP_BACKUP_REMOVE", "inst1", json!({})));
    assert!(
        r.log.iter().any(|l| l.starts_with("Export not found.")),
        "{:?}",
        r.log
    );
}

#[test]
fn export_with_gzip_transport_round_trips() {
    let env = Env::with(|c| c.cluster.compression_tools = vec!["gzip".into()]);
    install_dump_os(&env);
    create_dump(&env, I1, false);
    let disk = env.disk_paths(I1)[0].clone();
    std::fs::write(&disk, b"hello backup").unwrap();
    let out = super::hooks::record(&env, "instance-export");
    let r = env.ok(export_op(
        I1,
        json!({"compress": "gzip", "remove_instance": true}),
    ));
    let post = super::hooks::read_env(&out, "instance-export", "post").unwrap();
    assert_eq!(post["GANETI_EXPORT_MODE"], "local");
    assert_eq!(post["GANETI_EXPORT_NODE"], NODE_NAME);
    assert_eq!(post["GANETI_REMOVE_INSTANCE"], "True");
    assert_eq!(post["GANETI_INSTANCE_NAME"], I1);
    let out = super::hooks::record(&env, "instance-add");
    assert_eq!(r.result, json!([true, [true]]));
    assert!(
        env.cfg().instance_by_name(I1).is_none(),
        "removed after the export"
    );
    let r = env.ok(
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": I1, "mode": "import",
        "disk_template": "file", "disks": [], "nics": [], "pnode": NODE_NAME,
        "src_node": NODE_NAME, "src_path": I1, "compress": "gzip",
        "name_check": false, "ip_check": false, "start": false, "ignore_ipolicy": true}),
    );
    assert_eq!(r.result, json!([NODE_NAME]));
    let pre = super::hooks::read_env(&out, "instance-add", "pre").unwrap();
    assert_eq!(pre["GANETI_ADD_MODE"], "import");
    assert_eq!(pre["GANETI_SRC_NODE"], NODE_NAME);
    let export = env.m.paths.root().join("srv/ganeti/export").join(I1);
    assert_eq!(pre["GANETI_SRC_PATH"], export.display().to_string());
    assert!(
        pre["GANETI_SRC_IMAGES"].starts_with(&format!("['{}/", export.display())),
        "{}",
        pre["GANETI_SRC_IMAGES"]
    );
    let copied = std::fs::read(&env.disk_paths(I1)[0]).unwrap();
    assert!(copied.starts_with(b"hello backup"));
}

#[test]
fn export_refusals() {
    let env = Env::new();
    install_dump_os(&env);
    create_dump(&env, I1, false);
    let e = env.run(export_op("nosuch", json!({}))).unwrap_err();
    assert_eq!(e.message(), "Instance 'nosuch' not known");
    let (msg, class) = env.refused(export_op(I1, json!({"compress": "lzma"})));
    assert_eq!(
        msg,
        "Compression tool not allowed, tools allowed are [gzip, gzip-fast, gzip-slow]"
    );
    assert_eq!(class, "OpPrereqError");
    let e = env
        .run(export_op(I1, json!({"target_node": "nonode"})))
        .unwrap_err();
    assert_eq!(e.message(), "Node 'nonode' not known");
    let e = env
        .run(export_op(I1, json!({"mode": "remote"})))
        .unwrap_err();
    assert_eq!(e.message(), "Missing X509 key name for encryption");
    let e = env
        .run(export_op(I1, json!({"zeroing_timeout_fixed": 10})))
        .unwrap_err();
    assert!(e
        .message()
        .starts_with("Zeroing timeout options can only be used"));
    let e = env
        .run(export_op(
            I1,
            json!({"zero_free_space": true, "shutdown": false}),
        ))
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Unless the instance is shut down, zeroing cannot be used."
    );
    // a running instance on file disks cannot be snapshotted
    env.ok(op("OP_INSTANCE_STARTUP", I1, json!({})));
    let e = env
        .run(export_op(I1, json!({"shutdown": false})))
        .unwrap_err();
    assert_eq!(
        e.message(),
        "Not all disks could be snapshotted, and you requested a live export; aborting"
    );
    let e = env.run(export_op(I1, json!({}))).unwrap_err();
    assert!(
        e.message().contains("--long-sleep option; aborting"),
        "{}",
        e.message()
    );
    assert_eq!(export_list(&env), json!([]));
    // with --long-sleep: stopped for the export, started again
    let r = env.ok(export_op(I1, json!({"long_sleep": true})));
    assert_eq!(r.result, json!([true, [true]]));
    assert!(r
        .log
        .iter()
        .any(|l| l == &format!("Shutting down instance {I1}")));
    assert!(r
        .log
        .iter()
        .any(|l| l == &format!("Starting instance {I1}")));
    assert!(super::super::common::is_running(&env.m, &env.inst(I1)).unwrap());
    // removing a running instance needs the shutdown
    let (msg, _) = env.refused(export_op(
        I1,
        json!({"shutdown": false, "remove_instance": true}),
    ));
    assert_eq!(
        msg,
        "Can not remove instance without shutting it down before"
    );
}

#[test]
fn diskless_export_and_its_import() {
    let env = Env::new();
    install_dump_os(&env);
    env.create("dl", json!([]), false);
    let r = env.ok(export_op("dl", json!({})));
    assert_eq!(r.result, json!([true, []]));
    let import = |template: &str| {
        json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "dl2", "mode": "import",
            "disk_template": template, "disks": [], "nics": [], "pnode": NODE_NAME,
            "src_node": NODE_NAME, "src_path": "dl",
            "name_check": false, "ip_check": false, "start": false, "ignore_ipolicy": true})
    };
    let (msg, _) = env.refused(import("file"));
    assert_eq!(
        msg,
        "No disk info specified and the export is missing the disk information"
    );
    env.ok(import("diskless"));
    assert_eq!(env.inst("dl2").disk_template, "diskless");
}

#[test]
fn import_refusals() {
    let env = Env::new();
    let base = json!({"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "i2", "mode": "import",
        "disk_template": "file", "disks": [], "nics": [], "pnode": NODE_NAME,
        "name_check": false, "ip_check": false, "start": false, "ignore_ipolicy": true});
    let with = |extra: Value| {
        let mut o = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o
    };
    let (msg, _) = env.refused(with(
        json!({"src_node": NODE_NAME, "src_path": "/nonexistent/export"}),
    ));
    assert!(
        msg.starts_with("No export or invalid export found in dir /nonexistent/export"),
        "{msg}"
    );
    let (msg, _) = env.refused(with(json!({"src_path": "/abs/path"})));
    assert_eq!(
        msg,
        "Importing an instance from a path requires a source node option"
    );
    let (msg, _) = env.refused(with(json!({"src_path": "missing"})));
    assert_eq!(msg, "No export found for relative path missing");
    let (msg, _) = env.refused(with(json!({"disk_template": "plain",
        "disks": [{"adopt": "lv"}], "src_node": NODE_NAME})));
    assert_eq!(msg, "Disk adoption not allowed for instance import");
}

#[test]
fn export_remove_of_an_unknown_instance_hints_at_the_full_name() {
    let env = Env::new();
    let r = env.ok(op("OP_BACKUP_REMOVE", "gone", json!({})));
    assert!(r
        .log
        .iter()
        .any(|l| l.contains("please use its Fully Qualified Domain Name")));
    // prepare: local mode has nothing to prepare
    env.create(I1, json!([{"size": 1}]), false);
    let r = env.ok(op("OP_BACKUP_PREPARE", I1, json!({"mode": "local"})));
    assert_eq!(r.result, Value::Null);
}

#[test]
fn config_ini_is_what_the_import_reads() {
    let env = Env::new();
    env.create(I1, json!([{"size": 4}]), false);
    let cfg = env.cfg();
    let inst = env.inst(I1);
    let disks = vec![DumpedDisk {
        dump: inst.disks[0].clone(),
        iv_name: "disk/0".into(),
        size: 4,
        name: None,
        dev_type: "file".into(),
    }];
    let text = config_ini(&cfg, &inst, &disks, 1_700_000_000);
    assert!(text.starts_with(&format!(
        "[export]\nversion = 0\ntimestamp = 1700000000\nsource = {}\nos = noop\ncompression = none\n\n[instance]\nname = {I1}\n",
        inst.primary_node
    )), "{text}");
    for section in ["[hypervisor]", "[backend]", "[os]", "[os_private]"] {
        assert!(text.contains(section), "{section} in {text}");
    }
    assert!(text.contains("disk_template = file\n"));
    assert!(text.contains("disk0_name = None\n"));
    let ini = Ini::parse(&text).unwrap();
    let mut opcode =
        json!({"disk_template": "file", "disks": [], "nics": [], "beparams": {"vcpus": 2}})
            .as_object()
            .cloned()
            .unwrap();
    read_export_params(&ini, &mut opcode).unwrap();
    assert_eq!(opcode["os_type"], "noop");
    assert_eq!(opcode["disks"], json!([{"size": 4}]));
    assert_eq!(opcode["nics"], json!([]));
    // given parameters win over the export's
    assert_eq!(opcode["beparams"]["vcpus"], 2);
    assert!(opcode["beparams"].get("maxmem").is_some());
    assert_eq!(opcode["hypervisor"], "fake");
}
