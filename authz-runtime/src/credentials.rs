//! A request's credentials: who the user is, and the groups and permissions the store grants,
//! each found at most once per request and only when a predicate asks.
//!
//! Every question comes in two forms. `*_now` answers without waiting, or says it would have
//! to (`None`): the evaluator decides a rule at once whenever the authenticator and the store
//! can answer at once (a header, a signed cookie, a cached lookup). The async form waits. Both
//! go through the one identification below, which differs only in whether it may wait.

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
#[derive(Clone)]
pub(crate) struct RequestCredentials(Slots);

/// Two slots, so that the usual request, whose first guard needs the grants, records what it
/// learns in one write: who the user is and their grants, together in `grants`. Only an
/// identity rule that comes first fills `user` alone. Each slot is written once.
#[derive(Clone)]
struct Slots {
    shared: Arc<Shared>,
    /// Who the user is, when found before the grants: `None` when anonymous. Names of up to
    /// 24 bytes are kept inline, so knowing the user allocates nothing.
    user: OnceLock<Option<CompactString>>,
    /// Who the user is and their grants: empty when anonymous or unknown to the store.
    grants: OnceLock<(Option<CompactString>, Arc<Grants>)>,
}

static NO_GRANTS: LazyLock<Arc<Grants>> = LazyLock::new(Default::default);

/// An answer that may not be at hand: `None` when finding it would wait.
type Now<T> = Option<Result<T, Error>>;

impl RequestCredentials {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self(Slots {
            shared,
            user: OnceLock::new(),
            grants: OnceLock::new(),
        })
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

    pub(crate) fn denials(&self) -> &Denials {
        &self.0.shared.denials
    }

    /// The user, if the authenticator was asked already.
    #[inline]
    pub(crate) fn user_known(&self) -> Option<Option<&str>> {
        match self.0.grants.get() {
            Some((user, _)) => Some(user.as_deref()),
            None => self.0.user.get().map(Option::as_deref),
        }
    }

    /// The grants, if they were loaded already.
    #[inline]
    pub(crate) fn grants_known(&self) -> Option<&Grants> {
        self.0.grants.get().map(|(_, grants)| &**grants)
    }

    /// The user, asking the authenticator the first time if it answers without waiting.
    pub(crate) fn user_now(&self, parts: &Parts) -> Now<Option<&str>> {
        if let Some(user) = self.user_known() {
            return Some(Ok(user));
        }
        let name = match self.0.shared.authenticator.authenticate_now(parts)? {
            Ok(name) => name.map(CompactString::from),
            Err(error) => return Some(Err(error)),
        };
        let found = match self.store_answer_needed(name.as_deref(), false) {
            Some(user) => match self.0.shared.store.load_now(user)? {
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
                let name = match self.0.shared.authenticator.authenticate_now(parts)? {
                    Ok(name) => name.map(CompactString::from),
                    Err(error) => return Some(Err(error)),
                };
                let found = match name.as_deref() {
                    Some(user) => match self.0.shared.store.load_now(user) {
                        Some(Ok(found)) => Some(found),
                        Some(Err(error)) => return Some(Err(error)),
                        // Whether the user counts as anonymous hangs on the store's answer.
                        None if self.0.shared.store.unknown_users_are_anonymous() => return None,
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
            self.0
                .shared
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
        let authenticator = &self.0.shared.authenticator;
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
        let store = &self.0.shared.store;
        match store.load_now(user) {
            Some(found) => found,
            None => store.load(user).await,
        }
    }

    /// The user whose grants must be looked up before the user can be settled: only when the
    /// store decides whether unknown users are anonymous, or the grants are wanted anyway.
    fn store_answer_needed<'n>(&self, name: Option<&'n str>, grants: bool) -> Option<&'n str> {
        name.filter(|_| grants || self.0.shared.store.unknown_users_are_anonymous())
    }

    /// Records who the user is, with the store's answer for them when it was asked; the first
    /// answer stands.
    fn settle(
        &self,
        name: Option<CompactString>,
        found: Option<Option<Arc<Grants>>>,
    ) -> Option<&str> {
        let store = &self.0.shared.store;
        match (name, found) {
            (None, _) => self.settle_both(None, NO_GRANTS.clone()),
            (Some(_), Some(None)) if store.unknown_users_are_anonymous() => {
                self.settle_both(None, NO_GRANTS.clone())
            }
            (Some(name), Some(found)) => {
                self.settle_both(Some(name), found.unwrap_or_else(|| NO_GRANTS.clone()))
            }
            (Some(name), None) => self.0.user.get_or_init(|| Some(name)).as_deref(),
        }
    }

    /// Records who the user is and their grants, found together.
    fn settle_both(&self, name: Option<CompactString>, grants: Arc<Grants>) -> Option<&str> {
        self.0.grants.get_or_init(|| (name, grants)).0.as_deref()
    }

    /// Records the store's answer for the user, who is known already; none for a user it does
    /// not know.
    fn settle_grants(&self, found: Option<Arc<Grants>>) -> &Grants {
        let user = self.user_known().flatten().map(CompactString::from);
        &self
            .0
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

    #[test]
    fn the_first_answer_stands() {
        let (parts, credentials) = request(Some("rms"));
        credentials.user_now(&parts).unwrap().unwrap();
        let (other, _) = request(Some("guido"));
        assert_eq!(credentials.user_now(&other).unwrap().unwrap(), Some("rms"));
    }
}
