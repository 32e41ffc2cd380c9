//! The master's replicated state machine: the configuration document and
//! the job queue, changed only by [`Command`]s.
//!
//! Commands carry deltas (one object put or deleted), never the whole
//! config, so that the same commands can later be Raft log entries. Each
//! config command names the object serial it was computed from; `apply`
//! refuses a stale writer deterministically, which is the config's
//! optimistic concurrency check. `serial_no` of the document counts applied
//! config changes.

use std::collections::BTreeMap;

use ganeti_store::{BoxError, StateMachine};
use ganeti_types::{now_f64, Cluster, ConfigData, Disk, Instance, Job, Network, Node, NodeGroup};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One object-level change to the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ConfigOp {
    /// Create or replace; when replacing, `serial_no` must be exactly one
    /// more than the stored object's (the writer bumped what it read).
    PutCluster(Box<Cluster>),
    PutNode(Box<Node>),
    PutGroup(Box<NodeGroup>),
    DelGroup(String),
    PutInstance(Box<Instance>),
    DelInstance(String),
    PutDisk(Box<Disk>),
    DelDisk(String),
    PutNetwork(Box<Network>),
    DelNetwork(String),
}

/// A state machine command.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Command {
    /// Install the initial configuration (cluster init).
    Init(Box<ConfigData>),
    /// Apply config changes atomically (all or none).
    Config(Vec<ConfigOp>),
    /// Add jobs; ids are assigned by apply, in order.
    SubmitJobs(Vec<Job>),
    /// Replace a job's record (status, results, log).
    PutJob(Box<Job>),
    /// Archive jobs (they leave the live queue).
    ArchiveJobs(Vec<u64>),
    /// Set the queue drain flag.
    SetDrain(bool),
    /// Pause the watcher until the given time (or clear it).
    SetWatcherPause(Option<f64>),
    /// Create or replace a job filter rule; its watermark is the highest
    /// job id at the moment the command is applied.
    ReplaceFilter(Box<FilterRuleChange>),
    /// Remove a job filter rule (refused when it does not exist).
    DeleteFilter(String),
}

/// A job filter rule as proposed: already validated and in Ganeti's
/// canonical form; `apply` adds the watermark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterRuleChange {
    pub uuid: String,
    pub priority: u64,
    /// `[[kind, expression], ...]`.
    pub predicates: Value,
    /// `"ACCEPT"`, ... or `["RATE_LIMIT", n]`.
    pub action: Value,
    /// `[[source, reason, ns], ...]`.
    pub reason_trail: Value,
}

/// Result of applying a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Applied {
    Ok,
    /// Assigned job ids of a `SubmitJobs`.
    JobIds(Vec<u64>),
    /// The command was refused; nothing changed.
    Refused(String),
}

/// The whole master state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MasterState {
    pub config: Option<ConfigData>,
    pub jobs: BTreeMap<u64, Job>,
    /// Archived jobs, kept for `gnt-job info` of old ids (bounded).
    pub archived: BTreeMap<u64, Job>,
    pub next_job_id: u64,
    pub drained: bool,
    #[serde(default)]
    pub watcher_pause: Option<f64>,
}

/// How many archived jobs we keep.
const ARCHIVE_KEEP: usize = 10_000;

fn check_serial(old: Option<u64>, new: u64, what: &str, name: &str) -> Result<(), String> {
    match old {
        Some(o) if o + 1 != new => Err(format!(
            "Configuration changed concurrently: {what} '{name}' has serial {o}, the update was computed from serial {}",
            new.saturating_sub(1)
        )),
        _ => Ok(()),
    }
}

impl ConfigOp {
    /// Apply this change to a configuration (no checks: the state machine
    /// checks serials first).
    pub fn apply_to(&self, cfg: &mut ConfigData) {
        match self {
            ConfigOp::PutCluster(c) => cfg.cluster = (**c).clone(),
            ConfigOp::PutNode(n) => {
                cfg.nodes.insert(n.uuid.clone(), (**n).clone());
            }
            ConfigOp::PutGroup(g) => {
                cfg.nodegroups.insert(g.uuid.clone(), (**g).clone());
            }
            ConfigOp::DelGroup(u) => {
                cfg.nodegroups.remove(u);
            }
            ConfigOp::PutInstance(i) => {
                cfg.instances.insert(i.uuid.clone(), (**i).clone());
            }
            ConfigOp::DelInstance(u) => {
                cfg.instances.remove(u);
            }
            ConfigOp::PutDisk(d) => {
                cfg.disks.insert(d.uuid.clone(), (**d).clone());
            }
            ConfigOp::DelDisk(u) => {
                cfg.disks.remove(u);
            }
            ConfigOp::PutNetwork(n) => {
                cfg.networks.insert(n.uuid.clone(), (**n).clone());
            }
            ConfigOp::DelNetwork(u) => {
                cfg.networks.remove(u);
            }
        }
    }
}

impl MasterState {
    fn apply_config(&mut self, ops: &[ConfigOp]) -> Result<(), String> {
        let cfg = self
            .config
            .as_mut()
            .ok_or_else(|| "The cluster is not initialised".to_string())?;
        // Validate every op against the current state before changing anything.
        for op in ops {
            match op {
                ConfigOp::PutCluster(c) => check_serial(
                    Some(cfg.cluster.serial_no),
                    c.serial_no,
                    "cluster",
                    &c.cluster_name,
                )?,
                ConfigOp::PutNode(n) => check_serial(
                    cfg.nodes.get(&n.uuid).map(|o| o.serial_no),
                    n.serial_no,
                    "node",
                    &n.name,
                )?,
                ConfigOp::PutGroup(g) => check_serial(
                    cfg.nodegroups.get(&g.uuid).map(|o| o.serial_no),
                    g.serial_no,
                    "node group",
                    &g.name,
                )?,
                ConfigOp::PutInstance(i) => check_serial(
                    cfg.instances.get(&i.uuid).map(|o| o.serial_no),
                    i.serial_no,
                    "instance",
                    &i.name,
                )?,
                ConfigOp::PutDisk(d) => check_serial(
                    cfg.disks.get(&d.uuid).map(|o| o.serial_no),
                    d.serial_no,
                    "disk",
                    &d.uuid,
                )?,
                ConfigOp::PutNetwork(n) => check_serial(
                    cfg.networks.get(&n.uuid).map(|o| o.serial_no),
                    n.serial_no,
                    "network",
                    &n.name,
                )?,
                ConfigOp::DelGroup(_)
                | ConfigOp::DelInstance(_)
                | ConfigOp::DelDisk(_)
                | ConfigOp::DelNetwork(_) => {}
            }
        }
        for op in ops {
            op.apply_to(cfg);
        }
        cfg.serial_no += 1;
        cfg.mtime = now_f64();
        Ok(())
    }
}

impl MasterState {
    /// The highest job id ever assigned (0 before the first job).
    pub fn highest_job_id(&self) -> u64 {
        self.next_job_id.saturating_sub(1)
    }

    fn replace_filter(&mut self, change: &FilterRuleChange) -> Result<(), String> {
        let watermark = self.highest_job_id();
        let cfg = self
            .config
            .as_mut()
            .ok_or_else(|| "The cluster is not initialised".to_string())?;
        // Ganeti's key order, so config.data and queries read the same
        let mut rule = Map::new();
        rule.insert("watermark".into(), Value::from(watermark));
        rule.insert("priority".into(), Value::from(change.priority));
        rule.insert("predicates".into(), change.predicates.clone());
        rule.insert("action".into(), change.action.clone());
        rule.insert("reason_trail".into(), change.reason_trail.clone());
        rule.insert("uuid".into(), Value::String(change.uuid.clone()));
        cfg.filters.insert(change.uuid.clone(), Value::Object(rule));
        cfg.serial_no += 1;
        cfg.mtime = now_f64();
        Ok(())
    }

    fn delete_filter(&mut self, uuid: &str) -> Result<(), String> {
        let cfg = self
            .config
            .as_mut()
            .ok_or_else(|| "The cluster is not initialised".to_string())?;
        if cfg.filters.remove(uuid).is_none() {
            return Err(format!("Filter rule with UUID {uuid} does not exist"));
        }
        cfg.serial_no += 1;
        cfg.mtime = now_f64();
        Ok(())
    }
}

impl StateMachine for MasterState {
    type Command = Command;
    type Output = Applied;

    fn apply(&mut self, _index: u64, cmd: &Command) -> Applied {
        match cmd {
            Command::Init(cfg) => {
                if self.config.is_some() {
                    return Applied::Refused("Cluster is already initialised".into());
                }
                self.config = Some((**cfg).clone());
                if self.next_job_id == 0 {
                    self.next_job_id = 1;
                }
                Applied::Ok
            }
            Command::Config(ops) => match self.apply_config(ops) {
                Ok(()) => Applied::Ok,
                Err(e) => Applied::Refused(e),
            },
            Command::SubmitJobs(jobs) => {
                if self.next_job_id == 0 {
                    self.next_job_id = 1;
                }
                let mut ids = Vec::with_capacity(jobs.len());
                for j in jobs {
                    let mut j = j.clone();
                    j.id = self.next_job_id;
                    self.next_job_id += 1;
                    ids.push(j.id);
                    self.jobs.insert(j.id, j);
                }
                Applied::JobIds(ids)
            }
            Command::PutJob(job) => {
                if !self.jobs.contains_key(&job.id) {
                    return Applied::Refused(format!("Job {} not found in queue", job.id));
                }
                self.jobs.insert(job.id, (**job).clone());
                Applied::Ok
            }
            Command::ArchiveJobs(ids) => {
                for id in ids {
                    if let Some(mut j) = self.jobs.remove(id) {
                        j.archived = true;
                        self.archived.insert(*id, j);
                    }
                }
                while self.archived.len() > ARCHIVE_KEEP {
                    let first = self.archived.keys().next().copied();
                    match first {
                        Some(k) => self.archived.remove(&k),
                        None => break,
                    };
                }
                Applied::Ok
            }
            Command::SetDrain(d) => {
                self.drained = *d;
                Applied::Ok
            }
            Command::SetWatcherPause(p) => {
                self.watcher_pause = *p;
                Applied::Ok
            }
            Command::ReplaceFilter(change) => match self.replace_filter(change) {
                Ok(()) => Applied::Ok,
                Err(e) => Applied::Refused(e),
            },
            Command::DeleteFilter(uuid) => match self.delete_filter(uuid) {
                Ok(()) => Applied::Ok,
                Err(e) => Applied::Refused(e),
            },
        }
    }

    fn snapshot(&self) -> Result<Vec<u8>, BoxError> {
        Ok(serde_json::to_vec(self)?)
    }

    fn restore(bytes: &[u8]) -> Result<Self, BoxError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}
