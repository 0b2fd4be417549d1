//! One guarded handler and one guarded module, behind a proxy that signs users in.
//!
//! ```sh
//! cargo run -p authz-runtime --example handler_and_module
//! curl -i localhost:3000/posts/1/delete -X POST                  # 401: nobody signed in
//! curl -i localhost:3000/posts/1/delete -X POST -H 'x-user: rms' # 403: rms may not
//! curl -i localhost:3000/posts/1/delete -X POST -H 'x-user: root'
//! curl -i localhost:3000/admin -H 'x-user: linus'                # 200: linus is in `admin`
//! ```

use authz_runtime::routing::{get, post};
use authz_runtime::signin::TrustedHeaderAuthenticator;
use authz_runtime::{AuthzLayer, MemoryStore, allow_only, public, require};
use axum::Router;
use axum::extract::Path;

#[public]
async fn home() -> &'static str {
    "Anyone may read this blog"
}

#[require(
    any(is_user("root"), has_permission("manage")),
    msg = "Only administrators can remove blog posts"
)]
async fn remove_post(Path(id): Path<u32>) -> String {
    format!("post {id} removed")
}

/// The admin side: only the `admin` group, but for its sign-in page.
#[allow_only(in_group("admin"))]
mod admin {
    use authz_runtime::public;

    pub(crate) async fn home() -> &'static str {
        "the admin side"
    }

    #[public]
    pub(crate) async fn login() -> &'static str {
        "sign in to the admin side"
    }
}

/// The example's router, for `main` and for the tests. Who is in which group comes from a
/// `MemoryStore` here, from SQL in a real app.
pub(crate) fn app() -> Router {
    let store = MemoryStore::builder()
        .group("admin", ["linus"])
        .permission("manage", ["admin"])
        .user("rms")
        .user("root")
        .build();
    // The user is who the proxy in front says: `x-user`.
    let users = TrustedHeaderAuthenticator::new("x-user").expect("a valid header name");
    Router::new()
        .route("/", get(home))
        .route("/posts/{id}/delete", post(remove_post))
        .route("/admin", get(admin::home))
        .route("/admin/login", get(admin::login))
        .layer(AuthzLayer::new(users, store))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port())).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app()).await
}

/// `PORT`, or 3000.
fn port() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000)
}
