//! `gnt-cluster init`, `destroy` and the file part of `renew-crypto`.

use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ganeti_crypto::{CryptoPaths, RenewSpec};
use ganeti_master::{validate, Command, MasterState};
use ganeti_types::params::{self, force_dict_types, upgrade_beparams};
use ganeti_types::{
    constants, now_f64, Cluster, ConfigData, Dict, ErrorClass, Node, NodeGroup, Paths,
};
use serde_json::{json, Value};

use crate::{daemon, BootstrapError};

/// Everything `gnt-cluster init` can be told.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InitOptions {
    pub root: PathBuf,
    pub cluster_name: String,
    /// The master IP; resolved from the cluster name when absent.
    pub master_ip: Option<String>,
    /// This node's name; the system hostname when absent.
    pub node_name: Option<String>,
    pub enabled_hypervisors: Vec<String>,
    pub enabled_disk_templates: Vec<String>,
    pub file_storage_dir: Option<String>,
    pub shared_file_storage_dir: Option<String>,
    pub gluster_storage_dir: Option<String>,
    /// hypervisor -> parameters
    pub hvparams: Dict,
    pub beparams: Dict,
    pub nicparams: Dict,
    pub ndparams: Dict,
    /// disk template -> parameters
    pub diskparams: Dict,
    /// Ganeti's ipolicy dict (minmax, std, disk-templates, vcpu-ratio, spindle-ratio), partial.
    pub ipolicy: Dict,
    pub mac_prefix: Option<String>,
    pub master_netdev: Option<String>,
    pub master_netmask: Option<u32>,
    pub candidate_pool_size: Option<u32>,
    pub default_iallocator: Option<String>,
    pub vg_name: Option<String>,
    pub maintain_node_health: Option<bool>,
    pub prealloc_wipe_disks: Option<bool>,
    pub use_external_mip_script: Option<bool>,
    pub modify_etc_hosts: bool,
    pub modify_ssh_setup: bool,
    pub secondary_ip: Option<String>,
    pub drbd_helper: Option<String>,
    pub enabled_user_shutdown: Option<bool>,
    pub compression_tools: Option<Vec<String>>,
    pub install_image: Option<String>,
    pub zeroing_image: Option<String>,
    /// How long to wait for the daemon to answer.
    pub start_timeout: Option<Duration>,
}

/// This node's name: `$GANETI_NODE_NAME` (for clusters living in a
/// directory, e.g. several "nodes" on one machine), else the hostname.
fn hostname() -> String {
    if let Ok(n) = std::env::var("GANETI_NODE_NAME") {
        if !n.is_empty() {
            return n;
        }
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

fn resolve(name: &str) -> Option<std::net::IpAddr> {
    (name, 0u16)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| {
            a.find(|x| x.is_ipv4())
                .or_else(|| (name, 0u16).to_socket_addrs().ok()?.next())
        })
        .map(|a| a.ip())
}

fn is_initialised(paths: &Paths) -> bool {
    paths.config_data().exists() || paths.store_dir().exists()
}

/// Validate options and build the initial configuration. Pure apart from
/// name resolution; writes nothing.
pub fn build_config(opts: &InitOptions, paths: &Paths) -> Result<ConfigData, BootstrapError> {
    let name = opts.cluster_name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(BootstrapError::prereq(
            format!("Invalid cluster name '{name}'"),
            ErrorClass::WrongInput,
        ));
    }
    let embedded = paths.root() != Path::new("/");
    let master_ip = match &opts.master_ip {
        Some(ip) => {
            ip.parse::<std::net::IpAddr>().map_err(|_| {
                BootstrapError::Parameter(format!("Invalid master IP address '{ip}'"))
            })?;
            ip.clone()
        }
        None => match resolve(name) {
            Some(ip) => ip.to_string(),
            None => {
                return Err(BootstrapError::prereq(
                    format!(
                        "Cluster name {name} does not resolve; give its address with --master-ip"
                    ),
                    ErrorClass::ResolverError,
                ))
            }
        },
    };
    let node_name = opts.node_name.clone().unwrap_or_else(hostname);
    let node_ip = match resolve(&node_name) {
        Some(ip) => {
            if ip.is_loopback() && !embedded {
                return Err(BootstrapError::prereq(
                    format!("This host's IP ({ip}) resolves to the loopback address; Ganeti needs a routable primary IP"),
                    ErrorClass::Environ,
                ));
            }
            ip.to_string()
        }
        None if embedded => "127.0.0.1".to_string(),
        None => {
            return Err(BootstrapError::prereq(
                format!("Node name {node_name} does not resolve"),
                ErrorClass::ResolverError,
            ))
        }
    };
    let hvs = if opts.enabled_hypervisors.is_empty() {
        vec!["fake".to_string()]
    } else {
        opts.enabled_hypervisors.clone()
    };
    for h in &hvs {
        if !constants::KNOWN_HYPERVISORS.contains(&h.as_str()) {
            return Err(BootstrapError::Parameter(format!(
                "Unknown hypervisor '{h}'"
            )));
        }
        if !constants::SUPPORTED_HYPERVISORS.contains(&h.as_str()) {
            return Err(BootstrapError::prereq(
                format!("Hypervisor '{h}' is not supported by this release of ganeti-rs (supported: {})", constants::SUPPORTED_HYPERVISORS.join(", ")),
                ErrorClass::WrongInput,
            ));
        }
    }
    let dts = if opts.enabled_disk_templates.is_empty() {
        vec!["file".to_string(), "diskless".to_string()]
    } else {
        opts.enabled_disk_templates.clone()
    };
    for t in &dts {
        if ganeti_types::DiskTemplate::parse(t).is_none() {
            return Err(BootstrapError::Parameter(format!(
                "Unknown disk template '{t}'"
            )));
        }
        if !constants::SUPPORTED_DISK_TEMPLATES.contains(&t.as_str()) {
            return Err(BootstrapError::prereq(
                format!("Disk template '{t}' is not supported by this release of ganeti-rs (supported: {})", constants::SUPPORTED_DISK_TEMPLATES.join(", ")),
                ErrorClass::WrongInput,
            ));
        }
    }
    let mac_prefix = validate::normalize_mac_prefix(
        opts.mac_prefix
            .as_deref()
            .unwrap_or(constants::DEFAULT_MAC_PREFIX),
    )
    .map_err(|e| BootstrapError::prereq(e.message(), ErrorClass::WrongInput))?;
    if opts.candidate_pool_size == Some(0) {
        return Err(BootstrapError::Parameter(
            "The candidate pool size must be at least 1".into(),
        ));
    }
    if let Some(m) = opts.master_netmask {
        if m > 32 {
            return Err(BootstrapError::prereq(
                format!("Invalid master netmask '{m}'"),
                ErrorClass::WrongInput,
            ));
        }
    }
    let to_err = |e: ganeti_types::GanetiError| BootstrapError::Parameter(e.message().to_string());
    // hypervisor parameters
    let mut hvparams = Dict::new();
    for h in constants::KNOWN_HYPERVISORS {
        hvparams.insert((*h).into(), json!(constants::hv_defaults(h)));
    }
    for (hv, p) in &opts.hvparams {
        if !constants::KNOWN_HYPERVISORS.contains(&hv.as_str()) {
            return Err(BootstrapError::Parameter(format!(
                "Unknown hypervisor '{hv}'"
            )));
        }
        let given = p.as_object().cloned().unwrap_or_default();
        let checked = force_dict_types(&given, params::hv_types(hv), false).map_err(to_err)?;
        let merged = params::fill(&[&constants::hv_defaults(hv), &checked]);
        hvparams.insert(hv.clone(), json!(merged));
    }
    // Ganeti's InitCluster: every hypervisor's full dict passes its syntax check
    for (hv, p) in &hvparams {
        let full = p.as_object().cloned().unwrap_or_default();
        ganeti_types::hvparams::check_syntax(hv, &full).map_err(|e| match e {
            ganeti_types::GanetiError::Hypervisor(m) => BootstrapError::Hypervisor(m),
            other => to_err(other),
        })?;
    }
    let mut be = force_dict_types(&opts.beparams, params::BE_TYPES, false).map_err(to_err)?;
    upgrade_beparams(&mut be);
    let be = params::fill(&[&constants::be_defaults(), &be]);
    let nic_given = force_dict_types(&opts.nicparams, params::NIC_TYPES, false).map_err(to_err)?;
    if let Some(mode) = nic_given.get("mode").and_then(Value::as_str) {
        if !["bridged", "routed", "openvswitch"].contains(&mode) {
            return Err(BootstrapError::Parameter(format!(
                "Invalid NIC mode '{mode}'"
            )));
        }
    }
    let mut nic = constants::nic_defaults();
    if let Some(dev) = &opts.master_netdev {
        nic.insert("link".into(), json!(dev));
    }
    let nic = params::fill(&[&nic, &nic_given]);
    let nd = force_dict_types(&opts.ndparams, params::ND_TYPES, false).map_err(to_err)?;
    let nd = params::fill(&[&constants::nd_defaults(), &nd]);
    let given_dp = validate::check_diskparams(&opts.diskparams).map_err(to_err)?;
    let mut diskparams = constants::disk_defaults();
    for (t, given) in &given_dp {
        let base = diskparams
            .get(t)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let given = given.as_object().cloned().unwrap_or_default();
        diskparams.insert(t.clone(), json!(params::fill(&[&base, &given])));
    }
    // instance policy: defaults, operator overrides, restricted to enabled templates
    let mut ipolicy = constants::ipolicy_defaults();
    for (k, v) in &opts.ipolicy {
        ipolicy.insert(k.clone(), v.clone());
    }
    let allowed: Vec<Value> = ipolicy
        .get("disk-templates")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|t| {
            t.as_str()
                .map(|s| dts.iter().any(|d| d == s))
                .unwrap_or(false)
        })
        .collect();
    ipolicy.insert("disk-templates".into(), Value::Array(allowed));
    validate::check_ipolicy_syntax(&ipolicy, true)
        .map_err(|m| BootstrapError::Parameter(format!("Invalid instance policy: {m}")))?;

    let now = now_f64();
    let node_uuid = ganeti_types::new_uuid();
    let group_uuid = ganeti_types::new_uuid();
    let file_dir = opts
        .file_storage_dir
        .clone()
        .unwrap_or_else(|| paths.default_file_storage_dir().display().to_string());
    let shared_dir = opts.shared_file_storage_dir.clone().unwrap_or_else(|| {
        paths
            .default_shared_file_storage_dir()
            .display()
            .to_string()
    });
    let cluster = Cluster {
        uuid: ganeti_types::new_uuid(),
        cluster_name: name.to_string(),
        master_node: node_uuid.clone(),
        master_ip,
        master_netdev: opts.master_netdev.clone().unwrap_or_default(),
        master_netmask: opts.master_netmask.unwrap_or(32),
        use_external_mip_script: opts.use_external_mip_script.unwrap_or(false),
        mac_prefix,
        volume_group_name: opts.vg_name.clone().filter(|v| !v.is_empty()),
        reserved_lvs: vec![],
        drbd_usermode_helper: opts.drbd_helper.clone(),
        default_hypervisor: hvs[0].clone(),
        enabled_hypervisors: hvs,
        enabled_disk_templates: dts,
        file_storage_dir: file_dir,
        shared_file_storage_dir: shared_dir,
        gluster_storage_dir: opts
            .gluster_storage_dir
            .clone()
            .unwrap_or_else(|| paths.default_gluster_storage_dir().display().to_string()),
        hvparams,
        os_hvp: Dict::new(),
        beparams: [("default".to_string(), json!(be))].into_iter().collect(),
        osparams: Dict::new(),
        osparams_private_cluster: Dict::new(),
        nicparams: [("default".to_string(), json!(nic))].into_iter().collect(),
        ndparams: nd,
        diskparams,
        ipolicy,
        candidate_pool_size: opts
            .candidate_pool_size
            .unwrap_or(constants::DEFAULT_CANDIDATE_POOL_SIZE),
        max_running_jobs: 20,
        max_tracked_jobs: 25,
        modify_etc_hosts: opts.modify_etc_hosts,
        modify_ssh_setup: opts.modify_ssh_setup,
        maintain_node_health: opts.maintain_node_health.unwrap_or(false),
        uid_pool: vec![],
        default_iallocator: opts.default_iallocator.clone().unwrap_or_default(),
        default_iallocator_params: Dict::new(),
        hidden_os: vec![],
        blacklisted_os: vec![],
        primary_ip_family: 4,
        prealloc_wipe_disks: opts.prealloc_wipe_disks.unwrap_or(false),
        // Ganeti: FIRST_DRBD_PORT - 1, so the first port handed out is 11000
        highest_used_port: constants::FIRST_DRBD_PORT - 1,
        tcpudp_port_pool: vec![],
        install_image: opts.install_image.clone().unwrap_or_default(),
        instance_communication_network: String::new(),
        zeroing_image: opts.zeroing_image.clone().unwrap_or_default(),
        compression_tools: opts.compression_tools.clone().unwrap_or_else(|| {
            constants::DEFAULT_COMPRESSION_TOOLS
                .iter()
                .map(|s| s.to_string())
                .collect()
        }),
        enabled_user_shutdown: opts.enabled_user_shutdown.unwrap_or(false),
        data_collectors: constants::data_collector_defaults(),
        ssh_key_type: "rsa".into(),
        ssh_key_bits: 2048,
        candidate_certs: Dict::new(),
        hv_state_static: Dict::new(),
        disk_state_static: Dict::new(),
        tags: vec![],
        serial_no: 1,
        ctime: now,
        mtime: now,
    };
    let node = Node {
        uuid: node_uuid.clone(),
        name: node_name,
        primary_ip: node_ip.clone(),
        secondary_ip: opts.secondary_ip.clone().unwrap_or(node_ip),
        group: group_uuid.clone(),
        master_candidate: true,
        offline: false,
        drained: false,
        master_capable: true,
        vm_capable: true,
        ndparams: Dict::new(),
        powered: true,
        hv_state_static: Dict::new(),
        disk_state_static: Dict::new(),
        tags: vec![],
        serial_no: 1,
        ctime: now,
        mtime: now,
    };
    let group = NodeGroup {
        uuid: group_uuid.clone(),
        name: constants::DEFAULT_GROUP.into(),
        alloc_policy: "preferred".into(),
        ndparams: Dict::new(),
        diskparams: Dict::new(),
        ipolicy: Dict::new(),
        networks: Dict::new(),
        hv_state_static: Dict::new(),
        disk_state_static: Dict::new(),
        tags: vec![],
        serial_no: 1,
        ctime: now,
        mtime: now,
    };
    Ok(ConfigData {
        version: ganeti_types::CONFIG_VERSION,
        cluster,
        nodes: BTreeMap::from([(node_uuid, node)]),
        nodegroups: BTreeMap::from([(group_uuid, group)]),
        instances: BTreeMap::new(),
        networks: BTreeMap::new(),
        disks: BTreeMap::new(),
        filters: Dict::new(),
        serial_no: 1,
        ctime: now,
        mtime: now,
    })
}

fn mkdirs(paths: &Paths, cfg: &ConfigData) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (d, mode) in [
        (paths.data_dir(), 0o755),
        (paths.data_dir().join("rapi"), 0o750),
        (paths.conf_dir(), 0o755),
        (paths.hooks_dir(), 0o755),
        (paths.run_dir(), 0o775),
        (paths.log_dir(), 0o750),
        (paths.queue_dir(), 0o700),
        (PathBuf::from(&cfg.cluster.file_storage_dir), 0o750),
        (PathBuf::from(&cfg.cluster.shared_file_storage_dir), 0o750),
    ] {
        std::fs::create_dir_all(&d)?;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode))?;
    }
    let allowed = format!(
        "{}\n{}\n",
        cfg.cluster.file_storage_dir, cfg.cluster.shared_file_storage_dir
    );
    std::fs::write(paths.file_storage_paths(), allowed)?;
    Ok(())
}

/// Remove the state a cluster keeps below a root (not the logs, not
/// instance disks in the storage directories).
fn remove_state(paths: &Paths) {
    let _ = std::fs::remove_dir_all(paths.data_dir());
    let _ = std::fs::remove_dir_all(paths.run_dir());
    let _ = std::fs::remove_file(paths.file_storage_paths());
}

/// Initialise a cluster and start its daemon.
pub fn init_cluster(opts: &InitOptions) -> Result<(), BootstrapError> {
    let paths = Paths::new(&opts.root);
    if is_initialised(&paths) {
        return Err(BootstrapError::prereq(
            "Cluster is already initialised",
            ErrorClass::WrongState,
        ));
    }
    let cfg = build_config(opts, &paths)?;
    let result = (|| {
        mkdirs(&paths, &cfg).map_err(|e| {
            BootstrapError::Exec(format!("Cannot create the cluster directories: {e}"))
        })?;
        let master_name = cfg
            .master_node()
            .map(|n| n.name.clone())
            .unwrap_or_default();
        ganeti_crypto::generate_cluster_crypto(
            &CryptoPaths::in_dir(&paths.data_dir()),
            &master_name,
            &RenewSpec::for_init(),
        )
        .map_err(|e| BootstrapError::Exec(format!("Cannot generate the cluster's crypto: {e}")))?;
        // the master's client certificate is a trusted candidate certificate
        let digest = ganeti_crypto::cert_info(&paths.client_pem())
            .map_err(|e| BootstrapError::Exec(format!("Cannot read the node certificate: {e}")))?
            .sha1_digest;
        let mut cfg = cfg.clone();
        cfg.cluster.candidate_certs.insert(
            cfg.cluster.master_node.clone(),
            serde_json::Value::String(digest),
        );
        {
            let store =
                ganeti_store::Store::<MasterState>::open(&paths.store_dir(), MasterState::default)
                    .map_err(|e| {
                        BootstrapError::Exec(format!("Cannot create the cluster state: {e}"))
                    })?;
            match store.propose_blocking(Command::Init(Box::new(cfg.clone()))) {
                Ok(ganeti_master::Applied::Ok) => {}
                Ok(other) => {
                    return Err(BootstrapError::Exec(format!(
                        "Cannot write the initial configuration: {other:?}"
                    )))
                }
                Err(e) => {
                    return Err(BootstrapError::Exec(format!(
                        "Cannot write the initial configuration: {e}"
                    )))
                }
            }
            store.snapshot_now().map_err(|e| {
                BootstrapError::Exec(format!("Cannot write the initial configuration: {e}"))
            })?;
        }
        ganeti_master::export::export_config(&paths, &cfg).map_err(|e| {
            BootstrapError::Exec(format!(
                "Cannot write {}: {e}",
                paths.config_data().display()
            ))
        })?;
        daemon::start_daemon(
            &paths,
            opts.start_timeout.unwrap_or(Duration::from_secs(30)),
        )?;
        Ok(())
    })();
    if result.is_err() {
        let _ = daemon::stop_daemon(&paths, Duration::from_secs(5));
        remove_state(&paths);
    }
    result
}

/// Stop the daemon and remove the cluster's state. Refuses while
/// instances exist, as Ganeti does.
pub fn destroy_cluster(root: &Path) -> Result<(), BootstrapError> {
    let paths = Paths::new(root);
    if !is_initialised(&paths) {
        return Err(BootstrapError::prereq(
            format!("Cannot find a cluster under {}", root.display()),
            ErrorClass::NoEnt,
        ));
    }
    let instances = read_config_export(&paths)
        .map(|c| c.instances.len())
        .unwrap_or(0);
    if instances > 0 {
        return Err(BootstrapError::prereq(
            format!("There are still {instances} instance(s) in this cluster."),
            ErrorClass::WrongState,
        ));
    }
    daemon::stop_daemon(&paths, Duration::from_secs(30))?;
    remove_state(&paths);
    Ok(())
}

fn read_config_export(paths: &Paths) -> Option<ConfigData> {
    let data = std::fs::read(paths.config_data()).ok()?;
    serde_json::from_slice(&data).ok()
}

/// Regenerate the requested crypto files of a cluster.
pub fn renew_crypto(
    root: &Path,
    spec: &RenewSpec,
) -> Result<ganeti_crypto::GeneratedReport, BootstrapError> {
    let paths = Paths::new(root);
    let master_name = read_config_export(&paths)
        .and_then(|c| c.master_node().map(|n| n.name.clone()))
        .ok_or_else(|| {
            BootstrapError::prereq(
                format!("Cannot find a cluster under {}", root.display()),
                ErrorClass::NoEnt,
            )
        })?;
    ganeti_crypto::generate_cluster_crypto(
        &CryptoPaths::in_dir(&paths.data_dir()),
        &master_name,
        spec,
    )
    .map_err(|e| BootstrapError::Exec(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(root: &Path) -> InitOptions {
        InitOptions {
            root: root.to_path_buf(),
            cluster_name: "cluster.example.com".into(),
            master_ip: Some("127.0.0.1".into()),
            node_name: Some("node1.example.com".into()),
            ..Default::default()
        }
    }

    #[test]
    fn config_defaults_and_ipolicy_restriction() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::new(d.path());
        let cfg = build_config(&opts(d.path()), &p).unwrap();
        assert_eq!(cfg.cluster.enabled_hypervisors, vec!["fake"]);
        assert_eq!(
            cfg.cluster.ipolicy["disk-templates"],
            json!(["diskless", "file"])
        );
        assert_eq!(cfg.nodes.len(), 1);
        assert_eq!(cfg.nodegroups.values().next().unwrap().name, "default");
        assert!(cfg
            .cluster
            .file_storage_dir
            .starts_with(&*d.path().to_string_lossy()));
    }

    #[test]
    fn bad_options_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::new(d.path());
        let mut o = opts(d.path());
        o.enabled_hypervisors = vec!["xen-pvm".into()];
        assert!(build_config(&o, &p)
            .unwrap_err()
            .to_string()
            .contains("not supported"));
        let mut o = opts(d.path());
        o.enabled_hypervisors = vec!["frob".into()];
        assert!(build_config(&o, &p).is_err());
        let mut o = opts(d.path());
        o.mac_prefix = Some("zz:00".into());
        assert_eq!(
            build_config(&o, &p).unwrap_err().to_string(),
            "Invalid MAC address prefix 'zz:00'"
        );
        let mut o = opts(d.path());
        o.beparams.insert("frob".into(), json!(1));
        assert_eq!(
            build_config(&o, &p).unwrap_err().to_string(),
            "Unknown parameter 'frob'"
        );
        let mut o = opts(d.path());
        o.master_ip = Some("nonsense".into());
        assert!(build_config(&o, &p).is_err());
        let mut o = opts(d.path());
        o.cluster_name = "bad name".into();
        assert!(build_config(&o, &p).is_err());
        let mut o = opts(d.path());
        o.ipolicy
            .insert("std".into(), json!({"memory-size": 99999999}));
        assert!(build_config(&o, &p).is_err());
    }

    #[test]
    fn kvm_clusters() {
        let d = tempfile::tempdir().unwrap();
        let p = Paths::new(d.path());
        let mut o = opts(d.path());
        o.enabled_hypervisors = vec!["kvm".into(), "fake".into()];
        o.hvparams
            .insert("kvm".into(), json!({"kernel_path": "", "acpi": "false"}));
        let cfg = build_config(&o, &p).unwrap();
        assert_eq!(cfg.cluster.default_hypervisor, "kvm");
        let kvm = cfg.cluster.hv_defaults("kvm");
        assert_eq!(kvm.len(), constants::hv_defaults("kvm").len());
        assert_eq!(kvm["kernel_path"], json!(""));
        assert_eq!(kvm["acpi"], json!(false));
        assert_eq!(kvm["kvm_path"], json!("/usr/bin/kvm"));
        // the first network port handed out will be Ganeti's first, 11000
        assert_eq!(cfg.cluster.highest_used_port, 10999);
        assert!(cfg.cluster.tcpudp_port_pool.is_empty());
        // bad kvm parameters: Ganeti's HypervisorError, nothing written
        for (given, msg) in [
            (
                json!({"boot_order": "cdrom"}),
                "Cannot boot from cdrom without an ISO path",
            ),
            (
                json!({"migration_port": 0}),
                "Parameter 'migration_port' fails syntax check: invalid port number (current value: '0')",
            ),
            (
                json!({"cpu_mask": "3-1"}),
                "Parameter 'cpu_mask' fails syntax check: Multiple CPU mask definition is not well-formed (current value: '3-1')",
            ),
        ] {
            let mut o = opts(d.path());
            o.enabled_hypervisors = vec!["kvm".into()];
            o.hvparams.insert("kvm".into(), given);
            let e = build_config(&o, &p).unwrap_err();
            assert_eq!(e.to_string(), msg);
            assert_eq!(e.to_ganeti().class_name(), "HypervisorError");
        }
        // kvm parameters are checked even when kvm is not enabled, as Ganeti does
        let mut o = opts(d.path());
        o.hvparams
            .insert("kvm".into(), json!({"nic_type": "virtio"}));
        assert!(build_config(&o, &p)
            .unwrap_err()
            .to_string()
            .starts_with("Parameter 'nic_type' fails syntax check"));
    }
}
