//! The resources, one module per family, and the table that lists them.

pub mod common;

use crate::routes::Route;

/// Every route served.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
