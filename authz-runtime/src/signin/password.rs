//! Password storage: Argon2id (through the `argon2` crate), checked in constant time.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::Error;

/// Hashes `password` with Argon2id and a random salt, as a PHC string to store
/// (`$argon2id$v=19$…`). Slow on purpose (tens of milliseconds): call it off the async
/// runtime's threads, e.g. in `tokio::task::spawn_blocking`.
///
/// ```
/// use authz_runtime::signin::{hash_password, verify_password};
///
/// let stored = hash_password("correct horse battery staple").unwrap();
/// assert!(stored.starts_with("$argon2id$"));
/// assert!(verify_password("correct horse battery staple", Some(&stored)));
/// assert!(!verify_password("Tr0ub4dor&3", Some(&stored)));
/// ```
pub fn hash_password(password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| Error::authenticator(format!("hashing a password failed: {error}")))
}

/// Whether `password` matches the `stored` hash. With no stored hash (an unknown user, or one
/// without a password) a dummy hash is checked all the same, so that the answer takes as long
/// and says no more than for a wrong password.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: LazyLock<String> = LazyLock::new(|| {
        hash_password("an unknown user's password is never right").unwrap_or_else(|_| String::new())
    });
    let (hash, known) = match stored {
        Some(stored) => (stored, true),
        None => (DUMMY.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && known
}
