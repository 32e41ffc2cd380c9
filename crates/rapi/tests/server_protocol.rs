//! The HTTP side of the RAPI server over real TLS: headers as Ganeti sends
//! them, status codes for bad requests, body limits, keep-alive, and
//! connections that do not disturb each other.

mod server_support;

use std::time::{Duration, Instant};

use serde_json::json;
use server_support::*;

#[tokio::test]
async fn success_headers_and_body_like_ganeti() {
    let s = TestServer::start().await;
    let r = s.get("/2/info", None).await;
    assert_eq!(r.status_line, "HTTP/1.1 200 OK");
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    assert_eq!(r.header("Server"), Some("Ganeti 3.0.2"));
    assert!(r.header("Date").unwrap().ends_with(" GMT"));
    assert_eq!(
        r.header("Content-Length"),
        Some(r.body.len().to_string().as_str())
    );
    // Python's json.dumps layout: ", " / ": ", ASCII only, newline.
    assert_eq!(
        r.text(),
        "{\"name\": \"cluster.example.com\", \"non_ascii\": \"\\u00e9\"}\n"
    );
    assert_eq!(r.header("Connection"), None, "kept alive");
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let s = TestServer::start().await;
    for path in [
        "/2/nosuchthing",
        "/nosuchthing",
        "/2/instances/",
        "/2/jobs/x/wait",
    ] {
        let r = s.get(path, None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.json(),
            json!({"code": 404, "message": "Not Found", "explain": "Nothing matches the given URI"})
        );
    }
    let r = s
        .request("DELETE /2/info HTTP/1.1\r\nHost: h\r\n\r\n")
        .await;
    assert_eq!(r.status, 501);
    assert_eq!(r.message(), "Method DELETE is unsupported for path /2/info");
    assert_eq!(
        r.json()["explain"],
        "Server does not support this operation"
    );
    let r = s.request("PATCH /2/info HTTP/1.1\r\nHost: h\r\n\r\n").await;
    assert_eq!(r.status, 501);
    assert_eq!(r.message(), "Method PATCH is unsupported for path /2/info");
    let r = s
        .request("OPTIONS /2/instances HTTP/1.1\r\nHost: h\r\n\r\n")
        .await;
    assert_eq!(r.status, 501);

    // HEAD: 501 too (never 405), and the connection remains usable.
    let mut c = s.connect().await;
    c.send(b"HEAD /2/info HTTP/1.1\r\nHost: h\r\n\r\n").await;
    let r = c.response_to(true).await;
    assert_eq!(r.status, 501);
    c.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(c.response().await.status, 200);
}

#[tokio::test]
async fn handler_errors_are_html_escaped() {
    let s = TestServer::start().await;
    let r = s.get("/2/instances/x", None).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.message(), "Instance &#x27;&lt;x&gt;&#x27; not known");
}

#[tokio::test]
async fn missing_host_header() {
    let s = TestServer::start().await;
    let r = s.request("GET /2/info HTTP/1.1\r\n\r\n").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.message(), "Missing Host header");
    // HTTP/1.0 needs no Host.
    let r = s.request("GET /2/info HTTP/1.0\r\n\r\n").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn content_type_must_be_exactly_json() {
    let s = TestServer::start().await;
    let w = writer();
    for ct in [
        Some("application/json; charset=utf-8"),
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let r = s
            .request(&with_body("POST", "/2/instances", Some(&w), ct, "{}"))
            .await;
        assert_eq!(r.status, 415, "{ct:?}");
        assert_eq!(
            r.json(),
            json!({"code": 415, "message": "Unsupported Media Type",
                   "explain": "Entity body in unsupported format"})
        );
    }
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances",
            Some(&w),
            Some("Application/JSON"),
            "{}",
        ))
        .await;
    assert_eq!(r.status, 200);
    // An empty body needs no content type (the official client sends
    // `Content-type: application/json` with `Content-Length: 0` anyway).
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances",
            Some(&w),
            Some("text/plain"),
            "",
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["body"], json!(null));
}

#[tokio::test]
async fn malformed_json_is_400() {
    let s = TestServer::start().await;
    let w = writer();
    for body in ["{\"name\": ", "{'a': 1}", "nope", "[1,]"] {
        let r = s
            .request(&with_body(
                "POST",
                "/2/instances",
                Some(&w),
                Some("application/json"),
                body,
            ))
            .await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.message(), "Unable to parse JSON data");
    }
    // Any JSON value is a body, not only objects.
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances",
            Some(&w),
            Some("application/json"),
            "\"drained\"",
        ))
        .await;
    assert_eq!(r.json()["body"], json!("drained"));
}

#[tokio::test]
async fn get_with_a_body_reaches_the_handler() {
    let s = TestServer::start().await;
    let body = r#"{"fields": ["status"], "previous_job_info": null, "previous_log_serial": null}"#;
    let r = s
        .request(&with_body(
            "GET",
            "/2/jobs/5/wait",
            Some(&writer()),
            Some("application/json"),
            body,
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["items"], json!(["5"]));
    assert_eq!(
        r.json()["body"],
        serde_json::from_str::<serde_json::Value>(body).unwrap()
    );
    assert_eq!(r.json()["user"], "writer");
}

#[tokio::test]
async fn query_string_reaches_the_handler_decoded() {
    let s = TestServer::start().await;
    let r = s
        .get("/2/instances?bulk=1&tag=a+b&tag=c%2Fd&empty=", None)
        .await;
    assert_eq!(r.json()["query"], json!(["bulk=1", "tag=a b", "tag=c/d"]));
}

#[tokio::test]
async fn huge_bodies_are_refused_unread() {
    let s = TestServer::start_with(|c| c.max_body_bytes = 1024).await;
    let w = writer();
    // Declared too large: answered at once, before the body is sent.
    let mut c = s.connect().await;
    let head = format!(
        "POST /2/instances HTTP/1.1\r\nHost: h\r\nAuthorization: {w}\r\n\
         Content-Type: application/json\r\nContent-Length: 104857600\r\n\r\n"
    );
    c.send(head.as_bytes()).await;
    c.try_send(&[b' '; 100]).await;
    let r = c.response().await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["code"], 413);
    assert_eq!(r.header("Connection"), Some("close"));
    assert!(c.is_closed_by_server().await);

    // Chunked, no length given: cut off once past the limit.
    let mut c = s.connect().await;
    let head = format!(
        "POST /2/instances HTTP/1.1\r\nHost: h\r\nAuthorization: {w}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    c.send(head.as_bytes()).await;
    for _ in 0..4 {
        c.try_send(format!("200\r\n{}\r\n", " ".repeat(0x200)).as_bytes())
            .await;
    }
    let r = c.response().await;
    assert_eq!(r.status, 413);

    // Just under the limit is fine.
    let body = format!("[{}1]", "1,".repeat(500));
    assert!(body.len() <= 1024);
    let r = s
        .request(&with_body(
            "POST",
            "/2/instances",
            Some(&w),
            Some("application/json"),
            &body,
        ))
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let s = TestServer::start().await;
    let mut c = s.connect().await;
    for _ in 0..3 {
        c.send(get("/2/info", None).as_bytes()).await;
        let r = c.response().await;
        assert_eq!(r.status, 200);
    }
    // Errors keep the connection too.
    c.send(get("/2/nope", None).as_bytes()).await;
    assert_eq!(c.response().await.status, 404);
    c.send(get("/2/instances", Some(&basic("writer", "bad"))).as_bytes())
        .await;
    assert_eq!(c.response().await.status, 401);
    // Pipelined requests are answered in order.
    let two = format!("{}{}", get("/2/info", None), get("/2/nope", None));
    c.send(two.as_bytes()).await;
    assert_eq!(c.response().await.status, 200);
    assert_eq!(c.response().await.status, 404);
    // A client asking to close gets its answer, then the connection ends.
    c.send(b"GET /2/info HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(c.response().await.status, 200);
    assert!(c.is_closed_by_server().await);
}

#[tokio::test]
async fn http_1_0_closes_unless_keep_alive_is_asked() {
    let s = TestServer::start().await;
    let mut c = s.connect().await;
    c.send(b"GET /2/info HTTP/1.0\r\n\r\n").await;
    assert_eq!(c.response().await.status, 200);
    assert!(c.is_closed_by_server().await);

    let mut c = s.connect().await;
    c.send(b"GET /2/info HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await;
    assert_eq!(c.response().await.status, 200);
    c.send(b"GET /2/info HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .await;
    assert_eq!(c.response().await.status, 200);
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_timeout() {
    let s = TestServer::start_with(|c| c.io_timeout = Duration::from_millis(300)).await;
    let mut c = s.connect().await;
    c.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(c.response().await.status, 200);
    let started = Instant::now();
    assert!(c.is_closed_by_server().await);
    assert!(started.elapsed() < Duration::from_secs(5));

    // A request head that never completes is cut off too.
    let mut c = s.connect().await;
    c.send(b"GET /2/info HTTP/1.1\r\nHost: h\r\n").await;
    assert!(c.is_closed_by_server().await);
}

#[tokio::test]
async fn a_stalled_body_is_dropped() {
    let s = TestServer::start_with(|c| c.io_timeout = Duration::from_millis(300)).await;
    let mut c = s.connect().await;
    let head = format!(
        "POST /2/instances HTTP/1.1\r\nHost: h\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        writer()
    );
    c.send(head.as_bytes()).await;
    assert!(c.try_response_to(false).await.is_none());
}

#[tokio::test]
async fn a_client_vanishing_mid_body_does_not_disturb_others() {
    let s = TestServer::start().await;
    let mut steady = s.connect().await;
    steady.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(steady.response().await.status, 200);

    for _ in 0..5 {
        let mut c = s.connect().await;
        let head = format!(
            "POST /2/instances HTTP/1.1\r\nHost: h\r\nAuthorization: {}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"a\":",
            writer()
        );
        c.send(head.as_bytes()).await;
        drop(c);
    }
    // Raw TCP, dropped in the middle of the TLS handshake.
    drop(tokio::net::TcpStream::connect(s.addr).await.unwrap());

    steady.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(steady.response().await.status, 200);
    assert_eq!(s.get("/2/info", None).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_requests_do_not_block_each_other() {
    let s = TestServer::start().await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let mut c = s.connect().await;
        tasks.push(tokio::spawn(async move {
            c.send(get("/2/slow", None).as_bytes()).await;
            c.response().await.status
        }));
    }
    // Meanwhile a fast request is answered at once.
    let fast = Instant::now();
    assert_eq!(s.get("/2/info", None).await.status, 200);
    assert!(fast.elapsed() < Duration::from_millis(350));
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    // Eight 400 ms handlers in parallel, not one after the other.
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_connection_survives() {
    let s = TestServer::start().await;
    let mut c = s.connect().await;
    c.send(get("/2/panic", None).as_bytes()).await;
    let r = c.response().await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["explain"], "Server got itself in trouble");
    c.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(c.response().await.status, 200);
}

#[tokio::test]
async fn connection_limit_queues_clients() {
    let s = TestServer::start_with(|c| c.max_connections = Some(1)).await;
    let mut first = s.connect().await;
    first.send(get("/2/info", None).as_bytes()).await;
    assert_eq!(first.response().await.status, 200);

    // The second client is not served while the first holds the slot.
    let addr = s.addr;
    let second = tokio::spawn(async move {
        let mut c = Conn::open(addr, true).await;
        c.send(get("/2/info", None).as_bytes()).await;
        c.response().await.status
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished());
    drop(first);
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .unwrap()
            .unwrap(),
        200
    );
}

#[tokio::test]
async fn plain_http_without_tls() {
    let s = TestServer::start_with(|c| c.tls = false).await;
    let r = s.get("/2/info", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "cluster.example.com");
}
