//! The RAPI certificate (`rapi.pem`), reloaded when it is renewed.
//!
//! Ganeti keeps the certificate and its private key in one PEM file and
//! must be restarted after `gnt-cluster renew-crypto --new-rapi-certificate`.
//! We pick the new certificate up without a restart: the TLS layer asks a
//! certificate resolver for every handshake, and the resolver looks at the
//! file's identity (inode, size, mtime, ctime) at most once per interval,
//! re-reading it only when that changed. A broken new file (half written,
//! key not matching the certificate) is reported and the previous,
//! working certificate stays in service; it is tried again when the file
//! changes once more.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use crate::users::FileStamp;

/// How often, at most, the certificate file is looked at.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Why the certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file could not be read.
    #[error("cannot read RAPI certificate {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The PEM text is malformed.
    #[error("RAPI certificate {path} is not valid PEM: {message}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        message: String,
    },
    /// No `CERTIFICATE` section.
    #[error("RAPI certificate file {path} holds no certificate")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// No private key section.
    #[error("RAPI certificate file {path} holds no private key")]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is unusable or does not belong to the certificate.
    #[error("RAPI certificate file {path}: {source}")]
    Key {
        /// The file.
        path: PathBuf,
        /// The TLS library's complaint.
        source: rustls::Error,
    },
    /// The TLS configuration could not be built.
    #[error("cannot set up TLS: {0}")]
    Config(rustls::Error),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Read a PEM file holding the certificate (chain) and its private key,
/// in any order, as Ganeti writes `rapi.pem`.
pub fn load_certified_key(path: &Path) -> Result<CertifiedKey, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let pem_error = |e: rustls::pki_types::pem::Error| TlsError::Pem {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    let key = match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(key) => key,
        Err(rustls::pki_types::pem::Error::NoItemsFound) => {
            return Err(TlsError::NoKey {
                path: path.to_owned(),
            })
        }
        Err(e) => return Err(pem_error(e)),
    };
    let key_err = |source| TlsError::Key {
        path: path.to_owned(),
        source,
    };
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(key_err)?;
    // rustls' own check (CertifiedKey::from_der) parses the certificate
    // with webpki, which refuses X.509 version 1, what Ganeti 3.0 writes:
    // compare the key with the certificate's public key here instead
    if let Some(public) = signing_key.public_key() {
        let (_, cert) = x509_parser::parse_x509_certificate(certs[0].as_ref()).map_err(|_| {
            key_err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::BadEncoding,
            ))
        })?;
        if cert.public_key().raw != public.as_ref() {
            return Err(key_err(rustls::Error::InconsistentKeys(
                rustls::InconsistentKeys::KeyMismatch,
            )));
        }
    }
    Ok(CertifiedKey::new(certs, signing_key))
}

#[derive(Debug)]
struct Current {
    key: Arc<CertifiedKey>,
    stamp: Option<FileStamp>,
    checked: Instant,
}

/// A certificate resolver serving `rapi.pem`, re-read when it changes.
#[derive(Debug)]
pub struct ReloadingCert {
    path: PathBuf,
    check_interval: Duration,
    current: Mutex<Current>,
}

impl ReloadingCert {
    /// Load `path` now; fails if it is missing or broken (the daemon cannot
    /// serve HTTPS without a certificate).
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, TlsError> {
        let path = path.into();
        // Stamp before reading: a change during the read is seen next time.
        let stamp = FileStamp::of(&path).ok().flatten();
        let key = Arc::new(load_certified_key(&path)?);
        Ok(ReloadingCert {
            path,
            check_interval: DEFAULT_CHECK_INTERVAL,
            current: Mutex::new(Current {
                key,
                stamp,
                checked: Instant::now(),
            }),
        })
    }

    /// Look at the file at most once per `interval` (default one second).
    pub fn with_check_interval(mut self, interval: Duration) -> Self {
        self.check_interval = interval;
        self
    }

    /// The file this certificate comes from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The certificate to present now, re-read first if the file changed.
    pub fn current(&self) -> Arc<CertifiedKey> {
        let mut cur = self.current.lock();
        if cur.checked.elapsed() >= self.check_interval {
            cur.checked = Instant::now();
            self.refresh(&mut cur);
        }
        cur.key.clone()
    }

    fn refresh(&self, cur: &mut Current) {
        let stamp = match FileStamp::of(&self.path) {
            Ok(stamp) => stamp,
            Err(e) => {
                tracing::error!(
                    "cannot look at RAPI certificate {}: {e}; keeping the current one",
                    self.path.display()
                );
                return;
            }
        };
        if stamp == cur.stamp {
            return;
        }
        // Remember this version even if it is broken, so a broken file is
        // reported once, not once per interval.
        cur.stamp = stamp;
        if stamp.is_none() {
            tracing::error!(
                "RAPI certificate {} has disappeared; keeping the current one",
                self.path.display()
            );
            return;
        }
        match load_certified_key(&self.path) {
            Ok(key) => {
                tracing::info!("RAPI certificate {} reloaded", self.path.display());
                cur.key = Arc::new(key);
            }
            Err(e) => tracing::error!("{e}; keeping the current RAPI certificate"),
        }
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The TLS server configuration: TLS 1.2 and 1.3, no client certificates
/// (Ganeti never asks for them), the certificate from `resolver`.
pub fn server_config(resolver: Arc<ReloadingCert>) -> Result<Arc<ServerConfig>, TlsError> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str) -> (String, Vec<u8>) {
        let ck = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        (
            format!("{}{}", ck.key_pair.serialize_pem(), ck.cert.pem()),
            ck.cert.der().to_vec(),
        )
    }

    fn served_der(r: &ReloadingCert) -> Vec<u8> {
        r.current().cert[0].to_vec()
    }

    #[test]
    fn loads_key_and_certificate_in_either_order() {
        let dir = tempfile::tempdir().unwrap();
        let ck = rcgen::generate_simple_self_signed(vec!["a".to_owned()]).unwrap();
        let path = dir.path().join("rapi.pem");
        std::fs::write(
            &path,
            format!("{}{}", ck.cert.pem(), ck.key_pair.serialize_pem()),
        )
        .unwrap();
        let key = load_certified_key(&path).unwrap();
        assert_eq!(key.cert[0].as_ref(), ck.cert.der().as_ref());
    }

    #[test]
    fn broken_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rapi.pem");
        assert!(matches!(
            load_certified_key(&path),
            Err(TlsError::Read { .. })
        ));

        let a = rcgen::generate_simple_self_signed(vec!["a".to_owned()]).unwrap();
        std::fs::write(&path, a.cert.pem()).unwrap();
        assert!(matches!(
            load_certified_key(&path),
            Err(TlsError::NoKey { .. })
        ));
        std::fs::write(&path, a.key_pair.serialize_pem()).unwrap();
        assert!(matches!(
            load_certified_key(&path),
            Err(TlsError::NoCertificate { .. })
        ));
        let b = rcgen::generate_simple_self_signed(vec!["b".to_owned()]).unwrap();
        std::fs::write(
            &path,
            format!("{}{}", b.key_pair.serialize_pem(), a.cert.pem()),
        )
        .unwrap();
        assert!(matches!(
            load_certified_key(&path),
            Err(TlsError::Key { .. })
        ));
        let truncated = a.cert.pem()[..100].to_owned();
        std::fs::write(&path, truncated).unwrap();
        assert!(load_certified_key(&path).is_err());
    }

    #[test]
    fn reloads_a_renewed_certificate_and_survives_a_broken_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rapi.pem");
        let (pem1, der1) = self_signed("one");
        std::fs::write(&path, &pem1).unwrap();
        let r = ReloadingCert::load(&path)
            .unwrap()
            .with_check_interval(Duration::ZERO);
        assert_eq!(served_der(&r), der1);

        let (pem2, der2) = self_signed("two");
        let tmp = dir.path().join("rapi.pem.new");
        std::fs::write(&tmp, &pem2).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert_eq!(served_der(&r), der2);

        std::fs::write(&path, "garbage").unwrap();
        assert_eq!(served_der(&r), der2, "broken file keeps the old cert");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(served_der(&r), der2, "missing file keeps the old cert");

        let (pem3, der3) = self_signed("three");
        std::fs::write(&path, &pem3).unwrap();
        assert_eq!(served_der(&r), der3);
    }

    #[test]
    fn looks_at_the_file_at_most_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rapi.pem");
        let (pem1, der1) = self_signed("one");
        std::fs::write(&path, &pem1).unwrap();
        let r = ReloadingCert::load(&path)
            .unwrap()
            .with_check_interval(Duration::from_secs(3600));
        let (pem2, _) = self_signed("two");
        std::fs::write(&path, &pem2).unwrap();
        assert_eq!(served_der(&r), der1);
    }
}
