//! The Ansible module `ganeti_instance`, run by ansible-core's
//! `ansible-playbook` from real playbooks against a real cluster (fake
//! hypervisor) over RAPI: creation with every class of parameter,
//! idempotence, modification, the lifecycle states, removal, check and
//! diff mode, and the failures an operator meets (missing instance, wrong
//! password, a failing job, a job that outlives `job_timeout`).
//!
//! ansible-core comes from the Python package index: `scripts/test.sh`
//! installs it into `target/ansible-venv` and points
//! `GANETI_TEST_ANSIBLE_BIN` there. Without it the tests skip, loudly.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ganeti_e2e::{bin_dir, Cluster};
use serde_json::Value;

const PASSWORD: &str = "s3cret-Ansible-pw";

fn ansible_bin() -> Option<PathBuf> {
    let dir = std::env::var_os("GANETI_TEST_ANSIBLE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ansible-venv/bin")
        });
    dir.join("ansible-playbook").is_file().then_some(dir)
}

macro_rules! ansible_or_skip {
    () => {
        match ansible_bin() {
            Some(b) => b,
            None => {
                eprintln!(
                    "\n########\n## SKIP (ansible): no ansible-playbook in $GANETI_TEST_ANSIBLE_BIN or \
                     target/ansible-venv/bin; scripts/test.sh installs ansible-core\n########\n"
                );
                return;
            }
        }
    };
}

/// A cluster with a RAPI user, and a library directory holding the module
/// and its documentation, as `scripts/build-ansible-collection.sh` makes it.
struct Lab {
    c: Cluster,
    ansible: PathBuf,
    lib: PathBuf,
    node: String,
}

fn lab(ansible: PathBuf) -> Lab {
    let c = Cluster::empty();
    c.init_with(&[
        "--nic-parameters",
        "link=br0",
        "--enabled-disk-templates",
        "file,diskless",
    ]);
    // an OS parameter for the creation's osparams
    std::fs::write(
        c.root().join("srv/ganeti/os/noop/parameters.list"),
        "color the guest's color\n",
    )
    .unwrap();
    c.write_rapi_users(&format!("admin {PASSWORD} write\nreader readerpw read\n"));
    c.wait_rapi();
    let lib = lab_library(&c);
    let node = c
        .gnt(&["gnt-node", "list", "--no-headers", "-o", "name"])
        .ok()
        .trim()
        .to_string();
    Lab {
        c,
        ansible,
        lib,
        node,
    }
}

/// A library directory with the module and its documentation.
fn lab_library(c: &Cluster) -> PathBuf {
    let lib = c.root().join("ansible-library");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::copy(
        bin_dir().join("ganeti_instance"),
        lib.join("ganeti_instance"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ansible/collection/plugins/modules/ganeti_instance.yml"),
        lib.join("ganeti_instance.yml"),
    )
    .unwrap();
    lib
}

/// What one play printed.
#[derive(Debug)]
struct Play {
    rc: i32,
    output: String,
    tasks: Vec<Value>,
}

impl Lab {
    /// Run a play of `tasks` (YAML, indented for the tasks list) with the
    /// connection options as module defaults (`password` overrides it).
    fn play_with(&self, tasks: &str, password: &str, extra: &[&str]) -> Play {
        let play = format!(
            "- hosts: localhost\n  gather_facts: false\n  module_defaults:\n    ganeti_instance:\n      \
             port: {port}\n      user: admin\n      password: \"{password}\"\n      validate_certs: false\n  \
             tasks:\n{tasks}",
            port = self.c.rapi_port,
        );
        let dir = self.c.root().join("ansible-run");
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("play.yml");
        std::fs::write(&file, play).unwrap();
        let out = Command::new(self.ansible.join("ansible-playbook"))
            .args(["-i", "localhost,", "-c", "local"])
            .args(extra)
            .arg(&file)
            .env("ANSIBLE_LIBRARY", &self.lib)
            .env("ANSIBLE_STDOUT_CALLBACK", "minimal")
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_HOME", dir.join("home"))
            .env("ANSIBLE_LOCAL_TEMP", dir.join("tmp"))
            .env("ANSIBLE_REMOTE_TEMP", dir.join("rtmp"))
            .env("ANSIBLE_PYTHON_INTERPRETER", self.ansible.join("python3"))
            .output()
            .expect("run ansible-playbook");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let tasks = task_results(&stdout);
        Play {
            rc: out.status.code().unwrap_or(-1),
            output: format!("{stdout}\n{stderr}"),
            tasks,
        }
    }

    fn play(&self, tasks: &str) -> Play {
        self.play_with(tasks, PASSWORD, &[])
    }

    /// Number of jobs the cluster has seen.
    fn job_count(&self) -> usize {
        let r = self
            .c
            .rapi(Some(("admin", PASSWORD)), "GET", "/2/jobs", None);
        r.body.as_array().map(Vec::len).unwrap_or(0)
    }

    fn status(&self, name: &str) -> String {
        self.c
            .gnt(&["gnt-instance", "list", "--no-headers", "-o", "status", name])
            .stdout
            .trim()
            .to_string()
    }
}

/// The results the `minimal` callback prints, one per task:
/// `localhost | CHANGED => {` ... a closing `}` alone on its line.
fn task_results(stdout: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(buf) = current.as_mut() {
            buf.push_str(line);
            buf.push('\n');
            if line == "}" {
                out.push(serde_json::from_str(buf).unwrap_or(Value::Null));
                current = None;
            }
        } else if line.starts_with("localhost | ") {
            if let Some((_, json)) = line.split_once(" => ") {
                current = Some(format!("{json}\n"));
            }
        }
    }
    out
}

#[track_caller]
fn one(p: &Play) -> &Value {
    assert_eq!(p.tasks.len(), 1, "{}", p.output);
    &p.tasks[0]
}

fn create_task(node: &str) -> String {
    format!(
        "    - ganeti_instance:\n        name: web1\n        disk_template: file\n        \
         disks: [64M, {{size: 32, name: data, mode: rw}}]\n        \
         nics: [{{link: br0, name: eth0}}, {{mode: bridged, link: br1, mac: 'aa:00:00:11:22:33'}}]\n        \
         os_type: noop\n        osparams: {{color: blue}}\n        hypervisor: fake\n        pnode: {node}\n        memory: 256\n        vcpus: 1\n        \
         beparams: {{auto_balance: false}}\n        name_check: false\n        ip_check: false\n        \
         ignore_ipolicy: true\n"
    )
}

fn state_task(state: &str) -> String {
    format!("    - ganeti_instance:\n        name: web1\n        state: {state}\n")
}

#[test]
fn playbooks_drive_an_instance_through_its_life() {
    let ansible = ansible_or_skip!();
    let l = lab(ansible);

    // create, with every parameter class
    let p = l.play(&create_task(&l.node));
    let r = one(&p);
    assert_eq!(p.rc, 0, "{}", p.output);
    assert_eq!(r["changed"], true, "{r}");
    assert!(r["job_id"].as_u64().is_some(), "{r}");
    let inst = &r["instance"];
    assert_eq!(inst["disk.sizes"], serde_json::json!([64, 32]), "{inst}");
    assert_eq!(inst["disk.names"][1], "data");
    assert_eq!(inst["nic.names"][0], "eth0");
    assert_eq!(inst["nic.links"][1], "br1");
    assert_eq!(inst["nic.macs"][1], "aa:00:00:11:22:33");
    assert_eq!(inst["beparams"]["maxmem"], 256);
    assert_eq!(inst["beparams"]["auto_balance"], false);
    assert_eq!(l.status("web1"), "running");

    // the same play again changes nothing, nor do matching hvparams
    let jobs = l.job_count();
    let p = l.play(&create_task(&l.node));
    assert_eq!(one(&p)["changed"], false, "{}", p.output);
    let p = l.play("    - ganeti_instance:\n        name: web1\n        hvparams: {migration_mode: live}\n        vcpus: 1\n");
    assert_eq!(one(&p)["changed"], false, "{}", p.output);
    assert_eq!(l.job_count(), jobs, "an unchanged play submitted a job");

    // more memory: modified, and a restart is needed for it
    let p = l.play_with(
        "    - ganeti_instance:\n        name: web1\n        memory: 512\n        ignore_ipolicy: true\n",
        PASSWORD,
        &["--diff"],
    );
    let r = one(&p);
    assert_eq!(
        (r["changed"].clone(), r["restart_needed"].clone()),
        (true.into(), true.into()),
        "{r}"
    );
    assert!(r["msg"].as_str().unwrap().contains("be/maxmem"), "{r}");
    // Ansible shows the diff itself, as a unified diff of before/after
    let diff_lines: Vec<&str> = p
        .output
        .lines()
        .filter(|l| l.contains("\"maxmem\""))
        .collect();
    assert!(
        diff_lines
            .iter()
            .any(|l| l.starts_with('-') && l.contains("256"))
            && diff_lines
                .iter()
                .any(|l| l.starts_with('+') && l.contains("512")),
        "{}",
        p.output
    );
    assert_eq!(r["instance"]["beparams"]["maxmem"], 512);

    // stop, stop again, start, start again, restart
    for (state, changed, status) in [
        ("stopped", true, "ADMIN_down"),
        ("stopped", false, "ADMIN_down"),
        ("started", true, "running"),
        ("started", false, "running"),
        ("restarted", true, "running"),
    ] {
        let p = l.play(&state_task(state));
        let r = one(&p);
        assert_eq!(p.rc, 0, "{state}: {}", p.output);
        assert_eq!(r["changed"], changed, "{state}: {r}");
        assert_eq!(l.status("web1"), status, "{state}");
        if changed {
            assert!(r["job_id"].as_u64().is_some(), "{state}: {r}");
        }
    }

    // check mode: says what it would do, submits nothing
    let jobs = l.job_count();
    let p = l.play_with(&state_task("absent"), PASSWORD, &["--check"]);
    let r = one(&p);
    assert_eq!(r["changed"], true, "{r}");
    assert!(r["msg"].as_str().unwrap().contains("check mode"), "{r}");
    assert_eq!(l.job_count(), jobs, "check mode submitted a job");
    assert_eq!(l.status("web1"), "running");

    // absent (running: no need to stop first), then absent again
    let p = l.play(&state_task("absent"));
    assert_eq!(one(&p)["changed"], true, "{}", p.output);
    assert_eq!(l.c.gnt(&["gnt-instance", "list", "--no-headers"]).ok(), "");
    let p = l.play(&state_task("absent"));
    assert_eq!(one(&p)["changed"], false, "{}", p.output);

    // started on a missing instance: a clear failure
    let p = l.play(&state_task("started"));
    let r = one(&p);
    assert_ne!(p.rc, 0);
    assert!(p.output.contains("localhost | FAILED! =>"), "{}", p.output);
    assert_eq!(
        r["msg"],
        "Instance 'web1' does not exist; state=started needs an existing instance"
    );
}

#[test]
fn failures_operators_meet() {
    let ansible = ansible_or_skip!();
    let l = lab(ansible);
    l.c.add_instance("db1", &["-t", "diskless", "--no-nics", "--ignore-ipolicy"])
        .ok();

    // a wrong password: a clear failure that never shows a password, even
    // at the highest verbosity
    let wrong = "Wr0ng-pass-Word";
    let p = l.play_with(
        &state_task("stopped").replace("web1", "db1"),
        wrong,
        &["-vvvv"],
    );
    assert_ne!(p.rc, 0);
    let r = one(&p);
    assert!(
        r["msg"]
            .as_str()
            .unwrap()
            .contains("refused the credentials of user 'admin'"),
        "{r}"
    );
    assert!(!p.output.contains(wrong), "the password reached the output");
    assert!(!p.output.contains(PASSWORD));
    assert_eq!(l.status("db1"), "running");
    // a read-only user cannot change anything
    let p = l.play("    - ganeti_instance:\n        name: db1\n        state: stopped\n        user: reader\n        password: readerpw\n");
    assert_ne!(p.rc, 0, "{}", p.output);

    // a job that fails: Ganeti's message and the job id
    let hooks = l.c.root().join("etc/ganeti/hooks");
    let install = |dir: &str, name: &str, body: &str| {
        let d = hooks.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), body).unwrap();
        std::fs::set_permissions(d.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    install(
        "instance-stop-pre.d",
        "10freeze",
        "#!/bin/sh\necho change freeze until Monday\nexit 1\n",
    );
    let p = l.play(&state_task("stopped").replace("web1", "db1"));
    let r = one(&p);
    assert_ne!(p.rc, 0);
    assert!(r["job_id"].as_u64().is_some(), "{r}");
    let msg = r["msg"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("Ganeti job {} failed: HooksAbort", r["job_id"])),
        "{msg}"
    );
    assert!(msg.contains("change freeze until Monday"), "{msg}");
    assert_eq!(l.status("db1"), "running");
    std::fs::remove_file(hooks.join("instance-stop-pre.d/10freeze")).unwrap();

    // a job that outlives job_timeout: the module says it may still succeed
    install("instance-stop-pre.d", "10slow", "#!/bin/sh\nsleep 4\n");
    let t = Instant::now();
    let p = l.play("    - ganeti_instance:\n        name: db1\n        state: stopped\n        job_timeout: 1\n");
    let r = one(&p);
    assert_ne!(p.rc, 0);
    let id = r["job_id"].as_u64().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(
        r["msg"],
        format!("Ganeti job {id} is still running after 1 s; it may still succeed (follow it with gnt-job watch {id} or GET /2/jobs/{id})")
    );
    assert!(t.elapsed() < Duration::from_secs(30));
    // and it does
    assert_eq!(l.c.wait_job(&id.to_string()), "success");
    assert_eq!(l.status("db1"), "ADMIN_down");

    // without wait: the job id at once
    let p = l.play(
        "    - ganeti_instance:\n        name: db1\n        state: started\n        wait: false\n",
    );
    let r = one(&p);
    assert_eq!(r["changed"], true, "{r}");
    let id = r["job_id"].as_u64().unwrap();
    assert_eq!(l.c.wait_job(&id.to_string()), "success");

    // bad arguments are refused before anything is sent
    let p = l.play("    - ganeti_instance:\n        name: db9\n        disk_template: lvm\n");
    assert!(
        one(&p)["msg"]
            .as_str()
            .unwrap()
            .contains("value of disk_template must be one of"),
        "{}",
        p.output
    );
}

#[test]
fn ansible_doc_shows_the_documentation() {
    let ansible = ansible_or_skip!();
    let l = lab(ansible);
    let out = Command::new(l.ansible.join("ansible-doc"))
        .arg("ganeti_instance")
        .env("ANSIBLE_LIBRARY", &l.lib)
        .env("ANSIBLE_HOME", l.c.root().join("ansible-home"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "through the Remote API (RAPI)",
        "job_timeout",
        "validate_certs",
        "restart_needed",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
}

#[test]
fn the_collection_builds_installs_and_runs_by_its_full_name() {
    let ansible = ansible_or_skip!();
    let l = lab(ansible.clone());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = format!(
        "{}:{}",
        ansible.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let build = Command::new(repo.join("scripts/build-ansible-collection.sh"))
        .arg("--debug")
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let tarball = repo.join("target/ansible/ganeti_rs-ganeti-0.1.0.tar.gz");
    let collections = l.c.root().join("collections");
    let install = Command::new(ansible.join("ansible-galaxy"))
        .args(["collection", "install", "-p"])
        .arg(&collections)
        .arg(&tarball)
        .env("ANSIBLE_HOME", l.c.root().join("ansible-home"))
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );
    let play = l.c.root().join("fqcn.yml");
    std::fs::write(
        &play,
        format!(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ganeti_rs.ganeti.ganeti_instance:\n        \
             port: {}\n        user: admin\n        password: {PASSWORD}\n        ca_path: {}\n        \
             name: lonely\n        state: absent\n",
            l.c.rapi_port,
            l.c.rapi_cert().display()
        ),
    )
    .unwrap();
    let run_play = || {
        Command::new(ansible.join("ansible-playbook"))
            .args(["-i", "localhost,", "-c", "local"])
            .arg(&play)
            .env("ANSIBLE_COLLECTIONS_PATH", &collections)
            .env("ANSIBLE_HOME", l.c.root().join("ansible-home"))
            .env("ANSIBLE_LOCALHOST_WARNING", "false")
            .env("ANSIBLE_PYTHON_INTERPRETER", ansible.join("python3"))
            .env("ANSIBLE_STDOUT_CALLBACK", "minimal")
            .output()
            .unwrap()
    };
    let out = run_play();
    let text = String::from_utf8_lossy(&out.stdout);
    // validated against the cluster's own certificate (pinned: it names
    // ganeti.example.com, not localhost)
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("\"msg\": \"Instance lonely is absent\""),
        "{text}"
    );
    // the wrong certificate is refused
    let other = l.c.root().join("other.pem");
    std::fs::write(&other, OTHER_CERT).unwrap();
    std::fs::write(
        &play,
        std::fs::read_to_string(&play).unwrap().replace(
            &l.c.rapi_cert().display().to_string(),
            &other.display().to_string(),
        ),
    )
    .unwrap();
    let out = run_play();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("Cannot reach the Ganeti RAPI"), "{text}");
}

/// A self-signed certificate with Ganeti's name that is not the cluster's.
const OTHER_CERT: &str = "-----BEGIN CERTIFICATE-----\nMIIBkDCCATWgAwIBAgIURZgbMC/bUiPczudh4NwoOUWeLdMwCgYIKoZIzj0EAwIw\nHTEbMBkGA1UEAwwSZ2FuZXRpLmV4YW1wbGUuY29tMB4XDTI2MTEyNDAxMzQ1N1oX\nDTM2MTEyMTAxMzQ1N1owHTEbMBkGA1UEAwwSZ2FuZXRpLmV4YW1wbGUuY29tMFkw\nEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4HQaVhIXDjeBYUjJxY9SAhrvws5nzVJA\n3Hrtnc2Kq+QHWZs2zlzok6grkUJ6ttUnBJ6Dpvf+F5A9o64K1CA2NaNTMFEwHQYD\nVR0OBBYEFBVUAMYNbAKoUKUmmvy13lsLjfkEMB8GA1UdIwQYMBaAFBVUAMYNbAKo\nUKUmmvy13lsLjfkEMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh\nAO1TWFpQDwx/jf58AOKuX12vZG8zCAep4dIV9L16Al5fAiEAujvFjhah5oDdaXns\nxVrYtZTSmzmz+U6xYyOEHQCk22g=\n-----END CERTIFICATE-----\n";

#[test]
fn a_version_1_certificate_as_ganeti_writes_them_is_pinned() {
    let ansible = ansible_or_skip!();
    // Ganeti 3.0 serves X.509 version 1 certificates, which webpki cannot
    // read; put one in place as rapi.pem before init (init keeps it)
    let c = Cluster::empty();
    let data = c.root().join("var/lib/ganeti");
    std::fs::create_dir_all(&data).unwrap();
    let (key, csr, crt) = (
        data.join("v1.key"),
        data.join("v1.csr"),
        data.join("v1.crt"),
    );
    let openssl = |args: &[&std::ffi::OsStr]| {
        let st = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
    };
    let s = |x: &'static str| std::ffi::OsStr::new(x);
    openssl(&[
        s("req"),
        s("-new"),
        s("-newkey"),
        s("rsa:2048"),
        s("-nodes"),
        s("-subj"),
        s("/CN=ganeti.example.com"),
        s("-keyout"),
        key.as_os_str(),
        s("-out"),
        csr.as_os_str(),
    ]);
    openssl(&[
        s("x509"),
        s("-req"),
        s("-days"),
        s("30"),
        s("-in"),
        csr.as_os_str(),
        s("-signkey"),
        key.as_os_str(),
        s("-out"),
        crt.as_os_str(),
    ]);
    let text = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&crt)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Version: 1 (0x0)"));
    let pem = format!(
        "{}{}",
        std::fs::read_to_string(&key).unwrap(),
        std::fs::read_to_string(&crt).unwrap()
    );
    std::fs::write(data.join("rapi.pem"), pem).unwrap();
    std::fs::set_permissions(
        data.join("rapi.pem"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    c.init_with(&["--nic-parameters", "link=br0"]);
    c.write_rapi_users(&format!("admin {PASSWORD} write\n"));
    c.wait_rapi();
    let served = std::fs::read_to_string(c.rapi_cert()).unwrap();
    assert!(
        served.contains(&std::fs::read_to_string(&crt).unwrap()),
        "init replaced rapi.pem"
    );
    let l = Lab {
        lib: lab_library(&c),
        node: String::new(),
        c,
        ansible,
    };
    for extra in [
        format!("        ca_path: {}\n", l.c.rapi_cert().display()),
        "        validate_certs: false\n".to_string(),
    ] {
        let p = l.play(&format!(
            "    - ganeti_instance:\n        name: nobody\n        state: absent\n{extra}"
        ));
        assert_eq!(p.rc, 0, "{extra}: {}", p.output);
        assert_eq!(one(&p)["msg"], "Instance nobody is absent");
    }
}
