//! Starting, stopping and waiting for `ganetid`.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ganeti_types::Paths;

/// Errors managing the daemon.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot find the ganetid binary (looked beside {0} and in PATH)")]
    NoBinary(String),
    #[error("cannot start {bin}: {source}")]
    Spawn {
        bin: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the master daemon did not answer within {secs} s (see {log})")]
    Timeout { secs: u64, log: String },
    #[error("the master daemon exited during start-up with {status} (see {log})")]
    Exited { status: String, log: String },
    #[error("cannot stop the master daemon (pid {pid}): {msg}")]
    Stop { pid: i32, msg: String },
}

/// The `ganetid` binary: `$GANETID`, beside the current executable, or in PATH.
pub fn daemon_binary() -> Result<PathBuf, DaemonError> {
    if let Ok(p) = std::env::var("GANETID") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().unwrap_or_default();
    if let Some(dir) = exe.parent() {
        for cand in [dir.join("ganetid"), dir.join("../ganetid")] {
            if cand.is_file() {
                return Ok(cand);
            }
        }
    }
    if let Ok(path) = std::env::var("PATH") {
        for d in path.split(':') {
            let c = Path::new(d).join("ganetid");
            if c.is_file() {
                return Ok(c);
            }
        }
    }
    Err(DaemonError::NoBinary(exe.display().to_string()))
}

/// Whether the master answers on its socket.
pub fn master_answers(paths: &Paths) -> bool {
    match ganeti_luxi::Client::connect(&paths.master_socket(), Duration::from_secs(2)) {
        Ok(mut c) => c
            .call(
                ganeti_luxi::Method::QueryConfigValues,
                serde_json::json!([["cluster_name"]]),
            )
            .is_ok(),
        Err(_) => false,
    }
}

/// Wait until the master answers, or the child dies, or the timeout passes.
pub fn wait_for_master(
    paths: &Paths,
    child: Option<&mut std::process::Child>,
    timeout: Duration,
) -> Result<(), DaemonError> {
    let log = paths.daemon_log("ganetid").display().to_string();
    let start = Instant::now();
    let mut child = child;
    loop {
        if master_answers(paths) {
            return Ok(());
        }
        if let Some(c) = child.as_deref_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                return Err(DaemonError::Exited {
                    status: status.to_string(),
                    log,
                });
            }
        }
        if start.elapsed() > timeout {
            return Err(DaemonError::Timeout {
                secs: timeout.as_secs(),
                log,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Start `ganetid` for a root in the background and wait until it answers.
/// On timeout the daemon is killed, so nothing is left running.
pub fn start_daemon(paths: &Paths, timeout: Duration) -> Result<(), DaemonError> {
    let bin = daemon_binary()?;
    std::fs::create_dir_all(paths.log_dir()).map_err(|source| DaemonError::Spawn {
        bin: bin.display().to_string(),
        source,
    })?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.daemon_log("ganetid"))
        .map_err(|source| DaemonError::Spawn {
            bin: bin.display().to_string(),
            source,
        })?;
    let log2 = log.try_clone().map_err(|source| DaemonError::Spawn {
        bin: bin.display().to_string(),
        source,
    })?;
    let mut child = Command::new(&bin)
        .arg("--root")
        .arg(paths.root())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .process_group(0)
        .spawn()
        .map_err(|source| DaemonError::Spawn {
            bin: bin.display().to_string(),
            source,
        })?;
    match wait_for_master(paths, Some(&mut child), timeout) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

fn read_pid(paths: &Paths) -> Option<i32> {
    std::fs::read_to_string(paths.pid_file("ganetid"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

fn signal(pid: i32, sig: rustix::process::Signal) -> Result<(), String> {
    let p = rustix::process::Pid::from_raw(pid).ok_or_else(|| format!("invalid pid {pid}"))?;
    rustix::process::kill_process(p, sig).map_err(|e| e.to_string())
}

/// Stop the daemon of a root (SIGTERM, then SIGKILL after `grace`).
/// Returns whether a daemon was running.
pub fn stop_daemon(paths: &Paths, grace: Duration) -> Result<bool, DaemonError> {
    let Some(pid) = read_pid(paths) else {
        return Ok(false);
    };
    if !alive(pid) || !is_our_daemon(pid, paths) {
        let _ = std::fs::remove_file(paths.pid_file("ganetid"));
        return Ok(false);
    }
    signal(pid, rustix::process::Signal::TERM).map_err(|msg| DaemonError::Stop { pid, msg })?;
    let start = Instant::now();
    while alive(pid) {
        if start.elapsed() > grace {
            signal(pid, rustix::process::Signal::KILL)
                .map_err(|msg| DaemonError::Stop { pid, msg })?;
            std::thread::sleep(Duration::from_millis(100));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(paths.pid_file("ganetid"));
    Ok(true)
}

/// Guard against a stale pid file pointing at an unrelated process.
fn is_our_daemon(pid: i32, paths: &Paths) -> bool {
    let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let s = String::from_utf8_lossy(&cmd);
    s.contains("ganetid") && s.contains(&*paths.root().to_string_lossy())
}
