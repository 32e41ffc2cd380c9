//! A small client of Ganeti's Remote API: JSON over HTTPS with Basic
//! authentication, as Ganeti's own Python client speaks it. Works against
//! ganeti-rs and Ganeti alike.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::error::ModuleError;

/// A connection to one RAPI.
pub struct Rapi {
    agent: ureq::Agent,
    base: String,
    authorization: Option<String>,
    user: String,
}

impl std::fmt::Debug for Rapi {
    // never the credentials
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rapi").field("base", &self.base).finish()
    }
}

impl Rapi {
    /// A client of `https://address:port` with optional credentials.
    pub fn new(
        address: &str,
        port: u16,
        credentials: Option<(&str, &str)>,
        tls: rustls::ClientConfig,
    ) -> Rapi {
        let host = if address.contains(':') && !address.starts_with('[') {
            format!("[{address}]")
        } else {
            address.to_string()
        };
        let agent = ureq::AgentBuilder::new()
            .tls_config(Arc::new(tls))
            .timeout_connect(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
            .build();
        Rapi {
            agent,
            base: format!("https://{host}:{port}"),
            authorization: credentials.map(|(u, p)| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
                )
            }),
            user: credentials.map(|(u, _)| u.to_string()).unwrap_or_default(),
        }
    }

    /// `GET path`; `None` when Ganeti answers 404.
    pub fn get_opt(&self, path: &str) -> Result<Option<Value>, ModuleError> {
        match self.request("GET", path, None) {
            Err(ModuleError::Http { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// One request; the answer's JSON.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ModuleError> {
        let mut req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Accept", "application/json")
            .set("User-Agent", "ganeti_instance (ganeti-rs Ansible module)");
        if let Some(a) = &self.authorization {
            req = req.set("Authorization", a);
        }
        let result = match body {
            Some(b) => req.send_json(b.clone()),
            None => req.call(),
        };
        match result {
            Ok(resp) => {
                let text = resp
                    .into_string()
                    .map_err(|e| ModuleError::Protocol(format!("{method} {path}: {e}")))?;
                serde_json::from_str(&text)
                    .map_err(|e| ModuleError::Protocol(format!("{method} {path}: {e}: {text}")))
            }
            Err(ureq::Error::Status(status, resp)) => {
                if status == 401 || status == 403 {
                    return Err(ModuleError::Auth {
                        url: self.base.clone(),
                        user: self.user.clone(),
                        status,
                    });
                }
                let text = resp.into_string().unwrap_or_default();
                // Ganeti's error body: {"code": .., "message": .., "explain": ..}
                let message = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| {
                        let m = v.get("message").and_then(Value::as_str)?.to_string();
                        Some(match v.get("explain").and_then(Value::as_str) {
                            Some(x) if !x.is_empty() => format!("{m}: {x}"),
                            _ => m,
                        })
                    })
                    .unwrap_or(text);
                Err(ModuleError::Http {
                    method: method.into(),
                    path: path.into(),
                    status,
                    message,
                })
            }
            Err(ureq::Error::Transport(t)) => Err(ModuleError::Connect {
                url: self.base.clone(),
                reason: t.to_string(),
            }),
        }
    }
}
