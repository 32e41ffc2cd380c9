//! Ganeti 3.0.2's query engine: the server side of LUXI `Query` and
//! `QueryFields`, and the data behind RAPI `/2/query/<resource>` and the
//! bulk listings.
//!
//! A query names a resource, a list of fields and an optional filter in
//! Ganeti's JSON filter language. The answer is a list of field
//! definitions and one row per item, each cell `[status, value]`.
//!
//! Design: the engine is a pure function of the configuration, the live
//! data the master gathered from the nodes ([`LiveData`]) and the job list.
//! It does no I/O, so the master decides what to fetch (see
//! [`needs_live_data`]) and tests can build any situation in memory. Field
//! definitions come from Ganeti's field table (embedded TSV); the getters
//! in `resources` only compute values. Semantics (natural sorting, name
//! lookups, status rules, filter behaviour, value formats) follow Ganeti's
//! query daemon, which serves these queries in Ganeti 3.0.
//!
//! ```
//! use ganeti_query::{query, Resource, QueryContext, LiveData};
//! # fn demo(config: &ganeti_types::ConfigData) -> Result<(), ganeti_query::QueryError> {
//! let live = LiveData::default();
//! let ctx = QueryContext::new(config, &live);
//! let filter = serde_json::json!(["==", "disk_template", "file"]);
//! let res = query(Resource::Instance, &ctx, &["name".into(), "disk.sizes".into()], Some(&filter))?;
//! println!("{}", serde_json::to_string(&res).unwrap_or_default());
//! # Ok(()) }
//! ```

mod error;
mod filter;
pub mod jobfilter;
mod live;
mod params;
mod resources;
mod spec;
mod value;

use std::fmt;

use ganeti_types::{ConfigData, Job};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use error::QueryError;
pub use live::{LiveData, LiveInstance, LockInfo, NodeFailure, NodeLive};
pub use resources::cluster::{vcs_version, EXPORT_VERSION, OS_API_VERSION};
pub use spec::{FieldDef, FieldKind};
pub use value::{
    nice_cmp, nice_sort, pp_value, Cell, RS_NODATA, RS_NORMAL, RS_OFFLINE, RS_UNAVAIL, RS_UNKNOWN,
};

use filter::{Filter, FilterValue, Qff};

/// What a query is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    Instance,
    Node,
    Group,
    Network,
    Job,
    Cluster,
    Os,
    Lock,
    Filter,
    Export,
    ExtStorage,
}

impl Resource {
    /// Every resource.
    pub const ALL: [Resource; 11] = [
        Resource::Instance,
        Resource::Node,
        Resource::Group,
        Resource::Network,
        Resource::Job,
        Resource::Cluster,
        Resource::Os,
        Resource::Lock,
        Resource::Filter,
        Resource::Export,
        Resource::ExtStorage,
    ];

    /// The wire name (`"instance"`, `"extstorage"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Instance => "instance",
            Resource::Node => "node",
            Resource::Group => "group",
            Resource::Network => "network",
            Resource::Job => "job",
            Resource::Cluster => "cluster",
            Resource::Os => "os",
            Resource::Lock => "lock",
            Resource::Filter => "filter",
            Resource::Export => "export",
            Resource::ExtStorage => "extstorage",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Parse the wire name, with Ganeti's error for unknown names.
    pub fn from_wire(s: &str) -> Result<Self, QueryError> {
        Self::parse(s).ok_or_else(|| QueryError::UnknownResource {
            name: s.to_string(),
        })
    }

    /// The field that names an item (used for name lookups in filters).
    pub fn name_field(self) -> &'static str {
        match self {
            Resource::Job => "id",
            Resource::Export => "node",
            _ => "name",
        }
    }

    /// Whether Ganeti's query daemon (rather than the Python master)
    /// serves the resource; its JSON sends whole numbers as integers.
    fn served_by_luxid(self) -> bool {
        !matches!(
            self,
            Resource::Cluster | Resource::Os | Resource::ExtStorage
        )
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Resource {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_wire(s)
    }
}

/// Everything a query may look at.
#[derive(Debug, Clone, Copy)]
pub struct QueryContext<'a> {
    pub config: &'a ConfigData,
    pub live: &'a LiveData,
    /// All jobs the master knows (archived ones flagged), for `job` queries.
    pub jobs: &'a [Job],
    /// Whether the job queue is drained (`cluster` field `drain_flag`).
    pub drain_flag: bool,
    /// Until when the watcher is paused (`cluster` field `watcher_pause`).
    pub watcher_pause: Option<f64>,
    /// The lock manager's state, for `lock` queries.
    pub locks: &'a [LockInfo],
}

impl<'a> QueryContext<'a> {
    /// A context with no jobs, no locks, an undrained queue and no watcher pause.
    pub fn new(config: &'a ConfigData, live: &'a LiveData) -> Self {
        QueryContext {
            config,
            live,
            jobs: &[],
            drain_flag: false,
            watcher_pause: None,
            locks: &[],
        }
    }
}

/// The answer to `Query`: `{"fields": [...], "data": [[[status, value], ...], ...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    pub fields: Vec<FieldDef>,
    pub data: Vec<Vec<Cell>>,
}

impl QueryResult {
    /// Old-style rows (`QueryJobs`, `QueryInstances`, RAPI bulk): values
    /// only, `null` where the status is not normal. Refused when a field
    /// is unknown, as Ganeti refuses it.
    pub fn to_compat(&self) -> Result<Vec<Vec<Value>>, QueryError> {
        let unknown: Vec<String> = self
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Unknown)
            .map(|f| f.name.clone())
            .collect();
        if !unknown.is_empty() {
            return Err(QueryError::UnknownOutputFields { fields: unknown });
        }
        Ok(self
            .data
            .iter()
            .map(|row| {
                row.iter()
                    .map(|(st, v)| {
                        if *st == RS_NORMAL {
                            v.clone()
                        } else {
                            Value::Null
                        }
                    })
                    .collect()
            })
            .collect())
    }
}

/// The answer to `QueryFields`: `{"fields": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryFieldsResult {
    pub fields: Vec<FieldDef>,
}

/// Field definitions (`QueryFields`): all fields of the resource in
/// natural name order when `names` is `None` or empty, otherwise the named
/// ones in the order given (unknown names get an "unknown" definition).
pub fn fields(resource: Resource, names: Option<&[String]>) -> Vec<FieldDef> {
    let table = spec::table(resource);
    match names {
        Some(names) if !names.is_empty() => names
            .iter()
            .map(|n| {
                table
                    .get(n)
                    .cloned()
                    .unwrap_or_else(|| FieldDef::unknown(n))
            })
            .collect(),
        _ => {
            let mut all = table.defs.clone();
            all.sort_by(|a, b| nice_cmp(&a.name, &b.name));
            all
        }
    }
}

/// The comparison mode of a field in filters.
fn qff(resource: Resource, field: &str) -> Qff {
    match (resource, field) {
        (Resource::Instance, "name" | "pnode")
        | (Resource::Node, "name")
        | (Resource::Export, "node")
        | (Resource::Cluster, "name" | "cluster_name" | "master_node") => Qff::Hostname,
        (Resource::Job, "received_ts" | "start_ts" | "end_ts") => Qff::Timestamp,
        _ => Qff::Normal,
    }
}

fn parse_filter(resource: Resource, filter: Option<&Value>) -> Result<Option<Filter>, QueryError> {
    let Some(v) = filter else {
        return Ok(None);
    };
    let f = filter::parse(v)?;
    if let Some(f) = &f {
        let table = spec::table(resource);
        f.check_fields(|name| table.contains(name))?;
    }
    Ok(f)
}

/// Names asked for by a pure name filter, as Ganeti's `requestedNames`:
/// `Some(vec![])` without a filter, `Some(names)` for
/// `["|", ["=", "name", n1], ...]` (the resource's name field; `id` for
/// jobs, `node` for exports), `None` for any other (or a malformed) filter.
pub fn requested_names(resource: Resource, filter: Option<&Value>) -> Option<Vec<String>> {
    let f = match filter {
        None => return Some(Vec::new()),
        Some(v) => filter::parse(v).ok()?,
    };
    let Some(f) = f else {
        return Some(Vec::new());
    };
    let vals = f.requested_names(resource.name_field())?;
    Some(
        vals.into_iter()
            .map(|v| match v {
                FilterValue::Str(s) => s,
                FilterValue::Num(n) => n.to_string(),
            })
            .collect(),
    )
}

/// Whether answering needs data from the nodes (instance run state, node
/// resources, exports, OS lists), counting fields used only in the filter.
pub fn needs_live_data(resource: Resource, fields: &[String], filter: Option<&Value>) -> bool {
    let live: &[&str] = match resource {
        Resource::Instance => resources::instance::LIVE_FIELDS,
        Resource::Node => resources::node::LIVE_FIELDS,
        Resource::Export | Resource::Os | Resource::ExtStorage => return true,
        _ => return false,
    };
    let parsed = filter.and_then(|v| filter::parse(v).ok().flatten());
    let in_filter = parsed
        .as_ref()
        .map(|f| f.fields().iter().any(|n| live.contains(n)))
        .unwrap_or(false);
    in_filter || fields.iter().any(|f| live.contains(&f.as_str()))
}

/// Whether instance console information must be gathered (only when the
/// `console` field itself is requested, as Ganeti does).
pub fn needs_console(fields: &[String]) -> bool {
    fields.iter().any(|f| f == "console")
}

/// String names from a name filter (numeric values are ignored, as Ganeti
/// ignores them when looking objects up by name).
fn wanted_strings(filter: Option<&Filter>, name_field: &str) -> Vec<String> {
    filter
        .and_then(|f| f.requested_names(name_field))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            FilterValue::Str(s) => Some(s),
            FilterValue::Num(_) => None,
        })
        .collect()
}

/// Filter the items and compute the requested fields for those that pass.
fn rows<T>(
    resource: Resource,
    items: &[T],
    fields: &[String],
    filter: Option<&Filter>,
    get: impl Fn(&T, &str) -> Cell,
) -> Result<Vec<Vec<Cell>>, QueryError> {
    let table = spec::table(resource);
    let mut out = Vec::new();
    for item in items {
        if let Some(f) = filter {
            let lookup = |name: &str| (get(item, name), qff(resource, name));
            if !f.eval(&lookup)? {
                continue;
            }
        }
        let row: Vec<Cell> = fields
            .iter()
            .map(|name| {
                if !table.contains(name) {
                    return value::unknown();
                }
                let (status, mut v) = get(item, name);
                if resource.served_by_luxid() {
                    value::normalize_numbers(&mut v);
                }
                (status, v)
            })
            .collect();
        out.push(row);
    }
    Ok(out)
}

/// Answer a query (LUXI `Query`).
pub fn query(
    resource: Resource,
    ctx: &QueryContext<'_>,
    fields: &[String],
    filter: Option<&Value>,
) -> Result<QueryResult, QueryError> {
    let filter = parse_filter(resource, filter)?;
    let flt = filter.as_ref();
    let table = spec::table(resource);
    let defs: Vec<FieldDef> = fields
        .iter()
        .map(|n| {
            table
                .get(n)
                .cloned()
                .unwrap_or_else(|| FieldDef::unknown(n))
        })
        .collect();
    let wanted = || wanted_strings(flt, resource.name_field());
    use resources::*;
    let data = match resource {
        Resource::Instance => {
            let items = instance::select(ctx, &wanted())?;
            rows(resource, &items, fields, flt, |i, f| {
                instance::get(ctx, i, f)
            })?
        }
        Resource::Node => {
            let items = node::select(ctx, &wanted())?;
            rows(resource, &items, fields, flt, |n, f| node::get(ctx, n, f))?
        }
        Resource::Group => {
            let items = group::select(ctx, &wanted())?;
            rows(resource, &items, fields, flt, |g, f| group::get(ctx, g, f))?
        }
        Resource::Network => {
            let items = network::select(ctx, &wanted())?;
            rows(resource, &items, fields, flt, |n, f| {
                network::get(ctx, n, f)
            })?
        }
        Resource::Job => {
            let names = flt
                .and_then(|f| f.requested_names(resource.name_field()))
                .unwrap_or_default();
            let items = job::select(ctx, &names, fields)?;
            rows(resource, &items, fields, flt, |j, f| job::get(ctx, j, f))?
        }
        Resource::Cluster => rows(resource, &[()], fields, flt, |_, f| cluster::get(ctx, f))?,
        Resource::Filter => {
            let items = misc::select_filters(ctx);
            rows(resource, &items, fields, flt, misc::get_filter)?
        }
        Resource::Lock => {
            let items = misc::select_locks(ctx);
            rows(resource, &items, fields, flt, |l, f| misc::get_lock(l, f))?
        }
        Resource::Export => {
            let items = misc::select_exports(ctx, &wanted())?;
            rows(resource, &items, fields, flt, misc::get_export)?
        }
        Resource::Os => {
            let items = os::select(ctx, &wanted())?;
            rows(resource, &items, fields, flt, os::get)?
        }
        Resource::ExtStorage => Vec::new(),
    };
    Ok(QueryResult { fields: defs, data })
}

#[cfg(test)]
mod tests;
