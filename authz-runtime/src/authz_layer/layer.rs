use std::sync::Arc;

use tower_layer::Layer;

use super::AuthzService;
use axum::response::Response;

use crate::credentials::Shared;
use crate::denied::Denied;
use crate::settings::Denials;
use crate::{Authenticator, CredentialsStore};

/// Runs access control for every route under it: holds the authenticator and the credentials
/// store, and gives each request lazily loaded credentials for the guards that
/// `#[require]`, `#[allow_only]` and [`RequireLayer`](crate::RequireLayer) add.
///
/// Add it with `Router::layer` so that it wraps every guarded route. A guarded handler reached
/// without it refuses every request with 503 and logs that the layer is missing.
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
                authenticator: Arc::new(authenticator),
                store: Arc::new(store),
                denials: Denials::default(),
            }),
        }
    }

    fn denials(&mut self) -> &mut Denials {
        &mut Arc::make_mut(&mut self.shared).denials
    }

    /// Sends browsers (`Accept: text/html`) that are refused while anonymous to sign in, with
    /// `303 See Other` to `login_url?came_from=<path and query>`. JSON clients still get JSON.
    /// Check `came_from` with [`safe_came_from`](crate::signin::safe_came_from) (feature
    /// `sign-in`) before redirecting to it.
    pub fn with_login_url(mut self, login_url: &str) -> Self {
        self.denials().login_url = Some(login_url.to_owned());
        self
    }

    /// Answers every denial as JSON (`{"status": …, "detail": …}`), whatever the client
    /// asks for: for APIs.
    pub fn with_json_denials(mut self) -> Self {
        self.denials().json_only = true;
        self
    }

    /// The application's own denial responses, like Pyramid's forbidden view: `respond` gets
    /// each refused request as a [`Denied`] (the status, the message, the user, and the
    /// request itself, for what the page needs of it) and returns a response, or `None` for
    /// the default ([`default_response`](crate::default_response)). Errors (503) are not
    /// denials and do not come here.
    ///
    /// The message is plain text: escape it before putting it into HTML, as below, or send it
    /// as text.
    ///
    /// ```
    /// use authz_runtime::{AuthzLayer, Denied, MemoryStore, Wants};
    /// use authz_runtime::testing::TestAuthenticator;
    /// use axum::http::StatusCode;
    /// use axum::response::{Html, IntoResponse};
    ///
    /// /// `text` safe to place in HTML (a template engine's autoescaping does the same).
    /// fn escape(text: &str) -> String {
    ///     text.replace('&', "&amp;")
    ///         .replace('<', "&lt;")
    ///         .replace('>', "&gt;")
    ///         .replace('"', "&quot;")
    ///         .replace('\'', "&#39;")
    /// }
    ///
    /// let layer = AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default())
    ///     .with_login_url("/login")
    ///     .with_denial_response(|denied: &Denied| {
    ///         (denied.wants == Wants::Html && denied.status == StatusCode::FORBIDDEN).then(|| {
    ///             let page = format!("<h1>Not for you</h1><p>{}</p>", escape(&denied.message));
    ///             (StatusCode::FORBIDDEN, Html(page)).into_response()
    ///         })
    ///     });
    /// ```
    pub fn with_denial_response<F>(mut self, respond: F) -> Self
    where
        F: Fn(&Denied) -> Option<Response> + Send + Sync + 'static,
    {
        self.denials().responder = Some(Arc::new(respond));
        self
    }
}

impl<S> Layer<S> for AuthzLayer {
    type Service = AuthzService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthzService::new(inner, self.shared.clone())
    }
}
