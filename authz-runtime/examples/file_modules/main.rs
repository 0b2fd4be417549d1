//! Route modules in files of their own: `mod admin;` here, its handlers in `admin.rs`, guarded
//! as a whole by `#[allow_only]` on their controller's `impl`.
//!
//! ```sh
//! cargo run -p authz-runtime --example file_modules
//! curl -i localhost:3000/admin                        # 401
//! curl -i localhost:3000/admin/login                  # 200: the sign-in page is public
//! curl -i localhost:3000/admin/users -H 'x-user: rms' # 200 for an admin with manage_users
//! ```

mod admin;

use authz_runtime::routing::get;
use authz_runtime::signin::TrustedHeaderAuthenticator;
use authz_runtime::{AuthzLayer, MemoryStore};
use axum::Router;

use admin::Admin;

/// The example's router, for `main` and for the tests.
pub(crate) fn app() -> Router {
    let store = MemoryStore::builder()
        .group("admin", ["rms", "linus"])
        .permission("manage_users", ["admin"])
        .build();
    let users = TrustedHeaderAuthenticator::new("x-user").expect("a valid header name");
    Router::new()
        .route("/admin", get(Admin::home))
        .route("/admin/login", get(Admin::login))
        .route("/admin/users", get(Admin::users))
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
