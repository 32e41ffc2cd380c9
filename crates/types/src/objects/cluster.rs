//! The cluster object: cluster-wide defaults and settings.

use serde::{Deserialize, Serialize};

use crate::Dict;

/// Ganeti's `Cluster` config object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    pub uuid: String,
    pub cluster_name: String,
    pub master_node: String,
    pub master_ip: String,
    #[serde(default)]
    pub master_netdev: String,
    #[serde(default)]
    pub master_netmask: u32,
    #[serde(default)]
    pub use_external_mip_script: bool,
    pub mac_prefix: String,
    #[serde(default)]
    pub volume_group_name: Option<String>,
    #[serde(default)]
    pub reserved_lvs: Vec<String>,
    #[serde(default)]
    pub drbd_usermode_helper: Option<String>,
    pub default_hypervisor: String,
    pub enabled_hypervisors: Vec<String>,
    pub enabled_disk_templates: Vec<String>,
    #[serde(default)]
    pub file_storage_dir: String,
    #[serde(default)]
    pub shared_file_storage_dir: String,
    #[serde(default)]
    pub gluster_storage_dir: String,
    /// hypervisor name -> parameters
    pub hvparams: serde_json::Map<String, serde_json::Value>,
    /// os name -> hypervisor name -> parameters
    #[serde(default)]
    pub os_hvp: Dict,
    /// profile ("default") -> parameters
    pub beparams: Dict,
    /// os name -> parameters
    #[serde(default)]
    pub osparams: Dict,
    #[serde(default)]
    pub osparams_private_cluster: Dict,
    /// profile ("default") -> parameters
    pub nicparams: Dict,
    pub ndparams: Dict,
    /// disk template -> parameters
    pub diskparams: Dict,
    pub ipolicy: Dict,
    pub candidate_pool_size: u32,
    #[serde(default = "default_max_running_jobs")]
    pub max_running_jobs: u32,
    #[serde(default = "default_max_tracked_jobs")]
    pub max_tracked_jobs: u32,
    #[serde(default)]
    pub modify_etc_hosts: bool,
    #[serde(default)]
    pub modify_ssh_setup: bool,
    #[serde(default)]
    pub maintain_node_health: bool,
    #[serde(default)]
    pub uid_pool: Vec<(u32, u32)>,
    #[serde(default)]
    pub default_iallocator: String,
    #[serde(default)]
    pub default_iallocator_params: Dict,
    #[serde(default)]
    pub hidden_os: Vec<String>,
    #[serde(default)]
    pub blacklisted_os: Vec<String>,
    #[serde(default = "default_ip_family")]
    pub primary_ip_family: u32,
    #[serde(default)]
    pub prealloc_wipe_disks: bool,
    #[serde(default)]
    pub highest_used_port: u32,
    #[serde(default)]
    pub tcpudp_port_pool: Vec<u32>,
    #[serde(default)]
    pub install_image: String,
    #[serde(default)]
    pub instance_communication_network: String,
    #[serde(default)]
    pub zeroing_image: String,
    #[serde(default)]
    pub compression_tools: Vec<String>,
    #[serde(default)]
    pub enabled_user_shutdown: bool,
    #[serde(default)]
    pub data_collectors: Dict,
    #[serde(default = "default_ssh_key_type")]
    pub ssh_key_type: String,
    #[serde(default = "default_ssh_key_bits")]
    pub ssh_key_bits: u32,
    #[serde(default)]
    pub candidate_certs: Dict,
    #[serde(default)]
    pub hv_state_static: Dict,
    #[serde(default)]
    pub disk_state_static: Dict,
    #[serde(default)]
    pub tags: Vec<String>,
    pub serial_no: u64,
    pub ctime: f64,
    pub mtime: f64,
}

fn default_max_running_jobs() -> u32 {
    20
}
fn default_max_tracked_jobs() -> u32 {
    25
}
fn default_ip_family() -> u32 {
    4
}
fn default_ssh_key_type() -> String {
    "rsa".into()
}
fn default_ssh_key_bits() -> u32 {
    2048
}

impl Cluster {
    /// Whether a hypervisor is enabled.
    pub fn hypervisor_enabled(&self, hv: &str) -> bool {
        self.enabled_hypervisors.iter().any(|h| h == hv)
    }
    /// Whether a disk template is enabled.
    pub fn disk_template_enabled(&self, t: &str) -> bool {
        self.enabled_disk_templates.iter().any(|h| h == t)
    }
    /// Cluster-level hvparams of one hypervisor.
    pub fn hv_defaults(&self, hv: &str) -> Dict {
        self.hvparams
            .get(hv)
            .and_then(|v| v.as_object())
            .cloned()
            .unwrap_or_default()
    }
    /// Cluster-level beparams (profile "default").
    pub fn be_defaults(&self) -> Dict {
        self.beparams
            .get("default")
            .and_then(|v| v.as_object())
            .cloned()
            .unwrap_or_default()
    }
    /// Cluster-level nicparams (profile "default").
    pub fn nic_defaults(&self) -> Dict {
        self.nicparams
            .get("default")
            .and_then(|v| v.as_object())
            .cloned()
            .unwrap_or_default()
    }
}
