//! Block devices: what is attached (`query-block`), growing a disk
//! (`block_resize`), and adding/removing block nodes (`blockdev-add`,
//! `blockdev-del`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `query-block`: one entry per block backend (drive or device).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryBlock;
command!(QueryBlock, "query-block", Vec<BlockInfo>);

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockInfo {
    /// The backend name; empty for devices added with `-device ...,drive=`
    /// on a `-blockdev` node (then `qdev` identifies the disk).
    pub device: String,
    /// QOM path or id of the device this backend is attached to.
    #[serde(default)]
    pub qdev: Option<String>,
    #[serde(default)]
    pub removable: bool,
    /// The medium, absent for an empty drive.
    #[serde(default)]
    pub inserted: Option<BlockDeviceInfo>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct BlockDeviceInfo {
    /// The node name (QEMU makes one up, `#block123`, if none was given).
    #[serde(default)]
    pub node_name: Option<String>,
    /// The image file name (or a JSON description of the node).
    pub file: String,
    #[serde(default)]
    pub ro: bool,
    /// The driver of the top node (`raw`, `qcow2`, ...).
    #[serde(default)]
    pub drv: String,
    pub image: ImageInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ImageInfo {
    #[serde(default)]
    pub filename: String,
    #[serde(default)]
    pub format: String,
    /// Size the guest sees, bytes.
    pub virtual_size: u64,
    /// Bytes used on the host, when known.
    #[serde(default)]
    pub actual_size: Option<u64>,
}

/// `block_resize`: set a disk's size in bytes, by backend name or node
/// name (exactly one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BlockResize {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    pub size: u64,
}
command!(BlockResize, "block_resize", ());

impl BlockResize {
    pub fn by_device(device: impl Into<String>, size: u64) -> Self {
        BlockResize {
            device: Some(device.into()),
            node_name: None,
            size,
        }
    }

    pub fn by_node(node_name: impl Into<String>, size: u64) -> Self {
        BlockResize {
            device: None,
            node_name: Some(node_name.into()),
            size,
        }
    }
}

/// `blockdev-add`: the `BlockdevOptions` object, passed through as is,
/// e.g. `{"driver": "raw", "node-name": "disk0",
/// "file": {"driver": "file", "filename": "/path"}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct BlockdevAdd(pub Value);
command!(BlockdevAdd, "blockdev-add", ());

/// `blockdev-del`: remove a top-level node added by `blockdev-add`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BlockdevDel {
    pub node_name: String,
}
command!(BlockdevDel, "blockdev-del", ());
