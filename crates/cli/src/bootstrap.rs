//! The boundary to `ganeti-bootstrap`: cluster initialisation,
//! destruction and crypto renewal, which run locally rather than as jobs.
//!
//! Why a boundary: `gnt-cluster init`, `destroy` and `renew-crypto` are the
//! only commands that act on the node directly (there is no master yet, or
//! its files are replaced). The CLI parses and validates their options into
//! the plain structs here — only what the user gave, so the bootstrap
//! library applies this release's defaults — and the functions at the
//! bottom translate them for the library. Tests exercise the parsing
//! without touching the file system.

use std::path::PathBuf;

use ganeti_types::{Dict, Paths};

use crate::errors::{CliError, GanetiErr};

/// What `gnt-cluster init` was told (after Ganeti's client-side checks).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InitOptions {
    /// The cluster name (positional argument).
    pub cluster_name: String,
    /// `--master-ip` (ours): the master IP when the name does not resolve.
    pub master_ip: Option<String>,
    /// `-s`: the node's secondary IP.
    pub secondary_ip: Option<String>,
    /// `--vg-name` (or Ganeti's default VG when an LVM template is enabled).
    pub vg_name: Option<String>,
    /// `-m`.
    pub mac_prefix: Option<String>,
    /// `--master-netmask`.
    pub master_netmask: Option<u32>,
    /// `--master-netdev` (`switch1` for an openvswitch NIC mode).
    pub master_netdev: Option<String>,
    /// `--file-storage-dir`.
    pub file_storage_dir: Option<String>,
    /// `--shared-file-storage-dir`.
    pub shared_file_storage_dir: Option<String>,
    /// `--gluster-storage-dir`.
    pub gluster_storage_dir: Option<String>,
    /// `--enabled-hypervisors` (empty: the release default).
    pub enabled_hypervisors: Vec<String>,
    /// `-H hv:k=v`: per-hypervisor parameters (typed).
    pub hvparams: Dict,
    /// `-B` (typed).
    pub beparams: Dict,
    /// `-N` (typed).
    pub nicparams: Dict,
    /// `--node-parameters` (typed).
    pub ndparams: Dict,
    /// `-D template:k=v` (typed).
    pub diskparams: Dict,
    /// The instance policy given by the `--ipolicy-*`/`--specs-*` options.
    pub ipolicy: Dict,
    /// `-C`.
    pub candidate_pool_size: Option<u32>,
    /// Not `--no-etc-hosts`.
    pub modify_etc_hosts: bool,
    /// Not `--no-ssh-init`.
    pub modify_ssh_setup: bool,
    /// `--maintain-node-health`.
    pub maintain_node_health: Option<bool>,
    /// `--drbd-usermode-helper` (or `/bin/true` when DRBD is enabled).
    pub drbd_helper: Option<String>,
    /// `--uid-pool` as given.
    pub uid_pool: Option<String>,
    /// `-I`.
    pub default_iallocator: Option<String>,
    /// `--default-iallocator-params`.
    pub default_iallocator_params: Dict,
    /// `--primary-ip-version` (4 or 6).
    pub primary_ip_version: u32,
    /// `--prealloc-wipe-disks`.
    pub prealloc_wipe_disks: Option<bool>,
    /// `--use-external-mip-script`.
    pub use_external_mip_script: Option<bool>,
    /// `--hypervisor-state`.
    pub hv_state: Dict,
    /// `--disk-state`.
    pub disk_state: Dict,
    /// `--enabled-disk-templates` (empty: the release default).
    pub enabled_disk_templates: Vec<String>,
    /// `--install-image`.
    pub install_image: Option<String>,
    /// `--zeroing-image`.
    pub zeroing_image: Option<String>,
    /// `--compression-tools` (`Some(defaults)` for an empty value).
    pub compression_tools: Option<Vec<String>>,
    /// `--user-shutdown`.
    pub enabled_user_shutdown: Option<bool>,
    /// `--ssh-key-type` (default `rsa`).
    pub ssh_key_type: String,
    /// `--ssh-key-bits` (default for the type).
    pub ssh_key_bits: u32,
}

/// What `gnt-cluster renew-crypto` should renew.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewCryptoOptions {
    /// `--new-cluster-certificate`.
    pub new_cluster_cert: bool,
    /// `--new-rapi-certificate`.
    pub new_rapi_cert: bool,
    /// `--rapi-certificate FILE`.
    pub rapi_cert_file: Option<PathBuf>,
    /// `--new-spice-certificate`.
    pub new_spice_cert: bool,
    /// `--spice-certificate FILE`.
    pub spice_cert_file: Option<PathBuf>,
    /// `--spice-ca-certificate FILE`.
    pub spice_cacert_file: Option<PathBuf>,
    /// `--new-confd-hmac-key`.
    pub new_confd_hmac_key: bool,
    /// `--new-cluster-domain-secret`.
    pub new_cluster_domain_secret: bool,
    /// `--cluster-domain-secret FILE`.
    pub cluster_domain_secret_file: Option<PathBuf>,
    /// `--new-node-certificates`.
    pub new_node_cert: bool,
    /// `--new-ssh-keys`.
    pub new_ssh_keys: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-d` given.
    pub debug: bool,
}

impl RenewCryptoOptions {
    /// Whether any file on this node has to be (re)written.
    pub fn touches_files(&self) -> bool {
        self.new_cluster_cert
            || self.new_rapi_cert
            || self.rapi_cert_file.is_some()
            || self.new_spice_cert
            || self.spice_cert_file.is_some()
            || self.new_confd_hmac_key
            || self.new_cluster_domain_secret
            || self.cluster_domain_secret_file.is_some()
            || self.new_node_cert
    }

    /// The crypto library's description of the work.
    pub fn to_spec(&self) -> ganeti_crypto::RenewSpec {
        ganeti_crypto::RenewSpec {
            cluster_cert: self.new_cluster_cert,
            client_cert: self.new_cluster_cert || self.new_node_cert,
            rapi_cert: self.new_rapi_cert,
            spice_cert: self.new_spice_cert,
            hmac_key: self.new_confd_hmac_key,
            cluster_domain_secret: self.new_cluster_domain_secret,
            rapi_cert_file: self.rapi_cert_file.clone(),
            spice_cert_file: self.spice_cert_file.clone(),
            spice_ca_file: self.spice_cacert_file.clone(),
            cds_file: self.cluster_domain_secret_file.clone(),
            ..ganeti_crypto::RenewSpec::default()
        }
    }
}

impl InitOptions {
    /// The bootstrap library's options for a cluster below `root`.
    ///
    /// Not carried over (the library has no use for them in this release):
    /// `uid_pool`, `default_iallocator_params`, `primary_ip_version`,
    /// `hv_state`, `disk_state`, `ssh_key_type`, `ssh_key_bits`.
    pub fn to_bootstrap(&self, root: PathBuf) -> ganeti_bootstrap::InitOptions {
        ganeti_bootstrap::InitOptions {
            root,
            cluster_name: self.cluster_name.clone(),
            master_ip: self.master_ip.clone(),
            node_name: None,
            enabled_hypervisors: self.enabled_hypervisors.clone(),
            enabled_disk_templates: self.enabled_disk_templates.clone(),
            file_storage_dir: self.file_storage_dir.clone(),
            shared_file_storage_dir: self.shared_file_storage_dir.clone(),
            gluster_storage_dir: self.gluster_storage_dir.clone(),
            hvparams: self.hvparams.clone(),
            beparams: self.beparams.clone(),
            nicparams: self.nicparams.clone(),
            ndparams: self.ndparams.clone(),
            diskparams: self.diskparams.clone(),
            ipolicy: self.ipolicy.clone(),
            mac_prefix: self.mac_prefix.clone(),
            master_netdev: self.master_netdev.clone(),
            master_netmask: self.master_netmask,
            candidate_pool_size: self.candidate_pool_size,
            default_iallocator: self.default_iallocator.clone(),
            vg_name: self.vg_name.clone(),
            maintain_node_health: self.maintain_node_health,
            prealloc_wipe_disks: self.prealloc_wipe_disks,
            use_external_mip_script: self.use_external_mip_script,
            modify_etc_hosts: self.modify_etc_hosts,
            modify_ssh_setup: self.modify_ssh_setup,
            secondary_ip: self.secondary_ip.clone(),
            drbd_helper: self.drbd_helper.clone(),
            enabled_user_shutdown: self.enabled_user_shutdown,
            compression_tools: self.compression_tools.clone(),
            install_image: self.install_image.clone(),
            zeroing_image: self.zeroing_image.clone(),
            start_timeout: None,
        }
    }
}

fn bootstrap_error(e: &ganeti_bootstrap::BootstrapError) -> CliError {
    CliError::Ganeti(GanetiErr::from(&e.to_ganeti()))
}

/// Initialise a cluster on this node below `paths` (and start its daemon).
pub fn init_cluster(paths: &Paths, options: &InitOptions) -> Result<(), CliError> {
    ganeti_bootstrap::init_cluster(&options.to_bootstrap(paths.root().to_path_buf()))
        .map_err(|e| bootstrap_error(&e))
}

/// Stop the daemon and remove the cluster's files from this node, after
/// `OP_CLUSTER_DESTROY` succeeded (`bootstrap.FinalizeClusterDestroy`).
pub fn finalize_destroy(paths: &Paths, _master_uuid: &str) -> Result<(), CliError> {
    ganeti_bootstrap::destroy_cluster(paths.root()).map_err(|e| bootstrap_error(&e))
}

/// Renew the cluster's certificates, keys and secrets on this node.
pub fn renew_crypto(paths: &Paths, options: &RenewCryptoOptions) -> Result<(), CliError> {
    ganeti_bootstrap::renew_crypto(paths.root(), &options.to_spec())
        .map(|_| ())
        .map_err(|e| bootstrap_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renew_spec_mapping() {
        let o = RenewCryptoOptions {
            new_node_cert: true,
            rapi_cert_file: Some("/x.pem".into()),
            ..Default::default()
        };
        assert!(o.touches_files());
        let s = o.to_spec();
        assert!(s.client_cert && !s.cluster_cert && !s.rapi_cert);
        assert_eq!(
            s.rapi_cert_file.as_deref(),
            Some(std::path::Path::new("/x.pem"))
        );
        assert!(!RenewCryptoOptions::default().touches_files());
        let s = RenewCryptoOptions {
            new_cluster_cert: true,
            ..Default::default()
        }
        .to_spec();
        assert!(s.cluster_cert && s.client_cert);
    }

    #[test]
    fn init_options_mapping() {
        let o = InitOptions {
            cluster_name: "c.example.com".into(),
            master_ip: Some("127.0.0.1".into()),
            enabled_hypervisors: vec!["fake".into()],
            ..Default::default()
        };
        let b = o.to_bootstrap("/tmp/r".into());
        assert_eq!(b.root, PathBuf::from("/tmp/r"));
        assert_eq!(b.cluster_name, "c.example.com");
        assert_eq!(b.master_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(b.enabled_hypervisors, vec!["fake"]);
        assert!(b.mac_prefix.is_none());
    }
}
