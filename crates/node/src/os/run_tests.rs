//! Running real (tiny, shell) OS providers written into a temp dir: the
//! exact environment per API version, disks and NICs, failures quoting
//! the log, the deadline, secret masking, and verify.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ganeti_types::{Dict, DiskTemplate};
use serde_json::json;

use super::env::{OsInstanceInfo, OsRunSpec};
use super::run::{instance_log_name, timestamp_for_filename, OsRunner};
use crate::spec::NetworkInfo;
use crate::spec::{DiskMode, DiskSpec, InstanceSpec, NicSpec};
use crate::NodeError;

struct Fixture {
    _dir: tempfile::TempDir,
    os_dir: PathBuf,
    log_dir: PathBuf,
}

fn exe(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Every script dumps its environment (sorted) to `<script>.env` in the
/// OS directory, its cwd.
const DUMP: &str = "env | sort > \"$(basename \"$0\").env\"";

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let os_dir = dir.path().join("os");
        let log_dir = dir.path().join("log");
        fs::create_dir_all(&os_dir).unwrap();
        Fixture {
            _dir: dir,
            os_dir,
            log_dir,
        }
    }

    /// An OS declaring `api` whose scripts dump their env and exit 0.
    fn os(&self, name: &str, api: &str) -> PathBuf {
        let d = self.os_dir.join(name);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("ganeti_api_version"), api).unwrap();
        for s in ["create", "export", "import", "rename", "verify"] {
            exe(&d.join(s), DUMP);
        }
        fs::write(
            d.join("parameters.list"),
            "root-pw the password\nsize bytes\n",
        )
        .unwrap();
        d
    }

    fn runner(&self) -> OsRunner {
        let mut r = OsRunner::new(vec![self.os_dir.clone()], self.log_dir.clone());
        r.install_timeout = Duration::from_secs(20);
        r.verify_timeout = Duration::from_secs(20);
        r
    }

    fn logs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.log_dir.join("os"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn read_env(path: &Path) -> BTreeMap<String, String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn dict(v: serde_json::Value) -> Dict {
    v.as_object().cloned().unwrap()
}

fn instance() -> InstanceSpec {
    InstanceSpec {
        name: "inst1.example.com".into(),
        uuid: "i-uuid".into(),
        os: "debootstrap+buster".into(),
        hypervisor: "kvm".into(),
        hvparams: dict(json!({"disk_type": "paravirtual", "nic_type": "e1000", "acpi": true})),
        beparams: dict(json!({"maxmem": 256, "vcpus": 1})),
        maxmem_mib: 256,
        minmem_mib: 256,
        vcpus: 1,
        disks: vec![
            DiskSpec {
                uuid: "d0".into(),
                name: Some("root".into()),
                iv_name: "disk/0".into(),
                template: DiskTemplate::File,
                size_mib: 1024,
                logical_id: json!(["loop", "/srv/x/d0"]),
                mode: DiskMode::Rw,
                params: Dict::new(),
            },
            DiskSpec {
                uuid: "d1".into(),
                name: None,
                iv_name: "disk/1".into(),
                template: DiskTemplate::Plain,
                size_mib: 512,
                logical_id: json!(["xenvg", "d1"]),
                mode: DiskMode::Ro,
                params: Dict::new(),
            },
        ],
        nics: vec![
            NicSpec {
                uuid: "n0".into(),
                name: Some("eth".into()),
                mac: "aa:00:00:00:00:01".into(),
                ip: Some("192.0.2.10".into()),
                network: Some("net-uuid".into()),
                mode: "bridged".into(),
                link: "br0".into(),
                vlan: "".into(),
            },
            NicSpec {
                uuid: "n1".into(),
                name: None,
                mac: "aa:00:00:00:00:02".into(),
                ip: None,
                network: None,
                mode: "routed".into(),
                link: "".into(),
                vlan: "".into(),
            },
        ],
        network_port: None,
    }
}

fn run_spec(name: &str, params: serde_json::Value) -> OsRunSpec {
    OsRunSpec {
        name: name.into(),
        params: dict(params),
        secret_params: Dict::new(),
        instance: OsInstanceInfo {
            ctime: Some(1700000000.0),
            mtime: Some(1700000001.25),
            primary_node: "node-uuid".into(),
            secondary_nodes: vec![],
            nic_networks: vec![
                Some(NetworkInfo {
                    name: "net1".into(),
                    uuid: "net-uuid".into(),
                    tags: vec!["a".into(), "b".into()],
                    subnet: Some("192.0.2.0/24".into()),
                    gateway: None,
                    subnet6: None,
                    gateway6: None,
                    mac_prefix: Some("aa:00:00".into()),
                }),
                None,
            ],
        },
    }
}

fn disk_paths() -> Vec<PathBuf> {
    vec!["/srv/x/d0".into(), "/dev/xenvg/d1".into()]
}

fn keys(env: &BTreeMap<String, String>) -> Vec<&str> {
    env.keys().map(String::as_str).collect()
}

#[test]
fn create_env_api20_is_exactly_ganetis() {
    let f = Fixture::new();
    let d = f.os("debootstrap", "20\n");
    fs::write(d.join("variants.list"), "# comment\nbuster\nbullseye\n").unwrap();
    let run = run_spec("debootstrap+bullseye", json!({"root-pw": "x", "size": 3}));
    f.runner()
        .create(&instance(), &run, &disk_paths(), false, 1)
        .unwrap();
    let env = read_env(&d.join("create.env"));
    let expected: BTreeMap<String, String> = [
        ("OS_API_VERSION", "20"),
        ("OS_NAME", "debootstrap"),
        ("OS_VARIANT", "bullseye"),
        ("DEBUG_LEVEL", "1"),
        ("OSP_ROOT_PW", "x"),
        ("OSP_SIZE", "3"),
        ("PATH", "/sbin:/bin:/usr/sbin:/usr/bin"),
        ("INSTANCE_NAME", "inst1.example.com"),
        ("INSTANCE_OS", "debootstrap+bullseye"),
        ("INSTANCE_UUID", "i-uuid"),
        ("INSTANCE_CTIME", "1700000000.0"),
        ("INSTANCE_MTIME", "1700000001.25"),
        ("INSTANCE_PRIMARY_NODE", "node-uuid"),
        ("INSTANCE_SECONDARY_NODES", ""),
        ("HYPERVISOR", "kvm"),
        ("DISK_COUNT", "2"),
        ("NIC_COUNT", "2"),
        ("DISK_0_PATH", "/srv/x/d0"),
        ("DISK_0_ACCESS", "rw"),
        ("DISK_0_UUID", "d0"),
        ("DISK_0_SIZE", "1024"),
        ("DISK_0_NAME", "root"),
        ("DISK_0_FRONTEND_TYPE", "paravirtual"),
        ("DISK_0_BACKEND_TYPE", "file:loop"),
        ("DISK_1_PATH", "/dev/xenvg/d1"),
        ("DISK_1_ACCESS", "ro"),
        ("DISK_1_UUID", "d1"),
        ("DISK_1_SIZE", "512"),
        ("DISK_1_FRONTEND_TYPE", "paravirtual"),
        ("DISK_1_BACKEND_TYPE", "block"),
        ("NIC_0_MAC", "aa:00:00:00:00:01"),
        ("NIC_0_UUID", "n0"),
        ("NIC_0_NAME", "eth"),
        ("NIC_0_IP", "192.0.2.10"),
        ("NIC_0_MODE", "bridged"),
        ("NIC_0_BRIDGE", "br0"),
        ("NIC_0_LINK", "br0"),
        ("NIC_0_NETWORK_NAME", "net1"),
        ("NIC_0_NETWORK_UUID", "net-uuid"),
        ("NIC_0_NETWORK_TAGS", "a b"),
        ("NIC_0_NETWORK_SUBNET", "192.0.2.0/24"),
        ("NIC_0_NETWORK_MAC_PREFIX", "aa:00:00"),
        ("NIC_0_FRONTEND_TYPE", "e1000"),
        ("NIC_1_MAC", "aa:00:00:00:00:02"),
        ("NIC_1_UUID", "n1"),
        ("NIC_1_MODE", "routed"),
        ("NIC_1_FRONTEND_TYPE", "e1000"),
        ("INSTANCE_HV_disk_type", "paravirtual"),
        ("INSTANCE_HV_nic_type", "e1000"),
        ("INSTANCE_HV_acpi", "True"),
        ("INSTANCE_BE_maxmem", "256"),
        ("INSTANCE_BE_vcpus", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // the shell adds PWD (and SHLVL, _ on some shells) itself
    let env: BTreeMap<String, String> = env
        .into_iter()
        .filter(|(k, _)| !["PWD", "SHLVL", "_", "OLDPWD"].contains(&k.as_str()))
        .collect();
    assert_eq!(env, expected);
    // one log per run, named as Ganeti names it
    let logs = f.logs();
    assert_eq!(logs.len(), 1);
    let name = logs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("add-debootstrap+bullseye-inst1.example.com-"),
        "{name}"
    );
    assert!(name.ends_with(".log"));
}

#[test]
fn variant_and_params_by_api_version() {
    let f = Fixture::new();
    for (name, api) in [("v10", "10\n"), ("v15", "15\n"), ("v20", "20\n")] {
        let d = f.os(name, api);
        fs::write(d.join("variants.list"), "first\nsecond\n").unwrap();
        // without a variant in the name, the first one is used (API >= 15)
        let run = run_spec(name, json!({"size": "1"}));
        f.runner()
            .create(&instance(), &run, &disk_paths(), true, 0)
            .unwrap();
        let env = read_env(&d.join("create.env"));
        let variant = &env["OS_VARIANT"];
        assert_eq!(env["OS_API_VERSION"], api.trim());
        assert_eq!(env["INSTANCE_REINSTALL"], "1");
        assert_eq!(env["DEBUG_LEVEL"], "0");
        match name {
            "v10" => assert_eq!(variant, ""),
            _ => assert_eq!(variant, "first"),
        }
        // OS parameters are whatever the master sends; the master only
        // sends them for API 20 providers (validated there).
        assert_eq!(env["OSP_SIZE"], "1");
    }
    // highest supported declared version wins
    let d = f.os("multi", "10\n15\n20\n");
    f.runner()
        .create(&instance(), &run_spec("multi", json!({})), &[], false, 0)
        .unwrap();
    let env = read_env(&d.join("create.env"));
    assert_eq!(env["OS_API_VERSION"], "20");
    assert_eq!(env["OS_VARIANT"], "");
    assert!(!keys(&env).iter().any(|k| k.starts_with("OSP_")));
    // no disk path known: no DISK_<n>_PATH
    assert!(!env.contains_key("DISK_0_PATH"));
    assert!(!env.contains_key("INSTANCE_REINSTALL"));
}

#[test]
fn failing_create_quotes_the_last_log_lines() {
    let f = Fixture::new();
    let d = f.os("bad", "20\n");
    let mut body = String::new();
    for i in 1..=25 {
        body.push_str(&format!("echo line {i}\n"));
    }
    body.push_str("echo to-stderr >&2\nexit 3");
    exe(&d.join("create"), &body);
    let e = f
        .runner()
        .create(&instance(), &run_spec("bad", json!({})), &[], false, 0)
        .unwrap_err();
    let text = e.to_string();
    let mut expected = String::from(
        "OS create script failed (exited with exit code 3), last lines in the log file:\n",
    );
    let tail: Vec<String> = (7..=25)
        .map(|i| format!("line {i}"))
        .chain(["to-stderr".to_string()])
        .collect();
    expected.push_str(&tail.join("\n"));
    assert_eq!(text, expected);
    assert!(matches!(
        e,
        NodeError::OsScriptFailed {
            script: "create",
            ..
        }
    ));
}

#[test]
fn timeout_kills_the_script_and_its_children() {
    let f = Fixture::new();
    let d = f.os("hang", "20\n");
    exe(
        &d.join("create"),
        "sleep 60 &\necho $! > child.pid\necho started\nsleep 60",
    );
    let mut r = f.runner();
    r.install_timeout = Duration::from_millis(500);
    let t = Instant::now();
    let e = r
        .create(&instance(), &run_spec("hang", json!({})), &[], false, 0)
        .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let text = e.to_string();
    assert!(
        text.starts_with(
            "OS create script failed (terminated by signal 9 (timeout after 0 seconds)), last lines in the log file:\nstarted"
        ),
        "{text}"
    );
    // the background child went with the group
    let pid: i32 = fs::read_to_string(d.join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone = (0..100).any(|_| {
        let alive = fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false);
        if alive {
            std::thread::sleep(Duration::from_millis(20));
        }
        !alive
    });
    assert!(gone, "child {pid} survived");
}

#[test]
fn secret_params_reach_the_script_but_not_log_or_error() {
    let f = Fixture::new();
    let d = f.os("sec", "20\n");
    exe(
        &d.join("create"),
        "env\necho \"$OSP_ROOT_PW\" > got.secret\necho \"password is $OSP_ROOT_PW\"\nexit 1",
    );
    let mut run = run_spec("sec", json!({"size": "2"}));
    run.secret_params = dict(json!({"root-pw": "s3cr3t-value"}));
    let e = f
        .runner()
        .create(&instance(), &run, &[], false, 0)
        .unwrap_err();
    assert_eq!(
        fs::read_to_string(d.join("got.secret")).unwrap(),
        "s3cr3t-value\n"
    );
    let text = e.to_string();
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(text.contains("password is <redacted>"), "{text}");
    for log in f.logs() {
        let body = fs::read_to_string(&log).unwrap();
        assert!(!body.contains("s3cr3t"), "{body}");
        assert!(body.contains("OSP_ROOT_PW=<redacted>"), "{body}");
        assert!(body.contains("OSP_SIZE=2"), "{body}");
    }
    // rename never gets the one-shot secrets
    f.runner()
        .rename(&instance(), "old.example.com", &run, &[], 0)
        .unwrap();
    let env = read_env(&d.join("rename.env"));
    assert!(!env.contains_key("OSP_ROOT_PW"));
}

#[test]
fn rename_env_and_log_name() {
    let f = Fixture::new();
    let d = f.os("ren", "15\n");
    f.runner()
        .rename(
            &instance(),
            "old.example.com",
            &run_spec("ren", json!({})),
            &disk_paths(),
            0,
        )
        .unwrap();
    let env = read_env(&d.join("rename.env"));
    assert_eq!(env["OLD_INSTANCE_NAME"], "old.example.com");
    assert_eq!(env["INSTANCE_NAME"], "inst1.example.com");
    assert_eq!(env["DISK_1_PATH"], "/dev/xenvg/d1");
    assert!(!env.contains_key("INSTANCE_REINSTALL"));
    let logs = f.logs();
    let name = logs[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("rename-ren-old.example.com-inst1.example.com-"),
        "{name}"
    );
    // a failing rename quotes its log too
    exe(&d.join("rename"), "echo nope; exit 2");
    let e = f
        .runner()
        .rename(
            &instance(),
            "old.example.com",
            &run_spec("ren", json!({})),
            &[],
            0,
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "OS rename script failed (exited with exit code 2), last lines in the log file:\nnope"
    );
}

#[test]
fn log_names_use_ganetis_timestamp() {
    // 2023-11-14 22:13:20 UTC; local time varies, the shape does not
    let ts = timestamp_for_filename(1_700_000_000.0);
    assert_eq!(ts.len(), "2023-11-14_22_13_20".len());
    assert!(
        ts.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '_'),
        "{ts}"
    );
    let p = instance_log_name(Path::new("/var/log/ganeti"), "add", "noop", "i1");
    let s = p.display().to_string();
    assert!(s.starts_with("/var/log/ganeti/os/add-noop-i1-"), "{s}");
}

#[test]
fn missing_or_untrusted_os_refused() {
    let f = Fixture::new();
    let e = f
        .runner()
        .create(&instance(), &run_spec("nosuch", json!({})), &[], false, 0)
        .unwrap_err();
    assert!(matches!(e, NodeError::OsInvalid(_)), "{e}");
    let d = f.os("untrusted", "20\n");
    fs::rename(d.join("create"), d.join("create_untrusted")).unwrap();
    let e = f
        .runner()
        .create(
            &instance(),
            &run_spec("untrusted", json!({})),
            &[],
            false,
            0,
        )
        .unwrap_err();
    assert!(matches!(e, NodeError::OsNoCreateScript { .. }), "{e}");
}

#[test]
fn validate_runs_verify_with_core_env() {
    let f = Fixture::new();
    let d = f.os("val", "20\n");
    exe(
        &d.join("verify"),
        &format!("{DUMP}\necho \"$@\" > verify.args\n[ \"$OSP_SIZE\" != bad ] || {{ echo \"size is bad\"; echo more >&2; exit 1; }}"),
    );
    let checks = vec!["parameters".to_string()];
    let r = f.runner();
    r.validate("val", &dict(json!({"size": "10"})), &checks, false, &[])
        .unwrap();
    let env = read_env(&d.join("verify.env"));
    assert_eq!(env["OSP_SIZE"], "10");
    assert_eq!(env["DEBUG_LEVEL"], "0");
    assert!(!env.contains_key("INSTANCE_NAME"));
    assert_eq!(
        fs::read_to_string(d.join("verify.args")).unwrap(),
        "parameters\n"
    );
    // refusal: Ganeti's message with the script's output
    let e = r
        .validate("val", &dict(json!({"size": "bad"})), &checks, false, &[])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "OS validation script failed (exited with exit code 1), output: size is bad\nmore\n"
    );
    // unknown parameters refused before the script runs
    fs::remove_file(d.join("verify.env")).unwrap();
    let e = r
        .validate(
            "val",
            &dict(json!({"frob": "1", "zap": "2"})),
            &checks,
            false,
            &[],
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "The following parameters are not supported by the OS val: frob, zap"
    );
    assert!(!d.join("verify.env").exists());
    // the verify output masks secrets
    exe(&d.join("verify"), "echo \"pw=$OSP_ROOT_PW\"; exit 1");
    let e = r
        .validate(
            "val",
            &dict(json!({"root-pw": "hunter22"})),
            &checks,
            false,
            &["hunter22".to_string()],
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "OS validation script failed (exited with exit code 1), output: pw=<redacted>\n"
    );
}

#[test]
fn validate_variants_and_old_apis() {
    let f = Fixture::new();
    let d = f.os("var", "20\n");
    fs::write(d.join("variants.list"), "a\nb\n").unwrap();
    let r = f.runner();
    let none = Dict::new();
    r.validate("var+a", &none, &[], false, &[]).unwrap();
    let msg = |n: &str| {
        r.validate(n, &none, &[], false, &[])
            .unwrap_err()
            .to_string()
    };
    assert_eq!(msg("var"), "OS name 'var' must include a variant");
    assert_eq!(msg("var+c"), "OS 'var' does not support variant 'c'");
    r.validate("var+c", &none, &[], true, &[]).unwrap();
    f.os("plain", "20\n");
    assert_eq!(
        msg("plain+x"),
        "OS 'plain' does not support variants ('x' passed)"
    );
    // API < 20: only the variant is checked (before anything else, as in
    // Ganeti); parameters are not and verify is not run
    let d = f.os("old", "15\n");
    exe(&d.join("verify"), "exit 1");
    r.validate(
        "old",
        &dict(json!({"anything": "1"})),
        &["parameters".into()],
        false,
        &[],
    )
    .unwrap();
    assert_eq!(
        msg("old+x"),
        "OS 'old' does not support variants ('x' passed)"
    );
    fs::write(d.join("variants.list"), "v1\n").unwrap();
    r.validate("old+v1", &none, &[], false, &[]).unwrap();
    assert_eq!(msg("old+v2"), "OS 'old' does not support variant 'v2'");
    let d = f.os("ten", "10\n");
    fs::write(d.join("variants.list"), "v1\n").unwrap();
    // variants.list is only read from API 15 on
    assert_eq!(
        msg("ten+v1"),
        "OS 'ten' does not support variants ('v1' passed)"
    );
    r.validate("ten", &none, &[], false, &[]).unwrap();
    assert!(matches!(
        r.validate("missing", &none, &[], false, &[]).unwrap_err(),
        NodeError::OsInvalid(_)
    ));
}
