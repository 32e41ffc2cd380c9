//! `/2/networks` and everything below it: listings, creation, removal,
//! connecting to and disconnecting from node groups, modification, tags.
//!
//! There is deliberately no `/2/networks/[name]/rename`: Ganeti added it in
//! 3.1, and a 3.0.2 client must see the same 404 it would get from Ganeti.

use serde_json::{json, Map, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handler;
use crate::routes::{Access, HttpMethod, Route};

use super::common::{common_statics, list_or_bulk, query_one, submit_opcode};

/// The fields of `/2/networks?bulk=1` and `/2/networks/[name]`, in Ganeti's order.
pub const NET_FIELDS: &[&str] = &[
    "name",
    "network",
    "gateway",
    "network6",
    "gateway6",
    "mac_prefix",
    "free_count",
    "reserved_count",
    "map",
    "group_list",
    "inst_list",
    "external_reservations",
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
            pattern: "/2/networks",
            resource: "networks",
            methods: vec![(Get, Public, handler!(list)), (Post, Write, handler!(add))],
        },
        Route {
            pattern: "/2/networks/[name]",
            resource: "networks_name",
            methods: vec![
                (Get, Public, handler!(info)),
                (Delete, Write, handler!(remove)),
            ],
        },
        Route {
            pattern: "/2/networks/[name]/connect",
            resource: "networks_name_connect",
            methods: vec![(Put, Write, handler!(connect))],
        },
        Route {
            pattern: "/2/networks/[name]/disconnect",
            resource: "networks_name_disconnect",
            methods: vec![(Put, Write, handler!(disconnect))],
        },
        Route {
            pattern: "/2/networks/[name]/modify",
            resource: "networks_name_modify",
            methods: vec![(Put, Write, handler!(modify))],
        },
        crate::handlers::common::tags_route!(
            "/2/networks/[name]/tags",
            "networks_name_tags",
            "network"
        ),
    ]
}

/// The statics of an opcode on the network named in the URL.
fn network_statics(call: &Call, with_dry_run: bool) -> Result<Map<String, Value>, RapiError> {
    let mut s = common_statics(call, with_dry_run)?;
    s.insert("network_name".into(), json!(call.item(0)));
    Ok(s)
}

async fn list(call: Call) -> Result<Value, RapiError> {
    list_or_bulk(&call, "network", NET_FIELDS, "/2/networks/", "name").await
}

async fn add(call: Call) -> Result<Value, RapiError> {
    let s = common_statics(&call, true)?;
    let renames = [("name", "network_name")];
    submit_opcode(&call, "OP_NETWORK_ADD", call.body.clone(), s, &renames).await
}

async fn info(call: Call) -> Result<Value, RapiError> {
    Ok(Value::Object(
        query_one(&call, "network", NET_FIELDS).await?,
    ))
}

/// Unlike group removal, network removal takes its body (`force`).
async fn remove(call: Call) -> Result<Value, RapiError> {
    let s = network_statics(&call, true)?;
    submit_opcode(&call, "OP_NETWORK_REMOVE", call.body.clone(), s, &[]).await
}

async fn connect(call: Call) -> Result<Value, RapiError> {
    let s = network_statics(&call, true)?;
    submit_opcode(&call, "OP_NETWORK_CONNECT", call.body.clone(), s, &[]).await
}

async fn disconnect(call: Call) -> Result<Value, RapiError> {
    let s = network_statics(&call, true)?;
    submit_opcode(&call, "OP_NETWORK_DISCONNECT", call.body.clone(), s, &[]).await
}

/// `dry_run` is not set from the query here, so the body may carry it.
async fn modify(call: Call) -> Result<Value, RapiError> {
    let s = network_statics(&call, false)?;
    submit_opcode(&call, "OP_NETWORK_SET_PARAMS", call.body.clone(), s, &[]).await
}

#[cfg(test)]
mod tests {
    use ganeti_luxi::Method;
    use ganeti_types::GanetiError;
    use serde_json::{json, Value};

    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};

    fn reasons(op: &Value) -> Vec<Value> {
        op["reason"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].clone())
            .collect()
    }

    #[tokio::test]
    async fn listing_bulk_and_single() {
        let b = FakeBackend::new(|m, args| {
            assert_eq!((m, &args[0]), (Method::Query, &json!("network")));
            let fields = args[1].as_array().unwrap().clone();
            if args[2][1][2] == "nosuch" {
                return Err(GanetiError::noent("Network name nosuch not found"));
            }
            let row: Vec<Value> = fields
                .iter()
                .map(|f| match f.as_str().unwrap() {
                    "name" => json!([0, "net1"]),
                    "network6" => json!([0, null]),
                    _ => json!([0, 1]),
                })
                .collect();
            Ok(json!({"fields": [], "data": [row]}))
        });
        let got = list(call(&b, "networks", &[], "", None)).await.unwrap();
        assert_eq!(got, json!([{"name": "net1", "uri": "/2/networks/net1"}]));
        let got = list(call(&b, "networks", &[], "bulk=1", None))
            .await
            .unwrap();
        let keys: Vec<&str> = got[0]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys, NET_FIELDS);
        let got = info(call(&b, "networks_name", &["net1"], "", None))
            .await
            .unwrap();
        assert_eq!(got.as_object().unwrap().len(), NET_FIELDS.len());
        assert_eq!(got["network6"], Value::Null);
        let e = info(call(&b, "networks_name", &["nosuch"], "", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 404);
        let e = info(call(&b, "networks_name", &["net1"], "lock=1", None))
            .await
            .unwrap_err();
        assert_eq!(e.code, 500);
    }

    #[tokio::test]
    async fn add_like_the_recorded_request() {
        // body of fixtures/post_network.req.json, with the `name` alias
        let b = FakeBackend::jobs();
        let body = json!({"name": "refnet", "network": "198.51.100.128/26",
                          "gateway": "198.51.100.129", "tags": ["ref"]});
        add(call(&b, "networks", &[], "", Some(body)))
            .await
            .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NETWORK_ADD");
        assert_eq!(op["network_name"], "refnet");
        assert_eq!(op["network"], "198.51.100.128/26");
        assert_eq!(op["tags"], json!(["ref"]));
        assert_eq!(op["dry_run"], false);
        assert_eq!(reasons(&op), vec![json!("gnt:library:rlib2:networks")]);

        let b = FakeBackend::jobs();
        let e = add(call(
            &b,
            "networks",
            &[],
            "",
            Some(json!({"network_name": "n", "network": "not-a-net"})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 400);
        assert!(
            e.message.contains("OP_NETWORK_ADD.network"),
            "{}",
            e.message
        );
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn connect_disconnect_remove_modify() {
        // body of fixtures/network_connect.req.json
        let b = FakeBackend::jobs();
        let body = json!({"group_name": "default", "network_mode": "bridged",
                          "network_link": "gntbr0"});
        connect(call(
            &b,
            "networks_name_connect",
            &["refnet"],
            "",
            Some(body),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NETWORK_CONNECT");
        assert_eq!(
            (&op["network_name"], &op["group_name"]),
            (&json!("refnet"), &json!("default"))
        );
        assert_eq!(op["dry_run"], false);
        assert_eq!(
            reasons(&op),
            vec![json!("gnt:library:rlib2:networks_name_connect")]
        );

        let b = FakeBackend::jobs();
        disconnect(call(
            &b,
            "networks_name_disconnect",
            &["refnet"],
            "dry-run=1",
            Some(json!({"group_name": "default"})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NETWORK_DISCONNECT");
        assert_eq!(op["dry_run"], true);

        let b = FakeBackend::jobs();
        remove(call(
            &b,
            "networks_name",
            &["refnet"],
            "",
            Some(json!({"force": true})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NETWORK_REMOVE");
        assert_eq!(
            (&op["network_name"], &op["force"]),
            (&json!("refnet"), &json!(true))
        );

        let b = FakeBackend::jobs();
        remove(call(&b, "networks_name", &["refnet"], "", None))
            .await
            .unwrap();
        assert!(b.only_op().get("force").is_none());

        let b = FakeBackend::jobs();
        modify(call(
            &b,
            "networks_name_modify",
            &["refnet"],
            "reason=why",
            Some(json!({"gateway": "198.51.100.130", "dry_run": true})),
        ))
        .await
        .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_NETWORK_SET_PARAMS");
        assert_eq!(op["gateway"], "198.51.100.130");
        assert_eq!(op["dry_run"], true);
        assert_eq!(
            reasons(&op),
            vec![
                json!("gnt:user"),
                json!("gnt:library:rlib2:networks_name_modify")
            ]
        );
    }

    #[tokio::test]
    async fn static_parameters_cannot_be_overwritten() {
        let b = FakeBackend::jobs();
        let e = connect(call(
            &b,
            "networks_name_connect",
            &["refnet"],
            "",
            Some(json!({"network_name": "x", "dry_run": true})),
        ))
        .await
        .unwrap_err();
        assert_eq!(
            e.message,
            "Can't overwrite static parameters {'dry_run', 'network_name'}"
        );
        let e = disconnect(call(
            &b,
            "networks_name_disconnect",
            &["n"],
            "dry-run=t",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Invalid value for the 'dry-run' parameter");
        assert!(b.calls().is_empty());
    }
}
