//! A network interface of an instance.

use serde::{Deserialize, Serialize};

use crate::Dict;

/// Ganeti's `NIC` config object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nic {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    pub mac: String,
    #[serde(default)]
    pub ip: Option<String>,
    /// uuid of the network the NIC is connected to
    #[serde(default)]
    pub network: Option<String>,
    /// {"mode", "link", "vlan"} overrides; empty means cluster defaults
    #[serde(default)]
    pub nicparams: Dict,
}
