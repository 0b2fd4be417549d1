//! A request's credentials: who the user is, and the groups and permissions the store grants,
//! each found at most once per request and only when a predicate asks.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, OnceLock};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;

use crate::authenticator::DynAuthenticator;
use crate::denial::Denials;
use crate::store::DynStore;
use crate::{Error, denial};

/// The groups of a user and the permissions those groups grant, as one store lookup returns
/// them. Permissions come only through groups.
///
/// ```
/// use authz_runtime::Grants;
///
/// let grants = Grants::new(["admins", "developers"], ["edit-site", "commit"]);
/// assert!(grants.in_group("admins"));
/// assert!(grants.has_permission("commit"));
/// assert!(!grants.has_permission("see-site"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    groups: foldhash::HashSet<Box<str>>,
    permissions: foldhash::HashSet<Box<str>>,
}

impl Grants {
    /// Grants of these groups and permissions.
    pub fn new<G, P>(groups: G, permissions: P) -> Self
    where
        G: IntoIterator,
        G::Item: Into<Box<str>>,
        P: IntoIterator,
        P::Item: Into<Box<str>>,
    {
        Self {
            groups: groups.into_iter().map(Into::into).collect(),
            permissions: permissions.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the user belongs to `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.contains(group)
    }

    /// Whether one of the user's groups grants `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// The user's groups, in no particular order.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|group| &**group)
    }

    /// The user's permissions, in no particular order.
    pub fn permissions(&self) -> impl Iterator<Item = &str> {
        self.permissions.iter().map(|permission| &**permission)
    }
}

/// What every request shares: set up once by [`AuthzLayer`](crate::AuthzLayer).
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) authenticator: Arc<dyn DynAuthenticator>,
    pub(crate) store: Arc<dyn DynStore>,
    pub(crate) denials: Denials,
}

/// One request's credentials, placed in its extensions by the layer and filled in lazily by
/// the guards: identity-only predicates never reach the store.
///
/// The extractors of one request run one after another, never at once, so plain `OnceLock`s
/// suffice: a value is computed by the first guard that needs it and read by the rest.
#[derive(Clone)]
pub(crate) struct RequestCredentials(Arc<Lazy>);

struct Lazy {
    shared: Arc<Shared>,
    user: OnceLock<Option<String>>,
    grants: OnceLock<Arc<Grants>>,
}

static NO_GRANTS: LazyLock<Arc<Grants>> = LazyLock::new(Default::default);

impl RequestCredentials {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self(Arc::new(Lazy {
            shared,
            user: OnceLock::new(),
            grants: OnceLock::new(),
        }))
    }

    pub(crate) fn from_parts(parts: &Parts) -> Result<Self, Error> {
        parts.extensions.get::<Self>().cloned().ok_or_else(|| {
            Error::configuration(
                "a guarded handler was called without `AuthzLayer`: add \
                 `.layer(AuthzLayer::new(authenticator, store))` to the router",
            )
        })
    }

    pub(crate) fn denials(&self) -> &Denials {
        &self.0.shared.denials
    }

    /// The user, if the authenticator was asked already.
    #[inline]
    pub(crate) fn user_now(&self) -> Option<Option<&str>> {
        self.0.user.get().map(Option::as_deref)
    }

    /// The grants, if they were loaded already.
    #[inline]
    pub(crate) fn grants_now(&self) -> Option<&Grants> {
        match self.user_now() {
            Some(None) => Some(&NO_GRANTS),
            _ => self.0.grants.get().map(|grants| &**grants),
        }
    }

    /// The user, asking the authenticator the first time if it can answer without waiting
    /// (and the store, when it decides whether unknown users are anonymous); `None` when one
    /// of them would wait.
    pub(crate) fn user_sync(&self, parts: &Parts) -> Option<Result<Option<&str>, Error>> {
        if let Some(user) = self.user_now() {
            return Some(Ok(user));
        }
        let user = match self.0.shared.authenticator.authenticate_now(parts)? {
            Ok(Some(user)) => user,
            Ok(None) => return Some(Ok(self.0.user.get_or_init(|| None).as_deref())),
            Err(error) => return Some(Err(error)),
        };
        let store = &self.0.shared.store;
        let user = if store.unknown_users_are_anonymous() {
            // As in `authenticate`: the same lookup serves the grants.
            match store.load_now(&user)? {
                Ok(Some(grants)) => {
                    let _ = self.0.grants.set(grants);
                    Some(user)
                }
                Ok(None) => None,
                Err(error) => return Some(Err(error)),
            }
        } else {
            Some(user)
        };
        Some(Ok(self.0.user.get_or_init(|| user).as_deref()))
    }

    /// The grants, loading them the first time if the authenticator and the store can answer
    /// without waiting; `None` when one of them would wait.
    pub(crate) fn grants_sync(&self, parts: &Parts) -> Option<Result<&Grants, Error>> {
        if let Some(grants) = self.grants_now() {
            return Some(Ok(grants));
        }
        let user = match self.user_sync(parts)? {
            Ok(Some(user)) => user,
            Ok(None) => return Some(Ok(&NO_GRANTS)),
            Err(error) => return Some(Err(error)),
        };
        if let Some(grants) = self.0.grants.get() {
            return Some(Ok(grants));
        }
        let grants = match self.0.shared.store.load_now(user)? {
            Ok(grants) => grants.unwrap_or_else(|| NO_GRANTS.clone()),
            Err(error) => return Some(Err(error)),
        };
        Some(Ok(self.0.grants.get_or_init(|| grants)))
    }

    /// The authenticated user, asking the authenticator the first time.
    pub(crate) async fn user(&self, parts: &Parts) -> Result<Option<&str>, Error> {
        if let Some(user) = self.user_now() {
            return Ok(user);
        }
        let user = self.authenticate(parts).await?;
        Ok(self.0.user.get_or_init(|| user).as_deref())
    }

    async fn authenticate(&self, parts: &Parts) -> Result<Option<String>, Error> {
        let authenticator = &self.0.shared.authenticator;
        let user = match authenticator.authenticate_now(parts) {
            Some(user) => user?,
            None => authenticator.authenticate(parts).await?,
        };
        let Some(user) = user else {
            return Ok(None);
        };
        let store = &self.0.shared.store;
        if store.unknown_users_are_anonymous() {
            // The same lookup serves the grants, so no predicate pays for it twice.
            match load(&**store, &user).await? {
                Some(grants) => {
                    let _ = self.0.grants.set(grants);
                }
                None => return Ok(None),
            }
        }
        Ok(Some(user))
    }

    /// The user's grants, loading them from the store the first time; none when anonymous or
    /// unknown to the store.
    pub(crate) async fn grants(&self, parts: &Parts) -> Result<&Grants, Error> {
        if let Some(grants) = self.grants_now() {
            return Ok(grants);
        }
        let Some(user) = self.user(parts).await? else {
            return Ok(&NO_GRANTS);
        };
        if let Some(grants) = self.0.grants.get() {
            return Ok(grants);
        }
        let grants = load(&*self.0.shared.store, user).await?;
        let grants = grants.unwrap_or_else(|| NO_GRANTS.clone());
        Ok(self.0.grants.get_or_init(|| grants))
    }
}

/// A user's grants from `store`, without a future when it has them at hand.
async fn load(store: &dyn DynStore, user: &str) -> Result<Option<Arc<Grants>>, Error> {
    match store.load_now(user) {
        Some(grants) => grants,
        None => store.load(user).await,
    }
}

/// The signed-in user's name, for handlers: `Identity(Some("rms"))`, or `None` for an
/// anonymous visitor. It asks the same authenticator as the guards, once per request.
///
/// ```
/// use authz_runtime::Identity;
///
/// async fn home(Identity(user): Identity) -> String {
///     match user {
///         Some(user) => format!("Welcome to the admin side, {user}"),
///         None => "Welcome, stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let found = async {
            let credentials = RequestCredentials::from_parts(parts)?;
            let user = credentials.user(parts).await?;
            Ok::<_, Error>(user.map(str::to_owned))
        };
        match found.await {
            Ok(user) => Ok(Identity(user)),
            Err(error) => Err(denial::unavailable(parts, &error, "Identity extractor")),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Identity {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let identity = <Identity as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Ok(identity.0.is_some().then_some(identity))
    }
}

/// A boxed future, for the object-safe sides of the authenticator and store traits.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
