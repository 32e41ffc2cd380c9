//! The resources, one module per family, and the table that lists them.

pub mod common;
pub mod filters;
pub mod groups;
pub mod instances;
pub mod jobs;
pub mod misc;
pub mod networks;
pub mod nodes;
pub mod query;

use crate::routes::Route;

/// Every route served.
pub fn routes() -> Vec<Route> {
    let mut all = Vec::new();
    all.extend(misc::routes());
    all.extend(instances::routes());
    all.extend(jobs::routes());
    all.extend(nodes::routes());
    all.extend(groups::routes());
    all.extend(networks::routes());
    all.extend(query::routes());
    all.extend(filters::routes());
    all
}
