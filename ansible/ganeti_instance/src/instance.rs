//! Driving one instance to the requested state: what to do given what the
//! RAPI says the instance is, doing it (or, in check mode, only saying
//! it), and what to report.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::args::{Args, State};
use crate::error::ModuleError;
use crate::jobs;
use crate::rapi::Rapi;

/// The module's answer, before it becomes Ansible's JSON.
#[derive(Debug, Default)]
pub struct Outcome {
    pub changed: bool,
    pub msg: String,
    pub job_id: Option<u64>,
    pub instance: Option<Value>,
    pub restart_needed: Option<bool>,
    pub diff: Option<Value>,
}

fn path(name: &str) -> String {
    format!("/2/instances/{name}")
}

fn running(inst: &Value) -> bool {
    inst.get("oper_state")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn admin_up(inst: &Value) -> bool {
    inst.get("admin_state").and_then(Value::as_str) == Some("up")
}

/// The parameters of `wanted` whose value differs in `current`.
fn differing(wanted: &Map<String, Value>, current: Option<&Value>) -> Map<String, Value> {
    wanted
        .iter()
        .filter(|(k, v)| current.and_then(|c| c.get(k.as_str())) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The creation request (RAPI version 1 body).
fn create_body(a: &Args) -> Value {
    let mut b = Map::new();
    b.insert("__version__".into(), json!(1));
    b.insert("mode".into(), json!("create"));
    b.insert("name".into(), json!(a.name));
    if let Some(t) = &a.disk_template {
        b.insert("disk_template".into(), json!(t));
    }
    let disks: Vec<Value> = a
        .disks
        .iter()
        .map(|d| {
            let mut m = Map::new();
            m.insert("size".into(), json!(d.size_mib));
            for (k, v) in [
                ("name", &d.name),
                ("mode", &d.mode),
                ("provider", &d.provider),
            ] {
                if let Some(v) = v {
                    m.insert(k.into(), json!(v));
                }
            }
            Value::Object(m)
        })
        .collect();
    b.insert("disks".into(), Value::Array(disks));
    b.insert(
        "nics".into(),
        Value::Array(a.nics.iter().cloned().map(Value::Object).collect()),
    );
    for (k, v) in [
        ("os_type", &a.os_type),
        ("hypervisor", &a.hypervisor),
        ("iallocator", &a.iallocator),
        ("pnode", &a.pnode),
        ("snode", &a.snode),
    ] {
        if let Some(v) = v {
            b.insert(k.into(), json!(v));
        }
    }
    if !a.osparams.is_empty() {
        b.insert("osparams".into(), Value::Object(a.osparams.clone()));
    }
    let be = a.wanted_beparams();
    if !be.is_empty() {
        b.insert("beparams".into(), Value::Object(be));
    }
    if !a.hvparams.is_empty() {
        b.insert("hvparams".into(), Value::Object(a.hvparams.clone()));
    }
    b.insert("start".into(), json!(a.start));
    b.insert("name_check".into(), json!(a.name_check));
    b.insert("ip_check".into(), json!(a.ip_check));
    if a.ignore_ipolicy {
        b.insert("ignore_ipolicy".into(), json!(true));
    }
    Value::Object(b)
}

/// What the diff shows of an instance.
fn diff_view(inst: Option<&Value>) -> Value {
    match inst {
        None => json!({"state": "absent"}),
        Some(i) => json!({
            "state": if running(i) { "running" } else if admin_up(i) { "down (marked up)" } else { "stopped" },
            "beparams": i.get("beparams").cloned().unwrap_or(Value::Null),
            "hvparams": i.get("hvparams").cloned().unwrap_or(Value::Null),
        }),
    }
}

/// Submit `method path body`, then follow the job unless told not to.
fn submit(
    a: &Args,
    rapi: &Rapi,
    method: &str,
    path: &str,
    body: Option<&Value>,
    out: &mut Outcome,
) -> Result<(), ModuleError> {
    let id = jobs::job_id(&rapi.request(method, path, body)?)?;
    out.job_id = Some(id);
    out.changed = true;
    if a.wait {
        jobs::wait(rapi, id, Duration::from_secs(a.job_timeout))?;
    }
    Ok(())
}

/// Drive the instance to `a.state`.
pub fn run(a: &Args, rapi: &Rapi) -> Result<Outcome, ModuleError> {
    let name = &a.name;
    let current = rapi.get_opt(&path(name))?;
    let mut out = Outcome::default();
    let missing = || ModuleError::Missing {
        name: name.clone(),
        state: a.state.as_str().into(),
    };
    let before = diff_view(current.as_ref());
    match (a.state, &current) {
        (State::Absent, None) => out.msg = format!("Instance {name} is absent"),
        (State::Absent, Some(_)) => {
            out.msg = format!("Instance {name} removed");
            if a.check_mode {
                out.changed = true;
            } else {
                submit(a, rapi, "DELETE", &path(name), None, &mut out)?;
            }
        }
        (State::Present, None) => {
            out.msg = format!("Instance {name} created");
            if a.disk_template.is_none() {
                return Err(ModuleError::Args(format!(
                    "Instance {name} does not exist: creating it needs disk_template"
                )));
            }
            if a.check_mode {
                out.changed = true;
            } else {
                submit(
                    a,
                    rapi,
                    "POST",
                    "/2/instances",
                    Some(&create_body(a)),
                    &mut out,
                )?;
            }
        }
        (State::Present, Some(inst)) => {
            let be = differing(&a.wanted_beparams(), inst.get("beparams"));
            let hv = differing(&a.hvparams, inst.get("hvparams"));
            if be.is_empty() && hv.is_empty() {
                out.msg = format!("Instance {name} is present");
            } else {
                let mut changes: Vec<String> = be.keys().map(|k| format!("be/{k}")).collect();
                changes.extend(hv.keys().map(|k| format!("hv/{k}")));
                out.restart_needed = Some(running(inst));
                out.msg = format!(
                    "Instance {name} modified ({}){}",
                    changes.join(", "),
                    if running(inst) {
                        "; the new values take effect at its next restart"
                    } else {
                        ""
                    }
                );
                if a.check_mode {
                    out.changed = true;
                } else {
                    let mut body = Map::new();
                    if !be.is_empty() {
                        body.insert("beparams".into(), Value::Object(be));
                    }
                    if !hv.is_empty() {
                        body.insert("hvparams".into(), Value::Object(hv));
                    }
                    if a.ignore_ipolicy {
                        body.insert("ignore_ipolicy".into(), json!(true));
                    }
                    let body = Value::Object(body);
                    submit(
                        a,
                        rapi,
                        "PUT",
                        &format!("{}/modify", path(name)),
                        Some(&body),
                        &mut out,
                    )?;
                }
            }
        }
        (_, None) => return Err(missing()),
        (State::Started, Some(inst)) => {
            if running(inst) {
                out.msg = format!("Instance {name} is running");
            } else {
                out.msg = format!("Instance {name} started");
                if a.check_mode {
                    out.changed = true;
                } else {
                    submit(
                        a,
                        rapi,
                        "PUT",
                        &format!("{}/startup", path(name)),
                        None,
                        &mut out,
                    )?;
                }
            }
        }
        (State::Stopped, Some(inst)) => {
            if !running(inst) && !admin_up(inst) {
                out.msg = format!("Instance {name} is stopped");
            } else {
                out.msg = format!("Instance {name} stopped");
                if a.check_mode {
                    out.changed = true;
                } else {
                    submit(
                        a,
                        rapi,
                        "PUT",
                        &format!("{}/shutdown", path(name)),
                        None,
                        &mut out,
                    )?;
                }
            }
        }
        (State::Restarted, Some(inst)) => {
            out.changed = true;
            // a reboot needs a running instance; a stopped one is started
            let (verb, what) = if running(inst) {
                ("POST", "reboot")
            } else {
                ("PUT", "startup")
            };
            out.msg = format!("Instance {name} restarted");
            if !a.check_mode {
                submit(
                    a,
                    rapi,
                    verb,
                    &format!("{}/{what}", path(name)),
                    None,
                    &mut out,
                )?;
            }
        }
        (State::Migrated, Some(_)) => {
            out.changed = true;
            out.msg = format!("Instance {name} migrated");
            if !a.check_mode {
                submit(
                    a,
                    rapi,
                    "PUT",
                    &format!("{}/migrate", path(name)),
                    Some(&json!({})),
                    &mut out,
                )?;
            }
        }
        (State::Reinstalled, Some(inst)) => {
            out.changed = true;
            out.msg = format!("Instance {name} reinstalled");
            if !a.check_mode {
                let mut body = Map::new();
                body.insert("__version__".into(), json!(1));
                if let Some(os) = &a.os_type {
                    body.insert("os".into(), json!(os));
                }
                if !a.osparams.is_empty() {
                    body.insert("osparams".into(), Value::Object(a.osparams.clone()));
                }
                // Ganeti stops the instance first; bring it back if it ran
                body.insert("start".into(), json!(admin_up(inst)));
                let body = Value::Object(body);
                submit(
                    a,
                    rapi,
                    "POST",
                    &format!("{}/reinstall", path(name)),
                    Some(&body),
                    &mut out,
                )?;
            }
        }
    }
    if out.changed && a.check_mode {
        out.msg = format!("{} (check mode: nothing was submitted)", out.msg);
    }
    if !a.wait && out.job_id.is_some() {
        out.msg = format!(
            "{} (job {} submitted, not waited for)",
            out.msg,
            out.job_id.unwrap_or_default()
        );
    }
    let after = if out.changed && !a.check_mode && a.wait {
        rapi.get_opt(&path(name))?
    } else {
        current.clone()
    };
    out.instance = after.clone();
    if a.diff && out.changed {
        let after_view = if a.check_mode {
            predicted(a, current.as_ref())
        } else {
            diff_view(after.as_ref())
        };
        out.diff = Some(json!({"before": before, "after": after_view}));
    }
    Ok(out)
}

/// What check mode expects the instance to look like afterwards.
fn predicted(a: &Args, current: Option<&Value>) -> Value {
    let mut v = diff_view(current);
    match a.state {
        State::Absent => v = json!({"state": "absent"}),
        State::Present => {
            if current.is_none() {
                v = json!({"state": if a.start { "running" } else { "stopped" }});
            }
            for (key, wanted) in [
                ("beparams", a.wanted_beparams()),
                ("hvparams", a.hvparams.clone()),
            ] {
                if let Some(m) = v.get_mut(key).and_then(Value::as_object_mut) {
                    m.extend(wanted);
                } else if !wanted.is_empty() {
                    v[key] = Value::Object(wanted);
                }
            }
        }
        State::Started | State::Restarted => v["state"] = json!("running"),
        State::Stopped => v["state"] = json!("stopped"),
        State::Migrated | State::Reinstalled => {}
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_differing_parameters_are_sent() {
        let wanted = json!({"maxmem": 512, "vcpus": 2})
            .as_object()
            .cloned()
            .unwrap();
        let current = json!({"maxmem": 512, "vcpus": 1, "minmem": 128});
        assert_eq!(
            Value::Object(differing(&wanted, Some(&current))),
            json!({"vcpus": 2})
        );
    }

    #[test]
    fn create_body_carries_every_parameter_class() {
        let a = Args::parse(
            json!({"name": "vm1", "disk_template": "file", "disks": ["1G", {"size": 64, "name": "swap"}],
                "nics": [{"link": "br0"}], "os_type": "noop", "osparams": {"a": "b"}, "hypervisor": "fake",
                "pnode": "n1", "memory": 256, "vcpus": 2, "hvparams": {"x": 1}, "start": false,
                "name_check": false, "ip_check": false})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            create_body(&a),
            json!({"__version__": 1, "mode": "create", "name": "vm1", "disk_template": "file",
                "disks": [{"size": 1024}, {"size": 64, "name": "swap"}], "nics": [{"link": "br0"}],
                "os_type": "noop", "hypervisor": "fake", "pnode": "n1", "osparams": {"a": "b"},
                "beparams": {"maxmem": 256, "minmem": 256, "vcpus": 2}, "hvparams": {"x": 1},
                "start": false, "name_check": false, "ip_check": false})
        );
    }
}
