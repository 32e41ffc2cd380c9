//! What a resource handler sees of a request.
//!
//! By the time a handler runs, the server has matched the path, checked
//! authentication and access, checked the content type and parsed the body,
//! so a handler only interprets URL items, query arguments and the body.

use std::sync::Arc;

use serde_json::Value;

use crate::backend::Backend;
use crate::error::RapiError;

/// Query arguments, parsed like Python's `parse_qs`: `+` and `%xx` are
/// decoded, arguments with an empty value are dropped, repeated keys keep
/// every value in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryArgs(Vec<(String, String)>);

impl QueryArgs {
    /// Parse the part of the URL after `?` (without the `?`).
    pub fn parse(query: &str) -> Self {
        QueryArgs(
            form_urlencoded::parse(query.as_bytes())
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Whether there is no argument at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every argument, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (used for `tag`).
    pub fn get_all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// An integer-valued flag (`bulk`, `dry-run`, `force`, ...): absent is
    /// `default`, any integer is accepted (non-zero is true), anything else
    /// is 400 "Invalid value for the 'X' parameter", as in Ganeti.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, RapiError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => ganeti_clifmt::pystr::py_int(v.trim())
                .map(|n| n != 0)
                .ok_or_else(|| {
                    RapiError::bad_request(format!("Invalid value for the '{name}' parameter"))
                }),
        }
    }

    /// A required argument: 400 "Missing 'X' query argument" when absent.
    pub fn required(&self, name: &str) -> Result<&str, RapiError> {
        self.get(name)
            .ok_or_else(|| RapiError::bad_request(format!("Missing '{name}' query argument")))
    }
}

/// One request, as a handler sees it.
#[derive(Clone)]
pub struct Call {
    /// Where LUXI calls go.
    pub backend: Arc<dyn Backend>,
    /// The values of the `[...]` items of the matched path, in order.
    pub items: Vec<String>,
    /// Query arguments.
    pub query: QueryArgs,
    /// The parsed JSON body; `None` when the request had no body.
    pub body: Option<Value>,
    /// The authenticated user, if any.
    pub user: Option<String>,
    /// The handler's name for reason trails: Ganeti's handler class name
    /// without `R_2_` (e.g. `instances_name_startup`).
    pub resource: &'static str,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("items", &self.items)
            .field("query", &self.query)
            .field("body", &self.body)
            .field("user", &self.user)
            .field("resource", &self.resource)
            .finish()
    }
}

impl Call {
    /// The `i`-th URL item (e.g. the instance name).
    pub fn item(&self, i: usize) -> &str {
        self.items.get(i).map(String::as_str).unwrap_or("")
    }

    /// The body, or `{}` for a request without one.
    pub fn body_or_empty(&self) -> Value {
        self.body
            .clone()
            .unwrap_or_else(|| Value::Object(Default::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_qs_semantics() {
        let q = QueryArgs::parse("tag=a&tag=b+c&empty=&x=%2F&bulk=1");
        assert_eq!(q.get_all("tag"), vec!["a", "b c"]);
        assert_eq!(q.get("empty"), None);
        assert_eq!(q.get("x"), Some("/"));
        assert_eq!(q.flag("bulk", false), Ok(true));
        assert_eq!(q.flag("missing", true), Ok(true));
    }

    #[test]
    fn flags_must_be_integers() {
        let q = QueryArgs::parse("bulk=true&force=0&lock=-3");
        assert_eq!(
            q.flag("bulk", false).unwrap_err().message,
            "Invalid value for the 'bulk' parameter"
        );
        assert_eq!(q.flag("force", true), Ok(false));
        assert_eq!(q.flag("lock", false), Ok(true));
    }
}
