//! The cross-request cache of grants, and on PostgreSQL the listener that keeps it in step with
//! writes made by other instances of the app.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::settings::CacheSettings;
use crate::Grants;

/// The statement that tells every instance, naming the write (`$1`, see [`notice`]) so that
/// the instance that made it can tell its own news; delivered when the transaction commits.
pub(crate) const NOTIFY_CHANGES: &str = "SELECT pg_notify('authz_changes', $1)";

/// A name for this store among the app's instances.
pub(crate) fn instance_name() -> String {
    static STORES: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        STORES.fetch_add(1, Ordering::Relaxed)
    )
}

/// The payload of a write's notification: the instance, and the write's number in it.
pub(crate) fn notice(instance: &str, write: u64) -> String {
    format!("{instance}/{write}")
}

/// The number of the write a notification names, when this instance made it.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn own_write(payload: &str, instance: &str) -> Option<u64> {
    payload
        .strip_prefix(instance)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

/// How many unsettled writes are remembered; older ones are forgotten (at worst their late
/// notification is ignored, as a settled one's would be).
const UNSETTLED_KEPT: usize = 64;

/// Users' grants (`None` for a user the store does not know), with a generation counter so that
/// a lookup that raced with a write never stores what it read before the write.
pub(crate) struct GrantsCache {
    entries: moka::sync::Cache<Box<str>, Option<Arc<Grants>>>,
    generation: AtomicU64,
    /// False while changes from other instances could be missed (the PostgreSQL listener is
    /// down): the cache is then bypassed.
    trusted: AtomicBool,
    /// This instance's writes whose commit failed or was abandoned: the server may have
    /// applied them anyway, maybe later still, so their notifications must empty the cache.
    unsettled: Mutex<VecDeque<u64>>,
}

impl GrantsCache {
    pub(crate) fn new(settings: &CacheSettings, trusted: bool) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(settings.max_users)
                .time_to_live(settings.time_to_live)
                .build(),
            generation: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted),
            unsettled: Mutex::new(VecDeque::new()),
        }
    }

    /// The cached grants of `user`: `Some(None)` for a user known not to exist.
    pub(crate) fn get(&self, user: &str) -> Option<Option<Arc<Grants>>> {
        if !self.trusted.load(Ordering::Acquire) {
            return None;
        }
        self.entries.get(user)
    }

    /// Where the cache stands, to be handed back to [`GrantsCache::insert`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps what a lookup read, unless the cache was emptied since the lookup began.
    pub(crate) fn insert(&self, user: &str, grants: Option<Arc<Grants>>, generation: u64) {
        if self.generation() == generation && self.trusted.load(Ordering::Acquire) {
            self.entries.insert(Box::from(user), grants);
            // An invalidation between the check and the insert must win.
            if self.generation() != generation {
                self.entries.invalidate(user);
            }
        }
    }

    /// Forgets everything: something was written.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.invalidate_all();
    }

    /// Remembers that this instance's `write` may or may not have been committed.
    fn unsettle(&self, write: u64) {
        let mut unsettled = self
            .unsettled
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if unsettled.len() == UNSETTLED_KEPT {
            unsettled.pop_front();
        }
        unsettled.push_back(write);
    }

    /// Whether this instance's `write` was unsettled (forgetting it: its news came).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    fn settle(&self, write: u64) -> bool {
        let mut unsettled = self
            .unsettled
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let found = unsettled.iter().position(|&unsettled| unsettled == write);
        found.map(|at| unsettled.remove(at)).is_some()
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn set_trusted(&self, trusted: bool) {
        self.trusted.store(trusted, Ordering::Release);
        self.invalidate();
    }
}

/// Empties the cache when dropped, however the commit it stands by ended: `Ok`, an error, a
/// timeout, or the caller giving up on the future. Once `COMMIT` is sent the server may have
/// applied the write whatever this instance hears back, and a cache that kept the old grants
/// would serve a revoked one for the whole time to live.
///
/// Emptying the cache before the commit would change nothing: a lookup in between would cache
/// the old grants again. After the commit, the generation counter makes a lookup that read
/// before it drop what it read.
pub(crate) struct Invalidation {
    cache: Option<Arc<GrantsCache>>,
    write: u64,
    committed: bool,
}

impl Invalidation {
    /// Stands by the commit of this instance's `write`.
    pub(crate) fn new(cache: Option<Arc<GrantsCache>>, write: u64) -> Self {
        Self {
            cache,
            write,
            committed: false,
        }
    }

    /// The server said the commit succeeded.
    pub(crate) fn committed(mut self) {
        self.committed = true;
    }
}

impl Drop for Invalidation {
    fn drop(&mut self) {
        let Some(cache) = &self.cache else { return };
        if !self.committed {
            // The server may apply it after this: on PostgreSQL its notification, whenever it
            // comes, empties the cache again. Elsewhere such a late commit shows within the
            // time to live, like any write made outside the admin API.
            cache.unsettle(self.write);
        }
        cache.invalidate();
    }
}

#[cfg(feature = "postgres")]
pub(crate) mod listener {
    //! Follows `NOTIFY authz_changes` so that a write by any instance empties every
    //! instance's cache.

    use std::sync::Weak;
    use std::time::Duration;

    use sqlx::PgPool;
    use sqlx::postgres::PgListener;

    use super::{GrantsCache, own_write};
    use crate::sql::pool::SqlPool;

    /// Where the listener connects.
    pub(crate) enum Source {
        /// The database of an `AnyPool`, by its URL.
        Url(String),
        /// The database of a `PgPool`, with its connect options.
        Pool(PgPool),
    }

    impl Source {
        /// The database `pool` is on.
        pub(crate) fn of(pool: &SqlPool) -> Self {
            match pool {
                SqlPool::Postgres(pool) => Source::Pool(pool.clone()),
                SqlPool::Any(pool) => Source::Url(pool.connect_options().database_url.to_string()),
                #[allow(unreachable_patterns)]
                _ => unreachable!("only PostgreSQL has a change listener"),
            }
        }

        async fn connect(&self) -> Result<PgListener, sqlx::Error> {
            match self {
                Source::Url(url) => PgListener::connect(url).await,
                Source::Pool(pool) => PgListener::connect_with(pool).await,
            }
        }
    }

    /// The channel that admin writes notify (see `NOTIFY_CHANGES`).
    const CHANGES_CHANNEL: &str = "authz_changes";

    /// Runs until the store is dropped. `listening` hears when the first `LISTEN` is in place.
    pub(crate) fn spawn(
        source: Source,
        cache: Weak<GrantsCache>,
        instance: String,
        listening: tokio::sync::oneshot::Sender<()>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            let mut listening = Some(listening);
            loop {
                match follow(&source, &cache, &instance, &mut backoff, &mut listening).await {
                    Ok(()) => return,
                    Err(error) => {
                        let Some(cache) = cache.upgrade() else { return };
                        cache.set_trusted(false);
                        tracing::warn!(
                            target: "authz::sql",
                            %error,
                            "lost the change listener; the grants cache is bypassed until it is back",
                        );
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        })
    }

    /// Listens until the store is dropped (`Ok`) or the connection cannot be re-established.
    async fn follow(
        source: &Source,
        cache: &Weak<GrantsCache>,
        instance: &str,
        backoff: &mut Duration,
        listening: &mut Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), sqlx::Error> {
        let mut listener = source.connect().await?;
        listener.listen(CHANGES_CHANNEL).await?;
        *backoff = Duration::from_millis(100);
        {
            let Some(cache) = cache.upgrade() else {
                return Ok(());
            };
            // Whatever happened while nobody listened is unknown: start empty.
            cache.set_trusted(true);
            tracing::debug!(target: "authz::sql", "listening for grant changes");
        }
        if let Some(listening) = listening.take() {
            let _ = listening.send(());
        }
        loop {
            let notification = listener.try_recv().await?;
            let Some(cache) = cache.upgrade() else {
                return Ok(());
            };
            match notification {
                Some(notification) => {
                    // This instance's own write: its cache was emptied at commit already,
                    // unless the commit's outcome was unknown then.
                    if let Some(write) = own_write(notification.payload(), instance)
                        && !cache.settle(write)
                    {
                        continue;
                    }
                }
                None => {
                    // The connection dropped and was re-established: changes may have been
                    // missed.
                    tracing::info!(target: "authz::sql", "change listener reconnected; cache emptied");
                }
            }
            cache.invalidate();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_the_instance_and_the_write() {
        let payload = notice("41-2-99", 7);
        assert_eq!(own_write(&payload, "41-2-99"), Some(7));
        // Another instance, even one whose name starts the same.
        assert_eq!(own_write(&payload, "41-2-9"), None);
        assert_eq!(own_write(&payload, "41-2-990"), None);
    }

    #[test]
    fn an_unknown_commit_outcome_empties_the_cache_and_awaits_its_news() {
        let cache = Arc::new(GrantsCache::new(&CacheSettings::default(), true));
        let grants = Some(Arc::new(Grants::new(["admins"], ["edit-site"])));
        cache.insert("rms", grants.clone(), cache.generation());
        Invalidation::new(Some(cache.clone()), 1).committed();
        assert!(cache.get("rms").is_none(), "emptied after a commit");
        assert!(!cache.settle(1), "a committed write's news is not awaited");

        cache.insert("rms", grants, cache.generation());
        drop(Invalidation::new(Some(cache.clone()), 2));
        assert!(cache.get("rms").is_none(), "emptied after a failed commit");
        assert!(
            cache.settle(2),
            "its news, if it comes, empties the cache again"
        );
        assert!(!cache.settle(2));
    }
}
