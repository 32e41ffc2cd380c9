//! Building blocks of the `info` commands: instance policies and the
//! printing of [`Info`] trees.
//!
//! Why: `gnt-cluster info` and `gnt-group info` share Ganeti's
//! `FormatPolicyInfo`, and every `info` command ends in
//! `PrintGenericInfo`; the tree renderer itself lives in
//! `ganeti_clifmt::nested`, the policy-specific shaping lives here.

use ganeti_clifmt::nested::{
    format_list_info_default, format_params_dict_info, render_generic_info, Info,
};
use ganeti_clifmt::pystr;
use serde_json::{Map, Value};

use crate::context::Ctx;
use crate::errors::CliError;

/// The keys of a min/max pair, in the order we print them.
pub const ISPECS_MINMAX_KEYS: &[&str] = &["min", "max"];
/// The scalar policy parameters, in the order we print them.
pub const IPOLICY_PARAMETERS: &[&str] = &["spindle-ratio", "vcpu-ratio"];

/// `str()` of a number as the reference prints policy ratios: integral
/// values without a fraction (the master encodes 32.0 as 32).
pub fn number_text(v: &Value) -> String {
    if let Some(f) = v.as_f64() {
        if v.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 {
            #[allow(clippy::cast_possible_truncation)]
            return format!("{}", f as i64);
        }
    }
    pystr::py_str(v)
}

fn obj(v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(m)) => Value::Object(m.clone()),
        _ => Value::Object(Map::new()),
    }
}

fn str_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().map(pystr::py_str).collect())
}

/// Ganeti's `FormatPolicyInfo(custom, effective, iscluster)`.
pub fn format_policy_info(custom: &Value, effective: &Value, iscluster: bool) -> Info {
    let eff = if iscluster { custom } else { effective };
    let mut minmax_out = Vec::new();
    let custom_minmax = custom.get("minmax").and_then(Value::as_array);
    match custom_minmax {
        Some(list) if !list.is_empty() => {
            for (k, mm) in list.iter().enumerate() {
                minmax_out.push(Info::ordered(ISPECS_MINMAX_KEYS.iter().map(|key| {
                    let spec = obj(mm.get(*key));
                    (format!("{key}/{k}"), format_params_dict_info(&spec, &spec))
                })));
            }
        }
        _ => {
            for (k, mm) in eff
                .get("minmax")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                minmax_out.push(Info::ordered(ISPECS_MINMAX_KEYS.iter().map(|key| {
                    (
                        format!("{key}/{k}"),
                        format_params_dict_info(&Value::Object(Map::new()), &obj(mm.get(*key))),
                    )
                })));
            }
        }
    }
    let mut ret: Vec<(String, Info)> = vec![("bounds specs".into(), Info::List(minmax_out))];
    if iscluster {
        let std = obj(custom.get("std"));
        ret.push(("std".into(), format_params_dict_info(&std, &std)));
    }
    let own_dts = str_list(custom.get("disk-templates"));
    let eff_dts = str_list(eff.get("disk-templates")).unwrap_or_default();
    ret.push((
        "allowed disk templates".into(),
        Info::text(format_list_info_default(own_dts.as_deref(), &eff_dts)),
    ));
    for key in IPOLICY_PARAMETERS {
        let text = match custom.get(*key) {
            Some(v) => number_text(v),
            None => format!(
                "default ({})",
                eff.get(*key)
                    .map(number_text)
                    .unwrap_or_else(|| "None".into())
            ),
        };
        ret.push(((*key).to_string(), Info::text(text)));
    }
    Info::ordered(ret)
}

impl Ctx<'_> {
    /// `PrintGenericInfo`.
    pub fn print_info(&mut self, data: &Info) -> Result<(), CliError> {
        let text = render_generic_info(data);
        self.outln(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cluster_policy_like_fixture() {
        let ipol = json!({
            "minmax": [{"min": {"cpu-count": 1, "disk-count": 1}, "max": {"cpu-count": 8, "disk-count": 16}}],
            "std": {"cpu-count": 1},
            "disk-templates": ["sharedfile", "file", "diskless"],
            "spindle-ratio": 32.0,
            "vcpu-ratio": 4.0
        });
        let info = format_policy_info(&ipol, &Value::Null, true);
        let text = render_generic_info(&Info::ordered(vec![(
            "Instance policy - limits for instances",
            info,
        )]));
        assert_eq!(
            text,
            "Instance policy - limits for instances: \n  bounds specs: \n    - min/0: \n        cpu-count: 1\n        disk-count: 1\n      max/0: \n        cpu-count: 8\n        disk-count: 16\n  std: \n    cpu-count: 1\n  allowed disk templates: sharedfile, file, diskless\n  spindle-ratio: 32\n  vcpu-ratio: 4"
        );
    }

    #[test]
    fn group_policy_defaults() {
        let eff = json!({
            "minmax": [{"min": {"cpu-count": 1}, "max": {"cpu-count": 8}}],
            "disk-templates": ["file"],
            "spindle-ratio": 32.0,
            "vcpu-ratio": 4.0
        });
        let info = format_policy_info(&json!({}), &eff, false);
        let text = render_generic_info(&info);
        assert!(text.contains("cpu-count: default (1)"), "{text}");
        assert!(
            text.contains("allowed disk templates: default (file)"),
            "{text}"
        );
        assert!(text.contains("vcpu-ratio: default (4)"), "{text}");
    }
}
