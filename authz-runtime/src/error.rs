//! Why a request could not be decided. Every error denies: see "Fail closed" in the crate docs.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// A failure to decide a request: the authenticator, the store or a custom predicate could not
/// answer. The request is refused with `503 Service Unavailable`, never let through, and the
/// cause is logged.
///
/// ```
/// use authz_runtime::{Error, ErrorKind};
///
/// let error = Error::store(std::io::Error::other("connection refused"));
/// assert_eq!(error.kind(), ErrorKind::Store);
/// assert_eq!(error.to_string(), "the credentials store failed: connection refused");
/// ```
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    source: Arc<dyn StdError + Send + Sync>,
}

/// Which part of the access check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The authenticator could not tell who the user is.
    Authenticator,
    /// The credentials store could not load the user's groups and permissions.
    Store,
    /// A custom predicate could not decide.
    Predicate,
    /// The application is wired wrong, e.g. a guarded route without the [`AuthzLayer`](crate::AuthzLayer).
    Configuration,
}

impl Error {
    fn new(kind: ErrorKind, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            kind,
            source: Arc::from(source.into()),
        }
    }

    /// The authenticator failed.
    pub fn authenticator(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(ErrorKind::Authenticator, source)
    }

    /// The credentials store failed.
    pub fn store(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(ErrorKind::Store, source)
    }

    /// A custom predicate failed, e.g. its own database query.
    pub fn predicate(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(ErrorKind::Predicate, source)
    }

    pub(crate) fn configuration(message: &'static str) -> Self {
        Self::new(ErrorKind::Configuration, message)
    }

    /// Which part failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Authenticator => "the authenticator failed",
            ErrorKind::Store => "the credentials store failed",
            ErrorKind::Predicate => "a custom predicate failed",
            ErrorKind::Configuration => "access control is misconfigured",
        };
        write!(f, "{what}: {}", self.source)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("source", &self.source)
            .finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}
