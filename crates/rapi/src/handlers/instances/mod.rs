//! `/2/instances`, `/2/instances-multi-alloc` and everything under
//! `/2/instances/[name]`.
//!
//! Most resources here are Ganeti's generic opcode handlers: one opcode
//! built from the body, URL item and query arguments (see
//! [`crate::handlers::common::fill_opcode`]). What differs per resource —
//! which query arguments become static parameters, which body keys are
//! renamed, whether the body is read at all — is Ganeti 3.0.2's, resource by
//! resource, because clients depend on each of those details.
//!
//! - [`collection`]: listing, bulk listing, creation, multi-allocation;
//! - [`single`]: one instance's data, removal, `info`, `console`, tags;
//! - [`actions`]: the opcode resources (startup, reboot, modify, ...);
//! - [`reinstall`]: the one custom multi-opcode job.
//!
//! Some of these opcodes (migrate, failover, disk replacement, ...)
//! arrive in the master with later issues. Their resources exist already
//! and build the opcode exactly as Ganeti does; the master refuses it at
//! submission and the client gets a clean 500 saying so (see
//! [`crate::handlers::common::submit_error`]).

pub mod actions;
pub mod collection;
pub mod reinstall;
pub mod single;

use crate::handler;
use crate::routes::{Access, HttpMethod, Route};

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    use Access::{Public, Read, Write};
    use HttpMethod::{Delete, Get, Post, Put};
    let route = |pattern, resource, methods| Route {
        pattern,
        resource,
        methods,
    };
    vec![
        route(
            "/2/instances",
            "instances",
            vec![
                (Get, Public, handler!(collection::list)),
                (Post, Write, handler!(collection::create)),
            ],
        ),
        route(
            "/2/instances-multi-alloc",
            "instances_multi_alloc",
            vec![(Post, Write, handler!(collection::multi_alloc))],
        ),
        route(
            "/2/instances/[name]",
            "instances_name",
            vec![
                (Get, Public, handler!(single::get)),
                (Delete, Write, handler!(single::remove)),
            ],
        ),
        route(
            "/2/instances/[name]/info",
            "instances_name_info",
            vec![(Get, Public, handler!(single::info))],
        ),
        route(
            "/2/instances/[name]/console",
            "instances_name_console",
            vec![(Get, Read, handler!(single::console))],
        ),
        crate::handlers::common::tags_route!(
            "/2/instances/[name]/tags",
            "instances_name_tags",
            "instance"
        ),
        route(
            "/2/instances/[name]/reboot",
            "instances_name_reboot",
            vec![(Post, Write, handler!(actions::reboot))],
        ),
        route(
            "/2/instances/[name]/shutdown",
            "instances_name_shutdown",
            vec![(Put, Write, handler!(actions::shutdown))],
        ),
        route(
            "/2/instances/[name]/startup",
            "instances_name_startup",
            vec![(Put, Write, handler!(actions::startup))],
        ),
        route(
            "/2/instances/[name]/reinstall",
            "instances_name_reinstall",
            vec![(Post, Write, handler!(reinstall::reinstall))],
        ),
        route(
            "/2/instances/[name]/replace-disks",
            "instances_name_replace_disks",
            vec![(Post, Write, handler!(actions::replace_disks))],
        ),
        route(
            "/2/instances/[name]/activate-disks",
            "instances_name_activate_disks",
            vec![(Put, Write, handler!(actions::activate_disks))],
        ),
        route(
            "/2/instances/[name]/deactivate-disks",
            "instances_name_deactivate_disks",
            vec![(Put, Write, handler!(actions::deactivate_disks))],
        ),
        route(
            "/2/instances/[name]/recreate-disks",
            "instances_name_recreate_disks",
            vec![(Post, Write, handler!(actions::recreate_disks))],
        ),
        route(
            "/2/instances/[name]/disk/[id]/grow",
            "instances_name_disk_grow",
            vec![(Post, Write, handler!(actions::grow_disk))],
        ),
        route(
            "/2/instances/[name]/prepare-export",
            "instances_name_prepare_export",
            vec![(Put, Write, handler!(actions::prepare_export))],
        ),
        route(
            "/2/instances/[name]/export",
            "instances_name_export",
            vec![(Put, Write, handler!(actions::export))],
        ),
        route(
            "/2/instances/[name]/migrate",
            "instances_name_migrate",
            vec![(Put, Write, handler!(actions::migrate))],
        ),
        route(
            "/2/instances/[name]/failover",
            "instances_name_failover",
            vec![(Put, Write, handler!(actions::failover))],
        ),
        route(
            "/2/instances/[name]/rename",
            "instances_name_rename",
            vec![(Put, Write, handler!(actions::rename))],
        ),
        route(
            "/2/instances/[name]/modify",
            "instances_name_modify",
            vec![(Put, Write, handler!(actions::modify))],
        ),
    ]
}

/// Ganeti 2.8.4 changed the separator of the `usb_devices` hypervisor
/// parameter from comma to space; RAPI keeps accepting both by turning
/// spaces into commas in `hvparams.usb_devices` of a body dict. Anything
/// of another shape is left for opcode validation to reject.
pub(crate) fn convert_usb_devices(body: &mut serde_json::Value) {
    if let Some(serde_json::Value::String(usb)) = body
        .get_mut("hvparams")
        .and_then(|h| h.get_mut("usb_devices"))
    {
        *usb = usb.replace(' ', ",");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usb_devices_spaces_become_commas() {
        let mut b = json!({"hvparams": {"usb_devices": "a b c", "x": "y z"}});
        convert_usb_devices(&mut b);
        assert_eq!(b, json!({"hvparams": {"usb_devices": "a,b,c", "x": "y z"}}));
        let mut other = json!({"hvparams": [1], "custom_hvparams": {"usb_devices": "a b"}});
        convert_usb_devices(&mut other);
        assert_eq!(
            other,
            json!({"hvparams": [1], "custom_hvparams": {"usb_devices": "a b"}})
        );
    }
}
