//! `predicate!` as a value for router-level layers, with built-ins, combinators, `msg` and
//! custom predicates.

use authz_runtime::testing::TestAuthenticator;
use authz_runtime::{
    AuthzLayer, Context, Error, MemoryStore, Predicate, RequireLayer, Verdict, predicate,
};
use axum::Router;
use axum::routing::get;

struct IsMonth(u32);

fn is_month(month: u32) -> IsMonth {
    IsMonth(month)
}

impl Predicate for IsMonth {
    async fn evaluate(&self, _ctx: &mut Context<'_>) -> Result<Verdict, Error> {
        Ok(Verdict::met_if(self.0 == 4, "Only in April"))
    }
}

/// A predicate built once and named by its type.
fn reports_rule() -> impl Predicate {
    predicate!(
        has_any_permission("see-reports", "manage"),
        msg = "Only accountants and managers can read reports"
    )
}

fn main() {
    let reports = Router::new()
        .route("/reports", get(|| async { "figures" }))
        .route_layer(RequireLayer::new(reports_rule()));
    let releases = Router::new()
        .route("/releases", get(|| async { "released" }))
        .route_layer(RequireLayer::new(predicate!(all(
            any(is_month(4), is_month(10, msg = "Only in October")),
            has_permission("release")
        ))));
    let signed_in = Router::new()
        .route("/profile", get(|| async { "profile" }))
        .route_layer(RequireLayer::new(predicate!(not_anonymous())).named("profile pages"));
    let any_layer = RequireLayer::new(predicate!(any(
        is_user("root"),
        in_group("admins"),
        msg = "Needed: {failed_predicates}"
    )));
    let admin = Router::new()
        .route("/admin", get(|| async { "admin" }))
        .route_layer(any_layer.clone());
    let _app: Router = Router::new()
        .merge(reports)
        .merge(releases)
        .merge(signed_in)
        .merge(admin)
        .layer(AuthzLayer::new(
            TestAuthenticator::default(),
            MemoryStore::default(),
        ));
}
