//! Real-QEMU tests: the repository's test guest (tests/guest/build-guest.sh:
//! a kernel and a busybox initramfs, no disk image) booted through the
//! `Hypervisor` trait in a temporary root, with the software CPU (this
//! host's KVM cannot run it). The disks they give the VM are blank files;
//! what the guest sees of them is asked through the guest's command loop
//! on the serial console. They skip loudly when QEMU or the guest is
//! missing. Every QEMU they start is killed by pid when the test ends,
//! even when it fails.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ganeti_qmp::commands::QueryBlock;
use ganeti_types::{DiskTemplate, Paths};
use serde_json::{json, Value};

use super::tests::{hvparams, spec};
use super::*;
use crate::hypervisor;
use crate::spec::{DiskMode, DiskSpec};

const QEMU: &str = "/usr/bin/qemu-system-x86_64";
/// Names the test guest's directory; scripts/test.sh sets it.
const GUEST_DIR_ENV: &str = "GANETI_TEST_GUEST_DIR";
pub(super) const BOOT_TIMEOUT: Duration = Duration::from_secs(40);
/// How long one command in the guest may take.
pub(super) const CMD_TIMEOUT: Duration = Duration::from_secs(10);
/// 512-byte sectors per MiB, the unit of /sys/block/*/size.
const SECTORS_PER_MIB: u64 = 2048;

/// Where the test guest is: `$GANETI_TEST_GUEST_DIR`, else
/// `<repo>/target/guest` (build-guest.sh's own default).
fn guest_dir() -> PathBuf {
    match std::env::var_os(GUEST_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/guest");
            dir.canonicalize().unwrap_or(dir)
        }
    }
}

/// The guest directory, or `None` (after saying why, and how to build
/// it) when QEMU or the guest is missing on this machine.
pub(super) fn test_guest() -> Option<PathBuf> {
    let guest = guest_dir();
    if !Path::new(QEMU).exists() {
        eprintln!("SKIP: real-QEMU kvm test not run: {QEMU} is missing (install qemu-system-x86)");
        return None;
    }
    for file in ["vmlinuz", "initramfs.img"] {
        let needed = guest.join(file);
        if !needed.is_file() {
            eprintln!(
                "SKIP: real-QEMU kvm test not run: the test guest's {} is missing; \
                 build it with `tests/guest/build-guest.sh` (it writes to ${GUEST_DIR_ENV}, \
                 else <repo>/target/guest), or run scripts/test.sh",
                needed.display()
            );
            return None;
        }
    }
    Some(guest)
}

/// A temporary node root; kills every QEMU of it when dropped.
pub(super) struct Lab {
    dir: tempfile::TempDir,
    guest: PathBuf,
    pub(super) hv: KvmHypervisor,
}

impl Lab {
    pub(super) fn new(guest: PathBuf) -> Self {
        // a short root: control socket paths must fit in 108 bytes
        let dir = tempfile::Builder::new()
            .prefix("kvmt")
            .tempdir_in("/tmp")
            .unwrap();
        let hv = KvmHypervisor::new(&Paths::new(dir.path()), HostProbe::system());
        Lab { dir, guest, hv }
    }

    fn paths(&self) -> Paths {
        Paths::new(self.dir.path())
    }

    /// An empty sparse data disk (the guest boots from its initramfs,
    /// so every disk is a data disk: vda, vdb, ... in the guest).
    pub(super) fn data_disk(
        &self,
        name: &str,
        uuid: &str,
        size_mib: u64,
    ) -> (DiskSpec, AttachedDisk) {
        let path = self.dir.path().join(format!("{name}-{uuid}.raw"));
        fs::File::create(&path)
            .unwrap()
            .set_len(size_mib * 1024 * 1024)
            .unwrap();
        file_disk(uuid, &path, size_mib)
    }

    pub(super) fn instance(&self, name: &str, overrides: Value) -> InstanceSpec {
        let g = |f: &str| self.guest.join(f).to_str().unwrap().to_string();
        let mut params = json!({
            "kvm_path": QEMU,
            "kernel_path": g("vmlinuz"),
            "initrd_path": g("initramfs.img"),
            // root_path stays Ganeti's default (/dev/vda1): a kernel_path
            // needs one, and the guest's initramfs ignores it. The serial
            // console (on by default) adds console=ttyS0; `quiet` keeps
            // kernel messages out of the command loop's output.
            "kernel_args": format!("quiet gnt.name={name}"),
            "kvm_flag": "disabled",
        });
        for (k, v) in overrides.as_object().unwrap() {
            params[k] = v.clone();
        }
        spec(name, hvparams(params))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let pid_dir = self.hv.dirs.pid_dir();
        let Ok(entries) = fs::read_dir(&pid_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let pidfile = entry.path();
            if let Ok(Some(pid)) = process::read_pid_file(&name, &pidfile) {
                if process::inspect(pid, &name, &pidfile).is_some() {
                    eprintln!("killing QEMU {pid} of {name} left by the test");
                    let _ = process::signal(pid, Signal::KILL);
                }
            }
        }
    }
}

fn file_disk(uuid: &str, path: &Path, size_mib: u64) -> (DiskSpec, AttachedDisk) {
    (
        DiskSpec {
            uuid: uuid.into(),
            name: None,
            iv_name: "disk/0".into(),
            template: DiskTemplate::File,
            size_mib,
            logical_id: json!(["loop", path.to_str().unwrap()]),
            mode: DiskMode::Rw,
            params: Default::default(),
        },
        AttachedDisk {
            uuid: uuid.into(),
            dev_path: path.to_path_buf(),
            mode: DiskMode::Rw,
        },
    )
}

/// The guest's serial console, through its socket: the guest's markers
/// and its command loop (each line written is run by `sh -c`, then the
/// guest prints `CMD-DONE rc=N`).
pub(super) struct Serial {
    sock: UnixStream,
    seen: String,
    /// Where the next `wait_for` starts looking.
    mark: usize,
}

/// What the guest's `GUEST-READY` line says.
#[derive(Debug)]
pub(super) struct Ready {
    /// `gnt.ip`, or `none`.
    pub(super) ip: String,
    /// Differs at every boot.
    pub(super) boot: String,
}

impl Serial {
    pub(super) fn connect(path: &Path) -> Self {
        let sock = UnixStream::connect(path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Serial {
            sock,
            seen: String::new(),
            mark: 0,
        }
    }

    /// Read until `needle` appears after the previous match (or EOF).
    pub(super) fn wait_for(&mut self, needle: &str, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(pos) = self.seen[self.mark..].find(needle) {
                self.mark += pos + needle.len();
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no '{needle}' on the serial console; it said:\n{}",
                    self.seen
                ));
            }
            match self.sock.read(&mut buf) {
                Ok(0) => {
                    return Err(format!(
                        "serial console closed before '{needle}':\n{}",
                        self.seen
                    ))
                }
                Ok(n) => self.seen.push_str(&String::from_utf8_lossy(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(format!("serial read: {e}")),
            }
        }
    }

    /// The rest of the current line, trimmed.
    fn rest_of_line(&mut self, timeout: Duration) -> Result<String, String> {
        let start = self.mark;
        self.wait_for("\n", timeout)?;
        Ok(self.seen[start..self.mark].trim().to_string())
    }

    /// Wait for the guest `name` to be up and listening for commands.
    pub(super) fn ready(&mut self, name: &str, timeout: Duration) -> Result<Ready, String> {
        self.wait_for(&format!("GUEST-READY name={name} "), timeout)?;
        let line = self.rest_of_line(CMD_TIMEOUT)?;
        let field = |key: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .map(str::to_string)
                .ok_or_else(|| format!("no {key} in the ready line '{line}'"))
        };
        Ok(Ready {
            ip: field("ip=")?,
            boot: field("boot=")?,
        })
    }

    /// Run `cmd` in the guest (after `ready`): its exit code and what it
    /// printed.
    pub(super) fn run(&mut self, cmd: &str, timeout: Duration) -> Result<(i32, String), String> {
        const DONE: &str = "CMD-DONE rc=";
        // what came before the command is not its output
        self.mark = self.seen.len();
        let start = self.mark;
        (&self.sock)
            .write_all(format!("{cmd}\n").as_bytes())
            .map_err(|e| format!("serial write: {e}"))?;
        self.wait_for(DONE, timeout)
            .map_err(|e| format!("`{cmd}` did not finish: {e}"))?;
        let out = self.seen[start..self.mark - DONE.len()].to_string();
        let rc = self.rest_of_line(timeout)?;
        let rc = rc
            .parse()
            .map_err(|_| format!("`{cmd}`: bad exit code '{rc}'"))?;
        Ok((rc, out))
    }

    /// Run `cmd` in the guest until it succeeds, for state the guest
    /// reaches on its own time (a hot-plugged device, a new link).
    pub(super) fn run_until_ok(&mut self, cmd: &str, within: Duration) -> Result<String, String> {
        let deadline = Instant::now() + within;
        loop {
            let (rc, out) = self.run(cmd, CMD_TIMEOUT)?;
            if rc == 0 {
                return Ok(out);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "`{cmd}` still fails (rc={rc}) after {within:?}: {out}"
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The size of the guest's block device `dev` in MiB as the guest sees
/// it, `None` when the guest has no such device.
fn guest_disk_mib(serial: &mut Serial, dev: &str) -> Option<u64> {
    let (rc, out) = serial
        .run(&format!("cat /sys/block/{dev}/size"), CMD_TIMEOUT)
        .unwrap();
    if rc != 0 {
        return None;
    }
    let sectors: u64 = out
        .lines()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no size of {dev} in the guest's answer '{out}'"));
    Some(sectors / SECTORS_PER_MIB)
}

/// Wait until the guest sees `dev` with `want` MiB (`None`: no device);
/// devices come and go, and sizes change, at the guest's own pace.
fn await_guest_disk(serial: &mut Serial, dev: &str, want: Option<u64>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = guest_disk_mib(serial, dev);
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the guest sees {dev} as {got:?} MiB, not {want:?}; console:\n{}",
            serial.seen
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn query_block(hv: &KvmHypervisor, name: &str) -> Vec<ganeti_qmp::commands::BlockInfo> {
    let f = hv.dirs.instance(name);
    let mut qmp = control::connect(&f.qmp, Duration::from_secs(5)).unwrap();
    qmp.execute(&QueryBlock).unwrap()
}

fn block_size(hv: &KvmHypervisor, name: &str, id: &str) -> Option<u64> {
    query_block(hv, name)
        .into_iter()
        .find(|b| b.device == id)
        .and_then(|b| b.inserted)
        .map(|i| i.image.virtual_size)
}

/// The uuid of the first disk (vda in the guest) the tests give a VM.
const FIRST_DISK: &str = "r00t0000-1111-4222-8333-444455556666";

#[test]
fn qemu_boot_reboot_readopt_and_acpi_stop() {
    let Some(guest) = test_guest() else { return };
    let lab = Lab::new(guest);
    let name = "gla";
    let (dspec, disk) = lab.data_disk(name, FIRST_DISK, 64);
    let mut inst = lab.instance(name, json!({}));
    inst.disks = vec![dspec];
    let t0 = Instant::now();
    lab.hv
        .start(&inst, std::slice::from_ref(&disk), false)
        .unwrap();
    let f = lab.hv.dirs.instance(name);
    let mut serial = Serial::connect(&f.serial);
    let first = serial.ready(name, BOOT_TIMEOUT).unwrap();
    eprintln!(
        "booted to GUEST-READY in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(first.ip, "none");
    // the guest got its disk, whole
    assert_eq!(guest_disk_mib(&mut serial, "vda"), Some(64));
    assert_eq!(guest_disk_mib(&mut serial, "vdb"), None);

    // a second start is refused; the VM is seen from the live process
    assert!(matches!(
        lab.hv.start(&inst, &[disk], false).unwrap_err(),
        NodeError::AlreadyRunning { .. }
    ));
    let info = lab.hv.instance_info(name).unwrap().expect("running");
    assert_eq!(info.state, HvInstanceState::Running);
    assert_eq!((info.memory, info.vcpus), (128, 1));
    assert!(info.time > 0.0, "{info:?}");
    for p in [
        &f.pid,
        &f.runtime,
        &f.qmp,
        &f.info_qmp,
        &f.monitor,
        &f.serial,
    ] {
        assert!(p.exists(), "{}", p.display());
    }
    let rt = KvmRuntime::read(name, &f.runtime).unwrap().unwrap();
    assert_eq!(rt.disks[0].id, "disk-r00t0000-1111-4222");
    assert!(!rt.argv.iter().any(|a| a == "-no-shutdown"));
    // the memory the guest may still claim is reserved
    assert!(lab.hv.node_info().unwrap().memory_free > 0);

    // soft reboot: the guest boots again (a new boot id) in the same QEMU
    lab.hv.reboot(&inst).unwrap();
    let second = serial.ready(name, BOOT_TIMEOUT).unwrap();
    assert_ne!(first.boot, second.boot, "the guest did not boot again");
    assert_eq!(lab.hv.live(name).unwrap().unwrap().pid, rt.pid);
    assert_eq!(guest_disk_mib(&mut serial, "vda"), Some(64));

    // a restarted daemon (a new hypervisor on the same root) re-adopts it
    let hv2 = KvmHypervisor::new(&lab.paths(), HostProbe::system());
    assert!(hv2.all_instances_info().unwrap().contains_key(name));

    // clean stop through ACPI: the guest runs its shutdown
    let t1 = Instant::now();
    hypervisor::shutdown(&hv2, &inst, Duration::from_secs(30)).unwrap();
    eprintln!("ACPI shutdown took {:.1} s", t1.elapsed().as_secs_f64());
    assert!(hv2.instance_info(name).unwrap().is_none());
    assert!(process::inspect(rt.pid, name, &f.pid).is_none());
    let _ = serial.wait_for("GUEST-SHUTDOWN name=gla", Duration::from_secs(2));
    assert!(
        serial.seen.contains("GUEST-SHUTDOWN name=gla"),
        "the guest did not shut down cleanly:\n{}",
        serial.seen
    );
    hv2.cleanup(name).unwrap();
    assert!(!f.runtime.exists() && !f.qmp.exists());
    // stopping again: nothing runs
    assert!(matches!(
        hv2.stop(&inst, false, Duration::ZERO).unwrap_err(),
        NodeError::NotRunning { .. }
    ));
}

#[test]
fn qemu_disks_kill_restart_and_user_shutdown() {
    let Some(guest) = test_guest() else { return };
    let lab = Lab::new(guest);
    let name = "glb";
    let (first_spec, first) = lab.data_disk(name, FIRST_DISK, 64);
    let data_uuid = "d0d0d0d0-1111-4222-8333-444455556666";
    let (data_spec, data) = lab.data_disk(name, data_uuid, 32);
    let mut inst = lab.instance(name, json!({"user_shutdown": true}));
    inst.disks = vec![first_spec, data_spec];
    let mut disks = vec![first, data];
    lab.hv.start(&inst, &disks, false).unwrap();
    let f = lab.hv.dirs.instance(name);
    let mut serial = Serial::connect(&f.serial);
    serial.ready(name, BOOT_TIMEOUT).unwrap();
    assert_eq!(guest_disk_mib(&mut serial, "vda"), Some(64));
    assert_eq!(guest_disk_mib(&mut serial, "vdb"), Some(32));

    // grow the data disk while it runs: QEMU sees the new size at once,
    // and so does the guest
    let data_id = "disk-d0d0d0d0-1111-4222";
    assert_eq!(block_size(&lab.hv, name, data_id), Some(32 << 20));
    fs::OpenOptions::new()
        .write(true)
        .open(&disks[1].dev_path)
        .unwrap()
        .set_len(48 << 20)
        .unwrap();
    inst.disks[1].size_mib = 48;
    lab.hv
        .hotplug(&inst, &disks, &HotplugAction::DiskResized { index: 1 })
        .unwrap();
    assert_eq!(block_size(&lab.hv, name, data_id), Some(48 << 20));
    await_guest_disk(&mut serial, "vdb", Some(48));
    assert_eq!(guest_disk_mib(&mut serial, "vda"), Some(64));
    let e = lab
        .hv
        .hotplug(&inst, &disks, &HotplugAction::DiskResized { index: 7 })
        .unwrap_err();
    assert!(e.to_string().contains("there is no disk 7"), "{e}");

    // hot-add a disk: a named drive plus a virtio device the guest finds
    let extra_uuid = "e0e0e0e0-1111-4222-8333-444455556666";
    let (extra_spec, extra) = lab.data_disk(name, extra_uuid, 16);
    inst.disks.push(extra_spec);
    disks.push(extra);
    lab.hv
        .hotplug(&inst, &disks, &HotplugAction::DiskAdd { index: 2 })
        .unwrap();
    assert_eq!(
        block_size(&lab.hv, name, "disk-e0e0e0e0-1111-4222"),
        Some(16 << 20)
    );
    let rt = KvmRuntime::read(name, &f.runtime).unwrap().unwrap();
    assert_eq!(rt.disks.len(), 3);
    await_guest_disk(&mut serial, "vdc", Some(16));
    let e = lab
        .hv
        .hotplug(&inst, &disks, &HotplugAction::DiskAdd { index: 2 })
        .unwrap_err();
    assert!(e.to_string().contains("already attached"), "{e}");

    // the running guest releases an unplugged disk
    let removed = inst.disks.pop().unwrap();
    disks.pop();
    lab.hv
        .hotplug(&inst, &disks, &HotplugAction::DiskRemove { disk: removed })
        .unwrap();
    assert_eq!(block_size(&lab.hv, name, "disk-e0e0e0e0-1111-4222"), None);
    assert_eq!(
        KvmRuntime::read(name, &f.runtime)
            .unwrap()
            .unwrap()
            .disks
            .len(),
        2
    );
    await_guest_disk(&mut serial, "vdc", None);

    // QEMU killed behind our back: not running, and it can start again
    let pid = lab.hv.live(name).unwrap().unwrap().pid;
    process::signal(pid, Signal::KILL).unwrap();
    assert!(process::wait_until(Duration::from_secs(5), || lab
        .hv
        .instance_info(name)
        .unwrap()
        .is_none()));
    assert!(lab.hv.all_instances_info().unwrap().is_empty());
    lab.hv.start(&inst, &disks, false).unwrap();
    let mut serial = Serial::connect(&f.serial);
    assert_eq!(block_size(&lab.hv, name, data_id), Some(48 << 20));
    serial.ready(name, BOOT_TIMEOUT).unwrap();
    // the restarted guest has the grown disk, not the removed one
    assert_eq!(guest_disk_mib(&mut serial, "vda"), Some(64));
    assert_eq!(guest_disk_mib(&mut serial, "vdb"), Some(48));
    assert_eq!(guest_disk_mib(&mut serial, "vdc"), None);

    // user_shutdown: a guest poweroff leaves QEMU in "shutdown"
    lab.hv.stop(&inst, false, Duration::ZERO).unwrap();
    assert!(
        process::wait_until(Duration::from_secs(30), || {
            lab.hv.instance_info(name).unwrap().map(|i| i.state) == Some(HvInstanceState::Shutdown)
        }),
        "state: {:?}",
        lab.hv.instance_info(name).unwrap()
    );
    serial
        .wait_for("GUEST-SHUTDOWN name=glb", Duration::from_secs(5))
        .unwrap();
    // the next stop request ends the process
    lab.hv.stop(&inst, false, Duration::ZERO).unwrap();
    assert!(process::wait_until(Duration::from_secs(10), || lab
        .hv
        .instance_info(name)
        .unwrap()
        .is_none()));
    lab.hv.cleanup(name).unwrap();
}

#[test]
fn qemu_failed_start_reports_qemus_message_and_cleans_up() {
    let Some(guest) = test_guest() else { return };
    let lab = Lab::new(guest);
    let inst = lab.instance("glc", json!({"kvm_extra": "-no-such-option"}));
    let e = lab.hv.start(&inst, &[], false).unwrap_err();
    assert!(matches!(e, NodeError::KvmStart { .. }), "{e}");
    assert!(e.to_string().contains("-no-such-option"), "{e}");
    let f = lab.hv.dirs.instance("glc");
    for p in [&f.pid, &f.runtime, &f.qmp, &f.serial] {
        assert!(!p.exists(), "{}", p.display());
    }
    assert!(lab.hv.instance_info("glc").unwrap().is_none());

    // a failure after QEMU was launched (pinning to a CPU the host does
    // not have): the QEMU is killed and its files removed
    let inst = lab.instance("glc", json!({"cpu_mask": "1000"}));
    let e = lab.hv.start(&inst, &[], false).unwrap_err();
    assert!(e.to_string().contains("CPU pinning failed"), "{e}");
    assert!(lab.hv.instance_info("glc").unwrap().is_none());
    for p in [&f.pid, &f.runtime, &f.qmp, &f.serial] {
        assert!(!p.exists(), "{}", p.display());
    }
    let leftover = Command::new("pgrep")
        .args(["-f", &format!("-pidfile {}", f.pid.display())])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    for pid in leftover.lines().filter_map(|p| p.parse::<i32>().ok()) {
        // pgrep also lists zombies; a live one would be a leak
        assert!(
            process::inspect(pid, "glc", &f.pid).is_none(),
            "QEMU {pid} left running"
        );
    }

    // a paused start with per-vCPU pinning and a VNC password: QEMU
    // runs, the guest does not yet
    let pw = lab.dir.path().join("vnc-pw");
    fs::write(&pw, "s3cret\n").unwrap();
    let mut inst = lab.instance(
        "glc",
        json!({"cpu_mask": "1:0", "vnc_bind_address": "127.0.0.1",
               "vnc_password_file": pw.to_str().unwrap()}),
    );
    inst.vcpus = 2;
    inst.network_port = Some(5900 + 100 + std::process::id() % 1000);
    lab.hv.start(&inst, &[], true).unwrap();
    let mut qmp = control::connect(&f.qmp, Duration::from_secs(5)).unwrap();
    assert_eq!(control::run_state(&mut qmp).unwrap(), RunState::Prelaunch);
    let vnc = qmp.execute_raw("query-vnc", None).unwrap();
    assert_eq!(vnc["auth"], json!("vnc"), "{vnc}");
    let mut cpus = qmp.execute(&ganeti_qmp::commands::QueryCpusFast).unwrap();
    cpus.sort_by_key(|c| c.cpu_index);
    let allowed = |tid: i64| {
        fs::read_to_string(format!("/proc/{tid}/status"))
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("Cpus_allowed_list:")
                    .map(|v| v.trim().to_string())
            })
            .unwrap()
    };
    if std::thread::available_parallelism().map_or(1, |n| n.get()) >= 2 {
        assert_eq!(allowed(cpus[0].thread_id), "1");
        assert_eq!(allowed(cpus[1].thread_id), "0");
    }
    drop(qmp);
    let argv = KvmRuntime::read("glc", &f.runtime).unwrap().unwrap().argv;
    assert!(!argv.join(" ").contains("s3cret"));
    assert!(lab.hv.instance_info("glc").unwrap().is_some());
    lab.hv.stop(&inst, true, Duration::ZERO).unwrap();
    assert!(lab.hv.instance_info("glc").unwrap().is_none());
    lab.hv.cleanup("glc").unwrap();

    // one mask pins the whole process
    let inst = lab.instance("glc", json!({"cpu_mask": "0"}));
    lab.hv.start(&inst, &[], true).unwrap();
    let pid = lab.hv.live("glc").unwrap().unwrap().pid;
    for task in fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let tid: i64 = task.file_name().to_str().unwrap().parse().unwrap();
        assert_eq!(allowed(tid), "0", "thread {tid}");
    }
    lab.hv.stop(&inst, true, Duration::ZERO).unwrap();
    lab.hv.cleanup("glc").unwrap();
}
