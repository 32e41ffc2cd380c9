//! Tags, node groups and networks through the CLI.

use ganeti_e2e::Cluster;

#[test]
fn tags_on_cluster_and_instances() {
    let c = Cluster::init();
    c.gnt(&["gnt-cluster", "add-tags", "a", "b"]).ok();
    assert_eq!(c.gnt(&["gnt-cluster", "list-tags"]).ok(), "a\nb\n");
    c.gnt(&["gnt-cluster", "remove-tags", "a"]).ok();
    assert_eq!(c.gnt(&["gnt-cluster", "list-tags"]).ok(), "b\n");
    let r = c.gnt(&["gnt-cluster", "remove-tags", "nosuchtag"]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stderr.contains("Tag(s) 'nosuchtag' not found"),
        "{}",
        r.stderr
    );
    let r = c.gnt(&["gnt-cluster", "add-tags", "bad tag!"]);
    assert_eq!(r.rc, 1, "{r:?}");
    c.add_instance("t1", &["-t", "diskless", "--ignore-ipolicy", "--no-start"])
        .ok();
    c.gnt(&["gnt-instance", "add-tags", "t1", "itag"]).ok();
    assert_eq!(c.gnt(&["gnt-instance", "list-tags", "t1"]).ok(), "itag\n");
}

#[test]
fn groups_add_rename_remove() {
    let c = Cluster::init();
    c.gnt(&["gnt-group", "add", "grp2"]).ok();
    let r = c.gnt(&["gnt-group", "add", "grp2"]);
    assert_eq!(r.rc, 1);
    c.gnt(&["gnt-group", "rename", "grp2", "grp3"]).ok();
    let l = c.gnt(&["gnt-group", "list", "--no-headers", "-o", "name"]);
    assert_eq!(l.ok(), "default\ngrp3\n");
    let r = c.gnt(&["gnt-group", "remove", "default"]);
    assert_eq!(r.rc, 1);
    assert!(r.stderr.contains("not empty"), "{}", r.stderr);
    c.gnt(&["gnt-group", "remove", "grp3"]).ok();
    assert_eq!(
        c.gnt(&["gnt-group", "list", "--no-headers", "-o", "name"])
            .ok(),
        "default\n"
    );
}

#[test]
fn networks_with_pools_and_reservations() {
    let c = Cluster::init();
    c.gnt(&[
        "gnt-network",
        "add",
        "--network=10.0.0.0/28",
        "--gateway=10.0.0.1",
        "--add-reserved-ips=10.0.0.5",
        "net1",
    ])
    .ok();
    c.gnt(&[
        "gnt-network",
        "connect",
        "--nic-parameters=mode=bridged,link=br1",
        "net1",
        "default",
    ])
    .ok();
    c.add_instance(
        "n1",
        &[
            "-t",
            "diskless",
            "--ignore-ipolicy",
            "--no-start",
            "--net",
            "0:network=net1,ip=pool",
        ],
    )
    .ok();
    let ip = c.gnt(&[
        "gnt-instance",
        "list",
        "--no-headers",
        "-o",
        "nic.ip/0",
        "n1",
    ]);
    assert_eq!(ip.ok().trim(), "10.0.0.2");
    let free = c.gnt(&[
        "gnt-network",
        "list",
        "--no-headers",
        "-o",
        "name,free_count,reserved_count",
    ]);
    assert_eq!(
        free.ok().split_whitespace().collect::<Vec<_>>(),
        vec!["net1", "11", "5"]
    );
    // in use: cannot remove or disconnect
    assert_eq!(c.gnt(&["gnt-network", "remove", "net1"]).rc, 1);
    c.gnt(&["gnt-instance", "remove", "-f", "n1"]).ok();
    let free = c.gnt(&["gnt-network", "list", "--no-headers", "-o", "free_count"]);
    assert_eq!(free.ok().trim(), "12");
    c.gnt(&["gnt-network", "disconnect", "net1", "default"])
        .ok();
    c.gnt(&["gnt-network", "remove", "net1"]).ok();
    assert_eq!(c.gnt(&["gnt-network", "list", "--no-headers"]).ok(), "");
}
