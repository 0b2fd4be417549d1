//! What `#[allow_only]` accepts besides free functions: methods, associated functions that take
//! a reference or are not visible, extractors defined in the module, private `use`, and the
//! associated functions and re-exports marked `#[public]`, which stay open on purpose.

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{AuthzLayer, MemoryStore, allow_only};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use tower::ServiceExt;

mod handlers {
    pub async fn status() -> &'static str {
        "up"
    }
}

/// A trait whose function the module below implements.
#[allow(async_fn_in_trait)]
pub trait Titled {
    async fn title() -> String;
}

#[allow_only(in_group("admins"))]
mod admin {
    use authz_runtime::public;
    use axum::extract::FromRequestParts;
    use axum::http::request::Parts;

    // Private: exposes nothing.
    #[allow(unused_imports)]
    use crate::handlers::status as private_status;

    #[public]
    pub use crate::handlers::status;

    pub struct Pages;

    impl Pages {
        /// A method is no handler.
        pub async fn name(&self) -> &'static str {
            "pages"
        }

        /// Takes a reference: cannot be a handler.
        pub async fn load(id: &u64) -> u64 {
            *id
        }

        /// Not visible outside the module.
        #[allow(dead_code)]
        async fn helper() -> u64 {
            1
        }

        /// Not async.
        pub fn count() -> usize {
            2
        }

        #[public]
        pub async fn about() -> &'static str {
            "about the admin side"
        }
    }

    impl crate::Titled for Pages {
        #[authz_runtime::public]
        async fn title() -> String {
            "Admin".to_owned()
        }
    }

    /// An extractor: its `from_request_parts` takes references, and is no handler.
    pub struct Agent(pub String);

    impl<S: Send + Sync> FromRequestParts<S> for Agent {
        type Rejection = std::convert::Infallible;

        async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
            let agent = parts
                .headers
                .get("user-agent")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("unknown");
            Ok(Agent(agent.to_owned()))
        }
    }

    /// A trait of the module: a function without a body is no handler.
    #[allow(async_fn_in_trait, dead_code)]
    pub trait Section {
        async fn render() -> String;

        fn describe(&self) -> String {
            "a section".to_owned()
        }
    }

    pub async fn home(Agent(agent): Agent) -> String {
        format!("{} for {agent}", Pages::count())
    }
}

async fn status(app: &Router, uri: &str) -> StatusCode {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    app.clone().oneshot(request).await.unwrap().status()
}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/admin", get(admin::home))
        .route("/admin/about", get(admin::Pages::about))
        .route("/admin/title", get(<admin::Pages as Titled>::title))
        .route("/admin/status", get(admin::status))
        .layer(AuthzLayer::new(
            TestAuthenticator::default(),
            MemoryStore::builder().build(),
        ));

    assert_eq!(status(&app, "/admin").await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(&app, "/admin/about").await, StatusCode::OK);
    assert_eq!(status(&app, "/admin/title").await, StatusCode::OK);
    assert_eq!(status(&app, "/admin/status").await, StatusCode::OK);
    assert_eq!(admin::Pages::load(&7).await, 7);
    assert_eq!(admin::Pages.name().await, "pages");
}
