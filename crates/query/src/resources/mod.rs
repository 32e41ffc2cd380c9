//! Field getters, one module per resource.
//!
//! Each module answers three questions for its resource: which items a
//! query covers (all of them in natural name order, or the ones named in
//! the filter, looked up as Ganeti looks names up), the value of one field
//! for one item, and which fields need live data from the nodes. Field
//! names, titles and kinds are not repeated here; they come from the spec
//! table.

pub(crate) mod cluster;
pub(crate) mod group;
pub(crate) mod instance;
pub(crate) mod job;
pub(crate) mod misc;
pub(crate) mod network;
pub(crate) mod node;
pub(crate) mod os;

use serde_json::{json, Value};

use crate::error::QueryError;
use crate::value::{normal, Cell};

/// How a requested name matched a candidate (Ganeti's lookup priorities).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Exact,
    Partial,
}

/// Find an item by uuid, else by name with short-name expansion
/// (`inst1` finds `inst1.example.com` when that is the only such name).
pub(crate) fn lookup<'a, T>(
    kind: &'static str,
    items: impl Iterator<Item = &'a T> + Clone,
    uuid_of: impl Fn(&T) -> &str,
    name_of: impl Fn(&T) -> &str,
    wanted: &str,
) -> Result<&'a T, QueryError> {
    if let Some(it) = items.clone().find(|i| uuid_of(i) == wanted) {
        return Ok(it);
    }
    let mut partial: Option<&'a T> = None;
    let mut partial_count = 0usize;
    for it in items {
        let name = name_of(it);
        if name.is_empty() {
            continue;
        }
        match name_match(name, wanted) {
            Some(Match::Exact) => return Ok(it),
            Some(Match::Partial) => {
                partial = Some(it);
                partial_count += 1;
            }
            None => {}
        }
    }
    match (partial, partial_count) {
        (Some(it), 1) => Ok(it),
        (Some(_), _) => Err(QueryError::NotUnique {
            kind,
            name: wanted.to_string(),
        }),
        (None, _) => Err(QueryError::NotFound {
            kind,
            key: "name",
            name: wanted.to_string(),
        }),
    }
}

fn name_match(full: &str, lookup: &str) -> Option<Match> {
    if full == lookup {
        Some(Match::Exact)
    } else if crate::filter::name_component_match(full, lookup) {
        Some(Match::Partial)
    } else {
        None
    }
}

/// Fields every config object has: ctime, mtime, serial_no, uuid, tags.
pub(crate) fn common(
    field: &str,
    ctime: f64,
    mtime: f64,
    serial_no: u64,
    uuid: &str,
    tags: &[String],
) -> Option<Cell> {
    Some(match field {
        "ctime" => normal(json!(ctime)),
        "mtime" => normal(json!(mtime)),
        "serial_no" => normal(serial_no),
        "uuid" => normal(uuid),
        "tags" => normal(json!(tags)),
        _ => return None,
    })
}

/// A JSON list of strings.
pub(crate) fn str_list<S: AsRef<str>>(items: &[S]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::String(s.as_ref().to_string()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct It(&'static str, &'static str);

    #[test]
    fn lookup_like_ganeti() {
        let items = [
            It("u1", "inst1.example.com"),
            It("u2", "inst10.example.com"),
            It("u3", "web.a.example.com"),
            It("u4", "web.b.example.com"),
            It("u5", "inst1"),
        ];
        let f = |w: &str| lookup("Instance", items.iter(), |i| i.0, |i| i.1, w).map(|i| i.0);
        assert_eq!(f("u2"), Ok("u2"));
        assert_eq!(f("inst10"), Ok("u2"));
        // exact beats a partial match
        assert_eq!(f("inst1"), Ok("u5"));
        assert_eq!(f("inst1.example.com"), Ok("u1"));
        assert_eq!(
            f("web").unwrap_err().to_string(),
            "Instance name web has multiple matches"
        );
        assert_eq!(
            f("inst99").unwrap_err().to_string(),
            "Instance name inst99 not found"
        );
        assert_eq!(
            f("inst").unwrap_err().to_string(),
            "Instance name inst not found"
        );
    }
}
