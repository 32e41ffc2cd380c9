//! The generic part of Ganeti's `CheckParameterSyntax` (hv_base): every
//! hypervisor declares, per parameter, whether it is required and which
//! cheap syntax check applies; the same loop then refuses unknown keys,
//! missing keys, required-but-empty values and values failing their check,
//! always with Ganeti's wording so operators see the texts they know.
//!
//! Only checks that need no access to the world live here (they run on the
//! master at submit time); "does the file exist on the node" is the node's
//! business.

use serde_json::Value;

use crate::errors::GanetiError;
use crate::params::{coerce, VType};
use crate::Dict;

use super::cpumask::parse_multi_cpu_mask;

/// The syntax check of one parameter (the second and third element of
/// Ganeti's five-tuples).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// No syntax check.
    Any,
    /// An absolute normalized path to a file.
    File,
    /// An absolute normalized path or an http(s)/ftp(s) URL.
    FileOrUrl,
    /// An absolute normalized path to a directory.
    Dir,
    /// One of a fixed set of strings.
    InSet(&'static [&'static str]),
    /// A TCP port, 1..65534.
    NetPort,
    /// Number of virtio-net queues, 1..8.
    VirtioQueues,
    /// An integer >= 0.
    NonNegative,
    /// A multiple CPU mask ("all", "0-2,4", "1:2:3-4").
    MultiCpuMask,
    /// `live` or `non-live`.
    MigrationMode,
    /// 0 (unspecified), 4 or 6.
    SpiceIpVersion,
    /// PCI slots managed by QEMU, 0..32.
    PciReservations,
}

/// Ganeti's `MAX_VIRTIO_NET_QUEUES`-based bound (0 < x < 9).
pub const MAX_VIRTIO_NET_QUEUES: i64 = 8;
/// Ganeti's `QEMU_PCI_SLOTS`.
pub const QEMU_PCI_SLOTS: i64 = 32;
/// Ganeti's migration modes.
pub const MIGRATION_MODES: &[&str] = &["live", "non-live"];

/// A built-in default value (Ganeti's `HVC_DEFAULTS`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Def {
    S(&'static str),
    B(bool),
    I(i64),
}

impl Def {
    pub(crate) fn to_value(self) -> Value {
        match self {
            Def::S(s) => Value::String(s.to_string()),
            Def::B(b) => Value::Bool(b),
            Def::I(i) => Value::Number(i.into()),
        }
    }
}

/// One entry of a hypervisor's `PARAMETERS` table, with the key's value
/// type and built-in default beside its check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParamSpec {
    pub name: &'static str,
    pub vtype: VType,
    pub required: bool,
    pub check: Check,
    pub default: Def,
}

/// Shorthand for table entries.
pub(crate) const fn spec(
    name: &'static str,
    vtype: VType,
    required: bool,
    check: Check,
    default: Def,
) -> ParamSpec {
    ParamSpec {
        name,
        vtype,
        required,
        check,
        default,
    }
}

/// The built-in defaults of a whole table.
pub(crate) fn table_defaults(table: &[ParamSpec]) -> Dict {
    table
        .iter()
        .map(|p| (p.name.to_string(), p.default.to_value()))
        .collect()
}

/// A `HypervisorError` with the given text.
pub fn hv_error(msg: impl Into<String>) -> GanetiError {
    GanetiError::Hypervisor(msg.into())
}

/// Python's `str()` of a parameter value, as Ganeti's messages print it.
pub fn py_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// Python truthiness of a parameter value.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().map(|x| x != 0.0).unwrap_or(true),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Ganeti's `_IsParamValueUnspecified`: `None` or the empty string.
fn unspecified(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// Python's `os.path.normpath` for POSIX paths.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut comps: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if (initial == 0 && comps.is_empty()) || comps.last() == Some(&"..") {
                    comps.push(c);
                } else if !comps.is_empty() {
                    comps.pop();
                }
            }
            other => comps.push(other),
        }
    }
    let out = format!("{}{}", "/".repeat(initial), comps.join("/"));
    if out.is_empty() {
        ".".into()
    } else {
        out
    }
}

/// Ganeti's `utils.IsNormAbsPath`: absolute and already normalized, so
/// `/dir/../../other` is refused.
pub fn is_norm_abs_path(path: &str) -> bool {
    path.starts_with('/') && normpath(path) == path
}

/// Ganeti's `utils.IsUrl`: starts with http://, https://, ftp:// or ftps://.
pub fn is_url(path: &str) -> bool {
    ["http://", "https://", "ftp://", "ftps://"]
        .iter()
        .any(|p| path.starts_with(p))
}

fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(why())
    }
}

impl Check {
    /// Run the check; `Err(text)` is Ganeti's error string for it.
    fn run(self, v: &Value) -> Result<(), String> {
        let s = v.as_str().unwrap_or("");
        let int = v.as_i64();
        match self {
            Check::Any => Ok(()),
            Check::File | Check::Dir => ensure(is_norm_abs_path(s), || {
                "must be an absolute normalized path".into()
            }),
            Check::FileOrUrl => ensure(is_norm_abs_path(s) || is_url(s), || {
                "must be an absolute normalized path or a URL".into()
            }),
            Check::InSet(set) => ensure(set.contains(&s), || {
                format!("The value must be one of: {}", set.join(", "))
            }),
            Check::NetPort => ensure(int.is_some_and(|x| 0 < x && x < 65535), || {
                "invalid port number".into()
            }),
            Check::VirtioQueues => ensure(
                int.is_some_and(|x| 0 < x && x <= MAX_VIRTIO_NET_QUEUES),
                || "invalid number of queues".into(),
            ),
            Check::NonNegative => {
                ensure(int.is_some_and(|x| x >= 0), || "cannot be negative".into())
            }
            Check::MultiCpuMask => ensure(parse_multi_cpu_mask(s).is_ok(), || {
                "Multiple CPU mask definition is not well-formed".into()
            }),
            Check::MigrationMode => ensure(MIGRATION_MODES.contains(&s), || {
                "invalid migration mode".into()
            }),
            Check::SpiceIpVersion => ensure(matches!(int, Some(0 | 4 | 6)), || {
                "The SPICE IP version should be 4 or 6".into()
            }),
            Check::PciReservations => ensure(
                int.is_some_and(|x| (0..=QEMU_PCI_SLOTS).contains(&x)),
                || format!("The number of PCI slots managed by QEMU (max: {QEMU_PCI_SLOTS})"),
            ),
        }
    }
}

/// Coerce every value to its declared type (Ganeti's `ForceDictType`,
/// which always runs before the syntax check), refusing keys the
/// hypervisor does not know.
pub(crate) fn coerce_all(table: &[ParamSpec], params: &Dict) -> Result<Dict, GanetiError> {
    let mut out = Dict::new();
    for (k, v) in params {
        let Some(spec) = table.iter().find(|s| s.name == k) else {
            return Err(hv_error(format!("Parameter '{k}' is not supported")));
        };
        out.insert(k.clone(), coerce(k, v, spec.vtype)?);
    }
    Ok(out)
}

/// hv_base's `CheckParameterSyntax` over a coerced, filled dict.
pub(crate) fn check_table(table: &[ParamSpec], params: &Dict) -> Result<(), GanetiError> {
    for k in params.keys() {
        if !table.iter().any(|s| s.name == k) {
            return Err(hv_error(format!("Parameter '{k}' is not supported")));
        }
    }
    for s in table {
        let Some(v) = params.get(s.name) else {
            return Err(hv_error(format!("Parameter '{}' is missing", s.name)));
        };
        if unspecified(v) {
            if s.required {
                return Err(hv_error(format!(
                    "Parameter '{}' is required but is currently not defined",
                    s.name
                )));
            }
            continue;
        }
        if let Err(why) = s.check.run(v) {
            return Err(hv_error(format!(
                "Parameter '{}' fails syntax check: {why} (current value: '{}')",
                s.name,
                py_value(v)
            )));
        }
    }
    Ok(())
}

/// Whether `s` is a plausible network interface name (Linux's
/// `dev_valid_name`: 1..15 bytes, not "." or "..", no '/', ':' or blank).
pub fn is_interface_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 16
        && s != "."
        && s != ".."
        && !s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

/// Whether `s` is an IPv4 address.
pub fn is_ipv4(s: &str) -> bool {
    s.parse::<std::net::Ipv4Addr>().is_ok()
}

/// Whether `s` is an IPv6 address.
pub fn is_ipv6(s: &str) -> bool {
    s.parse::<std::net::Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normpath_like_python() {
        for (i, o) in [
            ("", "."),
            ("/", "/"),
            ("//", "//"),
            ("///", "/"),
            ("/a/./b/", "/a/b"),
            ("/a/../../b", "/b"),
            ("a/../..", ".."),
            ("//a//b", "//a/b"),
        ] {
            assert_eq!(normpath(i), o, "{i}");
        }
        assert!(is_norm_abs_path("/usr/bin/kvm"));
        assert!(is_norm_abs_path("/"));
        assert!(!is_norm_abs_path("usr/bin/kvm"));
        assert!(!is_norm_abs_path("/usr/../bin"));
        assert!(!is_norm_abs_path("/usr/bin/"));
        assert!(!is_norm_abs_path("/usr//bin"));
        assert!(is_url("http://x/y.iso") && is_url("ftps://h/z") && !is_url("file:///x"));
    }

    #[test]
    fn checks_and_messages() {
        assert_eq!(
            Check::NetPort.run(&json!(0)).unwrap_err(),
            "invalid port number"
        );
        assert!(Check::NetPort.run(&json!(65534)).is_ok());
        assert!(Check::NetPort.run(&json!(65535)).is_err());
        assert!(Check::VirtioQueues.run(&json!(8)).is_ok());
        assert!(Check::VirtioQueues.run(&json!(9)).is_err());
        assert!(Check::VirtioQueues.run(&json!(0)).is_err());
        assert!(Check::NonNegative.run(&json!(0)).is_ok());
        assert_eq!(
            Check::NonNegative.run(&json!(-1)).unwrap_err(),
            "cannot be negative"
        );
        assert!(Check::SpiceIpVersion.run(&json!(6)).is_ok());
        assert!(Check::SpiceIpVersion.run(&json!(5)).is_err());
        assert!(Check::PciReservations.run(&json!(32)).is_ok());
        assert_eq!(
            Check::PciReservations.run(&json!(33)).unwrap_err(),
            "The number of PCI slots managed by QEMU (max: 32)"
        );
        assert_eq!(
            Check::InSet(&["a", "b"]).run(&json!("c")).unwrap_err(),
            "The value must be one of: a, b"
        );
        assert!(Check::MigrationMode.run(&json!("non-live")).is_ok());
        assert!(Check::MultiCpuMask.run(&json!("0-1:all")).is_ok());
        assert!(Check::MultiCpuMask.run(&json!("2-1")).is_err());
    }

    #[test]
    fn interfaces_and_addresses() {
        assert!(is_interface_name("eth0") && is_interface_name("br-lan.10"));
        assert!(!is_interface_name("") && !is_interface_name("a/b"));
        assert!(!is_interface_name("averyveryverylongname"));
        assert!(!is_interface_name("a b") && !is_interface_name(".."));
        assert!(is_ipv4("127.0.0.1") && !is_ipv4("::1") && is_ipv6("::1"));
        assert!(!is_ipv4("1.2.3") && !is_ipv6("1.2.3.4"));
    }
}
