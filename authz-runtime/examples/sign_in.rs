//! Signing in: a browser sent to the login page with `came_from`, a signed ticket cookie, and
//! back to the page it wanted. Passwords are Argon2 hashes.
//!
//! ```sh
//! cargo run -p authz-runtime --example sign_in
//! # open http://localhost:3000/admin in a browser: sign in as root / root-password
//! ```
//!
//! A real app keeps the secret and the password hashes in its database (the demo does), and
//! sets the cookie `Secure` behind HTTPS. With users in a `SqlStore`, it also makes tickets
//! that end with the user's sessions (`TicketAuthenticator::with_sessions(store)`, issued by
//! `tickets.sign_in(user)`, ended by `store.end_sessions(user)` at sign-out): a stateless
//! ticket, as here, stays valid until it expires.

use std::collections::HashMap;
use std::sync::Arc;

use authz_runtime::routing::{get, post};
use authz_runtime::signin::{TicketAuthenticator, hash_password, safe_came_from, verify_password};
use authz_runtime::{AuthzLayer, Identity, MemoryStore, public, require};
use axum::Router;
use axum::extract::{Extension, Form, Query};
use axum::http::StatusCode;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

/// Each user's password hash.
#[derive(Clone)]
struct Passwords(Arc<HashMap<String, String>>);

#[require(in_group("admin"))]
async fn admin(Identity(user): Identity) -> String {
    format!("Welcome to the admin side, {}", user.unwrap_or_default())
}

#[derive(Deserialize)]
struct CameFrom {
    came_from: Option<String>,
}

#[public]
async fn login_form(Query(query): Query<CameFrom>) -> Html<String> {
    // Only a path of this site: never send the browser elsewhere after signing in.
    let came_from = safe_came_from(query.came_from.as_deref().unwrap_or("/"));
    Html(format!(
        r#"<form method="post" action="/login">
  <input type="hidden" name="came_from" value="{came_from}">
  <input name="user"> <input name="password" type="password"> <button>Sign in</button>
</form>"#
    ))
}

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
    #[serde(default)]
    came_from: String,
}

#[public]
async fn login(
    Extension(tickets): Extension<TicketAuthenticator>,
    Extension(passwords): Extension<Passwords>,
    Form(form): Form<Login>,
) -> Response {
    // An unknown user is checked against a dummy hash, so that both answers take as long.
    if verify_password(
        &form.password,
        passwords.0.get(&form.user).map(String::as_str),
    ) {
        let back = safe_came_from(&form.came_from).to_owned();
        (
            StatusCode::SEE_OTHER,
            [(SET_COOKIE, tickets.issue(&form.user))],
            [(LOCATION, back)],
        )
            .into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            "Unknown user name or wrong password",
        )
            .into_response()
    }
}

#[public]
async fn logout(Extension(tickets): Extension<TicketAuthenticator>) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(SET_COOKIE, tickets.clear())],
        [(LOCATION, "/login".to_owned())],
    )
        .into_response()
}

/// The example's router, for `main` and for the tests.
pub(crate) fn app() -> Router {
    let tickets =
        TicketAuthenticator::new(b"an example secret of at least 32 bytes, not for production")
            .expect("a long enough secret");
    let passwords = HashMap::from([(
        "root".to_owned(),
        hash_password("root-password").expect("the password hashes"),
    )]);
    let store = MemoryStore::builder().group("admin", ["root"]).build();
    Router::new()
        .route("/admin", get(admin))
        .route("/login", get(login_form).merge(post(login)))
        .route("/logout", post(logout))
        // Anonymous browsers are sent to sign in; API clients still get 401.
        .layer(AuthzLayer::new(tickets.clone(), store).with_login_url("/login"))
        .layer(Extension(tickets))
        .layer(Extension(Passwords(Arc::new(passwords))))
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
