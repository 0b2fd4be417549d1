//! The signed-in user's name, for handlers.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;

use crate::credentials::RequestCredentials;
use crate::{Error, denial};

/// The signed-in user's name, for handlers: `Identity(Some("rms"))`, or `None` for an
/// anonymous visitor. It asks the same authenticator as the guards, once per request.
///
/// ```
/// use authz_runtime::Identity;
///
/// async fn home(Identity(user): Identity) -> String {
///     match user {
///         Some(user) => format!("Welcome to the admin side, {user}"),
///         None => "Welcome, stranger".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let found = async {
            let credentials = RequestCredentials::of(parts)?;
            let user = credentials.user(parts).await?;
            Ok::<_, Error>(user.map(str::to_owned))
        };
        match found.await {
            Ok(user) => Ok(Identity(user)),
            Err(error) => Err(denial::unavailable(parts, &error, "Identity extractor")),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Identity {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let identity = <Identity as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Ok(identity.0.is_some().then_some(identity))
    }
}
