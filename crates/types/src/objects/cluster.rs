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
    /// Take a TCP port for an instance (Ganeti's `AllocatePort`): the
    /// first port of `tcpudp_port_pool` if any (ports given back by removed
    /// instances), else `highest_used_port + 1`, which is then recorded.
    /// The caller stores the changed cluster together with the instance.
    pub fn allocate_port(&mut self) -> Result<u32, crate::GanetiError> {
        if !self.tcpudp_port_pool.is_empty() {
            return Ok(self.tcpudp_port_pool.remove(0));
        }
        if self.highest_used_port >= crate::constants::LAST_DRBD_PORT {
            return Err(crate::GanetiError::Config(format!(
                "The highest used port is greater than {}. Aborting.",
                crate::constants::LAST_DRBD_PORT
            )));
        }
        self.highest_used_port += 1;
        Ok(self.highest_used_port)
    }
    /// Give a removed instance's port back to the pool (first in line).
    pub fn release_port(&mut self, port: u32) {
        self.tcpudp_port_pool.retain(|p| *p != port);
        self.tcpudp_port_pool.insert(0, port);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(highest: u32, pool: Vec<u32>) -> Cluster {
        let mut c: Cluster = serde_json::from_value(serde_json::json!({
            "uuid": "u", "cluster_name": "c", "master_node": "n", "master_ip": "1.2.3.4",
            "mac_prefix": "aa:00:00", "default_hypervisor": "kvm",
            "enabled_hypervisors": ["kvm"], "enabled_disk_templates": ["file"],
            "hvparams": {}, "beparams": {}, "nicparams": {}, "ndparams": {},
            "diskparams": {}, "ipolicy": {}, "candidate_pool_size": 10,
            "serial_no": 1, "ctime": 0.0, "mtime": 0.0
        }))
        .unwrap();
        c.highest_used_port = highest;
        c.tcpudp_port_pool = pool;
        c
    }

    #[test]
    fn ports_come_from_the_pool_first() {
        let mut c = cluster(10999, vec![]);
        assert_eq!(c.allocate_port(), Ok(11000));
        assert_eq!(c.allocate_port(), Ok(11001));
        assert_eq!(c.highest_used_port, 11001);
        c.release_port(11000);
        c.release_port(11001);
        c.release_port(11000);
        assert_eq!(c.tcpudp_port_pool, vec![11000, 11001]);
        assert_eq!(c.allocate_port(), Ok(11000));
        assert_eq!(c.allocate_port(), Ok(11001));
        assert_eq!(c.allocate_port(), Ok(11002));
        assert!(c.tcpudp_port_pool.is_empty());
    }

    #[test]
    fn the_range_ends() {
        let mut c = cluster(14998, vec![]);
        assert_eq!(c.allocate_port(), Ok(14999));
        assert_eq!(
            c.allocate_port().unwrap_err().message(),
            "The highest used port is greater than 14999. Aborting."
        );
        assert_eq!(c.highest_used_port, 14999);
        c.release_port(12000);
        assert_eq!(c.allocate_port(), Ok(12000));
    }
}
