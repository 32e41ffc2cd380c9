//! `/2/nodes` and everything below it.
//!
//! Reads are classic queries; every change is a single-opcode job built as
//! Ganeti's `rlib2` builds it (statics from the URL and query, the reason
//! trail, the same odd corners: the role is a bare JSON string, migrate
//! switches to its legacy query form as soon as any query argument is
//! present, storage resources ignore the body). Resources whose opcode
//! this release does not run (evacuate, migrate, powercycle, storage
//! modify/repair) are still served: the job is submitted and the master
//! refuses it with its own clean error, exactly where Ganeti would fail.

use serde_json::{json, Map, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handler;
use crate::routes::{Access, HttpMethod, Route};

use super::common::{common_statics, list_or_bulk, query_one, refuse_lock, submit_opcode};

/// The fields of `/2/nodes?bulk=1` and `/2/nodes/[name]`, in Ganeti's order.
pub const N_FIELDS: &[&str] = &[
    "name",
    "offline",
    "master_candidate",
    "drained",
    "dtotal",
    "dfree",
    "sptotal",
    "spfree",
    "mtotal",
    "mnode",
    "mfree",
    "pinst_cnt",
    "sinst_cnt",
    "ctotal",
    "cnos",
    "cnodes",
    "csockets",
    "pip",
    "sip",
    "role",
    "pinst_list",
    "sinst_list",
    "master_capable",
    "vm_capable",
    "ndparams",
    "group.uuid",
    "ctime",
    "mtime",
    "uuid",
    "serial_no",
    "tags",
];

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    use Access::{Public, Write};
    use HttpMethod::{Get, Post, Put};
    vec![
        Route {
            pattern: "/2/nodes",
            resource: "nodes",
            methods: vec![(Get, Public, handler!(list))],
        },
        Route {
            pattern: "/2/nodes/[name]",
            resource: "nodes_name",
            methods: vec![(Get, Public, handler!(info))],
        },
        Route {
            pattern: "/2/nodes/[name]/powercycle",
            resource: "nodes_name_powercycle",
            methods: vec![(Post, Write, handler!(powercycle))],
        },
        Route {
            pattern: "/2/nodes/[name]/role",
            resource: "nodes_name_role",
            methods: vec![
                (Get, Public, handler!(role_get)),
                (Put, Write, handler!(role_put)),
            ],
        },
        Route {
            pattern: "/2/nodes/[name]/evacuate",
            resource: "nodes_name_evacuate",
            methods: vec![(Post, Write, handler!(evacuate))],
        },
        Route {
            pattern: "/2/nodes/[name]/migrate",
            resource: "nodes_name_migrate",
            methods: vec![(Post, Write, handler!(migrate))],
        },
        Route {
            pattern: "/2/nodes/[name]/modify",
            resource: "nodes_name_modify",
            methods: vec![(Post, Write, handler!(modify))],
        },
        Route {
            pattern: "/2/nodes/[name]/storage",
            resource: "nodes_name_storage",
            // A GET, but it submits a job that takes locks: `write` only.
            methods: vec![(Get, Write, handler!(storage))],
        },
        Route {
            pattern: "/2/nodes/[name]/storage/modify",
            resource: "nodes_name_storage_modify",
            methods: vec![(Put, Write, handler!(storage_modify))],
        },
        Route {
            pattern: "/2/nodes/[name]/storage/repair",
            resource: "nodes_name_storage_repair",
            methods: vec![(Put, Write, handler!(storage_repair))],
        },
        crate::handlers::common::tags_route!("/2/nodes/[name]/tags", "nodes_name_tags", "node"),
    ]
}

/// The statics of every node opcode: the node from the URL and the reason.
fn node_statics(call: &Call, with_dry_run: bool) -> Result<Map<String, Value>, RapiError> {
    let mut s = common_statics(call, with_dry_run)?;
    s.insert("node_name".into(), json!(call.item(0)));
    Ok(s)
}

async fn list(call: Call) -> Result<Value, RapiError> {
    list_or_bulk(&call, "node", N_FIELDS, "/2/nodes/", "id").await
}

async fn info(call: Call) -> Result<Value, RapiError> {
    let mut node = query_one(&call, "node", N_FIELDS).await?;
    // Ganeti's GET alias: the secondary IP also under its opcode name.
    if let Some(sip) = node.get("sip").cloned() {
        node.insert("secondary_ip".into(), sip);
    }
    Ok(Value::Object(node))
}

async fn powercycle(call: Call) -> Result<Value, RapiError> {
    let mut s = node_statics(&call, false)?;
    s.insert("force".into(), json!(call.query.flag("force", false)?));
    submit_opcode(&call, "OP_NODE_POWERCYCLE", call.body.clone(), s, &[]).await
}

/// The RAPI name of a node role letter of the `role` query field.
fn role_name(letter: &str) -> Option<&'static str> {
    Some(match letter {
        "M" => "master",
        "C" => "master-candidate",
        "R" => "regular",
        "D" => "drained",
        "O" => "offline",
        _ => return None,
    })
}

/// Ganeti reads the role through a classic query and indexes the first
/// row without checking, so an unknown node is a 500 with Python's
/// `IndexError` text rather than a 404.
async fn role_get(call: Call) -> Result<Value, RapiError> {
    refuse_lock(&call)?;
    let no_row = || RapiError::internal("list index out of range");
    let args = json!(["node", ["role"], ["|", ["=", "name", call.item(0)]]]);
    let res = call
        .backend
        .call(ganeti_luxi::Method::Query, args)
        .await
        .map_err(|e| match e.error_class() {
            Some(ganeti_types::ErrorClass::NoEnt) => no_row(),
            _ => RapiError::from_master(&e),
        })?;
    let cell = res.pointer("/data/0/0").ok_or_else(no_row)?;
    let letter = cell.get(1).and_then(Value::as_str).unwrap_or("");
    role_name(letter)
        .map(|r| json!(r))
        .ok_or_else(|| RapiError::internal(format!("'{letter}'")))
}

/// The opcode flags for a requested role: `regular` clears all three,
/// every other role sets its own flag and leaves the others alone.
fn role_flags(role: &str) -> Option<[(&'static str, Value); 3]> {
    let (candidate, offline, drained) = match role {
        "regular" => (json!(false), json!(false), json!(false)),
        "master-candidate" => (json!(true), Value::Null, Value::Null),
        "drained" => (Value::Null, Value::Null, json!(true)),
        "offline" => (Value::Null, json!(true), Value::Null),
        _ => return None,
    };
    Some([
        ("master_candidate", candidate),
        ("offline", offline),
        ("drained", drained),
    ])
}

async fn role_put(call: Call) -> Result<Value, RapiError> {
    let body = call.body.clone().unwrap_or(Value::Null);
    let role = body.as_str().ok_or_else(|| {
        RapiError::bad_request(format!(
            "Body contents: Type is '{}', but 'str' is expected",
            super::common::py_type_name(&body)
        ))
    })?;
    let flags = role_flags(role)
        .ok_or_else(|| RapiError::bad_request(format!("Can't set '{role}' role")))?;
    let mut s = node_statics(&call, false)?;
    for (k, v) in flags {
        s.insert(k.into(), v);
    }
    s.insert("force".into(), json!(call.query.flag("force", false)?));
    s.insert(
        "auto_promote".into(),
        json!(call.query.flag("auto-promote", false)?),
    );
    submit_opcode(&call, "OP_NODE_SET_PARAMS", Some(json!({})), s, &[]).await
}

async fn evacuate(call: Call) -> Result<Value, RapiError> {
    let s = node_statics(&call, true)?;
    submit_opcode(&call, "OP_NODE_EVACUATE", call.body.clone(), s, &[]).await
}

/// Any query argument at all (even `reason` or `dry-run`) selects the
/// pre-2.5 form: only `live` or `mode` from the query count, the body is
/// ignored and `?dry-run` is never applied.
async fn migrate(call: Call) -> Result<Value, RapiError> {
    let body = if call.query.is_empty() {
        call.body.clone()
    } else {
        let live = call.query.get("live").is_some();
        let mode = call.query.get("mode");
        if live && mode.is_some() {
            return Err(RapiError::bad_request(
                "Only one of 'live' and 'mode' should be passed",
            ));
        }
        let mode = if live {
            json!(if call.query.flag("live", true)? {
                "live"
            } else {
                "non-live"
            })
        } else {
            json!(mode)
        };
        Some(json!({ "mode": mode }))
    };
    let s = node_statics(&call, false)?;
    submit_opcode(&call, "OP_NODE_MIGRATE", body, s, &[]).await
}

async fn modify(call: Call) -> Result<Value, RapiError> {
    let s = node_statics(&call, false)?;
    submit_opcode(&call, "OP_NODE_SET_PARAMS", call.body.clone(), s, &[]).await
}

/// `?name=` of the storage resources: required and non-empty.
fn storage_unit_name(call: &Call) -> Result<&str, RapiError> {
    call.query
        .get("name")
        .ok_or_else(|| RapiError::bad_request("Missing the required 'name' parameter"))
}

async fn storage(call: Call) -> Result<Value, RapiError> {
    let fields = call
        .query
        .get("output_fields")
        .ok_or_else(|| RapiError::bad_request("Missing the required 'output_fields' parameter"))?;
    let mut s = common_statics(&call, false)?;
    s.insert("nodes".into(), json!([call.item(0)]));
    s.insert("storage_type".into(), json!(call.query.get("storage_type")));
    s.insert(
        "output_fields".into(),
        json!(fields.split(',').collect::<Vec<_>>()),
    );
    submit_opcode(&call, "OP_NODE_QUERY_STORAGE", Some(json!({})), s, &[]).await
}

async fn storage_modify(call: Call) -> Result<Value, RapiError> {
    let name = storage_unit_name(&call)?;
    let mut changes = Map::new();
    if call.query.get("allocatable").is_some() {
        changes.insert(
            "allocatable".into(),
            json!(call.query.flag("allocatable", true)?),
        );
    }
    let mut s = node_statics(&call, false)?;
    s.insert("storage_type".into(), json!(call.query.get("storage_type")));
    s.insert("name".into(), json!(name));
    s.insert("changes".into(), Value::Object(changes));
    submit_opcode(&call, "OP_NODE_MODIFY_STORAGE", Some(json!({})), s, &[]).await
}

async fn storage_repair(call: Call) -> Result<Value, RapiError> {
    let name = storage_unit_name(&call)?;
    let mut s = node_statics(&call, false)?;
    s.insert("storage_type".into(), json!(call.query.get("storage_type")));
    s.insert("name".into(), json!(name));
    submit_opcode(&call, "OP_REPAIR_NODE_STORAGE", Some(json!({})), s, &[]).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ganeti_luxi::Method;
    use ganeti_types::GanetiError;
    use serde_json::{json, Value};

    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};

    /// A node row: every requested field is `<field>-value`, except the
    /// ones given.
    fn node_cell(field: &str, name: &str, role: &str) -> Value {
        match field {
            "name" => json!([0, name]),
            "role" => json!([0, role]),
            "sip" => json!([0, "192.0.2.2"]),
            "sptotal" => json!([2, null]),
            f => json!([0, format!("{f}-value")]),
        }
    }

    /// Answers `Query` on nodes for `names` (a name filter selects; an
    /// unknown name is Ganeti's unknown-entity error), jobs with id 42.
    fn cluster(names: &'static [(&'static str, &'static str)]) -> Arc<FakeBackend> {
        FakeBackend::new(move |m, args| match m {
            Method::Query => {
                assert_eq!(args[0], "node");
                let fields: Vec<String> = serde_json::from_value(args[1].clone()).unwrap();
                let wanted: Vec<&str> = args[2]
                    .as_array()
                    .map(|f| f[1..].iter().filter_map(|c| c[2].as_str()).collect())
                    .unwrap_or_default();
                let mut rows = Vec::new();
                for w in &wanted {
                    if !names.iter().any(|(n, _)| n == w) {
                        return Err(GanetiError::noent(format!("Node name {w} not found")));
                    }
                }
                for (n, role) in names {
                    if wanted.is_empty() || wanted.contains(n) {
                        rows.push(Value::Array(
                            fields.iter().map(|f| node_cell(f, n, role)).collect(),
                        ));
                    }
                }
                Ok(json!({"fields": [], "data": rows}))
            }
            Method::SubmitJob => Ok(json!(42)),
            Method::QueryTags => Ok(json!(["a", "b"])),
            _ => Ok(Value::Null),
        })
    }

    const NODES: &[(&str, &str)] = &[
        ("node2.example.com", "C"),
        ("node10.example.com", "R"),
        ("node1.example.com", "M"),
    ];

    fn reason_sources(op: &Value) -> Vec<String> {
        op["reason"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r.as_array().unwrap().len(), 3);
                assert!(r[2].as_u64().unwrap() > 1_600_000_000_000_000_000);
                format!("{}|{}", r[0].as_str().unwrap(), r[1].as_str().unwrap())
            })
            .collect()
    }

    #[tokio::test]
    async fn listing_is_sorted_by_plain_string_order() {
        let b = cluster(NODES);
        let got = list(call(&b, "nodes", &[], "", None)).await.unwrap();
        assert_eq!(
            got,
            json!([
                {"id": "node1.example.com", "uri": "/2/nodes/node1.example.com"},
                {"id": "node10.example.com", "uri": "/2/nodes/node10.example.com"},
                {"id": "node2.example.com", "uri": "/2/nodes/node2.example.com"},
            ])
        );
        assert_eq!(
            b.calls(),
            vec![(Method::Query, json!(["node", ["name"], null]))]
        );
    }

    #[tokio::test]
    async fn bulk_listing_has_every_field_in_order() {
        let b = cluster(NODES);
        let got = list(call(&b, "nodes", &[], "bulk=1", None)).await.unwrap();
        let rows = got.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        // query order is kept, not re-sorted
        assert_eq!(rows[0]["name"], "node2.example.com");
        let keys: Vec<&str> = rows[0]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys, N_FIELDS);
        // a cell without data is null
        assert_eq!(rows[0]["sptotal"], Value::Null);
        let e = list(call(&b, "nodes", &[], "bulk=yes", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "Invalid value for the 'bulk' parameter")
        );
    }

    #[tokio::test]
    async fn single_node_adds_the_secondary_ip_alias() {
        let b = cluster(NODES);
        let got = info(call(&b, "nodes_name", &["node1.example.com"], "", None))
            .await
            .unwrap();
        let obj = got.as_object().unwrap();
        assert_eq!(obj.len(), N_FIELDS.len() + 1);
        assert_eq!(obj.keys().next_back().unwrap(), "secondary_ip");
        assert_eq!(got["secondary_ip"], "192.0.2.2");
        assert_eq!(got["role"], "M");
        assert_eq!(
            b.calls()[0].1,
            json!(["node", N_FIELDS, ["|", ["=", "name", "node1.example.com"]]])
        );
    }

    #[tokio::test]
    async fn single_node_errors() {
        let b = cluster(NODES);
        let e = info(call(&b, "nodes_name", &["nosuch"], "", None))
            .await
            .unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (404, "Not Found"));
        let e = info(call(
            &b,
            "nodes_name",
            &["node1.example.com"],
            "lock=1",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 500);
        let e = info(call(
            &b,
            "nodes_name",
            &["node1.example.com"],
            "lock=x",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 400);
        // neither locked nor malformed requests reach the master
        assert_eq!(b.calls().len(), 1);
    }

    #[tokio::test]
    async fn role_get_names_the_role_letter() {
        let b = cluster(NODES);
        for (node, want) in [
            ("node1.example.com", "master"),
            ("node2.example.com", "master-candidate"),
            ("node10.example.com", "regular"),
        ] {
            let got = role_get(call(&b, "nodes_name_role", &[node], "", None))
                .await
                .unwrap();
            assert_eq!(got, json!(want));
        }
        assert_eq!(role_name("D"), Some("drained"));
        assert_eq!(role_name("O"), Some("offline"));
        assert_eq!(role_name("X"), None);
        // Ganeti indexes an empty result: 500, not 404
        let e = role_get(call(&b, "nodes_name_role", &["nosuch"], "", None))
            .await
            .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (500, "list index out of range")
        );
        let e = role_get(call(
            &b,
            "nodes_name_role",
            &["node1.example.com"],
            "lock=1",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 500);
    }

    #[tokio::test]
    async fn role_put_sets_the_flags() {
        let b = FakeBackend::jobs();
        let got = role_put(call(
            &b,
            "nodes_name_role",
            &["node2.example.com"],
            "force=1&auto-promote=1&reason=maint",
            Some(json!("drained")),
        ))
        .await
        .unwrap();
        assert_eq!(got, json!(42));
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NODE_SET_PARAMS");
        assert_eq!(op["node_name"], "node2.example.com");
        assert_eq!(op["drained"], true);
        assert_eq!(op["master_candidate"], Value::Null);
        assert_eq!(op["offline"], Value::Null);
        assert_eq!(op["force"], true);
        assert_eq!(op["auto_promote"], true);
        assert_eq!(
            reason_sources(&op),
            vec!["gnt:user|maint", "gnt:library:rlib2:nodes_name_role|"]
        );

        let b = FakeBackend::jobs();
        role_put(call(
            &b,
            "nodes_name_role",
            &["n"],
            "",
            Some(json!("regular")),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        for flag in [
            "master_candidate",
            "offline",
            "drained",
            "force",
            "auto_promote",
        ] {
            assert_eq!(op[flag], false, "{flag}");
        }
        let b = FakeBackend::jobs();
        role_put(call(
            &b,
            "nodes_name_role",
            &["n"],
            "",
            Some(json!("offline")),
        ))
        .await
        .unwrap();
        assert_eq!(b.only_op()["offline"], true);
        let b = FakeBackend::jobs();
        role_put(call(
            &b,
            "nodes_name_role",
            &["n"],
            "",
            Some(json!("master-candidate")),
        ))
        .await
        .unwrap();
        assert_eq!(b.only_op()["master_candidate"], true);
    }

    #[tokio::test]
    async fn role_put_refuses_bad_roles() {
        let b = FakeBackend::jobs();
        let bad = [
            (Some(json!("master")), "", "Can't set 'master' role"),
            (Some(json!("bogus")), "", "Can't set 'bogus' role"),
            (
                None,
                "",
                "Body contents: Type is 'NoneType', but 'str' is expected",
            ),
            (
                Some(json!({"role": "drained"})),
                "",
                "Body contents: Type is 'dict', but 'str' is expected",
            ),
            (
                Some(json!("drained")),
                "auto-promote=yes",
                "Invalid value for the 'auto-promote' parameter",
            ),
            (
                Some(json!("drained")),
                "force=true",
                "Invalid value for the 'force' parameter",
            ),
        ];
        for (body, query, msg) in bad {
            let e = role_put(call(&b, "nodes_name_role", &["n"], query, body))
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (400, msg));
        }
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn modify_takes_the_body_and_the_node_from_the_url() {
        let b = FakeBackend::jobs();
        let body = json!({"offline": true, "dry_run": true, "depends": [[-1, ["success"]]]});
        modify(call(&b, "nodes_name_modify", &["n1"], "", Some(body)))
            .await
            .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NODE_SET_PARAMS");
        assert_eq!(op["node_name"], "n1");
        assert_eq!(op["offline"], true);
        // no static dry_run here, so the body may set it
        assert_eq!(op["dry_run"], true);
        assert_eq!(op["depends"], json!([[-1, ["success"]]]));
        assert_eq!(
            reason_sources(&op),
            vec!["gnt:library:rlib2:nodes_name_modify|"]
        );

        let b = FakeBackend::jobs();
        for (body, msg) in [
            (
                json!({"node_name": "other"}),
                "Can't overwrite static parameters {'node_name'}",
            ),
            (
                json!({"reason": []}),
                "Can't overwrite static parameters {'reason'}",
            ),
            (json!([1]), "Body contents: Type is 'list', but 'dict' is expected"),
            (
                json!({"frob": 1}),
                "Invalid body parameters: Object OpNodeSetParams doesn't support the parameter 'frob'",
            ),
        ] {
            let e = modify(call(&b, "nodes_name_modify", &["n1"], "", Some(body)))
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (400, msg));
        }
        let e = modify(call(
            &b,
            "nodes_name_modify",
            &["n1"],
            "",
            Some(json!({"offline": "yes"})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message.starts_with("Invalid body parameters: "),
            "{}",
            e.message
        );
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn evacuate_and_powercycle_statics() {
        let b = FakeBackend::jobs();
        evacuate(call(
            &b,
            "nodes_name_evacuate",
            &["n1"],
            "dry-run=1",
            Some(json!({"mode": "all", "iallocator": "hail"})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NODE_EVACUATE");
        assert_eq!(
            (&op["node_name"], &op["dry_run"]),
            (&json!("n1"), &json!(true))
        );
        assert_eq!(op["iallocator"], "hail");
        let e = evacuate(call(
            &b,
            "nodes_name_evacuate",
            &["n1"],
            "",
            Some(json!({"mode": "all", "dry_run": true})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Can't overwrite static parameters {'dry_run'}");

        let b = FakeBackend::jobs();
        powercycle(call(&b, "nodes_name_powercycle", &["n1"], "force=1", None))
            .await
            .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NODE_POWERCYCLE");
        assert_eq!(
            (&op["node_name"], &op["force"]),
            (&json!("n1"), &json!(true))
        );
        assert!(op.get("dry_run").is_none());
        let e = powercycle(call(&b, "nodes_name_powercycle", &["n1"], "force=y", None))
            .await
            .unwrap_err();
        assert_eq!(e.message, "Invalid value for the 'force' parameter");
    }

    #[tokio::test]
    async fn migrate_uses_the_body_without_query_arguments() {
        let b = FakeBackend::jobs();
        let body = json!({"mode": "live", "target_node": "n2"});
        migrate(call(&b, "nodes_name_migrate", &["n1"], "", Some(body)))
            .await
            .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NODE_MIGRATE");
        assert_eq!(
            (&op["mode"], &op["target_node"]),
            (&json!("live"), &json!("n2"))
        );
    }

    #[tokio::test]
    async fn migrate_legacy_form_ignores_the_body() {
        let body = json!({"mode": "live", "target_node": "n2", "depends": [[-1, ["success"]]]});
        for (query, mode) in [
            ("live=0", json!("non-live")),
            ("live=1", json!("live")),
            ("mode=non-live", json!("non-live")),
            ("reason=x", Value::Null),
            ("dry-run=1", Value::Null),
        ] {
            let b = FakeBackend::jobs();
            migrate(call(
                &b,
                "nodes_name_migrate",
                &["n1"],
                query,
                Some(body.clone()),
            ))
            .await
            .unwrap();
            let op = b.only_op();
            assert_eq!(op["mode"], mode, "{query}");
            assert!(op.get("target_node").is_none(), "{query}");
            assert!(op.get("dry_run").is_none(), "{query}");
            // Ganeti still carries `depends` over into the legacy body
            assert_eq!(op["depends"], json!([[-1, ["success"]]]));
        }
        let b = FakeBackend::jobs();
        let e = migrate(call(
            &b,
            "nodes_name_migrate",
            &["n1"],
            "live=1&mode=live",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Only one of 'live' and 'mode' should be passed");
        let e = migrate(call(&b, "nodes_name_migrate", &["n1"], "live=x", None))
            .await
            .unwrap_err();
        assert_eq!(e.message, "Invalid value for the 'live' parameter");
        let e = migrate(call(&b, "nodes_name_migrate", &["n1"], "mode=fast", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn storage_query_submits_a_job() {
        let b = FakeBackend::jobs();
        let got = storage(call(
            &b,
            "nodes_name_storage",
            &["n1"],
            "storage_type=lvm-vg&output_fields=name,size,+free",
            Some(json!({"ignored": 1})),
        ))
        .await
        .unwrap();
        assert_eq!(got, json!(42));
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NODE_QUERY_STORAGE");
        assert_eq!(op["nodes"], json!(["n1"]));
        assert_eq!(op["storage_type"], "lvm-vg");
        // split on ',' only, no stripping ('+' is a space)
        assert_eq!(op["output_fields"], json!(["name", "size", " free"]));
        assert!(op.get("ignored").is_none());
        assert_eq!(
            reason_sources(&op),
            vec!["gnt:library:rlib2:nodes_name_storage|"]
        );

        let b = FakeBackend::jobs();
        storage(call(
            &b,
            "nodes_name_storage",
            &["n1"],
            "output_fields=name",
            None,
        ))
        .await
        .unwrap();
        assert_eq!(b.only_op()["storage_type"], Value::Null);
        let e = storage(call(
            &b,
            "nodes_name_storage",
            &["n1"],
            "storage_type=file",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (400, "Missing the required 'output_fields' parameter")
        );
    }

    #[tokio::test]
    async fn storage_modify_and_repair() {
        let b = FakeBackend::jobs();
        storage_modify(call(
            &b,
            "nodes_name_storage_modify",
            &["n1"],
            "storage_type=lvm-pv&name=/dev/sda&allocatable=0",
            None,
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NODE_MODIFY_STORAGE");
        assert_eq!(op["node_name"], "n1");
        assert_eq!(op["name"], "/dev/sda");
        assert_eq!(op["storage_type"], "lvm-pv");
        assert_eq!(op["changes"], json!({"allocatable": false}));

        let b = FakeBackend::jobs();
        storage_modify(call(
            &b,
            "nodes_name_storage_modify",
            &["n1"],
            "storage_type=lvm-pv&name=/dev/sda",
            None,
        ))
        .await
        .unwrap();
        assert_eq!(b.only_op()["changes"], json!({}));

        let b = FakeBackend::jobs();
        for (query, msg) in [
            ("storage_type=lvm-pv", "Missing the required 'name' parameter"),
            (
                "storage_type=lvm-pv&name=x&allocatable=yes",
                "Invalid value for the 'allocatable' parameter",
            ),
            (
                "name=x",
                "Invalid body parameters: (\"Parameter 'OP_NODE_MODIFY_STORAGE.storage_type' fails validation\", 'wrong_input')",
            ),
        ] {
            let e = storage_modify(call(&b, "nodes_name_storage_modify", &["n1"], query, None))
                .await
                .unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (400, msg), "{query}");
        }

        let b = FakeBackend::jobs();
        storage_repair(call(
            &b,
            "nodes_name_storage_repair",
            &["n1"],
            "storage_type=lvm-vg&name=xenvg",
            None,
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_REPAIR_NODE_STORAGE");
        assert_eq!(
            (&op["name"], &op["node_name"]),
            (&json!("xenvg"), &json!("n1"))
        );
        let e = storage_repair(call(&b, "nodes_name_storage_repair", &["n1"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.message, "Missing the required 'name' parameter");
    }

    #[tokio::test]
    async fn master_errors_pass_through() {
        let b = FakeBackend::new(|_, _| Err(GanetiError::Generic("boom".into())));
        let e = modify(call(&b, "nodes_name_modify", &["n1"], "", None))
            .await
            .unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (500, "boom"));
        let b = FakeBackend::new(|_, _| Err(GanetiError::JobQueueFull("Job queue is full".into())));
        let e = modify(call(&b, "nodes_name_modify", &["n1"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 503);
    }
}
