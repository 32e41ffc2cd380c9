//! From an HTTP request to a handler's answer, in Ganeti's order.
//!
//! The order of the checks is visible to clients (which error wins), so it
//! follows Ganeti's RAPI server step by step (rapi-behaviour.md §2–3):
//!
//! 1. HTTP/1.1 without `Host` → 400;
//! 2. unless authentication is required for everything, the path (404)
//!    and the method (501) come first;
//! 3. credentials are checked when required, when the resource needs
//!    `read`/`write`, or whenever an `Authorization` header was sent
//!    (400 for `Basic` without credentials, else 401);
//! 4. with `--require-authentication`, 404/501 only now; then 403 for a
//!    user lacking the option;
//! 5. the body, only if non-empty: size (413, ours), content type (415),
//!    JSON (400);
//! 6. the handler; a panic in it is a 500, never a dropped connection.
//!
//! Only headers are looked at before step 5, so a refused request never
//! costs reading its body.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::request::Parts;
use http::{Request, Version};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use crate::auth::{self, AuthError};
use crate::backend::{Backend, BoxFuture};
use crate::call::{Call, QueryArgs};
use crate::error::RapiError;
use crate::routes::{Access, Handler, HttpMethod, Table};
use crate::users::UsersFile;

/// What every request of one server shares.
pub(crate) struct Shared {
    pub table: Arc<Table>,
    pub backend: Arc<dyn Backend>,
    pub users: UsersFile,
    pub require_authentication: bool,
    pub max_body_bytes: usize,
    pub body_timeout: Duration,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("users", &self.users.path())
            .field("require_authentication", &self.require_authentication)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// Why a request got no handler answer.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// Answer with this error.
    Error {
        /// The error.
        error: RapiError,
        /// The connection cannot be reused (the body was left unread).
        close: bool,
    },
    /// The client went away or stalled; there is nobody to answer.
    Abandoned(&'static str),
}

impl From<RapiError> for Refusal {
    fn from(error: RapiError) -> Self {
        Refusal::Error {
            error,
            close: false,
        }
    }
}

impl From<AuthError> for Refusal {
    fn from(e: AuthError) -> Self {
        Refusal::from(e.to_rapi())
    }
}

/// The result of one request, with the user for the request log.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub result: Result<Value, Refusal>,
    pub user: Option<String>,
}

/// The resource and method a request resolved to.
struct Resolved {
    items: Vec<String>,
    resource: &'static str,
    access: Access,
    handler: Handler,
}

fn resolve(table: &Table, method: &str, path: &str) -> Result<Resolved, RapiError> {
    let matched = table.lookup(path).ok_or_else(RapiError::not_found)?;
    let (access, handler) = HttpMethod::parse(method)
        .and_then(|m| matched.route.method(m))
        .ok_or_else(|| RapiError::unsupported_method(method, path))?;
    Ok(Resolved {
        items: matched.items,
        resource: matched.route.resource,
        access,
        handler,
    })
}

/// Run one request through the pipeline.
pub(crate) async fn process<B>(shared: &Shared, req: Request<B>) -> Outcome
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut user = None;
    let result = run(shared, req, &mut user).await;
    Outcome { result, user }
}

async fn run<B>(
    shared: &Shared,
    req: Request<B>,
    user_for_log: &mut Option<String>,
) -> Result<Value, Refusal>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    if parts.version == Version::HTTP_11 && !parts.headers.contains_key(HOST) {
        return Err(RapiError::bad_request("Missing Host header").into());
    }
    // Ganeti upper-cases the method before looking for the handler.
    let method = parts.method.as_str().to_ascii_uppercase();
    let path = parts.uri.path();
    let authorization = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());

    let resolved = if shared.require_authentication {
        let users = shared.users.current();
        let user = auth::authenticate(&users, authorization)?;
        *user_for_log = Some(user.name.clone());
        let resolved = resolve(&shared.table, &method, path)?;
        if !auth::grants(user, resolved.access) {
            return Err(AuthError::Forbidden.into());
        }
        resolved
    } else {
        let resolved = resolve(&shared.table, &method, path)?;
        if resolved.access != Access::Public || authorization.is_some() {
            let users = shared.users.current();
            let user = auth::authenticate(&users, authorization)?;
            *user_for_log = Some(user.name.clone());
            if !auth::grants(user, resolved.access) {
                return Err(AuthError::Forbidden.into());
            }
        }
        resolved
    };

    let body = read_json_body(shared, &parts, body).await?;
    let call = Call {
        backend: shared.backend.clone(),
        items: resolved.items,
        query: QueryArgs::parse(parts.uri.query().unwrap_or("")),
        body,
        user: user_for_log.clone(),
        resource: resolved.resource,
    };
    Ok(CatchPanic::start(resolved.handler, call).await?)
}

fn too_large() -> Refusal {
    Refusal::Error {
        error: RapiError::plain(413),
        close: true,
    }
}

/// Read the body within the size and time limits; when non-empty, check
/// the content type and parse it as JSON.
async fn read_json_body<B>(
    shared: &Shared,
    parts: &Parts,
    body: B,
) -> Result<Option<Value>, Refusal>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body_bytes as u64) {
        return Err(too_large());
    }
    let collected = tokio::time::timeout(
        shared.body_timeout,
        Limited::new(body, shared.max_body_bytes).collect(),
    )
    .await;
    let bytes = match collected {
        Err(_) => return Err(Refusal::Abandoned("request body not received in time")),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Ok(Err(_)) => return Err(Refusal::Abandoned("request body not received")),
        Ok(Ok(c)) => c.to_bytes(),
    };
    if bytes.is_empty() {
        return Ok(None);
    }
    // A missing Content-Type means application/octet-stream (RFC 2616).
    let is_json = parts
        .headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"application/json"));
    if !is_json {
        return Err(RapiError::plain(415).into());
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|_| RapiError::bad_request("Unable to parse JSON data").into())
}

/// A handler's future, with a panic turned into a 500.
struct CatchPanic {
    inner: Option<BoxFuture<'static, Result<Value, RapiError>>>,
}

impl CatchPanic {
    fn start(handler: Handler, call: Call) -> Self {
        let inner = std::panic::catch_unwind(AssertUnwindSafe(|| handler(call)));
        CatchPanic { inner: inner.ok() }
    }
}

fn panicked() -> RapiError {
    tracing::error!("RAPI handler panicked");
    RapiError::internal("Unknown error")
}

impl Future for CatchPanic {
    type Output = Result<Value, RapiError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(Err(panicked()));
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx))) {
            Ok(poll) => poll,
            Err(_) => {
                self.inner = None;
                Poll::Ready(Err(panicked()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler;
    use crate::routes::Route;
    use ganeti_luxi::Method;
    use ganeti_types::GanetiError;
    use http_body_util::Full;
    use serde_json::json;

    #[derive(Debug)]
    struct NoBackend;

    impl Backend for NoBackend {
        fn call(&self, _: Method, _: Value) -> BoxFuture<'_, Result<Value, GanetiError>> {
            Box::pin(async { Err(GanetiError::Generic("no backend".into())) })
        }
    }

    async fn echo(c: Call) -> Result<Value, RapiError> {
        Ok(json!({"items": c.items, "body": c.body, "user": c.user,
                  "bulk": c.query.get("bulk"), "resource": c.resource}))
    }

    async fn boom(_: Call) -> Result<Value, RapiError> {
        panic!("handler bug")
    }

    fn shared(dir: &tempfile::TempDir, require_authentication: bool) -> Shared {
        let users = dir.path().join("users");
        std::fs::write(&users, "reader r read\nwriter w write\nnobody n\n").unwrap();
        Shared {
            table: Arc::new(Table::from_routes(vec![
                Route {
                    pattern: "/2/things/[name]",
                    resource: "things_name",
                    methods: vec![
                        (HttpMethod::Get, Access::Public, handler!(echo)),
                        (HttpMethod::Put, Access::Write, handler!(echo)),
                        (HttpMethod::Post, Access::Read, handler!(echo)),
                    ],
                },
                Route {
                    pattern: "/boom",
                    resource: "boom",
                    methods: vec![(HttpMethod::Get, Access::Public, handler!(boom))],
                },
            ])),
            backend: Arc::new(NoBackend),
            users: UsersFile::new(users),
            require_authentication,
            max_body_bytes: 64,
            body_timeout: Duration::from_secs(5),
        }
    }

    fn basic(cred: &str) -> String {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(cred)
        )
    }

    async fn go(
        s: &Shared,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (Result<Value, u16>, Option<String>) {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("Host", "h");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
        let out = process(s, req).await;
        let r = out.result.map_err(|r| match r {
            Refusal::Error { error, .. } => error.code,
            Refusal::Abandoned(_) => 0,
        });
        (r, out.user)
    }

    #[tokio::test]
    async fn order_without_require_authentication() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(&dir, false);
        assert_eq!(go(&s, "GET", "/nope", &[], "").await.0, Err(404));
        assert_eq!(go(&s, "DELETE", "/2/things/a", &[], "").await.0, Err(501));
        assert_eq!(go(&s, "HEAD", "/2/things/a", &[], "").await.0, Err(501));
        assert_eq!(go(&s, "PUT", "/2/things/a", &[], "").await.0, Err(401));
        assert_eq!(go(&s, "POST", "/2/things/a", &[], "").await.0, Err(401));
        let (r, user) = go(&s, "GET", "/2/things/a?bulk=1", &[], "").await;
        let v = r.unwrap();
        assert_eq!(v["items"], json!(["a"]));
        assert_eq!(v["bulk"], "1");
        assert_eq!(v["resource"], "things_name");
        assert_eq!(user, None);
        // Lower-case methods work, as in Ganeti.
        assert!(go(&s, "get", "/2/things/a", &[], "").await.0.is_ok());
    }

    async fn with_auth(
        s: &Shared,
        method: &str,
        authorization: &str,
    ) -> (Result<Value, u16>, Option<String>) {
        go(
            s,
            method,
            "/2/things/a",
            &[("Authorization", authorization)],
            "",
        )
        .await
    }

    #[tokio::test]
    async fn credentials_and_options() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(&dir, false);
        let (w, r, n) = (basic("writer:w"), basic("reader:r"), basic("nobody:n"));
        let (res, user) = with_auth(&s, "PUT", &w).await;
        assert!(res.is_ok());
        assert_eq!(user.as_deref(), Some("writer"));
        assert_eq!(with_auth(&s, "PUT", &r).await.0, Err(403));
        assert!(with_auth(&s, "POST", &r).await.0.is_ok());
        assert!(with_auth(&s, "POST", &w).await.0.is_ok());
        assert_eq!(with_auth(&s, "POST", &n).await.0, Err(403));
        // A public GET with credentials needs them to be right.
        assert!(with_auth(&s, "GET", &n).await.0.is_ok());
        assert_eq!(with_auth(&s, "GET", &basic("writer:x")).await.0, Err(401));
        assert_eq!(with_auth(&s, "GET", &basic("ghost:x")).await.0, Err(401));
        assert_eq!(with_auth(&s, "GET", "Basic").await.0, Err(400));
        assert_eq!(with_auth(&s, "GET", "Digest x").await.0, Err(401));
        // 404/501 still come before credentials.
        let h = [("Authorization", "Basic")];
        assert_eq!(go(&s, "GET", "/nope", &h, "").await.0, Err(404));
    }

    #[tokio::test]
    async fn require_authentication_checks_credentials_first() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(&dir, true);
        assert_eq!(go(&s, "GET", "/nope", &[], "").await.0, Err(401));
        assert_eq!(go(&s, "PATCH", "/2/things/a", &[], "").await.0, Err(401));
        assert_eq!(go(&s, "GET", "/2/things/a", &[], "").await.0, Err(401));
        let n = basic("nobody:n");
        let h = [("Authorization", n.as_str())];
        assert_eq!(go(&s, "GET", "/nope", &h, "").await.0, Err(404));
        assert_eq!(go(&s, "PATCH", "/2/things/a", &h, "").await.0, Err(501));
        assert!(go(&s, "GET", "/2/things/a", &h, "").await.0.is_ok());
        assert_eq!(go(&s, "PUT", "/2/things/a", &h, "").await.0, Err(403));
    }

    #[tokio::test]
    async fn bodies() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(&dir, false);
        let json = [("Content-Type", "application/json")];
        let (r, _) = go(&s, "GET", "/2/things/a", &json, "{\"a\": [1]}").await;
        assert_eq!(r.unwrap()["body"], json!({"a": [1]}));
        let (r, _) = go(
            &s,
            "GET",
            "/2/things/a",
            &[("Content-Type", "APPLICATION/JSON")],
            "\"drained\"",
        )
        .await;
        assert_eq!(r.unwrap()["body"], json!("drained"));
        // Empty body: no content type needed, body is None.
        let (r, _) = go(
            &s,
            "GET",
            "/2/things/a",
            &[("Content-Type", "text/plain")],
            "",
        )
        .await;
        assert_eq!(r.unwrap()["body"], Value::Null);
        for ct in [
            &[("Content-Type", "application/json; charset=utf-8")][..],
            &[("Content-Type", "text/plain")],
            &[],
        ] {
            assert_eq!(go(&s, "GET", "/2/things/a", ct, "{}").await.0, Err(415));
        }
        assert_eq!(
            go(&s, "GET", "/2/things/a", &json, "{\"a\": ").await.0,
            Err(400)
        );
        let big = format!("[{}]", "1,".repeat(40) + "1");
        assert_eq!(go(&s, "GET", "/2/things/a", &json, &big).await.0, Err(413));
    }

    #[tokio::test]
    async fn missing_host_on_http_1_1() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(&dir, false);
        let req = Request::builder()
            .uri("/2/things/a")
            .body(Full::new(Bytes::new()))
            .unwrap();
        match process(&s, req).await.result {
            Err(Refusal::Error { error, .. }) => {
                assert_eq!(error, RapiError::bad_request("Missing Host header"))
            }
            other => panic!("{other:?}"),
        }
        let req = Request::builder()
            .version(Version::HTTP_10)
            .uri("/2/things/a")
            .body(Full::new(Bytes::new()))
            .unwrap();
        assert!(process(&s, req).await.result.is_ok());
    }

    #[tokio::test]
    async fn handler_panic_is_a_500() {
        let dir = tempfile::tempdir().unwrap();
        let s = shared(&dir, false);
        assert_eq!(go(&s, "GET", "/boom", &[], "").await.0, Err(500));
    }
}
