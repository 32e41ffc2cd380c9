//! The resources, one module per family, and the table that lists them.

pub mod common;
pub mod filters;
pub mod groups;
pub mod instances;
pub mod jobs;
pub mod misc;
pub mod networks;
pub mod nodes;
pub mod query;

use crate::routes::Route;

/// Every route served.
pub fn routes() -> Vec<Route> {
    let mut all = Vec::new();
    all.extend(misc::routes());
    all.extend(instances::routes());
    all.extend(jobs::routes());
    all.extend(nodes::routes());
    all.extend(groups::routes());
    all.extend(networks::routes());
    all.extend(query::routes());
    all.extend(filters::routes());
    all
}

#[cfg(test)]
mod tests {
    //! The whole table against Ganeti 3.0.2's endpoint list
    //! (`spec/rapi-endpoints.tsv`, a copy of the shared interface table),
    //! and behaviour every family shares.

    use ganeti_luxi::Method;
    use serde_json::{json, Value};

    use super::common::fake::{call, FakeBackend};
    use crate::routes::{Access, HttpMethod, Table};

    const ENDPOINTS: &str = include_str!("../../spec/rapi-endpoints.tsv");

    /// (method, path, access column, since) of every endpoint row.
    fn endpoints() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
        ENDPOINTS
            .lines()
            .skip(1)
            .map(|l| {
                let c: Vec<&str> = l.split('\t').collect();
                (c[0], c[1], c[3], *c.last().unwrap())
            })
            .collect()
    }

    /// A concrete path for a spec path: every `[item]` filled in.
    fn concrete(path: &str) -> String {
        path.split('/')
            .map(|seg| match seg {
                "[job_id]" | "[disk_index]" => "7",
                s if s.starts_with('[') => "x1",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Ganeti's handler class name (without `R_2_`) for a route pattern,
    /// used as the `gnt:library:rlib2:` reason source.
    fn ganeti_resource(pattern: &str) -> String {
        match pattern {
            "/" => return "root".into(),
            "/2" => return "2".into(),
            "/version" => return "version".into(),
            "/2/redistribute-config" => return "redist_config".into(),
            "/2/modify" => return "cluster_modify".into(),
            _ => {}
        }
        let segs: Vec<&str> = pattern.trim_start_matches("/2/").split('/').collect();
        let family = segs[0];
        segs.iter()
            .filter_map(|s| match *s {
                // disk indices and query resources are not part of the name
                "[id]" if family == "jobs" => Some("id".to_owned()),
                "[id]" => None,
                "[resource]" => None,
                "[uuid]" => Some("uuid".to_owned()),
                "[name]" => Some("name".to_owned()),
                s => Some(s.replace('-', "_")),
            })
            .collect::<Vec<_>>()
            .join("_")
    }

    #[test]
    fn the_table_is_ganeti_3_0_2s_endpoint_list() {
        let table = Table::new();
        let mut served_rows = 0;
        for (method, path, access, since) in endpoints() {
            if path.contains('?') {
                continue; // a query-argument variant of a row already listed
            }
            let m = HttpMethod::parse(method).unwrap();
            let found = table
                .lookup(&concrete(path))
                .and_then(|hit| hit.route.method(m));
            if since != "3.0.2" {
                assert!(
                    found.is_none(),
                    "{method} {path} is from {since}, not 3.0.2"
                );
                continue;
            }
            let (got, _) = found.unwrap_or_else(|| panic!("{method} {path} not served"));
            let want = match access {
                "no" => Access::Public,
                "read" => Access::Read,
                "yes" => Access::Write,
                other => panic!("access column {other:?}"),
            };
            assert_eq!(got, want, "{method} {path}");
            served_rows += 1;
        }
        let served: usize = table.routes().iter().map(|r| r.methods.len()).sum();
        assert_eq!(
            served, served_rows,
            "a route the endpoint list does not have"
        );
    }

    #[test]
    fn resources_carry_ganetis_handler_names() {
        for route in Table::new().routes() {
            assert_eq!(
                route.resource,
                ganeti_resource(route.pattern),
                "{}",
                route.pattern
            );
        }
    }

    #[test]
    fn routes_match_exact_paths_only() {
        let t = Table::new();
        for path in [
            "/2/instances/",
            "/2/query",
            "/2/query/node/",
            "/2/filters/",
            "/2/jobs/abc",
        ] {
            assert!(t.lookup(path).is_none(), "{path}");
        }
        let hit = t.lookup("/2/query/node/fields").unwrap();
        assert_eq!(
            (hit.route.pattern, hit.items.clone()),
            ("/2/query/[resource]/fields", vec!["node".to_owned()])
        );
    }

    /// Every kind's `.../tags`: GET is LUXI `QueryTags` of the right kind
    /// and object, PUT/DELETE submit `OP_TAGS_SET`/`OP_TAGS_DEL` with the
    /// `?tag=` values only (the body's are ignored) and `?dry-run`.
    #[tokio::test]
    async fn tags_of_every_kind() {
        let t = Table::new();
        for (path, kind, name) in [
            ("/2/tags", "cluster", None),
            ("/2/instances/i1/tags", "instance", Some("i1")),
            ("/2/nodes/i1/tags", "node", Some("i1")),
            ("/2/groups/i1/tags", "nodegroup", Some("i1")),
            ("/2/networks/i1/tags", "network", Some("i1")),
        ] {
            let hit = t.lookup(path).unwrap();
            let handler = |m| hit.route.method(m).unwrap().1;
            let items: Vec<&str> = hit.items.iter().map(String::as_str).collect();
            let resource = hit.route.resource;

            let b = FakeBackend::new(|_, _| Ok(json!(["t"])));
            let got = handler(HttpMethod::Get)(call(&b, resource, &items, "", None)).await;
            assert_eq!(got, Ok(json!(["t"])), "{path}");
            assert_eq!(
                b.calls(),
                vec![(Method::QueryTags, json!([kind, name.unwrap_or("")]))],
                "{path}"
            );

            let b = FakeBackend::jobs();
            let body = Some(json!({"tags": ["ignored"]}));
            let got = handler(HttpMethod::Put)(call(
                &b,
                resource,
                &items,
                "tag=x&tag=y+z&dry-run=1",
                body,
            ))
            .await;
            assert_eq!(got, Ok(json!(42)), "{path}");
            let op = b.only_op();
            assert_eq!(op["OP_ID"], "OP_TAGS_SET", "{path}");
            assert_eq!(op["kind"], kind, "{path}");
            assert_eq!(op.get("name").and_then(Value::as_str), name, "{path}");
            assert_eq!(op["tags"], json!(["x", "y z"]), "{path}");
            assert_eq!(op["dry_run"], true, "{path}");
            let last = op["reason"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last[0], format!("gnt:library:rlib2:{resource}"), "{path}");

            let b = FakeBackend::jobs();
            handler(HttpMethod::Delete)(call(&b, resource, &items, "tag=x", None))
                .await
                .unwrap();
            let op = b.only_op();
            assert_eq!(
                (&op["OP_ID"], &op["tags"], &op["dry_run"]),
                (&json!("OP_TAGS_DEL"), &json!(["x"]), &json!(false)),
                "{path}"
            );

            let b = FakeBackend::jobs();
            let e =
                handler(HttpMethod::Delete)(call(&b, resource, &items, "tag=x&dry-run=yes", None))
                    .await
                    .unwrap_err();
            assert_eq!(e.message, "Invalid value for the 'dry-run' parameter");
            assert!(b.calls().is_empty(), "{path}: nothing submitted");
        }
    }
}
