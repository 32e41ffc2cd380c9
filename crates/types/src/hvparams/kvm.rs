//! The kvm hypervisor's parameters: their Ganeti 3.0.2 defaults and types,
//! the master-side syntax check (hv_kvm's `PARAMETERS` table plus its
//! `check_*` rules), and the typed [`KvmParams`] the node side builds a
//! QEMU command line from.
//!
//! One table drives all of it, so the defaults `gnt-cluster info` shows,
//! the types enforced at submit time, the refusals, and what the node
//! later reads can never disagree. [`KvmParams::from_dict`] runs the same
//! check as job submission; a dict it accepts is exactly a dict the master
//! accepts.

use serde_json::{json, Value};

use crate::errors::GanetiError;
use crate::params::VType;
use crate::Dict;

use super::base::{
    check_table, coerce_all, hv_error, is_interface_name, is_ipv4, is_ipv6, is_norm_abs_path, spec,
    table_defaults, truthy, Check, Def, ParamSpec,
};

const BOOT_ORDERS: &[&str] = &["cdrom", "disk", "floppy", "network"];
const NIC_TYPES: &[&str] = &[
    "e1000",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "paravirtual",
    "pcnet",
    "rtl8139",
];
const DISK_TYPES: &[&str] = &[
    "ide",
    "mtd",
    "paravirtual",
    "pflash",
    "scsi",
    "scsi-block",
    "scsi-cd",
    "scsi-generic",
    "scsi-hd",
    "sd",
];
const SCSI_CONTROLLERS: &[&str] = &["lsi", "megasas", "virtio-scsi-pci"];
const DISCARD_TYPES: &[&str] = &["default", "ignore", "unmap"];
const MOUSE_TYPES: &[&str] = &["mouse", "tablet"];
const CACHE_TYPES: &[&str] = &["default", "none", "writeback", "writethrough"];
const AIO_TYPES: &[&str] = &["native", "threads"];
const SECURITY_MODELS: &[&str] = &["none", "pool", "user"];
const KVM_FLAGS: &[&str] = &["disabled", "enabled"];
const REBOOT_BEHAVIORS: &[&str] = &["reboot", "exit"];
const SPICE_LOSSLESS: &[&str] = &["auto_glz", "auto_lz", "glz", "lz", "off", "quic"];
const SPICE_LOSSY: &[&str] = &["always", "auto", "never"];
const SPICE_VIDEO: &[&str] = &["all", "filter", "off"];

/// Serial speeds a kvm serial console accepts (Ganeti's `VALID_SERIAL_SPEEDS`).
pub const VALID_SERIAL_SPEEDS: &[i64] = &[
    75, 110, 300, 600, 1200, 1800, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200,
    230400, 345600, 460800,
];

/// SPICE parameters that only make sense with `spice_bind` set, in the
/// order their absence is reported.
const SPICE_ADDITIONAL: &[&str] = &[
    "spice_ip_version",
    "spice_password_file",
    "spice_image_compression",
    "spice_jpeg_wan_compression",
    "spice_zlib_glz_wan_compression",
    "spice_streaming_video",
    "spice_use_tls",
];

use Check as C;
use Def as D;
use VType as T;

/// hv_kvm's `PARAMETERS`, in Ganeti's order, with each key's value type
/// (`HVS_PARAMETER_TYPES`) and built-in default (`HVC_DEFAULTS`).
#[rustfmt::skip]
const TABLE: &[ParamSpec] = &[
    spec("kvm_path",                       T::Str,      true,  C::File,                      D::S("/usr/bin/kvm")),
    spec("kernel_path",                    T::Str,      false, C::File,                      D::S("/boot/vmlinuz-3-kvmU")),
    spec("initrd_path",                    T::Str,      false, C::File,                      D::S("")),
    spec("root_path",                      T::MaybeStr, false, C::Any,                       D::S("/dev/vda1")),
    spec("kernel_args",                    T::Str,      false, C::Any,                       D::S("ro")),
    spec("acpi",                           T::Bool,     false, C::Any,                       D::B(true)),
    spec("serial_console",                 T::Bool,     false, C::Any,                       D::B(true)),
    spec("serial_speed",                   T::Int,      false, C::Any,                       D::I(38400)),
    spec("vnc_bind_address",               T::Str,      false, C::Any,                       D::S("")),
    spec("vnc_tls",                        T::Bool,     false, C::Any,                       D::B(false)),
    spec("vnc_x509_path",                  T::Str,      false, C::Dir,                       D::S("")),
    spec("vnc_x509_verify",                T::Bool,     false, C::Any,                       D::B(false)),
    spec("vnc_password_file",              T::Str,      false, C::File,                      D::S("")),
    spec("spice_bind",                     T::Str,      false, C::Any,                       D::S("")),
    spec("spice_ip_version",               T::Int,      false, C::SpiceIpVersion,            D::I(0)),
    spec("spice_password_file",            T::Str,      false, C::File,                      D::S("")),
    spec("spice_image_compression",        T::Str,      false, C::InSet(SPICE_LOSSLESS),     D::S("")),
    spec("spice_jpeg_wan_compression",     T::Str,      false, C::InSet(SPICE_LOSSY),        D::S("")),
    spec("spice_zlib_glz_wan_compression", T::Str,      false, C::InSet(SPICE_LOSSY),        D::S("")),
    spec("spice_streaming_video",          T::Str,      false, C::InSet(SPICE_VIDEO),        D::S("")),
    spec("spice_playback_compression",     T::Bool,     false, C::Any,                       D::B(true)),
    spec("spice_use_tls",                  T::Bool,     false, C::Any,                       D::B(false)),
    spec("spice_tls_ciphers",              T::Str,      false, C::Any,                       D::S("HIGH:-DES:-3DES:-EXPORT:-DH")),
    spec("spice_use_vdagent",              T::Bool,     false, C::Any,                       D::B(true)),
    spec("floppy_image_path",              T::Str,      false, C::File,                      D::S("")),
    spec("cdrom_image_path",               T::Str,      false, C::FileOrUrl,                 D::S("")),
    spec("cdrom2_image_path",              T::Str,      false, C::FileOrUrl,                 D::S("")),
    spec("boot_order",                     T::Str,      true,  C::InSet(BOOT_ORDERS),        D::S("disk")),
    spec("nic_type",                       T::Str,      true,  C::InSet(NIC_TYPES),          D::S("paravirtual")),
    spec("disk_type",                      T::Str,      true,  C::InSet(DISK_TYPES),         D::S("paravirtual")),
    spec("scsi_controller_type",           T::Str,      true,  C::InSet(SCSI_CONTROLLERS),   D::S("lsi")),
    spec("disk_discard",                   T::Str,      false, C::InSet(DISCARD_TYPES),      D::S("default")),
    spec("cdrom_disk_type",                T::Str,      false, C::InSet(DISK_TYPES),         D::S("")),
    spec("usb_mouse",                      T::Str,      false, C::InSet(MOUSE_TYPES),        D::S("")),
    spec("keymap",                         T::Str,      false, C::Any,                       D::S("")),
    spec("migration_port",                 T::Int,      true,  C::NetPort,                   D::I(8102)),
    spec("migration_bandwidth",            T::Int,      true,  C::NonNegative,               D::I(32)),
    spec("migration_downtime",             T::Int,      true,  C::NonNegative,               D::I(30)),
    spec("migration_mode",                 T::Str,      true,  C::MigrationMode,             D::S("live")),
    spec("use_guest_agent",                T::Bool,     false, C::Any,                       D::B(false)),
    spec("use_localtime",                  T::Bool,     false, C::Any,                       D::B(false)),
    spec("disk_cache",                     T::Str,      true,  C::InSet(CACHE_TYPES),        D::S("default")),
    spec("disk_aio",                       T::Str,      false, C::InSet(AIO_TYPES),          D::S("threads")),
    spec("security_model",                 T::Str,      true,  C::InSet(SECURITY_MODELS),    D::S("none")),
    spec("security_domain",                T::Str,      false, C::Any,                       D::S("")),
    spec("kvm_flag",                       T::Str,      false, C::InSet(KVM_FLAGS),          D::S("")),
    spec("vhost_net",                      T::Bool,     false, C::Any,                       D::B(false)),
    spec("virtio_net_queues",              T::Int,      false, C::VirtioQueues,              D::I(1)),
    spec("use_chroot",                     T::Bool,     false, C::Any,                       D::B(false)),
    spec("user_shutdown",                  T::Bool,     false, C::Any,                       D::B(false)),
    spec("mem_path",                       T::Str,      false, C::Dir,                       D::S("")),
    spec("reboot_behavior",                T::Str,      true,  C::InSet(REBOOT_BEHAVIORS),   D::S("reboot")),
    spec("cpu_mask",                       T::Str,      false, C::MultiCpuMask,              D::S("all")),
    spec("cpu_type",                       T::Str,      false, C::Any,                       D::S("")),
    spec("cpu_cores",                      T::Int,      false, C::NonNegative,               D::I(0)),
    spec("cpu_threads",                    T::Int,      false, C::NonNegative,               D::I(0)),
    spec("cpu_sockets",                    T::Int,      false, C::NonNegative,               D::I(0)),
    spec("soundhw",                        T::Str,      false, C::Any,                       D::S("")),
    spec("usb_devices",                    T::Str,      false, C::Any,                       D::S("")),
    spec("vga",                            T::Str,      false, C::Any,                       D::S("")),
    spec("kvm_extra",                      T::Str,      false, C::Any,                       D::S("")),
    spec("machine_version",                T::Str,      false, C::Any,                       D::S("")),
    spec("migration_caps",                 T::Str,      false, C::Any,                       D::S("")),
    spec("kvm_pci_reservations",           T::Int,      false, C::PciReservations,           D::I(12)),
    spec("vnet_hdr",                       T::Bool,     false, C::Any,                       D::B(true)),
];

/// The value type of every kvm parameter (what `params::hv_types("kvm")` returns).
pub const TYPES: &[(&str, VType)] = &{
    let mut out = [("", VType::Str); TABLE.len()];
    let mut i = 0;
    while i < TABLE.len() {
        out[i] = (TABLE[i].name, TABLE[i].vtype);
        i += 1;
    }
    out
};

/// Ganeti 3.0.2's kvm defaults (`HVC_DEFAULTS[kvm]`, as `/2/info` shows them).
pub fn defaults() -> Dict {
    table_defaults(TABLE)
}

fn s<'a>(d: &'a Dict, k: &str) -> &'a str {
    d.get(k).and_then(Value::as_str).unwrap_or("")
}

fn t(d: &Dict, k: &str) -> bool {
    d.get(k).map(truthy).unwrap_or(false)
}

/// hv_kvm's `check_boot_parameters`.
fn check_boot(d: &Dict) -> Result<(), GanetiError> {
    if s(d, "boot_order") == "cdrom" && s(d, "cdrom_image_path").is_empty() {
        return Err(hv_error("Cannot boot from cdrom without an ISO path"));
    }
    if !s(d, "kernel_path").is_empty() && s(d, "root_path").is_empty() {
        return Err(hv_error(
            "Need a root partition for the instance, if a kernel is defined",
        ));
    }
    Ok(())
}

/// hv_kvm's `check_security_model`.
fn check_security(d: &Dict) -> Result<(), GanetiError> {
    match s(d, "security_model") {
        "user" if s(d, "security_domain").is_empty() => Err(hv_error(
            "A security domain (user to run kvm as) must be specified",
        )),
        "none" | "pool" if !s(d, "security_domain").is_empty() => Err(hv_error(
            "Cannot have a security domain when the security model is 'none' or 'pool'",
        )),
        _ => Ok(()),
    }
}

/// hv_kvm's `check_console_parameters`.
fn check_console(d: &Dict) -> Result<(), GanetiError> {
    if t(d, "serial_console") {
        let speed = d.get("serial_speed").and_then(Value::as_i64).unwrap_or(0);
        if !VALID_SERIAL_SPEEDS.contains(&speed) {
            let all: Vec<String> = VALID_SERIAL_SPEEDS.iter().map(i64::to_string).collect();
            return Err(hv_error(format!(
                "Invalid serial console speed, must be one of: {}",
                all.join(", ")
            )));
        }
    }
    Ok(())
}

/// hv_kvm's `check_vnc_parameters`, plus the address syntax its node-side
/// `validate_vnc_parameters` demands (an address, an interface, a path).
fn check_vnc(d: &Dict) -> Result<(), GanetiError> {
    if t(d, "vnc_x509_verify") && s(d, "vnc_x509_path").is_empty() {
        return Err(hv_error(
            "vnc_x509_path must be defined, if vnc_x509_verify is",
        ));
    }
    let bind = s(d, "vnc_bind_address");
    let bind_ok = bind.is_empty()
        || is_ipv4(bind)
        || is_ipv6(bind)
        || is_interface_name(bind)
        || is_norm_abs_path(bind);
    if !bind_ok {
        return Err(hv_error(
            "VNC: The vnc_bind_address parameter must be either a valid IP address, \
             an interface name, or an absolute path",
        ));
    }
    Ok(())
}

/// hv_kvm's `check_spice_parameters`, plus the syntactic half of its
/// node-side `validate_spice_parameters`.
fn check_spice(d: &Dict) -> Result<(), GanetiError> {
    let bind = s(d, "spice_bind");
    if bind.is_empty() {
        for p in SPICE_ADDITIONAL {
            if t(d, p) {
                return Err(hv_error(format!(
                    "SPICE: {p} requires spice_bind to be set"
                )));
            }
        }
        return Ok(());
    }
    let version = d
        .get("spice_ip_version")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if version != 0 {
        if is_ipv4(bind) && version != 4 {
            return Err(hv_error(format!(
                "SPICE: Got an IPv4 address ({bind}), but the specified IP version is {version}"
            )));
        }
        if is_ipv6(bind) && version != 6 {
            return Err(hv_error(format!(
                "SPICE: Got an IPv6 address ({bind}), but the specified IP version is {version}"
            )));
        }
    }
    if !s(d, "vnc_bind_address").is_empty() {
        return Err(hv_error(
            "Both SPICE and VNC are configured, but only one of them can be used at a given time",
        ));
    }
    if !(is_ipv4(bind) || is_ipv6(bind) || is_interface_name(bind)) {
        return Err(hv_error(
            "SPICE: The spice_bind parameter must be either a valid IP address or interface name",
        ));
    }
    Ok(())
}

/// hv_kvm's `check_disk_cache_parameters`.
fn check_disk_cache(d: &Dict) -> Result<(), GanetiError> {
    if s(d, "disk_aio") == "native" && s(d, "disk_cache") != "none" {
        return Err(hv_error(
            "When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.",
        ));
    }
    Ok(())
}

/// Type-coerce and syntax-check a FILLED kvm dict; the coerced dict.
pub(crate) fn checked(filled: &Dict) -> Result<Dict, GanetiError> {
    let d = coerce_all(TABLE, filled)?;
    check_table(TABLE, &d)?;
    check_boot(&d)?;
    check_security(&d)?;
    check_console(&d)?;
    check_vnc(&d)?;
    check_spice(&d)?;
    check_disk_cache(&d)?;
    Ok(d)
}

macro_rules! str_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($var),+ }

        impl $name {
            /// Ganeti's string for this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }
            /// Parse Ganeti's string.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$var),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

str_enum!(
    /// `boot_order`.
    BootOrder { Disk => "disk", Cdrom => "cdrom", Floppy => "floppy", Network => "network" }
);
str_enum!(
    /// `disk_type` (Ganeti's scsi-generic/-block/-hd/-cd are refused by this release).
    DiskType {
        Paravirtual => "paravirtual", Ide => "ide", Scsi => "scsi", Sd => "sd",
        Mtd => "mtd", Pflash => "pflash",
    }
);
str_enum!(
    /// `nic_type`.
    NicType {
        Paravirtual => "paravirtual", Rtl8139 => "rtl8139", Ne2kPci => "ne2k_pci",
        Ne2kIsa => "ne2k_isa", I82551 => "i82551", I82557b => "i82557b",
        I82559er => "i82559er", Pcnet => "pcnet", E1000 => "e1000",
    }
);
str_enum!(
    /// `disk_cache`.
    DiskCache {
        Default => "default", None => "none", Writethrough => "writethrough",
        Writeback => "writeback",
    }
);
str_enum!(
    /// `disk_aio` (Ganeti 3.0.2 accepts threads and native only).
    DiskAio { Threads => "threads", Native => "native", IoUring => "io_uring" }
);
str_enum!(
    /// `reboot_behavior`.
    RebootBehavior { Reboot => "reboot", Exit => "exit" }
);
str_enum!(
    /// `kvm_flag`: `Default` is the empty string (QEMU decides).
    KvmFlag { Default => "", Enabled => "enabled", Disabled => "disabled" }
);

/// Typed, checked kvm hypervisor parameters of one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct KvmParams {
    pub kvm_path: String,
    /// "" = boot from disk/cdrom (no -kernel).
    pub kernel_path: String,
    pub initrd_path: String,
    /// "" = no root= argument.
    pub root_path: String,
    pub kernel_args: String,
    pub boot_order: BootOrder,
    pub cdrom_image_path: String,
    pub serial_console: bool,
    pub serial_speed: u32,
    /// "" = no VNC; an IP address, an interface name or a socket path.
    pub vnc_bind_address: String,
    pub vnc_password_file: String,
    /// "" = no SPICE.
    pub spice_bind: String,
    /// "" = QEMU's default machine.
    pub machine_version: String,
    /// "" = QEMU's default CPU model.
    pub cpu_type: String,
    /// "all", "0-2,4" or one mask per vCPU ("1:2:3-4"); see [`super::cpumask`].
    pub cpu_mask: String,
    /// 0 = not given.
    pub cpu_cores: u32,
    pub cpu_threads: u32,
    pub cpu_sockets: u32,
    pub disk_type: DiskType,
    pub nic_type: NicType,
    pub disk_cache: DiskCache,
    pub disk_aio: DiskAio,
    pub acpi: bool,
    pub reboot_behavior: RebootBehavior,
    pub use_localtime: bool,
    /// `Disabled` => software CPU (TCG).
    pub kvm_flag: KvmFlag,
    /// "" = none.
    pub mem_path: String,
    /// MiB/s.
    pub migration_bandwidth: u32,
    /// ms.
    pub migration_downtime: u32,
    pub migration_port: u32,
    pub user_shutdown: bool,
    pub vhost_net: bool,
    pub vnet_hdr: bool,
    pub virtio_net_queues: u32,
    /// Extra QEMU arguments (Ganeti splits them on single spaces).
    pub kvm_extra: String,
    pub keymap: String,
    pub vga: String,
    pub usb_mouse: String,
    pub soundhw: String,
    // ---- the remaining Ganeti kvm parameters ----
    pub vnc_tls: bool,
    pub vnc_x509_path: String,
    pub vnc_x509_verify: bool,
    pub spice_ip_version: u32,
    pub spice_password_file: String,
    pub spice_image_compression: String,
    pub spice_jpeg_wan_compression: String,
    pub spice_zlib_glz_wan_compression: String,
    pub spice_streaming_video: String,
    pub spice_playback_compression: bool,
    pub spice_use_tls: bool,
    pub spice_tls_ciphers: String,
    pub spice_use_vdagent: bool,
    pub floppy_image_path: String,
    pub cdrom2_image_path: String,
    /// "" = same as `disk_type`.
    pub cdrom_disk_type: String,
    pub scsi_controller_type: String,
    pub disk_discard: String,
    pub migration_mode: String,
    pub migration_caps: String,
    pub use_guest_agent: bool,
    /// "none", "user" (run as `security_domain`) or "pool".
    pub security_model: String,
    pub security_domain: String,
    pub use_chroot: bool,
    pub usb_devices: String,
    pub kvm_pci_reservations: u32,
}

fn u32_of(d: &Dict, k: &str) -> Result<u32, GanetiError> {
    let v = d.get(k).cloned().unwrap_or(Value::Null);
    v.as_i64()
        .and_then(|x| u32::try_from(x).ok())
        .ok_or_else(|| {
            hv_error(format!(
                "Parameter '{k}' is out of range (current value: '{}')",
                super::base::py_value(&v)
            ))
        })
}

fn enum_of<E>(
    d: &Dict,
    k: &str,
    parse: fn(&str) -> Option<E>,
    supported: &str,
) -> Result<E, GanetiError> {
    let v = s(d, k);
    parse(v).ok_or_else(|| {
        hv_error(format!(
            "Parameter '{k}': value '{v}' is not supported by this release of ganeti-rs \
             (supported: {supported})"
        ))
    })
}

/// Typed values of a dict that passed [`checked`]; refuses the values
/// Ganeti accepts but this release cannot run.
pub(crate) fn typed(d: &Dict) -> Result<KvmParams, GanetiError> {
    let st = |k: &str| s(d, k).to_string();
    let b = |k: &str| d.get(k).and_then(Value::as_bool).unwrap_or(false);
    Ok(KvmParams {
        kvm_path: st("kvm_path"),
        kernel_path: st("kernel_path"),
        initrd_path: st("initrd_path"),
        root_path: st("root_path"),
        kernel_args: st("kernel_args"),
        boot_order: enum_of(
            d,
            "boot_order",
            BootOrder::parse,
            "cdrom, disk, floppy, network",
        )?,
        cdrom_image_path: st("cdrom_image_path"),
        serial_console: b("serial_console"),
        serial_speed: u32_of(d, "serial_speed")?,
        vnc_bind_address: st("vnc_bind_address"),
        vnc_password_file: st("vnc_password_file"),
        spice_bind: st("spice_bind"),
        machine_version: st("machine_version"),
        cpu_type: st("cpu_type"),
        cpu_mask: st("cpu_mask"),
        cpu_cores: u32_of(d, "cpu_cores")?,
        cpu_threads: u32_of(d, "cpu_threads")?,
        cpu_sockets: u32_of(d, "cpu_sockets")?,
        disk_type: enum_of(
            d,
            "disk_type",
            DiskType::parse,
            "ide, mtd, paravirtual, pflash, scsi, sd",
        )?,
        nic_type: enum_of(d, "nic_type", NicType::parse, &NIC_TYPES.join(", "))?,
        disk_cache: enum_of(d, "disk_cache", DiskCache::parse, &CACHE_TYPES.join(", "))?,
        disk_aio: enum_of(
            d,
            "disk_aio",
            |v| match v {
                "" => Some(DiskAio::Threads),
                other => DiskAio::parse(other),
            },
            &AIO_TYPES.join(", "),
        )?,
        acpi: b("acpi"),
        reboot_behavior: enum_of(
            d,
            "reboot_behavior",
            RebootBehavior::parse,
            &REBOOT_BEHAVIORS.join(", "),
        )?,
        use_localtime: b("use_localtime"),
        kvm_flag: enum_of(d, "kvm_flag", KvmFlag::parse, "enabled, disabled")?,
        mem_path: st("mem_path"),
        migration_bandwidth: u32_of(d, "migration_bandwidth")?,
        migration_downtime: u32_of(d, "migration_downtime")?,
        migration_port: u32_of(d, "migration_port")?,
        user_shutdown: b("user_shutdown"),
        vhost_net: b("vhost_net"),
        vnet_hdr: b("vnet_hdr"),
        virtio_net_queues: match d.get("virtio_net_queues") {
            Some(Value::Null) | None => 1,
            _ => u32_of(d, "virtio_net_queues")?,
        },
        kvm_extra: st("kvm_extra"),
        keymap: st("keymap"),
        vga: st("vga"),
        usb_mouse: st("usb_mouse"),
        soundhw: st("soundhw"),
        vnc_tls: b("vnc_tls"),
        vnc_x509_path: st("vnc_x509_path"),
        vnc_x509_verify: b("vnc_x509_verify"),
        spice_ip_version: u32_of(d, "spice_ip_version")?,
        spice_password_file: st("spice_password_file"),
        spice_image_compression: st("spice_image_compression"),
        spice_jpeg_wan_compression: st("spice_jpeg_wan_compression"),
        spice_zlib_glz_wan_compression: st("spice_zlib_glz_wan_compression"),
        spice_streaming_video: st("spice_streaming_video"),
        spice_playback_compression: b("spice_playback_compression"),
        spice_use_tls: b("spice_use_tls"),
        spice_tls_ciphers: st("spice_tls_ciphers"),
        spice_use_vdagent: b("spice_use_vdagent"),
        floppy_image_path: st("floppy_image_path"),
        cdrom2_image_path: st("cdrom2_image_path"),
        cdrom_disk_type: st("cdrom_disk_type"),
        scsi_controller_type: st("scsi_controller_type"),
        disk_discard: st("disk_discard"),
        migration_mode: st("migration_mode"),
        migration_caps: st("migration_caps"),
        use_guest_agent: b("use_guest_agent"),
        security_model: st("security_model"),
        security_domain: st("security_domain"),
        use_chroot: b("use_chroot"),
        usb_devices: st("usb_devices"),
        kvm_pci_reservations: u32_of(d, "kvm_pci_reservations")?,
    })
}

impl KvmParams {
    /// Parse a FILLED kvm hvparams dict (cluster < os < instance applied)
    /// into typed values. Runs the submit-time check first, so the errors
    /// are Ganeti's (`HypervisorError`, or a type error for a bad value).
    pub fn from_dict(filled: &Dict) -> Result<KvmParams, GanetiError> {
        typed(&checked(filled)?)
    }

    /// Back to a full hvparams dict (every kvm key).
    pub fn to_dict(&self) -> Dict {
        let mut d = Dict::new();
        let mut put = |k: &str, v: Value| {
            d.insert(k.to_string(), v);
        };
        put("kvm_path", json!(self.kvm_path));
        put("kernel_path", json!(self.kernel_path));
        put("initrd_path", json!(self.initrd_path));
        put("root_path", json!(self.root_path));
        put("kernel_args", json!(self.kernel_args));
        put("boot_order", json!(self.boot_order.as_str()));
        put("cdrom_image_path", json!(self.cdrom_image_path));
        put("serial_console", json!(self.serial_console));
        put("serial_speed", json!(self.serial_speed));
        put("vnc_bind_address", json!(self.vnc_bind_address));
        put("vnc_password_file", json!(self.vnc_password_file));
        put("spice_bind", json!(self.spice_bind));
        put("machine_version", json!(self.machine_version));
        put("cpu_type", json!(self.cpu_type));
        put("cpu_mask", json!(self.cpu_mask));
        put("cpu_cores", json!(self.cpu_cores));
        put("cpu_threads", json!(self.cpu_threads));
        put("cpu_sockets", json!(self.cpu_sockets));
        put("disk_type", json!(self.disk_type.as_str()));
        put("nic_type", json!(self.nic_type.as_str()));
        put("disk_cache", json!(self.disk_cache.as_str()));
        put("disk_aio", json!(self.disk_aio.as_str()));
        put("acpi", json!(self.acpi));
        put("reboot_behavior", json!(self.reboot_behavior.as_str()));
        put("use_localtime", json!(self.use_localtime));
        put("kvm_flag", json!(self.kvm_flag.as_str()));
        put("mem_path", json!(self.mem_path));
        put("migration_bandwidth", json!(self.migration_bandwidth));
        put("migration_downtime", json!(self.migration_downtime));
        put("migration_port", json!(self.migration_port));
        put("user_shutdown", json!(self.user_shutdown));
        put("vhost_net", json!(self.vhost_net));
        put("vnet_hdr", json!(self.vnet_hdr));
        put("virtio_net_queues", json!(self.virtio_net_queues));
        put("kvm_extra", json!(self.kvm_extra));
        put("keymap", json!(self.keymap));
        put("vga", json!(self.vga));
        put("usb_mouse", json!(self.usb_mouse));
        put("soundhw", json!(self.soundhw));
        put("vnc_tls", json!(self.vnc_tls));
        put("vnc_x509_path", json!(self.vnc_x509_path));
        put("vnc_x509_verify", json!(self.vnc_x509_verify));
        put("spice_ip_version", json!(self.spice_ip_version));
        put("spice_password_file", json!(self.spice_password_file));
        put(
            "spice_image_compression",
            json!(self.spice_image_compression),
        );
        put(
            "spice_jpeg_wan_compression",
            json!(self.spice_jpeg_wan_compression),
        );
        put(
            "spice_zlib_glz_wan_compression",
            json!(self.spice_zlib_glz_wan_compression),
        );
        put("spice_streaming_video", json!(self.spice_streaming_video));
        put(
            "spice_playback_compression",
            json!(self.spice_playback_compression),
        );
        put("spice_use_tls", json!(self.spice_use_tls));
        put("spice_tls_ciphers", json!(self.spice_tls_ciphers));
        put("spice_use_vdagent", json!(self.spice_use_vdagent));
        put("floppy_image_path", json!(self.floppy_image_path));
        put("cdrom2_image_path", json!(self.cdrom2_image_path));
        put("cdrom_disk_type", json!(self.cdrom_disk_type));
        put("scsi_controller_type", json!(self.scsi_controller_type));
        put("disk_discard", json!(self.disk_discard));
        put("migration_mode", json!(self.migration_mode));
        put("migration_caps", json!(self.migration_caps));
        put("use_guest_agent", json!(self.use_guest_agent));
        put("security_model", json!(self.security_model));
        put("security_domain", json!(self.security_domain));
        put("use_chroot", json!(self.use_chroot));
        put("usb_devices", json!(self.usb_devices));
        put("kvm_pci_reservations", json!(self.kvm_pci_reservations));
        d
    }

    /// The per-vCPU pinning `cpu_mask` describes (empty = no pinning).
    pub fn cpu_pinning(&self) -> Vec<super::cpumask::CpuPin> {
        // checked by from_dict; an unparsable mask cannot get here
        super::cpumask::parse_multi_cpu_mask(&self.cpu_mask).unwrap_or_default()
    }
}

impl Default for KvmParams {
    /// Ganeti's defaults, as a cluster without overrides gives them.
    fn default() -> Self {
        match KvmParams::from_dict(&defaults()) {
            Ok(p) => p,
            // the built-in defaults pass the check (unit-tested)
            Err(e) => unreachable!("kvm defaults fail their own check: {e}"),
        }
    }
}
