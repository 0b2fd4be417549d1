//! Users, groups and permissions in SQL, on the application's own pool: the app opens its
//! `SqlitePool` as it would without authz, hands it to `SqlStore::builder_on`, and keeps using
//! it for its own tables. The store's tables come from its migrations; grants are looked up
//! once per request and cached across requests.
//!
//! ```sh
//! cargo run -p authz-runtime --example sql_store
//! curl -i localhost:3000/reports -H 'x-user: rms'    # 200: rms is in `accounting`
//! curl -i localhost:3000/reports -H 'x-user: guido'  # 403
//! ```
//!
//! `DATABASE_URL` picks another SQLite database (`sqlite://reports.db?mode=rwc`); the default
//! is an in-memory one. On PostgreSQL or MySQL the same lines take a `PgPool` or a `MySqlPool`
//! (the crate's `postgres` or `mysql` feature).

use authz_runtime::routing::get;
use authz_runtime::signin::TrustedHeaderAuthenticator;
use authz_runtime::sql::SqlStore;
use authz_runtime::{AuthzLayer, require};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;

/// The application's own query, on the pool it shares with the store.
#[require(has_permission("see-reports"))]
async fn reports(State(pool): State<SqlitePool>) -> Result<String, StatusCode> {
    let titles: Vec<String> = sqlx::query_scalar("SELECT title FROM report ORDER BY title")
        .fetch_all(&pool)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(titles.join("\n"))
}

/// The application's pool on `url`, with its table and the store's, a few rows, and the app.
pub(crate) async fn app(url: &str) -> Result<Router, Box<dyn std::error::Error>> {
    // An in-memory SQLite database lives in one connection: keep exactly one.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect(url)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS report (title TEXT NOT NULL)")
        .execute(&pool)
        .await?;
    sqlx::query("INSERT INTO report (title) VALUES ('Q1 revenue'), ('Q2 revenue')")
        .execute(&pool)
        .await?;

    let store = SqlStore::builder_on(pool.clone()).connect().await?;
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
        .layer(AuthzLayer::new(users, store))
        .with_state(pool))
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
