//! Ganeti's Remote API, version 2, served over HTTPS.
//!
//! Operators' tools (Ganeti's own Python client, htools, Ansible modules,
//! dashboards) speak RAPI, so this crate reproduces Ganeti 3.0.2's wire
//! behaviour exactly: paths, methods, query arguments, body parameters,
//! status codes and error bodies (see `shared/spec/rapi-behaviour.md`).
//!
//! It holds no cluster logic. Every request becomes either a LUXI query or
//! an opcode job, handed to a [`Backend`]; in `ganetid` that backend is the
//! master itself, called in-process.
//!
//! Layout:
//! - [`server`]: HTTP/1.1 over TLS (keep-alive, bounded bodies, request log);
//! - [`tls`]: the certificate, reloaded when `rapi.pem` changes;
//! - [`users`] and [`auth`]: the users file and HTTP Basic authentication;
//! - [`routes`]: the resource table (path pattern → handlers and access);
//! - [`handlers`]: one module per resource family;
//! - [`call`]: what a handler sees of a request; [`error`]: Ganeti's error body.

pub mod auth;
pub mod backend;
pub mod call;
pub mod error;
pub mod handlers;
pub mod routes;
pub mod server;
pub mod tls;
pub mod users;

pub use backend::Backend;
pub use call::Call;
pub use error::RapiError;
pub use server::{serve, RapiConfig};
