//! The OS parameters `image` and `image_type` (env `OSP_IMAGE`,
//! `OSP_IMAGE_TYPE`): parsing and the checks `verify` runs, shared with
//! `create` so both refuse the same values with the same message.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// How the image bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    /// A raw disk image.
    Raw,
    /// Raw, gzip-compressed.
    RawGz,
    /// Raw, bzip2-compressed.
    RawBzip2,
    /// Raw, xz-compressed.
    RawXz,
    /// A qcow2 image, converted with `qemu-img`.
    Qcow2,
}

/// The accepted `image_type` values, for messages.
pub const IMAGE_TYPES: &str = "raw, raw+gz, raw+bzip2, raw+xz, qcow2";

impl ImageType {
    /// Parses an `image_type` value.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "raw" => Self::Raw,
            "raw+gz" | "raw+gzip" => Self::RawGz,
            "raw+bzip2" | "raw+bz2" => Self::RawBzip2,
            "raw+xz" => Self::RawXz,
            "qcow2" => Self::Qcow2,
            other => {
                return Err(Error::Usage(format!(
                    "invalid image_type {other:?}: expected one of {IMAGE_TYPES}"
                )))
            }
        })
    }

    /// The type implied by a file name when `image_type` is not set.
    pub fn from_name(name: &str) -> Self {
        let n = name.to_ascii_lowercase();
        if n.ends_with(".gz") || n.ends_with(".tgz") {
            Self::RawGz
        } else if n.ends_with(".bz2") {
            Self::RawBzip2
        } else if n.ends_with(".xz") {
            Self::RawXz
        } else if n.ends_with(".qcow2") {
            Self::Qcow2
        } else {
            Self::Raw
        }
    }
}

/// Where the image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file (or device) on this node.
    Path(PathBuf),
    /// An http:// or https:// URL.
    Url(String),
}

impl Source {
    /// Parses an `image` value: an absolute path or an http(s) URL.
    pub fn parse(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let rest = &s[s.find("://").map_or(0, |i| i + 3)..];
            if rest.is_empty() || rest.starts_with('/') {
                return Err(Error::Usage(format!("invalid image URL {s:?}: no host")));
            }
            Ok(Self::Url(s.to_string()))
        } else if s.contains("://") {
            Err(Error::Usage(format!(
                "invalid image {s:?}: only http:// and https:// URLs are supported"
            )))
        } else if Path::new(s).is_absolute() {
            Ok(Self::Path(PathBuf::from(s)))
        } else {
            Err(Error::Usage(format!(
                "invalid image {s:?}: expected an absolute path or an http(s) URL"
            )))
        }
    }

    /// The name used to guess the type and for messages (URLs without
    /// query string or credentials).
    pub fn display(&self) -> String {
        match self {
            Self::Path(p) => p.display().to_string(),
            Self::Url(u) => redact_url(u),
        }
    }
}

/// Drops `user:password@` from a URL so it never reaches a log.
pub fn redact_url(u: &str) -> String {
    let Some(scheme_end) = u.find("://") else {
        return u.to_string();
    };
    let rest = &u[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}://***@{}", &u[..scheme_end], &rest[at + 1..]),
        None => u.to_string(),
    }
}

/// The parsed OS parameters.
#[derive(Debug, Clone)]
pub struct Params {
    /// The image source.
    pub source: Source,
    /// Its encoding.
    pub image_type: ImageType,
}

impl Params {
    /// Reads `image` and `image_type` from their values; `image` is required.
    pub fn from_values(image: Option<&str>, image_type: Option<&str>) -> Result<Self> {
        let image_type = match image_type.filter(|s| !s.is_empty()) {
            Some(t) => Some(ImageType::parse(t)?),
            None => None,
        };
        let image = image.filter(|s| !s.is_empty()).ok_or_else(|| {
            Error::Usage("OS parameter 'image' is not set (a path or an http(s) URL)".into())
        })?;
        let source = Source::parse(image)?;
        let image_type = image_type.unwrap_or_else(|| {
            let name = match &source {
                Source::Path(p) => p.to_string_lossy().into_owned(),
                Source::Url(u) => u.split(['?', '#']).next().unwrap_or("").to_string(),
            };
            ImageType::from_name(&name)
        });
        Ok(Self { source, image_type })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_sources() {
        assert_eq!(ImageType::parse("raw+xz").unwrap(), ImageType::RawXz);
        assert!(ImageType::parse("zip").is_err());
        assert_eq!(ImageType::from_name("a.img.GZ"), ImageType::RawGz);
        assert!(Source::parse("relative/x").is_err());
        assert!(Source::parse("ftp://h/x").is_err());
        assert!(Source::parse("http:///x").is_err());
        assert!(matches!(
            Source::parse("https://h/x").unwrap(),
            Source::Url(_)
        ));
        let p = Params::from_values(Some("http://h/d.qcow2?x=1"), None).unwrap();
        assert_eq!(p.image_type, ImageType::Qcow2);
        assert!(Params::from_values(None, Some("raw")).is_err());
        assert!(Params::from_values(Some("/x"), Some("bad")).is_err());
    }

    #[test]
    fn redaction() {
        assert_eq!(redact_url("http://u:p@h:1/x@y"), "http://***@h:1/x@y");
        assert_eq!(redact_url("http://h/x"), "http://h/x");
    }
}
