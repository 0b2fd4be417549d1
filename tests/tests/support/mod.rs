//! Shared helpers of the integration tests.
#![allow(dead_code, unreachable_pub)]

use authz_runtime::testing::TestRequest;
use authz_runtime::{Grants, Predicate, Verdict};

/// Evaluates `predicate` for `user` holding `groups` and `permissions`, with `flags` raised
/// (what [`raised`] reads), four ways that must all decide alike: as the first guard of a
/// request, with an authenticator and a store that answer at once and with ones that answer
/// after an await, and as a later guard of each, which finds the credentials loaded.
pub fn evaluate_flagged<P: Predicate>(
    predicate: &P,
    user: Option<&str>,
    groups: &[&str],
    permissions: &[&str],
    flags: &[&str],
) -> Verdict {
    let request = |later: bool| {
        let (parts, ()) = axum::http::Request::get("/")
            .header(FLAGS_HEADER, flags.join(","))
            .body(())
            .expect("a valid request")
            .into_parts();
        let request = TestRequest::new(
            user,
            Grants::new(groups.iter().copied(), permissions.iter().copied()),
        )
        .with_parts(parts);
        if later {
            request.answering_later()
        } else {
            request
        }
    };
    let mut verdicts = Vec::new();
    for later in [false, true] {
        verdicts.push(
            block_on(request(later).evaluate(predicate)).expect("in-memory credentials never fail"),
        );
        let mut loaded = request(later);
        // An earlier guard that read the grants: whatever it decided, they are loaded now.
        let _earlier = block_on(loaded.evaluate(&authz_runtime::predicate!(in_group("editors"))))
            .expect("in-memory credentials never fail");
        verdicts
            .push(block_on(loaded.evaluate(predicate)).expect("in-memory credentials never fail"));
    }
    let first = verdicts.remove(0);
    for (way, verdict) in ["loaded", "answered later", "answered later, loaded"]
        .iter()
        .zip(&verdicts)
    {
        assert_eq!(
            &first, verdict,
            "the predicate decided differently when {way}"
        );
    }
    first
}

/// [`evaluate_flagged`] with no flag raised.
pub fn evaluate<P: Predicate>(
    predicate: &P,
    user: Option<&str>,
    groups: &[&str],
    permissions: &[&str],
) -> Verdict {
    evaluate_flagged(predicate, user, groups, permissions, &[])
}

/// The header [`raised`] reads: the raised flags, separated by commas.
pub const FLAGS_HEADER: &str = "x-flags";

/// A custom predicate: met when `flag` is among the request's raised flags. It answers at once.
pub fn raised(flag: &'static str) -> Raised {
    Raised { flag, later: false }
}

/// The same, answering after an await.
pub fn raised_later(flag: &'static str) -> Raised {
    Raised { flag, later: true }
}

pub struct Raised {
    flag: &'static str,
    later: bool,
}

impl Predicate for Raised {
    async fn evaluate(
        &self,
        ctx: &mut authz_runtime::Context<'_>,
    ) -> Result<Verdict, authz_runtime::Error> {
        if self.later {
            tokio::task::yield_now().await;
        }
        let raised = ctx
            .parts()
            .headers
            .get(FLAGS_HEADER)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|flags| flags.split(',').any(|flag| flag == self.flag));
        Ok(Verdict::met_if(
            raised,
            format!("The flag \"{}\" must be raised", self.flag),
        ))
    }
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

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
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
