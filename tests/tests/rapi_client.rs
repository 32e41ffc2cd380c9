//! Ganeti's official Python RAPI client (Debian's `python3-ganeti-rapi`)
//! against a real cluster: if the stock client works unchanged, operators'
//! scripts, htools and Ansible modules built on it do too.
//! The scenario itself is `tests/rapi/client_scenario.py`.

use std::path::Path;
use std::process::Command;

use ganeti_e2e::Cluster;
use md5::{Digest, Md5};

const PYTHON: &str = "/usr/bin/python3";

fn ha1(user: &str, password: &str) -> String {
    hex::encode(Md5::digest(format!("{user}:Ganeti Remote API:{password}")))
}

/// The client is installed by the test command (`scripts/test.sh`); a
/// missing client is a broken setup, not a reason to skip.
fn require_client() {
    let ok = Command::new(PYTHON)
        .args(["-c", "import ganeti.rapi.client"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "Ganeti's RAPI client is missing: apt-get install python3-ganeti-rapi \
         (scripts/test.sh installs it)"
    );
}

#[test]
fn official_python_client_drives_the_cluster() {
    require_client();
    let c = Cluster::init();
    c.write_rapi_users(&format!(
        "# RAPI users\n\nadmin {{HA1}}{} write\nreader {{cleartext}}readerpw read\n",
        ha1("admin", "adminpw")
    ));
    c.wait_rapi();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("rapi/client_scenario.py");
    let out = Command::new(PYTHON)
        .arg(&script)
        .arg("127.0.0.1")
        .arg(c.rapi_port.to_string())
        .arg(c.rapi_cert())
        .arg("node1.example.com")
        .arg(c.root())
        .output()
        .expect("run the client scenario");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "client scenario failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("OK: "), "{stdout}");

    // The request log names users, never their passwords.
    let log =
        std::fs::read_to_string(c.root().join("var/log/ganeti/ganetid.log")).expect("daemon log");
    assert!(
        log.contains("admin"),
        "the request log should name the user"
    );
    for secret in ["adminpw", "readerpw", &ha1("admin", "adminpw")] {
        assert!(!log.contains(secret), "a password reached the log");
    }
}
