//! Run state, identity and resources of the VM, and its life cycle
//! (stop/cont/reset/powerdown/quit), plus HMP passthrough.

use std::fmt;

use serde::{Deserialize, Serialize};

/// `query-status`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryStatus;
command!(QueryStatus, "query-status", StatusInfo);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusInfo {
    pub status: RunState,
    pub running: bool,
}

/// QEMU's `RunState`. States a newer QEMU adds decode as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    Debug,
    Inmigrate,
    InternalError,
    IoError,
    Paused,
    Postmigrate,
    Prelaunch,
    FinishMigrate,
    RestoreVm,
    Running,
    SaveVm,
    Shutdown,
    Suspended,
    Watchdog,
    GuestPanicked,
    Colo,
    #[serde(other)]
    Unknown,
}

impl RunState {
    /// The QMP spelling (`unknown` for states this crate does not know).
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Debug => "debug",
            RunState::Inmigrate => "inmigrate",
            RunState::InternalError => "internal-error",
            RunState::IoError => "io-error",
            RunState::Paused => "paused",
            RunState::Postmigrate => "postmigrate",
            RunState::Prelaunch => "prelaunch",
            RunState::FinishMigrate => "finish-migrate",
            RunState::RestoreVm => "restore-vm",
            RunState::Running => "running",
            RunState::SaveVm => "save-vm",
            RunState::Shutdown => "shutdown",
            RunState::Suspended => "suspended",
            RunState::Watchdog => "watchdog",
            RunState::GuestPanicked => "guest-panicked",
            RunState::Colo => "colo",
            RunState::Unknown => "unknown",
        }
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `query-version`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryVersion;
command!(QueryVersion, "query-version", VersionInfo);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VersionInfo {
    pub qemu: VersionTriple,
    /// Distribution package string, e.g. `Debian 1:10.0.2+ds-2...`.
    #[serde(default)]
    pub package: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub struct VersionTriple {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
}

/// `query-name`: the `-name` given on the command line, if any.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryName;
command!(QueryName, "query-name", NameInfo);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NameInfo {
    pub name: Option<String>,
}

/// `system_powerdown`: press the ACPI power button (the guest decides).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SystemPowerdown;
command!(SystemPowerdown, "system_powerdown", ());

/// `system_reset`: hard reset.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SystemReset;
command!(SystemReset, "system_reset", ());

/// `quit`: QEMU exits right after replying; the connection then closes.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Quit;
command!(Quit, "quit", ());

/// `stop`: pause the vCPUs.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Stop;
command!(Stop, "stop", ());

/// `cont`: resume (also leaves `prelaunch` when started with `-S`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Cont;
command!(Cont, "cont", ());

/// `query-cpus-fast`: one entry per vCPU, with its host thread id.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryCpusFast;
command!(QueryCpusFast, "query-cpus-fast", Vec<CpuInfoFast>);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct CpuInfoFast {
    pub cpu_index: i64,
    pub thread_id: i64,
    pub qom_path: String,
    #[serde(default)]
    pub target: Option<String>,
}

/// `query-memory-size-summary`: boot memory and hot-plugged memory, bytes.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryMemorySizeSummary;
command!(
    QueryMemorySizeSummary,
    "query-memory-size-summary",
    MemorySizeSummary
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct MemorySizeSummary {
    pub base_memory: u64,
    #[serde(default)]
    pub plugged_memory: Option<u64>,
}

/// `query-balloon`: fails with class `DeviceNotActive` without a balloon.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryBalloon;
command!(QueryBalloon, "query-balloon", BalloonInfo);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct BalloonInfo {
    /// Memory the guest currently has, in bytes.
    pub actual: u64,
}

/// `human-monitor-command`: run an HMP command line, get its text output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HumanMonitorCommand {
    pub command_line: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_index: Option<i64>,
}
command!(HumanMonitorCommand, "human-monitor-command", String);
