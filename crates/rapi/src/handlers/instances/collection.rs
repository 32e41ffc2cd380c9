//! `GET|POST /2/instances` and `POST /2/instances-multi-alloc`.
//!
//! Creation takes Ganeti's "version 1" request: a dict with
//! `"__version__": 1` holding `OP_INSTANCE_CREATE` parameters (with the
//! aliases `name` and `os`). Version 0, the pre-2.3 format, is refused the
//! way Ganeti refuses it, so old scripts get the same message.

use ganeti_clifmt::pystr;
use serde_json::{json, Map, Value};

use super::convert_usb_devices;
use crate::call::Call;
use crate::error::RapiError;
use crate::handlers::common::{
    check_dict, common_statics, fill_opcode, query_dicts, query_names, refuse_lock, submit_opcode,
    uri_list,
};

/// The fields of a bulk listing and of `GET /2/instances/[name]`
/// (Ganeti's `I_FIELDS`), in Ganeti's order.
pub const I_FIELDS: &[&str] = &[
    "name",
    "admin_state",
    "os",
    "pnode",
    "snodes",
    "disk_template",
    "nic.ips",
    "nic.macs",
    "nic.modes",
    "nic.uuids",
    "nic.names",
    "nic.links",
    "nic.networks",
    "nic.networks.names",
    "nic.bridges",
    "network_port",
    "disk.sizes",
    "disk.spindles",
    "disk_usage",
    "disk.uuids",
    "disk.names",
    "beparams",
    "hvparams",
    "oper_state",
    "oper_ram",
    "oper_vcpus",
    "status",
    "custom_hvparams",
    "custom_beparams",
    "custom_nicparams",
    "ctime",
    "mtime",
    "uuid",
    "serial_no",
    "tags",
];

/// Body aliases accepted by instance creation: (old, new).
pub const CREATE_RENAMES: &[(&str, &str)] = &[("os", "os_type"), ("name", "instance_name")];

/// The request format version creation accepts.
const REQ_DATA_VERSION_KEY: &str = "__version__";

/// Old clients read the memory size from `beparams.memory`; Ganeti keeps
/// that key as a copy of `maxmem`.
pub fn add_memory_alias(instance: &mut Map<String, Value>) {
    if let Some(Value::Object(be)) = instance.get_mut("beparams") {
        if let Some(maxmem) = be.get("maxmem").cloned() {
            be.insert("memory".into(), maxmem);
        }
    }
}

/// `GET /2/instances[?bulk=1]`: `[{id, uri}]` sorted by name, or one dict
/// of [`I_FIELDS`] per instance.
pub async fn list(call: Call) -> Result<Value, RapiError> {
    // Ganeti reads `lock` before `bulk`: a bad value of either is a 400
    // before the (refused) locked query is a 500.
    call.query.flag("lock", false)?;
    let bulk = call.query.flag("bulk", false)?;
    refuse_lock(&call)?;
    if bulk {
        let rows = query_dicts(&call, "instance", I_FIELDS, None).await?;
        return Ok(Value::Array(
            rows.into_iter()
                .map(|mut r| {
                    add_memory_alias(&mut r);
                    Value::Object(r)
                })
                .collect(),
        ));
    }
    let names = query_names(&call, "instance").await?;
    Ok(uri_list(names, "/2/instances/", "id"))
}

/// Ganeti compares the request version with Python's `==`, so `1.0` and
/// `true` count as 1 and `0.0`, `false` (and a missing key) as 0.
fn check_request_version(version: &Value) -> Result<(), RapiError> {
    let as_number = match version {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    };
    match as_number {
        Some(1.0) => Ok(()),
        Some(0.0) => Err(RapiError::bad_request(
            "Instance creation request version 0 is no longer supported",
        )),
        _ => Err(RapiError::bad_request(format!(
            "Unsupported request data version {}",
            pystr::py_str(version)
        ))),
    }
}

/// `POST /2/instances[?dry-run=1]`: `OP_INSTANCE_CREATE` from a version 1
/// body. `dry_run` comes only from the query string.
pub async fn create(call: Call) -> Result<Value, RapiError> {
    let body = check_dict(call.body.as_ref().unwrap_or(&Value::Null), "Body contents")?;
    check_request_version(body.get(REQ_DATA_VERSION_KEY).unwrap_or(&json!(0)))?;
    let mut data = body.clone();
    data.remove(REQ_DATA_VERSION_KEY);
    let mut data = Value::Object(data);
    convert_usb_devices(&mut data);
    let statics = common_statics(&call, true)?;
    submit_opcode(
        &call,
        "OP_INSTANCE_CREATE",
        Some(data),
        statics,
        CREATE_RENAMES,
    )
    .await
}

/// `POST /2/instances-multi-alloc[?dry-run=1]`: `OP_INSTANCE_MULTI_ALLOC`
/// whose `instances` are `OP_INSTANCE_CREATE` bodies (aliases accepted, no
/// `__version__`), each checked on its own first.
pub async fn multi_alloc(call: Call) -> Result<Value, RapiError> {
    let missing =
        || RapiError::bad_request("Request is missing required 'instances' field in body");
    let body = call
        .body
        .as_ref()
        .and_then(Value::as_object)
        .ok_or_else(missing)?;
    let instances = body.get("instances").ok_or_else(missing)?;
    let instances = instances.as_array().ok_or_else(|| {
        RapiError::bad_request(format!(
            "'instances' parameter: Type is '{}', but 'list' is expected",
            crate::handlers::common::py_type_name(instances)
        ))
    })?;
    let ops = instances
        .iter()
        .map(|inst| {
            fill_opcode("OP_INSTANCE_CREATE", Some(inst), Map::new(), CREATE_RENAMES)
                .map(Value::Object)
        })
        .collect::<Result<Vec<Value>, RapiError>>()?;
    let mut data = body.clone();
    data.insert("instances".into(), Value::Array(ops));
    let statics = common_statics(&call, true)?;
    submit_opcode(
        &call,
        "OP_INSTANCE_MULTI_ALLOC",
        Some(Value::Object(data)),
        statics,
        &[],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};
    use ganeti_luxi::Method;
    use ganeti_types::GanetiError;

    fn create_body() -> Value {
        json!({"__version__": 1, "mode": "create", "name": "inst9.example.com",
               "os": "noop", "pnode": "node1.example.com", "disk_template": "diskless",
               "disks": [], "nics": [{}], "hvparams": {"usb_devices": "a b"}})
    }

    #[tokio::test]
    async fn create_applies_aliases_version_and_dry_run() {
        let b = FakeBackend::jobs();
        let got = create(call(
            &b,
            "instances",
            &[],
            "dry-run=1&reason=r",
            Some(create_body()),
        ))
        .await
        .unwrap();
        assert_eq!(got, json!(42));
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_INSTANCE_CREATE");
        assert_eq!(op["instance_name"], "inst9.example.com");
        assert_eq!(op["os_type"], "noop");
        assert!(op.get("name").is_none() && op.get("os").is_none());
        assert!(op.get("__version__").is_none());
        assert_eq!(op["hvparams"]["usb_devices"], "a,b");
        assert_eq!(op["dry_run"], true);
        let trail = op["reason"].as_array().unwrap();
        assert_eq!(trail.len(), 2);
        assert_eq!(trail[0][0], "gnt:user");
        assert_eq!(trail[1][0], "gnt:library:rlib2:instances");
        // Defaults are the master's business: only what was given goes out.
        assert!(op.get("start").is_none());
    }

    #[tokio::test]
    async fn create_version_rules() {
        let cases = [
            (
                None,
                "Instance creation request version 0 is no longer supported",
            ),
            (
                Some(json!(0)),
                "Instance creation request version 0 is no longer supported",
            ),
            (
                Some(json!(false)),
                "Instance creation request version 0 is no longer supported",
            ),
            (Some(json!(2)), "Unsupported request data version 2"),
            (Some(json!("1")), "Unsupported request data version 1"),
            (Some(json!(null)), "Unsupported request data version None"),
            (Some(json!(2.5)), "Unsupported request data version 2.5"),
        ];
        for (version, msg) in cases {
            let mut body = create_body();
            match &version {
                Some(v) => body["__version__"] = v.clone(),
                None => {
                    body.as_object_mut().unwrap().remove("__version__");
                }
            }
            let b = FakeBackend::jobs();
            let e = create(call(&b, "instances", &[], "", Some(body)))
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (400, msg), "{version:?}");
            assert!(b.calls().is_empty());
        }
        for ok in [json!(1), json!(1.0), json!(true)] {
            let mut body = create_body();
            body["__version__"] = ok;
            let b = FakeBackend::jobs();
            create(call(&b, "instances", &[], "", Some(body)))
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn create_bad_bodies_are_400() {
        let b = FakeBackend::jobs();
        let e = create(call(&b, "instances", &[], "", Some(json!([1]))))
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Body contents: Type is 'list', but 'dict' is expected"
        );
        let e = create(call(&b, "instances", &[], "", None))
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Body contents: Type is 'NoneType', but 'dict' is expected"
        );
        let mut body = create_body();
        body["dry_run"] = json!(true);
        let e = create(call(&b, "instances", &[], "", Some(body)))
            .await
            .unwrap_err();
        assert_eq!(e.message, "Can't overwrite static parameters {'dry_run'}");
        let mut body = create_body();
        body["instance_name"] = json!("x");
        let e = create(call(&b, "instances", &[], "", Some(body)))
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Parameter 'name' was renamed to 'instance_name', but both are specified"
        );
        let mut body = create_body();
        body["ip_check"] = json!("no");
        let e = create(call(&b, "instances", &[], "", Some(body)))
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid body parameters: (\"Parameter 'OP_INSTANCE_CREATE.ip_check' fails validation\", 'wrong_input')"
        );
        let e = create(call(
            &b,
            "instances",
            &[],
            "dry-run=true",
            Some(create_body()),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Invalid value for the 'dry-run' parameter");
        let mut body = create_body();
        body["hvparams"] = json!("usb_devices");
        let e = create(call(&b, "instances", &[], "", Some(body)))
            .await
            .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn queue_full_is_503() {
        let b = FakeBackend::new(|_, _| {
            Err(GanetiError::JobQueueFull(
                "Job queue is full (5000 jobs); archive finished jobs first".into(),
            ))
        });
        let e = create(call(&b, "instances", &[], "", Some(create_body())))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (503, "Job queue is full, needs archiving")
        );
    }

    #[tokio::test]
    async fn multi_alloc_checks_each_instance() {
        let b = FakeBackend::jobs();
        let inst = json!({"mode": "create", "name": "a", "os": "noop",
                          "disk_template": "diskless", "disks": [], "nics": []});
        multi_alloc(call(
            &b,
            "instances_multi_alloc",
            &[],
            "dry-run=1",
            Some(json!({"instances": [inst], "iallocator": "hail"})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_INSTANCE_MULTI_ALLOC");
        assert_eq!(op["iallocator"], "hail");
        assert_eq!(op["dry_run"], true);
        let sub = &op["instances"][0];
        assert_eq!(sub["OP_ID"], "OP_INSTANCE_CREATE");
        assert_eq!(sub["instance_name"], "a");
        assert_eq!(sub["os_type"], "noop");
        assert!(sub.get("reason").is_none());
        assert_eq!(
            op["reason"][0][0],
            "gnt:library:rlib2:instances_multi_alloc"
        );

        let b = FakeBackend::jobs();
        for body in [None, Some(json!({})), Some(json!([]))] {
            let e = multi_alloc(call(&b, "instances_multi_alloc", &[], "", body))
                .await
                .unwrap_err();
            assert_eq!(
                (e.code, e.message.as_str()),
                (400, "Request is missing required 'instances' field in body")
            );
        }
        let e = multi_alloc(call(
            &b,
            "instances_multi_alloc",
            &[],
            "",
            Some(json!({"instances": [{"__version__": 1}]})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 400);
        let e = multi_alloc(call(
            &b,
            "instances_multi_alloc",
            &[],
            "",
            Some(json!({"instances": 3})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(b.calls().is_empty());
    }

    fn query_backend() -> std::sync::Arc<FakeBackend> {
        FakeBackend::new(|m, args| {
            assert_eq!(m, Method::Query);
            assert_eq!(args[0], "instance");
            let fields = args[1].as_array().unwrap();
            let rows: Vec<Value> = ["b.example.com", "a.example.com"]
                .iter()
                .map(|name| {
                    Value::Array(
                        fields
                            .iter()
                            .map(|f| match f.as_str().unwrap() {
                                "name" => json!([0, name]),
                                "beparams" => json!([0, {"maxmem": 128, "minmem": 64}]),
                                "oper_ram" => json!([2, null]),
                                _ => json!([0, 1]),
                            })
                            .collect(),
                    )
                })
                .collect();
            Ok(json!({"fields": [], "data": rows}))
        })
    }

    #[tokio::test]
    async fn list_and_bulk() {
        let b = query_backend();
        let got = list(call(&b, "instances", &[], "", None)).await.unwrap();
        assert_eq!(
            got,
            json!([
                {"id": "a.example.com", "uri": "/2/instances/a.example.com"},
                {"id": "b.example.com", "uri": "/2/instances/b.example.com"}
            ])
        );
        let got = list(call(&b, "instances", &[], "bulk=1", None))
            .await
            .unwrap();
        let first = got[0].as_object().unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(keys, I_FIELDS);
        assert_eq!(
            first["beparams"],
            json!({"maxmem": 128, "minmem": 64, "memory": 128})
        );
        assert_eq!(first["oper_ram"], Value::Null);
    }

    #[tokio::test]
    async fn list_lock_and_bad_flags() {
        let b = query_backend();
        let e = list(call(&b, "instances", &[], "lock=1", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 500);
        let e = list(call(&b, "instances", &[], "lock=1&bulk=true", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "Invalid value for the 'bulk' parameter")
        );
        assert!(b.calls().is_empty());
    }
}
