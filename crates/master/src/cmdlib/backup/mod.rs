//! Backup opcodes (`gnt-backup`): prepare, export, remove; the import is
//! OP_INSTANCE_CREATE in mode `import` (`instance/import.rs`).
//!
//! An export is a directory on a node, `<export dir>/<instance name>`,
//! holding one dump per disk (named by the exported disk's UUID, written
//! by the OS export script) and `config.ini` describing the instance
//! ([`finalize`]); it is built in `<instance>.new` and moved into place
//! only when complete, so a listed export is always whole. Listing is the
//! `export` query resource (the master asks the node, `querying.rs`).

mod export;
pub(crate) mod finalize;
pub(crate) mod ini;
mod remove;

use super::OpImpl;

pub(crate) use remove::reachable_nodes;

pub(super) const OPS: &[OpImpl] = &[
    OpImpl {
        op_id: "OP_BACKUP_PREPARE",
        locks: export::prepare_locks,
        check: super::instance::common::no_check,
        exec: export::prepare,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_BACKUP_EXPORT",
        locks: export::locks,
        check: export::check,
        exec: export::exec,
        hooks: Some(&crate::hooks::defs::INSTANCE_EXPORT),
    },
    OpImpl {
        op_id: "OP_BACKUP_REMOVE",
        locks: remove::locks,
        check: super::instance::common::no_check,
        exec: remove::exec,
        hooks: None,
    },
];
