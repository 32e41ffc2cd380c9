//! One error type for the whole provider. Every message is printed on
//! stderr (which Ganeti appends to the OS log and shows the tail of on
//! failure), so each variant says what was being done and with which file.

use std::path::PathBuf;

/// Errors of the simpleimage provider.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad invocation, environment or OS parameter.
    #[error("{0}")]
    Usage(String),
    /// A variant config file could not be read or parsed.
    #[error("config {path}: {msg}")]
    Config { path: PathBuf, msg: String },
    /// I/O on a named file.
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The image does not fit on the disk.
    #[error("image is larger than the disk: {image} bytes (at least) > disk {disk} bytes")]
    TooLarge { image: u64, disk: u64 },
    /// Reading or decompressing the image failed (truncated/corrupt data).
    #[error("reading image {image}: {source}")]
    Image {
        image: String,
        #[source]
        source: std::io::Error,
    },
    /// An HTTP(S) transfer failed.
    #[error("downloading {url}: {msg}")]
    Http { url: String, msg: String },
    /// An external command (qemu-img, losetup, a hook) failed.
    #[error("{0}")]
    Command(String),
}

/// Result alias.
pub type Result<T> = std::result::Result<T, Error>;

/// Helper to attach a path and an action to an I/O error.
pub fn io(what: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { what, path, source }
}
