//! A node group: nodes sharing policy and networks.

use serde::{Deserialize, Serialize};

use crate::Dict;

/// Ganeti's `NodeGroup` config object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeGroup {
    pub uuid: String,
    pub name: String,
    /// "preferred", "last_resort" or "unallocable".
    pub alloc_policy: String,
    #[serde(default)]
    pub ndparams: Dict,
    #[serde(default)]
    pub diskparams: Dict,
    #[serde(default)]
    pub ipolicy: Dict,
    /// network uuid -> {"mode", "link", "vlan"}
    #[serde(default)]
    pub networks: Dict,
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
