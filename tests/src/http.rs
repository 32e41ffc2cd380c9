//! A tiny HTTP/1.1 file server on 127.0.0.1 for OS provider tests: the
//! node downloads images from it through the real provider, so the tests
//! need a server they control (what is served, how often it was asked,
//! a transfer that breaks off) without any network or extra crate.
//! One thread accepts; each connection gets a thread and is closed after
//! one response.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// What the server answers for one path.
#[derive(Debug, Clone)]
struct Entry {
    body: Arc<Vec<u8>>,
    /// `Content-Length` to announce; more than `body.len()` makes the
    /// transfer end early (the connection closes after `body`).
    announced: u64,
}

#[derive(Debug, Default)]
struct Shared {
    files: HashMap<String, Entry>,
    /// GET requests per path (served or not).
    hits: HashMap<String, usize>,
}

/// A file server on 127.0.0.1; stopped on drop.
#[derive(Debug)]
pub struct FileServer {
    port: u16,
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    /// Start a server on a free loopback port.
    pub fn start() -> Self {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = Arc::clone(&shared);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        let shared = Arc::clone(&shared);
                        std::thread::spawn(move || handle(conn, &shared));
                    }
                }
            })
        };
        FileServer {
            port,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// Serve `body` at `path` (e.g. `/images/a.raw`).
    pub fn serve(&self, path: &str, body: Vec<u8>) {
        let announced = body.len() as u64;
        self.insert(path, body, announced);
    }

    /// Serve `body` at `path` but announce `announced` bytes
    /// (`Content-Length`), then close: a download that breaks off.
    pub fn serve_truncated(&self, path: &str, body: Vec<u8>, announced: u64) {
        self.insert(path, body, announced);
    }

    fn insert(&self, path: &str, body: Vec<u8>, announced: u64) {
        self.shared.lock().expect("server state").files.insert(
            path.to_owned(),
            Entry {
                body: Arc::new(body),
                announced,
            },
        );
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// How many GET requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .lock()
            .expect("server state")
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the accept loop so that it sees the flag
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answer one request on `conn`.
fn handle(conn: TcpStream, shared: &Mutex<Shared>) {
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // skip the headers
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let path = target.split(['?', '#']).next().unwrap_or("").to_owned();
    let entry = {
        let mut s = match shared.lock() {
            Ok(s) => s,
            Err(_) => return,
        };
        if method == "GET" {
            *s.hits.entry(path.clone()).or_default() += 1;
        }
        s.files.get(&path).cloned()
    };
    let mut conn = conn;
    match (method, entry) {
        ("GET" | "HEAD", Some(e)) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                e.announced
            );
            if conn.write_all(head.as_bytes()).is_err() {
                return;
            }
            if method == "GET" {
                let _ = conn.write_all(&e.body);
            }
        }
        ("GET" | "HEAD", None) => {
            let _ = conn.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        _ => {
            let _ = conn.write_all(
                b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}
