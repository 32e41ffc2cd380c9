//! Shared by the `server_*` integration tests: a RAPI server on
//! 127.0.0.1:0 with a throw-away self-signed certificate, a small route
//! table and a fake backend, plus a raw HTTP/1.1 client over real TLS that
//! shows exactly what went over the wire (status line, headers, whether the
//! connection stayed open, which certificate was presented).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ganeti_luxi::Method;
use ganeti_rapi::backend::BoxFuture;
use ganeti_rapi::handler;
use ganeti_rapi::routes::{Access, HttpMethod, Route, Table};
use ganeti_rapi::{Backend, Call, RapiConfig, RapiError};
use ganeti_types::GanetiError;
use parking_lot::Mutex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// Users of every test server: `password` is the user name reversed.
pub const USERS: &str = "# test users\nwriter retirw write\nreader redaer read\nplain nialp\n";

/// `Authorization` value for `user:password`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

pub fn writer() -> String {
    basic("writer", "retirw")
}

pub fn reader() -> String {
    basic("reader", "redaer")
}

/// A backend nobody should call in these tests.
#[derive(Debug)]
pub struct NullBackend;

impl Backend for NullBackend {
    fn call(&self, _: Method, _: Value) -> BoxFuture<'_, Result<Value, GanetiError>> {
        Box::pin(async { Ok(Value::Null) })
    }
}

async fn echo(c: Call) -> Result<Value, RapiError> {
    Ok(json!({"items": c.items, "body": c.body, "user": c.user,
              "query": c.query.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>()}))
}

async fn info(_: Call) -> Result<Value, RapiError> {
    Ok(json!({"name": "cluster.example.com", "non_ascii": "é"}))
}

async fn slow(_: Call) -> Result<Value, RapiError> {
    tokio::time::sleep(Duration::from_millis(400)).await;
    Ok(json!("slow"))
}

async fn panics(_: Call) -> Result<Value, RapiError> {
    panic!("handler bug")
}

async fn not_found(_: Call) -> Result<Value, RapiError> {
    Err(RapiError::new(404, "Instance '<x>' not known"))
}

/// The test resources, shaped like real ones.
pub fn table() -> Table {
    Table::from_routes(vec![
        Route {
            pattern: "/2/info",
            resource: "info",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(info))],
        },
        Route {
            pattern: "/2/instances",
            resource: "instances",
            methods: vec![
                (HttpMethod::Get, Access::Public, handler!(echo)),
                (HttpMethod::Post, Access::Write, handler!(echo)),
            ],
        },
        Route {
            pattern: "/2/instances/[name]",
            resource: "instances_name",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(not_found))],
        },
        Route {
            pattern: "/2/jobs/[id]/wait",
            resource: "jobs_id_wait",
            methods: vec![(HttpMethod::Get, Access::Write, handler!(echo))],
        },
        Route {
            pattern: "/2/query/[resource]",
            resource: "query_resource",
            methods: vec![
                (HttpMethod::Get, Access::Read, handler!(echo)),
                (HttpMethod::Put, Access::Read, handler!(echo)),
            ],
        },
        Route {
            pattern: "/2/slow",
            resource: "slow",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(slow))],
        },
        Route {
            pattern: "/2/panic",
            resource: "panic",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(panics))],
        },
    ])
}

/// A self-signed certificate: (PEM with key and certificate, DER).
pub fn self_signed() -> (String, Vec<u8>) {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    (
        format!("{}{}", ck.key_pair.serialize_pem(), ck.cert.pem()),
        ck.cert.der().to_vec(),
    )
}

/// A running server and its files.
pub struct TestServer {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub cert_path: PathBuf,
    pub users_path: PathBuf,
    /// DER of the certificate written at start.
    pub cert_der: Vec<u8>,
    pub tls: bool,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Start with the defaults of [`config`], adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut RapiConfig)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let cert_path = dir.path().join("rapi.pem");
        let users_path = dir.path().join("users");
        let (pem, cert_der) = self_signed();
        std::fs::write(&cert_path, pem).unwrap();
        std::fs::write(&users_path, USERS).unwrap();
        let mut cfg = RapiConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            cert_path.clone(),
            users_path.clone(),
        );
        cfg.max_body_bytes = 64 * 1024;
        adjust(&mut cfg);
        let listener = ganeti_rapi::server::bind(&cfg).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tls = cfg.tls;
        let task = tokio::spawn(async move {
            ganeti_rapi::serve(cfg, Arc::new(table()), Arc::new(NullBackend), listener)
                .await
                .unwrap();
        });
        let server = TestServer {
            addr,
            dir,
            cert_path,
            users_path,
            cert_der,
            tls,
            task,
        };
        // One handshake: the server has loaded its certificate (the test
        // may replace the file right away) and is accepting.
        drop(server.connect().await);
        server
    }

    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// A new connection (TLS when the server uses it).
    pub async fn connect(&self) -> Conn {
        Conn::open(self.addr, self.tls).await
    }

    /// One request on a new connection.
    pub async fn request(&self, req: &str) -> Resp {
        let mut c = self.connect().await;
        c.send(req.as_bytes()).await;
        c.response().await
    }

    /// `GET path` with optional Authorization.
    pub async fn get(&self, path: &str, auth: Option<&str>) -> Resp {
        self.request(&get(path, auth)).await
    }
}

/// A GET request text.
pub fn get(path: &str, auth: Option<&str>) -> String {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}\r\n")
}

/// A request with a body.
pub fn with_body(
    method: &str,
    path: &str,
    auth: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> String {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let ct = content_type
        .map(|c| format!("Content-Type: {c}\r\n"))
        .unwrap_or_default();
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{auth}{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Accepts any server certificate and remembers the one presented.
#[derive(Debug)]
pub struct RecordingVerifier {
    pub seen: Mutex<Option<Vec<u8>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock() = Some(end_entity.to_vec());
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A raw HTTP/1.1 client connection.
pub struct Conn {
    stream: Box<dyn Stream>,
    buf: Vec<u8>,
    /// DER of the certificate the server presented (TLS only).
    pub server_cert: Option<Vec<u8>>,
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad JSON body {:?}: {e}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `message` of an error body.
    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl Conn {
    pub async fn open(addr: SocketAddr, tls: bool) -> Conn {
        let tcp = TcpStream::connect(addr).await.unwrap();
        if !tls {
            return Conn {
                stream: Box::new(tcp),
                buf: Vec::new(),
                server_cert: None,
            };
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(RecordingVerifier {
            seen: Mutex::new(None),
            provider: provider.clone(),
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = tokio::time::timeout(
            TIMEOUT,
            connector.connect(ServerName::try_from("localhost").unwrap(), tcp),
        )
        .await
        .expect("TLS handshake timed out")
        .expect("TLS handshake failed");
        let server_cert = verifier.seen.lock().clone();
        Conn {
            stream: Box::new(stream),
            buf: Vec::new(),
            server_cert,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    /// Try to send; false if the server has closed the connection.
    pub async fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).await.is_ok() && self.stream.flush().await.is_ok()
    }

    /// Read more bytes; false on end of stream (or a reset).
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(TIMEOUT, self.stream.read(&mut chunk)).await {
            Err(_) => panic!("no answer from the server within {TIMEOUT:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => false,
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Read one response (`head_only` for answers to HEAD).
    pub async fn response_to(&mut self, head_only: bool) -> Resp {
        self.try_response_to(head_only)
            .await
            .expect("connection closed before a response")
    }

    pub async fn response(&mut self) -> Resp {
        self.response_to(false).await
    }

    /// Read one response, or `None` if the connection closed first.
    pub async fn try_response_to(&mut self, head_only: bool) -> Option<Resp> {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if !self.fill().await {
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).unwrap();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap().to_owned();
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (k, v) = l.split_once(':').unwrap();
                (k.to_owned(), v.trim().to_owned())
            })
            .collect();
        let mut resp = Resp {
            status,
            status_line,
            headers,
            body: Vec::new(),
        };
        if head_only {
            return Some(resp);
        }
        let len: usize = resp
            .header("content-length")
            .expect("every response has Content-Length")
            .parse()
            .unwrap();
        while self.buf.len() < len {
            assert!(self.fill().await, "connection closed mid-body");
        }
        resp.body = self.buf.drain(..len).collect();
        Some(resp)
    }

    /// Whether the server closes the connection (within the timeout).
    pub async fn is_closed_by_server(&mut self) -> bool {
        !self.fill().await && self.buf.is_empty()
    }

    /// Whether nothing arrives within `wait` and the connection is open.
    pub async fn stays_quiet(&mut self, wait: Duration) -> bool {
        let mut chunk = [0u8; 1];
        tokio::time::timeout(wait, self.stream.read(&mut chunk))
            .await
            .is_err()
    }
}
