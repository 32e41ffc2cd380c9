//! The node side of instance export and import: one disk at a time
//! through the OS `export` / `import` script, optionally compressed.
//!
//! Why local pipes and no transfer daemon: Ganeti moves each disk between
//! two nodes through its import-export daemon (socat over TLS, with `dd`
//! for progress). In single-node ganeti-rs the source and the destination
//! of every transfer are the same node, so the pipeline Ganeti builds is
//! kept and the network hop dropped: `export script | compressor > dump`
//! on export, `decompressor < dump | import script` on import. What an OS
//! provider sees is Ganeti's (`backend._GetImportExportIoCommand`,
//! `os-interface.md` §3 and §4): cwd the OS directory, the node daemon's
//! environment plus `LC_ALL=C` plus the OS environment (not replaced, as
//! Ganeti's `RunCmd` merges it), `EXPORT_*`/`IMPORT_*`, `EXP_SIZE_FD` on
//! export, and a log per disk named
//! `<log dir>/os/{export,import}-<os>-<instance>-disk<N>-<ts>.log`.
//!
//! Compression runs the tools as Ganeti's `impexpd` does: `gzip -1 -c`
//! for `gzip` and `gzip-fast`, `gzip -c` for `gzip-slow` (Ganeti 3.0 maps
//! `gzip-slow` to plain `gzip`, i.e. level 6), `lzop -c` for `lzop`, and
//! `<tool> -d -c` to decompress. Dumps are therefore readable by Ganeti's
//! own tools. The dump file must lie below the export directory (the
//! check Ganeti applies to transfer files), so a caller cannot make the
//! node write or read anywhere else.
//!
//! All processes of one transfer share a process group; past the deadline
//! the whole group is killed. A failed export removes its partial dump.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};

use super::env::{instance_env, secret_values, OsRunSpec, ScriptEnv, SCRIPT_PATH};
use super::os_from_disk;
use super::run::{
    fail_reason, instance_log_name, kill_group, mask, mask_file, open_log, spawn_retrying,
    tail_lines, OsRunner, TAIL_LINES,
};
use crate::spec::InstanceSpec;
use crate::NodeError;

/// The descriptor number `EXP_SIZE_FD` names in the export script.
pub const EXP_SIZE_CHILD_FD: i32 = 3;

/// A transfer compression (Ganeti's `IEC_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    /// `gzip` and `gzip-fast` (Ganeti compresses both with `gzip -1`).
    GzipFast,
    /// `gzip-slow` (Ganeti's plain `gzip -c`, level 6).
    GzipSlow,
    Lzop,
}

impl Compression {
    /// The compression of a Ganeti name (`none`, `gzip`, `gzip-fast`,
    /// `gzip-slow`, `lzop`).
    pub fn parse(name: &str) -> Result<Self, NodeError> {
        Ok(match name {
            "none" => Compression::None,
            "gzip" | "gzip-fast" => Compression::GzipFast,
            "gzip-slow" => Compression::GzipSlow,
            "lzop" => Compression::Lzop,
            _ => {
                return Err(NodeError::UnknownCompression {
                    name: name.to_string(),
                })
            }
        })
    }

    /// The program, or `None` without compression.
    pub fn tool(self) -> Option<&'static str> {
        match self {
            Compression::None => None,
            Compression::GzipFast | Compression::GzipSlow => Some("gzip"),
            Compression::Lzop => Some("lzop"),
        }
    }

    /// The arguments that compress stdin to stdout.
    pub fn compress_args(self) -> &'static [&'static str] {
        match self {
            Compression::GzipFast => &["-1", "-c"],
            _ => &["-c"],
        }
    }

    /// The arguments that decompress stdin to stdout.
    pub fn decompress_args(self) -> &'static [&'static str] {
        &["-d", "-c"]
    }
}

/// The program `tool` in the daemon's `PATH` (or the script `PATH`).
fn find_tool(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| SCRIPT_PATH.into());
    std::env::split_paths(&path)
        .chain(std::env::split_paths(SCRIPT_PATH))
        .map(|d| d.join(tool))
        .find(|p| {
            fs::metadata(p)
                .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// The tool of `comp` with its full path, or a clear error if missing.
fn resolve_tool(comp: Compression, name: &str) -> Result<Option<PathBuf>, NodeError> {
    let Some(tool) = comp.tool() else {
        return Ok(None);
    };
    find_tool(tool)
        .map(Some)
        .ok_or_else(|| NodeError::CompressionToolMissing {
            compress: name.to_string(),
            tool,
        })
}

/// Lexical normalisation check (Ganeti's `IsNormAbsPath`): absolute, no
/// `.`/`..` components.
fn is_norm_abs(path: &Path) -> bool {
    path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

/// Check that the transfer file `path` is below `export_dir` (lexically
/// and after resolving symlinks), creating its directory (0750) for an
/// export as Ganeti does.
fn check_transfer_file(path: &Path, export_dir: &Path, create_dir: bool) -> Result<(), NodeError> {
    let refuse = || NodeError::NotInExportDir {
        path: path.to_path_buf(),
        export_dir: export_dir.to_path_buf(),
    };
    let (Some(parent), Some(_)) = (path.parent(), path.file_name()) else {
        return Err(refuse());
    };
    if !is_norm_abs(path) || !path.starts_with(export_dir) || path == export_dir {
        return Err(refuse());
    }
    if create_dir {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o750)
            .create(parent)
            .map_err(|source| NodeError::ExportIo {
                op: "create directory",
                path: parent.to_path_buf(),
                source,
            })?;
    }
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| NodeError::ExportIo {
            op: "resolve",
            path: p,
            source,
        }
    };
    let real_root = fs::canonicalize(export_dir).map_err(io(export_dir))?;
    let real_parent = fs::canonicalize(parent).map_err(io(parent))?;
    if !real_parent.starts_with(&real_root) {
        return Err(refuse());
    }
    // the file itself must not be a symlink leading elsewhere
    if let Ok(m) = fs::symlink_metadata(path) {
        if m.file_type().is_symlink() {
            let real = fs::canonicalize(path).map_err(io(path))?;
            if !real.starts_with(&real_root) {
                return Err(refuse());
            }
        }
    }
    Ok(())
}

/// The processes of one transfer, all in the group of the first one.
struct Pipeline {
    /// `(what, child)` in pipeline order; the first leads the group.
    children: Vec<(String, Child)>,
}

impl Pipeline {
    /// The process group to put the next process in (0: a new one).
    fn group(&self) -> i32 {
        self.children
            .first()
            .map(|(_, c)| c.id() as i32)
            .unwrap_or(0)
    }

    fn push(&mut self, what: String, cmd: &mut Command) -> io::Result<()> {
        cmd.process_group(self.group());
        let child = spawn_retrying(cmd)?;
        self.children.push((what, child));
        Ok(())
    }

    /// Wait for all until `deadline`; past it kill the group. Returns
    /// each exit status and whether the deadline was hit.
    fn wait(mut self, deadline: Instant) -> io::Result<(Vec<(String, ExitStatus)>, bool)> {
        let mut done: Vec<Option<ExitStatus>> = vec![None; self.children.len()];
        let mut timed_out = false;
        loop {
            for (slot, (_, child)) in done.iter_mut().zip(self.children.iter_mut()) {
                if slot.is_none() {
                    *slot = child.try_wait()?;
                }
            }
            if done.iter().all(Option::is_some) {
                break;
            }
            if Instant::now() >= deadline {
                timed_out = true;
                self.kill();
                for (slot, (_, child)) in done.iter_mut().zip(self.children.iter_mut()) {
                    if slot.is_none() {
                        *slot = Some(child.wait()?);
                    }
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = self
            .children
            .drain(..)
            .zip(done)
            .filter_map(|((what, _), st)| st.map(|s| (what, s)))
            .collect();
        Ok((out, timed_out))
    }

    fn kill(&self) {
        if let Some((_, leader)) = self.children.first() {
            kill_group(leader);
        }
    }
}

impl Drop for Pipeline {
    /// Only reached with children left on an error path: end and reap them.
    fn drop(&mut self) {
        if self.children.is_empty() {
            return;
        }
        self.kill();
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One disk transfer, prepared.
struct Job<'a> {
    kind: &'static str,
    script: PathBuf,
    cwd: PathBuf,
    env: ScriptEnv,
    log: PathBuf,
    secrets: Vec<String>,
    tool: Option<(PathBuf, &'static [&'static str])>,
    timeout: Duration,
    inst: &'a InstanceSpec,
}

impl Job<'_> {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.script);
        cmd.current_dir(&self.cwd)
            .env("LC_ALL", "C")
            .envs(&self.env);
        cmd
    }

    fn log_file(&self) -> Result<File, NodeError> {
        open_log(&self.log)
    }

    fn spawn_err(&self, source: io::Error) -> NodeError {
        NodeError::OsScriptSpawn {
            script: self.kind,
            path: self.script.clone(),
            source,
        }
    }

    fn tool_command(&self, tool: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(tool);
        cmd.args(args).env("LC_ALL", "C");
        cmd
    }

    /// Judge the outcome: the script's failure first (its log says why),
    /// then the compression tool's; a script killed by SIGPIPE because
    /// the compressor it wrote to died is reported as the compressor's
    /// failure, the actual cause.
    fn judge(
        &self,
        mut statuses: Vec<(String, ExitStatus)>,
        timed_out: bool,
    ) -> Result<(), NodeError> {
        mask_file(&self.log, &self.secrets)?;
        // killed by SIGPIPE, or a shell reporting its child was (128 + 13)
        let broken_pipe = |st: &ExitStatus| {
            st.signal() == Some(libc::SIGPIPE) || st.code() == Some(128 + libc::SIGPIPE)
        };
        let tool_failed = statuses
            .iter()
            .any(|(w, st)| w != "script" && !st.success());
        if tool_failed && !timed_out {
            statuses.retain(|(w, st)| !(w == "script" && broken_pipe(st)));
        }
        let tail = || mask(&tail_lines(&self.log, TAIL_LINES), &self.secrets);
        let suffix = |reason: String| {
            if timed_out {
                format!(
                    "{reason} (timeout after {} seconds)",
                    self.timeout.as_secs()
                )
            } else {
                reason
            }
        };
        let failed = |what: &str| {
            statuses
                .iter()
                .find(|(w, _)| w == what)
                .and_then(|(_, st)| fail_reason(*st))
                .or_else(|| timed_out.then(|| "terminated".to_string()))
        };
        if let Some(reason) = failed("script") {
            let reason = suffix(reason);
            tracing::error!(script = self.kind, instance = %self.inst.name, %reason,
                log = %self.log.display(), "OS script failed");
            return Err(NodeError::OsScriptFailed {
                script: self.kind,
                reason,
                tail: tail(),
                log: self.log.clone(),
            });
        }
        for (what, st) in &statuses {
            if what == "script" {
                continue;
            }
            if let Some(reason) = fail_reason(*st) {
                tracing::error!(command = %what, instance = %self.inst.name, %reason, "compression failed");
                return Err(NodeError::CompressionFailed {
                    command: what.clone(),
                    reason: suffix(reason),
                    tail: tail(),
                    log: self.log.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The description of a tool invocation for messages.
fn tool_label(tool: &Path, args: &[&str]) -> String {
    let name = tool
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::iter::once(name)
        .chain(args.iter().map(|a| a.to_string()))
        .collect::<Vec<_>>()
        .join(" ")
}

impl OsRunner {
    /// Common preparation of an export or import of disk `idx`.
    #[allow(clippy::too_many_arguments)]
    fn prepare<'a>(
        &self,
        kind: &'static str,
        inst: &'a InstanceSpec,
        run: &OsRunSpec,
        disk_paths: &[PathBuf],
        idx: usize,
        compress: &str,
        decompress: bool,
        debug: u32,
    ) -> Result<Job<'a>, NodeError> {
        let comp = Compression::parse(compress)?;
        if idx >= inst.disks.len() {
            return Err(NodeError::NoSuchDiskIndex {
                instance: inst.name.clone(),
                index: idx,
                count: inst.disks.len(),
            });
        }
        let tool = resolve_tool(comp, compress)?.map(|t| {
            let args = if decompress {
                comp.decompress_args()
            } else {
                comp.compress_args()
            };
            (t, args)
        });
        let os = os_from_disk(&run.name, &self.search_path)?;
        let mut env = instance_env(&os, inst, run, disk_paths, debug, false);
        let (prefix, script) = if kind == "export" {
            ("EXPORT", os.export_script.clone())
        } else {
            ("IMPORT", os.import_script.clone())
        };
        if let Some(path) = disk_paths.get(idx) {
            let path = path.display().to_string();
            env.insert(format!("{prefix}_DEVICE"), path.clone());
            env.insert(format!("{prefix}_DISK_PATH"), path);
        }
        env.insert(format!("{prefix}_INDEX"), idx.to_string());
        let log = instance_log_name(
            &self.log_dir,
            kind,
            &run.name,
            &format!("{}-disk{idx}", inst.name),
        );
        Ok(Job {
            kind,
            script,
            cwd: os.path.clone(),
            env,
            log,
            secrets: secret_values(run),
            tool,
            timeout: self.transfer_timeout,
            inst,
        })
    }

    /// Ganeti's export of one disk through the OS export script: its
    /// stdout, compressed per `compress`, into `dest` (below `export_dir`,
    /// created 0600, removed on failure). Returns the bytes written.
    #[allow(clippy::too_many_arguments)]
    pub fn export_disk(
        &self,
        inst: &InstanceSpec,
        run: &OsRunSpec,
        disk_paths: &[PathBuf],
        idx: usize,
        dest: &Path,
        export_dir: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<u64, NodeError> {
        let job = self.prepare("export", inst, run, disk_paths, idx, compress, false, debug)?;
        check_transfer_file(dest, export_dir, true)?;
        export_to(&job, idx, dest)
    }

    /// Ganeti's import of one disk through the OS import script: `src`
    /// (below `export_dir`), decompressed per `compress`, on its stdin.
    #[allow(clippy::too_many_arguments)]
    pub fn import_disk(
        &self,
        inst: &InstanceSpec,
        run: &OsRunSpec,
        disk_paths: &[PathBuf],
        idx: usize,
        src: &Path,
        export_dir: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<(), NodeError> {
        let job = self.prepare("import", inst, run, disk_paths, idx, compress, true, debug)?;
        check_transfer_file(src, export_dir, false)?;
        let input = File::open(src).map_err(|source| NodeError::ExportIo {
            op: "open",
            path: src.to_path_buf(),
            source,
        })?;
        run_import(&job, input)?;
        tracing::info!(instance = %inst.name, disk = idx, src = %src.display(), "imported disk");
        Ok(())
    }
}

/// Run the export of `job` into `dest` (created 0600, removed on
/// failure); the bytes written.
fn export_to(job: &Job<'_>, idx: usize, dest: &Path) -> Result<u64, NodeError> {
    let dest_err = |op, source| NodeError::ExportIo {
        op,
        path: dest.to_path_buf(),
        source,
    };
    let out = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(dest)
        .map_err(|e| dest_err("create", e))?;
    out.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(|e| dest_err("chmod", e))?;
    let result = run_export(job, &out, dest);
    match result {
        Ok(()) => {
            out.sync_all().map_err(|e| dest_err("sync", e))?;
            let bytes = out.metadata().map_err(|e| dest_err("stat", e))?.len();
            tracing::info!(instance = %job.inst.name, disk = idx, bytes, dest = %dest.display(), "exported disk");
            Ok(bytes)
        }
        Err(e) => {
            drop(out);
            if let Err(rm) = fs::remove_file(dest) {
                tracing::warn!(dest = %dest.display(), error = %rm, "cannot remove the partial export");
            }
            Err(e)
        }
    }
}

/// `export script [| compressor] > out`, with `EXP_SIZE_FD`.
fn run_export(job: &Job<'_>, out: &File, dest: &Path) -> Result<(), NodeError> {
    let log = job.log_file()?;
    let log_err = |source| NodeError::OsLog {
        path: job.log.clone(),
        source,
    };
    let dup = |f: &File| f.try_clone().map_err(log_err);
    let out_err = |source| NodeError::ExportIo {
        op: "write",
        path: dest.to_path_buf(),
        source,
    };
    let (size_r, size_w) = io::pipe().map_err(|e| job.spawn_err(e))?;
    let mut script = job.command();
    script.env("EXP_SIZE_FD", EXP_SIZE_CHILD_FD.to_string());
    script
        .fd_mappings(vec![FdMapping {
            parent_fd: OwnedFd::from(size_w),
            child_fd: EXP_SIZE_CHILD_FD,
        }])
        .map_err(|_| job.spawn_err(io::Error::other("descriptor collision")))?;
    script.stdin(Stdio::null()).stderr(dup(&log)?);
    let mut pipe = Pipeline {
        children: Vec::new(),
    };
    match &job.tool {
        None => {
            script.stdout(out.try_clone().map_err(out_err)?);
            pipe.push("script".into(), &mut script)
                .map_err(|e| job.spawn_err(e))?;
        }
        Some((tool, args)) => {
            script.stdout(Stdio::piped());
            pipe.push("script".into(), &mut script)
                .map_err(|e| job.spawn_err(e))?;
            let stdout = pipe.children[0].1.stdout.take();
            let mut comp = job.tool_command(tool, args);
            comp.stdin(stdout.map_or_else(Stdio::null, Stdio::from))
                .stdout(out.try_clone().map_err(out_err)?)
                .stderr(dup(&log)?);
            pipe.push(tool_label(tool, args), &mut comp)
                .map_err(|e| job.spawn_err(e))?;
        }
    }
    // our copy of the size pipe's write end must go, or its reader never ends
    drop(script);
    let size = read_size(size_r);
    let deadline = Instant::now() + job.timeout;
    let (statuses, timed_out) = pipe.wait(deadline).map_err(|e| job.spawn_err(e))?;
    job.judge(statuses, timed_out)?;
    if let Ok(Some(expected)) = size.recv_timeout(Duration::from_secs(1)) {
        tracing::debug!(instance = %job.inst.name, expected, "export script predicted its size");
    }
    Ok(())
}

/// Read the size prediction of `EXP_SIZE_FD` in a thread (bytes, as
/// Ganeti's `impexpd` parses it); `None` if absent or not a number.
fn read_size(r: io::PipeReader) -> mpsc::Receiver<Option<u64>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.take(4096).read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf);
        let _ = tx.send(text.trim().parse::<u64>().ok());
    });
    rx
}

/// `[decompressor <] input | import script`.
fn run_import(job: &Job<'_>, input: File) -> Result<(), NodeError> {
    let log = job.log_file()?;
    let dup = |f: &File| {
        f.try_clone().map_err(|source| NodeError::OsLog {
            path: job.log.clone(),
            source,
        })
    };
    let mut pipe = Pipeline {
        children: Vec::new(),
    };
    let mut script = job.command();
    script.stdout(dup(&log)?).stderr(dup(&log)?);
    match &job.tool {
        None => {
            script.stdin(input);
            pipe.push("script".into(), &mut script)
                .map_err(|e| job.spawn_err(e))?;
        }
        Some((tool, args)) => {
            let mut dec = job.tool_command(tool, args);
            dec.stdin(input).stdout(Stdio::piped()).stderr(dup(&log)?);
            pipe.push(tool_label(tool, args), &mut dec)
                .map_err(|e| job.spawn_err(e))?;
            let stdout = pipe.children[0].1.stdout.take();
            script.stdin(stdout.map_or_else(Stdio::null, Stdio::from));
            pipe.push("script".into(), &mut script)
                .map_err(|e| job.spawn_err(e))?;
        }
    }
    drop(script);
    let deadline = Instant::now() + job.timeout;
    let (statuses, timed_out) = pipe.wait(deadline).map_err(|e| job.spawn_err(e))?;
    job.judge(statuses, timed_out)
}

/// Hooks for tests that need a stand-in compression tool.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// [`OsRunner::export_disk`] of disk 0 with `gzip` replaced by `tool`.
    pub fn export_with_tool(
        r: &OsRunner,
        inst: &InstanceSpec,
        run: &OsRunSpec,
        disk_paths: &[PathBuf],
        dest: &Path,
        export_dir: &Path,
        tool: &Path,
    ) -> Result<u64, NodeError> {
        let mut job = r.prepare("export", inst, run, disk_paths, 0, "gzip", false, 0)?;
        job.tool = Some((tool.to_path_buf(), &["-c"]));
        check_transfer_file(dest, export_dir, true)?;
        export_to(&job, 0, dest)
    }
}
