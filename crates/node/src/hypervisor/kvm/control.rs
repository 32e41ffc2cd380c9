//! Talking to a running QEMU over QMP: status, power buttons, passwords,
//! CPU pinning.
//!
//! Each operation opens its own short connection (QMP serves one client
//! per socket at a time, so holding one open would lock out operators and
//! other node operations). Status queries use a second QMP socket, so a
//! long operation (a hot-unplug waiting for the guest) never stalls
//! `instance_info`.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use ganeti_qmp::commands::{
    Cont, QueryCpusFast, QueryMemorySizeSummary, QueryStatus, RunState, SystemReset,
};
use ganeti_qmp::{Qmp, QmpError};
use ganeti_types::hvparams::cpumask::CpuPin;
use rustix::process::Pid;
use rustix::thread::CpuSet;
use serde_json::json;

use crate::info::HvInstanceState;

/// Timeout of each read/write of an operation's QMP conversation.
pub(crate) const OP_TIMEOUT: Duration = Duration::from_secs(10);
/// Timeout of a status query's conversation; on expiry the caller falls
/// back to what the command line says.
pub(crate) const INFO_TIMEOUT: Duration = Duration::from_secs(2);

/// Connect and negotiate.
pub(crate) fn connect(path: &Path, timeout: Duration) -> Result<Qmp<UnixStream>, QmpError> {
    Qmp::<UnixStream>::connect(path, timeout)
}

/// What QMP says about a running VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LiveStatus {
    pub state: HvInstanceState,
    pub run_state: RunState,
    pub memory_mib: Option<u64>,
    pub vcpus: Option<u32>,
}

/// The VM's run state, memory and vCPU count.
pub(crate) fn query_live(qmp: &mut Qmp<UnixStream>) -> Result<LiveStatus, QmpError> {
    let status = qmp.execute(&QueryStatus)?;
    let state = match status.status {
        RunState::Shutdown => HvInstanceState::Shutdown,
        _ => HvInstanceState::Running,
    };
    let memory_mib = qmp
        .execute(&QueryMemorySizeSummary)
        .ok()
        .map(|m| (m.base_memory + m.plugged_memory.unwrap_or(0)) / (1024 * 1024));
    let vcpus = qmp
        .execute(&QueryCpusFast)
        .ok()
        .and_then(|cpus| u32::try_from(cpus.len()).ok());
    Ok(LiveStatus {
        state,
        run_state: status.status,
        memory_mib,
        vcpus,
    })
}

/// The VM's run state only.
pub(crate) fn run_state(qmp: &mut Qmp<UnixStream>) -> Result<RunState, QmpError> {
    Ok(qmp.execute(&QueryStatus)?.status)
}

/// Set the VNC or SPICE password (`protocol` is `vnc` or `spice`). The
/// password never appears on a command line or in a log.
pub(crate) fn set_password(
    qmp: &mut Qmp<UnixStream>,
    protocol: &str,
    password: &str,
) -> Result<(), QmpError> {
    qmp.execute_raw(
        "set_password",
        Some(json!({"protocol": protocol, "password": password})),
    )
    .map(|_| ())
}

/// Reset the guest (a soft reboot). With `-no-reboot` (reboot_behavior
/// exit) QEMU would turn any reset into an exit, so the reboot action is
/// switched to "reset" around the request and back afterwards.
pub(crate) fn reset(qmp: &mut Qmp<UnixStream>, exits_on_reboot: bool) -> Result<(), QmpError> {
    let was_shut_down = run_state(qmp)? == RunState::Shutdown;
    if exits_on_reboot {
        qmp.execute_raw("set-action", Some(json!({"reboot": "reset"})))?;
    }
    let res = qmp.execute(&SystemReset);
    if exits_on_reboot {
        let back = qmp.execute_raw("set-action", Some(json!({"reboot": "shutdown"})));
        res?;
        back?;
    } else {
        res?;
    }
    // a guest that powered off under -no-shutdown stays stopped after a reset
    if was_shut_down {
        qmp.execute(&Cont)?;
    }
    Ok(())
}

/// Pin the VM as `cpu_mask` says (Ganeti's `_ExecuteCpuAffinity`): one
/// mask pins every thread of the process, one mask per vCPU pins each
/// vCPU thread; `all` leaves a thread alone.
pub(crate) fn pin_cpus(qmp: &mut Qmp<UnixStream>, pid: i32, pins: &[CpuPin]) -> Result<(), String> {
    match pins {
        [] | [CpuPin::All] => Ok(()),
        [CpuPin::Cpus(cpus)] => {
            let set = cpu_set(cpus)?;
            let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
                .map_err(|e| format!("cannot list the threads of process {pid}: {e}"))?;
            for task in tasks.flatten() {
                if let Some(tid) = task.file_name().to_str().and_then(|t| t.parse().ok()) {
                    set_affinity(tid, &set)?;
                }
            }
            Ok(())
        }
        _ => {
            let mut threads = qmp
                .execute(&QueryCpusFast)
                .map_err(|e| format!("cannot list the vCPU threads: {e}"))?;
            threads.sort_by_key(|t| t.cpu_index);
            if threads.len() != pins.len() {
                return Err(format!(
                    "the VM has {} vCPU threads but cpu_mask has {} masks",
                    threads.len(),
                    pins.len()
                ));
            }
            for (vcpu, (pin, thread)) in pins.iter().zip(&threads).enumerate() {
                let set = match pin {
                    CpuPin::All => all_cpus(),
                    CpuPin::Cpus(cpus) if cpus.is_empty() => {
                        return Err(format!("the CPU mask of vCPU {vcpu} is empty"))
                    }
                    CpuPin::Cpus(cpus) => cpu_set(cpus)?,
                };
                let tid = i32::try_from(thread.thread_id)
                    .map_err(|_| format!("bad thread id {}", thread.thread_id))?;
                set_affinity(tid, &set)?;
            }
            Ok(())
        }
    }
}

fn cpu_set(cpus: &[u32]) -> Result<CpuSet, String> {
    if cpus.is_empty() {
        return Err("the CPU mask is empty".into());
    }
    let mut set = CpuSet::new();
    for &cpu in cpus {
        let cpu = cpu as usize;
        if cpu >= CpuSet::MAX_CPU {
            return Err(format!("CPU {cpu} is beyond what can be pinned"));
        }
        set.set(cpu);
    }
    Ok(set)
}

fn all_cpus() -> CpuSet {
    let mut set = CpuSet::new();
    let n = std::thread::available_parallelism().map_or(1, |n| n.get());
    for cpu in 0..n.min(CpuSet::MAX_CPU) {
        set.set(cpu);
    }
    set
}

fn set_affinity(tid: i32, set: &CpuSet) -> Result<(), String> {
    let pid = Pid::from_raw(tid).ok_or_else(|| format!("bad thread id {tid}"))?;
    rustix::thread::sched_setaffinity(Some(pid), set)
        .map_err(|e| format!("cannot pin thread {tid}: {e}"))
}
