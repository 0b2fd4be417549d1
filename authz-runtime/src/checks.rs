//! Checks inside handlers: [`Authz`] decides any compiled predicate on the request, to show or
//! hide parts of a page, or to refuse once the handler has loaded the object a rule is about.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;

use crate::credentials::RequestCredentials;
use crate::guard::{self, Origin};
use crate::{Context, Predicate, Refused, denial};

/// The request's authorization, for checks inside a handler: [`is_met`](Self::is_met) asks
/// whether a predicate holds, [`require`](Self::require) refuses the request exactly as a guard
/// with that predicate would (401 for an anonymous visitor or the login redirect, 403 with the
/// message, JSON for API clients, your own denial response).
///
/// It reads the same credentials as the request's guards: the user is authenticated and the
/// grants looked up once per request, however many checks the handler makes. Like the guards,
/// it needs [`AuthzLayer`](crate::AuthzLayer) on the router.
///
/// ```
/// use authz_runtime::{Authz, Refused, predicate};
/// use axum::extract::Path;
///
/// /// The post's page: everyone may read it, only its editors see the "Remove" button.
/// async fn post(mut authz: Authz) -> Result<String, Refused> {
///     let may_remove = authz
///         .is_met(&predicate!(any(is_user("root"), has_permission("manage"))))
///         .await?;
///     Ok(if may_remove { "<button>Remove</button>" } else { "" }.to_owned())
/// }
///
/// /// A rule about the object the handler loads: only its author may edit a draft.
/// async fn edit(Path(author): Path<String>, mut authz: Authz) -> Result<String, Refused> {
///     let rule = predicate!(
///         any(is_user("root"), has_permission("edit-drafts")),
///         msg = "Only the author or an editor can edit this draft"
///     );
///     if authz.user().await? != Some(author.as_str()) {
///         authz.require(&rule).await?;
///     }
///     Ok(format!("editing {author}'s draft"))
/// }
/// ```
pub struct Authz {
    /// The request's head as it came in, for the authenticator and for custom predicates'
    /// extractors (path parameters, query, headers).
    parts: Parts,
    credentials: RequestCredentials,
}

impl Authz {
    /// Whether `predicate` holds for this request. Only a failure to tell (the authenticator
    /// or the store failing) is an error: the 503 a guard would send.
    pub async fn is_met<P: Predicate + ?Sized>(&mut self, predicate: &P) -> Result<bool, Refused> {
        let verdict = predicate
            .evaluate(&mut Context::new(&mut self.parts, &self.credentials, &()))
            .await;
        match verdict {
            Ok(verdict) => Ok(verdict.is_met()),
            Err(error) => Err(Refused::new(denial::unavailable(
                &self.parts,
                &error,
                "Authz::is_met",
            ))),
        }
    }

    /// Lets the request go on if `predicate` holds; otherwise the response a guard with this
    /// predicate would send, which the handler returns (`?`).
    pub async fn require<P: Predicate + ?Sized>(&mut self, predicate: &P) -> Result<(), Refused> {
        let rule = predicate.describe();
        let path = self.parts.uri.path().to_owned();
        guard::check(&mut self.parts, &(), predicate, Origin::layer(&path, &rule))
            .await
            .map_err(Refused::new)
    }

    /// The signed-in user's name, `None` for an anonymous visitor.
    pub async fn user(&self) -> Result<Option<&str>, Refused> {
        match self.credentials.user(&self.parts).await {
            Ok(user) => Ok(user),
            Err(error) => Err(Refused::new(denial::unavailable(
                &self.parts,
                &error,
                "Authz::user",
            ))),
        }
    }
}

impl fmt::Debug for Authz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authz")
            .field("method", &self.parts.method)
            .field("uri", &self.parts.uri)
            .field("user", &self.credentials.user_known())
            .finish_non_exhaustive()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authz {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match RequestCredentials::of(parts) {
            Ok(credentials) => Ok(Authz {
                credentials: credentials.clone(),
                parts: parts.clone(),
            }),
            Err(error) => Err(denial::unavailable(parts, &error, "Authz extractor")),
        }
    }
}
