//! An instance: a virtual machine and its configured state.

use serde::{Deserialize, Serialize};

use super::Nic;
use crate::Dict;

/// What the administrator wants the instance to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AdminState {
    Up,
    Down,
    Offline,
}

impl AdminState {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminState::Up => "up",
            AdminState::Down => "down",
            AdminState::Offline => "offline",
        }
    }
}

/// Ganeti's `Instance` config object (disks are referenced by uuid, as in 3.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub uuid: String,
    pub name: String,
    /// uuid of the primary node
    pub primary_node: String,
    pub os: String,
    pub hypervisor: String,
    #[serde(default)]
    pub hvparams: Dict,
    #[serde(default)]
    pub beparams: Dict,
    #[serde(default)]
    pub osparams: Dict,
    #[serde(default)]
    pub osparams_private: Dict,
    pub admin_state: AdminState,
    /// "admin" or "user"
    #[serde(default = "default_admin_source")]
    pub admin_state_source: String,
    #[serde(default)]
    pub nics: Vec<Nic>,
    /// uuids of the instance's disks, in order
    #[serde(default)]
    pub disks: Vec<String>,
    pub disk_template: String,
    #[serde(default)]
    pub disks_active: bool,
    #[serde(default)]
    pub network_port: Option<u32>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub serial_no: u64,
    pub ctime: f64,
    pub mtime: f64,
}

fn default_admin_source() -> String {
    "admin".into()
}
