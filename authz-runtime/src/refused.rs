//! The response to a refused request, as a guard or a check inside a handler sends it.

use std::fmt;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A request that a check inside a handler refused: the response to send, as a guard would
/// have sent it. Return it from the handler, with `?` or [`IntoResponse`].
///
/// The response is boxed, so that a `Result<_, Refused>` is a pointer wide: guards are
/// awaited in every guarded handler's future, and only a refusal pays for the box.
pub struct Refused(Box<Response>);

impl Refused {
    pub(crate) fn new(response: Response) -> Self {
        Self(Box::new(response))
    }

    /// The response's status: 401, 403, a redirect to the login page, or 503.
    pub fn status(&self) -> StatusCode {
        self.0.status()
    }
}

impl fmt::Debug for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Refused").field(&self.0.status()).finish()
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Refused> for Response {
    fn from(refused: Refused) -> Self {
        *refused.0
    }
}
