//! Bad input everywhere: a clear error, Ganeti's exit code, state unchanged.

use ganeti_e2e::Cluster;

fn instance_names(c: &Cluster) -> String {
    c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"])
        .ok()
        .to_string()
}

#[test]
fn refused_input_changes_nothing() {
    let c = Cluster::init();
    let base = [
        "gnt-instance",
        "add",
        "-t",
        "diskless",
        "-o",
        "noop",
        "--no-name-check",
        "--no-ip-check",
        "--ignore-ipolicy",
    ];
    let with = |extra: &[&str]| {
        let mut v: Vec<&str> = base.to_vec();
        v.extend_from_slice(extra);
        c.gnt(&v)
    };
    with(&["--no-start", "i1"]).ok();
    let before = instance_names(&c);

    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (
            vec!["-B", "frob=1", "i2"],
            1,
            "Parameter Error: Unknown parameter 'frob'",
        ),
        (
            vec!["-B", "memory=abc", "i2"],
            1,
            "'memory' (value abc) is not a valid size",
        ),
        (vec!["i1"], 1, "Instance 'i1' is already in the cluster"),
        (
            vec!["--frobnicate", "i2"],
            2,
            "no such option: --frobnicate",
        ),
        (
            vec!["-n", "node9.example.com", "i2"],
            1,
            "Node 'node9.example.com' not known",
        ),
        (
            vec!["--disk", "0:size=1G", "i2"],
            1,
            "Diskless instance but disk information passed",
        ),
        (vec!["bad/name"], 1, "name"),
    ];
    for (extra, rc, msg) in cases {
        let r = with(&extra);
        assert_eq!(r.rc, rc, "{extra:?}: {r:?}");
        assert!(
            r.stderr.contains(msg),
            "{extra:?}: expected {msg:?} in {}",
            r.stderr
        );
    }
    let r = c.add_instance("i3", &["-t", "plain", "--disk", "0:size=1G"]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stderr
            .contains("Disk template 'plain' is not enabled in cluster"),
        "{}",
        r.stderr
    );
    let r = c.gnt(&[
        "gnt-instance",
        "add",
        "-t",
        "diskless",
        "-o",
        "frobos",
        "--no-name-check",
        "--no-ip-check",
        "i3",
    ]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stderr.contains("Directory for OS frobos not found"),
        "{}",
        r.stderr
    );
    assert_eq!(
        instance_names(&c),
        before,
        "refused commands changed the config"
    );

    // invalid transitions and unknown objects
    let r = c.gnt(&["gnt-instance", "remove", "-f", "nosuch"]);
    assert_eq!(r.rc, 1);
    assert!(
        r.stderr.contains("Instance 'nosuch' not known"),
        "{}",
        r.stderr
    );
    let r = c.gnt(&["gnt-instance", "list", "-o", "name,frobfield"]);
    assert_eq!(r.rc, 14);
    assert!(
        r.stderr.contains("Unknown fields frobfield")
            || r.stderr.contains("unknown fields frobfield"),
        "{}",
        r.stderr
    );
    let r = c.gnt(&["gnt-instance", "modify", "-B", "memory", "i1"]);
    assert_eq!(r.rc, 1);
    let r = c.gnt(&["gnt-cluster", "modify", "--frob"]);
    assert_eq!(r.rc, 2);
}
