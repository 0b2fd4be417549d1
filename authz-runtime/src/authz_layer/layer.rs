use std::sync::Arc;

use tower_layer::Layer;

use super::AuthzService;
use crate::credentials::Shared;
use crate::{Authenticator, CredentialsStore};

/// Runs access control for every route under it: holds the authenticator and the credentials
/// store, and gives each request lazily loaded credentials for the guards that
/// `#[require]`, `#[allow_only]` and [`RequireLayer`](crate::RequireLayer) add.
///
/// Add it with `Router::layer` so that it wraps every guarded route. A guarded handler reached
/// without it refuses every request (500 is never a grant).
///
/// ```
/// use authz_runtime::{AuthzLayer, MemoryStore, require};
/// use authz_runtime::testing::TestAuthenticator;
/// use axum::{Router, routing::get};
///
/// #[require(in_group("admins"))]
/// async fn admin_home() -> &'static str {
///     "Welcome to the admin side"
/// }
///
/// let store = MemoryStore::builder().group("admins", ["rms"]).build();
/// let app: Router = Router::new()
///     .route("/admin", get(admin_home))
///     .layer(AuthzLayer::new(TestAuthenticator::default(), store));
/// ```
#[derive(Clone)]
#[must_use]
pub struct AuthzLayer {
    shared: Arc<Shared>,
}

impl AuthzLayer {
    /// A layer that asks `authenticator` who the user is and `store` for their groups and
    /// permissions.
    pub fn new(authenticator: impl Authenticator, store: impl CredentialsStore) -> Self {
        Self {
            shared: Arc::new(Shared {
                authenticator: Box::new(authenticator),
                store: Box::new(store),
            }),
        }
    }
}

impl<S> Layer<S> for AuthzLayer {
    type Service = AuthzService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthzService::new(inner, self.shared.clone())
    }
}
