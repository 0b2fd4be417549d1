use std::sync::Arc;

use tower_layer::Layer;

use super::RequireService;
use crate::Predicate;

/// Guards every route of a `Router` with one predicate, usually built with
/// [`predicate!`](crate::predicate). Add it with `Router::route_layer`, so that unmatched paths
/// still answer 404, inside an [`AuthzLayer`](crate::AuthzLayer).
///
/// ```
/// use authz_runtime::{AuthzLayer, MemoryStore, RequireLayer, predicate};
/// use authz_runtime::testing::TestAuthenticator;
/// use axum::{Router, routing::get};
///
/// let reports: Router = Router::new()
///     .route("/reports", get(|| async { "quarterly figures" }))
///     .route_layer(RequireLayer::new(predicate!(
///         has_any_permission("see-reports", "manage"),
///         msg = "Only accountants and managers can read reports"
///     )));
///
/// let app: Router = Router::new()
///     .merge(reports)
///     .layer(AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default()));
/// ```
#[must_use]
pub struct RequireLayer<P> {
    predicate: Arc<P>,
    name: Arc<str>,
}

impl<P: Predicate + 'static> RequireLayer<P> {
    /// A layer checking `predicate` before every request reaches the routes.
    pub fn new(predicate: P) -> Self {
        let name = Arc::from(format!("route layer {}", predicate.describe()));
        Self {
            predicate: Arc::new(predicate),
            name,
        }
    }

    /// Names the guarded routes in denial logs (default: the predicate's text).
    pub fn named(mut self, name: &str) -> Self {
        self.name = Arc::from(name);
        self
    }
}

impl<P> Clone for RequireLayer<P> {
    fn clone(&self) -> Self {
        Self {
            predicate: self.predicate.clone(),
            name: self.name.clone(),
        }
    }
}

impl<S, P> Layer<S> for RequireLayer<P> {
    type Service = RequireService<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireService::new(inner, self.predicate.clone(), self.name.clone())
    }
}
