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
        }
    }

    /// Whether the user belongs to `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.contains(group)
    }

    /// Whether one of the user's groups grants `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// The user's groups, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.iter()
    }

    /// The user's permissions, in no particular order.
    pub fn permissions(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter()
    }

    /// `in_group` for a name written in a rule: what the macros call.
    #[inline(always)]
    pub(crate) fn in_group_named<const N: usize>(&self, group: &Named<N>) -> bool {
        self.groups.contains_named(group)
    }

    /// `has_permission` for a name written in a rule: what the macros call.
    #[inline(always)]
    pub(crate) fn has_permission_named<const N: usize>(&self, permission: &Named<N>) -> bool {
        self.permissions.contains_named(permission)
    }
}

/// A group or permission name written in a rule, known while compiling: the macros pass its
/// bytes as an array, so that comparing it with a user's names is a few integer comparisons of
/// a known length rather than a call to `memcmp`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Named<const N: usize> {
    /// The name.
    pub name: &'static str,
    /// The same, as an array.
    pub bytes: [u8; N],
}

/// Sets up to this size are searched in order: for the handful of groups most users have, a
/// scan of comparisons of known length beats hashing the name. Larger sets are hashed.
const SCANNED: usize = 8;

/// A set of names: sorted, each once, with a hash index when there are many.
#[derive(Clone, Default, PartialEq, Eq)]
struct Names {
    sorted: Box<[Box<str>]>,
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
        Self {
            sorted: sorted.into_boxed_slice(),
            index,
        }
    }

    fn contains(&self, name: &str) -> bool {
        match &self.index {
            Some(index) => index.contains(name),
            None => self.sorted.iter().any(|known| **known == *name),
        }
    }

    #[inline(always)]
    fn contains_named<const N: usize>(&self, named: &Named<N>) -> bool {
        match &self.index {
            Some(index) => index.contains(named.name),
            None => self
                .sorted
                .iter()
                .any(|known| known.as_bytes() == named.bytes.as_slice()),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.sorted.iter().map(|name| &**name)
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

    fn named<const N: usize>(name: &'static str) -> Named<N> {
        Named {
            name,
            bytes: name.as_bytes().try_into().unwrap(),
        }
    }

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
            assert_eq!(size > 0, grants.in_group_named(&named::<9>("group-000")));
            assert!(!grants.in_group_named(&named::<9>("group-999")));
            assert!(grants.has_permission_named(&named::<6>("manage")));
            assert!(!grants.has_permission_named(&named::<5>("manag")));
            assert_eq!(grants.groups().count(), size);
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
}
