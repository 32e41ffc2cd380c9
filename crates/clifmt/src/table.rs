//! Tables as the `gnt-* list` commands print them, and the formatting of
//! query result values (`FormatQueryResult`, `FormatTable`, `GenerateTable`).
//!
//! Why: list output is parsed by scripts, so widths, alignment and the
//! absence of trailing blanks must be exactly Ganeti's: columns are joined
//! by one space, numeric columns are right-aligned, the last column is not
//! padded unless right-aligned, `--separator` disables alignment, and
//! abnormal query results print as `??`/`?`/`*`/`-`. The table functions
//! take already formatted cells so the caller decides per field how a value
//! looks; [`format_query_value`] and [`format_query_result`] implement
//! Ganeti's default per-kind formatting on top of them. Widths are counted
//! in characters, as Python does.

use serde_json::Value;

use crate::pystr;
use crate::timefmt;
use crate::units::{self, Units};

/// One formatted cell. `width` is what counts for the column width; it is
/// the number of characters except where Ganeti measures something else
/// (a formatter returning a Python list is measured by its length).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The text shown.
    pub text: String,
    /// The width used for aligning the column.
    pub width: usize,
}

impl Cell {
    /// A cell measured by its characters.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let width = text.chars().count();
        Self { text, width }
    }

    /// A cell with an explicit measure.
    pub fn with_width(text: impl Into<String>, width: usize) -> Self {
        Self {
            text: text.into(),
            width,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::new(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::new(text)
    }
}

/// A column of [`format_table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header text.
    pub title: String,
    /// Right-align (numbers) instead of left-align.
    pub align_right: bool,
}

impl Column {
    /// A column.
    pub fn new(title: impl Into<String>, align_right: bool) -> Self {
        Self {
            title: title.into(),
            align_right,
        }
    }
}

/// Python's `"%*s"` / `"%-*s"`: pads to `width` counting `measure` as the
/// text's width.
fn pad(text: &str, measure: usize, width: usize, right: bool) -> String {
    let fill = width.saturating_sub(measure);
    let mut out = String::with_capacity(text.len() + fill);
    if right {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(text);
    } else {
        out.push_str(text);
        out.extend(std::iter::repeat_n(' ', fill));
    }
    out
}

fn cell_at(row: &[Cell], idx: usize) -> Cell {
    row.get(idx).cloned().unwrap_or_else(|| Cell::new(""))
}

/// Ganeti's `cli.FormatTable`: one line per row (plus a header line when
/// `header`), without line ends.
///
/// With a `separator` the cells are simply joined by it. Without, columns
/// are joined by a space and padded to their widest cell (header included),
/// except that a left-aligned last column is not padded. Missing cells
/// count as empty; cells beyond the columns are ignored.
pub fn format_table(
    columns: &[Column],
    rows: &[Vec<Cell>],
    header: bool,
    separator: Option<&str>,
) -> Vec<String> {
    let mut data: Vec<Vec<Cell>> = Vec::with_capacity(rows.len() + 1);
    let mut widths: Vec<usize> = vec![0; columns.len()];
    if header {
        let titles: Vec<Cell> = columns.iter().map(|c| Cell::new(c.title.clone())).collect();
        for (w, t) in widths.iter_mut().zip(&titles) {
            *w = t.width;
        }
        data.push(titles);
    }
    for row in rows {
        let cells: Vec<Cell> = (0..columns.len()).map(|i| cell_at(row, i)).collect();
        for (w, c) in widths.iter_mut().zip(&cells) {
            *w = (*w).max(c.width);
        }
        data.push(cells);
    }
    if let Some(sep) = separator {
        return data
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| c.text.as_str())
                    .collect::<Vec<_>>()
                    .join(sep)
            })
            .collect();
    }
    if let (Some(last), Some(w)) = (columns.last(), widths.last_mut()) {
        if !last.align_right {
            *w = 0;
        }
    }
    data.iter()
        .map(|row| {
            row.iter()
                .zip(columns.iter().zip(&widths))
                .map(|(cell, (col, width))| pad(&cell.text, cell.width, *width, col.align_right))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// A field of [`generate_table`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableField {
    /// The header text (Ganeti falls back to the field name).
    pub header: String,
    /// Right-align.
    pub numeric: bool,
    /// Values that parse as integers are MiB and formatted with the units.
    pub unit: bool,
}

impl TableField {
    /// A left-aligned, non-unit field.
    pub fn text(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            numeric: false,
            unit: false,
        }
    }

    /// A right-aligned field.
    pub fn numeric(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            numeric: true,
            unit: false,
        }
    }

    /// A right-aligned field of sizes in MiB.
    pub fn unit(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            numeric: true,
            unit: true,
        }
    }
}

/// Ganeti's older `cli.GenerateTable` (used by `gnt-node list-storage`,
/// `volumes`, `physical-volumes`, `gnt-os list`, ...).
///
/// Like [`format_table`], plus: unit fields whose text is an integer are
/// formatted with `units` (default: see [`Units::default_for`]); a `None`
/// row prints `-` in every column and does not count for the widths.
pub fn generate_table(
    fields: &[TableField],
    show_headers: bool,
    separator: Option<&str>,
    rows: &[Option<Vec<String>>],
    units: Option<Units>,
) -> Vec<String> {
    let units = Units::resolve(units, separator);
    let converted: Vec<Option<Vec<String>>> = rows
        .iter()
        .map(|row| {
            row.as_ref().map(|cells| {
                cells
                    .iter()
                    .enumerate()
                    .map(|(idx, val)| {
                        let is_unit = fields.get(idx).is_some_and(|f| f.unit);
                        match (is_unit, pystr::py_int(val)) {
                            (true, Some(mib)) => {
                                // Sizes in MiB are far below 2^53.
                                #[allow(clippy::cast_precision_loss)]
                                let v = mib as f64;
                                units::format_unit(v, units)
                            }
                            _ => val.clone(),
                        }
                    })
                    .collect()
            })
        })
        .collect();
    let mut widths = vec![0usize; fields.len()];
    if separator.is_none() {
        for row in converted.iter().flatten() {
            for (w, val) in widths.iter_mut().zip(row) {
                *w = (*w).max(val.chars().count());
            }
        }
    }
    let mut lines = Vec::with_capacity(rows.len() + 1);
    let render = |cells: Vec<String>, widths: &[usize]| -> String {
        match separator {
            Some(sep) => cells.join(sep),
            None => cells
                .iter()
                .zip(fields.iter().zip(widths))
                .map(|(c, (f, w))| pad(c, c.chars().count(), *w, f.numeric))
                .collect::<Vec<_>>()
                .join(" "),
        }
    };
    if show_headers {
        if separator.is_none() {
            for (w, f) in widths.iter_mut().zip(fields) {
                *w = (*w).max(f.header.chars().count());
            }
        }
        let headers = fields.iter().map(|f| f.header.clone()).collect();
        lines.push(render(headers, &widths));
    }
    if separator.is_none() {
        if let (Some(last), Some(w)) = (fields.last(), widths.last_mut()) {
            if !last.numeric {
                *w = 0;
            }
        }
    }
    for row in &converted {
        let cells: Vec<String> = match row {
            Some(cells) => (0..fields.len())
                .map(|i| cells.get(i).cloned().unwrap_or_default())
                .collect(),
            None => vec!["-".to_string(); fields.len()],
        };
        lines.push(render(cells, &widths));
    }
    lines
}

/// The kinds of query fields (`constants.QFT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `unknown`: a field the server does not know.
    Unknown,
    /// `text`.
    Text,
    /// `bool`: printed `Y`/`N`.
    Bool,
    /// `number`: right-aligned.
    Number,
    /// `float`: right-aligned.
    NumberFloat,
    /// `unit`: a size in MiB, formatted with `--units`, right-aligned.
    Unit,
    /// `timestamp`: seconds since the epoch, printed in local time.
    Timestamp,
    /// `other`: anything, printed as Python's `str()`.
    Other,
}

impl FieldKind {
    /// The kind for its wire name (`text`, `unit`, ...).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "unknown" => FieldKind::Unknown,
            "text" => FieldKind::Text,
            "bool" => FieldKind::Bool,
            "number" => FieldKind::Number,
            "float" => FieldKind::NumberFloat,
            "unit" => FieldKind::Unit,
            "timestamp" => FieldKind::Timestamp,
            "other" => FieldKind::Other,
            _ => return None,
        })
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Unknown => "unknown",
            FieldKind::Text => "text",
            FieldKind::Bool => "bool",
            FieldKind::Number => "number",
            FieldKind::NumberFloat => "float",
            FieldKind::Unit => "unit",
            FieldKind::Timestamp => "timestamp",
            FieldKind::Other => "other",
        }
    }

    /// The "Type" column of `list-fields`.
    pub fn description(self) -> &'static str {
        match self {
            FieldKind::Unknown => "Unknown",
            FieldKind::Text => "Text",
            FieldKind::Bool => "Boolean",
            FieldKind::Number => "Number",
            FieldKind::NumberFloat => "Floating-point number",
            FieldKind::Unit => "Storage size",
            FieldKind::Timestamp => "Timestamp",
            FieldKind::Other => "Custom",
        }
    }

    /// Whether values of this kind are right-aligned by default.
    pub fn align_right(self) -> bool {
        matches!(
            self,
            FieldKind::Number | FieldKind::NumberFloat | FieldKind::Unit
        )
    }
}

/// The status of one query result value (`constants.RS_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultStatus {
    /// 0: a value.
    Normal,
    /// 1: unknown field.
    Unknown,
    /// 2: no data (e.g. RPC error).
    NoData,
    /// 3: value unavailable for this item.
    Unavail,
    /// 4: resource marked offline.
    Offline,
}

impl ResultStatus {
    /// The status for its numeric code.
    pub fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            0 => ResultStatus::Normal,
            1 => ResultStatus::Unknown,
            2 => ResultStatus::NoData,
            3 => ResultStatus::Unavail,
            4 => ResultStatus::Offline,
            _ => return None,
        })
    }

    /// The numeric code.
    pub fn code(self) -> i64 {
        match self {
            ResultStatus::Normal => 0,
            ResultStatus::Unknown => 1,
            ResultStatus::NoData => 2,
            ResultStatus::Unavail => 3,
            ResultStatus::Offline => 4,
        }
    }

    /// Splits a `[status, value]` pair as the query protocol sends it.
    pub fn parse_pair(pair: &Value) -> Option<(ResultStatus, &Value)> {
        match pair.as_array().map(Vec::as_slice) {
            Some([status, value]) => Some((Self::from_code(status.as_i64()?)?, value)),
            _ => None,
        }
    }
}

/// The text of an abnormal result (`cli.FormatResultError`): terse `??`,
/// `?`, `-`, `*` or verbose `(unknown)`, `(nodata)`, `(unavail)`,
/// `(offline)`; `None` for [`ResultStatus::Normal`].
pub fn format_result_error(status: ResultStatus, verbose: bool) -> Option<&'static str> {
    let (long, short) = match status {
        ResultStatus::Normal => return None,
        ResultStatus::Unknown => ("(unknown)", "??"),
        ResultStatus::NoData => ("(nodata)", "?"),
        ResultStatus::Unavail => ("(unavail)", "-"),
        ResultStatus::Offline => ("(offline)", "*"),
    };
    Some(if verbose { long } else { short })
}

/// Formats a normal value by its kind as Ganeti does by default: `Y`/`N`
/// for bools (by Python truth), [`units::format_unit`] for sizes,
/// `YYYY-MM-DD HH:MM:SS` local time for timestamps (`N/A` if not a
/// number), Python's `str()` for everything else.
pub fn format_query_value(kind: FieldKind, value: &Value, units: Units) -> String {
    match kind {
        FieldKind::Bool => if pystr::py_truthy(value) { "Y" } else { "N" }.to_string(),
        FieldKind::Unit => match json_number(value) {
            Some(n) => units::format_unit(n, units),
            None => pystr::py_str(value),
        },
        FieldKind::Timestamp => timefmt::format_time(json_number(value)),
        _ => pystr::py_str(value),
    }
}

/// A number as Python sees it (`True` is 1).
fn json_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// A query result cell: the status text for abnormal results, else
/// [`format_query_value`].
pub fn format_query_cell(
    kind: FieldKind,
    status: ResultStatus,
    value: &Value,
    units: Units,
    verbose: bool,
) -> String {
    match format_result_error(status, verbose) {
        Some(text) => text.to_string(),
        None => format_query_value(kind, value, units),
    }
}

/// A field definition of a query response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// The field name (`name`, `be/memory`).
    pub name: String,
    /// The column title (`Instance`, `ConfigMaxMem`).
    pub title: String,
    /// The kind.
    pub kind: FieldKind,
}

/// A formatter replacing the default of a field (Ganeti's
/// `format_override`), applied to normal values only.
pub struct ColumnFormat {
    /// Formats the value.
    pub format: Box<dyn Fn(&Value) -> Cell>,
    /// Right-align the column.
    pub align_right: bool,
}

impl std::fmt::Debug for ColumnFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ColumnFormat")
            .field("align_right", &self.align_right)
            .finish_non_exhaustive()
    }
}

impl ColumnFormat {
    /// Any formatter.
    pub fn new(align_right: bool, format: impl Fn(&Value) -> Cell + 'static) -> Self {
        Self {
            format: Box::new(format),
            align_right,
        }
    }

    /// A list joined by `sep`, each item as Python's `str()`
    /// (`",".join(str(i) for i in value)`); non-lists as `str()`.
    pub fn join_list(sep: &'static str) -> Self {
        Self::new(false, move |value| {
            Cell::new(match value {
                Value::Array(items) => items
                    .iter()
                    .map(pystr::py_str)
                    .collect::<Vec<_>>()
                    .join(sep),
                other => pystr::py_str(other),
            })
        })
    }
}

/// The overall status of a formatted query (`QR_*` in `cli.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryOutcome {
    /// All values normal.
    Normal,
    /// Some field was unknown: `list` exits with 14.
    Unknown,
    /// Some value was not available (no effect on the exit code).
    Incomplete,
}

/// Options of [`format_query_result`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueryFormatOptions<'a> {
    /// `--units`; `None` for the default of the separator.
    pub units: Option<Units>,
    /// `--separator`.
    pub separator: Option<&'a str>,
    /// Print the header line (not `--no-headers`).
    pub header: bool,
    /// `-v`: verbose texts for abnormal results.
    pub verbose: bool,
}

/// Ganeti's `cli.FormatQueryResult`: the table lines of a query response
/// and its overall status. `rows` hold one `(status, value)` per field;
/// `overrides` replace the default formatting of fields by name.
pub fn format_query_result(
    fields: &[FieldDef],
    rows: &[Vec<(ResultStatus, Value)>],
    options: &QueryFormatOptions<'_>,
    overrides: &[(&str, ColumnFormat)],
) -> (QueryOutcome, Vec<String>) {
    let units = Units::resolve(options.units, options.separator);
    let override_for = |name: &str| -> Option<&ColumnFormat> {
        overrides.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    };
    let columns: Vec<Column> = fields
        .iter()
        .map(|f| {
            let right = override_for(&f.name).map_or(f.kind.align_right(), |o| o.align_right);
            Column::new(f.title.clone(), right)
        })
        .collect();
    let mut any_unknown = false;
    let mut any_abnormal = false;
    let null = Value::Null;
    let cells: Vec<Vec<Cell>> = rows
        .iter()
        .map(|row| {
            fields
                .iter()
                .enumerate()
                .map(|(idx, field)| {
                    let (status, value) = row
                        .get(idx)
                        .map_or((ResultStatus::Unknown, &null), |(s, v)| (*s, v));
                    match status {
                        ResultStatus::Normal => {}
                        ResultStatus::Unknown => any_unknown = true,
                        _ => any_abnormal = true,
                    }
                    if let Some(text) = format_result_error(status, options.verbose) {
                        return Cell::new(text);
                    }
                    match override_for(&field.name) {
                        Some(o) => (o.format)(value),
                        None => Cell::new(format_query_value(field.kind, value, units)),
                    }
                })
                .collect()
        })
        .collect();
    let table = format_table(&columns, &cells, options.header, options.separator);
    let unknown_fields = fields.iter().any(|f| f.kind == FieldKind::Unknown);
    let outcome = if any_unknown || (rows.is_empty() && unknown_fields) {
        QueryOutcome::Unknown
    } else if any_abnormal {
        QueryOutcome::Incomplete
    } else {
        QueryOutcome::Normal
    };
    (outcome, table)
}

/// The stderr line for unknown fields (`None` if there are none):
/// `Warning: Queried for unknown fields a, b`.
pub fn unknown_fields_warning(fields: &[FieldDef]) -> Option<String> {
    let unknown: Vec<&str> = fields
        .iter()
        .filter(|f| f.kind == FieldKind::Unknown)
        .map(|f| f.name.as_str())
        .collect();
    if unknown.is_empty() {
        None
    } else {
        Some(format!(
            "Warning: Queried for unknown fields {}",
            pystr::comma_join(unknown)
        ))
    }
}

/// One row of `list-fields` (`Name`, `Type`, `Title`, `Description`).
pub fn list_fields_row(name: &str, kind: FieldKind, title: &str, doc: &str) -> Vec<Cell> {
    vec![
        Cell::new(name),
        Cell::new(kind.description()),
        Cell::new(title),
        Cell::new(doc),
    ]
}

/// The columns of `list-fields`.
pub fn list_fields_columns() -> Vec<Column> {
    ["Name", "Type", "Title", "Description"]
        .into_iter()
        .map(|t| Column::new(t, false))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What Ganeti 3.0.2 printed for a recorded case.
    fn fixture(name: &str) -> Option<String> {
        ganeti_fixtures::cli(&format!("{name}.out"))
    }

    fn lines(out: &[String]) -> String {
        let mut text = out.join("\n");
        text.push('\n');
        text
    }

    fn n(v: i64) -> (ResultStatus, Value) {
        (ResultStatus::Normal, json!(v))
    }

    fn t(v: &str) -> (ResultStatus, Value) {
        (ResultStatus::Normal, json!(v))
    }

    fn unavail() -> (ResultStatus, Value) {
        (ResultStatus::Unavail, Value::Null)
    }

    fn field(name: &str, title: &str, kind: FieldKind) -> FieldDef {
        FieldDef {
            name: name.into(),
            title: title.into(),
            kind,
        }
    }

    fn instance_fields() -> Vec<FieldDef> {
        vec![
            field("name", "Instance", FieldKind::Text),
            field("hypervisor", "Hypervisor", FieldKind::Text),
            field("os", "OS", FieldKind::Text),
            field("pnode", "Primary_node", FieldKind::Text),
            field("status", "Status", FieldKind::Text),
            field("oper_ram", "Memory", FieldKind::Unit),
        ]
    }

    fn instance_rows() -> Vec<Vec<(ResultStatus, Value)>> {
        let row = |name: &str, status: &str, mem: Option<i64>| {
            vec![
                t(name),
                t("fake"),
                t("noop"),
                t("node1.example.com"),
                t(status),
                mem.map_or_else(unavail, n),
            ]
        };
        vec![
            row("inst1.example.com", "running", Some(128)),
            row("inst2.example.com", "ADMIN_down", None),
            row("inst3.example.com", "running", Some(256)),
            row("noresolve-inst", "ADMIN_down", None),
        ]
    }

    #[test]
    fn instance_list_matches_fixture() {
        let opts = QueryFormatOptions {
            header: true,
            ..Default::default()
        };
        let (outcome, out) = format_query_result(&instance_fields(), &instance_rows(), &opts, &[]);
        assert_eq!(outcome, QueryOutcome::Incomplete);
        let text = lines(&out);
        assert!(text
            .contains("inst1.example.com fake       noop node1.example.com running      128M\n"));
        if let Some(want) = fixture("instance_list") {
            assert_eq!(text, want);
        }
    }

    #[test]
    fn instance_list_separators_match_fixtures() {
        let opts = QueryFormatOptions {
            header: true,
            separator: Some("|"),
            ..Default::default()
        };
        let (_, out) = format_query_result(&instance_fields(), &instance_rows(), &opts, &[]);
        assert_eq!(out[0], "Instance|Hypervisor|OS|Primary_node|Status|Memory");
        assert_eq!(
            out[2],
            "inst2.example.com|fake|noop|node1.example.com|ADMIN_down|-"
        );
        if let Some(want) = fixture("instance_list_sep") {
            assert_eq!(lines(&out), want);
        }
        let opts = QueryFormatOptions {
            header: false,
            separator: Some(","),
            ..Default::default()
        };
        let (_, out) = format_query_result(&instance_fields(), &instance_rows(), &opts, &[]);
        assert_eq!(out.len(), 4);
        assert_eq!(
            out[0],
            "inst1.example.com,fake,noop,node1.example.com,running,128"
        );
        if let Some(want) = fixture("instance_list_noheaders_sep") {
            assert_eq!(lines(&out), want);
        }
    }

    fn node_fields() -> Vec<FieldDef> {
        let mut f = vec![field("name", "Node", FieldKind::Text)];
        for (name, title) in [
            ("dtotal", "DTotal"),
            ("dfree", "DFree"),
            ("mtotal", "MTotal"),
            ("mnode", "MNode"),
            ("mfree", "MFree"),
        ] {
            f.push(field(name, title, FieldKind::Unit));
        }
        f.push(field("pinst_cnt", "Pinst", FieldKind::Number));
        f.push(field("sinst_cnt", "Sinst", FieldKind::Number));
        f
    }

    #[test]
    fn node_list_units_match_fixtures() {
        let fields = node_fields();
        let row = |mfree: i64| {
            vec![
                t("node1.example.com"),
                n(258_019),
                n(81_009),
                n(24_105),
                n(255),
                n(mfree),
                n(0),
                n(0),
            ]
        };
        // The free memory differs between the captures (it varies).
        for (units, mfree, name) in [
            (Some(Units::Human), 23_565, "node_list_units_h"),
            (None, 23_565, "node_list"),
            (Some(Units::Mebi), 23_565, "node_list_units_m"),
            (Some(Units::Gibi), 23_565, "node_list_units_g"),
            (Some(Units::Tebi), 23_565, "node_list_units_t"),
        ] {
            let opts = QueryFormatOptions {
                units,
                header: true,
                ..Default::default()
            };
            let (outcome, out) = format_query_result(&fields, &[row(mfree)], &opts, &[]);
            assert_eq!(outcome, QueryOutcome::Normal);
            assert_eq!(
                out[0],
                "Node              DTotal DFree MTotal MNode MFree Pinst Sinst"
            );
            if let Some(want) = fixture(name) {
                assert_eq!(lines(&out), want, "{name}");
            }
        }
        let opts = QueryFormatOptions {
            separator: Some("|"),
            header: true,
            ..Default::default()
        };
        let (_, out) = format_query_result(&fields, &[row(23_569)], &opts, &[]);
        assert_eq!(out[1], "node1.example.com|258019|81009|24105|255|23569|0|0");
        if let Some(want) = fixture("node_list_sep") {
            assert_eq!(lines(&out), want);
        }
    }

    #[test]
    fn instance_list_units_with_list_override() {
        let fields = vec![
            field("name", "Instance", FieldKind::Text),
            field("disk.sizes", "Disk_sizes", FieldKind::Other),
            field("be/memory", "ConfigMaxMem", FieldKind::Unit),
            field("oper_ram", "Memory", FieldKind::Unit),
        ];
        let rows = vec![
            vec![
                t("inst1.example.com"),
                (ResultStatus::Normal, json!([])),
                n(128),
                n(128),
            ],
            vec![
                t("inst2.example.com"),
                (ResultStatus::Normal, json!([128])),
                n(128),
                unavail(),
            ],
            vec![
                t("inst3.example.com"),
                (ResultStatus::Normal, json!([256])),
                n(256),
                n(256),
            ],
            vec![
                t("noresolve-inst"),
                (ResultStatus::Normal, json!([])),
                n(128),
                unavail(),
            ],
        ];
        let overrides = [("disk.sizes", ColumnFormat::join_list(","))];
        for (units, name) in [
            (Units::Human, "instance_list_units_h"),
            (Units::Mebi, "instance_list_units_m"),
            (Units::Gibi, "instance_list_units_g"),
        ] {
            let opts = QueryFormatOptions {
                units: Some(units),
                header: true,
                ..Default::default()
            };
            let (_, out) = format_query_result(&fields, &rows, &opts, &overrides);
            if let Some(want) = fixture(name) {
                assert_eq!(lines(&out), want, "{name}");
            }
        }
        let opts = QueryFormatOptions {
            units: Some(Units::Gibi),
            header: true,
            ..Default::default()
        };
        let (_, out) = format_query_result(&fields, &rows, &opts, &overrides);
        assert_eq!(out[2], "inst2.example.com 128                 0.1      -");
    }

    #[test]
    fn unknown_field_matches_fixture() {
        let fields = vec![
            field("name", "Instance", FieldKind::Text),
            field("frobfield", "frobfield", FieldKind::Unknown),
        ];
        let rows = vec![
            vec![t("inst1.example.com"), (ResultStatus::Unknown, Value::Null)],
            vec![t("inst2.example.com"), (ResultStatus::Unknown, Value::Null)],
        ];
        let opts = QueryFormatOptions {
            header: true,
            ..Default::default()
        };
        let (outcome, out) = format_query_result(&fields, &rows, &opts, &[]);
        assert_eq!(outcome, QueryOutcome::Unknown);
        assert_eq!(out[1], "inst1.example.com ??");
        if let Some(want) = fixture("err_unknown_field") {
            assert_eq!(lines(&out), want);
        }
        assert_eq!(
            unknown_fields_warning(&fields).as_deref(),
            Some("Warning: Queried for unknown fields frobfield")
        );
        assert_eq!(unknown_fields_warning(&fields[..1]), None);
        // no rows: unknown fields still decide the outcome
        let (outcome, out) = format_query_result(&fields, &[], &opts, &[]);
        assert_eq!(outcome, QueryOutcome::Unknown);
        assert_eq!(out, ["Instance frobfield"]);
    }

    #[test]
    fn job_list_matches_fixture_shape() {
        let fields = vec![
            field("id", "ID", FieldKind::Number),
            field("status", "Status", FieldKind::Text),
            field("summary", "Summary", FieldKind::Other),
        ];
        let rows: Vec<Vec<(ResultStatus, Value)>> = [
            (1, "success", "CLUSTER_POST_INIT"),
            (2, "error", "CLUSTER_ACTIVATE_MASTER_IP"),
        ]
        .into_iter()
        .map(|(id, st, sum)| vec![n(id), t(st), (ResultStatus::Normal, json!([sum]))])
        .collect();
        let overrides = [("summary", ColumnFormat::join_list(","))];
        let opts = QueryFormatOptions {
            header: true,
            ..Default::default()
        };
        let (_, out) = format_query_result(&fields, &rows, &opts, &overrides);
        if let Some(want) = fixture("job_list_ids") {
            assert_eq!(lines(&out), want);
        }
        assert_eq!(out[1], " 1 success CLUSTER_POST_INIT");
    }

    #[test]
    fn other_values_print_as_python() {
        let fields = vec![
            field("uuid", "UUID", FieldKind::Text),
            field("priority", "Priority", FieldKind::Other),
            field("predicates", "Predicates", FieldKind::Other),
            field("tags", "Tags", FieldKind::Other),
            field("running", "Running", FieldKind::Bool),
        ];
        let rows = vec![vec![
            t("7e7c"),
            n(10),
            (
                ResultStatus::Normal,
                json!([["opcode", ["==", "OP_ID", "OP_TEST_DELAY"]]]),
            ),
            (ResultStatus::Normal, json!([])),
            (ResultStatus::Normal, json!(false)),
        ]];
        let opts = QueryFormatOptions {
            header: true,
            ..Default::default()
        };
        let (_, out) = format_query_result(&fields, &rows, &opts, &[]);
        assert_eq!(
            out,
            [
                "UUID Priority Predicates                                     Tags Running",
                "7e7c 10       [['opcode', ['==', 'OP_ID', 'OP_TEST_DELAY']]] []   N",
            ]
        );
    }

    #[test]
    fn result_status_texts() {
        let cases = [
            (ResultStatus::Unknown, "??", "(unknown)"),
            (ResultStatus::NoData, "?", "(nodata)"),
            (ResultStatus::Unavail, "-", "(unavail)"),
            (ResultStatus::Offline, "*", "(offline)"),
        ];
        for (st, short, long) in cases {
            assert_eq!(format_result_error(st, false), Some(short));
            assert_eq!(format_result_error(st, true), Some(long));
            assert_eq!(ResultStatus::from_code(st.code()), Some(st));
            assert_eq!(
                format_query_cell(FieldKind::Text, st, &Value::Null, Units::Human, false),
                short
            );
        }
        assert_eq!(format_result_error(ResultStatus::Normal, true), None);
        assert_eq!(ResultStatus::from_code(5), None);
        assert_eq!(ResultStatus::from_code(-1), None);
        let pair = json!([3, null]);
        assert_eq!(
            ResultStatus::parse_pair(&pair),
            Some((ResultStatus::Unavail, &Value::Null))
        );
        assert_eq!(ResultStatus::parse_pair(&json!([0])), None);
        assert_eq!(ResultStatus::parse_pair(&json!([9, 1])), None);
        assert_eq!(ResultStatus::parse_pair(&json!("x")), None);
    }

    #[test]
    fn query_values_by_kind() {
        let h = Units::Human;
        assert_eq!(format_query_value(FieldKind::Bool, &json!(true), h), "Y");
        assert_eq!(format_query_value(FieldKind::Bool, &json!(null), h), "N");
        assert_eq!(format_query_value(FieldKind::Bool, &json!("x"), h), "Y");
        assert_eq!(format_query_value(FieldKind::Unit, &json!(2048), h), "2.0G");
        assert_eq!(
            format_query_value(FieldKind::Unit, &json!(2048), Units::Mebi),
            "2048"
        );
        assert_eq!(format_query_value(FieldKind::Unit, &json!("x"), h), "x");
        assert_eq!(format_query_value(FieldKind::Number, &json!(7), h), "7");
        assert_eq!(
            format_query_value(FieldKind::NumberFloat, &json!(0.5), h),
            "0.5"
        );
        assert_eq!(format_query_value(FieldKind::Text, &json!(null), h), "None");
        assert_eq!(
            format_query_value(FieldKind::Other, &json!([1795446963, 743722]), h),
            "[1795446963, 743722]"
        );
        // local time; the reference (and these tests) run in UTC
        assert_eq!(
            format_query_value(FieldKind::Timestamp, &json!(1_795_446_960.5), h),
            timefmt::format_time_at(Some(1_795_446_960.5), timefmt::local_offset())
        );
        assert_eq!(
            timefmt::format_time_at(Some(1_795_446_960.5), time::UtcOffset::UTC),
            "2026-11-23 15:16:00"
        );
        assert_eq!(
            format_query_value(FieldKind::Timestamp, &json!("x"), h),
            "N/A"
        );
        assert_eq!(
            format_query_value(FieldKind::Timestamp, &json!(null), h),
            "N/A"
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in [
            FieldKind::Unknown,
            FieldKind::Text,
            FieldKind::Bool,
            FieldKind::Number,
            FieldKind::NumberFloat,
            FieldKind::Unit,
            FieldKind::Timestamp,
            FieldKind::Other,
        ] {
            assert_eq!(FieldKind::from_name(k.name()), Some(k));
        }
        assert_eq!(FieldKind::from_name("frob"), None);
        assert_eq!(FieldKind::Unit.description(), "Storage size");
        assert!(FieldKind::Unit.align_right());
        assert!(!FieldKind::Timestamp.align_right());
    }

    #[test]
    fn format_table_alignment_rules() {
        let cols = vec![
            Column::new("A", false),
            Column::new("Num", true),
            Column::new("Last", false),
        ];
        let rows = vec![
            vec![Cell::new("x"), Cell::new("1"), Cell::new("y")],
            vec![Cell::new("longer"), Cell::new("12345"), Cell::new("z")],
        ];
        assert_eq!(
            format_table(&cols, &rows, true, None),
            ["A        Num Last", "x          1 y", "longer 12345 z"]
        );
        assert_eq!(
            format_table(&cols, &rows, false, None),
            ["x          1 y", "longer 12345 z"]
        );
        // right-aligned last column is padded
        let cols2 = vec![Column::new("A", false), Column::new("N", true)];
        let rows2 = vec![
            vec![Cell::new("a"), Cell::new("1")],
            vec![Cell::new("b"), Cell::new("100")],
        ];
        assert_eq!(
            format_table(&cols2, &rows2, true, None),
            ["A   N", "a   1", "b 100"]
        );
        // separators: no padding at all; '%' is not special
        assert_eq!(
            format_table(&cols, &rows, true, Some("%s")),
            ["A%sNum%sLast", "x%s1%sy", "longer%s12345%sz"]
        );
        assert_eq!(
            format_table(&cols, &rows, false, Some("")),
            ["x1y", "longer12345z"]
        );
        // widths count characters, not bytes
        let cols3 = vec![Column::new("N", false), Column::new("X", false)];
        let rows3 = vec![
            vec![Cell::new("é"), Cell::new("1")],
            vec![Cell::new("ab"), Cell::new("2")],
        ];
        assert_eq!(format_table(&cols3, &rows3, false, None), ["é  1", "ab 2"]);
        // explicit measures (a Python list measured by its length)
        let rows4 = vec![vec![Cell::with_width("['a', 'b']", 2), Cell::new("1")]];
        assert_eq!(
            format_table(&cols3, &rows4, true, None),
            ["N  X", "['a', 'b'] 1"]
        );
        // short rows are padded with empty cells, no columns gives empty lines
        let rows5 = vec![vec![Cell::new("only")]];
        assert_eq!(format_table(&cols3, &rows5, false, None), ["only "]);
        assert_eq!(format_table(&[], &rows5, true, None), [""; 2]);
        assert!(format_table(&cols3, &[], false, None).is_empty());
    }

    #[test]
    fn generate_table_like_ganeti() {
        let fields = vec![
            TableField::text("Node"),
            TableField::unit("Size"),
            TableField::numeric("Cnt"),
            TableField::text("Name"),
        ];
        let rows = vec![
            Some(vec![
                "node1".to_string(),
                "2048".into(),
                "3".into(),
                "xenvg".into(),
            ]),
            None,
            Some(vec![
                "n2".to_string(),
                "abc".into(),
                "10".into(),
                "v".into(),
            ]),
        ];
        assert_eq!(
            generate_table(&fields, true, None, &rows, None),
            [
                // Ganeti pads the header of the last column (data lines not)
                "Node  Size Cnt Name ",
                "node1 2.0G   3 xenvg",
                "-        -   - -",
                "n2     abc  10 v",
            ]
        );
        assert_eq!(
            generate_table(&fields, false, Some("|"), &rows, None),
            ["node1|2048|3|xenvg", "-|-|-|-", "n2|abc|10|v"]
        );
        assert_eq!(
            generate_table(&fields, true, Some("|"), &rows, Some(Units::Gibi)),
            [
                "Node|Size|Cnt|Name",
                "node1|2.0|3|xenvg",
                "-|-|-|-",
                "n2|abc|10|v"
            ]
        );
        // no headers, only None rows: nothing to measure
        assert_eq!(
            generate_table(&fields, false, None, &[None], None),
            ["- - - -"]
        );
    }

    #[test]
    fn list_storage_matches_fixture() {
        let fields = vec![
            TableField::text("Node"),
            TableField::text("Type"),
            TableField::text("Name"),
            TableField::unit("Size"),
            TableField::unit("Used"),
            TableField::unit("Free"),
            TableField::text("Allocatable"),
        ];
        let row = [
            "node1.example.com",
            "file",
            "/srv/ganeti/file-storage",
            "258019",
            "0",
            "81009",
            "Y",
        ];
        let rows = vec![Some(row.iter().map(|s| s.to_string()).collect())];
        let out = generate_table(&fields, true, None, &rows, None);
        assert_eq!(
            out[1],
            "node1.example.com file /srv/ganeti/file-storage 252.0G   0M 79.1G Y"
        );
        if let Some(want) = fixture("node_list_storage") {
            assert_eq!(lines(&out), want);
        }
        let out = generate_table(&fields, false, Some("|"), &rows, None);
        assert_eq!(
            out,
            ["node1.example.com|file|/srv/ganeti/file-storage|258019|0|81009|Y"]
        );
    }

    #[test]
    fn os_list_via_generate_table() {
        let fields = vec![TableField::text("Name")];
        let rows = vec![Some(vec!["noop".to_string()])];
        let out = generate_table(&fields, true, None, &rows, None);
        assert_eq!(out, ["Name", "noop"]);
        if let Some(want) = fixture("os_list") {
            assert_eq!(lines(&out), want);
        }
    }

    #[test]
    fn list_fields_matches_fixture() {
        let rows = vec![
            list_fields_row("name", FieldKind::Text, "Instance", "Instance name"),
            list_fields_row(
                "be/memory",
                FieldKind::Unit,
                "ConfigMaxMem",
                "The \"maxmem\" backend parameter",
            ),
        ];
        let out = format_table(&list_fields_columns(), &rows, true, None);
        assert_eq!(
            out,
            [
                "Name      Type         Title        Description",
                "name      Text         Instance     Instance name",
                "be/memory Storage size ConfigMaxMem The \"maxmem\" backend parameter",
            ]
        );
    }
}
