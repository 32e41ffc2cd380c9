//! The `kvm` hypervisor: instances are QEMU processes.
//!
//! Behaves like Ganeti's `hv_kvm` where operators can see it (the run
//! directory layout, the sockets, the device ids, the console command,
//! the clean-shutdown and reboot semantics) and is built so that nothing
//! about a running VM lives only in this process:
//!
//! * QEMU is daemonized and in its own session, with no pipe to us, so a
//!   restarted node daemon finds its VMs running and re-adopts them from
//!   the pid files and runtime files (`files`, `runtime`).
//! * "Is it running" is always asked of the live process (the pid is ours
//!   only if its command line is our QEMU of that instance), never of a
//!   file: a VM that died on its own is reported as not running, and its
//!   leftovers are removed by `Hypervisor::cleanup` or the next start.
//! * Every QMP conversation is short, and status queries use their own
//!   socket, so operations never block `instance_info`.
//!
//! Submodules by concern: the command line (`cmdline`, pure), the
//! process (`process`), QMP steps (`control`), start with rollback
//! (`start`), device hotplug (`hotplug`) and the console (`console`).

mod cmdline;
mod console;
mod control;
mod display;
mod files;
mod hotplug;
mod process;
mod runtime;
mod start;

#[cfg(test)]
mod netns_tests;
#[cfg(test)]
mod qemu_tests;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use ganeti_qmp::commands::{Quit, RunState, SystemPowerdown};
use ganeti_qmp::QmpError;
use ganeti_types::hvparams::kvm::{KvmParams, RebootBehavior};
use ganeti_types::{Dict, Paths};
use rustix::process::Signal;

use self::files::{InstanceFiles, KvmDirs};
use self::process::QemuProc;
use self::runtime::KvmRuntime;
use crate::host::HostProbe;
use crate::hypervisor::Hypervisor;
use crate::info::{ConsoleHost, ConsoleInfo, HvInstanceState, HvNodeInfo, InstanceRuntime};
use crate::net;
use crate::spec::{AttachedDisk, HotplugAction, InstanceSpec};
use crate::NodeError;

/// Ganeti's default `kvm_path`, checked by `verify`.
const DEFAULT_KVM_PATH: &str = "/usr/bin/kvm";
/// The console command's program, checked by `verify`.
const SOCAT_PATH: &str = "/usr/bin/socat";
/// How long a forced stop waits for QEMU to quit before killing it.
const QUIT_WAIT: Duration = Duration::from_secs(3);
/// How long a killed QEMU may take to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

/// The kvm hypervisor, with its state below `<run dir>/kvm-hypervisor`.
#[derive(Debug)]
pub struct KvmHypervisor {
    dirs: KvmDirs,
    host: HostProbe,
    /// One lock per instance name: serializes the check-then-act
    /// sequences (start, stop, hotplug) of one instance in this process.
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

/// Lock a mutex guarding `()`; a panic elsewhere cannot leave `()`
/// inconsistent, so poisoning is ignored.
fn hold(lock: &Mutex<()>) -> MutexGuard<'_, ()> {
    lock.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Parse a filled hvparams dict.
fn parse_params(instance: &str, hvparams: &Dict) -> Result<KvmParams, NodeError> {
    KvmParams::from_dict(hvparams).map_err(|source| NodeError::KvmParams {
        instance: instance.to_string(),
        source,
    })
}

/// Remove an instance's runtime files and sockets (not its log).
fn remove_instance_files(f: &InstanceFiles) -> io::Result<()> {
    let mut first_err = None;
    let mut note = |r: io::Result<()>| {
        if let Err(e) = r {
            first_err.get_or_insert(e);
        }
    };
    for s in f.sockets() {
        note(files::remove_if_exists(s));
    }
    note(files::remove_if_exists(&f.pid));
    note(files::remove_if_exists(&f.runtime));
    note(files::remove_dir_if_exists(&f.nic_dir));
    first_err.map_or(Ok(()), Err)
}

/// Write `nic/<instance>/<seq>` with each NIC's tap name (Ganeti's files,
/// read by operators' scripts).
fn write_nic_files(f: &InstanceFiles, rt: &KvmRuntime) -> Result<(), NodeError> {
    let io_err = |source| NodeError::HvStateIo {
        action: "save the NICs of",
        instance: rt.instance.clone(),
        path: f.nic_dir.clone(),
        source,
    };
    files::remove_dir_if_exists(&f.nic_dir).map_err(io_err)?;
    if rt.nics.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(&f.nic_dir).map_err(io_err)?;
    for (seq, nic) in rt.nics.iter().enumerate() {
        files::write_atomic(&f.nic_file(seq), nic.tap.as_bytes()).map_err(io_err)?;
    }
    Ok(())
}

impl KvmHypervisor {
    /// A kvm hypervisor with its state below `paths` (directories are
    /// created by the first start).
    pub fn new(paths: &Paths, host: HostProbe) -> Self {
        KvmHypervisor {
            dirs: KvmDirs::new(paths),
            host,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// `<run dir>/kvm-hypervisor`.
    pub fn run_dir(&self) -> &Path {
        self.dirs.root()
    }

    fn instance_lock(&self, name: &str) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.entry(name.to_string()).or_default().clone()
    }

    /// The live QEMU of `name`, if there is one.
    fn live(&self, name: &str) -> Result<Option<QemuProc>, NodeError> {
        let f = self.dirs.instance(name);
        Ok(process::read_pid_file(name, &f.pid)?
            .and_then(|pid| process::inspect(pid, name, &f.pid)))
    }

    /// Every instance with a live QEMU.
    fn live_all(&self) -> Result<BTreeMap<String, QemuProc>, NodeError> {
        let dir = self.dirs.pid_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(source) => return Err(NodeError::HostInfoIo { path: dir, source }),
        };
        let mut out = BTreeMap::new();
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if files::check_name(&self.dirs, &name).is_err() {
                continue;
            }
            if let Some(p) = self.live(&name)? {
                out.insert(name, p);
            }
        }
        Ok(out)
    }

    /// Runtime facts of a live VM: QMP when it answers quickly, else what
    /// its command line says.
    fn runtime_of(&self, name: &str, p: &QemuProc) -> InstanceRuntime {
        let mut rt = InstanceRuntime {
            state: HvInstanceState::Running,
            memory: p.memory_mib,
            vcpus: p.vcpus,
            time: process::cpu_time_secs(p.pid),
        };
        let f = self.dirs.instance(name);
        match control::connect(&f.info_qmp, control::INFO_TIMEOUT)
            .and_then(|mut q| control::query_live(&mut q))
        {
            Ok(live) => {
                rt.state = live.state;
                rt.memory = live.memory_mib.unwrap_or(rt.memory);
                rt.vcpus = live.vcpus.unwrap_or(rt.vcpus);
            }
            Err(e) => {
                tracing::debug!(instance = name, error = %e, "QMP status query failed, using the command line")
            }
        }
        rt
    }

    /// The hvparams the running VM was started with (from its runtime
    /// file), else the ones given.
    fn running_params(&self, inst: &InstanceSpec) -> Result<KvmParams, NodeError> {
        let f = self.dirs.instance(&inst.name);
        match KvmRuntime::read(&inst.name, &f.runtime) {
            Ok(Some(rt)) => parse_params(&inst.name, &rt.hvparams),
            _ => parse_params(&inst.name, &inst.hvparams),
        }
    }

    fn monitor_err<'a>(action: &'static str, name: &'a str) -> impl Fn(QmpError) -> NodeError + 'a {
        move |source| NodeError::KvmMonitor {
            action,
            instance: name.to_string(),
            source,
        }
    }

    /// Remove what a stopped VM left: undo its taps' setup, remove its
    /// runtime files and sockets.
    fn remove_files(&self, name: &str) -> Result<(), NodeError> {
        let f = self.dirs.instance(name);
        match KvmRuntime::read(name, &f.runtime) {
            Ok(Some(rt)) => {
                for n in &rt.nics {
                    if let Err(e) = net::unconfigure_tap(&n.tap, &n.nic) {
                        tracing::warn!(instance = name, tap = n.tap, error = %e, "cannot undo the tap setup");
                    }
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(instance = name, error = %e, "ignoring an unreadable runtime file")
            }
        }
        remove_instance_files(&f).map_err(|source| NodeError::HvStateIo {
            action: "clean up",
            instance: name.to_string(),
            path: self.dirs.root().to_path_buf(),
            source,
        })
    }

    /// Make QEMU go away: `quit`, SIGTERM if QMP does not answer, SIGKILL
    /// if it still runs after a short wait.
    fn destroy(&self, name: &str, p: &QemuProc) -> Result<(), NodeError> {
        let f = self.dirs.instance(name);
        let gone = || process::inspect(p.pid, name, &f.pid).is_none();
        let quit =
            control::connect(&f.qmp, Duration::from_secs(2)).and_then(|mut q| q.execute(&Quit));
        if !matches!(quit, Ok(()) | Err(QmpError::Closed)) {
            let _ = process::signal(p.pid, Signal::TERM);
        }
        if process::wait_until(QUIT_WAIT, gone) {
            return Ok(());
        }
        tracing::warn!(
            instance = name,
            pid = p.pid,
            "QEMU did not quit, killing it"
        );
        process::signal(p.pid, Signal::KILL).map_err(|e| NodeError::KvmOp {
            action: "destroy",
            instance: name.to_string(),
            reason: format!("cannot kill QEMU (pid {}): {e}", p.pid),
        })?;
        if process::wait_until(KILL_WAIT, gone) {
            Ok(())
        } else {
            Err(NodeError::KvmOp {
                action: "destroy",
                instance: name.to_string(),
                reason: format!("QEMU (pid {}) is still there after SIGKILL", p.pid),
            })
        }
    }
}

impl Hypervisor for KvmHypervisor {
    fn name(&self) -> &'static str {
        "kvm"
    }

    /// The host's memory minus what running VMs may still claim: a VM's
    /// RAM is only allocated as the guest touches it, so the host's free
    /// memory already lacks the resident part, and the rest (`-m` minus
    /// resident) is reserved here.
    fn node_info(&self) -> Result<HvNodeInfo, NodeError> {
        let mut info = self.host.linux_node_info(self.name())?;
        let reserved = self
            .live_all()?
            .values()
            .map(|p| {
                p.memory_mib
                    .saturating_sub(process::rss_mib(p.pid).unwrap_or(0))
            })
            .fold(0, u64::saturating_add);
        info.memory_free -= info.memory_free.min(reserved);
        Ok(info)
    }

    fn instance_info(&self, name: &str) -> Result<Option<InstanceRuntime>, NodeError> {
        files::check_name(&self.dirs, name)?;
        Ok(self.live(name)?.map(|p| self.runtime_of(name, &p)))
    }

    fn all_instances_info(&self) -> Result<BTreeMap<String, InstanceRuntime>, NodeError> {
        Ok(self
            .live_all()?
            .into_iter()
            .map(|(name, p)| {
                let rt = self.runtime_of(&name, &p);
                (name, rt)
            })
            .collect())
    }

    fn start(
        &self,
        inst: &InstanceSpec,
        disks: &[AttachedDisk],
        startup_paused: bool,
    ) -> Result<(), NodeError> {
        start::start(self, inst, disks, startup_paused)
    }

    /// Without `force`: the ACPI power button (or `quit` when ACPI is off
    /// or the guest already powered off under `user_shutdown`); returns
    /// at once. With `force`: the process is made to go away.
    fn stop(&self, inst: &InstanceSpec, force: bool, _timeout: Duration) -> Result<(), NodeError> {
        let name = inst.name.as_str();
        files::check_name(&self.dirs, name)?;
        let not_running = || NodeError::NotRunning {
            instance: name.to_string(),
        };
        if force {
            // no instance lock: a stuck operation must not block a destroy
            let p = self.live(name)?.ok_or_else(not_running)?;
            tracing::info!(instance = name, pid = p.pid, "destroying instance");
            return self.destroy(name, &p);
        }
        let lock = self.instance_lock(name);
        let _guard = hold(&lock);
        self.live(name)?.ok_or_else(not_running)?;
        let acpi = self.running_params(inst)?.acpi;
        let f = self.dirs.instance(name);
        let err = Self::monitor_err("stop", name);
        let mut qmp = control::connect(&f.qmp, control::OP_TIMEOUT).map_err(&err)?;
        // QEMU closing the monitor under us is QEMU going away: the stop
        // the caller wants is happening (a guest that powered off at that
        // moment, or QEMU exiting after a reset with reboot_behavior=exit)
        let state = match control::run_state(&mut qmp) {
            Ok(state) => state,
            Err(QmpError::Closed) => return Ok(()),
            Err(e) => return Err(err(e)),
        };
        let sent = if state == RunState::Shutdown || !acpi {
            qmp.execute(&Quit)
        } else {
            qmp.execute(&SystemPowerdown)
        };
        match sent {
            Ok(()) | Err(QmpError::Closed) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    fn reboot(&self, inst: &InstanceSpec) -> Result<(), NodeError> {
        let name = inst.name.as_str();
        files::check_name(&self.dirs, name)?;
        let lock = self.instance_lock(name);
        let _guard = hold(&lock);
        if self.live(name)?.is_none() {
            return Err(NodeError::RebootNotRunning {
                instance: name.to_string(),
            });
        }
        let exits = self.running_params(inst)?.reboot_behavior == RebootBehavior::Exit;
        let f = self.dirs.instance(name);
        let err = Self::monitor_err("reboot", name);
        let mut qmp = control::connect(&f.qmp, control::OP_TIMEOUT).map_err(&err)?;
        control::reset(&mut qmp, exits).map_err(&err)?;
        tracing::info!(instance = name, "instance reset (soft reboot)");
        Ok(())
    }

    fn console(&self, inst: &InstanceSpec, host: &ConsoleHost) -> ConsoleInfo {
        console::console(inst, host, &self.dirs.instance(&inst.name))
    }

    fn hotplug(
        &self,
        inst: &InstanceSpec,
        disks: &[AttachedDisk],
        action: &HotplugAction,
    ) -> Result<(), NodeError> {
        hotplug::hotplug(self, inst, disks, action)
    }

    fn verify(&self) -> Option<String> {
        let mut msgs = Vec::new();
        if !Path::new(DEFAULT_KVM_PATH).exists() {
            msgs.push(format!(
                "The KVM binary ('{DEFAULT_KVM_PATH}') does not exist"
            ));
        }
        if !Path::new(SOCAT_PATH).exists() {
            msgs.push(format!("The socat binary ('{SOCAT_PATH}') does not exist"));
        }
        (!msgs.is_empty()).then(|| msgs.join("; "))
    }

    fn cleanup(&self, name: &str) -> Result<(), NodeError> {
        files::check_name(&self.dirs, name)?;
        let lock = self.instance_lock(name);
        let _guard = hold(&lock);
        if self.live(name)?.is_some() {
            return Err(NodeError::KvmStillRunning {
                instance: name.to_string(),
            });
        }
        self.remove_files(name)
    }
}
