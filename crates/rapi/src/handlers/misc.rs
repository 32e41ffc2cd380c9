//! The cluster-wide resources: `/`, `/2`, `/version`, `/2/info`,
//! `/2/features`, `/2/os`, `/2/modify`, `/2/redistribute-config` and the
//! cluster's `/2/tags`.
//!
//! Clients probe `/version` and `/2/features` before choosing request
//! formats (the stock client's instance creation and reinstall do), so the
//! answers are Ganeti 3.0.2's to the letter.

use ganeti_luxi::Method;
use serde_json::{json, Value};

use crate::call::Call;
use crate::error::RapiError;
use crate::handler;
use crate::handlers::common::{common_statics, luxi, submit_job, submit_opcode};
use crate::handlers::jobs::poll_job;
use crate::routes::{Access, HttpMethod, Route};

/// The RAPI version `/version` reports.
pub const RAPI_VERSION: u64 = 2;

/// `/2/features`, in the order Ganeti 3.0.2 happens to list them.
pub const FEATURES: &[&str] = &[
    "node-migrate-reqv1",
    "instance-reinstall-reqv1",
    "instance-create-reqv1",
    "node-evac-res1",
];

/// `/2/info` repeats these cluster-info keys under their old names
/// (Ganeti's `GET_ALIASES` of `R_2_info`): (key, alias).
const INFO_ALIASES: &[(&str, &str)] = &[
    ("volume_group_name", "vg_name"),
    ("drbd_usermode_helper", "drbd_helper"),
];

/// Parameters `PUT /2/modify` refuses with 403 (Ganeti's `PUT_FORBIDDEN`).
const MODIFY_FORBIDDEN: &[&str] = &["compression_tools"];

/// The routes of this family.
pub fn routes() -> Vec<Route> {
    vec![
        Route {
            pattern: "/",
            resource: "root",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(null))],
        },
        Route {
            pattern: "/2",
            resource: "2",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(null))],
        },
        Route {
            pattern: "/version",
            resource: "version",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(version))],
        },
        Route {
            pattern: "/2/info",
            resource: "info",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(info))],
        },
        Route {
            pattern: "/2/features",
            resource: "features",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(features))],
        },
        Route {
            pattern: "/2/os",
            resource: "os",
            methods: vec![(HttpMethod::Get, Access::Public, handler!(os_list))],
        },
        Route {
            pattern: "/2/redistribute-config",
            resource: "redist_config",
            methods: vec![(HttpMethod::Put, Access::Write, handler!(redist_config))],
        },
        Route {
            pattern: "/2/modify",
            resource: "cluster_modify",
            methods: vec![(HttpMethod::Put, Access::Write, handler!(cluster_modify))],
        },
        crate::handlers::common::tags_route!("/2/tags", "tags", "cluster"),
    ]
}

/// `GET /` and `GET /2`: kept for old clients; always `null`.
async fn null(_: Call) -> Result<Value, RapiError> {
    Ok(Value::Null)
}

/// `GET /version`.
async fn version(_: Call) -> Result<Value, RapiError> {
    Ok(json!(RAPI_VERSION))
}

/// `GET /2/features`.
async fn features(_: Call) -> Result<Value, RapiError> {
    Ok(json!(FEATURES))
}

/// `GET /2/info`: LUXI `QueryClusterInfo` plus the legacy alias keys.
async fn info(call: Call) -> Result<Value, RapiError> {
    let mut info = luxi(&call, Method::QueryClusterInfo, json!([])).await?;
    if let Value::Object(map) = &mut info {
        for (key, alias) in INFO_ALIASES {
            if let Some(v) = map.get(*key).cloned() {
                map.insert((*alias).to_owned(), v);
            }
        }
    }
    Ok(info)
}

/// `GET /2/os`: runs `OP_OS_DIAGNOSE` as a job, waits for it here, and
/// lists every OS name (`os+variant` where the OS has variants). The LU
/// already leaves out hidden, blacklisted and invalid OSes.
async fn os_list(call: Call) -> Result<Value, RapiError> {
    let op = json!({
        "OP_ID": "OP_OS_DIAGNOSE",
        "output_fields": ["name", "variants"],
        "names": [],
    });
    let job = submit_job(&call, vec![op]).await?;
    let id = job
        .as_u64()
        .ok_or_else(|| RapiError::new(502, format!("Unexpected job id {job}")))?;
    let results = poll_job(&call, id).await?;
    let bad_gateway = || RapiError::new(502, "Can't get OS list");
    let rows = results
        .first()
        .and_then(Value::as_array)
        .ok_or_else(bad_gateway)?;
    let mut names = Vec::new();
    for row in rows {
        let Some([Value::String(name), variants]) = row.as_array().map(Vec::as_slice) else {
            return Err(bad_gateway());
        };
        match variants.as_array().filter(|v| !v.is_empty()) {
            Some(vs) => {
                for v in vs {
                    names.push(json!(format!("{name}+{}", ganeti_clifmt::pystr::py_str(v))));
                }
            }
            None => names.push(json!(name)),
        }
    }
    Ok(Value::Array(names))
}

/// `PUT /2/redistribute-config`: `OP_CLUSTER_REDIST_CONF` from the body.
async fn redist_config(call: Call) -> Result<Value, RapiError> {
    let statics = common_statics(&call, false)?;
    submit_opcode(
        &call,
        "OP_CLUSTER_REDIST_CONF",
        call.body.clone(),
        statics,
        &[],
    )
    .await
}

/// Refuse a forbidden parameter named in the query string or the body
/// (Ganeti's `InspectParams`): 403.
fn refuse_forbidden(call: &Call, forbidden: &[&str]) -> Result<(), RapiError> {
    let in_query = call.query.iter().map(|(k, _)| k.to_owned());
    let in_body: Vec<String> = match &call.body {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    for name in in_query.chain(in_body) {
        if forbidden.contains(&name.as_str()) {
            return Err(RapiError::new(
                403,
                format!("The parameter {name} cannot be set via RAPI"),
            ));
        }
    }
    Ok(())
}

/// `PUT /2/modify`: `OP_CLUSTER_SET_PARAMS` from the body, except the
/// parameters RAPI may not set.
async fn cluster_modify(call: Call) -> Result<Value, RapiError> {
    refuse_forbidden(&call, MODIFY_FORBIDDEN)?;
    let statics = common_statics(&call, false)?;
    submit_opcode(
        &call,
        "OP_CLUSTER_SET_PARAMS",
        call.body.clone(),
        statics,
        &[],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::common::fake::{call, FakeBackend};
    use ganeti_types::GanetiError;

    fn assert_rlib2_trail(op: &Value, resource: &str) {
        let trail = op["reason"].as_array().unwrap();
        let last = trail.last().unwrap().as_array().unwrap();
        assert_eq!(last[0], format!("gnt:library:rlib2:{resource}"));
        assert_eq!(last[1], "");
        assert!(last[2].as_u64().unwrap() > 1_600_000_000_000_000_000);
    }

    #[tokio::test]
    async fn fixed_answers() {
        let b = FakeBackend::jobs();
        assert_eq!(null(call(&b, "root", &[], "", None)).await, Ok(Value::Null));
        assert_eq!(
            version(call(&b, "version", &[], "", None)).await,
            Ok(json!(2))
        );
        let f = features(call(&b, "features", &[], "", None)).await.unwrap();
        let mut got: Vec<&str> = f
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "instance-create-reqv1",
                "instance-reinstall-reqv1",
                "node-evac-res1",
                "node-migrate-reqv1"
            ]
        );
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn info_adds_aliases() {
        let b = FakeBackend::new(|m, _| {
            assert_eq!(m, Method::QueryClusterInfo);
            Ok(json!({"name": "c", "volume_group_name": "xenvg", "drbd_usermode_helper": null}))
        });
        let got = info(call(&b, "info", &[], "reason=x", None)).await.unwrap();
        assert_eq!(
            got,
            json!({"name": "c", "volume_group_name": "xenvg", "drbd_usermode_helper": null,
                   "vg_name": "xenvg", "drbd_helper": null})
        );
        let b = FakeBackend::new(|_, _| Err(GanetiError::Generic("boom".into())));
        assert_eq!(
            info(call(&b, "info", &[], "", None))
                .await
                .unwrap_err()
                .code,
            500
        );
    }

    fn os_backend(result: Value) -> std::sync::Arc<FakeBackend> {
        FakeBackend::new(move |m, _| {
            Ok(match m {
                Method::SubmitJob => json!(3),
                Method::WaitForJobChange => json!([["success"], []]),
                Method::QueryJobs => json!([["success", ["success"], [result.clone()]]]),
                _ => unreachable!(),
            })
        })
    }

    #[tokio::test]
    async fn os_list_submits_diagnose_and_expands_variants() {
        let b = os_backend(json!([
            ["noop", []],
            ["debootstrap", ["default", "min"]],
            ["x", null]
        ]));
        let got = os_list(call(&b, "os", &[], "", None)).await.unwrap();
        assert_eq!(
            got,
            json!(["noop", "debootstrap+default", "debootstrap+min", "x"])
        );
        assert_eq!(
            b.only_op(),
            json!({"OP_ID": "OP_OS_DIAGNOSE", "output_fields": ["name", "variants"], "names": []})
        );
    }

    #[tokio::test]
    async fn os_list_needs_a_list() {
        let b = os_backend(json!({"noop": []}));
        let e = os_list(call(&b, "os", &[], "", None)).await.unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (502, "Can't get OS list"));
        let b = os_backend(json!([["noop"]]));
        let e = os_list(call(&b, "os", &[], "", None)).await.unwrap_err();
        assert_eq!(e.code, 502);
    }

    #[tokio::test]
    async fn modify_refuses_compression_tools() {
        let b = FakeBackend::jobs();
        let e = cluster_modify(call(
            &b,
            "cluster_modify",
            &[],
            "",
            Some(json!({"compression_tools": ["gzip"]})),
        ))
        .await
        .unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                403,
                "The parameter compression_tools cannot be set via RAPI"
            )
        );
        let e = cluster_modify(call(
            &b,
            "cluster_modify",
            &[],
            "compression_tools=gzip",
            None,
        ))
        .await
        .unwrap_err();
        assert_eq!(e.code, 403);
        assert!(b.calls().is_empty());
    }

    #[tokio::test]
    async fn modify_submits_body_with_trail() {
        let b = FakeBackend::jobs();
        let got = cluster_modify(call(
            &b,
            "cluster_modify",
            &[],
            "reason=because",
            Some(json!({"candidate_pool_size": 5, "dry_run": true})),
        ))
        .await
        .unwrap();
        assert_eq!(got, json!(42));
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_CLUSTER_SET_PARAMS");
        assert_eq!(op["candidate_pool_size"], 5);
        assert_eq!(op["dry_run"], true);
        assert_eq!(op["reason"][0][0], "gnt:user");
        assert_eq!(op["reason"][0][1], "because");
        assert_rlib2_trail(&op, "cluster_modify");
        let e = cluster_modify(call(
            &b,
            "cluster_modify",
            &[],
            "",
            Some(json!({"reason": []})),
        ))
        .await
        .unwrap_err();
        assert_eq!(e.message, "Can't overwrite static parameters {'reason'}");
    }

    #[tokio::test]
    async fn redist_config_submits() {
        let b = FakeBackend::jobs();
        redist_config(call(&b, "redist_config", &[], "", None))
            .await
            .unwrap();
        let op = b.only_op();
        assert_eq!(op["OP_ID"], "OP_CLUSTER_REDIST_CONF");
        assert_rlib2_trail(&op, "redist_config");
        let b = FakeBackend::jobs();
        let e = redist_config(call(&b, "redist_config", &[], "", Some(json!({"x": 1}))))
            .await
            .unwrap_err();
        assert_eq!(e.code, 400);
    }
}
