//! Password storage: Argon2id (through the `argon2` crate), checked in constant time.

use std::cell::RefCell;
use std::sync::LazyLock;

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};

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
    let matches = recompute(password, &hash).is_some_and(|output| match hash.hash {
        Some(expected) => same(expected.as_bytes(), &output),
        None => false,
    });
    matches && known
}

/// The most memory a stored hash may ask for, in KiB (the default asks for 19 MiB).
const MAX_MEMORY_KIB: u32 = 256 * 1024;

thread_local! {
    /// Each thread's Argon2 memory, kept from one check to the next: allocated afresh for
    /// every check, 19 MiB each time, the allocator keeps much of it per thread and the
    /// process grows by far more than the checks running at once need.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` with `hash`'s algorithm, version, parameters and salt, computed in
/// this thread's kept memory: `None` when `hash` is not one to recompute.
fn recompute(password: &str, hash: &PasswordHash) -> Option<Vec<u8>> {
    let params = Params::try_from(hash).ok()?;
    if params.m_cost() > MAX_MEMORY_KIB {
        return None;
    }
    let algorithm = Algorithm::try_from(hash.algorithm.as_str()).ok()?;
    let version = match hash.version {
        Some(version) => Version::try_from(version).ok()?,
        None => Version::default(),
    };
    let salt = hash.salt.as_ref()?;
    let mut output = vec![0; hash.hash.as_ref()?.as_bytes().len()];
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    MEMORY.with_borrow_mut(|memory| {
        memory.resize(blocks, Block::new());
        argon2
            .hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut output,
                &mut memory[..blocks],
            )
            .ok()
    })?;
    Some(output)
}

/// Equal, in time that depends on the lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
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
