//! A request's credentials: who the user is, and the groups and permissions the store grants,
//! each found at most once per request and only when a predicate asks.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, OnceLock};

use compact_str::CompactString;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;

use crate::authenticator::DynAuthenticator;
use crate::context::ContextNow;
use crate::denial::Denials;
use crate::store::DynStore;
use crate::{Error, Grants, denial};

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
    /// Who the user is, written in place by a guard that learns it while nobody else holds
    /// the credentials: no synchronisation at all on the common path.
    learnt: Option<Known>,
    /// Who the user is, learnt through a shared reference (an async evaluation, a later
    /// extractor): set once.
    user: OnceLock<Known>,
}

/// What the authenticator answered, and the grants once the store did. A guard that needs
/// the grants first learns both in one step.
struct Known {
    /// `None` for an anonymous request. Names of up to 24 bytes are kept inline: knowing the
    /// user allocates nothing.
    name: Option<CompactString>,
    /// The grants, when they were learnt with the user.
    grants: Option<Arc<Grants>>,
    /// The grants, when they were loaded after the user was known.
    later: OnceLock<Arc<Grants>>,
}

impl Known {
    fn anonymous() -> Self {
        Self {
            name: None,
            grants: None,
            later: OnceLock::new(),
        }
    }

    fn user(name: CompactString, grants: Option<Arc<Grants>>) -> Self {
        Self {
            name: Some(name),
            grants,
            later: OnceLock::new(),
        }
    }

    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn grants(&self) -> Option<&Grants> {
        match (&self.name, &self.grants) {
            (None, _) => Some(&NO_GRANTS),
            (Some(_), Some(grants)) => Some(grants),
            (Some(_), None) => self.later.get().map(|grants| &**grants),
        }
    }

    /// Records grants loaded after the user was known; the first answer stands.
    fn add_grants(&self, grants: Arc<Grants>) -> &Grants {
        self.later.get_or_init(|| grants)
    }
}

static NO_GRANTS: LazyLock<Arc<Grants>> = LazyLock::new(Default::default);

/// What a store's answer makes of an authenticated user, when `grants` were asked for or the
/// store decides whether unknown users are anonymous.
fn known(store: &dyn DynStore, name: CompactString, found: Option<Arc<Grants>>) -> Known {
    match found {
        Some(grants) => Known::user(name, Some(grants)),
        None if store.unknown_users_are_anonymous() => Known::anonymous(),
        None => Known::user(name, Some(NO_GRANTS.clone())),
    }
}

impl RequestCredentials {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self(Arc::new(Lazy {
            shared,
            learnt: None,
            user: OnceLock::new(),
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
        self.known().map(Known::name)
    }

    /// The grants, if they were loaded already.
    #[inline]
    pub(crate) fn grants_now(&self) -> Option<&Grants> {
        self.known()?.grants()
    }

    /// What is known of the user so far.
    #[inline]
    fn known(&self) -> Option<&Known> {
        self.0.learnt.as_ref().or_else(|| self.0.user.get())
    }

    /// Records what was learnt of the user; the first guard's answer stands.
    fn settle(&self, known: Known) -> &Known {
        match &self.0.learnt {
            Some(learnt) => learnt,
            None => self.0.user.get_or_init(|| known),
        }
    }

    /// The user, asking the authenticator the first time if it can answer without waiting
    /// (and the store, when it decides whether unknown users are anonymous); `None` when one
    /// of them would wait, or when the user is not known yet and `parts` are not at hand.
    pub(crate) fn user_sync(&self, parts: Option<&Parts>) -> Option<Result<Option<&str>, Error>> {
        if let Some(known) = self.known() {
            return Some(Ok(known.name()));
        }
        Some(
            self.identify_now(parts?, false)?
                .map(|known| self.settle(known).name()),
        )
    }

    /// The grants, loading them the first time if the authenticator and the store can answer
    /// without waiting; `None` when one of them would wait, or when the user is not known yet
    /// and `parts` are not at hand.
    pub(crate) fn grants_sync(&self, parts: Option<&Parts>) -> Option<Result<&Grants, Error>> {
        let known = match self.known() {
            Some(known) => known,
            None => match self.identify_now(parts?, true)? {
                Ok(known) => self.settle(known),
                Err(error) => return Some(Err(error)),
            },
        };
        if let Some(grants) = known.grants() {
            return Some(Ok(grants));
        }
        // Known, and signed in (the anonymous have grants), but not yet looked up.
        let name = known.name()?;
        let grants = match self.0.shared.store.load_now(name)? {
            Ok(grants) => grants.unwrap_or_else(|| NO_GRANTS.clone()),
            Err(error) => return Some(Err(error)),
        };
        Some(Ok(known.add_grants(grants)))
    }

    /// Learns, before a rule of built-ins is decided and without waiting, what it reads: who
    /// the user is, and their grants when `grants`, in one step written straight into the
    /// request's credentials. What would wait, and a store's failure, are left to the lazy path,
    /// which meets them only if the rule gets that far (`any(is_user("root"), …)` lets `root`
    /// in with the store down). An authenticator's failure is returned: every built-in asks
    /// who the user is.
    ///
    /// Returns what the rule is then decided on; `None` when there are no credentials (no
    /// [`AuthzLayer`](crate::AuthzLayer)) or the authenticator would wait, which the lazy path
    /// reports or waits for.
    pub(crate) fn learn_now(
        parts: &mut Parts,
        grants: bool,
    ) -> Result<Option<ContextNow<'_>>, Error> {
        let Some(credentials) = parts.extensions.get::<Self>() else {
            return Ok(None);
        };
        let learnt = match credentials.known() {
            // A later guard finds the user known; the lazy path completes what is missing.
            Some(_) => None,
            None => match credentials.known_now(parts, grants)? {
                Some(known) => Some(known),
                // The authenticator, or a store that tells unknown users from anonymous ones,
                // would wait: nothing can be decided at once.
                None => return Ok(None),
            },
        };
        let Some(known) = learnt else {
            let parts: &Parts = parts;
            return Ok(parts
                .extensions
                .get::<Self>()
                .map(|credentials| ContextNow::new(Some(parts), credentials)));
        };
        let Some(credentials) = parts.extensions.get_mut::<Self>() else {
            return Ok(None);
        };
        match Arc::get_mut(&mut credentials.0) {
            // Nobody else holds them: written in place, without a `OnceLock`'s handshake.
            Some(lazy) => lazy.learnt = Some(known),
            None => {
                let _ = credentials.0.user.set(known);
            }
        }
        // Decided on the credentials just written, borrowed from the request: the user is
        // known, so the request's head is not needed again.
        Ok(Some(ContextNow::new(None, credentials)))
    }

    /// What `learn_now` learns: `Ok(None)` when the authenticator would wait, or when whether
    /// the user counts as anonymous hangs on a store that would wait or failed.
    fn known_now(&self, parts: &Parts, grants: bool) -> Result<Option<Known>, Error> {
        let name = match self.0.shared.authenticator.authenticate_now(parts) {
            Some(name) => name?,
            None => return Ok(None),
        };
        let Some(name) = name else {
            return Ok(Some(Known::anonymous()));
        };
        let name = CompactString::from(name);
        let store = &*self.0.shared.store;
        let anonymous_unless_known = store.unknown_users_are_anonymous();
        if !grants && !anonymous_unless_known {
            return Ok(Some(Known::user(name, None)));
        }
        Ok(match store.load_now(&name) {
            Some(Ok(found)) => Some(known(store, name, found)),
            _ if anonymous_unless_known => None,
            // The user is known; the grants are the lazy path's, should the rule ask.
            _ => Some(Known::user(name, None)),
        })
    }

    /// Who the user is, without waiting: `None` when the authenticator would wait, or the
    /// store would and its answer is needed (for `grants`, or to tell unknown users from
    /// anonymous ones).
    fn identify_now(&self, parts: &Parts, grants: bool) -> Option<Result<Known, Error>> {
        let name = match self.0.shared.authenticator.authenticate_now(parts)? {
            Ok(Some(name)) => CompactString::from(name),
            Ok(None) => return Some(Ok(Known::anonymous())),
            Err(error) => return Some(Err(error)),
        };
        let store = &*self.0.shared.store;
        if !grants && !store.unknown_users_are_anonymous() {
            return Some(Ok(Known::user(name, None)));
        }
        match store.load_now(&name) {
            Some(Ok(found)) => Some(Ok(known(store, name, found))),
            Some(Err(error)) => Some(Err(error)),
            // Whether the user is anonymous hangs on the store: ask both again, waiting.
            None if store.unknown_users_are_anonymous() => None,
            // Known now; the grants will wait.
            None => Some(Ok(Known::user(name, None))),
        }
    }

    /// Who the user is, asking the authenticator, and the store when `grants` are wanted too
    /// or it decides whether unknown users are anonymous: one lookup serves both.
    async fn identify(&self, parts: &Parts, grants: bool) -> Result<Known, Error> {
        let authenticator = &self.0.shared.authenticator;
        let name = match authenticator.authenticate_now(parts) {
            Some(name) => name?.map(CompactString::from),
            None => authenticator
                .authenticate(parts)
                .await?
                .map(CompactString::from),
        };
        let Some(name) = name else {
            return Ok(Known::anonymous());
        };
        let store = &*self.0.shared.store;
        if !grants && !store.unknown_users_are_anonymous() {
            return Ok(Known::user(name, None));
        }
        let found = load(store, &name).await?;
        Ok(known(store, name, found))
    }

    /// The authenticated user, asking the authenticator the first time.
    pub(crate) async fn user(&self, parts: &Parts) -> Result<Option<&str>, Error> {
        if let Some(known) = self.known() {
            return Ok(known.name());
        }
        let known = self.identify(parts, false).await?;
        Ok(self.settle(known).name())
    }

    /// The user's grants, loading them from the store the first time; none when anonymous or
    /// unknown to the store.
    pub(crate) async fn grants(&self, parts: &Parts) -> Result<&Grants, Error> {
        let known = match self.known() {
            Some(known) => known,
            None => self.settle(self.identify(parts, true).await?),
        };
        if let Some(grants) = known.grants() {
            return Ok(grants);
        }
        let Some(name) = known.name() else {
            return Ok(&NO_GRANTS);
        };
        let grants = load(&*self.0.shared.store, name).await?;
        let grants = grants.unwrap_or_else(|| NO_GRANTS.clone());
        Ok(known.add_grants(grants))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use crate::testing::{TEST_USER_HEADER, TestAuthenticator};

    /// A request from `rms`, in `admins`, which grants `manage`, with its credentials.
    fn request() -> (Parts, RequestCredentials) {
        let shared = Shared {
            authenticator: Arc::new(TestAuthenticator::default()),
            store: Arc::new(
                MemoryStore::builder()
                    .group("admins", ["rms"])
                    .permission("manage", ["admins"])
                    .build(),
            ),
            denials: Denials::default(),
        };
        let credentials = RequestCredentials::new(Arc::new(shared));
        let (mut parts, ()) = axum::http::Request::get("/")
            .header(TEST_USER_HEADER, "rms")
            .body(())
            .unwrap()
            .into_parts();
        parts.extensions.insert(credentials.clone());
        (parts, credentials)
    }

    #[test]
    fn learnt_in_place_when_nobody_else_holds_the_credentials() {
        let (mut parts, held) = request();
        drop(held);
        RequestCredentials::learn_now(&mut parts, true).unwrap();
        let credentials = RequestCredentials::from_parts(&parts).unwrap();
        assert!(credentials.0.learnt.is_some());
        assert_eq!(credentials.user_now(), Some(Some("rms")));
        assert!(credentials.grants_now().unwrap().has_permission("manage"));
    }

    #[test]
    fn the_rule_is_decided_on_what_was_learnt() {
        let (mut parts, held) = request();
        drop(held);
        let ctx = RequestCredentials::learn_now(&mut parts, true)
            .unwrap()
            .expect("the test authenticator answers at once");
        assert_eq!(ctx.user_sync().unwrap().unwrap(), Some("rms"));
        assert!(ctx.grants_sync().unwrap().unwrap().in_group("admins"));
    }

    #[test]
    fn without_the_request_head_an_unknown_user_waits() {
        let (parts, credentials) = request();
        let ctx = ContextNow::new(None, &credentials);
        assert!(ctx.user_sync().is_none());
        assert!(ctx.grants_sync().is_none());
        // With it, the same credentials are learnt at once.
        let ctx = ContextNow::new(Some(&parts), &credentials);
        assert_eq!(ctx.user_sync().unwrap().unwrap(), Some("rms"));
    }

    #[test]
    fn learnt_once_for_all_when_the_credentials_are_shared() {
        let (mut parts, held) = request();
        RequestCredentials::learn_now(&mut parts, true).unwrap();
        // The copy held elsewhere sees what the guard learnt.
        assert!(held.0.learnt.is_none());
        assert_eq!(held.user_now(), Some(Some("rms")));
        assert!(held.grants_now().unwrap().has_permission("manage"));
    }

    #[test]
    fn identity_alone_leaves_the_grants_to_whoever_asks() {
        let (mut parts, held) = request();
        drop(held);
        RequestCredentials::learn_now(&mut parts, false).unwrap();
        let credentials = RequestCredentials::from_parts(&parts).unwrap();
        assert_eq!(credentials.user_now(), Some(Some("rms")));
        assert!(credentials.grants_now().is_none());
        let grants = credentials.grants_sync(Some(&parts)).unwrap().unwrap();
        assert!(grants.in_group("admins"));
        assert!(credentials.grants_now().is_some());
    }

    #[test]
    fn anonymous_requests_have_no_grants() {
        let (mut parts, held) = request();
        drop(held);
        parts.headers.clear();
        RequestCredentials::learn_now(&mut parts, true).unwrap();
        let credentials = RequestCredentials::from_parts(&parts).unwrap();
        assert_eq!(credentials.user_now(), Some(None));
        assert_eq!(credentials.grants_now().unwrap().groups().count(), 0);
    }
}
