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
    },
    OpImpl {
        op_id: "OP_INSTANCE_REMOVE",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: lifecycle::remove,
    },
    OpImpl {
        op_id: "OP_INSTANCE_STARTUP",
        locks: common::instance_and_node_locks,
        check: lifecycle::check_startup,
        exec: lifecycle::startup,
    },
    OpImpl {
        op_id: "OP_INSTANCE_SHUTDOWN",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: lifecycle::shutdown,
    },
    OpImpl {
        op_id: "OP_INSTANCE_REBOOT",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: lifecycle::reboot,
    },
    OpImpl {
        op_id: "OP_INSTANCE_RENAME",
        locks: lifecycle::rename_locks,
        check: lifecycle::check_rename,
        exec: lifecycle::rename,
    },
    OpImpl {
        op_id: "OP_INSTANCE_SET_PARAMS",
        locks: common::instance_and_node_locks,
        check: modify::check,
        exec: modify::exec,
    },
    OpImpl {
        op_id: "OP_INSTANCE_GROW_DISK",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: grow::grow_disk,
    },
    OpImpl {
        op_id: "OP_INSTANCE_MULTI_ALLOC",
        locks: multialloc::locks,
        check: multialloc::check,
        exec: multialloc::exec,
    },
    OpImpl {
        op_id: "OP_INSTANCE_REINSTALL",
        locks: common::instance_and_node_locks,
        check: reinstall::check,
        exec: reinstall::exec,
    },
    OpImpl {
        op_id: "OP_INSTANCE_ACTIVATE_DISKS",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: disks::activate,
    },
    OpImpl {
        op_id: "OP_INSTANCE_DEACTIVATE_DISKS",
        locks: common::instance_and_node_locks,
        check: common::no_check,
        exec: disks::deactivate,
    },
    OpImpl {
        op_id: "OP_INSTANCE_RECREATE_DISKS",
        locks: recreate::locks,
        check: recreate::check,
        exec: recreate::exec,
    },
    OpImpl {
        op_id: "OP_INSTANCE_QUERY_DATA",
        locks: querydata::locks,
        check: common::no_check,
        exec: querydata::exec,
    },
];
