//! Tap devices: opened here, handed to QEMU as a file descriptor.
//!
//! Ganeti's KVM code opens `/dev/net/tun` itself rather than letting QEMU
//! run a script, so that the node (not QEMU) owns the interface setup and
//! errors reach the job. We do the same. The taps are not persistent: the
//! interface disappears when the last descriptor (ours, then QEMU's copy)
//! is closed, so a crashed VM leaves nothing behind.

use std::fs::OpenOptions;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use super::tunioctl::{tun_set_iff, IFNAMSIZ};
use crate::NodeError;

/// The character device every tap is created through.
pub const TUN_DEVICE: &str = "/dev/net/tun";

/// An open tap device: the fd to hand to QEMU and the kernel-chosen interface name.
#[derive(Debug)]
pub struct Tap {
    pub fd: OwnedFd,
    pub ifname: String,
}

/// Open a new tap device (`IFF_TAP | IFF_NO_PI`, plus `IFF_VNET_HDR` when
/// `vnet_hdr`), named by the kernel (`tapN`) unless `name` is given. Not
/// persistent: it disappears when the last fd closes.
///
/// A `name` of an existing non-tap interface, or of a tap another process
/// holds, is refused by the kernel (`EBUSY`/`EINVAL`), which is reported.
pub fn open_tap(name: Option<&str>, vnet_hdr: bool) -> Result<Tap, NodeError> {
    if let Some(n) = name {
        check_ifname(n)?;
    }
    let err = |source| NodeError::TapCreate {
        name: name.map(str::to_owned),
        source,
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(Path::new(TUN_DEVICE))
        .map_err(|e| err(std::io::Error::new(e.kind(), format!("{TUN_DEVICE}: {e}"))))?;
    let fd = OwnedFd::from(file);
    let ifname = tun_set_iff(fd.as_fd(), name.unwrap_or(""), tap_flags(vnet_hdr)).map_err(err)?;
    Ok(Tap { fd, ifname })
}

/// The `IFF_*` flags of a tap as QEMU wants it: Ethernet frames without
/// the packet-information prefix, with the virtio-net header if asked.
pub(super) fn tap_flags(vnet_hdr: bool) -> i32 {
    let mut f = libc::IFF_TAP | libc::IFF_NO_PI;
    if vnet_hdr {
        f |= libc::IFF_VNET_HDR;
    }
    f
}

/// The kernel's rules for interface names (`dev_valid_name`): 1 to 15
/// bytes, not `.` or `..`, no `/`, `:` or white space.
pub fn check_ifname(name: &str) -> Result<(), NodeError> {
    let bad = |reason| NodeError::InvalidIfName {
        name: name.to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.len() >= IFNAMSIZ {
        return Err(bad("it is longer than 15 bytes"));
    }
    if name == "." || name == ".." {
        return Err(bad("'.' and '..' are reserved"));
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c == '\0' || c.is_whitespace())
    {
        return Err(bad("it contains '/', ':', NUL or white space"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_what_qemu_expects() {
        assert_eq!(tap_flags(false), 0x0002 | 0x1000);
        assert_eq!(tap_flags(true), 0x0002 | 0x1000 | 0x4000);
    }

    #[test]
    fn interface_names_follow_the_kernel_rules() {
        for ok in ["tap0", "gnt.com.0", "a", "tap%d", "x-y_z.123456789"] {
            assert!(check_ifname(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a:b",
            "a b",
            "tab\t",
            "nul\0",
            "sixteen-chars-xx",
        ] {
            let e = check_ifname(bad).unwrap_err();
            assert!(matches!(e, NodeError::InvalidIfName { .. }), "{bad:?}: {e}");
        }
        // refused before /dev/net/tun is touched, with the name in the text
        let e = open_tap(Some("bad/name"), true).unwrap_err();
        assert!(e.to_string().contains("'bad/name'"), "{e}");
    }
}
