//! The one error type of the node layer.
//!
//! Every failure a node operation can have is a variant with the context
//! needed to act on it (instance, path, the underlying I/O error), so the
//! master can match on what happened (e.g. treat [`NodeError::AlreadyRunning`]
//! as "nothing to do", as Ganeti's backend does) instead of parsing text.
//! The `Display` text is what an operator sees, worded like Ganeti's noded
//! messages; the I/O error is part of that text (users see `to_string()`),
//! and is also kept as the `source` for programmatic inspection.

use std::io;
use std::path::{Path, PathBuf};

/// Why a path was refused for file storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathRefusal {
    /// The path is relative.
    NotAbsolute,
    /// The path has a `..` component.
    ParentComponent,
    /// The path is below a system directory (`/etc`, `/bin`, ...).
    ForbiddenPrefix,
    /// The path is not below any allowed file storage directory.
    NotAllowed,
    /// The path is lexically fine but a symlink makes it resolve elsewhere.
    ResolvesOutside { resolved: PathBuf },
    /// The allowed-paths file exists but lists no usable directory.
    NoAllowedPaths { file: PathBuf },
}

impl PathRefusal {
    fn message(&self, path: &Path) -> String {
        let p = path.display();
        match self {
            PathRefusal::NotAbsolute => {
                format!("File storage path must be absolute, got '{p}'")
            }
            PathRefusal::ParentComponent => {
                format!("Path '{p}' is not acceptable for file storage: it contains '..'")
            }
            PathRefusal::ForbiddenPrefix => format!("Path '{p}' uses a forbidden prefix"),
            PathRefusal::NotAllowed => format!("Path '{p}' is not acceptable for file storage"),
            PathRefusal::ResolvesOutside { resolved } => format!(
                "Path '{p}' is not acceptable for file storage: it resolves to '{}'",
                resolved.display()
            ),
            PathRefusal::NoAllowedPaths { file } => format!(
                "No paths are valid or path file '{}' was not accessible.",
                file.display()
            ),
        }
    }
}

/// Errors of node operations.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    // ---- hypervisors -------------------------------------------------
    /// The hypervisor name is not one Ganeti knows.
    #[error("Unknown hypervisor type '{name}'")]
    UnknownHypervisor { name: String },
    /// Ganeti knows the hypervisor, this release does not implement it.
    #[error("Hypervisor '{name}' is not supported by this release")]
    UnsupportedHypervisor { name: String },
    /// Start of an instance the hypervisor already runs.
    #[error("Hypervisor error: Failed to start instance {instance}: already running")]
    AlreadyRunning { instance: String },
    /// Stop of an instance the hypervisor does not run.
    #[error("Failed to stop instance {instance}: not running")]
    NotRunning { instance: String },
    /// The hypervisor cannot change devices of a running instance.
    #[error("Hotplug is not supported for instance {instance} by the {hypervisor} hypervisor")]
    HotplugUnsupported {
        instance: String,
        hypervisor: &'static str,
    },
    /// Reboot of an instance the hypervisor does not run.
    #[error("Cannot reboot instance '{instance}' that is not running")]
    RebootNotRunning { instance: String },
    /// The node cannot give the instance its minimum memory.
    #[error(
        "Not enough memory to start instance {instance}: needed {needed} MiB, available {available} MiB"
    )]
    NotEnoughMemory {
        instance: String,
        needed: u64,
        available: u64,
    },
    /// Neither a clean shutdown nor a forced stop got rid of the instance.
    #[error("Could not shutdown instance '{instance}' even by destroy")]
    ShutdownFailed { instance: String },
    /// Reading or writing the hypervisor's runtime state failed.
    #[error("Hypervisor error: Failed to {action} instance {instance}: {}: {source}", path.display())]
    HvStateIo {
        action: &'static str,
        instance: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A hooks path that could leave the hooks directory.
    #[error("Invalid hooks path '{hpath}'")]
    InvalidHookPath { hpath: String },
    /// The hooks directory exists but cannot be listed.
    #[error("Cannot list hooks directory {}: {source}", path.display())]
    HookDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A runtime state file does not have the expected content.
    #[error("Hypervisor error: invalid state file {}: {reason}", path.display())]
    HvStateCorrupt { path: PathBuf, reason: String },
    /// An instance name that cannot be used as a runtime state key.
    #[error("Invalid instance name '{name}': {reason}")]
    InvalidInstanceName { name: String, reason: &'static str },
    /// A parameter the hypervisor needs is missing or malformed.
    #[error("Invalid parameter '{param}' of instance {instance}: {reason}")]
    InvalidParameter {
        instance: String,
        param: String,
        reason: String,
    },

    // ---- block devices -----------------------------------------------
    /// A disk of an instance to start does not exist on the node; `disk`
    /// is its path for file disks, its `iv_name` otherwise.
    #[error("Block device error: Block device '{disk}' of instance {instance} is not set up")]
    BlockDeviceNotSetUp { instance: String, disk: String },
    /// The disk's `logical_id` does not have the template's shape.
    #[error("Invalid logical_id {logical_id} of disk {disk}: {reason}")]
    BadLogicalId {
        disk: String,
        logical_id: String,
        reason: &'static str,
    },
    /// The disk's `dev_type` is not a disk template.
    #[error("Unknown disk type '{dev_type}' of disk {disk}")]
    UnknownDiskType { disk: String, dev_type: String },
    /// Ganeti knows the template, this release does not implement it.
    #[error("Disk template '{template}' is not supported by this release")]
    UnsupportedTemplate { template: &'static str },
    /// A block device operation on a disk of the diskless template.
    #[error("Disk {disk} has template 'diskless', which has no block devices")]
    Diskless { disk: String },
    /// Creation refused: the backing file is already there.
    #[error("Can't create block device: {}: File exists", path.display())]
    DiskExists { path: PathBuf },
    /// The backing file of a disk is missing.
    #[error("{}: No such file", path.display())]
    DiskMissing { path: PathBuf },
    /// An I/O operation on a disk's backing store failed.
    #[error("{}: can't {op}: {source}", path.display())]
    DiskIo {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A size (at creation or after growing) beyond what a file can have.
    #[error("{}: size of {size_mib} MiB is too large", path.display())]
    SizeOverflow { path: PathBuf, size_mib: u128 },

    // ---- file storage directories --------------------------------------
    /// A path outside the allowed file storage directories.
    #[error("{}", reason.message(path))]
    PathRefused { path: PathBuf, reason: PathRefusal },
    /// A file storage directory path names something that is not a directory.
    #[error("Specified storage dir '{}' is not a directory", path.display())]
    NotADirectory { path: PathBuf },
    /// Creating or removing a file storage directory failed.
    #[error("Cannot {op} file storage directory '{}': {source}", path.display())]
    DirIo {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Renaming a file storage directory failed.
    #[error("Cannot rename '{}' to '{}': {source}", old.display(), new.display())]
    RenameIo {
        old: PathBuf,
        new: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Rename refused: both the old and the new directory exist.
    #[error("Cannot rename '{}' to '{}': both locations exist", old.display(), new.display())]
    RenameBothExist { old: PathBuf, new: PathBuf },

    // ---- node information ----------------------------------------------
    /// A host information file (`/proc/meminfo`, ...) cannot be read.
    #[error("Failed to list node info: {}: {source}", path.display())]
    HostInfoIo {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A host information file has unexpected content.
    #[error("Failed to compute node info from {}: {reason}", path.display())]
    HostInfoParse { path: PathBuf, reason: String },
    /// `statvfs` of a storage directory failed.
    #[error("Failed to retrieve file system information about path: {} - {source}", path.display())]
    StorageInfo {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A storage type this release cannot report on.
    #[error("Storage type '{storage_type}' is not supported by this release")]
    UnsupportedStorage { storage_type: &'static str },

    // ---- networking ----------------------------------------------------
    /// `/dev/net/tun` cannot be opened or refused to create the tap.
    #[error("Cannot create tap device{}: {source}", name.as_deref().map(|n| format!(" '{n}'")).unwrap_or_default())]
    TapCreate {
        name: Option<String>,
        #[source]
        source: io::Error,
    },
    /// An interface name the kernel would refuse.
    #[error("Invalid network interface name '{name}': {reason}")]
    InvalidIfName { name: String, reason: &'static str },
    /// The bridge of a bridged NIC does not exist on this node.
    #[error("Bridge '{bridge}' of instance {instance} does not exist on this node (interface {ifname} not connected)")]
    BridgeMissing {
        bridge: String,
        instance: String,
        ifname: String,
    },
    /// The link of a bridged NIC exists but is not a bridge.
    #[error(
        "Link '{link}' of instance {instance} is not a bridge (interface {ifname} not connected)"
    )]
    NotABridge {
        link: String,
        instance: String,
        ifname: String,
    },
    /// A NIC mode this node cannot set up (`openvswitch`, unknown modes).
    #[error("NIC mode '{mode}' of instance {instance} is not supported on this node: {reason}")]
    NicModeUnsupported {
        mode: String,
        instance: String,
        reason: &'static str,
    },
    /// A routed NIC needs an IP address to route to.
    #[error("Routed NIC {ifname} of instance {instance} has no IP address specified")]
    RoutedWithoutIp { instance: String, ifname: String },
    /// The NIC's `vlan` parameter cannot be parsed.
    #[error("Invalid VLAN '{vlan}' of instance {instance}: {reason}")]
    BadVlan {
        vlan: String,
        instance: String,
        reason: &'static str,
    },
    /// VLANs on a bridge need the bridge's VLAN filtering (Ganeti's check).
    #[error("Instance {instance} NIC {ifname} configured for VLAN support, but bridge {bridge} has VLAN filtering disabled")]
    VlanFilteringDisabled {
        instance: String,
        ifname: String,
        bridge: String,
    },
    /// A classic VLAN interface already uses the VLAN id (Ganeti's check).
    #[error("VLAN {vid} of instance {instance} is in use by lower interface {device}")]
    VlanInUse {
        vid: u16,
        instance: String,
        device: String,
    },
    /// A network configuration command could not be started.
    #[error("Failed to configure interface {ifname}: cannot run '{program}': {source}")]
    NetCommandSpawn {
        ifname: String,
        program: String,
        #[source]
        source: io::Error,
    },
    /// A network configuration command failed; `stderr` is its own message.
    #[error("Failed to configure interface {ifname}: '{command}' failed ({status}): {stderr}")]
    NetCommand {
        ifname: String,
        command: String,
        status: String,
        stderr: String,
    },
    /// The output of a query command (`ip -j ...`) was not what it should be.
    #[error("Failed to configure interface {ifname}: cannot understand the output of '{command}': {reason}")]
    NetOutput {
        ifname: String,
        command: String,
        reason: String,
    },
    /// Writing an interface's `/proc/sys/net` setting failed.
    #[error("Failed to configure interface {ifname}: {}: {source}", path.display())]
    NetSysctl {
        ifname: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The operator's network script failed (Ganeti's wording).
    #[error("Failed to configure interface {ifname}: {} {reason}; network configuration script output: {output}", script.display())]
    NetScript {
        ifname: String,
        script: PathBuf,
        reason: String,
        output: String,
    },

    // ---- kvm -------------------------------------------------------------
    /// The instance's kvm hypervisor parameters cannot be used.
    #[error("Hypervisor error: invalid kvm parameters of instance {instance}: {source}")]
    KvmParams {
        instance: String,
        #[source]
        source: ganeti_types::GanetiError,
    },
    /// QEMU could not be started as asked; `reason` carries QEMU's own
    /// message when it printed one.
    #[error("Hypervisor error: Failed to start instance {instance}: {reason}")]
    KvmStart { instance: String, reason: String },
    /// A monitor (QMP) conversation with a running instance failed.
    #[error("Hypervisor error: Failed to {action} instance {instance}: {source}")]
    KvmMonitor {
        action: &'static str,
        instance: String,
        #[source]
        source: ganeti_qmp::QmpError,
    },
    /// An operation on a running instance (signal, pinning, hotplug) failed
    /// or cannot be done as asked.
    #[error("Hypervisor error: Failed to {action} instance {instance}: {reason}")]
    KvmOp {
        action: &'static str,
        instance: String,
        reason: String,
    },
    /// Cleanup asked for an instance whose QEMU still runs.
    #[error("Hypervisor error: Cannot cleanup a live instance {instance}")]
    KvmStillRunning { instance: String },

    // ---- storage templates ---------------------------------------------
    /// The template cannot rename its devices.
    #[error("Rename is not supported for disk template '{template}'")]
    RenameUnsupported { template: &'static str },
    /// An LVM tool could not be started.
    #[error("Can't run {tool}: {source}")]
    LvmToolSpawn {
        tool: String,
        #[source]
        source: io::Error,
    },
    /// An LVM tool did not finish in time and was killed.
    #[error("{tool} did not finish within {secs} seconds and was killed")]
    LvmToolTimeout { tool: String, secs: u64 },
    /// An LVM report (`vgs`, `pvs`, `lvs`) failed.
    #[error("Can't get the volume information: {reason} - {output}")]
    LvmQuery {
        tool: String,
        reason: String,
        output: String,
    },
    /// An LVM report line we do not understand.
    #[error("Can't parse {tool} output: line '{line}'")]
    LvmParse { tool: String, line: String },
    /// A VG or LV name LVM (or Ganeti) does not allow.
    #[error("Invalid LVM name '{name}'")]
    InvalidLvmName { name: String },
    /// The volume group does not exist (or is read-only).
    #[error("Volume group \"{vg}\" not found")]
    VgNotFound { vg: String },
    /// No allocatable physical volume in the volume group.
    #[error("Can't compute PV info for vg {vg}")]
    NoPvInfo { vg: String },
    /// A PV name with ':' (LVM would read it as an extent range).
    #[error("Some of your PVs have the invalid character ':' in their name, this is not supported - please filter them out in lvm.conf using either 'filter' or 'preferred_names'")]
    PvNameColon,
    /// Not enough free space in the volume group for a new LV.
    #[error("Not enough free space: required {required}, available {available}")]
    NotEnoughVgSpace {
        vg: String,
        required: u64,
        available: u64,
    },
    /// `lvcreate` failed (anything it left behind was removed).
    #[error("LV create failed ({reason}): {output}")]
    LvCreate { reason: String, output: String },
    /// `lvremove` failed.
    #[error("Can't lvremove: {reason} - {output}")]
    LvRemove { reason: String, output: String },
    /// `lvextend` failed with every allocation policy.
    #[error("Can't grow LV {}: {output}", path.display())]
    LvGrow { path: PathBuf, output: String },
    /// `lvchange -ay` failed.
    #[error("Can't activate lv {}: {output}", path.display())]
    LvActivate { path: PathBuf, output: String },
    /// `lvrename` failed.
    #[error("Failed to rename the logical volume: {output}")]
    LvRename { output: String },
    /// A rename would move an LV to another volume group.
    #[error("Can't move a logical volume across volume groups (from {from} to {to})")]
    LvRenameAcrossVgs { from: String, to: String },
    /// The LV of a disk does not exist.
    #[error("Can't attach to LV {}: it does not exist", path.display())]
    LvMissing { path: PathBuf },
    /// A block device path that does not resolve below `/dev/`.
    #[error("Full path '{}' lies outside /dev", resolved.display())]
    BlockDevOutsideDev { resolved: PathBuf },
    /// Something that is not a block device where one is expected.
    #[error("{} is not a block device", path.display())]
    NotABlockDevice { path: PathBuf },
    /// No device at the path of an adopted disk.
    #[error("Can't find device {}", path.display())]
    BlockDevNotFound { path: PathBuf },
    /// `stat` of a device path failed.
    #[error("Error stat()'ing {}: {source}", path.display())]
    BlockDevStat {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The size of a block device cannot be read.
    #[error("Can't get the size of block device: {}: {source}", path.display())]
    BlockDevSize {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Adopted block devices cannot grow (Ganeti's wording).
    #[error("Grow is not supported for PersistentBlockDev storage")]
    BlockDevGrowUnsupported,
    /// A storage listing tool failed (Ganeti's `StorageError`).
    #[error("Failed to run '{tool}', command output: {output}")]
    StorageList { tool: String, output: String },
    /// A file storage listing without a directory to list.
    #[error("No directory given to list for storage type '{storage_type}'")]
    StorageListNoDir { storage_type: &'static str },
    /// Summing up the files of a storage directory failed.
    #[error("Can't compute the size of directory '{}': {source}", path.display())]
    DirSize {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    // ---- OS providers --------------------------------------------------
    /// The OS is missing or invalid on this node (Ganeti's `OSFromDisk`
    /// failure: the diagnosis message as it is).
    #[error("{0}")]
    OsInvalid(#[from] crate::os::InvalidOs),
    /// A trusted script is needed but the OS only installs inside a
    /// helper VM.
    #[error("OS '{os}' has no create script, only create_untrusted (it can only be installed in a helper VM)")]
    OsNoCreateScript { os: String },
    /// The log file of an OS script cannot be created or written.
    #[error("Can't write the OS script log file {}: {source}", path.display())]
    OsLog {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An OS script could not be started.
    #[error("Can't run the OS {script} script {}: {source}", path.display())]
    OsScriptSpawn {
        script: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// An OS create/rename script failed (Ganeti's wording); `tail` is the
    /// end of its log, with secret values masked.
    #[error("OS {script} script failed ({reason}), last lines in the log file:\n{tail}")]
    OsScriptFailed {
        script: &'static str,
        reason: String,
        tail: String,
        log: PathBuf,
    },
    /// The OS verify script refused the parameters (Ganeti's wording).
    #[error("OS validation script failed ({reason}), output: {output}")]
    OsValidationFailed { reason: String, output: String },
    /// OS parameters not listed in the OS's `parameters.list`.
    #[error("The following parameters are not supported by the OS {os}: {params}")]
    OsParamsUnsupported { os: String, params: String },
    /// The variant in an OS name does not fit the OS (Ganeti's
    /// `_CheckOSVariant` messages).
    #[error("{message}")]
    OsVariant { message: String },

    // ---- export / import -----------------------------------------------
    /// A compression name that is not one of Ganeti's tools.
    #[error(
        "Unknown compression '{name}' (expected one of none, gzip, gzip-fast, gzip-slow, lzop)"
    )]
    UnknownCompression { name: String },
    /// The compression tool is not installed on this node.
    #[error(
        "Compression '{compress}' needs the '{tool}' program, which is not installed on this node"
    )]
    CompressionToolMissing {
        compress: String,
        tool: &'static str,
    },
    /// The compression tool of a transfer failed.
    #[error("'{command}' failed ({reason}), last lines in the log file:\n{tail}")]
    CompressionFailed {
        command: String,
        reason: String,
        tail: String,
        log: PathBuf,
    },
    /// A disk index beyond the instance's disks.
    #[error("Instance {instance} has no disk/{index} (it has {count} disks)")]
    NoSuchDiskIndex {
        instance: String,
        index: usize,
        count: usize,
    },
    /// A transfer file outside the export directory (Ganeti's check).
    #[error("File '{}' is not under exports directory '{}'", path.display(), export_dir.display())]
    NotInExportDir { path: PathBuf, export_dir: PathBuf },
    /// A file or directory of an export could not be read or written.
    #[error("Export error: can't {op} '{}': {source}", path.display())]
    ExportIo {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The node has no export directory (Ganeti's `ListExports`).
    #[error("No exports directory")]
    NoExportDir,
    /// An export name that is not a plain directory name.
    #[error("Invalid export name '{name}': {reason}")]
    InvalidExportName { name: String, reason: &'static str },
    /// `config.ini` lacks the `[export]` or `[instance]` section.
    #[error("Export info file doesn't have the required fields")]
    ExportInfoIncomplete { path: PathBuf },
    /// The export to remove does not exist.
    #[error("Error while removing the export: '{}' does not exist", path.display())]
    ExportMissing { path: PathBuf },
    /// Ganeti's refusal to snapshot a disk of a template without
    /// snapshots.
    #[error("Cannot snapshot block device '{logical_id}' of type '{template}'")]
    SnapshotUnsupported {
        logical_id: String,
        template: &'static str,
    },
    /// The disk to snapshot is not on this node.
    #[error("Cannot find block device {disk}")]
    SnapshotNoDevice { disk: String },
    /// A snapshot name or path that does not belong to the disk.
    #[error("Invalid snapshot '{name}' of disk {disk}: {reason}")]
    InvalidSnapshot {
        disk: String,
        name: String,
        reason: &'static str,
    },
}

impl NodeError {
    /// Shorthand for a refused file storage path.
    pub(crate) fn refused(path: &Path, reason: PathRefusal) -> Self {
        NodeError::PathRefused {
            path: path.to_path_buf(),
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_context() {
        let e = NodeError::AlreadyRunning {
            instance: "inst1.example.com".into(),
        };
        assert_eq!(
            e.to_string(),
            "Hypervisor error: Failed to start instance inst1.example.com: already running"
        );
        let e = NodeError::refused(Path::new("srv/x"), PathRefusal::NotAbsolute);
        assert_eq!(
            e.to_string(),
            "File storage path must be absolute, got 'srv/x'"
        );
        let e = NodeError::DiskIo {
            op: "grow",
            path: "/srv/d".into(),
            source: io::Error::from_raw_os_error(28),
        };
        let text = e.to_string();
        assert!(text.starts_with("/srv/d: can't grow: "), "{text}");
        assert!(std::error::Error::source(&e).is_some());
    }
}
