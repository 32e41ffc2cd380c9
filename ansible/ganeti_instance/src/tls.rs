//! Certificate checks as Ganeti's own RAPI client makes them.
//!
//! Ganeti's RAPI certificate is self-signed with the fixed name
//! `ganeti.example.com` and no subject alternative names, so an ordinary
//! hostname check can never pass; Ganeti's client verifies the chain
//! against the CA file it is given and not the host name. Here:
//! - `validate_certs: false`: no check at all (as `curl -k`);
//! - a `ca_path` holding the server's own certificate: that certificate
//!   is accepted wherever it is served (it is pinned);
//! - otherwise the chain and host name are verified against `ca_path`, or
//!   the Mozilla roots without one (a RAPI behind a proper certificate).
//!
//! The handshake signatures are always verified, so a pinned certificate
//! only matches a server that holds its key. Ganeti 3.0 writes X.509
//! version 1 certificates, which webpki refuses to parse; for a pinned
//! certificate the signature is checked against its public key directly.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::ModuleError;

#[derive(Debug)]
struct RapiVerifier {
    insecure: bool,
    pinned: Vec<CertificateDer<'static>>,
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl RapiVerifier {
    fn is_pinned(&self, cert: &CertificateDer<'_>) -> bool {
        self.pinned.iter().any(|c| c.as_ref() == cert.as_ref())
    }

    /// The handshake signature against a pinned certificate's key, for
    /// certificates webpki cannot read (version 1).
    fn verify_pinned_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let bad = |e: CertificateError| rustls::Error::InvalidCertificate(e);
        let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
            .map_err(|_| bad(CertificateError::BadEncoding))?;
        let key = parsed.public_key().subject_public_key.data.as_ref();
        let algorithms = self
            .provider
            .signature_verification_algorithms
            .mapping
            .iter()
            .find(|(scheme, _)| *scheme == dss.scheme)
            .map(|(_, algs)| *algs)
            .unwrap_or(&[]);
        if algorithms
            .iter()
            .any(|alg| alg.verify_signature(key, message, dss.signature()).is_ok())
        {
            Ok(HandshakeSignatureValid::assertion())
        } else {
            Err(bad(CertificateError::BadSignature))
        }
    }
}

impl ServerCertVerifier for RapiVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.insecure
            || self
                .pinned
                .iter()
                .any(|c| c.as_ref() == end_entity.as_ref())
        {
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
        .or_else(|e| match self.is_pinned(cert) || self.insecure {
            true => self.verify_pinned_signature(message, cert, dss),
            false => Err(e),
        })
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
        .or_else(|e| match self.is_pinned(cert) || self.insecure {
            true => self.verify_pinned_signature(message, cert, dss),
            false => Err(e),
        })
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, ModuleError> {
    let data = std::fs::read(path)
        .map_err(|e| ModuleError::Tls(format!("Cannot read ca_path {path}: {e}")))?;
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut data.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| ModuleError::Tls(format!("ca_path {path}: invalid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(ModuleError::Tls(format!(
            "ca_path {path} holds no certificate"
        )));
    }
    Ok(certs)
}

/// The client configuration for `validate_certs` and `ca_path`.
pub fn client_config(
    validate_certs: bool,
    ca_path: Option<&str>,
) -> Result<ClientConfig, ModuleError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    let pinned = match ca_path {
        Some(p) if validate_certs => {
            let certs = read_certs(p)?;
            for c in &certs {
                // a certificate webpki cannot use as a root is still pinnable
                let _ = roots.add(c.clone());
            }
            certs
        }
        _ => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            Vec::new()
        }
    };
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| ModuleError::Tls(format!("Cannot set up certificate checks: {e}")))?;
    let verifier = RapiVerifier {
        insecure: !validate_certs,
        pinned,
        webpki,
        provider: provider.clone(),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ModuleError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(config)
}
