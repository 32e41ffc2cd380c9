//! Hot-plug: devices, network back ends, and file descriptors handed to
//! QEMU (`getfd` itself must go through `Qmp::send_fd`, which attaches the
//! descriptor; `Getfd` alone only makes QEMU complain that none came).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `getfd`: see [`crate::Qmp::send_fd`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Getfd {
    pub fdname: String,
}
command!(Getfd, "getfd", ());

/// `closefd`: drop a descriptor received by `getfd` and not consumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closefd {
    pub fdname: String,
}
command!(Closefd, "closefd", ());

/// `netdev_add`: a network back end. The common tap options are fields;
/// anything else (`ifname`, `script`, `downscript`, `queues`, ...) goes in
/// `extra`, which is flattened into the arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetdevAdd {
    pub id: String,
    /// `tap`, `user`, `socket`, `bridge`, ...
    pub r#type: String,
    /// Name of a descriptor passed with `send_fd` (e.g. an opened tap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vhost: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vnet_hdr: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
command!(NetdevAdd, "netdev_add", ());

impl NetdevAdd {
    pub fn new(id: impl Into<String>, kind: impl Into<String>) -> Self {
        NetdevAdd {
            id: id.into(),
            r#type: kind.into(),
            fd: None,
            vhost: None,
            vnet_hdr: None,
            extra: Map::new(),
        }
    }

    /// A tap back end on a descriptor already passed under `fdname`.
    pub fn tap_fd(id: impl Into<String>, fdname: impl Into<String>) -> Self {
        NetdevAdd {
            fd: Some(fdname.into()),
            ..NetdevAdd::new(id, "tap")
        }
    }

    /// Add one more argument.
    pub fn arg(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// `netdev_del`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetdevDel {
    pub id: String,
}
command!(NetdevDel, "netdev_del", ());

/// `device_add`: device properties other than driver/id/bus/addr go in
/// `extra` (e.g. `"netdev"`, `"mac"`, `"drive"`, `"serial"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceAdd {
    pub driver: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
    /// PCI slot[.function], e.g. `"0x5"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
command!(DeviceAdd, "device_add", ());

impl DeviceAdd {
    pub fn new(driver: impl Into<String>, id: impl Into<String>) -> Self {
        DeviceAdd {
            driver: driver.into(),
            id: id.into(),
            bus: None,
            addr: None,
            extra: Map::new(),
        }
    }

    /// Add one more property.
    pub fn arg(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// `device_del`: asks the guest to release the device; completion is the
/// `DEVICE_DELETED` event (which never comes if the guest ignores it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceDel {
    pub id: String,
}
command!(DeviceDel, "device_del", ());

/// `query-pci`: the PCI buses and devices, as QEMU's raw JSON.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueryPci;
command!(QueryPci, "query-pci", Value);
