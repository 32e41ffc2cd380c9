//! LUXI, Ganeti's local protocol between the command-line tools and the
//! master daemon: one JSON document per message, terminated by the byte
//! `0x03`, over a unix socket.
//!
//! We speak Ganeti's message shapes and method names (`SubmitJob`,
//! `WaitForJobChange`, `Query`, ...) so the protocol is a faithful seam:
//! the CLI never touches state itself, it only submits opcodes and queries.
//! The client is blocking on purpose: the gnt-* tools are short-lived and a
//! runtime would only add start-up time. The server side (feature `server`)
//! gives tokio framing to the daemon.

mod client;
mod protocol;
#[cfg(feature = "server")]
pub mod server;

pub use client::{Client, LuxiError};
pub use protocol::{
    is_request_parse_error, request_parse_error, Method, Request, Response, EOM,
    REQUEST_PARSE_ERROR_PREFIX,
};
