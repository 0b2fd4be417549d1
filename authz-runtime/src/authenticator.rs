//! Who is asking: the pluggable authenticator that the layer runs.

use std::borrow::Cow;
use std::future::Future;

use axum::http::request::Parts;

use crate::Error;
use crate::future::BoxFuture;

/// Tells who sent a request: a session cookie, a bearer token, a header set by a trusted proxy.
/// The layer asks it at most once per request, and only when something needs the user.
///
/// Return `Ok(None)` for an anonymous request, and an error only when the answer cannot be
/// known (a session store that is down): an error refuses the request with 503, while a
/// missing or invalid credential is simply anonymous.
///
/// ```
/// use authz_runtime::{Authenticator, Error};
/// use axum::http::request::Parts;
///
/// /// Trusts `X-Remote-User`, set by the authenticating proxy in front of the app.
/// struct RemoteUser;
///
/// impl Authenticator for RemoteUser {
///     async fn authenticate(&self, request: &Parts) -> Result<Option<String>, Error> {
///         Ok(request
///             .headers
///             .get("x-remote-user")
///             .and_then(|value| value.to_str().ok())
///             .map(str::to_owned))
///     }
/// }
/// ```
pub trait Authenticator: Send + Sync + 'static {
    /// The user name of the request's sender, or `None` when anonymous.
    fn authenticate(
        &self,
        request: &Parts,
    ) -> impl Future<Output = Result<Option<String>, Error>> + Send;

    /// The same answer without waiting, for authenticators that never wait (a header, a
    /// signed cookie): it spares the future `authenticate` returns, and a name borrowed from
    /// the request spares a copy. The default, `None`, means "ask `authenticate`".
    ///
    /// ```
    /// use std::borrow::Cow;
    ///
    /// use authz_runtime::{Authenticator, Error};
    /// use axum::http::request::Parts;
    ///
    /// struct RemoteUser;
    ///
    /// impl RemoteUser {
    ///     fn user<'r>(&self, request: &'r Parts) -> Option<&'r str> {
    ///         request.headers.get("x-remote-user")?.to_str().ok()
    ///     }
    /// }
    ///
    /// impl Authenticator for RemoteUser {
    ///     async fn authenticate(&self, request: &Parts) -> Result<Option<String>, Error> {
    ///         Ok(self.user(request).map(str::to_owned))
    ///     }
    ///
    ///     fn authenticate_now<'r>(
    ///         &self,
    ///         request: &'r Parts,
    ///     ) -> Option<Result<Option<Cow<'r, str>>, Error>> {
    ///         Some(Ok(self.user(request).map(Cow::Borrowed)))
    ///     }
    /// }
    /// ```
    fn authenticate_now<'r>(
        &self,
        request: &'r Parts,
    ) -> Option<Result<Option<Cow<'r, str>>, Error>> {
        let _ = request;
        None
    }
}

/// The object-safe side of [`Authenticator`], which the layer stores.
pub(crate) trait DynAuthenticator: Send + Sync + 'static {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Option<String>, Error>>;

    fn authenticate_now<'r>(
        &self,
        request: &'r Parts,
    ) -> Option<Result<Option<Cow<'r, str>>, Error>>;
}

impl<A: Authenticator> DynAuthenticator for A {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
    ) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(Authenticator::authenticate(self, request))
    }

    fn authenticate_now<'r>(
        &self,
        request: &'r Parts,
    ) -> Option<Result<Option<Cow<'r, str>>, Error>> {
        Authenticator::authenticate_now(self, request)
    }
}
