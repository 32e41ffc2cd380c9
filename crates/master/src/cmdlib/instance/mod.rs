//! Instance opcodes: create, multi-allocation, remove, start, stop,
//! reboot, rename, reinstall, modify, grow-disk, disk activation and
//! recreation, and query-data.

pub(crate) mod common;
mod create;
pub(crate) mod disks;
mod grow;
pub(crate) mod import;
pub(crate) mod lifecycle;
mod modify;
mod multialloc;
mod netport;
pub(crate) mod osrun;
mod querydata;
mod recreate;
mod reinstall;
#[cfg(test)]
mod tests;

use super::OpImpl;

pub(crate) use create::recover_interrupted_create;

pub(super) const OPS: &[OpImpl] = &[
    OpImpl {
        op_id: "OP_INSTANCE_CREATE",
        locks: create::locks,
        check: create::check,
        exec: create::exec,
        hooks: Some(&crate::hooks::defs::INSTANCE_ADD),
    },
    OpImpl {
        op_id: "OP_INSTANCE_REMOVE",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: lifecycle::remove,
        hooks: Some(&crate::hooks::defs::INSTANCE_REMOVE),
    },
    OpImpl {
        op_id: "OP_INSTANCE_STARTUP",
        locks: common::instance_and_node_locks,
        check: lifecycle::check_startup,
        exec: lifecycle::startup,
        hooks: Some(&crate::hooks::defs::INSTANCE_START),
    },
    OpImpl {
        op_id: "OP_INSTANCE_SHUTDOWN",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: lifecycle::shutdown,
        hooks: Some(&crate::hooks::defs::INSTANCE_STOP),
    },
    OpImpl {
        op_id: "OP_INSTANCE_REBOOT",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: lifecycle::reboot,
        hooks: Some(&crate::hooks::defs::INSTANCE_REBOOT),
    },
    OpImpl {
        op_id: "OP_INSTANCE_RENAME",
        locks: lifecycle::rename_locks,
        check: lifecycle::check_rename,
        exec: lifecycle::rename,
        hooks: Some(&crate::hooks::defs::INSTANCE_RENAME),
    },
    OpImpl {
        op_id: "OP_INSTANCE_SET_PARAMS",
        locks: common::instance_and_node_locks,
        check: modify::check,
        exec: modify::exec,
        hooks: Some(&crate::hooks::defs::INSTANCE_MODIFY),
    },
    OpImpl {
        op_id: "OP_INSTANCE_GROW_DISK",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: grow::grow_disk,
        hooks: Some(&crate::hooks::defs::INSTANCE_GROW_DISK),
    },
    OpImpl {
        op_id: "OP_INSTANCE_MULTI_ALLOC",
        locks: multialloc::locks,
        check: multialloc::check,
        exec: multialloc::exec,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_INSTANCE_REINSTALL",
        locks: common::instance_and_node_locks,
        check: reinstall::check,
        exec: reinstall::exec,
        hooks: Some(&crate::hooks::defs::INSTANCE_REINSTALL),
    },
    OpImpl {
        op_id: "OP_INSTANCE_ACTIVATE_DISKS",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: disks::activate,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_INSTANCE_DEACTIVATE_DISKS",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: disks::deactivate,
        hooks: None,
    },
    OpImpl {
        op_id: "OP_INSTANCE_RECREATE_DISKS",
        locks: recreate::locks,
        check: recreate::check,
        exec: recreate::exec,
        hooks: Some(&crate::hooks::defs::INSTANCE_RECREATE_DISKS),
    },
    OpImpl {
        op_id: "OP_INSTANCE_QUERY_DATA",
        locks: querydata::locks,
        check: common::no_check,
        exec: querydata::exec,
        hooks: None,
    },
];
