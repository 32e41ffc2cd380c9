//! A disk: a block device of an instance, with a primary node and (for
//! replicated templates) secondaries from the start.

use serde::{Deserialize, Serialize};

use crate::Dict;

/// Disk templates Ganeti knows. This release runs `diskless` and `file`;
/// the others are recognised so that refusals name them correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskTemplate {
    Diskless,
    File,
    Sharedfile,
    Plain,
    Blockdev,
    Ext,
    Drbd,
    Gluster,
    Rbd,
}

impl DiskTemplate {
    /// All templates, in Ganeti's display order.
    pub const ALL: [DiskTemplate; 9] = [
        DiskTemplate::Blockdev,
        DiskTemplate::Diskless,
        DiskTemplate::Drbd,
        DiskTemplate::Ext,
        DiskTemplate::File,
        DiskTemplate::Gluster,
        DiskTemplate::Plain,
        DiskTemplate::Rbd,
        DiskTemplate::Sharedfile,
    ];
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskTemplate::Diskless => "diskless",
            DiskTemplate::File => "file",
            DiskTemplate::Sharedfile => "sharedfile",
            DiskTemplate::Plain => "plain",
            DiskTemplate::Blockdev => "blockdev",
            DiskTemplate::Ext => "ext",
            DiskTemplate::Drbd => "drbd",
            DiskTemplate::Gluster => "gluster",
            DiskTemplate::Rbd => "rbd",
        }
    }
    /// Parse the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
    /// Templates whose data lives on more than one node.
    pub fn is_mirrored(self) -> bool {
        matches!(
            self,
            DiskTemplate::Drbd
                | DiskTemplate::Sharedfile
                | DiskTemplate::Gluster
                | DiskTemplate::Rbd
                | DiskTemplate::Ext
                | DiskTemplate::Blockdev
        )
    }
}

/// Ganeti's `Disk` config object (top-level in 3.0's config, referenced by instances).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disk {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    pub dev_type: String,
    /// template-specific identity, e.g. `["loop", "/path/file"]` for file disks
    pub logical_id: serde_json::Value,
    #[serde(default)]
    pub children: Vec<Disk>,
    /// node uuids: the primary first, then secondaries
    pub nodes: Vec<String>,
    pub iv_name: String,
    /// size in MiB
    pub size: u64,
    /// "rw" or "ro"
    pub mode: String,
    #[serde(default)]
    pub params: Dict,
    #[serde(default)]
    pub spindles: Option<u32>,
    pub serial_no: u64,
    pub ctime: f64,
    pub mtime: f64,
}

impl Disk {
    /// The node holding the primary copy.
    pub fn primary_node(&self) -> Option<&str> {
        self.nodes.first().map(String::as_str)
    }
    /// Nodes holding secondary copies.
    pub fn secondary_nodes(&self) -> &[String] {
        self.nodes.get(1..).unwrap_or(&[])
    }
    /// For file-based disks, the path of the backing file.
    pub fn file_path(&self) -> Option<&str> {
        self.logical_id.as_array()?.get(1)?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_round_trip() {
        for t in DiskTemplate::ALL {
            assert_eq!(DiskTemplate::parse(t.as_str()), Some(t));
        }
        assert_eq!(DiskTemplate::parse("frob"), None);
    }
}
