//! Instance policies from command-line options (`--ipolicy-*`,
//! `--specs-*`), Ganeti's `CreateIPolicyFromOpts`.
//!
//! Why separate: `gnt-cluster init`, `gnt-cluster modify`, `gnt-group add`
//! and `gnt-group modify` all build a policy from the same options, each
//! with its own rules (groups have no `std` specs; `modify` accepts
//! `default`; `init` fills every value from the defaults).

use ganeti_clifmt::kv::{KvMap, KvValue, MaybeFloat, VALUE_DEFAULT};
use ganeti_clifmt::units;
use serde_json::{json, Map, Value};

use crate::errors::{CliError, GanetiErr};
use crate::optparse::Opts;
use crate::params::{self, ISPECS_PARAMETER_TYPES};

const ISPECS_PARAMETERS: &[&str] = &[
    "cpu-count",
    "disk-count",
    "disk-size",
    "memory-size",
    "nic-count",
    "spindle-use",
];

/// How a policy is being built.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyMode {
    /// The policy of a node group (no `std` specs).
    pub group: bool,
    /// `default` may stand for a whole value (`modify`).
    pub allow_default: bool,
    /// Fill every missing value from Ganeti's defaults (`init`).
    pub fill_all: bool,
}

fn parse_spec_units(spec: &KvMap, keyname: &str) -> Result<KvMap, CliError> {
    let mut out = KvMap::new();
    for (k, v) in spec.iter() {
        if k == "disk-size" || k == "memory-size" {
            let text = v.py_str();
            let mib = units::parse_unit(&text).map_err(|e| {
                GanetiErr::inval(format!(
                    "Invalid parameter {k} ({text}) in {keyname} instance specs: {e}"
                ))
            })?;
            out.insert(k, KvValue::Str(mib.to_string()));
        } else {
            out.insert(k, v.clone());
        }
    }
    Ok(out)
}

fn parse_ispec(
    spec: &KvMap,
    keyname: &str,
    required: bool,
) -> Result<Map<String, Value>, CliError> {
    let ret = parse_spec_units(spec, keyname)?;
    let typed = params::force(&ret, ISPECS_PARAMETER_TYPES)?;
    if required {
        let missing: Vec<&str> = ISPECS_PARAMETERS
            .iter()
            .copied()
            .filter(|p| !typed.contains_key(*p))
            .collect();
        if !missing.is_empty() {
            return Err(GanetiErr::inval(format!(
                "Missing parameters in ipolicy spec {keyname}: {}",
                missing.join(", ")
            ))
            .into());
        }
    }
    Ok(typed)
}

fn defaults() -> Map<String, Value> {
    ganeti_types::constants::ipolicy_defaults()
}

fn fill(base: Option<&Value>, over: &Map<String, Value>) -> Value {
    let mut m = base.and_then(Value::as_object).cloned().unwrap_or_default();
    for (k, v) in over {
        m.insert(k.clone(), v.clone());
    }
    Value::Object(m)
}

/// The `--specs-*` options (split specs), `init` only.
fn split_specs(
    opts: &Opts,
    out: &mut Map<String, Value>,
    mode: PolicyMode,
) -> Result<(), CliError> {
    let names = [
        ("memory-size", "ispecs_mem_size"),
        ("cpu-count", "ispecs_cpu_count"),
        ("disk-count", "ispecs_disk_count"),
        ("disk-size", "ispecs_disk_size"),
        ("nic-count", "ispecs_nic_count"),
    ];
    let mut ispecs: Map<String, Value> = Map::new();
    for key in ["min", "max", "std"] {
        ispecs.insert(key.into(), json!({}));
    }
    for (param, dest) in names {
        let given = opts.keyval(dest);
        let mut spec = KvMap::new();
        for (k, v) in given.iter() {
            let v = if (param == "memory-size" || param == "disk-size")
                && v.py_str() != VALUE_DEFAULT
            {
                let text = v.py_str();
                let mib = units::parse_unit(&text).map_err(|e| {
                    GanetiErr::inval(format!(
                        "Invalid disk ({}) or memory ({}) size in policy: {e}",
                        ganeti_clifmt::pystr::py_repr(&Value::Object(
                            opts.keyval("ispecs_disk_size").to_json()
                        )),
                        ganeti_clifmt::pystr::py_repr(&Value::Object(
                            opts.keyval("ispecs_mem_size").to_json()
                        ))
                    ))
                })?;
                KvValue::Str(mib.to_string())
            } else {
                v.clone()
            };
            spec.insert(k, v);
        }
        let allowed: &[(&str, ganeti_clifmt::kv::VType)] = if mode.group {
            &[
                ("min", ganeti_clifmt::kv::VType::Int),
                ("max", ganeti_clifmt::kv::VType::Int),
            ]
        } else {
            &[
                ("min", ganeti_clifmt::kv::VType::Int),
                ("max", ganeti_clifmt::kv::VType::Int),
                ("std", ganeti_clifmt::kv::VType::Int),
            ]
        };
        let typed = params::force(&spec, allowed)?;
        for (k, v) in typed {
            if let Some(Value::Object(m)) = ispecs.get_mut(&k) {
                m.insert(param.into(), v);
            }
        }
    }
    let defs = defaults();
    let default_minmax = defs
        .get("minmax")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(json!({}));
    let mut minmax = Map::new();
    for key in ["min", "max"] {
        let own = ispecs
            .get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let v = if mode.fill_all {
            fill(default_minmax.get(key), &own)
        } else {
            Value::Object(own)
        };
        minmax.insert(key.into(), v);
    }
    out.insert("minmax".into(), json!([minmax]));
    let own_std = ispecs
        .get("std")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let std = if mode.fill_all {
        fill(defs.get("std"), &own_std)
    } else {
        Value::Object(own_std)
    };
    out.insert("std".into(), std);
    Ok(())
}

/// Ganeti's `CreateIPolicyFromOpts` for the options present in `opts`.
pub fn create_ipolicy(opts: &Opts, mode: PolicyMode) -> Result<Map<String, Value>, CliError> {
    let split_given = [
        "ispecs_mem_size",
        "ispecs_cpu_count",
        "ispecs_disk_count",
        "ispecs_disk_size",
        "ispecs_nic_count",
    ]
    .iter()
    .any(|d| !opts.keyval(d).is_empty());
    let minmax = opts.multilist("ipolicy_bounds_specs");
    let std = if opts.given("ipolicy_std_specs") {
        opts.maybe_keyval("ipolicy_std_specs")
    } else {
        None
    };
    if split_given && (minmax.is_some() || std.is_some()) {
        return Err(GanetiErr::inval(
            "A --specs-xxx option cannot be specified together with any --ipolicy-xxx-specs option",
        )
        .into());
    }
    let mut out = Map::new();
    if split_given {
        split_specs(opts, &mut out, mode)?;
    } else if minmax.is_some() || std.is_some() {
        let mut found_allowed = None;
        if let Some(mm) = &minmax {
            if mode.allow_default && mm.len() == 1 && mm[0].len() == 1 {
                let (key, spec) = &mm[0][0];
                if key == VALUE_DEFAULT && spec.is_empty() {
                    found_allowed = Some(key.clone());
                }
            }
        }
        if let Some(a) = found_allowed {
            out.insert("minmax".into(), Value::String(a));
        } else if let Some(mm) = &minmax {
            let mut list = Vec::new();
            for pair in mm {
                let mut pout = Map::new();
                for (key, spec) in pair {
                    if key != "min" && key != "max" {
                        return Err(GanetiErr::inval(format!(
                            "Invalid key in bounds instance specifications: {key}"
                        ))
                        .into());
                    }
                    pout.insert(key.clone(), Value::Object(parse_ispec(spec, key, true)?));
                }
                list.push(Value::Object(pout));
            }
            out.insert("minmax".into(), Value::Array(list));
        }
        if let Some(s) = &std {
            out.insert("std".into(), Value::Object(parse_ispec(s, "std", false)?));
        }
    }
    if let Some(dts) = opts.list("ipolicy_disk_templates") {
        out.insert("disk-templates".into(), json!(dts));
    }
    for (dest, key) in [
        ("ipolicy_vcpu_ratio", "vcpu-ratio"),
        ("ipolicy_spindle_ratio", "spindle-ratio"),
    ] {
        match opts.maybe_float(dest) {
            Some(MaybeFloat::Default) => {
                out.insert(key.into(), json!(VALUE_DEFAULT));
            }
            Some(MaybeFloat::Value(f)) => {
                out.insert(key.into(), json!(f));
            }
            None => {}
        }
    }
    if !mode.group && mode.fill_all {
        let mut filled = defaults();
        for (k, v) in out {
            if k == "std" {
                let merged = fill(filled.get("std"), v.as_object().unwrap_or(&Map::new()));
                filled.insert(k, merged);
            } else {
                filled.insert(k, v);
            }
        }
        return Ok(filled);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optparse::{parse, OptDef, Parsed};

    fn opts(args: &[&str]) -> Opts {
        let defs: Vec<&'static OptDef> = vec![
            &crate::options::IPOLICY_BOUNDS_SPECS,
            &crate::options::IPOLICY_STD_SPECS,
            &crate::options::IPOLICY_DISK_TEMPLATES,
            &crate::options::IPOLICY_VCPU_RATIO,
            &crate::options::IPOLICY_SPINDLE_RATIO,
            &crate::options::SPECS_MEM_SIZE,
            &crate::options::SPECS_CPU_COUNT,
        ];
        let a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&defs, &a).unwrap() {
            Parsed::Args(o, _) => o,
            Parsed::Help => panic!(),
        }
    }

    #[test]
    fn full_specs() {
        let o = opts(&[
            "--ipolicy-bounds-specs",
            "min:cpu-count=1,disk-count=1,disk-size=1G,memory-size=128,nic-count=1,spindle-use=1/max:cpu-count=8,disk-count=16,disk-size=1048576,memory-size=32768,nic-count=8,spindle-use=12",
            "--ipolicy-std-specs",
            "cpu-count=2",
            "--ipolicy-vcpu-ratio",
            "2.5",
            "--ipolicy-disk-templates",
            "file,diskless",
        ]);
        let p = create_ipolicy(&o, PolicyMode::default()).unwrap();
        assert_eq!(p["minmax"][0]["min"]["disk-size"], json!(1024));
        assert_eq!(p["minmax"][0]["max"]["cpu-count"], json!(8));
        assert_eq!(p["std"], json!({"cpu-count": 2}));
        assert_eq!(p["vcpu-ratio"], json!(2.5));
        assert_eq!(p["disk-templates"], json!(["file", "diskless"]));
    }

    #[test]
    fn errors_and_defaults() {
        let o = opts(&["--ipolicy-bounds-specs", "min:cpu-count=1/max:cpu-count=2"]);
        let e = create_ipolicy(&o, PolicyMode::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("Missing parameters in ipolicy spec min"),
            "{e}"
        );
        let o = opts(&[
            "--ipolicy-bounds-specs",
            "default",
            "--ipolicy-vcpu-ratio",
            "default",
        ]);
        let p = create_ipolicy(
            &o,
            PolicyMode {
                group: true,
                allow_default: true,
                fill_all: false,
            },
        )
        .unwrap();
        assert_eq!(
            Value::Object(p),
            json!({"minmax": "default", "vcpu-ratio": "default"})
        );
        let o = opts(&[
            "--specs-mem-size",
            "min=256",
            "--ipolicy-std-specs",
            "cpu-count=1",
        ]);
        assert!(create_ipolicy(&o, PolicyMode::default()).is_err());
    }

    #[test]
    fn split_specs_filled() {
        let o = opts(&[
            "--specs-mem-size",
            "min=256,max=1G",
            "--specs-cpu-count",
            "std=2",
        ]);
        let p = create_ipolicy(
            &o,
            PolicyMode {
                group: false,
                allow_default: false,
                fill_all: true,
            },
        )
        .unwrap();
        assert_eq!(p["minmax"][0]["min"]["memory-size"], json!(256));
        assert_eq!(p["minmax"][0]["max"]["memory-size"], json!(1024));
        assert_eq!(p["minmax"][0]["max"]["cpu-count"], json!(8));
        assert_eq!(p["std"]["cpu-count"], json!(2));
        assert_eq!(p["vcpu-ratio"], json!(4.0));
    }
}
