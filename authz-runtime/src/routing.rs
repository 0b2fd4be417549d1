//! Routing that refuses, while compiling, a handler that nobody guards.
//!
//! [`get`], [`post`] and their siblings are axum's, with one more bound: the handler carries a
//! guard (`#[require]`, or an `#[allow_only]` module's), or is marked [`#[public]`](crate::public)
//! to be open on purpose. A handler with neither is a compile error under its name, where axum
//! would have routed it open:
//!
//! ```
//! use authz_runtime::routing::{get, post};
//! use authz_runtime::testing::TestAuthenticator;
//! use authz_runtime::{AuthzLayer, MemoryStore, public, require};
//! use axum::Router;
//!
//! #[public]
//! async fn home() -> &'static str {
//!     "Anyone may read this blog"
//! }
//!
//! #[require(has_permission("write"))]
//! async fn write() -> &'static str {
//!     "posted"
//! }
//!
//! let app: Router = Router::new()
//!     .route("/", get(home))
//!     .route("/posts", post(write))
//!     .layer(AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default()));
//! ```
//!
//! ```compile_fail
//! use authz_runtime::routing::get;
//! use axum::Router;
//!
//! async fn forgotten() -> &'static str {
//!     "open to all"
//! }
//!
//! // error: `forgotten` is not guarded
//! let app: Router = Router::new().route("/", get(forgotten));
//! ```
//!
//! A router whose routes all share one rule needs no guard per handler: [`protected`] puts the
//! rule in front of every route of a router, by construction.
//!
//! Two methods on one path: `get(edit_form).merge(post(edit))`. To keep axum's own routing
//! functions out of a crate, forbid them with clippy's `disallowed-methods` in its
//! `clippy.toml` (the demo ships one):
//!
//! ```toml
//! disallowed-methods = [
//!     { path = "axum::routing::get", reason = "route through authz_runtime::routing" },
//!     { path = "axum::routing::post", reason = "route through authz_runtime::routing" },
//!     { path = "axum::routing::MethodRouter::get", reason = "use .merge(authz_runtime::routing::get(..))" },
//! ]
//! ```

use std::convert::Infallible;
use std::future::{Ready, ready};

use axum::Router;
use axum::extract::FromRequestParts;
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::routing::{self, MethodRouter};

use crate::guard::{Guard, LastGuard};
use crate::{Predicate, RequireLayer};

/// The first argument of a guarded or public handler: what the macros insert.
#[doc(hidden)]
pub trait GuardArgument {}

impl<M> GuardArgument for Guard<M> {}

impl<M> GuardArgument for LastGuard<M> {}

impl GuardArgument for Open {}

/// The argument that `#[public]` inserts: the handler is open on purpose. It extracts nothing.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Open;

impl<S: Send + Sync> FromRequestParts<S> for Open {
    type Rejection = Infallible;

    #[allow(refining_impl_trait)]
    fn from_request_parts(_: &mut Parts, _: &S) -> Ready<Result<Self, Infallible>> {
        ready(Ok(Open))
    }
}

/// The extractors of a handler whose first argument is a guard, as axum's `Handler` impls
/// number them: `(M, T1, T2, …)`.
#[doc(hidden)]
pub trait GuardedArguments {}

macro_rules! guarded_arguments {
    ($($rest:ident),*) => {
        impl<M, G: GuardArgument, $($rest),*> GuardedArguments for (M, G, $($rest,)*) {}
    };
}

guarded_arguments!();
guarded_arguments!(T2);
guarded_arguments!(T2, T3);
guarded_arguments!(T2, T3, T4);
guarded_arguments!(T2, T3, T4, T5);
guarded_arguments!(T2, T3, T4, T5, T6);
guarded_arguments!(T2, T3, T4, T5, T6, T7);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8, T9);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8, T9, T10);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14);
guarded_arguments!(T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15);
guarded_arguments!(
    T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15, T16
);

/// A handler that carries a guard or is marked `#[public]`: what [`get`] and its siblings take.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not guarded: nothing checks who may call it",
    label = "this handler has no guard",
    note = "add `#[require(...)]`, put it in an `#[allow_only(...)]` module, or mark it \
            `#[authz_runtime::public]` to leave it open on purpose"
)]
pub trait GuardedHandler<T, S>: Handler<T, S> {}

#[diagnostic::do_not_recommend]
impl<H, T, S> GuardedHandler<T, S> for H
where
    H: Handler<T, S>,
    T: GuardedArguments,
{
}

/// Routes `GET` (and `HEAD`) requests to a guarded or public handler: axum's
/// [`get`](axum::routing::get) for handlers that cannot be left open by accident.
pub fn get<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::get(handler)
}

/// Routes `POST` requests to a guarded or public handler.
pub fn post<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::post(handler)
}

/// Routes `PUT` requests to a guarded or public handler.
pub fn put<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::put(handler)
}

/// Routes `PATCH` requests to a guarded or public handler.
pub fn patch<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::patch(handler)
}

/// Routes `DELETE` requests to a guarded or public handler.
pub fn delete<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::delete(handler)
}

/// Routes `HEAD` requests to a guarded or public handler.
pub fn head<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::head(handler)
}

/// Routes `OPTIONS` requests to a guarded or public handler.
pub fn options<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::options(handler)
}

/// Routes `TRACE` requests to a guarded or public handler.
pub fn trace<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::trace(handler)
}

/// Routes requests of every method to a guarded or public handler.
pub fn any<H, T, S>(handler: H) -> MethodRouter<S, Infallible>
where
    H: Handler<T, S> + GuardedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    routing::any(handler)
}

/// `router` with `predicate` in front of every one of its routes (a [`RequireLayer`] added with
/// `route_layer`): the way to route handlers that carry no guard of their own, for a router
/// whose routes all share one rule. Unknown paths still answer 404.
///
/// ```
/// use authz_runtime::routing::protected;
/// use authz_runtime::testing::TestAuthenticator;
/// use authz_runtime::{AuthzLayer, MemoryStore, predicate};
/// use axum::Router;
///
/// async fn metrics() -> &'static str {
///     "requests 42"
/// }
///
/// # #[allow(clippy::disallowed_methods)]
/// let ops: Router = protected(
///     predicate!(in_group("ops")),
///     Router::new().route("/metrics", axum::routing::get(metrics)),
/// );
/// let app: Router = Router::new()
///     .nest("/ops", ops)
///     .layer(AuthzLayer::new(TestAuthenticator::default(), MemoryStore::default()));
/// ```
pub fn protected<P, S>(predicate: P, router: Router<S>) -> Router<S>
where
    P: Predicate + 'static,
    S: Clone + Send + Sync + 'static,
{
    router.route_layer(RequireLayer::new(predicate))
}
