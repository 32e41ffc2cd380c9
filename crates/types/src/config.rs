//! The whole configuration as one versioned document.
//!
//! `serial_no` counts committed changes; writers state the serial they read
//! and the store refuses a change computed from a stale view. Lookups by
//! name go through here so that "not known" errors are worded once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::errors::GanetiError;
use crate::objects::{Cluster, Disk, Instance, Network, Node, NodeGroup};
use crate::Dict;

/// Ganeti's `ConfigData` (keys as in `config.data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigData {
    pub version: u64,
    pub cluster: Cluster,
    #[serde(default)]
    pub nodes: BTreeMap<String, Node>,
    #[serde(default)]
    pub nodegroups: BTreeMap<String, NodeGroup>,
    #[serde(default)]
    pub instances: BTreeMap<String, Instance>,
    #[serde(default)]
    pub networks: BTreeMap<String, Network>,
    #[serde(default)]
    pub disks: BTreeMap<String, Disk>,
    #[serde(default)]
    pub filters: Dict,
    pub serial_no: u64,
    pub ctime: f64,
    pub mtime: f64,
}

impl ConfigData {
    /// The master node object.
    pub fn master_node(&self) -> Option<&Node> {
        self.nodes.get(&self.cluster.master_node)
    }

    /// Instance by (full) name.
    pub fn instance_by_name(&self, name: &str) -> Option<&Instance> {
        self.instances.values().find(|i| i.name == name)
    }

    /// Instance by name, expanding a unique short prefix as Ganeti's
    /// `ExpandInstanceName` does (`inst1` matches `inst1.example.com`).
    pub fn expand_instance(&self, name: &str) -> Result<&Instance, GanetiError> {
        expand(self.instances.values(), name, |i| &i.name)
            .ok_or_else(|| GanetiError::noent(format!("Instance '{name}' not known")))
    }

    /// Node by name with short-name expansion.
    pub fn expand_node(&self, name: &str) -> Result<&Node, GanetiError> {
        if let Some(n) = self.nodes.get(name) {
            return Ok(n);
        }
        expand(self.nodes.values(), name, |n| &n.name)
            .ok_or_else(|| GanetiError::noent(format!("Node '{name}' not known")))
    }

    /// Group by name or uuid.
    pub fn lookup_group(&self, name: &str) -> Result<&NodeGroup, GanetiError> {
        if let Some(g) = self.nodegroups.get(name) {
            return Ok(g);
        }
        self.nodegroups
            .values()
            .find(|g| g.name == name)
            .ok_or_else(|| GanetiError::noent(format!("Node group '{name}' not found")))
    }

    /// Network by name or uuid.
    pub fn lookup_network(&self, name: &str) -> Result<&Network, GanetiError> {
        if let Some(n) = self.networks.get(name) {
            return Ok(n);
        }
        self.networks
            .values()
            .find(|n| n.name == name)
            .ok_or_else(|| GanetiError::noent(format!("Network '{name}' not found")))
    }

    /// The disks of an instance, in order.
    pub fn instance_disks(&self, inst: &Instance) -> Vec<&Disk> {
        inst.disks
            .iter()
            .filter_map(|u| self.disks.get(u))
            .collect()
    }

    /// Secondary nodes of an instance (union over its disks, in order).
    pub fn instance_secondaries(&self, inst: &Instance) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in self.instance_disks(inst) {
            for n in d.secondary_nodes() {
                if !out.contains(n) {
                    out.push(n.clone());
                }
            }
        }
        out
    }

    /// Node name for a uuid (the uuid itself when unknown).
    pub fn node_name(&self, uuid: &str) -> String {
        self.nodes
            .get(uuid)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| uuid.to_string())
    }

    /// Group name for a uuid (the uuid itself when unknown).
    pub fn group_name(&self, uuid: &str) -> String {
        self.nodegroups
            .get(uuid)
            .map(|n| n.name.clone())
            .unwrap_or_else(|| uuid.to_string())
    }

    /// Every MAC address in use.
    pub fn macs_in_use(&self) -> impl Iterator<Item = &str> {
        self.instances
            .values()
            .flat_map(|i| i.nics.iter().map(|n| n.mac.as_str()))
    }
}

fn expand<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    name: &str,
    key: impl Fn(&T) -> &String,
) -> Option<&'a T> {
    let mut prefix_match = None;
    let mut count = 0;
    for it in items {
        let k = key(it);
        if k == name {
            return Some(it);
        }
        if k.len() > name.len() && k.starts_with(name) && k.as_bytes()[name.len()] == b'.' {
            prefix_match = Some(it);
            count += 1;
        }
    }
    if count == 1 {
        prefix_match
    } else {
        None
    }
}
