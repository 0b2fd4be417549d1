//! The admin API, as repoze.what's source adapters offer it: create, rename and delete users,
//! groups and permissions; add and remove members; grant and revoke permissions; list them.
//!
//! Each change runs in one transaction and empties the grants cache once its commit is tried,
//! whatever the outcome (on PostgreSQL, every instance's, through `NOTIFY`).
//!
//! Every name given to these calls is checked as [`SqlStore::create_user`] checks it: a name
//! that could never have been stored (empty, blank, padded with whitespace, longer than 255
//! characters, with control characters) is [`SqlError::InvalidName`], and nothing is read or
//! written. Besides saying clearly what is wrong, this keeps MySQL's collations, which ignore
//! trailing spaces, from taking `"rms "` for `"rms"`.

use std::sync::atomic::Ordering;

use super::cache::{Invalidation, NOTIFY_CHANGES, notice};
use super::changes::BUMP;
use super::error::{Entity, SqlError, check_name};
use super::pool::{Bind, Connection, Transaction};
use super::schema::Dialect;
use super::statements::Sql;
use super::store::SqlStore;

impl SqlStore {
    /// Creates a user with no groups and no password.
    pub async fn create_user(&self, name: &str) -> Result<(), SqlError> {
        self.create(Entity::User, name).await
    }

    /// Creates a group with no members.
    pub async fn create_group(&self, name: &str) -> Result<(), SqlError> {
        self.create(Entity::Group, name).await
    }

    /// Creates a permission granted to no group.
    pub async fn create_permission(&self, name: &str) -> Result<(), SqlError> {
        self.create(Entity::Permission, name).await
    }

    /// Renames a user; their memberships follow.
    pub async fn rename_user(&self, name: &str, new_name: &str) -> Result<(), SqlError> {
        self.rename(Entity::User, name, new_name).await
    }

    /// Renames a group; its members and grants follow.
    pub async fn rename_group(&self, name: &str, new_name: &str) -> Result<(), SqlError> {
        self.rename(Entity::Group, name, new_name).await
    }

    /// Renames a permission; its grants follow.
    pub async fn rename_permission(&self, name: &str, new_name: &str) -> Result<(), SqlError> {
        self.rename(Entity::Permission, name, new_name).await
    }

    /// Deletes a user and their memberships; their sessions end. A new user of the same name
    /// is another account, with none of the old one's sessions.
    pub async fn delete_user(&self, name: &str) -> Result<(), SqlError> {
        self.delete(Entity::User, name).await
    }

    /// Deletes a group, its memberships and its grants.
    pub async fn delete_group(&self, name: &str) -> Result<(), SqlError> {
        self.delete(Entity::Group, name).await
    }

    /// Deletes a permission and its grants.
    pub async fn delete_permission(&self, name: &str) -> Result<(), SqlError> {
        self.delete(Entity::Permission, name).await
    }

    /// Every user's name, sorted.
    pub async fn users(&self) -> Result<Vec<String>, SqlError> {
        self.list(Entity::User).await
    }

    /// Every group's name, sorted.
    pub async fn groups(&self) -> Result<Vec<String>, SqlError> {
        self.list(Entity::Group).await
    }

    /// Every permission's name, sorted.
    pub async fn permissions(&self) -> Result<Vec<String>, SqlError> {
        self.list(Entity::Permission).await
    }

    /// Whether a user of this name exists.
    pub async fn user_exists(&self, name: &str) -> Result<bool, SqlError> {
        check_name(Entity::User, name)?;
        let mut connection = self.acquire().await?;
        self.exists(connection.connection(), Entity::User, name)
            .await
    }

    /// Adds `user` to `group`; adding a member again changes nothing.
    pub async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), SqlError> {
        let statement = &self.inner().statements.add_member;
        self.link(statement, (Entity::User, user), (Entity::Group, group))
            .await
    }

    /// Removes `user` from `group`; removing a non-member changes nothing.
    pub async fn remove_user_from_group(&self, user: &str, group: &str) -> Result<(), SqlError> {
        let statement = &self.inner().statements.remove_member;
        self.link(statement, (Entity::User, user), (Entity::Group, group))
            .await
    }

    /// Grants `permission` to `group`; granting it again changes nothing.
    pub async fn grant_permission(&self, permission: &str, group: &str) -> Result<(), SqlError> {
        let statement = &self.inner().statements.grant;
        self.link(
            statement,
            (Entity::Group, group),
            (Entity::Permission, permission),
        )
        .await
    }

    /// Revokes `permission` from `group`; revoking an absent grant changes nothing.
    pub async fn revoke_permission(&self, permission: &str, group: &str) -> Result<(), SqlError> {
        let statement = &self.inner().statements.revoke;
        self.link(
            statement,
            (Entity::Group, group),
            (Entity::Permission, permission),
        )
        .await
    }

    /// The members of `group`, sorted. A group that does not exist is
    /// [`SqlError::NotFound`], as repoze.what's `get_section_items` raises
    /// `NonExistingSectionError` for it.
    pub async fn group_members(&self, group: &str) -> Result<Vec<String>, SqlError> {
        let statement = &self.inner().statements.members_of_group;
        self.items_of(statement, Entity::Group, group).await
    }

    /// The groups of `user`, sorted; none for a user who does not exist, as repoze.what's
    /// `find_sections` answers on a group source (an unknown user belongs to no group).
    pub async fn user_groups(&self, user: &str) -> Result<Vec<String>, SqlError> {
        let statement = &self.inner().statements.groups_of_user;
        self.sections_of(statement, Entity::User, user).await
    }

    /// The groups granted `permission`, sorted. A permission that does not exist is
    /// [`SqlError::NotFound`], as repoze.what's `get_section_items` raises
    /// `NonExistingSectionError` for it.
    pub async fn permission_groups(&self, permission: &str) -> Result<Vec<String>, SqlError> {
        let statement = &self.inner().statements.groups_of_permission;
        self.items_of(statement, Entity::Permission, permission)
            .await
    }

    /// The permissions granted to `group`, sorted; none for a group that does not exist, as
    /// repoze.what's `find_sections` answers on a permission source.
    pub async fn group_permissions(&self, group: &str) -> Result<Vec<String>, SqlError> {
        let statement = &self.inner().statements.permissions_of_group;
        self.sections_of(statement, Entity::Group, group).await
    }

    /// The stored password hash of `user`, if one is set. Names match exactly, whatever the
    /// database's collation. A name that could never have been stored (padded, blank, too
    /// long) is no user's: `None`, not an error, since sign-in forms send whatever was typed.
    pub async fn password_hash(&self, user: &str) -> Result<Option<String>, SqlError> {
        if check_name(Entity::User, user).is_err() {
            return Ok(None);
        }
        let statement = &self.inner().statements.password_of_user;
        let mut connection = self.acquire().await?;
        let rows = connection
            .connection()
            .pairs(statement.text(), [Bind::Text(user)]);
        let rows = self.timed(rows).await?;
        Ok(rows
            .into_iter()
            .find(|(name, _)| name == user)
            .and_then(|(_, hash)| hash))
    }

    /// Stores a password hash for `user` (hash it first; see the sign-in docs), and ends the
    /// user's sessions: whoever knew the old password is signed out.
    pub async fn set_password_hash(&self, user: &str, hash: &str) -> Result<(), SqlError> {
        let statement = &self.inner().statements.set_password;
        self.update_user(statement, [Bind::Text(hash), Bind::Text(user)], user)
            .await
    }

    /// Ends every session of `user` at once ("sign out everywhere"): the user's session
    /// generation moves on, so every ticket made before is refused by
    /// [`TicketAuthenticator::with_sessions`], on every instance (at once on PostgreSQL,
    /// within the change check interval on SQLite and MySQL). Deleting the user, renaming
    /// them and changing their password end their sessions too.
    ///
    /// [`TicketAuthenticator::with_sessions`]: crate::signin::TicketAuthenticator::with_sessions
    ///
    /// ```
    /// use authz_runtime::CredentialsStore;
    /// use authz_runtime::sql::SqlStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let store = SqlStore::connect("sqlite::memory:").await?;
    /// store.migrate().await?;
    /// store.create_user("rms").await?;
    /// let before = store.load("rms").await.unwrap().unwrap().account().unwrap();
    /// store.end_sessions("rms").await?;
    /// let after = store.load("rms").await.unwrap().unwrap().account().unwrap();
    /// assert_eq!((after.id, after.generation), (before.id, before.generation + 1));
    /// # Ok::<(), authz_runtime::sql::SqlError>(())
    /// # }).unwrap();
    /// ```
    pub async fn end_sessions(&self, user: &str) -> Result<(), SqlError> {
        let statement = &self.inner().statements.end_sessions;
        self.update_user(statement, [Bind::Text(user)], user).await
    }

    /// Runs an update of `user`'s row in a transaction of its own; `NotFound` when none.
    async fn update_user<const N: usize>(
        &self,
        statement: &Sql,
        binds: [Bind<'_>; N],
        user: &str,
    ) -> Result<(), SqlError> {
        check_name(Entity::User, user)?;
        let mut transaction = self.begin().await?;
        let updated = transaction.connection().execute(statement.text(), binds);
        if self.timed(updated).await? == 0 {
            return Err(not_found(Entity::User, user));
        }
        self.commit(transaction).await
    }

    async fn create(&self, entity: Entity, name: &str) -> Result<(), SqlError> {
        check_name(entity, name)?;
        let mut transaction = self.begin().await?;
        let insert = &self.inner().statements.table(entity).insert;
        let inserted = transaction
            .connection()
            .execute(insert.text(), [Bind::Text(name)]);
        let inserted = self.timed(inserted).await;
        match inserted {
            Ok(_) => self.commit(transaction).await,
            Err(error) if is_unique_violation(&error) => Err(duplicate(entity, name)),
            Err(error) => Err(error),
        }
    }

    async fn rename(&self, entity: Entity, name: &str, new_name: &str) -> Result<(), SqlError> {
        check_name(entity, name)?;
        check_name(entity, new_name)?;
        let mut transaction = self.begin().await?;
        let rename = &self.inner().statements.table(entity).rename;
        let binds = [Bind::Text(new_name), Bind::Text(name)];
        let renamed = transaction.connection().execute(rename.text(), binds);
        match self.timed(renamed).await {
            Ok(0) => {
                // MySQL counts a rename to the same name as no change: tell the cases apart.
                if name == new_name && self.exists(transaction.connection(), entity, name).await? {
                    return Ok(());
                }
                Err(not_found(entity, name))
            }
            Ok(_) => self.commit(transaction).await,
            Err(error) if is_unique_violation(&error) => Err(duplicate(entity, new_name)),
            Err(error) => Err(error),
        }
    }

    async fn delete(&self, entity: Entity, name: &str) -> Result<(), SqlError> {
        check_name(entity, name)?;
        let mut transaction = self.begin().await?;
        let delete = &self.inner().statements.table(entity).delete;
        let deleted = transaction
            .connection()
            .execute(delete.text(), [Bind::Text(name)]);
        if self.timed(deleted).await? == 0 {
            return Err(not_found(entity, name));
        }
        self.commit(transaction).await
    }

    async fn list(&self, entity: Entity) -> Result<Vec<String>, SqlError> {
        let list = &self.inner().statements.table(entity).list;
        let mut connection = self.acquire().await?;
        self.timed(connection.connection().strings(list.text(), []))
            .await
    }

    async fn exists(
        &self,
        connection: Connection<'_>,
        entity: Entity,
        name: &str,
    ) -> Result<bool, SqlError> {
        let exists = &self.inner().statements.table(entity).exists;
        let counts = connection.integers(exists.text(), [Bind::Text(name)]);
        let counts = self.timed(counts).await?;
        Ok(counts.first().copied().flatten().unwrap_or(0) > 0)
    }

    /// Runs a link statement binding (`left`, `right`) names, after checking both exist.
    async fn link(
        &self,
        statement: &Sql,
        (left_entity, left): (Entity, &str),
        (right_entity, right): (Entity, &str),
    ) -> Result<(), SqlError> {
        check_name(left_entity, left)?;
        check_name(right_entity, right)?;
        let mut transaction = self.begin().await?;
        for (entity, name) in [(left_entity, left), (right_entity, right)] {
            if !self.exists(transaction.connection(), entity, name).await? {
                return Err(not_found(entity, name));
            }
        }
        let binds = [Bind::Text(left), Bind::Text(right)];
        let linked = transaction.connection().execute(statement.text(), binds);
        self.timed(linked).await?;
        self.commit(transaction).await
    }

    /// The items of a section (a group's members, a permission's groups): the names a listing
    /// statement returns for `name`, which must exist.
    async fn items_of(
        &self,
        statement: &Sql,
        entity: Entity,
        name: &str,
    ) -> Result<Vec<String>, SqlError> {
        check_name(entity, name)?;
        // One transaction, so that the section cannot vanish between the two statements.
        let mut transaction = self.begin().await?;
        if !self.exists(transaction.connection(), entity, name).await? {
            return Err(not_found(entity, name));
        }
        let names = transaction
            .connection()
            .strings(statement.text(), [Bind::Text(name)]);
        let names = self.timed(names).await?;
        self.timed(transaction.commit()).await?;
        Ok(names)
    }

    /// The sections of an item (a user's groups, a group's permissions): the names a listing
    /// statement returns for `name`, none when it does not exist.
    async fn sections_of(
        &self,
        statement: &Sql,
        entity: Entity,
        name: &str,
    ) -> Result<Vec<String>, SqlError> {
        check_name(entity, name)?;
        let mut connection = self.acquire().await?;
        let names = connection
            .connection()
            .strings(statement.text(), [Bind::Text(name)]);
        self.timed(names).await
    }

    /// Commits a write, telling every instance's cache (PostgreSQL's `NOTIFY` is delivered at
    /// commit), and this one's, whether the commit succeeds or not.
    async fn commit(&self, mut transaction: Transaction) -> Result<(), SqlError> {
        let write = self.inner().writes.fetch_add(1, Ordering::Relaxed);
        // Other processes' caches follow the counter (on PostgreSQL, the notification too).
        let bump = transaction.connection().execute(BUMP, []);
        self.timed(bump).await?;
        if self.dialect() == Dialect::Postgres {
            let notice = notice(&self.inner().instance, write);
            let notify = transaction
                .connection()
                .execute(NOTIFY_CHANGES, [Bind::Text(&notice)]);
            self.timed(notify).await?;
        }
        let invalidation = Invalidation::new(self.inner().cache.clone(), write);
        self.timed(transaction.commit()).await?;
        invalidation.committed();
        Ok(())
    }
}

fn is_unique_violation(error: &SqlError) -> bool {
    matches!(error, SqlError::Database(sqlx::Error::Database(error)) if error.is_unique_violation())
}

fn duplicate(entity: Entity, name: &str) -> SqlError {
    SqlError::Duplicate {
        entity,
        name: name.to_owned(),
    }
}

fn not_found(entity: Entity, name: &str) -> SqlError {
    SqlError::NotFound {
        entity,
        name: name.to_owned(),
    }
}
