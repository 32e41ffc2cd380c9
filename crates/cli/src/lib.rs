//! The gnt-* command-line tools of ganeti-rs: `gnt-cluster`,
//! `gnt-instance`, `gnt-node`, `gnt-group`, `gnt-network`, `gnt-job`,
//! `gnt-os`, `gnt-debug`, `gnt-filter` and `gnt-backup`, as one library behind one
//! multi-call binary.
//!
//! Why this shape: the tools are thin — they parse a command line into an
//! opcode or a query, talk LUXI to the master and print the answer the way
//! Ganeti 3.0.2 prints it (texts, exit codes and streams are part of the
//! interface scripts rely on). Everything observable goes through
//! [`run`], which the `gnt` binary and the end-to-end tests call alike;
//! the side effects sit behind [`context::Env`] so whole commands can be
//! tested against a scripted master.
//!
//! Option parsing is a small table-driven optparse clone
//! ([`optparse`]) rather than clap: the reference behaviour (help layout,
//! abbreviations, error texts, options ending at the first argument) is
//! optparse's and is easier to reproduce than to coax out of clap.

// The canned master answers in the tests are large `json!` literals.
#![cfg_attr(test, recursion_limit = "256")]

pub mod bootstrap;
pub mod cmd;
pub mod commands;
pub mod console;
pub mod context;
pub mod errors;
pub mod info;
pub mod ipolicy;
pub mod jobs;
pub mod options;
pub mod optparse;
pub mod params;
pub mod query;
pub mod textwrap;

#[cfg(test)]
mod fixture_tests;

use std::ffi::OsString;
use std::io::Write;

use commands::GroupDef;
use context::{Env, RealEnv};

/// Every tool: `(name without the gnt- prefix, definition)`.
pub fn groups() -> [(&'static str, &'static GroupDef); 10] {
    [
        ("cluster", &cmd::cluster::GROUP),
        ("instance", &cmd::instance::GROUP),
        ("node", &cmd::node::GROUP),
        ("group", &cmd::group::GROUP),
        ("network", &cmd::network::GROUP),
        ("job", &cmd::job::GROUP),
        ("os", &cmd::os::GROUP),
        ("debug", &cmd::debug::GROUP),
        ("filter", &cmd::filter::GROUP),
        ("backup", &cmd::backup::GROUP),
    ]
}

/// The tool called `name` (`gnt-instance` or `instance`).
pub fn find_group(name: &str) -> Option<&'static GroupDef> {
    let short = name.strip_prefix("gnt-").unwrap_or(name);
    groups()
        .into_iter()
        .find(|(n, _)| *n == short)
        .map(|(_, g)| g)
}

fn gnt_usage() -> String {
    let mut s = String::from(
        "Usage: gnt {tool} {command} [options...] [argument...]\n\
         (or call the tool as gnt-<tool>)\n\nTools:\n",
    );
    for (name, g) in groups() {
        s.push_str(&format!(" {name:<9} - {}\n", g.binary));
    }
    s.push('\n');
    s
}

/// Run one command line (`argv[0]` is the program name, e.g.
/// `gnt-instance` or `gnt`) and return the exit code.
pub fn run(argv: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    run_with_env(argv, &RealEnv, stdout, stderr)
}

/// [`run`] with an explicit environment (tests, embedding).
pub fn run_with_env(
    argv: Vec<OsString>,
    env: &dyn Env,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let argv: Vec<String> = argv
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let prog = argv
        .first()
        .map(|p| {
            std::path::Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.clone())
        })
        .unwrap_or_else(|| "gnt".to_string());
    let rc = if let Some(group) = find_group(&prog).filter(|_| prog.starts_with("gnt-")) {
        let mut args = argv.clone();
        if let Some(first) = args.first_mut() {
            *first = group.binary.to_string();
        }
        commands::generic_main(group, &args, env, stdout, stderr)
    } else {
        match argv.get(1).map(String::as_str) {
            None => {
                let _ = stdout.write_all(gnt_usage().as_bytes());
                1
            }
            Some("--help" | "-h") => {
                let _ = stdout.write_all(gnt_usage().as_bytes());
                0
            }
            Some("--version") => {
                let _ = writeln!(stdout, "{}", commands::version_line("gnt"));
                0
            }
            Some(tool) => match find_group(tool) {
                Some(group) => {
                    let mut args = vec![group.binary.to_string()];
                    args.extend(argv[2..].iter().cloned());
                    commands::generic_main(group, &args, env, stdout, stderr)
                }
                None => {
                    let _ = stdout.write_all(gnt_usage().as_bytes());
                    1
                }
            },
        }
    };
    let _ = stdout.flush();
    let _ = stderr.flush();
    rc
}
