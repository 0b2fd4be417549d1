use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::Request;
use tower_service::Service;

use crate::credentials::{RequestCredentials, Shared};

/// The service of [`AuthzLayer`](crate::AuthzLayer). It only attaches the request's
/// credentials, unloaded, and calls the inner service: nothing is looked up until a guard asks,
/// so routes without guards pay for one small allocation.
#[derive(Clone)]
pub struct AuthzService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> AuthzService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }
}

impl<S, B> Service<Request<B>> for AuthzService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request
            .extensions_mut()
            .insert(RequestCredentials::new(self.shared.clone()));
        self.inner.call(request)
    }
}
