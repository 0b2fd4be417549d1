//! What the macros' expansions call. Not a public API: names and signatures change freely.

pub use axum::extract::FromRequestParts;
pub use axum::http::request::Parts;
pub use axum::response::Response;
pub use inventory;

pub use crate::context::ContextNow;
pub use crate::grants::Named;
pub use crate::guard::GuardSite;
pub use crate::predicate::Reads;
pub use crate::{Context, Denial, Error, Predicate, Verdict};

/// A piece of an `any` message: text, or the messages of the unmet children.
#[derive(Debug, Clone, Copy)]
pub enum MessagePiece {
    /// Literal text.
    Text(&'static str),
    /// `{failed_predicates}`.
    FailedPredicates,
}

/// The guard of a handler: decided at once when the predicate and the credentials allow,
/// else by the full evaluation.
pub async fn guard<P: Predicate>(
    parts: &mut Parts,
    predicate: &P,
    site: &GuardSite<'static>,
) -> Result<(), Response> {
    if let Some(decided) = crate::guard::check_now(parts, predicate, site) {
        return decided;
    }
    crate::guard::check(parts, predicate, site).await
}

/// What `Predicate::met_now` sees of the request `ctx` decides.
#[inline(always)]
pub fn now<'c>(ctx: &'c Context<'_>) -> ContextNow<'c> {
    ctx.now()
}

/// The user, when the authenticator was asked already: what a tree of built-ins reads once.
#[inline(always)]
pub fn user_now<'c>(ctx: &'c ContextNow<'_>) -> Option<Option<&'c str>> {
    ctx.user_now()
}

/// The grants, when they were loaded already: what a tree of built-ins reads once.
#[inline(always)]
pub fn grants_now<'c>(ctx: &'c ContextNow<'_>) -> Option<&'c crate::Grants> {
    ctx.grants_now()
}

/// `in_group(name)` on grants at hand, the name written in the rule.
#[inline(always)]
pub fn in_group_named<const N: usize>(grants: &crate::Grants, group: &Named<N>) -> bool {
    grants.in_group_named(group)
}

/// `has_permission(name)` on grants at hand, the name written in the rule.
#[inline(always)]
pub fn has_permission_named<const N: usize>(grants: &crate::Grants, permission: &Named<N>) -> bool {
    grants.has_permission_named(permission)
}

/// Why a rule of built-ins could not be decided without waiting.
#[derive(Debug)]
pub enum Stop {
    /// The authenticator or the store would have to wait: the full evaluation decides.
    Wait,
    /// The authenticator or the store failed: the request is refused.
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(error: Error) -> Self {
        Stop::Failed(error)
    }
}

/// The user, for `Predicate::met_now` of a rule of built-ins.
#[inline(always)]
pub fn user_sync<'c>(ctx: &'c ContextNow<'_>) -> Result<Option<&'c str>, Stop> {
    Ok(ctx.user_sync().ok_or(Stop::Wait)??)
}

/// The grants, for `Predicate::met_now` of a rule of built-ins.
#[inline(always)]
pub fn grants_sync<'c>(ctx: &'c ContextNow<'_>) -> Result<&'c crate::Grants, Stop> {
    Ok(ctx.grants_sync().ok_or(Stop::Wait)??)
}

/// What `Predicate::met_now` answers for a decision that may have stopped.
#[inline(always)]
pub fn met_now(decided: Result<bool, Stop>) -> Option<Result<bool, Error>> {
    match decided {
        Ok(met) => Some(Ok(met)),
        Err(Stop::Wait) => None,
        Err(Stop::Failed(error)) => Some(Err(error)),
    }
}

// Each built-in has a synchronous fast path, taken once the credentials are loaded (every
// check after the first of a request), and an async one that loads them.

/// `not_anonymous()`, when the user is known.
#[inline(always)]
pub fn is_authenticated_now(ctx: &Context<'_>) -> Option<bool> {
    ctx.now().user_now().map(|user| user.is_some())
}

/// `not_anonymous()`.
pub async fn is_authenticated(ctx: &Context<'_>) -> Result<bool, Error> {
    Ok(ctx.user().await?.is_some())
}

/// `is_user(name)`, when the user is known.
#[inline(always)]
pub fn is_user_now(ctx: &Context<'_>, name: &str) -> Option<bool> {
    ctx.now().user_now().map(|user| user == Some(name))
}

/// `is_user(name)`.
pub async fn is_user(ctx: &Context<'_>, name: &str) -> Result<bool, Error> {
    Ok(ctx.user().await? == Some(name))
}

/// `in_group(name)`, when the grants are loaded.
#[inline(always)]
pub fn in_group_now(ctx: &Context<'_>, name: &str) -> Option<bool> {
    ctx.now().grants_now().map(|grants| grants.in_group(name))
}

/// `in_group(name)`.
pub async fn in_group(ctx: &Context<'_>, name: &str) -> Result<bool, Error> {
    Ok(ctx.grants().await?.in_group(name))
}

/// `has_permission(name)`, when the grants are loaded.
#[inline(always)]
pub fn has_permission_now(ctx: &Context<'_>, name: &str) -> Option<bool> {
    ctx.now()
        .grants_now()
        .map(|grants| grants.has_permission(name))
}

/// `has_permission(name)`.
pub async fn has_permission(ctx: &Context<'_>, name: &str) -> Result<bool, Error> {
    Ok(ctx.grants().await?.has_permission(name))
}

/// An unmet built-in, its message and text known while compiling.
#[cold]
pub fn unmet(message: &'static str, decided_by: &'static str) -> Verdict {
    Verdict::Unmet(Denial::fixed(message, decided_by))
}

/// An unmet `any`: its message names the failed children's messages, joined with `", "`.
#[cold]
pub fn unmet_any(pieces: &[MessagePiece], failed: &[Denial], decided_by: &'static str) -> Verdict {
    let failed_len: usize = failed.iter().map(|denial| denial.message().len() + 2).sum();
    let length: usize = pieces
        .iter()
        .map(|piece| match piece {
            MessagePiece::Text(text) => text.len(),
            MessagePiece::FailedPredicates => failed_len,
        })
        .sum();
    // Sized once: the message is the denial's only allocation.
    let mut message = String::with_capacity(length);
    for piece in pieces {
        match piece {
            MessagePiece::Text(text) => message.push_str(text),
            MessagePiece::FailedPredicates => {
                for (index, denial) in failed.iter().enumerate() {
                    if index > 0 {
                        message.push_str(", ");
                    }
                    message.push_str(denial.message());
                }
            }
        }
    }
    Verdict::Unmet(Denial::new(message).with_decided_by(decided_by))
}

/// A custom predicate's denial, credited to its call as written.
#[cold]
pub fn decided(denial: Denial, text: &'static str) -> Denial {
    denial.with_decided_by(text)
}

/// A denial restated with the `msg` of an enclosing predicate.
#[cold]
pub fn restate(denial: Denial, message: &'static str) -> Denial {
    denial.with_message(message)
}
