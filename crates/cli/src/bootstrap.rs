//! The boundary to `ganeti-bootstrap`: cluster initialisation,
//! destruction and crypto renewal, which run locally rather than as jobs.
//!
//! Why a boundary: `gnt-cluster init`, `destroy` and `renew-crypto` are the
//! only commands that act on the node directly (there is no master yet, or
//! the master must be stopped). The CLI parses and validates their options
//! into plain structs defined here; the functions at the bottom hand them
//! to the bootstrap library. Keeping the structs ours lets the CLI be
//! built and tested independently of that library.

use std::path::PathBuf;

use ganeti_types::Paths;
use serde_json::{Map, Value};

use crate::errors::CliError;

/// Everything `gnt-cluster init` was told, with the client-side defaults
/// of Ganeti's `InitCluster` applied.
#[derive(Debug, Clone, PartialEq)]
pub struct InitOptions {
    /// The cluster name (positional argument).
    pub cluster_name: String,
    /// `--master-ip` (ours): the master IP when the name does not resolve.
    pub master_ip: Option<String>,
    /// `-s`: the node's secondary IP.
    pub secondary_ip: Option<String>,
    /// `--vg-name` (only when an LVM template is enabled).
    pub vg_name: Option<String>,
    /// `-m` (default `aa:00:00`).
    pub mac_prefix: String,
    /// `--master-netmask`.
    pub master_netmask: Option<u32>,
    /// `--master-netdev` (default: the default bridge).
    pub master_netdev: String,
    /// `--file-storage-dir`.
    pub file_storage_dir: Option<String>,
    /// `--shared-file-storage-dir`.
    pub shared_file_storage_dir: Option<String>,
    /// `--gluster-storage-dir`.
    pub gluster_storage_dir: Option<String>,
    /// `--enabled-hypervisors` (default `kvm`, as Ganeti; first = default).
    pub enabled_hypervisors: Vec<String>,
    /// `-H hv:k=v`: per-hypervisor parameters (typed, only what was given).
    pub hvparams: Map<String, Value>,
    /// `-B` (typed, only what was given).
    pub beparams: Map<String, Value>,
    /// `-N` (typed, only what was given).
    pub nicparams: Map<String, Value>,
    /// `--node-parameters` (typed, only what was given).
    pub ndparams: Map<String, Value>,
    /// `-D template:k=v` (typed, only what was given).
    pub diskparams: Map<String, Value>,
    /// The instance policy, filled with Ganeti's defaults.
    pub ipolicy: Map<String, Value>,
    /// `-C` (default 10).
    pub candidate_pool_size: u32,
    /// Not `--no-etc-hosts`.
    pub modify_etc_hosts: bool,
    /// Not `--no-ssh-init`.
    pub modify_ssh_setup: bool,
    /// `--maintain-node-health`.
    pub maintain_node_health: Option<bool>,
    /// `--drbd-usermode-helper` (only when DRBD is enabled).
    pub drbd_helper: Option<String>,
    /// `--uid-pool` as given.
    pub uid_pool: Option<String>,
    /// `-I`.
    pub default_iallocator: Option<String>,
    /// `--default-iallocator-params`.
    pub default_iallocator_params: Map<String, Value>,
    /// `--primary-ip-version` (4 or 6).
    pub primary_ip_version: u32,
    /// `--prealloc-wipe-disks` (default false).
    pub prealloc_wipe_disks: bool,
    /// `--use-external-mip-script` (default false).
    pub use_external_mip_script: bool,
    /// `--hypervisor-state`.
    pub hv_state: Map<String, Value>,
    /// `--disk-state`.
    pub disk_state: Map<String, Value>,
    /// `--enabled-disk-templates` (default: Ganeti's defaults).
    pub enabled_disk_templates: Vec<String>,
    /// `--install-image` (default empty).
    pub install_image: String,
    /// `--zeroing-image` (default empty).
    pub zeroing_image: String,
    /// `--compression-tools` (default: gzip, gzip-fast, gzip-slow).
    pub compression_tools: Vec<String>,
    /// `--user-shutdown`.
    pub enabled_user_shutdown: bool,
    /// `--ssh-key-type` (default `rsa`).
    pub ssh_key_type: String,
    /// `--ssh-key-bits` (default 2048 for RSA).
    pub ssh_key_bits: u32,
}

/// What `gnt-cluster renew-crypto` should renew.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewCryptoOptions {
    /// `--new-cluster-certificate`.
    pub new_cluster_cert: bool,
    /// `--new-rapi-certificate`.
    pub new_rapi_cert: bool,
    /// `--rapi-certificate FILE`: its PEM content.
    pub rapi_cert_pem: Option<String>,
    /// `--new-spice-certificate`.
    pub new_spice_cert: bool,
    /// `--spice-certificate FILE`: its PEM content.
    pub spice_cert_pem: Option<String>,
    /// `--spice-ca-certificate FILE`: its PEM content.
    pub spice_cacert_pem: Option<String>,
    /// `--new-confd-hmac-key`.
    pub new_confd_hmac_key: bool,
    /// `--new-cluster-domain-secret`.
    pub new_cluster_domain_secret: bool,
    /// `--cluster-domain-secret FILE`: its content.
    pub cluster_domain_secret: Option<String>,
    /// `--new-node-certificates`.
    pub new_node_cert: bool,
    /// `--new-ssh-keys`.
    pub new_ssh_keys: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-d` given.
    pub debug: bool,
}

fn exec_err(e: ganeti_bootstrap::BootstrapError) -> CliError {
    let g = e.to_ganeti();
    CliError::Ganeti(
        crate::errors::GanetiErr::decode(&g.encode())
            .unwrap_or_else(|| crate::errors::GanetiErr::exec(g.message())),
    )
}

/// Initialise a cluster on this node below `paths`.
pub fn init_cluster(paths: &Paths, options: &InitOptions) -> Result<(), CliError> {
    let o = options;
    let lib = ganeti_bootstrap::InitOptions {
        root: paths.root().to_path_buf(),
        cluster_name: o.cluster_name.clone(),
        master_ip: o.master_ip.clone(),
        node_name: std::env::var("GANETI_NODE_NAME").ok(),
        enabled_hypervisors: o.enabled_hypervisors.clone(),
        enabled_disk_templates: o.enabled_disk_templates.clone(),
        file_storage_dir: o.file_storage_dir.clone(),
        shared_file_storage_dir: o.shared_file_storage_dir.clone(),
        gluster_storage_dir: o.gluster_storage_dir.clone(),
        hvparams: o.hvparams.clone(),
        beparams: o.beparams.clone(),
        nicparams: o.nicparams.clone(),
        ndparams: o.ndparams.clone(),
        diskparams: o.diskparams.clone(),
        ipolicy: o.ipolicy.clone(),
        mac_prefix: Some(o.mac_prefix.clone()),
        master_netdev: Some(o.master_netdev.clone()).filter(|s| !s.is_empty()),
        master_netmask: o.master_netmask,
        candidate_pool_size: Some(o.candidate_pool_size),
        default_iallocator: o.default_iallocator.clone(),
        vg_name: o.vg_name.clone(),
        maintain_node_health: o.maintain_node_health,
        prealloc_wipe_disks: Some(o.prealloc_wipe_disks),
        use_external_mip_script: Some(o.use_external_mip_script),
        modify_etc_hosts: o.modify_etc_hosts,
        modify_ssh_setup: o.modify_ssh_setup,
        secondary_ip: o.secondary_ip.clone(),
        drbd_helper: o.drbd_helper.clone(),
        enabled_user_shutdown: Some(o.enabled_user_shutdown),
        compression_tools: Some(o.compression_tools.clone()).filter(|v| !v.is_empty()),
        install_image: Some(o.install_image.clone()).filter(|s| !s.is_empty()),
        zeroing_image: Some(o.zeroing_image.clone()).filter(|s| !s.is_empty()),
        start_timeout: None,
    };
    ganeti_bootstrap::init_cluster(&lib).map_err(exec_err)
}

/// Remove the cluster's files from this node after `OP_CLUSTER_DESTROY`
/// succeeded (`bootstrap.FinalizeClusterDestroy`).
pub fn finalize_destroy(paths: &Paths, master_uuid: &str) -> Result<(), CliError> {
    let _ = master_uuid;
    ganeti_bootstrap::destroy_cluster(paths.root()).map_err(exec_err)
}

/// Renew the cluster's certificates, keys and secrets on this node.
pub fn renew_crypto(paths: &Paths, options: &RenewCryptoOptions) -> Result<(), CliError> {
    // Operator-supplied contents go through owner-only temporary files so
    // the crypto library validates them before anything is replaced.
    let tmp_dir = paths.data_dir();
    let mut temps: Vec<PathBuf> = Vec::new();
    let mut stash = |name: &str, content: &Option<String>| -> Result<Option<PathBuf>, CliError> {
        let Some(c) = content else { return Ok(None) };
        let p = tmp_dir.join(format!(".renew-{name}.{}", std::process::id()));
        ganeti_crypto::write_secret_file(&p, c.as_bytes()).map_err(|e| {
            CliError::Ganeti(crate::errors::GanetiErr::new("OpExecError", e.to_string()))
        })?;
        temps.push(p.clone());
        Ok(Some(p))
    };
    let spec = ganeti_crypto::RenewSpec {
        cluster_cert: options.new_cluster_cert,
        client_cert: options.new_node_cert,
        rapi_cert: options.new_rapi_cert,
        spice_cert: options.new_spice_cert,
        hmac_key: options.new_confd_hmac_key,
        cluster_domain_secret: options.new_cluster_domain_secret,
        rapi_cert_file: stash("rapi", &options.rapi_cert_pem)?,
        spice_cert_file: stash("spice", &options.spice_cert_pem)?,
        spice_ca_file: stash("spice-ca", &options.spice_cacert_pem)?,
        cds_file: stash("cds", &options.cluster_domain_secret)?,
        ..ganeti_crypto::RenewSpec::default()
    };
    let res = ganeti_bootstrap::renew_crypto(paths.root(), &spec).map(|_| ()).map_err(exec_err);
    for t in temps {
        let _ = std::fs::remove_file(t);
    }
    res
}

/// The default file storage directory below `paths` (for messages).
pub fn default_file_storage_dir(paths: &Paths) -> PathBuf {
    paths.default_file_storage_dir()
}
