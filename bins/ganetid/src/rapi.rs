//! Serving RAPI from the master daemon.
//!
//! Ganeti runs RAPI as its own daemon that talks LUXI to the master. We keep
//! that boundary (RAPI only makes LUXI calls) but make the calls in-process:
//! no socket round trip, no second process to supervise. A port that is
//! busy does not take the master down with it: RAPI keeps retrying and
//! says so in the log.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ganeti_luxi::{Method, Request};
use ganeti_master::Master;
use ganeti_rapi::backend::BoxFuture;
use ganeti_rapi::routes::Table;
use ganeti_rapi::{Backend, RapiConfig};
use ganeti_types::{GanetiError, Paths};
use serde_json::Value;

/// RAPI settings from the command line (Ganeti's `ganeti-rapi` options).
#[derive(Debug, Clone, clap::Args)]
pub struct RapiArgs {
    /// Address RAPI listens on (Ganeti's `ganeti-rapi -b`).
    #[arg(
        long = "rapi-bind",
        env = "GANETI_RAPI_BIND",
        default_value = "0.0.0.0"
    )]
    pub bind: IpAddr,
    /// TCP port of RAPI (Ganeti's `ganeti-rapi -p`).
    #[arg(long = "rapi-port", env = "GANETI_RAPI_PORT", default_value_t = 5080)]
    pub port: u16,
    /// Require a valid user for every request, reads included
    /// (Ganeti's `--require-authentication`).
    #[arg(
        long = "rapi-require-authentication",
        env = "GANETI_RAPI_REQUIRE_AUTH",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub require_authentication: bool,
    /// Serve plain HTTP instead of HTTPS (Ganeti's `--no-ssl`).
    #[arg(long = "rapi-no-ssl")]
    pub no_ssl: bool,
    /// Do not serve RAPI at all.
    #[arg(long = "no-rapi")]
    pub disabled: bool,
}

/// The master, as a LUXI answerer.
#[derive(Debug)]
struct MasterBackend(Arc<Master>);

impl Backend for MasterBackend {
    fn call(&self, method: Method, args: Value) -> BoxFuture<'_, Result<Value, GanetiError>> {
        Box::pin(ganeti_master::luxi::dispatch(
            &self.0,
            Request {
                method,
                args,
                version: None,
            },
        ))
    }
}

/// Serve RAPI until the task is aborted; binding is retried while the port
/// is taken.
pub async fn run(args: RapiArgs, paths: Paths, master: Arc<Master>) {
    let mut cfg = RapiConfig::new(
        SocketAddr::new(args.bind, args.port),
        paths.rapi_pem(),
        paths.rapi_users(),
    );
    cfg.require_authentication = args.require_authentication;
    cfg.tls = !args.no_ssl;
    let table = Arc::new(Table::new());
    let backend: Arc<dyn Backend> = Arc::new(MasterBackend(master));
    let mut warned = false;
    loop {
        match ganeti_rapi::server::bind(&cfg).await {
            Ok(listener) => {
                tracing::info!(
                    "RAPI listening on {} ({})",
                    cfg.bind,
                    if cfg.tls { "https" } else { "http" }
                );
                if let Err(e) =
                    ganeti_rapi::serve(cfg.clone(), table.clone(), backend.clone(), listener).await
                {
                    tracing::error!("RAPI stopped: {e}; restarting it");
                }
            }
            Err(e) => {
                if !warned {
                    tracing::error!(
                        "RAPI cannot listen on {}: {e}; retrying every 5 s",
                        cfg.bind
                    );
                    warned = true;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}
