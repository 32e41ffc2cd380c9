//! Disk activation and recreation, reinstall and batch creation through
//! the real tools on a single-node cluster: what an operator types, what
//! Ganeti prints, and that every refusal leaves the cluster as it was.

use std::path::PathBuf;

use ganeti_e2e::{Cluster, Run};

const INST: &str = "inst2.example.com";

fn prereq_failure(class: &str, detail: &str) -> String {
    format!(
        "Failure: prerequisites not met for this operation:\nerror type: {class}, error details:\n{detail}\n"
    )
}

#[track_caller]
fn refused(r: &Run) -> &str {
    assert_eq!(r.rc, 1, "expected a failure: {r:?}");
    &r.stderr
}

/// A stopped file instance with one disk of `size`; its disk file.
fn add_file_instance(c: &Cluster, name: &str, size: &str) -> PathBuf {
    c.gnt(&[
        "gnt-instance",
        "add",
        "-t",
        "file",
        "--disk",
        &format!("0:size={size}"),
        "-o",
        "noop",
        "--no-name-check",
        "--no-ip-check",
        "--ignore-ipolicy",
        "--no-start",
        name,
    ])
    .ok();
    c.file_disk(name, 0)
}

fn field(c: &Cluster, name: &str, fields: &str) -> String {
    c.gnt(&["gnt-instance", "list", "--no-headers", "-o", fields, name])
        .ok()
        .trim_end()
        .to_string()
}

#[test]
fn activate_and_deactivate_disks() {
    let c = Cluster::init();
    let disk = add_file_instance(&c, INST, "128M");

    let out = c.gnt(&["gnt-instance", "activate-disks", INST]);
    assert_eq!(
        out.ok(),
        format!("node1.example.com:disk/0:{}\n", disk.display())
    );
    assert_eq!(field(&c, INST, "disks_active"), "Y");
    assert_eq!(c.gnt(&["gnt-instance", "deactivate-disks", INST]).ok(), "");
    assert_eq!(field(&c, INST, "disks_active"), "N");
    assert!(disk.is_file(), "deactivation must not touch the disk");

    // a missing disk file: activation fails and leaves the disks inactive
    let moved = disk.with_extension("moved");
    std::fs::rename(&disk, &moved).unwrap();
    let r = c.gnt(&["gnt-instance", "activate-disks", INST]);
    assert_eq!(
        refused(&r),
        "Failure: command execution error:\nCannot activate block devices\n"
    );
    assert!(
        r.stdout
            .contains("WARNING: Could not prepare block device disk/0"),
        "{}",
        r.stdout
    );
    assert_eq!(field(&c, INST, "disks_active"), "N");
    std::fs::rename(&moved, &disk).unwrap();

    // a running instance: refused unless forced
    c.gnt(&["gnt-instance", "startup", INST]).ok();
    let r = c.gnt(&["gnt-instance", "deactivate-disks", INST]);
    assert_eq!(
        refused(&r),
        prereq_failure(
            "wrong_state",
            &format!("Instance '{INST}' is marked to be up, cannot shutdown disks")
        )
    );
    c.gnt(&["gnt-instance", "deactivate-disks", "-f", INST])
        .ok();
    assert_eq!(field(&c, INST, "status"), "running");

    // unknown instances
    for cmd in ["activate-disks", "deactivate-disks", "recreate-disks"] {
        let r = c.gnt(&["gnt-instance", cmd, "nosuch.example.com"]);
        assert_eq!(
            refused(&r),
            prereq_failure("unknown_entity", "Instance 'nosuch.example.com' not known"),
            "{cmd}"
        );
    }
}

#[test]
fn recreate_disks_only_recreates_missing_disks() {
    let c = Cluster::init();
    let disk = add_file_instance(&c, INST, "128M");

    // the disk exists: refused, nothing touched
    std::fs::write(&disk, b"precious").unwrap();
    let r = c.gnt(&["gnt-instance", "recreate-disks", INST]);
    assert!(
        refused(&r).starts_with(&format!(
            "Failure: command execution error:\nCan't create block device disk/0 on node node1.example.com for instance {INST}: "
        )) && r.stderr.contains("only missing disks are recreated"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&disk).unwrap(), b"precious");

    // bad requests, refused before anything is done
    std::fs::remove_file(&disk).unwrap();
    let r = c.gnt(&["gnt-instance", "recreate-disks", "--disk", "5", INST]);
    assert_eq!(
        refused(&r),
        prereq_failure("wrong_input", "Invalid disk index '5'")
    );
    let r = c.gnt(&[
        "gnt-instance",
        "recreate-disks",
        "--disk",
        "0:vg=xenvg",
        INST,
    ]);
    assert_eq!(
        refused(&r),
        prereq_failure(
            "wrong_input",
            "Parameters for disk 0 try to change unmodifyable parameter(s): vg"
        )
    );
    let r = c.gnt(&["gnt-instance", "recreate-disks", "-I", "hail", INST]);
    assert_eq!(
        refused(&r),
        "Failure: command execution error:\nFailure while running the iallocator script: iallocator module 'hail' not found in the search path\n"
    );
    assert!(!disk.exists());
    assert_eq!(field(&c, INST, "disk.sizes"), "128");

    // missing: recreated, here with a new size, on the node named
    c.gnt(&[
        "gnt-instance",
        "recreate-disks",
        "--disk",
        "0:size=256M",
        "-n",
        "node1.example.com",
        INST,
    ])
    .ok();
    assert_eq!(std::fs::metadata(&disk).unwrap().len(), 256 << 20);
    assert_eq!(field(&c, INST, "disk.sizes"), "256");
    c.gnt(&["gnt-instance", "startup", INST]).ok();

    // running: refused
    let r = c.gnt(&["gnt-instance", "recreate-disks", INST]);
    assert_eq!(
        refused(&r),
        prereq_failure(
            "wrong_state",
            &format!("Instance '{INST}' is marked to be up, cannot recreate disks")
        )
    );
}

#[test]
fn reinstall_checks_state_and_os_and_records_them() {
    let c = Cluster::init();
    add_file_instance(&c, INST, "64M");
    c.gnt(&["gnt-instance", "startup", INST]).ok();
    // reinstall follows its jobs as Ganeti's JobExecutor does
    let r = c.gnt(&["gnt-instance", "reinstall", "-f", INST]);
    let err = refused(&r);
    assert!(
        err.starts_with("Job ")
            && err.ends_with(&format!(
                " for {INST} has failed: {}",
                prereq_failure(
                    "wrong_state",
                    &format!("Instance '{INST}' is marked to be up, cannot reinstall")
                )
            )),
        "{err}"
    );
    c.gnt(&["gnt-instance", "shutdown", INST]).ok();

    // an OS that is not installed: refused, OS unchanged
    let r = c.gnt(&["gnt-instance", "reinstall", "-f", "-o", "nosuch", INST]);
    assert!(
        refused(&r).contains("Directory for OS nosuch not found in search path"),
        "{}",
        r.stderr
    );
    assert_eq!(field(&c, INST, "os"), "noop");

    // OS parameters must be ones the OS declares, checked at submit
    let r = c.gnt(&["gnt-instance", "reinstall", "-f", "-O", "a=1,b=2", INST]);
    assert!(
        refused(&r).contains("The following parameters are not supported by the OS noop: a, b"),
        "{}",
        r.stderr
    );
    std::fs::write(
        c.root().join("srv/ganeti/os/noop/parameters.list"),
        "a the first\nb the second\n",
    )
    .unwrap();
    let r = c.gnt(&["gnt-instance", "reinstall", "-f", "-O", "a=1,b=2", INST]);
    assert!(r.ok().starts_with("Waiting for job "), "{}", r.stdout);
    c.gnt(&[
        "gnt-instance",
        "reinstall",
        "-f",
        "-o",
        "noop",
        "-O",
        "b=default",
        INST,
    ])
    .ok();
    assert_eq!(field(&c, INST, "os,osparams"), "noop {'a': '1'}");

    // a diskless instance cannot be reinstalled (Ganeti)
    c.add_instance("dl.example.com", &["-t", "diskless", "--no-start"])
        .ok();
    let r = c.gnt(&["gnt-instance", "reinstall", "-f", "dl.example.com"]);
    assert!(
        refused(&r).ends_with(&prereq_failure(
            "wrong_input",
            "Instance 'dl.example.com' has no disks"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn batch_create_submits_one_job_per_instance() {
    let c = Cluster::init();
    let def = |name: &str| {
        serde_json::json!({"instance_name": name, "mode": "create", "disk_template": "diskless",
            "disks": [], "nics": [], "os_type": "noop", "pnode": "node1", "name_check": false,
            "ip_check": false, "start": false, "ignore_ipolicy": true})
    };
    let file = c.root().join("batch.json");
    std::fs::write(
        &file,
        serde_json::json!([def("b1.example.com"), def("b2.example.com")]).to_string(),
    )
    .unwrap();
    let path = file.display().to_string();
    let r = c.gnt(&["gnt-instance", "batch-create", &path]);
    let out = r.ok();
    assert!(out.starts_with("Submitted jobs "), "{out}");
    assert!(
        out.ends_with("All instances created successfully.\n"),
        "{out}"
    );
    let names = c
        .gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"])
        .ok()
        .to_string();
    assert_eq!(names, "b1.example.com\nb2.example.com\n");

    // the same again: both creations fail, and the tool says so
    let r = c.gnt(&["gnt-instance", "batch-create", &path]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stdout
            .ends_with("There were 2 errors during the creation.\n"),
        "{r:?}"
    );
    // a bad request is refused as a whole, before any job
    std::fs::write(
        &file,
        serde_json::json!([def("b3.example.com"), def("b3.example.com")]).to_string(),
    )
    .unwrap();
    let r = c.gnt(&["gnt-instance", "batch-create", &path]);
    assert_eq!(
        refused(&r),
        prereq_failure(
            "wrong_input",
            "There are duplicate instance names: b3.example.com"
        )
    );
    assert_eq!(
        c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"])
            .ok(),
        names
    );
}
