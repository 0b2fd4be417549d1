//! The demo's routes, each guarded as the seeds guard theirs.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use authz_runtime::{AuthzLayer, Identity, MemoryStore, RequireLayer, predicate, require};
use axum::extract::{Extension, Path};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::auth::{Clock, DemoAuthenticator, is_author, is_month};

/// The blog's posts, in memory.
#[derive(Clone, Default)]
pub(crate) struct Blog(Arc<RwLock<BTreeMap<u64, Post>>>);

#[derive(Clone)]
struct Post {
    author: String,
    title: String,
}

impl Blog {
    fn seeded() -> Self {
        let posts = BTreeMap::from([
            (
                1,
                Post {
                    author: "editor".into(),
                    title: "Hello, world".into(),
                },
            ),
            (
                2,
                Post {
                    author: "root".into(),
                    title: "Release notes".into(),
                },
            ),
        ]);
        Self(Arc::new(RwLock::new(posts)))
    }

    /// The author of post `id`, if it exists.
    pub(crate) fn author_of(&self, id: u64) -> Option<String> {
        self.0.read().ok()?.get(&id).map(|post| post.author.clone())
    }
}

/// The demo's users, groups and permissions.
fn store() -> MemoryStore {
    MemoryStore::builder()
        .group("admin", ["root"])
        .group("managers", ["manager"])
        .group("release-team", ["releaser"])
        .group("writers", ["editor"])
        .permission("manage", ["managers", "admin"])
        .permission("release", ["release-team"])
        .permission("see-reports", ["managers"])
        .user("visitor")
        .build()
}

/// The whole app, with the month of the seasonal release read from `clock`.
pub fn app(clock: Clock) -> Router {
    let reports = Router::new()
        .route("/reports", get(|| async { "Quarterly figures" }))
        .route_layer(RequireLayer::new(predicate!(has_permission("see-reports"))));
    Router::new()
        .route("/", get(|| async { "Welcome to the authz demo blog" }))
        .route("/posts", get(list_posts))
        .route(
            "/posts/{id}",
            get(show_post).put(edit_post).delete(remove_post),
        )
        .route("/release", post(release))
        .route("/admin", get(admin::home))
        .route("/admin/sign-in", get(admin::sign_in))
        .merge(reports)
        .layer(Extension(Blog::seeded()))
        .layer(Extension(clock))
        .layer(AuthzLayer::new(DemoAuthenticator, store()))
}

async fn list_posts(Extension(blog): Extension<Blog>) -> Json<Value> {
    let posts = blog.0.read().map(|posts| {
        posts
            .iter()
            .map(|(id, post)| json!({"id": id, "title": post.title, "author": post.author}))
            .collect::<Vec<_>>()
    });
    Json(json!(posts.unwrap_or_default()))
}

async fn show_post(Path(id): Path<u64>, Extension(blog): Extension<Blog>) -> Json<Value> {
    let post = blog.0.read().ok().and_then(|posts| posts.get(&id).cloned());
    Json(match post {
        Some(post) => json!({"id": id, "title": post.title, "author": post.author}),
        None => Value::Null,
    })
}

#[require(
    any(is_user("root"), has_permission("manage")),
    msg = "Only administrators can remove blog posts"
)]
async fn remove_post(Path(id): Path<u64>, Extension(blog): Extension<Blog>) -> String {
    let removed = blog.0.write().map(|mut posts| posts.remove(&id).is_some());
    match removed {
        Ok(true) => format!("Post {id} removed"),
        _ => format!("Post {id} did not exist"),
    }
}

#[require(any(is_author(), has_permission("manage")))]
async fn edit_post(
    Path(id): Path<u64>,
    Extension(blog): Extension<Blog>,
    Json(edit): Json<Value>,
) -> String {
    let title = edit["title"].as_str().unwrap_or("Untitled").to_owned();
    if let Ok(mut posts) = blog.0.write()
        && let Some(post) = posts.get_mut(&id)
    {
        post.title = title.clone();
    }
    format!("Post {id} is now titled {title:?}")
}

#[require(all(any(is_month(4), is_month(10)), has_permission("release")))]
async fn release(Identity(user): Identity) -> String {
    format!("Release started by {}", user.as_deref().unwrap_or("?"))
}

#[authz_runtime::allow_only(in_group("admin"))]
mod admin {
    use authz_runtime::{Identity, public};

    pub(crate) async fn home(Identity(user): Identity) -> String {
        format!(
            "Welcome to the admin side, {}",
            user.as_deref().unwrap_or("?")
        )
    }

    #[public]
    pub(crate) async fn sign_in() -> &'static str {
        "Send the x-demo-user header to sign in"
    }
}
