//! Instances' network ports (`network_port`).
//!
//! Ganeti gives every instance of a hypervisor that needs a host TCP port
//! (kvm: its VNC/SPICE display) one taken from the cluster: a port given
//! back by a removed instance, else one above the highest used so far. The
//! port lives in the cluster object, so it is changed in the same config
//! commit that adds or removes the instance: a crash can neither leak a
//! port nor hand one out twice.
//!
//! The cluster object is shared by every job holding the Big Ganeti Lock
//! in shared mode, so another job may have changed it between our read and
//! our commit; the state machine then refuses our stale copy, and we simply
//! read again and retry.

use ganeti_types::{hvparams, now_f64, Cluster, GanetiError, Instance};

use crate::cmdlib::OpCtx;
use crate::state::ConfigOp;

/// How often a commit is retried when only the cluster object moved.
const ATTEMPTS: usize = 10;

/// Commit the ops `build` makes from the current cluster object; `build`
/// may change that object and then says so, and the changed object is
/// committed with its ops. Retried while another job moved the cluster
/// between our read and our commit.
fn commit_retrying(
    ctx: &OpCtx<'_>,
    mut build: impl FnMut(&mut Cluster) -> Result<(Vec<ConfigOp>, bool), GanetiError>,
) -> Result<(), GanetiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut cluster = ctx.config()?.cluster;
        let read_serial = cluster.serial_no;
        let (mut ops, changed) = build(&mut cluster)?;
        if changed {
            cluster.serial_no += 1;
            cluster.mtime = now_f64();
            ops.push(ConfigOp::PutCluster(Box::new(cluster)));
        }
        match ctx.commit(ops) {
            Ok(()) => return Ok(()),
            Err(e) => {
                let moved = ctx.config()?.cluster.serial_no != read_serial;
                if !(changed && moved && attempt < ATTEMPTS) {
                    return Err(e);
                }
            }
        }
    }
}

/// Commit a new instance (`ops` already holds its disks and networks,
/// not the instance): when its hypervisor needs a port, one is allocated
/// and the cluster stored alongside; `inst.network_port` then holds it.
pub(super) fn commit_new_instance(
    ctx: &OpCtx<'_>,
    ops: Vec<ConfigOp>,
    inst: &mut Instance,
) -> Result<(), GanetiError> {
    let needs_port = hvparams::requires_port(&inst.hypervisor);
    let mut port = inst.network_port;
    commit_retrying(ctx, |cluster| {
        let mut all = ops.clone();
        let mut new = inst.clone();
        if needs_port {
            let p = cluster.allocate_port()?;
            new.network_port = Some(p);
            port = Some(p);
        }
        all.push(ConfigOp::PutInstance(Box::new(new)));
        Ok((all, needs_port))
    })?;
    inst.network_port = port;
    Ok(())
}

/// Commit an instance's removal (`ops` holds its deletion): its network
/// port, if any, goes back to the cluster's pool in the same commit.
pub(super) fn commit_removal(
    ctx: &OpCtx<'_>,
    ops: Vec<ConfigOp>,
    inst: &Instance,
) -> Result<(), GanetiError> {
    commit_retrying(ctx, |cluster| {
        let changed = match inst.network_port {
            Some(p) => {
                cluster.release_port(p);
                true
            }
            None => false,
        };
        Ok((ops.clone(), changed))
    })
}
