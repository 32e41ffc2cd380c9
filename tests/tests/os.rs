//! OS providers on a real cluster: `gnt-os list/info/diagnose` see what
//! the node finds in its OS search path, broken providers are reported
//! with Ganeti's reason, and hidden/blacklisted OSes leave the listing.

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
