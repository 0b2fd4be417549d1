//! Custom rules that read the app's state: a database in the router's state, an object-level
//! rule that asks it who wrote the post in the path.
//!
//! ```sh
//! cargo run -p authz-runtime --example state_and_database
//! curl -i localhost:3000/posts/1/edit -H 'x-user: rms'    # 200: rms wrote post 1
//! curl -i localhost:3000/posts/2/edit -H 'x-user: rms'    # 403: linus did
//! curl -i localhost:3000/posts/2/edit -H 'x-user: guido'  # 200: guido may manage
//! ```

use authz_runtime::routing::get;
use authz_runtime::signin::TrustedHeaderAuthenticator;
use authz_runtime::{AuthzLayer, Context, Error, MemoryStore, Predicate, Verdict, require};
use axum::Router;
use axum::extract::{FromRef, Path};
use sqlx::SqlitePool;

/// The app's state: its database, and whatever else handlers need.
#[derive(Clone)]
struct AppState {
    db: SqlitePool,
}

/// The part of the state that `is_author` reads.
#[derive(Clone)]
struct Db(SqlitePool);

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        Db(state.db.clone())
    }
}

/// `is_author()`: the signed-in user wrote the post `{id}` of the path.
struct IsAuthor;

fn is_author() -> IsAuthor {
    IsAuthor
}

impl Predicate<Db> for IsAuthor {
    async fn evaluate(&self, ctx: &mut Context<'_, Db>) -> Result<Verdict, Error> {
        let Ok(Path(id)) = ctx.extract::<Path<i64>>().await else {
            return Ok(Verdict::unmet("The post must exist"));
        };
        let author: Option<String> = sqlx::query_scalar("SELECT author FROM posts WHERE id = ?")
            .bind(id)
            .fetch_optional(&ctx.state().0)
            .await
            .map_err(Error::predicate)?;
        let user = ctx.user().await?;
        Ok(Verdict::met_if(
            author.is_some_and(|author| Some(author.as_str()) == user),
            format!("Only the author of post {id} can edit it"),
        ))
    }
}

/// The guard reads `Db` from the router's state: a router without it does not compile.
#[require(any(is_author(), has_permission("manage")), state = Db)]
async fn edit(Path(id): Path<i64>) -> String {
    format!("editing post {id}")
}

/// The example's router on a fresh in-memory database, for `main` and for the tests.
pub(crate) async fn app() -> Result<Router, sqlx::Error> {
    let db = SqlitePool::connect("sqlite::memory:").await?;
    sqlx::query("CREATE TABLE posts (id INTEGER PRIMARY KEY, author TEXT NOT NULL)")
        .execute(&db)
        .await?;
    sqlx::query("INSERT INTO posts (id, author) VALUES (1, 'rms'), (2, 'linus')")
        .execute(&db)
        .await?;
    let store = MemoryStore::builder()
        .group("editors", ["guido"])
        .permission("manage", ["editors"])
        .user("rms")
        .user("linus")
        .build();
    let users = TrustedHeaderAuthenticator::new("x-user").expect("a valid header name");
    Ok(Router::new()
        .route("/posts/{id}/edit", get(edit))
        .layer(AuthzLayer::new(users, store))
        .with_state(AppState { db }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app().await?).await?;
    Ok(())
}
