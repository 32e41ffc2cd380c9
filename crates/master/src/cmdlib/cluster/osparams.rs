//! The cluster-level OS parameters of OP_CLUSTER_SET_PARAMS (`gnt-os
//! modify -O/--os-parameters-private NAME`).
//!
//! Why they are checked: an instance's OS scripts get these parameters
//! under its own, so Ganeti's `LUClusterSetParams._BuildOSParams` has each
//! OS validate its new parameter set (`CheckOSParams` on the master node:
//! `parameters.list`, then the verify script). It is not `required`: an
//! OS the node does not have, or finds invalid, is not an error — the
//! parameters are kept and the job notes "OS X not found on node N,
//! validation skipped", so parameters can be set before the provider is
//! installed. The check runs when the job is submitted (a refused value
//! queues nothing) and again when the job runs under the exclusive BGL,
//! against the configuration of that moment; only then do the notes reach
//! the job log.
//!
//! Where this differs from Ganeti 3.0.2, on purpose:
//! - only the OSes whose parameters the opcode changes are checked;
//!   Ganeti checks every OS with cluster-level parameters on every
//!   cluster modification, so an unrelated change could fail on them;
//! - parameters of a base name (`debootstrap`, no `+variant`) apply to
//!   all its variants, so the variant check is skipped for them; Ganeti
//!   runs it, which refuses base-level parameters for any OS that has
//!   variants ("OS name 'x' must include a variant").

use std::collections::BTreeSet;

use ganeti_types::{Dict, GanetiError};
use serde_json::Value;

use super::checks::{opt_dict, updated_params};
use crate::cmdlib::instance::osrun::{self, OsParamsCheck};
use crate::Master;

/// The cluster's per-OS dict `old` after the opcode's `upd` (Ganeti's
/// `_GetNewParams`): `default` or null removes a parameter, an OS left
/// without any is dropped. `None` when the opcode has no such change.
pub(super) fn new_os_params(old: &Dict, upd: Option<Dict>) -> Option<Dict> {
    let upd = upd?;
    let mut res = old.clone();
    for (os, params) in upd {
        let cur = res
            .get(&os)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let new = updated_params(&cur, &params.as_object().cloned().unwrap_or_default(), true);
        if new.is_empty() {
            res.remove(&os);
        } else {
            res.insert(os, Value::Object(new));
        }
    }
    Some(res)
}

/// Check the OS parameters `op` changes; returns the notes for OSes the
/// node does not have. Errors are Ganeti's `CheckOSParams` OpExecErrors.
pub(super) fn check(m: &Master, op: &Dict) -> Result<Vec<String>, GanetiError> {
    let op_public = opt_dict(op, "osparams");
    let op_private = opt_dict(op, "osparams_private_cluster");
    let changed: BTreeSet<String> = op_public
        .iter()
        .chain(op_private.iter())
        .flat_map(|d| d.keys().cloned())
        .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let (public, private, master) = m.with_config(|cfg| {
        let cl = &cfg.cluster;
        (
            new_os_params(&cl.osparams, op_public.clone()).unwrap_or_else(|| cl.osparams.clone()),
            new_os_params(&cl.osparams_private_cluster, op_private.clone())
                .unwrap_or_else(|| cl.osparams_private_cluster.clone()),
            cl.master_node.clone(),
        )
    })?;
    let mut notes = Vec::new();
    for os in &changed {
        if !public.contains_key(os) && !private.contains_key(os) {
            continue; // all its parameters removed: nothing left to check
        }
        let params = osrun::fill_os_params(&public, &private, os, &Dict::new(), &Dict::new());
        let skipped = osrun::check_os_params(
            m,
            std::slice::from_ref(&master),
            OsParamsCheck {
                os,
                params: &params,
                secret: &Dict::new(),
                force_variant: !os.contains('+'),
                required: false,
            },
        )?;
        notes.extend(skipped.iter().map(|node| osrun::skipped_note(os, node)));
    }
    Ok(notes)
}
