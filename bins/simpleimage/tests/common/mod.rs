//! Shared test fixture: a Ganeti-like environment for the simpleimage
//! binary, image builders, and tiny HTTP/HTTPS/proxy servers on 127.0.0.1.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub const MIB: usize = 1 << 20;

/// A temp dir with an OS dir, a config dir, a disk file and a cache dir.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Fixture {
    pub fn new(disk_size: u64) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let root = root.as_path();
        std::fs::create_dir_all(root.join("os")).unwrap();
        std::fs::write(root.join("os/variants.list"), "default\nother\n").unwrap();
        std::fs::create_dir_all(root.join("etc/default")).unwrap();
        std::fs::create_dir_all(root.join("etc/other")).unwrap();
        let f = std::fs::File::create(root.join("disk0")).unwrap();
        f.set_len(disk_size).unwrap();
        let mut fx = Self {
            tmp,
            env: Vec::new(),
        };
        fx.config("default", "");
        let s = |p: &Path| p.display().to_string();
        for (k, v) in [
            ("PATH", "/sbin:/bin:/usr/sbin:/usr/bin".to_string()),
            ("OS_API_VERSION", "20".into()),
            ("OS_NAME", "simpleimage".into()),
            ("OS_VARIANT", "default".into()),
            ("DEBUG_LEVEL", "0".into()),
            ("INSTANCE_NAME", "inst1.example.com".into()),
            ("INSTANCE_OS", "simpleimage+default".into()),
            ("HYPERVISOR", "kvm".into()),
            ("DISK_COUNT", "1".into()),
            ("DISK_0_PATH", s(&root.join("disk0"))),
            ("DISK_0_ACCESS", "rw".into()),
            ("DISK_0_SIZE", (disk_size >> 20).to_string()),
            ("DISK_0_BACKEND_TYPE", "file:loop".into()),
            ("NIC_COUNT", "0".into()),
            ("SIMPLEIMAGE_OS_DIR", s(&root.join("os"))),
            ("SIMPLEIMAGE_CONFIG_DIR", s(&root.join("etc"))),
        ] {
            fx.env.push((k.to_string(), v));
        }
        fx
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    pub fn disk(&self) -> PathBuf {
        self.path("disk0")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.path("cache")
    }

    /// Writes the variant's config; IMAGE_STORAGE always points into the fixture.
    pub fn config(&mut self, variant: &str, extra: &str) {
        let text = format!("IMAGE_STORAGE={}\n{extra}", self.cache_dir().display());
        std::fs::write(self.path(&format!("etc/{variant}/config")), text).unwrap();
    }

    pub fn set(&mut self, k: &str, v: &str) {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.into(), v.into()));
    }

    pub fn unset(&mut self, k: &str) {
        self.env.retain(|(key, _)| key != k);
    }

    pub fn run(&self, action: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_simpleimage"));
        c.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg(action)
            .args(args)
            .current_dir(self.path("os"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = c.spawn().unwrap();
        if let Some(data) = stdin {
            let mut si = child.stdin.take().unwrap();
            let data = data.to_vec();
            std::thread::spawn(move || {
                let _ = si.write_all(&data);
            });
        }
        child.wait_with_output().unwrap()
    }

    /// Runs `create` with the given image parameters.
    pub fn create(&mut self, image: &str, image_type: Option<&str>) -> Output {
        self.set("OSP_IMAGE", image);
        match image_type {
            Some(t) => self.set("OSP_IMAGE_TYPE", t),
            None => self.unset("OSP_IMAGE_TYPE"),
        }
        self.run("create", &[], None)
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn assert_ok(o: &Output) {
    assert!(o.status.success(), "failed: {}\n{}", o.status, stderr(o));
}

#[track_caller]
pub fn assert_fails(o: &Output, needle: &str) {
    assert!(!o.status.success(), "unexpectedly succeeded: {}", stderr(o));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    assert!(
        stderr(o).contains(needle),
        "stderr lacks {needle:?}: {}",
        stderr(o)
    );
}

/// A mostly-zero image with some data scattered in it.
pub fn image(size: usize) -> Vec<u8> {
    let mut v = vec![0u8; size];
    let mut x: u32 = 12345;
    for off in (0..size).step_by(MIB) {
        for b in &mut v[off..(off + 8192).min(size)] {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (x >> 16) as u8;
        }
    }
    v[size - 1] = 0x55;
    v
}

pub fn encode(kind: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match kind {
        "raw" => out.extend_from_slice(data),
        "raw+gz" => {
            let mut e = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap();
        }
        "raw+bzip2" => {
            let mut e = bzip2::write::BzEncoder::new(&mut out, bzip2::Compression::fast());
            e.write_all(data).unwrap();
            e.finish().unwrap();
        }
        "raw+xz" => {
            let mut e = liblzma::write::XzEncoder::new(&mut out, 1);
            e.write_all(data).unwrap();
            e.finish().unwrap();
        }
        other => panic!("no encoder for {other}"),
    }
    out
}

pub fn have_qemu_img() -> bool {
    let ok = Command::new("qemu-img")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIP: qemu-img not found; qcow2 cases not run");
    }
    ok
}

/// Converts `raw` to a qcow2 file next to it.
pub fn qcow2_of(raw: &Path) -> PathBuf {
    let q = raw.with_extension("qcow2");
    let st = Command::new("qemu-img")
        .args(["convert", "-q", "-f", "raw", "-O", "qcow2"])
        .arg(raw)
        .arg(&q)
        .status()
        .unwrap();
    assert!(st.success());
    q
}

/// How a server answers a path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with the body.
    Body(Vec<u8>),
    /// Announces the full length but closes after `n` bytes.
    Short(Vec<u8>, usize),
}

/// A tiny HTTP(S) file server counting the requests it gets.
pub struct Server {
    pub port: u16,
    pub hits: Arc<AtomicUsize>,
}

impl Server {
    pub fn start(files: HashMap<String, Reply>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let files = Arc::new(files);
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                let (files, h, tls) = (files.clone(), h.clone(), tls.clone());
                std::thread::spawn(move || {
                    let _ = match tls {
                        Some(cfg) => {
                            let conn = rustls::ServerConnection::new(cfg).unwrap();
                            serve(rustls::StreamOwned::new(conn, s), &files, &h)
                        }
                        None => serve(s, &files, &h),
                    };
                });
            }
        });
        Self { port, hits }
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn read_head<S: Read>(r: &mut BufReader<S>) -> std::io::Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = l.trim_end().to_string();
        if l.is_empty() {
            return Ok(lines);
        }
        lines.push(l);
    }
}

fn serve<S: Read + Write>(
    s: S,
    files: &HashMap<String, Reply>,
    hits: &AtomicUsize,
) -> std::io::Result<()> {
    let mut r = BufReader::new(s);
    let head = read_head(&mut r)?;
    hits.fetch_add(1, Ordering::SeqCst);
    let path = head[0].split_whitespace().nth(1).unwrap_or("/").to_string();
    let s = r.get_mut();
    match files.get(&path) {
        Some(Reply::Body(b)) => {
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                b.len()
            )?;
            s.write_all(b)?;
        }
        Some(Reply::Short(b, n)) => {
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                b.len()
            )?;
            s.write_all(&b[..*n])?;
        }
        None => write!(
            s,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?,
    }
    s.flush()
}

/// A self-signed certificate for 127.0.0.1: (server config, cert PEM).
pub fn tls_server() -> (Arc<rustls::ServerConfig>, String) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert_pem = ck.cert.pem();
    let der = ck.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    (Arc::new(cfg), cert_pem)
}

/// A CONNECT proxy on 127.0.0.1 counting the tunnels it opens.
pub fn proxy() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let c = c.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s);
                let Ok(head) = read_head(&mut r) else { return };
                let mut parts = head[0].split_whitespace();
                let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
                    let _ = r
                        .get_mut()
                        .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let Ok(up) = TcpStream::connect(target) else {
                    return;
                };
                let mut client = r.into_inner();
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .unwrap();
                let (mut c2, mut u2) = (client.try_clone().unwrap(), up.try_clone().unwrap());
                let mut up = up;
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut u2, &mut c2);
                    let _ = c2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut client, &mut up);
                let _ = up.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    (port, count)
}
