//! The real-VM tier: clusters whose instances are real QEMU guests.
//!
//! These tests need things a plain `cargo test` machine may lack: QEMU, the
//! tiny test guest (`tests/guest/build-guest.sh`, built by
//! `scripts/test.sh`) and root (tap devices, network namespaces). When one
//! is missing a test says so on stderr (`SKIP (kvm tier): <why>`) and
//! returns: a skip must be visible, never silent, and never a failure of
//! the product. Guests run with `kvm_flag=disabled` (TCG), the only mode
//! that boots on every build machine; a guest needs ~3-5 s to boot.
//!
//! Cleanup: the daemon never owns its VMs (they outlive it by design), so
//! [`kill_vms`] runs when a [`Cluster`] is dropped and SIGKILLs the QEMU
//! processes of that cluster's root, found through the pid files Ganeti's
//! layout puts under `<root>/var/run/ganeti/kvm-hypervisor/pid/`.

mod image;
mod netns;
mod serial;

pub use image::{disk_root_args, find_tool, stamp_disk_id, unique_id, xz_compress, DISK_ROOT_DEV};
pub use netns::NetNs;
pub use serial::{CmdOutput, GuestReady, Serial};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{bin_dir, Cluster, Run};

/// Print the loud skip line of this tier. Written to the process's stderr
/// directly, not through `eprintln!`, which the test harness captures and
/// hides for passing tests: a skip must show in a plain `cargo test`.
pub fn skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "SKIP (kvm tier): {reason}");
}

/// `let env = kvm_env_or_skip!();`: the detected [`KvmEnv`], or a loud
/// skip and `return` from the calling test.
#[macro_export]
macro_rules! kvm_env_or_skip {
    () => {
        match $crate::kvm::KvmEnv::detect() {
            Ok(env) => env,
            Err(reason) => {
                $crate::kvm::skip(&reason);
                return;
            }
        }
    };
}

/// Everything a real-VM test needs, found on this machine.
#[derive(Debug, Clone)]
pub struct KvmEnv {
    /// The QEMU binary (`kvm_path`).
    pub qemu: PathBuf,
    /// Directory of the built guest.
    pub guest_dir: PathBuf,
    /// The guest kernel (`kernel_path`).
    pub kernel: PathBuf,
    /// The guest initramfs (`initrd_path`).
    pub initrd: PathBuf,
}

/// Where `scripts/test.sh` builds the guest: `$GANETI_TEST_GUEST_DIR`, else
/// `target/guest` next to the built binaries.
pub fn guest_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GANETI_TEST_GUEST_DIR") {
        return PathBuf::from(d);
    }
    let bins = bin_dir();
    bins.parent().unwrap_or(&bins).join("guest")
}

fn find_qemu() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GANETI_TEST_QEMU") {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("qemu-system-x86_64"))
        .find(|p| p.is_file())
}

/// Whether this process runs as root (from /proc, no libc needed).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

impl KvmEnv {
    /// The environment, or why the tier cannot run here.
    pub fn detect() -> Result<KvmEnv, String> {
        let qemu = find_qemu().ok_or_else(|| {
            "qemu-system-x86_64 not found (apt-get install -t bookworm-backports \
             qemu-system-x86; scripts/test.sh does it as root)"
                .to_string()
        })?;
        let guest_dir = guest_dir();
        let kernel = guest_dir.join("vmlinuz");
        let initrd = guest_dir.join("initramfs.img");
        if !kernel.is_file() || !initrd.is_file() {
            return Err(format!(
                "the test guest is not built in {} (run tests/guest/build-guest.sh; \
                 scripts/test.sh does it)",
                guest_dir.display()
            ));
        }
        if !is_root() {
            return Err("not root: the kvm tier needs root for tap devices and \
                        network namespaces"
                .to_string());
        }
        Ok(KvmEnv {
            qemu,
            guest_dir,
            kernel,
            initrd,
        })
    }

    /// The cluster-level kvm hvparams (`-H kvm:<this>` at init): our guest,
    /// software CPU, serial console on. `root_path` keeps its default, as
    /// Ganeti wants one with a kernel; the guest's own /init ignores it.
    pub fn hvparams(&self) -> String {
        format!(
            "kvm:kvm_path={},kvm_flag=disabled,kernel_path={},initrd_path={},\
             kernel_args=quiet,serial_console=true",
            self.qemu.display(),
            self.kernel.display(),
            self.initrd.display()
        )
    }

    /// `gnt-cluster init` options for a cluster whose default hypervisor
    /// is kvm, NICs bridged to `link`.
    pub fn init_options(&self, link: &str) -> Vec<String> {
        vec![
            "--enabled-hypervisors=kvm,fake".into(),
            "--enabled-disk-templates=file,diskless".into(),
            "-H".into(),
            self.hvparams(),
            "--nic-parameters".into(),
            format!("link={link}"),
        ]
    }

    /// An initialised, running kvm cluster in a temporary root.
    pub fn cluster(&self) -> Cluster {
        let c = Cluster::empty();
        let opts = self.init_options("br0");
        c.init_with(&opts.iter().map(String::as_str).collect::<Vec<_>>());
        c
    }

    /// A kvm cluster whose daemon runs in `ns`, NICs on its bridge.
    pub fn cluster_in(&self, ns: &NetNs) -> Cluster {
        let c = Cluster::empty_in_netns(&ns.name);
        let opts = self.init_options(&ns.bridge);
        c.init_with(&opts.iter().map(String::as_str).collect::<Vec<_>>());
        c
    }
}

/// The guest's kernel arguments (the instance's `kernel_args`): its name
/// and, if given, its address on eth0.
pub fn guest_args(name: &str, ip: Option<&str>) -> String {
    match ip {
        Some(ip) => format!("quiet gnt.name={name} gnt.ip={ip}"),
        None => format!("quiet gnt.name={name}"),
    }
}

/// `<root>/var/run/ganeti/kvm-hypervisor`, Ganeti's kvm runtime directory.
pub fn kvm_run_dir(root: &Path) -> PathBuf {
    root.join("var/run/ganeti/kvm-hypervisor")
}

/// The serial console socket of an instance.
pub fn serial_socket(root: &Path, instance: &str) -> PathBuf {
    kvm_run_dir(root)
        .join("ctrl")
        .join(format!("{instance}.serial"))
}

/// The QEMU pid file of an instance.
pub fn pid_file(root: &Path, instance: &str) -> PathBuf {
    kvm_run_dir(root).join("pid").join(instance)
}

/// Whether `pid` is a live (not zombie) process whose command line
/// mentions `root`: a QEMU of that cluster, never anyone else's process.
fn is_vm_of(pid: i32, root: &Path) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(true);
    !zombie && String::from_utf8_lossy(&cmdline).contains(&*root.to_string_lossy())
}

/// The pid of an instance's QEMU, if its pid file names a live QEMU of
/// this root.
pub fn vm_pid(root: &Path, instance: &str) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pid_file(root, instance))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    is_vm_of(pid, root).then_some(pid)
}

/// Whether a process exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// SIGKILL every QEMU of the cluster at `root`: the pids in its kvm pid
/// files, plus (should a pid file be gone already) QEMU processes whose
/// command line names this root, which is a fresh temporary directory
/// and so names only VMs this test started. Waits until they are gone.
pub fn kill_vms(root: &Path) {
    let mut pids = Vec::new();
    if let Ok(dir) = std::fs::read_dir(kvm_run_dir(root).join("pid")) {
        for e in dir.flatten() {
            if let Some(pid) = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
            {
                if is_vm_of(pid, root) {
                    pids.push(pid);
                }
            }
        }
    }
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for e in procs.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            let is_qemu = exe
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("qemu-system"));
            if is_qemu && !pids.contains(&pid) && is_vm_of(pid, root) {
                pids.push(pid);
            }
        }
    }
    for pid in &pids {
        eprintln!(
            "kvm harness: killing leftover QEMU {pid} of {}",
            root.display()
        );
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    }
    let start = Instant::now();
    while pids.iter().any(|p| alive(*p)) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Cluster {
    /// `gnt-instance add` of a kvm instance running our guest: noop OS, no
    /// name/IP check, policy ignored, `kernel_args` from [`guest_args`],
    /// plus `opts` (template, disks, NICs, ...). (`-H` of `add` names the
    /// hypervisor first, as in Ganeti: `-H kvm:key=value,...`.)
    pub fn add_vm(&self, name: &str, kernel_args: &str, opts: &[&str]) -> Run {
        let hv = format!("kvm:kernel_args={kernel_args}");
        let mut all = vec!["--ignore-ipolicy", "-H", hv.as_str()];
        all.extend_from_slice(opts);
        self.add_instance(name, &all)
    }

    /// The serial console of an instance, connected (waits up to 30 s for
    /// the socket).
    pub fn serial(&self, instance: &str) -> Serial {
        Serial::connect(
            &serial_socket(self.root(), instance),
            Duration::from_secs(30),
        )
        .unwrap_or_else(|e| panic!("serial console of {instance}: {e}"))
    }

    /// `gnt-instance list --no-headers -o <fields> <instance>`, trimmed.
    pub fn instance_fields(&self, instance: &str, fields: &str) -> String {
        self.gnt(&[
            "gnt-instance",
            "list",
            "--no-headers",
            "-o",
            fields,
            instance,
        ])
        .ok()
        .trim()
        .to_string()
    }

    /// Wait until `gnt-instance list -o status` of `instance` is `status`.
    pub fn wait_status(&self, instance: &str, status: &str, timeout: Duration) {
        let start = Instant::now();
        loop {
            let now = self.instance_fields(instance, "status");
            if now == status {
                return;
            }
            assert!(
                start.elapsed() < timeout,
                "{instance} is {now}, not {status}, after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The tail of the daemon log (for failure messages).
    pub fn daemon_log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.root().join("var/log/ganeti/ganetid.log"))
            .unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}
