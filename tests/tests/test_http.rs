//! TurboGears' HTTP behaviour over real axum routers: anonymous 401, signed-in 403, allowed
//! 200; guards that run before every other extractor; modules, nested modules and `#[public]`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, Identity, MemoryStore, RequireLayer, predicate, require};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;
use support::{get as get_, post as post_};

#[require(
    any(is_user("root"), has_permission("manage")),
    msg = "Only administrators can remove blog posts"
)]
async fn remove_post(Path(id): Path<i64>) -> String {
    format!("post {id} removed")
}

#[require(not_anonymous())]
#[require(in_group("editors"))]
async fn edit_page() -> &'static str {
    "editing"
}

#[require(not_anonymous())]
async fn create_post(Json(post): Json<Value>) -> String {
    format!("created {}", post["title"])
}

#[derive(Clone)]
struct AppState {
    greeting: &'static str,
}

#[derive(serde::Deserialize)]
struct Page {
    page: u32,
}

#[require(in_group("developers"))]
async fn with_state(State(state): State<AppState>, Query(page): Query<Page>) -> String {
    format!("{} page {}", state.greeting, page.page)
}

#[authz_runtime::allow_only(not_anonymous())]
mod secure {
    use authz_runtime::{Identity, public, require};

    #[require(is_user("admin"))]
    pub(crate) async fn admin_only() -> &'static str {
        "admin area"
    }

    pub(crate) async fn members(Identity(user): Identity) -> String {
        greeting(user.as_deref())
    }

    /// Private helpers stay untouched.
    fn greeting(user: Option<&str>) -> String {
        format!("hello {}", user.unwrap_or("?"))
    }

    #[public]
    pub(crate) async fn login() -> &'static str {
        "please sign in"
    }

    #[authz_runtime::allow_only(in_group("staff"), msg = "Staff only")]
    pub(crate) mod staff {
        pub(crate) async fn desk() -> &'static str {
            "staff desk"
        }
    }
}

fn store() -> MemoryStore {
    MemoryStore::builder()
        .group("admins", ["rms"])
        .group("developers", ["rms", "linus"])
        .group("editors", ["linus"])
        .group("staff", ["admin", "rms"])
        .permission("manage", ["admins"])
        .user("guido")
        .user("admin")
        .build()
}

fn app() -> Router {
    let reports = Router::new()
        .route("/reports", get(|| async { "figures" }))
        .route_layer(RequireLayer::new(predicate!(
            has_any_permission("see-reports", "manage"),
            msg = "Only accountants and managers can read reports"
        )));
    Router::new()
        .route("/posts/{id}", axum::routing::delete(remove_post))
        .route("/edit", get(edit_page))
        .route("/posts", post(create_post))
        .route("/dev", get(with_state))
        .route("/secure/admin", get(secure::admin_only))
        .route("/secure/members", get(secure::members))
        .route("/secure/login", get(secure::login))
        .route("/secure/staff", get(secure::staff::desk))
        .route(
            "/whoami",
            get(|Identity(user): Identity| async move { format!("{user:?}") }),
        )
        .merge(reports)
        .with_state(AppState { greeting: "hi" })
        .layer(AuthzLayer::new(TestAuthenticator::default(), store()))
}

#[tokio::test]
async fn anonymous_is_401_signed_in_is_403_allowed_is_200() {
    let app = app();
    let anonymous = get_("/posts/7").method("DELETE").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body, "Only administrators can remove blog posts");
    assert_eq!(anonymous.content_type, "text/plain; charset=utf-8");

    let guido = get_("/posts/7")
        .method("DELETE")
        .user("guido")
        .send(&app)
        .await;
    assert_eq!(guido.status, StatusCode::FORBIDDEN);
    assert_eq!(guido.body, "Only administrators can remove blog posts");

    let rms = get_("/posts/7")
        .method("DELETE")
        .user("rms")
        .send(&app)
        .await;
    assert_eq!(
        (rms.status, rms.body.as_str()),
        (StatusCode::OK, "post 7 removed")
    );

    let root = get_("/posts/8")
        .method("DELETE")
        .user("root")
        .send(&app)
        .await;
    assert_eq!(
        (root.status, root.body.as_str()),
        (StatusCode::OK, "post 8 removed")
    );
}

#[tokio::test]
async fn json_clients_get_json_denials() {
    let app = app();
    let seen = get_("/posts/7")
        .method("DELETE")
        .user("guido")
        .accept("application/json")
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert_eq!(seen.content_type, "application/json");
    let body: Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": 403, "detail": "Only administrators can remove blog posts"})
    );
    let seen = get_("/edit").accept("application/json").send(&app).await;
    let body: Value = serde_json::from_str(&seen.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": 401, "detail": "The current user must have been authenticated"})
    );
}

#[tokio::test]
async fn two_requires_are_checked_top_to_bottom() {
    let app = app();
    let anonymous = get_("/edit").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.body,
        "The current user must have been authenticated"
    );
    let guido = get_("/edit").user("guido").send(&app).await;
    assert_eq!(guido.status, StatusCode::FORBIDDEN);
    assert_eq!(
        guido.body,
        "The current user must belong to the group \"editors\""
    );
    let linus = get_("/edit").user("linus").send(&app).await;
    assert_eq!(
        (linus.status, linus.body.as_str()),
        (StatusCode::OK, "editing")
    );
}

#[tokio::test]
async fn anonymous_post_with_malformed_json_is_401_and_the_body_is_not_read() {
    let app = app();
    let seen = post_("/posts", "application/json", "{ not json")
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        seen.body,
        r#"{"detail":"The current user must have been authenticated","status":401}"#
    );

    // A body that records being read: a denied request must never touch it.
    let read = Arc::new(AtomicBool::new(false));
    let stream = RecordsReading {
        read: read.clone(),
        done: false,
    };
    let seen = post_("/posts", "application/json", Body::from_stream(stream))
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert!(
        !read.load(Ordering::SeqCst),
        "the body of a denied request was read"
    );

    // Signed in, the same malformed body reaches the JSON extractor and its rejection.
    let seen = post_("/posts", "application/json", "{ not json")
        .user("guido")
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST);
    let seen = post_("/posts", "application/json", r#"{"title": "Hello"}"#)
        .user("guido")
        .send(&app)
        .await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::OK, "created \"Hello\"")
    );
}

/// A one-chunk request body that records being read.
struct RecordsReading {
    read: Arc<AtomicBool>,
    done: bool,
}

impl futures_core::Stream for RecordsReading {
    type Item = Result<axum::body::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.read.store(true, Ordering::SeqCst);
        if std::mem::replace(&mut self.done, true) {
            return std::task::Poll::Ready(None);
        }
        std::task::Poll::Ready(Some(Ok(axum::body::Bytes::from_static(
            b"{\"title\": \"x\"}",
        ))))
    }
}

#[tokio::test]
async fn guarded_handlers_keep_state_query_and_other_extractors() {
    let app = app();
    let seen = get_("/dev?page=3").user("linus").send(&app).await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (StatusCode::OK, "hi page 3")
    );
    let seen = get_("/dev?page=3").user("guido").send(&app).await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    // The guard runs before `Query`: an anonymous request with a bad query is 401, not 400.
    let seen = get_("/dev?page=x").send(&app).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn module_check_runs_before_the_handler_check() {
    let app = app();
    let anonymous = get_("/secure/admin").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.body,
        "The current user must have been authenticated"
    );
    let guido = get_("/secure/admin").user("guido").send(&app).await;
    assert_eq!(guido.status, StatusCode::FORBIDDEN);
    assert_eq!(guido.body, "The current user must be \"admin\"");
    let admin = get_("/secure/admin").user("admin").send(&app).await;
    assert_eq!(
        (admin.status, admin.body.as_str()),
        (StatusCode::OK, "admin area")
    );
}

#[tokio::test]
async fn module_guards_every_visible_handler_and_public_is_open() {
    let app = app();
    assert_eq!(
        get_("/secure/members").send(&app).await.status,
        StatusCode::UNAUTHORIZED
    );
    let guido = get_("/secure/members").user("guido").send(&app).await;
    assert_eq!(
        (guido.status, guido.body.as_str()),
        (StatusCode::OK, "hello guido")
    );
    let login = get_("/secure/login").send(&app).await;
    assert_eq!(
        (login.status, login.body.as_str()),
        (StatusCode::OK, "please sign in")
    );
}

#[tokio::test]
async fn nested_module_checks_outer_then_inner() {
    let app = app();
    let anonymous = get_("/secure/staff").send(&app).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.body,
        "The current user must have been authenticated"
    );
    let guido = get_("/secure/staff").user("guido").send(&app).await;
    assert_eq!(
        (guido.status, guido.body.as_str()),
        (StatusCode::FORBIDDEN, "Staff only")
    );
    let rms = get_("/secure/staff").user("rms").send(&app).await;
    assert_eq!(
        (rms.status, rms.body.as_str()),
        (StatusCode::OK, "staff desk")
    );
}

#[tokio::test]
async fn router_level_predicate_layer() {
    let app = app();
    let anonymous = get_("/reports").send(&app).await;
    assert_eq!(
        (anonymous.status, anonymous.body.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            "Only accountants and managers can read reports"
        )
    );
    assert_eq!(
        get_("/reports").user("guido").send(&app).await.status,
        StatusCode::FORBIDDEN
    );
    let rms = get_("/reports").user("rms").send(&app).await;
    assert_eq!((rms.status, rms.body.as_str()), (StatusCode::OK, "figures"));
    // Unknown paths still answer 404, not a denial.
    assert_eq!(
        get_("/nowhere").send(&app).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn identity_extractor_sees_the_user() {
    let app = app();
    assert_eq!(get_("/whoami").send(&app).await.body, "None");
    assert_eq!(
        get_("/whoami").user("rms").send(&app).await.body,
        "Some(\"rms\")"
    );
}

#[tokio::test]
async fn a_guarded_handler_without_the_layer_refuses() {
    let app: Router = Router::new().route("/edit", get(edit_page));
    let seen = get_("/edit").user("linus").send(&app).await;
    assert_eq!(seen.status, StatusCode::SERVICE_UNAVAILABLE);
}
