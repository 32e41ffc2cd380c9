//! Harness for black-box tests: a real cluster (real `ganetid` process,
//! real files, real unix socket) in a temporary root, driven only through
//! the `gnt-*` binaries, exactly as an operator would.

pub mod http;
pub mod kvm;
pub mod os;
pub mod rapi;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Directory holding the built `gnt` and `ganetid` binaries.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    assert!(
        dir.join("gnt").is_file() && dir.join("ganetid").is_file(),
        "gnt and ganetid must be built first (cargo build --bins); looked in {}",
        dir.display()
    );
    dir
}

/// A loopback TCP port that is free now, outside the kernel's ephemeral
/// range so that outgoing connections of parallel tests do not take it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20000 + (std::process::id() % 500) as u16 * 20;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = 20000 + (base - 20000 + n) % 12000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Result of one command.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub rc: i32,
}

impl Run {
    fn from(o: Output) -> Self {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            rc: o.status.code().unwrap_or(-1),
        }
    }
    /// Assert success and return stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.rc, 0,
            "command failed: stdout={} stderr={}",
            self.stdout, self.stderr
        );
        &self.stdout
    }
}

/// A cluster in a temporary root.
#[derive(Debug)]
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub links: PathBuf,
    /// The port this cluster's RAPI listens on (loopback only).
    pub rapi_port: u16,
    /// Extra environment for the daemon and the tools (e.g. RAPI options).
    env: std::sync::Mutex<Vec<(String, String)>>,
    /// Daemons this test started itself (reaped on drop).
    children: std::sync::Mutex<Vec<std::process::Child>>,
    /// Network namespace the tools and the daemon run in (`ip netns exec`).
    netns: Option<String>,
}

impl Cluster {
    /// A root with the noop OS installed, not yet initialised.
    pub fn empty() -> Self {
        Self::empty_in(None)
    }

    /// Like [`Cluster::empty`], but every gnt-* command, and so the daemon
    /// `gnt-cluster init` starts, runs inside the network namespace `netns`
    /// (which must exist), as does a daemon [`Cluster::start_daemon`]
    /// starts. Tests with real guest networking need this: the daemon
    /// opens the instances' tap devices in its own namespace.
    pub fn empty_in_netns(netns: &str) -> Self {
        Self::empty_in(Some(netns))
    }

    fn empty_in(netns: Option<&str>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("gnt-e2e")
            .tempdir()
            .expect("tempdir");
        let links = dir.path().join("bin");
        std::fs::create_dir_all(&links).expect("bin dir");
        let bins = bin_dir();
        for t in [
            "cluster", "instance", "node", "group", "network", "job", "os", "debug", "filter",
            "backup",
        ] {
            std::os::unix::fs::symlink(bins.join("gnt"), links.join(format!("gnt-{t}")))
                .expect("symlink");
        }
        let os = dir.path().join("srv/ganeti/os/noop");
        std::fs::create_dir_all(&os).expect("os dir");
        std::fs::write(os.join("ganeti_api_version"), "20\n").expect("os api");
        // API 20 requires parameters.list (else Ganeti's rules make it invalid)
        std::fs::write(os.join("parameters.list"), "").expect("os parameters");
        for s in ["create", "import", "export", "rename", "verify"] {
            let p = os.join(s);
            std::fs::write(&p, "#!/bin/sh\nexit 0\n").expect("script");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Cluster {
            dir,
            links,
            rapi_port: free_port(),
            env: std::sync::Mutex::new(Vec::new()),
            children: std::sync::Mutex::new(Vec::new()),
            netns: netns.map(str::to_owned),
        }
    }

    /// An initialised, running cluster.
    pub fn init() -> Self {
        let c = Self::empty();
        c.init_with(&["--nic-parameters", "link=br0"]);
        c
    }

    /// `gnt-cluster init` of this (empty) root with `--master-ip 127.0.0.1`
    /// and `options`, asserting success.
    pub fn init_with(&self, options: &[&str]) {
        let mut argv = vec!["gnt-cluster", "init", "--master-ip", "127.0.0.1"];
        argv.extend_from_slice(options);
        argv.push("cluster.example.com");
        self.gnt(&argv).ok();
    }

    /// The cluster root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A command for `program`, inside the cluster's network namespace
    /// if it has one.
    fn command(&self, program: &Path) -> Command {
        match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// A gnt-* command set up for this cluster (root, daemon, node name).
    fn gnt_command(&self, argv: &[&str]) -> Command {
        let mut c = self.command(&self.links.join(argv[0]));
        c.args(&argv[1..])
            .env("GANETI_ROOT", self.root())
            .env("GANETID", bin_dir().join("ganetid"))
            .env("GANETI_NODE_NAME", "node1.example.com")
            .env("GANETI_RAPI_BIND", "127.0.0.1")
            .env("GANETI_RAPI_PORT", self.rapi_port.to_string())
            .env_remove("GNT_INSTANCE_LIST")
            .envs(self.extra_env());
        c
    }

    /// Run a gnt-* command against this cluster.
    pub fn gnt(&self, argv: &[&str]) -> Run {
        Run::from(self.gnt_command(argv).output().expect("run gnt"))
    }

    /// Run a gnt-* command with `input` on its stdin, kept open `hold`
    /// longer (e.g. for `gnt-instance console`, which stops relaying
    /// shortly after its input ends). A command still running 60 s after
    /// its input ended is killed and reported (rc -1, "TIMED OUT" on
    /// stderr) instead of hanging the test.
    pub fn gnt_input(&self, argv: &[&str], input: &[u8], hold: Duration) -> Run {
        use std::io::{Read, Write};
        use std::process::Stdio;
        let mut child = self
            .gnt_command(argv)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run gnt");
        let pipe = |r: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut r) = r {
                    let _ = r.read_to_end(&mut buf);
                }
                String::from_utf8_lossy(&buf).into_owned()
            })
        };
        let out = pipe(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let err = pipe(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(input);
            let _ = stdin.flush();
            std::thread::sleep(hold);
        }
        let start = Instant::now();
        let status = loop {
            if let Ok(Some(st)) = child.try_wait() {
                break Some(st);
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = out.join().unwrap_or_default();
        let mut stderr = err.join().unwrap_or_default();
        if status.is_none() {
            stderr.push_str(&format!(
                "\nTIMED OUT: {argv:?} still ran 60 s after its input ended"
            ));
        }
        Run {
            stdout,
            stderr,
            rc: status.and_then(|s| s.code()).unwrap_or(-1),
        }
    }

    /// Set an environment variable for every later command and daemon start.
    pub fn set_env(&self, key: &str, value: &str) {
        let mut env = self.env.lock().expect("env");
        env.retain(|(k, _)| k != key);
        env.push((key.to_owned(), value.to_owned()));
    }

    fn extra_env(&self) -> Vec<(String, String)> {
        self.env.lock().expect("env").clone()
    }

    /// Write the RAPI users file (Ganeti's path under the root).
    pub fn write_rapi_users(&self, content: &str) {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.root().join("var/lib/ganeti/rapi");
        std::fs::create_dir_all(&dir).expect("rapi dir");
        let tmp = dir.join(".users.tmp");
        std::fs::write(&tmp, content).expect("users file");
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::rename(&tmp, dir.join("users")).expect("rename users file");
    }

    /// The RAPI certificate (self-signed, so also the CA to trust).
    pub fn rapi_cert(&self) -> PathBuf {
        self.root().join("var/lib/ganeti/rapi.pem")
    }

    /// Wait until RAPI accepts connections.
    pub fn wait_rapi(&self) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.rapi_port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "RAPI did not come up on port {}",
                self.rapi_port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `gnt-instance add` of `name` with the `noop` OS and no name or IP
    /// check (test names do not resolve), plus `opts` (template, disks, ...).
    pub fn add_instance(&self, name: &str, opts: &[&str]) -> Run {
        let mut argv = vec![
            "gnt-instance",
            "add",
            "-o",
            "noop",
            "--no-name-check",
            "--no-ip-check",
        ];
        argv.extend_from_slice(opts);
        argv.push(name);
        self.gnt(&argv)
    }

    /// Pid of the running daemon.
    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.root().join("var/run/ganeti/ganetid.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    fn spawn_daemon(&self) -> std::process::Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.root().join("var/log/ganeti/ganetid.log"))
            .expect("log");
        self.command(&bin_dir().join("ganetid"))
            .arg("--root")
            .arg(self.root())
            .env("GANETI_RAPI_BIND", "127.0.0.1")
            .env("GANETI_RAPI_PORT", self.rapi_port.to_string())
            .envs(self.extra_env())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn ganetid")
    }

    /// Start the daemon (after a kill) and wait until it answers. A start
    /// that loses the race for the store lock against a killed daemon
    /// still finishing its last fsync is retried.
    pub fn start_daemon(&self) {
        let start = Instant::now();
        let mut child = self.spawn_daemon();
        while self.gnt(&["gnt-cluster", "queue", "info"]).rc != 0 {
            if let Ok(Some(_)) = child.try_wait() {
                child = self.spawn_daemon();
            }
            if start.elapsed() > Duration::from_secs(60) {
                let log = std::fs::read_to_string(self.root().join("var/log/ganeti/ganetid.log"))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                panic!(
                    "daemon did not come back; log tail (newest first):\n{}",
                    tail.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.children.lock().expect("children").push(child);
    }

    /// SIGKILL the daemon.
    pub fn kill9(&self) {
        if let Some(pid) = self.daemon_pid() {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            let start = Instant::now();
            while Path::new(&format!("/proc/{pid}")).exists()
                && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true)
                && start.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// The file of disk `index` of a file-template `instance`
    /// (`<root>/srv/ganeti/file-storage/<instance>/*.disk<index>`).
    #[track_caller]
    pub fn file_disk(&self, instance: &str, index: usize) -> PathBuf {
        let dir = self.root().join("srv/ganeti/file-storage").join(instance);
        let suffix = format!(".disk{index}");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.to_string_lossy().ends_with(&suffix))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "disk {index} files in {}: {found:?}",
            dir.display()
        );
        found.remove(0)
    }

    /// Wait for a job to finish; returns its status.
    pub fn wait_job(&self, id: &str) -> String {
        let start = Instant::now();
        loop {
            let r = self.gnt(&["gnt-job", "list", "--no-headers", "-o", "status", id]);
            let st = r.stdout.trim().to_string();
            if ["success", "error", "canceled"].contains(&st.as_str()) {
                return st;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "job {id} did not finish: {st}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(pid) = self.daemon_pid() {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(&*self.root().to_string_lossy()) {
                let _ = Command::new("kill").arg(pid.to_string()).status();
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        if let Ok(mut children) = self.children.lock() {
            for c in children.iter_mut() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        // VMs outlive the daemon by design; the ones of this root go now.
        kvm::kill_vms(self.root());
    }
}

/// Extract `JobID: N` from a `--submit` run.
pub fn job_id(r: &Run) -> String {
    r.stderr
        .lines()
        .chain(r.stdout.lines())
        .find_map(|l| l.strip_prefix("JobID: "))
        .unwrap_or_else(|| panic!("no JobID in {r:?}"))
        .trim()
        .to_string()
}
