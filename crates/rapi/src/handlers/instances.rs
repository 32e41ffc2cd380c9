//! Placeholder: filled in by the handler work of issue 3.

use crate::routes::Route;

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    Vec::new()
}
