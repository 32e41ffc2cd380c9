//! Every secret of a Ganeti 3.0 cluster, in Ganeti's file formats.
//!
//! Why this crate exists: a drop-in replacement must be able to take over a
//! Ganeti cluster's data directory and hand one back, so the files it writes
//! (`server.pem`, `client.pem`, `rapi.pem`, `spice.pem`, `spice-ca.pem`,
//! `hmac.key`, `cluster-domain-secret`) have Ganeti's formats, and the rules
//! for when each is (re)made follow `gnt-cluster init` / `renew-crypto`.
//! Everything that touches key material lives here, behind a small API, so
//! the rest of the project never handles raw keys and the rules about
//! secrets (owner-only files, atomic replacement, nothing secret in errors
//! or logs) are enforced in one place.
//!
//! Modules:
//! * [`cluster`] — the whole set: [`generate_cluster_crypto`] with a
//!   [`RenewSpec`], plus a node's own client certificate;
//! * [`x509`] — key/certificate generation, parsing and validation;
//! * [`secret`] — the hex secrets (`hmac.key`, cluster domain secret);
//! * [`verify`] — `gnt-cluster verify`'s certificate checks;
//! * [`fsutil`] — the atomic, never-exposed file writer, reusable by others.

pub mod cluster;
mod error;
pub mod fsutil;
pub mod secret;
pub mod verify;
pub mod x509;

pub use cluster::{
    file_names, generate_client_cert, generate_cluster_crypto, install_cert_and_key, CryptoFile,
    CryptoPaths, GeneratedReport, Origin, RenewSpec, WrittenFile,
};
pub use error::CryptoError;
pub use fsutil::{create_backup, write_file_atomic, write_secret_file, SECRET_FILE_MODE};
pub use secret::{generate_secret, SECRET_BYTES};
pub use verify::{
    check_validity, verify_cert_file, verify_client_cert_signed, CertLevel, CertVerdict,
    NODE_MAX_CLOCK_SKEW_SECS, SSL_CERT_EXPIRATION_ERROR_DAYS, SSL_CERT_EXPIRATION_WARN_DAYS,
};
pub use x509::{
    cert_info, cert_info_from_pem, cert_is_signed_by, same_public_key, validate_cert_and_key,
    validate_cert_only, CertInfo, KeyAlgorithm, PublicKeyKind, X509_CERT_CN,
    X509_CERT_DEFAULT_VALIDITY_DAYS,
};
