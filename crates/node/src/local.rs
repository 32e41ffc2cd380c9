//! [`LocalNode`]: the real [`NodeApi`], acting on this machine.
//!
//! It owns the hypervisors and storage drivers of the node and adds the
//! policy Ganeti's `backend.py` applies on top of them: refuse to start a
//! running instance before touching anything, find every disk before a
//! start, clean shutdown with a timeout then destroy, hard reboot as stop +
//! start. All state lives in files below the node's [`Paths`], so a new
//! `LocalNode` on the same root (a restarted daemon) sees the same running
//! instances and disks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ganeti_types::{Dict, Paths};

use crate::hooks;
use crate::host::HostProbe;
use crate::hypervisor::{self, Hypervisor, Hypervisors};
use crate::info::{BlockDevProbe, LvInfo, StorageEntry, StorageListRequest};
use crate::info::{
    BlockDevStatus, ConsoleHost, ConsoleInfo, InstanceRuntime, NodeInfo, StorageUnit,
};
use crate::os::{self, OsDiagnosis, OsRunSpec};
use crate::spec::{AttachedDisk, DiskPath, DiskSpec, HotplugAction, InstanceSpec, RebootType};
use crate::storage::{self, blockdev, file, FileStoragePolicy, LvmTools, StorageDrivers};
use crate::{export, NodeApi, NodeError};

/// Construction options of a [`LocalNode`].
#[derive(Debug, Clone, Default)]
pub struct LocalNodeOptions {
    /// Where host facts come from (default: the real `/proc`).
    pub host: Option<HostProbe>,
    /// Allowed file storage directories; default: the node's
    /// `file-storage-paths` file, or the default directories without it.
    pub file_storage_dirs: Option<Vec<PathBuf>>,
    /// Directory holding the LVM tools (`lvcreate`, `lvs`, ...); default:
    /// the usual sbin/bin directories. Tests put a fake there.
    pub lvm_tools_dir: Option<PathBuf>,
    /// Devices offered for `blockdev` adoption must be below this
    /// directory; default Ganeti's `/dev/disk`.
    pub adoptable_blockdev_root: Option<PathBuf>,
    /// Deadline of OS create/rename scripts (default
    /// [`os::run::DEFAULT_INSTALL_TIMEOUT`]); tests shorten it.
    pub os_script_timeout: Option<Duration>,
    /// Deadline of each hook script (default
    /// [`hooks::DEFAULT_HOOK_TIMEOUT`]).
    pub hook_timeout: Option<Duration>,
}

/// The node layer acting on this machine.
#[derive(Debug)]
pub struct LocalNode {
    paths: Paths,
    host: HostProbe,
    hypervisors: Hypervisors,
    storage: StorageDrivers,
    file_policy: FileStoragePolicy,
    adoptable_root: PathBuf,
    os_script_timeout: Option<Duration>,
    hook_timeout: Duration,
}

impl LocalNode {
    /// A node with the layout of `paths`, reading the real `/proc`.
    pub fn new(paths: Paths) -> Self {
        Self::with_options(paths, LocalNodeOptions::default())
    }

    /// A node with explicit options.
    pub fn with_options(paths: Paths, opts: LocalNodeOptions) -> Self {
        let host = opts.host.unwrap_or_default();
        let file_policy = match opts.file_storage_dirs {
            Some(dirs) => FileStoragePolicy::fixed(paths.root(), dirs),
            None => FileStoragePolicy::from_paths(&paths),
        };
        LocalNode {
            hypervisors: Hypervisors::new(&paths, &host),
            storage: StorageDrivers::new(
                file_policy.clone(),
                opts.lvm_tools_dir
                    .map(LvmTools::in_dir)
                    .unwrap_or_else(LvmTools::system),
            ),
            paths,
            host,
            file_policy,
            adoptable_root: opts
                .adoptable_blockdev_root
                .unwrap_or_else(|| PathBuf::from(blockdev::DEFAULT_ADOPTABLE_ROOT)),
            os_script_timeout: opts.os_script_timeout,
            hook_timeout: opts.hook_timeout.unwrap_or(hooks::DEFAULT_HOOK_TIMEOUT),
        }
    }

    /// The node's file-system layout.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The file storage path policy in force.
    pub fn file_storage_policy(&self) -> &FileStoragePolicy {
        &self.file_policy
    }

    fn hv(&self, name: &str) -> Result<&dyn Hypervisor, NodeError> {
        self.hypervisors.get(name)
    }

    /// Find every disk of the instance; all must exist.
    fn gather_disks(&self, inst: &InstanceSpec) -> Result<Vec<AttachedDisk>, NodeError> {
        inst.disks
            .iter()
            .map(|d| {
                let found = self.storage.for_disk(d)?.find(d)?;
                let st = found.ok_or_else(|| NodeError::BlockDeviceNotSetUp {
                    instance: inst.name.clone(),
                    disk: d
                        .file_path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|_| d.iv_name.clone()),
                })?;
                Ok(AttachedDisk {
                    uuid: d.uuid.clone(),
                    dev_path: st.dev_path,
                    mode: d.mode,
                })
            })
            .collect()
    }

    /// The OS script runner of this node's layout.
    fn os_runner(&self) -> os::OsRunner {
        let mut r = os::OsRunner::new(self.paths.os_search_path(), self.paths.log_dir());
        if let Some(t) = self.os_script_timeout {
            r.install_timeout = t;
            r.verify_timeout = t;
            r.transfer_timeout = t;
        }
        r
    }

    /// The local paths of the instance's (assembled) disks, in order.
    fn disk_paths(&self, inst: &InstanceSpec) -> Result<Vec<PathBuf>, NodeError> {
        Ok(self
            .gather_disks(inst)?
            .into_iter()
            .map(|d| d.dev_path)
            .collect())
    }

    fn is_running(&self, hv: &dyn Hypervisor, name: &str) -> Result<bool, NodeError> {
        Ok(hv.instance_info(name)?.is_some())
    }
}

impl NodeApi for LocalNode {
    fn node_info(
        &self,
        hypervisors: &[String],
        storage: &[StorageUnit],
    ) -> Result<NodeInfo, NodeError> {
        let bootid = self.host.boot_id()?;
        let storage = storage
            .iter()
            .map(|u| self.storage.space_info(u))
            .collect::<Result<_, _>>()?;
        let hypervisors = hypervisors
            .iter()
            .map(|h| self.hv(h)?.node_info())
            .collect::<Result<_, _>>()?;
        Ok(NodeInfo {
            bootid,
            storage,
            hypervisors,
        })
    }

    fn instances_info(
        &self,
        hypervisor: &str,
    ) -> Result<BTreeMap<String, InstanceRuntime>, NodeError> {
        self.hv(hypervisor)?.all_instances_info()
    }

    fn instance_info(
        &self,
        name: &str,
        hypervisor: &str,
    ) -> Result<Option<InstanceRuntime>, NodeError> {
        self.hv(hypervisor)?.instance_info(name)
    }

    fn instance_start(&self, inst: &InstanceSpec, startup_paused: bool) -> Result<(), NodeError> {
        let hv = self.hv(&inst.hypervisor)?;
        if self.is_running(hv, &inst.name)? {
            return Err(NodeError::AlreadyRunning {
                instance: inst.name.clone(),
            });
        }
        let disks = self.gather_disks(inst)?;
        hv.start(inst, &disks, startup_paused)
    }

    fn instance_shutdown(&self, inst: &InstanceSpec, timeout_secs: u64) -> Result<(), NodeError> {
        let hv = self.hv(&inst.hypervisor)?;
        if !self.is_running(hv, &inst.name)? {
            return Err(NodeError::NotRunning {
                instance: inst.name.clone(),
            });
        }
        hypervisor::shutdown(hv, inst, Duration::from_secs(timeout_secs))?;
        if let Err(e) = hv.cleanup(&inst.name) {
            tracing::warn!(instance = %inst.name, error = %e, "Failed to execute post-shutdown cleanup step");
        }
        Ok(())
    }

    fn instance_reboot(
        &self,
        inst: &InstanceSpec,
        reboot_type: RebootType,
        shutdown_timeout_secs: u64,
    ) -> Result<(), NodeError> {
        let hv = self.hv(&inst.hypervisor)?;
        let running = self.is_running(hv, &inst.name)?;
        match reboot_type {
            RebootType::Soft | RebootType::Hard if !running => Err(NodeError::RebootNotRunning {
                instance: inst.name.clone(),
            }),
            RebootType::Soft => hv.reboot(inst),
            RebootType::Hard => {
                self.instance_shutdown(inst, shutdown_timeout_secs)?;
                self.instance_start(inst, false)
            }
            RebootType::Full => {
                if running {
                    self.instance_shutdown(inst, shutdown_timeout_secs)?;
                }
                for d in &inst.disks {
                    self.blockdev_shutdown(d)?;
                }
                for d in &inst.disks {
                    self.blockdev_assemble(d)?;
                }
                self.instance_start(inst, false)
            }
        }
    }

    fn instance_console(
        &self,
        inst: &InstanceSpec,
        host: &ConsoleHost,
    ) -> Result<ConsoleInfo, NodeError> {
        Ok(self.hv(&inst.hypervisor)?.console(inst, host))
    }

    fn instance_hotplug(
        &self,
        inst: &InstanceSpec,
        action: &HotplugAction,
    ) -> Result<(), NodeError> {
        let hv = self.hv(&inst.hypervisor)?;
        if !self.is_running(hv, &inst.name)? {
            return Err(NodeError::NotRunning {
                instance: inst.name.clone(),
            });
        }
        let disks = self.gather_disks(inst)?;
        hv.hotplug(inst, &disks, action)
    }

    fn blockdev_create(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        self.storage.for_disk(disk)?.create(disk)
    }

    fn blockdev_remove(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        self.storage.for_disk(disk)?.remove(disk)
    }

    fn blockdev_grow(
        &self,
        disk: &DiskSpec,
        amount_mib: u64,
        dryrun: bool,
    ) -> Result<(), NodeError> {
        self.storage.for_disk(disk)?.grow(disk, amount_mib, dryrun)
    }

    fn blockdev_assemble(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError> {
        self.storage.for_disk(disk)?.assemble(disk)
    }

    fn blockdev_shutdown(&self, disk: &DiskSpec) -> Result<(), NodeError> {
        self.storage.for_disk(disk)?.shutdown(disk)
    }

    fn blockdev_find(&self, disk: &DiskSpec) -> Result<Option<BlockDevStatus>, NodeError> {
        self.storage.for_disk(disk)?.find(disk)
    }

    fn file_storage_dir_create(&self, dir: &Path) -> Result<(), NodeError> {
        file::create_dir(&self.file_policy, dir)
    }

    fn file_storage_dir_remove(&self, dir: &Path) -> Result<(), NodeError> {
        file::remove_dir(&self.file_policy, dir)
    }

    fn file_storage_dir_rename(&self, old: &Path, new: &Path) -> Result<(), NodeError> {
        file::rename_dir(&self.file_policy, old, new)
    }

    fn os_diagnose(&self) -> Result<Vec<OsDiagnosis>, NodeError> {
        Ok(os::diagnose(&self.paths.os_search_path()))
    }

    fn storage_list(&self, req: &StorageListRequest) -> Result<Vec<StorageEntry>, NodeError> {
        self.storage.list(req)
    }

    fn lv_list(&self, vgs: &[String]) -> Result<BTreeMap<String, LvInfo>, NodeError> {
        storage::lvm::lv_list(self.storage.lvm(), vgs)
    }

    fn blockdev_rename(
        &self,
        disk: &DiskSpec,
        new_logical_id: &serde_json::Value,
    ) -> Result<(), NodeError> {
        self.storage.for_disk(disk)?.rename(disk, new_logical_id)
    }

    fn blockdev_probe(&self, devices: &[PathBuf]) -> Result<Vec<BlockDevProbe>, NodeError> {
        Ok(blockdev::probe(
            &self.adoptable_root,
            Path::new("/sys"),
            devices,
        ))
    }

    fn os_create(
        &self,
        inst: &InstanceSpec,
        os: &OsRunSpec,
        reinstall: bool,
        debug: u32,
    ) -> Result<(), NodeError> {
        let disks = self.disk_paths(inst)?;
        self.os_runner().create(inst, os, &disks, reinstall, debug)
    }

    fn os_rename(
        &self,
        inst: &InstanceSpec,
        old_name: &str,
        os: &OsRunSpec,
        debug: u32,
    ) -> Result<(), NodeError> {
        let disks = self.disk_paths(inst)?;
        self.os_runner().rename(inst, old_name, os, &disks, debug)
    }

    fn os_validate(
        &self,
        os_name: &str,
        params: &Dict,
        secret_params: &Dict,
        checks: &[String],
        force_variant: bool,
    ) -> Result<(), NodeError> {
        let mut all = params.clone();
        all.extend(secret_params.iter().map(|(k, v)| (k.clone(), v.clone())));
        let secrets = os::env::secret_values(&OsRunSpec {
            secret_params: secret_params.clone(),
            ..Default::default()
        });
        self.os_runner()
            .validate(os_name, &all, checks, force_variant, &secrets)
    }

    fn os_export_disk(
        &self,
        inst: &InstanceSpec,
        os: &OsRunSpec,
        disk_index: usize,
        dest: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<u64, NodeError> {
        let disks = self.disk_paths(inst)?;
        self.os_runner().export_disk(
            inst,
            os,
            &disks,
            disk_index,
            dest,
            &self.export_dir(),
            compress,
            debug,
        )
    }

    fn os_import_disk(
        &self,
        inst: &InstanceSpec,
        os: &OsRunSpec,
        disk_index: usize,
        src: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<(), NodeError> {
        let disks = self.disk_paths(inst)?;
        self.os_runner().import_disk(
            inst,
            os,
            &disks,
            disk_index,
            src,
            &self.export_dir(),
            compress,
            debug,
        )
    }

    fn export_dir(&self) -> PathBuf {
        export::export_dir(&self.paths)
    }

    fn export_finalize(
        &self,
        instance_name: &str,
        staging: &Path,
        config_ini: &str,
    ) -> Result<(), NodeError> {
        export::finalize(&self.export_dir(), instance_name, staging, config_ini)
    }

    fn export_list(&self) -> Result<Vec<String>, NodeError> {
        export::list(&self.export_dir())
    }

    fn export_info(&self, path: &Path) -> Result<String, NodeError> {
        export::info(path)
    }

    fn export_remove(&self, name: &str) -> Result<(), NodeError> {
        export::remove(&self.export_dir(), name)
    }

    fn blockdev_snapshot(&self, disk: &DiskSpec, snap_name: &str) -> Result<PathBuf, NodeError> {
        storage::snapshot::check_supported(disk)?;
        let found = self.storage.for_disk(disk)?.find(disk)?;
        let dev = found.ok_or_else(|| NodeError::SnapshotNoDevice {
            disk: disk.iv_name.clone(),
        })?;
        storage::snapshot::create(disk, &dev.dev_path, snap_name, self.storage.lvm())
    }

    fn blockdev_snapshot_remove(&self, disk: &DiskSpec, snapshot: &Path) -> Result<(), NodeError> {
        storage::snapshot::remove(disk, snapshot, self.storage.lvm())
    }

    fn hooks_run(
        &self,
        hpath: &str,
        phase: hooks::HookPhase,
        env: &BTreeMap<String, String>,
    ) -> Result<Vec<hooks::HookScriptResult>, NodeError> {
        let opts = hooks::HookRunOptions {
            timeout: self.hook_timeout,
            ..hooks::HookRunOptions::default()
        };
        let results = hooks::run_hooks_dir(&self.paths.hooks_dir(), hpath, phase, env, &opts)?;
        for r in &results {
            match r.status {
                hooks::HookStatus::Fail => tracing::warn!(
                    "hook {} failed after {} ms: {}",
                    r.script,
                    r.duration_ms,
                    r.output.lines().next().unwrap_or("")
                ),
                hooks::HookStatus::Success => {
                    tracing::info!("hook {} succeeded in {} ms", r.script, r.duration_ms)
                }
                hooks::HookStatus::Skip => tracing::debug!("hook {} skipped", r.script),
            }
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use ganeti_types::DiskTemplate;

    use super::*;
    use crate::info::{HvInstanceState, StorageType};
    use crate::spec::DiskMode;

    const MIB: u64 = 1024 * 1024;

    /// A node in a temp dir whose host has `total` MiB, `free` of them free.
    struct Fixture {
        _dir: tempfile::TempDir,
        root: PathBuf,
        proc_dir: PathBuf,
    }

    impl Fixture {
        fn new(total: u64, free: u64) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("root");
            let proc_dir = dir.path().join("proc");
            fs::create_dir_all(proc_dir.join("sys/kernel/random")).unwrap();
            fs::write(
                proc_dir.join("sys/kernel/random/boot_id"),
                "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n",
            )
            .unwrap();
            fs::write(
                proc_dir.join("cpuinfo"),
                "processor\t: 0\nprocessor\t: 1\nprocessor\t: 2\n",
            )
            .unwrap();
            let f = Fixture {
                _dir: dir,
                root,
                proc_dir,
            };
            f.set_memory(total, free);
            f
        }

        fn set_memory(&self, total: u64, free: u64) {
            fs::write(
                self.proc_dir.join("meminfo"),
                format!(
                    "MemTotal: {} kB\nMemFree: {} kB\nBuffers: 0 kB\nCached: 0 kB\nActive: 262144 kB\n",
                    total * 1024,
                    free * 1024
                ),
            )
            .unwrap();
        }

        fn node(&self) -> LocalNode {
            LocalNode::with_options(
                Paths::new(&self.root),
                LocalNodeOptions {
                    host: Some(HostProbe::with_proc_dir(&self.proc_dir)),
                    ..Default::default()
                },
            )
        }

        fn storage_dir(&self) -> PathBuf {
            Paths::new(&self.root).default_file_storage_dir()
        }

        fn file_disk(&self, inst: &str, idx: usize, size_mib: u64) -> DiskSpec {
            let path = file::disk_path(&self.storage_dir(), inst, &format!("uid{idx}"), idx);
            disk_at(&path, size_mib)
        }
    }

    fn disk_at(path: &Path, size_mib: u64) -> DiskSpec {
        DiskSpec {
            uuid: format!("uuid-of-{}", path.display()),
            name: None,
            iv_name: "disk/0".into(),
            template: DiskTemplate::File,
            size_mib,
            logical_id: file::logical_id(path),
            mode: DiskMode::Rw,
            params: Default::default(),
        }
    }

    fn inst(name: &str, mem: u64, disks: Vec<DiskSpec>) -> InstanceSpec {
        InstanceSpec {
            name: name.into(),
            uuid: format!("{name}-uuid"),
            os: "noop".into(),
            hypervisor: "fake".into(),
            hvparams: Default::default(),
            beparams: Default::default(),
            maxmem_mib: mem,
            minmem_mib: mem,
            vcpus: 1,
            disks,
            nics: vec![],
            network_port: None,
        }
    }

    fn fake() -> Vec<String> {
        vec!["fake".to_string()]
    }

    #[test]
    fn start_stop_list_and_double_operations() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let i1 = inst("inst1.example.com", 512, vec![]);
        assert!(node.instances_info("fake").unwrap().is_empty());
        node.instance_start(&i1, false).unwrap();
        let all = node.instances_info("fake").unwrap();
        assert_eq!(all.len(), 1);
        let rt = &all["inst1.example.com"];
        assert_eq!(
            (rt.state, rt.memory, rt.vcpus),
            (HvInstanceState::Running, 512, 1)
        );

        let e = node.instance_start(&i1, false).unwrap_err();
        assert!(matches!(e, NodeError::AlreadyRunning { .. }));
        assert_eq!(
            e.to_string(),
            "Hypervisor error: Failed to start instance inst1.example.com: already running"
        );

        node.instance_shutdown(&i1, 10).unwrap();
        assert!(node
            .instance_info("inst1.example.com", "fake")
            .unwrap()
            .is_none());
        let e = node.instance_shutdown(&i1, 10).unwrap_err();
        assert!(matches!(e, NodeError::NotRunning { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "Failed to stop instance inst1.example.com: not running"
        );
    }

    #[test]
    fn reboot_types() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let d = f.file_disk("inst1", 0, 1);
        let i1 = inst("inst1", 256, vec![d.clone()]);
        for t in [RebootType::Soft, RebootType::Hard] {
            let e = node.instance_reboot(&i1, t, 5).unwrap_err();
            assert_eq!(
                e.to_string(),
                "Cannot reboot instance 'inst1' that is not running"
            );
        }
        node.blockdev_create(&d).unwrap();
        node.instance_start(&i1, false).unwrap();
        node.instance_reboot(&i1, RebootType::Soft, 5).unwrap();
        node.instance_reboot(&i1, RebootType::Hard, 5).unwrap();
        assert!(node.instance_info("inst1", "fake").unwrap().is_some());
        node.instance_shutdown(&i1, 5).unwrap();
        // full reboot of a stopped instance starts it, as Ganeti's does
        node.instance_reboot(&i1, RebootType::Full, 5).unwrap();
        assert!(node.instance_info("inst1", "fake").unwrap().is_some());
        node.instance_reboot(&i1, RebootType::Full, 5).unwrap();
        assert!(node.instance_info("inst1", "fake").unwrap().is_some());
        // a full reboot needs the disks
        node.instance_shutdown(&i1, 5).unwrap();
        node.blockdev_remove(&d).unwrap();
        let e = node.instance_reboot(&i1, RebootType::Full, 5).unwrap_err();
        assert!(matches!(e, NodeError::DiskMissing { .. }), "{e}");
    }

    #[test]
    fn running_instances_survive_a_restart() {
        let f = Fixture::new(8192, 4096);
        {
            let node = f.node();
            node.instance_start(&inst("a", 128, vec![]), false).unwrap();
            node.instance_start(&inst("b", 256, vec![]), false).unwrap();
        }
        let node = f.node();
        let all = node.instances_info("fake").unwrap();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(all["b"].memory, 256);
        assert!(matches!(
            node.instance_start(&inst("a", 128, vec![]), false),
            Err(NodeError::AlreadyRunning { .. })
        ));
        node.instance_shutdown(&inst("a", 128, vec![]), 1).unwrap();
        assert_eq!(f.node().instances_info("fake").unwrap().len(), 1);
    }

    #[test]
    fn memory_accounting() {
        let f = Fixture::new(8192, 1024);
        let node = f.node();
        let free = |n: &LocalNode| {
            n.node_info(&fake(), &[])
                .unwrap()
                .hv("fake")
                .unwrap()
                .memory_free
        };
        assert_eq!(free(&node), 1024);
        node.instance_start(&inst("a", 512, vec![]), false).unwrap();
        assert_eq!(free(&node), 512);
        node.instance_start(&inst("b", 384, vec![]), false).unwrap();
        assert_eq!(free(&node), 128);
        let e = node
            .instance_start(&inst("c", 256, vec![]), false)
            .unwrap_err();
        assert!(
            matches!(
                e,
                NodeError::NotEnoughMemory {
                    needed: 256,
                    available: 128,
                    ..
                }
            ),
            "{e}"
        );
        assert!(node.instance_info("c", "fake").unwrap().is_none());
        node.instance_shutdown(&inst("a", 512, vec![]), 1).unwrap();
        assert_eq!(free(&node), 640);
        node.instance_start(&inst("c", 256, vec![]), false).unwrap();
        // free memory never goes below zero, even if the host's shrinks
        f.set_memory(8192, 100);
        assert_eq!(free(&node), 0);
    }

    #[test]
    fn node_info_numbers_are_sane() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        fs::create_dir_all(f.storage_dir()).unwrap();
        let info = node
            .node_info(
                &fake(),
                &[StorageUnit::File {
                    path: f.storage_dir(),
                }],
            )
            .unwrap();
        assert_eq!(info.bootid, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
        let hv = info.hv("fake").unwrap();
        assert_eq!(
            (
                hv.memory_total,
                hv.memory_free,
                hv.memory_dom0,
                hv.cpu_total,
                hv.cpu_nodes,
                hv.cpu_sockets
            ),
            (8192, 4096, 256, 3, 1, 1)
        );
        let st = &info.storage[0];
        assert_eq!(st.storage_type, StorageType::File);
        assert_eq!(st.name, f.storage_dir().to_string_lossy());
        assert!(
            st.storage_size > 0 && st.storage_free <= st.storage_size,
            "{st:?}"
        );

        let e = node.node_info(&["xen-pvm".into()], &[]).unwrap_err();
        assert!(matches!(e, NodeError::UnsupportedHypervisor { .. }));
        let e = node
            .node_info(
                &fake(),
                &[StorageUnit::File {
                    path: f.root.join("nonexistent"),
                }],
            )
            .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Failed to retrieve file system information about path: "));
    }

    #[test]
    fn node_info_on_the_real_host() {
        let dir = tempfile::tempdir().unwrap();
        let node = LocalNode::new(Paths::new(dir.path()));
        if !Path::new("/proc/meminfo").exists() {
            eprintln!("SKIP: no /proc on this host");
            return;
        }
        let info = node
            .node_info(
                &fake(),
                &[StorageUnit::File {
                    path: dir.path().into(),
                }],
            )
            .unwrap();
        let hv = info.hv("fake").unwrap();
        assert!(
            hv.memory_total > 0 && hv.memory_free <= hv.memory_total,
            "{hv:?}"
        );
        assert!(hv.cpu_total >= 1);
        assert!(info.storage[0].storage_size > 0);
        assert!(!info.bootid.is_empty());
    }

    #[test]
    fn file_disk_lifecycle() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let d = f.file_disk("inst1.example.com", 0, 128);
        let path = d.file_path().unwrap().to_path_buf();
        assert!(path.ends_with("srv/ganeti/file-storage/inst1.example.com/uid0.file.disk0"));

        let created = node.blockdev_create(&d).unwrap();
        assert_eq!(created.dev_path, path);
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 128 * MIB);
        assert!(
            meta.blocks() * 512 < MIB,
            "file should be sparse, has {} blocks",
            meta.blocks()
        );
        assert_eq!(meta.permissions().mode() & 0o777, 0o640);
        let dir_mode = fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode & !0o750, 0, "dir mode {dir_mode:o}");

        // existing file is never overwritten
        fs::write(&path, b"precious").unwrap();
        let e = node.blockdev_create(&d).unwrap_err();
        assert!(matches!(e, NodeError::DiskExists { .. }));
        assert_eq!(
            e.to_string(),
            format!("Can't create block device: {}: File exists", path.display())
        );
        assert_eq!(fs::read(&path).unwrap(), b"precious");
        fs::remove_file(&path).unwrap();
        node.blockdev_create(&d).unwrap();

        assert_eq!(node.blockdev_assemble(&d).unwrap().dev_path, path);
        let st = node.blockdev_find(&d).unwrap().unwrap();
        assert_eq!((st.size_mib, st.major, st.is_degraded), (128, None, false));

        node.blockdev_grow(&d, 64, true).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            128 * MIB,
            "dry run must not grow"
        );
        node.blockdev_grow(&d, 64, false).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 192 * MIB);
        node.blockdev_grow(&d, 0, false).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 192 * MIB);

        node.blockdev_shutdown(&d).unwrap();
        node.blockdev_remove(&d).unwrap();
        assert!(!path.exists());
        // removing again is fine, as in Ganeti
        node.blockdev_remove(&d).unwrap();
        assert!(node.blockdev_find(&d).unwrap().is_none());
        let e = node.blockdev_assemble(&d).unwrap_err();
        assert_eq!(e.to_string(), format!("{}: No such file", path.display()));
        let e = node.blockdev_grow(&d, 1, false).unwrap_err();
        assert!(matches!(e, NodeError::DiskMissing { .. }));
        assert!(!path.exists(), "grow must not create the file");
    }

    #[test]
    fn grow_refuses_overflow_and_create_refuses_absurd_sizes() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let d = f.file_disk("i", 0, 1);
        node.blockdev_create(&d).unwrap();
        let e = node.blockdev_grow(&d, u64::MAX, false).unwrap_err();
        assert!(matches!(e, NodeError::SizeOverflow { .. }), "{e}");
        assert_eq!(fs::metadata(d.file_path().unwrap()).unwrap().len(), MIB);
        let big = f.file_disk("i", 1, u64::MAX / 2);
        assert!(matches!(
            node.blockdev_create(&big),
            Err(NodeError::SizeOverflow { .. })
        ));
        assert!(!big.file_path().unwrap().exists());
    }

    #[test]
    fn disk_paths_outside_storage_are_refused() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let victim = f.root.join("victim");
        fs::create_dir_all(&f.root).unwrap();
        fs::write(&victim, b"keep").unwrap();
        let base = f.storage_dir();
        for p in [
            base.join("inst/../../../../victim"),
            victim.clone(),
            PathBuf::from("relative/disk0"),
            base.clone(),
        ] {
            let d = disk_at(&p, 1);
            for r in [
                node.blockdev_create(&d).map(|_| ()),
                node.blockdev_remove(&d),
                node.blockdev_grow(&d, 1, false),
                node.blockdev_assemble(&d).map(|_| ()),
                node.blockdev_shutdown(&d),
            ] {
                let e = r.unwrap_err();
                assert!(
                    matches!(e, NodeError::PathRefused { .. }),
                    "{}: {e}",
                    p.display()
                );
                assert!(e.to_string().contains(&*p.to_string_lossy()), "{e}");
            }
        }
        // a symlinked instance dir leading outside
        fs::create_dir_all(&base).unwrap();
        std::os::unix::fs::symlink(&f.root, base.join("evil")).unwrap();
        let d = disk_at(&base.join("evil/victim"), 1);
        assert!(matches!(
            node.blockdev_remove(&d),
            Err(NodeError::PathRefused { .. })
        ));
        assert!(matches!(
            node.blockdev_grow(&d, 1, false),
            Err(NodeError::PathRefused { .. })
        ));
        assert_eq!(fs::read(&victim).unwrap(), b"keep");
    }

    #[test]
    fn explicit_allowed_dirs() {
        let f = Fixture::new(8192, 4096);
        let custom = f.root.join("data/disks");
        let node = LocalNode::with_options(
            Paths::new(&f.root),
            LocalNodeOptions {
                host: Some(HostProbe::with_proc_dir(&f.proc_dir)),
                file_storage_dirs: Some(vec![custom.clone()]),
                ..Default::default()
            },
        );
        node.blockdev_create(&disk_at(&custom.join("i/d0"), 1))
            .unwrap();
        let e = node.blockdev_create(&f.file_disk("i", 0, 1)).unwrap_err();
        assert!(matches!(e, NodeError::PathRefused { .. }));
    }

    #[test]
    fn start_needs_its_disks_and_diskless_has_none() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let d = f.file_disk("inst1", 0, 4);
        let i1 = inst("inst1", 128, vec![d.clone()]);
        let e = node.instance_start(&i1, false).unwrap_err();
        assert!(matches!(e, NodeError::BlockDeviceNotSetUp { .. }));
        assert!(e.to_string().contains("uid0.file.disk0"), "{e}");
        assert!(node.instance_info("inst1", "fake").unwrap().is_none());
        node.blockdev_create(&d).unwrap();
        node.instance_start(&i1, true).unwrap();

        let mut dl = d.clone();
        dl.template = DiskTemplate::Diskless;
        assert!(matches!(
            node.blockdev_create(&dl),
            Err(NodeError::Diskless { .. })
        ));
        let mut drbd = d;
        drbd.template = DiskTemplate::Drbd;
        assert!(matches!(
            node.blockdev_create(&drbd),
            Err(NodeError::UnsupportedTemplate { .. })
        ));
        // a diskless instance starts without disks
        node.instance_start(&inst("inst2", 128, vec![]), false)
            .unwrap();
    }

    #[test]
    fn unknown_hypervisor_and_console() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let mut i = inst("x", 128, vec![]);
        match node
            .instance_console(
                &i,
                &ConsoleHost {
                    node_name: "n".into(),
                    ssh_port: None,
                },
            )
            .unwrap()
        {
            ConsoleInfo::Message { instance, message } => {
                assert_eq!(instance, "x");
                assert_eq!(message, "Console not available for fake hypervisor");
            }
            other => panic!("unexpected console {other:?}"),
        }
        i.hypervisor = "xen-pvm".into();
        assert!(matches!(
            node.instance_start(&i, false),
            Err(NodeError::UnsupportedHypervisor { .. })
        ));
        i.hypervisor = "bogus".into();
        assert!(matches!(
            node.instance_shutdown(&i, 1),
            Err(NodeError::UnknownHypervisor { .. })
        ));
    }

    #[test]
    fn file_storage_dirs() {
        let f = Fixture::new(8192, 4096);
        let node = f.node();
        let base = f.storage_dir();
        let a = base.join("inst1.example.com");
        let b = base.join("inst2.example.com");

        node.file_storage_dir_create(&a).unwrap();
        assert!(a.is_dir());
        node.file_storage_dir_create(&a).unwrap(); // existing is fine
        let mode = fs::metadata(&a).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o750, 0, "{mode:o}");

        let d = disk_at(&a.join("u.file.disk0"), 1);
        node.blockdev_create(&d).unwrap();
        node.file_storage_dir_rename(&a, &b).unwrap();
        assert!(!a.exists() && b.join("u.file.disk0").is_file());
        // done already: fine; both there: refused
        node.file_storage_dir_rename(&a, &b).unwrap();
        node.file_storage_dir_create(&a).unwrap();
        let e = node.file_storage_dir_rename(&a, &b).unwrap_err();
        assert!(matches!(e, NodeError::RenameBothExist { .. }), "{e}");
        node.file_storage_dir_remove(&a).unwrap();
        let e = node
            .file_storage_dir_rename(&a, &base.join("c"))
            .unwrap_err();
        assert!(matches!(e, NodeError::NotADirectory { .. }), "{e}");

        // only empty directories are removed
        let e = node.file_storage_dir_remove(&b).unwrap_err();
        assert!(matches!(e, NodeError::DirIo { op: "remove", .. }), "{e}");
        assert!(e.to_string().starts_with(&format!(
            "Cannot remove file storage directory '{}': ",
            b.display()
        )));
        fs::remove_file(b.join("u.file.disk0")).unwrap();
        node.file_storage_dir_remove(&b).unwrap();
        assert!(!b.exists());
        node.file_storage_dir_remove(&b).unwrap(); // missing is fine

        // a file where a directory is expected
        fs::write(base.join("plainfile"), b"").unwrap();
        let e = node
            .file_storage_dir_create(&base.join("plainfile"))
            .unwrap_err();
        assert!(matches!(e, NodeError::NotADirectory { .. }));

        // outside the storage dirs
        for bad in [
            f.root.join("elsewhere"),
            base.join("../escape"),
            PathBuf::from("rel"),
        ] {
            assert!(matches!(
                node.file_storage_dir_create(&bad),
                Err(NodeError::PathRefused { .. })
            ));
            assert!(matches!(
                node.file_storage_dir_remove(&bad),
                Err(NodeError::PathRefused { .. })
            ));
            assert!(matches!(
                node.file_storage_dir_rename(&b, &bad),
                Err(NodeError::PathRefused { .. })
            ));
        }
        assert!(!f.root.join("elsewhere").exists());
    }

    #[test]
    fn local_node_is_usable_as_a_shared_trait_object() {
        let f = Fixture::new(8192, 4096);
        let node: std::sync::Arc<dyn NodeApi> = std::sync::Arc::new(f.node());
        std::thread::scope(|s| {
            for i in 0..4 {
                let node = node.clone();
                s.spawn(move || {
                    node.instance_start(&inst(&format!("i{i}"), 128, vec![]), false)
                        .unwrap()
                });
            }
        });
        assert_eq!(node.instances_info("fake").unwrap().len(), 4);
    }
}
