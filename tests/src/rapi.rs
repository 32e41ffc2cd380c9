//! Plain RAPI requests for tests that need one or two calls, not the whole
//! official client: HTTPS with Basic auth through Python's standard library
//! (`/usr/bin/python3`, which the RAPI tests need anyway), so the harness
//! carries no TLS stack of its own. The certificate is not verified: the
//! cluster's RAPI certificate is self-signed and tests talk to 127.0.0.1.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Cluster;

/// One request, the body as JSON on stdin; prints the status, a newline,
/// then the body.
const CLIENT: &str = r#"
import base64, http.client, os, ssl, sys
host, port, method, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = sys.stdin.buffer.read() or None
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
headers = {"Accept": "application/json"}
if body is not None:
    headers["Content-Type"] = "application/json"
auth = os.environ.get("RAPI_AUTH")
if auth:
    headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=120)
conn.request(method, path, body=body, headers=headers)
resp = conn.getresponse()
sys.stdout.write("%d\n" % resp.status)
sys.stdout.write(resp.read().decode("utf-8", "replace"))
"#;

/// A RAPI answer.
#[derive(Debug, Clone)]
pub struct RapiReply {
    /// HTTP status code.
    pub status: u16,
    /// The body parsed as JSON (`Value::Null` if it is not JSON).
    pub body: Value,
    /// The body as received.
    pub raw: String,
}

impl Cluster {
    /// One RAPI request to this cluster's RAPI port, as `user:password`
    /// when `auth` is given, with `body` as JSON.
    pub fn rapi(
        &self,
        auth: Option<(&str, &str)>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> RapiReply {
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg("-c")
            .arg(CLIENT)
            .arg("127.0.0.1")
            .arg(self.rapi_port.to_string())
            .arg(method)
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some((user, password)) = auth {
            cmd.env("RAPI_AUTH", format!("{user}:{password}"));
        }
        let mut child = cmd.spawn().expect("run python3 for a RAPI request");
        {
            let mut stdin = child.stdin.take().expect("stdin");
            if let Some(b) = body {
                stdin
                    .write_all(b.to_string().as_bytes())
                    .expect("write the request body");
            }
        }
        let out = child.wait_with_output().expect("RAPI request");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let (status, raw) = stdout.split_once('\n').unwrap_or((stdout.as_str(), ""));
        let status = status.trim().parse().unwrap_or_else(|_| {
            panic!(
                "RAPI {method} {path}: no answer: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        RapiReply {
            status,
            body: serde_json::from_str(raw).unwrap_or(Value::Null),
            raw: raw.to_string(),
        }
    }

    /// Poll `/2/jobs/<id>` until the job ends; returns its final status
    /// (`success`, `error`, `canceled`) and the job object.
    pub fn rapi_wait_job(
        &self,
        auth: Option<(&str, &str)>,
        id: &str,
        timeout: Duration,
    ) -> (String, Value) {
        let start = Instant::now();
        loop {
            let r = self.rapi(auth, "GET", &format!("/2/jobs/{id}"), None);
            assert_eq!(r.status, 200, "GET /2/jobs/{id}: {}", r.raw);
            let status = r.body["status"].as_str().unwrap_or("").to_string();
            if ["success", "error", "canceled"].contains(&status.as_str()) {
                return (status, r.body);
            }
            assert!(
                start.elapsed() < timeout,
                "job {id} did not finish within {timeout:?}: {}",
                r.raw
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
