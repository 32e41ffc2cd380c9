//! The run-parts rules and the runner's limits, with real scripts.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;

struct Hooks {
    dir: tempfile::TempDir,
}

impl Hooks {
    fn new() -> Self {
        Hooks {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn sub(&self) -> PathBuf {
        let d = self.dir.path().join("instance-start-pre.d");
        std::fs::create_dir_all(&d).unwrap();
        d
    }
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let p = self.sub().join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }
    fn run_with(
        &self,
        env: &BTreeMap<String, String>,
        opts: &HookRunOptions,
    ) -> Vec<HookScriptResult> {
        run_hooks_dir(self.dir.path(), "instance-start", HookPhase::Pre, env, opts).unwrap()
    }
    fn run(&self) -> Vec<HookScriptResult> {
        self.run_with(
            &env(&[("PATH", "/sbin:/bin:/usr/sbin:/usr/bin")]),
            &HookRunOptions::default(),
        )
    }
}

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn summary(r: &[HookScriptResult]) -> Vec<(String, HookStatus, String)> {
    r.iter()
        .map(|r| (r.script.clone(), r.status, r.output.clone()))
        .collect()
}

fn s(name: &str, st: HookStatus, out: &str) -> (String, HookStatus, String) {
    (format!("instance-start-pre.d/{name}"), st, out.to_string())
}

#[test]
fn missing_empty_or_non_directory_runs_nothing() {
    let h = Hooks::new();
    assert!(h.run().is_empty(), "missing directory");
    h.sub();
    assert!(h.run().is_empty(), "empty directory");
    std::fs::remove_dir(h.sub()).unwrap();
    std::fs::write(h.dir.path().join("instance-start-pre.d"), "a file").unwrap();
    assert!(h.run().is_empty(), "a file instead of a directory");
}

#[test]
fn success_failure_and_skips_in_byte_order() {
    let h = Hooks::new();
    h.script("00succ", "#!/bin/sh\nexit 0\n");
    h.script("10fail", "#!/bin/sh\nexit 1\n");
    h.script("20inv.", "#!/bin/sh\nexit 0\n");
    h.script("30has.dot", "#!/bin/sh\nexit 0\n");
    std::fs::write(h.sub().join("40noexec"), "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::create_dir(h.sub().join("50dir")).unwrap();
    std::os::unix::fs::symlink("/bin/true", h.sub().join("60link")).unwrap();
    h.script(".hidden", "#!/bin/sh\nexit 1\n");
    std::os::unix::fs::symlink("/nonexistent", h.sub().join("70dangling")).unwrap();
    assert_eq!(
        summary(&h.run()),
        vec![
            s("00succ", HookStatus::Success, ""),
            s("10fail", HookStatus::Fail, ""),
            s("20inv.", HookStatus::Skip, ""),
            s("30has.dot", HookStatus::Skip, ""),
            s("40noexec", HookStatus::Skip, ""),
            s("50dir", HookStatus::Skip, ""),
            s("60link", HookStatus::Success, ""),
            s("70dangling", HookStatus::Skip, ""),
        ]
    );
}

#[test]
fn order_is_plain_string_order() {
    let h = Hooks::new();
    for n in ["10s1", "00s0", "10sa", "80sc", "60sd", "Zup"] {
        h.script(n, "#!/bin/sh\nexit 0\n");
    }
    let names: Vec<String> = h.run().into_iter().map(|r| r.script).collect();
    assert_eq!(
        names,
        ["00s0", "10s1", "10sa", "60sd", "80sc", "Zup"]
            .map(|n| format!("instance-start-pre.d/{n}"))
    );
}

#[test]
fn environment_is_replaced_not_merged() {
    let h = Hooks::new();
    std::os::unix::fs::symlink("/usr/bin/env", h.sub().join("env")).unwrap();
    std::env::set_var("GANETI_RS_SHOULD_NOT_LEAK", "1");
    let r = h.run_with(&env(&[("PHASE", "pre")]), &HookRunOptions::default());
    assert_eq!(
        summary(&r),
        vec![s("env", HookStatus::Success, "PHASE=pre")]
    );
}

#[test]
fn no_arguments_root_cwd_and_stdin_at_eof() {
    let h = Hooks::new();
    h.script(
        "facts",
        "#!/bin/sh\necho \"args=$# cwd=$(pwd)\"\nif read -r line; then echo stdin-had-data; else echo stdin-eof; fi\n",
    );
    let r = h.run();
    assert_eq!(r[0].output, "args=0 cwd=/\\nstdin-eof");
}

#[test]
fn python_scripts_see_the_environment() {
    let h = Hooks::new();
    h.script(
        "py",
        "#!/usr/bin/python3\nimport os, sys\nprint(os.environ['GANETI_INSTANCE_NAME'])\nprint('warn', file=sys.stderr)\nsys.exit(0 if os.getcwd() == '/' else 4)\n",
    );
    let r = h.run_with(
        &env(&[("PATH", "/usr/bin:/bin"), ("GANETI_INSTANCE_NAME", "vm1")]),
        &HookRunOptions::default(),
    );
    assert_eq!(
        summary(&r),
        vec![s("py", HookStatus::Success, "vm1\\nwarn")]
    );
}

#[test]
fn output_is_stdout_then_stderr_stripped() {
    let h = Hooks::new();
    h.script(
        "mix",
        "#!/bin/sh\necho err1 >&2\necho '  out1'\nsleep 0.05\necho out2\necho err2 >&2\nexit 2\n",
    );
    let r = h.run();
    assert_eq!(
        summary(&r),
        vec![s("mix", HookStatus::Fail, "out1\\nout2\\nerr1\\nerr2")]
    );
}

#[test]
fn output_is_safe_encoded_as_ganeti_does() {
    assert_eq!(
        super::runner::safe_encode("a\tb\nc\rd\u{1}e\u{7f}f\u{e9}g\u{20ac}h\u{1f600}\\"),
        "a\\tb\\nc\\'rd\\x01e\\x7ff\\xe9g\\u20ach\\U0001f600\\"
    );
    let h = Hooks::new();
    h.script("utf", "#!/bin/sh\nprintf 'caf\\303\\251\\ttab\\n'\n");
    assert_eq!(h.run()[0].output, "caf\\xe9\\ttab");
}

#[test]
fn a_script_that_cannot_be_executed_fails_with_the_reason() {
    let h = Hooks::new();
    h.script("badinterp", "#!/nonexistent/interpreter\nexit 0\n");
    let r = h.run();
    assert_eq!(r[0].status, HookStatus::Fail);
    assert!(
        r[0].output.starts_with("Hook script execution error: "),
        "{}",
        r[0].output
    );
}

#[test]
fn a_hung_script_is_killed_at_the_timeout_with_its_children() {
    let h = Hooks::new();
    h.script("10hang", "#!/bin/sh\necho started\nsleep 1000\n");
    // a child in the background keeps stdout open after the leader is gone
    h.script(
        "20daemon",
        "#!/bin/sh\n(sleep 1000; echo late) &\necho parent\nwait\n",
    );
    h.script("30after", "#!/bin/sh\necho still ran\n");
    let opts = HookRunOptions {
        timeout: Duration::from_secs(1),
        ..HookRunOptions::default()
    };
    let t = Instant::now();
    let r = h.run_with(&env(&[("PATH", "/bin:/usr/bin")]), &opts);
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(r[0].status, HookStatus::Fail);
    assert_eq!(
        r[0].output,
        "started\\nHook script timed out after 1 s and was killed"
    );
    assert_eq!(r[1].status, HookStatus::Fail);
    assert!(
        r[1].output.starts_with("parent\\nHook script timed out"),
        "{}",
        r[1].output
    );
    assert_eq!(r[2].output, "still ran");
    // nothing of them is left running
    std::thread::sleep(Duration::from_millis(200));
    let ps = std::process::Command::new("pgrep")
        .args(["-f", "sleep 1000"])
        .output()
        .unwrap();
    assert!(
        ps.stdout.is_empty(),
        "left over: {}",
        String::from_utf8_lossy(&ps.stdout)
    );
}

#[test]
fn a_chatty_script_is_drained_and_its_output_capped() {
    let h = Hooks::new();
    // 5 MiB on stdout and some on stderr, far beyond any pipe buffer
    h.script(
        "chatty",
        "#!/bin/sh\nhead -c 5242880 /dev/zero | tr '\\0' x\necho\necho tail-of-stderr >&2\nexit 0\n",
    );
    let opts = HookRunOptions {
        timeout: Duration::from_secs(30),
        max_output: 1000,
    };
    let r = h.run_with(&env(&[("PATH", "/bin:/usr/bin")]), &opts);
    assert_eq!(r[0].status, HookStatus::Success);
    let out = &r[0].output;
    assert!(out.starts_with(&"x".repeat(1000)), "kept the first bytes");
    assert!(out.contains("tail-of-stderr"), "stderr kept separately");
    assert!(
        out.ends_with(&format!(
            "[... {} bytes of output omitted]",
            5242880 + 1 - 1000
        )),
        "{}",
        &out[out.len() - 80..]
    );
}

#[test]
fn hpaths_that_leave_the_directory_are_refused() {
    let h = Hooks::new();
    for bad in ["", "../x", "a/b", ".hidden", "x/../../etc"] {
        let e = run_hooks_dir(
            h.dir.path(),
            bad,
            HookPhase::Post,
            &BTreeMap::new(),
            &HookRunOptions::default(),
        )
        .unwrap_err();
        assert!(
            matches!(e, crate::NodeError::InvalidHookPath { .. }),
            "{bad}: {e}"
        );
    }
}

#[test]
fn phases_pick_their_directory() {
    let h = Hooks::new();
    let post = h.dir.path().join("instance-start-post.d");
    std::fs::create_dir_all(&post).unwrap();
    let p = post.join("x");
    std::fs::write(&p, "#!/bin/sh\necho post\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run_hooks_dir(
        h.dir.path(),
        "instance-start",
        HookPhase::Post,
        &env(&[("PATH", "/bin")]),
        &HookRunOptions::default(),
    )
    .unwrap();
    assert_eq!(
        summary(&r),
        vec![(
            "instance-start-post.d/x".into(),
            HookStatus::Success,
            "post".into()
        )]
    );
    assert!(h.run().is_empty());
    assert_eq!(HookStatus::Skip.code(), 0);
    assert_eq!(HookStatus::Fail.code(), 1);
    assert_eq!(HookStatus::Success.code(), 2);
    let _ = Path::new("/");
}
