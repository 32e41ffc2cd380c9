//! Attaching the terminal to an instance's serial console.
//!
//! Ganeti always runs the console command of a kvm instance (`socat` on the
//! serial socket) through ssh, even on the node itself. When the instance's
//! primary node is the machine `gnt-instance console` runs on, we connect to
//! the serial socket directly instead: no ssh to ourselves, no dependency
//! on socat being installed, and the same keys as socat's
//! `raw,echo=0,escape=0x1d`: the terminal goes raw and Ctrl-] detaches.
//! For any other node the Ganeti ssh command is used unchanged.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use rustix::termios::{self, OptionalActions, Termios};

/// The byte that detaches from the console (Ctrl-], socat's `escape=0x1d`).
pub const ESCAPE: u8 = 0x1d;

/// How long output is still relayed after our input ended.
const DRAIN_AFTER_EOF: Duration = Duration::from_millis(500);

/// The serial socket named by a kvm console command
/// (`[..., "UNIX-CONNECT:<path>"]`), if the command is of that form.
pub fn serial_socket(command: &[String]) -> Option<PathBuf> {
    if command.first().map(String::as_str) != Some("socat") {
        return None;
    }
    command
        .last()
        .and_then(|a| a.strip_prefix("UNIX-CONNECT:"))
        .filter(|p| Path::new(p).is_absolute())
        .map(PathBuf::from)
}

/// Puts a terminal into raw mode and restores it when dropped.
struct RawTerminal {
    saved: Termios,
}

impl RawTerminal {
    /// Raw mode on stdin if it is a terminal; `None` otherwise.
    fn enable() -> Option<Self> {
        let stdin = io::stdin();
        if !termios::isatty(&stdin) {
            return None;
        }
        let saved = termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw).ok()?;
        Some(RawTerminal { saved })
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(io::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// Relay between the serial socket at `path` and stdin/stdout until the
/// escape byte is typed, stdin ends, or the instance closes the console.
pub fn attach(path: &Path) -> io::Result<()> {
    let sock = UnixStream::connect(path)?;
    // our own handle on fd 1: the caller may hold the lock of `io::stdout()`
    // for its whole run, which would block the output thread forever
    let stdout = std::fs::File::from(rustix::io::dup(io::stdout())?);
    let _raw = RawTerminal::enable();
    relay(sock, io::stdin().lock(), stdout)
}

/// The relay itself, over any input and output (tests use buffers).
pub fn relay<R: Read, W: Write + Send + 'static>(
    sock: UnixStream,
    mut input: R,
    mut output: W,
) -> io::Result<()> {
    let mut from_guest = sock.try_clone()?;
    let printer = thread::spawn(move || -> io::Result<()> {
        let mut buf = [0u8; 4096];
        loop {
            match from_guest.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    output.write_all(&buf[..n])?;
                    output.flush()?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    });
    let mut to_guest = &sock;
    let mut buf = [0u8; 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => {
                // input ended (a pipe): let the guest's answer arrive
                thread::sleep(DRAIN_AFTER_EOF);
                break;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        if let Some(pos) = chunk.iter().position(|&b| b == ESCAPE) {
            to_guest.write_all(&chunk[..pos])?;
            break;
        }
        if let Err(e) = to_guest.write_all(chunk) {
            // the instance went away; its output thread says the rest
            if e.kind() == io::ErrorKind::BrokenPipe {
                break;
            }
            return Err(e);
        }
        if printer.is_finished() {
            break;
        }
    }
    let _ = sock.shutdown(Shutdown::Both);
    match printer.join() {
        Ok(r) => r,
        Err(_) => Err(io::Error::other("console output thread failed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn serial_socket_only_from_the_socat_form() {
        let cmd = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            serial_socket(&cmd(&[
                "socat",
                "STDIO,raw,echo=0,escape=0x1d",
                "UNIX-CONNECT:/run/ganeti/kvm-hypervisor/ctrl/i1.serial"
            ])),
            Some(PathBuf::from("/run/ganeti/kvm-hypervisor/ctrl/i1.serial"))
        );
        assert_eq!(serial_socket(&cmd(&["socat", "UNIX-CONNECT:rel"])), None);
        assert_eq!(serial_socket(&cmd(&["xl", "console", "i1"])), None);
        assert_eq!(serial_socket(&[]), None);
    }

    /// A fake serial port: echoes what it gets in upper case.
    fn echo_server(dir: &Path) -> (PathBuf, thread::JoinHandle<Vec<u8>>) {
        let path = dir.join("i1.serial");
        let listener = UnixListener::bind(&path).unwrap();
        let h = thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.write_all(b"login: ");
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        got.extend_from_slice(&buf[..n]);
                        let _ = s.write_all(&buf[..n].to_ascii_uppercase());
                    }
                }
            }
            got
        });
        (path, h)
    }

    #[test]
    fn relays_both_ways_and_stops_at_the_escape_byte() {
        let dir = tempfile::tempdir().unwrap();
        let (path, server) = echo_server(dir.path());
        let input: &[u8] = b"root\n\x1dnot sent";
        relay(
            UnixStream::connect(&path).unwrap(),
            input,
            Shared::default(),
        )
        .unwrap();
        assert_eq!(
            server.join().unwrap(),
            b"root\n",
            "bytes after ^] must not reach the guest"
        );
    }

    #[test]
    fn piped_input_end_still_shows_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let (path, server) = echo_server(dir.path());
        let out = Shared::default();
        relay(
            UnixStream::connect(&path).unwrap(),
            &b"uptime\n"[..],
            out.clone(),
        )
        .unwrap();
        assert_eq!(server.join().unwrap(), b"uptime\n");
        let shown = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(shown, "login: UPTIME\n");
    }

    #[test]
    fn a_missing_socket_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = attach(&dir.path().join("gone.serial")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
