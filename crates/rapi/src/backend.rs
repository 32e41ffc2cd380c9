//! The one thing RAPI needs from the rest of the system: LUXI calls.
//!
//! Ganeti's RAPI daemon talks to the master only through LUXI; keeping the
//! same boundary means every RAPI answer is computed by the same code as
//! the CLI's, and the RAPI can be tested against any LUXI implementation.

use std::future::Future;
use std::pin::Pin;

use ganeti_luxi::Method;
use ganeti_types::GanetiError;
use serde_json::Value;

/// A boxed future, as returned by [`Backend::call`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Something that answers LUXI calls (`method`, positional `args`).
pub trait Backend: Send + Sync + 'static {
    /// Perform one LUXI call; the result is LUXI's `result` value.
    fn call(&self, method: Method, args: Value) -> BoxFuture<'_, Result<Value, GanetiError>>;
}
