//! Starting an instance: taps, command line, launch, then the QMP steps
//! done while the guest's CPUs are still stopped (`-S`): passwords, CPU
//! pinning, `cont`.
//!
//! A start that fails at any step leaves nothing behind: a guard kills a
//! QEMU that was launched, undoes the tap configuration and removes the
//! instance's runtime files and sockets, so the next start begins clean
//! and `instance_info` never sees a half-started VM.

use std::collections::BTreeSet;
use std::fs;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ganeti_qmp::commands::Cont;
use ganeti_types::hvparams::kvm::KvmParams;

use super::cmdline::{self, CmdlineInput, LaunchDisk, LaunchNic};
use super::control;
use super::display;
use super::files::{self, InstanceFiles};
use super::process;
use super::runtime::{KvmRuntime, RuntimeDisk, RuntimeNic, RUNTIME_VERSION};
use super::KvmHypervisor;
use crate::net;
use crate::spec::{AttachedDisk, InstanceSpec, NicSpec};
use crate::NodeError;

/// How long the daemonizing QEMU may take to set the VM up.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a killed QEMU may take to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// Undoes a partial start unless disarmed.
struct StartGuard<'a> {
    instance: &'a str,
    files: &'a InstanceFiles,
    taps: Vec<(String, NicSpec)>,
    pid: Option<i32>,
    armed: bool,
}

impl Drop for StartGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if let Some(pid) = self.pid {
            let _ = process::signal(pid, rustix::process::Signal::KILL);
            let gone = process::wait_until(KILL_WAIT, || {
                process::inspect(pid, self.instance, &self.files.pid).is_none()
            });
            if !gone {
                tracing::error!(
                    instance = self.instance,
                    pid,
                    "QEMU of a failed start does not die"
                );
            }
        }
        for (tap, nic) in &self.taps {
            if let Err(e) = net::unconfigure_tap(tap, nic) {
                tracing::warn!(instance = self.instance, tap, error = %e, "cannot undo the tap setup of a failed start");
            }
        }
        if let Err(e) = super::remove_instance_files(self.files) {
            tracing::warn!(instance = self.instance, error = %e, "cannot remove the files of a failed start");
        }
    }
}

/// Read a one-line password file (Ganeti's `ReadOneLineFile`); the error
/// never quotes the content.
fn read_password(what: &str, path: &str) -> Result<String, String> {
    let text = fs::read_to_string(path)
        .map_err(|e| format!("Failed to open {what} password file {path}: {e}"))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        return Err(format!(
            "Failed to open {what} password file {path}: no data"
        ));
    }
    Ok(line.to_string())
}

/// The launch form of the instance's disks, checked for id clashes.
fn launch_disks(inst: &InstanceSpec, disks: &[AttachedDisk]) -> Result<Vec<LaunchDisk>, String> {
    disks
        .iter()
        .map(|d| {
            let shared = inst
                .disks
                .iter()
                .find(|s| s.uuid == d.uuid)
                .is_some_and(|s| cmdline::is_shared_template(s.template));
            Ok(LaunchDisk {
                id: cmdline::device_id("disk", &d.uuid)?,
                path: d.dev_path.clone(),
                mode: d.mode,
                shared,
            })
        })
        .collect()
}

fn check_unique<'a>(ids: impl IntoIterator<Item = &'a String>) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for id in ids {
        if !seen.insert(id) {
            return Err(format!(
                "two devices would get the QEMU id '{id}' (their uuids share a prefix)"
            ));
        }
    }
    Ok(())
}

pub(super) fn start(
    hv: &KvmHypervisor,
    inst: &InstanceSpec,
    disks: &[AttachedDisk],
    startup_paused: bool,
) -> Result<(), NodeError> {
    let name = inst.name.as_str();
    files::check_name(&hv.dirs, name)?;
    let params = super::parse_params(&inst.name, &inst.hvparams)?;
    let lock = hv.instance_lock(name);
    let _guard = super::hold(&lock);
    if hv.live(name)?.is_some() {
        return Err(NodeError::AlreadyRunning {
            instance: name.to_string(),
        });
    }
    // whatever a VM that died on its own left behind
    hv.remove_files(name)?;
    let fail = |reason: String| NodeError::KvmStart {
        instance: name.to_string(),
        reason,
    };
    let files = hv.dirs.instance(name);

    if !Path::new(&params.kvm_path).is_file() {
        return Err(fail(format!(
            "The KVM binary ('{}') does not exist",
            params.kvm_path
        )));
    }
    let launch_disks = launch_disks(inst, disks).map_err(fail)?;
    let nic_ids = inst
        .nics
        .iter()
        .map(|n| cmdline::device_id("nic", &n.uuid))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    check_unique(launch_disks.iter().map(|d| &d.id)).map_err(fail)?;
    check_unique(&nic_ids).map_err(fail)?;
    let vnc = match params.vnc_bind_address.as_str() {
        "" => None,
        bind => Some(display::resolve_vnc(bind, display::interface_addresses).map_err(fail)?),
    };
    let spice_addr = match params.spice_bind.as_str() {
        "" => None,
        bind => Some(
            display::resolve_spice(bind, params.spice_ip_version, display::interface_addresses)
                .map_err(fail)?,
        ),
    };
    let password = |what: &str, file: &str| match file {
        "" => Ok(None),
        f => read_password(what, f).map(Some).map_err(fail),
    };
    let vnc_password = if vnc.is_some() {
        password("VNC", &params.vnc_password_file)?
    } else {
        None
    };
    let spice_password = if spice_addr.is_some() {
        password("SPICE", &params.spice_password_file)?
    } else {
        None
    };

    hv.dirs.ensure().map_err(|source| NodeError::HvStateIo {
        action: "start",
        instance: name.to_string(),
        path: hv.dirs.root().to_path_buf(),
        source,
    })?;
    if params.use_chroot {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&files.chroot)
            .map_err(|source| NodeError::HvStateIo {
                action: "start",
                instance: name.to_string(),
                path: files.chroot.clone(),
                source,
            })?;
    }

    let mut guard = StartGuard {
        instance: name,
        files: &files,
        taps: Vec::new(),
        pid: None,
        armed: true,
    };
    let mut fds: Vec<OwnedFd> = Vec::new();
    let mut launch_nics = Vec::new();
    for (nic, id) in inst.nics.iter().zip(&nic_ids) {
        let tap = net::open_tap(None, params.vnet_hdr)?;
        guard.taps.push((tap.ifname.clone(), nic.clone()));
        net::configure_tap(&tap.ifname, nic, name)?;
        launch_nics.push(LaunchNic {
            id: id.clone(),
            mac: nic.mac.clone(),
            fd: tap.fd.as_raw_fd(),
        });
        fds.push(tap.fd);
    }

    let (spice_cert, spice_ca) = hv.dirs.spice_certs();
    let argv = cmdline::build(&CmdlineInput {
        inst,
        params: &params,
        files: &files,
        spice_certs: (spice_cert, spice_ca),
        disks: &launch_disks,
        nics: &launch_nics,
        vnc: vnc.as_ref(),
        spice_addr,
        vhost_net_available: Path::new("/dev/vhost-net").exists(),
    })
    .map_err(fail)?;

    tracing::info!(instance = name, "starting QEMU");
    process::launch(&argv, fds, &files.log, LAUNCH_TIMEOUT).map_err(fail)?;
    let pid = process::read_pid_file(name, &files.pid)?
        .ok_or_else(|| fail("QEMU started but left no pid file".into()))?;
    guard.pid = Some(pid);
    if process::inspect(pid, name, &files.pid).is_none() {
        return Err(fail(format!(
            "QEMU exited right after starting; see {}",
            files.log.display()
        )));
    }

    let started_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let runtime = KvmRuntime {
        version: RUNTIME_VERSION,
        instance: name.to_string(),
        uuid: inst.uuid.clone(),
        pid,
        started_at,
        argv,
        hvparams: inst.hvparams.clone(),
        maxmem_mib: inst.maxmem_mib,
        vcpus: inst.vcpus,
        disks: launch_disks
            .iter()
            .zip(disks)
            .map(|(l, d)| RuntimeDisk {
                uuid: d.uuid.clone(),
                id: l.id.clone(),
                dev_path: d.dev_path.clone(),
                mode: d.mode,
            })
            .collect(),
        nics: guard
            .taps
            .iter()
            .zip(&nic_ids)
            .map(|((tap, nic), id)| RuntimeNic {
                nic: nic.clone(),
                id: id.clone(),
                tap: tap.clone(),
            })
            .collect(),
    };
    runtime.write(&files.runtime)?;
    super::write_nic_files(&files, &runtime)?;

    post_launch(
        name,
        &files,
        &params,
        pid,
        vnc_password,
        spice_password,
        startup_paused,
    )?;
    guard.armed = false;
    tracing::info!(instance = name, pid, "instance started");
    Ok(())
}

/// The QMP steps while the guest is stopped, then `cont`.
fn post_launch(
    name: &str,
    files: &InstanceFiles,
    params: &KvmParams,
    pid: i32,
    vnc_password: Option<String>,
    spice_password: Option<String>,
    startup_paused: bool,
) -> Result<(), NodeError> {
    let monitor = |source| NodeError::KvmMonitor {
        action: "start",
        instance: name.to_string(),
        source,
    };
    let mut qmp = control::connect(&files.qmp, control::OP_TIMEOUT).map_err(monitor)?;
    if let Some(pw) = vnc_password {
        control::set_password(&mut qmp, "vnc", &pw).map_err(monitor)?;
    }
    if let Some(pw) = spice_password {
        control::set_password(&mut qmp, "spice", &pw).map_err(monitor)?;
    }
    control::pin_cpus(&mut qmp, pid, &params.cpu_pinning()).map_err(|reason| {
        NodeError::KvmStart {
            instance: name.to_string(),
            reason: format!("CPU pinning failed: {reason}"),
        }
    })?;
    if !startup_paused {
        qmp.execute(&Cont).map_err(monitor)?;
    }
    Ok(())
}
