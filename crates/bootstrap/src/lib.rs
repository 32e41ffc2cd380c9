//! Bringing a cluster into existence and out of it: Ganeti's
//! `InitCluster`/`GenerateClusterCrypto`/`InitConfig` and
//! `FinalizeClusterDestroy`, plus starting and stopping the daemon.
//!
//! `init` validates everything before it writes anything, and removes what
//! it wrote if a later step (crypto, store, daemon start) fails, so a failed
//! init never leaves a half-cluster that blocks the next attempt.

mod daemon;
mod init;

pub use daemon::{daemon_binary, start_daemon, stop_daemon, wait_for_master, DaemonError};
pub use init::{destroy_cluster, init_cluster, renew_crypto, InitOptions};

/// Errors of bootstrap operations; the message is what the operator sees.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A prerequisite is not met (Ganeti's OpPrereqError).
    #[error("{msg}")]
    Prereq {
        msg: String,
        class: ganeti_types::ErrorClass,
    },
    /// A parameter is malformed.
    #[error("{0}")]
    Parameter(String),
    /// Hypervisor parameters failed the hypervisor's syntax check
    /// (Ganeti's HypervisorError).
    #[error("{0}")]
    Hypervisor(String),
    /// Something failed while acting; what was written has been removed.
    #[error("{0}")]
    Exec(String),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
}

impl BootstrapError {
    fn prereq(msg: impl Into<String>, class: ganeti_types::ErrorClass) -> Self {
        BootstrapError::Prereq {
            msg: msg.into(),
            class,
        }
    }

    /// The equivalent Ganeti error, for uniform CLI reporting.
    pub fn to_ganeti(&self) -> ganeti_types::GanetiError {
        match self {
            BootstrapError::Prereq { msg, class } => {
                ganeti_types::GanetiError::OpPrereq(msg.clone(), *class)
            }
            BootstrapError::Parameter(m) => ganeti_types::GanetiError::Parameter(m.clone()),
            BootstrapError::Hypervisor(m) => ganeti_types::GanetiError::Hypervisor(m.clone()),
            BootstrapError::Exec(m) => ganeti_types::GanetiError::OpExec(m.clone()),
            BootstrapError::Daemon(e) => ganeti_types::GanetiError::OpExec(e.to_string()),
        }
    }
}
