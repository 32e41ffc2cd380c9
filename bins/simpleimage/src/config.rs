//! Per-variant configuration: `<config dir>/<variant>/config`, with
//! shell-style `KEY=value` lines as the instance-image providers use. It
//! is parsed as data, never sourced by a shell, so a config file cannot
//! run code and a typo is reported instead of executed.
//!
//! The config dir is `/etc/ganeti/instance-simpleimage` unless the
//! environment variable `SIMPLEIMAGE_CONFIG_DIR` names another one (Ganeti
//! replaces the environment, so in production this is only useful through
//! the wrapper scripts; tests use it).

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Default config dir (`<sysconfdir>/ganeti/instance-simpleimage`).
pub const DEFAULT_CONFIG_DIR: &str = "/etc/ganeti/instance-simpleimage";
/// Default download cache dir when `IMAGE_STORAGE` is not set.
pub const DEFAULT_IMAGE_STORAGE: &str = "/var/cache/ganeti/instance-simpleimage";
/// Default cache entry lifetime in days.
pub const DEFAULT_CACHE_DAYS: u64 = 7;

/// TLS and proxy options taken from `PROXY` and `CUSTOM_CURL_OPTS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpOptions {
    /// Proxy URL (`PROXY`, or `-x`/`--proxy` in `CUSTOM_CURL_OPTS`).
    pub proxy: Option<String>,
    /// `--cacert FILE`: trust only the certificates in this PEM file.
    pub cacert: Option<PathBuf>,
    /// `--capath DIR`: trust the PEM certificates in this directory.
    pub capath: Option<PathBuf>,
    /// `-k` / `--insecure`: do not verify the server certificate.
    pub insecure: bool,
}

/// A variant's configuration.
#[derive(Debug, Clone)]
pub struct VariantConfig {
    /// The variant's directory (`<config dir>/<variant>`), holding `config`
    /// and `hooks.d`.
    pub dir: PathBuf,
    /// HTTP options.
    pub http: HttpOptions,
    /// The download cache directory (`IMAGE_STORAGE`).
    pub image_storage: PathBuf,
    /// Cache lifetime (`DOWNLOAD_CACHE_MAX_DAYS`); 0 disables the cache.
    pub cache_max_days: u64,
}

/// The config dir in effect.
pub fn config_dir() -> PathBuf {
    std::env::var_os("SIMPLEIMAGE_CONFIG_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_CONFIG_DIR), PathBuf::from)
}

impl VariantConfig {
    /// Loads the variant's config; a missing file means all defaults.
    pub fn load(config_dir: &Path, variant: &str) -> Result<Self> {
        let dir = config_dir.join(variant);
        let path = dir.join("config");
        let vars = match std::fs::read_to_string(&path) {
            Ok(text) => parse_assignments(&text).map_err(|msg| Error::Config {
                path: path.clone(),
                msg,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => {
                return Err(Error::Io {
                    what: "reading",
                    path,
                    source,
                })
            }
        };
        let cfg_err = |msg: String| Error::Config {
            path: path.clone(),
            msg,
        };
        let mut http = match vars.get("CUSTOM_CURL_OPTS") {
            Some(opts) => parse_curl_opts(opts).map_err(cfg_err)?,
            None => HttpOptions::default(),
        };
        if let Some(p) = vars.get("PROXY").filter(|p| !p.is_empty()) {
            http.proxy = Some(p.clone());
        }
        let image_storage = vars
            .get("IMAGE_STORAGE")
            .filter(|s| !s.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_IMAGE_STORAGE), PathBuf::from);
        let cache_max_days = match vars
            .get("DOWNLOAD_CACHE_MAX_DAYS")
            .filter(|s| !s.is_empty())
        {
            Some(d) => d.parse().map_err(|_| {
                cfg_err(format!(
                    "DOWNLOAD_CACHE_MAX_DAYS={d:?} is not a non-negative integer"
                ))
            })?,
            None => DEFAULT_CACHE_DAYS,
        };
        Ok(Self {
            dir,
            http,
            image_storage,
            cache_max_days,
        })
    }
}

/// Parses `KEY=value` lines: blank lines and `#` comments are skipped, an
/// optional `export ` prefix is allowed, the value is unquoted with shell
/// rules (one word; `$` expansion is not supported).
pub fn parse_assignments(text: &str) -> std::result::Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected KEY=value", n + 1));
        };
        let key_ok = !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if !key_ok {
            return Err(format!("line {}: invalid variable name {key:?}", n + 1));
        }
        let words = shell_words::split(value).map_err(|e| format!("line {}: {key}: {e}", n + 1))?;
        let value = match words.len() {
            0 => String::new(),
            1 => words.into_iter().next().unwrap_or_default(),
            _ => {
                return Err(format!(
                    "line {}: {key}: value has several words; quote it",
                    n + 1
                ))
            }
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

/// Interprets the curl options simpleimage understands. Harmless curl
/// behaviour flags (`-s -S -f -L`, `--silent`, `--fail`, `--location`, …)
/// are what the built-in client does anyway and are accepted; anything
/// else is an error so an operator does not believe an option applies.
pub fn parse_curl_opts(opts: &str) -> std::result::Result<HttpOptions, String> {
    let words = shell_words::split(opts).map_err(|e| format!("CUSTOM_CURL_OPTS: {e}"))?;
    let mut o = HttpOptions::default();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        let (name, inline) = match w.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (w.clone(), None),
        };
        let mut value = |what: &str| -> std::result::Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it
                    .next()
                    .ok_or_else(|| format!("CUSTOM_CURL_OPTS: {what} needs a value")),
            }
        };
        match name.as_str() {
            "--cacert" => o.cacert = Some(PathBuf::from(value("--cacert")?)),
            "--capath" => o.capath = Some(PathBuf::from(value("--capath")?)),
            "-k" | "--insecure" => o.insecure = true,
            "-x" | "--proxy" => o.proxy = Some(value("--proxy")?),
            "--silent" | "--show-error" | "--fail" | "--location" | "--progress-bar" => {}
            s if s.starts_with('-')
                && !s.starts_with("--")
                && s.len() > 1
                && s[1..].chars().all(|c| "sSfLk#".contains(c)) =>
            {
                if s.contains('k') {
                    o.insecure = true;
                }
            }
            other => {
                return Err(format!(
                    "CUSTOM_CURL_OPTS: unsupported option {other:?} (supported: --cacert, \
                     --capath, -k/--insecure, -x/--proxy, -s, -S, -f, -L)"
                ))
            }
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments() {
        let m = parse_assignments(
            "# c\n\nPROXY=http://p:3128\nexport IMAGE_STORAGE='/var/x y'\nCUSTOM_CURL_OPTS=\"-k --cacert /a\"\nE=\n",
        )
        .unwrap();
        assert_eq!(m["PROXY"], "http://p:3128");
        assert_eq!(m["IMAGE_STORAGE"], "/var/x y");
        assert_eq!(m["CUSTOM_CURL_OPTS"], "-k --cacert /a");
        assert_eq!(m["E"], "");
        assert!(parse_assignments("JUNK\n").is_err());
        assert!(parse_assignments("A=b c\n").is_err());
        assert!(parse_assignments("1A=b\n").is_err());
        assert!(parse_assignments("A='open\n").is_err());
    }

    #[test]
    fn curl_opts() {
        let o = parse_curl_opts("-sSk --cacert=/c.pem --capath /d -x http://p:1").unwrap();
        assert!(o.insecure);
        assert_eq!(o.cacert.as_deref(), Some(Path::new("/c.pem")));
        assert_eq!(o.capath.as_deref(), Some(Path::new("/d")));
        assert_eq!(o.proxy.as_deref(), Some("http://p:1"));
        assert!(parse_curl_opts("--insecure").unwrap().cacert.is_none());
        assert!(parse_curl_opts("--cacert").is_err());
        assert!(parse_curl_opts("--compressed").is_err());
    }

    #[test]
    fn load_defaults_and_errors() {
        let d = tempfile::tempdir().unwrap();
        let c = VariantConfig::load(d.path(), "default").unwrap();
        assert_eq!(c.cache_max_days, 7);
        assert_eq!(c.image_storage, Path::new(DEFAULT_IMAGE_STORAGE));
        std::fs::create_dir(d.path().join("v")).unwrap();
        std::fs::write(d.path().join("v/config"), "DOWNLOAD_CACHE_MAX_DAYS=x\n").unwrap();
        assert!(VariantConfig::load(d.path(), "v").is_err());
    }
}
