//! Instance policy evaluation, in one place for every opcode family:
//! Ganeti's `FillIPolicy`, `CalculateGroupIPolicy` and
//! `ComputeIPolicySpecViolation` (a spec passes when it fits any one of the
//! min/max pairs; the pair with the fewest violations is reported).

use ganeti_types::{constants, ConfigData, Dict, Instance};
use serde_json::Value;

/// Ganeti's `FillIPolicy`: the cluster policy with the group's overrides
/// (std is merged key by key, the other keys replace).
pub(crate) fn fill_ipolicy(default: &Dict, custom: &Dict) -> Dict {
    let mut out = custom.clone();
    for (k, v) in default {
        match out.get_mut(k) {
            None => {
                out.insert(k.clone(), v.clone());
            }
            Some(cur) if k == "std" => {
                let mut merged = v.as_object().cloned().unwrap_or_default();
                if let Some(c) = cur.as_object() {
                    for (ck, cv) in c {
                        merged.insert(ck.clone(), cv.clone());
                    }
                }
                *cur = Value::Object(merged);
            }
            Some(_) => {}
        }
    }
    out
}

/// The policy that applies to a group's instances.
pub(crate) fn group_ipolicy(cfg: &ConfigData, group_uuid: &str) -> Dict {
    let custom = cfg
        .nodegroups
        .get(group_uuid)
        .map(|g| g.ipolicy.clone())
        .unwrap_or_default();
    fill_ipolicy(&cfg.cluster.ipolicy, &custom)
}

/// The values of an instance (or a planned change) to check. `None` means
/// "not part of this check" (e.g. a modify that does not touch memory).
#[derive(Debug, Clone, Default)]
pub(crate) struct ISpec {
    pub mem: Option<i64>,
    pub cpus: Option<i64>,
    pub nic_count: Option<i64>,
    pub spindle_use: Option<i64>,
    /// (disk index, size in MiB)
    pub disk_sizes: Vec<(usize, i64)>,
    pub disk_count: Option<i64>,
    /// Checked against the policy's allowed templates when set.
    pub template: Option<String>,
}

impl ISpec {
    /// Every value of a configured instance.
    pub(crate) fn of_instance(cfg: &ConfigData, inst: &Instance) -> Self {
        let mut be = ganeti_types::params::fill(&[
            &constants::be_defaults(),
            &cfg.cluster.be_defaults(),
            &inst.beparams,
        ]);
        ganeti_types::params::upgrade_beparams(&mut be);
        let num = |k: &str| {
            be.get(k).and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        };
        let disks = cfg.instance_disks(inst);
        ISpec {
            mem: num("maxmem"),
            cpus: num("vcpus"),
            nic_count: Some(inst.nics.len() as i64),
            spindle_use: num("spindle_use"),
            disk_sizes: disks
                .iter()
                .enumerate()
                .map(|(i, d)| (i, i64::try_from(d.size).unwrap_or(i64::MAX)))
                .collect(),
            disk_count: Some(disks.len() as i64),
            template: Some(inst.disk_template.clone()),
        }
    }
}

fn spec_int(spec: &Value, key: &str) -> Option<i64> {
    spec.get(key)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

fn minmax_violation(name: &str, qualifier: &str, mm: &Value, value: Option<i64>) -> Option<String> {
    let value = value?;
    let max_v = mm
        .get("max")
        .and_then(|m| spec_int(m, name))
        .unwrap_or(value);
    let min_v = mm
        .get("min")
        .and_then(|m| spec_int(m, name))
        .unwrap_or(value);
    if value > max_v || min_v > value {
        let fqn = if qualifier.is_empty() {
            name.to_string()
        } else {
            format!("{name}/{qualifier}")
        };
        Some(format!(
            "{fqn} value {value} is not in range [{min_v}, {max_v}]"
        ))
    } else {
        None
    }
}

/// Why a spec does not fit a filled policy; empty when it does.
pub(crate) fn spec_violations(ip: &Dict, s: &ISpec) -> Vec<String> {
    let mut ret = Vec::new();
    if let Some(t) = &s.template {
        let allowed: Vec<&str> = ip
            .get("disk-templates")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if !allowed.contains(&t.as_str()) {
            ret.push(format!(
                "Disk template {t} is not allowed (allowed templates {})",
                allowed.join(", ")
            ));
        }
    }
    let mut tests: Vec<(&str, String, Option<i64>)> = vec![
        ("memory-size", String::new(), s.mem),
        ("cpu-count", String::new(), s.cpus),
        ("nic-count", String::new(), s.nic_count),
        ("spindle-use", String::new(), s.spindle_use),
    ];
    tests.extend(
        s.disk_sizes
            .iter()
            .map(|(i, v)| ("disk-size", i.to_string(), Some(*v))),
    );
    // the disk count makes no sense for diskless instances
    if s.template.as_deref() != Some("diskless") {
        tests.push(("disk-count", String::new(), s.disk_count));
    }
    let mut min_errs: Option<Vec<String>> = None;
    for mm in ip
        .get("minmax")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let errs: Vec<String> = tests
            .iter()
            .filter_map(|(n, q, v)| minmax_violation(n, q, mm, *v))
            .collect();
        if min_errs.as_ref().is_none_or(|m| errs.len() < m.len()) {
            min_errs = Some(errs);
        }
    }
    ret.extend(min_errs.unwrap_or_default());
    ret
}

/// Why a configured instance does not fit a filled policy.
pub(crate) fn instance_ipolicy_violations(
    cfg: &ConfigData,
    ip: &Dict,
    inst: &Instance,
) -> Vec<String> {
    spec_violations(ip, &ISpec::of_instance(cfg, inst))
}

/// Names of instances that violate the new policy but not the old one.
pub(crate) fn new_ipolicy_violations(
    cfg: &ConfigData,
    old: &Dict,
    new: &Dict,
    insts: &[&Instance],
) -> Vec<String> {
    insts
        .iter()
        .filter(|i| {
            !instance_ipolicy_violations(cfg, new, i).is_empty()
                && instance_ipolicy_violations(cfg, old, i).is_empty()
        })
        .map(|i| i.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pol() -> Dict {
        json!({
            "minmax": [
                {"min": {"memory-size": 128, "disk-size": 1024, "disk-count": 1, "cpu-count": 1},
                 "max": {"memory-size": 512, "disk-size": 2048, "disk-count": 2, "cpu-count": 2}},
                {"min": {"memory-size": 1024, "disk-size": 1024, "disk-count": 1, "cpu-count": 4},
                 "max": {"memory-size": 4096, "disk-size": 2048, "disk-count": 2, "cpu-count": 8}}
            ],
            "disk-templates": ["file", "diskless"]
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn any_pair_may_fit_and_the_closest_is_reported() {
        let fits_second = ISpec {
            mem: Some(2048),
            cpus: Some(4),
            ..Default::default()
        };
        assert!(spec_violations(&pol(), &fits_second).is_empty());
        let bad = ISpec {
            mem: Some(2048),
            cpus: Some(1),
            ..Default::default()
        };
        assert_eq!(
            spec_violations(&pol(), &bad),
            vec!["memory-size value 2048 is not in range [128, 512]"]
        );
        let disk = ISpec {
            disk_sizes: vec![(3, 64)],
            ..Default::default()
        };
        assert_eq!(
            spec_violations(&pol(), &disk),
            vec!["disk-size/3 value 64 is not in range [1024, 2048]"]
        );
    }

    #[test]
    fn templates_and_diskless_disk_count() {
        let plain = ISpec {
            template: Some("plain".into()),
            ..Default::default()
        };
        assert_eq!(
            spec_violations(&pol(), &plain),
            vec!["Disk template plain is not allowed (allowed templates file, diskless)"]
        );
        let diskless = ISpec {
            template: Some("diskless".into()),
            disk_count: Some(0),
            ..Default::default()
        };
        assert!(spec_violations(&pol(), &diskless).is_empty());
        let file = ISpec {
            template: Some("file".into()),
            disk_count: Some(0),
            ..Default::default()
        };
        assert_eq!(
            spec_violations(&pol(), &file),
            vec!["disk-count value 0 is not in range [1, 2]"]
        );
    }

    #[test]
    fn group_overrides_fill_the_cluster_policy() {
        let cluster = pol();
        let group = json!({"std": {"memory-size": 256}, "disk-templates": ["file"]})
            .as_object()
            .cloned()
            .unwrap();
        let filled = fill_ipolicy(&cluster, &group);
        assert_eq!(filled["disk-templates"], json!(["file"]));
        assert_eq!(filled["std"], json!({"memory-size": 256}));
        assert_eq!(filled["minmax"], cluster["minmax"]);
    }
}
