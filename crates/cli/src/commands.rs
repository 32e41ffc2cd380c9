//! The command tables and the generic main loop of every gnt-* tool.
//!
//! Why: Ganeti's `GenericMain` gives all tools one shape — a table of
//! subcommands (handler, positional-argument spec, options, usage,
//! description), aliases, environment overrides of default options — and
//! one set of behaviours around it: the top-level usage listing, `--help`,
//! `--version`, argument-count errors and the mapping of errors to exit
//! codes. Keeping that here, data-driven, makes every tool behave the
//! same and keeps the per-tool modules about their commands only.

use std::io::Write;
use std::path::PathBuf;

use crate::context::{Ctx, Env};
use crate::errors::{format_error, CliError};
use crate::options;
use crate::optparse::{self, OptDef, Opts, ParseError, Parsed};

/// A command's handler.
pub type RunFn = fn(&mut Ctx<'_>, &Opts, Vec<String>) -> Result<i32, CliError>;

/// One positional argument group: `min`..=`max` values (`None`: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgSpec {
    /// Minimum count.
    pub min: usize,
    /// Maximum count, `None` for unlimited.
    pub max: Option<usize>,
}

/// One subcommand.
#[derive(Debug)]
pub struct CmdDef {
    /// The name (`add`, `list-tags`).
    pub name: &'static str,
    /// The usage after `<binary> <name> `.
    pub usage: &'static str,
    /// The description (help and the command listing).
    pub description: &'static str,
    /// The positional arguments.
    pub args: &'static [ArgSpec],
    /// The command's own options, in help order.
    pub options: &'static [&'static OptDef],
    /// Whether `GNT_<TOOL>_<CMD>` may inject default options.
    pub env_override: bool,
    /// The handler.
    pub run: RunFn,
}

/// One gnt-* tool.
#[derive(Debug)]
pub struct GroupDef {
    /// The program name (`gnt-instance`).
    pub binary: &'static str,
    /// The subcommands, sorted by name.
    pub commands: &'static [CmdDef],
    /// Aliases: `(alias, command)`.
    pub aliases: &'static [(&'static str, &'static str)],
    /// Width of the name column in the command listing: the longest name
    /// of Ganeti's full command set, so the layout matches Ganeti's even
    /// where this release has fewer commands.
    pub listing_width: usize,
}

impl GroupDef {
    /// The command named `name` (aliases resolved).
    pub fn find(&self, name: &str) -> Option<&'static CmdDef> {
        let target = self
            .aliases
            .iter()
            .find(|(a, _)| *a == name)
            .map(|(_, t)| *t)
            .unwrap_or(name);
        self.commands.iter().find(|c| c.name == target)
    }
}

/// The options every command accepts after its own.
pub static COMMON_OPTS: &[&OptDef] = &[&options::DEBUG, &options::REASON, &options::ROOT];

/// All options of a command, in help order.
pub fn all_options(cmd: &CmdDef) -> Vec<&'static OptDef> {
    cmd.options
        .iter()
        .copied()
        .chain(COMMON_OPTS.iter().copied())
        .collect()
}

/// Ganeti's `_FormatUsage`: the listing of a tool's commands.
pub fn format_group_usage(group: &GroupDef) -> String {
    let binary = group.binary;
    let mlen = group
        .commands
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0)
        .max(group.listing_width)
        .min(60);
    let mut out = format!(
        "Usage: {binary} {{command}} [options...] [argument...]\n\
         {binary} <command> --help to see details, or man {binary}\n\nCommands:\n"
    );
    let mut cmds: Vec<&CmdDef> = group.commands.iter().collect();
    cmds.sort_by_key(|c| c.name);
    for c in cmds {
        let lines = crate::textwrap::wrap(c.description, (79usize - 3).saturating_sub(mlen));
        let mut it = lines.iter();
        out.push_str(&format!(
            " {:<mlen$} - {}\n",
            c.name,
            it.next().map(String::as_str).unwrap_or("")
        ));
        for l in it {
            out.push_str(&format!(" {:<mlen$}   {l}\n", ""));
        }
    }
    out.push('\n');
    out
}

/// Ganeti's `_CheckArguments`: `Err(message)` when the count is wrong.
pub fn check_arguments(cmd: &str, spec: &[ArgSpec], args: &[String]) -> Result<(), String> {
    if !args.is_empty() && spec.is_empty() {
        return Err(format!("Error: Command {cmd} expects no arguments"));
    }
    let min_count: usize = spec.iter().map(|a| a.min).sum();
    let max_count: Option<usize> = spec
        .iter()
        .try_fold(0usize, |acc, a| a.max.map(|m| acc + m));
    let check_max = spec.last().is_some_and(|a| a.max.is_some());
    if check_max {
        if let Some(max) = max_count {
            if min_count == max && args.len() != min_count {
                return Err(format!(
                    "Error: Command {cmd} expects {min_count} argument(s)"
                ));
            }
            if args.len() > max {
                return Err(format!(
                    "Error: Command {cmd} expects only {max} argument(s)"
                ));
            }
        }
    }
    if args.len() < min_count {
        return Err(format!(
            "Error: Command {cmd} expects at least {min_count} argument(s)"
        ));
    }
    Ok(())
}

/// POSIX-shell-like word splitting (Python's `shlex.split`).
pub fn shlex_split(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err("No closing quotation".into()),
                        },
                        Some(x) => cur.push(x),
                        None => return Err("No closing quotation".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(x) => cur.push(x),
                    None => return Err("No escaped character".into()),
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// The version line of `--version`.
pub fn version_line(binary: &str) -> String {
    format!(
        "{binary} (ganeti-rs {}) {}",
        ganeti_types::SOFTWARE_VERSION,
        ganeti_types::GANETI_VERSION
    )
}

/// The terminal width optparse uses for help (`$COLUMNS - 2`, default 78).
fn help_width(env: &dyn Env) -> usize {
    env.var("COLUMNS")
        .and_then(|c| c.trim().parse::<usize>().ok())
        .unwrap_or(80)
        .saturating_sub(2)
}

fn write_all(w: &mut dyn Write, s: &str) {
    // Output errors (a closed pipe) end the program with status 1 anyway;
    // there is nobody left to tell.
    let _ = w.write_all(s.as_bytes());
}

/// Ganeti's `GenericMain` for one tool. `argv[0]` is the program name,
/// `argv[1]` the subcommand.
pub fn generic_main(
    group: &GroupDef,
    argv: &[String],
    env: &dyn Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let binary = group.binary;
    let Some(cmd_name) = argv.get(1) else {
        write_all(out, &format_group_usage(group));
        return 1;
    };
    if cmd_name == "--version" {
        write_all(out, &format!("{}\n", version_line(binary)));
        return 0;
    }
    if cmd_name == "--help" {
        write_all(out, &format_group_usage(group));
        return 0;
    }
    let Some(cmd) = group.find(cmd_name) else {
        write_all(out, &format_group_usage(group));
        return 1;
    };
    let mut rest: Vec<String> = argv[2..].to_vec();
    if cmd.env_override {
        let var = format!("{}_{}", binary.replace('-', "_"), cmd.name).to_uppercase();
        if let Some(val) = env.var(&var).filter(|v| !v.is_empty()) {
            match shlex_split(&val) {
                Ok(words) => {
                    rest.splice(0..0, words);
                }
                Err(e) => {
                    write_all(err, &format!("Unhandled exception: {e}\n"));
                    return 1;
                }
            }
        }
    }
    let usage = format!("{binary} {} {}", cmd.name, cmd.usage);
    let defs = all_options(cmd);
    let (opts, args) = match optparse::parse(&defs, &rest) {
        Ok(Parsed::Help) => {
            write_all(
                out,
                &optparse::format_help(&usage, cmd.description, &defs, help_width(env)),
            );
            return 0;
        }
        Ok(Parsed::Args(o, a)) => (o, a),
        Err(ParseError::Usage(msg)) => {
            write_all(
                err,
                &format!(
                    "{}\n{binary}: error: {msg}\n",
                    optparse::format_usage(&usage)
                ),
            );
            return 2;
        }
        Err(ParseError::Param(e)) => {
            write_all(err, &format!("{}\n", e.cli_message()));
            return 1;
        }
    };
    if let Err(msg) = check_arguments(cmd.name, cmd.args, &args) {
        write_all(err, &format!("{msg}\n"));
        return 1;
    }
    let root: PathBuf = opts
        .str("root")
        .or_else(|| env.var("GANETI_ROOT").filter(|r| !r.is_empty()))
        .unwrap_or_else(|| "/".to_string())
        .into();
    let mut ctx = Ctx::new(binary, cmd_name, root, out, err, env);
    match (cmd.run)(&mut ctx, &opts, args) {
        Ok(rc) => rc,
        // The reader went away (`gnt-job list | head`): exit quietly, as
        // Ganeti does on EPIPE.
        Err(CliError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 1,
        Err(e) => {
            let (rc, text) = format_error(&e);
            if !text.is_empty() {
                let _ = ctx.errln(&text);
            }
            rc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn argument_checks_like_ganeti() {
        let one = [ArgSpec {
            min: 1,
            max: Some(1),
        }];
        assert_eq!(
            check_arguments("remove", &one, &[]),
            Err("Error: Command remove expects 1 argument(s)".into())
        );
        assert!(check_arguments("remove", &one, &s(&["a"])).is_ok());
        let two = [
            ArgSpec {
                min: 1,
                max: Some(1),
            },
            ArgSpec {
                min: 1,
                max: Some(1),
            },
        ];
        assert_eq!(
            check_arguments("rename", &two, &s(&["a"])),
            Err("Error: Command rename expects 2 argument(s)".into())
        );
        assert_eq!(
            check_arguments("getmaster", &[], &s(&["x"])),
            Err("Error: Command getmaster expects no arguments".into())
        );
        let many = [ArgSpec { min: 1, max: None }];
        assert_eq!(
            check_arguments("info", &many, &[]),
            Err("Error: Command info expects at least 1 argument(s)".into())
        );
        let upto = [
            ArgSpec {
                min: 1,
                max: Some(1),
            },
            ArgSpec {
                min: 0,
                max: Some(1),
            },
        ];
        assert_eq!(
            check_arguments("watcher", &upto, &s(&["a", "b", "c"])),
            Err("Error: Command watcher expects only 2 argument(s)".into())
        );
        assert!(check_arguments("watcher", &upto, &s(&["a"])).is_ok());
    }

    #[test]
    fn shlex() {
        assert_eq!(
            shlex_split(r#"-o name,os  --separator='|' "a b" c\ d"#).unwrap(),
            s(&["-o", "name,os", "--separator=|", "a b", "c d"])
        );
        assert!(shlex_split("'open").is_err());
        assert!(shlex_split("").unwrap().is_empty());
    }
}
