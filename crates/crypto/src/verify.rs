//! The certificate checks of `gnt-cluster verify`.
//!
//! Ganeti's cluster verification loads each certificate file and reports an
//! error if it cannot be loaded, is expired or expires within
//! [`SSL_CERT_EXPIRATION_ERROR_DAYS`] days, and a warning if it is not yet
//! valid or expires within [`SSL_CERT_EXPIRATION_WARN_DAYS`] days. "Now" is
//! moved forward by the tolerated clock skew between nodes
//! ([`NODE_MAX_CLOCK_SKEW_SECS`]) for the "not yet valid" and "expires in"
//! checks, while "expired" uses the real time. It also warns when a node's
//! client certificate is self-signed (subject CN equal to issuer CN), the
//! state of clusters from before Ganeti 2.16.
//!
//! The checks are pure functions of the certificate and a given "now", so
//! they can be tested at any date; the file-reading wrappers are thin.
//! Messages follow Ganeti's wording, because operators grep for them.

use std::path::Path;

use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use crate::x509::{cert_info_from_pem, CertInfo};

/// Days before expiry from which verification reports a warning.
pub const SSL_CERT_EXPIRATION_WARN_DAYS: i64 = 30;
/// Days before expiry from which verification reports an error.
pub const SSL_CERT_EXPIRATION_ERROR_DAYS: i64 = 7;
/// Tolerated clock difference between nodes, in seconds.
pub const NODE_MAX_CLOCK_SKEW_SECS: i64 = 150;

/// How serious a verification finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertLevel {
    Warning,
    Error,
}

/// The outcome of checking one certificate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertVerdict {
    /// `None`: nothing to report (the message is then informational).
    pub level: Option<CertLevel>,
    /// Ganeti-style message naming the file, e.g. `While verifying
    /// /var/lib/ganeti/server.pem: Certificate expires in about 20 days`.
    /// Empty only when nothing at all can be said.
    pub message: String,
}

/// Checks the certificate in `path` as `gnt-cluster verify` does, at time
/// `now` (pass the current time; times in messages are shown in `now`'s UTC
/// offset).
pub fn verify_cert_file(path: &Path, now: OffsetDateTime) -> CertVerdict {
    let shown = path.display().to_string();
    match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|data| cert_info_from_pem(&data, &shown).map_err(|e| e.to_string()))
    {
        Ok(info) => {
            let (level, msg) = check_validity(&info, now);
            CertVerdict {
                level,
                message: format!("While verifying {shown}: {msg}"),
            }
        }
        Err(err) => CertVerdict {
            level: Some(CertLevel::Error),
            message: format!("Failed to load X509 certificate {shown}: {err}"),
        },
    }
}

/// The validity part of [`verify_cert_file`]: `(level, message)` without
/// the file name.
pub fn check_validity(info: &CertInfo, now: OffsetDateTime) -> (Option<CertLevel>, String) {
    let offset = now.offset();
    let fmt_time = |t: OffsetDateTime| {
        t.to_offset(offset)
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second]"
            ))
            .unwrap_or_else(|_| t.unix_timestamp().to_string())
    };
    if info.not_after < now {
        return (
            Some(CertLevel::Error),
            format!(
                "Certificate is expired (valid from {} to {})",
                fmt_time(info.not_before),
                fmt_time(info.not_after)
            ),
        );
    }
    let skewed = now + Duration::seconds(NODE_MAX_CLOCK_SKEW_SECS);
    if info.not_before > skewed {
        return (
            Some(CertLevel::Warning),
            format!(
                "Certificate not yet valid (valid from {})",
                fmt_time(info.not_before)
            ),
        );
    }
    // Whole days, rounded toward zero like Ganeti's int() of a float.
    let remaining_days = (info.not_after - skewed).whole_days();
    let msg = format!("Certificate expires in about {remaining_days} days");
    let level = if remaining_days <= SSL_CERT_EXPIRATION_ERROR_DAYS {
        Some(CertLevel::Error)
    } else if remaining_days <= SSL_CERT_EXPIRATION_WARN_DAYS {
        Some(CertLevel::Warning)
    } else {
        None
    };
    (level, msg)
}

/// Warns if the client certificate in `path` is self-signed (Ganeti's
/// `IsCertificateSelfSigned`: subject CN equal to issuer CN), errors if it
/// cannot be loaded.
pub fn verify_client_cert_signed(path: &Path) -> CertVerdict {
    let shown = path.display().to_string();
    let info = match std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|data| cert_info_from_pem(&data, &shown).map_err(|e| e.to_string()))
    {
        Ok(info) => info,
        Err(err) => {
            return CertVerdict {
                level: Some(CertLevel::Error),
                message: format!("Failed to load X509 certificate {shown}: {err}"),
            }
        }
    };
    if info.subject_cn == info.issuer_cn {
        CertVerdict {
            level: Some(CertLevel::Warning),
            message: format!(
                "The certificate '{shown}' is self-signed. Please run 'gnt-cluster \
                 renew-crypto --new-node-certificates' to get a properly signed certificate."
            ),
        }
    } else {
        CertVerdict {
            level: None,
            message: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::PublicKeyKind;
    use time::macros::datetime;

    fn info(not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertInfo {
        CertInfo {
            subject_cn: Some("a".into()),
            issuer_cn: Some("a".into()),
            subject: "CN=a".into(),
            issuer: "CN=a".into(),
            serial: "01".into(),
            not_before,
            not_after,
            is_ca: true,
            public_key: PublicKeyKind::Ec { bits: 256 },
            sha1_digest: String::new(),
            sha256_fingerprint: String::new(),
            has_private_key: false,
        }
    }

    const NOW: OffsetDateTime = datetime!(2025-06-01 12:00:00 UTC);

    #[test]
    fn fresh_certificate_is_fine() {
        let i = info(NOW, NOW + Duration::days(1825));
        let (level, msg) = check_validity(&i, NOW);
        assert_eq!(level, None);
        assert_eq!(msg, "Certificate expires in about 1824 days");
    }

    #[test]
    fn thresholds() {
        // 31 days left (minus the skew -> 30 whole days): warning.
        let (l, m) = check_validity(
            &info(NOW - Duration::days(1), NOW + Duration::days(31)),
            NOW,
        );
        assert_eq!(l, Some(CertLevel::Warning), "{m}");
        assert_eq!(m, "Certificate expires in about 30 days");
        // 32 days: fine.
        let (l, _) = check_validity(
            &info(NOW - Duration::days(1), NOW + Duration::days(32)),
            NOW,
        );
        assert_eq!(l, None);
        // 8 days -> 7 whole days after skew: error.
        let (l, m) = check_validity(&info(NOW - Duration::days(1), NOW + Duration::days(8)), NOW);
        assert_eq!(l, Some(CertLevel::Error), "{m}");
        // 9 days -> 8: warning.
        let (l, _) = check_validity(&info(NOW - Duration::days(1), NOW + Duration::days(9)), NOW);
        assert_eq!(l, Some(CertLevel::Warning));
    }

    #[test]
    fn expired_is_error_with_period() {
        let (l, m) = check_validity(
            &info(
                datetime!(2020-01-01 0:00 UTC),
                datetime!(2025-01-01 0:00 UTC),
            ),
            NOW,
        );
        assert_eq!(l, Some(CertLevel::Error));
        assert_eq!(
            m,
            "Certificate is expired (valid from 2020-01-01 00:00:00 to 2025-01-01 00:00:00)"
        );
    }

    #[test]
    fn not_yet_valid_respects_clock_skew() {
        // 100 s in the future: within the tolerated skew, fine.
        let (l, _) = check_validity(
            &info(NOW + Duration::seconds(100), NOW + Duration::days(100)),
            NOW,
        );
        assert_eq!(l, None);
        // One hour ahead: warning.
        let (l, m) = check_validity(
            &info(NOW + Duration::hours(1), NOW + Duration::days(100)),
            NOW,
        );
        assert_eq!(l, Some(CertLevel::Warning));
        assert_eq!(
            m,
            "Certificate not yet valid (valid from 2025-06-01 13:00:00)"
        );
    }

    #[test]
    fn unreadable_file_is_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("missing.pem");
        let v = verify_cert_file(&p, NOW);
        assert_eq!(v.level, Some(CertLevel::Error));
        assert!(
            v.message.starts_with("Failed to load X509 certificate"),
            "{}",
            v.message
        );
        std::fs::write(&p, b"garbage").expect("write");
        let v = verify_cert_file(&p, NOW);
        assert_eq!(v.level, Some(CertLevel::Error));
        assert!(v.message.contains("no certificate found"), "{}", v.message);
        let v = verify_client_cert_signed(&p);
        assert_eq!(v.level, Some(CertLevel::Error));
    }
}
