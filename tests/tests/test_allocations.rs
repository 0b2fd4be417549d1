//! Deciding a request that is let through allocates nothing once its credentials are loaded:
//! the rules of `bench/benches/evaluate.rs`, counted with a global allocator, including rules
//! whose unmet `any` is thrown away by an enclosing `not` or `any`.
//!
//! The counting allocator is `allocation-counter`'s, a wrapper around `System` that counts per
//! thread. Writing one here would need `unsafe impl GlobalAlloc`, and the workspace sets
//! `unsafe_code = "forbid"`, which no `#![allow(unsafe_code)]` can lift; the crate keeps that
//! `unsafe` out of this workspace. Counting per thread keeps the other tests of this binary,
//! which run on other threads, out of the count.

use allocation_counter::{AllocationInfo, measure};
use authz_runtime::testing::TestRequest;
use authz_runtime::{Grants, Predicate, Verdict, predicate};

/// Evaluates `predicate` by polling its future once, as the benchmark does: on loaded
/// credentials nothing waits.
fn evaluate_now<P: Predicate>(request: &mut TestRequest, predicate: &P) -> Verdict {
    request
        .evaluate_now(predicate)
        .expect("an evaluation on loaded credentials must not wait")
        .expect("in-memory credentials never fail")
}

fn rms() -> TestRequest {
    TestRequest::new(
        Some("rms"),
        Grants::new(["admins", "developers"], ["manage", "edit-site", "commit"]),
    )
}

/// `measure`, repeated: one stray allocation in a thousand evaluations still shows.
fn measure_many(times: usize, mut evaluate: impl FnMut()) -> AllocationInfo {
    measure(|| {
        for _ in 0..times {
            evaluate();
        }
    })
}

#[test]
fn the_counter_counts() {
    // Without this, a counter that never counted would pass every test below.
    let info = measure(|| drop(std::hint::black_box(Box::new(7u64))));
    assert_eq!(info.count_total, 1);
}

/// Loads `request`'s credentials: the first evaluation authenticates and loads the grants,
/// which allocates.
fn warm(request: &mut TestRequest) {
    let loading = measure(|| {
        assert!(evaluate_now(request, &predicate!(has_permission("manage"))).is_met());
    });
    assert!(loading.count_total > 0, "{loading:?}");
}

#[test]
fn letting_through_with_the_issue_rule_allocates_nothing() {
    let admin = predicate!(any(is_user("root"), has_permission("manage")));
    let mut request = rms();
    warm(&mut request);
    // `is_user("root")` is unmet first: a built-in's denial is static, so this costs nothing.
    let info = measure_many(1000, || {
        assert!(evaluate_now(&mut request, &admin).is_met());
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn letting_through_with_a_deep_rule_allocates_nothing() {
    // Five levels: all > any > all > not > in_any_group.
    let deep = predicate!(all(
        not_anonymous(),
        any(
            is_user("root"),
            all(
                in_any_group("admins", "developers"),
                not(in_any_group("banned", "suspended")),
                has_all_permissions("edit-site", "commit"),
            ),
        ),
    ));
    let mut request = rms();
    warm(&mut request);
    let info = measure_many(1000, || {
        assert!(evaluate_now(&mut request, &deep).is_met());
    });
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn letting_through_with_a_rule_that_discards_an_unmet_any_allocates_nothing() {
    // The deep rule of the benchmark, whose `not` negates an `any`.
    let deep = predicate!(all(
        not_anonymous(),
        any(
            is_user("root"),
            all(
                in_any_group("admins", "developers"),
                not(any(in_group("banned"), has_permission("read-only"))),
                has_all_permissions("edit-site", "commit"),
            ),
        ),
    ));
    let either = predicate!(any(
        any(in_group("banned"), has_permission("read-only")),
        has_permission("manage"),
    ));
    let mut request = rms();
    warm(&mut request);
    let info = measure_many(1000, || {
        assert!(evaluate_now(&mut request, &deep).is_met());
    });
    assert_eq!(info.count_total, 0, "not(any(..)) met: {info:?}");
    let info = measure_many(1000, || {
        assert!(evaluate_now(&mut request, &either).is_met());
    });
    assert_eq!(info.count_total, 0, "any(any(..) unmet, ..) met: {info:?}");
}

#[test]
fn a_denial_by_a_built_in_allocates_nothing_and_by_any_allocates_its_message() {
    let permission = predicate!(has_permission("manage"));
    let admin = predicate!(any(is_user("root"), has_permission("manage")));
    let mut guido = TestRequest::new(Some("guido"), Grants::default());
    assert!(!evaluate_now(&mut guido, &permission).is_met());

    // A built-in's message is a `&'static str`: denying costs no allocation.
    let info = measure(|| assert!(!evaluate_now(&mut guido, &permission).is_met()));
    assert_eq!(info.count_total, 0, "{info:?}");

    // `any` joins its children's messages into a new `String`: "At least one of the
    // following predicates must be met: The current user must be \"root\", The user must
    // have the \"manage\" permission", sized once; it is freed with the verdict.
    let info = measure(|| assert!(!evaluate_now(&mut guido, &admin).is_met()));
    assert_eq!(
        info.count_total, 1,
        "an unmet `any` allocates its message and nothing else: {info:?}"
    );
    assert_eq!(info.count_current, 0, "{info:?}");
}

/// A whole request through axum, where the guard loads the credentials: no allocation more
/// than the same request unguarded, so that any new allocation per request shows.
mod per_request {
    use super::*;
    use authz_runtime::testing::{TEST_USER_HEADER, TestAuthenticator};
    use authz_runtime::{AuthzLayer, MemoryStore, require};
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use tower::Service;

    async fn open() -> &'static str {
        "Hello, world"
    }

    #[require(has_permission("manage"))]
    async fn guarded() -> &'static str {
        "Hello, world"
    }

    fn app() -> Router {
        let store = MemoryStore::builder()
            .group("admins", ["rms"])
            .permission("manage", ["admins"])
            .build();
        Router::new()
            .route("/guarded", get(guarded))
            .route("/open", get(open))
            .layer(AuthzLayer::new(TestAuthenticator::default(), store))
    }

    /// The allocations of one request to `path` as `rms`, building it not included.
    fn allocations(app: &mut Router, path: &str) -> AllocationInfo {
        let request = Request::get(path)
            .header(TEST_USER_HEADER, "rms")
            .body(Body::empty())
            .unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let mut status = None;
        let info = measure(|| match pin!(app.call(request)).poll(&mut cx) {
            Poll::Ready(response) => status = Some(response.unwrap().status()),
            Poll::Pending => panic!("these handlers never wait"),
        });
        assert_eq!(status, Some(StatusCode::OK), "{path}");
        info
    }

    #[test]
    fn a_guard_adds_no_allocation_to_a_request() {
        let mut app = app();
        // The first requests set up what axum and tracing keep.
        allocations(&mut app, "/open");
        allocations(&mut app, "/guarded");

        let open = allocations(&mut app, "/open");
        let guarded = allocations(&mut app, "/guarded");
        // None: the test authenticator and the memory store answer without a future, the
        // user's name is borrowed from the header and kept inline, and the grants are shared.
        assert_eq!(
            guarded.count_total, open.count_total,
            "open: {open:?}\nguarded: {guarded:?}"
        );
    }
}
