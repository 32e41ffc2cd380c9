//! Hook scripts on a node: Ganeti's `HooksRunner.RunLocalHooks` with
//! `RunParts`, so operators' scripts find exactly what Ganeti gives them
//! (spec `hooks.md` §1), plus a per-script timeout Ganeti lacks: a hung
//! script is killed with its whole process group and reported as failed
//! instead of holding the job (and its locks) until the RPC gives up.
//!
//! Which scripts run: the entries of `<hooks>/<hpath>-<phase>.d/` not
//! starting with a dot, in byte order; those named `[A-Za-z0-9_-]+` that
//! are executable regular files (symlinks followed) run, the others are
//! reported as skipped. Each runs with no arguments, in `/`, with stdin at
//! EOF and exactly the given environment; its output is stdout followed
//! by stderr, stripped, and capped (the pipes are always drained, so a
//! chatty script cannot block).

mod runner;
#[cfg(test)]
mod tests;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use runner::run_hooks_dir;

/// Deadline of one hook script unless the node is configured otherwise.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(300);
/// Output kept per script (the rest is counted, not kept).
pub const DEFAULT_HOOK_MAX_OUTPUT: usize = 64 * 1024;

/// Pre or post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookPhase {
    Pre,
    Post,
}

impl HookPhase {
    /// `pre` or `post`, as in directory names and `GANETI_HOOKS_PHASE`.
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::Pre => "pre",
            HookPhase::Post => "post",
        }
    }
}

/// A script's outcome (Ganeti's `HKR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookStatus {
    Skip,
    Fail,
    Success,
}

impl HookStatus {
    /// Ganeti's wire codes: `HKR_SKIP` 0, `HKR_FAIL` 1, `HKR_SUCCESS` 2.
    pub fn code(self) -> u8 {
        match self {
            HookStatus::Skip => 0,
            HookStatus::Fail => 1,
            HookStatus::Success => 2,
        }
    }
}

/// One script's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookScriptResult {
    /// `<hpath>-<phase>.d/<name>`, as Ganeti reports it.
    pub script: String,
    pub status: HookStatus,
    /// stdout then stderr, stripped; why it could not run or was killed.
    pub output: String,
    /// Wall time in milliseconds (0 when skipped).
    pub duration_ms: u64,
}

/// Limits of one run.
#[derive(Debug, Clone)]
pub struct HookRunOptions {
    pub timeout: Duration,
    pub max_output: usize,
}

impl Default for HookRunOptions {
    fn default() -> Self {
        HookRunOptions {
            timeout: DEFAULT_HOOK_TIMEOUT,
            max_output: DEFAULT_HOOK_MAX_OUTPUT,
        }
    }
}
