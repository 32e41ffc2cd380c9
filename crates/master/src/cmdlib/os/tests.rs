//! `OP_OS_DIAGNOSE` and LUXI `Query("os")` against a real [`Master`] whose
//! local node has OS providers in its (temporary) search path.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ganeti_node::LocalNode;
use ganeti_types::{ConfigData, GanetiError, Job, OpStatus, Paths, QueuedOpCode};
use serde_json::{json, Value};

use super::legacy_filter;
use crate::cmdlib::cluster::checks::testcfg;
use crate::cmdlib::{check_at_submit, execute_with_hooks, locks, OpCtx};
use crate::jobs::JobCtl;
use crate::state::{Command, MasterState};
use crate::Master;

struct Env {
    dir: tempfile::TempDir,
    m: Arc<Master>,
}

impl Env {
    fn new(edit: impl FnOnce(&mut ConfigData)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::new(dir.path());
        let mut cfg = testcfg::config();
        edit(&mut cfg);
        {
            let store =
                ganeti_store::Store::open(&paths.store_dir(), MasterState::default).unwrap();
            store
                .propose_blocking(Command::Init(Box::new(cfg)))
                .unwrap();
        }
        let node = Arc::new(LocalNode::new(paths.clone()));
        let m = Master::open(paths, node).unwrap();
        Env { dir, m }
    }

    fn os_dir(&self, idx: usize) -> PathBuf {
        Paths::new(self.dir.path()).os_search_path()[idx].clone()
    }

    /// An OS declaring `api` with executable `scripts` in search dir `idx`.
    fn os(&self, idx: usize, name: &str, api: &str, scripts: &[&str]) -> PathBuf {
        let d = self.os_dir(idx).join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("ganeti_api_version"), api).unwrap();
        for s in scripts {
            let p = d.join(s);
            std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        d
    }

    /// The usual providers: `noop` (API 10), `image` (API 20, two
    /// variants, one parameter) and `broken` (no export script).
    fn with_providers(self) -> Self {
        self.os(
            3,
            "noop",
            "5\n10\n",
            &["create", "export", "import", "rename"],
        );
        let img = self.os(
            0,
            "image",
            "20\n",
            &["create", "export", "import", "rename", "verify"],
        );
        std::fs::write(img.join("variants.list"), "v2\nv10\nv1\n").unwrap();
        std::fs::write(img.join("parameters.list"), "url where the image is\n").unwrap();
        self.os(0, "broken", "20\n", &["create"]);
        self
    }

    fn diagnose(&self, op: Value) -> Result<Value, GanetiError> {
        let mut op = op;
        op["OP_ID"] = json!("OP_OS_DIAGNOSE");
        run(&self.m, op)
    }
}

/// Validate, check and execute one opcode as the job queue would.
fn run(m: &Master, op: Value) -> Result<Value, GanetiError> {
    let filled = ganeti_opschema::validate_and_fill(op.as_object().unwrap()).unwrap();
    check_at_submit(m, &filled)?;
    assert!(locks(m, &filled)?.is_empty(), "OS diagnose takes no locks");
    let mut job = Job {
        id: 1,
        ops: vec![QueuedOpCode {
            status: OpStatus::Running,
            ..QueuedOpCode::queued(filled)
        }],
        received_timestamp: ganeti_types::job::now_ts(),
        start_timestamp: None,
        end_timestamp: None,
        archived: false,
    };
    let ctl = JobCtl::default();
    let mut ctx = OpCtx::new(m, &mut job, 0, &ctl);
    execute_with_hooks(&mut ctx)
}

#[test]
fn no_provider_no_os() {
    let e = Env::new(|_| {});
    let r = e.diagnose(json!({"output_fields": ["name", "valid"]}));
    assert_eq!(r.unwrap(), json!([]));
}

#[test]
fn listing_leaves_out_invalid_oses_unless_validity_is_asked() {
    let e = Env::new(|_| {}).with_providers();
    let r = e.diagnose(json!({"output_fields": ["name", "variants"]}));
    assert_eq!(
        r.unwrap(),
        json!([["image", ["v1", "v2", "v10"]], ["noop", []]])
    );
    let r = e.diagnose(json!({"output_fields": ["name", "valid", "api_versions", "trusted"]}));
    assert_eq!(
        r.unwrap(),
        json!([
            ["broken", false, [], true],
            ["image", true, [20], true],
            ["noop", true, [5, 10], true]
        ])
    );
}

#[test]
fn hidden_and_blacklisted_oses() {
    let e = Env::new(|c| {
        c.cluster.hidden_os = vec!["noop".into()];
        c.cluster.blacklisted_os = vec!["image".into()];
        c.cluster.osparams = json!({"image+v1": {"url": "x"}, "image": {"url": "y"}})
            .as_object()
            .cloned()
            .unwrap();
    })
    .with_providers();
    assert_eq!(
        e.diagnose(json!({"output_fields": ["name"]})).unwrap(),
        json!([])
    );
    assert_eq!(
        e.diagnose(json!({"output_fields": ["name", "hidden"]}))
            .unwrap(),
        json!([["noop", true]])
    );
    assert_eq!(
        e.diagnose(json!({"output_fields": ["name", "hidden", "blacklisted", "osparams"]}))
            .unwrap(),
        json!([
            ["image", false, true, {"image+v1": {"url": "x"}}],
            ["noop", true, false, {}]
        ])
    );
}

#[test]
fn node_status_shows_every_directory_and_the_reason() {
    let e = Env::new(|_| {}).with_providers();
    // a shadowed copy of noop in a later directory
    e.os(3, "image", "10\n", &[]);
    let r = e
        .diagnose(json!({"output_fields": ["name", "node_status"], "names": ["image"]}))
        .unwrap();
    let image0 = e.os_dir(0).join("image");
    let image3 = e.os_dir(3).join("image");
    let disp = |p: &Path| p.display().to_string();
    assert_eq!(
        r,
        json!([["image", {testcfg::NODE: [
            [disp(&image0), true, "", ["v2", "v10", "v1"], [["url", "where the image is"]], [20], true],
            [disp(&image3), false,
             format!("File 'export' under path '{}' is missing (ENOENT)", disp(&image3)),
             [], [], [], true]
        ]}]])
    );
    let r = e
        .diagnose(json!({"output_fields": ["name", "valid", "node_status"], "names": ["broken"]}))
        .unwrap();
    let broken = disp(&e.os_dir(0).join("broken"));
    assert_eq!(
        r[0][2][testcfg::NODE][0][2],
        json!(format!(
            "File 'export' under path '{broken}' is missing (ENOENT)"
        ))
    );
}

#[test]
fn names_restrict_the_listing() {
    let e = Env::new(|_| {}).with_providers();
    let r = e.diagnose(json!({"output_fields": ["name"], "names": ["noop", "broken", "nosuch"]}));
    // with the legacy filter in force, unknown and invalid names just drop out
    assert_eq!(r.unwrap(), json!([["noop"]]));
    // without it, the names come in the order given, and must all exist
    let all = ["name", "valid", "hidden", "blacklisted"];
    let r = e.diagnose(json!({"output_fields": all, "names": ["noop", "broken"]}));
    assert_eq!(
        r.unwrap(),
        json!([
            ["noop", true, false, false],
            ["broken", false, false, false]
        ])
    );
    let err = e
        .diagnose(json!({"output_fields": all, "names": ["noop", "nosuch"]}))
        .unwrap_err();
    assert_eq!(
        err.encode(),
        json!([
            "OpExecError",
            ["Some items were removed before retrieving their data: {'nosuch'}"]
        ])
    );
}

#[test]
fn unknown_fields_fail_the_job() {
    let e = Env::new(|_| {}).with_providers();
    let err = e
        .diagnose(json!({"output_fields": ["name", "frob"]}))
        .unwrap_err();
    assert_eq!(
        err.encode(),
        json!([
            "OpPrereqError",
            ["Unknown output fields selected: frob", "wrong_input"]
        ])
    );
}

#[test]
fn nodes_that_are_not_vm_capable_are_not_asked() {
    let e = Env::new(|c| {
        for n in c.nodes.values_mut() {
            n.vm_capable = false;
        }
    })
    .with_providers();
    let r = e.diagnose(json!({"output_fields": ["name", "valid"]}));
    assert_eq!(r.unwrap(), json!([]));
}

#[test]
fn luxi_query_of_the_os_resource() {
    let e = Env::new(|_| {}).with_providers();
    let fields: Vec<String> = ["name", "valid", "variants"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let r = crate::querying::query(&e.m, "os", &fields, None).unwrap();
    assert_eq!(
        r["data"],
        json!([
            [[0, "broken"], [0, false], [0, []]],
            [[0, "image"], [0, true], [0, ["v1", "v2", "v10"]]],
            [[0, "noop"], [0, true], [0, []]]
        ])
    );
    let filter = json!(["=", "name", "noop"]);
    let r = crate::querying::query(&e.m, "os", &fields, Some(&filter)).unwrap();
    assert_eq!(r["data"], json!([[[0, "noop"], [0, true], [0, []]]]));
}

#[test]
fn legacy_filter_shapes() {
    let f = |fields: &[&str], names: &[&str]| {
        legacy_filter(
            &fields.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        f(&["name"], &[]),
        Some(json!([
            "&",
            ["!", ["?", "hidden"]],
            ["!", ["?", "blacklisted"]],
            ["?", "valid"]
        ]))
    );
    assert_eq!(
        f(&["name", "valid", "hidden"], &[]),
        Some(json!(["&", ["!", ["?", "blacklisted"]]]))
    );
    assert_eq!(f(&["valid", "hidden", "blacklisted"], &[]), None);
    assert_eq!(
        f(&["valid", "hidden", "blacklisted"], &["a", "b"]),
        Some(json!(["|", ["=", "name", "a"], ["=", "name", "b"]]))
    );
    assert_eq!(
        f(&["valid", "hidden"], &["a"]),
        Some(json!([
            "&",
            ["|", ["=", "name", "a"]],
            ["&", ["!", ["?", "blacklisted"]]]
        ]))
    );
}
