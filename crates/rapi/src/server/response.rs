//! Responses with the headers Ganeti's RAPI always sends.
//!
//! Every answer, success or error, is JSON with `Content-Type:
//! application/json` and `Server: Ganeti <version>`; hyper adds `Date` and
//! `Content-Length`. Unlike Ganeti we do not send `Connection: close`
//! unless the connection really ends (keep-alive is our addition).

use std::sync::LazyLock;

use bytes::Bytes;
use http::header::{HeaderValue, CONNECTION, CONTENT_TYPE, SERVER, WWW_AUTHENTICATE};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;

use crate::auth::CHALLENGE;
use crate::error::RapiError;
use crate::server::pyjson;

static SERVER_NAME: LazyLock<HeaderValue> = LazyLock::new(|| {
    HeaderValue::from_str(&format!("Ganeti {}", ganeti_types::GANETI_VERSION))
        .unwrap_or_else(|_| HeaderValue::from_static("Ganeti"))
});

static APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// A response: status, body and the common headers.
fn json(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(pyjson::to_vec(body))));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, APPLICATION_JSON.clone());
    headers.insert(SERVER, SERVER_NAME.clone());
    resp
}

/// 200 with a handler's result.
pub(crate) fn success(result: &Value) -> Response<Full<Bytes>> {
    json(StatusCode::OK, result)
}

/// An error with Ganeti's body; 401 carries the Basic challenge.
/// `close` ends the connection after the answer (the request body was
/// left unread, so the next request could not be found in the stream).
pub(crate) fn error(err: &RapiError, close: bool) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json(status, &err.body());
    if err.code == 401 {
        resp.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
    }
    if close {
        resp.headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_text(resp: Response<Full<Bytes>>) -> String {
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn unauthorized_like_the_fixture() {
        let resp = error(&RapiError::plain(401), false);
        assert_eq!(resp.status(), 401);
        let h = resp.headers();
        assert_eq!(h["content-type"], "application/json");
        assert_eq!(h["www-authenticate"], "Basic realm=\"Ganeti Remote API\"");
        assert_eq!(h["server"], "Ganeti 3.0.2");
        assert!(h.get("connection").is_none());
        let fixture = "{\"code\": 401, \"message\": \"Unauthorized\", \"explain\": \"No permission -- see authorization schemes\"}\n";
        assert_eq!(body_text(resp).await, fixture);
    }

    #[tokio::test]
    async fn other_errors_have_no_challenge() {
        let resp = error(&RapiError::plain(403), true);
        assert!(resp.headers().get("www-authenticate").is_none());
        assert_eq!(resp.headers()["connection"], "close");
        let resp = success(&Value::Null);
        assert_eq!(resp.status(), 200);
        assert_eq!(body_text(resp).await, "null\n");
    }
}
