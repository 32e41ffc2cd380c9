//! Pure support library of the gnt-* command-line tools: Ganeti's option
//! syntaxes and its output formats, reproduced exactly as Ganeti 3.0.2
//! prints them.
//!
//! Why a separate crate: the argument parser and the commands (crate
//! `ganeti-cli`) need many small, fiddly behaviours of Ganeti's `cli.py`,
//! `cli_opts.py`, `utils/text.py` and `qlang.py` that users and scripts can
//! see byte for byte. Keeping them here, free of I/O, clap and LUXI, makes
//! each one testable against the recorded golden output of the real tools.
//!
//! - [`kv`]: `-B k=v,no_k,-k`, `--disk 0:size=1G`, `-H hv:...` and the type
//!   enforcement of parameter dicts;
//! - [`units`]: sizes (`1.5G` -> MiB, MiB -> `23.5G`);
//! - [`table`]: list tables and per-kind value formatting of query results;
//! - [`qfilter`]: the `-F` filter language and name-argument filters;
//! - [`nested`]: the indented `key: value` trees of `info` commands;
//! - [`timefmt`]: the time stamp formats;
//! - [`pystr`]: Python's `str()`/`repr()`/`int()`/`float()` semantics the
//!   others build on.
//!
//! Note on `--roman`: Ganeti converts numbers to Roman numerals only when
//! the optional Python `roman` module is installed; the reference
//! installation has none (`gnt-cluster info --roman` prints Arabic
//! numbers), so callers should treat `--roman` as a no-op. [`units::to_roman`]
//! exists for the case the behaviour is wanted.

pub mod kv;
pub mod nested;
pub mod pystr;
pub mod qfilter;
pub mod table;
pub mod timefmt;
pub mod units;
