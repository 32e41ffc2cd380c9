//! What a node reports back: node resources, runtime state of instances,
//! block device status, console access.
//!
//! These are the typed forms of the dictionaries Ganeti's noded returns
//! (`memory_free`, `cpu_total`, `storage_free`, ...), with Ganeti's names and
//! units (MiB) so the query layer can map them to `mfree`, `ctotal`, `dfree`
//! without conversions.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A storage unit whose space the master asks about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum StorageUnit {
    /// The file storage directory (`file` template).
    File { path: PathBuf },
    /// The shared file storage directory (`sharedfile` template).
    #[serde(rename = "sharedfile")]
    SharedFile { path: PathBuf },
    /// An LVM volume group (`plain`, `drbd`): size and free space.
    LvmVg { vg: String, exclusive_storage: bool },
    /// The physical volumes of an LVM volume group: spindles, i.e. free
    /// and total PVs with exclusive storage, zero without (as Ganeti).
    LvmPv { vg: String, exclusive_storage: bool },
}

/// Ganeti's storage types (`ST_*`) that a [`StorageUnit`] can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StorageType {
    #[serde(rename = "file")]
    File,
    #[serde(rename = "sharedfile")]
    SharedFile,
    #[serde(rename = "lvm-vg")]
    LvmVg,
    #[serde(rename = "lvm-pv")]
    LvmPv,
}

impl StorageType {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageType::File => "file",
            StorageType::SharedFile => "sharedfile",
            StorageType::LvmVg => "lvm-vg",
            StorageType::LvmPv => "lvm-pv",
        }
    }

    /// Parse the wire string (only the types this release handles).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "file" => Some(StorageType::File),
            "sharedfile" => Some(StorageType::SharedFile),
            "lvm-vg" => Some(StorageType::LvmVg),
            "lvm-pv" => Some(StorageType::LvmPv),
            _ => None,
        }
    }
}

impl StorageUnit {
    /// The unit's storage type.
    pub fn storage_type(&self) -> StorageType {
        match self {
            StorageUnit::File { .. } => StorageType::File,
            StorageUnit::SharedFile { .. } => StorageType::SharedFile,
            StorageUnit::LvmVg { .. } => StorageType::LvmVg,
            StorageUnit::LvmPv { .. } => StorageType::LvmPv,
        }
    }
}

/// Space of one storage unit, MiB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageInfo {
    pub storage_type: StorageType,
    /// The directory or volume group name.
    pub name: String,
    pub storage_size: u64,
    pub storage_free: u64,
}

/// What one hypervisor sees of the node (Ganeti's `GetNodeInfo` keys), MiB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HvNodeInfo {
    pub hypervisor: String,
    pub memory_total: u64,
    /// Memory available for (more) instances.
    pub memory_free: u64,
    /// Memory used by the node OS itself.
    pub memory_dom0: u64,
    pub cpu_total: u32,
    /// CPUs the node OS uses.
    pub cpu_dom0: u32,
    /// NUMA domains.
    pub cpu_nodes: u32,
    /// Physical sockets.
    pub cpu_sockets: u32,
}

/// The answer to `node_info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// `/proc/sys/kernel/random/boot_id`: changes at each node reboot.
    pub bootid: String,
    /// One entry per requested storage unit, in request order.
    pub storage: Vec<StorageInfo>,
    /// One entry per requested hypervisor, in request order.
    pub hypervisors: Vec<HvNodeInfo>,
}

impl NodeInfo {
    /// The entry of one hypervisor.
    pub fn hv(&self, name: &str) -> Option<&HvNodeInfo> {
        self.hypervisors.iter().find(|h| h.hypervisor == name)
    }
}

/// The state of an instance the hypervisor knows about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HvInstanceState {
    /// The VM is running.
    Running,
    /// The VM exists but its OS shut down (user shutdown).
    Shutdown,
}

impl HvInstanceState {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            HvInstanceState::Running => "running",
            HvInstanceState::Shutdown => "shutdown",
        }
    }
}

/// Runtime facts of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceRuntime {
    pub state: HvInstanceState,
    /// Memory the instance currently has, MiB.
    pub memory: u64,
    pub vcpus: u32,
    /// CPU time used, seconds (0 for hypervisors that do not track it).
    pub time: f64,
}

/// How to reach an instance's console: Ganeti's `InstanceConsole`, whose
/// serialized form (`kind` plus the fields of that kind) is what
/// `/2/instances/[name]/console` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConsoleInfo {
    /// No console; the message says why (Ganeti's kind `msg`).
    #[serde(rename = "msg")]
    Message { instance: String, message: String },
    /// A command to run on `host` over ssh (the serial console of kvm).
    Ssh {
        instance: String,
        host: String,
        port: Option<u16>,
        user: String,
        command: Vec<String>,
    },
    /// A VNC server.
    Vnc {
        instance: String,
        host: String,
        port: u32,
        display: u32,
    },
    /// A SPICE server.
    Spice {
        instance: String,
        host: String,
        port: u32,
    },
}

/// Where the console of an instance is reached from: its primary node, as
/// the master knows it (a node does not know its own cluster name or the
/// group's ssh port).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleHost {
    /// The primary node's name.
    pub node_name: String,
    /// The node's `ssh_port` ndparam.
    pub ssh_port: Option<u16>,
}

/// Status of a block device on its node (Ganeti's `BlockDevStatus`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockDevStatus {
    pub dev_path: PathBuf,
    /// Device numbers; `None` for files.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// Actual size, MiB (rounded down).
    pub size_mib: u64,
    /// Resync progress for mirrored devices; `None` when in sync.
    pub sync_percent: Option<f64>,
    pub is_degraded: bool,
}

/// A field of Ganeti's storage listing (`SF_*`) that the node fills in;
/// `node` and `type` are the master's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageField {
    Name,
    Size,
    Used,
    Free,
    Allocatable,
}

impl StorageField {
    /// Parse the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "name" => Some(StorageField::Name),
            "size" => Some(StorageField::Size),
            "used" => Some(StorageField::Used),
            "free" => Some(StorageField::Free),
            "allocatable" => Some(StorageField::Allocatable),
            _ => None,
        }
    }
}

/// What to list (Ganeti's `storage_list` RPC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageListRequest {
    pub storage_type: StorageType,
    /// File types: the cluster's directory, listed when `name` is unset.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Only this entity (a directory, VG or PV name).
    #[serde(default)]
    pub name: Option<String>,
    /// The fields wanted; costly ones (the `used` of a directory) are
    /// computed only when asked for.
    pub fields: Vec<StorageField>,
}

/// One entity of a storage listing, MiB; fields not asked for (or not
/// known) are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageEntry {
    pub name: String,
    pub size: Option<u64>,
    pub used: Option<u64>,
    pub free: Option<u64>,
    pub allocatable: bool,
}

/// A logical volume as the master's adoption checks see it (Ganeti's
/// `lv_list` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvInfo {
    /// Size, MiB (rounded down).
    pub size_mib: u64,
    /// Not active.
    pub inactive: bool,
    /// Open, i.e. in use (a running VM, a mount).
    pub online: bool,
}

/// What a node found at a device path offered for adoption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockDevProbe {
    /// The path, normalized as Ganeti does (`os.path.abspath`).
    pub path: PathBuf,
    pub state: BlockDevProbeState,
}

/// See [`BlockDevProbe`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum BlockDevProbeState {
    /// A block device, adoptable.
    Device {
        size_mib: u64,
        major: u32,
        minor: u32,
    },
    /// Not below the node's adoptable root (Ganeti's `/dev/disk/`).
    OutsideRoot { root: PathBuf },
    /// Below the root but no block device there.
    Missing,
}
