//! Running the LVM2 command line tools.
//!
//! Ganeti drives LVM only through its commands (`lvcreate`, `lvs`, ...),
//! never through a library, and so do we: the tools are what operators
//! know, and their output is stable and parseable. Where the tools live is
//! injectable ([`LvmTools::in_dir`]) so tests can put a recorded fake in
//! their place (this machine's kernel has no device-mapper, so real
//! `lvcreate` cannot work here).
//!
//! A tool runs with a cleared environment (a fixed `PATH`, `LC_ALL=C` so
//! the output is not translated, and LVM's switch that silences its
//! "file descriptor leaked" warnings), without a shell, and is killed if
//! it does not finish in time: a hung LVM command (a stuck device, a held
//! lock) must not hang the node daemon forever.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::NodeError;

/// `PATH` for the tools when no directory is given: the usual places of
/// the LVM binaries (`/sbin` is not in every daemon's `PATH`).
const TOOL_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// How long one LVM command may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Where the LVM tools are and how long they may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvmTools {
    dir: Option<PathBuf>,
    timeout: Duration,
}

impl Default for LvmTools {
    fn default() -> Self {
        LvmTools {
            dir: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// What a finished tool gave.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl ToolOutput {
    /// Whether the tool exited with 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Ganeti's `fail_reason`: "exited with exit code N" or the signal.
    pub fn fail_reason(&self) -> String {
        match self.status.code() {
            Some(c) => format!("exited with exit code {c}"),
            None => {
                use std::os::unix::process::ExitStatusExt;
                format!("terminated by signal {}", self.status.signal().unwrap_or(0))
            }
        }
    }

    /// stdout and stderr together, trimmed (Ganeti's `output`).
    pub fn output(&self) -> String {
        let mut s = self.stdout.trim_end().to_string();
        let err = self.stderr.trim_end();
        if !err.is_empty() {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(err);
        }
        s
    }
}

impl LvmTools {
    /// The system's tools, found through the usual sbin/bin directories.
    pub fn system() -> Self {
        Self::default()
    }

    /// The tools in `dir` (`dir/lvcreate`, `dir/lvs`, ...).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        LvmTools {
            dir: Some(dir.into()),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The same tools with another time limit per command.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The directory the tools are taken from, if one was given.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn program(&self, tool: &str) -> PathBuf {
        match &self.dir {
            Some(d) => d.join(tool),
            None => PathBuf::from(tool),
        }
    }

    /// Run `tool args...` and wait for it (at most the time limit).
    /// Failing to start it or a timeout is an error; a non-zero exit is
    /// not (the caller words that failure).
    pub fn run(&self, tool: &str, args: &[&str]) -> Result<ToolOutput, NodeError> {
        let program = self.program(tool);
        tracing::debug!(tool, ?args, "running LVM tool");
        let mut child = Command::new(&program)
            .args(args)
            .env_clear()
            .env("PATH", TOOL_PATH)
            .env("LC_ALL", "C")
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| NodeError::LvmToolSpawn {
                tool: program.display().to_string(),
                source,
            })?;
        let out = child.stdout.take().map(reader);
        let err = child.stderr.take().map(reader);
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(NodeError::LvmToolTimeout {
                        tool: tool.to_string(),
                        secs: self.timeout.as_secs(),
                    });
                }
                Ok(None) => thread::sleep(Duration::from_millis(5)),
                Err(source) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(NodeError::LvmToolSpawn {
                        tool: program.display().to_string(),
                        source,
                    });
                }
            }
        };
        let collect = |h: Option<thread::JoinHandle<String>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        Ok(ToolOutput {
            status,
            stdout: collect(out),
            stderr: collect(err),
        })
    }
}

/// Read a pipe to its end on a thread (so a full stderr pipe cannot block
/// the tool while we wait for it).
fn reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, body: &str) {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn runs_with_a_clean_environment_and_captures_output() {
        let t = tempfile::tempdir().unwrap();
        script(
            t.path(),
            "lvs",
            "echo \"out $1 $LC_ALL\"; env | grep -c . >&2; exit 3",
        );
        let tools = LvmTools::in_dir(t.path());
        let o = tools.run("lvs", &["a b"]).unwrap();
        assert!(!o.success());
        assert_eq!(o.fail_reason(), "exited with exit code 3");
        assert_eq!(o.stdout, "out a b C\n");
        // PATH, LC_ALL, LVM_SUPPRESS_FD_WARNINGS (+ PWD the shell adds)
        let n: u32 = o.stderr.trim().parse().unwrap();
        assert!(n <= 4, "environment not cleared: {n} variables");
        assert_eq!(o.output(), format!("out a b C\n{n}"));
    }

    #[test]
    fn missing_tool_and_timeout_are_errors() {
        let t = tempfile::tempdir().unwrap();
        let e = LvmTools::in_dir(t.path()).run("vgs", &[]).unwrap_err();
        assert!(matches!(e, NodeError::LvmToolSpawn { .. }), "{e}");
        assert!(e.to_string().contains("vgs"), "{e}");
        script(t.path(), "lvchange", "exec sleep 30");
        let start = Instant::now();
        let e = LvmTools::in_dir(t.path())
            .with_timeout(Duration::from_millis(200))
            .run("lvchange", &[])
            .unwrap_err();
        assert!(matches!(e, NodeError::LvmToolTimeout { .. }), "{e}");
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
