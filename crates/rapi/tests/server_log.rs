//! The request log names the user, method, path and status, and never a
//! password or the Authorization header; users file problems are reported
//! by line number without the line's content.
//!
//! Alone in its test binary on purpose: `tracing` caches per call site
//! whether anyone listens, and a test thread without a subscriber running
//! at the same time would make the capture below miss lines.

mod server_support;

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use server_support::*;

/// Collects everything logged on this thread.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock()).into_owned()
    }
}

// Single-threaded runtime: every server task logs on this thread, where
// the capturing subscriber is installed.
#[tokio::test(flavor = "current_thread")]
async fn request_log_names_the_user_never_the_password() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = TestServer::start().await;
    // A line that holds a secret but is malformed, to see it reported.
    std::fs::write(
        &s.users_path,
        format!("{USERS}leakysecret\nodd {{SSHA}}hushhush write\n"),
    )
    .unwrap();
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances?dry-run=1",
            Some(&reader()),
            Some("application/json"),
            "{}",
        ))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        s.get("/2/info", Some(&basic("writer", "guessme")))
            .await
            .status,
        401
    );
    assert_eq!(s.get("/2/info", None).await.status, 200);
    tokio::time::sleep(Duration::from_millis(50)).await;

    let log = captured.text();
    assert!(
        log.contains("reader \"POST /2/instances\" 403"),
        "request log line missing:\n{log}"
    );
    assert!(log.contains(" - \"GET /2/info\" 401"), "{log}");
    assert!(log.contains(" - \"GET /2/info\" 200"), "{log}");
    assert!(log.contains("line 5"), "malformed line reported:\n{log}");
    assert!(log.contains("user 'odd'"), "{log}");
    for secret in [
        "redaer",
        "guessme",
        "retirw",
        "hushhush",
        "leakysecret",
        reader().trim_start_matches("Basic "),
        "dry-run",
    ] {
        assert!(
            !log.contains(secret),
            "{secret:?} leaked into the log:\n{log}"
        );
    }
}
