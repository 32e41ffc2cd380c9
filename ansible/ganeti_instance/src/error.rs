//! What can go wrong, as the message Ansible shows (`msg`). None of them
//! carries the password: the client never puts it into a message.

/// A failure of the module run.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// Bad or missing module arguments.
    #[error("{0}")]
    Args(String),
    /// The RAPI could not be reached or spoke no HTTP.
    #[error("Cannot reach the Ganeti RAPI at {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The RAPI refused the credentials.
    #[error("The Ganeti RAPI at {url} refused the credentials of user '{user}' (HTTP {status})")]
    Auth {
        url: String,
        user: String,
        status: u16,
    },
    /// Any other HTTP error from the RAPI, with Ganeti's explanation.
    #[error("Ganeti RAPI {method} {path} failed (HTTP {status}): {message}")]
    Http {
        method: String,
        path: String,
        status: u16,
        message: String,
    },
    /// A TLS setting that cannot be used (CA file).
    #[error("{0}")]
    Tls(String),
    /// The job ended in error.
    #[error("Ganeti job {job_id} failed: {message}")]
    JobFailed { job_id: u64, message: String },
    /// The job did not end in time.
    #[error(
        "Ganeti job {job_id} is still running after {timeout} s; it may still succeed \
         (follow it with gnt-job watch {job_id} or GET /2/jobs/{job_id})"
    )]
    JobTimeout { job_id: u64, timeout: u64 },
    /// The instance must exist for the requested state.
    #[error("Instance '{name}' does not exist; state={state} needs an existing instance")]
    Missing { name: String, state: String },
    /// An answer that is not what Ganeti's RAPI sends.
    #[error("Unexpected answer from the Ganeti RAPI: {0}")]
    Protocol(String),
}

impl ModuleError {
    /// The job this failure is about, for the result's `job_id`.
    pub fn job_id(&self) -> Option<u64> {
        match self {
            ModuleError::JobFailed { job_id, .. } | ModuleError::JobTimeout { job_id, .. } => {
                Some(*job_id)
            }
            _ => None,
        }
    }
}
