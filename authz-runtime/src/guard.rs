//! The guard of a handler: decides its rule before any other extractor runs, and answers a
//! denial or a failure with a response.
//!
//! A rule of built-ins is decided while the guard is created when the authenticator and the
//! store answer at once, so that the guard's future is ready before it is polled and nothing
//! is awaited; otherwise its evaluation is boxed and awaited. A rule that calls custom
//! predicates is awaited as they are.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::Response;

use crate::compiled::Compiled;
use crate::credentials::{Cells, Credentials, RequestCredentials};
use crate::evaluator::{self, Customs, Facts, Need, NoCustoms};
use crate::future::BoxFuture;
use crate::rule::Rule;
use crate::{Context, Predicate, Refused, Verdict, denial};

/// A guard of the program: the handler, which attribute put it there, and its rule. Listed by
/// [`guarded_handlers`](crate::guarded_handlers).
#[derive(Debug, Clone, Copy)]
pub struct GuardSite {
    /// The handler's path, e.g. `blog::remove_post`.
    pub handler: &'static str,
    /// `require` or `allow_only`.
    pub attribute: &'static str,
    /// The rule: its tree and its text.
    pub rule: &'static Rule,
    /// The attribute's `msg`, as written, if it has one.
    pub message: Option<&'static str>,
    /// Where the guard runs among the handler's guards, from 0.
    pub position: u32,
    /// The source file of the attribute.
    pub file: &'static str,
    /// The line of the handler's name.
    pub line: u32,
}

impl GuardSite {
    /// For the macros: the fields in order, so that an expansion spells no field names.
    #[doc(hidden)]
    pub const fn __new(
        handler: &'static str,
        attribute: &'static str,
        rule: &'static Rule,
        message: Option<&'static str>,
        position: u32,
        file: &'static str,
        line: u32,
    ) -> Self {
        Self {
            handler,
            attribute,
            rule,
            message,
            position,
            file,
            line,
        }
    }

    fn origin(&self) -> Origin<'static> {
        Origin {
            handler: self.handler,
            rule_text: self.rule.text(),
            rule: Some(self.rule),
        }
    }
}

/// What refused a request, for the denial's log and response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    /// The handler's path, or a router layer's name.
    pub(crate) handler: &'a str,
    /// The rule as written.
    pub(crate) rule_text: &'a str,
    /// The rule, when the macros compiled it.
    pub(crate) rule: Option<&'static Rule>,
}

impl<'a> Origin<'a> {
    /// A router layer's origin: its name and its predicate's text.
    pub(crate) fn layer(handler: &'a str, rule_text: &'a str) -> Self {
        Self {
            handler,
            rule_text,
            rule: None,
        }
    }
}

/// What names a handler's site to its [`Guard`]: a unit struct per guarded handler, the only
/// type the macros define for a rule of built-ins.
#[doc(hidden)]
pub trait Site: 'static {
    /// The handler, the attribute and the rule.
    const SITE: &'static GuardSite;
}

/// The guard of a rule of built-ins, the handler argument that `#[require]` and
/// `#[allow_only]` insert. Generic over the site, so that its extractor is written once, here:
/// a guarded handler costs its crate no trait impl to check, only what is generic below.
#[doc(hidden)]
pub struct Guard<S>(PhantomData<fn() -> S>);

impl<M: Site, S: Send + Sync> FromRequestParts<S> for Guard<M> {
    type Rejection = Refused;

    #[allow(refining_impl_trait)]
    fn from_request_parts<'a>(parts: &'a mut Parts, _: &S) -> GuardFuture<'a, Self> {
        GuardFuture {
            state: State::start(parts, M::SITE),
            guard: PhantomData,
        }
    }
}

/// [`Guard`] as the last argument of a handler that takes nothing but its guards: axum hands
/// the last argument the request whole, through `FromRequest`, and wraps a parts extractor
/// there in an async state machine of its own for each guard type. This guard takes the
/// request itself instead, so that such a handler has one extractor per guard and no more.
#[doc(hidden)]
pub struct LastGuard<S>(PhantomData<fn() -> S>);

impl<M: Site, S: Send + Sync> FromRequest<S> for LastGuard<M> {
    type Rejection = Refused;

    #[allow(refining_impl_trait)]
    fn from_request(request: Request, _: &S) -> GuardFuture<'static, Self> {
        GuardFuture {
            state: State::start_whole(request, M::SITE),
            guard: PhantomData,
        }
    }
}

/// The last argument of a handler whose last guard calls custom predicates and takes nothing
/// else, which the macros add: such a guard is a parts extractor, which axum would wrap as
/// [`LastGuard`] explains. `End` takes the request whole and extracts nothing, and is one type
/// for every handler.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct End;

impl<S: Send + Sync> FromRequest<S> for End {
    type Rejection = Infallible;

    #[allow(refining_impl_trait)]
    fn from_request(_: Request, _: &S) -> Ready<Result<Self, Infallible>> {
        ready(Ok(End))
    }
}

/// What a guard's future yields when the rule lets the request through.
#[doc(hidden)]
pub trait Passed {
    const PASSED: Self;
}

impl<M> Passed for Guard<M> {
    const PASSED: Self = Guard(PhantomData);
}

impl<M> Passed for LastGuard<M> {
    const PASSED: Self = LastGuard(PhantomData);
}

/// The future of a guard of built-ins: named once here, so that no guard has an async state
/// machine of its own. The decision is the runtime's, compiled once; what is generic over the
/// guard (its `poll` and its drop) is a few lines, as debug builds generate a function of each
/// per guarded handler.
#[doc(hidden)]
#[must_use = "futures do nothing unless polled"]
pub struct GuardFuture<'a, G> {
    state: State<'a>,
    guard: PhantomData<fn() -> G>,
}

enum State<'a> {
    /// Decided when the guard was created.
    Decided(Option<Result<(), Refused>>),
    /// Waiting for the authenticator or the store.
    Waiting(BoxFuture<'a, Result<(), Refused>>),
}

impl<'a> State<'a> {
    /// Decides `site`'s rule at once if it can, else starts waiting.
    fn start(parts: &'a mut Parts, site: &'static GuardSite) -> Self {
        let decided = match RequestCredentials::of(parts) {
            Ok(credentials) => decide_now(parts, credentials, site),
            Err(error) => Some(Err(denial::unavailable(parts, &error, site.handler))),
        };
        match decided {
            Some(decided) => State::Decided(Some(decided.map_err(Refused::new))),
            None => State::Waiting(Box::pin(async move {
                check_rule(parts, &(), site, NoCustoms)
                    .await
                    .map_err(Refused::new)
            })),
        }
    }

    fn poll(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Refused>> {
        match self {
            State::Decided(decided) => Poll::Ready(
                decided
                    .take()
                    .expect("a guard's future is polled after it completed"),
            ),
            State::Waiting(future) => future.as_mut().poll(cx),
        }
    }
}

impl State<'static> {
    /// [`State::start`] for the last guard, which owns the request: the handler takes nothing
    /// after it, so the body goes unread, and the parts go with the evaluation when it waits.
    fn start_whole(request: Request, site: &'static GuardSite) -> Self {
        let (mut parts, _body) = request.into_parts();
        // Nothing after the last guard reads the request's credentials: it decides on a copy
        // of its own, which it fills without a synchronised write and drops when done.
        let credentials = match RequestCredentials::of(&parts) {
            Ok(credentials) => credentials,
            Err(error) => {
                return State::Decided(Some(Err(Refused::new(denial::unavailable(
                    &parts,
                    &error,
                    site.handler,
                )))));
            }
        };
        let own = credentials.alone();
        if let Some(decided) = decide_now(&parts, &own, site) {
            return State::Decided(Some(decided.map_err(Refused::new)));
        }
        // It must wait after all: what it learned so far is the request's, not to be asked
        // again.
        credentials.adopt(own);
        State::Waiting(Box::pin(async move {
            check_rule(&mut parts, &(), site, NoCustoms)
                .await
                .map_err(Refused::new)
        }))
    }
}

impl<G: Passed> Future for GuardFuture<'_, G> {
    type Output = Result<G, Refused>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        match self.get_mut().state.poll(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(G::PASSED)),
            Poll::Ready(Err(refused)) => Poll::Ready(Err(refused)),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The guard of a rule that calls custom predicates, whose values are `customs`; `state` is
/// what they read of the app's state (`()` for a rule without `state = …`).
pub async fn guard_with<C, S, T>(
    parts: &mut Parts,
    state: &S,
    site: &'static GuardSite,
    customs: C,
    guard: fn(()) -> T,
) -> Result<T, Response>
where
    C: Customs<S>,
    S: Sync,
{
    check_rule(parts, state, site, customs).await?;
    Ok(guard(()))
}

/// `site`'s rule decided on the request, waiting for what must be waited for.
async fn check_rule<C: Customs<S>, S: Sync>(
    parts: &mut Parts,
    state: &S,
    site: &'static GuardSite,
    customs: C,
) -> Result<(), Response> {
    check(
        parts,
        state,
        &Compiled::__new(site.rule, customs),
        site.origin(),
    )
    .await
}

/// `site`'s rule decided on `credentials` without waiting, or `None` when that would wait.
fn decide_now<C: Cells>(
    parts: &Parts,
    credentials: &Credentials<C>,
    site: &'static GuardSite,
) -> Option<Result<(), Response>> {
    let facts = Facts::new(parts, credentials, &[]);
    match evaluator::decide(site.rule, &facts) {
        Ok(true) => Some(Ok(())),
        Ok(false) => {
            let denial = evaluator::explain(site.rule.root(), &facts);
            Some(match credentials.user_now(parts)? {
                Ok(user) => Err(denial::deny(
                    parts,
                    user,
                    &denial,
                    &site.origin(),
                    credentials.denials(),
                )),
                Err(error) => Err(denial::unavailable(parts, &error, site.handler)),
            })
        }
        Err(Need::Failed) => Some(Err(denial::unavailable(
            parts,
            &facts.failure(),
            site.handler,
        ))),
        Err(_) => None,
    }
}

/// Decides one request: `Ok(())` lets it through; otherwise the response to send instead.
/// Errors, including a missing [`AuthzLayer`](crate::AuthzLayer), refuse the request.
pub(crate) async fn check<P, S>(
    parts: &mut Parts,
    state: &S,
    predicate: &P,
    origin: Origin<'_>,
) -> Result<(), Response>
where
    P: Predicate<S> + ?Sized,
{
    let credentials = match RequestCredentials::of(parts) {
        Ok(credentials) => credentials.clone(),
        Err(error) => return Err(denial::unavailable(parts, &error, origin.handler)),
    };
    let verdict = predicate
        .evaluate(&mut Context::new(parts, &credentials, state))
        .await;
    let outcome = match verdict {
        Ok(Verdict::Met) => Ok(()),
        // A custom predicate may have decided without asking who the user is; 401 or 403
        // needs it.
        Ok(Verdict::Unmet(denial)) => match credentials.user(parts).await {
            Ok(user) => Err(denial::deny(
                parts,
                user,
                &denial,
                &origin,
                credentials.denials(),
            )),
            Err(error) => Err(denial::unavailable(parts, &error, origin.handler)),
        },
        Err(error) => Err(denial::unavailable(parts, &error, origin.handler)),
    };
    // The predicates had the request to themselves, with a copy of its credentials: what they
    // learned is the request's now, for the extractors that come after.
    if let Some(slot) = parts.extensions.get_mut::<RequestCredentials>() {
        *slot = credentials;
    }
    outcome
}
