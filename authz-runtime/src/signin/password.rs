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

/// The hash checked when there is no genuine one to check, made once per process.
static DUMMY: LazyLock<String> = LazyLock::new(|| {
    hash_password("an unknown user's password is never right").unwrap_or_else(|_| String::new())
});

/// Makes the dummy hash that [`verify_password`] checks for unknown users now, rather than on
/// the first sign-in attempt with an unknown name (which would otherwise take one hash longer
/// than any other, and tell that the name is unknown). Call it once at start-up, off the async
/// runtime's threads (it hashes); later calls cost nothing.
///
/// ```
/// authz_runtime::signin::warm_up();
/// ```
pub fn warm_up() {
    LazyLock::force(&DUMMY);
}

/// Whether `password` matches the `stored` hash.
///
/// Every call spends one Argon2 verification, so that the answer takes as long and says no
/// more whatever the case: with no stored hash (an unknown user, or one without a password)
/// and with a stored value that is not a hash at all, the dummy hash is checked all the same
/// and the answer is `false`, as for a wrong password. See [`warm_up`].
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let genuine = stored.and_then(|stored| PasswordHash::new(stored).ok());
    let (hash, known) = match genuine {
        Some(hash) => (hash, true),
        None => match PasswordHash::new(&DUMMY) {
            Ok(dummy) => (dummy, false),
            // Hashing failed at start-up: there is nothing to spend the time on.
            Err(_) => return false,
        },
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok();
    matches && known
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unparseable_stored_hash_answers_as_a_wrong_password_does() {
        warm_up();
        let stored = hash_password("right").unwrap();
        let wrong_password = verify_password("wrong", Some(&stored));
        assert!(!wrong_password);
        for garbage in [
            "",
            "not a hash",
            "$argon2id$",
            "$argon2id$v=19$m=1,t=1,p=1$$",
        ] {
            assert_eq!(
                verify_password("right", Some(garbage)),
                wrong_password,
                "{garbage:?}"
            );
        }
        // Not even the dummy's own password passes for an unknown user.
        assert!(!verify_password(
            "an unknown user's password is never right",
            None
        ));
        assert!(!verify_password(
            "an unknown user's password is never right",
            Some("x")
        ));
        assert!(verify_password("right", Some(&stored)));
    }

    #[test]
    fn warming_up_makes_the_dummy_hash() {
        warm_up();
        assert!(DUMMY.starts_with("$argon2id$"), "{}", *DUMMY);
    }
}
