//! The single-opcode resources under `/2/instances/[name]`.
//!
//! Each is Ganeti's generic handler with its own choice of what is static
//! (set from the URL and query string, refused in the body) and whether the
//! body is read at all; every one adds the reason trail. The choices below
//! are rlib2's, resource by resource.

use ganeti_clifmt::pystr;
use serde_json::{json, Map, Value};

use super::convert_usb_devices;
use crate::call::Call;
use crate::error::RapiError;
use crate::handlers::common::{check_dict, reason_trail, submit_opcode};

/// The statics of one resource, in the order Ganeti evaluates them (so the
/// first bad query argument is the one reported), plus the reason trail.
fn statics<const N: usize>(call: &Call, specific: [(&str, Value); N]) -> Map<String, Value> {
    let mut s: Map<String, Value> = specific
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    s.insert("reason".into(), reason_trail(call));
    s
}

fn name(call: &Call) -> Value {
    json!(call.item(0))
}

fn flag(call: &Call, arg: &str) -> Result<Value, RapiError> {
    Ok(json!(call.query.flag(arg, false)?))
}

/// The body, for resources that read it.
fn body(call: &Call) -> Option<Value> {
    call.body.clone()
}

/// For resources that build the opcode from the URL and query only.
fn no_body() -> Option<Value> {
    Some(json!({}))
}

/// `POST .../reboot?type=soft|hard|full&ignore_secondaries=0|1&dry-run=`.
pub async fn reboot(call: Call) -> Result<Value, RapiError> {
    let s = statics(
        &call,
        [
            ("instance_name", name(&call)),
            (
                "reboot_type",
                json!(call.query.get("type").unwrap_or("hard")),
            ),
            ("ignore_secondaries", flag(&call, "ignore_secondaries")?),
            ("dry_run", flag(&call, "dry-run")?),
        ],
    );
    submit_opcode(&call, "OP_INSTANCE_REBOOT", body(&call), s, &[]).await
}

/// `PUT .../startup?force=&no_remember=&dry-run=` (body ignored).
pub async fn startup(call: Call) -> Result<Value, RapiError> {
    let s = statics(
        &call,
        [
            ("instance_name", name(&call)),
            ("force", flag(&call, "force")?),
            ("dry_run", flag(&call, "dry-run")?),
            ("no_remember", flag(&call, "no_remember")?),
        ],
    );
    submit_opcode(&call, "OP_INSTANCE_STARTUP", no_body(), s, &[]).await
}

/// `PUT .../shutdown?no_remember=&dry-run=` with body (e.g. `timeout`).
pub async fn shutdown(call: Call) -> Result<Value, RapiError> {
    let s = statics(
        &call,
        [
            ("instance_name", name(&call)),
            ("no_remember", flag(&call, "no_remember")?),
            ("dry_run", flag(&call, "dry-run")?),
        ],
    );
    submit_opcode(&call, "OP_INSTANCE_SHUTDOWN", body(&call), s, &[]).await
}

/// `PUT .../rename` with body `{new_name, ...}`.
pub async fn rename(call: Call) -> Result<Value, RapiError> {
    let s = statics(&call, [("instance_name", name(&call))]);
    submit_opcode(&call, "OP_INSTANCE_RENAME", body(&call), s, &[]).await
}

/// `PUT .../modify`: `OP_INSTANCE_SET_PARAMS`, accepting the field names
/// of the instance listing (`custom_beparams`, `custom_hvparams`).
///
/// A request without a body is a 500, as in Ganeti (whose handler copies
/// the body before looking at it): clients always send one, and a
/// modification of nothing is not a request to guess at.
pub async fn modify(call: Call) -> Result<Value, RapiError> {
    let Some(mut data) = call.body.clone() else {
        return Err(RapiError::internal(
            "'NoneType' object has no attribute 'copy'",
        ));
    };
    convert_usb_devices(&mut data);
    let s = statics(&call, [("instance_name", name(&call))]);
    submit_opcode(
        &call,
        "OP_INSTANCE_SET_PARAMS",
        Some(data),
        s,
        &[
            ("custom_beparams", "beparams"),
            ("custom_hvparams", "hvparams"),
        ],
    )
    .await
}

/// `PUT .../activate-disks?ignore_size=` (body ignored).
pub async fn activate_disks(call: Call) -> Result<Value, RapiError> {
    let s = statics(
        &call,
        [
            ("instance_name", name(&call)),
            ("ignore_size", flag(&call, "ignore_size")?),
        ],
    );
    submit_opcode(&call, "OP_INSTANCE_ACTIVATE_DISKS", no_body(), s, &[]).await
}

/// `PUT .../deactivate-disks?force=` (body ignored).
pub async fn deactivate_disks(call: Call) -> Result<Value, RapiError> {
    let s = statics(
        &call,
        [
            ("instance_name", name(&call)),
            ("force", flag(&call, "force")?),
        ],
    );
    submit_opcode(&call, "OP_INSTANCE_DEACTIVATE_DISKS", no_body(), s, &[]).await
}

/// `POST .../recreate-disks` with body.
pub async fn recreate_disks(call: Call) -> Result<Value, RapiError> {
    let s = statics(&call, [("instance_name", name(&call))]);
    submit_opcode(&call, "OP_INSTANCE_RECREATE_DISKS", body(&call), s, &[]).await
}

/// `POST .../disk/[index]/grow` with body `{amount, ...}`.
pub async fn grow_disk(call: Call) -> Result<Value, RapiError> {
    // The router lets only digits through; an index too large for u64 is
    // still an index the opcode refuses (it must be below 16).
    let index: u64 = call.item(1).parse().unwrap_or(u64::MAX);
    let s = statics(
        &call,
        [("instance_name", name(&call)), ("disk", json!(index))],
    );
    submit_opcode(&call, "OP_INSTANCE_GROW_DISK", body(&call), s, &[]).await
}

/// `PUT .../prepare-export?mode=local|remote` (body ignored); the master
/// answers `None` for local exports and refuses remote ones.
pub async fn prepare_export(call: Call) -> Result<Value, RapiError> {
    let s = statics(
        &call,
        [
            ("instance_name", name(&call)),
            ("mode", json!(call.query.get("mode"))),
        ],
    );
    submit_opcode(&call, "OP_BACKUP_PREPARE", no_body(), s, &[]).await
}

/// `PUT .../export` with body (`destination` is the old name of
/// `target_node`): a local export, as `gnt-backup export` makes it.
pub async fn export(call: Call) -> Result<Value, RapiError> {
    let s = statics(&call, [("instance_name", name(&call))]);
    submit_opcode(
        &call,
        "OP_BACKUP_EXPORT",
        body(&call),
        s,
        &[("destination", "target_node")],
    )
    .await
}

/// `PUT .../migrate` with body.
pub async fn migrate(call: Call) -> Result<Value, RapiError> {
    let s = statics(&call, [("instance_name", name(&call))]);
    submit_opcode(&call, "OP_INSTANCE_MIGRATE", body(&call), s, &[]).await
}

/// `PUT .../failover` with body.
pub async fn failover(call: Call) -> Result<Value, RapiError> {
    let s = statics(&call, [("instance_name", name(&call))]);
    submit_opcode(&call, "OP_INSTANCE_FAILOVER", body(&call), s, &[]).await
}

/// Replace-disks' `disks`: a list of ints as is, or the older string form
/// `"0, 2"`; a falsy value means "not given".
fn parse_disk_indices(raw: &Value) -> Result<Option<Value>, RapiError> {
    if !pystr::py_truthy(raw) {
        return Ok(None);
    }
    let invalid = |why: String| RapiError::bad_request(format!("Invalid disk index passed: {why}"));
    match raw {
        Value::Array(items) if items.iter().all(|i| i.is_i64() || i.is_u64()) => {
            Ok(Some(raw.clone()))
        }
        Value::String(text) => text
            .split(',')
            .map(|part| {
                pystr::py_int(part.trim())
                    .map(|n| json!(n as i64))
                    .ok_or_else(|| {
                        invalid(format!(
                            "invalid literal for int() with base 10: {}",
                            pystr::str_repr(part)
                        ))
                    })
            })
            .collect::<Result<Vec<Value>, RapiError>>()
            .map(|v| Some(Value::Array(v))),
        other => Err(invalid(format!(
            "expected a list of integers or a comma-separated string, got {}",
            pystr::py_repr(other)
        ))),
    }
}

/// `POST .../replace-disks`: the body, or (only when the body is empty)
/// the legacy query form `?mode=&disks=&remote_node=&iallocator=`.
pub async fn replace_disks(call: Call) -> Result<Value, RapiError> {
    let body_given = call.body.as_ref().is_some_and(pystr::py_truthy);
    let mut data = if body_given {
        call.body.clone().unwrap_or(Value::Null)
    } else if !call.query.is_empty() {
        let q = |k: &str| json!(call.query.get(k));
        json!({
            "remote_node": q("remote_node"),
            "mode": q("mode"),
            "disks": q("disks"),
            "iallocator": q("iallocator"),
        })
    } else {
        json!({})
    };
    check_dict(&data, "Body contents")?;
    if let Some(map) = data.as_object_mut() {
        if let Some(raw) = map.remove("disks") {
            if let Some(disks) = parse_disk_indices(&raw)? {
                map.insert("disks".into(), disks);
            }
        }
    }
    let s = statics(&call, [("instance_name", name(&call))]);
    submit_opcode(&call, "OP_INSTANCE_REPLACE_DISKS", Some(data), s, &[]).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};
    use ganeti_types::GanetiError;

    type Handler = fn(Call) -> crate::backend::BoxFuture<'static, Result<Value, RapiError>>;

    async fn run(
        h: Handler,
        resource: &'static str,
        items: &[&str],
        q: &str,
        body: Option<Value>,
    ) -> Value {
        let b = FakeBackend::jobs();
        let got = h(call(&b, resource, items, q, body)).await.unwrap();
        assert_eq!(got, json!(42));
        let op = b.only_op();
        let trail = op["reason"].as_array().unwrap();
        assert_eq!(
            trail.last().unwrap()[0],
            format!("gnt:library:rlib2:{resource}")
        );
        op
    }

    async fn fail(h: Handler, items: &[&str], q: &str, body: Option<Value>) -> RapiError {
        let b = FakeBackend::jobs();
        let e = h(call(&b, "x", items, q, body)).await.unwrap_err();
        assert!(b.calls().is_empty(), "nothing may be submitted on error");
        e
    }

    #[tokio::test]
    async fn reboot_statics() {
        let op = run(
            crate::handler!(reboot),
            "instances_name_reboot",
            &["i1"],
            "type=soft&ignore_secondaries=1&dry-run=1",
            Some(json!({"shutdown_timeout": 5})),
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_INSTANCE_REBOOT");
        assert_eq!(op["instance_name"], "i1");
        assert_eq!(op["reboot_type"], "soft");
        assert_eq!(op["ignore_secondaries"], true);
        assert_eq!(op["dry_run"], true);
        assert_eq!(op["shutdown_timeout"], 5);
        let op = run(
            crate::handler!(reboot),
            "instances_name_reboot",
            &["i1"],
            "",
            None,
        )
        .await;
        assert_eq!(op["reboot_type"], "hard");
        assert_eq!(op["dry_run"], false);
        let e = fail(crate::handler!(reboot), &["i1"], "type=gentle", None).await;
        assert_eq!(e.code, 400);
        assert!(e.message.starts_with("Invalid body parameters: "));
        let e = fail(
            crate::handler!(reboot),
            &["i1"],
            "ignore_secondaries=yes",
            None,
        )
        .await;
        assert_eq!(
            e.message,
            "Invalid value for the 'ignore_secondaries' parameter"
        );
    }

    #[tokio::test]
    async fn startup_ignores_body_but_keeps_depends() {
        let op = run(
            crate::handler!(startup),
            "instances_name_startup",
            &["i1"],
            "force=1&no_remember=1",
            Some(json!({"frobnicate": 1, "depends": [[3, ["success"]]]})),
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_INSTANCE_STARTUP");
        assert_eq!(op["force"], true);
        assert_eq!(op["no_remember"], true);
        assert_eq!(op["dry_run"], false);
        assert!(op.get("frobnicate").is_none());
        assert_eq!(op["depends"], json!([[3, ["success"]]]));
        let e = fail(crate::handler!(startup), &["i1"], "force=x&dry-run=y", None).await;
        assert_eq!(e.message, "Invalid value for the 'force' parameter");
    }

    #[tokio::test]
    async fn shutdown_takes_body() {
        let op = run(
            crate::handler!(shutdown),
            "instances_name_shutdown",
            &["i1"],
            "",
            Some(json!({"timeout": 30})),
        )
        .await;
        assert_eq!(op["timeout"], 30);
        assert_eq!(op["no_remember"], false);
        let e = fail(
            crate::handler!(shutdown),
            &["i1"],
            "",
            Some(json!({"instance_name": "other"})),
        )
        .await;
        assert_eq!(
            e.message,
            "Can't overwrite static parameters {'instance_name'}"
        );
        let e = fail(
            crate::handler!(shutdown),
            &["i1"],
            "",
            Some(json!({"timeout": "x"})),
        )
        .await;
        assert_eq!(e.code, 400);
    }

    #[tokio::test]
    async fn rename_and_body_only_resources() {
        let op = run(
            crate::handler!(rename),
            "instances_name_rename",
            &["i1"],
            "",
            Some(json!({"new_name": "i2", "ip_check": false})),
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_INSTANCE_RENAME");
        assert_eq!(op["new_name"], "i2");
        assert!(op.get("dry_run").is_none());
        // dry_run is not static here, so the body may carry it.
        let op = run(
            crate::handler!(rename),
            "instances_name_rename",
            &["i1"],
            "",
            Some(json!({"new_name": "i2", "dry_run": true})),
        )
        .await;
        assert_eq!(op["dry_run"], true);
        let e = fail(crate::handler!(rename), &["i1"], "", Some(json!({}))).await;
        assert!(e.message.contains("new_name"), "{}", e.message);
        for (h, resource, op_id) in [
            (
                crate::handler!(migrate),
                "instances_name_migrate",
                "OP_INSTANCE_MIGRATE",
            ),
            (
                crate::handler!(failover),
                "instances_name_failover",
                "OP_INSTANCE_FAILOVER",
            ),
            (
                crate::handler!(recreate_disks),
                "instances_name_recreate_disks",
                "OP_INSTANCE_RECREATE_DISKS",
            ),
        ] {
            let op = run(
                h,
                resource,
                &["i1"],
                "",
                Some(json!({"iallocator": "hail"})),
            )
            .await;
            assert_eq!(op["OP_ID"], op_id);
            assert_eq!(op["iallocator"], "hail");
            assert_eq!(op["instance_name"], "i1");
        }
    }

    #[tokio::test]
    async fn modify_aliases_and_empty_body() {
        let op = run(
            crate::handler!(modify),
            "instances_name_modify",
            &["i1"],
            "",
            Some(json!({"custom_beparams": {"maxmem": 256}, "hvparams": {"usb_devices": "a b"}})),
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_INSTANCE_SET_PARAMS");
        assert_eq!(op["beparams"], json!({"maxmem": 256}));
        assert_eq!(op["hvparams"], json!({"usb_devices": "a,b"}));
        let e = fail(
            crate::handler!(modify),
            &["i1"],
            "",
            Some(json!({"custom_hvparams": {}, "hvparams": {}})),
        )
        .await;
        assert_eq!(
            e.message,
            "Parameter 'custom_hvparams' was renamed to 'hvparams', but both are specified"
        );
        let e = fail(crate::handler!(modify), &["i1"], "", None).await;
        assert_eq!(e.code, 500);
        let e = fail(crate::handler!(modify), &["i1"], "", Some(json!([1]))).await;
        assert_eq!(e.code, 400);
    }

    #[tokio::test]
    async fn disk_resources() {
        let op = run(
            crate::handler!(activate_disks),
            "instances_name_activate_disks",
            &["i1"],
            "ignore_size=1",
            Some(json!({"ignored": true})),
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_INSTANCE_ACTIVATE_DISKS");
        assert_eq!(op["ignore_size"], true);
        let op = run(
            crate::handler!(deactivate_disks),
            "instances_name_deactivate_disks",
            &["i1"],
            "force=1",
            None,
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_INSTANCE_DEACTIVATE_DISKS");
        assert_eq!(op["force"], true);
        let op = run(
            crate::handler!(grow_disk),
            "instances_name_disk_grow",
            &["i1", "1"],
            "",
            Some(json!({"amount": 1024, "wait_for_sync": false})),
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_INSTANCE_GROW_DISK");
        assert_eq!(op["disk"], 1);
        assert_eq!(op["amount"], 1024);
        let e = fail(
            crate::handler!(grow_disk),
            &["i1", "99"],
            "",
            Some(json!({"amount": 1})),
        )
        .await;
        assert_eq!(e.code, 400);
        let e = fail(
            crate::handler!(grow_disk),
            &["i1", "0"],
            "",
            Some(json!({"amount": 1, "disk": 0})),
        )
        .await;
        assert_eq!(e.message, "Can't overwrite static parameters {'disk'}");
    }

    #[tokio::test]
    async fn export_resources() {
        let op = run(
            crate::handler!(export),
            "instances_name_export",
            &["i1"],
            "",
            Some(json!({"destination": "node2", "mode": "local"})),
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_BACKUP_EXPORT");
        assert_eq!(op["target_node"], "node2");
        assert!(op.get("destination").is_none());
        let op = run(
            crate::handler!(prepare_export),
            "instances_name_prepare_export",
            &["i1"],
            "mode=remote",
            None,
        )
        .await;
        assert_eq!(op["OP_ID"], "OP_BACKUP_PREPARE");
        assert_eq!(op["mode"], "remote");
        let e = fail(crate::handler!(prepare_export), &["i1"], "", None).await;
        assert_eq!(e.code, 400, "mode is required: {}", e.message);
    }

    #[tokio::test]
    async fn replace_disks_forms() {
        let h = crate::handler!(replace_disks);
        let r = "instances_name_replace_disks";
        let op = run(
            h,
            r,
            &["i1"],
            "",
            Some(json!({"mode": "replace_auto", "disks": "0, 2"})),
        )
        .await;
        assert_eq!(op["disks"], json!([0, 2]));
        let op = run(
            h,
            r,
            &["i1"],
            "",
            Some(json!({"mode": "replace_auto", "disks": [1]})),
        )
        .await;
        assert_eq!(op["disks"], json!([1]));
        let op = run(
            h,
            r,
            &["i1"],
            "",
            Some(json!({"mode": "replace_auto", "disks": ""})),
        )
        .await;
        assert!(op.get("disks").is_none());
        // Legacy query form, only used without a body.
        let op = run(h, r, &["i1"], "mode=replace_on_primary&disks=1,2", None).await;
        assert_eq!(op["mode"], "replace_on_primary");
        assert_eq!(op["disks"], json!([1, 2]));
        assert_eq!(op["remote_node"], Value::Null);
        let op = run(
            h,
            r,
            &["i1"],
            "mode=replace_on_primary",
            Some(json!({"mode": "replace_auto"})),
        )
        .await;
        assert_eq!(op["mode"], "replace_auto");
        let e = fail(
            h,
            &["i1"],
            "",
            Some(json!({"mode": "replace_auto", "disks": "1,x"})),
        )
        .await;
        assert_eq!(
            e.message,
            "Invalid disk index passed: invalid literal for int() with base 10: 'x'"
        );
        let e = fail(
            h,
            &["i1"],
            "",
            Some(json!({"mode": "replace_auto", "disks": {"a": 1}})),
        )
        .await;
        assert_eq!(e.code, 400);
        let e = fail(
            h,
            &["i1"],
            "",
            Some(json!({"mode": "replace_auto", "disks": [1, "2"]})),
        )
        .await;
        assert_eq!(e.code, 400);
        let e = fail(h, &["i1"], "", Some(json!([1]))).await;
        assert_eq!(e.code, 400);
        let e = fail(h, &["i1"], "", None).await;
        assert_eq!(e.code, 400, "mode is required");
    }

    #[tokio::test]
    async fn unimplemented_opcode_is_a_clean_error() {
        let b = FakeBackend::new(|_, _| {
            Err(GanetiError::Unsupported(
                "Opcode OP_INSTANCE_MIGRATE is not supported by this release of ganeti-rs".into(),
            ))
        });
        let e = migrate(call(
            &b,
            "instances_name_migrate",
            &["i1"],
            "",
            Some(json!({})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 500);
        assert_eq!(
            e.message,
            "Opcode OP_INSTANCE_MIGRATE is not supported by this release of ganeti-rs"
        );
    }
}
