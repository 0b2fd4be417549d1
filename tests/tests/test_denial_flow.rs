//! The denial flow: browsers sent to sign in and back, JSON clients never redirected, the
//! application's own 401 and 403 responses, and 503 in the form the client wants.

mod support;

use std::sync::Arc;

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{
    AuthzLayer, CredentialsStore, Denied, Error, Grants, MemoryStore, Wants, require,
};
use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{Request, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use http_body_util::BodyExt;
use support::get as get_;
use tower::ServiceExt;

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

/// `text` safe to place in HTML, as an application's forbidden view must write the message.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// An HTML page with `status` whose body holds `fragment`, as a browser receives it.
fn assert_page(seen: &support::Seen, status: StatusCode, fragment: &str) {
    assert_eq!(seen.status, status);
    assert_eq!(seen.content_type, "text/html; charset=utf-8");
    assert!(seen.body.contains(fragment), "{}", seen.body);
}

/// A request whose path and query are longer than any page's (2,048 bytes) is sent to sign in
/// without it: its `Location` stays short, and the user starts from the home page.
#[tokio::test]
async fn a_huge_path_is_not_copied_into_the_sign_in_redirect() {
    let app = app(layer().with_login_url("/login"));
    let huge = format!("/admin/users?q={}", "a".repeat(60_000));
    let seen = get_(&huge).accept(BROWSER).send(&app).await;
    assert_eq!(seen.status, StatusCode::SEE_OTHER);
    assert_eq!(seen.location, "/login");
    let longest = format!("/admin/users?q={}", "a".repeat(2048 - 15));
    assert_eq!(longest.len(), 2048);
    let seen = get_(&longest).accept(BROWSER).send(&app).await;
    assert_eq!(
        seen.location,
        format!(
            "/login?came_from=%2Fadmin%2Fusers%3Fq%3D{}",
            "a".repeat(2048 - 15)
        )
    );
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
    assert_page(
        &seen,
        StatusCode::FORBIDDEN,
        "<p>Only &lt;admins&gt; &amp; friends</p>",
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
                        escape(&denied.message),
                        escape(denied.login_redirect.as_deref().unwrap_or_default())
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
    assert!(
        seen.body
            .contains("<p>Only &lt;admins&gt; &amp; friends</p>"),
        "{}",
        seen.body
    );
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

#[tokio::test]
async fn the_application_answers_its_own_401s() {
    // Anonymous visitors get the application's page (here a 401 that explains how to sign
    // in) instead of the redirect; JSON clients, left alone, still get the default JSON.
    let app = app(layer()
        .with_login_url("/login")
        .with_denial_response(|denied: &Denied| {
            (denied.status == StatusCode::UNAUTHORIZED && denied.wants != Wants::Json).then(|| {
                (
                    StatusCode::UNAUTHORIZED,
                    [("www-authenticate", "Ticket realm=\"admin\"")],
                    format!(
                        "Please sign in at {} ({})",
                        denied.login_redirect.as_deref().unwrap_or("?"),
                        denied.message
                    ),
                )
                    .into_response()
            })
        }));
    let seen = get_("/admin/users").accept(BROWSER).send(&app).await;
    assert_eq!(
        (seen.status, seen.location.as_str()),
        (StatusCode::UNAUTHORIZED, "")
    );
    assert_eq!(
        seen.body,
        "Please sign in at /login?came_from=%2Fadmin%2Fusers (Only <admins> & friends)"
    );
    let seen = get_("/admin/users")
        .accept("application/json")
        .send(&app)
        .await;
    assert_eq!(
        (seen.status, seen.body.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            r#"{"detail":"Only <admins> & friends","status":401}"#
        )
    );
    // A signed-in user's 403 is left to the default.
    let seen = get_("/admin/users")
        .user("guido")
        .accept(BROWSER)
        .send(&app)
        .await;
    assert_eq!(seen.status, StatusCode::FORBIDDEN);
    assert!(seen.body.contains("<h1>Forbidden</h1>"), "{}", seen.body);
}

/// A request marker that a middleware outside the guard puts in the extensions.
#[derive(Clone)]
struct RequestId(&'static str);

#[tokio::test]
async fn the_applications_response_sees_the_refused_request() {
    let app = Router::new()
        .route("/admin/users", get(admin))
        .layer(layer().with_denial_response(|denied: &Denied| {
            let request = &denied.request;
            let language = request
                .headers
                .get("accept-language")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("?");
            let id = request
                .extensions
                .get::<RequestId>()
                .map_or("?", |RequestId(id)| id);
            Some(
                format!(
                    "{} {} in {language}, request {id}",
                    request.method,
                    request.uri.path()
                )
                .into_response(),
            )
        }))
        .layer(axum::middleware::from_fn(
            |mut request: axum::extract::Request, next: axum::middleware::Next| async move {
                request.extensions_mut().insert(RequestId("r-42"));
                next.run(request).await
            },
        ));
    let request = Request::get("/admin/users?x=1")
        .header("accept-language", "fr")
        .header(authz_runtime::testing::TEST_USER_HEADER, "guido")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "GET /admin/users in fr, request r-42");
}

/// A store that cannot answer.
struct Down;

impl CredentialsStore for Down {
    async fn load(&self, _: &str) -> Result<Option<Arc<Grants>>, Error> {
        Err(Error::store(std::io::Error::other("connection refused")))
    }
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, String, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    assert!(response.headers().get(LOCATION).is_none(), "{response:?}");
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

const UNAVAILABLE_JSON: &str =
    r#"{"detail":"Access could not be checked; please try again later","status":503}"#;

#[tokio::test]
async fn a_failing_store_answers_503_as_json_under_an_api_layer() {
    let api = app(AuthzLayer::new(TestAuthenticator::default(), Down)
        .with_json_denials()
        .with_login_url("/login"));
    for accept in [BROWSER, "text/plain", "*/*", "application/json"] {
        let seen = get_("/admin/users")
            .user("root")
            .accept(accept)
            .send(&api)
            .await;
        assert_eq!(
            (
                seen.status,
                seen.content_type.as_str(),
                seen.body.as_str(),
                seen.location.as_str()
            ),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                UNAVAILABLE_JSON,
                ""
            ),
            "Accept: {accept}"
        );
    }
}

#[tokio::test]
async fn a_503_takes_the_form_the_client_asks_for() {
    let pages = app(AuthzLayer::new(TestAuthenticator::default(), Down).with_login_url("/login"));
    let seen = get_("/admin/users")
        .user("root")
        .accept("application/json")
        .send(&pages)
        .await;
    assert_eq!(
        (seen.status, seen.content_type.as_str(), seen.body.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            UNAVAILABLE_JSON
        )
    );
    let seen = get_("/admin/users")
        .user("root")
        .accept(BROWSER)
        .send(&pages)
        .await;
    assert_page(
        &seen,
        StatusCode::SERVICE_UNAVAILABLE,
        "<p>Access could not be checked; please try again later</p>",
    );
    // The cause stays in the log.
    assert!(!seen.body.contains("connection refused"), "{}", seen.body);
}
