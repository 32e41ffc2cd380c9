//! Hooks after `create`: run-parts rules, the OS environment plus
//! TARGET_DISK_DEVICE (a loop device for a file disk, removed afterwards).

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn root_with_loop() -> bool {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref().ok() != Some("0") {
        eprintln!("SKIP: hook tests need root (losetup)");
        return false;
    }
    if !Command::new("losetup")
        .arg("-f")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("SKIP: no free loop device");
        return false;
    }
    true
}

fn hook(fx: &Fixture, name: &str, body: &str) {
    let dir = fx.path("etc/default/hooks.d");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn loops_of(file: &std::path::Path) -> String {
    let o = Command::new("losetup")
        .arg("-j")
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn hooks_see_the_environment_and_a_block_device() {
    if !root_with_loop() {
        return;
    }
    let img = image(2 * MIB);
    let mut fx = Fixture::new(4 << 20);
    let p = fx.path("i.raw");
    std::fs::write(&p, &img).unwrap();
    let out = fx.path("out");
    std::fs::create_dir(&out).unwrap();
    let o = out.display();
    hook(
        &fx,
        "10-env",
        &format!(
            "test -b \"$TARGET_DISK_DEVICE\"\n\
         env > {o}/env\n\
         dd if=\"$TARGET_DISK_DEVICE\" bs=4096 count=1 2>/dev/null > {o}/head\n\
         echo 10 >> {o}/order"
        ),
    );
    hook(&fx, "20_second", &format!("echo 20 >> {o}/order"));
    hook(&fx, "30.skipped", &format!("echo 30 >> {o}/order"));
    std::fs::write(
        fx.path("etc/default/hooks.d/40-noexec"),
        format!("#!/bin/sh\necho 40 >> {o}/order\n"),
    )
    .unwrap();
    assert_ok(&fx.create(p.to_str().unwrap(), Some("raw")));
    let env = std::fs::read_to_string(out.join("env")).unwrap();
    for needle in [
        "INSTANCE_NAME=inst1.example.com",
        "OS_VARIANT=default",
        "DISK_0_PATH=",
        "OSP_IMAGE_TYPE=raw",
        "TARGET_DISK_DEVICE=/dev/loop",
    ] {
        assert!(env.contains(needle), "hook env lacks {needle}: {env}");
    }
    assert_eq!(std::fs::read(out.join("head")).unwrap(), img[..4096]);
    assert_eq!(
        std::fs::read_to_string(out.join("order")).unwrap(),
        "10\n20\n"
    );
    assert_eq!(loops_of(&fx.disk()), "", "loop device removed");
}

#[test]
fn a_failing_hook_stops_the_run_and_the_loop_device_is_removed() {
    if !root_with_loop() {
        return;
    }
    let mut fx = Fixture::new(4 << 20);
    let p = fx.path("i.raw");
    std::fs::write(&p, image(MIB)).unwrap();
    let out = fx.path("order");
    hook(&fx, "10-fail", "echo hook-says-no >&2; exit 3");
    hook(&fx, "20-never", &format!("echo 20 >> {}", out.display()));
    let o = fx.create(p.to_str().unwrap(), Some("raw"));
    assert_fails(&o, "10-fail failed");
    assert!(stderr(&o).contains("hook-says-no"));
    assert!(!out.exists(), "later hooks must not run");
    assert_eq!(
        loops_of(&fx.disk()),
        "",
        "loop device removed after failure"
    );
}
