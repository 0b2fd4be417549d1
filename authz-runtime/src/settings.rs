//! How the layer answers denials, as [`AuthzLayer`](crate::AuthzLayer)'s builder sets it.

use std::fmt;
use std::sync::Arc;

use axum::response::Response;

use crate::denied::Denied;

/// The application's own denial responses: `None` leaves a denial to the default.
pub(crate) type Responder = Arc<dyn Fn(&Denied) -> Option<Response> + Send + Sync>;

/// How denials are answered; set on [`AuthzLayer`](crate::AuthzLayer).
#[derive(Clone, Default)]
pub(crate) struct Denials {
    pub(crate) login_url: Option<String>,
    pub(crate) json_only: bool,
    pub(crate) responder: Option<Responder>,
}

impl fmt::Debug for Denials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Denials")
            .field("login_url", &self.login_url)
            .field("json_only", &self.json_only)
            .field("responder", &self.responder.is_some())
            .finish()
    }
}
