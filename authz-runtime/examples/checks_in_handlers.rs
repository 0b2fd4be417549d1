//! Checks inside handlers: a page that shows only the actions its visitor may take, and a
//! rule about the object the handler has just loaded.
//!
//! ```sh
//! cargo run -p authz-runtime --example checks_in_handlers
//! curl localhost:3000/posts/1                    # no Remove button
//! curl localhost:3000/posts/1 -H 'x-user: root'  # with it
//! curl -i localhost:3000/posts/2/publish -H 'x-user: rms'    # 200: rms wrote post 2
//! curl -i localhost:3000/posts/1/publish -H 'x-user: rms'    # 403 with the message
//! ```

use authz_runtime::routing::{get, post};
use authz_runtime::signin::TrustedHeaderAuthenticator;
use authz_runtime::{Authz, AuthzLayer, MemoryStore, Refused, predicate, public};
use axum::Router;
use axum::extract::Path;

/// Who wrote each post; a real app asks its database.
fn author_of(id: u32) -> &'static str {
    if id.is_multiple_of(2) { "rms" } else { "root" }
}

/// Everyone may read a post; only those who may remove it see the button.
#[public]
async fn show_post(Path(id): Path<u32>, mut authz: Authz) -> Result<String, Refused> {
    let may_remove = authz
        .is_met(&predicate!(any(is_user("root"), has_permission("manage"))))
        .await?;
    let mut page = format!("<h1>Post {id}</h1>");
    if may_remove {
        page.push_str(r#"<form method="post" action="delete"><button>Remove</button></form>"#);
    }
    Ok(page)
}

/// A post may be published by its author, or by an editor: a rule about the post loaded here.
#[public]
async fn publish(Path(id): Path<u32>, mut authz: Authz) -> Result<String, Refused> {
    if authz.user().await? != Some(author_of(id)) {
        authz
            .require(&predicate!(
                has_permission("publish"),
                msg = "Only the author or an editor can publish this post"
            ))
            .await?;
    }
    Ok(format!("post {id} published"))
}

/// The example's router, for `main` and for the tests.
pub(crate) fn app() -> Router {
    let store = MemoryStore::builder()
        .group("editors", ["linus"])
        .permission("publish", ["editors"])
        .user("rms")
        .user("root")
        .build();
    let users = TrustedHeaderAuthenticator::new("x-user").expect("a valid header name");
    Router::new()
        .route("/posts/{id}", get(show_post))
        .route("/posts/{id}/publish", post(publish).merge(get(publish)))
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
