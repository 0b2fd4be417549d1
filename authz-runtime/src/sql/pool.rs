//! The pools a [`SqlStore`](super::SqlStore) runs on: its own `AnyPool`, or the pool the
//! application already has, of sqlx's `Any` driver or of one database's own (`PgPool`,
//! `SqlitePool`, `MySqlPool`).
//!
//! The store's statements are written once: each runs on a borrowed [`Connection`] of
//! whichever database, through the few shapes of statement the store has (`execute`,
//! `strings`, `integers`, `pairs`). That keeps the store's SQL in one place for every pool.

#[cfg(feature = "mysql")]
use sqlx::MySqlPool;
#[cfg(feature = "postgres")]
use sqlx::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::SqlitePool;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Executor, SqlSafeStr};

use super::schema::Dialect;

/// The connection pool of a [`SqlStore`](super::SqlStore): the one it opened, or the
/// application's own, given to [`SqlStore::builder_on`](super::SqlStore::builder_on).
///
/// Every sqlx pool converts into it: `AnyPool`, and behind their features `PgPool`,
/// `SqlitePool` and `MySqlPool`. The application can get its pool back from the store to run
/// its own queries beside it:
///
/// ```
/// use authz_runtime::sql::{SqlPool, SqlStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let store = SqlStore::builder_on(pool).connect().await?;
/// store.migrate().await?;
/// let Some(pool) = store.pool().as_sqlite() else { unreachable!("a SQLite pool was given") };
/// let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tg_user").fetch_one(pool).await?;
/// assert_eq!(users, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SqlPool {
    /// sqlx's `Any` driver: what [`SqlStore::builder`](super::SqlStore::builder) opens.
    Any(AnyPool),
    /// A PostgreSQL pool.
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
    /// A SQLite pool.
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    /// A MySQL or MariaDB pool.
    #[cfg(feature = "mysql")]
    MySql(MySqlPool),
}

/// Runs `$body` with `$pool` bound to the pool inside `$sql_pool`, whatever its database.
macro_rules! on_pool {
    ($sql_pool:expr, $pool:ident => $body:expr) => {
        match $sql_pool {
            SqlPool::Any($pool) => $body,
            #[cfg(feature = "postgres")]
            SqlPool::Postgres($pool) => $body,
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite($pool) => $body,
            #[cfg(feature = "mysql")]
            SqlPool::MySql($pool) => $body,
        }
    };
}

impl SqlPool {
    /// The `AnyPool`, if this is one.
    pub fn as_any(&self) -> Option<&AnyPool> {
        match self {
            SqlPool::Any(pool) => Some(pool),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The `PgPool`, if this is one.
    #[cfg(feature = "postgres")]
    pub fn as_postgres(&self) -> Option<&PgPool> {
        match self {
            SqlPool::Postgres(pool) => Some(pool),
            _ => None,
        }
    }

    /// The `SqlitePool`, if this is one.
    #[cfg(feature = "sqlite")]
    pub fn as_sqlite(&self) -> Option<&SqlitePool> {
        match self {
            SqlPool::Sqlite(pool) => Some(pool),
            _ => None,
        }
    }

    /// The `MySqlPool`, if this is one.
    #[cfg(feature = "mysql")]
    pub fn as_mysql(&self) -> Option<&MySqlPool> {
        match self {
            SqlPool::MySql(pool) => Some(pool),
            _ => None,
        }
    }

    /// The database's dialect: a typed pool's own, an `AnyPool`'s from its URL (`None` for a
    /// database the store does not support).
    pub(crate) fn dialect(&self) -> Option<Dialect> {
        match self {
            SqlPool::Any(pool) => Dialect::of_url(pool.connect_options().database_url.as_str()),
            #[cfg(feature = "postgres")]
            SqlPool::Postgres(_) => Some(Dialect::Postgres),
            #[cfg(feature = "sqlite")]
            SqlPool::Sqlite(_) => Some(Dialect::Sqlite),
            #[cfg(feature = "mysql")]
            SqlPool::MySql(_) => Some(Dialect::MySql),
        }
    }

    /// How long taking a connection may wait.
    pub(crate) fn acquire_timeout(&self) -> std::time::Duration {
        on_pool!(self, pool => pool.options().get_acquire_timeout())
    }

    /// Begins a transaction.
    pub(crate) async fn begin(&self) -> Result<Transaction, sqlx::Error> {
        on_pool!(self, pool => pool.begin().await.map(Transaction::from))
    }

    /// Begins a transaction with `statement` (SQLite's `BEGIN IMMEDIATE`).
    pub(crate) async fn begin_with(
        &self,
        statement: &'static str,
    ) -> Result<Transaction, sqlx::Error> {
        on_pool!(self, pool => pool.begin_with(statement).await.map(Transaction::from))
    }

    /// Takes a connection from the pool.
    pub(crate) async fn acquire(&self) -> Result<PooledConnection, sqlx::Error> {
        on_pool!(self, pool => pool.acquire().await.map(PooledConnection::from))
    }
}

/// Declares an enum with one variant per database, each holding `$held<Database>`.
macro_rules! per_database {
    ($(#[$meta:meta])* $name:ident $(<$life:lifetime>)?, $held:ident) => {
        $(#[$meta])*
        pub(crate) enum $name $(<$life>)? {
            Any($held<$($life,)? Any>),
            #[cfg(feature = "postgres")]
            Postgres($held<$($life,)? sqlx::Postgres>),
            #[cfg(feature = "sqlite")]
            Sqlite($held<$($life,)? sqlx::Sqlite>),
            #[cfg(feature = "mysql")]
            MySql($held<$($life,)? sqlx::MySql>),
        }

    };
}

/// A connection's type for a database, as sqlx names it.
type ConnectionOf<'c, DB> = &'c mut <DB as sqlx::Database>::Connection;
type TransactionOf<DB> = sqlx::Transaction<'static, DB>;

per_database!(
    /// A transaction on the store's pool.
    Transaction,
    TransactionOf
);
per_database!(
    /// A connection taken from the store's pool.
    PooledConnection,
    PoolConnection
);
per_database!(
    /// A connection to run statements on: a transaction's, or one taken from the pool.
    Connection<'c>,
    ConnectionOf
);

/// `From` each database's `$held<Database>` for the enum `$name` of [`per_database`].
macro_rules! from_each {
    ($name:ident, $held:ident) => {
        impl From<$held<Any>> for $name {
            fn from(held: $held<Any>) -> Self {
                $name::Any(held)
            }
        }
        #[cfg(feature = "postgres")]
        impl From<$held<sqlx::Postgres>> for $name {
            fn from(held: $held<sqlx::Postgres>) -> Self {
                $name::Postgres(held)
            }
        }
        #[cfg(feature = "sqlite")]
        impl From<$held<sqlx::Sqlite>> for $name {
            fn from(held: $held<sqlx::Sqlite>) -> Self {
                $name::Sqlite(held)
            }
        }
        #[cfg(feature = "mysql")]
        impl From<$held<sqlx::MySql>> for $name {
            fn from(held: $held<sqlx::MySql>) -> Self {
                $name::MySql(held)
            }
        }
    };
}
from_each!(Transaction, TransactionOf);
from_each!(PooledConnection, PoolConnection);

impl From<sqlx::Pool<Any>> for SqlPool {
    fn from(pool: AnyPool) -> Self {
        SqlPool::Any(pool)
    }
}
#[cfg(feature = "postgres")]
impl From<PgPool> for SqlPool {
    fn from(pool: PgPool) -> Self {
        SqlPool::Postgres(pool)
    }
}
#[cfg(feature = "sqlite")]
impl From<SqlitePool> for SqlPool {
    fn from(pool: SqlitePool) -> Self {
        SqlPool::Sqlite(pool)
    }
}
#[cfg(feature = "mysql")]
impl From<MySqlPool> for SqlPool {
    fn from(pool: MySqlPool) -> Self {
        SqlPool::MySql(pool)
    }
}

impl Transaction {
    /// The transaction's connection, for its statements.
    pub(crate) fn connection(&mut self) -> Connection<'_> {
        match self {
            Transaction::Any(transaction) => Connection::Any(&mut *transaction),
            #[cfg(feature = "postgres")]
            Transaction::Postgres(transaction) => Connection::Postgres(&mut *transaction),
            #[cfg(feature = "sqlite")]
            Transaction::Sqlite(transaction) => Connection::Sqlite(&mut *transaction),
            #[cfg(feature = "mysql")]
            Transaction::MySql(transaction) => Connection::MySql(&mut *transaction),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Transaction::Any(transaction) => transaction.commit().await,
            #[cfg(feature = "postgres")]
            Transaction::Postgres(transaction) => transaction.commit().await,
            #[cfg(feature = "sqlite")]
            Transaction::Sqlite(transaction) => transaction.commit().await,
            #[cfg(feature = "mysql")]
            Transaction::MySql(transaction) => transaction.commit().await,
        }
    }
}

impl PooledConnection {
    /// The connection, for statements.
    pub(crate) fn connection(&mut self) -> Connection<'_> {
        match self {
            PooledConnection::Any(connection) => Connection::Any(&mut *connection),
            #[cfg(feature = "postgres")]
            PooledConnection::Postgres(connection) => Connection::Postgres(&mut *connection),
            #[cfg(feature = "sqlite")]
            PooledConnection::Sqlite(connection) => Connection::Sqlite(&mut *connection),
            #[cfg(feature = "mysql")]
            PooledConnection::MySql(connection) => Connection::MySql(&mut *connection),
        }
    }

    /// Closes the connection when it is dropped rather than returning it to the pool.
    pub(crate) fn close_on_drop(&mut self) {
        match self {
            PooledConnection::Any(connection) => connection.close_on_drop(),
            #[cfg(feature = "postgres")]
            PooledConnection::Postgres(connection) => connection.close_on_drop(),
            #[cfg(feature = "sqlite")]
            PooledConnection::Sqlite(connection) => connection.close_on_drop(),
            #[cfg(feature = "mysql")]
            PooledConnection::MySql(connection) => connection.close_on_drop(),
        }
    }
}

/// A row of the grants lookup: its kind (`u`, `g`, `p`), the name, and for the user's own row
/// the account's key and session generation.
pub(crate) type GrantRow = (String, Option<String>, Option<i64>, Option<i64>);

/// A value bound to a statement's parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bind<'a> {
    Text(&'a str),
    Integer(i64),
}

/// Runs `$body` with `$connection` bound to the database's connection and `Db` naming the
/// database, so that the statements in `$body` are typed for it.
macro_rules! on_connection {
    ($sql_connection:expr, $connection:ident => $body:expr) => {
        match $sql_connection {
            Connection::Any($connection) => {
                #[allow(dead_code, reason = "not every statement names its database")]
                type Db = Any;
                $body
            }
            #[cfg(feature = "postgres")]
            Connection::Postgres($connection) => {
                #[allow(dead_code, reason = "not every statement names its database")]
                type Db = sqlx::Postgres;
                $body
            }
            #[cfg(feature = "sqlite")]
            Connection::Sqlite($connection) => {
                #[allow(dead_code, reason = "not every statement names its database")]
                type Db = sqlx::Sqlite;
                $body
            }
            #[cfg(feature = "mysql")]
            Connection::MySql($connection) => {
                #[allow(dead_code, reason = "not every statement names its database")]
                type Db = sqlx::MySql;
                $body
            }
        }
    };
}

/// `$query` with `$binds` bound to its parameters, in order.
macro_rules! bound {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Text(text) => query.bind(text),
                Bind::Integer(integer) => query.bind(integer),
            };
        }
        query
    }};
}

impl Connection<'_> {
    /// The same connection, borrowed again for one more statement.
    pub(crate) fn reborrow(&mut self) -> Connection<'_> {
        match self {
            Connection::Any(connection) => Connection::Any(connection),
            #[cfg(feature = "postgres")]
            Connection::Postgres(connection) => Connection::Postgres(connection),
            #[cfg(feature = "sqlite")]
            Connection::Sqlite(connection) => Connection::Sqlite(connection),
            #[cfg(feature = "mysql")]
            Connection::MySql(connection) => Connection::MySql(connection),
        }
    }

    /// Runs a statement: how many rows it changed.
    pub(crate) async fn execute(
        self,
        sql: impl SqlSafeStr,
        binds: impl IntoIterator<Item = Bind<'_>>,
    ) -> Result<u64, sqlx::Error> {
        on_connection!(self, connection => {
            let query = bound!(sqlx::query::<Db>(sql), binds);
            Ok(query.execute(connection).await?.rows_affected())
        })
    }

    /// Runs statements without parameters as they are written (a migration's DDL).
    pub(crate) async fn execute_script(self, sql: impl SqlSafeStr) -> Result<(), sqlx::Error> {
        on_connection!(self, connection => connection.execute(sql.into_sql_str()).await.map(drop))
    }

    /// The one-column text rows of a query.
    pub(crate) async fn strings(
        self,
        sql: impl SqlSafeStr,
        binds: impl IntoIterator<Item = Bind<'_>>,
    ) -> Result<Vec<String>, sqlx::Error> {
        on_connection!(self, connection => {
            bound!(sqlx::query_scalar::<Db, String>(sql), binds).fetch_all(connection).await
        })
    }

    /// The one-column integer rows of a query (a `NULL` is `None`).
    pub(crate) async fn integers(
        self,
        sql: impl SqlSafeStr,
        binds: impl IntoIterator<Item = Bind<'_>>,
    ) -> Result<Vec<Option<i64>>, sqlx::Error> {
        on_connection!(self, connection => {
            bound!(sqlx::query_scalar::<Db, Option<i64>>(sql), binds)
                .fetch_all(connection)
                .await
        })
    }

    /// The rows of a grants lookup: (kind, name, account, generation), `NULL`s as `None`.
    pub(crate) async fn grant_rows(
        self,
        sql: impl SqlSafeStr,
        binds: impl IntoIterator<Item = Bind<'_>>,
    ) -> Result<Vec<GrantRow>, sqlx::Error> {
        on_connection!(self, connection => {
            bound!(sqlx::query_as::<Db, GrantRow>(sql), binds)
                .fetch_all(connection)
                .await
        })
    }

    /// The two-column text rows of a query (a `NULL` in the second is `None`).
    pub(crate) async fn pairs(
        self,
        sql: impl SqlSafeStr,
        binds: impl IntoIterator<Item = Bind<'_>>,
    ) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
        on_connection!(self, connection => {
            bound!(sqlx::query_as::<Db, (String, Option<String>)>(sql), binds)
                .fetch_all(connection)
                .await
        })
    }
}
