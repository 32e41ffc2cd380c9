//! Listing a hooks directory and running its scripts.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{HookPhase, HookRunOptions, HookScriptResult, HookStatus};
use crate::os::run::{fail_reason, kill_group, spawn_retrying, wait_or_kill};
use crate::NodeError;

/// How long a killed script's pipes get to close before we stop waiting
/// (a grandchild that escaped the process group may keep them open).
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Ganeti's run-parts name rule.
fn runnable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// An hpath names one directory below the hooks directory.
fn check_hpath(hpath: &str) -> Result<(), NodeError> {
    if hpath.is_empty() || hpath.starts_with('.') || hpath.contains('/') || hpath.contains("..") {
        return Err(NodeError::InvalidHookPath {
            hpath: hpath.to_string(),
        });
    }
    Ok(())
}

/// Run the scripts of `<hooks_dir>/<hpath>-<phase>.d/` (see the module
/// docs). A missing directory, or one that is not a directory, runs
/// nothing.
pub fn run_hooks_dir(
    hooks_dir: &Path,
    hpath: &str,
    phase: HookPhase,
    env: &BTreeMap<String, String>,
    opts: &HookRunOptions,
) -> Result<Vec<HookScriptResult>, NodeError> {
    check_hpath(hpath)?;
    let subdir = format!("{hpath}-{}.d", phase.as_str());
    let dir = hooks_dir.join(&subdir);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let list_err = |source| NodeError::HookDir {
        path: dir.clone(),
        source,
    };
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(list_err)? {
        let name = entry.map_err(list_err)?.file_name();
        let name = name.to_string_lossy().into_owned();
        if name.starts_with('.') || name == "lost+found" {
            continue;
        }
        names.push(name);
    }
    names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let script = format!("{subdir}/{name}");
            if runnable_name(&name) && is_executable_file(&path) {
                run_one(&path, script, env, opts)
            } else {
                HookScriptResult {
                    script,
                    status: HookStatus::Skip,
                    output: String::new(),
                    duration_ms: 0,
                }
            }
        })
        .collect())
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// What a reader thread kept of a stream and how much it dropped.
struct Captured {
    kept: Vec<u8>,
    dropped: u64,
}

/// Read `r` to its end, keeping the first `cap` bytes.
fn drain(mut r: impl Read + Send + 'static, cap: usize) -> mpsc::Receiver<Captured> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut dropped = 0u64;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = cap.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                    dropped += (n - room) as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = tx.send(Captured { kept, dropped });
    });
    rx
}

/// Ganeti's `utils.SafeEncode`, which its node daemon applies to hook
/// output: non-ASCII characters as Python's backslash escapes, then tab
/// and newline as `\t` and `\n`, carriage return as Ganeti writes it
/// (`\'r`), other control characters as `\xNN`. Scripts' output reaches
/// clients on one line, exactly as Ganeti shows it.
pub(crate) fn safe_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        let c = ch as u32;
        match ch {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\'r"),
            _ if c < 32 || c == 127 => out.push_str(&format!("\\x{c:02x}")),
            _ if c < 128 => out.push(ch),
            _ if c < 0x100 => out.push_str(&format!("\\x{c:02x}")),
            _ if c < 0x10000 => out.push_str(&format!("\\u{c:04x}")),
            _ => out.push_str(&format!("\\U{c:08x}")),
        }
    }
    out
}

fn exec_error(script: String, started: Instant, e: impl std::fmt::Display) -> HookScriptResult {
    HookScriptResult {
        script,
        status: HookStatus::Fail,
        output: format!("Hook script execution error: {e}"),
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

fn run_one(
    path: &Path,
    script: String,
    env: &BTreeMap<String, String>,
    opts: &HookRunOptions,
) -> HookScriptResult {
    let started = Instant::now();
    let deadline = started + opts.timeout;
    let mut cmd = Command::new(path);
    cmd.env_clear()
        .envs(env)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match spawn_retrying(&mut cmd) {
        Ok(c) => c,
        Err(e) => return exec_error(script, started, e),
    };
    drop(cmd);
    let out_rx = child.stdout.take().map(|s| drain(s, opts.max_output));
    let err_rx = child.stderr.take().map(|s| drain(s, opts.max_output));
    let (status, timed_out) = match wait_or_kill(&mut child, deadline) {
        Ok(x) => x,
        Err(e) => {
            kill_group(&child);
            let _ = child.wait();
            return exec_error(script, started, e);
        }
    };
    // the pipes end when every holder is gone; one that escaped with them
    // gets until the deadline (a little longer once killed), then its
    // group is killed too
    let collect = |rx: Option<mpsc::Receiver<Captured>>| -> Captured {
        let Some(rx) = rx else {
            return Captured {
                kept: Vec::new(),
                dropped: 0,
            };
        };
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .max(DRAIN_GRACE);
        rx.recv_timeout(wait).unwrap_or_else(|_| {
            kill_group(&child);
            rx.recv_timeout(DRAIN_GRACE).unwrap_or(Captured {
                kept: Vec::new(),
                dropped: 0,
            })
        })
    };
    let out = collect(out_rx);
    let err = collect(err_rx);
    let mut text = String::from_utf8_lossy(&out.kept).into_owned();
    text.push_str(&String::from_utf8_lossy(&err.kept));
    let mut raw = text
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .to_string();
    let dropped = out.dropped + err.dropped;
    if dropped > 0 {
        raw.push_str(&format!("\n[... {dropped} bytes of output omitted]"));
    }
    let duration_ms = started.elapsed().as_millis() as u64;
    if timed_out {
        if !raw.is_empty() {
            raw.push('\n');
        }
        raw.push_str(&format!(
            "Hook script timed out after {} s and was killed",
            opts.timeout.as_secs_f64()
        ));
        return HookScriptResult {
            script,
            status: HookStatus::Fail,
            output: safe_encode(&raw),
            duration_ms,
        };
    }
    let output = safe_encode(&raw);
    let status = match fail_reason(status) {
        None => HookStatus::Success,
        Some(_) => HookStatus::Fail,
    };
    HookScriptResult {
        script,
        status,
        output,
        duration_ms,
    }
}
