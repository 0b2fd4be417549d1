//! The demo over real HTTP on a loopback port.

use demo::auth::{Clock, USER_HEADER};
use reqwest::StatusCode;

/// Serves the demo on an ephemeral loopback port; returns its base URL and its clock.
async fn serve() -> (String, Clock) {
    let clock = Clock::fixed(4);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = demo::app(clock.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), clock)
}

async fn call(method: reqwest::Method, url: &str, user: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(user) = user {
        request = request.header(USER_HEADER, user);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn admin_side_is_for_the_admin_group() {
    let (base, _) = serve().await;
    let url = format!("{base}/admin");
    assert_eq!(
        call(reqwest::Method::GET, &url, None).await,
        (
            StatusCode::UNAUTHORIZED,
            "The current user must belong to the group \"admin\"".into()
        )
    );
    assert_eq!(
        call(reqwest::Method::GET, &url, Some("visitor")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(reqwest::Method::GET, &url, Some("root")).await,
        (StatusCode::OK, "Welcome to the admin side, root".into())
    );
    let sign_in = call(reqwest::Method::GET, &format!("{base}/admin/sign-in"), None).await;
    assert_eq!(sign_in.0, StatusCode::OK);
}

#[tokio::test]
async fn removing_posts_needs_root_or_manage() {
    let (base, _) = serve().await;
    let url = format!("{base}/posts/1");
    assert_eq!(
        call(reqwest::Method::DELETE, &url, Some("editor")).await,
        (
            StatusCode::FORBIDDEN,
            "Only administrators can remove blog posts".into()
        )
    );
    assert_eq!(
        call(reqwest::Method::DELETE, &url, Some("manager")).await,
        (StatusCode::OK, "Post 1 removed".into())
    );
}

#[tokio::test]
async fn the_seasonal_release_and_the_author_rule() {
    let (base, clock) = serve().await;
    let release = format!("{base}/release");
    assert_eq!(
        call(reqwest::Method::POST, &release, Some("releaser"))
            .await
            .0,
        StatusCode::OK
    );
    clock.set(5);
    assert_eq!(
        call(reqwest::Method::POST, &release, Some("releaser")).await,
        (
            StatusCode::FORBIDDEN,
            "At least one of the following predicates must be met: The current month must be 4, \
             The current month must be 10"
                .into()
        )
    );
    clock.set(10);
    assert_eq!(
        call(reqwest::Method::POST, &release, Some("releaser"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(reqwest::Method::POST, &release, Some("editor"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    let client = reqwest::Client::new();
    let edit = |user: &'static str| {
        client
            .put(format!("{base}/posts/1"))
            .header(USER_HEADER, user)
            .json(&serde_json::json!({"title": "Edited"}))
            .send()
    };
    assert_eq!(edit("editor").await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        edit("releaser").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(edit("manager").await.unwrap().status(), StatusCode::OK);
}
