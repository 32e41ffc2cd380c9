//! Cluster administration: renew-crypto, cluster and node modify, queue
//! info, version; instance NIC and disk changes.

use ganeti_e2e::Cluster;

fn file_bytes(c: &Cluster, f: &str) -> Vec<u8> {
    std::fs::read(c.root().join("var/lib/ganeti").join(f)).unwrap()
}

#[test]
fn renew_crypto_replaces_only_what_was_asked() {
    let c = Cluster::init();
    let names = [
        "server.pem",
        "rapi.pem",
        "spice.pem",
        "hmac.key",
        "cluster-domain-secret",
    ];
    let before: Vec<Vec<u8>> = names.iter().map(|n| file_bytes(&c, n)).collect();
    c.gnt(&[
        "gnt-cluster",
        "renew-crypto",
        "-f",
        "--new-rapi-certificate",
        "--new-confd-hmac-key",
    ])
    .ok();
    let after: Vec<Vec<u8>> = names.iter().map(|n| file_bytes(&c, n)).collect();
    assert_eq!(before[0], after[0], "server.pem changed");
    assert_ne!(before[1], after[1], "rapi.pem not renewed");
    assert_eq!(before[2], after[2], "spice.pem changed");
    assert_ne!(before[3], after[3], "hmac.key not renewed");
    assert_eq!(before[4], after[4], "cluster domain secret changed");
    // a garbage certificate is refused and nothing changes
    let bad = c.root().join("bad.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let r = c.gnt(&[
        "gnt-cluster",
        "renew-crypto",
        "-f",
        "--rapi-certificate",
        bad.to_str().unwrap(),
    ]);
    assert_ne!(r.rc, 0, "{r:?}");
    assert_eq!(file_bytes(&c, "rapi.pem"), after[1]);
    let text = format!("{}{}", r.stdout, r.stderr);
    assert!(
        !text.contains("PRIVATE KEY"),
        "key material in output: {text}"
    );
}

#[test]
fn cluster_and_node_modify_queue_and_version() {
    let c = Cluster::init();
    assert!(c.gnt(&["gnt-cluster", "version"]).ok().contains("3.0.2"));
    c.gnt(&[
        "gnt-cluster",
        "modify",
        "-B",
        "vcpus=2",
        "--candidate-pool-size=3",
    ])
    .ok();
    let info = c.gnt(&["gnt-cluster", "info"]);
    assert!(
        info.ok().contains("candidate pool size: 3"),
        "{}",
        info.stdout
    );
    let r = c.gnt(&["gnt-cluster", "modify", "-B", "frob=1"]);
    assert_eq!(r.rc, 1);
    // a hypervisor Ganeti knows but this release does not run
    let r = c.gnt(&["gnt-cluster", "modify", "--enabled-hypervisors=lxc"]);
    assert_eq!(r.rc, 1, "{r:?}");
    assert!(r.stderr.contains("'lxc' is not supported"), "{r:?}");
    let q = c.gnt(&["gnt-cluster", "queue", "info"]);
    assert_eq!(q.ok(), "The drain flag is unset\n");
    // the master cannot be set offline
    let node = c.gnt(&["gnt-cluster", "getmaster"]).ok().trim().to_string();
    let r = c.gnt(&["gnt-node", "modify", "--offline=yes", &node]);
    assert_eq!(r.rc, 1, "{r:?}");
    let l = c.gnt(&[
        "gnt-node",
        "list",
        "--no-headers",
        "-o",
        "name,offline,master_candidate",
    ]);
    assert_eq!(
        l.ok().split_whitespace().collect::<Vec<_>>(),
        vec![node.as_str(), "N", "Y"]
    );
}

#[test]
fn instance_nics_and_disks_added_and_removed() {
    let c = Cluster::init();
    c.add_instance(
        "m1",
        &[
            "-t",
            "file",
            "--disk",
            "0:size=64M",
            "--ignore-ipolicy",
            "--no-start",
        ],
    )
    .ok();
    c.gnt(&[
        "gnt-instance",
        "modify",
        "--ignore-ipolicy",
        "--disk",
        "add:size=32M",
        "m1",
    ])
    .ok();
    // As in Ganeti, every modify checks the whole instance against the
    // policy: its 64M disk is below the default minimum.
    let refused = c.gnt(&[
        "gnt-instance",
        "modify",
        "--net",
        "add:mac=aa:00:00:11:22:33",
        "m1",
    ]);
    assert_eq!(refused.rc, 1, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("violates policy: disk-size/0 value 64"),
        "{refused:?}"
    );
    c.gnt(&[
        "gnt-instance",
        "modify",
        "--ignore-ipolicy",
        "--net",
        "add:mac=aa:00:00:11:22:33",
        "m1",
    ])
    .ok();
    let l = c.gnt(&[
        "gnt-instance",
        "list",
        "--no-headers",
        "-o",
        "disk.count,disk.sizes,nic.count,nic.macs",
        "m1",
    ]);
    let cols: Vec<&str> = l.ok().split_whitespace().collect();
    assert_eq!(cols[0], "2");
    assert_eq!(cols[1], "64,32");
    assert_eq!(cols[2], "2");
    assert!(cols[3].ends_with("aa:00:00:11:22:33"), "{cols:?}");
    let dir = c.root().join("srv/ganeti/file-storage/m1");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
    // duplicate MAC refused, nothing changed
    let r = c.gnt(&[
        "gnt-instance",
        "modify",
        "--ignore-ipolicy",
        "--net",
        "add:mac=aa:00:00:11:22:33",
        "m1",
    ]);
    assert_eq!(r.rc, 1);
    assert!(r.stderr.contains("aa:00:00:11:22:33"), "{r:?}");
    c.gnt(&[
        "gnt-instance",
        "modify",
        "--ignore-ipolicy",
        "--disk",
        "1:remove",
        "m1",
    ])
    .ok();
    c.gnt(&[
        "gnt-instance",
        "modify",
        "--ignore-ipolicy",
        "--net",
        "1:remove",
        "m1",
    ])
    .ok();
    let l = c.gnt(&[
        "gnt-instance",
        "list",
        "--no-headers",
        "-o",
        "disk.count,nic.count",
        "m1",
    ]);
    assert_eq!(
        l.ok().split_whitespace().collect::<Vec<_>>(),
        vec!["1", "1"]
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "removed disk file left behind"
    );
}
