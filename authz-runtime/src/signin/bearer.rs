//! API clients: `Authorization: Bearer <token>`, resolved by the application's own function.

use std::future::Future;

use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::{Authenticator, Error};

/// Reads a bearer token and asks `resolve` whose it is: `Ok(Some(user))`, `Ok(None)` for an
/// unknown token (anonymous), or an error when the answer cannot be known (503).
///
/// ```
/// use authz_runtime::signin::BearerAuthenticator;
/// use authz_runtime::{AuthzLayer, Error, MemoryStore};
///
/// let api = BearerAuthenticator::new(|token: String| async move {
///     // Look the token up (by its hash) in the application's own table.
///     Ok::<_, Error>((token == "s3cr3t").then(|| "ci-bot".to_owned()))
/// });
/// let layer = AuthzLayer::new(api, MemoryStore::default()).with_json_denials();
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct BearerAuthenticator<F> {
    resolve: F,
}

impl<F> BearerAuthenticator<F> {
    /// A bearer authenticator resolving tokens with `resolve`.
    pub fn new(resolve: F) -> Self {
        Self { resolve }
    }
}

impl<F, Fut> Authenticator for BearerAuthenticator<F>
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, Error>> + Send,
{
    async fn authenticate(&self, request: &Parts) -> Result<Option<String>, Error> {
        let token = request
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty());
        match token {
            Some(token) => (self.resolve)(token.to_owned()).await,
            None => Ok(None),
        }
    }
}
