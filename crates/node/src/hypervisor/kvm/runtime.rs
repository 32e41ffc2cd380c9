//! The runtime file: what was started for an instance (Ganeti's
//! `conf/<instance>.runtime`).
//!
//! QEMU's process only tells its command line; the node also needs the
//! NICs with the taps it created (to undo routes at cleanup and to unplug
//! them), the disks with their QEMU ids (for hotplug) and the hvparams the
//! VM was started with (a soft reboot or hotplug must act as the running
//! VM was configured, not as the cluster says now). It is JSON, replaced
//! atomically on every change, so a restarted daemon reads it back.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ganeti_types::Dict;
use serde::{Deserialize, Serialize};

use super::files;
use crate::spec::{DiskMode, NicSpec};
use crate::NodeError;

/// Version of the file format.
pub(crate) const RUNTIME_VERSION: u32 = 1;

/// One attached disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RuntimeDisk {
    pub uuid: String,
    /// QEMU drive and device id.
    pub id: String,
    pub dev_path: PathBuf,
    pub mode: DiskMode,
}

/// One NIC and the tap it is connected to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RuntimeNic {
    pub nic: NicSpec,
    /// QEMU netdev and device id.
    pub id: String,
    /// The host interface name.
    pub tap: String,
}

/// Everything recorded about a started instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KvmRuntime {
    pub version: u32,
    pub instance: String,
    pub uuid: String,
    /// QEMU's pid when it was started.
    pub pid: i32,
    /// Seconds since the epoch.
    pub started_at: f64,
    pub argv: Vec<String>,
    /// The filled hvparams the VM was started with.
    pub hvparams: Dict,
    pub maxmem_mib: u64,
    pub vcpus: u32,
    pub disks: Vec<RuntimeDisk>,
    pub nics: Vec<RuntimeNic>,
}

impl KvmRuntime {
    /// Read the runtime file; `None` if there is none.
    pub(crate) fn read(instance: &str, path: &Path) -> Result<Option<KvmRuntime>, NodeError> {
        let text = match fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(NodeError::HvStateIo {
                    action: "read the runtime of",
                    instance: instance.to_string(),
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let rt: KvmRuntime =
            serde_json::from_slice(&text).map_err(|e| NodeError::HvStateCorrupt {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        if rt.version != RUNTIME_VERSION {
            return Err(NodeError::HvStateCorrupt {
                path: path.to_path_buf(),
                reason: format!("unknown runtime file version {}", rt.version),
            });
        }
        Ok(Some(rt))
    }

    /// Replace the runtime file atomically.
    pub(crate) fn write(&self, path: &Path) -> Result<(), NodeError> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| NodeError::HvStateCorrupt {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        text.push(b'\n');
        files::write_atomic(path, &text).map_err(|source| NodeError::HvStateIo {
            action: "save the runtime of",
            instance: self.instance.clone(),
            path: path.to_path_buf(),
            source,
        })
    }
}
