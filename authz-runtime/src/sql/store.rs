//! `SqlStore`: connecting, loading grants in one round trip, the cache, migrations.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AssertSqlSafe, Executor};

use super::cache::GrantsCache;
use super::error::SqlError;
use super::pool::{Bind, PooledConnection, SqlPool, Transaction};
use super::schema::{Dialect, Schema};
use super::settings::{CacheSettings, PoolSettings, UnknownUsers};
use super::statements::Statements;
use crate::{Account, CredentialsStore, Error, Grants};

/// Users, groups and permissions in SQL, through sqlx: SQLite, PostgreSQL or MySQL/MariaDB,
/// each behind its cargo feature (`sqlite`, the default; `postgres`; `mysql`).
///
/// A user's groups and permissions are loaded together, in one query, and cached across
/// requests; every write through the admin API empties the cache of every store on the
/// database: at once on PostgreSQL (`NOTIFY`), within the change check interval (500 ms) on
/// SQLite and MySQL, which read a change counter in the background. A query that fails or times out refuses the request
/// with 503; it never grants.
///
/// While the database is unreachable, a user whose grants are cached is still served from the
/// cache on SQLite and MySQL, until the entry's time to live runs out: those grants were read
/// from the database within the time to live, as they would be with the database up, and no
/// error decides anything. On PostgreSQL the cache is bypassed whenever the change listener is
/// down (the database is then unreachable too), because writes by other instances could be
/// missed: every request queries, and gets 503 until the database is back. To refuse everyone
/// as soon as the database is unreachable on SQLite and MySQL too, turn the cache off
/// ([`SqlStoreBuilder::without_cache`]); a shorter time to live shortens the window.
///
/// ```
/// use authz_runtime::sql::SqlStore;
/// use authz_runtime::CredentialsStore;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = SqlStore::connect("sqlite::memory:").await?;
/// store.migrate().await?;
/// store.create_user("rms").await?;
/// store.create_group("admins").await?;
/// store.create_permission("manage").await?;
/// store.add_user_to_group("rms", "admins").await?;
/// store.grant_permission("manage", "admins").await?;
///
/// let grants = store.load("rms").await.unwrap().expect("rms exists");
/// assert!(grants.in_group("admins") && grants.has_permission("manage"));
/// # Ok::<(), authz_runtime::sql::SqlError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SqlStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: SqlPool,
    pub(crate) statements: Statements,
    schema: Schema,
    pub(crate) cache: Option<Arc<GrantsCache>>,
    unknown_users: UnknownUsers,
    query_timeout: Duration,
    /// The task that keeps the cache in step with other processes' writes: PostgreSQL's
    /// change listener, or elsewhere the reader of the change counter.
    listener: Option<tokio::task::JoinHandle<()>>,
    /// This store's name in `NOTIFY` payloads.
    pub(crate) instance: String,
    /// How many writes this store has committed or tried to: each write's number.
    pub(crate) writes: AtomicU64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

/// Builds a [`SqlStore`].
#[must_use]
pub struct SqlStoreBuilder {
    url: String,
    /// The application's own pool, when the store shares it.
    shared_pool: Option<SqlPool>,
    schema: Schema,
    pool: PoolSettings,
    cache: Option<CacheSettings>,
    unknown_users: UnknownUsers,
    query_timeout: Duration,
}

impl SqlStore {
    /// Connects with the default settings (see [`SqlStore::builder`]).
    pub async fn connect(url: &str) -> Result<Self, SqlError> {
        Self::builder(url).connect().await
    }

    /// A builder for a store on the database at `url`: `sqlite://authz.db?mode=rwc`,
    /// `sqlite::memory:`, `postgres://user@host/db`, `mysql://user@host/db`.
    ///
    /// An in-memory SQLite database lives in one connection, so its pool holds exactly one,
    /// never closed while the store lives.
    pub fn builder(url: &str) -> SqlStoreBuilder {
        SqlStoreBuilder {
            url: url.to_owned(),
            shared_pool: None,
            schema: Schema::default(),
            pool: PoolSettings::default(),
            cache: Some(CacheSettings::default()),
            unknown_users: UnknownUsers::default(),
            query_timeout: Duration::from_secs(5),
        }
    }

    /// A builder for a store on a pool the application already has: the same schema, cache and
    /// migrations as [`SqlStore::builder`], on the application's connections. Any sqlx pool
    /// will do: `PgPool`, `SqlitePool`, `MySqlPool` (behind the features of their databases)
    /// or `AnyPool`. The pool's own settings stand ([`SqlStoreBuilder::pool`] does not apply);
    /// the store's queries keep their timeout.
    ///
    /// ```
    /// use authz_runtime::sql::SqlStore;
    /// use sqlx::sqlite::SqlitePoolOptions;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // The application's pool (one connection: an in-memory SQLite database is per connection).
    /// let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await?;
    /// let store = SqlStore::builder_on(pool.clone()).connect().await?;
    /// store.migrate().await?;
    /// store.create_user("rms").await?;
    /// let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tg_user").fetch_one(&pool).await?;
    /// assert_eq!(users, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn builder_on(pool: impl Into<SqlPool>) -> SqlStoreBuilder {
        let pool = pool.into();
        let url = match &pool {
            SqlPool::Any(pool) => pool.connect_options().database_url.to_string(),
            // A typed pool says its database itself and needs no URL.
            #[allow(unreachable_patterns)]
            _ => String::new(),
        };
        SqlStoreBuilder {
            shared_pool: Some(pool),
            ..Self::builder(&url)
        }
    }

    /// The database's dialect.
    pub fn dialect(&self) -> Dialect {
        self.inner.statements.dialect
    }

    /// The connection pool, shared with the application if it likes: see [`SqlPool`].
    pub fn pool(&self) -> &SqlPool {
        &self.inner.pool
    }

    /// The tables and columns in use.
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Begins a transaction, within the query timeout.
    pub(crate) async fn begin(&self) -> Result<Transaction, SqlError> {
        self.timed(self.inner.pool.begin()).await
    }

    /// Takes a connection from the pool, within the query timeout.
    pub(crate) async fn acquire(&self) -> Result<PooledConnection, SqlError> {
        self.timed(self.inner.pool.acquire()).await
    }

    /// How long a statement may take.
    pub(crate) fn query_timeout(&self) -> Duration {
        self.inner.query_timeout
    }

    /// Runs `future` within the store's query timeout.
    pub(crate) async fn timed<T>(
        &self,
        future: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, SqlError> {
        match tokio::time::timeout(self.inner.query_timeout, future).await {
            Ok(result) => result.map_err(SqlError::from),
            Err(_) => Err(SqlError::Timeout),
        }
    }

    /// The grants of `user` straight from the database: `None` when no such user.
    async fn query_grants(&self, user: &str) -> Result<Option<Arc<Grants>>, SqlError> {
        let statements = &self.inner.statements;
        let binds = vec![Bind::Text(user); statements.load_binds];
        let mut connection = self.acquire().await?;
        let rows = connection
            .connection()
            .grant_rows(statements.load.text(), binds);
        let rows = self.timed(rows).await?;
        let mut account = None;
        let mut groups = Vec::new();
        let mut permissions = Vec::new();
        for (kind, name, id, generation) in rows {
            let name = name.unwrap_or_default();
            match kind.as_str() {
                // MySQL's collations may match `ROOT` or `root ` to `root`: only the exact
                // name is this user.
                "u" if name == user => {
                    account = Some(Account::new(
                        id.unwrap_or_default(),
                        generation.unwrap_or_default(),
                    ));
                }
                "u" => {}
                "g" => groups.push(name),
                _ => permissions.push(name),
            }
        }
        Ok(account.map(|account| Arc::new(Grants::new(groups, permissions).with_account(account))))
    }
}

impl SqlStoreBuilder {
    /// Table and column names other than TurboGears' defaults.
    pub fn schema(mut self, schema: Schema) -> Self {
        self.schema = schema;
        self
    }

    /// Pool settings; those in the URL override them.
    pub fn pool(mut self, pool: PoolSettings) -> Self {
        self.pool = pool;
        self
    }

    /// Cache settings (the cache is on by default).
    pub fn cache(mut self, cache: CacheSettings) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Turns the cross-request cache off: every request queries the database.
    pub fn without_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// What a signed-in user without a row is (default: anonymous).
    pub fn unknown_users(mut self, unknown_users: UnknownUsers) -> Self {
        self.unknown_users = unknown_users;
        self
    }

    /// How long a query may take before the request is refused with 503 (default 5 s).
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// Connects, opening one connection now so that a wrong URL or an unreachable server is
    /// reported here rather than on the first request.
    pub async fn connect(self) -> Result<SqlStore, SqlError> {
        if let Some(pool) = self.shared_pool.clone() {
            let dialect = pool
                .dialect()
                .ok_or_else(|| SqlError::UnsupportedUrl(redact(&self.url)))?;
            check_feature(dialect)?;
            let acquire_timeout = pool.acquire_timeout();
            return self.finish(dialect, pool, acquire_timeout).await;
        }
        let dialect = Dialect::of_url(&self.url)
            .ok_or_else(|| SqlError::UnsupportedUrl(redact(&self.url)))?;
        check_feature(dialect)?;
        let (mut pool_settings, url) = self.pool.clone().take_from_url(&self.url)?;
        if dialect == Dialect::Sqlite && is_in_memory(&url) {
            // Each SQLite connection to `:memory:` is a database of its own, gone when the
            // connection closes: keep exactly one, for the life of the store.
            pool_settings = pool_settings
                .with_max_connections(1)
                .with_min_connections(1)
                .with_idle_timeout(None)
                .with_max_lifetime(None);
        }
        pool_settings.validate()?;
        sqlx::any::install_default_drivers();
        let session = Arc::new(pool_settings.session_statements.clone());
        let pool = AnyPoolOptions::new()
            .max_connections(pool_settings.max_connections)
            .min_connections(pool_settings.min_connections)
            .acquire_timeout(pool_settings.acquire_timeout)
            .idle_timeout(pool_settings.idle_timeout)
            .max_lifetime(pool_settings.max_lifetime)
            .test_before_acquire(pool_settings.test_before_acquire)
            .after_connect(move |connection, _| {
                let session = session.clone();
                Box::pin(async move {
                    // The application's own statements, as it wrote them.
                    for statement in session.iter() {
                        connection.execute(AssertSqlSafe(statement.clone())).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        self.finish(dialect, SqlPool::Any(pool), pool_settings.acquire_timeout)
            .await
    }

    /// The store on `pool`, with its cache and, on PostgreSQL, the cache's change listener
    /// (a connection of its own, to the pool's database), awaited for at most
    /// `acquire_timeout`.
    #[cfg_attr(not(feature = "postgres"), allow(unused_variables))]
    async fn finish(
        self,
        dialect: Dialect,
        pool: SqlPool,
        acquire_timeout: Duration,
    ) -> Result<SqlStore, SqlError> {
        // Other processes' writes arrive by NOTIFY on PostgreSQL; elsewhere the cache follows
        // the change counter.
        let listens = cfg!(feature = "postgres") && dialect == Dialect::Postgres;
        let cache = self
            .cache
            .as_ref()
            .map(|settings| Arc::new(GrantsCache::new(settings, !listens)));
        let instance = super::cache::instance_name();
        #[cfg(feature = "postgres")]
        let listener = match (&cache, dialect) {
            (Some(cache), Dialect::Postgres) => {
                let (listening, listened) = tokio::sync::oneshot::channel();
                let listener = super::cache::listener::spawn(
                    super::cache::listener::Source::of(&pool),
                    Arc::downgrade(cache),
                    instance.clone(),
                    listening,
                );
                // Return once the cache can be trusted; if the listener is slow, the cache is
                // bypassed until it is in place, which is safe.
                let _ = tokio::time::timeout(acquire_timeout, listened).await;
                Some(listener)
            }
            _ => None,
        };
        #[cfg(not(feature = "postgres"))]
        let listener = None;
        let listener = match (&cache, &self.cache, dialect) {
            (Some(cache), Some(settings), Dialect::Sqlite | Dialect::MySql) => {
                Some(super::changes::follow(
                    pool.clone(),
                    Arc::downgrade(cache),
                    settings.change_check_interval,
                    self.query_timeout,
                ))
            }
            _ => listener,
        };

        Ok(SqlStore {
            inner: Arc::new(Inner {
                pool,
                statements: Statements::new(dialect, &self.schema),
                schema: self.schema,
                cache,
                unknown_users: self.unknown_users,
                query_timeout: self.query_timeout,
                listener,
                instance,
                writes: AtomicU64::new(0),
            }),
        })
    }
}

fn check_feature(dialect: Dialect) -> Result<(), SqlError> {
    let (enabled, database, feature) = match dialect {
        Dialect::Sqlite => (cfg!(feature = "sqlite"), "SQLite", "sqlite"),
        Dialect::Postgres => (cfg!(feature = "postgres"), "PostgreSQL", "postgres"),
        Dialect::MySql => (cfg!(feature = "mysql"), "MySQL", "mysql"),
    };
    if enabled {
        Ok(())
    } else {
        Err(SqlError::FeatureDisabled { database, feature })
    }
}

/// Whether a SQLite URL names an in-memory database.
fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

impl CredentialsStore for SqlStore {
    async fn load(&self, user: &str) -> Result<Option<Arc<Grants>>, Error> {
        let cache = self.inner.cache.as_deref();
        if let Some(cached) = cache.and_then(|cache| cache.get(user)) {
            return Ok(cached);
        }
        let generation = cache.map(GrantsCache::generation);
        match self.query_grants(user).await {
            Ok(grants) => {
                if let (Some(cache), Some(generation)) = (cache, generation) {
                    cache.insert(user, grants.clone(), generation);
                }
                Ok(grants)
            }
            Err(error) => {
                tracing::warn!(target: "authz::sql", user, %error, "loading grants failed");
                Err(Error::store(error))
            }
        }
    }

    fn load_now(&self, user: &str) -> Option<Result<Option<Arc<Grants>>, Error>> {
        self.inner.cache.as_deref()?.get(user).map(Ok)
    }

    fn unknown_users_are_anonymous(&self) -> bool {
        self.inner.unknown_users == UnknownUsers::Anonymous
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://app:secret@db:5432/app"),
            "postgres://app:***@db:5432/app"
        );
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
    }
}
