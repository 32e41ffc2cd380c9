//! The client against a real qemu-system-x86_64 (TCG). Each test starts its
//! own QEMU in a temp dir and kills it (by its pid, via `Child`) when the
//! guard drops, also on failure. Skipped loudly when QEMU (or, for the boot
//! test, the repository's test guest, tests/guest/build-guest.sh) is missing.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ganeti_qmp::commands::*;
use ganeti_qmp::{Qmp, QmpError};

const QEMU: &str = "qemu-system-x86_64";
/// Names the test guest's directory; scripts/test.sh sets it.
const GUEST_DIR_ENV: &str = "GANETI_TEST_GUEST_DIR";
const TIMEOUT: Duration = Duration::from_secs(10);

fn find_qemu() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(QEMU))
        .find(|p| p.is_file())
}

/// The test guest's kernel and initramfs, or `None` (after saying why,
/// and how to build them) when they are missing. The guest is in
/// `$GANETI_TEST_GUEST_DIR`, else `<repo>/target/guest`.
fn test_guest() -> Option<(PathBuf, PathBuf)> {
    let dir = match std::env::var_os(GUEST_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/guest");
            dir.canonicalize().unwrap_or(dir)
        }
    };
    let (kernel, initrd) = (dir.join("vmlinuz"), dir.join("initramfs.img"));
    for needed in [&kernel, &initrd] {
        if !needed.is_file() {
            eprintln!(
                "SKIP: guest powerdown test not run: the test guest's {} is missing; \
                 build it with `tests/guest/build-guest.sh` (it writes to ${GUEST_DIR_ENV}, \
                 else <repo>/target/guest), or run scripts/test.sh",
                needed.display()
            );
            return None;
        }
    }
    Some((kernel, initrd))
}

/// A running QEMU; killed and reaped on drop.
struct QemuGuard {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for QemuGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl QemuGuard {
    fn sock(&self) -> PathBuf {
        self.dir.path().join("qmp.sock")
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Connect once the socket is there.
    fn connect(&mut self) -> Qmp<UnixStream> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("qemu exited early ({status}): {}", self.stderr());
            }
            match Qmp::connect(&self.sock(), TIMEOUT) {
                Ok(qmp) => return qmp,
                Err(QmpError::Connect { .. }) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("connect: {e}; stderr: {}", self.stderr()),
            }
        }
    }

    /// Wait for QEMU to exit by itself.
    fn wait_exit(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

fn start(qemu: &Path, extra: &[&str]) -> QemuGuard {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("qmp.sock");
    let stderr = File::create(dir.path().join("stderr.log")).unwrap();
    let child = Command::new(qemu)
        .args([
            "-M",
            "pc",
            "-accel",
            "tcg",
            "-display",
            "none",
            "-nodefaults",
        ])
        .args(["-no-user-config", "-name", "qmp-test"])
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", sock.display()))
        .args(["-monitor", "none"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn qemu");
    QemuGuard { child, dir }
}

/// A paused (`-S`) machine with no guest: enough for the control plane.
fn start_paused() -> Option<QemuGuard> {
    let Some(qemu) = find_qemu() else {
        eprintln!("SKIP: {QEMU} not found in PATH; real-QEMU QMP tests not run");
        return None;
    };
    Some(start(&qemu, &["-m", "64", "-S"]))
}

/// Send commands until one reports `Closed` (QEMU may still answer one
/// or two after `quit` before it exits); any other error fails.
fn assert_closes(qmp: &mut Qmp<UnixStream>) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match qmp.execute(&QueryStatus) {
            Err(QmpError::Closed) => break,
            Ok(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => panic!("expected the connection to close, got {other:?}"),
        }
    }
    // Closed is sticky and never a panic.
    assert!(qmp.execute(&QueryStatus).unwrap_err().is_closed());
    assert!(qmp.hmp("info status").unwrap_err().is_closed());
    let res = qmp.wait_event("NEVER", Duration::from_millis(100));
    assert!(res.unwrap_err().is_closed());
}

#[test]
fn prelaunch_queries_hmp_and_errors() {
    let Some(mut vm) = start_paused() else { return };
    let mut qmp = vm.connect();

    let st = qmp.execute(&QueryStatus).unwrap();
    assert_eq!(st.status, RunState::Prelaunch);
    assert!(!st.running);

    let ver = qmp.execute(&QueryVersion).unwrap();
    assert!(ver.qemu.major >= 10, "{ver:?}");
    assert_eq!(
        qmp.greeting()["version"]["qemu"]["major"],
        u64::from(ver.qemu.major)
    );

    let out = qmp.hmp("info status").unwrap();
    assert!(out.contains("prelaunch"), "{out:?}");
    assert!(!out.contains('\r'));

    assert_eq!(
        qmp.execute(&QueryName).unwrap().name.as_deref(),
        Some("qmp-test")
    );
    let cpus = qmp.execute(&QueryCpusFast).unwrap();
    assert_eq!(cpus.len(), 1);
    assert!(cpus[0].thread_id > 0);
    assert_eq!(
        qmp.execute(&QueryMemorySizeSummary).unwrap().base_memory,
        64 << 20
    );
    assert_eq!(qmp.execute(&QueryMigrate).unwrap(), serde_json::json!({}));
    qmp.execute(&MigrateSetParameters(
        serde_json::json!({"max-bandwidth": 33554432, "downtime-limit": 300}),
    ))
    .unwrap();
    let params = qmp.execute(&QueryMigrateParameters).unwrap();
    assert_eq!(params["downtime-limit"], 300);

    // QEMU's own errors come back typed, and the connection carries on.
    let e = qmp.execute(&QueryBalloon).unwrap_err();
    assert_eq!(e.class(), Some("DeviceNotActive"), "{e}");
    let e = qmp.execute_raw("no-such-command", None).unwrap_err();
    assert_eq!(e.class(), Some("CommandNotFound"), "{e}");
    let e = qmp
        .execute(&BlockResize::by_node("no-such-node", 1 << 20))
        .unwrap_err();
    assert!(matches!(e, QmpError::Command { .. }), "{e}");
    let e = qmp.execute(&Getfd { fdname: "x".into() }).unwrap_err();
    assert!(matches!(e, QmpError::Command { .. }), "{e}");

    // stop/cont leave prelaunch.
    qmp.execute(&Cont).unwrap();
    assert_eq!(qmp.execute(&QueryStatus).unwrap().status, RunState::Running);
    qmp.execute(&Stop).unwrap();
    let ev = qmp.wait_event("STOP", TIMEOUT).unwrap();
    assert!(ev.timestamp.is_some());
    assert_eq!(qmp.execute(&QueryStatus).unwrap().status, RunState::Paused);
}

#[test]
fn send_fd_then_closefd() {
    let Some(mut vm) = start_paused() else { return };
    let mut qmp = vm.connect();
    let (rd, wr) = rustix::pipe::pipe().unwrap();
    qmp.send_fd("pipe-r", rd.as_fd()).unwrap();
    qmp.send_fd("pipe-w", wr.as_fd()).unwrap();
    drop((rd, wr)); // QEMU holds its own copies.
    qmp.execute(&Closefd {
        fdname: "pipe-r".into(),
    })
    .unwrap();
    // Closing again proves the first closefd found the descriptor.
    let e = qmp
        .execute(&Closefd {
            fdname: "pipe-r".into(),
        })
        .unwrap_err();
    assert!(matches!(e, QmpError::Command { .. }), "{e}");
    qmp.execute(&Closefd {
        fdname: "pipe-w".into(),
    })
    .unwrap();
    // The connection is still in step after fd passing.
    assert_eq!(
        qmp.execute(&QueryStatus).unwrap().status,
        RunState::Prelaunch
    );
}

#[test]
fn hotplug_disk_resize_and_nic_on_passed_fd() {
    let Some(mut vm) = start_paused() else { return };
    let mut qmp = vm.connect();

    let img = vm.dir.path().join("disk0.raw");
    File::create(&img).unwrap().set_len(1 << 20).unwrap();
    qmp.execute(&BlockdevAdd(serde_json::json!({
        "driver": "raw", "node-name": "d0",
        "file": {"driver": "file", "filename": img.to_str().unwrap()},
    })))
    .unwrap();
    qmp.execute(&DeviceAdd::new("virtio-blk-pci", "vd0").arg("drive", "d0"))
        .unwrap();
    let size_of_d0 = |qmp: &mut Qmp<UnixStream>| {
        let blocks = qmp.execute(&QueryBlock).unwrap();
        let b = blocks
            .iter()
            .find(|b| b.qdev.as_deref().is_some_and(|q| q.contains("vd0")))
            .expect("vd0 in query-block");
        let ins = b.inserted.as_ref().unwrap();
        assert_eq!(ins.node_name.as_deref(), Some("d0"));
        ins.image.virtual_size
    };
    assert_eq!(size_of_d0(&mut qmp), 1 << 20);
    qmp.execute(&BlockResize::by_node("d0", 2 << 20)).unwrap();
    assert_eq!(size_of_d0(&mut qmp), 2 << 20);
    assert_eq!(std::fs::metadata(&img).unwrap().len(), 2 << 20);
    // A node in use cannot be deleted.
    let e = qmp
        .execute(&BlockdevDel {
            node_name: "d0".into(),
        })
        .unwrap_err();
    assert!(matches!(e, QmpError::Command { .. }), "{e}");

    // A NIC whose back end is a socket we pass by fd (as Ganeti passes taps).
    let (ours, theirs) = UnixStream::pair().unwrap();
    qmp.send_fd("nicfd", theirs.as_fd()).unwrap();
    drop(theirs);
    let mut nd = NetdevAdd::new("n1", "socket");
    nd.fd = Some("nicfd".into());
    qmp.execute(&nd).unwrap();
    qmp.execute(
        &DeviceAdd::new("virtio-net-pci", "nic1")
            .arg("netdev", "n1")
            .arg("mac", "aa:00:00:12:34:56"),
    )
    .unwrap();
    let pci = qmp.execute(&QueryPci).unwrap();
    let ids: Vec<&str> = pci[0]["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["qdev_id"].as_str())
        .collect();
    assert!(ids.contains(&"nic1") && ids.contains(&"vd0"), "{ids:?}");
    // Unplug is a request to the guest; the reply only says it was sent.
    qmp.execute(&DeviceDel { id: "nic1".into() }).unwrap();
    let e = qmp
        .execute(&DeviceDel {
            id: "no-such-dev".into(),
        })
        .unwrap_err();
    assert_eq!(e.class(), Some("DeviceNotFound"), "{e}");
    drop(ours);

    qmp.execute(&NetdevAdd::new("n2", "user")).unwrap();
    qmp.execute(&NetdevDel { id: "n2".into() }).unwrap();
    let e = qmp.execute(&NetdevDel { id: "n2".into() }).unwrap_err();
    assert!(matches!(e, QmpError::Command { .. }), "{e}");
}

#[test]
fn powerdown_event_then_quit_reports_closed() {
    let Some(mut vm) = start_paused() else { return };
    let mut qmp = vm.connect();
    qmp.execute(&SystemPowerdown).unwrap();
    let ev = qmp.wait_event("POWERDOWN", TIMEOUT).unwrap();
    assert_eq!(ev.event, "POWERDOWN");
    qmp.execute(&Quit).unwrap();
    assert_closes(&mut qmp);
    assert!(vm.wait_exit(TIMEOUT), "qemu still running after quit");
}

#[test]
fn killed_qemu_reports_closed() {
    let Some(mut vm) = start_paused() else { return };
    let mut qmp = vm.connect();
    vm.child.kill().unwrap();
    vm.child.wait().unwrap();
    assert!(qmp.execute(&QueryStatus).unwrap_err().is_closed());
    // And connecting to the dead socket is a Connect error.
    let e = Qmp::connect(&vm.sock(), TIMEOUT).unwrap_err();
    assert!(matches!(e, QmpError::Connect { .. }), "{e}");
}

#[test]
fn guest_acpi_powerdown_emits_shutdown_and_qemu_exits() {
    let Some(qemu) = find_qemu() else {
        eprintln!("SKIP: {QEMU} not found in PATH; guest powerdown test not run");
        return;
    };
    let Some((kernel, initrd)) = test_guest() else {
        return;
    };
    // The guest's console goes to a file: it shows the guest ran its own
    // shutdown, not just that QEMU stopped.
    let console = tempfile::NamedTempFile::new().unwrap();
    let mut vm = start(
        &qemu,
        &[
            "-m",
            "128",
            "-kernel",
            kernel.to_str().unwrap(),
            "-initrd",
            initrd.to_str().unwrap(),
            "-append",
            "console=ttyS0 panic=-1 quiet gnt.name=qmptest",
            "-serial",
            &format!("file:{}", console.path().display()),
        ],
    );
    let mut qmp = vm.connect();
    // Press the power button until the guest's acpid is up and acts on it.
    let deadline = Instant::now() + Duration::from_secs(90);
    let shutdown = loop {
        assert!(Instant::now() < deadline, "no SHUTDOWN within 90 s");
        qmp.execute(&SystemPowerdown).unwrap();
        match qmp.wait_event("SHUTDOWN", Duration::from_secs(3)) {
            Ok(ev) => break ev,
            Err(QmpError::Timeout { .. }) => continue,
            Err(e) => panic!("waiting for SHUTDOWN: {e}"),
        }
    };
    assert_eq!(shutdown.data["guest"], true, "{shutdown:?}");
    assert!(qmp.take_events().iter().any(|e| e.event == "POWERDOWN"));
    // Without -no-shutdown QEMU exits after the guest powers off.
    assert_closes(&mut qmp);
    assert!(
        vm.wait_exit(TIMEOUT),
        "qemu still running after guest poweroff"
    );
    let said = std::fs::read_to_string(console.path()).unwrap();
    assert!(
        said.contains("GUEST-READY name=qmptest ") && said.contains("GUEST-SHUTDOWN name=qmptest"),
        "the guest did not boot and shut down cleanly; its console:\n{said}"
    );
}
