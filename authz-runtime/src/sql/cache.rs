//! The cross-request cache of grants, and on PostgreSQL the listener that keeps it in step with
//! writes made by other instances of the app.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::settings::CacheSettings;
use crate::Grants;

/// The statement that tells every instance, naming the one that wrote (`$1`) so that it can
/// ignore its own news; delivered when the transaction commits.
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

/// Users' grants (`None` for a user the store does not know), with a generation counter so that
/// a lookup that raced with a write never stores what it read before the write.
pub(crate) struct GrantsCache {
    entries: moka::sync::Cache<Box<str>, Option<Arc<Grants>>>,
    generation: AtomicU64,
    /// False while changes from other instances could be missed (the PostgreSQL listener is
    /// down): the cache is then bypassed.
    trusted: AtomicBool,
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

    #[cfg(feature = "postgres")]
    pub(crate) fn set_trusted(&self, trusted: bool) {
        self.trusted.store(trusted, Ordering::Release);
        self.invalidate();
    }
}

#[cfg(feature = "postgres")]
pub(crate) mod listener {
    //! Follows `NOTIFY authz_changes` so that a write by any instance empties every
    //! instance's cache.

    use std::sync::Weak;
    use std::time::Duration;

    use sqlx::postgres::PgListener;

    use super::GrantsCache;

    /// The channel that admin writes notify (see `NOTIFY_CHANGES`).
    const CHANGES_CHANNEL: &str = "authz_changes";

    /// Runs until the store is dropped. `listening` hears when the first `LISTEN` is in place.
    pub(crate) fn spawn(
        url: String,
        cache: Weak<GrantsCache>,
        instance: String,
        listening: tokio::sync::oneshot::Sender<()>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            let mut listening = Some(listening);
            loop {
                match follow(&url, &cache, &instance, &mut backoff, &mut listening).await {
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
        url: &str,
        cache: &Weak<GrantsCache>,
        instance: &str,
        backoff: &mut Duration,
        listening: &mut Option<tokio::sync::oneshot::Sender<()>>,
    ) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect(url).await?;
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
                // This instance's own write: its cache was emptied at commit already.
                Some(notification) if notification.payload() == instance => continue,
                Some(_) => {}
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
