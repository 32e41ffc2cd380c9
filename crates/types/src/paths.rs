//! Every file the cluster touches, derived from one root.
//!
//! Ganeti hard-codes the FHS layout (`/var/lib/ganeti`, `/etc/ganeti`,
//! `/var/run/ganeti`, `/var/log/ganeti`, `/srv/ganeti`). We keep exactly those
//! relative paths but hang them below a configurable root, so a whole cluster
//! can live in a temporary directory (tests, the embedded default) while `/`
//! gives the layout operators know.

use std::path::{Path, PathBuf};

/// The file-system layout of one node, relative to `root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    root: PathBuf,
}

impl Paths {
    /// Layout below `root` (`/` for the standard layout).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Paths { root: root.into() }
    }

    /// The root every path hangs from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn under(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// `/var/lib/ganeti`: config, crypto, queue.
    pub fn data_dir(&self) -> PathBuf {
        self.under("var/lib/ganeti")
    }
    /// `/etc/ganeti`: operator-provided settings and hooks.
    pub fn conf_dir(&self) -> PathBuf {
        self.under("etc/ganeti")
    }
    /// `/var/run/ganeti`: sockets, pid files, runtime state.
    pub fn run_dir(&self) -> PathBuf {
        self.under("var/run/ganeti")
    }
    /// `/var/log/ganeti`.
    pub fn log_dir(&self) -> PathBuf {
        self.under("var/log/ganeti")
    }
    /// The Ganeti-compatible export of the configuration.
    pub fn config_data(&self) -> PathBuf {
        self.data_dir().join("config.data")
    }
    /// The durable store (log + snapshots) holding config and job queue.
    pub fn store_dir(&self) -> PathBuf {
        self.data_dir().join("store")
    }
    /// Directory of the job queue files (`job-N`) exported for operators.
    pub fn queue_dir(&self) -> PathBuf {
        self.data_dir().join("queue")
    }
    /// Drain flag file, as Ganeti's `queue/drain`.
    pub fn queue_drain_file(&self) -> PathBuf {
        self.queue_dir().join("drain")
    }
    /// Cluster (node daemon) certificate and key.
    pub fn server_pem(&self) -> PathBuf {
        self.data_dir().join("server.pem")
    }
    /// RAPI certificate and key.
    pub fn rapi_pem(&self) -> PathBuf {
        self.data_dir().join("rapi.pem")
    }
    /// SPICE certificate and key.
    pub fn spice_pem(&self) -> PathBuf {
        self.data_dir().join("spice.pem")
    }
    /// SPICE CA certificate.
    pub fn spice_ca_pem(&self) -> PathBuf {
        self.data_dir().join("spice-ca.pem")
    }
    /// Node client certificate.
    pub fn client_pem(&self) -> PathBuf {
        self.data_dir().join("client.pem")
    }
    /// confd HMAC key.
    pub fn hmac_key(&self) -> PathBuf {
        self.data_dir().join("hmac.key")
    }
    /// Cluster domain secret.
    pub fn cluster_domain_secret(&self) -> PathBuf {
        self.data_dir().join("cluster-domain-secret")
    }
    /// RAPI users file.
    pub fn rapi_users(&self) -> PathBuf {
        self.data_dir().join("rapi").join("users")
    }
    /// `ssconf_<key>` files.
    pub fn ssconf(&self, key: &str) -> PathBuf {
        self.data_dir().join(format!("ssconf_{key}"))
    }
    /// The master's LUXI socket.
    pub fn master_socket(&self) -> PathBuf {
        self.run_dir().join("socket").join("ganeti-master")
    }
    /// Pid file of a daemon.
    pub fn pid_file(&self, daemon: &str) -> PathBuf {
        self.run_dir().join(format!("{daemon}.pid"))
    }
    /// Log file of a daemon.
    pub fn daemon_log(&self, daemon: &str) -> PathBuf {
        self.log_dir().join(format!("{daemon}.log"))
    }
    /// Runtime state of the fake hypervisor.
    pub fn fake_hv_dir(&self) -> PathBuf {
        self.run_dir().join("fake-hypervisor")
    }
    /// Runtime state of the kvm hypervisor (Ganeti's layout below it:
    /// `pid/`, `uid/`, `ctrl/`, `conf/`, `nic/`, `instances/`, ...).
    pub fn kvm_run_dir(&self) -> PathBuf {
        self.run_dir().join("kvm-hypervisor")
    }
    /// Per-instance QEMU logs (Ganeti's `LOG_KVM_DIR`).
    pub fn kvm_log_dir(&self) -> PathBuf {
        self.log_dir().join("kvm")
    }
    /// Hooks base directory.
    pub fn hooks_dir(&self) -> PathBuf {
        self.conf_dir().join("hooks")
    }
    /// The list of allowed file storage paths.
    pub fn file_storage_paths(&self) -> PathBuf {
        self.conf_dir().join("file-storage-paths")
    }
    /// Default file storage directory.
    pub fn default_file_storage_dir(&self) -> PathBuf {
        self.under("srv/ganeti/file-storage")
    }
    /// Default shared file storage directory.
    pub fn default_shared_file_storage_dir(&self) -> PathBuf {
        self.under("srv/ganeti/shared-file-storage")
    }
    /// Default gluster mount point.
    pub fn default_gluster_storage_dir(&self) -> PathBuf {
        self.run_dir().join("gluster")
    }
    /// The OS search path, in Ganeti's order.
    pub fn os_search_path(&self) -> Vec<PathBuf> {
        [
            "srv/ganeti/os",
            "usr/local/lib/ganeti/os",
            "usr/lib/ganeti/os",
            "usr/share/ganeti/os",
        ]
        .iter()
        .map(|p| self.under(p))
        .collect()
    }
    /// The ExtStorage search path, in Ganeti's order.
    pub fn es_search_path(&self) -> Vec<PathBuf> {
        [
            "srv/ganeti/extstorage",
            "usr/local/lib/ganeti/extstorage",
            "usr/lib/ganeti/extstorage",
            "usr/share/ganeti/extstorage",
        ]
        .iter()
        .map(|p| self.under(p))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_layout_at_slash() {
        let p = Paths::new("/");
        assert_eq!(
            p.config_data(),
            PathBuf::from("/var/lib/ganeti/config.data")
        );
        assert_eq!(
            p.master_socket(),
            PathBuf::from("/var/run/ganeti/socket/ganeti-master")
        );
        assert_eq!(p.rapi_users(), PathBuf::from("/var/lib/ganeti/rapi/users"));
        assert_eq!(p.os_search_path()[0], PathBuf::from("/srv/ganeti/os"));
    }

    #[test]
    fn relocated_layout_stays_below_root() {
        let p = Paths::new("/tmp/x");
        for path in [
            p.config_data(),
            p.server_pem(),
            p.master_socket(),
            p.default_file_storage_dir(),
        ] {
            assert!(path.starts_with("/tmp/x"), "{path:?}");
        }
    }
}
