//! The one error type of this crate.
//!
//! Every variant names the file or input it is about, so a caller can show
//! it to an operator as it is. No variant ever carries key or secret
//! material: reasons are written by this crate or are the `Display` of a
//! parser error, which describes the structure that failed, never the bytes.

use std::io;
use std::path::PathBuf;

/// Why generating, installing or reading a certificate or secret failed.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A file-system operation failed. `action` says what was attempted
    /// ("read", "create a temporary file in directory", ...), `path` on what.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A path that cannot name a file (no final component, e.g. `/`).
    #[error("{} does not name a file", path.display())]
    InvalidPath { path: PathBuf },

    /// A PEM input could not be used: no certificate, unparsable data, a
    /// missing or unsupported private key, ... `origin` is the file name (or
    /// another label) the data came from.
    #[error("unable to load X509 certificate from {origin}: {reason}")]
    InvalidPem { origin: String, reason: String },

    /// The private key and the certificate in one PEM input do not belong
    /// together.
    #[error("unable to load X509 certificate from {origin}: the certificate does not match the private key")]
    KeyMismatch { origin: String },

    /// A user-supplied secret (cluster domain secret) is not usable.
    #[error("cannot use the secret from {origin}: {reason}")]
    InvalidSecret {
        origin: String,
        reason: &'static str,
    },

    /// A name that cannot be a certificate's common name.
    #[error("invalid certificate common name {name:?}: {reason}")]
    InvalidCommonName { name: String, reason: &'static str },

    /// The requested combination of renewals is contradictory (mirrors the
    /// checks `gnt-cluster renew-crypto` makes before touching anything).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),

    /// Key or certificate generation failed inside the crypto libraries.
    #[error("cannot generate {what}: {reason}")]
    Generate { what: &'static str, reason: String },
}

impl CryptoError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        CryptoError::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn pem(origin: &str, reason: impl Into<String>) -> Self {
        CryptoError::InvalidPem {
            origin: origin.to_owned(),
            reason: reason.into(),
        }
    }
}
