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

/// What `gnt-cluster init` was told (after Ganeti's client-side checks):
/// what the bootstrap library uses, as given (so the library applies this
/// release's defaults), and the options it has no use for yet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InitOptions {
    /// Everything the bootstrap library takes; its `root` is filled in
    /// when the cluster is initialised.
    pub cluster: ganeti_bootstrap::InitOptions,
    /// `--uid-pool` as given.
    pub uid_pool: Option<String>,
    /// `--default-iallocator-params`.
    pub default_iallocator_params: Dict,
    /// `--primary-ip-version` (4 or 6).
    pub primary_ip_version: u32,
    /// `--hypervisor-state`.
    pub hv_state: Dict,
    /// `--disk-state`.
    pub disk_state: Dict,
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
    pub fn to_bootstrap(&self, root: PathBuf) -> ganeti_bootstrap::InitOptions {
        ganeti_bootstrap::InitOptions {
            root,
            ..self.cluster.clone()
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
            cluster: ganeti_bootstrap::InitOptions {
                cluster_name: "c.example.com".into(),
                master_ip: Some("127.0.0.1".into()),
                enabled_hypervisors: vec!["fake".into()],
                ..Default::default()
            },
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
