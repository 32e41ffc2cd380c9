//! Planning the hypervisor side of a cluster modification: the new
//! per-hypervisor defaults (`-H`), the hypervisor list (`--enabled-hypervisors`)
//! and the per-OS overrides (`os_hvp`).
//!
//! Kept apart from the rest of the planner because it runs twice: when the
//! job is submitted (so bad hypervisor parameters never reach the queue)
//! and again under the Big Ganeti Lock, on the configuration of that moment.
//! Every changed dict is checked whole, filled, as Ganeti's
//! `CheckParameterSyntax` wants it: rules such as "a kernel needs a root
//! partition" only show on the combination.

use ganeti_types::hvparams;
use ganeti_types::params::fill;
use ganeti_types::{constants, Cluster, Dict, GanetiError};
use serde_json::Value;

use super::checks::{check_hvparams, opt_dict};
use super::str_vec;

/// The new `hvparams` and, when the opcode changes them, `os_hvp`.
pub(super) struct HvPlan {
    pub new_hvp: Dict,
    pub new_os_hvp: Option<Dict>,
}

/// Compute and check the hypervisor parameters a cluster modification
/// leads to (Ganeti's `LUClusterSetParams.CheckPrereq`, hypervisor part).
pub(super) fn plan_hvparams(old: &Cluster, op: &Dict) -> Result<HvPlan, GanetiError> {
    let op_hvparams = opt_dict(op, "hvparams");
    let op_enabled_hvs = str_vec(op, "enabled_hypervisors");
    let mut new_hvp = old.hvparams.clone();
    if let Some(hvp) = &op_hvparams {
        for (hv, upd) in hvp {
            let upd = upd.as_object().cloned().unwrap_or_default();
            let mut cur = new_hvp
                .get(hv)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (k, v) in upd {
                cur.insert(k, v);
            }
            new_hvp.insert(hv.clone(), Value::Object(cur));
        }
    }
    if let Some(hvs) = &op_enabled_hvs {
        for hv in hvs {
            let cur = new_hvp
                .get(hv)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            new_hvp.insert(
                hv.clone(),
                Value::Object(fill(&[&constants::hv_defaults(hv), &cur])),
            );
        }
    }
    for (hv, params) in new_hvp.clone() {
        let params_given = op_hvparams
            .as_ref()
            .map(|h| h.contains_key(&hv))
            .unwrap_or(false);
        let newly_listed = op_enabled_hvs
            .as_ref()
            .map(|h| h.contains(&hv))
            .unwrap_or(false)
            && (!old.hypervisor_enabled(&hv)
                || constants::SUPPORTED_HYPERVISORS.contains(&hv.as_str()));
        let changed = params_given || newly_listed;
        if changed {
            let checked = check_hvparams(&hv, &params.as_object().cloned().unwrap_or_default())?;
            // Ganeti's CheckParameterSyntax of the whole new dict (over the
            // built-in defaults, for configurations that lack some keys)
            hvparams::check_syntax(&hv, &fill(&[&hvparams::defaults(&hv), &checked]))?;
            new_hvp.insert(hv, Value::Object(checked));
        }
    }

    let new_os_hvp = match opt_dict(op, "os_hvp").filter(|d| !d.is_empty()) {
        Some(osh) => {
            let mut new = old.os_hvp.clone();
            for (os, hvs) in osh {
                let hvs = hvs.as_object().cloned().unwrap_or_default();
                match new.get_mut(&os).and_then(Value::as_object_mut) {
                    None => {
                        new.insert(os, Value::Object(hvs));
                    }
                    Some(cur) => {
                        for (hv, p) in hvs {
                            if p.is_null() {
                                cur.remove(&hv);
                            } else {
                                let mut e = cur
                                    .get(&hv)
                                    .and_then(Value::as_object)
                                    .cloned()
                                    .unwrap_or_default();
                                for (k, v) in p.as_object().cloned().unwrap_or_default() {
                                    e.insert(k, v);
                                }
                                cur.insert(hv, Value::Object(e));
                            }
                        }
                    }
                }
            }
            new.retain(|_, v| v.as_object().map(|o| !o.is_empty()).unwrap_or(false));
            for per_hv in new.values() {
                for (hv, p) in per_hv.as_object().cloned().unwrap_or_default() {
                    let base = new_hvp
                        .get(&hv)
                        .and_then(Value::as_object)
                        .cloned()
                        .unwrap_or_default();
                    let own = p.as_object().cloned().unwrap_or_default();
                    check_hvparams(&hv, &fill(&[&base, &own]))?;
                    hvparams::check_syntax(&hv, &fill(&[&hvparams::defaults(&hv), &base, &own]))?;
                }
            }
            Some(new)
        }
        None => None,
    };

    Ok(HvPlan {
        new_hvp,
        new_os_hvp,
    })
}
