//! `#[require]` on handlers with every kind of extractor, with none, and twice on one handler:
//! the guard goes first and the handler stays an axum handler.

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, Identity, MemoryStore, require};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[derive(Deserialize)]
struct Page {
    page: u32,
}

#[derive(Deserialize)]
struct NewPost {
    title: String,
}

#[require(not_anonymous())]
async fn no_arguments() -> &'static str {
    "hello"
}

#[require(in_group("developers"))]
async fn with_state(State(state): State<AppState>) -> &'static str {
    state.greeting
}

#[require(in_group("developers"))]
async fn with_path(Path(id): Path<u64>) -> String {
    format!("post {id}")
}

#[require(in_group("developers"))]
async fn with_query(Query(page): Query<Page>) -> String {
    format!("page {}", page.page)
}

#[require(not_anonymous())]
async fn with_json(Json(post): Json<NewPost>) -> String {
    format!("created {}", post.title)
}

#[require(in_group("developers"))]
async fn with_everything(
    method: Method,
    headers: HeaderMap,
    State(state): State<AppState>,
    Path((blog, id)): Path<(String, u64)>,
    Query(page): Query<Page>,
    Json(post): Json<NewPost>,
) -> String {
    format!(
        "{method} {} {} {blog}/{id} page {} {}",
        headers.len(),
        state.greeting,
        page.page,
        post.title
    )
}

#[require(not_anonymous())]
async fn with_identity(Identity(user): Identity) -> String {
    format!("{user:?}")
}

#[require(not_anonymous())]
#[require(in_group("editors"), msg = "Editors only")]
async fn twice(Path(id): Path<u64>) -> String {
    format!("editing {id}")
}

#[require(not_anonymous())]
#[require(in_group("editors"))]
#[require(has_permission("publish"))]
async fn three_times() {}

#[authz_runtime::require(is_user("root"))]
pub async fn through_a_path() {}

#[require(is_user("root"))]
pub(crate) async fn returns_a_result() -> Result<&'static str, (axum::http::StatusCode, String)> {
    Ok("done")
}

fn main() {
    let _app: Router = Router::new()
        .route("/", get(no_arguments))
        .route("/state", get(with_state))
        .route("/path/{id}", get(with_path))
        .route("/query", get(with_query))
        .route("/json", post(with_json))
        .route("/everything/{blog}/{id}", post(with_everything))
        .route("/identity", get(with_identity))
        .route("/twice/{id}", get(twice))
        .route("/three-times", get(three_times))
        .route("/path", get(through_a_path))
        .route("/result", get(returns_a_result))
        .with_state(AppState { greeting: "hi" })
        .layer(AuthzLayer::new(
            TestAuthenticator::default(),
            MemoryStore::default(),
        ));
}
