//! Groups and permissions held in memory: for tests and small, fixed setups.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::CredentialsStore;
use crate::{Error, Grants};

/// A store whose groups and permissions are given in code, as repoze.what's memory adapters
/// take them: each group with its members, each permission with the groups it is granted to.
/// Every user's grants are computed once, when the store is built.
///
/// ```
/// use authz_runtime::MemoryStore;
///
/// let store = MemoryStore::builder()
///     .group("admins", ["rms"])
///     .group("developers", ["rms", "linus"])
///     .permission("edit-site", ["admins", "developers"])
///     .permission("commit", ["developers"])
///     .user("guido")
///     .build();
///
/// let rms = store.grants("rms").unwrap();
/// assert!(rms.in_group("admins") && rms.has_permission("commit"));
/// assert_eq!(store.grants("guido").unwrap().groups().count(), 0);
/// assert!(store.grants("nobody").is_none());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    users: foldhash::HashMap<Box<str>, Arc<Grants>>,
}

/// Builds a [`MemoryStore`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct MemoryStoreBuilder {
    users: BTreeSet<String>,
    groups: BTreeMap<String, BTreeSet<String>>,
    permissions: BTreeMap<String, BTreeSet<String>>,
}

impl MemoryStore {
    /// An empty builder.
    pub fn builder() -> MemoryStoreBuilder {
        MemoryStoreBuilder::default()
    }

    /// The grants of `user`, or `None` when the store does not know them.
    pub fn grants(&self, user: &str) -> Option<Arc<Grants>> {
        self.users.get(user).cloned()
    }
}

impl MemoryStoreBuilder {
    /// Adds a group and its members; members are added to the known users.
    pub fn group<I>(mut self, group: &str, members: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let members: BTreeSet<String> = members.into_iter().map(Into::into).collect();
        self.users.extend(members.iter().cloned());
        self.groups
            .entry(group.to_owned())
            .or_default()
            .extend(members);
        self
    }

    /// Grants `permission` to `groups`.
    pub fn permission<I>(mut self, permission: &str, groups: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.permissions
            .entry(permission.to_owned())
            .or_default()
            .extend(groups.into_iter().map(Into::into));
        self
    }

    /// Adds a known user, who may belong to no group.
    pub fn user(mut self, user: &str) -> Self {
        self.users.insert(user.to_owned());
        self
    }

    /// Computes every user's grants.
    pub fn build(self) -> MemoryStore {
        let users = self
            .users
            .iter()
            .map(|user| {
                let groups: Vec<&str> = self
                    .groups
                    .iter()
                    .filter(|(_, members)| members.contains(user))
                    .map(|(group, _)| group.as_str())
                    .collect();
                let permissions = self
                    .permissions
                    .iter()
                    .filter(|(_, granted)| groups.iter().any(|group| granted.contains(*group)))
                    .map(|(permission, _)| permission.as_str());
                let grants = Grants::new(groups.iter().copied(), permissions);
                (Box::from(user.as_str()), Arc::new(grants))
            })
            .collect();
        MemoryStore { users }
    }
}

impl CredentialsStore for MemoryStore {
    async fn load(&self, user: &str) -> Result<Option<Arc<Grants>>, Error> {
        Ok(self.grants(user))
    }

    fn load_now(&self, user: &str) -> Option<Result<Option<Arc<Grants>>, Error>> {
        Some(Ok(self.grants(user)))
    }
}
