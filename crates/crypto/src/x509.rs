//! X.509 keys and certificates in Ganeti's on-disk format.
//!
//! Ganeti keeps each TLS identity as *one* PEM file: the private key
//! (`-----BEGIN PRIVATE KEY-----`, PKCS#8) followed by the certificate.
//! This module generates such files, parses them back (including files made
//! by Ganeti itself or by an operator with `openssl`), and checks that key
//! and certificate belong together.
//!
//! # Key algorithm: RSA 2048 by default
//!
//! Ganeti generates RSA 2048 keys with SHA-256 signatures. `rcgen` (our
//! certificate builder) cannot generate RSA keys with its `ring` backend, so
//! RSA keys come from the RustCrypto `rsa` crate (0.9, pure Rust, widely
//! used) and are handed to `rcgen`/`ring` as PKCS#8 for signing. We chose
//! RSA over ECDSA as the default because these files are exchanged with
//! whatever the cluster talks to: Ganeti's Python tools during a migration,
//! SPICE viewers, RAPI clients pinned to `rapi.pem`, operators' scripts.
//! RSA is what all of them already handle, so RSA 2048 is the true drop-in.
//! Cost: about 0.1–0.4 s per key in an optimised build (fine: a cluster makes
//! four at `init`), but several seconds in an unoptimised one, because the
//! big-number code is slow without optimisation (a workspace can fix that
//! for debug builds with `[profile.dev.package.num-bigint-dig] opt-level =
//! 3`, which brings it to the optimised figure). Hence
//! [`KeyAlgorithm::EcdsaP256`] is offered as well: every modern TLS stack
//! accepts it, it is generated in microseconds, and tests use it.
//! (The `rsa` crate's advisory RUSTSEC-2023-0071, a timing side channel, is
//! about private-key *operations*; we only generate and export keys with it,
//! all signing is done by `ring`.)
//!
//! # Certificate shape
//!
//! * Subject/issuer: a single `CN` (UTF8String). Self-signed certificates use
//!   Ganeti's fixed CN `ganeti.example.com`; node client certificates use the
//!   node's host name. Ganeti's `cluster verify` tells a properly signed
//!   client certificate from a self-signed one by comparing subject and
//!   issuer CN, which is why the cluster certificate must keep the fixed CN.
//! * Validity: from now for [`X509_CERT_DEFAULT_VALIDITY_DAYS`] days.
//! * Serial: 126 random bits (Ganeti uses 1 for self-signed certificates and
//!   the Unix time for client certificates; a reused issuer+serial pair makes
//!   some clients refuse a renewed certificate, random serials never do).
//! * Version 3. Self-signed certificates carry `basicConstraints CA:TRUE,
//!   pathlen:0` (what `openssl req -x509` makes): the cluster certificate
//!   signs the client certificates, and SPICE's CA file *is* the SPICE
//!   certificate. Ganeti's own certificates are version 1 without
//!   extensions, which OpenSSL treats the same way. Client certificates say
//!   `CA:FALSE`. No other extensions: peers pin these certificates instead of
//!   checking host names.

use std::fmt;
use std::path::Path;

use rand::rngs::OsRng;
use rand::RngCore;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SerialNumber,
    PKCS_ECDSA_P256_SHA256,
};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::EncodePrivateKey;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;

use crate::fsutil::read_file;
use crate::CryptoError;

/// Common name of Ganeti's self-signed certificates (`X509_CERT_CN`).
pub const X509_CERT_CN: &str = "ganeti.example.com";
/// Default certificate validity in days (`X509_CERT_DEFAULT_VALIDITY`).
pub const X509_CERT_DEFAULT_VALIDITY_DAYS: i64 = 365 * 5;
/// RSA modulus size Ganeti uses (`RSA_KEY_BITS`).
pub const RSA_KEY_BITS: usize = 2048;
/// Upper bound of an X.509 common name (RFC 5280 `ub-common-name`).
pub const MAX_COMMON_NAME_LEN: usize = 64;

/// The kind of key pair to generate for new certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgorithm {
    /// RSA 2048 with SHA-256 signatures, as Ganeti does (the default).
    #[default]
    Rsa2048,
    /// ECDSA on P-256 with SHA-256: fast to generate, accepted by modern TLS
    /// stacks.
    EcdsaP256,
}

/// The public key type of a certificate, as reported by [`CertInfo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKeyKind {
    Rsa {
        bits: usize,
    },
    Ec {
        bits: usize,
    },
    Ed25519,
    /// Anything else, named by its algorithm OID.
    Other(String),
}

/// What a certificate says about itself; no secret data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The first common name of the subject, if any.
    pub subject_cn: Option<String>,
    /// The first common name of the issuer, if any.
    pub issuer_cn: Option<String>,
    /// Whole subject, RFC 4514 style (`CN=...`).
    pub subject: String,
    /// Whole issuer, RFC 4514 style.
    pub issuer: String,
    /// Serial number as colon-separated hex bytes.
    pub serial: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// `basicConstraints CA:TRUE` present.
    pub is_ca: bool,
    pub public_key: PublicKeyKind,
    /// SHA-1 of the DER certificate as upper-case hex pairs joined by `:`;
    /// exactly the digest Ganeti stores in the cluster's candidate
    /// certificate map (`GetCertificateDigest`).
    pub sha1_digest: String,
    /// SHA-256 fingerprint, same notation.
    pub sha256_fingerprint: String,
    /// Whether the PEM data the certificate came from also held a private
    /// key block (the key itself is not examined by [`cert_info`]).
    pub has_private_key: bool,
}

/// Reads the first certificate of a PEM file and describes it.
///
/// Private key blocks in the file are skipped, not parsed.
pub fn cert_info(path: &Path) -> Result<CertInfo, CryptoError> {
    let data = read_file(path)?;
    cert_info_from_pem(&data, &path.display().to_string())
}

/// Like [`cert_info`] for PEM data in memory; `origin` names it in errors.
pub fn cert_info_from_pem(pem: &[u8], origin: &str) -> Result<CertInfo, CryptoError> {
    let bundle = PemBundle::parse(pem, origin, KeyHandling::Skip)?;
    bundle.leaf_info(origin)
}

/// Validates PEM data that must hold a private key and a certificate that
/// belong together (what `gnt-cluster renew-crypto --rapi-certificate` and
/// `--spice-certificate` require). Returns the certificate's description.
pub fn validate_cert_and_key(pem: &[u8], origin: &str) -> Result<CertInfo, CryptoError> {
    let bundle = PemBundle::parse(pem, origin, KeyHandling::Parse)?;
    bundle.require_matching_key(origin)?;
    bundle.leaf_info(origin)
}

/// Validates PEM data that must hold a certificate and no private key (a CA
/// certificate such as `spice-ca.pem`, which is handed to clients).
pub fn validate_cert_only(pem: &[u8], origin: &str) -> Result<CertInfo, CryptoError> {
    let bundle = PemBundle::parse(pem, origin, KeyHandling::Skip)?;
    if bundle.has_key_block {
        return Err(CryptoError::pem(
            origin,
            "a private key was given where only a certificate is expected",
        ));
    }
    bundle.leaf_info(origin)
}

/// Whether the first certificate in `cert_pem` names the first certificate
/// in `issuer_pem` as its issuer and carries a valid signature by its key.
///
/// `Ok(false)` means "parsed fine, but not signed by that issuer"; errors
/// mean unparsable input or a signature algorithm that cannot be checked.
pub fn cert_is_signed_by(cert_pem: &[u8], issuer_pem: &[u8]) -> Result<bool, CryptoError> {
    let cert_bundle = PemBundle::parse(cert_pem, "certificate", KeyHandling::Skip)?;
    let issuer_bundle = PemBundle::parse(issuer_pem, "issuer certificate", KeyHandling::Skip)?;
    let cert = cert_bundle.leaf("certificate")?;
    let issuer = issuer_bundle.leaf("issuer certificate")?;
    if cert.issuer().as_raw() != issuer.subject().as_raw() {
        return Ok(false);
    }
    match cert.verify_signature(Some(issuer.public_key())) {
        Ok(()) => Ok(true),
        Err(x509_parser::error::X509Error::SignatureVerificationError) => Ok(false),
        Err(e) => Err(CryptoError::pem(
            "certificate",
            format!("cannot check the signature: {e}"),
        )),
    }
}

/// Whether two PEM inputs' first certificates carry the same public key
/// (Ganeti's check that a cluster certificate offered to a node "matches the
/// local key" of its `server.pem`).
pub fn same_public_key(cert_pem_a: &[u8], cert_pem_b: &[u8]) -> Result<bool, CryptoError> {
    let a = PemBundle::parse(cert_pem_a, "first certificate", KeyHandling::Skip)?;
    let b = PemBundle::parse(cert_pem_b, "second certificate", KeyHandling::Skip)?;
    let ca = a.leaf("first certificate")?;
    let cb = b.leaf("second certificate")?;
    Ok(ca.public_key().raw == cb.public_key().raw)
}

/// A freshly generated key and certificate, both PEM.
pub(crate) struct Generated {
    key_pem: String,
    cert_pem: String,
}

impl fmt::Debug for Generated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generated")
            .field("key_pem", &"<redacted>")
            .field("cert_pem", &self.cert_pem)
            .finish()
    }
}

impl Generated {
    /// Ganeti's single-file format: key, then certificate.
    pub(crate) fn bundle(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.key_pem.len() + self.cert_pem.len());
        out.extend_from_slice(self.key_pem.as_bytes());
        out.extend_from_slice(self.cert_pem.as_bytes());
        out
    }

    pub(crate) fn cert_pem(&self) -> &str {
        &self.cert_pem
    }
}

/// A loaded signing identity (normally `server.pem`).
pub(crate) struct Issuer {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("subject", &self.cert.params().distinguished_name)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Issuer {
    /// Loads key and certificate from PEM data and checks they match.
    pub(crate) fn from_pem(pem: &[u8], origin: &str) -> Result<Self, CryptoError> {
        let mut bundle = PemBundle::parse(pem, origin, KeyHandling::Parse)?;
        bundle.require_matching_key(origin)?;
        let cert = bundle.leaf(origin)?;
        // rcgen's name conversion accepts one attribute per RDN only (and
        // would panic on an empty one); check first to get an error instead.
        for rdn in cert.subject().iter() {
            if rdn.iter().count() != 1 {
                return Err(CryptoError::pem(
                    origin,
                    "the issuer's subject has a multi-valued or empty name component",
                ));
            }
        }
        let der = bundle.certs[0].as_slice();
        let mut params = CertificateParams::from_ca_cert_der(&der.into())
            .map_err(|e| CryptoError::pem(origin, format!("cannot use as issuer: {e}")))?;
        // Only the subject name and key of this object matter for signing;
        // the re-made certificate itself is never written anywhere.
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = bundle
            .key
            .take()
            .ok_or_else(|| CryptoError::pem(origin, "no private key found"))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| CryptoError::pem(origin, format!("cannot use as issuer: {e}")))?;
        Ok(Issuer { cert, key })
    }
}

/// Generates a key and a self-signed certificate for `cn`.
pub(crate) fn generate_self_signed(
    cn: &str,
    alg: KeyAlgorithm,
    now: OffsetDateTime,
) -> Result<Generated, CryptoError> {
    let key = generate_key(alg)?;
    let mut params = base_params(cn, now)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let cert = params
        .self_signed(&key)
        .map_err(|e| CryptoError::Generate {
            what: "a self-signed certificate",
            reason: e.to_string(),
        })?;
    Ok(Generated {
        key_pem: key.serialize_pem(),
        cert_pem: cert.pem(),
    })
}

/// Generates a key and a certificate for `cn` signed by `issuer`.
pub(crate) fn generate_signed(
    cn: &str,
    alg: KeyAlgorithm,
    now: OffsetDateTime,
    issuer: &Issuer,
) -> Result<Generated, CryptoError> {
    let key = generate_key(alg)?;
    let mut params = base_params(cn, now)?;
    params.is_ca = IsCa::ExplicitNoCa;
    let cert = params
        .signed_by(&key, &issuer.cert, &issuer.key)
        .map_err(|e| CryptoError::Generate {
            what: "a signed certificate",
            reason: e.to_string(),
        })?;
    Ok(Generated {
        key_pem: key.serialize_pem(),
        cert_pem: cert.pem(),
    })
}

/// Checks a host name for use as a certificate's common name.
pub(crate) fn check_common_name(cn: &str) -> Result<(), CryptoError> {
    let invalid = |reason| CryptoError::InvalidCommonName {
        name: cn.to_owned(),
        reason,
    };
    if cn.is_empty() {
        return Err(invalid("it is empty"));
    }
    if cn.len() > MAX_COMMON_NAME_LEN {
        return Err(invalid("it is longer than 64 bytes"));
    }
    if cn.chars().any(char::is_control) {
        return Err(invalid("it contains control characters"));
    }
    Ok(())
}

fn base_params(cn: &str, now: OffsetDateTime) -> Result<CertificateParams, CryptoError> {
    check_common_name(cn)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let now = now
        .replace_nanosecond(0)
        .map_err(|e| CryptoError::Generate {
            what: "a certificate validity period",
            reason: e.to_string(),
        })?;
    params.not_before = now;
    params.not_after = now + Duration::days(X509_CERT_DEFAULT_VALIDITY_DAYS);
    params.serial_number = Some(random_serial());
    Ok(params)
}

/// 16 random bytes, top bit clear (positive) and second-highest set (so the
/// DER encoding always has 16 bytes).
fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn generate_key(alg: KeyAlgorithm) -> Result<KeyPair, CryptoError> {
    match alg {
        KeyAlgorithm::EcdsaP256 => {
            KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| CryptoError::Generate {
                what: "an ECDSA P-256 key",
                reason: e.to_string(),
            })
        }
        KeyAlgorithm::Rsa2048 => {
            let fail = |reason: String| CryptoError::Generate {
                what: "an RSA 2048 key",
                reason,
            };
            let key = rsa::RsaPrivateKey::new(&mut OsRng, RSA_KEY_BITS)
                .map_err(|e| fail(e.to_string()))?;
            let der = key.to_pkcs8_der().map_err(|e| fail(e.to_string()))?;
            KeyPair::try_from(der.as_bytes()).map_err(|e| fail(e.to_string()))
        }
    }
}

/// Whether [`PemBundle::parse`] should parse private keys or just note them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyHandling {
    Parse,
    Skip,
}

/// The usable blocks of a PEM input.
struct PemBundle {
    /// DER certificates in file order; the first is the leaf.
    certs: Vec<Vec<u8>>,
    key: Option<KeyPair>,
    has_key_block: bool,
}

impl fmt::Debug for PemBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemBundle")
            .field("certs", &self.certs.len())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl PemBundle {
    fn parse(data: &[u8], origin: &str, keys: KeyHandling) -> Result<Self, CryptoError> {
        let mut bundle = PemBundle {
            certs: Vec::new(),
            key: None,
            has_key_block: false,
        };
        for block in Pem::iter_from_buffer(data) {
            let block = block
                .map_err(|e| CryptoError::pem(origin, format!("malformed PEM block ({e})")))?;
            let label = block.label.as_str();
            if label == "CERTIFICATE" || label == "X509 CERTIFICATE" {
                x509_parser::parse_x509_certificate(&block.contents).map_err(|e| {
                    CryptoError::pem(origin, format!("cannot parse certificate ({e})"))
                })?;
                bundle.certs.push(block.contents);
            } else if label.ends_with("PRIVATE KEY") {
                if bundle.has_key_block {
                    return Err(CryptoError::pem(origin, "more than one private key found"));
                }
                bundle.has_key_block = true;
                if keys == KeyHandling::Parse {
                    bundle.key = Some(parse_private_key(label, &block.contents, origin)?);
                }
            }
            // Other blocks ("EC PARAMETERS", "DH PARAMETERS", ...) are
            // irrelevant here, as they are to OpenSSL when loading a cert.
        }
        if bundle.certs.is_empty() {
            return Err(CryptoError::pem(origin, "no certificate found"));
        }
        Ok(bundle)
    }

    fn leaf(&self, origin: &str) -> Result<X509Certificate<'_>, CryptoError> {
        let der = self
            .certs
            .first()
            .ok_or_else(|| CryptoError::pem(origin, "no certificate found"))?;
        x509_parser::parse_x509_certificate(der)
            .map(|(_, c)| c)
            .map_err(|e| CryptoError::pem(origin, format!("cannot parse certificate ({e})")))
    }

    fn require_matching_key(&self, origin: &str) -> Result<(), CryptoError> {
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| CryptoError::pem(origin, "no private key found"))?;
        let cert = self.leaf(origin)?;
        if key.public_key_raw() != cert.public_key().subject_public_key.data.as_ref() {
            return Err(CryptoError::KeyMismatch {
                origin: origin.to_owned(),
            });
        }
        Ok(())
    }

    fn leaf_info(&self, origin: &str) -> Result<CertInfo, CryptoError> {
        let cert = self.leaf(origin)?;
        let der = &self.certs[0];
        let first_cn = |name: &x509_parser::x509::X509Name<'_>| {
            name.iter_common_name()
                .next()
                .and_then(|a| a.as_str().ok())
                .map(str::to_owned)
        };
        let public_key = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => PublicKeyKind::Rsa {
                bits: rsa.key_size(),
            },
            Ok(PublicKey::EC(point)) => PublicKeyKind::Ec {
                bits: ec_bits(point.key_size()),
            },
            _ if cert.public_key().algorithm.algorithm.to_id_string() == "1.3.101.112" => {
                PublicKeyKind::Ed25519
            }
            _ => PublicKeyKind::Other(cert.public_key().algorithm.algorithm.to_id_string()),
        };
        Ok(CertInfo {
            subject_cn: first_cn(cert.subject()),
            issuer_cn: first_cn(cert.issuer()),
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string(),
            not_before: cert.validity().not_before.to_datetime(),
            not_after: cert.validity().not_after.to_datetime(),
            is_ca: cert.is_ca(),
            public_key,
            sha1_digest: colon_hex(&Sha1::digest(der)),
            sha256_fingerprint: colon_hex(&Sha256::digest(der)),
            has_private_key: self.has_key_block,
        })
    }
}

/// x509-parser reports an EC point's size in bits of the uncompressed
/// encoding (`04 || X || Y`); convert that to the curve size.
fn ec_bits(point_bits: usize) -> usize {
    let bytes = point_bits / 8;
    if bytes > 1 && bytes % 2 == 1 {
        (bytes - 1) / 2 * 8
    } else {
        point_bits
    }
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Turns one PEM private key block into a signing key pair. Errors never
/// include the key bytes.
fn parse_private_key(label: &str, der: &[u8], origin: &str) -> Result<KeyPair, CryptoError> {
    match label {
        "PRIVATE KEY" => KeyPair::try_from(der).map_err(|_| {
            CryptoError::pem(
                origin,
                "cannot load the private key (supported: RSA 2048-8192 bits, ECDSA P-256/P-384, Ed25519)",
            )
        }),
        "RSA PRIVATE KEY" => {
            let key = rsa::RsaPrivateKey::from_pkcs1_der(der)
                .map_err(|_| CryptoError::pem(origin, "cannot load the RSA private key"))?;
            let pkcs8 = key
                .to_pkcs8_der()
                .map_err(|_| CryptoError::pem(origin, "cannot convert the RSA private key"))?;
            KeyPair::try_from(pkcs8.as_bytes()).map_err(|_| {
                CryptoError::pem(
                    origin,
                    "cannot load the RSA private key (2048 to 8192 bits are supported)",
                )
            })
        }
        "EC PRIVATE KEY" => Err(CryptoError::pem(
            origin,
            "SEC1 \"EC PRIVATE KEY\" keys are not supported; convert the key to PKCS#8 \
             (openssl pkcs8 -topk8 -nocrypt)",
        )),
        "ENCRYPTED PRIVATE KEY" => Err(CryptoError::pem(
            origin,
            "the private key is encrypted; an unencrypted key is required",
        )),
        other => Err(CryptoError::pem(
            origin,
            format!("unsupported private key format \"{other}\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    #[test]
    fn self_signed_ecdsa_parses_back() {
        let g = generate_self_signed(X509_CERT_CN, KeyAlgorithm::EcdsaP256, now()).expect("gen");
        let bundle = g.bundle();
        let text = String::from_utf8(bundle.clone()).expect("utf8");
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{text}");
        assert!(text.contains("-----BEGIN CERTIFICATE-----\n"));
        let info = validate_cert_and_key(&bundle, "mem").expect("valid");
        assert_eq!(info.subject_cn.as_deref(), Some(X509_CERT_CN));
        assert_eq!(info.issuer_cn.as_deref(), Some(X509_CERT_CN));
        assert!(info.is_ca);
        assert!(info.has_private_key);
        assert_eq!(info.public_key, PublicKeyKind::Ec { bits: 256 });
        assert_eq!(
            info.not_after - info.not_before,
            Duration::days(X509_CERT_DEFAULT_VALIDITY_DAYS)
        );
        assert_eq!(info.sha1_digest.len(), 20 * 3 - 1);
        assert_eq!(info.sha256_fingerprint.len(), 32 * 3 - 1);
        assert!(cert_is_signed_by(&bundle, &bundle).expect("check"));
    }

    #[test]
    fn debug_output_never_shows_key() {
        let g = generate_self_signed("x", KeyAlgorithm::EcdsaP256, now()).expect("gen");
        let dbg = format!("{g:?}");
        assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
        let issuer = Issuer::from_pem(&g.bundle(), "mem").expect("issuer");
        let dbg = format!("{issuer:?}");
        assert!(dbg.contains("redacted"), "{dbg}");
        let key_b64_line = g.key_pem.lines().nth(1).expect("line");
        assert!(!dbg.contains(key_b64_line));
        let b = PemBundle::parse(&g.bundle(), "m", KeyHandling::Parse).expect("parse");
        let dbg = format!("{b:?}");
        assert!(!dbg.contains(key_b64_line), "{dbg}");
    }

    #[test]
    fn signed_cert_verifies_against_issuer_only() {
        let ca = generate_self_signed(X509_CERT_CN, KeyAlgorithm::EcdsaP256, now()).expect("ca");
        let other = generate_self_signed(X509_CERT_CN, KeyAlgorithm::EcdsaP256, now()).expect("o");
        let issuer = Issuer::from_pem(&ca.bundle(), "ca").expect("issuer");
        let leaf = generate_signed("node1.example.com", KeyAlgorithm::EcdsaP256, now(), &issuer)
            .expect("leaf");
        let info = validate_cert_and_key(&leaf.bundle(), "leaf").expect("valid");
        assert_eq!(info.subject_cn.as_deref(), Some("node1.example.com"));
        assert_eq!(info.issuer_cn.as_deref(), Some(X509_CERT_CN));
        assert!(!info.is_ca);
        assert!(cert_is_signed_by(&leaf.bundle(), &ca.bundle()).expect("check"));
        // Same issuer name, different key: must not verify.
        assert!(!cert_is_signed_by(&leaf.bundle(), &other.bundle()).expect("check"));
        // Self-signed leaf check must fail too (issuer name differs).
        assert!(!cert_is_signed_by(&leaf.bundle(), &leaf.bundle()).expect("check"));
    }

    #[test]
    fn serials_are_random_and_positive() {
        let a = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("a");
        let b = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("b");
        let ia = cert_info_from_pem(a.cert_pem().as_bytes(), "a").expect("a");
        let ib = cert_info_from_pem(b.cert_pem().as_bytes(), "b").expect("b");
        assert_ne!(ia.serial, ib.serial);
        assert_eq!(ia.serial.split(':').count(), 16, "{}", ia.serial);
        assert_ne!(ia.sha1_digest, ib.sha1_digest);
    }

    #[test]
    fn common_name_rules() {
        check_common_name("node1.example.com").expect("ok");
        for bad in ["", "a\nb", &"x".repeat(65)] {
            let err = check_common_name(bad).expect_err("bad");
            assert!(
                matches!(err, CryptoError::InvalidCommonName { .. }),
                "{err:?}"
            );
        }
        check_common_name(&"x".repeat(64)).expect("64 is fine");
    }

    #[test]
    fn garbage_and_partial_inputs_are_refused() {
        let g = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("a");
        let other = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("b");

        let err = validate_cert_and_key(b"hello world", "f").expect_err("garbage");
        assert!(err.to_string().contains("no certificate found"), "{err}");

        let err = validate_cert_and_key(g.cert_pem().as_bytes(), "f").expect_err("no key");
        assert!(err.to_string().contains("no private key"), "{err}");

        let err = validate_cert_and_key(g.key_pem.as_bytes(), "f").expect_err("no cert");
        assert!(err.to_string().contains("no certificate"), "{err}");

        let mut mismatched = other.key_pem.clone().into_bytes();
        mismatched.extend_from_slice(g.cert_pem().as_bytes());
        let err = validate_cert_and_key(&mismatched, "f").expect_err("mismatch");
        assert!(matches!(err, CryptoError::KeyMismatch { .. }), "{err:?}");

        let mut two_keys = g.bundle();
        two_keys.extend_from_slice(other.key_pem.as_bytes());
        let err = validate_cert_and_key(&two_keys, "f").expect_err("two keys");
        assert!(err.to_string().contains("more than one"), "{err}");

        let broken = g.cert_pem().replace("\n-----END CERTIFICATE-----", "");
        let err = validate_cert_and_key(broken.as_bytes(), "f").expect_err("broken");
        assert!(err.to_string().contains("malformed PEM"), "{err}");

        let bad_b64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        validate_cert_only(bad_b64.as_bytes(), "f").expect_err("bad base64");

        let not_der = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        let err = validate_cert_only(not_der.as_bytes(), "f").expect_err("not der");
        assert!(
            err.to_string().contains("cannot parse certificate"),
            "{err}"
        );

        let garbage_key = format!(
            "-----BEGIN PRIVATE KEY-----\naGVsbG8=\n-----END PRIVATE KEY-----\n{}",
            g.cert_pem()
        );
        let err = validate_cert_and_key(garbage_key.as_bytes(), "f").expect_err("bad key");
        assert!(
            err.to_string().contains("cannot load the private key"),
            "{err}"
        );

        let err = validate_cert_only(&g.bundle(), "f").expect_err("key in CA file");
        assert!(err.to_string().contains("only a certificate"), "{err}");
        validate_cert_only(g.cert_pem().as_bytes(), "f").expect("cert alone is fine");
    }

    #[test]
    fn errors_do_not_leak_key_material() {
        let g = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("a");
        let other = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("b");
        let key_line = other.key_pem.lines().nth(1).expect("line").to_owned();
        let mut mismatched = other.key_pem.clone().into_bytes();
        mismatched.extend_from_slice(g.cert_pem().as_bytes());
        let err = validate_cert_and_key(&mismatched, "f").expect_err("mismatch");
        assert!(!err.to_string().contains(&key_line));
        assert!(!format!("{err:?}").contains(&key_line));
    }

    #[test]
    fn same_public_key_compares_keys() {
        let a = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("a");
        let b = generate_self_signed("a", KeyAlgorithm::EcdsaP256, now()).expect("b");
        assert!(same_public_key(a.cert_pem().as_bytes(), &a.bundle()).expect("same"));
        assert!(!same_public_key(a.cert_pem().as_bytes(), b.cert_pem().as_bytes()).expect("diff"));
    }

    #[test]
    fn rsa_key_is_2048_bits_and_signs() {
        let g = generate_self_signed(X509_CERT_CN, KeyAlgorithm::Rsa2048, now()).expect("rsa");
        let info = validate_cert_and_key(&g.bundle(), "rsa").expect("valid");
        assert_eq!(info.public_key, PublicKeyKind::Rsa { bits: 2048 });
        assert!(cert_is_signed_by(&g.bundle(), &g.bundle()).expect("check"));
        // Ganeti-era files may hold the key as PKCS#1 ("RSA PRIVATE KEY").
        let pkcs8 = pem_body_der(&g.key_pem);
        let key = <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_der(&pkcs8)
            .expect("decode");
        let pkcs1 = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_pem(&key, rsa::pkcs8::LineEnding::LF)
            .expect("pkcs1");
        let mut legacy = pkcs1.as_bytes().to_vec();
        legacy.extend_from_slice(g.cert_pem().as_bytes());
        validate_cert_and_key(&legacy, "legacy").expect("PKCS#1 key accepted");
        let issuer = Issuer::from_pem(&legacy, "legacy").expect("usable as issuer");
        let leaf = generate_signed("n", KeyAlgorithm::EcdsaP256, now(), &issuer).expect("leaf");
        assert!(cert_is_signed_by(&leaf.bundle(), &legacy).expect("check"));
    }

    fn pem_body_der(pem: &str) -> Vec<u8> {
        let block = Pem::iter_from_buffer(pem.as_bytes())
            .next()
            .expect("block")
            .expect("ok");
        block.contents
    }
}
