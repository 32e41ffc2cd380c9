//! How Ganeti's master decodes the arguments of LUXI `Query` and
//! `QueryFields`, and what it refuses.
//!
//! Why here: these rules are the master's (luxid's), not a transport's.
//! Arguments it cannot decode are the protocol-level "Failed to parse
//! request" answer (the CLI reports a protocol error, RAPI a 502); the
//! resources it knows but does not serve through these calls (`os`,
//! `cluster`: Ganeti answers those through opcodes) are an ordinary error.

use ganeti_luxi::request_parse_error;
use ganeti_query::pp_value;
use ganeti_types::GanetiError;
use serde_json::Value;

/// The resources luxid serves through `Query`/`QueryFields`.
const SERVED: &[&str] = &[
    "group", "export", "instance", "job", "lock", "network", "node", "filter",
];

/// Decoded `Query`/`QueryFields` arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryArgs {
    pub resource: String,
    /// `None` only for `QueryFields` ("every field").
    pub fields: Option<Vec<String>>,
    /// The query filter (`Query` only); `None` for no filter.
    pub filter: Option<Value>,
}

fn cannot_convert(args: &Value, why: &str) -> GanetiError {
    request_parse_error(format!(
        "Cannot convert value '{}', error: {why}",
        pp_value(args)
    ))
}

/// Decode `[resource, fields, filter]` (`Query`) or `[resource, fields]`
/// (`QueryFields`, whose fields may be `null`) in luxid's order: the
/// resource, then the field names, then the filter.
pub fn decode(method: &str, args: &Value) -> Result<QueryArgs, GanetiError> {
    let query_fields = method == "QueryFields";
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    let resource = arg(0)
        .as_str()
        .ok_or_else(|| cannot_convert(args, "Unable to read String"))?;
    if !SERVED.contains(&resource) {
        let refused = match resource {
            "os" => "QROs",
            "cluster" => "QRCluster",
            other => {
                return Err(cannot_convert(
                    args,
                    &format!("Can't parse value '{other}' as neitherQueryTypeLuxi nor QueryTypeOp"),
                ))
            }
        };
        return Err(GanetiError::Generic(format!(
            "{method} 'ItemTypeOpCode {refused}' not supported"
        )));
    }
    let fields = match arg(1) {
        Value::Null if query_fields => None,
        Value::Array(items) => Some(
            items
                .iter()
                .map(|f| f.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| cannot_convert(args, "Unable to read String"))?,
        ),
        _ => return Err(cannot_convert(args, "Unable to read list")),
    };
    let filter = if query_fields {
        None
    } else {
        match arg(2) {
            Value::Null => None,
            f @ Value::Array(_) => Some(f.clone()),
            other => {
                return Err(cannot_convert(
                    args,
                    &format!(
                        "Cannot deserialise filter: expected array [string, args], got {}",
                        pp_value(other)
                    ),
                ))
            }
        }
    };
    Ok(QueryArgs {
        resource: resource.to_owned(),
        fields,
        filter,
    })
}

#[cfg(test)]
mod tests {
    use ganeti_luxi::is_request_parse_error;
    use serde_json::json;

    use super::*;

    #[test]
    fn good_arguments() {
        assert_eq!(
            decode(
                "Query",
                &json!(["node", ["name", "role"], ["=", "name", "x"]])
            )
            .unwrap(),
            QueryArgs {
                resource: "node".into(),
                fields: Some(vec!["name".into(), "role".into()]),
                filter: Some(json!(["=", "name", "x"])),
            }
        );
        let all = decode("QueryFields", &json!(["job", null])).unwrap();
        assert_eq!((all.fields, all.filter), (None, None));
        for r in SERVED {
            decode("Query", &json!([r, ["name"], null])).unwrap();
        }
    }

    /// Ganeti 3.0.2's answers, as its RAPI showed them.
    #[test]
    fn undecodable_arguments_are_protocol_errors() {
        for (method, args, msg) in [
            ("Query", json!(["node", "name", null]),
             "Failed to parse request: Cannot convert value '[\"node\", \"name\", null]', error: Unable to read list"),
            ("Query", json!(["node", null, null]),
             "Failed to parse request: Cannot convert value '[\"node\", null, null]', error: Unable to read list"),
            ("Query", json!(["node", [1], null]),
             "Failed to parse request: Cannot convert value '[\"node\", [1], null]', error: Unable to read String"),
            ("Query", json!(["node", ["name"], "bad"]),
             "Failed to parse request: Cannot convert value '[\"node\", [\"name\"], \"bad\"]', error: Cannot deserialise filter: expected array [string, args], got \"bad\""),
            ("Query", json!(["foo", ["name"], null]),
             "Failed to parse request: Cannot convert value '[\"foo\", [\"name\"], null]', error: Can't parse value 'foo' as neitherQueryTypeLuxi nor QueryTypeOp"),
            ("QueryFields", json!(["extstorage", null]),
             "Failed to parse request: Cannot convert value '[\"extstorage\", null]', error: Can't parse value 'extstorage' as neitherQueryTypeLuxi nor QueryTypeOp"),
        ] {
            let e = decode(method, &args).unwrap_err();
            assert!(is_request_parse_error(&e), "{args}");
            assert_eq!(e.message(), msg);
        }
    }

    #[test]
    fn os_and_cluster_are_refused() {
        let e = decode("Query", &json!(["os", ["name"], null])).unwrap_err();
        assert!(!is_request_parse_error(&e));
        assert_eq!(e.message(), "Query 'ItemTypeOpCode QROs' not supported");
        let e = decode("QueryFields", &json!(["cluster", ["name"]])).unwrap_err();
        assert_eq!(
            e.message(),
            "QueryFields 'ItemTypeOpCode QRCluster' not supported"
        );
    }
}
