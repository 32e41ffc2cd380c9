//! What only a unix socket can do: connect with timeouts, and pass file
//! descriptors to QEMU with `SCM_RIGHTS` (how Ganeti hands QEMU an opened
//! tap device for a hot-plugged NIC).
//!
//! QEMU attaches a received descriptor to the monitor command that arrives
//! in the same `sendmsg`, so `getfd` and the descriptor travel together.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use rustix::io::Errno;
use rustix::net::{sendmsg, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
use serde_json::json;

use crate::{Qmp, QmpError};

impl Qmp<UnixStream> {
    /// Connect to a QMP unix socket with a read/write timeout, and
    /// handshake.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Self, QmpError> {
        let stream = UnixStream::connect(path).map_err(|source| QmpError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_unix_stream(stream, timeout)
    }

    /// Handshake on an already connected socket; `timeout` bounds every
    /// read and write (it must not be zero).
    pub fn from_unix_stream(stream: UnixStream, timeout: Duration) -> Result<Self, QmpError> {
        let ctx = "setting the socket timeouts";
        stream
            .set_read_timeout(Some(timeout))
            .and_then(|()| stream.set_write_timeout(Some(timeout)))
            .map_err(|e| QmpError::from_io(e, ctx))?;
        let mut qmp = Qmp::with_stream(stream);
        qmp.read_timeout_fn = Some(UnixStream::set_read_timeout);
        qmp.io_timeout = Some(timeout);
        qmp.negotiate()
    }

    /// Pass a file descriptor to QEMU under `fdname` (QMP `getfd` with
    /// `SCM_RIGHTS` ancillary data). QEMU keeps its own duplicate; the
    /// caller may close `fd` afterwards. Use the name in e.g. `netdev_add`
    /// (`"fd": fdname`) and release it with `closefd` if unused.
    pub fn send_fd(&mut self, fdname: &str, fd: BorrowedFd<'_>) -> Result<(), QmpError> {
        self.check_usable()?;
        let (id, bytes) = self.encode("getfd", Some(json!({ "fdname": fdname })))?;
        let fds = [fd];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(QmpError::protocol("no room for SCM_RIGHTS control data"));
        }
        let sent = loop {
            match sendmsg(
                &self.stream,
                &[IoSlice::new(&bytes)],
                &mut control,
                SendFlags::NOSIGNAL,
            ) {
                Ok(n) => break n,
                Err(Errno::INTR) => continue,
                Err(e) => {
                    let err = QmpError::from_io(e.into(), "sending getfd");
                    return Err(if sent_nothing_timeout(&err) {
                        err
                    } else {
                        self.write_failed(err)
                    });
                }
            }
        };
        // The descriptor went with the first byte; the rest is plain data.
        if sent < bytes.len() {
            self.write_all(&bytes[sent..])?;
        }
        self.wait_reply("getfd", id)?;
        Ok(())
    }
}

/// A `sendmsg` that timed out sent nothing (it is all-or-nothing for the
/// first byte), so the stream is still in step.
fn sent_nothing_timeout(err: &QmpError) -> bool {
    matches!(err, QmpError::Timeout { .. })
}
