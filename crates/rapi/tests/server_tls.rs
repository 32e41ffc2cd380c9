//! The RAPI certificate: served from `rapi.pem`, replaced without a
//! restart when the file is renewed, kept when the new file is broken.

mod server_support;

use std::time::{Duration, Instant};

use server_support::*;

/// Connect until the presented certificate is `want` (the server looks at
/// the file at most once per check interval).
async fn wait_for_cert(s: &TestServer, want: &[u8]) -> Conn {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let c = s.connect().await;
        if c.server_cert.as_deref() == Some(want) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was never presented"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn serves_the_certificate_of_rapi_pem() {
    let s = TestServer::start().await;
    let c = s.connect().await;
    assert_eq!(c.server_cert.as_deref(), Some(s.cert_der.as_slice()));
}

#[tokio::test]
async fn a_renewed_certificate_is_used_without_restart() {
    let s = TestServer::start_with(|c| c.cert_check_interval = Duration::from_millis(100)).await;
    // A connection opened before the renewal keeps working afterwards.
    let mut old = s.connect().await;
    assert_eq!(old.server_cert.as_deref(), Some(s.cert_der.as_slice()));

    let (pem, der) = self_signed();
    let tmp = s.dir.path().join("rapi.pem.new");
    std::fs::write(&tmp, pem).unwrap();
    std::fs::rename(&tmp, &s.cert_path).unwrap();

    let mut new = wait_for_cert(&s, &der).await;
    new.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(new.response().await.status, 200);
    old.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(old.response().await.status, 200);

    // Rewritten in place (not renamed) works as well.
    let (pem2, der2) = self_signed();
    std::fs::write(&s.cert_path, pem2).unwrap();
    wait_for_cert(&s, &der2).await;
}

#[tokio::test]
async fn a_broken_renewal_keeps_the_working_certificate() {
    let s = TestServer::start_with(|c| c.cert_check_interval = Duration::from_millis(50)).await;
    std::fs::write(&s.cert_path, "-----BEGIN CERTIFICATE-----\ntruncated").unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..3 {
        let mut c = s.connect().await;
        assert_eq!(c.server_cert.as_deref(), Some(s.cert_der.as_slice()));
        c.send(get("/2/info", None).as_bytes()).await;
        assert_eq!(c.response().await.status, 200);
    }
    // Once fixed, the new one is picked up.
    let (pem, der) = self_signed();
    std::fs::write(&s.cert_path, pem).unwrap();
    wait_for_cert(&s, &der).await;
}

#[tokio::test]
async fn default_check_interval_is_about_a_second() {
    let s = TestServer::start().await;
    let (pem, der) = self_signed();
    std::fs::write(&s.cert_path, pem).unwrap();
    let started = Instant::now();
    wait_for_cert(&s, &der).await;
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_missing_certificate_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = ganeti_rapi::RapiConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().join("rapi.pem"),
        dir.path().join("users"),
    );
    let listener = ganeti_rapi::server::bind(&cfg).await.unwrap();
    let err = ganeti_rapi::serve(
        cfg,
        std::sync::Arc::new(table()),
        std::sync::Arc::new(NullBackend),
        listener,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("rapi.pem"), "{err}");
}

#[tokio::test]
async fn bind_reports_a_busy_port() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut cfg = ganeti_rapi::RapiConfig::for_paths(&ganeti_types::Paths::new("/nonexistent"));
    cfg.bind = taken.local_addr().unwrap();
    let err = ganeti_rapi::server::bind(&cfg).await.unwrap_err();
    assert!(err.to_string().contains("cannot listen on"), "{err}");
}
