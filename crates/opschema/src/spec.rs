//! Loading `spec/opcodes.tsv` (embedded at compile time) into the opcode table.
//!
//! Why table-driven: the spec file was dumped from Ganeti 3.0.2 itself, so reading it is
//! the cheapest way to get every parameter name, type and default exactly right; the
//! file is embedded with `include_str!` and parsed once behind a `LazyLock`.
//!
//! The dump is faithful except for a few cells where Ganeti's own type description is
//! lossy: `TTupleOf(TElemOf(..), X)` renders as one comma-joined "OneOf" list, and
//! `TStorageType` has no description at all (`fn`). [`OVERRIDES`] corrects exactly those
//! cells (with the Ganeti source they were checked against); a test fails if a listed
//! cell no longer reads as expected, so a fixed spec cannot be silently overridden.
//!
//! Rows whose meaning starts with `[3.1+ only` are parsed (so they are validated) but kept
//! out of the 3.0.2 schema: they live in `later_*` collections.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::typeexpr::{TypeExpr, TypeParseError};

/// The embedded spec text.
pub(crate) const OPCODES_TSV: &str = include_str!("../spec/opcodes.tsv");

/// The pseudo op_id under which the common parameters are listed.
pub(crate) const EVERY_OPCODE: &str = "(every opcode)";

/// Corrections for spec cells whose dumped type text lost information:
/// `(op_id, param, text in the spec, corrected text)`.
pub(crate) const OVERRIDES: &[(&str, &str, &str, &str)] = &[
    // OpParams.hs pHiddenOs / pBlacklistedOs: [(DdmSimple, NonEmptyString)]
    (
        "OP_CLUSTER_SET_PARAMS",
        "hidden_os",
        "null or (list of (tuple of (one-of{nonempty-str|add|attach|detach|remove})))",
        "null or (list of (tuple of (one-of{add|attach|detach|remove}, nonempty-str)))",
    ),
    (
        "OP_CLUSTER_SET_PARAMS",
        "blacklisted_os",
        "null or (list of (tuple of (one-of{nonempty-str|add|attach|detach|remove})))",
        "null or (list of (tuple of (one-of{add|attach|detach|remove}, nonempty-str)))",
    ),
    // OpCodes.hs OpOobCommand result: [[(QueryResultCode, JSValue)]]
    (
        "OP_OOB_COMMAND",
        "@result",
        "list of (list of (tuple of (one-of{0|1|2|3|4|any})))",
        "list of (list of (tuple of (one-of{0|1|2|3|4}, any)))",
    ),
    // ht.TStorageType: value in constants.STORAGE_TYPES (Types.hs StorageType)
    (
        "OP_NODE_MODIFY_STORAGE",
        "storage_type",
        "fn",
        STORAGE_TYPES,
    ),
    (
        "OP_REPAIR_NODE_STORAGE",
        "storage_type",
        "fn",
        STORAGE_TYPES,
    ),
    (
        "OP_NODE_QUERY_STORAGE",
        "storage_type",
        "null or (fn)",
        MAYBE_STORAGE_TYPES,
    ),
];

const STORAGE_TYPES: &str =
    "one-of{blockdev|diskless|ext|file|gluster|lvm-pv|lvm-vg|rados|sharedfile}";
const MAYBE_STORAGE_TYPES: &str =
    "null or (one-of{blockdev|diskless|ext|file|gluster|lvm-pv|lvm-vg|rados|sharedfile})";

/// One accepted parameter of an opcode.
#[derive(Debug, Clone)]
pub struct ParamDef {
    /// Parameter name (dict key in the serialized opcode).
    pub name: String,
    /// The type as written in the spec (after [`OVERRIDES`]).
    pub type_text: String,
    /// The parsed type.
    pub ty: TypeExpr,
    /// Default filled in when the parameter is absent; `None` for required parameters.
    pub default: Option<Value>,
    /// Whether the caller must supply it.
    pub required: bool,
    /// Our one-line description of the parameter.
    pub meaning: String,
}

/// One opcode: its own parameters (the common ones are in [`crate::common_params`]) and
/// the type of its result.
#[derive(Debug, Clone)]
pub struct OpDef {
    /// `OP_...` identifier.
    pub op_id: String,
    /// Opcode-specific parameters in Ganeti's declaration order.
    pub params: Vec<ParamDef>,
    /// Type text of the job result (`@result` row).
    pub result_text: String,
    /// Parsed result type.
    pub result: TypeExpr,
    /// Python's `OP_DSC_FIELD` as listed in the spec (`summary field: ...`). Job summaries
    /// use [`crate::summary_field`], which follows the Haskell job queue.
    pub dsc_field: Option<String>,
    /// Parameters that only exist from Ganeti 3.1 on; not accepted by 3.0.2.
    pub later_params: Vec<ParamDef>,
}

impl OpDef {
    /// The opcode-specific parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&ParamDef> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// Everything parsed from the spec.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) ops: BTreeMap<String, OpDef>,
    pub(crate) common: Vec<ParamDef>,
    /// Opcodes that only exist from 3.1 on.
    pub(crate) later_ops: BTreeMap<String, OpDef>,
}

/// What went wrong while loading the spec (a build defect, caught by the tests).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpecError {
    #[error("opcodes.tsv line {line}: {message}")]
    Row { line: usize, message: String },
    #[error("opcodes.tsv line {line}: {source}")]
    Type {
        line: usize,
        #[source]
        source: TypeParseError,
    },
}

fn row_err(line: usize, message: impl Into<String>) -> SpecError {
    SpecError::Row {
        line,
        message: message.into(),
    }
}

pub(crate) fn load(text: &str) -> Result<Schema, SpecError> {
    let mut ops: BTreeMap<String, OpDef> = BTreeMap::new();
    let mut later_ops: BTreeMap<String, OpDef> = BTreeMap::new();
    let mut common = Vec::new();
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, "op_id\tparam\ttype\tdefault\trequired\tmeaning")) => {}
        _ => return Err(row_err(1, "unexpected header")),
    }
    for (idx, line) in lines {
        let lineno = idx + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [op_id, param, type_text, default, required, meaning] = cols[..] else {
            return Err(row_err(
                lineno,
                format!("expected 6 columns, got {}", cols.len()),
            ));
        };
        let type_text = OVERRIDES
            .iter()
            .find(|(o, p, from, _)| *o == op_id && *p == param && *from == type_text)
            .map_or(type_text, |(_, _, _, to)| to);
        let ty = TypeExpr::parse(type_text).map_err(|source| SpecError::Type {
            line: lineno,
            source,
        })?;
        let later = meaning.starts_with("[3.1+ only");

        if param == "@result" {
            let dsc_field = meaning
                .split_once("summary field: ")
                .map(|(_, f)| f.trim().to_owned());
            let def = OpDef {
                op_id: op_id.to_owned(),
                params: Vec::new(),
                result_text: type_text.to_owned(),
                result: ty,
                dsc_field,
                later_params: Vec::new(),
            };
            let map = if later { &mut later_ops } else { &mut ops };
            if map.insert(op_id.to_owned(), def).is_some() {
                return Err(row_err(lineno, format!("duplicate @result for {op_id}")));
            }
            continue;
        }

        let required = match required {
            "required" => true,
            "optional" => false,
            other => return Err(row_err(lineno, format!("bad required column {other:?}"))),
        };
        let default = match default {
            "-" => None,
            d => Some(
                serde_json::from_str::<Value>(d)
                    .map_err(|e| row_err(lineno, format!("bad default {d:?}: {e}")))?,
            ),
        };
        if required == default.is_some() {
            return Err(row_err(
                lineno,
                "a parameter needs a default iff it is optional",
            ));
        }
        let pd = ParamDef {
            name: param.to_owned(),
            type_text: type_text.to_owned(),
            ty,
            default,
            required,
            meaning: meaning.to_owned(),
        };
        if op_id == EVERY_OPCODE {
            common.push(pd);
            continue;
        }
        let def = match ops.get_mut(op_id) {
            Some(d) => d,
            None => later_ops
                .get_mut(op_id)
                .ok_or_else(|| row_err(lineno, format!("{op_id} has no preceding @result row")))?,
        };
        if def.param(param).is_some() || def.later_params.iter().any(|p| p.name == param) {
            return Err(row_err(
                lineno,
                format!("duplicate parameter {op_id}.{param}"),
            ));
        }
        if later {
            def.later_params.push(pd);
        } else {
            def.params.push(pd);
        }
    }
    Ok(Schema {
        ops,
        common,
        later_ops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_files() {
        let header = "op_id\tparam\ttype\tdefault\trequired\tmeaning\n";
        let cases = [
            "nope\n".to_owned(),
            format!("{header}OP_X\t@result\tnull\t-\t-\n"),
            format!("{header}OP_X\t@result\tinteger\t-\t-\tx\n"),
            format!("{header}OP_X\tfoo\tbool\tfalse\toptional\tno result row first\n"),
            format!("{header}OP_X\t@result\tnull\t-\t-\tx\nOP_X\tfoo\tbool\t-\toptional\tx\n"),
            format!("{header}OP_X\t@result\tnull\t-\t-\tx\nOP_X\tfoo\tbool\ttrue\trequired\tx\n"),
            format!("{header}OP_X\t@result\tnull\t-\t-\tx\nOP_X\tfoo\tbool\tyes\toptional\tx\n"),
            format!("{header}OP_X\t@result\tnull\t-\t-\tx\nOP_X\tfoo\tbool\tfalse\tmaybe\tx\n"),
            format!(
                "{header}OP_X\t@result\tnull\t-\t-\tx\nOP_X\tfoo\tbool\tfalse\toptional\tx\n\
                 OP_X\tfoo\tbool\tfalse\toptional\tx\n"
            ),
        ];
        for c in &cases {
            assert!(load(c).is_err(), "should reject {c:?}");
        }
    }

    #[test]
    fn loads_a_minimal_file() {
        let text = "op_id\tparam\ttype\tdefault\trequired\tmeaning\n\
                    (every opcode)\tdry_run\tnull or bool\tnull\toptional\tx\n\
                    OP_X\t@result\tnull\t-\t-\ttype; summary field: foo\n\
                    OP_X\tfoo\tint>=0\t-\trequired\tx\n\
                    OP_X\tbar\tbool\ttrue\toptional\t[3.1+ only] later\n";
        let s = match load(text) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.common.len(), 1);
        let x = &s.ops["OP_X"];
        assert_eq!(x.params.len(), 1);
        assert_eq!(x.later_params.len(), 1);
        assert_eq!(x.dsc_field.as_deref(), Some("foo"));
        assert!(x.params[0].required);
    }
}
