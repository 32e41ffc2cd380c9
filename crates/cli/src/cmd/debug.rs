//! `gnt-debug`: the test opcodes (`delay`).
//!
//! Why: `gnt-debug delay` is the simplest way to exercise the job queue
//! (locks, priorities, cancellation) and is used by the tests and by
//! operators to check that the master processes jobs.

use serde_json::{json, Value};

use super::{jbool, jint};
use crate::commands::{ArgSpec, CmdDef, GroupDef};
use crate::context::Ctx;
use crate::errors::{CliError, GanetiErr};
use crate::jobs::opcode;
use crate::options::*;
use crate::optparse::Opts;

/// `OP_TEST_DELAY` for `gnt-debug delay`.
pub fn build_delay(opts: &Opts, args: &[String]) -> Result<Value, CliError> {
    let text = args.first().map(String::as_str).unwrap_or("");
    let duration = ganeti_clifmt::pystr::py_float(text).ok_or_else(|| {
        CliError::Ganeti(GanetiErr::new(
            "ValueError",
            ganeti_clifmt::pystr::float_error_message(text),
        ))
    })?;
    Ok(opcode(
        "OP_TEST_DELAY",
        vec![
            ("duration", json!(duration)),
            ("on_master", jbool(opts, "on_master")),
            ("on_nodes", json!(opts.str_list("on_nodes"))),
            ("repeat", jint(opts, "repeat")),
            ("interruptible", jbool(opts, "interruptible")),
            ("no_locks", jbool(opts, "no_locks")),
        ],
    ))
}

fn delay(ctx: &mut Ctx<'_>, opts: &Opts, args: Vec<String>) -> Result<i32, CliError> {
    let op = build_delay(opts, &args)?;
    ctx.submit_or_send(op, opts)?;
    Ok(0)
}

/// `gnt-debug`.
pub static GROUP: GroupDef = GroupDef {
    binary: "gnt-debug",
    commands: COMMANDS,
    aliases: &[],
    listing_width: 13,
};

static COMMANDS: &[CmdDef] = &[CmdDef {
    name: "delay",
    usage: "[<opts>...] <duration>",
    description: "Executes a TestDelay OpCode",
    args: &[ArgSpec {
        min: 1,
        max: Some(1),
    }],
    options: &[
        &NO_MASTER,
        &ON_NODES,
        &REPEAT,
        &INTERRUPTIBLE,
        &NO_LOCKS,
        &DRY_RUN,
        &PRIORITY,
        &SUBMIT,
        &PRINT_JOBID,
    ],
    env_override: false,
    run: delay,
}];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::testutil::parse_cmd;

    #[test]
    fn delay_opcode() {
        let (o, a) = parse_cmd(
            &GROUP,
            "delay",
            &["--submit", "-n", "node1.example.com", "8"],
        );
        assert_eq!(
            build_delay(&o, &a).unwrap(),
            json!({"OP_ID": "OP_TEST_DELAY", "duration": 8.0, "on_master": true,
                   "on_nodes": ["node1.example.com"], "repeat": 0, "interruptible": false,
                   "no_locks": false})
        );
        let (o, a) = parse_cmd(&GROUP, "delay", &["--no-master", "-r", "3", "-i", "0.001"]);
        let op = build_delay(&o, &a).unwrap();
        assert_eq!(op["on_master"], json!(false));
        assert_eq!(op["repeat"], json!(3));
        assert_eq!(op["duration"], json!(0.001));
        let (o, a) = parse_cmd(&GROUP, "delay", &["abc"]);
        assert!(build_delay(&o, &a).is_err());
    }
}
