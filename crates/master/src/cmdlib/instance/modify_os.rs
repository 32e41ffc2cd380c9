//! The OS side of OP_INSTANCE_SET_PARAMS: a new OS name (`os_name`) and
//! changes of the public and private OS parameters.
//!
//! Why it is checked when the job is submitted: as for an instance
//! creation, a value the OS refuses (a name missing from its
//! `parameters.list`, or one its verify script rejects) is refused before
//! anything is queued, with Ganeti's `CheckOSParams` message. What is
//! checked follows `LUInstanceSetParams._ProcessOsParams`: the instance's
//! parameters updated by the opcode (`default` removes a key), against
//! the new OS, or against the current one when `force` is given; a key
//! given both public and private is refused.
//!
//! Where this differs from Ganeti 3.0.2, on purpose:
//! - a new OS name without parameter changes is checked too (the OS must
//!   exist on the instance's nodes, its variant fit unless
//!   `force_variant`), unless `force`. Ganeti 2.x did that check; 3.0.2
//!   lost it when it was folded into the parameter check, which only runs
//!   when parameters change, so there any name was recorded unchecked;
//! - the parameters are checked as the OS scripts will see them, cluster
//!   level included (as an instance creation checks them), where Ganeti
//!   passes only the instance's own.

use ganeti_clifmt::pystr::str_repr;
use ganeti_types::params::update_params;
use ganeti_types::{Dict, GanetiError, Instance};
use serde_json::{json, Value};

use super::super::osrun::{self, OsParamsCheck};
use crate::cmdlib::util::{bool_param, dict_param, str_param};
use crate::Master;

/// The instance's public and private OS parameters after the opcode.
struct Updated {
    public: Dict,
    private: Dict,
}

/// Ganeti's `GetRepeatedKeys` check, then `GetUpdatedParams` of both dicts.
fn updated(inst: &Instance, op: &Dict) -> Result<Updated, GanetiError> {
    let public = dict_param(op, "osparams");
    let private = dict_param(op, "osparams_private");
    let mut dupes: Vec<&str> = public
        .keys()
        .filter(|k| private.contains_key(*k))
        .map(String::as_str)
        .collect();
    if !dupes.is_empty() {
        dupes.sort_unstable();
        return Err(GanetiError::wrong_input(format!(
            "OS parameters repeated multiple times: {}",
            dupes.join(", ")
        )));
    }
    Ok(Updated {
        public: update_params(&inst.osparams, &public),
        private: update_params(&inst.osparams_private, &private),
    })
}

/// Submission-time check of the OS changes of `op` on `inst`.
pub(super) fn check(m: &Master, op: &Dict, inst: &Instance) -> Result<(), GanetiError> {
    let params_change =
        !dict_param(op, "osparams").is_empty() || !dict_param(op, "osparams_private").is_empty();
    let new_os = str_param(op, "os_name").filter(|_| !bool_param(op, "force"));
    if !params_change && new_os.is_none() {
        return Ok(());
    }
    let upd = updated(inst, op)?;
    let os = new_os.unwrap_or(&inst.os);
    let (nodes, params) = m.with_config(|cfg| {
        let cl = &cfg.cluster;
        let params = osrun::fill_os_params(
            &cl.osparams,
            &cl.osparams_private_cluster,
            os,
            &upd.public,
            &upd.private,
        );
        (osrun::instance_nodes(cfg, inst), params)
    })?;
    osrun::check_os_params(
        m,
        &nodes,
        OsParamsCheck {
            os,
            params: &params,
            secret: &Dict::new(),
            force_variant: bool_param(op, "force_variant"),
            required: true,
        },
    )
    .map(|_| ())
}

/// Apply the OS changes of `op` to `inst`, adding Ganeti's result lines:
/// `os/<key>` with the value given, `os_private/<key>` with the repr of
/// Ganeti's `Private` wrapper (the value is never shown). A new OS name
/// has no line of its own, as in Ganeti.
pub(super) fn apply(
    inst: &mut Instance,
    op: &Dict,
    result: &mut Vec<Value>,
) -> Result<(), GanetiError> {
    let upd = updated(inst, op)?;
    if let Some(os) = str_param(op, "os_name") {
        inst.os = os.to_string();
    }
    let public = dict_param(op, "osparams");
    if !public.is_empty() {
        inst.osparams = upd.public;
        for (k, v) in &public {
            result.push(json!([format!("os/{k}"), v]));
        }
    }
    let private = dict_param(op, "osparams_private");
    if !private.is_empty() {
        inst.osparams_private = upd.private;
        for k in private.keys() {
            result.push(json!([
                format!("os_private/{k}"),
                format!("Private(?, descr={})", str_repr(k))
            ]));
        }
    }
    Ok(())
}
