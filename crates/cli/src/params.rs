//! The parameter type tables the client enforces before submitting
//! (Ganeti's `utils.ForceDictType` with `constants.*_PARAMETER_TYPES`).
//!
//! Why client-side: Ganeti's tools convert `-B memory=512M` to `512` and
//! refuse `-B frob=1` with `Parameter Error: Unknown parameter 'frob'`
//! before anything is sent; reproducing that keeps the messages and the
//! submitted opcodes identical. The tables are Ganeti 3.0.2's.

use ganeti_clifmt::kv::{force_dict_type, KvMap, TypeEnforcementError, VType, VALUE_DEFAULT};
use serde_json::{Map, Value};

/// A table of parameter names and types.
pub type Table = &'static [(&'static str, VType)];

/// Backend parameters, with the legacy `memory`.
pub static BES_PARAMETER_COMPAT: Table = &[
    ("always_failover", VType::Bool),
    ("auto_balance", VType::Bool),
    ("maxmem", VType::Size),
    ("memory", VType::Size),
    ("minmem", VType::Size),
    ("spindle_use", VType::Int),
    ("vcpus", VType::Int),
];

/// Hypervisor parameters of every hypervisor.
pub static HVS_PARAMETER_TYPES: Table = &[
    ("acpi", VType::Bool),
    ("blockdev_prefix", VType::String),
    ("boot_order", VType::String),
    ("bootloader_args", VType::String),
    ("bootloader_path", VType::String),
    ("cdrom2_image_path", VType::String),
    ("cdrom_disk_type", VType::String),
    ("cdrom_image_path", VType::String),
    ("cpu_cap", VType::Int),
    ("cpu_cores", VType::Int),
    ("cpu_mask", VType::String),
    ("cpu_sockets", VType::Int),
    ("cpu_threads", VType::Int),
    ("cpu_type", VType::String),
    ("cpu_weight", VType::Int),
    ("cpuid", VType::String),
    ("device_model", VType::String),
    ("devices", VType::String),
    ("disk_aio", VType::String),
    ("disk_cache", VType::String),
    ("disk_discard", VType::String),
    ("disk_type", VType::String),
    ("drop_capabilities", VType::String),
    ("extra_cgroups", VType::String),
    ("extra_config", VType::String),
    ("floppy_image_path", VType::String),
    ("init_script", VType::String),
    ("initrd_path", VType::String),
    ("kernel_args", VType::String),
    ("kernel_path", VType::String),
    ("keymap", VType::String),
    ("kvm_extra", VType::String),
    ("kvm_flag", VType::String),
    ("kvm_path", VType::String),
    ("kvm_pci_reservations", VType::Int),
    ("machine_version", VType::String),
    ("mem_path", VType::String),
    ("migration_bandwidth", VType::Int),
    ("migration_caps", VType::String),
    ("migration_downtime", VType::Int),
    ("migration_mode", VType::String),
    ("migration_port", VType::Int),
    ("nic_type", VType::String),
    ("num_ttys", VType::Int),
    ("pae", VType::Bool),
    ("pci_pass", VType::String),
    ("reboot_behavior", VType::String),
    ("root_path", VType::MaybeString),
    ("scsi_controller_type", VType::String),
    ("security_domain", VType::String),
    ("security_model", VType::String),
    ("serial_console", VType::Bool),
    ("serial_speed", VType::Int),
    ("soundhw", VType::String),
    ("spice_bind", VType::String),
    ("spice_image_compression", VType::String),
    ("spice_ip_version", VType::Int),
    ("spice_jpeg_wan_compression", VType::String),
    ("spice_password_file", VType::String),
    ("spice_playback_compression", VType::Bool),
    ("spice_streaming_video", VType::String),
    ("spice_tls_ciphers", VType::String),
    ("spice_use_tls", VType::Bool),
    ("spice_use_vdagent", VType::Bool),
    ("spice_zlib_glz_wan_compression", VType::String),
    ("startup_timeout", VType::Int),
    ("usb_devices", VType::String),
    ("usb_mouse", VType::String),
    ("use_bootloader", VType::Bool),
    ("use_chroot", VType::Bool),
    ("use_guest_agent", VType::Bool),
    ("use_localtime", VType::Bool),
    ("user_shutdown", VType::Bool),
    ("vga", VType::String),
    ("vhost_net", VType::Bool),
    ("vif_script", VType::String),
    ("vif_type", VType::String),
    ("viridian", VType::Bool),
    ("virtio_net_queues", VType::Int),
    ("vnc_bind_address", VType::String),
    ("vnc_password_file", VType::String),
    ("vnc_tls", VType::Bool),
    ("vnc_x509_path", VType::String),
    ("vnc_x509_verify", VType::Bool),
    ("vnet_hdr", VType::Bool),
    ("xen_cmd", VType::String),
];

/// Node parameters.
pub static NDS_PARAMETER_TYPES: Table = &[
    ("cpu_speed", VType::Float),
    ("exclusive_storage", VType::Bool),
    ("oob_program", VType::String),
    ("ovs", VType::Bool),
    ("ovs_link", VType::MaybeString),
    ("ovs_name", VType::MaybeString),
    ("spindle_count", VType::Int),
    ("ssh_port", VType::Int),
];

/// Cluster/group NIC parameters.
pub static NICS_PARAMETER_TYPES: Table = &[
    ("link", VType::String),
    ("mode", VType::String),
    ("vlan", VType::String),
];

/// Instance NIC parameters (`--net`).
pub static INIC_PARAMS_TYPES: Table = &[
    ("bridge", VType::MaybeString),
    ("ip", VType::MaybeString),
    ("link", VType::String),
    ("mac", VType::String),
    ("mode", VType::String),
    ("name", VType::MaybeString),
    ("network", VType::MaybeString),
    ("vlan", VType::MaybeString),
];

/// Disk template parameters (`-D`).
pub static DISK_DT_TYPES: Table = &[
    ("access", VType::String),
    ("c-delay-target", VType::Int),
    ("c-fill-target", VType::Int),
    ("c-max-rate", VType::Int),
    ("c-min-rate", VType::Int),
    ("c-plan-ahead", VType::Int),
    ("data-stripes", VType::Int),
    ("disk-barriers", VType::String),
    ("disk-custom", VType::String),
    ("dynamic-resync", VType::Bool),
    ("host", VType::String),
    ("meta-barriers", VType::Bool),
    ("meta-stripes", VType::Int),
    ("metavg", VType::String),
    ("net-custom", VType::String),
    ("pool", VType::String),
    ("port", VType::Int),
    ("protocol", VType::String),
    ("resync-rate", VType::Int),
    ("stripes", VType::Int),
    ("volume", VType::String),
];

/// Instance policy specs.
pub static ISPECS_PARAMETER_TYPES: Table = &[
    ("cpu-count", VType::Int),
    ("disk-count", VType::Int),
    ("disk-size", VType::Int),
    ("memory-size", VType::Int),
    ("nic-count", VType::Int),
    ("spindle-use", VType::Int),
];

/// The type of `key` in `table`.
pub fn lookup(table: Table, key: &str) -> Option<VType> {
    table.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)
}

/// `utils.ForceDictType(params, table)`.
pub fn force(params: &KvMap, table: Table) -> Result<Map<String, Value>, TypeEnforcementError> {
    force_dict_type(params, |k| lookup(table, k), &[])
}

/// `utils.ForceDictType(params, table, allowed_values=[VALUE_DEFAULT])`,
/// after lower-casing any `default` value as `modify` does.
pub fn force_allow_default(
    params: &KvMap,
    table: Table,
) -> Result<Map<String, Value>, TypeEnforcementError> {
    let mut fixed = KvMap::new();
    for (k, v) in params.iter() {
        let v = match v {
            ganeti_clifmt::kv::KvValue::Str(s) if s.to_lowercase() == VALUE_DEFAULT => {
                ganeti_clifmt::kv::KvValue::Str(VALUE_DEFAULT.to_string())
            }
            other => other.clone(),
        };
        fixed.insert(k, v);
    }
    force_dict_type(&fixed, |k| lookup(table, k), &[VALUE_DEFAULT])
}

/// Ganeti's `FixHvParams`: spaces in `usb_devices` become commas.
pub fn fix_hv_params(hv: &mut Map<String, Value>) {
    if let Some(Value::String(s)) = hv.get_mut("usb_devices") {
        *s = s.replace(' ', ",");
    }
}

/// A `k=v` map as JSON without type enforcement (OS parameters).
pub fn untyped(params: &KvMap) -> Map<String, Value> {
    params.to_json()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ganeti_clifmt::kv::parse_key_val;
    use serde_json::json;

    #[test]
    fn backend_parameters() {
        let m = force(
            &parse_key_val("-B", "memory=512M,vcpus=2,auto_balance=false").unwrap(),
            BES_PARAMETER_COMPAT,
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"memory": 512, "vcpus": 2, "auto_balance": false})
        );
        let e = force(
            &parse_key_val("-B", "frob=1").unwrap(),
            BES_PARAMETER_COMPAT,
        )
        .unwrap_err();
        assert_eq!(e.cli_message(), "Parameter Error: Unknown parameter 'frob'");
        let e = force(
            &parse_key_val("-B", "memory").unwrap(),
            BES_PARAMETER_COMPAT,
        )
        .unwrap_err();
        assert_eq!(
            e.cli_message(),
            "Parameter Error: 'memory' (value True) is not a valid size. error: Invalid format"
        );
        let m = force_allow_default(
            &parse_key_val("-B", "memory=DEFAULT").unwrap(),
            BES_PARAMETER_COMPAT,
        )
        .unwrap();
        assert_eq!(Value::Object(m), json!({"memory": "default"}));
    }

    #[test]
    fn hypervisor_parameters() {
        let mut m = force(
            &parse_key_val("-H", "acpi=true,usb_devices=a b").unwrap(),
            HVS_PARAMETER_TYPES,
        )
        .unwrap();
        fix_hv_params(&mut m);
        assert_eq!(
            Value::Object(m),
            json!({"acpi": true, "usb_devices": "a,b"})
        );
        assert!(lookup(HVS_PARAMETER_TYPES, "kernel_path").is_some());
        assert!(lookup(HVS_PARAMETER_TYPES, "frob").is_none());
    }
}
