//! Shared secrets in Ganeti's text format (`hmac.key`,
//! `cluster-domain-secret`).
//!
//! Ganeti writes both as the lowercase hexadecimal form of 20 bytes from the
//! operating system's random source (the length of a SHA-1 digest), followed
//! by a newline; confd and the import/export code read the first line. We
//! produce exactly that, from the OS generator (`OsRng`, i.e. `getrandom`),
//! so files are interchangeable with a Ganeti cluster's.
//!
//! A cluster domain secret can also be supplied by the operator (it must be
//! equal across clusters that move instances between them). Ganeti stores
//! such a file as it is; we do too, but refuse input that cannot be a secret
//! (empty, blank, not text) rather than silently installing it.

use rand::rngs::OsRng;
use rand::RngCore;

use crate::CryptoError;

/// Number of random bytes in a generated secret (Ganeti's `GenerateSecret`).
pub const SECRET_BYTES: usize = 20;

/// A new random secret: `SECRET_BYTES` random bytes as lowercase hex.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The full content of a freshly generated secret file (secret + `\n`).
pub(crate) fn generate_secret_file_contents() -> Vec<u8> {
    let mut s = generate_secret();
    s.push('\n');
    s.into_bytes()
}

/// Checks a user-supplied secret file's content. Never echoes the content.
pub(crate) fn validate_user_secret(data: &[u8], origin: &str) -> Result<(), CryptoError> {
    let invalid = |reason| CryptoError::InvalidSecret {
        origin: origin.to_owned(),
        reason,
    };
    let text = std::str::from_utf8(data).map_err(|_| invalid("the file is not text (UTF-8)"))?;
    if text.contains('\0') {
        return Err(invalid("the file contains NUL bytes"));
    }
    if text.trim().is_empty() {
        return Err(invalid("the file is empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_forty_lowercase_hex_digits() {
        let s = generate_secret();
        assert_eq!(s.len(), 2 * SECRET_BYTES);
        assert!(
            s.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{s}"
        );
    }

    #[test]
    fn file_contents_end_with_one_newline() {
        let c = generate_secret_file_contents();
        assert_eq!(c.len(), 2 * SECRET_BYTES + 1);
        assert_eq!(c.last(), Some(&b'\n'));
        assert!(!c[..c.len() - 1].contains(&b'\n'));
    }

    #[test]
    fn secrets_differ() {
        assert_ne!(generate_secret(), generate_secret());
    }

    #[test]
    fn user_secret_validation() {
        validate_user_secret(b"0123abcd\n", "f").expect("fine");
        for bad in [&b""[..], b"  \n\t", b"\xff\xfe", b"ab\0cd"] {
            let err = validate_user_secret(bad, "f").expect_err("must be refused");
            assert!(matches!(err, CryptoError::InvalidSecret { .. }), "{err:?}");
        }
    }

    #[test]
    fn refusal_does_not_echo_content() {
        let err = validate_user_secret(b"s3cr3t\0", "cds-file").expect_err("refused");
        let msg = err.to_string();
        assert!(!msg.contains("s3cr3t"), "{msg}");
        assert!(msg.contains("cds-file"), "{msg}");
    }
}
