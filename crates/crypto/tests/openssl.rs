//! Cross-checks with the `openssl` command line tool: the files we write
//! must be what OpenSSL (and so Ganeti's pyOpenSSL, QEMU's SPICE, curl)
//! reads, and certificates made by OpenSSL the way Ganeti makes them must be
//! usable by us. Skipped, with the reason printed, where `openssl` is not
//! installed.

use std::fs;
use std::path::Path;
use std::process::Command;

use ganeti_crypto::{
    cert_is_signed_by, generate_client_cert, generate_cluster_crypto, validate_cert_and_key,
    CryptoPaths, KeyAlgorithm, PublicKeyKind, RenewSpec,
};

fn openssl_available() -> bool {
    match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => true,
        _ => {
            println!("SKIPPED: the openssl command is not installed");
            false
        }
    }
}

/// Runs openssl, asserting success; returns stdout + stderr.
fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
    text
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The default (RSA 2048) init, read back by OpenSSL.
#[test]
fn openssl_reads_and_verifies_generated_rsa_files() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = CryptoPaths::in_dir(dir.path());
    generate_cluster_crypto(&paths, "master.example.com", &RenewSpec::for_init()).expect("init");

    let text = openssl(&["x509", "-noout", "-text", "-in", s(&paths.server_pem)]);
    assert!(text.contains("Subject: CN = ganeti.example.com"), "{text}");
    assert!(text.contains("Issuer: CN = ganeti.example.com"), "{text}");
    assert!(text.contains("Public-Key: (2048 bit)"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
    assert!(text.contains("CA:TRUE"), "{text}");

    let text = openssl(&["x509", "-noout", "-text", "-in", s(&paths.client_pem)]);
    assert!(text.contains("Subject: CN = master.example.com"), "{text}");
    assert!(text.contains("Issuer: CN = ganeti.example.com"), "{text}");

    // The client certificate chains to the cluster certificate; SPICE's
    // certificate to its CA file.
    let text = openssl(&[
        "verify",
        "-CAfile",
        s(&paths.server_pem),
        s(&paths.client_pem),
    ]);
    assert!(text.contains(": OK"), "{text}");
    let text = openssl(&[
        "verify",
        "-CAfile",
        s(&paths.spice_ca_pem),
        s(&paths.spice_pem),
    ]);
    assert!(text.contains(": OK"), "{text}");

    // A client certificate must NOT verify against an unrelated certificate.
    let out = Command::new("openssl")
        .args([
            "verify",
            "-CAfile",
            s(&paths.rapi_pem),
            s(&paths.client_pem),
        ])
        .output()
        .expect("run");
    assert!(
        !out.status.success(),
        "client.pem must not verify against rapi.pem"
    );

    // In every key+cert file, OpenSSL finds a key matching the certificate.
    for p in [
        &paths.server_pem,
        &paths.client_pem,
        &paths.rapi_pem,
        &paths.spice_pem,
    ] {
        let key_pub = openssl(&["pkey", "-in", s(p), "-pubout"]);
        let cert_pub = openssl(&["x509", "-in", s(p), "-noout", "-pubkey"]);
        assert_eq!(key_pub, cert_pub, "{}", p.display());
        openssl(&["rsa", "-in", s(p), "-check", "-noout"]);
    }
}

/// A cluster certificate made by OpenSSL as Ganeti makes it (RSA 2048,
/// version 1 without extensions, CN ganeti.example.com), with the key in the
/// old PKCS#1 format as well as PKCS#8: we must accept it and sign client
/// certificates that OpenSSL verifies against it.
#[test]
fn ganeti_style_openssl_certificate_can_sign_our_client_cert() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let key8 = d.join("key8.pem");
    let key1 = d.join("key1.pem");
    let csr = d.join("req.csr");
    let cert = d.join("cert.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        s(&key8),
    ]);
    openssl(&["rsa", "-in", s(&key8), "-traditional", "-out", s(&key1)]);
    openssl(&[
        "req",
        "-new",
        "-key",
        s(&key8),
        "-subj",
        "/CN=ganeti.example.com",
        "-out",
        s(&csr),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        s(&csr),
        "-signkey",
        s(&key8),
        "-days",
        "1825",
        "-set_serial",
        "1",
        "-sha256",
        "-out",
        s(&cert),
    ]);
    let cert_pem = fs::read(&cert).expect("cert");

    for (label, key) in [("pkcs8", &key8), ("pkcs1", &key1)] {
        let server = d.join(format!("server-{label}.pem"));
        let mut bundle = fs::read(key).expect("key");
        bundle.extend_from_slice(&cert_pem);
        fs::write(&server, &bundle).expect("write");
        let info = validate_cert_and_key(&bundle, label).expect(label);
        assert_eq!(info.public_key, PublicKeyKind::Rsa { bits: 2048 });

        let client = d.join(format!("client-{label}.pem"));
        generate_client_cert(
            &client,
            &server,
            "node3.example.com",
            KeyAlgorithm::EcdsaP256,
            false,
        )
        .expect("client");
        assert!(cert_is_signed_by(&fs::read(&client).expect("c"), &bundle).expect("check"));
        let text = openssl(&["verify", "-CAfile", s(&cert), s(&client)]);
        assert!(text.contains(": OK"), "{label}: {text}");
    }
}
