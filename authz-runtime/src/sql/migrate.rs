//! Applying the migrations of [`quickstart`](super::quickstart): once per database and per set
//! of table names, and safely from several instances at once.
//!
//! Applied migrations are recorded in `authz_migrations`, keyed by the schema's five table
//! names, so that a second store with other tables (another "translation") on a database that
//! is already migrated still gets its own. Concurrent runs are serialized by the database:
//! PostgreSQL by a transaction-scoped advisory lock (without it, two `CREATE TABLE IF NOT
//! EXISTS` at once can both try to create the table's type, and one fails), MySQL by a named
//! lock (`GET_LOCK`; its DDL commits implicitly, so a transaction could not), SQLite by an
//! immediate transaction, which takes the write lock before reading what is applied.

use std::time::Duration;

use sqlx::AssertSqlSafe;

use super::error::SqlError;
use super::pool::{Bind, Connection};
use super::quickstart::migrations;
use super::schema::{Dialect, Identifier, Schema};
use super::store::SqlStore;

/// The table recording applied migrations.
const MIGRATIONS_TABLE: &str = "authz_migrations";

/// PostgreSQL's advisory lock for migrations (`authzmig` in ASCII). Advisory locks are scoped
/// to the database, so stores on other databases of the server never wait for it.
const POSTGRES_LOCK: i64 = 0x6175_7468_7a6d_6967;

/// MySQL's named lock for migrations. Named locks are server-wide, so the name holds the
/// database's (hashed: a lock name has at most 64 characters), and stores on other databases
/// of the server never wait for it.
const MYSQL_LOCK: &str = "CONCAT('authz_migrate_', MD5(COALESCE(DATABASE(), '')))";

impl SqlStore {
    /// Creates the schema if it is missing, applying the migrations that ship with the crate.
    /// Safe to call at every start, and from several instances at once: they take turns, and
    /// each migration is applied once per database and set of table names.
    pub async fn migrate(&self) -> Result<(), SqlError> {
        match self.dialect() {
            Dialect::Postgres => {
                let mut transaction = self.begin().await?;
                let lock = transaction.connection().execute(
                    "SELECT pg_advisory_xact_lock($1)",
                    [Bind::Integer(POSTGRES_LOCK)],
                );
                self.timed(lock).await?;
                self.apply_migrations(&mut transaction.connection()).await?;
                self.timed(transaction.commit()).await
            }
            Dialect::Sqlite => {
                let begin = self.inner().pool.begin_with("BEGIN IMMEDIATE");
                let mut transaction = self.timed(begin).await?;
                self.apply_migrations(&mut transaction.connection()).await?;
                self.timed(transaction.commit()).await
            }
            Dialect::MySql => {
                let mut connection = self.acquire().await?;
                // Closing the session is what surely releases a named lock, also when this
                // call is abandoned half-way; migrations run once per start, so the pool can
                // afford a new connection.
                connection.close_on_drop();
                let wait = self.query_timeout().max(Duration::from_secs(1)).as_secs();
                let lock = connection.connection().integers(
                    AssertSqlSafe(format!("SELECT GET_LOCK({MYSQL_LOCK}, ?)")),
                    [Bind::Integer(i64::try_from(wait).unwrap_or(i64::MAX))],
                );
                let locked = self.timed(lock).await?;
                // 0: another instance held the lock for the whole wait; NULL: the server
                // failed to take it.
                if locked.first() != Some(&Some(1)) {
                    return Err(SqlError::Timeout);
                }
                let applied = self.apply_migrations(&mut connection.connection()).await;
                // Let the next instance in now rather than when the connection is closed.
                let release = connection.connection().execute(
                    AssertSqlSafe(format!("SELECT RELEASE_LOCK({MYSQL_LOCK})")),
                    [],
                );
                let _ = self.timed(release).await;
                applied
            }
        }
    }

    /// Applies, on `connection` (which holds the dialect's lock), what is not applied yet.
    async fn apply_migrations(&self, connection: &mut Connection<'_>) -> Result<(), SqlError> {
        // The statements name only whitelisted identifiers and bind every value.
        let dialect = self.dialect();
        let create = AssertSqlSafe(migrations_table(dialect));
        self.timed(connection.reborrow().execute_script(create))
            .await?;
        let tables = table_names(self.schema());
        let applied = connection.reborrow().integers(
            AssertSqlSafe(applied_versions(dialect)),
            [Bind::Text(&tables)],
        );
        let applied = self.timed(applied).await?;
        for migration in migrations(dialect, self.schema()) {
            if applied.contains(&Some(migration.version)) {
                continue;
            }
            for statement in migration.statements {
                let statement = connection
                    .reborrow()
                    .execute_script(AssertSqlSafe(statement));
                self.timed(statement).await?;
            }
            let binds = [
                Bind::Text(&tables),
                Bind::Integer(migration.version),
                Bind::Text(migration.description),
            ];
            let record = connection
                .reborrow()
                .execute(AssertSqlSafe(record_version(dialect)), binds);
            self.timed(record).await?;
            tracing::info!(
                target: "authz::sql",
                version = migration.version,
                tables = %tables,
                "applied migration: {}",
                migration.description
            );
        }
        Ok(())
    }
}

/// What the migrations are recorded under: the schema's table names, `,`-separated.
fn table_names(schema: &Schema) -> String {
    [
        &schema.user_table,
        &schema.group_table,
        &schema.permission_table,
        &schema.user_group_table,
        &schema.group_permission_table,
    ]
    .map(Identifier::as_str)
    .join(",")
}

fn quoted_table(dialect: Dialect) -> String {
    dialect.quote(&Identifier::new(MIGRATIONS_TABLE).expect("a valid identifier"))
}

fn migrations_table(dialect: Dialect) -> String {
    let table = quoted_table(dialect);
    // Five names of at most 63 ASCII characters and four commas.
    let (names, engine) = match dialect {
        Dialect::MySql => (
            "VARCHAR(320) CHARACTER SET ascii COLLATE ascii_bin",
            " ENGINE=InnoDB",
        ),
        _ => ("VARCHAR(320)", ""),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (table_names {names} NOT NULL, \
         version BIGINT NOT NULL, description VARCHAR(255) NOT NULL, \
         PRIMARY KEY (table_names, version)){engine}"
    )
}

fn applied_versions(dialect: Dialect) -> String {
    format!(
        "SELECT version FROM {} WHERE table_names = {}",
        quoted_table(dialect),
        dialect.param(1)
    )
}

fn record_version(dialect: Dialect) -> String {
    format!(
        "INSERT INTO {} (table_names, version, description) VALUES ({}, {}, {})",
        quoted_table(dialect),
        dialect.param(1),
        dialect.param(2),
        dialect.param(3)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_keyed_by_the_table_names() {
        assert_eq!(
            table_names(&Schema::default()),
            "tg_user,tg_group,tg_permission,tg_user_group,tg_group_permission"
        );
        let people = Schema::default().with_user_table("people").unwrap();
        assert_ne!(table_names(&people), table_names(&Schema::default()));
        // Column names do not matter: `CREATE TABLE IF NOT EXISTS` would not change a table.
        let login = Schema::default().with_user_name("login").unwrap();
        assert_eq!(table_names(&login), table_names(&Schema::default()));
    }
}
