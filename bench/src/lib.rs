//! What the benchmarks share: the application of the load test, which `bench-server` serves
//! and `benches/request.rs` calls in process.
//!
//! One trivial handler, served under one [`AuthzLayer`] at `/guarded` behind
//! `#[require(has_permission("manage"))]` and at `/open` without a guard, so that the two
//! paths differ by the guard alone. Two more routes split the difference: `/extracted` takes
//! an extractor that does nothing, which is what axum charges for any extractor (a guard is
//! one), and `/bare` is outside the layer, to show what the layer itself costs.

pub mod rules;

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, MemoryStore, require};
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::routing::get;

/// What every route answers.
pub const BODY: &str = "Hello, world";

/// The user the load is sent as: in `admins`, which grants `manage`.
pub const USER: &str = "rms";

async fn open() -> &'static str {
    BODY
}

#[require(has_permission("manage"))]
async fn guarded() -> &'static str {
    BODY
}

/// An extractor that extracts nothing: a guard without the check.
struct Nothing;

impl<S: Send + Sync> FromRequestParts<S> for Nothing {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Nothing)
    }
}

async fn extracted(_: Nothing) -> &'static str {
    BODY
}

/// A store shaped like a small site: a thousand users in a few groups, and [`USER`] in
/// `admins`. It computes every user's grants when built, so it is warm before the first
/// request.
pub fn store() -> MemoryStore {
    let users: Vec<String> = (0..1000).map(|n| format!("user{n}")).collect();
    MemoryStore::builder()
        .group("admins", [USER, "root"])
        .group("developers", [USER, "linus"])
        .group("editors", users[..100].iter().cloned())
        .group("readers", users.iter().cloned())
        .permission("manage", ["admins"])
        .permission("commit", ["developers"])
        .permission("edit-site", ["admins", "developers", "editors"])
        .permission("read", ["readers", "admins"])
        .build()
}

/// The routes `/guarded`, `/open`, `/extracted` and `/bare`, authenticating with
/// [`TestAuthenticator`] (the `x-test-user` header).
///
/// ```
/// let app = authz_bench::app();
/// # let _ = app;
/// ```
pub fn app() -> axum::Router {
    Router::new()
        .route("/guarded", get(guarded))
        .route("/open", get(open))
        .route("/extracted", get(extracted))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store()))
        // Added after `layer`, so outside it.
        .route("/bare", get(open))
}
