//! The QEMU command line of an instance, built from its spec and typed
//! kvm hvparams.
//!
//! Pure: no file is read and nothing is probed here (interface addresses,
//! `/dev/vhost-net`, tap fds are resolved by the caller and passed in), so
//! the exact argv for any parameter combination is unit-testable. The
//! option choices follow Ganeti's `hv_kvm` where they still apply to QEMU
//! 10, with these deliberate differences:
//!
//! * `-nodefaults`: no stray default devices (a user-mode NIC, a CD-ROM,
//!   a VGA card on a headless VM); the devices we want are named.
//! * `-S` always: the guest's CPUs start only after the node has set the
//!   VNC/SPICE password and the CPU pinning over QMP (Ganeti does the same
//!   for pinning), then `cont` unless the start is paused.
//! * `-accel` instead of `-enable-kvm`, `-machine acpi=off` instead of the
//!   removed `-no-acpi`, `-audio` instead of the removed `-soundhw`,
//!   `-run-with` instead of `-runas`/`-chroot`.
//! * NICs are opened by the node (tap fds inherited by QEMU, as Ganeti
//!   does), not hot-added after `-S`: PCI hotplug needs ACPI, and ISA NICs
//!   cannot be hot-added at all.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ganeti_types::hvparams::kvm::{
    BootOrder, DiskAio, DiskCache, DiskType, KvmFlag, KvmParams, NicType, RebootBehavior,
};
use ganeti_types::DiskTemplate;

use super::files::InstanceFiles;
use crate::spec::{DiskMode, InstanceSpec};

/// VNC displays are counted from this TCP port.
pub(crate) const VNC_BASE_PORT: u32 = 5900;
/// TCG translation cache size (MiB). QEMU's default lets it grow to 1 GiB
/// per VM (a guest in a reboot loop reached 1.1 GiB RSS), which a node
/// running many software-CPU guests cannot afford.
const TCG_TB_SIZE_MIB: u32 = 64;

/// Where the VNC server listens, resolved from `vnc_bind_address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VncBind {
    /// An IP address (an interface name is resolved to its first IPv4).
    Ip(IpAddr),
    /// A directory: the server is the unix socket `<dir>/<instance>.vnc`.
    SocketDir(PathBuf),
}

/// One disk as QEMU gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaunchDisk {
    /// Drive and device id (see [`device_id`]).
    pub id: String,
    pub path: PathBuf,
    pub mode: DiskMode,
    /// Shared storage (migratable without copying): always `cache=none`,
    /// as Ganeti forces for its externally mirrored templates.
    pub shared: bool,
}

/// One NIC as QEMU gets it: an open tap fd QEMU inherits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LaunchNic {
    /// Netdev and device id (see [`device_id`]).
    pub id: String,
    pub mac: String,
    /// The fd number in QEMU (the same as in the launching process).
    pub fd: i32,
}

/// Everything the command line depends on.
#[derive(Debug)]
pub(crate) struct CmdlineInput<'a> {
    pub inst: &'a InstanceSpec,
    pub params: &'a KvmParams,
    pub files: &'a InstanceFiles,
    /// SPICE TLS certificate (with key) and CA certificate.
    pub spice_certs: (&'a Path, &'a Path),
    pub disks: &'a [LaunchDisk],
    pub nics: &'a [LaunchNic],
    /// Resolved `vnc_bind_address` (required when it is set).
    pub vnc: Option<&'a VncBind>,
    /// Resolved `spice_bind` (required when it is set).
    pub spice_addr: Option<IpAddr>,
    /// Whether `/dev/vhost-net` exists on this node.
    pub vhost_net_available: bool,
}

/// Templates whose disks live on storage other nodes see too.
pub(crate) fn is_shared_template(t: DiskTemplate) -> bool {
    matches!(
        t,
        DiskTemplate::Sharedfile
            | DiskTemplate::Blockdev
            | DiskTemplate::Ext
            | DiskTemplate::Gluster
    )
}

/// A stable QEMU id for a disk or NIC (`kind` is `disk` or `nic`),
/// Ganeti's `_GenerateDeviceKVMId`: the uuid without its last two groups
/// (`disk-932df160-7a22-4067`), short enough for every QEMU id field and
/// derivable again from the configuration for hotplug.
pub(crate) fn device_id(kind: &str, uuid: &str) -> Result<String, String> {
    let short = uuid.rsplitn(3, '-').last().unwrap_or(uuid);
    let ok = !short.is_empty()
        && short
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(format!(
            "cannot derive a QEMU device id from the {kind} uuid '{uuid}'"
        ));
    }
    Ok(format!("{kind}-{short}"))
}

/// The QEMU device model of a `nic_type`.
pub(crate) fn nic_model(t: NicType) -> &'static str {
    match t {
        NicType::Paravirtual => "virtio-net-pci",
        other => other.as_str(),
    }
}

/// The QEMU device model of a `disk_type`; `None` for the legacy
/// interfaces that only exist as `-drive if=...`.
fn disk_model(t: DiskType) -> Option<&'static str> {
    match t {
        DiskType::Paravirtual => Some("virtio-blk-pci"),
        DiskType::Ide => Some("ide-hd"),
        DiskType::Scsi => Some("scsi-hd"),
        DiskType::Sd | DiskType::Mtd | DiskType::Pflash => None,
    }
}

/// A value inside a QEMU option list (`a=b,c=d`): commas are doubled.
fn esc(value: &str) -> String {
    value.replace(',', ",,")
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("path {} is not valid UTF-8", path.display()))
}

/// `-drive` options of a disk (also what the HMP `drive_add` of a disk
/// hotplug gets).
pub(crate) fn drive_opts(disk: &LaunchDisk, params: &KvmParams) -> Result<String, String> {
    let iface = match params.disk_type {
        DiskType::Sd => "sd",
        DiskType::Mtd => "mtd",
        DiskType::Pflash => "pflash",
        _ => "none",
    };
    let mut s = format!(
        "file={},format=raw,if={iface},id={}",
        esc(path_str(&disk.path)?),
        disk.id
    );
    let cache = if disk.shared {
        DiskCache::None
    } else {
        params.disk_cache
    };
    match params.disk_aio {
        // checked by the hvparams: native needs cache=none anyway
        DiskAio::Native => s.push_str(",aio=native,cache=none"),
        aio => {
            s.push_str(",aio=");
            s.push_str(aio.as_str());
            if cache != DiskCache::Default {
                s.push_str(",cache=");
                s.push_str(cache.as_str());
            }
        }
    }
    if !params.disk_discard.is_empty() && params.disk_discard != "default" {
        s.push_str(",discard=");
        s.push_str(&esc(&params.disk_discard));
    }
    if disk.mode == DiskMode::Ro {
        s.push_str(",readonly=on");
    }
    Ok(s)
}

/// `-device` options of a disk, `None` for `if=sd|mtd|pflash` drives.
pub(crate) fn disk_device_opts(disk: &LaunchDisk, params: &KvmParams) -> Option<String> {
    let model = disk_model(params.disk_type)?;
    let mut s = format!("{model},drive={id},id={id}", id = disk.id);
    if params.disk_type == DiskType::Scsi {
        s.push_str(",bus=scsi.0");
    }
    Some(s)
}

/// A `unix:` chardev listening without waiting for a client.
fn unix_server(path: &Path) -> Result<String, String> {
    Ok(format!("unix:{},server=on,wait=off", esc(path_str(path)?)))
}

fn looks_like_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Builds the argv with small helpers.
struct Argv(Vec<String>);

impl Argv {
    fn opt(&mut self, name: &str, value: impl Into<String>) {
        self.0.push(name.to_string());
        self.0.push(value.into());
    }
    fn flag(&mut self, name: &str) {
        self.0.push(name.to_string());
    }
}

/// The full argv (`argv[0]` is `kvm_path`), or why the parameters cannot
/// be run.
pub(crate) fn build(i: &CmdlineInput<'_>) -> Result<Vec<String>, String> {
    let p = i.params;
    let inst = i.inst;
    let f = i.files;
    let mut a = Argv(vec![p.kvm_path.clone()]);

    a.opt("-name", inst.name.as_str());
    a.opt("-m", inst.maxmem_mib.to_string());
    let mut smp = inst.vcpus.to_string();
    for (key, n) in [
        ("cores", p.cpu_cores),
        ("threads", p.cpu_threads),
        ("sockets", p.cpu_sockets),
    ] {
        if n > 0 {
            smp.push_str(&format!(",{key}={n}"));
        }
    }
    a.opt("-smp", smp);
    a.opt("-pidfile", path_str(&f.pid)?);
    a.flag("-nodefaults");
    a.flag("-daemonize");
    a.opt("-D", path_str(&f.log)?);
    a.flag("-S");
    if looks_like_uuid(&inst.uuid) {
        a.opt("-uuid", inst.uuid.as_str());
    }

    let mut machine = p.machine_version.clone();
    if !p.acpi {
        if !machine.is_empty() {
            machine.push(',');
        }
        machine.push_str("acpi=off");
    }
    if !machine.is_empty() {
        a.opt("-machine", machine);
    }
    match p.kvm_flag {
        KvmFlag::Disabled => a.opt("-accel", format!("tcg,tb-size={TCG_TB_SIZE_MIB}")),
        KvmFlag::Enabled | KvmFlag::Default => a.opt("-accel", "kvm"),
    }
    if !p.cpu_type.is_empty() {
        a.opt("-cpu", p.cpu_type.as_str());
    }
    let pins = p.cpu_pinning();
    if pins.len() > 1 && pins.len() != inst.vcpus as usize {
        return Err(format!(
            "Number of vCPUs [{}] does not match the CPU mask [{}]",
            inst.vcpus, p.cpu_mask
        ));
    }
    if p.reboot_behavior == RebootBehavior::Exit {
        a.flag("-no-reboot");
    }
    if p.user_shutdown {
        a.flag("-no-shutdown");
    }
    if p.use_localtime {
        a.opt("-rtc", "base=localtime");
    }
    if !p.mem_path.is_empty() {
        a.opt("-mem-path", p.mem_path.as_str());
        a.flag("-mem-prealloc");
    }
    let mut run_with = Vec::new();
    match p.security_model.as_str() {
        "" | "none" => {}
        "user" => run_with.push(format!("user={}", esc(&p.security_domain))),
        other => {
            return Err(format!(
                "security_model '{other}' is not supported by this release"
            ))
        }
    }
    if p.use_chroot {
        run_with.push(format!("chroot={}", esc(path_str(&f.chroot)?)));
    }
    if !run_with.is_empty() {
        a.opt("-run-with", run_with.join(","));
    }
    a.opt("-device", "virtio-balloon");

    boot_options(&mut a, i)?;

    a.opt("-qmp", unix_server(&f.qmp)?);
    a.opt("-qmp", unix_server(&f.info_qmp)?);
    a.opt("-monitor", unix_server(&f.monitor)?);
    if p.serial_console {
        a.opt("-serial", unix_server(&f.serial)?);
    } else {
        a.opt("-serial", "none");
    }

    display_options(&mut a, i)?;

    if !p.soundhw.is_empty() {
        a.opt("-audio", format!("driver=none,model={}", esc(&p.soundhw)));
    }
    if p.use_guest_agent {
        a.opt(
            "-chardev",
            format!(
                "socket,path={},server=on,wait=off,id=qga0",
                esc(path_str(&f.qga)?)
            ),
        );
        a.opt("-device", "virtio-serial,id=qga0");
        a.opt(
            "-device",
            "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
        );
    }

    if p.disk_type == DiskType::Scsi {
        let controller = if p.scsi_controller_type.is_empty() {
            "lsi"
        } else {
            p.scsi_controller_type.as_str()
        };
        a.opt("-device", format!("{controller},id=scsi"));
    }
    for d in i.disks {
        a.opt("-drive", drive_opts(d, p)?);
        if let Some(dev) = disk_device_opts(d, p) {
            a.opt("-device", dev);
        }
    }

    if !i.nics.is_empty() {
        if p.vhost_net && !i.vhost_net_available {
            return Err(
                "vhost_net is enabled but /dev/vhost-net does not exist on this node".into(),
            );
        }
        if p.virtio_net_queues > 1 {
            return Err(format!(
                "virtio_net_queues={} (multi-queue taps) is not supported by this release",
                p.virtio_net_queues
            ));
        }
    }
    let model = nic_model(p.nic_type);
    for n in i.nics {
        let vhost = if p.vhost_net { ",vhost=on" } else { "" };
        a.opt("-netdev", format!("tap,id={},fd={}{vhost}", n.id, n.fd));
        a.opt(
            "-device",
            format!("{model},netdev={id},mac={},id={id}", esc(&n.mac), id = n.id),
        );
    }

    if !p.kvm_extra.trim().is_empty() {
        let extra = shell_words::split(&p.kvm_extra)
            .map_err(|e| format!("cannot split kvm_extra '{}': {e}", p.kvm_extra))?;
        a.0.extend(extra);
    }
    Ok(a.0)
}

/// Kernel, boot order, CD-ROMs and floppy.
fn boot_options(a: &mut Argv, i: &CmdlineInput<'_>) -> Result<(), String> {
    let p = i.params;
    let direct_kernel = !p.kernel_path.is_empty();
    let boot = |o: BootOrder| !direct_kernel && p.boot_order == o;
    if boot(BootOrder::Network) {
        a.opt("-boot", "n");
    }
    if boot(BootOrder::Disk) && !i.disks.is_empty() {
        a.opt("-boot", "c");
    }
    let cdrom_type = if p.cdrom_disk_type.is_empty() {
        p.disk_type.as_str()
    } else {
        p.cdrom_disk_type.as_str()
    };
    for (image, may_boot) in [(&p.cdrom_image_path, true), (&p.cdrom2_image_path, false)] {
        if image.is_empty() {
            continue;
        }
        let boots = may_boot && boot(BootOrder::Cdrom);
        let is_url = image.contains("://");
        let iface = if boots {
            "ide"
        } else if cdrom_type == "paravirtual" {
            "virtio"
        } else {
            cdrom_type
        };
        let format = if is_url { "" } else { ",format=raw" };
        if boots {
            a.opt("-boot", "d");
        }
        a.opt(
            "-drive",
            format!("file={},media=cdrom{format},if={iface}", esc(image)),
        );
    }
    if !p.floppy_image_path.is_empty() {
        if boot(BootOrder::Floppy) {
            a.opt("-boot", "a");
        }
        a.opt(
            "-drive",
            format!(
                "file={},format=raw,media=disk,if=floppy",
                esc(&p.floppy_image_path)
            ),
        );
    }
    if direct_kernel {
        a.opt("-kernel", p.kernel_path.as_str());
        if !p.initrd_path.is_empty() {
            a.opt("-initrd", p.initrd_path.as_str());
        }
        let mut append = Vec::new();
        if !p.root_path.is_empty() {
            append.push(format!("root={}", p.root_path));
        }
        if !p.kernel_args.is_empty() {
            append.push(p.kernel_args.clone());
        }
        if p.serial_console {
            append.push(format!("console=ttyS0,{}", p.serial_speed));
        }
        a.opt("-append", append.join(" "));
    }
    Ok(())
}

/// VNC, SPICE or no display; VGA, keymap and USB input devices.
fn display_options(a: &mut Argv, i: &CmdlineInput<'_>) -> Result<(), String> {
    let p = i.params;
    let name = &i.inst.name;
    let vnc = !p.vnc_bind_address.is_empty();
    let spice = !p.spice_bind.is_empty();
    let mut usb = Vec::new();
    match p.usb_mouse.as_str() {
        "" if vnc => usb.push("usb-tablet".to_string()),
        "" => {}
        mouse => usb.push(format!("usb-{mouse}")),
    }
    if vnc {
        let bind = i
            .vnc
            .ok_or("the VNC bind address was not resolved on this node")?;
        let arg = match bind {
            VncBind::SocketDir(dir) => {
                format!("unix:{}/{name}.vnc", esc(path_str(dir)?))
            }
            VncBind::Ip(ip) => match i.inst.network_port {
                Some(port) if port > VNC_BASE_PORT => {
                    let display = port - VNC_BASE_PORT;
                    let mut arg = match ip {
                        IpAddr::V4(v4) if v4.is_unspecified() => format!(":{display}"),
                        IpAddr::V6(v6) => format!("[{v6}]:{display}"),
                        IpAddr::V4(v4) => format!("{v4}:{display}"),
                    };
                    if p.vnc_tls {
                        arg.push_str(",tls-creds=vnctls0");
                        let mut obj = "tls-creds-anon,id=vnctls0,endpoint=server".to_string();
                        if !p.vnc_x509_path.is_empty() {
                            let verify = if p.vnc_x509_verify { "yes" } else { "no" };
                            obj = format!(
                                "tls-creds-x509,id=vnctls0,endpoint=server,dir={},verify-peer={verify}",
                                esc(&p.vnc_x509_path)
                            );
                        }
                        a.opt("-object", obj);
                    }
                    if !p.vnc_password_file.is_empty() {
                        arg.push_str(",password=on");
                    }
                    arg
                }
                port => {
                    tracing::error!(
                        instance = %name,
                        ?port,
                        "Network port is not a valid VNC display (<= {VNC_BASE_PORT}), not starting VNC"
                    );
                    "none".to_string()
                }
            },
        };
        a.opt("-vnc", arg);
    } else if spice {
        spice_options(a, i)?;
    } else {
        a.opt("-display", "none");
    }
    if !p.keymap.is_empty() {
        a.opt("-k", p.keymap.as_str());
    }
    if !p.vga.is_empty() {
        a.opt("-vga", p.vga.as_str());
    } else if spice {
        a.opt("-vga", "qxl");
    } else if vnc {
        // -nodefaults leaves a VNC server nothing to show otherwise
        a.opt("-vga", "std");
    }
    let legacy_usb: Vec<&str> = p
        .usb_devices
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    if !usb.is_empty() || !legacy_usb.is_empty() {
        a.flag("-usb");
    }
    for dev in usb {
        a.opt("-device", dev);
    }
    for dev in legacy_usb {
        a.opt("-usbdevice", dev);
    }
    Ok(())
}

fn spice_options(a: &mut Argv, i: &CmdlineInput<'_>) -> Result<(), String> {
    let p = i.params;
    let addr = i
        .spice_addr
        .ok_or("the SPICE bind address was not resolved on this node")?;
    let port = i
        .inst
        .network_port
        .ok_or("SPICE needs a network port, and the instance has none")?;
    let mut arg = format!("addr={addr}");
    if p.spice_use_tls {
        let (cert, ca) = i.spice_certs;
        let cert = esc(path_str(cert)?);
        arg.push_str(&format!(
            ",tls-port={port},x509-cacert-file={},x509-key-file={cert},x509-cert-file={cert}",
            esc(path_str(ca)?)
        ));
        if !p.spice_tls_ciphers.is_empty() {
            arg.push_str(&format!(",tls-ciphers={}", esc(&p.spice_tls_ciphers)));
        }
    } else {
        arg.push_str(&format!(",port={port}"));
    }
    if p.spice_password_file.is_empty() {
        arg.push_str(",disable-ticketing=on");
    }
    match p.spice_ip_version {
        4 => arg.push_str(",ipv4=on"),
        6 => arg.push_str(",ipv6=on"),
        _ => {}
    }
    for (key, value) in [
        ("image-compression", &p.spice_image_compression),
        ("jpeg-wan-compression", &p.spice_jpeg_wan_compression),
        (
            "zlib-glz-wan-compression",
            &p.spice_zlib_glz_wan_compression,
        ),
        ("streaming-video", &p.spice_streaming_video),
    ] {
        if !value.is_empty() {
            arg.push_str(&format!(",{key}={}", esc(value)));
        }
    }
    if !p.spice_playback_compression {
        arg.push_str(",playback-compression=off");
    }
    if p.spice_use_vdagent {
        a.opt("-device", "virtio-serial-pci,id=spice");
        a.opt(
            "-device",
            "virtserialport,chardev=spicechannel0,name=com.redhat.spice.0",
        );
        a.opt("-chardev", "spicevmc,id=spicechannel0,name=vdagent");
    } else {
        arg.push_str(",agent-mouse=off");
    }
    a.opt("-spice", arg);
    Ok(())
}
