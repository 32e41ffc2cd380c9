//! The OS provider end to end on real guests: an instance created by the
//! simpleimage provider from a `raw+xz` image boots under QEMU from the
//! disk the provider wrote, not from the test initramfs.
//!
//! The image is the test guest's `rootfs.img` (tests/guest/build-guest.sh),
//! a copy stamped with a fresh id per test; the initramfs only loads the
//! virtio drivers and switches to `gnt.root=/dev/vda`. The guest's ready
//! line then says `root=disk disk_id=<the id>`, so a guest that came up
//! from anything else cannot pass.
//!
//! The same image served over http:// on 127.0.0.1 is downloaded by the
//! provider and boots the same way.
//!
//! Skips loudly, like the rest of the kvm tier, without QEMU, the guest,
//! root, or e2fsprogs/xz.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ganeti_e2e::http::FileServer;
use ganeti_e2e::kvm::{
    alive, disk_root_args, find_tool, skip, stamp_disk_id, unique_id, vm_pid, xz_compress, KvmEnv,
    DISK_ROOT_DEV,
};
use ganeti_e2e::os::install_simpleimage;
use ganeti_e2e::{kvm_env_or_skip, Cluster};

/// Boot to the ready line (TCG, two cores shared with the build).
const BOOT: Duration = Duration::from_secs(90);
/// One command in the guest.
const CMD: Duration = Duration::from_secs(20);

/// Removes an instance when the test ends, passed or not (the cluster's
/// own drop then kills any QEMU that survived).
struct Instance<'a> {
    c: &'a Cluster,
    name: String,
}

impl Drop for Instance<'_> {
    fn drop(&mut self) {
        let r = self.c.gnt(&["gnt-instance", "remove", "-f", &self.name]);
        if r.rc != 0 && !std::thread::panicking() {
            panic!("removing {}: {r:?}", self.name);
        }
    }
}

/// The disk root image and the tools to stamp and compress it, or a loud
/// skip reason.
fn rootfs_or_skip(env: &KvmEnv) -> Option<PathBuf> {
    for tool in ["debugfs", "xz"] {
        if find_tool(tool).is_none() {
            skip(&format!(
                "{tool} not found (apt-get install e2fsprogs xz-utils; scripts/test.sh does it)"
            ));
            return None;
        }
    }
    match env.rootfs() {
        Ok(p) => Some(p),
        Err(why) => {
            skip(&why);
            None
        }
    }
}

/// `rootfs.img` stamped with `id`, xz-compressed into `dir`.
fn image_xz(rootfs: &Path, dir: &Path, id: &str) -> PathBuf {
    let raw = dir.join(format!("{id}.img"));
    stamp_disk_id(rootfs, &raw, id).unwrap();
    let xz = dir.join(format!("{id}.img.xz"));
    xz_compress(&raw, &xz).unwrap();
    std::fs::remove_file(&raw).unwrap();
    xz
}

/// `gnt-instance add` of a file-disk instance installed by
/// simpleimage+default from `image` (`raw+xz`), booting its disk.
fn add_from_image<'a>(
    c: &'a Cluster,
    env: &KvmEnv,
    name: &str,
    short: &str,
    image: &str,
) -> Instance<'a> {
    let os_params = format!("image={image},image_type=raw+xz");
    let hv = format!(
        "kvm:kvm_flag=disabled,kernel_path={},initrd_path={},kernel_args={}",
        env.kernel.display(),
        env.initrd.display(),
        disk_root_args(short)
    );
    let add = c.gnt(&[
        "gnt-instance",
        "add",
        "-t",
        "file",
        "--disk",
        "0:size=64M",
        "-o",
        "simpleimage+default",
        "-O",
        &os_params,
        "-H",
        &hv,
        "--no-nics",
        "--no-name-check",
        "--no-ip-check",
        "--ignore-ipolicy",
        name,
    ]);
    let inst = Instance {
        c,
        name: name.to_string(),
    };
    assert_eq!(
        add.rc,
        0,
        "gnt-instance add: {add:?}\n{}",
        c.daemon_log_tail(30)
    );
    inst
}

/// Wait for `name`'s guest and check it runs from its disk, stamped `id`;
/// with `reboot`, also that what it writes to its root survives a reboot.
fn assert_boots_from_disk(c: &Cluster, name: &str, short: &str, id: &str, reboot: bool) {
    let mut s = c.serial(name);
    let ready = s
        .wait_ready(BOOT)
        .unwrap_or_else(|e| panic!("{e}\n{}", c.daemon_log_tail(30)));
    assert_eq!(ready.name, short);
    assert_eq!(
        (ready.root.as_str(), ready.disk_id.as_str()),
        ("disk", id),
        "the guest must run from the image simpleimage wrote; console:\n{}",
        s.tail(30)
    );
    // the kernel agrees: / is the ext4 on the first virtio disk
    let mounts = s.check("grep ' / ' /proc/mounts", CMD);
    assert!(
        mounts.contains(&format!("{DISK_ROOT_DEV} / ext4 rw")),
        "{mounts}"
    );
    assert_eq!(s.check("cat /etc/gnt/disk-id", CMD).trim(), id);
    if !reboot {
        return;
    }

    // the root persists: written, synced, still there after a reboot
    let marker = format!("written-by-{short}");
    s.check(&format!("echo {marker} > /persist && sync"), CMD);
    c.gnt(&["gnt-instance", "reboot", name]).ok();
    let again = s
        .wait_reboot(&ready.boot, BOOT)
        .unwrap_or_else(|e| panic!("{e}\n{}", c.daemon_log_tail(30)));
    assert_eq!((again.root.as_str(), again.disk_id.as_str()), ("disk", id));
    assert_eq!(s.check("cat /persist", CMD).trim(), marker);
}

#[test]
fn an_instance_from_a_raw_xz_image_boots_from_its_disk() {
    let env = kvm_env_or_skip!();
    let Some(rootfs) = rootfs_or_skip(&env) else {
        return;
    };
    let c = env.cluster();
    install_simpleimage(&c);
    let dir = tempfile::tempdir().unwrap();
    let id = unique_id("xz-local");
    let xz = image_xz(&rootfs, dir.path(), &id);

    let name = "img1.example.com";
    let inst = add_from_image(&c, &env, name, "img1", &xz.display().to_string());
    assert_boots_from_disk(&c, name, "img1", &id, true);
    let pid = vm_pid(c.root(), name).expect("a live QEMU for the instance");
    drop(inst);
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(pid), "QEMU {pid} of {name} survived its removal");
}

#[test]
fn an_instance_from_a_raw_xz_image_over_http_boots_from_its_disk() {
    let env = kvm_env_or_skip!();
    let Some(rootfs) = rootfs_or_skip(&env) else {
        return;
    };
    let c = env.cluster();
    install_simpleimage(&c);
    let dir = tempfile::tempdir().unwrap();
    let id = unique_id("xz-http");
    let xz = image_xz(&rootfs, dir.path(), &id);
    let server = FileServer::start();
    server.serve("/images/root.img.xz", std::fs::read(&xz).unwrap());

    let name = "img2.example.com";
    let _inst = add_from_image(&c, &env, name, "img2", &server.url("/images/root.img.xz"));
    assert_eq!(server.hits("/images/root.img.xz"), 1);
    assert_boots_from_disk(&c, name, "img2", &id, false);
}
