//! Live data: what the master gathered from the nodes before answering.
//!
//! The query engine itself performs no I/O. The master asks
//! [`crate::needs_live_data`] whether a query needs the nodes, collects
//! their answers into a [`LiveData`], and passes it in. Everything the
//! nodes did not say maps onto Ganeti's result statuses exactly as the
//! query daemon maps RPC outcomes: a node that is offline yields
//! "offline", a node that failed or was not asked yields "no data", and an
//! instance that a node which answered does not report is simply not
//! running.

use std::collections::HashMap;

use ganeti_types::OsDiagnosis;
use serde_json::Value;

/// What one node reported about itself (`node_info` RPC). Every value is
/// optional: a hypervisor or storage type that does not report a figure
/// leaves it out, and the field then has status "no data".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeLive {
    /// Random id renewed at each boot.
    pub bootid: Option<String>,
    /// Total physical memory, MiB.
    pub mtotal: Option<u64>,
    /// Memory used by the node itself (dom0), MiB.
    pub mnode: Option<u64>,
    /// Memory free for instances, MiB.
    pub mfree: Option<u64>,
    /// Size of the default storage unit, MiB.
    pub dtotal: Option<u64>,
    /// Free space in the default storage unit, MiB.
    pub dfree: Option<u64>,
    /// Logical CPUs.
    pub ctotal: Option<u64>,
    /// Logical CPUs reserved for the node OS.
    pub cnos: Option<u64>,
    /// NUMA nodes.
    pub cnodes: Option<u64>,
    /// CPU sockets.
    pub csockets: Option<u64>,
    /// Total spindles (exclusive storage only).
    pub sptotal: Option<u64>,
    /// Free spindles (exclusive storage only).
    pub spfree: Option<u64>,
}

/// Why a node has no live data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeFailure {
    /// The node is marked offline and was not contacted.
    Offline,
    /// The node was contacted but the call failed.
    Error(String),
}

/// An instance as reported by the node it was found on.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveInstance {
    /// Uuid of the node that reported the instance; empty means "its
    /// primary node". An instance found elsewhere has status
    /// `ERROR_wrongnode`.
    pub node: String,
    /// `true` when the hypervisor runs it; `false` when it exists but was
    /// shut down from inside (user shutdown).
    pub running: bool,
    /// The hypervisor's own state string, informational.
    pub state: String,
    /// Memory in use, MiB.
    pub memory: u64,
    /// VCPUs in use.
    pub vcpus: u32,
}

/// Live data for one query. A node counts as "answered" when it is a key
/// of [`LiveData::nodes`] (the values inside may all be `None`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveData {
    /// Node uuid -> what the node reported.
    pub nodes: HashMap<String, NodeLive>,
    /// Node uuid -> why there is no answer.
    pub node_errors: HashMap<String, NodeFailure>,
    /// Instance uuid -> live state, for instances some node reported.
    pub instances: HashMap<String, LiveInstance>,
    /// Instance uuid -> console information (`console` field).
    pub consoles: HashMap<String, Value>,
    /// Node uuid -> names of the exports stored on it (`export` queries).
    pub exports: HashMap<String, Vec<String>>,
    /// Node uuid -> every entry of its OS search path (`os` queries), for
    /// the nodes that answered; a node that answered with no OS at all has
    /// an empty list (and makes every OS invalid), one that failed has none.
    pub os: HashMap<String, Vec<OsDiagnosis>>,
}

/// One lock of the lock manager, for `lock` queries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockInfo {
    pub name: String,
    /// Current owners and whether each holds the lock exclusively.
    pub owners: Vec<(String, bool)>,
    /// Waiting requests: owner and whether it wants the lock exclusively.
    pub pending: Vec<(String, bool)>,
}

/// The outcome of asking a node, as the getters see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeAnswer<'a> {
    Answered(&'a NodeLive),
    Offline,
    Failed,
}

impl LiveData {
    /// What we know about a node's answer. `config_offline` is the node's
    /// offline flag: offline nodes are never asked, whatever `nodes` says.
    pub(crate) fn node_answer(&self, uuid: &str, config_offline: bool) -> NodeAnswer<'_> {
        if config_offline {
            return NodeAnswer::Offline;
        }
        if let Some(n) = self.nodes.get(uuid) {
            return NodeAnswer::Answered(n);
        }
        match self.node_errors.get(uuid) {
            Some(NodeFailure::Offline) => NodeAnswer::Offline,
            Some(NodeFailure::Error(_)) | None => NodeAnswer::Failed,
        }
    }
}
