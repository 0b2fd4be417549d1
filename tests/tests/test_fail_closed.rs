//! Fail closed: an authenticator or store that cannot answer refuses the request with 503 and a
//! generic body; credentials are looked up lazily, at most once per request.

mod support;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{
    Authenticator, AuthzLayer, CredentialsStore, Error, Grants, MemoryStore, require,
};
use axum::Router;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::routing::get;
use support::get as get_;

#[require(is_user("rms"))]
async fn identity_only() -> &'static str {
    "ok"
}

#[require(not(is_anonymous()))]
async fn negated_identity() -> &'static str {
    "ok"
}

#[require(all(in_group("admins"), has_permission("manage"), not(in_group("trolls"))))]
#[require(any(in_any_group("x", "admins"), has_permission("y")))]
async fn grants_heavy() -> &'static str {
    "ok"
}

#[authz_runtime::allow_only(in_group("admins"))]
mod admin {
    #[authz_runtime::require(has_permission("manage"))]
    pub(crate) async fn home() -> &'static str {
        "ok"
    }
}

/// A store that counts its lookups, and can be made to fail.
#[derive(Clone, Default)]
struct Counting {
    loads: Arc<AtomicUsize>,
    failing: bool,
}

impl CredentialsStore for Counting {
    async fn load(&self, user: &str) -> Result<Option<Arc<Grants>>, Error> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        if self.failing {
            return Err(Error::store(std::io::Error::other("connection refused")));
        }
        Ok((user == "rms").then(|| Arc::new(Grants::new(["admins"], ["manage"]))))
    }
}

/// A store that answers at once, and fails at once.
#[derive(Clone, Default)]
struct FailingAtOnce;

impl CredentialsStore for FailingAtOnce {
    async fn load(&self, _: &str) -> Result<Option<Arc<Grants>>, Error> {
        unreachable!("the store answered at once")
    }

    fn load_now(&self, _: &str) -> Option<Result<Option<Arc<Grants>>, Error>> {
        Some(Err(Error::store(std::io::Error::other(
            "connection refused",
        ))))
    }
}

/// An authenticator that answers at once, and fails at once.
struct BrokenAtOnce;

impl Authenticator for BrokenAtOnce {
    async fn authenticate(&self, _: &Parts) -> Result<Option<String>, Error> {
        unreachable!("the authenticator answered at once")
    }

    fn authenticate_now<'r>(&self, _: &'r Parts) -> Option<Result<Option<Cow<'r, str>>, Error>> {
        Some(Err(Error::authenticator(std::io::Error::other(
            "session store down",
        ))))
    }
}

struct BrokenAuthenticator;

impl Authenticator for BrokenAuthenticator {
    async fn authenticate(&self, _: &Parts) -> Result<Option<String>, Error> {
        Err(Error::authenticator(std::io::Error::other(
            "session store down",
        )))
    }
}

fn routes() -> Router {
    Router::new()
        .route("/identity", get(identity_only))
        .route("/negated", get(negated_identity))
        .route("/grants", get(grants_heavy))
        .route("/admin", get(admin::home))
        .route("/open", get(|| async { "open" }))
}

#[tokio::test]
async fn identity_only_predicates_never_reach_the_store() {
    let store = Counting::default();
    let app = routes().layer(AuthzLayer::new(TestAuthenticator::default(), store.clone()));
    let cases = [
        ("/identity", Some("rms"), StatusCode::OK),
        ("/identity", Some("guido"), StatusCode::FORBIDDEN),
        ("/identity", None, StatusCode::UNAUTHORIZED),
        ("/negated", Some("rms"), StatusCode::OK),
        ("/negated", Some("guido"), StatusCode::OK),
        ("/negated", None, StatusCode::UNAUTHORIZED),
    ];
    for (path, user, expected) in cases {
        let request = get_(path);
        let request = match user {
            Some(user) => request.user(user),
            None => request,
        };
        assert_eq!(
            request.send(&app).await.status,
            expected,
            "{path} as {user:?}"
        );
    }
    assert_eq!(store.loads.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn many_group_and_permission_checks_cost_one_lookup_per_request() {
    let store = Counting::default();
    let app = routes().layer(AuthzLayer::new(TestAuthenticator::default(), store.clone()));
    let seen = get_("/grants").user("rms").send(&app).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    let seen = get_("/admin").user("rms").send(&app).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(store.loads.load(Ordering::SeqCst), 2);
    // Anonymous users have no grants: nothing to look up.
    let seen = get_("/grants").send(&app).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert_eq!(store.loads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failing_store_answers_503_and_never_grants() {
    let store = Counting {
        failing: true,
        ..Counting::default()
    };
    let app = routes().layer(AuthzLayer::new(TestAuthenticator::default(), store.clone()));
    for path in ["/grants", "/admin"] {
        let seen = get_(path).user("rms").send(&app).await;
        assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(
            seen.body,
            "Access could not be checked; please try again later"
        );
        let json = get_(path)
            .user("rms")
            .accept("application/json")
            .send(&app)
            .await;
        assert_eq!(
            json.body,
            r#"{"detail":"Access could not be checked; please try again later","status":503}"#
        );
    }
    // Identity-only rules still work without the store, and open routes are untouched.
    assert_eq!(
        get_("/identity").user("rms").send(&app).await.status,
        StatusCode::OK
    );
    assert_eq!(get_("/open").send(&app).await.status, StatusCode::OK);
    // Each request tried again: no failure is remembered across requests.
    assert_eq!(store.loads.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_failing_authenticator_answers_503_even_for_is_anonymous() {
    let app = routes().layer(AuthzLayer::new(BrokenAuthenticator, MemoryStore::default()));
    for path in ["/identity", "/negated", "/grants", "/admin"] {
        let seen = get_(path).send(&app).await;
        assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
    assert_eq!(get_("/open").send(&app).await.status, StatusCode::OK);
}

#[tokio::test]
async fn failures_answered_at_once_refuse_too() {
    // Both answer without waiting, so the guards decide without polling a future: a failure
    // there refuses the request exactly as a failure while waiting does.
    let app = routes().layer(AuthzLayer::new(TestAuthenticator::default(), FailingAtOnce));
    for path in ["/grants", "/admin"] {
        let seen = get_(path).user("rms").send(&app).await;
        assert_eq!(
            (seen.status, seen.body.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Access could not be checked; please try again later"
            ),
            "{path}"
        );
    }
    assert_eq!(
        get_("/identity").user("rms").send(&app).await.status,
        StatusCode::OK
    );

    let app = routes().layer(AuthzLayer::new(BrokenAtOnce, MemoryStore::default()));
    for path in ["/identity", "/negated", "/grants", "/admin"] {
        let seen = get_(path).user("rms").send(&app).await;
        assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
    assert_eq!(get_("/open").send(&app).await.status, StatusCode::OK);
}
