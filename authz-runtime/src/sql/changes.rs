//! The change counter: one row that every write through the admin API bumps in its own
//! transaction, and that each store on SQLite or MySQL reads at a short interval, emptying its
//! cache when another process has written. (PostgreSQL's instances hear each other's writes
//! at once, through `NOTIFY`; see the cache's listener.)
//!
//! The counter is read by a background task, never by a request: cache hits stay free of
//! queries, and a revocation made by the command line, another instance or another app on the
//! same database is seen within the interval (half a second by default).

use std::sync::Weak;
use std::time::Duration;

use super::cache::GrantsCache;
use super::pool::SqlPool;
use super::schema::Dialect;

/// The counter's table, one per database whatever the schema's table names: a write under
/// any of them empties every store's cache, which costs a lookup at most.
pub(crate) const CHANGES_TABLE: &str = "authz_changes";

/// Bumps the counter (in the write's transaction).
pub(crate) const BUMP: &str = "UPDATE authz_changes SET counter = counter + 1 WHERE id = 1";

/// Reads the counter.
const READ: &str = "SELECT counter FROM authz_changes WHERE id = 1";

/// The statements that create the counter, for the migrations: the table and its one row.
pub(crate) fn create(dialect: Dialect) -> Vec<String> {
    let engine = match dialect {
        Dialect::MySql => " ENGINE=InnoDB",
        _ => "",
    };
    let row = match dialect {
        Dialect::Sqlite => "INSERT OR IGNORE INTO authz_changes (id, counter) VALUES (1, 0)",
        Dialect::Postgres => {
            "INSERT INTO authz_changes (id, counter) VALUES (1, 0) ON CONFLICT DO NOTHING"
        }
        Dialect::MySql => "INSERT IGNORE INTO authz_changes (id, counter) VALUES (1, 0)",
    };
    vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} \
             (id INTEGER NOT NULL PRIMARY KEY, counter BIGINT NOT NULL){engine}"
        ),
        row.to_owned(),
    ]
}

/// Reads the counter every `interval` (each read within `timeout`) until the cache is gone,
/// emptying the cache whenever the counter moved.
pub(crate) fn follow(
    pool: SqlPool,
    cache: Weak<GrantsCache>,
    interval: Duration,
    timeout: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // The first read after one interval: a store is usually migrated just after it
        // connects.
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Unknown until the first read: whatever was cached before it may be stale.
        let mut seen: Option<i64> = None;
        let mut failing = false;
        loop {
            ticks.tick().await;
            let read = tokio::time::timeout(timeout, read(&pool)).await;
            let Some(cache) = cache.upgrade() else { return };
            match read {
                Ok(Ok(counter)) => {
                    if seen != Some(counter) {
                        cache.invalidate();
                        seen = Some(counter);
                    }
                    if failing {
                        tracing::info!(target: "authz::sql", "reading the change counter again");
                        failing = false;
                    }
                }
                failed => {
                    // The database is unreachable (then nobody writes to it either) or not
                    // migrated yet: the time to live bounds what the cache serves.
                    if !failing {
                        let error = match failed {
                            Ok(Err(error)) => error.to_string(),
                            _ => "timed out".to_owned(),
                        };
                        let message =
                            "cannot read the change counter; cached grants last their time to live";
                        if seen.is_some() {
                            tracing::warn!(target: "authz::sql", %error, "{message}");
                        } else {
                            // Never read: most likely not migrated (yet).
                            tracing::debug!(target: "authz::sql", %error, "{message}");
                        }
                        failing = true;
                    }
                }
            }
        }
    })
}

async fn read(pool: &SqlPool) -> Result<i64, sqlx::Error> {
    let mut connection = pool.acquire().await?;
    let counters = connection.connection().integers(READ, []).await?;
    Ok(counters.first().copied().flatten().unwrap_or_default())
}
