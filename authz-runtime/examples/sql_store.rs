//! Users, groups and permissions in SQL: a `SqlStore` on SQLite, its tables made by its
//! migrations, grants looked up once per request and cached across requests.
//!
//! ```sh
//! cargo run -p authz-runtime --example sql_store
//! curl -i localhost:3000/reports -H 'x-user: rms'    # 200: rms is in `accounting`
//! curl -i localhost:3000/reports -H 'x-user: guido'  # 403
//! ```
//!
//! `DATABASE_URL` picks another database (`postgres://…`, `mysql://…`, with the crate's
//! `postgres` or `mysql` feature); the default is an in-memory SQLite database.

use authz_runtime::routing::get;
use authz_runtime::signin::TrustedHeaderAuthenticator;
use authz_runtime::sql::{SqlError, SqlStore};
use authz_runtime::{AuthzLayer, require};
use axum::Router;

#[require(has_permission("see-reports"))]
async fn reports() -> &'static str {
    "the quarterly reports"
}

/// The store on `url`, with its tables and a few rows, and the app on it.
pub(crate) async fn app(url: &str) -> Result<Router, SqlError> {
    let store = SqlStore::connect(url).await?;
    store.migrate().await?;
    for user in ["rms", "guido"] {
        store.create_user(user).await?;
    }
    store.create_group("accounting").await?;
    store.create_permission("see-reports").await?;
    store.add_user_to_group("rms", "accounting").await?;
    store.grant_permission("see-reports", "accounting").await?;
    let users = TrustedHeaderAuthenticator::new("x-user").expect("a valid header name");
    Ok(Router::new()
        .route("/reports", get(reports))
        .layer(AuthzLayer::new(users, store)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite::memory:".to_owned());
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(&url).await?).await?;
    Ok(())
}
