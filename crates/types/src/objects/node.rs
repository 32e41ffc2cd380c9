//! A node: a machine that runs instances.

use serde::{Deserialize, Serialize};

use crate::Dict;

/// Ganeti's `Node` config object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub uuid: String,
    pub name: String,
    pub primary_ip: String,
    pub secondary_ip: String,
    /// uuid of the node group
    pub group: String,
    pub master_candidate: bool,
    pub offline: bool,
    pub drained: bool,
    pub master_capable: bool,
    pub vm_capable: bool,
    #[serde(default)]
    pub ndparams: Dict,
    #[serde(default)]
    pub powered: bool,
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

impl Node {
    /// The node's role letter as Ganeti shows it (M, C, R, D, O).
    pub fn role(&self, is_master: bool) -> &'static str {
        if is_master {
            "M"
        } else if self.master_candidate {
            "C"
        } else if self.drained {
            "D"
        } else if self.offline {
            "O"
        } else {
            "R"
        }
    }
}
