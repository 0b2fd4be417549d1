//! Throwaway databases for the SQL store tests: one per test, on SQLite always, and on
//! PostgreSQL and MariaDB when their URLs are set, so that tests run in parallel and leave
//! nothing behind.
//!
//! `AUTHZ_TEST_POSTGRES_URL` and `AUTHZ_TEST_MYSQL_URL` name a server and a database the tests
//! may connect to in order to create their own; `.ci/run` sets both. Without them the
//! PostgreSQL and MariaDB tests say so and stop, unless `AUTHZ_TEST_REQUIRE_SERVERS` is set,
//! in which case they fail.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub mod log;
pub mod proxy;

use sqlx::{AssertSqlSafe, Connection, Executor};

/// Where a test's database lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

/// A database made for one test, dropped when the test ends (even by a panic).
pub struct TestDatabase {
    pub backend: Backend,
    /// The URL of the test's own database.
    pub url: String,
    /// The URL of the server's database the tests start from.
    pub server_url: String,
    pub name: String,
}

/// A name no other test of this run or any other run uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn server_url(backend: Backend) -> Option<String> {
    let variable = match backend {
        Backend::Sqlite => return Some(String::new()),
        Backend::Postgres => "AUTHZ_TEST_POSTGRES_URL",
        Backend::MySql => "AUTHZ_TEST_MYSQL_URL",
    };
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("AUTHZ_TEST_REQUIRE_SERVERS").is_some() => {
            panic!("{variable} is not set, and AUTHZ_TEST_REQUIRE_SERVERS says it must be")
        }
        _ => {
            eprintln!("{variable} is not set: skipping this {backend:?} test");
            None
        }
    }
}

/// `url` with its database (the path) replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let url = format!("{}/{database}", &base[..authority_end]);
    match query {
        Some(query) => format!("{url}?{query}"),
        None => url,
    }
}

impl TestDatabase {
    /// Creates a database for a test, or `None` when the backend's server is not configured.
    pub async fn create(backend: Backend) -> Option<Self> {
        let server_url = server_url(backend)?;
        let name = unique_name("authz_test");
        let url = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                format!("sqlite://{}?mode=rwc", path.display())
            }
            Backend::Postgres => {
                let mut connection = sqlx::PgConnection::connect(&server_url)
                    .await
                    .expect("the PostgreSQL test server accepts connections");
                connection
                    .execute(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await
                    .expect("a test database can be created");
                with_database(&server_url, &name)
            }
            Backend::MySql => {
                let mut connection = sqlx::MySqlConnection::connect(&server_url)
                    .await
                    .expect("the MariaDB test server accepts connections");
                connection
                    .execute(AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
                    .await
                    .expect("a test database can be created");
                with_database(&server_url, &name)
            }
        };
        Some(Self {
            backend,
            url,
            server_url,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (backend, server_url, name) =
            (self.backend, self.server_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime: clean up on a thread with its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for clean-up");
            runtime.block_on(async move {
                match backend {
                    Backend::Sqlite => {
                        let path = std::env::temp_dir().join(format!("{name}.db"));
                        for suffix in ["", "-wal", "-shm"] {
                            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                        }
                    }
                    Backend::Postgres => {
                        if let Ok(mut connection) = sqlx::PgConnection::connect(&server_url).await {
                            let _ = connection
                                .execute(AssertSqlSafe(format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                )))
                                .await;
                        }
                    }
                    Backend::MySql => {
                        if let Ok(mut connection) =
                            sqlx::MySqlConnection::connect(&server_url).await
                        {
                            let _ = connection
                                .execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                                .await;
                        }
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Defines one `#[tokio::test]` per backend for each listed test function, which takes the
/// test's database: `sql_suite!(creates_users, renames_groups);`.
#[macro_export]
macro_rules! sql_suite {
    ($($test:ident),* $(,)?) => {
        $crate::sql_suite!(@backend sqlite, Sqlite, $($test),*);
        $crate::sql_suite!(@backend postgres, Postgres, $($test),*);
        $crate::sql_suite!(@backend mariadb, MySql, $($test),*);
    };
    (@backend $module:ident, $backend:ident, $($test:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(database) = $crate::databases::TestDatabase::create(
                        $crate::databases::Backend::$backend,
                    ).await {
                        super::$test(&database).await;
                    }
                }
            )*
        }
    };
}
