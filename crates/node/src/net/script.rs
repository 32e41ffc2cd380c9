//! The operator's own network scripts, run the way Ganeti runs them.
//!
//! Ganeti lets a site replace the built-in interface setup with an
//! executable in its configuration directory (3.0 calls it
//! `kvm-vif-bridge`, later releases `kvm-ifup-custom`; `kvm-ifdown-custom`
//! undoes it). Sites that rely on it must keep working, so we run the same
//! file with the same environment: a cleared one holding exactly the
//! variables below, no arguments, no shell of ours in between, and a time
//! limit after which the script is killed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::cmd::search_path;
use super::NicContext;
use crate::spec::NicSpec;
use crate::NodeError;

/// How long a network script may run before it is killed.
pub(super) const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// The environment of a network script for tap `ifname` (Ganeti's
/// `hv_base.ConfigureNIC`), sorted by name.
pub(super) fn environment(ifname: &str, nic: &NicSpec, ctx: &NicContext) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: &str| env.push((k.to_string(), v.to_string()));
    set("PATH", &search_path().to_string_lossy());
    set("INSTANCE", &ctx.instance);
    set("MAC", &nic.mac);
    set("MODE", &nic.mode);
    set("INTERFACE", ifname);
    if let Some(i) = ctx.index {
        set("INTERFACE_INDEX", &i.to_string());
    }
    set("INTERFACE_UUID", &nic.uuid);
    set("TAGS", &ctx.tags.join(" "));
    if let Some(ip) = nic.ip.as_deref().filter(|s| !s.is_empty()) {
        set("IP", ip);
    }
    if let Some(n) = nic.name.as_deref().filter(|s| !s.is_empty()) {
        set("INTERFACE_NAME", n);
    }
    if !nic.link.is_empty() {
        set("LINK", &nic.link);
    }
    set("VLAN", &nic.vlan);
    if let Some(net_uuid) = nic.network.as_deref() {
        match ctx.network.as_ref() {
            Some(n) => {
                for (k, v) in n.env_vars() {
                    set(k, &v);
                }
            }
            None => set("NETWORK_UUID", net_uuid),
        }
    }
    if nic.mode == "bridged" {
        set("BRIDGE", &nic.link);
    }
    env.sort();
    env
}

/// Run `script` with exactly `env`; its output is logged, and on failure
/// (exit status, signal, time limit) returned in the error.
pub(super) fn run(
    script: &Path,
    ifname: &str,
    env: &[(String, String)],
    timeout: Duration,
) -> Result<(), NodeError> {
    let fail = |reason: String, output: String| NodeError::NetScript {
        ifname: ifname.to_string(),
        script: script.to_path_buf(),
        reason,
        output,
    };
    let mut child = Command::new(script)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("could not be started: {e}"), String::new()))?;
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut r| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    })
    .collect();
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Ok(st),
            Ok(None) if Instant::now() >= deadline => {
                // Kill the script we started (by its handle, i.e. its pid).
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("was killed after {timeout:?}"));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("could not be waited for: {e}"));
            }
        }
    };
    let mut output = String::new();
    for r in readers {
        if let Ok(buf) = r.join() {
            output.push_str(&String::from_utf8_lossy(&buf));
        }
    }
    let output = output.trim().to_string();
    if !output.is_empty() {
        tracing::info!("network script {} for {ifname}: {output}", script.display());
    }
    match status {
        Ok(st) if st.success() => Ok(()),
        Ok(st) => Err(fail(format!("failed ({st})"), output)),
        Err(reason) => Err(fail(reason, output)),
    }
}
