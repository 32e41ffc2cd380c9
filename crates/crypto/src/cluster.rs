//! Creating and renewing the whole set of cluster secrets at once
//! (`gnt-cluster init` and `gnt-cluster renew-crypto`).
//!
//! The rules mirror Ganeti's `GenerateClusterCrypto`:
//!
//! * every file is (re)created when asked for **or when it is missing**, so
//!   `init` only has to ask for a new cluster certificate, and an operator
//!   can put their own `rapi.pem` in place before `init` and keep it;
//! * a new cluster certificate always brings a new client certificate
//!   signed by it (the old one would no longer chain);
//! * a new SPICE certificate is self-signed and doubles as its own CA file;
//! * operator-supplied files (RAPI/SPICE certificate, cluster domain secret)
//!   replace the generated ones; they are validated first.
//!
//! Two things are stricter than Ganeti: the whole request is checked before
//! anything is written (contradictory options, every supplied file parsed
//! and its key matched against its certificate, the existing `server.pem`
//! loaded if it has to sign), so a refused request leaves every file as it
//! was; and all files are written owner-only (`0600`) through the atomic
//! writer of [`crate::fsutil`]. As in Ganeti, the replaced files are kept as
//! `NAME.backup-TIMESTAMP.RANDOM` unless [`RenewSpec::backup`] is off.
//!
//! Ownership (Ganeti gives some files to its daemon groups) is the caller's
//! business: this crate writes as the running user.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::fsutil::{create_backup, exists, read_file, write_secret_file};
use crate::secret::{generate_secret_file_contents, validate_user_secret};
use crate::x509::{
    check_common_name, generate_self_signed, generate_signed, validate_cert_and_key,
    validate_cert_only, CertInfo, Generated, Issuer, KeyAlgorithm, X509_CERT_CN,
};
use crate::CryptoError;

/// File names Ganeti uses in its data directory (`pathutils`).
pub mod file_names {
    /// Cluster (node daemon) certificate and key.
    pub const SERVER_PEM: &str = "server.pem";
    /// This node's client certificate, signed by the cluster certificate.
    pub const CLIENT_PEM: &str = "client.pem";
    /// RAPI daemon certificate and key.
    pub const RAPI_PEM: &str = "rapi.pem";
    /// SPICE certificate and key.
    pub const SPICE_PEM: &str = "spice.pem";
    /// Certificate of the CA that signed `spice.pem`.
    pub const SPICE_CA_PEM: &str = "spice-ca.pem";
    /// confd HMAC key.
    pub const HMAC_KEY: &str = "hmac.key";
    /// Secret shared by clusters that exchange instances.
    pub const CLUSTER_DOMAIN_SECRET: &str = "cluster-domain-secret";
}

/// Where each secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoPaths {
    pub server_pem: PathBuf,
    pub client_pem: PathBuf,
    pub rapi_pem: PathBuf,
    pub spice_pem: PathBuf,
    pub spice_ca_pem: PathBuf,
    pub hmac_key: PathBuf,
    pub cluster_domain_secret: PathBuf,
}

impl CryptoPaths {
    /// All files under one directory with Ganeti's names (Ganeti keeps them
    /// all in its data directory, `/var/lib/ganeti`).
    pub fn in_dir(data_dir: &Path) -> Self {
        use file_names::*;
        CryptoPaths {
            server_pem: data_dir.join(SERVER_PEM),
            client_pem: data_dir.join(CLIENT_PEM),
            rapi_pem: data_dir.join(RAPI_PEM),
            spice_pem: data_dir.join(SPICE_PEM),
            spice_ca_pem: data_dir.join(SPICE_CA_PEM),
            hmac_key: data_dir.join(HMAC_KEY),
            cluster_domain_secret: data_dir.join(CLUSTER_DOMAIN_SECRET),
        }
    }

    /// The path of one file.
    pub fn path(&self, file: CryptoFile) -> &Path {
        match file {
            CryptoFile::ClusterCert => &self.server_pem,
            CryptoFile::ClientCert => &self.client_pem,
            CryptoFile::RapiCert => &self.rapi_pem,
            CryptoFile::SpiceCert => &self.spice_pem,
            CryptoFile::SpiceCaCert => &self.spice_ca_pem,
            CryptoFile::HmacKey => &self.hmac_key,
            CryptoFile::ClusterDomainSecret => &self.cluster_domain_secret,
        }
    }
}

/// What to renew. Anything not asked for is still created if missing.
///
/// [`RenewSpec::default`] renews nothing (it only fills gaps), makes RSA
/// keys and keeps backups. The flags are `gnt-cluster renew-crypto`'s:
/// `--new-cluster-certificate`, `--new-node-certificates`,
/// `--new-rapi-certificate`/`--rapi-certificate FILE`,
/// `--new-spice-certificate`/`--spice-certificate FILE
/// --spice-ca-certificate FILE`, `--new-confd-hmac-key`,
/// `--new-cluster-domain-secret`/`--cluster-domain-secret FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewSpec {
    /// New `server.pem` (implies a new `client.pem`).
    pub cluster_cert: bool,
    /// New `client.pem`, signed by the existing `server.pem`.
    pub client_cert: bool,
    pub rapi_cert: bool,
    pub spice_cert: bool,
    pub hmac_key: bool,
    pub cluster_domain_secret: bool,
    /// Install this key+certificate PEM file as `rapi.pem`.
    pub rapi_cert_file: Option<PathBuf>,
    /// Install this key+certificate PEM file as `spice.pem` (needs
    /// `spice_ca_file`).
    pub spice_cert_file: Option<PathBuf>,
    /// Install this certificate as `spice-ca.pem` (needs `spice_cert_file`).
    pub spice_ca_file: Option<PathBuf>,
    /// Install this file's content as the cluster domain secret.
    pub cds_file: Option<PathBuf>,
    /// Key type for newly generated certificates.
    pub key_algorithm: KeyAlgorithm,
    /// Keep a `NAME.backup-...` copy of each file that is replaced.
    pub backup: bool,
}

impl Default for RenewSpec {
    fn default() -> Self {
        RenewSpec {
            cluster_cert: false,
            client_cert: false,
            rapi_cert: false,
            spice_cert: false,
            hmac_key: false,
            cluster_domain_secret: false,
            rapi_cert_file: None,
            spice_cert_file: None,
            spice_ca_file: None,
            cds_file: None,
            key_algorithm: KeyAlgorithm::default(),
            backup: true,
        }
    }
}

impl RenewSpec {
    /// What `gnt-cluster init` does: a new cluster certificate (and so a new
    /// client certificate); every other file is created only if missing, so
    /// a `rapi.pem` or cluster domain secret put in place beforehand stays.
    pub fn for_init() -> Self {
        RenewSpec {
            cluster_cert: true,
            ..RenewSpec::default()
        }
    }

    /// Renew every generated secret.
    pub fn renew_all() -> Self {
        RenewSpec {
            cluster_cert: true,
            client_cert: true,
            rapi_cert: true,
            spice_cert: true,
            hmac_key: true,
            cluster_domain_secret: true,
            ..RenewSpec::default()
        }
    }

    /// The same request with another key algorithm.
    pub fn with_key_algorithm(mut self, alg: KeyAlgorithm) -> Self {
        self.key_algorithm = alg;
        self
    }
}

/// One of the cluster's secret files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoFile {
    ClusterCert,
    ClientCert,
    RapiCert,
    SpiceCert,
    SpiceCaCert,
    HmacKey,
    ClusterDomainSecret,
}

/// Where the new content of a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Made by this crate.
    Generated,
    /// Copied from a file the operator supplied.
    Supplied,
}

/// One file that was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub file: CryptoFile,
    pub path: PathBuf,
    pub origin: Origin,
    /// The copy of the previous content, if there was one and backups are on.
    pub backup: Option<PathBuf>,
}

/// What [`generate_cluster_crypto`] did, in the order it did it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratedReport {
    pub written: Vec<WrittenFile>,
}

impl GeneratedReport {
    /// Whether `file` was written.
    pub fn wrote(&self, file: CryptoFile) -> bool {
        self.written.iter().any(|w| w.file == file)
    }

    /// The written files that every other node needs a copy of: all but
    /// `client.pem`, which each node makes for itself.
    pub fn files_to_copy_to_nodes(&self) -> Vec<&Path> {
        self.written
            .iter()
            .filter(|w| w.file != CryptoFile::ClientCert)
            .map(|w| w.path.as_path())
            .collect()
    }
}

/// Creates or renews the cluster's certificates, keys and secrets.
///
/// `hostname` is this (the master) node's name; it becomes the common name
/// of its client certificate, as in Ganeti. (The node's UUID is not part of
/// any certificate: the configuration maps node UUIDs to client certificate
/// digests, see [`CertInfo::sha1_digest`].)
///
/// The request is validated completely before the first write; on error
/// nothing has been changed. A failure *while writing* (disk full, ...)
/// leaves the files written so far in place — each file is atomic, the set
/// is not — and the error says which file failed.
pub fn generate_cluster_crypto(
    paths: &CryptoPaths,
    hostname: &str,
    spec: &RenewSpec,
) -> Result<GeneratedReport, CryptoError> {
    let plan = plan(paths, hostname, spec)?;
    apply(paths, hostname, spec, plan)
}

/// Makes a new client certificate for this node at `client_pem`, signed by
/// the cluster certificate in `server_pem` (what a node does when it joins
/// and on `renew-crypto --new-node-certificates`).
pub fn generate_client_cert(
    client_pem: &Path,
    server_pem: &Path,
    hostname: &str,
    key_algorithm: KeyAlgorithm,
    backup: bool,
) -> Result<WrittenFile, CryptoError> {
    check_common_name(hostname)?;
    let issuer = load_issuer(server_pem)?;
    let generated = generate_signed(hostname, key_algorithm, now(), &issuer)?;
    write_one(
        CryptoFile::ClientCert,
        client_pem,
        &generated.bundle(),
        Origin::Generated,
        backup,
    )
}

/// Validates `pem` (key + matching certificate) and writes it to `target`
/// atomically with mode `0600`; e.g. the cluster certificate a new node
/// receives from the master. `origin` names the data in errors.
pub fn install_cert_and_key(
    target: &Path,
    pem: &[u8],
    origin: &str,
) -> Result<CertInfo, CryptoError> {
    let info = validate_cert_and_key(pem, origin)?;
    write_secret_file(target, pem)?;
    Ok(info)
}

/// Every decision and every input, settled before anything is written.
#[derive(Debug)]
struct Plan {
    server: bool,
    /// `Some` when a client certificate is made; the issuer is loaded from
    /// the existing `server.pem` unless a new one is made first.
    client: Option<Option<Issuer>>,
    hmac: bool,
    rapi: Source,
    spice: SpiceSource,
    cds: Source,
}

enum Source {
    Keep,
    Generate,
    Supplied(Vec<u8>),
}

enum SpiceSource {
    Keep,
    Generate,
    Supplied { cert: Vec<u8>, ca: Vec<u8> },
}

// Hand-written so that supplied key material can never end up in a log.
impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Keep => f.write_str("Keep"),
            Source::Generate => f.write_str("Generate"),
            Source::Supplied(_) => f.write_str("Supplied(<redacted>)"),
        }
    }
}

impl std::fmt::Debug for SpiceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpiceSource::Keep => f.write_str("Keep"),
            SpiceSource::Generate => f.write_str("Generate"),
            SpiceSource::Supplied { .. } => f.write_str("Supplied { <redacted> }"),
        }
    }
}

fn plan(paths: &CryptoPaths, hostname: &str, spec: &RenewSpec) -> Result<Plan, CryptoError> {
    if spec.rapi_cert && spec.rapi_cert_file.is_some() {
        return Err(CryptoError::InvalidRequest(
            "only one of a new RAPI certificate and a RAPI certificate file can be given",
        ));
    }
    if spec.cluster_domain_secret && spec.cds_file.is_some() {
        return Err(CryptoError::InvalidRequest(
            "only one of a new cluster domain secret and a cluster domain secret file can be given",
        ));
    }
    if spec.spice_cert && (spec.spice_cert_file.is_some() || spec.spice_ca_file.is_some()) {
        return Err(CryptoError::InvalidRequest(
            "a new SPICE certificate cannot be combined with SPICE certificate files",
        ));
    }
    if spec.spice_cert_file.is_some() != spec.spice_ca_file.is_some() {
        return Err(CryptoError::InvalidRequest(
            "both the SPICE certificate and the SPICE CA certificate files must be given",
        ));
    }

    let rapi = match &spec.rapi_cert_file {
        Some(file) => {
            let data = read_file(file)?;
            validate_cert_and_key(&data, &file.display().to_string())?;
            Source::Supplied(data)
        }
        None if spec.rapi_cert || !exists(&paths.rapi_pem)? => Source::Generate,
        None => Source::Keep,
    };

    let spice = match (&spec.spice_cert_file, &spec.spice_ca_file) {
        (Some(cert_file), Some(ca_file)) => {
            let cert = read_file(cert_file)?;
            validate_cert_and_key(&cert, &cert_file.display().to_string())?;
            let ca = read_file(ca_file)?;
            validate_cert_only(&ca, &ca_file.display().to_string())?;
            SpiceSource::Supplied { cert, ca }
        }
        _ if spec.spice_cert || !exists(&paths.spice_pem)? => SpiceSource::Generate,
        _ => SpiceSource::Keep,
    };

    let cds = match &spec.cds_file {
        Some(file) => {
            let data = read_file(file)?;
            validate_user_secret(&data, &file.display().to_string())?;
            Source::Supplied(data)
        }
        None if spec.cluster_domain_secret || !exists(&paths.cluster_domain_secret)? => {
            Source::Generate
        }
        None => Source::Keep,
    };

    let server = spec.cluster_cert || !exists(&paths.server_pem)?;
    let want_client = server || spec.client_cert || !exists(&paths.client_pem)?;
    let client = if want_client {
        check_common_name(hostname)?;
        if server {
            Some(None)
        } else {
            Some(Some(load_issuer(&paths.server_pem)?))
        }
    } else {
        None
    };
    let hmac = spec.hmac_key || !exists(&paths.hmac_key)?;

    Ok(Plan {
        server,
        client,
        hmac,
        rapi,
        spice,
        cds,
    })
}

fn apply(
    paths: &CryptoPaths,
    hostname: &str,
    spec: &RenewSpec,
    plan: Plan,
) -> Result<GeneratedReport, CryptoError> {
    let mut report = GeneratedReport::default();
    let alg = spec.key_algorithm;
    let now = now();
    let mut write = |file: CryptoFile, data: &[u8], origin: Origin| -> Result<(), CryptoError> {
        let written = write_one(file, paths.path(file), data, origin, spec.backup)?;
        report.written.push(written);
        Ok(())
    };

    let mut new_server: Option<Generated> = None;
    if plan.server {
        tracing::info!(path = %paths.server_pem.display(), "generating new cluster certificate");
        let generated = generate_self_signed(X509_CERT_CN, alg, now)?;
        write(
            CryptoFile::ClusterCert,
            &generated.bundle(),
            Origin::Generated,
        )?;
        new_server = Some(generated);
    }

    if let Some(loaded_issuer) = plan.client {
        let issuer = match (loaded_issuer, &new_server) {
            (Some(issuer), _) => issuer,
            (None, Some(generated)) => {
                Issuer::from_pem(&generated.bundle(), &paths.server_pem.display().to_string())?
            }
            (None, None) => load_issuer(&paths.server_pem)?,
        };
        tracing::info!(path = %paths.client_pem.display(), "generating new client certificate");
        let generated = generate_signed(hostname, alg, now, &issuer)?;
        write(
            CryptoFile::ClientCert,
            &generated.bundle(),
            Origin::Generated,
        )?;
    }

    if plan.hmac {
        tracing::info!(path = %paths.hmac_key.display(), "writing new confd HMAC key");
        write(
            CryptoFile::HmacKey,
            &generate_secret_file_contents(),
            Origin::Generated,
        )?;
    }

    match plan.rapi {
        Source::Keep => {}
        Source::Generate => {
            tracing::info!(path = %paths.rapi_pem.display(), "generating new RAPI certificate");
            let generated = generate_self_signed(X509_CERT_CN, alg, now)?;
            write(CryptoFile::RapiCert, &generated.bundle(), Origin::Generated)?;
        }
        Source::Supplied(data) => {
            tracing::info!(path = %paths.rapi_pem.display(), "installing supplied RAPI certificate");
            write(CryptoFile::RapiCert, &data, Origin::Supplied)?;
        }
    }

    match plan.spice {
        SpiceSource::Keep => {}
        SpiceSource::Generate => {
            tracing::info!(path = %paths.spice_pem.display(), "generating new self-signed SPICE certificate");
            let generated = generate_self_signed(X509_CERT_CN, alg, now)?;
            write(
                CryptoFile::SpiceCert,
                &generated.bundle(),
                Origin::Generated,
            )?;
            // Self-signed: the certificate is its own CA certificate.
            write(
                CryptoFile::SpiceCaCert,
                generated.cert_pem().as_bytes(),
                Origin::Generated,
            )?;
        }
        SpiceSource::Supplied { cert, ca } => {
            tracing::info!(path = %paths.spice_pem.display(), "installing supplied SPICE certificates");
            write(CryptoFile::SpiceCert, &cert, Origin::Supplied)?;
            write(CryptoFile::SpiceCaCert, &ca, Origin::Supplied)?;
        }
    }

    match plan.cds {
        Source::Keep => {}
        Source::Generate => {
            tracing::info!(path = %paths.cluster_domain_secret.display(), "generating new cluster domain secret");
            write(
                CryptoFile::ClusterDomainSecret,
                &generate_secret_file_contents(),
                Origin::Generated,
            )?;
        }
        Source::Supplied(data) => {
            tracing::info!(path = %paths.cluster_domain_secret.display(), "installing supplied cluster domain secret");
            write(CryptoFile::ClusterDomainSecret, &data, Origin::Supplied)?;
        }
    }

    Ok(report)
}

fn load_issuer(server_pem: &Path) -> Result<Issuer, CryptoError> {
    let data = read_file(server_pem)?;
    Issuer::from_pem(&data, &server_pem.display().to_string())
}

fn write_one(
    file: CryptoFile,
    path: &Path,
    data: &[u8],
    origin: Origin,
    backup: bool,
) -> Result<WrittenFile, CryptoError> {
    let backup = if backup { create_backup(path)? } else { None };
    write_secret_file(path, data)?;
    Ok(WrittenFile {
        file,
        path: path.to_path_buf(),
        origin,
        backup,
    })
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
