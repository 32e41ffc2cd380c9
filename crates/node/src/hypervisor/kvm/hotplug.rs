//! Changing the devices of a running VM (Ganeti's hotplug).
//!
//! Devices carry ids derived from their uuids ([`cmdline::device_id`]), the
//! same ids a start gives them, so a disk or NIC is found again whether it
//! was there at boot or hot-added later, also after a daemon restart. Disks
//! are hot-added with HMP `drive_add` (as Ganeti does) rather than
//! `blockdev-add`, so every disk is a named drive and an operator's
//! `block_resize <id>` on the monitor socket works for all of them. The
//! runtime file is updated after each change.
//!
//! Adding a PCI device needs the guest's ACPI hotplug (QEMU refuses
//! otherwise); removing one needs the guest to release it, which is
//! awaited (`DEVICE_DELETED`) before the backend is removed.

use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use ganeti_qmp::commands::{
    BlockResize, Closefd, DeviceAdd, DeviceDel, NetdevAdd, NetdevDel, QueryBlock,
};
use ganeti_qmp::{Qmp, QmpError};
use ganeti_types::hvparams::kvm::{DiskType, KvmParams, NicType};

use super::cmdline::{self, LaunchDisk};
use super::control;
use super::runtime::{KvmRuntime, RuntimeDisk, RuntimeNic};
use super::KvmHypervisor;
use crate::net;
use crate::spec::{AttachedDisk, HotplugAction, InstanceSpec};
use crate::NodeError;

/// How long the guest has to release an unplugged device.
const UNPLUG_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the removal request is repeated while waiting.
const UNPLUG_RETRY: Duration = Duration::from_secs(5);
const MIB: u64 = 1024 * 1024;

/// One hotplug request against a locked, running instance.
struct Ctx<'a> {
    inst: &'a InstanceSpec,
    params: KvmParams,
    qmp: Qmp<UnixStream>,
    rt: KvmRuntime,
}

impl Ctx<'_> {
    fn refuse(&self, reason: impl Into<String>) -> NodeError {
        NodeError::KvmOp {
            action: "hotplug a device of",
            instance: self.inst.name.clone(),
            reason: reason.into(),
        }
    }

    fn monitor(&self, source: QmpError) -> NodeError {
        NodeError::KvmMonitor {
            action: "hotplug a device of",
            instance: self.inst.name.clone(),
            source,
        }
    }

    /// Ask for the device's removal; `Ok(false)` if QEMU does not know it
    /// (any more). A request repeated while one is pending is fine.
    fn request_unplug(&mut self, id: &str) -> Result<bool, NodeError> {
        match self.qmp.execute(&DeviceDel { id: id.to_string() }) {
            Ok(()) => Ok(true),
            Err(QmpError::Command { class, .. }) if class == "DeviceNotFound" => Ok(false),
            Err(QmpError::Command { desc, .. }) if desc.contains("in the process of unplug") => {
                Ok(true)
            }
            Err(e) => Err(self.monitor(e)),
        }
    }

    /// `device_del`, then wait until the guest released the device. The
    /// request is repeated now and then: a guest that was still busy (e.g.
    /// with the plug-in of a device) can miss the ACPI notification.
    fn unplug(&mut self, id: &str) -> Result<(), NodeError> {
        self.qmp.take_events();
        if !self.request_unplug(id)? {
            return Ok(());
        }
        let deadline = Instant::now() + UNPLUG_TIMEOUT;
        let mut next_request = Instant::now() + UNPLUG_RETRY;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(self.refuse(format!(
                    "the guest did not release device {id} within {} s",
                    UNPLUG_TIMEOUT.as_secs()
                )));
            }
            if now >= next_request {
                if !self.request_unplug(id)? {
                    return Ok(());
                }
                next_request = now + UNPLUG_RETRY;
            }
            let slice = next_request.min(deadline).saturating_duration_since(now);
            match self.qmp.wait_event("DEVICE_DELETED", slice) {
                Ok(ev) if ev.data.get("device").and_then(|d| d.as_str()) == Some(id) => {
                    return Ok(())
                }
                Ok(_) | Err(QmpError::Timeout { .. }) => continue,
                Err(e) => return Err(self.monitor(e)),
            }
        }
    }

    /// Whether QEMU has a drive (block backend) named `id`.
    fn has_drive(&mut self, id: &str) -> Result<bool, NodeError> {
        let blocks = self.qmp.execute(&QueryBlock).map_err(|e| self.monitor(e))?;
        Ok(blocks.iter().any(|b| b.device == id))
    }

    fn hmp(&mut self, cmd: &str) -> Result<(), NodeError> {
        let out = self.qmp.hmp(cmd).map_err(|e| self.monitor(e))?;
        let out = out.trim();
        if out.is_empty() || out == "OK" {
            Ok(())
        } else {
            Err(self.refuse(format!("'{}' failed: {out}", hmp_verb(cmd))))
        }
    }
}

fn hmp_verb(cmd: &str) -> &str {
    cmd.split_whitespace().next().unwrap_or(cmd)
}

/// An HMP string argument: double-quoted with `\` and `"` escaped.
fn hmp_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub(super) fn hotplug(
    hv: &KvmHypervisor,
    inst: &InstanceSpec,
    disks: &[AttachedDisk],
    action: &HotplugAction,
) -> Result<(), NodeError> {
    let name = inst.name.as_str();
    super::files::check_name(&hv.dirs, name)?;
    let lock = hv.instance_lock(name);
    let _guard = super::hold(&lock);
    if hv.live(name)?.is_none() {
        return Err(NodeError::NotRunning {
            instance: name.to_string(),
        });
    }
    let files = hv.dirs.instance(name);
    let rt = KvmRuntime::read(name, &files.runtime)?.ok_or_else(|| NodeError::KvmOp {
        action: "hotplug a device of",
        instance: name.to_string(),
        reason: format!("its runtime file {} is missing", files.runtime.display()),
    })?;
    // the VM runs with the parameters it was started with
    let params = super::parse_params(name, &rt.hvparams)?;
    let qmp = control::connect(&files.qmp, control::OP_TIMEOUT).map_err(|source| {
        NodeError::KvmMonitor {
            action: "hotplug a device of",
            instance: name.to_string(),
            source,
        }
    })?;
    let mut ctx = Ctx {
        inst,
        params,
        qmp,
        rt,
    };
    let id_err = |reason: String| NodeError::KvmOp {
        action: "hotplug a device of",
        instance: name.to_string(),
        reason,
    };
    match action {
        HotplugAction::DiskResized { index } => {
            let disk = inst
                .disks
                .get(*index)
                .ok_or_else(|| ctx.refuse(format!("there is no disk {index}")))?;
            let id = cmdline::device_id("disk", &disk.uuid).map_err(id_err)?;
            if !ctx.rt.disks.iter().any(|d| d.id == id) {
                return Err(ctx.refuse(format!("disk {index} ({id}) is not attached")));
            }
            let size = disk
                .size_mib
                .checked_mul(MIB)
                .ok_or_else(|| ctx.refuse("the disk size overflows"))?;
            ctx.qmp
                .execute(&BlockResize::by_device(id.as_str(), size))
                .map_err(|e| ctx.monitor(e))?;
            tracing::info!(
                instance = name,
                disk = id,
                size_mib = disk.size_mib,
                "disk resized"
            );
            return Ok(());
        }
        HotplugAction::DiskAdd { index } => disk_add(&mut ctx, disks, *index, id_err)?,
        HotplugAction::DiskRemove { disk } => {
            let id = cmdline::device_id("disk", &disk.uuid).map_err(id_err)?;
            if !ctx.rt.disks.iter().any(|d| d.id == id) {
                return Err(ctx.refuse(format!("disk {id} is not attached")));
            }
            ctx.unplug(&id)?;
            // QEMU deletes a -drive/drive_add backend with its device;
            // make sure it is gone
            if ctx.has_drive(&id)? {
                ctx.hmp(&format!("drive_del {id}"))?;
            }
            ctx.rt.disks.retain(|d| d.id != id);
            tracing::info!(instance = name, disk = id, "disk hot-removed");
        }
        HotplugAction::NicAdd { index } => nic_add(&mut ctx, *index, id_err)?,
        HotplugAction::NicRemove { nic } => {
            let id = cmdline::device_id("nic", &nic.uuid).map_err(id_err)?;
            let Some(entry) = ctx.rt.nics.iter().find(|n| n.id == id).cloned() else {
                return Err(ctx.refuse(format!("NIC {id} is not plugged in")));
            };
            ctx.unplug(&id)?;
            match ctx.qmp.execute(&NetdevDel { id: id.clone() }) {
                Ok(()) => {}
                Err(QmpError::Command { .. }) => {} // already gone with its device
                Err(e) => return Err(ctx.monitor(e)),
            }
            if let Err(e) = net::unconfigure_tap(&entry.tap, &entry.nic) {
                tracing::warn!(instance = name, tap = entry.tap, error = %e, "cannot undo the setup of an unplugged tap");
            }
            ctx.rt.nics.retain(|n| n.id != id);
            tracing::info!(instance = name, nic = id, "NIC hot-removed");
        }
    }
    ctx.rt.write(&files.runtime)?;
    super::write_nic_files(&files, &ctx.rt)
}

fn disk_add(
    ctx: &mut Ctx<'_>,
    disks: &[AttachedDisk],
    index: usize,
    id_err: impl Fn(String) -> NodeError,
) -> Result<(), NodeError> {
    if ctx.params.disk_type != DiskType::Paravirtual {
        return Err(ctx.refuse(format!(
            "disks of type '{}' cannot be hot-added (only paravirtual)",
            ctx.params.disk_type
        )));
    }
    let spec = ctx
        .inst
        .disks
        .get(index)
        .ok_or_else(|| ctx.refuse(format!("there is no disk {index}")))?;
    let attached = disks
        .iter()
        .find(|d| d.uuid == spec.uuid)
        .ok_or_else(|| ctx.refuse(format!("disk {index} is not set up on this node")))?;
    let id = cmdline::device_id("disk", &spec.uuid).map_err(&id_err)?;
    if ctx.rt.disks.iter().any(|d| d.id == id) || ctx.has_drive(&id)? {
        return Err(ctx.refuse(format!("disk {id} is already attached")));
    }
    let launch = LaunchDisk {
        id: id.clone(),
        path: attached.dev_path.clone(),
        mode: attached.mode,
        shared: cmdline::is_shared_template(spec.template),
    };
    let opts = cmdline::drive_opts(&launch, &ctx.params).map_err(&id_err)?;
    ctx.hmp(&format!("drive_add dummy {}", hmp_quote(&opts)))?;
    let device = cmdline::disk_device_opts(&launch, &ctx.params)
        .ok_or_else(|| ctx.refuse("no device model for the disk"))?;
    let model = device.split(',').next().unwrap_or_default().to_string();
    let add = DeviceAdd::new(model, id.as_str()).arg("drive", id.as_str());
    if let Err(e) = ctx.qmp.execute(&add) {
        let err = ctx.monitor(e);
        if let Err(undo) = ctx.hmp(&format!("drive_del {id}")) {
            tracing::warn!(instance = %ctx.inst.name, error = %undo, "cannot remove the drive of a failed disk hotplug");
        }
        return Err(err);
    }
    ctx.rt.disks.push(RuntimeDisk {
        uuid: spec.uuid.clone(),
        id: id.clone(),
        dev_path: attached.dev_path.clone(),
        mode: attached.mode,
    });
    tracing::info!(instance = %ctx.inst.name, disk = id, "disk hot-added");
    Ok(())
}

fn nic_add(
    ctx: &mut Ctx<'_>,
    index: usize,
    id_err: impl Fn(String) -> NodeError,
) -> Result<(), NodeError> {
    let inst = ctx.inst;
    let nic = inst
        .nics
        .get(index)
        .ok_or_else(|| ctx.refuse(format!("there is no NIC {index}")))?;
    if ctx.params.nic_type == NicType::Ne2kIsa {
        return Err(ctx.refuse("ISA NICs (ne2k_isa) cannot be hot-added"));
    }
    if ctx.params.vhost_net && !std::path::Path::new("/dev/vhost-net").exists() {
        return Err(
            ctx.refuse("vhost_net is enabled but /dev/vhost-net does not exist on this node")
        );
    }
    if ctx.params.virtio_net_queues > 1 {
        return Err(ctx.refuse(format!(
            "virtio_net_queues={} (multi-queue taps) is not supported by this release",
            ctx.params.virtio_net_queues
        )));
    }
    let id = cmdline::device_id("nic", &nic.uuid).map_err(&id_err)?;
    if ctx.rt.nics.iter().any(|n| n.id == id) {
        return Err(ctx.refuse(format!("NIC {id} is already plugged in")));
    }
    let tap = net::open_tap(None, ctx.params.vnet_hdr)?;
    let undo_tap = |ctx: &Ctx<'_>| {
        if let Err(e) = net::unconfigure_tap(&tap.ifname, nic) {
            tracing::warn!(instance = %ctx.inst.name, tap = tap.ifname, error = %e, "cannot undo the setup of a tap");
        }
    };
    if let Err(e) = net::configure_tap(&tap.ifname, nic, &inst.name) {
        undo_tap(ctx);
        return Err(e);
    }
    // QEMU keeps its own copy of the fd; ours closes when `tap` drops
    if let Err(e) = ctx.qmp.send_fd(&id, tap.fd.as_fd()) {
        undo_tap(ctx);
        return Err(ctx.monitor(e));
    }
    let mut netdev = NetdevAdd::tap_fd(id.as_str(), id.as_str());
    if ctx.params.vhost_net {
        netdev.vhost = Some(true);
    }
    if let Err(e) = ctx.qmp.execute(&netdev) {
        let _ = ctx.qmp.execute(&Closefd { fdname: id.clone() });
        undo_tap(ctx);
        return Err(ctx.monitor(e));
    }
    let device = DeviceAdd::new(cmdline::nic_model(ctx.params.nic_type), id.as_str())
        .arg("netdev", id.as_str())
        .arg("mac", nic.mac.as_str());
    if let Err(e) = ctx.qmp.execute(&device) {
        let _ = ctx.qmp.execute(&NetdevDel { id: id.clone() });
        undo_tap(ctx);
        return Err(ctx.monitor(e));
    }
    ctx.rt.nics.push(RuntimeNic {
        nic: nic.clone(),
        id: id.clone(),
        tap: tap.ifname.clone(),
    });
    tracing::info!(instance = %inst.name, nic = id, tap = tap.ifname, "NIC hot-added");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmp_strings_are_quoted() {
        assert_eq!(hmp_quote("file=/a b,if=none"), "\"file=/a b,if=none\"");
        assert_eq!(hmp_quote(r#"x"y\z"#), r#""x\"y\\z""#);
        assert_eq!(hmp_verb("drive_add dummy x"), "drive_add");
    }
}
