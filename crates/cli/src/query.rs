//! Queries: `list`, `list-fields`, name selection and tags.
//!
//! Why: all `gnt-* list` commands are Ganeti's `GenericList` — build a
//! filter from the arguments (names, globs or a `-F` filter), send one LUXI
//! `Query`, format the answer with the field definitions the master sends
//! (title and kind decide header and alignment), warn about unknown fields
//! and exit 14 for them. The tag commands are likewise generic over the
//! object kind. One implementation here serves every tool.

use ganeti_clifmt::qfilter;
use ganeti_clifmt::table::{
    format_query_result, format_table, Cell, Column, ColumnFormat, FieldDef, FieldKind,
    QueryFormatOptions, QueryOutcome, ResultStatus,
};
use ganeti_clifmt::units::Units;
use ganeti_luxi::Method;
use serde_json::{json, Value};

use crate::context::Ctx;
use crate::errors::{CliError, GanetiErr};
use crate::jobs::opcode;
use crate::optparse::Opts;

/// Exit code for an unknown field (`constants.EXIT_UNKNOWN_FIELD`).
pub const EXIT_UNKNOWN_FIELD: i32 = 14;

/// A field definition as the master describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    /// Name.
    pub name: String,
    /// Column title.
    pub title: String,
    /// Kind as sent (`text`, `unit`, ...).
    pub kind: String,
    /// Description.
    pub doc: String,
}

impl FieldInfo {
    fn from_json(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        FieldInfo {
            name: s("name"),
            title: s("title"),
            kind: s("kind"),
            doc: s("doc"),
        }
    }

    /// The kind for formatting (unknown kinds format as `other`).
    pub fn field_kind(&self) -> FieldKind {
        FieldKind::from_name(&self.kind).unwrap_or(FieldKind::Other)
    }

    fn def(&self) -> FieldDef {
        FieldDef {
            name: self.name.clone(),
            title: if self.title.is_empty() {
                self.name.clone()
            } else {
                self.title.clone()
            },
            kind: self.field_kind(),
        }
    }
}

/// A `Query` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResponse {
    /// The field definitions, in the order asked.
    pub fields: Vec<FieldInfo>,
    /// One row per item: `(status, value)` per field.
    pub data: Vec<Vec<(ResultStatus, Value)>>,
}

impl QueryResponse {
    /// Decode a `Query`/`QueryFields` result.
    pub fn from_json(v: &Value) -> Result<Self, CliError> {
        let fields = v
            .get("fields")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(FieldInfo::from_json).collect())
            .unwrap_or_default();
        let mut data = Vec::new();
        if let Some(rows) = v.get("data").and_then(Value::as_array) {
            for row in rows {
                let cells = row.as_array().cloned().unwrap_or_default();
                let mut out = Vec::with_capacity(cells.len());
                for c in &cells {
                    match ResultStatus::parse_pair(c) {
                        Some((st, val)) => out.push((st, val.clone())),
                        None => {
                            return Err(CliError::Luxi(ganeti_luxi::LuxiError::Protocol(format!(
                                "Invalid query result cell: {c}"
                            ))))
                        }
                    }
                }
                data.push(out);
            }
        }
        Ok(QueryResponse { fields, data })
    }

    /// The field definitions of unknown fields.
    pub fn unknown_fields(&self) -> Vec<&FieldInfo> {
        self.fields
            .iter()
            .filter(|f| f.field_kind() == FieldKind::Unknown)
            .collect()
    }

    /// The normal values of each row (abnormal ones as `null`).
    pub fn values(&self) -> Vec<Vec<Value>> {
        self.data
            .iter()
            .map(|r| {
                r.iter()
                    .map(|(st, v)| {
                        if *st == ResultStatus::Normal {
                            v.clone()
                        } else {
                            Value::Null
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

impl Ctx<'_> {
    /// LUXI `Query`.
    pub fn query(
        &self,
        what: &str,
        fields: &[&str],
        filter: Option<Value>,
    ) -> Result<QueryResponse, CliError> {
        let r = self.call(
            Method::Query,
            json!([what, fields, filter.unwrap_or(Value::Null)]),
        )?;
        QueryResponse::from_json(&r)
    }

    /// Query `name` and `fields` of the items named in `names` (all items
    /// when empty), as the old `QueryNodes`/`QueryGroups` calls did: unknown
    /// names are skipped, short names match `name.domain`, results follow
    /// `names`. Each row starts with the name.
    pub fn query_named(
        &self,
        what: &str,
        fields: &[&str],
        names: &[String],
    ) -> Result<Vec<Vec<Value>>, CliError> {
        let mut all_fields = vec!["name"];
        all_fields.extend_from_slice(fields);
        let resp = self.query(what, &all_fields, None)?;
        let rows = resp.values();
        Ok(select_named(&rows, names))
    }
}

/// Whether `name` is what the user meant by `key` (Ganeti's
/// `MatchNameComponent`: the full name or its first components).
pub fn name_matches(key: &str, name: &str) -> bool {
    name == key || (name.starts_with(key) && name[key.len()..].starts_with('.'))
}

/// Rows (first column: the name) selected by `names`, in that order; all
/// rows when `names` is empty. Ambiguous short names select nothing.
pub fn select_named(rows: &[Vec<Value>], names: &[String]) -> Vec<Vec<Value>> {
    if names.is_empty() {
        return rows.to_vec();
    }
    let mut out = Vec::new();
    for n in names {
        let exact: Vec<&Vec<Value>> = rows
            .iter()
            .filter(|r| r.first().and_then(Value::as_str) == Some(n.as_str()))
            .collect();
        let found: Vec<&Vec<Value>> = if exact.is_empty() {
            rows.iter()
                .filter(|r| {
                    r.first()
                        .and_then(Value::as_str)
                        .is_some_and(|name| name_matches(n, name))
                })
                .collect()
        } else {
            exact
        };
        if let [one] = found.as_slice() {
            out.push((*one).clone());
        }
    }
    out
}

/// Ganeti's `ParseFields`: `-o a,b`, `-o +c` (defaults plus c), or the
/// defaults.
pub fn parse_fields(selected: Option<String>, default: &[&str]) -> Vec<String> {
    match selected {
        None => default.iter().map(|s| s.to_string()).collect(),
        Some(s) => {
            if let Some(extra) = s.strip_prefix('+') {
                default
                    .iter()
                    .map(|s| s.to_string())
                    .chain(extra.split(',').map(str::to_string))
                    .collect()
            } else {
                s.split(',').map(str::to_string).collect()
            }
        }
    }
}

/// The parameters of one `GenericList` call.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    /// The resource (`instance`, `node`, ...).
    pub resource: &'static str,
    /// The fields.
    pub fields: Vec<String>,
    /// The positional arguments.
    pub names: Vec<String>,
    /// `--units`.
    pub units: Option<Units>,
    /// `--separator`.
    pub separator: Option<String>,
    /// Not `--no-headers`.
    pub header: bool,
    /// `-v`.
    pub verbose: bool,
    /// `-F`.
    pub force_filter: bool,
    /// The field names are matched against (default `name`).
    pub namefield: Option<&'static str>,
    /// An extra filter.
    pub qfilter: Option<Value>,
    /// Names are numbers (job ids).
    pub isnumeric: bool,
}

impl ListRequest {
    /// The request for the common list options of `opts`.
    pub fn from_opts(
        resource: &'static str,
        opts: &Opts,
        default_fields: &[&str],
        names: Vec<String>,
    ) -> Result<Self, CliError> {
        let units = match opts.str("units") {
            Some(u) => Some(Units::from_code(&u).map_err(|e| CliError::Usage(e.to_string()))?),
            None => None,
        };
        Ok(ListRequest {
            resource,
            fields: parse_fields(opts.str("output"), default_fields),
            names,
            units,
            separator: opts.str("separator"),
            header: !opts.flag("no_headers"),
            verbose: opts.flag("verbose"),
            force_filter: opts.flag("force_filter"),
            ..Default::default()
        })
    }

    /// The query filter of this request.
    pub fn filter(&self) -> Result<Option<Value>, CliError> {
        let namefilter = qfilter::make_filter(
            &self.names,
            self.force_filter,
            self.namefield,
            self.isnumeric,
        )
        .map_err(filter_error)?;
        Ok(qfilter::combine_filters(namefilter, self.qfilter.clone()))
    }
}

/// The error of a filter that cannot be built.
pub fn filter_error(e: qfilter::FilterError) -> CliError {
    match e {
        qfilter::FilterError::Parse(p) => CliError::Message(p.cli_message(), 1),
        other => GanetiErr::inval(other.to_string()).into(),
    }
}

/// Print `Warning: Queried for unknown fields ...` when needed.
fn warn_unknown(ctx: &mut Ctx<'_>, fields: &[FieldInfo]) -> Result<bool, CliError> {
    let unknown: Vec<&str> = fields
        .iter()
        .filter(|f| f.field_kind() == FieldKind::Unknown)
        .map(|f| f.name.as_str())
        .collect();
    if unknown.is_empty() {
        return Ok(false);
    }
    ctx.errln(&format!(
        "Warning: Queried for unknown fields {}",
        unknown.join(", ")
    ))?;
    Ok(true)
}

/// Format a query response as `list` prints it.
pub fn format_response(
    resp: &QueryResponse,
    req: &ListRequest,
    overrides: &[(&str, ColumnFormat)],
) -> (QueryOutcome, Vec<String>) {
    let defs: Vec<FieldDef> = resp.fields.iter().map(FieldInfo::def).collect();
    let options = QueryFormatOptions {
        units: req.units,
        separator: req.separator.as_deref(),
        header: req.header,
        verbose: req.verbose,
    };
    format_query_result(&defs, &resp.data, &options, overrides)
}

/// Ganeti's `GenericList`.
pub fn generic_list(
    ctx: &mut Ctx<'_>,
    req: &ListRequest,
    overrides: &[(&str, ColumnFormat)],
) -> Result<i32, CliError> {
    let filter = req.filter()?;
    let fields: Vec<&str> = req.fields.iter().map(String::as_str).collect();
    let resp = ctx.query(req.resource, &fields, filter)?;
    let found_unknown = warn_unknown(ctx, &resp.fields)?;
    let (outcome, lines) = format_response(&resp, req, overrides);
    for l in &lines {
        ctx.outln(l)?;
    }
    if outcome == QueryOutcome::Unknown || found_unknown {
        return Ok(EXIT_UNKNOWN_FIELD);
    }
    Ok(0)
}

/// The name Ganeti shows for a field kind in `list-fields`.
pub fn kind_title(kind: &str) -> String {
    match FieldKind::from_name(kind) {
        Some(k) => k.description().to_string(),
        None => kind.to_string(),
    }
}

/// Ganeti's `GenericListFields`.
pub fn generic_list_fields(
    ctx: &mut Ctx<'_>,
    resource: &str,
    fields: &[String],
    opts: &Opts,
) -> Result<i32, CliError> {
    let fields_arg = if fields.is_empty() {
        Value::Null
    } else {
        json!(fields)
    };
    let r = ctx.call(Method::QueryFields, json!([resource, fields_arg]))?;
    let resp = QueryResponse::from_json(&r)?;
    let found_unknown = warn_unknown(ctx, &resp.fields)?;
    let columns = [
        Column::new("Name", false),
        Column::new("Type", false),
        Column::new("Title", false),
        Column::new("Description", false),
    ];
    let rows: Vec<Vec<Cell>> = resp
        .fields
        .iter()
        .map(|f| {
            vec![
                Cell::new(f.name.clone()),
                Cell::new(kind_title(&f.kind)),
                Cell::new(f.title.clone()),
                Cell::new(f.doc.clone()),
            ]
        })
        .collect();
    let sep = opts.str("separator");
    for l in format_table(&columns, &rows, !opts.flag("no_headers"), sep.as_deref()) {
        ctx.outln(&l)?;
    }
    Ok(if found_unknown { EXIT_UNKNOWN_FIELD } else { 0 })
}

/// Tag object kinds (`constants.TAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// The cluster.
    Cluster,
    /// A node.
    Node,
    /// An instance.
    Instance,
    /// A node group.
    NodeGroup,
    /// A network.
    Network,
}

impl TagKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TagKind::Cluster => "cluster",
            TagKind::Node => "node",
            TagKind::Instance => "instance",
            TagKind::NodeGroup => "nodegroup",
            TagKind::Network => "network",
        }
    }
}

/// `_ExtractTagsObject`: the object name (and the remaining arguments).
fn tag_object(kind: TagKind, mut args: Vec<String>) -> Result<(String, Vec<String>), CliError> {
    if kind == TagKind::Cluster {
        return Ok((String::new(), args));
    }
    if args.is_empty() {
        return Err(GanetiErr::inval("no arguments passed to the command").into());
    }
    let name = args.remove(0);
    Ok((name, args))
}

/// `_ExtendTags`: append the tags read from `--from FILE` (`-` = stdin).
fn extend_tags(opts: &Opts, args: &mut Vec<String>) -> Result<(), CliError> {
    let Some(src) = opts.str("tags_source") else {
        return Ok(());
    };
    let text = if src == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
        s
    } else {
        std::fs::read_to_string(&src)?
    };
    args.extend(text.lines().map(|l| l.trim().to_string()));
    Ok(())
}

/// Defines the `list-tags`, `add-tags` and `remove-tags` handlers of a
/// command group for one tag kind (they differ only in the kind).
#[macro_export]
macro_rules! tag_commands {
    ($kind:expr) => {
        fn list_tags(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
            $crate::query::list_tags(ctx, $kind, opts, args)
        }

        fn add_tags(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
            $crate::query::add_tags(ctx, $kind, opts, args)
        }

        fn remove_tags(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
            $crate::query::remove_tags(ctx, $kind, opts, args)
        }
    };
}

/// Ganeti's `ListTags`.
pub fn list_tags(
    ctx: &mut Ctx<'_>,
    kind: TagKind,
    _opts: &Opts,
    args: Vec<String>,
) -> Result<i32, CliError> {
    let (name, _) = tag_object(kind, args)?;
    let r = ctx.call(Method::QueryTags, json!([kind.as_str(), name]))?;
    let mut tags: Vec<String> = r
        .as_array()
        .map(|a| a.iter().map(ganeti_clifmt::pystr::py_str).collect())
        .unwrap_or_default();
    tags.sort();
    for t in tags {
        ctx.outln(&t)?;
    }
    Ok(0)
}

/// The opcode of `add-tags` / `remove-tags`.
pub fn tags_opcode(
    op_id: &str,
    kind: TagKind,
    opts: &Opts,
    args: Vec<String>,
) -> Result<Value, CliError> {
    let (name, mut tags) = tag_object(kind, args)?;
    extend_tags(opts, &mut tags)?;
    if tags.is_empty() {
        let what = if op_id == "OP_TAGS_SET" {
            "added"
        } else {
            "removed"
        };
        return Err(GanetiErr::inval(format!("No tags to be {what}")).into());
    }
    Ok(opcode(
        op_id,
        vec![
            ("kind", json!(kind.as_str())),
            ("name", json!(name)),
            ("tags", json!(tags)),
        ],
    ))
}

/// Ganeti's `AddTags`.
pub fn add_tags(
    ctx: &mut Ctx<'_>,
    kind: TagKind,
    opts: &Opts,
    args: Vec<String>,
) -> Result<i32, CliError> {
    let op = tags_opcode("OP_TAGS_SET", kind, opts, args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// Ganeti's `RemoveTags`.
pub fn remove_tags(
    ctx: &mut Ctx<'_>,
    kind: TagKind,
    opts: &Opts,
    args: Vec<String>,
) -> Result<i32, CliError> {
    let op = tags_opcode("OP_TAGS_DEL", kind, opts, args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `",".join(str(x) for x in value)` as a column format.
pub fn join_override(sep: &'static str) -> ColumnFormat {
    ColumnFormat::join_list(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parsing() {
        let d = ["name", "os"];
        assert_eq!(parse_fields(None, &d), vec!["name", "os"]);
        assert_eq!(
            parse_fields(Some("+a,b".into()), &d),
            vec!["name", "os", "a", "b"]
        );
        assert_eq!(parse_fields(Some("x".into()), &d), vec!["x"]);
    }

    #[test]
    fn name_selection() {
        let rows = vec![
            vec![json!("inst1.example.com"), json!(1)],
            vec![json!("inst10.example.com"), json!(2)],
            vec![json!("inst2.example.com"), json!(3)],
        ];
        let sel = select_named(&rows, &["inst2".into(), "inst1".into(), "nope".into()]);
        assert_eq!(sel.len(), 2);
        assert_eq!(sel[0][1], json!(3));
        assert_eq!(sel[1][1], json!(1));
        assert_eq!(select_named(&rows, &[]).len(), 3);
        assert!(!name_matches("inst", "inst1.example.com"));
        assert!(name_matches("inst1.example", "inst1.example.com"));
    }

    #[test]
    fn response_decoding() {
        let v = json!({"fields": [{"name": "name", "title": "Instance", "kind": "text", "doc": "d"},
                                   {"name": "frob", "title": "frob", "kind": "unknown", "doc": ""}],
                       "data": [[[0, "a"], [1, null]]]});
        let r = QueryResponse::from_json(&v).unwrap();
        assert_eq!(r.unknown_fields().len(), 1);
        assert_eq!(r.values(), vec![vec![json!("a"), Value::Null]]);
        assert!(QueryResponse::from_json(&json!({"fields": [], "data": [["bad"]]})).is_err());
    }
}
