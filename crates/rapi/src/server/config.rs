//! How the RAPI server is run: address, files, and the limits that keep
//! one client from starving the others.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ganeti_types::Paths;

/// Ganeti's RAPI port.
pub const DEFAULT_PORT: u16 = 5080;

/// Largest request body accepted (RAPI bodies are a few KiB at most).
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Ganeti's socket timeout; also how long an idle keep-alive connection
/// is kept.
pub const DEFAULT_IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of one RAPI server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RapiConfig {
    /// Address and port to listen on (default `0.0.0.0:5080`).
    pub bind: SocketAddr,
    /// PEM file with the private key and the certificate (`rapi.pem`).
    pub cert_path: PathBuf,
    /// The users file (`rapi/users`).
    pub users_path: PathBuf,
    /// Ganeti's `--require-authentication`: every request needs a valid user.
    pub require_authentication: bool,
    /// HTTPS (default); `false` is Ganeti's `--no-ssl`.
    pub tls: bool,
    /// Bodies larger than this are refused with 413, unread.
    pub max_body_bytes: usize,
    /// At most this many connections at once; more wait to be accepted.
    /// `None`: no limit.
    pub max_connections: Option<usize>,
    /// Time allowed for the TLS handshake, for a request's head (which
    /// also bounds how long an idle keep-alive connection stays open),
    /// for a request's whole body, and for each write of a response.
    pub io_timeout: Duration,
    /// How often, at most, the certificate file is checked for renewal.
    pub cert_check_interval: Duration,
}

impl RapiConfig {
    /// Defaults for everything but the address and the two files.
    pub fn new(bind: SocketAddr, cert_path: PathBuf, users_path: PathBuf) -> Self {
        RapiConfig {
            bind,
            cert_path,
            users_path,
            require_authentication: false,
            tls: true,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_connections: None,
            io_timeout: DEFAULT_IO_TIMEOUT,
            cert_check_interval: crate::tls::DEFAULT_CHECK_INTERVAL,
        }
    }

    /// Ganeti's defaults for a node laid out by `paths`: all addresses,
    /// port 5080, `rapi.pem` and `rapi/users` of the data directory.
    pub fn for_paths(paths: &Paths) -> Self {
        RapiConfig::new(
            SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT)),
            paths.rapi_pem(),
            paths.rapi_users(),
        )
    }
}

impl Default for RapiConfig {
    fn default() -> Self {
        RapiConfig::for_paths(&Paths::new("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_ganetis() {
        let c = RapiConfig::default();
        assert_eq!(c.bind.to_string(), "0.0.0.0:5080");
        assert_eq!(c.cert_path, PathBuf::from("/var/lib/ganeti/rapi.pem"));
        assert_eq!(c.users_path, PathBuf::from("/var/lib/ganeti/rapi/users"));
        assert!(c.tls);
        assert!(!c.require_authentication);
    }
}
