//! API clients: `Authorization: Bearer <token>`, resolved by the application's own function.

use std::future::Future;

use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::{Authenticator, Error};

/// Reads a bearer token and asks `resolve` whose it is: `Ok(Some(user))`, `Ok(None)` for an
/// unknown token (anonymous), or an error when the answer cannot be known (503).
///
/// The header is `Authorization: Bearer <token>`, the scheme in any case (`bearer`, `BEARER`),
/// with any number of spaces around the token. Without the header, with another scheme
/// (`Basic …`), with an empty token or one holding whitespace, the request is anonymous and
/// `resolve` is not called.
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
            // A token is one word (RFC 6750's `b64token`).
            .filter(|token| !token.is_empty() && !token.contains(char::is_whitespace));
        match token {
            Some(token) => (self.resolve)(token.to_owned()).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderValue, Request};

    use super::*;

    /// The user `value` of `Authorization` signs in as, and the tokens the resolver was asked
    /// about. The resolver knows one token, `s3cr3t`.
    async fn sign_in(value: Option<&str>) -> (Option<String>, Vec<String>) {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let authenticator = BearerAuthenticator::new({
            let asked = asked.clone();
            move |token: String| {
                asked.lock().unwrap().push(token.clone());
                async move { Ok::<_, Error>((token == "s3cr3t").then(|| "ci-bot".to_owned())) }
            }
        });
        let mut request = Request::new(());
        if let Some(value) = value {
            request
                .headers_mut()
                .insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        let user = authenticator
            .authenticate(&request.into_parts().0)
            .await
            .unwrap();
        let asked = asked.lock().unwrap().clone();
        (user, asked)
    }

    #[tokio::test]
    async fn a_known_token_names_its_user_whatever_the_scheme_case() {
        for value in [
            "Bearer s3cr3t",
            "bearer s3cr3t",
            "BEARER s3cr3t",
            "BeArEr s3cr3t",
        ] {
            assert_eq!(
                sign_in(Some(value)).await,
                (Some("ci-bot".to_owned()), vec!["s3cr3t".to_owned()]),
                "{value}"
            );
        }
    }

    #[tokio::test]
    async fn spaces_around_the_token_are_ignored() {
        for value in ["Bearer   s3cr3t", "  Bearer s3cr3t  ", "Bearer s3cr3t   "] {
            assert_eq!(
                sign_in(Some(value)).await,
                (Some("ci-bot".to_owned()), vec!["s3cr3t".to_owned()]),
                "{value:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_unknown_token_is_anonymous() {
        assert_eq!(
            sign_in(Some("Bearer wrong")).await,
            (None, vec!["wrong".to_owned()])
        );
    }

    #[tokio::test]
    async fn no_token_another_scheme_or_a_malformed_token_is_anonymous_unasked() {
        for value in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some("Bearer    "),
            Some("Basic czNjcjN0"),
            Some("Basic s3cr3t"),
            Some("Token s3cr3t"),
            Some("Bearers3cr3t"),
            Some("s3cr3t"),
            Some("Bearer s3cr3t extra"),
        ] {
            assert_eq!(sign_in(value).await, (None, Vec::new()), "{value:?}");
        }
    }
}
