//! The resource table: which paths exist, which methods each implements,
//! who may call them, and which handler answers.
//!
//! Matching follows Ganeti's router: the path is not URL-decoded, must
//! match a pattern exactly (no trailing-slash tolerance), names match
//! `[\w._-]+`, job ids and disk indices `\d+`. An unknown path is 404 and a
//! method the resource lacks is 501 — never 405.

use serde_json::Value;

use crate::backend::BoxFuture;
use crate::call::Call;
use crate::error::RapiError;

/// Who may use a (resource, method).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, unless the daemon requires authentication.
    Public,
    /// A user with the `read` or `write` option (never anonymous).
    Read,
    /// A user with the `write` option.
    Write,
}

/// The HTTP methods RAPI dispatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Put,
    Post,
    Delete,
}

impl HttpMethod {
    /// Parse a request method; anything else is 501.
    pub fn parse(m: &str) -> Option<Self> {
        Some(match m {
            "GET" => HttpMethod::Get,
            "PUT" => HttpMethod::Put,
            "POST" => HttpMethod::Post,
            "DELETE" => HttpMethod::Delete,
            _ => return None,
        })
    }
}

/// A handler: an async function of the call.
pub type Handler = fn(Call) -> BoxFuture<'static, Result<Value, RapiError>>;

/// Wrap an `async fn(Call) -> Result<Value, RapiError>` as a [`Handler`].
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        fn wrapped(
            c: $crate::call::Call,
        ) -> $crate::backend::BoxFuture<'static, Result<serde_json::Value, $crate::error::RapiError>>
        {
            Box::pin($f(c))
        }
        wrapped as $crate::routes::Handler
    }};
}

/// One resource: a path pattern and its methods.
#[derive(Debug)]
pub struct Route {
    /// Pattern with `[name]` items for names, `[id]` for `\d+` items,
    /// e.g. `/2/instances/[name]/disk/[id]/grow`.
    pub pattern: &'static str,
    /// Ganeti's handler class name without `R_2_` (for reason trails).
    pub resource: &'static str,
    /// The implemented methods.
    pub methods: Vec<(HttpMethod, Access, Handler)>,
}

/// A successful path match.
#[derive(Debug)]
pub struct Matched<'a> {
    /// The route.
    pub route: &'a Route,
    /// The item values, in order.
    pub items: Vec<String>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '-')
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl Route {
    /// Match `path` (no query string) against this pattern.
    pub fn matches(&self, path: &str) -> Option<Vec<String>> {
        let mut pat = self.pattern.split('/');
        let mut got = path.split('/');
        let mut items = Vec::new();
        loop {
            match (pat.next(), got.next()) {
                (None, None) => return Some(items),
                (Some(p), Some(g)) => {
                    if p == "[id]" {
                        if !is_number(g) {
                            return None;
                        }
                        items.push(g.to_owned());
                    } else if p.starts_with('[') {
                        if !is_name(g) {
                            return None;
                        }
                        items.push(g.to_owned());
                    } else if p != g {
                        return None;
                    }
                }
                _ => return None,
            }
        }
    }

    /// The handler and access for `method`, if implemented.
    pub fn method(&self, method: HttpMethod) -> Option<(Access, Handler)> {
        self.methods
            .iter()
            .find(|(m, _, _)| *m == method)
            .map(|(_, a, h)| (*a, *h))
    }
}

/// The table of every resource.
#[derive(Debug)]
pub struct Table {
    routes: Vec<Route>,
}

impl Table {
    /// Every RAPI resource this release serves.
    pub fn new() -> Self {
        Table {
            routes: crate::handlers::routes(),
        }
    }

    /// A table of the given routes (for tests).
    pub fn from_routes(routes: Vec<Route>) -> Self {
        Table { routes }
    }

    /// Find the route for `path`; literal routes win over item patterns
    /// (`/2/instances/[name]` never shadows a literal sibling).
    pub fn lookup(&self, path: &str) -> Option<Matched<'_>> {
        let mut best: Option<Matched<'_>> = None;
        for route in &self.routes {
            if let Some(items) = route.matches(path) {
                let better = best
                    .as_ref()
                    .map(|b| items.len() < b.items.len())
                    .unwrap_or(true);
                if better {
                    best = Some(Matched { route, items });
                }
            }
        }
        best
    }

    /// Every route (for documentation and tests).
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn null(_: Call) -> Result<Value, RapiError> {
        Ok(json!(null))
    }

    fn table() -> Table {
        Table::from_routes(vec![
            Route {
                pattern: "/2/instances/[name]",
                resource: "instances_name",
                methods: vec![(HttpMethod::Get, Access::Public, handler!(null))],
            },
            Route {
                pattern: "/2/instances/[name]/disk/[id]/grow",
                resource: "instances_name_disk_grow",
                methods: vec![(HttpMethod::Post, Access::Write, handler!(null))],
            },
            Route {
                pattern: "/2/jobs/[id]",
                resource: "jobs_id",
                methods: vec![(HttpMethod::Get, Access::Public, handler!(null))],
            },
        ])
    }

    #[test]
    fn matching_is_exact() {
        let t = table();
        assert_eq!(
            t.lookup("/2/instances/inst1.example.com").unwrap().items,
            vec!["inst1.example.com"]
        );
        assert!(t.lookup("/2/instances/").is_none());
        assert!(t.lookup("/2/instances/a%20b").is_none());
        assert!(t.lookup("/2/jobs/abc").is_none());
        assert_eq!(
            t.lookup("/2/instances/i1/disk/0/grow").unwrap().items,
            vec!["i1", "0"]
        );
        assert!(t.lookup("/2/instances/i1/disk/x/grow").is_none());
    }
}
