//! Ganeti words I/O failures of OS files with the errno *name*
//! (`ENOENT`), and the diagnose messages operators see quote it.
//! (The Python text rules the files are read by, `str.splitlines` and
//! friends, are in `ganeti_clifmt::pystr`.)

use std::io;

use rustix::io::Errno;

/// Errno names of the failures a `stat`, `open` or `read` can have.
const ERRNO_NAMES: &[(Errno, &str)] = &[
    (Errno::NOENT, "ENOENT"),
    (Errno::ACCESS, "EACCES"),
    (Errno::PERM, "EPERM"),
    (Errno::NOTDIR, "ENOTDIR"),
    (Errno::ISDIR, "EISDIR"),
    (Errno::LOOP, "ELOOP"),
    (Errno::NAMETOOLONG, "ENAMETOOLONG"),
    (Errno::IO, "EIO"),
    (Errno::NOMEM, "ENOMEM"),
    (Errno::OVERFLOW, "EOVERFLOW"),
    (Errno::BADF, "EBADF"),
    (Errno::FAULT, "EFAULT"),
    (Errno::INVAL, "EINVAL"),
    (Errno::NXIO, "ENXIO"),
    (Errno::NODEV, "ENODEV"),
    (Errno::TXTBSY, "ETXTBSY"),
    (Errno::AGAIN, "EAGAIN"),
    (Errno::INTR, "EINTR"),
    (Errno::ROFS, "EROFS"),
    (Errno::MFILE, "EMFILE"),
    (Errno::NFILE, "ENFILE"),
    (Errno::STALE, "ESTALE"),
    (Errno::NOTCONN, "ENOTCONN"),
    (Errno::NOSPC, "ENOSPC"),
];

/// Ganeti's `utils.ErrnoOrStr`: the errno's symbolic name (`ENOENT`), or
/// the error's text when it carries no errno (or one not listed here).
pub(crate) fn errno_or_str(err: &io::Error) -> String {
    Errno::from_io_error(err)
        .and_then(|e| ERRNO_NAMES.iter().find(|(n, _)| *n == e))
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names() {
        let e = io::Error::from_raw_os_error(Errno::NOENT.raw_os_error());
        assert_eq!(errno_or_str(&e), "ENOENT");
        let e = io::Error::from_raw_os_error(Errno::ACCESS.raw_os_error());
        assert_eq!(errno_or_str(&e), "EACCES");
        let e = io::Error::other("no errno here");
        assert_eq!(errno_or_str(&e), "no errno here");
    }
}
