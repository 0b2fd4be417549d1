use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::Request;
use axum::response::Response;
use tower_service::Service;

use crate::Predicate;
use crate::guard::{Origin, check};

/// The service of [`RequireLayer`](crate::RequireLayer).
pub struct RequireService<S, P> {
    inner: S,
    predicate: Arc<P>,
    name: Arc<str>,
}

/// The future of [`RequireService`]: the check, then the inner service.
pub type RequireFuture<E> = Pin<Box<dyn Future<Output = Result<Response, E>> + Send>>;

impl<S, P> RequireService<S, P> {
    pub(crate) fn new(inner: S, predicate: Arc<P>, name: Arc<str>) -> Self {
        Self {
            inner,
            predicate,
            name,
        }
    }
}

impl<S: Clone, P> Clone for RequireService<S, P> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            predicate: self.predicate.clone(),
            name: self.name.clone(),
        }
    }
}

impl<S, P> Service<Request<Body>> for RequireService<S, P>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send,
    P: Predicate + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RequireFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The service that was polled ready is the one to call; leave a fresh clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let predicate = self.predicate.clone();
        let name = self.name.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let rule = predicate.describe();
            match check(&mut parts, &(), &*predicate, Origin::layer(&name, &rule)).await {
                Ok(()) => inner.call(Request::from_parts(parts, body)).await,
                Err(denied) => Ok(denied),
            }
        })
    }
}
