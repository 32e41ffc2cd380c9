//! OS providers through `gnt-instance` on real clusters (file disks, the
//! fake hypervisor, no QEMU): Debian's own `ganeti-os-noop` provider run
//! unchanged, and our `simpleimage` provider, installed by the project's
//! install step, writing every image type from local paths and from an
//! HTTP server on 127.0.0.1, refusing bad parameters before a job is
//! queued, failing cleanly on truncated or oversized images, running
//! variant hooks, and reinstalling/renaming. The disk files are compared
//! byte for byte with the images and checked to be sparse.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ganeti_e2e::http::FileServer;
use ganeti_e2e::os::{
    add_simpleimage_variant, install_simpleimage, link_debian_noop, run_install_script,
    set_simpleimage_config, simpleimage_config_dir,
};
use ganeti_e2e::{Cluster, Run};

const MIB: usize = 1 << 20;
/// Size of every test disk.
const DISK: &str = "16M";

// ---- images ---------------------------------------------------------------

/// An 8 MiB raw image: a few marked data regions (one random), zeros
/// elsewhere, so sparseness and misplaced bytes both show. `seed` makes
/// images differ.
fn raw_image(seed: u8) -> Vec<u8> {
    let mut img = vec![0u8; 8 * MIB];
    img[..4].copy_from_slice(b"HEAD");
    img[4] = seed;
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    for b in &mut img[MIB..MIB + 64 * 1024] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    img[5 * MIB + 12345] = seed.wrapping_add(1);
    let n = img.len();
    img[n - 4..].copy_from_slice(b"TAIL");
    img
}

/// `tool args < input` → stdout, or `None` (with a loud SKIP) when the
/// tool is missing.
fn filter(tool: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    use std::process::Stdio;
    let child = Command::new(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIP: {tool} is not available ({e}); its image type is not tested");
            return None;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "{tool} {args:?} failed");
    Some(out.stdout)
}

/// `raw` converted to qcow2 by qemu-img, or `None` (loud SKIP) without it.
fn qcow2_of(raw: &[u8], dir: &Path) -> Option<Vec<u8>> {
    let src = dir.join("qcow2-src.raw");
    let dst = dir.join("qcow2-dst.qcow2");
    std::fs::write(&src, raw).unwrap();
    let st = Command::new("qemu-img")
        .args(["convert", "-f", "raw", "-O", "qcow2"])
        .arg(&src)
        .arg(&dst)
        .status();
    match st {
        Ok(s) if s.success() => Some(std::fs::read(&dst).unwrap()),
        Ok(s) => panic!("qemu-img convert failed: {s}"),
        Err(e) => {
            eprintln!("SKIP: qemu-img is not available ({e}); qcow2 is not tested");
            None
        }
    }
}

/// `raw` in every image type simpleimage knows: `(image_type, suffix,
/// bytes)`; types whose tool is missing are left out (loudly).
fn encodings(raw: &[u8], dir: &Path) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let mut out = vec![("raw", "raw", raw.to_vec())];
    for (t, suffix, tool) in [
        ("raw+gz", "raw.gz", "gzip"),
        ("raw+bzip2", "raw.bz2", "bzip2"),
        ("raw+xz", "raw.xz", "xz"),
    ] {
        if let Some(bytes) = filter(tool, &["-c"], raw) {
            out.push((t, suffix, bytes));
        }
    }
    if let Some(bytes) = qcow2_of(raw, dir) {
        out.push(("qcow2", "qcow2", bytes));
    }
    out
}

// ---- cluster helpers -------------------------------------------------------

/// A cluster with simpleimage installed (scripts from os/simpleimage, the
/// built binary, config below the root).
fn simpleimage_cluster() -> Cluster {
    let c = Cluster::init();
    install_simpleimage(&c);
    c
}

/// `gnt-instance add` of a file-disk instance with `os` and `-O osparams`
/// (none if empty), not started.
fn add(c: &Cluster, name: &str, os: &str, osparams: &str) -> Run {
    let disk = format!("0:size={DISK}");
    let mut argv = vec![
        "gnt-instance",
        "add",
        "-t",
        "file",
        "--disk",
        &disk,
        "--ignore-ipolicy",
        "--no-start",
        "--no-name-check",
        "--no-ip-check",
        "-o",
        os,
    ];
    if !osparams.is_empty() {
        argv.extend(["-O", osparams]);
    }
    argv.push(name);
    c.gnt(&argv)
}

/// `add` must fail, with `needle` in its error output.
#[track_caller]
fn add_fails(c: &Cluster, name: &str, os: &str, osparams: &str, needle: &str) -> Run {
    let r = add(c, name, os, osparams);
    assert_ne!(r.rc, 0, "{name} was added");
    assert!(r.stderr.contains(needle), "{needle:?} not in {r:?}");
    r
}

/// Disk 0 of `instance` holds exactly `raw` followed by zeros up to the
/// disk size, and is sparse: at most `raw`'s non-zero 4 KiB blocks (plus
/// slack for file system metadata) are allocated.
#[track_caller]
fn assert_disk_holds(c: &Cluster, instance: &str, raw: &[u8]) {
    let path = c.file_disk(instance, 0);
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data.len(), 16 * MIB, "disk size of {instance}");
    assert!(
        data[..raw.len()] == *raw,
        "disk of {instance} does not hold the image"
    );
    assert!(
        data[raw.len()..].iter().all(|&b| b == 0),
        "disk of {instance} has bytes after the image"
    );
    let nonzero_blocks = raw
        .chunks(4096)
        .filter(|b| b.iter().any(|&x| x != 0))
        .count();
    let allocated = std::fs::metadata(&path).unwrap().blocks() * 512;
    assert!(
        allocated <= (nonzero_blocks as u64 + 64) * 4096,
        "disk of {instance} is not sparse: {allocated} bytes allocated for {nonzero_blocks} data blocks"
    );
}

/// Number of jobs in the queue.
fn job_count(c: &Cluster) -> usize {
    c.gnt(&["gnt-job", "list", "--no-headers", "-o", "id"])
        .ok()
        .lines()
        .count()
}

fn instance_field(c: &Cluster, instance: &str, field: &str) -> String {
    c.gnt(&[
        "gnt-instance",
        "list",
        "--no-headers",
        "-o",
        field,
        instance,
    ])
    .ok()
    .trim()
    .to_string()
}

/// The OS logs (`<root>/var/log/ganeti/os/*`) whose name starts with `prefix`.
fn os_logs(c: &Cluster, prefix: &str) -> Vec<PathBuf> {
    let dir = c.root().join("var/log/ganeti/os");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().path())
                .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    logs.sort();
    logs
}

/// Ganeti's log name suffix: `-YYYY-MM-DD_HH_MM_SS.log`.
#[track_caller]
fn assert_timestamped(log: &Path, prefix: &str) {
    let name = log.file_name().unwrap().to_string_lossy().into_owned();
    let ts = name
        .strip_prefix(prefix)
        .and_then(|r| r.strip_suffix(".log"))
        .unwrap_or_else(|| panic!("{name} does not start with {prefix}"));
    let shape: String = ts
        .chars()
        .map(|ch| if ch.is_ascii_digit() { 'D' } else { ch })
        .collect();
    assert_eq!(shape, "DDDD-DD-DD_DD_DD_DD", "timestamp of {name}");
}

fn cache_entries(c: &Cluster) -> Vec<String> {
    let dir = c.root().join("var/cache/ganeti/instance-simpleimage");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

// ---- the install step ------------------------------------------------------

#[test]
fn install_step_installs_simpleimage_into_a_cluster_root() {
    let c = Cluster::empty();
    let root = c.root().to_path_buf();
    let rs = root.to_str().unwrap();
    run_install_script(&["--root", rs]).ok();

    // binaries and the gnt-* links in ROOT/usr/local/sbin, as Ganeti's sbindir
    let sbin = root.join("usr/local/sbin");
    for b in ["gnt", "ganetid", "simpleimage"] {
        let m = std::fs::metadata(sbin.join(b)).unwrap();
        assert!(m.is_file() && m.permissions().mode() & 0o111 != 0, "{b}");
    }
    for t in ["cluster", "instance", "node", "os", "job", "filter"] {
        assert_eq!(
            std::fs::read_link(sbin.join(format!("gnt-{t}"))).unwrap(),
            Path::new("gnt")
        );
    }
    // the OS dir, naming the installed binary and the config dir below the root
    let os = root.join("srv/ganeti/os/simpleimage");
    for s in ["create", "import", "export", "rename", "verify"] {
        let m = std::fs::metadata(os.join(s)).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o755, "{s}");
    }
    assert_eq!(
        std::fs::read_to_string(os.join("simpleimage.path")).unwrap(),
        format!("{}\n", sbin.join("simpleimage").display())
    );
    let confdir = root.join("etc/ganeti/instance-simpleimage");
    assert_eq!(
        std::fs::read_to_string(os.join("simpleimage.configdir")).unwrap(),
        format!("{}\n", confdir.display())
    );
    let config = confdir.join("default/config");
    let text = std::fs::read_to_string(&config).unwrap();
    let cache = root.join("var/cache/ganeti/instance-simpleimage");
    assert!(
        text.lines()
            .any(|l| l == format!("IMAGE_STORAGE={}", cache.display())),
        "{text}"
    );
    assert!(text.contains("# PROXY=") && text.contains("# DOWNLOAD_CACHE_MAX_DAYS=7"));

    // idempotent: local edits of the config and variants.list survive,
    // a removed script comes back
    std::fs::write(&config, format!("{text}# local edit\n")).unwrap();
    std::fs::write(os.join("variants.list"), "default\nlocal\n").unwrap();
    std::fs::remove_file(os.join("create")).unwrap();
    run_install_script(&["--root", rs]).ok();
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .ends_with("# local edit\n"));
    assert_eq!(
        std::fs::read_to_string(os.join("variants.list")).unwrap(),
        "default\nlocal\n"
    );
    assert!(os.join("create").is_file());

    // what it installed works: a cluster in that root writes an image
    c.init_with(&["--nic-parameters", "link=br0"]);
    assert_eq!(
        c.gnt(&["gnt-os", "list", "--no-headers"]).ok(),
        "noop\nsimpleimage+default\nsimpleimage+local\n"
    );
    let raw = raw_image(1);
    let img = root.join("image.raw");
    std::fs::write(&img, &raw).unwrap();
    add(
        &c,
        "inst1",
        "simpleimage+default",
        &format!("image={}", img.display()),
    )
    .ok();
    assert_disk_holds(&c, "inst1", &raw);

    // bad invocations
    let r = run_install_script(&["--root", rs, "--bogus"]);
    assert_eq!(r.rc, 2, "{r:?}");
    assert!(r.stderr.contains("unknown argument: --bogus"), "{r:?}");
    let r = run_install_script(&["--root", rs, "--prefix", "usr/local"]);
    assert_eq!(r.rc, 2, "{r:?}");
    assert!(r.stderr.contains("--prefix must be absolute"), "{r:?}");
    let empty = root.join("no-binaries-here");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new("bash")
        .arg(ganeti_e2e::os::install_script())
        .args(["--root", rs, "--from"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not built"));
}

// ---- Debian's noop provider ------------------------------------------------

#[test]
fn debian_noop_provider_runs_unchanged() {
    let c = Cluster::init();
    let Some(link) = link_debian_noop(&c, "debnoop") else {
        return;
    };
    assert_eq!(
        c.gnt(&["gnt-os", "list", "--no-headers"]).ok(),
        "debnoop\nnoop\n"
    );
    let diag = c.gnt(&["gnt-os", "diagnose"]).ok().to_string();
    assert!(
        diag.contains(&format!(
            "status: valid (path: {}) [API versions: 5, 10]",
            link.display()
        )),
        "{diag}"
    );

    // create
    add(&c, "deb1", "debnoop", "").ok();
    let logs = os_logs(&c, "add-debnoop-deb1-");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_timestamped(&logs[0], "add-debnoop-deb1-");
    assert_eq!(instance_field(&c, "deb1", "os"), "debnoop");

    // an OS without variants refuses one, before a job is queued
    let jobs = job_count(&c);
    let r = add(&c, "deb2", "debnoop+foo", "");
    assert_ne!(r.rc, 0);
    assert!(
        r.stderr
            .contains("OS 'debnoop' does not support variants ('foo' passed)"),
        "{r:?}"
    );
    assert_eq!(job_count(&c), jobs);

    // reinstall: a second create log (names have a one-second resolution)
    std::thread::sleep(Duration::from_millis(1100));
    c.gnt(&["gnt-instance", "reinstall", "-f", "deb1"]).ok();
    assert_eq!(os_logs(&c, "add-debnoop-deb1-").len(), 2);

    // rename runs the rename script, logged under both names
    c.gnt(&[
        "gnt-instance",
        "rename",
        "-f",
        "--no-name-check",
        "--no-ip-check",
        "deb1",
        "deb3",
    ])
    .ok();
    let logs = os_logs(&c, "rename-debnoop-deb1-deb3-");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_timestamped(&logs[0], "rename-debnoop-deb1-deb3-");
    assert_eq!(instance_field(&c, "deb3", "os"), "debnoop");
    c.gnt(&["gnt-instance", "remove", "-f", "deb3"]).ok();
}

// ---- simpleimage -----------------------------------------------------------

#[test]
fn simpleimage_writes_every_image_type_from_a_local_path() {
    let c = simpleimage_cluster();
    let raw = raw_image(2);
    let images = c.root().join("images");
    std::fs::create_dir_all(&images).unwrap();
    for (i, (t, suffix, bytes)) in encodings(&raw, &images).into_iter().enumerate() {
        // the name hides the type: image_type decides
        let path = images.join(format!("img{i}.bin"));
        std::fs::write(&path, &bytes).unwrap();
        let name = format!("local{i}");
        add(
            &c,
            &name,
            "simpleimage+default",
            &format!("image={},image_type={t}", path.display()),
        )
        .ok();
        assert_disk_holds(&c, &name, &raw);
        // and without image_type, the suffix does
        let path = images.join(format!("img{i}.{suffix}"));
        std::fs::write(&path, &bytes).unwrap();
        let name = format!("suffix{i}");
        add(
            &c,
            &name,
            "simpleimage+default",
            &format!("image={}", path.display()),
        )
        .ok();
        assert_disk_holds(&c, &name, &raw);
        let log = os_logs(&c, &format!("add-simpleimage+default-{name}-"));
        assert_eq!(log.len(), 1, "{log:?}");
        let text = std::fs::read_to_string(&log[0]).unwrap();
        assert!(
            text.contains("simpleimage: wrote 8388608 bytes"),
            "{t}: {text}"
        );
    }
}

#[test]
fn simpleimage_downloads_over_http_with_a_cache() {
    let c = simpleimage_cluster();
    let server = FileServer::start();
    let raw = raw_image(3);
    let images = c.root().join("images");
    std::fs::create_dir_all(&images).unwrap();
    let encoded = encodings(&raw, &images);
    for (i, (t, suffix, bytes)) in encoded.iter().enumerate() {
        let path = format!("/images/img{i}.{suffix}");
        server.serve(&path, bytes.clone());
        let name = format!("http{i}");
        add(
            &c,
            &name,
            "simpleimage+default",
            &format!("image={},image_type={t}", server.url(&path)),
        )
        .ok();
        assert_disk_holds(&c, &name, &raw);
        assert_eq!(server.hits(&path), 1, "{t}");
    }
    // one cache entry per URL, nothing partial
    let entries = cache_entries(&c);
    assert_eq!(entries.len(), encoded.len(), "{entries:?}");
    assert!(entries.iter().all(|e| e.ends_with(".image")), "{entries:?}");

    // the second instance from a URL is a cache hit: no request
    let (t, suffix, _) = &encoded[encoded.len() - 1];
    let path = format!("/images/img{}.{suffix}", encoded.len() - 1);
    add(
        &c,
        "again",
        "simpleimage+default",
        &format!("image={},image_type={t}", server.url(&path)),
    )
    .ok();
    assert_disk_holds(&c, "again", &raw);
    assert_eq!(server.hits(&path), 1);
    let log = os_logs(&c, "add-simpleimage+default-again-");
    let text = std::fs::read_to_string(&log[0]).unwrap();
    assert!(text.contains("using cached download"), "{text}");

    // a variant without cache downloads every time
    add_simpleimage_variant(&c, "nocache");
    set_simpleimage_config(&c, "nocache", "DOWNLOAD_CACHE_MAX_DAYS=0\n");
    server.serve("/images/nocache.raw", raw.clone());
    for name in ["nocache1", "nocache2"] {
        add(
            &c,
            name,
            "simpleimage+nocache",
            &format!("image={}", server.url("/images/nocache.raw")),
        )
        .ok();
        assert_disk_holds(&c, name, &raw);
    }
    assert_eq!(server.hits("/images/nocache.raw"), 2);

    // a missing URL fails the job with the HTTP status
    add_fails(
        &c,
        "missing",
        "simpleimage+default",
        &format!("image={}", server.url("/images/none.raw")),
        "404",
    );
}

#[test]
fn bad_simpleimage_parameters_are_refused_at_submit() {
    let c = simpleimage_cluster();
    let img = c.root().join("image.raw");
    std::fs::write(&img, raw_image(4)).unwrap();
    let jobs = job_count(&c);
    let cases = [
        (
            format!("image={},image_type=zip", img.display()),
            "invalid image_type \"zip\": expected one of raw, raw+gz, raw+bzip2, raw+xz, qcow2"
                .to_string(),
        ),
        (
            "image=relative/image.raw".to_string(),
            "expected an absolute path or an http(s) URL".to_string(),
        ),
        (
            "image=ftp://127.0.0.1/x.raw".to_string(),
            "only http:// and https:// URLs are supported".to_string(),
        ),
        (
            format!("image={}/none.raw", c.root().display()),
            format!("{}/none.raw", c.root().display()),
        ),
        (
            format!("image={},colour=blue", img.display()),
            "colour".to_string(),
        ),
    ];
    for (params, message) in &cases {
        let r = add(&c, "bad1", "simpleimage+default", params);
        assert_ne!(r.rc, 0, "{params}");
        assert!(r.stderr.contains(message), "{params}: {r:?}");
        assert!(r.stderr.contains("validation failed"), "{params}: {r:?}");
        assert_eq!(job_count(&c), jobs, "a job was queued for {params}");
    }
    // the variant must be one of variants.list
    let r = add(
        &c,
        "bad1",
        "simpleimage+nosuch",
        &format!("image={}", img.display()),
    );
    assert!(
        r.stderr
            .contains("OS 'simpleimage' does not support variant 'nosuch'"),
        "{r:?}"
    );
    let r = add(
        &c,
        "bad1",
        "simpleimage",
        &format!("image={}", img.display()),
    );
    assert!(
        r.stderr
            .contains("OS name 'simpleimage' must include a variant"),
        "{r:?}"
    );
    assert_eq!(job_count(&c), jobs);
    assert_eq!(
        c.gnt(&["gnt-instance", "list", "--no-headers", "-o", "name"])
            .ok(),
        ""
    );

    // `image` unset: simpleimage's verify accepts it (cluster-level
    // defaults may set image_type alone), so the job runs and the create
    // script fails, leaving the instance as Ganeti does: in the config,
    // administratively down, with its disk
    let r = add(&c, "noimage", "simpleimage+default", "image_type=raw");
    assert_ne!(r.rc, 0);
    assert!(
        r.stderr
            .contains("OS parameter 'image' is not set (a path or an http(s) URL)"),
        "{r:?}"
    );
    assert!(
        r.stderr.contains("Could not add os for instance noimage"),
        "{r:?}"
    );
    assert_eq!(instance_field(&c, "noimage", "status"), "ADMIN_down");
    assert!(c.file_disk("noimage", 0).is_file());
}

#[test]
fn truncated_images_fail_cleanly_and_are_not_cached() {
    let c = simpleimage_cluster();
    let raw = raw_image(5);
    let Some(gz) = filter("gzip", &["-c"], &raw) else {
        return;
    };

    // a download that breaks off
    let server = FileServer::start();
    let path = "/images/broken.raw.gz";
    server.serve_truncated(path, gz[..gz.len() / 2].to_vec(), gz.len() as u64);
    let r = add(
        &c,
        "trunc1",
        "simpleimage+default",
        &format!("image={}", server.url(path)),
    );
    assert_ne!(r.rc, 0);
    assert!(
        r.stderr.contains("Could not add os for instance trunc1"),
        "{r:?}"
    );
    assert_eq!(instance_field(&c, "trunc1", "status"), "ADMIN_down");
    assert!(
        cache_entries(&c).is_empty(),
        "cache after a broken download: {:?}",
        cache_entries(&c)
    );
    // the full image later: downloaded again (no poisoned entry), written
    server.serve(path, gz.clone());
    c.gnt(&["gnt-instance", "reinstall", "-f", "trunc1"]).ok();
    assert_eq!(server.hits(path), 2);
    assert_disk_holds(&c, "trunc1", &raw);
    assert_eq!(cache_entries(&c).len(), 1);

    // a truncated local file
    let Some(xz) = filter("xz", &["-c"], &raw) else {
        return;
    };
    let img = c.root().join("broken.raw.xz");
    std::fs::write(&img, &xz[..xz.len() - 100]).unwrap();
    add_fails(
        &c,
        "trunc2",
        "simpleimage+default",
        &format!("image={}", img.display()),
        "reading image",
    );
    assert_eq!(instance_field(&c, "trunc2", "status"), "ADMIN_down");
}

#[test]
fn an_image_larger_than_the_disk_is_refused() {
    let c = simpleimage_cluster();
    // 32 MiB, mostly holes, for a 16 MiB disk
    let mut big = vec![0u8; 32 * MIB];
    big[..4].copy_from_slice(b"HEAD");
    let n = big.len();
    big[n - 4..].copy_from_slice(b"TAIL");
    let img = c.root().join("big.raw");
    std::fs::write(&img, &big).unwrap();
    add_fails(
        &c,
        "big1",
        "simpleimage+default",
        &format!("image={}", img.display()),
        "image is larger than the disk",
    );
    // compressed, the size shows only while streaming
    if let Some(xz) = filter("xz", &["-c"], &big) {
        let img = c.root().join("big.raw.xz");
        std::fs::write(&img, xz).unwrap();
        add_fails(
            &c,
            "big2",
            "simpleimage+default",
            &format!("image={}", img.display()),
            "image is larger than the disk",
        );
        // nothing was written past the disk's end
        assert_eq!(
            std::fs::metadata(c.file_disk("big2", 0)).unwrap().len(),
            16 * MIB as u64
        );
    }
}

#[test]
fn variant_hooks_run_with_the_os_environment() {
    if !Path::new("/dev/loop-control").exists() {
        eprintln!(
            "SKIP: no /dev/loop-control; simpleimage's hooks need a loop device for file disks"
        );
        return;
    }
    let c = simpleimage_cluster();
    add_simpleimage_variant(&c, "hooked");
    set_simpleimage_config(&c, "hooked", "");
    let hooks = simpleimage_config_dir(&c).join("hooked/hooks.d");
    std::fs::create_dir_all(&hooks).unwrap();
    let out = c.root().join("hook.out");
    let script = |name: &str, body: &str| {
        let p = hooks.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(
        "10-check",
        &format!(
            "out={out}\n\
             {{\n\
             echo \"INSTANCE_NAME=$INSTANCE_NAME\"\n\
             echo \"OS_NAME=$OS_NAME\"\n\
             echo \"OS_VARIANT=$OS_VARIANT\"\n\
             echo \"OSP_IMAGE_TYPE=$OSP_IMAGE_TYPE\"\n\
             echo \"DISK_0_PATH=$DISK_0_PATH\"\n\
             [ -b \"$TARGET_DISK_DEVICE\" ] && echo TARGET_DISK_DEVICE=block\n\
             echo \"FIRST=$(head -c 4 \"$TARGET_DISK_DEVICE\")\"\n\
             echo \"TARGET=$TARGET_DISK_DEVICE\"\n\
             }} >\"$out\"\n",
            out = out.display()
        ),
    );
    // run-parts rules: a name with a dot is not run
    let skipped = c.root().join("skipped.out");
    script("20-skip.me", &format!("touch {}\n", skipped.display()));

    let raw = raw_image(6);
    let img = c.root().join("image.raw");
    std::fs::write(&img, &raw).unwrap();
    add(
        &c,
        "hooked1",
        "simpleimage+hooked",
        &format!("image={},image_type=raw", img.display()),
    )
    .ok();
    assert_disk_holds(&c, "hooked1", &raw);
    let text = std::fs::read_to_string(&out).unwrap();
    let disk = c.file_disk("hooked1", 0);
    for line in [
        "INSTANCE_NAME=hooked1".to_string(),
        "OS_NAME=simpleimage".to_string(),
        "OS_VARIANT=hooked".to_string(),
        "OSP_IMAGE_TYPE=raw".to_string(),
        format!("DISK_0_PATH={}", disk.display()),
        "TARGET_DISK_DEVICE=block".to_string(),
        "FIRST=HEAD".to_string(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing in:\n{text}"
        );
    }
    assert!(!skipped.exists(), "a hook with a dot in its name ran");
    // the loop device is gone again
    let lo = Command::new("losetup")
        .arg("-j")
        .arg(&disk)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&lo.stdout), "", "loop device left");

    // a failing hook fails the create, with its output in the error
    script("30-fail", "echo hook says no >&2\nexit 3\n");
    add_fails(
        &c,
        "hooked2",
        "simpleimage+hooked",
        &format!("image={}", img.display()),
        "hook says no",
    );
    assert_eq!(instance_field(&c, "hooked2", "status"), "ADMIN_down");
}

#[test]
fn reinstall_writes_another_image_and_rename_succeeds() {
    let c = simpleimage_cluster();
    let a = raw_image(7);
    // b has zeros where a has its random block: a stale byte would show
    let mut b = vec![0u8; 8 * MIB];
    b[..4].copy_from_slice(b"BBBB");
    b[3 * MIB..3 * MIB + 4096].fill(0x5a);
    let (pa, pb) = (c.root().join("a.raw"), c.root().join("b.raw"));
    std::fs::write(&pa, &a).unwrap();
    std::fs::write(&pb, &b).unwrap();
    add(
        &c,
        "re1",
        "simpleimage+default",
        &format!("image={}", pa.display()),
    )
    .ok();
    assert_disk_holds(&c, "re1", &a);

    c.gnt(&[
        "gnt-instance",
        "reinstall",
        "-f",
        "-O",
        &format!("image={}", pb.display()),
        "re1",
    ])
    .ok();
    assert_disk_holds(&c, "re1", &b);
    let params = c.gnt(&["gnt-instance", "info", "re1"]).ok().to_string();
    assert!(params.contains(&pb.display().to_string()), "{params}");

    // reinstall with a bad image_type is refused before a job is queued
    let jobs = job_count(&c);
    let r = c.gnt(&[
        "gnt-instance",
        "reinstall",
        "-f",
        "-O",
        &format!("image={},image_type=tar", pa.display()),
        "re1",
    ]);
    assert_ne!(r.rc, 0);
    assert!(r.stderr.contains("invalid image_type \"tar\""), "{r:?}");
    assert_eq!(job_count(&c), jobs);
    assert_disk_holds(&c, "re1", &b);

    // rename runs simpleimage's (no-op) rename script
    c.gnt(&[
        "gnt-instance",
        "rename",
        "-f",
        "--no-name-check",
        "--no-ip-check",
        "re1",
        "re2",
    ])
    .ok();
    let logs = os_logs(&c, "rename-simpleimage+default-re1-re2-");
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert_disk_holds(&c, "re2", &b);
}
