//! `/2/groups` and everything below it: node group listings, creation,
//! removal, modification, renaming, node assignment and tags.
//!
//! The opcodes are built as Ganeti's `rlib2` builds them, including its
//! aliases (`name` for `group_name` on creation, the `custom_*` names the
//! GET answer uses for the parameters of `/modify`), so a client can send
//! back what it read.

use serde_json::{json, Map, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handler;
use crate::routes::{Access, HttpMethod, Route};

use super::common::{common_statics, list_or_bulk, query_one, submit_opcode};

/// The fields of `/2/groups?bulk=1` and `/2/groups/[name]`, in Ganeti's order.
pub const G_FIELDS: &[&str] = &[
    "alloc_policy",
    "name",
    "node_cnt",
    "node_list",
    "ipolicy",
    "custom_ipolicy",
    "diskparams",
    "custom_diskparams",
    "ndparams",
    "custom_ndparams",
    "ctime",
    "mtime",
    "uuid",
    "serial_no",
    "tags",
];

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    use Access::{Public, Write};
    use HttpMethod::{Delete, Get, Post, Put};
    vec![
        Route {
            pattern: "/2/groups",
            resource: "groups",
            methods: vec![(Get, Public, handler!(list)), (Post, Write, handler!(add))],
        },
        Route {
            pattern: "/2/groups/[name]",
            resource: "groups_name",
            methods: vec![
                (Get, Public, handler!(info)),
                (Delete, Write, handler!(remove)),
            ],
        },
        Route {
            pattern: "/2/groups/[name]/modify",
            resource: "groups_name_modify",
            methods: vec![(Put, Write, handler!(modify))],
        },
        Route {
            pattern: "/2/groups/[name]/rename",
            resource: "groups_name_rename",
            methods: vec![(Put, Write, handler!(rename))],
        },
        Route {
            pattern: "/2/groups/[name]/assign-nodes",
            resource: "groups_name_assign_nodes",
            methods: vec![(Put, Write, handler!(assign_nodes))],
        },
        crate::handlers::common::tags_route!(
            "/2/groups/[name]/tags",
            "groups_name_tags",
            "nodegroup"
        ),
    ]
}

/// The statics of an opcode on the group named in the URL.
fn group_statics(call: &Call, with_dry_run: bool) -> Result<Map<String, Value>, RapiError> {
    let mut s = common_statics(call, with_dry_run)?;
    s.insert("group_name".into(), json!(call.item(0)));
    Ok(s)
}

async fn list(call: Call) -> Result<Value, RapiError> {
    list_or_bulk(&call, "group", G_FIELDS, "/2/groups/", "name").await
}

async fn add(call: Call) -> Result<Value, RapiError> {
    let s = common_statics(&call, true)?;
    let renames = [("name", "group_name")];
    submit_opcode(&call, "OP_GROUP_ADD", call.body.clone(), s, &renames).await
}

async fn info(call: Call) -> Result<Value, RapiError> {
    Ok(Value::Object(query_one(&call, "group", G_FIELDS).await?))
}

/// Removal ignores the body (only `depends` is carried over).
async fn remove(call: Call) -> Result<Value, RapiError> {
    let s = group_statics(&call, true)?;
    submit_opcode(&call, "OP_GROUP_REMOVE", Some(json!({})), s, &[]).await
}

async fn modify(call: Call) -> Result<Value, RapiError> {
    let s = group_statics(&call, false)?;
    let renames = [
        ("custom_ndparams", "ndparams"),
        ("custom_ipolicy", "ipolicy"),
        ("custom_diskparams", "diskparams"),
    ];
    submit_opcode(&call, "OP_GROUP_SET_PARAMS", call.body.clone(), s, &renames).await
}

async fn rename(call: Call) -> Result<Value, RapiError> {
    let s = group_statics(&call, true)?;
    submit_opcode(&call, "OP_GROUP_RENAME", call.body.clone(), s, &[]).await
}

async fn assign_nodes(call: Call) -> Result<Value, RapiError> {
    let mut s = group_statics(&call, true)?;
    s.insert("force".into(), json!(call.query.flag("force", false)?));
    submit_opcode(&call, "OP_GROUP_ASSIGN_NODES", call.body.clone(), s, &[]).await
}

#[cfg(test)]
mod tests {
    use ganeti_luxi::Method;
    use ganeti_types::GanetiError;
    use serde_json::{json, Value};

    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};

    fn last_reason(op: &Value) -> Value {
        op["reason"].as_array().unwrap().last().unwrap()[0].clone()
    }

    #[tokio::test]
    async fn listing_and_bulk() {
        let b = FakeBackend::new(|m, args| {
            assert_eq!(m, Method::Query);
            assert_eq!(args[0], "group");
            let n = args[1].as_array().unwrap().len();
            let row = |name: &str| {
                let mut r = vec![json!([0, name])];
                r.extend((1..n).map(|_| json!([0, {}])));
                Value::Array(r)
            };
            Ok(json!({"fields": [], "data": [row("zeta"), row("alpha")]}))
        });
        let got = list(call(&b, "groups", &[], "", None)).await.unwrap();
        assert_eq!(
            got,
            json!([
                {"name": "alpha", "uri": "/2/groups/alpha"},
                {"name": "zeta", "uri": "/2/groups/zeta"},
            ])
        );
        let got = list(call(&b, "groups", &[], "bulk=1", None)).await.unwrap();
        assert_eq!(got.as_array().unwrap().len(), 2);
        let keys: Vec<&str> = got[0]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys, G_FIELDS);
        assert_eq!(b.calls()[1].1, json!(["group", G_FIELDS, null]));
    }

    #[tokio::test]
    async fn single_group() {
        let b = FakeBackend::new(|_, args| {
            if args[2][1][2] == "default" {
                let row: Vec<Value> = G_FIELDS.iter().map(|f| json!([0, f])).collect();
                Ok(json!({"fields": [], "data": [row]}))
            } else {
                Err(GanetiError::noent("NodeGroup name x not found"))
            }
        });
        let got = info(call(&b, "groups_name", &["default"], "", None))
            .await
            .unwrap();
        assert_eq!(got.as_object().unwrap().len(), G_FIELDS.len());
        assert_eq!(got["custom_ipolicy"], "custom_ipolicy");
        let e = info(call(&b, "groups_name", &["x"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 404);
        let e = info(call(&b, "groups_name", &["default"], "lock=1", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 500);
    }

    #[tokio::test]
    async fn add_accepts_the_name_alias() {
        let b = FakeBackend::jobs();
        let got = add(call(
            &b,
            "groups",
            &[],
            "dry-run=1",
            Some(json!({"name": "g1", "alloc_policy": "preferred"})),
        ))
        .await
        .unwrap();
        assert_eq!(got, json!(42));
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_GROUP_ADD");
        assert_eq!(op["group_name"], "g1");
        assert!(op.get("name").is_none());
        assert_eq!(op["dry_run"], true);
        assert_eq!(last_reason(&op), "gnt:library:rlib2:groups");

        let b = FakeBackend::jobs();
        for (body, msg) in [
            (
                json!({"name": "g1", "group_name": "g2"}),
                "Parameter 'name' was renamed to 'group_name', but both are specified",
            ),
            (
                json!({"group_name": "g1", "dry_run": false}),
                "Can't overwrite static parameters {'dry_run'}",
            ),
            (
                json!({"group_name": "g1", "alloc_policy": "sometimes"}),
                "Invalid body parameters: (\"Parameter 'OP_GROUP_ADD.alloc_policy' fails validation\", 'wrong_input')",
            ),
            (
                json!({}),
                "Invalid body parameters: (\"Parameter 'OP_GROUP_ADD.group_name' fails validation\", 'wrong_input')",
            ),
        ] {
            let e = add(call(&b, "groups", &[], "", Some(body))).await.unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (400, msg));
        }
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn remove_ignores_the_body_but_not_depends() {
        let b = FakeBackend::jobs();
        remove(call(
            &b,
            "groups_name",
            &["g1"],
            "dry-run=0",
            Some(json!({"group_name": "other", "depends": [[-2, ["success"]]]})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_GROUP_REMOVE");
        assert_eq!(op["group_name"], "g1");
        assert_eq!(op["dry_run"], false);
        assert_eq!(op["depends"], json!([[-2, ["success"]]]));
        assert_eq!(last_reason(&op), "gnt:library:rlib2:groups_name");
    }

    #[tokio::test]
    async fn modify_accepts_the_custom_aliases() {
        let b = FakeBackend::jobs();
        modify(call(
            &b,
            "groups_name_modify",
            &["g1"],
            "",
            Some(json!({
                "custom_ndparams": {"ssh_port": 2222},
                "custom_ipolicy": {"vcpu-ratio": 2.0},
                "custom_diskparams": {"plain": {"stripes": 2}},
                "dry_run": true,
            })),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_GROUP_SET_PARAMS");
        assert_eq!(op["group_name"], "g1");
        assert_eq!(op["ndparams"], json!({"ssh_port": 2222}));
        assert_eq!(op["ipolicy"], json!({"vcpu-ratio": 2.0}));
        assert_eq!(op["diskparams"], json!({"plain": {"stripes": 2}}));
        assert_eq!(op["dry_run"], true);
        let e = modify(call(
            &b,
            "groups_name_modify",
            &["g1"],
            "",
            Some(json!({"group_name": "g2"})),
        ))
        .await
        .unwrap_err();
        assert_eq!(
            e.message,
            "Can't overwrite static parameters {'group_name'}"
        );
    }

    #[tokio::test]
    async fn rename_and_assign_nodes() {
        let b = FakeBackend::jobs();
        rename(call(
            &b,
            "groups_name_rename",
            &["g1"],
            "dry-run=1",
            Some(json!({"new_name": "g2"})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_GROUP_RENAME");
        assert_eq!(
            (&op["group_name"], &op["new_name"]),
            (&json!("g1"), &json!("g2"))
        );
        assert_eq!(op["dry_run"], true);

        let b = FakeBackend::jobs();
        assign_nodes(call(
            &b,
            "groups_name_assign_nodes",
            &["g1"],
            "force=1",
            Some(json!({"nodes": ["n1", "n2"]})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_GROUP_ASSIGN_NODES");
        assert_eq!(op["nodes"], json!(["n1", "n2"]));
        assert_eq!(
            (&op["force"], &op["dry_run"]),
            (&json!(true), &json!(false))
        );
        assert_eq!(
            last_reason(&op),
            "gnt:library:rlib2:groups_name_assign_nodes"
        );

        let b = FakeBackend::jobs();
        let e = assign_nodes(call(
            &b,
            "groups_name_assign_nodes",
            &["g1"],
            "",
            Some(json!({"nodes": ["n1"], "force": true})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Can't overwrite static parameters {'force'}");
        let e = assign_nodes(call(
            &b,
            "groups_name_assign_nodes",
            &["g1"],
            "force=x",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Invalid value for the 'force' parameter");
        let e = rename(call(
            &b,
            "groups_name_rename",
            &["g1"],
            "",
            Some(json!("g2")),
        ))
        .await
        .unwrap_err();
        assert_eq!(
            e.message,
            "Body contents: Type is 'str', but 'dict' is expected"
        );
        assert!(b.calls().is_empty());
    }
}
