//! Throttling sign-in attempts per user name and per client address (with `governor`), so
//! that passwords cannot be guessed at the speed of the server.

use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use compact_str::CompactString;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How many keys a limiter tracks before it forgets those whose allowance is full again.
const PRUNE_ABOVE: usize = 10_000;

/// How often, at most, a limiter looks for keys to forget: each look scans every key, and a
/// crowd of new names must not make every attempt pay for a scan.
const PRUNE_EVERY: Duration = Duration::from_secs(1);

/// Counts sign-in attempts by the user name tried and by the client's address, and refuses
/// those over the limits with [`Throttled`] (`429 Too Many Requests`, `Retry-After`).
///
/// Check it before the password is verified, with the name as typed: every attempt counts,
/// whether the name exists or not, so the answer never tells which names do. Defaults:
/// per name, 5 attempts at once, then one more every 30 s; per address, 30 at once, then one
/// more every 2 s. Clones share their counts; each process counts its own.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use std::time::Duration;
/// use authz_runtime::signin::SignInThrottle;
///
/// let throttle = SignInThrottle::new().per_name(2, Duration::from_secs(60));
/// let client = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));
/// assert!(throttle.check("rms", client).is_ok());
/// assert!(throttle.check("rms", client).is_ok());
/// let throttled = throttle.check("rms", client).unwrap_err();
/// assert!(throttled.retry_after > Duration::from_secs(50));
/// assert!(throttle.check("linus", client).is_ok(), "another name is counted apart");
/// ```
#[derive(Clone)]
pub struct SignInThrottle {
    names: Arc<Limiter<CompactString>>,
    addresses: Arc<Limiter<IpAddr>>,
}

/// One keyed limiter and the quota it was made with.
struct Limiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    burst: u32,
    every: Duration,
    pruned: Mutex<Instant>,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    fn new(burst: u32, every: Duration) -> Self {
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let every = every.max(Duration::from_millis(1));
        let quota = Quota::with_period(every)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
            burst: burst.get(),
            every,
            pruned: Mutex::new(Instant::now()),
        }
    }

    /// Counts an attempt for `key`: how long to wait when it is over the limit.
    fn count(&self, key: &K) -> Result<(), Duration> {
        if self.limiter.len() > PRUNE_ABOVE
            && let Ok(mut pruned) = self.pruned.try_lock()
            && pruned.elapsed() >= PRUNE_EVERY
        {
            self.limiter.retain_recent();
            *pruned = Instant::now();
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// A sign-in attempt over the limits: try again after `retry_after`.
///
/// As a response: `429 Too Many Requests` with `Retry-After` (whole seconds, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// When the next attempt is allowed.
    pub retry_after: Duration,
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too many sign-in attempts; try again in {} s",
            retry_seconds(self.retry_after)
        )
    }
}

impl std::error::Error for Throttled {}

impl IntoResponse for Throttled {
    fn into_response(self) -> Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, retry_seconds(self.retry_after).to_string())],
            "Too many sign-in attempts: try again later.",
        )
            .into_response()
    }
}

/// `Retry-After` counts whole seconds: round up, so that a retry on time is allowed.
fn retry_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl Default for SignInThrottle {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SignInThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInThrottle")
            .field("per_name", &(self.names.burst, self.names.every))
            .field("per_address", &(self.addresses.burst, self.addresses.every))
            .finish()
    }
}

impl SignInThrottle {
    /// The default limits (see [`SignInThrottle`]).
    pub fn new() -> Self {
        Self {
            names: Arc::new(Limiter::new(5, Duration::from_secs(30))),
            addresses: Arc::new(Limiter::new(30, Duration::from_secs(2))),
        }
    }

    /// Per user name: `burst` attempts at once (at least 1), then one more every `every`.
    #[must_use]
    pub fn per_name(mut self, burst: u32, every: Duration) -> Self {
        self.names = Arc::new(Limiter::new(burst, every));
        self
    }

    /// Per client address: `burst` attempts at once (at least 1), then one more every `every`.
    #[must_use]
    pub fn per_address(mut self, burst: u32, every: Duration) -> Self {
        self.addresses = Arc::new(Limiter::new(burst, every));
        self
    }

    /// Counts an attempt to sign in as `name` from `address` (`None` when the server does not
    /// know it): [`Throttled`] when either is over its limit, and then the password must not
    /// be checked. Names are counted as typed, so `"rms"` and `"RMS"` count apart.
    pub fn check(&self, name: &str, address: Option<IpAddr>) -> Result<(), Throttled> {
        let by_address = match address {
            Some(address) => self.addresses.count(&address),
            None => Ok(()),
        };
        let by_name = self.names.count(&CompactString::from(name));
        match (by_address, by_name) {
            (Ok(()), Ok(())) => Ok(()),
            (by_address, by_name) => {
                let wait = by_address
                    .err()
                    .unwrap_or_default()
                    .max(by_name.err().unwrap_or_default());
                tracing::warn!(
                    target: "authz::signin",
                    user = name,
                    address = address.map(tracing::field::display),
                    retry_after_secs = retry_seconds(wait),
                    "sign-in throttled"
                );
                Err(Throttled { retry_after: wait })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const CLIENT: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));

    #[test]
    fn a_name_is_throttled_from_every_address() {
        let throttle = SignInThrottle::new().per_name(3, Duration::from_secs(60));
        for n in 0..3u8 {
            let address = IpAddr::V4(Ipv4Addr::new(198, 51, 100, n));
            assert!(throttle.check("rms", Some(address)).is_ok(), "attempt {n}");
        }
        let other = Some(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1)));
        let throttled = throttle.check("rms", other).unwrap_err();
        assert!(throttled.retry_after <= Duration::from_secs(60));
        assert!(throttle.check("linus", other).is_ok());
    }

    #[test]
    fn an_address_is_throttled_whatever_the_name() {
        let throttle = SignInThrottle::new().per_address(4, Duration::from_secs(60));
        for n in 0..4 {
            assert!(throttle.check(&format!("user{n}"), CLIENT).is_ok());
        }
        assert!(throttle.check("user9", CLIENT).is_err());
        assert!(
            throttle.check("user9", None).is_ok(),
            "no address, no count"
        );
    }

    #[test]
    fn the_allowance_comes_back_with_time() {
        let throttle = SignInThrottle::new().per_name(1, Duration::from_millis(50));
        assert!(throttle.check("rms", CLIENT).is_ok());
        assert!(throttle.check("rms", CLIENT).is_err());
        std::thread::sleep(Duration::from_millis(80));
        assert!(throttle.check("rms", CLIENT).is_ok());
    }

    #[test]
    fn names_whose_allowance_is_full_again_are_forgotten() {
        let throttle = SignInThrottle::new().per_name(1, Duration::from_millis(1));
        for n in 0..=PRUNE_ABOVE {
            throttle.check(&format!("guess{n}"), None).unwrap();
        }
        std::thread::sleep(PRUNE_EVERY + Duration::from_millis(50));
        throttle.check("one more", None).unwrap();
        assert!(
            throttle.names.limiter.len() < 10,
            "{}",
            throttle.names.limiter.len()
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_seconds(Duration::ZERO), 1);
        assert_eq!(retry_seconds(Duration::from_millis(10)), 1);
        assert_eq!(retry_seconds(Duration::from_secs(30)), 30);
        assert_eq!(retry_seconds(Duration::from_millis(29_001)), 30);
        let response = Throttled {
            retry_after: Duration::from_millis(29_001),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "30");
    }
}
