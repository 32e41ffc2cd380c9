//! `gnt-os`: the OS providers the nodes offer.
//!
//! Why: these commands go through `OP_OS_DIAGNOSE` (the master asks every
//! node), as Ganeti's do, and only format its rows; which OSes are valid,
//! hidden or blacklisted is decided by the master.

use ganeti_clifmt::nested::{Entry, Info};
use ganeti_clifmt::pystr;
use ganeti_clifmt::table::{generate_table, TableField};
use serde_json::{json, Map, Value};

use super::{ident_dict, kv_json};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::CliError;
use crate::jobs::opcode;
use crate::options::*;
use crate::optparse::Opts;

fn diagnose_op(fields: &[&str]) -> Value {
    opcode(
        "OP_OS_DIAGNOSE",
        vec![("output_fields", json!(fields)), ("names", json!([]))],
    )
}

fn items(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(pystr::py_str).collect())
        .unwrap_or_default()
}

/// `CalculateOSNames`.
pub fn os_names(name: &str, variants: &[String]) -> Vec<String> {
    if variants.is_empty() {
        vec![name.to_string()]
    } else {
        variants.iter().map(|v| format!("{name}+{v}")).collect()
    }
}

fn list(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let result = ctx.submit_opcode(diagnose_op(&["name", "variants"]), opts)?;
    let mut rows = Vec::new();
    for row in result.as_array().cloned().unwrap_or_default() {
        let name = row.get(0).map(pystr::py_str).unwrap_or_default();
        let variants = row.get(1).map(items).unwrap_or_default();
        rows.extend(
            os_names(&name, &variants)
                .into_iter()
                .map(|n| Some(vec![n])),
        );
    }
    let lines = generate_table(
        &[TableField::text("Name")],
        !opts.flag("no_headers"),
        None,
        &rows,
        None,
    );
    for l in lines {
        ctx.outln(&l)?;
    }
    Ok(0)
}

fn info(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let result = ctx.submit_opcode(
        diagnose_op(&[
            "name",
            "valid",
            "variants",
            "parameters",
            "api_versions",
            "blacklisted",
            "hidden",
            "os_hvp",
            "osparams",
            "trusted",
        ]),
        opts,
    )?;
    if result.is_null() {
        ctx.errln("Can't get the OS list")?;
        return Ok(1);
    }
    let do_filter = !args.is_empty();
    let mut remaining = args.clone();
    let mut total_os_hvp = Map::new();
    let mut total_osparams = Map::new();
    for row in result.as_array().cloned().unwrap_or_default() {
        let g = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
        let name = pystr::py_str(&g(0));
        if let Value::Object(m) = g(7) {
            total_os_hvp.extend(m);
        }
        if let Value::Object(m) = g(8) {
            total_osparams.extend(m);
        }
        if do_filter {
            match remaining.iter().position(|a| *a == name) {
                Some(p) => {
                    remaining.remove(p);
                }
                None => continue,
            }
        }
        let valid = g(1);
        ctx.outln(&format!("{name}:"))?;
        ctx.outln(&format!("  - valid: {}", pystr::py_str(&valid)))?;
        ctx.outln(&format!("  - hidden: {}", pystr::py_str(&g(6))))?;
        ctx.outln(&format!("  - blacklisted: {}", pystr::py_str(&g(5))))?;
        if pystr::py_truthy(&valid) {
            ctx.outln("  - API versions:")?;
            let mut api: Vec<Value> = g(4).as_array().cloned().unwrap_or_default();
            api.sort_by(|a, b| {
                a.as_f64()
                    .partial_cmp(&b.as_f64())
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            for v in api {
                ctx.outln(&format!("    - {}", pystr::py_str(&v)))?;
            }
            ctx.outln("  - variants:")?;
            for v in items(&g(2)) {
                ctx.outln(&format!("    - {v}"))?;
            }
            ctx.outln("  - parameters:")?;
            for p in g(3).as_array().cloned().unwrap_or_default() {
                if let Some([pn, pd]) = p.as_array().map(Vec::as_slice) {
                    ctx.outln(&format!(
                        "    - {}: {}",
                        pystr::py_str(pn),
                        pystr::py_str(pd)
                    ))?;
                }
            }
        }
        ctx.outln(&format!("  - trusted: {}", pystr::py_str(&g(9))))?;
        ctx.outln("")?;
    }
    for name in remaining {
        if !total_os_hvp.contains_key(&name) && !total_osparams.contains_key(&name) {
            ctx.outln(&format!("{name}: "))?;
        } else {
            let hvp = total_os_hvp.get(&name).cloned().unwrap_or(json!({}));
            let osp = total_osparams.get(&name).cloned().unwrap_or(json!({}));
            ctx.print_info(&Info::Ordered(vec![Entry::new(
                name.clone(),
                Info::ordered(vec![
                    ("OS-specific hypervisor parameters", Info::from_json(&hvp)),
                    ("OS parameters", Info::from_json(&osp)),
                ]),
            )]))?;
        }
        ctx.outln("")?;
    }
    Ok(0)
}

fn os_status(status: &Value, diagnose: &Value) -> String {
    if pystr::py_truthy(status) {
        "valid".to_string()
    } else {
        format!("invalid - {}", pystr::py_str(diagnose))
    }
}

fn nice_key(s: &str) -> Vec<(bool, String)> {
    // utils.NiceSort: digits compare numerically.
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() != digits && !cur.is_empty() {
            out.push((digits, std::mem::take(&mut cur)));
        }
        digits = c.is_ascii_digit();
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push((digits, cur));
    }
    out
}

/// `utils.NiceSort`.
pub fn nice_sort(v: &mut [String]) {
    v.sort_by(|a, b| {
        let (ka, kb) = (nice_key(a), nice_key(b));
        for ((da, sa), (db, sb)) in ka.iter().zip(kb.iter()) {
            let ord = if *da && *db {
                sa.parse::<u128>()
                    .unwrap_or(0)
                    .cmp(&sb.parse::<u128>().unwrap_or(0))
            } else {
                sa.cmp(sb)
            };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        ka.len().cmp(&kb.len())
    });
}

fn diagnose(ctx: &mut Ctx<'_>, opts: &Opts, _args: Vec<String>) -> Result<i32, CliError> {
    let result = ctx.submit_opcode(
        diagnose_op(&[
            "name",
            "valid",
            "variants",
            "node_status",
            "hidden",
            "blacklisted",
        ]),
        opts,
    )?;
    if result.is_null() {
        ctx.errln("Can't get the OS list")?;
        return Ok(1);
    }
    let mut has_bad = false;
    for row in result.as_array().cloned().unwrap_or_default() {
        let g = |i: usize| row.get(i).cloned().unwrap_or(Value::Null);
        let os_name = pystr::py_str(&g(0));
        let variants = items(&g(2));
        let mut valid: Vec<(String, String)> = Vec::new();
        let mut bad: Vec<(String, String)> = Vec::new();
        let mut hidden: Vec<(String, Vec<String>)> = Vec::new();
        for (node, node_info) in g(3).as_object().cloned().unwrap_or_default() {
            let entries = node_info.as_array().cloned().unwrap_or_default();
            let mut node_hidden = Vec::new();
            if let Some(first) = entries.first().and_then(Value::as_array) {
                let f = |i: usize| first.get(i).cloned().unwrap_or(Value::Null);
                let mut msg = format!(
                    "{} (path: {})",
                    os_status(&f(1), &f(2)),
                    pystr::py_str(&f(0))
                );
                let api: Vec<i64> = f(5)
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default();
                let max_api = api.iter().copied().max().unwrap_or(0);
                if api.is_empty() {
                    msg.push_str(" [no API versions declared]");
                } else {
                    msg.push_str(&format!(
                        " [API versions: {}]",
                        api.iter()
                            .map(i64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if max_api >= 15 {
                    let fv = items(&f(3));
                    if fv.is_empty() {
                        msg.push_str(" [no variants]");
                    } else {
                        msg.push_str(&format!(" [variants: {}]", fv.join(", ")));
                    }
                }
                if max_api >= 20 {
                    let params: Vec<String> = f(4)
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|p| p.get(0).map(pystr::py_str))
                                .collect()
                        })
                        .unwrap_or_default();
                    if params.is_empty() {
                        msg.push_str(" [no parameters]");
                    } else {
                        msg.push_str(&format!(" [parameters: {}]", params.join(", ")));
                    }
                }
                msg.push_str(if pystr::py_truthy(&f(6)) {
                    " [trusted]"
                } else {
                    " [untrusted]"
                });
                if pystr::py_truthy(&f(1)) {
                    valid.push((node.clone(), msg));
                } else {
                    bad.push((node.clone(), msg));
                }
                for h in entries.iter().skip(1).filter_map(Value::as_array) {
                    let hg = |i: usize| h.get(i).cloned().unwrap_or(Value::Null);
                    node_hidden.push(format!(
                        "    [hidden] path: {}, status: {}",
                        pystr::py_str(&hg(0)),
                        os_status(&hg(1), &hg(2))
                    ));
                }
            } else {
                bad.push((node.clone(), "OS not found".into()));
            }
            hidden.push((node, node_hidden));
        }
        let status = if !valid.is_empty() && bad.is_empty() {
            "valid"
        } else if valid.is_empty() && !bad.is_empty() {
            has_bad = true;
            "invalid"
        } else {
            has_bad = true;
            "partial valid"
        };
        let mut st = format!("OS: {os_name} [global status: {status}]");
        if pystr::py_truthy(&g(4)) {
            st.push_str(" [hidden]");
        }
        if pystr::py_truthy(&g(5)) {
            st.push_str(" [blacklisted]");
        }
        ctx.outln(&st)?;
        if !variants.is_empty() {
            ctx.outln(&format!("  Variants: [{}]", variants.join(", ")))?;
        }
        for map in [&valid, &bad] {
            let mut keys: Vec<String> = map.iter().map(|(k, _)| k.clone()).collect();
            nice_sort(&mut keys);
            for k in keys {
                let msg = map
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default();
                ctx.outln(&format!("  Node: {k}, status: {msg}"))?;
                if let Some((_, hs)) = hidden.iter().find(|(n, _)| *n == k) {
                    for h in hs {
                        ctx.outln(h)?;
                    }
                }
            }
        }
        ctx.outln("")?;
    }
    Ok(i32::from(has_bad))
}

/// The `OP_CLUSTER_SET_PARAMS` of `gnt-os modify`, or `None` when nothing
/// was asked.
pub fn build_modify(opts: &Opts, args: &[String]) -> Result<Option<Value>, CliError> {
    let os = args.first().cloned().unwrap_or_default();
    let hv = ident_dict(&opts.ident_kv_list("hvparams"), None)?;
    let os_hvp = if hv.is_empty() {
        Value::Null
    } else {
        json!({ os.clone(): hv })
    };
    let osp_kv = opts.keyval("osparams");
    let osp = if osp_kv.is_empty() {
        Value::Null
    } else {
        json!({ os.clone(): kv_json(&osp_kv) })
    };
    let priv_kv = opts.keyval("osparams_private");
    let osp_private = if priv_kv.is_empty() {
        Value::Null
    } else {
        json!({ os.clone(): kv_json(&priv_kv) })
    };
    let ddm = |v: Option<bool>| match v {
        Some(true) => json!([["add", os]]),
        Some(false) => json!([["remove", os]]),
        None => Value::Null,
    };
    let ohid = ddm(opts.maybe_bool("hidden"));
    let oblk = ddm(opts.maybe_bool("blacklisted"));
    if os_hvp.is_null()
        && osp.is_null()
        && osp_private.is_null()
        && ohid.is_null()
        && oblk.is_null()
    {
        return Ok(None);
    }
    Ok(Some(opcode(
        "OP_CLUSTER_SET_PARAMS",
        vec![
            ("os_hvp", os_hvp),
            ("osparams", osp),
            ("osparams_private_cluster", osp_private),
            ("hidden_os", ohid),
            ("blacklisted_os", oblk),
        ],
    )))
}

fn modify(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let Some(op) = build_modify(opts, &args)? else {
        ctx.errln("At least one of OS parameters or hypervisor parameters must be passed")?;
        return Ok(1);
    };
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `gnt-os`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-os",
    commands: COMMANDS,
    aliases: &[("show", "info")],
    listing_width: 8,
};

static COMMANDS: &[CmdDef] = &[
    CmdDef {
        name: "diagnose",
        usage: "",
        description: "Diagnose all operating systems",
        args: &[],
        options: &[&PRIORITY],
        env_override: false,
        run: diagnose,
    },
    CmdDef {
        name: "info",
        usage: "",
        description: "Show detailed information about operating systems",
        args: &[ArgSpec { min: 0, max: None }],
        options: &[&PRIORITY],
        env_override: false,
        run: info,
    },
    CmdDef {
        name: "list",
        usage: "",
        description: "Lists all valid operating systems on the cluster",
        args: &[],
        options: &[&NO_HEADERS, &PRIORITY],
        env_override: false,
        run: list,
    },
    CmdDef {
        name: "modify",
        usage: "",
        description: "Modify the OS parameters",
        args: &[ArgSpec {
            min: 1,
            max: Some(1),
        }],
        options: &[
            &HVLIST,
            &OS_PARAMETERS,
            &OS_PARAMETERS_PRIVATE,
            &DRY_RUN,
            &PRIORITY,
            &HIDDEN,
            &BLACKLISTED,
            &SUBMIT,
            &PRINT_JOBID,
        ],
        env_override: false,
        run: modify,
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::fakemaster::{master, JobPlan};
    use crate::cmd::testutil::{parse_cmd, run_cmd, submitted_ops};

    #[test]
    fn list_expands_variants() {
        let env = master(
            3,
            vec![JobPlan::ok(json!([["image", ["v1", "v10"]], ["noop", []]]))],
            |_, _| None,
        );
        assert_eq!(
            run_cmd(&env, &["gnt-os", "list"]),
            // Ganeti pads the header of the last column too
            (
                0,
                "Name     \nimage+v1\nimage+v10\nnoop\n".to_string(),
                String::new()
            )
        );
        assert_eq!(
            submitted_ops(&env)[0],
            json!({"OP_ID": "OP_OS_DIAGNOSE", "output_fields": ["name", "variants"],
                   "names": [], "debug_level": 0})
        );
    }

    #[test]
    fn diagnose_reports_invalid_shadowed_and_missing_oses() {
        let bad_msg = "File 'export' under path '/srv/ganeti/os/broken' is missing (ENOENT)";
        let result = json!([
            ["broken", false, [], {"n-1": [
                ["/srv/ganeti/os/broken", false, bad_msg, [], [], [], true]
            ]}, false, false],
            ["image", true, ["v1", "v2"], {"n-1": [
                ["/srv/ganeti/os/image", true, "", ["v1", "v2"], [["url", "where"]], [15, 20], false],
                ["/usr/share/ganeti/os/image", false, "shadowed", [], [], [], true]
            ]}, true, true],
            ["old", false, [], {
                "n-10": [],
                "n-2": [["/usr/lib/ganeti/os/old", true, "", [], [], [10], true]]
            }, false, false]
        ]);
        let env = master(5, vec![JobPlan::ok(result)], |_, _| None);
        let (rc, out, err) = run_cmd(&env, &["gnt-os", "diagnose"]);
        // Ganeti 3.0.2 itself crashes on a shadowed entry (it unpacks six
        // of the seven values); this prints what it meant to print.
        let expected = format!(
            "OS: broken [global status: invalid]\n\
             \x20 Node: n-1, status: invalid - {bad_msg} (path: /srv/ganeti/os/broken) \
             [no API versions declared] [trusted]\n\
             \n\
             OS: image [global status: valid] [hidden] [blacklisted]\n\
             \x20 Variants: [v1, v2]\n\
             \x20 Node: n-1, status: valid (path: /srv/ganeti/os/image) [API versions: 15, 20] \
             [variants: v1, v2] [parameters: url] [untrusted]\n\
             \x20   [hidden] path: /usr/share/ganeti/os/image, status: invalid - shadowed\n\
             \n\
             OS: old [global status: partial valid]\n\
             \x20 Node: n-2, status: valid (path: /usr/lib/ganeti/os/old) [API versions: 10] [trusted]\n\
             \x20 Node: n-10, status: OS not found\n\
             \n"
        );
        assert_eq!((rc, out.as_str(), err.as_str()), (1, expected.as_str(), ""));
    }

    #[test]
    fn diagnose_of_all_valid_oses_succeeds() {
        let result = json!([["noop", true, [], {"n-1": [
            ["/srv/ganeti/os/noop", true, "", [], [], [20], true]
        ]}, false, false]]);
        let env = master(5, vec![JobPlan::ok(result)], |_, _| None);
        let (rc, out, _) = run_cmd(&env, &["gnt-os", "diagnose"]);
        assert_eq!(rc, 0);
        assert_eq!(
            out,
            "OS: noop [global status: valid]\n  Node: n-1, status: valid (path: /srv/ganeti/os/noop) \
             [API versions: 20] [no variants] [no parameters] [trusted]\n\n"
        );
    }

    #[test]
    fn modify_opcode() {
        let (o, a) = parse_cmd(&GROUP, "modify", &["--hidden", "yes", "-O", "a=1", "noop"]);
        assert_eq!(
            build_modify(&o, &a).unwrap().unwrap(),
            json!({"OP_ID": "OP_CLUSTER_SET_PARAMS", "osparams": {"noop": {"a": "1"}},
                   "hidden_os": [["add", "noop"]]})
        );
        let (o, a) = parse_cmd(&GROUP, "modify", &["noop"]);
        assert!(build_modify(&o, &a).unwrap().is_none());
    }

    #[test]
    fn nice_sorting() {
        let mut v: Vec<String> = ["node10", "node9", "node1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        nice_sort(&mut v);
        assert_eq!(v, vec!["node1", "node9", "node10"]);
    }

    #[test]
    fn names_with_variants() {
        assert_eq!(os_names("noop", &[]), vec!["noop"]);
        assert_eq!(os_names("d", &["a".into(), "b".into()]), vec!["d+a", "d+b"]);
    }
}
