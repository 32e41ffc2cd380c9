//! The RAPI server: HTTPS (or plain HTTP with Ganeti's `--no-ssl`) on
//! port 5080, answering every request through the resource table.
//!
//! [`serve`] owns the listening socket and one task per connection; it
//! runs until its own task is aborted, which also ends every connection
//! (they live in a `JoinSet` owned by it). Errors after startup — a failed
//! `accept`, a broken connection, a renewed certificate that does not
//! parse — are logged and never stop the server.
//!
//! - `config`: [`RapiConfig`], what can be set;
//! - `connection`: TLS, HTTP/1.1 keep-alive, timeouts, the request log;
//! - `pipeline`: Ganeti's order of checks, from request to handler;
//! - `response`: status, headers and Ganeti's error body;
//! - `pyjson`: JSON bytes exactly as Python's `json.dumps` writes them.

pub mod config;
mod connection;
mod pipeline;
mod pyjson;
mod response;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use config::RapiConfig;

use crate::backend::Backend;
use crate::routes::Table;
use crate::tls::{self, ReloadingCert, TlsError};
use crate::users::UsersFile;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: io::Error,
    },
    /// The certificate could not be loaded.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Bind the listening socket of `cfg`.
pub async fn bind(cfg: &RapiConfig) -> Result<TcpListener, ServeError> {
    TcpListener::bind(cfg.bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: cfg.bind,
            source,
        })
}

/// Serve RAPI on `listener` until this future is dropped (its task
/// aborted). Fails only at startup, when TLS is on and the certificate
/// cannot be loaded.
pub async fn serve(
    cfg: RapiConfig,
    table: Arc<Table>,
    backend: Arc<dyn Backend>,
    listener: TcpListener,
) -> Result<(), ServeError> {
    let tls = if cfg.tls {
        let cert =
            ReloadingCert::load(&cfg.cert_path)?.with_check_interval(cfg.cert_check_interval);
        Some(TlsAcceptor::from(tls::server_config(Arc::new(cert))?))
    } else {
        None
    };
    let shared = Arc::new(pipeline::Shared {
        table,
        backend,
        users: UsersFile::new(&cfg.users_path),
        require_authentication: cfg.require_authentication,
        max_body_bytes: cfg.max_body_bytes,
        body_timeout: cfg.io_timeout,
    });
    // Read the users file now, so its problems are reported at startup.
    let _ = shared.users.current();
    let limit = cfg
        .max_connections
        .map(|n| Arc::new(Semaphore::new(n.max(1))));
    let mut connections = JoinSet::new();
    loop {
        // Wait for a free slot before accepting: excess clients queue in
        // the kernel's backlog instead of being refused.
        let permit = match &limit {
            Some(sem) => sem.clone().acquire_owned().await.ok(),
            None => None,
        };
        let accepted = listener.accept().await;
        while let Some(done) = connections.try_join_next() {
            if let Err(e) = done {
                tracing::error!("RAPI connection task failed: {e}");
            }
        }
        match accepted {
            Ok((stream, peer)) => {
                let (shared, tls) = (shared.clone(), tls.clone());
                connections.spawn(async move {
                    connection::serve(shared, tls, stream, peer, cfg.io_timeout).await;
                    drop(permit);
                });
            }
            Err(e) => {
                // Typically out of file descriptors: back off a moment.
                tracing::warn!("RAPI cannot accept a connection: {e}");
                drop(permit);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
