//! What a predicate sees of the request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::credentials::RequestCredentials;
use crate::{Error, Grants};

/// The request being decided, as a predicate sees it: the user, their grants, and the request's
/// head for object-level rules (path parameters, query, headers, extensions).
///
/// Credentials are loaded on first use and kept for the rest of the request, so any number of
/// predicates cost one authentication and at most one store lookup.
///
/// ```
/// use authz_runtime::{Context, Error, Predicate, Verdict};
/// use axum::extract::Path;
///
/// /// Only the author of the post in the path may edit it.
/// pub struct OwnsPost;
///
/// impl Predicate for OwnsPost {
///     async fn evaluate(&self, ctx: &mut Context<'_>) -> Result<Verdict, Error> {
///         let Ok(Path(id)) = ctx.extract::<Path<u64>>().await else {
///             return Ok(Verdict::unmet("The post must exist"));
///         };
///         let author = if id == 1 { "rms" } else { "linus" }; // a real one asks the database
///         let user = ctx.user().await?;
///         Ok(Verdict::met_if(
///             user == Some(author),
///             format!("Only the author of post {id} can edit it"),
///         ))
///     }
/// }
/// ```
pub struct Context<'r, S = ()> {
    parts: &'r mut Parts,
    credentials: &'r RequestCredentials,
    state: &'r S,
}

impl<'r, S> Context<'r, S> {
    pub(crate) fn new(
        parts: &'r mut Parts,
        credentials: &'r RequestCredentials,
        state: &'r S,
    ) -> Self {
        Self {
            parts,
            credentials,
            state,
        }
    }

    /// The app's state, for a predicate of a rule written with `state = …`: what the router's
    /// state gives through axum's `FromRef`.
    pub fn state(&self) -> &S {
        self.state
    }

    /// The same request without the state, for a predicate that reads none.
    pub(crate) fn stateless(&mut self) -> Context<'_, ()> {
        Context {
            parts: self.parts,
            credentials: self.credentials,
            state: &(),
        }
    }

    /// The authenticated user's name, or `None` for an anonymous request.
    pub async fn user(&self) -> Result<Option<&str>, Error> {
        self.credentials.user(self.parts).await
    }

    /// The user's groups and permissions (empty when anonymous or unknown to the store).
    pub async fn grants(&self) -> Result<&Grants, Error> {
        self.credentials.grants(self.parts).await
    }

    /// The request's credentials, for the evaluator.
    pub(crate) fn credentials(&self) -> &RequestCredentials {
        self.credentials
    }

    /// The request's head: method, URI, headers, extensions.
    pub fn parts(&self) -> &Parts {
        self.parts
    }

    /// Runs an extractor on the request's head, e.g. `ctx.extract::<Path<u64>>()`,
    /// `Query<…>`, or, in a predicate of a rule with `state = AppState`,
    /// `State<AppState>`.
    pub async fn extract<E>(&mut self) -> Result<E, E::Rejection>
    where
        E: FromRequestParts<S>,
    {
        E::from_request_parts(self.parts, self.state).await
    }
}
