//! What the master sends to a node: self-contained descriptions of an
//! instance and its disks.
//!
//! A node must not need the cluster configuration to act (in Ganeti, noded
//! receives fully "filled" objects too). So the master flattens everything a
//! hypervisor or storage driver needs into these types: effective
//! (cluster < os < instance) parameters, disks in instance order, NICs with
//! their effective mode/link/vlan. They are plain serde data so the same
//! values later travel over the node RPC unchanged.

use std::path::{Path, PathBuf};

use ganeti_types::params::{fill, parse_unit, upgrade_beparams};
use ganeti_types::{constants, Cluster, Dict, Disk, DiskTemplate, Instance, Nic};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::NodeError;

/// Whether a disk is attached writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskMode {
    Rw,
    Ro,
}

impl DiskMode {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            DiskMode::Rw => "rw",
            DiskMode::Ro => "ro",
        }
    }
    /// Parse the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rw" => Some(DiskMode::Rw),
            "ro" => Some(DiskMode::Ro),
            _ => None,
        }
    }
}

/// Ganeti's reboot types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RebootType {
    /// Reboot the guest OS only; the VM is not recreated.
    Soft,
    /// Stop and start the VM at hypervisor level.
    Hard,
    /// Stop the VM, deactivate and reactivate its disks, start it again.
    Full,
}

impl RebootType {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            RebootType::Soft => "soft",
            RebootType::Hard => "hard",
            RebootType::Full => "full",
        }
    }
    /// Parse the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "soft" => Some(RebootType::Soft),
            "hard" => Some(RebootType::Hard),
            "full" => Some(RebootType::Full),
            _ => None,
        }
    }
}

/// One disk, as a storage driver needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiskSpec {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `disk/N`, as in the configuration.
    pub iv_name: String,
    pub template: DiskTemplate,
    pub size_mib: u64,
    /// Template-specific identity as stored in the configuration, e.g.
    /// `["loop", "/srv/ganeti/file-storage/<instance>/<id>.file.disk0"]`.
    pub logical_id: Value,
    pub mode: DiskMode,
    #[serde(default)]
    pub params: Dict,
}

/// File drivers Ganeti accepts in a file disk's `logical_id`.
const FILE_DRIVERS: &[&str] = &["loop", "blktap", "blktap2"];

impl DiskSpec {
    /// Build from a configuration disk.
    pub fn from_disk(d: &Disk) -> Result<Self, NodeError> {
        let template =
            DiskTemplate::parse(&d.dev_type).ok_or_else(|| NodeError::UnknownDiskType {
                disk: d.uuid.clone(),
                dev_type: d.dev_type.clone(),
            })?;
        let mode = DiskMode::parse(&d.mode).ok_or_else(|| NodeError::InvalidParameter {
            instance: d.uuid.clone(),
            param: "mode".into(),
            reason: format!("unknown disk access mode '{}'", d.mode),
        })?;
        Ok(DiskSpec {
            uuid: d.uuid.clone(),
            name: d.name.clone(),
            iv_name: d.iv_name.clone(),
            template,
            size_mib: d.size,
            logical_id: d.logical_id.clone(),
            mode,
            params: d.params.clone(),
        })
    }

    /// The backing file of a file-based disk: the second element of
    /// `logical_id`, which must be `[driver, "/absolute/path"]`.
    pub fn file_path(&self) -> Result<&Path, NodeError> {
        let bad = |reason| NodeError::BadLogicalId {
            disk: self.uuid.clone(),
            logical_id: self.logical_id.to_string(),
            reason,
        };
        let arr = self
            .logical_id
            .as_array()
            .ok_or_else(|| bad("expected [driver, path]"))?;
        if arr.len() != 2 {
            return Err(bad("expected [driver, path]"));
        }
        let driver = arr[0]
            .as_str()
            .ok_or_else(|| bad("the driver is not a string"))?;
        if !FILE_DRIVERS.contains(&driver) {
            return Err(bad(
                "unknown file driver (expected loop, blktap or blktap2)",
            ));
        }
        let path = arr[1]
            .as_str()
            .ok_or_else(|| bad("the path is not a string"))?;
        if path.is_empty() {
            return Err(bad("the path is empty"));
        }
        Ok(Path::new(path))
    }
}

/// One network interface with its effective parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NicSpec {
    pub uuid: String,
    #[serde(default)]
    pub name: Option<String>,
    pub mac: String,
    #[serde(default)]
    pub ip: Option<String>,
    /// uuid of the network the NIC is connected to
    #[serde(default)]
    pub network: Option<String>,
    /// `bridged`, `routed` or `openvswitch`
    pub mode: String,
    pub link: String,
    pub vlan: String,
}

impl NicSpec {
    /// Build from a configuration NIC, filling cluster NIC defaults.
    pub fn from_nic(cluster: &Cluster, nic: &Nic) -> Self {
        let builtin = constants::nic_defaults();
        let cluster_defaults = cluster.nic_defaults();
        let p = fill(&[&builtin, &cluster_defaults, &nic.nicparams]);
        let s = |k: &str| match p.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        NicSpec {
            uuid: nic.uuid.clone(),
            name: nic.name.clone(),
            mac: nic.mac.clone(),
            ip: nic.ip.clone(),
            network: nic.network.clone(),
            mode: s("mode"),
            link: s("link"),
            vlan: s("vlan"),
        }
    }
}

/// A network a NIC is connected to, as scripts see it: Ganeti's
/// `objects.Network.HooksDict`, the `NETWORK_*` variables of OS scripts,
/// hooks and the NIC setup scripts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInfo {
    pub name: String,
    pub uuid: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub subnet6: Option<String>,
    #[serde(default)]
    pub gateway6: Option<String>,
    #[serde(default)]
    pub mac_prefix: Option<String>,
}

impl NetworkInfo {
    /// The `NETWORK_*` variables (unset optional facts are left out).
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("NETWORK_NAME", self.name.clone()),
            ("NETWORK_UUID", self.uuid.clone()),
            ("NETWORK_TAGS", self.tags.join(" ")),
        ];
        let optional = [
            ("NETWORK_SUBNET", &self.subnet),
            ("NETWORK_GATEWAY", &self.gateway),
            ("NETWORK_SUBNET6", &self.subnet6),
            ("NETWORK_GATEWAY6", &self.gateway6),
            ("NETWORK_MAC_PREFIX", &self.mac_prefix),
        ];
        for (k, v) in optional {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                vars.push((k, v.to_string()));
            }
        }
        vars
    }
}

/// An instance, as a hypervisor needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSpec {
    pub name: String,
    pub uuid: String,
    pub os: String,
    pub hypervisor: String,
    /// Effective hypervisor parameters (cluster < os < instance).
    pub hvparams: Dict,
    /// Effective backend parameters (cluster < instance).
    pub beparams: Dict,
    /// `beparams.maxmem`, MiB.
    pub maxmem_mib: u64,
    /// `beparams.minmem`, MiB.
    pub minmem_mib: u64,
    /// `beparams.vcpus`.
    pub vcpus: u32,
    /// Disks in instance order (`disk/0` first).
    pub disks: Vec<DiskSpec>,
    pub nics: Vec<NicSpec>,
    /// The TCP port allocated to the instance (VNC/SPICE), if any.
    #[serde(default)]
    pub network_port: Option<u32>,
}

/// A change to a running instance's devices, made without restarting it
/// (Ganeti's hotplug). Indices refer to `InstanceSpec::disks`/`nics` of the
/// spec sent along, which already has the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum HotplugAction {
    /// Disk `index` grew to its `size_mib`; tell the guest at once.
    DiskResized { index: usize },
    /// Disk `index` is new and created; attach it.
    DiskAdd { index: usize },
    /// This disk is no longer the instance's; detach it.
    DiskRemove { disk: DiskSpec },
    /// NIC `index` is new; plug it in.
    NicAdd { index: usize },
    /// This NIC is no longer the instance's; unplug it.
    NicRemove { nic: NicSpec },
}

impl InstanceSpec {
    /// Flatten a configured instance: effective parameters and its disks
    /// (`disks` as returned by `ConfigData::instance_disks`, in order).
    pub fn from_config(
        cluster: &Cluster,
        inst: &Instance,
        disks: &[&Disk],
    ) -> Result<Self, NodeError> {
        let builtin_hv = constants::hv_defaults(&inst.hypervisor);
        let cluster_hv = cluster.hv_defaults(&inst.hypervisor);
        let os_hv = cluster
            .os_hvp
            .get(&inst.os)
            .and_then(|m| m.get(&inst.hypervisor))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let hvparams = fill(&[&builtin_hv, &cluster_hv, &os_hv, &inst.hvparams]);

        let builtin_be = constants::be_defaults();
        let mut cluster_be = cluster.be_defaults();
        upgrade_beparams(&mut cluster_be);
        let mut inst_be = inst.beparams.clone();
        upgrade_beparams(&mut inst_be);
        let beparams = fill(&[&builtin_be, &cluster_be, &inst_be]);

        let maxmem_mib = size_param(&inst.name, &beparams, "maxmem")?;
        let minmem_mib = size_param(&inst.name, &beparams, "minmem")?;
        let vcpus = vcpus_param(&inst.name, &beparams)?;

        let disks = disks
            .iter()
            .map(|d| DiskSpec::from_disk(d))
            .collect::<Result<_, _>>()?;
        let nics = inst
            .nics
            .iter()
            .map(|n| NicSpec::from_nic(cluster, n))
            .collect();
        Ok(InstanceSpec {
            name: inst.name.clone(),
            uuid: inst.uuid.clone(),
            os: inst.os.clone(),
            hypervisor: inst.hypervisor.clone(),
            hvparams,
            beparams,
            maxmem_mib,
            minmem_mib,
            vcpus,
            disks,
            nics,
            network_port: inst.network_port,
        })
    }
}

fn size_param(instance: &str, be: &Dict, key: &str) -> Result<u64, NodeError> {
    let bad = |reason: String| NodeError::InvalidParameter {
        instance: instance.to_string(),
        param: key.to_string(),
        reason,
    };
    match be.get(key) {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(format!("{n} is not a size"))),
        Some(Value::String(s)) => parse_unit(s).map_err(|e| bad(format!("'{s}': {e}"))),
        Some(other) => Err(bad(format!("{other} is not a size"))),
        None => Err(bad("missing".into())),
    }
}

fn vcpus_param(instance: &str, be: &Dict) -> Result<u32, NodeError> {
    let bad = |reason: String| NodeError::InvalidParameter {
        instance: instance.to_string(),
        param: "vcpus".into(),
        reason,
    };
    let v = be.get("vcpus").ok_or_else(|| bad("missing".into()))?;
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }
    .ok_or_else(|| bad(format!("{v} is not a positive integer")))?;
    match u32::try_from(n) {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(bad(format!("{n} is not a valid number of CPUs"))),
    }
}

/// Where an attached disk is, as handed to a hypervisor at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedDisk {
    pub uuid: String,
    pub dev_path: PathBuf,
    pub mode: DiskMode,
}

/// The local path of a created or assembled disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskPath {
    /// The file (file templates) or device node (block templates).
    pub dev_path: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster() -> Cluster {
        serde_json::from_value(json!({
            "uuid": "c", "cluster_name": "cluster.example.com", "master_node": "n",
            "master_ip": "198.51.100.1", "mac_prefix": "aa:00:00",
            "default_hypervisor": "fake", "enabled_hypervisors": ["fake"],
            "enabled_disk_templates": ["file", "diskless"],
            "file_storage_dir": "/srv/ganeti/file-storage",
            "hvparams": {"fake": {"migration_mode": "non-live"}},
            "os_hvp": {"noop": {"fake": {"migration_mode": "live"}}},
            "beparams": {"default": {"maxmem": 256, "minmem": 128, "vcpus": 1}},
            "nicparams": {"default": {"mode": "bridged", "link": "gntbr0", "vlan": ""}},
            "ndparams": {}, "diskparams": {}, "ipolicy": {},
            "candidate_pool_size": 10, "serial_no": 1, "ctime": 0.0, "mtime": 0.0
        }))
        .unwrap()
    }

    fn instance(be: Value) -> Instance {
        serde_json::from_value(json!({
            "uuid": "i-uuid", "name": "inst1.example.com", "primary_node": "n",
            "os": "noop", "hypervisor": "fake", "beparams": be,
            "admin_state": "down", "disk_template": "file",
            "nics": [{"uuid": "nic-1", "mac": "aa:00:00:01:02:03", "nicparams": {"link": "br1"}}],
            "disks": ["d1"], "serial_no": 1, "ctime": 0.0, "mtime": 0.0
        }))
        .unwrap()
    }

    fn disk(dev_type: &str, logical_id: Value, mode: &str) -> Disk {
        serde_json::from_value(json!({
            "uuid": "d1", "dev_type": dev_type, "logical_id": logical_id,
            "nodes": ["n"], "iv_name": "disk/0", "size": 128, "mode": mode,
            "serial_no": 1, "ctime": 0.0, "mtime": 0.0
        }))
        .unwrap()
    }

    #[test]
    fn from_config_layers_parameters() {
        let c = cluster();
        let d = disk(
            "file",
            json!(["loop", "/srv/ganeti/file-storage/i/x.file.disk0"]),
            "rw",
        );
        let spec = InstanceSpec::from_config(&c, &instance(json!({"vcpus": "2"})), &[&d]).unwrap();
        assert_eq!(spec.maxmem_mib, 256);
        assert_eq!(spec.minmem_mib, 128);
        assert_eq!(spec.vcpus, 2);
        // os_hvp beats the cluster value
        assert_eq!(spec.hvparams.get("migration_mode"), Some(&json!("live")));
        assert_eq!(spec.nics[0].link, "br1");
        assert_eq!(spec.nics[0].mode, "bridged");
        assert_eq!(spec.disks[0].template, DiskTemplate::File);
        assert_eq!(
            spec.disks[0].file_path().unwrap(),
            Path::new("/srv/ganeti/file-storage/i/x.file.disk0")
        );
        // the legacy "memory" parameter sets both bounds
        let spec = InstanceSpec::from_config(&c, &instance(json!({"memory": "1G"})), &[]).unwrap();
        assert_eq!((spec.maxmem_mib, spec.minmem_mib), (1024, 1024));
    }

    #[test]
    fn from_config_refuses_bad_values() {
        let c = cluster();
        for be in [
            json!({"vcpus": 0}),
            json!({"vcpus": "x"}),
            json!({"maxmem": true}),
        ] {
            let e = InstanceSpec::from_config(&c, &instance(be.clone()), &[]).unwrap_err();
            assert!(matches!(e, NodeError::InvalidParameter { .. }), "{be}: {e}");
        }
        let d = disk("frob", json!(null), "rw");
        let e = InstanceSpec::from_config(&c, &instance(json!({})), &[&d]).unwrap_err();
        assert_eq!(e.to_string(), "Unknown disk type 'frob' of disk d1");
        let d = disk("file", json!(null), "rx");
        assert!(DiskSpec::from_disk(&d).is_err());
    }

    #[test]
    fn file_path_checks_the_logical_id_shape() {
        for bad in [
            json!(null),
            json!(["loop"]),
            json!(["nbd", "/x"]),
            json!(["loop", 3]),
            json!(["loop", ""]),
        ] {
            let d = DiskSpec::from_disk(&disk("file", bad.clone(), "ro")).unwrap();
            assert!(
                matches!(d.file_path(), Err(NodeError::BadLogicalId { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn wire_strings_round_trip() {
        for r in [RebootType::Soft, RebootType::Hard, RebootType::Full] {
            assert_eq!(RebootType::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), json!(r.as_str()));
        }
        assert_eq!(RebootType::parse("warm"), None);
        assert_eq!(DiskMode::parse("ro"), Some(DiskMode::Ro));
        assert_eq!(DiskMode::parse("x"), None);
    }
}
