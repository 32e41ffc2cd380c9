//! Images from http(s) URLs: every type, the download cache (hits,
//! expiry, never poisoned), HTTPS with --cacert/--capath/-k, a proxy.

mod common;
use common::*;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

fn files(img: &[u8]) -> HashMap<String, Reply> {
    let mut m = HashMap::new();
    for (t, name) in [
        ("raw", "/i.raw"),
        ("raw+gz", "/i.gz"),
        ("raw+bzip2", "/i.bz2"),
        ("raw+xz", "/i.xz"),
    ] {
        m.insert(name.to_string(), Reply::Body(encode(t, img)));
    }
    m
}

fn cache_entries(fx: &Fixture) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fx.cache_dir())
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_type_over_http_with_cache_hits() {
    let img = image(8 * MIB);
    let mut m = files(&img);
    if have_qemu_img() {
        let d = tempfile::tempdir().unwrap();
        let raw = d.path().join("q.raw");
        std::fs::write(&raw, &img).unwrap();
        m.insert(
            "/i.qcow2".into(),
            Reply::Body(std::fs::read(qcow2_of(&raw)).unwrap()),
        );
    }
    let names: Vec<(String, &str)> = [
        ("/i.raw", "raw"),
        ("/i.gz", "raw+gz"),
        ("/i.bz2", "raw+bzip2"),
        ("/i.xz", "raw+xz"),
        ("/i.qcow2", "qcow2"),
    ]
    .into_iter()
    .filter(|(n, _)| m.contains_key(*n))
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    let srv = Server::start(m, None);
    for (name, t) in names {
        let mut fx = Fixture::new(16 << 20);
        let url = format!("http://127.0.0.1:{}{name}", srv.port);
        let before = srv.hits();
        assert_ok(&fx.create(&url, Some(t)));
        assert_eq!(srv.hits(), before + 1, "{t}");
        let back = std::fs::read(fx.disk()).unwrap();
        assert!(back[..img.len()] == img[..], "{t}");
        assert!(back[img.len()..].iter().all(|b| *b == 0), "{t}");
        let entries = cache_entries(&fx);
        assert_eq!(entries.len(), 1, "{t}: {entries:?}");
        assert!(entries[0].ends_with(".image"));

        // Second run: from the cache, the server is not contacted.
        std::fs::write(fx.disk(), b"").unwrap();
        assert_ok(&fx.create(&url, Some(t)));
        assert_eq!(srv.hits(), before + 1, "{t}: cache hit");
        assert!(
            std::fs::read(fx.disk()).unwrap()[..img.len()] == img[..],
            "{t}"
        );
    }
}

#[test]
fn cache_expiry_and_disabled_cache() {
    let img = image(2 * MIB);
    let srv = Server::start(files(&img), None);
    let url = format!("http://127.0.0.1:{}/i.gz", srv.port);
    let mut fx = Fixture::new(4 << 20);
    fx.config("default", "DOWNLOAD_CACHE_MAX_DAYS=2\n");
    assert_ok(&fx.create(&url, None));
    assert_eq!(srv.hits(), 1);
    let entry = fx.cache_dir().join(&cache_entries(&fx)[0]);
    let age = |days: u64| {
        let f = std::fs::File::options().write(true).open(&entry).unwrap();
        f.set_modified(SystemTime::now() - Duration::from_secs(days * 86_400))
            .unwrap();
    };
    age(1);
    assert_ok(&fx.create(&url, None));
    assert_eq!(srv.hits(), 1, "1 day old: still fresh");
    age(3);
    assert_ok(&fx.create(&url, None));
    assert_eq!(srv.hits(), 2, "3 days old: expired, downloaded again");
    assert_ok(&fx.create(&url, None));
    assert_eq!(srv.hits(), 2);

    // DOWNLOAD_CACHE_MAX_DAYS=0: no cache at all.
    let mut fx = Fixture::new(4 << 20);
    fx.config("default", "DOWNLOAD_CACHE_MAX_DAYS=0\n");
    assert_ok(&fx.create(&url, None));
    assert_ok(&fx.create(&url, None));
    assert_eq!(srv.hits(), 4);
    assert!(cache_entries(&fx).is_empty());
    assert!(std::fs::read(fx.disk()).unwrap()[..img.len()] == img[..]);
}

#[test]
fn broken_downloads_never_poison_the_cache() {
    let img = image(4 * MIB);
    let mut m = HashMap::new();
    let gz = encode("raw+gz", &img);
    let xz = encode("raw+xz", &img);
    m.insert(
        "/trunc.gz".to_string(),
        Reply::Body(gz[..gz.len() / 2].to_vec()),
    );
    m.insert(
        "/short.xz".to_string(),
        Reply::Short(xz.clone(), xz.len() / 2),
    );
    m.insert(
        "/short.raw".to_string(),
        Reply::Short(img.clone(), img.len() - 10),
    );
    let mut corrupt = encode("raw+bzip2", &img);
    let mid = corrupt.len() / 2;
    corrupt[mid..mid + 32].fill(0xFF);
    m.insert("/bad.bz2".to_string(), Reply::Body(corrupt));
    let srv = Server::start(m, None);
    for name in [
        "/trunc.gz",
        "/short.xz",
        "/short.raw",
        "/bad.bz2",
        "/missing.raw",
    ] {
        let mut fx = Fixture::new(8 << 20);
        let url = format!("http://127.0.0.1:{}{name}", srv.port);
        let before = srv.hits();
        let o = fx.create(&url, None);
        assert!(!o.status.success(), "{name} succeeded");
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains("error"), "{name}: {}", stderr(&o));
        assert!(
            cache_entries(&fx).is_empty(),
            "{name}: cache {:?}",
            cache_entries(&fx)
        );
        // A second try downloads again (no cache hit from the failure).
        assert!(!fx.create(&url, None).status.success());
        assert_eq!(srv.hits(), before + 2, "{name}");
    }
}

#[test]
fn image_larger_than_the_disk_over_http() {
    let img = image(8 * MIB);
    let srv = Server::start(files(&img), None);
    for name in ["/i.raw", "/i.xz"] {
        let mut fx = Fixture::new(4 << 20);
        let o = fx.create(&format!("http://127.0.0.1:{}{name}", srv.port), None);
        assert_fails(&o, "larger than the disk");
        assert!(cache_entries(&fx).is_empty());
    }
}

#[test]
fn https_with_cacert_capath_and_insecure() {
    let img = image(2 * MIB);
    let (tls, pem) = tls_server();
    let srv = Server::start(files(&img), Some(tls));
    let url = format!("https://127.0.0.1:{}/i.xz", srv.port);
    let mut fx = Fixture::new(4 << 20);
    fx.config("default", "DOWNLOAD_CACHE_MAX_DAYS=0\n");
    // Unknown CA: refused.
    let o = fx.create(&url, None);
    assert_fails(&o, "downloading");

    let ca = fx.path("ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    fx.config(
        "default",
        &format!(
            "DOWNLOAD_CACHE_MAX_DAYS=0\nCUSTOM_CURL_OPTS=\"--cacert {}\"\n",
            ca.display()
        ),
    );
    assert_ok(&fx.create(&url, None));
    assert!(std::fs::read(fx.disk()).unwrap()[..img.len()] == img[..]);

    let capath = fx.path("capath");
    std::fs::create_dir(&capath).unwrap();
    std::fs::write(capath.join("0123abcd.0"), &pem).unwrap();
    std::fs::write(capath.join("README"), "not a cert").unwrap();
    fx.config(
        "default",
        &format!(
            "DOWNLOAD_CACHE_MAX_DAYS=0\nCUSTOM_CURL_OPTS=\"--capath={}\"\n",
            capath.display()
        ),
    );
    assert_ok(&fx.create(&url, None));

    fx.config(
        "default",
        "DOWNLOAD_CACHE_MAX_DAYS=0\nCUSTOM_CURL_OPTS=-k\n",
    );
    assert_ok(&fx.create(&url, None));
    fx.config(
        "default",
        "DOWNLOAD_CACHE_MAX_DAYS=0\nCUSTOM_CURL_OPTS='-sSfL --insecure'\n",
    );
    assert_ok(&fx.create(&url, None));

    // A CA file without certificates is a configuration error.
    std::fs::write(&ca, "junk").unwrap();
    fx.config(
        "default",
        &format!("CUSTOM_CURL_OPTS=\"--cacert {}\"\n", ca.display()),
    );
    assert_fails(&fx.create(&url, None), "no certificate");
}

#[test]
fn downloads_through_a_proxy() {
    let img = image(2 * MIB);
    let (tls, pem) = tls_server();
    let plain = Server::start(files(&img), None);
    let secure = Server::start(files(&img), Some(tls));
    let (pport, tunnels) = proxy();
    let mut fx = Fixture::new(4 << 20);
    let ca = fx.path("ca.pem");
    std::fs::write(&ca, &pem).unwrap();
    fx.config(
        "default",
        &format!("DOWNLOAD_CACHE_MAX_DAYS=0\nPROXY=http://127.0.0.1:{pport}\nCUSTOM_CURL_OPTS=\"--cacert {}\"\n", ca.display()),
    );
    assert_ok(&fx.create(&format!("http://127.0.0.1:{}/i.gz", plain.port), None));
    assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(plain.hits(), 1);
    assert_ok(&fx.create(&format!("https://127.0.0.1:{}/i.bz2", secure.port), None));
    assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(secure.hits(), 1);
    assert!(std::fs::read(fx.disk()).unwrap()[..img.len()] == img[..]);

    // A proxy that is not there: a clean failure.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dport = dead.local_addr().unwrap().port();
    drop(dead);
    fx.config(
        "default",
        &format!("PROXY=http://user:secret@127.0.0.1:{dport}\n"),
    );
    let o = fx.create(&format!("http://127.0.0.1:{}/i.gz", plain.port), None);
    assert_fails(&o, "downloading");
    assert!(
        !stderr(&o).contains("secret"),
        "credentials leaked: {}",
        stderr(&o)
    );
}
