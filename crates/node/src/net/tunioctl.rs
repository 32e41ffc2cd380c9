//! The one ioctl the node layer needs: `TUNSETIFF` on `/dev/net/tun`.
//!
//! Why our own few lines: the TUN/TAP crates on crates.io either bring an
//! async runtime and cross-platform layers we do not want in the node
//! daemon, or do not hand back a plain `OwnedFd` with `IFF_VNET_HDR`
//! (which QEMU needs for virtio-net offloads). The kernel interface is a
//! single call with a 40-byte `struct ifreq`, so the unsafe surface is kept
//! to that call, here, and everything around it is safe code.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `IFNAMSIZ` including the terminating NUL.
pub(super) const IFNAMSIZ: usize = libc::IFNAMSIZ;

/// Attach the freshly opened `/dev/net/tun` file `fd` to the interface
/// `name` (kernel-chosen `tapN` when empty) with the `IFF_*` `flags`, and
/// return the name the kernel gave the interface.
///
/// `name` must be shorter than [`IFNAMSIZ`] and free of NUL bytes (checked
/// by the caller; checked again here so this function is sound on its own).
pub(super) fn tun_set_iff(fd: BorrowedFd<'_>, name: &str, flags: i32) -> io::Result<String> {
    if name.len() >= IFNAMSIZ || name.bytes().any(|b| b == 0) {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let flags =
        libc::c_short::try_from(flags).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let mut ifr_name = [0 as libc::c_char; IFNAMSIZ];
    for (dst, src) in ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    let mut req = libc::ifreq {
        ifr_name,
        ifr_ifru: libc::__c_anonymous_ifr_ifru { ifru_flags: flags },
    };
    // SAFETY: `fd` is a valid open descriptor for the lifetime of the call
    // (it is borrowed). TUNSETIFF reads and writes exactly one `struct
    // ifreq`, and `req` is a fully initialised `libc::ifreq` (the kernel's
    // layout) that lives on our stack for the whole call; the pointer is
    // not kept by the kernel after the call returns.
    let rc = unsafe {
        libc::ioctl(
            fd.as_raw_fd(),
            libc::TUNSETIFF,
            &mut req as *mut libc::ifreq,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let bytes: Vec<u8> = req
        .ifr_name
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8(bytes).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
}
