//! Field definitions, read from the field table of Ganeti 3.0.2
//! (`spec/query-fields.tsv`, embedded at build time).
//!
//! The table is the single source of names, kinds, titles and
//! descriptions: the getters in [`crate::resources`] only compute values,
//! so a field can never be served with a title or kind that differs from
//! the reference. Tests check that every field of the table has a getter.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::Resource;

static TSV: &str = include_str!("../spec/query-fields.tsv");

/// The value kind of a field (Ganeti's `QFT_*`), as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Unknown,
    Text,
    Bool,
    Number,
    Float,
    Unit,
    Timestamp,
    Other,
}

impl FieldKind {
    /// The wire string (`"text"`, `"unit"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Unknown => "unknown",
            FieldKind::Text => "text",
            FieldKind::Bool => "bool",
            FieldKind::Number => "number",
            FieldKind::Float => "float",
            FieldKind::Unit => "unit",
            FieldKind::Timestamp => "timestamp",
            FieldKind::Other => "other",
        }
    }

    /// Parse the wire string.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unknown" => FieldKind::Unknown,
            "text" => FieldKind::Text,
            "bool" => FieldKind::Bool,
            "number" => FieldKind::Number,
            "float" => FieldKind::Float,
            "unit" => FieldKind::Unit,
            "timestamp" => FieldKind::Timestamp,
            "other" => FieldKind::Other,
            _ => return None,
        })
    }
}

/// One field definition as `Query`/`QueryFields` return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub title: String,
    pub kind: FieldKind,
    pub doc: String,
}

impl FieldDef {
    /// The definition Ganeti returns for a field it does not know: the
    /// name doubles as title and every value has status "unknown".
    pub fn unknown(name: &str) -> Self {
        FieldDef {
            name: name.to_string(),
            title: name.to_string(),
            kind: FieldKind::Unknown,
            doc: format!("Unknown field '{name}'"),
        }
    }
}

/// The parsed table: per resource, the definitions in table order and an
/// index by name.
#[derive(Debug)]
pub(crate) struct FieldTable {
    pub defs: Vec<FieldDef>,
    pub index: HashMap<String, usize>,
}

impl FieldTable {
    pub fn get(&self, name: &str) -> Option<&FieldDef> {
        self.index.get(name).map(|&i| &self.defs[i])
    }
    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }
}

fn parse_table() -> HashMap<Resource, FieldTable> {
    let mut out: HashMap<Resource, FieldTable> = HashMap::new();
    for line in TSV.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 5 {
            continue;
        }
        let (Some(res), Some(kind)) = (Resource::parse(cols[0]), FieldKind::parse(cols[2])) else {
            continue;
        };
        let table = out.entry(res).or_insert_with(|| FieldTable {
            defs: Vec::new(),
            index: HashMap::new(),
        });
        table.index.insert(cols[1].to_string(), table.defs.len());
        table.defs.push(FieldDef {
            name: cols[1].to_string(),
            title: cols[3].to_string(),
            kind,
            doc: cols[4].to_string(),
        });
    }
    out
}

static TABLES: OnceLock<HashMap<Resource, FieldTable>> = OnceLock::new();
static EMPTY: OnceLock<FieldTable> = OnceLock::new();

/// The field table of a resource.
pub(crate) fn table(res: Resource) -> &'static FieldTable {
    TABLES
        .get_or_init(parse_table)
        .get(&res)
        .unwrap_or_else(|| {
            EMPTY.get_or_init(|| FieldTable {
                defs: Vec::new(),
                index: HashMap::new(),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_every_row() {
        let counts = [
            (Resource::Instance, 292),
            (Resource::Node, 46),
            (Resource::Group, 25),
            (Resource::Network, 19),
            (Resource::Job, 16),
            (Resource::Os, 11),
            (Resource::Export, 2),
            (Resource::Cluster, 16),
            (Resource::Lock, 4),
            (Resource::Filter, 6),
            (Resource::ExtStorage, 4),
        ];
        for (res, n) in counts {
            assert_eq!(table(res).defs.len(), n, "{res:?}");
            assert_eq!(table(res).index.len(), n, "{res:?} has duplicate names");
        }
        let total: usize = counts.iter().map(|(_, n)| n).sum();
        assert_eq!(total, TSV.lines().count() - 1);
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            FieldKind::Unknown,
            FieldKind::Text,
            FieldKind::Bool,
            FieldKind::Number,
            FieldKind::Float,
            FieldKind::Unit,
            FieldKind::Timestamp,
            FieldKind::Other,
        ] {
            assert_eq!(FieldKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::json!(k.as_str())
            );
        }
        assert_eq!(FieldKind::parse("frob"), None);
    }

    #[test]
    fn definition_wire_shape() {
        let d = table(Resource::Instance).get("be/memory").unwrap();
        assert_eq!(
            serde_json::to_string(d).unwrap(),
            r#"{"name":"be/memory","title":"ConfigMaxMem","kind":"unit","doc":"alias of be/maxmem"}"#
        );
        assert_eq!(FieldDef::unknown("frob").doc, "Unknown field 'frob'");
    }
}
