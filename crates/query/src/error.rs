//! Errors of the query engine, worded as Ganeti's query daemon words them.
//!
//! Each variant knows which Ganeti error class it becomes on the wire
//! ([`QueryError::to_ganeti`]), because clients (gnt-* and RAPI) choose
//! their exit codes and HTTP statuses from the class: a filter that cannot
//! be read is wrong input, a field the filter names but the resource does
//! not have is a `ParameterError` (as in Ganeti), and a requested name that
//! matches nothing is an unknown entity.

use ganeti_types::{ErrorClass, GanetiError};

/// A query that cannot be answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The resource name is not one Ganeti knows.
    #[error("Can't parse value '{name}' as neither QueryTypeLuxi nor QueryTypeOp")]
    UnknownResource { name: String },
    /// The filter is not a well-formed qlang expression (unknown operator,
    /// wrong number of operands, a value of the wrong type, a bad regex).
    #[error("{message}")]
    BadFilter { message: String },
    /// The filter names a field the resource does not have.
    #[error("Can't find field named '{field}'")]
    UnknownFilterField { field: String },
    /// The filter compares a field with a value it cannot be compared to.
    #[error("{message}")]
    FilterEvaluation { message: String },
    /// A name given in the filter (`gnt-instance list NAME`) matches nothing.
    /// `key` is "name" (Ganeti also has "uuid" lookups, e.g. for filter rules).
    #[error("{kind} {key} {name} not found")]
    NotFound {
        kind: &'static str,
        key: &'static str,
        name: String,
    },
    /// A short name given in the filter matches more than one object.
    #[error("{kind} name {name} has multiple matches")]
    NotUnique { kind: &'static str, name: String },
    /// A job id given in the filter is not a valid job id.
    #[error("Invalid job ID '{value}'")]
    BadJobId { value: String },
    /// Old-style (list) results cannot carry unknown fields.
    #[error("Unknown output fields selected: {}", fields.join(", "))]
    UnknownOutputFields { fields: Vec<String> },
    /// Names asked of a master-side resource (`os`) that the nodes did not
    /// report; shown as the Python set Ganeti prints.
    #[error(
        "Some items were removed before retrieving their data: {}",
        py_str_set(names)
    )]
    ItemsRemoved { names: Vec<String> },
}

/// Python's `str()` of a set of strings: `{'a', 'b'}`.
fn py_str_set(names: &[String]) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|n| ganeti_clifmt::pystr::str_repr(n))
        .collect();
    format!("{{{}}}", items.join(", "))
}

impl QueryError {
    /// The error as Ganeti reports it to clients.
    pub fn to_ganeti(&self) -> GanetiError {
        let msg = self.to_string();
        match self {
            QueryError::UnknownFilterField { .. } | QueryError::FilterEvaluation { .. } => {
                GanetiError::Parameter(msg)
            }
            QueryError::NotFound { .. } | QueryError::NotUnique { .. } => {
                GanetiError::prereq(msg, ErrorClass::NoEnt)
            }
            QueryError::ItemsRemoved { .. } => GanetiError::OpExec(msg),
            QueryError::UnknownResource { .. }
            | QueryError::BadFilter { .. }
            | QueryError::BadJobId { .. }
            | QueryError::UnknownOutputFields { .. } => {
                GanetiError::prereq(msg, ErrorClass::WrongInput)
            }
        }
    }
}

impl From<QueryError> for GanetiError {
    fn from(e: QueryError) -> Self {
        e.to_ganeti()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_classes() {
        let e = QueryError::NotFound {
            kind: "Instance",
            key: "name",
            name: "inst99.example.com".into(),
        };
        assert_eq!(
            e.to_ganeti().encode(),
            json!([
                "OpPrereqError",
                [
                    "Instance name inst99.example.com not found",
                    "unknown_entity"
                ]
            ])
        );
        let e = QueryError::UnknownFilterField {
            field: "frob".into(),
        };
        assert_eq!(
            e.to_ganeti().encode(),
            json!(["ParameterError", ["Can't find field named 'frob'"]])
        );
        let e = QueryError::BadFilter {
            message: "Unknown filter operand 'x'".into(),
        };
        assert_eq!(
            GanetiError::from(e).encode(),
            json!([
                "OpPrereqError",
                ["Unknown filter operand 'x'", "wrong_input"]
            ])
        );
        let e = QueryError::UnknownOutputFields {
            fields: vec!["a".into(), "b".into()],
        };
        assert_eq!(e.to_string(), "Unknown output fields selected: a, b");
        let e = QueryError::ItemsRemoved {
            names: vec!["frobos".into(), "it's".into()],
        };
        assert_eq!(
            e.to_ganeti().encode(),
            json!([
                "OpExecError",
                ["Some items were removed before retrieving their data: {'frobos', \"it's\"}"]
            ])
        );
    }
}
