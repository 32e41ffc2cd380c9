//! Running iproute2 (`ip`, `bridge`) with an explicit argv.
//!
//! Interface configuration is planned as a list of [`Step`]s by pure
//! functions (unit-tested without root) and carried out here. Commands run
//! without a shell, with a cleared environment (`PATH`, `LC_ALL=C` so that
//! the messages we recognise are not translated), and a failing command
//! becomes a [`NodeError::NetCommand`] carrying the command line and its
//! own error message, so the operator sees what the kernel refused.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::NodeError;

/// Directories searched after `$PATH`, as Ganeti's scripts extend it.
const SBIN_DIRS: &[&str] = &["/sbin", "/usr/sbin"];

/// How often a "repeat until it fails" step runs at most.
const MAX_REPEAT: usize = 64;

/// One action of an interface configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    /// A command that must succeed.
    Run(Vec<String>),
    /// A command whose failure does not matter (Ganeti's `|| true`).
    TryRun(Vec<String>),
    /// A command that may fail because what it removes is already gone.
    RunMissingOk(Vec<String>),
    /// Repeat a command until it fails (`while ip rule del ...; do :; done`).
    RepeatUntilFails(Vec<String>),
    /// Write `1` to each `keys` file in the `/proc/sys` directory `dir`, if
    /// that directory exists (it does not for a protocol that is off).
    EnableSysctls { dir: PathBuf, keys: Vec<String> },
}

/// Build an argv from string slices.
pub(super) fn argv(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// The argv as one line for messages (arguments with odd characters quoted).
pub(super) fn show(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:/%@+=,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `$PATH` plus `/sbin:/usr/sbin`, as Ganeti gives its network scripts.
pub(super) fn search_path() -> OsString {
    let mut p = std::env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/bin:/bin"));
    for d in SBIN_DIRS {
        p.push(":");
        p.push(d);
    }
    p
}

/// Find `tool` in [`search_path`]; the bare name if not found (the spawn
/// error then names it).
pub(super) fn find_tool(tool: &str) -> PathBuf {
    std::env::split_paths(&search_path())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(tool))
}

/// Start `argv` and wait for it.
fn output(ifname: &str, argv: &[String]) -> Result<Output, NodeError> {
    let (prog, args) = argv
        .split_first()
        .ok_or_else(|| NodeError::NetCommandSpawn {
            ifname: ifname.to_string(),
            program: String::new(),
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        })?;
    Command::new(find_tool(prog))
        .args(args)
        .env_clear()
        .env("PATH", search_path())
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| NodeError::NetCommandSpawn {
            ifname: ifname.to_string(),
            program: prog.clone(),
            source,
        })
}

fn failure(ifname: &str, argv: &[String], out: &Output) -> NodeError {
    let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if stderr.is_empty() {
        stderr = String::from_utf8_lossy(&out.stdout).trim().to_string();
    }
    NodeError::NetCommand {
        ifname: ifname.to_string(),
        command: show(argv),
        status: out.status.to_string(),
        stderr,
    }
}

/// Run `argv`; its stdout on success, [`NodeError::NetCommand`] otherwise.
pub(super) fn run(ifname: &str, argv: &[String]) -> Result<String, NodeError> {
    let out = output(ifname, argv)?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(failure(ifname, argv, &out))
    }
}

/// Whether a command's message says that what it acts on does not exist.
pub(super) fn is_missing(stderr: &str) -> bool {
    [
        "does not exist",
        "Cannot find device",
        "No such device",
        "No such process",
        "No such file or directory",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

/// Carry out `steps` in order, stopping at the first failure.
pub(super) fn execute(ifname: &str, steps: &[Step]) -> Result<(), NodeError> {
    for step in steps {
        match step {
            Step::Run(a) => {
                run(ifname, a)?;
            }
            Step::TryRun(a) => {
                if let Err(e) = run(ifname, a) {
                    tracing::debug!("ignored: {e}");
                }
            }
            Step::RunMissingOk(a) => match run(ifname, a) {
                Ok(_) => {}
                Err(NodeError::NetCommand { ref stderr, .. }) if is_missing(stderr) => {}
                Err(e) => return Err(e),
            },
            Step::RepeatUntilFails(a) => {
                for _ in 0..MAX_REPEAT {
                    if !output(ifname, a)?.status.success() {
                        break;
                    }
                }
            }
            Step::EnableSysctls { dir, keys } => {
                if !dir.is_dir() {
                    continue;
                }
                for k in keys {
                    let path = dir.join(k);
                    std::fs::write(&path, "1").map_err(|source| NodeError::NetSysctl {
                        ifname: ifname.to_string(),
                        path,
                        source,
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// What `ip -j -d link show dev NAME` says about one interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct LinkFacts {
    /// `linkinfo.info_kind` (`bridge`, `veth`, `tun`, ...), if any.
    pub kind: Option<String>,
    pub mtu: Option<u32>,
    /// The hardware address.
    pub address: Option<String>,
    /// For bridges: `linkinfo.info_data.vlan_filtering`.
    pub vlan_filtering: bool,
}

/// Parse one interface out of `ip -j -d link show` output.
pub(super) fn parse_link(json: &str) -> Result<Option<LinkFacts>, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let arr = v.as_array().ok_or("not a JSON list")?;
    let Some(l) = arr.iter().find(|l| l.get("ifname").is_some()) else {
        return Ok(None);
    };
    let info = l.get("linkinfo");
    Ok(Some(LinkFacts {
        kind: info
            .and_then(|i| i.get("info_kind"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        mtu: l
            .get("mtu")
            .and_then(Value::as_u64)
            .and_then(|m| u32::try_from(m).ok()),
        address: l.get("address").and_then(Value::as_str).map(str::to_owned),
        vlan_filtering: info
            .and_then(|i| i.get("info_data"))
            .and_then(|d| d.get("vlan_filtering"))
            .and_then(Value::as_u64)
            == Some(1),
    }))
}

/// The interface names in `ip -j link show ...` output (entries without a
/// name, which `ip` prints for filtered-out links, are skipped).
pub(super) fn parse_names(json: &str) -> Result<Vec<String>, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let arr = v.as_array().ok_or("not a JSON list")?;
    Ok(arr
        .iter()
        .filter_map(|l| l.get("ifname").and_then(Value::as_str))
        .map(str::to_owned)
        .collect())
}

/// Facts about interface `dev`, `None` if it does not exist. `ifname` is
/// the interface being configured (for messages).
pub(super) fn link_facts(ifname: &str, dev: &str) -> Result<Option<LinkFacts>, NodeError> {
    let a = argv(&["ip", "-j", "-d", "link", "show", "dev", dev]);
    match run(ifname, &a) {
        Ok(out) => parse_link(&out).map_err(|reason| NodeError::NetOutput {
            ifname: ifname.to_string(),
            command: show(&a),
            reason,
        }),
        Err(NodeError::NetCommand { ref stderr, .. }) if is_missing(stderr) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The interfaces enslaved to `master`.
pub(super) fn ports_of(ifname: &str, master: &str) -> Result<Vec<String>, NodeError> {
    let a = argv(&["ip", "-j", "link", "show", "master", master]);
    let out = run(ifname, &a)?;
    parse_names(&out).map_err(|reason| NodeError::NetOutput {
        ifname: ifname.to_string(),
        command: show(&a),
        reason,
    })
}

/// Whether `p` is an executable regular file.
pub(super) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_shown_unambiguously() {
        assert_eq!(
            show(&argv(&[
                "ip",
                "route",
                "replace",
                "192.0.2.1",
                "dev",
                "tap0"
            ])),
            "ip route replace 192.0.2.1 dev tap0"
        );
        assert_eq!(
            show(&argv(&["echo", "a b", "", "it's"])),
            "echo 'a b' '' 'it'\\''s'"
        );
    }

    #[test]
    fn link_json_is_parsed() {
        let br = r#"[{"ifindex":2,"ifname":"br0","mtu":1400,"address":"0e:76:c2:76:24:5d",
            "linkinfo":{"info_kind":"bridge","info_data":{"stp_state":0,"vlan_filtering":0}}}]"#;
        let f = parse_link(br).unwrap().unwrap();
        assert_eq!(f.kind.as_deref(), Some("bridge"));
        assert_eq!(f.mtu, Some(1400));
        assert_eq!(f.address.as_deref(), Some("0e:76:c2:76:24:5d"));
        assert!(!f.vlan_filtering);
        let vf = br.replace("\"vlan_filtering\":0", "\"vlan_filtering\":1");
        assert!(parse_link(&vf).unwrap().unwrap().vlan_filtering);
        let plain = r#"[{"ifname":"eth0","mtu":9000}]"#;
        assert_eq!(parse_link(plain).unwrap().unwrap().kind, None);
        assert_eq!(parse_link("[{},{}]").unwrap(), None);
        assert!(parse_link("{}").is_err());
        assert!(parse_link("nope").is_err());
        assert_eq!(
            parse_names(r#"[{"ifname":"v0"},{},{"ifname":"tap3"}]"#).unwrap(),
            vec!["v0", "tap3"]
        );
    }

    #[test]
    fn missing_objects_are_recognised() {
        assert!(is_missing("Cannot find device \"tap9\""));
        assert!(is_missing("RTNETLINK answers: No such process"));
        assert!(is_missing("Device \"br9\" does not exist."));
        assert!(!is_missing("RTNETLINK answers: Operation not permitted"));
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let e = run("tap0", &argv(&["no-such-tool-gnt", "x"])).unwrap_err();
        let t = e.to_string();
        assert!(
            t.starts_with("Failed to configure interface tap0: cannot run 'no-such-tool-gnt'"),
            "{t}"
        );
        let e = run("tap0", &[]).unwrap_err();
        assert!(matches!(e, NodeError::NetCommandSpawn { .. }));
    }

    #[test]
    fn a_failing_command_reports_its_stderr() {
        let a = argv(&[
            "sh",
            "-c",
            "echo 'RTNETLINK answers: File exists' >&2; exit 2",
        ]);
        let e = run("tap1", &a).unwrap_err();
        let t = e.to_string();
        assert!(t.contains("Failed to configure interface tap1"), "{t}");
        assert!(t.contains("RTNETLINK answers: File exists"), "{t}");
        assert!(t.contains("exit status: 2"), "{t}");
        // the environment is cleared: no HOME leaks to the command
        let out = run(
            "tap1",
            &argv(&["sh", "-c", "echo \"${HOME:-unset} $LC_ALL\""]),
        )
        .unwrap();
        assert_eq!(out.trim(), "unset C");
    }

    #[test]
    fn steps_run_in_order_and_tolerate_what_they_should() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let l = log.display().to_string();
        let steps = vec![
            Step::TryRun(argv(&["sh", "-c", "exit 1"])),
            Step::RunMissingOk(argv(&[
                "sh",
                "-c",
                "echo 'Cannot find device x' >&2; exit 1",
            ])),
            Step::Run(argv(&["sh", "-c", &format!("echo one >> {l}")])),
            Step::RepeatUntilFails(argv(&[
                "sh",
                "-c",
                &format!("echo r >> {l}; [ $(wc -l < {l}) -lt 3 ]"),
            ])),
            Step::EnableSysctls {
                dir: dir.path().join("absent"),
                keys: vec!["x".into()],
            },
            Step::EnableSysctls {
                dir: dir.path().to_path_buf(),
                keys: vec!["proxy_arp".into()],
            },
        ];
        execute("tapx", &steps).unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\nr\nr\n");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("proxy_arp")).unwrap(),
            "1"
        );
        assert!(!dir.path().join("absent").exists());
        // a real failure stops the plan
        let steps = vec![
            Step::RunMissingOk(argv(&["sh", "-c", "echo denied >&2; exit 1"])),
            Step::Run(argv(&["sh", "-c", &format!("echo two >> {l}")])),
        ];
        let e = execute("tapx", &steps).unwrap_err();
        assert!(e.to_string().contains("denied"), "{e}");
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "one\nr\nr\n");
    }
}
