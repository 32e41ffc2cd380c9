//! `gnt`: the multi-call binary behind `gnt-cluster`, `gnt-instance`,
//! `gnt-node`, `gnt-group`, `gnt-network`, `gnt-job`, `gnt-os`, `gnt-backup`,
//! `gnt-debug` and `gnt-filter` (selected by the program name, e.g. through
//! a symlink), and `gnt <tool> <command> ...`.
//!
//! Why so thin: all behaviour lives in `ganeti-cli` so that the end-to-end
//! tests can run the very same code in-process; this file only wires the
//! real argv and standard streams to it.

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let code = ganeti_cli::run(argv, &mut out, &mut err);
    std::process::exit(code);
}
