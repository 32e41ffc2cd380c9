//! Every request recorded from a real Ganeti 3.0.2 RAPI, replayed against
//! ours in the recorded order: same status codes, same answer shapes, same
//! error bodies (see `tests/rapi/replay_fixtures.py` for the rules).

use std::path::Path;
use std::process::Command;

use ganeti_e2e::Cluster;

fn replay(c: &Cluster, phase: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rapi");
    let out = Command::new("/usr/bin/python3")
        .arg(dir.join("replay_fixtures.py"))
        .arg("127.0.0.1")
        .arg(c.rapi_port.to_string())
        .arg(ganeti_fixtures::rapi_dir())
        .arg(phase)
        .output()
        .expect("run the replay");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "replay ({phase}) differs from Ganeti:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("replayed "), "{stdout}");
}

#[test]
fn recorded_ganeti_requests_get_ganeti_answers() {
    let c = Cluster::empty();
    // The recording was made with Debian's default, --require-authentication.
    c.set_env("GANETI_RAPI_REQUIRE_AUTH", "1");
    c.gnt(&[
        "gnt-cluster",
        "init",
        "--master-ip",
        "127.0.0.1",
        "--nic-parameters",
        "mode=bridged,link=gntbr0",
        "--enabled-disk-templates",
        "file,diskless",
        "cluster.example.com",
    ])
    .ok();
    c.write_rapi_users("ref refpass write\nreader readerpass read\n");
    c.wait_rapi();
    replay(&c, "reqauth");

    // Then upstream's default: anonymous reads allowed.
    c.kill9();
    c.set_env("GANETI_RAPI_REQUIRE_AUTH", "0");
    c.start_daemon();
    c.wait_rapi();
    replay(&c, "noreqauth");
}
