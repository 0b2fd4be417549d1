//! What deciding a request costs once its credentials are loaded: the rule and two deep
//! rules that visit every combinator, all met, and for reference the rule unmet.
//!
//! The future is polled once with a no-op waker instead of being run on an executor, so the
//! figure is the predicate's own code: on warm credentials nothing awaits, and `evaluate_now`
//! asserts that the future is ready on its first poll.
//!
//! Run with `cargo bench -p authz-bench --bench evaluate`.

use std::hint::black_box;

use authz_bench::rules::{self, evaluate_now, rms};
use authz_runtime::testing::TestRequest;
use authz_runtime::{Grants, predicate};
use criterion::{Criterion, criterion_group, criterion_main};

fn evaluate(c: &mut Criterion) {
    let (admin, deep, deep_not_any) = (rules::admin(), rules::deep(), rules::deep_not_any());

    let mut request = rms();
    // The first evaluation authenticates and loads the grants; every later one reads them.
    assert!(evaluate_now(&mut request, &admin).is_met());
    assert!(evaluate_now(&mut request, &deep).is_met());
    assert!(evaluate_now(&mut request, &deep_not_any).is_met());

    let mut group = c.benchmark_group("evaluate_warm");
    group.bench_function("met/any(is_user,has_permission)", |b| {
        b.iter(|| evaluate_now(&mut request, black_box(&admin)))
    });
    group.bench_function("met/deep_depth5", |b| {
        b.iter(|| evaluate_now(&mut request, black_box(&deep)))
    });
    group.bench_function("met/deep_depth5_not_any", |b| {
        b.iter(|| evaluate_now(&mut request, black_box(&deep_not_any)))
    });

    // Not a target: what a denial costs, for the report. `any` builds its message from its
    // children's, so this one allocates.
    let mut guido = TestRequest::new(Some("guido"), Grants::default());
    assert!(!evaluate_now(&mut guido, &admin).is_met());
    group.bench_function("unmet/any(is_user,has_permission)", |b| {
        b.iter(|| evaluate_now(&mut guido, black_box(&admin)))
    });
    group.finish();
}

/// Not targets: the pieces of the figures above, to tell what they are made of. A leaf's cost
/// over the bare lookup is the runtime's async plumbing (context, lazy credentials).
fn pieces(c: &mut Criterion) {
    let grants = Grants::new(["admins", "developers"], ["manage", "edit-site", "commit"]);
    let permission = predicate!(has_permission("manage"));
    let user = predicate!(is_user("rms"));
    let mut request = rms();
    assert!(evaluate_now(&mut request, &permission).is_met());

    let mut group = c.benchmark_group("pieces");
    group.bench_function("Grants::has_permission (set lookup only)", |b| {
        b.iter(|| black_box(&grants).has_permission(black_box("manage")))
    });
    group.bench_function("met/has_permission", |b| {
        b.iter(|| evaluate_now(&mut request, black_box(&permission)))
    });
    group.bench_function("met/is_user", |b| {
        b.iter(|| evaluate_now(&mut request, black_box(&user)))
    });
    group.finish();
}

criterion_group!(benches, evaluate, pieces);
criterion_main!(benches);
