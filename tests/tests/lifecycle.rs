//! An operator's day on a single-node cluster: init, create, list, stop,
//! start, reboot, rename, modify, grow, remove, destroy.

use ganeti_e2e::Cluster;

fn file_of(c: &Cluster, inst: &str) -> std::path::PathBuf {
    let dir = c.root().join("srv/ganeti/file-storage").join(inst);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.remove(0)
}

#[test]
fn instance_lifecycle_end_to_end() {
    let c = Cluster::init();
    // crypto files exist, owner-only
    for f in [
        "server.pem",
        "rapi.pem",
        "spice.pem",
        "spice-ca.pem",
        "client.pem",
        "hmac.key",
        "cluster-domain-secret",
    ] {
        let p = c.root().join("var/lib/ganeti").join(f);
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&p).unwrap().permissions());
        assert_eq!(mode & 0o077, 0, "{f} is readable by others: {mode:o}");
    }
    assert!(!c.gnt(&["gnt-cluster", "getmaster"]).ok().trim().is_empty());

    let out = c.add_instance("inst1.example.com", &["-t", "diskless", "--ignore-ipolicy"]);
    out.ok();
    assert!(
        out.stdout.contains("* starting instance..."),
        "{}",
        out.stdout
    );
    let out = c.add_instance(
        "inst2.example.com",
        &[
            "-t",
            "file",
            "--disk",
            "0:size=128M",
            "--ignore-ipolicy",
            "--no-start",
        ],
    );
    out.ok();
    assert!(out.stdout.contains("* disk 0, size 128M"), "{}", out.stdout);
    let f = file_of(&c, "inst2.example.com");
    assert_eq!(std::fs::metadata(&f).unwrap().len(), 128 * 1024 * 1024);

    let list = c.gnt(&["gnt-instance", "list"]);
    let lines: Vec<&str> = list.ok().lines().collect();
    assert_eq!(
        lines[0], "Instance          Hypervisor OS   Primary_node      Status     Memory",
        "{}",
        list.stdout
    );
    assert!(
        lines[1].starts_with("inst1.example.com fake       noop "),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("running") && lines[1].ends_with("128M"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("ADMIN_down") && lines[2].ends_with("-"),
        "{}",
        lines[2]
    );

    let sep = c.gnt(&[
        "gnt-instance",
        "list",
        "--no-headers",
        "--separator=|",
        "-o",
        "name,status,disk.sizes,be/memory",
        "--units=g",
    ]);
    // as Ganeti: unit fields converted, disk.sizes (a list) printed as is, no suffix with --separator
    assert_eq!(
        sep.ok(),
        "inst1.example.com|running||0.1\ninst2.example.com|ADMIN_down|128|0.1\n"
    );

    // lifecycle
    c.gnt(&["gnt-instance", "shutdown", "inst1.example.com"])
        .ok();
    c.gnt(&["gnt-instance", "startup", "inst2.example.com"])
        .ok();
    let st = c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name,status"]);
    assert_eq!(
        st.ok(),
        "inst1.example.com ADMIN_down\ninst2.example.com running\n"
    );
    c.gnt(&["gnt-instance", "reboot", "--type=hard", "inst2.example.com"])
        .ok();

    // rename: refused while up (wrong_state), fine when stopped
    let r = c.gnt(&[
        "gnt-instance",
        "rename",
        "-f",
        "--no-name-check",
        "--no-ip-check",
        "inst2.example.com",
        "renamed1.example.com",
    ]);
    assert_eq!(r.rc, 1);
    assert_eq!(
        r.stderr,
        "Failure: prerequisites not met for this operation:\nerror type: wrong_state, error details:\nInstance 'inst2.example.com' is marked to be up, cannot rename\n"
    );
    c.gnt(&["gnt-instance", "shutdown", "inst2.example.com"])
        .ok();
    let r = c.gnt(&[
        "gnt-instance",
        "rename",
        "-f",
        "--no-name-check",
        "--no-ip-check",
        "inst2.example.com",
        "renamed1.example.com",
    ]);
    assert_eq!(
        r.ok(),
        "Instance 'inst2.example.com' renamed to 'renamed1.example.com'\n"
    );
    assert!(!c
        .root()
        .join("srv/ganeti/file-storage/inst2.example.com")
        .exists());
    let f = file_of(&c, "renamed1.example.com");

    // modify
    let m = c.gnt(&[
        "gnt-instance",
        "modify",
        "--ignore-ipolicy",
        "-B",
        "memory=512,vcpus=2",
        "renamed1.example.com",
    ]);
    assert!(
        m.ok().starts_with(
            "Modified instance renamed1.example.com\n - be/memory -> 512\n - be/vcpus -> 2\n"
        ),
        "{}",
        m.stdout
    );
    let info = c.gnt(&[
        "gnt-instance",
        "list",
        "--no-headers",
        "-o",
        "be/maxmem,be/vcpus",
        "renamed1.example.com",
    ]);
    assert_eq!(
        info.ok().split_whitespace().collect::<Vec<_>>(),
        vec!["512M", "2"]
    );

    // grow the file disk for real
    c.gnt(&[
        "gnt-instance",
        "grow-disk",
        "--ignore-ipolicy",
        "renamed1.example.com",
        "0",
        "128M",
    ])
    .ok();
    assert_eq!(std::fs::metadata(&f).unwrap().len(), 256 * 1024 * 1024);

    // info
    let i = c.gnt(&["gnt-instance", "info", "renamed1.example.com"]);
    assert!(
        i.ok().contains("- Instance name: renamed1.example.com"),
        "{}",
        i.stdout
    );
    assert!(i.stdout.contains("Disk template: file"), "{}", i.stdout);

    // remove: files go away, config too
    c.gnt(&["gnt-instance", "remove", "-f", "renamed1.example.com"])
        .ok();
    c.gnt(&["gnt-instance", "remove", "-f", "inst1.example.com"])
        .ok();
    assert!(!f.exists());
    assert_eq!(c.gnt(&["gnt-instance", "list", "--no-headers"]).ok(), "");

    // destroy
    c.gnt(&["gnt-cluster", "destroy", "--yes-do-it"]).ok();
    assert!(!c.root().join("var/lib/ganeti/config.data").exists());
}

#[test]
fn init_refuses_existing_cluster_and_bad_options() {
    let c = Cluster::init();
    let r = c.gnt(&[
        "gnt-cluster",
        "init",
        "--master-ip",
        "127.0.0.1",
        "cluster.example.com",
    ]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stderr.contains("Cluster is already initialised"),
        "{}",
        r.stderr
    );

    let e = Cluster::empty();
    let r = e.gnt(&[
        "gnt-cluster",
        "init",
        "--master-ip",
        "127.0.0.1",
        "--enabled-hypervisors=frob",
        "c.example.com",
    ]);
    assert_ne!(r.rc, 0);
    assert!(
        !e.root().join("var/lib/ganeti/server.pem").exists(),
        "failed init left crypto behind"
    );
    let r = e.gnt(&[
        "gnt-cluster",
        "init",
        "--master-ip",
        "127.0.0.1",
        "-B",
        "frob=1",
        "c.example.com",
    ]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stderr.contains("Unknown parameter 'frob'"),
        "{}",
        r.stderr
    );
    assert!(!e.root().join("var/lib/ganeti/config.data").exists());
}
