//! A request's credentials: who the user is, and the groups and permissions the store grants,
//! each found at most once per request and only when a predicate asks.
//!
//! Every question comes in two forms. `*_now` answers without waiting, or says it would have
//! to (`None`): the evaluator decides a rule at once whenever the authenticator and the store
//! can answer at once (a header, a signed cookie, a cached lookup). The async form waits. Both
//! go through the one identification below, which differs only in whether it may wait.

use std::cell::OnceCell;
use std::sync::{Arc, LazyLock, OnceLock};

use axum::http::request::Parts;
use compact_str::CompactString;

use crate::authenticator::DynAuthenticator;
use crate::settings::Denials;
use crate::store::DynStore;
use crate::{Error, Grants};

/// What every request shares: set up once by [`AuthzLayer`](crate::AuthzLayer).
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) authenticator: Arc<dyn DynAuthenticator>,
    pub(crate) store: Arc<dyn DynStore>,
    pub(crate) denials: Denials,
}

/// One request's credentials, placed in its extensions by the layer and filled in lazily by
/// the guards: identity-only rules never reach the store.
///
/// The extractors of one request run one after another, never at once, so plain `OnceLock`s
/// suffice: a value is found by the first guard that needs it and read by the rest. The slots
/// are the extension itself, not shared behind an `Arc`: a clone is a copy of what is known so
/// far, and one allocation per request (the extension's) is all the layer costs.
pub(crate) type RequestCredentials = Credentials<Shareable>;

/// The credentials of a decision that nothing reads after: the last guard of a handler, which
/// takes the request whole. What it finds is its own, in cells that need no synchronisation,
/// and goes when it has decided; see [`RequestCredentials::alone`].
pub(crate) type OwnCredentials = Credentials<Own>;

/// Who the user is and their grants, each found once, in the cells `C` gives.
///
/// Two slots, so that the usual request, whose first guard needs the grants, records what it
/// learns in one write: who the user is and their grants, together in `grants`. Only an
/// identity rule that comes first fills `user` alone. Each slot is written once.
pub(crate) struct Credentials<C: Cells> {
    shared: Arc<Shared>,
    /// Who the user is, when found before the grants: `None` when anonymous. Names of up to
    /// 24 bytes are kept inline, so knowing the user allocates nothing.
    user: C::Cell<Option<CompactString>>,
    /// Who the user is and their grants: empty when anonymous or unknown to the store.
    grants: C::Cell<(Option<CompactString>, Arc<Grants>)>,
}

/// The kind of cell credentials keep their slots in.
pub(crate) trait Cells {
    type Cell<T>: Once<T>;
}

/// A request's cells, which its extractors share: `OnceLock`, because a request may move
/// between threads from one extractor to the next.
pub(crate) enum Shareable {}

impl Cells for Shareable {
    type Cell<T> = OnceLock<T>;
}

/// One decision's own cells: `OnceCell`, which writes without an atomic operation.
pub(crate) enum Own {}

impl Cells for Own {
    type Cell<T> = OnceCell<T>;
}

/// A cell written once: what `OnceLock` and `OnceCell` have in common.
pub(crate) trait Once<T>: Default {
    fn get(&self) -> Option<&T>;
    fn get_or_init(&self, init: impl FnOnce() -> T) -> &T;
}

impl<T> Once<T> for OnceLock<T> {
    #[inline]
    fn get(&self) -> Option<&T> {
        OnceLock::get(self)
    }

    #[inline]
    fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        OnceLock::get_or_init(self, init)
    }
}

impl<T> Once<T> for OnceCell<T> {
    #[inline]
    fn get(&self) -> Option<&T> {
        OnceCell::get(self)
    }

    #[inline]
    fn get_or_init(&self, init: impl FnOnce() -> T) -> &T {
        OnceCell::get_or_init(self, init)
    }
}

impl Clone for RequestCredentials {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            user: self.user.clone(),
            grants: self.grants.clone(),
        }
    }
}

static NO_GRANTS: LazyLock<Arc<Grants>> = LazyLock::new(Default::default);

/// An answer that may not be at hand: `None` when finding it would wait.
type Now<T> = Option<Result<T, Error>>;

impl RequestCredentials {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            user: OnceLock::new(),
            grants: OnceLock::new(),
        }
    }

    /// The request's credentials, which [`AuthzLayer`](crate::AuthzLayer) attached.
    pub(crate) fn of(parts: &Parts) -> Result<&Self, Error> {
        parts.extensions.get::<Self>().ok_or_else(|| {
            Error::configuration(
                "a guarded handler was called without `AuthzLayer`: add \
                 `.layer(AuthzLayer::new(authenticator, store))` to the router",
            )
        })
    }

    /// A decision's own copy of what is known so far, for a decision that nothing reads
    /// after: what it finds needs no synchronised write, nor to be kept.
    pub(crate) fn alone(&self) -> OwnCredentials {
        Credentials {
            shared: self.shared.clone(),
            user: self
                .user
                .get()
                .cloned()
                .map(OnceCell::from)
                .unwrap_or_default(),
            grants: self
                .grants
                .get()
                .cloned()
                .map(OnceCell::from)
                .unwrap_or_default(),
        }
    }

    /// Keeps what `own`, a copy from [`alone`](Self::alone), found: for a decision that must
    /// wait after all, so that what it learned before is not asked again.
    pub(crate) fn adopt(&self, own: OwnCredentials) {
        let Credentials { user, grants, .. } = own;
        if let Some(user) = user.into_inner() {
            self.user.get_or_init(|| user);
        }
        if let Some(grants) = grants.into_inner() {
            self.grants.get_or_init(|| grants);
        }
    }
}

impl<C: Cells> Credentials<C> {
    pub(crate) fn denials(&self) -> &Denials {
        &self.shared.denials
    }

    /// The user, if the authenticator was asked already.
    #[inline]
    pub(crate) fn user_known(&self) -> Option<Option<&str>> {
        match self.grants.get() {
            Some((user, _)) => Some(user.as_deref()),
            None => self.user.get().map(Option::as_deref),
        }
    }

    /// The grants, if they were loaded already.
    #[inline]
    pub(crate) fn grants_known(&self) -> Option<&Grants> {
        self.grants.get().map(|(_, grants)| &**grants)
    }

    /// The user, asking the authenticator the first time if it answers without waiting.
    pub(crate) fn user_now(&self, parts: &Parts) -> Now<Option<&str>> {
        if let Some(user) = self.user_known() {
            return Some(Ok(user));
        }
        let name = match self.shared.authenticator.authenticate_now(parts)? {
            Ok(name) => name.map(CompactString::from),
            Err(error) => return Some(Err(error)),
        };
        let found = match self.store_answer_needed(name.as_deref(), false) {
            Some(user) => match self.shared.store.load_now(user)? {
                Ok(found) => Some(found),
                Err(error) => return Some(Err(error)),
            },
            None => None,
        };
        Some(Ok(self.settle(name, found)))
    }

    /// The grants, asking the authenticator and the store the first time if they answer
    /// without waiting.
    pub(crate) fn grants_now(&self, parts: &Parts) -> Now<&Grants> {
        if let Some(grants) = self.grants_known() {
            return Some(Ok(grants));
        }
        let user = match self.user_known() {
            Some(user) => user,
            None => {
                // One step for both: the authenticator, then the store for that user.
                let name = match self.shared.authenticator.authenticate_now(parts)? {
                    Ok(name) => name.map(CompactString::from),
                    Err(error) => return Some(Err(error)),
                };
                let found = match name.as_deref() {
                    Some(user) => match self.shared.store.load_now(user) {
                        Some(Ok(found)) => Some(found),
                        Some(Err(error)) => return Some(Err(error)),
                        // Whether the user counts as anonymous hangs on the store's answer.
                        None if self.shared.store.unknown_users_are_anonymous() => return None,
                        None => None,
                    },
                    None => None,
                };
                self.settle(name, found)
            }
        };
        if let Some(grants) = self.grants_known() {
            return Some(Ok(grants));
        }
        let user = user.expect("an anonymous user's grants are settled with the user");
        Some(
            self.shared
                .store
                .load_now(user)?
                .map(|found| self.settle_grants(found)),
        )
    }

    /// The user, asking the authenticator the first time.
    pub(crate) async fn user(&self, parts: &Parts) -> Result<Option<&str>, Error> {
        if let Some(user) = self.user_now(parts) {
            return user;
        }
        let authenticator = &self.shared.authenticator;
        let name = match authenticator.authenticate_now(parts) {
            Some(name) => name?.map(CompactString::from),
            None => authenticator
                .authenticate(parts)
                .await?
                .map(CompactString::from),
        };
        let found = match self.store_answer_needed(name.as_deref(), false) {
            Some(user) => Some(self.load(user).await?),
            None => None,
        };
        Ok(self.settle(name, found))
    }

    /// The user's grants, loading them from the store the first time.
    pub(crate) async fn grants(&self, parts: &Parts) -> Result<&Grants, Error> {
        if let Some(grants) = self.grants_now(parts) {
            return grants;
        }
        if let Some(grants) = self.grants_known() {
            return Ok(grants);
        }
        let Some(user) = self.user(parts).await? else {
            // Settled with the anonymous user.
            return Ok(self.grants_known().unwrap_or(&NO_GRANTS));
        };
        if let Some(grants) = self.grants_known() {
            return Ok(grants);
        }
        let found = self.load(user).await?;
        Ok(self.settle_grants(found))
    }

    /// A user's grants from the store, without a future when it has them at hand.
    async fn load(&self, user: &str) -> Result<Option<Arc<Grants>>, Error> {
        let store = &self.shared.store;
        match store.load_now(user) {
            Some(found) => found,
            None => store.load(user).await,
        }
    }

    /// The user whose grants must be looked up before the user can be settled: only when the
    /// store decides whether unknown users are anonymous, or the grants are wanted anyway.
    fn store_answer_needed<'n>(&self, name: Option<&'n str>, grants: bool) -> Option<&'n str> {
        name.filter(|_| grants || self.shared.store.unknown_users_are_anonymous())
    }

    /// Records who the user is, with the store's answer for them when it was asked; the first
    /// answer stands.
    fn settle(
        &self,
        name: Option<CompactString>,
        found: Option<Option<Arc<Grants>>>,
    ) -> Option<&str> {
        let store = &self.shared.store;
        match (name, found) {
            (None, _) => self.settle_both(None, NO_GRANTS.clone()),
            (Some(_), Some(None)) if store.unknown_users_are_anonymous() => {
                self.settle_both(None, NO_GRANTS.clone())
            }
            (Some(name), Some(found)) => {
                self.settle_both(Some(name), found.unwrap_or_else(|| NO_GRANTS.clone()))
            }
            (Some(name), None) => self.user.get_or_init(|| Some(name)).as_deref(),
        }
    }

    /// Records who the user is and their grants, found together.
    fn settle_both(&self, name: Option<CompactString>, grants: Arc<Grants>) -> Option<&str> {
        self.grants.get_or_init(|| (name, grants)).0.as_deref()
    }

    /// Records the store's answer for the user, who is known already; none for a user it does
    /// not know.
    fn settle_grants(&self, found: Option<Arc<Grants>>) -> &Grants {
        let user = self.user_known().flatten().map(CompactString::from);
        &self
            .grants
            .get_or_init(|| (user, found.unwrap_or_else(|| NO_GRANTS.clone())))
            .1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use crate::testing::{TEST_USER_HEADER, TestAuthenticator};

    /// A request from `rms`, in `admins`, which grants `manage`, with its credentials.
    fn request(user: Option<&str>) -> (Parts, RequestCredentials) {
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
        let mut request = axum::http::Request::get("/");
        if let Some(user) = user {
            request = request.header(TEST_USER_HEADER, user);
        }
        let (parts, ()) = request.body(()).unwrap().into_parts();
        (parts, RequestCredentials::new(Arc::new(shared)))
    }

    #[test]
    fn the_user_alone_leaves_the_store_alone() {
        let (parts, credentials) = request(Some("rms"));
        assert_eq!(credentials.user_now(&parts).unwrap().unwrap(), Some("rms"));
        assert!(credentials.grants_known().is_none());
        let grants = credentials.grants_now(&parts).unwrap().unwrap();
        assert!(grants.has_permission("manage"));
    }

    #[test]
    fn the_grants_settle_the_user_in_one_step() {
        let (parts, credentials) = request(Some("rms"));
        assert!(
            credentials
                .grants_now(&parts)
                .unwrap()
                .unwrap()
                .in_group("admins")
        );
        assert_eq!(credentials.user_known(), Some(Some("rms")));
    }

    #[test]
    fn anonymous_requests_have_no_grants() {
        let (parts, credentials) = request(None);
        assert_eq!(credentials.user_now(&parts).unwrap().unwrap(), None);
        assert_eq!(credentials.grants_known().unwrap().groups().count(), 0);
    }

    /// A store that has nothing at hand: every lookup waits.
    struct Remote;

    impl crate::CredentialsStore for Remote {
        async fn load(&self, _: &str) -> Result<Option<Arc<Grants>>, Error> {
            Ok(Some(Arc::new(Grants::new(["admins"], ["manage"]))))
        }
    }

    #[test]
    fn a_lone_decision_starts_from_what_the_request_knows() {
        let (parts, credentials) = request(Some("rms"));
        assert!(credentials.alone().user_known().is_none());
        credentials.grants_now(&parts).unwrap().unwrap();
        let own = credentials.alone();
        assert_eq!(own.user_known(), Some(Some("rms")));
        assert!(own.grants_known().unwrap().in_group("admins"));
    }

    #[test]
    fn what_a_lone_decision_finds_stays_its_own_until_adopted() {
        let (parts, credentials) = request(Some("rms"));
        let own = credentials.alone();
        assert!(own.grants_now(&parts).unwrap().unwrap().in_group("admins"));
        assert!(credentials.user_known().is_none());
        credentials.adopt(own);
        assert_eq!(credentials.user_known(), Some(Some("rms")));
        assert!(credentials.grants_known().unwrap().has_permission("manage"));
    }

    #[tokio::test]
    async fn a_lone_decision_that_must_wait_hands_over_the_user() {
        let (parts, mut credentials) = request(Some("rms"));
        let mut shared = (*credentials.shared).clone();
        shared.store = Arc::new(Remote);
        credentials = RequestCredentials::new(Arc::new(shared));
        let own = credentials.alone();
        // The authenticator answered; the store would wait.
        assert!(own.grants_now(&parts).is_none());
        assert_eq!(own.user_known(), Some(Some("rms")));
        credentials.adopt(own);
        assert_eq!(credentials.user_known(), Some(Some("rms")));
        assert!(credentials.grants_known().is_none());
        let grants = credentials.grants(&parts).await.unwrap();
        assert!(grants.in_group("admins"));
    }

    #[test]
    fn the_first_answer_stands() {
        let (parts, credentials) = request(Some("rms"));
        credentials.user_now(&parts).unwrap().unwrap();
        let (other, _) = request(Some("guido"));
        assert_eq!(credentials.user_now(&other).unwrap().unwrap(), Some("rms"));
    }
}
