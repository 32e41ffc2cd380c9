//! HTTP(S) downloads with ureq (rustls): the curl options the
//! instance-image providers honour (`--cacert`, `--capath`, `-k`) and the
//! variant's proxy, mapped onto the agent's TLS and proxy settings.

use crate::config::HttpOptions;
use crate::error::{io, Error, Result};
use crate::params::redact_url;
use std::io::Read;
use std::path::Path;
use std::time::Duration;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// An open download: the body and its announced length.
pub struct Download {
    /// The response body.
    pub body: Box<dyn Read + Send>,
    /// `Content-Length`, if the server sent one.
    pub length: Option<u64>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("length", &self.length)
            .finish()
    }
}

fn certs_from_pem(path: &Path, out: &mut Vec<Certificate<'static>>) -> Result<usize> {
    let pem = std::fs::read(path).map_err(io("reading CA file", path))?;
    let before = out.len();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => out.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::Usage(format!(
                    "CA file {}: invalid PEM: {e}",
                    path.display()
                )))
            }
        }
    }
    Ok(out.len() - before)
}

fn tls_config(o: &HttpOptions) -> Result<TlsConfig> {
    let mut b = TlsConfig::builder();
    if o.insecure {
        b = b.disable_verification(true);
    }
    if o.cacert.is_some() || o.capath.is_some() {
        let mut certs = Vec::new();
        if let Some(f) = &o.cacert {
            if certs_from_pem(f, &mut certs)? == 0 {
                return Err(Error::Usage(format!(
                    "--cacert {}: no certificate in the file",
                    f.display()
                )));
            }
        }
        if let Some(d) = &o.capath {
            let entries = std::fs::read_dir(d).map_err(io("reading CA directory", d))?;
            for e in entries {
                let p = e.map_err(io("reading CA directory", d))?.path();
                if p.is_file() {
                    // Hash links and bundles alike; non-PEM files are skipped.
                    let _ = certs_from_pem(&p, &mut certs);
                }
            }
        }
        b = b.root_certs(RootCerts::new_with_certs(&certs));
    }
    Ok(b.build())
}

/// Starts a GET of `url` (redirects followed, HTTP errors are errors).
pub fn get(url: &str, o: &HttpOptions) -> Result<Download> {
    let shown = redact_url(url);
    let http_err = |msg: String| Error::Http {
        url: shown.clone(),
        msg,
    };
    let proxy = match &o.proxy {
        Some(p) => Some(
            ureq::Proxy::new(p)
                .map_err(|e| Error::Usage(format!("invalid PROXY {}: {e}", redact_url(p))))?,
        ),
        None => None,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls_config(o)?)
        .proxy(proxy)
        .timeout_connect(Some(Duration::from_secs(30)))
        .build()
        .into();
    let resp = agent.get(url).call().map_err(|e| http_err(e.to_string()))?;
    let length = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let body = resp.into_body().into_with_config().limit(u64::MAX).reader();
    Ok(Download {
        body: Box::new(body),
        length,
    })
}
