//! The guarded routing over real routers: guarded handlers answer as guards do, `#[public]`
//! ones are open, anywhere, and a protected router puts its rule before every route.

mod support;

use authz_runtime::routing::{get, post, protected};
use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, MemoryStore, predicate, public, require};
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use support::{get as get_, post as post_};

#[public]
async fn post_page(Path(id): Path<u32>) -> String {
    format!("post {id}")
}

#[require(has_permission("write"))]
async fn write(Path(id): Path<u32>, body: String) -> String {
    format!("post {id} now says {body}")
}

#[authz_runtime::allow_only(in_group("admins"))]
mod admin {
    use authz_runtime::public;

    pub(crate) async fn home() -> &'static str {
        "admin"
    }

    #[public]
    pub(crate) async fn login() -> &'static str {
        "sign in"
    }
}

async fn metrics() -> &'static str {
    "requests 42"
}

fn app() -> Router {
    #[allow(clippy::disallowed_methods)]
    let ops = protected(
        predicate!(in_group("ops")),
        Router::new().route("/metrics", axum::routing::get(metrics)),
    );
    let store = MemoryStore::builder()
        .group("admins", ["rms"])
        .group("ops", ["linus"])
        .permission("write", ["admins"])
        .build();
    Router::new()
        .route("/posts/{id}", get(post_page).merge(post(write)))
        .route("/admin", get(admin::home))
        .route("/admin/login", get(admin::login))
        .nest("/ops", ops)
        .layer(AuthzLayer::new(TestAuthenticator::default(), store))
}

#[tokio::test]
async fn routed_handlers_answer_as_their_guards_say() {
    let app = app();
    let cases = [
        (get_("/posts/7"), StatusCode::OK, "post 7"),
        (get_("/posts/7").user("guido"), StatusCode::OK, "post 7"),
        (
            post_("/posts/7", "text/plain", "hi"),
            StatusCode::UNAUTHORIZED,
            "",
        ),
        (
            post_("/posts/7", "text/plain", "hi").user("guido"),
            StatusCode::FORBIDDEN,
            "",
        ),
        (
            post_("/posts/7", "text/plain", "hi").user("rms"),
            StatusCode::OK,
            "post 7 now says hi",
        ),
        (get_("/admin"), StatusCode::UNAUTHORIZED, ""),
        (get_("/admin").user("guido"), StatusCode::FORBIDDEN, ""),
        (get_("/admin").user("rms"), StatusCode::OK, "admin"),
        (get_("/admin/login"), StatusCode::OK, "sign in"),
    ];
    for (call, status, body) in cases {
        let seen = call.send(&app).await;
        assert_eq!(seen.status, status, "{seen:?}");
        if status == StatusCode::OK {
            assert_eq!(seen.body, body);
        }
    }
}

#[tokio::test]
async fn a_protected_router_puts_its_rule_before_every_route() {
    let app = app();
    let seen = get_("/ops/metrics").send(&app).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    let seen = get_("/ops/metrics").user("rms").send(&app).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert_eq!(
        seen.body,
        "The current user must belong to the group \"ops\""
    );
    let seen = get_("/ops/metrics").user("linus").send(&app).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::OK, "requests 42")
    );
    let seen = get_("/ops/nothing").user("linus").send(&app).await;
    assert_eq!(seen.status, StatusCode::NOT_FOUND);
}
