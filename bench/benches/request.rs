//! What the guard adds to a whole request in process, without sockets: the load test's
//! application called as a tower service, `/guarded` against `/open` and the routes that split
//! the difference (see `authz_bench`). The network's noise is gone; what is left is axum's
//! routing and extraction, the layer, and the guard with its credential lookup.
//!
//! As in `evaluate.rs`, the future is polled once with a no-op waker: these handlers never
//! wait, and `respond_now` asserts it. Building the request is outside the timing.
//!
//! Run with `cargo bench -p authz-bench --bench request`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use authz_runtime::testing::TEST_USER_HEADER;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tower_service::Service;

fn request(path: &str) -> Request<Body> {
    Request::get(path)
        .header(TEST_USER_HEADER, authz_bench::USER)
        .body(Body::empty())
        .expect("a valid request")
}

/// Calls `app` and polls the response future once, which must be enough.
fn respond_now(app: &mut Router, request: Request<Body>) -> Response {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(app.call(request)).poll(&mut cx) {
        Poll::Ready(response) => response.expect("a router never fails"),
        Poll::Pending => panic!("these handlers never wait"),
    }
}

fn requests(c: &mut Criterion) {
    let mut app = authz_bench::app();
    let mut group = c.benchmark_group("request");
    for path in ["/open", "/guarded", "/extracted", "/bare"] {
        assert_eq!(
            respond_now(&mut app, request(path)).status(),
            StatusCode::OK
        );
        group.bench_function(path, |b| {
            b.iter_batched(
                || request(path),
                |request| respond_now(&mut app, request),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, requests);
criterion_main!(benches);
