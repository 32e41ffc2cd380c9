//! The node side of ganeti-rs: what Ganeti's `noded` does on each node.
//!
//! Everything the master asks of a node goes through one narrow, typed,
//! synchronous trait, [`NodeApi`]. Today the master calls [`LocalNode`]
//! in-process from its worker threads; a later release puts the same trait
//! behind the mutual-TLS node RPC (a client implementing `NodeApi` on the
//! master, a server calling `LocalNode` on the node), so nothing above this
//! trait changes. All arguments and results are serde types for that reason.
//!
//! Below the trait, side effects sit behind two more narrow traits:
//! [`hypervisor::Hypervisor`] (fake now, kvm next) and [`storage::Storage`]
//! (one driver per disk template: file now, plain/blockdev later).
//! `LocalNode` holds the policy common to all of them, as Ganeti's
//! `backend.py` does: check state first, gather the disks before a start,
//! clean shutdown with a timeout before a forced one.

pub mod error;
pub mod export;
mod fsutil;
pub mod hooks;
pub mod host;
pub mod hypervisor;
pub mod info;
mod local;
pub mod net;
pub mod os;
pub mod spec;
pub mod storage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ganeti_types::Dict;

pub use error::{NodeError, PathRefusal};
pub use host::HostProbe;
pub use info::{
    BlockDevProbe, BlockDevProbeState, LvInfo, StorageEntry, StorageField, StorageListRequest,
};
pub use info::{
    BlockDevStatus, ConsoleHost, ConsoleInfo, HvInstanceState, HvNodeInfo, InstanceRuntime,
    NodeInfo, StorageInfo, StorageType, StorageUnit,
};
pub use local::{LocalNode, LocalNodeOptions};
pub use os::{InvalidOs, NetworkInfo, OsDefinition, OsDiagnosis, OsInstanceInfo, OsRunSpec};
pub use spec::{
    AttachedDisk, DiskMode, DiskPath, DiskSpec, HotplugAction, InstanceSpec, NicSpec, RebootType,
};
pub use storage::FileStoragePolicy;

/// What the master can ask of a node.
///
/// Hypervisor-level conflicts are typed errors, not silently ignored:
/// starting a running instance gives [`NodeError::AlreadyRunning`],
/// stopping a stopped one [`NodeError::NotRunning`]. The master decides
/// whether that is a failure for the user (Ganeti's `gnt-instance startup`
/// of a running instance succeeds).
pub trait NodeApi: Send + Sync + std::fmt::Debug {
    /// Boot id, resources as each named hypervisor sees them, and space of
    /// each storage unit (results in request order).
    fn node_info(
        &self,
        hypervisors: &[String],
        storage: &[StorageUnit],
    ) -> Result<NodeInfo, NodeError>;

    /// Every instance the hypervisor runs, by name.
    fn instances_info(
        &self,
        hypervisor: &str,
    ) -> Result<BTreeMap<String, InstanceRuntime>, NodeError>;

    /// One instance's runtime facts, `None` if it does not run.
    fn instance_info(
        &self,
        name: &str,
        hypervisor: &str,
    ) -> Result<Option<InstanceRuntime>, NodeError>;

    /// Start an instance; its disks must exist (be assembled) on this node.
    fn instance_start(&self, inst: &InstanceSpec, startup_paused: bool) -> Result<(), NodeError>;

    /// Shut an instance down cleanly, destroying it after `timeout_secs`.
    fn instance_shutdown(&self, inst: &InstanceSpec, timeout_secs: u64) -> Result<(), NodeError>;

    /// Reboot an instance. `soft` and `hard` need it running; `full` stops
    /// it if it runs, deactivates and reactivates its disks and starts it.
    fn instance_reboot(
        &self,
        inst: &InstanceSpec,
        reboot_type: RebootType,
        shutdown_timeout_secs: u64,
    ) -> Result<(), NodeError>;

    /// How to reach the instance's console from its primary node `host`.
    fn instance_console(
        &self,
        inst: &InstanceSpec,
        host: &ConsoleHost,
    ) -> Result<ConsoleInfo, NodeError>;

    /// Change the devices of a running instance without restarting it.
    /// Fails with [`NodeError::NotRunning`] if it does not run and with
    /// [`NodeError::HotplugUnsupported`] if its hypervisor cannot.
    fn instance_hotplug(
        &self,
        inst: &InstanceSpec,
        action: &HotplugAction,
    ) -> Result<(), NodeError>;

    /// Create a disk at its size; refuses to overwrite an existing one.
    fn blockdev_create(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError>;

    /// Remove a disk; one that is already gone is not an error.
    fn blockdev_remove(&self, disk: &DiskSpec) -> Result<(), NodeError>;

    /// Grow a disk by `amount_mib` (with `dryrun`, only check that it can).
    fn blockdev_grow(
        &self,
        disk: &DiskSpec,
        amount_mib: u64,
        dryrun: bool,
    ) -> Result<(), NodeError>;

    /// Activate a disk and return its local path.
    fn blockdev_assemble(&self, disk: &DiskSpec) -> Result<DiskPath, NodeError>;

    /// Deactivate a disk.
    fn blockdev_shutdown(&self, disk: &DiskSpec) -> Result<(), NodeError>;

    /// A disk's status on this node, `None` if it is not there.
    fn blockdev_find(&self, disk: &DiskSpec) -> Result<Option<BlockDevStatus>, NodeError>;

    /// Create a file storage directory (an existing one is fine).
    fn file_storage_dir_create(&self, dir: &Path) -> Result<(), NodeError>;

    /// Remove an empty file storage directory (a missing one is fine).
    fn file_storage_dir_remove(&self, dir: &Path) -> Result<(), NodeError>;

    /// Rename a file storage directory.
    fn file_storage_dir_rename(&self, old: &Path, new: &Path) -> Result<(), NodeError>;

    /// Every entry of the node's OS search path, checked as an OS provider
    /// (invalid ones with the reason), in search-path order (Ganeti's
    /// `os_diagnose` RPC).
    fn os_diagnose(&self) -> Result<Vec<OsDiagnosis>, NodeError>;

    /// Ganeti's `storage_list`: the entities of a storage type (file
    /// directories, LVM volume groups or physical volumes) with the fields
    /// asked for.
    fn storage_list(&self, req: &StorageListRequest) -> Result<Vec<StorageEntry>, NodeError>;

    /// Logical volumes of these volume groups (all if empty) by `vg/lv`
    /// (Ganeti's `lv_list`, for adopting LVs).
    fn lv_list(&self, vgs: &[String]) -> Result<BTreeMap<String, LvInfo>, NodeError>;

    /// Rename a disk's device to `new_logical_id` (Ganeti's
    /// `blockdev_rename`; only LVs can be renamed).
    fn blockdev_rename(
        &self,
        disk: &DiskSpec,
        new_logical_id: &serde_json::Value,
    ) -> Result<(), NodeError>;

    /// What the node finds at device paths offered for `blockdev`
    /// adoption: size and numbers, or why it cannot be adopted.
    fn blockdev_probe(
        &self,
        devices: &[std::path::PathBuf],
    ) -> Result<Vec<BlockDevProbe>, NodeError>;

    /// Ganeti's `instance_os_add`: run the OS create script of `os` onto
    /// the instance's disks, which must be assembled on this node
    /// (`reinstall` sets `INSTANCE_REINSTALL=1`). `os.secret_params` reach
    /// the script's environment only, never a log or an error.
    fn os_create(
        &self,
        inst: &InstanceSpec,
        os: &OsRunSpec,
        reinstall: bool,
        debug: u32,
    ) -> Result<(), NodeError>;

    /// Ganeti's `instance_run_rename`: run the OS rename script; `inst`
    /// carries the new name, its disks must be assembled on this node.
    fn os_rename(
        &self,
        inst: &InstanceSpec,
        old_name: &str,
        os: &OsRunSpec,
        debug: u32,
    ) -> Result<(), NodeError>;

    /// Ganeti's `os_validate` (required): the OS `os_name` (with
    /// `+variant`) must be valid on this node and, for API 20, accept
    /// `params` merged with `secret_params` (listed in `parameters.list`
    /// when `checks` has `parameters`, then the verify script run with
    /// `checks` as arguments); unless `force_variant` the variant must fit.
    fn os_validate(
        &self,
        os_name: &str,
        params: &Dict,
        secret_params: &Dict,
        checks: &[String],
        force_variant: bool,
    ) -> Result<(), NodeError>;

    /// Run the OS `export` script for disk `disk_index` of `inst` (disks
    /// assembled here); its stdout, compressed with `compress` (`none` or
    /// one of Ganeti's tools: `gzip`, `gzip-fast`, `gzip-slow`, `lzop`),
    /// goes to `dest` (created 0600; removed on failure). Returns the
    /// bytes written to `dest`.
    fn os_export_disk(
        &self,
        inst: &InstanceSpec,
        os: &OsRunSpec,
        disk_index: usize,
        dest: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<u64, NodeError>;

    /// Run the OS `import` script for disk `disk_index` of `inst` (disks
    /// assembled here) with `src`, decompressed per `compress`, on its
    /// stdin.
    fn os_import_disk(
        &self,
        inst: &InstanceSpec,
        os: &OsRunSpec,
        disk_index: usize,
        src: &Path,
        compress: &str,
        debug: u32,
    ) -> Result<(), NodeError>;

    /// The export directory on this node (`<root>/srv/ganeti/export`).
    fn export_dir(&self) -> PathBuf;

    /// Ganeti's `FinalizeExport`: `staging` (a directory under
    /// [`NodeApi::export_dir`] named `<instance>.new` holding the disk
    /// dumps) gets `config_ini` as `config.ini` and replaces
    /// `export_dir/<instance>` (an older export of that name is removed).
    fn export_finalize(
        &self,
        instance_name: &str,
        staging: &Path,
        config_ini: &str,
    ) -> Result<(), NodeError>;

    /// Ganeti's `ListExports`: names of the complete exports in
    /// [`NodeApi::export_dir`], sorted.
    fn export_list(&self) -> Result<Vec<String>, NodeError>;

    /// Ganeti's `ExportInfo`: the `config.ini` text of the export at
    /// `path` (a directory holding `config.ini`).
    fn export_info(&self, path: &Path) -> Result<String, NodeError>;

    /// Ganeti's `RemoveExport`: remove `export_dir/<name>` (an error if it
    /// is missing).
    fn export_remove(&self, name: &str) -> Result<(), NodeError>;

    /// Ganeti's `blockdev_snapshot`: a copy of a disk taken while the
    /// instance keeps running, for export. Returns the snapshot's path;
    /// [`NodeApi::blockdev_snapshot_remove`] removes it.
    fn blockdev_snapshot(&self, disk: &DiskSpec, snap_name: &str) -> Result<PathBuf, NodeError>;

    /// Remove a snapshot made by [`NodeApi::blockdev_snapshot`].
    fn blockdev_snapshot_remove(&self, disk: &DiskSpec, snapshot: &Path) -> Result<(), NodeError>;

    /// Ganeti's `hooks_runner`: run this node's `<hpath>-<phase>.d`
    /// scripts, in order, each with exactly `env` (nothing inherited) and
    /// the node's per-script timeout. A missing directory runs nothing.
    fn hooks_run(
        &self,
        hpath: &str,
        phase: hooks::HookPhase,
        env: &BTreeMap<String, String>,
    ) -> Result<Vec<hooks::HookScriptResult>, NodeError>;
}
