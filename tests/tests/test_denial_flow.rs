//! The denial flow: browsers sent to sign in and back, JSON clients never redirected, the
//! application's own 401 and 403 responses.

mod support;

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, Denied, MemoryStore, Wants, require};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use support::get as get_;

const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[require(in_group("admin"), msg = "Only <admins> & friends")]
async fn admin() -> &'static str {
    "admin"
}

fn layer() -> AuthzLayer {
    AuthzLayer::new(
        TestAuthenticator::default(),
        MemoryStore::builder()
            .group("admin", ["root"])
            .user("guido")
            .build(),
    )
}

fn app(layer: AuthzLayer) -> Router {
    Router::new().route("/admin/users", get(admin)).layer(layer)
}

#[tokio::test]
async fn anonymous_browsers_are_sent_to_sign_in_and_told_where_they_came_from() {
    let app = app(layer().with_login_url("/login"));
    let seen = get_("/admin/users?tab=all&q=a%20b")
        .accept(BROWSER)
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::SEE_OTHER);
    assert_eq!(
        seen.location,
        "/login?came_from=%2Fadmin%2Fusers%3Ftab%3Dall%26q%3Da%2520b"
    );
    // Signed in but not allowed: a page with the message, escaped; no redirect.
    let seen = get_("/admin/users")
        .user("guido")
        .accept(BROWSER)
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert_eq!(seen.content_type, "text/html; charset=utf-8");
    assert!(
        seen.body
            .contains("<p>Only &lt;admins&gt; &amp; friends</p>"),
        "{}",
        seen.body
    );
}

#[tokio::test]
async fn json_clients_are_never_redirected() {
    let app = app(layer().with_login_url("/login"));
    let seen = get_("/admin/users")
        .accept("application/json")
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert_eq!(seen.location, "");
    assert_eq!(
        seen.body,
        r#"{"detail":"Only <admins> & friends","status":401}"#
    );
    // An API layer answers JSON whatever the client asks for.
    let api = self::app(layer().with_json_denials().with_login_url("/login"));
    let seen = get_("/admin/users").accept(BROWSER).send(&api).await;
    assert_eq!(
        (seen.status, seen.content_type.as_str()),
        (StatusCode::UNAUTHORIZED, "application/json")
    );
}

#[tokio::test]
async fn without_a_login_url_browsers_get_a_401_page() {
    let app = app(layer());
    let seen = get_("/admin/users").accept(BROWSER).send(&app).await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert!(seen.body.contains("<h1>Unauthorized</h1>"));
}

#[tokio::test]
async fn the_application_answers_its_own_denials() {
    let app = app(layer()
        .with_login_url("/login")
        .with_denial_response(|denied: &Denied| match (denied.status, denied.wants) {
            (StatusCode::FORBIDDEN, Wants::Html) => Some(
                (
                    StatusCode::FORBIDDEN,
                    Html(format!(
                        "<h1>Forbidden</h1><p>{}</p><a href=\"{}\">Sign in as someone else</a>",
                        denied.message,
                        denied.login_redirect.clone().unwrap_or_default()
                    )),
                )
                    .into_response(),
            ),
            _ => None,
        }));
    let seen = get_("/admin/users")
        .user("guido")
        .accept(BROWSER)
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert!(seen.body.contains("Sign in as someone else"));
    assert!(seen.body.contains("/login?came_from=%2Fadmin%2Fusers"));
    // Anything the application leaves alone gets the default: anonymous browsers still go to
    // sign in.
    let seen = get_("/admin/users").accept(BROWSER).send(&app).await;
    assert_eq!(seen.status, StatusCode::SEE_OTHER);
    let seen = get_("/admin/users")
        .user("root")
        .accept(BROWSER)
        .send(&app)
        .await;
    assert_eq!((seen.status, seen.body.as_str()), (StatusCode::OK, "admin"));
}
