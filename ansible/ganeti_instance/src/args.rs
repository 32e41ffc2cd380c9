//! The module's arguments: Ansible hands a binary module the path of a
//! JSON file with the task's arguments and its own `_ansible_*` keys, and
//! checks nothing itself, so everything is validated here: types,
//! choices, defaults, unknown options.

use serde_json::{Map, Value};

use crate::error::ModuleError;
use crate::size::parse_mib;

/// Ganeti 3.0's disk templates.
pub const DISK_TEMPLATES: &[&str] = &[
    "diskless",
    "file",
    "sharedfile",
    "plain",
    "blockdev",
    "drbd",
    "ext",
    "rbd",
    "gluster",
];

/// The states the module drives an instance to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Present,
    Absent,
    Started,
    Stopped,
    Restarted,
    Migrated,
    Reinstalled,
}

impl State {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "present" => State::Present,
            "absent" => State::Absent,
            "started" => State::Started,
            "stopped" => State::Stopped,
            "restarted" => State::Restarted,
            "migrated" => State::Migrated,
            "reinstalled" => State::Reinstalled,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            State::Present => "present",
            State::Absent => "absent",
            State::Started => "started",
            State::Stopped => "stopped",
            State::Restarted => "restarted",
            State::Migrated => "migrated",
            State::Reinstalled => "reinstalled",
        }
    }
}

/// One disk to create.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskArg {
    pub size_mib: u64,
    pub name: Option<String>,
    pub mode: Option<String>,
    pub provider: Option<String>,
}

/// Everything the task asked for.
#[derive(Debug, Clone)]
pub struct Args {
    pub address: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    pub validate_certs: bool,
    pub ca_path: Option<String>,
    pub name: String,
    pub state: State,
    pub wait: bool,
    pub job_timeout: u64,
    pub memory: Option<u64>,
    pub vcpus: Option<u64>,
    pub disk_template: Option<String>,
    pub disks: Vec<DiskArg>,
    pub nics: Vec<Map<String, Value>>,
    pub os_type: Option<String>,
    pub osparams: Map<String, Value>,
    pub hypervisor: Option<String>,
    pub iallocator: Option<String>,
    pub pnode: Option<String>,
    pub snode: Option<String>,
    pub beparams: Map<String, Value>,
    pub hvparams: Map<String, Value>,
    pub start: bool,
    pub name_check: bool,
    pub ip_check: bool,
    pub ignore_ipolicy: bool,
    pub check_mode: bool,
    pub diff: bool,
}

/// The options this module has, in the order its documentation lists them.
pub const OPTIONS: &[&str] = &[
    "address",
    "port",
    "user",
    "password",
    "validate_certs",
    "ca_path",
    "name",
    "state",
    "wait",
    "job_timeout",
    "memory",
    "vcpus",
    "disk_template",
    "disks",
    "nics",
    "os_type",
    "osparams",
    "hypervisor",
    "iallocator",
    "pnode",
    "snode",
    "beparams",
    "hvparams",
    "start",
    "name_check",
    "ip_check",
    "ignore_ipolicy",
];

const NIC_KEYS: &[&str] = &["mode", "name", "link", "ip", "mac", "vlan", "network"];
const DISK_KEYS: &[&str] = &["size", "name", "mode", "provider"];

fn bad(msg: impl Into<String>) -> ModuleError {
    ModuleError::Args(msg.into())
}

/// Ansible's booleans: true/false and the usual words.
fn boolean(key: &str, v: &Value) -> Result<bool, ModuleError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" | "y" => Ok(true),
            "no" | "false" | "off" | "0" | "n" => Ok(false),
            _ => Err(bad(format!(
                "argument '{key}' is of type str and we were unable to convert to bool: '{s}'"
            ))),
        },
        Value::Number(n) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => {
            Ok(n.as_u64() == Some(1))
        }
        other => Err(bad(format!(
            "argument '{key}' must be a boolean, got {other}"
        ))),
    }
}

fn integer(key: &str, v: &Value) -> Result<u64, ModuleError> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        bad(format!(
            "argument '{key}' must be a non-negative integer, got {v}"
        ))
    })
}

fn string(key: &str, v: &Value) -> Result<String, ModuleError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(bad(format!(
            "argument '{key}' must be a string, got {other}"
        ))),
    }
}

fn dict(key: &str, v: &Value) -> Result<Map<String, Value>, ModuleError> {
    match v {
        Value::Object(m) => Ok(m.clone()),
        Value::Null => Ok(Map::new()),
        other => Err(bad(format!(
            "argument '{key}' must be a dictionary, got {other}"
        ))),
    }
}

fn list(key: &str, v: &Value) -> Result<Vec<Value>, ModuleError> {
    match v {
        Value::Array(a) => Ok(a.clone()),
        Value::Null => Ok(Vec::new()),
        other => Err(bad(format!("argument '{key}' must be a list, got {other}"))),
    }
}

fn disk(i: usize, v: &Value) -> Result<DiskArg, ModuleError> {
    let m = match v {
        Value::Object(m) => m.clone(),
        // a bare size, as in `disks: [10G]`
        Value::String(_) | Value::Number(_) => {
            let mut m = Map::new();
            m.insert("size".into(), v.clone());
            m
        }
        other => {
            return Err(bad(format!(
                "disks[{i}] must be a size or a dictionary, got {other}"
            )))
        }
    };
    if let Some(k) = m.keys().find(|k| !DISK_KEYS.contains(&k.as_str())) {
        return Err(bad(format!(
            "disks[{i}]: unknown key '{k}' (allowed: {})",
            DISK_KEYS.join(", ")
        )));
    }
    let size = m
        .get("size")
        .ok_or_else(|| bad(format!("disks[{i}]: 'size' is required")))?;
    let opt = |k: &str| -> Result<Option<String>, ModuleError> {
        m.get(k)
            .filter(|v| !v.is_null())
            .map(|v| string(&format!("disks[{i}].{k}"), v))
            .transpose()
    };
    let mode = opt("mode")?;
    if let Some(md) = &mode {
        if md != "rw" && md != "ro" {
            return Err(bad(format!("disks[{i}].mode must be rw or ro, got '{md}'")));
        }
    }
    Ok(DiskArg {
        size_mib: parse_mib(size).map_err(|e| bad(format!("disks[{i}]: {e}")))?,
        name: opt("name")?,
        mode,
        provider: opt("provider")?,
    })
}

impl Args {
    /// Parse the arguments file's JSON object.
    pub fn parse(raw: &Map<String, Value>) -> Result<Args, ModuleError> {
        let unknown: Vec<&str> = raw
            .keys()
            .map(String::as_str)
            .filter(|k| !k.starts_with("_ansible_") && !OPTIONS.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(bad(format!(
                "Unsupported parameters for (ganeti_instance) module: {}. Supported parameters include: {}.",
                unknown.join(", "),
                OPTIONS.join(", ")
            )));
        }
        let get = |k: &str| raw.get(k).filter(|v| !v.is_null());
        let opt_str = |k: &str| get(k).map(|v| string(k, v)).transpose();
        let opt_int = |k: &str| get(k).map(|v| integer(k, v)).transpose();
        let flag = |k: &str, default: bool| get(k).map(|v| boolean(k, v)).unwrap_or(Ok(default));
        let name = opt_str("name")?
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| bad("missing required arguments: name"))?;
        let state_s = opt_str("state")?.unwrap_or_else(|| "present".into());
        let state = State::parse(&state_s).ok_or_else(|| {
            bad(format!(
                "value of state must be one of: present, absent, started, stopped, restarted, migrated, reinstalled, got: {state_s}"
            ))
        })?;
        let disk_template = opt_str("disk_template")?;
        if let Some(t) = &disk_template {
            if !DISK_TEMPLATES.contains(&t.as_str()) {
                return Err(bad(format!(
                    "value of disk_template must be one of: {}, got: {t}",
                    DISK_TEMPLATES.join(", ")
                )));
            }
        }
        let port = opt_int("port")?.unwrap_or(5080);
        let port = u16::try_from(port)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad(format!("argument 'port' must be 1-65535, got {port}")))?;
        let disks = get("disks")
            .map(|v| list("disks", v))
            .transpose()?
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, d)| disk(i, d))
            .collect::<Result<Vec<_>, _>>()?;
        let mut nics = Vec::new();
        for (i, n) in get("nics")
            .map(|v| list("nics", v))
            .transpose()?
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let m = dict(&format!("nics[{i}]"), n)?;
            if let Some(k) = m.keys().find(|k| !NIC_KEYS.contains(&k.as_str())) {
                return Err(bad(format!(
                    "nics[{i}]: unknown key '{k}' (allowed: {})",
                    NIC_KEYS.join(", ")
                )));
            }
            nics.push(m);
        }
        let user = opt_str("user")?;
        let password = opt_str("password")?;
        if password.is_some() != user.is_some() {
            return Err(bad("parameters are required together: user, password"));
        }
        Ok(Args {
            address: opt_str("address")?.unwrap_or_else(|| "localhost".into()),
            port,
            user,
            password,
            validate_certs: flag("validate_certs", true)?,
            ca_path: opt_str("ca_path")?,
            name,
            state,
            wait: flag("wait", true)?,
            job_timeout: opt_int("job_timeout")?.unwrap_or(300),
            memory: get("memory")
                .map(|v| parse_mib(v).map_err(|e| bad(format!("memory: {e}"))))
                .transpose()?,
            vcpus: opt_int("vcpus")?,
            disk_template,
            disks,
            nics,
            os_type: opt_str("os_type")?,
            osparams: get("osparams")
                .map(|v| dict("osparams", v))
                .transpose()?
                .unwrap_or_default(),
            hypervisor: opt_str("hypervisor")?,
            iallocator: opt_str("iallocator")?,
            pnode: opt_str("pnode")?,
            snode: opt_str("snode")?,
            beparams: get("beparams")
                .map(|v| dict("beparams", v))
                .transpose()?
                .unwrap_or_default(),
            hvparams: get("hvparams")
                .map(|v| dict("hvparams", v))
                .transpose()?
                .unwrap_or_default(),
            start: flag("start", true)?,
            name_check: flag("name_check", true)?,
            ip_check: flag("ip_check", true)?,
            ignore_ipolicy: flag("ignore_ipolicy", false)?,
            check_mode: flag("_ansible_check_mode", false)?,
            diff: flag("_ansible_diff", false)?,
        })
    }

    /// The backend parameters the task wants: `beparams` with `memory`
    /// (both minimum and maximum memory, as Ganeti's `memory`) and `vcpus`
    /// folded in.
    pub fn wanted_beparams(&self) -> Map<String, Value> {
        let mut be = self.beparams.clone();
        if let Some(m) = be.remove("memory") {
            be.insert("maxmem".into(), m.clone());
            be.insert("minmem".into(), m);
        }
        if let Some(m) = self.memory {
            be.insert("maxmem".into(), m.into());
            be.insert("minmem".into(), m.into());
        }
        if let Some(v) = self.vcpus {
            be.insert("vcpus".into(), v.into());
        }
        be
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Args, ModuleError> {
        Args::parse(v.as_object().unwrap())
    }

    #[test]
    fn defaults_and_internal_keys() {
        let a = parse(
            json!({"name": "vm1", "_ansible_check_mode": true, "_ansible_diff": false,
            "_ansible_no_log": false, "_ansible_verbosity": 3}),
        )
        .unwrap();
        assert_eq!(
            (a.address.as_str(), a.port, a.state, a.wait, a.job_timeout),
            ("localhost", 5080, State::Present, true, 300)
        );
        assert!(a.check_mode && !a.diff && a.validate_certs && a.start);
    }

    #[test]
    fn refusals() {
        for (v, want) in [
            (json!({}), "missing required arguments: name"),
            (
                json!({"name": "x", "bogus": 1}),
                "Unsupported parameters for (ganeti_instance) module: bogus.",
            ),
            (
                json!({"name": "x", "state": "paused"}),
                "value of state must be one of",
            ),
            (
                json!({"name": "x", "disk_template": "lvm"}),
                "value of disk_template must be one of: diskless, file",
            ),
            (
                json!({"name": "x", "disks": [{"size": "1Q"}]}),
                "disks[0]: invalid size '1Q'",
            ),
            (
                json!({"name": "x", "disks": [{"name": "a"}]}),
                "disks[0]: 'size' is required",
            ),
            (
                json!({"name": "x", "disks": [{"size": 1, "mode": "rx"}]}),
                "disks[0].mode must be rw or ro",
            ),
            (
                json!({"name": "x", "nics": [{"bridge": "br0"}]}),
                "nics[0]: unknown key 'bridge'",
            ),
            (
                json!({"name": "x", "port": 70000}),
                "argument 'port' must be 1-65535",
            ),
            (
                json!({"name": "x", "wait": "maybe"}),
                "unable to convert to bool",
            ),
            (
                json!({"name": "x", "user": "u"}),
                "parameters are required together: user, password",
            ),
            (
                json!({"name": "x", "beparams": [1]}),
                "argument 'beparams' must be a dictionary",
            ),
        ] {
            let e = parse(v.clone()).unwrap_err().to_string();
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn disks_memory_and_beparams() {
        let a = parse(
            json!({"name": "x", "disks": ["10G", {"size": 512, "name": "swap", "mode": "ro"}],
            "memory": "1G", "vcpus": "2", "beparams": {"auto_balance": false}}),
        )
        .unwrap();
        assert_eq!(a.disks[0].size_mib, 10240);
        assert_eq!(
            a.disks[1],
            DiskArg {
                size_mib: 512,
                name: Some("swap".into()),
                mode: Some("ro".into()),
                provider: None
            }
        );
        assert_eq!(
            Value::Object(a.wanted_beparams()),
            json!({"auto_balance": false, "maxmem": 1024, "minmem": 1024, "vcpus": 2})
        );
    }
}
