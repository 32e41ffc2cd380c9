//! Talking to a test guest over its serial console socket (QEMU's
//! `-serial unix:...,server=on,wait=off`).
//!
//! The guest (tests/guest/build-guest.sh) prints `GUEST-READY name=N ip=I
//! boot=B` when its command loop listens, runs each line it reads, and ends
//! each command's output with `CMD-DONE rc=N`. Two facts shape this reader:
//! QEMU drops serial output while no client is connected, and a new QEMU
//! (hard reboot, restart) makes a new socket. So the reader stays
//! connected, reconnects by itself when QEMU closes the socket, and can
//! "poke" a guest that became ready before we connected by asking it to
//! print its ready line again. Each command is prefixed by a unique
//! `CMD-BEGIN-<n>` echo so that output left over from an earlier command
//! or a poke is never taken for this command's.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often a silent, not yet seen ready guest is asked to repeat its
/// ready line.
const POKE_EVERY: Duration = Duration::from_secs(5);

/// The guest's ready line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestReady {
    /// `gnt.name` of the guest.
    pub name: String,
    /// Its eth0 address, `none` without one.
    pub ip: String,
    /// The kernel's boot id: different at every boot.
    pub boot: String,
    /// What the guest runs from: `initramfs`, or `disk` (`gnt.root=`);
    /// empty if the line does not say (a guest built before it did).
    pub root: String,
    /// The disk root's `/etc/gnt/disk-id`, `none` without one; empty if
    /// the line does not say.
    pub disk_id: String,
}

impl GuestReady {
    /// Parse `GUEST-READY name=.. ip=.. boot=.. [root=.. disk_id=..]`.
    pub fn parse(line: &str) -> Option<GuestReady> {
        let rest = line.trim().strip_prefix("GUEST-READY ")?;
        let mut r = GuestReady {
            name: String::new(),
            ip: String::new(),
            boot: String::new(),
            root: String::new(),
            disk_id: String::new(),
        };
        for w in rest.split_whitespace() {
            match w.split_once('=') {
                Some(("name", v)) => r.name = v.to_string(),
                Some(("ip", v)) => r.ip = v.to_string(),
                Some(("boot", v)) => r.boot = v.to_string(),
                Some(("root", v)) => r.root = v.to_string(),
                Some(("disk_id", v)) => r.disk_id = v.to_string(),
                _ => {}
            }
        }
        (!r.boot.is_empty()).then_some(r)
    }
}

/// What a command run in the guest printed, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOutput {
    pub rc: i32,
    pub output: String,
}

/// A connection to one instance's serial console.
#[derive(Debug)]
pub struct Serial {
    path: PathBuf,
    stream: Option<UnixStream>,
    pending: Vec<u8>,
    lines: VecDeque<String>,
    transcript: Vec<String>,
    next_cmd: u64,
}

impl Serial {
    /// Connect to the socket at `path`, waiting up to `timeout` for it.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Serial, String> {
        let mut s = Serial {
            path: path.to_path_buf(),
            stream: None,
            pending: Vec::new(),
            lines: VecDeque::new(),
            transcript: Vec::new(),
            next_cmd: 1,
        };
        let deadline = Instant::now() + timeout;
        while !s.try_connect() {
            if Instant::now() >= deadline {
                return Err(format!(
                    "cannot connect to {} within {timeout:?}",
                    path.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(s)
    }

    /// The socket this reader talks to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn try_connect(&mut self) -> bool {
        match connect_bounded(&self.path) {
            Ok(s) => {
                let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
                self.stream = Some(s);
                true
            }
            Err(_) => false,
        }
    }

    fn push_bytes(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            let raw: Vec<u8> = self.pending.drain(..=i).collect();
            let line: String = String::from_utf8_lossy(&raw)
                .chars()
                .filter(|c| *c != '\r' && *c != '\n')
                .collect();
            self.transcript.push(line.clone());
            self.lines.push_back(line);
        }
    }

    /// The next line from the guest, or `None` at `deadline`. When QEMU
    /// closes the socket the reader reconnects (to a new QEMU's socket).
    fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(l) = self.lines.pop_front() {
                return Some(l);
            }
            if Instant::now() >= deadline {
                return None;
            }
            let Some(stream) = self.stream.as_mut() else {
                if !self.try_connect() {
                    std::thread::sleep(Duration::from_millis(20));
                }
                continue;
            };
            match stream.read(&mut buf) {
                Ok(0) => {
                    // QEMU went away: keep a partial last line, reconnect later
                    if !self.pending.is_empty() {
                        self.push_bytes(b"\n");
                    }
                    self.transcript.push("<serial: closed by QEMU>".into());
                    self.stream = None;
                }
                Ok(n) => self.push_bytes(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.transcript.push(format!("<serial: read error: {e}>"));
                    self.stream = None;
                }
            }
        }
    }

    /// Send one line to the guest (reconnecting first if needed).
    pub fn send_line(&mut self, line: &str) -> Result<(), String> {
        if self.stream.is_none() && !self.try_connect() {
            return Err(format!("{} is not connected", self.path.display()));
        }
        let stream = self.stream.as_mut().ok_or("not connected")?;
        stream
            .write_all(format!("{line}\n").as_bytes())
            .map_err(|e| format!("write to {}: {e}", self.path.display()))
    }

    /// The last `n` lines received, for failure messages.
    pub fn tail(&self, n: usize) -> String {
        let start = self.transcript.len().saturating_sub(n);
        self.transcript[start..].join("\n")
    }

    /// Everything received so far.
    pub fn transcript(&self) -> &[String] {
        &self.transcript
    }

    /// Wait for a line for which `pred` holds; return it.
    pub fn wait_for(
        &mut self,
        what: &str,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        while let Some(l) = self.next_line(deadline) {
            if pred(&l) {
                return Ok(l);
            }
        }
        Err(format!(
            "no {what} on {} within {timeout:?}; last console lines:\n{}",
            self.path.display(),
            self.tail(40)
        ))
    }

    /// Wait for a line starting with `prefix`.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> Result<String, String> {
        self.wait_for(prefix, |l| l.trim_start().starts_with(prefix), timeout)
    }

    /// Wait until the guest is ready, from a boot other than `not_boot`
    /// (pass `None` for any boot). A guest that stays silent is poked
    /// (asked to print its ready line again), so this also works when the
    /// guest became ready before we connected.
    fn ready(&mut self, not_boot: Option<&str>, timeout: Duration) -> Result<GuestReady, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let step = (Instant::now() + POKE_EVERY).min(deadline);
            while let Some(l) = self.next_line(step) {
                if let Some(r) = GuestReady::parse(&l) {
                    if not_boot != Some(r.boot.as_str()) {
                        return Ok(r);
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "guest on {} not ready within {timeout:?}; last console lines:\n{}",
                    self.path.display(),
                    self.tail(40)
                ));
            }
            let _ = self.send_line("cat /run/ready");
        }
    }

    /// Wait until the guest is up (any boot).
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<GuestReady, String> {
        self.ready(None, timeout)
    }

    /// Wait until the guest is up again after a reboot: a ready line with
    /// a boot id other than `old_boot`.
    pub fn wait_reboot(&mut self, old_boot: &str, timeout: Duration) -> Result<GuestReady, String> {
        self.ready(Some(old_boot), timeout)
    }

    /// Run `cmd` in the guest (`sh -c`), return its output and exit code.
    pub fn run(&mut self, cmd: &str, timeout: Duration) -> Result<CmdOutput, String> {
        let id = self.next_cmd;
        self.next_cmd += 1;
        let begin = format!("CMD-BEGIN-{id}");
        self.send_line(&format!("echo {begin}; {cmd}"))?;
        let deadline = Instant::now() + timeout;
        let fail = |s: &Self| {
            format!(
                "command {cmd:?} did not finish within {timeout:?}; last console lines:\n{}",
                s.tail(40)
            )
        };
        loop {
            match self.next_line(deadline) {
                Some(l) if l.trim() == begin => break,
                Some(_) => {}
                None => return Err(fail(self)),
            }
        }
        let mut output = String::new();
        loop {
            let Some(l) = self.next_line(deadline) else {
                return Err(fail(self));
            };
            if let Some((before, rc)) = l.split_once("CMD-DONE rc=") {
                output.push_str(before);
                let rc = rc
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad terminator line {l:?}"))?;
                return Ok(CmdOutput { rc, output });
            }
            output.push_str(&l);
            output.push('\n');
        }
    }

    /// Run `cmd`, insisting that it succeeds; returns its output.
    #[track_caller]
    pub fn check(&mut self, cmd: &str, timeout: Duration) -> String {
        match self.run(cmd, timeout) {
            Ok(o) if o.rc == 0 => o.output,
            Ok(o) => panic!("{cmd:?} failed in the guest (rc {}): {}", o.rc, o.output),
            Err(e) => panic!("{e}"),
        }
    }
}

/// `UnixStream::connect`, given up after a second. A connect to a unix
/// socket whose listener does not accept (QEMU serves one console client
/// at a time) blocks once the backlog is full; a test must fail then, not
/// hang. The abandoned attempt's thread ends when the socket goes away.
fn connect_bounded(path: &Path) -> std::io::Result<UnixStream> {
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(UnixStream::connect(p));
    });
    rx.recv_timeout(Duration::from_secs(1))
        .unwrap_or_else(|_| Err(std::io::Error::from(ErrorKind::TimedOut)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_lines_parse() {
        let r = GuestReady::parse("GUEST-READY name=a ip=10.0.0.1/24 boot=1234-5").unwrap();
        assert_eq!(r.name, "a");
        assert_eq!(r.ip, "10.0.0.1/24");
        assert_eq!(r.boot, "1234-5");
        assert_eq!((r.root.as_str(), r.disk_id.as_str()), ("", ""));
        let d =
            GuestReady::parse("GUEST-READY name=d ip=none boot=b root=disk disk_id=x-1\r").unwrap();
        assert_eq!((d.name.as_str(), d.boot.as_str()), ("d", "b"));
        assert_eq!((d.root.as_str(), d.disk_id.as_str()), ("disk", "x-1"));
        assert!(GuestReady::parse("GUEST-READY name=a").is_none());
        assert!(GuestReady::parse("echo GUEST-READY name=a boot=1").is_none());
    }

    #[test]
    fn commands_and_reconnects_against_a_fake_guest() {
        use std::os::unix::net::UnixListener;
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("x.serial");
        let listener = UnixListener::bind(&sock).unwrap();
        let guest = std::thread::spawn(move || {
            // first "QEMU": ready, one command, then gone
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"boot noise\r\nGUEST-READY name=g ip=none boot=b1\r\n")
                .unwrap();
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).unwrap();
            let line = String::from_utf8_lossy(&buf[..n]).to_string();
            let id = line.split(';').next().unwrap().trim_start_matches("echo ");
            s.write_all(format!("stale\r\n{id}\r\nhello\r\nCMD-DONE rc=3\r\n").as_bytes())
                .unwrap();
            drop(s);
            // second "QEMU" on the same path: a new boot
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(b"GUEST-READY name=g ip=none boot=b2\r\n")
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
        });
        let mut c = Serial::connect(&sock, Duration::from_secs(5)).unwrap();
        let r = c.wait_ready(Duration::from_secs(5)).unwrap();
        assert_eq!(r.boot, "b1");
        let out = c.run("echo hello; false", Duration::from_secs(5)).unwrap();
        assert_eq!(
            out,
            CmdOutput {
                rc: 3,
                output: "hello\n".into()
            }
        );
        let r = c.wait_reboot("b1", Duration::from_secs(5)).unwrap();
        assert_eq!(r.boot, "b2");
        guest.join().unwrap();
        let e = c
            .wait_line("NEVER", Duration::from_millis(200))
            .unwrap_err();
        assert!(e.contains("GUEST-READY name=g ip=none boot=b2"), "{e}");
    }
}
