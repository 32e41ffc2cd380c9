//! The world a command runs in: output streams, the master connection,
//! the clock, the terminal and the environment.
//!
//! Why: every command is a pure "parse → build opcode → talk LUXI →
//! print" pipeline. Putting the side effects behind [`Env`] and
//! [`Transport`] lets the tests drive whole commands in-process against a
//! scripted master (and lets `run` be called by the end-to-end tests),
//! while the real binary uses the blocking [`ganeti_luxi::Client`] — no
//! async runtime, so the tools start fast.

use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use ganeti_luxi::{Client, LuxiError, Method};
use ganeti_types::Paths;
use serde_json::Value;

use crate::errors::CliError;

/// One connection to the master.
pub trait Transport {
    /// Send one request and wait for its result.
    fn call(&mut self, method: Method, args: Value) -> Result<Value, LuxiError>;
}

impl Transport for Client {
    fn call(&mut self, method: Method, args: Value) -> Result<Value, LuxiError> {
        Client::call(self, method, args)
    }
}

/// Side effects outside the output streams.
pub trait Env {
    /// Open a connection to the master socket.
    fn connect(&self, socket: &std::path::Path) -> Result<Box<dyn Transport>, LuxiError>;
    /// Nanoseconds since the epoch (reason trail timestamps).
    fn now_ns(&self) -> u64;
    /// Seconds since the epoch.
    fn now_secs(&self) -> f64;
    /// Ask the user on the terminal; `None` when there is no terminal.
    /// `prompt` is the full question including the `y/[n]/?: ` suffix.
    fn ask(&self, prompt: &str, help: &str) -> Option<String>;
    /// An environment variable.
    fn var(&self, name: &str) -> Option<String>;
}

/// The real environment of the `gnt` binary.
#[derive(Debug, Default)]
pub struct RealEnv;

/// Timeout to establish and use a connection to the master.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

impl Env for RealEnv {
    fn connect(&self, socket: &std::path::Path) -> Result<Box<dyn Transport>, LuxiError> {
        Ok(Box::new(Client::connect(socket, CONNECT_TIMEOUT)?))
    }

    fn now_ns(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    fn now_secs(&self) -> f64 {
        ganeti_types::now_f64()
    }

    fn ask(&self, prompt: &str, help: &str) -> Option<String> {
        use std::io::{BufRead, BufReader};
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        let mut writer = tty.try_clone().ok()?;
        let mut reader = BufReader::new(tty);
        loop {
            writer.write_all(prompt.as_bytes()).ok()?;
            writer.flush().ok()?;
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return Some(String::new());
            }
            let answer = line.trim().to_lowercase();
            if answer == "?" {
                writer.write_all(help.as_bytes()).ok()?;
                continue;
            }
            return Some(answer);
        }
    }

    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The state of one command invocation.
pub struct Ctx<'a> {
    /// The program name as Ganeti shows it (`gnt-instance`).
    pub binary: String,
    /// The subcommand as typed (aliases not resolved), for the reason trail.
    pub command: String,
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// The cluster's file layout.
    pub paths: Paths,
    /// Side effects.
    pub env: &'a dyn Env,
    client: RefCell<Option<Box<dyn Transport>>>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("binary", &self.binary)
            .field("command", &self.command)
            .field("paths", &self.paths)
            .finish()
    }
}

impl<'a> Ctx<'a> {
    /// A context for `binary command`, with the cluster below `root`.
    pub fn new(
        binary: &str,
        command: &str,
        root: PathBuf,
        out: &'a mut dyn Write,
        err: &'a mut dyn Write,
        env: &'a dyn Env,
    ) -> Self {
        Ctx {
            binary: binary.to_string(),
            command: command.to_string(),
            out,
            err,
            paths: Paths::new(root),
            env,
            client: RefCell::new(None),
        }
    }

    /// Call a LUXI method, connecting on first use.
    pub fn call(&self, method: Method, args: Value) -> Result<Value, CliError> {
        let mut slot = self.client.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.env.connect(&self.paths.master_socket())?);
        }
        match slot.as_mut() {
            Some(c) => Ok(c.call(method, args)?),
            None => Err(CliError::Message("no connection".into(), 1)),
        }
    }

    /// Print one line on stdout.
    pub fn outln(&mut self, line: &str) -> Result<(), CliError> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    /// Print one line on stderr.
    pub fn errln(&mut self, line: &str) -> Result<(), CliError> {
        self.err.write_all(line.as_bytes())?;
        self.err.write_all(b"\n")?;
        Ok(())
    }

    /// Ganeti's `AskUser` with yes/no choices; no terminal means "no".
    pub fn ask_yes_no(&mut self, text: &str) -> bool {
        self.ask_user(
            text,
            &[
                ("y", "Perform the operation"),
                ("n", "Do not perform the operation"),
            ],
        )
        .as_deref()
            == Some("y")
    }

    /// Ganeti's `AskUser`: returns the chosen key, or the last choice's key
    /// when there is no terminal.
    pub fn ask_user(&mut self, text: &str, choices: &[(&str, &str)]) -> Option<String> {
        let default = choices.last().map(|(k, _)| k.to_string());
        let wrapped: Vec<String> = text.lines().map(|l| crate::textwrap::fill(l, 70)).collect();
        let mut keys: Vec<String> = choices.iter().map(|(k, _)| k.to_string()).collect();
        if let Some(last) = keys.last_mut() {
            *last = format!("[{last}]");
        }
        keys.push("?".into());
        let prompt = format!("{}\n{}: ", wrapped.join("\n"), keys.join("/"));
        let mut help = String::new();
        for (k, d) in choices {
            help.push_str(&format!(" {k} - {d}\n"));
        }
        help.push('\n');
        loop {
            match self.env.ask(&prompt, &help) {
                None => return default,
                Some(a) if a.is_empty() => return default,
                Some(a) => {
                    if choices.iter().any(|(k, _)| *k == a) {
                        return Some(a);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A scripted environment for the tests.

    use super::*;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// The calls a fake master received.
    pub type Log = Rc<RefCell<Vec<(Method, Value)>>>;
    type Responder = Box<dyn FnMut(Method, &Value) -> Result<Value, LuxiError>>;

    /// A fake master answering from a responder function.
    pub struct FakeEnv {
        pub log: Log,
        responder: Rc<RefCell<Responder>>,
        pub answers: RefCell<VecDeque<Option<String>>>,
        pub vars: Vec<(String, String)>,
        pub no_master: bool,
    }

    impl std::fmt::Debug for FakeEnv {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("FakeEnv")
                .field("calls", &self.log.borrow().len())
                .finish()
        }
    }

    struct FakeTransport {
        log: Log,
        responder: Rc<RefCell<Responder>>,
    }

    impl Transport for FakeTransport {
        fn call(&mut self, method: Method, args: Value) -> Result<Value, LuxiError> {
            self.log.borrow_mut().push((method, args.clone()));
            (self.responder.borrow_mut())(method, &args)
        }
    }

    impl FakeEnv {
        pub fn new(f: impl FnMut(Method, &Value) -> Result<Value, LuxiError> + 'static) -> Self {
            FakeEnv {
                log: Rc::new(RefCell::new(Vec::new())),
                responder: Rc::new(RefCell::new(Box::new(f))),
                answers: RefCell::new(VecDeque::new()),
                vars: Vec::new(),
                no_master: false,
            }
        }

        /// The arguments of every call of `method`.
        pub fn calls(&self, method: Method) -> Vec<Value> {
            self.log
                .borrow()
                .iter()
                .filter(|(m, _)| *m == method)
                .map(|(_, a)| a.clone())
                .collect()
        }
    }

    impl Env for FakeEnv {
        fn connect(&self, socket: &std::path::Path) -> Result<Box<dyn Transport>, LuxiError> {
            if self.no_master {
                return Err(LuxiError::NoMaster {
                    path: socket.to_path_buf(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                });
            }
            Ok(Box::new(FakeTransport {
                log: self.log.clone(),
                responder: self.responder.clone(),
            }))
        }
        fn now_ns(&self) -> u64 {
            1_795_447_035_457_695_232
        }
        fn now_secs(&self) -> f64 {
            1_795_447_035.0
        }
        fn ask(&self, _prompt: &str, _help: &str) -> Option<String> {
            self.answers.borrow_mut().pop_front().flatten()
        }
        fn var(&self, name: &str) -> Option<String> {
            self.vars
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }
}
