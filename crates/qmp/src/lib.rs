//! A typed, blocking client for QEMU's machine protocol (QMP), written for
//! QEMU 10.
//!
//! Why this crate exists rather than ad-hoc JSON in the hypervisor code:
//!
//! * **Typed commands.** Each command in [`commands`] is a struct that knows
//!   its QMP name, serializes its arguments with QMP's hyphenated names, and
//!   names the type its reply deserializes into. A misspelt argument is a
//!   compile error, not a `GenericError` at run time. [`Qmp::execute_raw`]
//!   remains for the long tail.
//! * **Events are never lost.** QEMU interleaves asynchronous events
//!   (`SHUTDOWN`, `POWERDOWN`, `BLOCK_JOB_READY`, ...) with command replies.
//!   Replies are matched by the `id` we sent; events read while waiting for
//!   a reply are queued for [`Qmp::take_events`] and [`Qmp::wait_event`].
//! * **No panics when QEMU goes away.** QEMU exits after `quit` or a guest
//!   poweroff, often in the middle of a conversation; that is reported as
//!   [`QmpError::Closed`], and a broken stream as [`QmpError::Protocol`].
//! * **Blocking and generic over the stream.** The node layer that drives
//!   QEMU is synchronous, so this uses `std::io` (no async runtime). Any
//!   `Read + Write` works, which lets the unit tests script a conversation in
//!   memory; [`Qmp::connect`] and [`Qmp::send_fd`] add what only a unix
//!   socket can do (timeouts and `SCM_RIGHTS` file-descriptor passing).
//!
//! Framing does not depend on QEMU's newlines: the input is parsed as a
//! stream of JSON objects.

mod client;
pub mod commands;
mod error;
mod event;
mod framing;
mod unix;

pub use client::{Command, Qmp, MAX_QUEUED_EVENTS};
pub use error::QmpError;
pub use event::Event;

#[cfg(test)]
mod tests;
