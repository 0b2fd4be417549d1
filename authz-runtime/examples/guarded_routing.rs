//! No route left open by accident: `authz_runtime::routing` takes only handlers with a guard
//! or marked `#[public]`, and `protected` puts one rule before every route of a router.
//! Try removing `#[public]` from `home`: the build fails under `home`'s name.
//!
//! ```sh
//! cargo run -p authz-runtime --example guarded_routing
//! curl -i localhost:3000/                              # 200
//! curl -i localhost:3000/ops/metrics -H 'x-user: rms'  # 403: rms is not in `ops`
//! curl -i localhost:3000/ops/metrics -H 'x-user: linus'
//! ```

use authz_runtime::routing::{get, post, protected};
use authz_runtime::signin::TrustedHeaderAuthenticator;
use authz_runtime::{AuthzLayer, MemoryStore, predicate, public, require};
use axum::Router;

#[public]
async fn home() -> &'static str {
    "Anyone may read this blog"
}

#[require(has_permission("write"))]
async fn write(body: String) -> String {
    format!("posted: {body}")
}

/// Routed inside a protected router: its rule is the router's.
async fn metrics() -> &'static str {
    "requests 42"
}

/// The example's router, for `main` and for the tests.
pub(crate) fn app() -> Router {
    let store = MemoryStore::builder()
        .group("writers", ["rms"])
        .group("ops", ["linus"])
        .permission("write", ["writers"])
        .build();
    let users = TrustedHeaderAuthenticator::new("x-user").expect("a valid header name");
    // axum's own `get` is fine here: the router as a whole is behind the rule.
    let ops = protected(
        predicate!(in_group("ops")),
        Router::new().route("/metrics", axum::routing::get(metrics)),
    );
    Router::new()
        .route("/", get(home))
        .route("/posts", post(write))
        .nest("/ops", ops)
        .layer(AuthzLayer::new(users, store))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app()).await
}
