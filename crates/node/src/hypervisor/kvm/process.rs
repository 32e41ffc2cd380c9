//! The QEMU process: launching it detached from us, recognising it again
//! later, and signalling it.
//!
//! QEMU runs with `-daemonize`: the process we spawn exits once the VM is
//! set up (its exit status tells whether the start worked), and the daemon
//! it leaves behind is in its own session, with no pipe to us, so it
//! outlives the node daemon. Recognising it again is done as Ganeti does:
//! the pid from the pid file is ours only if `/proc/<pid>/cmdline` is a
//! QEMU with `-name <instance>` (and our `-pidfile`), which is safe
//! against pid reuse. A zombie has an empty command line and counts as
//! gone.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use command_fds::CommandFdExt;
use rustix::process::{Pid, Signal};

use super::files::FILE_MODE;
use crate::NodeError;

/// What a live QEMU's command line says about its VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QemuProc {
    pub pid: i32,
    /// `-m`, MiB.
    pub memory_mib: u64,
    /// First field of `-smp`.
    pub vcpus: u32,
}

/// The pid in a pid file; `None` if there is no file or it holds no pid
/// (QEMU may be in the middle of writing it).
pub(crate) fn read_pid_file(instance: &str, path: &Path) -> Result<Option<i32>, NodeError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text.trim().parse::<i32>().ok().filter(|p| *p > 0)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(NodeError::HvStateIo {
            action: "read the pid of",
            instance: instance.to_string(),
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parse a NUL-separated command line: `Some` if it runs VM `instance`
/// with pid file `pid_file`.
pub(crate) fn parse_cmdline(
    pid: i32,
    cmdline: &[u8],
    instance: &str,
    pid_file: &Path,
) -> Option<QemuProc> {
    let args: Vec<&[u8]> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .collect();
    let value = |opt: &str| {
        args.windows(2)
            .find(|w| w[0] == opt.as_bytes())
            .and_then(|w| std::str::from_utf8(w[1]).ok())
    };
    // QEMU accepts "-name guest,process=..."; Ganeti reads the first field
    let name = value("-name")?.split(',').next()?;
    let name = name.strip_prefix("guest=").unwrap_or(name);
    if name != instance || Path::new(value("-pidfile")?) != pid_file {
        return None;
    }
    let memory_mib = value("-m").and_then(|m| m.parse().ok()).unwrap_or(0);
    let vcpus = value("-smp")
        .and_then(|s| s.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Some(QemuProc {
        pid,
        memory_mib,
        vcpus,
    })
}

/// The live QEMU of `instance` with this pid, if it is one.
pub(crate) fn inspect(pid: i32, instance: &str, pid_file: &Path) -> Option<QemuProc> {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    parse_cmdline(pid, &cmdline, instance, pid_file)
}

/// CPU time (user + system) of a process, seconds; 0 if unknown.
pub(crate) fn cpu_time_secs(pid: i32) -> f64 {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse_stat_ticks(&s))
        .map(|ticks| ticks as f64 / rustix::param::clock_ticks_per_second().max(1) as f64)
        .unwrap_or(0.0)
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line; the
/// command name (field 2) may contain spaces and parentheses.
pub(crate) fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state)
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory of a process, MiB.
pub(crate) fn rss_mib(pid: i32) -> Option<u64> {
    let statm = fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * rustix::param::page_size() as u64 / (1024 * 1024))
}

/// Send a signal; a process that is already gone is fine.
pub(crate) fn signal(pid: i32, sig: Signal) -> io::Result<()> {
    let Some(pid) = Pid::from_raw(pid) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "pid 0"));
    };
    match rustix::process::kill_process(pid, sig) {
        Err(rustix::io::Errno::SRCH) => Ok(()),
        other => other.map_err(io::Error::from),
    }
}

/// Poll `done` until it holds or `timeout` passes; whether it held.
pub(crate) fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(10);
    loop {
        if done() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// The most of QEMU's output a start failure quotes.
const MAX_QUOTED_OUTPUT: usize = 2000;

/// Run the daemonizing QEMU launcher: `argv[0]` with the rest, inheriting
/// `fds` at their own numbers, stdout/stderr appended to `log` (QEMU's
/// `-D` file, which keeps the daemon's stderr too). Returns once the
/// launcher exited: `Err` carries QEMU's own message.
pub(crate) fn launch(
    argv: &[String],
    fds: Vec<OwnedFd>,
    log: &Path,
    timeout: Duration,
) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("empty command line")?;
    let log_file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(log)
        .map_err(|e| format!("cannot open the QEMU log {}: {e}", log.display()))?;
    let offset = log_file.metadata().map(|m| m.len()).unwrap_or(0);
    let stdout = log_file
        .try_clone()
        .map_err(|e| format!("cannot open the QEMU log {}: {e}", log.display()))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(log_file)
        .preserved_fds(fds);
    let spawned = cmd.spawn();
    // the Command holds our copies of the fds: QEMU has its own now
    drop(cmd);
    let mut child = spawned.map_err(|e| format!("cannot run {program}: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "QEMU did not finish starting within {} s",
                    timeout.as_secs()
                ));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for {program}: {e}")),
        }
    };
    if status.success() {
        return Ok(());
    }
    let output = read_output(log, offset);
    if output.is_empty() {
        Err(format!("QEMU failed ({status}) and printed nothing"))
    } else {
        Err(format!("QEMU failed ({status}): {output}"))
    }
}

/// What was appended to `log` since `offset` (all of it if QEMU truncated
/// it, as `-D` does), trimmed to its last [`MAX_QUOTED_OUTPUT`] bytes.
fn read_output(log: &Path, offset: u64) -> String {
    let mut text = Vec::new();
    if let Ok(mut f) = fs::File::open(log) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let start = if len < offset { 0 } else { offset };
        let start = start.max(len.saturating_sub(MAX_QUOTED_OUTPUT as u64));
        if f.seek(SeekFrom::Start(start)).is_ok() {
            let _ = f.read_to_end(&mut text);
        }
    }
    String::from_utf8_lossy(&text).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_identifies_the_instance() {
        let pidfile = Path::new("/r/pid/inst1");
        let cmd = b"/usr/bin/kvm\x00-name\x00inst1\x00-m\x00128\x00-smp\x002,cores=2\x00-pidfile\x00/r/pid/inst1\x00";
        assert_eq!(
            parse_cmdline(7, cmd, "inst1", pidfile),
            Some(QemuProc {
                pid: 7,
                memory_mib: 128,
                vcpus: 2
            })
        );
        // another instance, another root, not a QEMU of ours, a zombie
        assert_eq!(parse_cmdline(7, cmd, "inst2", pidfile), None);
        assert_eq!(
            parse_cmdline(7, cmd, "inst1", Path::new("/x/pid/inst1")),
            None
        );
        assert_eq!(
            parse_cmdline(7, b"/bin/sleep\x00100\x00", "inst1", pidfile),
            None
        );
        assert_eq!(parse_cmdline(7, b"", "inst1", pidfile), None);
        // QEMU's extended -name syntax
        let cmd = b"qemu\0-name\0guest=inst1,debug-threads=on\0-pidfile\0/r/pid/inst1\0";
        assert!(parse_cmdline(7, cmd, "inst1", pidfile).is_some());
    }

    #[test]
    fn stat_ticks_survive_odd_command_names() {
        let stat = "1234 (qemu (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_stat_ticks(stat), Some(300));
        assert_eq!(parse_stat_ticks("garbage"), None);
        assert!(cpu_time_secs(std::process::id() as i32) >= 0.0);
        assert!(rss_mib(std::process::id() as i32).is_some());
    }

    #[test]
    fn pid_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pid");
        assert_eq!(read_pid_file("i", &p).unwrap(), None);
        fs::write(&p, "4242\n").unwrap();
        assert_eq!(read_pid_file("i", &p).unwrap(), Some(4242));
        fs::write(&p, "").unwrap();
        assert_eq!(read_pid_file("i", &p).unwrap(), None);
        fs::write(&p, "-3").unwrap();
        assert_eq!(read_pid_file("i", &p).unwrap(), None);
    }

    #[test]
    fn failed_launch_quotes_the_program_output() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        fs::write(&log, "old run\n").unwrap();
        let argv: Vec<String> = ["/bin/sh", "-c", "echo 'qemu: bad option' >&2; exit 1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = launch(&argv, vec![], &log, Duration::from_secs(10)).unwrap_err();
        assert!(e.ends_with("qemu: bad option"), "{e}");
        assert!(!e.contains("old run"), "{e}");
        let argv = vec!["/bin/true".to_string()];
        launch(&argv, vec![], &log, Duration::from_secs(10)).unwrap();
        let argv = vec!["/bin/sleep".to_string(), "5".to_string()];
        let e = launch(&argv, vec![], &log, Duration::from_millis(200)).unwrap_err();
        assert!(e.contains("did not finish starting"), "{e}");
        let e = launch(
            &["/no/such/qemu".to_string()],
            vec![],
            &log,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(e.starts_with("cannot run /no/such/qemu"), "{e}");
    }

    #[test]
    fn inherited_fds_reach_the_child() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let file = fs::File::open("/dev/null").unwrap();
        let fd: OwnedFd = file.into();
        let n = std::os::fd::AsRawFd::as_raw_fd(&fd);
        let argv: Vec<String> = [
            "/bin/sh".to_string(),
            "-c".to_string(),
            format!("test -e /proc/self/fd/{n} || {{ echo missing >&2; exit 1; }}"),
        ]
        .to_vec();
        launch(&argv, vec![fd], &log, Duration::from_secs(10)).unwrap();
    }
}
