//! The disk-grow post hook Ganeti operators install: Ganeti grows the disk
//! but does not tell a running KVM guest, so operators add
//! `disk-grow-post.d/` scripts that send `block_resize` through the
//! instance's human monitor socket (`.../kvm-hypervisor/ctrl/<name>.monitor`).
//! ganeti-rs tells the guest itself (QMP), but such scripts must keep
//! working unchanged: same socket, same device names (Ganeti's
//! `_GenerateDeviceKVMId`, derived from the disk uuid the hook gets), same
//! environment. Real QEMU under TCG; skips loudly without QEMU, the guest
//! or root, like the rest of the kvm tier.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use ganeti_e2e::kvm::{guest_args, kvm_run_dir};
use ganeti_e2e::{job_id, kvm_env_or_skip, Cluster};

const BOOT: Duration = Duration::from_secs(90);
const CMD: Duration = Duration::from_secs(20);

/// An operator's hook, as it would be written for /var/run/ganeti: only
/// the ctrl directory differs, because this cluster lives under a root.
fn resize_hook(c: &Cluster) -> String {
    let ctrl = kvm_run_dir(c.root()).join("ctrl");
    format!(
        r#"#!/bin/sh
# Tell a running KVM instance that its disk grew.
mon={ctrl}/$GANETI_INSTANCE_NAME.monitor
if [ "$GANETI_INSTANCE_HYPERVISOR" != kvm ] || [ ! -S "$mon" ]; then
    echo "instance not running, nothing to do"
    exit 0
fi
eval size=\$GANETI_POST_INSTANCE_DISK${{GANETI_DISK}}_SIZE
eval uuid=\$GANETI_INSTANCE_DISK${{GANETI_DISK}}_UUID
dev="disk-${{uuid%-*-*}}"
reply=$(printf 'block_resize %s %sM\n' "$dev" "$size" | socat -t 2 - "UNIX-CONNECT:$mon")
case "$reply" in
    *rror*|*"not found"*|*"Could not"*) echo "block_resize failed: $reply"; exit 1 ;;
esac
line=$(printf 'info block\n' | socat -t 2 - "UNIX-CONNECT:$mon" | tr -d '\r' | grep "^$dev")
echo "resized $dev to ${{size}}M; monitor: $line"
"#,
        ctrl = ctrl.display()
    )
}

fn install(c: &Cluster) {
    let d = c.root().join("etc/ganeti/hooks/disk-grow-post.d");
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join("50resize");
    std::fs::write(&p, resize_hook(c)).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Grow disk 0 by `amount`, submitted, and give the job's `gnt-job info`.
fn grow(c: &Cluster, name: &str, amount: &str) -> String {
    let r = c.gnt(&[
        "gnt-instance",
        "grow-disk",
        "--submit",
        "--ignore-ipolicy",
        name,
        "0",
        amount,
    ]);
    let id = job_id(&r);
    let status = c.wait_job(&id);
    let info = c.gnt(&["gnt-job", "info", &id]).ok().to_string();
    assert_eq!(status, "success", "{info}");
    info
}

#[test]
fn a_monitor_socket_resize_hook_works_on_a_running_guest() {
    let env = kvm_env_or_skip!();
    if which("socat").is_none() {
        ganeti_e2e::kvm::skip("socat is not installed (scripts/test.sh installs it)");
        return;
    }
    let c = env.cluster();
    install(&c);
    let name = "vm7.example.com";
    c.add_vm(
        name,
        &guest_args("vm7", None),
        &["-t", "file", "--disk", "0:size=64M", "--no-nics"],
    )
    .ok();
    let mut s = c.serial(name);
    s.wait_ready(BOOT).unwrap();
    assert_eq!(s.check("cat /sys/block/vda/size", CMD).trim(), "131072");

    let info = grow(&c, name, "32M");
    let disk = c.file_disk(name, 0);
    let hook_line = info
        .lines()
        .find(|l| l.contains("Hook disk-grow-post.d/50resize on "))
        .unwrap_or_else(|| panic!("no hook result in {info}"));
    assert!(hook_line.contains(": succeeded in "), "{hook_line}");
    assert!(
        hook_line.contains("M; monitor: disk-") && hook_line.contains("resized disk-"),
        "{hook_line}"
    );
    assert!(hook_line.contains("to 96M; monitor: disk-"), "{hook_line}");
    assert!(
        hook_line.contains(&disk.display().to_string()),
        "the monitor names the disk file: {hook_line}"
    );
    assert!(!info.contains("50resize failed"), "{info}");
    // the guest sees the new size
    let start = Instant::now();
    let mut size = String::new();
    while start.elapsed() < Duration::from_secs(5) {
        size = s.check("cat /sys/block/vda/size", CMD).trim().to_string();
        if size == "196608" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(size, "196608");
    assert_eq!(std::fs::metadata(&disk).unwrap().len(), 96 << 20);

    // stopped: the hook finds no monitor and has nothing to do
    c.gnt(&["gnt-instance", "shutdown", "--timeout=0", name])
        .ok();
    let info = grow(&c, name, "16M");
    assert!(
        info.contains("disk-grow-post.d/50resize on ")
            && info.contains("output: instance not running, nothing to do"),
        "{info}"
    );
    assert!(!info.contains("50resize failed"), "{info}");
    assert_eq!(std::fs::metadata(&disk).unwrap().len(), 112 << 20);
    c.gnt(&["gnt-instance", "remove", "-f", name]).ok();
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join(tool))
        .find(|p| p.is_file())
}
