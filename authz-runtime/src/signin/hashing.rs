//! Password checks with bounded memory: at most so many Argon2 runs at once, the rest wait a
//! little and are then refused with `503 Service Unavailable` and `Retry-After`.

use std::fmt;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::password::{hash_password, verify_password};
use crate::Error;

/// Runs password verifications and hashes off the async runtime, at most `limit` at once, on
/// `limit` threads of its own.
///
/// Each Argon2 run holds 19 MiB while it runs, and a sign-in costs one whether the name
/// exists or not; without a bound, a burst of wrong sign-ins runs as many at once as tokio's
/// blocking pool has threads (512) and takes gigabytes, which the allocator keeps. With it,
/// memory for hashing stays near `limit` × 19 MiB: a check that cannot start within the wait
/// is refused with [`Busy`], which answers `503` with `Retry-After`. The checks run on the
/// same `limit` threads every time, not on tokio's blocking pool, because each new thread
/// that hashes gets an allocator arena of its own and keeps its 19 MiB after the hash is
/// done.
///
/// The default limit is the number of cores (hashing is CPU-bound: more at once would only
/// queue in the kernel), and the default wait is 2 seconds. Clones share their limit.
///
/// ```
/// use std::time::Duration;
/// use authz_runtime::signin::{PasswordChecks, hash_password};
///
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let checks = PasswordChecks::new().with_limit(2).with_wait(Duration::from_millis(500));
/// let stored = checks.hash("correct horse battery staple").await.unwrap();
/// assert_eq!(checks.verify("correct horse battery staple", Some(&stored)).await, Ok(true));
/// assert_eq!(checks.verify("Tr0ub4dor&3", Some(&stored)).await, Ok(false));
/// assert_eq!(checks.verify("anything", None).await, Ok(false), "an unknown user");
/// # });
/// ```
#[derive(Clone)]
pub struct PasswordChecks {
    running: Arc<Semaphore>,
    workers: Arc<Workers>,
    limit: usize,
    wait: Duration,
}

/// Work for the checks' threads.
type Job = Box<dyn FnOnce() + Send>;

/// The checks' threads, fed through a channel; they end when the last clone of the checks
/// is dropped and the channel closes.
struct Workers {
    jobs: Mutex<Sender<Job>>,
}

impl Workers {
    fn spawn(count: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..count {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name("authz-password-check".to_owned())
                .spawn(move || work(&queue));
            if let Err(error) = spawned {
                tracing::error!(target: "authz::signin", %error, "cannot start a password-check thread");
            }
        }
        Self {
            jobs: Mutex::new(jobs),
        }
    }

    fn send(&self, job: Job) -> bool {
        let jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        jobs.send(job).is_ok()
    }
}

/// A checks' thread: runs jobs until the channel closes.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(|poison| poison.into_inner());
            queue.recv()
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

impl fmt::Debug for PasswordChecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordChecks")
            .field("limit", &self.limit)
            .field("wait", &self.wait)
            .finish()
    }
}

impl Default for PasswordChecks {
    fn default() -> Self {
        Self::new()
    }
}

/// No password check could start within the wait: try again after `retry_after`.
///
/// As a response: `503 Service Unavailable` with `Retry-After` (whole seconds, at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    /// When a retry has a fair chance.
    pub retry_after: Duration,
}

impl fmt::Display for Busy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("too many password checks at once; try again shortly")
    }
}

impl std::error::Error for Busy {}

impl IntoResponse for Busy {
    fn into_response(self) -> Response {
        let seconds = self.retry_after.as_secs().max(1);
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(RETRY_AFTER, seconds.to_string())],
            "Too many sign-ins at once: try again in a moment.",
        )
            .into_response()
    }
}

impl PasswordChecks {
    /// As many checks at once as the machine has cores, each waiting up to 2 s to start.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::with_bounds(cores, Duration::from_secs(2))
    }

    fn with_bounds(limit: usize, wait: Duration) -> Self {
        let limit = limit.max(1);
        Self {
            running: Arc::new(Semaphore::new(limit)),
            workers: Arc::new(Workers::spawn(limit)),
            limit,
            wait,
        }
    }

    /// At most `limit` (at least 1) checks and hashes at once.
    #[must_use]
    pub fn with_limit(self, limit: usize) -> Self {
        Self::with_bounds(limit, self.wait)
    }

    /// How long a check may wait for its turn before it is refused with [`Busy`].
    #[must_use]
    pub fn with_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The most checks that run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// [`verify_password`], in its turn, on the checks' threads.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, Busy> {
        let password = password.to_owned();
        let stored = stored.map(str::to_owned);
        let matched = self
            .run(move || verify_password(&password, stored.as_deref()))
            .await?;
        // A check that panicked matched nothing.
        Ok(matched.unwrap_or(false))
    }

    /// [`hash_password`], in its turn, on the checks' threads.
    pub async fn hash(&self, password: &str) -> Result<String, Error> {
        let password = password.to_owned();
        match self.run(move || hash_password(&password)).await {
            Ok(Some(hashed)) => hashed,
            Ok(None) => Err(Error::authenticator("hashing a password failed")),
            Err(busy) => Err(Error::authenticator(busy.to_string())),
        }
    }

    /// Runs `work` on the checks' threads once a place is free: `None` if it panicked.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, Busy> {
        let busy = Busy {
            retry_after: self.wait.max(Duration::from_secs(1)),
        };
        let permit =
            match tokio::time::timeout(self.wait, self.running.clone().acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                // Timed out, or the semaphore closed (it never is).
                _ => {
                    tracing::warn!(
                        target: "authz::signin",
                        limit = self.limit,
                        "password check refused: too many at once"
                    );
                    return Err(busy);
                }
            };
        // The permit goes with the work: if the request is dropped, the place stays taken
        // until the hashing, which cannot be stopped, is over. As many permits as threads:
        // a job sent always finds a thread free.
        let (done, outcome) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
            drop(permit);
            let _ = done.send(result.ok());
        });
        if !self.workers.send(job) {
            return Ok(None);
        }
        Ok(outcome.await.ok().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_beyond_the_limit_wait_then_are_refused() {
        let checks = PasswordChecks::new()
            .with_limit(1)
            .with_wait(Duration::from_millis(1));
        let stored = checks.hash("right").await.unwrap();
        let attempts: Vec<_> = (0..6)
            .map(|_| {
                let checks = checks.clone();
                let stored = stored.clone();
                tokio::spawn(async move { checks.verify("wrong", Some(&stored)).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for attempt in attempts {
            outcomes.push(attempt.await.unwrap());
        }
        assert!(outcomes.contains(&Ok(false)), "{outcomes:?}");
        assert!(
            outcomes.iter().any(Result::is_err),
            "one place, six at once: {outcomes:?}"
        );
        // Once the others are done, a check runs again.
        assert_eq!(checks.verify("right", Some(&stored)).await, Ok(true));
    }

    #[test]
    fn a_limit_is_at_least_one() {
        assert_eq!(PasswordChecks::new().with_limit(0).limit(), 1);
    }

    #[tokio::test]
    async fn busy_answers_503_with_retry_after() {
        let response = Busy {
            retry_after: Duration::from_millis(300),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
    }
}
