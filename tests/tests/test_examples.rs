//! Every example of `authz-runtime/examples/`, served on a loopback port and asked over HTTP
//! as its doc comment tells a reader to: the examples are compiled here as modules, so that
//! what they show is what they do.

#[allow(dead_code)]
#[path = "../../authz-runtime/examples/checks_in_handlers.rs"]
mod checks_in_handlers;
#[allow(dead_code)]
#[path = "../../authz-runtime/examples/file_modules/main.rs"]
mod file_modules;
#[allow(dead_code)]
#[path = "../../authz-runtime/examples/guarded_routing.rs"]
mod guarded_routing;
#[allow(dead_code)]
#[path = "../../authz-runtime/examples/handler_and_module.rs"]
mod handler_and_module;
#[allow(dead_code)]
#[path = "../../authz-runtime/examples/sign_in.rs"]
mod sign_in;
#[allow(dead_code)]
#[path = "../../authz-runtime/examples/sql_store.rs"]
mod sql_store;
#[allow(dead_code)]
#[path = "../../authz-runtime/examples/state_and_database.rs"]
mod state_and_database;

use axum::Router;
use reqwest::{Client, StatusCode};

/// `app` on a loopback port: its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A client that follows no redirect and keeps cookies, as the test wants to see each step.
fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// `method path` as `user` (the `x-user` header of the examples' proxy): status and body.
async fn ask(base: &str, method: &str, path: &str, user: Option<&str>) -> (StatusCode, String) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client()
        .request(method, format!("{base}{path}"))
        .header("accept", "text/plain");
    if let Some(user) = user {
        request = request.header("x-user", user);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn handler_and_module() {
    let base = serve(handler_and_module::app()).await;
    let cases = [
        ("GET", "/", None, StatusCode::OK),
        ("POST", "/posts/1/delete", None, StatusCode::UNAUTHORIZED),
        (
            "POST",
            "/posts/1/delete",
            Some("rms"),
            StatusCode::FORBIDDEN,
        ),
        ("POST", "/posts/1/delete", Some("root"), StatusCode::OK),
        ("POST", "/posts/1/delete", Some("linus"), StatusCode::OK),
        ("GET", "/admin", Some("rms"), StatusCode::FORBIDDEN),
        ("GET", "/admin", Some("linus"), StatusCode::OK),
        ("GET", "/admin/login", None, StatusCode::OK),
    ];
    for (method, path, user, status) in cases {
        assert_eq!(
            ask(&base, method, path, user).await.0,
            status,
            "{method} {path} {user:?}"
        );
    }
    let (_, body) = ask(&base, "POST", "/posts/1/delete", Some("rms")).await;
    assert_eq!(body, "Only administrators can remove blog posts");
}

#[tokio::test]
async fn file_modules() {
    let base = serve(file_modules::app()).await;
    assert_eq!(
        ask(&base, "GET", "/admin", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ask(&base, "GET", "/admin/login", None).await,
        (StatusCode::OK, "sign in to the admin side".to_owned())
    );
    assert_eq!(
        ask(&base, "GET", "/admin/users", Some("rms")).await,
        (StatusCode::OK, "the users".to_owned())
    );
    assert_eq!(
        ask(&base, "GET", "/admin/users", Some("guido")).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn checks_in_handlers() {
    let base = serve(checks_in_handlers::app()).await;
    let (status, page) = ask(&base, "GET", "/posts/1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("Remove"), "{page}");
    let (_, page) = ask(&base, "GET", "/posts/1", Some("root")).await;
    assert!(page.contains("<button>Remove</button>"), "{page}");
    assert_eq!(
        ask(&base, "POST", "/posts/2/publish", Some("rms")).await,
        (StatusCode::OK, "post 2 published".to_owned())
    );
    assert_eq!(
        ask(&base, "POST", "/posts/1/publish", Some("rms")).await,
        (
            StatusCode::FORBIDDEN,
            "Only the author or an editor can publish this post".to_owned()
        )
    );
    assert_eq!(
        ask(&base, "POST", "/posts/1/publish", Some("linus"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        ask(&base, "POST", "/posts/1/publish", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn guarded_routing() {
    let base = serve(guarded_routing::app()).await;
    assert_eq!(ask(&base, "GET", "/", None).await.0, StatusCode::OK);
    assert_eq!(
        ask(&base, "POST", "/posts", Some("linus")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask(&base, "POST", "/posts", Some("rms")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        ask(&base, "GET", "/ops/metrics", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        ask(&base, "GET", "/ops/metrics", Some("rms")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask(&base, "GET", "/ops/metrics", Some("linus")).await,
        (StatusCode::OK, "requests 42".to_owned())
    );
}

#[tokio::test]
async fn sql_store() {
    let base = serve(sql_store::app("sqlite::memory:").await.unwrap()).await;
    assert_eq!(
        ask(&base, "GET", "/reports", Some("rms")).await,
        (StatusCode::OK, "Q1 revenue\nQ2 revenue".to_owned())
    );
    assert_eq!(
        ask(&base, "GET", "/reports", Some("guido")).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask(&base, "GET", "/reports", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn state_and_database() {
    let base = serve(state_and_database::app().await.unwrap()).await;
    assert_eq!(
        ask(&base, "GET", "/posts/1/edit", Some("rms")).await,
        (StatusCode::OK, "editing post 1".to_owned())
    );
    assert_eq!(
        ask(&base, "GET", "/posts/2/edit", Some("rms")).await,
        (
            StatusCode::FORBIDDEN,
            "At least one of the following predicates must be met: Only the author of post 2 can edit it, \
             The user must have the \"manage\" permission"
                .to_owned()
        )
    );
    assert_eq!(
        ask(&base, "GET", "/posts/2/edit", Some("guido")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        ask(&base, "GET", "/posts/2/edit", None).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn sign_in() {
    let base = serve(sign_in::app()).await;
    let browser = client();
    let html = "text/html,application/xhtml+xml";
    // An anonymous browser is sent to sign in, remembering where it was going.
    let refused = browser
        .get(format!("{base}/admin"))
        .header("accept", html)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert_eq!(refused.headers()["location"], "/login?came_from=%2Fadmin");
    let form = browser
        .get(format!("{base}/login?came_from=%2Fadmin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        form.contains(r#"name="came_from" value="/admin""#),
        "{form}"
    );

    let wrong = browser
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=root&password=guess&came_from=%2Fadmin")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let signed_in = browser
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("user=root&password=root-password&came_from=%2Fadmin")
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/admin");
    let admin = browser.get(format!("{base}/admin")).send().await.unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
    assert_eq!(
        admin.text().await.unwrap(),
        "Welcome to the admin side, root"
    );

    let out = browser.post(format!("{base}/logout")).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = browser
        .get(format!("{base}/admin"))
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}
