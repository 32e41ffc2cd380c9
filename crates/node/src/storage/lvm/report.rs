//! Reading LVM's reports: `vgs`, `pvs` and `lvs` output.
//!
//! Every report is asked for the way Ganeti asks (`--noheadings
//! --nosuffix --units=m --separator=|` and an explicit field list), so each
//! line is the requested fields in order, separated by `|`, indented by
//! two spaces. A line with the wrong number of fields means we do not
//! understand the tool: that is an error, not a row to skip, except where
//! Ganeti itself skips (the storage listing).
//!
//! Sizes come as decimal MiB (`60.00`, or `0` for nothing) and are rounded
//! to whole MiB as Ganeti does; `lvs` is read in KiB so extent sizes are
//! exact.

use std::collections::BTreeMap;

use crate::storage::lvm::LvmTools;
use crate::NodeError;

/// The field separator we ask for.
pub(crate) const SEP: &str = "|";

/// One volume group (`vgs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VgInfo {
    pub name: String,
    pub size_mib: u64,
    pub free_mib: u64,
    /// `vg_attr`, e.g. `wz--n-`; `r` first means read-only.
    pub attr: String,
}

/// One physical volume (`pvs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvInfo {
    pub name: String,
    /// Empty for a PV in no volume group.
    pub vg_name: String,
    pub size_mib: u64,
    pub free_mib: u64,
    /// `pv_attr`, e.g. `a--`; `a` first means allocatable.
    pub attr: String,
}

impl PvInfo {
    /// Whether new extents may be allocated on this PV.
    pub fn allocatable(&self) -> bool {
        self.attr.starts_with('a')
    }
}

/// One logical volume (`lvs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvRecord {
    pub vg_name: String,
    pub name: String,
    /// `lv_attr`, e.g. `-wi-ao----`.
    pub attr: String,
    /// Kernel device numbers; `None` when the LV is not active.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub size_kib: u64,
    pub extent_kib: u64,
    pub stripes: u64,
}

impl LvRecord {
    /// A "virtual" LV has lost its backing storage (Ganeti: degraded).
    pub fn is_virtual(&self) -> bool {
        self.attr.starts_with('v')
    }
    /// State character `-`: not active.
    pub fn inactive(&self) -> bool {
        self.attr.as_bytes().get(4) == Some(&b'-')
    }
    /// Open character `o`: in use by something (a running VM).
    pub fn online(&self) -> bool {
        self.attr.as_bytes().get(5) == Some(&b'o')
    }
}

/// A size in the tool's units as whole units (Ganeti's `int(round(x))`).
fn size(tool: &str, line: &str, v: &str) -> Result<u64, NodeError> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .map(|f| f.round() as u64)
        .ok_or_else(|| parse_error(tool, line))
}

fn parse_error(tool: &str, line: &str) -> NodeError {
    NodeError::LvmParse {
        tool: tool.to_string(),
        line: line.to_string(),
    }
}

/// Split the report lines of `tool` into `n` fields each.
pub(crate) fn split_lines(
    tool: &str,
    stdout: &str,
    n: usize,
) -> Result<Vec<Vec<String>>, NodeError> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<String> = l.trim().split(SEP).map(str::to_owned).collect();
            if f.len() == n {
                Ok(f)
            } else {
                Err(parse_error(tool, l))
            }
        })
        .collect()
}

/// Run a report tool with Ganeti's options; failure is Ganeti's
/// "Can't get the volume information".
pub(crate) fn report(
    tools: &LvmTools,
    tool: &str,
    units: &str,
    fields: &[&str],
    names: &[&str],
) -> Result<Vec<Vec<String>>, NodeError> {
    let units = format!("--units={units}");
    let sep = format!("--separator={SEP}");
    let opts = format!("-o{}", fields.join(","));
    let mut args = vec![
        "--noheadings",
        "--nosuffix",
        units.as_str(),
        "--unbuffered",
        sep.as_str(),
        opts.as_str(),
    ];
    args.extend_from_slice(names);
    let out = tools.run(tool, &args)?;
    if !out.success() {
        return Err(NodeError::LvmQuery {
            tool: tool.to_string(),
            reason: out.fail_reason(),
            output: out.output(),
        });
    }
    split_lines(tool, &out.stdout, fields.len())
}

/// Every volume group.
pub fn vgs(tools: &LvmTools) -> Result<Vec<VgInfo>, NodeError> {
    report(
        tools,
        "vgs",
        "m",
        &["vg_name", "vg_free", "vg_attr", "vg_size"],
        &[],
    )?
    .into_iter()
    .map(|f| {
        let line = f.join(SEP);
        Ok(VgInfo {
            name: f[0].clone(),
            free_mib: size("vgs", &line, &f[1])?,
            attr: f[2].clone(),
            size_mib: size("vgs", &line, &f[3])?,
        })
    })
    .collect()
}

/// Every physical volume.
pub fn pvs(tools: &LvmTools) -> Result<Vec<PvInfo>, NodeError> {
    report(
        tools,
        "pvs",
        "m",
        &["pv_name", "vg_name", "pv_free", "pv_attr", "pv_size"],
        &[],
    )?
    .into_iter()
    .map(|f| {
        let line = f.join(SEP);
        Ok(PvInfo {
            name: f[0].clone(),
            vg_name: f[1].clone(),
            free_mib: size("pvs", &line, &f[2])?,
            attr: f[3].clone(),
            size_mib: size("pvs", &line, &f[4])?,
        })
    })
    .collect()
}

/// Every logical volume, by `(vg, lv)`. An LV of several segments has one
/// line per segment; they agree on everything we read but the stripes,
/// and the last segment (where growing continues) wins, as in Ganeti.
pub fn lvs(tools: &LvmTools) -> Result<BTreeMap<(String, String), LvRecord>, NodeError> {
    let rows = report(
        tools,
        "lvs",
        "k",
        &[
            "vg_name",
            "lv_name",
            "lv_attr",
            "lv_kernel_major",
            "lv_kernel_minor",
            "lv_size",
            "vg_extent_size",
            "stripes",
        ],
        &[],
    )?;
    let mut out = BTreeMap::new();
    for f in rows {
        let line = f.join(SEP);
        let devnum = |v: &str| -> Result<Option<u32>, NodeError> {
            match v.trim().parse::<i64>() {
                Ok(n) if n < 0 => Ok(None),
                Ok(n) => u32::try_from(n)
                    .map(Some)
                    .map_err(|_| parse_error("lvs", &line)),
                Err(_) => Err(parse_error("lvs", &line)),
            }
        };
        if f[2].len() < 6 {
            return Err(parse_error("lvs", &line));
        }
        let rec = LvRecord {
            vg_name: f[0].clone(),
            name: f[1].clone(),
            attr: f[2].clone(),
            major: devnum(&f[3])?,
            minor: devnum(&f[4])?,
            size_kib: size("lvs", &line, &f[5])?,
            extent_kib: size("lvs", &line, &f[6])?,
            stripes: f[7].trim().parse().map_err(|_| parse_error("lvs", &line))?,
        };
        out.insert((rec.vg_name.clone(), rec.name.clone()), rec);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as this machine's LVM 2.03 printed them for a 64 MiB loop
    /// device (`pvcreate`, `vgcreate`, an LV created without activation).
    const VGS: &str = "  capvg|52.00|wz--n-|60.00\n";
    const PVS: &str = "  /dev/loop0|capvg|52.00|a--|60.00\n";
    const LVS: &str = "  capvg|test|-wi-XX----|-1|-1|8192.00|4096.00|1\n";

    #[test]
    fn real_lines_parse() {
        let f = split_lines("vgs", VGS, 4).unwrap();
        assert_eq!(f, vec![vec!["capvg", "52.00", "wz--n-", "60.00"]]);
        assert_eq!(size("vgs", "", "52.00").unwrap(), 52);
        assert_eq!(size("pvs", "", "0").unwrap(), 0);
        assert_eq!(size("pvs", "", "20.50").unwrap(), 21);
        assert!(size("pvs", "", "-1").is_err());
        assert!(size("pvs", "", "x").is_err());
        let f = split_lines("pvs", PVS, 5).unwrap();
        assert_eq!(f[0][0], "/dev/loop0");
        let f = split_lines("lvs", LVS, 8).unwrap();
        assert_eq!(f[0][3], "-1");
    }

    #[test]
    fn wrong_field_count_is_an_error() {
        let e = split_lines("vgs", "  capvg|52.00\n", 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Can't parse vgs output: line '  capvg|52.00'"
        );
        assert!(split_lines("vgs", "\n  \n", 4).unwrap().is_empty());
    }

    #[test]
    fn lv_attributes() {
        let rec = |attr: &str| LvRecord {
            vg_name: "v".into(),
            name: "l".into(),
            attr: attr.into(),
            major: None,
            minor: None,
            size_kib: 0,
            extent_kib: 4096,
            stripes: 1,
        };
        assert!(rec("-wi-------").inactive());
        assert!(!rec("-wi-a-----").inactive());
        assert!(rec("-wi-ao----").online());
        assert!(rec("vwi-a-----").is_virtual());
    }
}
