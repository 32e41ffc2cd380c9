//! Running one OS script, hardened, and the three operations built on it:
//! create (install or reinstall), rename and verify.
//!
//! Why hardened beyond what Ganeti does: a provider is arbitrary code run
//! as root by the node daemon. It gets a cleared environment plus exactly
//! the documented variables, the OS directory as cwd, `/dev/null` as
//! stdin, its own process group, and a deadline after which the whole
//! group is killed (Ganeti waits forever; a hung installer would hold the
//! instance's locks forever). Output goes to a log file per run named as
//! Ganeti names it (`backend._InstanceLogName`), and on failure the error
//! quotes the end of that log, as Ganeti's does. Secret OS parameters are
//! in the script's environment only: their values are masked in the log
//! file and in every error once the script has finished.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ganeti_clifmt::pystr::{comma_join, safe_encode};
use ganeti_clifmt::timefmt::format_time;
use ganeti_types::Dict;

use super::env::{core_env, instance_env, secret_values, OsRunSpec, ScriptEnv};
use super::{os_from_disk, OsDefinition};
use crate::spec::InstanceSpec;
use crate::NodeError;

/// How many log lines a failure quotes (Ganeti's `TailFile(lines=20)`).
pub const TAIL_LINES: usize = 20;
/// The mask put in place of secret values.
pub const REDACTED: &str = "<redacted>";
/// Default deadline of create/rename scripts (installers copy images).
pub const DEFAULT_INSTALL_TIMEOUT: Duration = Duration::from_secs(3 * 3600);
/// Default deadline of one disk's export or import (Ganeti has none; a
/// day is far beyond any sane disk copy, yet frees a hung transfer).
pub const DEFAULT_TRANSFER_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// Default deadline of the verify script.
pub const DEFAULT_VERIFY_TIMEOUT: Duration = Duration::from_secs(120);

/// One script to run.
#[derive(Debug)]
pub struct Script<'a> {
    /// Which script, for messages (`create`, `rename`, `verify`).
    pub kind: &'static str,
    pub path: &'a Path,
    pub args: &'a [String],
    /// Working directory (the OS directory).
    pub cwd: &'a Path,
    /// The whole environment.
    pub env: &'a ScriptEnv,
    pub timeout: Duration,
    /// Values to mask in the log and in errors.
    pub secrets: &'a [String],
}

/// Where a script's stdout and stderr go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Appended to this file (created 0600, directory 0750).
    LogFile(PathBuf),
    /// Captured and returned (verify).
    Capture,
}

/// How a script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// `None` on exit 0; otherwise Ganeti's `fail_reason`
    /// (`exited with exit code 3`, `terminated by signal 9`, ...).
    pub failure: Option<String>,
    /// The captured output ([`Output::Capture`] only), secrets masked.
    pub output: String,
}

/// Replace every secret value in `text` by [`REDACTED`].
pub fn mask(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), REDACTED))
}

/// Ganeti's `utils.TimestampForFilename` (local time).
pub fn timestamp_for_filename(now_secs: f64) -> String {
    format_time(Some(now_secs)).replace([' ', ':'], "_")
}

/// Ganeti's `_InstanceLogName`: `<log dir>/os/<kind>-<os>-<instance>-<ts>.log`.
pub fn instance_log_name(log_dir: &Path, kind: &str, os: &str, instance: &str) -> PathBuf {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default();
    log_dir.join("os").join(format!(
        "{kind}-{os}-{instance}-{}.log",
        timestamp_for_filename(now)
    ))
}

pub(crate) fn open_log(path: &Path) -> Result<File, NodeError> {
    let err = |source| NodeError::OsLog {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(dir)
            .map_err(err)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(err)
}

/// Ganeti's `RunResult.fail_reason` of an exit status.
pub(crate) fn fail_reason(status: ExitStatus) -> Option<String> {
    if status.success() {
        None
    } else if let Some(code) = status.code() {
        Some(format!("exited with exit code {code}"))
    } else {
        Some(format!(
            "terminated by signal {}",
            status.signal().unwrap_or_default()
        ))
    }
}

/// Wait for `child` until `deadline`; past it, kill its process group.
/// Returns the status and whether the deadline was hit. Polls from 0.2 ms
/// up to 10 ms apart: many scripts (hooks above all) end within a few
/// milliseconds, and a fixed 10 ms tick would be most of their cost.
pub(crate) fn wait_or_kill(child: &mut Child, deadline: Instant) -> io::Result<(ExitStatus, bool)> {
    let mut tick = Duration::from_micros(200);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status, false));
        }
        if Instant::now() >= deadline {
            kill_group(child);
            return Ok((child.wait()?, true));
        }
        std::thread::sleep(tick);
        tick = (tick * 2).min(Duration::from_millis(10));
    }
}

/// Kill the process group the child leads (it was started as its leader).
pub(crate) fn kill_group(child: &Child) {
    if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Spawn `cmd`, retrying on ETXTBSY: a script just written while another
/// thread forked; the forked copy of the write descriptor goes away at
/// its exec.
pub(crate) fn spawn_retrying(cmd: &mut Command) -> io::Result<Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 20 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

/// Run `script`, hardened (see the module docs).
pub fn run_script(script: &Script<'_>, output: &Output) -> Result<Finished, NodeError> {
    let mut cmd = Command::new(script.path);
    cmd.args(script.args)
        .env_clear()
        .envs(script.env)
        .current_dir(script.cwd)
        .stdin(Stdio::null())
        .process_group(0);
    let spawn_err = |source| NodeError::OsScriptSpawn {
        script: script.kind,
        path: script.path.to_path_buf(),
        source,
    };
    let mut reader = None;
    match output {
        Output::LogFile(path) => {
            let log = open_log(path)?;
            let log2 = log.try_clone().map_err(|source| NodeError::OsLog {
                path: path.clone(),
                source,
            })?;
            cmd.stdout(log).stderr(log2);
        }
        Output::Capture => {
            let (r, w) = io::pipe().map_err(spawn_err)?;
            let w2 = w.try_clone().map_err(spawn_err)?;
            cmd.stdout(w).stderr(w2);
            reader = Some(r);
        }
    }
    let deadline = Instant::now() + script.timeout;
    let mut child = spawn_retrying(&mut cmd).map_err(spawn_err)?;
    // our copies of the pipe's write end must go, or the reader never ends
    drop(cmd);
    let collected = reader.map(|mut r| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            let _ = tx.send(buf);
        });
        rx
    });
    let (status, timed_out) = match wait_or_kill(&mut child, deadline) {
        Ok(x) => x,
        Err(e) => {
            kill_group(&child);
            let _ = child.wait();
            return Err(spawn_err(e));
        }
    };
    let mut out = String::new();
    if let Some(rx) = collected {
        let left = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
        match rx.recv_timeout(left) {
            Ok(buf) => out = String::from_utf8_lossy(&buf).into_owned(),
            Err(_) => {
                // a leftover of the script holds the pipe: end it
                kill_group(&child);
                if let Ok(buf) = rx.recv_timeout(Duration::from_secs(5)) {
                    out = String::from_utf8_lossy(&buf).into_owned();
                }
            }
        }
    }
    if let Output::LogFile(path) = output {
        mask_file(path, script.secrets)?;
    }
    let mut failure = fail_reason(status);
    if timed_out {
        let reason = failure.unwrap_or_else(|| "terminated".into());
        failure = Some(format!(
            "{reason} (timeout after {} seconds)",
            script.timeout.as_secs()
        ));
    }
    Ok(Finished {
        failure,
        output: mask(&out, script.secrets),
    })
}

/// Mask the secrets in a log file in place.
pub(crate) fn mask_file(path: &Path, secrets: &[String]) -> Result<(), NodeError> {
    if secrets.is_empty() {
        return Ok(());
    }
    let err = |source| NodeError::OsLog {
        path: path.to_path_buf(),
        source,
    };
    let text = String::from_utf8_lossy(&fs::read(path).map_err(err)?).into_owned();
    let masked = mask(&text, secrets);
    if masked != text {
        fs::write(path, masked).map_err(err)?;
    }
    Ok(())
}

/// The last `n` lines of a log file, each through Ganeti's `SafeEncode`.
pub fn tail_lines(path: &Path, n: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| safe_encode(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where and how long OS scripts run on this node.
#[derive(Debug, Clone)]
pub struct OsRunner {
    pub search_path: Vec<PathBuf>,
    /// Ganeti's log directory (`/var/log/ganeti`); logs go below `os/`.
    pub log_dir: PathBuf,
    pub install_timeout: Duration,
    pub verify_timeout: Duration,
    /// Deadline of one disk's export or import script.
    pub transfer_timeout: Duration,
}

impl OsRunner {
    /// A runner with the default deadlines.
    pub fn new(search_path: Vec<PathBuf>, log_dir: PathBuf) -> Self {
        OsRunner {
            search_path,
            log_dir,
            install_timeout: DEFAULT_INSTALL_TIMEOUT,
            verify_timeout: DEFAULT_VERIFY_TIMEOUT,
            transfer_timeout: DEFAULT_TRANSFER_TIMEOUT,
        }
    }

    fn run_logged(
        &self,
        kind: &'static str,
        script: &Path,
        os: &OsDefinition,
        env: &ScriptEnv,
        log: PathBuf,
        secrets: &[String],
    ) -> Result<(), NodeError> {
        let s = Script {
            kind,
            path: script,
            args: &[],
            cwd: &os.path,
            env,
            timeout: self.install_timeout,
            secrets,
        };
        let done = run_script(&s, &Output::LogFile(log.clone()))?;
        match done.failure {
            None => Ok(()),
            Some(reason) => {
                let tail = mask(&tail_lines(&log, TAIL_LINES), secrets);
                tracing::error!(script = kind, %reason, log = %log.display(), "OS script failed");
                Err(NodeError::OsScriptFailed {
                    script: kind,
                    reason,
                    tail,
                    log,
                })
            }
        }
    }

    /// Ganeti's `InstanceOsAdd`: run the create script onto the
    /// instance's disks (at `disk_paths`, assembled by the caller).
    pub fn create(
        &self,
        inst: &InstanceSpec,
        run: &OsRunSpec,
        disk_paths: &[PathBuf],
        reinstall: bool,
        debug: u32,
    ) -> Result<(), NodeError> {
        let os = os_from_disk(&run.name, &self.search_path)?;
        let script = os
            .create_script
            .clone()
            .ok_or_else(|| NodeError::OsNoCreateScript {
                os: os.name.clone(),
            })?;
        let mut env = instance_env(&os, inst, run, disk_paths, debug, true);
        if reinstall {
            env.insert("INSTANCE_REINSTALL".into(), "1".into());
        }
        let log = instance_log_name(&self.log_dir, "add", &run.name, &inst.name);
        self.run_logged("create", &script, &os, &env, log, &secret_values(run))
    }

    /// Ganeti's `RunRenameInstance`: `inst` carries the new name.
    pub fn rename(
        &self,
        inst: &InstanceSpec,
        old_name: &str,
        run: &OsRunSpec,
        disk_paths: &[PathBuf],
        debug: u32,
    ) -> Result<(), NodeError> {
        let os = os_from_disk(&run.name, &self.search_path)?;
        let mut env = instance_env(&os, inst, run, disk_paths, debug, false);
        env.insert("OLD_INSTANCE_NAME".into(), old_name.to_string());
        let log = instance_log_name(
            &self.log_dir,
            "rename",
            &run.name,
            &format!("{old_name}-{}", inst.name),
        );
        self.run_logged("rename", &os.rename_script, &os, &env, log, &[])
    }

    /// Ganeti's `ValidateOS` (required): the OS must be valid here and,
    /// unless `force_variant`, the variant must fit the OS (whatever its
    /// API version); for API 20 the parameters must then be listed in
    /// `parameters.list` (when `checks` has `parameters`) and the verify
    /// script must accept them.
    /// Values of `secret` are masked in the error.
    pub fn validate(
        &self,
        os_name: &str,
        params: &Dict,
        checks: &[String],
        force_variant: bool,
        secrets: &[String],
    ) -> Result<(), NodeError> {
        let os = os_from_disk(os_name, &self.search_path)?;
        if !force_variant {
            check_variant(&os, os_name)?;
        }
        let max_api = os.api_versions.iter().copied().max().unwrap_or(0);
        if max_api < 20 {
            return Ok(());
        }
        if checks.iter().any(|c| c == "parameters") {
            check_params_listed(&os, params)?;
        }
        let Some(verify) = os.verify_script.as_deref() else {
            return Ok(());
        };
        let env = core_env(&os, os_name, &[params], 0);
        let s = Script {
            kind: "verify",
            path: verify,
            args: checks,
            cwd: &os.path,
            env: &env,
            timeout: self.verify_timeout,
            secrets,
        };
        let done = run_script(&s, &Output::Capture)?;
        if let Some(reason) = done.failure {
            return Err(NodeError::OsValidationFailed {
                reason,
                output: done.output,
            });
        }
        Ok(())
    }
}

/// Ganeti's `_CheckOSPList`.
fn check_params_listed(os: &OsDefinition, params: &Dict) -> Result<(), NodeError> {
    let known: Vec<&str> = os
        .parameters
        .iter()
        .filter_map(|p| p.first().map(String::as_str))
        .collect();
    let unknown: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(NodeError::OsParamsUnsupported {
            os: os.name.clone(),
            params: comma_join(unknown),
        })
    }
}

/// Ganeti's `_CheckOSVariant`.
pub fn check_variant(os: &OsDefinition, full_name: &str) -> Result<(), NodeError> {
    let variant = full_name.split_once('+').map(|(_, v)| v).unwrap_or("");
    let message = if os.variants.is_empty() {
        if variant.is_empty() {
            return Ok(());
        }
        format!(
            "OS '{}' does not support variants ('{variant}' passed)",
            os.name
        )
    } else if variant.is_empty() {
        format!("OS name '{full_name}' must include a variant")
    } else if !os.variants.iter().any(|v| v == variant) {
        format!("OS '{}' does not support variant '{variant}'", os.name)
    } else {
        return Ok(());
    };
    Err(NodeError::OsVariant { message })
}
