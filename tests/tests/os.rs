//! OS providers on a real cluster: `gnt-os list/info/diagnose` see what
//! the node finds in its OS search path, broken providers are reported
//! with Ganeti's reason, hidden/blacklisted OSes leave the listing, OS
//! parameters are checked by the OS before a job is queued (instance
//! modify, `gnt-os modify`, batch-create), and secret parameters of a
//! batch-create reach the create script and nothing else.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ganeti_e2e::Cluster;

/// An OS under `<root>/<search_dir>/<name>` declaring `api`, with
/// executable `scripts`.
fn install_os(c: &Cluster, search_dir: &str, name: &str, api: &str, scripts: &[&str]) -> PathBuf {
    let dir = c.root().join(search_dir).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ganeti_api_version"), api).unwrap();
    for s in scripts {
        let p = dir.join(s);
        std::fs::write(&p, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn node_uuid(c: &Cluster) -> String {
    c.gnt(&["gnt-node", "list", "--no-headers", "-o", "uuid"])
        .ok()
        .trim()
        .to_string()
}

fn disp(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn the_harness_noop_os_is_listed_and_valid() {
    let c = Cluster::init();
    assert_eq!(c.gnt(&["gnt-os", "list"]).ok(), "Name\nnoop\n");
    assert_eq!(c.gnt(&["gnt-os", "list", "--no-headers"]).ok(), "noop\n");
    assert_eq!(
        c.gnt(&["gnt-os", "info", "noop"]).ok(),
        "noop:\n  - valid: True\n  - hidden: False\n  - blacklisted: False\n  \
         - API versions:\n    - 20\n  - variants:\n  - parameters:\n  - trusted: True\n\n"
    );
    let noop = c.root().join("srv/ganeti/os/noop");
    assert_eq!(
        c.gnt(&["gnt-os", "diagnose"]).ok(),
        format!(
            "OS: noop [global status: valid]\n  Node: {}, status: valid (path: {}) \
             [API versions: 20] [no variants] [no parameters] [trusted]\n\n",
            node_uuid(&c),
            disp(&noop)
        )
    );
}

#[test]
fn broken_providers_are_diagnosed_and_not_listed() {
    let c = Cluster::init();
    let uuid = node_uuid(&c);
    // no export script
    let broken = install_os(
        &c,
        "usr/share/ganeti/os",
        "broken",
        "20\n",
        &["create", "import", "rename", "verify"],
    );
    // API 15 with variants and an untrusted installer
    let image = install_os(
        &c,
        "usr/local/lib/ganeti/os",
        "image",
        "15\n",
        &["create_untrusted", "export", "import", "rename"],
    );
    std::fs::write(
        image.join("variants.list"),
        "# comment\nbullseye\nbookworm\n",
    )
    .unwrap();
    // an API version this release does not implement
    let future = install_os(&c, "usr/lib/ganeti/os", "future", "30\n", &[]);

    assert_eq!(
        c.gnt(&["gnt-os", "list"]).ok(),
        "Name          \nimage+bookworm\nimage+bullseye\nnoop\n"
    );
    let r = c.gnt(&["gnt-os", "diagnose"]);
    assert_eq!(r.rc, 1, "{r:?}");
    let expect_broken = format!(
        "OS: broken [global status: invalid]\n  Node: {uuid}, status: invalid - File 'export' \
         under path '{0}' is missing (ENOENT) (path: {0}) [no API versions declared] [trusted]\n",
        disp(&broken)
    );
    assert!(r.stdout.contains(&expect_broken), "{}", r.stdout);
    let expect_future = format!(
        "OS: future [global status: invalid]\n  Node: {uuid}, status: invalid - API version \
         mismatch for path '{0}': found [30], want frozenset({{10, 20, 15}}). (path: {0}) \
         [no API versions declared] [trusted]\n",
        disp(&future)
    );
    assert!(r.stdout.contains(&expect_future), "{}", r.stdout);
    let expect_image = format!(
        "OS: image [global status: valid]\n  Variants: [bookworm, bullseye]\n  Node: {uuid}, \
         status: valid (path: {}) [API versions: 15] [variants: bullseye, bookworm] [untrusted]\n",
        disp(&image)
    );
    assert!(r.stdout.contains(&expect_image), "{}", r.stdout);

    // info shows the invalid OS too, without its details
    let info = c.gnt(&["gnt-os", "info", "broken"]).ok().to_string();
    assert_eq!(
        info,
        "broken:\n  - valid: False\n  - hidden: False\n  - blacklisted: False\n  - trusted: True\n\n"
    );

    // repairing the provider makes it valid at once (nothing is cached)
    install_os(&c, "usr/share/ganeti/os", "broken", "20\n", &["export"]);
    std::fs::write(broken.join("parameters.list"), "size disk size\n").unwrap();
    assert!(c
        .gnt(&["gnt-os", "list", "--no-headers"])
        .ok()
        .contains("broken\n"));
    std::fs::remove_dir_all(&future).unwrap();
    assert_eq!(c.gnt(&["gnt-os", "diagnose"]).rc, 0);
}

#[test]
fn hidden_and_blacklisted_oses_leave_the_listing() {
    let c = Cluster::init();
    install_os(
        &c,
        "srv/ganeti/os",
        "other",
        "10\n",
        &["create", "export", "import", "rename"],
    );
    assert_eq!(c.gnt(&["gnt-os", "list"]).ok(), "Name \nnoop\nother\n");
    c.gnt(&["gnt-os", "modify", "--hidden", "yes", "noop"]).ok();
    c.gnt(&["gnt-os", "modify", "--blacklisted", "yes", "other"])
        .ok();
    assert_eq!(c.gnt(&["gnt-os", "list"]).ok(), "Name\n");
    let diag = c.gnt(&["gnt-os", "diagnose"]).ok().to_string();
    assert!(
        diag.contains("OS: noop [global status: valid] [hidden]\n"),
        "{diag}"
    );
    assert!(
        diag.contains("OS: other [global status: valid] [blacklisted]\n"),
        "{diag}"
    );
    let info = c.gnt(&["gnt-os", "info", "other"]).ok().to_string();
    assert!(info.contains("  - blacklisted: True\n"), "{info}");
    c.gnt(&["gnt-os", "modify", "--hidden", "no", "noop"]).ok();
    assert_eq!(c.gnt(&["gnt-os", "list"]).ok(), "Name\nnoop\n");
}

const INST: &str = "inst1.example.com";

/// A valid API 20 OS `name` with parameters `size` and `root-pw`: its
/// verify script refuses `size=bad` ("size must be a number"), its create
/// script writes the OSP_* variables it got to `<record>/<instance>.env`
/// (outside the cluster root, which must not hold secrets).
fn install_checked_os(c: &Cluster, name: &str, record: &Path) -> PathBuf {
    let dir = install_os(
        c,
        "srv/ganeti/os",
        name,
        "20\n",
        &["export", "import", "rename"],
    );
    std::fs::write(
        dir.join("parameters.list"),
        "size the disk size\nroot-pw the root password\n",
    )
    .unwrap();
    let scripts = [
        (
            "verify",
            "#!/bin/sh\nif [ \"$OSP_SIZE\" = bad ]; then echo \"size must be a number\"; exit 1; fi\nexit 0\n"
                .to_string(),
        ),
        (
            "create",
            format!(
                "#!/bin/sh\nenv | grep '^OSP_' | sort > '{}'/\"$INSTANCE_NAME\".env\nexit 0\n",
                record.display()
            ),
        ),
    ];
    for (script, body) in scripts {
        let p = dir.join(script);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

fn job_count(c: &Cluster) -> usize {
    c.gnt(&["gnt-job", "list", "--no-headers", "-o", "id"])
        .ok()
        .lines()
        .count()
}

/// Run a command that must fail before any job is queued; its stderr.
#[track_caller]
fn refused_unqueued(c: &Cluster, argv: &[&str]) -> String {
    let before = job_count(c);
    let r = c.gnt(argv);
    assert_eq!(r.rc, 1, "expected a refusal: {r:?}");
    assert_eq!(job_count(c), before, "a job was queued: {r:?}");
    r.stderr
}

fn exec_failure(detail: &str) -> String {
    format!("Failure: command execution error:\n{detail}\n")
}

fn os_field(c: &Cluster, fields: &str) -> String {
    c.gnt(&["gnt-instance", "list", "--no-headers", "-o", fields, INST])
        .ok()
        .trim_end()
        .to_string()
}

#[test]
fn instance_modify_checks_os_parameters_before_queueing() {
    let c = Cluster::init();
    let record = tempfile::tempdir().unwrap();
    install_checked_os(&c, "checked", record.path());
    c.gnt(&[
        "gnt-instance",
        "add",
        "-o",
        "checked",
        "-t",
        "diskless",
        "--no-name-check",
        "--no-ip-check",
        "--no-start",
        INST,
    ])
    .ok();

    let failed = "OS Parameters validation failed on node node1.example.com";
    assert_eq!(
        refused_unqueued(&c, &["gnt-instance", "modify", "-O", "size=bad", INST]),
        exec_failure(&format!(
            "{failed}: OS validation script failed (exited with exit code 1), output: size must be a number"
        ))
    );
    assert_eq!(
        refused_unqueued(
            &c,
            &[
                "gnt-instance",
                "modify",
                "--os-parameters-private",
                "colour=red",
                INST
            ]
        ),
        exec_failure(&format!(
            "{failed}: The following parameters are not supported by the OS checked: colour"
        ))
    );
    assert_eq!(
        refused_unqueued(&c, &["gnt-instance", "modify", "-o", "frobos", INST]),
        exec_failure(&format!(
            "{failed}: Directory for OS frobos not found in search path"
        ))
    );
    assert_eq!(
        refused_unqueued(
            &c,
            &[
                "gnt-instance",
                "modify",
                "-O",
                "size=1",
                "--os-parameters-private",
                "size=2",
                INST
            ]
        ),
        "Failure: prerequisites not met for this operation:\nerror type: wrong_input, \
         error details:\nOS parameters repeated multiple times: size\n"
    );
    assert_eq!(os_field(&c, "os,osparams"), "checked {}");

    // good values pass; a private value is never shown
    let out = c
        .gnt(&[
            "gnt-instance",
            "modify",
            "-O",
            "size=10",
            "--os-parameters-private",
            "root-pw=hunter2",
            INST,
        ])
        .ok()
        .to_string();
    assert!(
        out.starts_with(&format!(
            "Modified instance {INST}\n - os/size -> 10\n - os_private/root-pw -> Private(?, descr='root-pw')\n"
        )),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
    assert_eq!(os_field(&c, "osparams"), "{'size': '10'}");
    // forced: the OS name is recorded unchecked
    c.gnt(&["gnt-instance", "modify", "-o", "frobos", "--force", INST])
        .ok();
    assert_eq!(os_field(&c, "os"), "frobos");
}

#[test]
fn gnt_os_modify_checks_parameters_and_edits_the_os_lists() {
    let c = Cluster::init();
    let record = tempfile::tempdir().unwrap();
    install_checked_os(&c, "checked", record.path());
    assert_eq!(
        refused_unqueued(&c, &["gnt-os", "modify", "-O", "size=bad", "checked"]),
        exec_failure(
            "OS Parameters validation failed on node node1.example.com: OS validation script \
             failed (exited with exit code 1), output: size must be a number"
        )
    );
    assert_eq!(
        refused_unqueued(&c, &["gnt-os", "modify", "-O", "colour=red", "checked"]),
        exec_failure(
            "OS Parameters validation failed on node node1.example.com: The following \
             parameters are not supported by the OS checked: colour"
        )
    );
    assert_eq!(
        c.gnt(&["gnt-os", "modify", "-O", "size=10", "checked"])
            .ok(),
        ""
    );
    // an OS the node does not have: kept, with Ganeti's note
    let out = c
        .gnt(&["gnt-os", "modify", "-O", "x=1", "frobos"])
        .ok()
        .to_string();
    assert!(
        out.ends_with(
            " - INFO: OS frobos not found on node node1.example.com, validation skipped\n"
        ),
        "{out}"
    );
    let info = c.gnt(&["gnt-cluster", "info"]).ok().to_string();
    assert!(
        info.contains("OS parameters: \n  checked: \n    size: 10\n  frobos: \n    x: 1\n"),
        "{info}"
    );
    // the cluster-level value is what instances of the OS get
    c.gnt(&[
        "gnt-instance",
        "add",
        "-o",
        "checked",
        "-t",
        "file",
        "--disk",
        "0:size=4M",
        "--no-name-check",
        "--no-ip-check",
        "--ignore-ipolicy",
        "--no-start",
        INST,
    ])
    .ok();
    let seen = std::fs::read_to_string(record.path().join(format!("{INST}.env"))).unwrap();
    assert_eq!(seen, "OSP_SIZE=10\n");

    // hidden/blacklisted edits, any name, with Ganeti's notes when nothing changes
    assert_eq!(
        c.gnt(&["gnt-os", "modify", "--hidden", "yes", "noop"]).ok(),
        ""
    );
    let out = c
        .gnt(&["gnt-os", "modify", "--hidden", "yes", "noop"])
        .ok()
        .to_string();
    assert!(
        out.ends_with(" OS noop already in hidden OS list, ignoring\n"),
        "{out}"
    );
    let out = c
        .gnt(&["gnt-os", "modify", "--blacklisted", "no", "noop"])
        .ok()
        .to_string();
    assert!(
        out.ends_with(" OS noop not found in blacklisted OS list, ignoring\n"),
        "{out}"
    );
    c.gnt(&["gnt-os", "modify", "--blacklisted", "yes", "frobos"])
        .ok();
    let info = c.gnt(&["gnt-cluster", "info"]).ok().to_string();
    assert!(info.contains("Hidden OSes: noop\n"), "{info}");
    assert!(info.contains("Blacklisted OSes: frobos\n"), "{info}");
    // nothing asked
    let r = c.gnt(&["gnt-os", "modify", "noop"]);
    assert_eq!(r.rc, 1, "{r:?}");
    assert_eq!(
        r.stderr,
        "At least one of OS parameters or hypervisor parameters must be passed\n"
    );
}

/// Every regular file below `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file() {
                let data = std::fs::read(&path).unwrap_or_default();
                if data.windows(needle.len()).any(|w| w == needle) {
                    found.push(path);
                }
            }
        }
    }
    found
}

#[test]
fn batch_create_secrets_reach_the_create_script_and_nothing_else() {
    let c = Cluster::init();
    let record = tempfile::tempdir().unwrap();
    install_checked_os(&c, "checked", record.path());
    let secret = "Zq9-batch-secret-7731";
    let def = |name: &str, extra: serde_json::Value| {
        let mut d = serde_json::json!({"instance_name": name, "mode": "create",
            "disk_template": "file", "disks": [{"size": 4}], "nics": [], "os_type": "checked",
            "pnode": "node1.example.com", "name_check": false, "ip_check": false,
            "start": false, "ignore_ipolicy": true});
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        d
    };
    let file = record.path().join("instances.json");
    let write = |defs: serde_json::Value| std::fs::write(&file, defs.to_string()).unwrap();
    let file_arg = file.display().to_string();

    // one bad value refuses the whole request before anything is queued
    write(serde_json::json!([
        def(
            "ma1.example.com",
            serde_json::json!({"osparams_secret": {"root-pw": secret}})
        ),
        def(
            "ma2.example.com",
            serde_json::json!({"osparams": {"size": "bad"}})
        ),
    ]));
    assert_eq!(
        refused_unqueued(&c, &["gnt-instance", "batch-create", &file_arg]),
        exec_failure(
            "OS Parameters validation failed on node node1.example.com: OS validation script \
             failed (exited with exit code 1), output: size must be a number"
        )
    );

    write(serde_json::json!([
        def(
            "ma1.example.com",
            serde_json::json!({"osparams": {"size": "10"}, "osparams_secret": {"root-pw": secret}})
        ),
        def("ma2.example.com", serde_json::json!({})),
    ]));
    let out = c
        .gnt(&["gnt-instance", "batch-create", &file_arg])
        .ok()
        .to_string();
    assert!(
        out.ends_with("All instances created successfully.\n"),
        "{out}"
    );
    let seen =
        |name: &str| std::fs::read_to_string(record.path().join(format!("{name}.env"))).unwrap();
    assert_eq!(
        seen("ma1.example.com"),
        format!("OSP_ROOT_PW={secret}\nOSP_SIZE=10\n")
    );
    assert_eq!(seen("ma2.example.com"), "");
    // the stored multi-allocation shows the marker only
    let ids = c
        .gnt(&["gnt-job", "list", "--no-headers", "-o", "id"])
        .ok()
        .to_string();
    let mut argv = vec!["gnt-job", "info"];
    argv.extend(ids.split_whitespace());
    let info = c.gnt(&argv).ok().to_string();
    assert!(info.contains("root-pw: <redacted>"), "{info}");
    assert!(!info.contains(secret), "{info}");
    // no job file, log, config or export anywhere in the cluster root has it
    let leaks = files_containing(c.root(), secret.as_bytes());
    assert!(leaks.is_empty(), "the secret was written to {leaks:?}");
    // (the search does reach the stored jobs: their marker is found)
    assert!(!files_containing(c.root(), b"root-pw\":\"<redacted>").is_empty());
}
