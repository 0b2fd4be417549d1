//! What a user may do: the groups they belong to and the permissions those groups grant.

use std::fmt;

/// The groups of a user and the permissions those groups grant, as one store lookup returns
/// them. Permissions come only through groups.
///
/// ```
/// use authz_runtime::Grants;
///
/// let grants = Grants::new(["admins", "developers"], ["edit-site", "commit"]);
/// assert!(grants.in_group("admins"));
/// assert!(grants.has_permission("commit"));
/// assert!(!grants.has_permission("see-site"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    groups: Names,
    permissions: Names,
    account: Option<Account>,
}

/// The account a user name belongs to at the time of the lookup: its key, which a new user of
/// the same name never shares, and its session generation, which moves on whenever the
/// account's sessions are ended (sign-out, a new password). A session made for an account
/// stays valid only while both are the same: see `signin::TicketAuthenticator::with_sessions`.
///
/// ```
/// use authz_runtime::{Account, Grants};
///
/// let grants = Grants::new(["admins"], ["manage"]).with_account(Account::new(7, 0));
/// assert_eq!(grants.account(), Some(Account::new(7, 0)));
/// assert_ne!(grants.account(), Some(Account::new(7, 1)), "its sessions were ended since");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Account {
    /// The account's key (the users table's `user_id`).
    pub id: i64,
    /// How many times its sessions were ended.
    pub generation: i64,
}

impl Account {
    /// The account `id` at session generation `generation`.
    pub const fn new(id: i64, generation: i64) -> Self {
        Self { id, generation }
    }
}

impl Grants {
    /// Grants of these groups and permissions.
    pub fn new<G, P>(groups: G, permissions: P) -> Self
    where
        G: IntoIterator,
        G::Item: Into<Box<str>>,
        P: IntoIterator,
        P::Item: Into<Box<str>>,
    {
        Self {
            groups: Names::new(groups),
            permissions: Names::new(permissions),
            account: None,
        }
    }

    /// The same grants, for the account `account` (stores that know accounts say which).
    #[must_use]
    pub fn with_account(mut self, account: Account) -> Self {
        self.account = Some(account);
        self
    }

    /// The account the grants belong to, when the store knows accounts (`sql::SqlStore` does).
    pub fn account(&self) -> Option<Account> {
        self.account
    }

    /// Whether the user belongs to `group`.
    #[inline]
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.contains(group)
    }

    /// Whether one of the user's groups grants `permission`.
    #[inline]
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// Whether the user belongs to `group`, whose key is known while compiling.
    #[inline]
    pub(crate) fn in_group_keyed(&self, group: &KeyedName) -> bool {
        self.groups.contains_keyed(group)
    }

    /// Whether one of the user's groups grants `permission`, whose key is known while
    /// compiling.
    #[inline]
    pub(crate) fn has_permission_keyed(&self, permission: &KeyedName) -> bool {
        self.permissions.contains_keyed(permission)
    }

    /// The user's groups, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.iter()
    }

    /// The user's permissions, in no particular order.
    pub fn permissions(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter()
    }
}

/// Sets up to this size are searched in order: for the handful of groups most users have, a
/// scan of comparisons beats hashing the name. Larger sets are hashed.
const SCANNED: usize = 8;

/// A set of names: sorted, each once, with a hash index when there are many.
#[derive(Clone, Default)]
struct Names {
    sorted: Box<[Box<str>]>,
    /// The [`Key`] of each name of `sorted`, in the same order: what a scan compares.
    keys: Box<[Key]>,
    /// The [`bit`](Key::bit)s of `keys`, or'ed: most names that are not here miss one, and
    /// are told absent without a scan (a deny-list group such as `banned`, in the usual case).
    bits: u64,
    index: Option<foldhash::HashSet<Box<str>>>,
}

impl Names {
    fn new<I>(names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Box<str>>,
    {
        let mut sorted: Vec<Box<str>> = names.into_iter().map(Into::into).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let index = (sorted.len() > SCANNED).then(|| sorted.iter().cloned().collect());
        let keys: Box<[Key]> = sorted.iter().map(|name| Key::of(name)).collect();
        Self {
            bits: keys.iter().fold(0, |bits, key| bits | key.bit),
            keys,
            sorted: sorted.into_boxed_slice(),
            index,
        }
    }

    #[inline]
    fn contains(&self, name: &str) -> bool {
        self.contains_keyed(&KeyedName::new(name))
    }

    #[inline]
    fn contains_keyed(&self, name: &KeyedName<'_>) -> bool {
        match &self.index {
            Some(index) => index.contains(name.text),
            None if self.bits & name.key.bit == 0 => false,
            None => match self.keys.iter().position(|known| known.same(&name.key)) {
                // A key tells names of up to 16 bytes apart; longer ones are compared.
                Some(at) => name.text.len() <= Key::EXACT || *self.sorted[at] == *name.text,
                None => false,
            },
        }
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.sorted.iter().map(|name| &**name)
    }
}

impl PartialEq for Names {
    fn eq(&self, other: &Self) -> bool {
        // The keys and the index follow from the names.
        self.sorted == other.sorted
    }
}

impl Eq for Names {}

/// A name with its [`Key`]: what a rule's program looks up, its key worked out while compiling.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyedName<'a> {
    text: &'a str,
    key: Key,
}

impl<'a> KeyedName<'a> {
    pub(crate) const fn new(text: &'a str) -> Self {
        Self {
            text,
            key: Key::of(text),
        }
    }

    /// The name.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &'a str {
        self.text
    }
}

/// A name's length and up to 16 of its bytes in two words, so that a scan of a user's groups
/// compares three words a group, with no call to `memcmp` and no loop over bytes. Two names of
/// up to [`EXACT`](Key::EXACT) bytes are equal exactly when their keys are; two longer names
/// with the same key have the same first and last eight bytes.
#[derive(Debug, Clone, Copy)]
struct Key {
    len: u64,
    head: u64,
    tail: u64,
    /// One of 64 bits, picked by the words above: equal keys have the same bit, so a set
    /// without a name's bit does not hold the name.
    bit: u64,
}

impl Key {
    /// Names up to this long are told apart by their keys alone.
    const EXACT: usize = 16;

    /// The key of `name`: from 8 bytes, its first and its last eight (which overlap below
    /// 16); below that, every byte, in the first word. Every load is within the name.
    #[inline(always)]
    const fn of(name: &str) -> Self {
        let bytes = name.as_bytes();
        let n = bytes.len();
        let (head, tail) = match n {
            0 => (0, 0),
            1..=3 => (
                bytes[0] as u64 | (bytes[n / 2] as u64) << 8 | (bytes[n - 1] as u64) << 16,
                0,
            ),
            4..=7 => (load::<4>(bytes, 0) | load::<4>(bytes, n - 4) << 32, 0),
            _ => (load::<8>(bytes, 0), load::<8>(bytes, n - 8)),
        };
        let len = n as u64;
        // The top six bits of a multiplicative hash of the three words.
        let mixed = (head ^ tail.rotate_left(29) ^ len).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self {
            len,
            head,
            tail,
            bit: 1 << (mixed >> 58),
        }
    }

    /// Whether the keys are the same, without a branch per word.
    #[inline(always)]
    fn same(&self, other: &Self) -> bool {
        (self.len ^ other.len) | (self.head ^ other.head) | (self.tail ^ other.tail) == 0
    }
}

/// The `W` (4 or 8) bytes of `bytes` from `at`, little-endian: a `const` form of
/// `u64::from_le_bytes`.
#[inline(always)]
const fn load<const W: usize>(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    let mut index = 0;
    while index < W {
        word[index] = bytes[at + index];
        index += 1;
    }
    u64::from_le_bytes(word)
}

/// The `W` bytes of `bytes` from `at`.
#[inline(always)]
fn word<const W: usize>(bytes: &[u8], at: usize) -> [u8; W] {
    let mut word = [0; W];
    word.copy_from_slice(&bytes[at..at + W]);
    word
}

/// Whether two names are equal: `a == b`, without a call to `memcmp` for the short names of
/// users, groups and permissions. Names of up to 16 bytes are compared as two overlapping
/// words (or, under 4 bytes, byte by byte), all loads within the names.
#[inline(always)]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4),
        8..=16 => word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8),
        _ => a == b,
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_sets_answer_alike() {
        for size in [0, 1, SCANNED, SCANNED + 1, 100] {
            let names: Vec<String> = (0..size).map(|n| format!("group-{n:03}")).collect();
            let grants = Grants::new(names.iter().map(String::as_str), ["manage"]);
            for name in &names {
                assert!(grants.in_group(name), "{name} in {size}");
            }
            assert!(!grants.in_group("group-999"));
            assert!(!grants.in_group("group"));
            assert!(!grants.in_group(""));
            assert!(grants.has_permission("manage"));
            assert!(!grants.has_permission("manag"));
            assert_eq!(grants.groups().count(), size);
        }
    }

    #[test]
    fn the_bits_of_a_set_never_hide_a_member_nor_admit_a_stranger() {
        // Small sets, so that each is scanned: some absent names share a member's bit and are
        // turned away by the scan, the rest by the bits alone.
        let names: Vec<String> = (0..300).map(|n| format!("team-{n}")).collect();
        for members in names.chunks(SCANNED) {
            let grants = Grants::new(members.iter().map(String::as_str), ["read"]);
            for name in &names {
                let member = members.contains(name);
                assert_eq!(grants.in_group(name), member, "{name}");
                assert_eq!(
                    grants.in_group_keyed(&KeyedName::new(name)),
                    member,
                    "{name}, keyed"
                );
            }
        }
    }

    #[test]
    fn repeats_count_once_and_order_does_not_matter() {
        let one = Grants::new(["b", "a", "a"], ["x"]);
        let other = Grants::new(["a", "b"], ["x", "x"]);
        assert_eq!(one, other);
        assert_eq!(one.groups().collect::<Vec<_>>(), ["a", "b"]);
        assert_ne!(one, Grants::new(["a"], ["x"]));
    }

    #[test]
    fn names_are_equal_exactly_when_every_byte_is() {
        for length in 0..40 {
            let name: String = (0..length)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            assert!(same_name(&name, &name.clone()), "{name}");
            assert!(
                !same_name(&name, &format!("{name}x")),
                "{name} is not {name}x"
            );
            for at in 0..length {
                let mut other = name.clone().into_bytes();
                other[at] = b'-';
                let other = String::from_utf8(other).unwrap();
                assert!(!same_name(&name, &other), "{name} is not {other}");
            }
        }
    }
}
