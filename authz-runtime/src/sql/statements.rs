//! Every statement the store runs, written once per store for its dialect and schema. Names
//! come from the whitelisted [`Schema`]; values are always bind parameters.

use std::sync::Arc;

use sqlx::AssertSqlSafe;

use super::error::Entity;
use super::schema::{Dialect, Schema};

/// A statement of the store. Safe to hand to sqlx as it is: its identifiers passed the
/// [`Identifier`](super::schema::Identifier) whitelist and are quoted, and every value in it is
/// a bind parameter.
#[derive(Debug, Clone)]
pub(crate) struct Sql(Arc<str>);

impl Sql {
    /// For `sqlx::query` and friends; shares the text, copies nothing.
    pub(crate) fn text(&self) -> AssertSqlSafe<Arc<str>> {
        AssertSqlSafe(self.0.clone())
    }
}

impl From<String> for Sql {
    fn from(text: String) -> Self {
        Self(Arc::from(text))
    }
}

/// The statements of one store.
#[derive(Debug)]
pub(crate) struct Statements {
    pub(crate) dialect: Dialect,
    /// A user's existence, account, groups and permissions, in one round trip: rows of
    /// (`kind`, `name`, `account`, `generation`) where kind is `u` (with the account's key and
    /// session generation), `g` or `p`.
    pub(crate) load: Sql,
    /// How many times `load` binds the user name (MySQL has no numbered parameters).
    pub(crate) load_binds: usize,
    users: Table,
    groups: Table,
    permissions: Table,
    /// Add / remove / list a user's membership of a group.
    pub(crate) add_member: Sql,
    pub(crate) remove_member: Sql,
    pub(crate) members_of_group: Sql,
    pub(crate) groups_of_user: Sql,
    /// Grant / revoke / list a permission's groups.
    pub(crate) grant: Sql,
    pub(crate) revoke: Sql,
    pub(crate) groups_of_permission: Sql,
    pub(crate) permissions_of_group: Sql,
    /// A user's password hash, and setting it (which ends the user's sessions).
    pub(crate) password_of_user: Sql,
    pub(crate) set_password: Sql,
    /// Ends a user's sessions: moves the session generation on.
    pub(crate) end_sessions: Sql,
}

/// The statements on one of the three named tables.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) insert: Sql,
    pub(crate) rename: Sql,
    pub(crate) delete: Sql,
    pub(crate) exists: Sql,
    pub(crate) list: Sql,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect, schema: &Schema) -> Self {
        let q = |identifier: &super::schema::Identifier| dialect.quote(identifier);
        let p = |n| dialect.param(n);
        let users = q(&schema.user_table);
        let user_id = q(&schema.user_id);
        let user_name = q(&schema.user_name);
        let groups = q(&schema.group_table);
        let group_id = q(&schema.group_id);
        let group_name = q(&schema.group_name);
        let permissions = q(&schema.permission_table);
        let permission_id = q(&schema.permission_id);
        let permission_name = q(&schema.permission_name);
        let user_groups = q(&schema.user_group_table);
        let group_permissions = q(&schema.group_permission_table);
        let password = q(&schema.user_password);
        let generation = q(&schema.user_generation);
        // The key and the generation as 64-bit integers, whatever their columns' width.
        let bigint = match dialect {
            Dialect::MySql => "SIGNED",
            _ => "BIGINT",
        };

        // MySQL binds each `?` separately; PostgreSQL and SQLite reuse `$1`.
        let (u1, u2, u3) = match dialect {
            Dialect::MySql => ("?".to_owned(), "?".to_owned(), "?".to_owned()),
            _ => (p(1), p(1), p(1)),
        };
        let load = format!(
            "SELECT 'u' AS kind, u.{user_name} AS name, CAST(u.{user_id} AS {bigint}) AS account, \
             CAST(u.{generation} AS {bigint}) AS generation \
             FROM {users} u WHERE u.{user_name} = {u1} \
             UNION ALL \
             SELECT 'g', g.{group_name}, NULL, NULL FROM {users} u \
             JOIN {user_groups} ug ON ug.{user_id} = u.{user_id} \
             JOIN {groups} g ON g.{group_id} = ug.{group_id} \
             WHERE u.{user_name} = {u2} \
             UNION ALL \
             SELECT 'p', p.{permission_name}, NULL, NULL FROM {users} u \
             JOIN {user_groups} ug ON ug.{user_id} = u.{user_id} \
             JOIN {group_permissions} gp ON gp.{group_id} = ug.{group_id} \
             JOIN {permissions} p ON p.{permission_id} = gp.{permission_id} \
             WHERE u.{user_name} = {u3}"
        );
        let load_binds = match dialect {
            Dialect::MySql => 3,
            _ => 1,
        };

        let table = |table: &str, name: &str| Table {
            insert: format!("INSERT INTO {table} ({name}) VALUES ({})", p(1)).into(),
            rename: format!(
                "UPDATE {table} SET {name} = {} WHERE {name} = {}",
                p(1),
                p(2)
            )
            .into(),
            delete: format!("DELETE FROM {table} WHERE {name} = {}", p(1)).into(),
            exists: format!("SELECT COUNT(*) FROM {table} WHERE {name} = {}", p(1)).into(),
            list: format!("SELECT {name} FROM {table} ORDER BY {name}").into(),
        };

        // The link statements take (member, container) names, as the admin calls do.
        let link =
            |link: &str, left: (&str, &str, &str), right: (&str, &str, &str)| -> (String, String) {
                let (left_table, left_id, left_name) = left;
                let (right_table, right_id, right_name) = right;
                let add = format!(
                    "INSERT INTO {link} ({left_id}, {right_id}) \
                 SELECT l.{left_id}, r.{right_id} FROM {left_table} l, {right_table} r \
                 WHERE l.{left_name} = {} AND r.{right_name} = {} \
                 AND NOT EXISTS (SELECT 1 FROM {link} x \
                 WHERE x.{left_id} = l.{left_id} AND x.{right_id} = r.{right_id})",
                    p(1),
                    p(2)
                );
                let remove = format!(
                    "DELETE FROM {link} \
                 WHERE {left_id} IN (SELECT {left_id} FROM {left_table} WHERE {left_name} = {}) \
                 AND {right_id} IN (SELECT {right_id} FROM {right_table} WHERE {right_name} = {})",
                    p(1),
                    p(2)
                );
                (add, remove)
            };
        let (add_member, remove_member) = link(
            &user_groups,
            (&users, &user_id, &user_name),
            (&groups, &group_id, &group_name),
        );
        let (grant, revoke) = link(
            &group_permissions,
            (&groups, &group_id, &group_name),
            (&permissions, &permission_id, &permission_name),
        );

        let members_of_group = format!(
            "SELECT u.{user_name} FROM {users} u \
             JOIN {user_groups} ug ON ug.{user_id} = u.{user_id} \
             JOIN {groups} g ON g.{group_id} = ug.{group_id} \
             WHERE g.{group_name} = {} ORDER BY u.{user_name}",
            p(1)
        );
        let groups_of_user = format!(
            "SELECT g.{group_name} FROM {groups} g \
             JOIN {user_groups} ug ON ug.{group_id} = g.{group_id} \
             JOIN {users} u ON u.{user_id} = ug.{user_id} \
             WHERE u.{user_name} = {} ORDER BY g.{group_name}",
            p(1)
        );
        let groups_of_permission = format!(
            "SELECT g.{group_name} FROM {groups} g \
             JOIN {group_permissions} gp ON gp.{group_id} = g.{group_id} \
             JOIN {permissions} p ON p.{permission_id} = gp.{permission_id} \
             WHERE p.{permission_name} = {} ORDER BY g.{group_name}",
            p(1)
        );
        let permissions_of_group = format!(
            "SELECT p.{permission_name} FROM {permissions} p \
             JOIN {group_permissions} gp ON gp.{permission_id} = p.{permission_id} \
             JOIN {groups} g ON g.{group_id} = gp.{group_id} \
             WHERE g.{group_name} = {} ORDER BY p.{permission_name}",
            p(1)
        );
        let password_of_user = format!(
            "SELECT {user_name}, {password} FROM {users} WHERE {user_name} = {}",
            p(1)
        );
        let set_password = format!(
            "UPDATE {users} SET {password} = {}, {generation} = {generation} + 1 \
             WHERE {user_name} = {}",
            p(1),
            p(2)
        );
        let end_sessions = format!(
            "UPDATE {users} SET {generation} = {generation} + 1 WHERE {user_name} = {}",
            p(1)
        );

        Self {
            dialect,
            load: load.into(),
            load_binds,
            users: table(&users, &user_name),
            groups: table(&groups, &group_name),
            permissions: table(&permissions, &permission_name),
            add_member: add_member.into(),
            remove_member: remove_member.into(),
            members_of_group: members_of_group.into(),
            groups_of_user: groups_of_user.into(),
            grant: grant.into(),
            revoke: revoke.into(),
            groups_of_permission: groups_of_permission.into(),
            permissions_of_group: permissions_of_group.into(),
            password_of_user: password_of_user.into(),
            set_password: set_password.into(),
            end_sessions: end_sessions.into(),
        }
    }

    pub(crate) fn table(&self, entity: Entity) -> &Table {
        match entity {
            Entity::User => &self.users,
            Entity::Group => &self.groups,
            Entity::Permission => &self.permissions,
        }
    }
}
