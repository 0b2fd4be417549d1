//! The rules of `benches/evaluate.rs` and `callgrind-evaluate`, and the user they are decided
//! for, so that the timed figure and the instruction count measure the same evaluations.

use authz_runtime::testing::TestRequest;
use authz_runtime::{Grants, Predicate, Verdict, predicate};

/// A signed-in user who passes every rule here, with the grants of the deep rules' story.
pub fn rms() -> TestRequest {
    TestRequest::new(
        Some("rms"),
        Grants::new(["admins", "developers"], ["manage", "edit-site", "commit"]),
    )
}

/// The rule: `remove_post` in the crate docs. For rms the first child is unmet and
/// the second met, so both children run.
pub fn admin() -> impl Predicate {
    predicate!(any(is_user("root"), has_permission("manage")))
}

/// Five levels (all > any > all > not > in_any_group), every combinator and both list
/// predicates; for rms every branch but `is_user("root")` runs.
pub fn deep() -> impl Predicate {
    predicate!(all(
        not_anonymous(),
        any(
            is_user("root"),
            all(
                in_any_group("admins", "developers"),
                not(in_any_group("banned", "suspended")),
                has_all_permissions("edit-site", "commit"),
            ),
        ),
    ))
}

/// [`deep`] with `not(any(..))`: the inner `any` is unmet and the `not` turns it into met. A
/// `not` only tests its child, so the unmet `any` builds no message and this grant does not
/// allocate either (tests/tests/test_allocations.rs).
pub fn deep_not_any() -> impl Predicate {
    predicate!(all(
        not_anonymous(),
        any(
            is_user("root"),
            all(
                in_any_group("admins", "developers"),
                not(any(in_group("banned"), has_permission("read-only"))),
                has_all_permissions("edit-site", "commit"),
            ),
        ),
    ))
}

/// Evaluates `predicate` by polling its future once, which must be enough: on warm
/// credentials nothing awaits.
pub fn evaluate_now<P: Predicate>(request: &mut TestRequest, predicate: &P) -> Verdict {
    request
        .evaluate_now(predicate)
        .expect("an evaluation on loaded credentials must not wait")
        .expect("in-memory credentials never fail")
}

/// Evaluates `predicate` `count` times; how many were met.
pub fn run<P: Predicate>(request: &mut TestRequest, predicate: &P, count: u64) -> u64 {
    (0..count)
        .map(|_| u64::from(evaluate_now(request, std::hint::black_box(predicate)).is_met()))
        .sum()
}
