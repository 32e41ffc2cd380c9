//! Authentication and authorization through the real server: Ganeti's
//! order of 404/501/401/403, the challenge header, and the users file
//! reloaded while running. (The request log is checked in server_log.rs.)

mod server_support;

use serde_json::json;
use server_support::*;

#[tokio::test]
async fn unauthorized_is_byte_for_byte_ganetis() {
    // fixtures/err_unauth_get: GET /2/info without credentials, daemon
    // started with --require-authentication.
    let s = TestServer::start_with(|c| c.require_authentication = true).await;
    let r = s.get("/2/info", None).await;
    assert_eq!(r.status_line, "HTTP/1.1 401 Unauthorized");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(
        r.header("WWW-Authenticate"),
        Some("Basic realm=\"Ganeti Remote API\"")
    );
    assert_eq!(r.header("Server"), Some("Ganeti 3.0.2"));
    assert_eq!(r.header("Content-Length"), Some("98"));
    assert_eq!(
        r.text(),
        "{\"code\": 401, \"message\": \"Unauthorized\", \"explain\": \"No permission -- see authorization schemes\"}\n"
    );
}

#[tokio::test]
async fn anonymous_reads_writes_need_write() {
    let s = TestServer::start().await;
    assert_eq!(s.get("/2/info", None).await.status, 200);

    let post = |auth: Option<String>| {
        with_body(
            "POST",
            "/2/instances",
            auth.as_deref(),
            Some("application/json"),
            "{}",
        )
    };
    let r = s.request(&post(None)).await;
    assert_eq!(r.status, 401);
    assert!(r.header("WWW-Authenticate").is_some());

    let r = s.request(&post(Some(reader()))).await;
    assert_eq!(r.status, 403);
    assert!(r.header("WWW-Authenticate").is_none());
    assert_eq!(
        r.json(),
        json!({"code": 403, "message": "Forbidden",
               "explain": "Request forbidden -- authorization will not help"})
    );
    let r = s.request(&post(Some(basic("plain", "nialp")))).await;
    assert_eq!(r.status, 403);
    let r = s.request(&post(Some(writer()))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["user"], "writer");

    // GET /2/jobs/[id]/wait needs write although it is a GET.
    assert_eq!(s.get("/2/jobs/1/wait", None).await.status, 401);
    assert_eq!(s.get("/2/jobs/1/wait", Some(&reader())).await.status, 403);
    assert_eq!(s.get("/2/jobs/1/wait", Some(&writer())).await.status, 200);
}

#[tokio::test]
async fn read_resources_need_read_or_write_never_anonymous() {
    let s = TestServer::start().await;
    let path = "/2/query/instance?fields=name";
    assert_eq!(s.get(path, None).await.status, 401);
    assert_eq!(
        s.get(path, Some(&basic("plain", "nialp"))).await.status,
        403
    );
    assert_eq!(s.get(path, Some(&reader())).await.status, 200);
    assert_eq!(s.get(path, Some(&writer())).await.status, 200);
}

#[tokio::test]
async fn credentials_sent_to_public_resources_must_be_valid() {
    let s = TestServer::start().await;
    assert_eq!(s.get("/2/info", Some(&reader())).await.status, 200);
    assert_eq!(
        s.get("/2/info", Some(&basic("plain", "nialp")))
            .await
            .status,
        200
    );
    for bad in [
        basic("reader", "wrong"),
        basic("nosuchuser", "x"),
        "Digest username=\"reader\"".to_owned(),
        "Basic !!notbase64".to_owned(),
        "Basic cmVhZGVy".to_owned(), // "reader": no ':'
    ] {
        let r = s.get("/2/info", Some(&bad)).await;
        assert_eq!(r.status, 401, "{bad}");
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some("Basic realm=\"Ganeti Remote API\"")
        );
    }
    let r = s.get("/2/info", Some("Basic")).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "Basic authentication requires credentials");
    // The scheme is case-insensitive.
    let lower = reader().replacen("Basic", "bAsIc", 1);
    assert_eq!(s.get("/2/info", Some(&lower)).await.status, 200);
}

#[tokio::test]
async fn not_found_before_unauthorized_by_default() {
    let s = TestServer::start().await;
    assert_eq!(s.get("/2/nosuchthing", None).await.status, 404);
    assert_eq!(
        s.get("/2/nosuchthing", Some(&basic("reader", "wrong")))
            .await
            .status,
        404
    );
    let r = s.request("PUT /2/info HTTP/1.1\r\nHost: h\r\n\r\n").await;
    assert_eq!(r.status, 501);
    let r = s
        .request("PATCH /2/instances HTTP/1.1\r\nHost: h\r\n\r\n")
        .await;
    assert_eq!(r.status, 501);
}

#[tokio::test]
async fn require_authentication_puts_unauthorized_first() {
    let s = TestServer::start_with(|c| c.require_authentication = true).await;
    assert_eq!(s.get("/2/nosuchthing", None).await.status, 401);
    assert_eq!(
        s.get("/2/nosuchthing", Some(&basic("reader", "wrong")))
            .await
            .status,
        401
    );
    let mut c = s.connect().await;
    c.send(b"HEAD /2/info HTTP/1.1\r\nHost: h\r\n\r\n").await;
    assert_eq!(c.response_to(true).await.status, 401);
    let r = s.request("PATCH /2/info HTTP/1.1\r\nHost: h\r\n\r\n").await;
    assert_eq!(r.status, 401);

    // With valid credentials the path and method are checked.
    assert_eq!(s.get("/2/nosuchthing", Some(&reader())).await.status, 404);
    let r = s
        .request(&format!(
            "PATCH /2/info HTTP/1.1\r\nHost: h\r\nAuthorization: {}\r\n\r\n",
            reader()
        ))
        .await;
    assert_eq!(r.status, 501);
    // Public reads need a user, any user.
    assert_eq!(s.get("/2/info", None).await.status, 401);
    assert_eq!(
        s.get("/2/info", Some(&basic("plain", "nialp")))
            .await
            .status,
        200
    );
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances",
            Some(&reader()),
            Some("application/json"),
            "{}",
        ))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn authentication_comes_before_body_checks() {
    let s = TestServer::start().await;
    // Wrong content type and broken JSON, but no credentials: 401 first.
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances",
            None,
            Some("text/plain"),
            "{",
        ))
        .await;
    assert_eq!(r.status, 401);
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances",
            Some(&reader()),
            Some("text/plain"),
            "{",
        ))
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn users_file_changes_apply_without_restart() {
    let s = TestServer::start().await;
    let newbie = basic("newbie", "fresh");
    assert_eq!(s.get("/2/jobs/1/wait", Some(&newbie)).await.status, 401);

    let ha1 = ganeti_rapi::auth::ha1_hex("newbie", "fresh");
    let tmp = s.dir.path().join("users.tmp");
    std::fs::write(&tmp, format!("{USERS}newbie {{HA1}}{ha1} write\n")).unwrap();
    std::fs::rename(&tmp, &s.users_path).unwrap();
    assert_eq!(s.get("/2/jobs/1/wait", Some(&newbie)).await.status, 200);

    // Demoted in place: read only now.
    std::fs::write(
        &s.users_path,
        format!("{USERS}newbie {{cleartext}}fresh read\n"),
    )
    .unwrap();
    assert_eq!(s.get("/2/jobs/1/wait", Some(&newbie)).await.status, 403);

    // A malformed line does not lock the others out.
    std::fs::write(&s.users_path, format!("garbage\n{USERS}")).unwrap();
    assert_eq!(s.get("/2/jobs/1/wait", Some(&writer())).await.status, 200);
    assert_eq!(s.get("/2/jobs/1/wait", Some(&newbie)).await.status, 401);

    // No file: nobody authenticates, anonymous reads still work.
    std::fs::remove_file(&s.users_path).unwrap();
    assert_eq!(s.get("/2/jobs/1/wait", Some(&writer())).await.status, 401);
    assert_eq!(s.get("/2/info", None).await.status, 200);

    std::fs::write(&s.users_path, USERS).unwrap();
    assert_eq!(s.get("/2/jobs/1/wait", Some(&writer())).await.status, 200);
}
