//! Shared helpers of the integration tests.
#![allow(dead_code, unreachable_pub)]

use authz_runtime::testing::TestRequest;
use authz_runtime::{Grants, Predicate, Verdict};

/// Evaluates `predicate` for `user` holding `groups` and `permissions`, twice: as the first
/// guard of a request, which loads the credentials lazily, and as a later one, which finds
/// them loaded (the synchronous path of trees of built-ins). Both must decide alike.
pub fn evaluate<P: Predicate>(
    predicate: &P,
    user: Option<&str>,
    groups: &[&str],
    permissions: &[&str],
) -> Verdict {
    let request = || {
        TestRequest::new(
            user,
            Grants::new(groups.iter().copied(), permissions.iter().copied()),
        )
    };
    let first = block_on(request().evaluate(predicate)).expect("in-memory credentials never fail");
    let mut loaded = request();
    // An earlier guard that read the grants: whatever it decided, they are loaded now.
    let _earlier = block_on(loaded.evaluate(&authz_runtime::predicate!(in_group("editors"))))
        .expect("in-memory credentials never fail");
    let later = block_on(loaded.evaluate(predicate)).expect("in-memory credentials never fail");
    assert_eq!(
        first, later,
        "the predicate decided differently once the credentials were loaded"
    );
    first
}

/// The denial message, or a panic when the predicate is met.
pub fn unmet_message(verdict: Verdict) -> String {
    match verdict {
        Verdict::Unmet(denial) => denial.message().to_owned(),
        Verdict::Met => panic!("expected the predicate to be unmet"),
    }
}

pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
        .block_on(future)
}

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// What a client sees of a response.
#[derive(Debug)]
pub struct Seen {
    pub status: StatusCode,
    pub content_type: String,
    /// The `Location` header, empty when there is none.
    pub location: String,
    pub body: String,
}

/// A request as a client would build it.
pub struct Call {
    request: axum::http::request::Builder,
    body: Body,
}

pub fn get(uri: &str) -> Call {
    Call {
        request: Request::get(uri),
        body: Body::empty(),
    }
}

pub fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Call {
    Call {
        request: Request::post(uri).header("content-type", content_type),
        body: body.into(),
    }
}

impl Call {
    pub fn method(mut self, method: &str) -> Self {
        self.request = self.request.method(method);
        self
    }

    pub fn user(mut self, user: &str) -> Self {
        self.request = self
            .request
            .header(authz_runtime::testing::TEST_USER_HEADER, user);
        self
    }

    pub fn accept(mut self, accept: &str) -> Self {
        self.request = self.request.header("accept", accept);
        self
    }

    pub async fn send(self, app: &Router) -> Seen {
        let request = self.request.body(self.body).expect("a valid request");
        let response = app
            .clone()
            .oneshot(request)
            .await
            .expect("routers never fail");
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|value| value.to_str().unwrap_or_default().to_owned())
                .unwrap_or_default()
        };
        let content_type = header("content-type");
        let location = header("location");
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a readable body")
            .to_bytes();
        Seen {
            status,
            content_type,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}
