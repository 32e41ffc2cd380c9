//! Hook scripts on a running cluster (real `ganetid`, real `gnt-*` tools,
//! real shell and Python scripts, fake hypervisor): the environment they
//! get compared with what Ganeti 3.0.2 gave the same scripts for the same
//! commands (`crates/fixtures/ganeti-3.0.2/hooks`), the veto of a pre
//! hook, run-parts' rules, a hung script, a chatty one, and the results in
//! `gnt-job info` and RAPI's job log.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ganeti_e2e::{job_id, Cluster};

/// Every hook path of the instance operations recorded from Ganeti.
const INSTANCE_PATHS: &[&str] = &[
    "instance-add",
    "instance-start",
    "instance-stop",
    "instance-reboot",
    "instance-modify",
    "instance-rename",
    "instance-remove",
    "disk-grow",
];

fn cluster() -> Cluster {
    let c = Cluster::empty();
    // a hung script must not hold the tests for the default 300 s
    c.set_env("GANETI_HOOK_TIMEOUT", "2");
    c.init_with(&[
        "--nic-parameters",
        "link=gntbr0",
        "--enabled-disk-templates",
        "file,diskless",
    ]);
    c
}

fn hooks_dir(c: &Cluster) -> PathBuf {
    c.root().join("etc/ganeti/hooks")
}

fn install(c: &Cluster, dir: &str, name: &str, body: &str) -> PathBuf {
    let d = hooks_dir(c).join(dir);
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// The recorder Ganeti's runs were taken with (one file per run, the
/// environment as given, from /proc: a shell would drop names with dots).
fn install_recorder(c: &Cluster, paths: &[&str]) -> PathBuf {
    let out = c.root().join("hook-runs");
    std::fs::create_dir_all(&out).unwrap();
    let body = format!(
        "#!/bin/sh\nd={}\nn=$(ls $d | wc -l)\nf=$d/$(printf %03d $n)-$GANETI_HOOKS_PATH-$GANETI_HOOKS_PHASE.env\n\
         {{ echo \"# cwd=$(pwd) args=$#\"; if read -r x; then echo '# stdin=data'; else echo '# stdin=eof'; fi; \
         tr '\\0' '\\n' < /proc/$$/environ | LC_ALL=C sort; }} > $f\n",
        out.display()
    );
    for p in paths {
        for phase in ["pre", "post"] {
            install(c, &format!("{p}-{phase}.d"), "50record", &body);
        }
    }
    out
}

/// One recorded run: path, phase, header lines, environment.
#[derive(Debug)]
struct HookRun {
    path: String,
    phase: String,
    header: Vec<String>,
    env: BTreeMap<String, String>,
}

fn read_runs(dir: &Path) -> Vec<HookRun> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "env"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| {
            let name = f.file_stem().unwrap().to_string_lossy().to_string();
            let rest = name.split_once('-').unwrap().1;
            let (path, phase) = rest.rsplit_once('-').unwrap();
            let text = std::fs::read_to_string(f).unwrap();
            let mut run = HookRun {
                path: path.into(),
                phase: phase.into(),
                header: vec![],
                env: BTreeMap::new(),
            };
            for l in text.lines() {
                if let Some(h) = l.strip_prefix("# ") {
                    run.header.push(h.to_string());
                } else if let Some((k, v)) = l.split_once('=') {
                    run.env.insert(k.into(), v.into());
                }
            }
            run
        })
        .collect()
}

/// Runs of `paths` only, in order, numbered per (path, phase).
fn by_occurrence(runs: Vec<HookRun>, paths: &[&str]) -> BTreeMap<(String, String, usize), HookRun> {
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for r in runs
        .into_iter()
        .filter(|r| paths.contains(&r.path.as_str()))
    {
        let n = seen.entry((r.path.clone(), r.phase.clone())).or_default();
        *n += 1;
        out.insert((r.path.clone(), r.phase.clone(), *n), r);
    }
    out
}

/// Common variables of every run (spec `hooks.md` §3).
const COMMON: &[&str] = &[
    "PATH",
    "GANETI_HOOKS_VERSION",
    "GANETI_HOOKS_PHASE",
    "GANETI_HOOKS_PATH",
    "GANETI_OP_CODE",
    "GANETI_DATA_DIR",
    "GANETI_OBJECT_TYPE",
    "GANETI_CLUSTER",
    "GANETI_MASTER",
];

/// The instance environment's keys that are always there (§3).
const INSTANCE_KEYS: &[&str] = &[
    "OP_TARGET",
    "INSTANCE_NAME",
    "INSTANCE_PRIMARY",
    "INSTANCE_SECONDARIES",
    "INSTANCE_OS_TYPE",
    "INSTANCE_STATUS",
    "INSTANCE_MINMEM",
    "INSTANCE_MAXMEM",
    "INSTANCE_MEMORY",
    "INSTANCE_VCPUS",
    "INSTANCE_DISK_TEMPLATE",
    "INSTANCE_HYPERVISOR",
    "INSTANCE_NIC_COUNT",
    "INSTANCE_DISK_COUNT",
    "INSTANCE_TAGS",
];

/// The opcode's own keys per hook path (§4): (always, optional).
fn extras(path: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match path {
        "instance-add" => (&["ADD_MODE"], &["SRC_NODE", "SRC_PATH", "SRC_IMAGES"]),
        "instance-start" => (&["FORCE"], &[]),
        "instance-stop" => (&["TIMEOUT"], &[]),
        "instance-reboot" => (
            &["IGNORE_SECONDARIES", "REBOOT_TYPE", "SHUTDOWN_TIMEOUT"],
            &[],
        ),
        "instance-modify" => (&[], &["NEW_DISK_TEMPLATE", "RUNTIME_MEMORY"]),
        "instance-rename" => (&["INSTANCE_NEW_NAME"], &[]),
        "instance-remove" => (&["SHUTDOWN_TIMEOUT"], &[]),
        "disk-grow" => (&["DISK", "AMOUNT", "ABSOLUTE"], &[]),
        other => panic!("no spec table for {other}"),
    }
}

/// Whether `key` (without `GANETI_`) is one of §3's per-NIC, per-disk,
/// backend or hypervisor keys.
fn indexed_instance_key(key: &str) -> bool {
    let indexed = |prefix: &str, fields: &[&str]| {
        key.strip_prefix(prefix).is_some_and(|rest| {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            digits > 0
                && rest[digits..]
                    .strip_prefix('_')
                    .is_some_and(|f| fields.contains(&f))
        })
    };
    indexed(
        "INSTANCE_NIC",
        &[
            "NAME",
            "UUID",
            "IP",
            "MAC",
            "MODE",
            "LINK",
            "VLAN",
            "BRIDGE",
            "NETWORK_NAME",
            "NETWORK_UUID",
            "NETWORK_TAGS",
            "NETWORK_SUBNET",
            "NETWORK_GATEWAY",
            "NETWORK_SUBNET6",
            "NETWORK_GATEWAY6",
            "NETWORK_MAC_PREFIX",
        ],
    ) || indexed(
        "INSTANCE_DISK",
        &[
            "NAME", "UUID", "SIZE", "MODE", "DEV_TYPE", "VG", "ID", "DRIVER", "PROVIDER", "PNODE",
            "SNODE", "PORT", "PMINOR", "SMINOR", "DATA_VG", "DATA_ID", "META_VG", "META_ID",
        ],
    ) || key.starts_with("INSTANCE_BE_")
        || key.starts_with("INSTANCE_HV_")
}

/// Check one run against the variable list of spec `hooks.md`: the
/// common variables, the instance environment, the path's own keys, and
/// in the post phase every opcode key again as `GANETI_POST_*`.
fn check_against_spec(run: &HookRun) {
    let ctx = format!("{} {}", run.path, run.phase);
    let (always, optional) = extras(&run.path);
    let own: BTreeSet<&str> = run
        .env
        .keys()
        .filter(|k| *k != "PWD" && !COMMON.contains(&k.as_str()))
        .map(|k| k.as_str())
        .collect();
    for k in COMMON {
        assert!(run.env.contains_key(*k), "{ctx}: {k} missing");
    }
    for k in INSTANCE_KEYS.iter().chain(always) {
        assert!(
            own.contains(format!("GANETI_{k}").as_str()),
            "{ctx}: GANETI_{k} missing"
        );
    }
    for k in &own {
        let (bare, post) = match k.strip_prefix("GANETI_POST_") {
            Some(b) => (b, true),
            None => (
                k.strip_prefix("GANETI_")
                    .unwrap_or_else(|| panic!("{ctx}: {k}")),
                false,
            ),
        };
        assert!(
            INSTANCE_KEYS.contains(&bare)
                || always.contains(&bare)
                || optional.contains(&bare)
                || indexed_instance_key(bare),
            "{ctx}: {k} is not in hooks.md"
        );
        assert!(!post || run.phase == "post", "{ctx}: {k} in the pre phase");
        if run.phase == "post" && !post {
            assert!(
                own.contains(format!("GANETI_POST_{bare}").as_str()),
                "{ctx}: no GANETI_POST_{bare}"
            );
        }
    }
    assert_eq!(run.env["GANETI_HOOKS_PHASE"], run.phase, "{ctx}");
    assert_eq!(run.env["GANETI_HOOKS_PATH"], run.path, "{ctx}");
    assert_eq!(run.env["GANETI_HOOKS_VERSION"], "2", "{ctx}");
    assert_eq!(run.env["GANETI_OBJECT_TYPE"], "INSTANCE", "{ctx}");
}

fn keys(env: &BTreeMap<String, String>) -> BTreeSet<String> {
    env.keys().filter(|k| *k != "PWD").cloned().collect()
}

#[test]
fn instance_operations_give_scripts_what_ganeti_gives_them() {
    let c = cluster();
    let out = install_recorder(&c, INSTANCE_PATHS);
    // the commands of the recording (crates/fixtures/.../hooks/commands.txt)
    let node = c
        .gnt(&["gnt-node", "list", "--no-headers", "-o", "name"])
        .ok()
        .trim()
        .to_string();
    for argv in [
        vec![
            "gnt-instance",
            "add",
            "-t",
            "file",
            "--disk",
            "0:size=1G,name=root",
            "-o",
            "noop",
            "-n",
            &node,
            "--net",
            "0:name=eth0",
            "--net",
            "1",
            "--tags",
            "web,prod",
            "-B",
            "maxmem=256",
            "--no-start",
            "--ignore-ipolicy",
            "--no-name-check",
            "--no-ip-check",
            "inst1.example.com",
        ],
        vec!["gnt-instance", "startup", "inst1.example.com"],
        vec![
            "gnt-instance",
            "shutdown",
            "--timeout=7",
            "inst1.example.com",
        ],
        vec!["gnt-instance", "startup", "inst1.example.com"],
        vec!["gnt-instance", "reboot", "--type=hard", "inst1.example.com"],
        vec![
            "gnt-instance",
            "modify",
            "-B",
            "maxmem=512,vcpus=2",
            "--ignore-ipolicy",
            "inst1.example.com",
        ],
        vec![
            "gnt-instance",
            "modify",
            "--net",
            "add",
            "--ignore-ipolicy",
            "inst1.example.com",
        ],
        vec!["gnt-instance", "shutdown", "inst1.example.com"],
        vec![
            "gnt-instance",
            "rename",
            "--force",
            "--no-name-check",
            "--no-ip-check",
            "inst1.example.com",
            "renamed1.example.com",
        ],
        vec![
            "gnt-instance",
            "grow-disk",
            "renamed1.example.com",
            "0",
            "1G",
        ],
        vec![
            "gnt-instance",
            "grow-disk",
            "--absolute",
            "renamed1.example.com",
            "0",
            "3G",
        ],
        vec!["gnt-instance", "remove", "-f", "renamed1.example.com"],
    ] {
        c.gnt(&argv).ok();
    }
    let ours = by_occurrence(read_runs(&out), INSTANCE_PATHS);
    let ganeti = by_occurrence(
        read_runs(&ganeti_fixtures::hooks_dir().join("env")),
        INSTANCE_PATHS,
    );
    // the spec's list describes Ganeti's own runs too
    for run in ganeti.values() {
        check_against_spec(run);
    }
    // the recording also holds a dry run and a veto at the end; compare
    // the runs both have, which must be every one of ours
    assert_eq!(ours.len(), 24, "{:#?}", ours.keys().collect::<Vec<_>>());
    for (key, run) in &ours {
        check_against_spec(run);
        let theirs = ganeti
            .get(key)
            .unwrap_or_else(|| panic!("Ganeti has no run {key:?}"));
        let (a, b) = (keys(&run.env), keys(&theirs.env));
        assert_eq!(
            a.difference(&b).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{key:?}: keys Ganeti does not give"
        );
        assert_eq!(
            b.difference(&a).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{key:?}: keys Ganeti gives and we do not"
        );
        assert_eq!(run.header, ["cwd=/ args=0", "stdin=eof"], "{key:?}");
        // values that do not depend on uuids, MACs, paths or set order
        for (k, v) in &run.env {
            let varies = [
                "UUID", "MAC", "_ID", "DATA_DIR", "MASTER", "PRIMARY", "TAGS",
            ]
            .iter()
            .any(|s| k.contains(s))
                || k.ends_with("_NODE");
            if !varies {
                assert_eq!(Some(v), theirs.env.get(k), "{key:?} {k}");
            }
        }
    }
    // the spec's facts, spelled out
    for (path, phase, nth, key, value) in [
        (
            "instance-start",
            "post",
            1,
            "GANETI_INSTANCE_STATUS",
            "down",
        ),
        (
            "instance-start",
            "post",
            1,
            "GANETI_POST_INSTANCE_STATUS",
            "up",
        ),
        ("instance-stop", "pre", 1, "GANETI_TIMEOUT", "7"),
        (
            "instance-rename",
            "post",
            1,
            "GANETI_INSTANCE_NEW_NAME",
            "renamed1.example.com",
        ),
        (
            "disk-grow",
            "post",
            1,
            "GANETI_POST_INSTANCE_DISK0_SIZE",
            "2048",
        ),
        ("disk-grow", "post", 2, "GANETI_ABSOLUTE", "True"),
        (
            "instance-remove",
            "post",
            1,
            "GANETI_POST_INSTANCE_NAME",
            "renamed1.example.com",
        ),
        (
            "instance-add",
            "pre",
            1,
            "PATH",
            "/sbin:/bin:/usr/sbin:/usr/bin",
        ),
    ] {
        let run = &ours[&(path.to_string(), phase.to_string(), nth)];
        assert_eq!(
            run.env.get(key).map(String::as_str),
            Some(value),
            "{path} {phase} {nth}"
        );
    }
}

#[test]
fn a_python_pre_hook_vetoes_a_creation_and_nothing_is_created() {
    let c = cluster();
    install(
        &c,
        "instance-add-pre.d",
        "10-dns-check",
        "#!/usr/bin/python3\nimport os, sys\nprint('no DNS record for', os.environ['GANETI_INSTANCE_NAME'])\n\
         print('ask the network team', file=sys.stderr)\nsys.exit(1)\n",
    );
    let r = c.add_instance(
        "vm1.example.com",
        &[
            "-t",
            "file",
            "--disk",
            "0:size=64M",
            "--no-start",
            "--ignore-ipolicy",
        ],
    );
    assert_eq!(r.rc, 1, "{r:?}");
    let uuid = c
        .gnt(&["gnt-node", "list", "--no-headers", "-o", "uuid"])
        .ok()
        .trim()
        .to_string();
    assert!(
        r.stderr.contains(&format!(
            "Failure: hooks execution failed:\n  node: {uuid}, script: instance-add-pre.d/10-dns-check, output: no DNS record for vm1.example.com\\nask the network team\n"
        )),
        "{r:?}"
    );
    assert_eq!(c.gnt(&["gnt-instance", "list", "--no-headers"]).ok(), "");
    let storage = c.root().join("srv/ganeti/file-storage/vm1.example.com");
    assert!(!storage.exists(), "{} was created", storage.display());
    // the job says why
    let id = c
        .gnt(&["gnt-job", "list", "--no-headers", "-o", "id"])
        .ok()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let info = c.gnt(&["gnt-job", "info", &id]).ok().to_string();
    assert!(info.contains("Status: error"), "{info}");
    assert!(info.contains("HooksAbort"), "{info}");
    assert!(info.contains("instance-add-pre.d/10-dns-check"), "{info}");
}

#[test]
fn run_parts_rules_and_results_in_the_job_log_and_rapi() {
    let c = cluster();
    c.write_rapi_users("admin secret write\n");
    c.wait_rapi();
    let d = "instance-start-pre.d";
    install(&c, d, "10ok", "#!/bin/sh\necho ok-ran\n");
    install(&c, d, "30has.dot", "#!/bin/sh\necho dotted-ran\n");
    install(&c, d, ".hidden", "#!/bin/sh\necho hidden-ran\n");
    let noexec = install(&c, d, "20no-exec", "#!/bin/sh\necho noexec-ran\n");
    std::fs::set_permissions(&noexec, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::create_dir_all(hooks_dir(&c).join(d).join("40dir")).unwrap();
    std::os::unix::fs::symlink("/bin/true", hooks_dir(&c).join(d).join("50link")).unwrap();
    c.add_instance(
        "vm1.example.com",
        &[
            "-t",
            "diskless",
            "--no-nics",
            "--no-start",
            "--ignore-ipolicy",
        ],
    )
    .ok();
    // a mass operation's --submit prints "<job id>: <instance>"
    let r = c.gnt(&["gnt-instance", "startup", "--submit", "vm1.example.com"]);
    let id = r.ok().split(':').next().unwrap().trim().to_string();
    assert_eq!(c.wait_job(&id), "success");
    let info = c.gnt(&["gnt-job", "info", &id]).ok().to_string();
    for line in [
        "Hook instance-start-pre.d/10ok on ",
        ": succeeded in ",
        "ms, output: ok-ran",
        "Hook instance-start-pre.d/20no-exec on ",
        "Hook instance-start-pre.d/30has.dot on ",
        "Hook instance-start-pre.d/40dir on ",
        "Hook instance-start-pre.d/50link on ",
    ] {
        assert!(info.contains(line), "{line:?} not in {info}");
    }
    assert!(!info.contains(".hidden"), "{info}");
    for ran_not in ["dotted-ran", "noexec-ran", "hidden-ran"] {
        assert!(!info.contains(ran_not), "{ran_not}: {info}");
    }
    let job = c.rapi(
        Some(("admin", "secret")),
        "GET",
        &format!("/2/jobs/{id}"),
        None,
    );
    assert_eq!(job.status, 200, "{}", job.raw);
    let oplog = job.body["oplog"][0].as_array().unwrap().clone();
    let messages: Vec<&str> = oplog.iter().filter_map(|e| e[3].as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Hook instance-start-pre.d/10ok on ")
                && m.ends_with("output: ok-ran")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Hook instance-start-pre.d/30has.dot on ")
                && m.ends_with(": skipped")),
        "{messages:?}"
    );
}

#[test]
fn a_hung_script_is_killed_and_the_job_ends() {
    let c = cluster();
    c.add_instance(
        "vm1.example.com",
        &["-t", "diskless", "--no-nics", "--ignore-ipolicy"],
    )
    .ok();
    // a unique duration marks the script's sleep among the machine's processes
    let marker = format!("599.{}", std::process::id());
    install(
        &c,
        "instance-stop-pre.d",
        "10hang",
        &format!("#!/bin/sh\necho going to sleep\nsleep {marker}\n"),
    );
    let t = Instant::now();
    let r = c.gnt(&["gnt-instance", "shutdown", "vm1.example.com"]);
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(r.rc, 1, "{r:?}");
    assert!(
        r.stderr.contains("script: instance-stop-pre.d/10hang, output: going to sleep\\nHook script timed out after 2 s and was killed"),
        "{r:?}"
    );
    let status = c.gnt(&[
        "gnt-instance",
        "list",
        "--no-headers",
        "-o",
        "status",
        "vm1.example.com",
    ]);
    assert_eq!(
        status.ok().trim(),
        "running",
        "the operation did not happen"
    );
    let left = std::process::Command::new("pgrep")
        .args(["-f", &format!("sleep {marker}")])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "left running: {}",
        String::from_utf8_lossy(&left.stdout)
    );
}

#[test]
fn chatty_and_failing_post_hooks_dry_run_and_config_update() {
    let c = cluster();
    // 3 MiB from a post hook: the job is not slowed down nor bloated
    install(
        &c,
        "group-add-post.d",
        "10chatty",
        "#!/bin/sh\nhead -c 3145728 /dev/zero | tr '\\0' z\nexit 0\n",
    );
    install(
        &c,
        "group-add-post.d",
        "20fail",
        "#!/bin/sh\necho inventory down\necho retry later >&2\nexit 4\n",
    );
    let t = Instant::now();
    let r = c.gnt(&["gnt-group", "add", "--submit", "g2"]);
    let id = job_id(&r);
    assert_eq!(c.wait_job(&id), "success");
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
    let info = c.gnt(&["gnt-job", "info", &id]).ok().to_string();
    assert!(
        info.len() < 64 * 1024,
        "the job log holds {} bytes",
        info.len()
    );
    assert!(
        info.contains("Hook group-add-post.d/10chatty on "),
        "{}",
        &info[..2000.min(info.len())]
    );
    assert!(info.contains("more bytes]"), "the quote is clipped");
    let uuid = c
        .gnt(&["gnt-node", "list", "--no-headers", "-o", "uuid"])
        .ok()
        .trim()
        .to_string();
    assert!(
        info.contains(&format!(" - WARNING: On {uuid} script group-add-post.d/20fail failed, output: inventory down\\nretry later")),
        "{info}"
    );
    assert!(c
        .gnt(&["gnt-group", "list", "--no-headers", "-o", "name"])
        .ok()
        .contains("g2"));

    // a dry run runs the pre phase only
    let out = install_recorder(&c, &["instance-add"]);
    c.add_instance(
        "vm2.example.com",
        &[
            "-t",
            "diskless",
            "--no-nics",
            "--no-start",
            "--ignore-ipolicy",
            "--dry-run",
        ],
    )
    .ok();
    let phases: Vec<String> = read_runs(&out).into_iter().map(|r| r.phase).collect();
    assert_eq!(phases, ["pre"]);

    // config-update after a change without hooks of its own
    let log = c.root().join("config-update.log");
    install(
        &c,
        "config-update-post.d",
        "10log",
        &format!(
            "#!/bin/sh\necho \"$GANETI_HOOKS_PATH $GANETI_HOOKS_PHASE $GANETI_OP_CODE\" >> {}\n",
            log.display()
        ),
    );
    c.gnt(&["gnt-group", "add-tags", "g2", "rack1"]).ok();
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "config-update post OP_TAGS_SET\n"
    );
}
