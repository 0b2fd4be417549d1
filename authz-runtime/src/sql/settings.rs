//! Pool, cache and identity settings, from the builder or from the database URL.

use std::time::Duration;

use super::error::SqlError;

/// Connection pool settings. The defaults keep a pool healthy behind servers that close idle
/// connections (MySQL's `wait_timeout`, a restarted PostgreSQL): every connection is tested
/// before use and none lives longer than 30 minutes.
///
/// They can also be given in the database URL, as `pool_max_connections`,
/// `pool_min_connections`, `pool_acquire_timeout`, `pool_idle_timeout`, `pool_max_lifetime`
/// (seconds, `0` for none where that means something) and `pool_test_before_acquire`
/// (`true` / `false`):
/// `postgres://app@db/app?pool_max_connections=20&pool_max_lifetime=600`.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct PoolSettings {
    pub(crate) max_connections: u32,
    pub(crate) min_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_lifetime: Option<Duration>,
    pub(crate) test_before_acquire: bool,
    pub(crate) session_statements: Vec<String>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(3),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            test_before_acquire: true,
            session_statements: Vec::new(),
        }
    }
}

impl PoolSettings {
    /// At most this many connections (default 10).
    pub fn with_max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// Keep at least this many connections open (default 0).
    pub fn with_min_connections(mut self, min: u32) -> Self {
        self.min_connections = min;
        self
    }

    /// How long a lookup waits for a connection before it fails, refusing the request with 503
    /// (default 3 s).
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Close connections idle for this long (default 10 minutes; `None` for never).
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Replace connections older than this (default 30 minutes; `None` for never): the
    /// seed's `pool_recycle`.
    pub fn with_max_lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.max_lifetime = lifetime;
        self
    }

    /// Ping each connection before handing it out (default on), so that one the server
    /// closed is replaced rather than failing a request.
    pub fn with_test_before_acquire(mut self, test: bool) -> Self {
        self.test_before_acquire = test;
        self
    }

    /// A statement to run on every new connection, e.g. `SET TIME ZONE 'UTC'`.
    pub fn with_session_statement(mut self, statement: &str) -> Self {
        self.session_statements.push(statement.to_owned());
        self
    }

    /// Takes the `pool_*` parameters out of `url`, applying them to `self`; returns the URL
    /// for the driver, without them.
    pub(crate) fn take_from_url(mut self, url: &str) -> Result<(Self, String), SqlError> {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((self, url.to_owned()));
        };
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            if !key.starts_with("pool_") {
                kept.push(pair);
                continue;
            }
            let invalid = |reason: &str| SqlError::InvalidSetting {
                setting: key.to_owned(),
                reason: format!("{reason}, got {value:?}"),
            };
            let seconds = || {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| invalid("expected a number of seconds"))
            };
            let optional_seconds =
                || seconds().map(|duration| (!duration.is_zero()).then_some(duration));
            let count = || {
                value
                    .parse::<u32>()
                    .map_err(|_| invalid("expected a whole number"))
            };
            match key {
                "pool_max_connections" => self.max_connections = count()?,
                "pool_min_connections" => self.min_connections = count()?,
                "pool_acquire_timeout" => self.acquire_timeout = seconds()?,
                "pool_idle_timeout" => self.idle_timeout = optional_seconds()?,
                "pool_max_lifetime" => self.max_lifetime = optional_seconds()?,
                "pool_test_before_acquire" => {
                    self.test_before_acquire = match value {
                        "true" | "1" => true,
                        "false" | "0" => false,
                        _ => return Err(invalid("expected `true` or `false`")),
                    }
                }
                _ => {
                    return Err(SqlError::InvalidSetting {
                        setting: key.to_owned(),
                        reason: "unknown pool setting; expected one of pool_max_connections, \
                                 pool_min_connections, pool_acquire_timeout, pool_idle_timeout, \
                                 pool_max_lifetime, pool_test_before_acquire"
                            .to_owned(),
                    });
                }
            }
        }
        self.validate()?;
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((self, url))
    }

    pub(crate) fn validate(&self) -> Result<(), SqlError> {
        if self.max_connections == 0 {
            return Err(SqlError::InvalidSetting {
                setting: "pool_max_connections".to_owned(),
                reason: "must be at least 1".to_owned(),
            });
        }
        if self.min_connections > self.max_connections {
            return Err(SqlError::InvalidSetting {
                setting: "pool_min_connections".to_owned(),
                reason: format!(
                    "{} is more than pool_max_connections ({})",
                    self.min_connections, self.max_connections
                ),
            });
        }
        Ok(())
    }
}

/// The cross-request cache of grants. Every write through the store's admin API empties it,
/// whether its commit succeeded, failed or timed out; on PostgreSQL, so do writes made by other
/// instances of the app (LISTEN/NOTIFY).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct CacheSettings {
    pub(crate) time_to_live: Duration,
    pub(crate) max_users: u64,
    pub(crate) change_check_interval: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            time_to_live: Duration::from_secs(60),
            max_users: 10_000,
            change_check_interval: Duration::from_millis(500),
        }
    }
}

impl CacheSettings {
    /// How long a user's grants are kept (default 60 s). Writes made straight to the database,
    /// not through the admin API, show after at most this long (writes through any process's
    /// admin API show within the [change check interval](Self::with_change_check_interval)). It is also how long a cached user is still served while the
    /// database is unreachable, on SQLite and MySQL (see [`SqlStore`](super::SqlStore)).
    pub fn with_time_to_live(mut self, time_to_live: Duration) -> Self {
        self.time_to_live = time_to_live;
        self
    }

    /// How often the cache reads the change counter on SQLite and MySQL (default 500 ms): a
    /// write through the admin API of another process (the command line, another instance)
    /// empties this cache within about this long. One small query per interval, whatever
    /// the traffic; PostgreSQL hears of writes by `NOTIFY` instead.
    pub fn with_change_check_interval(mut self, interval: Duration) -> Self {
        self.change_check_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How many users' grants are kept at most (default 10,000); the least used go first.
    pub fn with_max_users(mut self, max_users: u64) -> Self {
        self.max_users = max_users;
        self
    }
}

/// What a signed-in user who has no row in the users table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownUsers {
    /// Anonymous (the default): a deleted user's live session stops working at once. Every
    /// predicate then needs the user's row, so even `is_user` costs one lookup (cached).
    #[default]
    Anonymous,
    /// Authenticated, with no groups: the authenticator's word is final, and identity-only
    /// predicates never query the database.
    Authenticated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_strips_pool_settings_from_the_url() {
        let (settings, url) = PoolSettings::default()
            .take_from_url(
                "postgres://app@localhost/app?sslmode=disable&pool_max_connections=20\
                 &pool_max_lifetime=0&pool_acquire_timeout=1.5&pool_test_before_acquire=false",
            )
            .unwrap();
        assert_eq!(url, "postgres://app@localhost/app?sslmode=disable");
        assert_eq!(settings.max_connections, 20);
        assert_eq!(settings.max_lifetime, None);
        assert_eq!(settings.acquire_timeout, Duration::from_millis(1500));
        assert!(!settings.test_before_acquire);
    }

    #[test]
    fn rejects_bad_pool_settings() {
        let error = |url: &str| {
            PoolSettings::default()
                .take_from_url(url)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error("sqlite:x.db?pool_max_connections=many"),
            "invalid setting `pool_max_connections`: expected a whole number, got \"many\""
        );
        assert!(
            error("sqlite:x.db?pool_size=3")
                .starts_with("invalid setting `pool_size`: unknown pool setting; expected one of")
        );
        assert_eq!(
            error("sqlite:x.db?pool_max_connections=0"),
            "invalid setting `pool_max_connections`: must be at least 1"
        );
    }
}
