//! `ganeti_instance`: an Ansible binary module that manages a Ganeti
//! instance through the Remote API of ganeti-rs or Ganeti.
//!
//! Ansible runs a binary module with one argument, the path of a JSON
//! file holding the task's arguments, and reads one JSON object from its
//! standard output. The module always prints such an object and exits 0
//! on success, 1 on failure (`failed: true`, `msg`), as Ansible's own
//! modules do. The password is never part of the output.

mod args;
mod error;
mod instance;
mod jobs;
mod rapi;
mod size;
mod tls;

use serde_json::{json, Map, Value};

use args::Args;
use error::ModuleError;

/// A failure and the password to keep out of its message.
type Failure = (ModuleError, Option<String>);

fn run(path: &str) -> Result<(instance::Outcome, Args), Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        (
            ModuleError::Args(format!("Cannot read the arguments file {path}: {e}")),
            None,
        )
    })?;
    let raw: Map<String, Value> = serde_json::from_str(&text).map_err(|e| {
        (
            ModuleError::Args(format!("The arguments file is not a JSON object: {e}")),
            None,
        )
    })?;
    let a = Args::parse(&raw).map_err(|e| (e, None))?;
    let tls = tls::client_config(a.validate_certs, a.ca_path.as_deref())
        .map_err(|e| (e, a.password.clone()))?;
    let credentials = a.user.as_deref().zip(a.password.as_deref());
    let client = rapi::Rapi::new(&a.address, a.port, credentials, tls);
    let out = instance::run(&a, &client).map_err(|e| (e, a.password.clone()))?;
    Ok((out, a))
}

/// Replace the password wherever it might have slipped into a text.
fn scrub(text: String, password: Option<&str>) -> String {
    match password.filter(|p| !p.is_empty()) {
        Some(p) => text.replace(p, "********"),
        None => text,
    }
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_default();
    let (result, code) = match run(&path) {
        Ok((out, a)) => {
            let mut r = json!({
                "changed": out.changed,
                "msg": scrub(out.msg, a.password.as_deref()),
                "job_id": out.job_id,
                "name": a.name,
                "state": a.state.as_str(),
                "instance": out.instance,
            });
            if let Some(n) = out.restart_needed {
                r["restart_needed"] = json!(n);
            }
            if let Some(d) = out.diff {
                r["diff"] = d;
            }
            (r, 0)
        }
        Err((e, password)) => (
            json!({
                "failed": true,
                "changed": false,
                "msg": scrub(e.to_string(), password.as_deref()),
                "job_id": e.job_id(),
            }),
            1,
        ),
    };
    println!("{result}");
    std::process::exit(code);
}
