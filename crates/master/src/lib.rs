//! The master: the one place where cluster state changes.
//!
//! Every change arrives as an opcode inside a job ([`jobs`]), is checked
//! and executed by the logic in [`cmdlib`], and is made durable through the
//! store's state machine ([`state`]) before anyone is told it happened.
//! Transports (LUXI today, RAPI next) only translate requests into
//! [`Master`] calls.

pub mod cmdlib;
pub mod export;
pub mod filters;
pub mod hooks;
pub mod jobs;
pub mod luxi;
mod luxi_args;
pub mod querying;
pub mod state;

/// Parameter validation shared with cluster bootstrap, so `init` and
/// `gnt-cluster modify` accept and refuse exactly the same values.
pub mod validate {
    pub use crate::cmdlib::cluster::checks::{
        check_diskparams, check_ipolicy_syntax, normalize_mac_prefix,
    };
}

use std::collections::HashMap;
use std::sync::Arc;

use ganeti_node::NodeApi;
use ganeti_store::{Store, StoreError};
use ganeti_types::{ConfigData, GanetiError, Paths};
use parking_lot::Mutex;

pub use jobs::locks::LockManager;
pub use state::{Applied, Command, ConfigOp, FilterRuleChange, MasterState};

/// Errors starting the master.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    #[error("cannot open the cluster state in {dir}: {source}")]
    Store {
        dir: String,
        #[source]
        source: StoreError,
    },
    #[error("this node is not part of a cluster (no configuration in {0})")]
    NotInitialised(String),
    #[error("{0}")]
    Export(String),
}

/// The master's shared state.
#[derive(Debug)]
pub struct Master {
    pub paths: Paths,
    pub store: Store<MasterState>,
    pub node: Arc<dyn NodeApi>,
    pub locks: LockManager,
    pub(crate) active: Mutex<HashMap<u64, Arc<jobs::JobCtl>>>,
    pub(crate) wake_scheduler: tokio::sync::Notify,
    /// Serial of the configuration last exported, and the exporter.
    exported: Mutex<(u64, export::Exporter)>,
    /// Secret OS parameters (`osparams_secret`, also those of the
    /// instances of a multi-allocation) of queued opcodes, by job id and
    /// opcode index. Only here, in memory: the stored job has them
    /// redacted, as Ganeti keeps them out of its job files, so a master
    /// restart loses them and such a job then runs without them
    /// (`jobs::secrets`).
    pub(crate) secrets: Mutex<HashMap<(u64, usize), jobs::OpSecrets>>,
}

impl Master {
    /// Open the state of an initialised cluster.
    pub fn open(paths: Paths, node: Arc<dyn NodeApi>) -> Result<Arc<Self>, MasterError> {
        let dir = paths.store_dir();
        let store =
            Store::open(&dir, MasterState::default).map_err(|source| MasterError::Store {
                dir: dir.display().to_string(),
                source,
            })?;
        if store.read(|s| s.config.is_none()) {
            return Err(MasterError::NotInitialised(dir.display().to_string()));
        }
        Ok(Arc::new(Master {
            paths,
            store,
            node,
            locks: LockManager::new(),
            active: Mutex::new(HashMap::new()),
            wake_scheduler: tokio::sync::Notify::new(),
            exported: Mutex::new((0, export::Exporter::default())),
            secrets: Mutex::new(HashMap::new()),
        }))
    }

    /// A copy of the current configuration.
    pub fn config(&self) -> Result<ConfigData, GanetiError> {
        self.with_config(Clone::clone)
    }

    /// Run `f` against the current configuration without copying it.
    pub fn with_config<R>(&self, f: impl FnOnce(&ConfigData) -> R) -> Result<R, GanetiError> {
        self.store
            .read(|s| s.config.as_ref().map(f))
            .ok_or_else(|| GanetiError::Config("The cluster is not initialised".into()))
    }

    /// Apply config changes durably; a stale or refused change is an error.
    pub fn commit(&self, ops: Vec<ConfigOp>) -> Result<(), GanetiError> {
        match self.store.propose_blocking(Command::Config(ops)) {
            Ok(Applied::Ok) => {
                self.export_now();
                Ok(())
            }
            Ok(Applied::Refused(m)) => Err(GanetiError::Config(m)),
            Ok(other) => Err(GanetiError::Config(format!(
                "unexpected store answer {other:?}"
            ))),
            Err(e) => Err(GanetiError::OpExec(format!(
                "Cannot write the configuration: {e}"
            ))),
        }
    }
}

impl Master {
    /// Rewrite `config.data` and ssconf if the configuration changed since
    /// the last export. Serialised, so concurrent commits never interleave.
    pub fn export_now(&self) {
        let mut guard = self.exported.lock();
        let (last, exporter) = &mut *guard;
        let Ok(cfg) = self.config() else { return };
        if cfg.serial_no == *last {
            return;
        }
        match exporter.export(&self.paths, &cfg) {
            Ok(()) => *last = cfg.serial_no,
            Err(e) => tracing::error!("cannot export the configuration: {e}"),
        }
    }

    /// Number of jobs a worker is handling right now.
    pub fn running_jobs(&self) -> usize {
        self.active.lock().len()
    }
}
