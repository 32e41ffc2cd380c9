//! HTTP Basic authentication against the users file, and the access check.
//!
//! Ganeti accepts only Basic (the `Digest` branch was never written), with
//! the fixed realm `Ganeti Remote API`; `{HA1}` passwords are the RFC 2617
//! H(A1) digest for that realm, which is why the realm can never change.
//! Comparisons run in constant time (`subtle`) so response timing does not
//! reveal how much of a password or hash was right, and an unknown user
//! costs the same comparison as a known one.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq;

use crate::error::RapiError;
use crate::routes::Access;
use crate::users::{StoredPassword, User, UserTable};

/// The authentication realm (part of every `{HA1}` hash).
pub const REALM: &str = "Ganeti Remote API";

/// The `WWW-Authenticate` value sent with every 401.
pub const CHALLENGE: &str = "Basic realm=\"Ganeti Remote API\"";

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// `Authorization: Basic` without the credentials part (400).
    #[error("Basic authentication requires credentials")]
    MissingCredentials,
    /// No usable credentials, unknown user or wrong password (401).
    #[error("invalid or missing credentials")]
    Unauthorized,
    /// Authenticated, but the user lacks the option the resource needs (403).
    #[error("user lacks the required option")]
    Forbidden,
}

impl AuthError {
    /// The HTTP error Ganeti answers with.
    pub fn to_rapi(&self) -> RapiError {
        match self {
            AuthError::MissingCredentials => RapiError::bad_request(self.to_string()),
            AuthError::Unauthorized => RapiError::plain(401),
            AuthError::Forbidden => RapiError::plain(403),
        }
    }
}

/// User name and password from a Basic `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The user name.
    pub user: String,
    /// The password (never logged).
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Parse an `Authorization` header value.
///
/// `Ok(None)` means "no usable credentials" (another scheme, undecodable
/// base64, no `:`, not ASCII), which is a 401 like a wrong password.
pub fn parse_authorization(value: &[u8]) -> Result<Option<BasicCredentials>, AuthError> {
    let Ok(text) = std::str::from_utf8(value) else {
        return Ok(None);
    };
    let mut parts = text.split_whitespace();
    let Some(scheme) = parts.next() else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let Some(encoded) = parts.next() else {
        return Err(AuthError::MissingCredentials);
    };
    Ok(decode_basic(encoded))
}

/// Decode `base64(user:password)`. Like Python's lenient `b64decode`,
/// characters outside the base64 alphabet are skipped; the result must be
/// ASCII, as Ganeti requires.
fn decode_basic(encoded: &str) -> Option<BasicCredentials> {
    let cleaned: String = encoded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cleaned)
        .ok()?;
    if !bytes.is_ascii() {
        return None;
    }
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    Some(BasicCredentials {
        user: user.to_owned(),
        password: password.to_owned(),
    })
}

/// The `{HA1}` digest of a user's password: hex MD5 of
/// `user:Ganeti Remote API:password`.
pub fn ha1_hex(user: &str, password: &str) -> String {
    let mut h = Md5::new();
    h.update(user.as_bytes());
    h.update(b":");
    h.update(REALM.as_bytes());
    h.update(b":");
    h.update(password.as_bytes());
    hex::encode(h.finalize())
}

/// Whether `given` is the password `stored` describes for `user`.
pub fn password_matches(user: &str, given: &str, stored: &StoredPassword) -> bool {
    match stored {
        StoredPassword::Cleartext(expected) => given.as_bytes().ct_eq(expected.as_bytes()).into(),
        StoredPassword::Ha1(expected) => {
            let expected = expected.to_ascii_lowercase();
            ha1_hex(user, given)
                .as_bytes()
                .ct_eq(expected.as_bytes())
                .into()
        }
        StoredPassword::Unusable => false,
    }
}

/// Whether a user's options grant `access` (`write` counts as `read`).
pub fn grants(user: &User, access: Access) -> bool {
    match access {
        Access::Public => true,
        Access::Read => user.has_option("read") || user.has_option("write"),
        Access::Write => user.has_option("write"),
    }
}

/// Check the `Authorization` header (`None` when absent) against `users`:
/// the authenticated user, or why not. Access is checked separately with
/// [`grants`], because with `--require-authentication` Ganeti checks the
/// password before it even looks the path up.
pub fn authenticate<'t>(
    users: &'t UserTable,
    header: Option<&[u8]>,
) -> Result<&'t User, AuthError> {
    let creds = parse_authorization(header.ok_or(AuthError::Unauthorized)?)?
        .ok_or(AuthError::Unauthorized)?;
    match users.get(&creds.user) {
        Some(user) if password_matches(&user.name, &creds.password, &user.password) => Ok(user),
        Some(_) => Err(AuthError::Unauthorized),
        None => {
            // Spend the same work as for a known user.
            let _ = password_matches(&creds.user, &creds.password, &UNKNOWN_USER_DECOY);
            Err(AuthError::Unauthorized)
        }
    }
}

const UNKNOWN_USER_DECOY: StoredPassword = StoredPassword::Ha1(String::new());

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_pass: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_pass)
        )
        .into_bytes()
    }

    fn table(text: &str) -> UserTable {
        UserTable::parse(text).0
    }

    #[test]
    fn ha1_matches_ganeti() {
        // python3 -c 'import hashlib; print(hashlib.md5(b"jack:Ganeti Remote API:abc123").hexdigest())'
        assert_eq!(
            ha1_hex("jack", "abc123"),
            "54c12257ee9be413f2f3182435514aae"
        );
    }

    #[test]
    fn every_password_form() {
        let ha1 = ha1_hex("h", "pw");
        let users = table(&format!(
            "c pw\nct {{CLEARTEXT}}pw\nctl {{cleartext}}pw\nh {{HA1}}{ha1}\n\
             hu {{ha1}}{}\nx {{SSHA}}pw\ne {{}}pw\n",
            ha1_hex("hu", "pw").to_uppercase()
        ));
        for user in ["c", "ct", "ctl", "h", "hu"] {
            let hdr = basic(&format!("{user}:pw"));
            assert!(authenticate(&users, Some(&hdr)).is_ok(), "{user}");
            let hdr = basic(&format!("{user}:wrong"));
            assert_eq!(
                authenticate(&users, Some(&hdr)),
                Err(AuthError::Unauthorized),
                "{user}"
            );
        }
        for user in ["x", "e"] {
            let hdr = basic(&format!("{user}:pw"));
            assert_eq!(
                authenticate(&users, Some(&hdr)),
                Err(AuthError::Unauthorized),
                "unknown scheme never matches: {user}"
            );
        }
    }

    #[test]
    fn ha1_is_bound_to_the_user_name() {
        // The hash of alice's password does not work under another name.
        let users = table(&format!("bob {{HA1}}{}\n", ha1_hex("alice", "pw")));
        assert_eq!(
            authenticate(&users, Some(&basic("bob:pw"))),
            Err(AuthError::Unauthorized)
        );
    }

    #[test]
    fn cleartext_prefix_is_not_enough() {
        let users = table("u secret\n");
        for pw in ["secre", "secrets", "", "SECRET"] {
            let hdr = basic(&format!("u:{pw}"));
            assert!(authenticate(&users, Some(&hdr)).is_err(), "{pw}");
        }
        // The password may contain ':' (only the first one separates).
        let users = table("u a:b\n");
        assert!(authenticate(&users, Some(&basic("u:a:b"))).is_ok());
    }

    #[test]
    fn header_forms() {
        let users = table("u pw\n");
        assert!(authenticate(&users, Some(b"basic dTpwdw==")).is_ok());
        assert!(authenticate(&users, Some(b"  BASIC   dTpwdw==  ")).is_ok());
        assert_eq!(
            authenticate(&users, Some(b"Basic")),
            Err(AuthError::MissingCredentials)
        );
        assert_eq!(
            authenticate(&users, Some(b"Basic   ")),
            Err(AuthError::MissingCredentials)
        );
        for bad in [
            &b""[..],
            b"Digest username=\"u\"",
            b"Bearer abc",
            b"Basic !!!!",
            b"Basic dTpwdw",   // bad padding
            b"Basic dXB3",     // "upw": no ':'
            b"Basic w6k6cHc=", // non-ASCII user
            b"Basic \xff\xfe", // not UTF-8
        ] {
            assert_eq!(
                authenticate(&users, Some(bad)),
                Err(AuthError::Unauthorized),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(authenticate(&users, None), Err(AuthError::Unauthorized));
        assert_eq!(
            authenticate(&users, Some(&basic("nobody:pw"))),
            Err(AuthError::Unauthorized)
        );
    }

    #[test]
    fn options_grant_access() {
        let users = table("r pw read\nw pw write\nn pw\nrw pw read,write\n");
        let get = |n: &str| users.get(n).unwrap().clone();
        assert!(grants(&get("n"), Access::Public));
        assert!(!grants(&get("n"), Access::Read));
        assert!(!grants(&get("n"), Access::Write));
        assert!(grants(&get("r"), Access::Read));
        assert!(!grants(&get("r"), Access::Write));
        assert!(grants(&get("w"), Access::Read));
        assert!(grants(&get("w"), Access::Write));
        assert!(grants(&get("rw"), Access::Write));
    }

    #[test]
    fn errors_map_to_ganeti_statuses_without_secrets() {
        assert_eq!(AuthError::MissingCredentials.to_rapi().code, 400);
        assert_eq!(
            AuthError::MissingCredentials.to_rapi().message,
            "Basic authentication requires credentials"
        );
        assert_eq!(AuthError::Unauthorized.to_rapi().code, 401);
        assert_eq!(AuthError::Forbidden.to_rapi().code, 403);
        let creds = parse_authorization(&basic("u:topsecret")).unwrap().unwrap();
        assert!(!format!("{creds:?}").contains("topsecret"));
    }
}
