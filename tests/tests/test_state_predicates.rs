//! Custom predicates that read the app's state, typed: `state = …` on the attribute, the state
//! taken from the router's through `FromRef`, a database in it; sync and async, met, unmet and
//! failing; stateless predicates beside them.

mod support;

use authz_runtime::routing::get;
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, Context, Error, MemoryStore, Predicate, Verdict, require};
use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use sqlx::SqlitePool;
use support::get as get_;

/// The app's state: a database, and switches.
#[derive(Clone)]
struct AppState {
    db: Db,
    comments_open: bool,
}

/// The posts' database, a part of the state.
#[derive(Clone)]
struct Db(SqlitePool);

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

/// `is_author()`: the signed-in user wrote the post `{id}` of the path, asked of the database
/// in the state. Async, object-level.
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

/// `comments_open()`: a switch of the state, read at once. Sync, and it reads the whole state
/// through an extractor, as `State<AppState>`.
struct CommentsOpen;

fn comments_open() -> CommentsOpen {
    CommentsOpen
}

impl Predicate<AppState> for CommentsOpen {
    async fn evaluate(&self, ctx: &mut Context<'_, AppState>) -> Result<Verdict, Error> {
        let Ok(State(state)) = ctx.extract::<State<AppState>>().await;
        Ok(Verdict::met_if(state.comments_open, "Comments are closed"))
    }
}

/// `audited()`: asks a table the database does not have, so it always fails.
struct Audited;

fn audited() -> Audited {
    Audited
}

impl Predicate<Db> for Audited {
    async fn evaluate(&self, ctx: &mut Context<'_, Db>) -> Result<Verdict, Error> {
        sqlx::query("SELECT 1 FROM audit_log")
            .execute(&ctx.state().0)
            .await
            .map_err(Error::predicate)?;
        Ok(Verdict::Met)
    }
}

/// `weekday()`: a predicate that reads no state, beside one that does.
struct Weekday;

fn weekday() -> Weekday {
    Weekday
}

impl Predicate for Weekday {
    async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        let day = ctx
            .parts()
            .headers
            .get("x-day")
            .and_then(|day| day.to_str().ok());
        Ok(Verdict::met_if(
            !matches!(day, Some("saturday" | "sunday")),
            "Posts are edited on weekdays",
        ))
    }
}

#[require(any(is_author(), has_permission("manage")), state = Db)]
async fn edit(Path(id): Path<i64>) -> String {
    format!("editing post {id}")
}

#[require(all(is_author(), weekday()), state = Db)]
async fn edit_on_weekdays(Path(id): Path<i64>) -> String {
    format!("editing post {id} on a weekday")
}

#[require(all(not_anonymous(), comments_open()), state = AppState)]
async fn comment(Path(id): Path<i64>) -> String {
    format!("commenting on post {id}")
}

#[require(audited(), state = Db)]
async fn audit(Path(id): Path<i64>) -> String {
    format!("audit of post {id}")
}

#[authz_runtime::allow_only(is_author(), state = Db)]
mod drafts {
    pub(crate) async fn show(axum::extract::Path(id): axum::extract::Path<i64>) -> String {
        format!("draft {id}")
    }
}

async fn app(comments_open: bool) -> Router {
    let pool = SqlitePool::connect("sqlite::memory:").await.unwrap();
    sqlx::query("CREATE TABLE posts (id INTEGER PRIMARY KEY, author TEXT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO posts (id, author) VALUES (1, 'rms'), (2, 'linus')")
        .execute(&pool)
        .await
        .unwrap();
    let store = MemoryStore::builder()
        .group("editors", ["guido"])
        .permission("manage", ["editors"])
        .user("rms")
        .user("linus")
        .build();
    Router::new()
        .route("/posts/{id}/edit", get(edit))
        .route("/posts/{id}/weekday-edit", get(edit_on_weekdays))
        .route("/posts/{id}/comment", get(comment))
        .route("/posts/{id}/audit", get(audit))
        .route("/drafts/{id}", get(drafts::show))
        .layer(AuthzLayer::new(TestAuthenticator::default(), store))
        .with_state(AppState {
            db: Db(pool),
            comments_open,
        })
}

#[tokio::test]
async fn predicates_read_the_database_in_the_state() {
    let app = app(true).await;
    let cases = [
        ("/posts/1/edit", None, StatusCode::UNAUTHORIZED, ""),
        (
            "/posts/1/edit",
            Some("rms"),
            StatusCode::OK,
            "editing post 1",
        ),
        ("/posts/2/edit", Some("rms"), StatusCode::FORBIDDEN, ""),
        (
            "/posts/2/edit",
            Some("linus"),
            StatusCode::OK,
            "editing post 2",
        ),
        (
            "/posts/2/edit",
            Some("guido"),
            StatusCode::OK,
            "editing post 2",
        ),
        ("/posts/9/edit", Some("rms"), StatusCode::FORBIDDEN, ""),
        ("/drafts/1", Some("rms"), StatusCode::OK, "draft 1"),
        (
            "/drafts/1",
            Some("linus"),
            StatusCode::FORBIDDEN,
            "Only the author of post 1 can edit it",
        ),
        (
            "/posts/1/weekday-edit",
            Some("rms"),
            StatusCode::OK,
            "editing post 1 on a weekday",
        ),
        (
            "/posts/1/comment",
            Some("linus"),
            StatusCode::OK,
            "commenting on post 1",
        ),
        ("/posts/1/comment", None, StatusCode::UNAUTHORIZED, ""),
    ];
    for (path, user, status, body) in cases {
        let call = get_(path).accept("text/plain");
        let seen = match user {
            Some(user) => call.user(user),
            None => call,
        }
        .send(&app)
        .await;
        assert_eq!(seen.status, status, "{path} for {user:?}: {seen:?}");
        if !body.is_empty() {
            assert_eq!(seen.body, body, "{path} for {user:?}");
        }
    }
    // A stateless predicate beside a stateful one sees the request as ever.
    let seen = get_("/posts/1/weekday-edit")
        .user("rms")
        .header("x-day", "sunday")
        .accept("text/plain")
        .send(&app)
        .await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::FORBIDDEN, "Posts are edited on weekdays")
    );
}

#[tokio::test]
async fn a_switch_of_the_state_decides_and_a_failing_predicate_refuses() {
    let closed = app(false).await;
    let seen = get_("/posts/1/comment")
        .user("linus")
        .accept("text/plain")
        .send(&closed)
        .await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::FORBIDDEN, "Comments are closed")
    );
    // An error of a predicate never lets a request through.
    let seen = get_("/posts/1/audit").user("rms").send(&closed).await;
    assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE);
}
