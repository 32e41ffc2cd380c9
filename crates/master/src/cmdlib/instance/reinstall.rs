//! OP_INSTANCE_REINSTALL: reinstall a stopped instance, optionally with
//! another OS and changed OS parameters.
//!
//! The instance must be administratively down and not running, it must
//! have disks, and the OS must exist in the OS search path. Public and
//! private OS parameters given are merged into the instance's (a value
//! `default` removes a key), as `gnt-instance modify -O` does; secret ones
//! serve this run only and are never stored. Ganeti 3.0.2 instead replaces
//! the stored parameters by the ones given, so a reinstall that names none
//! silently loses them; merging keeps what the operator set.
//!
//! Order of effects, so that a failure changes nothing: the disks are
//! assembled (a reinstall of an instance whose disk files are gone fails
//! here with Ganeti's "Disk consistency error"), the OS is installed onto
//! them, and only then are the new OS and parameters committed; the disks
//! are shut down again in every case and marked inactive, as Ganeti leaves
//! them. Installing the OS (running its create script, or writing an OS
//! image) arrives with the OS interface, issue 5, at the marked place.

use ganeti_types::params::update_params;
use ganeti_types::{now_f64, Dict, ErrorClass, GanetiError, Instance};
use serde_json::Value;

use super::common::{self, lookup_instance};
use super::disks;
use crate::cmdlib::util::{bool_param, dict_param, str_param};
use crate::cmdlib::OpCtx;
use crate::state::ConfigOp;
use crate::Master;

/// The OS parameter naming an image to write instead of running scripts.
const OS_IMAGE_PARAM: &str = "os-image";

fn os_image(params: &Dict) -> Option<String> {
    params
        .get(OS_IMAGE_PARAM)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Ganeti's `CheckImageValidity`: an absolute path or an http(s)/ftp(s) URL.
fn valid_image(image: &str) -> bool {
    image.starts_with('/')
        || ["http://", "https://", "ftp://", "ftps://"]
            .iter()
            .any(|p| image.starts_with(p))
}

/// Submission-time checks (Ganeti's `CheckArguments`).
pub fn check(m: &Master, op: &Dict) -> Result<(), GanetiError> {
    if let Some(image) = os_image(&dict_param(op, "osparams")) {
        if !valid_image(&image) {
            return Err(GanetiError::prereq(
                "OS image must be an absolute path or a URL",
                ErrorClass::WrongInput,
            ));
        }
    }
    // the parameters the create script will get, checked by the OS now
    let name = str_param(op, "instance_name").unwrap_or_default();
    let Ok(Ok((inst, nodes))) = m.with_config(|c| {
        c.expand_instance(name)
            .map(|i| (i.clone(), super::osrun::instance_nodes(c, i)))
    }) else {
        return Ok(()); // an unknown instance is reported with Ganeti's words later
    };
    let new = reinstalled(&inst, op);
    super::osrun::validate_at_submit(
        m,
        &nodes,
        &new.os,
        &new.osparams,
        &new.osparams_private,
        &dict_param(op, "osparams_secret"),
        bool_param(op, "force_variant"),
    )
}

/// The instance as it will be stored after a successful reinstall.
fn reinstalled(inst: &Instance, op: &Dict) -> Instance {
    let mut new = inst.clone();
    if let Some(os) = str_param(op, "os_type") {
        new.os = os.to_string();
    }
    new.osparams = update_params(&inst.osparams, &dict_param(op, "osparams"));
    new.osparams_private =
        update_params(&inst.osparams_private, &dict_param(op, "osparams_private"));
    new.serial_no += 1;
    new.mtime = now_f64();
    new
}

pub fn exec(ctx: &mut OpCtx<'_>) -> Result<Value, GanetiError> {
    let op = ctx.op().clone();
    let cfg = ctx.config()?;
    let inst = lookup_instance(&cfg, &op)?;
    common::check_node_online(
        &cfg,
        &inst.primary_node,
        Some("Instance primary node offline, cannot reinstall"),
    )?;
    if inst.disks.is_empty() {
        return Err(GanetiError::wrong_input(format!(
            "Instance '{}' has no disks",
            inst.name
        )));
    }
    common::check_instance_state(ctx, &cfg, &inst, common::INSTANCE_DOWN, "cannot reinstall")?;
    let new = reinstalled(&inst, &op);
    if !new.os.is_empty() {
        common::check_os_exists(ctx.master, &new.os)?;
    }
    ctx.run_pre_hooks()?;
    if ctx.dry_run() {
        ctx.log_info("dry-run mode requested, not actually executing the operation");
        return Ok(Value::Null);
    }

    let given_image = os_image(&dict_param(&op, "osparams"));
    if let Some(image) = &given_image {
        ctx.log(format!("Using OS image '{image}'"));
    }
    let image = given_image.or_else(|| os_image(&inst.osparams));
    if let Some(os) = str_param(&op, "os_type") {
        ctx.log(format!("Changing OS scripts to '{os}'..."));
    }
    if image.is_none() && new.os.is_empty() {
        ctx.log_info(
            "No OS scripts or OS image specified or found in the instance's configuration, nothing to install",
        );
        return Ok(Value::Null);
    }

    disks::start_instance_disks(ctx, &cfg, &inst)?;
    // Writing an OS image (`image`) is not done yet; the create script of
    // the new OS runs with the new parameters. A failure skips the commit,
    // so the configuration keeps the old OS.
    let installed = if image.is_none() {
        install_os(ctx, &cfg, &new, &op)
    } else {
        Ok(())
    };
    if let Err(e) = installed {
        let _ = disks::shutdown_instance_disks(ctx, &cfg, &inst);
        let _ = common::set_disks_active(ctx, &inst.uuid, false);
        return Err(e);
    }
    let committed = ctx.commit(vec![ConfigOp::PutInstance(Box::new(new))]);
    disks::shutdown_instance_disks(ctx, &cfg, &inst)?;
    common::set_disks_active(ctx, &inst.uuid, false)?;
    committed?;
    Ok(Value::Null)
}

/// Ganeti's reinstall: " - INFO: Running instance OS create scripts...",
/// then the create script with `INSTANCE_REINSTALL=1`; failures read
/// "Could not install OS for instance '<name>' on node '<node>': <error>".
fn install_os(
    ctx: &mut OpCtx<'_>,
    cfg: &ganeti_types::ConfigData,
    new: &Instance,
    op: &Dict,
) -> Result<(), GanetiError> {
    ctx.log_info("Running instance OS create scripts...");
    let spec = common::spec(cfg, new)?;
    let run = super::osrun::run_spec(cfg, new, ctx.take_secret_osparams());
    ctx.node()
        .os_create(&spec, &run, true, super::osrun::debug_level(op))
        .map_err(|e| {
            GanetiError::OpExec(format!(
                "Could not install OS for instance '{}' on node '{}': {e}",
                new.name,
                cfg.node_name(&new.primary_node)
            ))
        })
}
