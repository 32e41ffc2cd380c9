//! Where the kvm hypervisor keeps what it knows about running instances.
//!
//! Everything lives in files below `<run dir>/kvm-hypervisor`, in Ganeti's
//! layout (`pid/<name>`, `ctrl/<name>.qmp|.monitor|.serial|.kvmd|.qga`,
//! `conf/<name>.runtime`, `nic/<name>/<seq>`), so operators' tools and hook
//! scripts find the sockets where they expect them, and so a restarted
//! daemon finds its running VMs again: there is no in-memory state that
//! matters. QEMU itself changes directory to `/` when it daemonizes, so all
//! paths are made absolute.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ganeti_types::Paths;

use crate::NodeError;

/// Mode of the directories we create.
const DIR_MODE: u32 = 0o750;
/// Mode of the files we write.
pub(crate) const FILE_MODE: u32 = 0o640;
/// Longest path a unix socket address can hold (`sun_path` minus the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The kvm hypervisor's directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KvmDirs {
    root: PathBuf,
    log: PathBuf,
    spice_cert: PathBuf,
    spice_ca: PathBuf,
}

/// Every file of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InstanceFiles {
    /// QEMU's `-pidfile` (QEMU removes it when it exits).
    pub pid: PathBuf,
    /// The QMP socket used for operations.
    pub qmp: PathBuf,
    /// A second QMP socket used only for status queries, so a long
    /// operation on the first one never blocks `instance_info`.
    pub info_qmp: PathBuf,
    /// The human monitor socket, for operators.
    pub monitor: PathBuf,
    /// The serial console socket.
    pub serial: PathBuf,
    /// The guest agent socket.
    pub qga: PathBuf,
    /// What was started: command line, NICs and their taps, disks.
    pub runtime: PathBuf,
    /// `nic/<name>/`: one file per NIC holding its tap name (Ganeti's).
    pub nic_dir: PathBuf,
    /// QEMU's own messages (stderr and `-D`).
    pub log: PathBuf,
    /// The empty directory QEMU chroots into with `use_chroot`.
    pub chroot: PathBuf,
}

impl KvmDirs {
    /// The layout below `paths` (made absolute).
    pub(crate) fn new(paths: &Paths) -> Self {
        let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
        KvmDirs {
            root: abs(paths.kvm_run_dir()),
            log: abs(paths.kvm_log_dir()),
            spice_cert: abs(paths.spice_pem()),
            spice_ca: abs(paths.spice_ca_pem()),
        }
    }

    /// `<run dir>/kvm-hypervisor`.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn pid_dir(&self) -> PathBuf {
        self.root.join("pid")
    }

    fn ctrl_dir(&self) -> PathBuf {
        self.root.join("ctrl")
    }

    fn conf_dir(&self) -> PathBuf {
        self.root.join("conf")
    }

    fn nic_dir(&self) -> PathBuf {
        self.root.join("nic")
    }

    fn chroot_dir(&self) -> PathBuf {
        self.root.join("chroot")
    }

    /// SPICE TLS certificate and key, and its CA.
    pub(crate) fn spice_certs(&self) -> (&Path, &Path) {
        (&self.spice_cert, &self.spice_ca)
    }

    /// The files of instance `name` (which must have passed [`check_name`]).
    pub(crate) fn instance(&self, name: &str) -> InstanceFiles {
        let ctrl = self.ctrl_dir();
        InstanceFiles {
            pid: self.pid_dir().join(name),
            qmp: ctrl.join(format!("{name}.qmp")),
            info_qmp: ctrl.join(format!("{name}.kvmd")),
            monitor: ctrl.join(format!("{name}.monitor")),
            serial: ctrl.join(format!("{name}.serial")),
            qga: ctrl.join(format!("{name}.qga")),
            runtime: self.conf_dir().join(format!("{name}.runtime")),
            nic_dir: self.nic_dir().join(name),
            log: self.log.join(format!("{name}.log")),
            chroot: self.chroot_dir().join(name),
        }
    }

    /// Create the directories a start needs.
    pub(crate) fn ensure(&self) -> io::Result<()> {
        for dir in [
            self.root.clone(),
            self.pid_dir(),
            self.root.join("uid"),
            self.ctrl_dir(),
            self.conf_dir(),
            self.nic_dir(),
            self.chroot_dir(),
            self.log.clone(),
        ] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(&dir)?;
        }
        Ok(())
    }
}

impl InstanceFiles {
    /// The unix sockets QEMU creates for the instance.
    pub(crate) fn sockets(&self) -> [&Path; 5] {
        [
            &self.qmp,
            &self.info_qmp,
            &self.monitor,
            &self.serial,
            &self.qga,
        ]
    }

    /// The file recording NIC `seq`'s tap name.
    pub(crate) fn nic_file(&self, seq: usize) -> PathBuf {
        self.nic_dir.join(seq.to_string())
    }
}

/// Refuse instance names that cannot be file names, QEMU `-name` values
/// or part of a unix socket path.
pub(crate) fn check_name(dirs: &KvmDirs, name: &str) -> Result<(), NodeError> {
    crate::hypervisor::check_file_name(name)?;
    let reason = if name.contains(',') || name.chars().any(char::is_whitespace) {
        "contains ',' or white space, which QEMU's -name cannot hold"
    } else if dirs
        .instance(name)
        .sockets()
        .iter()
        .any(|s| s.as_os_str().len() > MAX_SOCKET_PATH)
    {
        "too long for a control socket path below the run directory"
    } else {
        return Ok(());
    };
    Err(NodeError::InvalidInstanceName {
        name: name.to_string(),
        reason,
    })
}

/// Remove a file; a missing one is fine.
pub(crate) fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Remove a directory tree; a missing one is fine.
pub(crate) fn remove_dir_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replace `target` with `content` atomically: a reader sees the old or
/// the new file, never a mix, even if we die half-way (temp file, fsync,
/// rename, fsync of the directory).
pub(crate) fn write_atomic(target: &Path, content: &[u8]) -> io::Result<()> {
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = target.with_file_name(format!(".{name}.tmp.{}.{n}", std::process::id()));
    let res = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        fs::rename(&tmp, target)?;
        match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
            _ => Ok(()),
        }
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}
