//! Whole-set behaviour of `generate_cluster_crypto`: what init creates, what
//! each renewal replaces (byte comparison of every file before and after),
//! and that refused requests leave the directory exactly as it was.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use ganeti_crypto::{
    cert_info, cert_is_signed_by, generate_client_cert, generate_cluster_crypto,
    install_cert_and_key, validate_cert_and_key, verify_cert_file, verify_client_cert_signed,
    CertLevel, CryptoError, CryptoFile, CryptoPaths, KeyAlgorithm, Origin, RenewSpec, X509_CERT_CN,
    X509_CERT_DEFAULT_VALIDITY_DAYS,
};
use time::{Duration, OffsetDateTime};

const HOST: &str = "node1.example.com";
const ALL_NAMES: [&str; 7] = [
    "client.pem",
    "cluster-domain-secret",
    "hmac.key",
    "rapi.pem",
    "server.pem",
    "spice-ca.pem",
    "spice.pem",
];

fn fast(spec: RenewSpec) -> RenewSpec {
    spec.with_key_algorithm(KeyAlgorithm::EcdsaP256)
}

/// Every file in `dir` by name, with its content.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let data = fs::read(e.path()).unwrap_or_default();
            (name, data)
        })
        .collect()
}

fn init(dir: &Path) -> CryptoPaths {
    let paths = CryptoPaths::in_dir(dir);
    generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::for_init())).expect("init");
    paths
}

/// A key+certificate file made by the crate itself, in another directory.
fn foreign_bundle(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let paths = init(dir);
    (
        fs::read(&paths.rapi_pem).expect("rapi"),
        fs::read(&paths.spice_ca_pem).expect("spice ca"),
    )
}

fn pem_blocks(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8(data.to_vec()).expect("utf8");
    text.lines()
        .filter(|l| l.starts_with("-----BEGIN "))
        .map(str::to_owned)
        .collect()
}

fn changed(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    ALL_NAMES
        .iter()
        .filter(|n| before.get(**n) != after.get(**n))
        .map(|n| n.to_string())
        .collect()
}

fn backups(dir: &Path) -> Vec<String> {
    snapshot(dir)
        .into_keys()
        .filter(|n| n.contains(".backup-"))
        .collect()
}

#[test]
fn init_creates_every_file_owner_only_and_well_formed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = CryptoPaths::in_dir(dir.path());
    let report = generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::for_init())).expect("init");

    let names: Vec<String> = snapshot(dir.path()).into_keys().collect();
    assert_eq!(
        names,
        ALL_NAMES.to_vec(),
        "exactly the seven files, no temp or backup"
    );
    for name in ALL_NAMES {
        let meta = fs::metadata(dir.path().join(name)).expect("meta");
        assert_eq!(meta.mode() & 0o7777, 0o600, "{name}");
    }
    for file in [
        CryptoFile::ClusterCert,
        CryptoFile::ClientCert,
        CryptoFile::RapiCert,
        CryptoFile::SpiceCert,
        CryptoFile::SpiceCaCert,
        CryptoFile::HmacKey,
        CryptoFile::ClusterDomainSecret,
    ] {
        assert!(report.wrote(file), "{file:?}");
    }
    assert!(report
        .written
        .iter()
        .all(|w| w.origin == Origin::Generated && w.backup.is_none()));
    assert_eq!(
        report.files_to_copy_to_nodes().len(),
        6,
        "all but client.pem"
    );

    // server.pem: key then certificate, in one file, matching.
    let server = fs::read(&paths.server_pem).expect("server");
    assert_eq!(
        pem_blocks(&server),
        ["-----BEGIN PRIVATE KEY-----", "-----BEGIN CERTIFICATE-----"]
    );
    let info = validate_cert_and_key(&server, "server.pem").expect("valid");
    assert_eq!(info.subject_cn.as_deref(), Some(X509_CERT_CN));
    assert_eq!(info.issuer_cn.as_deref(), Some(X509_CERT_CN));
    assert_eq!(
        info.not_after - info.not_before,
        Duration::days(X509_CERT_DEFAULT_VALIDITY_DAYS)
    );
    let age = OffsetDateTime::now_utc() - info.not_before;
    assert!(age >= Duration::ZERO && age < Duration::minutes(5), "{age}");

    // client.pem: the host's name, signed by server.pem.
    let client = fs::read(&paths.client_pem).expect("client");
    let cinfo = validate_cert_and_key(&client, "client.pem").expect("valid");
    assert_eq!(cinfo.subject_cn.as_deref(), Some(HOST));
    assert_eq!(cinfo.issuer_cn.as_deref(), Some(X509_CERT_CN));
    assert!(cert_is_signed_by(&client, &server).expect("check"));
    assert!(!cinfo.is_ca);

    // rapi.pem and spice.pem: separate self-signed identities.
    let rapi = fs::read(&paths.rapi_pem).expect("rapi");
    let rinfo = validate_cert_and_key(&rapi, "rapi.pem").expect("valid");
    assert_ne!(rinfo.sha256_fingerprint, info.sha256_fingerprint);
    let spice = fs::read(&paths.spice_pem).expect("spice");
    validate_cert_and_key(&spice, "spice.pem").expect("valid");
    // spice-ca.pem is exactly the certificate part of spice.pem.
    let spice_ca = fs::read(&paths.spice_ca_pem).expect("spice ca");
    assert_eq!(pem_blocks(&spice_ca), ["-----BEGIN CERTIFICATE-----"]);
    assert!(String::from_utf8_lossy(&spice).ends_with(&*String::from_utf8_lossy(&spice_ca)));
    assert!(cert_is_signed_by(&spice, &spice_ca).expect("check"));

    // Secrets: 40 lowercase hex digits and a newline.
    for p in [&paths.hmac_key, &paths.cluster_domain_secret] {
        let s = fs::read_to_string(p).expect("secret");
        assert_eq!(s.len(), 41, "{s:?}");
        assert!(s.ends_with('\n'));
        assert!(
            s[..40].chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')),
            "{s:?}"
        );
    }
    assert_ne!(
        fs::read(&paths.hmac_key).expect("h"),
        fs::read(&paths.cluster_domain_secret).expect("c")
    );

    // And cluster verify is happy with them.
    let now = OffsetDateTime::now_utc();
    for p in [
        &paths.server_pem,
        &paths.client_pem,
        &paths.rapi_pem,
        &paths.spice_pem,
    ] {
        let v = verify_cert_file(p, now);
        assert_eq!(v.level, None, "{}", v.message);
        assert!(v.message.contains("expires in about 182"), "{}", v.message);
    }
    assert_eq!(verify_client_cert_signed(&paths.client_pem).level, None);
    assert_eq!(
        verify_client_cert_signed(&paths.server_pem).level,
        Some(CertLevel::Warning),
        "a self-signed certificate must be flagged"
    );
}

#[test]
fn two_clusters_get_different_secrets() {
    let a = tempfile::tempdir().expect("a");
    let b = tempfile::tempdir().expect("b");
    init(a.path());
    init(b.path());
    let sa = snapshot(a.path());
    let sb = snapshot(b.path());
    for name in ALL_NAMES {
        assert_ne!(sa[name], sb[name], "{name} must differ between clusters");
    }
}

#[test]
fn init_keeps_operator_supplied_rapi_cert_and_secret() {
    let other = tempfile::tempdir().expect("other");
    let (rapi, _) = foreign_bundle(other.path());
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = CryptoPaths::in_dir(dir.path());
    fs::write(&paths.rapi_pem, &rapi).expect("write");
    fs::write(&paths.cluster_domain_secret, b"shared-between-clusters\n").expect("write");
    let report = generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::for_init())).expect("init");
    assert!(!report.wrote(CryptoFile::RapiCert));
    assert!(!report.wrote(CryptoFile::ClusterDomainSecret));
    assert_eq!(fs::read(&paths.rapi_pem).expect("rapi"), rapi);
    assert_eq!(
        fs::read(&paths.cluster_domain_secret).expect("cds"),
        b"shared-between-clusters\n"
    );
}

#[test]
fn each_renewal_replaces_only_what_was_asked() {
    type Case = (&'static str, fn(&mut RenewSpec), &'static [&'static str]);
    let cases: [Case; 6] = [
        ("hmac", |s| s.hmac_key = true, &["hmac.key"]),
        (
            "cds",
            |s| s.cluster_domain_secret = true,
            &["cluster-domain-secret"],
        ),
        ("rapi", |s| s.rapi_cert = true, &["rapi.pem"]),
        (
            "spice",
            |s| s.spice_cert = true,
            &["spice-ca.pem", "spice.pem"],
        ),
        ("client", |s| s.client_cert = true, &["client.pem"]),
        (
            "cluster",
            |s| s.cluster_cert = true,
            &["client.pem", "server.pem"],
        ),
    ];
    for (label, set, expected) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = init(dir.path());
        let before = snapshot(dir.path());
        let mut spec = fast(RenewSpec::default());
        set(&mut spec);
        let report = generate_cluster_crypto(&paths, HOST, &spec).expect(label);
        let after = snapshot(dir.path());
        assert_eq!(changed(&before, &after), expected.to_vec(), "{label}");
        assert_eq!(report.written.len(), expected.len(), "{label}");

        // Each replaced file was backed up with its old content, 0600.
        let bks = backups(dir.path());
        assert_eq!(bks.len(), expected.len(), "{label}: {bks:?}");
        for w in &report.written {
            let b = w.backup.as_ref().expect("backup");
            let name = w
                .path
                .file_name()
                .expect("n")
                .to_string_lossy()
                .into_owned();
            assert_eq!(fs::read(b).expect("backup"), before[&name], "{label}");
            assert_eq!(fs::metadata(b).expect("m").mode() & 0o777, 0o600);
        }

        // The client certificate always chains to the current server.pem.
        let server = fs::read(&paths.server_pem).expect("server");
        let client = fs::read(&paths.client_pem).expect("client");
        assert!(
            cert_is_signed_by(&client, &server).expect("check"),
            "{label}"
        );
        if label == "cluster" {
            assert!(
                !cert_is_signed_by(&client, &before["server.pem"]).expect("check"),
                "new client cert must not verify against the old cluster cert"
            );
        }
    }
}

#[test]
fn renew_without_backups_leaves_no_extra_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = init(dir.path());
    let mut spec = fast(RenewSpec::renew_all());
    spec.backup = false;
    let report = generate_cluster_crypto(&paths, HOST, &spec).expect("renew");
    assert_eq!(report.written.len(), 7);
    assert!(backups(dir.path()).is_empty());
    assert_eq!(snapshot(dir.path()).len(), 7);
}

#[test]
fn missing_files_are_recreated_without_being_asked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = init(dir.path());
    fs::remove_file(&paths.hmac_key).expect("rm");
    fs::remove_file(&paths.spice_pem).expect("rm");
    let before = snapshot(dir.path());
    let report =
        generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::default())).expect("fill gaps");
    let after = snapshot(dir.path());
    assert_eq!(
        changed(&before, &after),
        ["hmac.key", "spice-ca.pem", "spice.pem"]
    );
    assert!(report.wrote(CryptoFile::HmacKey) && report.wrote(CryptoFile::SpiceCaCert));

    // A missing client.pem is re-made and signed by the existing server.pem.
    fs::remove_file(&paths.client_pem).expect("rm");
    let report =
        generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::default())).expect("client");
    assert_eq!(report.written.len(), 1);
    let server = fs::read(&paths.server_pem).expect("server");
    assert_eq!(server, after["server.pem"]);
    assert!(cert_is_signed_by(&fs::read(&paths.client_pem).expect("c"), &server).expect("v"));

    // Nothing missing, nothing asked: nothing written.
    let report = generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::default())).expect("noop");
    assert!(report.written.is_empty());
}

#[test]
fn supplied_rapi_certificate_is_installed_verbatim() {
    let other = tempfile::tempdir().expect("other");
    let (bundle, _) = foreign_bundle(other.path());
    let src = other.path().join("my-rapi.pem");
    // Operators' files may carry text around the PEM blocks; it is kept.
    let mut supplied = b"# my RAPI certificate\n".to_vec();
    supplied.extend_from_slice(&bundle);
    fs::write(&src, &supplied).expect("write");

    let dir = tempfile::tempdir().expect("tempdir");
    let paths = init(dir.path());
    let before = snapshot(dir.path());
    let spec = RenewSpec {
        rapi_cert_file: Some(src),
        ..fast(RenewSpec::default())
    };
    let report = generate_cluster_crypto(&paths, HOST, &spec).expect("install");
    assert_eq!(changed(&before, &snapshot(dir.path())), ["rapi.pem"]);
    assert_eq!(report.written[0].origin, Origin::Supplied);
    assert_eq!(fs::read(&paths.rapi_pem).expect("rapi"), supplied);
    assert_eq!(
        fs::metadata(&paths.rapi_pem).expect("m").mode() & 0o777,
        0o600
    );
}

#[test]
fn bad_supplied_files_are_refused_and_nothing_changes() {
    let other = tempfile::tempdir().expect("other");
    let (bundle, cert_only) = foreign_bundle(other.path());
    let third = tempfile::tempdir().expect("third");
    let (other_bundle, _) = foreign_bundle(third.path());
    let text = String::from_utf8(bundle.clone()).expect("utf8");
    let other_text = String::from_utf8(other_bundle).expect("utf8");
    let key_of = |t: &str| {
        let end = t.find("-----BEGIN CERTIFICATE-----").expect("cert");
        t[..end].to_owned()
    };
    let cert_of = |t: &str| {
        let start = t.find("-----BEGIN CERTIFICATE-----").expect("cert");
        t[start..].to_owned()
    };
    let mismatched = format!("{}{}", key_of(&other_text), cert_of(&text));
    let key_only = key_of(&text);

    let files = other.path().join("inputs");
    fs::create_dir(&files).expect("mkdir");
    let write = |name: &str, data: &[u8]| {
        let p = files.join(name);
        fs::write(&p, data).expect("write");
        p
    };
    let garbage = write("garbage.pem", b"this is not a certificate\n");
    let no_key = write("cert-only.pem", &cert_only);
    let bad_key = write("mismatched.pem", mismatched.as_bytes());
    let no_cert = write("key-only.pem", key_only.as_bytes());
    let good = write("good.pem", &bundle);
    let good_ca = write("good-ca.pem", &cert_only);
    let empty_cds = write("empty-cds", b"\n");
    let missing = files.join("does-not-exist.pem");

    let dir = tempfile::tempdir().expect("tempdir");
    let paths = init(dir.path());
    let before = snapshot(dir.path());

    let rapi = |p: &Path| RenewSpec {
        rapi_cert_file: Some(p.to_path_buf()),
        // Also ask for other renewals: they must not happen either.
        hmac_key: true,
        cluster_cert: true,
        ..fast(RenewSpec::default())
    };
    let spice = |c: &Path, ca: &Path| RenewSpec {
        spice_cert_file: Some(c.to_path_buf()),
        spice_ca_file: Some(ca.to_path_buf()),
        hmac_key: true,
        ..fast(RenewSpec::default())
    };
    let cases: Vec<(&str, RenewSpec, &str)> = vec![
        ("garbage", rapi(&garbage), "no certificate found"),
        ("cert without key", rapi(&no_key), "no private key found"),
        ("key without cert", rapi(&no_cert), "no certificate found"),
        (
            "mismatched key",
            rapi(&bad_key),
            "does not match the private key",
        ),
        ("missing file", rapi(&missing), "cannot read"),
        (
            "spice cert without key",
            spice(&no_key, &good_ca),
            "no private key found",
        ),
        (
            "spice CA with a key",
            spice(&good, &good),
            "only a certificate",
        ),
        (
            "spice garbage CA",
            spice(&good, &garbage),
            "no certificate found",
        ),
        (
            "empty cds",
            RenewSpec {
                cds_file: Some(empty_cds.clone()),
                ..fast(RenewSpec::default())
            },
            "empty",
        ),
        (
            "rapi new and file",
            RenewSpec {
                rapi_cert: true,
                ..rapi(&good)
            },
            "only one of",
        ),
        (
            "cds new and file",
            RenewSpec {
                cluster_domain_secret: true,
                cds_file: Some(good.clone()),
                ..fast(RenewSpec::default())
            },
            "only one of",
        ),
        (
            "spice new and files",
            RenewSpec {
                spice_cert: true,
                ..spice(&good, &good_ca)
            },
            "cannot be combined",
        ),
        (
            "spice cert without CA",
            RenewSpec {
                spice_cert_file: Some(good.clone()),
                ..fast(RenewSpec::default())
            },
            "must be given",
        ),
    ];
    for (label, spec, expected) in cases {
        let err = generate_cluster_crypto(&paths, HOST, &spec).expect_err(label);
        let msg = err.to_string();
        assert!(msg.contains(expected), "{label}: {msg}");
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{label}: directory must be untouched"
        );
        // No key material in the message.
        for line in key_only.lines().skip(1).take(2) {
            assert!(!msg.contains(line), "{label}: key material in error");
        }
    }
}

#[test]
fn supplied_spice_and_cds_files_are_installed() {
    let other = tempfile::tempdir().expect("other");
    let (bundle, ca) = foreign_bundle(other.path());
    let cert_file = other.path().join("s.pem");
    let ca_file = other.path().join("s-ca.pem");
    let cds_file = other.path().join("cds");
    fs::write(&cert_file, &bundle).expect("w");
    fs::write(&ca_file, &ca).expect("w");
    fs::write(&cds_file, b"0123456789abcdef\n").expect("w");

    let dir = tempfile::tempdir().expect("tempdir");
    let paths = init(dir.path());
    let before = snapshot(dir.path());
    let spec = RenewSpec {
        spice_cert_file: Some(cert_file),
        spice_ca_file: Some(ca_file),
        cds_file: Some(cds_file),
        ..fast(RenewSpec::default())
    };
    generate_cluster_crypto(&paths, HOST, &spec).expect("install");
    let after = snapshot(dir.path());
    assert_eq!(
        changed(&before, &after),
        ["cluster-domain-secret", "spice-ca.pem", "spice.pem"]
    );
    assert_eq!(after["spice.pem"], bundle);
    assert_eq!(after["spice-ca.pem"], ca);
    assert_eq!(after["cluster-domain-secret"], b"0123456789abcdef\n");
}

#[test]
fn bad_hostname_is_refused_before_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = CryptoPaths::in_dir(dir.path());
    let long = "n".repeat(65);
    for bad in ["", long.as_str(), "evil\nname"] {
        let err = generate_cluster_crypto(&paths, bad, &fast(RenewSpec::for_init()))
            .expect_err("bad hostname");
        assert!(
            matches!(err, CryptoError::InvalidCommonName { .. }),
            "{err:?}"
        );
        assert!(snapshot(dir.path()).is_empty());
    }
}

#[test]
fn missing_or_non_directory_target_gives_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = CryptoPaths::in_dir(&dir.path().join("no-such-dir"));
    let err = generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::for_init()))
        .expect_err("missing dir");
    let msg = err.to_string();
    assert!(
        msg.contains("in directory") && msg.contains("no-such-dir"),
        "{msg}"
    );

    let file = dir.path().join("plain-file");
    fs::write(&file, b"x").expect("w");
    let paths = CryptoPaths::in_dir(&file);
    let err = generate_cluster_crypto(&paths, HOST, &fast(RenewSpec::for_init()))
        .expect_err("file as dir");
    assert!(err.to_string().contains("plain-file"), "{err}");
}

/// Undoes `chattr +i` even if the test fails, so the temp dir can be removed.
struct ImmutableGuard<'a>(&'a Path);

impl Drop for ImmutableGuard<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(self.0)
            .status();
    }
}

fn can_create_in(dir: &Path) -> bool {
    let probe = dir.join("probe");
    let ok = fs::write(&probe, b"x").is_ok();
    let _ = fs::remove_file(&probe);
    ok
}

#[test]
fn unwritable_directory_gives_clear_error_and_keeps_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = init(dir.path());
    let before = snapshot(dir.path());

    // A non-root user is stopped by the mode; root ignores it, but not the
    // immutable attribute (where the file system and privileges allow it).
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).expect("chmod");
    let mut _guard = None;
    if can_create_in(dir.path()) {
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
        let made_immutable = std::process::Command::new("chattr")
            .arg("+i")
            .arg(dir.path())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if made_immutable {
            _guard = Some(ImmutableGuard(dir.path()));
        }
        if !made_immutable || can_create_in(dir.path()) {
            println!(
                "SKIPPED unwritable_directory_gives_clear_error_and_keeps_files: cannot make \
                 a directory unwritable for this user (root without chattr +i support)"
            );
            return;
        }
    }

    let mut spec = fast(RenewSpec::default());
    spec.hmac_key = true;
    let result = generate_cluster_crypto(&paths, HOST, &spec);
    drop(_guard);
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
    let msg = result.expect_err("unwritable dir").to_string();
    println!("error shown to the operator: {msg}");
    assert!(
        msg.contains("Permission denied") || msg.contains("Operation not permitted"),
        "{msg}"
    );
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn unusable_server_pem_stops_client_renewal_before_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = init(dir.path());
    // Replace server.pem with a certificate lacking its key.
    let spice_ca = fs::read(&paths.spice_ca_pem).expect("ca");
    fs::write(&paths.server_pem, &spice_ca).expect("w");
    let before = snapshot(dir.path());
    let spec = RenewSpec {
        client_cert: true,
        hmac_key: true,
        ..fast(RenewSpec::default())
    };
    let err = generate_cluster_crypto(&paths, HOST, &spec).expect_err("no key");
    assert!(err.to_string().contains("server.pem"), "{err}");
    assert!(err.to_string().contains("no private key"), "{err}");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn node_client_certificate_and_server_install() {
    // The master's files...
    let master = tempfile::tempdir().expect("master");
    let mpaths = init(master.path());
    let server = fs::read(&mpaths.server_pem).expect("server");
    // ...and a joining node that receives server.pem and makes its own
    // client certificate.
    let node = tempfile::tempdir().expect("node");
    let npaths = CryptoPaths::in_dir(node.path());
    let info = install_cert_and_key(&npaths.server_pem, &server, "master").expect("install");
    assert_eq!(info.subject_cn.as_deref(), Some(X509_CERT_CN));
    assert_eq!(fs::read(&npaths.server_pem).expect("read"), server);
    assert_eq!(
        fs::metadata(&npaths.server_pem).expect("m").mode() & 0o777,
        0o600
    );

    let w = generate_client_cert(
        &npaths.client_pem,
        &npaths.server_pem,
        "node2.example.com",
        KeyAlgorithm::EcdsaP256,
        true,
    )
    .expect("client");
    assert_eq!(w.file, CryptoFile::ClientCert);
    assert_eq!(w.backup, None);
    let client = fs::read(&npaths.client_pem).expect("client");
    assert!(cert_is_signed_by(&client, &server).expect("check"));
    let cinfo = cert_info(&npaths.client_pem).expect("info");
    assert_eq!(cinfo.subject_cn.as_deref(), Some("node2.example.com"));
    assert!(cinfo.has_private_key);
    // Each node's digest differs (the configuration maps node UUID -> it).
    let master_digest = cert_info(&mpaths.client_pem).expect("m").sha1_digest;
    assert_ne!(master_digest, cinfo.sha1_digest);

    // Installing a bad bundle fails and leaves the old file.
    let err = install_cert_and_key(&npaths.server_pem, b"junk", "master").expect_err("junk");
    assert!(err.to_string().contains("master"), "{err}");
    assert_eq!(fs::read(&npaths.server_pem).expect("read"), server);

    // Without a server.pem there is nothing to sign with.
    let lonely = tempfile::tempdir().expect("lonely");
    let err = generate_client_cert(
        &lonely.path().join("client.pem"),
        &lonely.path().join("server.pem"),
        "n",
        KeyAlgorithm::EcdsaP256,
        true,
    )
    .expect_err("no server.pem");
    assert!(err.to_string().contains("server.pem"), "{err}");
    assert!(snapshot(lonely.path()).is_empty());
}
